//! Quorum mode: commitments, and concluding on the revealed results (unanimous → settle,
//! diverging → dispute at the first diverging trace leaf).

use alloc::vec::Vec;
use frame_support::{ensure, pallet_prelude::DispatchResult, traits::Get, weights::Weight};
use frame_system::pallet_prelude::BlockNumberFor;
use sp_core::H256;
use verity_primitives::{AssignmentState, RequestId, RequestStatus};

use crate::{Config, Error, Event, Pallet, RequestOf, Requests, TraceLeaves, WeightInfo};

impl<T: Config> Pallet<T> {
	/// Records `worker`'s commitment on quorum request `id`; the last one opens the reveal phase.
	pub(crate) fn do_commit(
		id: RequestId,
		worker: T::AccountId,
		commitment: H256,
	) -> DispatchResult {
		let mut request = Self::unfinished(id)?;
		ensure!(Self::is_quorum(&request.mode), Error::<T>::NotQuorum);
		let pos = Self::assignment_position(&request, &worker)?;
		ensure!(
			matches!(request.status, RequestStatus::Assigned { .. }),
			Error::<T>::NotCommitPhase
		);
		// In the commit phase every assignment is either `Assigned` or `Committed`.
		ensure!(
			request.assignments[pos].state == AssignmentState::Assigned,
			Error::<T>::AlreadyCommitted
		);
		request.assignments[pos].state = AssignmentState::Committed(commitment);
		Self::deposit_event(Event::ResultCommitted { id, worker });

		let all_committed = request
			.assignments
			.iter()
			.all(|a| matches!(a.state, AssignmentState::Committed(_)));
		if all_committed {
			let now = frame_system::Pallet::<T>::block_number();
			let deadline = Self::open_phase(id, now, T::ResultTimeout::get())?;
			request.status = RequestStatus::Revealing { deadline };
			Self::deposit_event(Event::RevealPhaseStarted { id, deadline });
		}
		Requests::<T>::insert(id, request);
		Ok(())
	}

	/// Decides a quorum request on its revealed results (assignments in state `Submitted`):
	/// none → a fresh round or a refund; all with the same trace root → settle with them;
	/// otherwise → dispute at the first leaf where any two revealed traces differ.
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
		let (output_hash, trace_root) = (first.output_hash, first.trace_root);
		if revealed.iter().all(|(_, r)| r.trace_root == trace_root) {
			let workers: Vec<T::AccountId> = revealed.into_iter().map(|(w, _)| w).collect();
			return Self::settle(id, request, &workers, output_hash, trace_root, now, None);
		}
		let workers: Vec<T::AccountId> = revealed.into_iter().map(|(w, _)| w).collect();
		let (leaf, leaves_read) = Self::first_divergence(id, &workers);
		let weight = T::WeightInfo::dispute(leaves_read, workers.len() as u32);
		match Self::open_phase(id, now, T::ChallengePeriod::get()) {
			Ok(until) => {
				request.status = RequestStatus::Disputed { leaf, until };
				Requests::<T>::insert(id, request);
				Self::deposit_event(Event::Disputed { id, leaf, until });
				weight
			}
			Err(_) => weight.saturating_add(Self::refund(id, request, now)),
		}
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
