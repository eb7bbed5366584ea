//! Native vs wasm bit-exactness of the canonical executor (DESIGN §3).
//!
//! The probe crate is compiled to `wasm32v1-none` (see `probe/mod.rs`) and run in wasmtime,
//! where the engine has no `std`: no threads, no hardware FMA detection, every
//! multiply-accumulate through `libm::fmaf`. Natively the same programs run with `std`, under
//! every `ExecOptions` (1 and 2 threads, hardware FMA and the portable kernels) and through
//! `Prepared`. For each program and input the test asserts identical output bytes (SCALE
//! encoding: type, shape, little-endian data), identical trace leaves and root, and that every
//! node re-executed alone in wasm (what a fraud proof does) hashes to the native leaf. The wasm
//! side runs twice, with wasmtime's NaN canonicalisation off and on. A batch of tricky FMA
//! triples is compared directly.
//!
//! The programs here are small models (a CNN, an MLP, an int8 pipeline) on random inputs and
//! every transcendental op on a sweep of special values. `every_op/` covers the rest: every op
//! kind of the IR (each `Op` variant split by the enums and flags in its attributes, derived
//! from its `TypeInfo`, so a new variant fails the test until it has a case), on random and on
//! special-value inputs of every element type it accepts, and sizes at the engine's limits.
//!
//! Run with `cargo test --release -p verity-wasm-probe -- --nocapture` to see the report.

#[path = "../../core/tests/common/mod.rs"]
mod common;
mod every_op;
mod probe;

use common::{Builder, Rng};
use probe::{check_all, modules, Depth, Probe};
use verity_engine::{
	ir::*,
	linalg::{canonicalize, fma, fma_hw, fma_soft, Isa},
	tensor::{DType, Tensor},
};
// ---------------------------------------------------------------------------------------------
// Programs
// ---------------------------------------------------------------------------------------------

fn conv(pads: u32, stride: u32, group: u32) -> ConvAttrs {
	ConvAttrs {
		pads: vec![pads; 4],
		strides: vec![stride; 2],
		dilations: vec![1, 1],
		group,
	}
}

fn pool(k: u32, pads: u32, stride: u32, ceil_mode: bool) -> PoolAttrs {
	PoolAttrs {
		kernel: vec![k, k],
		pads: vec![pads; 4],
		strides: vec![stride; 2],
		dilations: vec![1, 1],
		ceil_mode,
	}
}

fn f32s(v: f32) -> F32Bits {
	F32Bits::new(v)
}

fn scalar_f32(b: &mut Builder, v: f32) -> ValueRef {
	b.weight(Tensor::from_f32(&[], vec![v]).unwrap())
}

