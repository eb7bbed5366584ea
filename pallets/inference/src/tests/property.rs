//! Property test: random sequences of calls — requests in every mode with valid and invalid
//! inputs and fees, commitments, honest, cheating and malformed results, false failure results
//! (the test program runs on every input, so a failure claimed at any node is a lie), valid,
//! invalid and malformed fraud proofs, block advances through every kind of deadline, silent workers —
//! checked after every step:
//!
//! * total issuance never changes, and free + held over all accounts equals it;
//! * the escrow held equals the `max_fee` of the unfinished requests (nothing stays held for a
//!   finished request), and no challenge bond stays held;
//! * a failed call changes no storage at all;
//! * an honest challenger's valid fraud proof against a lying trace always succeeds, and one
//!   against an honest trace always forfeits the bond;
//! * the pallet's structural invariants (`do_try_state`) hold;
//! * after enough blocks every request has finished.
//!
//! The generator is a seeded xorshift so a failure names its sequence: rerun it with
//! `VERITY_PROPERTY_SEED=<seed>`. `VERITY_PROPERTY_CASES` sets the number of sequences.

use super::*;
use crate::{ChallengeWindows, Receipts, TraceLeaves};
use frame_support::dispatch::Pays;
use std::collections::HashMap;
use verity_primitives::{AssignmentState, RequestStatus, VerificationMode};

const STEPS: usize = 40;
const INPUT_SEEDS: u64 = 5;
const REQUESTERS: [AccountId; 3] = [ALICE, BOB, 3];
/// `77` has no funds: its challenges cannot put up the bond.
const CHALLENGERS: [AccountId; 3] = [CHARLIE, DAVE, 77];

struct Rng(u64);

impl Rng {
	fn for_sequence(seed: u64) -> Self {
		Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1)
	}
	fn next(&mut self) -> u64 {
		self.0 ^= self.0 << 13;
		self.0 ^= self.0 >> 7;
		self.0 ^= self.0 << 17;
		self.0
	}
	fn below(&mut self, n: u64) -> u64 {
		self.next() % n.max(1)
	}
	fn chance(&mut self, percent: u64) -> bool {
		self.below(100) < percent
	}
	fn pick<T: Clone>(&mut self, items: &[T]) -> Option<T> {
		if items.is_empty() {
			None
		} else {
			Some(items[self.below(items.len() as u64) as usize].clone())
		}
	}
}

/// Engine runs, computed once per (input seed, lie).
#[derive(Default)]
struct Runs(HashMap<(u32, Option<(usize, u32)>), Run>);

impl Runs {
	fn get(&mut self, seed: u32, lie: Option<(usize, u32)>) -> Run {
		self.0
			.entry((seed, lie))
			.or_insert_with(|| {
				execute(
					&test_program(),
					&input_tensor(seed),
					lie.map(|(n, d)| (n, d as f32)),
				)
			})
			.clone()
	}
}

struct World<'a> {
	rng: Rng,
	runs: &'a mut Runs,
	/// What each worker computed (or claims to have computed) for each request.
	plans: HashMap<(RequestId, AccountId), Run>,
	/// Input seed of each request.
	seeds: HashMap<RequestId, u32>,
	log: Vec<String>,
}

fn root() -> Vec<u8> {
	sp_io::storage::root(sp_runtime::StateVersion::V1)
}

/// Runs `call`; a failure must leave storage untouched.
fn checked<R: core::fmt::Debug>(
	log: &mut Vec<String>,
	what: String,
	call: impl FnOnce() -> Result<
		R,
		sp_runtime::DispatchErrorWithPostInfo<frame_support::dispatch::PostDispatchInfo>,
	>,
) -> Option<R> {
	let before = root();
	let result = call();
	log.push(format!("{what} -> {result:?}"));
	match result {
		Ok(r) => Some(r),
		Err(_) => {
			assert_eq!(root(), before, "a failed call changed storage: {what}");
			None
		}
	}
}

fn ok_unit(
	r: sp_runtime::DispatchResult,
) -> Result<(), sp_runtime::DispatchErrorWithPostInfo<frame_support::dispatch::PostDispatchInfo>> {
	r.map_err(Into::into)
}

