//! Load figures for docs/benchmarks.md, run by hand (not in CI; it asserts only that every
//! request settles, never a time):
//!
//! ```sh
//! cargo test --release --workspace --test worker_load -- --ignored --nocapture
//! ```
//!
//! A dev node; `VERITY_LOAD_REQUESTS` (default 200) attested requests for the demo model sent at
//! once from four accounts. Prints when they were included and settled, the settled-per-block
//! peak and the request → settled latency in blocks and seconds.

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
use verity_runtime::{AccountId, Balance, BlockNumber, RuntimeCall, MILLI_SECS_PER_BLOCK, UNIT};

#[test]
#[ignore = "a measurement; run by hand"]
fn settled_inferences_per_block_at_full_load() {
	let count: u32 = std::env::var("VERITY_LOAD_REQUESTS")
		.ok()
		.and_then(|v| v.parse().ok())
		.unwrap_or(200);
	let node = Node::spawn("load", &["--dev", "--tmp"]);
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
	let nonces: Vec<u32> = senders
		.iter()
		.map(|s| next_nonce(&node, &s.to_account_id()))
		.collect();
	let first = next_request_id(&node);
	let sent_at = node.best_number().expect("best");
	let started = Instant::now();
	for k in 0..count {
		let s = (k as usize) % senders.len();
		let pixels: Vec<f32> = (0..64).map(|i| ((i * 7 + k) % 17) as f32).collect();
		let input = vec![Tensor::from_f32(&[1, 64], pixels).expect("tensor")];
		let call = RuntimeCall::Inference(pallet_inference::Call::request_inference {
			model: 0,
			input: input.encode().try_into().expect("fits"),
			mode,
			max_fee,
		});
		let nonce = nonces[s] + k / senders.len() as u32;
		let xt = signed_extrinsic(senders[s], call, nonce, genesis);
		node.rpc("author_submitExtrinsic", json!([to_hex(&xt)]))
			.expect("the pool takes the request");
	}
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
}
