//! The `ai.onnx.ml` domain (classical machine learning, as skl2onnx and onnxmltools export it),
//! lowered to the engine's own IR ops: every operator below becomes a short chain of gathers,
//! comparisons, selections, products and reductions, so it runs bit-identically natively and in
//! the runtime and each of its nodes is adjudicable by the single-node fraud proof like any other.
//!
//! Where onnxruntime's behaviour goes beyond the specification (which class a binary tree
//! classifier reports, how it fills the second probability column), the lowering follows
//! onnxruntime's documented kernel behaviour and says so; what neither defines clearly is
//! refused with a precise error rather than guessed.

use std::collections::BTreeMap;

use verity_engine::{
	ir::{BinaryOp, F32Bits, Op, ReduceKind, UnaryOp},
	DType, Tensor,
};

use super::{one, Outs, Registry};
use crate::{
	error::CompileError,
	lower::{Builder, NodeCtx, Value},
};

/// The domain's name in ONNX models.
pub(super) const DOMAIN: &str = "ai.onnx.ml";

pub(super) fn register(r: &mut Registry) {
	r.insert_in(DOMAIN, "TreeEnsembleRegressor", tree_ensemble_regressor);
	r.insert_in(DOMAIN, "TreeEnsembleClassifier", tree_ensemble_classifier);
	r.insert_in(DOMAIN, "LinearRegressor", linear_regressor);
	r.insert_in(DOMAIN, "LinearClassifier", linear_classifier);
	r.insert_in(DOMAIN, "Scaler", scaler);
	r.insert_in(DOMAIN, "Normalizer", normalizer);
	r.insert_in(DOMAIN, "Binarizer", binarizer);
	r.insert_in(DOMAIN, "Imputer", imputer);
	r.insert_in(DOMAIN, "ArrayFeatureExtractor", array_feature_extractor);
	r.insert_in(DOMAIN, "OneHotEncoder", one_hot_encoder);
	r.insert_in(DOMAIN, "LabelEncoder", label_encoder);
}

type Res<T> = Result<T, CompileError>;

fn apply(b: &mut Builder, ctx: &NodeCtx, op: Op, args: &[&Value]) -> Res<Value> {
	let args: Vec<Option<&Value>> = args.iter().map(|v| Some(*v)).collect();
	b.apply(ctx, op, &args)
}

fn binary(b: &mut Builder, ctx: &NodeCtx, op: BinaryOp, x: &Value, y: &Value) -> Res<Value> {
	apply(b, ctx, Op::Binary(op), &[x, y])
}

fn unary(b: &mut Builder, ctx: &NodeCtx, op: UnaryOp, x: &Value) -> Res<Value> {
	apply(b, ctx, Op::Unary(op), &[x])
}

fn select(b: &mut Builder, ctx: &NodeCtx, c: &Value, x: &Value, y: &Value) -> Res<Value> {
	apply(b, ctx, Op::Where, &[c, x, y])
}

fn gather(b: &mut Builder, ctx: &NodeCtx, axis: u32, x: &Value, idx: &Value) -> Res<Value> {
	apply(b, ctx, Op::Gather { axis }, &[x, idx])
}

fn reduce(b: &mut Builder, ctx: &NodeCtx, kind: ReduceKind, axis: u32, x: &Value) -> Res<Value> {
	let op = Op::Reduce {
		kind,
		axes: vec![axis],
		keepdims: true,
	};
	apply(b, ctx, op, &[x])
}

fn reshape(b: &mut Builder, ctx: &NodeCtx, x: &Value, shape: &[usize]) -> Res<Value> {
	let shape = shape.iter().map(|&d| d as u64).collect();
	apply(b, ctx, Op::Reshape { shape }, &[x])
}

fn cast(b: &mut Builder, ctx: &NodeCtx, x: &Value, to: DType) -> Res<Value> {
	apply(b, ctx, Op::Cast { to }, &[x])
}

fn f32s(ctx: &NodeCtx, shape: &[usize], v: Vec<f32>) -> Res<Value> {
	let t = Tensor::from_f32(shape, v).map_err(|e| ctx.invalid(e.to_string()))?;
	Ok(Value::anon(t))
}

fn i64s(ctx: &NodeCtx, shape: &[usize], v: Vec<i64>) -> Res<Value> {
	let t = Tensor::from_i64(shape, v).map_err(|e| ctx.invalid(e.to_string()))?;
	Ok(Value::anon(t))
}

fn bools(ctx: &NodeCtx, shape: &[usize], v: Vec<bool>) -> Res<Value> {
	let t = Tensor::from_bool(shape, v).map_err(|e| ctx.invalid(e.to_string()))?;
	Ok(Value::anon(t))
}

fn scalar(v: f32) -> Value {
	Value::anon(Tensor::scalar_f32(v))
}

/// A required float-list attribute.
fn req_floats(ctx: &NodeCtx, name: &str) -> Res<Vec<f32>> {
	ctx.attr(ctx.attrs.floats(name))?
		.ok_or_else(|| ctx.invalid(format!("{name} is required")))
}

/// Refuses the attributes that carry the `double` form of a value list (ml opset 3), which the
/// engine has no element type for.
fn refuse_double_attrs(ctx: &NodeCtx, names: &[&str]) -> Res<()> {
	for name in names {
		if ctx.attrs.has(name) {
			return Err(ctx.unsupported(format!(
				"{name} (double-precision values; the engine computes in float32)"
			)));
		}
	}
	Ok(())
}

/// Integer class labels; string labels are refused (the engine has no string type).
fn int_labels(ctx: &NodeCtx, ints: &str, strings: &str) -> Res<Option<Vec<i64>>> {
	if ctx.attrs.has(strings) {
		return Err(ctx.unsupported(format!(
			"{strings} (the engine has no string type): export with integer class labels"
		)));
	}
	ctx.attr(ctx.attrs.ints(ints))
}

