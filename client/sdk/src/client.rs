//! [`Client`]: typed calls, storage reads and waits over one RPC connection.

use std::time::{Duration, Instant};

use codec::Encode;
use subxt::{
	client::Blocks, extrinsics::ExtrinsicEvents, rpcs::RpcClient, tx::Payload, utils::Static,
	OnlineClient, OnlineClientAtBlock,
};
use verity_engine::Tensor;
use verity_primitives::{AssignmentState, ModelStatus, VerificationMode};

use crate::{
	chain, AccountId, Balance, Config, Error, Keypair, ModelId, ModelInfo, ModelRegistration,
	PostedResult, Receipt, Request, RequestId, RequestStatus, WorkerInfo, WorkerStatus,
};

type AtBlock = OnlineClientAtBlock<Config>;

/// A connection to a Verity node.
#[derive(Clone)]
pub struct Client {
	api: OnlineClient<Config>,
	rpc: RpcClient,
	url: String,
}

/// Where a request is, as [`Client::wait`] reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Phase {
	/// Assigned to workers that have not answered yet.
	Assigned,
	/// Quorum: the workers reveal their committed results.
	Revealing,
	/// A result is posted and can be challenged until `until`.
	Challengeable {
		/// Last block a fraud proof is accepted.
		until: u32,
	},
	/// Quorum results diverge; fraud proofs decide.
	Disputed,
	/// Finished: the receipt is written.
	Finished,
}

/// A finished request: its receipt and the result the receipt's output hash commits to.
#[derive(Clone, Debug)]
pub struct Finished {
	/// The request.
	pub id: RequestId,
	/// Its receipt.
	pub receipt: Receipt,
	/// The accepted output tensors (empty when the request was refunded or the outputs are no
	/// longer kept).
	pub outputs: Vec<Tensor>,
	/// Block (and its hash) where the receipt was read.
	pub block: (u32, [u8; 32]),
}

/// A result as a worker posted it.
#[derive(Clone, Debug)]
pub struct Posted {
	/// The result record.
	pub result: PostedResult,
	/// Its trace leaves, while the chain keeps them.
	pub leaves: Option<Vec<sp_core::H256>>,
}

/// The value at storage `addr` under `keys` at block `at`, decoded; `None` when absent.
async fn fetch<Addr: subxt::storage::Address>(
	at: &AtBlock,
	addr: Addr,
	keys: Addr::KeyParts,
) -> Result<Option<Addr::Value>, Error> {
	let value = at
		.storage()
		.try_fetch(addr, keys)
		.await
		.map_err(Error::chain)?;
	value.map(|v| v.decode().map_err(Error::chain)).transpose()
}

/// A block stream with a deadline: each block as a client at it, or [`Error::Timeout`].
struct Follow {
	blocks: Blocks<Config>,
	deadline: Instant,
	timeout: Duration,
	what: String,
}

impl Follow {
	fn new(blocks: Blocks<Config>, timeout: Duration, what: String) -> Follow {
		Follow {
			blocks,
			deadline: Instant::now() + timeout,
			timeout,
			what,
		}
	}

	async fn next(&mut self) -> Result<AtBlock, Error> {
		let left = self.deadline.saturating_duration_since(Instant::now());
		let block = match tokio::time::timeout(left, self.blocks.next()).await {
			Err(_) => {
				return Err(Error::Timeout {
					what: self.what.clone(),
					secs: self.timeout.as_secs(),
				})
			}
			Ok(None) => return Err(Error::Chain("the node closed its block stream".into())),
			Ok(Some(b)) => b.map_err(Error::chain)?,
		};
		block.at().await.map_err(Error::chain)
	}

	/// Another stream under the same deadline.
	fn with_blocks(self, blocks: Blocks<Config>) -> Follow {
		Follow { blocks, ..self }
	}
}

impl Client {
	/// Connects to the node at `url` (`ws://` or `wss://`).
	pub async fn connect(url: &str) -> Result<Client, Error> {
		let unreachable = |reason: String| Error::Unreachable {
			url: url.into(),
			reason,
		};
		let rpc = RpcClient::from_insecure_url(url)
			.await
			.map_err(|e| unreachable(e.to_string()))?;
		let api = OnlineClient::<Config>::from_rpc_client(rpc.clone())
			.await
			.map_err(|e| unreachable(e.to_string()))?;
		Ok(Client {
			api,
			rpc,
			url: url.into(),
		})
	}

	/// The URL this client is connected to.
	pub fn url(&self) -> &str {
		&self.url
	}

