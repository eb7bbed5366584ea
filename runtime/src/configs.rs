//! Configuration of every pallet in the runtime, and the `frame_system::offchain` glue that
//! lets off-chain workers build transactions.

use codec::Encode;
use frame_support::{
	derive_impl,
	dispatch::DispatchClass,
	parameter_types,
	traits::{ConstBool, ConstU128, ConstU32, ConstU64, ConstU8, Contains, VariantCountOf},
	weights::{
		constants::{ParityDbWeight, WEIGHT_REF_TIME_PER_SECOND},
		IdentityFee, Weight,
	},
	PalletId,
};
use frame_system::{
	limits::{BlockLength, BlockWeights},
	offchain::{
		AppCrypto, CreateAuthorizedTransaction, CreateBare, CreateSignedTransaction,
		CreateTransaction, CreateTransactionBase, SigningTypes,
	},
};
use pallet_transaction_payment::{ConstFeeMultiplier, FungibleAdapter, Multiplier};
use sp_consensus_aura::sr25519::AuthorityId as AuraId;
use sp_runtime::{
	generic,
	traits::{AccountIdConversion, ConvertInto, One, OpaqueKeys, StaticLookup, Verify},
	Perbill,
};
use sp_version::RuntimeVersion;

use super::{
	opaque::SessionKeys, tx_extension, AccountId, Aura, Balance, Balances, Block, BlockNumber,
	Hash, Inference, Models, Nonce, PalletInfo, Runtime, RuntimeCall, RuntimeEvent,
	RuntimeFreezeReason, RuntimeHoldReason, RuntimeOrigin, RuntimeTask, Signature, SignedPayload,
	System, TxExtension, UncheckedExtrinsic, Validators, Workers, DAYS, EXISTENTIAL_DEPOSIT, HOURS,
	MICRO_UNIT, MILLI_UNIT, MINUTES, SLOT_DURATION, UNIT, VERSION,
};

/// Share of a block's weight and length available to normal (non-operational) extrinsics.
const NORMAL_DISPATCH_RATIO: Perbill = Perbill::from_percent(75);
/// 5 MiB blocks: a fraud proof carries a node's input tensors, so blocks must hold them.
const MAX_BLOCK_LENGTH: u32 = 5 * 1024 * 1024;

parameter_types! {
	pub const BlockHashCount: BlockNumber = 2400;
	pub const Version: RuntimeVersion = VERSION;
	/// Two seconds of compute per six-second block.
	pub RuntimeBlockWeights: BlockWeights = BlockWeights::with_sensible_defaults(
		Weight::from_parts(2u64 * WEIGHT_REF_TIME_PER_SECOND, u64::MAX),
		NORMAL_DISPATCH_RATIO,
	);
	pub RuntimeBlockLength: BlockLength = BlockLength::builder()
		.max_length(MAX_BLOCK_LENGTH)
		.modify_max_length_for_class(DispatchClass::Normal, |max| {
			*max = NORMAL_DISPATCH_RATIO * MAX_BLOCK_LENGTH
		})
		.build();
	pub const SS58Prefix: u16 = 42;
}

#[derive_impl(frame_system::config_preludes::SolochainDefaultConfig)]
impl frame_system::Config for Runtime {
	type Block = Block;
	type BlockWeights = RuntimeBlockWeights;
	type BlockLength = RuntimeBlockLength;
	type AccountId = AccountId;
	type Nonce = Nonce;
	type Hash = Hash;
	type BlockHashCount = BlockHashCount;
	/// The node stores state in ParityDb.
	type DbWeight = ParityDbWeight;
	type Version = Version;
	type AccountData = pallet_balances::AccountData<Balance>;
	type SS58Prefix = SS58Prefix;
	type MaxConsumers = ConstU32<16>;
}

/// Most block authorities: Aura's, GRANDPA's and the validator set's bound.
pub const MAX_AUTHORITIES: u32 = 32;