/// The input as float32 rows `[N, F]`: integer inputs are converted (as onnxruntime converts
/// them), a 1-D input is one row.
fn float_rows(b: &mut Builder, ctx: &NodeCtx, x: &Value) -> Res<(Value, usize, usize)> {
	let x = match x.dtype() {
		DType::F32 => x.clone(),
		DType::I64 | DType::I32 => cast(b, ctx, x, DType::F32)?,
		other => {
			return Err(ctx.invalid(format!(
				"input must be float32, int64 or int32, got {other}"
			)))
		}
	};
	match x.shape().as_slice() {
		&[f] => Ok((reshape(b, ctx, &x, &[1, f])?, 1, f)),
		&[n, f] => Ok((x, n, f)),
		s => Err(ctx.invalid(format!("input must be 1-D or 2-D, got shape {s:?}"))),
	}
}

/// `post_transform` on a `[N, C]` score tensor, as onnxruntime's kernels apply it.
///
/// * `NONE`: the scores.
/// * `LOGISTIC`: `1 / (1 + e^-s)` per score (the engine's `Sigmoid`).
/// * `SOFTMAX`: softmax over the classes (the engine's `Softmax`).
/// * `SOFTMAX_ZERO`: softmax over the scores whose magnitude exceeds 1e-7; the others become
///   `s · e^-max` (onnxruntime's definition), all divided by the sum over the former.
/// * `PROBIT` is refused: it needs an inverse error function the engine does not have.
fn post_transform(b: &mut Builder, ctx: &NodeCtx, transform: &str, s: &Value) -> Res<Value> {
	match transform {
		"NONE" => Ok(s.clone()),
		"LOGISTIC" => apply(b, ctx, Op::Sigmoid, &[s]),
		"SOFTMAX" => {
			let axis = (s.rank() - 1) as u32;
			apply(
				b,
				ctx,
				Op::Softmax {
					axis,
					coerce_2d: false,
				},
				&[s],
			)
		}
		"SOFTMAX_ZERO" => {
			let axis = (s.rank() - 1) as u32;
			let max = reduce(b, ctx, ReduceKind::Max, axis, s)?;
			let shifted = binary(b, ctx, BinaryOp::Sub, s, &max)?;
			let e = unary(b, ctx, UnaryOp::Exp, &shifted)?;
			let magnitude = unary(b, ctx, UnaryOp::Abs, s)?;
			let kept = binary(b, ctx, BinaryOp::Greater, &magnitude, &scalar(1e-7))?;
			let zero = scalar(0.0);
			let kept_e = select(b, ctx, &kept, &e, &zero)?;
			let sum = reduce(b, ctx, ReduceKind::Sum, axis, &kept_e)?;
			let neg_max = unary(b, ctx, UnaryOp::Neg, &max)?;
			let e_neg_max = unary(b, ctx, UnaryOp::Exp, &neg_max)?;
			let small = binary(b, ctx, BinaryOp::Mul, s, &e_neg_max)?;
			let num = select(b, ctx, &kept, &e, &small)?;
			binary(b, ctx, BinaryOp::Div, &num, &sum)
		}
		"PROBIT" => Err(ctx.unsupported(
			"post_transform PROBIT (needs an inverse error function the engine does not have)",
		)),
		other => Err(ctx.invalid(format!("unknown post_transform {other:?}"))),
	}
}

fn post_transform_attr(ctx: &NodeCtx) -> Res<String> {
	ctx.attr(ctx.attrs.string_or("post_transform", "NONE"))
}

/// `[l0, l1, …][index]` per row: the label of each row's class index.
fn labels_of(b: &mut Builder, ctx: &NodeCtx, labels: &[i64], index: &Value) -> Res<Value> {
	let table = i64s(ctx, &[labels.len()], labels.to_vec())?;
	gather(b, ctx, 0, &table, index)
}

/// The index of each row's first largest score: `[N, C]` → `[N]`.
fn arg_max_rows(b: &mut Builder, ctx: &NodeCtx, s: &Value) -> Res<Value> {
	let op = Op::ArgExtremum {
		max: true,
		axis: 1,
		keepdims: false,
		select_last_index: false,
	};
	apply(b, ctx, op, &[s])
}

// ---------------------------------------------------------------------------------------------
// Linear models and preprocessing.

/// `LinearRegressor`: `Y = X · Wᵀ + b` with `W` the `targets × F` coefficients (one `Gemm`).
fn linear_regressor(b: &mut Builder, ctx: &NodeCtx, ins: &[Option<Value>]) -> Outs {
	let (x, _, f) = float_rows(b, ctx, ctx.req(ins, 0)?)?;
	let transform = post_transform_attr(ctx)?;
	if transform != "NONE" {
		return Err(ctx.unsupported(format!("post_transform {transform} on a regressor")));
	}
	let coefficients = req_floats(ctx, "coefficients")?;
	let targets = ctx.attr(ctx.attrs.int_or("targets", 1))?;
	let targets = usize::try_from(targets)
		.ok()
		.filter(|&t| t >= 1)
		.ok_or_else(|| ctx.invalid("targets must be positive"))?;
	if coefficients.len() != targets * f {
		return Err(ctx.invalid(format!(
			"{} coefficients for {targets} target(s) of {f} features",
			coefficients.len()
		)));
	}
	let intercepts = ctx
		.attr(ctx.attrs.floats("intercepts"))?
		.unwrap_or_else(|| vec![0.0; targets]);
	if intercepts.len() != targets {
		return Err(ctx.invalid("intercepts must have one value per target"));
	}
	one(affine(b, ctx, &x, coefficients, intercepts, f)?)
}

/// `X · Wᵀ + b` for `W` of `k × f` coefficients (row-major) and `b` of `k`.
fn affine(
	b: &mut Builder,
	ctx: &NodeCtx,
	x: &Value,
	coefficients: Vec<f32>,
	intercepts: Vec<f32>,
	f: usize,
) -> Res<Value> {
	let k = intercepts.len();
	let w = f32s(ctx, &[k, f], coefficients)?;
	let bias = f32s(ctx, &[k], intercepts)?;
	let op = Op::Gemm {
		alpha: F32Bits::new(1.0),
		beta: F32Bits::new(1.0),
		trans_a: false,
		trans_b: true,
	};
	apply(b, ctx, op, &[x, &w, &bias])
}

