//! The three verification modes end to end, and every way `submit_result` is refused.

use super::*;
use crate::{ChallengeWindows, Error, Event, Receipts, RequestInputs, Results, TraceLeaves};
use frame_support::{assert_noop, dispatch::Pays};
use verity_engine::Tensor;
use verity_primitives::{AssignmentState, Outcome, RequestStatus, VerificationMode};

#[test]
fn attested_settles_at_once_and_stays_challengeable() {
	new_test_ext().execute_with(|| {
		let issuance = Balances::total_issuance();
		let id = request_with_fee(ALICE, VerificationMode::Attested, 1, 100);
		let worker = assigned(id)[0];
		let run = honest(1);
		let (owner, protocol, before) = (free(OWNER), free(PROTOCOL), free(worker));
		let post = Inference::submit_result(
			RuntimeOrigin::signed(worker),
			id,
			run.output(),
			run.trace(),
			None,
		)
		.unwrap();
		assert_eq!(post.pays_fee, Pays::No);

		let receipt = Receipts::<Test>::get(id).unwrap();
		assert_eq!(receipt.outcome, Outcome::Settled);
		assert_eq!(receipt.workers.to_vec(), vec![worker]);
		assert_eq!(receipt.paid, PRICE + WORKER_FEE);
		assert_eq!(receipt.challengeable_until, 1 + CHALLENGE_PERIOD);
		assert_eq!((receipt.output_hash, receipt.trace_root), run.hashes());
		assert_eq!(free(OWNER), owner + PRICE);
		assert_eq!(free(worker), before + 9);
		assert_eq!(free(PROTOCOL), protocol + 1);
		assert_eq!(escrowed(ALICE), 0);
		assert!(Requests::<Test>::get(id).is_none());
		// Challengeable: leaves, input and the model's in-flight count are kept.
		assert!(ChallengeWindows::<Test>::contains_key(id));
		assert!(TraceLeaves::<Test>::contains_key(id, worker));
		assert!(RequestInputs::<Test>::contains_key(id));
		assert_eq!(registry::Models::<Test>::get(0).unwrap().in_flight, 1);
		// Served counts results that stood: an attested one once its window closes.
		assert_eq!(registry::Served::<Test>::get(worker), 0);
		assert_invariants(issuance);

		run_to_block(1 + CHALLENGE_PERIOD);
		assert!(TraceLeaves::<Test>::contains_key(id, worker));
		run_to_block(2 + CHALLENGE_PERIOD);
		assert_eq!(last_event(), Event::ChallengeWindowClosed { id });
		assert!(!ChallengeWindows::<Test>::contains_key(id));
		assert!(!TraceLeaves::<Test>::contains_key(id, worker));
		assert!(!RequestInputs::<Test>::contains_key(id));
		assert!(Results::<Test>::contains_key(id, worker));
		assert_eq!(registry::Models::<Test>::get(0).unwrap().in_flight, 0);
		assert_eq!(registry::Served::<Test>::get(worker), 1);
		assert_eq!(
			Inference::result(id, worker).unwrap().output,
			run.output().to_vec()
		);
		assert_invariants(issuance);
	});
}

