//! End to end in the real runtime (native build of `verity-runtime`, `development` genesis with
//! the demo model, real Models/Workers/Inference pallets): every verification mode, a cheating
//! worker caught by a fraud proof built from the demo model's real trace, and a failed
//! challenge against an honest worker. Funds are conserved and no escrow outlives a request.

use codec::{Decode, Encode};
use frame_support::{
	assert_ok,
	dispatch::RawOrigin,
	traits::{
		fungible::{Inspect, InspectHold},
		Hooks, UnfilteredDispatchable,
	},
};
use pallet_inference::{ProofInput, ProofNode};
use serde_json::Value;
use sp_core::H256;
use sp_keyring::Sr25519Keyring;
use verity_engine::{
	commit::{blake2_256, tensor_hash},
	ir::ValueRef,
	ModelTree, Program, Tensor,
};
use verity_primitives::{
	crypto::WorkerPublic, io_hash, result_commitment, Outcome, ProvenTensor, RequestId,
	VerificationMode,
};
use verity_runtime::{
	configs::{ChallengeBond, ChallengePeriod, FraudSlash},
	genesis_config_presets::{development_config_genesis, DEMO_MODEL_PROGRAM},
	AccountId, Balance, Balances, BlockNumber, BuildStorage, Inference, Runtime, RuntimeCall,
	RuntimeEvent, RuntimeGenesisConfig, RuntimeHoldReason, System, UNIT,
};

/// The demo model's id in the `development` genesis.
const DEMO: u32 = 0;

fn account(k: Sr25519Keyring) -> AccountId {
	k.to_account_id()
}

/// Merges a genesis preset patch into a full config, as the node's chain-spec builder does.
fn merge(base: &mut Value, patch: Value) {
	match (base, patch) {
		(Value::Object(b), Value::Object(p)) => {
			for (k, v) in p {
				merge(b.entry(k).or_insert(Value::Null), v);
			}
		}
		(b, p) => *b = p,
	}
}

/// The `development` genesis, with Bob and Charlie registered as workers too.
fn dev_ext() -> sp_io::TestExternalities {
	let mut config = serde_json::to_value(RuntimeGenesisConfig::default()).unwrap();
	merge(&mut config, development_config_genesis());
	let config: RuntimeGenesisConfig = serde_json::from_value(config).expect("the preset is valid");
	let mut ext: sp_io::TestExternalities = config.build_storage().unwrap().into();
	ext.execute_with(|| {
		System::set_block_number(1);
		for k in [Sr25519Keyring::Bob, Sr25519Keyring::Charlie] {
			call(
				k,
				RuntimeCall::Workers(pallet_workers::Call::register_worker {
					key: WorkerPublic::from(k.public()),
					bond: 10_000 * UNIT,
				}),
			);
		}
	});
	ext
}

fn call(who: Sr25519Keyring, call: RuntimeCall) {
	assert_ok!(call.dispatch_bypass_filter(RawOrigin::Signed(account(who)).into()));
}

fn call_by(
	who: &AccountId,
	call: RuntimeCall,
) -> frame_support::dispatch::DispatchResultWithPostInfo {
	call.dispatch_bypass_filter(RawOrigin::Signed(who.clone()).into())
}

/// Advances to block `n`, running the inference pallet's deadline processing on the way.
fn run_to(n: BlockNumber) {
	while System::block_number() < n {
		let next = System::block_number() + 1;
		let parent = H256(blake2_256(&next.encode()));
		System::initialize(&next, &parent, &Default::default());
		<Inference as Hooks<BlockNumber>>::on_initialize(next);
	}
}

fn events() -> Vec<pallet_inference::Event<Runtime>> {
	System::events()
		.into_iter()
		.filter_map(|r| match r.event {
			RuntimeEvent::Inference(e) => Some(e),
			_ => None,
		})
		.collect()
}

fn escrow_of(who: &AccountId) -> Balance {
	Balances::balance_on_hold(
		&RuntimeHoldReason::Inference(pallet_inference::HoldReason::InferenceEscrow),
		who,
	)
}

