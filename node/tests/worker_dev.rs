//! The dev chain's own validator serves inference: a request placed over RPC by an account that
//! is not the node's is answered by the node's off-chain worker through the native engine, with
//! no other help, and the result equals the canonical engine's run of the demo model.

mod common;

use std::time::Duration;

use codec::Encode;
use common::*;
use serde_json::json;
use sp_core::H256;
use sp_keyring::Sr25519Keyring;
use verity_engine::{ir::Program, tensor_hash, Tensor};
use verity_primitives::{io_hash, Outcome, Request, RequestId, RequestStatus, VerificationMode};
use verity_runtime::{
	genesis_config_presets::DEMO_MODEL_PROGRAM, AccountId, Balance, BlockNumber, RuntimeCall, UNIT,
};

/// The demo model's id in the dev genesis.
const DEMO: u32 = 0;

fn demo_input(seed: u32) -> Vec<Tensor> {
	let pixels: Vec<f32> = (0..64).map(|i| ((i * 7 + seed) % 17) as f32).collect();
	vec![Tensor::from_f32(&[1, 64], pixels).expect("a [1, 64] tensor")]
}

/// What the canonical engine says the demo model's outputs hash to.
fn expected_output_hash(input: &[Tensor]) -> H256 {
	let program: Program =
		codec::Decode::decode(&mut &DEMO_MODEL_PROGRAM[..]).expect("the demo program decodes");
	let (outputs, _) = verity_engine::execute(&program, input).expect("the demo model runs");
	let hashes: Vec<H256> = outputs.iter().map(|t| H256(tensor_hash(t))).collect();
	io_hash(&hashes)
}

/// Bob requests an inference of the demo model on `input` in `mode`; returns the request id and
/// the block that includes the request.
fn request(node: &Node, mode: VerificationMode, input: &[Tensor]) -> (RequestId, u32) {
	let quote: Option<Balance> =
		state_call(node, "VerityApi_quote", (DEMO, mode)).expect("VerityApi_quote");
	let max_fee = quote.expect("the demo model takes this mode") + UNIT;
	let bob = Sr25519Keyring::Bob;
	let id = next_request_id(node);
	let call = RuntimeCall::Inference(pallet_inference::Call::request_inference {
		model: DEMO,
		input: input.to_vec().encode().try_into().expect("the input fits"),
		mode,
		max_fee,
	});
	let xt = signed_extrinsic(
		bob,
		call,
		next_nonce(node, &bob.to_account_id()),
		genesis_hash(node),
	);
	let block = submit_and_wait_included(node, &xt, Duration::from_secs(120));
	(id, block)
}

fn open_request(node: &Node, id: RequestId) -> Option<Request<AccountId, Balance, BlockNumber>> {
	state_call(node, "VerityApi_request", id).expect("VerityApi_request")
}

#[test]
fn the_dev_validator_serves_attested_and_optimistic_requests_by_itself() {
	let node = Node::spawn("dev-worker", &["--dev", "--tmp"]);
	node.rpc_when_up("system_health", json!([]), Duration::from_secs(120));
	node.wait_finalized(1, Duration::from_secs(120));
	let alice = Sr25519Keyring::Alice.to_account_id();

	// Attested: settles as soon as the worker's result lands.
	let input = demo_input(3);
	let (id, included) = request(&node, VerificationMode::Attested, &input);
	let settled = wait_for(
		"the attested request settled",
		Duration::from_secs(180),
		|| receipt(&node, id),
	);
	assert_eq!(settled.outcome, Outcome::Settled);
	assert_eq!(settled.workers.to_vec(), vec![alice.clone()]);
	assert_eq!(
		settled.output_hash,
		expected_output_hash(&input),
		"the node's worker posted the canonical engine's output"
	);
	assert!(
		settled.finished_at <= included + 2,
		"requested in block {included}, settled in block {}",
		settled.finished_at
	);
	let output: Option<(Vec<u8>, H256, H256, BlockNumber)> =
		state_call(&node, "VerityApi_result", (id, alice.clone())).expect("VerityApi_result");
	let (output, output_hash, trace_root, _) = output.expect("the accepted result is readable");
	assert_eq!(output_hash, settled.output_hash);
	assert_eq!(trace_root, settled.trace_root);
	assert!(!output.is_empty());

	// The same over `verity_*` RPC, as JSON.
	let rpc_receipt = node
		.rpc("verity_receipt", json!([id]))
		.expect("verity_receipt");
	assert_eq!(rpc_receipt["outcome"], "settled");
	assert_eq!(
		rpc_receipt["outputHash"],
		format!("{:?}", settled.output_hash)
	);
	assert_eq!(rpc_receipt["workers"][0], alice.to_string());
	let rpc_quote = node
		.rpc("verity_quote", json!([DEMO, "attested"]))
		.expect("verity_quote");
	let quote: Option<Balance> =
		state_call(&node, "VerityApi_quote", (DEMO, VerificationMode::Attested)).expect("quote");
	assert_eq!(rpc_quote, json!(quote.expect("quotable").to_string()));
	assert!(node.rpc("verity_quote", json!([DEMO, "quorum:x"])).is_err());
	// Alice's honest trace has no divergence; material at a named node is available.
	let none = node
		.rpc("verity_proofMaterial", json!([id, alice.to_string()]))
		.expect("verity_proofMaterial");
	assert!(
		none.is_null(),
		"an honest trace has nothing to prove: {none}"
	);
	let material = node
		.rpc("verity_proofMaterial", json!([id, alice.to_string(), 1]))
		.expect("verity_proofMaterial at node 1");
	assert_eq!(material["nodeIndex"], 1);
	assert!(material["node"]
		.as_str()
		.is_some_and(|h| h.starts_with("0x")));

	// Optimistic: the result lands and the request waits out its challenge period.
	let input = demo_input(5);
	let (id, _) = request(&node, VerificationMode::Optimistic, &input);
	let until = wait_for(
		"the optimistic result posted",
		Duration::from_secs(180),
		|| match open_request(&node, id)?.status {
			RequestStatus::Challengeable { until } => Some(until),
			_ => None,
		},
	);
	let posted: Option<(Vec<u8>, H256, H256, BlockNumber)> =
		state_call(&node, "VerityApi_result", (id, alice)).expect("VerityApi_result");
	assert_eq!(
		posted.expect("Alice's result is on chain").1,
		expected_output_hash(&input)
	);
	assert!(until > node.best_number().expect("best block"));
}
