//! Failure results: when the model's execution fails on a request's input (an operator rejects
//! its inputs), the worker posts "failed at node i" with its trace up to i. It settles like any
//! result, and it is fraud-provable both ways: a node that runs proves a false failure wrong, a
//! node that fails proves wrong a trace that has a leaf for it.
//!
//! The model is the mock's `lookup_program`: ids are shifted by one (node 0) and look up table
//! rows (node 1, fails for shifted ids above 3), then `Relu` (node 2).

use super::*;
use crate::{Error, Event, Receipts, Results, TraceLeaves};
use codec::DecodeAll;
use frame_support::{assert_noop, dispatch::Pays};
use verity_engine::{ExecOptions, Prepared};
use verity_primitives::{failure_hash, fraud::Execution, Outcome, RequestStatus, VerificationMode};

type Leaves = BoundedVec<H256, <Test as crate::Config>::MaxNodes>;

/// Ids on which node 1 fails (1 + 7 is past the table's 4 rows).
const FAILING: [i64; 2] = [0, 7];
/// Ids on which every node runs.
const RUNNING: [i64; 2] = [0, 2];

/// The honest execution of the lookup model on `ids`.
fn run(ids: [i64; 2]) -> Execution {
	let prepared = Prepared::new(lookup_program()).unwrap();
	Execution::run(&prepared, &[lookup_input(ids)], &ExecOptions::default()).unwrap()
}

fn leaves(leaves: &[H256]) -> Leaves {
	leaves.to_vec().try_into().unwrap()
}

/// The arguments of an honest fraud proof at node `index` on `ids`.
fn proof_at(ids: [i64; 2], index: u32) -> (ProofNode, MerkleProof, ProofInputs) {
	let program = lookup_program();
	let d = verity_primitives::fraud::proof_material(
		&program,
		&ModelTree::new(&program),
		&[lookup_input(ids)],
		index,
	)
	.unwrap();
	let inputs: Vec<Option<ProofInput>> = d.inputs.into_iter().map(|i| i.map(ProofInput)).collect();
	(ProofNode(d.node), d.node_proof, inputs.try_into().unwrap())
}

fn challenge_at(
	id: RequestId,
	challenger: AccountId,
	worker: AccountId,
	ids: [i64; 2],
	index: u32,
) -> frame_support::dispatch::DispatchResultWithPostInfo {
	challenge(id, challenger, worker, index, proof_at(ids, index))
}

fn post_failure(
	id: RequestId,
	worker: AccountId,
	node: u32,
	trace: &[H256],
	salt: Option<[u8; 32]>,
) {
	assert_ok!(Inference::submit_failure(
		RuntimeOrigin::signed(worker),
		id,
		node,
		leaves(trace),
		salt
	));
}

/// A trace and output that claim node 1 produced a (made-up) row pair on `FAILING`, where it
/// really fails: leaf 0 is honest, leaves 1 and 2 and the output are invented consistently.
fn invented_output() -> (
	BoundedVec<u8, <Test as crate::Config>::MaxOutputBytes>,
	Leaves,
) {
	let honest = run(FAILING);
	let rows = Tensor::from_f32(&[2, 3], vec![0.5, 0.0, 0.25, 1.5, 0.75, 0.0]).unwrap();
	let mut trace = honest.leaves.clone();
	trace.push(H256(tensor_hash(&rows)));
	trace.push(H256(tensor_hash(&rows)));
	(encode_tensors(&[rows]), leaves(&trace))
}

#[test]
fn execution_fails_where_the_lookup_model_says() {
	let failed = run(FAILING);
	assert_eq!(failed.failed_at, Some(1));
	assert_eq!(failed.leaves.len(), 1, "the trace up to the failed node");
	assert!(failed.outputs.is_empty());
	let ran = run(RUNNING);
	assert_eq!((ran.failed_at, ran.leaves.len()), (None, 3));
}

