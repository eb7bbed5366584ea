//! Fraud proofs: single-operator re-execution against an accused trace, and what a verdict
//! does in each mode.

use alloc::vec::Vec;
use frame_support::{ensure, traits::Get, weights::Weight, BoundedVec};
use sp_core::H256;
use sp_runtime::{
	traits::{Saturating, Zero},
	DispatchError,
};
use verity_engine::{ir::Node, node_cost, MerkleProof};
use verity_primitives::{
	fraud::{adjudicate, ChallengeError, Context},
	Assignment, AssignmentState, ModelRegistry, Outcome, ProvenTensor, RequestId, RequestStatus,
	WorkerRegistry,
};

use crate::{
	BalanceOf, ChallengeWindows, Config, Error, Event, Pallet, ProofInput, ProofNode, Receipts,
	RequestOf, Requests, Results, TraceLeaves, Verdict, WeightInfo,
};

/// What a fraud proof is aimed at.
enum Target<T: Config> {
	/// A result in its challenge period: optimistic, or a quorum's lone reveal.
	Optimistic(RequestOf<T>),
	/// A quorum dispute at its first diverging leaf.
	Quorum(RequestOf<T>),
	/// A settled attested receipt in its challenge window.
	Attested,
}

/// The cost of node `node` in the units of the `challenge` weight: the engine's
/// [`node_cost`] (multiply-accumulates plus elements touched, from the declared types alone),
/// saturated to `u32`.
pub fn node_cost_in_units(node: &Node) -> u32 {
	node_cost(node).min(u32::MAX as u64) as u32
}

impl<T: Config> Pallet<T> {
	/// Weight of `challenge` before dispatch, from the node's declared types: the adjudication
	/// itself plus, for a quorum dispute, slashing every replica and settling or re-opening the
	/// dispute.
	pub fn challenge_weight(node: &Node) -> Weight {
		Self::challenge_weight_for_cost(node_cost_in_units(node))
	}

	/// The largest node cost whose `challenge` weight stays within `limit`, or 0 when even a
	/// free node exceeds it. The weight grows with the cost, so a binary search finds it; the
	/// runtime bounds the models it accepts with this (a fraud proof must fit in an extrinsic).
	pub fn max_challengeable_cost(limit: Weight) -> u64 {
		let fits = |cost: u32| Self::challenge_weight_for_cost(cost).all_lte(limit);
		if !fits(0) {
			return 0;
		}
		// Invariant: `fits(low)` and, unless `high == u32::MAX` fits, `!fits(high)`.
		let (mut low, mut high) = (0u32, u32::MAX);
		if fits(high) {
			return high as u64;
		}
		while high - low > 1 {
			let mid = low + (high - low) / 2;
			if fits(mid) {
				low = mid;
			} else {
				high = mid;
			}
		}
		low as u64
	}

	fn challenge_weight_for_cost(cost: u32) -> Weight {
		let r = T::MaxReplicas::get();
		T::WeightInfo::challenge(cost)
			.saturating_add(T::WeightInfo::slash(r))
			.saturating_add(
				T::WeightInfo::settle(r).max(T::WeightInfo::dispute(T::MaxNodes::get(), r)),
			)
	}

	/// Adjudicates a fraud proof (see `challenge`). Returns the verdict and the weight used.
	#[allow(clippy::too_many_arguments)]
	pub(crate) fn do_challenge(
		id: RequestId,
		challenger: T::AccountId,
		worker: T::AccountId,
		node_index: u32,
		node: ProofNode,
		node_proof: MerkleProof,
		inputs: BoundedVec<Option<ProofInput>, T::MaxChallengeInputs>,
	) -> Result<(Verdict, Weight), DispatchError> {
		Self::step(id, || {
			Self::challenge_step(id, challenger, worker, node_index, node, node_proof, inputs)
		})
	}

