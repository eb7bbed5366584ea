//! The real pallets at the runtime's production constants with a full worker set
//! (`MaxWorkers` = 256, quorums of `MAX_REPLICAS` = 8, `MaxDeadlinesPerBlock` = 64): a quorum of
//! eight settles and clears every exposure; a worker at the minimum bond is suspended by one
//! miss and its request served by another; a worker that unbonds while its attested result is
//! challengeable stays slashable until its bond is withdrawn; nested quorum disputes end with
//! the honest result; and a burst of deadlines beyond one block's budget is processed in the
//! next block. Each test checks that the issuance and the sum of all balances do not move.

mod common;

use common::*;
use frame_support::traits::fungible::Mutate;
use sp_core::{sr25519, Pair};
use verity_runtime::configs::{
	MaxDeadlinesPerBlock, MaxWorkers, MinWorkerBond, MissPenalty, ProtocolShare, ResultTimeout,
	WorkerFee,
};

/// The bond of the workers [`full_set`] adds.
const BOND: Balance = 10_000 * UNIT;

/// Account and key of generated worker `i`.
fn worker_pair(i: u32) -> (AccountId, sr25519::Pair) {
	let pair = sr25519::Pair::from_string(&format!("//verity-worker-{i}"), None).unwrap();
	(AccountId::from(pair.public()), pair)
}

/// Funds `who` (before a test measures the issuance) and registers it with `bond`.
fn register(who: &AccountId, pair: &sr25519::Pair, bond: Balance) {
	Balances::set_balance(who, bond + 100 * UNIT);
	assert_ok!(register_call(who, pair, bond));
}

fn register_call(
	who: &AccountId,
	pair: &sr25519::Pair,
	bond: Balance,
) -> frame_support::dispatch::DispatchResultWithPostInfo {
	call_by(
		who,
		RuntimeCall::Workers(pallet_workers::Call::register_worker {
			key: WorkerPublic::from(pair.public()),
			bond,
		}),
	)
}

/// [`dev_ext`] (Alice, Bob and Charlie) filled up to `MaxWorkers` active workers.
fn full_set() -> sp_io::TestExternalities {
	let mut ext = dev_ext();
	ext.execute_with(|| {
		let mut i = 0;
		while (pallet_workers::ActiveWorkers::<Runtime>::get().len() as u32) < MaxWorkers::get() {
			let (who, pair) = worker_pair(i);
			register(&who, &pair, BOND);
			i += 1;
		}
	});
	ext
}

/// What a worker keeps of one worker fee (the protocol takes its share).
fn worker_cut() -> Balance {
	WorkerFee::get() - ProtocolShare::get() * WorkerFee::get()
}

fn status(who: &AccountId) -> pallet_workers::WorkerStatus<BlockNumber> {
	pallet_workers::Workers::<Runtime>::get(who).unwrap().status
}

fn bond(who: &AccountId) -> Balance {
	pallet_workers::Workers::<Runtime>::get(who).unwrap().bond
}

/// Checks that nothing was minted or burned since `(issuance, total)` were taken.
fn assert_conserved((issuance, total): (Balance, Balance)) {
	assert_eq!(Balances::total_issuance(), issuance, "issuance moved");
	assert_eq!(total_of_all_accounts(), total, "balances do not add up");
}

fn money() -> (Balance, Balance) {
	(Balances::total_issuance(), total_of_all_accounts())
}

#[test]
fn a_quorum_of_eight_settles_on_a_full_worker_set() {
	full_set().execute_with(|| {
		let start = money();
		// The set is full: one more registration is refused.
		let (extra, pair) = worker_pair(10_000);
		Balances::set_balance(&extra, BOND + UNIT);
		let start = (start.0 + BOND + UNIT, start.1 + BOND + UNIT);
		let refused = register_call(&extra, &pair, BOND).unwrap_err().error;
		assert_eq!(
			refused,
			pallet_workers::Error::<Runtime>::TooManyWorkers.into()
		);

		let (program, inputs) = demo();
		let max = verity_primitives::MAX_REPLICAS as u8;
		let id = request(Sr25519Keyring::Dave, VerificationMode::Quorum(max), &inputs);
		let workers = assigned(id);
		assert_eq!(workers.len(), max as usize);
		let mut distinct = workers.clone();
		distinct.sort();
		distinct.dedup();
		assert_eq!(distinct.len(), workers.len(), "eight different workers");
		assert!(workers
			.iter()
			.all(|w| pallet_inference::Exposure::<Runtime>::get(w) == 1));
		let before: Vec<Balance> = workers.iter().map(|w| Balances::total_balance(w)).collect();
		let s = submission(&program, &node_outputs(&program, &inputs, None));
		for w in &workers {
			commit(w, id, &s, [3; 32]);
		}
		for w in &workers {
			submit(w, id, &s, Some([3; 32]));
		}
		let receipt = Inference::receipt(id).expect("settled at once");
		assert_eq!(receipt.outcome, Outcome::Settled);
		assert_eq!(receipt.workers.len(), max as usize);
		for (w, b) in workers.iter().zip(before) {
			assert_eq!(Balances::total_balance(w), b + worker_cut());
		}
		assert_eq!(pallet_inference::Exposure::<Runtime>::iter().count(), 0);
		assert_conserved(start);
	});
}

