//! The cost of the largest fraud proof of each repo model, from the benchmarked weights:
//! `cargo run --release -p verity-runtime --example fraud_proof_costs [MODEL.onnx=NAME:D0,D1,...]`.
//!
//! For every node of the model, the fraud proof's weight is `challenge_weight(node)` (the
//! benchmarked `challenge(c)` at the node's cost, plus the worst-case slashing and settlement of a
//! quorum dispute). Prints the heaviest node's cost, weight, share of a block, and the size of its
//! fraud-proof arguments (the node and its input tensors).

use codec::Encode;
use frame_support::weights::constants::WEIGHT_REF_TIME_PER_MILLIS;
use verity_engine::{exec::node_cost, ir::ValueRef, Program};
use verity_runtime::{configs::RuntimeBlockWeights, Runtime};

fn largest_proof(name: &str, program: &Program) {
	let (index, node) = program
		.nodes
		.iter()
		.enumerate()
		.max_by_key(|(_, n)| node_cost(n))
		.expect("a program has nodes");
	let weight = pallet_inference::Pallet::<Runtime>::challenge_weight(node);
	let max_extrinsic = RuntimeBlockWeights::get()
		.get(frame_support::dispatch::DispatchClass::Normal)
		.max_extrinsic
		.unwrap_or_default();
	// The proof carries the node and each input tensor (weights with their Merkle proofs).
	let inputs: usize = node
		.inputs
		.iter()
		.flatten()
		.map(|i| match i.source {
			ValueRef::Weight(w) => program.weights[w as usize].encoded_size() + 32 * 12,
			_ => i.ty.byte_size().unwrap_or(0) as usize + 16,
		})
		.sum();
	println!(
		"| {name} | {index} ({}) | {} | {:.2} ms | {:.1} % | {:.1} KiB |",
		node.op.name(),
		node_cost(node),
		weight.ref_time() as f64 / WEIGHT_REF_TIME_PER_MILLIS as f64,
		100.0 * weight.ref_time() as f64 / max_extrinsic.ref_time() as f64,
		(node.encoded_size() + inputs) as f64 / 1024.0,
	);
}

fn main() {
	let repo = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
	let mut models: Vec<(String, String, Vec<usize>)> = vec![
		(
			"mlp-digits".into(),
			format!("{repo}/models/mlp-digits/model.onnx"),
			vec![1, 64],
		),
		(
			"cnn-digits".into(),
			format!("{repo}/models/cnn-digits/model.onnx"),
			vec![1, 1, 8, 8],
		),
		(
			"cnn-digits-int8".into(),
			format!("{repo}/models/cnn-digits-int8/model.onnx"),
			vec![1, 1, 8, 8],
		),
	];
	// Extra models: PATH=INPUT_NAME:D0,D1,...
	for arg in std::env::args().skip(1) {
		let (path, spec) = arg.split_once('=').expect("PATH=INPUT:D0,D1,...");
		let (_, dims) = spec.split_once(':').expect("INPUT:D0,D1,...");
		let dims = dims
			.split(',')
			.map(|d| d.parse().expect("a dimension"))
			.collect();
		models.push((
			path.rsplit('/').next().unwrap_or(path).into(),
			path.into(),
			dims,
		));
	}
	println!("| model | heaviest node | cost (units) | challenge weight | of max extrinsic | proof size |");
	println!("|---|---|---|---|---|---|");
	for (name, path, shape) in models {
		let onnx = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
		let compiled = verity_onnx::compile(&onnx, &[("input", shape)]).expect("compiles");
		largest_proof(&name, &compiled.program);
	}
	println!(
		"\nMaxNodeCost (largest cost whose fraud proof weighs at most half a normal extrinsic): {}",
		verity_runtime::configs::MaxNodeCost::get()
	);
}
