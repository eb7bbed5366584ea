//! The expected-balances model: what every party must hold after every step, computed from the
//! protocol's rules (docs/protocol.md) and the runtime's production constants, never from the
//! pallets' own bookkeeping.
//!
//! The model keeps its own copy of everything that decides where money goes: each party's free
//! balance and holds (escrow, worker bond, model deposit), each worker's status, each request's
//! phase, assignments, exclusions and the results its workers posted, the attested receipts
//! still challengeable, the models' prices and owners. Each call and each processed deadline is
//! applied to it by the rules:
//!
//! * **request**: `max_fee` held as escrow; the fee `(price + WorkerFee) × replicas` fixed now;
//! * **settlement**, per accepted replica: the owner gets the price, the worker `WorkerFee` less
//!   `ProtocolShare` of it, the protocol that share; the rest of the escrow is released;
//! * **refund**: the whole escrow released;
//! * **missed deadline**: `min(MissPenalty, bond)` from the worker's bond to the requester;
//! * **proven fraud**: `min(FraudSlash, bond)` from the bond to the protocol account, which
//!   passes `RequesterShare` of it to the requester and `ChallengerShare` to the challenger;
//! * **failed fraud proof**: the challenger's `ChallengeBond` to the accused worker (a decided
//!   one holds the bond for the call and gives it back);
//! * a slash or penalty leaving an active worker below `MinWorkerBond` suspends it;
//! * bonds, deposits and withdrawals move between a party's free balance and its holds; a hold
//!   (escrow, bond, challenge bond) is refused unless it leaves the existential deposit free.
//!
//! The one thing the model cannot know is which workers the pseudo-random draw picks: it takes
//! them from the step's `InferenceRequested` / `Reassigned` events and checks them against the
//! rules instead (active, not excluded, distinct, bond answering for one more exposure; as many
//! as there are when every candidate is answerable).
//!
//! [`Ledger::check`] compares every account's free balance and each of its holds, every worker
//! record, every request, receipt, challenge window and model with the chain.

use std::{
	collections::{BTreeMap, BTreeSet},
	sync::Arc,
};

use codec::Encode;
use sp_core::H256;
use sp_runtime::Perbill;
use verity_primitives::{
	result_commitment, AssignmentState, ModeSet, ModelStatus, Outcome, RequestId, RequestStatus,
	VerificationMode,
};
use verity_runtime::{
	configs, AccountId, Balance, BlockNumber, Runtime, RuntimeHoldReason, EXISTENTIAL_DEPOSIT,
};

use super::{
	parties::{self, Who, PROTOCOL},
	programs::{Catalog, Run},
};

/// The production constants the rules are stated in (each field is the runtime's constant of
/// that name).
pub struct Rules {
	pub worker_fee: Balance,
	pub protocol_share: Perbill,
	pub miss_penalty: Balance,
	pub fraud_slash: Balance,
	pub requester_share: Perbill,
	pub challenger_share: Perbill,
	pub challenge_bond: Balance,
	pub min_bond: Balance,
	pub result_timeout: BlockNumber,
	pub challenge_period: BlockNumber,
	pub lifetime: BlockNumber,
	pub unbonding_delay: BlockNumber,
	pub max_replicas: u32,
}

impl Rules {
	/// The runtime's constants.
	pub fn production() -> Self {
		Rules {
			worker_fee: configs::WorkerFee::get(),
			protocol_share: configs::ProtocolShare::get(),
			miss_penalty: configs::MissPenalty::get(),
			fraud_slash: configs::FraudSlash::get(),
			requester_share: configs::RequesterShare::get(),
			challenger_share: configs::ChallengerShare::get(),
			challenge_bond: configs::ChallengeBond::get(),
			min_bond: configs::MinWorkerBond::get(),
			result_timeout: configs::ResultTimeout::get(),
			challenge_period: configs::ChallengePeriod::get(),
			lifetime: configs::RequestLifetime::get(),
			unbonding_delay: configs::UnbondingDelay::get(),
			max_replicas: configs::MaxReplicas::get(),
		}
	}
}

/// What a party must hold.
#[derive(Clone, Default, PartialEq, Eq, Debug)]
pub struct Purse {
	/// Free balance.
	pub free: Balance,
	/// Held as inference escrow.
	pub escrow: Balance,
	/// Held as worker bond.
	pub bond: Balance,
	/// Held as model deposit.
	pub deposit: Balance,
}

/// Where a registered worker stands.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Status {
	Active,
	Suspended,
	Unbonding { until: BlockNumber },
}

/// A registered model.
#[derive(Clone, Debug)]
pub struct ModelRec {
	pub owner: Who,
	pub price: Balance,
	pub modes: ModeSet,
	pub deprecated: bool,
	pub removed: bool,
}

/// Where a worker stands on a request.
#[derive(Clone, Debug)]
pub enum AState {
	Assigned,
	/// Committed to `commitment`, which `opens` (if the worker has a result for it) reveals.
	Committed {
		commitment: H256,
		opens: Option<Arc<Run>>,
	},
	Submitted(Arc<Run>),
	Slashed,
}

/// A request's phase; each ends after its last block.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Phase {
	Assigned { deadline: BlockNumber },
	Revealing { deadline: BlockNumber },
	Challengeable { until: BlockNumber },
	Disputed { leaf: u32, until: BlockNumber },
}

impl Phase {
	fn last(&self) -> BlockNumber {
		match *self {
			Phase::Assigned { deadline } | Phase::Revealing { deadline } => deadline,
			Phase::Challengeable { until } | Phase::Disputed { until, .. } => until,
		}
	}
}

/// An unfinished request.
#[derive(Clone, Debug)]
pub struct Req {
	pub requester: Who,
	pub model: u32,
	pub seed: u32,
	pub mode: VerificationMode,
	pub max_fee: Balance,
	/// The royalty per replica fixed at request time.
	pub price: Balance,
	/// The worker fee per replica fixed at request time.
	pub worker_fee: Balance,
	pub expires_at: BlockNumber,
	pub assignments: Vec<(Who, AState)>,
	pub missed: Vec<Who>,
	pub phase: Phase,
}

impl Req {
	fn position(&self, w: Who) -> Option<usize> {
		self.assignments.iter().position(|(x, _)| *x == w)
	}

	fn state(&self, w: Who) -> Option<&AState> {
		self.assignments
			.iter()
			.find(|(x, _)| *x == w)
			.map(|(_, s)| s)
	}

	fn is_quorum(&self) -> bool {
		matches!(self.mode, VerificationMode::Quorum(_))
	}
}

