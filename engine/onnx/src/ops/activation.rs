//! Activations, softmax and clipping.

use verity_engine::{
	ir::{BinaryOp, Op, UnaryOp},
	Tensor,
};

use super::{norm_axis, one, simple, Outs, Registry};
use crate::{
	error::CompileError,
	lower::{Builder, NodeCtx, Value},
};

pub(super) fn register(r: &mut Registry) {
	r.insert_simple("Relu", Op::Relu);
	r.insert("PRelu", |b, ctx, ins| prelu(b, ctx, ins));
	r.insert_simple("Sigmoid", Op::Sigmoid);
	r.insert_simple("Tanh", Op::Tanh);
	r.insert_simple("Softplus", Op::Softplus);
	r.insert_simple("HardSwish", Op::HardSwish);
	r.insert("LeakyRelu", |b, ctx, ins| {
		let alpha = ctx.attr(ctx.attrs.float_or("alpha", 0.01))?.into();
		simple(b, ctx, ins, Op::LeakyRelu { alpha })
	});
	r.insert("Elu", |b, ctx, ins| {
		let alpha = ctx.attr(ctx.attrs.float_or("alpha", 1.0))?.into();
		simple(b, ctx, ins, Op::Elu { alpha })
	});
	r.insert("Selu", |b, ctx, ins| {
		let op = Op::Selu {
			alpha: ctx.attr(ctx.attrs.float_or("alpha", 1.673_263_2))?.into(),
			gamma: ctx.attr(ctx.attrs.float_or("gamma", 1.050_701))?.into(),
		};
		simple(b, ctx, ins, op)
	});
	r.insert("HardSigmoid", |b, ctx, ins| {
		let op = Op::HardSigmoid {
			alpha: ctx.attr(ctx.attrs.float_or("alpha", 0.2))?.into(),
			beta: ctx.attr(ctx.attrs.float_or("beta", 0.5))?.into(),
		};
		simple(b, ctx, ins, op)
	});
	r.insert("Gelu", |b, ctx, ins| {
		let tanh_approx = match ctx
			.attr(ctx.attrs.string_or("approximate", "none"))?
			.as_str()
		{
			"none" => false,
			"tanh" => true,
			other => return Err(ctx.invalid(format!("unknown approximate {other:?}"))),
		};
		simple(b, ctx, ins, Op::Gelu { tanh_approx })
	});
	r.insert("Softmax", |b, ctx, ins| softmax(b, ctx, ins, false));
	r.insert("LogSoftmax", |b, ctx, ins| softmax(b, ctx, ins, true));
	r.insert("Clip", |b, ctx, ins| clip(b, ctx, ins));
	r.insert("Hardmax", |b, ctx, ins| hardmax(b, ctx, ins));
	r.insert("ThresholdedRelu", |b, ctx, ins| {
		let x = ctx.req(ins, 0)?;
		let alpha = Value::anon(Tensor::scalar_f32(
			ctx.attr(ctx.attrs.float_or("alpha", 1.0))?,
		));
		let zero = Value::anon(Tensor::scalar_f32(0.0));
		let c = b.apply(ctx, Op::Binary(BinaryOp::Greater), &[Some(x), Some(&alpha)])?;
		one(b.apply(ctx, Op::Where, &[Some(&c), Some(x), Some(&zero)])?)
	});
	r.insert("Softsign", |b, ctx, ins| {
		// x / (1 + |x|), the reference's order of operations.
		let x = ctx.req(ins, 0)?;
		let one_c = Value::anon(Tensor::scalar_f32(1.0));
		let a = b.apply(ctx, Op::Unary(UnaryOp::Abs), &[Some(x)])?;
		let d = b.apply(ctx, Op::Binary(BinaryOp::Add), &[Some(&one_c), Some(&a)])?;
		one(b.apply(ctx, Op::Binary(BinaryOp::Div), &[Some(x), Some(&d)])?)
	});
}

