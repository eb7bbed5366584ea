//! The repository's real models (`models/`), compiled by the ONNX front end, give bit-identical
//! outputs and trace roots natively and in wasm, and every node re-executed alone in wasm
//! reproduces its leaf (see `probe/mod.rs` for what is compared).
//!
//! Run with `cargo test --release -p verity-wasm-probe --test repo_models_wasm -- --nocapture`;
//! add `--ignored` for ResNet-18 (after `models/generate.py --resnet`).

mod probe;

use std::path::{Path, PathBuf};

use probe::{check_all, Depth};
use verity_onnx::{compile, read_npy};

/// (model, its input's name)
const REPO_MODELS: &[(&str, &str)] = &[
	("mlp-digits", "input"),
	("cnn-digits", "input"),
	("cnn-digits-int8", "input"),
	("mlp-digits-dynq", "input"),
	("forest-digits", "X"),
	("gboost-odd-digits", "X"),
	("logreg-digits", "X"),
	("xgboost-odd-digits", "input"),
	("lightgbm-digits", "input"),
	("onehot-digits", "X"),
	("label-encoder-ids", "X"),
	("gboost-diabetes", "X"),
	("linreg-diabetes", "X"),
];

/// Compiles the model in `dir` for each committed input's shape and compares native and wasm.
fn check_dir(name: &str, input_name: &str, dir: &Path, depth: Depth) {
	let onnx = std::fs::read(dir.join("model.onnx"))
		.unwrap_or_else(|e| panic!("{}: {e} (run models/generate.py)", dir.display()));
	let mut k = 0;
	while let Ok(input) = read_npy(dir.join(format!("input_{k}.npy"))) {
		let model = compile(&onnx, &[(input_name, input.shape().to_vec())])
			.unwrap_or_else(|e| panic!("{name}: compile failed: {e}"));
		check_all(
			&format!("{name}[{k}]"),
			&model.program,
			&[vec![input]],
			depth,
		);
		k += 1;
	}
	assert!(k > 0, "{}: no input_0.npy", dir.display());
}

#[test]
fn repo_models_are_bit_exact_in_wasm() {
	let models = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models");
	for (name, input) in REPO_MODELS {
		check_dir(name, input, &models.join(name), Depth::Full);
	}
}

#[test]
#[ignore = "ResNet-18 (1.8 G multiply-accumulates) through software FMA in wasm: about 30 s"]
fn resnet18_is_bit_exact_in_wasm() {
	let home = std::env::var_os("HOME")
		.map(PathBuf::from)
		.unwrap_or_default();
	let dir = home.join(".cache/verity/models/resnet18");
	assert!(
		dir.join("model.onnx").is_file(),
		"{} not found: run `models/generate.py --resnet`",
		dir.display()
	);
	check_dir("resnet18", "input", &dir, Depth::ProgramOnly);
}