impl pallet_aura::Config for Runtime {
	type AuthorityId = AuraId;
	type DisabledValidators = ();
	type MaxAuthorities = ConstU32<MAX_AUTHORITIES>;
	type AllowMultipleBlocksPerSlot = ConstBool<false>;
	type SlotDuration = pallet_aura::MinimumPeriodTimesTwo<Runtime>;
}

impl pallet_grandpa::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type WeightInfo = ();
	type MaxAuthorities = ConstU32<MAX_AUTHORITIES>;
	type MaxNominators = ConstU32<0>;
	type MaxSetIdSessionEntries = ConstU64<0>;
	/// No historical sessions: equivocations are not reported on chain.
	type KeyOwnerProof = sp_core::Void;
	type EquivocationReportSystem = ();
}

parameter_types! {
	/// Blocks per session. A validator added or removed takes effect after one to two
	/// sessions; the session pallet's rotation block carries no user transactions, so shorter
	/// sessions cost throughput.
	pub const SessionPeriod: BlockNumber = 2 * MINUTES;
	/// What setting session keys holds, against filling `Session::NextKeys` for free.
	pub const SessionKeyDeposit: Balance = UNIT;
}

/// Sessions of `SessionPeriod` blocks from block 0.
type Sessions = pallet_session::PeriodicSessions<SessionPeriod, ConstU32<0>>;

impl pallet_session::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	/// A validator is identified by its account.
	type ValidatorId = AccountId;
	type ValidatorIdOf = ConvertInto;
	type ShouldEndSession = Sessions;
	type NextSessionRotation = Sessions;
	type SessionManager = Validators;
	type SessionHandler = <SessionKeys as OpaqueKeys>::KeyTypeIdProviders;
	type Keys = SessionKeys;
	/// No validator is disabled: misbehaviour is not reported on chain.
	type DisablingStrategy = ();
	type WeightInfo = pallet_session::weights::SubstrateWeight<Runtime>;
	type Currency = Balances;
	type KeyDeposit = SessionKeyDeposit;
}

/// The accounts that have session keys for the next session.
pub struct HasSessionKeys;
impl Contains<AccountId> for HasSessionKeys {
	fn contains(who: &AccountId) -> bool {
		pallet_session::NextKeys::<Runtime>::contains_key(who)
	}
}

impl pallet_validators::Config for Runtime {
	type AddRemoveOrigin = frame_system::EnsureRoot<AccountId>;
	type HasSessionKeys = HasSessionKeys;
	type MaxValidators = ConstU32<MAX_AUTHORITIES>;
	type MinValidators = ConstU32<1>;
	type WeightInfo = pallet_validators::weights::SubstrateWeight<Runtime>;
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = ValidatorsBenchmarkHelper;
}

/// Gives benchmark accounts session keys by writing them to the session pallet's storage.
#[cfg(feature = "runtime-benchmarks")]
pub struct ValidatorsBenchmarkHelper;

#[cfg(feature = "runtime-benchmarks")]
impl pallet_validators::BenchmarkHelper<AccountId> for ValidatorsBenchmarkHelper {
	fn set_session_keys(who: &AccountId) {
		let mut raw = [0u8; 32];
		raw.copy_from_slice(&who.encode()[..32]);
		let keys = SessionKeys {
			aura: sp_core::sr25519::Public::from_raw(raw).into(),
			grandpa: sp_core::ed25519::Public::from_raw(raw).into(),
			verity: verity_primitives::crypto::WorkerPublic::from(
				sp_core::sr25519::Public::from_raw(raw),
			),
		};
		pallet_session::NextKeys::<Runtime>::insert(who, keys);
	}
}

impl pallet_timestamp::Config for Runtime {
	/// Milliseconds since the unix epoch.
	type Moment = u64;
	type OnTimestampSet = Aura;
	type MinimumPeriod = ConstU64<{ SLOT_DURATION / 2 }>;
	type WeightInfo = ();
}

