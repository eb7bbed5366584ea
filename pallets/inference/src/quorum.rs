//! Quorum mode: commitments, and concluding on the revealed results (unanimous → settle,
//! diverging → dispute at the first diverging trace leaf).

use alloc::vec::Vec;
use frame_support::{ensure, pallet_prelude::DispatchResult, traits::Get, weights::Weight};
use frame_system::pallet_prelude::BlockNumberFor;
use sp_core::H256;
use verity_primitives::{AssignmentState, RequestId, RequestStatus};

use crate::{Accepted, Config, Error, Event, Pallet, RequestOf, Requests, TraceLeaves, WeightInfo};

impl<T: Config> Pallet<T> {
	/// Records `worker`'s commitment on quorum request `id`; the last one opens the reveal phase.
	pub(crate) fn do_commit(
		id: RequestId,
		worker: T::AccountId,
		commitment: H256,
	) -> DispatchResult {
		Self::step(id, || Self::commit(id, worker, commitment))
	}

	fn commit(id: RequestId, worker: T::AccountId, commitment: H256) -> DispatchResult {
		let mut request = Self::unfinished(id)?;
		ensure!(Self::is_quorum(&request.mode), Error::<T>::NotQuorum);
		let pos = Self::assignment_position(&request, &worker)?;
		let RequestStatus::Assigned {
			deadline: commit_by,
		} = request.status
		else {
			return Err(Error::<T>::NotCommitPhase.into());
		};
		let now = frame_system::Pallet::<T>::block_number();
		Self::ensure_in_phase(commit_by, now)?;
		// In the commit phase every assignment is either `Assigned` or `Committed`.
		ensure!(
			request.assignments[pos].state == AssignmentState::Assigned,
			Error::<T>::AlreadyCommitted
		);
		request.assignments[pos].state = AssignmentState::Committed(commitment);
		Self::deposit_event(Event::ResultCommitted { id, worker });

		Self::reveal_when_all_committed(id, &mut request, now);
		Requests::<T>::insert(id, request);
		Ok(())
	}

	/// Opens the reveal phase of quorum request `id` if every worker still assigned committed.
	pub(crate) fn reveal_when_all_committed(
		id: RequestId,
		request: &mut RequestOf<T>,
		now: BlockNumberFor<T>,
	) {
		let all_committed = request
			.assignments
			.iter()
			.all(|a| matches!(a.state, AssignmentState::Committed(_)));
		if all_committed {
			let deadline = Self::open_phase(id, now, T::ResultTimeout::get());
			request.status = RequestStatus::Revealing { deadline };
			Self::deposit_event(Event::RevealPhaseStarted { id, deadline });
		}
	}

	/// Decides a quorum request on its revealed results (assignments in state `Submitted`):
	/// none → a fresh round or a refund; one (the others timed out or were proven wrong) → an
	/// optimistic challenge period for it; two or more with the same result (output or failure,
	/// and trace root) → settle with them; otherwise → dispute at the first leaf where any two
	/// revealed traces differ.
	pub(crate) fn conclude(
		id: RequestId,
		mut request: RequestOf<T>,
		now: BlockNumberFor<T>,
		excluded_all: bool,
	) -> Weight {
		let revealed = Self::revealed(id, &request);
		let Some((_, first)) = revealed.first() else {
			return Self::retry_or_refund(id, request, now, excluded_all);
		};
		let result = Accepted::of::<T>(first);
		if revealed.len() == 1 {
			// One reveal verifies nothing: the result is challengeable like an optimistic one.
			let until = Self::open_phase(id, now, T::ChallengePeriod::get());
			request.status = RequestStatus::Challengeable { until };
			Requests::<T>::insert(id, request);
			Self::deposit_event(Event::ResultChallengeable { id, until });
			return Weight::zero();
		}
		if revealed.iter().all(|(_, r)| Accepted::of::<T>(r) == result) {
			let workers: Vec<T::AccountId> = revealed.into_iter().map(|(w, _)| w).collect();
			return Self::settle(id, request, &workers, result, now, None);
		}
		let workers: Vec<T::AccountId> = revealed.into_iter().map(|(w, _)| w).collect();
		let (leaf, leaves_read) = Self::first_divergence(id, &workers);
		let weight = T::WeightInfo::dispute(leaves_read, workers.len() as u32);
		let until = Self::open_phase(id, now, T::ChallengePeriod::get());
		request.status = RequestStatus::Disputed { leaf, until };
		Requests::<T>::insert(id, request);
		Self::deposit_event(Event::Disputed { id, leaf, until });
		weight
	}

	/// The first trace leaf where the traces of `workers` on request `id` are not all equal, and
	/// the length of the traces read.
	pub(crate) fn first_divergence(id: RequestId, workers: &[T::AccountId]) -> (u32, u32) {
		let traces: Vec<_> = workers
			.iter()
			.map(|w| TraceLeaves::<T>::get(id, w).unwrap_or_default())
			.collect();
		let Some((base, others)) = traces.split_first() else {
			return (0, 0);
		};
		let len = traces.iter().map(|t| t.len()).max().unwrap_or(0);
		let leaf = others
			.iter()
			.filter_map(|t| {
				let common = base.len().min(t.len());
				(0..common)
					.find(|&i| base[i] != t[i])
					.or((base.len() != t.len()).then_some(common))
			})
			.min()
			.unwrap_or(0);
		(leaf as u32, len as u32)
	}
}
