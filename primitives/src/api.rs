//! The `VerityApi` runtime API: what clients, the node and tests read from the runtime, and
//! single-node execution inside the runtime (wasm) for comparing it with native execution.

use alloc::vec::Vec;
use codec::Codec;
use verity_engine::{ir::Node, Tensor};

use crate::types::{
	ModelId, ModelInfo, PostedResult, Receipt, Request, RequestId, VerificationMode,
};

sp_api::decl_runtime_apis! {
	/// Models, requests, results and receipts, and the canonical executor.
	pub trait VerityApi<AccountId, Balance, BlockNumber>
	where
		AccountId: Codec,
		Balance: Codec,
		BlockNumber: Codec,
	{
		/// A registered model.
		fn model(id: ModelId) -> Option<ModelInfo<AccountId, Balance, BlockNumber>>;

		/// An unfinished request.
		fn request(id: RequestId) -> Option<Request<AccountId, Balance, BlockNumber>>;

		/// The input (SCALE `Vec<Tensor>`) of request `id`, while it is kept.
		fn request_input(id: RequestId) -> Option<Vec<u8>>;

		/// The result `worker` posted for request `id`.
		fn result(id: RequestId, worker: AccountId) -> Option<PostedResult<BlockNumber>>;

		/// The trace leaves `worker` posted for request `id`, while they are kept.
		fn trace_leaves(id: RequestId, worker: AccountId) -> Option<Vec<sp_core::H256>>;

		/// The receipt of a finished request.
		fn receipt(id: RequestId) -> Option<Receipt<AccountId, Balance, BlockNumber>>;

		/// What a request for `model` in `mode` costs now (the least `max_fee` accepted).
		fn quote(model: ModelId, mode: VerificationMode) -> Option<Balance>;

		/// Runs one node with the canonical executor, as a fraud proof does, and returns its
		/// outputs or the executor's error message.
		fn execute_node(node: Node, inputs: Vec<Option<Tensor>>) -> Result<Vec<Tensor>, Vec<u8>>;
	}
}
