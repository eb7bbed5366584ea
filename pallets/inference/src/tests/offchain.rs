//! The off-chain worker on the mock runtime, with the real canonical engine behind the
//! `verity_inference` host function: it serves assigned requests, commits and reveals quorum
//! results with a salt it keeps, audits other workers and proves a cheat wrong — every worker
//! call it sends is taken from the test transaction pool, authorized and dispatched as block
//! import would.

use std::sync::Arc;

use super::worker_call::{dispatch, pair_of};
use super::*;
use crate::{Call, Event, Receipts, WorkerAction};
use codec::Decode;
use frame_support::traits::Hooks;
use sp_core::{
	offchain::{
		testing::{PoolState, TestOffchainExt, TestTransactionPoolExt},
		OffchainDbExt, OffchainWorkerExt, TransactionPoolExt,
	},
	Pair,
};
use sp_keystore::{testing::MemoryKeystore, Keystore, KeystoreExt};
use verity_engine::{model_root, ExecOptions, Prepared};
use verity_primitives::{
	crypto::{WorkerPublic, WORKER_KEY_TYPE},
	fraud::Execution,
	host::{HostError, InferenceExt, InferenceHost, Job, JobStatus},
	Outcome,
};

/// The real engine on the mock's programs.
struct EngineHost;

impl InferenceHost for EngineHost {
	fn job(&self, job: Job) -> Result<JobStatus, HostError> {
		let Some(program) = [test_program(), lookup_program()]
			.into_iter()
			.find(|p| H256(model_root(p)) == job.model.model_root)
		else {
			// As the node's model store refuses a model whose compiled root differs.
			return Ok(JobStatus::ModelRefused {
				reason: b"model root mismatch".to_vec(),
			});
		};
		let inputs = Vec::<Tensor>::decode(&mut &job.input[..]).expect("the request input");
		let prepared = Prepared::new(program.clone()).expect("valid");
		let execution = Execution::run(&prepared, &inputs, &ExecOptions::default()).expect("runs");
		let output = execution
			.into_job_output(
				&program,
				&ModelTree::new(&program),
				&inputs,
				job.compare_with.as_deref(),
			)
			.expect("proof material");
		Ok(JobStatus::Done(output))
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

#[test]
fn inputs_the_model_cannot_run_are_answered_with_failures_and_cost_honest_workers_nothing() {
	// The penalty-farming attack: a requester sends inputs on which the model fails (ids out of
	// the lookup table's range), hoping honest workers post nothing, miss the deadline and pay
	// it `MissPenalty`. The workers' nodes post failure results instead: every request settles,
	// the requester pays for the work and no worker loses anything.
	let (mut ext, pool) = offchain_ext(&WORKERS);
	ext.execute_with(|| {
		let model = lookup_model();
		let bonds: Vec<Balance> = WORKERS
			.iter()
			.map(|w| registry::Pallet::<Test>::bond(*w))
			.collect();
		let before = free(ALICE);
		let modes = [
			VerificationMode::Attested,
			VerificationMode::Optimistic,
			VerificationMode::Quorum(2),
		];
		let mut fees = 0;
		let ids: Vec<RequestId> = (0..6)
			.map(|k| {
				let mode = modes[k % modes.len()];
				fees += Inference::quote(model, mode).unwrap();
				request_lookup(ALICE, model, mode, [0, 7 + k as i64])
			})
			.collect();
		let last = System::block_number() + REQUEST_LIFETIME + CHALLENGE_PERIOD + 2;
		while System::block_number() < last {
			for call in run_offchain_worker(&pool) {
				include(call);
			}
			run_to_block(System::block_number() + 1);
		}
		for id in ids {
			let receipt = Receipts::<Test>::get(id).expect("finished");
			assert_eq!(
				receipt.outcome,
				Outcome::ExecutionFailed { node: 1 },
				"request {id}"
			);
		}
		for (w, bond) in WORKERS.iter().zip(bonds) {
			assert_eq!(
				registry::Pallet::<Test>::bond(*w),
				bond,
				"worker {w} lost bond"
			);
			assert_eq!(
				registry::Misses::<Test>::get(w),
				0,
				"worker {w} missed a deadline"
			);
		}
		assert_eq!(
			free(ALICE),
			before - fees,
			"the requester pays for the work, gains nothing"
		);
		assert!(!inference_events()
			.iter()
			.any(|e| matches!(e, Event::DeadlineMissed { .. })));
	});
}

#[test]
fn a_model_no_node_can_serve_is_declined_by_every_worker_and_refunded_in_full() {
	// The registered root matches no program the engine compiles: every node refuses the
	// model. Instead of staying silent (and paying `MissPenalty` at each deadline) each worker
	// declines; the request passes from worker to worker and is refunded.
	let (mut ext, pool) = offchain_ext(&WORKERS);
	ext.execute_with(|| {
		let mut info = model_info(&test_program());
		info.model_root = H256::repeat_byte(7);
		let model = Registry::add_model(info);
		let before = free(ALICE);
		let id = crate::NextRequestId::<Test>::get();
		assert_ok!(Inference::request_inference(
			RuntimeOrigin::signed(ALICE),
			model,
			encode_tensors(&[input_tensor(1)]),
			VerificationMode::Attested,
			Inference::quote(model, VerificationMode::Attested).unwrap(),
		));
		for _ in 0..WORKERS.len() {
			let calls = run_offchain_worker(&pool);
			assert!(calls.iter().all(|c| matches!(
				c,
				Call::worker_call {
					action: WorkerAction::Decline { .. },
					..
				}
			)));
			for call in calls {
				include(call);
			}
			if Receipts::<Test>::contains_key(id) {
				break;
			}
			run_to_block(System::block_number() + 1);
		}
		let receipt = Receipts::<Test>::get(id).expect("finished");
		assert_eq!(receipt.outcome, Outcome::Refunded);
		assert_eq!(free(ALICE), before, "refunded in full");
		for w in WORKERS {
			assert_eq!(
				registry::Pallet::<Test>::bond(w),
				BOND,
				"worker {w} lost bond"
			);
		}
		assert_eq!(
			inference_events()
				.iter()
				.filter(|e| matches!(e, Event::Declined { .. }))
				.count(),
			WORKERS.len()
		);
	});
}
