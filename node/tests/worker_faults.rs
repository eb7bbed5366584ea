//! A validator that withholds results (`--verity-dev-misbehave withhold`: it never answers) on
//! `--chain local`: every request assigned to it is penalised at its deadline, reassigned to an
//! honest node's worker and settled by it; the requester pays the quoted fee and nothing more.
//! A quorum member whose node restarts between its commitment and the reveal still reveals.
//! A validator killed (SIGKILL) while a quorum request waits on it misses its deadline; the
//! request settles with the other two, and the requester pays for their work only.

mod common;

use std::time::Duration;

use codec::Encode;
use common::*;
use serde_json::json;
use sp_keyring::Sr25519Keyring;
use verity_engine::Tensor;
use verity_primitives::{AssignmentState, Outcome, Request, RequestId, VerificationMode};
use verity_runtime::{AccountId, Balance, BlockNumber, RuntimeCall, UNIT};

#[test]
fn a_withholding_validators_requests_are_reassigned_and_settled() {
	let mut alice = spawn_worker_validator("alice", None, &[]);
	let boot = boot_address(&alice);
	let mut bob = spawn_worker_validator("bob", Some(&boot), &[]);
	let _charlie = spawn_worker_validator(
		"charlie",
		Some(&boot),
		&["--verity-dev-misbehave", "withhold"],
	);
	wait_for("alice to see 2 peers", Duration::from_secs(120), || {
		let health = alice.rpc("system_health", json!([])).ok()?;
		(health["peers"].as_u64()? >= 2).then_some(())
	});
	alice.wait_finalized(2, Duration::from_secs(180));
	let charlie = Sr25519Keyring::Charlie.to_account_id();
	let missed_before = worker_info(&alice, &charlie).missed;

	let mode = VerificationMode::Attested;
	let quote: Balance = state_call::<Option<Balance>>(&alice, "VerityApi_quote", (0u32, mode))
		.expect("VerityApi_quote")
		.expect("quotable");
	let dave = Sr25519Keyring::Dave;
	let genesis = genesis_hash(&alice);
	let (mut first, mut count, mut on_charlie) = (None, 0u32, 0);
	// Batches of 6 until one lands on Charlie (each request does with probability 1/3).
	for batch in 0..5u32 {
		let batch_first = next_request_id(&alice);
		first.get_or_insert(batch_first);
		let nonce = next_nonce(&alice, &dave.to_account_id());
		let mut last = None;
		for k in 0..6u32 {
			let seed = batch * 6 + k;
			let pixels: Vec<f32> = (0..64).map(|i| ((i * 3 + seed) % 16) as f32).collect();
			let input = vec![Tensor::from_f32(&[1, 64], pixels).expect("tensor")];
			let call = RuntimeCall::Inference(pallet_inference::Call::request_inference {
				model: 0,
				input: input.encode().try_into().expect("fits"),
				mode,
				max_fee: quote + UNIT,
			});
			let xt = signed_extrinsic(dave, call, nonce + k, genesis);
			if k < 5 {
				alice
					.rpc("author_submitExtrinsic", json!([to_hex(&xt)]))
					.expect("the pool takes the request");
			}
			last = Some(xt);
		}
		submit_and_wait_included(&alice, &last.expect("a batch"), Duration::from_secs(180));
		count += 6;
		on_charlie += (batch_first..batch_first + 6)
			.filter(|id| {
				state_call::<Option<verity_primitives::Request<AccountId, Balance, BlockNumber>>>(
					&alice,
					"VerityApi_request",
					*id,
				)
				.expect("VerityApi_request")
				.is_some_and(|r| r.assignments.iter().any(|a| a.worker == charlie))
			})
			.count();
		if on_charlie > 0 {
			break;
		}
	}
	assert!(on_charlie > 0, "some request was assigned to Charlie");
	let first = first.expect("a batch was sent");

	// Charlie's share is served only after its deadline (ResultTimeout, 20 blocks) passes.
	for id in first..first + count as u64 {
		let r = wait_for(
			&format!("request {id} settled"),
			Duration::from_secs(600),
			|| receipt(&alice, id),
		);
		assert_eq!(r.outcome, Outcome::Settled, "request {id}");
		assert!(
			!r.workers.contains(&charlie),
			"request {id} settled by {:?}",
			r.workers
		);
		assert_eq!(
			r.paid, quote,
			"request {id}: the requester paid the quoted fee"
		);
	}
	let missed = worker_info(&alice, &charlie).missed - missed_before;
	assert!(
		missed as usize >= on_charlie,
		"Charlie was penalised for each deadline it missed"
	);
	eprintln!(
		"Charlie missed {missed} of {count} deadlines; all requests settled by Alice and Bob"
	);

	// A Quorum(2) with Charlie in it: the honest member commits, Charlie withholds, so the commit
	// phase lasts until its deadline. The honest member's node is restarted meanwhile and must
	// still reveal, with the salt it kept in its off-chain storage, once the replacement commits.
	let eve = Sr25519Keyring::Eve;
	let quorum = VerificationMode::Quorum(2);
	let quorum_fee = state_call::<Option<Balance>>(&alice, "VerityApi_quote", (0u32, quorum))
		.expect("VerityApi_quote")
		.expect("the demo model takes quorums");
	let mut found = None;
	for attempt in 0..6u32 {
		let id = next_request_id(&alice);
		let pixels: Vec<f32> = (0..64).map(|i| ((i * 11 + attempt) % 16) as f32).collect();
		let input = vec![Tensor::from_f32(&[1, 64], pixels).expect("tensor")];
		let call = RuntimeCall::Inference(pallet_inference::Call::request_inference {
			model: 0,
			input: input.encode().try_into().expect("fits"),
			mode: quorum,
			max_fee: quorum_fee + UNIT,
		});
		let xt = signed_extrinsic(eve, call, next_nonce(&alice, &eve.to_account_id()), genesis);
		submit_and_wait_included(&alice, &xt, Duration::from_secs(180));
		let assigned: Vec<AccountId> = open_request(&alice, id)
			.map(|r| r.assignments.iter().map(|a| a.worker.clone()).collect())
			.unwrap_or_default();
		if assigned.contains(&charlie) {
			let honest = assigned
				.into_iter()
				.find(|w| *w != charlie)
				.expect("two members");
			found = Some((id, honest));
			break;
		}
	}
	let (id, honest) = found.expect("a quorum with Charlie in it (2/3 chance per request)");
	let (restarted, observer) = if honest == Sr25519Keyring::Alice.to_account_id() {
		(&mut alice, &bob)
	} else {
		(&mut bob, &alice)
	};
	wait_for(
		"the honest member's commitment",
		Duration::from_secs(120),
		|| {
			open_request(observer, id)?
				.assignments
				.iter()
				.any(|a| a.worker == honest && matches!(a.state, AssignmentState::Committed(_)))
				.then_some(())
		},
	);
	restarted.restart();
	restarted.rpc_when_up("system_health", json!([]), Duration::from_secs(120));
	let settled = wait_for("the quorum settled", Duration::from_secs(600), || {
		receipt(observer, id)
	});
	assert_eq!(settled.outcome, Outcome::Settled);
	assert!(
		settled.workers.contains(&honest),
		"the restarted member revealed: {:?}",
		settled.workers
	);
	assert!(!settled.workers.contains(&charlie));
}

