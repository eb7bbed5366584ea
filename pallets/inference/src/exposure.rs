//! Exposure: what each worker's bond must answer for. A worker is exposed on a request while a
//! fraud proof could still slash it there: from its assignment until it is excluded, proven
//! wrong, or its result can no longer be challenged (settled, or its attested window closed).
//! Each exposure can cost at most one `FraudSlash` (`MissPenalty` is smaller), so keeping
//! `(Exposure + 1) × FraudSlash ≤ bond` at every assignment means the bond covers every fraud
//! the worker could commit at once: no cheat is ever left unpaid for lack of bond.
//!
//! Exposures are not counted by hand on each path: every step of a request (an extrinsic or a
//! processed deadline) runs through [`Pallet::step`], which compares the workers the request
//! exposes before and after and counts the difference; the same wrapper removes the request's
//! spent deadline entry. `do_try_state` recounts both from storage.

use alloc::vec::Vec;
use frame_support::traits::Get;
use sp_runtime::{DispatchError, Saturating};
use verity_primitives::{AssignmentState, RequestId, WorkerRegistry};

use crate::{BalanceOf, ChallengeWindows, Config, Deadlines, Exposure, Pallet, Receipts, Requests};

/// Draws of `WorkerRegistry::select` per assignment: workers whose bond is fully exposed are
/// skipped and the rest redrawn, at most this many times.
pub const DRAW_ROUNDS: u32 = 3;

impl<T: Config> Pallet<T> {
	/// The workers request `id` exposes to a slash now.
	pub(crate) fn exposed(id: RequestId) -> Vec<T::AccountId> {
		if let Some(request) = Requests::<T>::get(id) {
			return request
				.assignments
				.iter()
				.filter(|a| a.state != AssignmentState::Slashed)
				.map(|a| a.worker.clone())
				.collect();
		}
		if ChallengeWindows::<T>::contains_key(id) {
			if let Some(receipt) = Receipts::<T>::get(id) {
				return receipt.workers.into_inner();
			}
		}
		Vec::new()
	}

	/// Runs `f`, one step of request `id`, then brings the deadline queue and the exposures up
	/// to date with where it left the request: the entry of a phase it left is removed, and the
	/// workers it stopped (or started) exposing are counted out (in).
	pub(crate) fn step<R>(
		id: RequestId,
		f: impl FnOnce() -> Result<R, DispatchError>,
	) -> Result<R, DispatchError> {
		let queued = Self::queued_block(id);
		let before = Self::exposed(id);
		let result = f()?;
		if let Some(block) = queued {
			if Self::queued_block(id) != Some(block) {
				Deadlines::<T>::remove(block, id);
			}
		}
		let after = Self::exposed(id);
		for w in before.iter().filter(|w| !after.contains(w)) {
			Exposure::<T>::mutate_exists(w, |n| {
				*n = n.and_then(|n| n.checked_sub(1)).filter(|n| *n > 0);
			});
		}
		for w in after.iter().filter(|w| !before.contains(w)) {
			Exposure::<T>::mutate(w, |n| *n = n.saturating_add(1));
		}
		Ok(result)
	}

	/// Whether `who`'s bond answers for one more exposure.
	pub(crate) fn can_answer_for_one_more(who: &T::AccountId) -> bool {
		let next = BalanceOf::<T>::from(Exposure::<T>::get(who).saturating_add(1));
		next.saturating_mul(T::FraudSlash::get()) <= T::Workers::bond(who)
	}

	/// Up to `count` active workers, none in `exclude`, whose bonds answer for one more
	/// exposure: `select` from `seed`, skipping (and redrawing for) fully exposed workers, at
	/// most [`DRAW_ROUNDS`] times.
	pub(crate) fn select_answerable(
		seed: [u8; 32],
		count: u32,
		exclude: &[T::AccountId],
	) -> Vec<T::AccountId> {
		let mut exclude = exclude.to_vec();
		let mut chosen = Vec::new();
		for round in 0..DRAW_ROUNDS {
			let wanted = count.saturating_sub(chosen.len() as u32);
			if wanted == 0 {
				break;
			}
			// Round 0 is the documented seed itself.
			let seed = if round == 0 {
				seed
			} else {
				sp_io::hashing::blake2_256(&codec::Encode::encode(&(seed, round)))
			};
			let picks = T::Workers::select(&seed, wanted, &exclude);
			if picks.is_empty() {
				break;
			}
			for p in picks {
				if Self::can_answer_for_one_more(&p) {
					chosen.push(p.clone());
				}
				exclude.push(p);
			}
		}
		chosen
	}

	/// What checking exposure adds to drawing `replicas` workers: a bond and an exposure read per
	/// pick, a `select` per round.
	pub fn eligibility_weight(replicas: u32) -> frame_support::weights::Weight {
		T::DbWeight::get().reads((DRAW_ROUNDS as u64).saturating_mul(1 + 2 * replicas as u64))
	}
}

#[cfg(any(test, feature = "try-runtime"))]
impl<T: Config> Pallet<T> {
	/// Every worker's exposure equals the number of requests and open windows exposing it.
	pub(crate) fn check_exposure() -> Result<(), sp_runtime::TryRuntimeError> {
		let mut counted: alloc::collections::BTreeMap<Vec<u8>, u32> = Default::default();
		let ids = Requests::<T>::iter_keys().chain(ChallengeWindows::<T>::iter_keys());
		for id in ids {
			for w in Self::exposed(id) {
				*counted.entry(codec::Encode::encode(&w)).or_default() += 1;
			}
		}
		for (w, n) in Exposure::<T>::iter() {
			frame_support::ensure!(
				counted.remove(&codec::Encode::encode(&w)) == Some(n),
				"a worker's exposure differs from the requests exposing it"
			);
		}
		frame_support::ensure!(counted.is_empty(), "an exposure is not counted");
		Ok(())
	}
}
