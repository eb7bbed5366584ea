//! Conv and ConvTranspose (float), plus the geometry and im2col shared with the integer convs.
//!
//! **Conv reduction order.** Every output element `y[n][m][o…]` starts from `acc = B[m]` (or
//! `+0.0` without bias) and does `acc = fma(x, w, acc)` over the taps in the order of the
//! flattened weight row `(c, k_0, k_1, …)` ascending (input channel within the group, then the
//! kernel positions row-major). Taps that fall in the padding are *included*, with `x = +0.0`.
//! The im2col+GEMM path, the depthwise path and every `Isa` / thread count follow this order.
//!
//! FusedConv then computes `y = acc + z` (one IEEE add, if Z is given) and the activation,
//! exactly as the unfused `Add` and activation ops would.
//!
//! **ConvTranspose reduction order.** Every output element starts from `acc = B[m]` (or `+0.0`)
//! and does `acc = fma(x[c][i…], w[c][m][k…], acc)` over the pairs `(c, k…)` in ascending order
//! (input channel of the group, then kernel position row-major) for which an input position
//! `i…` with `o = i·stride − pad_begin + k·dilation` exists; pairs without one contribute nothing.

use alloc::{vec, vec::Vec};

use super::{allow_dtypes, arity, elems, inp, make, opt, req, Ctx, OpError, Ty};
use crate::{
	ir::{Activation, ConvAttrs, ConvTransposeAttrs, Op},
	linalg::{
		axpy, axpy_strided,
		gemm::{gemm, BOperand, MatRef, PackB, NR},
		Isa,
	},
	tensor::{DType, Tensor, TensorData, MAX_ELEMENTS},
};

/// Resolved convolution geometry.
#[derive(Clone, Debug)]
pub(crate) struct ConvGeom {
	pub n: usize,
	/// Input channels.
	pub c: usize,
	/// Output channels.
	pub m: usize,
	pub group: usize,
	pub in_sp: Vec<usize>,
	pub k_sp: Vec<usize>,
	pub out_sp: Vec<usize>,
	pub pad_begin: Vec<usize>,
	pub pad_end: Vec<usize>,
	pub strides: Vec<usize>,
	pub dilations: Vec<usize>,
}

impl ConvGeom {
	pub fn cg(&self) -> usize {
		self.c / self.group
	}
	pub fn mg(&self) -> usize {
		self.m / self.group
	}
	pub fn in_size(&self) -> usize {
		self.in_sp.iter().product()
	}
	pub fn out_size(&self) -> usize {
		self.out_sp.iter().product()
	}
	pub fn k_size(&self) -> usize {
		self.k_sp.iter().product()
	}
	pub fn out_shape(&self) -> Vec<usize> {
		let mut s = vec![self.n, self.m];
		s.extend_from_slice(&self.out_sp);
		s
	}
}

fn attr_list(
	v: &[u32],
	n: usize,
	default: usize,
	name: &'static str,
	min: usize,
) -> Result<Vec<usize>, OpError> {
	if v.is_empty() {
		return Ok(vec![default; n]);
	}
	if v.len() != n {
		return Err(OpError::Attribute {
			name,
			reason: "wrong number of values",
		});
	}
	if v.iter().any(|&x| (x as usize) < min) {
		return Err(OpError::Attribute {
			name,
			reason: "value too small",
		});
	}
	Ok(v.iter().map(|&x| x as usize).collect())
}

