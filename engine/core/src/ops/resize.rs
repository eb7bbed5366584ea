//! Resize: nearest, (multi)linear and cubic, with every ONNX coordinate transformation mode,
//! `exclude_outside`, `extrapolation_value` and `antialias`, following the ONNX reference.
//!
//! **Order.** Resampling is separable and runs axis by axis in ascending axis order, each pass
//! producing an `f32` intermediate. Within a pass, every output element is
//! `acc = +0.0; acc = fma(x[tap], w[tap], acc)` over the taps in ascending input index order
//! (the weights are computed in `f64` and rounded to `f32` once). Nearest mode copies the
//! selected element. Axes whose size and scale are 1:1 (and not `tf_crop_and_resize`) are
//! skipped. `tf_crop_and_resize` samples outside the input are set to `extrapolation_value` at
//! the end.

use alloc::{vec, vec::Vec};

use super::{allow_dtypes, arity, elems, inp, make, map_data, req, OpError, Ty};
use crate::{
	ir::{CoordMode, NearestMode, Op, ResizeAttrs, ResizeMode},
	linalg::fma,
	tensor::{DType, Tensor, TensorData},
};

#[allow(clippy::neg_cmp_op_on_partial_ord)] // `!(s > 0)` also rejects NaN
fn check(a: &ResizeAttrs, x: &Ty) -> Result<Vec<usize>, OpError> {
	let r = x.rank();
	if a.sizes.len() != r {
		return Err(OpError::Attribute {
			name: "sizes",
			reason: "must have one value per axis",
		});
	}
	if !a.scales.is_empty() && a.scales.len() != r {
		return Err(OpError::Attribute {
			name: "scales",
			reason: "must have one value per axis",
		});
	}
	if a.scales
		.iter()
		.any(|s| !(s.get() > 0.0) || !s.get().is_finite())
	{
		return Err(OpError::Attribute {
			name: "scales",
			reason: "must be positive",
		});
	}
	if a.coord == CoordMode::TfCropAndResize && a.roi.len() != 2 * r {
		return Err(OpError::Attribute {
			name: "roi",
			reason: "must have 2 × rank values",
		});
	}
	let sizes: Vec<usize> = a
		.sizes
		.iter()
		.map(|&d| usize::try_from(d).map_err(|_| OpError::TooLarge))
		.collect::<Result<_, _>>()?;
	for (i, (&o, &d)) in sizes.iter().zip(&x.shape).enumerate() {
		if (o > 0 && d == 0)
			|| (o == 0 && d > 0 && !a.scales.is_empty() && a.scales[i].get() >= 1.0)
		{
			return Err(OpError::Shape {
				reason: "cannot resize an empty axis",
			});
		}
	}
	elems(&sizes)?;
	Ok(sizes)
}

pub(crate) fn infer(op: &Op, inputs: &[Option<Ty>]) -> Result<Vec<Ty>, OpError> {
	let Op::Resize(a) = op else {
		return Err(OpError::Attribute {
			name: "op",
			reason: "not Resize",
		});
	};
	arity(inputs, 1, 1)?;
	let x = req(inputs, 0)?;
	if a.mode == ResizeMode::Nearest {
		allow_dtypes(
			x,
			0,
			&[DType::F32, DType::I64, DType::I32, DType::I8, DType::U8],
		)?;
	} else {
		allow_dtypes(x, 0, &[DType::F32])?;
	}
	Ok(vec![Ty::new(x.dtype, check(a, x)?)])
}

/// Taps of one output coordinate: `(input index, weight)` in ascending index order, or
/// `None` if the sample lies outside the input in `tf_crop_and_resize`.
type Taps = Option<Vec<(usize, f64)>>;

fn cubic(ratio: f64, a: f64) -> [f64; 4] {
	let r1 = ratio + 1.0;
	let q = 1.0 - ratio;
	let q1 = q + 1.0;
	[
		((a * r1 - 5.0 * a) * r1 + 8.0 * a) * r1 - 4.0 * a,
		((a + 2.0) * ratio - (a + 3.0)) * ratio * ratio + 1.0,
		((a + 2.0) * q - (a + 3.0)) * q * q + 1.0,
		((a * q1 - 5.0 * a) * q1 + 8.0 * a) * q1 - 4.0 * a,
	]
}

