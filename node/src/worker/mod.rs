//! The inference worker's native side: the `verity_inference` host function's engine.
//!
//! The runtime's off-chain worker (pallet-inference) decides what to run and what to submit; this
//! module runs it. [`InferenceService`] implements [`InferenceHost`] as a **non-blocking job
//! queue**: `job` answers at once, starting a job the first time it sees its key (on a bounded
//! pool of native threads, each inference itself using `--verity-threads` engine threads) and
//! reporting its progress afterwards. The off-chain worker of each block polls its jobs, so a
//! model that takes seconds never holds up the next blocks' off-chain work, block import or
//! authoring. Finished jobs are kept for [`JOB_RETENTION`] so that every later block's poll finds
//! their results.
//!
//! The extension that reaches this service is registered only for off-chain worker runs (see
//! `service.rs`); block execution cannot call it.

mod fetch;
pub mod metrics;
pub mod model_store;

use std::{
	collections::HashMap,
	path::PathBuf,
	sync::{mpsc, Arc, Condvar, Mutex},
	time::{Duration, Instant},
};

use codec::{Decode, Encode};
use sp_core::H256;
use verity_engine::{tensor_hash, ExecOptions, Prepared, Tensor};
use verity_primitives::{
	fraud::Execution,
	host::{HostError, InferenceHost, Job, JobKey, JobStatus},
	ModelId,
};

use metrics::Metrics;
use model_store::{LoadedModel, ModelStore};

/// Log target of the worker.
const LOG_TARGET: &str = "verity::worker";

/// How long a finished job's result is kept for the off-chain worker to pick up.
pub const JOB_RETENTION: Duration = Duration::from_secs(30 * 60);

/// How long one off-chain worker run waits, in all, for jobs it has just queued before their
/// status is answered "queued" (the next block's run picks them up then).
const QUICK_WAIT: Duration = Duration::from_millis(500);

/// Jobs waiting for a thread, at most; more are refused with [`HostError::Busy`].
const QUEUE_BOUND: usize = 256;

/// Ways the worker cheats, for tests of the protocol only (`--verity-dev-misbehave`). They give
/// a cheater nothing it could not do with a patched node anyway; they exist so that the tests
/// can show each cheat is caught.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Misbehaviour {
	/// Report a wrong leaf for the first node (the output stays honest).
	TamperLeaf,
	/// Report a wrong output (and the matching output leaf).
	TamperOutput,
	/// Compute nothing: never report a result.
	Withhold,
	/// Serve with a different model: the registered program with its first weight tensor
	/// shifted (audits still use the registered one).
	WrongModel,
	/// Compute only the first request of each model and answer every later one with that
	/// result again, as a lazy worker replaying answers would.
	Copy,
}

/// The worker's settings (command-line flags).
#[derive(Clone, Debug)]
pub struct WorkerConfig {
	/// Engine threads per inference.
	pub threads: usize,
	/// Inferences run at once.
	pub parallel_jobs: usize,
	/// Share of other workers' challengeable results re-executed, in [0, 1].
	pub audit_rate: f64,
	/// Disk cache of compiled models (none: memory only).
	pub cache_dir: Option<PathBuf>,
	/// Bound of the disk cache in bytes.
	pub cache_bytes: u64,
	/// Largest ONNX file accepted.
	pub max_model_bytes: u64,
	/// Longest a model download from its URI may take.
	pub fetch_timeout: Duration,
	/// Test-only cheating.
	pub misbehave: Option<Misbehaviour>,
}

/// Reads a model's ONNX bytes from chain storage at the block the off-chain worker runs at.
pub type ChainBytes = Arc<dyn Fn(ModelId) -> Result<Vec<u8>, String> + Send + Sync>;

enum Entry {
	Queued,
	Running,
	Finished(JobStatus, Instant),
}

struct Shared {
	config: WorkerConfig,
	store: ModelStore,
	jobs: Mutex<HashMap<JobKey, Entry>>,
	/// Signalled whenever a job finishes.
	finished: Condvar,
	metrics: Option<Metrics>,
	/// A secret of this node's run: audit sampling hashes it with the job key, so nobody else
	/// can tell which results this node will re-execute.
	sampling_secret: [u8; 32],
	/// `--verity-dev-misbehave copy`: the first execution served for each model.
	replayed: Mutex<HashMap<ModelId, Execution>>,
}

