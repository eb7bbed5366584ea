//! Data movement: Identity, Reshape, Flatten, Transpose, Concat, Slice, Gather, Squeeze,
//! Unsqueeze, Pad, Cast, ConstantOfShape, Expand, Tile. No arithmetic and no reductions: every
//! output element is a copy of one input element (or a pad constant / a conversion of one).

use alloc::vec::Vec;

use super::{
	arity, broadcast_shapes, elementwise::expand_to, elems, gather_strided, inp, make, map_data,
	opt, req, strides, OpError, Ty,
};
use crate::{
	ir::{Op, PadMode},
	tensor::{DType, Tensor, TensorData},
};

/// Resolved slice of one axis: first index, output length, step.
#[derive(Clone, Copy, Debug)]
struct AxisSlice {
	start: i64,
	len: usize,
	step: i64,
}

fn slice_plan(
	shape: &[usize],
	starts: &[i64],
	ends: &[i64],
	axes: &[u32],
	steps: &[i64],
) -> Result<Vec<AxisSlice>, OpError> {
	if starts.len() != ends.len() || axes.len() != starts.len() || steps.len() != starts.len() {
		return Err(OpError::Attribute {
			name: "starts",
			reason: "starts/ends/axes/steps lengths differ",
		});
	}
	let mut plan: Vec<AxisSlice> = shape
		.iter()
		.map(|&d| AxisSlice {
			start: 0,
			len: d,
			step: 1,
		})
		.collect();
	let mut seen = alloc::vec![false; shape.len()];
	for i in 0..starts.len() {
		let a = axes[i] as usize;
		if a >= shape.len() || seen[a] {
			return Err(OpError::Attribute {
				name: "axes",
				reason: "out of range or repeated",
			});
		}
		seen[a] = true;
		let d = shape[a] as i128;
		let k = steps[i] as i128;
		if k == 0 {
			return Err(OpError::Attribute {
				name: "steps",
				reason: "zero step",
			});
		}
		let mut s = starts[i] as i128;
		let mut e = ends[i] as i128;
		if s < 0 {
			s += d;
		}
		if e < 0 {
			e += d;
		}
		let len = if d == 0 {
			s = 0;
			0
		} else if k > 0 {
			s = s.clamp(0, d);
			e = e.clamp(0, d);
			if e > s {
				(e - s + k - 1) / k
			} else {
				0
			}
		} else {
			s = s.clamp(0, d - 1);
			e = e.clamp(-1, d - 1);
			if s > e {
				(s - e + (-k) - 1) / (-k)
			} else {
				0
			}
		};
		plan[a] = AxisSlice {
			start: s as i64,
			len: len as usize,
			step: k as i64,
		};
	}
	Ok(plan)
}

fn squeeze_shape(shape: &[usize], axes: &[u32]) -> Result<Vec<usize>, OpError> {
	if axes.is_empty() {
		return Ok(shape.iter().copied().filter(|&d| d != 1).collect());
	}
	let mut drop = alloc::vec![false; shape.len()];
	for &a in axes {
		let a = a as usize;
		if a >= shape.len() || drop[a] || shape[a] != 1 {
			return Err(OpError::Attribute {
				name: "axes",
				reason: "not a unique size-1 axis",
			});
		}
		drop[a] = true;
	}
	Ok(shape
		.iter()
		.zip(&drop)
		.filter(|(_, &d)| !d)
		.map(|(&s, _)| s)
		.collect())
}

fn unsqueeze_shape(shape: &[usize], axes: &[u32]) -> Result<Vec<usize>, OpError> {
	let r = shape.len() + axes.len();
	if r > crate::tensor::MAX_RANK {
		return Err(OpError::TooLarge);
	}
	let mut ones = alloc::vec![false; r];
	for &a in axes {
		let a = a as usize;
		if a >= r || ones[a] {
			return Err(OpError::Attribute {
				name: "axes",
				reason: "out of range or repeated",
			});
		}
		ones[a] = true;
	}
	let mut it = shape.iter();
	Ok(ones
		.iter()
		.map(|&o| if o { 1 } else { *it.next().unwrap_or(&1) })
		.collect())
}

