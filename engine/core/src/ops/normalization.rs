//! BatchNormalization (inference), LRN, LayerNormalization, InstanceNormalization.
//!
//! **Order.**
//! * BatchNormalization: per channel `a = scale / sqrt(var + eps)` once, then per element
//!   `y = (x - mean) * a + B` (three roundings, no reduction).
//! * LRN: per element, `sq = +0.0; sq = fma(x[c'], x[c'], sq)` for the channels `c'` of the
//!   window in ascending order, then `y = x / pow(bias + (alpha / size) * sq, beta)`.
//! * LayerNormalization / InstanceNormalization, per normalised group of `n` elements in memory
//!   order: `s = +0.0; s = s + x` → `mean = s / n`; `v = +0.0; v = fma(d, d, v)` with
//!   `d = x - mean` → `var = v / n`; `y = d / sqrt(var + eps) * scale + B`.

use alloc::{vec, vec::Vec};

use super::{
	allow_dtypes, arity, broadcast_shapes, elementwise::expand_to, inp, make, opt, req, OpError, Ty,
};
use crate::{
	ir::Op,
	linalg::fma,
	tensor::{DType, Tensor, TensorData},
};

fn f32s(t: &Tensor, input: u32) -> Result<&[f32], OpError> {
	t.as_f32().map_err(|_| OpError::UnsupportedDType {
		input,
		dtype: t.dtype(),
	})
}

pub(crate) fn infer(op: &Op, inputs: &[Option<Ty>]) -> Result<Vec<Ty>, OpError> {
	match op {
		Op::BatchNormalization { .. } => {
			arity(inputs, 5, 5)?;
			let x = req(inputs, 0)?;
			allow_dtypes(x, 0, &[DType::F32])?;
			if x.rank() < 2 {
				return Err(OpError::Rank {
					input: 0,
					got: x.rank() as u32,
				});
			}
			for i in 1..5 {
				let p = req(inputs, i)?;
				super::want_dtype(p, i, DType::F32)?;
				if p.shape != [x.shape[1]] {
					return Err(OpError::Shape {
						reason: "BatchNormalization parameters must be [C]",
					});
				}
			}
			Ok(vec![x.clone()])
		}
		Op::Lrn { size, .. } => {
			arity(inputs, 1, 1)?;
			let x = req(inputs, 0)?;
			allow_dtypes(x, 0, &[DType::F32])?;
			if x.rank() < 3 {
				return Err(OpError::Rank {
					input: 0,
					got: x.rank() as u32,
				});
			}
			if *size == 0 {
				return Err(OpError::Attribute {
					name: "size",
					reason: "must be positive",
				});
			}
			Ok(vec![x.clone()])
		}
		Op::LayerNormalization { axis, .. } => {
			arity(inputs, 2, 3)?;
			let x = req(inputs, 0)?;
			allow_dtypes(x, 0, &[DType::F32])?;
			let a = *axis as usize;
			if a >= x.rank() {
				return Err(OpError::Attribute {
					name: "axis",
					reason: "out of range",
				});
			}
			let norm = &x.shape[a..];
			for i in 1..inputs.len() {
				if let Some(p) = opt(inputs, i) {
					super::want_dtype(p, i, DType::F32)?;
					if broadcast_shapes(&p.shape, norm)? != norm {
						return Err(OpError::Broadcast);
					}
				}
			}
			req(inputs, 1)?;
			Ok(vec![x.clone()])
		}
		Op::InstanceNormalization { .. } => {
			arity(inputs, 3, 3)?;
			let x = req(inputs, 0)?;
			allow_dtypes(x, 0, &[DType::F32])?;
			if x.rank() < 3 {
				return Err(OpError::Rank {
					input: 0,
					got: x.rank() as u32,
				});
			}
			for i in 1..3 {
				let p = req(inputs, i)?;
				super::want_dtype(p, i, DType::F32)?;
				if p.shape != [x.shape[1]] {
					return Err(OpError::Shape {
						reason: "InstanceNormalization parameters must be [C]",
					});
				}
			}
			Ok(vec![x.clone()])
		}
		_ => Err(OpError::Attribute {
			name: "op",
			reason: "not a normalization op",
		}),
	}
}

