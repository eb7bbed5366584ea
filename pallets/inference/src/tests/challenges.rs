//! Fraud proofs with real engine programs: the cheating worker posts a trace that lies at one
//! node (and computes every later node consistently from the lie); the challenger re-executes
//! that node from the model root, the request input and the accused trace.

use super::*;
use crate::{ChallengeWindows, Error, Event, Receipts, Results, TraceLeaves};
use frame_support::{assert_noop, dispatch::Pays};
use verity_engine::{
	ir::{Op, OutputInfo, ValueInfo},
	DType, TensorType,
};
use verity_primitives::{Outcome, RequestStatus, VerificationMode};

type Inputs = ProofInputs;

/// An optimistic request on `seed` whose worker posted `run`; returns (id, worker).
fn optimistic_with(seed: u32, run: &Run) -> (RequestId, AccountId) {
	let id = request(ALICE, VerificationMode::Optimistic, seed);
	let worker = assigned(id)[0];
	submit(id, worker, run);
	(id, worker)
}

#[test]
fn optimistic_fraud_slashes_and_reassigns() {
	for corrupt in 0..4u32 {
		new_test_ext().execute_with(|| {
			let issuance = Balances::total_issuance();
			let seed = 20 + corrupt;
			let (good, bad) = (honest(seed), cheating(seed, corrupt as usize));
			let (id, cheater) = optimistic_with(seed, &bad);
			// The challenger finds the first leaf where its own trace differs.
			let first = good
				.leaves
				.iter()
				.zip(&bad.leaves)
				.position(|(g, b)| g != b)
				.unwrap();
			assert_eq!(first as u32, corrupt);
			let (alice, charlie, protocol) = (free(ALICE), free(CHARLIE), free(PROTOCOL));
			let post =
				challenge(id, CHARLIE, cheater, corrupt, proof(&good, seed, corrupt)).unwrap();
			assert_eq!(post.pays_fee, Pays::No);
			assert!(inference_events().contains(&Event::FraudProven {
				id,
				worker: cheater,
				challenger: CHARLIE,
				node: corrupt,
				slashed: FRAUD_SLASH,
				to_requester: 50,
				to_challenger: 30,
				to_protocol: 20,
			}));
			assert_eq!(
				(free(ALICE), free(CHARLIE), free(PROTOCOL)),
				(alice + 50, charlie + 30, protocol + 20)
			);
			assert_eq!(Registry::bond(cheater), BOND - FRAUD_SLASH);
			assert!(!Results::<Test>::contains_key(id, cheater));
			assert!(!TraceLeaves::<Test>::contains_key(id, cheater));
			// Reassigned to someone else, with a fresh phase.
			let next = assigned(id)[0];
			assert_ne!(next, cheater);
			assert_eq!(
				status(id),
				RequestStatus::Assigned {
					deadline: 1 + RESULT_TIMEOUT
				}
			);
			assert!(Requests::<Test>::get(id).unwrap().missed.contains(&cheater));
			assert_noop!(
				Inference::submit_result(
					RuntimeOrigin::signed(cheater),
					id,
					good.output(),
					good.trace(),
					None
				),
				Error::<Test>::Excluded
			);
			submit(id, next, &good);
			run_to_block(2 + CHALLENGE_PERIOD);
			assert_eq!(
				Receipts::<Test>::get(id).unwrap().workers.to_vec(),
				vec![next]
			);
			assert_invariants(issuance);
		});
	}
}

#[test]
fn optimistic_fraud_late_in_life_refunds_in_full() {
	new_test_ext().execute_with(|| {
		let issuance = Balances::total_issuance();
		let seed = 30;
		let id = request_with_fee(ALICE, VerificationMode::Optimistic, seed, 70);
		// The first worker stays silent and is replaced at block 5; the second cheats at block
		// 8, and the fraud is proven at block 11, when no 3-block phase fits in the lifetime
		// (until block 13) any more.
		run_to_block(2 + RESULT_TIMEOUT);
		let cheater = assigned(id)[0];
		run_to_block(8);
		submit(id, cheater, &cheating(seed, 1));
		run_to_block(11);
		let alice = free(ALICE);
		assert_ok!(challenge(
			id,
			CHARLIE,
			cheater,
			1,
			proof(&honest(seed), seed, 1)
		));
		let receipt = Receipts::<Test>::get(id).unwrap();
		assert_eq!(receipt.outcome, Outcome::Refunded);
		assert_eq!(receipt.paid, 0);
		assert_eq!(free(ALICE), alice + 70 + 50);
		assert_invariants(issuance);
	});
}

