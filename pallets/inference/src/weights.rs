//! Weights for `pallet_inference`.
//!
//! Hand-written in the layout `frame-benchmarking-cli` generates, with provisional numbers:
//! regenerate with
//! `verity-node benchmark pallet --pallet pallet_inference --extrinsic '*' --steps 50
//! --repeat 20 --template <frame template> --output pallets/inference/src/weights.rs`
//! on reference hardware before a release.
//!
//! Components: `i` input bytes, `r` replicas (workers), `l` trace leaves, `o` output bytes,
//! `c` cost of the challenged node in `verity_engine::node_cost` units.

#![cfg_attr(rustfmt, rustfmt_skip)]
#![allow(unused_parens)]
#![allow(unused_imports)]
#![allow(missing_docs)]

use frame_support::{traits::Get, weights::{Weight, constants::RocksDbWeight}};
use core::marker::PhantomData;

/// Weight functions needed for `pallet_inference`.
pub trait WeightInfo {
	/// Request an inference: decode and hash `i` input bytes, hold the escrow, draw `r` workers.
	fn request_inference(i: u32, r: u32, ) -> Weight;
	/// A quorum commitment (the last one opens the reveal phase).
	fn commit_result() -> Weight;
	/// Check and store a result with `l` trace leaves and `o` output bytes.
	fn submit_result(l: u32, o: u32, ) -> Weight;
	/// Settle with `r` accepted workers: payments, receipt, cleanup.
	fn settle(r: u32, ) -> Weight;
	/// Open a dispute: first diverging leaf of `r` traces of `l` leaves.
	fn dispute(l: u32, r: u32, ) -> Weight;
	/// Adjudicate a fraud proof on a node of cost `c` (MatMul `[m,64]x[64,64]`), slash one worker and reassign (optimistic).
	fn challenge(c: u32, ) -> Weight;
	/// Slash `r` quorum workers proven wrong in one dispute.
	fn slash(r: u32, ) -> Weight;
	/// Refund a request and drop the results of its `r` workers.
	fn refund(r: u32, ) -> Weight;
	/// End a phase with `r` silent workers: penalise them and draw replacements.
	fn expire_phase(r: u32, ) -> Weight;
	/// Close an attested receipt's challenge window.
	fn close_window() -> Weight;
	/// Take an empty deadline queue.
	fn on_initialize_base() -> Weight;
}

