//! The deadline queue and what happens when a phase ends.
//!
//! A phase that must end by block `e` is queued at `e + 1` ([`Deadlines`]`(e + 1, id)`) and
//! handled in `on_initialize` of that block. The queue has no per-block cap, so opening a phase
//! never fails and filling the queue refuses nobody's request or commitment: at most
//! [`Config::MaxDeadlinesPerBlock`] entries are processed per block, oldest block first, and
//! what does not fit is processed in the next blocks ([`NextDue`] is the oldest block not yet
//! done). A late processing changes nothing for the workers: calls are accepted up to the
//! phase's last block `e` and refused after it whether or not its end was processed yet.
//!
//! A step that moves a request on (to another phase, or finished) removes its spent entry
//! ([`Pallet::step`]), so the queue only holds live phases: every entry is a request someone
//! paid for, and each is processed once.

use frame_support::{ensure, traits::Get, weights::Weight};
use frame_system::pallet_prelude::BlockNumberFor;
use sp_runtime::traits::{One, Saturating};
use verity_primitives::{
	AssignmentState, RequestId, RequestStatus, VerificationMode, MAX_REPLICAS,
};

use crate::{
	Accepted, ChallengeWindows, Config, Deadlines, Error, Event, NextDue, Pallet, ReceiptOf,
	Receipts, RequestOf, Requests, Results, WeightInfo,
};

impl<T: Config> Pallet<T> {
	/// Opens a phase of `length` blocks for request `id` starting after `now`: queues its end
	/// and returns its last block.
	pub(crate) fn open_phase(
		id: RequestId,
		now: BlockNumberFor<T>,
		length: BlockNumberFor<T>,
	) -> BlockNumberFor<T> {
		let last = now.saturating_add(length);
		Deadlines::<T>::insert(last.saturating_add(One::one()), id, ());
		last
	}

	/// The last block of the phase `status` is in.
	pub(crate) fn phase_end(status: &RequestStatus<BlockNumberFor<T>>) -> BlockNumberFor<T> {
		match *status {
			RequestStatus::Assigned { deadline } | RequestStatus::Revealing { deadline } => {
				deadline
			}
			RequestStatus::Challengeable { until } | RequestStatus::Disputed { until, .. } => until,
		}
	}

	/// The block whose queue holds request `id`'s live entry: its current phase's, its attested
	/// receipt's challenge window's, or the end of its accepted results' retention.
	pub(crate) fn queued_block(id: RequestId) -> Option<BlockNumberFor<T>> {
		let last = match Requests::<T>::get(id) {
			Some(request) => Self::phase_end(&request.status),
			None if ChallengeWindows::<T>::contains_key(id) => {
				Receipts::<T>::get(id)?.challengeable_until
			}
			None if Self::has_results(id) => Self::retained_until(&Receipts::<T>::get(id)?),
			None => return None,
		};
		Some(last.saturating_add(One::one()))
	}

	/// The last block a finished request's accepted results are kept: `ResultRetention` after
	/// the receipt can no longer be challenged.
	pub(crate) fn retained_until(receipt: &ReceiptOf<T>) -> BlockNumberFor<T> {
		receipt
			.challengeable_until
			.saturating_add(T::ResultRetention::get())
	}

	/// Whether any result of request `id` is stored.
	pub(crate) fn has_results(id: RequestId) -> bool {
		Results::<T>::iter_key_prefix(id).next().is_some()
	}

	/// Queues the pruning of finished request `id`'s accepted results, if any are stored.
	pub(crate) fn queue_pruning(id: RequestId, receipt: &ReceiptOf<T>) {
		if !Self::has_results(id) {
			return;
		}
		let last = Self::retained_until(receipt);
		Deadlines::<T>::insert(last.saturating_add(One::one()), id, ());
	}

	/// Fails when the phase that ends at `last` is over at `now`, whether or not its end has been
	/// processed yet.
	pub(crate) fn ensure_in_phase(
		last: BlockNumberFor<T>,
		now: BlockNumberFor<T>,
	) -> Result<(), Error<T>> {
		ensure!(now <= last, Error::<T>::PhaseEnded);
		Ok(())
	}