/// The demo program and a request input for it (an 8×8 "digit" with pixel values 0..16).
fn demo() -> (Program, Vec<Tensor>) {
	let program = Program::decode(&mut &DEMO_MODEL_PROGRAM[..]).unwrap();
	let pixels: Vec<f32> = (0..64).map(|i| ((i * 7 + 3) % 17) as f32).collect();
	(program, vec![Tensor::from_f32(&[1, 64], pixels).unwrap()])
}

/// What a worker computes: every node's output in order, lying at node `lie_at` (adding 1 to
/// its first element) and computing everything after from the lie.
fn node_outputs(program: &Program, inputs: &[Tensor], lie_at: Option<usize>) -> Vec<Tensor> {
	let mut outputs: Vec<Tensor> = Vec::new();
	for (i, node) in program.nodes.iter().enumerate() {
		let args = node_args(program, inputs, &outputs, i);
		let refs: Vec<Option<&Tensor>> = args.iter().map(Option::as_ref).collect();
		let mut out = verity_engine::execute_node(node, &refs).unwrap().remove(0);
		if lie_at == Some(i) {
			let (shape, _) = out.clone().into_parts();
			let mut values = out.as_f32().unwrap().to_vec();
			values[0] += 1.0;
			out = Tensor::from_f32(&shape, values).unwrap();
		}
		outputs.push(out);
	}
	outputs
}

/// The values node `i` reads, given the outputs computed so far.
fn node_args(
	program: &Program,
	inputs: &[Tensor],
	outputs: &[Tensor],
	i: usize,
) -> Vec<Option<Tensor>> {
	program.nodes[i]
		.inputs
		.iter()
		.map(|input| {
			input.as_ref().map(|input| match input.source {
				ValueRef::Input(k) => inputs[k as usize].clone(),
				ValueRef::Weight(w) => program.weights[w as usize].clone(),
				ValueRef::Node { node, .. } => outputs[node as usize].clone(),
			})
		})
		.collect()
}

/// A worker's result: (output bytes, leaves, output hash, trace root).
struct Submission {
	output: Vec<u8>,
	leaves: Vec<H256>,
	output_hash: H256,
	trace_root: H256,
}

fn submission(program: &Program, outputs: &[Tensor]) -> Submission {
	let leaves: Vec<[u8; 32]> = outputs.iter().map(tensor_hash).collect();
	let program_outputs: Vec<Tensor> = (0..program.outputs.len())
		.map(|j| outputs[program.output_node(j).unwrap() as usize].clone())
		.collect();
	let output_hashes: Vec<H256> = program_outputs
		.iter()
		.map(|t| H256(tensor_hash(t)))
		.collect();
	Submission {
		output: program_outputs.encode(),
		output_hash: io_hash(&output_hashes),
		trace_root: H256(verity_engine::commit::merkle_root(&leaves)),
		leaves: leaves.into_iter().map(H256).collect(),
	}
}

fn request(who: Sr25519Keyring, mode: VerificationMode, inputs: &[Tensor]) -> RequestId {
	let id = pallet_inference::NextRequestId::<Runtime>::get();
	let max_fee = Inference::quote(DEMO, mode).expect("the demo model takes this mode") + UNIT;
	call(
		who,
		RuntimeCall::Inference(pallet_inference::Call::request_inference {
			model: DEMO,
			input: inputs.to_vec().encode().try_into().unwrap(),
			mode,
			max_fee,
		}),
	);
	id
}

fn assigned(id: RequestId) -> Vec<AccountId> {
	Inference::request(id)
		.unwrap()
		.assignments
		.iter()
		.map(|a| a.worker.clone())
		.collect()
}

fn submit(worker: &AccountId, id: RequestId, s: &Submission, salt: Option<[u8; 32]>) {
	assert_ok!(call_by(
		worker,
		RuntimeCall::Inference(pallet_inference::Call::submit_result {
			request: id,
			output: s.output.clone().try_into().unwrap(),
			trace_leaves: s.leaves.clone().try_into().unwrap(),
			salt,
		})
	));
}

