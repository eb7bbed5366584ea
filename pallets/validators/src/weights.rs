//! Weights for `pallet_validators`.
//!
//! Provisional: estimated from the storage each call touches (two reads, two writes of values of
//! at most `MaxValidators` accounts) with the compute of the comparable `pallet_workers` calls
//! measured by `scripts/benchmark-pallets.sh`, until that script's next run replaces this file.

#![cfg_attr(rustfmt, rustfmt_skip)]
#![allow(unused_parens)]
#![allow(unused_imports)]
#![allow(missing_docs)]

use frame_support::{traits::Get, weights::{Weight, constants::ParityDbWeight}};
use core::marker::PhantomData;

/// The weight of each call of `pallet_validators`.
pub trait WeightInfo {
	fn add_validator() -> Weight;
	fn remove_validator() -> Weight;
}

/// Weights for the runtime, with its database weights.
pub struct SubstrateWeight<T>(PhantomData<T>);
impl<T: frame_system::Config> WeightInfo for SubstrateWeight<T> {
	/// Storage: `Session::NextKeys` (r:1 w:0)
	/// Storage: `Validators::Validators` (r:1 w:1)
	/// Storage: `Validators::SetChanged` (r:0 w:1)
	fn add_validator() -> Weight {
		Weight::from_parts(40_000_000, 4_000)
			.saturating_add(T::DbWeight::get().reads(2))
			.saturating_add(T::DbWeight::get().writes(2))
	}
	/// Storage: `Validators::Validators` (r:1 w:1)
	/// Storage: `Validators::SetChanged` (r:0 w:1)
	fn remove_validator() -> Weight {
		Weight::from_parts(40_000_000, 2_000)
			.saturating_add(T::DbWeight::get().reads(1))
			.saturating_add(T::DbWeight::get().writes(2))
	}
}

/// For tests: the same weights with ParityDb's database weights.
impl WeightInfo for () {
	fn add_validator() -> Weight {
		Weight::from_parts(40_000_000, 4_000)
			.saturating_add(ParityDbWeight::get().reads(2))
			.saturating_add(ParityDbWeight::get().writes(2))
	}
	fn remove_validator() -> Weight {
		Weight::from_parts(40_000_000, 2_000)
			.saturating_add(ParityDbWeight::get().reads(1))
			.saturating_add(ParityDbWeight::get().writes(2))
	}
}
