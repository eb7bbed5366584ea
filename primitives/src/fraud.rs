//! Single-operator adjudication.
//!
//! A challenger names node `i` of the model and supplies the node, its Merkle proof against the
//! model root and every input tensor. Each input is checked against where the node says it
//! comes from: a weight (Merkle proof against the model root), a request input (its tensor
//! hash), or the output of an earlier node (the accused trace's leaf for that node — up to the
//! first divergence the challenger's tensors hash to the accused worker's leaves). Then the
//! node is executed with the canonical executor and its output hash is returned; the caller
//! compares it with the accused leaf `i`.
//!
//! Every node of an adjudicable program has exactly one output, so node `i`'s output is trace
//! leaf `i`.
//!
//! An operator may also reject its (proven) inputs, e.g. a `Gather` index out of range: that is
//! an outcome too ([`NodeOutcome::Failed`]). It contradicts a trace that has a leaf `i`, and a
//! node that executes contradicts a failure result that claims the model fails at `i`.

use alloc::vec::Vec;
use codec::Encode;
use verity_engine::{
	commit::{merkle_root, tensor_hash, verify_weight, Trace},
	exec::{execute_node, ExecError, ExecOptions, Prepared},
	ir::{Node, Program, ValueRef},
	Hash, MerkleProof, ModelTree, Tensor,
};

use crate::{host::JobOutput, types::ProvenTensor};

/// Why a fraud proof was rejected before any verdict.
#[derive(Clone, PartialEq, Debug)]
pub enum ChallengeError {
	/// The node index is not below the model's node count.
	NodeIndexOutOfRange,
	/// The node does not hash to the model root's leaf at that index.
	NodeProofInvalid,
	/// The node does not have exactly one output.
	NotSingleOutput,
	/// The number of supplied inputs differs from the node's.
	InputCountMismatch,
	/// Input `0` is supplied where the node has none, or missing where it has one.
	InputPresenceMismatch(u32),
	/// Input `0` does not have the type the node declares.
	InputTypeMismatch(u32),
	/// Input `0` is a weight whose proof is missing or does not verify.
	WeightProofInvalid(u32),
	/// Input `0` is a request input whose hash differs from the request's.
	RequestInputMismatch(u32),
	/// Input `0` is a node output whose hash differs from the accused trace's leaf.
	TraceLeafMismatch(u32),
	/// Input `0` refers to a node at or after the challenged one, or to a missing value.
	InvalidSource(u32),
	/// The node could not be executed on the proven inputs for a reason other than its operator
	/// rejecting them (the node or the executor is broken).
	Execution(ExecError),
}

/// What re-executing the challenged node gave.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum NodeOutcome {
	/// The node ran; the tensor hash of its output.
	Output(Hash),
	/// The node's operator rejected the proven inputs (a data-dependent failure, the same on
	/// every platform).
	Failed,
}

impl NodeOutcome {
	/// Whether a trace with `leaves` is wrong at node `index`: it has a different leaf there,
	/// or a leaf where the node fails, or (a failure result at `index`) none where it runs.
	pub fn contradicts(&self, leaves: &[sp_core::H256], index: u32) -> bool {
		let leaf = leaves.get(index as usize);
		match self {
			NodeOutcome::Output(hash) => leaf.map(|l| l.0) != Some(*hash),
			NodeOutcome::Failed => leaf.is_some(),
		}
	}
}

/// What the runtime knows when it adjudicates.
pub struct Context<'a> {
	/// The model root.
	pub model_root: &'a Hash,
	/// Nodes in the model.
	pub node_count: u32,
	/// Weights in the model.
	pub weight_count: u32,
	/// Tensor hash of each request input.
	pub input_hashes: &'a [Hash],
	/// The accused trace's leaves.
	pub leaves: &'a [Hash],
}

