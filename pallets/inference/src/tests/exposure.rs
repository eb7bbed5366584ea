//! Bonds answer for what a worker can cheat: no worker is assigned more requests than its bond
//! can be slashed for at once, and a fraud proof that slashes nothing is not free.

use super::*;
use crate::{Error, Event, Exposure};
use frame_support::{assert_noop, dispatch::Pays};
use verity_primitives::{RequestStatus, VerificationMode, WorkerRegistry};

/// Leaves `WORKERS[0]` as the only active worker; returns it.
fn single_worker() -> AccountId {
	for w in &WORKERS[1..] {
		Registry::deactivate(*w);
	}
	WORKERS[0]
}

#[test]
fn a_worker_takes_no_more_requests_than_its_bond_answers_for() {
	new_test_ext().execute_with(|| {
		let issuance = Balances::total_issuance();
		let worker = single_worker();
		let capacity = (BOND / FRAUD_SLASH) as u32;
		let ids: Vec<RequestId> = (0..capacity)
			.map(|i| request(ALICE, VerificationMode::Optimistic, i))
			.collect();
		assert_eq!(Exposure::<Test>::get(worker), capacity);
		// One more would leave a fraud unpaid for: nobody else can take it.
		assert_noop!(
			Inference::request_inference(
				RuntimeOrigin::signed(ALICE),
				0,
				encode_tensors(&[input_tensor(1)]),
				VerificationMode::Optimistic,
				100,
			),
			Error::<Test>::NotEnoughWorkers
		);
		// A posted result stays exposed through its challenge period; once settled it is not.
		submit(ids[0], worker, &honest(0));
		assert_eq!(Exposure::<Test>::get(worker), capacity);
		let RequestStatus::Challengeable { until } = status(ids[0]) else {
			panic!("challengeable")
		};
		run_to_block(until + 1);
		assert!(Exposure::<Test>::get(worker) < capacity);
		request(ALICE, VerificationMode::Optimistic, 9);
		assert_invariants(issuance);
	});
}

#[test]
fn an_attested_receipt_exposes_its_worker_until_its_window_closes() {
	new_test_ext().execute_with(|| {
		let id = request(ALICE, VerificationMode::Attested, 1);
		let worker = assigned(id)[0];
		submit(id, worker, &honest(1));
		assert_eq!(Exposure::<Test>::get(worker), 1);
		run_to_block(2 + CHALLENGE_PERIOD);
		assert_eq!(Exposure::<Test>::get(worker), 0);
	});
}

#[test]
fn a_fraud_proof_that_slashes_nothing_is_paid_for() {
	// The bond was spent between the assignment and the proof (here: taken by hand). The proof
	// still decides the fraud, but it moves nothing, so it is not free (it used to be).
	new_test_ext().execute_with(|| {
		let issuance = Balances::total_issuance();
		let seed = 3;
		let id = request(ALICE, VerificationMode::Optimistic, seed);
		let cheater = assigned(id)[0];
		submit(id, cheater, &cheating(seed, 1));
		<Registry as WorkerRegistry<AccountId, Balance>>::slash(&cheater, BOND, &PROTOCOL);
		let (node, node_proof, inputs) = proof(&honest(seed), seed, 1);
		let post = Inference::challenge(
			RuntimeOrigin::signed(CHARLIE),
			id,
			cheater,
			1,
			node,
			node_proof,
			inputs,
		)
		.unwrap();
		assert_eq!(post.pays_fee, Pays::Yes);
		assert!(inference_events()
			.iter()
			.any(|e| matches!(e, Event::FraudProven { slashed: 0, .. })));
		assert_invariants(issuance);
	});
}
