//! The validator set with the real pallets at production constants: genesis authorities come
//! from the session pallet, governance alone changes the set, a validator needs session keys,
//! the set never empties, and a validator removed from the set keeps its worker bond.

mod common;
use common::*;
use sp_runtime::DispatchError;
use verity_runtime::{configs::SessionPeriod, opaque::SessionKeys, Session};

fn sudo(
	call: pallet_validators::Call<Runtime>,
) -> frame_support::dispatch::DispatchResultWithPostInfo {
	RuntimeCall::Validators(call).dispatch_bypass_filter(RawOrigin::Root.into())
}

#[test]
fn genesis_validators_are_the_session_and_aura_authorities() {
	dev_ext().execute_with(|| {
		let alice = account(Sr25519Keyring::Alice);
		assert_eq!(
			pallet_validators::Validators::<Runtime>::get().into_inner(),
			vec![alice.clone()]
		);
		assert_eq!(
			pallet_session::Validators::<Runtime>::get(),
			vec![alice.clone()]
		);
		let aura: Vec<_> = pallet_aura::Authorities::<Runtime>::get().into_inner();
		assert_eq!(aura.len(), 1);
		assert_eq!(aura[0].encode(), Sr25519Keyring::Alice.public().encode());
		assert!(pallet_session::NextKeys::<Runtime>::contains_key(&alice));
	});
}

#[test]
fn only_root_changes_the_set_and_only_for_accounts_with_keys() {
	dev_ext().execute_with(|| {
		let bob = account(Sr25519Keyring::Bob);
		let alice = account(Sr25519Keyring::Alice);
		let signed =
			RuntimeCall::Validators(pallet_validators::Call::add_validator { who: bob.clone() })
				.dispatch_bypass_filter(RawOrigin::Signed(alice.clone()).into());
		assert_eq!(signed.map_err(|e| e.error), Err(DispatchError::BadOrigin));
		assert_eq!(
			sudo(pallet_validators::Call::add_validator { who: bob.clone() }).map_err(|e| e.error),
			Err(pallet_validators::Error::<Runtime>::NoSessionKeys.into())
		);
		assert_eq!(
			sudo(pallet_validators::Call::remove_validator { who: alice.clone() })
				.map_err(|e| e.error),
			Err(pallet_validators::Error::<Runtime>::TooFewValidators.into())
		);
		assert_eq!(pallet_validators::Validators::<Runtime>::get().len(), 1);
	});
}

#[test]
fn a_validator_removed_from_the_set_keeps_its_worker_bond() {
	dev_ext().execute_with(|| {
		let alice = account(Sr25519Keyring::Alice);
		let bob = account(Sr25519Keyring::Bob);
		// Bob's session keys, stored as `set_keys` stores them (its proof is checked by the
		// node test that joins a validator for real).
		let keys = SessionKeys {
			aura: Sr25519Keyring::Bob.public().into(),
			grandpa: sp_keyring::Ed25519Keyring::Bob.public().into(),
			verity: WorkerPublic::from(Sr25519Keyring::Bob.public()),
		};
		pallet_session::NextKeys::<Runtime>::insert(&bob, keys);
		assert_ok!(sudo(pallet_validators::Call::add_validator {
			who: bob.clone()
		}));
		// Planned at the next session boundary, in use from the one after.
		let period = SessionPeriod::get();
		for n in 2..=2 * period {
			System::set_block_number(n);
			<Session as Hooks<BlockNumber>>::on_initialize(n);
		}
		assert_eq!(
			pallet_session::Validators::<Runtime>::get(),
			vec![alice.clone(), bob.clone()]
		);
		assert_eq!(pallet_aura::Authorities::<Runtime>::get().len(), 2);
		let held = Balances::balance_on_hold(
			&RuntimeHoldReason::Workers(pallet_workers::HoldReason::WorkerBond),
			&alice,
		);
		assert_ok!(sudo(pallet_validators::Call::remove_validator {
			who: alice.clone()
		}));
		assert_eq!(
			pallet_validators::Validators::<Runtime>::get().into_inner(),
			vec![bob.clone()]
		);
		assert_eq!(
			Balances::balance_on_hold(
				&RuntimeHoldReason::Workers(pallet_workers::HoldReason::WorkerBond),
				&alice,
			),
			held
		);
		assert!(pallet_workers::ActiveWorkers::<Runtime>::get().contains(&alice));
		for n in 2 * period + 1..=4 * period {
			System::set_block_number(n);
			<Session as Hooks<BlockNumber>>::on_initialize(n);
		}
		assert_eq!(pallet_session::Validators::<Runtime>::get(), vec![bob]);
		assert!(pallet_workers::ActiveWorkers::<Runtime>::get().contains(&alice));
	});
}
