//! `request_inference`: what a request stores and holds, and every way it is refused.

use super::*;
use crate::{Deadlines, Error, Event, NextRequestId, RequestInputs};
use frame_support::{assert_noop, BoundedVec};
use verity_engine::DType;
use verity_primitives::{
	AssignmentState, ModeSet, ModelStatus, OutputSpec, RequestStatus, TensorSpec, VerificationMode,
};

fn try_request(
	who: AccountId,
	model: u32,
	tensors: &[Tensor],
	mode: VerificationMode,
	max_fee: Balance,
) -> sp_runtime::DispatchResult {
	Inference::request_inference(
		RuntimeOrigin::signed(who),
		model,
		encode_tensors(tensors),
		mode,
		max_fee,
	)
}

#[test]
fn request_holds_escrow_stores_input_and_assigns() {
	new_test_ext().execute_with(|| {
		let issuance = Balances::total_issuance();
		let before = free(ALICE);
		assert_ok!(try_request(
			ALICE,
			0,
			&[input_tensor(1)],
			VerificationMode::Attested,
			100
		));
		let request = Requests::<Test>::get(0).unwrap();
		assert_eq!(request.requester, ALICE);
		assert_eq!(request.max_fee, 100);
		assert_eq!(request.fee_per_replica, PRICE + WORKER_FEE);
		assert_eq!(
			request.input_hashes.to_vec(),
			vec![H256(tensor_hash(&input_tensor(1)))]
		);
		assert_eq!(request.assignments.len(), 1);
		assert_eq!(request.assignments[0].state, AssignmentState::Assigned);
		assert!(WORKERS.contains(&request.assignments[0].worker));
		assert_eq!(
			request.status,
			RequestStatus::Assigned {
				deadline: 1 + RESULT_TIMEOUT
			}
		);
		assert_eq!(request.expires_at, 1 + REQUEST_LIFETIME);
		assert_eq!(request.model_root, model_info(&test_program()).model_root);
		assert_eq!(escrowed(ALICE), 100);
		assert_eq!(free(ALICE), before - 100);
		assert_eq!(
			RequestInputs::<Test>::get(0).unwrap().to_vec(),
			vec![input_tensor(1)].encode()
		);
		assert!(Deadlines::<Test>::contains_key(2 + RESULT_TIMEOUT, 0));
		assert_eq!(registry::Models::<Test>::get(0).unwrap().in_flight, 1);
		assert_eq!(NextRequestId::<Test>::get(), 1);
		assert!(matches!(
			last_event(),
			Event::InferenceRequested {
				id: 0,
				requester: ALICE,
				model: 0,
				max_fee: 100,
				deadline: 4,
				..
			}
		));
		assert_invariants(issuance);
	});
}

#[test]
fn quorum_request_assigns_distinct_workers() {
	new_test_ext().execute_with(|| {
		let id = request(ALICE, VerificationMode::Quorum(4), 1);
		let mut workers = assigned(id);
		assert_eq!(workers.len(), 4);
		workers.sort();
		workers.dedup();
		assert_eq!(workers.len(), 4);
		assert_eq!(escrowed(ALICE), 4 * (PRICE + WORKER_FEE));
		assert_eq!(request(BOB, VerificationMode::Optimistic, 2), id + 1);
	});
}

#[test]
fn assignment_follows_the_seed() {
	// Same parent hash, request id and attempt → same workers; the seed is
	// blake2_256(parent_hash ‖ request_id ‖ attempt).
	let draw = |parent: u64| {
		new_test_ext().execute_with(|| {
			System::set_parent_hash(H256::from_low_u64_be(parent));
			let id = request(ALICE, VerificationMode::Quorum(3), 1);
			let seed =
				sp_io::hashing::blake2_256(&(H256::from_low_u64_be(parent), id, 0u32).encode());
			let expected =
				<Registry as verity_primitives::WorkerRegistry<_, _>>::select(&seed, 3, &[]);
			assert_eq!(assigned(id), expected);
			assigned(id)
		})
	};
	assert_eq!(draw(7), draw(7));
}