#[test]
fn attested_fraud_marks_the_receipt_fraudulent() {
	new_test_ext().execute_with(|| {
		let issuance = Balances::total_issuance();
		let seed = 31;
		let id = request(ALICE, VerificationMode::Attested, seed);
		let cheater = assigned(id)[0];
		let (good, bad) = (honest(seed), cheating(seed, 2));
		submit(id, cheater, &bad);
		assert_eq!(Receipts::<Test>::get(id).unwrap().outcome, Outcome::Settled);
		run_to_block(1 + CHALLENGE_PERIOD);
		let alice = free(ALICE);
		assert_ok!(challenge(id, DAVE, cheater, 2, proof(&good, seed, 2)));
		let receipt = Receipts::<Test>::get(id).unwrap();
		assert_eq!(receipt.outcome, Outcome::Fraudulent);
		assert_eq!(free(ALICE), alice + 50);
		assert_eq!(Registry::bond(cheater), BOND - FRAUD_SLASH);
		assert!(!ChallengeWindows::<Test>::contains_key(id));
		assert!(!TraceLeaves::<Test>::contains_key(id, cheater));
		assert!(!Results::<Test>::contains_key(id, cheater));
		assert_eq!(registry::Models::<Test>::get(0).unwrap().in_flight, 0);
		assert_noop!(
			challenge(id, DAVE, cheater, 2, proof(&good, seed, 2)),
			Error::<Test>::NotChallengeable
		);
		// The window's queue entry is now stale.
		run_to_block(3 + CHALLENGE_PERIOD);
		assert_eq!(
			Receipts::<Test>::get(id).unwrap().outcome,
			Outcome::Fraudulent
		);
		assert_invariants(issuance);
	});
}

#[test]
fn a_challenge_against_an_honest_worker_forfeits_the_bond() {
	new_test_ext().execute_with(|| {
		let issuance = Balances::total_issuance();
		let seed = 32;
		let good = honest(seed);
		let (id, worker) = optimistic_with(seed, &good);
		let (charlie, w) = (free(CHARLIE), free(worker));
		let post = challenge(id, CHARLIE, worker, 3, proof(&good, seed, 3)).unwrap();
		assert_eq!(post.pays_fee, Pays::Yes);
		assert_eq!(
			last_event(),
			Event::ChallengeFailed {
				id,
				worker,
				challenger: CHARLIE,
				node: 3,
				bond: CHALLENGE_BOND
			}
		);
		assert_eq!(free(CHARLIE), charlie - CHALLENGE_BOND);
		assert_eq!(free(worker), w + CHALLENGE_BOND);
		assert_eq!(Registry::bond(worker), BOND);
		assert!(matches!(status(id), RequestStatus::Challengeable { .. }));
		assert_invariants(issuance);
	});
}

