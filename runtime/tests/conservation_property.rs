//! Property test on the real runtime: money reaches the right account.
//!
//! Random sequences of calls against the native runtime (real `pallet-models`,
//! `pallet-workers` and `pallet-inference`, production constants) starting from a genesis of
//! six workers bonded at or near `MinWorkerBond`, three models with different prices, modes
//! and owners (one free, one failing on half its inputs, one with two outputs), and parties
//! with several roles (a worker that owns a model and requests, an owner that audits, auditors
//! too poor to put up a bond). The calls: requests in every mode with valid and invalid inputs
//! and fees; commitments, honest results, lies at random nodes and elements, false failures,
//! outputs invented past a failing node, malformed results; fraud proofs at the right node and
//! at others, malformed ones, by auditors, workers, requesters and the accused itself;
//! declines; silence until deadlines pass; workers registering, bonding more, unbonding,
//! rejoining and (after a jump past the unbonding delay) withdrawing; owners changing prices,
//! deprecating and removing models.
//!
//! After every step (each call, each block's deadline processing), checked against the
//! expected-balances model of `conservation/ledger.rs`, which applies the protocol's rules
//! itself:
//!
//! * every party's free balance and each of its holds (escrow, challenge bond, worker bond,
//!   model deposit) is what the rules say;
//! * every worker record, request phase, assignment, exclusion, receipt, challenge window,
//!   exposure and model record is what the rules say;
//! * the issuance never changes and free + held over all accounts equals it, with no account
//!   the test does not know;
//! * a call the rules refuse fails and changes no storage at all; a call they accept succeeds;
//! * a fraud proof that slashes is free, one that proves nothing is paid for;
//! * no proven cheat goes unpaid for lack of bond, and every lie costs its worker more than it
//!   brought in (`ledger.rs`, `punish`).
//!
//! Over each sequence: an honest worker's bond never decreases except by its own withdrawal
//! and by the penalties of deadlines it missed (and not at all if it missed none); a worker
//! whose lie was proven ends the sequence with less from its lies than they cost it.
//!
//! Deterministic: a failure names its sequence; rerun it with `VERITY_PROPERTY_SEED=<seed>`.
//! `VERITY_PROPERTY_CASES` sets the number of sequences (default 10 000). Empty blocks are
//! skipped: only the blocks where a deadline is due (and one in every `MaxDeadlinesPerBlock`,
//! so that the queue's look-ahead never falls behind) are produced; to reach the end of an
//! unbonding delay a sequence lets every request finish and then jumps, setting the queue's
//! cursor where the empty blocks in between would have left it.

mod common;
mod conservation;

use std::{collections::BTreeMap, sync::Arc, time::Instant};

use common::*;
use conservation::{
	ledger::{first_divergence, AState, Expect, Ledger, Phase, Status, Verdict},
	parties::{self, *},
	programs::{Catalog, Plan, Run, DELTAS, SEEDS},
};
use frame_support::dispatch::{Pays, PostDispatchInfo};
use sp_core::storage::Storage;
use verity_runtime::{configs::MaxDeadlinesPerBlock, EXISTENTIAL_DEPOSIT, MILLI_UNIT};

/// Steps per sequence (calls and block advances), before the final drain.
const STEPS: usize = 32;

/// A small deterministic generator (xorshift64).
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

	fn pick<T: Copy>(&mut self, items: &[T]) -> T {
		items[self.below(items.len() as u64) as usize]
	}
}

fn root() -> Vec<u8> {
	sp_io::storage::root(sp_runtime::StateVersion::V1)
}

/// The salt worker `w` commits with.
fn salt(w: Who) -> [u8; 32] {
	[0x30 + w as u8; 32]
}

/// One sequence: the chain, the model of it, and what the sequence-wide assertions need.
struct World<'c> {
	seed: u64,
	rng: Rng,
	catalog: &'c Catalog,
	ledger: Ledger<'c>,
	by_account: BTreeMap<AccountId, Who>,
	issuance: Balance,
	/// Each party's worker bond after the last step, and what it lost since genesis other than
	/// by its own withdrawal, as the chain shows them.
	bond_seen: Vec<Balance>,
	bond_dropped: Vec<Balance>,
	jumped: bool,
	log: Vec<String>,
}

impl<'c> World<'c> {
	fn new(seed: u64, catalog: &'c Catalog) -> Self {
		let ledger = Ledger::genesis(catalog, 1);
		let by_account = ledger
			.accounts
			.iter()
			.enumerate()
			.map(|(who, a)| (a.clone(), who))
			.collect();
		let bond_seen = ledger.purses.iter().map(|p| p.bond).collect();
		let n = ledger.purses.len();
		World {
			seed,
			rng: Rng::for_sequence(seed),
			catalog,
			ledger,
			by_account,
			issuance: Balances::total_issuance(),
			bond_seen,
			bond_dropped: vec![0; n],
			jumped: false,
			log: Vec::new(),
		}
	}

