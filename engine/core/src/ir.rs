//! The canonical program IR: what the ONNX front end emits and the executor, the commitments
//! and the runtime consume. Every type is SCALE-encodable with stable indices.
//!
//! # Values
//! A node reads program inputs ([`ValueRef::Input`]), weights ([`ValueRef::Weight`]) and the
//! outputs of earlier nodes ([`ValueRef::Node`]). Nodes are in topological (execution) order.
//!
//! # One output per node, one trace leaf per node
//! Every node has exactly one output: [`Program::validate`] and [`Node::check_types`] refuse a
//! node that declares any other number, and no op produces more than one. (ONNX operators with
//! several outputs are lowered by the front end to one node per output, or refused.) Hence:
//!
//! * the output of node `i` is referenced as `ValueRef::Node { node: i, output: 0 }`;
//! * the execution trace has one leaf per node, in program order: **node `i`'s output is trace
//!   leaf `i`**, and a program with `N` nodes has `N` leaves;
//! * program output `j` is trace leaf [`Program::output_node`]`(j)`.
//!
//! # Validity
//! [`Program::validate`] checks everything the executor relies on: the version, caps on sizes,
//! that every node declares exactly one output, that every reference points to an existing,
//! *earlier* value, that every node's declared input types equal the types of the values they
//! reference, and that type inference of each op (arity, element types, shapes, attributes)
//! reproduces the declared output type exactly. A decoded program that validates can be
//! executed without further checks, and execution never panics.

use alloc::{string::String, vec::Vec};
use codec::{Decode, DecodeWithMemTracking, Encode};
use core::fmt;
use scale_info::TypeInfo;

use crate::{
	ops::{self, OpError},
	tensor::{DType, Tensor, TensorError, TensorType},
};

/// Version of the IR (and of its semantics). A program with any other version is refused.
pub const IR_VERSION: u16 = 1;

/// Largest number of nodes a program may have.
pub const MAX_NODES: usize = 1 << 20;
/// Largest number of program inputs, weights, or outputs (each).
pub const MAX_VALUES: usize = 1 << 20;
/// Largest number of inputs of one node.
pub const MAX_NODE_ARITY: usize = 4096;
/// Largest length of an attribute list (axes, pads, shapes, …).
pub const MAX_ATTR_LEN: usize = 64;

/// An `f32` attribute stored as its IEEE-754 bit pattern (SCALE has no float encoding).
#[derive(
	Clone,
	Copy,
	Debug,
	PartialEq,
	Eq,
	Hash,
	Default,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
)]
pub struct F32Bits(pub u32);

impl F32Bits {
	/// Wraps a float.
	pub fn new(v: f32) -> Self {
		F32Bits(v.to_bits())
	}

	/// The float.
	pub fn get(self) -> f32 {
		f32::from_bits(self.0)
	}
}

impl From<f32> for F32Bits {
	fn from(v: f32) -> Self {
		F32Bits::new(v)
	}
}

/// Where a node input comes from.
#[derive(
	Clone, Copy, Debug, PartialEq, Eq, Hash, Encode, Decode, DecodeWithMemTracking, TypeInfo,
)]
pub enum ValueRef {
	/// Program input `i`.
	#[codec(index = 0)]
	Input(u32),
	/// Weight `j`.
	#[codec(index = 1)]
	Weight(u32),
	/// The output of node `node` (an earlier node). Every node has exactly one output, so
	/// `output` is always 0 in a valid program.
	#[codec(index = 2)]
	Node {
		/// Producing node.
		node: u32,
		/// Output index of that node (always 0).
		output: u32,
	},
}

/// A node input: its source and its type (which must equal the source's type).
///
/// Declaring the type in the node makes a node self-describing: its cost and memory footprint,
/// and the types its inputs must have, follow from the node alone (what a fraud proof carries).
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub struct NodeInput {
	/// Where the value comes from.
	pub source: ValueRef,
	/// Its element type and shape.
	pub ty: TensorType,
}

/// One operator application.
#[derive(Clone, Debug, PartialEq, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub struct Node {
	/// The operator and its resolved attributes.
	pub op: Op,
	/// Inputs by position; `None` is an omitted optional input (ONNX's empty name). Trailing
	/// omitted inputs may also be left out entirely.
	pub inputs: Vec<Option<NodeInput>>,
	/// Type of the output: exactly one element in a valid program (see the module
	/// documentation).
	pub outputs: Vec<TensorType>,
}

/// A program input.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub struct ValueInfo {
	/// Name (informational; from the ONNX graph).
	pub name: String,
	/// Element type and shape the caller must supply.
	pub ty: TensorType,
}

/// A program output.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub struct OutputInfo {
	/// Name (informational; from the ONNX graph).
	pub name: String,
	/// The value; always a node output, so every program output is a trace leaf.
	pub source: ValueRef,
}

/// A whole program. See the module documentation for numbering and validity.
#[derive(Clone, Debug, PartialEq, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub struct Program {
	/// Must be [`IR_VERSION`].
	pub version: u16,
	/// Program inputs.
	pub inputs: Vec<ValueInfo>,
	/// Program outputs.
	pub outputs: Vec<OutputInfo>,
	/// Nodes in topological (execution) order.
	pub nodes: Vec<Node>,
	/// Constant tensors.
	pub weights: Vec<Tensor>,
}

