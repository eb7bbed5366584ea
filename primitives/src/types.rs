//! On-chain records and their bounds.

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use scale_info::TypeInfo;
use sp_core::{ConstU32, H256};
use sp_runtime::BoundedVec;
use verity_engine::{commit::blake2_256, DType, Tensor, TensorType};

use alloc::vec::Vec;

/// Identifier of a registered model (sequential).
pub type ModelId = u32;
/// Identifier of an inference request (sequential).
pub type RequestId = u64;

/// Most inputs or outputs a model may have.
pub const MAX_MODEL_IO: u32 = 8;
/// Highest tensor rank a model input or output may have.
pub const MAX_RANK: u32 = 8;
/// Most workers one request can involve (the largest quorum).
pub const MAX_REPLICAS: u32 = 8;
/// Longest URI a model's bytes may be published under.
pub const MAX_URI_LEN: u32 = 256;

/// Element type and fixed shape of a model input or output.
#[derive(
	Clone, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, Debug,
)]
pub struct TensorSpec {
	/// Element type.
	pub dtype: DType,
	/// Dimensions, outermost first.
	pub shape: BoundedVec<u64, ConstU32<MAX_RANK>>,
}

impl TensorSpec {
	/// The spec of a program value, if its rank fits.
	pub fn from_type(ty: &TensorType) -> Option<Self> {
		Some(TensorSpec {
			dtype: ty.dtype,
			shape: ty.shape.clone().try_into().ok()?,
		})
	}

	/// Whether `tensor` has exactly this element type and shape.
	pub fn matches(&self, tensor: &Tensor) -> bool {
		tensor.dtype() == self.dtype
			&& tensor.shape().len() == self.shape.len()
			&& tensor
				.shape()
				.iter()
				.zip(self.shape.iter())
				.all(|(a, b)| *a as u64 == *b)
	}

	/// Bytes of one tensor of this spec, if it does not overflow.
	pub fn byte_size(&self) -> Option<u64> {
		let elements = self
			.shape
			.iter()
			.try_fold(1u64, |acc, d| acc.checked_mul(*d))?;
		elements.checked_mul(self.dtype.size() as u64)
	}
}

/// A model output: the node whose (single) output it is, i.e. its trace leaf, and its type.
#[derive(
	Clone, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, Debug,
)]
pub struct OutputSpec {
	/// Index of the producing node, which is also the output's trace-leaf index.
	pub node: u32,
	/// Element type and shape.
	pub spec: TensorSpec,
}

/// How a request's result is verified before (or after) payment settles.
#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	Debug,
)]
pub enum VerificationMode {
	/// One worker; settles at once; the worker's bond stays challengeable for the challenge
	/// period and a proven fraud compensates the requester from it.
	Attested,
	/// One worker; settles when the challenge period ends without a proven fraud.
	Optimistic,
	/// `n ≥ 2` workers commit, then reveal; settles at once when all (at least two) agree,
	/// otherwise the runtime referees at the first diverging trace leaf. A quorum left with one
	/// reveal falls back to an optimistic challenge period.
	Quorum(u8),
}

impl VerificationMode {
	/// Number of workers the mode assigns.
	pub fn replicas(&self) -> u32 {
		match self {
			VerificationMode::Attested | VerificationMode::Optimistic => 1,
			VerificationMode::Quorum(n) => *n as u32,
		}
	}

	fn bit(&self) -> u8 {
		match self {
			VerificationMode::Attested => ModeSet::ATTESTED,
			VerificationMode::Optimistic => ModeSet::OPTIMISTIC,
			VerificationMode::Quorum(_) => ModeSet::QUORUM,
		}
	}
}

/// The mode's name as clients write it: `attested`, `optimistic` or `quorum:N`.
impl core::fmt::Display for VerificationMode {
	fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
		match self {
			VerificationMode::Attested => f.write_str("attested"),
			VerificationMode::Optimistic => f.write_str("optimistic"),
			VerificationMode::Quorum(n) => write!(f, "quorum:{n}"),
		}
	}
}

/// A mode name that is not `attested`, `optimistic` or `quorum:N` (N up to 255).
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct UnknownMode;

