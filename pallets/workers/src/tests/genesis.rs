//! Workers registered at genesis, the genesis config's JSON form, and the integrity test.

use super::*;
use crate::{GenesisConfig, KeyOwner, WorkerStatus};
use frame_support::traits::Hooks;

#[test]
fn genesis_registers_workers_and_holds_bonds() {
	let workers = vec![
		(1, key(1), MIN_BOND),
		(2, key(2), 500),
		(3, key(3), MIN_BOND),
	];
	run(new_test_ext_with(workers), || {
		assert_eq!(active(), vec![1, 2, 3]);
		assert_eq!(held(&2), 500);
		assert_eq!(info(2).bond, 500);
		assert_eq!(info(2).status, WorkerStatus::Active);
		assert_eq!(info(2).registered_at, 0);
		assert_eq!(KeyOwner::<Test>::get(key(3)), Some(3));
		assert_eq!(Balances::free_balance(2), ENDOWMENT - 500);
	});
}

#[test]
#[should_panic(expected = "pallet-workers genesis: worker 1 is invalid")]
fn genesis_refuses_a_reused_key() {
	new_test_ext_with(vec![(1, key(1), MIN_BOND), (2, key(1), MIN_BOND)]);
}

#[test]
#[should_panic(expected = "pallet-workers genesis: worker 0 is invalid")]
fn genesis_worker_must_afford_the_bond() {
	new_test_ext_with(vec![(POOR, key(1), MIN_BOND)]);
}

#[test]
fn genesis_config_round_trips_through_json() {
	let config = GenesisConfig::<Test> {
		workers: vec![(1, key(1), MIN_BOND)],
	};
	let json = serde_json::to_value(&config).unwrap();
	// Keys are written in SS58, like session keys in chain specs.
	assert!(json["workers"][0][1].as_str().unwrap().len() > 40);
	let back: GenesisConfig<Test> = serde_json::from_value(json).unwrap();
	assert_eq!(back.workers, config.workers);
}

#[test]
fn integrity_test_passes_for_the_mock() {
	new_test_ext().execute_with(|| <Workers as Hooks<u64>>::integrity_test());
}
