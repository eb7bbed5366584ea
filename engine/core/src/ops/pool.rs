//! MaxPool, AveragePool, GlobalAveragePool, GlobalMaxPool.
//!
//! **Order.** A window is visited tap by tap in row-major kernel order; taps outside the input
//! (padding, or past the end in `ceil_mode`) are skipped. AveragePool: `acc = +0.0;
//! acc = acc + x` over the visited taps, then `y = acc / count`, where `count` is the number of
//! taps inside the input, or with `count_include_pad` inside the *padded* input (taps past the
//! end pad, possible in `ceil_mode`, are never counted). MaxPool: `y = first tap`, then a later
//! tap replaces it only if strictly greater (so the first maximum wins, which fixes the sign of a
//! zero maximum); a NaN tap makes the result NaN. MaxPool has only the `Y` output (ONNX's
//! optional `Indices` is not in the IR). Global pools visit the whole plane in memory order.

use alloc::{vec, vec::Vec};

use super::{allow_dtypes, arity, elems, inp, make, req, OpError, Ty};
use crate::{
	ir::{Op, PoolAttrs},
	tensor::{DType, Tensor, TensorData},
};

struct PoolGeom {
	n: usize,
	c: usize,
	in_sp: Vec<usize>,
	out_sp: Vec<usize>,
	/// Per axis, per output coordinate: input coordinates of the valid taps, in tap order.
	taps: Vec<Vec<Vec<usize>>>,
	/// Per axis, per output coordinate: taps inside the padded extent.
	padded_count: Vec<Vec<usize>>,
}

fn list(
	v: &[u32],
	n: usize,
	default: usize,
	name: &'static str,
	min: usize,
) -> Result<Vec<usize>, OpError> {
	if v.is_empty() {
		return Ok(vec![default; n]);
	}
	if v.len() != n || v.iter().any(|&x| (x as usize) < min) {
		return Err(OpError::Attribute {
			name,
			reason: "wrong length or value",
		});
	}
	Ok(v.iter().map(|&x| x as usize).collect())
}

/// Pool geometry; the per-coordinate tap lists are built only `with_taps` (not during type
/// inference, and never for an empty output).
fn geom(x: &[usize], a: &PoolAttrs, with_taps: bool) -> Result<PoolGeom, OpError> {
	if x.len() < 3 {
		return Err(OpError::Rank {
			input: 0,
			got: x.len() as u32,
		});
	}
	let s = x.len() - 2;
	let k = list(&a.kernel, s, 0, "kernel_shape", 1)?;
	if a.kernel.len() != s {
		return Err(OpError::Attribute {
			name: "kernel_shape",
			reason: "wrong length",
		});
	}
	let pads = list(&a.pads, 2 * s, 0, "pads", 0)?;
	let st = list(&a.strides, s, 1, "strides", 1)?;
	let dl = list(&a.dilations, s, 1, "dilations", 1)?;
	let mut out_sp = Vec::with_capacity(s);
	let mut taps = Vec::with_capacity(s);
	let mut padded_count = Vec::with_capacity(s);
	for d in 0..s {
		// In `u64`: every attribute is a `u32`, so these sums and products cannot overflow, and
		// they do not depend on the width of `usize` (32 bits in wasm).
		let (i, pb, pe) = (x[d + 2] as u64, pads[d] as u64, pads[d + s] as u64);
		let (k, st, dl) = (k[d] as u64, st[d] as u64, dl[d] as u64);
		if pb >= k * dl || pe >= k * dl {
			return Err(OpError::Attribute {
				name: "pads",
				reason: "pad not smaller than the window",
			});
		}
		let span = i + pb + pe;
		let eff = (k - 1) * dl + 1;
		if span < eff {
			return Err(OpError::Shape {
				reason: "window larger than padded input",
			});
		}
		let mut o = if a.ceil_mode {
			(span - eff).div_ceil(st) + 1
		} else {
			(span - eff) / st + 1
		};
		// The last window must start inside the input or the begin padding.
		if a.ceil_mode && (o - 1) * st >= i + pb {
			o -= 1;
		}
		out_sp.push(usize::try_from(o).map_err(|_| OpError::TooLarge)?);
	}
	let mut out_shape = vec![x[0], x[1]];
	out_shape.extend_from_slice(&out_sp);
	let with_taps = with_taps && elems(&out_shape)? > 0;
	for d in 0..s {
		if !with_taps {
			break;
		}
		// In `i64` (see above); a valid geometry keeps every position within `±2^35`.
		let (i, pb, pe, o) = (
			x[d + 2] as i64,
			pads[d] as i64,
			pads[d + s] as i64,
			out_sp[d],
		);
		let (st, dl) = (st[d] as i64, dl[d] as i64);
		let mut t = Vec::with_capacity(o);
		let mut pc = Vec::with_capacity(o);
		for oi in 0..o {
			let mut v = Vec::new();
			let mut cnt = 0;
			for kk in 0..k[d] {
				let pos = oi as i64 * st + kk as i64 * dl - pb;
				if (0..i).contains(&pos) {
					v.push(pos as usize);
				}
				if pos < i + pe {
					cnt += 1;
				}
			}
			t.push(v);
			pc.push(cnt);
		}
		taps.push(t);
		padded_count.push(pc);
	}
	let g = PoolGeom {
		n: x[0],
		c: x[1],
		in_sp: x[2..].to_vec(),
		out_sp,
		taps,
		padded_count,
	};
	elems(&g.out_shape())?;
	Ok(g)
}

