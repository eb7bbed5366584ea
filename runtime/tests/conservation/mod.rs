//! The property test of `conservation_property.rs`, by concern: who takes part and the genesis
//! they start from, the models and every execution a worker may post, and the expected-balances
//! model that says what each party must hold.

pub mod ledger;
pub mod parties;
pub mod programs;