/// `LinearClassifier`: scores `X · Wᵀ + b` (`E` classes), the label of each row's first largest
/// score (before the transform, as onnxruntime picks it), then `post_transform` on the scores.
/// A single score column (`E = 1`) is refused: onnxruntime derives a second column from it by
/// rules the specification does not state.
fn linear_classifier(b: &mut Builder, ctx: &NodeCtx, ins: &[Option<Value>]) -> Outs {
	let (x, _, f) = float_rows(b, ctx, ctx.req(ins, 0)?)?;
	// Binary or multinomial training: the exported coefficients already say which.
	ctx.attrs.ignore(&["multi_class"]);
	let transform = post_transform_attr(ctx)?;
	let coefficients = req_floats(ctx, "coefficients")?;
	let intercepts = req_floats(ctx, "intercepts")?;
	let labels = int_labels(ctx, "classlabels_ints", "classlabels_strings")?
		.ok_or_else(|| ctx.invalid("classlabels_ints is required"))?;
	let e = intercepts.len();
	if e < 2 {
		return Err(ctx.unsupported(
			"a single score column (onnxruntime derives the second one by unspecified rules)",
		));
	}
	if coefficients.len() != e * f || labels.len() != e {
		return Err(ctx.invalid(format!(
			"{} coefficients, {e} intercepts and {} labels for {f} features",
			coefficients.len(),
			labels.len()
		)));
	}
	let scores = affine(b, ctx, &x, coefficients, intercepts, f)?;
	let index = arg_max_rows(b, ctx, &scores)?;
	let label = labels_of(b, ctx, &labels, &index)?;
	let probabilities = post_transform(b, ctx, &transform, &scores)?;
	Ok(vec![Some(label), Some(probabilities)])
}

/// `Scaler`: `(X − offset) · scale` per feature (one value each, or one for all).
fn scaler(b: &mut Builder, ctx: &NodeCtx, ins: &[Option<Value>]) -> Outs {
	let x = ctx.req(ins, 0)?;
	let x = match x.dtype() {
		DType::F32 => x.clone(),
		DType::I64 | DType::I32 => cast(b, ctx, x, DType::F32)?,
		other => return Err(ctx.invalid(format!("input must be numeric, got {other}"))),
	};
	let f = *x
		.shape()
		.last()
		.ok_or_else(|| ctx.invalid("input is a scalar"))?;
	let per_feature = |name: &str| -> Res<Value> {
		let v = ctx.attr(ctx.attrs.floats(name))?.unwrap_or_default();
		match v.len() {
			0 => Ok(scalar(if name == "scale" { 1.0 } else { 0.0 })),
			1 => Ok(scalar(v[0])),
			n if n == f => f32s(ctx, &[f], v),
			n => Err(ctx.invalid(format!("{name} has {n} values for {f} features"))),
		}
	};
	let (offset, scale) = (per_feature("offset")?, per_feature("scale")?);
	let centred = binary(b, ctx, BinaryOp::Sub, &x, &offset)?;
	one(binary(b, ctx, BinaryOp::Mul, &centred, &scale)?)
}

/// `Normalizer` over each row (the last axis of a 1-D or 2-D input), as onnxruntime computes it:
/// `MAX`: `x / max(x)`; `L1`: `x / Σ|x|`; `L2`: `sign(x) · sqrt(x² / Σx²)`; a row whose norm is
/// zero is passed through.
fn normalizer(b: &mut Builder, ctx: &NodeCtx, ins: &[Option<Value>]) -> Outs {
	let x = ctx.req(ins, 0)?;
	if x.rank() == 0 || x.rank() > 2 {
		return Err(ctx.invalid("input must be 1-D or 2-D"));
	}
	let x = match x.dtype() {
		DType::F32 => x.clone(),
		DType::I64 | DType::I32 => cast(b, ctx, x, DType::F32)?,
		other => return Err(ctx.invalid(format!("input must be numeric, got {other}"))),
	};
	let axis = (x.rank() - 1) as u32;
	let norm = ctx.attr(ctx.attrs.string_or("norm", "MAX"))?;
	let (total, y) = match norm.as_str() {
		"MAX" => {
			let m = reduce(b, ctx, ReduceKind::Max, axis, &x)?;
			let y = binary(b, ctx, BinaryOp::Div, &x, &m)?;
			(m, y)
		}
		"L1" => {
			let a = unary(b, ctx, UnaryOp::Abs, &x)?;
			let s = reduce(b, ctx, ReduceKind::Sum, axis, &a)?;
			let y = binary(b, ctx, BinaryOp::Div, &x, &s)?;
			(s, y)
		}
		"L2" => {
			let sq = binary(b, ctx, BinaryOp::Mul, &x, &x)?;
			let s = reduce(b, ctx, ReduceKind::Sum, axis, &sq)?;
			let q = binary(b, ctx, BinaryOp::Div, &sq, &s)?;
			let r = unary(b, ctx, UnaryOp::Sqrt, &q)?;
			let negative = binary(b, ctx, BinaryOp::Less, &x, &scalar(0.0))?;
			let flipped = unary(b, ctx, UnaryOp::Neg, &r)?;
			let y = select(b, ctx, &negative, &flipped, &r)?;
			(s, y)
		}
		other => return Err(ctx.invalid(format!("unknown norm {other:?}"))),
	};
	let zero = binary(b, ctx, BinaryOp::Equal, &total, &scalar(0.0))?;
	one(select(b, ctx, &zero, &x, &y)?)
}

/// `Binarizer`: `1` where `x > threshold`, else `0`, in the input's type.
fn binarizer(b: &mut Builder, ctx: &NodeCtx, ins: &[Option<Value>]) -> Outs {
	let x = ctx.req(ins, 0)?;
	if x.dtype() != DType::F32 {
		return Err(ctx.invalid(format!("input must be float32, got {}", x.dtype())));
	}
	let threshold = ctx.attr(ctx.attrs.float_or("threshold", 0.0))?;
	let above = binary(b, ctx, BinaryOp::Greater, x, &scalar(threshold))?;
	one(select(b, ctx, &above, &scalar(1.0), &scalar(0.0))?)
}