/// A small CNN on `[2, 3, 32, 32]`: conv/BN/ReLU, max and average pooling, a fused conv large
/// enough for the threaded GEMM, a depthwise conv, a residual block, a transposed conv branch,
/// global pooling, Gemm and Softmax.
fn cnn() -> Program {
	let mut r = Rng(0xc0ffee);
	let mut b = Builder::new();
	let x = b.input(DType::F32, &[2, 3, 32, 32]);
	let w = b.weight(r.tensor(&[16, 3, 3, 3]));
	let bias = b.weight(r.tensor(&[16]));
	let h = b.node1(Op::Conv(conv(1, 1, 1)), &[x, w, bias]);
	let sc = b.weight(r.tensor(&[16]));
	let sh = b.weight(r.tensor(&[16]));
	let mean = b.weight(r.tensor(&[16]));
	let var = b.weight(
		Tensor::from_f32(&[16], (0..16).map(|i| 0.25 + i as f32 * 0.05).collect()).unwrap(),
	);
	let h = b.node1(
		Op::BatchNormalization {
			epsilon: f32s(1e-5),
		},
		&[h, sc, sh, mean, var],
	);
	let h = b.node1(Op::Relu, &[h]);
	let h = b.node1(
		Op::MaxPool {
			pool: pool(2, 0, 2, false),
		},
		&[h],
	);
	// 2·32·(16·9)·(16·16) ≈ 2.4M MACs: above the GEMM's threading threshold.
	let w = b.weight(r.tensor(&[32, 16, 3, 3]));
	let bias = b.weight(r.tensor(&[32]));
	let h = b.node1(
		Op::FusedConv {
			conv: conv(1, 1, 1),
			activation: Activation::Relu,
		},
		&[h, w, bias],
	);
	let dw = b.weight(r.tensor(&[32, 1, 3, 3]));
	let h = b.node1(Op::Conv(conv(1, 2, 32)), &[h, dw]);
	let w = b.weight(r.tensor(&[32, 32, 1, 1]));
	let c = b.node1(Op::Conv(conv(0, 1, 1)), &[h, w]);
	let s = b.node1(Op::Binary(BinaryOp::Add), &[c, h]);
	let s = b.node1(Op::LeakyRelu { alpha: f32s(0.01) }, &[s]);
	let a = b.node1(
		Op::AveragePool {
			pool: pool(3, 1, 1, false),
			count_include_pad: false,
		},
		&[s],
	);
	let wt = b.weight(r.tensor(&[32, 4, 2, 2]));
	let up = b.node1(
		Op::ConvTranspose(ConvTransposeAttrs {
			conv: conv(0, 2, 1),
			output_padding: vec![0, 0],
		}),
		&[a, wt],
	);
	let g = b.node1(Op::GlobalAveragePool, &[a]);
	let f = b.node1(Op::Flatten { axis: 1 }, &[g]);
	let wf = b.weight(r.tensor(&[10, 32]));
	let bf = b.weight(r.tensor(&[10]));
	let logits = b.node1(
		Op::Gemm {
			alpha: f32s(1.0),
			beta: f32s(1.0),
			trans_a: false,
			trans_b: true,
		},
		&[f, wf, bf],
	);
	let sm = b.node1(
		Op::Softmax {
			axis: 1,
			coerce_2d: false,
		},
		&[logits],
	);
	b.output(sm);
	b.output(logits);
	b.output(up);
	b.build()
}

/// An MLP on `[32, 64]`: MatMul + Add + ReLU (32·64·512), Gemm + Tanh (32·512·256 ≈ 4.2M MACs,
/// threaded natively), MatMul + Add + Sigmoid, Softmax and LogSoftmax heads.
fn mlp() -> Program {
	let mut r = Rng(0x0d1e);
	let mut b = Builder::new();
	let x = b.input(DType::F32, &[32, 64]);
	let w = b.weight(r.tensor(&[64, 512]));
	let bias = b.weight(r.tensor(&[512]));
	let h = b.node1(Op::MatMul, &[x, w]);
	let h = b.node1(Op::Binary(BinaryOp::Add), &[h, bias]);
	let h = b.node1(Op::Relu, &[h]);
	let w = b.weight(r.tensor(&[256, 512]));
	let bias = b.weight(r.tensor(&[256]));
	let h = b.node1(
		Op::Gemm {
			alpha: f32s(0.125),
			beta: f32s(0.5),
			trans_a: false,
			trans_b: true,
		},
		&[h, w, bias],
	);
	let h = b.node1(Op::Tanh, &[h]);
	let w = b.weight(r.tensor(&[256, 10]));
	let bias = b.weight(r.tensor(&[10]));
	let logits = b.node1(Op::MatMul, &[h, w]);
	let logits = b.node1(Op::Binary(BinaryOp::Add), &[logits, bias]);
	let sig = b.node1(Op::Sigmoid, &[logits]);
	let sm = b.node1(
		Op::Softmax {
			axis: 1,
			coerce_2d: false,
		},
		&[logits],
	);
	let lsm = b.node1(
		Op::LogSoftmax {
			axis: 1,
			coerce_2d: false,
		},
		&[logits],
	);
	b.output(sm);
	b.output(lsm);
	b.output(sig);
	b.build()
}

