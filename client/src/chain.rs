//! The commands that talk to a Verity chain: accounts, models on chain, inference requests,
//! receipts and workers, over the SDK.

use std::{
	path::{Path, PathBuf},
	time::Duration,
};

use anyhow::{anyhow, bail, Context, Result};
use clap::{Args, Subcommand};
use serde_json::json;
use verity_engine::Tensor;
use verity_primitives::{ModeSet, Outcome, VerificationMode};
use verity_sdk::{
	account_of, keypair, keypair_from_file, verify, AccountId, Balance, Client, Keypair, ModelId,
	ModelRegistration, Phase, Receipt, RequestId,
};

use crate::model::{read_tensor_file, ModelArgs};

/// 1 VRT in the chain's smallest units (12 decimals).
const UNIT: Balance = 1_000_000_000_000;

/// Where the node is and who signs.
#[derive(Args, Clone)]
pub struct ChainArgs {
	/// The node's WebSocket RPC endpoint (or `VERITY_URL`).
	#[arg(long)]
	url: Option<String>,
	/// Secret URI of the signing account: `//Alice`, a mnemonic, `0x` seed (or `VERITY_SURI`).
	#[arg(long)]
	suri: Option<String>,
	/// A file whose first line is the signing account's secret URI.
	#[arg(long, conflicts_with = "suri")]
	keystore_file: Option<PathBuf>,
}

impl ChainArgs {
	fn url(&self) -> String {
		self.url
			.clone()
			.or_else(|| std::env::var("VERITY_URL").ok())
			.unwrap_or_else(|| "ws://127.0.0.1:9944".into())
	}

	pub(crate) async fn client(&self) -> Result<Client> {
		Ok(Client::connect(&self.url()).await?)
	}

	pub(crate) fn signer(&self) -> Result<Keypair> {
		if let Some(file) = &self.keystore_file {
			return Ok(keypair_from_file(file)?);
		}
		let suri = self
			.suri
			.clone()
			.or_else(|| std::env::var("VERITY_SURI").ok())
			.ok_or_else(|| {
				anyhow!("no signing account: pass --suri, --keystore-file or set VERITY_SURI")
			})?;
		Ok(keypair(&suri)?)
	}
}

/// Parses an amount: `12.5VRT`/`12.5 VRT` in tokens, or a plain integer in units.
pub(crate) fn parse_amount(s: &str) -> Result<Balance> {
	let s = s.trim();
	if let Some(tokens) = s.strip_suffix("VRT").map(str::trim) {
		let (whole, frac) = tokens.split_once('.').unwrap_or((tokens, ""));
		if frac.len() > 12 || !frac.chars().all(|c| c.is_ascii_digit()) {
			bail!("amount {s:?}: at most 12 decimals");
		}
		let whole: Balance = whole.parse().with_context(|| format!("amount {s:?}"))?;
		let frac: Balance = format!("{frac:0<12}").parse().unwrap_or(0);
		return whole
			.checked_mul(UNIT)
			.and_then(|w| w.checked_add(frac))
			.ok_or_else(|| anyhow!("amount {s:?} is too large"));
	}
	s.parse()
		.with_context(|| format!("amount {s:?}: units, or tokens with a VRT suffix"))
}

/// An amount in tokens, e.g. `0.012 VRT`.
pub(crate) fn vrt(amount: Balance) -> String {
	let frac = format!("{:012}", amount % UNIT);
	let frac = frac.trim_end_matches('0');
	if frac.is_empty() {
		format!("{} VRT", amount / UNIT)
	} else {
		format!("{}.{frac} VRT", amount / UNIT)
	}
}

fn parse_account(s: &str) -> Result<AccountId> {
	if s.starts_with("//") || s.contains(' ') {
		return Ok(account_of(&keypair(s)?));
	}
	s.parse::<AccountId>()
		.map_err(|_| anyhow!("{s:?} is not an SS58 address or a secret URI"))
}

pub(crate) fn runtime() -> Result<tokio::runtime::Runtime> {
	tokio::runtime::Builder::new_multi_thread()
		.worker_threads(2)
		.enable_all()
		.build()
		.context("starting the async runtime")
}

