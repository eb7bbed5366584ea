//! The SCALE decoders of untrusted bytes: programs (model stores), tensors (request inputs,
//! results, fraud proofs) and nodes (fraud proofs). Decoding and validation must never panic;
//! whatever validates must cost and execute without panicking either.
#![no_main]

use codec::{Decode, DecodeAll};
use libfuzzer_sys::fuzz_target;
use verity_engine::{exec::node_cost, ir::Node, Program, Tensor};

fuzz_target!(|data: &[u8]| {
	if let Ok(tensor) = Tensor::decode_all(&mut &data[..]) {
		let _ = verity_engine::tensor_hash(&tensor);
	}
	if let Ok(node) = Node::decode(&mut &data[..]) {
		let _ = node_cost(&node);
	}
	if let Ok(program) = Program::decode_all(&mut &data[..]) {
		if program.validate().is_ok() {
			let _ = program.macs();
			let _ = program.largest_node_footprint();
			let _ = program.largest_node_cost();
			let _ = verity_engine::model_root(&program);
		}
	}
});