fn cubic_antialias_coeff(x: f64, a: f64) -> f64 {
	let x = x.abs();
	let (x2, x3) = (x * x, x * x * x);
	if x <= 1.0 {
		(a + 2.0) * x3 - (a + 3.0) * x2 + 1.0
	} else if x < 2.0 {
		a * x3 - 5.0 * a * x2 + 8.0 * a * x - 4.0 * a
	} else {
		0.0
	}
}

/// The scale of `axis`: its `scales` value, or output over input size when none are given.
fn axis_scale(a: &ResizeAttrs, axis: usize, input: usize, output: usize) -> f64 {
	if a.scales.is_empty() {
		output as f64 / input as f64
	} else {
		a.scales[axis].get() as f64
	}
}

/// First tap offset of an antialiased downscale: the kernel's `support` (1 linear, 2 cubic)
/// widened by `1 / scale` on each side.
fn antialias_start(support: f64, scale: f64) -> i64 {
	libm::floor(-support / scale) as i64 + 1
}

/// Taps per output element of a pass over an axis of scale `scale`.
fn tap_count(a: &ResizeAttrs, scale: f64) -> u64 {
	let antialiased = a.antialias && scale < 1.0;
	let n = match a.mode {
		ResizeMode::Nearest => 1,
		ResizeMode::Linear if antialiased => 2 - 2 * antialias_start(1.0, scale),
		ResizeMode::Linear => 2,
		ResizeMode::Cubic if antialiased => 2 - 2 * antialias_start(2.0, scale),
		ResizeMode::Cubic => 4,
	};
	n.max(1) as u64
}

/// Multiply-accumulates (or copies, in nearest mode) of resizing `input` to `output`: over the
/// passes [`run`] makes, the elements each pass produces times their taps. Saturating.
pub(crate) fn work(a: &ResizeAttrs, input: &[u64], output: &[u64]) -> u64 {
	let mut shape = input.to_vec();
	let mut total = 0u64;
	for d in 0..shape.len().min(output.len()) {
		let (i, o) = (shape[d], output[d]);
		let unit = a.scales.is_empty() || a.scales.get(d).is_some_and(|s| s.get() == 1.0);
		if (i == o && unit && a.coord != CoordMode::TfCropAndResize) || i == 0 {
			continue;
		}
		shape[d] = o;
		let produced = shape.iter().fold(1u64, |acc, &n| acc.saturating_mul(n));
		let scale = axis_scale(a, d, i as usize, o as usize);
		total = total.saturating_add(produced.saturating_mul(tap_count(a, scale)));
	}
	total
}

