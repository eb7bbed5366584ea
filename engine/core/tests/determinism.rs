//! End-to-end determinism: a small random CNN and MLP give the same outputs and trace root for
//! every thread count, kernel set (hardware FMA vs `libm::fmaf`) and repeated run; single-node
//! re-execution reproduces every trace leaf; fused and unfused convolutions agree bitwise.
//! Where the CPU has AVX2+FMA, the runs that ask for the best kernels must have entered the
//! hardware kernels and the portable runs must not have: the comparison is hardware vs portable,
//! never portable vs itself.

mod common;

use common::*;
use verity_engine::{
	commit::{tensor_hash, trace_root},
	exec::{execute, execute_node_with, execute_with, ExecError, ExecOptions, Prepared},
	ir::*,
	tensor::{DType, Tensor},
};

fn cnn(fuse: bool) -> Program {
	let mut r = Rng(1234);
	let mut b = Builder::new();
	let x = b.input(DType::F32, &[2, 3, 17, 15]);
	let conv = |pads: u32, s: u32, g: u32| ConvAttrs {
		pads: vec![pads; 4],
		strides: vec![s, s],
		dilations: vec![1, 1],
		group: g,
	};
	let w1 = b.weight(r.tensor(&[8, 3, 3, 3]));
	let b1 = b.weight(r.tensor(&[8]));
	let h = if fuse {
		b.node1(
			Op::FusedConv {
				conv: conv(1, 1, 1),
				activation: Activation::Relu,
			},
			&[x, w1, b1],
		)
	} else {
		let c = b.node1(Op::Conv(conv(1, 1, 1)), &[x, w1, b1]);
		b.node1(Op::Relu, &[c])
	};
	let sc = b.weight(r.tensor(&[8]));
	let bi = b.weight(r.tensor(&[8]));
	let mean = b.weight(r.tensor(&[8]));
	let var =
		b.weight(Tensor::from_f32(&[8], (0..8).map(|i| 0.5 + i as f32 * 0.1).collect()).unwrap());
	let h = b.node1(
		Op::BatchNormalization {
			epsilon: F32Bits::new(1e-5),
		},
		&[h, sc, bi, mean, var],
	);
	let dw = b.weight(r.tensor(&[8, 1, 3, 3]));
	let h = b.node1(Op::Conv(conv(1, 2, 8)), &[h, dw]);
	let w2 = b.weight(r.tensor(&[16, 8, 1, 1]));
	let h2 = b.node1(Op::Conv(conv(0, 1, 1)), &[h, w2]);
	let w3 = b.weight(r.tensor(&[16, 16, 3, 3]));
	let b3 = b.weight(r.tensor(&[16]));
	let h3 = if fuse {
		b.node(
			Op::FusedConv {
				conv: conv(1, 1, 1),
				activation: Activation::Relu,
			},
			&[Some(h2), Some(w3), Some(b3), Some(h2)],
		)
	} else {
		let c = b.node1(Op::Conv(conv(1, 1, 1)), &[h2, w3, b3]);
		let s = b.node1(Op::Binary(BinaryOp::Add), &[c, h2]);
		b.node1(Op::Relu, &[s])
	};
	let p = b.node1(
		Op::MaxPool {
			pool: PoolAttrs {
				kernel: vec![2, 2],
				pads: vec![],
				strides: vec![2, 2],
				dilations: vec![],
				ceil_mode: true,
			},
		},
		&[h3],
	);
	let g = b.node1(Op::GlobalAveragePool, &[p]);
	let f = b.node1(Op::Flatten { axis: 1 }, &[g]);
	let wf = b.weight(r.tensor(&[10, 16]));
	let bf = b.weight(r.tensor(&[10]));
	let logits = b.node1(
		Op::Gemm {
			alpha: F32Bits::new(1.0),
			beta: F32Bits::new(1.0),
			trans_a: false,
			trans_b: true,
		},
		&[f, wf, bf],
	);
	let sm = b.node1(
		Op::Softmax {
			axis: 1,
			coerce_2d: false,
		},
		&[logits],
	);
	b.output(sm);
	b.output(logits);
	b.build()
}

