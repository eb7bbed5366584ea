//! `verity model compile|run|bench`.

use std::{
	collections::BTreeMap,
	path::{Path, PathBuf},
	time::{Duration, Instant},
};

use anyhow::{anyhow, bail, Context, Result};
use clap::{Args, Subcommand, ValueEnum};
use verity_engine::{
	commit::{tensor_hash, to_hex},
	exec::Prepared,
	DType, ExecOptions, Tensor, TensorData,
};
use verity_onnx::{CompiledModel, TractModel};
use verity_sdk::ModelId;

use crate::chain::{ChainArgs, ModelChainCmd, RegisterArgs};

/// `verity model …`
#[derive(Subcommand)]
pub enum ModelCmd {
	/// Compile an ONNX model to the canonical program and print its commitments.
	Compile(CompileArgs),
	/// Run a model on input files and write its outputs as .npy files.
	Run(RunArgs),
	/// Compare the canonical engine's latency with tract's on the same model and inputs.
	Bench(BenchArgs),
	/// Register a model on chain: compile it, show its root and size, store its bytes on chain
	/// (or publish its URI) and print its id.
	Register(RegisterArgs),
	/// List the models registered on chain.
	List {
		#[command(flatten)]
		chain: ChainArgs,
	},
	/// Show a registered model's record.
	Show {
		/// The model id.
		id: ModelId,
		#[command(flatten)]
		chain: ChainArgs,
	},
	/// Set the price of one of the signer's models.
	SetPrice {
		/// The model id.
		id: ModelId,
		/// Royalty per inference per replica (`0.01VRT` or units).
		price: String,
		#[command(flatten)]
		chain: ChainArgs,
	},
	/// Deprecate one of the signer's models: no new requests.
	Deprecate {
		/// The model id.
		id: ModelId,
		#[command(flatten)]
		chain: ChainArgs,
	},
	/// Remove one of the signer's deprecated models and release its deposit.
	Remove {
		/// The model id.
		id: ModelId,
		#[command(flatten)]
		chain: ChainArgs,
	},
}

/// What every model command takes: the model and fixes for its symbolic dimensions.
#[derive(Args)]
pub struct ModelArgs {
	/// The ONNX model.
	model: PathBuf,
	/// Fix an input's shape, e.g. `--shape input=1,3,224,224` (needed for symbolic dimensions).
	#[arg(long = "shape", value_name = "NAME=D0,D1,...")]
	shapes: Vec<String>,
}

#[derive(Args)]
pub struct CompileArgs {
	#[command(flatten)]
	model: ModelArgs,
	/// Where to write the SCALE-encoded program (default: the model path with `.program`).
	#[arg(short, long)]
	output: Option<PathBuf>,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Engine {
	/// Verity's deterministic engine: bit-identical everywhere; prints the trace root.
	Canonical,
	/// tract, the reference float runtime (machine-dependent last bits; no trace).
	Tract,
}

#[derive(Args)]
pub struct RunArgs {
	#[command(flatten)]
	model: ModelArgs,
	/// An input, `NAME=FILE`, where FILE is `.npy` or an ONNX `TensorProto` `.pb`.
	#[arg(long = "input", value_name = "NAME=FILE", required = true)]
	inputs: Vec<String>,
	/// Directory for the outputs (`DIR/<output name>.npy`).
	#[arg(long, default_value = ".")]
	out_dir: PathBuf,
	/// Which engine runs the model.
	#[arg(long, value_enum, default_value = "canonical")]
	engine: Engine,
	/// Threads for the canonical engine (results are identical for any count).
	#[arg(long, default_value_t = 1)]
	threads: usize,
}

#[derive(Args)]
pub struct BenchArgs {
	#[command(flatten)]
	model: ModelArgs,
	/// Timed runs per engine (after one warm-up run each).
	#[arg(long, default_value_t = 10)]
	iterations: usize,
}

impl ModelCmd {
	/// Runs the command.
	pub fn run(self) -> Result<()> {
		match self {
			ModelCmd::Compile(args) => compile_cmd(args),
			ModelCmd::Run(args) => run_cmd(args),
			ModelCmd::Bench(args) => bench_cmd(args),
			ModelCmd::Register(args) => ModelChainCmd::Register(args).run(),
			ModelCmd::List { chain } => ModelChainCmd::List(chain).run(),
			ModelCmd::Show { id, chain } => ModelChainCmd::Show(id, chain).run(),
			ModelCmd::SetPrice { id, price, chain } => {
				ModelChainCmd::SetPrice(id, price, chain).run()
			}
			ModelCmd::Deprecate { id, chain } => ModelChainCmd::Deprecate(id, chain).run(),
			ModelCmd::Remove { id, chain } => ModelChainCmd::Remove(id, chain).run(),
		}
	}
}

/// Parses `NAME=D0,D1,...`.
pub(crate) fn parse_shape(arg: &str) -> Result<(String, Vec<usize>)> {
	let (name, dims) = arg
		.split_once('=')
		.ok_or_else(|| anyhow!("--shape {arg:?}: expected NAME=D0,D1,..."))?;
	let dims = dims
		.split(',')
		.map(|d| d.trim().parse::<usize>())
		.collect::<Result<Vec<_>, _>>()
		.with_context(|| format!("--shape {arg:?}: dimensions must be non-negative integers"))?;
	Ok((name.to_string(), dims))
}

impl ModelArgs {
	pub(crate) fn new(model: PathBuf, shapes: Vec<String>) -> Self {
		ModelArgs { model, shapes }
	}