/// The native engine behind the host function.
pub struct InferenceService {
	shared: Arc<Shared>,
	queue: mpsc::SyncSender<(Job, ChainBytes)>,
}

impl InferenceService {
	/// Starts `config.parallel_jobs` job threads.
	pub fn start(config: WorkerConfig, metrics: Option<Metrics>) -> std::io::Result<Arc<Self>> {
		let store = ModelStore::new(
			config.cache_dir.clone(),
			config.cache_bytes,
			config.max_model_bytes,
			config.fetch_timeout,
			metrics.clone(),
		)?;
		let mut sampling_secret = [0u8; 32];
		std::io::Read::read_exact(
			&mut std::fs::File::open("/dev/urandom")?,
			&mut sampling_secret,
		)?;
		let shared = Arc::new(Shared {
			store,
			jobs: Mutex::new(HashMap::new()),
			finished: Condvar::new(),
			metrics,
			sampling_secret,
			replayed: Mutex::new(HashMap::new()),
			config,
		});
		let (queue, jobs) = mpsc::sync_channel::<(Job, ChainBytes)>(QUEUE_BOUND);
		let jobs = Arc::new(Mutex::new(jobs));
		for i in 0..shared.config.parallel_jobs.max(1) {
			let (shared, jobs) = (shared.clone(), jobs.clone());
			std::thread::Builder::new()
				.name(format!("verity-job-{i}"))
				.spawn(move || loop {
					let next = jobs.lock().expect("job queue lock").recv();
					let Ok((job, chain)) = next else {
						return;
					};
					shared.run(job, chain);
				})?;
		}
		Ok(Arc::new(InferenceService { shared, queue }))
	}

	/// The host the off-chain worker of one block sees: model bytes are read at that block.
	pub fn at_block(self: &Arc<Self>, chain_bytes: ChainBytes) -> Arc<dyn InferenceHost> {
		Arc::new(BlockHost {
			service: self.clone(),
			chain_bytes,
			wait_budget: Mutex::new(QUICK_WAIT),
		})
	}

	/// The compiled, verified model (from the store), for callers outside the job queue.
	pub fn load_model(
		&self,
		model: &verity_primitives::host::ModelRef,
		chain_bytes: ChainBytes,
	) -> Result<Arc<LoadedModel>, model_store::Refusal> {
		let id = model.id;
		self.shared.store.get(model, || chain_bytes(id))
	}

	/// Answers a poll of `job`; a job it has to queue is waited for up to `wait`.
	fn job(
		&self,
		job: Job,
		chain_bytes: ChainBytes,
		wait: Duration,
	) -> Result<JobStatus, HostError> {
		let mut jobs = self.shared.jobs.lock().expect("jobs lock");
		if let Some(entry) = jobs.get(&job.key) {
			return Ok(match entry {
				Entry::Queued => JobStatus::Queued,
				Entry::Running => JobStatus::Running,
				Entry::Finished(status, _) => status.clone(),
			});
		}
		jobs.retain(|_, e| !matches!(e, Entry::Finished(_, at) if at.elapsed() > JOB_RETENTION));
		if job.compare_with.is_some() && job.sampled && !self.shared.sampled(&job.key) {
			jobs.insert(
				job.key,
				Entry::Finished(JobStatus::NotSampled, Instant::now()),
			);
			return Ok(JobStatus::NotSampled);
		}
		if job.compare_with.is_none()
			&& self.shared.config.misbehave == Some(Misbehaviour::Withhold)
		{
			jobs.insert(job.key, Entry::Queued);
			self.shared.count_pending(&jobs);
			return Ok(JobStatus::Queued);
		}
		let key = job.key;
		if self.queue.try_send((job, chain_bytes)).is_err() {
			return Err(HostError::Busy);
		}
		jobs.insert(key, Entry::Queued);
		self.shared.count_pending(&jobs);
		// A small model finishes in milliseconds: waiting briefly lets its result go out from
		// this block's off-chain worker instead of the next one's.
		let deadline = Instant::now() + wait;
		loop {
			match jobs.get(&key) {
				Some(Entry::Finished(status, _)) => return Ok(status.clone()),
				Some(Entry::Running) if Instant::now() >= deadline => {
					return Ok(JobStatus::Running)
				}
				_ if Instant::now() >= deadline => return Ok(JobStatus::Queued),
				_ => {}
			}
			let left = deadline.saturating_duration_since(Instant::now());
			jobs = self
				.shared
				.finished
				.wait_timeout(jobs, left)
				.expect("jobs lock")
				.0;
		}
	}
}