fn mlp() -> Program {
	let mut r = Rng(99);
	let mut b = Builder::new();
	let mut x = b.input(DType::F32, &[3, 64]);
	for (i, (din, dout)) in [(64, 300), (300, 129), (129, 10)].into_iter().enumerate() {
		let w = b.weight(r.tensor(&[din, dout]));
		let bias = b.weight(r.tensor(&[dout]));
		let m = b.node1(Op::MatMul, &[x, w]);
		x = b.node1(Op::Binary(BinaryOp::Add), &[m, bias]);
		if i < 2 {
			x = b.node1(Op::Tanh, &[x]);
		}
	}
	let y = b.node1(
		Op::LogSoftmax {
			axis: 1,
			coerce_2d: false,
		},
		&[x],
	);
	b.output(y);
	b.build()
}

fn all_options() -> Vec<ExecOptions> {
	vec![
		ExecOptions {
			threads: 1,
			portable: false,
		},
		ExecOptions {
			threads: 2,
			portable: false,
		},
		ExecOptions {
			threads: 4,
			portable: false,
		},
		ExecOptions {
			threads: 1,
			portable: true,
		},
		ExecOptions {
			threads: 3,
			portable: true,
		},
	]
}

/// Entries into the hardware kernels made on this thread by the runs that asked for the best
/// kernels and by those that forced the portable ones, for [`assert_isa_paths`].
#[derive(Default)]
struct IsaCalls {
	hardware: u64,
	portable: u64,
}

impl IsaCalls {
	/// Runs `f` under `opts`, counting its hardware kernel entries on the side `opts` asks for.
	fn count<R>(&mut self, opts: &ExecOptions, f: impl FnOnce() -> R) -> R {
		let (r, calls) = hardware_calls_of(f);
		if opts.portable {
			self.portable += calls;
		} else {
			self.hardware += calls;
		}
		r
	}
}

fn check_program(p: &Program, inputs: &[Tensor], calls: &mut IsaCalls) {
	let (out0, trace0) = execute(p, inputs).unwrap();
	// One leaf per node.
	assert_eq!(trace0.len(), p.nodes.len());
	let root0 = trace_root(&trace0);
	for opts in all_options() {
		for _ in 0..2 {
			let (out, trace) = calls.count(&opts, || execute_with(p, inputs, &opts).unwrap());
			assert_eq!(trace_root(&trace), root0, "{opts:?}");
			assert_eq!(out.len(), out0.len(), "{opts:?}");
			for (a, b) in out.iter().zip(&out0) {
				assert!(a.bit_eq(b), "{opts:?}");
			}
		}
	}
	let prepared = Prepared::new(p.clone()).unwrap();
	for opts in all_options() {
		let (_, trace) = calls.count(&opts, || prepared.run(inputs, &opts).unwrap());
		assert_eq!(trace_root(&trace), root0, "prepared {opts:?}");
	}
	// Program outputs are the leaves of their nodes.
	for (j, out) in out0.iter().enumerate() {
		let leaf = p.output_node(j).unwrap() as usize;
		assert_eq!(tensor_hash(out), trace0.leaves[leaf]);
	}
	// Every node re-executed alone (as in a fraud proof) reproduces its leaf (node `n` is leaf
	// `n`), in both kernel sets.
	let mut values: Vec<Tensor> = Vec::new();
	for (n, node) in p.nodes.iter().enumerate() {
		let ins: Vec<Option<&Tensor>> = node
			.inputs
			.iter()
			.map(|i| {
				i.as_ref().map(|i| match i.source {
					ValueRef::Input(j) => &inputs[j as usize],
					ValueRef::Weight(j) => &p.weights[j as usize],
					ValueRef::Node { node, output } => {
						assert_eq!(output, 0);
						&values[node as usize]
					}
				})
			})
			.collect();
		let best = ExecOptions::default();
		let hw = calls.count(&best, || execute_node_with(node, &ins, &best).unwrap());
		let portable = ExecOptions {
			threads: 1,
			portable: true,
		};
		let sw = calls.count(&portable, || {
			execute_node_with(node, &ins, &portable).unwrap()
		});
		assert_eq!((hw.len(), sw.len()), (1, 1), "node {n}: one output");
		assert_eq!(tensor_hash(&hw[0]), trace0.leaves[n], "node {n}");
		assert_eq!(tensor_hash(&sw[0]), trace0.leaves[n], "node {n} (portable)");
		values.extend(hw);
	}
}

