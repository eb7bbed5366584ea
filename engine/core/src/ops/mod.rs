//! Operator kernels, one file per family, with exact type inference.
//!
//! Every family provides `infer` (types of the outputs from the types of the inputs and the
//! attributes; rejects anything the kernel cannot run) and `run` (the kernel). The executor
//! always infers before running, so kernels rely on inferred invariants (shapes consistent,
//! dtypes supported). Each kernel's doc comment states its reduction order: that sentence is the
//! determinism contract. Float outputs are NaN-canonicalised by the executor after every node.

use alloc::{vec, vec::Vec};
use core::fmt;

use crate::{
	ir::{Op, MAX_ATTR_LEN},
	linalg::{gemm::PackedB, Isa},
	tensor::{num_elements, DType, Tensor, TensorData, TensorType, MAX_RANK},
};

pub mod activation;
pub mod conv;
pub mod elementwise;
pub mod matmul;
pub mod normalization;
pub mod pool;
pub mod quant;
pub mod reduce;
pub mod resize;
pub mod shape;

/// Why an operator cannot be applied to its inputs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OpError {
	/// Wrong number of inputs.
	Arity {
		/// Fewest accepted.
		min: u32,
		/// Most accepted.
		max: u32,
		/// Supplied.
		got: u32,
	},
	/// A required input is absent.
	MissingInput {
		/// Input position.
		index: u32,
	},
	/// An input has an element type this operator does not support.
	UnsupportedDType {
		/// Input position.
		input: u32,
		/// Its type.
		dtype: DType,
	},
	/// An input's element type must equal another's (or a fixed type).
	DTypeMismatch {
		/// Input position.
		input: u32,
		/// Required type.
		expected: DType,
		/// Actual type.
		got: DType,
	},
	/// An input has an unsupported rank.
	Rank {
		/// Input position.
		input: u32,
		/// Its rank.
		got: u32,
	},
	/// Input shapes are inconsistent with each other or with the attributes.
	Shape {
		/// What is wrong.
		reason: &'static str,
	},
	/// Shapes cannot be broadcast together.
	Broadcast,
	/// An attribute is invalid.
	Attribute {
		/// Attribute name.
		name: &'static str,
		/// What is wrong.
		reason: &'static str,
	},
	/// A size overflows or exceeds [`crate::tensor::MAX_ELEMENTS`] / [`MAX_RANK`].
	TooLarge,
	/// A data-dependent index (e.g. of `Gather`) is out of range.
	IndexOutOfRange {
		/// The index.
		index: i64,
		/// The length of the indexed axis.
		len: u64,
	},
}

impl fmt::Display for OpError {
	fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
		match self {
			OpError::Arity { min, max, got } => {
				write!(f, "expects {min}..={max} inputs, got {got}")
			}
			OpError::MissingInput { index } => write!(f, "required input {index} is missing"),
			OpError::UnsupportedDType { input, dtype } => {
				write!(f, "input {input} has unsupported element type {dtype}")
			}
			OpError::DTypeMismatch {
				input,
				expected,
				got,
			} => write!(f, "input {input} must be {expected}, got {got}"),
			OpError::Rank { input, got } => write!(f, "input {input} has unsupported rank {got}"),
			OpError::Shape { reason } => write!(f, "invalid shapes: {reason}"),
			OpError::Broadcast => write!(f, "shapes cannot be broadcast together"),
			OpError::Attribute { name, reason } => write!(f, "attribute {name}: {reason}"),
			OpError::TooLarge => write!(f, "size overflows or exceeds the engine's limits"),
			OpError::IndexOutOfRange { index, len } => {
				write!(f, "index {index} out of range for axis of length {len}")
			}
		}
	}
}

#[cfg(feature = "std")]
impl std::error::Error for OpError {}

/// Execution context of a kernel.
#[derive(Clone, Copy)]
pub struct Ctx<'a> {
	/// Kernel set.
	pub isa: Isa,
	/// Threads a kernel may use (std only; results do not depend on it).
	pub threads: usize,
	/// The B operand of a `MatMul`/`Gemm` packed in advance (a weight), if any.
	pub packed_b: Option<&'a PackedB>,
}

impl Ctx<'_> {
	/// Single-threaded context with the best kernels of this CPU.
	pub fn new() -> Self {
		Ctx {
			isa: Isa::detect(),
			threads: 1,
			packed_b: None,
		}
	}
}

