//! Tests on the mock runtime, by concern: registration checks, the owner's lifecycle calls,
//! the `ModelRegistry` seam, and genesis.

mod claims;
mod genesis;
mod lifecycle;
mod registration;
mod registry;

use alloc::{string::String, vec, vec::Vec};
use codec::Encode;
use frame_support::{traits::fungible::InspectHold, BoundedVec};
use sp_core::H256;
use verity_primitives::{
	engine::{
		commit::{ModelTree, ProgramHeader},
		ir::{BinaryOp, Node, NodeInput, Op, OutputInfo, Program, ValueInfo, ValueRef},
		DType, Tensor, TensorType, IR_VERSION,
	},
	ModeSet,
};

use crate::{mock::*, HoldReason, ModelRegistration, ModelRegistrationOf};

/// The ONNX bytes of the test model (the pallet only hashes them).
pub fn onnx() -> Vec<u8> {
	b"\x08\x07onnx bytes of y = relu(x) + b".to_vec()
}

/// blake2-256 of [`onnx`].
pub fn onnx_hash() -> H256 {
	H256(sp_io::hashing::blake2_256(&onnx()))
}

/// `F32 [1, 4]`.
pub fn ty() -> TensorType {
	TensorType::new(DType::F32, &[1, 4])
}

/// A valid two-node program: `y = relu(x) + b` with `x: F32 [1, 4]` and one weight `b`.
pub fn program() -> Program {
	Program {
		version: IR_VERSION,
		inputs: vec![ValueInfo {
			name: String::from("x"),
			ty: ty(),
		}],
		outputs: vec![OutputInfo {
			name: String::from("y"),
			source: ValueRef::Node { node: 1, output: 0 },
		}],
		nodes: vec![
			Node {
				op: Op::Relu,
				inputs: vec![Some(NodeInput {
					source: ValueRef::Input(0),
					ty: ty(),
				})],
				outputs: vec![ty()],
			},
			Node {
				op: Op::Binary(BinaryOp::Add),
				inputs: vec![
					Some(NodeInput {
						source: ValueRef::Node { node: 0, output: 0 },
						ty: ty(),
					}),
					Some(NodeInput {
						source: ValueRef::Weight(0),
						ty: ty(),
					}),
				],
				outputs: vec![ty()],
			},
		],
		weights: vec![Tensor::from_f32(&[1, 4], vec![0.5; 4]).unwrap()],
	}
}

/// Price of the test model.
pub const PRICE: Balance = 7;

/// The registration of [`program`] with its bytes on chain.
pub fn registration() -> ModelRegistrationOf<Test> {
	let bytes = BoundedVec::try_from(onnx()).unwrap();
	ModelRegistration::for_program(
		&program(),
		onnx_hash(),
		1,
		PRICE,
		ModeSet::ALL,
		Some(bytes),
		None,
	)
	.unwrap()
}

/// The registration of [`program`] published at a URI.
pub fn uri_registration() -> ModelRegistrationOf<Test> {
	let uri = BoundedVec::try_from(b"ipfs://bafy-test-model".to_vec()).unwrap();
	ModelRegistration::for_program(
		&program(),
		onnx_hash(),
		1,
		PRICE,
		ModeSet::ALL,
		None,
		Some(uri),
	)
	.unwrap()
}

/// Recommits `registration` to `program` (root, header and its proof), keeping its output
/// nodes as they are.
pub fn recommit(registration: &mut ModelRegistrationOf<Test>, program: &Program) {
	let tree = ModelTree::new(program);
	registration.model_root = H256(tree.root());
	registration.header = ProgramHeader::of(program);
	registration.header_proof = tree.header_proof().unwrap();
}

/// The deposit held for a record of `record_len` bytes and `stored` on-chain bytes.
pub fn deposit(stored: usize, record_len: usize) -> Balance {
	DEPOSIT_BASE + DEPOSIT_PER_BYTE * (stored + record_len) as Balance
}

/// What `who` has on hold for model deposits.
pub fn held(who: &AccountId) -> Balance {
	Balances::balance_on_hold(&RuntimeHoldReason::Models(HoldReason::ModelDeposit), who)
}

/// Runs `f` in `ext` and checks that it neither minted nor burned anything.
pub fn run(mut ext: sp_io::TestExternalities, f: impl FnOnce()) {
	ext.execute_with(|| {
		let issuance = Balances::total_issuance();
		f();
		assert_eq!(
			Balances::total_issuance(),
			issuance,
			"total issuance changed"
		);
	});
}

/// Runs `f` on a fresh chain (see [`run`]).
pub fn test(f: impl FnOnce()) {
	run(new_test_ext(), f)
}

/// Registers [`registration`] for Alice and returns the model's id.
pub fn register_alice() -> u32 {
	frame_support::assert_ok!(Models::register_model(
		RuntimeOrigin::signed(ALICE),
		alloc::boxed::Box::new(registration())
	));
	crate::NextModelId::<Test>::get() - 1
}

/// Encoded size of model `id`'s record.
pub fn record_len(id: u32) -> usize {
	crate::Models::<Test>::get(id).unwrap().encoded_size()
}

/// The release profile keeps overflow checks for this crate (`Cargo.toml`): an unchecked
/// overflow fails a test instead of wrapping.
#[test]
#[should_panic(expected = "overflow")]
fn overflow_checks_are_on() {
	let _ = std::hint::black_box(u128::MAX) + 1;
}
