//! The `ai.onnx.ml` domain (classical machine learning, as skl2onnx and onnxmltools export it),
//! lowered to the engine's own IR ops: every operator below becomes a short chain of gathers,
//! comparisons, selections, products and reductions, so it runs bit-identically natively and in
//! the runtime and each of its nodes is adjudicable by the single-node fraud proof like any other.
//!
//! Where onnxruntime's behaviour goes beyond the specification (which class a binary tree
//! classifier reports, how it fills the second probability column), the lowering follows
//! onnxruntime's documented kernel behaviour and says so; what neither defines clearly is
//! refused with a precise error rather than guessed.

mod tree;

use verity_engine::{
	ir::{BinaryOp, F32Bits, Op, ReduceKind, UnaryOp},
	DType, Tensor,
};

use super::{apply, bin, cast_to, one, reshape_to, Outs, Registry};
use crate::{
	error::CompileError,
	lower::{Builder, NodeCtx, Value},
};

/// The domain's name in ONNX models.
pub(super) const DOMAIN: &str = "ai.onnx.ml";

pub(super) fn register(r: &mut Registry) {
	r.insert_in(DOMAIN, "TreeEnsembleRegressor", tree::regressor);
	r.insert_in(DOMAIN, "TreeEnsembleClassifier", tree::classifier);
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
		DType::I64 | DType::I32 => cast_to(b, ctx, x, DType::F32)?,
		other => {
			return Err(ctx.invalid(format!(
				"input must be float32, int64 or int32, got {other}"
			)))
		}
	};
	match x.shape().as_slice() {
		&[f] => Ok((reshape_to(b, ctx, &x, &[1, f])?, 1, f)),
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
			let shifted = bin(b, ctx, BinaryOp::Sub, s, &max)?;
			let e = unary(b, ctx, UnaryOp::Exp, &shifted)?;
			let magnitude = unary(b, ctx, UnaryOp::Abs, s)?;
			let kept = bin(b, ctx, BinaryOp::Greater, &magnitude, &scalar(1e-7))?;
			let zero = scalar(0.0);
			let kept_e = select(b, ctx, &kept, &e, &zero)?;
			let sum = reduce(b, ctx, ReduceKind::Sum, axis, &kept_e)?;
			let neg_max = unary(b, ctx, UnaryOp::Neg, &max)?;
			let e_neg_max = unary(b, ctx, UnaryOp::Exp, &neg_max)?;
			let small = bin(b, ctx, BinaryOp::Mul, s, &e_neg_max)?;
			let num = select(b, ctx, &kept, &e, &small)?;
			bin(b, ctx, BinaryOp::Div, &num, &sum)
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
		DType::I64 | DType::I32 => cast_to(b, ctx, x, DType::F32)?,
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
	let centred = bin(b, ctx, BinaryOp::Sub, &x, &offset)?;
	one(bin(b, ctx, BinaryOp::Mul, &centred, &scale)?)
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
		DType::I64 | DType::I32 => cast_to(b, ctx, x, DType::F32)?,
		other => return Err(ctx.invalid(format!("input must be numeric, got {other}"))),
	};
	let axis = (x.rank() - 1) as u32;
	let norm = ctx.attr(ctx.attrs.string_or("norm", "MAX"))?;
	let (total, y) = match norm.as_str() {
		"MAX" => {
			let m = reduce(b, ctx, ReduceKind::Max, axis, &x)?;
			let y = bin(b, ctx, BinaryOp::Div, &x, &m)?;
			(m, y)
		}
		"L1" => {
			let a = unary(b, ctx, UnaryOp::Abs, &x)?;
			let s = reduce(b, ctx, ReduceKind::Sum, axis, &a)?;
			let y = bin(b, ctx, BinaryOp::Div, &x, &s)?;
			(s, y)
		}
		"L2" => {
			let sq = bin(b, ctx, BinaryOp::Mul, &x, &x)?;
			let s = reduce(b, ctx, ReduceKind::Sum, axis, &sq)?;
			let q = bin(b, ctx, BinaryOp::Div, &sq, &s)?;
			let r = unary(b, ctx, UnaryOp::Sqrt, &q)?;
			let negative = bin(b, ctx, BinaryOp::Less, &x, &scalar(0.0))?;
			let flipped = unary(b, ctx, UnaryOp::Neg, &r)?;
			let y = select(b, ctx, &negative, &flipped, &r)?;
			(s, y)
		}
		other => return Err(ctx.invalid(format!("unknown norm {other:?}"))),
	};
	let zero = bin(b, ctx, BinaryOp::Equal, &total, &scalar(0.0))?;
	one(select(b, ctx, &zero, &x, &y)?)
}

/// `Binarizer`: `1` where `x > threshold`, else `0`, in the input's type.
fn binarizer(b: &mut Builder, ctx: &NodeCtx, ins: &[Option<Value>]) -> Outs {
	let x = ctx.req(ins, 0)?;
	if x.dtype() != DType::F32 {
		return Err(ctx.invalid(format!("input must be float32, got {}", x.dtype())));
	}
	let threshold = ctx.attr(ctx.attrs.float_or("threshold", 0.0))?;
	let above = bin(b, ctx, BinaryOp::Greater, x, &scalar(threshold))?;
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
				bin(b, ctx, BinaryOp::Equal, x, &scalar(replaced))?
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
			(imputed, bin(b, ctx, BinaryOp::Equal, x, &r)?)
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
	let idx = reshape_to(b, ctx, y, &[k])?;
	let axis = (x.rank() - 1) as u32;
	let out = gather(b, ctx, axis, x, &idx)?;
	if x.rank() == 1 {
		return one(reshape_to(b, ctx, &out, &[1, k])?);
	}
	one(out)
}

/// `x[..., None] == keys` for a 1-D constant `keys`: `X.shape + [K]`, boolean.
fn matches(b: &mut Builder, ctx: &NodeCtx, x: &Value, keys: Value) -> Res<Value> {
	let axis = x.rank() as u32;
	let column = apply(b, ctx, Op::Unsqueeze { axes: vec![axis] }, &[x])?;
	bin(b, ctx, BinaryOp::Equal, &column, &keys)
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
		DType::I32 => cast_to(b, ctx, x, DType::I64)?,
		other => return Err(ctx.invalid(format!("input must be int64 or int32, got {other}"))),
	};
	let n = cats.len();
	let hit = matches(b, ctx, &x, i64s(ctx, &[n], cats)?)?;
	one(cast_to(b, ctx, &hit, DType::F32)?)
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
	let as_f32 = cast_to(b, ctx, &hit, DType::F32)?;
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
	let found = cast_to(b, ctx, &found, DType::Bool)?;
	let value = gather(b, ctx, 0, &values, &index)?;
	one(select(b, ctx, &found, &value, &default)?)
}
