//! Arbitrary calls against the real runtime (`development` genesis, real pallets, production
//! constants): byte strings decoded as a `RuntimeCall` and dispatched from signed origins, with
//! blocks produced in between so that deadlines, settlements and prunings run too. The bytes are
//! either random after a Verity pallet's index, or a well-formed call (a request, a result, a
//! commitment, a fraud proof, a decline, a worker or model owner's call) built from the live
//! state, often with a few bytes flipped or cut off. After every call: nothing panicked, the
//! issuance equals the sum of all balances, the escrow holds exactly the unfinished requests'
//! `max_fee`, no challenge bond stays held, and each worker's recorded bond is what is held.
//!
//! Deterministic: a failure names its seed and step. `scripts/fuzz.sh` fuzzes the decoders with
//! libFuzzer; this is the runtime's dispatch, sized to run in CI.

mod common;

use codec::DecodeLimit;
use common::*;
use verity_runtime::configs::ChallengePeriod;

/// A small deterministic generator (xorshift64*).
struct Rng(u64);

impl Rng {
	fn next(&mut self) -> u64 {
		self.0 ^= self.0 >> 12;
		self.0 ^= self.0 << 25;
		self.0 ^= self.0 >> 27;
		self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
	}

	fn below(&mut self, n: u64) -> u64 {
		self.next() % n.max(1)
	}

	fn chance(&mut self, percent: u64) -> bool {
		self.below(100) < percent
	}

	fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
		&items[self.below(items.len() as u64) as usize]
	}
}

/// Who sends calls: the well-known accounts (Alice, the sudo key, never sends `Sudo` calls).
fn senders() -> Vec<AccountId> {
	Sr25519Keyring::well_known()
		.map(|k| k.to_account_id())
		.collect()
}

/// Workers that could answer request `id` (its assignments, or its receipt's workers).
fn workers_of(id: RequestId) -> Vec<AccountId> {
	match Inference::request(id) {
		Some(r) => r.assignments.iter().map(|a| a.worker.clone()).collect(),
		None => Inference::receipt(id)
			.map(|r| r.workers.to_vec())
			.unwrap_or_default(),
	}
}

/// A well-formed call built from the live state, and who sends it.
fn well_formed(rng: &mut Rng, program: &Program, inputs: &[Tensor]) -> (AccountId, RuntimeCall) {
	let senders = senders();
	// Mostly an unfinished request, else any id (finished, or not yet made).
	let open: Vec<RequestId> = pallet_inference::Requests::<Runtime>::iter_keys().collect();
	let id = if !open.is_empty() && rng.chance(85) {
		*rng.pick(&open)
	} else {
		rng.below(pallet_inference::NextRequestId::<Runtime>::get() + 1)
	};
	let from_workers = workers_of(id);
	let worker = if from_workers.is_empty() {
		rng.pick(&senders).clone()
	} else {
		rng.pick(&from_workers).clone()
	};
	let nodes = program.nodes.len() as u64;
	let lie = rng.chance(25).then(|| rng.below(nodes) as usize);
	let s = submission(program, &node_outputs(program, inputs, lie));
	// Each worker's salt, so that its reveal matches its commitment (unless damaged).
	let salt = blake2_256(&worker.encode());
	let call = match rng.below(12) {
		0..=2 => {
			let modes = [
				VerificationMode::Attested,
				VerificationMode::Optimistic,
				VerificationMode::Quorum(2),
				VerificationMode::Quorum(3),
			];
			let mode = *rng.pick(&modes);
			let quote = Inference::quote(DEMO, mode).unwrap_or(UNIT);
			return (
				rng.pick(&senders).clone(),
				RuntimeCall::Inference(pallet_inference::Call::request_inference {
					model: DEMO,
					input: inputs.to_vec().encode().try_into().unwrap(),
					mode,
					max_fee: quote + rng.below(2) as Balance * UNIT,
				}),
			);
		}
		3 | 4 => RuntimeCall::Inference(pallet_inference::Call::submit_result {
			request: id,
			output: s.output.try_into().unwrap(),
			trace_leaves: s.leaves.try_into().unwrap(),
			salt: Inference::request(id)
				.is_some_and(|r| matches!(r.mode, VerificationMode::Quorum(_)))
				.then_some(salt),
		}),
		5 => RuntimeCall::Inference(pallet_inference::Call::commit_result {
			request: id,
			commitment: result_commitment(&s.output_hash, &s.trace_root, &worker, &salt),
		}),
		6 | 7 => {
			let k = rng.below(nodes) as usize;
			let challenger = rng.pick(&senders).clone();
			return (challenger, challenge_call(id, &worker, program, inputs, k));
		}
		8 => RuntimeCall::Inference(pallet_inference::Call::decline { request: id }),
		9 => match rng.below(4) {
			0 => RuntimeCall::Workers(pallet_workers::Call::unbond {}),
			1 => RuntimeCall::Workers(pallet_workers::Call::rejoin {}),
			2 => RuntimeCall::Workers(pallet_workers::Call::withdraw_unbonded {}),
			_ => RuntimeCall::Workers(pallet_workers::Call::bond_extra {
				amount: rng.below(1_000) as Balance * UNIT,
			}),
		},
		10 => {
			let who = rng.pick(&senders).clone();
			let key = WorkerPublic::from(sp_core::sr25519::Public::from_raw(blake2_256(
				&who.encode(),
			)));
			return (
				who,
				RuntimeCall::Workers(pallet_workers::Call::register_worker {
					key,
					bond: rng.below(3_000) as Balance * UNIT,
				}),
			);
		}
		_ => {
			let node = rng.below(nodes) as u32;
			let tree = ModelTree::new(program);
			RuntimeCall::Models(pallet_models::Call::report_false_claim {
				id: DEMO,
				index: node,
				proven: Box::new(pallet_models::ProvenNode {
					node: program.nodes[node as usize].clone(),
					proof: tree.node_proof(node).unwrap(),
				}),
			})
		}
	};
	(worker, call)
}

