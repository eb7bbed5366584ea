//! The Verity runtime.
//!
//! FRAME system pallets (System, Timestamp, Validators, Session, Aura, Grandpa, Balances,
//! TransactionPayment, Sudo) and Verity's pallets: Models (the registry), Workers (bonds) and Inference (requests, escrow,
//! verification modes, fraud proofs, settlement). `configs` holds the pallet configurations, `apis`
//! the runtime API implementations and `genesis_config_presets` the `development` and
//! `local_testnet` genesis presets.

#![cfg_attr(not(feature = "std"), no_std)]
// `construct_runtime` and `impl_runtime_apis` expand to deep recursion.
#![recursion_limit = "256"]

#[cfg(feature = "std")]
include!(concat!(env!("OUT_DIR"), "/wasm_binary.rs"));

/// This runtime's wasm with `spec_version` one higher and nothing else changed
/// (`runtime/upgrade-test`): the code the runtime upgrade test sets on a running node.
#[cfg(feature = "std")]
pub mod upgrade_test {
	include!(concat!(env!("OUT_DIR"), "/upgrade_test_wasm.rs"));
}

extern crate alloc;

use alloc::vec::Vec;

// Defines `list_benchmarks!` and `add_benchmarks!`; they are textually scoped, so this module
// comes before `apis`, which uses them.
#[cfg(feature = "runtime-benchmarks")]
#[macro_use]
mod benches {
	frame_benchmarking::define_benchmarks!(
		[frame_benchmarking, BaselineBench::<crate::Runtime>]
		[frame_system, SystemBench::<crate::Runtime>]
		[pallet_balances, crate::Balances]
		[pallet_timestamp, crate::Timestamp]
		[pallet_sudo, crate::Sudo]
		[pallet_models, crate::Models]
		[pallet_workers, crate::Workers]
		[pallet_validators, crate::Validators]
		[pallet_inference, crate::Inference]
	);
}

pub mod apis;
pub mod configs;
pub mod genesis_config_presets;

use sp_runtime::{
	generic, impl_opaque_keys,
	traits::{BlakeTwo256, IdentifyAccount, Verify},
	MultiAddress, MultiSignature,
};
use sp_version::{runtime_version, RuntimeVersion};

pub use frame_system::Call as SystemCall;
pub use pallet_balances::Call as BalancesCall;
pub use pallet_sudo::Call as SudoCall;
pub use pallet_timestamp::Call as TimestampCall;
#[cfg(any(feature = "std", test))]
pub use sp_runtime::BuildStorage;

/// Block number.
pub type BlockNumber = u32;
/// Transaction signature: sr25519, ed25519 or ecdsa.
pub type Signature = MultiSignature;
/// Account identifier: the public key of the signing scheme.
pub type AccountId = <<Signature as Verify>::Signer as IdentifyAccount>::AccountId;
/// Balance of an account, in plancks (10^-[`TOKEN_DECIMALS`] VRT).
pub type Balance = u128;
/// Transaction counter of an account.
pub type Nonce = u32;
/// Hash type of blocks, tries and commitments.
pub type Hash = sp_core::H256;

/// Token symbol, reported in the chain properties.
pub const TOKEN_SYMBOL: &str = "VRT";
/// Decimals of one token, reported in the chain properties.
pub const TOKEN_DECIMALS: u8 = 12;
/// One whole token.
pub const UNIT: Balance = 10u128.pow(TOKEN_DECIMALS as u32);
/// A thousandth of a token.
pub const MILLI_UNIT: Balance = UNIT / 1_000;
/// A millionth of a token.
pub const MICRO_UNIT: Balance = UNIT / 1_000_000;
/// The minimum balance an account must keep to exist.
pub const EXISTENTIAL_DEPOSIT: Balance = MILLI_UNIT;

/// Target block time. Blocks are produced at most once per slot.
pub const MILLI_SECS_PER_BLOCK: u64 = 6_000;
/// Aura slot length; it cannot change once the chain runs.
pub const SLOT_DURATION: u64 = MILLI_SECS_PER_BLOCK;
/// Blocks per minute, for durations expressed in blocks.
pub const MINUTES: BlockNumber = 60_000 / (MILLI_SECS_PER_BLOCK as BlockNumber);
/// Blocks per hour.
pub const HOURS: BlockNumber = MINUTES * 60;
/// Blocks per day.
pub const DAYS: BlockNumber = HOURS * 24;

/// Types the node needs without knowing the runtime's extrinsic format.
pub mod opaque {
	use super::*;
	pub use sp_runtime::OpaqueExtrinsic as UncheckedExtrinsic;

	/// Opaque block header.
	pub type Header = generic::Header<BlockNumber, BlakeTwo256>;
	/// Opaque block.
	pub type Block = generic::Block<Header, UncheckedExtrinsic>;

	impl_opaque_keys! {
		/// The session keys of a validator: block authoring, finality and its inference
		/// worker (`vrty`).
		pub struct SessionKeys {
			pub aura: Aura,
			pub grandpa: Grandpa,
			pub verity: Workers,
		}
	}
}

