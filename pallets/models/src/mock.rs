//! The smallest runtime that exercises the pallet: system, balances (holds) and models.

use frame_support::{derive_impl, parameter_types, traits::ConstU32};
use sp_runtime::BuildStorage;

use crate as pallet_models;

type Block = frame_system::mocking::MockBlock<Test>;

/// Account ids in tests.
pub type AccountId = u64;
/// Balances in tests.
pub type Balance = u64;

frame_support::construct_runtime!(
	pub enum Test {
		System: frame_system,
		Balances: pallet_balances,
		Models: pallet_models,
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
}

/// Deposit base in tests.
pub const DEPOSIT_BASE: Balance = 100;
/// Deposit per byte in tests.
pub const DEPOSIT_PER_BYTE: Balance = 1;
/// Largest on-chain model in tests.
pub const MAX_MODEL_BYTES: u32 = 4096;
/// Most nodes in tests.
pub const MAX_NODES: u32 = 16;
/// Largest node footprint in tests.
pub const MAX_NODE_FOOTPRINT: u64 = 1024;
/// Largest node cost in tests: above the test program's nodes (at most 480) and small enough
/// that a node within the footprint bound can exceed it (a `[4, 8] × [8, 8]` MatMul: 512 bytes,
/// cost 5376 at `COST_PER_BYTE` = 10).
pub const MAX_NODE_COST: u64 = 1024;

parameter_types! {
	pub const ModelDepositBase: Balance = DEPOSIT_BASE;
	pub const ModelDepositPerByte: Balance = DEPOSIT_PER_BYTE;
	pub const MaxNodeFootprint: u64 = MAX_NODE_FOOTPRINT;
	pub const MaxNodeCost: u64 = MAX_NODE_COST;
	pub const ClaimReportReward: sp_runtime::Perbill = sp_runtime::Perbill::from_percent(50);
}

impl pallet_models::Config for Test {
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type ModelDepositBase = ModelDepositBase;
	type ModelDepositPerByte = ModelDepositPerByte;
	type MaxModelBytes = ConstU32<MAX_MODEL_BYTES>;
	type MaxNodes = ConstU32<MAX_NODES>;
	type MaxNodeFootprint = MaxNodeFootprint;
	type MaxNodeCost = MaxNodeCost;
	type ClaimReportReward = ClaimReportReward;
	type WeightInfo = ();
}

/// Alice: owns models in most tests.
pub const ALICE: AccountId = 1;
/// Bob: a second owner.
pub const BOB: AccountId = 2;
/// Charlie: never endowed.
pub const CHARLIE: AccountId = 3;
/// What Alice and Bob start with.
pub const ENDOWMENT: Balance = 1_000_000;

/// Test externalities with Alice and Bob endowed and the models of `models` registered at
/// genesis.
pub fn new_test_ext_with(
	models: alloc::vec::Vec<(AccountId, crate::ModelRegistrationOf<Test>)>,
) -> sp_io::TestExternalities {
	let mut storage = frame_system::GenesisConfig::<Test>::default()
		.build_storage()
		.unwrap();
	pallet_balances::GenesisConfig::<Test> {
		balances: alloc::vec![(ALICE, ENDOWMENT), (BOB, ENDOWMENT)],
		..Default::default()
	}
	.assimilate_storage(&mut storage)
	.unwrap();
	pallet_models::GenesisConfig::<Test> { models }
		.assimilate_storage(&mut storage)
		.unwrap();
	let mut ext = sp_io::TestExternalities::new(storage);
	ext.execute_with(|| System::set_block_number(1));
	ext
}

/// Test externalities with Alice and Bob endowed and no model.
pub fn new_test_ext() -> sp_io::TestExternalities {
	new_test_ext_with(alloc::vec::Vec::new())
}
