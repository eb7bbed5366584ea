//! Packed, register-tiled single-precision GEMM with a fixed per-element reduction order.
//!
//! **Reduction order (the contract):** for every output element,
//! `C[i][j] = fma(A[i][k], B[k][j], C[i][j])` for `k = 0, 1, …, K-1` in that order, starting
//! from the value `C[i][j]` holds on entry (the caller pre-fills it: `+0.0`, a bias, …). Cache
//! blocking over `k` (blocks of `KC`) stores the running accumulator to memory between blocks,
//! which is exact for `f32`, so the chain is never split or reassociated. Register tiles and
//! vector lanes hold distinct output elements only; threads own disjoint output columns or rows.
//! The result is therefore independent of the [`Isa`], the blocking and the thread count.
//!
//! Layouts: A is packed into micro-panels of [`MR`] rows (`[k][MR]`), B into panels of [`NR`]
//! columns (`[k][NR]`), zero-padded at the edges; padded lanes are computed and discarded.

use alloc::{vec, vec::Vec};

use super::{Isa, IsaKind};

/// Rows of a register tile.
pub const MR: usize = 6;
/// Columns of a register tile (one packed B panel).
pub const NR: usize = 16;
const KC: usize = 256;
const MC: usize = 24 * MR;
const NC: usize = 128 * NR;
/// Below this many multiply-adds a GEMM runs on the calling thread only.
const PAR_MIN_MACS: usize = 1 << 21;

/// A strided read-only matrix view: element `(i, j)` is `data[offset + i * rs + j * cs]`.
#[derive(Clone, Copy, Debug)]
pub struct MatRef<'a> {
	data: &'a [f32],
	offset: usize,
	rows: usize,
	cols: usize,
	rs: usize,
	cs: usize,
}

impl<'a> MatRef<'a> {
	/// A view, if every element lies inside `data`.
	pub fn new(
		data: &'a [f32],
		offset: usize,
		rows: usize,
		cols: usize,
		rs: usize,
		cs: usize,
	) -> Option<Self> {
		if rows > 0 && cols > 0 {
			let last = offset
				.checked_add((rows - 1).checked_mul(rs)?)?
				.checked_add((cols - 1).checked_mul(cs)?)?;
			if last >= data.len() {
				return None;
			}
		}
		Some(MatRef {
			data,
			offset,
			rows,
			cols,
			rs,
			cs,
		})
	}

	/// A dense row-major `rows × cols` matrix at `offset`.
	pub fn row_major(data: &'a [f32], offset: usize, rows: usize, cols: usize) -> Option<Self> {
		Self::new(data, offset, rows, cols, cols, 1)
	}

	/// The transposed view.
	pub fn t(self) -> Self {
		MatRef {
			rows: self.cols,
			cols: self.rows,
			rs: self.cs,
			cs: self.rs,
			..self
		}
	}

	/// Number of rows.
	pub fn rows(&self) -> usize {
		self.rows
	}

	/// Number of columns.
	pub fn cols(&self) -> usize {
		self.cols
	}

	#[inline]
	fn at(&self, i: usize, j: usize) -> f32 {
		self.data[self.offset + i * self.rs + j * self.cs]
	}
}

/// A source of B blocks: writes rows `k0..k0+kc`, columns `n0..n0+nc` into `out` as
/// `ceil(nc / NR)` panels of `kc × NR` values (panel `p` at `p * kc * NR`, row `k` of a panel at
/// `k * NR`), zero past column `nc`. Lets convolution pack its im2col matrix on the fly.
pub trait PackB: Sync {
	/// Packs one block; `out.len() >= ceil(nc / NR) * kc * NR`.
	fn pack_b(&self, k0: usize, kc: usize, n0: usize, nc: usize, out: &mut [f32]);

	/// `(data, offset, ldb)` if element `(k, j)` is `data[offset + k * ldb + j]`: lets short
	/// products stream B's rows directly instead of packing them.
	fn row_major(&self) -> Option<(&[f32], usize, usize)> {
		None
	}
}

