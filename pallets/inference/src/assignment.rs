//! Opening requests and (re)assigning workers.

use alloc::vec::Vec;
use codec::{Compact, CompactLen, DecodeAll, Encode};
use frame_support::{ensure, traits::Get, weights::Weight, BoundedVec};
use frame_system::pallet_prelude::BlockNumberFor;
use sp_core::H256;
use sp_runtime::{
	traits::{CheckedAdd, CheckedMul, Saturating},
	DispatchError,
};
use verity_engine::{tensor_hash, Tensor};
use verity_primitives::{
	Assignment, AssignmentState, ModelId, ModelRegistry, ModelStatus, Request, RequestId,
	RequestStatus, VerificationMode, WorkerRegistry,
};

use crate::{
	BalanceOf, Config, Error, Event, InputHashes, ModelOf, NextRequestId, Pallet, RequestInputs,
	RequestOf, Requests, WorkerList,
};

impl<T: Config> Pallet<T> {
	/// Opens a request (see `request_inference`). Returns its id.
	pub(crate) fn do_request(
		requester: T::AccountId,
		model_id: ModelId,
		input: BoundedVec<u8, T::MaxInputBytes>,
		mode: VerificationMode,
		max_fee: BalanceOf<T>,
	) -> Result<RequestId, DispatchError> {
		let model = T::Models::model(model_id).ok_or(Error::<T>::UnknownModel)?;
		Self::check_servable(&model, &mode)?;
		let replicas = mode.replicas();
		let input_hashes = Self::check_input(&model, &input)?;
		let fee_per_replica = Self::fee_per_replica(&model)?;
		let fee = fee_per_replica
			.checked_mul(&BalanceOf::<T>::from(replicas))
			.ok_or(Error::<T>::FeeOverflow)?;
		ensure!(fee <= max_fee, Error::<T>::FeeAboveMax);

		Self::hold_escrow(&requester, max_fee)?;
		T::Models::request_opened(model_id)?;

		let id = NextRequestId::<T>::get();
		Self::step(id, || {
			Self::open(
				id,
				requester,
				model_id,
				model,
				input,
				input_hashes,
				mode,
				max_fee,
				fee_per_replica,
			)
		})
	}

	/// Assigns and stores request `id` (everything that can fail about the request itself is
	/// checked and the escrow is held).
	#[allow(clippy::too_many_arguments)]
	fn open(
		id: RequestId,
		requester: T::AccountId,
		model_id: ModelId,
		model: ModelOf<T>,
		input: BoundedVec<u8, T::MaxInputBytes>,
		input_hashes: InputHashes,
		mode: VerificationMode,
		max_fee: BalanceOf<T>,
		fee_per_replica: BalanceOf<T>,
	) -> Result<RequestId, DispatchError> {
		let replicas = mode.replicas();
		let workers = Self::select_answerable(Self::seed(id, 0), replicas, &[]);
		ensure!(
			workers.len() as u32 == replicas,
			Error::<T>::NotEnoughWorkers
		);
		let workers: WorkerList<T::AccountId> = workers
			.try_into()
			.map_err(|_| Error::<T>::NotEnoughWorkers)?;

		let now = frame_system::Pallet::<T>::block_number();
		let deadline = Self::open_phase(id, now, T::ResultTimeout::get());
		let request: RequestOf<T> = Request {
			requester: requester.clone(),
			model: model_id,
			model_root: model.model_root,
			mode,
			max_fee,
			fee_per_replica,
			worker_fee: T::WorkerFee::get(),
			input_hashes,
			assignments: Self::assignments_of(&workers),
			missed: Default::default(),
			status: RequestStatus::Assigned { deadline },
			created_at: now,
			expires_at: now.saturating_add(T::RequestLifetime::get()),
		};
		Requests::<T>::insert(id, request);
		RequestInputs::<T>::insert(id, input.clone());
		NextRequestId::<T>::put(id.saturating_add(1));
		Self::deposit_event(Event::InferenceRequested {
			id,
			requester,
			model: model_id,
			model_root: model.model_root,
			mode,
			workers,
			input,
			max_fee,
			deadline,
		});
		Ok(id)
	}

