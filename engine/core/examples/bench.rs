//! Rough latency figures for the canonical executor (not a test):
//! `cargo run --release -p verity-engine --example bench`.

use std::time::Instant;

use verity_engine::{
	exec::{ExecOptions, Prepared},
	ir::*,
	linalg::{
		gemm::{gemm, BOperand, MatRef},
		Isa,
	},
	ops,
	tensor::{DType, Tensor},
};

struct Rng(u64);
impl Rng {
	fn f32(&mut self) -> f32 {
		self.0 ^= self.0 << 13;
		self.0 ^= self.0 >> 7;
		self.0 ^= self.0 << 17;
		((self.0 >> 40) as f32 / (1u64 << 24) as f32) - 0.5
	}
	fn tensor(&mut self, shape: &[usize], scale: f32) -> Tensor {
		let n = shape.iter().product();
		Tensor::from_f32(shape, (0..n).map(|_| self.f32() * scale).collect()).unwrap()
	}
}

struct B {
	p: Program,
	r: Rng,
	fuse: bool,
}

impl B {
	fn ty(&self, v: ValueRef) -> verity_engine::tensor::TensorType {
		self.p.value_type(v).unwrap()
	}
	fn node(&mut self, op: Op, ins: &[Option<ValueRef>]) -> ValueRef {
		let inputs: Vec<Option<NodeInput>> = ins
			.iter()
			.map(|r| {
				r.map(|source| NodeInput {
					source,
					ty: self.ty(source),
				})
			})
			.collect();
		let types: Vec<_> = inputs
			.iter()
			.map(|i| i.as_ref().map(|i| i.ty.clone()))
			.collect();
		let mut outputs = ops::infer(&op, &types).unwrap();
		outputs.truncate(1);
		self.p.nodes.push(Node {
			op,
			inputs,
			outputs,
		});
		ValueRef::Node {
			node: self.p.nodes.len() as u32 - 1,
			output: 0,
		}
	}
	fn weight(&mut self, shape: &[usize]) -> ValueRef {
		let fan: usize = shape[1..].iter().product::<usize>().max(1);
		let t = self.r.tensor(shape, 2.0 / (fan as f32).sqrt());
		self.p.weights.push(t);
		ValueRef::Weight(self.p.weights.len() as u32 - 1)
	}
	fn conv(
		&mut self,
		x: ValueRef,
		cin: usize,
		cout: usize,
		k: usize,
		s: u32,
		relu: bool,
	) -> ValueRef {
		self.conv_z(x, cin, cout, k, s, relu, None)
	}
	#[allow(clippy::too_many_arguments)]
	fn conv_z(
		&mut self,
		x: ValueRef,
		cin: usize,
		cout: usize,
		k: usize,
		s: u32,
		relu: bool,
		z: Option<ValueRef>,
	) -> ValueRef {
		let w = self.weight(&[cout, cin, k, k]);
		let b = self.weight(&[cout]);
		let p = (k / 2) as u32;
		let conv = ConvAttrs {
			pads: vec![p; 4],
			strides: vec![s, s],
			dilations: vec![1, 1],
			group: 1,
		};
		if self.fuse {
			let activation = if relu {
				Activation::Relu
			} else {
				Activation::None
			};
			return self.node(
				Op::FusedConv { conv, activation },
				&[Some(x), Some(w), Some(b), z],
			);
		}
		let mut y = self.node(Op::Conv(conv), &[Some(x), Some(w), Some(b)]);
		if let Some(z) = z {
			y = self.node(Op::Binary(BinaryOp::Add), &[Some(y), Some(z)]);
		}
		if relu {
			self.node(Op::Relu, &[Some(y)])
		} else {
			y
		}
	}
}