/// Verifies node `index` and its `inputs` against `ctx` and returns what the canonical executor
/// computes for it: the hash of its output, or that its operator rejects the inputs.
pub fn adjudicate(
	ctx: &Context,
	index: u32,
	node: &Node,
	node_proof: &MerkleProof,
	inputs: &[Option<ProvenTensor>],
) -> Result<NodeOutcome, ChallengeError> {
	if index >= ctx.node_count {
		return Err(ChallengeError::NodeIndexOutOfRange);
	}
	if !verity_engine::commit::verify_node(
		ctx.model_root,
		node,
		index,
		ctx.node_count,
		ctx.weight_count,
		node_proof,
	) {
		return Err(ChallengeError::NodeProofInvalid);
	}
	if node.outputs.len() != 1 {
		return Err(ChallengeError::NotSingleOutput);
	}
	if inputs.len() != node.inputs.len() {
		return Err(ChallengeError::InputCountMismatch);
	}
	for (position, (declared, supplied)) in node.inputs.iter().zip(inputs).enumerate() {
		let position = position as u32;
		match (declared, supplied) {
			(None, None) => {}
			(Some(declared), Some(supplied)) => {
				if !declared.ty.matches(&supplied.tensor) {
					return Err(ChallengeError::InputTypeMismatch(position));
				}
				check_source(ctx, index, position, declared.source, supplied)?;
			}
			_ => return Err(ChallengeError::InputPresenceMismatch(position)),
		}
	}
	let refs: Vec<Option<&Tensor>> = inputs
		.iter()
		.map(|i| i.as_ref().map(|p| &p.tensor))
		.collect();
	let outputs = match execute_node(node, &refs) {
		Ok(outputs) => outputs,
		Err(ExecError::Op { .. }) => return Ok(NodeOutcome::Failed),
		Err(e) => return Err(ChallengeError::Execution(e)),
	};
	let output = outputs.first().ok_or(ChallengeError::NotSingleOutput)?;
	Ok(NodeOutcome::Output(tensor_hash(output)))
}

/// Checks that `supplied` is the value `source` names.
fn check_source(
	ctx: &Context,
	index: u32,
	position: u32,
	source: ValueRef,
	supplied: &ProvenTensor,
) -> Result<(), ChallengeError> {
	match source {
		ValueRef::Weight(w) => {
			let proof = supplied
				.weight_proof
				.as_ref()
				.ok_or(ChallengeError::WeightProofInvalid(position))?;
			if !verify_weight(
				ctx.model_root,
				&supplied.tensor,
				w,
				ctx.node_count,
				ctx.weight_count,
				proof,
			) {
				return Err(ChallengeError::WeightProofInvalid(position));
			}
		}
		ValueRef::Input(i) => {
			let expected = ctx
				.input_hashes
				.get(i as usize)
				.ok_or(ChallengeError::InvalidSource(position))?;
			if tensor_hash(&supplied.tensor) != *expected {
				return Err(ChallengeError::RequestInputMismatch(position));
			}
		}
		ValueRef::Node { node, output } => {
			if node >= index || output != 0 {
				return Err(ChallengeError::InvalidSource(position));
			}
			let leaf = ctx
				.leaves
				.get(node as usize)
				.ok_or(ChallengeError::InvalidSource(position))?;
			if tensor_hash(&supplied.tensor) != *leaf {
				return Err(ChallengeError::TraceLeafMismatch(position));
			}
		}
	}
	Ok(())
}

/// The first node where two traces differ (a length difference counts where the shorter one
/// ends), if our execution can prove it: a node we have a leaf for, or the node where our
/// execution failed (`ours_failed`: `ours` ends there).
pub fn first_difference(
	ours: &[sp_core::H256],
	ours_failed: bool,
	theirs: &[sp_core::H256],
) -> Option<u32> {
	let common = ours.len().min(theirs.len());
	let at = (0..common)
		.find(|&i| ours[i] != theirs[i])
		.or((ours.len() != theirs.len()).then_some(common))?;
	(at < ours.len() || (ours_failed && at == ours.len())).then_some(at as u32)
}

/// One native execution of a program, as a worker reports it: the outputs and the trace, or the
/// node where an operator failed with the trace up to it.
#[derive(Clone, Debug)]
pub struct Execution {
	/// The program outputs (empty after a failure).
	pub outputs: Vec<Tensor>,
	/// The trace leaves (`0..i` after a failure at node `i`).
	pub leaves: Vec<sp_core::H256>,
	/// The node whose operator failed, if any.
	pub failed_at: Option<u32>,
}