/// Weights for `pallet_inference` using the Substrate node and recommended hardware.
pub struct SubstrateWeight<T>(PhantomData<T>);
impl<T: frame_system::Config> WeightInfo for SubstrateWeight<T> {
	/// Storage: `Models::Models` (r:1 w:1)
	/// Storage: `Workers::Active` (r:1 w:0)
	/// Storage: `Balances::Holds` (r:1 w:1)
	/// Storage: `Inference::NextRequestId` (r:1 w:1)
	/// Storage: `Inference::Deadlines` (r:1 w:1)
	/// Storage: `Inference::Requests` (r:0 w:1)
	/// Storage: `Inference::RequestInputs` (r:0 w:1)
	/// The range of component `i` is `[1, 65536]`.
	/// The range of component `r` is `[1, 8]`.
	fn request_inference(i: u32, r: u32, ) -> Weight {
		// Proof Size summary in bytes:
		//  Measured:  `2100`
		//  Estimated: `4200`
		// Minimum execution time: 62_000_000 picoseconds.
		Weight::from_parts(62_000_000, 4200)
			// Standard Error: 0
			.saturating_add(Weight::from_parts(2_900, 0).saturating_mul(i.into()))
			// Standard Error: 0
			.saturating_add(Weight::from_parts(14_500_000, 0).saturating_mul(r.into()))
			.saturating_add(T::DbWeight::get().reads(5_u64))
			.saturating_add(T::DbWeight::get().writes(6_u64))
	}
	/// Storage: `Inference::Requests` (r:1 w:1)
	/// Storage: `Inference::Deadlines` (r:1 w:1)
	fn commit_result() -> Weight {
		// Proof Size summary in bytes:
		//  Measured:  `1950`
		//  Estimated: `3900`
		// Minimum execution time: 38_000_000 picoseconds.
		Weight::from_parts(38_000_000, 3900)
			.saturating_add(T::DbWeight::get().reads(2_u64))
			.saturating_add(T::DbWeight::get().writes(2_u64))
	}
	/// Storage: `Inference::Requests` (r:1 w:1)
	/// Storage: `Models::Models` (r:1 w:0)
	/// Storage: `Inference::Deadlines` (r:1 w:1)
	/// Storage: `Inference::Results` (r:0 w:1)
	/// Storage: `Inference::TraceLeaves` (r:0 w:1)
	/// The range of component `l` is `[1, 1024]`.
	/// The range of component `o` is `[1, 65536]`.
	fn submit_result(l: u32, o: u32, ) -> Weight {
		// Proof Size summary in bytes:
		//  Measured:  `2700`
		//  Estimated: `5400`
		// Minimum execution time: 55_000_000 picoseconds.
		Weight::from_parts(55_000_000, 5400)
			// Standard Error: 0
			.saturating_add(Weight::from_parts(1_450_000, 0).saturating_mul(l.into()))
			// Standard Error: 0
			.saturating_add(Weight::from_parts(3_100, 0).saturating_mul(o.into()))
			.saturating_add(T::DbWeight::get().reads(3_u64))
			.saturating_add(T::DbWeight::get().writes(4_u64))
	}
	/// Storage: `Models::Models` (r:1 w:0)
	/// Storage: `Balances::Holds` (r:1 w:1)
	/// Storage: `System::Account` (r:3 w:3)
	/// Storage: `Workers::Stats` (r:1 w:1)
	/// Storage: `Inference::Receipts` (r:0 w:1)
	/// Storage: `Inference::Requests` (r:0 w:1)
	/// Storage: `Inference::TraceLeaves` (r:0 w:1)
	/// Storage: `Inference::RequestInputs` (r:0 w:1)
	/// The range of component `r` is `[1, 8]`.
	fn settle(r: u32, ) -> Weight {
		// Proof Size summary in bytes:
		//  Measured:  `3100`
		//  Estimated: `6200`
		// Minimum execution time: 72_000_000 picoseconds.
		Weight::from_parts(72_000_000, 6200)
			// Standard Error: 0
			.saturating_add(Weight::from_parts(31_000_000, 0).saturating_mul(r.into()))
			.saturating_add(T::DbWeight::get().reads(4_u64))
			.saturating_add(T::DbWeight::get().reads((2_u64).saturating_mul(r.into())))
			.saturating_add(T::DbWeight::get().writes(6_u64))
			.saturating_add(T::DbWeight::get().writes((3_u64).saturating_mul(r.into())))
			.saturating_add(Weight::from_parts(0, 2600).saturating_mul(r.into()))
	}
	/// Storage: `Inference::Results` (r:1 w:0)
	/// Storage: `Inference::TraceLeaves` (r:1 w:0)
	/// Storage: `Inference::Deadlines` (r:1 w:1)
	/// Storage: `Inference::Requests` (r:0 w:1)
	/// The range of component `l` is `[1, 1024]`.
	/// The range of component `r` is `[1, 8]`.
	fn dispute(l: u32, r: u32, ) -> Weight {
		// Proof Size summary in bytes:
		//  Measured:  `2050`
		//  Estimated: `4100`
		// Minimum execution time: 24_000_000 picoseconds.
		Weight::from_parts(24_000_000, 4100)
			// Standard Error: 0
			.saturating_add(Weight::from_parts(95_000, 256).saturating_mul(l.into()))
			// Standard Error: 0
			.saturating_add(Weight::from_parts(6_800_000, 0).saturating_mul(r.into()))
			.saturating_add(T::DbWeight::get().reads(1_u64))
			.saturating_add(T::DbWeight::get().reads((2_u64).saturating_mul(r.into())))
			.saturating_add(T::DbWeight::get().writes(2_u64))
			.saturating_add(Weight::from_parts(0, 2600).saturating_mul(r.into()))
	}
	/// Storage: `Inference::Requests` (r:1 w:1)
	/// Storage: `Inference::TraceLeaves` (r:1 w:1)
	/// Storage: `Models::Models` (r:1 w:1)
	/// Storage: `Balances::Holds` (r:3 w:3)
	/// Storage: `System::Account` (r:4 w:4)
	/// Storage: `Workers::Active` (r:1 w:0)
	/// Storage: `Inference::Deadlines` (r:1 w:1)
	/// Storage: `Inference::Results` (r:0 w:1)
	/// The range of component `c` is `[4096, 4000000]`.
	fn challenge(c: u32, ) -> Weight {
		// Proof Size summary in bytes:
		//  Measured:  `4900`
		//  Estimated: `9800`
		// Minimum execution time: 185_000_000 picoseconds.
		Weight::from_parts(185_000_000, 42000)
			// Standard Error: 0
			.saturating_add(Weight::from_parts(21_000, 0).saturating_mul(c.into()))
			.saturating_add(T::DbWeight::get().reads(13_u64))
			.saturating_add(T::DbWeight::get().writes(12_u64))
	}
	/// Storage: `Workers::Bonds` (r:1 w:1)
	/// Storage: `Balances::Holds` (r:1 w:1)
	/// Storage: `System::Account` (r:3 w:3)
	/// Storage: `Inference::Results` (r:0 w:1)
	/// Storage: `Inference::TraceLeaves` (r:0 w:1)
	/// The range of component `r` is `[1, 8]`.
	fn slash(r: u32, ) -> Weight {
		// Proof Size summary in bytes:
		//  Measured:  `0`
		//  Estimated: `0`
		// Minimum execution time: 0_000_000 picoseconds.
		Weight::from_parts(0, 0)
			// Standard Error: 0
			.saturating_add(Weight::from_parts(88_000_000, 0).saturating_mul(r.into()))
			.saturating_add(T::DbWeight::get().reads((5_u64).saturating_mul(r.into())))
			.saturating_add(T::DbWeight::get().writes((7_u64).saturating_mul(r.into())))
			.saturating_add(Weight::from_parts(0, 2700).saturating_mul(r.into()))
	}
	/// Storage: `Balances::Holds` (r:1 w:1)
	/// Storage: `Models::Models` (r:1 w:1)
	/// Storage: `Inference::Requests` (r:0 w:1)
	/// Storage: `Inference::RequestInputs` (r:0 w:1)
	/// Storage: `Inference::Receipts` (r:0 w:1)
	/// Storage: `Inference::Results` (r:0 w:1)
	/// Storage: `Inference::TraceLeaves` (r:0 w:1)
	/// The range of component `r` is `[1, 8]`.
	fn refund(r: u32, ) -> Weight {
		// Proof Size summary in bytes:
		//  Measured:  `1950`
		//  Estimated: `3900`
		// Minimum execution time: 41_000_000 picoseconds.
		Weight::from_parts(41_000_000, 3900)
			// Standard Error: 0
			.saturating_add(Weight::from_parts(4_300_000, 0).saturating_mul(r.into()))
			.saturating_add(T::DbWeight::get().reads(2_u64))
			.saturating_add(T::DbWeight::get().writes(5_u64))
			.saturating_add(T::DbWeight::get().writes((2_u64).saturating_mul(r.into())))
	}
	/// Storage: `Inference::Requests` (r:1 w:1)
	/// Storage: `Workers::Bonds` (r:1 w:1)
	/// Storage: `Balances::Holds` (r:1 w:1)
	/// Storage: `System::Account` (r:2 w:2)
	/// Storage: `Workers::Active` (r:1 w:0)
	/// Storage: `Inference::Deadlines` (r:1 w:1)
	/// The range of component `r` is `[1, 8]`.
	fn expire_phase(r: u32, ) -> Weight {
		// Proof Size summary in bytes:
		//  Measured:  `2300`
		//  Estimated: `4600`
		// Minimum execution time: 36_000_000 picoseconds.
		Weight::from_parts(36_000_000, 4600)
			// Standard Error: 0
			.saturating_add(Weight::from_parts(47_000_000, 0).saturating_mul(r.into()))
			.saturating_add(T::DbWeight::get().reads(3_u64))
			.saturating_add(T::DbWeight::get().reads((4_u64).saturating_mul(r.into())))
			.saturating_add(T::DbWeight::get().writes(2_u64))
			.saturating_add(T::DbWeight::get().writes((4_u64).saturating_mul(r.into())))
			.saturating_add(Weight::from_parts(0, 2700).saturating_mul(r.into()))
	}
	/// Storage: `Inference::ChallengeWindows` (r:1 w:1)
	/// Storage: `Inference::Receipts` (r:1 w:0)
	/// Storage: `Inference::TraceLeaves` (r:0 w:1)
	/// Storage: `Inference::RequestInputs` (r:0 w:1)
	/// Storage: `Models::Models` (r:1 w:1)
	fn close_window() -> Weight {
		// Proof Size summary in bytes:
		//  Measured:  `2150`
		//  Estimated: `4300`
		// Minimum execution time: 29_000_000 picoseconds.
		Weight::from_parts(29_000_000, 4300)
			.saturating_add(T::DbWeight::get().reads(3_u64))
			.saturating_add(T::DbWeight::get().writes(4_u64))
	}
	/// Storage: `Inference::Deadlines` (r:1 w:1)
	fn on_initialize_base() -> Weight {
		// Proof Size summary in bytes:
		//  Measured:  `750`
		//  Estimated: `1500`
		// Minimum execution time: 3_000_000 picoseconds.
		Weight::from_parts(3_100_000, 1500)
			.saturating_add(T::DbWeight::get().reads(1_u64))
			.saturating_add(T::DbWeight::get().writes(1_u64))
	}
}