fn axis_taps(a: &ResizeAttrs, axis: usize, rank: usize, input: usize, output: usize) -> Vec<Taps> {
	let scale = axis_scale(a, axis, input, output);
	let in_w = input as f64;
	let out_w = scale * in_w;
	let mut res = Vec::with_capacity(output);
	for xo in 0..output {
		let x = xo as f64;
		let x_ori = match a.coord {
			CoordMode::AlignCorners => {
				if out_w == 1.0 {
					0.0
				} else {
					x * (in_w - 1.0) / (out_w - 1.0)
				}
			}
			CoordMode::Asymmetric => x / scale,
			CoordMode::TfCropAndResize => {
				let (r0, r1) = (a.roi[axis].get() as f64, a.roi[axis + rank].get() as f64);
				let v = if out_w == 1.0 {
					(r1 - r0) * (in_w - 1.0) / 2.0
				} else {
					x * (r1 - r0) * (in_w - 1.0) / (out_w - 1.0)
				} + r0 * (in_w - 1.0);
				if v < 0.0 || v > in_w - 1.0 {
					res.push(None);
					continue;
				}
				v
			}
			CoordMode::PytorchHalfPixel => {
				if out_w == 1.0 {
					-0.5
				} else {
					(x + 0.5) / scale - 0.5
				}
			}
			CoordMode::HalfPixel => (x + 0.5) / scale - 0.5,
			CoordMode::HalfPixelSymmetric => {
				let adjustment = output as f64 / out_w;
				let offset = in_w / 2.0 * (1.0 - adjustment);
				offset + (x + 0.5) / scale - 0.5
			}
		};
		// The left neighbour is preferred: an integral coordinate has ratio 1.
		let mut i0 = libm::floor(x_ori);
		let mut ratio = x_ori - i0;
		if ratio == 0.0 {
			i0 -= 1.0;
			ratio = 1.0;
		}
		let i0 = i0 as i64;
		let clamp = |i: i64| i.clamp(0, input as i64 - 1) as usize;
		let taps: Vec<(i64, f64)> = match a.mode {
			ResizeMode::Nearest => {
				let right = if ratio == 1.0 {
					true
				} else {
					match a.nearest {
						NearestMode::RoundPreferFloor => ratio > 0.5,
						NearestMode::RoundPreferCeil => ratio >= 0.5,
						NearestMode::Floor => false,
						NearestMode::Ceil => true,
					}
				};
				vec![(i0 + right as i64, 1.0)]
			}
			ResizeMode::Linear if a.antialias && scale < 1.0 => {
				let start = antialias_start(1.0, scale);
				let n = 2 - 2 * start;
				(0..n)
					.map(|j| {
						let off = start + j;
						let arg = (off as f64 - ratio) * scale;
						(i0 + off, (1.0 - arg.abs()).clamp(0.0, 1.0))
					})
					.collect()
			}
			ResizeMode::Linear => vec![(i0, 1.0 - ratio), (i0 + 1, ratio)],
			ResizeMode::Cubic if a.antialias && scale < 1.0 => {
				let start = antialias_start(2.0, scale);
				let n = 2 - 2 * start;
				let ca = a.cubic_coeff_a.get() as f64;
				(0..n)
					.map(|j| {
						let off = start + j;
						(
							i0 + off,
							cubic_antialias_coeff(scale * (off as f64 - ratio), ca),
						)
					})
					.collect()
			}
			ResizeMode::Cubic => {
				let c = cubic(ratio, a.cubic_coeff_a.get() as f64);
				(0..4).map(|j| (i0 - 1 + j as i64, c[j])).collect()
			}
		};
		let mut taps = taps;
		let antialiased = a.antialias && scale < 1.0 && a.mode != ResizeMode::Nearest;
		if a.exclude_outside && a.mode != ResizeMode::Nearest {
			for t in taps.iter_mut() {
				if t.0 < 0 || t.0 >= input as i64 {
					t.1 = 0.0;
				}
			}
		}
		if antialiased || (a.exclude_outside && a.mode != ResizeMode::Nearest) {
			let sum: f64 = taps.iter().map(|t| t.1).sum();
			if sum != 0.0 {
				for t in taps.iter_mut() {
					t.1 /= sum;
				}
			}
		}
		res.push(Some(taps.into_iter().map(|(i, w)| (clamp(i), w)).collect()));
	}
	res
}

pub(crate) fn run(op: &Op, inputs: &[Option<&Tensor>]) -> Result<Vec<Tensor>, OpError> {
	let Op::Resize(a) = op else {
		return Err(OpError::Attribute {
			name: "op",
			reason: "not Resize",
		});
	};
	let x = inp(inputs, 0)?;
	let sizes = check(a, &Ty::new(x.dtype(), x.shape().to_vec()))?;
	let rank = x.rank();
	let mut cur_shape = x.shape().to_vec();
	let mut data = x.data().clone();
	let mut flags: Vec<Vec<bool>> = Vec::new();
	let mut any_flag = false;
	for d in 0..rank {
		let (input, output) = (cur_shape[d], sizes[d]);
		let unit = a.scales.is_empty() || a.scales[d].get() == 1.0;
		if input == output && unit && a.coord != CoordMode::TfCropAndResize {
			flags.push(vec![false; output]);
			continue;
		}
		let taps = if input == 0 || output == 0 {
			vec![None; output]
		} else {
			axis_taps(a, d, rank, input, output)
		};
		let f: Vec<bool> = taps.iter().map(|t| t.is_none()).collect();
		any_flag |= f.iter().any(|&b| b);
		flags.push(f);
		let outer: usize = cur_shape[..d].iter().product();
		let inner: usize = cur_shape[d + 1..].iter().product();
		data = match (&data, a.mode) {
			(TensorData::F32(v), ResizeMode::Linear | ResizeMode::Cubic) => {
				let mut out = vec![0f32; outer * output * inner];
				for o in 0..outer {
					for (xo, t) in taps.iter().enumerate() {
						let Some(t) = t else { continue };
						let dst =
							&mut out[(o * output + xo) * inner..(o * output + xo + 1) * inner];
						for &(i, w) in t {
							let w = w as f32;
							let src = &v[(o * input + i) * inner..(o * input + i + 1) * inner];
							for (y, &s) in dst.iter_mut().zip(src) {
								*y = fma(s, w, *y);
							}
						}
					}
				}
				TensorData::F32(out)
			}
			(d, _) => map_data!(d, v => {
				let mut out = Vec::with_capacity(outer * output * inner);
				for o in 0..outer {
					for t in &taps {
						match t.as_ref().and_then(|t| t.first()) {
							Some(&(i, _)) => out.extend_from_slice(&v[(o * input + i) * inner..(o * input + i + 1) * inner]),
							None => out.extend(core::iter::repeat_n(v.first().copied().unwrap_or_default(), inner)),
						}
					}
				}
				out
			}),
		};
		cur_shape[d] = output;
	}
	if any_flag {
		if let TensorData::F32(v) = &mut data {
			let ev = a.extrapolation_value.get();
			let st = super::strides(&cur_shape);
			for (i, y) in v.iter_mut().enumerate() {
				if (0..rank).any(|d| flags[d][(i / st[d]) % cur_shape[d].max(1)]) {
					*y = ev;
				}
			}
		}
	}
	Ok(vec![make(cur_shape, data)?])
}

