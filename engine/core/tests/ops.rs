//! Per-operator tests against hand-computed values (mostly the ONNX documentation examples) and
//! against naive implementations of each kernel's stated reduction order (bitwise).

mod common;

use common::*;
use verity_engine::{
	exec::ExecOptions,
	ir::*,
	tensor::{DType, Tensor},
};

fn conv_attrs(pads: &[u32], strides: &[u32], dilations: &[u32], group: u32) -> ConvAttrs {
	ConvAttrs {
		pads: pads.to_vec(),
		strides: strides.to_vec(),
		dilations: dilations.to_vec(),
		group,
	}
}

fn pool(kernel: &[u32], pads: &[u32], strides: &[u32], ceil_mode: bool) -> PoolAttrs {
	PoolAttrs {
		kernel: kernel.to_vec(),
		pads: pads.to_vec(),
		strides: strides.to_vec(),
		dilations: vec![],
		ceil_mode,
	}
}

// ------------------------------------------------------------------ matmul / gemm

#[test]
fn matmul_2d_and_batched_broadcast() {
	let a = f(&[2, 3], &[1., 2., 3., 4., 5., 6.]);
	let b = f(&[3, 2], &[7., 8., 9., 10., 11., 12.]);
	assert_close(
		&run1(Op::MatMul, &[&a, &b]),
		&[2, 2],
		&[58., 64., 139., 154.],
		0.0,
	);
	// [2,1,2,3] x [3,2] -> [2,1,2,2]
	let a2 = f(
		&[2, 1, 2, 3],
		&[1., 2., 3., 4., 5., 6., 0., 0., 1., 1., 0., 0.],
	);
	assert_close(
		&run1(Op::MatMul, &[&a2, &b]),
		&[2, 1, 2, 2],
		&[58., 64., 139., 154., 11., 12., 7., 8.],
		0.0,
	);
	// Broadcast of A's batch against B's: [1,2,3] x [2,3,2] -> [2,2,2]
	let b3 = f(
		&[2, 3, 2],
		&[7., 8., 9., 10., 11., 12., 1., 0., 0., 1., 0., 0.],
	);
	assert_close(
		&run1(
			Op::MatMul,
			&[&a.clone().reshape(vec![1, 2, 3]).unwrap(), &b3],
		),
		&[2, 2, 2],
		&[58., 64., 139., 154., 1., 2., 4., 5.],
		0.0,
	);
	// 1-D promotion: [3] x [3,2] -> [2]; [2,3] x [3] -> [2]
	let v = f(&[3], &[1., 0., -1.]);
	assert_close(&run1(Op::MatMul, &[&v, &b]), &[2], &[-4., -4.], 0.0);
	assert_close(&run1(Op::MatMul, &[&a, &v]), &[2], &[-2., -2.], 0.0);
	// Integer matmul wraps.
	let ia = Tensor::from_i32(&[1, 2], vec![i32::MAX, 1]).unwrap();
	let ib = Tensor::from_i32(&[2, 1], vec![2, 3]).unwrap();
	assert_eq!(
		run1(Op::MatMul, &[&ia, &ib]).as_i32().unwrap(),
		&[i32::MAX.wrapping_mul(2) + 3]
	);
	assert!(try_run(Op::MatMul, &[Some(&a), Some(&a)]).is_err());
}

#[test]
fn gemm_transposes_alpha_beta_and_c_broadcast() {
	let a = f(&[3, 2], &[1., 4., 2., 5., 3., 6.]); // A^T of [[1,2,3],[4,5,6]]
	let b = f(&[2, 3], &[7., 9., 11., 8., 10., 12.]); // B^T of [[7,8],[9,10],[11,12]]
	let c = f(&[2], &[1., -1.]);
	let op = Op::Gemm {
		alpha: F32Bits::new(2.0),
		beta: F32Bits::new(0.5),
		trans_a: true,
		trans_b: true,
	};
	assert_close(
		&run1(op, &[&a, &b, &c]),
		&[2, 2],
		&[116.5, 127.5, 278.5, 307.5],
		0.0,
	);
	let op = Op::Gemm {
		alpha: F32Bits::new(1.0),
		beta: F32Bits::new(1.0),
		trans_a: false,
		trans_b: false,
	};
	let c2 = f(&[2, 1], &[10., 20.]);
	let a2 = f(&[2, 3], &[1., 2., 3., 4., 5., 6.]);
	let b2 = f(&[3, 2], &[7., 8., 9., 10., 11., 12.]);
	assert_close(
		&run1(op.clone(), &[&a2, &b2, &c2]),
		&[2, 2],
		&[68., 74., 159., 174.],
		0.0,
	);
	assert_close(
		&run(op, &[Some(&a2), Some(&b2)])[0],
		&[2, 2],
		&[58., 64., 139., 154.],
		0.0,
	);
}

fn naive_matmul(m: usize, k: usize, n: usize, a: &[f32], b: &[f32]) -> Vec<f32> {
	let mut out = vec![0f32; m * n];
	for i in 0..m {
		for j in 0..n {
			let mut acc = 0f32;
			for kk in 0..k {
				acc = libm::fmaf(a[i * k + kk], b[kk * n + j], acc);
			}
			out[i * n + j] = acc;
		}
	}
	out
}

#[test]
fn matmul_is_the_fma_chain_bitwise() {
	let mut r = Rng(7);
	let (mut hardware, mut portable) = (0, 0);
	for &(m, k, n) in &[(1, 512, 300), (4, 33, 17), (37, 70, 129), (64, 300, 40)] {
		let a = r.tensor(&[m, k]);
		let b = r.tensor(&[k, n]);
		let want = naive_matmul(m, k, n, a.as_f32().unwrap(), b.as_f32().unwrap());
		for opts in [
			ExecOptions::default(),
			ExecOptions {
				threads: 3,
				portable: false,
			},
			ExecOptions {
				threads: 1,
				portable: true,
			},
		] {
			let (got, calls) = hardware_calls_of(|| {
				try_run_with(Op::MatMul, &[Some(&a), Some(&b)], &opts)
					.unwrap()
					.remove(0)
			});
			if opts.portable {
				portable += calls;
			} else {
				hardware += calls;
			}
			assert_eq!(
				bits(&got),
				want.iter().map(|x| x.to_bits()).collect::<Vec<_>>(),
				"{m}x{k}x{n} {opts:?}"
			);
		}
	}
	assert_isa_paths("ops (matmul)", hardware, portable);
}

// ------------------------------------------------------------------ conv

/// Conv in the contract order: acc = bias; for (c, ky, kx) ascending, padded taps as +0.0.
#[allow(clippy::too_many_arguments)]
fn naive_conv2d(
	x: &Tensor,
	w: &Tensor,
	b: Option<&Tensor>,
	pads: [usize; 4],
	strides: [usize; 2],
	dil: [usize; 2],
	group: usize,
) -> (Vec<usize>, Vec<f32>) {
	let (xs, ws) = (x.shape(), w.shape());
	let (n, c, h, wd) = (xs[0], xs[1], xs[2], xs[3]);
	let (m, cg, kh, kw) = (ws[0], ws[1], ws[2], ws[3]);
	let mg = m / group;
	let oh = (h + pads[0] + pads[2] - ((kh - 1) * dil[0] + 1)) / strides[0] + 1;
	let ow = (wd + pads[1] + pads[3] - ((kw - 1) * dil[1] + 1)) / strides[1] + 1;
	let (xv, wv) = (x.as_f32().unwrap(), w.as_f32().unwrap());
	let mut out = vec![0f32; n * m * oh * ow];
	for ni in 0..n {
		for mi in 0..m {
			let gi = mi / mg;
			for oy in 0..oh {
				for ox in 0..ow {
					let mut acc = b.map(|b| b.as_f32().unwrap()[mi]).unwrap_or(0.0);
					for ci in 0..cg {
						for ky in 0..kh {
							for kx in 0..kw {
								let iy =
									(oy * strides[0] + ky * dil[0]) as isize - pads[0] as isize;
								let ix =
									(ox * strides[1] + kx * dil[1]) as isize - pads[1] as isize;
								let xv = if iy >= 0
									&& ix >= 0 && (iy as usize) < h
									&& (ix as usize) < wd
								{
									xv[((ni * c + gi * cg + ci) * h + iy as usize) * wd
										+ ix as usize]
								} else {
									0.0
								};
								acc = libm::fmaf(xv, wv[((mi * cg + ci) * kh + ky) * kw + kx], acc);
							}
						}
					}
					out[((ni * m + mi) * oh + oy) * ow + ox] = acc;
				}
			}
		}
	}
	(vec![n, m, oh, ow], out)
}

