//! Who takes part in the property test's sequences, what each holds at genesis, and the genesis
//! itself: the real pallets at the runtime's production constants, with six workers bonded at
//! or near `MinWorkerBond` (so that a few slashes exhaust a bond) and three models of different
//! prices, modes and owners. Several accounts have more than one role: a worker that owns a
//! model and requests, a requester that owns a model, an owner that audits.

use sp_core::{sr25519, storage::Storage};
use verity_primitives::crypto::WorkerPublic;
use verity_runtime::{
	configs::ProtocolAccount, AccountId, Balance, BuildStorage, RuntimeGenesisConfig,
	EXISTENTIAL_DEPOSIT, UNIT,
};

use super::programs::TestModel;

/// A party, by its index in [`PARTIES`] ([`PROTOCOL`] is the protocol account).
pub type Who = usize;

/// One account of the test.
pub struct Party {
	/// Name in logs.
	pub name: &'static str,
	/// Balance at genesis (the bond is held out of it).
	pub endowment: Balance,
	/// Bond of a worker registered at genesis.
	pub bond: Option<Balance>,
}

const fn party(name: &'static str, endowment: Balance, bond: Option<Balance>) -> Party {
	Party {
		name,
		endowment: endowment * UNIT,
		bond,
	}
}

/// Every account but the protocol's. A worker's free balance is its endowment less its bond.
pub const PARTIES: [Party; 15] = [
	// At the minimum bond, with just enough free balance for one challenge bond.
	party("W0", 1_150, Some(1_000 * UNIT)),
	// Just above the minimum; owns the `mix` model and requests it.
	party("W1", 6_010, Some(1_010 * UNIT)),
	// Five fraud slashes deep.
	party("W2", 4_600, Some(2_600 * UNIT)),
	// Three slashes deep, too poor to put up a challenge bond.
	party("W3", 1_550, Some(1_500 * UNIT)),
	// At the minimum bond; also a requester.
	party("W4", 4_000, Some(1_000 * UNIT)),
	// A large bond.
	party("W5", 5_000, Some(4_000 * UNIT)),
	// Not workers at genesis: they may register later.
	party("N0", 3_000, None),
	party("N1", 1_050, None),
	// Requesters; R1 owns the free `lookup` model; R2 can afford a few requests only.
	party("R0", 1_000_000, None),
	party("R1", 1_000_000, None),
	party("R2", 1, None),
	// Owns the `mlp` model; also requests and audits.
	party("O0", 500, None),
	// Auditors: a rich one, one that can put up a single bond, one that cannot.
	party("C0", 100_000, None),
	party("C1", 150, None),
	party("C2", 60, None),
];

pub const W0: Who = 0;
pub const W1: Who = 1;
pub const W2: Who = 2;
pub const W3: Who = 3;
pub const W4: Who = 4;
pub const W5: Who = 5;
pub const N0: Who = 6;
pub const N1: Who = 7;
pub const R0: Who = 8;
pub const R1: Who = 9;
pub const R2: Who = 10;
pub const O0: Who = 11;
pub const C0: Who = 12;
pub const C1: Who = 13;
pub const C2: Who = 14;
/// The protocol account (`ProtocolAccount`), endowed with the existential deposit.
pub const PROTOCOL: Who = 15;

/// Accounts that are or may become workers.
pub const WORKERS: [Who; 8] = [W0, W1, W2, W3, W4, W5, N0, N1];

/// The owner of each test model, by model id.
pub const OWNERS: [Who; 3] = [O0, R1, W1];

/// The account of each party, [`PROTOCOL`] last.
pub fn accounts() -> Vec<AccountId> {
	let mut accounts: Vec<AccountId> = (0..PARTIES.len())
		.map(|i| {
			let mut raw = [0x5a; 32];
			raw[0] = i as u8;
			AccountId::from(raw)
		})
		.collect();
	accounts.push(ProtocolAccount::get());
	accounts
}

/// The name of party `who`.
pub fn name(who: Who) -> &'static str {
	PARTIES.get(who).map_or("protocol", |p| p.name)
}

/// The worker key party `who` registers with (its own; any other is already in use).
pub fn key(who: Who) -> WorkerPublic {
	WorkerPublic::from(sr25519::Public::from_raw([0xa0 + who as u8; 32]))
}

/// What every party holds at genesis, the protocol's existential deposit included.
pub fn endowments() -> Vec<Balance> {
	PARTIES
		.iter()
		.map(|p| p.endowment)
		.chain(core::iter::once(EXISTENTIAL_DEPOSIT))
		.collect()
}

/// The genesis storage every sequence starts from: endowments, the genesis workers and the
/// test models registered by their owners (at a URI, so no bytes are stored).
pub fn genesis(models: &[TestModel]) -> Storage {
	let accounts = accounts();
	let mut config = RuntimeGenesisConfig::default();
	config.balances.balances = accounts.iter().cloned().zip(endowments()).collect();
	config.workers.workers = PARTIES
		.iter()
		.enumerate()
		.filter_map(|(i, p)| Some((accounts[i].clone(), key(i), p.bond?)))
		.collect();
	config.models.models = models
		.iter()
		.zip(OWNERS)
		.map(|(m, owner)| {
			let registration = pallet_models::ModelRegistration::for_program(
				&m.program,
				sp_core::H256(verity_engine::commit::blake2_256(m.name.as_bytes())),
				1,
				m.price,
				m.modes,
				None,
				Some(
					format!("ipfs://verity-test/{}", m.name)
						.into_bytes()
						.try_into()
						.expect("a short URI"),
				),
			)
			.expect("the test programs have node outputs");
			(accounts[owner].clone(), registration)
		})
		.collect();
	config.build_storage().expect("the test genesis is valid")
}
