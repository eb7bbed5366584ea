//! Differential tests: the canonical program against tract on small generated graphs with seeded
//! random inputs, and determinism of the compiler (same bytes → same program bytes and model
//! root).

mod common;

use common::{allclose, model, node, output, value_info, Rng, A};
use verity_engine::{execute, DType, Op, Tensor};
use verity_onnx::{compile, run_tract, CompiledModel};

const F32: i32 = 1;

/// Compiles `bytes` with `shapes`, runs it canonically and with tract on `inputs`, and checks
/// that the outputs agree within `rtol`/`atol`. Returns the compiled model.
fn differential(
	bytes: &[u8],
	shapes: &[(&str, Vec<usize>)],
	inputs: &[Tensor],
	rtol: f64,
	atol: f64,
) -> CompiledModel {
	let m = compile(bytes, shapes).expect("compiles");
	let (canonical, _trace) = execute(&m.program, inputs).expect("canonical run");
	let reference = run_tract(bytes, inputs).expect("tract run");
	assert_eq!(
		canonical.len(),
		reference.len(),
		"canonical and tract output counts"
	);
	for (o, (c, t)) in canonical.iter().zip(&reference).enumerate() {
		if let Err(e) = allclose(c, t, rtol, atol) {
			panic!(
				"output {o} ({}): canonical vs tract: {e}",
				m.output_names[o]
			);
		}
	}
	m
}

fn mlp() -> Vec<u8> {
	let mut r = Rng(1);
	model(
		17,
		vec![
			node("MatMul", &["x", "w1"], &["h"], vec![]),
			node("Add", &["h", "b1"], &["h1"], vec![]),
			node("Relu", &["h1"], &["h2"], vec![]),
			node(
				"Gemm",
				&["h2", "w2", "b2"],
				&["logits"],
				vec![("alpha", A::F(0.5)), ("transB", A::I(1))],
			),
			node("Softmax", &["logits"], &["y"], vec![("axis", A::I(-1))]),
		],
		vec![value_info("x", F32, &[None, Some(16)])],
		vec![output("y")],
		vec![
			("w1", r.tensor_f32(&[16, 32], -0.5, 0.5)),
			("b1", r.tensor_f32(&[32], -0.1, 0.1)),
			("w2", r.tensor_f32(&[10, 32], -0.5, 0.5)),
			("b2", r.tensor_f32(&[10], -0.1, 0.1)),
		],
	)
}

fn cnn() -> Vec<u8> {
	let mut r = Rng(2);
	model(
		13,
		vec![
			node(
				"Conv",
				&["x", "w1", "b1"],
				&["c1"],
				vec![
					("auto_pad", A::S("SAME_UPPER")),
					("kernel_shape", A::Is(vec![3, 3])),
				],
			),
			node(
				"BatchNormalization",
				&["c1", "g", "beta", "mean", "var"],
				&["bn"],
				vec![("epsilon", A::F(1e-3))],
			),
			node("Relu", &["bn"], &["r1"], vec![]),
			node(
				"MaxPool",
				&["r1"],
				&["p1"],
				vec![
					("kernel_shape", A::Is(vec![2, 2])),
					("strides", A::Is(vec![2, 2])),
				],
			),
			node(
				"Conv",
				&["p1", "w2"],
				&["c2"],
				vec![
					("group", A::I(2)),
					("pads", A::Is(vec![1, 1, 1, 1])),
					("dilations", A::Is(vec![1, 1])),
				],
			),
			node("Sigmoid", &["c2"], &["s2"], vec![]),
			node(
				"AveragePool",
				&["s2"],
				&["p2"],
				vec![
					("kernel_shape", A::Is(vec![3, 3])),
					("strides", A::Is(vec![2, 2])),
					("pads", A::Is(vec![1, 1, 1, 1])),
				],
			),
			node("LRN", &["p2"], &["n2"], vec![("size", A::I(3))]),
			node("GlobalAveragePool", &["n2"], &["g2"], vec![]),
			node("Flatten", &["g2"], &["f"], vec![]),
			node(
				"Gemm",
				&["f", "wf", "bf"],
				&["logits"],
				vec![("transB", A::I(1))],
			),
			node("LogSoftmax", &["logits"], &["y"], vec![]),
		],
		vec![value_info(
			"x",
			F32,
			&[Some(1), Some(3), Some(16), Some(16)],
		)],
		vec![output("y")],
		vec![
			("w1", r.tensor_f32(&[8, 3, 3, 3], -0.3, 0.3)),
			("b1", r.tensor_f32(&[8], -0.1, 0.1)),
			("g", r.tensor_f32(&[8], 0.5, 1.5)),
			("beta", r.tensor_f32(&[8], -0.2, 0.2)),
			("mean", r.tensor_f32(&[8], -0.2, 0.2)),
			("var", r.tensor_f32(&[8], 0.5, 1.5)),
			("w2", r.tensor_f32(&[8, 4, 3, 3], -0.3, 0.3)),
			("wf", r.tensor_f32(&[10, 8], -0.5, 0.5)),
			("bf", r.tensor_f32(&[10], -0.1, 0.1)),
		],
	)
}