/// An int8 pipeline on `[2, 1, 8, 8]`: QuantizeLinear (u8 and i8), QLinearConv with per-channel
/// weight scales and an i32 bias, QLinearMatMul, MatMulInteger, ConvInteger, DequantizeLinear
/// (per tensor and per axis), Softmax. Exercises saturation and round-half-even ties.
fn int8() -> Program {
	let mut r = Rng(0x1e8);
	let mut b = Builder::new();
	let x = b.input(DType::F32, &[2, 1, 8, 8]);
	let xs = scalar_f32(&mut b, 0.02);
	let xzp = b.weight(Tensor::from_u8(&[], vec![128]).unwrap());
	let q = b.node1(Op::QuantizeLinear { axis: 1 }, &[x, xs, xzp]);
	// Ties: scale 0.25 on inputs that are multiples of 0.125.
	let ts = scalar_f32(&mut b, 0.25);
	let tzp = b.weight(Tensor::from_i8(&[], vec![-3]).unwrap());
	let qi8 = b.node1(Op::QuantizeLinear { axis: 1 }, &[x, ts, tzp]);

	let w: Vec<i8> = (0..8 * 9)
		.map(|_| (r.below(255) as i32 - 127) as i8)
		.collect();
	let w = b.weight(Tensor::from_i8(&[8, 1, 3, 3], w).unwrap());
	let ws = b.weight(
		Tensor::from_f32(&[8], (0..8).map(|i| 0.003 + i as f32 * 0.0007).collect()).unwrap(),
	);
	let wzp = b.weight(Tensor::from_i8(&[8], vec![0; 8]).unwrap());
	let ys = scalar_f32(&mut b, 0.05);
	let yzp = b.weight(Tensor::from_u8(&[], vec![100]).unwrap());
	let bias: Vec<i32> = (0..8).map(|_| r.below(2001) as i32 - 1000).collect();
	let bias = b.weight(Tensor::from_i32(&[8], bias).unwrap());
	let qc = b.node1(
		Op::QLinearConv(conv(1, 1, 1)),
		&[q, xs, xzp, w, ws, wzp, ys, yzp, bias],
	);
	let flat = b.node1(Op::Flatten { axis: 1 }, &[qc]);

	let wm: Vec<i8> = (0..512 * 10)
		.map(|_| (r.below(255) as i32 - 127) as i8)
		.collect();
	let wm = b.weight(Tensor::from_i8(&[512, 10], wm).unwrap());
	let wms = scalar_f32(&mut b, 0.004);
	let wmzp = b.weight(Tensor::from_i8(&[], vec![1]).unwrap());
	let ms = scalar_f32(&mut b, 0.2);
	let mzp = b.weight(Tensor::from_u8(&[], vec![128]).unwrap());
	let qm = b.node1(Op::QLinearMatMul, &[flat, ys, yzp, wm, wms, wmzp, ms, mzp]);
	let logits = b.node1(Op::DequantizeLinear { axis: 1 }, &[qm, ms, mzp]);
	let sm = b.node1(
		Op::Softmax {
			axis: 1,
			coerce_2d: false,
		},
		&[logits],
	);

	let wi: Vec<i8> = (0..512 * 16)
		.map(|_| (r.below(255) as i32 - 127) as i8)
		.collect();
	let wi = b.weight(Tensor::from_i8(&[512, 16], wi).unwrap());
	let wizp = b.weight(Tensor::from_i8(&[], vec![-2]).unwrap());
	let acc = b.node(
		Op::MatMulInteger,
		&[Some(flat), Some(wi), Some(yzp), Some(wizp)],
	);
	let accs = b
		.weight(Tensor::from_f32(&[16], (0..16).map(|i| 1e-4 * (i + 1) as f32).collect()).unwrap());
	let deq = b.node1(Op::DequantizeLinear { axis: 1 }, &[acc, accs]);

	let wc: Vec<i8> = (0..4 * 9)
		.map(|_| (r.below(255) as i32 - 127) as i8)
		.collect();
	let wc = b.weight(Tensor::from_i8(&[4, 1, 3, 3], wc).unwrap());
	let ci = b.node(
		Op::ConvInteger(conv(0, 2, 1)),
		&[Some(qi8), Some(wc), Some(tzp)],
	);

	b.output(sm);
	b.output(logits);
	b.output(qc);
	b.output(deq);
	b.output(ci);
	b.output(qi8);
	b.build()
}

