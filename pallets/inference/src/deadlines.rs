//! The deadline queue and what happens when a phase ends.
//!
//! A phase that must end by block `e` is queued at `e + 1` (or the next block with room, at
//! most [`DEADLINE_SEARCH_SPAN`] blocks on) and handled in that block's `on_initialize`. An
//! entry whose request has moved on (settled early, advanced to another phase) is skipped: it
//! is only acted on when the request's current phase really ends just before the block.

use frame_support::{ensure, traits::Get, weights::Weight};
use frame_system::pallet_prelude::BlockNumberFor;
use sp_runtime::traits::{One, Saturating};
use verity_primitives::{AssignmentState, RequestId, RequestStatus, VerificationMode};

use crate::{
	ChallengeWindows, Config, Deadlines, Error, Event, Pallet, Receipts, RequestOf, Requests,
	WeightInfo, DEADLINE_SEARCH_SPAN,
};

impl<T: Config> Pallet<T> {
	/// Queues request `id` at block `at`, or at the first of the next
	/// [`DEADLINE_SEARCH_SPAN`] blocks whose queue has room. Returns the block.
	pub(crate) fn schedule(
		id: RequestId,
		mut at: BlockNumberFor<T>,
	) -> Result<BlockNumberFor<T>, Error<T>> {
		for _ in 0..DEADLINE_SEARCH_SPAN {
			let placed = Deadlines::<T>::try_mutate(at, |queue| {
				if queue.contains(&id) {
					return Ok(());
				}
				queue.try_push(id).map_err(|_| ())
			});
			if placed.is_ok() {
				return Ok(at);
			}
			at = at.saturating_add(One::one());
		}
		Err(Error::<T>::DeadlineQueueFull)
	}

	/// Opens a phase of `length` blocks for request `id` starting after `now`; returns its last
	/// block (later than `now + length` only when the queue had to skip full blocks).
	pub(crate) fn open_phase(
		id: RequestId,
		now: BlockNumberFor<T>,
		length: BlockNumberFor<T>,
	) -> Result<BlockNumberFor<T>, Error<T>> {
		let first = now.saturating_add(length).saturating_add(One::one());
		let at = Self::schedule(id, first)?;
		ensure!(at > now, Error::<T>::DeadlineQueueFull);
		Ok(at.saturating_sub(One::one()))
	}

	/// Handles every phase that ended just before block `now`.
	pub(crate) fn process_deadlines(now: BlockNumberFor<T>) -> Weight {
		let queue = Deadlines::<T>::take(now);
		let mut weight = T::WeightInfo::on_initialize_base();
		for id in queue {
			weight = weight.saturating_add(Self::process_deadline(id, now));
		}
		weight
	}

	/// Handles one queue entry.
	fn process_deadline(id: RequestId, now: BlockNumberFor<T>) -> Weight {
		let ends_now = |last: BlockNumberFor<T>| last.saturating_add(One::one()) == now;
		if let Some(request) = Requests::<T>::get(id) {
			return match request.status {
				RequestStatus::Assigned { deadline } if ends_now(deadline) => {
					Self::expire_assigned(id, request, now)
				}
				RequestStatus::Revealing { deadline } if ends_now(deadline) => {
					Self::expire_reveal(id, request, now)
				}
				RequestStatus::Challengeable { until } if ends_now(until) => {
					Self::settle_challengeable(id, request, now)
				}
				RequestStatus::Disputed { until, .. } if ends_now(until) => {
					Self::refund(id, request, now)
				}
				_ => T::DbWeight::get().reads(1),
			};
		}
		if ChallengeWindows::<T>::contains_key(id)
			&& Receipts::<T>::get(id).is_some_and(|r| ends_now(r.challengeable_until))
		{
			return Self::close_window(id);
		}
		T::DbWeight::get().reads(3)
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
				if let Ok(deadline) = Self::open_phase(id, now, T::ResultTimeout::get()) {
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
		}
		match Self::open_phase(id, now, T::ResultTimeout::get()) {
			Ok(deadline) => {
				request.status = RequestStatus::Revealing { deadline };
				Requests::<T>::insert(id, request);
				Self::deposit_event(Event::RevealPhaseStarted { id, deadline });
				weight
			}
			Err(_) => weight.saturating_add(Self::refund(id, request, now)),
		}
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
				let (worker, output_hash, trace_root) =
					(worker.clone(), result.output_hash, result.trace_root);
				Self::settle(id, request, &[worker], output_hash, trace_root, now, None)
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

	/// Upper bound of `on_initialize`: a full queue of the most expensive deadlines.
	pub(crate) fn worst_on_initialize() -> Weight {
		let r = T::MaxReplicas::get();
		let per_deadline = T::WeightInfo::expire_phase(r).saturating_add(
			T::WeightInfo::settle(r)
				.max(T::WeightInfo::dispute(T::MaxNodes::get(), r))
				.max(T::WeightInfo::refund(r)),
		);
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
	/// Structural invariants: every unfinished request and every open challenge window has its
	/// deadline queued, and trace leaves exist only while something is challengeable.
	pub(crate) fn do_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
		let queued = |id: RequestId, last: BlockNumberFor<T>| {
			Deadlines::<T>::get(last.saturating_add(One::one())).contains(&id)
		};
		for (id, request) in Requests::<T>::iter() {
			let last =
				match request.status {
					RequestStatus::Assigned { deadline }
					| RequestStatus::Revealing { deadline } => deadline,
					RequestStatus::Challengeable { until }
					| RequestStatus::Disputed { until, .. } => until,
				};
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
		for (id, _, _) in crate::TraceLeaves::<T>::iter() {
			ensure!(
				Requests::<T>::contains_key(id) || ChallengeWindows::<T>::contains_key(id),
				"trace leaves kept after the request can no longer be challenged"
			);
		}
		Ok(())
	}
}