impl core::fmt::Display for UnknownMode {
	fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
		f.write_str("unknown mode: attested, optimistic or quorum:N (N up to 255)")
	}
}

impl core::str::FromStr for VerificationMode {
	type Err = UnknownMode;

	fn from_str(s: &str) -> Result<Self, UnknownMode> {
		match s {
			"attested" => Ok(VerificationMode::Attested),
			"optimistic" => Ok(VerificationMode::Optimistic),
			_ => s
				.strip_prefix("quorum:")
				.and_then(|n| n.parse().ok())
				.map(VerificationMode::Quorum)
				.ok_or(UnknownMode),
		}
	}
}

/// The verification modes a model owner allows for their model (a bit set).
#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	Default,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	Debug,
)]
pub struct ModeSet(pub u8);

impl ModeSet {
	/// `Attested` allowed.
	pub const ATTESTED: u8 = 1;
	/// `Optimistic` allowed.
	pub const OPTIMISTIC: u8 = 2;
	/// `Quorum(_)` allowed.
	pub const QUORUM: u8 = 4;
	/// Every mode.
	pub const ALL: ModeSet = ModeSet(Self::ATTESTED | Self::OPTIMISTIC | Self::QUORUM);

	/// Whether `mode` is allowed.
	pub fn allows(&self, mode: &VerificationMode) -> bool {
		self.0 & mode.bit() != 0
	}

	/// Whether the set is non-empty and has no unknown bits.
	pub fn is_valid(&self) -> bool {
		self.0 != 0 && self.0 & !Self::ALL.0 == 0
	}
}

/// Where a model's ONNX bytes can be fetched; either way they hash to the record's `onnx_hash`.
#[derive(
	Clone, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, Debug,
)]
pub enum ModelLocation {
	/// In the models pallet's storage, `len` bytes.
	OnChain {
		/// Length of the stored bytes.
		len: u32,
	},
	/// Off chain, under a URI.
	Uri(BoundedVec<u8, ConstU32<MAX_URI_LEN>>),
}

/// Lifecycle of a registered model.
#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	Debug,
)]
pub enum ModelStatus {
	/// Takes new requests.
	Active,
	/// Takes no new requests; requests in flight finish.
	Deprecated,
}

/// A registered model.
#[derive(
	Clone, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, Debug,
)]
pub struct ModelInfo<AccountId, Balance, BlockNumber> {
	/// Who registered it, receives royalties and may update or remove it.
	pub owner: AccountId,
	/// blake2-256 of the ONNX bytes.
	pub onnx_hash: H256,
	/// Root of the canonical program (every node, every weight and the header).
	pub model_root: H256,
	/// Version of the ONNX→IR compiler that produced `model_root`.
	pub compiler_version: u32,
	/// Number of program nodes, which is also the number of trace leaves.
	pub node_count: u32,
	/// Number of weight tensors.
	pub weight_count: u32,
	/// Program inputs.
	pub inputs: BoundedVec<TensorSpec, ConstU32<MAX_MODEL_IO>>,
	/// Program outputs.
	pub outputs: BoundedVec<OutputSpec, ConstU32<MAX_MODEL_IO>>,
	/// Multiply-accumulates of one inference (the model owner's claim, checked by workers).
	pub macs: u64,
	/// Bytes of the largest single node's inputs plus outputs (ditto).
	pub max_node_footprint: u64,
	/// Cost of the largest single node, the engine's `exec::node_cost` maximised over nodes:
	/// what re-executing it in a fraud proof costs (ditto).
	pub max_node_cost: u64,
	/// Royalty per inference per replica, paid to the owner.
	pub price: Balance,
	/// Modes requesters may choose.
	pub modes: ModeSet,
	/// Where the ONNX bytes are.
	pub location: ModelLocation,
	/// Deposit held from the owner while the model is registered.
	pub deposit: Balance,
	/// Active or deprecated.
	pub status: ModelStatus,
	/// Requests that reference the model and have not finished.
	pub in_flight: u32,
	/// Block of registration.
	pub registered_at: BlockNumber,
}

