//! The smallest runtime that exercises the pallet: System, Balances, a mock model and worker
//! registry that moves real balances (worker bonds are held under its own hold reason, so a
//! slash or a penalty moves real funds), and the inference pallet.

use frame_support::{
	derive_impl, parameter_types,
	traits::{ConstU32, ConstU64, Hooks},
};
use sp_runtime::{BuildStorage, Perbill};
use verity_engine::{
	ir::{BinaryOp, Op, OutputInfo, Program, ValueInfo, ValueRef},
	DType, ModelTree, Tensor, TensorType,
};
use verity_primitives::{
	ModeSet, ModelId, ModelInfo, ModelLocation, ModelStatus, OutputSpec, TensorSpec,
};

use crate as pallet_inference;

pub type AccountId = u64;
pub type Balance = u64;
pub type BlockNumber = u64;
type Block = frame_system::mocking::MockBlock<Test>;

frame_support::construct_runtime!(
	pub enum Test {
		System: frame_system,
		Balances: pallet_balances,
		Registry: registry,
		Inference: pallet_inference,
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
	type RuntimeHoldReason = RuntimeHoldReason;
}

impl<C> frame_system::offchain::CreateTransactionBase<C> for Test
where
	RuntimeCall: From<C>,
{
	type Extrinsic = frame_system::mocking::MockUncheckedExtrinsic<Test>;
	type RuntimeCall = RuntimeCall;
}

impl<C> frame_system::offchain::CreateTransaction<C> for Test
where
	RuntimeCall: From<C>,
{
	type Extension = ();

	fn create_transaction(call: RuntimeCall, extension: ()) -> Self::Extrinsic {
		frame_system::mocking::MockUncheckedExtrinsic::<Test>::new_transaction(call, extension)
	}
}

impl<C> frame_system::offchain::CreateAuthorizedTransaction<C> for Test
where
	RuntimeCall: From<C>,
{
	fn create_extension() {}
}

impl registry::Config for Test {
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
}

/// Receives the protocol's shares.
pub const PROTOCOL: AccountId = 999;
/// Owns the test models.
pub const OWNER: AccountId = 100;
/// Requesters.
pub const ALICE: AccountId = 1;
pub const BOB: AccountId = 2;
/// Challengers.
pub const CHARLIE: AccountId = 20;
pub const DAVE: AccountId = 21;
/// Registered workers (bonded, in this order).
pub const WORKERS: [AccountId; 6] = [10, 11, 12, 13, 14, 15];
/// Bond of each worker.
pub const BOND: Balance = 1_000;
/// Below this bond a worker leaves the active set.
pub const MIN_BOND: Balance = 50;

pub const PRICE: Balance = 5;
pub const WORKER_FEE: Balance = 10;
pub const CHALLENGE_PERIOD: BlockNumber = 5;
pub const RESULT_TIMEOUT: BlockNumber = 3;
pub const REQUEST_LIFETIME: BlockNumber = 12;
pub const RESULT_RETENTION: BlockNumber = 8;
pub const MISS_PENALTY: Balance = 7;
pub const FRAUD_SLASH: Balance = 100;
pub const CHALLENGE_BOND: Balance = 20;

parameter_types! {
	/// `WorkerFee`, settable by tests (a runtime upgrade may change it).
	pub static WorkerFeeValue: Balance = WORKER_FEE;
	/// The model registry's largest node cost a fraud proof may carry, settable by tests.
	pub static MaxNodeCostValue: u64 = u64::MAX;
	pub const ProtocolAccount: AccountId = PROTOCOL;
	pub const ProtocolShare: Perbill = Perbill::from_percent(10);
	pub const RequesterShare: Perbill = Perbill::from_percent(50);
	pub const ChallengerShare: Perbill = Perbill::from_percent(30);
}

impl pallet_inference::Config for Test {
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type Models = Registry;
	type Workers = Registry;
	type WorkerFee = WorkerFeeValue;
	type ProtocolShare = ProtocolShare;
	type ProtocolAccount = ProtocolAccount;
	type ChallengePeriod = ConstU64<CHALLENGE_PERIOD>;
	type ResultTimeout = ConstU64<RESULT_TIMEOUT>;
	type ResultRetention = ConstU64<RESULT_RETENTION>;
	type RequestLifetime = ConstU64<REQUEST_LIFETIME>;
	type MissPenalty = ConstU64<MISS_PENALTY>;
	type FraudSlash = ConstU64<FRAUD_SLASH>;
	type RequesterShare = RequesterShare;
	type ChallengerShare = ChallengerShare;
	type ChallengeBond = ConstU64<CHALLENGE_BOND>;
	type MaxInputBytes = ConstU32<1024>;
	type MaxOutputBytes = ConstU32<1024>;
	type MaxNodes = ConstU32<64>;
	type MaxReplicas = ConstU32<4>;
	type MaxChallengeInputs = ConstU32<8>;
	type MaxDeadlinesPerBlock = ConstU32<8>;
	type WeightInfo = ();
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = Registry;
}

/// A model and worker registry for tests: `pallet-models` and `pallet-workers` reduced to what
/// the inference pallet sees through `ModelRegistry` and `WorkerRegistry`, with worker bonds
/// held for real.
#[frame_support::pallet]
pub mod registry {
	use alloc::vec::Vec;
	use frame_support::{
		pallet_prelude::*,
		traits::{
			fungible::{self, InspectHold, MutateHold},
			tokens::{Fortitude, Precision, Restriction},
		},
	};
	use sp_runtime::DispatchResult;
	use verity_primitives::{
		crypto::WorkerPublic, ModelId, ModelInfo, ModelRegistry, ModelStatus, WorkerRegistry,
	};

	use super::{AccountId, Balance, BlockNumber, MIN_BOND};

	#[pallet::pallet]
	#[pallet::without_storage_info]
	pub struct Pallet<T>(_);

	#[pallet::config]
	pub trait Config: frame_system::Config<AccountId = AccountId> {
		type Currency: fungible::Mutate<AccountId, Balance = Balance>
			+ fungible::MutateHold<AccountId, Reason = Self::RuntimeHoldReason>;
		type RuntimeHoldReason: From<HoldReason>;
	}

	/// Why the registry holds funds.
	#[pallet::composite_enum]
	pub enum HoldReason {
		/// A worker's bond.
		WorkerBond,
	}

	#[pallet::storage]
	pub type Models<T> =
		StorageMap<_, Twox64Concat, ModelId, ModelInfo<AccountId, Balance, BlockNumber>>;

	#[pallet::storage]
	pub type NextModel<T> = StorageValue<_, ModelId, ValueQuery>;

	#[pallet::storage]
	pub type Active<T> = StorageValue<_, Vec<AccountId>, ValueQuery>;

	#[pallet::storage]
	pub type Served<T> = StorageMap<_, Twox64Concat, AccountId, u32, ValueQuery>;

	#[pallet::storage]
	pub type Slashes<T> = StorageMap<_, Twox64Concat, AccountId, u32, ValueQuery>;

	#[pallet::storage]
	pub type Misses<T> = StorageMap<_, Twox64Concat, AccountId, u32, ValueQuery>;

	#[pallet::storage]
	pub type Keys<T> = StorageMap<_, Twox64Concat, AccountId, WorkerPublic>;

	impl<T: Config> Pallet<T> {
		/// Registers a model record as given.
		pub fn add_model(info: ModelInfo<AccountId, Balance, BlockNumber>) -> ModelId {
			let id = NextModel::<T>::get();
			Models::<T>::insert(id, info);
			NextModel::<T>::put(id + 1);
			id
		}

		/// Bonds `bond` of `who`'s balance and makes it an active worker.
		pub fn add_worker(who: AccountId, bond: Balance) {
			T::Currency::hold(&HoldReason::WorkerBond.into(), &who, bond).expect("bond");
			Active::<T>::mutate(|a| a.push(who));
		}

		/// Gives `who` the signing key `key`.
		pub fn set_key(who: AccountId, key: WorkerPublic) {
			Keys::<T>::insert(who, key);
		}

		/// A worker's bond.
		pub fn bond(who: AccountId) -> Balance {
			T::Currency::balance_on_hold(&HoldReason::WorkerBond.into(), &who)
		}

		/// Removes `who` from the active set (as `unbond` would).
		pub fn deactivate(who: AccountId) {
			Active::<T>::mutate(|a| a.retain(|w| *w != who));
		}

		fn take_bond(who: &AccountId, amount: Balance, beneficiary: &AccountId) -> Balance {
			let moved = T::Currency::transfer_on_hold(
				&HoldReason::WorkerBond.into(),
				who,
				beneficiary,
				amount,
				Precision::BestEffort,
				Restriction::Free,
				Fortitude::Force,
			)
			.unwrap_or(0);
			if Self::bond(*who) < MIN_BOND {
				Self::deactivate(*who);
			}
			moved
		}
	}

	impl<T: Config> ModelRegistry<AccountId, Balance, BlockNumber> for Pallet<T> {
		fn model(id: ModelId) -> Option<ModelInfo<AccountId, Balance, BlockNumber>> {
			Models::<T>::get(id)
		}

		fn fits_fraud_proofs(model: &ModelInfo<AccountId, Balance, BlockNumber>) -> bool {
			model.max_node_cost <= super::MaxNodeCostValue::get()
		}

		fn request_opened(id: ModelId) -> DispatchResult {
			Models::<T>::try_mutate(id, |m| {
				let m = m.as_mut().ok_or(DispatchError::Other("unknown model"))?;
				ensure!(
					m.status == ModelStatus::Active,
					DispatchError::Other("deprecated")
				);
				m.in_flight += 1;
				Ok(())
			})
		}

		fn request_closed(id: ModelId) {
			Models::<T>::mutate(id, |m| {
				if let Some(m) = m {
					m.in_flight = m.in_flight.checked_sub(1).expect("closed more than opened");
				}
			});
		}
	}

	impl<T: Config> WorkerRegistry<AccountId, Balance> for Pallet<T> {
		fn is_active(who: &AccountId) -> bool {
			Active::<T>::get().contains(who)
		}

		fn select(seed: &[u8; 32], count: u32, exclude: &[AccountId]) -> Vec<AccountId> {
			let mut candidates: Vec<AccountId> = Active::<T>::get()
				.into_iter()
				.filter(|w| !exclude.contains(w))
				.collect();
			let mut chosen = Vec::new();
			for k in 0..count {
				if candidates.is_empty() {
					break;
				}
				let h = sp_io::hashing::blake2_256(&(seed, k).encode());
				let pick = u64::from_le_bytes(h[..8].try_into().expect("8 bytes"));
				chosen.push(candidates.remove((pick % candidates.len() as u64) as usize));
			}
			chosen
		}

		fn slash(who: &AccountId, amount: Balance, beneficiary: &AccountId) -> Balance {
			Slashes::<T>::mutate(who, |n| *n += 1);
			Self::take_bond(who, amount, beneficiary)
		}

		fn penalise_missed(who: &AccountId, amount: Balance, beneficiary: &AccountId) -> Balance {
			Misses::<T>::mutate(who, |n| *n += 1);
			Self::take_bond(who, amount, beneficiary)
		}

		fn note_served(who: &AccountId) {
			Served::<T>::mutate(who, |n| *n += 1);
		}

		fn bond(who: &AccountId) -> Balance {
			Pallet::<T>::bond(*who)
		}

		fn worker_key(who: &AccountId) -> Option<WorkerPublic> {
			Keys::<T>::get(who)
		}

		fn worker_of_key(key: &WorkerPublic) -> Option<AccountId> {
			Keys::<T>::iter()
				.find(|(_, k)| k == key)
				.map(|(who, _)| who)
		}
	}

	#[cfg(feature = "runtime-benchmarks")]
	impl<T: Config> crate::BenchmarkHelper<AccountId, Balance, BlockNumber> for Pallet<T> {
		fn register_model(info: ModelInfo<AccountId, Balance, BlockNumber>) -> ModelId {
			Self::add_model(info)
		}

		fn register_worker(who: &AccountId) {
			use frame_support::traits::fungible::Mutate;
			T::Currency::mint_into(who, 10 * super::BOND).expect("mint");
			Self::add_worker(*who, 5 * super::BOND);
		}
	}
}

/// The test model: `softmax(relu(x·W + b))` with `x: [1, 4]`, `W: [4, 3]`, `b: [1, 3]`.
pub fn test_program() -> Program {
	let mut p = Program::new();
	p.inputs.push(ValueInfo {
		name: "x".into(),
		ty: TensorType::new(DType::F32, &[1, 4]),
	});
	p.weights.push(
		Tensor::from_f32(
			&[4, 3],
			vec![
				0.5, -1.0, 0.25, 1.5, 0.75, -0.5, -0.25, 0.125, 1.0, 0.3, -0.6, 0.9,
			],
		)
		.expect("W"),
	);
	p.weights
		.push(Tensor::from_f32(&[1, 3], vec![0.1, -0.2, 0.05]).expect("b"));
	let x = push_node(
		&mut p,
		Op::MatMul,
		&[ValueRef::Input(0), ValueRef::Weight(0)],
	);
	let y = push_node(&mut p, Op::Binary(BinaryOp::Add), &[x, ValueRef::Weight(1)]);
	let z = push_node(&mut p, Op::Relu, &[y]);
	let s = push_node(
		&mut p,
		Op::Softmax {
			axis: 1,
			coerce_2d: false,
		},
		&[z],
	);
	p.outputs.push(OutputInfo {
		name: "probs".into(),
		source: s,
	});
	p.validate().expect("valid test program");
	p
}

/// A program whose execution fails on some inputs: `ids: i64[2]` are shifted by one (node 0,
/// `Add`) and look up rows of a `[4, 3]` table (node 1, `Gather`), then `Relu` (node 2). Ids
/// above 2 make node 1 fail (index out of range) after node 0 ran.
pub fn lookup_program() -> Program {
	let mut p = Program::new();
	p.inputs.push(ValueInfo {
		name: "ids".into(),
		ty: TensorType::new(DType::I64, &[2]),
	});
	p.weights
		.push(Tensor::from_i64(&[2], vec![1, 1]).expect("shift"));
	p.weights.push(
		Tensor::from_f32(
			&[4, 3],
			vec![
				0.5, -1.0, 0.25, 1.5, 0.75, -0.5, -0.25, 0.125, 1.0, 0.3, -0.6, 0.9,
			],
		)
		.expect("table"),
	);
	let shifted = push_node(
		&mut p,
		Op::Binary(BinaryOp::Add),
		&[ValueRef::Input(0), ValueRef::Weight(0)],
	);
	let rows = push_node(
		&mut p,
		Op::Gather { axis: 0 },
		&[ValueRef::Weight(1), shifted],
	);
	let out = push_node(&mut p, Op::Relu, &[rows]);
	p.outputs.push(OutputInfo {
		name: "rows".into(),
		source: out,
	});
	p.validate().expect("valid lookup program");
	p
}

pub(crate) use crate::challenge_nodes::push as push_node;

/// The registry record of `program` (price [`PRICE`], every mode allowed).
pub fn model_info(program: &Program) -> ModelInfo<AccountId, Balance, BlockNumber> {
	let tree = ModelTree::new(program);
	let spec = |ty: &TensorType| TensorSpec::from_type(ty).expect("rank");
	ModelInfo {
		owner: OWNER,
		onnx_hash: Default::default(),
		model_root: tree.root().into(),
		compiler_version: 1,
		node_count: program.nodes.len() as u32,
		weight_count: program.weights.len() as u32,
		inputs: program
			.inputs
			.iter()
			.map(|i| spec(&i.ty))
			.collect::<Vec<_>>()
			.try_into()
			.unwrap(),
		outputs: program
			.outputs
			.iter()
			.map(|o| {
				let ValueRef::Node { node, .. } = o.source else {
					panic!("output")
				};
				OutputSpec {
					node,
					spec: spec(&program.value_type(o.source).unwrap()),
				}
			})
			.collect::<Vec<_>>()
			.try_into()
			.unwrap(),
		macs: program.macs(),
		max_node_footprint: program.largest_node_footprint(),
		max_node_cost: program.largest_node_cost(),
		price: PRICE,
		modes: ModeSet::ALL,
		location: ModelLocation::Uri(Default::default()),
		deposit: 0,
		status: ModelStatus::Active,
		in_flight: 0,
		registered_at: 0,
	}
}

/// Initial free balances.
pub fn endowments() -> Vec<(AccountId, Balance)> {
	let mut e = vec![
		(ALICE, 10_000),
		(BOB, 10_000),
		(3, 10_000),
		(CHARLIE, 1_000),
		(DAVE, 1_000),
		(OWNER, 100),
		(PROTOCOL, 1),
	];
	e.extend(WORKERS.iter().map(|w| (*w, 5_000)));
	e
}

/// Genesis with the endowments, the test model as model 0 and every worker bonded.
pub fn new_test_ext() -> sp_io::TestExternalities {
	let mut t = frame_system::GenesisConfig::<Test>::default()
		.build_storage()
		.unwrap();
	pallet_balances::GenesisConfig::<Test> {
		balances: endowments(),
		..Default::default()
	}
	.assimilate_storage(&mut t)
	.unwrap();
	let mut ext = sp_io::TestExternalities::new(t);
	// The worker-signature benchmark signs with a key it generates.
	ext.register_extension(sp_keystore::KeystoreExt::new(
		sp_keystore::testing::MemoryKeystore::new(),
	));
	ext.execute_with(|| {
		System::set_block_number(1);
		let model: ModelId = Registry::add_model(model_info(&test_program()));
		assert_eq!(model, 0);
		for w in WORKERS {
			Registry::add_worker(w, BOND);
		}
	});
	ext
}

/// Advances to block `n`, running `on_initialize` of each new block.
pub fn run_to_block(n: BlockNumber) {
	while System::block_number() < n {
		let next = System::block_number() + 1;
		System::set_block_number(next);
		System::set_parent_hash(sp_core::H256::from_low_u64_be(next));
		Inference::on_initialize(next);
	}
}

/// The events of this pallet so far.
pub fn inference_events() -> Vec<pallet_inference::Event<Test>> {
	System::events()
		.into_iter()
		.filter_map(|r| match r.event {
			RuntimeEvent::Inference(e) => Some(e),
			_ => None,
		})
		.collect()
}
