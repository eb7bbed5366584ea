//! Retention: accepted results are readable for `ResultRetention` blocks after they can no
//! longer be challenged, then pruned; the receipt keeps their hashes.

use super::*;
use crate::{ChallengeWindows, Deadlines, Event, Receipts, Results, TraceLeaves};
use verity_primitives::{Outcome, VerificationMode};

/// The request's stored results, by worker.
fn stored(id: RequestId) -> Vec<AccountId> {
	Results::<Test>::iter_key_prefix(id).collect()
}

#[test]
fn settled_results_are_pruned_after_the_retention() {
	// Results used to stay in storage forever, free: `Quorum(n)` kept n outputs per request.
	new_test_ext().execute_with(|| {
		let issuance = Balances::total_issuance();
		let id = request(ALICE, VerificationMode::Quorum(3), 4);
		let workers = assigned(id);
		let run = honest(4);
		for w in &workers {
			commit(id, *w, &run);
		}
		for w in &workers {
			reveal(id, *w, &run);
		}
		let receipt = Receipts::<Test>::get(id).unwrap();
		assert_eq!(receipt.outcome, Outcome::Settled);
		let settled_at = System::block_number();
		run_to_block(settled_at + RESULT_RETENTION);
		assert_eq!(
			stored(id).len(),
			3,
			"readable through the retention's last block"
		);
		assert_invariants(issuance);
		run_to_block(settled_at + RESULT_RETENTION + 1);
		assert!(stored(id).is_empty());
		assert_eq!(
			Receipts::<Test>::get(id),
			Some(receipt),
			"the receipt is kept as it was"
		);
		assert!(inference_events().contains(&Event::ResultsPruned { id }));
		assert_eq!(Deadlines::<Test>::iter().count(), 0, "nothing left queued");
		assert_invariants(issuance);
	});
}

#[test]
fn an_optimistic_result_is_kept_from_settlement_on() {
	new_test_ext().execute_with(|| {
		let issuance = Balances::total_issuance();
		let id = request(ALICE, VerificationMode::Optimistic, 5);
		let worker = assigned(id)[0];
		submit(id, worker, &honest(5));
		// Settles when the challenge period ends (processed at 2 + CHALLENGE_PERIOD).
		let settled_at = 2 + CHALLENGE_PERIOD;
		run_to_block(settled_at);
		assert_eq!(Receipts::<Test>::get(id).unwrap().outcome, Outcome::Settled);
		run_to_block(settled_at + RESULT_RETENTION);
		assert_eq!(stored(id), vec![worker]);
		run_to_block(settled_at + RESULT_RETENTION + 1);
		assert!(stored(id).is_empty());
		assert_invariants(issuance);
	});
}

#[test]
fn an_attested_result_is_kept_through_its_window_and_the_retention() {
	new_test_ext().execute_with(|| {
		let issuance = Balances::total_issuance();
		let id = request(ALICE, VerificationMode::Attested, 6);
		let worker = assigned(id)[0];
		submit(id, worker, &honest(6));
		let until = Receipts::<Test>::get(id).unwrap().challengeable_until;
		run_to_block(until + 1);
		assert!(!ChallengeWindows::<Test>::contains_key(id));
		assert!(!TraceLeaves::<Test>::contains_key(id, worker));
		assert_eq!(
			stored(id),
			vec![worker],
			"the window's end keeps the output"
		);
		run_to_block(until + RESULT_RETENTION);
		assert_eq!(stored(id), vec![worker]);
		run_to_block(until + RESULT_RETENTION + 1);
		assert!(stored(id).is_empty());
		assert_invariants(issuance);
	});
}

#[test]
fn refunds_and_proven_frauds_queue_no_pruning() {
	new_test_ext().execute_with(|| {
		let issuance = Balances::total_issuance();
		// Proven fraudulent: the only result is deleted with the verdict.
		let seed = 8;
		let fraud = request(ALICE, VerificationMode::Attested, seed);
		let cheater = assigned(fraud)[0];
		submit(fraud, cheater, &cheating(seed, 2));
		assert_ok!(challenge(
			fraud,
			DAVE,
			cheater,
			2,
			proof(&honest(seed), seed, 2)
		));
		assert_eq!(
			Receipts::<Test>::get(fraud).unwrap().outcome,
			Outcome::Fraudulent
		);
		// Refunded: nobody answers and nobody is left to reassign to.
		let silent = request(ALICE, VerificationMode::Optimistic, 7);
		for w in WORKERS {
			Registry::deactivate(w);
		}
		run_to_block(System::block_number() + RESULT_TIMEOUT + 1);
		assert_eq!(
			Receipts::<Test>::get(silent).unwrap().outcome,
			Outcome::Refunded
		);
		assert!(stored(silent).is_empty() && stored(fraud).is_empty());
		assert_eq!(
			Deadlines::<Test>::iter().count(),
			0,
			"nothing queued for either"
		);
		assert_invariants(issuance);
	});
}