#[test]
fn conv_hand_computed() {
	// ONNX doc example: 5x5 input 0..24, 3x3 ones kernel.
	let x = f(
		&[1, 1, 5, 5],
		&(0..25).map(|v| v as f32).collect::<Vec<_>>(),
	);
	let w = f(&[1, 1, 3, 3], &[1.0; 9]);
	let y = run1(Op::Conv(conv_attrs(&[1, 1, 1, 1], &[], &[], 1)), &[&x, &w]);
	assert_close(
		&y,
		&[1, 1, 5, 5],
		&[
			12., 21., 27., 33., 24., 33., 54., 63., 72., 51., 63., 99., 108., 117., 81., 93., 144.,
			153., 162., 111., 72., 111., 117., 123., 84.,
		],
		0.0,
	);
	let y = run1(Op::Conv(conv_attrs(&[0, 0, 0, 0], &[], &[], 1)), &[&x, &w]);
	assert_close(
		&y,
		&[1, 1, 3, 3],
		&[54., 63., 72., 99., 108., 117., 144., 153., 162.],
		0.0,
	);
	// Strides 2 with padding (test_conv_with_strides_padding).
	let x = f(
		&[1, 1, 7, 5],
		&(0..35).map(|v| v as f32).collect::<Vec<_>>(),
	);
	let y = run1(
		Op::Conv(conv_attrs(&[1, 1, 1, 1], &[2, 2], &[], 1)),
		&[&x, &w],
	);
	assert_close(
		&y,
		&[1, 1, 4, 3],
		&[
			12., 27., 24., 63., 108., 81., 123., 198., 141., 112., 177., 124.,
		],
		0.0,
	);
}

#[test]
#[allow(clippy::type_complexity)]
fn conv_matches_contract_order_bitwise() {
	let mut r = Rng(99);
	// (n, c, h, w, m, kh, kw, pads, strides, dil, group)
	let cases: &[(
		usize,
		usize,
		usize,
		usize,
		usize,
		usize,
		usize,
		[usize; 4],
		[usize; 2],
		[usize; 2],
		usize,
	)] = &[
		(1, 3, 9, 11, 8, 3, 3, [1, 1, 1, 1], [1, 1], [1, 1], 1),
		(2, 4, 8, 8, 6, 3, 3, [0, 2, 1, 0], [2, 1], [1, 2], 2),
		(1, 6, 7, 9, 6, 3, 3, [1, 1, 1, 1], [1, 1], [1, 1], 6), // depthwise
		(1, 4, 10, 10, 4, 5, 3, [2, 1, 2, 1], [2, 2], [1, 1], 4), // depthwise strided
		(1, 5, 6, 6, 7, 1, 1, [0, 0, 0, 0], [1, 1], [1, 1], 1), // pointwise
		(1, 5, 6, 6, 7, 1, 1, [0, 0, 0, 0], [2, 2], [1, 1], 1), // strided pointwise
		(1, 8, 17, 23, 20, 3, 3, [1, 1, 1, 1], [1, 1], [2, 2], 1),
		(2, 3, 5, 4, 2, 2, 4, [0, 3, 0, 3], [1, 3], [1, 1], 1),
	];
	let (mut hardware, mut portable) = (0, 0);
	for &(n, c, h, w, m, kh, kw, pads, st, dl, g) in cases {
		let x = r.tensor(&[n, c, h, w]);
		let wt = r.tensor(&[m, c / g, kh, kw]);
		let b = r.tensor(&[m]);
		let (shape, want) = naive_conv2d(&x, &wt, Some(&b), pads, st, dl, g);
		let attrs = conv_attrs(
			&pads.map(|p| p as u32),
			&st.map(|s| s as u32),
			&dl.map(|d| d as u32),
			g as u32,
		);
		for opts in [
			ExecOptions::default(),
			ExecOptions {
				threads: 2,
				portable: false,
			},
			ExecOptions {
				threads: 1,
				portable: true,
			},
		] {
			let (y, calls) = hardware_calls_of(|| {
				try_run_with(
					Op::Conv(attrs.clone()),
					&[Some(&x), Some(&wt), Some(&b)],
					&opts,
				)
				.unwrap()
				.remove(0)
			});
			if opts.portable {
				portable += calls;
			} else {
				hardware += calls;
			}
			assert_eq!(y.shape(), &shape[..]);
			assert_eq!(
				bits(&y),
				want.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
				"case {pads:?} {st:?} {dl:?} g={g} {opts:?}"
			);
		}
	}
	assert_isa_paths("ops (conv)", hardware, portable);
}

#[test]
fn conv_1d_and_3d() {
	// 1-D: x = [1,2,3,4], w = [1,-1] -> [-1,-1,-1]
	let x = f(&[1, 1, 4], &[1., 2., 3., 4.]);
	let w = f(&[1, 1, 2], &[1., -1.]);
	assert_close(
		&run1(Op::Conv(conv_attrs(&[], &[], &[], 1)), &[&x, &w]),
		&[1, 1, 3],
		&[-1., -1., -1.],
		0.0,
	);
	// 1-D with padding and stride.
	assert_close(
		&run1(Op::Conv(conv_attrs(&[1, 1], &[2], &[], 1)), &[&x, &w]),
		&[1, 1, 3],
		&[-1., -1., 4.],
		0.0,
	);
	// 3-D: a 2x2x2 box filter on a 3x3x3 ramp.
	let x = f(
		&[1, 1, 3, 3, 3],
		&(0..27).map(|v| v as f32).collect::<Vec<_>>(),
	);
	let w = f(&[1, 1, 2, 2, 2], &[1.0; 8]);
	let y = run1(Op::Conv(conv_attrs(&[], &[], &[], 1)), &[&x, &w]);
	// Sum of the 8 corners of each 2x2x2 box: base offsets 0,1,3,4,9,10,12,13 -> 8*base + 52.
	assert_close(
		&y,
		&[1, 1, 2, 2, 2],
		&[52., 60., 76., 84., 124., 132., 148., 156.],
		0.0,
	);
}

