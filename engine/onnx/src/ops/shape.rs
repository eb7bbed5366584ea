//! Shapes, data movement and type casts: pure rearrangements of elements (exact).

use verity_engine::{
	ir::{BinaryOp, Op, PadMode},
	DType, Tensor,
};

use super::{non_negative, norm_axes, norm_axis, one, simple, Outs, Registry};
use crate::{
	error::CompileError,
	lower::{Builder, NodeCtx, Value},
	proto::{dtype_from_onnx, onnx_dtype_name},
};

pub(super) fn register(r: &mut Registry) {
	r.insert("Reshape", |b, ctx, ins| reshape(b, ctx, ins));
	r.insert("Flatten", |b, ctx, ins| {
		let r = ctx.req(ins, 0)?.rank() as i64;
		let axis = ctx.attr(ctx.attrs.int_or("axis", 1))?;
		// The split point ranges over -rank..=rank.
		let a = if axis < 0 { axis + r } else { axis };
		if !(0..=r).contains(&a) {
			return Err(ctx.invalid(format!("axis {axis} is out of range for rank {r}")));
		}
		simple(b, ctx, ins, Op::Flatten { axis: a as u32 })
	});
	r.insert("Transpose", |b, ctx, ins| {
		let r = ctx.req(ins, 0)?.rank();
		let perm = match ctx.attr(ctx.attrs.ints("perm"))? {
			Some(p) => p
				.iter()
				.map(|&a| u32::try_from(a).map_err(|_| ctx.invalid("perm must be non-negative")))
				.collect::<Result<Vec<_>, _>>()?,
			None => (0..r as u32).rev().collect(),
		};
		simple(b, ctx, ins, Op::Transpose { perm })
	});
	r.insert("Concat", |b, ctx, ins| {
		let r = ctx.req(ins, 0)?.rank();
		let axis = match ctx.attr(ctx.attrs.int("axis"))? {
			Some(a) => a,
			None if ctx.opset < 4 => 1,
			None => return Err(ctx.invalid("axis is required")),
		};
		let axis = norm_axis(ctx, axis, r)?;
		let args: Vec<Option<&Value>> = ins.iter().map(|v| v.as_ref()).collect();
		if args.iter().any(Option::is_none) {
			return Err(ctx.invalid("Concat inputs cannot be omitted"));
		}
		one(b.apply(ctx, Op::Concat { axis }, &args)?)
	});
	r.insert("Split", |b, ctx, ins| split(b, ctx, ins));
	r.insert("Slice", |b, ctx, ins| slice(b, ctx, ins));
	r.insert("Gather", |b, ctx, ins| {
		let r = ctx.req(ins, 0)?.rank();
		let axis = norm_axis(ctx, ctx.attr(ctx.attrs.int_or("axis", 0))?, r)?;
		simple(b, ctx, ins, Op::Gather { axis })
	});
	r.insert("GatherElements", |b, ctx, ins| gather_elements(b, ctx, ins));
	r.insert("Squeeze", |b, ctx, ins| squeeze(b, ctx, ins));
	r.insert("Unsqueeze", |b, ctx, ins| unsqueeze(b, ctx, ins));
	r.insert("Pad", |b, ctx, ins| pad(b, ctx, ins));
	r.insert("Cast", |b, ctx, ins| {
		let to = ctx
			.attr(ctx.attrs.int("to"))?
			.ok_or_else(|| ctx.invalid("to is required"))?;
		// `saturate` only affects float8 targets, which the engine does not have.
		ctx.attrs.ignore(&["saturate"]);
		let to = dtype_from_onnx(to as i32).ok_or_else(|| CompileError::UnsupportedDType {
			name: ctx.node.output.first().cloned().unwrap_or_default(),
			dtype: onnx_dtype_name(to as i32),
		})?;
		one(b.apply(ctx, Op::Cast { to }, &[Some(ctx.req(ins, 0)?)])?)
	});
	r.insert("CastLike", |b, ctx, ins| {
		ctx.attrs.ignore(&["saturate"]);
		let to = ctx.req(ins, 1)?.dtype();
		one(b.apply(ctx, Op::Cast { to }, &[Some(ctx.req(ins, 0)?)])?)
	});
	r.insert("Expand", |b, ctx, ins| {
		let shape = non_negative(ctx, "shape", &ctx.req_ints(ins, 1)?)?;
		one(b.apply(ctx, Op::Expand { shape }, &[Some(ctx.req(ins, 0)?)])?)
	});
	r.insert("Tile", |b, ctx, ins| {
		let repeats = non_negative(ctx, "repeats", &ctx.req_ints(ins, 1)?)?;
		one(b.apply(ctx, Op::Tile { repeats }, &[Some(ctx.req(ins, 0)?)])?)
	});
	r.insert("CenterCropPad", |b, ctx, ins| center_crop_pad(b, ctx, ins));
	r.insert("DepthToSpace", |b, ctx, ins| depth_to_space(b, ctx, ins));
	r.insert("SpaceToDepth", |b, ctx, ins| space_to_depth(b, ctx, ins));
	r.insert("Trilu", |b, ctx, ins| trilu(b, ctx, ins));
}

