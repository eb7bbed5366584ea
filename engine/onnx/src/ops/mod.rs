//! Per-operator lowering: ONNX node (attributes + resolved inputs, per opset) → IR op(s).
//!
//! Every attribute is resolved here into the explicit form the IR wants: negative axes are
//! normalised, `auto_pad` becomes explicit pads, `Reshape`'s `0`/`-1` become concrete
//! dimensions, `Resize` scales become output sizes, legacy attribute forms of old opsets become
//! the same IR as their input forms. Inputs that fix shapes (`Reshape` shape, `Slice` starts,
//! reduction axes, …) must be compile-time constants.
//!
//! One module per operator family, as in the engine's `ops/`; each registers the lowering of
//! each of its operators in the [`Registry`], keyed by domain and operator type.

mod activation;
mod constant;
mod conv;
mod elementwise;
mod matmul;
mod ml;
mod normalization;
mod pool;
mod quant;
mod recurrent;
mod reduce;
mod resize;
mod shape;

use std::{collections::BTreeMap, sync::OnceLock};

use verity_engine::{
	ir::{BinaryOp, Op},
	DType,
};

use crate::{
	error::CompileError,
	lower::{Builder, NodeCtx, Value},
};

/// ONNX operators the front end evaluates only when all their inputs are compile-time
/// constants (typically inside shape computations); anything else is an error.
pub const FOLD_ONLY_OPS: &[&str] = &["Range"];

/// The registry key of ONNX's default domain (`ai.onnx`, also written as the empty string).
const DEFAULT_DOMAIN: &str = "";

/// What a lowering returns: a value for each ONNX output position it produces (`None` for
/// outputs it does not produce; the caller refuses those if they are used).
type Outs = Result<Vec<Option<Value>>, CompileError>;

/// Lowers one node of the operator it is registered for.
type Lowering = Box<dyn Fn(&mut Builder, &NodeCtx, &[Option<Value>]) -> Outs + Send + Sync>;

/// Every operator the front end lowers: domain → operator type → lowering.
struct Registry(BTreeMap<&'static str, BTreeMap<&'static str, Lowering>>);

impl Registry {
	/// Registers an operator of the default domain.
	fn insert(
		&mut self,
		op_type: &'static str,
		lowering: impl Fn(&mut Builder, &NodeCtx, &[Option<Value>]) -> Outs + Send + Sync + 'static,
	) {
		self.insert_in(DEFAULT_DOMAIN, op_type, lowering);
	}

	/// Registers an operator of `domain`.
	fn insert_in(
		&mut self,
		domain: &'static str,
		op_type: &'static str,
		lowering: impl Fn(&mut Builder, &NodeCtx, &[Option<Value>]) -> Outs + Send + Sync + 'static,
	) {
		self.0
			.entry(domain)
			.or_default()
			.insert(op_type, Box::new(lowering));
	}

	/// Registers an operator of the default domain that is `op` applied to the node's inputs as
	/// they are.
	fn insert_simple(&mut self, op_type: &'static str, op: Op) {
		self.insert(op_type, move |b, ctx, ins| simple(b, ctx, ins, op.clone()));
	}

	fn get(&self, domain: &str, op_type: &str) -> Option<&Lowering> {
		let domain = if domain == "ai.onnx" {
			DEFAULT_DOMAIN
		} else {
			domain
		};
		self.0.get(domain)?.get(op_type)
	}
}

fn registry() -> &'static Registry {
	static REGISTRY: OnceLock<Registry> = OnceLock::new();
	REGISTRY.get_or_init(|| {
		let mut r = Registry(BTreeMap::new());
		activation::register(&mut r);
		constant::register(&mut r);
		conv::register(&mut r);
		elementwise::register(&mut r);
		matmul::register(&mut r);
		ml::register(&mut r);
		normalization::register(&mut r);
		pool::register(&mut r);
		quant::register(&mut r);
		recurrent::register(&mut r);
		reduce::register(&mut r);
		resize::register(&mut r);
		shape::register(&mut r);
		r
	})
}

/// Whether the front end lowers `op_type` of `domain` (`""` or `"ai.onnx"` for the default
/// domain) for any input, given concrete input shapes. A model is covered when all its operators
/// are supported and all its tensors have an engine element type (`float32`, `int64`, `int32`,
/// `int8`, `uint8`, `bool`). [`FOLD_ONLY_OPS`] are not supported in this sense.
pub fn is_supported(domain: &str, op_type: &str) -> bool {
	registry().get(domain, op_type).is_some() && !FOLD_ONLY_OPS.contains(&op_type)
}

/// Every supported operator (see [`is_supported`]) as `(domain, op_type)`, the default domain
/// as `""`, sorted.
pub fn supported_ops() -> Vec<(&'static str, &'static str)> {
	registry()
		.0
		.iter()
		.flat_map(|(&domain, ops)| ops.keys().map(move |&op| (domain, op)))
		.filter(|(_, op)| !FOLD_ONLY_OPS.contains(op))
		.collect()
}

