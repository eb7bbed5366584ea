//! The owner's calls after registration: price, modes, deprecation, removal.

use super::*;
use crate::{Error, Event, ModelBytes};
use frame_support::{assert_noop, assert_ok};
use verity_primitives::{ModelRegistry, ModelStatus};

#[test]
fn owner_sets_price() {
	test(|| {
		let id = register_alice();
		assert_ok!(Models::set_price(RuntimeOrigin::signed(ALICE), id, 99));
		assert_eq!(crate::Models::<Test>::get(id).unwrap().price, 99);
		System::assert_last_event(Event::PriceSet { id, price: 99 }.into());
		// A free model is allowed.
		assert_ok!(Models::set_price(RuntimeOrigin::signed(ALICE), id, 0));
		assert_eq!(crate::Models::<Test>::get(id).unwrap().price, 0);
	});
}

#[test]
fn owner_sets_modes() {
	test(|| {
		let id = register_alice();
		let modes = ModeSet(ModeSet::OPTIMISTIC | ModeSet::QUORUM);
		assert_ok!(Models::set_modes(RuntimeOrigin::signed(ALICE), id, modes));
		assert_eq!(crate::Models::<Test>::get(id).unwrap().modes, modes);
		System::assert_last_event(Event::ModesSet { id, modes }.into());
	});
}

#[test]
fn invalid_modes_cannot_be_set() {
	test(|| {
		let id = register_alice();
		assert_noop!(
			Models::set_modes(RuntimeOrigin::signed(ALICE), id, ModeSet(0)),
			Error::<Test>::InvalidModes
		);
		assert_noop!(
			Models::set_modes(RuntimeOrigin::signed(ALICE), id, ModeSet(0x80)),
			Error::<Test>::InvalidModes
		);
	});
}

#[test]
fn only_the_owner_manages_a_model() {
	test(|| {
		let id = register_alice();
		let bob = RuntimeOrigin::signed(BOB);
		assert_noop!(
			Models::set_price(bob.clone(), id, 1),
			Error::<Test>::NotOwner
		);
		assert_noop!(
			Models::set_modes(bob.clone(), id, ModeSet::ALL),
			Error::<Test>::NotOwner
		);
		assert_noop!(Models::deprecate(bob.clone(), id), Error::<Test>::NotOwner);
		assert_ok!(Models::deprecate(RuntimeOrigin::signed(ALICE), id));
		assert_noop!(Models::remove_model(bob, id), Error::<Test>::NotOwner);
	});
}

#[test]
fn unknown_models_are_reported() {
	test(|| {
		let alice = RuntimeOrigin::signed(ALICE);
		assert_noop!(
			Models::set_price(alice.clone(), 5, 1),
			Error::<Test>::UnknownModel
		);
		assert_noop!(
			Models::set_modes(alice.clone(), 5, ModeSet::ALL),
			Error::<Test>::UnknownModel
		);
		assert_noop!(
			Models::deprecate(alice.clone(), 5),
			Error::<Test>::UnknownModel
		);
		assert_noop!(Models::remove_model(alice, 5), Error::<Test>::UnknownModel);
	});
}

#[test]
fn unsigned_origins_are_refused() {
	test(|| {
		let id = register_alice();
		let none = RuntimeOrigin::none();
		let bad = sp_runtime::DispatchError::BadOrigin;
		assert_noop!(Models::set_price(none.clone(), id, 1), bad);
		assert_noop!(Models::set_modes(none.clone(), id, ModeSet::ALL), bad);
		assert_noop!(Models::deprecate(none.clone(), id), bad);
		assert_noop!(Models::remove_model(none, id), bad);
	});
}

#[test]
fn deprecation_is_once_and_keeps_the_deposit() {
	test(|| {
		let id = register_alice();
		let deposit = held(&ALICE);
		assert_ok!(Models::deprecate(RuntimeOrigin::signed(ALICE), id));
		assert_eq!(
			crate::Models::<Test>::get(id).unwrap().status,
			ModelStatus::Deprecated
		);
		System::assert_last_event(Event::ModelDeprecated { id }.into());
		assert_eq!(held(&ALICE), deposit);
		assert_noop!(
			Models::deprecate(RuntimeOrigin::signed(ALICE), id),
			Error::<Test>::AlreadyDeprecated
		);
		// The owner can still tune a deprecated model's price (for requests made before).
		assert_ok!(Models::set_price(RuntimeOrigin::signed(ALICE), id, 3));
	});
}

#[test]
fn removal_releases_deposit_and_deletes_bytes() {
	test(|| {
		let id = register_alice();
		let deposit = held(&ALICE);
		assert!(deposit > 0);
		assert_ok!(Models::deprecate(RuntimeOrigin::signed(ALICE), id));
		assert_ok!(Models::remove_model(RuntimeOrigin::signed(ALICE), id));
		assert!(crate::Models::<Test>::get(id).is_none());
		assert!(ModelBytes::<Test>::get(id).is_none());
		assert_eq!(held(&ALICE), 0);
		assert_eq!(Balances::free_balance(ALICE), ENDOWMENT);
		System::assert_last_event(
			Event::ModelRemoved {
				id,
				owner: ALICE,
				released: deposit,
			}
			.into(),
		);
		// Gone: ids are not reused.
		assert_noop!(
			Models::remove_model(RuntimeOrigin::signed(ALICE), id),
			Error::<Test>::UnknownModel
		);
		assert_eq!(register_alice(), id + 1);
	});
}

#[test]
fn removal_releases_only_that_models_deposit() {
	test(|| {
		let first = register_alice();
		let first_deposit = held(&ALICE);
		let second = register_alice();
		let both = held(&ALICE);
		assert_ok!(Models::deprecate(RuntimeOrigin::signed(ALICE), second));
		assert_ok!(Models::remove_model(RuntimeOrigin::signed(ALICE), second));
		assert_eq!(held(&ALICE), first_deposit);
		assert_eq!(Balances::free_balance(ALICE), ENDOWMENT - first_deposit);
		assert!(both > first_deposit);
		assert!(crate::Models::<Test>::get(first).is_some());
		assert!(ModelBytes::<Test>::get(first).is_some());
	});
}

#[test]
fn active_model_cannot_be_removed() {
	test(|| {
		let id = register_alice();
		assert_noop!(
			Models::remove_model(RuntimeOrigin::signed(ALICE), id),
			Error::<Test>::NotDeprecated
		);
	});
}

#[test]
fn model_with_requests_in_flight_cannot_be_removed() {
	test(|| {
		let id = register_alice();
		assert_ok!(<Models as ModelRegistry<_, _, _>>::request_opened(id));
		assert_ok!(Models::deprecate(RuntimeOrigin::signed(ALICE), id));
		assert_noop!(
			Models::remove_model(RuntimeOrigin::signed(ALICE), id),
			Error::<Test>::RequestsInFlight
		);
		<Models as ModelRegistry<_, _, _>>::request_closed(id);
		assert_ok!(Models::remove_model(RuntimeOrigin::signed(ALICE), id));
		assert_eq!(held(&ALICE), 0);
	});
}

#[test]
fn view_functions_read_records_and_bytes() {
	test(|| {
		let id = register_alice();
		assert_eq!(Models::model(id), crate::Models::<Test>::get(id));
		assert_eq!(Models::model_bytes(id), Some(onnx()));
		assert_eq!(Models::model(id + 1), None);
		assert_ok!(Models::register_model(
			RuntimeOrigin::signed(BOB),
			alloc::boxed::Box::new(uri_registration())
		));
		assert_eq!(Models::model_bytes(id + 1), None);
	});
}
