//! ONNX backend conformance: the per-op and model test cases shipped in the `onnx` 1.19.1 wheel
//! (fetched by `scripts/fetch-onnx-testdata.sh`), run through the canonical compiler and
//! executor and compared with the expected outputs the ONNX project computed with its reference
//! implementation; tract runs the same inputs as a second, independent opinion.
//!
//! A case is **covered** when every operator it uses is supported ([`verity_onnx::is_supported`]) and
//! every element type its model mentions (inputs, outputs, initializers, attribute tensors, cast
//! targets) is an engine type. Every covered case must pass, except the few in [`SKIP`], each
//! with the reason its semantics are out of scope; a covered case whose model or test data does
//! not load fails too. Tolerance: the ONNX backend's `assert_allclose(rtol = 1e-3, atol = 1e-7)`
//! for floats (the `real` suite's `data.json` may override it), exact for integers and bools.
//!
//! Coverage cannot shrink unnoticed: [`PASSING_PINS`] holds the number of passing cases per
//! suite, and fewer fails the test (more prints a notice to raise the pin). tract must agree with
//! every passing case within the same tolerance, except the cases in [`TRACT_DISAGREEMENTS`],
//! each with the reason tract is the one that is off.
//!
//! Graph inputs the compiler needs as constants (many operator tests feed a `Reshape` target,
//! reduction axes or `Resize` sizes as inputs) are frozen to the data set's values with
//! [`verity_onnx::compile_with_constants`]; tract gets the same frozen model.
//!
//! Suites: `node` (per-operator), `pytorch-converted`, `pytorch-operator`, `simple`, and `real`,
//! whose `data.json` files point at the `light` models (real architectures with every weight
//! replaced by `ConstantOfShape`) run on the ONNX runner's deterministic dummy input.
//!
//! Run with `cargo test --release -p verity-onnx --test conformance -- --nocapture` to see the
//! report; `VERITY_CONFORMANCE_FILTER=substring` restricts it to matching case names and
//! `VERITY_CONFORMANCE_VERBOSE=1` lists why cases are not covered.

mod common;

use std::{
	collections::BTreeMap,
	panic::{catch_unwind, AssertUnwindSafe},
	path::{Path, PathBuf},
};

use common::{allclose, coverage, numbered_pbs, subdirs, testdata_dir};
use verity_engine::{execute, DType, Tensor};
use verity_onnx::{
	compile_with_constants, freeze_inputs, pb, read_tensor_pb, run_tract, supported_ops,
	CompileError,
};

/// Covered cases whose semantics are intentionally out of scope, with the reason.
const SKIP: &[(&str, &str)] = &[
	(
		"test_training_dropout",
		"training-mode Dropout is random; the engine is inference-only",
	),
	(
		"test_training_dropout_default",
		"training-mode Dropout is random",
	),
	(
		"test_training_dropout_default_mask",
		"training-mode Dropout is random",
	),
	(
		"test_training_dropout_mask",
		"training-mode Dropout is random",
	),
	(
		"test_batchnorm_epsilon_training_mode",
		"training-mode BatchNormalization (batch statistics)",
	),
	(
		"test_batchnorm_example_training_mode",
		"training-mode BatchNormalization (batch statistics)",
	),
	(
		"test_maxpool_with_argmax_2d_precomputed_pads",
		"MaxPool's Indices output is not in the IR (every node has one output); refused",
	),
	(
		"test_maxpool_with_argmax_2d_precomputed_strides",
		"MaxPool's Indices output is not in the IR (every node has one output); refused",
	),
	(
		"test_dequantizelinear_blocked",
		"blocked quantization (opset 21 block_size) not in the IR",
	),
	(
		"test_quantizelinear_blocked_asymmetric",
		"blocked quantization (opset 21 block_size) not in the IR",
	),
	// The expected data wraps the int8 result around (the reference casts without saturating);
	// the spec, onnxruntime, tract and the engine saturate.
	(
		"test_qlinearmatmul_2D_int8_float32",
		"expected output wraps int8 instead of saturating",
	),
	(
		"test_qlinearmatmul_3D_int8_float32",
		"expected output wraps int8 instead of saturating",
	),
];

