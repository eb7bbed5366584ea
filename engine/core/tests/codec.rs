//! SCALE round trips of programs and tensors; decoding random or truncated bytes never panics.

mod common;

use codec::{Decode, DecodeAll, Encode};
use common::*;
use verity_engine::{
	commit::{MerkleProof, Trace},
	ir::*,
	tensor::{DType, Tensor},
};

fn sample_program() -> Program {
	let mut r = Rng(3);
	let mut b = Builder::new();
	let x = b.input(DType::F32, &[1, 2, 6, 6]);
	let w = b.weight(r.tensor(&[4, 2, 3, 3]));
	let c = b.node1(
		Op::FusedConv {
			conv: ConvAttrs {
				pads: vec![1; 4],
				strides: vec![1, 1],
				dilations: vec![1, 1],
				group: 1,
			},
			activation: Activation::Clip {
				min: F32Bits::new(0.0),
				max: F32Bits::new(6.0),
			},
		},
		&[x, w],
	);
	let s = b.weight(Tensor::from_f32(&[], vec![0.05]).unwrap());
	let z = b.weight(Tensor::from_i8(&[], vec![-3]).unwrap());
	let q = b.node1(Op::QuantizeLinear { axis: 1 }, &[c, s, z]);
	let idx = b.weight(Tensor::from_i64(&[2], vec![0, -1]).unwrap());
	let g = b.node1(Op::Gather { axis: 1 }, &[q, idx]);
	let part = b.node1(
		Op::Slice {
			starts: vec![2],
			ends: vec![i64::MAX],
			axes: vec![2],
			steps: vec![1],
		},
		&[g],
	);
	let k = b.node(
		Op::ConstantOfShape {
			value: Tensor::from_bool(&[1], vec![true]).unwrap(),
			shape: vec![3],
		},
		&[],
	);
	b.output(part);
	b.output(k);
	b.build()
}

#[test]
fn program_and_tensor_roundtrip() {
	let p = sample_program();
	let bytes = p.encode();
	let q = Program::decode_all(&mut &bytes[..]).unwrap();
	assert_eq!(p, q);
	assert_eq!(q.encode(), bytes);
	q.validate().unwrap();
	for t in [
		Tensor::from_f32(&[2, 0, 3], vec![]).unwrap(),
		Tensor::from_f32(&[], vec![f32::from_bits(0x7fc0_1234)]).unwrap(),
		Tensor::from_u8(&[3], vec![1, 2, 255]).unwrap(),
	] {
		let e = t.encode();
		let d = Tensor::decode_all(&mut &e[..]).unwrap();
		assert_eq!(d.to_le_bytes(), t.to_le_bytes());
		assert_eq!(d.shape(), t.shape());
	}
	let tr = Trace {
		leaves: vec![[1u8; 32], [2u8; 32]],
	};
	assert_eq!(Trace::decode(&mut &tr.encode()[..]).unwrap(), tr);
	let pr = MerkleProof {
		siblings: vec![[9u8; 32]],
	};
	assert_eq!(MerkleProof::decode(&mut &pr.encode()[..]).unwrap(), pr);
}

#[test]
fn type_info_is_registered() {
	let mut reg = scale_info::Registry::new();
	reg.register_type(&scale_info::meta_type::<Program>());
	reg.register_type(&scale_info::meta_type::<Trace>());
	let reg: scale_info::PortableRegistry = reg.into();
	assert!(reg
		.types
		.iter()
		.any(|t| t.ty.path.segments.last().map(|s| s.as_str()) == Some("Tensor")));
	assert!(reg
		.types
		.iter()
		.any(|t| t.ty.path.segments.last().map(|s| s.as_str()) == Some("Op")));
}

#[test]
fn truncated_and_corrupted_bytes_never_panic() {
	let bytes = sample_program().encode();
	for cut in 0..bytes.len() {
		assert!(Program::decode_all(&mut &bytes[..cut]).is_err());
	}
	let mut r = Rng(11);
	let mut decoded_ok = 0;
	for _ in 0..20_000 {
		let mut b = bytes.clone();
		for _ in 0..=r.below(4) {
			let i = r.below(b.len() as u64) as usize;
			b[i] = r.next_u64() as u8;
		}
		if let Ok(p) = Program::decode(&mut &b[..]) {
			decoded_ok += 1;
			// A decoded program either validates and executes, or is refused: never a panic.
			if p.validate().is_ok() {
				let inputs: Vec<Tensor> = p
					.inputs
					.iter()
					.map(|i| Tensor::zeros(i.ty.dtype, &i.ty.dims().unwrap()).unwrap())
					.collect();
				let _ = verity_engine::execute(&p, &inputs);
			}
		}
	}
	assert!(decoded_ok > 0);
	for _ in 0..20_000 {
		let n = r.below(200) as usize;
		let b: Vec<u8> = (0..n).map(|_| r.next_u64() as u8).collect();
		let _ = Program::decode(&mut &b[..]);
		let _ = Tensor::decode(&mut &b[..]);
		let _ = Node::decode(&mut &b[..]);
		let _ = Op::decode(&mut &b[..]);
	}
}

#[test]
fn decoded_tensors_are_checked() {
	let t = Tensor::from_i32(&[2, 2], vec![1, 2, 3, 4]).unwrap();
	let mut e = t.encode();
	// Change a dimension: the data length no longer matches.
	e[2] = 3;
	assert!(Tensor::decode(&mut &e[..]).is_err());
	// Dimensions whose product overflows.
	let mut e = Vec::new();
	DType::F32.encode_to(&mut e);
	vec![u64::MAX, u64::MAX].encode_to(&mut e);
	Vec::<u8>::new().encode_to(&mut e);
	assert!(Tensor::decode(&mut &e[..]).is_err());
	// Too many dimensions.
	let mut e = Vec::new();
	DType::U8.encode_to(&mut e);
	vec![1u64; 40].encode_to(&mut e);
	vec![0u8].encode_to(&mut e);
	assert!(Tensor::decode(&mut &e[..]).is_err());
	// Memory-limited decoding is tracked.
	let big = Tensor::zeros(DType::F32, &[1024]).unwrap().encode();
	assert!(
		<Tensor as codec::DecodeWithMemLimit>::decode_with_mem_limit(&mut &big[..], 100).is_err()
	);
	assert!(
		<Tensor as codec::DecodeWithMemLimit>::decode_with_mem_limit(&mut &big[..], 1 << 20)
			.is_ok()
	);
}
