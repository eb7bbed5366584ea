//! Worker calls: authorized by the worker key's signature, refused when expired, mis-signed,
//! stale or replayed, and dispatched exactly like the account-signed calls they stand for.

use super::worker_call::{authorize, dispatch, pair_of};
use super::*;
use crate::{AuditChallenges, Call, Error, WorkerAction};
use frame_support::{assert_noop, pallet_prelude::*};
use sp_core::{sr25519, Pair};
use verity_primitives::{
	crypto::{WorkerPublic, WorkerSignature},
	Outcome,
};

type Action = WorkerAction<Test>;

/// Registers a key for every mock worker (and for the challengers).
fn give_keys() {
	for who in WORKERS.into_iter().chain([CHARLIE, DAVE]) {
		registry::Pallet::<Test>::set_key(who, WorkerPublic::from(pair_of(who).public()));
	}
}

/// `action` as `who`'s worker call valid until `valid_until`, signed by `signer`.
fn signed_call(
	who: AccountId,
	action: Action,
	valid_until: BlockNumber,
	signer: &sr25519::Pair,
) -> Call<Test> {
	let payload = Inference::worker_call_payload(&who, &action, valid_until);
	Call::worker_call {
		worker: who,
		action,
		valid_until,
		signature: WorkerSignature::from(signer.sign(&payload)),
	}
}

fn submit_action(id: RequestId, run: &Run, salt: Option<[u8; 32]>) -> Action {
	WorkerAction::Submit {
		request: id,
		output: run.output(),
		trace_leaves: run.trace(),
		salt,
	}
}

#[test]
fn a_signed_result_settles_an_attested_request() {
	new_test_ext().execute_with(|| {
		give_keys();
		let id = request(ALICE, VerificationMode::Attested, 1);
		let worker = assigned(id)[0];
		let call = signed_call(
			worker,
			submit_action(id, &honest(1), None),
			10,
			&pair_of(worker),
		);
		let (validity, _) = authorize(&call).expect("authorized");
		assert_eq!(validity.priority, crate::WORKER_CALL_PRIORITY);
		assert_eq!(validity.provides.len(), 1);
		let post = dispatch(call).expect("dispatched");
		assert_eq!(post.pays_fee, frame_support::dispatch::Pays::No);
		let receipt = crate::Receipts::<Test>::get(id).expect("settled");
		assert_eq!(receipt.outcome, Outcome::Settled);
		assert_eq!(receipt.workers.to_vec(), vec![worker]);
	});
}

#[test]
fn commit_and_reveal_by_worker_calls_settle_a_quorum() {
	new_test_ext().execute_with(|| {
		give_keys();
		let id = request(ALICE, VerificationMode::Quorum(2), 2);
		let run = honest(2);
		let workers = assigned(id);
		for w in &workers {
			let action = WorkerAction::Commit {
				request: id,
				commitment: run.commitment(*w, salt_of(*w)),
			};
			assert_ok!(dispatch(signed_call(*w, action, 10, &pair_of(*w))));
		}
		for w in &workers {
			let action = submit_action(id, &run, Some(salt_of(*w)));
			assert_ok!(dispatch(signed_call(*w, action, 10, &pair_of(*w))));
		}
		assert_eq!(
			crate::Receipts::<Test>::get(id).expect("settled").outcome,
			Outcome::Settled
		);
	});
}

#[test]
fn a_commitment_and_a_reveal_have_different_pool_tags() {
	new_test_ext().execute_with(|| {
		give_keys();
		let id = request(ALICE, VerificationMode::Quorum(2), 3);
		let w = assigned(id)[0];
		let run = honest(3);
		let commit = signed_call(
			w,
			WorkerAction::Commit {
				request: id,
				commitment: run.commitment(w, salt_of(w)),
			},
			10,
			&pair_of(w),
		);
		let reveal = signed_call(
			w,
			submit_action(id, &run, Some(salt_of(w))),
			10,
			&pair_of(w),
		);
		let (a, _) = authorize(&commit).unwrap();
		let (b, _) = authorize(&reveal).unwrap();
		assert_ne!(a.provides, b.provides);
	});
}

#[test]
fn a_wrong_signature_is_refused() {
	new_test_ext().execute_with(|| {
		give_keys();
		let id = request(ALICE, VerificationMode::Attested, 4);
		let worker = assigned(id)[0];
		let other = WORKERS.into_iter().find(|w| *w != worker).unwrap();
		let call = signed_call(
			worker,
			submit_action(id, &honest(4), None),
			10,
			&pair_of(other),
		);
		assert_eq!(authorize(&call), Err(InvalidTransaction::BadProof.into()));
	});
}

#[test]
fn a_signature_over_other_arguments_is_refused() {
	new_test_ext().execute_with(|| {
		give_keys();
		let id = request(ALICE, VerificationMode::Attested, 5);
		let worker = assigned(id)[0];
		let Call::worker_call {
			worker,
			action,
			signature,
			..
		} = signed_call(
			worker,
			submit_action(id, &honest(5), None),
			10,
			&pair_of(worker),
		)
		else {
			unreachable!()
		};
		// The same signature with a later expiry does not verify.
		let call = Call::worker_call {
			worker,
			action,
			valid_until: 11,
			signature,
		};
		assert_eq!(authorize(&call), Err(InvalidTransaction::BadProof.into()));
	});
}