/// The fewest passing cases per suite: the counts when last raised. Fewer means an operator
/// left the front end, test data stopped loading or a suite went missing.
const PASSING_PINS: &[(&str, usize)] = &[
	("node", 882),
	("pytorch-converted", 82),
	("pytorch-operator", 30),
	("simple", 6),
	("real", 9),
];

/// Passing cases (their outputs match the ONNX reference's) on which tract's outputs differ
/// beyond the tolerance, with the reason tract is off.
const TRACT_DISAGREEMENTS: &[(&str, &str)] = &[
	(
		"test_l2normalization_axis_0",
		"a slice with zero norm: the ONNX reference computes 0 / 0 = NaN, tract returns 0",
	),
	(
		"test_reduce_max_empty_set",
		"ReduceMax over no elements: the ONNX reference gives -inf, tract the lowest finite f32",
	),
	(
		"test_reduce_min_empty_set",
		"ReduceMin over no elements: the ONNX reference gives +inf, tract the largest finite f32",
	),
];

const RTOL: f64 = 1e-3;
const ATOL: f64 = 1e-7;

/// A loaded case, or why it could not be loaded (name, reason).
type Loaded = Result<Case, (String, String)>;

/// One test case: a model and its data sets.
struct Case {
	suite: &'static str,
	name: String,
	model: PathBuf,
	/// `(inputs, expected outputs)` per data set, or why they did not load (which fails the case
	/// if its model is covered).
	data: Result<Vec<(Vec<Tensor>, Vec<Tensor>)>, String>,
	rtol: f64,
	atol: f64,
}

enum Outcome {
	NotCovered(String),
	Skipped,
	Passed { tract: TractVerdict, froze: bool },
	Failed { reason: String, tract: TractVerdict },
}

enum TractVerdict {
	Agrees,
	Disagrees(String),
	Error(String),
	NotRun,
}

impl TractVerdict {
	/// How much the verdict says against tract: over several data sets the case keeps the worst.
	fn severity(&self) -> u8 {
		match self {
			TractVerdict::NotRun => 0,
			TractVerdict::Agrees => 1,
			TractVerdict::Error(_) => 2,
			TractVerdict::Disagrees(_) => 3,
		}
	}
}

