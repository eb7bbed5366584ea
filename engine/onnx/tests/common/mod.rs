//! Shared helpers of the integration tests: locating the ONNX test data, loading cases, and
//! numpy-style comparisons.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use verity_engine::{Tensor, TensorData};

/// Version of the `onnx` package whose backend test data the suite runs.
pub const ONNX_VERSION: &str = "1.19.1";

/// The test data directory: `$VERITY_ONNX_TESTDATA`, else `$HOME/.cache/verity/onnx-1.19.1`.
/// Panics with instructions when it is missing.
pub fn testdata_dir() -> PathBuf {
	let dir = match std::env::var_os("VERITY_ONNX_TESTDATA") {
		Some(d) => PathBuf::from(d),
		None => {
			let home = std::env::var_os("HOME")
				.map(PathBuf::from)
				.unwrap_or_default();
			home.join(".cache/verity")
				.join(format!("onnx-{ONNX_VERSION}"))
		}
	};
	if !dir.join("node").is_dir() {
		panic!(
			"ONNX {ONNX_VERSION} backend test data not found at {}.\n\
			 Run `scripts/fetch-onnx-testdata.sh` from the repository root (or set \
			 VERITY_ONNX_TESTDATA to a directory holding onnx/backend/test/data).",
			dir.display()
		);
	}
	dir
}

/// Sorted subdirectories of `dir`.
pub fn subdirs(dir: &Path) -> Vec<PathBuf> {
	let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
		.map(|rd| {
			rd.filter_map(|e| e.ok())
				.map(|e| e.path())
				.filter(|p| p.is_dir())
				.collect()
		})
		.unwrap_or_default();
	v.sort();
	v
}

/// The `prefix_0.pb`, `prefix_1.pb`, … files of a test data set, in index order.
pub fn numbered_pbs(dir: &Path, prefix: &str) -> Vec<PathBuf> {
	let mut out = Vec::new();
	for i in 0.. {
		let p = dir.join(format!("{prefix}_{i}.pb"));
		if !p.is_file() {
			break;
		}
		out.push(p);
	}
	out
}

/// `numpy.testing.assert_allclose(actual, expected, rtol, atol)` semantics (NaNs equal, infinities
/// must match exactly) for floats; exact equality for integers and bools. `Err` describes the
/// first difference.
pub fn allclose(actual: &Tensor, expected: &Tensor, rtol: f64, atol: f64) -> Result<(), String> {
	if actual.dtype() != expected.dtype() {
		return Err(format!(
			"dtype {} vs expected {}",
			actual.dtype(),
			expected.dtype()
		));
	}
	if actual.shape() != expected.shape() {
		return Err(format!(
			"shape {:?} vs expected {:?}",
			actual.shape(),
			expected.shape()
		));
	}
	match (actual.data(), expected.data()) {
		(TensorData::F32(a), TensorData::F32(e)) => {
			let mut bad = 0usize;
			let mut first = None;
			let mut worst = 0f64;
			for (i, (&x, &y)) in a.iter().zip(e).enumerate() {
				let (x, y) = (x as f64, y as f64);
				let ok = if x.is_nan() || y.is_nan() {
					x.is_nan() && y.is_nan()
				} else if x.is_infinite() || y.is_infinite() {
					x == y
				} else {
					(x - y).abs() <= atol + rtol * y.abs()
				};
				if !ok {
					bad += 1;
					first.get_or_insert((i, x, y));
					if (x - y).abs() > worst || x.is_nan() || y.is_nan() {
						worst = (x - y).abs();
					}
				}
			}
			match first {
				None => Ok(()),
				Some((i, x, y)) => Err(format!(
					"{bad}/{} elements differ (max abs diff {worst:.3e}); first at {i}: got {x} expected {y}",
					a.len()
				)),
			}
		}
		(a, e) => {
			if a == e {
				return Ok(());
			}
			let n = a.len();
			let strs = |d: &TensorData, i: usize| -> String {
				match d {
					TensorData::I64(v) => v[i].to_string(),
					TensorData::I32(v) => v[i].to_string(),
					TensorData::I8(v) => v[i].to_string(),
					TensorData::U8(v) => v[i].to_string(),
					TensorData::Bool(v) => v[i].to_string(),
					TensorData::F32(v) => v[i].to_string(),
				}
			};
			let diffs: Vec<usize> = (0..n).filter(|&i| strs(a, i) != strs(e, i)).collect();
			let Some(&i) = diffs.first() else {
				return Err("tensors differ".into());
			};
			Err(format!(
				"{}/{n} elements differ; first at {i}: got {} expected {}",
				diffs.len(),
				strs(a, i),
				strs(e, i)
			))
		}
	}
}

