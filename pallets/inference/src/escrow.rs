//! Escrow and challenge bonds: every movement of this pallet's held funds.
//!
//! A requester's `max_fee` is held under [`HoldReason::InferenceEscrow`] while the request is
//! unfinished; payments move held funds with `transfer_on_hold` and the rest is `release`d. A
//! challenger's bond is held under [`HoldReason::ChallengeBond`] for the duration of one
//! `challenge` call. Nothing here mints or burns.

use frame_support::{
	storage::with_storage_layer,
	traits::{
		fungible::{Mutate, MutateHold},
		tokens::{Fortitude, Precision, Preservation, Restriction},
		Get,
	},
};
use sp_runtime::{traits::Zero, DispatchError};

use crate::{BalanceOf, Config, Error, HoldReason, Pallet};

impl<T: Config> Pallet<T> {
	/// Holds `amount` of `who`'s balance as escrow.
	pub(crate) fn hold_escrow(who: &T::AccountId, amount: BalanceOf<T>) -> Result<(), Error<T>> {
		if amount.is_zero() {
			return Ok(());
		}
		T::Currency::hold(&HoldReason::InferenceEscrow.into(), who, amount)
			.map_err(|_| Error::<T>::InsufficientBalance)
	}

	/// Pays `amount` of `requester`'s escrow to `dest`'s free balance and returns what moved:
	/// `amount`, or nothing when the transfer is impossible (e.g. `dest` would stay below the
	/// existential deposit), in which case the funds stay held and are released to the requester
	/// when the request finishes. The escrow was committed to this payment, so freezes on the
	/// requester's account do not block it.
	pub(crate) fn pay_from_escrow(
		requester: &T::AccountId,
		dest: &T::AccountId,
		amount: BalanceOf<T>,
	) -> BalanceOf<T> {
		if amount.is_zero() {
			return amount;
		}
		let moved = with_storage_layer(|| {
			T::Currency::transfer_on_hold(
				&HoldReason::InferenceEscrow.into(),
				requester,
				dest,
				amount,
				Precision::Exact,
				Restriction::Free,
				Fortitude::Force,
			)
		});
		match moved {
			Ok(moved) => moved,
			Err(e) => {
				log::warn!(
					target: crate::LOG_TARGET,
					"escrow payment of {amount:?} failed ({e:?}); released to the requester instead",
				);
				Zero::zero()
			}
		}
	}

	/// Releases `amount` of `requester`'s escrow back to its free balance.
	pub(crate) fn release_escrow(requester: &T::AccountId, amount: BalanceOf<T>) -> BalanceOf<T> {
		if amount.is_zero() {
			return amount;
		}
		T::Currency::release(
			&HoldReason::InferenceEscrow.into(),
			requester,
			amount,
			Precision::BestEffort,
		)
		.unwrap_or_else(|e| {
			log::error!(target: crate::LOG_TARGET, "escrow release of {amount:?} failed: {e:?}");
			Zero::zero()
		})
	}

	/// Holds the challenge bond from `challenger`.
	pub(crate) fn hold_bond(challenger: &T::AccountId) -> Result<(), Error<T>> {
		let bond = T::ChallengeBond::get();
		if bond.is_zero() {
			return Ok(());
		}
		T::Currency::hold(&HoldReason::ChallengeBond.into(), challenger, bond)
			.map_err(|_| Error::<T>::InsufficientBond)
	}

	/// Gives the challenge bond back to `challenger`.
	pub(crate) fn release_bond(challenger: &T::AccountId) -> Result<(), DispatchError> {
		let bond = T::ChallengeBond::get();
		if !bond.is_zero() {
			T::Currency::release(
				&HoldReason::ChallengeBond.into(),
				challenger,
				bond,
				Precision::Exact,
			)?;
		}
		Ok(())
	}

	/// Forfeits the challenge bond of `challenger` to `worker`; returns the amount.
	pub(crate) fn forfeit_bond(
		challenger: &T::AccountId,
		worker: &T::AccountId,
	) -> Result<BalanceOf<T>, DispatchError> {
		let bond = T::ChallengeBond::get();
		if bond.is_zero() {
			return Ok(bond);
		}
		T::Currency::transfer_on_hold(
			&HoldReason::ChallengeBond.into(),
			challenger,
			worker,
			bond,
			Precision::Exact,
			Restriction::Free,
			Fortitude::Force,
		)
	}

	/// Moves `amount` of free balance from the protocol account to `dest` (shares of a slash
	/// that passed through it), keeping the protocol account alive. Returns what moved: nothing
	/// if the transfer is impossible, in which case the protocol keeps it.
	pub(crate) fn pay_from_protocol(dest: &T::AccountId, amount: BalanceOf<T>) -> BalanceOf<T> {
		if amount.is_zero() {
			return amount;
		}
		let protocol = T::ProtocolAccount::get();
		if *dest == protocol {
			return amount;
		}
		with_storage_layer(|| {
			<T::Currency as Mutate<T::AccountId>>::transfer(
				&protocol,
				dest,
				amount,
				Preservation::Preserve,
			)
		})
		.unwrap_or_else(|e| {
			log::warn!(
				target: crate::LOG_TARGET,
				"slash share of {amount:?} could not leave the protocol account: {e:?}",
			);
			Zero::zero()
		})
	}
}
