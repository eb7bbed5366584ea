//! Convolutions (float, integer and quantised, and transposed) and the sliding-window
//! padding they share with the pools.

use verity_engine::ir::{ConvAttrs, ConvTransposeAttrs, Op};

use super::{int_list, simple, Outs, Registry};
use crate::{
	error::CompileError,
	lower::{Builder, NodeCtx, Value},
};

pub(super) fn register(r: &mut Registry) {
	r.insert("Conv", |b, ctx, ins| {
		let a = conv_attrs(ctx, &ctx.req(ins, 0)?.shape(), &ctx.req(ins, 1)?.shape())?;
		simple(b, ctx, ins, Op::Conv(a))
	});
	r.insert("ConvTranspose", |b, ctx, ins| conv_transpose(b, ctx, ins));
	r.insert("ConvInteger", |b, ctx, ins| {
		let a = conv_attrs(ctx, &ctx.req(ins, 0)?.shape(), &ctx.req(ins, 1)?.shape())?;
		simple(b, ctx, ins, Op::ConvInteger(a))
	});
	r.insert("QLinearConv", |b, ctx, ins| {
		let a = conv_attrs(ctx, &ctx.req(ins, 0)?.shape(), &ctx.req(ins, 3)?.shape())?;
		simple(b, ctx, ins, Op::QLinearConv(a))
	});
}

/// Explicit begin-then-end pads for a sliding window (`Conv`, pools), resolving `auto_pad`.
pub(super) fn window_pads(
	ctx: &NodeCtx,
	input: &[usize],
	kernel: &[usize],
	strides: &[u32],
	dilations: &[u32],
) -> Result<Vec<u32>, CompileError> {
	let s = input.len();
	let auto = ctx.attr(ctx.attrs.string_or("auto_pad", "NOTSET"))?;
	match auto.as_str() {
		"NOTSET" => int_list(ctx, "pads", 2 * s, 0, 0),
		"VALID" => {
			ctx.attrs.ignore(&["pads"]);
			Ok(vec![0; 2 * s])
		}
		"SAME_UPPER" | "SAME_LOWER" => {
			ctx.attrs.ignore(&["pads"]);
			let mut pads = vec![0u32; 2 * s];
			for i in 0..s {
				let (n, st, d, k) = (
					input[i] as i64,
					strides[i] as i64,
					dilations[i] as i64,
					kernel[i] as i64,
				);
				let out = (n + st - 1) / st;
				let total = ((out - 1) * st + (k - 1) * d + 1 - n).max(0);
				let small = total / 2;
				let (begin, end) = if auto == "SAME_UPPER" {
					(small, total - small)
				} else {
					(total - small, small)
				};
				pads[i] = u32::try_from(begin).map_err(|_| ctx.invalid("padding too large"))?;
				pads[i + s] = u32::try_from(end).map_err(|_| ctx.invalid("padding too large"))?;
			}
			Ok(pads)
		}
		other => Err(ctx.invalid(format!("unknown auto_pad {other:?}"))),
	}
}

/// Checks the optional `kernel_shape` attribute against the weight's spatial dims.
fn check_kernel_shape(ctx: &NodeCtx, kernel: &[usize]) -> Result<(), CompileError> {
	if let Some(k) = ctx.attr(ctx.attrs.ints("kernel_shape"))? {
		if k.len() != kernel.len() || k.iter().zip(kernel).any(|(&a, &b)| a != b as i64) {
			return Err(ctx.invalid(format!("kernel_shape {k:?} contradicts the weight shape")));
		}
	}
	Ok(())
}

