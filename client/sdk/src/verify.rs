//! Receipt checks that do not trust the RPC node.
//!
//! [`finalized_receipt`] reads a receipt through an embedded light client (smoldot, via subxt's
//! `light-client` feature) started from the chain spec alone: it syncs from the spec's genesis,
//! checks every header's Aura seal and the GRANDPA finality proofs (warp sync) against the
//! genesis authority set, and checks the storage proof of the receipt against the state root of
//! the finalized header it reached. What is trusted is the chain spec (its genesis state) and
//! that more than two thirds of the GRANDPA authorities are honest; peers and the RPC node only
//! supply data that is checked.
//!
//! [`outputs_match`] checks that output tensors are the ones a receipt commits to.

use std::time::{Duration, Instant};

use subxt::{
	lightclient::{ChainConfig, LightClient},
	OnlineClient,
};
use verity_engine::{tensor_hash, Tensor};
use verity_primitives::io_hash;

use crate::{chain, Config, Error, Receipt, RequestId};

/// A receipt as a light client proved it.
#[derive(Clone, Debug)]
pub struct ProvenReceipt {
	/// The receipt.
	pub receipt: Receipt,
	/// Number of the GRANDPA-finalized block whose state holds it.
	pub block_number: u32,
	/// Hash of that block.
	pub block_hash: [u8; 32],
}

/// Reads the receipt of request `id` through a light client started from `chain_spec` (a raw
/// chain spec, JSON) and `bootnodes` (multiaddresses with `/p2p/<peer id>`; the spec's own when
/// empty). Waits up to `timeout` for the light client to reach a finalized block holding the
/// receipt.
pub async fn finalized_receipt(
	chain_spec: &str,
	bootnodes: &[String],
	id: RequestId,
	timeout: Duration,
) -> Result<ProvenReceipt, Error> {
	let mut config = ChainConfig::chain_spec(chain_spec);
	if !bootnodes.is_empty() {
		config = config
			.set_bootnodes(bootnodes.iter().map(String::as_str))
			.map_err(|e| Error::Verification(format!("chain spec: {e}")))?;
	}
	let (_light_client, rpc) = LightClient::relay_chain(config)
		.map_err(|e| Error::Verification(format!("light client: {e}")))?;
	let api = tokio::time::timeout(timeout, OnlineClient::<Config>::from_rpc_client(rpc))
		.await
		.map_err(|_| Error::Timeout {
			what: "the light client to sync".into(),
			secs: timeout.as_secs(),
		})?
		.map_err(|e| Error::Verification(format!("light client: {e}")))?;
	let deadline = Instant::now() + timeout;
	let mut blocks = api.stream_blocks().await.map_err(Error::chain)?;
	loop {
		let at = api.at_current_block().await.map_err(Error::chain)?;
		let receipt = at
			.storage()
			.try_fetch(chain::storage().inference().receipts(), (id,))
			.await
			.map_err(Error::chain)?;
		if let Some(receipt) = receipt {
			return Ok(ProvenReceipt {
				receipt: receipt.decode().map_err(Error::chain)?.0,
				block_number: at.block_number() as u32,
				block_hash: at.block_hash().0,
			});
		}
		// Not finalized yet (or no such receipt): wait for the next finalized block.
		let left = deadline.saturating_duration_since(Instant::now());
		match tokio::time::timeout(left, blocks.next()).await {
			Ok(Some(_)) => continue,
			Ok(None) => return Err(Error::Chain("the light client stopped".into())),
			Err(_) => {
				return Err(Error::Verification(format!(
					"no receipt of request {id} in the finalized state (block #{})",
					at.block_number()
				)))
			}
		}
	}
}

/// Whether `outputs` (in the model's output order) are the outputs `receipt` commits to.
pub fn outputs_match(receipt: &Receipt, outputs: &[Tensor]) -> bool {
	let hashes: Vec<sp_core::H256> = outputs
		.iter()
		.map(|t| sp_core::H256(tensor_hash(t)))
		.collect();
	io_hash(&hashes) == receipt.output_hash
}