/// Convolution attributes, fully resolved (no `auto_pad`). `n` = number of spatial axes.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub struct ConvAttrs {
	/// Begin pads for each spatial axis, then end pads (`2n` values).
	pub pads: Vec<u32>,
	/// Stride per spatial axis (`n` values, ≥ 1).
	pub strides: Vec<u32>,
	/// Dilation per spatial axis (`n` values, ≥ 1).
	pub dilations: Vec<u32>,
	/// Number of groups (≥ 1, divides both channel counts).
	pub group: u32,
}

/// ConvTranspose attributes, fully resolved (`output_shape`/`auto_pad` folded into `pads`).
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub struct ConvTransposeAttrs {
	/// Pads, strides, dilations and groups as for [`ConvAttrs`].
	pub conv: ConvAttrs,
	/// Extra size added at the end of each spatial axis (`n` values, `< max(stride, dilation)`).
	pub output_padding: Vec<u32>,
}

/// Pooling attributes (MaxPool / AveragePool), fully resolved.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub struct PoolAttrs {
	/// Window size per spatial axis.
	pub kernel: Vec<u32>,
	/// Begin pads, then end pads (`2n`).
	pub pads: Vec<u32>,
	/// Strides (`n`).
	pub strides: Vec<u32>,
	/// Dilations (`n`).
	pub dilations: Vec<u32>,
	/// Output size rounds up instead of down.
	pub ceil_mode: bool,
}

/// Elementwise unary math.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub enum UnaryOp {
	/// `-x` (wrapping for integers).
	#[codec(index = 0)]
	Neg,
	/// `|x|` (wrapping for integers).
	#[codec(index = 1)]
	Abs,
	/// `sqrt(x)` (IEEE exact).
	#[codec(index = 2)]
	Sqrt,
	/// `libm::expf`.
	#[codec(index = 3)]
	Exp,
	/// `libm::logf`.
	#[codec(index = 4)]
	Log,
	/// `1 / x`.
	#[codec(index = 5)]
	Reciprocal,
	/// `floor(x)`.
	#[codec(index = 6)]
	Floor,
	/// `ceil(x)`.
	#[codec(index = 7)]
	Ceil,
	/// Round half to even.
	#[codec(index = 8)]
	Round,
	/// `-1, 0, 1` (NaN stays NaN).
	#[codec(index = 9)]
	Sign,
	/// `libm::erff`.
	#[codec(index = 10)]
	Erf,
	/// `libm::sinf`.
	#[codec(index = 11)]
	Sin,
	/// `libm::cosf`.
	#[codec(index = 12)]
	Cos,
	/// Logical not (Bool).
	#[codec(index = 13)]
	Not,
	/// NaN test (F32 → Bool).
	#[codec(index = 14)]
	IsNaN,
}

/// Elementwise binary ops with multidirectional (numpy) broadcasting.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub enum BinaryOp {
	/// `a + b` (wrapping for integers).
	#[codec(index = 0)]
	Add,
	/// `a - b` (wrapping for integers).
	#[codec(index = 1)]
	Sub,
	/// `a * b` (wrapping for integers).
	#[codec(index = 2)]
	Mul,
	/// `a / b` (integers: truncating; division by zero gives 0).
	#[codec(index = 3)]
	Div,
	/// `libm::powf(a, b)`; integers: wrapping power, negative exponents give `1/a^|b|` truncated.
	#[codec(index = 4)]
	Pow,
	/// Remainder with the sign of the divisor (ONNX `Mod`, `fmod = 0`, integers only).
	#[codec(index = 5)]
	Mod,
	/// Remainder with the sign of the dividend (ONNX `Mod`, `fmod = 1`).
	#[codec(index = 6)]
	Fmod,
	/// Logical and (Bool).
	#[codec(index = 7)]
	And,
	/// Logical or (Bool).
	#[codec(index = 8)]
	Or,
	/// Logical xor (Bool).
	#[codec(index = 9)]
	Xor,
	/// `a == b` → Bool.
	#[codec(index = 10)]
	Equal,
	/// `a < b` → Bool.
	#[codec(index = 11)]
	Less,
	/// `a <= b` → Bool.
	#[codec(index = 12)]
	LessOrEqual,
	/// `a > b` → Bool.
	#[codec(index = 13)]
	Greater,
	/// `a >= b` → Bool.
	#[codec(index = 14)]
	GreaterOrEqual,
}

/// Variadic elementwise ops (≥ 1 input, multidirectional broadcasting, folded in input order).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub enum VariadicOp {
	/// Sum.
	#[codec(index = 0)]
	Sum,
	/// Sum, then divided by the number of inputs.
	#[codec(index = 1)]
	Mean,
	/// Minimum (NaN propagates).
	#[codec(index = 2)]
	Min,
	/// Maximum (NaN propagates).
	#[codec(index = 3)]
	Max,
}