/// A fraud proof at node `k` of the demo program, built from honest values.
fn challenge_call(
	id: RequestId,
	worker: &AccountId,
	program: &Program,
	inputs: &[Tensor],
	k: usize,
) -> RuntimeCall {
	let honest = node_outputs(program, inputs, None);
	let tree = ModelTree::new(program);
	let proven: Vec<Option<ProofInput>> = program.nodes[k]
		.inputs
		.iter()
		.zip(node_args(program, inputs, &honest, k))
		.map(|(declared, value)| {
			let declared = declared.as_ref()?;
			let weight_proof = match declared.source {
				ValueRef::Weight(w) => tree.weight_proof(w),
				_ => None,
			};
			Some(ProofInput(ProvenTensor {
				tensor: value?,
				weight_proof,
			}))
		})
		.collect();
	RuntimeCall::Inference(pallet_inference::Call::challenge {
		request: id,
		worker: worker.clone(),
		node_index: k as u32,
		node: ProofNode(program.nodes[k].clone()),
		node_proof: tree.node_proof(k as u32).unwrap(),
		inputs: proven.try_into().unwrap(),
	})
}

/// Free balance plus every hold, over all the accounts these tests touch.
fn total_of_known_accounts() -> Balance {
	let mut accounts: Vec<AccountId> = Sr25519Keyring::well_known()
		.map(|k| k.to_account_id())
		.collect();
	accounts.push(verity_runtime::configs::ProtocolAccount::get());
	accounts.iter().map(|a| Balances::total_balance(a)).sum()
}

#[test]
fn attested_settles_at_once_and_a_cheater_is_slashed_afterwards() {
	dev_ext().execute_with(|| {
		let issuance = Balances::total_issuance();
		let known = total_of_known_accounts();
		let (program, inputs) = demo();
		let dave = account(Sr25519Keyring::Dave);
		let id = request(Sr25519Keyring::Dave, VerificationMode::Attested, &inputs);
		let worker = assigned(id).remove(0);

		// The worker lies at node 2 and posts a self-consistent trace.
		let lie = 2;
		let s = submission(&program, &node_outputs(&program, &inputs, Some(lie)));
		submit(&worker, id, &s, None);
		let receipt = Inference::receipt(id).expect("attested settles at once");
		assert_eq!(receipt.outcome, Outcome::Settled);
		assert_eq!(escrow_of(&dave), 0, "no escrow left behind");

		// Eve proves the lie at node 2 by re-executing it in the runtime.
		let eve = account(Sr25519Keyring::Eve);
		let (eve_before, dave_before) =
			(Balances::free_balance(&eve), Balances::free_balance(&dave));
		assert_ok!(call_by(
			&eve,
			challenge_call(id, &worker, &program, &inputs, lie)
		));
		let proven = events().into_iter().find_map(|e| match e {
			pallet_inference::Event::FraudProven {
				id: i,
				worker: w,
				node,
				slashed,
				to_requester,
				to_challenger,
				..
			} if i == id => Some((w, node, slashed, to_requester, to_challenger)),
			_ => None,
		});
		let (w, node, slashed, to_requester, to_challenger) = proven.expect("fraud proven");
		assert_eq!(
			(w, node, slashed),
			(worker.clone(), lie as u32, FraudSlash::get())
		);
		assert_eq!(Balances::free_balance(&eve), eve_before + to_challenger);
		assert_eq!(Balances::free_balance(&dave), dave_before + to_requester);
		assert_eq!(Inference::receipt(id).unwrap().outcome, Outcome::Fraudulent);

		assert_eq!(
			Balances::total_issuance(),
			issuance,
			"nothing minted or burned"
		);
		assert_eq!(
			total_of_known_accounts(),
			known,
			"every unit stays with the known accounts"
		);
	});
}

