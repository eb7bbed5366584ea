//! The ONNX protobuf side: decoding, element types, `TensorProto` conversion and typed access to
//! node attributes. Uses the protobuf types `tract-onnx` generates (`tract_onnx::pb`).

use std::{cell::RefCell, collections::BTreeSet};

use prost::Message;
use tract_onnx::pb::{self, attribute_proto::AttributeType, tensor_proto::DataType};
use verity_engine::{tensor::num_elements, DType, Tensor};

use crate::error::CompileError;

/// Decodes an ONNX `ModelProto`.
pub(crate) fn decode_model(bytes: &[u8]) -> Result<pb::ModelProto, CompileError> {
	pb::ModelProto::decode(bytes).map_err(|e| CompileError::Parse(e.to_string()))
}

/// Name of an ONNX `TensorProto.DataType` code, for messages.
pub(crate) fn onnx_dtype_name(code: i32) -> String {
	match DataType::try_from(code) {
		Ok(dt) => dt.as_str_name().to_ascii_lowercase(),
		Err(_) => format!("unknown data type {code}"),
	}
}

/// The engine element type of an ONNX element type code, if the engine has it.
pub(crate) fn dtype_from_onnx(code: i32) -> Option<DType> {
	match DataType::try_from(code).ok()? {
		DataType::Float => Some(DType::F32),
		DataType::Int64 => Some(DType::I64),
		DataType::Int32 => Some(DType::I32),
		DataType::Int8 => Some(DType::I8),
		DataType::Uint8 => Some(DType::U8),
		DataType::Bool => Some(DType::Bool),
		_ => None,
	}
}

/// The ONNX element type code of an engine element type.
pub(crate) fn dtype_to_onnx(dtype: DType) -> i32 {
	(match dtype {
		DType::F32 => DataType::Float,
		DType::I64 => DataType::Int64,
		DType::I32 => DataType::Int32,
		DType::I8 => DataType::Int8,
		DType::U8 => DataType::Uint8,
		DType::Bool => DataType::Bool,
	}) as i32
}

/// Converts an ONNX `TensorProto` (raw little-endian bytes or the typed repeated fields) into an
/// engine tensor. External data and unsupported element types are errors.
pub fn tensor_from_proto(t: &pb::TensorProto) -> Result<Tensor, CompileError> {
	let bad = |reason: String| CompileError::BadTensor {
		name: t.name.clone(),
		reason,
	};
	let dtype = dtype_from_onnx(t.data_type).ok_or_else(|| CompileError::UnsupportedDType {
		name: t.name.clone(),
		dtype: onnx_dtype_name(t.data_type),
	})?;
	if t.data_location == Some(pb::tensor_proto::DataLocation::External as i32)
		|| !t.external_data.is_empty()
	{
		return Err(bad(
			"external data is not supported; embed the weights in the model".into(),
		));
	}
	if t.segment.is_some() {
		return Err(bad("segmented tensors are not supported".into()));
	}
	let shape = t
		.dims
		.iter()
		.map(|&d| usize::try_from(d).map_err(|_| bad(format!("negative dimension {d}"))))
		.collect::<Result<Vec<usize>, _>>()?;
	if shape.len() > verity_engine::tensor::MAX_RANK {
		return Err(bad(format!("rank {} is too large", shape.len())));
	}
	let n = num_elements(&shape).ok_or_else(|| bad("too many elements".into()))?;
	if !t.raw_data.is_empty() || n == 0 && typed_len(t, dtype) == 0 {
		return Tensor::from_le_bytes(dtype, &shape, &t.raw_data).map_err(|e| bad(e.to_string()));
	}
	let len = typed_len(t, dtype);
	if len != n {
		return Err(bad(format!("has {len} elements, its shape needs {n}")));
	}
	let r = match dtype {
		DType::F32 => Tensor::from_f32(&shape, t.float_data.clone()),
		DType::I64 => Tensor::from_i64(&shape, t.int64_data.clone()),
		DType::I32 => Tensor::from_i32(&shape, t.int32_data.clone()),
		// 8-bit and bool values are stored one per int32 (ONNX spec); the cast keeps the low bits.
		DType::I8 => Tensor::from_i8(&shape, t.int32_data.iter().map(|&v| v as i8).collect()),
		DType::U8 => Tensor::from_u8(&shape, t.int32_data.iter().map(|&v| v as u8).collect()),
		DType::Bool => Tensor::from_bool(&shape, t.int32_data.iter().map(|&v| v != 0).collect()),
	};
	r.map_err(|e| bad(e.to_string()))
}

fn typed_len(t: &pb::TensorProto, dtype: DType) -> usize {
	match dtype {
		DType::F32 => t.float_data.len(),
		DType::I64 => t.int64_data.len(),
		DType::I32 | DType::I8 | DType::U8 | DType::Bool => t.int32_data.len(),
	}
}

/// Encodes an engine tensor as an ONNX `TensorProto` with raw data.
pub fn tensor_to_proto(name: &str, t: &Tensor) -> pb::TensorProto {
	pb::TensorProto {
		dims: t.shape().iter().map(|&d| d as i64).collect(),
		data_type: dtype_to_onnx(t.dtype()),
		name: name.to_string(),
		raw_data: t.to_le_bytes(),
		..Default::default()
	}
}

