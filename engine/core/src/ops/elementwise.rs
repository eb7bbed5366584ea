//! Elementwise ops: unary math, binary arithmetic / comparison / logic with multidirectional
//! (numpy) broadcasting, variadic Sum/Mean/Min/Max, and Where.
//!
//! No reductions here except the variadic fold, whose order is the input order:
//! `acc = x0; acc = acc ⊕ x1; …` (Mean then divides by the input count). Integer arithmetic
//! wraps (two's complement); integer division or remainder by zero yields 0. Float min/max
//! propagate NaN. Transcendentals come from `libm`.

use alloc::vec::Vec;

use super::{
	allow_dtypes, arity, broadcast_shapes, broadcast_strides, for_each_row, gather_strided, inp,
	make, req, OpError, Ty,
};
use crate::{
	ir::{BinaryOp, Op, UnaryOp, VariadicOp},
	tensor::{DType, Tensor, TensorData},
};

const NUMERIC: &[DType] = &[DType::F32, DType::I64, DType::I32, DType::I8, DType::U8];
const SIGNED: &[DType] = &[DType::F32, DType::I64, DType::I32, DType::I8];
const ALL: &[DType] = &DType::ALL;

/// Integer arithmetic with the engine's defined overflow behaviour.
pub(crate) trait Int: Copy + PartialOrd + PartialEq + Default {
	const MIN: Self;
	const MAX: Self;
	fn wadd(self, o: Self) -> Self;
	fn wsub(self, o: Self) -> Self;
	fn wmul(self, o: Self) -> Self;
	fn wneg(self) -> Self;
	fn wabs(self) -> Self;
	/// Truncating division; 0 when dividing by 0.
	fn div0(self, o: Self) -> Self;
	/// Remainder with the sign of the divisor; 0 for a zero divisor.
	fn rem_floor(self, o: Self) -> Self;
	/// Remainder with the sign of the dividend; 0 for a zero divisor.
	fn rem_trunc(self, o: Self) -> Self;
	/// Wrapping power; negative exponents give the truncated reciprocal power.
	fn wpow(self, e: i64) -> Self;
	fn to_f64(self) -> f64;
	/// Saturating conversion (NaN → 0).
	fn from_f64(v: f64) -> Self;
	fn from_i64_wrapping(v: i64) -> Self;
}

macro_rules! impl_int {
	($($t:ty),*) => {$(
		impl Int for $t {
			const MIN: Self = <$t>::MIN;
			const MAX: Self = <$t>::MAX;
			fn wadd(self, o: Self) -> Self { self.wrapping_add(o) }
			fn wsub(self, o: Self) -> Self { self.wrapping_sub(o) }
			fn wmul(self, o: Self) -> Self { self.wrapping_mul(o) }
			#[allow(clippy::unnecessary_cast)]
			fn wneg(self) -> Self { (0 as $t).wrapping_sub(self) }
			#[allow(unused_comparisons)]
			fn wabs(self) -> Self { if self < (0 as $t) { self.wneg() } else { self } }
			fn div0(self, o: Self) -> Self { if o == 0 { 0 } else { self.wrapping_div(o) } }
			#[allow(unused_comparisons)]
			fn rem_floor(self, o: Self) -> Self {
				if o == 0 { return 0; }
				let r = self.wrapping_rem(o);
				if r != 0 && ((r < 0) != (o < 0)) { r.wrapping_add(o) } else { r }
			}
			fn rem_trunc(self, o: Self) -> Self { if o == 0 { 0 } else { self.wrapping_rem(o) } }
			#[allow(unused_comparisons)]
			fn wpow(self, e: i64) -> Self {
				if e < 0 {
					// |base| > 1 gives a fraction that truncates to 0.
					return if self == (1 as $t) {
						1 as $t
					} else if self == (0 as $t).wsub(1 as $t) && self < (0 as $t) {
						if e % 2 == 0 { 1 as $t } else { self }
					} else {
						0 as $t
					};
				}
				let (mut base, mut e, mut acc) = (self, e as u64, 1 as $t);
				while e > 0 {
					if e & 1 == 1 { acc = acc.wrapping_mul(base); }
					base = base.wrapping_mul(base);
					e >>= 1;
				}
				acc
			}
			fn to_f64(self) -> f64 { self as f64 }
			fn from_f64(v: f64) -> Self { v as $t }
			fn from_i64_wrapping(v: i64) -> Self { v as $t }
		}
	)*};
}
impl_int!(i64, i32, i8, u8);