	/// The underlying subxt client, for everything this SDK does not wrap.
	pub fn api(&self) -> &OnlineClient<Config> {
		&self.api
	}

	/// The raw JSON-RPC connection (for `system_*`, `verity_*` and other node methods).
	pub fn rpc(&self) -> &RpcClient {
		&self.rpc
	}

	/// Reads are made at the latest finalized block (where every call this client submits
	/// has landed when it returns).
	async fn at(&self) -> Result<AtBlock, Error> {
		self.api.at_current_block().await.map_err(Error::chain)
	}

	/// Signs `call` with `signer`, submits it and waits until it is finalized; returns its events.
	/// A dispatch error comes back as [`Error::Refused`] with the pallet's error name.
	pub async fn submit<Call: Payload>(
		&self,
		call: &Call,
		signer: &Keypair,
	) -> Result<ExtrinsicEvents<Config>, Error> {
		let at = self.at().await?;
		let progress = at
			.transactions()
			.sign_and_submit_then_watch_default(call, signer)
			.await
			.map_err(|e| Error::Refused(e.to_string()))?;
		progress
			.wait_for_finalized_success()
			.await
			.map_err(|e| Error::Refused(e.to_string()))
	}

	// ---- accounts ----

	/// The free balance of `who`.
	pub async fn free_balance(&self, who: &AccountId) -> Result<Balance, Error> {
		let at = self.at().await?;
		let info = fetch(&at, chain::storage().system().account(), (who.clone(),)).await?;
		Ok(info.map_or(0, |i| i.data.free))
	}

	/// Transfers `amount` from `signer` to `to`, keeping the sender alive.
	pub async fn transfer(
		&self,
		signer: &Keypair,
		to: &AccountId,
		amount: Balance,
	) -> Result<(), Error> {
		self.ensure_funds(signer, amount).await?;
		let call = chain::transactions()
			.balances()
			.transfer_keep_alive(to.clone().into(), amount);
		self.submit(&call, signer).await.map(|_| ())
	}

	pub(crate) async fn ensure_funds(
		&self,
		signer: &Keypair,
		needed: Balance,
	) -> Result<(), Error> {
		let free = self.free_balance(&crate::account_of(signer)).await?;
		if free < needed {
			return Err(Error::InsufficientFunds { needed, free });
		}
		Ok(())
	}

	// ---- models ----

	/// The record of model `id`.
	pub async fn model(&self, id: ModelId) -> Result<ModelInfo, Error> {
		let at = self.at().await?;
		let info = fetch(&at, chain::storage().models().models(), (id,)).await?;
		Ok(info.ok_or(Error::UnknownModel(id))?.0)
	}

	/// Every registered model, by id.
	pub async fn models(&self) -> Result<Vec<(ModelId, ModelInfo)>, Error> {
		let at = self.at().await?;
		let mut entries = at
			.storage()
			.iter(chain::storage().models().models(), ())
			.await
			.map_err(Error::chain)?;
		let mut models = Vec::new();
		while let Some(entry) = entries.next().await {
			let entry = entry.map_err(Error::chain)?;
			let (id,) = entry
				.key()
				.map_err(Error::chain)?
				.decode()
				.map_err(Error::chain)?;
			models.push((id, entry.value().decode().map_err(Error::chain)?.0));
		}
		models.sort_by_key(|(id, _)| *id);
		Ok(models)
	}

	/// The ONNX bytes of model `id` when they are stored on chain.
	pub async fn model_bytes(&self, id: ModelId) -> Result<Option<Vec<u8>>, Error> {
		let at = self.at().await?;
		let bytes = fetch(&at, chain::storage().models().model_bytes(), (id,)).await?;
		Ok(bytes.map(|b| b.0))
	}

	/// Registers a model; returns its id.
	pub async fn register_model(
		&self,
		signer: &Keypair,
		registration: ModelRegistration,
	) -> Result<ModelId, Error> {
		let call = chain::transactions()
			.models()
			.register_model(Static(registration));
		let events = self.submit(&call, signer).await?;
		let registered = events
			.find_first::<chain::models::events::ModelRegistered>()
			.ok_or_else(|| Error::Chain("no ModelRegistered event".into()))?
			.map_err(Error::chain)?;
		Ok(registered.id)
	}

	/// Fails with [`Error::NotOwner`] unless the signer owns model `id`: checked before a
	/// transaction is sent, so a mistaken call costs no fee.
	async fn ensure_owner(&self, signer: &Keypair, id: ModelId) -> Result<(), Error> {
		let owner = self.model(id).await?.owner;
		let signer = crate::account_of(signer);
		if owner != signer {
			return Err(Error::NotOwner {
				model: id,
				owner: owner.to_string(),
				signer: signer.to_string(),
			});
		}
		Ok(())
	}

