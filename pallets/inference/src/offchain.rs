//! The off-chain worker: serves the requests assigned to the node's workers and audits other
//! workers' results, with the node's native engine ([`verity_primitives::host`]).
//!
//! Every block, for each worker whose `vrty` key is in the node's keystore:
//!
//! * **Serving.** For each unfinished request assigned to it, the worker's job (keyed by request
//!   and worker, so every block finds the same job) is submitted to the native engine or polled.
//!   When it is done, the worker call that the request's phase expects is sent: `Submit` for
//!   attested and optimistic requests, `Commit` then `Submit` with the salt for quorums; when
//!   an operator rejected its inputs, `SubmitFailure` instead of `Submit` (a failure is a result:
//!   an honest worker is paid for it and never misses the deadline). When the node cannot serve
//!   the model at all (refused by the model store, or an engine error), the worker sends
//!   `Decline`: excluded without penalty, the request is reassigned at once. The salt
//!   is kept in persistent off-chain storage, so a node restarted between commit and reveal still
//!   reveals.
//! * **Auditing.** Every challengeable result of another worker (optimistic results in their
//!   challenge period, attested receipts in their window) is offered to the engine as an audit
//!   job; the node decides locally, with its own randomness, which ones it re-executes
//!   (`--verity-audit-rate`), so the audited worker cannot know beforehand. A quorum dispute that
//!   the node's worker is part of is always audited. When the traces differ, the engine returns
//!   the proof material for the first diverging node and the worker sends a fraud proof.
//!
//! Each call is sent at most once per [`RESEND_AFTER`] blocks (a compare-and-set marker in
//! persistent off-chain storage, so overlapping runs for forks or close blocks do not send it
//! twice) until the chain shows it took effect.

use alloc::vec::Vec;
use codec::Encode;
use frame_support::BoundedVec;
use frame_system::{
	offchain::{CreateAuthorizedTransaction, SubmitTransaction},
	pallet_prelude::BlockNumberFor,
};
use sp_core::H256;
use sp_io::hashing::blake2_256;
use sp_runtime::{
	offchain::storage::{MutateStorageError, StorageValueRef},
	traits::Saturating,
	RuntimeAppPublic,
};
use verity_primitives::{
	crypto::WorkerPublic,
	host::{verity_inference, HostError, Job, JobKey, JobOutput, JobStatus, ModelRef},
	result_commitment, AssignmentState, ModelId, ModelRegistry, RequestId, RequestStatus,
	VerificationMode, WorkerRegistry,
};

use crate::{
	Call, ChallengeWindows, Config, Pallet, ProofInput, ProofNode, Receipts, RequestInputs,
	RequestOf, Requests, TraceLeaves, WorkerAction, LOG_TARGET,
};

/// Blocks after which a worker call that has not taken effect is sent again.
pub const RESEND_AFTER: u32 = 4;

/// Blocks a worker call stays valid after the block it was built at.
pub const CALL_VALIDITY: u32 = 8;

/// The engine is not there (a node without `--verity-worker`): nothing to do this block.
struct NoEngine;

/// Where a job stands, as far as the off-chain worker acts on it.
enum JobState {
	/// Not done yet (or an audit the sampling skipped): look again next block.
	Pending,
	/// Done: an output or a failure result.
	Done(JobOutput),
	/// The node cannot run it (the model is refused, or the engine failed): decline.
	Unservable,
}

/// A worker of this node: its key and account.
struct LocalWorker<T: Config> {
	key: WorkerPublic,
	account: T::AccountId,
}

impl<T: Config> Pallet<T> {
	/// The off-chain worker's work for block `now` (see the module documentation).
	pub(crate) fn offchain_work(now: BlockNumberFor<T>) {
		let locals: Vec<LocalWorker<T>> = WorkerPublic::all()
			.into_iter()
			.filter_map(|key| {
				let account = T::Workers::worker_of_key(&key)?;
				Some(LocalWorker { key, account })
			})
			.collect();
		let Some(auditor) = locals.first() else {
			return;
		};
		if Self::serve_and_audit_open(now, &locals, auditor).is_err() {
			return;
		}
		let _ = Self::audit_attested(now, &locals, auditor);
	}