/// Every transcendental and rounding-sensitive float op on `[4, 1024]` values that sweep
/// magnitudes from subnormal to overflow, with zeros, infinities and NaNs.
fn transcendental() -> Program {
	let mut r = Rng(0x7a5);
	let mut b = Builder::new();
	let x = b.input(DType::F32, &[4, 1024]);
	let mut outs = Vec::new();
	let ax = b.node1(Op::Unary(UnaryOp::Abs), &[x]);
	for u in [
		UnaryOp::Exp,
		UnaryOp::Log,
		UnaryOp::Erf,
		UnaryOp::Sin,
		UnaryOp::Cos,
		UnaryOp::Sqrt,
		UnaryOp::Reciprocal,
		UnaryOp::Round,
		UnaryOp::Neg,
	] {
		outs.push(b.node1(Op::Unary(u), &[x]));
	}
	outs.push(b.node1(Op::Unary(UnaryOp::Log), &[ax]));
	outs.push(b.node1(Op::Unary(UnaryOp::Sqrt), &[ax]));
	for op in [
		Op::Tanh,
		Op::Sigmoid,
		Op::Softplus,
		Op::Gelu { tanh_approx: false },
		Op::Gelu { tanh_approx: true },
		Op::Elu { alpha: f32s(0.7) },
		Op::Selu {
			alpha: f32s(1.673_263_2),
			gamma: f32s(1.050_701),
		},
		Op::HardSigmoid {
			alpha: f32s(0.2),
			beta: f32s(0.5),
		},
		Op::HardSwish,
		Op::Softmax {
			axis: 1,
			coerce_2d: false,
		},
		Op::LogSoftmax {
			axis: 1,
			coerce_2d: false,
		},
		Op::LayerNormalization {
			axis: 1,
			epsilon: f32s(1e-5),
		},
	] {
		let ins: Vec<ValueRef> = match op {
			Op::LayerNormalization { .. } => {
				let s = b.weight(r.tensor(&[1024]));
				let t = b.weight(r.tensor(&[1024]));
				vec![x, s, t]
			}
			_ => vec![x],
		};
		outs.push(b.node1(op, &ins));
	}
	// Pow: random exponents, integer exponents, square roots, negative bases.
	let e =
		b.weight(Tensor::from_f32(&[4, 1024], (0..4096).map(|_| r.f32() * 4.0).collect()).unwrap());
	outs.push(b.node1(Op::Binary(BinaryOp::Pow), &[ax, e]));
	for k in [2.0, 3.0, 0.5, -1.5] {
		let k = scalar_f32(&mut b, k);
		outs.push(b.node1(Op::Binary(BinaryOp::Pow), &[x, k]));
	}
	let d =
		b.weight(Tensor::from_f32(&[4, 1024], (0..4096).map(|_| r.f32() * 3.0).collect()).unwrap());
	outs.push(b.node1(Op::Binary(BinaryOp::Div), &[x, d]));
	outs.push(b.node1(Op::Binary(BinaryOp::Fmod), &[x, d]));
	for kind in [
		ReduceKind::LogSumExp,
		ReduceKind::LogSum,
		ReduceKind::L2,
		ReduceKind::Mean,
		ReduceKind::SumSquare,
		ReduceKind::Prod,
	] {
		let src = if kind == ReduceKind::LogSum { ax } else { x };
		outs.push(b.node1(
			Op::Reduce {
				kind,
				axes: vec![1],
				keepdims: false,
			},
			&[src],
		));
	}
	// Normalisations and LRN on an image-shaped view.
	let img = b.node1(
		Op::Reshape {
			shape: vec![2, 8, 16, 16],
		},
		&[x],
	);
	let lo = scalar_f32(&mut b, -50.0);
	let hi = scalar_f32(&mut b, 50.0);
	let finite = b.node1(Op::Clip, &[img, lo, hi]);
	outs.push(b.node1(
		Op::Lrn {
			alpha: f32s(1e-4),
			beta: f32s(0.75),
			bias: f32s(1.0),
			size: 3,
		},
		&[finite],
	));
	let s = b.weight(r.tensor(&[8]));
	let t = b.weight(r.tensor(&[8]));
	outs.push(b.node1(
		Op::InstanceNormalization {
			epsilon: f32s(1e-5),
		},
		&[finite, s, t],
	));
	for mode in [ResizeMode::Linear, ResizeMode::Cubic] {
		outs.push(b.node1(
			Op::Resize(ResizeAttrs {
				mode,
				coord: CoordMode::HalfPixel,
				nearest: NearestMode::RoundPreferFloor,
				sizes: vec![2, 8, 23, 9],
				scales: vec![],
				roi: vec![],
				cubic_coeff_a: f32s(-0.75),
				exclude_outside: false,
				extrapolation_value: f32s(0.0),
				antialias: mode == ResizeMode::Linear,
			}),
			&[finite],
		));
	}
	for o in outs {
		b.output(o);
	}
	b.build()
}

