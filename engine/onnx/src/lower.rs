//! Lowering an ONNX graph to a canonical [`Program`].
//!
//! The walk is a single pass over the ONNX nodes in file order (ONNX requires topological
//! order), after a backward liveness pass that drops nodes no graph output depends on.
//!
//! * Every ONNX value is either a **constant** (initializer, `Constant`, or folded) or a
//!   **dynamic** value (a program input or a node output) with a concrete [`TensorType`].
//! * A node whose inputs are all constants is **folded**: it is lowered to its IR op as usual and
//!   evaluated right away by the canonical executor ([`verity_engine::exec::execute_node`]), so
//!   folded values carry exactly the bits the executor would compute at run time, on any
//!   machine. Shape-only ops (`Shape`, `Size`, `Constant`, …) produce constants directly.
//! * Otherwise the node is emitted; its output type comes from the engine's own type inference
//!   ([`verity_engine::ops::infer`]), so the program validates by construction. Every IR node
//!   has exactly one output: ONNX operators with several outputs become one IR node (or a short
//!   chain) per used output, so node `i` is always trace leaf `i`.
//! * A constant becomes a program weight the first time an emitted node reads it; weights are
//!   numbered in that order and deduplicated by ONNX value name.
//!
//! Nothing here iterates a hash map: the program depends only on the model bytes and the given
//! input shapes.

use std::{collections::BTreeMap, rc::Rc};

use tract_onnx::pb;
use verity_engine::{
	exec::execute_node,
	ir::{Node, NodeInput, Op, OutputInfo, Program, ValueInfo, ValueRef},
	ops::infer,
	DType, Tensor, TensorType,
};

use crate::{
	error::CompileError,
	proto::{dtype_from_onnx, onnx_dtype_name, tensor_from_proto, AttrError, Attrs},
};

/// A value of the ONNX graph during lowering.
#[derive(Clone, Debug)]
pub(crate) enum Value {
	/// Known at compile time. `key` is the ONNX name it was first bound to (weights are
	/// deduplicated by it); `None` for anonymous constants the lowering makes up.
	Const { t: Rc<Tensor>, key: Option<String> },
	/// Computed at run time.
	Dyn { src: ValueRef, ty: TensorType },
}

impl Value {
	pub fn anon(t: Tensor) -> Value {
		Value::Const {
			t: Rc::new(t),
			key: None,
		}
	}

	pub fn ty(&self) -> TensorType {
		match self {
			Value::Const { t, .. } => t.tensor_type(),
			Value::Dyn { ty, .. } => ty.clone(),
		}
	}

	pub fn dtype(&self) -> DType {
		match self {
			Value::Const { t, .. } => t.dtype(),
			Value::Dyn { ty, .. } => ty.dtype,
		}
	}

	pub fn shape(&self) -> Vec<usize> {
		match self {
			Value::Const { t, .. } => t.shape().to_vec(),
			// Types in a program are checked against the element cap, so they fit `usize`.
			Value::Dyn { ty, .. } => ty.shape.iter().map(|&d| d as usize).collect(),
		}
	}

	pub fn rank(&self) -> usize {
		match self {
			Value::Const { t, .. } => t.rank(),
			Value::Dyn { ty, .. } => ty.shape.len(),
		}
	}

	pub fn as_const(&self) -> Option<&Tensor> {
		match self {
			Value::Const { t, .. } => Some(t),
			Value::Dyn { .. } => None,
		}
	}
}

/// Per-node context: identity of the node for error messages, attributes, opset, and which
/// outputs are used downstream.
pub(crate) struct NodeCtx<'a> {
	pub node: &'a pb::NodeProto,
	pub name: String,
	pub opset: i64,
	pub attrs: Attrs<'a>,
	pub live: Vec<bool>,
}

