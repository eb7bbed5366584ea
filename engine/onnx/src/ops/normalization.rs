//! Normalisations: batch, instance, layer, RMS, Lp and local response.

use verity_engine::{
	ir::{BinaryOp, Op, ReduceKind, UnaryOp},
	Tensor,
};

use super::{norm_axis, one, simple, Outs, Registry};
use crate::lower::{Builder, NodeCtx, Value};

pub(super) fn register(r: &mut Registry) {
	r.insert("BatchNormalization", |b, ctx, ins| batch_norm(b, ctx, ins));
	r.insert("LRN", |b, ctx, ins| {
		let size = ctx
			.attr(ctx.attrs.int("size"))?
			.ok_or_else(|| ctx.invalid("size is required"))?;
		let op = Op::Lrn {
			alpha: ctx.attr(ctx.attrs.float_or("alpha", 1e-4))?.into(),
			beta: ctx.attr(ctx.attrs.float_or("beta", 0.75))?.into(),
			bias: ctx.attr(ctx.attrs.float_or("bias", 1.0))?.into(),
			size: u32::try_from(size).map_err(|_| ctx.invalid("size must be positive"))?,
		};
		simple(b, ctx, ins, op)
	});
	r.insert("LayerNormalization", |b, ctx, ins| layer_norm(b, ctx, ins));
	r.insert("InstanceNormalization", |b, ctx, ins| {
		let epsilon = ctx.attr(ctx.attrs.float_or("epsilon", 1e-5))?.into();
		simple(b, ctx, ins, Op::InstanceNormalization { epsilon })
	});
	r.insert("LpNormalization", |b, ctx, ins| {
		let x = ctx.req(ins, 0)?;
		let axis = norm_axis(ctx, ctx.attr(ctx.attrs.int_or("axis", -1))?, x.rank())?;
		let kind = match ctx.attr(ctx.attrs.int_or("p", 2))? {
			1 => ReduceKind::L1,
			2 => ReduceKind::L2,
			p => return Err(ctx.invalid(format!("p must be 1 or 2, got {p}"))),
		};
		let norm = b.apply(
			ctx,
			Op::Reduce {
				kind,
				axes: vec![axis],
				keepdims: true,
			},
			&[Some(x)],
		)?;
		one(b.apply(ctx, Op::Binary(BinaryOp::Div), &[Some(x), Some(&norm)])?)
	});
	r.insert("RMSNormalization", |b, ctx, ins| rms_norm(b, ctx, ins));
}

fn batch_norm(b: &mut Builder, ctx: &NodeCtx, ins: &[Option<Value>]) -> Outs {
	let epsilon = ctx.attr(ctx.attrs.float_or("epsilon", 1e-5))?.into();
	// Inference only: momentum feeds the running statistics of training; is_test (opset < 7)
	// selects inference, which is what is lowered regardless.
	ctx.attrs.ignore(&["momentum", "is_test"]);
	if ctx.attr(ctx.attrs.int_or("spatial", 1))? == 0 {
		return Err(ctx.unsupported("spatial = 0"));
	}
	if ctx.attr(ctx.attrs.int_or("training_mode", 0))? != 0 {
		return Err(ctx.unsupported("training_mode = 1"));
	}
	let args: Vec<Option<&Value>> = ins.iter().take(5).map(|v| v.as_ref()).collect();
	one(b.apply(ctx, Op::BatchNormalization { epsilon }, &args)?)
}

fn layer_norm(b: &mut Builder, ctx: &NodeCtx, ins: &[Option<Value>]) -> Outs {
	let x = ctx.req(ins, 0)?;
	let axis = norm_axis(ctx, ctx.attr(ctx.attrs.int_or("axis", -1))?, x.rank())?;
	// stash_type selects the precision of the statistics; float32 is the only one the engine
	// has (and what the ONNX reference uses for float32 inputs).
	ctx.attrs.ignore(&["stash_type"]);
	let eps = ctx.attr(ctx.attrs.float_or("epsilon", 1e-5))?;
	let args: Vec<Option<&Value>> = ins.iter().take(3).map(|v| v.as_ref()).collect();
	let y = b.apply(
		ctx,
		Op::LayerNormalization {
			axis,
			epsilon: eps.into(),
		},
		&args,
	)?;
	if !ctx.output_live(1) && !ctx.output_live(2) {
		return one(y);
	}
	// The IR op has no Mean / InvStdDev outputs: compute them as the ONNX function body does.
	let axes: Vec<u32> = (axis..x.rank() as u32).collect();
	let mean_op = || Op::Reduce {
		kind: ReduceKind::Mean,
		axes: axes.clone(),
		keepdims: true,
	};
	let mean = b.apply(ctx, mean_op(), &[Some(x)])?;
	let inv_std = if ctx.output_live(2) {
		let d = b.apply(ctx, Op::Binary(BinaryOp::Sub), &[Some(x), Some(&mean)])?;
		let dd = b.apply(ctx, Op::Binary(BinaryOp::Mul), &[Some(&d), Some(&d)])?;
		let var = b.apply(ctx, mean_op(), &[Some(&dd)])?;
		let e = Value::anon(Tensor::scalar_f32(eps));
		let ve = b.apply(ctx, Op::Binary(BinaryOp::Add), &[Some(&var), Some(&e)])?;
		let sd = b.apply(ctx, Op::Unary(UnaryOp::Sqrt), &[Some(&ve)])?;
		Some(b.apply(ctx, Op::Unary(UnaryOp::Reciprocal), &[Some(&sd)])?)
	} else {
		None
	};
	Ok(vec![Some(y), Some(mean), inv_std])
}

/// `RMSNormalization` (opset 23) as its ONNX function body: `X / sqrt(mean(X²) + ε) · scale`
/// over axes `axis..`.
fn rms_norm(b: &mut Builder, ctx: &NodeCtx, ins: &[Option<Value>]) -> Outs {
	let x = ctx.req(ins, 0)?;
	let scale = ctx.req(ins, 1)?;
	let axis = norm_axis(ctx, ctx.attr(ctx.attrs.int_or("axis", -1))?, x.rank())?;
	let eps = ctx.attr(ctx.attrs.float_or("epsilon", 1e-5))?;
	match ctx.attr(ctx.attrs.int_or("stash_type", 1))? {
		1 => {}
		other => return Err(ctx.unsupported(format!("stash_type {other}"))),
	}
	let axes: Vec<u32> = (axis..x.rank() as u32).collect();
	let sq = b.apply(ctx, Op::Binary(BinaryOp::Mul), &[Some(x), Some(x)])?;
	let mean = b.apply(
		ctx,
		Op::Reduce {
			kind: ReduceKind::Mean,
			axes,
			keepdims: true,
		},
		&[Some(&sq)],
	)?;
	let e = Value::anon(Tensor::scalar_f32(eps));
	let me = b.apply(ctx, Op::Binary(BinaryOp::Add), &[Some(&mean), Some(&e)])?;
	let rms = b.apply(ctx, Op::Unary(UnaryOp::Sqrt), &[Some(&me)])?;
	let n = b.apply(ctx, Op::Binary(BinaryOp::Div), &[Some(x), Some(&rms)])?;
	one(b.apply(ctx, Op::Binary(BinaryOp::Mul), &[Some(&n), Some(scale)])?)
}
