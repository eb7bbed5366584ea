//! [`WorkerRegistry`]: how the inference pallet assigns, slashes and credits workers.

use alloc::vec::Vec;
use frame_support::{
	storage::with_storage_layer,
	traits::{
		fungible::MutateHold,
		tokens::{Fortitude, Precision, Restriction},
		Get,
	},
};
use sp_runtime::traits::{Saturating, Zero};
use verity_primitives::{crypto::WorkerPublic, WorkerRegistry};

use crate::{
	ActiveWorkers, BalanceOf, Config, Event, HoldReason, KeyOwner, Pallet, WorkerStatus, Workers,
	LOG_TARGET,
};

/// What a worker is punished for.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Offence {
	/// A fraud proof against its result succeeded.
	Fraud,
	/// It missed a deadline.
	MissedDeadline,
}

impl<T: Config> WorkerRegistry<T::AccountId, BalanceOf<T>> for Pallet<T> {
	fn is_active(who: &T::AccountId) -> bool {
		Workers::<T>::get(who).is_some_and(|w| w.status == WorkerStatus::Active)
	}

	/// Draws up to `count` distinct workers from the active set, in registration order, minus
	/// `exclude`:
	///
	/// ```text
	/// candidates = active set without `exclude` (order kept)
	/// for k = 0, 1, …  while fewer than `count` are chosen and candidates remain:
	///     r = first 8 bytes, little-endian, of blake2-256(seed ‖ k as u32 little-endian)
	///     choose and remove candidates[r mod len(candidates)]
	/// ```
	///
	/// **Pseudo-random, not random.** The caller derives `seed` from the parent block hash
	/// (see `docs/protocol.md`), which the block author can influence (by choosing what goes in
	/// its block, or by not producing one), and which a requester knows before its request is
	/// included. Assignment is therefore predictable; that is acceptable for a set whose
	/// members are all bonded and slashable and whose results are all verified (see
	/// `docs/protocol.md`). The modulo bias is below `MaxWorkers / 2^64`.
	fn select(seed: &[u8; 32], count: u32, exclude: &[T::AccountId]) -> Vec<T::AccountId> {
		let mut candidates: Vec<T::AccountId> = ActiveWorkers::<T>::get()
			.into_iter()
			.filter(|w| !exclude.contains(w))
			.collect();
		let wanted = (count as usize).min(candidates.len());
		let mut chosen = Vec::with_capacity(wanted);
		let mut preimage = [0u8; 36];
		preimage[..32].copy_from_slice(seed);
		for k in 0..wanted as u32 {
			preimage[32..].copy_from_slice(&k.to_le_bytes());
			let digest = sp_io::hashing::blake2_256(&preimage);
			let mut word = [0u8; 8];
			word.copy_from_slice(&digest[..8]);
			let len = candidates.len() as u64;
			let index = u64::from_le_bytes(word).checked_rem(len).unwrap_or(0) as usize;
			if index < candidates.len() {
				chosen.push(candidates.remove(index));
			}
		}
		chosen
	}

	/// See [`Pallet::punish`]; counts a slash and emits [`Event::Slashed`].
	fn slash(who: &T::AccountId, amount: BalanceOf<T>, beneficiary: &T::AccountId) -> BalanceOf<T> {
		Self::punish(who, amount, beneficiary, Offence::Fraud)
	}

	/// See [`Pallet::punish`]; counts a miss and emits [`Event::PenalisedMissed`].
	fn penalise_missed(
		who: &T::AccountId,
		amount: BalanceOf<T>,
		beneficiary: &T::AccountId,
	) -> BalanceOf<T> {
		Self::punish(who, amount, beneficiary, Offence::MissedDeadline)
	}

	/// Counts an accepted result (saturating; nothing happens for a non-worker). No event: the
	/// inference pallet's settlement event says the same.
	fn note_served(who: &T::AccountId) {
		Workers::<T>::mutate_extant(who, |w| w.served = w.served.saturating_add(1));
	}

	fn bond(who: &T::AccountId) -> BalanceOf<T> {
		Workers::<T>::get(who).map(|w| w.bond).unwrap_or_default()
	}

	fn worker_key(who: &T::AccountId) -> Option<WorkerPublic> {
		Workers::<T>::get(who).map(|w| w.key)
	}

	fn worker_of_key(key: &WorkerPublic) -> Option<T::AccountId> {
		KeyOwner::<T>::get(key)
	}
}

impl<T: Config> Pallet<T> {
	/// Moves `min(amount, bond)` of `who`'s bond from the hold to `beneficiary`'s free balance
	/// (`transfer_on_hold`, best effort, forced), lowers the bond by what moved, counts the
	/// offence, and suspends an active worker whose bond falls below `MinWorkerBond` (removing
	/// it from the active set). Works on active, suspended and unbonding workers alike; returns
	/// zero for a non-worker.
	///
	/// If the transfer fails (e.g. `beneficiary` does not exist and the amount is below the
	/// existential deposit) nothing moves, the offence is still counted, and the failure is
	/// logged; the caller learns it from the returned zero.
	fn punish(
		who: &T::AccountId,
		amount: BalanceOf<T>,
		beneficiary: &T::AccountId,
		offence: Offence,
	) -> BalanceOf<T> {
		let Some(mut info) = Workers::<T>::get(who) else {
			return Zero::zero();
		};
		let wanted = amount.min(info.bond);
		let moved = if wanted.is_zero() {
			Zero::zero()
		} else {
			with_storage_layer(|| {
				T::Currency::transfer_on_hold(
					&HoldReason::WorkerBond.into(),
					who,
					beneficiary,
					wanted,
					Precision::BestEffort,
					Restriction::Free,
					Fortitude::Force,
				)
			})
			.unwrap_or_else(|error| {
				log::warn!(
					target: LOG_TARGET,
					"could not move {wanted:?} of worker {who:?}'s bond to {beneficiary:?}: {error:?}",
				);
				Zero::zero()
			})
		};
		info.bond = info.bond.saturating_sub(moved);
		match offence {
			Offence::Fraud => info.slashed = info.slashed.saturating_add(1),
			Offence::MissedDeadline => info.missed = info.missed.saturating_add(1),
		}
		let suspend = info.status == WorkerStatus::Active && info.bond < T::MinWorkerBond::get();
		if suspend {
			info.status = WorkerStatus::Suspended;
			Self::leave_active_set(who);
		}
		let bond = info.bond;
		Workers::<T>::insert(who, info);
		Self::deposit_event(match offence {
			Offence::Fraud => Event::Slashed {
				who: who.clone(),
				amount: moved,
				beneficiary: beneficiary.clone(),
				bond,
			},
			Offence::MissedDeadline => Event::PenalisedMissed {
				who: who.clone(),
				amount: moved,
				beneficiary: beneficiary.clone(),
				bond,
			},
		});
		if suspend {
			Self::deposit_event(Event::Suspended {
				who: who.clone(),
				bond,
			});
		}
		moved
	}
}
