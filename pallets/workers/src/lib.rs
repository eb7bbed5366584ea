//! # Workers pallet
//!
//! The set of bonded accounts that serve Verity's inference requests.
//!
//! ## Overview
//!
//! An account becomes a worker with [`Pallet::register_worker`]: it names the key its off-chain
//! worker signs with ([`WorkerPublic`], key type `vrty`) and bonds at least
//! [`Config::MinWorkerBond`], which is held under [`HoldReason::WorkerBond`]. Workers join the
//! bounded *active set* ([`ActiveWorkers`], at most [`Config::MaxWorkers`]) in registration
//! order; only active workers are assigned new requests.
//!
//! * [`Pallet::bond_extra`] adds to the bond; [`Pallet::rotate_key`] changes the key.
//! * [`Pallet::unbond`] leaves the active set at once, but the bond stays held and slashable
//!   for [`Config::UnbondingDelay`] blocks (longer than a request's lifetime plus the challenge
//!   period, so that every result the worker gave can still be proven wrong); then
//!   [`Pallet::withdraw_unbonded`] releases it and deletes the record and the key.
//! * A worker whose bond a slash leaves below `MinWorkerBond` is *suspended*: it leaves the
//!   active set, and may [`Pallet::bond_extra`] and [`Pallet::rejoin`] (which also cancels an
//!   unbonding).
//!
//! Other pallets reach workers through [`verity_primitives::WorkerRegistry`], implemented in
//! `impl_worker_registry.rs`: assignment ([`Pallet::select`], deterministic pseudo-random),
//! slashing for proven fraud and for missed deadlines (funds move from the hold to a
//! beneficiary; nothing is burned), and counting served requests.
#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

mod impl_worker_registry;
pub mod types;
pub mod weights;

#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
#[cfg(test)]
mod mock;
#[cfg(test)]
mod tests;

pub use pallet::*;
pub use types::*;
pub use verity_primitives::crypto::WorkerPublic;
pub use weights::WeightInfo;

/// Log target of this pallet.
pub const LOG_TARGET: &str = "verity::workers";

#[frame_support::pallet]
pub mod pallet {
	use super::*;
	use alloc::vec::Vec;
	use frame_support::{
		pallet_prelude::*,
		traits::{
			fungible::{self, MutateHold},
			tokens::Precision,
			BuildGenesisConfig,
		},
	};
	use frame_system::pallet_prelude::*;
	use sp_runtime::traits::{Saturating, Zero};

	#[pallet::pallet]
	pub struct Pallet<T>(_);

	/// Configuration of the workers pallet.
	#[pallet::config]
	pub trait Config: frame_system::Config {
		/// The currency bonds are held in.
		type Currency: fungible::Inspect<Self::AccountId>
			+ fungible::Mutate<Self::AccountId>
			+ fungible::MutateHold<Self::AccountId, Reason = Self::RuntimeHoldReason>;

		/// The overarching hold reason, which must include this pallet's [`HoldReason`].
		type RuntimeHoldReason: From<HoldReason>;

		/// Least bond of an active worker. A worker slashed below it leaves the active set.
		#[pallet::constant]
		type MinWorkerBond: Get<BalanceOf<Self>>;

		/// Most workers in the active set. At least `MAX_REPLICAS`, so that the largest quorum
		/// can be assigned when the set is full.
		#[pallet::constant]
		type MaxWorkers: Get<u32>;

		/// Blocks an unbonding worker's bond stays held and slashable. Must exceed a request's
		/// lifetime plus the challenge period (the runtime checks this across pallets).
		#[pallet::constant]
		type UnbondingDelay: Get<BlockNumberFor<Self>>;

		/// Weights of this pallet's calls and of the `WorkerRegistry` functions.
		type WeightInfo: WeightInfo;
	}

	/// Why this pallet holds funds.
	#[pallet::composite_enum]
	pub enum HoldReason {
		/// A worker's bond, slashable for proven fraud and missed deadlines.
		#[codec(index = 0)]
		WorkerBond,
	}