	/// Royalty plus worker fee for one replica of `model`.
	pub(crate) fn fee_per_replica(model: &ModelOf<T>) -> Result<BalanceOf<T>, Error<T>> {
		model
			.price
			.checked_add(&T::WorkerFee::get())
			.ok_or(Error::<T>::FeeOverflow)
	}

	/// Decodes `input` as the model's input tensors and returns their tensor hashes.
	pub(crate) fn check_input(model: &ModelOf<T>, input: &[u8]) -> Result<InputHashes, Error<T>> {
		let tensors =
			Vec::<Tensor>::decode_all(&mut &input[..]).map_err(|_| Error::<T>::InputUndecodable)?;
		ensure!(
			tensors.len() == model.inputs.len(),
			Error::<T>::InputCountMismatch
		);
		let mut hashes = InputHashes::default();
		for (tensor, spec) in tensors.iter().zip(model.inputs.iter()) {
			ensure!(spec.matches(tensor), Error::<T>::InputTypeMismatch);
			hashes
				.try_push(H256(tensor_hash(tensor)))
				.map_err(|_| Error::<T>::InputCountMismatch)?;
		}
		Ok(hashes)
	}

	/// Exact SCALE size of a `Vec<Tensor>` holding one tensor of each of the model's output
	/// specs, if it fits in a `u64`.
	pub(crate) fn output_encoded_len(model: &ModelOf<T>) -> Option<u64> {
		let mut total = Compact::<u32>::compact_len(&(model.outputs.len() as u32)) as u64;
		for out in model.outputs.iter() {
			let rank = out.spec.shape.len() as u32;
			let bytes = u32::try_from(out.spec.byte_size()?).ok()?;
			total = total
				.checked_add(1)?
				.checked_add(Compact::<u32>::compact_len(&rank) as u64)?
				.checked_add(8 * rank as u64)?
				.checked_add(Compact::<u32>::compact_len(&bytes) as u64)?
				.checked_add(bytes as u64)?;
		}
		Some(total)
	}

	/// The assignment seed: `blake2_256(parent_hash ‖ request_id ‖ attempt)`.
	pub(crate) fn seed(id: RequestId, attempt: u32) -> [u8; 32] {
		let parent = frame_system::Pallet::<T>::parent_hash();
		sp_io::hashing::blake2_256(&(parent, id, attempt).encode())
	}

	/// Fresh assignments (state `Assigned`) for `workers`.
	pub(crate) fn assignments_of(
		workers: &[T::AccountId],
	) -> BoundedVec<Assignment<T::AccountId>, sp_core::ConstU32<{ verity_primitives::MAX_REPLICAS }>>
	{
		let list: Vec<_> = workers
			.iter()
			.map(|w| Assignment {
				worker: w.clone(),
				state: AssignmentState::Assigned,
			})
			.collect();
		BoundedVec::truncate_from(list)
	}

	/// Where `worker` is in the request's assignments, or why it is not there.
	pub(crate) fn assignment_position(
		request: &RequestOf<T>,
		worker: &T::AccountId,
	) -> Result<usize, Error<T>> {
		if let Some(pos) = request.assignments.iter().position(|a| &a.worker == worker) {
			return Ok(pos);
		}
		if request.missed.contains(worker) {
			Err(Error::<T>::Excluded)
		} else {
			Err(Error::<T>::NotAssigned)
		}
	}

	/// The unfinished request `id`, or why there is none.
	pub(crate) fn unfinished(id: RequestId) -> Result<RequestOf<T>, Error<T>> {
		Requests::<T>::get(id).ok_or_else(|| {
			if crate::Receipts::<T>::contains_key(id) {
				Error::<T>::RequestFinished
			} else {
				Error::<T>::UnknownRequest
			}
		})
	}

	/// Records that `worker` is never to be assigned to the request again. Returns `false` when
	/// the exclusion list is full (the request is then not reassigned any more).
	pub(crate) fn exclude(request: &mut RequestOf<T>, worker: &T::AccountId) -> bool {
		request.missed.contains(worker) || request.missed.try_push(worker.clone()).is_ok()
	}