fn prelu(b: &mut Builder, ctx: &NodeCtx, ins: &[Option<Value>]) -> Outs {
	let x = ctx.req(ins, 0)?;
	let slope = ctx.req(ins, 1)?;
	let (xs, ss) = (x.shape(), slope.shape());
	if ctx.opset < 7 && xs.len() > 2 && ss.len() == 1 && ss[0] != 1 && ss[0] == xs[1] {
		// Before opset 7 a 1-D slope is per channel (axis 1), not numpy-broadcast.
		let mut shape = vec![ss[0] as u64];
		shape.extend(std::iter::repeat_n(1, xs.len() - 2));
		let s2 = b.apply(ctx, Op::Reshape { shape }, &[Some(slope)])?;
		return one(b.apply(ctx, Op::PRelu, &[Some(x), Some(&s2)])?);
	}
	one(b.apply(ctx, Op::PRelu, &[Some(x), Some(slope)])?)
}

fn softmax(b: &mut Builder, ctx: &NodeCtx, ins: &[Option<Value>], log: bool) -> Outs {
	let x = ctx.req(ins, 0)?;
	// Before opset 13 the input is coerced to 2-D at `axis` (default 1).
	let coerce_2d = ctx.opset < 13;
	let axis = ctx.attr(ctx.attrs.int_or("axis", if coerce_2d { 1 } else { -1 }))?;
	let axis = norm_axis(ctx, axis, x.rank())?;
	let op = if log {
		Op::LogSoftmax { axis, coerce_2d }
	} else {
		Op::Softmax { axis, coerce_2d }
	};
	one(b.apply(ctx, op, &[Some(x)])?)
}

fn clip(b: &mut Builder, ctx: &NodeCtx, ins: &[Option<Value>]) -> Outs {
	let x = ctx.req(ins, 0)?;
	if ctx.opset < 11 {
		// Bounds were float attributes.
		let lo = ctx
			.attr(ctx.attrs.float("min"))?
			.map(|v| Value::anon(Tensor::scalar_f32(v)));
		let hi = ctx
			.attr(ctx.attrs.float("max"))?
			.map(|v| Value::anon(Tensor::scalar_f32(v)));
		return one(b.apply(ctx, Op::Clip, &[Some(x), lo.as_ref(), hi.as_ref()])?);
	}
	one(b.apply(ctx, Op::Clip, &[Some(x), ctx.opt(ins, 1), ctx.opt(ins, 2)])?)
}

/// `Hardmax` as `Cast(Equal(ArgMax(X, keepdims), iota), X's type)`: one-hot of the first maximum
/// (exact). Before opset 13 the input is coerced to 2-D at `axis`.
fn hardmax(b: &mut Builder, ctx: &NodeCtx, ins: &[Option<Value>]) -> Outs {
	let x = ctx.req(ins, 0)?;
	let shape = x.shape();
	let legacy = ctx.opset < 13;
	let axis = ctx.attr(ctx.attrs.int_or("axis", if legacy { 1 } else { -1 }))?;
	if legacy {
		let r = shape.len() as i64;
		let a = if axis < 0 { axis + r } else { axis };
		if !(0..=r).contains(&a) {
			return Err(ctx.invalid(format!("axis {axis} is out of range")));
		}
		let flat = b.apply(ctx, Op::Flatten { axis: a as u32 }, &[Some(x)])?;
		let h = one_hot_max(b, ctx, &flat, 1)?;
		let back = shape.iter().map(|&d| d as u64).collect();
		return one(b.apply(ctx, Op::Reshape { shape: back }, &[Some(&h)])?);
	}
	let axis = norm_axis(ctx, axis, shape.len())?;
	one(one_hot_max(b, ctx, x, axis)?)
}

fn one_hot_max(
	b: &mut Builder,
	ctx: &NodeCtx,
	x: &Value,
	axis: u32,
) -> Result<Value, CompileError> {
	let shape = x.shape();
	let am = Op::ArgExtremum {
		max: true,
		axis,
		keepdims: true,
		select_last_index: false,
	};
	let idx = b.apply(ctx, am, &[Some(x)])?;
	let len = shape[axis as usize];
	let mut iota_shape = vec![1usize; shape.len()];
	iota_shape[axis as usize] = len;
	let iota = Tensor::from_i64(&iota_shape, (0..len as i64).collect())
		.map_err(|e| ctx.invalid(e.to_string()))?;
	let eq = b.apply(
		ctx,
		Op::Binary(BinaryOp::Equal),
		&[Some(&idx), Some(&Value::anon(iota))],
	)?;
	b.apply(ctx, Op::Cast { to: x.dtype() }, &[Some(&eq)])
}