// ---------------------------------------------------------------------------------------------
// Building ONNX models in tests.

use verity_onnx::pb;

/// A small deterministic PRNG (SplitMix64) for seeded test inputs.
pub struct Rng(pub u64);

impl Rng {
	pub fn next_u64(&mut self) -> u64 {
		self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
		let mut z = self.0;
		z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
		z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
		z ^ (z >> 31)
	}

	/// Uniform in `[lo, hi)`.
	pub fn f32(&mut self, lo: f32, hi: f32) -> f32 {
		let u = (self.next_u64() >> 40) as f32 / (1u64 << 24) as f32;
		lo + (hi - lo) * u
	}

	pub fn tensor_f32(&mut self, shape: &[usize], lo: f32, hi: f32) -> Tensor {
		let n = shape.iter().product();
		Tensor::from_f32(shape, (0..n).map(|_| self.f32(lo, hi)).collect()).expect("valid shape")
	}

	pub fn tensor_i8(&mut self, shape: &[usize]) -> Tensor {
		let n = shape.iter().product();
		Tensor::from_i8(shape, (0..n).map(|_| self.next_u64() as i8).collect())
			.expect("valid shape")
	}

	pub fn tensor_u8(&mut self, shape: &[usize]) -> Tensor {
		let n = shape.iter().product();
		Tensor::from_u8(shape, (0..n).map(|_| self.next_u64() as u8).collect())
			.expect("valid shape")
	}
}

/// ONNX element type code of a tensor.
pub fn onnx_type(t: &Tensor) -> i32 {
	verity_onnx::tensor_to_proto("", t).data_type
}

/// A graph input or output declaration; `None` dims are symbolic (`N`).
pub fn value_info(name: &str, elem_type: i32, dims: &[Option<i64>]) -> pb::ValueInfoProto {
	use pb::tensor_shape_proto::{dimension::Value as D, Dimension};
	let dim = dims
		.iter()
		.map(|d| Dimension {
			value: Some(match d {
				Some(v) => D::DimValue(*v),
				None => D::DimParam("N".into()),
			}),
			..Default::default()
		})
		.collect();
	pb::ValueInfoProto {
		name: name.into(),
		r#type: Some(pb::TypeProto {
			value: Some(pb::type_proto::Value::TensorType(pb::type_proto::Tensor {
				elem_type,
				shape: Some(pb::TensorShapeProto { dim }),
			})),
			..Default::default()
		}),
		..Default::default()
	}
}

/// A graph output with unknown type details (type inferred by the compiler).
pub fn output(name: &str) -> pb::ValueInfoProto {
	pb::ValueInfoProto {
		name: name.into(),
		..Default::default()
	}
}

