//! The `ModelRegistry` seam the inference pallet uses.

use super::*;
use crate::Error;
use frame_support::{assert_noop, assert_ok};
use verity_primitives::ModelRegistry;

type Registry = <Test as frame_system::Config>::AccountId;

fn opened(id: u32) -> sp_runtime::DispatchResult {
	<Models as ModelRegistry<Registry, Balance, u64>>::request_opened(id)
}

fn closed(id: u32) {
	<Models as ModelRegistry<Registry, Balance, u64>>::request_closed(id)
}

fn in_flight(id: u32) -> u32 {
	crate::Models::<Test>::get(id).unwrap().in_flight
}

#[test]
fn model_reads_the_record() {
	test(|| {
		assert_eq!(
			<Models as ModelRegistry<Registry, Balance, u64>>::model(0),
			None
		);
		let id = register_alice();
		assert_eq!(
			<Models as ModelRegistry<Registry, Balance, u64>>::model(id),
			crate::Models::<Test>::get(id)
		);
	});
}

#[test]
fn requests_are_counted_in_and_out() {
	test(|| {
		let id = register_alice();
		assert_ok!(opened(id));
		assert_ok!(opened(id));
		assert_eq!(in_flight(id), 2);
		closed(id);
		assert_eq!(in_flight(id), 1);
		closed(id);
		closed(id);
		assert_eq!(in_flight(id), 0, "closing saturates at zero");
		// Closing an unknown model is a no-op.
		closed(id + 1);
		assert!(crate::Models::<Test>::get(id + 1).is_none());
	});
}

#[test]
fn unknown_model_cannot_be_requested() {
	test(|| {
		assert_noop!(opened(0), Error::<Test>::UnknownModel);
	});
}

#[test]
fn deprecated_model_takes_no_new_requests_but_finishes_old_ones() {
	test(|| {
		let id = register_alice();
		assert_ok!(opened(id));
		assert_ok!(Models::deprecate(RuntimeOrigin::signed(ALICE), id));
		assert_noop!(opened(id), Error::<Test>::ModelDeprecated);
		assert_eq!(in_flight(id), 1);
		closed(id);
		assert_eq!(in_flight(id), 0);
	});
}

#[test]
fn in_flight_count_does_not_overflow() {
	test(|| {
		let id = register_alice();
		crate::Models::<Test>::mutate(id, |m| m.as_mut().unwrap().in_flight = u32::MAX);
		assert_noop!(opened(id), Error::<Test>::TooManyRequestsInFlight);
		assert_eq!(in_flight(id), u32::MAX);
	});
}

#[test]
fn fits_fraud_proofs_checks_the_current_limits() {
	test(|| {
		let id = register_alice();
		let mut info = crate::Models::<Test>::get(id).unwrap();
		let fits = |info: &crate::ModelInfoOf<Test>| {
			<Models as ModelRegistry<Registry, Balance, u64>>::fits_fraud_proofs(info)
		};
		assert!(fits(&info));
		info.max_node_cost = MAX_NODE_COST + 1;
		assert!(!fits(&info));
		info.max_node_cost = MAX_NODE_COST;
		info.max_node_footprint = MAX_NODE_FOOTPRINT + 1;
		assert!(!fits(&info));
	});
}
