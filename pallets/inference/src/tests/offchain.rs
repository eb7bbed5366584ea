//! The off-chain worker on the mock runtime, with the real canonical engine behind the
//! `verity_inference` host function: it serves assigned requests, commits and reveals quorum
//! results with a salt it keeps, audits other workers and proves a cheat wrong — every worker
//! call it sends is taken from the test transaction pool, authorized and dispatched as block
//! import would.

use std::sync::Arc;

use super::worker_call::{dispatch, pair_of};
use super::*;
use crate::{Call, Receipts, WorkerAction};
use codec::Decode;
use frame_support::{pallet_prelude::*, traits::Hooks};
use sp_core::{
	offchain::{
		testing::{PoolState, TestOffchainExt, TestTransactionPoolExt},
		OffchainDbExt, OffchainWorkerExt, TransactionPoolExt,
	},
	Pair,
};
use sp_keystore::{testing::MemoryKeystore, Keystore, KeystoreExt};
use verity_engine::model_root;
use verity_primitives::{
	crypto::{WorkerPublic, WORKER_KEY_TYPE},
	fraud::{first_difference, proof_material},
	host::{HostError, InferenceExt, InferenceHost, Job, JobOutput, JobStatus},
	io_hash, Outcome,
};

/// The real engine on the mock's test program.
struct EngineHost;

impl InferenceHost for EngineHost {
	fn job(&self, job: Job) -> Result<JobStatus, HostError> {
		let program = test_program();
		assert_eq!(job.model.model_root, H256(model_root(&program)));
		let inputs = Vec::<Tensor>::decode(&mut &job.input[..]).expect("the request input");
		let (outputs, trace) = verity_engine::execute(&program, &inputs).expect("it runs");
		let leaves: Vec<H256> = trace.leaves.iter().map(|l| H256(*l)).collect();
		let divergence = job
			.compare_with
			.as_ref()
			.and_then(|theirs| first_difference(&leaves, theirs))
			.map(|i| proof_material(&program, &ModelTree::new(&program), &inputs, i).unwrap());
		let hashes: Vec<H256> = outputs.iter().map(|t| H256(tensor_hash(t))).collect();
		Ok(JobStatus::Done(JobOutput {
			output: outputs.encode(),
			output_hash: io_hash(&hashes),
			trace_root: H256(trace.root()),
			leaves,
			divergence,
		}))
	}
}

/// The mock's externalities with an off-chain worker's extensions; the node's keystore holds
/// the keys of `local` workers. Every worker and challenger has a registered key.
fn offchain_ext(
	local: &[AccountId],
) -> (
	sp_io::TestExternalities,
	Arc<parking_lot::RwLock<PoolState>>,
) {
	let mut ext = new_test_ext();
	let (offchain, _) = TestOffchainExt::new();
	let (pool, pool_state) = TestTransactionPoolExt::new();
	let keystore = MemoryKeystore::new();
	for who in local {
		keystore
			.sr25519_generate_new(WORKER_KEY_TYPE, Some(&format!("//worker{who}")))
			.expect("a key");
	}
	ext.register_extension(OffchainDbExt::new(offchain.clone()));
	ext.register_extension(OffchainWorkerExt::new(offchain));
	ext.register_extension(TransactionPoolExt::new(pool));
	ext.register_extension(KeystoreExt::new(keystore));
	ext.register_extension(InferenceExt::new(Arc::new(EngineHost)));
	ext.execute_with(|| {
		for who in WORKERS.into_iter().chain([CHARLIE, DAVE]) {
			registry::Pallet::<Test>::set_key(who, WorkerPublic::from(pair_of(who).public()));
		}
	});
	(ext, pool_state)
}

/// Runs the off-chain worker of the current block and returns the worker calls it sent.
fn run_offchain_worker(pool: &Arc<parking_lot::RwLock<PoolState>>) -> Vec<Call<Test>> {
	Inference::offchain_worker(System::block_number());
	let sent: Vec<Vec<u8>> = std::mem::take(&mut pool.write().transactions);
	sent.into_iter()
		.map(|bytes| {
			let xt = frame_system::mocking::MockUncheckedExtrinsic::<Test>::decode(&mut &bytes[..])
				.expect("a transaction");
			match xt.function {
				RuntimeCall::Inference(call @ Call::worker_call { .. }) => call,
				other => panic!("not a worker call: {other:?}"),
			}
		})
		.collect()
}

/// Authorizes and dispatches a worker call, as block import does.
fn include(call: Call<Test>) {
	assert_ok!(dispatch(call));
}