#[test]
fn optimistic_honest_result_settles_after_the_challenge_period() {
	dev_ext().execute_with(|| {
		let issuance = Balances::total_issuance();
		let (program, inputs) = demo();
		let dave = account(Sr25519Keyring::Dave);
		let dave_before = Balances::total_balance(&dave);
		let id = request(Sr25519Keyring::Dave, VerificationMode::Optimistic, &inputs);
		let worker = assigned(id).remove(0);
		let s = submission(&program, &node_outputs(&program, &inputs, None));
		submit(&worker, id, &s, None);
		assert!(
			Inference::receipt(id).is_none(),
			"not settled during the challenge period"
		);

		// An honest result survives a challenge: the challenger's bond goes to the worker.
		let ferdie = account(Sr25519Keyring::Ferdie);
		let (ferdie_before, worker_before) = (
			Balances::free_balance(&ferdie),
			Balances::free_balance(&worker),
		);
		assert_ok!(call_by(
			&ferdie,
			challenge_call(id, &worker, &program, &inputs, 3)
		));
		assert!(events().iter().any(
			|e| matches!(e, pallet_inference::Event::ChallengeFailed { id: i, .. } if *i == id)
		));
		assert!(Balances::free_balance(&ferdie) <= ferdie_before - ChallengeBond::get());
		assert_eq!(
			Balances::free_balance(&worker),
			worker_before + ChallengeBond::get()
		);

		run_to(System::block_number() + ChallengePeriod::get() + 2);
		let receipt = Inference::receipt(id).expect("settled after the period");
		assert_eq!(receipt.outcome, Outcome::Settled);
		assert_eq!(
			(receipt.output_hash, receipt.trace_root),
			(s.output_hash, s.trace_root)
		);
		assert_eq!(escrow_of(&dave), 0);
		assert_eq!(Balances::total_balance(&dave), dave_before - receipt.paid);
		assert_eq!(Balances::total_issuance(), issuance);
	});
}

#[test]
fn optimistic_fraud_is_rejected_and_the_request_reassigned() {
	dev_ext().execute_with(|| {
		let issuance = Balances::total_issuance();
		let (program, inputs) = demo();
		let id = request(Sr25519Keyring::Dave, VerificationMode::Optimistic, &inputs);
		let cheater = assigned(id).remove(0);
		let lie = program.nodes.len() - 1; // the softmax: the last node
		submit(
			&cheater,
			id,
			&submission(&program, &node_outputs(&program, &inputs, Some(lie))),
			None,
		);

		assert_ok!(call_by(
			&account(Sr25519Keyring::Eve),
			challenge_call(id, &cheater, &program, &inputs, lie)
		));
		let request = Inference::request(id).expect("reassigned, not finished");
		let next = request.assignments[0].worker.clone();
		assert_ne!(next, cheater, "the cheater is not assigned again");
		assert!(request.missed.contains(&cheater));

		let honest = submission(&program, &node_outputs(&program, &inputs, None));
		submit(&next, id, &honest, None);
		run_to(System::block_number() + ChallengePeriod::get() + 2);
		let receipt = Inference::receipt(id).unwrap();
		assert_eq!(receipt.outcome, Outcome::Settled);
		assert_eq!(receipt.workers.to_vec(), vec![next]);
		assert_eq!(receipt.trace_root, honest.trace_root);
		assert_eq!(escrow_of(&account(Sr25519Keyring::Dave)), 0);
		assert_eq!(Balances::total_issuance(), issuance);
	});
}

