//! Attributes and shapes at the engine's limits, where native (64-bit `usize`) and wasm (32-bit)
//! arithmetic on sizes could part: a program here is either valid on both and bit-identical
//! (through [`super::every_op_kind_is_bit_exact`]), or refused by both.

use verity_engine::{
	ir::*,
	tensor::{DType, Tensor, TensorType, MAX_ELEMENTS},
};

use super::{conv_attrs, finish, pool_attrs};
use crate::{common::Builder, probe::Probe};

/// Valid everywhere: repeat counts beyond `u32` of an empty axis, pooling windows and pads whose
/// products and sums exceed `u32`, convolution pads at their cap with a stride beyond the input.
pub fn at_the_limits() -> Program {
	let mut b = Builder::new();
	let x = b.input(DType::F32, &[1, 2, 4]);
	let empty = b.input(DType::F32, &[0, 4]);
	b.node1(
		Op::Tile {
			repeats: vec![1 << 32, 3],
		},
		&[empty],
	);
	b.node1(
		Op::Tile {
			repeats: vec![u64::MAX, 1],
		},
		&[empty],
	);
	// Window `(2^16 − 1)·2^16 + 1`, pads `2^32 − 2`: the first window holds only padding, the
	// second one input element.
	let pad = u32::MAX - 1;
	for ceil in [false, true] {
		let pool = pool_attrs(&[1 << 16], &[pad, pad], &[u32::MAX], &[1 << 16], ceil);
		b.node1(Op::MaxPool { pool: pool.clone() }, &[x]);
		for count_include_pad in [false, true] {
			b.node1(
				Op::AveragePool {
					pool: pool.clone(),
					count_include_pad,
				},
				&[x],
			);
		}
	}
	let w = b.weight(Tensor::from_f32(&[3, 2, 1], vec![0.5, -1.0, 2.0, 0.25, -0.0, 3.0]).unwrap());
	let bias = b.weight(Tensor::from_f32(&[3], vec![1.0, -0.0, 7.0]).unwrap());
	let cap = MAX_ELEMENTS as u32;
	b.node1(
		Op::Conv(conv_attrs(&[cap, cap], &[u32::MAX], &[1], 1)),
		&[x, w, bias],
	);
	finish(b)
}

/// A program of one node on the given inputs (types) and weights, declaring `out`: the type that
/// wrapping 32-bit size arithmetic would infer, so only a refusal makes it fail.
fn one_node(inputs: &[TensorType], weights: Vec<Tensor>, op: Op, out: TensorType) -> Program {
	let mut p = Program::new();
	let mut sources = Vec::new();
	for (i, ty) in inputs.iter().enumerate() {
		p.inputs.push(ValueInfo {
			name: format!("in{i}"),
			ty: ty.clone(),
		});
		sources.push((ValueRef::Input(i as u32), ty.clone()));
	}
	for (j, w) in weights.into_iter().enumerate() {
		sources.push((ValueRef::Weight(j as u32), w.tensor_type()));
		p.weights.push(w);
	}
	p.nodes.push(Node {
		op,
		inputs: sources
			.into_iter()
			.map(|(source, ty)| Some(NodeInput { source, ty }))
			.collect(),
		outputs: vec![out],
	});
	p.outputs.push(OutputInfo {
		name: "out".into(),
		source: ValueRef::Node { node: 0, output: 0 },
	});
	p
}

#[test]
fn beyond_the_limits_is_refused_alike() {
	let cap = MAX_ELEMENTS as u32;
	let f32s = |shape: &[usize]| Tensor::zeros(DType::F32, shape).unwrap();
	let cases = [
		(
			// The non-zero dimensions multiply to 2^32: 0 in 32 bits.
			"empty input with 2^32 elements per row",
			one_node(
				&[TensorType::new(DType::F32, &[0, 1 << 16, 1 << 16])],
				vec![],
				Op::Flatten { axis: 1 },
				TensorType::new(DType::F32, &[0, 0]),
			),
		),
		(
			"convolution pad beyond the cap",
			one_node(
				&[],
				vec![f32s(&[1, 2, 4]), f32s(&[3, 2, 1])],
				Op::Conv(conv_attrs(&[cap + 1, 0], &[u32::MAX], &[1], 1)),
				TensorType::new(DType::F32, &[1, 3, 1]),
			),
		),
		(
			// `16 · 2^28` channels per group would be 0 in 32 bits, like the input's.
			"convolution without channels, groups × channels wrapping",
			one_node(
				&[],
				vec![f32s(&[1, 0, 4]), f32s(&[0, 16, 1])],
				Op::Conv(conv_attrs(&[0, 0], &[1], &[1], 1 << 28)),
				TensorType::new(DType::F32, &[1, 0, 4]),
			),
		),
	];
	let mut probe = Probe::new(false);
	for (name, p) in cases {
		assert!(p.validate().is_err(), "{name}: valid natively");
		match probe.run(&p, &[]) {
			Err(e) if e.starts_with("invalid program") => {}
			other => panic!("{name}: not refused in wasm: {other:?}"),
		}
	}
}
