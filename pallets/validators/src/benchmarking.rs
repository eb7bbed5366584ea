//! Benchmarks of `pallet_validators`, worst cases: the set one short of `MaxValidators` (add
//! appends last) and full (remove takes out the last member).

#![cfg(feature = "runtime-benchmarks")]

use super::*;
use frame_benchmarking::v2::*;
use frame_support::traits::{EnsureOrigin, Get};

const SEED: u32 = 0;

/// Fills the set to `size` with fresh accounts that have session keys.
fn fill<T: Config>(size: u32) {
	let mut i = 0;
	while (Validators::<T>::get().len() as u32) < size {
		let who: T::AccountId = account("validator", i, SEED);
		i += 1;
		if Validators::<T>::get().contains(&who) {
			continue;
		}
		T::BenchmarkHelper::set_session_keys(&who);
		Pallet::<T>::do_add_validator(&who).expect("room in the set");
	}
}

#[benchmarks]
mod benchmarks {
	use super::*;

	#[benchmark]
	fn add_validator() -> Result<(), BenchmarkError> {
		let origin =
			T::AddRemoveOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;
		fill::<T>(T::MaxValidators::get() - 1);
		let who: T::AccountId = account("subject", 0, SEED);
		T::BenchmarkHelper::set_session_keys(&who);

		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, who.clone());

		assert_eq!(Validators::<T>::get().last(), Some(&who));
		Ok(())
	}

	#[benchmark]
	fn remove_validator() -> Result<(), BenchmarkError> {
		let origin =
			T::AddRemoveOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;
		fill::<T>(T::MaxValidators::get());
		let who = Validators::<T>::get()
			.last()
			.cloned()
			.expect("the set is full");

		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, who.clone());

		assert!(!Validators::<T>::get().contains(&who));
		Ok(())
	}

	impl_benchmark_test_suite!(Pallet, crate::mock::new_test_ext(), crate::mock::Test);
}
