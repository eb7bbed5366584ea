//! The smallest runtime that exercises the pallet: system, balances (holds) and workers.

use frame_support::{derive_impl, parameter_types, traits::ConstU32};
use sp_runtime::BuildStorage;

use crate::{self as pallet_workers, WorkerPublic};

type Block = frame_system::mocking::MockBlock<Test>;

/// Account ids in tests.
pub type AccountId = u64;
/// Balances in tests.
pub type Balance = u64;

frame_support::construct_runtime!(
	pub enum Test {
		System: frame_system,
		Balances: pallet_balances,
		Workers: pallet_workers,
	}
);

#[derive_impl(frame_system::config_preludes::TestDefaultConfig)]
impl frame_system::Config for Test {
	type Block = Block;
	type AccountData = pallet_balances::AccountData<Balance>;
}

#[derive_impl(pallet_balances::config_preludes::TestDefaultConfig)]
impl pallet_balances::Config for Test {
	type AccountStore = System;
	type Balance = Balance;
	type RuntimeHoldReason = RuntimeHoldReason;
	type ExistentialDeposit = ExistentialDeposit;
}

/// Existential deposit in tests.
pub const ED: Balance = 5;
/// Least bond in tests.
pub const MIN_BOND: Balance = 100;
/// Largest active set in tests (`MAX_REPLICAS`).
pub const MAX_WORKERS: u32 = 8;
/// Unbonding delay in tests.
pub const UNBONDING_DELAY: u64 = 10;

parameter_types! {
	pub const ExistentialDeposit: Balance = ED;
	pub const MinWorkerBond: Balance = MIN_BOND;
	pub const UnbondingDelay: u64 = UNBONDING_DELAY;
}

impl pallet_workers::Config for Test {
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type MinWorkerBond = MinWorkerBond;
	type MaxWorkers = ConstU32<MAX_WORKERS>;
	type UnbondingDelay = UnbondingDelay;
	type WeightInfo = ();
}

/// What accounts `1..=ENDOWED` start with.
pub const ENDOWMENT: Balance = 10_000;
/// Accounts `1..=ENDOWED` are endowed.
pub const ENDOWED: AccountId = 12;
/// Never endowed.
pub const POOR: AccountId = 99;

/// A worker key derived from `n` (any 32 bytes are a valid public key for the registry).
pub fn key(n: u8) -> WorkerPublic {
	WorkerPublic::from(sp_core::sr25519::Public::from_raw([n; 32]))
}

/// Test externalities with accounts `1..=ENDOWED` endowed and `workers` registered at genesis.
pub fn new_test_ext_with(
	workers: alloc::vec::Vec<(AccountId, WorkerPublic, Balance)>,
) -> sp_io::TestExternalities {
	let mut storage = frame_system::GenesisConfig::<Test>::default()
		.build_storage()
		.unwrap();
	pallet_balances::GenesisConfig::<Test> {
		balances: (1..=ENDOWED).map(|a| (a, ENDOWMENT)).collect(),
		..Default::default()
	}
	.assimilate_storage(&mut storage)
	.unwrap();
	pallet_workers::GenesisConfig::<Test> { workers }
		.assimilate_storage(&mut storage)
		.unwrap();
	let mut ext = sp_io::TestExternalities::new(storage);
	ext.execute_with(|| System::set_block_number(1));
	ext
}

/// Test externalities with no worker.
pub fn new_test_ext() -> sp_io::TestExternalities {
	new_test_ext_with(alloc::vec::Vec::new())
}