	fn serve_and_audit_open(
		now: BlockNumberFor<T>,
		locals: &[LocalWorker<T>],
		auditor: &LocalWorker<T>,
	) -> Result<(), NoEngine> {
		for (id, request) in Requests::<T>::iter() {
			let mine: Vec<&LocalWorker<T>> = locals
				.iter()
				.filter(|l| request.assignments.iter().any(|a| a.worker == l.account))
				.collect();
			for local in &mine {
				Self::serve(now, id, &request, local)?;
			}
			if mine.is_empty() && matches!(request.status, RequestStatus::Challengeable { .. }) {
				for a in request.assignments.iter() {
					if a.state == AssignmentState::Submitted {
						Self::audit(now, id, request.model, &a.worker, auditor, true, None)?;
					}
				}
			}
		}
		Ok(())
	}

	fn audit_attested(
		now: BlockNumberFor<T>,
		locals: &[LocalWorker<T>],
		auditor: &LocalWorker<T>,
	) -> Result<(), NoEngine> {
		for (id, _) in ChallengeWindows::<T>::iter() {
			let Some(receipt) = Receipts::<T>::get(id) else {
				continue;
			};
			if !receipt.outcome.is_settled() || now > receipt.challengeable_until {
				continue;
			}
			for accused in receipt.workers.iter() {
				if locals.iter().all(|l| l.account != *accused) {
					Self::audit(now, id, receipt.model, accused, auditor, true, None)?;
				}
			}
		}
		Ok(())
	}

	/// Advances `local`'s work on request `id`.
	fn serve(
		now: BlockNumberFor<T>,
		id: RequestId,
		request: &RequestOf<T>,
		local: &LocalWorker<T>,
	) -> Result<(), NoEngine> {
		let Some(state) = request
			.assignments
			.iter()
			.find(|a| a.worker == local.account)
			.map(|a| a.state)
		else {
			return Ok(());
		};
		let quorum = matches!(request.mode, VerificationMode::Quorum(_));
		match (request.status, state) {
			(RequestStatus::Assigned { .. }, AssignmentState::Assigned)
			| (RequestStatus::Revealing { .. }, AssignmentState::Committed(_)) => {}
			(RequestStatus::Disputed { leaf, .. }, AssignmentState::Submitted) => {
				// Every other revealed worker whose trace differs from ours at the disputed
				// leaf is challenged there; the engine finds the divergence itself.
				let Some(own) = TraceLeaves::<T>::get(id, &local.account) else {
					return Ok(());
				};
				for other in request.assignments.iter() {
					if other.worker == local.account || other.state != AssignmentState::Submitted {
						continue;
					}
					let differs = TraceLeaves::<T>::get(id, &other.worker)
						.is_some_and(|theirs| theirs.get(leaf as usize) != own.get(leaf as usize));
					if differs {
						Self::audit(
							now,
							id,
							request.model,
							&other.worker,
							local,
							false,
							Some(leaf),
						)?;
					}
				}
				return Ok(());
			}
			_ => return Ok(()),
		}
		let output = match Self::run_job(
			id,
			request.model,
			job_key(b"serve", id, &local.account),
			None,
			false,
		)? {
			JobState::Done(output) => output,
			JobState::Pending => return Ok(()),
			// Silence would miss the deadline; a committed quorum worker cannot decline.
			JobState::Unservable => {
				if state == AssignmentState::Assigned {
					Self::send(now, local, WorkerAction::Decline { request: id });
				}
				return Ok(());
			}
		};
		let action = match (quorum, request.status) {
			(true, RequestStatus::Assigned { .. }) => {
				let Some(salt) = quorum_salt(id, &local.account) else {
					return Ok(());
				};
				Some(WorkerAction::Commit {
					request: id,
					commitment: result_commitment(
						&output.output_hash,
						&output.trace_root,
						&local.account,
						&salt,
					),
				})
			}
			(true, _) => {
				let Some(salt) = quorum_salt(id, &local.account) else {
					return Ok(());
				};
				Self::submit_action(id, output, Some(salt))
			}
			(false, _) => Self::submit_action(id, output, None),
		};
		let Some(action) = action.or_log(id) else {
			return Ok(());
		};
		Self::send(now, local, action);
		Ok(())
	}