pub(crate) fn hex32(h: &[u8]) -> String {
	format!("0x{}", hex::encode(h))
}

// ---- accounts ----

/// Balances and transfers.
#[derive(Subcommand)]
pub enum AccountCmd {
	/// Print an account's free balance (the signer's when no account is given).
	Balance {
		/// SS58 address or secret URI.
		account: Option<String>,
		#[command(flatten)]
		chain: ChainArgs,
	},
	/// Transfer an amount (`1.5VRT` or units) from the signer to an account.
	Transfer {
		/// SS58 address or secret URI of the recipient.
		to: String,
		/// The amount.
		amount: String,
		#[command(flatten)]
		chain: ChainArgs,
	},
}

impl AccountCmd {
	/// Runs the command.
	pub fn run(self) -> Result<()> {
		runtime()?.block_on(async {
			match self {
				AccountCmd::Balance { account, chain } => {
					let who = match account {
						Some(a) => parse_account(&a)?,
						None => account_of(&chain.signer()?),
					};
					let free = chain.client().await?.free_balance(&who).await?;
					println!("{who}: {} free ({free} units)", vrt(free));
				}
				AccountCmd::Transfer { to, amount, chain } => {
					let (to, amount) = (parse_account(&to)?, parse_amount(&amount)?);
					let signer = chain.signer()?;
					chain.client().await?.transfer(&signer, &to, amount).await?;
					println!("transferred {} to {to}", vrt(amount));
				}
			}
			Ok(())
		})
	}
}

// ---- models on chain ----

/// `verity model register`.
#[derive(Args)]
pub struct RegisterArgs {
	#[command(flatten)]
	model: ModelArgs,
	/// Royalty per inference per replica (`0.01VRT` or units).
	#[arg(long, default_value = "0.01VRT")]
	price: String,
	/// Modes requesters may choose, comma-separated: attested, optimistic, quorum.
	#[arg(long, default_value = "attested,optimistic,quorum")]
	modes: String,
	/// Publish the bytes at this URI instead of storing them on chain.
	#[arg(long)]
	uri: Option<String>,
	#[command(flatten)]
	chain: ChainArgs,
}

/// Parses `--mode`: `attested`, `optimistic` or `quorum:N`.
pub(crate) fn parse_mode(s: &str) -> Result<VerificationMode> {
	s.parse().map_err(|e| anyhow!("--mode {s:?}: {e}"))
}

fn parse_modes(s: &str) -> Result<ModeSet> {
	let mut bits = 0u8;
	for m in s.split(',').map(str::trim) {
		bits |= match m {
			"attested" => ModeSet::ATTESTED,
			"optimistic" => ModeSet::OPTIMISTIC,
			"quorum" => ModeSet::QUORUM,
			_ => bail!("--modes: unknown mode {m:?} (attested, optimistic, quorum)"),
		};
	}
	Ok(ModeSet(bits))
}

/// Model commands on chain (the `verity model` subcommands that need a node).
pub enum ModelChainCmd {
	Register(RegisterArgs),
	List(ChainArgs),
	Show(ModelId, ChainArgs),
	SetPrice(ModelId, String, ChainArgs),
	Deprecate(ModelId, ChainArgs),
	Remove(ModelId, ChainArgs),
}

