//! The key type of Verity workers: an sr25519 key under key type `vrty`, held in the node's
//! keystore and used by the off-chain worker to sign results and fraud proofs.

use sp_core::crypto::KeyTypeId;

/// Key type of worker keys in the keystore.
pub const WORKER_KEY_TYPE: KeyTypeId = KeyTypeId(*b"vrty");

mod app {
	use sp_application_crypto::{app_crypto, sr25519};
	app_crypto!(sr25519, super::WORKER_KEY_TYPE);
}

sp_application_crypto::with_pair! {
	/// A worker key pair.
	pub type WorkerPair = app::Pair;
}

/// A worker's public key.
pub type WorkerPublic = app::Public;
/// A worker's signature.
pub type WorkerSignature = app::Signature;

/// Signs off-chain transactions with the worker key: `frame_system::offchain::AppCrypto` for a
/// runtime whose accounts are `MultiSigner`s.
pub struct WorkerAuthId;

impl frame_system::offchain::AppCrypto<sp_runtime::MultiSigner, sp_runtime::MultiSignature>
	for WorkerAuthId
{
	type RuntimeAppPublic = WorkerPublic;
	type GenericSignature = sp_core::sr25519::Signature;
	type GenericPublic = sp_core::sr25519::Public;
}
