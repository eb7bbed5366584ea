//! # Inference pallet
//!
//! Requests for verifiable ML inference: escrow, worker assignment, results, the three
//! verification modes, fraud proofs by single-operator re-execution, deadlines and settlement.
//! `docs/protocol.md` is the protocol this pallet implements; this documentation says how.
//!
//! ## Overview
//!
//! A requester calls [`Pallet::request_inference`] with a model, its input tensors (SCALE
//! `Vec<Tensor>`), a [`VerificationMode`] and the most it is willing to pay. The input is
//! checked against the model's input specs, `max_fee` is held from the requester under
//! [`HoldReason::InferenceEscrow`], workers are drawn from the [`Config::Workers`] registry with
//! the seed `blake2_256(parent_hash ‖ request_id ‖ attempt)` and
//! [`Event::InferenceRequested`] tells them what to run.
//!
//! Assigned workers post their results with [`Pallet::submit_result`]: the SCALE-encoded output
//! tensors and one trace leaf (tensor hash) per program node. In quorum mode they first commit to
//! `result_commitment(output_hash, trace_root, worker, salt)` with [`Pallet::commit_result`].
//!
//! * **Attested**: settles as soon as the result is in; the receipt stays challengeable for
//!   [`Config::ChallengePeriod`] blocks and a proven fraud slashes the worker's bond in favour
//!   of the requester, the challenger and the protocol. The receipt becomes `Fraudulent`.
//! * **Optimistic**: the result is challengeable for [`Config::ChallengePeriod`] blocks and
//!   settles afterwards; a proven fraud slashes the worker and the request is reassigned (or
//!   refunded when its lifetime is over).
//! * **Quorum(n)**: commit, then reveal; unanimous reveals settle at once, diverging ones open a
//!   dispute at the first diverging trace leaf, decided by one fraud proof at that node.
//!
//! Anyone may call [`Pallet::challenge`] with a node of the model, its Merkle proof and its
//! input tensors; the runtime re-executes that one node with the canonical executor
//! ([`verity_primitives::fraud::adjudicate`]) and compares its hash with the accused trace leaf.
//! The call's weight is computed from the node's declared types before anything runs.
//!
//! Every phase ends at a deadline kept in the bounded queue [`Deadlines`] and processed in
//! `on_initialize`: silent workers are penalised [`Config::MissPenalty`] (paid to the requester)
//! and replaced while the request's lifetime allows, otherwise the request is refunded in full.
//!
//! Money only ever moves with `transfer_on_hold`, `release` and `transfer` (and the worker
//! registry's bond moves): nothing is minted or burned, which the property tests check after
//! every step of random call sequences.
//!
//! ## Phase ends and deadlines
//!
//! A phase that must end by block `e` is queued at block `e + 1` in [`Deadlines`], which has no
//! per-block cap. Results, commitments, declines and challenges are accepted up to and including
//! `e` and refused after it. The entry is processed in `on_initialize` of `e + 1`, before any
//! extrinsic of that block, or — when more than [`Config::MaxDeadlinesPerBlock`] ends are due —
//! in the next blocks, oldest first. An extrinsic that moves a request on removes its spent
//! entry, so the queue holds live phases only.
#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

mod api;
mod assignment;
#[cfg(feature = "runtime-benchmarks")]
pub mod benchmarking;
#[cfg(any(feature = "std", feature = "runtime-benchmarks"))]
pub mod challenge_nodes;
mod deadlines;
mod declines;
mod disputes;
mod escrow;
mod exposure;
#[cfg(test)]
mod mock;
mod offchain;
mod quorum;
mod results;
mod settlement;
#[cfg(test)]
mod tests;
pub mod types;
pub mod weights;
mod worker_calls;

pub use disputes::node_cost_in_units;
pub use offchain::{CALL_VALIDITY, RESEND_AFTER};
pub use pallet::*;
pub use types::*;
pub use weights::WeightInfo;
pub use worker_calls::{WorkerAction, WORKER_CALL_CONTEXT, WORKER_CALL_PRIORITY};

/// Log target of this pallet.
pub const LOG_TARGET: &str = "verity::inference";

