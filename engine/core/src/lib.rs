//! Verity's canonical, deterministic inference engine (`no_std` + `alloc`).
//!
//! * [`tensor`]: element types, tensors and their SCALE encoding.
//! * [`ir`]: the versioned program IR (one output per node, so node `i` is trace leaf `i`;
//!   validation).
//! * [`ops`]: operator kernels, one file per family, each stating its reduction order.
//! * [`linalg`]: the FMA primitive, NaN canonicalisation and the packed GEMM.
//! * [`exec`]: whole-program execution with a trace, single-node re-execution, costs.
//! * [`commit`]: tensor hashes, Merkle trees, trace root and model root.
//!
//! **Determinism contract.** Every multiply-accumulate is a correctly rounded fused
//! multiply-add (`acc = fma(a, b, acc)`) in a fixed order per output element; SIMD lanes,
//! register tiles and threads only ever split work across independent output elements;
//! transcendentals come from the pure-Rust `libm`; NaNs are canonicalised. Results and traces
//! are therefore bit-identical natively (hardware FMA, any thread count) and in wasm (software
//! FMA).
#![cfg_attr(not(feature = "std"), no_std)]
#![warn(missing_docs)]

extern crate alloc;

pub mod commit;
pub mod exec;
pub mod ir;
pub mod linalg;
pub mod ops;
pub mod tensor;

pub use commit::{model_root, tensor_hash, trace_root, Hash, MerkleProof, ModelTree, Trace};
pub use exec::{execute, execute_node, execute_with, node_cost, ExecError, ExecOptions, Prepared};
pub use ir::{Node, NodeInput, Op, OutputInfo, Program, ValueInfo, ValueRef, IR_VERSION};
pub use tensor::{DType, Tensor, TensorData, TensorType};
