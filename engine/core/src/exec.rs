//! The canonical executor: whole programs (with their trace) and single nodes (fraud proofs).
//!
//! Execution is sequential in node order. After each node, its one output is NaN-canonicalised,
//! checked against the node's declared type and hashed into the trace (node `i` is leaf `i`);
//! intermediate values are freed after their last use (program outputs are kept). Results and
//! trace are bit-identical for every [`ExecOptions`] and on every platform.

use alloc::{vec, vec::Vec};
use core::fmt;

use crate::{
	commit::{tensor_hash_threads, Trace},
	ir::{Node, Op, Program, ValidationError, ValueRef},
	linalg::{gemm::PackedB, Isa},
	ops::{self, matmul, Ctx, OpError},
	tensor::{Tensor, TensorType},
};

/// How to run (never changes results).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExecOptions {
	/// Threads the heavy kernels may use (std only; ignored without `std`).
	pub threads: usize,
	/// Force the portable kernels (`libm::fmaf`) even where hardware FMA exists: same bits,
	/// slower. For tests and for measuring what the runtime pays.
	pub portable: bool,
}

impl Default for ExecOptions {
	fn default() -> Self {
		ExecOptions {
			threads: 1,
			portable: false,
		}
	}
}

impl ExecOptions {
	fn isa(&self) -> Isa {
		if self.portable {
			Isa::portable()
		} else {
			Isa::detect()
		}
	}
}

/// Why execution failed.
#[derive(Clone, Debug, PartialEq)]
pub enum ExecError {
	/// The program (or, for [`execute_node`], the node) is invalid.
	Invalid(ValidationError),
	/// Wrong number of program inputs.
	InputCount {
		/// Inputs the program declares.
		expected: u32,
		/// Inputs supplied.
		got: u32,
	},
	/// A program input has the wrong element type or shape.
	InputMismatch {
		/// Input index.
		input: u32,
		/// Declared type.
		expected: TensorType,
		/// Supplied type.
		got: TensorType,
	},
	/// [`execute_node`]: wrong number of inputs for the node.
	NodeInputCount {
		/// Inputs the node declares (including omitted optional ones).
		expected: u32,
		/// Inputs supplied.
		got: u32,
	},
	/// [`execute_node`]: an input is supplied where the node omits it, or vice versa.
	NodeInputPresence {
		/// Input position.
		input: u32,
	},
	/// [`execute_node`]: an input's element type or shape differs from the node's declaration.
	ShapeMismatch {
		/// Input position.
		input: u32,
		/// Declared type.
		expected: TensorType,
		/// Supplied type.
		got: TensorType,
	},
	/// An operator failed (e.g. a `Gather` index out of range).
	Op {
		/// Node index (0 for [`execute_node`]).
		node: u32,
		/// Operator name.
		op: &'static str,
		/// Why.
		error: OpError,
	},
	/// A kernel produced an output that differs from the declared type (an engine bug).
	OutputMismatch {
		/// Node index.
		node: u32,
		/// Output index.
		output: u32,
		/// Declared type.
		expected: TensorType,
		/// Produced type.
		got: TensorType,
	},
}

impl fmt::Display for ExecError {
	fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
		match self {
			ExecError::Invalid(e) => write!(f, "invalid program: {e}"),
			ExecError::InputCount { expected, got } => {
				write!(f, "program takes {expected} inputs, got {got}")
			}
			ExecError::InputMismatch {
				input,
				expected,
				got,
			} => write!(f, "program input {input} must be {expected}, got {got}"),
			ExecError::NodeInputCount { expected, got } => {
				write!(f, "node takes {expected} inputs, got {got}")
			}
			ExecError::NodeInputPresence { input } => write!(
				f,
				"node input {input} is supplied but omitted by the node, or vice versa"
			),
			ExecError::ShapeMismatch {
				input,
				expected,
				got,
			} => write!(f, "node input {input} must be {expected}, got {got}"),
			ExecError::Op { node, op, error } => write!(f, "node {node} ({op}) failed: {error}"),
			ExecError::OutputMismatch {
				node,
				output,
				expected,
				got,
			} => write!(
				f,
				"node {node} output {output} should be {expected}, kernel produced {got}"
			),
		}
	}
}

#[cfg(feature = "std")]
impl std::error::Error for ExecError {}

impl From<ValidationError> for ExecError {
	fn from(e: ValidationError) -> Self {
		ExecError::Invalid(e)
	}
}

/// Cost of a node in abstract units (see [`ops::cost`]), from its declared types alone.
pub fn node_cost(node: &Node) -> u64 {
	ops::cost(&node.op, &node.input_types(), &node.outputs)
}

