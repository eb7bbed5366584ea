//! `verity_*` JSON-RPC: requests, results, receipts, quotes and fraud-proof material as JSON,
//! so that clients and external auditors need not decode storage themselves.
//!
//! Hashes and byte strings are `0x` hex, balances decimal strings (they exceed JSON's safe
//! integers), accounts SS58. Every method reads at the best block.

use std::{str::FromStr, sync::Arc};

use codec::{Decode, Encode};
use jsonrpsee::{
	core::RpcResult,
	proc_macros::rpc,
	types::{ErrorObject, ErrorObjectOwned},
};
use serde_json::{json, Value};
use sp_api::ProvideRuntimeApi;
use sp_blockchain::HeaderBackend;
use sp_core::{crypto::Ss58Codec, H256};
use verity_engine::Tensor;
use verity_primitives::{
	api::VerityApi as VerityRuntimeApi,
	fraud::{first_difference, proof_material, Execution},
	host::ModelRef,
	AssignmentState, Outcome, Receipt, Request, RequestId, RequestStatus, VerificationMode,
};
use verity_runtime::{opaque::Block, AccountId, Balance, BlockNumber};

use crate::worker::{ChainBytes, InferenceService};

/// The `verity_*` methods.
#[rpc(server, namespace = "verity")]
pub trait VerityRpc {
	/// An unfinished request: requester, model, mode, fee, assignments and phase.
	#[method(name = "request")]
	fn request(&self, id: RequestId) -> RpcResult<Option<Value>>;

	/// The result `worker` posted on request `id`: output bytes (SCALE `Vec<Tensor>`), output
	/// hash, trace root, block, and its trace leaves while they are kept.
	#[method(name = "result")]
	fn result(&self, id: RequestId, worker: String) -> RpcResult<Option<Value>>;

	/// The receipt of a finished request.
	#[method(name = "receipt")]
	fn receipt(&self, id: RequestId) -> RpcResult<Option<Value>>;

	/// What a request for `model` in `mode` (`attested`, `optimistic`, `quorum:N`) costs now.
	#[method(name = "quote")]
	fn quote(&self, model: u32, mode: String) -> RpcResult<Option<String>>;

	/// Fraud-proof material against `worker`'s result on request `id`: at `node`, or (without
	/// it) at the first node where `worker`'s trace differs from this node's execution; `null`
	/// when the traces agree. The `challenge` call's `node`, `node_proof` and `inputs`, SCALE
	/// hex, plus the node index. Needs a node started with the worker (`--verity-worker`).
	#[method(name = "proofMaterial", blocking)]
	fn proof_material(
		&self,
		id: RequestId,
		worker: String,
		node: Option<u32>,
	) -> RpcResult<Option<Value>>;
}

/// Reads a model's on-chain bytes at a block.
pub type ChainBytesAt = Arc<dyn Fn(H256) -> ChainBytes + Send + Sync>;

/// Serves [`VerityRpcServer`].
pub struct Verity<C> {
	client: Arc<C>,
	engine: Option<(Arc<InferenceService>, ChainBytesAt)>,
}

impl<C> Verity<C> {
	/// The RPC over `client`; `engine` computes fraud-proof material when the node serves.
	pub fn new(client: Arc<C>, engine: Option<(Arc<InferenceService>, ChainBytesAt)>) -> Self {
		Verity { client, engine }
	}
}

fn error(code: i32, message: impl Into<String>) -> ErrorObjectOwned {
	ErrorObject::owned(code, message.into(), None::<()>)
}

fn api_error(e: impl std::fmt::Display) -> ErrorObjectOwned {
	error(1, format!("runtime API: {e}"))
}

fn account(s: &str) -> RpcResult<AccountId> {
	AccountId::from_ss58check(s)
		.or_else(|_| {
			let bytes = sp_core::bytes::from_hex(s).map_err(|_| ())?;
			<[u8; 32]>::try_from(bytes)
				.map(AccountId::from)
				.map_err(|_| ())
		})
		.map_err(|_| error(2, format!("not an SS58 or 0x-hex account: {s}")))
}