fn elementwise() -> Vec<u8> {
	let two = Tensor::scalar_f32(2.0);
	let half = Tensor::scalar_f32(0.5);
	let lo = Tensor::scalar_f32(-0.8);
	let hi = Tensor::scalar_f32(0.9);
	let axes = Tensor::from_i64(&[1], vec![1]).unwrap();
	let split = Tensor::from_i64(&[2], vec![2, 3]).unwrap();
	model(
		18,
		vec![
			node("Tanh", &["x"], &["t"], vec![]),
			node("Mul", &["t", "half"], &["m"], vec![]),
			node("Exp", &["m"], &["e"], vec![]),
			node("Pow", &["e", "two"], &["p"], vec![]),
			node("Sqrt", &["p"], &["s"], vec![]),
			node("Log", &["s"], &["l"], vec![]),
			node("LeakyRelu", &["x"], &["lr"], vec![("alpha", A::F(0.2))]),
			node("Elu", &["lr"], &["el"], vec![]),
			node("HardSigmoid", &["el"], &["hs"], vec![]),
			node("Clip", &["x", "lo", "hi"], &["cl"], vec![]),
			node("Sub", &["l", "cl"], &["d"], vec![]),
			node("Div", &["d", "hs"], &["q"], vec![]),
			node(
				"Transpose",
				&["q"],
				&["tq"],
				vec![("perm", A::Is(vec![0, 2, 1]))],
			),
			node(
				"Split",
				&["tq", "split"],
				&["a", "b"],
				vec![("axis", A::I(1))],
			),
			node("Concat", &["b", "a"], &["cc"], vec![("axis", A::I(1))]),
			node(
				"ReduceMean",
				&["cc", "axes"],
				&["rm"],
				vec![("keepdims", A::I(0))],
			),
			node("ArgMax", &["cc"], &["am"], vec![("axis", A::I(2))]),
			node("Softplus", &["rm"], &["y"], vec![]),
		],
		vec![value_info("x", F32, &[Some(3), Some(4), Some(5)])],
		vec![output("y"), output("am")],
		vec![
			("two", two),
			("half", half),
			("lo", lo),
			("hi", hi),
			("axes", axes),
			("split", split),
		],
	)
}

/// Shape subgraph, Constant and Dropout: everything folds except the one Reshape.
fn shape_subgraph() -> Vec<u8> {
	let idx = Tensor::scalar_i64(0);
	let minus_one = Tensor::from_i64(&[1], vec![-1]).unwrap();
	let zero = Tensor::from_i64(&[1], vec![0]).unwrap();
	model(
		13,
		vec![
			node("Dropout", &["x"], &["xd"], vec![]),
			node("Shape", &["xd"], &["shape"], vec![]),
			node("Gather", &["shape", "idx"], &["n"], vec![("axis", A::I(0))]),
			node("Unsqueeze", &["n", "zero"], &["n1"], vec![]),
			node(
				"Concat",
				&["n1", "minus_one"],
				&["target"],
				vec![("axis", A::I(0))],
			),
			node("Reshape", &["xd", "target"], &["y"], vec![]),
		],
		vec![value_info("x", F32, &[None, Some(3), Some(4), Some(4)])],
		vec![output("y")],
		vec![("idx", idx), ("minus_one", minus_one), ("zero", zero)],
	)
}