impl pallet_balances::Config for Runtime {
	type MaxLocks = ConstU32<50>;
	type MaxReserves = ();
	type ReserveIdentifier = [u8; 8];
	type Balance = Balance;
	type RuntimeEvent = RuntimeEvent;
	type DustRemoval = ();
	type ExistentialDeposit = ConstU128<EXISTENTIAL_DEPOSIT>;
	type AccountStore = System;
	type WeightInfo = pallet_balances::weights::SubstrateWeight<Runtime>;
	type FreezeIdentifier = RuntimeFreezeReason;
	type MaxFreezes = VariantCountOf<RuntimeFreezeReason>;
	type RuntimeHoldReason = RuntimeHoldReason;
	type RuntimeFreezeReason = RuntimeFreezeReason;
	type DoneSlashHandler = ();
}

parameter_types! {
	pub FeeMultiplier: Multiplier = Multiplier::one();
}

impl pallet_transaction_payment::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type OnChargeTransaction = FungibleAdapter<Balances, ()>;
	type OperationalFeeMultiplier = ConstU8<5>;
	type WeightToFee = IdentityFee<Balance>;
	type LengthToFee = IdentityFee<Balance>;
	type FeeMultiplierUpdate = ConstFeeMultiplier<FeeMultiplier>;
	type WeightInfo = pallet_transaction_payment::weights::SubstrateWeight<Runtime>;
}

impl pallet_sudo::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type RuntimeCall = RuntimeCall;
	type WeightInfo = pallet_sudo::weights::SubstrateWeight<Runtime>;
}

// ---- Verity ---------------------------------------------------------------------------------

/// Most nodes a model may have: one 32-byte trace leaf each travels with every result.
const MAX_MODEL_NODES: u32 = 4096;

parameter_types! {
	/// A model's deposit: a base plus a price per stored byte (ONNX bytes and record).
	pub const ModelDepositBase: Balance = UNIT;
	pub const ModelDepositPerByte: Balance = 10 * MICRO_UNIT;
	/// On-chain model bytes must fit in one normal extrinsic (3.75 MiB here) with room to spare.
	pub const MaxModelBytes: u32 = 1024 * 1024;
	pub const MaxModelNodes: u32 = MAX_MODEL_NODES;
	/// The largest single node (inputs + outputs) a model may have: its fraud proof carries the
	/// inputs, so it must fit in one extrinsic with the proofs.
	pub const MaxNodeFootprint: u64 = 2 * 1024 * 1024;
	/// The costliest single node (in `verity_engine::exec::node_cost` units) a model may have:
	/// its fraud proof re-executes it, and the benchmarked `challenge` weight grows with the
	/// node's cost, so the bound is the largest cost whose fraud proof weighs at most
	/// `FraudProofWeightLimit`.
	pub MaxNodeCost: u64 = Inference::max_challengeable_cost(FraudProofWeightLimit::get());
	/// Who proves a false cost or footprint claim gets half the model's deposit; the other
	/// half is burned.
	pub const ClaimReportReward: Perbill = Perbill::from_percent(50);
	/// Half of a normal extrinsic's maximum weight: the heaviest fraud proof must be includable
	/// next to ordinary traffic, not only in an otherwise empty block.
	pub FraudProofWeightLimit: Weight = RuntimeBlockWeights::get()
		.get(DispatchClass::Normal)
		.max_extrinsic
		.unwrap_or_default()
		/ 2;
}

impl pallet_models::Config for Runtime {
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type ModelDepositBase = ModelDepositBase;
	type ModelDepositPerByte = ModelDepositPerByte;
	type MaxModelBytes = MaxModelBytes;
	type MaxNodes = MaxModelNodes;
	type MaxNodeFootprint = MaxNodeFootprint;
	type MaxNodeCost = MaxNodeCost;
	type ClaimReportReward = ClaimReportReward;
	type WeightInfo = pallet_models::weights::SubstrateWeight<Runtime>;
}

