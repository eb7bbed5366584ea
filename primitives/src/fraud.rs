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

use verity_engine::{
	commit::{tensor_hash, verify_weight},
	exec::{execute_node, ExecError},
	ir::{Node, ValueRef},
	Hash, MerkleProof, Tensor,
};

use crate::types::ProvenTensor;

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
	/// The node could not be executed on the proven inputs.
	Execution(ExecError),
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

/// Verifies node `index` and its `inputs` against `ctx` and returns the hash of the output the
/// canonical executor computes for it.
pub fn adjudicate(
	ctx: &Context,
	index: u32,
	node: &Node,
	node_proof: &MerkleProof,
	inputs: &[Option<ProvenTensor>],
) -> Result<Hash, ChallengeError> {
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
	let refs: alloc::vec::Vec<Option<&Tensor>> = inputs
		.iter()
		.map(|i| i.as_ref().map(|p| &p.tensor))
		.collect();
	let outputs = execute_node(node, &refs).map_err(ChallengeError::Execution)?;
	let output = outputs.first().ok_or(ChallengeError::NotSingleOutput)?;
	Ok(tensor_hash(output))
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