impl NodeCtx<'_> {
	pub fn op_type(&self) -> &str {
		&self.node.op_type
	}

	pub fn invalid(&self, reason: impl Into<String>) -> CompileError {
		CompileError::InvalidNode {
			op_type: self.node.op_type.clone(),
			node: self.name.clone(),
			reason: reason.into(),
		}
	}

	pub fn unsupported(&self, what: impl Into<String>) -> CompileError {
		CompileError::UnsupportedFeature {
			op_type: self.node.op_type.clone(),
			node: self.name.clone(),
			opset: self.opset,
			what: what.into(),
		}
	}

	/// Converts an attribute access error.
	pub fn attr<T>(&self, r: Result<T, AttrError>) -> Result<T, CompileError> {
		r.map_err(|AttrError(e)| self.invalid(e))
	}

	/// Whether ONNX output `i` exists and is used downstream.
	pub fn output_live(&self, i: usize) -> bool {
		self.live.get(i).copied().unwrap_or(false)
	}

	/// Number of outputs the node declares (including empty names).
	pub fn output_count(&self) -> usize {
		self.node.output.len()
	}

	/// Required input `i`.
	pub fn req<'v>(&self, ins: &'v [Option<Value>], i: usize) -> Result<&'v Value, CompileError> {
		ins.get(i)
			.and_then(|v| v.as_ref())
			.ok_or_else(|| self.invalid(format!("required input {i} is missing")))
	}

	/// Optional input `i`.
	pub fn opt<'v>(&self, ins: &'v [Option<Value>], i: usize) -> Option<&'v Value> {
		ins.get(i).and_then(|v| v.as_ref())
	}

	/// Input `i`, which must be a compile-time constant (if present).
	pub fn opt_const<'v>(
		&self,
		ins: &'v [Option<Value>],
		i: usize,
	) -> Result<Option<&'v Tensor>, CompileError> {
		match self.opt(ins, i) {
			None => Ok(None),
			Some(v) => v
				.as_const()
				.map(Some)
				.ok_or_else(|| CompileError::NotConstant {
					op_type: self.node.op_type.clone(),
					node: self.name.clone(),
					input: i,
					name: self.node.input.get(i).cloned().unwrap_or_default(),
				}),
		}
	}

	/// Required constant input `i`.
	pub fn req_const<'v>(
		&self,
		ins: &'v [Option<Value>],
		i: usize,
	) -> Result<&'v Tensor, CompileError> {
		self.req(ins, i)?;
		self.opt_const(ins, i)?
			.ok_or_else(|| self.invalid(format!("required input {i} is missing")))
	}

	/// Optional constant integer list (an I64 or I32 tensor of any shape, flattened).
	pub fn opt_ints(
		&self,
		ins: &[Option<Value>],
		i: usize,
	) -> Result<Option<Vec<i64>>, CompileError> {
		match self.opt_const(ins, i)? {
			None => Ok(None),
			Some(t) => ints_of(t).map(Some).ok_or_else(|| {
				self.invalid(format!(
					"input {i} must be an int64 or int32 tensor, got {}",
					t.dtype()
				))
			}),
		}
	}

	/// Required constant integer list.
	pub fn req_ints(&self, ins: &[Option<Value>], i: usize) -> Result<Vec<i64>, CompileError> {
		self.req(ins, i)?;
		self.opt_ints(ins, i)?
			.ok_or_else(|| self.invalid(format!("required input {i} is missing")))
	}

	/// Optional constant float list (an F32 tensor, flattened).
	pub fn opt_floats(
		&self,
		ins: &[Option<Value>],
		i: usize,
	) -> Result<Option<Vec<f32>>, CompileError> {
		match self.opt_const(ins, i)? {
			None => Ok(None),
			Some(t) => t.as_f32().map(|v| Some(v.to_vec())).map_err(|_| {
				self.invalid(format!(
					"input {i} must be a float tensor, got {}",
					t.dtype()
				))
			}),
		}
	}
}

