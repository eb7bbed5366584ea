//! Front-end behaviour: errors, symbolic dimensions, constant inputs, robustness against
//! arbitrary bytes, and the tensor file helpers.

mod common;

use common::{model, node, output, value_info, Rng, A};
use verity_engine::{execute, Tensor};
use verity_onnx::pb;
use verity_onnx::{
	compile, compile_with_constants, encode_npy, parse_npy, parse_tensor_pb, tensor_to_proto,
	CompileError, COMPILER_VERSION,
};

const F32: i32 = 1;

fn relu_model(dims: &[Option<i64>]) -> Vec<u8> {
	model(
		13,
		vec![node("Relu", &["x"], &["y"], vec![])],
		vec![value_info("x", F32, dims)],
		vec![output("y")],
		vec![],
	)
}

#[test]
fn unsupported_op_names_op_node_and_opset() {
	let bytes = model(
		17,
		vec![
			node("Relu", &["x"], &["r"], vec![]),
			node("TopK", &["r"], &["y"], vec![]),
		],
		vec![value_info("x", F32, &[Some(2), Some(3)])],
		vec![output("y")],
		vec![],
	);
	match compile(&bytes, &[]) {
		Err(CompileError::UnsupportedOp {
			op_type,
			node,
			opset,
			domain,
		}) => {
			assert_eq!(op_type, "TopK");
			assert_eq!(node, "n_y");
			assert_eq!(opset, 17);
			assert_eq!(domain, "");
		}
		other => panic!("unexpected {other:?}"),
	}
}

#[test]
fn unknown_attribute_is_refused() {
	let bytes = model(
		13,
		vec![node("Relu", &["x"], &["y"], vec![("mystery", A::I(1))])],
		vec![value_info("x", F32, &[Some(2)])],
		vec![output("y")],
		vec![],
	);
	let e = compile(&bytes, &[]).unwrap_err();
	assert!(matches!(e, CompileError::UnsupportedFeature { .. }), "{e}");
	assert!(e.to_string().contains("mystery"), "{e}");
}

#[test]
fn symbolic_dims_must_be_fixed() {
	let bytes = relu_model(&[None, Some(3)]);
	match compile(&bytes, &[]) {
		Err(CompileError::SymbolicDim { input, dim, param }) => {
			assert_eq!((input.as_str(), dim), ("x", 0));
			assert!(param.contains('N'), "{param}");
		}
		other => panic!("unexpected {other:?}"),
	}
	let m = compile(&bytes, &[("x", vec![5, 3])]).unwrap();
	assert_eq!(m.program.inputs[0].ty.shape, vec![5, 3]);
	assert_eq!(m.input_names, vec!["x".to_string()]);
	assert_eq!(m.output_names, vec!["y".to_string()]);
	// A shape that contradicts a fixed dim, and a name that is not an input.
	assert!(matches!(
		compile(&bytes, &[("x", vec![5, 4])]),
		Err(CompileError::InputShapeMismatch { .. })
	));
	assert!(matches!(
		compile(&bytes, &[("x", vec![5, 3]), ("z", vec![1])]),
		Err(CompileError::UnknownInput { .. })
	));
}

#[test]
fn shape_inputs_can_be_frozen() {
	let bytes = model(
		13,
		vec![node("Reshape", &["x", "shape"], &["y"], vec![])],
		vec![
			value_info("x", F32, &[Some(2), Some(6)]),
			value_info("shape", 7, &[Some(2)]),
		],
		vec![output("y")],
		vec![],
	);
	match compile(&bytes, &[]) {
		Err(CompileError::NotConstant { name, input, .. }) => {
			assert_eq!((name.as_str(), input), ("shape", 1))
		}
		other => panic!("unexpected {other:?}"),
	}
	let shape = Tensor::from_i64(&[2], vec![3, -1]).unwrap();
	let m = compile_with_constants(&bytes, &[], &[("shape", shape)]).unwrap();
	assert_eq!(m.input_names, vec!["x".to_string()]);
	let x = Rng(1).tensor_f32(&[2, 6], -1.0, 1.0);
	let (out, _) = execute(&m.program, std::slice::from_ref(&x)).unwrap();
	assert_eq!(out[0].shape(), &[3, 4]);
	assert_eq!(out[0].as_f32().unwrap(), x.as_f32().unwrap());
}

