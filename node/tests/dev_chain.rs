//! `verity-node --dev` end to end: blocks are finalized and a signed transfer from Alice lands,
//! once, in a block authored after its submission, which moves Dave's balance; a runtime upgrade
//! by sudo takes effect on the running chain.

mod common;

use std::time::Duration;

use codec::{Decode, Encode};
use common::*;
use serde_json::json;
use sp_keyring::Sr25519Keyring;
use verity_engine::commit::blake2_256;
use verity_engine::Tensor;
use verity_primitives::{Outcome, VerificationMode};
use verity_runtime::{
	AccountId, Balance, BalancesCall, Nonce, Runtime, RuntimeCall, SudoCall, SystemCall, UNIT,
	VERSION,
};

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

/// The spec version the node reports for its best block.
fn spec_version(node: &Node) -> u32 {
	let version = node
		.rpc("state_getRuntimeVersion", json!([]))
		.expect("state_getRuntimeVersion");
	version["specVersion"]
		.as_u64()
		.expect("specVersion is a number") as u32
}

/// The upgrade of docs/operations.md ("Runtime upgrades") on a running dev node: sudo sets the
/// code of the next spec version with `sudo.sudoUncheckedWeight(system.setCode)`. The chain then
/// runs it: it reports the new version, refuses transactions signed for the old one and takes
/// those signed for the new, keeps finalizing, and its validator's worker still serves.
#[test]
fn a_runtime_upgrade_by_sudo_takes_effect_on_the_running_chain() {
	let node = Node::spawn("upgrade", &["--dev", "--tmp"]);
	node.rpc_when_up("system_health", json!([]), Duration::from_secs(60));
	node.wait_finalized(1, Duration::from_secs(90));
	assert_eq!(spec_version(&node), VERSION.spec_version);
	let next = VERSION.spec_version + 1;

	let alice = Sr25519Keyring::Alice;
	let genesis = genesis_hash(&node);
	let code = verity_runtime::upgrade_test::WASM_BINARY
		.expect("runtime/build.rs builds the upgrade-test runtime")
		.to_vec();
	let upgrade = RuntimeCall::Sudo(SudoCall::sudo_unchecked_weight {
		call: Box::new(RuntimeCall::System(SystemCall::set_code { code })),
		weight: sp_runtime::Weight::zero(),
	});
	let nonce = next_nonce(&node, &alice.to_account_id());
	let set_in = submit_and_wait_included(
		&node,
		&signed_extrinsic(alice, upgrade, nonce, genesis),
		Duration::from_secs(120),
	);
	wait_for(
		"the node reports the new spec version",
		Duration::from_secs(120),
		|| (spec_version(&node) == next).then_some(()),
	);
	// The fork-aware pool validates a submission against every view it keeps; until the blocks
	// before the upgrade are finalized, a view at one of them still runs the old code and would
	// accept the stale transaction.
	node.wait_finalized(set_in + 1, Duration::from_secs(120));

	let dave = Sr25519Keyring::Dave.to_account_id();
	let transfer = RuntimeCall::Balances(BalancesCall::transfer_keep_alive {
		dest: dave.clone().into(),
		value: UNIT,
	});
	let nonce = next_nonce(&node, &alice.to_account_id());
	let stale = signed_extrinsic(alice, transfer.clone(), nonce, genesis);
	let refused = node
		.rpc("author_submitExtrinsic", json!([to_hex(&stale)]))
		.expect_err("a transaction signed for the old spec version is refused");
	assert!(refused.contains("bad signature"), "{refused}");
	let dave_before = free_balance(&node, &dave);
	let fresh = signed_extrinsic_for(next, alice, transfer, nonce, genesis);
	let transferred_in = submit_and_wait_included(&node, &fresh, Duration::from_secs(120));
	assert!(transferred_in > set_in);
	assert_eq!(free_balance(&node, &dave), dave_before + UNIT);
	node.wait_finalized(transferred_in, Duration::from_secs(120));

	// The worker calls the new code's runtime APIs: Bob's attested request settles.
	let bob = Sr25519Keyring::Bob;
	let demo = 0;
	let mode = VerificationMode::Attested;
	let input = vec![Tensor::from_f32(&[1, 64], vec![1.0; 64]).expect("a [1, 64] tensor")];
	let fee: Option<Balance> = state_call(&node, "VerityApi_quote", (demo, mode)).expect("quote");
	let id = next_request_id(&node);
	let request = RuntimeCall::Inference(pallet_inference::Call::request_inference {
		model: demo,
		input: input.encode().try_into().expect("the input fits"),
		mode,
		max_fee: fee.expect("the demo model is quotable"),
	});
	let nonce = next_nonce(&node, &bob.to_account_id());
	submit_and_wait_included(
		&node,
		&signed_extrinsic_for(next, bob, request, nonce, genesis),
		Duration::from_secs(120),
	);
	let settled = wait_for("the request settled", Duration::from_secs(180), || {
		receipt(&node, id)
	});
	assert_eq!(settled.outcome, Outcome::Settled);
	assert_eq!(settled.workers.to_vec(), vec![alice.to_account_id()]);
}
