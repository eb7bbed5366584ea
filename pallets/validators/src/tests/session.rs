//! The session manager: a changed set is handed to the next planned session once; an unchanged
//! one is not (the session pallet then keeps the current set).

use pallet_session::SessionManager;

use crate::{mock::*, Event, SetChanged};

#[test]
fn an_unchanged_set_plans_nothing() {
	new_test_ext().execute_with(|| {
		assert_eq!(Validators::new_session(1), None);
		assert_eq!(Validators::new_session(2), None);
	});
}

#[test]
fn a_changed_set_is_planned_once() {
	new_test_ext().execute_with(|| {
		set_keys(3);
		Validators::do_add_validator(&3).unwrap();
		Validators::do_remove_validator(&1).unwrap();
		assert_eq!(Validators::new_session(5), Some(vec![2, 3]));
		assert!(!SetChanged::<Test>::get());
		System::assert_last_event(
			Event::NewSetPlanned {
				session: 5,
				validators: 2,
			}
			.into(),
		);
		assert_eq!(Validators::new_session(6), None);
	});
}

#[test]
fn genesis_sessions_use_the_genesis_set() {
	new_test_ext().execute_with(|| {
		assert_eq!(Validators::new_session_genesis(0), Some(vec![1, 2]));
		assert_eq!(Validators::new_session_genesis(1), Some(vec![1, 2]));
		Validators::start_session(1);
		Validators::end_session(0);
	});
}