	/// Sets the price of the signer's model `id`.
	pub async fn set_price(
		&self,
		signer: &Keypair,
		id: ModelId,
		price: Balance,
	) -> Result<(), Error> {
		self.ensure_owner(signer, id).await?;
		let call = chain::transactions().models().set_price(id, price);
		self.submit(&call, signer).await.map(|_| ())
	}

	/// Deprecates the signer's model `id`.
	pub async fn deprecate(&self, signer: &Keypair, id: ModelId) -> Result<(), Error> {
		self.ensure_owner(signer, id).await?;
		let call = chain::transactions().models().deprecate(id);
		self.submit(&call, signer).await.map(|_| ())
	}

	/// Removes the signer's deprecated model `id`.
	pub async fn remove_model(&self, signer: &Keypair, id: ModelId) -> Result<(), Error> {
		self.ensure_owner(signer, id).await?;
		let call = chain::transactions().models().remove_model(id);
		self.submit(&call, signer).await.map(|_| ())
	}

	// ---- requests ----

	/// What a request for `model` in `mode` costs now.
	pub async fn quote(&self, model: ModelId, mode: VerificationMode) -> Result<Balance, Error> {
		let info = self.model(model).await?;
		if info.status != ModelStatus::Active || !info.modes.allows(&mode) {
			return Err(Error::ModeNotOffered {
				model,
				mode: mode.to_string(),
			});
		}
		let at = self.at().await?;
		let quote = at
			.runtime_apis()
			.call(
				chain::runtime_apis()
					.verity_api()
					.quote(model, Static(mode)),
			)
			.await
			.map_err(Error::chain)?;
		quote.ok_or_else(|| Error::ModeNotOffered {
			model,
			mode: mode.to_string(),
		})
	}

	/// Checks `inputs` against model `model`'s input specs.
	pub fn check_inputs(model: ModelId, info: &ModelInfo, inputs: &[Tensor]) -> Result<(), Error> {
		if inputs.len() != info.inputs.len() {
			return Err(Error::InputMismatch(format!(
				"model {model} takes {} inputs, {} given",
				info.inputs.len(),
				inputs.len()
			)));
		}
		for (i, (spec, t)) in info.inputs.iter().zip(inputs).enumerate() {
			let shape: Vec<u64> = t.shape().iter().map(|d| *d as u64).collect();
			if spec.dtype != t.dtype() || spec.shape[..] != shape[..] {
				return Err(Error::InputMismatch(format!(
					"input {i} of model {model} is {:?}{:?}, the file is {:?}{:?}",
					spec.dtype,
					&spec.shape[..],
					t.dtype(),
					shape
				)));
			}
		}
		Ok(())
	}

	/// Requests an inference of `model` on `inputs` verified by `mode`, paying at most
	/// `max_fee`; returns the request id. Checks the inputs, the quote and the balance first, so
	/// a request that would fail costs nothing.
	pub async fn request_inference(
		&self,
		signer: &Keypair,
		model: ModelId,
		inputs: &[Tensor],
		mode: VerificationMode,
		max_fee: Balance,
	) -> Result<RequestId, Error> {
		let info = self.model(model).await?;
		Self::check_inputs(model, &info, inputs)?;
		let fee = self.quote(model, mode).await?;
		if fee > max_fee {
			return Err(Error::FeeAboveMax { fee, max_fee });
		}
		self.ensure_funds(signer, max_fee).await?;
		let call = chain::transactions().inference().request_inference(
			model,
			chain::runtime_types::bounded_collections::bounded_vec::BoundedVec(
				inputs.to_vec().encode(),
			),
			Static(mode),
			max_fee,
		);
		let events = self.submit(&call, signer).await?;
		let requested = events
			.find_first::<chain::inference::events::InferenceRequested>()
			.ok_or_else(|| Error::Chain("no InferenceRequested event".into()))?
			.map_err(Error::chain)?;
		Ok(requested.id)
	}

	/// Request `id` while it is unfinished.
	pub async fn request(&self, id: RequestId) -> Result<Option<Request>, Error> {
		let at = self.at().await?;
		let request = fetch(&at, chain::storage().inference().requests(), (id,)).await?;
		Ok(request.map(|r| r.0))
	}