parameter_types! {
	pub const MinWorkerBond: Balance = 1_000 * UNIT;
	pub const MaxWorkers: u32 = 256;
	/// A bond stays slashable this long after `unbond`: longer than any request can live plus
	/// its challenge period (checked in `verity_integrity` below).
	pub const UnbondingDelay: BlockNumber = 2 * DAYS;
}

impl pallet_workers::Config for Runtime {
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type MinWorkerBond = MinWorkerBond;
	type MaxWorkers = MaxWorkers;
	type UnbondingDelay = UnbondingDelay;
	type WeightInfo = pallet_workers::weights::SubstrateWeight<Runtime>;
}

parameter_types! {
	/// What a worker earns per accepted result, before the protocol's share.
	pub const WorkerFee: Balance = 10 * MILLI_UNIT;
	pub const ProtocolShare: Perbill = Perbill::from_percent(10);
	/// Receives the protocol's share of fees and the protocol's part of slashes.
	pub ProtocolAccount: AccountId = PalletId(*b"vrty/fee").into_account_truncating();
	pub const ChallengePeriod: BlockNumber = 10 * MINUTES;
	pub const ResultTimeout: BlockNumber = 2 * MINUTES;
	pub const RequestLifetime: BlockNumber = 10 * MINUTES;
	/// Time for a requester to read an output after settlement; the receipt keeps its hash.
	pub const ResultRetention: BlockNumber = HOURS;
	pub const MissPenalty: Balance = 10 * UNIT;
	pub const FraudSlash: Balance = 500 * UNIT;
	pub const RequesterShare: Perbill = Perbill::from_percent(50);
	pub const ChallengerShare: Perbill = Perbill::from_percent(40);
	pub const ChallengeBond: Balance = 100 * UNIT;
	pub const MaxInputBytes: u32 = 1024 * 1024;
	pub const MaxOutputBytes: u32 = 1024 * 1024;
	pub const MaxReplicas: u32 = verity_primitives::MAX_REPLICAS;
	pub const MaxChallengeInputs: u32 = 16;
	pub const MaxDeadlinesPerBlock: u32 = 64;
}

impl pallet_inference::Config for Runtime {
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type Models = Models;
	type Workers = Workers;
	type WorkerFee = WorkerFee;
	type ProtocolShare = ProtocolShare;
	type ProtocolAccount = ProtocolAccount;
	type ChallengePeriod = ChallengePeriod;
	type ResultTimeout = ResultTimeout;
	type ResultRetention = ResultRetention;
	type RequestLifetime = RequestLifetime;
	type MissPenalty = MissPenalty;
	type FraudSlash = FraudSlash;
	type RequesterShare = RequesterShare;
	type ChallengerShare = ChallengerShare;
	type ChallengeBond = ChallengeBond;
	type MaxInputBytes = MaxInputBytes;
	type MaxOutputBytes = MaxOutputBytes;
	type MaxNodes = MaxModelNodes;
	type MaxReplicas = MaxReplicas;
	type MaxChallengeInputs = MaxChallengeInputs;
	type MaxDeadlinesPerBlock = MaxDeadlinesPerBlock;
	type WeightInfo = pallet_inference::weights::SubstrateWeight<Runtime>;
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = InferenceBenchmarkHelper;
}

#[cfg(feature = "runtime-benchmarks")]
impl frame_system_benchmarking::Config for Runtime {}

#[cfg(feature = "runtime-benchmarks")]
impl frame_benchmarking::baseline::Config for Runtime {}

/// Sets up models and workers for pallet-inference's benchmarks through the real pallets.
#[cfg(feature = "runtime-benchmarks")]
pub struct InferenceBenchmarkHelper;