#[allow(clippy::type_complexity)]
fn common(
	x: &[usize],
	w: &[usize],
	a: &ConvAttrs,
) -> Result<(usize, Vec<usize>, Vec<usize>, Vec<usize>, Vec<usize>, usize), OpError> {
	if x.len() < 3 {
		return Err(OpError::Rank {
			input: 0,
			got: x.len() as u32,
		});
	}
	if w.len() != x.len() {
		return Err(OpError::Rank {
			input: 1,
			got: w.len() as u32,
		});
	}
	let s = x.len() - 2;
	let pads = attr_list(&a.pads, 2 * s, 0, "pads", 0)?;
	// A pad longer than any dimension can be is refused: with pads below `MAX_ELEMENTS`, every
	// padded extent and position stays below 2^31, so the kernels' `usize`/`isize` arithmetic is
	// the same on 32-bit targets (wasm) as on 64-bit ones.
	if pads.iter().any(|&p| p > MAX_ELEMENTS) {
		return Err(OpError::Attribute {
			name: "pads",
			reason: "larger than any dimension",
		});
	}
	let strides = attr_list(&a.strides, s, 1, "strides", 1)?;
	let dilations = attr_list(&a.dilations, s, 1, "dilations", 1)?;
	if a.group == 0 {
		return Err(OpError::Attribute {
			name: "group",
			reason: "must be at least 1",
		});
	}
	if w[2..].contains(&0) {
		return Err(OpError::Shape {
			reason: "empty kernel",
		});
	}
	Ok((
		s,
		pads[..s].to_vec(),
		pads[s..].to_vec(),
		strides,
		dilations,
		a.group as usize,
	))
}

/// Geometry of Conv / ConvInteger / QLinearConv: `x` = `[N, C, D…]`, `w` = `[M, C/group, K…]`.
pub(crate) fn conv_geom(x: &[usize], w: &[usize], a: &ConvAttrs) -> Result<ConvGeom, OpError> {
	let (s, pb, pe, st, dl, g) = common(x, w, a)?;
	let (n, c, m) = (x[0], x[1], w[0]);
	// The product in `u64`: with empty tensors it is not bounded by the element cap.
	if c % g != 0 || m % g != 0 || w[1] as u64 * g as u64 != c as u64 {
		return Err(OpError::Shape {
			reason: "channels inconsistent with group",
		});
	}
	let mut out_sp = Vec::with_capacity(s);
	for i in 0..s {
		let span = x[i + 2]
			.checked_add(pb[i])
			.and_then(|v| v.checked_add(pe[i]))
			.ok_or(OpError::TooLarge)?;
		// In `u64`, so that a dilated kernel beyond `usize` (32 bits in wasm) is refused for the
		// same reason on every target.
		let eff = (w[i + 2] as u64 - 1) * dl[i] as u64 + 1;
		if (span as u64) < eff {
			return Err(OpError::Shape {
				reason: "kernel larger than padded input",
			});
		}
		out_sp.push((span - eff as usize) / st[i] + 1);
	}
	let geom = ConvGeom {
		n,
		c,
		m,
		group: g,
		in_sp: x[2..].to_vec(),
		k_sp: w[2..].to_vec(),
		out_sp,
		pad_begin: pb,
		pad_end: pe,
		strides: st,
		dilations: dl,
	};
	elems(&geom.out_shape())?;
	// The im2col matrix (K × output positions) of one group must stay addressable.
	elems(&[geom.cg(), geom.k_size()])?;
	Ok(geom)
}

/// Geometry of ConvTranspose: `x` = `[N, C, D…]`, `w` = `[C, M/group, K…]`.
pub(crate) fn conv_transpose_geom(
	x: &[usize],
	w: &[usize],
	a: &ConvTransposeAttrs,
) -> Result<ConvGeom, OpError> {
	let (s, pb, pe, st, dl, g) = common(x, w, &a.conv)?;
	let op = attr_list(&a.output_padding, s, 0, "output_padding", 0)?;
	let (n, c) = (x[0], x[1]);
	if w[0] != c || c % g != 0 {
		return Err(OpError::Shape {
			reason: "channels inconsistent with group",
		});
	}
	let m = w[1].checked_mul(g).ok_or(OpError::TooLarge)?;
	let mut out_sp = Vec::with_capacity(s);
	for i in 0..s {
		if op[i] >= st[i].max(dl[i]) {
			return Err(OpError::Attribute {
				name: "output_padding",
				reason: "must be < max(stride, dilation)",
			});
		}
		let full = (x[i + 2].saturating_sub(1) as u128) * st[i] as u128
			+ op[i] as u128
			+ (w[i + 2] as u128 - 1) * dl[i] as u128
			+ 1;
		let cut = pb[i] as u128 + pe[i] as u128;
		if x[i + 2] == 0 || full < cut {
			return Err(OpError::Shape {
				reason: "ConvTranspose output would be empty",
			});
		}
		out_sp.push(usize::try_from(full - cut).map_err(|_| OpError::TooLarge)?);
	}
	let geom = ConvGeom {
		n,
		c,
		m,
		group: g,
		in_sp: x[2..].to_vec(),
		k_sp: w[2..].to_vec(),
		out_sp,
		pad_begin: pb,
		pad_end: pe,
		strides: st,
		dilations: dl,
	};
	elems(&geom.out_shape())?;
	Ok(geom)
}

