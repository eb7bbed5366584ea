//! The worker record and the aliases the pallet stores.

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use frame_support::traits::fungible::Inspect;
use frame_system::pallet_prelude::BlockNumberFor;
use scale_info::TypeInfo;
use verity_primitives::crypto::WorkerPublic;

use crate::Config;

/// Balance of the pallet's currency.
pub type BalanceOf<T> =
	<<T as Config>::Currency as Inspect<<T as frame_system::Config>::AccountId>>::Balance;

/// A worker record, with the runtime's types.
pub type WorkerInfoOf<T> = WorkerInfo<BalanceOf<T>, BlockNumberFor<T>>;

/// Where a worker stands.
#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	Debug,
)]
pub enum WorkerStatus<BlockNumber> {
	/// In the active set: may be assigned new requests.
	Active,
	/// Out of the active set because a slash left its bond below `MinWorkerBond`. Bonded and
	/// slashable; may `bond_extra` and `rejoin`, or `unbond`.
	Suspended,
	/// Left the active set with `unbond`. The bond stays held and slashable until `until`,
	/// after which `withdraw_unbonded` releases it. May `rejoin` meanwhile.
	Unbonding {
		/// First block at which the bond can be withdrawn.
		until: BlockNumber,
	},
}

/// A registered worker.
#[derive(
	Clone, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, Debug,
)]
pub struct WorkerInfo<Balance, BlockNumber> {
	/// The key its off-chain worker signs with (key type `vrty`).
	pub key: WorkerPublic,
	/// What is held from the worker under `HoldReason::WorkerBond` (kept equal to the hold).
	pub bond: Balance,
	/// Active, suspended or unbonding.
	pub status: WorkerStatus<BlockNumber>,
	/// Accepted results.
	pub served: u64,
	/// Proven frauds it was slashed for.
	pub slashed: u32,
	/// Deadlines it missed.
	pub missed: u32,
	/// Block of registration.
	pub registered_at: BlockNumber,
}