fn to_usize(v: &[u64]) -> Result<Vec<usize>, OpError> {
	v.iter()
		.map(|&d| usize::try_from(d).map_err(|_| OpError::TooLarge))
		.collect()
}

/// Output shape of `Tile`, each length multiplied in `u64`, so that a repeat count beyond
/// `usize` (32 bits in wasm) of an empty axis gives an empty axis on every target.
fn tile_shape(shape: &[usize], repeats: &[u64]) -> Result<Vec<usize>, OpError> {
	shape
		.iter()
		.zip(repeats)
		.map(|(&d, &r)| {
			let n = (d as u64).checked_mul(r).ok_or(OpError::TooLarge)?;
			usize::try_from(n).map_err(|_| OpError::TooLarge)
		})
		.collect()
}

/// Output shape of `Pad` (checked without building the maps).
fn pad_shape(shape: &[usize], pads: &[i64], mode: PadMode) -> Result<Vec<usize>, OpError> {
	let r = shape.len();
	if pads.len() != 2 * r {
		return Err(OpError::Attribute {
			name: "pads",
			reason: "must have 2 × rank values",
		});
	}
	let mut out = Vec::with_capacity(r);
	for a in 0..r {
		let d = shape[a] as i128;
		let o = d + pads[a] as i128 + pads[a + r] as i128;
		if o < 0 || o > crate::tensor::MAX_ELEMENTS as i128 {
			return Err(OpError::Attribute {
				name: "pads",
				reason: "negative or too large output",
			});
		}
		if d == 0 && o > 0 && mode != PadMode::Constant {
			return Err(OpError::Shape {
				reason: "cannot reflect/edge/wrap-pad an empty axis",
			});
		}
		out.push(o as usize);
	}
	elems(&out)?;
	Ok(out)
}

/// Per-axis source coordinate of every output position of `Pad` (`None` = constant). Only
/// called for a non-empty output, so every axis is at most the output size.
fn pad_maps(
	shape: &[usize],
	pads: &[i64],
	mode: PadMode,
) -> Result<Vec<Vec<Option<usize>>>, OpError> {
	let r = shape.len();
	if pads.len() != 2 * r {
		return Err(OpError::Attribute {
			name: "pads",
			reason: "must have 2 × rank values",
		});
	}
	let mut maps = Vec::with_capacity(r);
	for a in 0..r {
		let d = shape[a] as i128;
		let (b, e) = (pads[a] as i128, pads[a + r] as i128);
		let out = d + b + e;
		if out < 0 || out > crate::tensor::MAX_ELEMENTS as i128 {
			return Err(OpError::Attribute {
				name: "pads",
				reason: "negative or too large output",
			});
		}
		if d == 0 && out > 0 && mode != PadMode::Constant {
			return Err(OpError::Shape {
				reason: "cannot reflect/edge/wrap-pad an empty axis",
			});
		}
		let mut map = Vec::with_capacity(out as usize);
		for p in 0..out {
			let c = p - b;
			map.push(if (0..d).contains(&c) {
				Some(c as usize)
			} else {
				match mode {
					PadMode::Constant => None,
					PadMode::Edge => Some(c.clamp(0, d - 1) as usize),
					PadMode::Wrap => Some(c.rem_euclid(d) as usize),
					PadMode::Reflect => {
						if d == 1 {
							Some(0)
						} else {
							let period = 2 * (d - 1);
							let m = c.rem_euclid(period);
							Some(if m >= d { period - m } else { m } as usize)
						}
					}
				}
			});
		}
		maps.push(map);
	}
	Ok(maps)
}