pub(crate) fn infer(op: &Op, inputs: &[Option<Ty>]) -> Result<Vec<Ty>, OpError> {
	arity(
		inputs,
		2,
		if matches!(op, Op::FusedConv { .. }) {
			4
		} else {
			3
		},
	)?;
	let (x, w) = (req(inputs, 0)?, req(inputs, 1)?);
	allow_dtypes(x, 0, &[DType::F32])?;
	super::want_dtype(w, 1, DType::F32)?;
	let g = match op {
		Op::Conv(a) | Op::FusedConv { conv: a, .. } => conv_geom(&x.shape, &w.shape, a)?,
		Op::ConvTranspose(a) => conv_transpose_geom(&x.shape, &w.shape, a)?,
		_ => {
			return Err(OpError::Attribute {
				name: "op",
				reason: "not a conv op",
			})
		}
	};
	if let Some(z) = opt(inputs, 3) {
		super::want_dtype(z, 3, DType::F32)?;
		if z.shape != g.out_shape() {
			return Err(OpError::Shape {
				reason: "fused residual must have the output shape",
			});
		}
	}
	if let Some(b) = opt(inputs, 2) {
		super::want_dtype(b, 2, DType::F32)?;
		if b.shape != [g.m] {
			return Err(OpError::Shape {
				reason: "bias must be [M]",
			});
		}
	}
	Ok(vec![Ty::new(DType::F32, g.out_shape())])
}

pub(crate) fn run(op: &Op, inputs: &[Option<&Tensor>], ctx: &Ctx) -> Result<Vec<Tensor>, OpError> {
	let (x, w) = (inp(inputs, 0)?, inp(inputs, 1)?);
	let b = opt(inputs, 2).copied();
	let t = match op {
		Op::Conv(a) => conv(x, w, b, a, None, Activation::None, ctx)?,
		Op::FusedConv {
			conv: a,
			activation,
		} => conv(x, w, b, a, opt(inputs, 3).copied(), *activation, ctx)?,
		Op::ConvTranspose(a) => conv_transpose(x, w, b, a, ctx)?,
		_ => {
			return Err(OpError::Attribute {
				name: "op",
				reason: "not a conv op",
			})
		}
	};
	Ok(vec![t])
}

fn f32s(t: &Tensor, input: u32) -> Result<&[f32], OpError> {
	t.as_f32().map_err(|_| OpError::UnsupportedDType {
		input,
		dtype: t.dtype(),
	})
}

/// Output buffer pre-filled with the bias of each output channel.
fn bias_filled(g: &ConvGeom, b: Option<&Tensor>) -> Result<Vec<f32>, OpError> {
	let plane = g.out_size();
	let mut out = vec![0f32; elems(&g.out_shape())?];
	if let Some(b) = b {
		let bv = f32s(b, 2)?;
		for (i, chunk) in out.chunks_mut(plane.max(1)).enumerate() {
			chunk.fill(bv[i % g.m]);
		}
	}
	Ok(out)
}

/// 2-D im2col view of one image and group, packed straight into GEMM panels.
/// Row `k = (c·KH + ky)·KW + kx`, column `oy·OW + ox`; padding reads as `+0.0`.
struct Im2col2d<'a> {
	x: &'a [f32],
	h: usize,
	w: usize,
	kh: usize,
	kw: usize,
	sh: usize,
	sw: usize,
	ph: usize,
	pw: usize,
	dh: usize,
	dw: usize,
	ow: usize,
}