fn resnet(depth: [usize; 4], bottleneck: bool, fuse: bool) -> Program {
	let mut b = B {
		p: Program::new(),
		r: Rng(42),
		fuse,
	};
	b.p.inputs.push(ValueInfo {
		name: "x".into(),
		ty: verity_engine::tensor::TensorType::new(DType::F32, &[1, 3, 224, 224]),
	});
	let mut x = b.conv(ValueRef::Input(0), 3, 64, 7, 2, true);
	x = b.node(
		Op::MaxPool {
			pool: PoolAttrs {
				kernel: vec![3, 3],
				pads: vec![1; 4],
				strides: vec![2, 2],
				dilations: vec![],
				ceil_mode: false,
			},
		},
		&[Some(x)],
	);
	let mut cin = 64;
	for (stage, &n) in depth.iter().enumerate() {
		let width = 64 << stage;
		let cout = if bottleneck { width * 4 } else { width };
		for blk in 0..n {
			let s = if blk == 0 && stage > 0 { 2 } else { 1 };
			let shortcut = if blk == 0 && (s != 1 || cin != cout) {
				b.conv(x, cin, cout, 1, s, false)
			} else {
				x
			};
			x = if bottleneck {
				let y = b.conv(x, cin, width, 1, 1, true);
				let y = b.conv(y, width, width, 3, s, true);
				b.conv_z(y, width, cout, 1, 1, true, Some(shortcut))
			} else {
				let y = b.conv(x, cin, width, 3, s, true);
				b.conv_z(y, width, cout, 3, 1, true, Some(shortcut))
			};
			cin = cout;
		}
	}
	x = b.node(Op::GlobalAveragePool, &[Some(x)]);
	x = b.node(Op::Flatten { axis: 1 }, &[Some(x)]);
	let w = b.weight(&[1000, cin]);
	let bias = b.weight(&[1000]);
	x = b.node(
		Op::Gemm {
			alpha: F32Bits::new(1.0),
			beta: F32Bits::new(1.0),
			trans_a: false,
			trans_b: true,
		},
		&[Some(x), Some(w), Some(bias)],
	);
	b.p.outputs.push(OutputInfo {
		name: "y".into(),
		source: x,
	});
	b.p.validate().unwrap();
	b.p
}

fn mlp(batch: usize, dims: &[usize]) -> Program {
	let mut b = B {
		p: Program::new(),
		r: Rng(7),
		fuse: false,
	};
	b.p.inputs.push(ValueInfo {
		name: "x".into(),
		ty: verity_engine::tensor::TensorType::new(DType::F32, &[batch, dims[0]]),
	});
	let mut x = ValueRef::Input(0);
	for i in 1..dims.len() {
		let w = b.weight(&[dims[i], dims[i - 1]]);
		let bias = b.weight(&[dims[i]]);
		x = b.node(
			Op::Gemm {
				alpha: F32Bits::new(1.0),
				beta: F32Bits::new(1.0),
				trans_a: false,
				trans_b: true,
			},
			&[Some(x), Some(w), Some(bias)],
		);
		if i + 1 < dims.len() {
			x = b.node(Op::Relu, &[Some(x)]);
		}
	}
	b.p.outputs.push(OutputInfo {
		name: "y".into(),
		source: x,
	});
	b.p.validate().unwrap();
	b.p
}

fn time<F: FnMut()>(label: &str, reps: usize, mut f: F) -> f64 {
	f();
	let mut best = f64::MAX;
	for _ in 0..reps {
		let t = Instant::now();
		f();
		best = best.min(t.elapsed().as_secs_f64());
	}
	println!("{label:<40} {:>9.3} ms", best * 1e3);
	best
}

/// Runs node by node and reports time per op kind (plus hashing).
fn profile(p: &Program, x: &Tensor) {
	use std::collections::BTreeMap;
	let ctx = ops::Ctx::new();
	let mut vals: Vec<Vec<Tensor>> = Vec::new();
	let mut per: BTreeMap<String, (f64, u64)> = BTreeMap::new();
	let mut hash = 0.0;
	for node in &p.nodes {
		let args: Vec<Option<&Tensor>> = node
			.inputs
			.iter()
			.map(|i| {
				i.as_ref().map(|i| match i.source {
					ValueRef::Input(_) => x,
					ValueRef::Weight(j) => &p.weights[j as usize],
					ValueRef::Node { node, output } => &vals[node as usize][output as usize],
				})
			})
			.collect();
		let t = Instant::now();
		let out = ops::run(&node.op, &args, &ctx).unwrap();
		let dt = t.elapsed().as_secs_f64();
		let key = match &node.op {
			Op::Conv(a) | Op::FusedConv { conv: a, .. } => {
				let w = node.inputs[1].as_ref().unwrap().ty.shape.clone();
				format!("Conv k{} s{} g{}", w[2], a.strides[0], a.group)
			}
			op => op.name().to_string(),
		};
		let e = per.entry(key).or_default();
		e.0 += dt;
		e.1 += verity_engine::exec::node_cost(node);
		let t = Instant::now();
		for o in &out {
			verity_engine::commit::tensor_hash(o);
		}
		hash += t.elapsed().as_secs_f64();
		vals.push(out);
	}
	for (k, (t, c)) in per {
		println!(
			"  {k:<28} {:>8.2} ms  {:>6.1} Gunits/s",
			t * 1e3,
			c as f64 / t / 1e9
		);
	}
	println!("  {:<28} {:>8.2} ms", "tensor hashing", hash * 1e3);
}

