//! Tests on the mock runtime, by concern: the calls, the session manager and genesis.

mod calls;
mod genesis;
mod session;

use crate::{mock::*, Validators};

/// The set as a plain list.
pub fn set() -> alloc::vec::Vec<AccountId> {
	Validators::<Test>::get().into_inner()
}