/// Reductions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub enum ReduceKind {
	/// Sum.
	#[codec(index = 0)]
	Sum,
	/// Sum / count.
	#[codec(index = 1)]
	Mean,
	/// Maximum.
	#[codec(index = 2)]
	Max,
	/// Minimum.
	#[codec(index = 3)]
	Min,
	/// Product.
	#[codec(index = 4)]
	Prod,
	/// Sum of squares (FMA chain).
	#[codec(index = 5)]
	SumSquare,
	/// Sum of absolute values.
	#[codec(index = 6)]
	L1,
	/// Square root of the sum of squares.
	#[codec(index = 7)]
	L2,
	/// Log of the sum.
	#[codec(index = 8)]
	LogSum,
	/// Log of the sum of exponentials (max-shifted).
	#[codec(index = 9)]
	LogSumExp,
}

/// Padding modes of `Pad`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub enum PadMode {
	/// A constant (input 1, default 0).
	#[codec(index = 0)]
	Constant,
	/// Mirror without repeating the edge.
	#[codec(index = 1)]
	Reflect,
	/// Repeat the edge.
	#[codec(index = 2)]
	Edge,
	/// Wrap around.
	#[codec(index = 3)]
	Wrap,
}

/// Interpolation of `Resize`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub enum ResizeMode {
	/// Nearest neighbour.
	#[codec(index = 0)]
	Nearest,
	/// (Multi)linear.
	#[codec(index = 1)]
	Linear,
	/// Cubic (Keys, coefficient `cubic_coeff_a`).
	#[codec(index = 2)]
	Cubic,
}

/// Coordinate transformation of `Resize` (ONNX `coordinate_transformation_mode`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub enum CoordMode {
	/// `(x + 0.5) / scale - 0.5`.
	#[codec(index = 0)]
	HalfPixel,
	/// As `HalfPixel`, but 0 when the output length is 1.
	#[codec(index = 1)]
	PytorchHalfPixel,
	/// `x * (in - 1) / (out - 1)`.
	#[codec(index = 2)]
	AlignCorners,
	/// `x / scale`.
	#[codec(index = 3)]
	Asymmetric,
	/// Uses `roi`.
	#[codec(index = 4)]
	TfCropAndResize,
	/// Half pixel with the offset `in/2 - out/(2 scale)`.
	#[codec(index = 5)]
	HalfPixelSymmetric,
}

/// Rounding of `Resize` nearest mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub enum NearestMode {
	/// Round half down.
	#[codec(index = 0)]
	RoundPreferFloor,
	/// Round half up.
	#[codec(index = 1)]
	RoundPreferCeil,
	/// Floor.
	#[codec(index = 2)]
	Floor,
	/// Ceil.
	#[codec(index = 3)]
	Ceil,
}

/// Resize attributes, fully resolved.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub struct ResizeAttrs {
	/// Interpolation.
	pub mode: ResizeMode,
	/// Coordinate transformation.
	pub coord: CoordMode,
	/// Rounding for `Nearest`.
	pub nearest: NearestMode,
	/// Output size per axis (`rank` values): `floor(in · scale)` for ONNX `scales`, or the ONNX
	/// `sizes` (after `axes` / `keep_aspect_ratio_policy` resolution).
	pub sizes: Vec<u64>,
	/// Scale per axis as given by ONNX `scales` (`rank` values), or empty when the model gave
	/// `sizes`, in which case the scale is `size / in` computed in `f64` (as the reference does).
	pub scales: Vec<F32Bits>,
	/// Region of interest for `TfCropAndResize`: starts then ends (`2·rank`), else empty.
	pub roi: Vec<F32Bits>,
	/// Cubic coefficient (`-0.75` by default).
	pub cubic_coeff_a: F32Bits,
	/// Zero weights of taps outside the input and renormalise.
	pub exclude_outside: bool,
	/// Value for `TfCropAndResize` samples outside the input.
	pub extrapolation_value: F32Bits,
	/// Antialiasing filter when downscaling (`Linear`/`Cubic`).
	pub antialias: bool,
}

/// An activation fused into a convolution's epilogue. Each computes exactly what the
/// standalone op of the same name computes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub enum Activation {
	/// No activation.
	#[codec(index = 0)]
	None,
	/// [`Op::Relu`].
	#[codec(index = 1)]
	Relu,
	/// [`Op::LeakyRelu`].
	#[codec(index = 2)]
	LeakyRelu {
		/// Slope.
		alpha: F32Bits,
	},
	/// [`Op::Clip`] with both bounds.
	#[codec(index = 3)]
	Clip {
		/// Lower bound.
		min: F32Bits,
		/// Upper bound.
		max: F32Bits,
	},
}

