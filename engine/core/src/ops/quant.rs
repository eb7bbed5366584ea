//! Quantization: QuantizeLinear, DequantizeLinear (per-tensor and per-axis), QLinearMatMul,
//! QLinearConv, MatMulInteger, ConvInteger.
//!
//! **Order and rounding.** Integer products are accumulated in `i32` with wrapping arithmetic,
//! which is associative, so the accumulation order cannot change the result (bias first, then
//! `(x − x_zp)·(w − w_zp)` terms; padding contributes nothing). Requantisation follows the ONNX
//! reference: `multiplier = (scale_a · scale_b) / scale_y` in `f32`, then
//! `y = saturate(round_half_even(acc · multiplier) + y_zp)` with the product and the rounding in
//! `f64`. QuantizeLinear is `saturate(round_half_even(x / scale) + zp)` with the division and
//! rounding in `f32`; a NaN quantizes to the zero point. DequantizeLinear is
//! `(f32(x) − f32(zp)) · scale`.

use alloc::{vec, vec::Vec};

use super::{
	allow_dtypes, arity,
	conv::{conv_geom, im2col_nd, ConvGeom},
	elems, inp, make,
	matmul::matmul_dims,
	opt, req, Ctx, OpError, Ty,
};
use crate::{
	ir::Op,
	tensor::{DType, Tensor, TensorData},
};

const Q8: &[DType] = &[DType::I8, DType::U8];

/// `1` (per tensor) or `len` (per axis / row / column): checks a scale or zero-point shape.
fn check_param(p: &Ty, input: usize, len: usize) -> Result<(), OpError> {
	let n = elems(&p.shape)?;
	if (n == 1 && p.rank() <= 1) || (p.rank() == 1 && n == len) {
		return Ok(());
	}
	Err(OpError::Rank {
		input: input as u32,
		got: p.rank() as u32,
	})
}

fn scalar_param(p: &Ty) -> Result<(), OpError> {
	if elems(&p.shape)? == 1 && p.rank() <= 1 {
		Ok(())
	} else {
		Err(OpError::Shape {
			reason: "expected a scalar",
		})
	}
}