/// An attested receipt still open to fraud proofs.
#[derive(Clone, Debug)]
pub struct Window {
	pub requester: Who,
	pub model: u32,
	pub seed: u32,
	pub worker: Who,
	pub run: Arc<Run>,
	pub until: BlockNumber,
	/// What the worker was paid for the result.
	pub cut_paid: Balance,
}

/// A finished request.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct ReceiptRec {
	pub outcome: Outcome,
	pub paid: Balance,
	pub workers: Vec<Who>,
}

/// What a prediction says about a call.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Expect {
	/// The rules accept it.
	Ok,
	/// The rules refuse it.
	Fail,
	/// Depends on the draw (a request when some active workers are fully exposed).
	Either,
}

impl Expect {
	/// `Ok` if `ok`, else `Fail`.
	pub fn when(ok: bool) -> Self {
		if ok {
			Expect::Ok
		} else {
			Expect::Fail
		}
	}
}

/// What a fraud proof decided.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Verdict {
	Fraud,
	Honest,
}

/// A proven lie and what it brought its worker.
#[derive(Clone, Debug)]
pub struct Lie {
	pub worker: Who,
	pub request: RequestId,
	pub slashed: Balance,
	/// Paid to the worker for the lying result (an attested one is paid before it is proven
	/// wrong).
	pub fee: Balance,
	/// The shares of its own slash that came back to the worker as the request's requester or
	/// as the challenger.
	pub returned: Balance,
}

/// What the sequence did, for the assertions that span it and for the coverage report.
#[derive(Default)]
pub struct Notes {
	/// Workers that posted a result other than the honest one.
	pub dishonest: BTreeSet<Who>,
	/// Deadlines each worker missed.
	pub misses: BTreeMap<Who, u32>,
	/// Bond each worker lost to penalties and slashes, as the rules say.
	pub bond_lost: BTreeMap<Who, Balance>,
	/// Paid to each worker for results other than the honest one.
	pub paid_for_lies: BTreeMap<Who, Balance>,
	/// Every proven lie.
	pub lies: Vec<Lie>,
	/// Paths taken.
	pub seen: BTreeSet<&'static str>,
}

/// The expected state.
pub struct Ledger<'c> {
	pub rules: Rules,
	pub catalog: &'c Catalog,
	pub accounts: Vec<AccountId>,
	pub purses: Vec<Purse>,
	pub workers: BTreeMap<Who, (Status, Who)>,
	pub models: Vec<ModelRec>,
	pub requests: BTreeMap<RequestId, Req>,
	pub windows: BTreeMap<RequestId, Window>,
	pub receipts: BTreeMap<RequestId, ReceiptRec>,
	pub next_id: RequestId,
	pub now: BlockNumber,
	/// The workers the chain drew in the current step, by request.
	pub draws: BTreeMap<RequestId, Vec<Who>>,
	/// Receipts made or changed since the last [`Ledger::check`].
	pub changed_receipts: BTreeSet<RequestId>,
	pub notes: Notes,
}

fn twox_key(id: RequestId) -> Vec<u8> {
	let mut key = sp_io::hashing::twox_64(&id.encode()).to_vec();
	key.extend(id.encode());
	key
}

impl<'c> Ledger<'c> {
	/// The genesis state: endowments less the genesis bonds and the model deposits (the
	/// deposits, a registry matter, are read from the chain).
	pub fn genesis(catalog: &'c Catalog, now: BlockNumber) -> Self {
		let accounts = parties::accounts();
		let mut purses: Vec<Purse> = parties::endowments()
			.into_iter()
			.map(|free| Purse {
				free,
				..Default::default()
			})
			.collect();
		let mut workers = BTreeMap::new();
		for (who, p) in parties::PARTIES.iter().enumerate() {
			if let Some(bond) = p.bond {
				purses[who].free -= bond;
				purses[who].bond = bond;
				workers.insert(who, (Status::Active, who));
			}
		}
		let models = catalog
			.models
			.iter()
			.enumerate()
			.map(|(id, m)| {
				let owner = parties::OWNERS[id];
				let deposit = pallet_models::Models::<Runtime>::get(id as u32)
					.expect("registered at genesis")
					.deposit;
				purses[owner].free -= deposit;
				purses[owner].deposit += deposit;
				ModelRec {
					owner,
					price: m.price,
					modes: m.modes,
					deprecated: false,
					removed: false,
				}
			})
			.collect();
		Ledger {
			rules: Rules::production(),
			catalog,
			accounts,
			purses,
			workers,
			models,
			requests: BTreeMap::new(),
			windows: BTreeMap::new(),
			receipts: BTreeMap::new(),
			next_id: 0,
			now,
			draws: BTreeMap::new(),
			changed_receipts: BTreeSet::new(),
			notes: Notes::default(),
		}
	}

	// ---- balances ------------------------------------------------------------------------

	/// Whether `who` can put `amount` on hold: what is held must leave the existential deposit
	/// free.
	pub fn can_hold(&self, who: Who, amount: Balance) -> bool {
		amount == 0 || amount <= self.purses[who].free.saturating_sub(EXISTENTIAL_DEPOSIT)
	}

	fn hold_escrow(&mut self, who: Who, amount: Balance) {
		let p = &mut self.purses[who];
		p.free -= amount;
		p.escrow += amount;
	}

	/// Pays `amount` of `from`'s escrow to `to`'s free balance; returns it.
	fn pay_from_escrow(&mut self, from: Who, to: Who, amount: Balance) -> Balance {
		assert!(
			self.purses[from].escrow >= amount,
			"the rules pay more than is held"
		);
		self.purses[from].escrow -= amount;
		self.purses[to].free += amount;
		amount
	}

	fn release_escrow(&mut self, who: Who, amount: Balance) {
		self.pay_from_escrow(who, who, amount);
	}

	/// Moves `amount` of `from`'s free balance to `to`'s.
	fn transfer(&mut self, from: Who, to: Who, amount: Balance) {
		assert!(
			self.purses[from].free >= amount,
			"the rules move more than is free"
		);
		self.purses[from].free -= amount;
		self.purses[to].free += amount;
	}

	// ---- workers --------------------------------------------------------------------------

	pub fn status(&self, w: Who) -> Option<Status> {
		self.workers.get(&w).map(|(s, _)| *s)
	}

	pub fn is_active(&self, w: Who) -> bool {
		self.status(w) == Some(Status::Active)
	}