impl Default for Ctx<'_> {
	fn default() -> Self {
		Ctx::new()
	}
}

/// Element type and native shape: the working form of a [`TensorType`] during inference.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ty {
	/// Element type.
	pub dtype: DType,
	/// Dimensions.
	pub shape: Vec<usize>,
}

impl Ty {
	/// A type.
	pub fn new(dtype: DType, shape: Vec<usize>) -> Self {
		Ty { dtype, shape }
	}

	/// Rank.
	pub fn rank(&self) -> usize {
		self.shape.len()
	}
}

/// Output types of `op` applied to inputs of the given types (`None` = omitted input). Every op
/// has exactly one output, so the result has exactly one element.
pub fn infer(op: &Op, inputs: &[Option<TensorType>]) -> Result<Vec<TensorType>, OpError> {
	let mut tys = Vec::with_capacity(inputs.len());
	for t in inputs {
		tys.push(match t {
			Some(t) => Some(Ty::new(t.dtype, t.dims().map_err(|_| OpError::TooLarge)?)),
			None => None,
		});
	}
	let out = infer_ty(op, &tys)?;
	out.into_iter()
		.map(|t| {
			if t.shape.len() > MAX_RANK || num_elements(&t.shape).is_none() {
				return Err(OpError::TooLarge);
			}
			Ok(TensorType::new(t.dtype, &t.shape))
		})
		.collect()
}

/// [`infer`] on native types.
pub fn infer_ty(op: &Op, inputs: &[Option<Ty>]) -> Result<Vec<Ty>, OpError> {
	check_attr_lens(op)?;
	match op {
		Op::MatMul | Op::Gemm { .. } => matmul::infer(op, inputs),
		Op::Conv(_) | Op::ConvTranspose(_) | Op::FusedConv { .. } => conv::infer(op, inputs),
		Op::MaxPool { .. } | Op::AveragePool { .. } | Op::GlobalAveragePool | Op::GlobalMaxPool => {
			pool::infer(op, inputs)
		}
		Op::BatchNormalization { .. }
		| Op::Lrn { .. }
		| Op::LayerNormalization { .. }
		| Op::InstanceNormalization { .. } => normalization::infer(op, inputs),
		Op::Relu
		| Op::LeakyRelu { .. }
		| Op::PRelu
		| Op::Elu { .. }
		| Op::Selu { .. }
		| Op::Sigmoid
		| Op::HardSigmoid { .. }
		| Op::HardSwish
		| Op::Tanh
		| Op::Softplus
		| Op::Gelu { .. }
		| Op::Softmax { .. }
		| Op::LogSoftmax { .. }
		| Op::Clip => activation::infer(op, inputs),
		Op::Unary(_) | Op::Binary(_) | Op::Variadic(_) | Op::Where => {
			elementwise::infer(op, inputs)
		}
		Op::Reduce { .. } | Op::ArgExtremum { .. } => reduce::infer(op, inputs),
		Op::Identity
		| Op::Reshape { .. }
		| Op::Flatten { .. }
		| Op::Transpose { .. }
		| Op::Concat { .. }
		| Op::Slice { .. }
		| Op::Gather { .. }
		| Op::Squeeze { .. }
		| Op::Unsqueeze { .. }
		| Op::Pad { .. }
		| Op::Cast { .. }
		| Op::ConstantOfShape { .. }
		| Op::Expand { .. }
		| Op::Tile { .. } => shape::infer(op, inputs),
		Op::Resize(_) => resize::infer(op, inputs),
		Op::QuantizeLinear { .. }
		| Op::DequantizeLinear { .. }
		| Op::QLinearMatMul
		| Op::QLinearConv(_)
		| Op::MatMulInteger
		| Op::ConvInteger(_) => quant::infer(op, inputs),
	}
}