/// The elements of an I64 or I32 tensor as `i64`.
pub(crate) fn ints_of(t: &Tensor) -> Option<Vec<i64>> {
	if let Ok(v) = t.as_i64() {
		Some(v.to_vec())
	} else {
		t.as_i32()
			.ok()
			.map(|v| v.iter().map(|&x| x as i64).collect())
	}
}

/// The program under construction.
pub(crate) struct Builder {
	pub program: Program,
	/// Weight index of each named constant already interned.
	weight_of: BTreeMap<String, u32>,
}

impl Builder {
	fn new() -> Self {
		Builder {
			program: Program::new(),
			weight_of: BTreeMap::new(),
		}
	}

	/// The node input for `v`, interning constants as weights.
	fn intern(&mut self, v: &Value) -> NodeInput {
		match v {
			Value::Dyn { src, ty } => NodeInput {
				source: *src,
				ty: ty.clone(),
			},
			Value::Const { t, key } => {
				let ty = t.tensor_type();
				if let Some(k) = key {
					if let Some(&j) = self.weight_of.get(k) {
						return NodeInput {
							source: ValueRef::Weight(j),
							ty,
						};
					}
				}
				let j = self.program.weights.len() as u32;
				self.program.weights.push((**t).clone());
				if let Some(k) = key {
					self.weight_of.insert(k.clone(), j);
				}
				NodeInput {
					source: ValueRef::Weight(j),
					ty,
				}
			}
		}
	}

	/// Applies `op` to `inputs`: folds it when every present input is constant, emits a node
	/// otherwise. Every IR op has exactly one output, so every emitted node has one.
	pub fn apply(
		&mut self,
		ctx: &NodeCtx,
		op: Op,
		inputs: &[Option<&Value>],
	) -> Result<Value, CompileError> {
		let tys: Vec<Option<TensorType>> = inputs.iter().map(|v| v.map(Value::ty)).collect();
		let outputs = infer(&op, &tys).map_err(|e| ctx.invalid(format!("{}: {e}", op.name())))?;
		let ty = match <[TensorType; 1]>::try_from(outputs) {
			Ok([ty]) => ty,
			Err(v) => {
				return Err(ctx.invalid(format!(
					"{}: the engine inferred {} outputs, expected one",
					op.name(),
					v.len()
				)))
			}
		};
		if inputs.iter().flatten().all(|v| v.as_const().is_some()) {
			let node = Node {
				op,
				inputs: tys
					.into_iter()
					.enumerate()
					.map(|(i, t)| {
						t.map(|ty| NodeInput {
							source: ValueRef::Input(i as u32),
							ty,
						})
					})
					.collect(),
				outputs: vec![ty],
			};
			let args: Vec<Option<&Tensor>> =
				inputs.iter().map(|v| v.and_then(Value::as_const)).collect();
			let out = execute_node(&node, &args)
				.map_err(|e| ctx.invalid(format!("constant folding {}: {e}", node.op.name())))?
				.pop()
				.ok_or_else(|| ctx.invalid("constant folding produced no output"))?;
			return Ok(Value::anon(out));
		}
		let node_inputs = inputs.iter().map(|v| v.map(|v| self.intern(v))).collect();
		let n = self.program.nodes.len() as u32;
		self.program.nodes.push(Node {
			op,
			inputs: node_inputs,
			outputs: vec![ty.clone()],
		});
		Ok(Value::Dyn {
			src: ValueRef::Node { node: n, output: 0 },
			ty,
		})
	}

	/// A node output that is a program output must be a node output (a trace leaf): wraps inputs
	/// and constants in an `Identity` node.
	fn output_ref(&mut self, v: &Value) -> ValueRef {
		if let Value::Dyn {
			src: src @ ValueRef::Node { .. },
			..
		} = v
		{
			return *src;
		}
		let input = self.intern(v);
		let ty = input.ty.clone();
		let n = self.program.nodes.len() as u32;
		self.program.nodes.push(Node {
			op: Op::Identity,
			inputs: vec![Some(input)],
			outputs: vec![ty],
		});
		ValueRef::Node { node: n, output: 0 }
	}
}