#[test]
fn an_honest_failure_settles_attested_and_the_requester_pays_for_the_work() {
	new_test_ext().execute_with(|| {
		let issuance = Balances::total_issuance();
		let model = lookup_model();
		let fee = Inference::quote(model, VerificationMode::Attested).unwrap();
		let (alice, owner) = (free(ALICE), free(OWNER));
		let id = request_lookup(ALICE, model, VerificationMode::Attested, FAILING);
		let worker = assigned(id)[0];
		let (bond, worker_free) = (registry::Pallet::<Test>::bond(worker), free(worker));
		let failed = run(FAILING);
		post_failure(id, worker, 1, &failed.leaves, None);

		let receipt = Receipts::<Test>::get(id).expect("settled");
		assert_eq!(receipt.outcome, Outcome::ExecutionFailed { node: 1 });
		assert_eq!(receipt.output_hash, failure_hash(1));
		assert_eq!(receipt.paid, fee);
		assert_eq!(free(ALICE), alice - fee);
		assert_eq!(free(OWNER), owner + PRICE);
		assert!(free(worker) > worker_free, "the worker is paid");
		assert_eq!(registry::Pallet::<Test>::bond(worker), bond);
		let result = Results::<Test>::get(id, worker).unwrap();
		assert_eq!(result.failed_at, Some(1));
		assert!(result.output.is_empty());
		assert!(inference_events().iter().any(|e| matches!(
			e,
			Event::Settled { id: i, failed_at: Some(1), .. } if *i == id
		)));
		// The receipt stays challengeable, and an honest failure survives a challenge.
		let charlie = free(CHARLIE);
		let post = challenge_at(id, CHARLIE, worker, FAILING, 1).unwrap();
		assert_eq!(post.pays_fee, Pays::Yes);
		assert_eq!(free(CHARLIE), charlie - CHALLENGE_BOND);
		assert_eq!(registry::Pallet::<Test>::bond(worker), bond);
		assert_eq!(
			Receipts::<Test>::get(id).unwrap().outcome,
			Outcome::ExecutionFailed { node: 1 }
		);
		assert_invariants(issuance);
	});
}

#[test]
fn a_failure_result_is_checked_and_a_bad_one_changes_nothing() {
	new_test_ext().execute_with(|| {
		let model = lookup_model();
		let id = request_lookup(ALICE, model, VerificationMode::Optimistic, FAILING);
		let worker = assigned(id)[0];
		let failed = run(FAILING);
		let submit = |who, node, trace: &[H256], salt| {
			Inference::submit_failure(RuntimeOrigin::signed(who), id, node, leaves(trace), salt)
		};
		assert_noop!(
			submit(worker, 3, &[], None),
			Error::<Test>::NodeIndexOutOfRange
		);
		assert_noop!(
			submit(worker, 1, &[], None),
			Error::<Test>::LeafCountMismatch
		);
		assert_noop!(
			submit(worker, 0, &failed.leaves, None),
			Error::<Test>::LeafCountMismatch
		);
		assert_noop!(
			submit(worker, 1, &failed.leaves, Some([0; 32])),
			Error::<Test>::UnexpectedSalt
		);
		let other = WORKERS.into_iter().find(|w| *w != worker).unwrap();
		assert_noop!(
			submit(other, 1, &failed.leaves, None),
			Error::<Test>::NotAssigned
		);
		assert_noop!(
			Inference::submit_failure(RuntimeOrigin::signed(worker), 99, 1, leaves(&[]), None),
			Error::<Test>::UnknownRequest
		);
		post_failure(id, worker, 1, &failed.leaves, None);
		assert!(matches!(status(id), RequestStatus::Challengeable { .. }));
		assert_noop!(
			submit(worker, 1, &failed.leaves, None),
			Error::<Test>::AlreadySubmitted
		);
		// An output and a failure are one result: after the failure no output is taken.
		let ran = run(RUNNING);
		assert_noop!(
			Inference::submit_result(
				RuntimeOrigin::signed(worker),
				id,
				encode_tensors(&ran.outputs),
				leaves(&ran.leaves),
				None
			),
			Error::<Test>::AlreadySubmitted
		);
	});
}

#[test]
fn an_optimistic_failure_settles_after_its_challenge_period() {
	new_test_ext().execute_with(|| {
		let issuance = Balances::total_issuance();
		let model = lookup_model();
		let id = request_lookup(ALICE, model, VerificationMode::Optimistic, FAILING);
		let worker = assigned(id)[0];
		post_failure(id, worker, 1, &run(FAILING).leaves, None);
		let RequestStatus::Challengeable { until } = status(id) else {
			panic!("challengeable")
		};
		run_to_block(until + 1);
		let receipt = Receipts::<Test>::get(id).expect("settled");
		assert_eq!(receipt.outcome, Outcome::ExecutionFailed { node: 1 });
		assert!(TraceLeaves::<Test>::get(id, worker).is_none());
		assert_invariants(issuance);
	});
}