#[test]
fn conv_transpose_onnx_examples() {
	let x = f(&[1, 1, 3, 3], &(0..9).map(|v| v as f32).collect::<Vec<_>>());
	let w = f(&[1, 2, 3, 3], &[1.0; 18]);
	let attrs = ConvTransposeAttrs {
		conv: conv_attrs(&[], &[], &[], 1),
		output_padding: vec![],
	};
	let y = run1(Op::ConvTranspose(attrs), &[&x, &w]);
	let plane = [
		0., 1., 3., 3., 2., 3., 8., 15., 12., 7., 9., 21., 36., 27., 15., 9., 20., 33., 24., 13.,
		6., 13., 21., 15., 8.,
	];
	let mut want = plane.to_vec();
	want.extend_from_slice(&plane);
	assert_close(&y, &[1, 2, 5, 5], &want, 0.0);
	// Strides 3x2 with output_padding 1x1 (test_convtranspose_pad): shape [1,2,10,8].
	let attrs = ConvTransposeAttrs {
		conv: conv_attrs(&[], &[3, 2], &[], 1),
		output_padding: vec![1, 1],
	};
	let y = run1(Op::ConvTranspose(attrs), &[&x, &w]);
	assert_eq!(y.shape(), &[1, 2, 10, 8]);
	let v = y.as_f32().unwrap();
	assert_eq!(&v[..8], &[0., 0., 1., 1., 3., 2., 2., 0.]);
	assert_eq!(&v[72..80], &[0.; 8]); // row 9 is the output padding
								   // 1-D: x=[0,1,2], w=ones(1,2,3) -> [0,1,3,3,2].
	let x1 = f(&[1, 1, 3], &[0., 1., 2.]);
	let w1 = f(&[1, 2, 3], &[1.0; 6]);
	let attrs = ConvTransposeAttrs {
		conv: conv_attrs(&[], &[], &[], 1),
		output_padding: vec![],
	};
	assert_close(
		&run1(Op::ConvTranspose(attrs), &[&x1, &w1]),
		&[1, 2, 5],
		&[0., 1., 3., 3., 2., 0., 1., 3., 3., 2.],
		0.0,
	);
	// Dilation 2: x=[[3,8,1],[9,5,7],[3,2,6]], w=[[7,2],[1,9]] (test_convtranspose_dilations).
	let x = f(&[1, 1, 3, 3], &[3., 8., 1., 9., 5., 7., 3., 2., 6.]);
	let w = f(&[1, 1, 2, 2], &[7., 2., 1., 9.]);
	let attrs = ConvTransposeAttrs {
		conv: conv_attrs(&[], &[], &[2, 2], 1),
		output_padding: vec![],
	};
	assert_close(
		&run1(Op::ConvTranspose(attrs), &[&x, &w]),
		&[1, 1, 5, 5],
		&[
			21., 56., 13., 16., 2., 63., 35., 67., 10., 14., 24., 22., 76., 76., 21., 9., 5., 88.,
			45., 63., 3., 2., 33., 18., 54.,
		],
		0.0,
	);
}

#[test]
fn conv_transpose_groups_and_pads_match_naive() {
	let mut r = Rng(5);
	let (n, c, h, w, mg, k) = (1usize, 4usize, 4usize, 5usize, 3usize, 3usize);
	let (s, p, g) = (2u32, 1u32, 2u32);
	let x = r.tensor(&[n, c, h, w]);
	let wt = r.tensor(&[c, mg, k, k]);
	let b = r.tensor(&[mg * g as usize]);
	let attrs = ConvTransposeAttrs {
		conv: conv_attrs(&[p, p, p, p], &[s, s], &[], g),
		output_padding: vec![1, 0],
	};
	let y = run1(Op::ConvTranspose(attrs), &[&x, &wt, &b]);
	let (oh, ow) = (
		(h - 1) * s as usize + 1 + (k - 1) + 1 - 2,
		(w - 1) * s as usize + (k - 1) + 1 - 2,
	);
	assert_eq!(y.shape(), &[n, mg * g as usize, oh, ow]);
	let (xv, wv, bv) = (
		x.as_f32().unwrap(),
		wt.as_f32().unwrap(),
		b.as_f32().unwrap(),
	);
	let cg = c / g as usize;
	let mut want = vec![0f32; mg * g as usize * oh * ow];
	for m in 0..mg * g as usize {
		let gi = m / mg;
		for oy in 0..oh {
			for ox in 0..ow {
				let mut acc = bv[m];
				for ci in 0..cg {
					let cc = gi * cg + ci;
					for ky in 0..k {
						for kx in 0..k {
							let ny = oy as isize + p as isize - ky as isize;
							let nx = ox as isize + p as isize - kx as isize;
							if ny < 0 || nx < 0 || ny % s as isize != 0 || nx % s as isize != 0 {
								continue;
							}
							let (iy, ix) = ((ny / s as isize) as usize, (nx / s as isize) as usize);
							if iy >= h || ix >= w {
								continue;
							}
							acc = libm::fmaf(
								xv[(cc * h + iy) * w + ix],
								wv[((cc * mg + m % mg) * k + ky) * k + kx],
								acc,
							);
						}
					}
				}
				want[(m * oh + oy) * ow + ox] = acc;
			}
		}
	}
	assert_eq!(
		bits(&y),
		want.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
	);
}

// ------------------------------------------------------------------ pooling

#[test]
fn pools() {
	let x = f(
		&[1, 1, 4, 4],
		&(1..=16).map(|v| v as f32).collect::<Vec<_>>(),
	);
	let y = run1(
		Op::MaxPool {
			pool: pool(&[2, 2], &[], &[2, 2], false),
		},
		&[&x],
	);
	assert_close(&y, &[1, 1, 2, 2], &[6., 8., 14., 16.], 0.0);
	// ceil_mode (test_maxpool_2d_ceil / test_averagepool_2d_ceil).
	let y = run1(
		Op::MaxPool {
			pool: pool(&[3, 3], &[], &[2, 2], true),
		},
		&[&x],
	);
	assert_close(&y, &[1, 1, 2, 2], &[11., 12., 15., 16.], 0.0);
	let y = run1(
		Op::AveragePool {
			pool: pool(&[3, 3], &[], &[2, 2], true),
			count_include_pad: false,
		},
		&[&x],
	);
	assert_close(&y, &[1, 1, 2, 2], &[6., 7.5, 12., 13.5], 0.0);
	// Padding with and without counting it.
	let x3 = f(
		&[1, 1, 3, 3],
		&(1..=9).map(|v| v as f32).collect::<Vec<_>>(),
	);
	let p = pool(&[3, 3], &[1, 1, 1, 1], &[1, 1], false);
	let y = run1(
		Op::AveragePool {
			pool: p.clone(),
			count_include_pad: false,
		},
		&[&x3],
	);
	assert_close(
		&y,
		&[1, 1, 3, 3],
		&[3., 3.5, 4., 4.5, 5., 5.5, 6., 6.5, 7.],
		1e-7,
	);
	let y = run1(
		Op::AveragePool {
			pool: p.clone(),
			count_include_pad: true,
		},
		&[&x3],
	);
	assert_close(
		&y,
		&[1, 1, 3, 3],
		&[
			12. / 9.,
			21. / 9.,
			16. / 9.,
			27. / 9.,
			5.,
			33. / 9.,
			24. / 9.,
			39. / 9.,
			28. / 9.,
		],
		1e-6,
	);
	// Overlapping windows; MaxPool has exactly one output (no `Indices`).
	let outs = run(
		Op::MaxPool {
			pool: pool(&[2, 2], &[], &[1, 1], false),
		},
		&[Some(&x3)],
	);
	assert_eq!(outs.len(), 1);
	assert_close(&outs[0], &[1, 1, 2, 2], &[5., 6., 8., 9.], 0.0);
	// The first maximum wins (fixes the sign of a zero maximum); a NaN tap gives NaN. Both the
	// 2-D fast path and the general (1-D) path.
	for shape in [&[1, 1, 1, 4][..], &[1, 1, 4]] {
		let kernel: &[u32] = if shape.len() == 4 { &[1, 2] } else { &[2] };
		let x = f(shape, &[-0.0, 0.0, 1.0, f32::NAN]);
		let y = run1(
			Op::MaxPool {
				pool: pool(kernel, &[], kernel, false),
			},
			&[&x],
		);
		let b = bits(&y);
		assert_eq!(b[0], (-0.0f32).to_bits(), "{shape:?}");
		assert!(f32::from_bits(b[1]).is_nan(), "{shape:?}");
	}
	// Global pools.
	assert_close(
		&run1(Op::GlobalAveragePool, &[&x3]),
		&[1, 1, 1, 1],
		&[5.],
		0.0,
	);
	assert_close(&run1(Op::GlobalMaxPool, &[&x3]), &[1, 1, 1, 1], &[9.], 0.0);
	// int8 max pool.
	let xi = Tensor::from_i8(&[1, 1, 1, 4], vec![-5, 3, -128, 2]).unwrap();
	let y = run1(
		Op::MaxPool {
			pool: pool(&[1, 2], &[], &[1, 2], false),
		},
		&[&xi],
	);
	assert_eq!(y.as_i8().unwrap(), &[3, 2]);
	// Dilated max pool (test_maxpool_2d_dilations).
	let y = run1(
		Op::MaxPool {
			pool: PoolAttrs {
				kernel: vec![2, 2],
				pads: vec![],
				strides: vec![1, 1],
				dilations: vec![2, 2],
				ceil_mode: false,
			},
		},
		&[&x],
	);
	assert_close(&y, &[1, 1, 2, 2], &[11., 12., 15., 16.], 0.0);
}

