//! Genesis presets: `development` (one validator, Alice) and `local_testnet` (Alice, Bob and
//! Charlie validate). Both endow the well-known dev accounts, make Alice sudo and register the
//! validators as inference workers, and register the demo model (the digits MLP in
//! `models/mlp-digits`, stored on chain) as model 0.

use alloc::{vec, vec::Vec};
use frame_support::build_struct_json_patch;
use serde_json::Value;
use sp_consensus_aura::sr25519::AuthorityId as AuraId;
use sp_consensus_grandpa::AuthorityId as GrandpaId;
use sp_genesis_builder::{PresetId, DEV_RUNTIME_PRESET, LOCAL_TESTNET_RUNTIME_PRESET};
use sp_keyring::{Ed25519Keyring, Sr25519Keyring};

use codec::Decode;
use sp_core::H256;
use verity_engine::Program;
use verity_primitives::{crypto::WorkerPublic, ModeSet};

use crate::{
	configs::ProtocolAccount, opaque::SessionKeys, AccountId, Balance, BalancesConfig,
	ModelsConfig, RuntimeGenesisConfig, SessionConfig, SudoConfig, ValidatorsConfig, WorkersConfig,
	MILLI_UNIT, UNIT,
};

/// What each well-known dev account holds at genesis.
pub const DEV_ENDOWMENT: Balance = 1_000_000 * UNIT;
/// The bond each genesis worker holds.
pub const GENESIS_WORKER_BOND: Balance = 10_000 * UNIT;
/// The demo model's royalty per inference.
pub const DEMO_MODEL_PRICE: Balance = 50 * MILLI_UNIT;

/// The demo model: ONNX bytes, the canonical program `verity model compile` makes of them (for
/// a batch of one), and the version of that compiler. A test in `runtime/tests` recompiles the
/// ONNX and fails if these drift.
pub const DEMO_MODEL_ONNX: &[u8] = include_bytes!("../../models/mlp-digits/model.onnx");
pub const DEMO_MODEL_PROGRAM: &[u8] = include_bytes!("../../models/mlp-digits/model.program");
pub const DEMO_MODEL_COMPILER_VERSION: u32 = 2;

/// The demo model's registration, owned by Alice.
fn demo_model() -> Option<(
	AccountId,
	pallet_models::ModelRegistrationOf<crate::Runtime>,
)> {
	let program = Program::decode(&mut &DEMO_MODEL_PROGRAM[..]).ok()?;
	let registration = pallet_models::ModelRegistration::for_program(
		&program,
		H256(verity_engine::commit::blake2_256(DEMO_MODEL_ONNX)),
		DEMO_MODEL_COMPILER_VERSION,
		DEMO_MODEL_PRICE,
		ModeSet::ALL,
		Some(DEMO_MODEL_ONNX.to_vec().try_into().ok()?),
		None,
	)?;
	Some((Sr25519Keyring::Alice.to_account_id(), registration))
}

/// A genesis patch with the given validators (account and session keys), workers, models,
/// endowed accounts and sudo key. The session pallet's genesis sets Aura's and GRANDPA's
/// authorities from the validators' keys.
fn verity_genesis(
	validators: &[(AccountId, SessionKeys)],
	workers: &[Sr25519Keyring],
	models: Vec<(
		AccountId,
		pallet_models::ModelRegistrationOf<crate::Runtime>,
	)>,
	endowed: Vec<AccountId>,
	root: AccountId,
) -> Value {
	build_struct_json_patch!(RuntimeGenesisConfig {
		balances: BalancesConfig {
			balances: endowed
				.into_iter()
				.map(|account| (account, DEV_ENDOWMENT))
				// Fees and slashes pass through the protocol account: it must exist.
				.chain(core::iter::once((
					ProtocolAccount::get(),
					crate::EXISTENTIAL_DEPOSIT
				)))
				.collect(),
		},
		validators: ValidatorsConfig {
			validators: validators.iter().map(|(who, _)| who.clone()).collect(),
		},
		session: SessionConfig {
			keys: validators
				.iter()
				.map(|(who, keys)| (who.clone(), who.clone(), keys.clone()))
				.collect(),
		},
		sudo: SudoConfig { key: Some(root) },
		workers: WorkersConfig {
			workers: workers
				.iter()
				.map(|k| (
					k.to_account_id(),
					WorkerPublic::from(k.public()),
					GENESIS_WORKER_BOND
				))
				.collect(),
		},
		models: ModelsConfig { models },
	})
}

/// A dev validator: its account and the session keys it derives from its name (Aura and `vrty`
/// sr25519, GRANDPA ed25519), as `--alice` etc. insert them into the keystore.
fn dev_validator(sr: Sr25519Keyring, ed: Ed25519Keyring) -> (AccountId, SessionKeys) {
	let keys = SessionKeys {
		aura: AuraId::from(sr.public()),
		grandpa: GrandpaId::from(ed.public()),
		verity: WorkerPublic::from(sr.public()),
	};
	(sr.to_account_id(), keys)
}

fn dev_accounts() -> Vec<AccountId> {
	Sr25519Keyring::well_known()
		.map(|k| k.to_account_id())
		.collect()
}

/// The `development` preset: Alice alone authors and finalizes.
pub fn development_config_genesis() -> Value {
	verity_genesis(
		&[dev_validator(Sr25519Keyring::Alice, Ed25519Keyring::Alice)],
		&[Sr25519Keyring::Alice],
		demo_model().into_iter().collect(),
		dev_accounts(),
		Sr25519Keyring::Alice.to_account_id(),
	)
}

/// The `local_testnet` preset: Alice, Bob and Charlie author and finalize.
pub fn local_config_genesis() -> Value {
	verity_genesis(
		&[
			dev_validator(Sr25519Keyring::Alice, Ed25519Keyring::Alice),
			dev_validator(Sr25519Keyring::Bob, Ed25519Keyring::Bob),
			dev_validator(Sr25519Keyring::Charlie, Ed25519Keyring::Charlie),
		],
		&[
			Sr25519Keyring::Alice,
			Sr25519Keyring::Bob,
			Sr25519Keyring::Charlie,
		],
		demo_model().into_iter().collect(),
		dev_accounts(),
		Sr25519Keyring::Alice.to_account_id(),
	)
}

/// The JSON patch of the preset named `id`, if there is one.
pub fn get_preset(id: &PresetId) -> Option<Vec<u8>> {
	let patch = match id.as_ref() {
		DEV_RUNTIME_PRESET => development_config_genesis(),
		LOCAL_TESTNET_RUNTIME_PRESET => local_config_genesis(),
		_ => return None,
	};
	serde_json::to_vec(&patch).ok()
}

/// The names of the presets this runtime offers.
pub fn preset_names() -> Vec<PresetId> {
	vec![
		PresetId::from(DEV_RUNTIME_PRESET),
		PresetId::from(LOCAL_TESTNET_RUNTIME_PRESET),
	]
}
