//! The nodes the `challenge*` benchmarks re-execute: one per heavy op kind, each sized by one
//! shape parameter up to the largest node that fits a 2 MiB footprint (the runtime's
//! `MaxNodeFootprint`: a fraud proof carries the node's inputs).
//!
//! The benchmarks measure a fraud proof against each kind as a function of that parameter, not
//! of the node's cost, so the runtime's tests can rebuild the same nodes and check that the
//! weight `challenge` charges for them (from their [`verity_engine::node_cost`]) covers what was
//! measured, whatever the cost model says.

use alloc::{vec, vec::Vec};
use verity_engine::{
	ir::{
		BinaryOp, ConvAttrs, ConvTransposeAttrs, CoordMode, F32Bits, NearestMode, Node, NodeInput,
		Op, OutputInfo, ResizeAttrs, ResizeMode, ValueInfo, ValueRef,
	},
	ops::{self, COST_PER_BYTE},
	DType, Program, Tensor, TensorData, TensorType,
};

/// An op kind whose fraud proof is benchmarked on its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HeavyKind {
	/// `[m, 256] × [256, 256]`, parameter `m`.
	MatMul,
	/// 3×3 convolution, 64 → 64 channels, `h × CONV_WIDTH`, padded; parameter `h`.
	Conv,
	/// 3×3 transposed convolution, 64 → 64 channels, `h × CONV_WIDTH`, padded; parameter `h`.
	ConvTranspose,
	/// [`HeavyKind::Conv`] on `u8` tensors with scalar quantization parameters; parameter `h`.
	QLinearConv,
	/// `Pow` of `n` elements by a same-shaped exponent: the slowest transcendental
	/// elementwise kernel; parameter `n`.
	Pow,
	/// Cubic antialiased downscale of `8h × 8·RESIZE_WIDTH` to `h × RESIZE_WIDTH`: 32 taps per
	/// output per axis, the most work per element any `Resize` does; parameter `h`.
	Resize,
	/// Gather one row of `[n, 64]`; parameter `n`.
	Gather,
	/// Slice one row of `[n, 64]`; parameter `n`.
	Slice,
}

impl HeavyKind {
	/// Every kind.
	pub const ALL: [HeavyKind; 8] = [
		HeavyKind::MatMul,
		HeavyKind::Conv,
		HeavyKind::ConvTranspose,
		HeavyKind::QLinearConv,
		HeavyKind::Pow,
		HeavyKind::Resize,
		HeavyKind::Gather,
		HeavyKind::Slice,
	];

	/// The parameter's range in the benchmark (the upper end is the largest node within the
	/// footprint bound). The work grows linearly with the parameter, as the benchmark's fit
	/// assumes.
	pub const fn range(self) -> (u32, u32) {
		match self {
			HeavyKind::MatMul => (MATMUL_M.0, MATMUL_M.1),
			HeavyKind::Conv | HeavyKind::ConvTranspose => (CONV_ROWS.0, CONV_ROWS.1),
			HeavyKind::QLinearConv => (QCONV_ROWS.0, QCONV_ROWS.1),
			HeavyKind::Pow => (POW_N.0, POW_N.1),
			HeavyKind::Resize => (RESIZE_ROWS.0, RESIZE_ROWS.1),
			HeavyKind::Gather | HeavyKind::Slice => (ROWS_N.0, ROWS_N.1),
		}
	}

	/// The node of this kind for parameter `p`, as the benchmark's program holds it.
	pub fn node(self, p: u32) -> Node {
		self.program(p).0.nodes.swap_remove(1)
	}