#[test]
fn outputs_that_are_inputs_or_constants_get_identity_nodes() {
	let c = Tensor::from_f32(&[2], vec![1.0, 2.0]).unwrap();
	let bytes = model(
		13,
		vec![node("Identity", &["x"], &["y"], vec![])],
		vec![value_info("x", F32, &[Some(2)])],
		vec![output("y"), output("c")],
		vec![("c", c.clone())],
	);
	let m = compile(&bytes, &[]).unwrap();
	assert_eq!(m.node_count(), 2);
	let x = Tensor::from_f32(&[2], vec![3.0, 4.0]).unwrap();
	let (out, trace) = execute(&m.program, std::slice::from_ref(&x)).unwrap();
	assert!(out[0].bit_eq(&x) && out[1].bit_eq(&c));
	assert_eq!(trace.len(), 2);
}

#[test]
fn malformed_bytes_are_parse_errors() {
	assert!(matches!(
		compile(b"\xff\xff\xff\xff", &[]),
		Err(CompileError::Parse(_))
	));
	assert!(matches!(compile(b"", &[]), Err(CompileError::NoGraph)));
}

/// Arbitrary bytes and corruptions of a real model never panic (and never reach the panic
/// guard either: every failure is a proper error).
#[test]
fn arbitrary_bytes_never_panic() {
	let good = model(
		13,
		vec![
			node(
				"Conv",
				&["x", "w"],
				&["c"],
				vec![("pads", A::Is(vec![1, 1, 1, 1]))],
			),
			node("Relu", &["c"], &["r"], vec![]),
			node("Reshape", &["r", "s"], &["y"], vec![]),
		],
		vec![value_info("x", F32, &[Some(1), Some(2), Some(4), Some(4)])],
		vec![output("y")],
		vec![
			("w", Rng(2).tensor_f32(&[3, 2, 3, 3], -1.0, 1.0)),
			("s", Tensor::from_i64(&[2], vec![3, -1]).unwrap()),
		],
	);
	assert!(compile(&good, &[]).is_ok());
	let mut r = Rng(99);
	let mut outcomes = [0usize; 2];
	for i in 0..4000 {
		let mut bytes = good.clone();
		match i % 4 {
			0 => {
				let k = (r.next_u64() as usize) % bytes.len();
				bytes[k] ^= 1 << (r.next_u64() % 8);
			}
			1 => {
				let k = (r.next_u64() as usize) % bytes.len();
				bytes[k] = r.next_u64() as u8;
				let k2 = (r.next_u64() as usize) % bytes.len();
				bytes[k2] = r.next_u64() as u8;
			}
			2 => bytes.truncate((r.next_u64() as usize) % bytes.len()),
			_ => {
				let n = (r.next_u64() % 256) as usize;
				bytes = (0..n).map(|_| r.next_u64() as u8).collect();
			}
		}
		match compile(&bytes, &[]) {
			Ok(m) => {
				outcomes[0] += 1;
				m.program.validate().expect("compiled programs validate");
			}
			Err(CompileError::Panic(p)) => panic!("panic on input {i}: {p}"),
			Err(_) => outcomes[1] += 1,
		}
	}
	assert!(outcomes[1] > 0);
}

