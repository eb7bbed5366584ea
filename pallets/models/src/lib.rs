//! # Models pallet
//!
//! The registry of the ONNX models Verity runs.
//!
//! ## Overview
//!
//! A model owner registers a model with [`Pallet::register_model`]: the hash of the ONNX bytes,
//! the root of the canonical program the compiler produces from them (the *model root*), the
//! compiler version, the program header with its Merkle proof against the model root (which
//! fixes the node and weight counts and the input specs), the node producing each output with
//! its proof (which fixes the output specs), the claims on the total cost and on the largest
//! node (bytes and cost), a price per inference, the verification modes requesters may choose,
//! and where the bytes live: on chain (at most [`Config::MaxModelBytes`], hashed to the ONNX
//! hash here) or at a URI.
//!
//! A deposit of `ModelDepositBase + ModelDepositPerByte × (stored bytes + encoded record
//! size)` is held from the owner under [`HoldReason::ModelDeposit`] while the model is
//! registered.
//!
//! A model whose largest node (its inputs plus outputs) exceeds [`Config::MaxNodeFootprint`]
//! is refused: a fraud proof for that node would not fit in one extrinsic. So is a model whose
//! costliest node exceeds [`Config::MaxNodeCost`]: re-executing it in a fraud proof would weigh
//! more than one extrinsic may.
//!
//! The owner can [`Pallet::set_price`], [`Pallet::set_modes`] and [`Pallet::deprecate`] (no new
//! requests; requests in flight finish). A deprecated model with no request in flight can be
//! removed with [`Pallet::remove_model`], which deletes its bytes and releases the deposit.
//!
//! Other pallets reach models through [`verity_primitives::ModelRegistry`], implemented in
//! `impl_model_registry.rs`: the inference pallet reads records and counts requests in flight,
//! which keeps a model (and its deposit) alive while requests reference it.
//!
//! ## What is checked at registration, and what is not
//!
//! Checked here: the modes, the location, the ONNX hash of on-chain bytes, the IR version, the
//! header against the model root, the sizes against the bounds, and each output node against the
//! model root (single output, consistent types, footprint and cost within the claims). Not
//! checked here: that the ONNX bytes compile to the model root, and the `macs`,
//! `max_node_footprint` and `max_node_cost` claims for nodes other than the outputs. Workers
//! recompile the bytes and refuse a model whose root does not match or whose claims are
//! understated; a requester who doubts a registration can do the same. An understated claim is
//! provable on chain: [`Pallet::report_false_claim`] shows the node, deprecates the model and
//! slashes its deposit (half to the reporter in the runtime, the rest burned).
#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

mod impl_model_registry;
pub mod types;
pub mod weights;

#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
#[cfg(test)]
mod mock;
#[cfg(test)]
mod tests;

pub use pallet::*;
pub use types::*;
pub use weights::WeightInfo;

#[frame_support::pallet]
pub mod pallet {
	use super::*;
	use alloc::{boxed::Box, vec::Vec};
	use frame_support::{
		pallet_prelude::*,
		traits::{
			fungible::{self, MutateHold},
			tokens::{Fortitude, Precision, Restriction},
			BuildGenesisConfig,
		},
	};
	use frame_system::pallet_prelude::*;
	use sp_core::H256;
	use sp_runtime::{
		traits::{CheckedAdd, CheckedMul, Saturating, Zero},
		Perbill,
	};
	use verity_primitives::{
		engine::{
			commit::{verify_header, verify_node},
			exec::node_cost,
			ir::{node_footprint, ValueRef},
			IR_VERSION,
		},
		ModeSet, ModelId, ModelInfo, ModelLocation, ModelStatus, OutputSpec, TensorSpec,
		MAX_MODEL_IO,
	};

	#[pallet::pallet]
	pub struct Pallet<T>(_);