fn conv_attrs(ctx: &NodeCtx, x: &[usize], w: &[usize]) -> Result<ConvAttrs, CompileError> {
	if x.len() < 3 || w.len() != x.len() {
		return Err(ctx.invalid("X and W must have the same rank, at least 3"));
	}
	let s = x.len() - 2;
	check_kernel_shape(ctx, &w[2..])?;
	let strides = int_list(ctx, "strides", s, 1, 1)?;
	let dilations = int_list(ctx, "dilations", s, 1, 1)?;
	let group = ctx.attr(ctx.attrs.int_or("group", 1))?;
	let group = u32::try_from(group).ok().filter(|&g| g >= 1);
	let group = group.ok_or_else(|| ctx.invalid("group must be positive"))?;
	let pads = window_pads(ctx, &x[2..], &w[2..], &strides, &dilations)?;
	Ok(ConvAttrs {
		pads,
		strides,
		dilations,
		group,
	})
}

fn conv_transpose(b: &mut Builder, ctx: &NodeCtx, ins: &[Option<Value>]) -> Outs {
	let (x, w) = (ctx.req(ins, 0)?.shape(), ctx.req(ins, 1)?.shape());
	if x.len() < 3 || w.len() != x.len() {
		return Err(ctx.invalid("X and W must have the same rank, at least 3"));
	}
	let s = x.len() - 2;
	check_kernel_shape(ctx, &w[2..])?;
	let strides = int_list(ctx, "strides", s, 1, 1)?;
	let dilations = int_list(ctx, "dilations", s, 1, 1)?;
	let mut output_padding = int_list(ctx, "output_padding", s, 0, 0)?;
	let group = ctx.attr(ctx.attrs.int_or("group", 1))?;
	let group = u32::try_from(group).ok().filter(|&g| g >= 1);
	let group = group.ok_or_else(|| ctx.invalid("group must be positive"))?;
	let auto = ctx.attr(ctx.attrs.string_or("auto_pad", "NOTSET"))?;
	let output_shape = ctx.attr(ctx.attrs.ints("output_shape"))?;
	let same = auto == "SAME_UPPER" || auto == "SAME_LOWER";
	let pads = if output_shape.is_some() || same {
		ctx.attrs.ignore(&["pads"]);
		// Target spatial size: the given output shape (with or without N, C), or in · stride.
		let target: Vec<i64> = match &output_shape {
			Some(os) if os.len() == s => os.clone(),
			Some(os) if os.len() == s + 2 => os[2..].to_vec(),
			Some(os) => {
				return Err(ctx.invalid(format!("output_shape {os:?} has the wrong length")))
			}
			None => (0..s)
				.map(|i| x[i + 2] as i64 * strides[i] as i64)
				.collect(),
		};
		let mut pads = vec![0u32; 2 * s];
		for i in 0..s {
			let full = strides[i] as i64 * (x[i + 2] as i64 - 1)
				+ output_padding[i] as i64
				+ (w[i + 2] as i64 - 1) * dilations[i] as i64
				+ 1;
			let total = full - target[i];
			let half = total.div_euclid(2);
			let (begin, mut end) = if auto == "SAME_UPPER" {
				(half, total - half)
			} else {
				(total - half, half)
			};
			if end < 0 {
				// A negative end pad extends the output: the same as extra output padding.
				output_padding[i] = u32::try_from(output_padding[i] as i64 - end)
					.map_err(|_| ctx.invalid("output padding too large"))?;
				end = 0;
			}
			if begin < 0 {
				return Err(ctx.unsupported("output_shape that needs a negative begin pad"));
			}
			pads[i] = u32::try_from(begin).map_err(|_| ctx.invalid("padding too large"))?;
			pads[i + s] = u32::try_from(end).map_err(|_| ctx.invalid("padding too large"))?;
		}
		pads
	} else if auto == "VALID" {
		ctx.attrs.ignore(&["pads"]);
		vec![0; 2 * s]
	} else if auto == "NOTSET" {
		int_list(ctx, "pads", 2 * s, 0, 0)?
	} else {
		return Err(ctx.invalid(format!("unknown auto_pad {auto:?}")));
	};
	let op = Op::ConvTranspose(ConvTransposeAttrs {
		conv: ConvAttrs {
			pads,
			strides,
			dilations,
			group,
		},
		output_padding,
	});
	simple(b, ctx, ins, op)
}
