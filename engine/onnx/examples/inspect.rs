//! Compiles an ONNX model and prints the canonical program: `inspect MODEL [NAME=D1xD2… …]`.

fn main() {
	let mut args = std::env::args().skip(1);
	let Some(path) = args.next() else {
		eprintln!("usage: inspect MODEL.onnx [INPUT=1x3x224x224 …]");
		std::process::exit(2);
	};
	let shapes: Vec<(String, Vec<usize>)> = args
		.filter_map(|a| {
			let (n, s) = a.split_once('=')?;
			Some((
				n.to_string(),
				s.split('x').filter_map(|d| d.parse().ok()).collect(),
			))
		})
		.collect();
	let shapes: Vec<(&str, Vec<usize>)> = shapes
		.iter()
		.map(|(n, s)| (n.as_str(), s.clone()))
		.collect();
	let bytes = std::fs::read(&path).unwrap_or_else(|e| {
		eprintln!("{path}: {e}");
		std::process::exit(1);
	});
	match verity_onnx::compile(&bytes, &shapes) {
		Err(e) => {
			if let Ok(ops) = verity_onnx::model_op_types(&bytes) {
				eprintln!("ops: {ops:?}");
			}
			eprintln!("error: {e}");
			std::process::exit(1);
		}
		Ok(m) => {
			let p = &m.program;
			println!("opset {}", m.opset);
			for (i, v) in p.inputs.iter().enumerate() {
				println!("input {i} {:?}: {}", v.name, v.ty);
			}
			for (j, w) in p.weights.iter().enumerate() {
				println!("weight {j}: {}", w.tensor_type());
			}
			for (n, node) in p.nodes.iter().enumerate() {
				let ins: Vec<String> = node
					.inputs
					.iter()
					.map(|i| match i {
						Some(i) => format!("{:?}:{}", i.source, i.ty),
						None => "-".into(),
					})
					.collect();
				let outs: Vec<String> = node.outputs.iter().map(|t| t.to_string()).collect();
				println!(
					"node {n}: {:?}\n    in  {}\n    out {}",
					node.op,
					ins.join(", "),
					outs.join(", ")
				);
			}
			for o in &p.outputs {
				println!("output {:?}: {:?}", o.name, o.source);
			}
			println!(
				"nodes {} weights {} cost {} largest node footprint {} B cost {} model root {}",
				m.node_count(),
				p.weights.len(),
				m.macs(),
				m.largest_node_footprint(),
				m.largest_node_cost(),
				verity_engine::commit::to_hex(&m.model_root())
			);
		}
	}
}