impl PoolGeom {
	fn out_shape(&self) -> Vec<usize> {
		let mut s = vec![self.n, self.c];
		s.extend_from_slice(&self.out_sp);
		s
	}

	/// Calls `f(output position, input offsets of the window's valid taps in order, padded count)`.
	fn for_each_window(&self, mut f: impl FnMut(usize, &[usize], usize)) {
		let s = self.in_sp.len();
		let in_st = super::strides(&self.in_sp);
		let osz: usize = self.out_sp.iter().product();
		let mut opos = vec![0usize; s];
		let mut offs: Vec<usize> = Vec::new();
		let mut next: Vec<usize> = Vec::new();
		if s == 2 {
			// The common case without the generic cartesian product.
			let (oh, ow) = (self.out_sp[0], self.out_sp[1]);
			for oy in 0..oh {
				let ys = &self.taps[0][oy];
				for ox in 0..ow {
					let xs = &self.taps[1][ox];
					offs.clear();
					for &y in ys {
						for &x in xs {
							offs.push(y * in_st[0] + x);
						}
					}
					f(
						oy * ow + ox,
						&offs,
						self.padded_count[0][oy] * self.padded_count[1][ox],
					);
				}
			}
			return;
		}
		for o in 0..osz {
			// Cartesian product of the per-axis tap lists, row-major.
			offs.clear();
			offs.push(0);
			let mut count = 1;
			for d in 0..s {
				let list = &self.taps[d][opos[d]];
				count *= self.padded_count[d][opos[d]];
				next.clear();
				for &base in &offs {
					for &p in list {
						next.push(base + p * in_st[d]);
					}
				}
				core::mem::swap(&mut offs, &mut next);
			}
			f(o, &offs, count);
			for d in (0..s).rev() {
				opos[d] += 1;
				if opos[d] < self.out_sp[d] {
					break;
				}
				opos[d] = 0;
			}
		}
	}
}

pub(crate) fn infer(op: &Op, inputs: &[Option<Ty>]) -> Result<Vec<Ty>, OpError> {
	arity(inputs, 1, 1)?;
	let x = req(inputs, 0)?;
	match op {
		Op::MaxPool { pool } => {
			allow_dtypes(x, 0, &[DType::F32, DType::I8, DType::U8])?;
			Ok(vec![Ty::new(
				x.dtype,
				geom(&x.shape, pool, false)?.out_shape(),
			)])
		}
		Op::AveragePool { pool, .. } => {
			allow_dtypes(x, 0, &[DType::F32])?;
			Ok(vec![Ty::new(
				x.dtype,
				geom(&x.shape, pool, false)?.out_shape(),
			)])
		}
		_ => {
			allow_dtypes(x, 0, &[DType::F32])?;
			if x.rank() < 3 {
				return Err(OpError::Rank {
					input: 0,
					got: x.rank() as u32,
				});
			}
			let mut s = x.shape[..2].to_vec();
			s.extend(core::iter::repeat_n(1, x.rank() - 2));
			Ok(vec![Ty::new(x.dtype, s)])
		}
	}
}

pub(crate) fn run(op: &Op, inputs: &[Option<&Tensor>]) -> Result<Vec<Tensor>, OpError> {
	let x = inp(inputs, 0)?;
	match op {
		Op::MaxPool { pool } => Ok(vec![max_pool(x, pool)?]),
		Op::AveragePool {
			pool,
			count_include_pad,
		} => Ok(vec![avg_pool(x, pool, *count_include_pad)?]),
		Op::GlobalAveragePool | Op::GlobalMaxPool => {
			let v = x.as_f32().map_err(|_| OpError::UnsupportedDType {
				input: 0,
				dtype: x.dtype(),
			})?;
			let (n, c) = (x.shape()[0], x.shape()[1]);
			let plane: usize = x.shape()[2..].iter().product();
			let mut out = Vec::with_capacity(n * c);
			for p in 0..n * c {
				let xs = &v[p * plane..(p + 1) * plane];
				out.push(if matches!(op, Op::GlobalAveragePool) {
					let mut acc = 0f32;
					for &a in xs {
						acc += a;
					}
					acc / plane as f32
				} else {
					max_first(xs.iter().copied()).unwrap_or(f32::NEG_INFINITY)
				});
			}
			let mut s = x.shape()[..2].to_vec();
			s.extend(core::iter::repeat_n(1, x.rank() - 2));
			Ok(vec![make(s, TensorData::F32(out))?])
		}
		_ => Err(OpError::Attribute {
			name: "op",
			reason: "not a pooling op",
		}),
	}
}

