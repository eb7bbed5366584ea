//! Command-line interface.

/// Subcommands besides running the node.
#[derive(Debug, clap::Subcommand)]
#[allow(clippy::large_enum_variant)]
pub enum Subcommand {
	/// Key management: generate, inspect, insert keys into the keystore.
	#[command(subcommand)]
	Key(sc_cli::KeySubcommand),

	/// Build a chain specification (prefer `export-chain-spec`).
	BuildSpec(sc_cli::BuildSpecCmd),

	/// Export a chain specification as JSON.
	ExportChainSpec(sc_cli::ExportChainSpecCmd),

	/// Validate blocks.
	CheckBlock(sc_cli::CheckBlockCmd),

	/// Export blocks.
	ExportBlocks(sc_cli::ExportBlocksCmd),

	/// Export the state of a given block into a chain spec.
	ExportState(sc_cli::ExportStateCmd),

	/// Import blocks.
	ImportBlocks(sc_cli::ImportBlocksCmd),

	/// Remove the whole chain.
	PurgeChain(sc_cli::PurgeChainCmd),

	/// Revert the chain to a previous state.
	Revert(sc_cli::RevertCmd),

	/// Runtime and node benchmarks (build with `--features runtime-benchmarks`).
	#[cfg(feature = "runtime-benchmarks")]
	#[command(subcommand)]
	Benchmark(frame_benchmarking_cli::BenchmarkCmd),

	/// Database metadata.
	ChainInfo(sc_cli::ChainInfoCmd),
}

/// The `verity-node` command line.
#[derive(Debug, clap::Parser)]
pub struct Cli {
	#[command(subcommand)]
	pub subcommand: Option<Subcommand>,

	#[clap(flatten)]
	pub run: sc_cli::RunCmd,

	#[clap(flatten)]
	pub worker: WorkerArgs,
}

/// The inference worker's flags.
#[derive(Debug, Clone, clap::Args)]
pub struct WorkerArgs {
	/// Serve inference requests assigned to the `vrty` keys in the keystore, and audit other
	/// workers' results (on by default with `--dev`).
	#[arg(long)]
	pub verity_worker: bool,

	/// Engine threads per inference.
	#[arg(long, default_value_t = 1, value_name = "N")]
	pub verity_threads: usize,

	/// Inferences run at the same time.
	#[arg(long, default_value_t = 1, value_name = "N")]
	pub verity_parallel_jobs: usize,

	/// Share of other workers' challengeable results this node re-executes, in [0, 1]. With k
	/// auditing validators a cheat escapes with probability (1 - rate)^k; see
	/// docs/operations.md for the choice of the default.
	#[arg(long, default_value_t = 0.25, value_name = "RATE")]
	pub verity_audit_rate: f64,

	/// Directory of the compiled-model cache [default: `verity-models` under the base path].
	#[arg(long, value_name = "DIR")]
	pub verity_model_cache: Option<std::path::PathBuf>,

	/// Bound of the compiled-model disk cache, in MiB.
	#[arg(long, default_value_t = 1024, value_name = "MIB")]
	pub verity_cache_size: u64,

	/// Largest ONNX model this node fetches and compiles, in MiB.
	#[arg(long, default_value_t = 64, value_name = "MIB")]
	pub verity_max_model_bytes: u64,

	/// Longest a model download from its registered URI may take, in seconds.
	#[arg(long, default_value_t = 60, value_name = "SECONDS")]
	pub verity_fetch_timeout: u64,

	/// Test only: make this node's worker cheat (see docs/operations.md).
	#[arg(long, hide = true, value_enum, value_name = "HOW")]
	pub verity_dev_misbehave: Option<crate::worker::Misbehaviour>,
}

impl WorkerArgs {
	/// The worker's settings for a node configured as `config`.
	pub fn config(&self, config: &sc_service::Configuration) -> crate::worker::WorkerConfig {
		const MIB: u64 = 1 << 20;
		crate::worker::WorkerConfig {
			threads: self.verity_threads.max(1),
			parallel_jobs: self.verity_parallel_jobs.max(1),
			audit_rate: self.verity_audit_rate.clamp(0.0, 1.0),
			cache_dir: Some(
				self.verity_model_cache
					.clone()
					.unwrap_or_else(|| config.base_path.path().join("verity-models")),
			),
			cache_bytes: self.verity_cache_size.saturating_mul(MIB),
			max_model_bytes: self.verity_max_model_bytes.saturating_mul(MIB),
			fetch_timeout: std::time::Duration::from_secs(self.verity_fetch_timeout.max(1)),
			misbehave: self.verity_dev_misbehave,
		}
	}
}