// ------------------------------------------------------------------ normalization

#[test]
fn batchnorm_and_lrn() {
	let x = f(&[1, 2, 1, 3], &[-1., 0., 1., 2., 3., 4.]);
	let s = f(&[2], &[1.0, 1.5]);
	let b = f(&[2], &[0., 1.]);
	let mean = f(&[2], &[0., 3.]);
	let var = f(&[2], &[1., 1.5]);
	let y = run1(
		Op::BatchNormalization {
			epsilon: F32Bits::new(0.0),
		},
		&[&x, &s, &b, &mean, &var],
	);
	let k = 1.5 / 1.5f32.sqrt();
	assert_close(&y, &[1, 2, 1, 3], &[-1., 0., 1., -k + 1., 1., k + 1.], 1e-6);
	// LRN over 3 channels, size 3: y_c = x_c / (bias + alpha/size * sum sq)^beta.
	let x = f(&[1, 3, 1, 1], &[1., 2., 3.]);
	let y = run1(
		Op::Lrn {
			alpha: F32Bits::new(0.3),
			beta: F32Bits::new(0.75),
			bias: F32Bits::new(2.0),
			size: 3,
		},
		&[&x],
	);
	let want: Vec<f32> = [(1.0f32, 5.0f32), (2., 14.), (3., 13.)]
		.iter()
		.map(|&(v, sq)| v / (2.0 + 0.1 * sq).powf(0.75))
		.collect();
	assert_close(&y, &[1, 3, 1, 1], &want, 1e-6);
	// LayerNormalization over the last axis.
	let x = f(&[2, 2], &[1., 3., 2., 2.]);
	let sc = f(&[2], &[1., 2.]);
	let y = run1(
		Op::LayerNormalization {
			axis: 1,
			epsilon: F32Bits::new(0.0),
		},
		&[&x, &sc],
	);
	assert_close(&y, &[2, 2], &[-1., 2., f32::NAN, f32::NAN], 1e-6);
}

// ------------------------------------------------------------------ activations

#[test]
fn activations() {
	let x = f(&[5], &[-2., -0.5, 0., 0.5, 2.]);
	assert_close(&run1(Op::Relu, &[&x]), &[5], &[0., 0., 0., 0.5, 2.], 0.0);
	assert_close(
		&run1(
			Op::LeakyRelu {
				alpha: F32Bits::new(0.1),
			},
			&[&x],
		),
		&[5],
		&[-0.2, -0.05, 0., 0.5, 2.],
		1e-7,
	);
	let sig: Vec<f32> = [-2f32, -0.5, 0., 0.5, 2.]
		.iter()
		.map(|v| 1.0 / (1.0 + (-v).exp()))
		.collect();
	assert_close(&run1(Op::Sigmoid, &[&x]), &[5], &sig, 1e-6);
	let th: Vec<f32> = [-2f32, -0.5, 0., 0.5, 2.]
		.iter()
		.map(|v| v.tanh())
		.collect();
	assert_close(&run1(Op::Tanh, &[&x]), &[5], &th, 1e-6);
	assert_close(
		&run1(
			Op::HardSigmoid {
				alpha: F32Bits::new(0.5),
				beta: F32Bits::new(0.6),
			},
			&[&x],
		),
		&[5],
		&[0., 0.35, 0.6, 0.85, 1.],
		1e-6,
	);
	let elu: Vec<f32> = [-2f32, -0.5]
		.iter()
		.map(|v| 2.0 * (v.exp() - 1.0))
		.collect();
	assert_close(
		&run1(
			Op::Elu {
				alpha: F32Bits::new(2.0),
			},
			&[&x],
		),
		&[5],
		&[elu[0], elu[1], 0., 0.5, 2.],
		1e-6,
	);
	let slope = f(&[1], &[0.25]);
	assert_close(
		&run1(Op::PRelu, &[&x, &slope]),
		&[5],
		&[-0.5, -0.125, 0., 0.5, 2.],
		0.0,
	);
	let lo = f(&[], &[-1.0]);
	let hi = f(&[], &[1.0]);
	assert_close(
		&run1(Op::Clip, &[&x, &lo, &hi]),
		&[5],
		&[-1., -0.5, 0., 0.5, 1.],
		0.0,
	);
	assert_close(
		&run(Op::Clip, &[Some(&x), None, Some(&hi)])[0],
		&[5],
		&[-2., -0.5, 0., 0.5, 1.],
		0.0,
	);
	// Relu on int8, Clip on int64.
	let xi = Tensor::from_i8(&[3], vec![-3, 0, 5]).unwrap();
	assert_eq!(run1(Op::Relu, &[&xi]).as_i8().unwrap(), &[0, 0, 5]);
	// Softmax / LogSoftmax along axis 1 (opset 13) and coerced (opset < 13).
	let x = f(&[2, 3], &[1., 2., 3., 1., 1., 1.]);
	let e = [1f32.exp(), 2f32.exp(), 3f32.exp()];
	let s: f32 = e.iter().sum();
	let y = run1(
		Op::Softmax {
			axis: 1,
			coerce_2d: false,
		},
		&[&x],
	);
	assert_close(
		&y,
		&[2, 3],
		&[e[0] / s, e[1] / s, e[2] / s, 1. / 3., 1. / 3., 1. / 3.],
		1e-6,
	);
	let y = run1(
		Op::LogSoftmax {
			axis: 1,
			coerce_2d: false,
		},
		&[&x],
	);
	assert_close(
		&y,
		&[2, 3],
		&[
			(e[0] / s).ln(),
			(e[1] / s).ln(),
			(e[2] / s).ln(),
			-(3f32.ln()),
			-(3f32.ln()),
			-(3f32.ln()),
		],
		1e-6,
	);
	let y = run1(
		Op::Softmax {
			axis: 0,
			coerce_2d: true,
		},
		&[&x],
	);
	let tot = 2.0 * 1f32.exp() + 2f32.exp() + 3f32.exp() + 2.0 * 1f32.exp();
	assert!((y.as_f32().unwrap()[2] - 3f32.exp() / tot).abs() < 1e-6);
	let y = run1(
		Op::Softmax {
			axis: 0,
			coerce_2d: false,
		},
		&[&x],
	);
	assert_close(
		&y,
		&[2, 3],
		&[
			0.5,
			1. / (1. + (-1f32).exp()),
			1. / (1. + (-2f32).exp()),
			0.5,
			1. - 1. / (1. + (-1f32).exp()),
			1. - 1. / (1. + (-2f32).exp()),
		],
		1e-6,
	);
}

// ------------------------------------------------------------------ elementwise