/// An operator with its attributes. Input lists use ONNX positions; `?` marks optional inputs.
#[derive(Clone, Debug, PartialEq, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub enum Op {
	/// Numpy matmul (batched, broadcasting): `A, B`.
	#[codec(index = 0)]
	MatMul,
	/// `alpha·op(A)·op(B) + beta·C`: `A, B, C?` (C unidirectionally broadcast).
	#[codec(index = 1)]
	Gemm {
		/// Scale of the product.
		alpha: F32Bits,
		/// Scale of C.
		beta: F32Bits,
		/// Transpose A.
		trans_a: bool,
		/// Transpose B.
		trans_b: bool,
	},
	/// Convolution: `X, W, B?`.
	#[codec(index = 2)]
	Conv(ConvAttrs),
	/// Transposed convolution: `X, W, B?`.
	#[codec(index = 3)]
	ConvTranspose(ConvTransposeAttrs),
	/// Max pooling: `X` → `Y` (ONNX's optional `Indices` output is not part of the IR).
	#[codec(index = 4)]
	MaxPool {
		/// Window.
		pool: PoolAttrs,
	},
	/// Average pooling: `X`.
	#[codec(index = 5)]
	AveragePool {
		/// Window.
		pool: PoolAttrs,
		/// Count padded positions in the divisor.
		count_include_pad: bool,
	},
	/// Mean over all spatial positions: `X`.
	#[codec(index = 6)]
	GlobalAveragePool,
	/// Max over all spatial positions: `X`.
	#[codec(index = 7)]
	GlobalMaxPool,
	/// Inference batch normalization: `X, scale, B, mean, var`.
	#[codec(index = 8)]
	BatchNormalization {
		/// Added to the variance.
		epsilon: F32Bits,
	},
	/// Local response normalization across channels: `X`.
	#[codec(index = 9)]
	Lrn {
		/// Scale.
		alpha: F32Bits,
		/// Exponent.
		beta: F32Bits,
		/// Offset.
		bias: F32Bits,
		/// Window size (channels).
		size: u32,
	},
	/// Layer normalization over axes `axis..`: `X, scale, B?` → `Y`.
	#[codec(index = 10)]
	LayerNormalization {
		/// First normalised axis (non-negative).
		axis: u32,
		/// Added to the variance.
		epsilon: F32Bits,
	},
	/// Instance normalization: `X, scale, B`.
	#[codec(index = 11)]
	InstanceNormalization {
		/// Added to the variance.
		epsilon: F32Bits,
	},
	/// `max(x, 0)`: `X`.
	#[codec(index = 12)]
	Relu,
	/// `x < 0 ? alpha·x : x`: `X`.
	#[codec(index = 13)]
	LeakyRelu {
		/// Slope.
		alpha: F32Bits,
	},
	/// `x < 0 ? slope·x : x`: `X, slope` (slope unidirectionally broadcast).
	#[codec(index = 14)]
	PRelu,
	/// `x < 0 ? alpha·(exp(x) − 1) : x`: `X`.
	#[codec(index = 15)]
	Elu {
		/// Scale of the negative part.
		alpha: F32Bits,
	},
	/// `gamma·(x ≤ 0 ? alpha·(exp(x) − 1) : x)`: `X`.
	#[codec(index = 16)]
	Selu {
		/// Alpha.
		alpha: F32Bits,
		/// Gamma.
		gamma: F32Bits,
	},
	/// `1 / (1 + exp(−x))`: `X`.
	#[codec(index = 17)]
	Sigmoid,
	/// `clamp(alpha·x + beta, 0, 1)`: `X`.
	#[codec(index = 18)]
	HardSigmoid {
		/// Slope.
		alpha: F32Bits,
		/// Offset.
		beta: F32Bits,
	},
	/// `x · HardSigmoid(x; 1/6, 1/2)`: `X`.
	#[codec(index = 19)]
	HardSwish,
	/// `tanh(x)`: `X`.
	#[codec(index = 20)]
	Tanh,
	/// `log(1 + exp(x))`: `X`.
	#[codec(index = 21)]
	Softplus,
	/// GELU: `0.5·x·(1 + erf(x/√2))`, or the tanh approximation: `X`.
	#[codec(index = 22)]
	Gelu {
		/// Use the tanh approximation.
		tanh_approx: bool,
	},
	/// Softmax along `axis` (opset 13); with `coerce_2d`, over all axes `axis..` (opset < 13).
	#[codec(index = 23)]
	Softmax {
		/// Axis (non-negative).
		axis: u32,
		/// Opset < 13 semantics.
		coerce_2d: bool,
	},
	/// Log of [`Op::Softmax`].
	#[codec(index = 24)]
	LogSoftmax {
		/// Axis (non-negative).
		axis: u32,
		/// Opset < 13 semantics.
		coerce_2d: bool,
	},
	/// `min(max(x, min), max)`: `X, min?, max?` (scalars).
	#[codec(index = 25)]
	Clip,
	/// Elementwise unary math: `X`.
	#[codec(index = 26)]
	Unary(UnaryOp),
	/// Elementwise binary op: `A, B`.
	#[codec(index = 27)]
	Binary(BinaryOp),
	/// Variadic elementwise op: `X0, X1, …`.
	#[codec(index = 28)]
	Variadic(VariadicOp),
	/// `cond ? x : y`: `cond, X, Y`.
	#[codec(index = 29)]
	Where,
	/// Reduction over `axes` (sorted, unique; empty = no reduction): `X`.
	#[codec(index = 30)]
	Reduce {
		/// What to compute.
		kind: ReduceKind,
		/// Axes to reduce (non-negative, ascending, unique).
		axes: Vec<u32>,
		/// Keep reduced axes as size 1.
		keepdims: bool,
	},
	/// Index of the maximum (or minimum) along `axis`: `X` → I64.
	#[codec(index = 31)]
	ArgExtremum {
		/// Maximum (ArgMax) or minimum (ArgMin).
		max: bool,
		/// Axis (non-negative).
		axis: u32,
		/// Keep the axis as size 1.
		keepdims: bool,
		/// On ties, the last index instead of the first.
		select_last_index: bool,
	},
	/// Copy: `X`.
	#[codec(index = 32)]
	Identity,
	/// New shape with the same elements (resolved: no 0 / −1): `X`.
	#[codec(index = 33)]
	Reshape {
		/// Target shape.
		shape: Vec<u64>,
	},
	/// To 2-D `[prod(..axis), prod(axis..)]`: `X`.
	#[codec(index = 34)]
	Flatten {
		/// Split point (non-negative, ≤ rank).
		axis: u32,
	},
	/// Permute axes: `X`.
	#[codec(index = 35)]
	Transpose {
		/// Output axis `i` is input axis `perm[i]`.
		perm: Vec<u32>,
	},
	/// Join along `axis`: `X0, X1, …`.
	#[codec(index = 36)]
	Concat {
		/// Axis (non-negative).
		axis: u32,
	},
	// Index 37 is retired (it was a multi-output `Split`; the front end lowers ONNX `Split` to
	// one `Slice` per output). Do not reuse it.
	/// ONNX Slice with constant starts/ends/axes/steps (clamped as ONNX specifies): `X`.
	#[codec(index = 38)]
	Slice {
		/// Starts (negative counts from the end).
		starts: Vec<i64>,
		/// Ends (exclusive; negative counts from the end).
		ends: Vec<i64>,
		/// Axes (non-negative, unique).
		axes: Vec<u32>,
		/// Steps (non-zero).
		steps: Vec<i64>,
	},
	/// Gather along `axis`: `X, indices` (I64/I32; negative counts from the end).
	#[codec(index = 39)]
	Gather {
		/// Axis (non-negative).
		axis: u32,
	},
	/// Remove size-1 axes: `X`.
	#[codec(index = 40)]
	Squeeze {
		/// Axes of the input (non-negative, ascending).
		axes: Vec<u32>,
	},
	/// Insert size-1 axes: `X`.
	#[codec(index = 41)]
	Unsqueeze {
		/// Axes of the output (non-negative, ascending).
		axes: Vec<u32>,
	},
	/// Pad: `X, constant_value?` (scalar, X's type).
	#[codec(index = 42)]
	Pad {
		/// How to fill.
		mode: PadMode,
		/// Begin pads for every axis, then end pads (`2·rank`; negative crops).
		pads: Vec<i64>,
	},
	/// Element type conversion: `X`.
	#[codec(index = 43)]
	Cast {
		/// Target type.
		to: DType,
	},
	/// A tensor of shape `shape` filled with `value`: no inputs (the shape input is constant
	/// folded by the front end).
	#[codec(index = 44)]
	ConstantOfShape {
		/// The fill value (one element; its type is the output type).
		value: Tensor,
		/// Output shape.
		shape: Vec<u64>,
	},
	/// Broadcast to `broadcast(shape(X), shape)`: `X`.
	#[codec(index = 45)]
	Expand {
		/// Target shape (broadcast with the input's).
		shape: Vec<u64>,
	},
	/// Repeat along each axis: `X`.
	#[codec(index = 46)]
	Tile {
		/// Repetitions per axis.
		repeats: Vec<u64>,
	},
	/// Resampling: `X` (the scales and ROI are attributes).
	#[codec(index = 47)]
	Resize(ResizeAttrs),
	/// `saturate(round_half_even(x / scale) + zero_point)`: `X, scale, zero_point?`
	/// (output type = zero point's type, U8 without one).
	#[codec(index = 48)]
	QuantizeLinear {
		/// Axis of a 1-D (per-axis) scale (non-negative).
		axis: u32,
	},
	/// `(x − zero_point) · scale`: `X, scale, zero_point?`.
	#[codec(index = 49)]
	DequantizeLinear {
		/// Axis of a 1-D (per-axis) scale (non-negative).
		axis: u32,
	},
	/// Quantized matmul: `A, A_scale, A_zp, B, B_scale, B_zp, Y_scale, Y_zp`.
	#[codec(index = 50)]
	QLinearMatMul,
	/// Quantized convolution: `X, X_scale, X_zp, W, W_scale, W_zp, Y_scale, Y_zp, B?` (B: I32).
	#[codec(index = 51)]
	QLinearConv(ConvAttrs),
	/// Integer matmul to I32: `A, B, A_zp?, B_zp?`.
	#[codec(index = 52)]
	MatMulInteger,
	/// Integer convolution to I32: `X, W, X_zp?, W_zp?`.
	#[codec(index = 53)]
	ConvInteger(ConvAttrs),
	/// Convolution with a fused epilogue: `X, W, B?, Z?` → `activation(Conv(X, W, B) + Z)`.
	/// Bit-identical to the unfused `Conv` → `Add(·, Z)` → activation chain; the front end fuses
	/// to save memory traffic and trace leaves.
	#[codec(index = 54)]
	FusedConv {
		/// Convolution attributes.
		conv: ConvAttrs,
		/// Activation applied last.
		activation: Activation,
	},
}