/// Lowers one node with its operator's registered lowering.
pub(crate) fn lower_node(b: &mut Builder, ctx: &NodeCtx, ins: &[Option<Value>]) -> Outs {
	// Legacy (opset < 6) memory-reuse hint with no semantics.
	ctx.attrs.ignore(&["consumed_inputs"]);
	match registry().get(&ctx.node.domain, ctx.op_type()) {
		Some(lowering) => lowering(b, ctx, ins),
		None if ctx.node.domain == ml::DOMAIN && ctx.op_type() == "ZipMap" => Err(ctx.unsupported(
			"ZipMap (its output is a sequence of maps, which the engine has no type for): export \
			 the classifier without it (skl2onnx: options={id(model): {'zipmap': False}}; \
			 onnxmltools: zipmap=False) and read the probabilities tensor",
		)),
		None => Err(CompileError::UnsupportedOp {
			op_type: ctx.node.op_type.clone(),
			domain: ctx.node.domain.clone(),
			node: ctx.name.clone(),
			opset: ctx.opset,
		}),
	}
}

// ---------------------------------------------------------------------------------------------
// Helpers shared by the families.

fn one(v: Value) -> Outs {
	Ok(vec![Some(v)])
}

/// Applies `op` to the node's inputs as they are (ONNX positions = IR positions).
fn simple(b: &mut Builder, ctx: &NodeCtx, ins: &[Option<Value>], op: Op) -> Outs {
	let args: Vec<Option<&Value>> = ins.iter().map(|v| v.as_ref()).collect();
	one(b.apply(ctx, op, &args)?)
}

/// Normalises a possibly negative axis against `rank`.
fn norm_axis(ctx: &NodeCtx, axis: i64, rank: usize) -> Result<u32, CompileError> {
	let r = rank as i64;
	let a = if axis < 0 { axis + r } else { axis };
	if (0..r).contains(&a) {
		Ok(a as u32)
	} else {
		Err(ctx.invalid(format!("axis {axis} is out of range for rank {rank}")))
	}
}

/// Normalises, sorts and checks the uniqueness of a list of axes.
fn norm_axes(ctx: &NodeCtx, axes: &[i64], rank: usize) -> Result<Vec<u32>, CompileError> {
	let mut out = axes
		.iter()
		.map(|&a| norm_axis(ctx, a, rank))
		.collect::<Result<Vec<_>, _>>()?;
	out.sort_unstable();
	if out.windows(2).any(|w| w[0] == w[1]) {
		return Err(ctx.invalid("axes are repeated"));
	}
	Ok(out)
}

fn non_negative(ctx: &NodeCtx, what: &str, v: &[i64]) -> Result<Vec<u64>, CompileError> {
	v.iter()
		.map(|&d| {
			u64::try_from(d).map_err(|_| ctx.invalid(format!("{what} has a negative value {d}")))
		})
		.collect()
}

fn to_u32s(ctx: &NodeCtx, what: &str, v: &[i64], min: i64) -> Result<Vec<u32>, CompileError> {
	v.iter()
		.map(|&d| {
			if d < min {
				return Err(ctx.invalid(format!("{what} value {d} is below {min}")));
			}
			u32::try_from(d).map_err(|_| ctx.invalid(format!("{what} value {d} is too large")))
		})
		.collect()
}

/// An int-list attribute with `n` values (default `default` each), each at least `min`.
fn int_list(
	ctx: &NodeCtx,
	name: &str,
	n: usize,
	default: u32,
	min: i64,
) -> Result<Vec<u32>, CompileError> {
	match ctx.attr(ctx.attrs.ints(name))? {
		None => Ok(vec![default; n]),
		Some(v) if v.is_empty() => Ok(vec![default; n]),
		Some(v) if v.len() == n => to_u32s(ctx, name, &v, min),
		Some(v) => Err(ctx.invalid(format!("{name} has {} values, expected {n}", v.len()))),
	}
}

/// Applies `op` to `args` (all present).
fn apply(b: &mut Builder, ctx: &NodeCtx, op: Op, args: &[&Value]) -> Result<Value, CompileError> {
	let args: Vec<Option<&Value>> = args.iter().map(|v| Some(*v)).collect();
	b.apply(ctx, op, &args)
}

fn bin(
	b: &mut Builder,
	ctx: &NodeCtx,
	op: BinaryOp,
	x: &Value,
	y: &Value,
) -> Result<Value, CompileError> {
	apply(b, ctx, Op::Binary(op), &[x, y])
}

fn reshape_to(
	b: &mut Builder,
	ctx: &NodeCtx,
	x: &Value,
	shape: &[usize],
) -> Result<Value, CompileError> {
	let shape = shape.iter().map(|&d| d as u64).collect();
	apply(b, ctx, Op::Reshape { shape }, &[x])
}

/// `x[start..end]` along `axis`.
fn slice_axis(
	b: &mut Builder,
	ctx: &NodeCtx,
	x: &Value,
	axis: u32,
	start: usize,
	end: usize,
) -> Result<Value, CompileError> {
	let op = Op::Slice {
		starts: vec![start as i64],
		ends: vec![end as i64],
		axes: vec![axis],
		steps: vec![1],
	};
	apply(b, ctx, op, &[x])
}

fn transpose_to(
	b: &mut Builder,
	ctx: &NodeCtx,
	x: &Value,
	perm: &[u32],
) -> Result<Value, CompileError> {
	let perm = perm.to_vec();
	apply(b, ctx, Op::Transpose { perm }, &[x])
}

fn cast_to(b: &mut Builder, ctx: &NodeCtx, x: &Value, to: DType) -> Result<Value, CompileError> {
	apply(b, ctx, Op::Cast { to }, &[x])
}