	/// The requests and open attested windows on which `w` can be slashed now.
	pub fn exposure(&self, w: Who) -> u32 {
		let on_requests = self
			.requests
			.values()
			.filter(|r| {
				r.assignments
					.iter()
					.any(|(x, s)| *x == w && !matches!(s, AState::Slashed))
			})
			.count();
		let on_windows = self.windows.values().filter(|win| win.worker == w).count();
		(on_requests + on_windows) as u32
	}

	/// Whether `w`'s bond answers for one more exposure.
	pub fn answerable(&self, w: Who) -> bool {
		(self.exposure(w) as Balance + 1) * self.rules.fraud_slash <= self.purses[w].bond
	}

	/// Leaves `w` suspended if it is active and its bond fell below the minimum.
	fn suspend_if_short(&mut self, w: Who) {
		if self.is_active(w) && self.purses[w].bond < self.rules.min_bond {
			self.workers.get_mut(&w).expect("active").0 = Status::Suspended;
			self.notes
				.seen
				.insert("worker suspended by a slash or penalty");
		}
	}

	/// The draw the chain made for `id` in this step (possibly none), checked against the rules:
	/// at most `count` distinct active workers outside `exclude` whose bonds answer for one more
	/// exposure, and exactly `min(count, candidates)` when every candidate is answerable.
	fn draw(&mut self, id: RequestId, count: u32, exclude: &[Who]) -> Vec<Who> {
		let drawn = self.draws.remove(&id).unwrap_or_default();
		let candidates: Vec<Who> = self
			.workers
			.keys()
			.copied()
			.filter(|w| self.is_active(*w) && !exclude.contains(w))
			.collect();
		let answerable = candidates.iter().filter(|w| self.answerable(**w)).count();
		for (k, w) in drawn.iter().enumerate() {
			assert!(
				candidates.contains(w),
				"request {id}: drew {} who is not an active candidate",
				parties::name(*w)
			);
			assert!(
				self.answerable(*w),
				"request {id}: drew {} whose bond does not answer for one more exposure",
				parties::name(*w)
			);
			assert!(!drawn[..k].contains(w), "request {id}: drew a worker twice");
		}
		let most = (count as usize).min(answerable);
		assert!(
			drawn.len() <= most,
			"request {id}: drew {} workers, at most {most} allowed",
			drawn.len()
		);
		if answerable == candidates.len() {
			assert_eq!(
				drawn.len(),
				(count as usize).min(candidates.len()),
				"request {id}: every candidate is answerable, so the draw is full"
			);
		}
		drawn
	}

	// ---- requests -------------------------------------------------------------------------

	/// The fee per replica of model `m` now.
	pub fn fee_per_replica(&self, m: u32) -> Balance {
		self.models[m as usize].price + self.rules.worker_fee
	}

	/// Whether `request_inference` is accepted (`valid_input`: the input fits the model).
	pub fn request_expect(
		&self,
		requester: Who,
		m: u32,
		valid_input: bool,
		mode: VerificationMode,
		max_fee: Balance,
	) -> Expect {
		let model = &self.models[m as usize];
		let replicas = mode.replicas();
		let servable = !model.removed
			&& !model.deprecated
			&& model.modes.allows(&mode)
			&& match mode {
				VerificationMode::Quorum(n) => n >= 2 && n as u32 <= self.rules.max_replicas,
				_ => true,
			};
		if !servable
			|| !valid_input
			|| self.fee_per_replica(m) * replicas as Balance > max_fee
			|| !self.can_hold(requester, max_fee)
		{
			return Expect::Fail;
		}
		let active: Vec<Who> = self
			.workers
			.keys()
			.copied()
			.filter(|w| self.is_active(*w))
			.collect();
		let answerable = active.iter().filter(|w| self.answerable(**w)).count();
		if answerable < replicas as usize {
			Expect::Fail
		} else if answerable == active.len() {
			Expect::Ok
		} else {
			Expect::Either
		}
	}

	/// Applies an accepted `request_inference`.
	pub fn request(
		&mut self,
		requester: Who,
		m: u32,
		seed: u32,
		mode: VerificationMode,
		max_fee: Balance,
	) {
		let id = self.next_id;
		self.next_id += 1;
		let drawn = self.draw(id, mode.replicas(), &[]);
		assert_eq!(
			drawn.len() as u32,
			mode.replicas(),
			"request {id} accepted with too few workers"
		);
		if drawn.contains(&requester) {
			self.notes.seen.insert("a worker assigned its own request");
		}
		if requester == self.models[m as usize].owner {
			self.notes.seen.insert("an owner requests its own model");
		}
		if self.models[m as usize].price != self.catalog.models[m as usize].price {
			self.notes.seen.insert("a request at a changed price");
		}
		self.hold_escrow(requester, max_fee);
		let req = Req {
			requester,
			model: m,
			seed,
			mode,
			max_fee,
			price: self.models[m as usize].price,
			worker_fee: self.rules.worker_fee,
			expires_at: self.now + self.rules.lifetime,
			assignments: drawn.into_iter().map(|w| (w, AState::Assigned)).collect(),
			missed: Vec::new(),
			phase: Phase::Assigned {
				deadline: self.now + self.rules.result_timeout,
			},
		};
		self.requests.insert(id, req);
	}

	/// Whether `w` may commit on request `id` now.
	pub fn commit_expect(&self, w: Who, id: RequestId) -> Expect {
		let Some(r) = self.requests.get(&id) else {
			return Expect::Fail;
		};
		let ok = r.is_quorum()
			&& matches!(r.phase, Phase::Assigned { deadline } if self.now <= deadline)
			&& matches!(r.state(w), Some(AState::Assigned));
		Expect::when(ok)
	}

	/// Applies an accepted commitment.
	pub fn commit(&mut self, w: Who, id: RequestId, commitment: H256, opens: Option<Arc<Run>>) {
		let r = self.requests.get_mut(&id).expect("expected ok");
		let pos = r.position(w).expect("assigned");
		r.assignments[pos].1 = AState::Committed { commitment, opens };
		self.reveal_when_all_committed(id);
	}

	fn reveal_when_all_committed(&mut self, id: RequestId) {
		let deadline = self.now + self.rules.result_timeout;
		let r = self.requests.get_mut(&id).expect("open");
		if r.assignments
			.iter()
			.all(|(_, s)| matches!(s, AState::Committed { .. }))
		{
			r.phase = Phase::Revealing { deadline };
		}
	}

