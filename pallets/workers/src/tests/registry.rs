//! The `WorkerRegistry` seam: activity, assignment, slashing and counters.

use super::*;
use crate::{Event, WorkerStatus};
use frame_support::assert_noop;
use verity_primitives::WorkerRegistry;

type Registry = Workers;

fn select(seed: [u8; 32], count: u32, exclude: &[AccountId]) -> Vec<AccountId> {
	<Registry as WorkerRegistry<AccountId, Balance>>::select(&seed, count, exclude)
}

fn slash(who: AccountId, amount: Balance, to: AccountId) -> Balance {
	<Registry as WorkerRegistry<AccountId, Balance>>::slash(&who, amount, &to)
}

fn penalise(who: AccountId, amount: Balance, to: AccountId) -> Balance {
	<Registry as WorkerRegistry<AccountId, Balance>>::penalise_missed(&who, amount, &to)
}

fn is_active(who: AccountId) -> bool {
	<Registry as WorkerRegistry<AccountId, Balance>>::is_active(&who)
}

/// The documented rule, written out independently.
fn reference_select(
	seed: [u8; 32],
	count: u32,
	set: &[AccountId],
	exclude: &[AccountId],
) -> Vec<AccountId> {
	let mut candidates: Vec<AccountId> = set
		.iter()
		.copied()
		.filter(|w| !exclude.contains(w))
		.collect();
	let mut out = Vec::new();
	let mut k: u32 = 0;
	while (out.len() as u32) < count && !candidates.is_empty() {
		let mut preimage = seed.to_vec();
		preimage.extend_from_slice(&k.to_le_bytes());
		let h = verity_primitives::engine::commit::blake2_256(&preimage);
		let r = u64::from_le_bytes(h[..8].try_into().unwrap());
		out.push(candidates.remove((r % candidates.len() as u64) as usize));
		k += 1;
	}
	out
}

fn five_workers() {
	for who in 1..=5 {
		register(who, MIN_BOND * 2);
	}
}

#[test]
fn only_active_workers_are_active() {
	test(|| {
		five_workers();
		assert!(is_active(1));
		assert!(!is_active(6));
		assert_ok!(Workers::unbond(RuntimeOrigin::signed(1)));
		assert!(!is_active(1));
		slash(2, MIN_BOND * 2, 9);
		assert_eq!(info(2).status, WorkerStatus::Suspended);
		assert!(!is_active(2));
	});
}

#[test]
fn select_follows_the_documented_rule() {
	test(|| {
		five_workers();
		for n in 0u8..50 {
			let seed = [n; 32];
			for count in 0..=6 {
				for exclude in [vec![], vec![3], vec![1, 5, 42]] {
					let got = select(seed, count, &exclude);
					assert_eq!(
						got,
						reference_select(seed, count, &[1, 2, 3, 4, 5], &exclude)
					);
				}
			}
		}
	});
}

#[test]
fn select_draws_distinct_active_non_excluded_workers() {
	test(|| {
		five_workers();
		assert_ok!(Workers::unbond(RuntimeOrigin::signed(4)));
		for n in 0u8..100 {
			let got = select([n; 32], 3, &[2]);
			assert_eq!(got.len(), 3);
			let mut sorted = got.clone();
			sorted.sort();
			sorted.dedup();
			assert_eq!(sorted.len(), 3, "no worker twice");
			assert!(got.iter().all(|w| [1, 3, 5].contains(w)), "{got:?}");
		}
		// Fewer candidates than asked: all of them.
		let mut all = select([7; 32], 8, &[]);
		all.sort();
		assert_eq!(all, vec![1, 2, 3, 5]);
		assert!(select([7; 32], 2, &[1, 2, 3, 5]).is_empty());
		assert!(select([7; 32], 0, &[]).is_empty());
	});
}

#[test]
fn select_is_deterministic_and_spreads_load() {
	test(|| {
		five_workers();
		assert_eq!(select([1; 32], 3, &[]), select([1; 32], 3, &[]));
		let mut first = [0u32; 6];
		for n in 0u32..1000 {
			let seed = verity_primitives::engine::commit::blake2_256(&n.to_le_bytes());
			first[select(seed, 1, &[])[0] as usize] += 1;
		}
		// Each of the five is drawn first about 200 times out of 1000.
		assert!(
			first[1..].iter().all(|&c| (130..=270).contains(&c)),
			"{first:?}"
		);
	});
}

#[test]
fn select_with_empty_set_is_empty() {
	test(|| {
		assert!(select([0; 32], 3, &[]).is_empty());
	});
}

#[test]
fn slash_moves_bond_to_beneficiary() {
	test(|| {
		five_workers();
		let before = Balances::free_balance(9);
		assert_eq!(slash(1, 30, 9), 30);
		assert_eq!(Balances::free_balance(9), before + 30);
		assert_eq!(held(&1), MIN_BOND * 2 - 30);
		let w = info(1);
		assert_eq!(w.bond, MIN_BOND * 2 - 30);
		assert_eq!((w.slashed, w.missed), (1, 0));
		assert_eq!(w.status, WorkerStatus::Active);
		System::assert_last_event(
			Event::Slashed {
				who: 1,
				amount: 30,
				beneficiary: 9,
				bond: MIN_BOND * 2 - 30,
			}
			.into(),
		);
	});
}