/// Progress of one assigned worker on a request.
#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	Debug,
)]
pub enum AssignmentState {
	/// Assigned; nothing received yet.
	Assigned,
	/// Quorum only: committed to `H(output hash, trace root, worker, salt)`.
	Committed(H256),
	/// Result received (revealed, in quorum mode).
	Submitted,
	/// Proven to have lied by a fraud proof.
	Slashed,
}

/// A worker assigned to a request.
#[derive(
	Clone, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, Debug,
)]
pub struct Assignment<AccountId> {
	/// The worker.
	pub worker: AccountId,
	/// Its progress.
	pub state: AssignmentState,
}

/// Where a request stands.
#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	Debug,
)]
pub enum RequestStatus<BlockNumber> {
	/// Waiting for the assigned workers' results (or, in quorum mode, their commitments).
	Assigned {
		/// Last block for the current phase; missing workers are penalised after it.
		deadline: BlockNumber,
	},
	/// Quorum only: every worker committed; waiting for the reveals.
	Revealing {
		/// Last block for reveals.
		deadline: BlockNumber,
	},
	/// An optimistic result (or the one reveal left of a quorum) is in; it settles after
	/// `until` unless proven wrong.
	Challengeable {
		/// Last block of the challenge period.
		until: BlockNumber,
	},
	/// Quorum only: revealed traces disagree, first at trace leaf `leaf`; a fraud proof at
	/// that node decides who lied.
	Disputed {
		/// First diverging trace leaf (node index).
		leaf: u32,
		/// Last block for a fraud proof; without one the request is refunded.
		until: BlockNumber,
	},
}

/// An inference request that has not finished. Finished requests leave a [`Receipt`].
#[derive(
	Clone, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, Debug,
)]
pub struct Request<AccountId, Balance, BlockNumber> {
	/// Who pays.
	pub requester: AccountId,
	/// The model.
	pub model: ModelId,
	/// The model's root when the request was made.
	pub model_root: H256,
	/// Verification mode.
	pub mode: VerificationMode,
	/// What the requester allowed; this much is held until the request finishes.
	pub max_fee: Balance,
	/// Price of one replica: model royalty plus worker fee, fixed at request time.
	pub fee_per_replica: Balance,
	/// The worker fee part of `fee_per_replica` (the runtime's `WorkerFee` at request time);
	/// the rest is the model's royalty.
	pub worker_fee: Balance,
	/// Tensor hash of each input.
	pub input_hashes: BoundedVec<H256, ConstU32<MAX_MODEL_IO>>,
	/// The assigned workers.
	pub assignments: BoundedVec<Assignment<AccountId>, ConstU32<MAX_REPLICAS>>,
	/// Workers excluded from this request: they missed a deadline on it, declined it or were
	/// proven wrong on it (never reassigned to it).
	pub missed: BoundedVec<AccountId, ConstU32<MAX_REPLICAS>>,
	/// Phase.
	pub status: RequestStatus<BlockNumber>,
	/// Block the request was made.
	pub created_at: BlockNumber,
	/// After this block the request is not reassigned any more; it is refunded instead.
	pub expires_at: BlockNumber,
}

/// A result a worker posted: the output tensors and the commitment to the whole execution.
#[derive(
	Clone, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, Debug,
)]
pub struct ResultInfo<BlockNumber, MaxOutputBytes: sp_core::Get<u32>> {
	/// SCALE encoding of the output tensors (`Vec<Tensor>`), in model output order.
	pub output: BoundedVec<u8, MaxOutputBytes>,
	/// [`io_hash`] of the outputs' tensor hashes.
	pub output_hash: H256,
	/// Merkle root of the trace leaves.
	pub trace_root: H256,
	/// A failure result: the model's execution fails at this node on the request's input. The
	/// output is then empty, the trace holds the leaves of the nodes before it and
	/// `output_hash` is [`failure_hash`] of the node.
	pub failed_at: Option<u32>,
	/// Block it was posted.
	pub submitted_at: BlockNumber,
}

/// A posted result as the runtime API returns it (a [`ResultInfo`] without its storage bound).
#[derive(Clone, PartialEq, Eq, Encode, Decode, TypeInfo, Debug)]
pub struct PostedResult<BlockNumber> {
	/// SCALE encoding of the output tensors (empty for a failure result).
	pub output: Vec<u8>,
	/// Output hash ([`failure_hash`] of the node for a failure result).
	pub output_hash: H256,
	/// Merkle root of the trace leaves.
	pub trace_root: H256,
	/// A failure result: the node at which execution fails.
	pub failed_at: Option<u32>,
	/// Block it was posted.
	pub submitted_at: BlockNumber,
}