/// [`InferenceService`] bound to one block's off-chain worker run.
struct BlockHost {
	service: Arc<InferenceService>,
	chain_bytes: ChainBytes,
	/// What is left of the run's [`QUICK_WAIT`].
	wait_budget: Mutex<Duration>,
}

impl InferenceHost for BlockHost {
	fn job(&self, job: Job) -> Result<JobStatus, HostError> {
		let wait = *self.wait_budget.lock().expect("budget lock");
		let started = Instant::now();
		let status = self.service.job(job, self.chain_bytes.clone(), wait);
		let mut budget = self.wait_budget.lock().expect("budget lock");
		*budget = budget.saturating_sub(started.elapsed());
		status
	}
}

impl Shared {
	fn sampled(&self, key: &JobKey) -> bool {
		let rate = self.config.audit_rate.clamp(0.0, 1.0);
		let digest = verity_engine::commit::blake2_256(&(self.sampling_secret, key).encode());
		let draw = u64::from_le_bytes(digest[..8].try_into().expect("8 bytes"));
		(draw as f64) < rate * (u64::MAX as f64)
	}

	fn set(&self, key: JobKey, entry: Entry) {
		let finished = matches!(entry, Entry::Finished(..));
		let mut jobs = self.jobs.lock().expect("jobs lock");
		jobs.insert(key, entry);
		self.count_pending(&jobs);
		drop(jobs);
		if finished {
			self.finished.notify_all();
		}
	}

	/// Sets the `verity_jobs_pending` gauge from the job table.
	fn count_pending(&self, jobs: &HashMap<JobKey, Entry>) {
		if let Some(m) = &self.metrics {
			let pending = jobs
				.values()
				.filter(|e| !matches!(e, Entry::Finished(..)))
				.count();
			m.jobs_pending.set(pending as u64);
		}
	}

	fn run(&self, job: Job, chain_bytes: ChainBytes) {
		self.set(job.key, Entry::Running);
		let kind = if job.compare_with.is_some() {
			"audit"
		} else {
			"serve"
		};
		let model_id = job.model.id;
		let status = match self.store.get(&job.model, || chain_bytes(model_id)) {
			Err(refusal) => {
				log::warn!(target: LOG_TARGET, "model {model_id} refused: {refusal}");
				JobStatus::ModelRefused {
					reason: refusal.to_string().into_bytes(),
				}
			}
			Ok(model) => self.infer(&job, &model),
		};
		if let Some(m) = &self.metrics {
			let outcome = match &status {
				JobStatus::Done(o) if o.failed_at.is_some() => "failure_result",
				JobStatus::Done(_) => "done",
				JobStatus::ExecutionFailed { .. } => "failed",
				_ => "refused",
			};
			m.jobs.with_label_values(&[kind, outcome]).inc();
			if kind == "audit" {
				m.audits_run.inc();
			}
			if matches!(&status, JobStatus::Done(o) if o.divergence.is_some()) {
				m.divergences.inc();
			}
		}
		self.set(job.key, Entry::Finished(status, Instant::now()));
	}

