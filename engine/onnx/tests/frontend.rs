//! Front-end behaviour: errors, symbolic dimensions, constant inputs, robustness against
//! arbitrary bytes, and the tensor file helpers.

mod common;

use common::{model, node, output, value_info, Rng, A};
use verity_engine::{execute, Tensor};
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

const _: () = assert!(COMPILER_VERSION >= 1);

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