/// Registers the models and workers the benchmarks need, in whatever registries the runtime
/// uses.
#[cfg(feature = "runtime-benchmarks")]
pub trait BenchmarkHelper<AccountId, Balance, BlockNumber> {
	/// Registers `info` as a model (status, modes and counts as given) and returns its id.
	fn register_model(
		info: verity_primitives::ModelInfo<AccountId, Balance, BlockNumber>,
	) -> verity_primitives::ModelId;
	/// Makes `who` an active, bonded worker (funding it as needed). Its bond must cover
	/// [`Config::FraudSlash`] and [`Config::MissPenalty`].
	fn register_worker(who: &AccountId);
}

#[frame_support::pallet]
pub mod pallet {
	use super::*;
	use frame_support::{
		dispatch::{DispatchResultWithPostInfo, Pays, PostDispatchInfo},
		pallet_prelude::*,
		traits::fungible,
	};
	use frame_system::pallet_prelude::*;
	use sp_core::H256;
	use sp_runtime::{traits::Zero, Perbill};
	use verity_engine::MerkleProof;
	use verity_primitives::{
		crypto::WorkerSignature, ModelId, ModelRegistry, RequestId, VerificationMode,
		WorkerRegistry, MAX_REPLICAS,
	};

	/// The in-code storage version.
	const STORAGE_VERSION: StorageVersion = StorageVersion::new(0);

	#[pallet::pallet]
	#[pallet::storage_version(STORAGE_VERSION)]
	pub struct Pallet<T>(_);

	/// Configuration of the inference pallet.
	#[pallet::config]
	pub trait Config:
		frame_system::Config<RuntimeEvent: From<Event<Self>>>
		+ frame_system::offchain::CreateAuthorizedTransaction<Call<Self>>
	{
		/// The currency escrow, fees and challenge bonds are paid in. Only held funds are moved
		/// (`transfer_on_hold`, `release`) plus plain transfers of slashed bonds; nothing is
		/// minted or burned.
		type Currency: fungible::Inspect<Self::AccountId>
			+ fungible::Mutate<Self::AccountId>
			+ fungible::MutateHold<Self::AccountId, Reason = Self::RuntimeHoldReason>;

		/// The overarching hold reason, which must include this pallet's [`HoldReason`].
		type RuntimeHoldReason: From<HoldReason>;

		/// The model registry (`pallet-models`): model records and the in-flight count that
		/// keeps a model alive while requests reference it.
		type Models: ModelRegistry<Self::AccountId, BalanceOf<Self>, BlockNumberFor<Self>>;

		/// The worker registry (`pallet-workers`): active set, assignment, bonds and slashing.
		type Workers: WorkerRegistry<Self::AccountId, BalanceOf<Self>>;

		/// Fee per replica paid to the worker (before the protocol's share is taken), on top of
		/// the model's price.
		#[pallet::constant]
		type WorkerFee: Get<BalanceOf<Self>>;

		/// Share of [`Config::WorkerFee`] that goes to [`Config::ProtocolAccount`].
		#[pallet::constant]
		type ProtocolShare: Get<Perbill>;

		/// Receives the protocol's share of fees and the protocol's part of fraud slashes. It
		/// must exist (hold at least the existential deposit, e.g. endowed at genesis): slashed
		/// bonds pass through it on their way to the requester and the challenger.
		#[pallet::constant]
		type ProtocolAccount: Get<Self::AccountId>;

		/// Blocks a result stays challengeable: an optimistic result before it settles, an
		/// attested receipt after it settled, a quorum dispute before it is refunded.
		#[pallet::constant]
		type ChallengePeriod: Get<BlockNumberFor<Self>>;

		/// Blocks an accepted result stays in [`Results`] once it can no longer be challenged
		/// (after settlement, or after an attested receipt's window): time for the requester to
		/// read the output. Then it is pruned; the receipt keeps its hashes. Results are not
		/// charged a storage deposit, so this is what bounds the storage they take.
		#[pallet::constant]
		type ResultRetention: Get<BlockNumberFor<Self>>;

		/// Blocks each phase of a request (results; in quorum mode commits, then reveals) may
		/// take before missing workers are penalised.
		#[pallet::constant]
		type ResultTimeout: Get<BlockNumberFor<Self>>;

		/// Blocks after creation during which a request is reassigned when its workers fail;
		/// after that it is refunded instead.
		#[pallet::constant]
		type RequestLifetime: Get<BlockNumberFor<Self>>;

		/// Taken from a worker's bond, for the requester, when it misses a deadline.
		#[pallet::constant]
		type MissPenalty: Get<BalanceOf<Self>>;

		/// Taken from a worker's bond (at most all of it) when a fraud proof against it succeeds.
		#[pallet::constant]
		type FraudSlash: Get<BalanceOf<Self>>;

		/// Share of a fraud slash paid to the requester.
		#[pallet::constant]
		type RequesterShare: Get<Perbill>;

		/// Share of a fraud slash paid to the challenger (the rest goes to the protocol).
		#[pallet::constant]
		type ChallengerShare: Get<Perbill>;

		/// Held from a challenger for the duration of a fraud proof; forfeited to the accused
		/// worker when the proof shows the worker was right.
		#[pallet::constant]
		type ChallengeBond: Get<BalanceOf<Self>>;

		/// Largest request input (SCALE `Vec<Tensor>`), in bytes.
		#[pallet::constant]
		type MaxInputBytes: Get<u32>;

		/// Largest result output (SCALE `Vec<Tensor>`), in bytes.
		#[pallet::constant]
		type MaxOutputBytes: Get<u32>;

		/// Most trace leaves (program nodes) of a servable model.
		#[pallet::constant]
		type MaxNodes: Get<u32>;

		/// Largest quorum (2 to [`MAX_REPLICAS`]).
		#[pallet::constant]
		type MaxReplicas: Get<u32>;

		/// Most inputs of a challenged node.
		#[pallet::constant]
		type MaxChallengeInputs: Get<u32>;

		/// Most deadlines processed (and queue blocks looked at) in one block's `on_initialize`;
		/// more that are due wait for the next blocks.
		#[pallet::constant]
		type MaxDeadlinesPerBlock: Get<u32>;

		/// Weights of this pallet's calls and hooks.
		type WeightInfo: WeightInfo;

		/// Registers models and workers for the benchmarks.
		#[cfg(feature = "runtime-benchmarks")]
		type BenchmarkHelper: BenchmarkHelper<
			Self::AccountId,
			BalanceOf<Self>,
			BlockNumberFor<Self>,
		>;
	}