	fn account(&self, who: Who) -> AccountId {
		self.ledger.accounts[who].clone()
	}

	// ---- driving the chain ----------------------------------------------------------------

	/// The parent hash block `b` is built on: distinct per sequence, so that draws differ.
	fn parent(&self, b: BlockNumber) -> H256 {
		H256(blake2_256(&(self.seed, b).encode()))
	}

	/// Starts block `b` and processes its deadlines, on the chain and in the model.
	fn land(&mut self, b: BlockNumber) {
		let due = pallet_inference::Deadlines::<Runtime>::iter_prefix(b).count() as u32;
		assert!(
			due <= MaxDeadlinesPerBlock::get(),
			"harness: more deadlines due in one block than it processes"
		);
		let idle = due == 0 && self.ledger.next_due() != Some(b);
		// Skipped blocks are empty: only the block number moves on.
		System::reset_events();
		System::set_block_number(b - 1);
		System::initialize(&b, &self.parent(b), &Default::default());
		<Inference as Hooks<BlockNumber>>::on_initialize(b);
		self.log.push(format!("block {b}"));
		self.collect_draws(0);
		self.ledger.process_deadlines(b);
		// A block with nothing due only moves the queue's cursor on.
		if idle {
			assert!(self.ledger.draws.is_empty(), "block {b} drew workers");
		} else {
			self.after_step(None);
		}
	}

	/// Advances to block `target`, producing every block where something is due.
	fn advance_to(&mut self, target: BlockNumber) {
		let cap = MaxDeadlinesPerBlock::get();
		while self.ledger.now < target {
			let now = self.ledger.now;
			if let Some(due) = self.ledger.next_due() {
				assert!(due > now, "a phase end at {due} was never processed");
			}
			let queued = pallet_inference::Deadlines::<Runtime>::iter_keys()
				.map(|(b, _)| b)
				.filter(|b| *b > now)
				.min();
			let next = [
				Some(target),
				queued,
				self.ledger.next_due(),
				Some(now + cap),
			]
			.into_iter()
			.flatten()
			.min()
			.expect("the target");
			self.land(next);
		}
	}

	/// Produces blocks until nothing is left in the deadline queue: every request finished,
	/// every window closed, every retained result pruned.
	fn quiesce(&mut self) {
		for _ in 0..1_000 {
			let queued = pallet_inference::Deadlines::<Runtime>::iter_keys()
				.map(|(b, _)| b)
				.min();
			match queued.into_iter().chain(self.ledger.next_due()).min() {
				Some(b) => self.advance_to(b.max(self.ledger.now + 1)),
				None => return,
			}
		}
		panic!("requests never finished");
	}

	/// The workers drawn in this step (events from index `from` on), for the model.
	fn collect_draws(&mut self, from: usize) {
		for record in System::events().into_iter().skip(from) {
			let (id, workers) = match record.event {
				RuntimeEvent::Inference(pallet_inference::Event::InferenceRequested {
					id,
					workers,
					..
				})
				| RuntimeEvent::Inference(pallet_inference::Event::Reassigned {
					id,
					workers,
					..
				}) => (id, workers),
				_ => continue,
			};
			let workers = workers.iter().map(|a| self.by_account[a]).collect();
			assert!(
				self.ledger.draws.insert(id, workers).is_none(),
				"request {id} drawn twice in one step"
			);
		}
	}

	/// Sends `call` from `who`; a refused call must change nothing. Returns the dispatch info
	/// of an accepted call, after collecting its draws for the model.
	fn dispatch(
		&mut self,
		who: Who,
		call: RuntimeCall,
		expect: Expect,
		what: String,
	) -> Result<PostDispatchInfo, sp_runtime::DispatchError> {
		let before = (expect != Expect::Ok).then(root);
		// Only these calls can draw workers.
		let draws = matches!(
			call,
			RuntimeCall::Inference(
				pallet_inference::Call::request_inference { .. }
					| pallet_inference::Call::challenge { .. }
					| pallet_inference::Call::decline { .. }
			)
		);
		let from = System::event_count() as usize;
		let result = call_by(&self.account(who), call);
		self.log.push(format!(
			"{what} by {} -> {:?}",
			parties::name(who),
			result.map(|_| ()).map_err(|e| e.error)
		));
		match result {
			Err(e) => {
				assert_ne!(
					expect,
					Expect::Ok,
					"{what}: the rules accept it, the chain refused it ({:?})",
					e.error
				);
				assert!(
					root() == before.unwrap(),
					"{what}: a failed call changed storage"
				);
				Err(e.error)
			}
			Ok(post) => {
				assert_ne!(
					expect,
					Expect::Fail,
					"{what}: the rules refuse it, the chain accepted it"
				);
				if draws {
					self.collect_draws(from);
				}
				Ok(post)
			}
		}
	}

