//! The workers' own calls and every way they fail.

use super::*;
use crate::{Error, Event, KeyOwner, WorkerStatus};
use frame_support::assert_noop;
use sp_runtime::DispatchError;

#[test]
fn register_holds_bond_and_joins_active_set() {
	test(|| {
		register(1, MIN_BOND);
		register(2, 250);
		assert_eq!(active(), vec![1, 2]);
		assert_eq!(held(&1), MIN_BOND);
		assert_eq!(held(&2), 250);
		assert_eq!(Balances::free_balance(2), ENDOWMENT - 250);
		let w = info(2);
		assert_eq!(w.key, key(2));
		assert_eq!(w.bond, 250);
		assert_eq!(w.status, WorkerStatus::Active);
		assert_eq!((w.served, w.slashed, w.missed), (0, 0, 0));
		assert_eq!(w.registered_at, 1);
		assert_eq!(KeyOwner::<Test>::get(key(2)), Some(2));
		System::assert_last_event(
			Event::WorkerRegistered {
				who: 2,
				key: key(2),
				bond: 250,
			}
			.into(),
		);
	});
}

#[test]
fn register_refuses_duplicates_low_bonds_and_used_keys() {
	test(|| {
		register(1, MIN_BOND);
		assert_noop!(
			Workers::register_worker(RuntimeOrigin::signed(1), key(9), MIN_BOND),
			Error::<Test>::AlreadyRegistered
		);
		assert_noop!(
			Workers::register_worker(RuntimeOrigin::signed(2), key(2), MIN_BOND - 1),
			Error::<Test>::BondTooLow
		);
		assert_noop!(
			Workers::register_worker(RuntimeOrigin::signed(2), key(1), MIN_BOND),
			Error::<Test>::KeyInUse
		);
		assert_noop!(
			Workers::register_worker(RuntimeOrigin::signed(POOR), key(50), MIN_BOND),
			Error::<Test>::InsufficientFunds
		);
		// More than the free balance cannot be held.
		assert_noop!(
			Workers::register_worker(RuntimeOrigin::signed(2), key(2), ENDOWMENT + 1),
			Error::<Test>::InsufficientFunds
		);
		assert_noop!(
			Workers::register_worker(RuntimeOrigin::none(), key(3), MIN_BOND),
			DispatchError::BadOrigin
		);
	});
}

#[test]
fn active_set_is_bounded() {
	test(|| {
		for who in 1..=MAX_WORKERS as AccountId {
			register(who, MIN_BOND);
		}
		assert_eq!(active().len(), MAX_WORKERS as usize);
		let next = MAX_WORKERS as AccountId + 1;
		assert_noop!(
			Workers::register_worker(RuntimeOrigin::signed(next), key(next as u8), MIN_BOND),
			Error::<Test>::TooManyWorkers
		);
		assert_eq!(held(&next), 0);
		// A place frees up when a worker unbonds.
		assert_ok!(Workers::unbond(RuntimeOrigin::signed(3)));
		register(next, MIN_BOND);
		assert_eq!(active().last(), Some(&next));
	});
}

#[test]
fn bond_extra_adds_to_the_hold() {
	test(|| {
		register(1, MIN_BOND);
		assert_ok!(Workers::bond_extra(RuntimeOrigin::signed(1), 50));
		assert_eq!(info(1).bond, MIN_BOND + 50);
		assert_eq!(held(&1), MIN_BOND + 50);
		System::assert_last_event(
			Event::BondIncreased {
				who: 1,
				amount: 50,
				bond: MIN_BOND + 50,
			}
			.into(),
		);
		assert_noop!(
			Workers::bond_extra(RuntimeOrigin::signed(1), 0),
			Error::<Test>::ZeroAmount
		);
		assert_noop!(
			Workers::bond_extra(RuntimeOrigin::signed(1), ENDOWMENT),
			Error::<Test>::InsufficientFunds
		);
		assert_noop!(
			Workers::bond_extra(RuntimeOrigin::signed(2), 50),
			Error::<Test>::NotRegistered
		);
		assert_noop!(
			Workers::bond_extra(RuntimeOrigin::none(), 50),
			DispatchError::BadOrigin
		);
	});
}

#[test]
fn rotate_key_moves_the_key_mapping() {
	test(|| {
		register(1, MIN_BOND);
		register(2, MIN_BOND);
		assert_ok!(Workers::rotate_key(RuntimeOrigin::signed(1), key(77)));
		assert_eq!(info(1).key, key(77));
		assert_eq!(KeyOwner::<Test>::get(key(77)), Some(1));
		assert_eq!(KeyOwner::<Test>::get(key(1)), None);
		System::assert_last_event(
			Event::KeyRotated {
				who: 1,
				old: key(1),
				new: key(77),
			}
			.into(),
		);
		// The freed key can be taken by someone else; used keys cannot.
		assert_noop!(
			Workers::rotate_key(RuntimeOrigin::signed(1), key(2)),
			Error::<Test>::KeyInUse
		);
		assert_noop!(
			Workers::rotate_key(RuntimeOrigin::signed(1), key(77)),
			Error::<Test>::KeyInUse
		);
		register(3, MIN_BOND);
		assert_ok!(Workers::rotate_key(RuntimeOrigin::signed(3), key(1)));
		assert_noop!(
			Workers::rotate_key(RuntimeOrigin::signed(4), key(40)),
			Error::<Test>::NotRegistered
		);
		assert_noop!(
			Workers::rotate_key(RuntimeOrigin::none(), key(41)),
			DispatchError::BadOrigin
		);
	});
}

