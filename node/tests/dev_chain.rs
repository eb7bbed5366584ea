//! `verity-node --dev` end to end: blocks are finalized and a signed transfer from Alice lands.

mod common;

use std::time::Duration;

use common::*;
use serde_json::json;
use sp_keyring::Sr25519Keyring;
use verity_runtime::{BalancesCall, RuntimeCall, UNIT};

#[test]
fn dev_chain_finalizes_and_includes_a_signed_transfer() {
	let node = Node::spawn("dev", &["--dev", "--tmp"]);
	node.rpc_when_up("system_health", json!([]), Duration::from_secs(60));

	node.wait_finalized(3, Duration::from_secs(90));

	let genesis = genesis_hash(&node);
	let alice = Sr25519Keyring::Alice.to_account_id();
	let dave = Sr25519Keyring::Dave.to_account_id();
	let nonce = node
		.rpc("system_accountNextIndex", json!([alice.to_string()]))
		.expect("nonce")
		.as_u64()
		.expect("nonce is a number") as u32;
	let dave_before = free_balance(&node, &dave);
	let amount = 42 * UNIT;

	let call = RuntimeCall::Balances(BalancesCall::transfer_keep_alive {
		dest: dave.clone().into(),
		value: amount,
	});
	let xt = to_hex(&signed_extrinsic(
		Sr25519Keyring::Alice,
		call,
		nonce,
		genesis,
	));
	let submitted_at = node.best_number().expect("best block");
	let tx_hash = node
		.rpc("author_submitExtrinsic", json!([xt]))
		.expect("the pool accepts it");
	assert!(
		tx_hash.as_str().is_some_and(|h| h.len() == 66),
		"a 32-byte hash: {tx_hash}"
	);

	// Find the block that carries our extrinsic: one authored after the submission (the best
	// block at submission already existed without it).
	let included_in = wait_for("the transfer in a block", Duration::from_secs(60), || {
		let best = node.best_number().ok()?;
		(submitted_at + 1..=best).find(|n| {
			let Ok(hash) = node.rpc("chain_getBlockHash", json!([n])) else {
				return false;
			};
			let Ok(block) = node.rpc("chain_getBlock", json!([hash])) else {
				return false;
			};
			block["block"]["extrinsics"]
				.as_array()
				.is_some_and(|xts| xts.iter().any(|x| x.as_str() == Some(xt.as_str())))
		})
	});
	// The block with the transfer is finalized too.
	node.wait_finalized(included_in, Duration::from_secs(90));
	assert_eq!(
		free_balance(&node, &dave),
		dave_before + amount,
		"Dave received the transfer"
	);
	assert_eq!(
		node.rpc("system_accountNextIndex", json!([alice.to_string()]))
			.unwrap()
			.as_u64(),
		Some(nonce as u64 + 1),
		"Alice's nonce advanced"
	);
}
