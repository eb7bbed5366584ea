//! Three validators (Alice, Bob, Charlie) serve and audit each other with their off-chain
//! workers on `--chain local`. Charlie's node cheats (`--verity-dev-misbehave tamper-leaf`: a
//! wrong first trace leaf, an honest output). Every attested result Charlie posts is proven
//! wrong by another node's audit and its receipt turns `Fraudulent`, the requester compensated;
//! the honest nodes' results are never challenged; a quorum with Charlie in it is decided by
//! the honest nodes' fraud proof.
//!
//! A second network runs two other cheats side by side: Bob serves with a wrong model (its first
//! weight tensor changed, `wrong-model`) and Charlie answers every request after his first with that first
//! answer again (`copy`). Alice's audits prove each such result wrong.

mod common;

use std::{collections::HashMap, time::Duration};

use codec::Encode;
use common::*;
use serde_json::json;
use sp_keyring::Sr25519Keyring;
use verity_engine::Tensor;
use verity_primitives::{Outcome, RequestId, VerificationMode};
use verity_runtime::{AccountId, Balance, RuntimeCall, UNIT};

const DEMO: u32 = 0;

/// A demo-model input; different seeds give different inputs (the smallest pixel is
/// `seed / 16`, the first one fixes `seed % 16`).
fn demo_input(seed: u32) -> Vec<Tensor> {
	let pixels: Vec<f32> = (0..64)
		.map(|i| ((i * 5 + seed) % 16 + seed / 16) as f32)
		.collect();
	vec![Tensor::from_f32(&[1, 64], pixels).expect("a [1, 64] tensor")]
}

/// `count` requests from `who` in `mode` on the inputs of seeds `first_seed..`, sent at once
/// (consecutive nonces); returns their ids.
fn request_many(
	node: &Node,
	who: Sr25519Keyring,
	mode: VerificationMode,
	first_seed: u32,
	count: u32,
) -> Vec<RequestId> {
	let quote: Option<Balance> =
		state_call(node, "VerityApi_quote", (DEMO, mode)).expect("VerityApi_quote");
	let max_fee = quote.expect("the demo model takes this mode") + UNIT;
	let first = next_request_id(node);
	let genesis = genesis_hash(node);
	let nonce = next_nonce(node, &who.to_account_id());
	let mut last = None;
	for k in 0..count {
		let call = RuntimeCall::Inference(pallet_inference::Call::request_inference {
			model: DEMO,
			input: demo_input(first_seed + k)
				.encode()
				.try_into()
				.expect("the input fits"),
			mode,
			max_fee,
		});
		last = Some(signed_extrinsic(who, call, nonce + k, genesis));
		if k + 1 < count {
			node.rpc(
				"author_submitExtrinsic",
				json!([to_hex(last.as_ref().unwrap())]),
			)
			.expect("the pool takes the request");
		}
	}
	submit_and_wait_included(node, &last.expect("count > 0"), Duration::from_secs(180));
	// All requests are from one account with consecutive nonces: the last one's inclusion means
	// the others are in too; their ids follow `first`.
	let ids: Vec<RequestId> = (first..).take(count as usize).collect();
	ids
}

fn worker_bond(node: &Node, who: &AccountId) -> Balance {
	worker_info(node, who).bond
}

/// Alice, Bob and Charlie as auditing (rate 1) worker validators of `--chain local`, Bob and
/// Charlie cheating as `bob_cheat` / `charlie_cheat` say; returns once all are peered and
/// finality has started.
fn network(bob_cheat: Option<&str>, charlie_cheat: Option<&str>) -> [Node; 3] {
	fn flags(cheat: Option<&str>) -> Vec<&str> {
		let mut flags = vec!["--verity-audit-rate", "1"];
		if let Some(how) = cheat {
			flags.extend(["--verity-dev-misbehave", how]);
		}
		flags
	}
	let alice = spawn_worker_validator("alice", None, &flags(None));
	let boot = boot_address(&alice);
	let bob = spawn_worker_validator("bob", Some(&boot), &flags(bob_cheat));
	let charlie = spawn_worker_validator("charlie", Some(&boot), &flags(charlie_cheat));
	for node in [&alice, &bob, &charlie] {
		wait_for(
			&format!("{} to see 2 peers", node.name),
			Duration::from_secs(120),
			|| {
				let health = node.rpc("system_health", json!([])).ok()?;
				(health["peers"].as_u64()? >= 2).then_some(())
			},
		);
	}
	alice.wait_finalized(2, Duration::from_secs(180));
	[alice, bob, charlie]
}