impl Im2col2d<'_> {
	/// Writes `src` (or zeros) to columns `col..col+len` (relative to the block) of row `kk`.
	#[inline]
	fn put(out: &mut [f32], kc: usize, kk: usize, mut col: usize, src: Option<&[f32]>, len: usize) {
		let mut done = 0;
		while done < len {
			let (p, lane) = (col / NR, col % NR);
			let take = (NR - lane).min(len - done);
			let dst = &mut out[p * kc * NR + kk * NR + lane..][..take];
			match src {
				Some(s) => dst.copy_from_slice(&s[done..done + take]),
				None => dst.fill(0.0),
			}
			done += take;
			col += take;
		}
	}
}

impl PackB for Im2col2d<'_> {
	fn pack_b(&self, k0: usize, kc: usize, n0: usize, nc: usize, out: &mut [f32]) {
		let panels = nc.div_ceil(NR);
		if !nc.is_multiple_of(NR) {
			out[(panels - 1) * kc * NR..panels * kc * NR].fill(0.0);
		}
		let kk_size = self.kh * self.kw;
		let mut gathered = [0f32; 64];
		for kk in 0..kc {
			let k = k0 + kk;
			let (ci, r) = (k / kk_size, k % kk_size);
			let (ky, kx) = (r / self.kw, r % self.kw);
			let plane = &self.x[ci * self.h * self.w..(ci + 1) * self.h * self.w];
			let mut j = n0;
			while j < n0 + nc {
				let (oy, ox0) = (j / self.ow, j % self.ow);
				let run = (self.ow - ox0).min(n0 + nc - j);
				let col = j - n0;
				let iy = (oy * self.sh + ky * self.dh) as isize - self.ph as isize;
				if iy < 0 || iy >= self.h as isize {
					Self::put(out, kc, kk, col, None, run);
				} else {
					let row = &plane[iy as usize * self.w..(iy as usize + 1) * self.w];
					// ix(t) = (ox0 + t)·sw + kx·dw − pw; valid for t in [lo, hi).
					let base = (ox0 * self.sw + kx * self.dw) as isize - self.pw as isize;
					let sw = self.sw as isize;
					let lo = if base >= 0 {
						0
					} else {
						((-base + sw - 1) / sw) as usize
					}
					.min(run);
					let hi = if base >= self.w as isize {
						0
					} else {
						(((self.w as isize - 1 - base) / sw + 1) as usize).min(run)
					}
					.max(lo);
					Self::put(out, kc, kk, col, None, lo);
					// `hi == lo`: the tap reads only padding for the whole run.
					if hi > lo && self.sw == 1 {
						let s = (base + lo as isize) as usize;
						Self::put(out, kc, kk, col + lo, Some(&row[s..s + (hi - lo)]), hi - lo);
					} else {
						let mut t = lo;
						while t < hi {
							let take = (hi - t).min(gathered.len());
							for (u, g) in gathered[..take].iter_mut().enumerate() {
								*g = row[(base + ((t + u) as isize) * sw) as usize];
							}
							Self::put(out, kc, kk, col + t, Some(&gathered[..take]), take);
							t += take;
						}
					}
					Self::put(out, kc, kk, col + hi, None, run - hi);
				}
				j += run;
			}
		}
	}
}

