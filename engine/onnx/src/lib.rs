//! Verity's ONNX front end: compiles an ONNX model to the canonical [`verity_engine`] program,
//! plus a tract runner for differential testing and tensor file helpers.
//!
//! # Compilation
//! [`compile`] decodes the protobuf (with the message types `tract-onnx` generates), fixes every
//! input shape (symbolic dims must be given), and lowers the graph node by node to the IR:
//!
//! * Nodes keep the model's (topological) order; nodes no graph output depends on are dropped.
//! * Every IR node has exactly one output (node `i` is trace leaf `i`).
//! * Each ONNX op maps to one IR op with every attribute resolved for the opset the model
//!   imports: negative axes normalised, `auto_pad` turned into explicit pads, `Reshape`'s
//!   `0`/`-1` resolved, `Resize` scales turned into output sizes, legacy attribute forms of old
//!   opsets (Clip bounds, Pad pads, Slice starts, Split/Squeeze/Unsqueeze/Reduce axes, Softmax's
//!   2-D coercion, PRelu's per-channel slope, Add's `broadcast`/`axis`) mapped to the same IR as
//!   their input forms. Attributes the lowering does not understand are refused, not ignored.
//! * A few ops the IR does not have are decomposed into IR ops exactly as their ONNX function
//!   bodies (or as exact data movement): `Trilu`, `Hardmax`, `GatherElements`, `DepthToSpace`,
//!   `SpaceToDepth`, `CenterCropPad`, `ThresholdedRelu`, `Softsign`, `IsInf`, `LpNormalization`,
//!   `RMSNormalization`, `LayerNormalization`'s `Mean`/`InvStdDev` outputs, `ReduceMax`/`Min`
//!   of booleans, and `Split` (one `Slice` per used output).
//! * Extra outputs of multi-output ops are produced only by such separate nodes. `MaxPool`'s
//!   `Indices` output is not supported: a model that uses it is refused
//!   ([`CompileError::UnsupportedFeature`]); an unused `Indices` output is fine. Unused outputs
//!   produce no node.
//! * Everything that depends only on constants (`Constant`, `Shape`/`Size`, shape subgraphs such
//!   as Shape→Gather→Concat→Reshape, `ConstantOfShape`, `Range`, `EyeLike`) is folded at compile
//!   time **by the canonical executor itself**, never by tract: tract's kernels are
//!   CPU-dependent, and a folded weight must have the same bits on every machine. `Identity` and
//!   inference `Dropout` are aliases and produce no node.
//! * Output types come from the engine's own type inference ([`verity_engine::ops::infer`]),
//!   so the program validates by construction; the declared graph output types are checked.
//! * Inputs that fix shapes (a `Reshape` target, `Slice` starts, reduction axes, `Resize`
//!   sizes…) must be constants; [`compile_with_constants`] freezes graph inputs for models that
//!   take them as inputs.
//!
//! Determinism: the output depends only on the model bytes and the given input shapes. No hash
//! map is iterated, weights are numbered by first use (so initializer order does not matter),
//! and no float is ever formatted or parsed.
//!
//! Supported operators: [`supported_ops`] (plus [`FOLD_ONLY_OPS`] on constants); element types:
//! `float32`, `int64`, `int32`, `int8`, `uint8`, `bool`.
//!
//! # Example
//! ```no_run
//! let bytes = std::fs::read("model.onnx").unwrap();
//! let model = verity_onnx::compile(&bytes, &[("input", vec![1, 3, 224, 224])]).unwrap();
//! println!("model root {}", verity_engine::commit::to_hex(&model.model_root()));
//! ```

#![warn(missing_docs)]

use std::panic::{catch_unwind, AssertUnwindSafe};

use codec::Encode;
use verity_engine::{Hash, Program, Tensor};

mod error;
mod files;
mod lower;
mod ops;
mod proto;
mod tract_runner;

pub use error::{CompileError, TensorFileError, TractError};
pub use files::{encode_npy, parse_npy, parse_tensor_pb, read_npy, read_tensor_pb, write_npy};
pub use ops::{is_supported, supported_ops, FOLD_ONLY_OPS};
pub use proto::{tensor_from_proto, tensor_to_proto};
pub use tract_runner::{run_tract, TractModel};

/// The ONNX protobuf message types (re-exported from `tract-onnx`).
pub use tract_onnx::pb;

/// Version of the compiler (the lowering rules). Goes in the on-chain model record next to the
/// model root: bump it whenever the same ONNX bytes could compile to a different program.
/// (2: `Split` lowered to `Slice` nodes, `MaxPool` without `Indices`: one output per node.)
pub const COMPILER_VERSION: u32 = 2;

/// A compiled model: the canonical program and what the caller needs to feed it.
#[derive(Clone, Debug, PartialEq)]
pub struct CompiledModel {
	/// The canonical program (validated).
	pub program: Program,
	/// ONNX names of the program inputs, in program order (initializers excluded).
	pub input_names: Vec<String>,
	/// ONNX names of the program outputs, in program order.
	pub output_names: Vec<String>,
	/// The `ai.onnx` opset the model imports.
	pub opset: i64,
}