	/// Whether `w`'s result `run` (with `salt`; `damaged` if it does not fit the model) is
	/// accepted on request `id` now.
	pub fn submit_expect(
		&self,
		w: Who,
		id: RequestId,
		run: &Run,
		salt: Option<[u8; 32]>,
		damaged: bool,
	) -> Expect {
		let Some(r) = self.requests.get(&id) else {
			return Expect::Fail;
		};
		let Some(state) = r.state(w) else {
			return Expect::Fail;
		};
		if damaged || self.now > r.phase.last() {
			return Expect::Fail;
		}
		let ok = if r.is_quorum() {
			match (state, salt) {
				(AState::Committed { commitment, .. }, Some(salt)) => {
					matches!(r.phase, Phase::Revealing { .. })
						&& result_commitment(
							&run.output_hash,
							&run.trace_root,
							&self.accounts[w],
							&salt,
						) == *commitment
				}
				_ => false,
			}
		} else {
			matches!(state, AState::Assigned) && salt.is_none()
		};
		Expect::when(ok)
	}

	/// Applies an accepted result.
	pub fn submit(&mut self, w: Who, id: RequestId, run: Arc<Run>) {
		let mut r = self.requests.remove(&id).expect("expected ok");
		if !run.same_trace(&self.catalog.honest(r.model, r.seed)) {
			self.notes.dishonest.insert(w);
		}
		if run.failed_at.is_some() {
			self.notes.seen.insert("a failure result posted");
		}
		let pos = r.position(w).expect("assigned");
		r.assignments[pos].1 = AState::Submitted(run.clone());
		match r.mode {
			VerificationMode::Attested => {
				let until = self.now + self.rules.challenge_period;
				self.settle(id, r, vec![w], run, Some(until));
			}
			VerificationMode::Optimistic => {
				r.phase = Phase::Challengeable {
					until: self.now + self.rules.challenge_period,
				};
				self.requests.insert(id, r);
			}
			VerificationMode::Quorum(_) => {
				let waiting = r
					.assignments
					.iter()
					.any(|(_, s)| matches!(s, AState::Committed { .. }));
				if waiting {
					self.requests.insert(id, r);
				} else {
					self.conclude(id, r, true);
				}
			}
		}
	}

	/// Whether `w` may decline request `id` now.
	pub fn decline_expect(&self, w: Who, id: RequestId) -> Expect {
		let Some(r) = self.requests.get(&id) else {
			return Expect::Fail;
		};
		let ok = matches!(r.state(w), Some(AState::Assigned))
			&& matches!(r.phase, Phase::Assigned { deadline } if self.now <= deadline);
		Expect::when(ok)
	}

	/// Applies an accepted decline: excluded without penalty; reassigned, refunded or (a
	/// quorum) going on with the others.
	pub fn decline(&mut self, w: Who, id: RequestId) {
		let mut r = self.requests.remove(&id).expect("expected ok");
		self.notes.seen.insert("a decline");
		let recorded = exclude(&mut r, w, self.rules.max_replicas);
		r.assignments.retain(|(x, _)| *x != w);
		if r.assignments.is_empty() {
			self.retry_or_refund(id, r, recorded);
			return;
		}
		self.requests.insert(id, r);
		self.reveal_when_all_committed(id);
	}

	// ---- fraud proofs ---------------------------------------------------------------------

	/// The trace `accused` posted on `id` if a fraud proof against it is admissible now, with the
	/// request's model, input seed and (for a dispute) the node it must be at.
	fn challenge_target(
		&self,
		id: RequestId,
		accused: Who,
	) -> Option<(u32, u32, Arc<Run>, Option<u32>)> {
		if let Some(r) = self.requests.get(&id) {
			let leaf = match r.phase {
				Phase::Challengeable { until } if self.now <= until => None,
				Phase::Disputed { leaf, until } if self.now <= until => Some(leaf),
				_ => return None,
			};
			let Some(AState::Submitted(run)) = r.state(accused) else {
				return None;
			};
			return Some((r.model, r.seed, run.clone(), leaf));
		}
		let win = self.windows.get(&id)?;
		(self.now <= win.until && win.worker == accused)
			.then(|| (win.model, win.seed, win.run.clone(), None))
	}

	/// Whether `challenger`'s fraud proof (built from the honest execution) at node `node`
	/// against `accused`'s result on `id` is decided: the target is challengeable, the node is
	/// the dispute's, the accused trace agrees with the honest one on the values the node reads,
	/// and the challenger can put up the bond.
	pub fn challenge_expect(
		&self,
		challenger: Who,
		id: RequestId,
		accused: Who,
		node: u32,
		malformed: bool,
	) -> Expect {
		let Some((m, seed, run, leaf)) = self.challenge_target(id, accused) else {
			return Expect::Fail;
		};
		if malformed || leaf.is_some_and(|leaf| leaf != node) {
			return Expect::Fail;
		}
		let honest = self.catalog.honest(m, seed);
		let reads_agree = self.catalog.models[m as usize]
			.node_sources(node)
			.iter()
			.all(|&src| run.leaves.get(src as usize) == honest.leaves.get(src as usize));
		Expect::when(reads_agree && self.can_hold(challenger, self.rules.challenge_bond))
	}

