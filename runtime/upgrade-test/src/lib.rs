//! The Verity runtime with `spec_version` one higher (its `upgrade-test` feature) and nothing
//! else changed: the code that `node/tests/dev_chain.rs` sets with
//! `sudo.sudoUncheckedWeight(system.setCode)` on a running dev node. `runtime/build.rs` builds
//! it to wasm (`verity_runtime::upgrade_test::WASM_BINARY`); natively the crate is empty.
#![no_std]

#[cfg(target_family = "wasm")]
pub use verity_runtime::*;