impl Op {
	/// Short operator name (ONNX spelling where there is one).
	pub fn name(&self) -> &'static str {
		match self {
			Op::MatMul => "MatMul",
			Op::Gemm { .. } => "Gemm",
			Op::Conv(_) => "Conv",
			Op::ConvTranspose(_) => "ConvTranspose",
			Op::MaxPool { .. } => "MaxPool",
			Op::AveragePool { .. } => "AveragePool",
			Op::GlobalAveragePool => "GlobalAveragePool",
			Op::GlobalMaxPool => "GlobalMaxPool",
			Op::BatchNormalization { .. } => "BatchNormalization",
			Op::Lrn { .. } => "LRN",
			Op::LayerNormalization { .. } => "LayerNormalization",
			Op::InstanceNormalization { .. } => "InstanceNormalization",
			Op::Relu => "Relu",
			Op::LeakyRelu { .. } => "LeakyRelu",
			Op::PRelu => "PRelu",
			Op::Elu { .. } => "Elu",
			Op::Selu { .. } => "Selu",
			Op::Sigmoid => "Sigmoid",
			Op::HardSigmoid { .. } => "HardSigmoid",
			Op::HardSwish => "HardSwish",
			Op::Tanh => "Tanh",
			Op::Softplus => "Softplus",
			Op::Gelu { .. } => "Gelu",
			Op::Softmax { .. } => "Softmax",
			Op::LogSoftmax { .. } => "LogSoftmax",
			Op::Clip => "Clip",
			Op::Unary(u) => match u {
				UnaryOp::Neg => "Neg",
				UnaryOp::Abs => "Abs",
				UnaryOp::Sqrt => "Sqrt",
				UnaryOp::Exp => "Exp",
				UnaryOp::Log => "Log",
				UnaryOp::Reciprocal => "Reciprocal",
				UnaryOp::Floor => "Floor",
				UnaryOp::Ceil => "Ceil",
				UnaryOp::Round => "Round",
				UnaryOp::Sign => "Sign",
				UnaryOp::Erf => "Erf",
				UnaryOp::Sin => "Sin",
				UnaryOp::Cos => "Cos",
				UnaryOp::Not => "Not",
				UnaryOp::IsNaN => "IsNaN",
			},
			Op::Binary(b) => match b {
				BinaryOp::Add => "Add",
				BinaryOp::Sub => "Sub",
				BinaryOp::Mul => "Mul",
				BinaryOp::Div => "Div",
				BinaryOp::Pow => "Pow",
				BinaryOp::Mod => "Mod",
				BinaryOp::Fmod => "Mod(fmod)",
				BinaryOp::And => "And",
				BinaryOp::Or => "Or",
				BinaryOp::Xor => "Xor",
				BinaryOp::Equal => "Equal",
				BinaryOp::Less => "Less",
				BinaryOp::LessOrEqual => "LessOrEqual",
				BinaryOp::Greater => "Greater",
				BinaryOp::GreaterOrEqual => "GreaterOrEqual",
			},
			Op::Variadic(v) => match v {
				VariadicOp::Sum => "Sum",
				VariadicOp::Mean => "Mean",
				VariadicOp::Min => "Min",
				VariadicOp::Max => "Max",
			},
			Op::Where => "Where",
			Op::Reduce { kind, .. } => match kind {
				ReduceKind::Sum => "ReduceSum",
				ReduceKind::Mean => "ReduceMean",
				ReduceKind::Max => "ReduceMax",
				ReduceKind::Min => "ReduceMin",
				ReduceKind::Prod => "ReduceProd",
				ReduceKind::SumSquare => "ReduceSumSquare",
				ReduceKind::L1 => "ReduceL1",
				ReduceKind::L2 => "ReduceL2",
				ReduceKind::LogSum => "ReduceLogSum",
				ReduceKind::LogSumExp => "ReduceLogSumExp",
			},
			Op::ArgExtremum { max: true, .. } => "ArgMax",
			Op::ArgExtremum { max: false, .. } => "ArgMin",
			Op::Identity => "Identity",
			Op::Reshape { .. } => "Reshape",
			Op::Flatten { .. } => "Flatten",
			Op::Transpose { .. } => "Transpose",
			Op::Concat { .. } => "Concat",
			Op::Slice { .. } => "Slice",
			Op::Gather { .. } => "Gather",
			Op::Squeeze { .. } => "Squeeze",
			Op::Unsqueeze { .. } => "Unsqueeze",
			Op::Pad { .. } => "Pad",
			Op::Cast { .. } => "Cast",
			Op::ConstantOfShape { .. } => "ConstantOfShape",
			Op::Expand { .. } => "Expand",
			Op::Tile { .. } => "Tile",
			Op::Resize(_) => "Resize",
			Op::QuantizeLinear { .. } => "QuantizeLinear",
			Op::DequantizeLinear { .. } => "DequantizeLinear",
			Op::QLinearMatMul => "QLinearMatMul",
			Op::QLinearConv(_) => "QLinearConv",
			Op::MatMulInteger => "MatMulInteger",
			Op::ConvInteger(_) => "ConvInteger",
			Op::FusedConv { .. } => "FusedConv",
		}
	}
}