/// Materialised N-D im2col of one image and group: `[cg·prod(K)] × [prod(out)]` (row-major),
/// padding filled with `pad`. `x` holds the group's `cg` input channels.
pub(crate) fn im2col_nd<T: Copy>(x: &[T], g: &ConvGeom, cg: usize, pad: T) -> Vec<T> {
	let s = g.in_sp.len();
	let (ksz, osz, isz) = (g.k_size(), g.out_size(), g.in_size());
	let mut out = Vec::with_capacity(cg * ksz * osz);
	let mut tap = vec![0usize; s];
	let mut opos = vec![0usize; s];
	for ci in 0..cg {
		let plane = &x[ci * isz..(ci + 1) * isz];
		tap.iter_mut().for_each(|t| *t = 0);
		for _ in 0..ksz {
			opos.iter_mut().for_each(|o| *o = 0);
			for _ in 0..osz {
				let mut off = 0usize;
				let mut inside = true;
				for d in 0..s {
					let i = (opos[d] * g.strides[d] + tap[d] * g.dilations[d]) as isize
						- g.pad_begin[d] as isize;
					if i < 0 || i >= g.in_sp[d] as isize {
						inside = false;
						break;
					}
					off = off * g.in_sp[d] + i as usize;
				}
				out.push(if inside { plane[off] } else { pad });
				for d in (0..s).rev() {
					opos[d] += 1;
					if opos[d] < g.out_sp[d] {
						break;
					}
					opos[d] = 0;
				}
			}
			for d in (0..s).rev() {
				tap[d] += 1;
				if tap[d] < g.k_sp[d] {
					break;
				}
				tap[d] = 0;
			}
		}
	}
	out
}

fn shape_err() -> OpError {
	OpError::Shape {
		reason: "operand does not match its geometry",
	}
}

/// `y = act(y + z)` over a block of outputs: one IEEE add (if `z`), then the activation exactly
/// as the standalone op computes it.
fn epilogue(y: &mut [f32], z: Option<&[f32]>, act: Activation) {
	if let Some(z) = z {
		for (v, &r) in y.iter_mut().zip(z) {
			*v += r;
		}
	}
	match act {
		Activation::None => {}
		Activation::Relu => {
			for v in y.iter_mut() {
				if *v < 0.0 {
					*v = 0.0;
				}
			}
		}
		Activation::LeakyRelu { alpha } => {
			let a = alpha.get();
			for v in y.iter_mut() {
				if *v < 0.0 {
					*v *= a;
				}
			}
		}
		Activation::Clip { min, max } => {
			let (lo, hi) = (min.get(), max.get());
			for v in y.iter_mut() {
				if *v < lo {
					*v = lo;
				}
				if *v > hi {
					*v = hi;
				}
			}
		}
	}
}

