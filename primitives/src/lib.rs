//! Shared, `no_std` building blocks of Verity's protocol.
//!
//! * [`types`]: the on-chain records (models, requests, results, receipts) and their bounds.
//! * [`traits`]: how the pallets reach each other (`ModelRegistry`, `WorkerRegistry`), so that
//!   no pallet reads another's storage.
//! * [`fraud`]: single-operator adjudication: verify a challenged node and its inputs against
//!   the model root, the request input and the accused trace, then re-execute it.
//! * [`api`]: the `VerityApi` runtime API.
//! * [`crypto`]: the worker key type.
//! * [`host`]: the `verity_inference` host function (native inference for off-chain workers).
//!
//! The deterministic engine is re-exported as [`engine`].
#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub mod api;
pub mod crypto;
pub mod fraud;
pub mod host;
pub mod traits;
pub mod types;

pub use verity_engine as engine;

pub use traits::{ModelRegistry, WorkerRegistry};
pub use types::*;