#[test]
fn npy_and_tensor_proto_files() {
	let t = Rng(5).tensor_f32(&[2, 3, 4], -1.0, 1.0);
	let back = parse_npy(&encode_npy(&t)).unwrap();
	assert!(back.bit_eq(&t));
	use prost::Message;
	let pb = tensor_to_proto("x", &t).encode_to_vec();
	let (name, back) = parse_tensor_pb(&pb).unwrap();
	assert_eq!(name, "x");
	assert!(back.bit_eq(&t));
	// Typed (non-raw) fields, as older exporters write them.
	let mut typed = tensor_to_proto("y", &t);
	typed.raw_data.clear();
	typed.float_data = t.as_f32().unwrap().to_vec();
	let (_, back) = parse_tensor_pb(&typed.encode_to_vec()).unwrap();
	assert!(back.bit_eq(&t));
	// Wrong element count.
	typed.float_data.pop();
	assert!(parse_tensor_pb(&typed.encode_to_vec()).is_err());
	let dir = std::env::temp_dir().join(format!("verity-onnx-test-{}", std::process::id()));
	std::fs::create_dir_all(&dir).unwrap();
	let path = dir.join("t.npy");
	verity_onnx::write_npy(&path, &t).unwrap();
	assert!(verity_onnx::read_npy(&path).unwrap().bit_eq(&t));
	std::fs::remove_dir_all(&dir).ok();
}

/// What the compiler makes of the committed models, pinned together with [`COMPILER_VERSION`]:
/// lowering that changes a program must bump the version (the on-chain record pairs the two), and
/// a bump must come with new pins. Each pin also names the ONNX bytes it was taken from, so that a
/// regenerated model is told apart from a changed compiler.
#[test]
fn compiler_output_is_pinned_to_its_version() {
	const PINNED_VERSION: u32 = 2;
	/// Model, program input and its batch-of-one shape, blake2-256 of `model.onnx`, model root.
	const PINS: &[(&str, &str, &[usize], &str, &str)] = &[
		(
			"mlp-digits",
			"input",
			&[1, 64],
			"9765e6f2d88424d76ee08b8010512c2ae6e1a703f0492e1ed12c761303985ea3",
			"9ac22ba13f355a07dae1d5ce529a65801b412a093b36623bdfc2c11f3031dca5",
		),
		(
			"cnn-digits",
			"input",
			&[1, 1, 8, 8],
			"194af1f5c4e03f24634a56eab35d2af6ab9096eba66d4cbf0da74b24841beb3c",
			"f1d3d4dd838290aea2c25b26fb951e4ef9cf1138594fb0a656b1a3ed7248ab6d",
		),
		(
			"cnn-digits-int8",
			"input",
			&[1, 1, 8, 8],
			"c8f208b1027e0aee524786134d0a18132e92507b526aa189c031b38cee2830aa",
			"0fdabfe1a09f0a864363315db2ae15eb055199eb0f003d38dba5950daab993e6",
		),
		(
			"bag-of-tokens",
			"tokens",
			&[1, 16],
			"239164770d204c82ab398c9946aa54066d0b0d773dbab23e76f068c8baeb8652",
			"0f3d24775b17d706a00e4ab3b2762fe1b625ee5e9174fac2b8a64517d7101038",
		),
	];
	use verity_engine::commit::{blake2_256, to_hex};
	let models = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models");
	for &(name, input, shape, onnx_hash, root) in PINS {
		let path = models.join(name).join("model.onnx");
		let onnx = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
		assert_eq!(
			to_hex(&blake2_256(&onnx)),
			onnx_hash,
			"{name}: model.onnx is not the one pinned: re-pin its hash and root"
		);
		let m =
			compile(&onnx, &[(input, shape.to_vec())]).unwrap_or_else(|e| panic!("{name}: {e}"));
		assert_eq!(
			(COMPILER_VERSION, to_hex(&m.model_root()).as_str()),
			(PINNED_VERSION, root),
			"{name}: the compiler's output and COMPILER_VERSION change together: bump the \
			 version when the programs change, then pin the roots anew"
		);
	}
}

