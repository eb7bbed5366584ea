//! `add_validator` and `remove_validator`: effects, events and every error, each error leaving
//! storage untouched.

use frame_support::{assert_noop, assert_ok};
use sp_runtime::DispatchError;

use super::set;
use crate::{mock::*, Error, Event, SetChanged};

#[test]
fn add_appends_marks_the_set_changed_and_emits() {
	new_test_ext().execute_with(|| {
		set_keys(3);
		assert!(!SetChanged::<Test>::get());
		assert_ok!(Validators::add_validator(RuntimeOrigin::root(), 3));
		assert_eq!(set(), vec![1, 2, 3]);
		assert!(SetChanged::<Test>::get());
		System::assert_last_event(Event::ValidatorAdded { who: 3 }.into());
	});
}

#[test]
fn remove_takes_out_marks_the_set_changed_and_emits() {
	new_test_ext().execute_with(|| {
		assert_ok!(Validators::remove_validator(RuntimeOrigin::root(), 1));
		assert_eq!(set(), vec![2]);
		assert!(SetChanged::<Test>::get());
		System::assert_last_event(Event::ValidatorRemoved { who: 1 }.into());
	});
}

#[test]
fn only_the_add_remove_origin_may_change_the_set() {
	new_test_ext().execute_with(|| {
		set_keys(3);
		assert_noop!(
			Validators::add_validator(RuntimeOrigin::signed(1), 3),
			DispatchError::BadOrigin
		);
		assert_noop!(
			Validators::remove_validator(RuntimeOrigin::signed(1), 2),
			DispatchError::BadOrigin
		);
		assert_noop!(
			Validators::add_validator(RuntimeOrigin::none(), 3),
			DispatchError::BadOrigin
		);
	});
}

#[test]
fn add_refuses_an_account_without_session_keys() {
	new_test_ext().execute_with(|| {
		assert_noop!(
			Validators::add_validator(RuntimeOrigin::root(), 3),
			Error::<Test>::NoSessionKeys
		);
	});
}

#[test]
fn add_refuses_a_member() {
	new_test_ext().execute_with(|| {
		assert_noop!(
			Validators::add_validator(RuntimeOrigin::root(), 2),
			Error::<Test>::AlreadyValidator
		);
	});
}

#[test]
fn add_refuses_past_max_validators() {
	new_test_ext_with((1..=MAX_VALIDATORS as u64).collect()).execute_with(|| {
		set_keys(9);
		assert_noop!(
			Validators::add_validator(RuntimeOrigin::root(), 9),
			Error::<Test>::TooManyValidators
		);
	});
}

#[test]
fn remove_refuses_a_non_member() {
	new_test_ext().execute_with(|| {
		assert_noop!(
			Validators::remove_validator(RuntimeOrigin::root(), 7),
			Error::<Test>::NotValidator
		);
	});
}

#[test]
fn remove_refuses_to_go_below_min_validators() {
	new_test_ext_with(vec![1]).execute_with(|| {
		assert_noop!(
			Validators::remove_validator(RuntimeOrigin::root(), 1),
			Error::<Test>::TooFewValidators
		);
	});
}

#[test]
fn calls_charge_their_declared_weight() {
	use crate::WeightInfo;
	new_test_ext().execute_with(|| {
		set_keys(3);
		let call = crate::Call::<Test>::add_validator { who: 3 };
		let info = frame_support::dispatch::GetDispatchInfo::get_dispatch_info(&call);
		assert_eq!(info.call_weight, <() as WeightInfo>::add_validator());
		let call = crate::Call::<Test>::remove_validator { who: 3 };
		let info = frame_support::dispatch::GetDispatchInfo::get_dispatch_info(&call);
		assert_eq!(info.call_weight, <() as WeightInfo>::remove_validator());
	});
}