#[test]
fn optimistic_settles_after_the_challenge_period() {
	new_test_ext().execute_with(|| {
		let issuance = Balances::total_issuance();
		let id = request_with_fee(ALICE, VerificationMode::Optimistic, 2, 40);
		let worker = assigned(id)[0];
		run_to_block(3);
		let run = honest(2);
		submit(id, worker, &run);
		let until = 3 + CHALLENGE_PERIOD;
		assert_eq!(status(id), RequestStatus::Challengeable { until });
		assert_eq!(last_event(), Event::ResultChallengeable { id, until });
		assert_eq!(escrowed(ALICE), 40);
		assert_eq!(Inference::trace_leaves(id, worker).unwrap(), run.leaves);
		assert_invariants(issuance);

		run_to_block(until);
		assert!(Requests::<Test>::get(id).is_some());
		let before = free(ALICE);
		run_to_block(until + 1);
		let receipt = Receipts::<Test>::get(id).unwrap();
		assert_eq!(receipt.outcome, Outcome::Settled);
		assert_eq!(receipt.paid, PRICE + WORKER_FEE);
		assert_eq!(free(ALICE), before + 40 - PRICE - WORKER_FEE);
		assert!(!TraceLeaves::<Test>::contains_key(id, worker));
		assert!(Results::<Test>::contains_key(id, worker));
		assert!(!RequestInputs::<Test>::contains_key(id));
		assert_eq!(registry::Models::<Test>::get(0).unwrap().in_flight, 0);
		assert_invariants(issuance);
	});
}

#[test]
fn unanimous_quorum_settles_at_once() {
	new_test_ext().execute_with(|| {
		let issuance = Balances::total_issuance();
		let id = request_with_fee(ALICE, VerificationMode::Quorum(3), 3, 50);
		let workers = assigned(id);
		let run = honest(3);
		for w in &workers[..2] {
			commit(id, *w, &run);
		}
		assert!(matches!(status(id), RequestStatus::Assigned { .. }));
		commit(id, workers[2], &run);
		assert_eq!(
			status(id),
			RequestStatus::Revealing {
				deadline: 1 + RESULT_TIMEOUT
			}
		);
		let before: Vec<Balance> = workers.iter().map(|w| free(*w)).collect();
		let alice = free(ALICE);
		for w in &workers[..2] {
			reveal(id, *w, &run);
		}
		assert_eq!(
			Requests::<Test>::get(id).unwrap().assignments[1].state,
			AssignmentState::Submitted
		);
		reveal(id, workers[2], &run);
		let receipt = Receipts::<Test>::get(id).unwrap();
		assert_eq!(receipt.outcome, Outcome::Settled);
		assert_eq!(receipt.workers.to_vec(), workers);
		assert_eq!(receipt.paid, 3 * (PRICE + WORKER_FEE));
		for (w, b) in workers.iter().zip(before) {
			assert_eq!(free(*w), b + 9);
		}
		assert_eq!(free(ALICE), alice + 50 - 45);
		assert!(TraceLeaves::<Test>::iter_prefix(id).next().is_none());
		assert_invariants(issuance);
	});
}

#[test]
fn submit_result_refusals() {
	new_test_ext().execute_with(|| {
		let run = honest(1);
		let submit_as = |who: AccountId, id: RequestId, out, leaves, salt| {
			Inference::submit_result(RuntimeOrigin::signed(who), id, out, leaves, salt)
		};
		assert_noop!(
			submit_as(10, 42, run.output(), run.trace(), None),
			Error::<Test>::UnknownRequest
		);
		let id = request(ALICE, VerificationMode::Optimistic, 1);
		let worker = assigned(id)[0];
		let other = *WORKERS.iter().find(|w| **w != worker).unwrap();
		assert_noop!(
			submit_as(other, id, run.output(), run.trace(), None),
			Error::<Test>::NotAssigned
		);
		assert_noop!(
			submit_as(worker, id, run.output(), run.trace(), Some([0; 32])),
			Error::<Test>::UnexpectedSalt
		);
		let short: Vec<H256> = run.leaves[..3].to_vec();
		assert_noop!(
			submit_as(worker, id, run.output(), short.try_into().unwrap(), None),
			Error::<Test>::LeafCountMismatch
		);
		assert_noop!(
			submit_as(
				worker,
				id,
				vec![1u8, 2].try_into().unwrap(),
				run.trace(),
				None
			),
			Error::<Test>::OutputUndecodable
		);
		let two = encode_tensors(&[run.outputs[0].clone(), run.outputs[0].clone()]);
		assert_noop!(
			submit_as(worker, id, two, run.trace(), None),
			Error::<Test>::OutputCountMismatch
		);
		let wrong = encode_tensors(&[Tensor::from_f32(&[3], vec![0.0; 3]).unwrap()]);
		assert_noop!(
			submit_as(worker, id, wrong, run.trace(), None),
			Error::<Test>::OutputTypeMismatch
		);
		// A trace whose output leaf is not the output's hash.
		let mut leaves = run.leaves.clone();
		leaves[3] = H256::repeat_byte(7);
		assert_noop!(
			submit_as(worker, id, run.output(), leaves.try_into().unwrap(), None),
			Error::<Test>::OutputHashMismatch
		);
		submit(id, worker, &run);
		assert_noop!(
			submit_as(worker, id, run.output(), run.trace(), None),
			Error::<Test>::AlreadySubmitted
		);

		let attested = request(ALICE, VerificationMode::Attested, 1);
		let w = assigned(attested)[0];
		submit(attested, w, &run);
		assert_noop!(
			submit_as(w, attested, run.output(), run.trace(), None),
			Error::<Test>::RequestFinished
		);
	});
}