// ---------------------------------------------------------------------------------------------
// Inputs
// ---------------------------------------------------------------------------------------------

fn random_inputs(p: &Program, seeds: &[u64], scale: f32) -> Vec<Vec<Tensor>> {
	seeds
		.iter()
		.map(|&s| {
			let mut r = Rng(s);
			p.inputs
				.iter()
				.map(|i| {
					let dims = i.ty.dims().unwrap();
					let n = dims.iter().product();
					Tensor::from_f32(&dims, (0..n).map(|_| r.f32() * scale).collect()).unwrap()
				})
				.collect()
		})
		.collect()
}

/// `n` values sweeping every binade from subnormal to `f32::MAX`, both signs, plus zeros,
/// infinities, NaNs, values around `exp`'s overflow and underflow thresholds, around 1 and
/// multiples of 0.125 (quantisation ties).
fn sweep(seed: u64, n: usize) -> Vec<f32> {
	let mut r = Rng(seed);
	let special = [
		0.0,
		-0.0,
		f32::INFINITY,
		f32::NEG_INFINITY,
		f32::NAN,
		-f32::NAN,
		f32::MAX,
		f32::MIN,
		f32::MIN_POSITIVE,
		f32::from_bits(1),
		88.72283,
		88.72284,
		-87.33654,
		-103.97208,
		-104.0,
		1.0,
		-1.0,
		1.0 - f32::EPSILON / 2.0,
		1.0 + f32::EPSILON,
		0.5,
		-0.5,
		9.0,
		-9.0,
		core::f32::consts::PI,
		1e-30,
		-1e-30,
	];
	(0..n)
		.map(|i| {
			if i < special.len() {
				return special[i];
			}
			match r.below(8) {
				0 => f32::from_bits(
					(r.next_u64() as u32) & 0x807f_ffff | (r.below(255) as u32) << 23,
				),
				1 => (r.below(64) as f32 - 32.0) * 0.125,
				2 => r.f32() * 100.0,
				3 => 1.0 + r.f32() * 1e-3,
				_ => r.f32() * 12.0,
			}
		})
		.collect()
}

// ---------------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------------

#[test]
fn probe_is_self_contained_and_uses_software_fma() {
	for (_, module) in modules() {
		assert_eq!(
			module.imports().len(),
			0,
			"the probe must not import anything: all arithmetic happens inside wasm"
		);
	}
	for nan_canon in [false, true] {
		let mut probe = Probe::new(nan_canon);
		let hw = probe.hardware_fma.call(&mut probe.store, ()).unwrap();
		assert_eq!(hw, 0, "the no_std engine must use libm::fmaf in wasm");
	}
	// The native side of every comparison below runs with the options `check_all` uses: those
	// asking for the best kernels must really enter the hardware ones where the CPU has them.
	let p = mlp();
	let inputs = random_inputs(&p, &[4], 2.0).remove(0);
	let run = |portable| {
		let opts = verity_engine::exec::ExecOptions {
			threads: 1,
			portable,
		};
		common::hardware_calls_of(|| verity_engine::exec::execute_with(&p, &inputs, &opts).unwrap())
	};
	let ((best, best_trace), hardware) = run(false);
	let ((soft, soft_trace), portable) = run(true);
	assert_eq!(best_trace.leaves, soft_trace.leaves);
	assert_eq!(best.len(), soft.len());
	assert!(best.iter().zip(&soft).all(|(a, b)| a.bit_eq(b)));
	assert_eq!(fma_hw(1.0, 1.0, 1.0).is_some(), common::cpu_has_fma());
	assert_eq!(Isa::detect().is_portable(), !common::cpu_has_avx2_fma());
	common::assert_isa_paths("bit_exact (native side)", hardware, portable);
}

#[test]
fn small_cnn_is_bit_exact() {
	let p = cnn();
	check_all("cnn", &p, &random_inputs(&p, &[1, 2, 3], 1.0), Depth::Full);
}

#[test]
fn mlp_is_bit_exact() {
	let p = mlp();
	check_all("mlp", &p, &random_inputs(&p, &[4, 5, 6], 2.0), Depth::Full);
}

#[test]
fn int8_model_is_bit_exact() {
	let p = int8();
	let mut inputs = random_inputs(&p, &[7, 8], 3.0);
	// Exact quantisation ties and saturation.
	let ties: Vec<f32> = (0..128).map(|i| (i as f32 - 64.0) * 0.0625).collect();
	inputs.push(vec![Tensor::from_f32(&[2, 1, 8, 8], ties).unwrap()]);
	check_all("int8", &p, &inputs, Depth::Full);
}