	/// A three-node program: `ConstantOfShape` makes the node's first input `x` (returned too),
	/// then the node itself on `x` and weights, then a `Slice` down to one element.
	pub fn program(self, p: u32) -> (Program, Tensor) {
		let p = p as usize;
		let f32s = |shape: &[usize], f: fn(usize) -> f32| {
			let n = shape.iter().product::<usize>();
			Tensor::from_f32(shape, (0..n).map(f).collect()).expect("shape matches")
		};
		let u8s = |shape: &[usize], v: u8| {
			let n = shape.iter().product::<usize>();
			Tensor::new(shape.to_vec(), TensorData::U8(vec![v; n])).expect("shape matches")
		};
		let scalar_u8 = |v: u8| Tensor::new(vec![], TensorData::U8(vec![v])).expect("scalar");
		let pattern = |i: usize| ((i % 17) as f32 - 8.0) / 64.0;
		let conv = ConvAttrs {
			pads: vec![1, 1, 1, 1],
			strides: vec![1, 1],
			dilations: vec![1, 1],
			group: 1,
		};
		let (op, x_shape, x_value, weights) = match self {
			HeavyKind::MatMul => (
				Op::MatMul,
				vec![p, 256],
				Tensor::from_f32(&[1], vec![0.5]).expect("value"),
				vec![f32s(&[256, 256], pattern)],
			),
			HeavyKind::Conv => (
				Op::Conv(conv),
				vec![1, 64, p, CONV_WIDTH],
				Tensor::from_f32(&[1], vec![0.5]).expect("value"),
				vec![f32s(&[64, 64, 3, 3], pattern)],
			),
			HeavyKind::ConvTranspose => (
				Op::ConvTranspose(ConvTransposeAttrs {
					conv,
					output_padding: vec![0, 0],
				}),
				vec![1, 64, p, CONV_WIDTH],
				Tensor::from_f32(&[1], vec![0.5]).expect("value"),
				vec![f32s(&[64, 64, 3, 3], pattern)],
			),
			HeavyKind::QLinearConv => (
				Op::QLinearConv(conv),
				vec![1, 64, p, CONV_WIDTH],
				Tensor::new(vec![1], TensorData::U8(vec![131])).expect("value"),
				vec![
					Tensor::scalar_f32(0.02),
					scalar_u8(128),
					u8s(&[64, 64, 3, 3], 121),
					Tensor::scalar_f32(0.01),
					scalar_u8(120),
					Tensor::scalar_f32(0.05),
					scalar_u8(128),
				],
			),
			HeavyKind::Pow => (
				Op::Binary(BinaryOp::Pow),
				vec![p],
				Tensor::from_f32(&[1], vec![1.7]).expect("value"),
				vec![f32s(&[p], |i| (i % 29) as f32 / 7.0 - 2.0)],
			),
			HeavyKind::Resize => (
				Op::Resize(ResizeAttrs {
					mode: ResizeMode::Cubic,
					coord: CoordMode::HalfPixel,
					nearest: NearestMode::RoundPreferFloor,
					sizes: vec![1, 1, p as u64, RESIZE_WIDTH as u64],
					scales: vec![
						F32Bits::new(1.0),
						F32Bits::new(1.0),
						F32Bits::new(0.125),
						F32Bits::new(0.125),
					],
					roi: vec![],
					cubic_coeff_a: F32Bits::new(-0.75),
					exclude_outside: false,
					extrapolation_value: F32Bits::new(0.0),
					antialias: true,
				}),
				vec![1, 1, 8 * p, 8 * RESIZE_WIDTH],
				Tensor::from_f32(&[1], vec![0.5]).expect("value"),
				vec![],
			),
			HeavyKind::Gather => (
				Op::Gather { axis: 0 },
				vec![p, 64],
				Tensor::from_f32(&[1], vec![0.5]).expect("value"),
				vec![Tensor::new(vec![1], TensorData::I64(vec![p as i64 - 1])).expect("index")],
			),
			HeavyKind::Slice => (
				Op::Slice {
					starts: vec![-1],
					ends: vec![i64::MAX],
					axes: vec![0],
					steps: vec![1],
				},
				vec![p, 64],
				Tensor::from_f32(&[1], vec![0.5]).expect("value"),
				vec![],
			),
		};
		let x = {
			let n = x_shape.iter().product::<usize>();
			let data = match x_value.data() {
				TensorData::U8(v) => TensorData::U8(vec![v[0]; n]),
				TensorData::F32(v) => TensorData::F32(vec![v[0]; n]),
				_ => unreachable!("the kinds above fill with f32 or u8"),
			};
			Tensor::new(x_shape.clone(), data).expect("shape matches")
		};
		let mut program = Program::new();
		program.inputs.push(ValueInfo {
			name: "unused".into(),
			ty: TensorType::new(DType::F32, &[1]),
		});
		let weight_count = weights.len() as u32;
		program.weights = weights;
		let x_ref = push(
			&mut program,
			Op::ConstantOfShape {
				value: x_value,
				shape: x_shape.iter().map(|&d| d as u64).collect(),
			},
			&[],
		);
		let mut args = vec![x_ref];
		args.extend((0..weight_count).map(ValueRef::Weight));
		let y = push(&mut program, op, &args);
		let rank = program.value_type(y).expect("node output").shape.len();
		let one = push(
			&mut program,
			Op::Slice {
				starts: vec![0; rank],
				ends: vec![1; rank],
				axes: (0..rank as u32).collect(),
				steps: vec![1; rank],
			},
			&[y],
		);
		program.outputs.push(OutputInfo {
			name: "one".into(),
			source: one,
		});
		(program, x)
	}
}