fn run_case(case: &Case) -> Outcome {
	// The data set is the ONNX release's: a model that does not load is a loading bug, never a
	// reason to stop covering the case.
	let unloadable = |reason: String| Outcome::Failed {
		reason,
		tract: TractVerdict::NotRun,
	};
	let bytes = match std::fs::read(&case.model) {
		Ok(b) => b,
		Err(e) => return unloadable(format!("cannot read model: {e}")),
	};
	let model = match <pb::ModelProto as prost::Message>::decode(&bytes[..]) {
		Ok(m) => m,
		Err(e) => return unloadable(format!("undecodable model: {e}")),
	};
	if let Some(why) = coverage(&model) {
		return Outcome::NotCovered(why);
	}
	let data = match &case.data {
		Ok(data) if data.is_empty() => return unloadable("no test data sets".into()),
		Ok(data) => data,
		Err(e) => return unloadable(format!("test data: {e}")),
	};
	if SKIP.iter().any(|(n, _)| *n == case.name) {
		return Outcome::Skipped;
	}
	let mut tract = TractVerdict::NotRun;
	let mut froze = false;
	for (k, (inputs, expected)) in data.iter().enumerate() {
		let fail = |reason: String, tract: TractVerdict| Outcome::Failed {
			reason: format!("data set {k}: {reason}"),
			tract,
		};
		// Compile with the shapes of this data set's inputs.
		let g = model.graph.as_ref().expect("checked by coverage");
		let init: Vec<&str> = g.initializer.iter().map(|t| t.name.as_str()).collect();
		let names: Vec<&str> = g
			.input
			.iter()
			.map(|i| i.name.as_str())
			.filter(|n| !init.contains(n))
			.collect();
		if names.len() != inputs.len() {
			return fail(
				format!(
					"model has {} inputs, data set {}",
					names.len(),
					inputs.len()
				),
				tract,
			);
		}
		// Inputs that must be constants (a Reshape target, reduction axes, Resize sizes, …) are
		// frozen to this data set's values, as if they were initializers.
		let mut frozen: Vec<(&str, Tensor)> = Vec::new();
		let compiled = loop {
			let is_frozen = |n: &str| frozen.iter().any(|(f, _)| *f == n);
			let shapes: Vec<(&str, Vec<usize>)> = names
				.iter()
				.zip(inputs)
				.filter(|(n, _)| !is_frozen(n))
				.map(|(n, t)| (*n, t.shape().to_vec()))
				.collect();
			match compile_with_constants(&bytes, &shapes, &frozen) {
				Ok(c) => break c,
				Err(CompileError::NotConstant { name, .. })
					if !is_frozen(&name) && names.contains(&name.as_str()) =>
				{
					let k = names
						.iter()
						.position(|n| *n == name)
						.expect("checked above");
					frozen.push((names[k], inputs[k].clone()));
				}
				// A value computed from inputs (e.g. pads from a `shape` input in an expanded
				// function): freeze every integer input at once, then retry.
				Err(e @ CompileError::NotConstant { .. }) => {
					let before = frozen.len();
					for (n, t) in names.iter().zip(inputs) {
						let int = matches!(t.dtype(), DType::I64 | DType::I32);
						if int && !frozen.iter().any(|(f, _)| f == n) {
							frozen.push((n, t.clone()));
						}
					}
					if frozen.len() == before {
						return fail(format!("compile: {e}"), tract);
					}
				}
				Err(e) => return fail(format!("compile: {e}"), tract),
			}
		};
		froze |= !frozen.is_empty();
		let run_inputs: Vec<Tensor> = names
			.iter()
			.zip(inputs)
			.filter(|(n, _)| !frozen.iter().any(|(f, _)| f == *n))
			.map(|(_, t)| t.clone())
			.collect();
		let run = catch_unwind(AssertUnwindSafe(|| execute(&compiled.program, &run_inputs)));
		let outputs = match run {
			Ok(Ok((outs, _trace))) => outs,
			Ok(Err(e)) => return fail(format!("execute: {e}"), tract),
			Err(_) => return fail("execute panicked".into(), tract),
		};
		let tract_model = match freeze_inputs(&bytes, &frozen) {
			Ok(b) => b,
			Err(e) => return fail(format!("freeze_inputs: {e}"), tract),
		};
		let verdict = match run_tract(&tract_model, &run_inputs) {
			Err(e) => TractVerdict::Error(format!("data set {k}: {e}")),
			Ok(touts) if touts.len() != outputs.len() => TractVerdict::Disagrees(format!(
				"data set {k}: tract gives {} outputs, canonical {}",
				touts.len(),
				outputs.len()
			)),
			Ok(touts) => outputs
				.iter()
				.zip(&touts)
				.enumerate()
				.find_map(|(o, (c, t))| {
					allclose(c, t, case.rtol, case.atol.max(1e-6))
						.err()
						.map(|d| TractVerdict::Disagrees(format!("data set {k}, output {o}: {d}")))
				})
				.unwrap_or(TractVerdict::Agrees),
		};
		if verdict.severity() > tract.severity() {
			tract = verdict;
		}
		if outputs.len() != expected.len() {
			return fail(
				format!("{} outputs, expected {}", outputs.len(), expected.len()),
				tract,
			);
		}
		for (o, (got, want)) in outputs.iter().zip(expected).enumerate() {
			if let Err(d) = allclose(got, want, case.rtol, case.atol) {
				let name = compiled.output_names.get(o).cloned().unwrap_or_default();
				return fail(format!("output {o} ({name}): {d}"), tract);
			}
		}
	}
	Outcome::Passed { tract, froze }
}

