//! Weights for `pallet_workers`.
//!
//! HAND-WRITTEN PLACEHOLDERS in the shape `scripts/weight-template.hbs` generates: the
//! functions, components and storage accesses are those of the benchmarks in
//! `benchmarking.rs`, the times and proof sizes are estimates. Regenerate with
//! `scripts/benchmark-pallets.sh` before relying on them.
//!
//! Component: `w` = size of the active set. `select` is measured drawing `MAX_REPLICAS` workers
//! with `MAX_REPLICAS` exclusions; `slash` (also the weight of `penalise_missed`) suspends the
//! worker, removing it from the active set.

#![cfg_attr(rustfmt, rustfmt_skip)]
#![allow(unused_parens)]
#![allow(unused_imports)]
#![allow(missing_docs)]

use frame_support::{traits::Get, weights::{Weight, constants::ParityDbWeight}};
use core::marker::PhantomData;

/// The weight of each call and hook of `pallet_workers`.
pub trait WeightInfo {
	fn register_worker(w: u32, ) -> Weight;
	fn bond_extra() -> Weight;
	fn rotate_key() -> Weight;
	fn unbond(w: u32, ) -> Weight;
	fn withdraw_unbonded() -> Weight;
	fn rejoin(w: u32, ) -> Weight;
	fn select(w: u32, ) -> Weight;
	fn slash(w: u32, ) -> Weight;
	fn note_served() -> Weight;
}

