//! Reductions (ReduceSum/Mean/Max/Min/Prod/SumSquare/L1/L2/LogSum/LogSumExp) and ArgMax/ArgMin.
//!
//! **Order.** For each output element the reduced input elements are visited in ascending
//! row-major order of the input (never split, never reassociated):
//! * Sum/Mean/L1/LogSum: `acc = +0.0; acc = acc + x` (L1 adds `|x|`); Mean divides by the count,
//!   LogSum takes `log(acc)`.
//! * SumSquare/L2: `acc = +0.0; acc = fma(x, x, acc)`; L2 takes `sqrt(acc)`.
//! * Prod: `acc = 1; acc = acc * x`. Max/Min: first element, then strict comparisons; NaN
//!   propagates.
//! * LogSumExp: `m = Max`; if `m` is infinite the result is `m`, else `s = +0.0;
//!   s = s + exp(x - m)` and the result is `m + log(s)`.
//! * Integer Sum/Prod/SumSquare/L1 wrap; integer Mean truncates.
//!
//! ArgMax/ArgMin: first (or with `select_last_index`, last) position of the extremum along the
//! axis; a NaN counts as the extremum.

use alloc::{vec, vec::Vec};

use super::{
	allow_dtypes, arity,
	elementwise::{fmax_nan, fmin_nan, Int},
	inp, make, req, strides, OpError, Ty,
};
use crate::{
	ir::{Op, ReduceKind},
	linalg::fma,
	tensor::{DType, Tensor, TensorData},
};

fn reduced_shape(shape: &[usize], axes: &[u32], keepdims: bool) -> Result<Vec<usize>, OpError> {
	for w in axes.windows(2) {
		if w[0] >= w[1] {
			return Err(OpError::Attribute {
				name: "axes",
				reason: "must be ascending and unique",
			});
		}
	}
	if axes.iter().any(|&a| a as usize >= shape.len()) {
		return Err(OpError::Attribute {
			name: "axes",
			reason: "out of range",
		});
	}
	let mut out = Vec::with_capacity(shape.len());
	for (i, &d) in shape.iter().enumerate() {
		if axes.contains(&(i as u32)) {
			if keepdims {
				out.push(1);
			}
		} else {
			out.push(d);
		}
	}
	Ok(out)
}

pub(crate) fn infer(op: &Op, inputs: &[Option<Ty>]) -> Result<Vec<Ty>, OpError> {
	arity(inputs, 1, 1)?;
	let x = req(inputs, 0)?;
	match op {
		Op::Reduce {
			kind,
			axes,
			keepdims,
		} => {
			match kind {
				ReduceKind::L2 | ReduceKind::LogSum | ReduceKind::LogSumExp => {
					allow_dtypes(x, 0, &[DType::F32])?
				}
				_ => allow_dtypes(
					x,
					0,
					&[DType::F32, DType::I64, DType::I32, DType::I8, DType::U8],
				)?,
			}
			Ok(vec![Ty::new(
				x.dtype,
				reduced_shape(&x.shape, axes, *keepdims)?,
			)])
		}
		Op::ArgExtremum { axis, keepdims, .. } => {
			allow_dtypes(
				x,
				0,
				&[DType::F32, DType::I64, DType::I32, DType::I8, DType::U8],
			)?;
			Ok(vec![Ty::new(
				DType::I64,
				reduced_shape(&x.shape, &[*axis], *keepdims)?,
			)])
		}
		_ => Err(OpError::Attribute {
			name: "op",
			reason: "not a reduction",
		}),
	}
}