#[test]
fn binary_broadcasting_and_integer_semantics() {
	let a = f(&[2, 3], &[1., 2., 3., 4., 5., 6.]);
	let b = f(&[3], &[10., 20., 30.]);
	assert_close(
		&run1(Op::Binary(BinaryOp::Add), &[&a, &b]),
		&[2, 3],
		&[11., 22., 33., 14., 25., 36.],
		0.0,
	);
	let c = f(&[2, 1], &[1., 2.]);
	let d = f(&[1, 3], &[1., 2., 4.]);
	assert_close(
		&run1(Op::Binary(BinaryOp::Div), &[&c, &d]),
		&[2, 3],
		&[1., 0.5, 0.25, 2., 1., 0.5],
		0.0,
	);
	assert_close(
		&run1(Op::Binary(BinaryOp::Sub), &[&d, &c]),
		&[2, 3],
		&[0., 1., 3., -1., 0., 2.],
		0.0,
	);
	let p = run1(
		Op::Binary(BinaryOp::Pow),
		&[&f(&[3], &[2., 4., 9.]), &f(&[1], &[0.5])],
	);
	assert_close(&p, &[3], &[2f32.sqrt(), 2., 3.], 1e-7);
	// Pow with an integer exponent tensor.
	let p = run1(
		Op::Binary(BinaryOp::Pow),
		&[
			&f(&[2], &[2., 3.]),
			&Tensor::from_i64(&[2], vec![3, 2]).unwrap(),
		],
	);
	assert_close(&p, &[2], &[8., 9.], 0.0);
	// int8 wraps, division by zero gives 0, Mod follows the divisor's sign, Fmod the dividend's.
	let i = Tensor::from_i8(&[3], vec![127, -128, 7]).unwrap();
	let j = Tensor::from_i8(&[3], vec![1, -1, 0]).unwrap();
	assert_eq!(
		run1(Op::Binary(BinaryOp::Add), &[&i, &j]).as_i8().unwrap(),
		&[-128, 127, 7]
	);
	assert_eq!(
		run1(Op::Binary(BinaryOp::Mul), &[&i, &j]).as_i8().unwrap(),
		&[127, -128, 0]
	);
	assert_eq!(
		run1(Op::Binary(BinaryOp::Div), &[&i, &j]).as_i8().unwrap(),
		&[127, -128, 0]
	);
	let m = Tensor::from_i32(&[4], vec![-4, 7, 5, -5]).unwrap();
	let n = Tensor::from_i32(&[4], vec![3, -3, 0, 2]).unwrap();
	assert_eq!(
		run1(Op::Binary(BinaryOp::Mod), &[&m, &n]).as_i32().unwrap(),
		&[2, -2, 0, 1]
	);
	assert_eq!(
		run1(Op::Binary(BinaryOp::Fmod), &[&m, &n])
			.as_i32()
			.unwrap(),
		&[-1, 1, 0, -1]
	);
	let ip = run1(
		Op::Binary(BinaryOp::Pow),
		&[
			&Tensor::from_i64(&[3], vec![2, -3, 5]).unwrap(),
			&Tensor::from_i64(&[3], vec![10, 3, -1]).unwrap(),
		],
	);
	assert_eq!(ip.as_i64().unwrap(), &[1024, -27, 0]);
	// Comparisons and logic.
	let gt = run1(Op::Binary(BinaryOp::Greater), &[&a, &f(&[], &[3.])]);
	assert_eq!(
		gt.as_bool().unwrap(),
		&[false, false, false, true, true, true]
	);
	let t = Tensor::from_bool(&[2], vec![true, false]).unwrap();
	assert_eq!(
		run1(
			Op::Binary(BinaryOp::Xor),
			&[&t, &Tensor::from_bool(&[1], vec![true]).unwrap()]
		)
		.as_bool()
		.unwrap(),
		&[false, true]
	);
	// Incompatible broadcast is rejected.
	assert!(try_run(
		Op::Binary(BinaryOp::Add),
		&[Some(&a), Some(&f(&[2], &[1., 2.]))]
	)
	.is_err());
	assert!(try_run(Op::Binary(BinaryOp::Add), &[Some(&a), Some(&i)]).is_err());
}

#[test]
fn unary_variadic_where() {
	let x = f(&[4], &[-1.5, 0.5, 2.5, 4.0]);
	assert_close(
		&run1(Op::Unary(UnaryOp::Abs), &[&x]),
		&[4],
		&[1.5, 0.5, 2.5, 4.0],
		0.0,
	);
	assert_close(
		&run1(Op::Unary(UnaryOp::Neg), &[&x]),
		&[4],
		&[1.5, -0.5, -2.5, -4.0],
		0.0,
	);
	assert_close(
		&run1(Op::Unary(UnaryOp::Round), &[&x]),
		&[4],
		&[-2., 0., 2., 4.],
		0.0,
	);
	assert_close(
		&run1(Op::Unary(UnaryOp::Sqrt), &[&f(&[2], &[4., 2.])]),
		&[2],
		&[2., 2f32.sqrt()],
		0.0,
	);
	assert_close(
		&run1(Op::Unary(UnaryOp::Exp), &[&f(&[1], &[1.])]),
		&[1],
		&[core::f32::consts::E],
		1e-7,
	);
	assert_close(
		&run1(
			Op::Unary(UnaryOp::Log),
			&[&f(&[1], &[core::f32::consts::E])],
		),
		&[1],
		&[1.],
		1e-7,
	);
	let nan = run1(Op::Unary(UnaryOp::Log), &[&f(&[1], &[-1.])]);
	assert_eq!(
		nan.as_f32().unwrap()[0].to_bits(),
		verity_engine::linalg::CANONICAL_NAN_BITS
	);
	let i = Tensor::from_i8(&[2], vec![-128, 5]).unwrap();
	assert_eq!(
		run1(Op::Unary(UnaryOp::Neg), &[&i]).as_i8().unwrap(),
		&[-128, -5]
	);
	assert_eq!(
		run1(Op::Unary(UnaryOp::Abs), &[&i]).as_i8().unwrap(),
		&[-128, 5]
	);
	// Variadic with broadcasting.
	let a = f(&[2, 1], &[1., 5.]);
	let b = f(&[3], &[2., 3., 4.]);
	let c = f(&[], &[1.]);
	assert_close(
		&run1(Op::Variadic(VariadicOp::Sum), &[&a, &b, &c]),
		&[2, 3],
		&[4., 5., 6., 8., 9., 10.],
		0.0,
	);
	assert_close(
		&run1(Op::Variadic(VariadicOp::Mean), &[&a, &b]),
		&[2, 3],
		&[1.5, 2., 2.5, 3.5, 4., 4.5],
		0.0,
	);
	assert_close(
		&run1(Op::Variadic(VariadicOp::Max), &[&a, &b]),
		&[2, 3],
		&[2., 3., 4., 5., 5., 5.],
		0.0,
	);
	assert_close(
		&run1(Op::Variadic(VariadicOp::Min), &[&a, &b]),
		&[2, 3],
		&[1., 1., 1., 2., 3., 4.],
		0.0,
	);
	let m = run1(
		Op::Variadic(VariadicOp::Max),
		&[&f(&[2], &[1., f32::NAN]), &f(&[2], &[2., 0.])],
	);
	assert!(m.as_f32().unwrap()[1].is_nan());
	let cond = Tensor::from_bool(&[2, 1], vec![true, false]).unwrap();
	assert_close(
		&run1(Op::Where, &[&cond, &a, &b]),
		&[2, 3],
		&[1., 1., 1., 2., 3., 4.],
		0.0,
	);
}

// ------------------------------------------------------------------ reductions