/// Runs `op`. Inputs must have passed [`infer`] (the executor guarantees it).
pub fn run(op: &Op, inputs: &[Option<&Tensor>], ctx: &Ctx) -> Result<Vec<Tensor>, OpError> {
	match op {
		Op::MatMul | Op::Gemm { .. } => matmul::run(op, inputs, ctx),
		Op::Conv(_) | Op::ConvTranspose(_) | Op::FusedConv { .. } => conv::run(op, inputs, ctx),
		Op::MaxPool { .. } | Op::AveragePool { .. } | Op::GlobalAveragePool | Op::GlobalMaxPool => {
			pool::run(op, inputs)
		}
		Op::BatchNormalization { .. }
		| Op::Lrn { .. }
		| Op::LayerNormalization { .. }
		| Op::InstanceNormalization { .. } => normalization::run(op, inputs),
		Op::Relu
		| Op::LeakyRelu { .. }
		| Op::PRelu
		| Op::Elu { .. }
		| Op::Selu { .. }
		| Op::Sigmoid
		| Op::HardSigmoid { .. }
		| Op::HardSwish
		| Op::Tanh
		| Op::Softplus
		| Op::Gelu { .. }
		| Op::Softmax { .. }
		| Op::LogSoftmax { .. }
		| Op::Clip => activation::run(op, inputs),
		Op::Unary(_) | Op::Binary(_) | Op::Variadic(_) | Op::Where => elementwise::run(op, inputs),
		Op::Reduce { .. } | Op::ArgExtremum { .. } => reduce::run(op, inputs),
		Op::Identity
		| Op::Reshape { .. }
		| Op::Flatten { .. }
		| Op::Transpose { .. }
		| Op::Concat { .. }
		| Op::Slice { .. }
		| Op::Gather { .. }
		| Op::Squeeze { .. }
		| Op::Unsqueeze { .. }
		| Op::Pad { .. }
		| Op::Cast { .. }
		| Op::ConstantOfShape { .. }
		| Op::Expand { .. }
		| Op::Tile { .. } => shape::run(op, inputs),
		Op::Resize(_) => resize::run(op, inputs),
		Op::QuantizeLinear { .. }
		| Op::DequantizeLinear { .. }
		| Op::QLinearMatMul
		| Op::QLinearConv(_)
		| Op::MatMulInteger
		| Op::ConvInteger(_) => quant::run(op, inputs, ctx),
	}
}

// The cost model's weights are set from the runtime's `challenge_<kind>` benchmarks
// (`pallet-inference`), measured as multiples of the time of one MatMul multiply-accumulate
// (`challenge`): each kind's fraud proof must take no longer than its cost charges.

/// Cost units per byte a node reads or writes. A fraud proof decodes and hashes every input
/// tensor and hashes every output: about 9 multiply-accumulates' time per byte
/// (`challenge_gather`, `challenge_slice`).
pub const COST_PER_BYTE: u64 = 10;

/// Extra cost units per output element of a transcendental op: `Pow`, the slowest, takes
/// about 30 multiply-accumulates' time per element beyond its bytes (`challenge_pow`).
pub const COST_PER_TRANSCENDENTAL: u64 = 64;

/// Cost units per multiply-accumulate of a convolution: up to 1.4 MatMul ones
/// (`challenge_conv_transpose`), with a higher fixed part.
pub const COST_PER_CONV_MAC: u64 = 2;

/// Cost units per `Resize` tap: about 2.1 MatMul multiply-accumulates (`challenge_resize`).
pub const COST_PER_RESIZE_TAP: u64 = 4;