#[cfg(test)]
mod tests {
	use super::*;
	use crate::ir::F32Bits;

	fn attrs(mode: ResizeMode, antialias: bool, sizes: &[u64]) -> ResizeAttrs {
		ResizeAttrs {
			mode,
			coord: CoordMode::HalfPixel,
			nearest: NearestMode::RoundPreferFloor,
			sizes: sizes.to_vec(),
			scales: vec![],
			roi: vec![],
			cubic_coeff_a: F32Bits::new(-0.75),
			exclude_outside: false,
			extrapolation_value: F32Bits::new(0.0),
			antialias,
		}
	}

	#[test]
	fn work_counts_the_taps_of_every_pass() {
		let (input, output) = ([1, 1, 64, 64], [1, 1, 8, 8]);
		// A cubic kernel at 1/8 scale with antialias spans 2·2·8 = 32 taps: the first pass
		// makes 8 × 64 elements, the second 8 × 8.
		let cubic = attrs(ResizeMode::Cubic, true, &output);
		assert_eq!(work(&cubic, &input, &output), 32 * (8 * 64 + 8 * 8));
		let linear = attrs(ResizeMode::Linear, true, &output);
		assert_eq!(work(&linear, &input, &output), 16 * (8 * 64 + 8 * 8));
		let plain = attrs(ResizeMode::Cubic, false, &output);
		assert_eq!(work(&plain, &input, &output), 4 * (8 * 64 + 8 * 8));
		// Upscaling a single axis: one pass.
		let up = attrs(ResizeMode::Nearest, false, &[1, 1, 64, 128]);
		assert_eq!(work(&up, &input, &[1, 1, 64, 128]), 64 * 128);
	}

	#[test]
	fn work_agrees_with_the_taps_run_uses() {
		let input = [1usize, 1, 40, 24];
		let output = [1usize, 1, 7, 5];
		for mode in [ResizeMode::Nearest, ResizeMode::Linear, ResizeMode::Cubic] {
			for antialias in [false, true] {
				let a = attrs(mode, antialias, &output.map(|d| d as u64));
				let counted: u64 = [2usize, 3]
					.iter()
					.map(|&d| {
						let produced: usize = output[..=d].iter().product::<usize>()
							* input[d + 1..].iter().product::<usize>();
						let taps = axis_taps(&a, d, 4, input[d], output[d]);
						let per = taps[0].as_ref().map_or(0, |t| t.len());
						assert!(taps
							.iter()
							.all(|t| t.as_ref().map_or(0, |t| t.len()) == per));
						(produced * per) as u64
					})
					.sum();
				let inp = input.map(|d| d as u64);
				assert_eq!(
					work(&a, &inp, &output.map(|d| d as u64)),
					counted,
					"{mode:?}"
				);
			}
		}
	}
}