#[test]
fn reductions() {
	let x = f(&[2, 3], &[1., 2., 3., 4., 5., 6.]);
	let r = |kind, axes: &[u32], keep| Op::Reduce {
		kind,
		axes: axes.to_vec(),
		keepdims: keep,
	};
	assert_close(
		&run1(r(ReduceKind::Sum, &[1], true), &[&x]),
		&[2, 1],
		&[6., 15.],
		0.0,
	);
	assert_close(
		&run1(r(ReduceKind::Mean, &[0], false), &[&x]),
		&[3],
		&[2.5, 3.5, 4.5],
		0.0,
	);
	assert_close(
		&run1(r(ReduceKind::Max, &[0, 1], false), &[&x]),
		&[],
		&[6.],
		0.0,
	);
	assert_close(
		&run1(r(ReduceKind::Min, &[1], false), &[&x]),
		&[2],
		&[1., 4.],
		0.0,
	);
	assert_close(
		&run1(r(ReduceKind::Prod, &[1], false), &[&x]),
		&[2],
		&[6., 120.],
		0.0,
	);
	assert_close(
		&run1(r(ReduceKind::SumSquare, &[1], false), &[&x]),
		&[2],
		&[14., 77.],
		0.0,
	);
	assert_close(
		&run1(r(ReduceKind::L2, &[1], false), &[&x]),
		&[2],
		&[14f32.sqrt(), 77f32.sqrt()],
		1e-7,
	);
	assert_close(
		&run1(r(ReduceKind::LogSumExp, &[1], false), &[&x]),
		&[2],
		&[
			(1f32.exp() + 2f32.exp() + 3f32.exp()).ln(),
			(4f32.exp() + 5f32.exp() + 6f32.exp()).ln(),
		],
		1e-6,
	);
	assert_close(
		&run1(r(ReduceKind::Sum, &[], true), &[&x]),
		&[2, 3],
		&[1., 2., 3., 4., 5., 6.],
		0.0,
	);
	let xi = Tensor::from_i64(&[2, 2], vec![i64::MAX, 1, 3, 4]).unwrap();
	assert_eq!(
		run1(r(ReduceKind::Sum, &[1], false), &[&xi])
			.as_i64()
			.unwrap(),
		&[i64::MIN, 7]
	);
	assert!(try_run(r(ReduceKind::Sum, &[1, 0], false), &[Some(&x)]).is_err());
	// ArgMax / ArgMin with select_last_index.
	let y = f(&[2, 3], &[2., 7., 7., 1., 0., 1.]);
	let a = |max, last, keep| Op::ArgExtremum {
		max,
		axis: 1,
		keepdims: keep,
		select_last_index: last,
	};
	assert_eq!(run1(a(true, false, true), &[&y]).as_i64().unwrap(), &[1, 0]);
	assert_eq!(run1(a(true, true, false), &[&y]).as_i64().unwrap(), &[2, 2]);
	assert_eq!(
		run1(a(false, false, false), &[&y]).as_i64().unwrap(),
		&[0, 1]
	);
	assert_eq!(run1(a(true, false, true), &[&y]).shape(), &[2, 1]);
}

// ------------------------------------------------------------------ shape ops

#[test]
fn shape_ops() {
	let x = f(&[2, 3], &[1., 2., 3., 4., 5., 6.]);
	assert_close(
		&run1(Op::Transpose { perm: vec![1, 0] }, &[&x]),
		&[3, 2],
		&[1., 4., 2., 5., 3., 6.],
		0.0,
	);
	assert_close(
		&run1(Op::Reshape { shape: vec![3, 2] }, &[&x]),
		&[3, 2],
		&[1., 2., 3., 4., 5., 6.],
		0.0,
	);
	assert!(try_run(Op::Reshape { shape: vec![4, 2] }, &[Some(&x)]).is_err());
	assert_eq!(run1(Op::Flatten { axis: 0 }, &[&x]).shape(), &[1, 6]);
	assert_eq!(
		run1(Op::Unsqueeze { axes: vec![0, 3] }, &[&x]).shape(),
		&[1, 2, 3, 1]
	);
	let u = run1(Op::Unsqueeze { axes: vec![0, 3] }, &[&x]);
	assert_eq!(run1(Op::Squeeze { axes: vec![] }, &[&u]).shape(), &[2, 3]);
	assert_eq!(
		run1(Op::Squeeze { axes: vec![3] }, &[&u]).shape(),
		&[1, 2, 3]
	);
	assert!(try_run(Op::Squeeze { axes: vec![1] }, &[Some(&u)]).is_err());
	assert_close(
		&run1(Op::Concat { axis: 1 }, &[&x, &x]),
		&[2, 6],
		&[1., 2., 3., 1., 2., 3., 4., 5., 6., 4., 5., 6.],
		0.0,
	);
	// Split is not an IR op: the front end lowers each ONNX Split output to a Slice.
	let s = Op::Slice {
		starts: vec![1],
		ends: vec![3],
		axes: vec![1],
		steps: vec![1],
	};
	assert_close(&run1(s, &[&x]), &[2, 2], &[2., 3., 5., 6.], 0.0);
	// Slice: ONNX examples incl. negative steps and clamping.
	let s = Op::Slice {
		starts: vec![0, 2],
		ends: vec![2, -100],
		axes: vec![0, 1],
		steps: vec![1, -1],
	};
	assert_close(&run1(s, &[&x]), &[2, 3], &[3., 2., 1., 6., 5., 4.], 0.0);
	let s = Op::Slice {
		starts: vec![1],
		ends: vec![i64::MAX],
		axes: vec![1],
		steps: vec![2],
	};
	assert_close(&run1(s, &[&x]), &[2, 1], &[2., 5.], 0.0);
	let s = Op::Slice {
		starts: vec![5],
		ends: vec![10],
		axes: vec![0],
		steps: vec![1],
	};
	assert_eq!(run1(s, &[&x]).shape(), &[0, 3]);
	// Gather with negative indices; out-of-range is an error, not a panic.
	let idx = Tensor::from_i64(&[2, 2], vec![0, -1, 1, 0]).unwrap();
	assert_close(
		&run1(Op::Gather { axis: 0 }, &[&x, &idx]),
		&[2, 2, 3],
		&[1., 2., 3., 4., 5., 6., 4., 5., 6., 1., 2., 3.],
		0.0,
	);
	let idx1 = Tensor::from_i32(&[1], vec![2]).unwrap();
	assert_close(
		&run1(Op::Gather { axis: 1 }, &[&x, &idx1]),
		&[2, 1],
		&[3., 6.],
		0.0,
	);
	assert!(try_run(
		Op::Gather { axis: 0 },
		&[Some(&x), Some(&Tensor::from_i64(&[1], vec![2]).unwrap())]
	)
	.is_err());
	// Pad modes (ONNX examples).
	let p = f(&[3, 2], &[1.0, 1.2, 2.3, 3.4, 4.5, 5.7]);
	let pads = vec![0, 2, 0, 0];
	let y = run1(
		Op::Pad {
			mode: PadMode::Constant,
			pads: pads.clone(),
		},
		&[&p],
	);
	assert_close(
		&y,
		&[3, 4],
		&[0., 0., 1.0, 1.2, 0., 0., 2.3, 3.4, 0., 0., 4.5, 5.7],
		0.0,
	);
	let y = run1(
		Op::Pad {
			mode: PadMode::Reflect,
			pads: pads.clone(),
		},
		&[&p],
	);
	assert_close(
		&y,
		&[3, 4],
		&[1.0, 1.2, 1.0, 1.2, 2.3, 3.4, 2.3, 3.4, 4.5, 5.7, 4.5, 5.7],
		0.0,
	);
	let y = run1(
		Op::Pad {
			mode: PadMode::Edge,
			pads: pads.clone(),
		},
		&[&p],
	);
	assert_close(
		&y,
		&[3, 4],
		&[1.0, 1.0, 1.0, 1.2, 2.3, 2.3, 2.3, 3.4, 4.5, 4.5, 4.5, 5.7],
		0.0,
	);
	let y = run1(
		Op::Pad {
			mode: PadMode::Wrap,
			pads: vec![2, 1, 1, 1],
		},
		&[&p],
	);
	assert_eq!(y.shape(), &[6, 4]);
	assert_eq!(&y.as_f32().unwrap()[..4], &[3.4, 2.3, 3.4, 2.3]);
	let cv = f(&[], &[9.0]);
	let y = run1(
		Op::Pad {
			mode: PadMode::Constant,
			pads: vec![1, 0, -1, 0],
		},
		&[&p, &cv],
	);
	assert_close(&y, &[3, 2], &[9., 9., 1.0, 1.2, 2.3, 3.4], 0.0);
	let y = run1(
		Op::Pad {
			mode: PadMode::Reflect,
			pads: vec![0, 3, 0, 0],
		},
		&[&f(&[1, 3], &[1., 2., 3.])],
	);
	assert_close(&y, &[1, 6], &[2., 3., 2., 1., 2., 3.], 0.0);
	// Cast.
	let c = run1(
		Op::Cast { to: DType::I32 },
		&[&f(&[4], &[1.9, -1.9, 1e20, f32::NAN])],
	);
	assert_eq!(c.as_i32().unwrap(), &[1, -1, i32::MAX, 0]);
	let c = run1(
		Op::Cast { to: DType::I8 },
		&[&Tensor::from_i64(&[2], vec![300, -1]).unwrap()],
	);
	assert_eq!(c.as_i8().unwrap(), &[44, -1]);
	let c = run1(Op::Cast { to: DType::Bool }, &[&f(&[2], &[0.0, -2.0])]);
	assert_eq!(c.as_bool().unwrap(), &[false, true]);
	// ConstantOfShape / Expand / Tile.
	let y = run(
		Op::ConstantOfShape {
			value: Tensor::from_i64(&[1], vec![7]).unwrap(),
			shape: vec![2, 2],
		},
		&[],
	);
	assert_eq!(y[0].as_i64().unwrap(), &[7, 7, 7, 7]);
	let y = run1(
		Op::Expand {
			shape: vec![2, 1, 3],
		},
		&[&f(&[3, 1], &[1., 2., 3.])],
	);
	assert_eq!(y.shape(), &[2, 3, 3]);
	assert_eq!(
		&y.as_f32().unwrap()[..9],
		&[1., 1., 1., 2., 2., 2., 3., 3., 3.]
	);
	let y = run1(
		Op::Tile {
			repeats: vec![1, 2],
		},
		&[&f(&[2, 2], &[1., 2., 3., 4.])],
	);
	assert_close(&y, &[2, 4], &[1., 2., 1., 2., 3., 4., 3., 4.], 0.0);
	assert_close(
		&run1(Op::Identity, &[&x]),
		&[2, 3],
		&[1., 2., 3., 4., 5., 6.],
		0.0,
	);
}