impl ModelChainCmd {
	/// Runs the command.
	pub fn run(self) -> Result<()> {
		runtime()?.block_on(async {
			match self {
				ModelChainCmd::Register(args) => register(args).await,
				ModelChainCmd::List(chain) => {
					for (id, m) in chain.client().await?.models().await? {
						println!(
							"{id}: root {}  {} nodes  {:?}  price {}  owner {}",
							hex32(m.model_root.as_bytes()),
							m.node_count,
							m.status,
							vrt(m.price),
							m.owner
						);
					}
					Ok(())
				}
				ModelChainCmd::Show(id, chain) => {
					let m = chain.client().await?.model(id).await?;
					println!("model {id}");
					println!("  owner:       {}", m.owner);
					println!("  model root:  {}", hex32(m.model_root.as_bytes()));
					println!("  onnx hash:   {}", hex32(m.onnx_hash.as_bytes()));
					println!(
						"  nodes:       {} ({} weights), {} MACs",
						m.node_count, m.weight_count, m.macs
					);
					for (i, s) in m.inputs.iter().enumerate() {
						println!("  input {i}:     {:?}{:?}", s.dtype, &s.shape[..]);
					}
					for (i, s) in m.outputs.iter().enumerate() {
						println!("  output {i}:    {:?}", s);
					}
					println!("  price:       {}", vrt(m.price));
					println!("  modes:       {:#04b}", m.modes.0);
					println!("  location:    {:?}", m.location);
					println!("  status:      {:?}, {} in flight", m.status, m.in_flight);
					Ok(())
				}
				ModelChainCmd::SetPrice(id, price, chain) => {
					let price = parse_amount(&price)?;
					chain
						.client()
						.await?
						.set_price(&chain.signer()?, id, price)
						.await?;
					println!("model {id}: price {}", vrt(price));
					Ok(())
				}
				ModelChainCmd::Deprecate(id, chain) => {
					chain
						.client()
						.await?
						.deprecate(&chain.signer()?, id)
						.await?;
					println!("model {id}: deprecated");
					Ok(())
				}
				ModelChainCmd::Remove(id, chain) => {
					chain
						.client()
						.await?
						.remove_model(&chain.signer()?, id)
						.await?;
					println!("model {id}: removed, deposit released");
					Ok(())
				}
			}
		})
	}
}

async fn register(args: RegisterArgs) -> Result<()> {
	let (bytes, compiled) = args.model.load()?;
	let price = parse_amount(&args.price)?;
	let modes = parse_modes(&args.modes)?;
	let signer = args.chain.signer()?;
	let registration = ModelRegistration::for_program(
		&compiled.program,
		sp_core::H256(verity_engine::commit::blake2_256(&bytes)),
		verity_onnx::COMPILER_VERSION,
		price,
		modes,
		match args.uri {
			None => Some(
				bytes
					.clone()
					.try_into()
					.map_err(|_| anyhow!("the model is too large"))?,
			),
			Some(_) => None,
		},
		match &args.uri {
			Some(u) => Some(
				u.as_bytes()
					.to_vec()
					.try_into()
					.map_err(|_| anyhow!("--uri is longer than the chain allows"))?,
			),
			None => None,
		},
	)
	.ok_or_else(|| anyhow!("a program output is not produced by a node"))?;
	println!(
		"model root {}  ({} nodes, {} MACs)",
		hex32(registration.model_root.as_bytes()),
		compiled.program.nodes.len(),
		registration.macs
	);
	let client = args.chain.client().await?;
	let id = client.register_model(&signer, registration).await?;
	println!("registered model {id}");
	Ok(())
}

// ---- inference ----

/// `verity infer`.
#[derive(Args)]
pub struct InferArgs {
	/// The model id.
	model: ModelId,
	/// An input, `[NAME=]FILE` (`.npy` or `.pb`), in the model's input order.
	#[arg(long = "input", value_name = "[NAME=]FILE", required = true)]
	inputs: Vec<String>,
	/// Verification mode: attested, optimistic or quorum:N.
	#[arg(long, default_value = "attested")]
	mode: String,
	/// The most to pay (`1VRT` or units); the quote when absent.
	#[arg(long)]
	max_fee: Option<String>,
	/// Return once the request is placed instead of following it to its receipt.
	#[arg(long)]
	no_wait: bool,
	/// Seconds to wait for the receipt.
	#[arg(long, default_value_t = 300)]
	timeout: u64,
	/// Where to write the output tensors (`DIR/output_<i>.npy`).
	#[arg(long)]
	out_dir: Option<PathBuf>,
	/// Print one JSON object instead of progress lines.
	#[arg(long)]
	json: bool,
	#[command(flatten)]
	chain: ChainArgs,
}

fn read_input(arg: &str) -> Result<Tensor> {
	let file = arg.split_once('=').map_or(arg, |(_, f)| f);
	read_tensor_file(Path::new(file)).with_context(|| format!("--input {arg}"))
}

pub(crate) fn outcome_name(o: &Outcome) -> String {
	match o {
		Outcome::Settled => "settled".into(),
		Outcome::ExecutionFailed { node } => format!("execution failed at node {node}"),
		Outcome::Fraudulent => "fraudulent".into(),
		Outcome::Refunded => "refunded".into(),
	}
}