/// Why a program is invalid.
#[derive(Clone, Debug, PartialEq)]
pub enum ValidationError {
	/// `version` is not [`IR_VERSION`].
	UnsupportedVersion {
		/// The program's version.
		found: u16,
	},
	/// The program has no nodes or no outputs.
	Empty,
	/// More nodes, inputs, weights or outputs than allowed.
	TooLarge {
		/// What is too large.
		what: &'static str,
	},
	/// A program input's type is invalid (rank, dimension or element count too large).
	InvalidInputType {
		/// Input index.
		input: u32,
		/// Why.
		error: TensorError,
	},
	/// A node has too many inputs.
	NodeArity {
		/// Node index.
		node: u32,
	},
	/// A node does not declare exactly one output (see the module documentation).
	NotSingleOutput {
		/// Node index.
		node: u32,
		/// Number of outputs it declares.
		outputs: u32,
	},
	/// A node input references a value that does not exist or is not earlier.
	DanglingRef {
		/// Node index.
		node: u32,
		/// Input position.
		input: u32,
		/// The reference.
		source: ValueRef,
	},
	/// A node input's declared type differs from the type of the value it references.
	InputTypeMismatch {
		/// Node index.
		node: u32,
		/// Input position.
		input: u32,
		/// Type the node declares.
		declared: TensorType,
		/// Type of the referenced value.
		actual: TensorType,
	},
	/// Type inference of a node failed.
	Op {
		/// Node index.
		node: u32,
		/// Operator name.
		op: &'static str,
		/// Why.
		error: OpError,
	},
	/// An op's inference or kernel produced a different number of outputs than the node declares
	/// (an engine bug: every op produces exactly one).
	OutputCount {
		/// Node index.
		node: u32,
		/// Declared count.
		declared: u32,
		/// Inferred count.
		inferred: u32,
	},
	/// A node output's declared type differs from the inferred one.
	OutputTypeMismatch {
		/// Node index.
		node: u32,
		/// Output index.
		output: u32,
		/// Declared type.
		declared: TensorType,
		/// Inferred type.
		inferred: TensorType,
	},
	/// A program output does not reference an existing node output.
	BadOutput {
		/// Output index.
		output: u32,
		/// The reference.
		source: ValueRef,
	},
}