// ------------------------------------------------------------------ resize

fn resize(mode: ResizeMode, coord: CoordMode, sizes: &[u64], scales: &[f32]) -> Op {
	Op::Resize(ResizeAttrs {
		mode,
		coord,
		nearest: NearestMode::RoundPreferFloor,
		sizes: sizes.to_vec(),
		scales: scales.iter().map(|&s| F32Bits::new(s)).collect(),
		roi: vec![],
		cubic_coeff_a: F32Bits::new(-0.75),
		exclude_outside: false,
		extrapolation_value: F32Bits::new(0.0),
		antialias: false,
	})
}

#[test]
fn resize_modes() {
	let x = f(&[1, 1, 2, 2], &[1., 2., 3., 4.]);
	// test_resize_upsample_scales_nearest (asymmetric/floor in older opsets: use asymmetric).
	let y = run1(
		resize(
			ResizeMode::Nearest,
			CoordMode::HalfPixel,
			&[1, 1, 4, 6],
			&[1., 1., 2., 3.],
		),
		&[&x],
	);
	assert_close(
		&y,
		&[1, 1, 4, 6],
		&[
			1., 1., 1., 2., 2., 2., 1., 1., 1., 2., 2., 2., 3., 3., 3., 4., 4., 4., 3., 3., 3., 4.,
			4., 4.,
		],
		0.0,
	);
	// test_resize_upsample_scales_linear (half_pixel).
	let y = run1(
		resize(
			ResizeMode::Linear,
			CoordMode::HalfPixel,
			&[1, 1, 4, 4],
			&[1., 1., 2., 2.],
		),
		&[&x],
	);
	assert_close(
		&y,
		&[1, 1, 4, 4],
		&[
			1., 1.25, 1.75, 2., 1.5, 1.75, 2.25, 2.5, 2.5, 2.75, 3.25, 3.5, 3., 3.25, 3.75, 4.,
		],
		1e-6,
	);
	// test_resize_upsample_scales_linear_align_corners.
	let y = run1(
		resize(
			ResizeMode::Linear,
			CoordMode::AlignCorners,
			&[1, 1, 4, 4],
			&[1., 1., 2., 2.],
		),
		&[&x],
	);
	assert_close(
		&y,
		&[1, 1, 4, 4],
		&[
			1.0, 1.3333333, 1.6666667, 2.0, 1.6666667, 2.0, 2.3333333, 2.6666667, 2.3333333,
			2.6666667, 3.0, 3.3333333, 3.0, 3.3333333, 3.6666667, 4.0,
		],
		1e-6,
	);
	// test_resize_downsample_sizes_nearest: 2x4 -> 1x2 via sizes.
	let x = f(&[1, 1, 2, 4], &[1., 2., 3., 4., 5., 6., 7., 8.]);
	let y = run1(
		resize(
			ResizeMode::Nearest,
			CoordMode::HalfPixel,
			&[1, 1, 1, 2],
			&[],
		),
		&[&x],
	);
	assert_close(&y, &[1, 1, 1, 2], &[1., 3.], 0.0);
	// test_resize_downsample_scales_linear (half_pixel, scales 0.6).
	let y = run1(
		resize(
			ResizeMode::Linear,
			CoordMode::HalfPixel,
			&[1, 1, 1, 2],
			&[1., 1., 0.6, 0.6],
		),
		&[&x],
	);
	assert_close(&y, &[1, 1, 1, 2], &[2.666_666_5, 4.333_333], 1e-6);
	// Cubic on a constant input stays constant.
	let c = f(&[1, 1, 3, 3], &[2.0; 9]);
	let y = run1(
		resize(
			ResizeMode::Cubic,
			CoordMode::HalfPixel,
			&[1, 1, 6, 6],
			&[1., 1., 2., 2.],
		),
		&[&c],
	);
	assert_close(&y, &[1, 1, 6, 6], &[2.0; 36], 1e-6);
}

// ------------------------------------------------------------------ quantization

#[test]
fn quantize_dequantize() {
	let x = f(&[6], &[0., 2., 3., 1000., -254., -1000.]);
	let s = f(&[], &[2.0]);
	let z = Tensor::from_u8(&[], vec![128]).unwrap();
	let y = run1(Op::QuantizeLinear { axis: 1 }, &[&x, &s, &z]);
	assert_eq!(y.as_u8().unwrap(), &[128, 129, 130, 255, 1, 0]);
	// Round half to even: 0.5 -> 0, 1.5 -> 2, 2.5 -> 2, -0.5 -> 0, -1.5 -> -2.
	let x = f(&[5], &[0.5, 1.5, 2.5, -0.5, -1.5]);
	let zi = Tensor::from_i8(&[], vec![0]).unwrap();
	let y = run1(Op::QuantizeLinear { axis: 0 }, &[&x, &f(&[], &[1.0]), &zi]);
	assert_eq!(y.as_i8().unwrap(), &[0, 2, 2, 0, -2]);
	// Saturation on int8 and no zero point = uint8.
	let y = run1(
		Op::QuantizeLinear { axis: 0 },
		&[&f(&[2], &[500., -500.]), &f(&[], &[1.0]), &zi],
	);
	assert_eq!(y.as_i8().unwrap(), &[127, -128]);
	let y = run(
		Op::QuantizeLinear { axis: 0 },
		&[Some(&f(&[2], &[-3., 3.])), Some(&f(&[], &[1.0]))],
	);
	assert_eq!(y[0].as_u8().unwrap(), &[0, 3]);
	// Per-axis (test_quantizelinear_axis).
	let x = f(
		&[1, 3, 3, 2],
		&[
			-162., 10., -100., 232., -20., -50., -76., 0., 0., 252., 32., -44., 245., -485., -960.,
			-270., -375., -470.,
		],
	);
	let s = f(&[3], &[2., 4., 5.]);
	let z = Tensor::from_u8(&[3], vec![84, 24, 196]).unwrap();
	let y = run1(Op::QuantizeLinear { axis: 1 }, &[&x, &s, &z]);
	assert_eq!(
		y.as_u8().unwrap(),
		&[3, 89, 34, 200, 74, 59, 5, 24, 24, 87, 32, 13, 245, 99, 4, 142, 121, 102]
	);
	// DequantizeLinear, per tensor and per axis.
	let q = Tensor::from_u8(&[4], vec![0, 3, 128, 255]).unwrap();
	let y = run1(
		Op::DequantizeLinear { axis: 0 },
		&[
			&q,
			&f(&[], &[2.0]),
			&Tensor::from_u8(&[], vec![128]).unwrap(),
		],
	);
	assert_close(&y, &[4], &[-256., -250., 0., 254.], 0.0);
	let q = Tensor::from_i8(&[2, 2], vec![-1, 1, -1, 1]).unwrap();
	let y = run1(
		Op::DequantizeLinear { axis: 0 },
		&[
			&q,
			&f(&[2], &[1.0, 3.0]),
			&Tensor::from_i8(&[2], vec![0, 1]).unwrap(),
		],
	);
	assert_close(&y, &[2, 2], &[-1., 1., -6., 0.], 0.0);
}