	/// Why this pallet holds funds.
	#[pallet::composite_enum]
	pub enum HoldReason {
		/// A requester's `max_fee`, held while the request is unfinished.
		InferenceEscrow,
		/// A challenger's bond, held while its fraud proof is adjudicated.
		ChallengeBond,
	}

	/// The id the next request gets.
	#[pallet::storage]
	pub type NextRequestId<T> = StorageValue<_, RequestId, ValueQuery>;

	/// Unfinished requests. A finished one leaves a [`Receipts`] entry instead.
	#[pallet::storage]
	pub type Requests<T: Config> = StorageMap<_, Twox64Concat, RequestId, RequestOf<T>>;

	/// The input bytes (SCALE `Vec<Tensor>`) of each unfinished request (and of attested
	/// receipts while they are challengeable), so that workers and auditors can fetch them.
	#[pallet::storage]
	pub type RequestInputs<T: Config> =
		StorageMap<_, Twox64Concat, RequestId, BoundedVec<u8, T::MaxInputBytes>>;

	/// Results posted by workers. Accepted results stay [`Config::ResultRetention`] blocks after
	/// they can no longer be challenged, then are pruned; rejected ones (proven fraudulent, or of
	/// a refunded request) are removed at once.
	#[pallet::storage]
	pub type Results<T: Config> =
		StorageDoubleMap<_, Twox64Concat, RequestId, Blake2_128Concat, T::AccountId, ResultOf<T>>;

	/// The trace leaves of each posted result, kept until the request can no longer be
	/// challenged.
	#[pallet::storage]
	pub type TraceLeaves<T: Config> = StorageDoubleMap<
		_,
		Twox64Concat,
		RequestId,
		Blake2_128Concat,
		T::AccountId,
		BoundedVec<H256, T::MaxNodes>,
	>;