impl fmt::Display for ValidationError {
	fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
		use ValidationError::*;
		match self {
			UnsupportedVersion { found } => {
				write!(f, "unsupported IR version {found} (expected {IR_VERSION})")
			}
			Empty => write!(f, "program has no nodes or no outputs"),
			TooLarge { what } => write!(f, "program has too many {what}"),
			InvalidInputType { input, error } => write!(f, "program input {input}: {error}"),
			NodeArity { node } => write!(f, "node {node} has too many inputs"),
			NotSingleOutput { node, outputs } => write!(
				f,
				"node {node} declares {outputs} outputs; every node must have exactly one"
			),
			DanglingRef {
				node,
				input,
				source,
			} => write!(
				f,
				"node {node} input {input} references {source:?}, which is not an earlier value"
			),
			InputTypeMismatch {
				node,
				input,
				declared,
				actual,
			} => write!(
				f,
				"node {node} input {input} is declared {declared} but the referenced value is {actual}"
			),
			Op { node, op, error } => write!(f, "node {node} ({op}): {error}"),
			OutputCount {
				node,
				declared,
				inferred,
			} => write!(
				f,
				"node {node} declares {declared} outputs, its op produces {inferred}"
			),
			OutputTypeMismatch {
				node,
				output,
				declared,
				inferred,
			} => write!(
				f,
				"node {node} output {output} is declared {declared} but inferred {inferred}"
			),
			BadOutput { output, source } => write!(
				f,
				"program output {output} references {source:?}, which is not a node output"
			),
		}
	}
}

#[cfg(feature = "std")]
impl std::error::Error for ValidationError {}

impl Node {
	/// Declared input types by position (`None` for omitted inputs).
	pub fn input_types(&self) -> Vec<Option<TensorType>> {
		self.inputs
			.iter()
			.map(|i| i.as_ref().map(|i| i.ty.clone()))
			.collect()
	}

	/// Checks the node in isolation: exactly one output, the input arity cap, and that type
	/// inference of its op on its declared input types reproduces its declared output type.
	/// (References are checked by [`Program::validate`].)
	pub fn check_types(&self, index: u32) -> Result<(), ValidationError> {
		if self.outputs.len() != 1 {
			return Err(ValidationError::NotSingleOutput {
				node: index,
				outputs: u32::try_from(self.outputs.len()).unwrap_or(u32::MAX),
			});
		}
		if self.inputs.len() > MAX_NODE_ARITY {
			return Err(ValidationError::NodeArity { node: index });
		}
		let inferred =
			ops::infer(&self.op, &self.input_types()).map_err(|error| ValidationError::Op {
				node: index,
				op: self.op.name(),
				error,
			})?;
		let [inferred] =
			<[TensorType; 1]>::try_from(inferred).map_err(|v| ValidationError::OutputCount {
				node: index,
				declared: 1,
				inferred: v.len() as u32,
			})?;
		if self.outputs[0] != inferred {
			return Err(ValidationError::OutputTypeMismatch {
				node: index,
				output: 0,
				declared: self.outputs[0].clone(),
				inferred,
			});
		}
		Ok(())
	}
}