/// Builds a tensor whose element at multi-index `p` is `src[maps[0][p0], maps[1][p1], …]`, or
/// `fill` where any map entry is `None`.
fn remap<T: Copy>(src: &[T], shape: &[usize], maps: &[Vec<Option<usize>>], fill: T) -> Vec<T> {
	let oshape: Vec<usize> = maps.iter().map(|m| m.len()).collect();
	let n: usize = oshape.iter().product();
	let mut out = Vec::with_capacity(n);
	if n == 0 {
		return out;
	}
	let st = strides(shape);
	let r = shape.len();
	if r == 0 {
		out.push(src[0]);
		return out;
	}
	// Offsets along each axis (None = fill).
	let offs: Vec<Vec<Option<usize>>> = maps
		.iter()
		.enumerate()
		.map(|(a, m)| m.iter().map(|c| c.map(|c| c * st[a])).collect())
		.collect();
	let mut idx = alloc::vec![0usize; r];
	loop {
		let mut base = Some(0usize);
		for a in 0..r - 1 {
			base = match (base, offs[a][idx[a]]) {
				(Some(b), Some(o)) => Some(b + o),
				_ => None,
			};
		}
		match base {
			None => out.extend(core::iter::repeat_n(fill, oshape[r - 1])),
			Some(b) => out.extend(offs[r - 1].iter().map(|o| match o {
				Some(o) => src[b + o],
				None => fill,
			})),
		}
		let mut d = r - 1;
		loop {
			if d == 0 {
				return out;
			}
			d -= 1;
			idx[d] += 1;
			if idx[d] < oshape[d] {
				break;
			}
			idx[d] = 0;
		}
	}
}

pub(crate) fn infer(op: &Op, inputs: &[Option<Ty>]) -> Result<Vec<Ty>, OpError> {
	if let Op::ConstantOfShape { value, shape } = op {
		arity(inputs, 0, 0)?;
		if value.len() != 1 {
			return Err(OpError::Attribute {
				name: "value",
				reason: "must have one element",
			});
		}
		let shape = to_usize(shape)?;
		elems(&shape)?;
		return Ok(alloc::vec![Ty::new(value.dtype(), shape)]);
	}
	if let Op::Concat { axis } = op {
		arity(inputs, 1, crate::ir::MAX_NODE_ARITY)?;
		let x0 = req(inputs, 0)?;
		let a = *axis as usize;
		if a >= x0.rank() {
			return Err(OpError::Attribute {
				name: "axis",
				reason: "out of range",
			});
		}
		let mut shape = x0.shape.clone();
		shape[a] = 0;
		for i in 0..inputs.len() {
			let x = req(inputs, i)?;
			super::want_dtype(x, i, x0.dtype)?;
			if x.rank() != x0.rank()
				|| x.shape
					.iter()
					.zip(&x0.shape)
					.enumerate()
					.any(|(j, (p, q))| j != a && p != q)
			{
				return Err(OpError::Shape {
					reason: "Concat inputs differ off the axis",
				});
			}
			shape[a] = shape[a].checked_add(x.shape[a]).ok_or(OpError::TooLarge)?;
		}
		elems(&shape)?;
		return Ok(alloc::vec![Ty::new(x0.dtype, shape)]);
	}
	let n_in = match op {
		Op::Gather { .. } => 2,
		Op::Pad { .. } => 1,
		_ => 1,
	};
	let max_in = if matches!(op, Op::Pad { .. }) {
		2
	} else {
		n_in
	};
	arity(inputs, n_in, max_in)?;
	let x = req(inputs, 0)?;
	let dt = x.dtype;
	let one = |shape: Vec<usize>| -> Result<Vec<Ty>, OpError> {
		elems(&shape)?;
		Ok(alloc::vec![Ty::new(dt, shape)])
	};
	match op {
		Op::Identity => one(x.shape.clone()),
		Op::Reshape { shape } => {
			let shape = to_usize(shape)?;
			if elems(&shape)? != elems(&x.shape)? {
				return Err(OpError::Shape {
					reason: "Reshape changes the element count",
				});
			}
			one(shape)
		}
		Op::Flatten { axis } => {
			let a = *axis as usize;
			if a > x.rank() {
				return Err(OpError::Attribute {
					name: "axis",
					reason: "out of range",
				});
			}
			one(alloc::vec![
				x.shape[..a].iter().product(),
				x.shape[a..].iter().product()
			])
		}
		Op::Transpose { perm } => {
			if perm.len() != x.rank() {
				return Err(OpError::Attribute {
					name: "perm",
					reason: "length differs from rank",
				});
			}
			let mut seen = alloc::vec![false; perm.len()];
			for &p in perm {
				let p = p as usize;
				if p >= perm.len() || seen[p] {
					return Err(OpError::Attribute {
						name: "perm",
						reason: "not a permutation",
					});
				}
				seen[p] = true;
			}
			one(perm.iter().map(|&p| x.shape[p as usize]).collect())
		}
		Op::Slice {
			starts,
			ends,
			axes,
			steps,
		} => {
			let plan = slice_plan(&x.shape, starts, ends, axes, steps)?;
			one(plan.iter().map(|p| p.len).collect())
		}
		Op::Gather { axis } => {
			let idx = req(inputs, 1)?;
			super::allow_dtypes(idx, 1, &[DType::I64, DType::I32])?;
			let a = *axis as usize;
			if a >= x.rank() {
				return Err(OpError::Attribute {
					name: "axis",
					reason: "out of range",
				});
			}
			let mut shape = x.shape[..a].to_vec();
			shape.extend_from_slice(&idx.shape);
			shape.extend_from_slice(&x.shape[a + 1..]);
			if shape.len() > crate::tensor::MAX_RANK {
				return Err(OpError::TooLarge);
			}
			one(shape)
		}
		Op::Squeeze { axes } => one(squeeze_shape(&x.shape, axes)?),
		Op::Unsqueeze { axes } => one(unsqueeze_shape(&x.shape, axes)?),
		Op::Pad { mode, pads } => {
			if let Some(c) = opt(inputs, 1) {
				super::want_dtype(c, 1, dt)?;
				if elems(&c.shape)? != 1 {
					return Err(OpError::Shape {
						reason: "Pad constant must be a scalar",
					});
				}
			}
			one(pad_shape(&x.shape, pads, *mode)?)
		}
		Op::Cast { to } => Ok(alloc::vec![Ty::new(*to, x.shape.clone())]),
		Op::Expand { shape } => one(broadcast_shapes(&x.shape, &to_usize(shape)?)?),
		Op::Tile { repeats } => {
			if repeats.len() != x.rank() {
				return Err(OpError::Attribute {
					name: "repeats",
					reason: "length differs from rank",
				});
			}
			one(tile_shape(&x.shape, repeats)?)
		}
		_ => Err(OpError::Attribute {
			name: "op",
			reason: "not a shape op",
		}),
	}
}