	/// Whether a new phase of `ResultTimeout` blocks still ends within the request's lifetime.
	pub(crate) fn time_remains(request: &RequestOf<T>, now: BlockNumberFor<T>) -> bool {
		now.saturating_add(T::ResultTimeout::get()) <= request.expires_at
	}

	/// Draws up to `count` active workers that are neither excluded from nor assigned to the
	/// request, and whose bonds answer for one more exposure. The attempt number in the seed is the number of exclusions so far, which grows
	/// with every reassignment.
	pub(crate) fn draw(id: RequestId, request: &RequestOf<T>, count: u32) -> Vec<T::AccountId> {
		let mut exclude: Vec<T::AccountId> = request.missed.to_vec();
		exclude.extend(request.assignments.iter().map(|a| a.worker.clone()));
		Self::select_answerable(Self::seed(id, request.missed.len() as u32), count, &exclude)
	}

	/// Penalises `worker` for missing a deadline of request `id` (its bond pays the requester).
	pub(crate) fn penalise(id: RequestId, request: &RequestOf<T>, worker: &T::AccountId) {
		let penalty =
			T::Workers::penalise_missed(worker, T::MissPenalty::get(), &request.requester);
		Self::deposit_event(Event::DeadlineMissed {
			id,
			worker: worker.clone(),
			penalty,
		});
	}

	/// Whether requests for `model` in `mode` can be taken, whatever their input: the model is
	/// active and allows the mode, its heaviest node still fits a fraud proof (the limits may
	/// have been lowered since it was registered), a quorum has between 2 and `MaxReplicas` workers (one worker
	/// is not a quorum: its result would settle unverified), and the model's trace and outputs
	/// fit in a result.
	pub(crate) fn check_servable(
		model: &ModelOf<T>,
		mode: &VerificationMode,
	) -> Result<(), Error<T>> {
		ensure!(
			model.status == ModelStatus::Active,
			Error::<T>::ModelNotActive
		);
		ensure!(model.modes.allows(mode), Error::<T>::ModeNotAllowed);
		ensure!(
			T::Models::fits_fraud_proofs(model),
			Error::<T>::ModelBeyondProofLimits
		);
		if let VerificationMode::Quorum(n) = mode {
			ensure!(
				*n >= 2 && *n as u32 <= T::MaxReplicas::get(),
				Error::<T>::InvalidReplicas
			);
		}
		ensure!(
			model.node_count <= T::MaxNodes::get(),
			Error::<T>::ModelTooManyNodes
		);
		ensure!(
			Self::output_encoded_len(model).is_some_and(|n| n <= T::MaxOutputBytes::get() as u64),
			Error::<T>::ModelOutputTooLarge
		);
		Ok(())
	}

	/// Starts a fresh round with new workers (as many as the mode needs, or as many as can be
	/// found) if the request's lifetime and exclusion list allow it; otherwise refunds it.
	/// `excluded_all` says whether every worker that failed so far could be recorded.
	pub(crate) fn retry_or_refund(
		id: RequestId,
		mut request: RequestOf<T>,
		now: BlockNumberFor<T>,
		excluded_all: bool,
	) -> Weight {
		if excluded_all && Self::time_remains(&request, now) {
			// The failed workers are all excluded already; the old assignments stay in place
			// until new ones are found, so that a refund still sees (and drops) their results.
			let workers = Self::draw(id, &request, request.mode.replicas());
			if !workers.is_empty() {
				let deadline = Self::open_phase(id, now, T::ResultTimeout::get());
				request.assignments = Self::assignments_of(&workers);
				request.status = RequestStatus::Assigned { deadline };
				Requests::<T>::insert(id, request);
				Self::deposit_event(Event::Reassigned {
					id,
					workers: BoundedVec::truncate_from(workers),
					deadline,
				});
				// Drawing and scheduling are part of the caller's benchmark.
				return Weight::zero();
			}
		}
		Self::refund(id, request, now)
	}
}