	/// The checks after every step; `withdrew` is the worker that withdrew its bond in it.
	fn after_step(&mut self, withdrew: Option<Who>) {
		assert!(
			self.ledger.draws.is_empty(),
			"the chain drew workers the rules did not ask for: {:?}",
			self.ledger.draws
		);
		self.ledger.check();
		assert_eq!(
			Balances::total_issuance(),
			self.issuance,
			"the issuance changed"
		);
		let mut total: Balance = 0;
		for (account, info) in frame_system::Account::<Runtime>::iter() {
			assert!(
				self.by_account.contains_key(&account),
				"an account the test does not know holds funds"
			);
			total += info.data.free + info.data.reserved;
		}
		assert_eq!(
			total, self.issuance,
			"free + held differs from the issuance"
		);
		for w in WORKERS {
			let bond = Balances::balance_on_hold(
				&pallet_workers::HoldReason::WorkerBond.into(),
				&self.account(w),
			);
			if bond < self.bond_seen[w] && withdrew != Some(w) {
				self.bond_dropped[w] += self.bond_seen[w] - bond;
			}
			self.bond_seen[w] = bond;
		}
	}

	// ---- the calls ------------------------------------------------------------------------

	fn step(&mut self) {
		match self.rng.below(100) {
			0..=12 => self.request(),
			13..=34 => self.serve(),
			35..=40 => self.commit(),
			41..=50 => self.submit(),
			51..=64 => self.challenge(),
			65..=67 => self.decline(),
			68..=85 => self.advance(),
			86..=93 => self.worker_call(),
			94..=97 => self.owner_call(),
			_ => self.jump(),
		}
	}

	/// What worker `w` posts for model `m` on input `seed`. Each worker has its own habit
	/// (W2 never lies, W3 mostly does); a lie is at a random node and element, or a false
	/// failure, or (on an input that makes the model fail) an invented output.
	fn a_plan(&mut self, w: Who, m: u32, seed: u32) -> Plan {
		let honest = self.catalog.honest(m, seed);
		let ran = honest.values.len() as u64;
		let lies = match w {
			W2 => 0,
			W3 => 70,
			W0 => 80,
			W5 => 10,
			_ => 30,
		};
		if ran == 0 || !self.rng.chance(lies) {
			return Plan::Honest;
		}
		match self.rng.below(100) {
			0..=69 => Plan::Lie {
				node: self.rng.below(ran) as u8,
				element: self.rng.below(6) as u8,
				delta: self.rng.below(DELTAS.len() as u64) as u8,
			},
			70..=84 => Plan::FalseFailure {
				node: self.rng.below(ran) as u8,
			},
			_ if honest.failed_at.is_some() => Plan::Invent,
			_ => Plan::FalseFailure {
				node: self.rng.below(ran) as u8,
			},
		}
	}

	fn request(&mut self) {
		let requester = self.rng.pick(&[R0, R0, R1, R2, W4, O0, W1, C0]);
		let m = match self.rng.below(20) {
			0..=8 => 0,
			9..=15 => 1,
			_ => 2,
		};
		let mode = match self.rng.below(40) {
			0..=9 => VerificationMode::Attested,
			10..=19 => VerificationMode::Optimistic,
			20..=27 => VerificationMode::Quorum(2),
			28..=34 => VerificationMode::Quorum(3),
			35..=36 => VerificationMode::Quorum(4),
			37 => VerificationMode::Quorum(1),
			_ => VerificationMode::Quorum(9),
		};
		let seed = self.rng.below(SEEDS as u64) as u32;
		let (input, valid) = match self.rng.below(25) {
			0 => (vec![1u8, 2, 3], false),
			1 => (self.catalog.input((m + 1) % 3, seed), false),
			_ => (self.catalog.input(m, seed), true),
		};
		let quote = self.ledger.fee_per_replica(m) * mode.replicas() as Balance;
		// The most the requester can put on hold, and one more.
		let affordable = self.ledger.purses[requester]
			.free
			.saturating_sub(EXISTENTIAL_DEPOSIT);
		let max_fee = match self.rng.below(24) {
			0 | 1 => quote.saturating_sub(1),
			2 | 3 => 10_000 * UNIT,
			4 | 5 => quote + UNIT,
			6 => affordable,
			7 => affordable + 1,
			_ => quote + self.rng.below(1_000) as Balance,
		};
		let expect = self
			.ledger
			.request_expect(requester, m, valid, mode, max_fee);
		let what = format!(
			"request {} (model {m}, seed {seed}, {mode:?}, fee {max_fee})",
			self.ledger.next_id
		);
		let call = RuntimeCall::Inference(pallet_inference::Call::request_inference {
			model: m,
			input: input.try_into().unwrap(),
			mode,
			max_fee,
		});
		match self.dispatch(requester, call, expect, what) {
			Ok(_) => self.ledger.request(requester, m, seed, mode, max_fee),
			// Only the draw is beyond the model: some active workers' bonds are fully exposed.
			Err(e) if expect == Expect::Either => assert_eq!(
				e,
				pallet_inference::Error::<Runtime>::NotEnoughWorkers.into(),
				"a request the rules accept failed for another reason than the draw"
			),
			Err(_) => {}
		}
		self.after_step(None);
	}