pub(crate) fn run(op: &Op, inputs: &[Option<&Tensor>]) -> Result<Vec<Tensor>, OpError> {
	if let Op::ConstantOfShape { value, shape } = op {
		let shape = to_usize(shape)?;
		let n = elems(&shape)?;
		let data = map_data!(value.data(), v => alloc::vec![v[0]; n]);
		return Ok(alloc::vec![make(shape, data)?]);
	}
	if let Op::Concat { axis } = op {
		let xs: Vec<&Tensor> = (0..inputs.len())
			.map(|i| inp(inputs, i))
			.collect::<Result<_, _>>()?;
		return Ok(alloc::vec![concat(&xs, *axis as usize)?]);
	}
	let x = inp(inputs, 0)?;
	let shape = x.shape();
	let copy = |new_shape: Vec<usize>| make(new_shape, x.data().clone());
	let t = match op {
		Op::Identity => x.clone(),
		Op::Reshape { shape: s } => copy(to_usize(s)?)?,
		Op::Flatten { axis } => {
			let a = *axis as usize;
			copy(alloc::vec![
				shape[..a].iter().product(),
				shape[a..].iter().product()
			])?
		}
		Op::Squeeze { axes } => copy(squeeze_shape(shape, axes)?)?,
		Op::Unsqueeze { axes } => copy(unsqueeze_shape(shape, axes)?)?,
		Op::Transpose { perm } => {
			let st = strides(shape);
			let pst: Vec<isize> = perm.iter().map(|&p| st[p as usize] as isize).collect();
			let osh: Vec<usize> = perm.iter().map(|&p| shape[p as usize]).collect();
			let data = map_data!(x.data(), v => gather_strided(v, 0, &pst, &osh));
			make(osh, data)?
		}
		Op::Slice {
			starts,
			ends,
			axes,
			steps,
		} => {
			let plan = slice_plan(shape, starts, ends, axes, steps)?;
			let st = strides(shape);
			let osh: Vec<usize> = plan.iter().map(|p| p.len).collect();
			let data = if osh.contains(&0) {
				map_data!(x.data(), _v => Vec::new())
			} else {
				let base: isize = plan
					.iter()
					.zip(&st)
					.map(|(p, &s)| p.start as isize * s as isize)
					.sum();
				let pst: Vec<isize> = plan
					.iter()
					.zip(&st)
					.map(|(p, &s)| p.step as isize * s as isize)
					.collect();
				map_data!(x.data(), v => gather_strided(v, base, &pst, &osh))
			};
			make(osh, data)?
		}
		Op::Gather { axis } => gather(x, inp(inputs, 1)?, *axis as usize)?,
		Op::Pad { mode, pads } => {
			let maps = pad_maps(shape, pads, *mode)?;
			let osh: Vec<usize> = maps.iter().map(|m| m.len()).collect();
			let c = super::opt(inputs, 1).copied();
			macro_rules! fill {
				($var:ident, $zero:expr) => {
					match c.map(|c| c.data()) {
						Some(TensorData::$var(v)) => v.first().copied().unwrap_or($zero),
						_ => $zero,
					}
				};
			}
			let data = match x.data() {
				TensorData::F32(v) => TensorData::F32(remap(v, shape, &maps, fill!(F32, 0.0))),
				TensorData::I64(v) => TensorData::I64(remap(v, shape, &maps, fill!(I64, 0))),
				TensorData::I32(v) => TensorData::I32(remap(v, shape, &maps, fill!(I32, 0))),
				TensorData::I8(v) => TensorData::I8(remap(v, shape, &maps, fill!(I8, 0))),
				TensorData::U8(v) => TensorData::U8(remap(v, shape, &maps, fill!(U8, 0))),
				TensorData::Bool(v) => TensorData::Bool(remap(v, shape, &maps, fill!(Bool, false))),
			};
			make(osh, data)?
		}
		Op::Cast { to } => make(shape.to_vec(), cast(x.data(), *to))?,
		Op::Expand { shape: s } => {
			let osh = broadcast_shapes(shape, &to_usize(s)?)?;
			let data = map_data!(x.data(), v => expand_to(v, shape, &osh));
			make(osh, data)?
		}
		Op::Tile { repeats } => {
			let osh = tile_shape(shape, repeats)?;
			if osh.contains(&0) {
				// Without the maps, which another axis could make as long as `MAX_ELEMENTS`.
				return Ok(alloc::vec![make(
					osh,
					map_data!(x.data(), _v => Vec::new())
				)?]);
			}
			let maps: Vec<Vec<Option<usize>>> = shape
				.iter()
				.zip(&osh)
				.map(|(&d, &o)| (0..o).map(|p| Some(p % d)).collect())
				.collect();
			let data = match x.data() {
				TensorData::F32(v) => TensorData::F32(remap(v, shape, &maps, 0.0)),
				TensorData::I64(v) => TensorData::I64(remap(v, shape, &maps, 0)),
				TensorData::I32(v) => TensorData::I32(remap(v, shape, &maps, 0)),
				TensorData::I8(v) => TensorData::I8(remap(v, shape, &maps, 0)),
				TensorData::U8(v) => TensorData::U8(remap(v, shape, &maps, 0)),
				TensorData::Bool(v) => TensorData::Bool(remap(v, shape, &maps, false)),
			};
			make(osh, data)?
		}
		_ => {
			return Err(OpError::Attribute {
				name: "op",
				reason: "not a shape op",
			})
		}
	};
	Ok(alloc::vec![t])
}