#[test]
fn challenges_outside_a_challenge_window_are_refused() {
	new_test_ext().execute_with(|| {
		let seed = 33;
		let good = honest(seed);
		assert_noop!(
			challenge(77, CHARLIE, 10, 0, proof(&good, seed, 0)),
			Error::<Test>::UnknownRequest
		);
		let id = request(ALICE, VerificationMode::Optimistic, seed);
		let worker = assigned(id)[0];
		assert_noop!(
			challenge(id, CHARLIE, worker, 0, proof(&good, seed, 0)),
			Error::<Test>::NotChallengeable
		);
		let quorum = request(ALICE, VerificationMode::Quorum(2), seed);
		assert_noop!(
			challenge(quorum, CHARLIE, worker, 0, proof(&good, seed, 0)),
			Error::<Test>::NotChallengeable
		);
		submit(id, worker, &good);
		let other = *WORKERS.iter().find(|w| **w != worker).unwrap();
		assert_noop!(
			challenge(id, CHARLIE, other, 0, proof(&good, seed, 0)),
			Error::<Test>::NoResult
		);
		// After settlement an optimistic result is final.
		run_to_block(2 + CHALLENGE_PERIOD);
		assert_noop!(
			challenge(id, CHARLIE, worker, 0, proof(&good, seed, 0)),
			Error::<Test>::NotChallengeable
		);
		// An attested receipt after its window.
		let attested = request(ALICE, VerificationMode::Attested, seed);
		let w = assigned(attested)[0];
		submit(attested, w, &cheating(seed, 1));
		run_to_block(System::block_number() + CHALLENGE_PERIOD + 1);
		assert_noop!(
			challenge(attested, CHARLIE, w, 1, proof(&good, seed, 1)),
			Error::<Test>::NotChallengeable
		);
	});
}

#[test]
fn a_challenger_must_afford_the_bond() {
	new_test_ext().execute_with(|| {
		let seed = 34;
		let (good, bad) = (honest(seed), cheating(seed, 1));
		let (id, cheater) = optimistic_with(seed, &bad);
		// A malformed proof fails with its own error, whatever the challenger holds (the bond
		// used to be held first and `InsufficientBond` hid the real error).
		assert_noop!(
			challenge(id, 77, cheater, 2, proof(&good, seed, 1)),
			Error::<Test>::InvalidNodeProof
		);
		assert_noop!(
			challenge(id, 77, cheater, 1, proof(&good, seed, 1)),
			Error::<Test>::InsufficientBond
		);
	});
}

#[test]
fn malformed_fraud_proofs_change_nothing() {
	new_test_ext().execute_with(|| {
		let seed = 35;
		let (good, bad) = (honest(seed), cheating(seed, 2));
		let (id, cheater) = optimistic_with(seed, &bad);
		let program = test_program();
		let tree = ModelTree::new(&program);
		let go = |index, p| challenge(id, CHARLIE, cheater, index, p);

		assert_noop!(
			go(4, proof(&good, seed, 3)),
			Error::<Test>::NodeIndexOutOfRange
		);
		// Node 1 with node 2's proof.
		let (n1, _, i1) = proof(&good, seed, 1);
		assert_noop!(
			go(1, (n1.clone(), tree.node_proof(2).unwrap(), i1.clone())),
			Error::<Test>::InvalidNodeProof
		);
		// A node that is not the model's.
		let (mut n2, p2, i2) = proof(&good, seed, 2);
		n2.0.op = Op::Sigmoid;
		assert_noop!(
			go(2, (n2, p2.clone(), i2.clone())),
			Error::<Test>::InvalidNodeProof
		);

		let mut fewer = i1.clone();
		fewer.pop();
		assert_noop!(
			go(1, (n1.clone(), tree.node_proof(1).unwrap(), fewer)),
			Error::<Test>::ProofInputCountMismatch
		);
		let mut absent = i1.clone();
		absent[1] = None;
		assert_noop!(
			go(1, (n1.clone(), tree.node_proof(1).unwrap(), absent)),
			Error::<Test>::ProofInputPresenceMismatch
		);
		let mut mistyped = i1.clone();
		mistyped[1] = Some(ProofInput(ProvenTensor {
			tensor: Tensor::from_f32(&[3], vec![0.0; 3]).unwrap(),
			weight_proof: tree.weight_proof(1),
		}));
		assert_noop!(
			go(1, (n1.clone(), tree.node_proof(1).unwrap(), mistyped)),
			Error::<Test>::ProofInputTypeMismatch
		);
		// Weight b with weight W's proof, without a proof, and a different b.
		let mut wrong_proof = i1.clone();
		wrong_proof[1].as_mut().unwrap().0.weight_proof = tree.weight_proof(0);
		assert_noop!(
			go(1, (n1.clone(), tree.node_proof(1).unwrap(), wrong_proof)),
			Error::<Test>::InvalidWeightProof
		);
		let mut no_proof = i1.clone();
		no_proof[1].as_mut().unwrap().0.weight_proof = None;
		assert_noop!(
			go(1, (n1.clone(), tree.node_proof(1).unwrap(), no_proof)),
			Error::<Test>::InvalidWeightProof
		);
		let mut other_b = i1.clone();
		other_b[1].as_mut().unwrap().0.tensor = Tensor::from_f32(&[1, 3], vec![9.0; 3]).unwrap();
		assert_noop!(
			go(1, (n1.clone(), tree.node_proof(1).unwrap(), other_b)),
			Error::<Test>::InvalidWeightProof
		);
		// Node 0 on an input that is not the request's.
		let (n0, p0, mut i0) = proof(&good, seed, 0);
		i0[0].as_mut().unwrap().0.tensor = input_tensor(seed + 1);
		assert_noop!(go(0, (n0, p0, i0)), Error::<Test>::RequestInputMismatch);
		// Node 1 on an earlier output the accused trace does not have.
		let (n1, p1, mut i1) = proof(&good, seed, 1);
		i1[0].as_mut().unwrap().0.tensor = Tensor::from_f32(&[1, 3], vec![0.5; 3]).unwrap();
		assert_noop!(go(1, (n1, p1, i1)), Error::<Test>::TraceLeafMismatch);
		assert_eq!(Registry::bond(cheater), BOND);
		assert!(matches!(status(id), RequestStatus::Challengeable { .. }));
	});
}