	/// Usually an unfinished request and one of its workers matching `filter`; sometimes any id
	/// and any worker.
	fn a_target(
		&mut self,
		filter: impl Fn(&conservation::ledger::Req, &AState) -> bool,
	) -> (RequestId, Who) {
		let mut candidates: Vec<(RequestId, Who)> = Vec::new();
		for (id, r) in &self.ledger.requests {
			for (w, s) in &r.assignments {
				if filter(r, s) {
					candidates.push((*id, *w));
				}
			}
		}
		if !candidates.is_empty() && !self.rng.chance(8) {
			return self.rng.pick(&candidates);
		}
		let id = self.rng.below(self.ledger.next_id + 2);
		(id, self.rng.pick(&WORKERS))
	}

	fn model_and_seed(&self, id: RequestId) -> (u32, u32) {
		self.ledger
			.requests
			.get(&id)
			.map(|r| (r.model, r.seed))
			.or_else(|| self.ledger.windows.get(&id).map(|w| (w.model, w.seed)))
			.unwrap_or((0, 0))
	}

	/// An assigned worker does what its assignment asks next: commit, reveal or post.
	fn serve(&mut self) {
		let (id, w) = self.a_target(|r, s| match (r.mode, r.phase, s) {
			(VerificationMode::Quorum(_), Phase::Assigned { .. }, AState::Assigned) => true,
			(VerificationMode::Quorum(_), Phase::Revealing { .. }, AState::Committed { .. }) => {
				true
			}
			(VerificationMode::Quorum(_), _, _) => false,
			(_, _, s) => matches!(s, AState::Assigned),
		});
		let commits = self.ledger.requests.get(&id).is_some_and(|r| {
			matches!(r.mode, VerificationMode::Quorum(_))
				&& matches!(r.phase, Phase::Assigned { .. })
		});
		if commits {
			self.commit_to(id, w)
		} else {
			self.submit_to(id, w)
		}
	}

	fn commit(&mut self) {
		let (id, w) = self.a_target(|r, s| {
			matches!(r.mode, VerificationMode::Quorum(_))
				&& matches!(r.phase, Phase::Assigned { .. })
				&& matches!(s, AState::Assigned)
		});
		self.commit_to(id, w)
	}

	fn commit_to(&mut self, id: RequestId, w: Who) {
		let (m, seed) = self.model_and_seed(id);
		let plan = self.a_plan(w, m, seed);
		let run = self.catalog.run(m, seed, plan);
		// Now and then a commitment nobody can open: that worker misses its reveal.
		let (commitment, opens) = if self.rng.chance(8) {
			(H256::repeat_byte(0xab), None)
		} else {
			let c = result_commitment(
				&run.output_hash,
				&run.trace_root,
				&self.account(w),
				&salt(w),
			);
			(c, Some(run))
		};
		let expect = self.ledger.commit_expect(w, id);
		let call = RuntimeCall::Inference(pallet_inference::Call::commit_result {
			request: id,
			commitment,
		});
		let what = format!("commit {id} ({plan:?})");
		if let Ok(post) = self.dispatch(w, call, expect, what) {
			assert_eq!(post.pays_fee, Pays::No, "an accepted commitment is free");
			self.ledger.commit(w, id, commitment, opens);
		}
		self.after_step(None);
	}

	fn submit(&mut self) {
		let (id, w) = self.a_target(|r, s| match r.mode {
			VerificationMode::Quorum(_) => {
				matches!(r.phase, Phase::Revealing { .. }) && matches!(s, AState::Committed { .. })
			}
			_ => matches!(s, AState::Assigned),
		});
		self.submit_to(id, w)
	}

	fn submit_to(&mut self, id: RequestId, w: Who) {
		let (m, seed) = self.model_and_seed(id);
		let quorum = self
			.ledger
			.requests
			.get(&id)
			.is_some_and(|r| matches!(r.mode, VerificationMode::Quorum(_)));
		let committed = self.ledger.requests.get(&id).and_then(|r| {
			r.assignments.iter().find_map(|(x, s)| match s {
				AState::Committed { opens, .. } if *x == w => opens.clone(),
				_ => None,
			})
		});
		let (run, plan): (Arc<Run>, String) = match committed {
			Some(run) if !self.rng.chance(10) => (run, "committed".into()),
			_ => {
				let plan = self.a_plan(w, m, seed);
				(self.catalog.run(m, seed, plan), format!("{plan:?}"))
			}
		};
		let mut salt = quorum.then(|| salt(w));
		let mut leaves = run.leaves.clone();
		let mut failed_at = run.failed_at;
		let mut damaged = false;
		match self.rng.below(25) {
			0 => {
				if leaves.pop().is_none() {
					leaves.push(H256::repeat_byte(3));
				}
				damaged = true;
			}
			1 => salt = Some(if quorum { [0xee; 32] } else { [1; 32] }),
			2 => {
				match failed_at {
					Some(_) => failed_at = Some(self.catalog.models[m as usize].node_count()),
					None => {
						let out = self.catalog.models[m as usize]
							.program
							.output_node(0)
							.expect("a node output");
						leaves[out as usize] = H256::repeat_byte(7);
					}
				}
				damaged = true;
			}
			_ => {}
		}
		let expect = self.ledger.submit_expect(w, id, &run, salt, damaged);
		let call = match failed_at {
			None => RuntimeCall::Inference(pallet_inference::Call::submit_result {
				request: id,
				output: run.output.clone().try_into().unwrap(),
				trace_leaves: leaves.try_into().unwrap(),
				salt,
			}),
			Some(node) => RuntimeCall::Inference(pallet_inference::Call::submit_failure {
				request: id,
				node,
				trace_leaves: leaves.try_into().unwrap(),
				salt,
			}),
		};
		let what = format!("submit {id} ({plan}, damaged {damaged})");
		if let Ok(post) = self.dispatch(w, call, expect, what) {
			assert_eq!(post.pays_fee, Pays::No, "an accepted result is free");
			self.ledger.submit(w, id, run);
		}
		self.after_step(None);
	}