/// Concatenation: for each outer index, the inputs' blocks in input order.
pub fn concat(xs: &[&Tensor], axis: usize) -> Result<Tensor, OpError> {
	let x0 = xs.first().ok_or(OpError::MissingInput { index: 0 })?;
	let outer: usize = x0.shape()[..axis].iter().product();
	let inner: usize = x0.shape()[axis + 1..].iter().product();
	let mut osh = x0.shape().to_vec();
	osh[axis] = xs.iter().map(|x| x.shape()[axis]).sum();
	macro_rules! cat {
		($var:ident) => {{
			let parts: Vec<&[_]> = xs
				.iter()
				.enumerate()
				.map(|(i, x)| match x.data() {
					TensorData::$var(v) => Ok(v.as_slice()),
					d => Err(OpError::DTypeMismatch {
						input: i as u32,
						expected: x0.dtype(),
						got: d.dtype(),
					}),
				})
				.collect::<Result<_, _>>()?;
			let mut out = Vec::with_capacity(osh.iter().product());
			for o in 0..outer {
				for (x, p) in xs.iter().zip(&parts) {
					let blk = x.shape()[axis] * inner;
					out.extend_from_slice(&p[o * blk..(o + 1) * blk]);
				}
			}
			TensorData::$var(out)
		}};
	}
	let data = match x0.dtype() {
		DType::F32 => cat!(F32),
		DType::I64 => cat!(I64),
		DType::I32 => cat!(I32),
		DType::I8 => cat!(I8),
		DType::U8 => cat!(U8),
		DType::Bool => cat!(Bool),
	};
	make(osh, data)
}