/// For each output element (row-major), calls `f` with the input offsets of its reduced
/// elements in ascending order.
fn for_each_group(
	shape: &[usize],
	axes: &[u32],
	mut f: impl FnMut(&mut dyn Iterator<Item = usize>),
) {
	let st = strides(shape);
	let (mut kept, mut red) = (Vec::new(), Vec::new());
	for (i, &d) in shape.iter().enumerate() {
		if axes.contains(&(i as u32)) {
			red.push((d, st[i]));
		} else {
			kept.push((d, st[i]));
		}
	}
	let n_out: usize = kept.iter().map(|k| k.0).product();
	let n_red: usize = red.iter().map(|k| k.0).product();
	let mut kidx = vec![0usize; kept.len()];
	let mut ridx = vec![0usize; red.len()];
	for _ in 0..n_out {
		let base: usize = kidx.iter().zip(&kept).map(|(i, k)| i * k.1).sum();
		ridx.iter_mut().for_each(|r| *r = 0);
		let mut left = n_red;
		let mut it = core::iter::from_fn(|| {
			if left == 0 {
				return None;
			}
			left -= 1;
			let off = base + ridx.iter().zip(&red).map(|(i, r)| i * r.1).sum::<usize>();
			for d in (0..red.len()).rev() {
				ridx[d] += 1;
				if ridx[d] < red[d].0 {
					break;
				}
				ridx[d] = 0;
			}
			Some(off)
		});
		f(&mut it);
		for d in (0..kept.len()).rev() {
			kidx[d] += 1;
			if kidx[d] < kept[d].0 {
				break;
			}
			kidx[d] = 0;
		}
	}
}

fn reduce_f32(kind: ReduceKind, v: &[f32], shape: &[usize], axes: &[u32]) -> Vec<f32> {
	let mut out = Vec::new();
	for_each_group(shape, axes, |it| {
		let vals = it.map(|o| v[o]);
		let r = match kind {
			ReduceKind::Sum | ReduceKind::Mean | ReduceKind::LogSum => {
				let (mut acc, mut n) = (0f32, 0usize);
				for x in vals {
					acc += x;
					n += 1;
				}
				match kind {
					ReduceKind::Mean => acc / n as f32,
					ReduceKind::LogSum => libm::logf(acc),
					_ => acc,
				}
			}
			ReduceKind::L1 => vals.fold(0f32, |a, x| a + libm::fabsf(x)),
			ReduceKind::SumSquare => vals.fold(0f32, |a, x| fma(x, x, a)),
			ReduceKind::L2 => libm::sqrtf(vals.fold(0f32, |a, x| fma(x, x, a))),
			ReduceKind::Prod => vals.fold(1f32, |a, x| a * x),
			ReduceKind::Max => vals.reduce(fmax_nan).unwrap_or(f32::NEG_INFINITY),
			ReduceKind::Min => vals.reduce(fmin_nan).unwrap_or(f32::INFINITY),
			ReduceKind::LogSumExp => {
				let xs: Vec<f32> = vals.collect();
				let m = xs
					.iter()
					.copied()
					.reduce(fmax_nan)
					.unwrap_or(f32::NEG_INFINITY);
				if m.is_infinite() {
					m
				} else {
					let mut s = 0f32;
					for &x in &xs {
						s += libm::expf(x - m);
					}
					m + libm::logf(s)
				}
			}
		};
		out.push(r);
	});
	out
}

fn reduce_int<T: Int>(kind: ReduceKind, v: &[T], shape: &[usize], axes: &[u32]) -> Vec<T> {
	let mut out = Vec::new();
	for_each_group(shape, axes, |it| {
		let mut vals = it.map(|o| v[o]);
		let zero = T::default();
		let r = match kind {
			ReduceKind::Max => vals
				.reduce(|a, x| if x > a { x } else { a })
				.unwrap_or(T::MIN),
			ReduceKind::Min => vals
				.reduce(|a, x| if x < a { x } else { a })
				.unwrap_or(T::MAX),
			ReduceKind::Prod => vals.fold(T::from_i64_wrapping(1), |a, x| a.wmul(x)),
			ReduceKind::SumSquare => vals.fold(zero, |a, x| a.wadd(x.wmul(x))),
			ReduceKind::L1 => vals.fold(zero, |a, x| a.wadd(x.wabs())),
			ReduceKind::Mean => {
				let (mut acc, mut n) = (zero, 0i64);
				for x in vals.by_ref() {
					acc = acc.wadd(x);
					n += 1;
				}
				acc.div0(T::from_i64_wrapping(n))
			}
			_ => vals.fold(zero, |a, x| a.wadd(x)),
		};
		out.push(r);
	});
	out
}