/// Weights measured on the reference machine, with the runtime's database weights.
pub struct SubstrateWeight<T>(PhantomData<T>);
impl<T: frame_system::Config> WeightInfo for SubstrateWeight<T> {
	/// Storage: `Workers::Workers` (r:1 w:1)
	/// Proof: `Workers::Workers` (`max_size`: Some(114), mode: `MaxEncodedLen`)
	/// Storage: `Workers::KeyOwner` (r:1 w:1)
	/// Proof: `Workers::KeyOwner` (`max_size`: Some(80), mode: `MaxEncodedLen`)
	/// Storage: `Workers::ActiveWorkers` (r:1 w:1)
	/// Proof: `Workers::ActiveWorkers` (`max_size`: Some(4 + 32 × MaxWorkers), mode: `MaxEncodedLen`)
	/// Storage: `Balances::Holds` (r:1 w:1)
	/// Proof: `Balances::Holds` (`max_size`: Some(1249), mode: `MaxEncodedLen`)
	/// Storage: `System::Account` (r:1 w:1)
	/// Proof: `System::Account` (`max_size`: Some(128), mode: `MaxEncodedLen`)
	/// Component `w` ranges over `[0, MaxWorkers - 1]`.
	fn register_worker(w: u32, ) -> Weight {
		Weight::from_parts(48_000_000, 3724)
			.saturating_add(Weight::from_parts(60_000, 0).saturating_mul(w.into()))
			.saturating_add(Weight::from_parts(0, 32).saturating_mul(w.into()))
			.saturating_add(T::DbWeight::get().reads(5_u64))
			.saturating_add(T::DbWeight::get().writes(5_u64))
	}
	/// Storage: `Workers::Workers` (r:1 w:1)
	/// Proof: `Workers::Workers` (`max_size`: Some(114), mode: `MaxEncodedLen`)
	/// Storage: `Balances::Holds` (r:1 w:1)
	/// Proof: `Balances::Holds` (`max_size`: Some(1249), mode: `MaxEncodedLen`)
	/// Storage: `System::Account` (r:1 w:1)
	/// Proof: `System::Account` (`max_size`: Some(128), mode: `MaxEncodedLen`)
	fn bond_extra() -> Weight {
		Weight::from_parts(40_000_000, 3724)
			.saturating_add(T::DbWeight::get().reads(3_u64))
			.saturating_add(T::DbWeight::get().writes(3_u64))
	}
	/// Storage: `Workers::KeyOwner` (r:1 w:2)
	/// Proof: `Workers::KeyOwner` (`max_size`: Some(80), mode: `MaxEncodedLen`)
	/// Storage: `Workers::Workers` (r:1 w:1)
	/// Proof: `Workers::Workers` (`max_size`: Some(114), mode: `MaxEncodedLen`)
	fn rotate_key() -> Weight {
		Weight::from_parts(22_000_000, 3579)
			.saturating_add(T::DbWeight::get().reads(2_u64))
			.saturating_add(T::DbWeight::get().writes(3_u64))
	}
	/// Storage: `Workers::Workers` (r:1 w:1)
	/// Proof: `Workers::Workers` (`max_size`: Some(114), mode: `MaxEncodedLen`)
	/// Storage: `Workers::ActiveWorkers` (r:1 w:1)
	/// Proof: `Workers::ActiveWorkers` (`max_size`: Some(4 + 32 × MaxWorkers), mode: `MaxEncodedLen`)
	/// Component `w` ranges over `[1, MaxWorkers]`.
	fn unbond(w: u32, ) -> Weight {
		Weight::from_parts(20_000_000, 3579)
			.saturating_add(Weight::from_parts(45_000, 0).saturating_mul(w.into()))
			.saturating_add(Weight::from_parts(0, 32).saturating_mul(w.into()))
			.saturating_add(T::DbWeight::get().reads(2_u64))
			.saturating_add(T::DbWeight::get().writes(2_u64))
	}
	/// Storage: `Workers::Workers` (r:1 w:1)
	/// Proof: `Workers::Workers` (`max_size`: Some(114), mode: `MaxEncodedLen`)
	/// Storage: `Balances::Holds` (r:1 w:1)
	/// Proof: `Balances::Holds` (`max_size`: Some(1249), mode: `MaxEncodedLen`)
	/// Storage: `System::Account` (r:1 w:1)
	/// Proof: `System::Account` (`max_size`: Some(128), mode: `MaxEncodedLen`)
	/// Storage: `Workers::KeyOwner` (r:0 w:1)
	fn withdraw_unbonded() -> Weight {
		Weight::from_parts(45_000_000, 3724)
			.saturating_add(T::DbWeight::get().reads(3_u64))
			.saturating_add(T::DbWeight::get().writes(4_u64))
	}
	/// Storage: `Workers::Workers` (r:1 w:1)
	/// Proof: `Workers::Workers` (`max_size`: Some(114), mode: `MaxEncodedLen`)
	/// Storage: `Workers::ActiveWorkers` (r:1 w:1)
	/// Proof: `Workers::ActiveWorkers` (`max_size`: Some(4 + 32 × MaxWorkers), mode: `MaxEncodedLen`)
	/// Component `w` ranges over `[0, MaxWorkers - 1]`.
	fn rejoin(w: u32, ) -> Weight {
		Weight::from_parts(18_000_000, 3579)
			.saturating_add(Weight::from_parts(50_000, 0).saturating_mul(w.into()))
			.saturating_add(Weight::from_parts(0, 32).saturating_mul(w.into()))
			.saturating_add(T::DbWeight::get().reads(2_u64))
			.saturating_add(T::DbWeight::get().writes(2_u64))
	}
	/// Storage: `Workers::ActiveWorkers` (r:1 w:0)
	/// Proof: `Workers::ActiveWorkers` (`max_size`: Some(4 + 32 × MaxWorkers), mode: `MaxEncodedLen`)
	/// Component `w` ranges over `[1, MaxWorkers]`.
	fn select(w: u32, ) -> Weight {
		Weight::from_parts(6_000_000, 1489)
			.saturating_add(Weight::from_parts(120_000, 0).saturating_mul(w.into()))
			.saturating_add(Weight::from_parts(0, 32).saturating_mul(w.into()))
			.saturating_add(T::DbWeight::get().reads(1_u64))
	}
	/// Storage: `Workers::Workers` (r:1 w:1)
	/// Proof: `Workers::Workers` (`max_size`: Some(114), mode: `MaxEncodedLen`)
	/// Storage: `Balances::Holds` (r:1 w:1)
	/// Proof: `Balances::Holds` (`max_size`: Some(1249), mode: `MaxEncodedLen`)
	/// Storage: `System::Account` (r:2 w:2)
	/// Proof: `System::Account` (`max_size`: Some(128), mode: `MaxEncodedLen`)
	/// Storage: `Workers::ActiveWorkers` (r:1 w:1)
	/// Proof: `Workers::ActiveWorkers` (`max_size`: Some(4 + 32 × MaxWorkers), mode: `MaxEncodedLen`)
	/// Component `w` ranges over `[1, MaxWorkers]`.
	fn slash(w: u32, ) -> Weight {
		Weight::from_parts(62_000_000, 6196)
			.saturating_add(Weight::from_parts(45_000, 0).saturating_mul(w.into()))
			.saturating_add(Weight::from_parts(0, 32).saturating_mul(w.into()))
			.saturating_add(T::DbWeight::get().reads(5_u64))
			.saturating_add(T::DbWeight::get().writes(5_u64))
	}
	/// Storage: `Workers::Workers` (r:1 w:1)
	/// Proof: `Workers::Workers` (`max_size`: Some(114), mode: `MaxEncodedLen`)
	fn note_served() -> Weight {
		Weight::from_parts(10_000_000, 3579)
			.saturating_add(T::DbWeight::get().reads(1_u64))
			.saturating_add(T::DbWeight::get().writes(1_u64))
	}
}