/// What the compiler produces before it is wrapped into a `CompiledModel`.
pub(crate) struct Lowered {
	pub program: Program,
	pub input_names: Vec<String>,
	pub output_names: Vec<String>,
	pub opset: i64,
}

/// Renders an ONNX shape for messages (`?` for free dims).
fn render_shape(shape: &pb::TensorShapeProto) -> String {
	use pb::tensor_shape_proto::dimension::Value as D;
	let dims: Vec<String> = shape
		.dim
		.iter()
		.map(|d| match &d.value {
			Some(D::DimValue(v)) => v.to_string(),
			Some(D::DimParam(p)) => p.clone(),
			None => "?".to_string(),
		})
		.collect();
	format!("[{}]", dims.join(", "))
}

fn tensor_type_of(vi: &pb::ValueInfoProto) -> Result<&pb::type_proto::Tensor, CompileError> {
	match vi.r#type.as_ref().and_then(|t| t.value.as_ref()) {
		Some(pb::type_proto::Value::TensorType(t)) => Ok(t),
		None => Err(CompileError::MissingType {
			name: vi.name.clone(),
		}),
	}
}

/// The concrete type of a graph input: the declared type with the caller's shape, if given.
fn input_type(
	vi: &pb::ValueInfoProto,
	given: Option<&Vec<usize>>,
) -> Result<TensorType, CompileError> {
	use pb::tensor_shape_proto::dimension::Value as D;
	let t = tensor_type_of(vi)?;
	let dtype = dtype_from_onnx(t.elem_type).ok_or_else(|| CompileError::UnsupportedDType {
		name: vi.name.clone(),
		dtype: onnx_dtype_name(t.elem_type),
	})?;
	let shape = match (given, &t.shape) {
		(Some(g), Some(declared)) => {
			let fits = g.len() == declared.dim.len()
				&& g.iter()
					.zip(&declared.dim)
					.all(|(&gd, dd)| match &dd.value {
						Some(D::DimValue(v)) => *v < 0 || *v as u64 == gd as u64,
						_ => true,
					});
			if !fits {
				return Err(CompileError::InputShapeMismatch {
					input: vi.name.clone(),
					given: g.clone(),
					declared: render_shape(declared),
				});
			}
			g.clone()
		}
		(Some(g), None) => g.clone(),
		(None, Some(declared)) => declared
			.dim
			.iter()
			.enumerate()
			.map(|(i, d)| match &d.value {
				Some(D::DimValue(v)) if *v >= 0 => Ok(*v as usize),
				Some(D::DimParam(p)) if !p.is_empty() => Err(CompileError::SymbolicDim {
					input: vi.name.clone(),
					dim: i,
					param: format!("symbolic {p:?}"),
				}),
				_ => Err(CompileError::SymbolicDim {
					input: vi.name.clone(),
					dim: i,
					param: "unknown".into(),
				}),
			})
			.collect::<Result<Vec<_>, _>>()?,
		(None, None) => {
			return Err(CompileError::MissingType {
				name: vi.name.clone(),
			})
		}
	};
	let ty = TensorType::new(dtype, &shape);
	ty.dims().map_err(|e| CompileError::BadTensor {
		name: vi.name.clone(),
		reason: e.to_string(),
	})?;
	Ok(ty)
}

/// Name of a node for messages: its name, else its first output.
fn node_name(n: &pb::NodeProto) -> String {
	if !n.name.is_empty() {
		n.name.clone()
	} else {
		n.output
			.iter()
			.find(|o| !o.is_empty())
			.cloned()
			.unwrap_or_else(|| n.op_type.clone())
	}
}