	/// Applies a decided fraud proof; returns the verdict.
	pub fn challenge(
		&mut self,
		challenger: Who,
		id: RequestId,
		accused: Who,
		node: u32,
	) -> Verdict {
		let (m, seed, run, _) = self.challenge_target(id, accused).expect("expected ok");
		let verdict = self.catalog.verdict(m, seed, node);
		if challenger == accused {
			self.notes.seen.insert("a worker challenges itself");
		} else if self.workers.contains_key(&challenger) {
			self.notes.seen.insert("a worker audits another");
		}
		let outcome = if let Some(mut r) = self.requests.remove(&id) {
			if challenger == r.requester {
				self.notes.seen.insert("a requester audits its own request");
			}
			match r.phase {
				Phase::Challengeable { .. } => {
					if verdict.contradicts(&run.leaves, node) {
						let requester = r.requester;
						self.punish(id, accused, &run, m, seed, requester, challenger, 0);
						let excluded = exclude(&mut r, accused, self.rules.max_replicas);
						r.assignments.retain(|(x, _)| *x != accused);
						self.notes.seen.insert("an optimistic result proven wrong");
						self.retry_or_refund(id, r, excluded);
						Verdict::Fraud
					} else {
						self.requests.insert(id, r);
						Verdict::Honest
					}
				}
				Phase::Disputed { .. } => {
					let liars: Vec<(Who, Arc<Run>)> = r
						.assignments
						.iter()
						.filter_map(|(w, s)| match s {
							AState::Submitted(run) if verdict.contradicts(&run.leaves, node) => {
								Some((*w, run.clone()))
							}
							_ => None,
						})
						.collect();
					if liars.is_empty() {
						self.requests.insert(id, r);
						Verdict::Honest
					} else {
						let mut excluded_all = true;
						for (liar, run) in &liars {
							let requester = r.requester;
							self.punish(id, *liar, run, m, seed, requester, challenger, 0);
							excluded_all &= exclude(&mut r, *liar, self.rules.max_replicas);
							let pos = r.position(*liar).expect("assigned");
							r.assignments[pos].1 = AState::Slashed;
						}
						self.notes.seen.insert("a quorum dispute decided");
						if liars.len() > 1 {
							self.notes.seen.insert("several liars slashed by one proof");
						}
						self.conclude(id, r, excluded_all);
						Verdict::Fraud
					}
				}
				_ => unreachable!("challengeable phases only"),
			}
		} else {
			let win = self.windows.get(&id).expect("expected ok").clone();
			if challenger == win.requester {
				self.notes.seen.insert("a requester audits its own request");
			}
			if verdict.contradicts(&run.leaves, node) {
				self.punish(
					id,
					accused,
					&run,
					m,
					seed,
					win.requester,
					challenger,
					win.cut_paid,
				);
				self.windows.remove(&id);
				self.receipts.get_mut(&id).expect("settled").outcome = Outcome::Fraudulent;
				self.changed_receipts.insert(id);
				self.notes
					.seen
					.insert("an attested receipt proven fraudulent");
				Verdict::Fraud
			} else {
				Verdict::Honest
			}
		};
		if outcome == Verdict::Honest {
			// The bond is forfeited to the accused worker, whose leaf was right.
			self.transfer(challenger, accused, self.rules.challenge_bond);
			self.notes.seen.insert("a challenge bond forfeited");
		}
		outcome
	}

	/// Slashes `worker` for its proven lie `run` on request `id`: `min(FraudSlash, bond)` to the
	/// protocol account, which passes the requester's and the challenger's shares on.
	/// `cut_paid` is what the worker was paid for the lie (an attested result).
	#[allow(clippy::too_many_arguments)]
	fn punish(
		&mut self,
		id: RequestId,
		worker: Who,
		run: &Run,
		m: u32,
		seed: u32,
		requester: Who,
		challenger: Who,
		cut_paid: Balance,
	) {
		let honest = self.catalog.honest(m, seed);
		assert!(
			!run.same_trace(&honest),
			"request {id}: {} is slashed for the honest result",
			parties::name(worker)
		);
		let slashed = self.rules.fraud_slash.min(self.purses[worker].bond);
		// Every exposure was answerable when it was taken on, so every proven cheat is paid for
		// in full.
		assert_eq!(
			slashed,
			self.rules.fraud_slash,
			"request {id}: {}'s bond could not pay for its proven lie",
			parties::name(worker)
		);
		self.purses[worker].bond -= slashed;
		self.purses[PROTOCOL].free += slashed;
		*self.notes.bond_lost.entry(worker).or_default() += slashed;
		let to_requester = self.rules.requester_share * slashed;
		let to_challenger = self.rules.challenger_share * slashed;
		self.transfer(PROTOCOL, requester, to_requester);
		self.transfer(PROTOCOL, challenger, to_challenger);
		let mut returned = 0;
		if requester == worker {
			returned += to_requester;
			self.notes.seen.insert("a liar requested its own job");
		}
		if challenger == worker {
			returned += to_challenger;
			self.notes.seen.insert("a liar challenged itself");
		}
		let gained = cut_paid + returned;
		if run.failed_at.is_some() && honest.failed_at.is_none() {
			self.notes.seen.insert("a false failure proven wrong");
		}
		if run.failed_at.is_none() && honest.failed_at.is_some() {
			self.notes
				.seen
				.insert("an output invented past a failure proven wrong");
		}
		if self.purses[worker].bond < self.rules.fraud_slash {
			self.notes
				.seen
				.insert("a bond slashed below one more fraud");
		}
		if self.purses[worker].bond == 0 {
			self.notes.seen.insert("a bond slashed to nothing");
		}
		// Cheating never pays: the lie costs its worker more than it brought in, even when the
		// worker is its own requester and challenger (it still loses the protocol's share).
		assert!(
			gained < slashed,
			"request {id}: {}'s proven lie paid ({gained} gained, {slashed} slashed)",
			parties::name(worker)
		);
		if requester != worker {
			let least = (Perbill::one() - self.rules.challenger_share) * self.rules.fraud_slash;
			assert!(
				slashed - returned >= least,
				"request {id}: a caught cheater lost less than (1 − ChallengerShare) × FraudSlash"
			);
		}
		self.notes.lies.push(Lie {
			worker,
			request: id,
			slashed,
			fee: cut_paid,
			returned,
		});
		self.suspend_if_short(worker);
	}

	/// `worker` missed a deadline of `requester`'s request: `min(MissPenalty, bond)` from its
	/// bond to the requester.
	fn penalise(&mut self, worker: Who, requester: Who) {
		let moved = self.rules.miss_penalty.min(self.purses[worker].bond);
		self.purses[worker].bond -= moved;
		self.purses[requester].free += moved;
		*self.notes.misses.entry(worker).or_default() += 1;
		*self.notes.bond_lost.entry(worker).or_default() += moved;
		self.notes.seen.insert("a missed deadline penalised");
		self.suspend_if_short(worker);
	}

	// ---- finishing ------------------------------------------------------------------------

	/// Pays the owner, the accepted workers and the protocol for `run` out of the escrow and
	/// releases the rest; `window` (attested) keeps the receipt challengeable until then.
	fn settle(
		&mut self,
		id: RequestId,
		r: Req,
		accepted: Vec<Who>,
		run: Arc<Run>,
		window: Option<BlockNumber>,
	) {
		let k = accepted.len() as Balance;
		let protocol_cut = self.rules.protocol_share * r.worker_fee;
		let worker_cut = r.worker_fee - protocol_cut;
		let owner = self.models[r.model as usize].owner;
		let honest = run.same_trace(&self.catalog.honest(r.model, r.seed));
		let mut paid = self.pay_from_escrow(r.requester, owner, r.price * k);
		for w in &accepted {
			paid += self.pay_from_escrow(r.requester, *w, worker_cut);
			if !honest {
				*self.notes.paid_for_lies.entry(*w).or_default() += worker_cut;
			}
		}
		paid += self.pay_from_escrow(r.requester, PROTOCOL, protocol_cut * k);
		self.release_escrow(r.requester, r.max_fee - paid);
		let outcome = match run.failed_at {
			Some(node) => {
				self.notes.seen.insert("a failure result settled");
				Outcome::ExecutionFailed { node }
			}
			None => Outcome::Settled,
		};
		if !honest {
			self.notes.seen.insert("a lie settled unchallenged");
		}
		self.notes.seen.insert(match (r.mode, accepted.len()) {
			(VerificationMode::Attested, _) => "attested settled",
			(VerificationMode::Optimistic, _) => "optimistic settled",
			(VerificationMode::Quorum(_), 1) => "a quorum's lone reveal settled",
			(VerificationMode::Quorum(_), _) => "a quorum settled by agreement",
		});
		if let Some(until) = window {
			self.windows.insert(
				id,
				Window {
					requester: r.requester,
					model: r.model,
					seed: r.seed,
					worker: accepted[0],
					run,
					until,
					cut_paid: worker_cut,
				},
			);
		}
		self.changed_receipts.insert(id);
		self.receipts.insert(
			id,
			ReceiptRec {
				outcome,
				paid,
				workers: accepted,
			},
		);
	}

