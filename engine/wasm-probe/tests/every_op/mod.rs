//! Every op kind of the IR, native vs wasm, on random and on special-value inputs.
//!
//! The kinds are derived from the IR's `TypeInfo` (see `kinds.rs`): every `Op` variant, split
//! by every enum or `bool` in its attributes (`Unary=Floor`, `Reduce.kind=Max`,
//! `Resize.coord=AlignCorners`, `ArgExtremum.max=false`…). The programs below instantiate each
//! kind at least once, and [`every_op_kind_is_bit_exact`] fails, naming them, if a kind has no
//! node in any of them, so a new variant needs a case before the test passes again.
//!
//! Each program runs through [`check_all`] twice: on ordinary random values, and on special
//! ones. Special floats are [`sweep`]'s (zeros of both signs, infinities, NaNs with payloads
//! and signs, subnormals, `f32::MAX`…); special integers are each type's extremes and the values
//! next to them, the rounding edges of `f32` and `f64`, and small values around zero; Bool
//! inputs hold both values. Binary and variadic ops take `[N, 1]` against `[1, N]`, so every
//! ordered pair of special values meets, and reductions, ArgMax/ArgMin and max pooling see every
//! pair as one window (`-0.0` against `+0.0`, NaN against infinity, in both orders).
//!
//! `limits.rs` adds attributes and shapes at the engine's size limits, where 64-bit (native) and
//! 32-bit (wasm) size arithmetic could part: valid alike and bit-identical, or refused alike.

mod kinds;
mod limits;

use std::collections::BTreeSet;

use kinds::OpTypes;
use verity_engine::{
	ir::*,
	ops,
	tensor::{DType, Tensor, TensorData, TensorType},
};

use super::{f32s, sweep};
use crate::{
	common::{Builder, Rng},
	probe::{check_all, Depth},
};

/// Length of the pair inputs: more than [`sweep`]'s special values, so all of them are in both.
const N: usize = 32;

const UNARY: [UnaryOp; 15] = [
	UnaryOp::Neg,
	UnaryOp::Abs,
	UnaryOp::Sqrt,
	UnaryOp::Exp,
	UnaryOp::Log,
	UnaryOp::Reciprocal,
	UnaryOp::Floor,
	UnaryOp::Ceil,
	UnaryOp::Round,
	UnaryOp::Sign,
	UnaryOp::Erf,
	UnaryOp::Sin,
	UnaryOp::Cos,
	UnaryOp::Not,
	UnaryOp::IsNaN,
];

const BINARY: [BinaryOp; 15] = [
	BinaryOp::Add,
	BinaryOp::Sub,
	BinaryOp::Mul,
	BinaryOp::Div,
	BinaryOp::Pow,
	BinaryOp::Mod,
	BinaryOp::Fmod,
	BinaryOp::And,
	BinaryOp::Or,
	BinaryOp::Xor,
	BinaryOp::Equal,
	BinaryOp::Less,
	BinaryOp::LessOrEqual,
	BinaryOp::Greater,
	BinaryOp::GreaterOrEqual,
];

const VARIADIC: [VariadicOp; 4] = [
	VariadicOp::Sum,
	VariadicOp::Mean,
	VariadicOp::Min,
	VariadicOp::Max,
];

const REDUCE: [ReduceKind; 10] = [
	ReduceKind::Sum,
	ReduceKind::Mean,
	ReduceKind::Max,
	ReduceKind::Min,
	ReduceKind::Prod,
	ReduceKind::SumSquare,
	ReduceKind::L1,
	ReduceKind::L2,
	ReduceKind::LogSum,
	ReduceKind::LogSumExp,
];

const PAD: [PadMode; 4] = [
	PadMode::Constant,
	PadMode::Reflect,
	PadMode::Edge,
	PadMode::Wrap,
];

const COORD: [CoordMode; 6] = [
	CoordMode::HalfPixel,
	CoordMode::PytorchHalfPixel,
	CoordMode::AlignCorners,
	CoordMode::Asymmetric,
	CoordMode::TfCropAndResize,
	CoordMode::HalfPixelSymmetric,
];

const NEAREST: [NearestMode; 4] = [
	NearestMode::RoundPreferFloor,
	NearestMode::RoundPreferCeil,
	NearestMode::Floor,
	NearestMode::Ceil,
];

fn activations() -> [Activation; 4] {
	[
		Activation::None,
		Activation::Relu,
		Activation::LeakyRelu { alpha: f32s(0.1) },
		Activation::Clip {
			min: f32s(-0.5),
			max: f32s(0.0),
		},
	]
}

