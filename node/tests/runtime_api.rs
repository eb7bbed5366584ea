//! Single-node execution through `VerityApi_execute_node` in the real wasm runtime of a running
//! `verity-node`, over JSON-RPC (`state_call`), must hash exactly like the native engine — the
//! property fraud proofs rest on. Every node of the repo models (float MLP and CNN, int8 CNN,
//! embedding bag); an operator rejecting its inputs fails in wasm as natively (a failure is a
//! fraud-proof verdict); a node heavier than any fraud proof may carry is refused unexecuted.

mod common;

use std::time::Duration;

use codec::{Decode, Encode};
use common::*;
use serde_json::json;
use verity_engine::{
	commit::tensor_hash,
	ir::{Node as IrNode, NodeInput, Op, ValueRef},
	DType, Program, Tensor, TensorType,
};

/// Compiles a repo model for a batch of one and reads its first committed input sample.
fn repo_model(name: &str, input: &str, shape: Vec<usize>) -> (Program, Vec<Tensor>) {
	let dir = repo_path(&format!("models/{name}"));
	let onnx = std::fs::read(dir.join("model.onnx")).expect("model.onnx");
	let compiled = verity_onnx::compile(&onnx, &[(input, shape.clone())]).expect("compiles");
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
		("mlp-digits", "input", vec![1, 64]),
		("cnn-digits", "input", vec![1, 1, 8, 8]),
		("cnn-digits-int8", "input", vec![1, 1, 8, 8]),
		("bag-of-tokens", "tokens", vec![1, 16]),
	];
	let mut checked = 0;
	for (name, input, shape) in models {
		let (program, inputs) = repo_model(name, input, shape);
		// Every intermediate value of the native run, node by node.
		let mut outputs: Vec<Tensor> = Vec::new();
		for (i, node) in program.nodes.iter().enumerate() {
			let args = node_inputs(&program, &inputs, &outputs, node);
			let refs: Vec<Option<&Tensor>> = args.iter().map(Option::as_ref).collect();
			let native = verity_engine::execute_node(node, &refs)
				.expect("native run")
				.remove(0);

			let wasm = execute_in_wasm(&dev, node, args)
				.unwrap_or_else(|e| panic!("{name} node {i}: {e}"));
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

	// An out-of-vocabulary token: the Gather fails in wasm exactly where it fails natively.
	let (program, mut inputs) = repo_model("bag-of-tokens", "tokens", vec![1, 16]);
	let mut ids = inputs[0].as_i64().expect("token ids").to_vec();
	ids[2] = 64;
	inputs[0] = Tensor::from_i64(&[1, 16], ids).expect("ids");
	let at = program
		.nodes
		.iter()
		.position(|n| n.op.name() == "Gather")
		.expect("a Gather");
	let mut before = Vec::new();
	for node in &program.nodes[..at] {
		let args = node_inputs(&program, &inputs, &before, node);
		let refs: Vec<Option<&Tensor>> = args.iter().map(Option::as_ref).collect();
		before.push(
			verity_engine::execute_node(node, &refs)
				.expect("runs")
				.remove(0),
		);
	}
	let gather = &program.nodes[at];
	let args = node_inputs(&program, &inputs, &before, gather);
	let refs: Vec<Option<&Tensor>> = args.iter().map(Option::as_ref).collect();
	let native = verity_engine::execute_node(gather, &refs).expect_err("native fails");
	assert!(
		matches!(native, verity_engine::ExecError::Op { .. }),
		"{native}"
	);
	let wasm = execute_in_wasm(&dev, gather, args).expect_err("wasm fails too");
	assert_eq!(wasm, native.to_string(), "the same failure in wasm");

	// A node no fraud proof could carry is refused before anything runs.
	let huge = TensorType::new(DType::F32, &[8192, 8192]);
	let matmul = IrNode {
		op: Op::MatMul,
		inputs: vec![
			Some(NodeInput {
				source: ValueRef::Input(0),
				ty: huge.clone(),
			}),
			Some(NodeInput {
				source: ValueRef::Input(1),
				ty: huge.clone(),
			}),
		],
		outputs: vec![huge],
	};
	let refused = execute_in_wasm(&dev, &matmul, vec![None, None]).expect_err("refused");
	assert!(refused.contains("exceeds MaxNodeCost"), "{refused}");
}

/// `VerityApi_execute_node` over `state_call`: the node's outputs, or the runtime's message.
fn execute_in_wasm(
	dev: &Node,
	node: &IrNode,
	args: Vec<Option<Tensor>>,
) -> Result<Vec<Tensor>, String> {
	let call = (node.clone(), args).encode();
	let reply = dev
		.rpc(
			"state_call",
			json!(["VerityApi_execute_node", format!("0x{}", hex::encode(call))]),
		)
		.expect("state_call");
	let bytes = hex_bytes(&reply).expect("hex reply");
	Result::<Vec<Tensor>, Vec<u8>>::decode(&mut &bytes[..])
		.expect("the reply decodes")
		.map_err(|e| String::from_utf8_lossy(&e).into_owned())
}
