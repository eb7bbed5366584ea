//! Accounts from secret URIs: dev seeds (`//Alice`), mnemonics (with `//hard` / `/soft`
//! derivations and `///password`) and raw `0x` seeds.

use std::{path::Path, str::FromStr};

use subxt_signer::{sr25519::Keypair, SecretUri};

use crate::{AccountId, Error};

/// The sr25519 key pair of a secret URI.
pub fn keypair(suri: &str) -> Result<Keypair, Error> {
	let uri = SecretUri::from_str(suri.trim()).map_err(|e| Error::BadSecret(e.to_string()))?;
	Keypair::from_uri(&uri).map_err(|e| Error::BadSecret(e.to_string()))
}

/// The key pair of the secret URI in the first line of `path` (a file only its owner reads).
pub fn keypair_from_file(path: &Path) -> Result<Keypair, Error> {
	let text = std::fs::read_to_string(path)
		.map_err(|e| Error::BadSecret(format!("{}: {e}", path.display())))?;
	let line = text.lines().next().unwrap_or_default();
	keypair(line).map_err(|e| Error::BadSecret(format!("{}: {e}", path.display())))
}

/// The account a key pair signs for.
pub fn account_of(pair: &Keypair) -> AccountId {
	pair.public_key().to_account_id()
}