impl World<'_> {
	fn random_mode(&mut self) -> VerificationMode {
		match self.rng.below(5) {
			0 => VerificationMode::Attested,
			1 => VerificationMode::Optimistic,
			// Quorum(5) exceeds MaxReplicas.
			_ => VerificationMode::Quorum(1 + self.rng.below(5) as u8),
		}
	}

	fn a_plan(&mut self, seed: u32) -> Run {
		if self.rng.chance(60) {
			self.runs.get(seed, None)
		} else if self.rng.chance(15) {
			let node = self.rng.below(4) as usize;
			self.runs.get(seed, None).failing_at(node)
		} else {
			let node = self.rng.below(4) as usize;
			let delta = 1 + self.rng.below(2) as u32;
			self.runs.get(seed, Some((node, delta)))
		}
	}

	fn request(&mut self) {
		let who = self.rng.pick(&REQUESTERS).unwrap();
		let mode = self.random_mode();
		let seed = self.rng.below(INPUT_SEEDS) as u32;
		let input: BoundedVec<u8, _> = match self.rng.below(20) {
			0 => vec![1u8, 2, 3].try_into().unwrap(),
			1 => encode_tensors(&[Tensor::from_f32(&[1, 3], vec![0.0; 3]).unwrap()]),
			_ => encode_tensors(&[input_tensor(seed)]),
		};
		let quote = Inference::quote(0, mode).unwrap_or(100);
		let max_fee = match self.rng.below(12) {
			0 => quote.saturating_sub(1),
			1 => 20_000,
			_ => quote + self.rng.below(40),
		};
		let id = crate::NextRequestId::<Test>::get();
		let what = format!("request({who}, {mode:?}, seed {seed}, fee {max_fee})");
		let r = checked(&mut self.log, what, || {
			ok_unit(Inference::request_inference(
				RuntimeOrigin::signed(who),
				0,
				input,
				mode,
				max_fee,
			))
		});
		if r.is_some() {
			self.seeds.insert(id, seed);
		}
	}

	/// An unfinished request matching `filter`, or (sometimes) a random id.
	fn a_request(&mut self, filter: impl Fn(&crate::RequestOf<Test>) -> bool) -> RequestId {
		let ids: Vec<RequestId> = Requests::<Test>::iter()
			.filter(|(_, r)| filter(r))
			.map(|(id, _)| id)
			.collect();
		match self.rng.pick(&ids) {
			Some(id) if !self.rng.chance(5) => id,
			_ => self.rng.below(crate::NextRequestId::<Test>::get() + 2),
		}
	}

	/// Usually a worker assigned to `id` in one of `states`, sometimes any worker.
	fn a_worker(&mut self, id: RequestId, states: impl Fn(&AssignmentState) -> bool) -> AccountId {
		let workers: Vec<AccountId> = Requests::<Test>::get(id)
			.map(|r| {
				r.assignments
					.iter()
					.filter(|a| states(&a.state))
					.map(|a| a.worker)
					.collect()
			})
			.unwrap_or_default();
		match self.rng.pick(&workers) {
			Some(w) if !self.rng.chance(10) => w,
			_ => self.rng.pick(&WORKERS).unwrap(),
		}
	}

	fn seed_of(&self, id: RequestId) -> u32 {
		self.seeds.get(&id).copied().unwrap_or(0)
	}

	fn commit(&mut self) {
		let id = self.a_request(|r| {
			matches!(r.mode, VerificationMode::Quorum(_))
				&& matches!(r.status, RequestStatus::Assigned { .. })
		});
		let worker = self.a_worker(id, |s| *s == AssignmentState::Assigned);
		let seed = self.seed_of(id);
		let plan = match self.plans.get(&(id, worker)) {
			Some(p) => p.clone(),
			None => self.a_plan(seed),
		};
		// Now and then a commitment nobody can open: that worker will miss its reveal.
		let commitment = if self.rng.chance(8) {
			H256::repeat_byte(0xab)
		} else {
			plan.commitment(worker, salt_of(worker))
		};
		let what = format!("commit({id}, {worker})");
		let r = checked(&mut self.log, what, || {
			Inference::commit_result(RuntimeOrigin::signed(worker), id, commitment)
		});
		if let Some(post) = r {
			assert_eq!(
				post.pays_fee,
				Pays::No,
				"an accepted commitment must be free"
			);
			self.plans.insert((id, worker), plan);
		}
	}

	fn submit(&mut self) {
		let id = self.a_request(|_| true);
		let worker = self.a_worker(id, |s| {
			matches!(s, AssignmentState::Assigned | AssignmentState::Committed(_))
		});
		let seed = self.seed_of(id);
		let quorum = Requests::<Test>::get(id)
			.is_some_and(|r| matches!(r.mode, VerificationMode::Quorum(_)));
		let mut plan = match self.plans.get(&(id, worker)) {
			Some(p) => p.clone(),
			None => self.a_plan(seed),
		};
		let mut salt = quorum.then(|| salt_of(worker));
		match self.rng.below(20) {
			0 => plan.leaves.truncate(2),
			1 => {
				if let Some(leaf) = plan.leaves.get_mut(3) {
					*leaf = H256::repeat_byte(1);
				}
			}
			2 => salt = if salt.is_some() { None } else { Some([0; 32]) },
			_ => {}
		}
		// Some results are false failures: "execution fails at node k", with the leaves before
		// it. A quorum worker commits to it first (in `commit`, from the plan).
		let failed_at = plan.failed_at;
		let what = format!(
			"submit({id}, {worker}, salt {}, failed at {failed_at:?})",
			salt.is_some()
		);
		let r = checked(&mut self.log, what, || match failed_at {
			None => Inference::submit_result(
				RuntimeOrigin::signed(worker),
				id,
				plan.output(),
				plan.leaves.clone().try_into().unwrap(),
				salt,
			),
			Some(node) => Inference::submit_failure(
				RuntimeOrigin::signed(worker),
				id,
				node,
				plan.leaves.clone().try_into().unwrap(),
				salt,
			),
		});
		if let Some(post) = r {
			assert_eq!(post.pays_fee, Pays::No, "an accepted result must be free");
			self.plans.insert((id, worker), plan);
		}
	}

	fn challenge(&mut self) {
		let mut targets: Vec<RequestId> = Requests::<Test>::iter()
			.filter(|(_, r)| {
				matches!(
					r.status,
					RequestStatus::Challengeable { .. } | RequestStatus::Disputed { .. }
				)
			})
			.map(|(id, _)| id)
			.collect();
		targets.extend(ChallengeWindows::<Test>::iter_keys());
		let Some(id) = self.rng.pick(&targets) else {
			return;
		};
		let accused: Vec<AccountId> = TraceLeaves::<Test>::iter_prefix(id)
			.map(|(w, _)| w)
			.collect();
		let worker = match self.rng.pick(&accused) {
			Some(w) if !self.rng.chance(5) => w,
			_ => self.rng.pick(&WORKERS).unwrap(),
		};
		let seed = self.seed_of(id);
		let honest = self.runs.get(seed, None);
		let leaves = TraceLeaves::<Test>::get(id, worker).map(|l| l.into_inner());
		let dispute_leaf = Requests::<Test>::get(id).and_then(|r| match r.status {
			RequestStatus::Disputed { leaf, .. } => Some(leaf),
			_ => None,
		});
		let divergence = leaves
			.as_ref()
			.and_then(|l| verity_primitives::fraud::first_difference(&honest.leaves, false, l));
		let index = dispute_leaf
			.or(divergence)
			.unwrap_or_else(|| self.rng.below(4) as u32);
		let challenger = self.rng.pick(&CHALLENGERS).unwrap();
		let (mut node, mut node_proof, mut inputs) = proof(&honest, seed, index);
		let mut call_index = index;
		let malformed = self.rng.chance(20);
		if malformed {
			match self.rng.below(4) {
				0 => call_index = (index + 1) % 4,
				1 => {
					inputs.pop();
				}
				2 => {
					inputs[0].as_mut().unwrap().0.tensor =
						Tensor::from_f32(&[1, 1], vec![3.0]).unwrap()
				}
				_ => {
					let other = proof(&honest, seed, (index + 1) % 4);
					node = other.0;
					node_proof = other.1;
				}
			}
		}
		// A valid proof from a challenger who can pay is decided, never refused, when the
		// accused trace agrees with the honest one before the challenged node.
		let decidable = !malformed
			&& challenger != 77
			&& dispute_leaf.is_none_or(|l| l == index)
			&& leaves.as_ref().is_some_and(|l| {
				l.len() >= index as usize && l[..index as usize] == honest.leaves[..index as usize]
			});
		let lying = leaves
			.as_ref()
			.is_some_and(|l| l.get(index as usize) != honest.leaves.get(index as usize));
		let what = format!("challenge({id}, {worker}, node {call_index}, by {challenger})");
		let r = checked(&mut self.log, what, || {
			Inference::challenge(
				RuntimeOrigin::signed(challenger),
				id,
				worker,
				call_index,
				node,
				node_proof,
				inputs,
			)
		});
		if decidable {
			let post = r.expect("a valid fraud proof was refused");
			let expected = if lying || dispute_leaf.is_some() {
				Pays::No
			} else {
				Pays::Yes
			};
			assert_eq!(post.pays_fee, expected, "wrong verdict");
		}
	}

	/// An assigned worker declines (as a worker whose node cannot serve the model would).
	fn decline(&mut self) {
		let id = self.a_request(|r| matches!(r.status, RequestStatus::Assigned { .. }));
		let worker = self.a_worker(id, |s| *s == AssignmentState::Assigned);
		let what = format!("decline({id}, {worker})");
		checked(&mut self.log, what, || {
			Inference::decline(RuntimeOrigin::signed(worker), id)
		});
	}

	fn advance(&mut self) {
		let to = System::block_number() + 1 + self.rng.below(4);
		self.log.push(format!("advance to {to}"));
		run_to_block(to);
	}

	fn step(&mut self) {
		match self.rng.below(100) {
			0..=17 => self.request(),
			18..=35 => self.commit(),
			36..=60 => self.submit(),
			61..=76 => self.challenge(),
			77..=79 => self.decline(),
			80..=81 => {
				let w = self.rng.pick(&WORKERS).unwrap();
				self.log.push(format!("deactivate {w}"));
				Registry::deactivate(w);
			}
			_ => self.advance(),
		}
	}
}