pub(crate) fn receipt_json(id: RequestId, r: &Receipt) -> serde_json::Value {
	json!({
		"request": id,
		"outcome": outcome_name(&r.outcome),
		"requester": r.requester.to_string(),
		"model": r.model,
		"modelRoot": hex32(r.model_root.as_bytes()),
		"inputHash": hex32(r.input_hash.as_bytes()),
		"outputHash": hex32(r.output_hash.as_bytes()),
		"traceRoot": hex32(r.trace_root.as_bytes()),
		"workers": r.workers.iter().map(|w| w.to_string()).collect::<Vec<_>>(),
		"paid": r.paid.to_string(),
		"finishedAt": r.finished_at,
		"challengeableUntil": r.challengeable_until,
	})
}

fn print_receipt(id: RequestId, r: &Receipt) {
	println!("receipt of request {id}: {}", outcome_name(&r.outcome));
	println!(
		"  model {} root {}",
		r.model,
		hex32(r.model_root.as_bytes())
	);
	println!("  input hash   {}", hex32(r.input_hash.as_bytes()));
	println!("  output hash  {}", hex32(r.output_hash.as_bytes()));
	println!("  trace root   {}", hex32(r.trace_root.as_bytes()));
	println!(
		"  paid {} to {} worker(s), finished at block {}",
		vrt(r.paid),
		r.workers.len(),
		r.finished_at
	);
}

impl InferArgs {
	/// Runs the command.
	pub fn run(self) -> Result<()> {
		runtime()?.block_on(self.infer())
	}

	async fn infer(self) -> Result<()> {
		let inputs = self
			.inputs
			.iter()
			.map(|a| read_input(a))
			.collect::<Result<Vec<_>>>()?;
		let mode = parse_mode(&self.mode)?;
		let signer = self.chain.signer()?;
		let client = self.chain.client().await?;
		let info = client.model(self.model).await?;
		Client::check_inputs(self.model, &info, &inputs)?;
		let fee = client.quote(self.model, mode).await?;
		let max_fee = match &self.max_fee {
			Some(m) => parse_amount(m)?,
			None => fee,
		};
		if !self.json {
			println!("quote: {} (max {})", vrt(fee), vrt(max_fee));
		}
		let id = client
			.request_inference(&signer, self.model, &inputs, mode, max_fee)
			.await?;
		if self.no_wait {
			match self.json {
				true => println!("{}", json!({"request": id})),
				false => println!("requested: request {id}"),
			}
			return Ok(());
		}
		if !self.json {
			println!("requested: request {id}");
		}
		let json = self.json;
		let done = client
			.wait(id, Duration::from_secs(self.timeout), |phase| {
				if json {
					return;
				}
				match phase {
					Phase::Assigned => println!("assigned"),
					Phase::Revealing => println!("revealing"),
					Phase::Challengeable { until } => {
						println!("result posted: challengeable until block {until}")
					}
					Phase::Disputed => println!("disputed: fraud proofs decide"),
					Phase::Finished => {}
				}
			})
			.await?;
		let mut files = Vec::new();
		if let Some(dir) = &self.out_dir {
			std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
			for (i, t) in done.outputs.iter().enumerate() {
				let path = dir.join(format!("output_{i}.npy"));
				verity_onnx::write_npy(&path, t)?;
				files.push(path.display().to_string());
			}
		}
		let verified = verify::outputs_match(&done.receipt, &done.outputs);
		if self.json {
			let mut out = receipt_json(id, &done.receipt);
			out["outputsMatchReceipt"] = json!(verified);
			out["outputFiles"] = json!(files);
			out["block"] = json!(done.block.0);
			println!("{out}");
		} else {
			print_receipt(id, &done.receipt);
			for f in &files {
				println!("  output written: {f}");
			}
			if !done.outputs.is_empty() {
				println!(
					"  outputs {} the receipt's output hash",
					if verified { "match" } else { "DO NOT match" }
				);
			}
		}
		if done.receipt.outcome != Outcome::Settled {
			bail!("request {id} ended {}", outcome_name(&done.receipt.outcome));
		}
		Ok(())
	}
}

// ---- receipts ----