/// `Imputer`: each element equal to the replaced value (or NaN, when that value is NaN) becomes
/// the imputed value of its feature (one value each, or one for all).
fn imputer(b: &mut Builder, ctx: &NodeCtx, ins: &[Option<Value>]) -> Outs {
	let x = ctx.req(ins, 0)?;
	let f = *x
		.shape()
		.last()
		.ok_or_else(|| ctx.invalid("input is a scalar"))?;
	let (imputed, missing) = match x.dtype() {
		DType::F32 => {
			ctx.attrs
				.ignore(&["imputed_value_int64s", "replaced_value_int64"]);
			let v = req_floats(ctx, "imputed_value_floats")?;
			let replaced = ctx.attr(ctx.attrs.float_or("replaced_value_float", 0.0))?;
			let imputed = match v.len() {
				1 => scalar(v[0]),
				n if n == f => f32s(ctx, &[f], v)?,
				n => return Err(ctx.invalid(format!("{n} imputed values for {f} features"))),
			};
			let missing = if replaced.is_nan() {
				unary(b, ctx, UnaryOp::IsNaN, x)?
			} else {
				binary(b, ctx, BinaryOp::Equal, x, &scalar(replaced))?
			};
			(imputed, missing)
		}
		DType::I64 => {
			ctx.attrs
				.ignore(&["imputed_value_floats", "replaced_value_float"]);
			let v = ctx
				.attr(ctx.attrs.ints("imputed_value_int64s"))?
				.ok_or_else(|| ctx.invalid("imputed_value_int64s is required"))?;
			let replaced = ctx.attr(ctx.attrs.int_or("replaced_value_int64", 0))?;
			let imputed = match v.len() {
				1 => Value::anon(Tensor::scalar_i64(v[0])),
				n if n == f => i64s(ctx, &[f], v)?,
				n => return Err(ctx.invalid(format!("{n} imputed values for {f} features"))),
			};
			let r = Value::anon(Tensor::scalar_i64(replaced));
			(imputed, binary(b, ctx, BinaryOp::Equal, x, &r)?)
		}
		other => return Err(ctx.invalid(format!("input must be float32 or int64, got {other}"))),
	};
	one(select(b, ctx, &missing, &imputed, x)?)
}

/// `ArrayFeatureExtractor`: the elements of `X`'s last axis at the given indices (all of `Y`,
/// flattened), for every leading position; a 1-D `X` gives one row, as onnxruntime shapes it.
/// An index out of range fails the execution.
fn array_feature_extractor(b: &mut Builder, ctx: &NodeCtx, ins: &[Option<Value>]) -> Outs {
	let x = ctx.req(ins, 0)?;
	let y = ctx.req(ins, 1)?;
	if x.rank() == 0 {
		return Err(ctx.invalid("X must have rank at least 1"));
	}
	let k: usize = y.shape().iter().product();
	let idx = reshape(b, ctx, y, &[k])?;
	let axis = (x.rank() - 1) as u32;
	let out = gather(b, ctx, axis, x, &idx)?;
	if x.rank() == 1 {
		return one(reshape(b, ctx, &out, &[1, k])?);
	}
	one(out)
}

/// `x[..., None] == keys` for a 1-D constant `keys`: `X.shape + [K]`, boolean.
fn matches(b: &mut Builder, ctx: &NodeCtx, x: &Value, keys: Value) -> Res<Value> {
	let axis = x.rank() as u32;
	let column = apply(b, ctx, Op::Unsqueeze { axes: vec![axis] }, &[x])?;
	binary(b, ctx, BinaryOp::Equal, &column, &keys)
}

/// `OneHotEncoder` on integer categories: `X.shape + [C]`, `1.0` where the value is category
/// `c`. An unknown value gives a row of zeros (`zeros = 1`, the default); `zeros = 0`, under which
/// onnxruntime fails the run on one, is refused.
fn one_hot_encoder(b: &mut Builder, ctx: &NodeCtx, ins: &[Option<Value>]) -> Outs {
	let x = ctx.req(ins, 0)?;
	if ctx.attrs.has("cats_strings") {
		return Err(ctx.unsupported("cats_strings (the engine has no string type)"));
	}
	let cats = ctx
		.attr(ctx.attrs.ints("cats_int64s"))?
		.ok_or_else(|| ctx.invalid("cats_int64s is required"))?;
	if ctx.attr(ctx.attrs.int_or("zeros", 1))? == 0 {
		return Err(ctx.unsupported("zeros = 0 (an unknown category would fail the run)"));
	}
	let x = match x.dtype() {
		DType::I64 => x.clone(),
		DType::I32 => cast(b, ctx, x, DType::I64)?,
		other => return Err(ctx.invalid(format!("input must be int64 or int32, got {other}"))),
	};
	let n = cats.len();
	let hit = matches(b, ctx, &x, i64s(ctx, &[n], cats)?)?;
	one(cast(b, ctx, &hit, DType::F32)?)
}