fn reshape(b: &mut Builder, ctx: &NodeCtx, ins: &[Option<Value>]) -> Outs {
	let x = ctx.req(ins, 0)?;
	let spec = if ctx.opset < 5 {
		ctx.attr(ctx.attrs.ints("shape"))?
			.ok_or_else(|| ctx.invalid("shape is required"))?
	} else {
		ctx.req_ints(ins, 1)?
	};
	let allowzero = ctx.attr(ctx.attrs.int_or("allowzero", 0))? != 0;
	let in_shape = x.shape();
	let total: u128 = in_shape.iter().map(|&d| d as u128).product();
	let mut shape = Vec::with_capacity(spec.len());
	let mut infer_at = None;
	for (i, &d) in spec.iter().enumerate() {
		shape.push(match d {
			0 if !allowzero => *in_shape
				.get(i)
				.ok_or_else(|| ctx.invalid("shape copies a dimension the input does not have"))?
				as u64,
			-1 => {
				if infer_at.replace(i).is_some() {
					return Err(ctx.invalid("shape has more than one -1"));
				}
				1
			}
			d if d >= 0 => d as u64,
			d => return Err(ctx.invalid(format!("shape has invalid dimension {d}"))),
		});
	}
	if let Some(i) = infer_at {
		let known: u128 = shape.iter().map(|&d| d as u128).product();
		if known == 0 || !total.is_multiple_of(known) {
			return Err(ctx.invalid("cannot infer the -1 dimension"));
		}
		shape[i] = u64::try_from(total / known).map_err(|_| ctx.invalid("shape too large"))?;
	}
	one(b.apply(ctx, Op::Reshape { shape }, &[Some(x)])?)
}