	/// Releases the whole escrow.
	fn refund(&mut self, id: RequestId, r: Req) {
		self.release_escrow(r.requester, r.max_fee);
		self.notes.seen.insert(match r.mode {
			VerificationMode::Attested => "attested refunded",
			VerificationMode::Optimistic => "optimistic refunded",
			VerificationMode::Quorum(_) => "quorum refunded",
		});
		self.changed_receipts.insert(id);
		self.receipts.insert(
			id,
			ReceiptRec {
				outcome: Outcome::Refunded,
				paid: 0,
				workers: Vec::new(),
			},
		);
	}

	/// A fresh round with new workers if the lifetime and the exclusion list allow one and the
	/// draw finds any; otherwise a refund.
	fn retry_or_refund(&mut self, id: RequestId, mut r: Req, excluded_all: bool) {
		if excluded_all && self.now + self.rules.result_timeout <= r.expires_at {
			let mut exclude = r.missed.clone();
			exclude.extend(r.assignments.iter().map(|(w, _)| *w));
			let drawn = self.draw(id, r.mode.replicas(), &exclude);
			if !drawn.is_empty() {
				self.notes.seen.insert("a request reassigned");
				r.assignments = drawn.into_iter().map(|w| (w, AState::Assigned)).collect();
				r.phase = Phase::Assigned {
					deadline: self.now + self.rules.result_timeout,
				};
				self.requests.insert(id, r);
				return;
			}
		}
		self.refund(id, r);
	}

	/// Decides a quorum on its revealed results: none → retry or refund; one → challengeable;
	/// all equal → settle; otherwise a dispute at the first leaf where two traces differ.
	fn conclude(&mut self, id: RequestId, mut r: Req, excluded_all: bool) {
		let revealed: Vec<(Who, Arc<Run>)> = r
			.assignments
			.iter()
			.filter_map(|(w, s)| match s {
				AState::Submitted(run) => Some((*w, run.clone())),
				_ => None,
			})
			.collect();
		let until = self.now + self.rules.challenge_period;
		match revealed.as_slice() {
			[] => self.retry_or_refund(id, r, excluded_all),
			[_] => {
				r.phase = Phase::Challengeable { until };
				self.requests.insert(id, r);
			}
			[(_, first), rest @ ..] if rest.iter().all(|(_, run)| run.same_result(first)) => {
				let run = first.clone();
				let workers = revealed.iter().map(|(w, _)| *w).collect();
				self.settle(id, r, workers, run, None);
			}
			[(_, first), rest @ ..] => {
				let leaf = rest
					.iter()
					.map(|(_, t)| first_divergence(&first.leaves, &t.leaves))
					.min()
					.expect("two or more reveals");
				if matches!(r.phase, Phase::Disputed { .. }) {
					self.notes.seen.insert("a nested dispute");
				}
				self.notes.seen.insert("a quorum disputed");
				r.phase = Phase::Disputed { leaf, until };
				self.requests.insert(id, r);
			}
		}
	}

	// ---- deadlines ------------------------------------------------------------------------

	/// The block of the next phase end or window close to process.
	pub fn next_due(&self) -> Option<BlockNumber> {
		let phases = self.requests.values().map(|r| r.phase.last() + 1);
		let windows = self.windows.values().map(|w| w.until + 1);
		phases.chain(windows).min()
	}

	/// `on_initialize` of block `b`: every phase that ended at `b − 1` (in the deadline queue's
	/// key order, `Twox64Concat` of the id) is processed.
	pub fn process_deadlines(&mut self, b: BlockNumber) {
		self.now = b;
		let mut due: Vec<RequestId> = self
			.requests
			.iter()
			.filter(|(_, r)| r.phase.last() + 1 == b)
			.map(|(id, _)| *id)
			.chain(
				self.windows
					.iter()
					.filter(|(_, w)| w.until + 1 == b)
					.map(|(id, _)| *id),
			)
			.collect();
		due.sort_by_key(|id| twox_key(*id));
		for id in due {
			if self.windows.remove(&id).is_some() {
				self.notes.seen.insert("an attested window closed");
				continue;
			}
			let r = self.requests.remove(&id).expect("due");
			match r.phase {
				Phase::Assigned { .. } => self.expire_assigned(id, r),
				Phase::Revealing { .. } => self.expire_reveal(id, r),
				Phase::Challengeable { .. } => {
					let first = r.assignments.iter().find_map(|(w, s)| match s {
						AState::Submitted(run) => Some((*w, run.clone())),
						_ => None,
					});
					match first {
						Some((w, run)) => self.settle(id, r, vec![w], run, None),
						None => self.refund(id, r),
					}
				}
				Phase::Disputed { .. } => {
					self.notes.seen.insert("a dispute nobody decided refunded");
					self.refund(id, r)
				}
			}
		}
	}