#[test]
fn a_worker_at_the_minimum_bond_is_suspended_by_a_miss_and_its_request_served_by_another() {
	dev_ext().execute_with(|| {
		let (program, inputs) = demo();
		let (eve, pair) = worker_pair(1);
		register(&eve, &pair, MinWorkerBond::get());
		// Only Bob and Eve serve.
		for k in [Sr25519Keyring::Alice, Sr25519Keyring::Charlie] {
			call(k, RuntimeCall::Workers(pallet_workers::Call::unbond {}));
		}
		let start = money();
		let honest = submission(&program, &node_outputs(&program, &inputs, None));
		let dave = account(Sr25519Keyring::Dave);
		// Requests until one is Eve's; Bob answers his.
		let id = loop {
			let id = request(Sr25519Keyring::Dave, VerificationMode::Attested, &inputs);
			match assigned(id).remove(0) {
				w if w == eve => break id,
				bob => submit(&bob, id, &honest, None),
			}
		};
		let (dave_before, eve_bond) = (Balances::total_balance(&dave), bond(&eve));
		run_to(System::block_number() + ResultTimeout::get() + 1);
		// Eve missed: penalised for Dave, below the minimum, out of the active set.
		assert_eq!(bond(&eve), eve_bond - MissPenalty::get());
		assert_eq!(status(&eve), pallet_workers::WorkerStatus::Suspended);
		assert!(!pallet_workers::ActiveWorkers::<Runtime>::get().contains(&eve));
		assert_eq!(
			Balances::total_balance(&dave),
			dave_before + MissPenalty::get()
		);
		// The request went to Bob, who serves it.
		let bob = account(Sr25519Keyring::Bob);
		assert_eq!(assigned(id), vec![bob.clone()]);
		submit(&bob, id, &honest, None);
		assert_eq!(Inference::receipt(id).unwrap().outcome, Outcome::Settled);
		// Eve rejoins only with her bond topped up.
		let rejoin = || call_by(&eve, RuntimeCall::Workers(pallet_workers::Call::rejoin {}));
		assert_eq!(
			rejoin().unwrap_err().error,
			pallet_workers::Error::<Runtime>::BondTooLow.into()
		);
		assert_ok!(call_by(
			&eve,
			RuntimeCall::Workers(pallet_workers::Call::bond_extra {
				amount: MissPenalty::get()
			})
		));
		assert_ok!(rejoin());
		assert_conserved(start);
	});
}

#[test]
fn a_worker_unbonding_during_its_attested_window_stays_slashable_until_withdrawal() {
	dev_ext().execute_with(|| {
		let start = money();
		let (program, inputs) = demo();
		let lie = submission(&program, &node_outputs(&program, &inputs, Some(2)));
		let honest = submission(&program, &node_outputs(&program, &inputs, None));
		// A cheater and an honest worker, each unbonding right after its attested result (so
		// the second request goes to another worker).
		let serve = |s: &Submission| {
			let id = request(Sr25519Keyring::Dave, VerificationMode::Attested, &inputs);
			let w = assigned(id).remove(0);
			submit(&w, id, s, None);
			assert_ok!(call_by(
				&w,
				RuntimeCall::Workers(pallet_workers::Call::unbond {})
			));
			(w, id)
		};
		let (cheater, fraud) = serve(&lie);
		let (honest_worker, _) = serve(&honest);
		assert_ne!(cheater, honest_worker);
		let (cheater_bond, honest_bond) = (bond(&cheater), bond(&honest_worker));
		let pallet_workers::WorkerStatus::Unbonding { until } = status(&cheater) else {
			panic!("unbonding");
		};
		// Within the window, unbonding or not, the cheater is proven wrong and slashed.
		let eve = worker_pair(7).0;
		Balances::set_balance(&eve, 1_000 * UNIT);
		let start = (start.0 + 1_000 * UNIT, start.1 + 1_000 * UNIT);
		assert_ok!(call_by(
			&eve,
			challenge_call(fraud, &cheater, &program, &inputs, 2)
		));
		assert_eq!(
			Inference::receipt(fraud).unwrap().outcome,
			Outcome::Fraudulent
		);
		assert_eq!(bond(&cheater), cheater_bond - FraudSlash::get());
		// Neither withdraws before the delay; after it each gets what is left.
		let withdraw = |w: &AccountId| {
			call_by(
				w,
				RuntimeCall::Workers(pallet_workers::Call::withdraw_unbonded {}),
			)
		};
		assert_eq!(
			withdraw(&cheater).unwrap_err().error,
			pallet_workers::Error::<Runtime>::UnbondingNotFinished.into()
		);
		run_to(System::block_number() + ChallengePeriod::get() + 2);
		// `until` is the registration of the unbonding plus `UnbondingDelay`.
		System::set_block_number(until.max(System::block_number()));
		for (w, left) in [
			(&cheater, cheater_bond - FraudSlash::get()),
			(&honest_worker, honest_bond),
		] {
			let free = Balances::balance(w);
			assert_ok!(withdraw(w));
			assert_eq!(Balances::balance(w), free + left);
			assert!(pallet_workers::Workers::<Runtime>::get(w).is_none());
		}
		assert_conserved(start);
	});
}