	fn challenge(&mut self) {
		let mut targets: Vec<(RequestId, Vec<Who>, Option<u32>)> = self
			.ledger
			.requests
			.iter()
			.filter_map(|(id, r)| {
				let leaf = match r.phase {
					Phase::Challengeable { .. } => None,
					Phase::Disputed { leaf, .. } => Some(leaf),
					_ => return None,
				};
				let accused = r
					.assignments
					.iter()
					.filter(|(_, s)| matches!(s, AState::Submitted(_)))
					.map(|(w, _)| *w)
					.collect();
				Some((*id, accused, leaf))
			})
			.collect();
		targets.extend(
			self.ledger
				.windows
				.iter()
				.map(|(id, w)| (*id, vec![w.worker], None)),
		);
		if targets.is_empty() && !self.rng.chance(15) {
			return self.advance();
		}
		// Disputes are rarer than challengeable results: give them a fair share.
		let disputes: Vec<usize> = (0..targets.len())
			.filter(|i| targets[*i].2.is_some())
			.collect();
		let (id, accusable, leaf) = if targets.is_empty() {
			(self.rng.below(self.ledger.next_id + 1), Vec::new(), None)
		} else if !disputes.is_empty() && self.rng.chance(60) {
			targets[self.rng.pick(&disputes)].clone()
		} else {
			targets[self.rng.below(targets.len() as u64) as usize].clone()
		};
		let accused = if !accusable.is_empty() && !self.rng.chance(5) {
			self.rng.pick(&accusable)
		} else {
			self.rng.pick(&WORKERS)
		};
		let (m, seed) = self.model_and_seed(id);
		let provable = self.catalog.provable_nodes(m, seed);
		let honest = self.catalog.honest(m, seed);
		let accused_run = self
			.ledger
			.requests
			.get(&id)
			.and_then(
				|r| match r.assignments.iter().find(|(w, _)| *w == accused) {
					Some((_, AState::Submitted(run))) => Some(run.clone()),
					_ => None,
				},
			)
			.or_else(|| {
				self.ledger
					.windows
					.get(&id)
					.filter(|w| w.worker == accused)
					.map(|w| w.run.clone())
			});
		let mut node = match (leaf, &accused_run) {
			(Some(leaf), _) if !self.rng.chance(15) => leaf,
			(_, Some(run)) if self.rng.chance(75) => first_divergence(&honest.leaves, &run.leaves),
			_ => self.rng.below(provable as u64) as u32,
		};
		if node >= provable {
			node = self.rng.below(provable as u64) as u32;
		}
		let requester = self
			.ledger
			.requests
			.get(&id)
			.map(|r| r.requester)
			.or_else(|| self.ledger.windows.get(&id).map(|w| w.requester))
			.unwrap_or(R0);
		let challenger = self
			.rng
			.pick(&[C0, C0, C0, C1, C2, O0, R0, W0, W2, W5, accused, requester]);
		let proof = self.catalog.proof(m, seed, node).expect("a provable node");
		let n = self.catalog.models[m as usize].node_count();
		let mut call_index = node;
		let (mut node_def, mut node_proof, mut inputs) =
			(proof.node, proof.node_proof, proof.inputs);
		let malformed = self.rng.chance(10);
		if malformed {
			match self.rng.below(3) {
				0 => call_index = (node + 1) % n,
				1 => {
					inputs.pop();
				}
				_ => {
					let other = (node + n - 1) % n;
					let model = &self.catalog.models[m as usize];
					node_def =
						pallet_inference::ProofNode(model.program.nodes[other as usize].clone());
					node_proof = model.tree.node_proof(other).expect("a node");
				}
			}
		}
		let expect = self
			.ledger
			.challenge_expect(challenger, id, accused, node, malformed);
		let call = RuntimeCall::Inference(pallet_inference::Call::challenge {
			request: id,
			worker: self.account(accused),
			node_index: call_index,
			node: node_def,
			node_proof,
			inputs: inputs.try_into().unwrap(),
		});
		let what = format!(
			"challenge {id} against {} at node {call_index} (malformed {malformed})",
			parties::name(accused)
		);
		if let Ok(post) = self.dispatch(challenger, call, expect, what) {
			let verdict = self.ledger.challenge(challenger, id, accused, node);
			let pays = match verdict {
				Verdict::Fraud => Pays::No,
				Verdict::Honest => Pays::Yes,
			};
			assert_eq!(
				post.pays_fee, pays,
				"{verdict:?} fraud proof charged wrongly"
			);
		}
		self.after_step(None);
	}