/// `LabelEncoder` between int64 and float32 keys and values (the `_int64s` / `_floats`
/// attributes): each element becomes the value of the key it equals, or the default. Keys must be
/// distinct; a NaN key matches nothing. String keys or values are refused.
fn label_encoder(b: &mut Builder, ctx: &NodeCtx, ins: &[Option<Value>]) -> Outs {
	let x = ctx.req(ins, 0)?;
	for name in [
		"keys_strings",
		"values_strings",
		"keys_tensor",
		"values_tensor",
		"default_tensor",
	] {
		if ctx.attrs.has(name) {
			return Err(ctx.unsupported(format!("{name} (only int64 and float keys and values)")));
		}
	}
	ctx.attrs.ignore(&["default_string"]);
	let int_keys = ctx.attr(ctx.attrs.ints("keys_int64s"))?;
	let float_keys = ctx.attr(ctx.attrs.floats("keys_floats"))?;
	let int_values = ctx.attr(ctx.attrs.ints("values_int64s"))?;
	let float_values = ctx.attr(ctx.attrs.floats("values_floats"))?;
	let (keys, count) = match (int_keys, float_keys) {
		(Some(k), None) => {
			let mut sorted = k.clone();
			sorted.sort_unstable();
			if sorted.windows(2).any(|w| w[0] == w[1]) {
				return Err(ctx.invalid("keys_int64s has repeated keys"));
			}
			if x.dtype() != DType::I64 {
				return Err(
					ctx.invalid(format!("int64 keys need an int64 input, got {}", x.dtype()))
				);
			}
			let n = k.len();
			(i64s(ctx, &[n], k)?, n)
		}
		(None, Some(k)) => {
			let mut bits: Vec<u32> = k.iter().map(|v| v.to_bits()).collect();
			bits.sort_unstable();
			if bits.windows(2).any(|w| w[0] == w[1]) {
				return Err(ctx.invalid("keys_floats has repeated keys"));
			}
			if x.dtype() != DType::F32 {
				return Err(ctx.invalid(format!(
					"float keys need a float32 input, got {}",
					x.dtype()
				)));
			}
			let n = k.len();
			(f32s(ctx, &[n], k)?, n)
		}
		_ => return Err(ctx.invalid("exactly one of keys_int64s and keys_floats is required")),
	};
	let (values, default) = match (int_values, float_values) {
		(Some(v), None) if v.len() == count => {
			ctx.attrs.ignore(&["default_float"]);
			let d = ctx.attr(ctx.attrs.int_or("default_int64", -1))?;
			(i64s(ctx, &[count], v)?, Value::anon(Tensor::scalar_i64(d)))
		}
		(None, Some(v)) if v.len() == count => {
			ctx.attrs.ignore(&["default_int64"]);
			let d = ctx.attr(ctx.attrs.float_or("default_float", -0.0))?;
			(f32s(ctx, &[count], v)?, scalar(d))
		}
		_ => {
			return Err(ctx.invalid(
				"exactly one of values_int64s and values_floats is required, one value per key",
			))
		}
	};
	if count == 0 {
		return Err(ctx.invalid("no keys"));
	}
	let hit = matches(b, ctx, x, keys)?;
	let as_f32 = cast(b, ctx, &hit, DType::F32)?;
	let last = x.rank() as u32;
	let first = Op::ArgExtremum {
		max: true,
		axis: last,
		keepdims: false,
		select_last_index: false,
	};
	let index = apply(b, ctx, first, &[&as_f32])?;
	let any = Op::Reduce {
		kind: ReduceKind::Max,
		axes: vec![last],
		keepdims: false,
	};
	let found = apply(b, ctx, any, &[&as_f32])?;
	let found = cast(b, ctx, &found, DType::Bool)?;
	let value = gather(b, ctx, 0, &values, &index)?;
	one(select(b, ctx, &found, &value, &default)?)
}

// ---------------------------------------------------------------------------------------------
// Tree ensembles.

/// A branch node's test of its feature value `x` against its threshold `t`; a leaf is its own
/// child both ways.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Mode {
	Leq,
	Lt,
	Gte,
	Gt,
	Eq,
	Neq,
	Leaf,
}

/// Every tree's nodes in one table (a node's *slot* indexes all per-node arrays; trees in
/// ascending tree id, each tree's nodes in attribute order), with the leaves' summed weights.
struct Forest {
	feature: Vec<i64>,
	threshold: Vec<f32>,
	mode: Vec<Mode>,
	true_child: Vec<i64>,
	false_child: Vec<i64>,
	missing_true: Vec<bool>,
	/// Slot of each tree's root, in tree order.
	roots: Vec<i64>,
	/// Branch levels of the deepest tree.
	depth: usize,
	/// Per slot and output column: the sum of the leaf's weights (0 for branches).
	weights: Vec<f32>,
	/// Per slot and output column: whether the leaf has a weight for that column.
	has_weight: Vec<bool>,
	columns: usize,
}

