//! Worker calls: what a worker's off-chain worker submits, authorized by a signature of the
//! worker's registered key (`vrty`) instead of an account-signed extrinsic.
//!
//! A worker's node may need several transactions in one block (results for several requests, a
//! commitment and a fraud proof). Account-signed extrinsics would race on the worker account's
//! nonce and would need the account key on the node. A worker call is a general transaction
//! authorized by the pallet (`#[pallet::authorize]`): it carries no nonce, and its transaction
//! pool tag names what it does (`worker`, `request`, action), so any number of them can be in the
//! pool at once and duplicates are recognised.
//!
//! Replays are refused by state: a commitment or a result is accepted once per assignment, and a
//! worker call's fraud proof once per (request, challenger, accused) — [`AuditChallenges`].
//! The signature covers the genesis hash, so calls are not replayable on another chain, and an
//! expiry block, so a call delayed in the pool does not land much later.

use alloc::vec::Vec;
use codec::{Decode, DecodeWithMemTracking, Encode};
use frame_support::{
	dispatch::{DispatchResultWithPostInfo, Pays, PostDispatchInfo},
	pallet_prelude::*,
	CloneNoBound, DebugNoBound, EqNoBound, PartialEqNoBound,
};
use frame_system::pallet_prelude::BlockNumberFor;
use sp_core::H256;
use sp_runtime::{traits::Saturating, RuntimeAppPublic, SaturatedConversion};
use verity_engine::MerkleProof;
use verity_primitives::{
	crypto::{WorkerPublic, WorkerSignature},
	RequestId, WorkerRegistry,
};

use crate::{
	AuditChallenges, Config, Pallet, ProofInput, ProofNode, Receipts, RequestInputs, Requests,
	WeightInfo,
};

/// Domain tag of the bytes a worker key signs for a worker call.
pub const WORKER_CALL_CONTEXT: &[u8] = b"verity.worker-call.v1";

/// Priority of worker calls in the transaction pool: results and fraud proofs have deadlines.
pub const WORKER_CALL_PRIORITY: TransactionPriority = TransactionPriority::MAX / 2;

/// What a worker's off-chain worker does on a request.
#[derive(
	CloneNoBound,
	PartialEqNoBound,
	EqNoBound,
	DebugNoBound,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
)]
#[scale_info(skip_type_params(T))]
pub enum WorkerAction<T: Config> {
	/// `commit_result` on `request`.
	Commit {
		/// The request.
		request: RequestId,
		/// `result_commitment(output_hash, trace_root, worker, salt)`.
		commitment: H256,
	},
	/// `submit_result` on `request`.
	Submit {
		/// The request.
		request: RequestId,
		/// SCALE `Vec<Tensor>` of the outputs.
		output: BoundedVec<u8, T::MaxOutputBytes>,
		/// One leaf per program node.
		trace_leaves: BoundedVec<H256, T::MaxNodes>,
		/// Quorum reveals: the commitment's salt.
		salt: Option<[u8; 32]>,
	},
	/// `submit_failure` on `request`.
	SubmitFailure {
		/// The request.
		request: RequestId,
		/// The node whose operator rejected its inputs.
		node: u32,
		/// The leaves of the nodes before it.
		trace_leaves: BoundedVec<H256, T::MaxNodes>,
		/// Quorum reveals: the commitment's salt.
		salt: Option<[u8; 32]>,
	},
	/// `decline` of `request`: the worker's node cannot serve its model.
	Decline {
		/// The request.
		request: RequestId,
	},
	/// `challenge` of `accused`'s result on `request`, the worker being the challenger.
	Challenge {
		/// The request.
		request: RequestId,
		/// The worker whose result is challenged.
		accused: T::AccountId,
		/// The challenged node.
		node_index: u32,
		/// Its definition.
		node: ProofNode,
		/// Its proof against the model root.
		node_proof: MerkleProof,
		/// Its inputs.
		inputs: BoundedVec<Option<ProofInput>, T::MaxChallengeInputs>,
	},
}

impl<T: Config> WorkerAction<T> {
	/// The request the action is about.
	pub fn request(&self) -> RequestId {
		match self {
			WorkerAction::Commit { request, .. }
			| WorkerAction::Submit { request, .. }
			| WorkerAction::SubmitFailure { request, .. }
			| WorkerAction::Decline { request }
			| WorkerAction::Challenge { request, .. } => *request,
		}
	}

	/// What the action's own call weighs.
	pub fn weight(&self) -> Weight {
		match self {
			WorkerAction::Commit { .. } => T::WeightInfo::commit_result(),
			WorkerAction::Submit {
				output,
				trace_leaves,
				..
			} => Pallet::<T>::submit_result_weight(trace_leaves.len() as u32, output.len() as u32),
			WorkerAction::SubmitFailure { trace_leaves, .. } => {
				Pallet::<T>::submit_failure_weight(trace_leaves.len() as u32)
			}
			WorkerAction::Decline { .. } => Pallet::<T>::decline_weight(),
			WorkerAction::Challenge { node, .. } => Pallet::<T>::challenge_weight(node),
		}
	}
}

