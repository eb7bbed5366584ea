//! Constants and operators with no computation: values the lowering knows at compile time
//! (shapes, sizes, constants, folded ranges) and pass-throughs.

use verity_engine::{ir::Op, DType, Tensor};

use super::{non_negative, one, Outs, Registry};
use crate::{
	error::CompileError,
	lower::{NodeCtx, Value},
	proto::{dtype_from_onnx, onnx_dtype_name, tensor_from_proto},
};

pub(super) fn register(r: &mut Registry) {
	r.insert("Identity", |_, ctx, ins| one(ctx.req(ins, 0)?.clone()));
	r.insert("Dropout", |_, ctx, ins| dropout(ctx, ins));
	r.insert("Constant", |_, ctx, _| one(Value::anon(constant(ctx)?)));
	r.insert("Shape", |_, ctx, ins| shape(ctx, ins));
	r.insert("Size", |_, ctx, ins| {
		let n: usize = ctx.req(ins, 0)?.shape().iter().product();
		one(Value::anon(Tensor::scalar_i64(n as i64)))
	});
	r.insert("Range", |_, ctx, ins| range(ctx, ins));
	r.insert("ConstantOfShape", |b, ctx, ins| {
		let shape = non_negative(ctx, "shape", &ctx.req_ints(ins, 0)?)?;
		let value = match ctx.attr(ctx.attrs.tensor("value"))? {
			Some(t) => tensor_from_proto(t)?,
			None => Tensor::scalar_f32(0.0),
		};
		if value.len() != 1 {
			return Err(ctx.invalid("value must have exactly one element"));
		}
		one(b.apply(ctx, Op::ConstantOfShape { value, shape }, &[])?)
	});
	r.insert("EyeLike", |_, ctx, ins| eye_like(ctx, ins));
}

fn dropout(ctx: &NodeCtx, ins: &[Option<Value>]) -> Outs {
	let x = ctx.req(ins, 0)?;
	ctx.attrs.ignore(&["seed", "is_test"]);
	let (ratio, training) = if ctx.opset >= 12 {
		let ratio = match ctx.opt_floats(ins, 1)? {
			Some(r) => *r.first().ok_or_else(|| ctx.invalid("ratio is empty"))?,
			None => 0.5,
		};
		let training = match ctx.opt_const(ins, 2)? {
			Some(t) => t
				.as_bool()
				.ok()
				.and_then(|v| v.first().copied())
				.unwrap_or(false),
			None => false,
		};
		(ratio, training)
	} else {
		(ctx.attr(ctx.attrs.float_or("ratio", 0.5))?, false)
	};
	if training && ratio != 0.0 {
		return Err(ctx.unsupported("training-mode Dropout (random) with a non-zero ratio"));
	}
	let mask = if ctx.output_live(1) {
		let shape = x.shape();
		let n = shape.iter().product();
		let t = Tensor::from_bool(&shape, vec![true; n]).map_err(|e| ctx.invalid(e.to_string()))?;
		Some(Value::anon(t))
	} else {
		None
	};
	Ok(vec![Some(x.clone()), mask])
}

fn constant(ctx: &NodeCtx) -> Result<Tensor, CompileError> {
	let a = &ctx.attrs;
	if let Some(t) = ctx.attr(a.tensor("value"))? {
		return tensor_from_proto(t);
	}
	if let Some(v) = ctx.attr(a.float("value_float"))? {
		return Ok(Tensor::scalar_f32(v));
	}
	if let Some(v) = ctx.attr(a.floats("value_floats"))? {
		return Tensor::from_f32(&[v.len()], v).map_err(|e| ctx.invalid(e.to_string()));
	}
	if let Some(v) = ctx.attr(a.int("value_int"))? {
		return Ok(Tensor::scalar_i64(v));
	}
	if let Some(v) = ctx.attr(a.ints("value_ints"))? {
		return Tensor::from_i64(&[v.len()], v).map_err(|e| ctx.invalid(e.to_string()));
	}
	for unsupported in ["sparse_value", "value_string", "value_strings"] {
		if a.has(unsupported) {
			return Err(ctx.unsupported(format!("attribute {unsupported}")));
		}
	}
	Err(ctx.invalid("no value attribute"))
}