	/// Handles up to `MaxDeadlinesPerBlock` phase ends due at `now`, oldest block first; looks
	/// at no more than that many blocks.
	pub(crate) fn process_deadlines(now: BlockNumberFor<T>) -> Weight {
		let budget = T::MaxDeadlinesPerBlock::get();
		let mut weight = T::WeightInfo::on_initialize_base();
		let (mut processed, mut looked) = (0u32, 0u32);
		let mut block = NextDue::<T>::get();
		while block <= now && looked < budget {
			looked += 1;
			weight = weight.saturating_add(T::DbWeight::get().reads(1));
			let due: alloc::vec::Vec<RequestId> = Deadlines::<T>::iter_key_prefix(block)
				.take((budget - processed) as usize)
				.collect();
			for id in due {
				Deadlines::<T>::remove(block, id);
				processed += 1;
				let used = Self::step(id, || Ok(Self::process_deadline(id, now)));
				weight = weight.saturating_add(used.unwrap_or_default());
			}
			if processed >= budget && Deadlines::<T>::iter_key_prefix(block).next().is_some() {
				break;
			}
			block = block.saturating_add(One::one());
		}
		NextDue::<T>::put(block);
		weight
	}

	/// Handles one queue entry: the phase it was queued for is over by `now` (the entry is only
	/// acted on when the request is still in a phase that ended before `now`).
	fn process_deadline(id: RequestId, now: BlockNumberFor<T>) -> Weight {
		let over = |last: BlockNumberFor<T>| last < now;
		if let Some(request) = Requests::<T>::get(id) {
			return match request.status {
				RequestStatus::Assigned { deadline } if over(deadline) => {
					Self::expire_assigned(id, request, now)
				}
				RequestStatus::Revealing { deadline } if over(deadline) => {
					Self::expire_reveal(id, request, now)
				}
				RequestStatus::Challengeable { until } if over(until) => {
					Self::settle_challengeable(id, request, now)
				}
				RequestStatus::Disputed { until, .. } if over(until) => {
					Self::refund(id, request, now)
				}
				_ => T::DbWeight::get().reads(1),
			};
		}
		let Some(receipt) = Receipts::<T>::get(id) else {
			return T::DbWeight::get().reads(2);
		};
		if ChallengeWindows::<T>::contains_key(id) {
			return if over(receipt.challengeable_until) {
				Self::close_window(id)
			} else {
				T::DbWeight::get().reads(3)
			};
		}
		if over(Self::retained_until(&receipt)) {
			return Self::prune_results(id, &receipt);
		}
		T::DbWeight::get().reads(3)
	}

	/// Deletes finished request `id`'s accepted results at the end of their retention.
	pub(crate) fn prune_results(id: RequestId, receipt: &ReceiptOf<T>) -> Weight {
		let removed = Results::<T>::clear_prefix(id, MAX_REPLICAS, None);
		Self::deposit_event(Event::ResultsPruned { id });
		T::WeightInfo::prune_results(removed.unique.max(receipt.workers.len() as u32))
	}

	/// Results (or, in quorum mode, commitments) are missing at the end of the phase: the
	/// silent workers are penalised and excluded. Quorum workers that committed keep their
	/// place; the missing ones are replaced if the lifetime allows, else the reveal phase starts
	/// with those that committed. Without any committed worker the request starts over with new
	/// workers, or is refunded.
	pub(crate) fn expire_assigned(
		id: RequestId,
		mut request: RequestOf<T>,
		now: BlockNumberFor<T>,
	) -> Weight {
		let (missing, excluded_all) =
			Self::drop_workers_in(id, &mut request, |s| matches!(s, AssignmentState::Assigned));
		let weight = T::WeightInfo::expire_phase(missing);
		if request.assignments.is_empty() {
			return weight.saturating_add(Self::retry_or_refund(id, request, now, excluded_all));
		}
		// Quorum with some commitments in.
		if excluded_all && Self::time_remains(&request, now) {
			let replacements = Self::draw(id, &request, missing);
			if !replacements.is_empty() {
				let deadline = Self::open_phase(id, now, T::ResultTimeout::get());
				for a in Self::assignments_of(&replacements) {
					// Cannot overflow: the replacements take the places of dropped workers.
					let _ = request.assignments.try_push(a);
				}
				request.status = RequestStatus::Assigned { deadline };
				Requests::<T>::insert(id, request);
				Self::deposit_event(Event::Reassigned {
					id,
					workers: frame_support::BoundedVec::truncate_from(replacements),
					deadline,
				});
				return weight;
			}
		}
		let deadline = Self::open_phase(id, now, T::ResultTimeout::get());
		request.status = RequestStatus::Revealing { deadline };
		Requests::<T>::insert(id, request);
		Self::deposit_event(Event::RevealPhaseStarted { id, deadline });
		weight
	}

	/// Quorum reveals are missing at the end of the reveal phase: the silent workers are
	/// penalised and excluded, and the request goes on with the revealed results.
	pub(crate) fn expire_reveal(
		id: RequestId,
		mut request: RequestOf<T>,
		now: BlockNumberFor<T>,
	) -> Weight {
		let (missing, excluded_all) = Self::drop_workers_in(id, &mut request, |s| {
			matches!(s, AssignmentState::Committed(_))
		});
		T::WeightInfo::expire_phase(missing).saturating_add(Self::conclude(
			id,
			request,
			now,
			excluded_all,
		))
	}