	/// Configuration of the models pallet.
	#[pallet::config]
	pub trait Config: frame_system::Config {
		/// The currency model deposits are held in.
		type Currency: fungible::Inspect<Self::AccountId>
			+ fungible::Mutate<Self::AccountId>
			+ fungible::MutateHold<Self::AccountId, Reason = Self::RuntimeHoldReason>;

		/// The overarching hold reason, which must include this pallet's [`HoldReason`].
		type RuntimeHoldReason: From<HoldReason>;

		/// Deposit held for every registered model, whatever its size.
		#[pallet::constant]
		type ModelDepositBase: Get<BalanceOf<Self>>;

		/// Deposit held per byte of on-chain storage a model uses: its stored ONNX bytes plus its
		/// encoded record.
		#[pallet::constant]
		type ModelDepositPerByte: Get<BalanceOf<Self>>;

		/// Most ONNX bytes a model may store on chain. Larger models publish a URI instead.
		/// Must fit in one extrinsic together with the rest of the registration.
		#[pallet::constant]
		type MaxModelBytes: Get<u32>;

		/// Most program nodes (= trace leaves) a model may have. Results carry one 32-byte leaf
		/// per node, so this bounds what a result extrinsic carries.
		#[pallet::constant]
		type MaxNodes: Get<u32>;

		/// Most bytes a single node's inputs plus outputs may take: a fraud proof for the node
		/// carries its inputs and the runtime materialises its output, within one extrinsic.
		#[pallet::constant]
		type MaxNodeFootprint: Get<u64>;

		/// The largest node cost (the engine's `exec::node_cost` units) whose fraud proof fits
		/// in one extrinsic's weight: a fraud proof re-executes the node in the runtime. The
		/// runtime derives it from pallet-inference's `challenge` weight.
		#[pallet::constant]
		type MaxNodeCost: Get<u64>;

		/// Share of a model's deposit paid to whoever proves that its owner understated a
		/// node's cost or footprint ([`Pallet::report_false_claim`]); the rest is burned, so an
		/// owner reporting itself still loses it.
		#[pallet::constant]
		type ClaimReportReward: Get<Perbill>;

		/// Weights of this pallet's calls.
		type WeightInfo: WeightInfo;
	}

	/// Why this pallet holds funds.
	#[pallet::composite_enum]
	pub enum HoldReason {
		/// The deposit for a registered model's record and on-chain bytes.
		#[codec(index = 0)]
		ModelDeposit,
	}

	/// The id the next registered model gets.
	#[pallet::storage]
	pub type NextModelId<T> = StorageValue<_, ModelId, ValueQuery>;

	/// Registered models.
	#[pallet::storage]
	pub type Models<T: Config> = StorageMap<_, Twox64Concat, ModelId, ModelInfoOf<T>>;