fn quantized() -> Vec<u8> {
	let mut r = Rng(3);
	model(
		13,
		vec![
			node("QuantizeLinear", &["x", "xs", "xz"], &["xq"], vec![]),
			node(
				"QLinearMatMul",
				&["xq", "xs", "xz", "w", "ws", "wz", "ys", "yz"],
				&["yq"],
				vec![],
			),
			node("DequantizeLinear", &["yq", "ys", "yz"], &["y"], vec![]),
		],
		vec![value_info("x", F32, &[Some(4), Some(8)])],
		vec![output("y")],
		vec![
			("xs", Tensor::scalar_f32(0.02)),
			("xz", Tensor::from_u8(&[], vec![128]).unwrap()),
			("w", r.tensor_u8(&[8, 6])),
			("ws", Tensor::scalar_f32(0.01)),
			("wz", Tensor::from_u8(&[], vec![120]).unwrap()),
			("ys", Tensor::scalar_f32(0.05)),
			("yz", Tensor::from_u8(&[], vec![100]).unwrap()),
		],
	)
}

fn upsampling() -> Vec<u8> {
	let mut r = Rng(4);
	let pads = Tensor::from_i64(&[8], vec![0, 0, 1, 2, 0, 0, 2, 1]).unwrap();
	let scales = Tensor::from_f32(&[4], vec![1.0, 1.0, 2.0, 1.5]).unwrap();
	model(
		13,
		vec![
			node(
				"ConvTranspose",
				&["x", "w", "b"],
				&["ct"],
				vec![
					("strides", A::Is(vec![2, 2])),
					("pads", A::Is(vec![1, 1, 1, 1])),
				],
			),
			node(
				"Pad",
				&["ct", "pads"],
				&["pd"],
				vec![("mode", A::S("reflect"))],
			),
			node(
				"Resize",
				&["pd", "", "scales"],
				&["y"],
				vec![("mode", A::S("linear"))],
			),
		],
		vec![value_info("x", F32, &[Some(1), Some(2), Some(5), Some(5)])],
		vec![output("y")],
		vec![
			("w", r.tensor_f32(&[2, 3, 3, 3], -0.5, 0.5)),
			("b", r.tensor_f32(&[3], -0.1, 0.1)),
			("pads", pads),
			("scales", scales),
		],
	)
}

#[test]
fn mlp_matches_tract() {
	let mut r = Rng(10);
	let x = r.tensor_f32(&[4, 16], -1.0, 1.0);
	let m = differential(&mlp(), &[("x", vec![4, 16])], &[x], 1e-4, 1e-6);
	assert_eq!(m.node_count(), 5);
	assert_eq!(m.program.weights.len(), 4);
}

#[test]
fn cnn_matches_tract() {
	let mut r = Rng(11);
	for _ in 0..3 {
		let x = r.tensor_f32(&[1, 3, 16, 16], -1.0, 1.0);
		differential(&cnn(), &[], &[x], 1e-4, 1e-5);
	}
}

#[test]
fn elementwise_matches_tract() {
	let mut r = Rng(12);
	let x = r.tensor_f32(&[3, 4, 5], -2.0, 2.0);
	differential(&elementwise(), &[], &[x], 1e-4, 1e-5);
}

#[test]
fn shape_subgraph_folds_to_one_reshape() {
	let mut r = Rng(13);
	let x = r.tensor_f32(&[2, 3, 4, 4], -1.0, 1.0);
	let m = differential(
		&shape_subgraph(),
		&[("x", vec![2, 3, 4, 4])],
		&[x],
		0.0,
		0.0,
	);
	assert_eq!(m.node_count(), 1, "{:?}", m.program.nodes);
	assert!(matches!(&m.program.nodes[0].op, Op::Reshape { shape } if shape == &[2, 48]));
	assert!(m.program.weights.is_empty());
}

#[test]
fn quantized_matches_tract() {
	let mut r = Rng(14);
	let x = r.tensor_f32(&[4, 8], -2.0, 2.0);
	// Requantisation may round a tie differently: allow one output quantum.
	let m = differential(&quantized(), &[], &[x], 0.0, 0.05 * 1.01);
	assert_eq!(
		m.program.output_types()[0].as_ref().map(|t| t.dtype),
		Some(DType::F32)
	);
}

#[test]
fn upsampling_matches_tract() {
	let mut r = Rng(15);
	let x = r.tensor_f32(&[1, 2, 5, 5], -1.0, 1.0);
	differential(&upsampling(), &[], &[x], 1e-4, 1e-5);
}