/// Validates and runs `program` single-threaded with the best kernels.
pub fn execute(program: &Program, inputs: &[Tensor]) -> Result<(Vec<Tensor>, Trace), ExecError> {
	execute_with(program, inputs, &ExecOptions::default())
}

/// Validates and runs `program`.
pub fn execute_with(
	program: &Program,
	inputs: &[Tensor],
	opts: &ExecOptions,
) -> Result<(Vec<Tensor>, Trace), ExecError> {
	program.validate()?;
	let mut trace = Trace::default();
	let outputs = run_validated(program, &[], inputs, opts, &mut trace)?;
	Ok((outputs, trace))
}

/// A validated program with its weights pre-packed for the matmul kernels: what a worker keeps
/// per model and runs many times.
#[derive(Clone, Debug)]
pub struct Prepared {
	program: Program,
	packed: Vec<Option<PackedB>>,
}

impl Prepared {
	/// Validates `program` and pre-packs the weight operands of its MatMul / Gemm nodes.
	pub fn new(program: Program) -> Result<Prepared, ExecError> {
		program.validate()?;
		let packed = program
			.nodes
			.iter()
			.map(|n| match (&n.op, n.inputs.get(1)) {
				(Op::MatMul | Op::Gemm { .. }, Some(Some(b))) => match b.source {
					ValueRef::Weight(j) => matmul::prepack(&n.op, &program.weights[j as usize]),
					_ => None,
				},
				_ => None,
			})
			.collect();
		Ok(Prepared { program, packed })
	}

	/// The program.
	pub fn program(&self) -> &Program {
		&self.program
	}

	/// Gives the program back.
	pub fn into_program(self) -> Program {
		self.program
	}

	/// Runs the program.
	pub fn run(
		&self,
		inputs: &[Tensor],
		opts: &ExecOptions,
	) -> Result<(Vec<Tensor>, Trace), ExecError> {
		let mut trace = Trace::default();
		let outputs = run_validated(&self.program, &self.packed, inputs, opts, &mut trace)?;
		Ok((outputs, trace))
	}

	/// Runs the program; when it fails, also returns the trace of the nodes that ran before
	/// the failure. An operator failing at node `i` on its inputs is a verifiable outcome: the
	/// trace then holds exactly the leaves `0..i` (see `verity-primitives`' failure results).
	pub fn run_traced(
		&self,
		inputs: &[Tensor],
		opts: &ExecOptions,
	) -> Result<(Vec<Tensor>, Trace), (ExecError, Trace)> {
		let mut trace = Trace::default();
		match run_validated(&self.program, &self.packed, inputs, opts, &mut trace) {
			Ok(outputs) => Ok((outputs, trace)),
			Err(e) => Err((e, trace)),
		}
	}
}

/// Runs a node's kernel; an output without elements is fully determined by its type, so a node
/// whose declared output is empty is not run at all.
fn run_op(node: &Node, args: &[Option<&Tensor>], ctx: &Ctx) -> Result<Vec<Tensor>, OpError> {
	if let [t] = node.outputs.as_slice() {
		if t.num_elements() == Some(0) {
			let dims = t.dims().map_err(|_| OpError::TooLarge)?;
			return Ok(vec![
				Tensor::zeros(t.dtype, &dims).map_err(|_| OpError::TooLarge)?
			]);
		}
	}
	ops::run(&node.op, args, ctx)
}

/// Checks that the kernel produced exactly the node's one declared output, with the declared
/// type, and canonicalises its NaNs.
fn finish_output(node: &Node, index: u32, outs: Vec<Tensor>) -> Result<Tensor, ExecError> {
	let count = outs.len();
	let (Ok([mut t]), [ty]) = (<[Tensor; 1]>::try_from(outs), node.outputs.as_slice()) else {
		return Err(ExecError::Invalid(ValidationError::OutputCount {
			node: index,
			declared: node.outputs.len() as u32,
			inferred: count as u32,
		}));
	};
	t.canonicalize_nans();
	if !ty.matches(&t) {
		return Err(ExecError::OutputMismatch {
			node: index,
			output: 0,
			expected: ty.clone(),
			got: t.tensor_type(),
		});
	}
	Ok(t)
}