#[cfg(feature = "runtime-benchmarks")]
impl pallet_inference::BenchmarkHelper<AccountId, Balance, BlockNumber>
	for InferenceBenchmarkHelper
{
	fn register_model(
		info: verity_primitives::ModelInfo<AccountId, Balance, BlockNumber>,
	) -> verity_primitives::ModelId {
		// The benchmarks' models are synthetic records without a provable header, so they are
		// written to storage directly instead of through `register_model`.
		let id = pallet_models::NextModelId::<Runtime>::get();
		pallet_models::Models::<Runtime>::insert(id, info);
		pallet_models::NextModelId::<Runtime>::put(id.saturating_add(1));
		id
	}

	fn register_worker(who: &AccountId) {
		use frame_support::traits::fungible::Mutate;
		let bond = 10 * FraudSlash::get();
		let _ = Balances::mint_into(who, 2 * bond);
		let mut raw = [0u8; 32];
		raw.copy_from_slice(&codec::Encode::encode(who)[..32]);
		let key =
			verity_primitives::crypto::WorkerPublic::from(sp_core::sr25519::Public::from_raw(raw));
		let _ = pallet_workers::Pallet::<Runtime>::do_register_worker(who, key, bond);
	}
}

/// Relations between the Verity pallets' parameters that no single pallet can check.
#[cfg(test)]
mod verity_integrity {
	use super::*;

	/// The longest a worker stays slashable on one request, and the room left for a backlog of
	/// deadline processing. Without a backlog: the last reassignment can start at
	/// `RequestLifetime − ResultTimeout` and its commit phase ends at `RequestLifetime`; reveals
	/// take `ResultTimeout`; each fraud proof in a dispute slashes at least one of at most
	/// `MAX_REPLICAS` revealers and may open a nested dispute among the rest (at most
	/// `MAX_REPLICAS − 1` disputes of `ChallengePeriod`); the one reveal left is challengeable
	/// for another `ChallengePeriod` (an attested receipt's window is one `ChallengePeriod`
	/// too). Phase ends processed late (more than `MaxDeadlinesPerBlock` due) delay each of the
	/// at most `MAX_REPLICAS + 2` phase openings; the delay must leave room for a day of that.
	#[test]
	fn bonds_outlive_requests() {
		let replicas = verity_primitives::MAX_REPLICAS;
		let worst = RequestLifetime::get()
			+ ResultTimeout::get()
			+ (replicas - 1) * ChallengePeriod::get()
			+ ChallengePeriod::get();
		let backlog_room = DAYS;
		assert!(
			UnbondingDelay::get() > worst + backlog_room,
			"a worker could withdraw its bond before a fraud proof against it lands: \
			 {worst} blocks of phases and {backlog_room} of backlog room exceed the delay"
		);
	}

	/// `challenge` is charged from the node's cost by a fit measured on MatMul. For every other
	/// heavy op kind, the fraud proof measured on that kind's node (`challenge_<kind>`, as a
	/// function of its shape) must not exceed what is charged for the very same node.
	///
	/// The lowest end of each range is left out: there a kind's fit is its intercept, which
	/// the linear fits overestimate (ConvTranspose's by 2.4 ms against the 3.3 ms measured at
	/// one row); every point measured there is below the charged weight (docs/benchmarks.md).
	#[test]
	fn challenge_weight_covers_every_benchmarked_op_kind() {
		use pallet_inference::{challenge_nodes::HeavyKind, node_cost_in_units, WeightInfo};
		type W = pallet_inference::weights::SubstrateWeight<Runtime>;
		let mut worst = (0.0f64, HeavyKind::MatMul, 0);
		for kind in HeavyKind::ALL {
			let (low, high) = kind.range();
			for step in 1..=8u32 {
				let p = low + (high - low) * step / 8;
				let measured = match kind {
					HeavyKind::MatMul => continue,
					HeavyKind::Conv => W::challenge_conv(p),
					HeavyKind::ConvTranspose => W::challenge_conv_transpose(p),
					HeavyKind::QLinearConv => W::challenge_qlinear_conv(p),
					HeavyKind::Pow => W::challenge_pow(p),
					HeavyKind::Resize => W::challenge_resize(p),
					HeavyKind::Gather => W::challenge_gather(p),
					HeavyKind::Slice => W::challenge_slice(p),
				};
				let node = kind.node(p);
				let charged = W::challenge(node_cost_in_units(&node));
				let ratio = measured.ref_time() as f64 / charged.ref_time() as f64;
				if ratio > worst.0 {
					worst = (ratio, kind, p);
				}
				assert!(
					measured.ref_time() <= charged.ref_time(),
					"{kind:?}({p}): measured {} ps, charged {} ps for cost {}",
					measured.ref_time(),
					charged.ref_time(),
					node_cost_in_units(&node)
				);
			}
		}
		println!(
			"highest measured / charged: {:.2} ({:?} at {})",
			worst.0, worst.1, worst.2
		);
	}

