//! Posting results: checks against the model, quorum reveals, and what each mode does next.

use alloc::vec::Vec;
use codec::DecodeAll;
use frame_support::{ensure, traits::Get, weights::Weight, BoundedVec};
use sp_core::H256;
use sp_runtime::DispatchError;
use verity_engine::{commit::merkle_root, tensor_hash, Tensor};
use verity_primitives::{
	failure_hash, io_hash, result_commitment, AssignmentState, ModelRegistry, RequestId,
	RequestStatus, ResultInfo, VerificationMode,
};

use crate::{
	Accepted, Config, Error, Event, ModelOf, Pallet, Requests, Results, TraceLeaves, WeightInfo,
};

impl<T: Config> Pallet<T> {
	/// Accepts `worker`'s result on request `id`: an output (`submit_result`) or, with
	/// `failed_at`, a failure at that node (`submit_failure`). Returns the weight actually used.
	pub(crate) fn do_submit(
		id: RequestId,
		worker: T::AccountId,
		output: BoundedVec<u8, T::MaxOutputBytes>,
		failed_at: Option<u32>,
		leaves: BoundedVec<H256, T::MaxNodes>,
		salt: Option<[u8; 32]>,
	) -> Result<Weight, DispatchError> {
		Self::step(id, || {
			Self::submit(id, worker, output, failed_at, leaves, salt)
		})
	}

	fn submit(
		id: RequestId,
		worker: T::AccountId,
		output: BoundedVec<u8, T::MaxOutputBytes>,
		failed_at: Option<u32>,
		leaves: BoundedVec<H256, T::MaxNodes>,
		salt: Option<[u8; 32]>,
	) -> Result<Weight, DispatchError> {
		let mut request = Self::unfinished(id)?;
		let pos = Self::assignment_position(&request, &worker)?;
		let state = request.assignments[pos].state;
		let now = frame_system::Pallet::<T>::block_number();
		let phase_last = Self::phase_end(&request.status);
		let commitment = match request.mode {
			VerificationMode::Quorum(_) => {
				ensure!(state != AssignmentState::Slashed, Error::<T>::Excluded);
				ensure!(
					state != AssignmentState::Submitted,
					Error::<T>::AlreadySubmitted
				);
				let AssignmentState::Committed(commitment) = state else {
					return Err(Error::<T>::NotRevealPhase.into());
				};
				ensure!(
					matches!(request.status, RequestStatus::Revealing { .. }),
					Error::<T>::NotRevealPhase
				);
				Some(commitment)
			}
			VerificationMode::Attested | VerificationMode::Optimistic => {
				ensure!(
					state == AssignmentState::Assigned,
					Error::<T>::AlreadySubmitted
				);
				None
			}
		};
		match (commitment.is_some(), salt.is_some()) {
			(true, false) => return Err(Error::<T>::MissingSalt.into()),
			(false, true) => return Err(Error::<T>::UnexpectedSalt.into()),
			_ => {}
		}
		Self::ensure_in_phase(phase_last, now)?;

		let model = T::Models::model(request.model).ok_or(Error::<T>::UnknownModel)?;
		let (output_hash, trace_root) = match failed_at {
			None => Self::check_result(&model, &output, &leaves)?,
			Some(node) => Self::check_failure(&model, node, &leaves)?,
		};
		if let (Some(commitment), Some(salt)) = (commitment, salt) {
			ensure!(
				result_commitment(&output_hash, &trace_root, &worker, &salt) == commitment,
				Error::<T>::CommitmentMismatch
			);
		}

		let base = match failed_at {
			None => T::WeightInfo::submit_result(leaves.len() as u32, output.len() as u32),
			Some(_) => T::WeightInfo::submit_failure(leaves.len() as u32),
		};
		// Everything that can fail is checked: the attested window and the optimistic challenge
		// period start now.
		let phase_end = match request.mode {
			VerificationMode::Attested | VerificationMode::Optimistic => {
				Some(Self::open_phase(id, now, T::ChallengePeriod::get()))
			}
			VerificationMode::Quorum(_) => None,
		};
		request.assignments[pos].state = AssignmentState::Submitted;
		Results::<T>::insert(
			id,
			&worker,
			ResultInfo {
				output: BoundedVec::truncate_from(output.into_inner()),
				output_hash,
				trace_root,
				failed_at,
				submitted_at: now,
			},
		);
		TraceLeaves::<T>::insert(id, &worker, leaves);
		Self::deposit_event(Event::ResultSubmitted {
			id,
			worker: worker.clone(),
			output_hash,
			trace_root,
			failed_at,
		});

		let next = match (request.mode, phase_end) {
			(VerificationMode::Attested, Some(until)) => Self::settle(
				id,
				request,
				&[worker],
				Accepted {
					output_hash,
					trace_root,
					failed_at,
				},
				now,
				Some(until),
			),
			(VerificationMode::Optimistic, Some(until)) => {
				request.status = RequestStatus::Challengeable { until };
				Requests::<T>::insert(id, request);
				Self::deposit_event(Event::ResultChallengeable { id, until });
				Weight::zero()
			}
			_ => {
				let waiting = request
					.assignments
					.iter()
					.any(|a| matches!(a.state, AssignmentState::Committed(_)));
				if waiting {
					Requests::<T>::insert(id, request);
					Weight::zero()
				} else {
					Self::conclude(id, request, now, true)
				}
			}
		};
		Ok(base.saturating_add(next))
	}

