//! Verity's Rust SDK, on [subxt]: register models, pay for verified inferences and follow them
//! to their receipts, check receipts with a light client, audit results and run workers.
//!
//! The typed API ([`chain`]) is generated from the runtime metadata checked in beside this crate
//! (`metadata.scale`; a node test fails when it drifts from the runtime). Verity's own types
//! (verification modes, requests, receipts, model records and registrations, fraud-proof nodes,
//! Merkle proofs and proven tensors) are the `verity-primitives` / `pallet-models` /
//! `verity-engine` Rust types themselves, wrapped in
//! [`subxt::utils::Static`].
//!
//! ```no_run
//! # async fn demo() -> Result<(), verity_sdk::Error> {
//! use verity_sdk::{keypair, Client, VerificationMode};
//! let client = Client::connect("ws://127.0.0.1:9944").await?;
//! let alice = keypair("//Alice")?;
//! let inputs = vec![/* verity_engine::Tensor, one per model input */];
//! let fee = client.quote(0, VerificationMode::Attested).await?;
//! let id = client.request_inference(&alice, 0, &inputs, VerificationMode::Attested, fee).await?;
//! let done = client.wait(id, std::time::Duration::from_secs(120), |_| {}).await?;
//! println!("{:?} for {}", done.receipt.outcome, done.receipt.paid);
//! # Ok(()) }
//! ```

mod audit;
mod client;
mod error;
mod keys;
pub mod verify;

pub use audit::{Audited, Finding, Verdict};
pub use client::{Client, Finished, Phase, Posted};
pub use error::Error;
pub use keys::{account_of, keypair, keypair_from_file};
pub use subxt::{rpcs as subxt_rpcs, utils::AccountId32 as AccountId};
pub use subxt_signer::sr25519::Keypair;
pub use verity_primitives::{
	io_hash, ModeSet, ModelId, Outcome, RequestId, RequestStatus, VerificationMode,
};

/// The chain's API, generated from the runtime metadata checked in beside this crate.
#[subxt::subxt(
	runtime_metadata_path = "metadata.scale",
	substitute_type(
		path = "pallet_models::types::ModelRegistration<B>",
		with = "::subxt::utils::Static<::pallet_models::ModelRegistration<B, crate::AnyLength>>"
	),
	substitute_type(
		path = "verity_primitives::types::VerificationMode",
		with = "::subxt::utils::Static<::verity_primitives::VerificationMode>"
	),
	substitute_type(
		path = "verity_primitives::types::ModeSet",
		with = "::subxt::utils::Static<::verity_primitives::ModeSet>"
	),
	substitute_type(
		path = "verity_primitives::types::Receipt<A, B, C>",
		with = "::subxt::utils::Static<::verity_primitives::Receipt<A, B, C>>"
	),
	substitute_type(
		path = "verity_primitives::types::Request<A, B, C>",
		with = "::subxt::utils::Static<::verity_primitives::Request<A, B, C>>"
	),
	substitute_type(
		path = "verity_primitives::types::PostedResult<A>",
		with = "::subxt::utils::Static<::verity_primitives::PostedResult<A>>"
	),
	substitute_type(
		path = "verity_primitives::types::ModelInfo<A, B, C>",
		with = "::subxt::utils::Static<::verity_primitives::ModelInfo<A, B, C>>"
	),
	substitute_type(
		path = "pallet_inference::types::ProofNode",
		with = "::subxt::utils::Static<::verity_engine::Node>"
	),
	substitute_type(
		path = "pallet_inference::types::ProofInput",
		with = "::subxt::utils::Static<::verity_primitives::ProvenTensor>"
	),
	substitute_type(
		path = "verity_engine::commit::MerkleProof",
		with = "::subxt::utils::Static<::verity_engine::MerkleProof>"
	)
)]
pub mod chain {}

/// A length bound that admits anything when encoding: the chain checks the real one.
pub type AnyLength = sp_core::ConstU32<{ u32::MAX }>;

/// The chain's balance type (12 decimals: 1 VRT = 10¹² units).
pub type Balance = u128;
/// The chain's block number type.
pub type BlockNumber = u32;
/// A registration as `register_model` takes it.
pub type ModelRegistration = pallet_models::ModelRegistration<Balance, AnyLength>;
/// A model record.
pub type ModelInfo = verity_primitives::ModelInfo<AccountId, Balance, BlockNumber>;
/// An unfinished request.
pub type Request = verity_primitives::Request<AccountId, Balance, BlockNumber>;
/// The receipt of a finished request.
pub type Receipt = verity_primitives::Receipt<AccountId, Balance, BlockNumber>;
/// A result a worker posted.
pub type PostedResult = verity_primitives::PostedResult<BlockNumber>;
/// A worker record (key, bond, status, counters).
pub type WorkerInfo = chain::runtime_types::pallet_workers::types::WorkerInfo<Balance, BlockNumber>;
/// Where a worker stands: active, suspended or unbonding.
pub use chain::runtime_types::pallet_workers::types::WorkerStatus;
/// The subxt configuration of Verity chains (SS58 accounts, multi-signatures, blake2 hashing).
pub type Config = subxt::PolkadotConfig;

#[cfg(test)]
mod tests {
	use codec::Encode;
	use verity_engine::{Tensor, TensorData};

	/// The `input` encoding example of docs/protocol.md is what the SDK sends.
	#[test]
	fn protocol_doc_input_example_is_the_encoding() {
		let t = Tensor::new(vec![1, 2], TensorData::F32(vec![1.0, -2.0])).expect("a tensor");
		let hex = format!("0x{}", hex::encode(vec![t].encode()));
		assert_eq!(
			hex,
			"0x04000801000000000000000200000000000000200000803f000000c0"
		);
		let doc = include_str!("../../../docs/protocol.md");
		assert!(doc.contains(&hex), "docs/protocol.md shows {hex}");
	}

	#[test]
	fn secret_uris() {
		let alice = crate::keypair("//Alice").expect("a dev seed");
		assert_eq!(
			crate::account_of(&alice).to_string(),
			"5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY"
		);
		assert!(matches!(
			crate::keypair("not a secret"),
			Err(crate::Error::BadSecret(_))
		));
	}
}