fn run_sequence(seed: u64, runs: &mut Runs) {
	new_test_ext().execute_with(|| {
		let issuance = Balances::total_issuance();
		let mut world = World {
			rng: Rng::for_sequence(seed),
			runs,
			plans: HashMap::new(),
			seeds: HashMap::new(),
			log: Vec::new(),
		};
		let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
			for _ in 0..STEPS {
				world.step();
				assert_invariants(issuance);
			}
			// Every request finishes once its deadlines have passed.
			run_to_block(System::block_number() + 80);
			assert_invariants(issuance);
			assert_eq!(
				Requests::<Test>::iter().count(),
				0,
				"a request never finished"
			);
			assert_eq!(
				ChallengeWindows::<Test>::iter().count(),
				0,
				"a window never closed"
			);
			assert_eq!(accounts().into_iter().map(escrowed).sum::<Balance>(), 0);
			assert_eq!(
				crate::Results::<Test>::iter().count(),
				0,
				"a result outlived its retention"
			);
			assert_eq!(
				Receipts::<Test>::iter().count() as u64,
				crate::NextRequestId::<Test>::get()
			);
		}));
		if let Err(e) = outcome {
			eprintln!(
				"property sequence {seed} failed after:\n  {}",
				world.log.join("\n  ")
			);
			std::panic::resume_unwind(e);
		}
	});
}