#[test]
fn a_false_failure_is_proven_wrong_by_the_node_running() {
	// The input runs, but the worker claims node 1 (or node 0) fails: re-executing that node on
	// proven inputs shows it runs.
	for node in [0u32, 1] {
		new_test_ext().execute_with(|| {
			let issuance = Balances::total_issuance();
			let model = lookup_model();
			let id = request_lookup(ALICE, model, VerificationMode::Optimistic, RUNNING);
			let liar = assigned(id)[0];
			let bond = registry::Pallet::<Test>::bond(liar);
			let ran = run(RUNNING);
			post_failure(id, liar, node, &ran.leaves[..node as usize], None);
			let post = challenge_at(id, CHARLIE, liar, RUNNING, node).unwrap();
			assert_eq!(post.pays_fee, Pays::No);
			assert_eq!(registry::Pallet::<Test>::bond(liar), bond - FRAUD_SLASH);
			assert!(inference_events().iter().any(|e| matches!(
				e,
				Event::FraudProven { worker, node: n, .. } if *worker == liar && *n == node
			)));
			assert!(!assigned(id).contains(&liar), "reassigned");
			assert_invariants(issuance);
		});
	}
}

#[test]
fn a_trace_through_a_failing_node_is_proven_wrong_by_the_node_failing() {
	// Before failures were verdicts, this proof was rejected (`NodeExecutionFailed`) and a
	// worker inventing an output where execution fails could not be slashed.
	new_test_ext().execute_with(|| {
		let issuance = Balances::total_issuance();
		let model = lookup_model();
		let id = request_lookup(ALICE, model, VerificationMode::Attested, FAILING);
		let liar = assigned(id)[0];
		let bond = registry::Pallet::<Test>::bond(liar);
		let (output, trace) = invented_output();
		assert_ok!(Inference::submit_result(
			RuntimeOrigin::signed(liar),
			id,
			output,
			trace,
			None
		));
		assert_eq!(Receipts::<Test>::get(id).unwrap().outcome, Outcome::Settled);
		let alice = free(ALICE);
		let post = challenge_at(id, CHARLIE, liar, FAILING, 1).unwrap();
		assert_eq!(post.pays_fee, Pays::No);
		assert_eq!(registry::Pallet::<Test>::bond(liar), bond - FRAUD_SLASH);
		assert_eq!(
			Receipts::<Test>::get(id).unwrap().outcome,
			Outcome::Fraudulent
		);
		assert!(free(ALICE) > alice, "the requester is compensated");
		assert_eq!(
			registry::Served::<Test>::get(liar),
			0,
			"a fraudulent result never counts as served"
		);
		assert_invariants(issuance);
	});
}

#[test]
fn a_failure_claimed_after_a_failing_node_is_proven_wrong_at_that_node() {
	// A worker claims node 1 ran and node 2 (Relu, which cannot fail) failed: the proof at
	// node 1 shows the earlier leaf is wrong.
	new_test_ext().execute_with(|| {
		let model = lookup_model();
		let id = request_lookup(ALICE, model, VerificationMode::Optimistic, FAILING);
		let liar = assigned(id)[0];
		let bond = registry::Pallet::<Test>::bond(liar);
		let (_, trace) = invented_output();
		post_failure(id, liar, 2, &trace[..2], None);
		assert_ok!(challenge_at(id, CHARLIE, liar, FAILING, 1));
		assert_eq!(registry::Pallet::<Test>::bond(liar), bond - FRAUD_SLASH);
	});
}