/// How a finished request ended.
#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	Debug,
)]
pub enum Outcome {
	/// Paid out; the result stands.
	Settled,
	/// Paid out; the result stands, and it is that the model's execution fails at node `node`
	/// on this input (an operator rejects its inputs, e.g. a `Gather` index out of range): the
	/// work was done and verified like any result.
	ExecutionFailed {
		/// The node that fails.
		node: u32,
	},
	/// Paid out, then proven wrong (attested mode); the requester was compensated.
	Fraudulent,
	/// No valid result in time; the requester got everything back.
	Refunded,
}

/// What stays on chain once a request finishes: enough to trust (or re-check) the result.
#[derive(
	Clone, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, Debug,
)]
pub struct Receipt<AccountId, Balance, BlockNumber> {
	/// The requester.
	pub requester: AccountId,
	/// The model.
	pub model: ModelId,
	/// The model root the result was computed against.
	pub model_root: H256,
	/// [`io_hash`] of the inputs' tensor hashes.
	pub input_hash: H256,
	/// [`io_hash`] of the outputs' tensor hashes (zero when refunded).
	pub output_hash: H256,
	/// Trace root of the accepted execution (zero when refunded).
	pub trace_root: H256,
	/// Verification mode.
	pub mode: VerificationMode,
	/// Workers whose result was accepted and paid.
	pub workers: BoundedVec<AccountId, ConstU32<MAX_REPLICAS>>,
	/// Total the requester paid (escrow minus refund).
	pub paid: Balance,
	/// How it ended.
	pub outcome: Outcome,
	/// Block it finished.
	pub finished_at: BlockNumber,
	/// Attested mode: fraud proofs are accepted up to this block.
	pub challengeable_until: BlockNumber,
}

/// The commitment of one side of a request's inputs or outputs: blake2-256 over a domain tag
/// and the SCALE encoding of the tensors' hashes.
pub fn io_hash(tensor_hashes: &[H256]) -> H256 {
	let mut bytes = Vec::with_capacity(16 + 33 * tensor_hashes.len());
	bytes.extend_from_slice(b"verity.io.v1");
	tensor_hashes.encode_to(&mut bytes);
	H256(blake2_256(&bytes))
}

/// The output hash of a failure result at node `node` (see [`ResultInfo::failed_at`]): it
/// cannot equal an [`io_hash`], so a failure and an output never agree.
pub fn failure_hash(node: u32) -> H256 {
	let mut bytes = Vec::with_capacity(24);
	bytes.extend_from_slice(b"verity.failed-at.v1");
	node.encode_to(&mut bytes);
	H256(blake2_256(&bytes))
}

impl Outcome {
	/// Whether the request was paid out with a result (an output or an execution failure)
	/// that stands.
	pub fn is_settled(&self) -> bool {
		matches!(self, Outcome::Settled | Outcome::ExecutionFailed { .. })
	}
}

/// What a quorum worker commits to before revealing: blake2-256 of the SCALE encoding of
/// `(output_hash, trace_root, worker, salt)`. Binding the worker's account stops a lazy worker
/// from copying another's commitment.
pub fn result_commitment<AccountId: Encode>(
	output_hash: &H256,
	trace_root: &H256,
	worker: &AccountId,
	salt: &[u8; 32],
) -> H256 {
	H256(blake2_256(
		&(output_hash, trace_root, worker, salt).encode(),
	))
}

/// One tensor of a fraud proof: a node input, with a Merkle proof when it is a weight.
#[derive(Clone, PartialEq, Encode, Decode, DecodeWithMemTracking, TypeInfo, Debug)]
pub struct ProvenTensor {
	/// The tensor.
	pub tensor: Tensor,
	/// For a weight: its proof against the model root. Unused otherwise (request inputs are
	/// checked against the request's input hashes, earlier node outputs against the accused
	/// trace's leaves).
	pub weight_proof: Option<verity_engine::MerkleProof>,
}