fn hex(bytes: &[u8]) -> String {
	sp_core::bytes::to_hex(bytes, false)
}

fn mode_json(mode: &VerificationMode) -> Value {
	json!(mode.to_string())
}

fn request_json(r: &Request<AccountId, Balance, BlockNumber>) -> Value {
	let status = match r.status {
		RequestStatus::Assigned { deadline } => json!({"phase": "assigned", "deadline": deadline}),
		RequestStatus::Revealing { deadline } => {
			json!({"phase": "revealing", "deadline": deadline})
		}
		RequestStatus::Challengeable { until } => json!({"phase": "challengeable", "until": until}),
		RequestStatus::Disputed { leaf, until } => {
			json!({"phase": "disputed", "leaf": leaf, "until": until})
		}
	};
	let assignments: Vec<Value> = r
		.assignments
		.iter()
		.map(|a| {
			let state = match a.state {
				AssignmentState::Assigned => "assigned",
				AssignmentState::Committed(_) => "committed",
				AssignmentState::Submitted => "submitted",
				AssignmentState::Slashed => "slashed",
			};
			json!({"worker": a.worker.to_ss58check(), "state": state})
		})
		.collect();
	json!({
		"requester": r.requester.to_ss58check(),
		"model": r.model,
		"modelRoot": hex(r.model_root.as_bytes()),
		"mode": mode_json(&r.mode),
		"maxFee": r.max_fee.to_string(),
		"feePerReplica": r.fee_per_replica.to_string(),
		"workerFee": r.worker_fee.to_string(),
		"inputHashes": r.input_hashes.iter().map(|h| hex(h.as_bytes())).collect::<Vec<_>>(),
		"assignments": assignments,
		"missed": r.missed.iter().map(|a| a.to_ss58check()).collect::<Vec<_>>(),
		"status": status,
		"createdAt": r.created_at,
		"expiresAt": r.expires_at,
	})
}

fn receipt_json(r: &Receipt<AccountId, Balance, BlockNumber>) -> Value {
	let (outcome, failed_at) = match r.outcome {
		Outcome::Settled => ("settled", None),
		Outcome::ExecutionFailed { node } => ("executionFailed", Some(node)),
		Outcome::Fraudulent => ("fraudulent", None),
		Outcome::Refunded => ("refunded", None),
	};
	json!({
		"requester": r.requester.to_ss58check(),
		"model": r.model,
		"modelRoot": hex(r.model_root.as_bytes()),
		"inputHash": hex(r.input_hash.as_bytes()),
		"outputHash": hex(r.output_hash.as_bytes()),
		"traceRoot": hex(r.trace_root.as_bytes()),
		"mode": mode_json(&r.mode),
		"workers": r.workers.iter().map(|a| a.to_ss58check()).collect::<Vec<_>>(),
		"paid": r.paid.to_string(),
		"outcome": outcome,
		"failedAt": failed_at,
		"finishedAt": r.finished_at,
		"challengeableUntil": r.challengeable_until,
	})
}