	/// The receipt of request `id`, once finished.
	pub async fn receipt(&self, id: RequestId) -> Result<Option<Receipt>, Error> {
		let at = self.at().await?;
		Self::receipt_at(&at, id).await
	}

	async fn receipt_at(at: &AtBlock, id: RequestId) -> Result<Option<Receipt>, Error> {
		let receipt = fetch(at, chain::storage().inference().receipts(), (id,)).await?;
		Ok(receipt.map(|r| r.0))
	}

	/// The result `worker` posted on request `id`, with its trace leaves while they are kept.
	pub async fn result(&self, id: RequestId, worker: &AccountId) -> Result<Option<Posted>, Error> {
		let at = self.at().await?;
		let apis = at.runtime_apis();
		let api = chain::runtime_apis().verity_api();
		let result = apis
			.call(api.result(id, worker.clone()))
			.await
			.map_err(Error::chain)?;
		let Some(Static(result)) = result else {
			return Ok(None);
		};
		let leaves = apis
			.call(api.trace_leaves(id, worker.clone()))
			.await
			.map_err(Error::chain)?;
		Ok(Some(Posted { result, leaves }))
	}

	/// The input of request `id` while the chain keeps it.
	pub async fn request_input(&self, id: RequestId) -> Result<Option<Vec<Tensor>>, Error> {
		let at = self.at().await?;
		let bytes = at
			.runtime_apis()
			.call(chain::runtime_apis().verity_api().request_input(id))
			.await
			.map_err(Error::chain)?;
		bytes
			.map(|b| codec::Decode::decode(&mut &b[..]).map_err(Error::chain))
			.transpose()
	}

	/// Follows request `id` until its receipt is finalized, calling `progress` at each new
	/// phase (seen in best blocks, so progress shows before finality); fails with
	/// [`Error::Timeout`] after `timeout`.
	pub async fn wait(
		&self,
		id: RequestId,
		timeout: Duration,
		mut progress: impl FnMut(&Phase),
	) -> Result<Finished, Error> {
		self.ensure_request(id).await?;
		let blocks = self.api.stream_best_blocks().await.map_err(Error::chain)?;
		let mut best = Follow::new(blocks, timeout, format!("request {id} to finish"));
		let mut last = None;
		loop {
			let at = best.next().await?;
			let phase = match Self::receipt_at(&at, id).await? {
				Some(_) => Phase::Finished,
				// A block from before the request (the stream may start behind) tells nothing.
				None => match fetch(&at, chain::storage().inference().requests(), (id,)).await? {
					None => continue,
					Some(Static(request)) => match request.status {
						RequestStatus::Assigned { .. } => Phase::Assigned,
						RequestStatus::Revealing { .. } => Phase::Revealing,
						RequestStatus::Challengeable { until } => Phase::Challengeable { until },
						RequestStatus::Disputed { .. } => Phase::Disputed,
					},
				},
			};
			if last.as_ref() != Some(&phase) {
				progress(&phase);
			}
			if phase == Phase::Finished {
				break;
			}
			last = Some(phase);
		}
		// The receipt is in a best block; return it once finalized.
		let blocks = self.api.stream_blocks().await.map_err(Error::chain)?;
		let mut finalized = best.with_blocks(blocks);
		loop {
			let at = finalized.next().await?;
			if let Some(receipt) = Self::receipt_at(&at, id).await? {
				let outputs = self.accepted_outputs(&at, id, &receipt).await?;
				return Ok(Finished {
					id,
					receipt,
					outputs,
					block: (at.block_number() as u32, at.block_hash().0),
				});
			}
		}
	}

	/// Waits until request `id` has a result to audit (a worker posted one, in finalized
	/// state) or has finished; fails with [`Error::Timeout`] after `timeout`.
	pub async fn wait_for_result(&self, id: RequestId, timeout: Duration) -> Result<(), Error> {
		self.ensure_request(id).await?;
		let blocks = self.api.stream_blocks().await.map_err(Error::chain)?;
		let mut blocks = Follow::new(blocks, timeout, format!("a result on request {id}"));
		loop {
			let at = blocks.next().await?;
			if Self::receipt_at(&at, id).await?.is_some() {
				return Ok(());
			}
			let request = fetch(&at, chain::storage().inference().requests(), (id,)).await?;
			let posted = request.is_some_and(|Static(r)| {
				r.assignments
					.iter()
					.any(|a| a.state == AssignmentState::Submitted)
			});
			if posted {
				return Ok(());
			}
		}
	}

