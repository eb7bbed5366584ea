//! Declining an assignment: a worker whose node cannot serve the request's model (its bytes are
//! unavailable or do not match the registration, it does not compile to the registered root,
//! or it exceeds what the node accepts) says so instead of staying silent.
//!
//! A decline costs the worker nothing and earns it nothing: it is excluded from the request,
//! which is reassigned at once (or refunded in full when no worker is left). Staying silent
//! would cost `MissPenalty` at the deadline and delay the request by a whole phase; a decline
//! hands it on in the next block. It gives a worker no power it lacks anyway: not serving was
//! always possible, and a result is still the only thing that is paid.

use frame_support::{pallet_prelude::DispatchResult, traits::Get};
use verity_primitives::{AssignmentState, RequestId, RequestStatus};

use crate::{Config, Error, Event, Pallet, Requests, WeightInfo};

impl<T: Config> Pallet<T> {
	/// `worker` declines its assignment on request `id` (see the module documentation).
	pub(crate) fn do_decline(id: RequestId, worker: T::AccountId) -> DispatchResult {
		Self::step(id, || Self::decline_step(id, worker))
	}

	fn decline_step(id: RequestId, worker: T::AccountId) -> DispatchResult {
		let mut request = Self::unfinished(id)?;
		let pos = Self::assignment_position(&request, &worker)?;
		match request.assignments[pos].state {
			AssignmentState::Assigned => {}
			AssignmentState::Committed(_) => return Err(Error::<T>::AlreadyCommitted.into()),
			AssignmentState::Submitted | AssignmentState::Slashed => {
				return Err(Error::<T>::AlreadySubmitted.into())
			}
		}
		// An `Assigned` worker is only ever in an `Assigned` phase.
		let RequestStatus::Assigned { deadline } = request.status else {
			return Err(Error::<T>::NotCommitPhase.into());
		};
		let now = frame_system::Pallet::<T>::block_number();
		Self::ensure_in_phase(deadline, now)?;
		let recorded = Self::exclude(&mut request, &worker);
		request.assignments.remove(pos);
		Self::deposit_event(Event::Declined {
			id,
			worker: worker.clone(),
		});
		if request.assignments.is_empty() {
			Self::retry_or_refund(id, request, now, recorded);
			return Ok(());
		}
		// A quorum goes on with the others; if they have all committed, reveals start now.
		Self::reveal_when_all_committed(id, &mut request, now);
		Requests::<T>::insert(id, request);
		Ok(())
	}

	/// Weight of `decline`: at worst the last worker of the widest quorum declines and the
	/// request is redrawn (benchmarked), or refunded when no worker is left.
	pub fn decline_weight() -> frame_support::weights::Weight {
		let r = T::MaxReplicas::get();
		T::WeightInfo::decline(r)
			.max(T::WeightInfo::decline(1).saturating_add(T::WeightInfo::refund(r)))
	}
}