impl Forest {
	/// Reads the `nodes_*` attributes and the leaf weights of `prefix` (`target` or `class`),
	/// checking that each tree is a tree over features `< features`.
	fn parse(ctx: &NodeCtx, prefix: &str, columns: usize, features: usize) -> Res<Forest> {
		let ints = |name: &str| -> Res<Vec<i64>> {
			ctx.attr(ctx.attrs.ints(name))?
				.ok_or_else(|| ctx.invalid(format!("{name} is required")))
		};
		let tree_ids = ints("nodes_treeids")?;
		let node_ids = ints("nodes_nodeids")?;
		let feature_ids = ints("nodes_featureids")?;
		let values = req_floats(ctx, "nodes_values")?;
		let modes = ctx
			.attr(ctx.attrs.strings("nodes_modes"))?
			.ok_or_else(|| ctx.invalid("nodes_modes is required"))?;
		let true_ids = ints("nodes_truenodeids")?;
		let false_ids = ints("nodes_falsenodeids")?;
		let n = tree_ids.len();
		let missing = ctx
			.attr(ctx.attrs.ints("nodes_missing_value_tracks_true"))?
			.unwrap_or_else(|| vec![0; n]);
		// Hit rates only guide a node order for speed; the result does not depend on them.
		ctx.attrs.ignore(&["nodes_hitrates"]);
		let lens = [
			node_ids.len(),
			feature_ids.len(),
			values.len(),
			modes.len(),
			true_ids.len(),
			false_ids.len(),
			missing.len(),
		];
		if lens.iter().any(|&l| l != n) || n == 0 {
			return Err(ctx.invalid("the nodes_* attributes must all have one value per node"));
		}

		// Slots: trees in ascending id, nodes of a tree in attribute order.
		let mut by_tree: BTreeMap<i64, Vec<usize>> = BTreeMap::new();
		for (i, &t) in tree_ids.iter().enumerate() {
			by_tree.entry(t).or_default().push(i);
		}
		let mut slot_of: BTreeMap<(i64, i64), usize> = BTreeMap::new();
		let mut order = Vec::with_capacity(n);
		for (&t, nodes) in &by_tree {
			for &i in nodes {
				if slot_of.insert((t, node_ids[i]), order.len()).is_some() {
					return Err(ctx.invalid(format!("tree {t} repeats node {}", node_ids[i])));
				}
				order.push(i);
			}
		}
		let mut forest = Forest {
			feature: vec![0; n],
			threshold: vec![0.0; n],
			mode: vec![Mode::Leaf; n],
			true_child: (0..n as i64).collect(),
			false_child: (0..n as i64).collect(),
			missing_true: vec![false; n],
			roots: Vec::new(),
			depth: 0,
			weights: vec![0.0; n * columns],
			has_weight: vec![false; n * columns],
			columns,
		};
		let mut is_child = vec![false; n];
		for (slot, &i) in order.iter().enumerate() {
			let mode = match modes[i].as_str() {
				"BRANCH_LEQ" => Mode::Leq,
				"BRANCH_LT" => Mode::Lt,
				"BRANCH_GTE" => Mode::Gte,
				"BRANCH_GT" => Mode::Gt,
				"BRANCH_EQ" => Mode::Eq,
				"BRANCH_NEQ" => Mode::Neq,
				"LEAF" => Mode::Leaf,
				other => return Err(ctx.invalid(format!("unknown node mode {other:?}"))),
			};
			forest.mode[slot] = mode;
			if mode == Mode::Leaf {
				continue;
			}
			let t = tree_ids[i];
			let child = |id: i64| {
				slot_of.get(&(t, id)).copied().ok_or_else(|| {
					ctx.invalid(format!("tree {t}: node {} has no child {id}", node_ids[i]))
				})
			};
			let (yes, no) = (child(true_ids[i])?, child(false_ids[i])?);
			is_child[yes] = true;
			is_child[no] = true;
			forest.true_child[slot] = yes as i64;
			forest.false_child[slot] = no as i64;
			let f = feature_ids[i];
			if f < 0 || f as usize >= features {
				return Err(ctx.invalid(format!(
					"tree {t}: node {} tests feature {f} of an input with {features}",
					node_ids[i]
				)));
			}
			forest.feature[slot] = f;
			forest.threshold[slot] = values[i];
			forest.missing_true[slot] = missing[i] != 0;
		}

		// One root per tree, and every tree a tree: no node reached twice.
		let mut start = 0;
		let mut reached = vec![false; n];
		for (&t, nodes) in &by_tree {
			let range = start..start + nodes.len();
			start = range.end;
			let mut roots = range.clone().filter(|&s| !is_child[s]);
			let root = roots
				.next()
				.ok_or_else(|| ctx.invalid(format!("tree {t} has no root (a cycle)")))?;
			if roots.next().is_some() {
				return Err(ctx.invalid(format!("tree {t} has more than one root")));
			}
			forest.roots.push(root as i64);
			let mut stack = vec![(root, 0usize)];
			while let Some((s, level)) = stack.pop() {
				if std::mem::replace(&mut reached[s], true) {
					return Err(ctx.invalid(format!("tree {t} reaches a node twice")));
				}
				if forest.mode[s] == Mode::Leaf {
					forest.depth = forest.depth.max(level);
				} else {
					stack.push((forest.true_child[s] as usize, level + 1));
					stack.push((forest.false_child[s] as usize, level + 1));
				}
			}
		}

		let w_trees = ints(&format!("{prefix}_treeids"))?;
		let w_nodes = ints(&format!("{prefix}_nodeids"))?;
		let w_ids = ints(&format!("{prefix}_ids"))?;
		let w_values = req_floats(ctx, &format!("{prefix}_weights"))?;
		let m = w_trees.len();
		if w_nodes.len() != m || w_ids.len() != m || w_values.len() != m {
			return Err(ctx.invalid(format!(
				"the {prefix}_* attributes must all have one value per weight"
			)));
		}
		for k in 0..m {
			let slot = *slot_of.get(&(w_trees[k], w_nodes[k])).ok_or_else(|| {
				ctx.invalid(format!(
					"a weight names node {} of tree {}, which does not exist",
					w_nodes[k], w_trees[k]
				))
			})?;
			if forest.mode[slot] != Mode::Leaf {
				return Err(ctx.invalid(format!(
					"a weight names node {} of tree {}, which is not a leaf",
					w_nodes[k], w_trees[k]
				)));
			}
			let c = usize::try_from(w_ids[k])
				.ok()
				.filter(|&c| c < columns)
				.ok_or_else(|| ctx.invalid(format!("{prefix} id {} is out of range", w_ids[k])))?;
			forest.weights[slot * columns + c] += w_values[k];
			forest.has_weight[slot * columns + c] = true;
		}
		Ok(forest)
	}