/// Float convolution (optionally with a fused residual and activation); see the module docs
/// for the reduction order.
pub fn conv(
	x: &Tensor,
	w: &Tensor,
	b: Option<&Tensor>,
	a: &ConvAttrs,
	z: Option<&Tensor>,
	act: Activation,
	ctx: &Ctx,
) -> Result<Tensor, OpError> {
	let g = conv_geom(x.shape(), w.shape(), a)?;
	let (xv, wv) = (f32s(x, 0)?, f32s(w, 1)?);
	let zv = z.map(|z| f32s(z, 3)).transpose()?;
	let mut out = bias_filled(&g, b)?;
	let (cg, mg, ksz, isz, osz) = (g.cg(), g.mg(), g.k_size(), g.in_size(), g.out_size());
	let kdim = cg * ksz;
	if osz == 0 || g.n == 0 || g.m == 0 {
		return make(g.out_shape(), TensorData::F32(out));
	}
	let s = g.in_sp.len();
	if s <= 2 && cg == 1 && mg == 1 {
		depthwise(&g, xv, wv, &mut out, ctx.isa);
		epilogue(&mut out, zv, act);
		return make(g.out_shape(), TensorData::F32(out));
	}
	for n in 0..g.n {
		for gi in 0..g.group {
			let x_off = (n * g.c + gi * cg) * isz;
			let xg = &xv[x_off..x_off + cg * isz];
			let wm = MatRef::row_major(wv, gi * mg * kdim, mg, kdim).ok_or_else(shape_err)?;
			let c = &mut out[(n * g.m + gi * mg) * osz..(n * g.m + (gi + 1) * mg) * osz];
			let pointwise = ksz == 1
				&& g.strides.iter().all(|&v| v == 1)
				&& g.pad_begin.iter().chain(&g.pad_end).all(|&v| v == 0);
			if pointwise {
				let bm = MatRef::row_major(xg, 0, cg, isz).ok_or_else(shape_err)?;
				gemm(
					ctx.isa,
					ctx.threads,
					mg,
					osz,
					kdim,
					&wm,
					BOperand::Source(&bm),
					c,
					osz,
				);
			} else if s <= 2 {
				// 1-D convs run as 2-D with a unit height.
				let two = |v: &[usize], d: usize| if s == 2 { v[0] } else { d };
				let last = |v: &[usize]| v[s - 1];
				let src = Im2col2d {
					x: xg,
					h: two(&g.in_sp, 1),
					w: last(&g.in_sp),
					kh: two(&g.k_sp, 1),
					kw: last(&g.k_sp),
					sh: two(&g.strides, 1),
					sw: last(&g.strides),
					ph: two(&g.pad_begin, 0),
					pw: last(&g.pad_begin),
					dh: two(&g.dilations, 1),
					dw: last(&g.dilations),
					ow: last(&g.out_sp),
				};
				gemm(
					ctx.isa,
					ctx.threads,
					mg,
					osz,
					kdim,
					&wm,
					BOperand::Source(&src),
					c,
					osz,
				);
			} else {
				let cols = im2col_nd(xg, &g, cg, 0.0f32);
				let bm = MatRef::row_major(&cols, 0, kdim, osz).ok_or_else(shape_err)?;
				gemm(
					ctx.isa,
					ctx.threads,
					mg,
					osz,
					kdim,
					&wm,
					BOperand::Source(&bm),
					c,
					osz,
				);
			}
			let block = (n * g.m + gi * mg) * osz..(n * g.m + (gi + 1) * mg) * osz;
			epilogue(&mut out[block.clone()], zv.map(|z| &z[block]), act);
		}
	}
	make(g.out_shape(), TensorData::F32(out))
}

/// Depthwise (one input and one output channel per group), 1-D or 2-D: the input plane is
/// copied into a zero-padded buffer, then for each tap `(ky, kx)` ascending every output row
/// does `acc = fma(x, w, acc)` — the same per-element chain as the GEMM path.
fn depthwise(g: &ConvGeom, xv: &[f32], wv: &[f32], out: &mut [f32], isa: Isa) {
	let s = g.in_sp.len();
	let two = |v: &[usize], d: usize| if s == 2 { v[0] } else { d };
	let last = |v: &[usize]| v[s - 1];
	let (h, w) = (two(&g.in_sp, 1), last(&g.in_sp));
	let (kh, kw) = (two(&g.k_sp, 1), last(&g.k_sp));
	let (sh, sw) = (two(&g.strides, 1), last(&g.strides));
	let (dh, dw) = (two(&g.dilations, 1), last(&g.dilations));
	let (ph, pw) = (two(&g.pad_begin, 0), last(&g.pad_begin));
	let (oh, ow) = (two(&g.out_sp, 1), last(&g.out_sp));
	let hp = (h + ph).max((oh - 1) * sh + (kh - 1) * dh + 1);
	let wp = (w + pw).max((ow - 1) * sw + (kw - 1) * dw + 1);
	let mut padded = vec![0f32; hp * wp];
	let ksz = kh * kw;
	for n in 0..g.n {
		for c in 0..g.c {
			let plane = &xv[(n * g.c + c) * h * w..(n * g.c + c + 1) * h * w];
			for y in 0..h {
				padded[(y + ph) * wp + pw..(y + ph) * wp + pw + w]
					.copy_from_slice(&plane[y * w..(y + 1) * w]);
			}
			let o = &mut out[(n * g.m + c) * oh * ow..(n * g.m + c + 1) * oh * ow];
			let wk = &wv[c * ksz..(c + 1) * ksz];
			for ky in 0..kh {
				for kx in 0..kw {
					let wt = wk[ky * kw + kx];
					for oy in 0..oh {
						let start = (oy * sh + ky * dh) * wp + kx * dw;
						axpy_strided(
							isa,
							&mut o[oy * ow..(oy + 1) * ow],
							wt,
							&padded[start..],
							sw,
						);
					}
				}
			}
		}
	}
}