#[test]
fn a_validator_killed_mid_request_leaves_the_request_to_the_others() {
	let alice = spawn_worker_validator("alice", None, &[]);
	let boot = boot_address(&alice);
	let bob = spawn_worker_validator("bob", Some(&boot), &[]);
	let mut charlie = spawn_worker_validator("charlie", Some(&boot), &[]);
	wait_for("alice to see 2 peers", Duration::from_secs(120), || {
		let health = alice.rpc("system_health", json!([])).ok()?;
		(health["peers"].as_u64()? >= 2).then_some(())
	});
	alice.wait_finalized(2, Duration::from_secs(180));
	let charlie_id = Sr25519Keyring::Charlie.to_account_id();
	let workers = [Sr25519Keyring::Alice, Sr25519Keyring::Bob].map(|k| k.to_account_id());
	let bonds = workers.clone().map(|w| worker_info(&alice, &w).bond);
	let missed_before = worker_info(&alice, &charlie_id).missed;

	// A quorum of all three; Charlie's node dies as soon as the request is in a block (before
	// or after its commitment: either way it cannot reveal).
	let mode = VerificationMode::Quorum(3);
	let quote = state_call::<Option<Balance>>(&alice, "VerityApi_quote", (0u32, mode))
		.expect("VerityApi_quote")
		.expect("quotable");
	let id = next_request_id(&alice);
	let pixels: Vec<f32> = (0..64).map(|i| ((i * 5 + 1) % 16) as f32).collect();
	let input = vec![Tensor::from_f32(&[1, 64], pixels).expect("tensor")];
	let call = RuntimeCall::Inference(pallet_inference::Call::request_inference {
		model: 0,
		input: input.encode().try_into().expect("fits"),
		mode,
		max_fee: quote,
	});
	let dave = Sr25519Keyring::Dave;
	let xt = signed_extrinsic(
		dave,
		call,
		next_nonce(&alice, &dave.to_account_id()),
		genesis_hash(&alice),
	);
	submit_and_wait_included(&alice, &xt, Duration::from_secs(180));
	charlie.kill();

	let settled = wait_for("the quorum settled", Duration::from_secs(900), || {
		receipt(&alice, id)
	});
	assert_eq!(settled.outcome, Outcome::Settled);
	let mut paid = settled.workers.to_vec();
	paid.sort();
	let mut expected = workers.to_vec();
	expected.sort();
	assert_eq!(paid, expected, "settled by the two live validators");
	assert_eq!(
		settled.paid * 3,
		quote * 2,
		"the requester paid two replicas of three"
	);
	assert_eq!(worker_info(&alice, &charlie_id).missed, missed_before + 1);
	for (w, b) in workers.iter().zip(bonds) {
		assert_eq!(
			worker_info(&bob, w).bond,
			b,
			"a live worker's bond is untouched"
		);
	}
}

fn open_request(node: &Node, id: RequestId) -> Option<Request<AccountId, Balance, BlockNumber>> {
	state_call(node, "VerityApi_request", id).expect("VerityApi_request")
}