	/// Lowers the traversal of every tree for every row of `x` (`[N, F]` float32): one level per
	/// step, all trees at once. `idx` (`[N, trees]`) starts at the roots; each step reads every
	/// current node's feature and threshold, evaluates its test (a NaN feature value passes it
	/// only where `nodes_missing_value_tracks_true` says so, and fails every comparison but
	/// `BRANCH_NEQ`) and moves to the true or the false child; leaves stay put. Returns the leaf
	/// slots reached, `[N, trees]`.
	fn traverse(
		&self,
		b: &mut Builder,
		ctx: &NodeCtx,
		x: &Value,
		n: usize,
		f: usize,
	) -> Res<Value> {
		let trees = self.roots.len();
		let slots = self.mode.len();
		let start: Vec<i64> = (0..n).flat_map(|_| self.roots.iter().copied()).collect();
		let mut idx = i64s(ctx, &[n, trees], start)?;
		if self.depth == 0 {
			return Ok(idx);
		}
		let flat_x = reshape(b, ctx, x, &[n * f])?;
		let row_base = i64s(ctx, &[n, 1], (0..n as i64).map(|r| r * f as i64).collect())?;
		let features = i64s(ctx, &[slots], self.feature.clone())?;
		let thresholds = f32s(ctx, &[slots], self.threshold.clone())?;
		let true_child = i64s(ctx, &[slots], self.true_child.clone())?;
		let false_child = i64s(ctx, &[slots], self.false_child.clone())?;
		let tracks_missing = self.missing_true.iter().any(|&m| m);
		let missing_true = bools(ctx, &[slots], self.missing_true.clone())?;
		let mut branch_modes: Vec<Mode> = self
			.mode
			.iter()
			.copied()
			.filter(|&m| m != Mode::Leaf)
			.collect();
		branch_modes.sort_unstable();
		branch_modes.dedup();
		for _ in 0..self.depth {
			let feature = gather(b, ctx, 0, &features, &idx)?;
			let at = binary(b, ctx, BinaryOp::Add, &feature, &row_base)?;
			let value = gather(b, ctx, 0, &flat_x, &at)?;
			let threshold = gather(b, ctx, 0, &thresholds, &idx)?;
			let mut test: Option<Value> = None;
			for &mode in &branch_modes {
				let t = match mode {
					Mode::Leq => binary(b, ctx, BinaryOp::LessOrEqual, &value, &threshold)?,
					Mode::Lt => binary(b, ctx, BinaryOp::Less, &value, &threshold)?,
					Mode::Gte => binary(b, ctx, BinaryOp::GreaterOrEqual, &value, &threshold)?,
					Mode::Gt => binary(b, ctx, BinaryOp::Greater, &value, &threshold)?,
					Mode::Eq => binary(b, ctx, BinaryOp::Equal, &value, &threshold)?,
					Mode::Neq => {
						let eq = binary(b, ctx, BinaryOp::Equal, &value, &threshold)?;
						unary(b, ctx, UnaryOp::Not, &eq)?
					}
					Mode::Leaf => continue,
				};
				// With one mode for every branch (what exporters write) no selection is needed.
				test = Some(match test {
					None => t,
					Some(other) => {
						let table = bools(
							ctx,
							&[slots],
							self.mode.iter().map(|&m| m == mode).collect(),
						)?;
						let is_mode = gather(b, ctx, 0, &table, &idx)?;
						select(b, ctx, &is_mode, &t, &other)?
					}
				});
			}
			let mut test = test.ok_or_else(|| ctx.invalid("no branch node"))?;
			if tracks_missing {
				let nan = unary(b, ctx, UnaryOp::IsNaN, &value)?;
				let tracks = gather(b, ctx, 0, &missing_true, &idx)?;
				let to_true = binary(b, ctx, BinaryOp::And, &nan, &tracks)?;
				test = binary(b, ctx, BinaryOp::Or, &test, &to_true)?;
			}
			let yes = gather(b, ctx, 0, &true_child, &idx)?;
			let no = gather(b, ctx, 0, &false_child, &idx)?;
			idx = select(b, ctx, &test, &yes, &no)?;
		}
		Ok(idx)
	}

	/// Per row and column, the sum over trees (in tree order, by the engine's `ReduceSum`) of the
	/// reached leaves' weights: `[N, columns]`.
	fn sum(&self, b: &mut Builder, ctx: &NodeCtx, leaves: &Value) -> Res<Value> {
		let slots = self.mode.len();
		let table = f32s(ctx, &[slots, self.columns], self.weights.clone())?;
		let per_tree = gather(b, ctx, 0, &table, leaves)?;
		let op = Op::Reduce {
			kind: ReduceKind::Sum,
			axes: vec![1],
			keepdims: false,
		};
		apply(b, ctx, op, &[&per_tree])
	}

	/// Per row and column, whether any reached leaf has a weight for the column: `[N, columns]`.
	fn scored(&self, b: &mut Builder, ctx: &NodeCtx, leaves: &Value) -> Res<Value> {
		let slots = self.mode.len();
		let table = bools(ctx, &[slots, self.columns], self.has_weight.clone())?;
		let per_tree = gather(b, ctx, 0, &table, leaves)?;
		let as_u8 = cast(b, ctx, &per_tree, DType::U8)?;
		let op = Op::Reduce {
			kind: ReduceKind::Max,
			axes: vec![1],
			keepdims: false,
		};
		let any = apply(b, ctx, op, &[&as_u8])?;
		cast(b, ctx, &any, DType::Bool)
	}

	fn every_leaf_scores_every_column(&self) -> bool {
		self.mode
			.iter()
			.zip(self.has_weight.chunks(self.columns))
			.all(|(&m, has)| m != Mode::Leaf || has.iter().all(|&h| h))
	}

	fn all_weights_non_negative(&self) -> bool {
		self.weights.iter().all(|&w| w >= 0.0)
	}
}

/// `aggregate_function` `SUM` (the default) or `AVERAGE` (the sum divided by the number of
/// trees); `MIN` and `MAX` are refused.
fn aggregate(b: &mut Builder, ctx: &NodeCtx, forest: &Forest, sum: Value) -> Res<Value> {
	match ctx
		.attr(ctx.attrs.string_or("aggregate_function", "SUM"))?
		.as_str()
	{
		"SUM" => Ok(sum),
		"AVERAGE" => {
			let trees = scalar(forest.roots.len() as f32);
			binary(b, ctx, BinaryOp::Div, &sum, &trees)
		}
		"MIN" | "MAX" => Err(ctx.unsupported("aggregate_function MIN or MAX")),
		other => Err(ctx.invalid(format!("unknown aggregate_function {other:?}"))),
	}
}

/// `TreeEnsembleRegressor`: `Y[n, t]` = the aggregate over trees of the weights for target `t`
/// of the leaf row `n` reaches in each tree, plus `base_values[t]`. One target: the one base
/// value is added, and any `post_transform` but `NONE` is refused (onnxruntime ignores it); more
/// targets: base values (one per target) are added, then `post_transform`.
fn tree_ensemble_regressor(b: &mut Builder, ctx: &NodeCtx, ins: &[Option<Value>]) -> Outs {
	refuse_double_attrs(
		ctx,
		&[
			"nodes_values_as_tensor",
			"target_weights_as_tensor",
			"base_values_as_tensor",
			"nodes_hitrates_as_tensor",
		],
	)?;
	let (x, n, f) = float_rows(b, ctx, ctx.req(ins, 0)?)?;
	let targets = ctx.attr(ctx.attrs.int_or("n_targets", 1))?;
	let targets = usize::try_from(targets)
		.ok()
		.filter(|&t| t >= 1)
		.ok_or_else(|| ctx.invalid("n_targets must be positive"))?;
	let forest = Forest::parse(ctx, "target", targets, f)?;
	let transform = post_transform_attr(ctx)?;
	let base = ctx
		.attr(ctx.attrs.floats("base_values"))?
		.unwrap_or_default();
	if !(base.is_empty() || base.len() == targets) {
		return Err(ctx.invalid(format!(
			"{} base values for {targets} target(s)",
			base.len()
		)));
	}
	if targets == 1 && transform != "NONE" {
		return Err(ctx.unsupported(format!(
			"post_transform {transform} on a single-target regressor"
		)));
	}
	let leaves = forest.traverse(b, ctx, &x, n, f)?;
	let sum = forest.sum(b, ctx, &leaves)?;
	let mut y = aggregate(b, ctx, &forest, sum)?;
	if !base.is_empty() {
		y = binary(b, ctx, BinaryOp::Add, &y, &f32s(ctx, &[targets], base)?)?;
	}
	one(post_transform(b, ctx, &transform, &y)?)
}

