//! # Validators pallet
//!
//! The set of accounts that author (Aura) and finalize (GRANDPA) blocks, changed on a live chain
//! by governance.
//!
//! ## Overview
//!
//! [`Validators`] is the set the next planned session will use. [`Pallet::add_validator`] and
//! [`Pallet::remove_validator`] (origin [`Config::AddRemoveOrigin`], sudo on the dev chains)
//! change it and mark it changed; the pallet is `pallet-session`'s
//! [`SessionManager`](pallet_session::SessionManager), so at the next session rotation the
//! session pallet queues the new set, and one session later Aura and GRANDPA use it.
//!
//! A validator must have set its session keys (`session.setKeys`, with the keys from
//! `author_rotateKeysWithOwner`) before it is added: the session pallet silently leaves out
//! validators without keys, so this pallet refuses them instead ([`Config::HasSessionKeys`]).
//! The set never shrinks below [`Config::MinValidators`] (a chain with no author halts) nor
//! grows past [`Config::MaxValidators`].
//!
//! Being a validator and being an inference worker are separate: a validator removed here
//! keeps its worker record and bond, under the workers pallet's rules.
#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub mod weights;

#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
#[cfg(test)]
mod mock;
#[cfg(test)]
mod tests;

pub use pallet::*;
pub use weights::WeightInfo;

/// Log target of this pallet.
pub const LOG_TARGET: &str = "verity::validators";

/// Prepares accounts for the benchmarks: a validator must have session keys.
#[cfg(feature = "runtime-benchmarks")]
pub trait BenchmarkHelper<AccountId> {
	/// Gives `who` session keys, so that it may be added.
	fn set_session_keys(who: &AccountId);
}

#[frame_support::pallet]
pub mod pallet {
	use super::*;
	use alloc::vec::Vec;
	use frame_support::{
		pallet_prelude::*,
		traits::{BuildGenesisConfig, Contains, EnsureOrigin},
	};
	use frame_system::pallet_prelude::*;
	use sp_runtime::traits::Zero;

	#[pallet::pallet]
	pub struct Pallet<T>(_);

	/// Configuration of the validators pallet.
	#[pallet::config]
	pub trait Config: frame_system::Config {
		/// Who may add and remove validators (root, or a governance body).
		type AddRemoveOrigin: EnsureOrigin<Self::RuntimeOrigin>;

		/// Whether an account has session keys queued for the next session (in the runtime:
		/// `pallet_session::NextKeys`).
		type HasSessionKeys: Contains<Self::AccountId>;

		/// Most validators. At most the consensus pallets' `MaxAuthorities`.
		#[pallet::constant]
		type MaxValidators: Get<u32>;

		/// Fewest validators; at least one, or no one would author blocks.
		#[pallet::constant]
		type MinValidators: Get<u32>;

		/// Weights of this pallet's calls.
		type WeightInfo: WeightInfo;

		/// Sets up session keys for the benchmarks.
		#[cfg(feature = "runtime-benchmarks")]
		type BenchmarkHelper: BenchmarkHelper<Self::AccountId>;
	}

	/// The validators of the next planned session, in the order they were added.
	#[pallet::storage]
	pub type Validators<T: Config> =
		StorageValue<_, BoundedVec<T::AccountId, T::MaxValidators>, ValueQuery>;