// ---------------------------------------------------------------------------------------------
// Building blocks
// ---------------------------------------------------------------------------------------------

/// Whether `op` accepts inputs of these types.
fn accepts(op: &Op, types: &[TensorType]) -> bool {
	let types: Vec<Option<TensorType>> = types.iter().cloned().map(Some).collect();
	ops::infer(op, &types).is_ok()
}

fn ty(b: &Builder, v: ValueRef) -> TensorType {
	b.p.value_type(v).expect("value")
}

/// Appends `op` on `inputs` if it accepts their types (so a dtype-generic program holds every
/// op that the dtype supports).
fn try_node(b: &mut Builder, op: Op, inputs: &[ValueRef]) -> Option<ValueRef> {
	let types: Vec<TensorType> = inputs.iter().map(|&v| ty(b, v)).collect();
	accepts(&op, &types).then(|| b.node1(op, inputs))
}

/// A tensor of `dtype` from `f64` values: Rust `as` (saturating) to integers, `!= 0` to Bool.
fn typed(dtype: DType, shape: &[usize], v: &[f64]) -> Tensor {
	let data = match dtype {
		DType::F32 => TensorData::F32(v.iter().map(|&x| x as f32).collect()),
		DType::I64 => TensorData::I64(v.iter().map(|&x| x as i64).collect()),
		DType::I32 => TensorData::I32(v.iter().map(|&x| x as i32).collect()),
		DType::I8 => TensorData::I8(v.iter().map(|&x| x as i8).collect()),
		DType::U8 => TensorData::U8(v.iter().map(|&x| x as u8).collect()),
		DType::Bool => TensorData::Bool(v.iter().map(|&x| x != 0.0).collect()),
	};
	Tensor::new(shape.to_vec(), data).expect("shape matches the values")
}

/// A tensor of `dtype` from `i64` values: wrapping to narrower integers, rounding to `f32`, the
/// lowest bit to Bool.
fn integers(dtype: DType, shape: &[usize], v: &[i64]) -> Tensor {
	let data = match dtype {
		DType::I64 => TensorData::I64(v.to_vec()),
		DType::I32 => TensorData::I32(v.iter().map(|&x| x as i32).collect()),
		DType::I8 => TensorData::I8(v.iter().map(|&x| x as i8).collect()),
		DType::U8 => TensorData::U8(v.iter().map(|&x| x as u8).collect()),
		DType::Bool => TensorData::Bool(v.iter().map(|&x| x & 1 == 1).collect()),
		DType::F32 => TensorData::F32(v.iter().map(|&x| x as f32).collect()),
	};
	Tensor::new(shape.to_vec(), data).expect("shape matches the values")
}

fn f32_weight(b: &mut Builder, shape: &[usize], v: Vec<f32>) -> ValueRef {
	b.weight(Tensor::from_f32(shape, v).unwrap())
}

/// Random weights in `[-1, 1)`.
fn rand_weight(b: &mut Builder, r: &mut Rng, shape: &[usize]) -> ValueRef {
	b.weight(r.tensor(shape))
}

/// `[N, N, 2]`: element `(i, j)` is the pair `(a[i], b[j])` of `a: [N, 1]` and `b: [1, N]`.
fn pairs(b: &mut Builder, a: ValueRef, bb: ValueRef) -> ValueRef {
	let n = N as u64;
	let a3 = b.node1(
		Op::Reshape {
			shape: vec![n, 1, 1],
		},
		&[a],
	);
	let b3 = b.node1(
		Op::Reshape {
			shape: vec![1, n, 1],
		},
		&[bb],
	);
	let pa = b.node1(
		Op::Expand {
			shape: vec![n, n, 1],
		},
		&[a3],
	);
	let pb = b.node1(
		Op::Expand {
			shape: vec![n, n, 1],
		},
		&[b3],
	);
	b.node1(Op::Concat { axis: 2 }, &[pa, pb])
}

/// Makes every node a program output and validates.
fn finish(mut b: Builder) -> Program {
	for node in 0..b.p.nodes.len() as u32 {
		b.output(ValueRef::Node { node, output: 0 });
	}
	b.build()
}

fn pool_attrs(
	kernel: &[u32],
	pads: &[u32],
	strides: &[u32],
	dilations: &[u32],
	ceil: bool,
) -> PoolAttrs {
	PoolAttrs {
		kernel: kernel.to_vec(),
		pads: pads.to_vec(),
		strides: strides.to_vec(),
		dilations: dilations.to_vec(),
		ceil_mode: ceil,
	}
}

fn conv_attrs(pads: &[u32], strides: &[u32], dilations: &[u32], group: u32) -> ConvAttrs {
	ConvAttrs {
		pads: pads.to_vec(),
		strides: strides.to_vec(),
		dilations: dilations.to_vec(),
		group,
	}
}