	fn decline(&mut self) {
		let (id, w) = self.a_target(|r, s| {
			matches!(r.phase, Phase::Assigned { .. }) && matches!(s, AState::Assigned)
		});
		let expect = self.ledger.decline_expect(w, id);
		let call = RuntimeCall::Inference(pallet_inference::Call::decline { request: id });
		if let Ok(post) = self.dispatch(w, call, expect, format!("decline {id}")) {
			assert_eq!(post.pays_fee, Pays::No, "a decline is free");
			self.ledger.decline(w, id);
		}
		self.after_step(None);
	}

	fn advance(&mut self) {
		let now = self.ledger.now;
		let rules = &self.ledger.rules;
		let target = match self.rng.below(40) {
			0..=23 => now + 1 + self.rng.below(3) as BlockNumber,
			24..=29 => self.ledger.next_due().unwrap_or(now + 1),
			30..=34 => now + rules.result_timeout + 1,
			35..=37 => now + rules.challenge_period + 1,
			_ => now + rules.lifetime,
		};
		self.advance_to(target.max(now + 1));
	}

	fn worker_call(&mut self) {
		// Half the time a suspended or unbonding worker works its way back.
		let out: Vec<Who> = WORKERS
			.into_iter()
			.filter(|w| matches!(self.ledger.status(*w), Some(s) if s != Status::Active))
			.collect();
		if !out.is_empty() && self.rng.chance(50) {
			let w = self.rng.pick(&out);
			return self.recover(w);
		}
		let w = self.rng.pick(&WORKERS);
		let rules = &self.ledger.rules;
		let (min, slash, penalty) = (rules.min_bond, rules.fraud_slash, rules.miss_penalty);
		let (call, expect, what, withdraws) = match self.rng.below(10) {
			0..=2 => {
				let key = if self.rng.chance(90) {
					w
				} else {
					self.rng.pick(&WORKERS)
				};
				let affordable = self.ledger.purses[w]
					.free
					.saturating_sub(EXISTENTIAL_DEPOSIT);
				let bond = match self.rng.below(12) {
					0..=5 => min,
					6..=7 => min + self.rng.below(3) as Balance * penalty,
					8 => min - 1,
					9 => affordable,
					10 => affordable + 1,
					_ => 10_000 * UNIT,
				};
				let expect = self.ledger.register_expect(w, key, bond);
				let call = pallet_workers::Call::register_worker {
					key: parties::key(key),
					bond,
				};
				(call, expect, format!("register (bond {bond})"), None)
			}
			3..=4 => {
				let amount = match self.rng.below(10) {
					0..=3 => slash,
					4..=6 => penalty,
					7 => 0,
					_ => 100_000 * UNIT,
				};
				let expect = self.ledger.bond_extra_expect(w, amount);
				let call = pallet_workers::Call::bond_extra { amount };
				(call, expect, format!("bond_extra {amount}"), None)
			}
			5..=6 => (
				pallet_workers::Call::unbond {},
				self.ledger.unbond_expect(w),
				"unbond".into(),
				None,
			),
			7..=8 => (
				pallet_workers::Call::rejoin {},
				self.ledger.rejoin_expect(w),
				"rejoin".into(),
				None,
			),
			_ => (
				pallet_workers::Call::withdraw_unbonded {},
				self.ledger.withdraw_expect(w),
				"withdraw".into(),
				Some(w),
			),
		};
		let applied = call.clone();
		if self
			.dispatch(w, RuntimeCall::Workers(call), expect, what)
			.is_ok()
		{
			match applied {
				pallet_workers::Call::register_worker { key, bond } => {
					let key = WORKERS
						.into_iter()
						.find(|k| parties::key(*k) == key)
						.expect("a party's key");
					self.ledger.register(w, key, bond)
				}
				pallet_workers::Call::bond_extra { amount } => self.ledger.bond_extra(w, amount),
				pallet_workers::Call::unbond {} => self.ledger.unbond(w),
				pallet_workers::Call::rejoin {} => self.ledger.rejoin(w),
				pallet_workers::Call::withdraw_unbonded {} => self.ledger.withdraw(w),
				_ => unreachable!("the calls above"),
			}
		}
		self.after_step(withdraws);
	}

