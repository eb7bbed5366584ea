//! Read access for the runtime API (`verity_primitives::api::VerityApi`) and for clients.

use alloc::vec::Vec;
use frame_system::pallet_prelude::BlockNumberFor;
use sp_core::H256;
use sp_runtime::traits::CheckedMul;
use verity_primitives::{ModelId, ModelRegistry, PostedResult, RequestId, VerificationMode};

use crate::{
	BalanceOf, Config, Pallet, ReceiptOf, Receipts, RequestInputs, RequestOf, Requests, Results,
	TraceLeaves,
};

impl<T: Config> Pallet<T> {
	/// An unfinished request.
	pub fn request(id: RequestId) -> Option<RequestOf<T>> {
		Requests::<T>::get(id)
	}

	/// The input bytes (SCALE `Vec<Tensor>`) of a request, while they are kept.
	pub fn request_input(id: RequestId) -> Option<Vec<u8>> {
		RequestInputs::<T>::get(id).map(|i| i.into_inner())
	}

	/// The result `worker` posted for request `id`.
	pub fn result(id: RequestId, worker: T::AccountId) -> Option<PostedResult<BlockNumberFor<T>>> {
		Results::<T>::get(id, worker).map(|r| PostedResult {
			output: r.output.into_inner(),
			output_hash: r.output_hash,
			trace_root: r.trace_root,
			failed_at: r.failed_at,
			submitted_at: r.submitted_at,
		})
	}

	/// The trace leaves `worker` posted for request `id`, while they are kept.
	pub fn trace_leaves(id: RequestId, worker: T::AccountId) -> Option<Vec<H256>> {
		TraceLeaves::<T>::get(id, worker).map(|l| l.into_inner())
	}

	/// The receipt of a finished request.
	pub fn receipt(id: RequestId) -> Option<ReceiptOf<T>> {
		Receipts::<T>::get(id)
	}

	/// The least `max_fee` a request for `model` in `mode` is accepted with now, or `None` if
	/// such a request would be refused whatever its input (unknown or deprecated model, mode not
	/// allowed, invalid quorum size, a trace or output too large to post). Whether enough
	/// workers are active is only known when the request is made.
	pub fn quote(model: ModelId, mode: VerificationMode) -> Option<BalanceOf<T>> {
		let info = T::Models::model(model)?;
		Self::check_servable(&info, &mode).ok()?;
		Self::fee_per_replica(&info)
			.ok()?
			.checked_mul(&BalanceOf::<T>::from(mode.replicas()))
	}
}
