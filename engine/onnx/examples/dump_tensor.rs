//! Prints tensor files (`.pb` TensorProto or `.npy`): `dump_tensor FILE…`.

fn main() {
	for path in std::env::args().skip(1) {
		let r = if path.ends_with(".npy") {
			verity_onnx::read_npy(&path).map(|t| (String::new(), t))
		} else {
			verity_onnx::read_tensor_pb(&path)
		};
		match r {
			Ok((name, t)) => println!("{path} {name:?} {}: {:?}", t.tensor_type(), t.data()),
			Err(e) => println!("{path}: {e}"),
		}
	}
}