/// `TreeEnsembleClassifier` over `C` integer class labels, as onnxruntime computes it.
///
/// * `C > 2`: scores `[N, C]` = the summed class weights of the reached leaves plus
///   `base_values`; the label is that of the first largest score among the classes some reached
///   leaf scores (all, with base values); then `post_transform`.
/// * `C = 2` with every weight on class 0 (what skl2onnx, onnxmltools and XGBoost write): one
///   score `s` per row (plus the one base value). With non-negative weights (probabilities, e.g.
///   a random forest) the label is the second class where `s > 0.5`, and the probabilities are
///   `[1 − s, s]` whatever the transform; otherwise the label is the second class where `s > 0`,
///   and the probabilities are `[σ(−s), σ(s)]` under `LOGISTIC`, else `[−s, s]` for the second
///   class and `[s, −s]` for the first.
///
/// Other two-class layouts are refused.
fn tree_ensemble_classifier(b: &mut Builder, ctx: &NodeCtx, ins: &[Option<Value>]) -> Outs {
	refuse_double_attrs(
		ctx,
		&[
			"nodes_values_as_tensor",
			"class_weights_as_tensor",
			"base_values_as_tensor",
			"nodes_hitrates_as_tensor",
		],
	)?;
	let (x, n, f) = float_rows(b, ctx, ctx.req(ins, 0)?)?;
	let labels = int_labels(ctx, "classlabels_int64s", "classlabels_strings")?
		.ok_or_else(|| ctx.invalid("classlabels_int64s is required"))?;
	let classes = labels.len();
	if classes < 2 {
		return Err(ctx.invalid("at least two class labels are required"));
	}
	let transform = post_transform_attr(ctx)?;
	let base = ctx
		.attr(ctx.attrs.floats("base_values"))?
		.unwrap_or_default();
	let class_ids = ctx.attr(ctx.attrs.ints("class_ids"))?.unwrap_or_default();
	if classes == 2 {
		if class_ids.iter().any(|&c| c != 0) {
			return Err(ctx.unsupported(
				"a two-class ensemble with weights for both classes (onnxruntime's rules for \
				 it are unspecified)",
			));
		}
		if base.len() > 1 {
			return Err(ctx.unsupported("two base values on a single-score two-class ensemble"));
		}
		if transform == "PROBIT" {
			return Err(ctx.unsupported("post_transform PROBIT"));
		}
		let forest = Forest::parse(ctx, "class", 1, f)?;
		let leaves = forest.traverse(b, ctx, &x, n, f)?;
		let sum = forest.sum(b, ctx, &leaves)?;
		let mut s = aggregate(b, ctx, &forest, sum)?;
		if let Some(&b0) = base.first() {
			s = binary(b, ctx, BinaryOp::Add, &s, &scalar(b0))?;
		}
		let probabilities_like = forest.all_weights_non_negative();
		let cut = if probabilities_like { 0.5 } else { 0.0 };
		let second = binary(b, ctx, BinaryOp::Greater, &s, &scalar(cut))?; // [N, 1]
		let second_flat = reshape(b, ctx, &second, &[n])?;
		let index = cast(b, ctx, &second_flat, DType::I64)?;
		let label = labels_of(b, ctx, &labels, &index)?;
		let concat = |b: &mut Builder, first: &Value, other: &Value| {
			apply(b, ctx, Op::Concat { axis: 1 }, &[first, other])
		};
		let neg = unary(b, ctx, UnaryOp::Neg, &s)?;
		let probabilities = if probabilities_like {
			let complement = binary(b, ctx, BinaryOp::Sub, &scalar(1.0), &s)?;
			concat(b, &complement, &s)?
		} else if transform == "LOGISTIC" {
			let p0 = apply(b, ctx, Op::Sigmoid, &[&neg])?;
			let p1 = apply(b, ctx, Op::Sigmoid, &[&s])?;
			concat(b, &p0, &p1)?
		} else {
			let if_second = concat(b, &neg, &s)?;
			let if_first = concat(b, &s, &neg)?;
			select(b, ctx, &second, &if_second, &if_first)?
		};
		return Ok(vec![Some(label), Some(probabilities)]);
	}
	if !(base.is_empty() || base.len() == classes) {
		return Err(ctx.invalid(format!("{} base values for {classes} classes", base.len())));
	}
	let forest = Forest::parse(ctx, "class", classes, f)?;
	let leaves = forest.traverse(b, ctx, &x, n, f)?;
	let sum = forest.sum(b, ctx, &leaves)?;
	let mut scores = aggregate(b, ctx, &forest, sum)?;
	let candidates = if base.is_empty() && !forest.every_leaf_scores_every_column() {
		// Classes no reached leaf scores are not candidates for the label.
		let scored = forest.scored(b, ctx, &leaves)?;
		select(b, ctx, &scored, &scores, &scalar(f32::NEG_INFINITY))?
	} else {
		if !base.is_empty() {
			scores = binary(
				b,
				ctx,
				BinaryOp::Add,
				&scores,
				&f32s(ctx, &[classes], base)?,
			)?;
		}
		scores.clone()
	};
	let index = arg_max_rows(b, ctx, &candidates)?;
	let label = labels_of(b, ctx, &labels, &index)?;
	let probabilities = post_transform(b, ctx, &transform, &scores)?;
	Ok(vec![Some(label), Some(probabilities)])
}
