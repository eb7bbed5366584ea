//! Linear (de)quantisation.

use verity_engine::{ir::Op, Tensor};

use super::{norm_axis, one, Outs, Registry};
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
