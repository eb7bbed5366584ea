//! Arithmetic primitives of the determinism contract and the fast kernels built on them.
//!
//! * [`fma`] is *the* multiply-accumulate: a correctly rounded fused multiply-add. Hardware
//!   `vfmadd` (std, x86_64, runtime-detected) and [`libm::fmaf`] (everywhere else, including the
//!   wasm runtime) return identical bits because IEEE-754 defines the result exactly.
//! * [`Isa`] names the kernel set. It can only be obtained by runtime detection or as
//!   [`Isa::portable`], so the AVX2 kernels are never reached on a CPU without AVX2+FMA.
//!   Every kernel computes every output element with the same chain of operations on every
//!   `Isa`; vector lanes and register tiles only ever hold *independent* output elements.
//!   [`hardware_kernel_calls`] lets tests see that the hardware kernels really ran.
//! * NaNs are canonicalised ([`CANONICAL_NAN_BITS`]) in op outputs and before hashing, since
//!   IEEE-754 leaves NaN payloads and signs to the implementation.

pub mod gemm;
#[cfg(all(feature = "std", target_arch = "x86_64"))]
mod x86;

/// The one NaN the engine emits and hashes: quiet, positive, zero payload.
pub const CANONICAL_NAN_BITS: u32 = 0x7fc0_0000;

/// The canonical NaN.
#[inline]
pub fn canonical_nan() -> f32 {
	f32::from_bits(CANONICAL_NAN_BITS)
}

/// `x`, with any NaN replaced by the canonical NaN.
#[inline]
pub fn canonicalize(x: f32) -> f32 {
	if x.is_nan() {
		canonical_nan()
	} else {
		x
	}
}

/// Replaces every NaN in `xs` by the canonical NaN.
pub fn canonicalize_slice(xs: &mut [f32]) {
	for x in xs {
		if x.is_nan() {
			*x = canonical_nan();
		}
	}
}

/// Correctly rounded `a * b + c` (one rounding): hardware FMA when available (std, x86_64),
/// otherwise [`libm::fmaf`]. Bit-identical either way.
#[inline]
pub fn fma(a: f32, b: f32, c: f32) -> f32 {
	#[cfg(all(feature = "std", target_arch = "x86_64"))]
	{
		if std::is_x86_feature_detected!("fma") {
			// SAFETY: the `fma` feature was detected at run time.
			return unsafe { x86::fma_ss(a, b, c) };
		}
	}
	libm::fmaf(a, b, c)
}

/// The software FMA (`libm::fmaf`), as used in `no_std` builds such as the runtime.
#[inline]
pub fn fma_soft(a: f32, b: f32, c: f32) -> f32 {
	libm::fmaf(a, b, c)
}

/// The hardware FMA instruction, if this build and CPU have one.
pub fn fma_hw(a: f32, b: f32, c: f32) -> Option<f32> {
	#[cfg(all(feature = "std", target_arch = "x86_64"))]
	{
		if std::is_x86_feature_detected!("fma") {
			// SAFETY: the `fma` feature was detected at run time.
			return Some(unsafe { x86::fma_ss(a, b, c) });
		}
	}
	let _ = (a, b, c);
	None
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum IsaKind {
	Portable,
	#[cfg(all(feature = "std", target_arch = "x86_64"))]
	Avx2Fma,
}

/// Kernel set used by the heavy operators. Results are bit-identical for every `Isa`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Isa(IsaKind);

impl Isa {
	/// The best kernels this CPU supports (AVX2+FMA on x86_64 under `std`, else portable).
	pub fn detect() -> Isa {
		#[cfg(all(feature = "std", target_arch = "x86_64"))]
		{
			if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
				return Isa(IsaKind::Avx2Fma);
			}
		}
		Isa(IsaKind::Portable)
	}

	/// The portable scalar kernels (`libm::fmaf`): what `no_std` builds always use.
	pub const fn portable() -> Isa {
		Isa(IsaKind::Portable)
	}

	/// Whether these are the portable kernels.
	pub fn is_portable(self) -> bool {
		self.0 == IsaKind::Portable
	}

	/// Short name, for logs and benchmarks.
	pub fn name(self) -> &'static str {
		match self.0 {
			IsaKind::Portable => "portable",
			#[cfg(all(feature = "std", target_arch = "x86_64"))]
			IsaKind::Avx2Fma => "avx2+fma",
		}
	}
}

/// Entries into the AVX2+FMA vector kernels (GEMM tiles and `axpy`) this thread has made so far;
/// always 0 where they are not compiled in.
///
/// For tests: detection alone does not show that the hardware kernels ran, this does. Work done
/// on other threads (a multi-threaded GEMM's helpers) is not counted here.
pub fn hardware_kernel_calls() -> u64 {
	#[cfg(all(feature = "std", target_arch = "x86_64"))]
	{
		x86::vector_kernel_calls()
	}
	#[cfg(not(all(feature = "std", target_arch = "x86_64")))]
	{
		0
	}
}

/// `y[i] = fma(a, x[i], y[i])` for every `i < min(len)`: one step of independent reductions.
pub fn axpy(isa: Isa, y: &mut [f32], a: f32, x: &[f32]) {
	let n = y.len().min(x.len());
	let (y, x) = (&mut y[..n], &x[..n]);
	match isa.0 {
		#[cfg(all(feature = "std", target_arch = "x86_64"))]
		// SAFETY: `Isa::Avx2Fma` is only constructed after detecting AVX2 and FMA.
		IsaKind::Avx2Fma => unsafe { x86::axpy(y, a, x) },
		IsaKind::Portable => {
			for (yi, &xi) in y.iter_mut().zip(x) {
				*yi = libm::fmaf(a, xi, *yi);
			}
		}
	}
}

/// `y[i] = fma(x[i], w, y[i])` over strided `x` (`x[i * stride]`): for kernels with strides.
pub fn axpy_strided(isa: Isa, y: &mut [f32], w: f32, x: &[f32], stride: usize) {
	if stride == 1 {
		return axpy(isa, y, w, x);
	}
	let f = if isa.is_portable() { fma_soft } else { fma };
	for (i, yi) in y.iter_mut().enumerate() {
		if let Some(&xi) = x.get(i * stride) {
			*yi = f(xi, w, *yi);
		}
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn canonical_nan_is_quiet() {
		assert!(canonical_nan().is_nan());
		assert_eq!(
			canonicalize(f32::from_bits(0xffc0_0001)).to_bits(),
			CANONICAL_NAN_BITS
		);
		assert_eq!(canonicalize(-0.0).to_bits(), (-0.0f32).to_bits());
	}

	#[test]
	fn axpy_matches_scalar() {
		let x: alloc::vec::Vec<f32> = (0..37).map(|i| i as f32 * 0.37 - 3.0).collect();
		let mut y1: alloc::vec::Vec<f32> = (0..37).map(|i| i as f32 * 1.1).collect();
		let mut y2 = y1.clone();
		let before = hardware_kernel_calls();
		axpy(Isa::detect(), &mut y1, 0.3, &x);
		let detected = hardware_kernel_calls() - before;
		axpy(Isa::portable(), &mut y2, 0.3, &x);
		assert_eq!(
			hardware_kernel_calls() - before,
			detected,
			"the portable axpy entered a hardware kernel"
		);
		assert_eq!(detected, !Isa::detect().is_portable() as u64);
		for i in 0..37 {
			assert_eq!(y1[i].to_bits(), y2[i].to_bits());
		}
	}
}
