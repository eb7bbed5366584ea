//! Pallet-local types: aliases over the shared records of `verity-primitives`, the call
//! arguments of a fraud proof, and the record that keeps an attested receipt challengeable.

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use core::marker::PhantomData;
use frame_support::{
	traits::{fungible, Get},
	CloneNoBound, DebugNoBound, EqNoBound, PartialEqNoBound,
};
use frame_system::pallet_prelude::BlockNumberFor;
use scale_info::TypeInfo;
use sp_core::{ConstU32, H256};
use sp_runtime::BoundedVec;
use verity_engine::ir::Node;
use verity_primitives::{
	ModelInfo, Outcome, ProvenTensor, Receipt, Request, ResultInfo, MAX_MODEL_IO, MAX_REPLICAS,
};

use crate::Config;

/// The balance type of the pallet's currency.
pub type BalanceOf<T> =
	<<T as Config>::Currency as fungible::Inspect<<T as frame_system::Config>::AccountId>>::Balance;

/// An unfinished request of this runtime.
pub type RequestOf<T> =
	Request<<T as frame_system::Config>::AccountId, BalanceOf<T>, BlockNumberFor<T>>;

/// A receipt of this runtime.
pub type ReceiptOf<T> =
	Receipt<<T as frame_system::Config>::AccountId, BalanceOf<T>, BlockNumberFor<T>>;

/// A posted result of this runtime.
pub type ResultOf<T> = ResultInfo<BlockNumberFor<T>, MaxOutputOf<T>>;

/// [`Config::MaxOutputBytes`] as a type that is `TypeInfo` whatever the runtime's `Get` type is
/// (the shared `ResultInfo` record is generic over its bound and asks for it).
#[derive(CloneNoBound, PartialEqNoBound, EqNoBound, DebugNoBound, TypeInfo)]
#[scale_info(skip_type_params(T))]
pub struct MaxOutputOf<T>(PhantomData<T>);

impl<T: Config> Get<u32> for MaxOutputOf<T> {
	fn get() -> u32 {
		T::MaxOutputBytes::get()
	}
}

/// A registered model as this runtime's model registry reports it.
pub type ModelOf<T> =
	ModelInfo<<T as frame_system::Config>::AccountId, BalanceOf<T>, BlockNumberFor<T>>;

/// The workers of a request (at most [`MAX_REPLICAS`]).
pub type WorkerList<AccountId> = BoundedVec<AccountId, ConstU32<MAX_REPLICAS>>;

/// The per-input tensor hashes of a request.
pub type InputHashes = BoundedVec<H256, ConstU32<MAX_MODEL_IO>>;

/// The challenged node of a fraud proof, as a call argument.
///
/// Call arguments must be `Eq`; the engine's `Node` is only `PartialEq` because a
/// `ConstantOfShape` node carries a float tensor. The encoding is exactly the node's.
#[derive(Clone, PartialEq, Encode, Decode, DecodeWithMemTracking, TypeInfo, Debug)]
pub struct ProofNode(pub Node);

// Equality of call arguments is only used to compare whole calls; treating a float NaN as
// unequal to itself there is harmless.
impl Eq for ProofNode {}

impl core::ops::Deref for ProofNode {
	type Target = Node;
	fn deref(&self) -> &Node {
		&self.0
	}
}

impl From<Node> for ProofNode {
	fn from(node: Node) -> Self {
		ProofNode(node)
	}
}

/// One input tensor of a fraud proof, as a call argument (see [`ProofNode`] for why it wraps).
#[derive(Clone, PartialEq, Encode, Decode, DecodeWithMemTracking, TypeInfo, Debug)]
pub struct ProofInput(pub ProvenTensor);

impl Eq for ProofInput {}

impl From<ProvenTensor> for ProofInput {
	fn from(t: ProvenTensor) -> Self {
		ProofInput(t)
	}
}

/// What an attested receipt needs, besides the receipt itself, to stay challengeable after it
/// settled: the per-input tensor hashes that adjudication checks request inputs against (the
/// receipt only keeps their [`verity_primitives::io_hash`]).
#[derive(
	Clone, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, Debug,
)]
pub struct ChallengeWindow {
	/// Tensor hash of each request input.
	pub input_hashes: InputHashes,
}

/// How one fraud proof was decided.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Verdict {
	/// At least one worker's trace contradicted the re-execution and was slashed; whether the
	/// slash took anything from its bond.
	Fraud {
		/// Some bond was taken.
		slashed: bool,
	},
	/// The accused leaf equals the re-executed output: the challenger's bond is forfeited.
	Honest,
}

impl Verdict {
	/// Who pays for the fraud proof: nobody when it slashed something; the challenger when it
	/// proved nothing, or proved a fraud whose bond was already gone (so that proofs which
	/// move nothing cannot be spammed for free).
	pub fn pays(&self) -> frame_support::dispatch::Pays {
		match self {
			Verdict::Fraud { slashed: true } => frame_support::dispatch::Pays::No,
			_ => frame_support::dispatch::Pays::Yes,
		}
	}
}

/// The result a request settles with: what its receipt records.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Accepted {
	/// Output hash (`failure_hash` of the node for a failure result).
	pub output_hash: H256,
	/// Trace root.
	pub trace_root: H256,
	/// The node at which execution fails, for a failure result.
	pub failed_at: Option<u32>,
}

impl Accepted {
	/// The accepted part of a posted result.
	pub fn of<T: Config>(result: &ResultOf<T>) -> Self {
		Accepted {
			output_hash: result.output_hash,
			trace_root: result.trace_root,
			failed_at: result.failed_at,
		}
	}

	/// The receipt outcome of settling with this result.
	pub fn outcome(&self) -> Outcome {
		match self.failed_at {
			Some(node) => Outcome::ExecutionFailed { node },
			None => Outcome::Settled,
		}
	}
}