/// The opset version the model imports for `domain` (`""` and `"ai.onnx"` are the same).
fn opset_of(model: &pb::ModelProto, domain: &str) -> Option<i64> {
	let default = |d: &str| d.is_empty() || d == "ai.onnx";
	model
		.opset_import
		.iter()
		.find(|o| o.domain == domain || (default(domain) && default(&o.domain)))
		.map(|o| o.version)
}

/// Lowers a decoded model.
pub(crate) fn lower_model(
	model: &pb::ModelProto,
	input_shapes: &[(&str, Vec<usize>)],
	constant_inputs: &[(&str, Tensor)],
) -> Result<Lowered, CompileError> {
	let graph = model.graph.as_ref().ok_or(CompileError::NoGraph)?;
	// ONNX before IR version 3 had no opset imports: that is opset 1.
	let opset = opset_of(model, "").unwrap_or(1);

	// Initializers, converted on first use.
	let initializers: BTreeMap<&str, &pb::TensorProto> = graph
		.initializer
		.iter()
		.map(|t| (t.name.as_str(), t))
		.collect();
	let mut values: BTreeMap<String, Value> = BTreeMap::new();

	let mut b = Builder::new();
	let mut given: BTreeMap<&str, &Vec<usize>> = BTreeMap::new();
	for (name, shape) in input_shapes {
		given.insert(name, shape);
	}
	let mut frozen: BTreeMap<&str, &Tensor> = BTreeMap::new();
	for (name, t) in constant_inputs {
		frozen.insert(name, t);
	}
	let mut input_names = Vec::new();
	for vi in &graph.input {
		if initializers.contains_key(vi.name.as_str()) {
			// IR < 4 lists initializers among the inputs: they are constants.
			continue;
		}
		if let Some(t) = frozen.remove(vi.name.as_str()) {
			let ty = input_type(vi, Some(&t.shape().to_vec()))?;
			if ty.dtype != t.dtype() {
				return Err(CompileError::InputShapeMismatch {
					input: vi.name.clone(),
					given: t.shape().to_vec(),
					declared: format!("a {} tensor, not {}", ty.dtype, t.dtype()),
				});
			}
			let v = Value::Const {
				t: Rc::new(t.clone()),
				key: Some(vi.name.clone()),
			};
			values.insert(vi.name.clone(), v);
			continue;
		}
		let ty = input_type(vi, given.remove(vi.name.as_str()))?;
		let i = b.program.inputs.len() as u32;
		b.program.inputs.push(ValueInfo {
			name: vi.name.clone(),
			ty: ty.clone(),
		});
		values.insert(
			vi.name.clone(),
			Value::Dyn {
				src: ValueRef::Input(i),
				ty,
			},
		);
		input_names.push(vi.name.clone());
	}
	if let Some(name) = given.keys().chain(frozen.keys()).next() {
		return Err(CompileError::UnknownInput {
			name: name.to_string(),
		});
	}

	// Liveness: which values the graph outputs depend on.
	let mut live: std::collections::BTreeSet<&str> =
		graph.output.iter().map(|o| o.name.as_str()).collect();
	let mut node_live = vec![false; graph.node.len()];
	for (k, n) in graph.node.iter().enumerate().rev() {
		if n.output
			.iter()
			.any(|o| !o.is_empty() && live.contains(o.as_str()))
		{
			node_live[k] = true;
			live.extend(n.input.iter().filter(|i| !i.is_empty()).map(String::as_str));
		}
	}

	for (k, n) in graph.node.iter().enumerate() {
		if !node_live[k] {
			continue;
		}
		let name = node_name(n);
		// The opset of the node's own domain: an operator's attributes are versioned per domain.
		let node_opset = if n.domain.is_empty() || n.domain == "ai.onnx" {
			opset
		} else {
			opset_of(model, &n.domain).unwrap_or(0)
		};
		let mut ins = Vec::with_capacity(n.input.len());
		for input in &n.input {
			if input.is_empty() {
				ins.push(None);
				continue;
			}
			let v = match values.get(input) {
				Some(v) => v.clone(),
				None => match initializers.get(input.as_str()) {
					Some(t) => {
						let v = Value::Const {
							t: Rc::new(tensor_from_proto(t)?),
							key: Some(input.clone()),
						};
						values.insert(input.clone(), v.clone());
						v
					}
					None => {
						return Err(CompileError::Undefined {
							node: name,
							name: input.clone(),
						})
					}
				},
			};
			ins.push(Some(v));
		}
		let ctx = NodeCtx {
			node: n,
			name,
			opset: node_opset,
			attrs: Attrs::new(n),
			live: n
				.output
				.iter()
				.map(|o| !o.is_empty() && live.contains(o.as_str()))
				.collect(),
		};
		let outs = crate::ops::lower_node(&mut b, &ctx, &ins)?;
		let unread = ctx.attrs.unread();
		if !unread.is_empty() {
			return Err(ctx.unsupported(format!("attribute(s) {}", unread.join(", "))));
		}
		for (o, name) in n.output.iter().enumerate() {
			if name.is_empty() {
				continue;
			}
			if values.contains_key(name) || initializers.contains_key(name.as_str()) {
				// ONNX graphs are in SSA form; a redefinition would make the lowering ambiguous.
				return Err(ctx.invalid(format!("output {name:?} is already defined")));
			}
			match outs.get(o).cloned().flatten() {
				Some(mut v) => {
					if let Value::Const {
						key: key @ None, ..
					} = &mut v
					{
						*key = Some(name.clone());
					}
					values.insert(name.clone(), v);
				}
				None if ctx.output_live(o) => {
					return Err(ctx.unsupported(format!("output {o} ({name:?})")))
				}
				None => {}
			}
		}
	}

	let mut output_names = Vec::new();
	for vi in &graph.output {
		let v = match values.get(&vi.name) {
			Some(v) => v.clone(),
			None => match initializers.get(vi.name.as_str()) {
				Some(t) => Value::Const {
					t: Rc::new(tensor_from_proto(t)?),
					key: Some(vi.name.clone()),
				},
				None => {
					return Err(CompileError::UndefinedOutput {
						name: vi.name.clone(),
					})
				}
			},
		};
		check_output_type(vi, &v.ty())?;
		let source = b.output_ref(&v);
		b.program.outputs.push(OutputInfo {
			name: vi.name.clone(),
			source,
		});
		output_names.push(vi.name.clone());
	}

	b.program
		.validate()
		.map_err(|e| CompileError::InvalidProgram(e.to_string()))?;
	Ok(Lowered {
		program: b.program,
		input_names,
		output_names,
		opset,
	})
}

/// Checks a computed graph output type against the declared one (element type, and every
/// concrete dimension).
fn check_output_type(vi: &pb::ValueInfoProto, computed: &TensorType) -> Result<(), CompileError> {
	use pb::tensor_shape_proto::dimension::Value as D;
	let Some(pb::type_proto::Value::TensorType(t)) =
		vi.r#type.as_ref().and_then(|t| t.value.as_ref())
	else {
		return Ok(());
	};
	let mismatch = |declared: String| CompileError::OutputTypeMismatch {
		name: vi.name.clone(),
		computed: computed.to_string(),
		declared,
	};
	if t.elem_type != 0 && dtype_from_onnx(t.elem_type) != Some(computed.dtype) {
		return Err(mismatch(onnx_dtype_name(t.elem_type)));
	}
	if let Some(shape) = &t.shape {
		let ok = shape.dim.len() == computed.shape.len()
			&& shape
				.dim
				.iter()
				.zip(&computed.shape)
				.all(|(d, &c)| match &d.value {
					Some(D::DimValue(v)) => *v < 0 || *v as u64 == c,
					_ => true,
				});
		if !ok {
			return Err(mismatch(render_shape(shape)));
		}
	}
	Ok(())
}