	#[allow(clippy::too_many_arguments)]
	fn challenge_step(
		id: RequestId,
		challenger: T::AccountId,
		worker: T::AccountId,
		node_index: u32,
		node: ProofNode,
		node_proof: MerkleProof,
		inputs: BoundedVec<Option<ProofInput>, T::MaxChallengeInputs>,
	) -> Result<(Verdict, Weight), DispatchError> {
		let now = frame_system::Pallet::<T>::block_number();
		let (target, model_id, model_root, input_hashes, requester) =
			if let Some(request) = Requests::<T>::get(id) {
				let (disputed, until) = match request.status {
					// Optimistic results, and a quorum's lone reveal.
					RequestStatus::Challengeable { until } => (false, until),
					RequestStatus::Disputed { leaf, until } => {
						ensure!(node_index == leaf, Error::<T>::WrongNode);
						(true, until)
					}
					_ => return Err(Error::<T>::NotChallengeable.into()),
				};
				ensure!(now <= until, Error::<T>::NotChallengeable);
				let (model, root, hashes, requester) = (
					request.model,
					request.model_root,
					request.input_hashes.to_vec(),
					request.requester.clone(),
				);
				let target = if disputed {
					Target::Quorum(request)
				} else {
					Target::Optimistic(request)
				};
				(target, model, root, hashes, requester)
			} else if let Some(receipt) = Receipts::<T>::get(id) {
				let window = ChallengeWindows::<T>::get(id).ok_or(Error::<T>::NotChallengeable)?;
				ensure!(
					receipt.outcome.is_settled() && now <= receipt.challengeable_until,
					Error::<T>::NotChallengeable
				);
				(
					Target::<T>::Attested,
					receipt.model,
					receipt.model_root,
					window.input_hashes.to_vec(),
					receipt.requester,
				)
			} else {
				return Err(Error::<T>::UnknownRequest.into());
			};
		let leaves = TraceLeaves::<T>::get(id, &worker).ok_or(Error::<T>::NoResult)?;
		let model = T::Models::model(model_id).ok_or(Error::<T>::UnknownModel)?;

		let raw_leaves: Vec<[u8; 32]> = leaves.iter().map(|h| h.0).collect();
		let raw_inputs: Vec<[u8; 32]> = input_hashes.iter().map(|h| h.0).collect();
		let ctx = Context {
			model_root: &model_root.0,
			node_count: model.node_count,
			weight_count: model.weight_count,
			input_hashes: &raw_inputs,
			leaves: &raw_leaves,
		};
		let inputs: Vec<Option<ProvenTensor>> = inputs
			.into_inner()
			.into_iter()
			.map(|i| i.map(|p| p.0))
			.collect();
		let executed = adjudicate(&ctx, node_index, &node, &node_proof, &inputs)
			.map_err(Self::challenge_error)?;
		// Only a well-formed proof gets as far as the bond: a malformed one fails with its own
		// error whatever the challenger holds.
		Self::hold_bond(&challenger)?;
		let differs = |leaves: &[H256]| executed.contradicts(leaves, node_index);

		let mut weight = T::WeightInfo::challenge(node_cost_in_units(&node));
		let verdict = match target {
			Target::Optimistic(mut request) => {
				if differs(&leaves) {
					let slashed = Self::punish(id, &worker, &requester, &challenger, node_index);
					Self::drop_result(id, &worker);
					let excluded = Self::exclude(&mut request, &worker);
					request.assignments.retain(|a| a.worker != worker);
					weight =
						weight.saturating_add(Self::retry_or_refund(id, request, now, excluded));
					Verdict::Fraud { slashed }
				} else {
					Verdict::Honest
				}
			}
			Target::Attested => {
				if differs(&leaves) {
					let slashed = Self::punish(id, &worker, &requester, &challenger, node_index);
					Self::drop_result(id, &worker);
					Receipts::<T>::mutate(id, |r| {
						if let Some(r) = r {
							r.outcome = Outcome::Fraudulent;
						}
					});
					ChallengeWindows::<T>::remove(id);
					Self::forget_inputs(id);
					T::Models::request_closed(model_id);
					Verdict::Fraud { slashed }
				} else {
					Verdict::Honest
				}
			}
			Target::Quorum(mut request) => {
				let liars: Vec<T::AccountId> = request
					.assignments
					.iter()
					.filter(|a: &&Assignment<T::AccountId>| a.state == AssignmentState::Submitted)
					.filter(|a| TraceLeaves::<T>::get(id, &a.worker).is_none_or(|l| differs(&l)))
					.map(|a| a.worker.clone())
					.collect();
				if liars.is_empty() {
					Verdict::Honest
				} else {
					let (mut excluded_all, mut slashed) = (true, false);
					for liar in &liars {
						slashed |= Self::punish(id, liar, &requester, &challenger, node_index);
						Self::drop_result(id, liar);
						excluded_all &= Self::exclude(&mut request, liar);
						for a in request.assignments.iter_mut().filter(|a| &a.worker == liar) {
							a.state = AssignmentState::Slashed;
						}
					}
					weight = weight
						.saturating_add(T::WeightInfo::slash(liars.len() as u32))
						.saturating_add(Self::conclude(id, request, now, excluded_all));
					Verdict::Fraud { slashed }
				}
			}
		};
		match verdict {
			Verdict::Fraud { .. } => Self::release_bond(&challenger)?,
			Verdict::Honest => {
				let bond = Self::forfeit_bond(&challenger, &worker)?;
				Self::deposit_event(Event::ChallengeFailed {
					id,
					worker,
					challenger,
					node: node_index,
					bond,
				});
			}
		}
		Ok((verdict, weight))
	}

