//! The `verity_inference` host function outside an off-chain worker: block execution and
//! runtime API calls have no inference extension, so the call answers `Unavailable` and
//! changes nothing; with the extension registered it reaches the node's engine.

use std::sync::{
	atomic::{AtomicUsize, Ordering},
	Arc,
};

use sp_core::H256;
use verity_primitives::{
	host::{verity_inference, HostError, InferenceExt, InferenceHost, Job, JobStatus, ModelRef},
	ModelLocation,
};

fn job() -> Job {
	Job {
		key: [7; 32],
		model: ModelRef {
			id: 0,
			onnx_hash: H256::zero(),
			model_root: H256::zero(),
			location: ModelLocation::OnChain { len: 0 },
			input_shapes: vec![vec![1, 4]],
			max_node_cost: 0,
			max_node_footprint: 0,
		},
		input: Vec::new(),
		compare_with: None,
		sampled: false,
	}
}

/// Counts the calls that reach it.
struct Counting(Arc<AtomicUsize>);

impl InferenceHost for Counting {
	fn job(&self, _: Job) -> Result<JobStatus, HostError> {
		self.0.fetch_add(1, Ordering::SeqCst);
		Ok(JobStatus::Queued)
	}
}

#[test]
fn without_the_extension_the_host_function_is_unavailable_and_changes_nothing() {
	let mut ext = sp_io::TestExternalities::default();
	let root_before = ext.execute_with(|| sp_io::storage::root(sp_core::storage::StateVersion::V1));
	let answer = ext.execute_with(|| verity_inference::job(job()));
	assert_eq!(answer, Err(HostError::Unavailable));
	let root_after = ext.execute_with(|| sp_io::storage::root(sp_core::storage::StateVersion::V1));
	assert_eq!(root_before, root_after, "no state changed");
}

#[test]
fn with_the_extension_the_call_reaches_the_engine() {
	let calls = Arc::new(AtomicUsize::new(0));
	let mut ext = sp_io::TestExternalities::default();
	ext.register_extension(InferenceExt::new(Arc::new(Counting(calls.clone()))));
	assert_eq!(
		ext.execute_with(|| verity_inference::job(job())),
		Ok(JobStatus::Queued)
	);
	assert_eq!(calls.load(Ordering::SeqCst), 1);
}

/// The release profile keeps overflow checks for this crate (`Cargo.toml`): an unchecked
/// overflow fails a test instead of wrapping.
#[test]
#[should_panic(expected = "overflow")]
fn overflow_checks_are_on() {
	let _ = std::hint::black_box(u128::MAX) + 1;
}
