//! The dev chain's own validator serves inference: a request placed over RPC by an account that
//! is not the node's is answered by the node's off-chain worker through the native engine, with
//! no other help, and the result equals the canonical engine's run of the demo model. A request
//! whose input the model cannot run is answered too, with a failure result.

mod common;

use std::time::Duration;

use codec::Encode;
use common::*;
use serde_json::json;
use sp_core::H256;
use sp_keyring::Sr25519Keyring;
use verity_engine::{ir::Program, tensor_hash, Tensor};
use verity_primitives::{
	io_hash, ModeSet, ModelInfo, Outcome, PostedResult, Request, RequestId, RequestStatus,
	VerificationMode,
};
use verity_runtime::{
	genesis_config_presets::DEMO_MODEL_PROGRAM, AccountId, Balance, BlockNumber, Runtime,
	RuntimeCall, UNIT,
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
	let (id, included, _) = request_model(node, DEMO, mode, input);
	(id, included)
}

fn open_request(node: &Node, id: RequestId) -> Option<Request<AccountId, Balance, BlockNumber>> {
	state_call(node, "VerityApi_request", id).expect("VerityApi_request")
}

#[test]
fn the_dev_validator_serves_attested_and_optimistic_requests_by_itself() {
	let metrics_port = free_port().to_string();
	let node = Node::spawn(
		"dev-worker",
		&["--dev", "--tmp", "--prometheus-port", &metrics_port],
	);
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
	let result: Option<PostedResult<BlockNumber>> =
		state_call(&node, "VerityApi_result", (id, alice.clone())).expect("VerityApi_result");
	let result = result.expect("the accepted result is readable");
	assert_eq!(result.output_hash, settled.output_hash);
	assert_eq!(result.trace_root, settled.trace_root);
	assert_eq!(result.failed_at, None);
	assert!(!result.output.is_empty());

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
	let posted: Option<PostedResult<BlockNumber>> =
		state_call(&node, "VerityApi_result", (id, alice)).expect("VerityApi_result");
	assert_eq!(
		posted.expect("Alice's result is on chain").output_hash,
		expected_output_hash(&input)
	);
	assert!(until > node.best_number().expect("best block"));

	// The worker's metrics, scraped over HTTP from the node's Prometheus endpoint: two served
	// inferences timed, the demo model compiled once and then found in the store (by the second
	// job and by the proof-material RPC calls), no refusal.
	let port: u16 = metrics_port.parse().unwrap();
	let body = http_get(port, "/metrics").expect("the metrics endpoint answers");
	let labelled = |name: &str, labels: &[(&str, &str)]| {
		metric(&body, name, labels).unwrap_or_else(|| panic!("no {name} {labels:?} in:\n{body}"))
	};
	let value = |name: &str| labelled(name, &[]);
	assert_eq!(
		labelled(
			"verity_jobs_total",
			&[("kind", "serve"), ("outcome", "done")]
		),
		2.0
	);
	assert!(value("verity_inference_seconds_count") >= 2.0);
	assert!(value("verity_inference_seconds_sum") > 0.0);
	assert_eq!(value("verity_model_cache_misses_total"), 1.0);
	assert_eq!(
		labelled("verity_model_load_seconds_count", &[("source", "compile")]),
		1.0,
		"the demo model is compiled once"
	);
	assert!(value("verity_model_cache_hits_total") >= 1.0);
	assert!(
		value("verity_model_cache_bytes") > 0.0,
		"the compiled demo model is on disk"
	);
	assert_eq!(value("verity_model_root_mismatches_total"), 0.0);
	assert_eq!(value("verity_jobs_pending"), 0.0, "nothing left queued");

	// Every metric the alert rules and the dashboard of docker/ query is one this node exports.
	for name in monitored_metrics() {
		assert!(
			exports_series(&body, &name),
			"docker/ monitors {name}, which the node does not export"
		);
	}
}

/// `signer` registers `program` (compiled from `onnx`), its bytes on chain or, with `uri`,
/// published there; returns the model id.
fn register(
	node: &Node,
	signer: Sr25519Keyring,
	onnx: &[u8],
	program: &Program,
	uri: Option<&str>,
) -> u32 {
	let id: u32 = storage(node, &pallet_models::NextModelId::<Runtime>::hashed_key())
		.expect("NextModelId")
		.unwrap_or(0);
	let registration = pallet_models::ModelRegistration::for_program(
		program,
		H256(verity_engine::commit::blake2_256(onnx)),
		verity_onnx::COMPILER_VERSION,
		UNIT / 100,
		ModeSet::ALL,
		match uri {
			Some(_) => None,
			None => Some(onnx.to_vec().try_into().expect("the model fits on chain")),
		},
		uri.map(|u| u.as_bytes().to_vec().try_into().expect("a short URI")),
	)
	.expect("a registration");
	let call = RuntimeCall::Models(pallet_models::Call::register_model {
		registration: Box::new(registration),
	});
	let nonce = next_nonce(node, &signer.to_account_id());
	let xt = signed_extrinsic(signer, call, nonce, genesis_hash(node));
	submit_and_wait_included(node, &xt, Duration::from_secs(120));
	let info: Option<ModelInfo<AccountId, Balance, BlockNumber>> =
		state_call(node, "VerityApi_model", id).expect("VerityApi_model");
	assert_eq!(
		info.expect("the model is registered").model_root,
		H256(verity_engine::model_root(program))
	);
	id
}

