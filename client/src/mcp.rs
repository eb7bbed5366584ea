//! `verity mcp`: a Model Context Protocol server on stdio, so that an AI agent can buy a
//! verified inference with one tool call.
//!
//! Tools: `list_models`, `quote`, `infer` (pays, waits for the receipt, returns the outputs
//! with the receipt and what was verified) and `verify_receipt` (the light-client check of
//! `verity receipt verify`, when the server was given a chain spec). What the server may spend
//! is bounded by `--max-spend`: a request is refused unless everything already paid plus the
//! new request's maximum fee fits.

use std::{
	path::PathBuf,
	sync::{Arc, Mutex},
	time::Duration,
};

use anyhow::{Context, Result};
use clap::Args;
use rmcp::{
	handler::server::{router::tool::ToolRouter, wrapper::Parameters},
	model::{ServerCapabilities, ServerConfig},
	tool, tool_handler, tool_router, ServerHandler, ServiceExt,
};
use serde::Deserialize;
use serde_json::{json, Value};
use verity_engine::{DType, Tensor, TensorData};
use verity_sdk::{verify, Balance, Client, Keypair, ModelId, ModelInfo, RequestId};

use crate::chain::{
	hex32, outcome_name, parse_amount, parse_mode, receipt_json, runtime, vrt, ChainArgs,
};

/// `verity mcp`.
#[derive(Args)]
pub struct McpArgs {
	/// The most the server may spend over its lifetime (`5VRT` or units).
	#[arg(long)]
	max_spend: String,
	/// A raw chain spec: enables `verify_receipt` (light-client checks).
	#[arg(long)]
	chain_spec: Option<PathBuf>,
	/// Peers for the light client (default: the spec's, or the RPC node's own addresses).
	#[arg(long)]
	bootnode: Vec<String>,
	/// Seconds `infer` waits for a receipt.
	#[arg(long, default_value_t = 300)]
	timeout: u64,
	#[command(flatten)]
	chain: ChainArgs,
}

impl McpArgs {
	/// Serves MCP on stdin/stdout until the client closes it.
	pub fn run(self) -> Result<()> {
		runtime()?.block_on(async {
			let max_spend = parse_amount(&self.max_spend)?;
			let signer = self.chain.signer()?;
			let client = self.chain.client().await?;
			let chain_spec = match &self.chain_spec {
				Some(p) => Some(
					std::fs::read_to_string(p)
						.with_context(|| format!("reading {}", p.display()))?,
				),
				None => None,
			};
			let server = VerityMcp {
				client,
				signer: Arc::new(signer),
				budget: Arc::new(Mutex::new(Budget {
					max: max_spend,
					committed: 0,
				})),
				chain_spec,
				bootnodes: self.bootnode.clone(),
				timeout: Duration::from_secs(self.timeout),
				tool_router: VerityMcp::tool_router(),
			};
			let service = server
				.serve(rmcp::transport::stdio())
				.await
				.context("starting the MCP server on stdio")?;
			service.waiting().await.context("MCP server")?;
			Ok(())
		})
	}
}

/// Spending so far: paid fees plus the maximum fees of requests in flight.
struct Budget {
	max: Balance,
	committed: Balance,
}

#[derive(Clone)]
struct VerityMcp {
	client: Client,
	signer: Arc<Keypair>,
	budget: Arc<Mutex<Budget>>,
	chain_spec: Option<String>,
	bootnodes: Vec<String>,
	timeout: Duration,
	#[allow(dead_code)] // read by the `tool_handler` expansion
	tool_router: ToolRouter<VerityMcp>,
}

#[derive(Deserialize, schemars::JsonSchema)]
struct QuoteParams {
	/// The model id.
	model: ModelId,
	/// `attested` (default), `optimistic` or `quorum:N`.
	mode: Option<String>,
}

#[derive(Deserialize, schemars::JsonSchema)]
struct InferParams {
	/// The model id (see `list_models`).
	model: ModelId,
	/// One flat array of numbers per model input, in the model's input order, row-major; the
	/// dtype and shape are the model's (see `list_models`).
	inputs: Vec<Vec<f64>>,
	/// `attested` (default), `optimistic` or `quorum:N`.
	mode: Option<String>,
	/// The most to pay for this request (`0.1VRT` or units); the current quote when absent.
	max_fee: Option<String>,
}

#[derive(Deserialize, schemars::JsonSchema)]
struct VerifyParams {
	/// The request id.
	request: RequestId,
	/// Optionally the outputs to check against the receipt's output hash: one flat array per
	/// model output, in order (as `infer` returns them).
	outputs: Option<Vec<Vec<f64>>>,
}

fn dtype_name(d: DType) -> String {
	d.to_string()
}