// ---------------------------------------------------------------------------------------------
// Programs
// ---------------------------------------------------------------------------------------------

/// Every elementwise op, activation, clip, cast, reduction, ArgMax/ArgMin, max pooling, softmax
/// and matmul that accepts `dtype`: unary ops and activations on `x: [1024]`, binary and
/// variadic ops and `Where` on `a: [N, 1]` against `b: [1, N]`, reductions and pooling on their
/// [`pairs`].
fn elementwise(dtype: DType) -> Program {
	let mut r = Rng(0xe1e0 + dtype.code() as u64);
	let mut b = Builder::new();
	let a = b.input(dtype, &[N, 1]);
	let bb = b.input(dtype, &[1, N]);
	let x = b.input(dtype, &[1024]);
	let nn = vec![N as u64, N as u64];

	for u in UNARY {
		try_node(&mut b, Op::Unary(u), &[x]);
	}
	for op in [
		Op::Relu,
		Op::LeakyRelu { alpha: f32s(0.01) },
		Op::LeakyRelu { alpha: f32s(-3.0) },
		Op::Elu { alpha: f32s(0.7) },
		Op::Selu {
			alpha: f32s(1.673_263_2),
			gamma: f32s(1.050_701),
		},
		Op::Sigmoid,
		Op::HardSigmoid {
			alpha: f32s(0.2),
			beta: f32s(0.5),
		},
		Op::HardSwish,
		Op::Tanh,
		Op::Softplus,
		Op::Gelu { tanh_approx: false },
		Op::Gelu { tanh_approx: true },
	] {
		try_node(&mut b, op, &[x]);
	}
	let ea = b.node1(Op::Expand { shape: nn.clone() }, &[a]);
	try_node(&mut b, Op::PRelu, &[ea, bb]);
	if accepts(&Op::Clip, &[ty(&b, x)]) {
		let nan = f64::NAN;
		for (lo, hi) in [
			(Some(-1.0), Some(1.0)),
			(Some(-0.0), Some(0.0)),
			(Some(5.0), Some(-3.0)),
			(Some(nan), Some(f64::INFINITY)),
			(Some(0.5), None),
			(None, Some(-0.0)),
			(None, None),
		] {
			let mut bound = |v: Option<f64>| v.map(|v| b.weight(typed(dtype, &[], &[v])));
			let (lo, hi) = (bound(lo), bound(hi));
			b.node(Op::Clip, &[Some(x), lo, hi]);
		}
	}

	for op in BINARY {
		try_node(&mut b, Op::Binary(op), &[a, bb]);
	}
	// Pow with exponents of every other type.
	for to in DType::ALL.into_iter().filter(|&t| t != dtype) {
		let e = TensorType::new(to, &[1, N]);
		if accepts(&Op::Binary(BinaryOp::Pow), &[ty(&b, a), e]) {
			let e = b.node1(Op::Cast { to }, &[bb]);
			b.node1(Op::Binary(BinaryOp::Pow), &[a, e]);
		}
	}
	for v in VARIADIC {
		for ins in [&[a][..], &[a, bb][..], &[bb, a, ea][..]] {
			try_node(&mut b, Op::Variadic(v), ins);
		}
	}
	let cond: Vec<bool> = (0..N * N).map(|_| r.below(2) == 1).collect();
	let cond = b.weight(Tensor::from_bool(&[N, N], cond).unwrap());
	b.node1(Op::Where, &[cond, a, bb]);
	if let Some(lt) = try_node(&mut b, Op::Binary(BinaryOp::Less), &[a, bb]) {
		b.node1(Op::Where, &[lt, bb, a]);
	}
	for to in DType::ALL {
		b.node1(Op::Cast { to }, &[x]);
	}
	let m = b.node1(
		Op::Reshape {
			shape: vec![32, 32],
		},
		&[x],
	);
	try_node(&mut b, Op::MatMul, &[m, m]);
	try_node(&mut b, Op::MatMul, &[a, bb]);

	let p = pairs(&mut b, a, bb);
	for kind in REDUCE {
		for (axes, keepdims) in [
			(vec![2], false),
			(vec![2], true),
			(vec![1, 2], true),
			(vec![], false),
		] {
			try_node(
				&mut b,
				Op::Reduce {
					kind,
					axes,
					keepdims,
				},
				&[p],
			);
		}
	}
	for max in [false, true] {
		for select_last_index in [false, true] {
			for (axis, keepdims) in [(2, false), (1, true)] {
				try_node(
					&mut b,
					Op::ArgExtremum {
						max,
						axis,
						keepdims,
						select_last_index,
					},
					&[p],
				);
			}
		}
	}
	// One-dimensional windows over each pair: exactly the pair, and the pair seen from both
	// padded sides.
	for pool in [
		pool_attrs(&[2], &[0, 0], &[2], &[1], false),
		pool_attrs(&[3], &[1, 1], &[1], &[1], true),
	] {
		try_node(&mut b, Op::MaxPool { pool }, &[p]);
	}
	try_node(&mut b, Op::GlobalMaxPool, &[p]);
	try_node(&mut b, Op::GlobalAveragePool, &[p]);
	for (axis, coerce_2d) in [(2, false), (1, true)] {
		try_node(&mut b, Op::Softmax { axis, coerce_2d }, &[p]);
		try_node(&mut b, Op::LogSoftmax { axis, coerce_2d }, &[p]);
	}
	finish(b)
}

