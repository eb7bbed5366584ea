//! Quorum mode: commitments, disputes decided by a fraud proof at the first diverging leaf,
//! and the commit, reveal and dispute deadlines.

use super::*;
use crate::{Error, Event, Receipts, Results, TraceLeaves};
use frame_support::{assert_noop, dispatch::Pays};
use verity_primitives::{AssignmentState, Outcome, RequestStatus, VerificationMode};

fn challenge_at(
	id: RequestId,
	challenger: AccountId,
	worker: AccountId,
	run: &Run,
	seed: u32,
	index: u32,
) -> frame_support::dispatch::DispatchResultWithPostInfo {
	challenge(id, challenger, worker, index, proof(run, seed, index))
}

#[test]
fn commit_result_refusals() {
	new_test_ext().execute_with(|| {
		let run = honest(1);
		let c = run.commitment(10, [1; 32]);
		assert_noop!(
			Inference::commit_result(RuntimeOrigin::signed(10), 5, c),
			Error::<Test>::UnknownRequest
		);
		let single = request(ALICE, VerificationMode::Optimistic, 1);
		let w = assigned(single)[0];
		assert_noop!(
			Inference::commit_result(RuntimeOrigin::signed(w), single, c),
			Error::<Test>::NotQuorum
		);
		let id = request(ALICE, VerificationMode::Quorum(2), 1);
		let [a, b] = assigned(id)[..] else { panic!() };
		let outsider = *WORKERS.iter().find(|w| ![a, b].contains(w)).unwrap();
		assert_noop!(
			Inference::commit_result(RuntimeOrigin::signed(outsider), id, c),
			Error::<Test>::NotAssigned
		);
		let post =
			Inference::commit_result(RuntimeOrigin::signed(a), id, run.commitment(a, salt_of(a)))
				.unwrap();
		assert_eq!(post.pays_fee, Pays::No);
		assert_eq!(last_event(), Event::ResultCommitted { id, worker: a });
		assert_noop!(
			Inference::commit_result(RuntimeOrigin::signed(a), id, c),
			Error::<Test>::AlreadyCommitted
		);
		commit(id, b, &run);
		assert_eq!(
			last_event(),
			Event::RevealPhaseStarted {
				id,
				deadline: 1 + RESULT_TIMEOUT
			}
		);
		assert_noop!(
			Inference::commit_result(RuntimeOrigin::signed(a), id, c),
			Error::<Test>::NotCommitPhase
		);
		reveal(id, a, &run);
		reveal(id, b, &run);
		assert_noop!(
			Inference::commit_result(RuntimeOrigin::signed(a), id, c),
			Error::<Test>::RequestFinished
		);
	});
}

#[test]
fn a_dispute_is_decided_at_the_first_diverging_leaf() {
	new_test_ext().execute_with(|| {
		let issuance = Balances::total_issuance();
		let seed = 4;
		let id = request_with_fee(ALICE, VerificationMode::Quorum(3), seed, 45);
		let [a, b, c] = assigned(id)[..] else {
			panic!()
		};
		let (good, bad) = (honest(seed), cheating(seed, 1));
		commit(id, a, &good);
		commit(id, b, &bad);
		commit(id, c, &good);
		reveal(id, a, &good);
		reveal(id, b, &bad);
		reveal(id, c, &good);
		let until = 1 + CHALLENGE_PERIOD;
		assert_eq!(status(id), RequestStatus::Disputed { leaf: 1, until });
		assert_eq!(last_event(), Event::Disputed { id, leaf: 1, until });
		assert_invariants(issuance);

		// Only the diverging node decides a dispute.
		assert_noop!(
			challenge_at(id, CHARLIE, a, &good, seed, 2),
			Error::<Test>::WrongNode
		);

		let (alice, charlie, protocol) = (free(ALICE), free(CHARLIE), free(PROTOCOL));
		let (ba, bc) = (free(a), free(c));
		// The accused named may be any revealed worker: its leaves before the divergence are
		// everyone's.
		let post = challenge_at(id, CHARLIE, a, &good, seed, 1).unwrap();
		assert_eq!(post.pays_fee, Pays::No);
		assert!(inference_events().contains(&Event::FraudProven {
			id,
			worker: b,
			challenger: CHARLIE,
			node: 1,
			slashed: FRAUD_SLASH,
			to_requester: 50,
			to_challenger: 30,
			to_protocol: 20,
		}));
		assert_eq!(Registry::bond(b), BOND - FRAUD_SLASH);
		assert_eq!(free(CHARLIE), charlie + 30);
		// The two honest workers settle; the third replica's fee goes back to Alice.
		let receipt = Receipts::<Test>::get(id).unwrap();
		assert_eq!(receipt.outcome, Outcome::Settled);
		assert_eq!(receipt.workers.to_vec(), vec![a, c]);
		assert_eq!(receipt.paid, 30);
		assert_eq!(free(ALICE), alice + 50 + 45 - 30);
		assert_eq!(free(PROTOCOL), protocol + 20 + 2);
		assert_eq!((free(a), free(c)), (ba + 9, bc + 9));
		assert!(!Results::<Test>::contains_key(id, b));
		assert!(TraceLeaves::<Test>::iter_prefix(id).next().is_none());
		assert_eq!(registry::Slashes::<Test>::get(b), 1);
		assert_invariants(issuance);
	});
}

