//! Genesis: the initial set is stored in order, and an invalid one is refused.

use super::set;
use crate::{mock::*, SetChanged};

#[test]
fn genesis_stores_the_set_unchanged() {
	new_test_ext_with(vec![3, 1, 2]).execute_with(|| {
		assert_eq!(set(), vec![3, 1, 2]);
		assert!(!SetChanged::<Test>::get());
	});
}

#[test]
fn an_empty_genesis_leaves_the_set_to_the_session_keys() {
	use pallet_session::SessionManager;
	new_test_ext_with(vec![]).execute_with(|| {
		assert!(set().is_empty());
		assert_eq!(Validators::new_session_genesis(0), None);
	});
}

#[test]
#[should_panic(expected = "listed twice")]
fn genesis_refuses_a_duplicate() {
	new_test_ext_with(vec![1, 2, 1]);
}

#[test]
#[should_panic(expected = "more than MaxValidators")]
fn genesis_refuses_too_many() {
	new_test_ext_with((1..=MAX_VALIDATORS as u64 + 1).collect());
}

#[test]
fn integrity_test_passes() {
	use frame_support::traits::Hooks;
	new_test_ext().execute_with(|| {
		<crate::Pallet<Test> as Hooks<u64>>::integrity_test();
	});
}
