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
fn spent_queue_entries_are_removed() {
	new_test_ext().execute_with(|| {
		let issuance = Balances::total_issuance();
		let id = request(ALICE, VerificationMode::Quorum(2), 1);
		let [a, b] = assigned(id)[..] else { panic!() };
		let run = honest(1);
		assert!(Deadlines::<Test>::contains_key(5, id));
		run_to_block(2);
		commit(id, a, &run);
		commit(id, b, &run);
		// The commit phase's entry is gone; the reveal phase ends at block 5, queued at 6.
		assert!(!Deadlines::<Test>::contains_key(5, id));
		assert!(Deadlines::<Test>::contains_key(6, id));
		reveal(id, a, &run);
		reveal(id, b, &run);
		assert_eq!(Receipts::<Test>::get(id).unwrap().outcome, Outcome::Settled);
		// Only the accepted results' pruning is left queued.
		assert_eq!(
			Deadlines::<Test>::iter_keys().collect::<Vec<_>>(),
			vec![(2 + RESULT_RETENTION + 1, id)]
		);
		assert_invariants(issuance);
	});
}

#[test]
fn deadlines_beyond_a_blocks_budget_are_processed_in_the_next_blocks() {
	new_test_ext().execute_with(|| {
		let issuance = Balances::total_issuance();
		let ids: Vec<RequestId> = (0..20)
			.map(|i| request(ALICE, VerificationMode::Optimistic, i))
			.collect();
		let expired = || {
			ids.iter()
				.filter(|id| Requests::<Test>::get(*id).unwrap().missed.len() == 1)
				.count()
		};
		assert_eq!(Deadlines::<Test>::iter_prefix(5).count(), 20);
		run_to_block(5);
		assert_eq!(expired(), 8);
		assert_eq!(crate::NextDue::<Test>::get(), 5);
		run_to_block(6);
		assert_eq!(expired(), 16);
		run_to_block(7);
		assert_eq!(expired(), 20);
		assert_eq!(crate::NextDue::<Test>::get(), 8);
		assert_invariants(issuance);
	});
}

#[test]
fn an_attacker_crowding_the_deadline_queue_costs_honest_workers_nothing() {
	// The attack: fill the deadline queue so that honest workers cannot act (before, a full
	// 16-block span refused a quorum's last commitment, `DeadlineQueueFull`, and its honest
	// committers then missed the deadline). Now every call still goes through; the attacker's
	// own requests are paid for and served like any others.
	new_test_ext().execute_with(|| {
		use frame_support::traits::fungible::MutateHold;
		let issuance = Balances::total_issuance();
		// Bonds large enough for the workers to be exposed on every request (a bond answers
		// for `bond / FraudSlash` requests at once).
		for w in WORKERS {
			assert_ok!(Balances::hold(
				&registry::HoldReason::WorkerBond.into(),
				&w,
				3 * BOND
			));
		}
		let quorum = request(ALICE, VerificationMode::Quorum(2), 1);
		let [a, b] = assigned(quorum)[..] else {
			panic!()
		};
		let spam: Vec<RequestId> = (0..130)
			.map(|i| request(BOB, VerificationMode::Attested, i % 5))
			.collect();
		let run = honest(1);
		commit(quorum, a, &run);
		commit(quorum, b, &run);
		reveal(quorum, a, &run);
		reveal(quorum, b, &run);
		assert_eq!(
			Receipts::<Test>::get(quorum).unwrap().outcome,
			Outcome::Settled
		);
		// The workers serve the attacker's requests too: each settles and frees its entry.
		for (i, id) in spam.iter().enumerate() {
			submit(*id, assigned(*id)[0], &honest(i as u32 % 5));
		}
		run_to_block(20);
		for w in WORKERS {
			assert_eq!(Registry::bond(w), 4 * BOND, "worker {w} lost bond");
		}
		assert_invariants(issuance);
	});
}

#[test]
fn on_initialize_accounts_for_what_it_processed() {
	new_test_ext().execute_with(|| {
		use frame_support::traits::Hooks;
		let base = <() as WeightInfo>::on_initialize_base();
		let idle = Inference::on_initialize(2);
		assert!(idle.all_gte(base));
		let reads: frame_support::weights::RuntimeDbWeight =
			<<Test as frame_system::Config>::DbWeight as frame_support::traits::Get<_>>::get();
		assert!(idle.all_lte(base.saturating_add(reads.reads(3))));
		request(ALICE, VerificationMode::Quorum(3), 1);
		System::set_block_number(5);
		let used = Inference::on_initialize(5);
		assert!(used.all_gte(base.saturating_add(<() as WeightInfo>::expire_phase(3))));
		assert!(Inference::worst_on_initialize().all_gte(used));
		assert!(Inference::worst_on_initialize().all_lte(Weight::MAX));
	});
}
