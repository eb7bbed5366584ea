//! A validator that withholds results (`--verity-dev-misbehave withhold`: it never answers) on
//! `--chain local`: every request assigned to it is penalised at its deadline, reassigned to an
//! honest node's worker and settled by it; the requester pays the quoted fee and nothing more.

mod common;

use std::time::Duration;

use codec::Encode;
use common::*;
use serde_json::json;
use sp_keyring::Sr25519Keyring;
use verity_engine::Tensor;
use verity_primitives::{Outcome, VerificationMode};
use verity_runtime::{AccountId, Balance, BlockNumber, RuntimeCall, UNIT};

#[test]
fn a_withholding_validators_requests_are_reassigned_and_settled() {
	let alice = spawn_worker_validator("alice", None, &[]);
	let boot = boot_address(&alice);
	let _bob = spawn_worker_validator("bob", Some(&boot), &[]);
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
}