#[test]
fn random_call_sequences_conserve_money() {
	let cases: u64 = std::env::var("VERITY_PROPERTY_CASES")
		.ok()
		.and_then(|v| v.parse().ok())
		.unwrap_or(4_000);
	let mut runs = Runs::default();
	if let Some(seed) = std::env::var("VERITY_PROPERTY_SEED")
		.ok()
		.and_then(|v| v.parse().ok())
	{
		return run_sequence(seed, &mut runs);
	}
	for seed in 0..cases {
		run_sequence(seed, &mut runs);
	}
}

#[test]
fn the_generator_reaches_every_path() {
	// A sanity check on the generator: over a few hundred sequences every outcome and every
	// deadline kind occurs.
	let mut runs = Runs::default();
	let mut seen = std::collections::BTreeSet::new();
	for seed in 0..300 {
		new_test_ext().execute_with(|| {
			let mut world = World {
				rng: Rng::for_sequence(seed),
				runs: &mut runs,
				plans: HashMap::new(),
				seeds: HashMap::new(),
				log: Vec::new(),
			};
			for _ in 0..STEPS {
				world.step();
			}
			run_to_block(System::block_number() + 80);
			let failures: Vec<(RequestId, AccountId)> = inference_events()
				.iter()
				.filter_map(|e| match e {
					crate::Event::ResultSubmitted {
						id,
						worker,
						failed_at: Some(_),
						..
					} => Some((*id, *worker)),
					_ => None,
				})
				.collect();
			for e in inference_events() {
				if let crate::Event::FraudProven { id, worker, .. } = &e {
					if failures.contains(&(*id, *worker)) {
						seen.insert("FalseFailureSlashed".to_string());
					}
				}
				let name = format!("{e:?}");
				let name = name.trim_start_matches("Event::");
				seen.insert(name.split([' ', '{', '(']).next().unwrap().to_string());
			}
			for (_, r) in Receipts::<Test>::iter() {
				seen.insert(
					format!("{:?}/{:?}", r.mode, r.outcome)
						.replace(|c: char| c.is_ascii_digit(), "n"),
				);
			}
		});
	}
	for expected in [
		"InferenceRequested",
		"ResultCommitted",
		"RevealPhaseStarted",
		"ResultSubmitted",
		"ResultChallengeable",
		"Disputed",
		"Settled",
		"Refunded",
		"DeadlineMissed",
		"Reassigned",
		"FraudProven",
		"ChallengeFailed",
		"ChallengeWindowClosed",
		"Declined",
		"ResultsPruned",
		"Attested/Settled",
		"Attested/Fraudulent",
		"Optimistic/Settled",
		"Optimistic/Refunded",
		"Quorum(n)/Settled",
		"Quorum(n)/Refunded",
		"FalseFailureSlashed",
	] {
		assert!(
			seen.contains(expected),
			"never reached {expected}; saw {seen:?}"
		);
	}
}