#[test]
fn cnn_trace_is_deterministic() {
	let mut r = Rng(5);
	let x = r.tensor(&[2, 3, 17, 15]);
	let mut calls = IsaCalls::default();
	check_program(&cnn(false), std::slice::from_ref(&x), &mut calls);
	check_program(&cnn(true), std::slice::from_ref(&x), &mut calls);
	assert_isa_paths("determinism (cnn)", calls.hardware, calls.portable);
}

#[test]
fn fused_conv_matches_unfused_bitwise() {
	let mut r = Rng(6);
	let x = r.tensor(&[2, 3, 17, 15]);
	let (a, _) = execute(&cnn(false), std::slice::from_ref(&x)).unwrap();
	let (b, _) = execute(&cnn(true), std::slice::from_ref(&x)).unwrap();
	assert_eq!((a.len(), b.len()), (2, 2), "softmax and logits");
	assert!(a.iter().zip(&b).all(|(p, q)| p.bit_eq(q)));
}

#[test]
fn mlp_trace_is_deterministic() {
	let mut r = Rng(8);
	let x = r.tensor(&[3, 64]);
	let mut calls = IsaCalls::default();
	check_program(&mlp(), &[x], &mut calls);
	assert_isa_paths("determinism (mlp)", calls.hardware, calls.portable);
}

#[test]
fn trace_root_is_pinned() {
	// Guards the canonical semantics across refactors and platforms: if this changes, the
	// commitment format or some kernel's arithmetic changed (bump IR_VERSION).
	let mut r = Rng(8);
	let x = r.tensor(&[3, 64]);
	let (_, trace) = execute(&mlp(), &[x]).unwrap();
	let root = verity_engine::commit::to_hex(&trace_root(&trace));
	let (_, trace2) = execute_with(
		&mlp(),
		&[Rng(8).tensor(&[3, 64])],
		&ExecOptions {
			threads: 1,
			portable: true,
		},
	)
	.unwrap();
	assert_eq!(root, verity_engine::commit::to_hex(&trace_root(&trace2)));
	assert_eq!(
		root,
		"d96bcdee1ff22c26e8208df115da4d266307511c82a4238665a9c290b8ce0e5d"
	);
}

#[test]
fn wrong_inputs_are_rejected() {
	let p = mlp();
	assert!(matches!(
		execute(&p, &[]),
		Err(ExecError::InputCount { .. })
	));
	let bad = Tensor::zeros(DType::F32, &[3, 65]).unwrap();
	assert!(matches!(
		execute(&p, &[bad]),
		Err(ExecError::InputMismatch { .. })
	));
	let bad = Tensor::zeros(DType::I64, &[3, 64]).unwrap();
	assert!(matches!(
		execute(&p, &[bad]),
		Err(ExecError::InputMismatch { .. })
	));
	// execute_node checks inputs against the node's declared types.
	let node = &p.nodes[0];
	let x = Tensor::zeros(DType::F32, &[3, 64]).unwrap();
	let w = Tensor::zeros(DType::F32, &[64, 301]).unwrap();
	let r = execute_node_with(node, &[Some(&x), Some(&w)], &ExecOptions::default());
	assert!(matches!(r, Err(ExecError::ShapeMismatch { input: 1, .. })));
	let r = execute_node_with(node, &[Some(&x)], &ExecOptions::default());
	assert!(matches!(r, Err(ExecError::NodeInputCount { .. })));
	let r = execute_node_with(node, &[Some(&x), None], &ExecOptions::default());
	assert!(matches!(r, Err(ExecError::NodeInputPresence { input: 1 })));
	// A node whose declared output disagrees with inference is refused before running.
	let mut bad_node = node.clone();
	bad_node.outputs[0].shape = vec![3, 299];
	let w = &p.weights[0];
	assert!(matches!(
		execute_node_with(&bad_node, &[Some(&x), Some(w)], &ExecOptions::default()),
		Err(ExecError::Invalid(_))
	));
}

