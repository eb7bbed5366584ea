//! The `verity_inference` host function: the native canonical engine, reachable from off-chain
//! workers only.
//!
//! The runtime's off-chain worker cannot afford to run a model in wasm, and must not block for
//! the seconds a large model takes: the node would stop serving every other block's off-chain
//! work meanwhile. So the interface is a **non-blocking job queue**. [`verity_inference::job`]
//! submits a [`Job`] the first time it sees its key and afterwards reports its progress; the
//! node runs jobs on a bounded pool of native threads and keeps finished ones for a while. The
//! off-chain worker of every block polls the jobs it cares about and acts on those that are done.
//!
//! The native side is an externalities extension, [`InferenceExt`], that the node registers only
//! for off-chain worker runs. Block execution and runtime API calls have no such extension, so
//! there the function answers [`HostError::Unavailable`] and does nothing: the host function is
//! listed in every node's executor (so any node can instantiate the runtime) but it never
//! influences consensus.

use alloc::vec::Vec;
use codec::{Decode, Encode};
use sp_core::H256;
use sp_runtime_interface::{
	pass_by::{AllocateAndReturnByCodec, PassFatPointerAndDecode},
	runtime_interface,
};
use verity_engine::{ir::Node, MerkleProof};

use crate::types::{ModelId, ModelInfo, ModelLocation, ProvenTensor};

/// Identifies a job: the off-chain worker derives it from what it is for (request, worker,
/// phase), so that every block's run finds the same job again.
pub type JobKey = [u8; 32];

/// A model to run, as registered.
#[derive(Clone, PartialEq, Eq, Encode, Decode, Debug)]
pub struct ModelRef {
	/// The model's id.
	pub id: ModelId,
	/// blake2-256 of its ONNX bytes.
	pub onnx_hash: H256,
	/// The registered model root; a compilation that yields another root is refused.
	pub model_root: H256,
	/// Where its bytes are.
	pub location: ModelLocation,
	/// The registered shape of each program input (fixes symbolic dimensions when compiling).
	pub input_shapes: Vec<Vec<u64>>,
	/// The owner's claim of the largest node cost; a program with a costlier node is refused.
	pub max_node_cost: u64,
	/// The owner's claim of the largest node footprint; a program with a larger one is refused.
	pub max_node_footprint: u64,
}

impl ModelRef {
	/// The registered model `id`.
	pub fn of<AccountId, Balance, BlockNumber>(
		id: ModelId,
		model: &ModelInfo<AccountId, Balance, BlockNumber>,
	) -> Self {
		ModelRef {
			id,
			onnx_hash: model.onnx_hash,
			model_root: model.model_root,
			location: model.location.clone(),
			input_shapes: model
				.inputs
				.iter()
				.map(|spec| spec.shape.to_vec())
				.collect(),
			max_node_cost: model.max_node_cost,
			max_node_footprint: model.max_node_footprint,
		}
	}
}

/// One inference to run natively.
#[derive(Clone, PartialEq, Eq, Encode, Decode, Debug)]
pub struct Job {
	/// The job's identity (see [`JobKey`]).
	pub key: JobKey,
	/// The model.
	pub model: ModelRef,
	/// The input tensors, SCALE `Vec<Tensor>` (as the request stores them).
	pub input: Vec<u8>,
	/// An audit: another worker's trace leaves. When the local trace differs, the job also
	/// returns the fraud-proof material for the first diverging node.
	pub compare_with: Option<Vec<H256>>,
	/// Whether the node may skip this audit by its audit-rate sampling (false for a quorum
	/// dispute the local worker is part of, which must always be decided).
	pub sampled: bool,
}

/// What a finished job computed: an output, or that an operator failed at a node (which is a
/// result too, posted with `submit_failure`).
#[derive(Clone, PartialEq, Encode, Decode, Debug)]
pub struct JobOutput {
	/// SCALE `Vec<Tensor>` of the program outputs, in output order (empty after a failure).
	pub output: Vec<u8>,
	/// `io_hash` of the outputs' tensor hashes, or `failure_hash` of the failed node.
	pub output_hash: H256,
	/// One trace leaf (tensor hash) per program node that ran.
	pub leaves: Vec<H256>,
	/// Merkle root of `leaves`.
	pub trace_root: H256,
	/// The node whose operator rejected its inputs, if execution failed.
	pub failed_at: Option<u32>,
	/// For an audit whose traces differ: the first diverging node and its proof material.
	pub divergence: Option<Divergence>,
}

/// The first node at which an audited trace differs from the local one, with what a fraud proof
/// at that node needs.
#[derive(Clone, PartialEq, Encode, Decode, Debug)]
pub struct Divergence {
	/// Index of the node (= trace leaf).
	pub node_index: u32,
	/// The node.
	pub node: Node,
	/// Its Merkle proof against the model root.
	pub node_proof: MerkleProof,
	/// Its input tensors, weights with their proofs.
	pub inputs: Vec<Option<ProvenTensor>>,
}

/// Progress of a job.
#[derive(Clone, PartialEq, Encode, Decode, Debug)]
pub enum JobStatus {
	/// Waiting for a free native thread (or for its model to load).
	Queued,
	/// Running.
	Running,
	/// Done.
	Done(JobOutput),
	/// An audit the node's sampling chose not to run.
	NotSampled,
	/// The engine could not run the job for a reason that is not a result: an undecodable input
	/// or an engine error other than an operator rejecting its inputs. No result can be posted;
	/// the worker declines the request.
	ExecutionFailed {
		/// The executor's message.
		message: Vec<u8>,
	},
	/// The model could not be served: bytes unavailable, hash or root mismatch, compilation
	/// failure. The worker declines the request (no result can be posted).
	ModelRefused {
		/// Why.
		reason: Vec<u8>,
	},
}

/// Why the host function did not take a job.
#[derive(Clone, PartialEq, Eq, Encode, Decode, Debug)]
pub enum HostError {
	/// Called outside an off-chain worker (or on a node without the inference extension).
	Unavailable,
	/// The node's job queue is full; try again in a later block.
	Busy,
}

/// The native side of [`verity_inference`], implemented by the node.
#[cfg(not(substrate_runtime))]
pub trait InferenceHost: Send + Sync {
	/// Submits `job` unless a job with its key exists; returns the job's status.
	fn job(&self, job: Job) -> Result<JobStatus, HostError>;
}

#[cfg(not(substrate_runtime))]
sp_externalities::decl_extension! {
	/// The node's inference engine, registered for off-chain worker runs only.
	pub struct InferenceExt(alloc::sync::Arc<dyn InferenceHost>);
}

#[cfg(not(substrate_runtime))]
impl InferenceExt {
	/// Wraps the node's engine.
	pub fn new(host: alloc::sync::Arc<dyn InferenceHost>) -> Self {
		InferenceExt(host)
	}
}

/// Native inference for off-chain workers (see the module documentation).
#[runtime_interface]
pub trait VerityInference {
	/// Submits `job` (once per key) and returns its status: poll it again in a later block.
	/// Outside off-chain workers this returns [`HostError::Unavailable`] and does nothing.
	fn job(
		&mut self,
		job: PassFatPointerAndDecode<Job>,
	) -> AllocateAndReturnByCodec<Result<JobStatus, HostError>> {
		use sp_externalities::ExternalitiesExt;
		match self.extension::<InferenceExt>() {
			Some(ext) => ext.0.job(job),
			None => Err(HostError::Unavailable),
		}
	}
}