	/// Checks a result against the model: one leaf per node, outputs of the model's output
	/// specs, each output's hash equal to its node's leaf. Returns the output hash and the
	/// trace root.
	pub(crate) fn check_result(
		model: &ModelOf<T>,
		output: &[u8],
		leaves: &[H256],
	) -> Result<(H256, H256), Error<T>> {
		ensure!(
			leaves.len() as u64 == model.node_count as u64,
			Error::<T>::LeafCountMismatch
		);
		let tensors = Vec::<Tensor>::decode_all(&mut &output[..])
			.map_err(|_| Error::<T>::OutputUndecodable)?;
		ensure!(
			tensors.len() == model.outputs.len(),
			Error::<T>::OutputCountMismatch
		);
		let mut hashes = Vec::with_capacity(tensors.len());
		for (tensor, out) in tensors.iter().zip(model.outputs.iter()) {
			ensure!(out.spec.matches(tensor), Error::<T>::OutputTypeMismatch);
			let hash = H256(tensor_hash(tensor));
			ensure!(
				leaves.get(out.node as usize) == Some(&hash),
				Error::<T>::OutputHashMismatch
			);
			hashes.push(hash);
		}
		let raw: Vec<[u8; 32]> = leaves.iter().map(|h| h.0).collect();
		Ok((io_hash(&hashes), H256(merkle_root(&raw))))
	}

	/// Checks a failure result at `node` against the model: `node` is one of its nodes and there
	/// is one leaf per node before it. Returns the failure's output hash and the trace root.
	pub(crate) fn check_failure(
		model: &ModelOf<T>,
		node: u32,
		leaves: &[H256],
	) -> Result<(H256, H256), Error<T>> {
		ensure!(node < model.node_count, Error::<T>::NodeIndexOutOfRange);
		ensure!(
			leaves.len() as u64 == node as u64,
			Error::<T>::LeafCountMismatch
		);
		let raw: Vec<[u8; 32]> = leaves.iter().map(|h| h.0).collect();
		Ok((failure_hash(node), H256(merkle_root(&raw))))
	}

	/// Weight of `submit_result` before dispatch: checking and storing the result, plus the
	/// most a quorum's conclusion can cost (settling or opening a dispute over every replica).
	pub fn submit_result_weight(leaves: u32, output_bytes: u32) -> Weight {
		T::WeightInfo::submit_result(leaves, output_bytes)
			.saturating_add(Self::conclusion_weight(leaves))
	}

	/// Weight of `submit_failure` before dispatch, as [`Self::submit_result_weight`].
	pub fn submit_failure_weight(leaves: u32) -> Weight {
		T::WeightInfo::submit_failure(leaves).saturating_add(Self::conclusion_weight(leaves))
	}

	/// The most a submission's conclusion can cost: settling or opening a dispute over every
	/// replica.
	fn conclusion_weight(leaves: u32) -> Weight {
		let r = T::MaxReplicas::get();
		T::WeightInfo::settle(r).max(T::WeightInfo::dispute(leaves, r))
	}
}