#[test]
fn a_unanimous_quorum_of_failures_settles_as_a_failure() {
	new_test_ext().execute_with(|| {
		let issuance = Balances::total_issuance();
		let model = lookup_model();
		let id = request_lookup(ALICE, model, VerificationMode::Quorum(2), FAILING);
		let failed = run(FAILING);
		let trace_root = H256(verity_engine::commit::merkle_root(
			&failed.leaves.iter().map(|l| l.0).collect::<Vec<_>>(),
		));
		for w in assigned(id) {
			let commitment = result_commitment(&failure_hash(1), &trace_root, &w, &salt_of(w));
			assert_ok!(Inference::commit_result(
				RuntimeOrigin::signed(w),
				id,
				commitment
			));
		}
		for w in assigned(id) {
			post_failure(id, w, 1, &failed.leaves, Some(salt_of(w)));
		}
		let receipt = Receipts::<Test>::get(id).expect("settled");
		assert_eq!(receipt.outcome, Outcome::ExecutionFailed { node: 1 });
		assert_eq!(receipt.workers.len(), 2);
		assert_invariants(issuance);
	});
}

#[test]
fn a_quorum_split_between_a_failure_and_an_invented_output_is_decided_at_the_failing_node() {
	new_test_ext().execute_with(|| {
		let issuance = Balances::total_issuance();
		let model = lookup_model();
		let id = request_lookup(ALICE, model, VerificationMode::Quorum(2), FAILING);
		let workers = assigned(id);
		let (honest_worker, liar) = (workers[0], workers[1]);
		let failed = run(FAILING);
		let raw = |l: &[H256]| l.iter().map(|h| h.0).collect::<Vec<_>>();
		let failure_root = H256(verity_engine::commit::merkle_root(&raw(&failed.leaves)));
		let (output, trace) = invented_output();
		let rows = Vec::<Tensor>::decode_all(&mut &output[..]).unwrap();
		let liar_hash = verity_primitives::io_hash(&[H256(tensor_hash(&rows[0]))]);
		let liar_root = H256(verity_engine::commit::merkle_root(&raw(&trace)));
		assert_ok!(Inference::commit_result(
			RuntimeOrigin::signed(honest_worker),
			id,
			result_commitment(
				&failure_hash(1),
				&failure_root,
				&honest_worker,
				&salt_of(honest_worker)
			),
		));
		assert_ok!(Inference::commit_result(
			RuntimeOrigin::signed(liar),
			id,
			result_commitment(&liar_hash, &liar_root, &liar, &salt_of(liar)),
		));
		post_failure(
			id,
			honest_worker,
			1,
			&failed.leaves,
			Some(salt_of(honest_worker)),
		);
		assert_ok!(Inference::submit_result(
			RuntimeOrigin::signed(liar),
			id,
			output,
			trace,
			Some(salt_of(liar))
		));
		assert!(matches!(
			status(id),
			RequestStatus::Disputed { leaf: 1, .. }
		));
		let (honest_bond, liar_bond) = (
			registry::Pallet::<Test>::bond(honest_worker),
			registry::Pallet::<Test>::bond(liar),
		);
		// The proof's inputs come from the accused's trace; either worker can be named.
		assert_ok!(challenge_at(id, CHARLIE, liar, FAILING, 1));
		assert_eq!(
			registry::Pallet::<Test>::bond(liar),
			liar_bond - FRAUD_SLASH
		);
		assert_eq!(registry::Pallet::<Test>::bond(honest_worker), honest_bond);
		// The failure is the one reveal left: challengeable, then settled.
		let RequestStatus::Challengeable { until } = status(id) else {
			panic!("challengeable")
		};
		run_to_block(until + 1);
		let receipt = Receipts::<Test>::get(id).expect("settled");
		assert_eq!(receipt.outcome, Outcome::ExecutionFailed { node: 1 });
		assert_eq!(receipt.workers.to_vec(), vec![honest_worker]);
		assert_invariants(issuance);
	});
}

#[test]
fn a_failure_result_is_pruned_after_the_retention_like_an_output() {
	new_test_ext().execute_with(|| {
		let issuance = Balances::total_issuance();
		let id = request_lookup(ALICE, lookup_model(), VerificationMode::Attested, FAILING);
		let worker = assigned(id)[0];
		post_failure(id, worker, 1, &run(FAILING).leaves, None);
		let receipt = Receipts::<Test>::get(id).unwrap();
		run_to_block(receipt.challengeable_until + RESULT_RETENTION);
		assert!(Results::<Test>::contains_key(id, worker));
		run_to_block(receipt.challengeable_until + RESULT_RETENTION + 1);
		assert!(!Results::<Test>::contains_key(id, worker));
		assert_eq!(Receipts::<Test>::get(id), Some(receipt));
		assert_invariants(issuance);
	});
}
