//! Weights for `pallet_models`.
//!
//! HAND-WRITTEN PLACEHOLDERS in the shape `scripts/weight-template.hbs` generates: the
//! functions, components and storage accesses are those of the benchmarks in
//! `benchmarking.rs`, the times and proof sizes are estimates. Regenerate with
//! `scripts/benchmark-pallets.sh` before relying on them.
//!
//! Components: `b` = on-chain ONNX bytes, `h` = encoded program header plus output nodes.

#![cfg_attr(rustfmt, rustfmt_skip)]
#![allow(unused_parens)]
#![allow(unused_imports)]
#![allow(missing_docs)]

use frame_support::{traits::Get, weights::{Weight, constants::ParityDbWeight}};
use core::marker::PhantomData;

/// The weight of each call and hook of `pallet_models`.
pub trait WeightInfo {
	fn register_model(b: u32, h: u32, ) -> Weight;
	fn set_price() -> Weight;
	fn set_modes() -> Weight;
	fn deprecate() -> Weight;
	fn remove_model() -> Weight;
	fn request_opened() -> Weight;
	fn request_closed() -> Weight;
}

/// Weights measured on the reference machine, with the runtime's database weights.
pub struct SubstrateWeight<T>(PhantomData<T>);
impl<T: frame_system::Config> WeightInfo for SubstrateWeight<T> {
	/// Storage: `Models::NextModelId` (r:1 w:1)
	/// Proof: `Models::NextModelId` (`max_size`: Some(4), mode: `MaxEncodedLen`)
	/// Storage: `Balances::Holds` (r:1 w:1)
	/// Proof: `Balances::Holds` (`max_size`: Some(1249), mode: `MaxEncodedLen`)
	/// Storage: `System::Account` (r:1 w:1)
	/// Proof: `System::Account` (`max_size`: Some(128), mode: `MaxEncodedLen`)
	/// Storage: `Models::ModelBytes` (r:0 w:1)
	/// Storage: `Models::Models` (r:0 w:1)
	/// Component `b` ranges over `[1, MaxModelBytes]`.
	/// Component `h` ranges over `[2048, 65536]`.
	fn register_model(b: u32, h: u32, ) -> Weight {
		Weight::from_parts(45_000_000, 3724)
			.saturating_add(Weight::from_parts(2_600, 0).saturating_mul(b.into()))
			.saturating_add(Weight::from_parts(3_100, 0).saturating_mul(h.into()))
			.saturating_add(T::DbWeight::get().reads(3_u64))
			.saturating_add(T::DbWeight::get().writes(5_u64))
	}
	/// Storage: `Models::Models` (r:1 w:1)
	/// Proof: `Models::Models` (`max_size`: Some(MaxEncodedLen of ModelInfo), mode: `MaxEncodedLen`)
	fn set_price() -> Weight {
		Weight::from_parts(16_000_000, 3600)
			.saturating_add(T::DbWeight::get().reads(1_u64))
			.saturating_add(T::DbWeight::get().writes(1_u64))
	}
	/// Storage: `Models::Models` (r:1 w:1)
	/// Proof: `Models::Models` (`max_size`: Some(MaxEncodedLen of ModelInfo), mode: `MaxEncodedLen`)
	fn set_modes() -> Weight {
		Weight::from_parts(16_000_000, 3600)
			.saturating_add(T::DbWeight::get().reads(1_u64))
			.saturating_add(T::DbWeight::get().writes(1_u64))
	}
	/// Storage: `Models::Models` (r:1 w:1)
	/// Proof: `Models::Models` (`max_size`: Some(MaxEncodedLen of ModelInfo), mode: `MaxEncodedLen`)
	fn deprecate() -> Weight {
		Weight::from_parts(16_000_000, 3600)
			.saturating_add(T::DbWeight::get().reads(1_u64))
			.saturating_add(T::DbWeight::get().writes(1_u64))
	}
	/// Storage: `Models::Models` (r:1 w:1)
	/// Proof: `Models::Models` (`max_size`: Some(MaxEncodedLen of ModelInfo), mode: `MaxEncodedLen`)
	/// Storage: `Balances::Holds` (r:1 w:1)
	/// Proof: `Balances::Holds` (`max_size`: Some(1249), mode: `MaxEncodedLen`)
	/// Storage: `System::Account` (r:1 w:1)
	/// Proof: `System::Account` (`max_size`: Some(128), mode: `MaxEncodedLen`)
	/// Storage: `Models::ModelBytes` (r:0 w:1)
	fn remove_model() -> Weight {
		Weight::from_parts(52_000_000, 3724)
			.saturating_add(T::DbWeight::get().reads(3_u64))
			.saturating_add(T::DbWeight::get().writes(4_u64))
	}
	/// Storage: `Models::Models` (r:1 w:1)
	/// Proof: `Models::Models` (`max_size`: Some(MaxEncodedLen of ModelInfo), mode: `MaxEncodedLen`)
	fn request_opened() -> Weight {
		Weight::from_parts(12_000_000, 3600)
			.saturating_add(T::DbWeight::get().reads(1_u64))
			.saturating_add(T::DbWeight::get().writes(1_u64))
	}
	/// Storage: `Models::Models` (r:1 w:1)
	/// Proof: `Models::Models` (`max_size`: Some(MaxEncodedLen of ModelInfo), mode: `MaxEncodedLen`)
	fn request_closed() -> Weight {
		Weight::from_parts(12_000_000, 3600)
			.saturating_add(T::DbWeight::get().reads(1_u64))
			.saturating_add(T::DbWeight::get().writes(1_u64))
	}
}

/// The same weights with ParityDb's database weights, for tests and mocks.
impl WeightInfo for () {
	fn register_model(b: u32, h: u32, ) -> Weight {
		Weight::from_parts(45_000_000, 3724)
			.saturating_add(Weight::from_parts(2_600, 0).saturating_mul(b.into()))
			.saturating_add(Weight::from_parts(3_100, 0).saturating_mul(h.into()))
			.saturating_add(ParityDbWeight::get().reads(3_u64))
			.saturating_add(ParityDbWeight::get().writes(5_u64))
	}
	fn set_price() -> Weight {
		Weight::from_parts(16_000_000, 3600)
			.saturating_add(ParityDbWeight::get().reads(1_u64))
			.saturating_add(ParityDbWeight::get().writes(1_u64))
	}
	fn set_modes() -> Weight {
		Weight::from_parts(16_000_000, 3600)
			.saturating_add(ParityDbWeight::get().reads(1_u64))
			.saturating_add(ParityDbWeight::get().writes(1_u64))
	}
	fn deprecate() -> Weight {
		Weight::from_parts(16_000_000, 3600)
			.saturating_add(ParityDbWeight::get().reads(1_u64))
			.saturating_add(ParityDbWeight::get().writes(1_u64))
	}
	fn remove_model() -> Weight {
		Weight::from_parts(52_000_000, 3724)
			.saturating_add(ParityDbWeight::get().reads(3_u64))
			.saturating_add(ParityDbWeight::get().writes(4_u64))
	}
	fn request_opened() -> Weight {
		Weight::from_parts(12_000_000, 3600)
			.saturating_add(ParityDbWeight::get().reads(1_u64))
			.saturating_add(ParityDbWeight::get().writes(1_u64))
	}
	fn request_closed() -> Weight {
		Weight::from_parts(12_000_000, 3600)
			.saturating_add(ParityDbWeight::get().reads(1_u64))
			.saturating_add(ParityDbWeight::get().writes(1_u64))
	}
}