fn model_json(id: ModelId, m: &ModelInfo) -> Value {
	json!({
		"id": id,
		"modelRoot": hex32(m.model_root.as_bytes()),
		"inputs": m.inputs.iter().map(|s| json!({"dtype": dtype_name(s.dtype), "shape": &s.shape[..]})).collect::<Vec<_>>(),
		"outputs": m.outputs.iter().map(|s| json!({"dtype": dtype_name(s.spec.dtype), "shape": &s.spec.shape[..]})).collect::<Vec<_>>(),
		"nodes": m.node_count,
		"price": vrt(m.price),
		"modes": {
			"attested": m.modes.allows(&verity_sdk::VerificationMode::Attested),
			"optimistic": m.modes.allows(&verity_sdk::VerificationMode::Optimistic),
			"quorum": m.modes.allows(&verity_sdk::VerificationMode::Quorum(1)),
		},
		"status": format!("{:?}", m.status),
	})
}

/// A flat array of numbers as a tensor of `dtype` and `shape`, rejecting values the dtype
/// cannot hold exactly.
fn tensor_of(dtype: DType, shape: &[u64], data: &[f64], what: &str) -> Result<Tensor, String> {
	let dims: Vec<usize> = shape.iter().map(|d| *d as usize).collect();
	let int = |v: f64, lo: f64, hi: f64| -> Result<f64, String> {
		if v.fract() != 0.0 || v < lo || v > hi {
			return Err(format!("{what}: {v} is not a {dtype} value"));
		}
		Ok(v)
	};
	let data = match dtype {
		DType::F32 => TensorData::F32(data.iter().map(|v| *v as f32).collect()),
		DType::I64 => TensorData::I64(
			data.iter()
				.map(|v| int(*v, -9.0e15, 9.0e15).map(|v| v as i64))
				.collect::<Result<_, _>>()?,
		),
		DType::I32 => TensorData::I32(
			data.iter()
				.map(|v| int(*v, i32::MIN as f64, i32::MAX as f64).map(|v| v as i32))
				.collect::<Result<_, _>>()?,
		),
		DType::I8 => TensorData::I8(
			data.iter()
				.map(|v| int(*v, -128.0, 127.0).map(|v| v as i8))
				.collect::<Result<_, _>>()?,
		),
		DType::U8 => TensorData::U8(
			data.iter()
				.map(|v| int(*v, 0.0, 255.0).map(|v| v as u8))
				.collect::<Result<_, _>>()?,
		),
		DType::Bool => TensorData::Bool(
			data.iter()
				.map(|v| int(*v, 0.0, 1.0).map(|v| v == 1.0))
				.collect::<Result<_, _>>()?,
		),
	};
	Tensor::new(dims, data).map_err(|e| format!("{what}: {e:?} (shape {shape:?})"))
}

fn tensor_json(t: &Tensor) -> Value {
	let data = match t.data() {
		TensorData::F32(v) => json!(v),
		TensorData::I64(v) => json!(v),
		TensorData::I32(v) => json!(v),
		TensorData::I8(v) => json!(v),
		TensorData::U8(v) => json!(v),
		TensorData::Bool(v) => json!(v),
	};
	json!({"dtype": dtype_name(t.dtype()), "shape": t.shape(), "data": data})
}

impl VerityMcp {
	async fn proven(&self, request: RequestId) -> Result<Option<verify::ProvenReceipt>, String> {
		let Some(spec) = &self.chain_spec else {
			return Ok(None);
		};
		let bootnodes = match self.bootnodes.is_empty() {
			false => self.bootnodes.clone(),
			true => crate::chain::node_addresses(&self.client)
				.await
				.map_err(|e| format!("{e:#}"))?,
		};
		verify::finalized_receipt(spec, &bootnodes, request, self.timeout)
			.await
			.map(Some)
			.map_err(|e| e.to_string())
	}
}