impl<C> VerityRpcServer for Verity<C>
where
	C: ProvideRuntimeApi<Block> + HeaderBackend<Block> + Send + Sync + 'static,
	C::Api: VerityRuntimeApi<Block, AccountId, Balance, BlockNumber>,
{
	fn request(&self, id: RequestId) -> RpcResult<Option<Value>> {
		let best = self.client.info().best_hash;
		let request = self
			.client
			.runtime_api()
			.request(best, id)
			.map_err(api_error)?;
		Ok(request.as_ref().map(request_json))
	}

	fn result(&self, id: RequestId, worker: String) -> RpcResult<Option<Value>> {
		let who = account(&worker)?;
		let best = self.client.info().best_hash;
		let api = self.client.runtime_api();
		let Some(result) = api.result(best, id, who.clone()).map_err(api_error)? else {
			return Ok(None);
		};
		let leaves = api.trace_leaves(best, id, who).map_err(api_error)?;
		Ok(Some(json!({
			"output": hex(&result.output),
			"outputHash": hex(result.output_hash.as_bytes()),
			"traceRoot": hex(result.trace_root.as_bytes()),
			"failedAt": result.failed_at,
			"submittedAt": result.submitted_at,
			"traceLeaves": leaves.map(|l| l.iter().map(|h| hex(h.as_bytes())).collect::<Vec<_>>()),
		})))
	}

	fn receipt(&self, id: RequestId) -> RpcResult<Option<Value>> {
		let best = self.client.info().best_hash;
		let receipt = self
			.client
			.runtime_api()
			.receipt(best, id)
			.map_err(api_error)?;
		Ok(receipt.as_ref().map(receipt_json))
	}

	fn quote(&self, model: u32, mode: String) -> RpcResult<Option<String>> {
		let mode =
			VerificationMode::from_str(&mode).map_err(|e| error(2, format!("{mode:?}: {e}")))?;
		let best = self.client.info().best_hash;
		let quote = self
			.client
			.runtime_api()
			.quote(best, model, mode)
			.map_err(api_error)?;
		Ok(quote.map(|q| q.to_string()))
	}

	fn proof_material(
		&self,
		id: RequestId,
		worker: String,
		node: Option<u32>,
	) -> RpcResult<Option<Value>> {
		let (engine, chain_bytes_at) = self.engine.as_ref().ok_or_else(|| {
			error(
				3,
				"this node does not run the inference engine (start it with --verity-worker)",
			)
		})?;
		let who = account(&worker)?;
		let best = self.client.info().best_hash;
		let api = self.client.runtime_api();
		let (model_id, model_root) = match api.request(best, id).map_err(api_error)? {
			Some(r) => (r.model, r.model_root),
			None => match api.receipt(best, id).map_err(api_error)? {
				Some(r) => (r.model, r.model_root),
				None => return Err(error(4, format!("no request {id}"))),
			},
		};
		let leaves = api
			.trace_leaves(best, id, who)
			.map_err(api_error)?
			.ok_or_else(|| {
				error(
					4,
					format!("no trace of that worker on request {id} is kept"),
				)
			})?;
		let input = api
			.request_input(best, id)
			.map_err(api_error)?
			.ok_or_else(|| error(4, format!("the input of request {id} is no longer kept")))?;
		let inputs = Vec::<Tensor>::decode(&mut &input[..])
			.map_err(|e| error(5, format!("undecodable request input: {e}")))?;
		let info = api
			.model(best, model_id)
			.map_err(api_error)?
			.ok_or_else(|| error(4, format!("no model {model_id}")))?;
		let model = ModelRef::of(model_id, &info);
		if model.model_root != model_root {
			return Err(error(
				5,
				format!("model {model_id} has another root than request {id}"),
			));
		}
		let loaded = engine
			.load_model(&model, chain_bytes_at(best))
			.map_err(|e| error(5, format!("model {model_id}: {e}")))?;
		let program = loaded.prepared.program();
		let index = match node {
			Some(n) => n,
			None => {
				let ours = Execution::run(
					&loaded.prepared,
					&inputs,
					&verity_engine::ExecOptions::default(),
				)
				.map_err(|e| error(5, format!("execution failed: {e}")))?;
				match first_difference(&ours.leaves, ours.failed_at.is_some(), &leaves) {
					Some(i) => i,
					None => return Ok(None),
				}
			}
		};
		let material = proof_material(program, &loaded.tree, &inputs, index)
			.map_err(|e| error(5, format!("no proof material at node {index}: {e:?}")))?;
		Ok(Some(json!({
			"nodeIndex": material.node_index,
			"node": hex(&material.node.encode()),
			"nodeProof": hex(&material.node_proof.encode()),
			"inputs": hex(&material.inputs.encode()),
		})))
	}
}
