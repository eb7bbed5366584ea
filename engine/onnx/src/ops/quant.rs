//! Linear (de)quantisation.

use verity_engine::{
	ir::{BinaryOp, Op, ReduceKind, UnaryOp, VariadicOp},
	DType, Tensor,
};

use super::{apply, bin, cast_to, norm_axis, one, Outs, Registry};
use crate::{
	error::CompileError,
	lower::{Builder, NodeCtx, Value},
	proto::{dtype_from_onnx, onnx_dtype_name},
};

pub(super) fn register(r: &mut Registry) {
	r.insert("QuantizeLinear", |b, ctx, ins| {
		quant_linear(b, ctx, ins, true)
	});
	r.insert("DequantizeLinear", |b, ctx, ins| {
		quant_linear(b, ctx, ins, false)
	});
	r.insert("DynamicQuantizeLinear", dynamic_quantize_linear);
}

/// `DynamicQuantizeLinear` (opset 11; uint8), as onnxruntime computes it:
/// `lo = min(0, min(x))`, `hi = max(0, max(x))`, `scale = (hi − lo) / 255` (`1` when
/// `hi = lo`, where the ONNX reference would give `1/255`; every output element is `0` either
/// way), `zero_point = round_half_even(clip(0 − lo / scale, 0, 255))` as uint8, and
/// `y = saturate(round_half_even(x / scale) + zero_point)`. Lowered to existing IR ops (two
/// reductions, scalar arithmetic and `QuantizeLinear`), so each step is its own traced node.
fn dynamic_quantize_linear(b: &mut Builder, ctx: &NodeCtx, ins: &[Option<Value>]) -> Outs {
	let x = ctx.req(ins, 0)?;
	if x.dtype() != DType::F32 {
		return Err(ctx.invalid("the input must be float32"));
	}
	let f = |v: f32| Value::anon(Tensor::scalar_f32(v));
	let (zero, q_range) = (f(0.0), f(255.0));
	let all_axes: Vec<u32> = (0..x.rank() as u32).collect();
	let extreme = |b: &mut Builder, kind, bound| {
		let r = Op::Reduce {
			kind,
			axes: all_axes.clone(),
			keepdims: false,
		};
		let r = apply(b, ctx, r, &[x])?;
		apply(b, ctx, Op::Variadic(bound), &[&r, &zero])
	};
	let lo = extreme(b, ReduceKind::Min, VariadicOp::Min)?;
	let hi = extreme(b, ReduceKind::Max, VariadicOp::Max)?;
	let range = bin(b, ctx, BinaryOp::Sub, &hi, &lo)?;
	let empty = bin(b, ctx, BinaryOp::Equal, &range, &zero)?;
	let range = apply(b, ctx, Op::Where, &[&empty, &q_range, &range])?;
	let scale = bin(b, ctx, BinaryOp::Div, &range, &q_range)?;
	let zp = bin(b, ctx, BinaryOp::Div, &lo, &scale)?;
	let zp = bin(b, ctx, BinaryOp::Sub, &zero, &zp)?;
	let zp = apply(b, ctx, Op::Clip, &[&zp, &zero, &q_range])?;
	let zp = apply(b, ctx, Op::Unary(UnaryOp::Round), &[&zp])?;
	let zp = cast_to(b, ctx, &zp, DType::U8)?;
	let y = apply(b, ctx, Op::QuantizeLinear { axis: 0 }, &[x, &scale, &zp])?;
	Ok(vec![Some(y), Some(scale), Some(zp)])
}

fn quant_linear(b: &mut Builder, ctx: &NodeCtx, ins: &[Option<Value>], quantize: bool) -> Outs {
	let x = ctx.req(ins, 0)?;
	let scale = ctx.req(ins, 1)?;
	if ctx.attr(ctx.attrs.int_or("block_size", 0))? != 0 {
		return Err(ctx.unsupported("blocked quantization (block_size)"));
	}
	// `saturate` only affects float8 types, which the engine does not have.
	ctx.attrs.ignore(&["saturate"]);
	let per_axis = scale.rank() > 1 || scale.shape().iter().product::<usize>() != 1;
	let axis = ctx.attr(ctx.attrs.int_or("axis", 1))?;
	let axis = if per_axis {
		norm_axis(ctx, axis, x.rank())?
	} else {
		0
	};
	let out_dtype =
		match ctx.attr(ctx.attrs.int("output_dtype"))? {
			None | Some(0) => None,
			Some(code) => Some(dtype_from_onnx(code as i32).ok_or_else(|| {
				CompileError::UnsupportedDType {
					name: ctx.node.output.first().cloned().unwrap_or_default(),
					dtype: onnx_dtype_name(code as i32),
				}
			})?),
		};
	let mut zp = ctx.opt(ins, 2).cloned();
	if let Some(Value::Const { t, .. }) = &zp {
		// Zero points of shape [1] next to a scalar scale (or the reverse) are common; the IR
		// wants the same shape.
		if t.shape() != scale.shape().as_slice()
			&& t.len() == scale.shape().iter().product::<usize>()
		{
			let t = (**t)
				.clone()
				.reshape(scale.shape())
				.map_err(|e| ctx.invalid(e.to_string()))?;
			zp = Some(Value::anon(t));
		}
	}
	if quantize {
		if let Some(dt) = out_dtype {
			match &zp {
				Some(z) if z.dtype() != dt => {
					return Err(ctx.invalid("output_dtype differs from the zero point's type"))
				}
				Some(_) => {}
				None => {
					zp = Some(Value::anon(
						Tensor::zeros(dt, &scale.shape())
							.map_err(|e| ctx.invalid(e.to_string()))?,
					))
				}
			}
		}
	}
	let op = if quantize {
		Op::QuantizeLinear { axis }
	} else {
		Op::DequantizeLinear { axis }
	};
	one(b.apply(ctx, op, &[Some(x), Some(scale), zp.as_ref()])?)
}