	/// Whether [`Validators`] changed since the session pallet last planned a session.
	#[pallet::storage]
	pub type SetChanged<T> = StorageValue<_, bool, ValueQuery>;

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// An account was added to the set; it validates from the session after next.
		ValidatorAdded {
			/// The new validator.
			who: T::AccountId,
		},
		/// An account was removed from the set; it stops validating from the session after
		/// next.
		ValidatorRemoved {
			/// The former validator.
			who: T::AccountId,
		},
		/// The session pallet planned a session with a changed set.
		NewSetPlanned {
			/// The session the set is for.
			session: u32,
			/// How many validators it has.
			validators: u32,
		},
	}

	#[pallet::error]
	pub enum Error<T> {
		/// The account is already in the set.
		AlreadyValidator,
		/// The account is not in the set.
		NotValidator,
		/// The set already has `MaxValidators` validators.
		TooManyValidators,
		/// Removing the account would leave fewer than `MinValidators` validators.
		TooFewValidators,
		/// The account has not set session keys (`session.setKeys`).
		NoSessionKeys,
	}

	/// The validators at genesis.
	#[pallet::genesis_config]
	#[derive(frame_support::DefaultNoBound)]
	pub struct GenesisConfig<T: Config> {
		/// The initial set: distinct accounts, between `MinValidators` and `MaxValidators` of
		/// them. Each needs session keys in the session pallet's genesis, which must come
		/// after this pallet's. Empty (the default) leaves the set to the session pallet's
		/// genesis keys, and this pallet's set empty until governance adds validators.
		pub validators: Vec<T::AccountId>,
	}

	#[pallet::genesis_build]
	impl<T: Config> BuildGenesisConfig for GenesisConfig<T> {
		fn build(&self) {
			let count = self.validators.len() as u32;
			if count == 0 {
				return;
			}
			assert!(
				count >= T::MinValidators::get(),
				"pallet-validators genesis: {count} validators, fewer than MinValidators"
			);
			for (index, who) in self.validators.iter().enumerate() {
				assert!(
					!self.validators[..index].contains(who),
					"pallet-validators genesis: validator {index} is listed twice"
				);
			}
			let set = BoundedVec::<_, T::MaxValidators>::try_from(self.validators.clone())
				.expect("pallet-validators genesis: more than MaxValidators validators");
			Validators::<T>::put(set);
		}
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		fn integrity_test() {
			assert!(
				!T::MinValidators::get().is_zero(),
				"MinValidators must be positive"
			);
			assert!(
				T::MinValidators::get() <= T::MaxValidators::get(),
				"MinValidators must not exceed MaxValidators"
			);
		}
	}

	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// Adds `who`, which must have session keys, to the set. It validates from the session
		/// after next. Emits [`Event::ValidatorAdded`].
		#[pallet::call_index(0)]
		#[pallet::weight(T::WeightInfo::add_validator())]
		pub fn add_validator(origin: OriginFor<T>, who: T::AccountId) -> DispatchResult {
			T::AddRemoveOrigin::ensure_origin(origin)?;
			Self::do_add_validator(&who)?;
			Self::deposit_event(Event::ValidatorAdded { who });
			Ok(())
		}

		/// Removes `who` from the set, unless that leaves fewer than `MinValidators`. It
		/// validates until the session after next; its worker bond is untouched. Emits
		/// [`Event::ValidatorRemoved`].
		#[pallet::call_index(1)]
		#[pallet::weight(T::WeightInfo::remove_validator())]
		pub fn remove_validator(origin: OriginFor<T>, who: T::AccountId) -> DispatchResult {
			T::AddRemoveOrigin::ensure_origin(origin)?;
			Self::do_remove_validator(&who)?;
			Self::deposit_event(Event::ValidatorRemoved { who });
			Ok(())
		}
	}

	impl<T: Config> Pallet<T> {
		/// Appends `who` to the set and marks it changed.
		pub fn do_add_validator(who: &T::AccountId) -> DispatchResult {
			ensure!(T::HasSessionKeys::contains(who), Error::<T>::NoSessionKeys);
			Validators::<T>::try_mutate(|set| {
				ensure!(!set.contains(who), Error::<T>::AlreadyValidator);
				set.try_push(who.clone())
					.map_err(|_| Error::<T>::TooManyValidators)?;
				Ok::<_, DispatchError>(())
			})?;
			SetChanged::<T>::put(true);
			Ok(())
		}

		/// Takes `who` out of the set and marks it changed.
		pub fn do_remove_validator(who: &T::AccountId) -> DispatchResult {
			Validators::<T>::try_mutate(|set| {
				let index = set
					.iter()
					.position(|v| v == who)
					.ok_or(Error::<T>::NotValidator)?;
				ensure!(
					set.len() as u32 > T::MinValidators::get(),
					Error::<T>::TooFewValidators
				);
				set.remove(index);
				Ok::<_, DispatchError>(())
			})?;
			SetChanged::<T>::put(true);
			Ok(())
		}
	}
}

impl<T: Config> pallet_session::SessionManager<T::AccountId> for Pallet<T> {
	/// The changed set, if it changed since the last planned session; otherwise the session
	/// pallet keeps the current one.
	fn new_session(new_index: u32) -> Option<alloc::vec::Vec<T::AccountId>> {
		if !SetChanged::<T>::take() {
			return None;
		}
		let set = Validators::<T>::get().into_inner();
		log::info!(
			target: LOG_TARGET,
			"session {new_index} planned with {} validators",
			set.len()
		);
		Self::deposit_event(Event::NewSetPlanned {
			session: new_index,
			validators: set.len() as u32,
		});
		Some(set)
	}

	fn new_session_genesis(_new_index: u32) -> Option<alloc::vec::Vec<T::AccountId>> {
		let set = Validators::<T>::get().into_inner();
		(!set.is_empty()).then_some(set)
	}

	fn end_session(_end_index: u32) {}

	fn start_session(_start_index: u32) {}
}