fn load_tensors(files: &[PathBuf]) -> Result<Vec<Tensor>, String> {
	files
		.iter()
		.map(|p| read_tensor_pb(p).map(|(_, t)| t).map_err(|e| e.to_string()))
		.collect()
}

/// Cases of a suite laid out as `<case>/model.onnx` + `<case>/test_data_set_*/`.
fn dir_suite(suite: &'static str, root: &Path) -> Vec<Loaded> {
	let mut out = Vec::new();
	for dir in subdirs(&root.join(suite)) {
		let name = dir
			.file_name()
			.unwrap_or_default()
			.to_string_lossy()
			.into_owned();
		// Data of uncovered models may be in forms the engine lacks (sequences, float16, …):
		// the first error is kept, and only fails the case if its model turns out covered.
		let data = subdirs(&dir)
			.into_iter()
			.filter(|set| {
				set.file_name()
					.unwrap_or_default()
					.to_string_lossy()
					.starts_with("test_data_set_")
			})
			.map(|set| {
				let inputs = load_tensors(&numbered_pbs(&set, "input"));
				let outputs = load_tensors(&numbered_pbs(&set, "output"));
				inputs
					.and_then(|i| Ok((i, outputs?)))
					.map_err(|e| format!("{}: {e}", set.display()))
			})
			.collect();
		out.push(Ok(Case {
			suite,
			name,
			model: dir.join("model.onnx"),
			data,
			rtol: RTOL,
			atol: ATOL,
		}));
	}
	out
}

/// The `real` suite: `data.json` files pointing at the `light` models (real architectures with
/// every weight replaced by `ConstantOfShape`). Their inputs are the ONNX runner's deterministic
/// dummy data: `arange(n).reshape(shape) / n` in float32, free dims set to 1.
fn real_suite(root: &Path) -> Vec<Loaded> {
	let mut out = Vec::new();
	for dir in subdirs(&root.join("real")) {
		let name = dir
			.file_name()
			.unwrap_or_default()
			.to_string_lossy()
			.into_owned();
		let json = std::fs::read_to_string(dir.join("data.json")).unwrap_or_default();
		let field = |key: &str| -> Option<String> {
			let at = json.find(&format!("\"{key}\""))?;
			let rest = json[at + key.len() + 2..]
				.trim_start()
				.strip_prefix(':')?
				.trim_start();
			let end = rest.find([',', '}'])?;
			Some(rest[..end].trim().trim_matches('"').to_string())
		};
		let Some(url) = field("url") else {
			out.push(Err((name, "no url in data.json".into())));
			continue;
		};
		let Some(light) = url.strip_prefix("onnx/backend/test/data/") else {
			out.push(Err((name, format!("model not shipped ({url})"))));
			continue;
		};
		let model = root.join(light);
		let data = (|| -> Result<Vec<(Vec<Tensor>, Vec<Tensor>)>, String> {
			let bytes = std::fs::read(&model).map_err(|e| e.to_string())?;
			let m = <pb::ModelProto as prost::Message>::decode(&bytes[..])
				.map_err(|e| e.to_string())?;
			let g = m.graph.as_ref().ok_or("no graph")?;
			let init: Vec<&str> = g.initializer.iter().map(|t| t.name.as_str()).collect();
			let mut inputs = Vec::new();
			for vi in g.input.iter().filter(|i| !init.contains(&i.name.as_str())) {
				let Some(pb::type_proto::Value::TensorType(t)) =
					vi.r#type.as_ref().and_then(|t| t.value.as_ref())
				else {
					return Err("non-tensor input".into());
				};
				use pb::tensor_shape_proto::dimension::Value as D;
				let shape: Vec<usize> = t
					.shape
					.as_ref()
					.map(|s| {
						s.dim
							.iter()
							.map(|d| match d.value {
								Some(D::DimValue(v)) if v > 0 => v as usize,
								_ => 1,
							})
							.collect()
					})
					.unwrap_or_default();
				let n: usize = shape.iter().product();
				// numpy: (arange(n) / n) in float64, then cast to float32.
				let v: Vec<f32> = (0..n).map(|i| (i as f64 / n as f64) as f32).collect();
				inputs.push(Tensor::from_f32(&shape, v).map_err(|e| e.to_string())?);
			}
			let stem = model.with_extension("");
			let outputs = numbered_pbs(
				stem.parent().ok_or("bad path")?,
				&format!(
					"{}_output",
					stem.file_name().unwrap_or_default().to_string_lossy()
				),
			);
			let expected = load_tensors(&outputs)?;
			Ok(vec![(inputs, expected)])
		})();
		let num = |k: &str, d: f64| field(k).and_then(|v| v.parse::<f64>().ok()).unwrap_or(d);
		out.push(Ok(Case {
			suite: "real",
			name,
			model,
			data,
			rtol: num("rtol", RTOL),
			atol: num("atol", ATOL),
		}));
	}
	out
}