#[test]
fn compilation_is_deterministic() {
	let models = [
		(mlp(), vec![("x", vec![4, 16])]),
		(cnn(), vec![]),
		(elementwise(), vec![]),
		(shape_subgraph(), vec![("x", vec![2, 3, 4, 4])]),
		(quantized(), vec![]),
		(upsampling(), vec![]),
	];
	for (bytes, shapes) in &models {
		let a = compile(bytes, shapes).unwrap();
		let b = compile(bytes, shapes).unwrap();
		assert_eq!(a.program_bytes(), b.program_bytes());
		assert_eq!(a.model_root(), b.model_root());
		// Rebuilding the same model gives the same bytes, hence the same program.
		let c = compile(&bytes.clone(), shapes).unwrap();
		assert_eq!(a.model_root(), c.model_root());
	}
	// A different input shape is a different program.
	let a = compile(&mlp(), &[("x", vec![4, 16])]).unwrap();
	let b = compile(&mlp(), &[("x", vec![5, 16])]).unwrap();
	assert_ne!(a.model_root(), b.model_root());
}

#[test]
fn initializer_order_does_not_matter() {
	use prost::Message;
	let bytes = cnn();
	let mut m = verity_onnx::pb::ModelProto::decode(&bytes[..]).unwrap();
	m.graph.as_mut().unwrap().initializer.reverse();
	let reordered = m.encode_to_vec();
	assert_ne!(bytes, reordered);
	let a = compile(&bytes, &[]).unwrap();
	let b = compile(&reordered, &[]).unwrap();
	assert_eq!(a.program_bytes(), b.program_bytes());
	assert_eq!(a.model_root(), b.model_root());
}

/// The conformance models, compiled twice each: identical program bytes.
#[test]
fn conformance_models_compile_deterministically() {
	// Fails with instructions when the data is missing (the test command fetches it).
	let root = common::testdata_dir();
	let mut checked = 0;
	for suite in ["node", "pytorch-converted", "pytorch-operator", "simple"] {
		for dir in common::subdirs(&root.join(suite)) {
			let bytes = read_model(&dir);
			// Models outside the supported subset, or needing input shapes, do not compile.
			let Ok(a) = compile(&bytes, &[]) else {
				continue;
			};
			let b = compile(&bytes, &[]).unwrap();
			assert_eq!(a.program_bytes(), b.program_bytes(), "{}", dir.display());
			assert_eq!(a.model_root(), b.model_root());
			checked += 1;
		}
	}
	println!("{checked} conformance models compiled deterministically");
	assert!(checked > 100);
}

