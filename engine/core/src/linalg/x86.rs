//! AVX2 + FMA kernels. Only reachable through an [`super::Isa`] obtained by runtime detection.
//!
//! Every lane of every vector holds a different output element; each element is updated by
//! `_mm256_fmadd_ps(a, b, acc)` = `fma(a, b, acc)` once per k, k ascending: the same chain the
//! portable kernels compute with `libm::fmaf`.

use core::{arch::x86_64::*, cell::Cell};

use super::gemm::{MR, NR};

std::thread_local! {
	/// Entries into this thread's vector kernels ([`axpy`], [`tile`]). Thread-local so that
	/// the count costs no atomic and no other thread's work (a concurrent test) can inflate it.
	static VECTOR_KERNEL_CALLS: Cell<u64> = const { Cell::new(0) };
}

/// Counts one entry into a vector kernel on this thread.
#[inline(always)]
fn count_vector_kernel_call() {
	VECTOR_KERNEL_CALLS.with(|n| n.set(n.get().wrapping_add(1)));
}

/// Entries into the vector kernels this thread has made so far.
pub fn vector_kernel_calls() -> u64 {
	VECTOR_KERNEL_CALLS.with(Cell::get)
}

/// Scalar hardware FMA.
///
/// # Safety
/// The CPU must support FMA.
#[target_feature(enable = "fma")]
#[inline]
pub unsafe fn fma_ss(a: f32, b: f32, c: f32) -> f32 {
	_mm_cvtss_f32(_mm_fmadd_ss(_mm_set_ss(a), _mm_set_ss(b), _mm_set_ss(c)))
}

/// `y[i] = fma(a, x[i], y[i])`; `x.len() >= y.len()`.
///
/// # Safety
/// The CPU must support AVX2 and FMA.
#[target_feature(enable = "avx2,fma")]
pub unsafe fn axpy(y: &mut [f32], a: f32, x: &[f32]) {
	count_vector_kernel_call();
	let n = y.len().min(x.len());
	let yp = y.as_mut_ptr();
	let xp = x.as_ptr();
	let av = _mm256_set1_ps(a);
	let mut i = 0;
	while i + 32 <= n {
		let y0 = _mm256_fmadd_ps(av, _mm256_loadu_ps(xp.add(i)), _mm256_loadu_ps(yp.add(i)));
		let y1 = _mm256_fmadd_ps(
			av,
			_mm256_loadu_ps(xp.add(i + 8)),
			_mm256_loadu_ps(yp.add(i + 8)),
		);
		let y2 = _mm256_fmadd_ps(
			av,
			_mm256_loadu_ps(xp.add(i + 16)),
			_mm256_loadu_ps(yp.add(i + 16)),
		);
		let y3 = _mm256_fmadd_ps(
			av,
			_mm256_loadu_ps(xp.add(i + 24)),
			_mm256_loadu_ps(yp.add(i + 24)),
		);
		_mm256_storeu_ps(yp.add(i), y0);
		_mm256_storeu_ps(yp.add(i + 8), y1);
		_mm256_storeu_ps(yp.add(i + 16), y2);
		_mm256_storeu_ps(yp.add(i + 24), y3);
		i += 32;
	}
	while i + 8 <= n {
		let y0 = _mm256_fmadd_ps(av, _mm256_loadu_ps(xp.add(i)), _mm256_loadu_ps(yp.add(i)));
		_mm256_storeu_ps(yp.add(i), y0);
		i += 8;
	}
	while i < n {
		*yp.add(i) = fma_ss(a, *xp.add(i), *yp.add(i));
		i += 1;
	}
}

/// GEMM micro-kernel: `R` rows × `P` panels of [`NR`] columns.
///
/// `a`: packed A micro-panel, `kc` steps of [`MR`] values (rows `0..R` used).
/// `b`: first packed B panel, `kc` steps of `NR` values; panel `p` starts at `b + p * bstride`.
/// `c`: row-major C tile with row stride `ldc`, read as the initial accumulators and written back.
///
/// # Safety
/// The CPU must support AVX2 and FMA; every pointer range above must be valid.
#[target_feature(enable = "avx2,fma")]
pub unsafe fn tile<const R: usize, const P: usize>(
	kc: usize,
	a: *const f32,
	b: *const f32,
	bstride: usize,
	c: *mut f32,
	ldc: usize,
) {
	count_vector_kernel_call();
	let mut acc = [[_mm256_setzero_ps(); 8]; R];
	for (i, row) in acc.iter_mut().enumerate() {
		for (v, x) in row.iter_mut().enumerate().take(2 * P) {
			*x = _mm256_loadu_ps(c.add(i * ldc + (v / 2) * NR + (v % 2) * 8));
		}
	}
	let mut ap = a;
	let mut bp = b;
	for _ in 0..kc {
		let mut bv = [_mm256_setzero_ps(); 8];
		for (v, x) in bv.iter_mut().enumerate().take(2 * P) {
			*x = _mm256_loadu_ps(bp.add((v / 2) * bstride + (v % 2) * 8));
		}
		for (i, row) in acc.iter_mut().enumerate() {
			let av = _mm256_broadcast_ss(&*ap.add(i));
			for (v, x) in row.iter_mut().enumerate().take(2 * P) {
				*x = _mm256_fmadd_ps(av, bv[v], *x);
			}
		}
		ap = ap.add(MR);
		bp = bp.add(NR);
	}
	for (i, row) in acc.iter().enumerate() {
		for (v, x) in row.iter().enumerate().take(2 * P) {
			_mm256_storeu_ps(c.add(i * ldc + (v / 2) * NR + (v % 2) * 8), *x);
		}
	}
}
