//! Reductions over axes and arg-extrema.

use verity_engine::{
	ir::{Op, ReduceKind},
	DType,
};

use super::{norm_axes, norm_axis, one, Outs, Registry};
use crate::lower::{Builder, NodeCtx, Value};

pub(super) fn register(r: &mut Registry) {
	for (op_type, kind) in [
		("ReduceSum", ReduceKind::Sum),
		("ReduceMean", ReduceKind::Mean),
		("ReduceMax", ReduceKind::Max),
		("ReduceMin", ReduceKind::Min),
		("ReduceProd", ReduceKind::Prod),
		("ReduceSumSquare", ReduceKind::SumSquare),
		("ReduceL1", ReduceKind::L1),
		("ReduceL2", ReduceKind::L2),
		("ReduceLogSum", ReduceKind::LogSum),
		("ReduceLogSumExp", ReduceKind::LogSumExp),
	] {
		r.insert(op_type, move |b, ctx, ins| reduce(b, ctx, ins, kind));
	}
	r.insert("ArgMax", |b, ctx, ins| arg_extremum(b, ctx, ins, true));
	r.insert("ArgMin", |b, ctx, ins| arg_extremum(b, ctx, ins, false));
}

fn reduce(b: &mut Builder, ctx: &NodeCtx, ins: &[Option<Value>], kind: ReduceKind) -> Outs {
	let x = ctx.req(ins, 0)?;
	// Axes moved from an attribute to an input in opset 13 (ReduceSum) and 18 (the others).
	let axes_input = ctx.opset >= if kind == ReduceKind::Sum { 13 } else { 18 };
	let (axes, noop) = if axes_input {
		let noop = ctx.attr(ctx.attrs.int_or("noop_with_empty_axes", 0))? != 0;
		(ctx.opt_ints(ins, 1)?, noop)
	} else {
		(ctx.attr(ctx.attrs.ints("axes"))?, false)
	};
	let keepdims = ctx.attr(ctx.attrs.int_or("keepdims", 1))? != 0;
	let axes = match axes {
		Some(a) if !a.is_empty() => norm_axes(ctx, &a, x.rank())?,
		_ if noop => Vec::new(),
		_ => (0..x.rank() as u32).collect(),
	};
	let identity_noop = matches!(
		kind,
		ReduceKind::Sum | ReduceKind::Mean | ReduceKind::Max | ReduceKind::Min | ReduceKind::Prod
	);
	if axes.is_empty() && x.rank() > 0 && !identity_noop {
		// The engine's empty-axes reduction is the identity; ONNX's "no-op" for these kinds
		// still applies the elementwise part (square, abs, log, …).
		return Err(ctx.unsupported("noop_with_empty_axes with empty axes"));
	}
	let op = Op::Reduce {
		kind,
		axes,
		keepdims,
	};
	if x.dtype() == DType::Bool && matches!(kind, ReduceKind::Max | ReduceKind::Min) {
		// Max / min of booleans (opset 20) is any / all: the same on 0/1 bytes.
		let u = b.apply(ctx, Op::Cast { to: DType::U8 }, &[Some(x)])?;
		let r = b.apply(ctx, op, &[Some(&u)])?;
		return one(b.apply(ctx, Op::Cast { to: DType::Bool }, &[Some(&r)])?);
	}
	one(b.apply(ctx, op, &[Some(x)])?)
}

fn arg_extremum(b: &mut Builder, ctx: &NodeCtx, ins: &[Option<Value>], max: bool) -> Outs {
	let x = ctx.req(ins, 0)?;
	let axis = norm_axis(ctx, ctx.attr(ctx.attrs.int_or("axis", 0))?, x.rank())?;
	let keepdims = ctx.attr(ctx.attrs.int_or("keepdims", 1))? != 0;
	let select_last_index = ctx.attr(ctx.attrs.int_or("select_last_index", 0))? != 0;
	one(b.apply(
		ctx,
		Op::ArgExtremum {
			max,
			axis,
			keepdims,
			select_last_index,
		},
		&[Some(x)],
	)?)
}
