//! The smallest runtime that exercises the pallet: system and validators, with session keys
//! modelled by a set of accounts the tests fill.

use core::cell::RefCell;
use frame_support::{
	derive_impl,
	traits::{ConstU32, Contains},
};
use frame_system::EnsureRoot;
use sp_runtime::BuildStorage;

use crate as pallet_validators;

type Block = frame_system::mocking::MockBlock<Test>;

/// Account ids in tests.
pub type AccountId = u64;

frame_support::construct_runtime!(
	pub enum Test {
		System: frame_system,
		Validators: pallet_validators,
	}
);

#[derive_impl(frame_system::config_preludes::TestDefaultConfig)]
impl frame_system::Config for Test {
	type Block = Block;
}

/// Largest set in tests.
pub const MAX_VALIDATORS: u32 = 4;
/// Smallest set in tests.
pub const MIN_VALIDATORS: u32 = 1;

thread_local! {
	static WITH_KEYS: RefCell<alloc::vec::Vec<AccountId>> = const { RefCell::new(alloc::vec::Vec::new()) };
}

/// Gives `who` session keys.
pub fn set_keys(who: AccountId) {
	WITH_KEYS.with(|k| k.borrow_mut().push(who));
}

/// The accounts with session keys.
pub struct HasKeys;
impl Contains<AccountId> for HasKeys {
	fn contains(who: &AccountId) -> bool {
		WITH_KEYS.with(|k| k.borrow().contains(who))
	}
}

impl pallet_validators::Config for Test {
	type AddRemoveOrigin = EnsureRoot<AccountId>;
	type HasSessionKeys = HasKeys;
	type MaxValidators = ConstU32<MAX_VALIDATORS>;
	type MinValidators = ConstU32<MIN_VALIDATORS>;
	type WeightInfo = ();
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = MockKeys;
}

/// Gives benchmark accounts session keys.
#[cfg(feature = "runtime-benchmarks")]
pub struct MockKeys;
#[cfg(feature = "runtime-benchmarks")]
impl crate::BenchmarkHelper<AccountId> for MockKeys {
	fn set_session_keys(who: &AccountId) {
		set_keys(*who);
	}
}

/// Test externalities with `validators` at genesis (each given session keys).
pub fn new_test_ext_with(validators: alloc::vec::Vec<AccountId>) -> sp_io::TestExternalities {
	WITH_KEYS.with(|k| k.borrow_mut().clear());
	validators.iter().for_each(|v| set_keys(*v));
	let mut storage = frame_system::GenesisConfig::<Test>::default()
		.build_storage()
		.unwrap();
	pallet_validators::GenesisConfig::<Test> { validators }
		.assimilate_storage(&mut storage)
		.unwrap();
	let mut ext = sp_io::TestExternalities::new(storage);
	ext.execute_with(|| System::set_block_number(1));
	ext
}

/// Test externalities with validators 1 and 2.
pub fn new_test_ext() -> sp_io::TestExternalities {
	new_test_ext_with(alloc::vec![1, 2])
}