#[test]
fn nested_disputes_each_slash_one_liar() {
	new_test_ext().execute_with(|| {
		let issuance = Balances::total_issuance();
		let seed = 5;
		let id = request(ALICE, VerificationMode::Quorum(3), seed);
		let [a, b, c] = assigned(id)[..] else {
			panic!()
		};
		let (good, late_liar, early_liar) = (honest(seed), cheating(seed, 2), cheating(seed, 0));
		for (w, r) in [(a, &good), (b, &late_liar), (c, &early_liar)] {
			commit(id, w, r);
		}
		for (w, r) in [(a, &good), (b, &late_liar), (c, &early_liar)] {
			reveal(id, w, r);
		}
		assert!(matches!(
			status(id),
			RequestStatus::Disputed { leaf: 0, .. }
		));
		run_to_block(3);
		assert_ok!(challenge_at(id, DAVE, b, &good, seed, 0));
		// c is slashed; a and b still disagree, first at leaf 2: a new dispute opens.
		assert_eq!(
			status(id),
			RequestStatus::Disputed {
				leaf: 2,
				until: 3 + CHALLENGE_PERIOD
			}
		);
		let r = Requests::<Test>::get(id).unwrap();
		assert_eq!(
			r.assignments.iter().find(|x| x.worker == c).unwrap().state,
			AssignmentState::Slashed
		);
		assert!(r.missed.contains(&c));
		// A slashed worker cannot post again.
		assert_noop!(
			Inference::submit_result(
				RuntimeOrigin::signed(c),
				id,
				good.output(),
				good.trace(),
				Some(salt_of(c))
			),
			Error::<Test>::Excluded
		);
		assert_noop!(
			challenge_at(id, DAVE, c, &good, seed, 2),
			Error::<Test>::NoResult
		);
		assert_ok!(challenge_at(id, CHARLIE, b, &good, seed, 2));
		// a's reveal is all that is left: one reveal verifies nothing, so it is challengeable
		// like an optimistic result before it settles.
		let RequestStatus::Challengeable { until } = status(id) else {
			panic!("a lone reveal is challengeable")
		};
		assert_eq!(until, 3 + CHALLENGE_PERIOD);
		run_to_block(until + 1);
		let receipt = Receipts::<Test>::get(id).unwrap();
		assert_eq!(receipt.workers.to_vec(), vec![a]);
		assert_eq!((receipt.output_hash, receipt.trace_root), good.hashes());
		assert_eq!(Registry::bond(b), BOND - FRAUD_SLASH);
		assert_eq!(Registry::bond(c), BOND - FRAUD_SLASH);
		assert_invariants(issuance);
	});
}

#[test]
fn when_every_revealed_worker_lied_the_request_starts_over() {
	new_test_ext().execute_with(|| {
		let issuance = Balances::total_issuance();
		let seed = 6;
		let id = request(ALICE, VerificationMode::Quorum(2), seed);
		let [a, b] = assigned(id)[..] else { panic!() };
		let (x, y) = (cheating_by(seed, 0, 1.0), cheating_by(seed, 0, 2.0));
		commit(id, a, &x);
		commit(id, b, &y);
		reveal(id, a, &x);
		reveal(id, b, &y);
		assert!(matches!(
			status(id),
			RequestStatus::Disputed { leaf: 0, .. }
		));
		assert_ok!(challenge_at(id, CHARLIE, a, &honest(seed), seed, 0));
		assert_eq!(Registry::bond(a), BOND - FRAUD_SLASH);
		assert_eq!(Registry::bond(b), BOND - FRAUD_SLASH);
		// Both excluded; two fresh workers start a new commit phase.
		let fresh = assigned(id);
		assert_eq!(fresh.len(), 2);
		assert!(!fresh.contains(&a) && !fresh.contains(&b));
		assert_eq!(
			status(id),
			RequestStatus::Assigned {
				deadline: 1 + RESULT_TIMEOUT
			}
		);
		let good = honest(seed);
		for w in &fresh {
			commit(id, *w, &good);
		}
		for w in &fresh {
			reveal(id, *w, &good);
		}
		assert_eq!(Receipts::<Test>::get(id).unwrap().workers.to_vec(), fresh);
		assert_invariants(issuance);
	});
}