// For backwards compatibility and tests.
impl WeightInfo for () {
	/// Storage: `Models::Models` (r:1 w:1)
	/// Storage: `Workers::Active` (r:1 w:0)
	/// Storage: `Balances::Holds` (r:1 w:1)
	/// Storage: `Inference::NextRequestId` (r:1 w:1)
	/// Storage: `Inference::Deadlines` (r:1 w:1)
	/// Storage: `Inference::Requests` (r:0 w:1)
	/// Storage: `Inference::RequestInputs` (r:0 w:1)
	/// The range of component `i` is `[1, 65536]`.
	/// The range of component `r` is `[1, 8]`.
	fn request_inference(i: u32, r: u32, ) -> Weight {
		// Proof Size summary in bytes:
		//  Measured:  `2100`
		//  Estimated: `4200`
		// Minimum execution time: 62_000_000 picoseconds.
		Weight::from_parts(62_000_000, 4200)
			// Standard Error: 0
			.saturating_add(Weight::from_parts(2_900, 0).saturating_mul(i.into()))
			// Standard Error: 0
			.saturating_add(Weight::from_parts(14_500_000, 0).saturating_mul(r.into()))
			.saturating_add(RocksDbWeight::get().reads(5_u64))
			.saturating_add(RocksDbWeight::get().writes(6_u64))
	}
	/// Storage: `Inference::Requests` (r:1 w:1)
	/// Storage: `Inference::Deadlines` (r:1 w:1)
	fn commit_result() -> Weight {
		// Proof Size summary in bytes:
		//  Measured:  `1950`
		//  Estimated: `3900`
		// Minimum execution time: 38_000_000 picoseconds.
		Weight::from_parts(38_000_000, 3900)
			.saturating_add(RocksDbWeight::get().reads(2_u64))
			.saturating_add(RocksDbWeight::get().writes(2_u64))
	}
	/// Storage: `Inference::Requests` (r:1 w:1)
	/// Storage: `Models::Models` (r:1 w:0)
	/// Storage: `Inference::Deadlines` (r:1 w:1)
	/// Storage: `Inference::Results` (r:0 w:1)
	/// Storage: `Inference::TraceLeaves` (r:0 w:1)
	/// The range of component `l` is `[1, 1024]`.
	/// The range of component `o` is `[1, 65536]`.
	fn submit_result(l: u32, o: u32, ) -> Weight {
		// Proof Size summary in bytes:
		//  Measured:  `2700`
		//  Estimated: `5400`
		// Minimum execution time: 55_000_000 picoseconds.
		Weight::from_parts(55_000_000, 5400)
			// Standard Error: 0
			.saturating_add(Weight::from_parts(1_450_000, 0).saturating_mul(l.into()))
			// Standard Error: 0
			.saturating_add(Weight::from_parts(3_100, 0).saturating_mul(o.into()))
			.saturating_add(RocksDbWeight::get().reads(3_u64))
			.saturating_add(RocksDbWeight::get().writes(4_u64))
	}
	/// Storage: `Models::Models` (r:1 w:0)
	/// Storage: `Balances::Holds` (r:1 w:1)
	/// Storage: `System::Account` (r:3 w:3)
	/// Storage: `Workers::Stats` (r:1 w:1)
	/// Storage: `Inference::Receipts` (r:0 w:1)
	/// Storage: `Inference::Requests` (r:0 w:1)
	/// Storage: `Inference::TraceLeaves` (r:0 w:1)
	/// Storage: `Inference::RequestInputs` (r:0 w:1)
	/// The range of component `r` is `[1, 8]`.
	fn settle(r: u32, ) -> Weight {
		// Proof Size summary in bytes:
		//  Measured:  `3100`
		//  Estimated: `6200`
		// Minimum execution time: 72_000_000 picoseconds.
		Weight::from_parts(72_000_000, 6200)
			// Standard Error: 0
			.saturating_add(Weight::from_parts(31_000_000, 0).saturating_mul(r.into()))
			.saturating_add(RocksDbWeight::get().reads(4_u64))
			.saturating_add(RocksDbWeight::get().reads((2_u64).saturating_mul(r.into())))
			.saturating_add(RocksDbWeight::get().writes(6_u64))
			.saturating_add(RocksDbWeight::get().writes((3_u64).saturating_mul(r.into())))
			.saturating_add(Weight::from_parts(0, 2600).saturating_mul(r.into()))
	}
	/// Storage: `Inference::Results` (r:1 w:0)
	/// Storage: `Inference::TraceLeaves` (r:1 w:0)
	/// Storage: `Inference::Deadlines` (r:1 w:1)
	/// Storage: `Inference::Requests` (r:0 w:1)
	/// The range of component `l` is `[1, 1024]`.
	/// The range of component `r` is `[1, 8]`.
	fn dispute(l: u32, r: u32, ) -> Weight {
		// Proof Size summary in bytes:
		//  Measured:  `2050`
		//  Estimated: `4100`
		// Minimum execution time: 24_000_000 picoseconds.
		Weight::from_parts(24_000_000, 4100)
			// Standard Error: 0
			.saturating_add(Weight::from_parts(95_000, 256).saturating_mul(l.into()))
			// Standard Error: 0
			.saturating_add(Weight::from_parts(6_800_000, 0).saturating_mul(r.into()))
			.saturating_add(RocksDbWeight::get().reads(1_u64))
			.saturating_add(RocksDbWeight::get().reads((2_u64).saturating_mul(r.into())))
			.saturating_add(RocksDbWeight::get().writes(2_u64))
			.saturating_add(Weight::from_parts(0, 2600).saturating_mul(r.into()))
	}
	/// Storage: `Inference::Requests` (r:1 w:1)
	/// Storage: `Inference::TraceLeaves` (r:1 w:1)
	/// Storage: `Models::Models` (r:1 w:1)
	/// Storage: `Balances::Holds` (r:3 w:3)
	/// Storage: `System::Account` (r:4 w:4)
	/// Storage: `Workers::Active` (r:1 w:0)
	/// Storage: `Inference::Deadlines` (r:1 w:1)
	/// Storage: `Inference::Results` (r:0 w:1)
	/// The range of component `c` is `[4096, 4000000]`.
	fn challenge(c: u32, ) -> Weight {
		// Proof Size summary in bytes:
		//  Measured:  `4900`
		//  Estimated: `9800`
		// Minimum execution time: 185_000_000 picoseconds.
		Weight::from_parts(185_000_000, 42000)
			// Standard Error: 0
			.saturating_add(Weight::from_parts(21_000, 0).saturating_mul(c.into()))
			.saturating_add(RocksDbWeight::get().reads(13_u64))
			.saturating_add(RocksDbWeight::get().writes(12_u64))
	}
	/// Storage: `Workers::Bonds` (r:1 w:1)
	/// Storage: `Balances::Holds` (r:1 w:1)
	/// Storage: `System::Account` (r:3 w:3)
	/// Storage: `Inference::Results` (r:0 w:1)
	/// Storage: `Inference::TraceLeaves` (r:0 w:1)
	/// The range of component `r` is `[1, 8]`.
	fn slash(r: u32, ) -> Weight {
		// Proof Size summary in bytes:
		//  Measured:  `0`
		//  Estimated: `0`
		// Minimum execution time: 0_000_000 picoseconds.
		Weight::from_parts(0, 0)
			// Standard Error: 0
			.saturating_add(Weight::from_parts(88_000_000, 0).saturating_mul(r.into()))
			.saturating_add(RocksDbWeight::get().reads((5_u64).saturating_mul(r.into())))
			.saturating_add(RocksDbWeight::get().writes((7_u64).saturating_mul(r.into())))
			.saturating_add(Weight::from_parts(0, 2700).saturating_mul(r.into()))
	}
	/// Storage: `Balances::Holds` (r:1 w:1)
	/// Storage: `Models::Models` (r:1 w:1)
	/// Storage: `Inference::Requests` (r:0 w:1)
	/// Storage: `Inference::RequestInputs` (r:0 w:1)
	/// Storage: `Inference::Receipts` (r:0 w:1)
	/// Storage: `Inference::Results` (r:0 w:1)
	/// Storage: `Inference::TraceLeaves` (r:0 w:1)
	/// The range of component `r` is `[1, 8]`.
	fn refund(r: u32, ) -> Weight {
		// Proof Size summary in bytes:
		//  Measured:  `1950`
		//  Estimated: `3900`
		// Minimum execution time: 41_000_000 picoseconds.
		Weight::from_parts(41_000_000, 3900)
			// Standard Error: 0
			.saturating_add(Weight::from_parts(4_300_000, 0).saturating_mul(r.into()))
			.saturating_add(RocksDbWeight::get().reads(2_u64))
			.saturating_add(RocksDbWeight::get().writes(5_u64))
			.saturating_add(RocksDbWeight::get().writes((2_u64).saturating_mul(r.into())))
	}
	/// Storage: `Inference::Requests` (r:1 w:1)
	/// Storage: `Workers::Bonds` (r:1 w:1)
	/// Storage: `Balances::Holds` (r:1 w:1)
	/// Storage: `System::Account` (r:2 w:2)
	/// Storage: `Workers::Active` (r:1 w:0)
	/// Storage: `Inference::Deadlines` (r:1 w:1)
	/// The range of component `r` is `[1, 8]`.
	fn expire_phase(r: u32, ) -> Weight {
		// Proof Size summary in bytes:
		//  Measured:  `2300`
		//  Estimated: `4600`
		// Minimum execution time: 36_000_000 picoseconds.
		Weight::from_parts(36_000_000, 4600)
			// Standard Error: 0
			.saturating_add(Weight::from_parts(47_000_000, 0).saturating_mul(r.into()))
			.saturating_add(RocksDbWeight::get().reads(3_u64))
			.saturating_add(RocksDbWeight::get().reads((4_u64).saturating_mul(r.into())))
			.saturating_add(RocksDbWeight::get().writes(2_u64))
			.saturating_add(RocksDbWeight::get().writes((4_u64).saturating_mul(r.into())))
			.saturating_add(Weight::from_parts(0, 2700).saturating_mul(r.into()))
	}
	/// Storage: `Inference::ChallengeWindows` (r:1 w:1)
	/// Storage: `Inference::Receipts` (r:1 w:0)
	/// Storage: `Inference::TraceLeaves` (r:0 w:1)
	/// Storage: `Inference::RequestInputs` (r:0 w:1)
	/// Storage: `Models::Models` (r:1 w:1)
	fn close_window() -> Weight {
		// Proof Size summary in bytes:
		//  Measured:  `2150`
		//  Estimated: `4300`
		// Minimum execution time: 29_000_000 picoseconds.
		Weight::from_parts(29_000_000, 4300)
			.saturating_add(RocksDbWeight::get().reads(3_u64))
			.saturating_add(RocksDbWeight::get().writes(4_u64))
	}
	/// Storage: `Inference::Deadlines` (r:1 w:1)
	fn on_initialize_base() -> Weight {
		// Proof Size summary in bytes:
		//  Measured:  `750`
		//  Estimated: `1500`
		// Minimum execution time: 3_000_000 picoseconds.
		Weight::from_parts(3_100_000, 1500)
			.saturating_add(RocksDbWeight::get().reads(1_u64))
			.saturating_add(RocksDbWeight::get().writes(1_u64))
	}
}
