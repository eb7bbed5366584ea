//! The wasm probe harness shared by the integration tests: builds the probe for
//! `wasm32v1-none` with a nested cargo, loads it in wasmtime, and compares programs run natively
//! and in wasm bit for bit.
//!
//! The first use builds the probe (about a minute, into `$CARGO_TARGET_DIR/wasm-probe`, else
//! `$HOME/.cache/verity-target/wasm-probe`). The nested cargo inherits the caller's build lock.
#![allow(dead_code)]

use std::{
	env,
	path::{Path, PathBuf},
	process::Command,
	sync::OnceLock,
	time::Instant,
};

use codec::{Decode, Encode};
use verity_engine::{
	commit::{tensor_hash, to_hex, trace_root},
	exec::{execute_node_with, execute_with, ExecOptions, Prepared},
	ir::{Node, Program, ValueRef},
	tensor::Tensor,
};
use verity_wasm_probe::{NodeReply, RunReply};
use wasmtime::{Config, Engine, Instance, Memory, Module, Store, TypedFunc};

const TARGET: &str = "wasm32v1-none";

// ---------------------------------------------------------------------------------------------
// Building and loading the probe
// ---------------------------------------------------------------------------------------------

fn workspace_root() -> PathBuf {
	Path::new(env!("CARGO_MANIFEST_DIR"))
		.join("../..")
		.canonicalize()
		.expect("workspace root")
}

/// Where the nested build puts its artifacts: its own directory, so it never waits for the lock
/// of the target directory the test itself was built in.
fn probe_target_dir() -> PathBuf {
	match env::var_os("CARGO_TARGET_DIR") {
		Some(d) => workspace_root().join(d).join("wasm-probe"),
		None => {
			let home = env::var_os("HOME").expect("HOME or CARGO_TARGET_DIR must be set");
			Path::new(&home).join(".cache/verity-target/wasm-probe")
		}
	}
}

/// Fails with instructions when the toolchain has no `wasm32v1-none` standard library.
fn require_target() {
	let rustc = env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
	let out = Command::new(&rustc)
		.current_dir(workspace_root())
		.args(["--print", "sysroot"])
		.output()
		.unwrap_or_else(|e| panic!("cannot run {rustc:?}: {e}"));
	let sysroot = String::from_utf8_lossy(&out.stdout).trim().to_string();
	let lib = Path::new(&sysroot).join("lib/rustlib").join(TARGET);
	assert!(
		lib.is_dir(),
		"the Rust target `{TARGET}` is not installed for the toolchain at {sysroot} \
		 (no {lib:?}); install it with `rustup target add {TARGET}` (scripts/setup.sh does)"
	);
}

/// Builds the probe for wasm (once per test process) and returns the module's path.
///
/// The nested cargo inherits the caller's build lock (it must not take
/// `/tmp/verity-build.lock` again), uses `panic = "abort"` as the runtime does, and ignores the
/// caller's host `RUSTFLAGS`.
pub fn probe_wasm() -> &'static Path {
	static PATH: OnceLock<PathBuf> = OnceLock::new();
	PATH.get_or_init(|| {
		require_target();
		let cargo = env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
		let target_dir = probe_target_dir();
		let started = Instant::now();
		let out = Command::new(&cargo)
			.current_dir(workspace_root())
			.args([
				"build",
				"--release",
				"--target",
				TARGET,
				"-p",
				"verity-wasm-probe",
			])
			.arg("--target-dir")
			.arg(&target_dir)
			.env("CARGO_PROFILE_RELEASE_PANIC", "abort")
			.env_remove("CARGO_TARGET_DIR")
			.env_remove("RUSTFLAGS")
			.env_remove("CARGO_ENCODED_RUSTFLAGS")
			.env_remove("CARGO_BUILD_RUSTFLAGS")
			.env_remove("CARGO_BUILD_TARGET")
			.output()
			.unwrap_or_else(|e| panic!("cannot run {cargo:?}: {e}"));
		let stderr = String::from_utf8_lossy(&out.stderr);
		if !out.status.success() {
			let hint = if stderr.contains("can't find crate for `core`")
				|| stderr.contains("may not be installed")
			{
				format!("\nhint: install the target with `rustup target add {TARGET}`")
			} else {
				String::new()
			};
			panic!(
				"building the wasm probe failed ({}):\n{stderr}{hint}",
				out.status
			);
		}
		let path = target_dir
			.join(TARGET)
			.join("release")
			.join("verity_wasm_probe.wasm");
		assert!(path.is_file(), "the build did not produce {path:?}");
		println!(
			"wasm probe: {} ({} bytes, cargo took {:.1?})",
			path.display(),
			std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0),
			started.elapsed()
		);
		path
	})
}