/// Float max with NaN propagation; ties keep the first operand.
#[inline]
pub(crate) fn fmax_nan(a: f32, b: f32) -> f32 {
	if a.is_nan() || b.is_nan() {
		f32::NAN
	} else if b > a {
		b
	} else {
		a
	}
}

/// Float min with NaN propagation; ties keep the first operand.
#[inline]
pub(crate) fn fmin_nan(a: f32, b: f32) -> f32 {
	if a.is_nan() || b.is_nan() {
		f32::NAN
	} else if b < a {
		b
	} else {
		a
	}
}

/// Applies `f` elementwise with multidirectional broadcasting of `a` and `b` to `osh`.
pub(crate) fn bcast2<A: Copy, B: Copy, O>(
	a: &[A],
	ash: &[usize],
	b: &[B],
	bsh: &[usize],
	osh: &[usize],
	f: impl Fn(A, B) -> O,
) -> Vec<O> {
	if ash == osh && bsh == osh {
		return a.iter().zip(b).map(|(&x, &y)| f(x, y)).collect();
	}
	if b.len() == 1 && ash == osh {
		let y = b[0];
		return a.iter().map(|&x| f(x, y)).collect();
	}
	if a.len() == 1 && bsh == osh {
		let x = a[0];
		return b.iter().map(|&y| f(x, y)).collect();
	}
	let n: usize = osh.iter().product();
	let mut out = Vec::with_capacity(n);
	let sa = broadcast_strides(ash, osh);
	let sb = broadcast_strides(bsh, osh);
	let inner = osh.last().copied().unwrap_or(1);
	let ia = sa.last().copied().unwrap_or(0);
	let ib = sb.last().copied().unwrap_or(0);
	for_each_row(osh, [&sa, &sb], |[oa, ob]| match (ia, ib) {
		(1, 1) => out.extend(
			a[oa..oa + inner]
				.iter()
				.zip(&b[ob..ob + inner])
				.map(|(&x, &y)| f(x, y)),
		),
		(1, 0) => {
			let y = b[ob];
			out.extend(a[oa..oa + inner].iter().map(|&x| f(x, y)))
		}
		(0, 1) => {
			let x = a[oa];
			out.extend(b[ob..ob + inner].iter().map(|&y| f(x, y)))
		}
		_ => {
			for t in 0..inner {
				out.push(f(a[oa + t * ia], b[ob + t * ib]));
			}
		}
	});
	out
}

/// `src` (shape `sh`) broadcast to `osh` (which must be a valid broadcast target).
pub(crate) fn expand_to<T: Copy>(src: &[T], sh: &[usize], osh: &[usize]) -> Vec<T> {
	if sh == osh {
		return src.to_vec();
	}
	let st: Vec<isize> = broadcast_strides(sh, osh)
		.into_iter()
		.map(|s| s as isize)
		.collect();
	gather_strided(src, 0, &st, osh)
}

