//! MatMul (numpy semantics: batched, broadcasting, 1-D promotion) and Gemm.
//!
//! **Reduction order.** Float: every output element is `acc = +0.0; acc = fma(a[i][k], b[k][j],
//! acc)` for `k = 0..K` ascending (see [`crate::linalg::gemm`]). Gemm then computes
//! `y = alpha * acc` (skipped when `alpha == 1`, which is exact) and, if C is present,
//! `y = fma(beta, c, y)`. Integer MatMul accumulates with wrapping arithmetic in the output type
//! (order-independent).

use alloc::{vec, vec::Vec};

use super::{
	allow_dtypes, arity, broadcast_shapes, broadcast_strides,
	elementwise::{expand_to, Int},
	elems, inp, make, opt, req, Ctx, OpError, Ty,
};
use crate::{
	ir::Op,
	linalg::{
		self,
		gemm::{gemm, BOperand, MatRef, PackedB},
	},
	tensor::{DType, Tensor, TensorData},
};

/// Shapes of a numpy matmul: `(batch shape, M, K, N, output shape)`.
pub(crate) struct MatMulDims {
	pub batch: Vec<usize>,
	pub a_batch: Vec<usize>,
	pub b_batch: Vec<usize>,
	pub m: usize,
	pub k: usize,
	pub n: usize,
	pub out: Vec<usize>,
}

pub(crate) fn matmul_dims(a: &[usize], b: &[usize]) -> Result<MatMulDims, OpError> {
	if a.is_empty() {
		return Err(OpError::Rank { input: 0, got: 0 });
	}
	if b.is_empty() {
		return Err(OpError::Rank { input: 1, got: 0 });
	}
	let (a_batch, m, k) = if a.len() == 1 {
		(Vec::new(), 1, a[0])
	} else {
		(a[..a.len() - 2].to_vec(), a[a.len() - 2], a[a.len() - 1])
	};
	let (b_batch, k2, n) = if b.len() == 1 {
		(Vec::new(), b[0], 1)
	} else {
		(b[..b.len() - 2].to_vec(), b[b.len() - 2], b[b.len() - 1])
	};
	if k != k2 {
		return Err(OpError::Shape {
			reason: "MatMul inner dimensions differ",
		});
	}
	let batch = broadcast_shapes(&a_batch, &b_batch)?;
	let mut out = batch.clone();
	if a.len() > 1 {
		out.push(m);
	}
	if b.len() > 1 {
		out.push(n);
	}
	elems(&out)?;
	Ok(MatMulDims {
		batch,
		a_batch,
		b_batch,
		m,
		k,
		n,
		out,
	})
}

fn gemm_dims(
	a: &Ty,
	b: &Ty,
	trans_a: bool,
	trans_b: bool,
) -> Result<(usize, usize, usize), OpError> {
	if a.rank() != 2 {
		return Err(OpError::Rank {
			input: 0,
			got: a.rank() as u32,
		});
	}
	if b.rank() != 2 {
		return Err(OpError::Rank {
			input: 1,
			got: b.rank() as u32,
		});
	}
	let (m, k) = if trans_a {
		(a.shape[1], a.shape[0])
	} else {
		(a.shape[0], a.shape[1])
	};
	let (k2, n) = if trans_b {
		(b.shape[1], b.shape[0])
	} else {
		(b.shape[0], b.shape[1])
	};
	if k != k2 {
		return Err(OpError::Shape {
			reason: "Gemm inner dimensions differ",
		});
	}
	Ok((m, k, n))
}

pub(crate) fn infer(op: &Op, inputs: &[Option<Ty>]) -> Result<Vec<Ty>, OpError> {
	match op {
		Op::MatMul => {
			arity(inputs, 2, 2)?;
			let (a, b) = (req(inputs, 0)?, req(inputs, 1)?);
			allow_dtypes(a, 0, &[DType::F32, DType::I64, DType::I32])?;
			super::want_dtype(b, 1, a.dtype)?;
			let d = matmul_dims(&a.shape, &b.shape)?;
			Ok(vec![Ty::new(a.dtype, d.out)])
		}
		Op::Gemm {
			trans_a, trans_b, ..
		} => {
			arity(inputs, 2, 3)?;
			let (a, b) = (req(inputs, 0)?, req(inputs, 1)?);
			allow_dtypes(a, 0, &[DType::F32])?;
			super::want_dtype(b, 1, DType::F32)?;
			let (m, _, n) = gemm_dims(a, b, *trans_a, *trans_b)?;
			if let Some(c) = opt(inputs, 2) {
				super::want_dtype(c, 2, DType::F32)?;
				if broadcast_shapes(&c.shape, &[m, n])? != [m, n] {
					return Err(OpError::Broadcast);
				}
			}
			Ok(vec![Ty::new(DType::F32, vec![m, n])])
		}
		_ => Err(OpError::Attribute {
			name: "op",
			reason: "not a matmul op",
		}),
	}
}