/// Cost of applying `op` in abstract units: multiply-accumulates for contractions (MatMul,
/// Gemm, pooling windows, LRN windows; convolutions at [`COST_PER_CONV_MAC`], Resize taps at
/// [`COST_PER_RESIZE_TAP`]), plus [`COST_PER_BYTE`] per byte of every input and output, plus
/// [`COST_PER_TRANSCENDENTAL`] per output element of transcendental ops. Saturating.
pub fn cost(op: &Op, inputs: &[Option<TensorType>], outputs: &[TensorType]) -> u64 {
	let elems = |t: &TensorType| t.shape.iter().fold(1u64, |a, &d| a.saturating_mul(d));
	let out_elems = outputs.iter().map(elems).fold(0u64, u64::saturating_add);
	let bytes = |t: &TensorType| elems(t).saturating_mul(t.dtype.size() as u64);
	let traffic = inputs
		.iter()
		.flatten()
		.chain(outputs)
		.map(bytes)
		.fold(0u64, u64::saturating_add)
		.saturating_mul(COST_PER_BYTE);
	let shape = |i: usize| {
		inputs
			.get(i)
			.and_then(|t| t.as_ref())
			.map(|t| t.shape.as_slice())
	};
	let prod = |s: &[u64]| s.iter().fold(1u64, |a, &d| a.saturating_mul(d));
	let contraction = match op {
		// Output elements × reduction length.
		Op::MatMul | Op::QLinearMatMul | Op::MatMulInteger => {
			let a = shape(0);
			let k = a.and_then(|s| s.last().copied()).unwrap_or(0);
			out_elems.saturating_mul(k)
		}
		Op::Gemm { trans_a, .. } => {
			let k = shape(0)
				.map(|s| {
					if *trans_a { s.first() } else { s.get(1) }
						.copied()
						.unwrap_or(0)
				})
				.unwrap_or(0);
			out_elems.saturating_mul(k)
		}
		// Output elements × (input channels per group × kernel size) = output × weight / M.
		Op::Conv(_) | Op::ConvInteger(_) | Op::QLinearConv(_) | Op::FusedConv { .. } => {
			let w = if matches!(op, Op::QLinearConv(_)) {
				shape(3)
			} else {
				shape(1)
			};
			let per_out = w.map(|w| prod(w.get(1..).unwrap_or(&[]))).unwrap_or(0);
			out_elems
				.saturating_mul(per_out)
				.saturating_mul(COST_PER_CONV_MAC)
		}
		// Input elements × (output channels per group × kernel size).
		Op::ConvTranspose(_) => {
			let x = shape(0).map(prod).unwrap_or(0);
			let per_in = shape(1)
				.map(|w| prod(w.get(1..).unwrap_or(&[])))
				.unwrap_or(0);
			x.saturating_mul(per_in).saturating_mul(COST_PER_CONV_MAC)
		}
		Op::MaxPool { pool, .. } | Op::AveragePool { pool, .. } => out_elems.saturating_mul(
			pool.kernel
				.iter()
				.fold(1u64, |a, &k| a.saturating_mul(k as u64)),
		),
		Op::Lrn { size, .. } => out_elems.saturating_mul(*size as u64),
		Op::Resize(a) => match (shape(0), outputs.first()) {
			(Some(x), Some(y)) => resize::work(a, x, &y.shape).saturating_mul(COST_PER_RESIZE_TAP),
			_ => 0,
		},
		_ => 0,
	};
	let transcendental = matches!(
		op,
		Op::Sigmoid
			| Op::Tanh
			| Op::Elu { .. }
			| Op::Selu { .. }
			| Op::Softplus
			| Op::Gelu { .. }
			| Op::Softmax { .. }
			| Op::LogSoftmax { .. }
			| Op::Lrn { .. }
			| Op::Resize(_)
	) || matches!(
		op,
		Op::Unary(
			crate::ir::UnaryOp::Exp
				| crate::ir::UnaryOp::Log
				| crate::ir::UnaryOp::Erf
				| crate::ir::UnaryOp::Sin
				| crate::ir::UnaryOp::Cos
		) | Op::Binary(crate::ir::BinaryOp::Pow)
			| Op::Reduce {
				kind: crate::ir::ReduceKind::LogSumExp
					| crate::ir::ReduceKind::LogSum
					| crate::ir::ReduceKind::L2,
				..
			}
	);
	let extra = if transcendental {
		out_elems.saturating_mul(COST_PER_TRANSCENDENTAL)
	} else {
		0
	};
	contraction.saturating_add(traffic).saturating_add(extra)
}