fn arg_f32(max: bool, last: bool) -> impl Fn(f32, f32) -> bool {
	// Whether `v` replaces the current best `b`.
	move |v: f32, b: f32| {
		if b.is_nan() {
			return last && v.is_nan();
		}
		if v.is_nan() {
			return true;
		}
		if last {
			if max {
				v >= b
			} else {
				v <= b
			}
		} else if max {
			v > b
		} else {
			v < b
		}
	}
}

fn arg<T: Copy>(v: &[T], shape: &[usize], axis: u32, better: impl Fn(T, T) -> bool) -> Vec<i64> {
	let mut out = Vec::new();
	for_each_group(shape, &[axis], |it| {
		let mut best: Option<(T, i64)> = None;
		for (i, o) in it.enumerate() {
			let x = v[o];
			match best {
				Some((b, _)) if !better(x, b) => {}
				_ => best = Some((x, i as i64)),
			}
		}
		out.push(best.map(|b| b.1).unwrap_or(0));
	});
	out
}

pub(crate) fn run(op: &Op, inputs: &[Option<&Tensor>]) -> Result<Vec<Tensor>, OpError> {
	let x = inp(inputs, 0)?;
	let shape = x.shape();
	let t = match op {
		Op::Reduce {
			kind,
			axes,
			keepdims,
		} => {
			let osh = reduced_shape(shape, axes, *keepdims)?;
			if axes.is_empty() {
				make(osh, x.data().clone())?
			} else {
				let data = match x.data() {
					TensorData::F32(v) => TensorData::F32(reduce_f32(*kind, v, shape, axes)),
					TensorData::I64(v) => TensorData::I64(reduce_int(*kind, v, shape, axes)),
					TensorData::I32(v) => TensorData::I32(reduce_int(*kind, v, shape, axes)),
					TensorData::I8(v) => TensorData::I8(reduce_int(*kind, v, shape, axes)),
					TensorData::U8(v) => TensorData::U8(reduce_int(*kind, v, shape, axes)),
					d => {
						return Err(OpError::UnsupportedDType {
							input: 0,
							dtype: d.dtype(),
						})
					}
				};
				make(osh, data)?
			}
		}
		Op::ArgExtremum {
			max,
			axis,
			keepdims,
			select_last_index,
		} => {
			let osh = reduced_shape(shape, &[*axis], *keepdims)?;
			let (mx, last) = (*max, *select_last_index);
			fn int_better<T: PartialOrd>(mx: bool, last: bool) -> impl Fn(T, T) -> bool {
				move |v: T, b: T| match (mx, last) {
					(true, false) => v > b,
					(true, true) => v >= b,
					(false, false) => v < b,
					(false, true) => v <= b,
				}
			}
			let idx = match x.data() {
				TensorData::F32(v) => arg(v, shape, *axis, arg_f32(mx, last)),
				TensorData::I64(v) => arg(v, shape, *axis, int_better(mx, last)),
				TensorData::I32(v) => arg(v, shape, *axis, int_better(mx, last)),
				TensorData::I8(v) => arg(v, shape, *axis, int_better(mx, last)),
				TensorData::U8(v) => arg(v, shape, *axis, int_better(mx, last)),
				d => {
					return Err(OpError::UnsupportedDType {
						input: 0,
						dtype: d.dtype(),
					})
				}
			};
			make(osh, TensorData::I64(idx))?
		}
		_ => {
			return Err(OpError::Attribute {
				name: "op",
				reason: "not a reduction",
			})
		}
	};
	Ok(vec![t])
}