/// Packs the weight operand B of `op` ahead of time, when the kernel can use it.
pub fn prepack(op: &Op, b: &Tensor) -> Option<PackedB> {
	let v = b.as_f32().ok()?;
	if b.rank() != 2 {
		return None;
	}
	let (r, c) = (b.shape()[0], b.shape()[1]);
	let m = MatRef::row_major(v, 0, r, c)?;
	match op {
		Op::MatMul => Some(PackedB::new(&m, r, c)),
		Op::Gemm { trans_b: false, .. } => Some(PackedB::new(&m, r, c)),
		Op::Gemm { trans_b: true, .. } => Some(PackedB::new(&m.t(), c, r)),
		_ => None,
	}
}

fn batch_offsets(batch: &[usize], sub: &[usize], mat: usize) -> Vec<usize> {
	let st = broadcast_strides(sub, batch);
	let n: usize = batch.iter().product();
	let mut out = Vec::with_capacity(n);
	let mut idx = vec![0usize; batch.len()];
	for _ in 0..n {
		out.push(idx.iter().zip(&st).map(|(i, s)| i * s).sum::<usize>() * mat);
		for d in (0..batch.len()).rev() {
			idx[d] += 1;
			if idx[d] < batch[d] {
				break;
			}
			idx[d] = 0;
		}
	}
	out
}

pub(crate) fn run(op: &Op, inputs: &[Option<&Tensor>], ctx: &Ctx) -> Result<Vec<Tensor>, OpError> {
	let (a, b) = (inp(inputs, 0)?, inp(inputs, 1)?);
	let t = match op {
		Op::MatMul => matmul(a, b, ctx)?,
		Op::Gemm {
			alpha,
			beta,
			trans_a,
			trans_b,
		} => gemm_op(
			a,
			b,
			opt(inputs, 2).copied(),
			alpha.get(),
			beta.get(),
			*trans_a,
			*trans_b,
			ctx,
		)?,
		_ => {
			return Err(OpError::Attribute {
				name: "op",
				reason: "not a matmul op",
			})
		}
	};
	Ok(vec![t])
}

fn shape_err() -> OpError {
	OpError::Shape {
		reason: "operand does not match its declared shape",
	}
}

/// Numpy matmul. Float: per element `acc = +0; acc = fma(a, b, acc)`, k ascending.
pub fn matmul(a: &Tensor, b: &Tensor, ctx: &Ctx) -> Result<Tensor, OpError> {
	let d = matmul_dims(a.shape(), b.shape())?;
	let (m, k, n) = (d.m, d.k, d.n);
	let nb: usize = d.batch.iter().product();
	let a_off = batch_offsets(&d.batch, &d.a_batch, m * k);
	let b_off = batch_offsets(&d.batch, &d.b_batch, k * n);
	let data = match (a.data(), b.data()) {
		(TensorData::F32(av), TensorData::F32(bv)) => {
			let mut out = vec![0f32; elems(&d.out)?];
			let packed = ctx
				.packed_b
				.filter(|p| p.k() == k && p.n() == n && d.b_batch.is_empty());
			if d.b_batch.is_empty() && d.batch == d.a_batch {
				// B is shared: fold the batch into M (rows of A are contiguous).
				let rows = nb * m;
				let am = MatRef::row_major(av, 0, rows, k).ok_or_else(shape_err)?;
				let bm = MatRef::row_major(bv, 0, k, n).ok_or_else(shape_err)?;
				let bop = match packed {
					Some(p) => BOperand::Packed(p),
					None => BOperand::Source(&bm),
				};
				gemm(ctx.isa, ctx.threads, rows, n, k, &am, bop, &mut out, n);
			} else {
				for i in 0..nb {
					let am = MatRef::row_major(av, a_off[i], m, k).ok_or_else(shape_err)?;
					let bm = MatRef::row_major(bv, b_off[i], k, n).ok_or_else(shape_err)?;
					let c = &mut out[i * m * n..(i + 1) * m * n];
					gemm(
						ctx.isa,
						ctx.threads,
						m,
						n,
						k,
						&am,
						BOperand::Source(&bm),
						c,
						n,
					);
				}
			}
			TensorData::F32(out)
		}
		(TensorData::I64(av), TensorData::I64(bv)) => {
			TensorData::I64(int_matmul(av, bv, &a_off, &b_off, m, k, n))
		}
		(TensorData::I32(av), TensorData::I32(bv)) => {
			TensorData::I32(int_matmul(av, bv, &a_off, &b_off, m, k, n))
		}
		_ => {
			return Err(OpError::DTypeMismatch {
				input: 1,
				expected: a.dtype(),
				got: b.dtype(),
			})
		}
	};
	make(d.out, data)
}