/// Decodes a serialized `TensorProto` (a test-data `.pb` file) into an engine tensor and its name.
pub(crate) fn tensor_proto_from_bytes(bytes: &[u8]) -> Result<(String, Tensor), CompileError> {
	let t = pb::TensorProto::decode(bytes).map_err(|e| CompileError::Parse(e.to_string()))?;
	Ok((t.name.clone(), tensor_from_proto(&t)?))
}

/// Typed, checked access to a node's attributes. Remembers which attributes were read so the
/// lowering can refuse attributes it does not understand (see [`Attrs::unread`]).
pub(crate) struct Attrs<'a> {
	node: &'a pb::NodeProto,
	read: RefCell<BTreeSet<&'a str>>,
}

/// A malformed attribute; converted to a [`CompileError`] by the caller, who knows the node.
pub(crate) struct AttrError(pub String);

fn type_ok(a: &pb::AttributeProto, want: AttributeType) -> bool {
	// Old exporters leave `type` unset; accept the field as given then.
	a.r#type == want as i32 || a.r#type == AttributeType::Undefined as i32
}

impl<'a> Attrs<'a> {
	pub fn new(node: &'a pb::NodeProto) -> Self {
		Attrs {
			node,
			read: RefCell::new(BTreeSet::new()),
		}
	}

	fn get(&self, name: &str) -> Option<&'a pb::AttributeProto> {
		let a = self.node.attribute.iter().find(|a| a.name == name)?;
		self.read.borrow_mut().insert(&a.name);
		Some(a)
	}

	/// Whether the attribute is present (marks it as read).
	pub fn has(&self, name: &str) -> bool {
		self.get(name).is_some()
	}

	/// Marks attributes as understood even though the lowering does not need their value.
	pub fn ignore(&self, names: &[&str]) {
		for n in names {
			self.get(n);
		}
	}

	/// Attributes present on the node that nothing read, in attribute order.
	pub fn unread(&self) -> Vec<String> {
		let read = self.read.borrow();
		self.node
			.attribute
			.iter()
			.filter(|a| !read.contains(a.name.as_str()))
			.map(|a| a.name.clone())
			.collect()
	}

	pub fn int(&self, name: &str) -> Result<Option<i64>, AttrError> {
		match self.get(name) {
			None => Ok(None),
			Some(a) if type_ok(a, AttributeType::Int) => Ok(Some(a.i)),
			Some(_) => Err(AttrError(format!("attribute {name} must be an int"))),
		}
	}

	pub fn int_or(&self, name: &str, default: i64) -> Result<i64, AttrError> {
		Ok(self.int(name)?.unwrap_or(default))
	}

	pub fn float(&self, name: &str) -> Result<Option<f32>, AttrError> {
		match self.get(name) {
			None => Ok(None),
			Some(a) if type_ok(a, AttributeType::Float) => Ok(Some(a.f)),
			Some(_) => Err(AttrError(format!("attribute {name} must be a float"))),
		}
	}

	pub fn float_or(&self, name: &str, default: f32) -> Result<f32, AttrError> {
		Ok(self.float(name)?.unwrap_or(default))
	}

	pub fn ints(&self, name: &str) -> Result<Option<Vec<i64>>, AttrError> {
		match self.get(name) {
			None => Ok(None),
			Some(a) if type_ok(a, AttributeType::Ints) => Ok(Some(a.ints.clone())),
			Some(_) => Err(AttrError(format!(
				"attribute {name} must be a list of ints"
			))),
		}
	}

	pub fn floats(&self, name: &str) -> Result<Option<Vec<f32>>, AttrError> {
		match self.get(name) {
			None => Ok(None),
			Some(a) if type_ok(a, AttributeType::Floats) => Ok(Some(a.floats.clone())),
			Some(_) => Err(AttrError(format!(
				"attribute {name} must be a list of floats"
			))),
		}
	}

	pub fn string(&self, name: &str) -> Result<Option<String>, AttrError> {
		match self.get(name) {
			None => Ok(None),
			Some(a) if type_ok(a, AttributeType::String) => String::from_utf8(a.s.clone())
				.map(Some)
				.map_err(|_| AttrError(format!("attribute {name} is not UTF-8"))),
			Some(_) => Err(AttrError(format!("attribute {name} must be a string"))),
		}
	}

	pub fn strings(&self, name: &str) -> Result<Option<Vec<String>>, AttrError> {
		match self.get(name) {
			None => Ok(None),
			Some(a) if type_ok(a, AttributeType::Strings) => a
				.strings
				.iter()
				.map(|s| String::from_utf8(s.clone()))
				.collect::<Result<Vec<_>, _>>()
				.map(Some)
				.map_err(|_| AttrError(format!("attribute {name} is not UTF-8"))),
			Some(_) => Err(AttrError(format!(
				"attribute {name} must be a list of strings"
			))),
		}
	}

	pub fn string_or(&self, name: &str, default: &str) -> Result<String, AttrError> {
		Ok(self.string(name)?.unwrap_or_else(|| default.to_string()))
	}

	pub fn tensor(&self, name: &str) -> Result<Option<&'a pb::TensorProto>, AttrError> {
		match self.get(name) {
			None => Ok(None),
			Some(a) if type_ok(a, AttributeType::Tensor) => match &a.t {
				Some(t) => Ok(Some(t)),
				None => Err(AttrError(format!("attribute {name} has no tensor"))),
			},
			Some(_) => Err(AttrError(format!("attribute {name} must be a tensor"))),
		}
	}
}