	fn infer(&self, job: &Job, model: &LoadedModel) -> JobStatus {
		let inputs = match Vec::<Tensor>::decode(&mut &job.input[..]) {
			Ok(inputs) => inputs,
			Err(e) => {
				return JobStatus::ExecutionFailed {
					message: format!("undecodable input: {e}").into_bytes(),
				}
			}
		};
		let options = ExecOptions {
			threads: self.config.threads.max(1),
			portable: false,
		};
		let serving = job.compare_with.is_none();
		let misbehave = if serving { self.config.misbehave } else { None };
		let replay = match misbehave {
			Some(Misbehaviour::Copy) => self
				.replayed
				.lock()
				.expect("replay lock")
				.get(&job.model.id)
				.cloned(),
			_ => None,
		};
		let wrong_model = match misbehave {
			Some(Misbehaviour::WrongModel) => match changed_weight(&model.prepared) {
				Some(prepared) => Some(prepared),
				None => {
					log::warn!(target: LOG_TARGET, "wrong-model: no weight to change");
					None
				}
			},
			_ => None,
		};
		let started = Instant::now();
		let run = match replay {
			Some(execution) => Ok(execution),
			None => Execution::run(
				wrong_model.as_ref().unwrap_or(&model.prepared),
				&inputs,
				&options,
			),
		};
		if let Some(m) = &self.metrics {
			m.inference_seconds.observe(started.elapsed().as_secs_f64());
		}
		if let (Some(Misbehaviour::Copy), Ok(execution)) = (misbehave, &run) {
			self.replayed
				.lock()
				.expect("replay lock")
				.entry(job.model.id)
				.or_insert_with(|| execution.clone());
		}
		let mut execution = match run {
			Ok(execution) => execution,
			Err(e) => {
				return JobStatus::ExecutionFailed {
					message: e.to_string().into_bytes(),
				}
			}
		};
		if let Some(node) = execution.failed_at {
			log::info!(
				target: LOG_TARGET,
				"model {}: execution fails at node {node} on this input; posting the failure",
				job.model.id,
			);
		}
		if serving {
			self.misbehave(model, &mut execution.outputs, &mut execution.leaves);
		}
		let program = model.prepared.program();
		match execution.into_job_output(program, &model.tree, &inputs, job.compare_with.as_deref())
		{
			Ok(output) => JobStatus::Done(output),
			Err(e) => {
				log::error!(target: LOG_TARGET, "no fraud-proof material: {e:?}");
				JobStatus::ExecutionFailed {
					message: format!("no fraud-proof material: {e:?}").into_bytes(),
				}
			}
		}
	}

	/// Test-only cheating (see [`Misbehaviour`]).
	fn misbehave(&self, model: &LoadedModel, outputs: &mut [Tensor], leaves: &mut [H256]) {
		match self.config.misbehave {
			Some(Misbehaviour::TamperLeaf) => {
				if let Some(first) = leaves.first_mut() {
					first.0[0] ^= 1;
				}
			}
			Some(Misbehaviour::TamperOutput) => {
				let program = model.prepared.program();
				if let (Some(out), Some(node)) = (outputs.first_mut(), program.output_node(0)) {
					if let Ok(values) = out.as_f32() {
						let mut values = values.to_vec();
						if let Some(v) = values.first_mut() {
							*v += 1.0;
						}
						let shape = out.shape().to_vec();
						if let Ok(t) = Tensor::from_f32(&shape, values) {
							*out = t;
							leaves[node as usize] = H256(tensor_hash(out));
						}
					}
				}
			}
			Some(Misbehaviour::Withhold | Misbehaviour::WrongModel | Misbehaviour::Copy) | None => {
			}
		}
	}
}

/// `prepared`'s program with every element of its first floating-point weight increased by one:
/// the "wrong model" of `--verity-dev-misbehave wrong-model` (`None` if it has no such weight).
/// The whole tensor changes, not one element, so that no input (a zero pixel in front of the
/// changed element) makes the wrong model's trace equal the registered one's.
fn changed_weight(prepared: &Prepared) -> Option<Prepared> {
	let mut program = prepared.program().clone();
	let weight = program
		.weights
		.iter_mut()
		.find(|w| w.as_f32().is_ok_and(|v| !v.is_empty()))?;
	let values = weight.as_f32().ok()?.iter().map(|v| v + 1.0).collect();
	*weight = Tensor::from_f32(&weight.shape().to_vec(), values).ok()?;
	Prepared::new(program).ok()
}