fn shape(ctx: &NodeCtx, ins: &[Option<Value>]) -> Outs {
	let s = ctx.req(ins, 0)?.shape();
	let r = s.len() as i64;
	let clamp = |v: i64| (if v < 0 { v + r } else { v }).clamp(0, r) as usize;
	let start = clamp(ctx.attr(ctx.attrs.int_or("start", 0))?);
	let end = clamp(ctx.attr(ctx.attrs.int_or("end", r))?);
	let dims: Vec<i64> = s
		.get(start..end.max(start))
		.unwrap_or(&[])
		.iter()
		.map(|&d| d as i64)
		.collect();
	one(Value::anon(
		Tensor::from_i64(&[dims.len()], dims).map_err(|e| ctx.invalid(e.to_string()))?,
	))
}

fn range(ctx: &NodeCtx, ins: &[Option<Value>]) -> Outs {
	let (start, limit, delta) = (
		ctx.req_const(ins, 0)?,
		ctx.req_const(ins, 1)?,
		ctx.req_const(ins, 2)?,
	);
	let bad = || ctx.invalid("start, limit and delta must be scalars of one numeric type");
	if start.len() != 1 || limit.len() != 1 || delta.len() != 1 {
		return Err(bad());
	}
	let t = match start.dtype() {
		DType::F32 => {
			let f = |t: &Tensor| t.as_f32().map(|v| v[0]).map_err(|_| bad());
			let (s, l, d) = (f(start)?, f(limit)?, f(delta)?);
			let n = ((l as f64 - s as f64) / d as f64).ceil().max(0.0);
			if n.is_nan() || n > (1u64 << 28) as f64 {
				return Err(ctx.invalid("range too large"));
			}
			let v: Vec<f32> = (0..n as usize).map(|i| s + i as f32 * d).collect();
			Tensor::from_f32(&[v.len()], v)
		}
		DType::I64 | DType::I32 => {
			let f = |t: &Tensor| {
				crate::lower::ints_of(t)
					.filter(|_| t.dtype() == start.dtype())
					.map(|v| v[0])
					.ok_or_else(bad)
			};
			let (s, l, d) = (f(start)? as i128, f(limit)? as i128, f(delta)? as i128);
			if d == 0 {
				return Err(ctx.invalid("delta is zero"));
			}
			let n = ((l - s) + d - d.signum()) / d;
			let n = n.max(0);
			if n > 1 << 28 {
				return Err(ctx.invalid("range too large"));
			}
			let v: Vec<i64> = (0..n).map(|i| (s + i * d) as i64).collect();
			if start.dtype() == DType::I64 {
				Tensor::from_i64(&[v.len()], v)
			} else {
				Tensor::from_i32(&[v.len()], v.into_iter().map(|x| x as i32).collect())
			}
		}
		_ => return Err(bad()),
	};
	one(Value::anon(t.map_err(|e| ctx.invalid(e.to_string()))?))
}

/// `EyeLike`: a constant (the input contributes only its shape).
fn eye_like(ctx: &NodeCtx, ins: &[Option<Value>]) -> Outs {
	let x = ctx.req(ins, 0)?;
	let shape = x.shape();
	if shape.len() != 2 {
		return Err(ctx.invalid("input must be 2-D"));
	}
	let dtype = match ctx.attr(ctx.attrs.int("dtype"))? {
		None => x.dtype(),
		Some(code) => {
			dtype_from_onnx(code as i32).ok_or_else(|| CompileError::UnsupportedDType {
				name: ctx.node.output.first().cloned().unwrap_or_default(),
				dtype: onnx_dtype_name(code as i32),
			})?
		}
	};
	let k = ctx.attr(ctx.attrs.int_or("k", 0))?;
	let (n, m) = (shape[0], shape[1]);
	let ones: Vec<bool> = (0..n as i64)
		.flat_map(|i| (0..m as i64).map(move |j| j - i == k))
		.collect();
	let mask = Tensor::from_bool(&[n, m], ones).map_err(|e| ctx.invalid(e.to_string()))?;
	let t = verity_engine::ops::shape::cast(mask.data(), dtype);
	one(Value::anon(
		Tensor::new(vec![n, m], t).map_err(|e| ctx.invalid(e.to_string()))?,
	))
}