	pub(crate) fn load(&self) -> Result<(Vec<u8>, CompiledModel)> {
		let bytes = std::fs::read(&self.model)
			.with_context(|| format!("reading {}", self.model.display()))?;
		let shapes = self
			.shapes
			.iter()
			.map(|s| parse_shape(s))
			.collect::<Result<Vec<_>>>()?;
		let shape_refs: Vec<(&str, Vec<usize>)> = shapes
			.iter()
			.map(|(n, d)| (n.as_str(), d.clone()))
			.collect();
		let compiled = verity_onnx::compile(&bytes, &shape_refs)
			.with_context(|| format!("compiling {}", self.model.display()))?;
		Ok((bytes, compiled))
	}
}

fn type_string(dtype: DType, shape: &[u64]) -> String {
	let dims: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
	format!("{}[{}]", dtype.name(), dims.join(","))
}

fn compile_cmd(args: CompileArgs) -> Result<()> {
	let (_, compiled) = args.model.load()?;
	let program = compiled.program_bytes();
	let output = args
		.output
		.unwrap_or_else(|| args.model.model.with_extension("program"));
	std::fs::write(&output, &program).with_context(|| format!("writing {}", output.display()))?;
	println!("model root:           0x{}", to_hex(&compiled.model_root()));
	println!("compiler version:     {}", verity_onnx::COMPILER_VERSION);
	println!("nodes:                {}", compiled.node_count());
	println!("weights:              {}", compiled.program.weights.len());
	println!("MACs:                 {}", compiled.macs());
	println!(
		"largest node (bytes): {}",
		compiled.largest_node_footprint()
	);
	println!("largest node (cost):  {}", compiled.largest_node_cost());
	for (name, info) in compiled.input_names.iter().zip(&compiled.program.inputs) {
		println!(
			"input  {name}: {}",
			type_string(info.ty.dtype, &info.ty.shape)
		);
	}
	for (name, ty) in compiled
		.output_names
		.iter()
		.zip(compiled.program.output_types())
	{
		match ty {
			Some(ty) => println!("output {name}: {}", type_string(ty.dtype, &ty.shape)),
			None => println!("output {name}: ?"),
		}
	}
	println!(
		"program:              {} ({} bytes)",
		output.display(),
		program.len()
	);
	Ok(())
}

/// Reads `--input NAME=FILE` arguments and orders them as the program's inputs, checking
/// dtype and shape.
fn read_inputs(compiled: &CompiledModel, args: &[String]) -> Result<Vec<Tensor>> {
	let mut given = BTreeMap::new();
	for arg in args {
		let (name, file) = arg
			.split_once('=')
			.ok_or_else(|| anyhow!("--input {arg:?}: expected NAME=FILE"))?;
		if !compiled.input_names.iter().any(|n| n == name) {
			bail!(
				"--input {name:?}: the model has no such input (inputs: {})",
				compiled.input_names.join(", ")
			);
		}
		let tensor = read_tensor_file(Path::new(file))
			.with_context(|| format!("--input {name}: reading {file}"))?;
		if given.insert(name.to_string(), tensor).is_some() {
			bail!("--input {name:?} given twice");
		}
	}
	compiled
		.input_names
		.iter()
		.zip(&compiled.program.inputs)
		.map(|(name, info)| {
			let tensor = given.remove(name).ok_or_else(|| {
				anyhow!(
					"missing input {name:?} ({})",
					type_string(info.ty.dtype, &info.ty.shape)
				)
			})?;
			if !info.ty.matches(&tensor) {
				let shape: Vec<u64> = tensor.shape().iter().map(|d| *d as u64).collect();
				bail!(
					"input {name:?}: expected {}, got {}",
					type_string(info.ty.dtype, &info.ty.shape),
					type_string(tensor.dtype(), &shape)
				);
			}
			Ok(tensor)
		})
		.collect()
}

pub(crate) fn read_tensor_file(path: &Path) -> Result<Tensor> {
	match path.extension().and_then(|e| e.to_str()) {
		Some("npy") => Ok(verity_onnx::read_npy(path)?),
		Some("pb") => Ok(verity_onnx::read_tensor_pb(path)?.1),
		_ => bail!("unknown file type (expected .npy or .pb)"),
	}
}

/// An ONNX output name as a file name: path separators and other awkward characters become `_`.
fn file_safe(name: &str) -> String {
	let safe: String = name
		.chars()
		.map(|c| {
			if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
				c
			} else {
				'_'
			}
		})
		.collect();
	match safe.trim_start_matches('.') {
		"" => "output".to_string(),
		s => s.to_string(),
	}
}

