//! Errors of the front end.

use thiserror::Error;

/// Why an ONNX model could not be compiled to a canonical program.
#[derive(Debug, Error)]
pub enum CompileError {
	/// The bytes are not a valid ONNX protobuf message.
	#[error("malformed ONNX protobuf: {0}")]
	Parse(String),
	/// The model has no graph.
	#[error("the ONNX model has no graph")]
	NoGraph,
	/// An operator (or a whole domain) the front end does not lower.
	#[error("unsupported operator {op_type} (domain {domain:?}, opset {opset}) at node {node:?}")]
	UnsupportedOp {
		/// ONNX operator type.
		op_type: String,
		/// Operator domain (empty for the default `ai.onnx`).
		domain: String,
		/// Node name (or its first output when the node is unnamed).
		node: String,
		/// Opset version of the domain the model imports.
		opset: i64,
	},
	/// A supported operator used with an attribute, mode or input form that is not supported.
	#[error("node {node:?} ({op_type}, opset {opset}): unsupported {what}")]
	UnsupportedFeature {
		/// ONNX operator type.
		op_type: String,
		/// Node name.
		node: String,
		/// Opset version.
		opset: i64,
		/// What is not supported.
		what: String,
	},
	/// A value, input or tensor has an element type the engine does not have.
	#[error("{name:?} has unsupported element type {dtype}")]
	UnsupportedDType {
		/// Value name.
		name: String,
		/// ONNX type name.
		dtype: String,
	},
	/// An input dimension is symbolic or unknown and was not fixed by the caller.
	#[error(
		"input {input:?} dimension {dim} is not fixed ({param}); pass a concrete shape for it"
	)]
	SymbolicDim {
		/// Input name.
		input: String,
		/// Dimension index.
		dim: usize,
		/// The symbolic name, or "unknown".
		param: String,
	},
	/// The caller gave a shape for a name that is not a model input.
	#[error("a shape was given for {name:?}, which is not a model input")]
	UnknownInput {
		/// The name.
		name: String,
	},
	/// The caller's shape contradicts the shape the model declares.
	#[error("input {input:?}: shape {given:?} contradicts the declared shape {declared}")]
	InputShapeMismatch {
		/// Input name.
		input: String,
		/// The caller's shape.
		given: Vec<usize>,
		/// The declared shape, rendered (`?` for free dims).
		declared: String,
	},
	/// An input or graph value has no usable type information.
	#[error("value {name:?} has no tensor type")]
	MissingType {
		/// Value name.
		name: String,
	},
	/// A node is malformed: bad attribute, wrong arity, inconsistent shapes.
	#[error("node {node:?} ({op_type}): {reason}")]
	InvalidNode {
		/// ONNX operator type.
		op_type: String,
		/// Node name.
		node: String,
		/// What is wrong.
		reason: String,
	},
	/// An input that fixes a shape or an attribute is not a compile-time constant.
	#[error("node {node:?} ({op_type}): input {input} ({name:?}) must be a compile-time constant")]
	NotConstant {
		/// ONNX operator type.
		op_type: String,
		/// Node name.
		node: String,
		/// Input position.
		input: usize,
		/// Value name.
		name: String,
	},
	/// A node reads a value that no earlier node, input or initializer defines.
	#[error("node {node:?} reads {name:?}, which is not defined before it")]
	Undefined {
		/// Node name.
		node: String,
		/// Value name.
		name: String,
	},
	/// A graph output names a value that is never defined.
	#[error("graph output {name:?} is not defined")]
	UndefinedOutput {
		/// Output name.
		name: String,
	},
	/// A graph output's computed type contradicts the declared one.
	#[error("graph output {name:?} is computed as {computed} but declared {declared}")]
	OutputTypeMismatch {
		/// Output name.
		name: String,
		/// What the lowering computes.
		computed: String,
		/// What the model declares.
		declared: String,
	},
	/// A tensor (initializer, attribute or file) is malformed.
	#[error("tensor {name:?}: {reason}")]
	BadTensor {
		/// Tensor name.
		name: String,
		/// What is wrong.
		reason: String,
	},
	/// The lowered program does not validate: a front-end bug.
	#[error("internal error: the lowered program is invalid: {0}")]
	InvalidProgram(String),
	/// A dependency panicked while handling the model (caught).
	#[error("internal error: panic while compiling: {0}")]
	Panic(String),
}

/// Why the tract reference runner failed.
#[derive(Debug, Error)]
pub enum TractError {
	/// tract could not load, type, optimise or run the model.
	#[error("tract: {0}")]
	Tract(String),
	/// A tensor has an element type that cannot be converted.
	#[error("tract: unsupported element type {0}")]
	UnsupportedDType(String),
	/// The number of inputs does not match the model.
	#[error("tract: model takes {expected} inputs, got {got}")]
	InputCount {
		/// Inputs of the model.
		expected: usize,
		/// Inputs supplied.
		got: usize,
	},
	/// tract panicked (caught).
	#[error("tract panicked: {0}")]
	Panic(String),
}

/// Why a tensor file could not be read or written.
///
/// Each message already includes the underlying error, so no variant reports it again as its
/// [`std::error::Error::source`] (an error chain prints every cause once).
#[derive(Debug, Error)]
pub enum TensorFileError {
	/// Reading or writing the file failed.
	#[error("{path}: {error}")]
	Io {
		/// File path.
		path: String,
		/// Underlying error (in the message, not a `source`).
		error: std::io::Error,
	},
	/// The `.npy` content is malformed or uses an unsupported feature.
	#[error("npy: {0}")]
	Npy(String),
	/// The `TensorProto` is malformed or unsupported.
	#[error("TensorProto: {0}")]
	Proto(CompileError),
	/// The tensor data is inconsistent with its shape.
	#[error("tensor: {0}")]
	Tensor(verity_engine::tensor::TensorError),
}

impl From<CompileError> for TensorFileError {
	fn from(e: CompileError) -> Self {
		TensorFileError::Proto(e)
	}
}

/// Renders a caught panic payload.
pub(crate) fn panic_message(p: Box<dyn std::any::Any + Send>) -> String {
	if let Some(s) = p.downcast_ref::<&str>() {
		s.to_string()
	} else if let Some(s) = p.downcast_ref::<String>() {
		s.clone()
	} else {
		"unknown panic".to_string()
	}
}