/// The probe compiled by wasmtime, with NaN canonicalisation off (index 0) and on (index 1).
pub fn modules() -> &'static [(Engine, Module); 2] {
	static MODULES: OnceLock<[(Engine, Module); 2]> = OnceLock::new();
	MODULES.get_or_init(|| {
		let bytes = std::fs::read(probe_wasm()).expect("read the wasm probe");
		[false, true].map(|canonicalize_nans| {
			let mut config = Config::new();
			config.cranelift_nan_canonicalization(canonicalize_nans);
			let engine = Engine::new(&config).expect("wasmtime engine");
			let module = Module::new(&engine, &bytes).expect("compile the wasm probe");
			(engine, module)
		})
	})
}

/// An export taking two `(ptr, len)` buffers and returning a reply pointer.
type Call4 = TypedFunc<(u32, u32, u32, u32), u32>;

/// One instance of the probe.
pub struct Probe {
	pub store: Store<()>,
	memory: Memory,
	alloc: TypedFunc<u32, u32>,
	dealloc: TypedFunc<(u32, u32), ()>,
	run: Call4,
	run_node: Call4,
	fma_batch: TypedFunc<(u32, u32), u32>,
	pub hardware_fma: TypedFunc<(), u32>,
}

impl Probe {
	/// A fresh instance; `nan_canonicalization` selects the wasmtime configuration.
	pub fn new(nan_canonicalization: bool) -> Probe {
		let (engine, module) = &modules()[nan_canonicalization as usize];
		let mut store = Store::new(engine, ());
		let instance = Instance::new(&mut store, module, &[]).expect("instantiate the probe");
		let memory = instance
			.get_memory(&mut store, "memory")
			.expect("exported memory");
		macro_rules! func {
			($name:literal) => {
				instance
					.get_typed_func(&mut store, $name)
					.expect(concat!("export ", $name))
			};
		}
		Probe {
			alloc: func!("alloc"),
			dealloc: func!("dealloc"),
			run: func!("run"),
			run_node: func!("run_node"),
			fma_batch: func!("fma_batch"),
			hardware_fma: func!("hardware_fma"),
			store,
			memory,
		}
	}

	fn put(&mut self, bytes: &[u8]) -> (u32, u32) {
		let len = u32::try_from(bytes.len()).expect("buffer fits wasm32");
		let ptr = self.alloc.call(&mut self.store, len).expect("alloc");
		assert_ne!(ptr, 0, "probe out of memory");
		self.memory
			.write(&mut self.store, ptr as usize, bytes)
			.expect("write");
		(ptr, len)
	}

	fn free(&mut self, (ptr, len): (u32, u32)) {
		self.dealloc
			.call(&mut self.store, (ptr, len))
			.expect("dealloc");
	}

	fn take_reply(&mut self, ptr: u32) -> Vec<u8> {
		let mut len = [0u8; 4];
		self.memory
			.read(&self.store, ptr as usize, &mut len)
			.expect("reply length");
		let len = u32::from_le_bytes(len);
		let mut out = vec![0u8; len as usize];
		self.memory
			.read(&self.store, ptr as usize + 4, &mut out)
			.expect("reply");
		self.free((ptr, len + 4));
		out
	}