	/// Receipts of finished requests.
	#[pallet::storage]
	pub type Receipts<T: Config> = StorageMap<_, Twox64Concat, RequestId, ReceiptOf<T>>;

	/// Attested receipts that are still challengeable (until their `challengeable_until`).
	#[pallet::storage]
	pub type ChallengeWindows<T: Config> = StorageMap<_, Twox64Concat, RequestId, ChallengeWindow>;

	/// `(b, id)`: request `id`'s current phase (or attested receipt's challenge window) ends
	/// just before block `b`. Processed in `on_initialize` of `b`, or of the next blocks when
	/// more are due than `MaxDeadlinesPerBlock`. One entry per unfinished request and per open
	/// challenge window.
	#[pallet::storage]
	pub type Deadlines<T: Config> =
		StorageDoubleMap<_, Twox64Concat, BlockNumberFor<T>, Twox64Concat, RequestId, ()>;

	/// Requests on which each worker can be slashed now: assigned to it (and not yet proven
	/// wrong on), or accepted from it with an attested receipt still challengeable. A worker is
	/// assigned a request only while `(Exposure + 1) × FraudSlash ≤ bond`, so its bond answers
	/// for every fraud it could commit at once.
	#[pallet::storage]
	pub type Exposure<T: Config> = StorageMap<_, Blake2_128Concat, T::AccountId, u32, ValueQuery>;

	/// The oldest block whose [`Deadlines`] may not all be processed yet.
	#[pallet::storage]
	pub type NextDue<T: Config> = StorageValue<_, BlockNumberFor<T>, ValueQuery>;