pub(crate) fn infer(op: &Op, inputs: &[Option<Ty>]) -> Result<Vec<Ty>, OpError> {
	match op {
		Op::Unary(u) => {
			arity(inputs, 1, 1)?;
			let x = req(inputs, 0)?;
			let allowed: &[DType] = match u {
				UnaryOp::Neg | UnaryOp::Sign => SIGNED,
				UnaryOp::Abs => NUMERIC,
				UnaryOp::Not => &[DType::Bool],
				_ => &[DType::F32],
			};
			allow_dtypes(x, 0, allowed)?;
			let dtype = if *u == UnaryOp::IsNaN {
				DType::Bool
			} else {
				x.dtype
			};
			Ok(alloc::vec![Ty::new(dtype, x.shape.clone())])
		}
		Op::Binary(b) => {
			arity(inputs, 2, 2)?;
			let (x, y) = (req(inputs, 0)?, req(inputs, 1)?);
			let shape = broadcast_shapes(&x.shape, &y.shape)?;
			let out = match b {
				BinaryOp::Pow => {
					allow_dtypes(x, 0, &[DType::F32, DType::I64, DType::I32])?;
					allow_dtypes(y, 1, NUMERIC)?;
					x.dtype
				}
				_ => {
					let allowed: &[DType] = match b {
						BinaryOp::Add
						| BinaryOp::Sub
						| BinaryOp::Mul
						| BinaryOp::Div
						| BinaryOp::Fmod
						| BinaryOp::Less
						| BinaryOp::LessOrEqual
						| BinaryOp::Greater
						| BinaryOp::GreaterOrEqual => NUMERIC,
						BinaryOp::Mod => &[DType::I64, DType::I32, DType::I8, DType::U8],
						BinaryOp::And | BinaryOp::Or | BinaryOp::Xor => &[DType::Bool],
						BinaryOp::Equal => ALL,
						BinaryOp::Pow => NUMERIC,
					};
					allow_dtypes(x, 0, allowed)?;
					super::want_dtype(y, 1, x.dtype)?;
					match b {
						BinaryOp::Equal
						| BinaryOp::Less
						| BinaryOp::LessOrEqual
						| BinaryOp::Greater
						| BinaryOp::GreaterOrEqual => DType::Bool,
						_ => x.dtype,
					}
				}
			};
			Ok(alloc::vec![Ty::new(out, shape)])
		}
		Op::Variadic(v) => {
			arity(inputs, 1, crate::ir::MAX_NODE_ARITY)?;
			let x0 = req(inputs, 0)?;
			let allowed: &[DType] = match v {
				VariadicOp::Mean => &[DType::F32],
				_ => NUMERIC,
			};
			allow_dtypes(x0, 0, allowed)?;
			let mut shape = x0.shape.clone();
			for i in 1..inputs.len() {
				let x = req(inputs, i)?;
				super::want_dtype(x, i, x0.dtype)?;
				shape = broadcast_shapes(&shape, &x.shape)?;
			}
			Ok(alloc::vec![Ty::new(x0.dtype, shape)])
		}
		Op::Where => {
			arity(inputs, 3, 3)?;
			let (c, x, y) = (req(inputs, 0)?, req(inputs, 1)?, req(inputs, 2)?);
			super::want_dtype(c, 0, DType::Bool)?;
			super::want_dtype(y, 2, x.dtype)?;
			let shape = broadcast_shapes(&broadcast_shapes(&c.shape, &x.shape)?, &y.shape)?;
			Ok(alloc::vec![Ty::new(x.dtype, shape)])
		}
		_ => unreachable_op(),
	}
}

fn unreachable_op() -> Result<Vec<Ty>, OpError> {
	Err(OpError::Attribute {
		name: "op",
		reason: "not an elementwise op",
	})
}

pub(crate) fn run(op: &Op, inputs: &[Option<&Tensor>]) -> Result<Vec<Tensor>, OpError> {
	let t = match op {
		Op::Unary(u) => unary(*u, inp(inputs, 0)?)?,
		Op::Binary(b) => binary(*b, inp(inputs, 0)?, inp(inputs, 1)?)?,
		Op::Variadic(v) => {
			let xs: Vec<&Tensor> = (0..inputs.len())
				.map(|i| inp(inputs, i))
				.collect::<Result<_, _>>()?;
			variadic(*v, &xs)?
		}
		Op::Where => where_(inp(inputs, 0)?, inp(inputs, 1)?, inp(inputs, 2)?)?,
		_ => {
			return Err(OpError::Attribute {
				name: "op",
				reason: "not an elementwise op",
			})
		}
	};
	Ok(alloc::vec![t])
}