	fn call2(&mut self, which: fn(&Probe) -> &Call4, a: &[u8], b: &[u8]) -> Vec<u8> {
		let a = self.put(a);
		let b = self.put(b);
		let f = which(self).clone();
		let r = f
			.call(&mut self.store, (a.0, a.1, b.0, b.1))
			.unwrap_or_else(|e| panic!("wasm trapped: {e:?}"));
		let reply = self.take_reply(r);
		self.free(a);
		self.free(b);
		reply
	}

	pub fn run(&mut self, p: &Program, inputs: &[Tensor]) -> RunReply {
		let reply = self.call2(|p| &p.run, &p.encode(), &inputs.to_vec().encode());
		RunReply::decode(&mut &reply[..]).expect("decode run reply")
	}

	pub fn run_node(&mut self, node: &Node, inputs: &[Option<Tensor>]) -> NodeReply {
		let reply = self.call2(|p| &p.run_node, &node.encode(), &inputs.to_vec().encode());
		NodeReply::decode(&mut &reply[..]).expect("decode node reply")
	}

	pub fn fma(&mut self, triples: &[[f32; 3]]) -> Vec<f32> {
		let bytes: Vec<u8> = triples
			.iter()
			.flatten()
			.flat_map(|x| x.to_le_bytes())
			.collect();
		let buf = self.put(&bytes);
		let r = self
			.fma_batch
			.call(&mut self.store, buf)
			.expect("fma_batch");
		let reply = self.take_reply(r);
		self.free(buf);
		reply
			.chunks_exact(4)
			.map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
			.collect()
	}
}

// ---------------------------------------------------------------------------------------------
// The comparison
// ---------------------------------------------------------------------------------------------

pub fn native_options() -> [ExecOptions; 4] {
	[(1, false), (2, false), (1, true), (2, true)]
		.map(|(threads, portable)| ExecOptions { threads, portable })
}

/// How much of the wasm side to run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Depth {
	/// Whole program and every node alone, under both wasmtime NaN configurations.
	Full,
	/// The whole program once (for models whose software-FMA run takes many seconds).
	ProgramOnly,
}

/// What one program/input pair was checked against, for the report.
struct Checked {
	leaves: usize,
	wasm_runs: usize,
	node_runs: usize,
}