pub(crate) fn infer(op: &Op, inputs: &[Option<Ty>]) -> Result<Vec<Ty>, OpError> {
	match op {
		Op::QuantizeLinear { axis } | Op::DequantizeLinear { axis } => {
			arity(inputs, 2, 3)?;
			let (x, s) = (req(inputs, 0)?, req(inputs, 1)?);
			let quantize = matches!(op, Op::QuantizeLinear { .. });
			if quantize {
				allow_dtypes(x, 0, &[DType::F32, DType::I32])?;
			} else {
				allow_dtypes(x, 0, &[DType::I8, DType::U8, DType::I32])?;
			}
			super::want_dtype(s, 1, DType::F32)?;
			let per_axis = elems(&s.shape)? != 1 || s.rank() > 1;
			let len = if per_axis {
				let a = *axis as usize;
				if a >= x.rank() {
					return Err(OpError::Attribute {
						name: "axis",
						reason: "out of range",
					});
				}
				x.shape[a]
			} else {
				1
			};
			check_param(s, 1, len)?;
			let mut out = if quantize { DType::U8 } else { DType::F32 };
			if let Some(z) = opt(inputs, 2) {
				if quantize {
					allow_dtypes(z, 2, Q8)?;
					out = z.dtype;
				} else {
					super::want_dtype(z, 2, x.dtype)?;
				}
				if z.shape != s.shape {
					return Err(OpError::Shape {
						reason: "zero point shape differs from scale",
					});
				}
			}
			Ok(vec![Ty::new(out, x.shape.clone())])
		}
		Op::QLinearMatMul => {
			arity(inputs, 8, 8)?;
			let t: Vec<&Ty> = (0..8).map(|i| req(inputs, i)).collect::<Result<_, _>>()?;
			allow_dtypes(t[0], 0, Q8)?;
			allow_dtypes(t[3], 3, Q8)?;
			allow_dtypes(t[7], 7, Q8)?;
			for i in [1, 4, 6] {
				super::want_dtype(t[i], i, DType::F32)?;
			}
			super::want_dtype(t[2], 2, t[0].dtype)?;
			super::want_dtype(t[5], 5, t[3].dtype)?;
			let d = matmul_dims(&t[0].shape, &t[3].shape)?;
			check_param(t[1], 1, d.m)?;
			check_param(t[2], 2, d.m)?;
			check_param(t[4], 4, d.n)?;
			check_param(t[5], 5, d.n)?;
			scalar_param(t[6])?;
			scalar_param(t[7])?;
			Ok(vec![Ty::new(t[7].dtype, d.out)])
		}
		Op::MatMulInteger => {
			arity(inputs, 2, 4)?;
			let (a, b) = (req(inputs, 0)?, req(inputs, 1)?);
			allow_dtypes(a, 0, Q8)?;
			allow_dtypes(b, 1, Q8)?;
			let d = matmul_dims(&a.shape, &b.shape)?;
			if let Some(z) = opt(inputs, 2) {
				super::want_dtype(z, 2, a.dtype)?;
				check_param(z, 2, d.m)?;
			}
			if let Some(z) = opt(inputs, 3) {
				super::want_dtype(z, 3, b.dtype)?;
				check_param(z, 3, d.n)?;
			}
			Ok(vec![Ty::new(DType::I32, d.out)])
		}
		Op::QLinearConv(attrs) => {
			arity(inputs, 8, 9)?;
			let t: Vec<&Ty> = (0..8).map(|i| req(inputs, i)).collect::<Result<_, _>>()?;
			allow_dtypes(t[0], 0, Q8)?;
			allow_dtypes(t[3], 3, Q8)?;
			allow_dtypes(t[7], 7, Q8)?;
			for i in [1, 4, 6] {
				super::want_dtype(t[i], i, DType::F32)?;
			}
			super::want_dtype(t[2], 2, t[0].dtype)?;
			super::want_dtype(t[5], 5, t[3].dtype)?;
			let g = conv_geom(&t[0].shape, &t[3].shape, attrs)?;
			scalar_param(t[1])?;
			scalar_param(t[2])?;
			check_param(t[4], 4, g.m)?;
			check_param(t[5], 5, g.m)?;
			scalar_param(t[6])?;
			scalar_param(t[7])?;
			if let Some(b) = opt(inputs, 8) {
				super::want_dtype(b, 8, DType::I32)?;
				if b.shape != [g.m] {
					return Err(OpError::Shape {
						reason: "bias must be [M]",
					});
				}
			}
			Ok(vec![Ty::new(t[7].dtype, g.out_shape())])
		}
		Op::ConvInteger(attrs) => {
			arity(inputs, 2, 4)?;
			let (x, w) = (req(inputs, 0)?, req(inputs, 1)?);
			allow_dtypes(x, 0, Q8)?;
			allow_dtypes(w, 1, Q8)?;
			let g = conv_geom(&x.shape, &w.shape, attrs)?;
			if let Some(z) = opt(inputs, 2) {
				super::want_dtype(z, 2, x.dtype)?;
				scalar_param(z)?;
			}
			if let Some(z) = opt(inputs, 3) {
				super::want_dtype(z, 3, w.dtype)?;
				check_param(z, 3, g.m)?;
			}
			Ok(vec![Ty::new(DType::I32, g.out_shape())])
		}
		_ => Err(OpError::Attribute {
			name: "op",
			reason: "not a quantization op",
		}),
	}
}

/// Integer values of an I8/U8/I32 tensor widened to `i32`.
fn ints(t: &Tensor, input: u32) -> Result<Vec<i32>, OpError> {
	Ok(match t.data() {
		TensorData::I8(v) => v.iter().map(|&x| x as i32).collect(),
		TensorData::U8(v) => v.iter().map(|&x| x as i32).collect(),
		TensorData::I32(v) => v.clone(),
		d => {
			return Err(OpError::UnsupportedDType {
				input,
				dtype: d.dtype(),
			})
		}
	})
}