fn int_matmul<T: Int>(
	a: &[T],
	b: &[T],
	a_off: &[usize],
	b_off: &[usize],
	m: usize,
	k: usize,
	n: usize,
) -> Vec<T> {
	let mut out = vec![T::default(); a_off.len() * m * n];
	for (bi, (&ao, &bo)) in a_off.iter().zip(b_off).enumerate() {
		for i in 0..m {
			let row = &mut out[(bi * m + i) * n..(bi * m + i + 1) * n];
			for kk in 0..k {
				let x = a[ao + i * k + kk];
				let brow = &b[bo + kk * n..bo + (kk + 1) * n];
				for (y, &z) in row.iter_mut().zip(brow) {
					*y = y.wadd(x.wmul(z));
				}
			}
		}
	}
	out
}

/// Gemm: `acc` as for MatMul, then `y = alpha * acc` (skipped if `alpha == 1`), then
/// `y = fma(beta, c, y)` when C is present.
#[allow(clippy::too_many_arguments)]
pub fn gemm_op(
	a: &Tensor,
	b: &Tensor,
	c: Option<&Tensor>,
	alpha: f32,
	beta: f32,
	trans_a: bool,
	trans_b: bool,
	ctx: &Ctx,
) -> Result<Tensor, OpError> {
	let (av, bv) = match (a.data(), b.data()) {
		(TensorData::F32(x), TensorData::F32(y)) => (x, y),
		_ => {
			return Err(OpError::UnsupportedDType {
				input: 0,
				dtype: a.dtype(),
			})
		}
	};
	let (m, k, n) = gemm_dims(
		&Ty::new(a.dtype(), a.shape().to_vec()),
		&Ty::new(b.dtype(), b.shape().to_vec()),
		trans_a,
		trans_b,
	)?;
	let (a0, a1) = (a.shape()[0], a.shape()[1]);
	let (b0, b1) = (b.shape()[0], b.shape()[1]);
	let mut am = MatRef::row_major(av, 0, a0, a1).ok_or_else(shape_err)?;
	if trans_a {
		am = am.t();
	}
	let mut bm = MatRef::row_major(bv, 0, b0, b1).ok_or_else(shape_err)?;
	if trans_b {
		bm = bm.t();
	}
	let mut out = vec![0f32; elems(&[m, n])?];
	let bop = match ctx.packed_b.filter(|p| p.k() == k && p.n() == n) {
		Some(p) => BOperand::Packed(p),
		None => BOperand::Source(&bm),
	};
	gemm(ctx.isa, ctx.threads, m, n, k, &am, bop, &mut out, n);
	if alpha != 1.0 {
		for y in out.iter_mut() {
			*y *= alpha;
		}
	}
	if let Some(c) = c {
		let cv = c.as_f32().map_err(|_| OpError::UnsupportedDType {
			input: 2,
			dtype: c.dtype(),
		})?;
		let cb = expand_to(cv, c.shape(), &[m, n]);
		let f = if ctx.isa.is_portable() {
			linalg::fma_soft
		} else {
			linalg::fma
		};
		for (y, &cc) in out.iter_mut().zip(&cb) {
			*y = f(beta, cc, *y);
		}
	}
	make(vec![m, n], TensorData::F32(out))
}