	/// Slashes `FraudSlash` from `worker`'s bond for a proven fraud on request `id`: the
	/// slashed amount goes to the protocol account, which passes `RequesterShare` of it on to
	/// the requester and `ChallengerShare` to the challenger. Returns whether anything was
	/// taken.
	pub(crate) fn punish(
		id: RequestId,
		worker: &T::AccountId,
		requester: &T::AccountId,
		challenger: &T::AccountId,
		node: u32,
	) -> bool {
		let slashed = T::Workers::slash(worker, T::FraudSlash::get(), &T::ProtocolAccount::get());
		let to_requester = Self::pay_from_protocol(requester, T::RequesterShare::get() * slashed);
		let to_challenger =
			Self::pay_from_protocol(challenger, T::ChallengerShare::get() * slashed);
		let to_protocol: BalanceOf<T> = slashed
			.saturating_sub(to_requester)
			.saturating_sub(to_challenger);
		Self::deposit_event(Event::FraudProven {
			id,
			worker: worker.clone(),
			challenger: challenger.clone(),
			node,
			slashed,
			to_requester,
			to_challenger,
			to_protocol,
		});
		!slashed.is_zero()
	}

	/// Deletes a rejected result and its trace.
	pub(crate) fn drop_result(id: RequestId, worker: &T::AccountId) {
		Results::<T>::remove(id, worker);
		TraceLeaves::<T>::remove(id, worker);
	}

	/// The pallet error for each way adjudication rejects a proof.
	pub(crate) fn challenge_error(e: ChallengeError) -> Error<T> {
		match e {
			ChallengeError::NodeIndexOutOfRange => Error::<T>::NodeIndexOutOfRange,
			ChallengeError::NodeProofInvalid => Error::<T>::InvalidNodeProof,
			ChallengeError::NotSingleOutput => Error::<T>::NotSingleOutput,
			ChallengeError::InputCountMismatch => Error::<T>::ProofInputCountMismatch,
			ChallengeError::InputPresenceMismatch(_) => Error::<T>::ProofInputPresenceMismatch,
			ChallengeError::InputTypeMismatch(_) => Error::<T>::ProofInputTypeMismatch,
			ChallengeError::WeightProofInvalid(_) => Error::<T>::InvalidWeightProof,
			ChallengeError::RequestInputMismatch(_) => Error::<T>::RequestInputMismatch,
			ChallengeError::TraceLeafMismatch(_) => Error::<T>::TraceLeafMismatch,
			ChallengeError::InvalidSource(_) => Error::<T>::InvalidInputSource,
			ChallengeError::Execution(e) => {
				log::debug!(target: crate::LOG_TARGET, "fraud proof node failed to execute: {e}");
				Error::<T>::NodeExecutionFailed
			}
		}
	}
}
