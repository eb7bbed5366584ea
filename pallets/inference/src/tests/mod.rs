//! Tests, split by concern, and the fixtures they share: honest and cheating executions of the
//! test program with the real engine, fraud-proof construction, and the money invariants.

mod challenges;
mod declines;
mod escrow;
mod exposure;
mod failures;
mod modes;
mod offchain;
mod property;
mod quorum;
mod requests;
mod retention;
mod settlement;
mod timeouts;
mod worker_calls;

/// Worker calls as the transaction pool and block import see them.
pub mod worker_call {
	use super::*;
	use crate::Call;
	use frame_support::pallet_prelude::*;
	use sp_core::{sr25519, Pair};

	/// The key pair of worker account `who` in these tests.
	pub fn pair_of(who: AccountId) -> sr25519::Pair {
		sr25519::Pair::from_string(&format!("//worker{who}"), None).expect("a dev seed")
	}

	/// The call's authorization (what the transaction pool and block import check).
	pub fn authorize(call: &Call<Test>) -> TransactionValidityWithRefund {
		use frame_support::traits::Authorize;
		call.authorize(TransactionSource::External)
			.expect("worker calls are authorizable")
	}

	/// Authorizes and dispatches `call` as the `AuthorizeCall` extension would.
	pub fn dispatch(call: Call<Test>) -> DispatchResultWithPostInfo {
		authorize(&call).expect("authorized");
		let Call::worker_call {
			worker,
			action,
			valid_until,
			signature,
		} = call
		else {
			unreachable!("not a worker call")
		};
		crate::Pallet::<Test>::worker_call(
			frame_system::RawOrigin::Authorized.into(),
			worker,
			action,
			valid_until,
			signature,
		)
	}
}

use codec::Encode;
use frame_support::{
	assert_ok,
	traits::{fungible::InspectHold, tokens::fungible::Inspect},
	BoundedVec,
};
use sp_core::H256;
use verity_engine::{
	exec::execute_node,
	ir::{Program, ValueRef},
	tensor_hash, MerkleProof, ModelTree, Tensor,
};
use verity_primitives::{
	result_commitment, ProvenTensor, RequestId, RequestStatus, VerificationMode,
};

use crate::{mock::*, HoldReason, ProofInput, ProofNode, Requests};

/// The request input tensor `[1, 4]` for a seed.
pub fn input_tensor(seed: u32) -> Tensor {
	let s = seed as f32;
	Tensor::from_f32(&[1, 4], vec![0.5 + s, -1.25 + 0.5 * s, 2.0 - s, 0.75 * s]).unwrap()
}

/// SCALE `Vec<Tensor>` of `tensors`, as a call argument.
pub fn encode_tensors<S: frame_support::traits::Get<u32>>(tensors: &[Tensor]) -> BoundedVec<u8, S> {
	tensors.to_vec().encode().try_into().expect("fits")
}

/// One execution of the test program: every node's output tensor and the trace leaves.
#[derive(Clone, Debug)]
pub struct Run {
	/// Output of each node, in node order.
	pub values: Vec<Tensor>,
	/// Tensor hash of each node's output.
	pub leaves: Vec<H256>,
	/// The program outputs.
	pub outputs: Vec<Tensor>,
	/// A failure result: the node execution (claims to have) failed at; `leaves` then ends
	/// before it and `outputs` is empty.
	pub failed_at: Option<u32>,
}

/// Runs `program` node by node on `input`. With `corrupt = Some((i, delta))`, `delta` is added
/// to the first element of node `i`'s output and every later node computes on the perturbed
/// value (a consistent lie).
pub fn execute(program: &Program, input: &Tensor, corrupt: Option<(usize, f32)>) -> Run {
	let mut values: Vec<Tensor> = Vec::new();
	for (i, node) in program.nodes.iter().enumerate() {
		let args: Vec<Option<&Tensor>> = node
			.inputs
			.iter()
			.map(|inp| {
				inp.as_ref().map(|inp| match inp.source {
					ValueRef::Input(_) => input,
					ValueRef::Weight(j) => &program.weights[j as usize],
					ValueRef::Node { node, .. } => &values[node as usize],
				})
			})
			.collect();
		let mut out = execute_node(node, &args).expect("node runs").remove(0);
		if let Some((_, delta)) = corrupt.filter(|(node, _)| *node == i) {
			let mut data = out.as_f32().unwrap().to_vec();
			data[0] += delta;
			out = Tensor::from_f32(out.shape(), data).unwrap();
		}
		values.push(out);
	}
	let leaves = values.iter().map(|t| H256(tensor_hash(t))).collect();
	let outputs = program
		.outputs
		.iter()
		.map(|o| match o.source {
			ValueRef::Node { node, .. } => values[node as usize].clone(),
			_ => unreachable!(),
		})
		.collect();
	Run {
		values,
		leaves,
		outputs,
		failed_at: None,
	}
}

/// The honest run of the test program on `input_tensor(seed)`.
pub fn honest(seed: u32) -> Run {
	execute(&test_program(), &input_tensor(seed), None)
}