	#[test]
	fn fraud_proofs_fit_an_extrinsic() {
		let cost = MaxNodeCost::get();
		let max_extrinsic = RuntimeBlockWeights::get()
			.get(DispatchClass::Normal)
			.max_extrinsic
			.expect("normal extrinsics are bounded");
		// A real node of (nearly) that cost: Relu on `n` f32 elements (cost = bytes read and
		// written), whose fraud proof must fit; twice that does not fit the limit.
		let per_element = 2 * 4 * verity_engine::ops::COST_PER_BYTE;
		let n = cost / per_element;
		let relu = |elements: u64| verity_engine::ir::Node {
			op: verity_engine::ir::Op::Relu,
			inputs: alloc::vec![Some(verity_engine::ir::NodeInput {
				source: verity_engine::ir::ValueRef::Input(0),
				ty: verity_engine::TensorType::new(verity_engine::DType::F32, &[elements as usize]),
			})],
			outputs: alloc::vec![verity_engine::TensorType::new(
				verity_engine::DType::F32,
				&[elements as usize]
			)],
		};
		assert_eq!(verity_engine::node_cost(&relu(n)), n * per_element);
		let weight = Inference::challenge_weight(&relu(n));
		assert!(weight.all_lte(FraudProofWeightLimit::get()));
		assert!(weight.all_lte(max_extrinsic));
		assert!(!Inference::challenge_weight(&relu(2 * n)).all_lte(FraudProofWeightLimit::get()));
		// Fraud proofs must be possible for nodes of real size, not only toy ones.
		assert!(
			cost >= 10_000_000,
			"MaxNodeCost {cost} is too small for real models"
		);
	}

	/// Cheating never pays (docs/protocol.md, "Economics"). A caught cheater loses at least
	/// `L = (1 − ChallengerShare) × FraudSlash` even when it front-runs the auditor with its own
	/// challenger account; a cheat on its own request (it is also the requester) gains nothing
	/// and still costs it the protocol's share. A cheat skips at most the work the worker fee
	/// pays for; with audit rate `r` by one auditor it pays only if `(1 − r) × gain > r × L`.
	#[test]
	fn cheating_never_pays() {
		let one = Perbill::one();
		let slash = FraudSlash::get();
		let least_loss = (one - ChallengerShare::get()) * slash;
		let self_dealing_loss =
			slash - RequesterShare::get() * slash - ChallengerShare::get() * slash;
		assert!(
			self_dealing_loss > 0,
			"self-dealing must cost the protocol's share"
		);
		let skipped_work = WorkerFee::get();
		let audit_rate = Perbill::from_percent(25); // the node's default `--verity-audit-rate`
		assert!(
			audit_rate * least_loss > (one - audit_rate) * skipped_work,
			"a cheat that escapes three audits in four must still not pay"
		);
		// Even at a thousandth of the default rate.
		let rare = Perbill::from_rational(25u32, 100_000u32);
		assert!(rare * least_loss > (one - rare) * skipped_work);
		// Each exposure costs at most one `FraudSlash`, so bounding exposures by
		// `bond / FraudSlash` covers every penalty too; a new worker can take at least one.
		assert!(MissPenalty::get() <= slash);
		assert!(MinWorkerBond::get() >= slash);
		// A failed proof costs its challenger more than a block's fees, so griefing is paid for.
		assert!(ChallengeBond::get() > skipped_work);
	}