#[test]
fn unknown_and_inactive_models_are_refused() {
	new_test_ext().execute_with(|| {
		let input = [input_tensor(1)];
		assert_noop!(
			try_request(ALICE, 9, &input, VerificationMode::Attested, 100),
			Error::<Test>::UnknownModel
		);
		registry::Models::<Test>::mutate(0, |m| {
			m.as_mut().unwrap().status = ModelStatus::Deprecated
		});
		assert_noop!(
			try_request(ALICE, 0, &input, VerificationMode::Attested, 100),
			Error::<Test>::ModelNotActive
		);
	});
}

#[test]
fn modes_and_replicas_are_checked() {
	new_test_ext().execute_with(|| {
		let input = [input_tensor(1)];
		registry::Models::<Test>::mutate(0, |m| {
			m.as_mut().unwrap().modes = ModeSet(ModeSet::ATTESTED | ModeSet::QUORUM)
		});
		assert_noop!(
			try_request(ALICE, 0, &input, VerificationMode::Optimistic, 100),
			Error::<Test>::ModeNotAllowed
		);
		assert_noop!(
			try_request(ALICE, 0, &input, VerificationMode::Quorum(0), 100),
			Error::<Test>::InvalidReplicas
		);
		assert_noop!(
			try_request(ALICE, 0, &input, VerificationMode::Quorum(5), 1000),
			Error::<Test>::InvalidReplicas
		);
	});
}

#[test]
fn models_too_large_to_serve_are_refused() {
	new_test_ext().execute_with(|| {
		let input = [input_tensor(1)];
		let mut many_nodes = model_info(&test_program());
		many_nodes.node_count = 65;
		let id = Registry::add_model(many_nodes);
		assert_noop!(
			try_request(ALICE, id, &input, VerificationMode::Attested, 100),
			Error::<Test>::ModelTooManyNodes
		);
		let mut big_output = model_info(&test_program());
		big_output.outputs = vec![OutputSpec {
			node: 3,
			spec: TensorSpec {
				dtype: DType::F32,
				shape: vec![1000u64].try_into().unwrap(),
			},
		}]
		.try_into()
		.unwrap();
		let id = Registry::add_model(big_output);
		assert_noop!(
			try_request(ALICE, id, &input, VerificationMode::Attested, 100),
			Error::<Test>::ModelOutputTooLarge
		);
	});
}

#[test]
fn inputs_must_match_the_model() {
	new_test_ext().execute_with(|| {
		let garbage: BoundedVec<u8, _> = vec![9u8, 9, 9].try_into().unwrap();
		assert_noop!(
			Inference::request_inference(
				RuntimeOrigin::signed(ALICE),
				0,
				garbage,
				VerificationMode::Attested,
				100
			),
			Error::<Test>::InputUndecodable
		);
		let mut trailing = vec![input_tensor(1)].encode();
		trailing.push(0);
		assert_noop!(
			Inference::request_inference(
				RuntimeOrigin::signed(ALICE),
				0,
				trailing.try_into().unwrap(),
				VerificationMode::Attested,
				100
			),
			Error::<Test>::InputUndecodable
		);
		assert_noop!(
			try_request(
				ALICE,
				0,
				&[input_tensor(1), input_tensor(2)],
				VerificationMode::Attested,
				100
			),
			Error::<Test>::InputCountMismatch
		);
		assert_noop!(
			try_request(ALICE, 0, &[], VerificationMode::Attested, 100),
			Error::<Test>::InputCountMismatch
		);
		let wrong_shape = Tensor::from_f32(&[1, 5], vec![0.0; 5]).unwrap();
		assert_noop!(
			try_request(ALICE, 0, &[wrong_shape], VerificationMode::Attested, 100),
			Error::<Test>::InputTypeMismatch
		);
		let wrong_type = Tensor::from_i32(&[1, 4], vec![0; 4]).unwrap();
		assert_noop!(
			try_request(ALICE, 0, &[wrong_type], VerificationMode::Attested, 100),
			Error::<Test>::InputTypeMismatch
		);
	});
}