	/// The ONNX bytes of models stored on chain (kept apart from the records so that reading a
	/// record never loads the bytes).
	#[pallet::storage]
	pub type ModelBytes<T: Config> =
		StorageMap<_, Twox64Concat, ModelId, BoundedVec<u8, T::MaxModelBytes>>;

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// A model was registered and its deposit held.
		ModelRegistered {
			/// The new model.
			id: ModelId,
			/// Its owner.
			owner: T::AccountId,
			/// Its model root.
			model_root: H256,
			/// blake2-256 of its ONNX bytes.
			onnx_hash: H256,
			/// Where the bytes are.
			location: ModelLocation,
			/// Deposit held from the owner.
			deposit: BalanceOf<T>,
		},
		/// A model's price changed.
		PriceSet {
			/// The model.
			id: ModelId,
			/// The new royalty per inference per replica.
			price: BalanceOf<T>,
		},
		/// A model's allowed verification modes changed.
		ModesSet {
			/// The model.
			id: ModelId,
			/// The new set.
			modes: ModeSet,
		},
		/// A model was deprecated: it takes no new requests.
		ModelDeprecated {
			/// The model.
			id: ModelId,
		},
		/// A model's owner was proven to have understated a node's cost or footprint: the model
		/// is deprecated and its deposit slashed.
		FalseClaimProven {
			/// The model.
			id: ModelId,
			/// The node whose cost or footprint exceeds the claim.
			node: u32,
			/// Who proved it; receives `reward`.
			reporter: T::AccountId,
			/// Paid to the reporter out of the deposit.
			reward: BalanceOf<T>,
			/// Burned out of the deposit.
			burned: BalanceOf<T>,
		},
		/// A model was removed, its bytes deleted and its deposit released.
		ModelRemoved {
			/// The model.
			id: ModelId,
			/// Its former owner.
			owner: T::AccountId,
			/// Deposit released to the owner.
			released: BalanceOf<T>,
		},
	}

	#[pallet::error]
	pub enum Error<T> {
		/// No model has this id.
		UnknownModel,
		/// Only the model's owner may do this.
		NotOwner,
		/// The mode set is empty or has unknown bits.
		InvalidModes,
		/// Neither on-chain bytes nor a URI was given.
		NoLocation,
		/// Both on-chain bytes and a URI were given; give exactly one.
		BothLocations,
		/// The on-chain bytes are empty.
		EmptyBytes,
		/// The URI is empty.
		EmptyUri,
		/// The on-chain bytes do not hash (blake2-256) to the ONNX hash.
		OnnxHashMismatch,
		/// The program header has an IR version this runtime's engine does not execute.
		UnsupportedIrVersion,
		/// The program has more nodes than `MaxNodes`.
		TooManyNodes,
		/// The largest node's footprint exceeds `MaxNodeFootprint`: a fraud proof for it would
		/// not fit in one extrinsic.
		NodeTooLargeForFraudProof,
		/// The largest node's cost exceeds `MaxNodeCost`: a fraud proof for it would weigh more
		/// than one extrinsic may.
		NodeTooCostlyForFraudProof,
		/// The program has more than `MAX_MODEL_IO` inputs.
		TooManyInputs,
		/// The program has more than `MAX_MODEL_IO` outputs.
		TooManyOutputs,
		/// The program has no output.
		NoOutputs,
		/// The number of proven output nodes differs from the header's number of outputs.
		OutputProofCountMismatch,
		/// The header plus the output nodes are larger than `MAX_PROOF_MATERIAL` bytes.
		ProofMaterialTooLarge,
		/// An input or output has a rank above `MAX_RANK`.
		RankTooHigh,
		/// An input or output tensor's byte size overflows `u64`.
		SpecTooLarge,
		/// The header's Merkle proof does not verify against the model root.
		InvalidHeaderProof,
		/// An output's source is not output 0 of a node (program inputs and weights cannot be
		/// outputs, and every node has a single output).
		OutputNotNodeSource,
		/// An output names a node index at or beyond the node count.
		OutputNodeOutOfRange,
		/// An output node's Merkle proof does not verify against the model root.
		InvalidOutputNodeProof,
		/// An output node declares other than exactly one output.
		OutputNodeNotSingleOutput,
		/// An output node's declared output type is not what its operator infers from its
		/// declared inputs.
		OutputNodeIllTyped,
		/// An output node's footprint exceeds the claimed `max_node_footprint`.
		FootprintClaimTooLow,
		/// An output node's cost exceeds the claimed `max_node_cost`.
		CostClaimTooLow,
		/// The owner cannot pay the deposit.
		InsufficientFunds,
		/// Model ids are exhausted.
		ModelIdOverflow,
		/// The model is already deprecated.
		AlreadyDeprecated,
		/// Only a deprecated model can be removed.
		NotDeprecated,
		/// Requests for the model are still in flight.
		RequestsInFlight,
		/// The model is deprecated and takes no new requests.
		ModelDeprecated,
		/// The model's count of requests in flight would overflow.
		TooManyRequestsInFlight,
		/// A reported node index is at or beyond the model's node count.
		NodeOutOfRange,
		/// A reported node's Merkle proof does not verify against the model root.
		InvalidNodeProof,
		/// The reported node is within the model's `max_node_cost` and `max_node_footprint`
		/// claims.
		ClaimsHold,
		/// The model's deposit was already slashed for a false claim.
		DepositAlreadySlashed,
	}

	/// Models registered at genesis.
	#[pallet::genesis_config]
	#[derive(frame_support::DefaultNoBound)]
	pub struct GenesisConfig<T: Config> {
		/// `(owner, registration)` pairs, registered in order (ids `0, 1, …`) with every check
		/// of `register_model`. Each owner must be endowed by an earlier pallet's genesis (the
		/// balances pallet) with at least the deposit, which is held. A registration is written
		/// as the hex string of its SCALE encoding.
		pub models: Vec<(T::AccountId, ModelRegistrationOf<T>)>,
	}

	#[pallet::genesis_build]
	impl<T: Config> BuildGenesisConfig for GenesisConfig<T> {
		fn build(&self) {
			for (index, (owner, registration)) in self.models.iter().enumerate() {
				if let Err(error) = Pallet::<T>::do_register_model(owner, registration.clone()) {
					panic!("pallet-models genesis: model {index} is invalid: {error:?}");
				}
			}
		}
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		fn integrity_test() {
			assert!(
				T::MaxModelBytes::get() > 0,
				"MaxModelBytes must be positive"
			);
			assert!(
				T::MaxNodes::get() > 0
					&& T::MaxNodes::get() as usize <= verity_primitives::engine::ir::MAX_NODES,
				"MaxNodes must be positive and at most the engine's MAX_NODES"
			);
			assert!(
				T::MaxNodeFootprint::get() > 0,
				"MaxNodeFootprint must be positive"
			);
			assert!(T::MaxNodeCost::get() > 0, "MaxNodeCost must be positive");
			// The deposit of the largest model must not overflow: `deposit_for` saturates, and
			// this makes saturation unreachable.
			let units = BalanceOf::<T>::from(T::MaxModelBytes::get())
				.checked_add(&record_max_len::<T>().into());
			let largest = units
				.and_then(|u| T::ModelDepositPerByte::get().checked_mul(&u))
				.and_then(|d| d.checked_add(&T::ModelDepositBase::get()));
			assert!(
				largest.is_some(),
				"the deposit of the largest model overflows the balance"
			);
		}
	}

	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// Registers a model and holds its deposit from the caller, who becomes its owner.
		///
		/// See [`ModelRegistration`] for what the registration carries and the crate
		/// documentation for what is checked. Emits [`Event::ModelRegistered`].
		#[pallet::call_index(0)]
		#[pallet::weight(T::WeightInfo::register_model(
			registration.bytes_len(),
			registration.proof_material_len(),
		))]
		pub fn register_model(
			origin: OriginFor<T>,
			registration: Box<ModelRegistrationOf<T>>,
		) -> DispatchResult {
			let owner = ensure_signed(origin)?;
			let (id, info) = Self::do_register_model(&owner, *registration)?;
			Self::deposit_event(Event::ModelRegistered {
				id,
				owner,
				model_root: info.model_root,
				onnx_hash: info.onnx_hash,
				location: info.location,
				deposit: info.deposit,
			});
			Ok(())
		}

		/// Sets the royalty per inference per replica of the caller's model `id`. Requests
		/// already made keep the price they were made at. Emits [`Event::PriceSet`].
		#[pallet::call_index(1)]
		#[pallet::weight(T::WeightInfo::set_price())]
		pub fn set_price(origin: OriginFor<T>, id: ModelId, price: BalanceOf<T>) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_set_price(&who, id, price)?;
			Self::deposit_event(Event::PriceSet { id, price });
			Ok(())
		}

		/// Sets the verification modes requesters may choose for the caller's model `id`.
		/// Requests already made keep their mode. Emits [`Event::ModesSet`].
		#[pallet::call_index(2)]
		#[pallet::weight(T::WeightInfo::set_modes())]
		pub fn set_modes(origin: OriginFor<T>, id: ModelId, modes: ModeSet) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_set_modes(&who, id, modes)?;
			Self::deposit_event(Event::ModesSet { id, modes });
			Ok(())
		}

		/// Deprecates the caller's model `id`: it takes no new requests, and requests in flight
		/// finish. Irreversible. Emits [`Event::ModelDeprecated`].
		#[pallet::call_index(3)]
		#[pallet::weight(T::WeightInfo::deprecate())]
		pub fn deprecate(origin: OriginFor<T>, id: ModelId) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_deprecate(&who, id)?;
			Self::deposit_event(Event::ModelDeprecated { id });
			Ok(())
		}

		/// Removes the caller's deprecated model `id` once no request for it is in flight:
		/// deletes the record and the on-chain bytes and releases the deposit. Emits
		/// [`Event::ModelRemoved`].
		#[pallet::call_index(4)]
		#[pallet::weight(T::WeightInfo::remove_model())]
		pub fn remove_model(origin: OriginFor<T>, id: ModelId) -> DispatchResult {
			let owner = ensure_signed(origin)?;
			let released = Self::do_remove_model(&owner, id)?;
			Self::deposit_event(Event::ModelRemoved {
				id,
				owner,
				released,
			});
			Ok(())
		}

		/// Proves that the owner of model `id` understated a claim: node `index` (`proven`, the
		/// node with its Merkle proof against the model root) costs more than the claimed
		/// `max_node_cost` or has a larger footprint than the claimed `max_node_footprint`.
		/// The claims are what admit a model to requests (its heaviest node must fit a fraud
		/// proof), so an understated one can hide a node at which results cannot be proven
		/// wrong. Anyone may report; the model is deprecated (requests in flight finish) and its
		/// deposit slashed: `ClaimReportReward` of it to the caller, the rest burned.
		///
		/// Emits [`Event::FalseClaimProven`].
		#[pallet::call_index(5)]
		#[pallet::weight(T::WeightInfo::report_false_claim(proven.node.encoded_size() as u32))]
		pub fn report_false_claim(
			origin: OriginFor<T>,
			id: ModelId,
			index: u32,
			proven: Box<ProvenNode>,
		) -> DispatchResult {
			let reporter = ensure_signed(origin)?;
			let (reward, burned) = Self::do_report_false_claim(&reporter, id, index, &proven)?;
			Self::deposit_event(Event::FalseClaimProven {
				id,
				node: index,
				reporter,
				reward,
				burned,
			});
			Ok(())
		}
	}

	#[pallet::view_functions]
	impl<T: Config> Pallet<T> {
		/// The model `id`, if registered.
		pub fn model(id: ModelId) -> Option<ModelInfoOf<T>> {
			Models::<T>::get(id)
		}

		/// The ONNX bytes of model `id`, if they are stored on chain.
		pub fn model_bytes(id: ModelId) -> Option<Vec<u8>> {
			ModelBytes::<T>::get(id).map(Into::into)
		}

		/// Dry run of `register_model`: the deposit `owner` would have held for
		/// `registration`, or the error registering it would fail with (the owner's balance
		/// aside). Changes nothing.
		pub fn registration_deposit(
			owner: T::AccountId,
			registration: ModelRegistrationOf<T>,
		) -> Result<BalanceOf<T>, DispatchError> {
			Self::prepare(&owner, &registration).map(|info| info.deposit)
		}
	}

	impl<T: Config> Pallet<T> {
		/// Checks `registration`, holds the deposit from `owner` and stores the model. Returns
		/// the new id and record. Changes nothing on error.
		pub fn do_register_model(
			owner: &T::AccountId,
			registration: ModelRegistrationOf<T>,
		) -> Result<(ModelId, ModelInfoOf<T>), DispatchError> {
			let info = Self::prepare(owner, &registration)?;
			let id = NextModelId::<T>::get();
			let next = id.checked_add(1).ok_or(Error::<T>::ModelIdOverflow)?;
			if !info.deposit.is_zero() {
				T::Currency::hold(&HoldReason::ModelDeposit.into(), owner, info.deposit)
					.map_err(|_| Error::<T>::InsufficientFunds)?;
			}
			NextModelId::<T>::put(next);
			if let Some(bytes) = registration.bytes {
				ModelBytes::<T>::insert(id, bytes);
			}
			Models::<T>::insert(id, &info);
			Ok((id, info))
		}

		/// Checks `registration` and builds the record `owner` would get, deposit included.
		fn prepare(
			owner: &T::AccountId,
			registration: &ModelRegistrationOf<T>,
		) -> Result<ModelInfoOf<T>, DispatchError> {
			let (inputs, outputs, location) = Self::check_registration(registration)?;
			let mut info = ModelInfo {
				owner: owner.clone(),
				onnx_hash: registration.onnx_hash,
				model_root: registration.model_root,
				compiler_version: registration.compiler_version,
				node_count: registration.header.node_count,
				weight_count: registration.header.weight_count,
				inputs,
				outputs,
				macs: registration.macs,
				max_node_footprint: registration.max_node_footprint,
				max_node_cost: registration.max_node_cost,
				price: registration.price,
				modes: registration.modes,
				location,
				deposit: Zero::zero(),
				status: ModelStatus::Active,
				in_flight: 0,
				registered_at: frame_system::Pallet::<T>::block_number(),
			};
			// The balance encodes at a fixed width, so the size does not depend on the deposit.
			let record_len = u32::try_from(info.encoded_size()).unwrap_or(u32::MAX);
			info.deposit = Self::deposit_for(registration.bytes_len(), record_len);
			Ok(info)
		}

		/// Sets the price of `who`'s model `id`.
		pub fn do_set_price(
			who: &T::AccountId,
			id: ModelId,
			price: BalanceOf<T>,
		) -> DispatchResult {
			Self::mutate_owned(who, id, |info| {
				info.price = price;
				Ok(())
			})
		}

		/// Sets the allowed modes of `who`'s model `id`.
		pub fn do_set_modes(who: &T::AccountId, id: ModelId, modes: ModeSet) -> DispatchResult {
			ensure!(modes.is_valid(), Error::<T>::InvalidModes);
			Self::mutate_owned(who, id, |info| {
				info.modes = modes;
				Ok(())
			})
		}

		/// Deprecates `who`'s model `id`.
		pub fn do_deprecate(who: &T::AccountId, id: ModelId) -> DispatchResult {
			Self::mutate_owned(who, id, |info| {
				ensure!(
					info.status == ModelStatus::Active,
					Error::<T>::AlreadyDeprecated
				);
				info.status = ModelStatus::Deprecated;
				Ok(())
			})
		}

		/// Removes `who`'s deprecated, idle model `id` and releases its deposit. Returns what
		/// was released.
		pub fn do_remove_model(
			who: &T::AccountId,
			id: ModelId,
		) -> Result<BalanceOf<T>, DispatchError> {
			let info = Models::<T>::get(id).ok_or(Error::<T>::UnknownModel)?;
			ensure!(info.owner == *who, Error::<T>::NotOwner);
			ensure!(
				info.status == ModelStatus::Deprecated,
				Error::<T>::NotDeprecated
			);
			ensure!(info.in_flight == 0, Error::<T>::RequestsInFlight);
			let released = if info.deposit.is_zero() {
				Zero::zero()
			} else {
				T::Currency::release(
					&HoldReason::ModelDeposit.into(),
					who,
					info.deposit,
					Precision::BestEffort,
				)?
			};
			Models::<T>::remove(id);
			ModelBytes::<T>::remove(id);
			Ok(released)
		}

		/// Checks `reporter`'s proof that node `index` of model `id` exceeds the owner's claims,
		/// then deprecates the model and slashes its deposit. Returns the reward paid and the
		/// amount burned.
		pub fn do_report_false_claim(
			reporter: &T::AccountId,
			id: ModelId,
			index: u32,
			proven: &ProvenNode,
		) -> Result<(BalanceOf<T>, BalanceOf<T>), DispatchError> {
			let mut info = Models::<T>::get(id).ok_or(Error::<T>::UnknownModel)?;
			ensure!(!info.deposit.is_zero(), Error::<T>::DepositAlreadySlashed);
			ensure!(
				proven.node.encoded_size() as u64 <= u64::from(MAX_PROOF_MATERIAL),
				Error::<T>::ProofMaterialTooLarge
			);
			ensure!(index < info.node_count, Error::<T>::NodeOutOfRange);
			ensure!(
				verify_node(
					&info.model_root.0,
					&proven.node,
					index,
					info.node_count,
					info.weight_count,
					&proven.proof
				),
				Error::<T>::InvalidNodeProof
			);
			ensure!(
				node_cost(&proven.node) > info.max_node_cost
					|| node_footprint(&proven.node) > info.max_node_footprint,
				Error::<T>::ClaimsHold
			);
			let reason = HoldReason::ModelDeposit.into();
			let reward = T::ClaimReportReward::get() * info.deposit;
			let reward = if *reporter == info.owner {
				T::Currency::release(&reason, reporter, reward, Precision::BestEffort)?
			} else {
				T::Currency::transfer_on_hold(
					&reason,
					&info.owner,
					reporter,
					reward,
					Precision::BestEffort,
					Restriction::Free,
					Fortitude::Force,
				)?
			};
			let burned = T::Currency::burn_held(
				&reason,
				&info.owner,
				info.deposit.saturating_sub(reward),
				Precision::BestEffort,
				Fortitude::Force,
			)?;
			info.deposit = Zero::zero();
			info.status = ModelStatus::Deprecated;
			Models::<T>::insert(id, info);
			Ok((reward, burned))
		}

		/// `ModelDepositBase + ModelDepositPerByte × (stored_bytes + record_len)`. Saturates,
		/// which the integrity test makes unreachable for sizes within the bounds.
		pub fn deposit_for(stored_bytes: u32, record_len: u32) -> BalanceOf<T> {
			let units = BalanceOf::<T>::from(stored_bytes).saturating_add(record_len.into());
			T::ModelDepositBase::get()
				.saturating_add(T::ModelDepositPerByte::get().saturating_mul(units))
		}

		/// Applies `f` to `who`'s model `id`; nothing is written if `f` fails.
		fn mutate_owned(
			who: &T::AccountId,
			id: ModelId,
			f: impl FnOnce(&mut ModelInfoOf<T>) -> DispatchResult,
		) -> DispatchResult {
			Models::<T>::try_mutate(id, |maybe| {
				let info = maybe.as_mut().ok_or(Error::<T>::UnknownModel)?;
				ensure!(info.owner == *who, Error::<T>::NotOwner);
				f(info)
			})
		}

		/// Every registration check; returns the input specs, the output specs and the
		/// location. Cheap checks first, then the byte hash, then the Merkle proofs.
		#[allow(clippy::type_complexity)]
		fn check_registration(
			r: &ModelRegistrationOf<T>,
		) -> Result<
			(
				BoundedVec<TensorSpec, ConstU32<MAX_MODEL_IO>>,
				BoundedVec<OutputSpec, ConstU32<MAX_MODEL_IO>>,
				ModelLocation,
			),
			DispatchError,
		> {
			ensure!(r.modes.is_valid(), Error::<T>::InvalidModes);
			let location = match (&r.bytes, &r.uri) {
				(None, None) => return Err(Error::<T>::NoLocation.into()),
				(Some(_), Some(_)) => return Err(Error::<T>::BothLocations.into()),
				(Some(bytes), None) => {
					ensure!(!bytes.is_empty(), Error::<T>::EmptyBytes);
					ModelLocation::OnChain {
						len: bytes.len() as u32,
					}
				}
				(None, Some(uri)) => {
					ensure!(!uri.is_empty(), Error::<T>::EmptyUri);
					ModelLocation::Uri(uri.clone())
				}
			};
			let header = &r.header;
			ensure!(
				header.version == IR_VERSION,
				Error::<T>::UnsupportedIrVersion
			);
			ensure!(
				header.node_count <= T::MaxNodes::get(),
				Error::<T>::TooManyNodes
			);
			ensure!(
				r.max_node_footprint <= T::MaxNodeFootprint::get(),
				Error::<T>::NodeTooLargeForFraudProof
			);
			ensure!(
				r.max_node_cost <= T::MaxNodeCost::get(),
				Error::<T>::NodeTooCostlyForFraudProof
			);
			ensure!(
				header.inputs.len() <= MAX_MODEL_IO as usize,
				Error::<T>::TooManyInputs
			);
			ensure!(
				header.outputs.len() <= MAX_MODEL_IO as usize,
				Error::<T>::TooManyOutputs
			);
			ensure!(!header.outputs.is_empty(), Error::<T>::NoOutputs);
			ensure!(
				r.output_nodes.len() == header.outputs.len(),
				Error::<T>::OutputProofCountMismatch
			);
			ensure!(
				r.proof_material_len() <= MAX_PROOF_MATERIAL,
				Error::<T>::ProofMaterialTooLarge
			);
			let inputs = header
				.inputs
				.iter()
				.map(|input| Self::spec_of(&input.ty))
				.collect::<Result<Vec<_>, _>>()?;

			if let Some(bytes) = &r.bytes {
				ensure!(
					sp_io::hashing::blake2_256(bytes) == r.onnx_hash.0,
					Error::<T>::OnnxHashMismatch
				);
			}
			let root = r.model_root.0;
			ensure!(
				verify_header(&root, header, &r.header_proof),
				Error::<T>::InvalidHeaderProof
			);

			let mut outputs = Vec::with_capacity(header.outputs.len());
			for (output, proven) in header.outputs.iter().zip(r.output_nodes.iter()) {
				let ValueRef::Node {
					node: index,
					output: 0,
				} = output.source
				else {
					return Err(Error::<T>::OutputNotNodeSource.into());
				};
				ensure!(index < header.node_count, Error::<T>::OutputNodeOutOfRange);
				let node = &proven.node;
				ensure!(
					verify_node(
						&root,
						node,
						index,
						header.node_count,
						header.weight_count,
						&proven.proof
					),
					Error::<T>::InvalidOutputNodeProof
				);
				let [ty] = node.outputs.as_slice() else {
					return Err(Error::<T>::OutputNodeNotSingleOutput.into());
				};
				ensure!(
					node.check_types(index).is_ok(),
					Error::<T>::OutputNodeIllTyped
				);
				ensure!(
					node_footprint(node) <= r.max_node_footprint,
					Error::<T>::FootprintClaimTooLow
				);
				ensure!(
					node_cost(node) <= r.max_node_cost,
					Error::<T>::CostClaimTooLow
				);
				outputs.push(OutputSpec {
					node: index,
					spec: Self::spec_of(ty)?,
				});
			}
			// Both lengths were checked against `MAX_MODEL_IO` above.
			let inputs = BoundedVec::try_from(inputs).map_err(|_| Error::<T>::TooManyInputs)?;
			let outputs = BoundedVec::try_from(outputs).map_err(|_| Error::<T>::TooManyOutputs)?;
			Ok((inputs, outputs, location))
		}

		/// The spec of a program value: rank within `MAX_RANK`, byte size within `u64`.
		fn spec_of(
			ty: &verity_primitives::engine::TensorType,
		) -> Result<TensorSpec, DispatchError> {
			let spec = TensorSpec::from_type(ty).ok_or(Error::<T>::RankTooHigh)?;
			ensure!(spec.byte_size().is_some(), Error::<T>::SpecTooLarge);
			Ok(spec)
		}
	}

	/// Largest encoded size of a model record.
	pub(crate) fn record_max_len<T: Config>() -> u32 {
		u32::try_from(ModelInfoOf::<T>::max_encoded_len()).unwrap_or(u32::MAX)
	}
}