/// Unary math, one element at a time (no reduction).
pub fn unary(u: UnaryOp, x: &Tensor) -> Result<Tensor, OpError> {
	let shape = x.shape().to_vec();
	macro_rules! int_map {
		($v:expr, $f:expr) => {
			match $v {
				TensorData::I64(v) => TensorData::I64(v.iter().map(|&a| $f(a)).collect()),
				TensorData::I32(v) => TensorData::I32(v.iter().map(|&a| $f(a)).collect()),
				TensorData::I8(v) => TensorData::I8(v.iter().map(|&a| $f(a)).collect()),
				TensorData::U8(v) => TensorData::U8(v.iter().map(|&a| $f(a)).collect()),
				other => {
					return Err(OpError::UnsupportedDType {
						input: 0,
						dtype: other.dtype(),
					})
				}
			}
		};
	}
	let data = match (u, x.data()) {
		(UnaryOp::Not, TensorData::Bool(v)) => TensorData::Bool(v.iter().map(|b| !b).collect()),
		(UnaryOp::IsNaN, TensorData::F32(v)) => {
			TensorData::Bool(v.iter().map(|a| a.is_nan()).collect())
		}
		(_, TensorData::F32(v)) => {
			let f: fn(f32) -> f32 = match u {
				UnaryOp::Neg => |a| -a,
				UnaryOp::Abs => |a: f32| f32::from_bits(a.to_bits() & 0x7fff_ffff),
				UnaryOp::Sqrt => libm::sqrtf,
				UnaryOp::Exp => libm::expf,
				UnaryOp::Log => libm::logf,
				UnaryOp::Reciprocal => |a| 1.0 / a,
				UnaryOp::Floor => libm::floorf,
				UnaryOp::Ceil => libm::ceilf,
				UnaryOp::Round => libm::rintf,
				UnaryOp::Sign => |a: f32| {
					if a > 0.0 {
						1.0
					} else if a < 0.0 {
						-1.0
					} else if a.is_nan() {
						a
					} else {
						0.0
					}
				},
				UnaryOp::Erf => libm::erff,
				UnaryOp::Sin => libm::sinf,
				UnaryOp::Cos => libm::cosf,
				UnaryOp::Not | UnaryOp::IsNaN => {
					return Err(OpError::UnsupportedDType {
						input: 0,
						dtype: DType::F32,
					})
				}
			};
			TensorData::F32(v.iter().map(|&a| f(a)).collect())
		}
		(UnaryOp::Neg, d) => int_map!(d, Int::wneg),
		(UnaryOp::Abs, d) => int_map!(d, Int::wabs),
		(UnaryOp::Sign, d) => int_map!(d, int_sign),
		(_, d) => {
			return Err(OpError::UnsupportedDType {
				input: 0,
				dtype: d.dtype(),
			})
		}
	};
	make(shape, data)
}

fn int_sign<T: Int>(a: T) -> T {
	if a > T::default() {
		T::from_i64_wrapping(1)
	} else if a < T::default() {
		T::from_i64_wrapping(-1)
	} else {
		T::default()
	}
}

fn int_arith<T: Int>(
	op: BinaryOp,
	a: &[T],
	ash: &[usize],
	b: &[T],
	bsh: &[usize],
	osh: &[usize],
) -> Vec<T> {
	match op {
		BinaryOp::Add => bcast2(a, ash, b, bsh, osh, T::wadd),
		BinaryOp::Sub => bcast2(a, ash, b, bsh, osh, T::wsub),
		BinaryOp::Mul => bcast2(a, ash, b, bsh, osh, T::wmul),
		BinaryOp::Div => bcast2(a, ash, b, bsh, osh, T::div0),
		BinaryOp::Mod => bcast2(a, ash, b, bsh, osh, T::rem_floor),
		_ => bcast2(a, ash, b, bsh, osh, T::rem_trunc),
	}
}

fn compare<T: Copy + PartialOrd>(
	op: BinaryOp,
	a: &[T],
	ash: &[usize],
	b: &[T],
	bsh: &[usize],
	osh: &[usize],
) -> Vec<bool> {
	match op {
		BinaryOp::Equal => bcast2(a, ash, b, bsh, osh, |x, y| x == y),
		BinaryOp::Less => bcast2(a, ash, b, bsh, osh, |x, y| x < y),
		BinaryOp::LessOrEqual => bcast2(a, ash, b, bsh, osh, |x, y| x <= y),
		BinaryOp::Greater => bcast2(a, ash, b, bsh, osh, |x, y| x > y),
		_ => bcast2(a, ash, b, bsh, osh, |x, y| x >= y),
	}
}

/// Values of a numeric tensor as `f32` (integers rounded to nearest).
pub(crate) fn to_f32_vec(d: &TensorData) -> Vec<f32> {
	match d {
		TensorData::F32(v) => v.clone(),
		TensorData::I64(v) => v.iter().map(|&x| x as f32).collect(),
		TensorData::I32(v) => v.iter().map(|&x| x as f32).collect(),
		TensorData::I8(v) => v.iter().map(|&x| x as f32).collect(),
		TensorData::U8(v) => v.iter().map(|&x| x as f32).collect(),
		TensorData::Bool(v) => v.iter().map(|&x| x as u8 as f32).collect(),
	}
}