fn f32s(t: &Tensor, input: u32) -> Result<&[f32], OpError> {
	t.as_f32().map_err(|_| OpError::UnsupportedDType {
		input,
		dtype: t.dtype(),
	})
}

/// Per-index accessor of a scalar-or-1-D parameter.
fn at<T: Copy>(v: &[T], i: usize) -> T {
	if v.len() == 1 {
		v[0]
	} else {
		v[i]
	}
}

/// Saturating conversion of a rounded value to the output type.
fn saturate(v: f64, dt: DType) -> i32 {
	let (lo, hi) = if dt == DType::I8 {
		(-128.0, 127.0)
	} else {
		(0.0, 255.0)
	};
	if v.is_nan() {
		return 0;
	}
	v.clamp(lo, hi) as i32
}

fn q8(dt: DType, v: Vec<i32>) -> TensorData {
	if dt == DType::I8 {
		TensorData::I8(v.into_iter().map(|x| x as i8).collect())
	} else {
		TensorData::U8(v.into_iter().map(|x| x as u8).collect())
	}
}

/// Round half to even in `f64`.
fn rint(v: f64) -> f64 {
	libm::rint(v)
}

pub(crate) fn run(op: &Op, inputs: &[Option<&Tensor>], _ctx: &Ctx) -> Result<Vec<Tensor>, OpError> {
	let t = match op {
		Op::QuantizeLinear { axis } => {
			let (x, s) = (inp(inputs, 0)?, inp(inputs, 1)?);
			let xv: Vec<f32> = match x.data() {
				TensorData::F32(v) => v.clone(),
				TensorData::I32(v) => v.iter().map(|&a| a as f32).collect(),
				d => {
					return Err(OpError::UnsupportedDType {
						input: 0,
						dtype: d.dtype(),
					})
				}
			};
			let sv = f32s(s, 1)?;
			let (zv, dt) = match opt(inputs, 2) {
				Some(z) => (ints(z, 2)?, z.dtype()),
				None => (vec![0], DType::U8),
			};
			let (a, inner) = axis_split(x.shape(), *axis as usize, sv.len());
			let out: Vec<i32> = xv
				.iter()
				.enumerate()
				.map(|(i, &v)| {
					let c = if sv.len() == 1 { 0 } else { (i / inner) % a };
					let zp = at(&zv, c);
					let q = libm::rintf(v / sv[c]);
					if q.is_nan() {
						zp
					} else {
						saturate(q as f64 + zp as f64, dt)
					}
				})
				.collect();
			make(x.shape().to_vec(), q8(dt, out))?
		}
		Op::DequantizeLinear { axis } => {
			let (x, s) = (inp(inputs, 0)?, inp(inputs, 1)?);
			let xv = ints(x, 0)?;
			let sv = f32s(s, 1)?;
			let zv = match opt(inputs, 2) {
				Some(z) => ints(z, 2)?,
				None => vec![0],
			};
			let (a, inner) = axis_split(x.shape(), *axis as usize, sv.len());
			let out: Vec<f32> = xv
				.iter()
				.enumerate()
				.map(|(i, &v)| {
					let c = if sv.len() == 1 { 0 } else { (i / inner) % a };
					(v as f32 - at(&zv, c) as f32) * sv[c]
				})
				.collect();
			make(x.shape().to_vec(), TensorData::F32(out))?
		}
		Op::MatMulInteger => {
			let (a, b) = (inp(inputs, 0)?, inp(inputs, 1)?);
			let azp = opt(inputs, 2)
				.map(|z| ints(z, 2))
				.transpose()?
				.unwrap_or(vec![0]);
			let bzp = opt(inputs, 3)
				.map(|z| ints(z, 3))
				.transpose()?
				.unwrap_or(vec![0]);
			let (acc, shape, _, _) = int_matmul(a, b, &azp, &bzp)?;
			make(shape, TensorData::I32(acc))?
		}
		Op::QLinearMatMul => {
			let (a, b) = (inp(inputs, 0)?, inp(inputs, 3)?);
			let azp = ints(inp(inputs, 2)?, 2)?;
			let bzp = ints(inp(inputs, 5)?, 5)?;
			let (acc, shape, m, n) = int_matmul(a, b, &azp, &bzp)?;
			let (sa, sb, sy) = (
				f32s(inp(inputs, 1)?, 1)?,
				f32s(inp(inputs, 4)?, 4)?,
				f32s(inp(inputs, 6)?, 6)?,
			);
			let yz = inp(inputs, 7)?;
			let yzp = ints(yz, 7)?[0];
			let out: Vec<i32> = acc
				.iter()
				.enumerate()
				.map(|(idx, &v)| {
					let (i, j) = ((idx / n) % m, idx % n);
					let mult = (at(sa, i) * at(sb, j)) / sy[0];
					saturate(rint(v as f64 * mult as f64) + yzp as f64, yz.dtype())
				})
				.collect();
			make(shape, q8(yz.dtype(), out))?
		}
		Op::ConvInteger(attrs) => {
			let (x, w) = (inp(inputs, 0)?, inp(inputs, 1)?);
			let g = conv_geom(x.shape(), w.shape(), attrs)?;
			let xzp = opt(inputs, 2)
				.map(|z| ints(z, 2))
				.transpose()?
				.unwrap_or(vec![0]);
			let wzp = opt(inputs, 3)
				.map(|z| ints(z, 3))
				.transpose()?
				.unwrap_or(vec![0]);
			let acc = int_conv(&g, x, w, xzp[0], &wzp, None)?;
			make(g.out_shape(), TensorData::I32(acc))?
		}
		Op::QLinearConv(attrs) => {
			let (x, w) = (inp(inputs, 0)?, inp(inputs, 3)?);
			let g = conv_geom(x.shape(), w.shape(), attrs)?;
			let xzp = ints(inp(inputs, 2)?, 2)?;
			let wzp = ints(inp(inputs, 5)?, 5)?;
			let bias = opt(inputs, 8).map(|b| ints(b, 8)).transpose()?;
			let acc = int_conv(&g, x, w, xzp[0], &wzp, bias.as_deref())?;
			let (sx, sw, sy) = (
				f32s(inp(inputs, 1)?, 1)?,
				f32s(inp(inputs, 4)?, 4)?,
				f32s(inp(inputs, 6)?, 6)?,
			);
			let yz = inp(inputs, 7)?;
			let yzp = ints(yz, 7)?[0];
			let plane = g.out_size().max(1);
			let out: Vec<i32> = acc
				.iter()
				.enumerate()
				.map(|(idx, &v)| {
					let m = (idx / plane) % g.m;
					let mult = (sx[0] * at(sw, m)) / sy[0];
					saturate(rint(v as f64 * mult as f64) + yzp as f64, yz.dtype())
				})
				.collect();
			make(g.out_shape(), q8(yz.dtype(), out))?
		}
		_ => {
			return Err(OpError::Attribute {
				name: "op",
				reason: "not a quantization op",
			})
		}
	};
	Ok(vec![t])
}