/// First maximum (a later value replaces it only if strictly greater); the first NaN wins
/// immediately. `None` for no values.
#[allow(clippy::neg_cmp_op_on_partial_ord)]
fn max_first(it: impl Iterator<Item = f32>) -> Option<f32> {
	let mut best: Option<f32> = None;
	for v in it {
		if v.is_nan() {
			return Some(v);
		}
		match best {
			Some(b) if !(v > b) => {}
			_ => best = Some(v),
		}
	}
	best
}

fn max_pool(x: &Tensor, a: &PoolAttrs) -> Result<Tensor, OpError> {
	let g = geom(x.shape(), a, true)?;
	let isz: usize = g.in_sp.iter().product();
	let osz: usize = g.out_sp.iter().product();
	let planes = g.n * g.c;
	macro_rules! pool_typed {
		($var:ident, $v:expr, $lowest:expr, $pick:expr) => {{
			let mut out = vec![$lowest; planes * osz];
			for p in 0..planes {
				let xs = &$v[p * isz..(p + 1) * isz];
				g.for_each_window(|o, offs, _| {
					if let Some(val) = $pick(offs.iter().map(|&f| xs[f])) {
						out[p * osz + o] = val;
					}
				});
			}
			TensorData::$var(out)
		}};
	}
	fn max_int<T: PartialOrd + Copy>(it: impl Iterator<Item = T>) -> Option<T> {
		it.fold(None, |best, v| match best {
			Some(b) if b >= v => Some(b),
			_ => Some(v),
		})
	}
	let data = match x.data() {
		TensorData::F32(v) if g.in_sp.len() == 2 => {
			// Direct 2-D loop (same selection rule as `max_first`).
			let (w, ow) = (g.in_sp[1], g.out_sp[1]);
			let mut out = vec![f32::NEG_INFINITY; planes * osz];
			for p in 0..planes {
				let xs = &v[p * isz..(p + 1) * isz];
				for (oy, ys) in g.taps[0].iter().enumerate() {
					for (ox, xl) in g.taps[1].iter().enumerate() {
						let (Some(&y0), Some(&x0)) = (ys.first(), xl.first()) else {
							continue;
						};
						let mut bv = xs[y0 * w + x0];
						let mut nan = false;
						for &y in ys {
							let row = &xs[y * w..(y + 1) * w];
							for &xx in xl {
								let val = row[xx];
								nan |= val.is_nan();
								if val > bv {
									bv = val;
								}
							}
						}
						out[p * osz + oy * ow + ox] = if nan { f32::NAN } else { bv };
					}
				}
			}
			TensorData::F32(out)
		}
		TensorData::F32(v) => pool_typed!(F32, v, f32::NEG_INFINITY, max_first),
		TensorData::I8(v) => pool_typed!(I8, v, i8::MIN, max_int),
		TensorData::U8(v) => pool_typed!(U8, v, u8::MIN, max_int),
		d => {
			return Err(OpError::UnsupportedDType {
				input: 0,
				dtype: d.dtype(),
			})
		}
	};
	make(g.out_shape(), data)
}

fn avg_pool(x: &Tensor, a: &PoolAttrs, include_pad: bool) -> Result<Tensor, OpError> {
	let g = geom(x.shape(), a, true)?;
	let v = x.as_f32().map_err(|_| OpError::UnsupportedDType {
		input: 0,
		dtype: x.dtype(),
	})?;
	let isz: usize = g.in_sp.iter().product();
	let osz: usize = g.out_sp.iter().product();
	let planes = g.n * g.c;
	let mut out = vec![0f32; planes * osz];
	for p in 0..planes {
		let xs = &v[p * isz..(p + 1) * isz];
		g.for_each_window(|o, offs, padded| {
			let mut acc = 0f32;
			for &f in offs {
				acc += xs[f];
			}
			let count = if include_pad { padded } else { offs.len() };
			out[p * osz + o] = acc / count as f32;
		});
	}
	make(g.out_shape(), TensorData::F32(out))
}