/// Convolutions, pooling, normalisations, softmax, matrix products and resizing on an image,
/// and on the same image with every finite value replaced by a zero of random sign; every data
/// movement op with edge attributes (negative pads, negative steps and indices, indices computed
/// by ArgMax); ConstantOfShape of every type.
fn spatial() -> Program {
	let mut r = Rng(0x5a7);
	let mut b = Builder::new();
	let x = b.input(DType::F32, &[2, 4, 8, 8]);
	let signs: Vec<f32> = (0..512)
		.map(|_| if r.below(2) == 0 { 0.0 } else { -0.0 })
		.collect();
	let signs = f32_weight(&mut b, &[2, 4, 8, 8], signs);
	let zeros = b.node1(Op::Binary(BinaryOp::Mul), &[x, signs]);

	for src in [x, zeros] {
		let grouped = conv_attrs(&[1, 0, 2, 1], &[1, 2], &[2, 1], 2);
		let w = rand_weight(&mut b, &mut r, &[6, 2, 3, 3]);
		let bias = rand_weight(&mut b, &mut r, &[6]);
		let c = b.node1(Op::Conv(grouped.clone()), &[src, w, bias]);
		for activation in activations() {
			b.node1(
				Op::FusedConv {
					conv: grouped.clone(),
					activation,
				},
				&[src, w, bias, c],
			);
		}
		let w1 = rand_weight(&mut b, &mut r, &[3, 4, 1, 1]);
		b.node1(
			Op::Conv(conv_attrs(&[0; 4], &[1, 1], &[1, 1], 1)),
			&[src, w1],
		);
		let wt = rand_weight(&mut b, &mut r, &[4, 3, 3, 3]);
		let bt = rand_weight(&mut b, &mut r, &[6]);
		b.node1(
			Op::ConvTranspose(ConvTransposeAttrs {
				conv: conv_attrs(&[1, 0, 1, 1], &[2, 2], &[1, 2], 2),
				output_padding: vec![1, 1],
			}),
			&[src, wt, bt],
		);

		for ceil in [false, true] {
			let pool = pool_attrs(&[3, 2], &[1, 0, 1, 1], &[2, 3], &[1, 2], ceil);
			b.node1(Op::MaxPool { pool }, &[src]);
			for count_include_pad in [false, true] {
				let pool = pool_attrs(&[3, 3], &[1; 4], &[2, 2], &[1, 1], ceil);
				b.node1(
					Op::AveragePool {
						pool,
						count_include_pad,
					},
					&[src],
				);
			}
		}
		b.node1(Op::GlobalAveragePool, &[src]);
		b.node1(Op::GlobalMaxPool, &[src]);

		let eps = f32s(1e-5);
		let (sc, sh, mean) = (
			rand_weight(&mut b, &mut r, &[4]),
			rand_weight(&mut b, &mut r, &[4]),
			rand_weight(&mut b, &mut r, &[4]),
		);
		let var = f32_weight(&mut b, &[4], vec![0.0, 0.5, 2.0, 1e-3]);
		b.node1(
			Op::BatchNormalization { epsilon: eps },
			&[src, sc, sh, mean, var],
		);
		b.node1(Op::InstanceNormalization { epsilon: eps }, &[src, sc, sh]);
		b.node1(
			Op::Lrn {
				alpha: f32s(1e-4),
				beta: f32s(0.75),
				bias: f32s(1.0),
				size: 3,
			},
			&[src],
		);
		let (ls, lb) = (
			rand_weight(&mut b, &mut r, &[4, 8, 8]),
			rand_weight(&mut b, &mut r, &[4, 8, 8]),
		);
		b.node1(
			Op::LayerNormalization {
				axis: 1,
				epsilon: eps,
			},
			&[src, ls, lb],
		);
		let ls = rand_weight(&mut b, &mut r, &[8]);
		b.node1(
			Op::LayerNormalization {
				axis: 3,
				epsilon: eps,
			},
			&[src, ls],
		);
		for coerce_2d in [false, true] {
			b.node1(Op::Softmax { axis: 1, coerce_2d }, &[src]);
			b.node1(Op::LogSoftmax { axis: 1, coerce_2d }, &[src]);
		}

		// Gemm under every transposition, with and without C; batched, broadcasting MatMul.
		let a = b.node1(
			Op::Reshape {
				shape: vec![16, 32],
			},
			&[src],
		);
		for (k, (trans_a, trans_b)) in [(false, false), (false, true), (true, false), (true, true)]
			.into_iter()
			.enumerate()
		{
			let (m, kk) = if trans_a { (32, 16) } else { (16, 32) };
			let w_shape = if trans_b { [5, kk] } else { [kk, 5] };
			let w = rand_weight(&mut b, &mut r, &w_shape);
			let c = match k {
				0 => Some(rand_weight(&mut b, &mut r, &[5])),
				1 => Some(rand_weight(&mut b, &mut r, &[m, 5])),
				2 => None,
				_ => Some(rand_weight(&mut b, &mut r, &[m, 1])),
			};
			let gemm = Op::Gemm {
				alpha: f32s(if k % 2 == 0 { 1.0 } else { 0.5 }),
				beta: f32s(if k == 3 { 0.0 } else { 2.0 }),
				trans_a,
				trans_b,
			};
			b.node(gemm, &[Some(a), Some(w), c]);
		}
		let w = rand_weight(&mut b, &mut r, &[8, 5]);
		b.node1(Op::MatMul, &[src, w]);
		let w = rand_weight(&mut b, &mut r, &[4, 8, 3]);
		b.node1(Op::MatMul, &[src, w]);

		// Resize: every coordinate mode with every interpolation, the rounding, outside
		// exclusion and antialiasing alternating; sizes and scales mixing up and down.
		for (i, coord) in COORD.into_iter().enumerate() {
			for (j, mode) in [ResizeMode::Nearest, ResizeMode::Linear, ResizeMode::Cubic]
				.into_iter()
				.enumerate()
			{
				let k = i * 3 + j;
				let (sizes, scales) = if k % 2 == 0 {
					(vec![2, 4, 5, 13], vec![])
				} else {
					(vec![2, 4, 4, 13], [1.0, 1.0, 0.6, 1.7].map(f32s).to_vec())
				};
				let roi = if coord == CoordMode::TfCropAndResize {
					[0.0, 0.0, 0.1, -0.2, 1.0, 1.0, 0.9, 1.3].map(f32s).to_vec()
				} else {
					vec![]
				};
				b.node1(
					Op::Resize(ResizeAttrs {
						mode,
						coord,
						nearest: NEAREST[k % 4],
						sizes,
						scales,
						roi,
						cubic_coeff_a: f32s(if i % 2 == 0 { -0.75 } else { -0.5 }),
						exclude_outside: i % 2 == 1,
						extrapolation_value: f32s(-0.0),
						antialias: (i + j) % 2 == 0,
					}),
					&[src],
				);
			}
		}
	}

	// Integer pooling and resizing (their own code paths).
	let xi = b.node1(Op::Cast { to: DType::I8 }, &[x]);
	let pool = pool_attrs(&[3, 3], &[1; 4], &[2, 2], &[1, 1], true);
	b.node1(Op::MaxPool { pool }, &[xi]);
	b.node1(
		Op::Resize(ResizeAttrs {
			mode: ResizeMode::Nearest,
			coord: CoordMode::Asymmetric,
			nearest: NearestMode::Floor,
			sizes: vec![2, 4, 3, 17],
			scales: vec![],
			roi: vec![],
			cubic_coeff_a: f32s(-0.75),
			exclude_outside: false,
			extrapolation_value: f32s(0.0),
			antialias: false,
		}),
		&[xi],
	);

	// Data movement.
	let cval = f32_weight(&mut b, &[], vec![-0.0]);
	for mode in PAD {
		let pad = Op::Pad {
			mode,
			pads: vec![0, 1, 2, -1, 1, 0, -2, 3],
		};
		b.node1(pad.clone(), &[x]);
		if mode == PadMode::Constant {
			b.node1(pad, &[x, cval]);
		}
	}
	b.node1(
		Op::Transpose {
			perm: vec![0, 2, 3, 1],
		},
		&[x],
	);
	b.node1(
		Op::Transpose {
			perm: vec![3, 1, 0, 2],
		},
		&[x],
	);
	b.node1(
		Op::Slice {
			starts: vec![-1, 7],
			ends: vec![i64::MIN, 0],
			axes: vec![2, 3],
			steps: vec![-2, -3],
		},
		&[x],
	);
	b.node1(
		Op::Slice {
			starts: vec![1, i64::MIN],
			ends: vec![i64::MAX, 5],
			axes: vec![1, 3],
			steps: vec![2, 1],
		},
		&[x],
	);
	let idx = b.weight(Tensor::from_i64(&[5], vec![-1, 0, 3, -4, 2]).unwrap());
	b.node1(Op::Gather { axis: 1 }, &[x, idx]);
	let idx = b.weight(Tensor::from_i32(&[2, 2], vec![7, -8, 0, -1]).unwrap());
	b.node1(Op::Gather { axis: 3 }, &[x, idx]);
	let idx = b.weight(Tensor::from_i64(&[], vec![-1]).unwrap());
	b.node1(Op::Gather { axis: 0 }, &[x, idx]);
	let argmax = b.node1(
		Op::ArgExtremum {
			max: true,
			axis: 3,
			keepdims: false,
			select_last_index: false,
		},
		&[x],
	);
	b.node1(Op::Gather { axis: 3 }, &[x, argmax]);
	let g = b.node1(Op::GlobalMaxPool, &[x]);
	b.node1(Op::Squeeze { axes: vec![2, 3] }, &[g]);
	b.node1(Op::Squeeze { axes: vec![] }, &[g]);
	b.node1(Op::Unsqueeze { axes: vec![0, 5] }, &[x]);
	b.node1(Op::Concat { axis: 1 }, &[x, zeros, x]);
	b.node1(Op::Concat { axis: 3 }, &[zeros, x]);
	for axis in [0, 2, 4] {
		b.node1(Op::Flatten { axis }, &[x]);
	}
	b.node1(Op::Identity, &[x]);
	b.node1(Op::Reshape { shape: vec![8, 64] }, &[x]);
	b.node1(
		Op::Expand {
			shape: vec![2, 4, 3, 8],
		},
		&[g],
	);
	b.node1(
		Op::Expand {
			shape: vec![3, 1, 1, 1, 1],
		},
		&[x],
	);
	b.node1(
		Op::Tile {
			repeats: vec![1, 2, 1, 3],
		},
		&[x],
	);
	for (value, shape) in [
		(
			Tensor::from_f32(&[], vec![f32::from_bits(0xffc0_1234)]),
			vec![3, 2],
		),
		(Tensor::from_f32(&[], vec![-0.0]), vec![0, 4]),
		(Tensor::from_i64(&[], vec![i64::MIN]), vec![2]),
		(Tensor::from_i32(&[], vec![i32::MAX]), vec![1, 3]),
		(Tensor::from_i8(&[], vec![i8::MIN]), vec![]),
		(Tensor::from_u8(&[], vec![u8::MAX]), vec![4]),
		(Tensor::from_bool(&[], vec![true]), vec![2, 2]),
	] {
		b.node(
			Op::ConstantOfShape {
				value: value.unwrap(),
				shape,
			},
			&[],
		);
	}
	finish(b)
}