/// `(axis length, elements after the axis)` for per-axis parameters of length `plen`.
fn axis_split(shape: &[usize], axis: usize, plen: usize) -> (usize, usize) {
	if plen == 1 || axis >= shape.len() {
		return (1, 1);
	}
	(
		shape[axis],
		shape[axis + 1..].iter().product::<usize>().max(1),
	)
}

/// `C[i][j] += A[i][k] · B[k][j]` in wrapping `i32`.
fn igemm(a: &[i32], b: &[i32], m: usize, k: usize, n: usize, c: &mut [i32]) {
	for i in 0..m {
		let row = &mut c[i * n..(i + 1) * n];
		for kk in 0..k {
			let x = a[i * k + kk];
			if x == 0 {
				continue;
			}
			for (y, &z) in row.iter_mut().zip(&b[kk * n..(kk + 1) * n]) {
				*y = y.wrapping_add(x.wrapping_mul(z));
			}
		}
	}
}

/// Batched integer matmul with per-row (A) / per-column (B) zero points. Returns
/// `(acc, output shape, M, N)`.
fn int_matmul(
	a: &Tensor,
	b: &Tensor,
	azp: &[i32],
	bzp: &[i32],
) -> Result<(Vec<i32>, Vec<usize>, usize, usize), OpError> {
	let d = matmul_dims(a.shape(), b.shape())?;
	let (m, k, n) = (d.m, d.k, d.n);
	let mut av = ints(a, 0)?;
	let mut bv = ints(b, 1)?;
	for (i, v) in av.iter_mut().enumerate() {
		*v = v.wrapping_sub(at(azp, (i / k.max(1)) % m.max(1)));
	}
	for (i, v) in bv.iter_mut().enumerate() {
		*v = v.wrapping_sub(at(bzp, i % n.max(1)));
	}
	let nb: usize = d.batch.iter().product();
	let a_st = super::broadcast_strides(&d.a_batch, &d.batch);
	let b_st = super::broadcast_strides(&d.b_batch, &d.batch);
	let mut out = vec![0i32; elems(&d.out)?];
	let mut idx = vec![0usize; d.batch.len()];
	for bi in 0..nb {
		let ao: usize = idx.iter().zip(&a_st).map(|(i, s)| i * s).sum::<usize>() * m * k;
		let bo: usize = idx.iter().zip(&b_st).map(|(i, s)| i * s).sum::<usize>() * k * n;
		igemm(
			&av[ao..ao + m * k],
			&bv[bo..bo + k * n],
			m,
			k,
			n,
			&mut out[bi * m * n..(bi + 1) * m * n],
		);
		for dd in (0..idx.len()).rev() {
			idx[dd] += 1;
			if idx[dd] < d.batch[dd] {
				break;
			}
			idx[dd] = 0;
		}
	}
	Ok((out, d.out, m, n))
}

