//! What the runtime-level tests share: the `development` genesis with more workers, calls as
//! signed origins, block production with the deadline hooks, the demo model's honest and lying
//! executions, results and fraud proofs built from them, and balance sums.
#![allow(dead_code, unused_imports)] // each test binary uses part of it

pub use codec::{Decode, Encode};
pub use frame_support::{
	assert_ok,
	dispatch::RawOrigin,
	traits::{
		fungible::{Inspect, InspectHold},
		Hooks, UnfilteredDispatchable,
	},
};
pub use pallet_inference::{ProofInput, ProofNode};
pub use serde_json::Value;
pub use sp_core::H256;
pub use sp_keyring::Sr25519Keyring;
pub use verity_engine::{
	commit::{blake2_256, tensor_hash},
	ir::ValueRef,
	ModelTree, Program, Tensor,
};
pub use verity_primitives::{
	crypto::WorkerPublic, io_hash, result_commitment, Outcome, ProvenTensor, RequestId,
	VerificationMode,
};
pub use verity_runtime::{
	configs::{ChallengeBond, ChallengePeriod, FraudSlash},
	genesis_config_presets::{development_config_genesis, DEMO_MODEL_PROGRAM},
	AccountId, Balance, Balances, BlockNumber, BuildStorage, Inference, Runtime, RuntimeCall,
	RuntimeEvent, RuntimeGenesisConfig, RuntimeHoldReason, System, UNIT,
};

/// The demo model's id in the `development` genesis.
pub const DEMO: u32 = 0;

pub fn account(k: Sr25519Keyring) -> AccountId {
	k.to_account_id()
}

/// Merges a genesis preset patch into a full config, as the node's chain-spec builder does.
pub fn merge(base: &mut Value, patch: Value) {
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
pub fn dev_ext() -> sp_io::TestExternalities {
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

pub fn call(who: Sr25519Keyring, call: RuntimeCall) {
	assert_ok!(call.dispatch_bypass_filter(RawOrigin::Signed(account(who)).into()));
}

pub fn call_by(
	who: &AccountId,
	call: RuntimeCall,
) -> frame_support::dispatch::DispatchResultWithPostInfo {
	call.dispatch_bypass_filter(RawOrigin::Signed(who.clone()).into())
}

/// Advances to block `n`, running the inference pallet's deadline processing on the way.
pub fn run_to(n: BlockNumber) {
	while System::block_number() < n {
		let next = System::block_number() + 1;
		let parent = H256(blake2_256(&next.encode()));
		System::initialize(&next, &parent, &Default::default());
		<Inference as Hooks<BlockNumber>>::on_initialize(next);
	}
}

pub fn events() -> Vec<pallet_inference::Event<Runtime>> {
	System::events()
		.into_iter()
		.filter_map(|r| match r.event {
			RuntimeEvent::Inference(e) => Some(e),
			_ => None,
		})
		.collect()
}

pub fn escrow_of(who: &AccountId) -> Balance {
	Balances::balance_on_hold(
		&RuntimeHoldReason::Inference(pallet_inference::HoldReason::InferenceEscrow),
		who,
	)
}

/// The demo program and a request input for it (an 8×8 "digit" with pixel values 0..16).
pub fn demo() -> (Program, Vec<Tensor>) {
	let program = Program::decode(&mut &DEMO_MODEL_PROGRAM[..]).unwrap();
	let pixels: Vec<f32> = (0..64).map(|i| ((i * 7 + 3) % 17) as f32).collect();
	(program, vec![Tensor::from_f32(&[1, 64], pixels).unwrap()])
}

/// What a worker computes: every node's output in order, lying at node `lie_at` (adding 1 to
/// its first element) and computing everything after from the lie.
pub fn node_outputs(program: &Program, inputs: &[Tensor], lie_at: Option<usize>) -> Vec<Tensor> {
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
pub fn node_args(
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
pub struct Submission {
	pub output: Vec<u8>,
	pub leaves: Vec<H256>,
	pub output_hash: H256,
	pub trace_root: H256,
}

pub fn submission(program: &Program, outputs: &[Tensor]) -> Submission {
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

pub fn request(who: Sr25519Keyring, mode: VerificationMode, inputs: &[Tensor]) -> RequestId {
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

pub fn assigned(id: RequestId) -> Vec<AccountId> {
	Inference::request(id)
		.unwrap()
		.assignments
		.iter()
		.map(|a| a.worker.clone())
		.collect()
}

pub fn submit(worker: &AccountId, id: RequestId, s: &Submission, salt: Option<[u8; 32]>) {
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
pub fn challenge_call(
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
pub fn total_of_known_accounts() -> Balance {
	let mut accounts: Vec<AccountId> = Sr25519Keyring::well_known()
		.map(|k| k.to_account_id())
		.collect();
	accounts.push(verity_runtime::configs::ProtocolAccount::get());
	accounts.iter().map(|a| Balances::total_balance(a)).sum()
}

/// `worker` commits to `s` with `salt` (quorum mode).
pub fn commit(worker: &AccountId, id: RequestId, s: &Submission, salt: [u8; 32]) {
	let commitment = result_commitment(&s.output_hash, &s.trace_root, worker, &salt);
	assert_ok!(call_by(
		worker,
		RuntimeCall::Inference(pallet_inference::Call::commit_result {
			request: id,
			commitment
		})
	));
}

/// Free balance plus every hold, over every account in storage: with the issuance, what shows
/// that nothing was minted or burned and nothing is left unaccounted.
pub fn total_of_all_accounts() -> Balance {
	frame_system::Account::<Runtime>::iter_keys()
		.map(|a| Balances::total_balance(&a))
		.sum()
}