#[test]
fn unbond_leaves_the_set_but_keeps_the_bond_slashable() {
	test(|| {
		register(1, MIN_BOND);
		register(2, MIN_BOND);
		register(3, MIN_BOND);
		assert_ok!(Workers::unbond(RuntimeOrigin::signed(2)));
		let until = 1 + UNBONDING_DELAY;
		assert_eq!(active(), vec![1, 3]);
		assert_eq!(info(2).status, WorkerStatus::Unbonding { until });
		assert_eq!(held(&2), MIN_BOND);
		System::assert_last_event(Event::Unbonding { who: 2, until }.into());
		assert_noop!(
			Workers::unbond(RuntimeOrigin::signed(2)),
			Error::<Test>::AlreadyUnbonding
		);
		assert_noop!(
			Workers::unbond(RuntimeOrigin::signed(4)),
			Error::<Test>::NotRegistered
		);
		assert_noop!(
			Workers::unbond(RuntimeOrigin::none()),
			DispatchError::BadOrigin
		);
	});
}

#[test]
fn withdraw_after_the_delay_releases_everything() {
	test(|| {
		register(1, MIN_BOND);
		assert_ok!(Workers::bond_extra(RuntimeOrigin::signed(1), 40));
		assert_noop!(
			Workers::withdraw_unbonded(RuntimeOrigin::signed(1)),
			Error::<Test>::NotUnbonding
		);
		assert_ok!(Workers::unbond(RuntimeOrigin::signed(1)));
		System::set_block_number(UNBONDING_DELAY);
		assert_noop!(
			Workers::withdraw_unbonded(RuntimeOrigin::signed(1)),
			Error::<Test>::UnbondingNotFinished
		);
		System::set_block_number(1 + UNBONDING_DELAY);
		assert_ok!(Workers::withdraw_unbonded(RuntimeOrigin::signed(1)));
		System::assert_last_event(
			Event::Withdrawn {
				who: 1,
				amount: MIN_BOND + 40,
			}
			.into(),
		);
		assert_eq!(held(&1), 0);
		assert_eq!(Balances::free_balance(1), ENDOWMENT);
		assert!(crate::Workers::<Test>::get(1).is_none());
		assert_eq!(KeyOwner::<Test>::get(key(1)), None);
		assert_noop!(
			Workers::withdraw_unbonded(RuntimeOrigin::signed(1)),
			Error::<Test>::NotRegistered
		);
		assert_noop!(
			Workers::withdraw_unbonded(RuntimeOrigin::none()),
			DispatchError::BadOrigin
		);
		// The account and the key are free to register again.
		register(1, MIN_BOND);
		assert_eq!(active(), vec![1]);
	});
}

#[test]
fn rejoin_cancels_unbonding() {
	test(|| {
		register(1, MIN_BOND);
		register(2, MIN_BOND);
		assert_noop!(
			Workers::rejoin(RuntimeOrigin::signed(1)),
			Error::<Test>::AlreadyActive
		);
		assert_ok!(Workers::unbond(RuntimeOrigin::signed(1)));
		assert_ok!(Workers::rejoin(RuntimeOrigin::signed(1)));
		assert_eq!(info(1).status, WorkerStatus::Active);
		// Rejoining appends: the order is that of (re)joining.
		assert_eq!(active(), vec![2, 1]);
		System::assert_last_event(Event::Rejoined { who: 1 }.into());
		assert_noop!(
			Workers::rejoin(RuntimeOrigin::signed(3)),
			Error::<Test>::NotRegistered
		);
		assert_noop!(
			Workers::rejoin(RuntimeOrigin::none()),
			DispatchError::BadOrigin
		);
	});
}

#[test]
fn rejoin_needs_room_in_the_set() {
	test(|| {
		for who in 1..=MAX_WORKERS as AccountId {
			register(who, MIN_BOND);
		}
		assert_ok!(Workers::unbond(RuntimeOrigin::signed(1)));
		let next = MAX_WORKERS as AccountId + 1;
		register(next, MIN_BOND);
		assert_noop!(
			Workers::rejoin(RuntimeOrigin::signed(1)),
			Error::<Test>::TooManyWorkers
		);
		assert!(matches!(info(1).status, WorkerStatus::Unbonding { .. }));
	});
}

#[test]
fn calls_refund_weight_for_smaller_sets() {
	use crate::WeightInfo;
	use frame_support::dispatch::GetDispatchInfo;
	test(|| {
		let call = crate::Call::<Test>::register_worker {
			key: key(1),
			bond: MIN_BOND,
		};
		let info = call.get_dispatch_info();
		assert_eq!(
			info.call_weight,
			<() as WeightInfo>::register_worker(MAX_WORKERS)
		);
		let post = Workers::register_worker(RuntimeOrigin::signed(1), key(1), MIN_BOND).unwrap();
		assert_eq!(
			post.actual_weight,
			Some(<() as WeightInfo>::register_worker(0))
		);
		let post = Workers::unbond(RuntimeOrigin::signed(1)).unwrap();
		assert_eq!(post.actual_weight, Some(<() as WeightInfo>::unbond(1)));
		let post = Workers::rejoin(RuntimeOrigin::signed(1)).unwrap();
		assert_eq!(post.actual_weight, Some(<() as WeightInfo>::rejoin(0)));
	});
}

#[test]
fn view_functions_read_the_registry() {
	test(|| {
		register(1, MIN_BOND);
		register(2, MIN_BOND);
		assert_eq!(Workers::worker(1), Some(info(1)));
		assert_eq!(Workers::worker(3), None);
		assert_eq!(Workers::active_workers(), vec![1, 2]);
		assert_eq!(Workers::worker_of_key(key(2)), Some(2));
		assert_eq!(Workers::worker_of_key(key(3)), None);
	});
}