	/// The results (or commitments) are missing at the end of an `Assigned` phase: the silent
	/// workers are penalised and excluded; the request is retried or refunded, or a quorum
	/// goes on with replacements for them, or to reveals with those that committed.
	fn expire_assigned(&mut self, id: RequestId, mut r: Req) {
		let silent: Vec<Who> = r
			.assignments
			.iter()
			.filter(|(_, s)| matches!(s, AState::Assigned))
			.map(|(w, _)| *w)
			.collect();
		let mut excluded_all = true;
		for w in &silent {
			self.penalise(*w, r.requester);
			excluded_all &= exclude(&mut r, *w, self.rules.max_replicas);
		}
		r.assignments
			.retain(|(_, s)| !matches!(s, AState::Assigned));
		if r.assignments.is_empty() {
			self.retry_or_refund(id, r, excluded_all);
			return;
		}
		let deadline = self.now + self.rules.result_timeout;
		if excluded_all && deadline <= r.expires_at {
			let mut exclude = r.missed.clone();
			exclude.extend(r.assignments.iter().map(|(w, _)| *w));
			let drawn = self.draw(id, silent.len() as u32, &exclude);
			if !drawn.is_empty() {
				self.notes.seen.insert("silent quorum workers replaced");
				r.assignments
					.extend(drawn.into_iter().map(|w| (w, AState::Assigned)));
				r.phase = Phase::Assigned { deadline };
				self.requests.insert(id, r);
				return;
			}
		}
		r.phase = Phase::Revealing { deadline };
		self.requests.insert(id, r);
	}

	/// Reveals are missing at the end of the reveal phase: the silent workers are penalised and
	/// excluded, and the quorum is decided on what was revealed.
	fn expire_reveal(&mut self, id: RequestId, mut r: Req) {
		let silent: Vec<Who> = r
			.assignments
			.iter()
			.filter(|(_, s)| matches!(s, AState::Committed { .. }))
			.map(|(w, _)| *w)
			.collect();
		let mut excluded_all = true;
		for w in &silent {
			self.penalise(*w, r.requester);
			excluded_all &= exclude(&mut r, *w, self.rules.max_replicas);
		}
		r.assignments
			.retain(|(_, s)| !matches!(s, AState::Committed { .. }));
		self.conclude(id, r, excluded_all);
	}

	// ---- workers' and owners' calls -------------------------------------------------------

	/// Whether `w` may register with `key` (a party's key) and `bond`.
	pub fn register_expect(&self, w: Who, key: Who, bond: Balance) -> Expect {
		let key_used = self.workers.values().any(|(_, k)| *k == key);
		Expect::when(
			!self.workers.contains_key(&w)
				&& bond >= self.rules.min_bond
				&& !key_used && self.can_hold(w, bond),
		)
	}

	pub fn register(&mut self, w: Who, key: Who, bond: Balance) {
		self.purses[w].free -= bond;
		self.purses[w].bond += bond;
		self.workers.insert(w, (Status::Active, key));
		self.notes.seen.insert("a worker registered");
	}

	pub fn bond_extra_expect(&self, w: Who, amount: Balance) -> Expect {
		Expect::when(self.workers.contains_key(&w) && amount > 0 && self.can_hold(w, amount))
	}

	pub fn bond_extra(&mut self, w: Who, amount: Balance) {
		self.purses[w].free -= amount;
		self.purses[w].bond += amount;
	}

	pub fn unbond_expect(&self, w: Who) -> Expect {
		Expect::when(matches!(
			self.status(w),
			Some(Status::Active | Status::Suspended)
		))
	}

	pub fn unbond(&mut self, w: Who) {
		let until = self.now + self.rules.unbonding_delay;
		self.workers.get_mut(&w).expect("registered").0 = Status::Unbonding { until };
		if self.exposure(w) > 0 {
			self.notes.seen.insert("a worker unbonds while exposed");
		}
	}

	pub fn withdraw_expect(&self, w: Who) -> Expect {
		Expect::when(
			matches!(self.status(w), Some(Status::Unbonding { until }) if self.now >= until),
		)
	}

	pub fn withdraw(&mut self, w: Who) {
		assert_eq!(
			self.exposure(w),
			0,
			"{} withdrew its bond while still slashable",
			parties::name(w)
		);
		let p = &mut self.purses[w];
		p.free += p.bond;
		p.bond = 0;
		self.workers.remove(&w);
		self.notes.seen.insert("a bond withdrawn");
	}

	pub fn rejoin_expect(&self, w: Who) -> Expect {
		Expect::when(
			matches!(self.status(w), Some(s) if s != Status::Active)
				&& self.purses[w].bond >= self.rules.min_bond,
		)
	}

	pub fn rejoin(&mut self, w: Who) {
		self.workers.get_mut(&w).expect("registered").0 = Status::Active;
		self.notes.seen.insert("a worker rejoined");
	}

	/// Requests and open windows of model `m`.
	pub fn in_flight(&self, m: u32) -> u32 {
		(self.requests.values().filter(|r| r.model == m).count()
			+ self.windows.values().filter(|w| w.model == m).count()) as u32
	}

	fn owns(&self, who: Who, m: u32) -> bool {
		let model = &self.models[m as usize];
		!model.removed && model.owner == who
	}

	pub fn set_price_expect(&self, who: Who, m: u32) -> Expect {
		Expect::when(self.owns(who, m))
	}

	pub fn set_price(&mut self, m: u32, price: Balance) {
		if self.in_flight(m) > 0 && price != self.models[m as usize].price {
			self.notes
				.seen
				.insert("a price changed under requests in flight");
		}
		self.models[m as usize].price = price;
	}

	pub fn deprecate_expect(&self, who: Who, m: u32) -> Expect {
		Expect::when(self.owns(who, m) && !self.models[m as usize].deprecated)
	}

	pub fn deprecate(&mut self, m: u32) {
		self.models[m as usize].deprecated = true;
	}

	pub fn remove_expect(&self, who: Who, m: u32) -> Expect {
		Expect::when(
			self.owns(who, m) && self.models[m as usize].deprecated && self.in_flight(m) == 0,
		)
	}

	pub fn remove(&mut self, m: u32) {
		let owner = self.models[m as usize].owner;
		let p = &mut self.purses[owner];
		p.free += p.deposit;
		p.deposit = 0;
		self.models[m as usize].removed = true;
		self.notes.seen.insert("a model removed");
	}

	// ---- comparison with the chain --------------------------------------------------------