impl PackB for MatRef<'_> {
	fn row_major(&self) -> Option<(&[f32], usize, usize)> {
		(self.cs == 1).then_some((self.data, self.offset, self.rs))
	}

	fn pack_b(&self, k0: usize, kc: usize, n0: usize, nc: usize, out: &mut [f32]) {
		let panels = nc.div_ceil(NR);
		for p in 0..panels {
			let dst = &mut out[p * kc * NR..(p + 1) * kc * NR];
			let j0 = n0 + p * NR;
			let w = NR.min(n0 + nc - j0);
			if self.cs == 1 {
				for k in 0..kc {
					let base = self.offset + (k0 + k) * self.rs + j0;
					let row = &mut dst[k * NR..(k + 1) * NR];
					row[..w].copy_from_slice(&self.data[base..base + w]);
					row[w..].fill(0.0);
				}
			} else if self.rs == 1 {
				if w < NR {
					dst.fill(0.0);
				}
				for j in 0..w {
					let base = self.offset + (j0 + j) * self.cs + k0;
					for (k, &v) in self.data[base..base + kc].iter().enumerate() {
						dst[k * NR + j] = v;
					}
				}
			} else {
				for k in 0..kc {
					let row = &mut dst[k * NR..(k + 1) * NR];
					for (j, x) in row.iter_mut().enumerate() {
						*x = if j < w { self.at(k0 + k, j0 + j) } else { 0.0 };
					}
				}
			}
		}
	}
}

/// B packed once for all `k` (e.g. a weight reused across runs): `ceil(n / NR)` panels of
/// `k × NR` values.
#[derive(Clone, Debug)]
pub struct PackedB {
	k: usize,
	n: usize,
	data: Vec<f32>,
}

impl PackedB {
	/// Packs the whole `k × n` matrix of `b`.
	pub fn new(b: &dyn PackB, k: usize, n: usize) -> PackedB {
		let mut data = vec![0.0; n.div_ceil(NR) * k * NR];
		if k > 0 && n > 0 {
			b.pack_b(0, k, 0, n, &mut data);
		}
		PackedB { k, n, data }
	}

	/// Rows (the reduction length).
	pub fn k(&self) -> usize {
		self.k
	}

	/// Columns.
	pub fn n(&self) -> usize {
		self.n
	}
}