#[test]
fn fees_are_checked_before_anything_is_held() {
	new_test_ext().execute_with(|| {
		let input = [input_tensor(1)];
		let quote = Inference::quote(0, VerificationMode::Quorum(2)).unwrap();
		assert_eq!(quote, 2 * (PRICE + WORKER_FEE));
		assert_noop!(
			try_request(ALICE, 0, &input, VerificationMode::Quorum(2), quote - 1),
			Error::<Test>::FeeAboveMax
		);
		assert_noop!(
			try_request(ALICE, 0, &input, VerificationMode::Attested, 20_000),
			Error::<Test>::InsufficientBalance
		);
		let mut pricey = model_info(&test_program());
		pricey.price = Balance::MAX - 5;
		let id = Registry::add_model(pricey);
		assert_noop!(
			try_request(ALICE, id, &input, VerificationMode::Attested, Balance::MAX),
			Error::<Test>::FeeOverflow
		);
		let mut half = model_info(&test_program());
		half.price = Balance::MAX / 2;
		let id = Registry::add_model(half);
		assert_noop!(
			try_request(ALICE, id, &input, VerificationMode::Quorum(3), Balance::MAX),
			Error::<Test>::FeeOverflow
		);
		assert_eq!(Inference::quote(id, VerificationMode::Quorum(3)), None);
	});
}

#[test]
fn not_enough_workers() {
	new_test_ext().execute_with(|| {
		for w in &WORKERS[..3] {
			Registry::deactivate(*w);
		}
		assert_noop!(
			try_request(
				ALICE,
				0,
				&[input_tensor(1)],
				VerificationMode::Quorum(4),
				1000
			),
			Error::<Test>::NotEnoughWorkers
		);
		assert_ok!(try_request(
			ALICE,
			0,
			&[input_tensor(1)],
			VerificationMode::Quorum(3),
			1000
		));
	});
}

#[test]
fn a_crowded_deadline_block_refuses_no_request() {
	new_test_ext().execute_with(|| {
		// Three blocks' worth of phase ends at block 5 (MaxDeadlinesPerBlock is 8): the queue
		// has no per-block cap, so every request is taken with its full phase.
		let ids: Vec<RequestId> = (0..24)
			.map(|i| request(ALICE, VerificationMode::Attested, i))
			.collect();
		for id in &ids {
			assert_eq!(status(*id), RequestStatus::Assigned { deadline: 4 });
			assert!(Deadlines::<Test>::contains_key(5, id));
		}
	});
}

#[test]
fn unsigned_origins_are_refused() {
	new_test_ext().execute_with(|| {
		assert_noop!(
			Inference::request_inference(
				RuntimeOrigin::none(),
				0,
				encode_tensors(&[input_tensor(1)]),
				VerificationMode::Attested,
				100
			),
			sp_runtime::DispatchError::BadOrigin
		);
	});
}

#[test]
fn a_model_beyond_the_current_fraud_proof_limits_takes_no_requests() {
	// The limit was lowered (a re-benchmark, an upgrade) below the model's heaviest node: its
	// results could no longer be challenged, so it is neither quoted nor requested. Before,
	// only registration checked the limit.
	new_test_ext().execute_with(|| {
		let heaviest = model_info(&test_program()).max_node_cost;
		MaxNodeCostValue::set(heaviest - 1);
		assert_eq!(Inference::quote(0, VerificationMode::Attested), None);
		assert_noop!(
			try_request(
				ALICE,
				0,
				&[input_tensor(1)],
				VerificationMode::Attested,
				100
			),
			Error::<Test>::ModelBeyondProofLimits
		);
		MaxNodeCostValue::set(heaviest);
		assert_ok!(try_request(
			ALICE,
			0,
			&[input_tensor(1)],
			VerificationMode::Attested,
			100
		));
		MaxNodeCostValue::set(u64::MAX);
	});
}