	/// Audits `accused`'s result on request `id` as `auditor`: when the engine's trace differs
	/// (at `required_node`, if given), sends the fraud proof.
	fn audit(
		now: BlockNumberFor<T>,
		id: RequestId,
		model: ModelId,
		accused: &T::AccountId,
		auditor: &LocalWorker<T>,
		sampled: bool,
		required_node: Option<u32>,
	) -> Result<(), NoEngine> {
		let Some(leaves) = TraceLeaves::<T>::get(id, accused) else {
			return Ok(());
		};
		let key = job_key(b"audit", id, accused);
		let JobState::Done(output) =
			Self::run_job(id, model, key, Some(leaves.into_inner()), sampled)?
		else {
			return Ok(());
		};
		let Some(divergence) = output.divergence else {
			return Ok(());
		};
		if required_node.is_some_and(|n| n != divergence.node_index) {
			return Ok(());
		}
		log::info!(
			target: LOG_TARGET,
			"audit of request {id}: worker {accused:?} diverges at node {}; sending a fraud proof",
			divergence.node_index,
		);
		let inputs: Vec<Option<ProofInput>> = divergence
			.inputs
			.into_iter()
			.map(|i| i.map(ProofInput))
			.collect();
		let Ok(inputs) = BoundedVec::try_from(inputs) else {
			log::warn!(target: LOG_TARGET, "request {id}: the fraud proof has too many inputs");
			return Ok(());
		};
		Self::send(
			now,
			auditor,
			WorkerAction::Challenge {
				request: id,
				accused: accused.clone(),
				node_index: divergence.node_index,
				node: ProofNode(divergence.node),
				node_proof: divergence.node_proof,
				inputs,
			},
		);
		Ok(())
	}

	/// Submits or polls a job.
	fn run_job(
		id: RequestId,
		model_id: ModelId,
		key: JobKey,
		compare_with: Option<Vec<H256>>,
		sampled: bool,
	) -> Result<JobState, NoEngine> {
		let Some(model) = T::Models::model(model_id) else {
			return Ok(JobState::Pending);
		};
		let Some(input) = RequestInputs::<T>::get(id) else {
			return Ok(JobState::Pending);
		};
		let job = Job {
			key,
			model: ModelRef::of(model_id, &model),
			input: input.into_inner(),
			compare_with,
			sampled,
		};
		match verity_inference::job(job) {
			Ok(JobStatus::Done(output)) => Ok(JobState::Done(output)),
			Ok(JobStatus::ExecutionFailed { message }) => {
				log::warn!(
					target: LOG_TARGET,
					"request {id}: the engine could not run it: {}",
					alloc::string::String::from_utf8_lossy(&message),
				);
				Ok(JobState::Unservable)
			}
			Ok(JobStatus::ModelRefused { reason }) => {
				log::warn!(
					target: LOG_TARGET,
					"request {id}: model {model_id} refused: {}",
					alloc::string::String::from_utf8_lossy(&reason),
				);
				Ok(JobState::Unservable)
			}
			Ok(JobStatus::Queued | JobStatus::Running | JobStatus::NotSampled) => {
				Ok(JobState::Pending)
			}
			Err(HostError::Busy) => Ok(JobState::Pending),
			Err(HostError::Unavailable) => Err(NoEngine),
		}
	}