/// A conformance case's `model.onnx`: the data set is the ONNX release's, so a model that does not
/// read is broken data, never a case to pass over.
fn read_model(dir: &std::path::Path) -> Vec<u8> {
	let path = dir.join("model.onnx");
	std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The fewest conformance models that must agree with tract on random inputs: the count when last
/// raised. Fewer means models stopped compiling or tract stopped running them.
const RANDOM_INPUT_AGREEMENT_PIN: usize = 627;

/// Every covered conformance model whose inputs are all float32, run on seeded random inputs
/// (uniform in [-2, 2)) by the canonical executor and by tract. tract may fail only on the models
/// in [`EXPECTED_TRACT_ERRORS`]; the number that agree is pinned by
/// [`RANDOM_INPUT_AGREEMENT_PIN`].
#[test]
fn conformance_models_on_random_inputs_match_tract() {
	// Fails with instructions when the data is missing (the test command fetches it).
	let root = common::testdata_dir();
	let mut agree = 0;
	let mut expected_tract_errors = Vec::new();
	let mut disagreements = Vec::new();
	for suite in ["node", "pytorch-converted", "pytorch-operator", "simple"] {
		for dir in common::subdirs(&root.join(suite)) {
			let name = dir
				.file_name()
				.unwrap_or_default()
				.to_string_lossy()
				.into_owned();
			if ALLOWED_DISAGREEMENTS.iter().any(|(n, _)| *n == name) {
				continue;
			}
			let bytes = read_model(&dir);
			let proto = <verity_onnx::pb::ModelProto as prost::Message>::decode(&bytes[..])
				.unwrap_or_else(|e| panic!("{name}: undecodable model: {e}"));
			if common::coverage(&proto).is_some() {
				continue;
			}
			// Shapes from the first data set; only all-float32 inputs.
			let inputs = common::numbered_pbs(&dir.join("test_data_set_0"), "input");
			let Ok(given) = inputs
				.iter()
				.map(|p| verity_onnx::read_tensor_pb(p).map(|(_, t)| t))
				.collect::<Result<Vec<_>, _>>()
			else {
				continue;
			};
			if given.is_empty() || given.iter().any(|t| t.dtype() != DType::F32) {
				continue;
			}
			let Ok(m) = compile(&bytes, &[]) else {
				continue;
			};
			if m.program.inputs.len() != given.len() {
				continue;
			}
			let seed = name.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
				(h ^ b as u64).wrapping_mul(0x100_0000_01b3)
			});
			let mut r = Rng(seed);
			let inputs: Vec<Tensor> = given
				.iter()
				.map(|t| r.tensor_f32(t.shape(), -2.0, 2.0))
				.collect();
			let run = std::panic::catch_unwind(|| execute(&m.program, &inputs));
			let Ok(Ok((canonical, _))) = run else {
				disagreements.push(format!("{name}: canonical execution failed or panicked"));
				continue;
			};
			let expected_error = EXPECTED_TRACT_ERRORS.iter().any(|(n, _)| *n == name);
			match run_tract(&bytes, &inputs) {
				Err(_) if expected_error => expected_tract_errors.push(name),
				Err(e) => disagreements.push(format!(
					"{name}: unexpected tract error (list it in EXPECTED_TRACT_ERRORS with the \
					 reason if tract is at fault): {e}"
				)),
				Ok(_) if expected_error => disagreements.push(format!(
					"{name}: listed in EXPECTED_TRACT_ERRORS, but tract ran it (remove it)"
				)),
				Ok(reference) if reference.len() != canonical.len() => disagreements.push(format!(
					"{name}: tract gives {} outputs, canonical {}",
					reference.len(),
					canonical.len()
				)),
				Ok(reference) => {
					let diff =
						canonical
							.iter()
							.zip(&reference)
							.enumerate()
							.find_map(|(o, (c, t))| {
								allclose(c, t, 1e-3, 1e-4)
									.err()
									.map(|e| format!("output {o}: {e}"))
							});
					match diff {
						None => agree += 1,
						Some(d) => disagreements.push(format!("{name}: {d}")),
					}
				}
			}
		}
	}
	println!(
		"random inputs: {agree} models agree with tract (pin {RANDOM_INPUT_AGREEMENT_PIN}), {} \
		 expected tract errors",
		expected_tract_errors.len()
	);
	for d in &disagreements {
		println!("  DISAGREE {d}");
	}
	assert!(
		disagreements.is_empty(),
		"{} model(s) disagree with tract or fail unexpectedly:\n{}",
		disagreements.len(),
		disagreements.join("\n")
	);
	assert!(
		agree >= RANDOM_INPUT_AGREEMENT_PIN,
		"{agree} models agree with tract on random inputs, pinned at {RANDOM_INPUT_AGREEMENT_PIN}"
	);
	if agree > RANDOM_INPUT_AGREEMENT_PIN {
		use std::io::Write;
		let _ = writeln!(
			std::io::stderr(),
			"raise the pin: {agree} conformance models agree with tract on random inputs, \
			 RANDOM_INPUT_AGREEMENT_PIN in engine/onnx/tests/differential.rs says \
			 {RANDOM_INPUT_AGREEMENT_PIN}"
		);
	}
}

/// Conformance models where canonical and tract legitimately differ on random inputs.
const ALLOWED_DISAGREEMENTS: &[(&str, &str)] = &[];

/// Conformance models tract cannot run, with the reason (the canonical side runs them).
const EXPECTED_TRACT_ERRORS: &[(&str, &str)] = &[
	(
		"test_ai_onnx_ml_binarizer",
		"tract's ONNX front end has no ai.onnx.ml operators",
	),
	(
		"test_batchnorm_epsilon",
		"scale, bias, mean and var are graph inputs; tract's BatchNorm needs them constant",
	),
	(
		"test_batchnorm_example",
		"scale, bias, mean and var are graph inputs; tract's BatchNorm needs them constant",
	),
	(
		"test_dynamicquantizelinear_expanded",
		"the scale is computed from the input; tract's QuantizeLinear needs a constant y_scale",
	),
	(
		"test_dynamicquantizelinear_max_adjusted_expanded",
		"the scale is computed from the input; tract's QuantizeLinear needs a constant y_scale",
	),
	(
		"test_dynamicquantizelinear_min_adjusted_expanded",
		"the scale is computed from the input; tract's QuantizeLinear needs a constant y_scale",
	),
	(
		"test_PReLU_1d_multiparam",
		"tract cannot type a PRelu whose slope broadcasts along the channel axis",
	),
	(
		"test_PReLU_2d_multiparam",
		"tract cannot type a PRelu whose slope broadcasts along the channel axis",
	),
	(
		"test_PReLU_3d_multiparam",
		"tract cannot type a PRelu whose slope broadcasts along the channel axis",
	),
];