fn check_attr_lens(op: &Op) -> Result<(), OpError> {
	let too_long = |name: &'static str, len: usize| {
		if len > MAX_ATTR_LEN {
			Err(OpError::Attribute {
				name,
				reason: "too many values",
			})
		} else {
			Ok(())
		}
	};
	match op {
		Op::Conv(a) | Op::QLinearConv(a) | Op::ConvInteger(a) | Op::FusedConv { conv: a, .. } => {
			too_long("pads", a.pads.len())?;
			too_long("strides", a.strides.len())?;
			too_long("dilations", a.dilations.len())
		}
		Op::ConvTranspose(a) => {
			too_long("pads", a.conv.pads.len())?;
			too_long("strides", a.conv.strides.len())?;
			too_long("dilations", a.conv.dilations.len())?;
			too_long("output_padding", a.output_padding.len())
		}
		Op::MaxPool { pool, .. } | Op::AveragePool { pool, .. } => {
			too_long("kernel_shape", pool.kernel.len())?;
			too_long("pads", pool.pads.len())?;
			too_long("strides", pool.strides.len())?;
			too_long("dilations", pool.dilations.len())
		}
		Op::Reduce { axes, .. } | Op::Squeeze { axes } | Op::Unsqueeze { axes } => {
			too_long("axes", axes.len())
		}
		Op::Reshape { shape } | Op::Expand { shape } | Op::ConstantOfShape { shape, .. } => {
			too_long("shape", shape.len())
		}
		Op::Transpose { perm } => too_long("perm", perm.len()),
		Op::Slice {
			starts,
			ends,
			axes,
			steps,
		} => {
			too_long("starts", starts.len())?;
			too_long("ends", ends.len())?;
			too_long("axes", axes.len())?;
			too_long("steps", steps.len())
		}
		Op::Pad { pads, .. } => too_long("pads", pads.len()),
		Op::Tile { repeats } => too_long("repeats", repeats.len()),
		Op::Resize(r) => {
			too_long("sizes", r.sizes.len())?;
			too_long("scales", r.scales.len())?;
			too_long("roi", r.roi.len())
		}
		_ => Ok(()),
	}
}

// ---------------------------------------------------------------------------------------------
// Helpers shared by the families.

/// Checks the input count is within `min..=max`.
pub(crate) fn arity<T>(inputs: &[Option<T>], min: usize, max: usize) -> Result<(), OpError> {
	if inputs.len() < min || inputs.len() > max {
		return Err(OpError::Arity {
			min: min as u32,
			max: max as u32,
			got: inputs.len() as u32,
		});
	}
	Ok(())
}

/// Required input `i`.
pub(crate) fn req<T>(inputs: &[Option<T>], i: usize) -> Result<&T, OpError> {
	inputs
		.get(i)
		.and_then(|x| x.as_ref())
		.ok_or(OpError::MissingInput { index: i as u32 })
}

/// Optional input `i`.
pub(crate) fn opt<T>(inputs: &[Option<T>], i: usize) -> Option<&T> {
	inputs.get(i).and_then(|x| x.as_ref())
}

/// Required input `i` for kernels (present after inference).
pub(crate) fn inp<'a>(inputs: &[Option<&'a Tensor>], i: usize) -> Result<&'a Tensor, OpError> {
	inputs
		.get(i)
		.copied()
		.flatten()
		.ok_or(OpError::MissingInput { index: i as u32 })
}

/// Checks that input `i` has element type `dtype`.
pub(crate) fn want_dtype(t: &Ty, i: usize, dtype: DType) -> Result<(), OpError> {
	if t.dtype != dtype {
		return Err(OpError::DTypeMismatch {
			input: i as u32,
			expected: dtype,
			got: t.dtype,
		});
	}
	Ok(())
}

/// Checks that input `i` has one of `allowed` element types.
pub(crate) fn allow_dtypes(t: &Ty, i: usize, allowed: &[DType]) -> Result<(), OpError> {
	if !allowed.contains(&t.dtype) {
		return Err(OpError::UnsupportedDType {
			input: i as u32,
			dtype: t.dtype,
		});
	}
	Ok(())
}

/// Checked element count of a shape.
pub(crate) fn elems(shape: &[usize]) -> Result<usize, OpError> {
	num_elements(shape).ok_or(OpError::TooLarge)
}

/// Row-major strides.
pub(crate) fn strides(shape: &[usize]) -> Vec<usize> {
	let mut s = vec![1usize; shape.len()];
	for i in (0..shape.len().saturating_sub(1)).rev() {
		s[i] = s[i + 1] * shape[i + 1];
	}
	s
}

/// Multidirectional (numpy) broadcast of two shapes.
pub(crate) fn broadcast_shapes(a: &[usize], b: &[usize]) -> Result<Vec<usize>, OpError> {
	let r = a.len().max(b.len());
	let mut out = vec![0usize; r];
	for i in 0..r {
		let da = if i + a.len() >= r {
			a[i + a.len() - r]
		} else {
			1
		};
		let db = if i + b.len() >= r {
			b[i + b.len() - r]
		} else {
			1
		};
		out[i] = if da == db {
			da
		} else if da == 1 {
			db
		} else if db == 1 {
			da
		} else {
			return Err(OpError::Broadcast);
		};
	}
	elems(&out)?;
	Ok(out)
}

