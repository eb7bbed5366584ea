//! [`ModelRegistry`]: how the inference pallet reads models and keeps them alive while requests
//! reference them.

use frame_support::{ensure, pallet_prelude::DispatchResult, traits::Get};
use frame_system::pallet_prelude::BlockNumberFor;
use verity_primitives::{ModelId, ModelRegistry, ModelStatus};

use crate::{BalanceOf, Config, Error, ModelInfoOf, Models, Pallet};

impl<T: Config> ModelRegistry<T::AccountId, BalanceOf<T>, BlockNumberFor<T>> for Pallet<T> {
	fn model(id: ModelId) -> Option<ModelInfoOf<T>> {
		Models::<T>::get(id)
	}

	/// Checks the claims against [`Config::MaxNodeCost`] and [`Config::MaxNodeFootprint`] as they
	/// are now.
	fn fits_fraud_proofs(model: &ModelInfoOf<T>) -> bool {
		model.max_node_cost <= T::MaxNodeCost::get()
			&& model.max_node_footprint <= T::MaxNodeFootprint::get()
	}

	/// Counts a request in flight for `id`, which blocks the model's removal until the request
	/// closes. Fails with [`Error::UnknownModel`], [`Error::ModelDeprecated`] or
	/// [`Error::TooManyRequestsInFlight`], changing nothing.
	///
	/// No event: the inference pallet's request event says the same.
	fn request_opened(id: ModelId) -> DispatchResult {
		Models::<T>::try_mutate(id, |maybe| {
			let info = maybe.as_mut().ok_or(Error::<T>::UnknownModel)?;
			ensure!(
				info.status == ModelStatus::Active,
				Error::<T>::ModelDeprecated
			);
			info.in_flight = info
				.in_flight
				.checked_add(1)
				.ok_or(Error::<T>::TooManyRequestsInFlight)?;
			Ok(())
		})
	}

	/// Uncounts a request for `id` (saturating at zero; nothing happens for an unknown id).
	fn request_closed(id: ModelId) {
		Models::<T>::mutate_extant(id, |info| {
			info.in_flight = info.in_flight.saturating_sub(1);
		});
	}
}