#[test]
fn qlinear_and_integer_matmul_conv() {
	// test_qlinearmatmul_2D_uint8_float32.
	let a = Tensor::from_u8(&[2, 4], vec![208, 236, 0, 238, 3, 214, 255, 29]).unwrap();
	let b = Tensor::from_u8(
		&[4, 3],
		vec![152, 51, 244, 60, 26, 255, 0, 127, 246, 127, 254, 247],
	)
	.unwrap();
	let y = run1(
		Op::QLinearMatMul,
		&[
			&a,
			&f(&[], &[0.0066]),
			&Tensor::from_u8(&[], vec![113]).unwrap(),
			&b,
			&f(&[], &[0.00705]),
			&Tensor::from_u8(&[], vec![114]).unwrap(),
			&f(&[], &[0.0107]),
			&Tensor::from_u8(&[], vec![118]).unwrap(),
		],
	);
	assert_eq!(y.as_u8().unwrap(), &[168, 115, 255, 1, 66, 151]);
	// test_matmulinteger.
	let a = Tensor::from_u8(&[4, 3], vec![11, 7, 3, 10, 6, 2, 9, 5, 1, 8, 4, 0]).unwrap();
	let b = Tensor::from_u8(&[3, 2], vec![1, 4, 2, 5, 3, 6]).unwrap();
	let y = run1(
		Op::MatMulInteger,
		&[
			&a,
			&b,
			&Tensor::from_u8(&[], vec![12]).unwrap(),
			&Tensor::from_u8(&[], vec![0]).unwrap(),
		],
	);
	assert_eq!(
		y.as_i32().unwrap(),
		&[-38, -83, -44, -98, -50, -113, -56, -128]
	);
	// test_convinteger_with_padding.
	let x = Tensor::from_u8(&[1, 1, 3, 3], (2..11).collect()).unwrap();
	let w = Tensor::from_u8(&[1, 1, 2, 2], vec![1; 4]).unwrap();
	let y = run1(
		Op::ConvInteger(conv_attrs(&[1, 1, 1, 1], &[], &[], 1)),
		&[&x, &w, &Tensor::from_u8(&[], vec![1]).unwrap()],
	);
	assert_eq!(
		y.as_i32().unwrap(),
		&[1, 3, 5, 3, 5, 12, 16, 9, 11, 24, 28, 15, 7, 15, 17, 9]
	);
	// QLinearConv: identity-like 1x1 kernel with requantisation and bias.
	let x = Tensor::from_u8(&[1, 1, 2, 2], vec![10, 20, 30, 255]).unwrap();
	let w = Tensor::from_i8(&[2, 1, 1, 1], vec![2, -1]).unwrap();
	let y = run1(
		Op::QLinearConv(conv_attrs(&[], &[], &[], 1)),
		&[
			&x,
			&f(&[], &[0.5]),
			&Tensor::from_u8(&[], vec![10]).unwrap(),
			&w,
			&f(&[2], &[1.0, 2.0]),
			&Tensor::from_i8(&[2], vec![0, 0]).unwrap(),
			&f(&[], &[1.0]),
			&Tensor::from_u8(&[], vec![100]).unwrap(),
			&Tensor::from_i32(&[2], vec![1, 0]).unwrap(),
		],
	);
	// ch0: (2*(x-10)+1)*0.5 + 100 -> [100.5->100, 110.5->110, 120.5->120, 345.5->255]
	// ch1: (-(x-10))*1.0 + 100 -> [100, 90, 80, -145 -> 0]
	assert_eq!(y.as_u8().unwrap(), &[100, 110, 120, 255, 100, 90, 80, 0]);
}

#[test]
fn invalid_inputs_are_errors_not_panics() {
	let x = f(&[1, 1, 3, 3], &[0.0; 9]);
	let w = f(&[1, 2, 3, 3], &[0.0; 18]);
	assert!(try_run(
		Op::Conv(conv_attrs(&[], &[], &[], 1)),
		&[Some(&x), Some(&w)]
	)
	.is_err());
	assert!(try_run(
		Op::Conv(conv_attrs(&[], &[0, 0], &[], 1)),
		&[Some(&x), Some(&x)]
	)
	.is_err());
	assert!(try_run(
		Op::Conv(conv_attrs(&[u32::MAX; 4], &[], &[], 1)),
		&[Some(&x), Some(&x)]
	)
	.is_err());
	assert!(try_run(
		Op::Conv(conv_attrs(&[], &[], &[], 0)),
		&[Some(&x), Some(&x)]
	)
	.is_err());
	assert!(try_run(
		Op::MaxPool {
			pool: pool(&[5, 5], &[], &[], false),
		},
		&[Some(&x)]
	)
	.is_err());
	assert!(try_run(
		Op::Reshape {
			shape: vec![u64::MAX, 2]
		},
		&[Some(&x)]
	)
	.is_err());
	assert!(try_run(
		Op::Expand {
			shape: vec![1 << 30, 1 << 30]
		},
		&[Some(&x)]
	)
	.is_err());
	assert!(try_run(
		Op::Pad {
			mode: PadMode::Constant,
			pads: vec![i64::MAX; 8]
		},
		&[Some(&x)]
	)
	.is_err());
	assert!(try_run(
		Op::Tile {
			repeats: vec![u64::MAX; 4]
		},
		&[Some(&x)]
	)
	.is_err());
	assert!(try_run(
		Op::Transpose {
			perm: vec![0, 0, 1, 2]
		},
		&[Some(&x)]
	)
	.is_err());
	assert!(try_run(
		Op::Softmax {
			axis: 9,
			coerce_2d: false
		},
		&[Some(&x)]
	)
	.is_err());
	assert!(try_run(Op::MatMul, &[Some(&x)]).is_err());
	assert!(try_run(Op::Relu, &[None]).is_err());
}

#[test]
fn empty_tensors_with_huge_dims_are_cheap_or_refused() {
	use verity_engine::{exec::execute, ir::ValueRef, tensor::TensorType};
	// A zero-element input with a large axis: types check, nothing big is allocated.
	let mut b = Builder::new();
	let x = b.input(DType::F32, &[0, 1, 1 << 27]);
	let p = b.node1(
		Op::MaxPool {
			pool: pool(&[3], &[1, 1], &[1], false),
		},
		&[x],
	);
	let q = b.node1(
		Op::Pad {
			mode: PadMode::Constant,
			pads: vec![0, 0, 1 << 20, 0, 0, 0],
		},
		&[p],
	);
	b.output(q);
	let prog = b.build();
	let (outs, _) = execute(
		&prog,
		&[Tensor::zeros(DType::F32, &[0, 1, 1 << 27]).unwrap()],
	)
	.unwrap();
	assert_eq!(outs[0].shape(), &[0, 1, (1 << 27) + (1 << 20)]);
	// A dimension above the element cap is refused even when another is zero.
	assert!(TensorType::new(DType::F32, &[0, 1 << 40]).dims().is_err());
	let _ = ValueRef::Input(0);
}