/// The bytes of one step: a Verity or Balances call index with random arguments, or a
/// well-formed call, possibly damaged.
fn step_bytes(rng: &mut Rng, program: &Program, inputs: &[Tensor]) -> (AccountId, Vec<u8>) {
	if rng.chance(35) {
		let pallet = *rng.pick(&[4u8, 10, 11, 12]);
		let mut bytes = vec![pallet, rng.below(8) as u8];
		let len = rng.below(160);
		bytes.extend((0..len).map(|_| rng.next() as u8));
		return (rng.pick(&senders()).clone(), bytes);
	}
	let (who, call) = well_formed(rng, program, inputs);
	let mut bytes = call.encode();
	if rng.chance(40) {
		for _ in 0..=rng.below(3) {
			let at = rng.below(bytes.len() as u64) as usize;
			bytes[at] ^= 1 << rng.below(8);
		}
	}
	if rng.chance(10) {
		bytes.truncate(rng.below(bytes.len() as u64) as usize);
	}
	(who, bytes)
}

/// The money and storage invariants after a step.
fn check(seed: u64, step: u32) {
	let at = format!("seed {seed}, step {step}");
	assert_eq!(
		Balances::total_issuance(),
		total_of_all_accounts(),
		"{at}: the issuance differs from the sum of all balances"
	);
	let (mut escrow, mut bonds) = (0, 0);
	for (_, holds) in pallet_balances::Holds::<Runtime>::iter() {
		for hold in holds.iter() {
			match hold.id {
				RuntimeHoldReason::Inference(pallet_inference::HoldReason::InferenceEscrow) => {
					escrow += hold.amount
				}
				RuntimeHoldReason::Inference(pallet_inference::HoldReason::ChallengeBond) => {
					bonds += hold.amount
				}
				_ => {}
			}
		}
	}
	let open: Balance = pallet_inference::Requests::<Runtime>::iter_values()
		.map(|r| r.max_fee)
		.sum();
	assert_eq!(
		escrow, open,
		"{at}: escrow differs from the unfinished requests' max_fee"
	);
	assert_eq!(bonds, 0, "{at}: a challenge bond stayed held");
	let worker_bond = RuntimeHoldReason::Workers(pallet_workers::HoldReason::WorkerBond);
	for (who, info) in pallet_workers::Workers::<Runtime>::iter() {
		assert_eq!(
			Balances::balance_on_hold(&worker_bond, &who),
			info.bond,
			"{at}: a worker's recorded bond is not what is held"
		);
	}
}

/// How often each of the outcomes that matter happened.
#[derive(Default, Debug)]
struct Reached {
	settled: u32,
	refunded: u32,
	frauds_proven: u32,
	challenges_failed: u32,
	disputes: u32,
	declines: u32,
	prunings: u32,
}

impl Reached {
	fn count(&mut self) {
		for e in events() {
			use pallet_inference::Event::*;
			match e {
				Settled { .. } => self.settled += 1,
				Refunded { .. } => self.refunded += 1,
				FraudProven { .. } => self.frauds_proven += 1,
				ChallengeFailed { .. } => self.challenges_failed += 1,
				Disputed { .. } => self.disputes += 1,
				Declined { .. } => self.declines += 1,
				ResultsPruned { .. } => self.prunings += 1,
				_ => {}
			}
		}
	}
}

fn fuzz(seed: u64, steps: u32, reached: &mut Reached) -> (u32, u32) {
	let (program, inputs) = demo();
	let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
	let (mut decoded, mut succeeded) = (0, 0);
	dev_ext().execute_with(|| {
		check(seed, 0);
		for step in 1..=steps {
			let (who, bytes) = step_bytes(&mut rng, &program, &inputs);
			if let Ok(call) = RuntimeCall::decode_all_with_depth_limit(64, &mut &bytes[..]) {
				let sudo_key = account(Sr25519Keyring::Alice);
				if !(matches!(call, RuntimeCall::Sudo(_)) && who == sudo_key) {
					decoded += 1;
					succeeded += u32::from(call_by(&who, call).is_ok());
				}
			}
			check(seed, step);
			if rng.chance(6) {
				let skip = if rng.chance(5) {
					ChallengePeriod::get()
				} else {
					1
				};
				run_to(System::block_number() + skip);
				check(seed, step);
			}
		}
		reached.count();
	});
	(decoded, succeeded)
}

/// Steps per seed.
const STEPS: u32 = 2_500;

#[test]
fn arbitrary_calls_change_nothing_they_should_not() {
	let (mut decoded, mut succeeded, mut reached) = (0, 0, Reached::default());
	for seed in 1..=4 {
		let (d, s) = fuzz(seed, STEPS, &mut reached);
		decoded += d;
		succeeded += s;
	}
	println!(
		"call fuzz: {} steps, {decoded} decoded as calls, {succeeded} dispatched successfully",
		4 * STEPS
	);
	println!("call fuzz: {reached:?}");
	// The mix must reach the pallets' success paths, not only their decoders and errors.
	assert!(succeeded > 200, "only {succeeded} calls succeeded");
	let r = &reached;
	assert!(
		r.settled > 0 && r.refunded > 0 && r.frauds_proven > 0 && r.challenges_failed > 0,
		"{r:?}"
	);
}