/// Gather: for each outer index and each index (negative counts from the end), one block.
pub fn gather(x: &Tensor, indices: &Tensor, axis: usize) -> Result<Tensor, OpError> {
	let shape = x.shape();
	let d = shape[axis];
	let outer: usize = shape[..axis].iter().product();
	let inner: usize = shape[axis + 1..].iter().product();
	let idx: Vec<i64> = match indices.data() {
		TensorData::I64(v) => v.clone(),
		TensorData::I32(v) => v.iter().map(|&i| i as i64).collect(),
		dt => {
			return Err(OpError::UnsupportedDType {
				input: 1,
				dtype: dt.dtype(),
			})
		}
	};
	let mut pos = Vec::with_capacity(idx.len());
	for &i in &idx {
		let j = if i < 0 { i + d as i64 } else { i };
		if j < 0 || j >= d as i64 {
			return Err(OpError::IndexOutOfRange {
				index: i,
				len: d as u64,
			});
		}
		pos.push(j as usize);
	}
	let mut osh = shape[..axis].to_vec();
	osh.extend_from_slice(indices.shape());
	osh.extend_from_slice(&shape[axis + 1..]);
	let data = map_data!(x.data(), v => {
		let mut out = Vec::with_capacity(outer * pos.len() * inner);
		for o in 0..outer {
			for &p in &pos {
				let b = (o * d + p) * inner;
				out.extend_from_slice(&v[b..b + inner]);
			}
		}
		out
	});
	make(osh, data)
}

/// Element type conversion. Float → integer saturates (NaN → 0, Rust `as`); integer → narrower
/// integer wraps; integer → float rounds to nearest even; → Bool is `x != 0` (NaN → true).
pub fn cast(d: &TensorData, to: DType) -> TensorData {
	use super::elementwise::{to_f32_vec, to_i64_vec};
	match (d, to) {
		(_, DType::F32) => TensorData::F32(to_f32_vec(d)),
		(TensorData::F32(v), DType::I64) => TensorData::I64(v.iter().map(|&x| x as i64).collect()),
		(TensorData::F32(v), DType::I32) => TensorData::I32(v.iter().map(|&x| x as i32).collect()),
		(TensorData::F32(v), DType::I8) => TensorData::I8(v.iter().map(|&x| x as i8).collect()),
		(TensorData::F32(v), DType::U8) => TensorData::U8(v.iter().map(|&x| x as u8).collect()),
		(TensorData::F32(v), DType::Bool) => {
			TensorData::Bool(v.iter().map(|&x| x != 0.0).collect())
		}
		(_, DType::I64) => TensorData::I64(to_i64_vec(d)),
		(_, DType::I32) => TensorData::I32(to_i64_vec(d).into_iter().map(|x| x as i32).collect()),
		(_, DType::I8) => TensorData::I8(to_i64_vec(d).into_iter().map(|x| x as i8).collect()),
		(_, DType::U8) => TensorData::U8(to_i64_vec(d).into_iter().map(|x| x as u8).collect()),
		(_, DType::Bool) => TensorData::Bool(to_i64_vec(d).into_iter().map(|x| x != 0).collect()),
	}
}