/// Values of a tensor as `i64` (floats saturate, NaN → 0).
pub(crate) fn to_i64_vec(d: &TensorData) -> Vec<i64> {
	match d {
		TensorData::F32(v) => v.iter().map(|&x| x as i64).collect(),
		TensorData::I64(v) => v.clone(),
		TensorData::I32(v) => v.iter().map(|&x| x as i64).collect(),
		TensorData::I8(v) => v.iter().map(|&x| x as i64).collect(),
		TensorData::U8(v) => v.iter().map(|&x| x as i64).collect(),
		TensorData::Bool(v) => v.iter().map(|&x| x as i64).collect(),
	}
}

fn int_pow<T: Int>(a: &[T], ash: &[usize], e: &TensorData, bsh: &[usize], osh: &[usize]) -> Vec<T> {
	match e {
		TensorData::F32(ev) => bcast2(a, ash, ev, bsh, osh, |x: T, y: f32| {
			T::from_f64(libm::pow(x.to_f64(), y as f64))
		}),
		other => {
			let ev = to_i64_vec(other);
			bcast2(a, ash, &ev, bsh, osh, |x: T, y: i64| x.wpow(y))
		}
	}
}

/// Binary op with broadcasting, one element at a time (no reduction).
pub fn binary(op: BinaryOp, a: &Tensor, b: &Tensor) -> Result<Tensor, OpError> {
	let osh = broadcast_shapes(a.shape(), b.shape())?;
	let (ash, bsh) = (a.shape(), b.shape());
	let mismatch = || OpError::DTypeMismatch {
		input: 1,
		expected: a.dtype(),
		got: b.dtype(),
	};
	use BinaryOp::*;
	let data = match op {
		Pow => match a.data() {
			TensorData::F32(x) => {
				let e = to_f32_vec(b.data());
				TensorData::F32(bcast2(x, ash, &e, bsh, &osh, libm::powf))
			}
			TensorData::I64(x) => TensorData::I64(int_pow(x, ash, b.data(), bsh, &osh)),
			TensorData::I32(x) => TensorData::I32(int_pow(x, ash, b.data(), bsh, &osh)),
			d => {
				return Err(OpError::UnsupportedDType {
					input: 0,
					dtype: d.dtype(),
				})
			}
		},
		Add | Sub | Mul | Div | Mod | Fmod => match (a.data(), b.data()) {
			(TensorData::F32(x), TensorData::F32(y)) => TensorData::F32(match op {
				Add => bcast2(x, ash, y, bsh, &osh, |p, q| p + q),
				Sub => bcast2(x, ash, y, bsh, &osh, |p, q| p - q),
				Mul => bcast2(x, ash, y, bsh, &osh, |p, q| p * q),
				Div => bcast2(x, ash, y, bsh, &osh, |p, q| p / q),
				Fmod => bcast2(x, ash, y, bsh, &osh, libm::fmodf),
				_ => {
					return Err(OpError::UnsupportedDType {
						input: 0,
						dtype: DType::F32,
					})
				}
			}),
			(TensorData::I64(x), TensorData::I64(y)) => {
				TensorData::I64(int_arith(op, x, ash, y, bsh, &osh))
			}
			(TensorData::I32(x), TensorData::I32(y)) => {
				TensorData::I32(int_arith(op, x, ash, y, bsh, &osh))
			}
			(TensorData::I8(x), TensorData::I8(y)) => {
				TensorData::I8(int_arith(op, x, ash, y, bsh, &osh))
			}
			(TensorData::U8(x), TensorData::U8(y)) => {
				TensorData::U8(int_arith(op, x, ash, y, bsh, &osh))
			}
			_ => return Err(mismatch()),
		},
		And | Or | Xor => match (a.data(), b.data()) {
			(TensorData::Bool(x), TensorData::Bool(y)) => TensorData::Bool(match op {
				And => bcast2(x, ash, y, bsh, &osh, |p, q| p & q),
				Or => bcast2(x, ash, y, bsh, &osh, |p, q| p | q),
				_ => bcast2(x, ash, y, bsh, &osh, |p, q| p ^ q),
			}),
			_ => return Err(mismatch()),
		},
		Equal | Less | LessOrEqual | Greater | GreaterOrEqual => {
			TensorData::Bool(match (a.data(), b.data()) {
				(TensorData::F32(x), TensorData::F32(y)) => compare(op, x, ash, y, bsh, &osh),
				(TensorData::I64(x), TensorData::I64(y)) => compare(op, x, ash, y, bsh, &osh),
				(TensorData::I32(x), TensorData::I32(y)) => compare(op, x, ash, y, bsh, &osh),
				(TensorData::I8(x), TensorData::I8(y)) => compare(op, x, ash, y, bsh, &osh),
				(TensorData::U8(x), TensorData::U8(y)) => compare(op, x, ash, y, bsh, &osh),
				(TensorData::Bool(x), TensorData::Bool(y)) => compare(op, x, ash, y, bsh, &osh),
				_ => return Err(mismatch()),
			})
		}
	};
	make(osh, data)
}