/// Quantisation of an image to U8 and I8 (per tensor, per axis with zero, negative and tiny
/// scales, without a zero point, from I32), dequantisation of every integer type, and the
/// quantized and integer convolutions and matmuls on U8 and I8 operands.
fn quantized() -> Program {
	let mut r = Rng(0x9a7);
	let mut b = Builder::new();
	let x = b.input(DType::F32, &[2, 3, 6, 6]);
	let i8s = |r: &mut Rng, n: usize| -> Vec<i8> { (0..n).map(|_| r.next_u64() as i8).collect() };
	let u8s = |r: &mut Rng, n: usize| -> Vec<u8> { (0..n).map(|_| r.next_u64() as u8).collect() };

	let xs = f32_weight(&mut b, &[], vec![0.02]);
	let xzp = b.weight(Tensor::from_u8(&[], vec![128]).unwrap());
	let q = b.node1(Op::QuantizeLinear { axis: 1 }, &[x, xs, xzp]);
	let ts = f32_weight(&mut b, &[], vec![0.25]);
	let tzp = b.weight(Tensor::from_i8(&[], vec![-3]).unwrap());
	let qi = b.node1(Op::QuantizeLinear { axis: 1 }, &[x, ts, tzp]);
	let ns = f32_weight(&mut b, &[], vec![0.1]);
	b.node1(Op::QuantizeLinear { axis: 0 }, &[x, ns]);
	let axs = f32_weight(&mut b, &[3], vec![0.05, 0.0, -1e-30]);
	let azp = b.weight(Tensor::from_i8(&[3], vec![-128, 0, 127]).unwrap());
	let qa = b.node1(Op::QuantizeLinear { axis: 1 }, &[x, axs, azp]);
	let xi32 = b.node1(Op::Cast { to: DType::I32 }, &[x]);
	let s3 = f32_weight(&mut b, &[], vec![3.0]);
	let zp5 = b.weight(Tensor::from_i8(&[], vec![5]).unwrap());
	b.node1(Op::QuantizeLinear { axis: 1 }, &[xi32, s3, zp5]);

	b.node1(Op::DequantizeLinear { axis: 1 }, &[q, xs, xzp]);
	b.node1(Op::DequantizeLinear { axis: 1 }, &[qi, ts]);
	b.node1(Op::DequantizeLinear { axis: 1 }, &[qa, axs, azp]);
	let ms = f32_weight(&mut b, &[], vec![1e-3]);
	b.node1(Op::DequantizeLinear { axis: 0 }, &[xi32, ms]);

	// QLinearConv: U8 activations with per-channel I8 weights and an I32 bias at the extremes;
	// I8 activations with U8 weights, no bias.
	let w = b.weight(Tensor::from_i8(&[4, 3, 3, 3], i8s(&mut r, 108)).unwrap());
	let ws = f32_weight(&mut b, &[4], vec![0.003, 0.01, 1e-6, 0.5]);
	let wzp = b.weight(Tensor::from_i8(&[4], vec![0, -1, 127, -128]).unwrap());
	let ys = f32_weight(&mut b, &[], vec![0.05]);
	let yzp = b.weight(Tensor::from_u8(&[], vec![100]).unwrap());
	let bias = b.weight(Tensor::from_i32(&[4], vec![i32::MAX, i32::MIN, 0, -1000]).unwrap());
	b.node1(
		Op::QLinearConv(conv_attrs(&[1; 4], &[1, 1], &[1, 1], 1)),
		&[q, xs, xzp, w, ws, wzp, ys, yzp, bias],
	);
	let wu = b.weight(Tensor::from_u8(&[6, 1, 2, 2], u8s(&mut r, 24)).unwrap());
	let wus = f32_weight(&mut b, &[], vec![0.007]);
	let wuzp = b.weight(Tensor::from_u8(&[], vec![3]).unwrap());
	let yzpi = b.weight(Tensor::from_i8(&[], vec![-7]).unwrap());
	b.node1(
		Op::QLinearConv(conv_attrs(&[0, 1, 1, 0], &[2, 1], &[1, 2], 3)),
		&[qi, ts, tzp, wu, wus, wuzp, ys, yzpi],
	);

	// QLinearMatMul: U8 × I8 (per-column B scales) → U8, I8 × U8 → I8.
	let qm = b.node1(Op::Reshape { shape: vec![36, 6] }, &[q]);
	let qim = b.node1(Op::Reshape { shape: vec![36, 6] }, &[qi]);
	let bm = b.weight(Tensor::from_i8(&[6, 5], i8s(&mut r, 30)).unwrap());
	let bms = f32_weight(&mut b, &[5], vec![0.01, 0.02, 0.03, 1e-7, 2.0]);
	let bmzp = b.weight(Tensor::from_i8(&[5], vec![0, 1, -1, 127, -128]).unwrap());
	b.node1(Op::QLinearMatMul, &[qm, xs, xzp, bm, bms, bmzp, ys, yzp]);
	let bu = b.weight(Tensor::from_u8(&[6, 4], u8s(&mut r, 24)).unwrap());
	b.node1(Op::QLinearMatMul, &[qim, ts, tzp, bu, wus, wuzp, ys, yzpi]);

	// Integer matmul and convolution, with zero points (per row, per output channel) and
	// without.
	let rzp = b.weight(Tensor::from_u8(&[36], u8s(&mut r, 36)).unwrap());
	b.node(
		Op::MatMulInteger,
		&[Some(qm), Some(bm), Some(rzp), Some(bmzp)],
	);
	b.node1(Op::MatMulInteger, &[qim, bu]);
	let wi = b.weight(Tensor::from_i8(&[5, 3, 2, 3], i8s(&mut r, 90)).unwrap());
	let wizp = b.weight(Tensor::from_i8(&[5], vec![1, 2, 3, -128, 127]).unwrap());
	b.node(
		Op::ConvInteger(conv_attrs(&[1, 0, 0, 1], &[1, 2], &[2, 1], 1)),
		&[Some(qi), Some(wi), Some(tzp), Some(wizp)],
	);
	let wc = b.weight(Tensor::from_u8(&[2, 3, 3, 3], u8s(&mut r, 54)).unwrap());
	b.node1(
		Op::ConvInteger(conv_attrs(&[0; 4], &[1, 1], &[1, 1], 1)),
		&[q, wc],
	);
	finish(b)
}