#[test]
fn slash_below_minimum_suspends_and_rejoin_needs_a_top_up() {
	test(|| {
		five_workers();
		let bond = MIN_BOND * 2;
		assert_eq!(slash(3, bond - MIN_BOND + 1, 9), bond - MIN_BOND + 1);
		let left = MIN_BOND - 1;
		assert_eq!(info(3).status, WorkerStatus::Suspended);
		assert_eq!(active(), vec![1, 2, 4, 5]);
		System::assert_has_event(
			Event::Slashed {
				who: 3,
				amount: bond - MIN_BOND + 1,
				beneficiary: 9,
				bond: left,
			}
			.into(),
		);
		System::assert_last_event(Event::Suspended { who: 3, bond: left }.into());
		assert_noop!(
			Workers::rejoin(RuntimeOrigin::signed(3)),
			crate::Error::<Test>::BondTooLow
		);
		assert_ok!(Workers::bond_extra(RuntimeOrigin::signed(3), 1));
		assert_ok!(Workers::rejoin(RuntimeOrigin::signed(3)));
		assert_eq!(active(), vec![1, 2, 4, 5, 3]);
		assert_eq!(held(&3), MIN_BOND);
	});
}

#[test]
fn slash_is_capped_by_the_bond() {
	test(|| {
		five_workers();
		assert_eq!(slash(2, 1_000_000, 9), MIN_BOND * 2);
		assert_eq!(held(&2), 0);
		assert_eq!(info(2).bond, 0);
		// A worker with nothing left is still slashable (for nothing) and counted.
		assert_eq!(slash(2, 10, 9), 0);
		assert_eq!(info(2).slashed, 2);
		// It can still unbond and withdraw (nothing).
		assert_ok!(Workers::unbond(RuntimeOrigin::signed(2)));
		System::set_block_number(1 + UNBONDING_DELAY);
		assert_ok!(Workers::withdraw_unbonded(RuntimeOrigin::signed(2)));
		System::assert_last_event(Event::Withdrawn { who: 2, amount: 0 }.into());
	});
}

#[test]
fn unbonding_worker_stays_slashable() {
	test(|| {
		five_workers();
		assert_ok!(Workers::unbond(RuntimeOrigin::signed(4)));
		assert_eq!(slash(4, MIN_BOND * 2 - 1, 9), MIN_BOND * 2 - 1);
		// Still unbonding (not suspended: it is not in the set anyway).
		assert!(matches!(info(4).status, WorkerStatus::Unbonding { .. }));
		System::set_block_number(1 + UNBONDING_DELAY);
		assert_ok!(Workers::withdraw_unbonded(RuntimeOrigin::signed(4)));
		assert_eq!(Balances::free_balance(4), ENDOWMENT - MIN_BOND * 2 + 1);
	});
}

#[test]
fn slash_creates_a_beneficiary_account_when_it_can() {
	test(|| {
		five_workers();
		let newcomer = 1000;
		assert_eq!(slash(1, ED, newcomer), ED);
		assert_eq!(Balances::free_balance(newcomer), ED);
	});
}

#[test]
fn slash_that_cannot_be_paid_moves_nothing_but_counts() {
	test(|| {
		five_workers();
		// Below the existential deposit, a new account cannot be created.
		assert_eq!(slash(1, ED - 1, 1000), 0);
		assert_eq!(held(&1), MIN_BOND * 2);
		assert_eq!(info(1).bond, MIN_BOND * 2);
		assert_eq!(info(1).slashed, 1);
		assert_eq!(Balances::free_balance(1000), 0);
		System::assert_last_event(
			Event::Slashed {
				who: 1,
				amount: 0,
				beneficiary: 1000,
				bond: MIN_BOND * 2,
			}
			.into(),
		);
	});
}

#[test]
fn slashing_a_non_worker_does_nothing() {
	test(|| {
		assert_eq!(slash(7, 50, 9), 0);
		assert_eq!(penalise(7, 50, 9), 0);
		assert!(crate::Workers::<Test>::get(7).is_none());
		assert!(System::events().is_empty());
	});
}

#[test]
fn missed_deadline_penalty_counts_misses() {
	test(|| {
		five_workers();
		assert_eq!(penalise(5, 20, 1), 20);
		assert_eq!(Balances::free_balance(1), ENDOWMENT - MIN_BOND * 2 + 20);
		let w = info(5);
		assert_eq!((w.slashed, w.missed, w.bond), (0, 1, MIN_BOND * 2 - 20));
		System::assert_last_event(
			Event::PenalisedMissed {
				who: 5,
				amount: 20,
				beneficiary: 1,
				bond: MIN_BOND * 2 - 20,
			}
			.into(),
		);
		// Enough misses suspend the worker like a slash does.
		assert_eq!(penalise(5, MIN_BOND, 1), MIN_BOND);
		assert_eq!(info(5).status, WorkerStatus::Suspended);
		System::assert_last_event(
			Event::Suspended {
				who: 5,
				bond: MIN_BOND - 20,
			}
			.into(),
		);
	});
}

#[test]
fn served_results_are_counted() {
	test(|| {
		five_workers();
		<Registry as WorkerRegistry<AccountId, Balance>>::note_served(&1);
		<Registry as WorkerRegistry<AccountId, Balance>>::note_served(&1);
		assert_eq!(info(1).served, 2);
		// A non-worker: nothing.
		<Registry as WorkerRegistry<AccountId, Balance>>::note_served(&77);
		assert!(crate::Workers::<Test>::get(77).is_none());
	});
}