#[test]
fn quorum_referees_a_disagreement_at_the_first_diverging_node() {
	dev_ext().execute_with(|| {
		let issuance = Balances::total_issuance();
		let (program, inputs) = demo();
		let id = request(Sr25519Keyring::Dave, VerificationMode::Quorum(3), &inputs);
		let workers = assigned(id);
		assert_eq!(workers.len(), 3);
		let liar = workers[1].clone();
		let lie = 1;
		let results: Vec<Submission> = workers
			.iter()
			.map(|w| {
				let lie_at = (*w == liar).then_some(lie);
				submission(&program, &node_outputs(&program, &inputs, lie_at))
			})
			.collect();

		// Commit, then reveal.
		for (k, (w, s)) in workers.iter().zip(&results).enumerate() {
			let salt = [k as u8 + 1; 32];
			let commitment = result_commitment(&s.output_hash, &s.trace_root, w, &salt);
			assert_ok!(call_by(
				w,
				RuntimeCall::Inference(pallet_inference::Call::commit_result {
					request: id,
					commitment
				})
			));
		}
		for (k, (w, s)) in workers.iter().zip(&results).enumerate() {
			submit(w, id, s, Some([k as u8 + 1; 32]));
		}
		let disputed_at = events().into_iter().find_map(|e| match e {
			pallet_inference::Event::Disputed { id: i, leaf, .. } if i == id => Some(leaf),
			_ => None,
		});
		assert_eq!(
			disputed_at,
			Some(lie as u32),
			"the runtime finds the first diverging leaf"
		);

		// One honest party's proof at that node settles it: the liar is slashed, the other two paid.
		assert_ok!(call_by(
			&workers[0],
			challenge_call(id, &liar, &program, &inputs, lie)
		));
		let receipt = Inference::receipt(id).expect("settled with the honest majority");
		assert_eq!(receipt.outcome, Outcome::Settled);
		let mut paid = receipt.workers.to_vec();
		paid.sort();
		let mut honest: Vec<AccountId> = workers.iter().filter(|w| **w != liar).cloned().collect();
		honest.sort();
		assert_eq!(paid, honest);
		assert_eq!(receipt.trace_root, results[0].trace_root);
		assert_eq!(escrow_of(&account(Sr25519Keyring::Dave)), 0);
		assert_eq!(Balances::total_issuance(), issuance);
	});
}

#[test]
fn quorum_agreement_settles_at_once() {
	dev_ext().execute_with(|| {
		let (program, inputs) = demo();
		let id = request(Sr25519Keyring::Dave, VerificationMode::Quorum(2), &inputs);
		let workers = assigned(id);
		let s = submission(&program, &node_outputs(&program, &inputs, None));
		for w in &workers {
			let commitment = result_commitment(&s.output_hash, &s.trace_root, w, &[9; 32]);
			assert_ok!(call_by(
				w,
				RuntimeCall::Inference(pallet_inference::Call::commit_result {
					request: id,
					commitment
				})
			));
		}
		for w in &workers {
			submit(w, id, &s, Some([9; 32]));
		}
		let receipt = Inference::receipt(id).expect("settled at once");
		assert_eq!(receipt.outcome, Outcome::Settled);
		assert_eq!(receipt.workers.len(), 2);
		// The receipt commits to the request's input and the model's root.
		let input_hash = io_hash(
			&inputs
				.iter()
				.map(|t| H256(tensor_hash(t)))
				.collect::<Vec<_>>(),
		);
		assert_eq!(receipt.input_hash, input_hash);
		assert_eq!(
			receipt.model_root,
			H256(verity_engine::model_root(&program))
		);
	});
}

#[test]
fn a_silent_worker_is_penalised_and_the_requester_refunded_in_full() {
	dev_ext().execute_with(|| {
		let issuance = Balances::total_issuance();
		let (_, inputs) = demo();
		let dave = account(Sr25519Keyring::Dave);
		let dave_before = Balances::total_balance(&dave);
		let id = request(Sr25519Keyring::Dave, VerificationMode::Attested, &inputs);
		// Nobody ever answers: every worker misses in turn until the request expires.
		run_to(System::block_number() + verity_runtime::configs::RequestLifetime::get() + 50);
		let receipt = Inference::receipt(id).expect("finished");
		assert_eq!(receipt.outcome, Outcome::Refunded);
		assert_eq!(escrow_of(&dave), 0);
		assert!(events()
			.iter()
			.any(|e| matches!(e, pallet_inference::Event::DeadlineMissed { .. })));
		// Refunded in full, plus the silent workers' penalties.
		assert!(Balances::total_balance(&dave) >= dave_before);
		assert_eq!(Balances::total_issuance(), issuance);
	});
}
