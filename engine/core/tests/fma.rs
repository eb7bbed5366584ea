//! The FMA primitive: hardware `vfmadd` and `libm::fmaf` agree bit for bit, and both agree with
//! an independent exact reference, on random triples including subnormals, infinities and NaNs.
//! The hardware side must be available exactly when the CPU has FMA.

mod common;

use common::{cpu_has_fma, state_isa_paths, Rng};
use verity_engine::linalg::{canonicalize, fma, fma_hw, fma_soft};

/// Correctly rounded `a*b + c` computed independently: the product is exact in f64; the sum is
/// rounded to f64 with its exact error from TwoSum, then rounded to f32, correcting the one
/// double-rounding case (an f64 result exactly halfway between two f32s).
fn reference(a: f32, b: f32, c: f32) -> f32 {
	let p = a as f64 * b as f64;
	if !p.is_finite() || !(c as f64).is_finite() {
		return (p + c as f64) as f32;
	}
	let s = p + c as f64;
	if !s.is_finite() {
		return s as f32;
	}
	let bb = s - p;
	let err = (p - (s - bb)) + (c as f64 - bb);
	let r = s as f32;
	if err == 0.0 || r.is_infinite() {
		return if s == 0.0 && err == 0.0 {
			(p as f32 * 0.0 + c) * 0.0 + (p + c as f64) as f32
		} else {
			r
		};
	}
	// Is `s` exactly halfway between two adjacent f32 values?
	let lo = if (r as f64) <= s {
		r
	} else {
		f32::from_bits(if r > 0.0 {
			r.to_bits() - 1
		} else {
			r.to_bits() + 1
		})
	};
	let hi = next_up(lo);
	let mid = (lo as f64 + hi as f64) / 2.0;
	if s == mid {
		// The exact value lies on the side of `err`.
		if err > 0.0 {
			hi
		} else {
			lo
		}
	} else {
		r
	}
}

fn next_up(x: f32) -> f32 {
	if x.is_nan() || x == f32::INFINITY {
		return x;
	}
	if x == 0.0 {
		return f32::from_bits(1);
	}
	let b = x.to_bits();
	f32::from_bits(if x > 0.0 { b + 1 } else { b - 1 })
}

fn interesting(r: &mut Rng) -> f32 {
	match r.below(10) {
		0 => f32::from_bits(r.next_u64() as u32 & 0x807f_ffff), // subnormal or zero
		1 => [
			0.0,
			-0.0,
			f32::INFINITY,
			f32::NEG_INFINITY,
			f32::NAN,
			f32::MAX,
			f32::MIN_POSITIVE,
			1.0,
		][r.below(8) as usize],
		2 => f32::from_bits(r.next_u64() as u32), // anything, incl. NaN payloads
		3 => (r.f32() * 2.0).powi(r.below(40) as i32 - 20),
		_ => r.f32() * (1u32 << r.below(24)) as f32,
	}
}

fn same(x: f32, y: f32) -> bool {
	canonicalize(x).to_bits() == canonicalize(y).to_bits()
}

#[test]
fn hardware_and_software_fma_are_bit_identical() {
	let mut r = Rng(0x5eed);
	// `fma_hw` answers only by running the instruction, so `Some` is proof that it ran.
	let hw_available = fma_hw(1.0, 1.0, 1.0).is_some();
	assert_eq!(
		hw_available,
		cpu_has_fma(),
		"the engine's hardware FMA must be available exactly when the CPU has FMA"
	);
	let mut hw_compared = 0u64;
	for _ in 0..2_000_000 {
		let (a, b, c) = (
			interesting(&mut r),
			interesting(&mut r),
			interesting(&mut r),
		);
		let s = fma_soft(a, b, c);
		assert!(same(fma(a, b, c), s), "fma({a:e}, {b:e}, {c:e})");
		if let Some(h) = fma_hw(a, b, c) {
			assert!(
				same(h, s),
				"hw fma({a:e}, {b:e}, {c:e}) = {h:e}, soft = {s:e}"
			);
			hw_compared += 1;
		}
	}
	if hw_available {
		assert_eq!(
			hw_compared, 2_000_000,
			"every triple went through the instruction"
		);
		state_isa_paths("fma", "hardware fma (vfmadd), portable (libm::fmaf)");
	} else {
		state_isa_paths("fma", "portable only (CPU lacks fma)");
	}
}

#[test]
fn fma_is_correctly_rounded() {
	let mut r = Rng(0xfeed);
	let mut checked = 0;
	for _ in 0..500_000 {
		// Finite, non-overflowing triples where the f64 reference is meaningful.
		let a = r.f32() * (1u32 << r.below(12)) as f32;
		let b = r.f32() * (1u32 << r.below(12)) as f32;
		let c = if r.below(2) == 0 {
			-(a * b) * (1.0 + r.f32() * 1e-6)
		} else {
			r.f32()
		};
		let want = reference(a, b, c);
		let got = fma_soft(a, b, c);
		if want == 0.0 && got == 0.0 {
			continue; // sign of exact zero: the reference shortcut does not model it
		}
		assert_eq!(got.to_bits(), want.to_bits(), "fma({a:e}, {b:e}, {c:e})");
		checked += 1;
	}
	assert!(checked > 400_000);
	// Classic double-rounding trap: a*b + c exactly halfway after the first rounding.
	let a = 1.0 + f32::EPSILON;
	assert_eq!(
		fma_soft(a, a, -1.0),
		2.0 * f32::EPSILON + f32::EPSILON * f32::EPSILON
	);
	// 0.1f32 = 13421773·2^-27, so 0.1·10 − 1 = 2^-26 exactly (a separate multiply would give 0).
	assert_eq!(fma_soft(0.1, 10.0, -1.0), 2f32.powi(-26));
	assert_eq!(0.1f32 * 10.0 - 1.0, 0.0);
}
