//! Load figures for docs/benchmarks.md, run by hand (not in CI; it asserts only that every
//! request settles, never a time):
//!
//! ```sh
//! cargo test --release --workspace --test worker_load -- --ignored --nocapture
//! ```
//!
//! A dev node; `VERITY_LOAD_REQUESTS` (default 200) attested requests for the demo model sent at
//! once from four accounts. The dev validator first bonds enough to be exposed on all of them at
//! once (a worker's bond must cover one `FraudSlash` per request it could still be slashed on,
//! so the genesis bond alone covers 19; see docs/benchmarks.md). Prints when they were included and settled, the settled-per-block
//! peak and the request → settled latency in blocks and seconds, the worker's native inference
//! time and the model store's cold load (compiled from the chain's ONNX bytes) and, after a
//! restart, warm load (from its disk cache), from the node's Prometheus metrics.

mod common;

use std::{
	collections::BTreeMap,
	time::{Duration, Instant},
};

use codec::Encode;
use common::*;
use serde_json::json;
use sp_keyring::Sr25519Keyring;
use verity_engine::Tensor;
use verity_primitives::{Outcome, Receipt, RequestId, VerificationMode};
use verity_runtime::{
	configs::FraudSlash, genesis_config_presets::GENESIS_WORKER_BOND, AccountId, Balance,
	BlockNumber, RuntimeCall, MILLI_SECS_PER_BLOCK, UNIT,
};