fn fold_int<T: Int>(op: VariadicOp, acc: &[T], osh: &[usize], x: &[T], xsh: &[usize]) -> Vec<T> {
	match op {
		VariadicOp::Sum | VariadicOp::Mean => bcast2(acc, osh, x, xsh, osh, T::wadd),
		VariadicOp::Min => bcast2(acc, osh, x, xsh, osh, |a, b| if b < a { b } else { a }),
		VariadicOp::Max => bcast2(acc, osh, x, xsh, osh, |a, b| if b > a { b } else { a }),
	}
}

/// Variadic Sum/Mean/Min/Max: per output element, `acc = x0`, then `acc = acc ⊕ xi` for
/// `i = 1, 2, …` in input order; Mean divides the sum by the input count at the end.
pub fn variadic(op: VariadicOp, xs: &[&Tensor]) -> Result<Tensor, OpError> {
	let first = xs.first().ok_or(OpError::MissingInput { index: 0 })?;
	let mut osh = first.shape().to_vec();
	for x in &xs[1..] {
		osh = broadcast_shapes(&osh, x.shape())?;
	}
	let mut acc = super::map_data!(first.data(), v => expand_to(v, first.shape(), &osh));
	for (i, x) in xs.iter().enumerate().skip(1) {
		let xsh = x.shape();
		acc = match (&acc, x.data()) {
			(TensorData::F32(a), TensorData::F32(b)) => TensorData::F32(match op {
				VariadicOp::Sum | VariadicOp::Mean => bcast2(a, &osh, b, xsh, &osh, |p, q| p + q),
				VariadicOp::Min => bcast2(a, &osh, b, xsh, &osh, fmin_nan),
				VariadicOp::Max => bcast2(a, &osh, b, xsh, &osh, fmax_nan),
			}),
			(TensorData::I64(a), TensorData::I64(b)) => {
				TensorData::I64(fold_int(op, a, &osh, b, xsh))
			}
			(TensorData::I32(a), TensorData::I32(b)) => {
				TensorData::I32(fold_int(op, a, &osh, b, xsh))
			}
			(TensorData::I8(a), TensorData::I8(b)) => TensorData::I8(fold_int(op, a, &osh, b, xsh)),
			(TensorData::U8(a), TensorData::U8(b)) => TensorData::U8(fold_int(op, a, &osh, b, xsh)),
			_ => {
				return Err(OpError::DTypeMismatch {
					input: i as u32,
					expected: first.dtype(),
					got: x.dtype(),
				})
			}
		};
	}
	if op == VariadicOp::Mean {
		if let TensorData::F32(v) = &mut acc {
			let n = xs.len() as f32;
			for a in v.iter_mut() {
				*a /= n;
			}
		}
	}
	make(osh, acc)
}

/// `cond ? x : y` with three-way broadcasting (no arithmetic).
pub fn where_(c: &Tensor, x: &Tensor, y: &Tensor) -> Result<Tensor, OpError> {
	let osh = broadcast_shapes(&broadcast_shapes(c.shape(), x.shape())?, y.shape())?;
	let cv = match c.data() {
		TensorData::Bool(v) => expand_to(v, c.shape(), &osh),
		d => {
			return Err(OpError::DTypeMismatch {
				input: 0,
				expected: DType::Bool,
				got: d.dtype(),
			})
		}
	};
	macro_rules! sel {
		($($var:ident),*) => {
			match (x.data(), y.data()) {
				$((TensorData::$var(a), TensorData::$var(b)) => {
					let a = expand_to(a, x.shape(), &osh);
					let b = expand_to(b, y.shape(), &osh);
					TensorData::$var(cv.iter().zip(a.iter().zip(b)).map(|(&c, (&p, q))| if c { p } else { q }).collect())
				},)*
				_ => return Err(OpError::DTypeMismatch { input: 2, expected: x.dtype(), got: y.dtype() }),
			}
		};
	}
	let data = sel!(F32, I64, I32, I8, U8, Bool);
	make(osh, data)
}
