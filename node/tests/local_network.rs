//! Three validators (Alice, Bob, Charlie) on 127.0.0.1 with `--chain local`: they peer, each
//! authors blocks, and all of them finalize.

mod common;

use std::{collections::BTreeSet, time::Duration};

use codec::Decode;
use common::*;
use serde_json::json;
use sp_consensus_aura::{Slot, AURA_ENGINE_ID};
use verity_runtime::Header;

const VALIDATORS: [&str; 3] = ["alice", "bob", "charlie"];

fn validator_args(name: &str, bootnode: Option<&str>) -> Vec<String> {
	// Validators of a non-dev chain need a network key; each gets a fixed, distinct one.
	let index = VALIDATORS
		.iter()
		.position(|v| *v == name)
		.expect("a known validator")
		+ 1;
	let mut args: Vec<String> = vec![
		"--chain".into(),
		"local".into(),
		"--validator".into(),
		"--allow-private-ip".into(),
		format!("--{name}"),
		"--node-key".into(),
		format!("{index:064x}"),
	];
	if let Some(boot) = bootnode {
		args.push("--bootnodes".into());
		args.push(boot.into());
	}
	args
}

fn spawn_validator(name: &str, bootnode: Option<&str>) -> Node {
	let args = validator_args(name, bootnode);
	let refs: Vec<&str> = args.iter().map(String::as_str).collect();
	let node = Node::spawn(name, &refs);
	node.rpc_when_up("system_health", json!([]), Duration::from_secs(60));
	node
}

/// The authority index that authored `header`: Aura's slot modulo the authority count.
fn author_index(header: &Header, authorities: u64) -> Option<u64> {
	header.digest.logs.iter().find_map(|log| {
		let (id, data) = log.as_pre_runtime()?;
		(id == AURA_ENGINE_ID)
			.then(|| Slot::decode(&mut &data[..]).ok())?
			.map(|s| *s % authorities)
	})
}

#[test]
fn three_validators_peer_author_and_finalize() {
	let alice = spawn_validator("alice", None);
	let peer_id = alice.rpc("system_localPeerId", json!([])).expect("peer id");
	let boot = format!(
		"/ip4/127.0.0.1/tcp/{}/p2p/{}",
		alice.p2p_port,
		peer_id.as_str().unwrap()
	);
	let nodes = [
		alice,
		spawn_validator("bob", Some(&boot)),
		spawn_validator("charlie", Some(&boot)),
	];

	for node in &nodes {
		wait_for(
			&format!("{} to see 2 peers", node.name),
			Duration::from_secs(60),
			|| {
				let health = node.rpc("system_health", json!([])).ok()?;
				(health["peers"].as_u64()? >= 2).then_some(())
			},
		);
	}

	// Every validator authors in its own slots; wait until each one has.
	let authors = wait_for(
		"blocks by all three authors",
		Duration::from_secs(120),
		|| {
			let best = nodes[0].best_number().ok()?;
			let mut seen = BTreeSet::new();
			for n in 1..=best {
				let hash = nodes[0].rpc("chain_getBlockHash", json!([n])).ok()?;
				let header: Header =
					serde_json::from_value(nodes[0].rpc("chain_getHeader", json!([hash])).ok()?)
						.ok()?;
				seen.insert(author_index(&header, VALIDATORS.len() as u64)?);
			}
			(seen.len() == VALIDATORS.len()).then_some(seen)
		},
	);
	assert_eq!(authors.len(), 3);

	// All three finalize, and agree on the finalized chain.
	for node in &nodes {
		node.wait_finalized(5, Duration::from_secs(120));
	}
	let hash_at_5: Vec<_> = nodes
		.iter()
		.map(|n| n.rpc("chain_getBlockHash", json!([5])).expect("hash"))
		.collect();
	assert!(
		hash_at_5.windows(2).all(|w| w[0] == w[1]),
		"finalized block 5 differs: {hash_at_5:?}"
	);
}
