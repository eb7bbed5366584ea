//! The node's JSON-RPC extensions beyond the standard `system_*`, `chain_*`, `state_*` and
//! `author_*` methods that `sc-service` installs.

pub mod verity;

use std::sync::Arc;

use jsonrpsee::RpcModule;
use sc_transaction_pool_api::TransactionPool;
use sp_api::ProvideRuntimeApi;
use sp_block_builder::BlockBuilder;
use sp_blockchain::{Error as BlockChainError, HeaderBackend, HeaderMetadata};
use verity_runtime::{opaque::Block, AccountId, Balance, BlockNumber, Nonce};

/// What the RPC extensions need from the node.
pub struct FullDeps<C, P> {
	/// The client.
	pub client: Arc<C>,
	/// The transaction pool.
	pub pool: Arc<P>,
	/// The inference engine, when this node serves (for `verity_proofMaterial`).
	pub engine: Option<(Arc<crate::worker::InferenceService>, verity::ChainBytesAt)>,
}

/// The RPC extensions: account nonces (`system_accountNextIndex`, `system_dryRun`), fee
/// queries (`payment_queryInfo`, `payment_queryFeeDetails`) and `verity_*`.
pub fn create_full<C, P>(
	deps: FullDeps<C, P>,
) -> Result<RpcModule<()>, Box<dyn std::error::Error + Send + Sync>>
where
	C: ProvideRuntimeApi<Block>
		+ HeaderBackend<Block>
		+ HeaderMetadata<Block, Error = BlockChainError>
		+ Send
		+ Sync
		+ 'static,
	C::Api: substrate_frame_rpc_system::AccountNonceApi<Block, AccountId, Nonce>
		+ pallet_transaction_payment_rpc::TransactionPaymentRuntimeApi<Block, Balance>
		+ BlockBuilder<Block>
		+ verity_primitives::api::VerityApi<Block, AccountId, Balance, BlockNumber>,
	P: TransactionPool + 'static,
{
	use pallet_transaction_payment_rpc::{TransactionPayment, TransactionPaymentApiServer};
	use substrate_frame_rpc_system::{System, SystemApiServer};

	use verity::{Verity, VerityRpcServer};

	let FullDeps {
		client,
		pool,
		engine,
	} = deps;
	let mut module = RpcModule::new(());
	module.merge(System::new(client.clone(), pool).into_rpc())?;
	module.merge(TransactionPayment::new(client.clone()).into_rpc())?;
	module.merge(Verity::new(client, engine).into_rpc())?;
	Ok(module)
}
