//! The demo model embedded in the `development` genesis must be what the current compiler makes
//! of `models/mlp-digits/model.onnx`; regenerate `model.program` with
//! `verity model compile models/mlp-digits/model.onnx --shape input=1,64 -o models/mlp-digits/model.program`.

use verity_runtime::genesis_config_presets::{
	DEMO_MODEL_COMPILER_VERSION, DEMO_MODEL_ONNX, DEMO_MODEL_PROGRAM,
};

#[test]
fn embedded_demo_program_is_the_compilers_output() {
	let compiled =
		verity_onnx::compile(DEMO_MODEL_ONNX, &[("input", vec![1, 64])]).expect("compiles");
	assert_eq!(
		DEMO_MODEL_COMPILER_VERSION,
		verity_onnx::COMPILER_VERSION,
		"compiler version drifted"
	);
	assert!(
		compiled.program_bytes() == DEMO_MODEL_PROGRAM,
		"models/mlp-digits/model.program is stale: recompile it (see this file's header)"
	);
}