impl Execution {
	/// Runs `prepared` on `inputs`. An operator failure is an outcome; any other execution error
	/// (inputs that do not fit the program, an engine bug) is returned as the error.
	pub fn run(
		prepared: &Prepared,
		inputs: &[Tensor],
		opts: &ExecOptions,
	) -> Result<Execution, ExecError> {
		let leaves = |trace: Trace| trace.leaves.into_iter().map(sp_core::H256).collect();
		match prepared.run_traced(inputs, opts) {
			Ok((outputs, trace)) => Ok(Execution {
				outputs,
				leaves: leaves(trace),
				failed_at: None,
			}),
			Err((ExecError::Op { node, .. }, trace)) => Ok(Execution {
				outputs: Vec::new(),
				leaves: leaves(trace),
				failed_at: Some(node),
			}),
			Err((e, _)) => Err(e),
		}
	}

	/// The job output of this execution: output bytes and hashes as the chain computes them and,
	/// for an audit of a trace `theirs` that differs from ours where we can prove it, the
	/// fraud-proof material for the first such node.
	pub fn into_job_output(
		self,
		program: &Program,
		tree: &ModelTree,
		inputs: &[Tensor],
		theirs: Option<&[sp_core::H256]>,
	) -> Result<JobOutput, ChallengeError> {
		let divergence = match theirs
			.and_then(|theirs| first_difference(&self.leaves, self.failed_at.is_some(), theirs))
		{
			Some(i) => Some(proof_material(program, tree, inputs, i)?),
			None => None,
		};
		let output_hash = match self.failed_at {
			Some(node) => crate::failure_hash(node),
			None => {
				let hashes: Vec<sp_core::H256> = self
					.outputs
					.iter()
					.map(|t| sp_core::H256(tensor_hash(t)))
					.collect();
				crate::io_hash(&hashes)
			}
		};
		let raw: Vec<Hash> = self.leaves.iter().map(|l| l.0).collect();
		Ok(JobOutput {
			output: if self.failed_at.is_some() {
				Vec::new()
			} else {
				self.outputs.encode()
			},
			output_hash,
			trace_root: sp_core::H256(merkle_root(&raw)),
			leaves: self.leaves,
			failed_at: self.failed_at,
			divergence,
		})
	}
}

/// What a fraud proof at node `index` of `program` needs: the node, its proof against the model
/// root, and its input tensors, computed by running the program node by node on `inputs` up to
/// it (an honest challenger's values, which hash to the accused trace's leaves before the first
/// divergence).
pub fn proof_material(
	program: &Program,
	tree: &ModelTree,
	inputs: &[Tensor],
	index: u32,
) -> Result<crate::host::Divergence, ChallengeError> {
	let upto = index as usize;
	let node = program
		.nodes
		.get(upto)
		.ok_or(ChallengeError::NodeIndexOutOfRange)?
		.clone();
	// Only outputs that some node up to `index` reads are kept.
	let mut needed = alloc::vec![false; upto];
	for n in program.nodes.iter().take(upto + 1) {
		for input in n.inputs.iter().flatten() {
			if let ValueRef::Node { node, .. } = input.source {
				if let Some(slot) = needed.get_mut(node as usize) {
					*slot = true;
				}
			}
		}
	}
	let value = |source: ValueRef, values: &[Option<Tensor>]| -> Option<Tensor> {
		match source {
			ValueRef::Input(k) => inputs.get(k as usize).cloned(),
			ValueRef::Weight(w) => program.weights.get(w as usize).cloned(),
			ValueRef::Node { node, .. } => values.get(node as usize).cloned().flatten(),
		}
	};
	let mut values: Vec<Option<Tensor>> = Vec::with_capacity(upto);
	for (i, n) in program.nodes.iter().take(upto).enumerate() {
		let args: Vec<Option<Tensor>> = n
			.inputs
			.iter()
			.map(|input| {
				input
					.as_ref()
					.and_then(|input| value(input.source, &values))
			})
			.collect();
		let refs: Vec<Option<&Tensor>> = args.iter().map(Option::as_ref).collect();
		let mut out = execute_node(n, &refs).map_err(ChallengeError::Execution)?;
		values.push(if needed[i] { out.pop() } else { None });
	}
	let proven = node
		.inputs
		.iter()
		.map(|input| {
			let input = input.as_ref()?;
			let weight_proof = match input.source {
				ValueRef::Weight(w) => tree.weight_proof(w),
				_ => None,
			};
			Some(ProvenTensor {
				tensor: value(input.source, &values)?,
				weight_proof,
			})
		})
		.collect();
	Ok(crate::host::Divergence {
		node_index: index,
		node_proof: tree
			.node_proof(index)
			.ok_or(ChallengeError::NodeIndexOutOfRange)?,
		node,
		inputs: proven,
	})
}