/// Strides of `shape` right-aligned into `out` for broadcasting (0 along broadcast axes).
pub(crate) fn broadcast_strides(shape: &[usize], out: &[usize]) -> Vec<usize> {
	let st = strides(shape);
	let off = out.len() - shape.len();
	(0..out.len())
		.map(|i| {
			if i < off || shape[i - off] == 1 {
				0
			} else {
				st[i - off]
			}
		})
		.collect()
}

/// Row-major walk over `out_shape`, calling `f(offsets)` once per innermost row with the
/// starting offset of each operand (per-operand strides `st[j]`), so `f` runs the inner loop.
pub(crate) fn for_each_row<const N: usize>(
	out_shape: &[usize],
	st: [&[usize]; N],
	mut f: impl FnMut([usize; N]),
) {
	let r = out_shape.len();
	if out_shape.contains(&0) {
		return;
	}
	if r <= 1 {
		f([0; N]);
		return;
	}
	let outer = &out_shape[..r - 1];
	let mut idx = vec![0usize; r - 1];
	let mut offs = [0usize; N];
	loop {
		f(offs);
		// Increment the multi-index over the outer dimensions.
		let mut d = r - 1;
		loop {
			if d == 0 {
				return;
			}
			d -= 1;
			idx[d] += 1;
			for (j, o) in offs.iter_mut().enumerate() {
				*o += st[j][d];
			}
			if idx[d] < outer[d] {
				break;
			}
			for (j, o) in offs.iter_mut().enumerate() {
				*o -= st[j][d] * outer[d];
			}
			idx[d] = 0;
		}
	}
}

/// Copies `src` viewed with `strides` (in elements, may be negative) from `base` into a new
/// row-major tensor of `out_shape`.
pub(crate) fn gather_strided<T: Copy>(
	src: &[T],
	base: isize,
	strides: &[isize],
	out_shape: &[usize],
) -> Vec<T> {
	let n: usize = out_shape.iter().product();
	let mut out = Vec::with_capacity(n);
	if n == 0 {
		return out;
	}
	let r = out_shape.len();
	if r == 0 {
		out.push(src[base as usize]);
		return out;
	}
	let inner = out_shape[r - 1];
	let is = strides[r - 1];
	let mut idx = vec![0usize; r - 1];
	let mut off = base;
	loop {
		if is == 1 {
			let s = off as usize;
			out.extend_from_slice(&src[s..s + inner]);
		} else {
			let mut o = off;
			for _ in 0..inner {
				out.push(src[o as usize]);
				o += is;
			}
		}
		let mut d = r - 1;
		loop {
			if d == 0 {
				return out;
			}
			d -= 1;
			idx[d] += 1;
			off += strides[d];
			if idx[d] < out_shape[d] {
				break;
			}
			off -= strides[d] * out_shape[d] as isize;
			idx[d] = 0;
		}
	}
}

/// Applies a dtype-generic expression to the typed vector inside a [`TensorData`], rebuilding
/// the same variant.
macro_rules! map_data {
	($data:expr, $v:ident => $body:expr) => {
		match $data {
			$crate::tensor::TensorData::F32($v) => $crate::tensor::TensorData::F32($body),
			$crate::tensor::TensorData::I64($v) => $crate::tensor::TensorData::I64($body),
			$crate::tensor::TensorData::I32($v) => $crate::tensor::TensorData::I32($body),
			$crate::tensor::TensorData::I8($v) => $crate::tensor::TensorData::I8($body),
			$crate::tensor::TensorData::U8($v) => $crate::tensor::TensorData::U8($body),
			$crate::tensor::TensorData::Bool($v) => $crate::tensor::TensorData::Bool($body),
		}
	};
}
pub(crate) use map_data;

/// Builds an output tensor; shapes come from inference so a failure is an engine bug, reported
/// as `TooLarge` rather than a panic.
pub(crate) fn make(shape: Vec<usize>, data: TensorData) -> Result<Tensor, OpError> {
	Tensor::new(shape, data).map_err(|_| OpError::Shape {
		reason: "kernel produced a wrong size",
	})
}