	/// A worker out of the active set tops its bond up to the minimum, or rejoins.
	fn recover(&mut self, w: Who) {
		let short = self
			.ledger
			.rules
			.min_bond
			.saturating_sub(self.ledger.purses[w].bond);
		let (call, expect, what) = if short > 0 {
			(
				pallet_workers::Call::bond_extra { amount: short },
				self.ledger.bond_extra_expect(w, short),
				format!("bond_extra {short}"),
			)
		} else {
			(
				pallet_workers::Call::rejoin {},
				self.ledger.rejoin_expect(w),
				"rejoin".into(),
			)
		};
		if self
			.dispatch(w, RuntimeCall::Workers(call), expect, what)
			.is_ok()
		{
			if short > 0 {
				self.ledger.bond_extra(w, short);
			} else {
				self.ledger.rejoin(w);
			}
		}
		self.after_step(None);
	}

	fn owner_call(&mut self) {
		// A deprecated model is usually removed (or tried) next.
		let deprecated: Vec<u32> = (0..3u32)
			.filter(|m| {
				let model = &self.ledger.models[*m as usize];
				model.deprecated && !model.removed
			})
			.collect();
		let (m, kind) = if !deprecated.is_empty() && self.rng.chance(60) {
			(self.rng.pick(&deprecated), 2)
		} else {
			let m = self.rng.below(3) as u32;
			let kind = match self.rng.below(20) {
				// Deprecating the busier models would end most sequences' requests early.
				14..=16 if m == 2 || self.rng.chance(15) => 1,
				17..=18 => 2,
				_ => 0,
			};
			(m, kind)
		};
		let owner = self.ledger.models[m as usize].owner;
		let who = if self.rng.chance(90) {
			owner
		} else {
			self.rng.pick(&[R0, W1, O0])
		};
		let price = self
			.rng
			.pick(&[0, 1, 50 * MILLI_UNIT, 3 * MILLI_UNIT + 7, 120 * MILLI_UNIT]);
		let (call, expect, what) = match kind {
			0 => (
				pallet_models::Call::set_price { id: m, price },
				self.ledger.set_price_expect(who, m),
				format!("set_price {m} {price}"),
			),
			1 => (
				pallet_models::Call::deprecate { id: m },
				self.ledger.deprecate_expect(who, m),
				format!("deprecate {m}"),
			),
			_ => (
				pallet_models::Call::remove_model { id: m },
				self.ledger.remove_expect(who, m),
				format!("remove {m}"),
			),
		};
		if self
			.dispatch(who, RuntimeCall::Models(call), expect, what)
			.is_ok()
		{
			match kind {
				0 => self.ledger.set_price(m, price),
				1 => self.ledger.deprecate(m),
				_ => self.ledger.remove(m),
			}
		}
		self.after_step(None);
	}

	/// Once per sequence, when a worker is unbonding: lets every request finish, jumps past
	/// its unbonding delay and withdraws.
	fn jump(&mut self) {
		let until = self
			.ledger
			.workers
			.values()
			.filter_map(|(s, _)| match s {
				Status::Unbonding { until } => Some(*until),
				_ => None,
			})
			.max();
		let Some(until) = until.filter(|_| !self.jumped) else {
			return self.advance();
		};
		self.jumped = true;
		self.quiesce();
		assert_eq!(
			pallet_inference::Deadlines::<Runtime>::iter().count(),
			0,
			"harness: jumping over queued deadlines"
		);
		// With nothing queued, `on_initialize` of each block in between would only move
		// `NextDue` on: set it as those blocks would have left it.
		let target = until.max(self.ledger.now + 1);
		pallet_inference::NextDue::<Runtime>::put(target);
		self.log.push(format!("jump to {target}"));
		self.land(target);
		let unbonding: Vec<Who> = self
			.ledger
			.workers
			.iter()
			.filter(|(_, (s, _))| matches!(s, Status::Unbonding { .. }))
			.map(|(w, _)| *w)
			.collect();
		for w in unbonding {
			if self.rng.chance(80) {
				let expect = self.ledger.withdraw_expect(w);
				let call = RuntimeCall::Workers(pallet_workers::Call::withdraw_unbonded {});
				if self.dispatch(w, call, expect, "withdraw".into()).is_ok() {
					self.ledger.withdraw(w);
				}
				self.after_step(Some(w));
			}
		}
	}