/// `Split` as one `Slice` per used output: output `k` is `x[.., offset_k .. offset_k + split_k,
/// ..]` along `axis` (`offset_k` = sum of the earlier splits), exactly the data Split copies.
/// Unused outputs produce no node.
fn split(b: &mut Builder, ctx: &NodeCtx, ins: &[Option<Value>]) -> Outs {
	let x = ctx.req(ins, 0)?;
	let axis = norm_axis(ctx, ctx.attr(ctx.attrs.int_or("axis", 0))?, x.rank())?;
	let len = x.shape()[axis as usize] as i64;
	let given = if ctx.opset >= 13 {
		ctx.opt_ints(ins, 1)?
	} else {
		if ctx.opset < 2 && ctx.opt(ins, 1).is_some() {
			return Err(ctx.unsupported("the opset-1 `split` input"));
		}
		ctx.attr(ctx.attrs.ints("split"))?
	};
	let num_outputs = ctx.attr(ctx.attrs.int("num_outputs"))?;
	let splits = match given {
		Some(s) if !s.is_empty() => s,
		_ => {
			let n = num_outputs.unwrap_or(ctx.output_count() as i64);
			if n <= 0 {
				return Err(ctx.invalid("no outputs to split into"));
			}
			if len % n == 0 {
				vec![len / n; n as usize]
			} else if num_outputs.is_some() {
				// Opset 18: chunks of ceil(len / n), the last one smaller.
				let chunk = (len + n - 1) / n;
				let last = len - chunk * (n - 1);
				if last < 0 {
					return Err(ctx.invalid("cannot split into that many outputs"));
				}
				let mut v = vec![chunk; n as usize - 1];
				v.push(last);
				v
			} else {
				return Err(ctx.invalid("axis length is not divisible by the number of outputs"));
			}
		}
	};
	if splits.len() != ctx.output_count() {
		return Err(ctx.invalid("the number of splits differs from the number of outputs"));
	}
	let splits = non_negative(ctx, "split", &splits)?;
	let total = splits.iter().try_fold(0u64, |a, &s| a.checked_add(s));
	if total != Some(len as u64) {
		return Err(ctx.invalid(format!(
			"the splits {splits:?} do not sum to the axis length {len}"
		)));
	}
	let mut outs = Vec::with_capacity(splits.len());
	let mut start = 0i64;
	for (k, &s) in splits.iter().enumerate() {
		// `start + s ≤ len`, which fits `i64`.
		let end = start + s as i64;
		outs.push(if ctx.output_live(k) {
			let op = Op::Slice {
				starts: vec![start],
				ends: vec![end],
				axes: vec![axis],
				steps: vec![1],
			};
			Some(b.apply(ctx, op, &[Some(x)])?)
		} else {
			None
		});
		start = end;
	}
	Ok(outs)
}

fn slice(b: &mut Builder, ctx: &NodeCtx, ins: &[Option<Value>]) -> Outs {
	let x = ctx.req(ins, 0)?;
	let (starts, ends, axes, steps) = if ctx.opset < 10 {
		let starts = ctx
			.attr(ctx.attrs.ints("starts"))?
			.ok_or_else(|| ctx.invalid("starts is required"))?;
		let ends = ctx
			.attr(ctx.attrs.ints("ends"))?
			.ok_or_else(|| ctx.invalid("ends is required"))?;
		(starts, ends, ctx.attr(ctx.attrs.ints("axes"))?, None)
	} else {
		(
			ctx.req_ints(ins, 1)?,
			ctx.req_ints(ins, 2)?,
			ctx.opt_ints(ins, 3)?,
			ctx.opt_ints(ins, 4)?,
		)
	};
	let n = starts.len();
	let axes = match axes {
		Some(a) => a
			.iter()
			.map(|&a| norm_axis(ctx, a, x.rank()))
			.collect::<Result<Vec<_>, _>>()?,
		None => (0..n as u32).collect(),
	};
	let steps = steps.unwrap_or_else(|| vec![1; n]);
	one(b.apply(
		ctx,
		Op::Slice {
			starts,
			ends,
			axes,
			steps,
		},
		&[Some(x)],
	)?)
}

fn squeeze(b: &mut Builder, ctx: &NodeCtx, ins: &[Option<Value>]) -> Outs {
	let x = ctx.req(ins, 0)?;
	let axes = if ctx.opset >= 13 {
		ctx.opt_ints(ins, 1)?
	} else {
		ctx.attr(ctx.attrs.ints("axes"))?
	};
	let axes = match axes {
		Some(a) if !a.is_empty() => norm_axes(ctx, &a, x.rank())?,
		_ => x
			.shape()
			.iter()
			.enumerate()
			.filter(|(_, &d)| d == 1)
			.map(|(i, _)| i as u32)
			.collect(),
	};
	one(b.apply(ctx, Op::Squeeze { axes }, &[Some(x)])?)
}

fn unsqueeze(b: &mut Builder, ctx: &NodeCtx, ins: &[Option<Value>]) -> Outs {
	let x = ctx.req(ins, 0)?;
	let axes = if ctx.opset >= 13 {
		ctx.req_ints(ins, 1)?
	} else {
		ctx.attr(ctx.attrs.ints("axes"))?
			.ok_or_else(|| ctx.invalid("axes is required"))?
	};
	let axes = norm_axes(ctx, &axes, x.rank() + axes.len())?;
	one(b.apply(ctx, Op::Unsqueeze { axes }, &[Some(x)])?)
}