#[test]
fn an_assigned_attested_request_is_served_once() {
	let (mut ext, pool) = offchain_ext(&WORKERS);
	ext.execute_with(|| {
		let id = request(ALICE, VerificationMode::Attested, 1);
		let calls = run_offchain_worker(&pool);
		assert_eq!(calls.len(), 1, "one result");
		assert!(matches!(
			&calls[0],
			Call::worker_call { action: WorkerAction::Submit { request, salt: None, .. }, .. }
				if *request == id
		));
		// A second run in the same block sends nothing again.
		assert!(run_offchain_worker(&pool).is_empty());
		include(calls.into_iter().next().unwrap());
		let receipt = Receipts::<Test>::get(id).expect("settled");
		assert_eq!(receipt.outcome, Outcome::Settled);
		assert_eq!(receipt.output_hash, honest(1).hashes().0);
	});
}

#[test]
fn a_node_without_the_assigned_workers_key_does_not_serve() {
	let (mut ext, pool) = offchain_ext(&[CHARLIE]);
	ext.execute_with(|| {
		let _ = request(ALICE, VerificationMode::Attested, 2);
		assert!(run_offchain_worker(&pool).is_empty());
	});
}

#[test]
fn quorum_workers_commit_then_reveal_with_their_kept_salt() {
	let (mut ext, pool) = offchain_ext(&WORKERS);
	ext.execute_with(|| {
		let id = request(ALICE, VerificationMode::Quorum(3), 3);
		let commits = run_offchain_worker(&pool);
		assert_eq!(commits.len(), 3);
		for call in commits {
			include(call);
		}
		assert!(matches!(status(id), RequestStatus::Revealing { .. }));
		run_to_block(System::block_number() + 1);
		let reveals = run_offchain_worker(&pool);
		assert_eq!(reveals.len(), 3);
		for call in reveals {
			include(call);
		}
		let receipt = Receipts::<Test>::get(id).expect("settled");
		assert_eq!(receipt.outcome, Outcome::Settled);
		assert_eq!(receipt.workers.len(), 3);
	});
}

#[test]
fn an_auditor_proves_a_cheating_optimistic_result_wrong() {
	let (mut ext, pool) = offchain_ext(&[CHARLIE]);
	ext.execute_with(|| {
		let seed = 4;
		let id = request(ALICE, VerificationMode::Optimistic, seed);
		let cheater = assigned(id)[0];
		submit(id, cheater, &cheating(seed, 2));
		let calls = run_offchain_worker(&pool);
		assert_eq!(calls.len(), 1, "one fraud proof");
		assert!(matches!(
			&calls[0],
			Call::worker_call {
				worker: CHARLIE,
				action: WorkerAction::Challenge { accused, node_index: 2, .. },
				..
			} if *accused == cheater
		));
		let bond = registry::Pallet::<Test>::bond(cheater);
		let before = free(CHARLIE);
		include(calls.into_iter().next().unwrap());
		assert_eq!(registry::Pallet::<Test>::bond(cheater), bond - FRAUD_SLASH);
		assert!(free(CHARLIE) > before, "the auditor is rewarded");
	});
}

#[test]
fn an_auditor_never_challenges_an_honest_result() {
	let (mut ext, pool) = offchain_ext(&[CHARLIE]);
	ext.execute_with(|| {
		for seed in 5..9 {
			let id = request(ALICE, VerificationMode::Optimistic, seed);
			let worker = assigned(id)[0];
			submit(id, worker, &honest(seed));
			let attested = request(BOB, VerificationMode::Attested, seed);
			let worker = assigned(attested)[0];
			submit(attested, worker, &honest(seed));
		}
		assert!(run_offchain_worker(&pool).is_empty());
	});
}

#[test]
fn in_a_quorum_dispute_the_honest_workers_node_proves_the_liar_wrong() {
	// The node holds every worker's key; the liar's result is posted by hand. The engine is
	// honest, so only the liar's trace differs from it.
	let (mut ext, pool) = offchain_ext(&WORKERS);
	ext.execute_with(|| {
		let seed = 9;
		let id = request(ALICE, VerificationMode::Quorum(2), seed);
		let workers = assigned(id);
		let (honest_worker, liar) = (workers[0], workers[1]);
		let (good, bad) = (honest(seed), cheating(seed, 1));
		commit(id, honest_worker, &good);
		commit(id, liar, &bad);
		reveal(id, honest_worker, &good);
		reveal(id, liar, &bad);
		assert!(matches!(
			status(id),
			RequestStatus::Disputed { leaf: 1, .. }
		));
		let calls = run_offchain_worker(&pool);
		assert_eq!(calls.len(), 1, "one fraud proof, against the liar only");
		assert!(matches!(
			&calls[0],
			Call::worker_call {
				worker,
				action: WorkerAction::Challenge { accused, node_index: 1, .. },
				..
			} if *worker == honest_worker && *accused == liar
		));
		let bond = registry::Pallet::<Test>::bond(liar);
		include(calls.into_iter().next().unwrap());
		assert_eq!(registry::Pallet::<Test>::bond(liar), bond - FRAUD_SLASH);
	});
}