#[test]
fn tensor_file_parsers_never_panic() {
	let npy = encode_npy(&Rng(6).tensor_f32(&[3, 4], -1.0, 1.0));
	use prost::Message;
	let pb = tensor_to_proto("t", &Rng(7).tensor_f32(&[3, 4], -1.0, 1.0)).encode_to_vec();
	let mut r = Rng(8);
	for i in 0..4000 {
		let mut bytes = if i % 2 == 0 { npy.clone() } else { pb.clone() };
		for _ in 0..1 + r.next_u64() % 3 {
			let k = (r.next_u64() as usize) % bytes.len();
			bytes[k] = r.next_u64() as u8;
		}
		if r.next_u64().is_multiple_of(4) {
			bytes.truncate((r.next_u64() as usize) % bytes.len());
		}
		let _ = parse_npy(&bytes);
		let _ = parse_tensor_pb(&bytes);
	}
}

/// Slices `x` (row-major `shape`) along `axis` to `start..end`, for expected values.
fn slice_along(x: &Tensor, axis: usize, start: usize, end: usize) -> Vec<f32> {
	let shape = x.shape();
	let inner: usize = shape[axis + 1..].iter().product();
	let outer: usize = shape[..axis].iter().product();
	let v = x.as_f32().unwrap();
	let mut out = Vec::new();
	for o in 0..outer {
		let base = o * shape[axis] * inner;
		out.extend_from_slice(&v[base + start * inner..base + end * inner]);
	}
	out
}

/// Every program node has exactly one output; node `i` is trace leaf `i`.
fn assert_single_outputs(m: &verity_onnx::CompiledModel) {
	for (i, n) in m.program.nodes.iter().enumerate() {
		assert_eq!(n.outputs.len(), 1, "node {i} ({})", n.op.name());
	}
}

#[test]
fn split_lowers_to_one_slice_per_used_output() {
	let x = Rng(11).tensor_f32(&[2, 6], -1.0, 1.0);
	// Opset 13: sizes as an input; output `b` is unused and produces no node.
	let bytes = model(
		13,
		vec![node(
			"Split",
			&["x", "split"],
			&["a", "b", "c"],
			vec![("axis", A::I(-1))],
		)],
		vec![value_info("x", F32, &[None, Some(6)])],
		vec![output("c"), output("a")],
		vec![("split", Tensor::from_i64(&[3], vec![1, 3, 2]).unwrap())],
	);
	let m = compile(&bytes, &[("x", vec![2, 6])]).unwrap();
	assert_single_outputs(&m);
	assert_eq!(m.node_count(), 2);
	assert!(m
		.program
		.nodes
		.iter()
		.all(|n| matches!(n.op, verity_engine::Op::Slice { .. })));
	let (out, trace) = execute(&m.program, std::slice::from_ref(&x)).unwrap();
	assert_eq!(trace.len(), 2);
	assert_eq!(out[0].shape(), &[2, 2]);
	assert_eq!(out[0].as_f32().unwrap(), slice_along(&x, 1, 4, 6));
	assert_eq!(out[1].shape(), &[2, 1]);
	assert_eq!(out[1].as_f32().unwrap(), slice_along(&x, 1, 0, 1));
	// Program output `j` is the leaf of its node.
	for (j, t) in out.iter().enumerate() {
		let leaf = m.program.output_node(j).unwrap() as usize;
		assert_eq!(trace.leaves[leaf], verity_engine::commit::tensor_hash(t));
	}

	// Opset 18 `num_outputs` with an uneven axis: chunks of ceil(7 / 3), the last smaller.
	let x7 = Rng(12).tensor_f32(&[7], -1.0, 1.0);
	let bytes = model(
		18,
		vec![node(
			"Split",
			&["x"],
			&["a", "b", "c"],
			vec![("num_outputs", A::I(3))],
		)],
		vec![value_info("x", F32, &[Some(7)])],
		vec![output("a"), output("b"), output("c")],
		vec![],
	);
	let m = compile(&bytes, &[]).unwrap();
	assert_single_outputs(&m);
	let (out, _) = execute(&m.program, std::slice::from_ref(&x7)).unwrap();
	let v = x7.as_f32().unwrap();
	assert_eq!(out[0].as_f32().unwrap(), &v[0..3]);
	assert_eq!(out[1].as_f32().unwrap(), &v[3..6]);
	assert_eq!(out[2].as_f32().unwrap(), &v[6..7]);

	// Opset 11 `split` attribute, with a zero-length part; opset 2 equal parts by default.
	for (opset, attrs, parts) in [
		(
			11,
			vec![("axis", A::I(0)), ("split", A::Is(vec![2, 0, 2]))],
			vec![(0, 2), (2, 2), (2, 4)],
		),
		(2, vec![("axis", A::I(0))], vec![(0, 2), (2, 4), (4, 6)]),
	] {
		let rows = parts.last().unwrap().1;
		let x = Rng(13).tensor_f32(&[rows, 3], -1.0, 1.0);
		let bytes = model(
			opset,
			vec![node("Split", &["x"], &["a", "b", "c"], attrs)],
			vec![value_info("x", F32, &[Some(rows as i64), Some(3)])],
			vec![output("a"), output("b"), output("c")],
			vec![],
		);
		let m = compile(&bytes, &[]).unwrap();
		assert_single_outputs(&m);
		assert_eq!(m.node_count(), 3, "opset {opset}");
		let (out, _) = execute(&m.program, std::slice::from_ref(&x)).unwrap();
		for (o, &(s, e)) in parts.iter().enumerate() {
			assert_eq!(out[o].shape(), &[e - s, 3], "opset {opset} output {o}");
			assert_eq!(out[o].as_f32().unwrap(), slice_along(&x, 0, s, e));
		}
	}

	// Sizes that do not add up to the axis are refused.
	let bytes = model(
		13,
		vec![node("Split", &["x", "split"], &["a", "b"], vec![])],
		vec![value_info("x", F32, &[Some(4)])],
		vec![output("a"), output("b")],
		vec![("split", Tensor::from_i64(&[2], vec![1, 2]).unwrap())],
	);
	let e = compile(&bytes, &[]).unwrap_err();
	assert!(matches!(e, CompileError::InvalidNode { .. }), "{e}");
}

