//! `verity-node --dev` end to end: blocks are finalized and a signed transfer from Alice lands,
//! once, in a block authored after its submission, which moves Dave's balance.

mod common;

use std::time::Duration;

use codec::{Decode, Encode};
use common::*;
use serde_json::json;
use sp_keyring::Sr25519Keyring;
use verity_engine::commit::blake2_256;
use verity_runtime::{AccountId, Balance, BalancesCall, Nonce, Runtime, RuntimeCall, UNIT};

/// The free balance of `who` in the state after block `number`.
fn free_balance_at(node: &Node, who: &AccountId, number: u32) -> Balance {
	let hash = node
		.rpc("chain_getBlockHash", json!([number]))
		.expect("block hash");
	let key = frame_system::Account::<Runtime>::hashed_key_for(who);
	let v = node
		.rpc(
			"state_getStorage",
			json!([format!("0x{}", hex::encode(key)), hash]),
		)
		.expect("state_getStorage");
	if v.is_null() {
		return 0;
	}
	let bytes = hex_bytes(&v).expect("hex storage");
	frame_system::AccountInfo::<Nonce, pallet_balances::AccountData<Balance>>::decode(
		&mut &bytes[..],
	)
	.expect("AccountInfo decodes")
	.data
	.free
}

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
	let extrinsic = signed_extrinsic(Sr25519Keyring::Alice, call, nonce, genesis);
	let xt = to_hex(&extrinsic);
	let submitted_at = node.best_number().expect("best block");
	let tx_hash = node
		.rpc("author_submitExtrinsic", json!([xt]))
		.expect("the pool accepts it");
	let expected_hash = format!("0x{}", hex::encode(blake2_256(&extrinsic.encode())));
	assert_eq!(
		tx_hash.as_str(),
		Some(expected_hash.as_str()),
		"the pool names the extrinsic by its blake2-256 hash"
	);

	// Every block carrying our extrinsic, searched from genesis rather than from the submission:
	// that it landed once, and only after it was submitted, is then a finding, not an assumption.
	let carrying = wait_for("the transfer in a block", Duration::from_secs(60), || {
		let best = node.best_number().ok()?;
		let mut found = Vec::new();
		for n in 1..=best {
			let hash = node.rpc("chain_getBlockHash", json!([n])).ok()?;
			let block = node.rpc("chain_getBlock", json!([hash])).ok()?;
			let xts = block["block"]["extrinsics"].as_array()?;
			if xts.iter().any(|x| x.as_str() == Some(xt.as_str())) {
				found.push(n);
			}
		}
		(!found.is_empty()).then_some(found)
	});
	assert_eq!(carrying.len(), 1, "included exactly once: {carrying:?}");
	let included_in = carrying[0];
	assert!(
		included_in > submitted_at,
		"included in block {included_in}, but the best block was {submitted_at} at submission"
	);
	// The block with the transfer is finalized too.
	node.wait_finalized(included_in, Duration::from_secs(90));
	// The transfer happened in that block: Dave's balance moves from its parent to it.
	assert_eq!(
		free_balance_at(&node, &dave, included_in - 1),
		dave_before,
		"Dave's balance before block {included_in}"
	);
	assert_eq!(
		free_balance_at(&node, &dave, included_in),
		dave_before + amount,
		"Dave received the transfer in block {included_in}"
	);
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
