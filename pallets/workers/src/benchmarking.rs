//! Benchmarks of `pallet_workers`, worst cases: `w` workers in the active set, the worker
//! acted on last in it, and (for `slash`) a slash that suspends the worker.

#![cfg(feature = "runtime-benchmarks")]

use super::*;
use alloc::vec::Vec;
use codec::Encode;
use frame_benchmarking::v2::*;
use frame_support::traits::{
	fungible::{Inspect, Mutate},
	Get,
};
use frame_system::RawOrigin;
use sp_runtime::traits::Saturating;
use verity_primitives::{WorkerRegistry, MAX_REPLICAS};

const SEED: u32 = 0;

/// A distinct key for index `i`.
fn key_for(i: u32) -> WorkerPublic {
	let raw = sp_io::hashing::blake2_256(&(b"verity.bench.key", i).encode());
	WorkerPublic::from(sp_core::sr25519::Public::from_raw(raw))
}

/// An account that can bond several times `MinWorkerBond`.
fn funded<T: Config>(name: &'static str, i: u32) -> T::AccountId {
	let who: T::AccountId = account(name, i, SEED);
	let amount = T::MinWorkerBond::get()
		.saturating_mul(10u32.into())
		.saturating_add(T::Currency::minimum_balance().saturating_mul(10u32.into()));
	let _ = T::Currency::set_balance(&who, amount);
	who
}

/// Registers `n` workers (indices `from..from + n`) and returns them.
fn workers<T: Config>(from: u32, n: u32) -> Vec<T::AccountId> {
	(from..from + n)
		.map(|i| {
			let who = funded::<T>("worker", i);
			Pallet::<T>::do_register_worker(&who, key_for(i), T::MinWorkerBond::get())
				.expect("room in the active set");
			who
		})
		.collect()
}

#[benchmarks]
mod benchmarks {
	use super::*;

	#[benchmark]
	fn register_worker(w: Linear<0, { T::MaxWorkers::get() - 1 }>) {
		workers::<T>(0, w);
		let who = funded::<T>("new", 0);
		let bond = T::MinWorkerBond::get();

		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()), key_for(u32::MAX), bond);

		assert_eq!(ActiveWorkers::<T>::get().last(), Some(&who));
	}

	#[benchmark]
	fn bond_extra() {
		let who = workers::<T>(0, 1).remove(0);
		let amount = T::MinWorkerBond::get();

		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()), amount);

		assert_eq!(
			Workers::<T>::get(&who).map(|w| w.bond),
			Some(T::MinWorkerBond::get().saturating_mul(2u32.into()))
		);
	}

	#[benchmark]
	fn rotate_key() {
		let who = workers::<T>(0, 1).remove(0);
		let new_key = key_for(u32::MAX);

		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()), new_key.clone());

		assert_eq!(KeyOwner::<T>::get(new_key), Some(who));
	}

	#[benchmark]
	fn unbond(w: Linear<1, { T::MaxWorkers::get() }>) {
		let who = workers::<T>(0, w).pop().expect("w is at least 1");

		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()));

		assert!(!ActiveWorkers::<T>::get().contains(&who));
	}

	#[benchmark]
	fn withdraw_unbonded() {
		let who = workers::<T>(0, 1).remove(0);
		let (until, _) = Pallet::<T>::do_unbond(&who).expect("an active worker unbonds");
		frame_system::Pallet::<T>::set_block_number(until);

		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()));

		assert!(Workers::<T>::get(&who).is_none());
	}

	#[benchmark]
	fn rejoin(w: Linear<0, { T::MaxWorkers::get() - 1 }>) {
		let who = workers::<T>(0, 1).remove(0);
		Pallet::<T>::do_unbond(&who).expect("an active worker unbonds");
		workers::<T>(1, w);

		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()));

		assert_eq!(ActiveWorkers::<T>::get().last(), Some(&who));
	}

	#[benchmark]
	fn select(w: Linear<1, { T::MaxWorkers::get() }>) {
		workers::<T>(0, w);
		let exclude: Vec<T::AccountId> = (0..MAX_REPLICAS)
			.map(|i| account("excluded", i, SEED))
			.collect();
		let chosen;

		#[block]
		{
			chosen = <Pallet<T> as WorkerRegistry<_, _>>::select(&[7; 32], MAX_REPLICAS, &exclude);
		}

		assert_eq!(chosen.len() as u32, w.min(MAX_REPLICAS));
	}

	#[benchmark]
	fn slash(w: Linear<1, { T::MaxWorkers::get() }>) {
		let who = workers::<T>(0, w).pop().expect("w is at least 1");
		let beneficiary: T::AccountId = account("beneficiary", 0, SEED);
		let amount = T::MinWorkerBond::get();
		let moved;

		#[block]
		{
			moved = <Pallet<T> as WorkerRegistry<_, _>>::slash(&who, amount, &beneficiary);
		}

		assert_eq!(moved, amount);
		assert!(!ActiveWorkers::<T>::get().contains(&who));
	}

	#[benchmark]
	fn note_served() {
		let who = workers::<T>(0, 1).remove(0);

		#[block]
		{
			<Pallet<T> as WorkerRegistry<_, _>>::note_served(&who);
		}

		assert_eq!(Workers::<T>::get(&who).map(|w| w.served), Some(1));
	}

	impl_benchmark_test_suite!(Pallet, crate::mock::new_test_ext(), crate::mock::Test);
}