fn main() {
	let args: Vec<String> = std::env::args().collect();
	let only = args.get(1).cloned().unwrap_or_default();
	let isa = Isa::detect();
	println!("isa: {}", isa.name());
	if only.is_empty() || only == "gemm" {
		let mut r = Rng(1);
		for &(m, n, k) in &[
			(256, 3136, 576),
			(64, 12544, 147),
			(512, 196, 4608),
			(1, 4096, 4096),
			(2048, 49, 512),
		] {
			let a: Vec<f32> = (0..m * k).map(|_| r.f32()).collect();
			let bb: Vec<f32> = (0..k * n).map(|_| r.f32()).collect();
			let mut c = vec![0f32; m * n];
			let am = MatRef::row_major(&a, 0, m, k).unwrap();
			let bm = MatRef::row_major(&bb, 0, k, n).unwrap();
			let t = time(&format!("gemm {m}x{n}x{k}"), 5, || {
				c.iter_mut().for_each(|x| *x = 0.0);
				gemm(isa, 1, m, n, k, &am, BOperand::Source(&bm), &mut c, n);
			});
			println!("{:>50.1} GMAC/s", (m * n * k) as f64 / t / 1e9);
		}
	}
	if only == "pool" {
		let x = Rng(9).tensor(&[1, 64, 112, 112], 1.0);
		let op = Op::MaxPool {
			pool: PoolAttrs {
				kernel: vec![3, 3],
				pads: vec![1; 4],
				strides: vec![2, 2],
				dilations: vec![],
				ceil_mode: false,
			},
		};
		let ctx = ops::Ctx::new();
		time("maxpool 64x112x112 k3s2", 10, || {
			ops::run(&op, &[Some(&x)], &ctx).unwrap();
		});
		time("relu 64x112x112", 10, || {
			ops::run(&Op::Relu, &[Some(&x)], &ctx).unwrap();
		});
		time("clone 64x112x112", 10, || {
			let _ = x.clone();
		});
	}
	if only.is_empty() || only == "hash" {
		let t = Rng(9).tensor(&[4 << 20], 1.0);
		let d = time("tensor_hash 16 MiB", 5, || {
			verity_engine::commit::tensor_hash(&t);
		});
		println!("{:>50.0} MB/s", 16.0 / d);
		let bytes = vec![1u8; 16 << 20];
		let d = time("blake2b 16 MiB", 5, || {
			verity_engine::commit::blake2_256(&bytes);
		});
		println!("{:>50.0} MB/s", 16.0 / d);
	}
	let opts = ExecOptions::default();
	if only.is_empty() || only == "mlp" {
		for &batch in &[1usize, 64] {
			let p = Prepared::new(mlp(batch, &[784, 2048, 2048, 1024, 10])).unwrap();
			let x = Rng(3).tensor(&[batch, 784], 1.0);
			time(&format!("mlp 784-2048-2048-1024-10 b{batch}"), 10, || {
				p.run(std::slice::from_ref(&x), &opts).unwrap();
			});
		}
	}
	if only.is_empty() || only == "resnet" {
		for (name, depth, bottleneck, fuse) in [
			("resnet18 fused", [2, 2, 2, 2], false, true),
			("resnet50 fused", [3, 4, 6, 3], true, true),
			("resnet50 unfused", [3, 4, 6, 3], true, false),
		] {
			let p = Prepared::new(resnet(depth, bottleneck, fuse)).unwrap();
			println!("{name}: {:.2} GMACs", p.program().macs() as f64 / 1e9);
			let x = Rng(3).tensor(&[1, 3, 224, 224], 1.0);
			time(name, 3, || {
				p.run(std::slice::from_ref(&x), &opts).unwrap();
			});
			profile(p.program(), &x);
			if only == "resnet" {
				let o2 = ExecOptions {
					threads: 2,
					portable: false,
				};
				time(&format!("{name} 2 threads"), 3, || {
					p.run(std::slice::from_ref(&x), &o2).unwrap();
				});
			}
		}
	}
}