/// Bob requests `model` on `input` in `mode` at the quoted fee; returns the id, the block that
/// includes the request and the fee.
fn request_model(
	node: &Node,
	model: u32,
	mode: VerificationMode,
	input: &[Tensor],
) -> (RequestId, u32, Balance) {
	let bob = Sr25519Keyring::Bob;
	let fee: Option<Balance> =
		state_call(node, "VerityApi_quote", (model, mode)).expect("VerityApi_quote");
	let fee = fee.expect("quotable");
	let id = next_request_id(node);
	let call = RuntimeCall::Inference(pallet_inference::Call::request_inference {
		model,
		input: input.to_vec().encode().try_into().expect("the input fits"),
		mode,
		max_fee: fee,
	});
	let xt = signed_extrinsic(
		bob,
		call,
		next_nonce(node, &bob.to_account_id()),
		genesis_hash(node),
	);
	let included = submit_and_wait_included(node, &xt, Duration::from_secs(120));
	(id, included, fee)
}

/// `models/bag-of-tokens`: a real model whose `Gather` fails on token ids outside its vocabulary.
fn bag_of_tokens() -> (Vec<u8>, Program) {
	let path = concat!(
		env!("CARGO_MANIFEST_DIR"),
		"/../models/bag-of-tokens/model.onnx"
	);
	let onnx = std::fs::read(path).expect("models/bag-of-tokens/model.onnx");
	let model = verity_onnx::compile(&onnx, &[("tokens", vec![1, 16])]).expect("it compiles");
	(onnx, model.program)
}

#[test]
fn inputs_the_model_cannot_run_are_answered_with_failures_that_cost_the_worker_nothing() {
	// The penalty-farming attack on a real node: Bob registers a model and requests it on a token
	// id outside its vocabulary, so execution fails. The node's worker posts the failure (instead
	// of nothing, which would miss the deadline and pay Bob Alice's `MissPenalty`): the request
	// settles, Bob pays for the work, and Alice loses nothing.
	let node = Node::spawn("dev-failures", &["--dev", "--tmp"]);
	node.rpc_when_up("system_health", json!([]), Duration::from_secs(120));
	node.wait_finalized(1, Duration::from_secs(120));
	let (bob, alice) = (Sr25519Keyring::Bob, Sr25519Keyring::Alice.to_account_id());

	let (onnx, program) = bag_of_tokens();
	let model = register(&node, bob, &onnx, &program, None);
	let gather = program
		.nodes
		.iter()
		.position(|n| n.op.name() == "Gather")
		.expect("a Gather") as u32;

	let before = worker_info(&node, &alice);
	let mut tokens: Vec<i64> = (0..16).collect();
	tokens[5] = 64;
	let input = vec![Tensor::from_i64(&[1, 16], tokens).expect("a [1, 16] tensor")];
	let (attested, included, fee) = request_model(&node, model, VerificationMode::Attested, &input);
	let (optimistic, ..) = request_model(&node, model, VerificationMode::Optimistic, &input);
	let receipt = wait_for("the failure settled", Duration::from_secs(180), || {
		receipt(&node, attested)
	});
	assert_eq!(receipt.outcome, Outcome::ExecutionFailed { node: gather });
	assert_eq!(receipt.paid, fee, "Bob paid for the work");
	assert!(
		receipt.finished_at <= included + 2,
		"requested in block {included}, settled in block {}",
		receipt.finished_at
	);
	let rpc_receipt = node
		.rpc("verity_receipt", json!([attested]))
		.expect("verity_receipt");
	assert_eq!(rpc_receipt["outcome"], "executionFailed");
	assert_eq!(rpc_receipt["failedAt"], gather);

	wait_for(
		"the optimistic failure posted",
		Duration::from_secs(180),
		|| match open_request(&node, optimistic)?.status {
			RequestStatus::Challengeable { .. } => Some(()),
			_ => None,
		},
	);
	let posted: Option<PostedResult<BlockNumber>> =
		state_call(&node, "VerityApi_result", (optimistic, alice.clone()))
			.expect("VerityApi_result");
	let posted = posted.expect("Alice's failure result is on chain");
	assert_eq!(posted.failed_at, Some(gather));
	assert!(posted.output.is_empty());

	let after = worker_info(&node, &alice);
	assert_eq!(after.bond, before.bond, "Alice lost no bond");
	assert_eq!(after.missed, before.missed, "Alice missed no deadline");
}