fn run_validated(
	program: &Program,
	packed: &[Option<PackedB>],
	inputs: &[Tensor],
	opts: &ExecOptions,
	trace: &mut Trace,
) -> Result<Vec<Tensor>, ExecError> {
	if inputs.len() != program.inputs.len() {
		return Err(ExecError::InputCount {
			expected: program.inputs.len() as u32,
			got: inputs.len() as u32,
		});
	}
	for (i, (t, info)) in inputs.iter().zip(&program.inputs).enumerate() {
		if !info.ty.matches(t) {
			return Err(ExecError::InputMismatch {
				input: i as u32,
				expected: info.ty.clone(),
				got: t.tensor_type(),
			});
		}
	}
	let n_nodes = program.nodes.len();
	// Node `i`'s output is value `i` and trace leaf `i`. Last node reading each value; program
	// outputs are never freed.
	let mut last_use = vec![0usize; n_nodes];
	let mut keep = vec![false; n_nodes];
	for (n, node) in program.nodes.iter().enumerate() {
		for input in node.inputs.iter().flatten() {
			if let ValueRef::Node { node: p, .. } = input.source {
				last_use[p as usize] = n;
			}
		}
	}
	for out in &program.outputs {
		if let ValueRef::Node { node, .. } = out.source {
			keep[node as usize] = true;
		}
	}
	let isa = opts.isa();
	let mut values: Vec<Option<Tensor>> = (0..n_nodes).map(|_| None).collect();
	trace.leaves.reserve(n_nodes);
	let missing = |n: usize| ExecError::Op {
		node: n as u32,
		op: program.nodes[n].op.name(),
		error: OpError::MissingInput { index: 0 },
	};
	for (n, node) in program.nodes.iter().enumerate() {
		let mut args: Vec<Option<&Tensor>> = Vec::with_capacity(node.inputs.len());
		for input in &node.inputs {
			args.push(match input {
				None => None,
				Some(i) => Some(match i.source {
					ValueRef::Input(j) => inputs.get(j as usize).ok_or_else(|| missing(n))?,
					ValueRef::Weight(j) => {
						program.weights.get(j as usize).ok_or_else(|| missing(n))?
					}
					ValueRef::Node { node: p, .. } => values
						.get(p as usize)
						.and_then(|v| v.as_ref())
						.ok_or_else(|| missing(n))?,
				}),
			});
		}
		let ctx = Ctx {
			isa,
			threads: opts.threads.max(1),
			packed_b: packed.get(n).and_then(|p| p.as_ref()),
		};
		let outs = run_op(node, &args, &ctx).map_err(|error| ExecError::Op {
			node: n as u32,
			op: node.op.name(),
			error,
		})?;
		drop(args);
		let out = finish_output(node, n as u32, outs)?;
		trace.leaves.push(tensor_hash_threads(&out, opts.threads));
		values[n] = Some(out);
		// Free values whose last reader was this node.
		for input in node.inputs.iter().flatten() {
			if let ValueRef::Node { node: p, .. } = input.source {
				let p = p as usize;
				if last_use[p] == n && !keep[p] {
					values[p] = None;
				}
			}
		}
	}
	let mut outputs = Vec::with_capacity(program.outputs.len());
	for (j, out) in program.outputs.iter().enumerate() {
		let node = program
			.output_node(j)
			.ok_or(ExecError::Invalid(ValidationError::BadOutput {
				output: j as u32,
				source: out.source,
			}))? as usize;
		let t = values[node].as_ref().ok_or_else(|| missing(node))?;
		outputs.push(t.clone());
	}
	Ok(outputs)
}

/// Re-executes one node on the given inputs (what the runtime does in a fraud proof): checks
/// the node's declared types (exactly one output, which op inference must reproduce), that
/// every input is present exactly where the node has one and has exactly the declared type,
/// then runs the kernel. Returns the node's one output (a one-element vector), NaN-canonicalised;
/// hash it with [`crate::commit::tensor_hash`] to compare with the node's trace leaf.
pub fn execute_node(node: &Node, inputs: &[Option<&Tensor>]) -> Result<Vec<Tensor>, ExecError> {
	execute_node_with(node, inputs, &ExecOptions::default())
}

/// [`execute_node`] with options.
pub fn execute_node_with(
	node: &Node,
	inputs: &[Option<&Tensor>],
	opts: &ExecOptions,
) -> Result<Vec<Tensor>, ExecError> {
	node.check_types(0)?;
	if inputs.len() != node.inputs.len() {
		return Err(ExecError::NodeInputCount {
			expected: node.inputs.len() as u32,
			got: inputs.len() as u32,
		});
	}
	for (i, (t, decl)) in inputs.iter().zip(&node.inputs).enumerate() {
		match (t, decl) {
			(None, None) => {}
			(Some(t), Some(d)) => {
				if !d.ty.matches(t) {
					return Err(ExecError::ShapeMismatch {
						input: i as u32,
						expected: d.ty.clone(),
						got: t.tensor_type(),
					});
				}
			}
			_ => return Err(ExecError::NodeInputPresence { input: i as u32 }),
		}
	}
	let ctx = Ctx {
		isa: opts.isa(),
		threads: opts.threads.max(1),
		packed_b: None,
	};
	let outs = run_op(node, inputs, &ctx).map_err(|error| ExecError::Op {
		node: 0,
		op: node.op.name(),
		error,
	})?;
	Ok(vec![finish_output(node, 0, outs)?])
}