#[test]
fn nested_quorum_disputes_end_with_the_honest_result() {
	dev_ext().execute_with(|| {
		let start = money();
		let (program, inputs) = demo();
		let dave = account(Sr25519Keyring::Dave);
		let id = request(Sr25519Keyring::Dave, VerificationMode::Quorum(3), &inputs);
		let w = assigned(id);
		// w[0] is honest; w[1] lies from node 1 on, w[2] from node 3 on.
		let lies = [None, Some(1), Some(3)];
		let results: Vec<Submission> = lies
			.iter()
			.map(|lie| submission(&program, &node_outputs(&program, &inputs, *lie)))
			.collect();
		for (k, (worker, s)) in w.iter().zip(&results).enumerate() {
			commit(worker, id, s, [k as u8 + 1; 32]);
		}
		for (k, (worker, s)) in w.iter().zip(&results).enumerate() {
			submit(worker, id, s, Some([k as u8 + 1; 32]));
		}
		let disputes = || {
			events()
				.into_iter()
				.filter_map(|e| match e {
					pallet_inference::Event::Disputed { id: i, leaf, .. } if i == id => Some(leaf),
					_ => None,
				})
				.collect::<Vec<_>>()
		};
		assert_eq!(disputes(), vec![1]);
		let bonds: Vec<Balance> = w.iter().map(bond).collect();
		// The proof at node 1 slashes w[1] only: w[2] computed node 1 honestly.
		assert_ok!(call_by(
			&w[0],
			challenge_call(id, &w[1], &program, &inputs, 1)
		));
		assert_eq!(bond(&w[1]), bonds[1] - FraudSlash::get());
		assert_eq!(bond(&w[2]), bonds[2]);
		// w[0] and w[2] still disagree, first at node 3: a second dispute.
		assert_eq!(disputes(), vec![1, 3]);
		assert_ok!(call_by(
			&w[0],
			challenge_call(id, &w[2], &program, &inputs, 3)
		));
		assert_eq!(bond(&w[2]), bonds[2] - FraudSlash::get());
		// One reveal left: it falls back to an optimistic window, then settles.
		assert!(
			Inference::receipt(id).is_none(),
			"a lone reveal does not settle at once"
		);
		run_to(System::block_number() + ChallengePeriod::get() + 1);
		let receipt = Inference::receipt(id).expect("settled");
		assert_eq!(receipt.outcome, Outcome::Settled);
		assert_eq!(receipt.workers.to_vec(), vec![w[0].clone()]);
		assert_eq!(receipt.trace_root, results[0].trace_root);
		assert_eq!(
			bond(&w[0]),
			bonds[0],
			"the honest worker keeps its whole bond"
		);
		assert_eq!(escrow_of(&dave), 0);
		assert_conserved(start);
	});
}

#[test]
fn a_burst_of_deadlines_beyond_one_blocks_budget_is_processed_in_the_next_block() {
	full_set().execute_with(|| {
		let start = money();
		let (_, inputs) = demo();
		let budget = MaxDeadlinesPerBlock::get();
		let burst = budget + 6;
		let ids: Vec<RequestId> = (0..burst)
			.map(|_| request(Sr25519Keyring::Dave, VerificationMode::Attested, &inputs))
			.collect();
		let missed = || {
			events()
				.iter()
				.filter(|e| matches!(e, pallet_inference::Event::DeadlineMissed { .. }))
				.count() as u32
		};
		let due = System::block_number() + ResultTimeout::get() + 1;
		run_to(due);
		assert_eq!(missed(), budget, "one block's budget");
		run_to(due + 1);
		assert_eq!(missed(), burst, "the rest in the next block");
		// Every request was reassigned; none was lost or refunded early.
		for id in ids {
			assert!(Inference::receipt(id).is_none());
			assert_eq!(assigned(id).len(), 1);
		}
		assert_conserved(start);
	});
}
