//! Deadlines: silent workers are penalised and replaced while the lifetime allows, requests
//! are refunded in full after that, and the queue skips entries that are no longer due.

use super::*;
use crate::{Deadlines, Error, Event, Receipts, WeightInfo};
use frame_support::{assert_noop, weights::Weight};
use verity_primitives::{Outcome, RequestStatus, VerificationMode};

#[test]
fn a_result_in_the_last_block_of_the_phase_counts() {
	new_test_ext().execute_with(|| {
		let id = request(ALICE, VerificationMode::Optimistic, 1);
		let worker = assigned(id)[0];
		run_to_block(1 + RESULT_TIMEOUT);
		submit(id, worker, &honest(1));
		run_to_block(2 + RESULT_TIMEOUT);
		assert!(matches!(status(id), RequestStatus::Challengeable { .. }));
		assert_eq!(registry::Misses::<Test>::get(worker), 0);
	});
}

#[test]
fn a_silent_worker_is_penalised_and_replaced() {
	new_test_ext().execute_with(|| {
		let issuance = Balances::total_issuance();
		let id = request(ALICE, VerificationMode::Attested, 1);
		let silent = assigned(id)[0];
		let alice = free(ALICE);
		run_to_block(2 + RESULT_TIMEOUT);
		let events = inference_events();
		assert!(events.contains(&Event::DeadlineMissed {
			id,
			worker: silent,
			penalty: MISS_PENALTY
		}));
		let next = assigned(id)[0];
		assert_ne!(next, silent);
		let deadline = 2 + 2 * RESULT_TIMEOUT;
		assert!(events.contains(&Event::Reassigned {
			id,
			workers: vec![next].try_into().unwrap(),
			deadline
		}));
		assert_eq!(status(id), RequestStatus::Assigned { deadline });
		assert_eq!(free(ALICE), alice + MISS_PENALTY);
		assert_eq!(Registry::bond(silent), BOND - MISS_PENALTY);
		assert_eq!(registry::Misses::<Test>::get(silent), 1);
		// A late result is refused precisely.
		let run = honest(1);
		assert_noop!(
			Inference::submit_result(
				RuntimeOrigin::signed(silent),
				id,
				run.output(),
				run.trace(),
				None
			),
			Error::<Test>::Excluded
		);
		submit(id, next, &run);
		assert_eq!(
			Receipts::<Test>::get(id).unwrap().workers.to_vec(),
			vec![next]
		);
		assert_invariants(issuance);
	});
}

#[test]
fn after_its_lifetime_a_request_is_refunded_in_full() {
	new_test_ext().execute_with(|| {
		let issuance = Balances::total_issuance();
		let id = request_with_fee(ALICE, VerificationMode::Optimistic, 1, 90);
		let alice = free(ALICE);
		let mut silent = vec![];
		// Phases end at blocks 4, 8 and 12 (each processed one block later); a new phase must
		// end by block 13 = 1 + lifetime, so the third miss refunds.
		for block in [5, 9] {
			silent.push(assigned(id)[0]);
			run_to_block(block);
			assert!(Requests::<Test>::get(id).is_some(), "reassigned at {block}");
		}
		silent.push(assigned(id)[0]);
		run_to_block(13);
		let receipt = Receipts::<Test>::get(id).unwrap();
		assert_eq!(receipt.outcome, Outcome::Refunded);
		assert_eq!(receipt.workers.len(), 0);
		assert_eq!(free(ALICE), alice + 90 + 3 * MISS_PENALTY);
		for w in &silent {
			assert_eq!(Registry::bond(*w), BOND - MISS_PENALTY);
		}
		assert_eq!(
			last_event(),
			Event::Refunded {
				id,
				requester: ALICE,
				amount: 90
			}
		);
		assert_invariants(issuance);
	});
}

#[test]
fn without_replacements_a_request_is_refunded() {
	new_test_ext().execute_with(|| {
		let id = request(ALICE, VerificationMode::Attested, 1);
		let silent = assigned(id)[0];
		for w in WORKERS.iter().filter(|w| **w != silent) {
			Registry::deactivate(*w);
		}
		run_to_block(2 + RESULT_TIMEOUT);
		assert_eq!(
			Receipts::<Test>::get(id).unwrap().outcome,
			Outcome::Refunded
		);
	});
}

#[test]
fn a_full_exclusion_list_stops_reassignment() {
	new_test_ext().execute_with(|| {
		let id = request(ALICE, VerificationMode::Optimistic, 1);
		Requests::<Test>::mutate(id, |r| {
			r.as_mut().unwrap().missed = (200..208u64).collect::<Vec<_>>().try_into().unwrap()
		});
		run_to_block(2 + RESULT_TIMEOUT);
		assert_eq!(
			Receipts::<Test>::get(id).unwrap().outcome,
			Outcome::Refunded
		);
	});
}

#[test]
fn stale_queue_entries_are_skipped() {
	new_test_ext().execute_with(|| {
		let issuance = Balances::total_issuance();
		let id = request(ALICE, VerificationMode::Quorum(2), 1);
		let [a, b] = assigned(id)[..] else { panic!() };
		let run = honest(1);
		run_to_block(2);
		commit(id, a, &run);
		commit(id, b, &run);
		// The commit phase's entry (block 5) stays queued; the reveal phase ends at block 5 and
		// is queued at block 6.
		assert!(Deadlines::<Test>::get(5).contains(&id));
		assert!(Deadlines::<Test>::get(6).contains(&id));
		run_to_block(5);
		assert!(matches!(status(id), RequestStatus::Revealing { .. }));
		assert_eq!(registry::Misses::<Test>::get(a), 0);
		reveal(id, a, &run);
		reveal(id, b, &run);
		run_to_block(7);
		assert_eq!(Receipts::<Test>::get(id).unwrap().outcome, Outcome::Settled);
		assert_invariants(issuance);
	});
}

#[test]
fn a_full_block_pushes_deadlines_to_the_next() {
	new_test_ext().execute_with(|| {
		let issuance = Balances::total_issuance();
		let ids: Vec<RequestId> = (0..9)
			.map(|i| request(ALICE, VerificationMode::Optimistic, i))
			.collect();
		assert_eq!(Deadlines::<Test>::get(5).len(), 8);
		assert_eq!(status(ids[8]), RequestStatus::Assigned { deadline: 5 });
		assert_eq!(Deadlines::<Test>::get(6).to_vec(), vec![ids[8]]);
		run_to_block(5);
		for id in &ids[..8] {
			assert!(Requests::<Test>::get(id).unwrap().missed.len() == 1);
		}
		assert!(Requests::<Test>::get(ids[8]).unwrap().missed.is_empty());
		run_to_block(6);
		assert!(Requests::<Test>::get(ids[8]).unwrap().missed.len() == 1);
		assert_invariants(issuance);
	});
}

#[test]
fn on_initialize_accounts_for_what_it_processed() {
	new_test_ext().execute_with(|| {
		use frame_support::traits::Hooks;
		let base = <() as WeightInfo>::on_initialize_base();
		assert_eq!(Inference::on_initialize(2), base);
		request(ALICE, VerificationMode::Quorum(3), 1);
		System::set_block_number(5);
		let used = Inference::on_initialize(5);
		assert!(used.all_gte(base.saturating_add(<() as WeightInfo>::expire_phase(3))));
		assert!(Inference::worst_on_initialize().all_gte(used));
		assert!(Inference::worst_on_initialize().all_lte(Weight::MAX));
	});
}