fn run_cmd(args: RunArgs) -> Result<()> {
	let (bytes, compiled) = args.model.load()?;
	let inputs = read_inputs(&compiled, &args.inputs)?;
	let (outputs, trace_root) = match args.engine {
		Engine::Canonical => {
			let opts = ExecOptions {
				threads: args.threads.max(1),
				..Default::default()
			};
			let (outputs, trace) = verity_engine::execute_with(&compiled.program, &inputs, &opts)
				.context("canonical execution")?;
			(outputs, Some(trace.root()))
		}
		Engine::Tract => {
			let outputs = verity_onnx::run_tract(&bytes, &inputs).context("tract execution")?;
			(outputs, None)
		}
	};
	std::fs::create_dir_all(&args.out_dir)
		.with_context(|| format!("creating {}", args.out_dir.display()))?;
	for (name, tensor) in compiled.output_names.iter().zip(&outputs) {
		let path = args.out_dir.join(format!("{}.npy", file_safe(name)));
		verity_onnx::write_npy(&path, tensor)?;
		println!(
			"output {name}: 0x{}  {}",
			to_hex(&tensor_hash(tensor)),
			path.display()
		);
	}
	match trace_root {
		Some(root) => println!("trace root: 0x{}", to_hex(&root)),
		None => println!("trace root: (tract keeps no trace)"),
	}
	Ok(())
}

/// Deterministic pseudo-random inputs of the program's types (xorshift64*).
fn random_inputs(compiled: &CompiledModel) -> Result<Vec<Tensor>> {
	let mut state = 0x9e37_79b9_7f4a_7c15u64;
	let mut next = move || {
		state ^= state >> 12;
		state ^= state << 25;
		state ^= state >> 27;
		state.wrapping_mul(0x2545_f491_4f6c_dd1d)
	};
	compiled
		.program
		.inputs
		.iter()
		.map(|info| {
			let shape = info.ty.dims()?;
			let n: usize = shape.iter().product();
			let data = match info.ty.dtype {
				DType::F32 => TensorData::F32(
					(0..n)
						.map(|_| (next() >> 40) as f32 / (1u64 << 24) as f32 * 2.0 - 1.0)
						.collect(),
				),
				DType::I64 => TensorData::I64((0..n).map(|_| (next() % 16) as i64).collect()),
				DType::I32 => TensorData::I32((0..n).map(|_| (next() % 16) as i32).collect()),
				DType::I8 => TensorData::I8((0..n).map(|_| next() as i8).collect()),
				DType::U8 => TensorData::U8((0..n).map(|_| next() as u8).collect()),
				DType::Bool => TensorData::Bool((0..n).map(|_| next() & 1 == 1).collect()),
			};
			Ok(Tensor::new(shape, data)?)
		})
		.collect()
}

fn median(mut times: Vec<Duration>) -> Duration {
	times.sort();
	times[times.len() / 2]
}

fn time_runs(iterations: usize, mut f: impl FnMut() -> Result<()>) -> Result<Duration> {
	f()?; // warm-up: page in weights, fill caches
	let mut times = Vec::with_capacity(iterations);
	for _ in 0..iterations.max(1) {
		let start = Instant::now();
		f()?;
		times.push(start.elapsed());
	}
	Ok(median(times))
}

fn bench_cmd(args: BenchArgs) -> Result<()> {
	let (bytes, compiled) = args.model.load()?;
	let inputs = random_inputs(&compiled)?;
	let types: Vec<_> = compiled
		.program
		.inputs
		.iter()
		.map(|i| i.ty.clone())
		.collect();
	let prepared = Prepared::new(compiled.program.clone()).context("preparing the program")?;
	let tract = TractModel::new(&bytes, &types).context("loading the model in tract")?;
	let single = ExecOptions {
		threads: 1,
		..Default::default()
	};

	let canonical = time_runs(args.iterations, || {
		prepared
			.run(&inputs, &single)
			.map(|_| ())
			.context("canonical execution")
	})?;
	let tract_time = time_runs(args.iterations, || {
		tract.run(&inputs).map(|_| ()).context("tract execution")
	})?;
	println!("model:      {}", args.model.model.display());
	println!("MACs:       {}", compiled.macs());
	println!(
		"canonical:  {:>10.3} ms (median of {}, 1 thread, incl. trace)",
		ms(canonical),
		args.iterations
	);
	println!(
		"tract:      {:>10.3} ms (median of {}, 1 thread)",
		ms(tract_time),
		args.iterations
	);
	println!(
		"ratio:      {:>10.2}x (canonical / tract)",
		canonical.as_secs_f64() / tract_time.as_secs_f64()
	);
	Ok(())
}

fn ms(d: Duration) -> f64 {
	d.as_secs_f64() * 1e3
}