	/// An optimistic result's challenge period is over without a fraud proof: it settles.
	pub(crate) fn settle_challengeable(
		id: RequestId,
		request: RequestOf<T>,
		now: BlockNumberFor<T>,
	) -> Weight {
		let revealed = Self::revealed(id, &request);
		match revealed.first() {
			Some((worker, result)) => {
				let (worker, result) = (worker.clone(), Accepted::of::<T>(result));
				Self::settle(id, request, &[worker], result, now, None)
			}
			// A challengeable request always has its result; refund rather than get stuck.
			None => Self::refund(id, request, now),
		}
	}

	/// Penalises, excludes and removes the workers whose state matches `silent`. Returns how
	/// many there were and whether all of them could be recorded as excluded.
	fn drop_workers_in(
		id: RequestId,
		request: &mut RequestOf<T>,
		silent: impl Fn(&AssignmentState) -> bool,
	) -> (u32, bool) {
		let dropped: alloc::vec::Vec<T::AccountId> = request
			.assignments
			.iter()
			.filter(|a| silent(&a.state))
			.map(|a| a.worker.clone())
			.collect();
		let mut excluded_all = true;
		for worker in &dropped {
			Self::penalise(id, request, worker);
			excluded_all &= Self::exclude(request, worker);
		}
		request.assignments.retain(|a| !silent(&a.state));
		(dropped.len() as u32, excluded_all)
	}

	/// Upper bound of `on_initialize`: `MaxDeadlinesPerBlock` of the most expensive deadlines,
	/// and as many queue blocks looked at.
	pub(crate) fn worst_on_initialize() -> Weight {
		let r = T::MaxReplicas::get();
		let per_deadline = T::WeightInfo::expire_phase(r)
			.saturating_add(
				T::WeightInfo::settle(r)
					.max(T::WeightInfo::dispute(T::MaxNodes::get(), r))
					.max(T::WeightInfo::refund(r))
					.max(T::WeightInfo::close_window())
					.max(T::WeightInfo::prune_results(r)),
			)
			.saturating_add(T::DbWeight::get().reads(1));
		T::WeightInfo::on_initialize_base()
			.saturating_add(per_deadline.saturating_mul(T::MaxDeadlinesPerBlock::get() as u64))
	}

	/// Whether `mode` takes commitments.
	pub(crate) fn is_quorum(mode: &VerificationMode) -> bool {
		matches!(mode, VerificationMode::Quorum(_))
	}
}

#[cfg(any(test, feature = "try-runtime"))]
impl<T: Config> Pallet<T> {
	/// Structural invariants: every unfinished request, every open challenge window and every
	/// retained result has its deadline queued, the queue holds nothing else, and trace leaves
	/// exist only while something is challengeable.
	pub(crate) fn do_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
		let queued = |id: RequestId, last: BlockNumberFor<T>| {
			Deadlines::<T>::contains_key(last.saturating_add(One::one()), id)
		};
		for (block, id, ()) in Deadlines::<T>::iter() {
			ensure!(
				Self::queued_block(id) == Some(block),
				"a spent deadline entry is still queued"
			);
		}
		for (id, request) in Requests::<T>::iter() {
			let last = Self::phase_end(&request.status);
			ensure!(
				queued(id, last),
				"unfinished request without a queued deadline"
			);
			ensure!(
				!request.assignments.is_empty(),
				"unfinished request without workers"
			);
			ensure!(
				!Receipts::<T>::contains_key(id),
				"unfinished request with a receipt"
			);
		}
		for (id, _) in ChallengeWindows::<T>::iter() {
			let receipt = Receipts::<T>::get(id).ok_or("challenge window without a receipt")?;
			ensure!(
				queued(id, receipt.challengeable_until),
				"challenge window without a queued end"
			);
		}
		Self::check_exposure()?;
		for (id, _, _) in Results::<T>::iter() {
			if !Requests::<T>::contains_key(id) && !ChallengeWindows::<T>::contains_key(id) {
				let receipt = Receipts::<T>::get(id).ok_or("a result without its request")?;
				ensure!(
					queued(id, Self::retained_until(&receipt)),
					"a retained result without its pruning queued"
				);
			}
		}
		for (id, _, _) in crate::TraceLeaves::<T>::iter() {
			ensure!(
				Requests::<T>::contains_key(id) || ChallengeWindows::<T>::contains_key(id),
				"trace leaves kept after the request can no longer be challenged"
			);
		}
		Ok(())
	}
}