fn pad(b: &mut Builder, ctx: &NodeCtx, ins: &[Option<Value>]) -> Outs {
	let x = ctx.req(ins, 0)?;
	let r = x.rank();
	let mode = match ctx.attr(ctx.attrs.string_or("mode", "constant"))?.as_str() {
		"constant" => PadMode::Constant,
		"reflect" => PadMode::Reflect,
		"edge" => PadMode::Edge,
		"wrap" => PadMode::Wrap,
		other => return Err(ctx.invalid(format!("unknown mode {other:?}"))),
	};
	let legacy_value;
	let (pads, value, axes) = if ctx.opset < 11 {
		let pads = match ctx.attr(ctx.attrs.ints("pads"))? {
			Some(p) => p,
			None => ctx
				.attr(ctx.attrs.ints("paddings"))?
				.ok_or_else(|| ctx.invalid("pads is required"))?,
		};
		let v = ctx.attr(ctx.attrs.float_or("value", 0.0))?;
		legacy_value = (v.to_bits() != 0).then(|| Value::anon(Tensor::scalar_f32(v)));
		(pads, legacy_value.as_ref(), None)
	} else {
		(
			ctx.req_ints(ins, 1)?,
			ctx.opt(ins, 2),
			ctx.opt_ints(ins, 3)?,
		)
	};
	let pads = match axes {
		None => pads,
		Some(axes) => {
			let k = axes.len();
			if pads.len() != 2 * k {
				return Err(ctx.invalid("pads must have 2 values per axis"));
			}
			let mut full = vec![0i64; 2 * r];
			for (j, &a) in axes.iter().enumerate() {
				let a = norm_axis(ctx, a, r)? as usize;
				full[a] = pads[j];
				full[a + r] = pads[j + k];
			}
			full
		}
	};
	one(b.apply(ctx, Op::Pad { mode, pads }, &[Some(x), value])?)
}

/// `GatherElements` as a `Gather` on the flattened data with flat indices
/// `base + normalise(indices) · stride(axis)`, where `base` (the offset of every other
/// coordinate) is a constant. Pure data movement (exact). An index out of range along `axis` is
/// only detected when the flat index leaves the tensor.
fn gather_elements(b: &mut Builder, ctx: &NodeCtx, ins: &[Option<Value>]) -> Outs {
	let x = ctx.req(ins, 0)?;
	let idx = ctx.req(ins, 1)?;
	let (xs, is) = (x.shape(), idx.shape());
	if xs.len() != is.len() || xs.is_empty() {
		return Err(ctx.invalid("data and indices must have the same rank, at least 1"));
	}
	let axis = norm_axis(ctx, ctx.attr(ctx.attrs.int_or("axis", 0))?, xs.len())? as usize;
	let r = xs.len();
	let mut strides = vec![1i64; r];
	for d in (0..r - 1).rev() {
		strides[d] = strides[d + 1] * xs[d + 1] as i64;
	}
	// Offset of each index position from the coordinates other than `axis`.
	let n: usize = is.iter().product();
	let mut base = Vec::with_capacity(n);
	let mut pos = vec![0usize; r];
	for _ in 0..n {
		base.push(
			(0..r)
				.filter(|&d| d != axis)
				.map(|d| pos[d] as i64 * strides[d])
				.sum::<i64>(),
		);
		for d in (0..r).rev() {
			pos[d] += 1;
			if pos[d] < is[d] {
				break;
			}
			pos[d] = 0;
		}
	}
	let t = |shape: &[usize], v: Vec<i64>| -> Result<Value, CompileError> {
		Ok(Value::anon(
			Tensor::from_i64(shape, v).map_err(|e| ctx.invalid(e.to_string()))?,
		))
	};
	let i64_idx = match idx.dtype() {
		DType::I64 => idx.clone(),
		DType::I32 => b.apply(ctx, Op::Cast { to: DType::I64 }, &[Some(idx)])?,
		other => return Err(ctx.invalid(format!("indices must be int64 or int32, got {other}"))),
	};
	let zero = t(&[], vec![0])?;
	let dim = t(&[], vec![xs[axis] as i64])?;
	let neg = b.apply(
		ctx,
		Op::Binary(BinaryOp::Less),
		&[Some(&i64_idx), Some(&zero)],
	)?;
	let wrapped = b.apply(
		ctx,
		Op::Binary(BinaryOp::Add),
		&[Some(&i64_idx), Some(&dim)],
	)?;
	let norm = b.apply(
		ctx,
		Op::Where,
		&[Some(&neg), Some(&wrapped), Some(&i64_idx)],
	)?;
	let stride = t(&[], vec![strides[axis]])?;
	let scaled = b.apply(
		ctx,
		Op::Binary(BinaryOp::Mul),
		&[Some(&norm), Some(&stride)],
	)?;
	let flat_idx = b.apply(
		ctx,
		Op::Binary(BinaryOp::Add),
		&[Some(&scaled), Some(&t(&is, base)?)],
	)?;
	let total: usize = xs.iter().product();
	let flat = b.apply(
		ctx,
		Op::Reshape {
			shape: vec![total as u64],
		},
		&[Some(x)],
	)?;
	one(b.apply(ctx, Op::Gather { axis: 0 }, &[Some(&flat), Some(&flat_idx)])?)
}