	#[test]
	fn a_fraud_slash_fits_a_minimum_bond() {
		assert!(FraudSlash::get() <= MinWorkerBond::get());
		assert!(
			RequesterShare::get().deconstruct() + ChallengerShare::get().deconstruct()
				<= Perbill::one().deconstruct()
		);
	}
}

// ---- Off-chain transaction construction -------------------------------------------------------

impl SigningTypes for Runtime {
	type Public = <Signature as Verify>::Signer;
	type Signature = Signature;
}

impl<C> CreateTransactionBase<C> for Runtime
where
	RuntimeCall: From<C>,
{
	type Extrinsic = UncheckedExtrinsic;
	type RuntimeCall = RuntimeCall;
}

impl<C> CreateTransaction<C> for Runtime
where
	RuntimeCall: From<C>,
{
	type Extension = TxExtension;

	fn create_transaction(call: RuntimeCall, extension: TxExtension) -> UncheckedExtrinsic {
		UncheckedExtrinsic::new_transaction(call, extension)
	}
}

impl<C> CreateSignedTransaction<C> for Runtime
where
	RuntimeCall: From<C>,
{
	fn create_signed_transaction<S: AppCrypto<Self::Public, Self::Signature>>(
		call: RuntimeCall,
		public: Self::Public,
		account: AccountId,
		nonce: Nonce,
	) -> Option<UncheckedExtrinsic> {
		// The parent block anchors the mortality window: the current one is still being built.
		let current = System::block_number().saturating_sub(1);
		let extension = tx_extension(nonce, current);
		let payload = SignedPayload::new(call, extension)
			.map_err(|e| log::warn!(target: "runtime::offchain", "payload not built: {e:?}"))
			.ok()?;
		let signature = payload.using_encoded(|bytes| S::sign(bytes, public))?;
		let (call, extension, _) = payload.deconstruct();
		let address = <Runtime as frame_system::Config>::Lookup::unlookup(account);
		Some(UncheckedExtrinsic::new_signed(
			call, address, signature, extension,
		))
	}
}

impl<C> CreateBare<C> for Runtime
where
	RuntimeCall: From<C>,
{
	fn create_bare(call: RuntimeCall) -> UncheckedExtrinsic {
		UncheckedExtrinsic::new_bare(call)
	}
}

impl<C> CreateAuthorizedTransaction<C> for Runtime
where
	RuntimeCall: From<C>,
{
	fn create_extension() -> TxExtension {
		// Authorized calls carry no signer, so nonce and era are unused: immortal, nonce 0.
		(
			frame_system::AuthorizeCall::<Runtime>::new(),
			frame_system::CheckNonZeroSender::<Runtime>::new(),
			frame_system::CheckSpecVersion::<Runtime>::new(),
			frame_system::CheckTxVersion::<Runtime>::new(),
			frame_system::CheckGenesis::<Runtime>::new(),
			frame_system::CheckEra::<Runtime>::from(generic::Era::Immortal),
			frame_system::CheckNonce::<Runtime>::from(0),
			frame_system::CheckWeight::<Runtime>::new(),
			pallet_transaction_payment::ChargeTransactionPayment::<Runtime>::from(0),
			frame_metadata_hash_extension::CheckMetadataHash::<Runtime>::new(false),
			frame_system::WeightReclaim::<Runtime>::new(),
		)
	}
}