#[tool_router]
impl VerityMcp {
	#[tool(
		description = "List the models registered on the Verity chain: id, model root, input and output dtypes and shapes, price per inference, allowed verification modes, status."
	)]
	async fn list_models(&self) -> Result<String, String> {
		let models = self.client.models().await.map_err(|e| e.to_string())?;
		let list: Vec<Value> = models.iter().map(|(id, m)| model_json(*id, m)).collect();
		Ok(json!({ "models": list }).to_string())
	}

	#[tool(description = "What a verified inference of a model costs now, in VRT and units.")]
	async fn quote(&self, Parameters(p): Parameters<QuoteParams>) -> Result<String, String> {
		let mode =
			parse_mode(p.mode.as_deref().unwrap_or("attested")).map_err(|e| e.to_string())?;
		let fee = self
			.client
			.quote(p.model, mode)
			.await
			.map_err(|e| e.to_string())?;
		let budget = self.budget.lock().expect("budget lock");
		Ok(json!({
			"model": p.model,
			"fee": vrt(fee),
			"feeUnits": fee.to_string(),
			"budgetLeft": vrt(budget.max.saturating_sub(budget.committed)),
		})
		.to_string())
	}

	#[tool(
		description = "Pay for a verified inference of a model on the given inputs and wait for it to settle. Returns the output tensors, the on-chain receipt (model root, input/output hashes, trace root, workers, fee paid) and what was verified: that the outputs hash to the receipt's output hash and, when the server has a chain spec, that a light client proved the receipt in GRANDPA-finalized state. Spends at most max_fee (default: the quote), within the server's budget."
	)]
	async fn infer(&self, Parameters(p): Parameters<InferParams>) -> Result<String, String> {
		let mode =
			parse_mode(p.mode.as_deref().unwrap_or("attested")).map_err(|e| e.to_string())?;
		let info = self
			.client
			.model(p.model)
			.await
			.map_err(|e| e.to_string())?;
		if p.inputs.len() != info.inputs.len() {
			return Err(format!(
				"model {} takes {} inputs, {} given",
				p.model,
				info.inputs.len(),
				p.inputs.len()
			));
		}
		let inputs = info
			.inputs
			.iter()
			.zip(&p.inputs)
			.enumerate()
			.map(|(i, (spec, data))| {
				tensor_of(spec.dtype, &spec.shape, data, &format!("input {i}"))
			})
			.collect::<Result<Vec<_>, _>>()?;
		let fee = self
			.client
			.quote(p.model, mode)
			.await
			.map_err(|e| e.to_string())?;
		let max_fee = match &p.max_fee {
			Some(m) => parse_amount(m).map_err(|e| format!("{e:#}"))?,
			None => fee,
		};
		{
			let mut budget = self.budget.lock().expect("budget lock");
			let after = budget.committed.saturating_add(max_fee);
			if after > budget.max {
				return Err(format!(
					"spending limit: this request may cost {}, and only {} of the server's {} is left",
					vrt(max_fee),
					vrt(budget.max.saturating_sub(budget.committed)),
					vrt(budget.max)
				));
			}
			budget.committed = after;
		}
		let placed = self
			.client
			.request_inference(&self.signer, p.model, &inputs, mode, max_fee)
			.await;
		let id = match placed {
			Ok(id) => id,
			Err(e) => {
				self.budget.lock().expect("budget lock").committed -= max_fee;
				return Err(e.to_string());
			}
		};
		// Until the receipt says what was paid, the whole maximum stays committed.
		let done = self
			.client
			.wait(id, self.timeout, |_| {})
			.await
			.map_err(|e| format!("request {id}: {e}"))?;
		{
			let mut budget = self.budget.lock().expect("budget lock");
			budget.committed = budget.committed - max_fee + done.receipt.paid.min(max_fee);
		}
		let outputs_match = verify::outputs_match(&done.receipt, &done.outputs);
		let proven = self.proven(id).await;
		let mut out = receipt_json(id, &done.receipt);
		out["outputs"] = json!(done.outputs.iter().map(tensor_json).collect::<Vec<_>>());
		out["verification"] = json!({
			"outputsMatchReceipt": outputs_match,
			"lightClient": match &proven {
				Ok(Some(p)) => json!({"provenAtFinalizedBlock": p.block_number, "blockHash": hex32(&p.block_hash), "receiptMatches": p.receipt == done.receipt}),
				Ok(None) => json!("not checked: the server has no chain spec (verity mcp --chain-spec)"),
				Err(e) => json!(format!("failed: {e}")),
			},
		});
		if done.receipt.outcome != verity_sdk::Outcome::Settled {
			return Err(format!(
				"request {id} ended {}: {out}",
				outcome_name(&done.receipt.outcome)
			));
		}
		Ok(out.to_string())
	}

	#[tool(
		description = "Check a request's receipt without trusting the RPC node: a light client started from the chain spec proves it against GRANDPA-finalized state; optionally check outputs against its output hash."
	)]
	async fn verify_receipt(
		&self,
		Parameters(p): Parameters<VerifyParams>,
	) -> Result<String, String> {
		let proven = self
			.proven(p.request)
			.await?
			.ok_or("this server has no chain spec: start it with `verity mcp --chain-spec FILE`")?;
		let r = &proven.receipt;
		let mut out = receipt_json(p.request, r);
		let mut verified = r.outcome == verity_sdk::Outcome::Settled;
		if let Some(outputs) = &p.outputs {
			let info = self
				.client
				.model(r.model)
				.await
				.map_err(|e| e.to_string())?;
			if outputs.len() != info.outputs.len() {
				return Err(format!(
					"model {} has {} outputs, {} given",
					r.model,
					info.outputs.len(),
					outputs.len()
				));
			}
			let tensors = info
				.outputs
				.iter()
				.zip(outputs)
				.enumerate()
				.map(|(i, (s, d))| {
					tensor_of(s.spec.dtype, &s.spec.shape, d, &format!("output {i}"))
				})
				.collect::<Result<Vec<_>, _>>()?;
			let matches = verify::outputs_match(r, &tensors);
			out["outputsMatchReceipt"] = json!(matches);
			verified &= matches;
		}
		out["provenAtFinalizedBlock"] = json!(proven.block_number);
		out["verified"] = json!(verified);
		Ok(out.to_string())
	}
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for VerityMcp {
	fn get_info(&self) -> ServerConfig {
		ServerConfig::new(ServerCapabilities::builder().enable_tools().build()).with_instructions(
			"Verity: verified ML inference on chain. list_models shows what can be run; quote \
			 prices a request; infer pays, waits and returns outputs with their on-chain receipt; \
			 verify_receipt checks a receipt with a light client.",
		)
	}
}