impl Program {
	/// An empty program of the current version, to be filled by a builder.
	pub fn new() -> Self {
		Program {
			version: IR_VERSION,
			inputs: Vec::new(),
			outputs: Vec::new(),
			nodes: Vec::new(),
			weights: Vec::new(),
		}
	}

	/// Checks everything the executor relies on (see the module documentation).
	pub fn validate(&self) -> Result<(), ValidationError> {
		if self.version != IR_VERSION {
			return Err(ValidationError::UnsupportedVersion {
				found: self.version,
			});
		}
		if self.nodes.is_empty() || self.outputs.is_empty() {
			return Err(ValidationError::Empty);
		}
		if self.nodes.len() > MAX_NODES {
			return Err(ValidationError::TooLarge { what: "nodes" });
		}
		if self.inputs.len() > MAX_VALUES {
			return Err(ValidationError::TooLarge { what: "inputs" });
		}
		if self.weights.len() > MAX_VALUES {
			return Err(ValidationError::TooLarge { what: "weights" });
		}
		if self.outputs.len() > MAX_VALUES {
			return Err(ValidationError::TooLarge { what: "outputs" });
		}
		for (i, input) in self.inputs.iter().enumerate() {
			input
				.ty
				.dims()
				.map_err(|error| ValidationError::InvalidInputType {
					input: i as u32,
					error,
				})?;
		}
		for (n, node) in self.nodes.iter().enumerate() {
			let n32 = n as u32;
			for (i, input) in node.inputs.iter().enumerate() {
				let Some(input) = input else { continue };
				let actual = self.value_type_before(input.source, n).ok_or(
					ValidationError::DanglingRef {
						node: n32,
						input: i as u32,
						source: input.source,
					},
				)?;
				if actual != input.ty {
					return Err(ValidationError::InputTypeMismatch {
						node: n32,
						input: i as u32,
						declared: input.ty.clone(),
						actual,
					});
				}
			}
			node.check_types(n32)?;
		}
		for (o, out) in self.outputs.iter().enumerate() {
			if self.output_node(o).is_none() {
				return Err(ValidationError::BadOutput {
					output: o as u32,
					source: out.source,
				});
			}
		}
		Ok(())
	}

	/// Type of `r` if it names an input, a weight, or the output of a node before `before`.
	fn value_type_before(&self, r: ValueRef, before: usize) -> Option<TensorType> {
		match r {
			ValueRef::Input(i) => self.inputs.get(i as usize).map(|v| v.ty.clone()),
			ValueRef::Weight(j) => self.weights.get(j as usize).map(|w| w.tensor_type()),
			ValueRef::Node { node, output } => {
				if (node as usize) >= before {
					return None;
				}
				self.nodes
					.get(node as usize)?
					.outputs
					.get(output as usize)
					.cloned()
			}
		}
	}

	/// Type of any value of the program.
	pub fn value_type(&self, r: ValueRef) -> Option<TensorType> {
		self.value_type_before(r, self.nodes.len())
	}

	/// The node whose output is program output `j`, which is also its trace leaf (node `i` is
	/// leaf `i`); `None` if `j` is out of range or its source is not `Node { node, output: 0 }`
	/// with an existing node.
	pub fn output_node(&self, j: usize) -> Option<u32> {
		match self.outputs.get(j)?.source {
			ValueRef::Node { node, output: 0 } if (node as usize) < self.nodes.len() => Some(node),
			_ => None,
		}
	}

	/// Total cost of the program in [`crate::exec::node_cost`] units (saturating).
	pub fn macs(&self) -> u64 {
		self.nodes
			.iter()
			.map(crate::exec::node_cost)
			.fold(0u64, |a, b| a.saturating_add(b))
	}

	/// Largest single-node footprint: bytes of a node's declared inputs plus outputs, maximised
	/// over nodes (what a fraud proof for that node must carry and hold in memory).
	pub fn largest_node_footprint(&self) -> u64 {
		self.nodes.iter().map(node_footprint).max().unwrap_or(0)
	}

	/// Largest single-node cost: [`crate::exec::node_cost`] maximised over nodes (what
	/// re-executing that node in a fraud proof costs, from its declared types alone).
	pub fn largest_node_cost(&self) -> u64 {
		self.nodes
			.iter()
			.map(crate::exec::node_cost)
			.max()
			.unwrap_or(0)
	}

	/// Types of the program inputs, in order.
	pub fn input_types(&self) -> Vec<TensorType> {
		self.inputs.iter().map(|i| i.ty.clone()).collect()
	}

	/// Types of the program outputs, in order (`None` for an invalid reference).
	pub fn output_types(&self) -> Vec<Option<TensorType>> {
		self.outputs
			.iter()
			.map(|o| self.value_type(o.source))
			.collect()
	}
}

impl Default for Program {
	fn default() -> Self {
		Program::new()
	}
}

/// Bytes of a node's declared inputs plus outputs (saturating).
pub fn node_footprint(node: &Node) -> u64 {
	let ins = node
		.inputs
		.iter()
		.flatten()
		.map(|i| i.ty.byte_size().unwrap_or(u64::MAX));
	let outs = node
		.outputs
		.iter()
		.map(|t| t.byte_size().unwrap_or(u64::MAX));
	ins.chain(outs).fold(0u64, |a, b| a.saturating_add(b))
}
