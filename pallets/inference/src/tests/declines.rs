//! Declines: a worker whose node cannot serve the model hands the request on at once, losing
//! nothing; the request is reassigned, goes on as a smaller quorum, or is refunded in full.

use super::*;
use crate::{Error, Event, Receipts};
use frame_support::{assert_noop, dispatch::Pays};
use verity_primitives::{AssignmentState, Outcome, RequestStatus, VerificationMode};

fn decline(
	id: RequestId,
	worker: AccountId,
) -> frame_support::dispatch::DispatchResultWithPostInfo {
	Inference::decline(RuntimeOrigin::signed(worker), id)
}

#[test]
fn a_declined_request_is_reassigned_at_once_and_the_worker_loses_nothing() {
	new_test_ext().execute_with(|| {
		let issuance = Balances::total_issuance();
		let id = request(ALICE, VerificationMode::Attested, 1);
		let worker = assigned(id)[0];
		let (bond, before) = (Registry::bond(worker), free(worker));
		let post = decline(id, worker).unwrap();
		assert_eq!(post.pays_fee, Pays::No);
		assert!(inference_events().contains(&Event::Declined { id, worker }));
		let next = assigned(id);
		assert_eq!(next.len(), 1);
		assert_ne!(next[0], worker);
		assert!(matches!(last_event(), Event::Reassigned { .. }));
		assert_eq!((Registry::bond(worker), free(worker)), (bond, before));
		assert_eq!(registry::Misses::<Test>::get(worker), 0);
		assert!(Requests::<Test>::get(id).unwrap().missed.contains(&worker));
		// Excluded now: it cannot decline or post again.
		assert_noop!(decline(id, worker), Error::<Test>::Excluded);
		submit(id, next[0], &honest(1));
		assert_eq!(Receipts::<Test>::get(id).unwrap().outcome, Outcome::Settled);
		assert_invariants(issuance);
	});
}

#[test]
fn when_every_worker_declines_the_request_is_refunded_in_full() {
	new_test_ext().execute_with(|| {
		let issuance = Balances::total_issuance();
		let before = free(ALICE);
		let id = request(ALICE, VerificationMode::Optimistic, 2);
		for _ in 0..WORKERS.len() {
			let worker = assigned(id)[0];
			assert_ok!(decline(id, worker));
			if !Requests::<Test>::contains_key(id) {
				break;
			}
		}
		let receipt = Receipts::<Test>::get(id).expect("finished");
		assert_eq!(receipt.outcome, Outcome::Refunded);
		assert_eq!(free(ALICE), before);
		for w in WORKERS {
			assert_eq!(Registry::bond(w), BOND, "worker {w}");
		}
		assert_invariants(issuance);
	});
}

#[test]
fn a_quorum_goes_on_without_the_worker_that_declined() {
	new_test_ext().execute_with(|| {
		let issuance = Balances::total_issuance();
		let seed = 3;
		let id = request(ALICE, VerificationMode::Quorum(3), seed);
		let [a, b, c] = assigned(id)[..] else {
			panic!()
		};
		let run = honest(seed);
		commit(id, a, &run);
		commit(id, b, &run);
		// The last uncommitted worker declines: the reveal phase starts.
		assert_ok!(decline(id, c));
		assert!(matches!(status(id), RequestStatus::Revealing { .. }));
		assert!(matches!(last_event(), Event::RevealPhaseStarted { .. }));
		assert_eq!(assigned(id), vec![a, b]);
		reveal(id, a, &run);
		reveal(id, b, &run);
		let receipt = Receipts::<Test>::get(id).unwrap();
		assert_eq!(receipt.workers.to_vec(), vec![a, b]);
		assert_eq!(receipt.paid, 2 * (PRICE + WORKER_FEE), "two replicas paid");
		assert_eq!(Registry::bond(c), BOND);
		assert_invariants(issuance);
	});
}

#[test]
fn decline_refusals_change_nothing() {
	new_test_ext().execute_with(|| {
		let seed = 4;
		let id = request(ALICE, VerificationMode::Quorum(2), seed);
		let [a, b] = assigned(id)[..] else { panic!() };
		let outsider = WORKERS.into_iter().find(|w| *w != a && *w != b).unwrap();
		assert_noop!(decline(id, outsider), Error::<Test>::NotAssigned);
		assert_noop!(decline(99, a), Error::<Test>::UnknownRequest);
		let run = honest(seed);
		commit(id, a, &run);
		assert_noop!(decline(id, a), Error::<Test>::AlreadyCommitted);
		commit(id, b, &run);
		reveal(id, a, &run);
		assert_eq!(
			Requests::<Test>::get(id).unwrap().assignments[0].state,
			AssignmentState::Submitted
		);
		assert_noop!(decline(id, a), Error::<Test>::AlreadySubmitted);
		reveal(id, b, &run);
		assert_noop!(decline(id, a), Error::<Test>::RequestFinished);
	});
}
