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

/// Index of the worker a benchmark acts on (distinct from the ones filling the active set).
const SUBJECT: u32 = u32::MAX - 1;

/// Registers worker `i` with the minimum bond.
fn new_worker<T: Config>(i: u32) -> T::AccountId {
	let who = funded::<T>("worker", i);
	Pallet::<T>::do_register_worker(&who, key_for(i), T::MinWorkerBond::get())
		.expect("room in the active set");
	who
}

/// Registers workers until the active set holds `size` (a chain's genesis may already hold
/// some).
fn fill_active_set<T: Config>(size: u32) {
	let mut i = 0;
	while (ActiveWorkers::<T>::get().len() as u32) < size {
		new_worker::<T>(i);
		i += 1;
	}
}

/// The subject worker, registered last into an active set of `size` (at least 1).
fn last_of<T: Config>(size: u32) -> T::AccountId {
	fill_active_set::<T>(size.saturating_sub(1));
	new_worker::<T>(SUBJECT)
}

#[benchmarks]
mod benchmarks {
	use super::*;

	#[benchmark]
	fn register_worker(w: Linear<0, { T::MaxWorkers::get() - 1 }>) {
		fill_active_set::<T>(w);
		let who = funded::<T>("new", 0);
		let bond = T::MinWorkerBond::get();

		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()), key_for(u32::MAX), bond);

		assert_eq!(ActiveWorkers::<T>::get().last(), Some(&who));
	}

	#[benchmark]
	fn bond_extra() {
		let who = new_worker::<T>(SUBJECT);
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
		let who = new_worker::<T>(SUBJECT);
		let new_key = key_for(u32::MAX);

		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()), new_key.clone());

		assert_eq!(KeyOwner::<T>::get(new_key), Some(who));
	}

	#[benchmark]
	fn unbond(w: Linear<1, { T::MaxWorkers::get() }>) {
		let who = last_of::<T>(w);

		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()));

		assert!(!ActiveWorkers::<T>::get().contains(&who));
	}

	#[benchmark]
	fn withdraw_unbonded() {
		let who = new_worker::<T>(SUBJECT);
		let (until, _) = Pallet::<T>::do_unbond(&who).expect("an active worker unbonds");
		frame_system::Pallet::<T>::set_block_number(until);

		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()));

		assert!(Workers::<T>::get(&who).is_none());
	}

	#[benchmark]
	fn rejoin(w: Linear<0, { T::MaxWorkers::get() - 1 }>) {
		let who = new_worker::<T>(SUBJECT);
		Pallet::<T>::do_unbond(&who).expect("an active worker unbonds");
		fill_active_set::<T>(w);

		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()));

		assert_eq!(ActiveWorkers::<T>::get().last(), Some(&who));
	}

	#[benchmark]
	fn select(w: Linear<1, { T::MaxWorkers::get() }>) {
		fill_active_set::<T>(w);
		let exclude: Vec<T::AccountId> = (0..MAX_REPLICAS)
			.map(|i| account("excluded", i, SEED))
			.collect();
		let chosen;

		#[block]
		{
			chosen = <Pallet<T> as WorkerRegistry<_, _>>::select(&[7; 32], MAX_REPLICAS, &exclude);
		}

		assert_eq!(
			chosen.len() as u32,
			(ActiveWorkers::<T>::get().len() as u32).min(MAX_REPLICAS)
		);
	}

	#[benchmark]
	fn slash(w: Linear<1, { T::MaxWorkers::get() }>) {
		let who = last_of::<T>(w);
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
		let who = new_worker::<T>(SUBJECT);

		#[block]
		{
			<Pallet<T> as WorkerRegistry<_, _>>::note_served(&who);
		}

		assert_eq!(Workers::<T>::get(&who).map(|w| w.served), Some(1));
	}

	impl_benchmark_test_suite!(Pallet, crate::mock::new_test_ext(), crate::mock::Test);
}
