//! `verity audit`: re-execute a request locally with the canonical engine and, where a worker's
//! trace differs from it, prove the first wrong leaf with a fraud proof.

use std::{path::PathBuf, time::Duration};

use anyhow::{anyhow, bail, Context, Result};
use clap::Args;
use serde_json::json;
use verity_engine::{commit::blake2_256, ModelTree, Prepared};
use verity_primitives::ModelLocation;
use verity_sdk::{Client, Finding, ModelInfo, RequestId, Verdict};

use crate::chain::{runtime, vrt, ChainArgs};

/// `verity audit`.
#[derive(Args)]
pub struct AuditArgs {
	/// The request.
	request: RequestId,
	/// The model's ONNX file (default: its bytes on chain; needed for a model registered by
	/// URI). It must hash to the registered ONNX hash.
	#[arg(long)]
	model: Option<PathBuf>,
	/// Report what the audit finds; send no fraud proof.
	#[arg(long)]
	dry_run: bool,
	/// Seconds to wait for a result to audit.
	#[arg(long, default_value_t = 120)]
	timeout: u64,
	/// Print one JSON object.
	#[arg(long)]
	json: bool,
	#[command(flatten)]
	chain: ChainArgs,
}

impl AuditArgs {
	/// Runs the command.
	pub fn run(self) -> Result<()> {
		runtime()?.block_on(self.audit())
	}

	async fn audit(self) -> Result<()> {
		let id = self.request;
		let signer = match self.dry_run {
			true => None,
			false => Some(self.chain.signer()?),
		};
		let client = self.chain.client().await?;
		client
			.wait_for_result(id, Duration::from_secs(self.timeout))
			.await?;
		let model = match client.request(id).await? {
			Some(r) => r.model,
			None => {
				client
					.receipt(id)
					.await?
					.ok_or(verity_sdk::Error::UnknownRequest(id))?
					.model
			}
		};
		let info = client.model(model).await?;
		let bytes = self.onnx_bytes(&client, model, &info).await?;
		let program = compile(&bytes, &info).with_context(|| format!("compiling model {model}"))?;
		let tree = ModelTree::new(&program);
		let prepared =
			Prepared::new(program).map_err(|e| anyhow!("preparing model {model}: {e:?}"))?;
		let audited = client.audit(id, &prepared, &tree).await?;
		if audited.is_empty() {
			bail!("request {id} has no posted result to audit");
		}
		let mut report = Vec::new();
		for a in audited {
			let mut entry = json!({ "worker": a.worker.to_string() });
			let line = match a.finding {
				Finding::Agrees => {
					entry["finding"] = json!("agrees");
					"its trace equals the local execution".to_string()
				}
				Finding::Unprovable => {
					entry["finding"] = json!("unprovable");
					"its trace differs only past the node where the local execution fails".into()
				}
				Finding::NoTrace => {
					entry["finding"] = json!("no trace");
					"its trace is no longer kept: the result can no longer be challenged".into()
				}
				Finding::Diverges(divergence) => {
					let node = divergence.node_index;
					entry["finding"] = json!("diverges");
					entry["node"] = json!(node);
					entry["op"] = json!(divergence.node.op.name());
					let what = format!(
						"its trace differs from the local execution first at node {node} ({})",
						divergence.node.op.name()
					);
					match &signer {
						None => format!("{what}; not challenged (--dry-run)"),
						Some(signer) => {
							let verdict =
								client.challenge(signer, id, &a.worker, divergence).await?;
							match verdict {
								Verdict::FraudProven {
									slashed,
									to_requester,
									to_challenger,
									..
								} => {
									entry["verdict"] = json!({
										"fraudProven": true,
										"slashed": slashed.to_string(),
										"toRequester": to_requester.to_string(),
										"toChallenger": to_challenger.to_string(),
									});
									format!(
										"{what}; fraud proven: slashed {} ({} to the requester, {} to you)",
										vrt(slashed),
										vrt(to_requester),
										vrt(to_challenger)
									)
								}
								Verdict::ChallengeFailed { bond, .. } => {
									entry["verdict"] = json!({
										"fraudProven": false,
										"forfeited": bond.to_string(),
									});
									format!(
										"{what}; the chain found its leaf right: {} forfeited to it",
										vrt(bond)
									)
								}
							}
						}
					}
				}
			};
			if !self.json {
				println!("request {id}, worker {}: {line}", a.worker);
			}
			report.push(entry);
		}
		if self.json {
			println!(
				"{}",
				json!({ "request": id, "model": model, "results": report })
			);
		}
		Ok(())
	}

	/// The model's ONNX bytes: `--model`, else the chain's copy; either must hash to the
	/// registered ONNX hash.
	async fn onnx_bytes(&self, client: &Client, model: u32, info: &ModelInfo) -> Result<Vec<u8>> {
		let bytes = match &self.model {
			Some(path) => {
				std::fs::read(path).with_context(|| format!("reading {}", path.display()))?
			}
			None => match (&info.location, client.model_bytes(model).await?) {
				(_, Some(bytes)) => bytes,
				(ModelLocation::Uri(uri), None) => bail!(
					"model {model} is published at {}: pass its ONNX file with --model",
					String::from_utf8_lossy(uri)
				),
				(ModelLocation::OnChain { .. }, None) => {
					bail!("the chain no longer has model {model}'s bytes: pass them with --model")
				}
			},
		};
		if blake2_256(&bytes) != info.onnx_hash.0 {
			bail!("the ONNX bytes do not hash to model {model}'s registered ONNX hash");
		}
		Ok(bytes)
	}
}

/// Compiles `onnx` as the workers do: with the registered input shapes.
fn compile(onnx: &[u8], info: &ModelInfo) -> Result<verity_engine::Program> {
	let names = verity_onnx::graph_input_names(onnx)?;
	let shapes: Vec<(&str, Vec<usize>)> = names
		.iter()
		.zip(&info.inputs)
		.map(|(name, spec)| {
			(
				name.as_str(),
				spec.shape.iter().map(|d| *d as usize).collect(),
			)
		})
		.collect();
	Ok(verity_onnx::compile(onnx, &shapes)?.program)
}