// ---------------------------------------------------------------------------------------------
// Inputs
// ---------------------------------------------------------------------------------------------

/// Integers at the edges: each type's extremes and their neighbours, `f32`'s and `f64`'s first
/// unrepresentable integers, powers of two, small values around zero (wrapped to `dtype`).
fn edge_integers(dtype: DType) -> Vec<i64> {
	let (min, max) = match dtype {
		DType::I64 => (i64::MIN, i64::MAX),
		DType::I32 => (i32::MIN as i64, i32::MAX as i64),
		DType::I8 => (i8::MIN as i64, i8::MAX as i64),
		_ => (0, u8::MAX as i64),
	};
	vec![
		0,
		1,
		-1,
		2,
		-2,
		3,
		-7,
		min,
		max,
		min + 1,
		max - 1,
		min / 2,
		max / 2 + 1,
		(1 << 24) + 1,
		-(1 << 24) - 1,
		(1 << 53) + 1,
		63,
		64,
		-64,
		128,
		255,
	]
}

/// Inputs for `p`: ordinary random values, or (`special`) [`sweep`]'s floats, edge integers and
/// both Bool values first, then random ones.
fn inputs(p: &Program, seed: u64, special: bool) -> Vec<Tensor> {
	let mut r = Rng(seed);
	p.inputs
		.iter()
		.enumerate()
		.map(|(k, input)| {
			let dims = input.ty.dims().unwrap();
			let n: usize = dims.iter().product();
			match input.ty.dtype {
				DType::F32 if special => {
					Tensor::from_f32(&dims, sweep(seed + k as u64, n)).unwrap()
				}
				DType::F32 => {
					Tensor::from_f32(&dims, (0..n).map(|_| r.f32() * 4.0).collect()).unwrap()
				}
				DType::Bool => {
					let v = (0..n)
						.map(|i| {
							if special && i < 2 {
								i == 1
							} else {
								r.below(2) == 1
							}
						})
						.collect();
					Tensor::from_bool(&dims, v).unwrap()
				}
				dtype => {
					let edges = if special {
						edge_integers(dtype)
					} else {
						vec![]
					};
					let v: Vec<i64> = (0..n)
						.map(|i| match edges.get(i) {
							Some(&e) => e,
							None if special => r.next_u64() as i64,
							None => r.below(41) as i64 - 20,
						})
						.collect();
					integers(dtype, &dims, &v)
				}
			}
		})
		.collect()
}

