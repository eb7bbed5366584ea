//! Activations: Relu, LeakyRelu, PRelu, Elu, Selu, Sigmoid, HardSigmoid, HardSwish, Tanh,
//! Softplus, Gelu, Clip (elementwise, no reduction) and Softmax / LogSoftmax.
//!
//! Formulas are evaluated exactly as written in each kernel's doc, left to right, one IEEE
//! operation at a time (Rust never contracts `a * b + c`), with `libm` transcendentals.

use alloc::vec::Vec;

use super::{
	allow_dtypes, arity, broadcast_shapes, elementwise::bcast2, inp, make, opt, req, OpError, Ty,
};
use crate::{
	ir::Op,
	tensor::{DType, Tensor, TensorData},
};

pub(crate) fn infer(op: &Op, inputs: &[Option<Ty>]) -> Result<Vec<Ty>, OpError> {
	match op {
		Op::Relu => {
			arity(inputs, 1, 1)?;
			let x = req(inputs, 0)?;
			allow_dtypes(x, 0, &[DType::F32, DType::I64, DType::I32, DType::I8])?;
			Ok(alloc::vec![x.clone()])
		}
		Op::PRelu => {
			arity(inputs, 2, 2)?;
			let (x, s) = (req(inputs, 0)?, req(inputs, 1)?);
			allow_dtypes(x, 0, &[DType::F32])?;
			super::want_dtype(s, 1, DType::F32)?;
			// Slope broadcasts unidirectionally to X.
			if broadcast_shapes(&x.shape, &s.shape)? != x.shape {
				return Err(OpError::Broadcast);
			}
			Ok(alloc::vec![x.clone()])
		}
		Op::Clip => {
			arity(inputs, 1, 3)?;
			let x = req(inputs, 0)?;
			allow_dtypes(
				x,
				0,
				&[DType::F32, DType::I64, DType::I32, DType::I8, DType::U8],
			)?;
			for i in 1..inputs.len() {
				if let Some(b) = opt(inputs, i) {
					super::want_dtype(b, i, x.dtype)?;
					if super::elems(&b.shape)? != 1 {
						return Err(OpError::Shape {
							reason: "Clip bounds must be scalars",
						});
					}
				}
			}
			Ok(alloc::vec![x.clone()])
		}
		Op::Softmax { axis, coerce_2d: _ } | Op::LogSoftmax { axis, coerce_2d: _ } => {
			arity(inputs, 1, 1)?;
			let x = req(inputs, 0)?;
			allow_dtypes(x, 0, &[DType::F32])?;
			if (*axis as usize) >= x.rank() {
				return Err(OpError::Attribute {
					name: "axis",
					reason: "out of range",
				});
			}
			Ok(alloc::vec![x.clone()])
		}
		_ => {
			arity(inputs, 1, 1)?;
			let x = req(inputs, 0)?;
			allow_dtypes(x, 0, &[DType::F32])?;
			Ok(alloc::vec![x.clone()])
		}
	}
}

/// `1 / (1 + exp(-x))` for `x >= 0`, `e / (1 + e)` with `e = exp(x)` otherwise.
#[inline]
pub fn sigmoid(x: f32) -> f32 {
	if x >= 0.0 {
		1.0 / (1.0 + libm::expf(-x))
	} else {
		let e = libm::expf(x);
		e / (1.0 + e)
	}
}

fn map_f32(x: &Tensor, f: impl Fn(f32) -> f32) -> Result<Tensor, OpError> {
	let v = x.as_f32().map_err(|_| OpError::UnsupportedDType {
		input: 0,
		dtype: x.dtype(),
	})?;
	make(
		x.shape().to_vec(),
		TensorData::F32(v.iter().map(|&a| f(a)).collect()),
	)
}