/// A model no honest compiler emits, to reach the adjudicator's structural checks: node 0
/// declares two outputs, node 1 reads its own output.
fn malformed_program() -> Program {
	let mut p = Program::new();
	let ty = TensorType::new(DType::F32, &[1, 4]);
	p.inputs.push(ValueInfo {
		name: "x".into(),
		ty: ty.clone(),
	});
	let read = |source| {
		Some(verity_engine::ir::NodeInput {
			source,
			ty: ty.clone(),
		})
	};
	p.nodes.push(verity_engine::ir::Node {
		op: Op::Relu,
		inputs: vec![read(ValueRef::Input(0))],
		outputs: vec![ty.clone(), ty.clone()],
	});
	p.nodes.push(verity_engine::ir::Node {
		op: Op::Relu,
		inputs: vec![read(ValueRef::Node { node: 1, output: 0 })],
		outputs: vec![ty.clone()],
	});
	p.outputs.push(OutputInfo {
		name: "y".into(),
		source: ValueRef::Node { node: 1, output: 0 },
	});
	p
}

/// A model that gathers rows of a weight with indices from the request: out-of-range indices
/// make the node fail to execute.
fn gather_program() -> Program {
	let mut p = Program::new();
	p.inputs.push(ValueInfo {
		name: "idx".into(),
		ty: TensorType::new(DType::I64, &[2]),
	});
	p.weights
		.push(Tensor::from_f32(&[3, 2], vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]).unwrap());
	let out = push_node(
		&mut p,
		Op::Gather { axis: 0 },
		&[ValueRef::Weight(0), ValueRef::Input(0)],
	);
	p.outputs.push(OutputInfo {
		name: "rows".into(),
		source: out,
	});
	p.validate().expect("valid");
	p
}

/// Registers `program`, requests it optimistically on `input` and has the worker post
/// `leaves` with `output`. Returns (request, worker).
fn serve_custom(
	program: &Program,
	input: Tensor,
	output: Tensor,
	leaves: Vec<H256>,
) -> (RequestId, AccountId) {
	let model = Registry::add_model(model_info(program));
	let id = crate::NextRequestId::<Test>::get();
	assert_ok!(Inference::request_inference(
		RuntimeOrigin::signed(ALICE),
		model,
		encode_tensors(&[input]),
		VerificationMode::Optimistic,
		100,
	));
	let worker = assigned(id)[0];
	assert_ok!(Inference::submit_result(
		RuntimeOrigin::signed(worker),
		id,
		encode_tensors(&[output]),
		leaves.try_into().unwrap(),
		None,
	));
	(id, worker)
}

