//! Test helpers: a tiny program builder, single-op runner, PRNG and naive references.
#![allow(dead_code)]

use verity_engine::{
	exec::{execute_node_with, ExecOptions},
	ir::{Node, NodeInput, Op, OutputInfo, Program, ValueInfo, ValueRef},
	ops,
	tensor::{DType, Tensor, TensorType},
};

/// xorshift64* PRNG (deterministic, dependency-free).
pub struct Rng(pub u64);

impl Rng {
	pub fn next_u64(&mut self) -> u64 {
		self.0 ^= self.0 >> 12;
		self.0 ^= self.0 << 25;
		self.0 ^= self.0 >> 27;
		self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
	}
	/// Uniform in [-1, 1).
	pub fn f32(&mut self) -> f32 {
		((self.next_u64() >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
	}
	pub fn below(&mut self, n: u64) -> u64 {
		self.next_u64() % n
	}
	pub fn vec(&mut self, n: usize) -> Vec<f32> {
		(0..n).map(|_| self.f32()).collect()
	}
	pub fn tensor(&mut self, shape: &[usize]) -> Tensor {
		let n = shape.iter().product();
		Tensor::from_f32(shape, self.vec(n)).unwrap()
	}
}

pub fn f(shape: &[usize], v: &[f32]) -> Tensor {
	Tensor::from_f32(shape, v.to_vec()).unwrap()
}

/// Builds a node for `op` on `inputs` (types inferred), runs it through `execute_node`.
pub fn run(op: Op, inputs: &[Option<&Tensor>]) -> Vec<Tensor> {
	try_run(op, inputs).unwrap_or_else(|e| panic!("{e}"))
}

pub fn try_run(op: Op, inputs: &[Option<&Tensor>]) -> Result<Vec<Tensor>, String> {
	try_run_with(op, inputs, &ExecOptions::default())
}

pub fn try_run_with(
	op: Op,
	inputs: &[Option<&Tensor>],
	opts: &ExecOptions,
) -> Result<Vec<Tensor>, String> {
	let node = node_for(op, inputs).map_err(|e| e.to_string())?;
	execute_node_with(&node, inputs, opts).map_err(|e| e.to_string())
}

pub fn node_for(op: Op, inputs: &[Option<&Tensor>]) -> Result<Node, ops::OpError> {
	let types: Vec<Option<TensorType>> =
		inputs.iter().map(|t| t.map(|t| t.tensor_type())).collect();
	let outputs = ops::infer(&op, &types)?;
	Ok(Node {
		op,
		inputs: types
			.into_iter()
			.enumerate()
			.map(|(i, t)| {
				t.map(|ty| NodeInput {
					source: ValueRef::Input(i as u32),
					ty,
				})
			})
			.collect(),
		outputs,
	})
}

pub fn run1(op: Op, inputs: &[&Tensor]) -> Tensor {
	let ins: Vec<Option<&Tensor>> = inputs.iter().map(|t| Some(*t)).collect();
	run(op, &ins).remove(0)
}

pub fn assert_close(got: &Tensor, shape: &[usize], want: &[f32], tol: f32) {
	assert_eq!(got.shape(), shape, "shape");
	let g = got.as_f32().expect("f32 output");
	assert_eq!(g.len(), want.len());
	for (i, (a, b)) in g.iter().zip(want).enumerate() {
		assert!(
			(a - b).abs() <= tol * (1.0 + b.abs()) || (a.is_nan() && b.is_nan()),
			"element {i}: got {a}, want {b}\n got {g:?}\nwant {want:?}"
		);
	}
}

pub fn bits(t: &Tensor) -> Vec<u32> {
	t.as_f32().unwrap().iter().map(|x| x.to_bits()).collect()
}

/// Program builder.
pub struct Builder {
	pub p: Program,
}

impl Builder {
	pub fn new() -> Self {
		Builder { p: Program::new() }
	}
	pub fn input(&mut self, dtype: DType, shape: &[usize]) -> ValueRef {
		let i = self.p.inputs.len() as u32;
		self.p.inputs.push(ValueInfo {
			name: format!("in{i}"),
			ty: TensorType::new(dtype, shape),
		});
		ValueRef::Input(i)
	}
	pub fn weight(&mut self, t: Tensor) -> ValueRef {
		self.p.weights.push(t);
		ValueRef::Weight(self.p.weights.len() as u32 - 1)
	}
	/// Appends a node (its one output type inferred) and returns its output.
	pub fn node(&mut self, op: Op, inputs: &[Option<ValueRef>]) -> ValueRef {
		let ins: Vec<Option<NodeInput>> = inputs
			.iter()
			.map(|r| {
				r.map(|source| NodeInput {
					source,
					ty: self.p.value_type(source).expect("value"),
				})
			})
			.collect();
		let types: Vec<Option<TensorType>> = ins
			.iter()
			.map(|i| i.as_ref().map(|i| i.ty.clone()))
			.collect();
		let outputs = ops::infer(&op, &types).unwrap_or_else(|e| panic!("{}: {e}", op.name()));
		assert_eq!(outputs.len(), 1, "{}: one output", op.name());
		let n = self.p.nodes.len() as u32;
		self.p.nodes.push(Node {
			op,
			inputs: ins,
			outputs,
		});
		ValueRef::Node { node: n, output: 0 }
	}
	pub fn node1(&mut self, op: Op, inputs: &[ValueRef]) -> ValueRef {
		let ins: Vec<Option<ValueRef>> = inputs.iter().map(|r| Some(*r)).collect();
		self.node(op, &ins)
	}
	pub fn output(&mut self, v: ValueRef) {
		let i = self.p.outputs.len();
		self.p.outputs.push(OutputInfo {
			name: format!("out{i}"),
			source: v,
		});
	}
	pub fn build(self) -> Program {
		self.p.validate().unwrap_or_else(|e| panic!("{e}"));
		self.p
	}
}

// ---------------------------------------------------------------------------------------------
// Which kernel sets a test ran.

/// Whether this CPU has AVX2 and FMA. Asked of the CPU here, not of the engine, so that a
/// detection bug cannot turn a hardware-vs-portable comparison into portable vs portable.
pub fn cpu_has_avx2_fma() -> bool {
	#[cfg(target_arch = "x86_64")]
	{
		std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma")
	}
	#[cfg(not(target_arch = "x86_64"))]
	{
		false
	}
}

/// Whether this CPU has the scalar FMA instruction (asked of the CPU, as above).
pub fn cpu_has_fma() -> bool {
	#[cfg(target_arch = "x86_64")]
	{
		std::is_x86_feature_detected!("fma")
	}
	#[cfg(not(target_arch = "x86_64"))]
	{
		false
	}
}

/// `f`'s result and the entries into the engine's hardware kernels it made on this thread.
pub fn hardware_calls_of<R>(f: impl FnOnce() -> R) -> (R, u64) {
	let before = verity_engine::linalg::hardware_kernel_calls();
	let r = f();
	(r, verity_engine::linalg::hardware_kernel_calls() - before)
}

/// Asserts which kernel sets a test's runs used and states it on one line.
///
/// `hardware`: entries into the hardware kernels made by the runs that asked for the best
/// kernels; `portable`: those made by the runs that forced the portable ones. The portable runs
/// must make none, the others some exactly when the CPU has AVX2+FMA. A CPU without them is
/// stated, never failed: which machine runs the suite is not the code's fault.
pub fn assert_isa_paths(test: &str, hardware: u64, portable: u64) {
	assert_eq!(
		portable, 0,
		"{test}: runs forced onto the portable kernels entered the hardware kernels {portable} times"
	);
	if cpu_has_avx2_fma() {
		assert!(
			hardware > 0,
			"{test}: the CPU has AVX2+FMA but the runs meant to use them never entered the \
			 hardware kernels"
		);
		state_isa_paths(test, "avx2+fma, portable");
	} else {
		assert_eq!(
			hardware, 0,
			"{test}: hardware kernels ran on a CPU without AVX2+FMA"
		);
		state_isa_paths(test, "portable only (CPU lacks avx2/fma)");
	}
}

/// Prints `ISA paths exercised by <test>: <paths>`, the line `scripts/test.sh` copies into its
/// summary. Written to stderr directly: the test harness captures `print!`, not this, so the
/// line shows for passing tests too.
pub fn state_isa_paths(test: &str, paths: &str) {
	use std::io::Write;
	let _ = writeln!(std::io::stderr(), "ISA paths exercised by {test}: {paths}");
}