/// Cost of [`HeavyKind::MatMul`] at `m = 0`: reading the `[256, 256]` weight.
pub const MATMUL_COST_BASE: u32 = 256 * 256 * 4 * COST_PER_BYTE as u32;
/// Cost of each row of [`HeavyKind::MatMul`]: 256 multiply-accumulates for each of its 256
/// outputs, plus reading its 256 inputs and writing its 256 outputs.
pub const MATMUL_COST_PER_ROW: u32 = 256 * 256 + 2 * 256 * 4 * COST_PER_BYTE as u32;
/// The cost range of [`HeavyKind::MatMul`] over its parameter range.
pub const MATMUL_COST: (u32, u32) = (
	MATMUL_COST_BASE + MATMUL_COST_PER_ROW * MATMUL_M.0,
	MATMUL_COST_BASE + MATMUL_COST_PER_ROW * MATMUL_M.1,
);

/// `m` of [`HeavyKind::MatMul`]: `4·(256·m·2 + 256²)` bytes ≤ 2 MiB.
const MATMUL_M: (u32, u32) = (1, 896);
/// Width of the convolutions' images.
const CONV_WIDTH: usize = 56;
/// Rows of the f32 convolutions: `4·(2·64·h·56 + 64·64·9)` bytes ≤ 2 MiB.
const CONV_ROWS: (u32, u32) = (1, 64);
/// Rows of [`HeavyKind::QLinearConv`]: one byte per element would allow 287; 128 already costs
/// more than the f32 convolutions at their largest.
const QCONV_ROWS: (u32, u32) = (1, 128);
/// `n` of [`HeavyKind::Pow`]: three f32 tensors of `n`.
const POW_N: (u32, u32) = (1, 170_000);
/// Width of [`HeavyKind::Resize`]'s output.
const RESIZE_WIDTH: usize = 88;
/// Rows of [`HeavyKind::Resize`]'s output: `4·65·h·88` bytes ≤ 2 MiB.
const RESIZE_ROWS: (u32, u32) = (1, 88);
/// `n` of the `[n, 64]` row selections.
const ROWS_N: (u32, u32) = (1, 8_000);

/// Appends a node on `inputs` with its inferred output types and returns its output.
pub(crate) fn push(program: &mut Program, op: Op, inputs: &[ValueRef]) -> ValueRef {
	let inputs: Vec<Option<NodeInput>> = inputs
		.iter()
		.map(|&source| {
			Some(NodeInput {
				source,
				ty: program.value_type(source).expect("defined before"),
			})
		})
		.collect();
	let types: Vec<Option<TensorType>> = inputs
		.iter()
		.map(|i| i.as_ref().map(|i| i.ty.clone()))
		.collect();
	let outputs = ops::infer(&op, &types).expect("well-typed");
	program.nodes.push(Node {
		op,
		inputs,
		outputs,
	});
	ValueRef::Node {
		node: program.nodes.len() as u32 - 1,
		output: 0,
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn matmul_cost_is_as_the_challenge_benchmark_assumes() {
		for m in [MATMUL_M.0, 17, MATMUL_M.1] {
			let node = HeavyKind::MatMul.node(m);
			let expected = (MATMUL_COST_BASE + MATMUL_COST_PER_ROW * m) as u64;
			assert_eq!(verity_engine::node_cost(&node), expected);
		}
	}

	#[test]
	fn every_kind_runs_at_both_ends_of_its_range() {
		for kind in HeavyKind::ALL {
			let (low, high) = kind.range();
			for p in [low, high] {
				let (program, x) = kind.program(p);
				let unused = Tensor::from_f32(&[1], vec![0.0]).expect("input");
				let (out, trace) = verity_engine::execute(&program, &[unused])
					.unwrap_or_else(|e| panic!("{kind:?}({p}): {e}"));
				assert_eq!(out.len(), 1);
				assert_eq!(trace.leaves[0], verity_engine::tensor_hash(&x), "{kind:?}");
				let node = kind.node(p);
				let footprint = verity_engine::ir::node_footprint(&node);
				assert!(
					footprint <= 2 * 1024 * 1024,
					"{kind:?}({p}): {footprint} bytes"
				);
			}
		}
	}
}