	/// The result call for `output`: `Submit` with the output, or `SubmitFailure` when the
	/// execution failed at a node.
	fn submit_action(
		id: RequestId,
		output: JobOutput,
		salt: Option<[u8; 32]>,
	) -> Option<WorkerAction<T>> {
		let trace_leaves = BoundedVec::try_from(output.leaves).ok()?;
		Some(match output.failed_at {
			Some(node) => WorkerAction::SubmitFailure {
				request: id,
				node,
				trace_leaves,
				salt,
			},
			None => WorkerAction::Submit {
				request: id,
				output: BoundedVec::try_from(output.output).ok()?,
				trace_leaves,
				salt,
			},
		})
	}

	/// Signs and submits `action` as `local`, unless it was sent less than [`RESEND_AFTER`]
	/// blocks ago.
	fn send(now: BlockNumberFor<T>, local: &LocalWorker<T>, action: WorkerAction<T>) {
		let marker_key = (b"verity/sent", &local.account, &action).using_encoded(blake2_256);
		let marker = StorageValueRef::persistent(&marker_key);
		let claimed = marker.mutate(|last: Result<Option<BlockNumberFor<T>>, _>| match last {
			Ok(Some(at)) if now < at.saturating_add(RESEND_AFTER.into()) => Err(()),
			_ => Ok(now),
		});
		match claimed {
			Ok(_) => {}
			Err(MutateStorageError::ValueFunctionFailed(())) => return,
			Err(MutateStorageError::ConcurrentModification(_)) => return,
		}
		let valid_until = now.saturating_add(CALL_VALIDITY.into());
		let payload = Self::worker_call_payload(&local.account, &action, valid_until);
		let Some(signature) = local.key.sign(&payload) else {
			log::warn!(target: LOG_TARGET, "the worker key of {:?} cannot sign", local.account);
			return;
		};
		let request = action.request();
		let call = Call::<T>::worker_call {
			worker: local.account.clone(),
			action,
			valid_until,
			signature,
		};
		let xt =
			<T as CreateAuthorizedTransaction<Call<T>>>::create_authorized_transaction(call.into());
		match SubmitTransaction::<T, Call<T>>::submit_transaction(xt) {
			Ok(()) => log::debug!(target: LOG_TARGET, "request {request}: worker call sent"),
			Err(()) => {
				log::warn!(target: LOG_TARGET, "request {request}: worker call refused by the pool")
			}
		}
	}
}

/// A job's key: what it is for, the request and the worker it concerns.
fn job_key<AccountId: Encode>(kind: &[u8], id: RequestId, who: &AccountId) -> JobKey {
	(b"verity/job", kind, id, who).using_encoded(blake2_256)
}

/// The salt of `worker`'s quorum commitment on request `id`: drawn once from the node's
/// randomness and kept in persistent off-chain storage (a restart between commit and reveal
/// must reveal with the same salt).
fn quorum_salt<AccountId: Encode>(id: RequestId, worker: &AccountId) -> Option<[u8; 32]> {
	let key = (b"verity/salt", id, worker).using_encoded(blake2_256);
	let store = StorageValueRef::persistent(&key);
	let salt = store.mutate(|old: Result<Option<[u8; 32]>, _>| match old {
		Ok(Some(salt)) => Ok::<_, ()>(salt),
		_ => Ok(sp_io::offchain::random_seed()),
	});
	salt.ok()
}

/// Logs an action that could not be built (an output or trace over the chain's bounds).
trait OrLog<T> {
	fn or_log(self, id: RequestId) -> Option<T>;
}

impl<T> OrLog<T> for Option<T> {
	fn or_log(self, id: RequestId) -> Option<T> {
		if self.is_none() {
			log::warn!(target: LOG_TARGET, "request {id}: the result exceeds the chain's bounds");
		}
		self
	}
}