/// Receipt commands.
#[derive(Subcommand)]
pub enum ReceiptCmd {
	/// Print a request's receipt as the RPC node reports it.
	Show {
		/// The request id.
		request: RequestId,
		/// Print JSON.
		#[arg(long)]
		json: bool,
		#[command(flatten)]
		chain: ChainArgs,
	},
	/// Check a receipt without trusting the RPC node: a light client started from the chain
	/// spec proves it against a GRANDPA-finalized state; optionally check output files and the
	/// model file against it.
	Verify(VerifyArgs),
}

/// `verity receipt verify`.
#[derive(Args)]
pub struct VerifyArgs {
	/// The request id.
	request: RequestId,
	/// The raw chain spec the light client starts from (`verity-node export-chain-spec --raw`).
	#[arg(long)]
	chain_spec: PathBuf,
	/// A peer to sync from, `/ip4/…/tcp/…/p2p/<peer id>` (default: the spec's boot nodes, or
	/// the RPC node's own listen addresses).
	#[arg(long)]
	bootnode: Vec<String>,
	/// Output files (`.npy`), in the model's output order: must hash to the receipt's output hash.
	#[arg(long)]
	output: Vec<PathBuf>,
	/// The model's ONNX file: must compile to the receipt's model root (input shapes from the
	/// chain's model record).
	#[arg(long)]
	model: Option<PathBuf>,
	/// Fix a model input's shape for `--model`, `NAME=D0,D1,...` (needed for symbolic
	/// dimensions).
	#[arg(long = "shape", value_name = "NAME=D0,D1,...")]
	shapes: Vec<String>,
	/// Seconds the light client may take.
	#[arg(long, default_value_t = 120)]
	timeout: u64,
	/// Print JSON.
	#[arg(long)]
	json: bool,
	#[command(flatten)]
	chain: ChainArgs,
}

impl ReceiptCmd {
	/// Runs the command.
	pub fn run(self) -> Result<()> {
		runtime()?.block_on(async {
			match self {
				ReceiptCmd::Show {
					request,
					json,
					chain,
				} => {
					let r = chain
						.client()
						.await?
						.receipt(request)
						.await?
						.ok_or_else(|| {
							anyhow!("request {request} has no receipt (unknown or not finished)")
						})?;
					match json {
						true => println!("{}", receipt_json(request, &r)),
						false => print_receipt(request, &r),
					}
					Ok(())
				}
				ReceiptCmd::Verify(args) => args.verify().await,
			}
		})
	}
}

/// The RPC node's own p2p addresses, as boot nodes for the light client (they only supply
/// data the light client checks).
pub(crate) async fn node_addresses(client: &Client) -> Result<Vec<String>> {
	use verity_sdk::subxt_rpcs::rpc_params;
	let rpc = client.rpc();
	let addrs: Vec<String> = rpc
		.request("system_localListenAddresses", rpc_params![])
		.await
		.context("asking the RPC node for its p2p addresses")?;
	Ok(addrs)
}