/// Integer convolution via im2col (padding = zero after zero-point subtraction).
fn int_conv(
	g: &ConvGeom,
	x: &Tensor,
	w: &Tensor,
	xzp: i32,
	wzp: &[i32],
	bias: Option<&[i32]>,
) -> Result<Vec<i32>, OpError> {
	let xv: Vec<i32> = ints(x, 0)?
		.into_iter()
		.map(|v| v.wrapping_sub(xzp))
		.collect();
	let (cg, mg, ksz, isz, osz) = (g.cg(), g.mg(), g.k_size(), g.in_size(), g.out_size());
	let kdim = cg * ksz;
	let mut wv = ints(w, 1)?;
	for (i, v) in wv.iter_mut().enumerate() {
		*v = v.wrapping_sub(at(wzp, i / kdim.max(1)));
	}
	let mut out = vec![0i32; elems(&g.out_shape())?];
	if let Some(b) = bias {
		for (i, chunk) in out.chunks_mut(osz.max(1)).enumerate() {
			chunk.fill(b[i % g.m]);
		}
	}
	for n in 0..g.n {
		for gi in 0..g.group {
			let xo = (n * g.c + gi * cg) * isz;
			let cols = im2col_nd(&xv[xo..xo + cg * isz], g, cg, 0i32);
			let c = &mut out[(n * g.m + gi * mg) * osz..(n * g.m + (gi + 1) * mg) * osz];
			igemm(
				&wv[gi * mg * kdim..(gi + 1) * mg * kdim],
				&cols,
				mg,
				kdim,
				osz,
				c,
			);
		}
	}
	Ok(out)
}
