//! Single-node execution through `VerityApi_execute_node` in the real wasm runtime of a running
//! `verity-node`, over JSON-RPC (`state_call`), must hash exactly like the native engine — the
//! property fraud proofs rest on. Every node of the repo models (float MLP and CNN, int8 CNN,
//! embedding bag) on their committed samples, a random input and an input of special values
//! (signed zeros, infinities, NaNs, subnormals, extremes), and every node of ResNet-18 that fits
//! a fraud proof; an operator rejecting its inputs fails in wasm as natively (a failure is a
//! fraud-proof verdict); a node heavier than any fraud proof may carry is refused unexecuted.

mod common;

use std::time::Duration;

use codec::{Decode, Encode};
use common::*;
use serde_json::json;
use verity_engine::{
	commit::tensor_hash,
	ir::{Node as IrNode, NodeInput, Op, ValueRef},
	DType, Program, Tensor, TensorData, TensorType,
};
use verity_runtime::configs::{MaxNodeCost, MaxNodeFootprint};

/// A repo model compiled for a batch of one, with the first row of each committed input sample
/// (samples hold batches of several sizes, some stored without the batch dimension).
fn repo_model(name: &str, input: &str, shape: Vec<usize>) -> (Program, Vec<Vec<Tensor>>) {
	let dir = repo_path(&format!("models/{name}"));
	let onnx = std::fs::read(dir.join("model.onnx")).expect("model.onnx");
	let compiled = verity_onnx::compile(&onnx, &[(input, shape.clone())]).expect("compiles");
	let row: usize = shape.iter().product();
	let samples = (0..)
		.map(|k| dir.join(format!("input_{k}.npy")))
		.take_while(|path| path.is_file())
		.map(|path| {
			let (_, data) = verity_onnx::read_npy(&path)
				.expect("an npy sample")
				.into_parts();
			let first_row = match data {
				TensorData::F32(v) => TensorData::F32(v[..row].to_vec()),
				TensorData::I64(v) => TensorData::I64(v[..row].to_vec()),
				other => panic!("{name}: unexpected sample type {other:?}"),
			};
			vec![Tensor::new(shape.clone(), first_row).expect("a row of the model's input size")]
		})
		.collect();
	(compiled.program, samples)
}

/// Seeded xorshift values.
struct Rng(u64);

impl Rng {
	fn next(&mut self) -> u64 {
		self.0 ^= self.0 << 13;
		self.0 ^= self.0 >> 7;
		self.0 ^= self.0 << 17;
		self.0
	}
}

/// Values where platforms differ: signed zeros, infinities, NaNs with payloads and both signs,
/// subnormals, the extremes, and ordinary pixel values between them.
const SPECIAL_F32: [f32; 14] = [
	0.0,
	-0.0,
	f32::INFINITY,
	f32::NEG_INFINITY,
	f32::NAN,
	-f32::NAN,
	f32::MAX,
	f32::MIN,
	1e-45,
	-1e-40,
	f32::MIN_POSITIVE,
	0.5,
	15.0,
	-3.25,
];