/// The same weights with ParityDb's database weights, for tests and mocks.
impl WeightInfo for () {
	fn register_worker(w: u32, ) -> Weight {
		Weight::from_parts(48_000_000, 3724)
			.saturating_add(Weight::from_parts(60_000, 0).saturating_mul(w.into()))
			.saturating_add(Weight::from_parts(0, 32).saturating_mul(w.into()))
			.saturating_add(ParityDbWeight::get().reads(5_u64))
			.saturating_add(ParityDbWeight::get().writes(5_u64))
	}
	fn bond_extra() -> Weight {
		Weight::from_parts(40_000_000, 3724)
			.saturating_add(ParityDbWeight::get().reads(3_u64))
			.saturating_add(ParityDbWeight::get().writes(3_u64))
	}
	fn rotate_key() -> Weight {
		Weight::from_parts(22_000_000, 3579)
			.saturating_add(ParityDbWeight::get().reads(2_u64))
			.saturating_add(ParityDbWeight::get().writes(3_u64))
	}
	fn unbond(w: u32, ) -> Weight {
		Weight::from_parts(20_000_000, 3579)
			.saturating_add(Weight::from_parts(45_000, 0).saturating_mul(w.into()))
			.saturating_add(Weight::from_parts(0, 32).saturating_mul(w.into()))
			.saturating_add(ParityDbWeight::get().reads(2_u64))
			.saturating_add(ParityDbWeight::get().writes(2_u64))
	}
	fn withdraw_unbonded() -> Weight {
		Weight::from_parts(45_000_000, 3724)
			.saturating_add(ParityDbWeight::get().reads(3_u64))
			.saturating_add(ParityDbWeight::get().writes(4_u64))
	}
	fn rejoin(w: u32, ) -> Weight {
		Weight::from_parts(18_000_000, 3579)
			.saturating_add(Weight::from_parts(50_000, 0).saturating_mul(w.into()))
			.saturating_add(Weight::from_parts(0, 32).saturating_mul(w.into()))
			.saturating_add(ParityDbWeight::get().reads(2_u64))
			.saturating_add(ParityDbWeight::get().writes(2_u64))
	}
	fn select(w: u32, ) -> Weight {
		Weight::from_parts(6_000_000, 1489)
			.saturating_add(Weight::from_parts(120_000, 0).saturating_mul(w.into()))
			.saturating_add(Weight::from_parts(0, 32).saturating_mul(w.into()))
			.saturating_add(ParityDbWeight::get().reads(1_u64))
	}
	fn slash(w: u32, ) -> Weight {
		Weight::from_parts(62_000_000, 6196)
			.saturating_add(Weight::from_parts(45_000, 0).saturating_mul(w.into()))
			.saturating_add(Weight::from_parts(0, 32).saturating_mul(w.into()))
			.saturating_add(ParityDbWeight::get().reads(5_u64))
			.saturating_add(ParityDbWeight::get().writes(5_u64))
	}
	fn note_served() -> Weight {
		Weight::from_parts(10_000_000, 3579)
			.saturating_add(ParityDbWeight::get().reads(1_u64))
			.saturating_add(ParityDbWeight::get().writes(1_u64))
	}
}