pub(crate) fn run(op: &Op, inputs: &[Option<&Tensor>]) -> Result<Vec<Tensor>, OpError> {
	let x = inp(inputs, 0)?;
	let t = match op {
		// `x < 0 ? 0 : x` (−0 and NaN pass through).
		Op::Relu => match x.data() {
			TensorData::F32(v) => make(
				x.shape().to_vec(),
				TensorData::F32(v.iter().map(|&a| if a < 0.0 { 0.0 } else { a }).collect()),
			)?,
			TensorData::I64(v) => make(
				x.shape().to_vec(),
				TensorData::I64(v.iter().map(|&a| a.max(0)).collect()),
			)?,
			TensorData::I32(v) => make(
				x.shape().to_vec(),
				TensorData::I32(v.iter().map(|&a| a.max(0)).collect()),
			)?,
			TensorData::I8(v) => make(
				x.shape().to_vec(),
				TensorData::I8(v.iter().map(|&a| a.max(0)).collect()),
			)?,
			d => {
				return Err(OpError::UnsupportedDType {
					input: 0,
					dtype: d.dtype(),
				})
			}
		},
		// `x < 0 ? alpha * x : x`.
		Op::LeakyRelu { alpha } => {
			let a = alpha.get();
			map_f32(x, |v| if v < 0.0 { a * v } else { v })?
		}
		// `x < 0 ? slope * x : x`, slope broadcast to X.
		Op::PRelu => {
			let s = inp(inputs, 1)?;
			let (xv, sv) = match (x.data(), s.data()) {
				(TensorData::F32(a), TensorData::F32(b)) => (a, b),
				_ => {
					return Err(OpError::UnsupportedDType {
						input: 0,
						dtype: x.dtype(),
					})
				}
			};
			let out = bcast2(xv, x.shape(), sv, s.shape(), x.shape(), |v, k| {
				if v < 0.0 {
					k * v
				} else {
					v
				}
			});
			make(x.shape().to_vec(), TensorData::F32(out))?
		}
		// `x < 0 ? alpha * (exp(x) - 1) : x`.
		Op::Elu { alpha } => {
			let a = alpha.get();
			map_f32(x, |v| {
				if v < 0.0 {
					a * (libm::expf(v) - 1.0)
				} else {
					v
				}
			})?
		}
		// `x > 0 ? gamma * x : gamma * (alpha * (exp(x) - 1))`.
		Op::Selu { alpha, gamma } => {
			let (a, g) = (alpha.get(), gamma.get());
			map_f32(x, |v| {
				if v > 0.0 {
					g * v
				} else {
					g * (a * (libm::expf(v) - 1.0))
				}
			})?
		}
		Op::Sigmoid => map_f32(x, sigmoid)?,
		// `y = alpha * x + beta; y < 0 ? 0 : (y > 1 ? 1 : y)`.
		Op::HardSigmoid { alpha, beta } => {
			let (a, b) = (alpha.get(), beta.get());
			map_f32(x, |v| hard_sigmoid(v, a, b))?
		}
		// `x * HardSigmoid(x; 1/6, 1/2)`.
		Op::HardSwish => map_f32(x, |v| v * hard_sigmoid(v, 1.0 / 6.0, 0.5))?,
		Op::Tanh => map_f32(x, libm::tanhf)?,
		// `log(exp(x) + 1)`.
		Op::Softplus => map_f32(x, |v| libm::logf(libm::expf(v) + 1.0))?,
		// `0.5 * x * (1 + erf(x / sqrt(2)))`, or with `tanh(sqrt(2/pi) * (x + 0.044715 x^3))`.
		Op::Gelu { tanh_approx } => {
			if *tanh_approx {
				let k = libm::sqrtf(2.0 / core::f32::consts::PI);
				map_f32(x, |v| {
					0.5 * v * (1.0 + libm::tanhf(k * (v + 0.044715 * (v * v * v))))
				})?
			} else {
				map_f32(x, |v| {
					0.5 * v * (1.0 + libm::erff(v / core::f32::consts::SQRT_2))
				})?
			}
		}
		Op::Clip => clip(
			x,
			super::opt(inputs, 1).copied(),
			super::opt(inputs, 2).copied(),
		)?,
		Op::Softmax { axis, coerce_2d } => softmax(x, *axis as usize, *coerce_2d, false)?,
		Op::LogSoftmax { axis, coerce_2d } => softmax(x, *axis as usize, *coerce_2d, true)?,
		_ => {
			return Err(OpError::Attribute {
				name: "op",
				reason: "not an activation",
			})
		}
	};
	Ok(alloc::vec![t])
}