impl VerifyArgs {
	async fn verify(self) -> Result<()> {
		let spec = std::fs::read_to_string(&self.chain_spec)
			.with_context(|| format!("reading {}", self.chain_spec.display()))?;
		let spec_has_bootnodes = serde_json::from_str::<serde_json::Value>(&spec)
			.ok()
			.and_then(|v| v["bootNodes"].as_array().map(|b| !b.is_empty()))
			.unwrap_or(false);
		let bootnodes = if !self.bootnode.is_empty() || spec_has_bootnodes {
			self.bootnode.clone()
		} else {
			node_addresses(&self.chain.client().await?).await?
		};
		let proven = verify::finalized_receipt(
			&spec,
			&bootnodes,
			self.request,
			Duration::from_secs(self.timeout),
		)
		.await?;
		let r = &proven.receipt;
		let mut failures = Vec::new();
		if r.outcome != Outcome::Settled {
			failures.push(format!("the request ended {}", outcome_name(&r.outcome)));
		}
		if !self.output.is_empty() {
			let outputs = self
				.output
				.iter()
				.map(|p| read_tensor_file(p).with_context(|| format!("--output {}", p.display())))
				.collect::<Result<Vec<_>>>()?;
			if !verify::outputs_match(r, &outputs) {
				failures.push("the output files do not hash to the receipt's output hash".into());
			}
		}
		if let Some(model) = &self.model {
			let compiled = ModelArgs::new(model.clone(), self.shapes.clone()).load()?;
			if verity_engine::model_root(&compiled.1.program) != r.model_root.0 {
				failures.push(format!(
					"{} does not compile to the receipt's model root",
					model.display()
				));
			}
		}
		if self.json {
			let mut out = receipt_json(self.request, r);
			out["finalizedBlock"] = json!(proven.block_number);
			out["finalizedBlockHash"] = json!(hex32(&proven.block_hash));
			out["verified"] = json!(failures.is_empty());
			out["failures"] = json!(failures);
			println!("{out}");
		} else {
			print_receipt(self.request, r);
			println!(
				"  proven by the light client at finalized block #{} {}",
				proven.block_number,
				hex32(&proven.block_hash)
			);
			if !self.output.is_empty() {
				println!("  output files checked against the output hash");
			}
			if self.model.is_some() {
				println!("  model file checked against the model root");
			}
		}
		if !failures.is_empty() {
			bail!(
				"receipt of request {} not verified: {}",
				self.request,
				failures.join("; ")
			);
		}
		if !self.json {
			println!("verified");
		}
		Ok(())
	}
}

// ---- workers ----

/// Worker commands.
#[derive(Subcommand)]
pub enum WorkerCmd {
	/// Register the signer as a worker with its `vrty` public key and a bond.
	Register {
		/// The worker's `vrty` sr25519 public key (`0x` hex; `author_insertKey` / the node's keystore).
		key: String,
		/// The bond (`10000VRT` or units).
		bond: String,
		#[command(flatten)]
		chain: ChainArgs,
	},
	/// Add to the signer's bond.
	Bond {
		/// The amount.
		amount: String,
		#[command(flatten)]
		chain: ChainArgs,
	},
	/// Print a worker's record (the signer's when no account is given).
	Status {
		/// SS58 address or secret URI.
		account: Option<String>,
		#[command(flatten)]
		chain: ChainArgs,
	},
	/// Start unbonding the signer's bond.
	Unbond {
		#[command(flatten)]
		chain: ChainArgs,
	},
	/// Withdraw the signer's unbonded funds.
	Withdraw {
		#[command(flatten)]
		chain: ChainArgs,
	},
}

impl WorkerCmd {
	/// Runs the command.
	pub fn run(self) -> Result<()> {
		runtime()?.block_on(async {
			match self {
				WorkerCmd::Register { key, bond, chain } => {
					let key: [u8; 32] = hex::decode(key.trim_start_matches("0x"))
						.ok()
						.and_then(|k| k.try_into().ok())
						.ok_or_else(|| anyhow!("the key must be 32 bytes of 0x hex"))?;
					let bond = parse_amount(&bond)?;
					chain
						.client()
						.await?
						.register_worker(&chain.signer()?, key, bond)
						.await?;
					println!("registered as a worker, bond {}", vrt(bond));
				}
				WorkerCmd::Bond { amount, chain } => {
					let amount = parse_amount(&amount)?;
					chain
						.client()
						.await?
						.bond_extra(&chain.signer()?, amount)
						.await?;
					println!("bond increased by {}", vrt(amount));
				}
				WorkerCmd::Status { account, chain } => {
					let who = match account {
						Some(a) => parse_account(&a)?,
						None => account_of(&chain.signer()?),
					};
					match chain.client().await?.worker(&who).await? {
						Some(w) => println!(
							"{who}: bond {}, {:?}, served {}, slashed {}, missed {}, registered at block {}",
							vrt(w.bond), w.status, w.served, w.slashed, w.missed, w.registered_at
						),
						None => bail!("{who} is not a worker"),
					}
				}
				WorkerCmd::Unbond { chain } => {
					chain.client().await?.unbond(&chain.signer()?).await?;
					println!("unbonding");
				}
				WorkerCmd::Withdraw { chain } => {
					chain
						.client()
						.await?
						.withdraw_unbonded(&chain.signer()?)
						.await?;
					println!("withdrawn");
				}
			}
			Ok(())
		})
	}
}