#[test]
fn invalid_programs_are_refused() {
	let good = mlp();
	let mut p = good.clone();
	p.version = 99;
	assert!(p.validate().is_err());
	let mut p = good.clone();
	p.nodes[0].inputs[0].as_mut().unwrap().source = ValueRef::Node { node: 3, output: 0 };
	assert!(matches!(
		p.validate(),
		Err(ValidationError::DanglingRef { .. })
	));
	let mut p = good.clone();
	p.nodes[1].inputs[0].as_mut().unwrap().source = ValueRef::Node { node: 0, output: 1 };
	assert!(matches!(
		p.validate(),
		Err(ValidationError::DanglingRef { .. })
	));
	// Every node has exactly one output: none, or a second one, is refused (by `validate` and
	// by `check_types`, which fraud proofs use).
	let mut p = good.clone();
	let ty = p.nodes[2].outputs[0].clone();
	p.nodes[2].outputs.push(ty);
	assert_eq!(
		p.validate(),
		Err(ValidationError::NotSingleOutput {
			node: 2,
			outputs: 2
		})
	);
	assert_eq!(
		p.nodes[2].check_types(2),
		Err(ValidationError::NotSingleOutput {
			node: 2,
			outputs: 2
		})
	);
	let mut p = good.clone();
	p.nodes[0].outputs.clear();
	assert_eq!(
		p.validate(),
		Err(ValidationError::NotSingleOutput {
			node: 0,
			outputs: 0
		})
	);
	let mut p = good.clone();
	p.outputs[0].source = ValueRef::Node {
		node: p.nodes.len() as u32 - 1,
		output: 1,
	};
	assert!(matches!(
		p.validate(),
		Err(ValidationError::BadOutput { .. })
	));
	let mut p = good.clone();
	p.nodes[0].inputs[1].as_mut().unwrap().source = ValueRef::Weight(1);
	assert!(matches!(
		p.validate(),
		Err(ValidationError::InputTypeMismatch { .. })
	));
	let mut p = good.clone();
	p.outputs[0].source = ValueRef::Input(0);
	assert!(matches!(
		p.validate(),
		Err(ValidationError::BadOutput { .. })
	));
	let mut p = good.clone();
	p.nodes[0].op = Op::Relu;
	assert!(p.validate().is_err());
	let mut p = good;
	p.nodes.clear();
	assert!(matches!(p.validate(), Err(ValidationError::Empty)));
}

#[test]
fn output_nodes_and_costs() {
	let p = mlp();
	let last = p.nodes.len() as u32 - 1;
	assert_eq!(p.output_node(0), Some(last));
	assert_eq!(p.output_node(1), None);
	let mut q = p.clone();
	q.outputs[0].source = ValueRef::Node {
		node: last,
		output: 1,
	};
	assert_eq!(q.output_node(0), None);
	q.outputs[0].source = ValueRef::Weight(0);
	assert_eq!(q.output_node(0), None);
	// MACs: 3·64·300 + 3·300·129 + 3·129·10 plus element traffic.
	let macs = p.macs();
	assert!(macs >= 3 * 64 * 300 + 3 * 300 * 129 + 3 * 129 * 10);
	// Largest footprint: MatMul 300x129 weight + input + output.
	assert_eq!(
		p.largest_node_footprint(),
		(3 * 300 + 300 * 129 + 3 * 129) as u64 * 4
	);
	// Largest cost: the same MatMul, 3·300·129 MACs plus its inputs' and output's bytes.
	assert_eq!(
		p.largest_node_cost(),
		3 * 300 * 129 + p.largest_node_footprint() * verity_engine::ops::COST_PER_BYTE
	);
	assert!(p.largest_node_cost() <= macs);
	assert_eq!(Program::new().largest_node_cost(), 0);
}