#[inline]
fn hard_sigmoid(v: f32, a: f32, b: f32) -> f32 {
	// `clamp` lets NaN through, like the comparisons it replaces.
	(a * v + b).clamp(0.0, 1.0)
}

/// `y = x < min ? min : x; y = y > max ? max : y` (so `max` wins if `min > max`; NaN passes).
fn clip(x: &Tensor, lo: Option<&Tensor>, hi: Option<&Tensor>) -> Result<Tensor, OpError> {
	macro_rules! clip_typed {
		($var:ident, $v:expr) => {{
			let bound = |t: Option<&Tensor>| match t.map(|t| t.data()) {
				Some(TensorData::$var(b)) => b.first().copied(),
				_ => None,
			};
			let (lo, hi) = (bound(lo), bound(hi));
			TensorData::$var(
				$v.iter()
					.map(|&a| {
						let mut y = a;
						if let Some(l) = lo {
							if y < l {
								y = l;
							}
						}
						if let Some(h) = hi {
							if y > h {
								y = h;
							}
						}
						y
					})
					.collect(),
			)
		}};
	}
	let data = match x.data() {
		TensorData::F32(v) => clip_typed!(F32, v),
		TensorData::I64(v) => clip_typed!(I64, v),
		TensorData::I32(v) => clip_typed!(I32, v),
		TensorData::I8(v) => clip_typed!(I8, v),
		TensorData::U8(v) => clip_typed!(U8, v),
		d => {
			return Err(OpError::UnsupportedDType {
				input: 0,
				dtype: d.dtype(),
			})
		}
	};
	make(x.shape().to_vec(), data)
}

/// Softmax / LogSoftmax over `axis` (or, with `coerce_2d`, over all axes from `axis` on).
///
/// Order, per reduced vector `x[0..n]`: `m = max` (first to last; any NaN gives NaN);
/// `e[i] = exp(x[i] - m)`; `s = 0; s = s + e[i]` for `i` ascending; then `y[i] = e[i] / s`, or
/// for LogSoftmax `y[i] = (x[i] - m) - log(s)`.
pub fn softmax(x: &Tensor, axis: usize, coerce_2d: bool, log: bool) -> Result<Tensor, OpError> {
	let v = x.as_f32().map_err(|_| OpError::UnsupportedDType {
		input: 0,
		dtype: x.dtype(),
	})?;
	let shape = x.shape();
	if axis >= shape.len() {
		return Err(OpError::Attribute {
			name: "axis",
			reason: "out of range",
		});
	}
	let outer: usize = shape[..axis].iter().product();
	let (n, inner) = if coerce_2d {
		(shape[axis..].iter().product::<usize>(), 1)
	} else {
		(shape[axis], shape[axis + 1..].iter().product::<usize>())
	};
	let mut out = alloc::vec![0f32; v.len()];
	let mut e = alloc::vec![0f32; n];
	for o in 0..outer {
		for j in 0..inner {
			let base = o * n * inner + j;
			let at = |i: usize| base + i * inner;
			let mut m = f32::NEG_INFINITY;
			let mut nan = false;
			for i in 0..n {
				let a = v[at(i)];
				if a.is_nan() {
					nan = true;
				} else if a > m {
					m = a;
				}
			}
			if nan {
				for i in 0..n {
					out[at(i)] = f32::NAN;
				}
				continue;
			}
			let mut s = 0f32;
			for (i, ei) in e.iter_mut().enumerate() {
				*ei = libm::expf(v[at(i)] - m);
				s += *ei;
			}
			if log {
				let ls = libm::logf(s);
				for i in 0..n {
					out[at(i)] = (v[at(i)] - m) - ls;
				}
			} else {
				for (i, ei) in e.iter().enumerate() {
					out[at(i)] = ei / s;
				}
			}
		}
	}
	make(shape.to_vec(), TensorData::F32(out))
}
