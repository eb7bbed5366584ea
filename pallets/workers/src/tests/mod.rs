//! Tests on the mock runtime, by concern: the workers' own calls, the `WorkerRegistry` seam
//! (assignment, slashing, counters), and genesis.

mod dispatchables;
mod genesis;
mod registry;

use frame_support::{assert_ok, traits::fungible::InspectHold};

use crate::{mock::*, HoldReason};

/// What `who` has on hold as a worker bond.
pub fn held(who: &AccountId) -> Balance {
	Balances::balance_on_hold(&RuntimeHoldReason::Workers(HoldReason::WorkerBond), who)
}

/// Runs `f` in `ext` and checks that it neither minted nor burned anything.
pub fn run(mut ext: sp_io::TestExternalities, f: impl FnOnce()) {
	ext.execute_with(|| {
		let issuance = Balances::total_issuance();
		f();
		assert_eq!(
			Balances::total_issuance(),
			issuance,
			"total issuance changed"
		);
	});
}

/// Runs `f` on a fresh chain (see [`run`]).
pub fn test(f: impl FnOnce()) {
	run(new_test_ext(), f)
}

/// Registers account `who` with key `key(who)` and `bond`.
pub fn register(who: AccountId, bond: Balance) {
	assert_ok!(Workers::register_worker(
		RuntimeOrigin::signed(who),
		key(who as u8),
		bond
	));
}

/// The active set.
pub fn active() -> alloc::vec::Vec<AccountId> {
	crate::ActiveWorkers::<Test>::get().into_inner()
}

/// Worker `who`'s record.
pub fn info(who: AccountId) -> crate::WorkerInfoOf<Test> {
	crate::Workers::<Test>::get(who).expect("a worker")
}

/// The release profile keeps overflow checks for this crate (`Cargo.toml`): an unchecked
/// overflow fails a test instead of wrapping.
#[test]
#[should_panic(expected = "overflow")]
fn overflow_checks_are_on() {
	let _ = std::hint::black_box(u128::MAX) + 1;
}