#[test]
fn an_unproven_dispute_is_refunded_in_full() {
	new_test_ext().execute_with(|| {
		let issuance = Balances::total_issuance();
		let seed = 7;
		let id = request_with_fee(ALICE, VerificationMode::Quorum(2), seed, 60);
		let [a, b] = assigned(id)[..] else { panic!() };
		let (good, bad) = (honest(seed), cheating(seed, 3));
		commit(id, a, &good);
		commit(id, b, &bad);
		reveal(id, a, &good);
		reveal(id, b, &bad);
		let alice = free(ALICE);
		run_to_block(1 + CHALLENGE_PERIOD);
		assert!(Requests::<Test>::get(id).is_some());
		run_to_block(2 + CHALLENGE_PERIOD);
		let receipt = Receipts::<Test>::get(id).unwrap();
		assert_eq!(receipt.outcome, Outcome::Refunded);
		assert_eq!(receipt.paid, 0);
		assert_eq!(free(ALICE), alice + 60);
		assert_eq!(Registry::bond(a), BOND);
		assert_eq!(Registry::bond(b), BOND);
		assert!(Results::<Test>::iter_prefix(id).next().is_none());
		assert!(TraceLeaves::<Test>::iter_prefix(id).next().is_none());
		assert_eq!(
			last_event(),
			Event::Refunded {
				id,
				requester: ALICE,
				amount: 60
			}
		);
		assert_invariants(issuance);
	});
}

#[test]
fn missing_committers_are_penalised_and_replaced() {
	new_test_ext().execute_with(|| {
		let issuance = Balances::total_issuance();
		let seed = 8;
		let id = request(ALICE, VerificationMode::Quorum(3), seed);
		let [a, b, c] = assigned(id)[..] else {
			panic!()
		};
		let run = honest(seed);
		commit(id, a, &run);
		commit(id, b, &run);
		let alice = free(ALICE);
		run_to_block(2 + RESULT_TIMEOUT);
		assert!(inference_events().contains(&Event::DeadlineMissed {
			id,
			worker: c,
			penalty: MISS_PENALTY
		}));
		assert_eq!(free(ALICE), alice + MISS_PENALTY);
		assert_eq!(Registry::bond(c), BOND - MISS_PENALTY);
		let now = assigned(id);
		assert_eq!(now.len(), 3);
		assert_eq!(&now[..2], &[a, b]);
		assert!(!now.contains(&c));
		let d = now[2];
		let deadline = 2 + 2 * RESULT_TIMEOUT;
		assert_eq!(status(id), RequestStatus::Assigned { deadline });
		assert!(matches!(last_event(), Event::Reassigned { deadline: dl, .. } if dl == deadline));
		assert_noop!(
			Inference::commit_result(RuntimeOrigin::signed(c), id, run.commitment(c, salt_of(c))),
			Error::<Test>::Excluded
		);
		commit(id, d, &run);
		assert!(matches!(status(id), RequestStatus::Revealing { .. }));
		for w in [a, b, d] {
			reveal(id, w, &run);
		}
		assert_eq!(
			Receipts::<Test>::get(id).unwrap().workers.to_vec(),
			vec![a, b, d]
		);
		assert_invariants(issuance);
	});
}

#[test]
fn late_in_its_life_a_quorum_reveals_with_the_committed_workers() {
	new_test_ext().execute_with(|| {
		let issuance = Balances::total_issuance();
		let seed = 9;
		let id = request(ALICE, VerificationMode::Quorum(3), seed);
		let [a, b, c] = assigned(id)[..] else {
			panic!()
		};
		let run = honest(seed);
		// Nobody commits in the first phase: a fresh round, then another.
		run_to_block(2 + RESULT_TIMEOUT);
		let second = assigned(id);
		assert!(second.iter().all(|w| ![a, b, c].contains(w)));
		assert_eq!(second.len(), 3);
		commit(id, second[0], &run);
		// At block 8 the lifetime (until 13) still allows another 3-block phase, but there is
		// no active worker left that is not excluded or assigned.
		run_to_block(3 + 2 * RESULT_TIMEOUT);
		assert!(matches!(status(id), RequestStatus::Revealing { .. }));
		assert_eq!(assigned(id), vec![second[0]]);
		reveal(id, second[0], &run);
		let RequestStatus::Challengeable { until } = status(id) else {
			panic!("a lone reveal is challengeable")
		};
		run_to_block(until + 1);
		let receipt = Receipts::<Test>::get(id).unwrap();
		assert_eq!(receipt.workers.to_vec(), vec![second[0]]);
		assert_eq!(receipt.paid, PRICE + WORKER_FEE);
		assert_invariants(issuance);
	});
}