#[test]
fn transcendental_ops_are_bit_exact() {
	let p = transcendental();
	let inputs: Vec<Vec<Tensor>> = [11, 12]
		.iter()
		.map(|&s| vec![Tensor::from_f32(&[4, 1024], sweep(s, 4096)).unwrap()])
		.collect();
	check_all("transcendental", &p, &inputs, Depth::Full);
}

/// Triples where a separate multiply and add, a double rounding, or a sloppy software FMA would
/// differ from the correctly rounded result.
fn tricky_triples(n: usize) -> Vec<[f32; 3]> {
	let mut r = Rng(0xf3a);
	let any = |r: &mut Rng| f32::from_bits(r.next_u64() as u32);
	let wide = |r: &mut Rng| r.f32() * 2f32.powi(r.below(200) as i32 - 100);
	(0..n)
		.map(|_| match r.below(10) {
			// Exact cancellation: the result is the rounding error of the product.
			0 => {
				let (a, b) = (wide(&mut r), wide(&mut r));
				[a, b, -(a * b)]
			}
			// Near-halfway sums around 1 (double-rounding traps).
			1 => {
				let e = f32::EPSILON;
				let a = 1.0 + e * r.below(16) as f32;
				let b = 1.0 + e * r.below(16) as f32;
				let c = -1.0 + e * (r.below(9) as f32 - 4.0) * 0.5;
				[a, b, c]
			}
			// Overflow boundary.
			2 => {
				let a = f32::MAX.sqrt() * (1.0 + r.f32() * 1e-3);
				[a, a, -f32::MAX * r.f32()]
			}
			// Products and sums in the subnormal range.
			3 => {
				let a = r.f32() * 2f32.powi(-70);
				let b = r.f32() * 2f32.powi(-60);
				[a, b, f32::from_bits(r.next_u64() as u32 & 0x807f_ffff)]
			}
			// Zeros of both signs, infinities, NaNs.
			4 => {
				let pick = |r: &mut Rng| {
					[
						0.0,
						-0.0,
						f32::INFINITY,
						f32::NEG_INFINITY,
						f32::NAN,
						1.0,
						-1.0,
					][r.below(7) as usize]
				};
				[pick(&mut r), pick(&mut r), pick(&mut r)]
			}
			// Arbitrary bit patterns (NaN payloads, subnormals, huge values).
			5 | 6 => [any(&mut r), any(&mut r), any(&mut r)],
			// A long dot product's typical step.
			_ => [r.f32(), r.f32(), r.f32() * 30.0],
		})
		.collect()
}

#[test]
fn wasm_fma_matches_native_fma() {
	let triples = tricky_triples(1_000_000);
	let hw_available = fma_hw(1.0, 1.0, 1.0).is_some();
	let mut nans = 0;
	for nan_canon in [false, true] {
		let mut probe = Probe::new(nan_canon);
		let mut got = Vec::with_capacity(triples.len());
		for chunk in triples.chunks(100_000) {
			got.extend(probe.fma(chunk));
		}
		assert_eq!(got.len(), triples.len());
		for (&[a, b, c], &w) in triples.iter().zip(&got) {
			let native = fma(a, b, c);
			let soft = fma_soft(a, b, c);
			// NaN payloads are implementation-defined (and wasm may pick any): the engine
			// canonicalises them, so compare canonically; every other result bit for bit.
			assert_eq!(
				canonicalize(w).to_bits(),
				canonicalize(native).to_bits(),
				"fma({a:e}, {b:e}, {c:e}): wasm {w:e}, native {native:e}"
			);
			assert_eq!(canonicalize(w).to_bits(), canonicalize(soft).to_bits());
			if let Some(h) = fma_hw(a, b, c) {
				assert_eq!(canonicalize(w).to_bits(), canonicalize(h).to_bits());
			}
			if !nan_canon && w.is_nan() {
				nans += 1;
			}
		}
	}
	println!(
		"fma: {} triples ({nans} NaN results) identical in wasm (libm::fmaf), native libm::fmaf \
		 and native hardware FMA (available: {hw_available})",
		triples.len()
	);
}