	/// Fraud proofs sent as worker calls, by (challenger, accused) per request: one each, so
	/// that a signed worker call cannot be replayed. Cleared with the request's inputs.
	#[pallet::storage]
	pub type AuditChallenges<T: Config> = StorageDoubleMap<
		_,
		Twox64Concat,
		RequestId,
		Blake2_128Concat,
		(T::AccountId, T::AccountId),
		(),
	>;

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// A request was made and its escrow held; `workers` should run it.
		InferenceRequested {
			/// The request.
			id: RequestId,
			/// Who pays.
			requester: T::AccountId,
			/// The model.
			model: ModelId,
			/// The model's root.
			model_root: H256,
			/// Verification mode.
			mode: VerificationMode,
			/// The assigned workers.
			workers: WorkerList<T::AccountId>,
			/// The input (SCALE `Vec<Tensor>`).
			input: BoundedVec<u8, T::MaxInputBytes>,
			/// Held until the request finishes.
			max_fee: BalanceOf<T>,
			/// Last block of the first phase.
			deadline: BlockNumberFor<T>,
		},
		/// A quorum worker committed to its result.
		ResultCommitted {
			/// The request.
			id: RequestId,
			/// The worker.
			worker: T::AccountId,
		},
		/// Every quorum worker committed: reveals are accepted up to `deadline`.
		RevealPhaseStarted {
			/// The request.
			id: RequestId,
			/// Last block for reveals.
			deadline: BlockNumberFor<T>,
		},
		/// A worker's result was accepted for verification.
		ResultSubmitted {
			/// The request.
			id: RequestId,
			/// The worker.
			worker: T::AccountId,
			/// `io_hash` of the output tensors.
			output_hash: H256,
			/// Merkle root of the trace leaves.
			trace_root: H256,
			/// A failure result: the node at which the worker's execution failed.
			failed_at: Option<u32>,
		},
		/// An optimistic result is challengeable up to `until`, then settles.
		ResultChallengeable {
			/// The request.
			id: RequestId,
			/// Last block for a fraud proof.
			until: BlockNumberFor<T>,
		},
		/// Revealed quorum traces disagree, first at trace leaf `leaf`.
		Disputed {
			/// The request.
			id: RequestId,
			/// First diverging trace leaf (node index).
			leaf: u32,
			/// Last block for a fraud proof; without one the request is refunded.
			until: BlockNumberFor<T>,
		},
		/// The request finished and paid its workers, the model owner and the protocol.
		Settled {
			/// The request.
			id: RequestId,
			/// Workers whose result was accepted and paid.
			workers: WorkerList<T::AccountId>,
			/// Total paid out of the escrow; the rest was released to the requester.
			paid: BalanceOf<T>,
			/// The accepted output hash.
			output_hash: H256,
			/// The accepted trace root.
			trace_root: H256,
			/// The accepted result is that the model's execution fails at this node.
			failed_at: Option<u32>,
		},
		/// The request finished without a valid result; its escrow was released in full.
		Refunded {
			/// The request.
			id: RequestId,
			/// Who got the escrow back.
			requester: T::AccountId,
			/// How much.
			amount: BalanceOf<T>,
		},
		/// A worker missed a deadline: penalised and excluded from the request.
		DeadlineMissed {
			/// The request.
			id: RequestId,
			/// The worker.
			worker: T::AccountId,
			/// Moved from its bond to the requester.
			penalty: BalanceOf<T>,
		},
		/// New workers were assigned to the request.
		Reassigned {
			/// The request.
			id: RequestId,
			/// The newly assigned workers.
			workers: WorkerList<T::AccountId>,
			/// Last block of the new phase.
			deadline: BlockNumberFor<T>,
		},
		/// A worker declined its assignment (its node cannot serve the model): excluded without
		/// penalty; the request is reassigned or refunded.
		Declined {
			/// The request.
			id: RequestId,
			/// The worker.
			worker: T::AccountId,
		},
		/// A fraud proof succeeded: `worker`'s leaf differs from the re-executed node.
		FraudProven {
			/// The request.
			id: RequestId,
			/// The slashed worker.
			worker: T::AccountId,
			/// Who proved it.
			challenger: T::AccountId,
			/// The re-executed node.
			node: u32,
			/// Taken from the worker's bond.
			slashed: BalanceOf<T>,
			/// Of which the requester got.
			to_requester: BalanceOf<T>,
			/// Of which the challenger got.
			to_challenger: BalanceOf<T>,
			/// Of which the protocol kept.
			to_protocol: BalanceOf<T>,
		},
		/// A fraud proof was valid but the accused leaf is right: the bond went to the worker.
		ChallengeFailed {
			/// The request.
			id: RequestId,
			/// The accused worker.
			worker: T::AccountId,
			/// The challenger.
			challenger: T::AccountId,
			/// The re-executed node.
			node: u32,
			/// Forfeited to the worker.
			bond: BalanceOf<T>,
		},
		/// An attested receipt can no longer be challenged; its trace leaves were deleted.
		ChallengeWindowClosed {
			/// The request.
			id: RequestId,
		},
		/// A finished request's accepted results were deleted at the end of their retention;
		/// its receipt keeps their hashes.
		ResultsPruned {
			/// The request.
			id: RequestId,
		},
	}

	#[pallet::error]
	pub enum Error<T> {
		/// No model with this id is registered.
		UnknownModel,
		/// The model is deprecated and takes no new requests.
		ModelNotActive,
		/// The model's owner does not allow this verification mode.
		ModeNotAllowed,
		/// The model's heaviest node no longer fits a fraud proof (the registry's limits were
		/// lowered since it was registered): its results could not be challenged.
		ModelBeyondProofLimits,
		/// A quorum must have between 2 and `MaxReplicas` workers.
		InvalidReplicas,
		/// The model has more nodes than `MaxNodes`: its trace cannot be posted.
		ModelTooManyNodes,
		/// The model's outputs encode to more than `MaxOutputBytes`: they cannot be posted.
		ModelOutputTooLarge,
		/// The input is not a SCALE `Vec<Tensor>` (or has trailing bytes).
		InputUndecodable,
		/// The input has a different number of tensors than the model takes.
		InputCountMismatch,
		/// An input tensor's element type or shape differs from the model's input spec.
		InputTypeMismatch,
		/// The request costs more than `max_fee`.
		FeeAboveMax,
		/// The fee computation overflowed.
		FeeOverflow,
		/// The requester cannot put `max_fee` on hold.
		InsufficientBalance,
		/// Fewer active workers than the mode needs.
		NotEnoughWorkers,
		/// The phase is over (its last block has passed), whether or not its end has been
		/// processed yet.
		PhaseEnded,
		/// No request with this id was ever made.
		UnknownRequest,
		/// The request has already finished.
		RequestFinished,
		/// The caller is not assigned to this request.
		NotAssigned,
		/// The caller was excluded from this request: it missed one of its deadlines (a late
		/// result or commitment), declined it, or was proven wrong on it.
		Excluded,
		/// Commitments are only used in quorum mode.
		NotQuorum,
		/// The quorum request is not in its commit phase.
		NotCommitPhase,
		/// The caller already committed.
		AlreadyCommitted,
		/// The quorum request is not in its reveal phase (reveal after every worker committed).
		NotRevealPhase,
		/// The caller already posted its result.
		AlreadySubmitted,
		/// A quorum reveal needs the salt of its commitment.
		MissingSalt,
		/// Only quorum reveals carry a salt.
		UnexpectedSalt,
		/// The revealed result does not match the caller's commitment.
		CommitmentMismatch,
		/// The number of trace leaves differs from the model's node count (for a failure
		/// result: from the failed node's index).
		LeafCountMismatch,
		/// The output is not a SCALE `Vec<Tensor>` (or has trailing bytes).
		OutputUndecodable,
		/// The output has a different number of tensors than the model produces.
		OutputCountMismatch,
		/// An output tensor's element type or shape differs from the model's output spec.
		OutputTypeMismatch,
		/// An output tensor's hash differs from the trace leaf of its output node.
		OutputHashMismatch,
		/// The request (or receipt) is not open to fraud proofs now.
		NotChallengeable,
		/// The accused worker has no result on this request.
		NoResult,
		/// A quorum dispute is decided at its first diverging leaf only.
		WrongNode,
		/// The challenger cannot put `ChallengeBond` on hold.
		InsufficientBond,
		/// The node index is not below the model's node count.
		NodeIndexOutOfRange,
		/// The node does not hash to the model root's leaf at that index.
		InvalidNodeProof,
		/// The node does not have exactly one output.
		NotSingleOutput,
		/// The number of supplied inputs differs from the node's.
		ProofInputCountMismatch,
		/// An input is supplied where the node has none, or missing where it has one.
		ProofInputPresenceMismatch,
		/// A supplied input does not have the type the node declares.
		ProofInputTypeMismatch,
		/// A weight input's Merkle proof is missing or does not verify against the model root.
		InvalidWeightProof,
		/// A request-input input differs from the request's input.
		RequestInputMismatch,
		/// An earlier node's output differs from the accused trace's leaf.
		TraceLeafMismatch,
		/// An input refers to a node at or after the challenged one, or to a missing value.
		InvalidInputSource,
		/// The canonical executor could not run the node for a reason other than its operator
		/// rejecting the proven inputs (which is a verdict, not an error).
		NodeExecutionFailed,
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		fn on_initialize(now: BlockNumberFor<T>) -> Weight {
			Self::process_deadlines(now)
		}

		fn offchain_worker(now: BlockNumberFor<T>) {
			Self::offchain_work(now)
		}

		fn integrity_test() {
			assert!(
				T::RequesterShare::get()
					.deconstruct()
					.saturating_add(T::ChallengerShare::get().deconstruct())
					<= Perbill::one().deconstruct(),
				"RequesterShare + ChallengerShare must not exceed 100%"
			);
			assert!(
				!T::ResultTimeout::get().is_zero(),
				"ResultTimeout must be positive"
			);
			assert!(
				!T::ChallengePeriod::get().is_zero(),
				"ChallengePeriod must be positive"
			);
			assert!(
				T::RequestLifetime::get() >= T::ResultTimeout::get(),
				"RequestLifetime must cover at least one ResultTimeout"
			);
			assert!(
				T::MaxReplicas::get() >= 2 && T::MaxReplicas::get() <= MAX_REPLICAS,
				"MaxReplicas must be in 2..=MAX_REPLICAS"
			);
			assert!(T::MaxNodes::get() >= 1, "MaxNodes must be positive");
			assert!(
				T::MaxDeadlinesPerBlock::get() >= 1,
				"MaxDeadlinesPerBlock must be positive"
			);
			assert!(
				T::MaxChallengeInputs::get() >= 1,
				"MaxChallengeInputs must be positive"
			);
			let worst = Self::worst_on_initialize();
			let max_block = T::BlockWeights::get().max_block;
			assert!(
				worst.all_lte(max_block),
				"MaxDeadlinesPerBlock deadlines ({worst:?}) do not fit in a block ({max_block:?})"
			);
		}

		#[cfg(feature = "try-runtime")]
		fn try_state(_n: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
			Self::do_try_state()
		}
	}

	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// Requests an inference of `model` on `input` (SCALE `Vec<Tensor>` matching the model's
		/// input specs), verified by `mode`, for at most `max_fee`.
		///
		/// Holds `max_fee` until the request finishes; the part not paid out is released then.
		/// Fails, holding nothing, when the model is unknown, deprecated or does not allow the
		/// mode, the input does not fit the model, the fee exceeds `max_fee` or there are not
		/// enough active workers.
		#[pallet::call_index(0)]
		#[pallet::weight(T::WeightInfo::request_inference(
			input.len() as u32,
			mode.replicas().min(T::MaxReplicas::get()),
		).saturating_add(Pallet::<T>::eligibility_weight(mode.replicas().min(T::MaxReplicas::get()))))]
		pub fn request_inference(
			origin: OriginFor<T>,
			model: ModelId,
			input: BoundedVec<u8, T::MaxInputBytes>,
			mode: VerificationMode,
			max_fee: BalanceOf<T>,
		) -> DispatchResult {
			let requester = ensure_signed(origin)?;
			Self::do_request(requester, model, input, mode, max_fee)?;
			Ok(())
		}

		/// Quorum mode, commit phase: an assigned worker commits to
		/// `result_commitment(output_hash, trace_root, worker, salt)`.
		///
		/// When the last worker commits, the reveal phase starts. Like a result, an accepted
		/// commitment costs the worker nothing.
		#[pallet::call_index(1)]
		#[pallet::weight(T::WeightInfo::commit_result())]
		pub fn commit_result(
			origin: OriginFor<T>,
			request: RequestId,
			commitment: H256,
		) -> DispatchResultWithPostInfo {
			let worker = ensure_signed(origin)?;
			Self::do_commit(request, worker, commitment)?;
			Ok(Pays::No.into())
		}

		/// An assigned worker posts its result: the output tensors (SCALE `Vec<Tensor>`) and one
		/// trace leaf per program node; in quorum mode, the reveal of its commitment with its
		/// `salt`.
		///
		/// The leaf count must equal the model's node count, the output must decode into the
		/// model's output specs and each output's hash must equal its output node's leaf. An
		/// accepted result costs the worker nothing. Attested results and unanimous quorums
		/// settle at once; optimistic results become challengeable; diverging quorums open a
		/// dispute.
		#[pallet::call_index(2)]
		#[pallet::weight(Pallet::<T>::submit_result_weight(
			trace_leaves.len() as u32,
			output.len() as u32,
		))]
		pub fn submit_result(
			origin: OriginFor<T>,
			request: RequestId,
			output: BoundedVec<u8, T::MaxOutputBytes>,
			trace_leaves: BoundedVec<H256, T::MaxNodes>,
			salt: Option<[u8; 32]>,
		) -> DispatchResultWithPostInfo {
			let worker = ensure_signed(origin)?;
			let actual = Self::do_submit(request, worker, output, None, trace_leaves, salt)?;
			Ok(PostDispatchInfo {
				actual_weight: Some(actual),
				pays_fee: Pays::No,
			})
		}

		/// An assigned worker posts a failure result: the model's execution fails at node
		/// `node` on the request's input (its operator rejects its inputs, e.g. a `Gather` index
		/// out of range), with the trace leaves of the nodes before it; in quorum mode, the
		/// reveal of a commitment to `(failure_hash(node), trace_root)` with its `salt`.
		///
		/// It is a result like any other: `node` must be a node of the model and the leaf count
		/// must equal `node`; it settles (the requester pays for the work), becomes
		/// challengeable or takes part in the quorum exactly as `submit_result` does, and a fraud
		/// proof that node `node` executes on proven inputs, or that an earlier leaf is wrong,
		/// slashes the worker. An accepted failure costs the worker nothing.
		#[pallet::call_index(5)]
		#[pallet::weight(Pallet::<T>::submit_failure_weight(trace_leaves.len() as u32))]
		pub fn submit_failure(
			origin: OriginFor<T>,
			request: RequestId,
			node: u32,
			trace_leaves: BoundedVec<H256, T::MaxNodes>,
			salt: Option<[u8; 32]>,
		) -> DispatchResultWithPostInfo {
			let worker = ensure_signed(origin)?;
			let actual = Self::do_submit(
				request,
				worker,
				Default::default(),
				Some(node),
				trace_leaves,
				salt,
			)?;
			Ok(PostDispatchInfo {
				actual_weight: Some(actual),
				pays_fee: Pays::No,
			})
		}

		/// A fraud proof against `worker`'s result on `request`: node `node_index` of the model,
		/// its Merkle proof against the model root, and its input tensors (weights with their
		/// proofs, request inputs, or earlier nodes' outputs equal to the worker's leaves).
		///
		/// The node is re-executed with the canonical executor. If the worker's trace contradicts
		/// it (a different leaf, a leaf where the node's operator rejects its inputs, or a
		/// failure result at a node that runs), the worker is slashed `FraudSlash` (shared
		/// between the requester, the challenger and the protocol) and the call is free, unless
		/// the slash took nothing (a bond already spent); otherwise the challenger's
		/// `ChallengeBond` goes to the worker. A malformed proof fails and changes nothing. The
		/// weight follows from the node's declared types, before anything is executed.
		#[pallet::call_index(3)]
		#[pallet::weight(Pallet::<T>::challenge_weight(node))]
		pub fn challenge(
			origin: OriginFor<T>,
			request: RequestId,
			worker: T::AccountId,
			node_index: u32,
			node: ProofNode,
			node_proof: MerkleProof,
			inputs: BoundedVec<Option<ProofInput>, T::MaxChallengeInputs>,
		) -> DispatchResultWithPostInfo {
			let challenger = ensure_signed(origin)?;
			let (verdict, actual) = Self::do_challenge(
				request, challenger, worker, node_index, node, node_proof, inputs,
			)?;
			let pays_fee = verdict.pays();
			Ok(PostDispatchInfo {
				actual_weight: Some(actual),
				pays_fee,
			})
		}

		/// An assigned worker that has not committed or posted anything declines the request:
		/// its node cannot serve the model (bytes unavailable or not matching the registration,
		/// a compiled root that differs, limits of the node).
		///
		/// The worker is excluded from the request without penalty and without pay; the request
		/// is reassigned at once (or refunded in full if no worker is left), or, in a quorum,
		/// goes on with the other workers. Free.
		#[pallet::call_index(6)]
		#[pallet::weight(Pallet::<T>::decline_weight())]
		pub fn decline(origin: OriginFor<T>, request: RequestId) -> DispatchResultWithPostInfo {
			let worker = ensure_signed(origin)?;
			Self::do_decline(request, worker)?;
			Ok(Pays::No.into())
		}

		/// A worker's off-chain worker acts on a request (commits, posts a result or a fraud
		/// proof) as `worker`, authorized by `signature` of `worker`'s registered key over
		/// [`Pallet::worker_call_payload`] instead of an account signature: a general
		/// transaction without a nonce, so a worker can send many per block.
		///
		/// The call is refused by the transaction pool (and block import) when it expired
		/// (`valid_until`), the signature does not verify, the action no longer applies, or the
		/// same fraud proof was already sent. Dispatch is that of `commit_result`,
		/// `submit_result` or `challenge` with `worker` as the signer; it is free.
		#[pallet::call_index(4)]
		#[pallet::weight(action.weight().saturating_add(T::WeightInfo::verify_worker_signature()))]
		#[pallet::authorize(Pallet::<T>::authorize_worker_call)]
		#[pallet::weight_of_authorize(Pallet::<T>::authorize_worker_call_weight())]
		pub fn worker_call(
			origin: OriginFor<T>,
			worker: T::AccountId,
			action: WorkerAction<T>,
			valid_until: BlockNumberFor<T>,
			signature: WorkerSignature,
		) -> DispatchResultWithPostInfo {
			frame_system::ensure_authorized(origin)?;
			let _ = (valid_until, signature);
			Self::do_worker_call(worker, action)
		}
	}
}
