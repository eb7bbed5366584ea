//! Settlement: who gets what out of the escrow, receipts, and the read API.

use super::*;
use crate::{Event, Receipts};
use verity_primitives::{io_hash, ModeSet, ModelStatus, Outcome, VerificationMode};

#[test]
fn settlement_pays_owner_worker_and_protocol_per_replica() {
	new_test_ext().execute_with(|| {
		let issuance = Balances::total_issuance();
		let id = request_with_fee(BOB, VerificationMode::Quorum(4), 12, 500);
		let workers = assigned(id);
		let run = honest(12);
		let before: Vec<Balance> = workers.iter().map(|w| free(*w)).collect();
		let (bob, owner, protocol) = (free(BOB), free(OWNER), free(PROTOCOL));
		for w in &workers {
			commit(id, *w, &run);
		}
		for w in &workers {
			reveal(id, *w, &run);
		}
		// Per replica: price 5 to the owner, fee 10 split 9 / 1 between worker and protocol.
		assert_eq!(free(OWNER), owner + 4 * PRICE);
		assert_eq!(free(PROTOCOL), protocol + 4);
		for (w, b) in workers.iter().zip(before) {
			assert_eq!(free(*w), b + 9);
			assert_eq!(registry::Served::<Test>::get(w), 1);
		}
		assert_eq!(free(BOB), bob + 500 - 4 * (PRICE + WORKER_FEE));
		assert_eq!(escrowed(BOB), 0);
		let receipt = Receipts::<Test>::get(id).unwrap();
		assert_eq!(receipt.requester, BOB);
		assert_eq!(receipt.model, 0);
		assert_eq!(receipt.model_root, model_info(&test_program()).model_root);
		assert_eq!(
			receipt.input_hash,
			io_hash(&[H256(tensor_hash(&input_tensor(12)))])
		);
		assert_eq!((receipt.output_hash, receipt.trace_root), run.hashes());
		assert_eq!(receipt.mode, VerificationMode::Quorum(4));
		assert_eq!(receipt.paid, 60);
		assert_eq!(receipt.outcome, Outcome::Settled);
		assert_eq!(receipt.finished_at, 1);
		assert!(inference_events().contains(&Event::Settled {
			id,
			workers: workers.clone().try_into().unwrap(),
			paid: 60,
			output_hash: run.hashes().0,
			trace_root: run.hashes().1,
			failed_at: None,
		}));
		assert_invariants(issuance);
	});
}

#[test]
fn the_worker_fee_is_fixed_at_request_time() {
	// `WorkerFee` rises from 10 to 30 while the request is open: the request still pays the
	// owner its price and the worker the old fee (settlement used to split `fee_per_replica`
	// with the current fee, taking the owner's price for the worker).
	new_test_ext().execute_with(|| {
		let issuance = Balances::total_issuance();
		let id = request_with_fee(ALICE, VerificationMode::Attested, 1, 100);
		WorkerFeeValue::set(30);
		let worker = assigned(id)[0];
		let (owner, before) = (free(OWNER), free(worker));
		submit(id, worker, &honest(1));
		WorkerFeeValue::set(WORKER_FEE);
		assert_eq!(free(OWNER), owner + PRICE);
		assert_eq!(free(worker), before + 9);
		assert_eq!(Receipts::<Test>::get(id).unwrap().paid, PRICE + WORKER_FEE);
		assert_invariants(issuance);
	});
}

#[test]
fn the_price_is_fixed_at_request_time() {
	new_test_ext().execute_with(|| {
		let id = request_with_fee(ALICE, VerificationMode::Optimistic, 1, 100);
		registry::Models::<Test>::mutate(0, |m| m.as_mut().unwrap().price = 50);
		let owner = free(OWNER);
		submit(id, assigned(id)[0], &honest(1));
		run_to_block(2 + CHALLENGE_PERIOD);
		assert_eq!(free(OWNER), owner + PRICE);
		assert_eq!(Receipts::<Test>::get(id).unwrap().paid, PRICE + WORKER_FEE);
	});
}

#[test]
fn a_deprecated_model_finishes_its_requests() {
	new_test_ext().execute_with(|| {
		let id = request(ALICE, VerificationMode::Optimistic, 1);
		registry::Models::<Test>::mutate(0, |m| {
			m.as_mut().unwrap().status = ModelStatus::Deprecated
		});
		submit(id, assigned(id)[0], &honest(1));
		run_to_block(2 + CHALLENGE_PERIOD);
		assert_eq!(Receipts::<Test>::get(id).unwrap().outcome, Outcome::Settled);
		assert_eq!(registry::Models::<Test>::get(0).unwrap().in_flight, 0);
		assert_eq!(Inference::quote(0, VerificationMode::Attested), None);
	});
}

#[test]
fn read_api() {
	new_test_ext().execute_with(|| {
		assert_eq!(Inference::quote(0, VerificationMode::Attested), Some(15));
		assert_eq!(Inference::quote(0, VerificationMode::Quorum(3)), Some(45));
		assert_eq!(Inference::quote(0, VerificationMode::Quorum(0)), None);
		assert_eq!(Inference::quote(0, VerificationMode::Quorum(9)), None);
		assert_eq!(Inference::quote(5, VerificationMode::Attested), None);
		registry::Models::<Test>::mutate(0, |m| {
			m.as_mut().unwrap().modes = ModeSet(ModeSet::QUORUM)
		});
		assert_eq!(Inference::quote(0, VerificationMode::Attested), None);
		registry::Models::<Test>::mutate(0, |m| m.as_mut().unwrap().modes = ModeSet::ALL);

		let id = request(ALICE, VerificationMode::Optimistic, 2);
		let worker = assigned(id)[0];
		assert_eq!(Inference::request(id).unwrap().requester, ALICE);
		assert_eq!(
			Inference::request_input(id).unwrap(),
			vec![input_tensor(2)].encode()
		);
		assert_eq!(Inference::result(id, worker), None);
		let run = honest(2);
		submit(id, worker, &run);
		let posted = Inference::result(id, worker).unwrap();
		assert_eq!(posted.output, run.outputs.encode());
		assert_eq!((posted.output_hash, posted.trace_root), run.hashes());
		assert_eq!((posted.failed_at, posted.submitted_at), (None, 1));
		assert_eq!(Inference::trace_leaves(id, worker).unwrap(), run.leaves);
		assert_eq!(Inference::receipt(id), None);
		run_to_block(2 + CHALLENGE_PERIOD);
		assert_eq!(Inference::request(id), None);
		assert_eq!(Inference::trace_leaves(id, worker), None);
		assert_eq!(Inference::request_input(id), None);
		assert!(Inference::result(id, worker).is_some());
		assert_eq!(Inference::receipt(id).unwrap().outcome, Outcome::Settled);
	});
}
