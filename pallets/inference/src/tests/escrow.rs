//! Escrow holds: exactly `max_fee` per unfinished request, released per request.

use super::*;
use frame_support::traits::{fungible::Mutate, tokens::Preservation};
use verity_primitives::{Outcome, VerificationMode};

#[test]
fn each_request_holds_and_releases_its_own_escrow() {
	new_test_ext().execute_with(|| {
		let issuance = Balances::total_issuance();
		let a = request_with_fee(ALICE, VerificationMode::Optimistic, 1, 100);
		let b = request_with_fee(ALICE, VerificationMode::Attested, 2, 40);
		assert_eq!(escrowed(ALICE), 140);
		assert_invariants(issuance);
		submit(b, assigned(b)[0], &honest(2));
		assert_eq!(escrowed(ALICE), 100);
		assert_invariants(issuance);
		submit(a, assigned(a)[0], &honest(1));
		run_to_block(2 + CHALLENGE_PERIOD);
		assert_eq!(escrowed(ALICE), 0);
		assert_eq!(
			crate::Receipts::<Test>::get(a).unwrap().outcome,
			Outcome::Settled
		);
		assert_invariants(issuance);
	});
}

#[test]
fn escrowed_funds_cannot_be_spent() {
	new_test_ext().execute_with(|| {
		request_with_fee(ALICE, VerificationMode::Attested, 1, 9_000);
		assert_eq!(free(ALICE), 1_000);
		assert!(
			<Balances as Mutate<_>>::transfer(&ALICE, &BOB, 1_500, Preservation::Expendable)
				.is_err()
		);
	});
}

#[test]
fn a_refund_returns_the_whole_escrow() {
	new_test_ext().execute_with(|| {
		let issuance = Balances::total_issuance();
		let total = free(ALICE) + escrowed(ALICE);
		let id = request_with_fee(ALICE, VerificationMode::Quorum(2), 1, 300);
		for w in WORKERS {
			Registry::deactivate(w);
		}
		run_to_block(20);
		assert_eq!(
			crate::Receipts::<Test>::get(id).unwrap().outcome,
			Outcome::Refunded
		);
		// Back in full, plus the two silent workers' penalties.
		assert_eq!(free(ALICE), total + 2 * MISS_PENALTY);
		assert_eq!(escrowed(ALICE), 0);
		assert_invariants(issuance);
	});
}

#[test]
fn the_challenge_bond_is_held_only_during_the_call() {
	new_test_ext().execute_with(|| {
		let issuance = Balances::total_issuance();
		let seed = 3;
		let id = request(ALICE, VerificationMode::Optimistic, seed);
		let worker = assigned(id)[0];
		let run = honest(seed);
		submit(id, worker, &run);
		let (node, node_proof, inputs) = proof(&run, seed, 0);
		assert_ok!(Inference::challenge(
			RuntimeOrigin::signed(CHARLIE),
			id,
			worker,
			0,
			node,
			node_proof,
			inputs
		));
		assert_eq!(
			Balances::balance_on_hold(&HoldReason::ChallengeBond.into(), &CHARLIE),
			0
		);
		assert_invariants(issuance);
	});
}