/// The B operand of [`gemm`].
#[derive(Clone, Copy)]
pub enum BOperand<'a> {
	/// Packed block by block during the product.
	Source(&'a dyn PackB),
	/// Packed beforehand.
	Packed(&'a PackedB),
}

fn pack_a(a: &MatRef, i0: usize, mc: usize, k0: usize, kc: usize, out: &mut [f32]) {
	let panels = mc.div_ceil(MR);
	for p in 0..panels {
		let dst = &mut out[p * kc * MR..(p + 1) * kc * MR];
		let r0 = i0 + p * MR;
		let h = MR.min(i0 + mc - r0);
		if h < MR {
			dst.fill(0.0);
		}
		if a.cs == 1 {
			for r in 0..h {
				let base = a.offset + (r0 + r) * a.rs + k0;
				for (k, &v) in a.data[base..base + kc].iter().enumerate() {
					dst[k * MR + r] = v;
				}
			}
		} else {
			for k in 0..kc {
				for r in 0..h {
					dst[k * MR + r] = a.at(r0 + r, k0 + k);
				}
			}
		}
	}
}

/// Panels per kernel call for a short row block: keeps ≥ 8 independent accumulators in flight.
fn wide_panels(rows: usize) -> usize {
	match rows {
		1 => 4,
		2 | 3 => 2,
		_ => 1,
	}
}

/// One kernel call on a full tile (`rows ≤ MR`, `pw` full panels).
///
/// # Safety
/// `a`: `kc * MR` values; `b`: `pw` panels of `kc * NR` values `bstride` apart; `c`: `rows`
/// rows of `pw * NR` values, `ldc` apart.
#[allow(clippy::too_many_arguments)]
unsafe fn tile(
	isa: Isa,
	kc: usize,
	rows: usize,
	pw: usize,
	a: *const f32,
	b: *const f32,
	bstride: usize,
	c: *mut f32,
	ldc: usize,
) {
	match isa.0 {
		#[cfg(all(feature = "std", target_arch = "x86_64"))]
		IsaKind::Avx2Fma => {
			use super::x86::tile as t;
			match (rows, pw) {
				(6, 1) => t::<6, 1>(kc, a, b, bstride, c, ldc),
				(5, 1) => t::<5, 1>(kc, a, b, bstride, c, ldc),
				(4, 1) => t::<4, 1>(kc, a, b, bstride, c, ldc),
				(3, 2) => t::<3, 2>(kc, a, b, bstride, c, ldc),
				(3, 1) => t::<3, 1>(kc, a, b, bstride, c, ldc),
				(2, 2) => t::<2, 2>(kc, a, b, bstride, c, ldc),
				(2, 1) => t::<2, 1>(kc, a, b, bstride, c, ldc),
				(1, 4) => t::<1, 4>(kc, a, b, bstride, c, ldc),
				(1, 1) => t::<1, 1>(kc, a, b, bstride, c, ldc),
				_ => {
					for p in 0..pw {
						tile(
							isa,
							kc,
							rows,
							1,
							a,
							b.add(p * bstride),
							bstride,
							c.add(p * NR),
							ldc,
						)
					}
				}
			}
		}
		IsaKind::Portable => {
			for p in 0..pw {
				let mut acc = [[0f32; NR]; MR];
				for (i, row) in acc.iter_mut().enumerate().take(rows) {
					for (j, x) in row.iter_mut().enumerate() {
						*x = *c.add(i * ldc + p * NR + j);
					}
				}
				let bp = b.add(p * bstride);
				for k in 0..kc {
					for (i, row) in acc.iter_mut().enumerate().take(rows) {
						let av = *a.add(k * MR + i);
						for (j, x) in row.iter_mut().enumerate() {
							*x = libm::fmaf(av, *bp.add(k * NR + j), *x);
						}
					}
				}
				for (i, row) in acc.iter().enumerate().take(rows) {
					for (j, x) in row.iter().enumerate() {
						*c.add(i * ldc + p * NR + j) = *x;
					}
				}
			}
		}
	}
}

/// A tile whose panel may be partial (`cols < NR`): runs through a scratch tile.
///
/// # Safety
/// As [`tile`] with `pw = 1`, `c` covering `rows × cols`.
#[allow(clippy::too_many_arguments)]
unsafe fn edge_tile(
	isa: Isa,
	kc: usize,
	rows: usize,
	cols: usize,
	a: *const f32,
	b: *const f32,
	c: *mut f32,
	ldc: usize,
) {
	if cols == NR {
		return tile(isa, kc, rows, 1, a, b, 0, c, ldc);
	}
	let mut tmp = [0f32; MR * NR];
	for i in 0..rows {
		for j in 0..cols {
			tmp[i * NR + j] = *c.add(i * ldc + j);
		}
	}
	tile(isa, kc, rows, 1, a, b, 0, tmp.as_mut_ptr(), NR);
	for i in 0..rows {
		for j in 0..cols {
			*c.add(i * ldc + j) = tmp[i * NR + j];
		}
	}
}

struct Scratch {
	a: Vec<f32>,
	b: Vec<f32>,
}

/// Computes the sub-rectangle `rows m0..m1`, `columns n0..n1` of C (`n0` a multiple of `NR`).
///
/// # Safety
/// `c` must be valid for writes of rows `m0..m1` × columns `n0..n1` with stride `ldc`, and no
/// other thread may access that rectangle meanwhile.
#[allow(clippy::too_many_arguments)]
unsafe fn rect(
	isa: Isa,
	a: &MatRef,
	b: BOperand,
	k: usize,
	(m0, m1): (usize, usize),
	(n0, n1): (usize, usize),
	c: *mut f32,
	ldc: usize,
	s: &mut Scratch,
) {
	if m0 >= m1 || n0 >= n1 || k == 0 {
		return;
	}
	if m1 - m0 < MR {
		if let BOperand::Source(src) = b {
			if let Some((data, off, ldb)) = src.row_major() {
				return short_rows(isa, a, (m0, m1), (n0, n1), k, (data, off, ldb), c, ldc);
			}
		}
	}
	let mut jc = n0;
	while jc < n1 {
		let nc = NC.min(n1 - jc);
		let panels = nc.div_ceil(NR);
		let mut pc = 0;
		while pc < k {
			let kc = KC.min(k - pc);
			let (bbase, bstride): (*const f32, usize) = match b {
				BOperand::Source(src) => {
					let need = panels * kc * NR;
					if s.b.len() < need {
						s.b.resize(need, 0.0);
					}
					src.pack_b(pc, kc, jc, nc, &mut s.b[..need]);
					(s.b.as_ptr(), kc * NR)
				}
				BOperand::Packed(pb) => (
					pb.data.as_ptr().add((jc / NR) * pb.k * NR + pc * NR),
					pb.k * NR,
				),
			};
			let mut ic = m0;
			while ic < m1 {
				let mc = MC.min(m1 - ic);
				let need = mc.div_ceil(MR) * kc * MR;
				if s.a.len() < need {
					s.a.resize(need, 0.0);
				}
				pack_a(a, ic, mc, pc, kc, &mut s.a[..need]);
				let ap = s.a.as_ptr();
				if mc < MR {
					let pw = wide_panels(mc);
					let mut p = 0;
					while p < panels {
						let col = jc + p * NR;
						let cp = c.add(ic * ldc + col);
						if pw > 1 && p + pw <= panels && col + pw * NR <= n1 {
							tile(
								isa,
								kc,
								mc,
								pw,
								ap,
								bbase.add(p * bstride),
								bstride,
								cp,
								ldc,
							);
							p += pw;
						} else {
							let cols = NR.min(n1 - col);
							edge_tile(isa, kc, mc, cols, ap, bbase.add(p * bstride), cp, ldc);
							p += 1;
						}
					}
				} else {
					for p in 0..panels {
						let col = jc + p * NR;
						let cols = NR.min(n1 - col);
						let bp = bbase.add(p * bstride);
						for rb in 0..mc.div_ceil(MR) {
							let rows = MR.min(mc - rb * MR);
							let cp = c.add((ic + rb * MR) * ldc + col);
							edge_tile(isa, kc, rows, cols, ap.add(rb * kc * MR), bp, cp, ldc);
						}
					}
				}
				ic += mc;
			}
			pc += kc;
		}
		jc += nc;
	}
}

/// Fewer rows than a register tile and a row-major B: stream B's rows once, updating each C
/// row with `axpy` (`c[j] = fma(a[i][k], b[k][j], c[j])`, k ascending), in column blocks that
/// stay in L1. No packing, so a matrix-vector product reads B exactly once.
///
/// # Safety
/// As [`rect`].
#[allow(clippy::too_many_arguments)]
unsafe fn short_rows(
	isa: Isa,
	a: &MatRef,
	(m0, m1): (usize, usize),
	(n0, n1): (usize, usize),
	k: usize,
	(data, off, ldb): (&[f32], usize, usize),
	c: *mut f32,
	ldc: usize,
) {
	const NB: usize = 2048;
	let mut jb = n0;
	while jb < n1 {
		let w = NB.min(n1 - jb);
		for kk in 0..k {
			let start = off + kk * ldb + jb;
			let brow = &data[start..start + w];
			for i in m0..m1 {
				// SAFETY: row `i`, columns `jb..jb + w` lie in this thread's rectangle.
				let crow = core::slice::from_raw_parts_mut(c.add(i * ldc + jb), w);
				super::axpy(isa, crow, a.at(i, kk), brow);
			}
		}
		jb += w;
	}
}

#[derive(Clone, Copy)]
struct SendPtr(*mut f32);
// SAFETY: threads only write disjoint rectangles of the pointee (see `gemm`).
unsafe impl Send for SendPtr {}
unsafe impl Sync for SendPtr {}

/// `C = A·B` accumulated onto C's initial contents, with the reduction order of the module
/// docs. `a` is `m × k`; B is `k × n`; C is row-major with row stride `ldc`.
///
/// `threads > 1` (std only) splits the output into disjoint column or row ranges; the result
/// is bit-identical for any thread count.
///
/// # Panics
/// If the operand dimensions are inconsistent (an engine bug; operators validate shapes first).
#[allow(clippy::too_many_arguments)]
pub fn gemm(
	isa: Isa,
	threads: usize,
	m: usize,
	n: usize,
	k: usize,
	a: &MatRef,
	b: BOperand,
	c: &mut [f32],
	ldc: usize,
) {
	if m == 0 || n == 0 {
		return;
	}
	assert!(a.rows == m && a.cols == k, "gemm: A is not m × k");
	if let BOperand::Packed(pb) = b {
		assert!(pb.k == k && pb.n == n, "gemm: packed B is not k × n");
	}
	assert!(
		ldc >= n && (m - 1) * ldc + n <= c.len(),
		"gemm: C too small"
	);
	let cptr = SendPtr(c.as_mut_ptr());
	let work = m.saturating_mul(n).saturating_mul(k);
	let threads = if cfg!(feature = "std") && work >= PAR_MIN_MACS {
		threads.max(1)
	} else {
		1
	};
	let run = |mr: (usize, usize), nr: (usize, usize)| {
		let mut s = Scratch {
			a: Vec::new(),
			b: Vec::new(),
		};
		let p = cptr;
		// SAFETY: C covers m × n with stride ldc (checked above); ranges are disjoint.
		unsafe { rect(isa, a, b, k, mr, nr, p.0, ldc, &mut s) }
	};
	let panels = n.div_ceil(NR);
	let rblocks = m.div_ceil(MR);
	if threads <= 1 || (panels < 2 && rblocks < 2) {
		run((0, m), (0, n));
		return;
	}
	#[cfg(feature = "std")]
	{
		// Split along whichever dimension has more tiles; boundaries on tile edges.
		let by_cols = panels >= rblocks;
		let units = if by_cols { panels } else { rblocks };
		let t = threads.min(units);
		let range = |i: usize| -> (usize, usize) {
			let (lo, hi) = (units * i / t, units * (i + 1) / t);
			if by_cols {
				(lo * NR, (hi * NR).min(n))
			} else {
				(lo * MR, (hi * MR).min(m))
			}
		};
		std::thread::scope(|scope| {
			for i in 1..t {
				let r = range(i);
				let run = &run;
				scope.spawn(move || {
					if by_cols {
						run((0, m), r)
					} else {
						run(r, (0, n))
					}
				});
			}
			let r = range(0);
			if by_cols {
				run((0, m), r)
			} else {
				run(r, (0, n))
			}
		});
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	fn naive(m: usize, n: usize, k: usize, a: &[f32], b: &[f32], c: &mut [f32]) {
		for i in 0..m {
			for j in 0..n {
				let mut acc = c[i * n + j];
				for kk in 0..k {
					acc = libm::fmaf(a[i * k + kk], b[kk * n + j], acc);
				}
				c[i * n + j] = acc;
			}
		}
	}

	fn rnd(seed: &mut u64) -> f32 {
		*seed ^= *seed << 13;
		*seed ^= *seed >> 7;
		*seed ^= *seed << 17;
		((*seed >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
	}

	#[test]
	fn gemm_matches_naive_chain_bitwise() {
		#[cfg(all(feature = "std", target_arch = "x86_64"))]
		assert_eq!(
			Isa::detect().is_portable(),
			!(std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma")),
			"detection must pick the hardware kernels exactly when the CPU has AVX2+FMA"
		);
		let mut seed = 0x1234_5678_9abc_def0u64;
		for &(m, n, k) in &[
			(1, 1, 1),
			(1, 70, 300),
			(2, 33, 5),
			(3, 40, 17),
			(5, 17, 9),
			(7, 65, 513),
			(13, 16, 260),
			(30, 100, 3),
		] {
			let a: Vec<f32> = (0..m * k).map(|_| rnd(&mut seed)).collect();
			let b: Vec<f32> = (0..k * n).map(|_| rnd(&mut seed)).collect();
			let c0: Vec<f32> = (0..m * n).map(|_| rnd(&mut seed)).collect();
			let mut want = c0.clone();
			naive(m, n, k, &a, &b, &mut want);
			let am = MatRef::row_major(&a, 0, m, k).unwrap();
			let bm = MatRef::row_major(&b, 0, k, n).unwrap();
			let packed = PackedB::new(&bm, k, n);
			for isa in [Isa::detect(), Isa::portable()] {
				for threads in [1, 2, 3] {
					for op in [BOperand::Source(&bm), BOperand::Packed(&packed)] {
						let mut c = c0.clone();
						let before = super::super::hardware_kernel_calls();
						gemm(isa, threads, m, n, k, &am, op, &mut c, n);
						let calls = super::super::hardware_kernel_calls() - before;
						// This thread always computes a share, so it enters the kernels too.
						assert_eq!(
							calls > 0,
							!isa.is_portable(),
							"m={m} n={n} k={k} isa={}: {calls} hardware kernel entries",
							isa.name()
						);
						assert!(
							c.iter().zip(&want).all(|(x, y)| x.to_bits() == y.to_bits()),
							"m={m} n={n} k={k} isa={}",
							isa.name()
						);
					}
				}
			}
			// Transposed operands through strided views.
			let at: Vec<f32> = (0..k * m).map(|idx| a[(idx % m) * k + idx / m]).collect();
			let bt: Vec<f32> = (0..n * k).map(|idx| b[(idx % k) * n + idx / k]).collect();
			let atm = MatRef::row_major(&at, 0, k, m).unwrap().t();
			let btm = MatRef::row_major(&bt, 0, n, k).unwrap().t();
			let mut c = c0.clone();
			gemm(
				Isa::detect(),
				1,
				m,
				n,
				k,
				&atm,
				BOperand::Source(&btm),
				&mut c,
				n,
			);
			assert!(c.iter().zip(&want).all(|(x, y)| x.to_bits() == y.to_bits()));
		}
	}
}
