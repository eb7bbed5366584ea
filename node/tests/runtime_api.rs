//! Single-node execution through `VerityApi_execute_node` in the real wasm runtime of a running
//! `verity-node`, over JSON-RPC (`state_call`), must hash exactly like the native engine — the
//! property fraud proofs rest on. Every node of the repo models (float MLP and CNN, int8 CNN).

mod common;

use std::time::Duration;

use codec::{Decode, Encode};
use common::*;
use serde_json::json;
use verity_engine::{
	commit::tensor_hash,
	ir::{Node as IrNode, ValueRef},
	Program, Tensor,
};

/// Compiles a repo model for a batch of one and reads its first committed input sample.
fn repo_model(name: &str, shape: Vec<usize>) -> (Program, Vec<Tensor>) {
	let dir = repo_path(&format!("models/{name}"));
	let onnx = std::fs::read(dir.join("model.onnx")).expect("model.onnx");
	let compiled = verity_onnx::compile(&onnx, &[("input", shape.clone())]).expect("compiles");
	let sample = verity_onnx::read_npy(dir.join("input_0.npy")).expect("input_0.npy");
	// Samples may be stored without the batch dimension.
	let (_, data) = sample.into_parts();
	let input = Tensor::new(shape, data).expect("the sample has the model's input size");
	(compiled.program, vec![input])
}

/// The values node `node` reads in a native run: program inputs, weights, earlier outputs.
fn node_inputs(
	program: &Program,
	inputs: &[Tensor],
	outputs: &[Tensor],
	node: &IrNode,
) -> Vec<Option<Tensor>> {
	node.inputs
		.iter()
		.map(|input| {
			input.as_ref().map(|i| match i.source {
				ValueRef::Input(k) => inputs[k as usize].clone(),
				ValueRef::Weight(w) => program.weights[w as usize].clone(),
				ValueRef::Node { node, .. } => outputs[node as usize].clone(),
			})
		})
		.collect()
}

#[test]
fn wasm_runtime_executes_every_node_bit_identically() {
	let dev = Node::spawn("runtime-api", &["--dev", "--tmp"]);
	dev.rpc_when_up("system_health", json!([]), Duration::from_secs(60));

	let models = [
		("mlp-digits", vec![1, 64]),
		("cnn-digits", vec![1, 1, 8, 8]),
		("cnn-digits-int8", vec![1, 1, 8, 8]),
	];
	let mut checked = 0;
	for (name, shape) in models {
		let (program, inputs) = repo_model(name, shape);
		// Every intermediate value of the native run, node by node.
		let mut outputs: Vec<Tensor> = Vec::new();
		for (i, node) in program.nodes.iter().enumerate() {
			let args = node_inputs(&program, &inputs, &outputs, node);
			let refs: Vec<Option<&Tensor>> = args.iter().map(Option::as_ref).collect();
			let native = verity_engine::execute_node(node, &refs)
				.expect("native run")
				.remove(0);

			let call = (node.clone(), args).encode();
			let reply = dev
				.rpc(
					"state_call",
					json!(["VerityApi_execute_node", format!("0x{}", hex::encode(call))]),
				)
				.expect("state_call");
			let bytes = hex_bytes(&reply).expect("hex reply");
			let wasm = Result::<Vec<Tensor>, Vec<u8>>::decode(&mut &bytes[..])
				.expect("the reply decodes")
				.unwrap_or_else(|e| panic!("{name} node {i}: {}", String::from_utf8_lossy(&e)));
			assert_eq!(wasm.len(), 1, "{name} node {i}: one output");
			assert_eq!(
				tensor_hash(&wasm[0]),
				tensor_hash(&native),
				"{name} node {i} ({}): wasm and native differ",
				node.op.name()
			);
			outputs.push(native);
			checked += 1;
		}
		// The node-by-node run is the whole program's run: same trace root.
		let (_, trace) = verity_engine::execute(&program, &inputs).expect("whole run");
		let leaves: Vec<_> = outputs.iter().map(tensor_hash).collect();
		assert_eq!(
			trace.leaves, leaves,
			"{name}: node-by-node trace equals the whole run's"
		);
	}
	assert!(checked >= 20, "checked {checked} nodes");
}