#[test]
#[ignore = "a measurement; run by hand"]
fn settled_inferences_per_block_at_full_load() {
	let count: u32 = std::env::var("VERITY_LOAD_REQUESTS")
		.ok()
		.and_then(|v| v.parse().ok())
		.unwrap_or(200);
	let metrics_port = free_port().to_string();
	let mut node = Node::spawn("load", &["--dev", "--prometheus-port", &metrics_port]);
	let metrics_port: u16 = metrics_port.parse().expect("a port");
	node.rpc_when_up("system_health", json!([]), Duration::from_secs(120));
	node.wait_finalized(1, Duration::from_secs(120));

	let mode = VerificationMode::Attested;
	let quote: Option<Balance> =
		state_call(&node, "VerityApi_quote", (0u32, mode)).expect("VerityApi_quote");
	let max_fee = quote.expect("quotable") + UNIT;
	let senders = [
		Sr25519Keyring::Bob,
		Sr25519Keyring::Charlie,
		Sr25519Keyring::Dave,
		Sr25519Keyring::Eve,
	];
	let genesis = genesis_hash(&node);
	// Exposure on every request at once: `(count + 1) × FraudSlash`, less the genesis bond.
	let alice = Sr25519Keyring::Alice;
	let needed = (count as Balance + 1) * FraudSlash::get();
	let extra = needed.saturating_sub(GENESIS_WORKER_BOND);
	if extra > 0 {
		let call = RuntimeCall::Workers(pallet_workers::Call::bond_extra { amount: extra });
		let nonce = next_nonce(&node, &alice.to_account_id());
		let xt = signed_extrinsic(alice, call, nonce, genesis);
		submit_and_wait_included(&node, &xt, Duration::from_secs(180));
	}
	let nonces: Vec<u32> = senders
		.iter()
		.map(|s| next_nonce(&node, &s.to_account_id()))
		.collect();
	let first = next_request_id(&node);
	let sent_at = node.best_number().expect("best");
	let started = Instant::now();
	for k in 0..count {
		let s = (k as usize) % senders.len();
		let call = request_call(k, max_fee);
		let nonce = nonces[s] + k / senders.len() as u32;
		let xt = signed_extrinsic(senders[s], call, nonce, genesis);
		node.rpc("author_submitExtrinsic", json!([to_hex(&xt)]))
			.expect("the pool takes the request");
	}
	// Every request is created (none refused for want of a worker with bond to spare).
	wait_for("every request created", Duration::from_secs(300), || {
		(next_request_id(&node) >= first + count as u64).then_some(())
	});
	let ids: Vec<RequestId> = (first..first + count as u64).collect();
	let receipts: Vec<Receipt<AccountId, Balance, BlockNumber>> = ids
		.iter()
		.map(|id| {
			wait_for(
				&format!("request {id} settled"),
				Duration::from_secs(900),
				|| receipt(&node, *id),
			)
		})
		.collect();
	let elapsed = started.elapsed();
	assert!(receipts.iter().all(|r| r.outcome == Outcome::Settled));

	let mut per_block: BTreeMap<BlockNumber, u32> = BTreeMap::new();
	for r in &receipts {
		*per_block.entry(r.finished_at).or_default() += 1;
	}
	let peak = per_block.values().max().copied().unwrap_or(0);
	let last = *per_block.keys().last().expect("some");
	let blocks = last.saturating_sub(sent_at).max(1);
	// Requests per block: the extrinsics of each block but its timestamp inherent and the
	// worker calls (general transactions: no signer) are the requests.
	let mut included: BTreeMap<u32, usize> = BTreeMap::new();
	for n in sent_at + 1..=last {
		let hash = node
			.rpc("chain_getBlockHash", json!([n]))
			.expect("block hash");
		let block = node.rpc("chain_getBlock", json!([hash])).expect("block");
		let xts = block["block"]["extrinsics"]
			.as_array()
			.map(Vec::len)
			.unwrap_or(0);
		included.insert(n, xts.saturating_sub(1));
	}
	println!("requests: {count}, submitted after block {sent_at}");
	println!("extrinsics per block (requests + worker calls): {included:?}");
	println!("settled per block: {per_block:?}");
	println!(
		"peak {peak} settled in one block; all settled by block {last} ({blocks} blocks, \
		 {:.1} per block on average, {:.0} s wall clock, block time {} ms)",
		count as f64 / blocks as f64,
		elapsed.as_secs_f64(),
		MILLI_SECS_PER_BLOCK
	);

	let scrape = || http_get(metrics_port, "/metrics").expect("the metrics endpoint answers");
	let sample = |body: &str, name: &str, labels: &[(&str, &str)]| {
		metric(body, name, labels).unwrap_or_else(|| panic!("no {name} {labels:?} in:\n{body}"))
	};
	let body = scrape();
	let inferences = sample(&body, "verity_inference_seconds_count", &[]);
	let inference_seconds = sample(&body, "verity_inference_seconds_sum", &[]);
	println!(
		"worker: {inferences} native inferences, {:.3} ms each on average ({:.0} per second per \
		 job thread)",
		inference_seconds / inferences * 1e3,
		inferences / inference_seconds
	);
	let cold = sample(
		&body,
		"verity_model_load_seconds_sum",
		&[("source", "compile")],
	);
	println!(
		"model store, cold (chain bytes → compiled, checked, prepacked): {:.2} ms",
		cold * 1e3
	);

	// A restart keeps the base path: the next request's model comes from the disk cache.
	node.restart();
	node.rpc_when_up("system_health", json!([]), Duration::from_secs(120));
	let bob = Sr25519Keyring::Bob;
	let id = next_request_id(&node);
	let xt = signed_extrinsic(
		bob,
		request_call(count, max_fee),
		next_nonce(&node, &bob.to_account_id()),
		genesis,
	);
	submit_and_wait_included(&node, &xt, Duration::from_secs(180));
	wait_for(
		"the request after the restart settled",
		Duration::from_secs(180),
		|| receipt(&node, id),
	);
	let body = scrape();
	let warm = sample(
		&body,
		"verity_model_load_seconds_sum",
		&[("source", "disk")],
	);
	println!(
		"model store, warm (disk cache → prepacked): {:.2} ms",
		warm * 1e3
	);
}

/// A request of the demo model on the input of seed `k`.
fn request_call(k: u32, max_fee: Balance) -> RuntimeCall {
	let pixels: Vec<f32> = (0..64).map(|i| ((i * 7 + k) % 17) as f32).collect();
	let input = vec![Tensor::from_f32(&[1, 64], pixels).expect("tensor")];
	RuntimeCall::Inference(pallet_inference::Call::request_inference {
		model: 0,
		input: input.encode().try_into().expect("fits"),
		mode: VerificationMode::Attested,
		max_fee,
	})
}
