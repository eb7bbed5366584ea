//! Matrix products: `MatMul`, `Gemm` and their integer and quantised forms.

use verity_engine::ir::Op;

use super::{simple, Registry};

pub(super) fn register(r: &mut Registry) {
	r.insert_simple("MatMul", Op::MatMul);
	r.insert("Gemm", |b, ctx, ins| {
		ctx.attrs.ignore(&["broadcast"]);
		let op = Op::Gemm {
			alpha: ctx.attr(ctx.attrs.float_or("alpha", 1.0))?.into(),
			beta: ctx.attr(ctx.attrs.float_or("beta", 1.0))?.into(),
			trans_a: ctx.attr(ctx.attrs.int_or("transA", 0))? != 0,
			trans_b: ctx.attr(ctx.attrs.int_or("transB", 0))? != 0,
		};
		simple(b, ctx, ins, op)
	});
	r.insert_simple("QLinearMatMul", Op::QLinearMatMul);
	r.insert_simple("MatMulInteger", Op::MatMulInteger);
}