/// A local HTTP server that answers every `*.onnx` path with `body`, anything else with a 404.
/// Returns its base URI and a count of the files it served.
fn model_server(body: Vec<u8>) -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
	use std::io::{BufRead, BufReader, Write};
	let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a local port");
	let base = format!("http://{}", listener.local_addr().expect("an address"));
	let served = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
	let count = served.clone();
	std::thread::spawn(move || {
		for stream in listener.incoming().flatten() {
			let mut line = String::new();
			let mut reader = BufReader::new(&stream);
			if reader.read_line(&mut line).is_err() {
				continue;
			}
			// Skip the headers.
			let mut header = String::new();
			while reader.read_line(&mut header).is_ok_and(|n| n > 2) {
				header.clear();
			}
			let body = line
				.split_whitespace()
				.nth(1)
				.filter(|path| path.ends_with(".onnx"))
				.map(|_| &body);
			let mut stream = &stream;
			let _ = match body {
				Some(body) => {
					count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
					stream
						.write_all(
							format!(
								"HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
								body.len()
							)
							.as_bytes(),
						)
						.and_then(|_| stream.write_all(body))
				}
				None => stream.write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"),
			};
		}
	});
	(base, served)
}

#[test]
fn models_published_under_a_uri_are_fetched_and_refused_when_the_bytes_differ() {
	// Two models registered under URIs of a local HTTP server: the bag-of-tokens model, whose
	// URI serves its bytes, and the digits MLP, whose URI serves other bytes (their hash
	// differs from the registration). The first is fetched and served; the second is refused
	// by the node's model store, its worker declines instead of missing the deadline, and with
	// no other worker on the dev chain the request is refunded in full: nobody loses anything.
	let node = Node::spawn("dev-uri-models", &["--dev", "--tmp"]);
	node.rpc_when_up("system_health", json!([]), Duration::from_secs(120));
	node.wait_finalized(1, Duration::from_secs(120));
	let (bob, alice) = (Sr25519Keyring::Bob, Sr25519Keyring::Alice.to_account_id());
	let (onnx, program) = bag_of_tokens();
	let mlp = std::fs::read(concat!(
		env!("CARGO_MANIFEST_DIR"),
		"/../models/mlp-digits/model.onnx"
	))
	.expect("models/mlp-digits/model.onnx");
	let mlp_program = verity_onnx::compile(&mlp, &[("input", vec![1, 64])])
		.expect("it compiles")
		.program;
	// Both URIs get the bag-of-tokens bytes: right for the first, wrong for the second.
	let (base, served) = model_server(onnx.clone());
	let good = register(
		&node,
		bob,
		&onnx,
		&program,
		Some(&format!("{base}/good.onnx")),
	);
	let bad = register(
		&node,
		bob,
		&mlp,
		&mlp_program,
		Some(&format!("{base}/bad.onnx")),
	);
	let before = worker_info(&node, &alice);
	let input = vec![Tensor::from_i64(&[1, 16], (0..16).collect()).expect("tokens")];

	let (id, _, fee) = request_model(&node, good, VerificationMode::Attested, &input);
	let settled = wait_for(
		"the URI model's request settled",
		Duration::from_secs(180),
		|| receipt(&node, id),
	);
	assert_eq!(settled.outcome, Outcome::Settled);
	assert_eq!(settled.paid, fee);
	let (outputs, _) = verity_engine::execute(&program, &input).expect("it runs");
	let hashes: Vec<H256> = outputs.iter().map(|t| H256(tensor_hash(t))).collect();
	assert_eq!(settled.output_hash, io_hash(&hashes));
	assert!(
		served.load(std::sync::atomic::Ordering::SeqCst) >= 1,
		"fetched over HTTP"
	);

	let (id, _, _) = request_model(&node, bad, VerificationMode::Attested, &demo_input(1));
	let refunded = wait_for(
		"the refused model's request refunded",
		Duration::from_secs(180),
		|| receipt(&node, id),
	);
	assert_eq!(refunded.outcome, Outcome::Refunded);
	assert_eq!(refunded.paid, 0, "refunded in full");
	let after = worker_info(&node, &alice);
	assert_eq!(after.bond, before.bond, "Alice lost no bond");
	assert_eq!(
		after.missed, before.missed,
		"Alice declined rather than missed"
	);
}