/// Runs `p` on `inputs` natively (every option, plain and prepared) and in wasm (with
/// [`Depth::Full`]: both wasmtime configurations, whole program and node by node) and asserts
/// bit-identical results.
fn check(name: &str, p: &Program, inputs: &[Tensor], depth: Depth) -> Checked {
	p.validate().unwrap_or_else(|e| panic!("{name}: {e}"));
	let (want_out, want_trace) = execute_with(p, inputs, &native_options()[0])
		.unwrap_or_else(|e| panic!("{name}: native run failed: {e}"));
	let want_root = trace_root(&want_trace);
	let want_bytes: Vec<Vec<u8>> = want_out.iter().map(Encode::encode).collect();
	let prepared = Prepared::new(p.clone()).expect("prepare");
	for opts in native_options() {
		for (how, result) in [
			("execute_with", execute_with(p, inputs, &opts)),
			("prepared", prepared.run(inputs, &opts)),
		] {
			let (out, trace) = result.unwrap_or_else(|e| panic!("{name} {how} {opts:?}: {e}"));
			assert_eq!(
				trace.leaves, want_trace.leaves,
				"{name}: native {how} {opts:?} trace"
			);
			let bytes: Vec<Vec<u8>> = out.iter().map(Encode::encode).collect();
			assert_eq!(bytes, want_bytes, "{name}: native {how} {opts:?} outputs");
		}
	}

	// Native intermediate values, node by node, for the single-node re-executions.
	let full = depth == Depth::Full;
	let mut values: Vec<Tensor> = Vec::with_capacity(p.nodes.len());
	let mut node_inputs: Vec<Vec<Option<Tensor>>> = Vec::with_capacity(p.nodes.len());
	for node in p.nodes.iter().filter(|_| full) {
		let ins: Vec<Option<Tensor>> = node
			.inputs
			.iter()
			.map(|i| {
				i.as_ref().map(|i| match i.source {
					ValueRef::Input(j) => inputs[j as usize].clone(),
					ValueRef::Weight(j) => p.weights[j as usize].clone(),
					ValueRef::Node { node, .. } => values[node as usize].clone(),
				})
			})
			.collect();
		let refs: Vec<Option<&Tensor>> = ins.iter().map(Option::as_ref).collect();
		let mut out = execute_node_with(node, &refs, &ExecOptions::default()).expect("node");
		assert_eq!(out.len(), 1, "{name}: node output count");
		values.push(out.remove(0));
		node_inputs.push(ins);
	}

	let mut checked = Checked {
		leaves: want_trace.leaves.len(),
		wasm_runs: 0,
		node_runs: 0,
	};
	let configs: &[bool] = if full { &[false, true] } else { &[false] };
	for &nan_canon in configs {
		let mut probe = Probe::new(nan_canon);
		let started = Instant::now();
		let got = probe
			.run(p, inputs)
			.unwrap_or_else(|e| panic!("{name}: wasm run failed: {e}"));
		let elapsed = started.elapsed();
		let got_bytes: Vec<Vec<u8>> = got.outputs.iter().map(Encode::encode).collect();
		if let Some(i) = want_trace
			.leaves
			.iter()
			.zip(&got.leaves)
			.position(|(a, b)| a != b)
		{
			// Node `i` is leaf `i`.
			panic!(
				"{name} (wasm, nan canonicalisation {nan_canon}): first diverging leaf {i}, node \
				 {i} ({})",
				p.nodes[i].op.name()
			);
		}
		assert_eq!(
			got.leaves.len(),
			want_trace.leaves.len(),
			"{name}: leaf count"
		);
		assert_eq!(got.root, want_root, "{name}: wasm trace root");
		assert_eq!(got_bytes, want_bytes, "{name}: wasm output bytes");
		checked.wasm_runs += 1;
		if !nan_canon {
			println!(
				"  {name}: {} nodes, root {}, wasm run {elapsed:.1?}",
				p.nodes.len(),
				to_hex(&want_root)
			);
		}

		for (n, node) in p.nodes.iter().enumerate().filter(|_| full) {
			let outs = probe.run_node(node, &node_inputs[n]).unwrap_or_else(|e| {
				panic!("{name}: wasm node {n} ({}) failed: {e}", node.op.name())
			});
			assert_eq!(outs.len(), 1, "{name}: node {n} output count in wasm");
			assert_eq!(
				tensor_hash(&outs[0]),
				want_trace.leaves[n],
				"{name}: node {n} ({}) re-executed in wasm",
				node.op.name()
			);
			assert!(outs[0].bit_eq(&values[n]));
			checked.node_runs += 1;
		}
	}
	checked
}

pub fn check_all(name: &str, p: &Program, inputs: &[Vec<Tensor>], depth: Depth) {
	let mut runs = 0;
	let mut nodes = 0;
	for (k, ins) in inputs.iter().enumerate() {
		let c = check(&format!("{name}[{k}]"), p, ins, depth);
		assert_eq!(c.leaves, p.nodes.len(), "{name}: one leaf per node");
		runs += c.wasm_runs;
		nodes += c.node_runs;
	}
	println!(
		"{name}: {} inputs bit-identical: {} native options + prepared, {runs} wasm program runs, \
		 {nodes} wasm node re-executions",
		inputs.len(),
		native_options().len()
	);
}