#[test]
fn an_expired_call_is_stale() {
	new_test_ext().execute_with(|| {
		give_keys();
		let id = request(ALICE, VerificationMode::Attested, 6);
		let worker = assigned(id)[0];
		let now = System::block_number();
		let call = signed_call(
			worker,
			submit_action(id, &honest(6), None),
			now - 1,
			&pair_of(worker),
		);
		assert_eq!(authorize(&call), Err(InvalidTransaction::Stale.into()));
	});
}

#[test]
fn an_account_without_a_worker_key_cannot_sign() {
	new_test_ext().execute_with(|| {
		let id = request(ALICE, VerificationMode::Attested, 7);
		let worker = assigned(id)[0];
		let call = signed_call(
			worker,
			submit_action(id, &honest(7), None),
			10,
			&pair_of(worker),
		);
		assert_eq!(authorize(&call), Err(InvalidTransaction::BadSigner.into()));
	});
}

#[test]
fn a_result_for_a_request_the_worker_is_not_assigned_to_is_stale() {
	new_test_ext().execute_with(|| {
		give_keys();
		let id = request(ALICE, VerificationMode::Attested, 8);
		let stranger = WORKERS
			.into_iter()
			.find(|w| !assigned(id).contains(w))
			.unwrap();
		let call = signed_call(
			stranger,
			submit_action(id, &honest(8), None),
			10,
			&pair_of(stranger),
		);
		assert_eq!(authorize(&call), Err(InvalidTransaction::Stale.into()));
		// Once settled, even the assigned worker's call is stale: replays are refused.
		let worker = assigned(id)[0];
		let call = signed_call(
			worker,
			submit_action(id, &honest(8), None),
			10,
			&pair_of(worker),
		);
		assert_ok!(dispatch(call.clone()));
		assert_eq!(authorize(&call), Err(InvalidTransaction::Stale.into()));
	});
}

#[test]
fn only_the_authorized_origin_dispatches_a_worker_call() {
	new_test_ext().execute_with(|| {
		give_keys();
		let id = request(ALICE, VerificationMode::Attested, 9);
		let worker = assigned(id)[0];
		let Call::worker_call {
			worker,
			action,
			valid_until,
			signature,
		} = signed_call(
			worker,
			submit_action(id, &honest(9), None),
			10,
			&pair_of(worker),
		)
		else {
			unreachable!()
		};
		assert_noop!(
			Inference::worker_call(
				RuntimeOrigin::signed(worker),
				worker,
				action,
				valid_until,
				signature
			),
			sp_runtime::DispatchError::BadOrigin
		);
	});
}

#[test]
fn a_dispatch_error_of_the_action_is_the_plain_calls_error() {
	new_test_ext().execute_with(|| {
		give_keys();
		let id = request(ALICE, VerificationMode::Attested, 10);
		let worker = assigned(id)[0];
		// A salt on an attested result: the same error `submit_result` gives.
		let action = submit_action(id, &honest(10), Some([1; 32]));
		let call = signed_call(worker, action, 10, &pair_of(worker));
		assert!(authorize(&call).is_ok());
		assert_eq!(
			dispatch(call).map_err(|e| e.error),
			Err(Error::<Test>::UnexpectedSalt.into())
		);
	});
}

#[test]
fn a_failed_fraud_proof_cannot_be_replayed() {
	new_test_ext().execute_with(|| {
		give_keys();
		let seed = 11;
		let id = request(ALICE, VerificationMode::Optimistic, seed);
		let worker = assigned(id)[0];
		let good = honest(seed);
		submit(id, worker, &good);
		// CHARLIE's "fraud proof" at node 0 against an honest result fails and forfeits its
		// bond to the worker.
		let (node, node_proof, inputs) = proof(&good, seed, 0);
		let action = WorkerAction::Challenge {
			request: id,
			accused: worker,
			node_index: 0,
			node,
			node_proof,
			inputs,
		};
		let call = signed_call(CHARLIE, action, 10, &pair_of(CHARLIE));
		let before = free(CHARLIE);
		assert_ok!(dispatch(call.clone()));
		assert_eq!(free(CHARLIE), before - CHALLENGE_BOND);
		assert!(AuditChallenges::<Test>::contains_key(id, (CHARLIE, worker)));
		// The same signed call again is stale: the bond cannot be taken twice.
		assert_eq!(authorize(&call), Err(InvalidTransaction::Stale.into()));
	});
}

#[test]
fn a_worker_calls_fraud_proof_slashes_a_cheater() {
	new_test_ext().execute_with(|| {
		give_keys();
		let seed = 12;
		let id = request(ALICE, VerificationMode::Optimistic, seed);
		let cheater = assigned(id)[0];
		submit(id, cheater, &cheating(seed, 1));
		let (node, node_proof, inputs) = proof(&honest(seed), seed, 1);
		let action = WorkerAction::Challenge {
			request: id,
			accused: cheater,
			node_index: 1,
			node,
			node_proof,
			inputs,
		};
		let bond = registry::Pallet::<Test>::bond(cheater);
		assert_ok!(dispatch(signed_call(DAVE, action, 10, &pair_of(DAVE))));
		assert_eq!(registry::Pallet::<Test>::bond(cheater), bond - FRAUD_SLASH);
	});
}