#[test]
fn honest_nodes_audit_and_prove_a_cheating_validator_wrong() {
	let [alice, _bob, _charlie] = network(None, Some("tamper-leaf"));
	let charlie_account = Sr25519Keyring::Charlie.to_account_id();
	let bond_before = worker_bond(&alice, &charlie_account);

	// Attested requests land on all three workers; Charlie's are proven wrong by an audit.
	let ids = request_many(
		&alice,
		Sr25519Keyring::Dave,
		VerificationMode::Attested,
		0,
		12,
	);
	let mut charlies = 0;
	for id in &ids {
		let settled = wait_for(
			&format!("request {id} served"),
			Duration::from_secs(240),
			|| receipt(&alice, *id),
		);
		if settled.workers.contains(&charlie_account) {
			charlies += 1;
			wait_for(
				&format!("Charlie's result on request {id} proven fraudulent"),
				Duration::from_secs(240),
				|| (receipt(&alice, *id)?.outcome == Outcome::Fraudulent).then_some(()),
			);
		}
	}
	assert!(
		charlies > 0,
		"with 12 requests over 3 workers, some land on Charlie"
	);
	// Honest results stay settled: audits never challenge them.
	for id in &ids {
		let r = receipt(&alice, *id).expect("a receipt");
		if !r.workers.contains(&charlie_account) {
			assert_eq!(
				r.outcome,
				Outcome::Settled,
				"request {id} by {:?}",
				r.workers
			);
		}
	}
	assert!(
		worker_bond(&alice, &charlie_account) < bond_before,
		"Charlie was slashed"
	);

	// A quorum of all three: the honest nodes' fraud proof at the diverging leaf decides it.
	let bond_before = worker_bond(&alice, &charlie_account);
	let [id] = request_many(
		&alice,
		Sr25519Keyring::Eve,
		VerificationMode::Quorum(3),
		0,
		1,
	)[..] else {
		unreachable!()
	};
	let decided = wait_for("the quorum decided", Duration::from_secs(300), || {
		receipt(&alice, id)
	});
	assert!(
		worker_bond(&alice, &charlie_account) < bond_before,
		"Charlie was slashed in the quorum dispute (outcome {:?}, workers {:?})",
		decided.outcome,
		decided.workers
	);
	assert!(!decided.workers.contains(&charlie_account));
}

#[test]
fn a_wrong_model_and_copied_answers_are_proven_wrong() {
	let [alice, _bob, _charlie] = network(Some("wrong-model"), Some("copy"));
	let bob_account = Sr25519Keyring::Bob.to_account_id();
	let charlie_account = Sr25519Keyring::Charlie.to_account_id();
	let bonds_before = [&bob_account, &charlie_account].map(|w| worker_bond(&alice, w));

	// Attested requests on distinct inputs, in rounds until Bob has served one and Charlie two
	// (his first answer is computed, the later ones copy it).
	let mut served: HashMap<AccountId, Vec<RequestId>> = HashMap::new();
	let mut seed = 0;
	for _round in 0..5 {
		let ids = request_many(
			&alice,
			Sr25519Keyring::Dave,
			VerificationMode::Attested,
			seed,
			6,
		);
		seed += 6;
		for id in ids {
			let r = wait_for(
				&format!("request {id} served"),
				Duration::from_secs(240),
				|| receipt(&alice, id),
			);
			for w in r.workers {
				served.entry(w).or_default().push(id);
			}
		}
		let count = |w: &AccountId| served.get(w).map_or(0, Vec::len);
		if count(&bob_account) >= 1 && count(&charlie_account) >= 2 {
			break;
		}
	}
	let bobs = served.get(&bob_account).cloned().unwrap_or_default();
	let charlies = served.get(&charlie_account).cloned().unwrap_or_default();
	assert!(
		!bobs.is_empty() && charlies.len() >= 2,
		"in 30 requests over 3 workers Bob served {bobs:?}, Charlie {charlies:?}"
	);
	let fraudulent = |ids: &[RequestId]| {
		ids.iter()
			.filter(|id| receipt(&alice, **id).is_some_and(|r| r.outcome == Outcome::Fraudulent))
			.count()
	};
	// Every result of the wrong model is proven wrong.
	wait_for(
		&format!("Bob's results on {bobs:?} proven fraudulent"),
		Duration::from_secs(300),
		|| (fraudulent(&bobs) == bobs.len()).then_some(()),
	);
	// Every copied answer is proven wrong; only the one Charlie computed stands.
	wait_for(
		&format!("Charlie's copied results among {charlies:?} proven fraudulent"),
		Duration::from_secs(300),
		|| (fraudulent(&charlies) >= charlies.len() - 1).then_some(()),
	);
	for id in served
		.get(&Sr25519Keyring::Alice.to_account_id())
		.into_iter()
		.flatten()
	{
		assert_eq!(
			receipt(&alice, *id).expect("a receipt").outcome,
			Outcome::Settled,
			"Alice's honest result on request {id} stands"
		);
	}
	for (who, before) in [&bob_account, &charlie_account]
		.into_iter()
		.zip(bonds_before)
	{
		assert!(worker_bond(&alice, who) < before, "{who} was slashed");
	}
}