/// Operator types of a model.
fn ops_of(path: &Path) -> Vec<String> {
	let bytes = std::fs::read(path).unwrap_or_default();
	verity_onnx::model_op_types(&bytes)
		.unwrap_or_default()
		.into_iter()
		.map(|(_, op)| op)
		.collect()
}

/// `line` on stderr, past the harness's capture, so that `scripts/test.sh`'s summary shows it.
fn notice(line: &str) {
	use std::io::Write;
	let _ = writeln!(std::io::stderr(), "{line}");
}

#[test]
fn onnx_backend_conformance() {
	let root = testdata_dir();
	let filter = std::env::var("VERITY_CONFORMANCE_FILTER").ok();
	let suites: Vec<(&str, Vec<Loaded>)> = vec![
		("node", dir_suite("node", &root)),
		("pytorch-converted", dir_suite("pytorch-converted", &root)),
		("pytorch-operator", dir_suite("pytorch-operator", &root)),
		("simple", dir_suite("simple", &root)),
		("real", real_suite(&root)),
	];
	assert_eq!(
		suites.iter().map(|(s, _)| *s).collect::<Vec<_>>(),
		PASSING_PINS.iter().map(|(s, _)| *s).collect::<Vec<_>>(),
		"one pin per suite"
	);
	let mut total_failed = 0;
	let mut total_covered = 0;
	let mut total_passed = 0;
	let mut frozen_cases = 0;
	let mut ops_passed: BTreeMap<String, usize> = BTreeMap::new();
	let mut report = String::new();
	let mut below_pin = Vec::new();
	// Listed tract disagreements that did not happen (the case ran and tract agreed or failed).
	let mut stale_disagreements = Vec::new();
	for ((suite, cases), &(_, pin)) in suites.into_iter().zip(PASSING_PINS) {
		let (mut covered, mut passed, mut failed, mut not_covered, mut skipped) = (0, 0, 0, 0, 0);
		let (mut tract_agree, mut tract_disagree, mut tract_error) = (0, 0, 0);
		let mut failures = Vec::new();
		let mut tract_notes = Vec::new();
		let mut why_not: BTreeMap<String, usize> = BTreeMap::new();
		for case in cases {
			let name = match &case {
				Ok(c) => c.name.clone(),
				Err((n, _)) => n.clone(),
			};
			if filter.as_ref().is_some_and(|f| !name.contains(f.as_str())) {
				continue;
			}
			let case = match case {
				Ok(c) => c,
				Err((_, why)) => {
					not_covered += 1;
					*why_not.entry(why).or_default() += 1;
					continue;
				}
			};
			let outcome = run_case(&case);
			let listed = TRACT_DISAGREEMENTS.iter().any(|(n, _)| *n == case.name);
			let tract = match &outcome {
				Outcome::NotCovered(why) => {
					not_covered += 1;
					let key = match why.strip_prefix("types ") {
						Some(_) => "types (model)".to_string(),
						None => why.clone(),
					};
					*why_not.entry(key).or_default() += 1;
					continue;
				}
				Outcome::Skipped => {
					skipped += 1;
					continue;
				}
				// Right by the ONNX reference but not by tract: a failure unless listed.
				Outcome::Passed {
					tract: TractVerdict::Disagrees(d),
					..
				} if !listed => {
					covered += 1;
					failed += 1;
					failures.push(format!(
						"  FAIL {}/{}: tract disagrees beyond the tolerance: {d} (if tract is \
						 wrong, list the case in TRACT_DISAGREEMENTS with the reason)",
						case.suite, case.name
					));
					tract_disagree += 1;
					continue;
				}
				Outcome::Passed { tract, froze } => {
					covered += 1;
					passed += 1;
					frozen_cases += *froze as usize;
					for op in ops_of(&case.model) {
						*ops_passed.entry(op).or_default() += 1;
					}
					if listed && !matches!(tract, TractVerdict::Disagrees(_)) {
						stale_disagreements.push(case.name.clone());
					}
					tract
				}
				Outcome::Failed { reason, tract } => {
					covered += 1;
					failed += 1;
					let t = match tract {
						TractVerdict::Agrees => "tract agrees with canonical",
						TractVerdict::Disagrees(_) => "tract disagrees with canonical",
						TractVerdict::Error(_) => "tract failed",
						TractVerdict::NotRun => "tract not run",
					};
					failures.push(format!(
						"  FAIL {}/{}: {reason} [{t}]",
						case.suite, case.name
					));
					tract
				}
			};
			match tract {
				TractVerdict::Agrees => tract_agree += 1,
				TractVerdict::Disagrees(d) => {
					tract_disagree += 1;
					tract_notes.push(format!("  tract disagrees on {}: {d}", case.name));
				}
				TractVerdict::Error(e) => {
					tract_error += 1;
					let e: String = e.chars().take(160).collect();
					tract_notes.push(format!("  tract failed on {}: {e}", case.name));
				}
				TractVerdict::NotRun => {}
			}
		}
		let line = format!(
			"{suite}: {covered} covered, {passed} passed (pin {pin}), {failed} failed ({not_covered} not covered, {skipped} skipped); \
			 canonical vs tract: {tract_agree} agree, {tract_disagree} disagree, {tract_error} tract errors\n"
		);
		// Straight to stderr, past the test harness's capture: `scripts/test.sh` lists these lines.
		notice(line.trim_end());
		report.push_str(&line);
		for f in &failures {
			println!("{f}");
		}
		for n in &tract_notes {
			println!("{n}");
		}
		if std::env::var_os("VERITY_CONFORMANCE_VERBOSE").is_some() {
			for (why, n) in &why_not {
				println!("  not covered ({n}): {why}");
			}
		}
		// A filtered run covers a subset: the pins are for the whole suite.
		if filter.is_none() {
			if passed < pin {
				below_pin.push(format!("{suite}: {passed} passing cases, pinned at {pin}"));
			} else if passed > pin {
				notice(&format!(
					"raise the pin: conformance suite {suite} passes {passed} cases, \
					 PASSING_PINS in engine/onnx/tests/conformance.rs says {pin}"
				));
			}
		}
		total_failed += failed;
		total_covered += covered;
		total_passed += passed;
	}
	println!(
		"total: {total_covered} covered cases, {total_passed} passed, {total_failed} failed; \
		 {} ops exercised by passing cases: {}",
		ops_passed.len(),
		ops_passed.keys().cloned().collect::<Vec<_>>().join(", ")
	);
	let unexercised: Vec<&str> = supported_ops()
		.into_iter()
		.map(|(_, op)| op)
		.filter(|op| !ops_passed.contains_key(*op))
		.collect();
	println!("supported ops with no passing case: {unexercised:?}");
	println!("passing cases that froze shape-like inputs to constants: {frozen_cases}");
	print!("{report}");
	assert_eq!(
		total_failed, 0,
		"{total_failed} covered conformance case(s) failed (see above)"
	);
	assert!(
		below_pin.is_empty(),
		"fewer conformance cases pass than pinned in PASSING_PINS: {}",
		below_pin.join("; ")
	);
	assert!(
		stale_disagreements.is_empty(),
		"listed in TRACT_DISAGREEMENTS but tract no longer disagrees (remove them): {stale_disagreements:?}"
	);
}