impl<T: Config> Pallet<T> {
	/// Deletes request `id`'s inputs once it can no longer be challenged, and with them the
	/// replay marks of its fraud proofs.
	pub(crate) fn forget_inputs(id: RequestId) {
		RequestInputs::<T>::remove(id);
		let _ = AuditChallenges::<T>::clear_prefix(id, u32::MAX, None);
	}

	/// The bytes `worker`'s key signs for `action`, valid up to block `valid_until`.
	pub fn worker_call_payload(
		worker: &T::AccountId,
		action: &WorkerAction<T>,
		valid_until: BlockNumberFor<T>,
	) -> Vec<u8> {
		let genesis = frame_system::Pallet::<T>::block_hash(BlockNumberFor::<T>::zero());
		(WORKER_CALL_CONTEXT, genesis, worker, action, valid_until).encode()
	}

	/// Weight of [`Pallet::authorize_worker_call`]: the worker's key, the request and the
	/// replay marker are read, and one sr25519 signature is verified.
	pub fn authorize_worker_call_weight() -> Weight {
		T::DbWeight::get()
			.reads(4)
			.saturating_add(T::WeightInfo::verify_worker_signature())
	}

	/// Authorizes a worker call: not expired, signed by `worker`'s registered key, and about an
	/// action that the current state can still take (so the pool drops stale and replayed calls).
	pub fn authorize_worker_call(
		_source: TransactionSource,
		worker: &T::AccountId,
		action: &WorkerAction<T>,
		valid_until: &BlockNumberFor<T>,
		signature: &WorkerSignature,
	) -> TransactionValidityWithRefund {
		let now = frame_system::Pallet::<T>::block_number();
		if now > *valid_until {
			return Err(InvalidTransaction::Stale.into());
		}
		let key: WorkerPublic =
			T::Workers::worker_key(worker).ok_or(InvalidTransaction::BadSigner)?;
		let payload = Self::worker_call_payload(worker, action, *valid_until);
		if !key.verify(&payload, signature) {
			return Err(InvalidTransaction::BadProof.into());
		}
		let request = action.request();
		let tag = match action {
			WorkerAction::Commit { .. }
			| WorkerAction::Submit { .. }
			| WorkerAction::SubmitFailure { .. }
			| WorkerAction::Decline { .. } => {
				ensure!(
					Requests::<T>::get(request)
						.is_some_and(|r| r.assignments.iter().any(|a| a.worker == *worker)),
					InvalidTransaction::Stale
				);
				// A commitment and a result (an output, a failure or a decline: one of them is
				// accepted) of one worker on one request are different tags.
				let kind: u8 = if matches!(action, WorkerAction::Commit { .. }) {
					0
				} else {
					1
				};
				(
					b"verity/worker-call",
					worker,
					request,
					kind,
					None::<&T::AccountId>,
				)
					.encode()
			}
			WorkerAction::Challenge { accused, .. } => {
				ensure!(
					Requests::<T>::contains_key(request) || Receipts::<T>::contains_key(request),
					InvalidTransaction::Stale
				);
				ensure!(
					!AuditChallenges::<T>::contains_key(request, (worker, accused)),
					InvalidTransaction::Stale
				);
				(b"verity/worker-call", worker, request, 2u8, Some(accused)).encode()
			}
		};
		let longevity = valid_until.saturating_sub(now).saturating_add(1u32.into());
		let validity = ValidTransaction::with_tag_prefix("VerityWorker")
			.priority(WORKER_CALL_PRIORITY)
			.and_provides(tag)
			.longevity(longevity.saturated_into::<u64>())
			.propagate(true)
			.build()?;
		Ok((validity, Weight::zero()))
	}

	/// Dispatches an authorized worker call as `worker` (see [`WorkerAction`]).
	pub(crate) fn do_worker_call(
		worker: T::AccountId,
		action: WorkerAction<T>,
	) -> DispatchResultWithPostInfo {
		let verify = T::WeightInfo::verify_worker_signature();
		let actual = match action {
			WorkerAction::Commit {
				request,
				commitment,
			} => {
				Self::do_commit(request, worker, commitment)?;
				T::WeightInfo::commit_result()
			}
			WorkerAction::Submit {
				request,
				output,
				trace_leaves,
				salt,
			} => Self::do_submit(request, worker, output, None, trace_leaves, salt)?,
			WorkerAction::SubmitFailure {
				request,
				node,
				trace_leaves,
				salt,
			} => Self::do_submit(
				request,
				worker,
				Default::default(),
				Some(node),
				trace_leaves,
				salt,
			)?,
			WorkerAction::Decline { request } => {
				Self::do_decline(request, worker)?;
				Pallet::<T>::decline_weight()
			}
			WorkerAction::Challenge {
				request,
				accused,
				node_index,
				node,
				node_proof,
				inputs,
			} => {
				let (_, actual) = Self::do_challenge(
					request,
					worker.clone(),
					accused.clone(),
					node_index,
					node,
					node_proof,
					inputs,
				)?;
				// A failed proof leaves the state as it was: the mark stops the same signed call
				// from being replayed to take the challenger's bond again.
				AuditChallenges::<T>::insert(request, (worker, accused), ());
				actual
			}
		};
		Ok(PostDispatchInfo {
			actual_weight: Some(actual.saturating_add(verify)),
			pays_fee: Pays::No,
		})
	}
}