/// Inputs of `reference`'s types: random ones in `0..range` and, for float inputs, one of
/// [`SPECIAL_F32`] values cycled (integer inputs get `0` and `range - 1` alternating instead).
fn generated_inputs(reference: &[Tensor], seed: u64, range: u64) -> [Vec<Tensor>; 2] {
	let mut rng = Rng(seed | 1);
	let make = |t: &Tensor, value: &mut dyn FnMut(usize) -> (f32, i64)| match t.dtype() {
		DType::I64 => {
			let ids = (0..t.len()).map(|i| value(i).1).collect();
			Tensor::from_i64(t.shape(), ids).expect("ids")
		}
		_ => {
			let values = (0..t.len()).map(|i| value(i).0).collect();
			Tensor::from_f32(t.shape(), values).expect("floats")
		}
	};
	let random = reference
		.iter()
		.map(|t| {
			make(t, &mut |_| {
				let v = rng.next() % range;
				(v as f32 + (rng.next() % 1000) as f32 / 1000.0, v as i64)
			})
		})
		.collect();
	let special = reference
		.iter()
		.map(|t| {
			make(t, &mut |i| {
				(
					SPECIAL_F32[i % SPECIAL_F32.len()],
					if i % 2 == 0 { 0 } else { range as i64 - 1 },
				)
			})
		})
		.collect();
	[random, special]
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

/// Whether a fraud proof may carry `node` (what the runtime checks before executing it).
fn within_limits(node: &IrNode) -> bool {
	verity_engine::node_cost(node) <= MaxNodeCost::get()
		&& verity_engine::ir::node_footprint(node) <= MaxNodeFootprint::get()
}

/// Runs `program` on `inputs` node by node natively and every node again alone in the dev
/// node's wasm runtime: identical output hashes, or the same operator failure, or (for a node no
/// fraud proof may carry) the runtime's refusal. Returns the nodes executed and refused.
fn check_every_node(
	dev: &Node,
	case: &str,
	program: &Program,
	inputs: &[Tensor],
) -> (usize, usize) {
	let (mut executed, mut refused) = (0, 0);
	let mut outputs: Vec<Tensor> = Vec::new();
	for (i, node) in program.nodes.iter().enumerate() {
		let args = node_inputs(program, inputs, &outputs, node);
		let refs: Vec<Option<&Tensor>> = args.iter().map(Option::as_ref).collect();
		let native = verity_engine::execute_node(node, &refs);
		let what = format!("{case} node {i} ({})", node.op.name());
		if !within_limits(node) {
			// Refused on the node's types alone: the inputs need not travel.
			let reply = execute_in_wasm(dev, node, vec![None; args.len()]);
			let message = reply.expect_err(&format!("{what}: refused"));
			assert!(message.contains("exceeds MaxNodeCost"), "{what}: {message}");
			refused += 1;
		} else {
			let wasm = execute_in_wasm(dev, node, args);
			match (&native, wasm) {
				(Ok(native), Ok(wasm)) => {
					assert_eq!(wasm.len(), 1, "{what}: one output");
					assert_eq!(
						tensor_hash(&wasm[0]),
						tensor_hash(&native[0]),
						"{what}: wasm and native differ"
					);
				}
				(Err(native), Err(wasm)) => {
					assert_eq!(wasm, native.to_string(), "{what}: the same failure in wasm");
					return (executed + 1, refused);
				}
				(native, wasm) => panic!("{what}: native {native:?}, wasm {wasm:?}"),
			}
			executed += 1;
		}
		match native {
			Ok(mut out) => outputs.push(out.remove(0)),
			Err(_) => return (executed, refused),
		}
	}
	// The node-by-node run is the whole program's run: same trace root.
	let (_, trace) = verity_engine::execute(program, inputs).expect("whole run");
	let leaves: Vec<_> = outputs.iter().map(tensor_hash).collect();
	assert_eq!(
		trace.leaves, leaves,
		"{case}: node-by-node trace equals the whole run's"
	);
	(executed, refused)
}

#[test]
fn wasm_runtime_executes_every_node_bit_identically() {
	let dev = Node::spawn("runtime-api", &["--dev", "--tmp"]);
	dev.rpc_when_up("system_health", json!([]), Duration::from_secs(60));

	// (model, input name, shape, value range of generated inputs: pixels 0..16, token ids 0..64)
	let models = [
		("mlp-digits", "input", vec![1, 64], 16),
		("cnn-digits", "input", vec![1, 1, 8, 8], 16),
		("cnn-digits-int8", "input", vec![1, 1, 8, 8], 16),
		("mlp-digits-dynq", "input", vec![1, 64], 16),
		("bag-of-tokens", "tokens", vec![1, 16], 64),
		// Classical ML (`ai.onnx.ml`, lowered to IR ops): tree traversals, linear models.
		("forest-digits", "X", vec![1, 64], 16),
		("gboost-odd-digits", "X", vec![1, 64], 16),
		("logreg-digits", "X", vec![1, 64], 16),
		("xgboost-odd-digits", "input", vec![1, 64], 16),
		("lightgbm-digits", "input", vec![1, 64], 16),
		("onehot-digits", "X", vec![1, 8], 17),
		("label-encoder-ids", "X", vec![1], 1000),
		("gboost-diabetes", "X", vec![1, 10], 1),
		("linreg-diabetes", "X", vec![1, 10], 1),
	];
	let mut executed = 0;
	for (name, input, shape, range) in models {
		let (program, samples) = repo_model(name, input, shape);
		assert!(samples.len() >= 3, "{name}: committed samples");
		let generated = generated_inputs(&samples[0], 7, range);
		for (k, inputs) in samples.iter().chain(&generated).enumerate() {
			let (ran, refused) = check_every_node(&dev, &format!("{name}[{k}]"), &program, inputs);
			assert_eq!(refused, 0, "{name}: every node fits a fraud proof");
			executed += ran;
		}
	}
	assert!(executed >= 100, "executed {executed} nodes");

	// A larger CNN: ResNet-18 at 224 × 224 (generated into ~/.cache by the test command). Its
	// nodes that fit a fraud proof run identically; the others are refused unexecuted.
	match resnet18() {
		Some((program, samples)) => {
			let generated = generated_inputs(&samples[0], 11, 1);
			let (mut ran, mut refused) = (0, 0);
			for (k, inputs) in [&samples[0], &generated[0]].into_iter().enumerate() {
				let (r, f) = check_every_node(&dev, &format!("resnet18[{k}]"), &program, inputs);
				ran += r;
				refused += f;
			}
			println!(
				"resnet18: {ran} node runs bit-identical in wasm, {refused} refused as too large"
			);
			assert!(ran > 0 && refused > 0, "ResNet-18 has nodes of both kinds");
		}
		None => {
			let why = "~/.cache/verity/models/resnet18 missing (scripts/generate-resnet18.sh)";
			assert!(
				std::env::var("CI").as_deref() != Ok("true"),
				"{why}; CI=true needs it"
			);
			eprintln!("SKIPPED the ResNet-18 part of wasm_runtime_executes_every_node_bit_identically: {why}");
		}
	}

	// An out-of-vocabulary token: the Gather fails in wasm exactly where it fails natively.
	let (program, samples) = repo_model("bag-of-tokens", "tokens", vec![1, 16]);
	let mut inputs = samples[0].clone();
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

/// ResNet-18 compiled for a batch of one with its input sample, if it has been generated.
fn resnet18() -> Option<(Program, Vec<Vec<Tensor>>)> {
	let dir =
		std::path::PathBuf::from(std::env::var_os("HOME")?).join(".cache/verity/models/resnet18");
	let onnx = std::fs::read(dir.join("model.onnx")).ok()?;
	let compiled = verity_onnx::compile(&onnx, &[("input", vec![1, 3, 224, 224])])
		.expect("ResNet-18 compiles");
	let sample = verity_onnx::read_npy(dir.join("input_0.npy")).expect("its input sample");
	let (_, data) = sample.into_parts();
	let input = Tensor::new(vec![1, 3, 224, 224], data).expect("a 1×3×224×224 sample");
	Some((compiled.program, vec![vec![input]]))
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