/// A run on `input_tensor(seed)` that lies from node `node` on.
pub fn cheating(seed: u32, node: usize) -> Run {
	cheating_by(seed, node, 1.0)
}

/// A run on `input_tensor(seed)` that adds `delta` at node `node`.
pub fn cheating_by(seed: u32, node: usize, delta: f32) -> Run {
	execute(&test_program(), &input_tensor(seed), Some((node, delta)))
}

impl Run {
	/// This run claimed as a failure at `node` (a lie for the test program, which always runs).
	pub fn failing_at(mut self, node: usize) -> Run {
		self.values.truncate(node);
		self.leaves.truncate(node);
		self.outputs.clear();
		self.failed_at = Some(node as u32);
		self
	}

	/// The output as a call argument.
	pub fn output(&self) -> BoundedVec<u8, <Test as crate::Config>::MaxOutputBytes> {
		encode_tensors(&self.outputs)
	}

	/// The leaves as a call argument.
	pub fn trace(&self) -> BoundedVec<H256, <Test as crate::Config>::MaxNodes> {
		self.leaves.clone().try_into().unwrap()
	}

	/// Output hash and trace root, as the pallet computes them.
	pub fn hashes(&self) -> (H256, H256) {
		let out: Vec<H256> = self.outputs.iter().map(|t| H256(tensor_hash(t))).collect();
		let raw: Vec<[u8; 32]> = self.leaves.iter().map(|h| h.0).collect();
		let output_hash = match self.failed_at {
			Some(node) => verity_primitives::failure_hash(node),
			None => verity_primitives::io_hash(&out),
		};
		(output_hash, H256(verity_engine::commit::merkle_root(&raw)))
	}

	/// This run's quorum commitment for `worker`.
	pub fn commitment(&self, worker: AccountId, salt: [u8; 32]) -> H256 {
		let (output_hash, trace_root) = self.hashes();
		result_commitment(&output_hash, &trace_root, &worker, &salt)
	}
}

/// The arguments of a fraud proof at node `index` of the test program, with the inputs taken
/// from `run` (an honest run: up to the divergence it agrees with the accused trace).
pub fn proof(
	run: &Run,
	seed: u32,
	index: u32,
) -> (
	ProofNode,
	MerkleProof,
	BoundedVec<Option<ProofInput>, <Test as crate::Config>::MaxChallengeInputs>,
) {
	let program = test_program();
	let tree = ModelTree::new(&program);
	let node = program.nodes[index as usize].clone();
	let inputs: Vec<Option<ProofInput>> = node
		.inputs
		.iter()
		.map(|inp| {
			inp.as_ref().map(|inp| {
				let (tensor, weight_proof) = match inp.source {
					ValueRef::Input(_) => (input_tensor(seed), None),
					ValueRef::Weight(j) => (
						program.weights[j as usize].clone(),
						Some(tree.weight_proof(j).unwrap()),
					),
					ValueRef::Node { node, .. } => (run.values[node as usize].clone(), None),
				};
				ProofInput(ProvenTensor {
					tensor,
					weight_proof,
				})
			})
		})
		.collect();
	(
		ProofNode(node),
		tree.node_proof(index).unwrap(),
		inputs.try_into().unwrap(),
	)
}

/// The inputs of a fraud proof, as a call argument.
pub type ProofInputs = BoundedVec<Option<ProofInput>, <Test as crate::Config>::MaxChallengeInputs>;

/// `challenger` sends the fraud proof `(node, node_proof, inputs)` at node `index` against
/// `worker`'s result on request `id`.
pub fn challenge(
	id: RequestId,
	challenger: AccountId,
	worker: AccountId,
	index: u32,
	(node, node_proof, inputs): (ProofNode, MerkleProof, ProofInputs),
) -> frame_support::dispatch::DispatchResultWithPostInfo {
	Inference::challenge(
		RuntimeOrigin::signed(challenger),
		id,
		worker,
		index,
		node,
		node_proof,
		inputs,
	)
}

/// Requests an inference on `input_tensor(seed)` from `who` at the quoted fee; returns the id.
pub fn request(who: AccountId, mode: VerificationMode, seed: u32) -> RequestId {
	let fee = Inference::quote(0, mode).expect("quotable");
	request_with_fee(who, mode, seed, fee)
}

/// As [`request`] with an explicit `max_fee`.
pub fn request_with_fee(
	who: AccountId,
	mode: VerificationMode,
	seed: u32,
	max_fee: Balance,
) -> RequestId {
	let id = crate::NextRequestId::<Test>::get();
	assert_ok!(Inference::request_inference(
		RuntimeOrigin::signed(who),
		0,
		encode_tensors(&[input_tensor(seed)]),
		mode,
		max_fee,
	));
	id
}

/// Registers [`lookup_program`] (a model that fails on ids out of its table); returns its id.
pub fn lookup_model() -> verity_primitives::ModelId {
	Registry::add_model(model_info(&lookup_program()))
}