/// Float transposed convolution; see the module docs for the reduction order.
pub fn conv_transpose(
	x: &Tensor,
	w: &Tensor,
	b: Option<&Tensor>,
	a: &ConvTransposeAttrs,
	ctx: &Ctx,
) -> Result<Tensor, OpError> {
	let g = conv_transpose_geom(x.shape(), w.shape(), a)?;
	let (xv, wv) = (f32s(x, 0)?, f32s(w, 1)?);
	let mut out = bias_filled(&g, b)?;
	let (cg, mg, ksz, isz, osz) = (g.cg(), g.mg(), g.k_size(), g.in_size(), g.out_size());
	let s = g.in_sp.len();
	let (iw, ow) = (g.in_sp[s - 1], g.out_sp[s - 1]);
	let (st_l, dl_l, pb_l) = (
		g.strides[s - 1],
		g.dilations[s - 1],
		g.pad_begin[s - 1] as isize,
	);
	let in_rows = isz / iw.max(1);
	let fma = if ctx.isa.is_portable() {
		crate::linalg::fma_soft
	} else {
		crate::linalg::fma
	};
	let mut tap = vec![0usize; s];
	let mut irow = vec![0usize; s.saturating_sub(1)];
	for n in 0..g.n {
		for gi in 0..g.group {
			for mo in 0..mg {
				let m = gi * mg + mo;
				let o = &mut out[(n * g.m + m) * osz..(n * g.m + m + 1) * osz];
				for ci in 0..cg {
					let c = gi * cg + ci;
					let plane = &xv[(n * g.c + c) * isz..(n * g.c + c + 1) * isz];
					let wk = &wv[(c * mg + mo) * ksz..(c * mg + mo + 1) * ksz];
					tap.iter_mut().for_each(|t| *t = 0);
					for &wt in wk {
						// Valid input columns for the last kernel coordinate.
						let shift = (tap[s - 1] * dl_l) as isize - pb_l;
						let lo = if shift >= 0 {
							0
						} else {
							((-shift) as usize).div_ceil(st_l)
						};
						let hi_excl = if (ow as isize) - 1 - shift < 0 {
							0
						} else {
							(((ow as isize - 1 - shift) as usize) / st_l + 1).min(iw)
						};
						irow.iter_mut().for_each(|r| *r = 0);
						for r in 0..in_rows {
							// Output row of this input row and tap (all but the last axis).
							let mut orow = 0usize;
							let mut inside = true;
							for d in 0..s - 1 {
								let od = (irow[d] * g.strides[d] + tap[d] * g.dilations[d])
									as isize - g.pad_begin[d] as isize;
								if od < 0 || od >= g.out_sp[d] as isize {
									inside = false;
									break;
								}
								orow = orow * g.out_sp[d] + od as usize;
							}
							if inside && lo < hi_excl {
								let xrow = &plane[r * iw..(r + 1) * iw];
								let obase = orow * ow;
								let o0 = (lo * st_l) as isize + shift;
								if st_l == 1 {
									let o0 = o0 as usize;
									axpy(
										ctx.isa,
										&mut o[obase + o0..obase + o0 + (hi_excl - lo)],
										wt,
										&xrow[lo..hi_excl],
									);
								} else {
									for (t, &xi) in xrow[lo..hi_excl].iter().enumerate() {
										let oi = obase + (o0 as usize) + t * st_l;
										o[oi] = fma(xi, wt, o[oi]);
									}
								}
							}
							for d in (0..s - 1).rev() {
								irow[d] += 1;
								if irow[d] < g.in_sp[d] {
									break;
								}
								irow[d] = 0;
							}
						}
						for d in (0..s).rev() {
							tap[d] += 1;
							if tap[d] < g.k_sp[d] {
								break;
							}
							tap[d] = 0;
						}
					}
				}
			}
		}
	}
	make(g.out_shape(), TensorData::F32(out))
}