	/// Compares everything the model predicts with the chain; panics with the first difference.
	pub fn check(&mut self) {
		for (who, (account, purse)) in self.accounts.iter().zip(&self.purses).enumerate() {
			let data = frame_system::Account::<Runtime>::get(account).data;
			let mut actual = Purse {
				free: data.free,
				..Default::default()
			};
			let mut unknown = 0;
			for hold in pallet_balances::Holds::<Runtime>::get(account).iter() {
				match hold.id {
					RuntimeHoldReason::Inference(pallet_inference::HoldReason::InferenceEscrow) => {
						actual.escrow += hold.amount
					}
					RuntimeHoldReason::Workers(pallet_workers::HoldReason::WorkerBond) => {
						actual.bond += hold.amount
					}
					RuntimeHoldReason::Models(pallet_models::HoldReason::ModelDeposit) => {
						actual.deposit += hold.amount
					}
					// A challenge bond is held only during its fraud proof.
					_ => unknown += hold.amount,
				}
			}
			assert_eq!(
				&actual,
				purse,
				"{}'s balances differ from the rules (left: chain, right: expected)",
				parties::name(who)
			);
			assert_eq!(
				(unknown, data.reserved, data.frozen),
				(0, purse.escrow + purse.bond + purse.deposit, 0),
				"{} holds, reserves or freezes something the rules do not",
				parties::name(who)
			);
		}
		for (who, account) in self.accounts.iter().enumerate() {
			let record = pallet_workers::Workers::<Runtime>::get(account);
			match (self.workers.get(&who), record) {
				(None, None) => {}
				(Some((status, key)), Some(info)) => {
					let expected = match *status {
						Status::Active => pallet_workers::WorkerStatus::Active,
						Status::Suspended => pallet_workers::WorkerStatus::Suspended,
						Status::Unbonding { until } => {
							pallet_workers::WorkerStatus::Unbonding { until }
						}
					};
					assert_eq!(info.status, expected, "{}'s status", parties::name(who));
					assert_eq!(
						info.bond,
						self.purses[who].bond,
						"{}'s recorded bond",
						parties::name(who)
					);
					assert_eq!(info.key, parties::key(*key), "{}'s key", parties::name(who));
				}
				(expected, actual) => panic!(
					"{}: worker record {actual:?}, expected {expected:?}",
					parties::name(who)
				),
			}
			let exposure = self.exposure(who);
			assert_eq!(
				pallet_inference::Exposure::<Runtime>::get(account),
				exposure,
				"{}'s exposure",
				parties::name(who)
			);
			// The bond answers for every fraud the worker could still be proven of.
			assert!(
				self.purses[who].bond >= exposure as Balance * self.rules.fraud_slash,
				"{}'s bond does not cover its exposure",
				parties::name(who)
			);
		}
		let active: BTreeSet<AccountId> = pallet_workers::ActiveWorkers::<Runtime>::get()
			.into_iter()
			.collect();
		let expected_active: BTreeSet<AccountId> = self
			.workers
			.keys()
			.filter(|w| self.is_active(**w))
			.map(|w| self.accounts[*w].clone())
			.collect();
		assert_eq!(active, expected_active, "the active set");

		let open: Vec<RequestId> = pallet_inference::Requests::<Runtime>::iter_keys().collect();
		assert_eq!(
			open.iter().copied().collect::<BTreeSet<_>>(),
			self.requests.keys().copied().collect::<BTreeSet<_>>(),
			"the unfinished requests"
		);
		for (id, r) in &self.requests {
			let actual = pallet_inference::Requests::<Runtime>::get(id).expect("compared");
			let status = match r.phase {
				Phase::Assigned { deadline } => RequestStatus::Assigned { deadline },
				Phase::Revealing { deadline } => RequestStatus::Revealing { deadline },
				Phase::Challengeable { until } => RequestStatus::Challengeable { until },
				Phase::Disputed { leaf, until } => RequestStatus::Disputed { leaf, until },
			};
			assert_eq!(actual.status, status, "request {id}'s phase");
			let assignments: Vec<(AccountId, AssignmentState)> = r
				.assignments
				.iter()
				.map(|(w, s)| {
					let state = match s {
						AState::Assigned => AssignmentState::Assigned,
						AState::Committed { commitment, .. } => {
							AssignmentState::Committed(*commitment)
						}
						AState::Submitted(_) => AssignmentState::Submitted,
						AState::Slashed => AssignmentState::Slashed,
					};
					(self.accounts[*w].clone(), state)
				})
				.collect();
			let actual_assignments: Vec<(AccountId, AssignmentState)> = actual
				.assignments
				.iter()
				.map(|a| (a.worker.clone(), a.state))
				.collect();
			assert_eq!(
				actual_assignments, assignments,
				"request {id}'s assignments"
			);
			let missed: Vec<AccountId> =
				r.missed.iter().map(|w| self.accounts[*w].clone()).collect();
			assert_eq!(actual.missed.to_vec(), missed, "request {id}'s exclusions");
			assert_eq!(
				(actual.max_fee, actual.fee_per_replica, actual.worker_fee),
				(r.max_fee, r.price + r.worker_fee, r.worker_fee),
				"request {id}'s fees"
			);
		}
		assert_eq!(
			pallet_inference::ChallengeWindows::<Runtime>::iter_keys().collect::<BTreeSet<_>>(),
			self.windows.keys().copied().collect::<BTreeSet<_>>(),
			"the open attested windows"
		);
		assert_eq!(
			pallet_inference::NextRequestId::<Runtime>::get(),
			self.next_id,
			"requests made"
		);
		for id in core::mem::take(&mut self.changed_receipts) {
			let expected = &self.receipts[&id];
			let receipt = pallet_inference::Receipts::<Runtime>::get(id)
				.unwrap_or_else(|| panic!("request {id} has no receipt"));
			let workers: Vec<AccountId> = expected
				.workers
				.iter()
				.map(|w| self.accounts[*w].clone())
				.collect();
			assert_eq!(
				(receipt.outcome, receipt.paid, receipt.workers.to_vec()),
				(expected.outcome, expected.paid, workers),
				"request {id}'s receipt"
			);
		}
		for (m, model) in self.models.iter().enumerate() {
			let actual = pallet_models::Models::<Runtime>::get(m as u32);
			if model.removed {
				assert!(actual.is_none(), "model {m} was removed");
				continue;
			}
			let actual = actual.expect("model registered");
			let status = if model.deprecated {
				ModelStatus::Deprecated
			} else {
				ModelStatus::Active
			};
			assert_eq!(
				(actual.price, actual.status, actual.in_flight),
				(model.price, status, self.in_flight(m as u32)),
				"model {m}'s price, status and requests in flight"
			);
		}
	}
}

/// Records that `w` is never to be assigned to `r` again; `false` when the list is full.
fn exclude(r: &mut Req, w: Who, max: u32) -> bool {
	if r.missed.contains(&w) {
		return true;
	}
	if (r.missed.len() as u32) < max {
		r.missed.push(w);
		true
	} else {
		false
	}
}

/// The first leaf where two traces differ; a shorter trace differs where it ends.
pub fn first_divergence(a: &[H256], b: &[H256]) -> u32 {
	let common = a.len().min(b.len());
	(0..common).find(|&i| a[i] != b[i]).unwrap_or(common) as u32
}