/// An attribute.
pub enum A {
	I(i64),
	F(f32),
	Is(Vec<i64>),
	S(&'static str),
}

/// A node.
pub fn node(op: &str, inputs: &[&str], outputs: &[&str], attrs: Vec<(&str, A)>) -> pb::NodeProto {
	use pb::attribute_proto::AttributeType as T;
	let attribute = attrs
		.into_iter()
		.map(|(name, a)| {
			let mut p = pb::AttributeProto {
				name: name.into(),
				..Default::default()
			};
			match a {
				A::I(v) => {
					p.r#type = T::Int as i32;
					p.i = v;
				}
				A::F(v) => {
					p.r#type = T::Float as i32;
					p.f = v;
				}
				A::Is(v) => {
					p.r#type = T::Ints as i32;
					p.ints = v;
				}
				A::S(v) => {
					p.r#type = T::String as i32;
					p.s = v.as_bytes().to_vec();
				}
			}
			p
		})
		.collect();
	pb::NodeProto {
		input: inputs.iter().map(|s| s.to_string()).collect(),
		output: outputs.iter().map(|s| s.to_string()).collect(),
		name: outputs
			.first()
			.map(|s| format!("n_{s}"))
			.unwrap_or_default(),
		op_type: op.into(),
		attribute,
		..Default::default()
	}
}

/// Encodes a model of the given opset.
pub fn model(
	opset: i64,
	nodes: Vec<pb::NodeProto>,
	inputs: Vec<pb::ValueInfoProto>,
	outputs: Vec<pb::ValueInfoProto>,
	initializers: Vec<(&str, Tensor)>,
) -> Vec<u8> {
	use prost::Message;
	let m = pb::ModelProto {
		ir_version: 8,
		opset_import: vec![pb::OperatorSetIdProto {
			domain: String::new(),
			version: opset,
		}],
		graph: Some(pb::GraphProto {
			node: nodes,
			name: "test".into(),
			initializer: initializers
				.into_iter()
				.map(|(n, t)| verity_onnx::tensor_to_proto(n, &t))
				.collect(),
			input: inputs,
			output: outputs,
			..Default::default()
		}),
		..Default::default()
	};
	m.encode_to_vec()
}

/// Element type codes the engine has (ONNX `TensorProto.DataType`).
pub fn engine_dtype(code: i32) -> bool {
	// FLOAT, UINT8, INT8, INT32, INT64, BOOL
	matches!(code, 1 | 2 | 3 | 6 | 7 | 9)
}

/// Why a model is not covered, if it is not.
pub fn coverage(model: &pb::ModelProto) -> Option<String> {
	let Some(g) = &model.graph else {
		return Some("no graph".into());
	};
	let mut unsupported_ops = Vec::new();
	let mut bad_types = Vec::new();
	let type_of = |vi: &pb::ValueInfoProto| {
		vi.r#type
			.as_ref()
			.and_then(|t| t.value.as_ref())
			.map(|v| match v {
				pb::type_proto::Value::TensorType(t) => t.elem_type,
			})
	};
	for vi in g.input.iter().chain(&g.output) {
		match type_of(vi) {
			Some(code) if engine_dtype(code) => {}
			Some(code) => bad_types.push(format!("{} ({code})", vi.name)),
			None => bad_types.push(format!("{} (non-tensor)", vi.name)),
		}
	}
	for vi in &g.value_info {
		if let Some(code) = type_of(vi) {
			if code != 0 && !engine_dtype(code) {
				bad_types.push(format!("{} ({code})", vi.name));
			}
		}
	}
	for t in &g.initializer {
		if !engine_dtype(t.data_type) {
			bad_types.push(format!("initializer {} ({})", t.name, t.data_type));
		}
	}
	for n in &g.node {
		let default_domain = n.domain.is_empty() || n.domain == "ai.onnx";
		if !verity_onnx::is_supported(&n.domain, &n.op_type) {
			let op = if default_domain {
				n.op_type.clone()
			} else {
				format!("{}:{}", n.domain, n.op_type)
			};
			if !unsupported_ops.contains(&op) {
				unsupported_ops.push(op);
			}
		}
		for a in &n.attribute {
			if let Some(t) = &a.t {
				if !engine_dtype(t.data_type) {
					bad_types.push(format!("{}.{} ({})", n.op_type, a.name, t.data_type));
				}
			}
			let type_attr = matches!(
				(n.op_type.as_str(), a.name.as_str()),
				("Cast", "to") | (_, "output_dtype")
			);
			if type_attr && a.i != 0 && !engine_dtype(a.i as i32) {
				bad_types.push(format!("{}.{} ({})", n.op_type, a.name, a.i));
			}
		}
	}
	if !unsupported_ops.is_empty() {
		return Some(format!("ops {}", unsupported_ops.join(", ")));
	}
	if !bad_types.is_empty() {
		return Some(format!("types {}", bad_types.join(", ")));
	}
	None
}