	/// Registered workers (active, suspended or unbonding).
	#[pallet::storage]
	pub type Workers<T: Config> = StorageMap<_, Blake2_128Concat, T::AccountId, WorkerInfoOf<T>>;

	/// The workers that may be assigned new requests, in registration (or rejoining) order.
	/// Exactly the workers whose status is `Active`.
	#[pallet::storage]
	pub type ActiveWorkers<T: Config> =
		StorageValue<_, BoundedVec<T::AccountId, T::MaxWorkers>, ValueQuery>;

	/// The worker each registered key belongs to.
	#[pallet::storage]
	pub type KeyOwner<T: Config> = StorageMap<_, Blake2_128Concat, WorkerPublic, T::AccountId>;

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// A worker registered, bonded and joined the active set.
		WorkerRegistered {
			/// The worker.
			who: T::AccountId,
			/// Its signing key.
			key: WorkerPublic,
			/// Its bond.
			bond: BalanceOf<T>,
		},
		/// A worker added to its bond.
		BondIncreased {
			/// The worker.
			who: T::AccountId,
			/// What was added.
			amount: BalanceOf<T>,
			/// The bond now.
			bond: BalanceOf<T>,
		},
		/// A worker changed its signing key.
		KeyRotated {
			/// The worker.
			who: T::AccountId,
			/// The key it had.
			old: WorkerPublic,
			/// The key it has.
			new: WorkerPublic,
		},
		/// A worker left the active set; its bond can be withdrawn from block `until`.
		Unbonding {
			/// The worker.
			who: T::AccountId,
			/// First block of `withdraw_unbonded`.
			until: BlockNumberFor<T>,
		},
		/// An unbonded worker's bond was released and its record and key deleted.
		Withdrawn {
			/// The former worker.
			who: T::AccountId,
			/// What was released.
			amount: BalanceOf<T>,
		},
		/// A suspended or unbonding worker returned to the active set.
		Rejoined {
			/// The worker.
			who: T::AccountId,
		},
		/// A worker was slashed for a proven fraud.
		Slashed {
			/// The worker.
			who: T::AccountId,
			/// What moved from its bond.
			amount: BalanceOf<T>,
			/// Who received it.
			beneficiary: T::AccountId,
			/// The bond left.
			bond: BalanceOf<T>,
		},
		/// A worker was penalised for a missed deadline.
		PenalisedMissed {
			/// The worker.
			who: T::AccountId,
			/// What moved from its bond.
			amount: BalanceOf<T>,
			/// Who received it.
			beneficiary: T::AccountId,
			/// The bond left.
			bond: BalanceOf<T>,
		},
		/// A slash left an active worker's bond below `MinWorkerBond`: it left the active set.
		Suspended {
			/// The worker.
			who: T::AccountId,
			/// The bond left.
			bond: BalanceOf<T>,
		},
	}

	#[pallet::error]
	pub enum Error<T> {
		/// The account is already a worker.
		AlreadyRegistered,
		/// The account is not a worker.
		NotRegistered,
		/// The bond is below `MinWorkerBond`.
		BondTooLow,
		/// The active set already has `MaxWorkers` workers.
		TooManyWorkers,
		/// The key is already registered (to this or another worker).
		KeyInUse,
		/// The account cannot hold that much.
		InsufficientFunds,
		/// The amount is zero.
		ZeroAmount,
		/// The worker is already unbonding.
		AlreadyUnbonding,
		/// The worker is not unbonding.
		NotUnbonding,
		/// The unbonding delay has not passed yet.
		UnbondingNotFinished,
		/// The worker is already in the active set.
		AlreadyActive,
	}

	/// Workers registered at genesis.
	#[pallet::genesis_config]
	#[derive(frame_support::DefaultNoBound)]
	pub struct GenesisConfig<T: Config> {
		/// `(account, key, bond)` triples, registered in order with every check of
		/// `register_worker`. Each account must be endowed by an earlier pallet's genesis (the
		/// balances pallet) with at least the bond, which is held.
		pub workers: Vec<(T::AccountId, WorkerPublic, BalanceOf<T>)>,
	}

	#[pallet::genesis_build]
	impl<T: Config> BuildGenesisConfig for GenesisConfig<T> {
		fn build(&self) {
			for (index, (who, key, bond)) in self.workers.iter().enumerate() {
				if let Err(error) = Pallet::<T>::do_register_worker(who, key.clone(), *bond) {
					panic!("pallet-workers genesis: worker {index} is invalid: {error:?}");
				}
			}
		}
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		fn integrity_test() {
			assert!(
				!T::MinWorkerBond::get().is_zero(),
				"MinWorkerBond must be positive"
			);
			assert!(
				T::MaxWorkers::get() >= verity_primitives::MAX_REPLICAS,
				"MaxWorkers must allow the largest quorum (MAX_REPLICAS)"
			);
			assert!(
				!T::UnbondingDelay::get().is_zero(),
				"UnbondingDelay must be positive"
			);
		}
	}

	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// Registers the caller as a worker signing with `key`, holds `bond` (at least
		/// `MinWorkerBond`) and appends it to the active set. Emits
		/// [`Event::WorkerRegistered`].
		#[pallet::call_index(0)]
		#[pallet::weight(T::WeightInfo::register_worker(T::MaxWorkers::get()))]
		pub fn register_worker(
			origin: OriginFor<T>,
			key: WorkerPublic,
			bond: BalanceOf<T>,
		) -> DispatchResultWithPostInfo {
			let who = ensure_signed(origin)?;
			let active = Self::do_register_worker(&who, key.clone(), bond)?;
			Self::deposit_event(Event::WorkerRegistered { who, key, bond });
			Ok(Some(T::WeightInfo::register_worker(active)).into())
		}

		/// Adds `amount` to the caller's bond (held at once). Does not rejoin a suspended
		/// worker: call `rejoin` for that. Emits [`Event::BondIncreased`].
		#[pallet::call_index(1)]
		#[pallet::weight(T::WeightInfo::bond_extra())]
		pub fn bond_extra(origin: OriginFor<T>, amount: BalanceOf<T>) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let bond = Self::do_bond_extra(&who, amount)?;
			Self::deposit_event(Event::BondIncreased { who, amount, bond });
			Ok(())
		}

		/// Replaces the caller's signing key with `new_key`, which no worker may already use.
		/// Emits [`Event::KeyRotated`].
		#[pallet::call_index(2)]
		#[pallet::weight(T::WeightInfo::rotate_key())]
		pub fn rotate_key(origin: OriginFor<T>, new_key: WorkerPublic) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let old = Self::do_rotate_key(&who, new_key.clone())?;
			Self::deposit_event(Event::KeyRotated {
				who,
				old,
				new: new_key,
			});
			Ok(())
		}

		/// Leaves the active set at once (no new assignments). The bond stays held and
		/// slashable for `UnbondingDelay` blocks. Emits [`Event::Unbonding`].
		#[pallet::call_index(3)]
		#[pallet::weight(T::WeightInfo::unbond(T::MaxWorkers::get()))]
		pub fn unbond(origin: OriginFor<T>) -> DispatchResultWithPostInfo {
			let who = ensure_signed(origin)?;
			let (until, scanned) = Self::do_unbond(&who)?;
			Self::deposit_event(Event::Unbonding { who, until });
			Ok(Some(T::WeightInfo::unbond(scanned)).into())
		}

		/// Once the unbonding delay has passed, releases the caller's bond and deletes its
		/// record and key. Emits [`Event::Withdrawn`].
		#[pallet::call_index(4)]
		#[pallet::weight(T::WeightInfo::withdraw_unbonded())]
		pub fn withdraw_unbonded(origin: OriginFor<T>) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let amount = Self::do_withdraw_unbonded(&who)?;
			Self::deposit_event(Event::Withdrawn { who, amount });
			Ok(())
		}

		/// Returns a suspended or unbonding worker whose bond is at least `MinWorkerBond` to
		/// the end of the active set (cancelling an unbonding). Emits [`Event::Rejoined`].
		#[pallet::call_index(5)]
		#[pallet::weight(T::WeightInfo::rejoin(T::MaxWorkers::get()))]
		pub fn rejoin(origin: OriginFor<T>) -> DispatchResultWithPostInfo {
			let who = ensure_signed(origin)?;
			let active = Self::do_rejoin(&who)?;
			Self::deposit_event(Event::Rejoined { who });
			Ok(Some(T::WeightInfo::rejoin(active)).into())
		}
	}

	#[pallet::view_functions]
	impl<T: Config> Pallet<T> {
		/// The record of worker `who`, if registered.
		pub fn worker(who: T::AccountId) -> Option<WorkerInfoOf<T>> {
			Workers::<T>::get(who)
		}

		/// The active set, in assignment order.
		pub fn active_workers() -> Vec<T::AccountId> {
			ActiveWorkers::<T>::get().into_inner()
		}

		/// The worker that registered `key`, if any.
		pub fn worker_of_key(key: WorkerPublic) -> Option<T::AccountId> {
			KeyOwner::<T>::get(key)
		}
	}

	impl<T: Config> Pallet<T> {
		/// Registers `who` with `key` and `bond` and appends it to the active set. Returns the
		/// size of the active set before the worker joined. Changes nothing on error.
		pub fn do_register_worker(
			who: &T::AccountId,
			key: WorkerPublic,
			bond: BalanceOf<T>,
		) -> Result<u32, DispatchError> {
			ensure!(
				!Workers::<T>::contains_key(who),
				Error::<T>::AlreadyRegistered
			);
			ensure!(bond >= T::MinWorkerBond::get(), Error::<T>::BondTooLow);
			ensure!(!KeyOwner::<T>::contains_key(&key), Error::<T>::KeyInUse);
			let mut active = ActiveWorkers::<T>::get();
			let before = active.len() as u32;
			active
				.try_push(who.clone())
				.map_err(|_| Error::<T>::TooManyWorkers)?;
			T::Currency::hold(&HoldReason::WorkerBond.into(), who, bond)
				.map_err(|_| Error::<T>::InsufficientFunds)?;
			ActiveWorkers::<T>::put(active);
			KeyOwner::<T>::insert(&key, who);
			Workers::<T>::insert(
				who,
				WorkerInfo {
					key,
					bond,
					status: WorkerStatus::Active,
					served: 0,
					slashed: 0,
					missed: 0,
					registered_at: frame_system::Pallet::<T>::block_number(),
				},
			);
			Ok(before)
		}

		/// Holds `amount` more from `who` and adds it to the bond. Returns the new bond.
		pub fn do_bond_extra(
			who: &T::AccountId,
			amount: BalanceOf<T>,
		) -> Result<BalanceOf<T>, DispatchError> {
			ensure!(!amount.is_zero(), Error::<T>::ZeroAmount);
			Workers::<T>::try_mutate(who, |maybe| {
				let info = maybe.as_mut().ok_or(Error::<T>::NotRegistered)?;
				T::Currency::hold(&HoldReason::WorkerBond.into(), who, amount)
					.map_err(|_| Error::<T>::InsufficientFunds)?;
				// Cannot saturate: the bond mirrors a hold, which is at most the total issuance.
				info.bond = info.bond.saturating_add(amount);
				Ok(info.bond)
			})
		}

		/// Replaces `who`'s key with `new_key`. Returns the old key.
		pub fn do_rotate_key(
			who: &T::AccountId,
			new_key: WorkerPublic,
		) -> Result<WorkerPublic, DispatchError> {
			ensure!(!KeyOwner::<T>::contains_key(&new_key), Error::<T>::KeyInUse);
			Workers::<T>::try_mutate(who, |maybe| {
				let info = maybe.as_mut().ok_or(Error::<T>::NotRegistered)?;
				let old = core::mem::replace(&mut info.key, new_key.clone());
				KeyOwner::<T>::remove(&old);
				KeyOwner::<T>::insert(&new_key, who);
				Ok(old)
			})
		}

		/// Moves `who` out of the active set into unbonding. Returns the block from which the
		/// bond can be withdrawn and the size of the active set scanned.
		pub fn do_unbond(who: &T::AccountId) -> Result<(BlockNumberFor<T>, u32), DispatchError> {
			Workers::<T>::try_mutate(who, |maybe| {
				let info = maybe.as_mut().ok_or(Error::<T>::NotRegistered)?;
				ensure!(
					!matches!(info.status, WorkerStatus::Unbonding { .. }),
					Error::<T>::AlreadyUnbonding
				);
				let scanned = if info.status == WorkerStatus::Active {
					Self::leave_active_set(who)
				} else {
					0
				};
				let until = frame_system::Pallet::<T>::block_number()
					.saturating_add(T::UnbondingDelay::get());
				info.status = WorkerStatus::Unbonding { until };
				Ok((until, scanned))
			})
		}

		/// Releases an unbonded worker's bond and deletes its record and key. Returns what was
		/// released.
		pub fn do_withdraw_unbonded(who: &T::AccountId) -> Result<BalanceOf<T>, DispatchError> {
			let info = Workers::<T>::get(who).ok_or(Error::<T>::NotRegistered)?;
			let WorkerStatus::Unbonding { until } = info.status else {
				return Err(Error::<T>::NotUnbonding.into());
			};
			ensure!(
				frame_system::Pallet::<T>::block_number() >= until,
				Error::<T>::UnbondingNotFinished
			);
			let released = T::Currency::release_all(
				&HoldReason::WorkerBond.into(),
				who,
				Precision::BestEffort,
			)?;
			KeyOwner::<T>::remove(&info.key);
			Workers::<T>::remove(who);
			Ok(released)
		}

		/// Appends a suspended or unbonding `who` to the active set. Returns the size of the
		/// active set before it joined.
		pub fn do_rejoin(who: &T::AccountId) -> Result<u32, DispatchError> {
			Workers::<T>::try_mutate(who, |maybe| {
				let info = maybe.as_mut().ok_or(Error::<T>::NotRegistered)?;
				ensure!(
					info.status != WorkerStatus::Active,
					Error::<T>::AlreadyActive
				);
				ensure!(info.bond >= T::MinWorkerBond::get(), Error::<T>::BondTooLow);
				let before = ActiveWorkers::<T>::try_mutate(|active| {
					let before = active.len() as u32;
					active.try_push(who.clone()).map(|_| before)
				})
				.map_err(|_| Error::<T>::TooManyWorkers)?;
				info.status = WorkerStatus::Active;
				Ok(before)
			})
		}

		/// Removes `who` from the active set (a no-op if absent). Returns the set's size before.
		pub(crate) fn leave_active_set(who: &T::AccountId) -> u32 {
			ActiveWorkers::<T>::mutate(|active| {
				let before = active.len() as u32;
				active.retain(|w| w != who);
				before
			})
		}
	}
}

/// The workers' key type is a session key: `author_rotateKeys` generates it and `--dev` /
/// `--alice` insert the dev account's key, like Aura's and GRANDPA's.
impl<T: Config> sp_runtime::BoundToRuntimeAppPublic for Pallet<T> {
	type Public = WorkerPublic;
}

/// The `vrty` key is one of a validator's session keys, so that `author_rotateKeys` generates it
/// with the others. The session does not authorize workers: the key a worker registered here
/// does. So the session's changes are not acted on.
impl<T: Config> frame_support::traits::OneSessionHandler<T::AccountId> for Pallet<T> {
	type Key = WorkerPublic;

	fn on_genesis_session<'a, I: 'a>(_validators: I)
	where
		I: Iterator<Item = (&'a T::AccountId, WorkerPublic)>,
	{
	}

	fn on_new_session<'a, I: 'a>(_changed: bool, _validators: I, _queued: I)
	where
		I: Iterator<Item = (&'a T::AccountId, WorkerPublic)>,
	{
	}

	fn on_disabled(_validator_index: u32) {}
}
