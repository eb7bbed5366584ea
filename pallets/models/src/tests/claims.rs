//! Reports of false claims: a node whose cost or footprint exceeds what the owner claimed is
//! proven with its Merkle proof; the model is deprecated and its deposit slashed.

use super::*;
use crate::{Error, Event, ProvenNode};
use alloc::boxed::Box;
use frame_support::{assert_noop, assert_ok, traits::fungible::Inspect};
use verity_primitives::{
	engine::{exec::node_cost, ir::node_footprint},
	ModelRegistry, ModelStatus,
};

/// `y = relu(x + b)`: the costliest node (the Add, node 0) is not the output, so the chain
/// cannot see at registration that claims sized for the Relu understate it.
fn add_then_relu() -> Program {
	let mut p = program();
	let (relu, mut add) = (p.nodes[0].clone(), p.nodes[1].clone());
	add.inputs[0] = Some(NodeInput {
		source: ValueRef::Input(0),
		ty: ty(),
	});
	let mut relu = relu;
	relu.inputs[0] = Some(NodeInput {
		source: ValueRef::Node { node: 0, output: 0 },
		ty: ty(),
	});
	p.nodes = vec![add, relu];
	p
}

/// Registers [`add_then_relu`] for Alice with the cost claim (`understate_cost`) or the
/// footprint claim sized for the Relu only; returns the id.
fn register_understated(understate_cost: bool) -> u32 {
	let program = add_then_relu();
	let mut registration = registration();
	let honest = ModelRegistration::for_program(
		&program,
		onnx_hash(),
		1,
		PRICE,
		ModeSet::ALL,
		registration.bytes.take(),
		None,
	)
	.unwrap();
	let mut registration = honest;
	let relu = &program.nodes[1];
	assert!(node_cost(&program.nodes[0]) > node_cost(relu));
	assert!(node_footprint(&program.nodes[0]) > node_footprint(relu));
	if understate_cost {
		registration.max_node_cost = node_cost(relu);
	} else {
		registration.max_node_footprint = node_footprint(relu);
	}
	assert_ok!(Models::register_model(
		RuntimeOrigin::signed(ALICE),
		Box::new(registration)
	));
	crate::NextModelId::<Test>::get() - 1
}

/// Node `index` of [`add_then_relu`] with its proof.
fn proven(index: u32) -> Box<ProvenNode> {
	let program = add_then_relu();
	Box::new(ProvenNode {
		node: program.nodes[index as usize].clone(),
		proof: ModelTree::new(&program).node_proof(index).unwrap(),
	})
}

const CHARLIE_START: Balance = 0;

#[test]
fn an_understated_cost_is_proven_and_the_deposit_slashed() {
	new_test_ext().execute_with(|| {
		let id = register_understated(true);
		let deposit = held(&ALICE);
		let (issuance, bob) = (Balances::total_issuance(), Balances::balance(&BOB));
		assert_ok!(Models::report_false_claim(
			RuntimeOrigin::signed(BOB),
			id,
			0,
			proven(0)
		));
		let reward = deposit / 2;
		assert_eq!(held(&ALICE), 0);
		assert_eq!(Balances::balance(&BOB), bob + reward);
		assert_eq!(Balances::total_issuance(), issuance - (deposit - reward));
		let info = crate::Models::<Test>::get(id).unwrap();
		assert_eq!(info.status, ModelStatus::Deprecated);
		assert_eq!(info.deposit, 0);
		System::assert_last_event(
			Event::FalseClaimProven {
				id,
				node: 0,
				reporter: BOB,
				reward,
				burned: deposit - reward,
			}
			.into(),
		);
		// No new requests; the owner can still remove the model, and gets nothing back.
		assert_noop!(
			<Models as ModelRegistry<_, _, _>>::request_opened(id),
			Error::<Test>::ModelDeprecated
		);
		assert_ok!(Models::remove_model(RuntimeOrigin::signed(ALICE), id));
		assert_eq!(Balances::total_issuance(), issuance - (deposit - reward));
	});
}

#[test]
fn an_understated_footprint_is_proven_alone() {
	new_test_ext().execute_with(|| {
		let id = register_understated(false);
		assert_ok!(Models::report_false_claim(
			RuntimeOrigin::signed(BOB),
			id,
			0,
			proven(0)
		));
		assert_eq!(crate::Models::<Test>::get(id).unwrap().deposit, 0);
	});
}

#[test]
fn an_owner_reporting_itself_still_loses_the_burned_half() {
	new_test_ext().execute_with(|| {
		let id = register_understated(true);
		let deposit = held(&ALICE);
		let alice = Balances::balance(&ALICE);
		assert_ok!(Models::report_false_claim(
			RuntimeOrigin::signed(ALICE),
			id,
			0,
			proven(0)
		));
		// The released half is Alice's again; the burned half is gone.
		assert_eq!(held(&ALICE), 0);
		assert_eq!(Balances::balance(&ALICE), alice + deposit / 2);
	});
}

#[test]
fn a_report_that_proves_nothing_changes_nothing() {
	new_test_ext().execute_with(|| {
		let id = register_understated(true);
		let report = |who: AccountId, id: u32, index: u32, p: Box<ProvenNode>| {
			Models::report_false_claim(RuntimeOrigin::signed(who), id, index, p)
		};
		assert_noop!(report(BOB, 9, 0, proven(0)), Error::<Test>::UnknownModel);
		assert_noop!(report(BOB, id, 2, proven(0)), Error::<Test>::NodeOutOfRange);
		// Node 0's proof offered for index 1, and a node altered after its proof was made.
		assert_noop!(
			report(BOB, id, 1, proven(0)),
			Error::<Test>::InvalidNodeProof
		);
		let mut altered = proven(0);
		altered.node.op = Op::Binary(BinaryOp::Mul);
		assert_noop!(report(BOB, id, 0, altered), Error::<Test>::InvalidNodeProof);
		// The Relu is within the claims.
		assert_noop!(report(BOB, id, 1, proven(1)), Error::<Test>::ClaimsHold);
		// A model with honest claims cannot be reported at all.
		let honest = register_alice();
		let program = program();
		for index in 0..2u32 {
			let node = Box::new(ProvenNode {
				node: program.nodes[index as usize].clone(),
				proof: ModelTree::new(&program).node_proof(index).unwrap(),
			});
			assert_noop!(report(BOB, honest, index, node), Error::<Test>::ClaimsHold);
		}
		// Proof material beyond the bound is refused before any hashing.
		let mut huge = proven(0);
		huge.node.inputs = vec![None; crate::MAX_PROOF_MATERIAL as usize + 1];
		assert_noop!(
			report(BOB, id, 0, huge),
			Error::<Test>::ProofMaterialTooLarge
		);
		// Once slashed, the deposit cannot be slashed again.
		assert_ok!(report(BOB, id, 0, proven(0)));
		assert_noop!(
			report(CHARLIE, id, 0, proven(0)),
			Error::<Test>::DepositAlreadySlashed
		);
		assert_eq!(Balances::balance(&CHARLIE), CHARLIE_START);
	});
}