/// `CenterCropPad` as a `Slice` (centred crop) followed by a constant `Pad` (centred pad).
fn center_crop_pad(b: &mut Builder, ctx: &NodeCtx, ins: &[Option<Value>]) -> Outs {
	let x = ctx.req(ins, 0)?;
	let target = ctx.req_ints(ins, 1)?;
	let shape = x.shape();
	let r = shape.len();
	let axes: Vec<usize> = match ctx.attr(ctx.attrs.ints("axes"))? {
		Some(a) => a
			.iter()
			.map(|&a| norm_axis(ctx, a, r).map(|a| a as usize))
			.collect::<Result<_, _>>()?,
		None => (0..r).collect(),
	};
	if axes.len() != target.len() {
		return Err(ctx.invalid("shape must have one value per axis"));
	}
	let (mut starts, mut ends, mut slice_axes) = (Vec::new(), Vec::new(), Vec::new());
	let mut pads = vec![0i64; 2 * r];
	for (&a, &t) in axes.iter().zip(&target) {
		let d = shape[a] as i64;
		if t < 0 {
			return Err(ctx.invalid("negative target size"));
		}
		if t < d {
			let start = (d - t) / 2;
			starts.push(start);
			ends.push(start + t);
			slice_axes.push(a as u32);
		} else if t > d {
			pads[a] = (t - d) / 2;
			pads[a + r] = t - d - pads[a];
		}
	}
	let mut v = x.clone();
	if !slice_axes.is_empty() {
		let steps = vec![1; starts.len()];
		let op = Op::Slice {
			starts,
			ends,
			axes: slice_axes,
			steps,
		};
		v = b.apply(ctx, op, &[Some(&v)])?;
	}
	if pads.iter().any(|&p| p != 0) {
		v = b.apply(
			ctx,
			Op::Pad {
				mode: PadMode::Constant,
				pads,
			},
			&[Some(&v)],
		)?;
	}
	one(v)
}

/// Reshape → Transpose → Reshape (pure data movement, exact).
fn reshape_transpose_reshape(
	b: &mut Builder,
	ctx: &NodeCtx,
	x: &Value,
	first: Vec<u64>,
	perm: Vec<u32>,
	last: Vec<u64>,
) -> Outs {
	let r = b.apply(ctx, Op::Reshape { shape: first }, &[Some(x)])?;
	let t = b.apply(ctx, Op::Transpose { perm }, &[Some(&r)])?;
	one(b.apply(ctx, Op::Reshape { shape: last }, &[Some(&t)])?)
}