#[test]
fn missing_revealers_are_penalised_and_the_rest_decide() {
	new_test_ext().execute_with(|| {
		let issuance = Balances::total_issuance();
		let seed = 10;
		let id = request(ALICE, VerificationMode::Quorum(3), seed);
		let [a, b, c] = assigned(id)[..] else {
			panic!()
		};
		let run = honest(seed);
		for w in [a, b, c] {
			commit(id, w, &run);
		}
		reveal(id, a, &run);
		reveal(id, b, &run);
		run_to_block(2 + RESULT_TIMEOUT);
		assert_eq!(Registry::bond(c), BOND - MISS_PENALTY);
		let receipt = Receipts::<Test>::get(id).unwrap();
		assert_eq!(receipt.workers.to_vec(), vec![a, b]);
		assert_eq!(receipt.paid, 2 * (PRICE + WORKER_FEE));
		assert_invariants(issuance);
	});
}

#[test]
fn without_any_reveal_a_quorum_starts_over() {
	new_test_ext().execute_with(|| {
		let issuance = Balances::total_issuance();
		let seed = 11;
		let id = request(ALICE, VerificationMode::Quorum(2), seed);
		let first = assigned(id);
		let run = honest(seed);
		for w in &first {
			commit(id, *w, &run);
		}
		run_to_block(2 + RESULT_TIMEOUT);
		let second = assigned(id);
		assert_eq!(second.len(), 2);
		assert!(second.iter().all(|w| !first.contains(w)));
		for w in &first {
			assert_eq!(Registry::bond(*w), BOND - MISS_PENALTY);
		}
		assert!(matches!(status(id), RequestStatus::Assigned { .. }));
		assert_invariants(issuance);
	});
}

#[test]
fn a_quorum_of_one_is_refused_and_not_quoted() {
	new_test_ext().execute_with(|| {
		for n in [0u8, 1, 5] {
			let mode = VerificationMode::Quorum(n);
			assert_eq!(Inference::quote(0, mode), None, "Quorum({n})");
			assert_noop!(
				Inference::request_inference(
					RuntimeOrigin::signed(ALICE),
					0,
					encode_tensors(&[input_tensor(1)]),
					mode,
					1_000,
				),
				Error::<Test>::InvalidReplicas
			);
		}
		assert!(Inference::quote(0, VerificationMode::Quorum(2)).is_some());
	});
}

#[test]
fn a_lone_reveal_is_challengeable_and_a_lie_in_it_starts_the_quorum_over() {
	// Before this rule a quorum whose other workers timed out settled on the one reveal at
	// once: a single unverified worker decided it.
	new_test_ext().execute_with(|| {
		let issuance = Balances::total_issuance();
		let seed = 12;
		let id = request(ALICE, VerificationMode::Quorum(2), seed);
		let [a, b] = assigned(id)[..] else { panic!() };
		let bad = cheating(seed, 1);
		commit(id, a, &bad);
		commit(id, b, &bad);
		reveal(id, a, &bad);
		// b never reveals: penalised; a's reveal alone becomes challengeable, not settled.
		run_to_block(2 + RESULT_TIMEOUT);
		assert_eq!(Registry::bond(b), BOND - MISS_PENALTY);
		let RequestStatus::Challengeable { until } = status(id) else {
			panic!("challengeable")
		};
		assert_eq!(last_event(), Event::ResultChallengeable { id, until });
		assert!(!Receipts::<Test>::contains_key(id));
		assert_ok!(challenge_at(id, CHARLIE, a, &honest(seed), seed, 1));
		assert_eq!(Registry::bond(a), BOND - FRAUD_SLASH);
		// A fresh quorum of two new workers.
		let fresh = assigned(id);
		assert_eq!(fresh.len(), 2);
		assert!(!fresh.contains(&a) && !fresh.contains(&b));
		assert!(matches!(status(id), RequestStatus::Assigned { .. }));
		assert_invariants(issuance);
	});
}