// ---------------------------------------------------------------------------------------------
// The test
// ---------------------------------------------------------------------------------------------

fn programs() -> Vec<(String, Program)> {
	let mut all: Vec<(String, Program)> = DType::ALL
		.into_iter()
		.map(|dt| (format!("elementwise {dt}"), elementwise(dt)))
		.collect();
	all.push(("spatial".into(), spatial()));
	all.push(("quantized".into(), quantized()));
	all.push(("at the limits".into(), limits::at_the_limits()));
	all
}

#[test]
fn every_op_kind_is_bit_exact() {
	let types = OpTypes::new();
	let all = types.all();
	let programs = programs();
	let covered: BTreeSet<String> = programs
		.iter()
		.flat_map(|(_, p)| p.nodes.iter().flat_map(|n| types.of(&n.op)))
		.collect();
	let unknown: Vec<&String> = covered.difference(&all).collect();
	assert!(
		unknown.is_empty(),
		"kinds that the TypeInfo of Op does not list: {unknown:?}"
	);
	let missing: Vec<&String> = all.difference(&covered).collect();
	assert!(
		missing.is_empty(),
		"{} of the {} op kinds have no case in tests/every_op: {missing:?}",
		missing.len(),
		all.len()
	);

	for (k, (name, p)) in programs.iter().enumerate() {
		let seed = 0x5eed + 16 * k as u64;
		let runs = [inputs(p, seed, false), inputs(p, seed + 1, true)];
		check_all(name, p, &runs, Depth::Full);
	}
	let nodes: usize = programs.iter().map(|(_, p)| p.nodes.len()).sum();
	println!(
		"every op kind: {} kinds (from the TypeInfo of Op), all covered by {} programs of {nodes} \
		 nodes, each on random and special-value inputs",
		all.len(),
		programs.len()
	);
}