/// Requests `model` (the lookup model) on `ids` from `who` in `mode` at the quoted fee.
pub fn request_lookup(
	who: AccountId,
	model: verity_primitives::ModelId,
	mode: VerificationMode,
	ids: [i64; 2],
) -> RequestId {
	let id = crate::NextRequestId::<Test>::get();
	assert_ok!(Inference::request_inference(
		RuntimeOrigin::signed(who),
		model,
		encode_tensors(&[lookup_input(ids)]),
		mode,
		Inference::quote(model, mode).expect("quotable"),
	));
	id
}

/// The lookup model's input.
pub fn lookup_input(ids: [i64; 2]) -> Tensor {
	Tensor::from_i64(&[2], ids.to_vec()).unwrap()
}

/// The workers currently assigned to request `id`.
pub fn assigned(id: RequestId) -> Vec<AccountId> {
	Requests::<Test>::get(id)
		.expect("unfinished")
		.assignments
		.iter()
		.map(|a| a.worker)
		.collect()
}

/// The status of unfinished request `id`.
pub fn status(id: RequestId) -> RequestStatus<BlockNumber> {
	Requests::<Test>::get(id).expect("unfinished").status
}

/// Posts `run` as `worker`'s result (attested / optimistic).
pub fn submit(id: RequestId, worker: AccountId, run: &Run) {
	assert_ok!(Inference::submit_result(
		RuntimeOrigin::signed(worker),
		id,
		run.output(),
		run.trace(),
		None
	));
}

/// A worker's salt in tests.
pub fn salt_of(worker: AccountId) -> [u8; 32] {
	[worker as u8; 32]
}

/// Commits `run` for `worker` (quorum).
pub fn commit(id: RequestId, worker: AccountId, run: &Run) {
	assert_ok!(Inference::commit_result(
		RuntimeOrigin::signed(worker),
		id,
		run.commitment(worker, salt_of(worker))
	));
}

/// Reveals `run` for `worker` (quorum).
pub fn reveal(id: RequestId, worker: AccountId, run: &Run) {
	assert_ok!(Inference::submit_result(
		RuntimeOrigin::signed(worker),
		id,
		run.output(),
		run.trace(),
		Some(salt_of(worker))
	));
}

/// Free balance.
pub fn free(who: AccountId) -> Balance {
	Balances::balance(&who)
}

/// Balance held as inference escrow.
pub fn escrowed(who: AccountId) -> Balance {
	Balances::balance_on_hold(&HoldReason::InferenceEscrow.into(), &who)
}

/// Every account with a balance.
pub fn accounts() -> Vec<AccountId> {
	frame_system::Account::<Test>::iter_keys().collect()
}

/// The money invariants: issuance constant, every unit accounted for, escrow holds exactly the
/// `max_fee` of the unfinished requests, no challenge bond left held, queue and storage
/// invariants of the pallet.
pub fn assert_invariants(issuance: Balance) {
	assert_eq!(
		Balances::total_issuance(),
		issuance,
		"total issuance changed"
	);
	let total: Balance = frame_system::Account::<Test>::iter()
		.map(|(_, info)| info.data.free + info.data.reserved)
		.sum();
	assert_eq!(
		total, issuance,
		"free + held over all accounts differs from the issuance"
	);
	let (mut escrow, mut bonds) = (0, 0);
	for (_, holds) in pallet_balances::Holds::<Test>::iter() {
		for hold in holds.iter() {
			match hold.id {
				RuntimeHoldReason::Inference(HoldReason::InferenceEscrow) => escrow += hold.amount,
				RuntimeHoldReason::Inference(HoldReason::ChallengeBond) => bonds += hold.amount,
				_ => {}
			}
		}
	}
	let requests: Vec<_> = Requests::<Test>::iter_values().collect();
	let open: Balance = requests.iter().map(|r| r.max_fee).sum();
	assert_eq!(
		escrow, open,
		"escrow holds differ from the max_fee of unfinished requests"
	);
	assert_eq!(bonds, 0, "a challenge bond stayed held");
	let windows: Vec<_> = crate::ChallengeWindows::<Test>::iter_keys().collect();
	for (id, model) in registry::Models::<Test>::iter() {
		let open = requests.iter().filter(|r| r.model == id).count() as u32
			+ windows
				.iter()
				.filter(|w| crate::Receipts::<Test>::get(w).is_some_and(|r| r.model == id))
				.count() as u32;
		assert_eq!(model.in_flight, open, "model in-flight count out of step");
	}
	Inference::do_try_state().expect("pallet invariants");
}

/// The last event of this pallet.
pub fn last_event() -> crate::Event<Test> {
	inference_events().pop().expect("an event")
}

/// The release profile keeps overflow checks for this crate (`Cargo.toml`): an unchecked
/// overflow fails a test instead of wrapping.
#[test]
#[should_panic(expected = "overflow")]
fn overflow_checks_are_on() {
	let _ = std::hint::black_box(u128::MAX) + 1;
}