#[test]
fn quorum_reveal_refusals() {
	new_test_ext().execute_with(|| {
		let run = honest(1);
		let id = request(ALICE, VerificationMode::Quorum(2), 1);
		let [a, b] = assigned(id)[..] else { panic!() };
		let reveal_as = |who: AccountId, salt| {
			Inference::submit_result(
				RuntimeOrigin::signed(who),
				id,
				run.output(),
				run.trace(),
				salt,
			)
		};
		// Reveals wait for every commitment.
		assert_noop!(
			reveal_as(a, Some(salt_of(a))),
			Error::<Test>::NotRevealPhase
		);
		commit(id, a, &run);
		assert_noop!(
			reveal_as(a, Some(salt_of(a))),
			Error::<Test>::NotRevealPhase
		);
		// A lazy worker copying another's commitment cannot reveal it: the commitment binds
		// the worker's account.
		assert_ok!(Inference::commit_result(
			RuntimeOrigin::signed(b),
			id,
			run.commitment(a, salt_of(a))
		));
		assert_noop!(
			reveal_as(b, Some(salt_of(a))),
			Error::<Test>::CommitmentMismatch
		);
		assert_noop!(reveal_as(a, None), Error::<Test>::MissingSalt);
		assert_noop!(
			reveal_as(a, Some([0xee; 32])),
			Error::<Test>::CommitmentMismatch
		);
		let other = cheating(1, 2);
		assert_noop!(
			Inference::submit_result(
				RuntimeOrigin::signed(a),
				id,
				other.output(),
				other.trace(),
				Some(salt_of(a))
			),
			Error::<Test>::CommitmentMismatch
		);
		reveal(id, a, &run);
		assert_noop!(
			reveal_as(a, Some(salt_of(a))),
			Error::<Test>::AlreadySubmitted
		);
	});
}

#[test]
fn a_result_after_the_phase_is_refused_even_before_its_end_is_processed() {
	new_test_ext().execute_with(|| {
		// Nine phases end before block 5; block 5 processes eight (MaxDeadlinesPerBlock).
		let ids: Vec<RequestId> = (0..9)
			.map(|i| request(ALICE, VerificationMode::Optimistic, i))
			.collect();
		run_to_block(5);
		let late = *ids
			.iter()
			.find(|id| Requests::<Test>::get(*id).unwrap().missed.is_empty())
			.expect("one end not processed yet");
		let worker = assigned(late)[0];
		let run = honest(ids.iter().position(|i| *i == late).unwrap() as u32);
		assert_noop!(
			Inference::submit_result(
				RuntimeOrigin::signed(worker),
				late,
				run.output(),
				run.trace(),
				None
			),
			Error::<Test>::PhaseEnded
		);
		run_to_block(6);
		assert_eq!(Requests::<Test>::get(late).unwrap().missed.len(), 1);
	});
}