fn block_size(ctx: &NodeCtx) -> Result<u64, CompileError> {
	let bs = ctx
		.attr(ctx.attrs.int("blocksize"))?
		.ok_or_else(|| ctx.invalid("blocksize is required"))?;
	u64::try_from(bs)
		.ok()
		.filter(|&b| b >= 1)
		.ok_or_else(|| ctx.invalid("blocksize must be positive"))
}

fn nchw(ctx: &NodeCtx, x: &Value) -> Result<[u64; 4], CompileError> {
	match x.shape().as_slice() {
		&[n, c, h, w] => Ok([n as u64, c as u64, h as u64, w as u64]),
		_ => Err(ctx.invalid("input must have rank 4")),
	}
}

fn depth_to_space(b: &mut Builder, ctx: &NodeCtx, ins: &[Option<Value>]) -> Outs {
	let x = ctx.req(ins, 0)?;
	let bs = block_size(ctx)?;
	let [n, c, h, w] = nchw(ctx, x)?;
	if c % (bs * bs) != 0 {
		return Err(ctx.invalid("channels are not divisible by blocksize²"));
	}
	let c2 = c / (bs * bs);
	let last = vec![n, c2, h * bs, w * bs];
	match ctx.attr(ctx.attrs.string_or("mode", "DCR"))?.as_str() {
		"DCR" => reshape_transpose_reshape(
			b,
			ctx,
			x,
			vec![n, bs, bs, c2, h, w],
			vec![0, 3, 4, 1, 5, 2],
			last,
		),
		"CRD" => reshape_transpose_reshape(
			b,
			ctx,
			x,
			vec![n, c2, bs, bs, h, w],
			vec![0, 1, 4, 2, 5, 3],
			last,
		),
		other => Err(ctx.invalid(format!("unknown mode {other:?}"))),
	}
}

fn space_to_depth(b: &mut Builder, ctx: &NodeCtx, ins: &[Option<Value>]) -> Outs {
	let x = ctx.req(ins, 0)?;
	let bs = block_size(ctx)?;
	let [n, c, h, w] = nchw(ctx, x)?;
	if h % bs != 0 || w % bs != 0 {
		return Err(ctx.invalid("spatial dims are not divisible by blocksize"));
	}
	let first = vec![n, c, h / bs, bs, w / bs, bs];
	let last = vec![n, c * bs * bs, h / bs, w / bs];
	reshape_transpose_reshape(b, ctx, x, first, vec![0, 3, 5, 1, 2, 4], last)
}

/// `Trilu` as `Where(mask, X, 0)` with a constant mask over the last two axes (exact).
fn trilu(b: &mut Builder, ctx: &NodeCtx, ins: &[Option<Value>]) -> Outs {
	let x = ctx.req(ins, 0)?;
	let shape = x.shape();
	if shape.len() < 2 {
		return Err(ctx.invalid("input must have rank at least 2"));
	}
	let k = match ctx.opt_ints(ins, 1)? {
		Some(v) => *v.first().ok_or_else(|| ctx.invalid("k is empty"))?,
		None => 0,
	};
	let upper = ctx.attr(ctx.attrs.int_or("upper", 1))? != 0;
	let (n, m) = (shape[shape.len() - 2], shape[shape.len() - 1]);
	let mut mask = Vec::with_capacity(n * m);
	for i in 0..n as i64 {
		for j in 0..m as i64 {
			// Saturating: k may be any int64.
			let d = j.saturating_sub(i);
			mask.push(if upper { d >= k } else { d <= k });
		}
	}
	let mask =
		Value::anon(Tensor::from_bool(&[n, m], mask).map_err(|e| ctx.invalid(e.to_string()))?);
	let zero = Value::anon(Tensor::zeros(x.dtype(), &[]).map_err(|e| ctx.invalid(e.to_string()))?);
	one(b.apply(ctx, Op::Where, &[Some(&mask), Some(x), Some(&zero)])?)
}
