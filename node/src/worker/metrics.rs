//! Prometheus metrics of the inference worker (prefix `verity_`).

use substrate_prometheus_endpoint::{
	exponential_buckets, register, Counter, CounterVec, Gauge, Histogram, HistogramOpts,
	HistogramVec, Opts, PrometheusError, Registry, U64,
};

/// The worker's metrics; registered in the node's registry when it has one.
#[derive(Clone)]
pub struct Metrics {
	/// Seconds from a job's start to its result (model load excluded).
	pub inference_seconds: Histogram,
	/// Jobs finished, by `kind` (serve, audit) and `outcome` (done, failure_result: an operator
	/// failed and the failure is posted, failed: nothing to post, refused: the model).
	pub jobs: CounterVec<U64>,
	/// Jobs queued or running now: with no job finishing for long, the worker is stalled.
	pub jobs_pending: Gauge<U64>,
	/// Audits the sampling chose to run.
	pub audits_run: Counter<U64>,
	/// Audits whose trace differed from the audited worker's (a fraud proof follows).
	pub divergences: Counter<U64>,
	/// Model store lookups served from memory or disk.
	pub cache_hits: Counter<U64>,
	/// Model store lookups that had to fetch and compile.
	pub cache_misses: Counter<U64>,
	/// Seconds a model took to load, by `source`: `disk` (the compiled program from the disk
	/// cache, prepacked) or `compile` (ONNX bytes read or downloaded, hashed, compiled, checked
	/// and prepacked).
	pub model_load_seconds: HistogramVec,
	/// Bytes of compiled programs in the disk cache.
	pub cache_bytes: Gauge<U64>,
	/// Models refused because their compiled root differs from the registered one.
	pub root_mismatches: Counter<U64>,
}

impl Metrics {
	/// Registers the metrics in `registry`.
	pub fn register(registry: &Registry) -> Result<Self, PrometheusError> {
		Ok(Metrics {
			inference_seconds: register(
				Histogram::with_opts(
					HistogramOpts::new(
						"verity_inference_seconds",
						"Seconds one native inference took",
					)
					.buckets(exponential_buckets(0.0005, 2.0, 16)?),
				)?,
				registry,
			)?,
			jobs: register(
				CounterVec::new(
					Opts::new("verity_jobs_total", "Inference jobs finished"),
					&["kind", "outcome"],
				)?,
				registry,
			)?,
			jobs_pending: register(
				Gauge::new("verity_jobs_pending", "Inference jobs queued or running")?,
				registry,
			)?,
			audits_run: register(
				Counter::new(
					"verity_audits_total",
					"Audits of other workers' results run",
				)?,
				registry,
			)?,
			divergences: register(
				Counter::new(
					"verity_audit_divergences_total",
					"Audits that found a diverging trace (fraud proofs prepared)",
				)?,
				registry,
			)?,
			cache_hits: register(
				Counter::new("verity_model_cache_hits_total", "Model store hits")?,
				registry,
			)?,
			cache_misses: register(
				Counter::new("verity_model_cache_misses_total", "Model store misses")?,
				registry,
			)?,
			model_load_seconds: register(
				HistogramVec::new(
					HistogramOpts::new(
						"verity_model_load_seconds",
						"Seconds a model took to load into the model store",
					)
					.buckets(exponential_buckets(0.001, 2.0, 16)?),
					&["source"],
				)?,
				registry,
			)?,
			cache_bytes: register(
				Gauge::new(
					"verity_model_cache_bytes",
					"Bytes of the on-disk model cache",
				)?,
				registry,
			)?,
			root_mismatches: register(
				Counter::new(
					"verity_model_root_mismatches_total",
					"Models refused because their compiled root differs from the registration",
				)?,
				registry,
			)?,
		})
	}
}
