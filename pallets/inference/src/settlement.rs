//! Finishing requests: settlement (paying the owner, the workers and the protocol out of the
//! escrow), refunds, and the end of an attested receipt's challenge window.

use alloc::vec::Vec;
use frame_support::{traits::Get, weights::Weight, BoundedVec};
use frame_system::pallet_prelude::BlockNumberFor;
use sp_core::H256;
use sp_runtime::traits::{Saturating, Zero};
use verity_primitives::{io_hash, ModelRegistry, Outcome, Receipt, RequestId, WorkerRegistry};

use crate::{
	Accepted, BalanceOf, ChallengeWindow, ChallengeWindows, Config, Event, Pallet, ReceiptOf,
	Receipts, RequestOf, Requests, Results, TraceLeaves, WeightInfo,
};

impl<T: Config> Pallet<T> {
	/// Settles request `id` with the `accepted` workers' `result` (an output or an execution
	/// failure: either way the work was done and is paid for).
	///
	/// Per accepted replica the model owner gets the price, the worker `WorkerFee` less the
	/// protocol's share, the protocol its share; the rest of the escrow goes back to the
	/// requester. With `window` (attested mode) the receipt stays challengeable up to that
	/// block: the trace leaves, the input and the model's in-flight count are kept until then.
	pub(crate) fn settle(
		id: RequestId,
		request: RequestOf<T>,
		accepted: &[T::AccountId],
		result: Accepted,
		now: BlockNumberFor<T>,
		window: Option<BlockNumberFor<T>>,
	) -> Weight {
		let requester = &request.requester;
		let replicas = BalanceOf::<T>::from(accepted.len() as u32);
		// Both parts are fixed at request time: a later change of `WorkerFee` or of the price
		// does not move money between the owner and the workers of requests already made.
		let worker_fee = request.worker_fee.min(request.fee_per_replica);
		let price = request.fee_per_replica.saturating_sub(worker_fee);
		let protocol_cut = T::ProtocolShare::get() * worker_fee;
		let worker_cut = worker_fee.saturating_sub(protocol_cut);

		let mut paid = BalanceOf::<T>::zero();
		if let Some(model) = T::Models::model(request.model) {
			paid = paid.saturating_add(Self::pay_from_escrow(
				requester,
				&model.owner,
				price.saturating_mul(replicas),
			));
		}
		for worker in accepted {
			paid = paid.saturating_add(Self::pay_from_escrow(requester, worker, worker_cut));
			// An attested result counts as served once it can no longer be proven wrong.
			if window.is_none() {
				T::Workers::note_served(worker);
			}
		}
		paid = paid.saturating_add(Self::pay_from_escrow(
			requester,
			&T::ProtocolAccount::get(),
			protocol_cut.saturating_mul(replicas),
		));
		Self::release_escrow(requester, request.max_fee.saturating_sub(paid));

		for a in request
			.assignments
			.iter()
			.filter(|a| !accepted.contains(&a.worker))
		{
			Results::<T>::remove(id, &a.worker);
			TraceLeaves::<T>::remove(id, &a.worker);
		}
		let challengeable_until = match window {
			Some(until) => {
				ChallengeWindows::<T>::insert(
					id,
					ChallengeWindow {
						input_hashes: request.input_hashes.clone(),
					},
				);
				until
			}
			None => {
				for worker in accepted {
					TraceLeaves::<T>::remove(id, worker);
				}
				Self::forget_inputs(id);
				T::Models::request_closed(request.model);
				now
			}
		};
		let workers = BoundedVec::truncate_from(accepted.to_vec());
		let receipt: ReceiptOf<T> = Receipt {
			requester: request.requester.clone(),
			model: request.model,
			model_root: request.model_root,
			input_hash: io_hash(&request.input_hashes),
			output_hash: result.output_hash,
			trace_root: result.trace_root,
			mode: request.mode,
			workers: workers.clone(),
			paid,
			outcome: result.outcome(),
			finished_at: now,
			challengeable_until,
		};
		Requests::<T>::remove(id);
		if window.is_none() {
			Self::queue_pruning(id, &receipt);
		}
		Receipts::<T>::insert(id, receipt);
		Self::deposit_event(Event::Settled {
			id,
			workers,
			paid,
			output_hash: result.output_hash,
			trace_root: result.trace_root,
			failed_at: result.failed_at,
		});
		T::WeightInfo::settle(accepted.len() as u32)
	}

	/// Finishes request `id` without a result: the whole escrow goes back to the requester and
	/// every posted result is dropped.
	pub(crate) fn refund(id: RequestId, request: RequestOf<T>, now: BlockNumberFor<T>) -> Weight {
		let amount = Self::release_escrow(&request.requester, request.max_fee);
		for a in request.assignments.iter() {
			Results::<T>::remove(id, &a.worker);
			TraceLeaves::<T>::remove(id, &a.worker);
		}
		Requests::<T>::remove(id);
		Self::forget_inputs(id);
		T::Models::request_closed(request.model);
		let receipt: ReceiptOf<T> = Receipt {
			requester: request.requester.clone(),
			model: request.model,
			model_root: request.model_root,
			input_hash: io_hash(&request.input_hashes),
			output_hash: H256::zero(),
			trace_root: H256::zero(),
			mode: request.mode,
			workers: Default::default(),
			paid: Zero::zero(),
			outcome: Outcome::Refunded,
			finished_at: now,
			challengeable_until: now,
		};
		Receipts::<T>::insert(id, receipt);
		Self::deposit_event(Event::Refunded {
			id,
			requester: request.requester,
			amount,
		});
		T::WeightInfo::refund(request.assignments.len() as u32)
	}

	/// Ends the challenge window of attested receipt `id`: its trace leaves and input are
	/// deleted (the accepted result stays until its retention ends), its workers count it as
	/// served and the model is released. (A receipt proven fraudulent has no window left.)
	pub(crate) fn close_window(id: RequestId) -> Weight {
		ChallengeWindows::<T>::remove(id);
		Self::forget_inputs(id);
		if let Some(receipt) = Receipts::<T>::get(id) {
			for worker in receipt.workers.iter() {
				TraceLeaves::<T>::remove(id, worker);
				T::Workers::note_served(worker);
			}
			T::Models::request_closed(receipt.model);
			Self::queue_pruning(id, &receipt);
		}
		Self::deposit_event(Event::ChallengeWindowClosed { id });
		T::WeightInfo::close_window()
	}

	/// Workers of `request` whose result is in (state `Submitted`), with their results.
	pub(crate) fn revealed(
		id: RequestId,
		request: &RequestOf<T>,
	) -> Vec<(T::AccountId, crate::ResultOf<T>)> {
		request
			.assignments
			.iter()
			.filter(|a| a.state == verity_primitives::AssignmentState::Submitted)
			.filter_map(|a| Results::<T>::get(id, &a.worker).map(|r| (a.worker.clone(), r)))
			.collect()
	}
}