#[test]
fn structurally_invalid_nodes_cannot_be_adjudicated() {
	new_test_ext().execute_with(|| {
		let program = malformed_program();
		let tree = ModelTree::new(&program);
		let x = input_tensor(1);
		let out = Tensor::from_f32(&[1, 4], vec![7.0; 4]).unwrap();
		let leaves = vec![H256(tensor_hash(&x)), H256(tensor_hash(&out))];
		let (id, worker) = serve_custom(&program, x.clone(), out.clone(), leaves);
		let whole = |t: Tensor| {
			Some(ProofInput(ProvenTensor {
				tensor: t,
				weight_proof: None,
			}))
		};
		let at = |i: u32, input: Tensor| {
			(
				ProofNode(program.nodes[i as usize].clone()),
				tree.node_proof(i).unwrap(),
				Inputs::truncate_from(vec![whole(input)]),
			)
		};
		assert_noop!(
			challenge(id, CHARLIE, worker, 0, at(0, x.clone())),
			Error::<Test>::NotSingleOutput
		);
		assert_noop!(
			challenge(id, CHARLIE, worker, 1, at(1, x)),
			Error::<Test>::InvalidInputSource
		);
	});
}

#[test]
fn a_leaf_for_a_node_that_cannot_execute_is_proven_wrong() {
	// The Gather index 7 is out of range: the worker's leaf claims an output for a node that
	// fails on these inputs. (Before failures were verdicts, this proof was rejected with
	// `NodeExecutionFailed` and such a worker could not be slashed.)
	new_test_ext().execute_with(|| {
		let program = gather_program();
		let tree = ModelTree::new(&program);
		let idx = Tensor::from_i64(&[2], vec![0, 7]).unwrap();
		let out = Tensor::from_f32(&[2, 2], vec![1.0, 2.0, 0.0, 0.0]).unwrap();
		let (id, worker) = serve_custom(
			&program,
			idx.clone(),
			out.clone(),
			vec![H256(tensor_hash(&out))],
		);
		let inputs = vec![
			Some(ProofInput(ProvenTensor {
				tensor: program.weights[0].clone(),
				weight_proof: tree.weight_proof(0),
			})),
			Some(ProofInput(ProvenTensor {
				tensor: idx,
				weight_proof: None,
			})),
		];
		let bond = Registry::bond(worker);
		let post = challenge(
			id,
			CHARLIE,
			worker,
			0,
			(
				ProofNode(program.nodes[0].clone()),
				tree.node_proof(0).unwrap(),
				inputs.try_into().unwrap(),
			),
		)
		.unwrap();
		assert_eq!(post.pays_fee, Pays::No);
		assert_eq!(Registry::bond(worker), bond - FRAUD_SLASH);
	});
}

#[test]
fn challenge_weight_grows_with_the_node() {
	let program = test_program();
	let w = |i: usize| Inference::challenge_weight(&program.nodes[i]);
	// MatMul [1,4]x[4,3] costs more than Relu on [1,3].
	assert!(w(0).ref_time() > w(2).ref_time());
	assert_eq!(
		crate::node_cost_in_units(&program.nodes[0]),
		verity_engine::node_cost(&program.nodes[0]) as u32
	);
}

#[test]
fn max_challengeable_cost_is_the_largest_cost_that_fits() {
	let program = test_program();
	let limit = Inference::challenge_weight(&program.nodes[0]);
	let cost = verity_engine::node_cost(&program.nodes[0]);
	// The weight is affine in the cost with a positive slope: the MatMul's own cost is the
	// largest that fits its weight, one more unit does not fit.
	assert_eq!(Inference::max_challengeable_cost(limit), cost);
	assert_eq!(
		Inference::max_challengeable_cost(
			limit.saturating_sub(frame_support::weights::Weight::from_parts(1, 0))
		),
		cost - 1
	);
	// Below a free node's weight nothing fits; with no limit everything does.
	assert_eq!(
		Inference::max_challengeable_cost(frame_support::weights::Weight::zero()),
		0
	);
	assert_eq!(
		Inference::max_challengeable_cost(frame_support::weights::Weight::MAX),
		u32::MAX as u64
	);
}