#[test]
fn maxpool_indices_output_is_refused_unless_unused() {
	let pool = |outputs: &[&str], graph_outputs: Vec<pb::ValueInfoProto>| {
		model(
			12,
			vec![node(
				"MaxPool",
				&["x"],
				outputs,
				vec![
					("kernel_shape", A::Is(vec![2, 2])),
					("storage_order", A::I(1)),
				],
			)],
			vec![value_info("x", F32, &[Some(1), Some(1), Some(4), Some(4)])],
			graph_outputs,
			vec![],
		)
	};
	// The Indices output is used: a precise refusal.
	let bytes = pool(&["y", "idx"], vec![output("y"), output("idx")]);
	match compile(&bytes, &[]) {
		Err(e @ CompileError::UnsupportedFeature { .. }) => {
			let CompileError::UnsupportedFeature {
				op_type,
				node,
				opset,
				what,
			} = &e
			else {
				unreachable!()
			};
			assert_eq!(
				(op_type.as_str(), node.as_str(), *opset),
				("MaxPool", "n_y", 12)
			);
			assert!(what.contains("Indices") && what.contains("idx"), "{e}");
		}
		other => panic!("unexpected {other:?}"),
	}
	let bytes = pool(&["y", "idx"], vec![output("idx")]);
	assert!(matches!(
		compile(&bytes, &[]),
		Err(CompileError::UnsupportedFeature { .. })
	));
	// Declared but unused, or not declared: one node with one output.
	for outputs in [&["y", "idx"][..], &["y", ""], &["y"]] {
		let m = compile(&pool(outputs, vec![output("y")]), &[]).unwrap();
		assert_single_outputs(&m);
		assert_eq!(m.node_count(), 1);
		let x = Rng(14).tensor_f32(&[1, 1, 4, 4], -1.0, 1.0);
		let (out, _) = execute(&m.program, std::slice::from_ref(&x)).unwrap();
		assert_eq!(out[0].shape(), &[1, 1, 3, 3]);
	}
}