	/// Lets everything finish, then checks what only a whole sequence shows.
	fn finish(&mut self) {
		self.quiesce();
		assert!(self.ledger.requests.is_empty() && self.ledger.windows.is_empty());
		assert!(
			self.ledger.purses.iter().all(|p| p.escrow == 0),
			"escrow outlived its requests"
		);
		assert_eq!(
			pallet_inference::Receipts::<Runtime>::iter().count() as u64,
			self.ledger.next_id,
			"a request without a receipt"
		);
		let notes = &self.ledger.notes;
		for w in WORKERS {
			let dropped = self.bond_dropped[w];
			let lost = notes.bond_lost.get(&w).copied().unwrap_or(0);
			assert_eq!(
				dropped,
				lost,
				"{}'s bond dropped other than by the rules",
				parties::name(w)
			);
			// An honest worker never loses bond: only the deadlines it missed cost it.
			if !notes.dishonest.contains(&w) {
				let misses = notes.misses.get(&w).copied().unwrap_or(0) as Balance;
				assert!(
					dropped <= misses * self.ledger.rules.miss_penalty,
					"honest {} lost {dropped} of its bond",
					parties::name(w)
				);
			}
		}
		// Cheating never pays: what a worker's lies brought it (every fee for a result other than
		// the honest one, every share of its own slashes that came back to it) is less than
		// what its proven lies cost it.
		let mut cost: BTreeMap<Who, (Balance, Balance)> = BTreeMap::new();
		for lie in &notes.lies {
			let e = cost.entry(lie.worker).or_default();
			e.0 += lie.returned;
			e.1 += lie.slashed;
		}
		for (w, (returned, slashed)) in cost {
			let fees = notes.paid_for_lies.get(&w).copied().unwrap_or(0);
			let lies: Vec<String> = notes
				.lies
				.iter()
				.filter(|l| l.worker == w)
				.map(|l| {
					format!(
						"request {} (paid {}, slashed {})",
						l.request, l.fee, l.slashed
					)
				})
				.collect();
			assert!(
				fees + returned < slashed,
				"{}'s lies paid: {fees} in fees and {returned} back, {slashed} slashed; {}",
				parties::name(w),
				lies.join(", ")
			);
		}
	}
}

fn run_sequence(
	seed: u64,
	catalog: &Catalog,
	genesis: &Storage,
	seen: &mut BTreeMap<&'static str, u32>,
) {
	let mut ext = sp_io::TestExternalities::new(genesis.clone());
	ext.execute_with(|| {
		let mut world = World::new(seed, catalog);
		let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
			System::initialize(&1, &world.parent(1), &Default::default());
			<Inference as Hooks<BlockNumber>>::on_initialize(1);
			world.after_step(None);
			for _ in 0..STEPS {
				world.step();
			}
			world.finish();
		}));
		if let Err(e) = outcome {
			eprintln!(
				"runtime property sequence {seed} failed (rerun with VERITY_PROPERTY_SEED={seed}) \
				 after:\n  {}",
				world.log.join("\n  ")
			);
			std::panic::resume_unwind(e);
		}
		for path in &world.ledger.notes.seen {
			*seen.entry(path).or_default() += 1;
		}
	});
}

#[test]
fn every_party_gets_what_the_rules_say() {
	let catalog = Catalog::new();
	let genesis = conservation::parties::genesis(&catalog.models);
	let mut seen = BTreeMap::new();
	if let Some(seed) = std::env::var("VERITY_PROPERTY_SEED")
		.ok()
		.and_then(|v| v.parse().ok())
	{
		return run_sequence(seed, &catalog, &genesis, &mut seen);
	}
	let cases: u64 = std::env::var("VERITY_PROPERTY_CASES")
		.ok()
		.and_then(|v| v.parse().ok())
		.unwrap_or(10_000);
	let start = Instant::now();
	for seed in 0..cases {
		run_sequence(seed, &catalog, &genesis, &mut seen);
	}
	println!(
		"{cases} sequences of {STEPS} steps in {:.1} s; paths taken (sequences):",
		start.elapsed().as_secs_f64()
	);
	for (path, n) in &seen {
		println!("  {n:>6}  {path}");
	}
	// The generator reaches every path the model distinguishes (given enough sequences).
	if cases >= 2_000 {
		for path in EVERY_PATH {
			assert!(seen.contains_key(path), "no sequence reached: {path}");
		}
	}
}

/// The paths the generator must reach over a full run.
const EVERY_PATH: &[&str] = &[
	"a bond slashed below one more fraud",
	"a bond slashed to nothing",
	"a bond withdrawn",
	"a challenge bond forfeited",
	"a decline",
	"a dispute nobody decided refunded",
	"a failure result settled",
	"a false failure proven wrong",
	"a liar challenged itself",
	"a liar requested its own job",
	"a lie settled unchallenged",
	"a missed deadline penalised",
	"a model removed",
	"a nested dispute",
	"a quorum dispute decided",
	"a quorum disputed",
	"a quorum settled by agreement",
	"a quorum's lone reveal settled",
	"a price changed under requests in flight",
	"a request at a changed price",
	"a request reassigned",
	"a requester audits its own request",
	"a worker assigned its own request",
	"a worker audits another",
	"a worker challenges itself",
	"a worker registered",
	"a worker rejoined",
	"a worker unbonds while exposed",
	"an attested receipt proven fraudulent",
	"an attested window closed",
	"an optimistic result proven wrong",
	"an output invented past a failure proven wrong",
	"an owner requests its own model",
	"attested refunded",
	"attested settled",
	"optimistic refunded",
	"optimistic settled",
	"quorum refunded",
	"several liars slashed by one proof",
	"silent quorum workers replaced",
	"worker suspended by a slash or penalty",
];