pub(crate) fn run(op: &Op, inputs: &[Option<&Tensor>]) -> Result<Vec<Tensor>, OpError> {
	let x = inp(inputs, 0)?;
	let xv = f32s(x, 0)?;
	let shape = x.shape();
	let t = match op {
		Op::BatchNormalization { epsilon } => {
			let eps = epsilon.get();
			let p = |i: usize| -> Result<&[f32], OpError> { f32s(inp(inputs, i)?, i as u32) };
			let (scale, bias, mean, var) = (p(1)?, p(2)?, p(3)?, p(4)?);
			let c = shape[1];
			let plane: usize = shape[2..].iter().product();
			let a: Vec<f32> = (0..c)
				.map(|i| scale[i] / libm::sqrtf(var[i] + eps))
				.collect();
			let mut out = vec![0f32; xv.len()];
			for (blk, (o, xs)) in out
				.chunks_mut(plane.max(1))
				.zip(xv.chunks(plane.max(1)))
				.enumerate()
			{
				let ch = blk % c;
				let (m, a, b) = (mean[ch], a[ch], bias[ch]);
				for (y, &v) in o.iter_mut().zip(xs) {
					*y = (v - m) * a + b;
				}
			}
			make(shape.to_vec(), TensorData::F32(out))?
		}
		Op::Lrn {
			alpha,
			beta,
			bias,
			size,
		} => {
			let (c, size) = (shape[1], *size as usize);
			let plane: usize = shape[2..].iter().product();
			let before = (size - 1) / 2;
			let after = size - 1 - before;
			let scale = alpha.get() / size as f32;
			let (beta, bias) = (beta.get(), bias.get());
			let mut out = vec![0f32; xv.len()];
			for n in 0..shape[0] {
				for ch in 0..c {
					let lo = ch.saturating_sub(before);
					let hi = (ch + after).min(c - 1);
					for p in 0..plane {
						let mut sq = 0f32;
						for cc in lo..=hi {
							let v = xv[(n * c + cc) * plane + p];
							sq = fma(v, v, sq);
						}
						let i = (n * c + ch) * plane + p;
						out[i] = xv[i] / libm::powf(bias + scale * sq, beta);
					}
				}
			}
			make(shape.to_vec(), TensorData::F32(out))?
		}
		Op::LayerNormalization { axis, epsilon } => {
			let a = *axis as usize;
			let norm = &shape[a..];
			let n: usize = norm.iter().product();
			let sc = inp(inputs, 1)?;
			let scale = expand_to(f32s(sc, 1)?, sc.shape(), norm);
			let bias = match opt(inputs, 2) {
				Some(b) => expand_to(f32s(b, 2)?, b.shape(), norm),
				None => vec![0f32; n],
			};
			let mut out = vec![0f32; xv.len()];
			for (o, xs) in out.chunks_mut(n.max(1)).zip(xv.chunks(n.max(1))) {
				normalize(xs, o, epsilon.get(), |i| (scale[i], bias[i]));
			}
			make(shape.to_vec(), TensorData::F32(out))?
		}
		Op::InstanceNormalization { epsilon } => {
			let scale = f32s(inp(inputs, 1)?, 1)?;
			let bias = f32s(inp(inputs, 2)?, 2)?;
			let c = shape[1];
			let plane: usize = shape[2..].iter().product();
			let mut out = vec![0f32; xv.len()];
			for (blk, (o, xs)) in out
				.chunks_mut(plane.max(1))
				.zip(xv.chunks(plane.max(1)))
				.enumerate()
			{
				let ch = blk % c;
				normalize(xs, o, epsilon.get(), |_| (scale[ch], bias[ch]));
			}
			make(shape.to_vec(), TensorData::F32(out))?
		}
		_ => {
			return Err(OpError::Attribute {
				name: "op",
				reason: "not a normalization op",
			})
		}
	};
	Ok(vec![t])
}

fn normalize(xs: &[f32], out: &mut [f32], eps: f32, affine: impl Fn(usize) -> (f32, f32)) {
	let n = xs.len() as f32;
	let mut s = 0f32;
	for &v in xs {
		s += v;
	}
	let mean = s / n;
	let mut var = 0f32;
	for &v in xs {
		let d = v - mean;
		var = fma(d, d, var);
	}
	let den = libm::sqrtf(var / n + eps);
	for (i, (y, &v)) in out.iter_mut().zip(xs).enumerate() {
		let (g, b) = affine(i);
		*y = (v - mean) / den * g + b;
	}
}
