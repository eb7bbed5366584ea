//! The ONNX front end on arbitrary bytes: errors, never panics (the compiler turns panics inside
//! tract into `CompileError::Panic`, which would still be a bug to fix, so it aborts here).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
	if let Err(verity_onnx::CompileError::Panic(message)) = verity_onnx::compile(data, &[]) {
		panic!("the compiler panicked: {message}");
	}
});