impl CompiledModel {
	/// The model root ([`verity_engine::model_root`]): commits to every node and weight.
	pub fn model_root(&self) -> Hash {
		verity_engine::model_root(&self.program)
	}

	/// The SCALE encoding of the program (what is stored and hashed).
	pub fn program_bytes(&self) -> Vec<u8> {
		self.program.encode()
	}

	/// Number of program nodes (= trace leaves: node `i` is leaf `i`).
	pub fn node_count(&self) -> usize {
		self.program.nodes.len()
	}

	/// Total cost in the engine's cost units (multiply-accumulates plus memory traffic).
	pub fn macs(&self) -> u64 {
		self.program.macs()
	}

	/// Largest single-node footprint in bytes (inputs plus outputs of one node).
	pub fn largest_node_footprint(&self) -> u64 {
		self.program.largest_node_footprint()
	}

	/// Largest single-node cost in the engine's cost units (what a fraud proof re-executes).
	pub fn largest_node_cost(&self) -> u64 {
		self.program.largest_node_cost()
	}
}

/// Compiles ONNX model bytes to a canonical program.
///
/// `input_shapes` fixes the shape of named graph inputs (needed for every input with a symbolic
/// or unknown dimension; optional for fully static inputs, where it must agree with the
/// declaration). Never panics: a panic inside a dependency is caught and reported as
/// [`CompileError::Panic`].
pub fn compile(
	onnx: &[u8],
	input_shapes: &[(&str, Vec<usize>)],
) -> Result<CompiledModel, CompileError> {
	compile_with_constants(onnx, input_shapes, &[])
}

/// [`compile`], with some graph inputs frozen to the given values: they become constants of the
/// program (weights, or folded away) instead of program inputs. For inputs that fix shapes or
/// attributes (a `Reshape` target, reduction axes, `Resize` sizes) that the model takes as graph
/// inputs; the ONNX operator tests do this.
pub fn compile_with_constants(
	onnx: &[u8],
	input_shapes: &[(&str, Vec<usize>)],
	constant_inputs: &[(&str, Tensor)],
) -> Result<CompiledModel, CompileError> {
	catch_unwind(AssertUnwindSafe(|| {
		let model = proto::decode_model(onnx)?;
		let l = lower::lower_model(&model, input_shapes, constant_inputs)?;
		Ok(CompiledModel {
			program: l.program,
			input_names: l.input_names,
			output_names: l.output_names,
			opset: l.opset,
		})
	}))
	.unwrap_or_else(|p| Err(CompileError::Panic(error::panic_message(p))))
}

/// Rewrites ONNX model bytes so that the named graph inputs become initializers holding the given
/// values (what [`compile_with_constants`] does internally; useful to give tract the same
/// constants). Names that are not graph inputs are an error.
pub fn freeze_inputs(
	onnx: &[u8],
	constant_inputs: &[(&str, Tensor)],
) -> Result<Vec<u8>, CompileError> {
	use prost::Message;
	let mut model = proto::decode_model(onnx)?;
	let graph = model.graph.as_mut().ok_or(CompileError::NoGraph)?;
	for (name, t) in constant_inputs {
		let Some(k) = graph.input.iter().position(|i| i.name == *name) else {
			return Err(CompileError::UnknownInput {
				name: name.to_string(),
			});
		};
		graph.input.remove(k);
		graph.initializer.retain(|i| i.name != *name);
		graph.initializer.push(tensor_to_proto(name, t));
	}
	Ok(model.encode_to_vec())
}

/// The operator types a model uses, as `(domain, op_type)` pairs in first-use order, including
/// operators inside subgraphs. For coverage reports; fails only on undecodable bytes.
pub fn model_op_types(onnx: &[u8]) -> Result<Vec<(String, String)>, CompileError> {
	fn walk(g: &pb::GraphProto, out: &mut Vec<(String, String)>) {
		for n in &g.node {
			let key = (n.domain.clone(), n.op_type.clone());
			if !out.contains(&key) {
				out.push(key);
			}
			for a in &n.attribute {
				if let Some(sub) = &a.g {
					walk(sub, out);
				}
				for sub in &a.graphs {
					walk(sub, out);
				}
			}
		}
	}
	let model = proto::decode_model(onnx)?;
	let mut out = Vec::new();
	if let Some(g) = &model.graph {
		walk(g, &mut out);
	}
	Ok(out)
}

/// Names of a model's graph inputs that are program inputs (initializers excluded), in order:
/// what [`compile`]'s `input_shapes` are keyed by. Fails only on undecodable bytes.
pub fn graph_input_names(onnx: &[u8]) -> Result<Vec<String>, CompileError> {
	let model = proto::decode_model(onnx)?;
	let Some(graph) = &model.graph else {
		return Ok(Vec::new());
	};
	Ok(graph
		.input
		.iter()
		.filter(|vi| !graph.initializer.iter().any(|i| i.name == vi.name))
		.map(|vi| vi.name.clone())
		.collect())
}