	/// [`Error::UnknownRequest`] unless request `id` exists or has a receipt (finalized state).
	async fn ensure_request(&self, id: RequestId) -> Result<(), Error> {
		let at = self.at().await?;
		if Self::receipt_at(&at, id).await?.is_some()
			|| fetch(&at, chain::storage().inference().requests(), (id,))
				.await?
				.is_some()
		{
			return Ok(());
		}
		Err(Error::UnknownRequest(id))
	}

	/// The output tensors of the first accepted worker's result, if the chain still keeps it.
	async fn accepted_outputs(
		&self,
		at: &AtBlock,
		id: RequestId,
		receipt: &Receipt,
	) -> Result<Vec<Tensor>, Error> {
		let Some(worker) = receipt.workers.first() else {
			return Ok(Vec::new());
		};
		let result = at
			.runtime_apis()
			.call(
				chain::runtime_apis()
					.verity_api()
					.result(id, worker.clone()),
			)
			.await
			.map_err(Error::chain)?;
		match result {
			Some(Static(r)) if r.output_hash == receipt.output_hash => {
				codec::Decode::decode(&mut &r.output[..]).map_err(Error::chain)
			}
			_ => Ok(Vec::new()),
		}
	}

	// ---- workers ----

	/// Registers the signer as a worker signing with `key` (its `vrty` key), bonding `bond`.
	/// Refused before anything is sent when the signer is already a worker or the bond is
	/// below the chain's `MinWorkerBond`.
	pub async fn register_worker(
		&self,
		signer: &Keypair,
		key: [u8; 32],
		bond: Balance,
	) -> Result<(), Error> {
		let who = crate::account_of(signer);
		if self.worker(&who).await?.is_some() {
			return Err(Error::WorkerState(format!("{who} is already a worker")));
		}
		let min = self
			.at()
			.await?
			.constants()
			.entry(chain::constants().workers().min_worker_bond())
			.map_err(Error::chain)?;
		if bond < min {
			return Err(Error::WorkerState(format!(
				"the bond ({bond} units) is below the minimum worker bond ({min} units)"
			)));
		}
		self.ensure_funds(signer, bond).await?;
		let call = chain::transactions().workers().register_worker(
			chain::runtime_types::verity_primitives::crypto::app::Public(key),
			bond,
		);
		self.submit(&call, signer).await.map(|_| ())
	}

	/// Adds `amount` to the signer's bond.
	pub async fn bond_extra(&self, signer: &Keypair, amount: Balance) -> Result<(), Error> {
		self.own_worker(signer).await?;
		self.ensure_funds(signer, amount).await?;
		let call = chain::transactions().workers().bond_extra(amount);
		self.submit(&call, signer).await.map(|_| ())
	}

	/// Starts unbonding the signer's whole bond.
	pub async fn unbond(&self, signer: &Keypair) -> Result<(), Error> {
		if let WorkerStatus::Unbonding { until } = self.own_worker(signer).await?.status {
			return Err(Error::WorkerState(format!(
				"already unbonding; the bond can be withdrawn from block {until}"
			)));
		}
		let call = chain::transactions().workers().unbond();
		self.submit(&call, signer).await.map(|_| ())
	}

	/// Withdraws the signer's unbonded funds once the unbonding delay has passed. Refused
	/// before anything is sent when the signer is not unbonding or the delay has not passed.
	pub async fn withdraw_unbonded(&self, signer: &Keypair) -> Result<(), Error> {
		let WorkerStatus::Unbonding { until } = self.own_worker(signer).await?.status else {
			return Err(Error::WorkerState(
				"not unbonding: `verity worker unbond` first".into(),
			));
		};
		let now = self.at().await?.block_number();
		if now < u64::from(until) {
			return Err(Error::WorkerState(format!(
				"still unbonding: the bond can be withdrawn from block {until} (now #{now})"
			)));
		}
		let call = chain::transactions().workers().withdraw_unbonded();
		self.submit(&call, signer).await.map(|_| ())
	}

	/// The signer's worker record, or an error saying it is not a worker.
	async fn own_worker(&self, signer: &Keypair) -> Result<WorkerInfo, Error> {
		let who = crate::account_of(signer);
		self.worker(&who)
			.await?
			.ok_or_else(|| Error::WorkerState(format!("{who} is not a worker")))
	}

	/// The worker record of `who` (key, bond, status, counters).
	pub async fn worker(&self, who: &AccountId) -> Result<Option<WorkerInfo>, Error> {
		let at = self.at().await?;
		fetch(&at, chain::storage().workers().workers(), (who.clone(),)).await
	}
}