/// Declares [`VERSION`] with the given `spec_version` (a literal: `#[runtime_version]` reads it
/// at compile time).
macro_rules! declare_version {
	($spec_version:tt) => {
		/// The runtime's version: a runtime upgrade must raise `spec_version`.
		#[runtime_version]
		pub const VERSION: RuntimeVersion = RuntimeVersion {
			spec_name: alloc::borrow::Cow::Borrowed("verity"),
			impl_name: alloc::borrow::Cow::Borrowed("verity-node"),
			authoring_version: 1,
			spec_version: $spec_version,
			impl_version: 1,
			apis: apis::RUNTIME_API_VERSIONS,
			transaction_version: 1,
			system_version: 1,
		};
	};
}

#[cfg(not(feature = "upgrade-test"))]
declare_version!(100);
// The next version, for the runtime upgrade test only (`runtime/upgrade-test`).
#[cfg(feature = "upgrade-test")]
declare_version!(101);

/// Address format of extrinsics.
pub type Address = MultiAddress<AccountId, ()>;
/// Block header.
pub type Header = generic::Header<BlockNumber, BlakeTwo256>;
/// Block.
pub type Block = generic::Block<Header, UncheckedExtrinsic>;

/// The transaction extensions, in the order they are checked.
pub type TxExtension = (
	frame_system::AuthorizeCall<Runtime>,
	frame_system::CheckNonZeroSender<Runtime>,
	frame_system::CheckSpecVersion<Runtime>,
	frame_system::CheckTxVersion<Runtime>,
	frame_system::CheckGenesis<Runtime>,
	frame_system::CheckEra<Runtime>,
	frame_system::CheckNonce<Runtime>,
	frame_system::CheckWeight<Runtime>,
	pallet_transaction_payment::ChargeTransactionPayment<Runtime>,
	frame_metadata_hash_extension::CheckMetadataHash<Runtime>,
	frame_system::WeightReclaim<Runtime>,
);

/// Extrinsic format.
pub type UncheckedExtrinsic =
	generic::UncheckedExtrinsic<Address, RuntimeCall, Signature, TxExtension>;
/// The payload a signer signs.
pub type SignedPayload = generic::SignedPayload<RuntimeCall, TxExtension>;

/// Migrations to run on the next runtime upgrade, besides the pallets' own.
type Migrations = ();

/// Dispatches blocks and extrinsics to the pallets.
pub type Executive = frame_executive::Executive<
	Runtime,
	Block,
	frame_system::ChainContext<Runtime>,
	Runtime,
	AllPalletsWithSystem,
	Migrations,
>;

/// The transaction extensions a transaction gets when the runtime builds it itself (off-chain
/// workers): mortal for 256 blocks from `current`, no tip, no metadata hash.
pub fn tx_extension(nonce: Nonce, current: BlockNumber) -> TxExtension {
	let period = 256u64;
	(
		frame_system::AuthorizeCall::<Runtime>::new(),
		frame_system::CheckNonZeroSender::<Runtime>::new(),
		frame_system::CheckSpecVersion::<Runtime>::new(),
		frame_system::CheckTxVersion::<Runtime>::new(),
		frame_system::CheckGenesis::<Runtime>::new(),
		frame_system::CheckEra::<Runtime>::from(generic::Era::mortal(period, current.into())),
		frame_system::CheckNonce::<Runtime>::from(nonce),
		frame_system::CheckWeight::<Runtime>::new(),
		pallet_transaction_payment::ChargeTransactionPayment::<Runtime>::from(0),
		frame_metadata_hash_extension::CheckMetadataHash::<Runtime>::new(false),
		frame_system::WeightReclaim::<Runtime>::new(),
	)
}

#[frame_support::runtime]
mod runtime {
	#[runtime::runtime]
	#[runtime::derive(
		RuntimeCall,
		RuntimeEvent,
		RuntimeError,
		RuntimeOrigin,
		RuntimeFreezeReason,
		RuntimeHoldReason,
		RuntimeSlashReason,
		RuntimeLockId,
		RuntimeTask,
		RuntimeViewFunction
	)]
	pub struct Runtime;

	#[runtime::pallet_index(0)]
	pub type System = frame_system;

	#[runtime::pallet_index(1)]
	pub type Timestamp = pallet_timestamp;

	// The validator set, then the sessions that apply it: both before Aura and GRANDPA, whose
	// authorities the session pallet sets (at genesis too, so their own genesis lists none).
	#[runtime::pallet_index(7)]
	pub type Validators = pallet_validators;

	#[runtime::pallet_index(8)]
	pub type Session = pallet_session;

	#[runtime::pallet_index(2)]
	pub type Aura = pallet_aura;

	#[runtime::pallet_index(3)]
	pub type Grandpa = pallet_grandpa;

	#[runtime::pallet_index(4)]
	pub type Balances = pallet_balances;

	#[runtime::pallet_index(5)]
	pub type TransactionPayment = pallet_transaction_payment;

	#[runtime::pallet_index(6)]
	pub type Sudo = pallet_sudo;

	#[runtime::pallet_index(10)]
	pub type Models = pallet_models;

	#[runtime::pallet_index(11)]
	pub type Workers = pallet_workers;

	#[runtime::pallet_index(12)]
	pub type Inference = pallet_inference;
}
