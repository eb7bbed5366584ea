//! Per-operator lowering: ONNX node (attributes + resolved inputs, per opset) → IR op(s).
//!
//! Every attribute is resolved here into the explicit form the IR wants: negative axes are
//! normalised, `auto_pad` becomes explicit pads, `Reshape`'s `0`/`-1` become concrete
//! dimensions, `Resize` scales become output sizes, legacy attribute forms of old opsets become
//! the same IR as their input forms. Inputs that fix shapes (`Reshape` shape, `Slice` starts,
//! reduction axes, …) must be compile-time constants.

use verity_engine::{
	ir::{
		BinaryOp, ConvAttrs, ConvTransposeAttrs, CoordMode, F32Bits, NearestMode, Op, PadMode,
		PoolAttrs, ReduceKind, ResizeAttrs, ResizeMode, UnaryOp, VariadicOp,
	},
	DType, Tensor,
};

use crate::{
	error::CompileError,
	lower::{Builder, NodeCtx, Value},
	proto::{dtype_from_onnx, onnx_dtype_name, tensor_from_proto},
};

/// ONNX operators (default domain) the front end lowers for any input, given concrete input
/// shapes (a few as a short sequence of IR ops; see the crate documentation). A model is covered
/// when all its operators are in this list and all its tensors have an engine element type
/// (`float32`, `int64`, `int32`, `int8`, `uint8`, `bool`).
pub const SUPPORTED_OPS: &[&str] = &[
	"Abs",
	"Add",
	"And",
	"ArgMax",
	"ArgMin",
	"AveragePool",
	"BatchNormalization",
	"Cast",
	"CastLike",
	"Ceil",
	"CenterCropPad",
	"Clip",
	"Concat",
	"Constant",
	"ConstantOfShape",
	"Conv",
	"ConvInteger",
	"ConvTranspose",
	"Cos",
	"DepthToSpace",
	"DequantizeLinear",
	"Div",
	"Dropout",
	"Elu",
	"Equal",
	"Erf",
	"Exp",
	"Expand",
	"EyeLike",
	"Flatten",
	"Floor",
	"Gather",
	"GatherElements",
	"Gelu",
	"Gemm",
	"GlobalAveragePool",
	"GlobalMaxPool",
	"Greater",
	"GreaterOrEqual",
	"HardSigmoid",
	"HardSwish",
	"Hardmax",
	"Identity",
	"InstanceNormalization",
	"IsInf",
	"IsNaN",
	"LRN",
	"LayerNormalization",
	"LeakyRelu",
	"Less",
	"LessOrEqual",
	"Log",
	"LogSoftmax",
	"LpNormalization",
	"MatMul",
	"MatMulInteger",
	"Max",
	"MaxPool",
	"Mean",
	"Min",
	"Mod",
	"Mul",
	"Neg",
	"Not",
	"Or",
	"PRelu",
	"Pad",
	"Pow",
	"QLinearConv",
	"QLinearMatMul",
	"QuantizeLinear",
	"RMSNormalization",
	"Reciprocal",
	"ReduceL1",
	"ReduceL2",
	"ReduceLogSum",
	"ReduceLogSumExp",
	"ReduceMax",
	"ReduceMean",
	"ReduceMin",
	"ReduceProd",
	"ReduceSum",
	"ReduceSumSquare",
	"Relu",
	"Reshape",
	"Resize",
	"Round",
	"Selu",
	"Shape",
	"Sigmoid",
	"Sign",
	"Sin",
	"Size",
	"Slice",
	"Softmax",
	"Softplus",
	"Softsign",
	"SpaceToDepth",
	"Split",
	"Sqrt",
	"Squeeze",
	"Sub",
	"Sum",
	"Tanh",
	"ThresholdedRelu",
	"Tile",
	"Transpose",
	"Trilu",
	"Unsqueeze",
	"Upsample",
	"Where",
	"Xor",
];

/// ONNX operators the front end evaluates only when all their inputs are compile-time
/// constants (typically inside shape computations); anything else is an error.
pub const FOLD_ONLY_OPS: &[&str] = &["Range"];

type Outs = Result<Vec<Option<Value>>, CompileError>;

fn one(v: Value) -> Outs {
	Ok(vec![Some(v)])
}

/// Lowers one node. Returns a value for each ONNX output position it produces (`None` for
/// outputs it does not produce; the caller refuses those if they are used).
pub(crate) fn lower_node(b: &mut Builder, ctx: &NodeCtx, ins: &[Option<Value>]) -> Outs {
	// Legacy (opset < 6) memory-reuse hint with no semantics.
	ctx.attrs.ignore(&["consumed_inputs"]);
	match ctx.op_type() {
		// --- No computation -------------------------------------------------------------
		"Identity" => one(ctx.req(ins, 0)?.clone()),
		"Dropout" => dropout(ctx, ins),
		"Constant" => one(Value::anon(constant(ctx)?)),
		"Shape" => shape(ctx, ins),
		"Size" => {
			let n: usize = ctx.req(ins, 0)?.shape().iter().product();
			one(Value::anon(Tensor::scalar_i64(n as i64)))
		}
		"Range" => range(ctx, ins),

		// --- Matrix products and convolutions --------------------------------------------
		"MatMul" => simple(b, ctx, ins, Op::MatMul),
		"Gemm" => {
			ctx.attrs.ignore(&["broadcast"]);
			let op = Op::Gemm {
				alpha: ctx.attr(ctx.attrs.float_or("alpha", 1.0))?.into(),
				beta: ctx.attr(ctx.attrs.float_or("beta", 1.0))?.into(),
				trans_a: ctx.attr(ctx.attrs.int_or("transA", 0))? != 0,
				trans_b: ctx.attr(ctx.attrs.int_or("transB", 0))? != 0,
			};
			simple(b, ctx, ins, op)
		}
		"Conv" => {
			let a = conv_attrs(ctx, &ctx.req(ins, 0)?.shape(), &ctx.req(ins, 1)?.shape())?;
			simple(b, ctx, ins, Op::Conv(a))
		}
		"ConvTranspose" => conv_transpose(b, ctx, ins),
		"ConvInteger" => {
			let a = conv_attrs(ctx, &ctx.req(ins, 0)?.shape(), &ctx.req(ins, 1)?.shape())?;
			simple(b, ctx, ins, Op::ConvInteger(a))
		}
		"QLinearConv" => {
			let a = conv_attrs(ctx, &ctx.req(ins, 0)?.shape(), &ctx.req(ins, 3)?.shape())?;
			simple(b, ctx, ins, Op::QLinearConv(a))
		}
		"QLinearMatMul" => simple(b, ctx, ins, Op::QLinearMatMul),
		"MatMulInteger" => simple(b, ctx, ins, Op::MatMulInteger),

		// --- Pooling and normalisation ----------------------------------------------------
		"MaxPool" => max_pool(b, ctx, ins),
		"AveragePool" => {
			let pool = pool_attrs(ctx, &ctx.req(ins, 0)?.shape())?;
			let count_include_pad = ctx.attr(ctx.attrs.int_or("count_include_pad", 0))? != 0;
			simple(
				b,
				ctx,
				ins,
				Op::AveragePool {
					pool,
					count_include_pad,
				},
			)
		}
		"GlobalAveragePool" => simple(b, ctx, ins, Op::GlobalAveragePool),
		"GlobalMaxPool" => simple(b, ctx, ins, Op::GlobalMaxPool),
		"BatchNormalization" => batch_norm(b, ctx, ins),
		"LRN" => {
			let size = ctx
				.attr(ctx.attrs.int("size"))?
				.ok_or_else(|| ctx.invalid("size is required"))?;
			let op = Op::Lrn {
				alpha: ctx.attr(ctx.attrs.float_or("alpha", 1e-4))?.into(),
				beta: ctx.attr(ctx.attrs.float_or("beta", 0.75))?.into(),
				bias: ctx.attr(ctx.attrs.float_or("bias", 1.0))?.into(),
				size: u32::try_from(size).map_err(|_| ctx.invalid("size must be positive"))?,
			};
			simple(b, ctx, ins, op)
		}
		"LayerNormalization" => layer_norm(b, ctx, ins),
		"InstanceNormalization" => {
			let epsilon = ctx.attr(ctx.attrs.float_or("epsilon", 1e-5))?.into();
			simple(b, ctx, ins, Op::InstanceNormalization { epsilon })
		}

		// --- Activations --------------------------------------------------------------------
		"Relu" => simple(b, ctx, ins, Op::Relu),
		"PRelu" => prelu(b, ctx, ins),
		"Sigmoid" => simple(b, ctx, ins, Op::Sigmoid),
		"Tanh" => simple(b, ctx, ins, Op::Tanh),
		"Softplus" => simple(b, ctx, ins, Op::Softplus),
		"HardSwish" => simple(b, ctx, ins, Op::HardSwish),
		"LeakyRelu" => {
			let alpha = ctx.attr(ctx.attrs.float_or("alpha", 0.01))?.into();
			simple(b, ctx, ins, Op::LeakyRelu { alpha })
		}
		"Elu" => {
			let alpha = ctx.attr(ctx.attrs.float_or("alpha", 1.0))?.into();
			simple(b, ctx, ins, Op::Elu { alpha })
		}
		"Selu" => {
			let op = Op::Selu {
				alpha: ctx.attr(ctx.attrs.float_or("alpha", 1.673_263_2))?.into(),
				gamma: ctx.attr(ctx.attrs.float_or("gamma", 1.050_701))?.into(),
			};
			simple(b, ctx, ins, op)
		}
		"HardSigmoid" => {
			let op = Op::HardSigmoid {
				alpha: ctx.attr(ctx.attrs.float_or("alpha", 0.2))?.into(),
				beta: ctx.attr(ctx.attrs.float_or("beta", 0.5))?.into(),
			};
			simple(b, ctx, ins, op)
		}
		"Gelu" => {
			let tanh_approx = match ctx
				.attr(ctx.attrs.string_or("approximate", "none"))?
				.as_str()
			{
				"none" => false,
				"tanh" => true,
				other => return Err(ctx.invalid(format!("unknown approximate {other:?}"))),
			};
			simple(b, ctx, ins, Op::Gelu { tanh_approx })
		}
		"Softmax" => softmax(b, ctx, ins, false),
		"LogSoftmax" => softmax(b, ctx, ins, true),
		"Clip" => clip(b, ctx, ins),

		// --- Elementwise math -------------------------------------------------------------
		"Neg" => simple(b, ctx, ins, Op::Unary(UnaryOp::Neg)),
		"Abs" => simple(b, ctx, ins, Op::Unary(UnaryOp::Abs)),
		"Sqrt" => simple(b, ctx, ins, Op::Unary(UnaryOp::Sqrt)),
		"Exp" => simple(b, ctx, ins, Op::Unary(UnaryOp::Exp)),
		"Log" => simple(b, ctx, ins, Op::Unary(UnaryOp::Log)),
		"Reciprocal" => simple(b, ctx, ins, Op::Unary(UnaryOp::Reciprocal)),
		"Floor" => simple(b, ctx, ins, Op::Unary(UnaryOp::Floor)),
		"Ceil" => simple(b, ctx, ins, Op::Unary(UnaryOp::Ceil)),
		"Round" => simple(b, ctx, ins, Op::Unary(UnaryOp::Round)),
		"Sign" => simple(b, ctx, ins, Op::Unary(UnaryOp::Sign)),
		"Erf" => simple(b, ctx, ins, Op::Unary(UnaryOp::Erf)),
		"Sin" => simple(b, ctx, ins, Op::Unary(UnaryOp::Sin)),
		"Cos" => simple(b, ctx, ins, Op::Unary(UnaryOp::Cos)),
		"Not" => simple(b, ctx, ins, Op::Unary(UnaryOp::Not)),
		"IsNaN" => simple(b, ctx, ins, Op::Unary(UnaryOp::IsNaN)),
		"Add" => binary(b, ctx, ins, BinaryOp::Add),
		"Sub" => binary(b, ctx, ins, BinaryOp::Sub),
		"Mul" => binary(b, ctx, ins, BinaryOp::Mul),
		"Div" => binary(b, ctx, ins, BinaryOp::Div),
		"Pow" => binary(b, ctx, ins, BinaryOp::Pow),
		"Mod" => {
			let fmod = ctx.attr(ctx.attrs.int_or("fmod", 0))? != 0;
			binary(
				b,
				ctx,
				ins,
				if fmod { BinaryOp::Fmod } else { BinaryOp::Mod },
			)
		}
		"And" => binary(b, ctx, ins, BinaryOp::And),
		"Or" => binary(b, ctx, ins, BinaryOp::Or),
		"Xor" => binary(b, ctx, ins, BinaryOp::Xor),
		"Equal" => binary(b, ctx, ins, BinaryOp::Equal),
		"Less" => binary(b, ctx, ins, BinaryOp::Less),
		"LessOrEqual" => binary(b, ctx, ins, BinaryOp::LessOrEqual),
		"Greater" => binary(b, ctx, ins, BinaryOp::Greater),
		"GreaterOrEqual" => binary(b, ctx, ins, BinaryOp::GreaterOrEqual),
		"Sum" => variadic(b, ctx, ins, VariadicOp::Sum),
		"Mean" => variadic(b, ctx, ins, VariadicOp::Mean),
		"Min" => variadic(b, ctx, ins, VariadicOp::Min),
		"Max" => variadic(b, ctx, ins, VariadicOp::Max),
		"Where" => simple(b, ctx, ins, Op::Where),

		// --- Decomposed into IR ops (see each function) -----------------------------------
		"Trilu" => trilu(b, ctx, ins),
		"Hardmax" => hardmax(b, ctx, ins),
		"GatherElements" => gather_elements(b, ctx, ins),
		"LpNormalization" => {
			let x = ctx.req(ins, 0)?;
			let axis = norm_axis(ctx, ctx.attr(ctx.attrs.int_or("axis", -1))?, x.rank())?;
			let kind = match ctx.attr(ctx.attrs.int_or("p", 2))? {
				1 => ReduceKind::L1,
				2 => ReduceKind::L2,
				p => return Err(ctx.invalid(format!("p must be 1 or 2, got {p}"))),
			};
			let norm = b.apply(
				ctx,
				Op::Reduce {
					kind,
					axes: vec![axis],
					keepdims: true,
				},
				&[Some(x)],
			)?;
			one(b.apply(ctx, Op::Binary(BinaryOp::Div), &[Some(x), Some(&norm)])?)
		}
		"CenterCropPad" => center_crop_pad(b, ctx, ins),
		"EyeLike" => eye_like(ctx, ins),
		"RMSNormalization" => rms_norm(b, ctx, ins),
		"DepthToSpace" => depth_to_space(b, ctx, ins),
		"SpaceToDepth" => space_to_depth(b, ctx, ins),
		"ThresholdedRelu" => {
			let x = ctx.req(ins, 0)?;
			let alpha = Value::anon(Tensor::scalar_f32(
				ctx.attr(ctx.attrs.float_or("alpha", 1.0))?,
			));
			let zero = Value::anon(Tensor::scalar_f32(0.0));
			let c = b.apply(ctx, Op::Binary(BinaryOp::Greater), &[Some(x), Some(&alpha)])?;
			one(b.apply(ctx, Op::Where, &[Some(&c), Some(x), Some(&zero)])?)
		}
		"Softsign" => {
			// x / (1 + |x|), the reference's order of operations.
			let x = ctx.req(ins, 0)?;
			let one_c = Value::anon(Tensor::scalar_f32(1.0));
			let a = b.apply(ctx, Op::Unary(UnaryOp::Abs), &[Some(x)])?;
			let d = b.apply(ctx, Op::Binary(BinaryOp::Add), &[Some(&one_c), Some(&a)])?;
			one(b.apply(ctx, Op::Binary(BinaryOp::Div), &[Some(x), Some(&d)])?)
		}
		"IsInf" => {
			let x = ctx.req(ins, 0)?;
			let pos = ctx.attr(ctx.attrs.int_or("detect_positive", 1))? != 0;
			let neg = ctx.attr(ctx.attrs.int_or("detect_negative", 1))? != 0;
			let probe = |v: f32| Value::anon(Tensor::scalar_f32(v));
			let (p, n) = (probe(f32::INFINITY), probe(f32::NEG_INFINITY));
			let eq = Op::Binary(BinaryOp::Equal);
			one(match (pos, neg) {
				(true, true) => {
					let a = b.apply(ctx, eq.clone(), &[Some(x), Some(&p)])?;
					let c = b.apply(ctx, eq, &[Some(x), Some(&n)])?;
					b.apply(ctx, Op::Binary(BinaryOp::Or), &[Some(&a), Some(&c)])?
				}
				(true, false) => b.apply(ctx, eq, &[Some(x), Some(&p)])?,
				(false, true) => b.apply(ctx, eq, &[Some(x), Some(&n)])?,
				// Nothing equals NaN: all false.
				(false, false) => b.apply(ctx, eq, &[Some(x), Some(&probe(f32::NAN))])?,
			})
		}

		// --- Reductions -------------------------------------------------------------------
		"ReduceSum" => reduce(b, ctx, ins, ReduceKind::Sum),
		"ReduceMean" => reduce(b, ctx, ins, ReduceKind::Mean),
		"ReduceMax" => reduce(b, ctx, ins, ReduceKind::Max),
		"ReduceMin" => reduce(b, ctx, ins, ReduceKind::Min),
		"ReduceProd" => reduce(b, ctx, ins, ReduceKind::Prod),
		"ReduceSumSquare" => reduce(b, ctx, ins, ReduceKind::SumSquare),
		"ReduceL1" => reduce(b, ctx, ins, ReduceKind::L1),
		"ReduceL2" => reduce(b, ctx, ins, ReduceKind::L2),
		"ReduceLogSum" => reduce(b, ctx, ins, ReduceKind::LogSum),
		"ReduceLogSumExp" => reduce(b, ctx, ins, ReduceKind::LogSumExp),
		"ArgMax" => arg_extremum(b, ctx, ins, true),
		"ArgMin" => arg_extremum(b, ctx, ins, false),

		// --- Shapes and data movement ------------------------------------------------------
		"Reshape" => reshape(b, ctx, ins),
		"Flatten" => {
			let r = ctx.req(ins, 0)?.rank() as i64;
			let axis = ctx.attr(ctx.attrs.int_or("axis", 1))?;
			// The split point ranges over -rank..=rank.
			let a = if axis < 0 { axis + r } else { axis };
			if !(0..=r).contains(&a) {
				return Err(ctx.invalid(format!("axis {axis} is out of range for rank {r}")));
			}
			simple(b, ctx, ins, Op::Flatten { axis: a as u32 })
		}
		"Transpose" => {
			let r = ctx.req(ins, 0)?.rank();
			let perm = match ctx.attr(ctx.attrs.ints("perm"))? {
				Some(p) => p
					.iter()
					.map(|&a| {
						u32::try_from(a).map_err(|_| ctx.invalid("perm must be non-negative"))
					})
					.collect::<Result<Vec<_>, _>>()?,
				None => (0..r as u32).rev().collect(),
			};
			simple(b, ctx, ins, Op::Transpose { perm })
		}
		"Concat" => {
			let r = ctx.req(ins, 0)?.rank();
			let axis = match ctx.attr(ctx.attrs.int("axis"))? {
				Some(a) => a,
				None if ctx.opset < 4 => 1,
				None => return Err(ctx.invalid("axis is required")),
			};
			let axis = norm_axis(ctx, axis, r)?;
			let args: Vec<Option<&Value>> = ins.iter().map(|v| v.as_ref()).collect();
			if args.iter().any(Option::is_none) {
				return Err(ctx.invalid("Concat inputs cannot be omitted"));
			}
			one(b.apply(ctx, Op::Concat { axis }, &args)?)
		}
		"Split" => split(b, ctx, ins),
		"Slice" => slice(b, ctx, ins),
		"Gather" => {
			let r = ctx.req(ins, 0)?.rank();
			let axis = norm_axis(ctx, ctx.attr(ctx.attrs.int_or("axis", 0))?, r)?;
			simple(b, ctx, ins, Op::Gather { axis })
		}
		"Squeeze" => squeeze(b, ctx, ins),
		"Unsqueeze" => unsqueeze(b, ctx, ins),
		"Pad" => pad(b, ctx, ins),
		"Cast" => {
			let to = ctx
				.attr(ctx.attrs.int("to"))?
				.ok_or_else(|| ctx.invalid("to is required"))?;
			// `saturate` only affects float8 targets, which the engine does not have.
			ctx.attrs.ignore(&["saturate"]);
			let to = dtype_from_onnx(to as i32).ok_or_else(|| CompileError::UnsupportedDType {
				name: ctx.node.output.first().cloned().unwrap_or_default(),
				dtype: onnx_dtype_name(to as i32),
			})?;
			one(b.apply(ctx, Op::Cast { to }, &[Some(ctx.req(ins, 0)?)])?)
		}
		"CastLike" => {
			ctx.attrs.ignore(&["saturate"]);
			let to = ctx.req(ins, 1)?.dtype();
			one(b.apply(ctx, Op::Cast { to }, &[Some(ctx.req(ins, 0)?)])?)
		}
		"ConstantOfShape" => {
			let shape = non_negative(ctx, "shape", &ctx.req_ints(ins, 0)?)?;
			let value = match ctx.attr(ctx.attrs.tensor("value"))? {
				Some(t) => tensor_from_proto(t)?,
				None => Tensor::scalar_f32(0.0),
			};
			if value.len() != 1 {
				return Err(ctx.invalid("value must have exactly one element"));
			}
			one(b.apply(ctx, Op::ConstantOfShape { value, shape }, &[])?)
		}
		"Expand" => {
			let shape = non_negative(ctx, "shape", &ctx.req_ints(ins, 1)?)?;
			one(b.apply(ctx, Op::Expand { shape }, &[Some(ctx.req(ins, 0)?)])?)
		}
		"Tile" => {
			let repeats = non_negative(ctx, "repeats", &ctx.req_ints(ins, 1)?)?;
			one(b.apply(ctx, Op::Tile { repeats }, &[Some(ctx.req(ins, 0)?)])?)
		}
		"Resize" => resize(b, ctx, ins),
		"Upsample" => resize(b, ctx, ins),

		// --- Quantisation -----------------------------------------------------------------
		"QuantizeLinear" => quant_linear(b, ctx, ins, true),
		"DequantizeLinear" => quant_linear(b, ctx, ins, false),

		_ => Err(CompileError::UnsupportedOp {
			op_type: ctx.node.op_type.clone(),
			domain: ctx.node.domain.clone(),
			node: ctx.name.clone(),
			opset: ctx.opset,
		}),
	}
}

// ---------------------------------------------------------------------------------------------
// Helpers.

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

/// Explicit begin-then-end pads for a sliding window (`Conv`, pools), resolving `auto_pad`.
fn window_pads(
	ctx: &NodeCtx,
	input: &[usize],
	kernel: &[usize],
	strides: &[u32],
	dilations: &[u32],
) -> Result<Vec<u32>, CompileError> {
	let s = input.len();
	let auto = ctx.attr(ctx.attrs.string_or("auto_pad", "NOTSET"))?;
	match auto.as_str() {
		"NOTSET" => int_list(ctx, "pads", 2 * s, 0, 0),
		"VALID" => {
			ctx.attrs.ignore(&["pads"]);
			Ok(vec![0; 2 * s])
		}
		"SAME_UPPER" | "SAME_LOWER" => {
			ctx.attrs.ignore(&["pads"]);
			let mut pads = vec![0u32; 2 * s];
			for i in 0..s {
				let (n, st, d, k) = (
					input[i] as i64,
					strides[i] as i64,
					dilations[i] as i64,
					kernel[i] as i64,
				);
				let out = (n + st - 1) / st;
				let total = ((out - 1) * st + (k - 1) * d + 1 - n).max(0);
				let small = total / 2;
				let (begin, end) = if auto == "SAME_UPPER" {
					(small, total - small)
				} else {
					(total - small, small)
				};
				pads[i] = u32::try_from(begin).map_err(|_| ctx.invalid("padding too large"))?;
				pads[i + s] = u32::try_from(end).map_err(|_| ctx.invalid("padding too large"))?;
			}
			Ok(pads)
		}
		other => Err(ctx.invalid(format!("unknown auto_pad {other:?}"))),
	}
}

/// Checks the optional `kernel_shape` attribute against the weight's spatial dims.
fn check_kernel_shape(ctx: &NodeCtx, kernel: &[usize]) -> Result<(), CompileError> {
	if let Some(k) = ctx.attr(ctx.attrs.ints("kernel_shape"))? {
		if k.len() != kernel.len() || k.iter().zip(kernel).any(|(&a, &b)| a != b as i64) {
			return Err(ctx.invalid(format!("kernel_shape {k:?} contradicts the weight shape")));
		}
	}
	Ok(())
}

fn conv_attrs(ctx: &NodeCtx, x: &[usize], w: &[usize]) -> Result<ConvAttrs, CompileError> {
	if x.len() < 3 || w.len() != x.len() {
		return Err(ctx.invalid("X and W must have the same rank, at least 3"));
	}
	let s = x.len() - 2;
	check_kernel_shape(ctx, &w[2..])?;
	let strides = int_list(ctx, "strides", s, 1, 1)?;
	let dilations = int_list(ctx, "dilations", s, 1, 1)?;
	let group = ctx.attr(ctx.attrs.int_or("group", 1))?;
	let group = u32::try_from(group).ok().filter(|&g| g >= 1);
	let group = group.ok_or_else(|| ctx.invalid("group must be positive"))?;
	let pads = window_pads(ctx, &x[2..], &w[2..], &strides, &dilations)?;
	Ok(ConvAttrs {
		pads,
		strides,
		dilations,
		group,
	})
}

fn conv_transpose(b: &mut Builder, ctx: &NodeCtx, ins: &[Option<Value>]) -> Outs {
	let (x, w) = (ctx.req(ins, 0)?.shape(), ctx.req(ins, 1)?.shape());
	if x.len() < 3 || w.len() != x.len() {
		return Err(ctx.invalid("X and W must have the same rank, at least 3"));
	}
	let s = x.len() - 2;
	check_kernel_shape(ctx, &w[2..])?;
	let strides = int_list(ctx, "strides", s, 1, 1)?;
	let dilations = int_list(ctx, "dilations", s, 1, 1)?;
	let mut output_padding = int_list(ctx, "output_padding", s, 0, 0)?;
	let group = ctx.attr(ctx.attrs.int_or("group", 1))?;
	let group = u32::try_from(group).ok().filter(|&g| g >= 1);
	let group = group.ok_or_else(|| ctx.invalid("group must be positive"))?;
	let auto = ctx.attr(ctx.attrs.string_or("auto_pad", "NOTSET"))?;
	let output_shape = ctx.attr(ctx.attrs.ints("output_shape"))?;
	let same = auto == "SAME_UPPER" || auto == "SAME_LOWER";
	let pads = if output_shape.is_some() || same {
		ctx.attrs.ignore(&["pads"]);
		// Target spatial size: the given output shape (with or without N, C), or in · stride.
		let target: Vec<i64> = match &output_shape {
			Some(os) if os.len() == s => os.clone(),
			Some(os) if os.len() == s + 2 => os[2..].to_vec(),
			Some(os) => {
				return Err(ctx.invalid(format!("output_shape {os:?} has the wrong length")))
			}
			None => (0..s)
				.map(|i| x[i + 2] as i64 * strides[i] as i64)
				.collect(),
		};
		let mut pads = vec![0u32; 2 * s];
		for i in 0..s {
			let full = strides[i] as i64 * (x[i + 2] as i64 - 1)
				+ output_padding[i] as i64
				+ (w[i + 2] as i64 - 1) * dilations[i] as i64
				+ 1;
			let total = full - target[i];
			let half = total.div_euclid(2);
			let (begin, mut end) = if auto == "SAME_UPPER" {
				(half, total - half)
			} else {
				(total - half, half)
			};
			if end < 0 {
				// A negative end pad extends the output: the same as extra output padding.
				output_padding[i] = u32::try_from(output_padding[i] as i64 - end)
					.map_err(|_| ctx.invalid("output padding too large"))?;
				end = 0;
			}
			if begin < 0 {
				return Err(ctx.unsupported("output_shape that needs a negative begin pad"));
			}
			pads[i] = u32::try_from(begin).map_err(|_| ctx.invalid("padding too large"))?;
			pads[i + s] = u32::try_from(end).map_err(|_| ctx.invalid("padding too large"))?;
		}
		pads
	} else if auto == "VALID" {
		ctx.attrs.ignore(&["pads"]);
		vec![0; 2 * s]
	} else if auto == "NOTSET" {
		int_list(ctx, "pads", 2 * s, 0, 0)?
	} else {
		return Err(ctx.invalid(format!("unknown auto_pad {auto:?}")));
	};
	let op = Op::ConvTranspose(ConvTransposeAttrs {
		conv: ConvAttrs {
			pads,
			strides,
			dilations,
			group,
		},
		output_padding,
	});
	simple(b, ctx, ins, op)
}

fn pool_attrs(ctx: &NodeCtx, x: &[usize]) -> Result<PoolAttrs, CompileError> {
	let kernel = ctx.attr(ctx.attrs.ints("kernel_shape"))?;
	let kernel = kernel.ok_or_else(|| ctx.invalid("kernel_shape is required"))?;
	let s = kernel.len();
	if x.len() != s + 2 {
		return Err(ctx.invalid("kernel_shape does not match the input rank"));
	}
	let kernel = to_u32s(ctx, "kernel_shape", &kernel, 1)?;
	let strides = int_list(ctx, "strides", s, 1, 1)?;
	let dilations = int_list(ctx, "dilations", s, 1, 1)?;
	let ceil_mode = ctx.attr(ctx.attrs.int_or("ceil_mode", 0))? != 0;
	let k: Vec<usize> = kernel.iter().map(|&k| k as usize).collect();
	let pads = window_pads(ctx, &x[2..], &k, &strides, &dilations)?;
	Ok(PoolAttrs {
		kernel,
		pads,
		strides,
		dilations,
		ceil_mode,
	})
}

fn max_pool(b: &mut Builder, ctx: &NodeCtx, ins: &[Option<Value>]) -> Outs {
	let x = ctx.req(ins, 0)?;
	let pool = pool_attrs(ctx, &x.shape())?;
	// `storage_order` only orders the `Indices` output, which the IR does not have.
	let storage_order = ctx.attr(ctx.attrs.int_or("storage_order", 0))?;
	if !(0..=1).contains(&storage_order) {
		return Err(ctx.invalid(format!("storage_order must be 0 or 1, got {storage_order}")));
	}
	if ctx.output_live(1) {
		let name = ctx.node.output.get(1).cloned().unwrap_or_default();
		return Err(ctx.unsupported(format!(
			"use of the Indices output (output 1, {name:?}): the IR's MaxPool has only the Y \
			 output (every program node has exactly one output)"
		)));
	}
	one(b.apply(ctx, Op::MaxPool { pool }, &[Some(x)])?)
}

fn batch_norm(b: &mut Builder, ctx: &NodeCtx, ins: &[Option<Value>]) -> Outs {
	let epsilon = ctx.attr(ctx.attrs.float_or("epsilon", 1e-5))?.into();
	// Inference only: momentum feeds the running statistics of training; is_test (opset < 7)
	// selects inference, which is what is lowered regardless.
	ctx.attrs.ignore(&["momentum", "is_test"]);
	if ctx.attr(ctx.attrs.int_or("spatial", 1))? == 0 {
		return Err(ctx.unsupported("spatial = 0"));
	}
	if ctx.attr(ctx.attrs.int_or("training_mode", 0))? != 0 {
		return Err(ctx.unsupported("training_mode = 1"));
	}
	let args: Vec<Option<&Value>> = ins.iter().take(5).map(|v| v.as_ref()).collect();
	one(b.apply(ctx, Op::BatchNormalization { epsilon }, &args)?)
}

/// `Hardmax` as `Cast(Equal(ArgMax(X, keepdims), iota), X's type)`: one-hot of the first maximum
/// (exact). Before opset 13 the input is coerced to 2-D at `axis`.
fn hardmax(b: &mut Builder, ctx: &NodeCtx, ins: &[Option<Value>]) -> Outs {
	let x = ctx.req(ins, 0)?;
	let shape = x.shape();
	let legacy = ctx.opset < 13;
	let axis = ctx.attr(ctx.attrs.int_or("axis", if legacy { 1 } else { -1 }))?;
	if legacy {
		let r = shape.len() as i64;
		let a = if axis < 0 { axis + r } else { axis };
		if !(0..=r).contains(&a) {
			return Err(ctx.invalid(format!("axis {axis} is out of range")));
		}
		let flat = b.apply(ctx, Op::Flatten { axis: a as u32 }, &[Some(x)])?;
		let h = one_hot_max(b, ctx, &flat, 1)?;
		let back = shape.iter().map(|&d| d as u64).collect();
		return one(b.apply(ctx, Op::Reshape { shape: back }, &[Some(&h)])?);
	}
	let axis = norm_axis(ctx, axis, shape.len())?;
	one(one_hot_max(b, ctx, x, axis)?)
}

fn one_hot_max(
	b: &mut Builder,
	ctx: &NodeCtx,
	x: &Value,
	axis: u32,
) -> Result<Value, CompileError> {
	let shape = x.shape();
	let am = Op::ArgExtremum {
		max: true,
		axis,
		keepdims: true,
		select_last_index: false,
	};
	let idx = b.apply(ctx, am, &[Some(x)])?;
	let len = shape[axis as usize];
	let mut iota_shape = vec![1usize; shape.len()];
	iota_shape[axis as usize] = len;
	let iota = Tensor::from_i64(&iota_shape, (0..len as i64).collect())
		.map_err(|e| ctx.invalid(e.to_string()))?;
	let eq = b.apply(
		ctx,
		Op::Binary(BinaryOp::Equal),
		&[Some(&idx), Some(&Value::anon(iota))],
	)?;
	b.apply(ctx, Op::Cast { to: x.dtype() }, &[Some(&eq)])
}

/// `GatherElements` as a `Gather` on the flattened data with flat indices
/// `base + normalise(indices) · stride(axis)`, where `base` (the offset of every other
/// coordinate) is a constant. Pure data movement (exact). An index out of range along `axis` is
/// only detected when the flat index leaves the tensor.
fn gather_elements(b: &mut Builder, ctx: &NodeCtx, ins: &[Option<Value>]) -> Outs {
	let x = ctx.req(ins, 0)?;
	let idx = ctx.req(ins, 1)?;
	let (xs, is) = (x.shape(), idx.shape());
	if xs.len() != is.len() || xs.is_empty() {
		return Err(ctx.invalid("data and indices must have the same rank, at least 1"));
	}
	let axis = norm_axis(ctx, ctx.attr(ctx.attrs.int_or("axis", 0))?, xs.len())? as usize;
	let r = xs.len();
	let mut strides = vec![1i64; r];
	for d in (0..r - 1).rev() {
		strides[d] = strides[d + 1] * xs[d + 1] as i64;
	}
	// Offset of each index position from the coordinates other than `axis`.
	let n: usize = is.iter().product();
	let mut base = Vec::with_capacity(n);
	let mut pos = vec![0usize; r];
	for _ in 0..n {
		base.push(
			(0..r)
				.filter(|&d| d != axis)
				.map(|d| pos[d] as i64 * strides[d])
				.sum::<i64>(),
		);
		for d in (0..r).rev() {
			pos[d] += 1;
			if pos[d] < is[d] {
				break;
			}
			pos[d] = 0;
		}
	}
	let t = |shape: &[usize], v: Vec<i64>| -> Result<Value, CompileError> {
		Ok(Value::anon(
			Tensor::from_i64(shape, v).map_err(|e| ctx.invalid(e.to_string()))?,
		))
	};
	let i64_idx = match idx.dtype() {
		DType::I64 => idx.clone(),
		DType::I32 => b.apply(ctx, Op::Cast { to: DType::I64 }, &[Some(idx)])?,
		other => return Err(ctx.invalid(format!("indices must be int64 or int32, got {other}"))),
	};
	let zero = t(&[], vec![0])?;
	let dim = t(&[], vec![xs[axis] as i64])?;
	let neg = b.apply(
		ctx,
		Op::Binary(BinaryOp::Less),
		&[Some(&i64_idx), Some(&zero)],
	)?;
	let wrapped = b.apply(
		ctx,
		Op::Binary(BinaryOp::Add),
		&[Some(&i64_idx), Some(&dim)],
	)?;
	let norm = b.apply(
		ctx,
		Op::Where,
		&[Some(&neg), Some(&wrapped), Some(&i64_idx)],
	)?;
	let stride = t(&[], vec![strides[axis]])?;
	let scaled = b.apply(
		ctx,
		Op::Binary(BinaryOp::Mul),
		&[Some(&norm), Some(&stride)],
	)?;
	let flat_idx = b.apply(
		ctx,
		Op::Binary(BinaryOp::Add),
		&[Some(&scaled), Some(&t(&is, base)?)],
	)?;
	let total: usize = xs.iter().product();
	let flat = b.apply(
		ctx,
		Op::Reshape {
			shape: vec![total as u64],
		},
		&[Some(x)],
	)?;
	one(b.apply(ctx, Op::Gather { axis: 0 }, &[Some(&flat), Some(&flat_idx)])?)
}

/// `CenterCropPad` as a `Slice` (centred crop) followed by a constant `Pad` (centred pad).
fn center_crop_pad(b: &mut Builder, ctx: &NodeCtx, ins: &[Option<Value>]) -> Outs {
	let x = ctx.req(ins, 0)?;
	let target = ctx.req_ints(ins, 1)?;
	let shape = x.shape();
	let r = shape.len();
	let axes: Vec<usize> = match ctx.attr(ctx.attrs.ints("axes"))? {
		Some(a) => a
			.iter()
			.map(|&a| norm_axis(ctx, a, r).map(|a| a as usize))
			.collect::<Result<_, _>>()?,
		None => (0..r).collect(),
	};
	if axes.len() != target.len() {
		return Err(ctx.invalid("shape must have one value per axis"));
	}
	let (mut starts, mut ends, mut slice_axes) = (Vec::new(), Vec::new(), Vec::new());
	let mut pads = vec![0i64; 2 * r];
	for (&a, &t) in axes.iter().zip(&target) {
		let d = shape[a] as i64;
		if t < 0 {
			return Err(ctx.invalid("negative target size"));
		}
		if t < d {
			let start = (d - t) / 2;
			starts.push(start);
			ends.push(start + t);
			slice_axes.push(a as u32);
		} else if t > d {
			pads[a] = (t - d) / 2;
			pads[a + r] = t - d - pads[a];
		}
	}
	let mut v = x.clone();
	if !slice_axes.is_empty() {
		let steps = vec![1; starts.len()];
		let op = Op::Slice {
			starts,
			ends,
			axes: slice_axes,
			steps,
		};
		v = b.apply(ctx, op, &[Some(&v)])?;
	}
	if pads.iter().any(|&p| p != 0) {
		v = b.apply(
			ctx,
			Op::Pad {
				mode: PadMode::Constant,
				pads,
			},
			&[Some(&v)],
		)?;
	}
	one(v)
}

/// `EyeLike`: a constant (the input contributes only its shape).
fn eye_like(ctx: &NodeCtx, ins: &[Option<Value>]) -> Outs {
	let x = ctx.req(ins, 0)?;
	let shape = x.shape();
	if shape.len() != 2 {
		return Err(ctx.invalid("input must be 2-D"));
	}
	let dtype = match ctx.attr(ctx.attrs.int("dtype"))? {
		None => x.dtype(),
		Some(code) => {
			dtype_from_onnx(code as i32).ok_or_else(|| CompileError::UnsupportedDType {
				name: ctx.node.output.first().cloned().unwrap_or_default(),
				dtype: onnx_dtype_name(code as i32),
			})?
		}
	};
	let k = ctx.attr(ctx.attrs.int_or("k", 0))?;
	let (n, m) = (shape[0], shape[1]);
	let ones: Vec<bool> = (0..n as i64)
		.flat_map(|i| (0..m as i64).map(move |j| j - i == k))
		.collect();
	let mask = Tensor::from_bool(&[n, m], ones).map_err(|e| ctx.invalid(e.to_string()))?;
	let t = verity_engine::ops::shape::cast(mask.data(), dtype);
	one(Value::anon(
		Tensor::new(vec![n, m], t).map_err(|e| ctx.invalid(e.to_string()))?,
	))
}

/// `Trilu` as `Where(mask, X, 0)` with a constant mask over the last two axes (exact).
fn trilu(b: &mut Builder, ctx: &NodeCtx, ins: &[Option<Value>]) -> Outs {
	let x = ctx.req(ins, 0)?;
	let shape = x.shape();
	if shape.len() < 2 {
		return Err(ctx.invalid("input must have rank at least 2"));
	}
	let k = match ctx.opt_ints(ins, 1)? {
		Some(v) => *v.first().ok_or_else(|| ctx.invalid("k is empty"))?,
		None => 0,
	};
	let upper = ctx.attr(ctx.attrs.int_or("upper", 1))? != 0;
	let (n, m) = (shape[shape.len() - 2], shape[shape.len() - 1]);
	let mut mask = Vec::with_capacity(n * m);
	for i in 0..n as i64 {
		for j in 0..m as i64 {
			// Saturating: k may be any int64.
			let d = j.saturating_sub(i);
			mask.push(if upper { d >= k } else { d <= k });
		}
	}
	let mask =
		Value::anon(Tensor::from_bool(&[n, m], mask).map_err(|e| ctx.invalid(e.to_string()))?);
	let zero = Value::anon(Tensor::zeros(x.dtype(), &[]).map_err(|e| ctx.invalid(e.to_string()))?);
	one(b.apply(ctx, Op::Where, &[Some(&mask), Some(x), Some(&zero)])?)
}

/// `RMSNormalization` (opset 23) as its ONNX function body: `X / sqrt(mean(X²) + ε) · scale`
/// over axes `axis..`.
fn rms_norm(b: &mut Builder, ctx: &NodeCtx, ins: &[Option<Value>]) -> Outs {
	let x = ctx.req(ins, 0)?;
	let scale = ctx.req(ins, 1)?;
	let axis = norm_axis(ctx, ctx.attr(ctx.attrs.int_or("axis", -1))?, x.rank())?;
	let eps = ctx.attr(ctx.attrs.float_or("epsilon", 1e-5))?;
	match ctx.attr(ctx.attrs.int_or("stash_type", 1))? {
		1 => {}
		other => return Err(ctx.unsupported(format!("stash_type {other}"))),
	}
	let axes: Vec<u32> = (axis..x.rank() as u32).collect();
	let sq = b.apply(ctx, Op::Binary(BinaryOp::Mul), &[Some(x), Some(x)])?;
	let mean = b.apply(
		ctx,
		Op::Reduce {
			kind: ReduceKind::Mean,
			axes,
			keepdims: true,
		},
		&[Some(&sq)],
	)?;
	let e = Value::anon(Tensor::scalar_f32(eps));
	let me = b.apply(ctx, Op::Binary(BinaryOp::Add), &[Some(&mean), Some(&e)])?;
	let rms = b.apply(ctx, Op::Unary(UnaryOp::Sqrt), &[Some(&me)])?;
	let n = b.apply(ctx, Op::Binary(BinaryOp::Div), &[Some(x), Some(&rms)])?;
	one(b.apply(ctx, Op::Binary(BinaryOp::Mul), &[Some(&n), Some(scale)])?)
}

/// Reshape → Transpose → Reshape (pure data movement, exact).
fn reshape_transpose_reshape(
	b: &mut Builder,
	ctx: &NodeCtx,
	x: &Value,
	first: Vec<u64>,
	perm: Vec<u32>,
	last: Vec<u64>,
) -> Outs {
	let r = b.apply(ctx, Op::Reshape { shape: first }, &[Some(x)])?;
	let t = b.apply(ctx, Op::Transpose { perm }, &[Some(&r)])?;
	one(b.apply(ctx, Op::Reshape { shape: last }, &[Some(&t)])?)
}

fn block_size(ctx: &NodeCtx) -> Result<u64, CompileError> {
	let bs = ctx
		.attr(ctx.attrs.int("blocksize"))?
		.ok_or_else(|| ctx.invalid("blocksize is required"))?;
	u64::try_from(bs)
		.ok()
		.filter(|&b| b >= 1)
		.ok_or_else(|| ctx.invalid("blocksize must be positive"))
}

fn nchw(ctx: &NodeCtx, x: &Value) -> Result<[u64; 4], CompileError> {
	match x.shape().as_slice() {
		&[n, c, h, w] => Ok([n as u64, c as u64, h as u64, w as u64]),
		_ => Err(ctx.invalid("input must have rank 4")),
	}
}

fn depth_to_space(b: &mut Builder, ctx: &NodeCtx, ins: &[Option<Value>]) -> Outs {
	let x = ctx.req(ins, 0)?;
	let bs = block_size(ctx)?;
	let [n, c, h, w] = nchw(ctx, x)?;
	if c % (bs * bs) != 0 {
		return Err(ctx.invalid("channels are not divisible by blocksize²"));
	}
	let c2 = c / (bs * bs);
	let last = vec![n, c2, h * bs, w * bs];
	match ctx.attr(ctx.attrs.string_or("mode", "DCR"))?.as_str() {
		"DCR" => reshape_transpose_reshape(
			b,
			ctx,
			x,
			vec![n, bs, bs, c2, h, w],
			vec![0, 3, 4, 1, 5, 2],
			last,
		),
		"CRD" => reshape_transpose_reshape(
			b,
			ctx,
			x,
			vec![n, c2, bs, bs, h, w],
			vec![0, 1, 4, 2, 5, 3],
			last,
		),
		other => Err(ctx.invalid(format!("unknown mode {other:?}"))),
	}
}

fn space_to_depth(b: &mut Builder, ctx: &NodeCtx, ins: &[Option<Value>]) -> Outs {
	let x = ctx.req(ins, 0)?;
	let bs = block_size(ctx)?;
	let [n, c, h, w] = nchw(ctx, x)?;
	if h % bs != 0 || w % bs != 0 {
		return Err(ctx.invalid("spatial dims are not divisible by blocksize"));
	}
	let first = vec![n, c, h / bs, bs, w / bs, bs];
	let last = vec![n, c * bs * bs, h / bs, w / bs];
	reshape_transpose_reshape(b, ctx, x, first, vec![0, 3, 5, 1, 2, 4], last)
}

fn prelu(b: &mut Builder, ctx: &NodeCtx, ins: &[Option<Value>]) -> Outs {
	let x = ctx.req(ins, 0)?;
	let slope = ctx.req(ins, 1)?;
	let (xs, ss) = (x.shape(), slope.shape());
	if ctx.opset < 7 && xs.len() > 2 && ss.len() == 1 && ss[0] != 1 && ss[0] == xs[1] {
		// Before opset 7 a 1-D slope is per channel (axis 1), not numpy-broadcast.
		let mut shape = vec![ss[0] as u64];
		shape.extend(std::iter::repeat_n(1, xs.len() - 2));
		let s2 = b.apply(ctx, Op::Reshape { shape }, &[Some(slope)])?;
		return one(b.apply(ctx, Op::PRelu, &[Some(x), Some(&s2)])?);
	}
	one(b.apply(ctx, Op::PRelu, &[Some(x), Some(slope)])?)
}

fn layer_norm(b: &mut Builder, ctx: &NodeCtx, ins: &[Option<Value>]) -> Outs {
	let x = ctx.req(ins, 0)?;
	let axis = norm_axis(ctx, ctx.attr(ctx.attrs.int_or("axis", -1))?, x.rank())?;
	// stash_type selects the precision of the statistics; float32 is the only one the engine
	// has (and what the ONNX reference uses for float32 inputs).
	ctx.attrs.ignore(&["stash_type"]);
	let eps = ctx.attr(ctx.attrs.float_or("epsilon", 1e-5))?;
	let args: Vec<Option<&Value>> = ins.iter().take(3).map(|v| v.as_ref()).collect();
	let y = b.apply(
		ctx,
		Op::LayerNormalization {
			axis,
			epsilon: eps.into(),
		},
		&args,
	)?;
	if !ctx.output_live(1) && !ctx.output_live(2) {
		return one(y);
	}
	// The IR op has no Mean / InvStdDev outputs: compute them as the ONNX function body does.
	let axes: Vec<u32> = (axis..x.rank() as u32).collect();
	let mean_op = || Op::Reduce {
		kind: ReduceKind::Mean,
		axes: axes.clone(),
		keepdims: true,
	};
	let mean = b.apply(ctx, mean_op(), &[Some(x)])?;
	let inv_std = if ctx.output_live(2) {
		let d = b.apply(ctx, Op::Binary(BinaryOp::Sub), &[Some(x), Some(&mean)])?;
		let dd = b.apply(ctx, Op::Binary(BinaryOp::Mul), &[Some(&d), Some(&d)])?;
		let var = b.apply(ctx, mean_op(), &[Some(&dd)])?;
		let e = Value::anon(Tensor::scalar_f32(eps));
		let ve = b.apply(ctx, Op::Binary(BinaryOp::Add), &[Some(&var), Some(&e)])?;
		let sd = b.apply(ctx, Op::Unary(UnaryOp::Sqrt), &[Some(&ve)])?;
		Some(b.apply(ctx, Op::Unary(UnaryOp::Reciprocal), &[Some(&sd)])?)
	} else {
		None
	};
	Ok(vec![Some(y), Some(mean), inv_std])
}

fn softmax(b: &mut Builder, ctx: &NodeCtx, ins: &[Option<Value>], log: bool) -> Outs {
	let x = ctx.req(ins, 0)?;
	// Before opset 13 the input is coerced to 2-D at `axis` (default 1).
	let coerce_2d = ctx.opset < 13;
	let axis = ctx.attr(ctx.attrs.int_or("axis", if coerce_2d { 1 } else { -1 }))?;
	let axis = norm_axis(ctx, axis, x.rank())?;
	let op = if log {
		Op::LogSoftmax { axis, coerce_2d }
	} else {
		Op::Softmax { axis, coerce_2d }
	};
	one(b.apply(ctx, op, &[Some(x)])?)
}

fn clip(b: &mut Builder, ctx: &NodeCtx, ins: &[Option<Value>]) -> Outs {
	let x = ctx.req(ins, 0)?;
	if ctx.opset < 11 {
		// Bounds were float attributes.
		let lo = ctx
			.attr(ctx.attrs.float("min"))?
			.map(|v| Value::anon(Tensor::scalar_f32(v)));
		let hi = ctx
			.attr(ctx.attrs.float("max"))?
			.map(|v| Value::anon(Tensor::scalar_f32(v)));
		return one(b.apply(ctx, Op::Clip, &[Some(x), lo.as_ref(), hi.as_ref()])?);
	}
	one(b.apply(ctx, Op::Clip, &[Some(x), ctx.opt(ins, 1), ctx.opt(ins, 2)])?)
}

fn binary(b: &mut Builder, ctx: &NodeCtx, ins: &[Option<Value>], op: BinaryOp) -> Outs {
	let x = ctx.req(ins, 0)?;
	let y = ctx.req(ins, 1)?;
	if ctx.opset < 7 {
		// Legacy broadcasting: with `broadcast = 1` and `axis`, B's dims align with A's starting
		// at `axis` (numpy aligns trailing dims, so B gets trailing 1s).
		let broadcast = ctx.attr(ctx.attrs.int_or("broadcast", 0))? != 0;
		let axis = ctx.attr(ctx.attrs.int("axis"))?;
		if let (true, Some(axis)) = (broadcast, axis) {
			let (ra, rb) = (x.rank(), y.rank());
			let axis = if axis < 0 { axis + ra as i64 } else { axis };
			if axis < 0 || axis as usize + rb > ra {
				return Err(ctx.invalid("legacy broadcast axis out of range"));
			}
			let trailing = ra - axis as usize - rb;
			if trailing > 0 {
				let mut shape: Vec<u64> = y.shape().iter().map(|&d| d as u64).collect();
				shape.extend(std::iter::repeat_n(1, trailing));
				let y2 = b.apply(ctx, Op::Reshape { shape }, &[Some(y)])?;
				return one(b.apply(ctx, Op::Binary(op), &[Some(x), Some(&y2)])?);
			}
		}
	}
	one(b.apply(ctx, Op::Binary(op), &[Some(x), Some(y)])?)
}

fn variadic(b: &mut Builder, ctx: &NodeCtx, ins: &[Option<Value>], op: VariadicOp) -> Outs {
	let args: Vec<Option<&Value>> = ins.iter().map(|v| v.as_ref()).collect();
	if args.is_empty() || args.iter().any(Option::is_none) {
		return Err(ctx.invalid("inputs cannot be omitted"));
	}
	one(b.apply(ctx, Op::Variadic(op), &args)?)
}

fn reduce(b: &mut Builder, ctx: &NodeCtx, ins: &[Option<Value>], kind: ReduceKind) -> Outs {
	let x = ctx.req(ins, 0)?;
	// Axes moved from an attribute to an input in opset 13 (ReduceSum) and 18 (the others).
	let axes_input = ctx.opset >= if kind == ReduceKind::Sum { 13 } else { 18 };
	let (axes, noop) = if axes_input {
		let noop = ctx.attr(ctx.attrs.int_or("noop_with_empty_axes", 0))? != 0;
		(ctx.opt_ints(ins, 1)?, noop)
	} else {
		(ctx.attr(ctx.attrs.ints("axes"))?, false)
	};
	let keepdims = ctx.attr(ctx.attrs.int_or("keepdims", 1))? != 0;
	let axes = match axes {
		Some(a) if !a.is_empty() => norm_axes(ctx, &a, x.rank())?,
		_ if noop => Vec::new(),
		_ => (0..x.rank() as u32).collect(),
	};
	let identity_noop = matches!(
		kind,
		ReduceKind::Sum | ReduceKind::Mean | ReduceKind::Max | ReduceKind::Min | ReduceKind::Prod
	);
	if axes.is_empty() && x.rank() > 0 && !identity_noop {
		// The engine's empty-axes reduction is the identity; ONNX's "no-op" for these kinds
		// still applies the elementwise part (square, abs, log, …).
		return Err(ctx.unsupported("noop_with_empty_axes with empty axes"));
	}
	let op = Op::Reduce {
		kind,
		axes,
		keepdims,
	};
	if x.dtype() == DType::Bool && matches!(kind, ReduceKind::Max | ReduceKind::Min) {
		// Max / min of booleans (opset 20) is any / all: the same on 0/1 bytes.
		let u = b.apply(ctx, Op::Cast { to: DType::U8 }, &[Some(x)])?;
		let r = b.apply(ctx, op, &[Some(&u)])?;
		return one(b.apply(ctx, Op::Cast { to: DType::Bool }, &[Some(&r)])?);
	}
	one(b.apply(ctx, op, &[Some(x)])?)
}

fn arg_extremum(b: &mut Builder, ctx: &NodeCtx, ins: &[Option<Value>], max: bool) -> Outs {
	let x = ctx.req(ins, 0)?;
	let axis = norm_axis(ctx, ctx.attr(ctx.attrs.int_or("axis", 0))?, x.rank())?;
	let keepdims = ctx.attr(ctx.attrs.int_or("keepdims", 1))? != 0;
	let select_last_index = ctx.attr(ctx.attrs.int_or("select_last_index", 0))? != 0;
	one(b.apply(
		ctx,
		Op::ArgExtremum {
			max,
			axis,
			keepdims,
			select_last_index,
		},
		&[Some(x)],
	)?)
}

fn reshape(b: &mut Builder, ctx: &NodeCtx, ins: &[Option<Value>]) -> Outs {
	let x = ctx.req(ins, 0)?;
	let spec = if ctx.opset < 5 {
		ctx.attr(ctx.attrs.ints("shape"))?
			.ok_or_else(|| ctx.invalid("shape is required"))?
	} else {
		ctx.req_ints(ins, 1)?
	};
	let allowzero = ctx.attr(ctx.attrs.int_or("allowzero", 0))? != 0;
	let in_shape = x.shape();
	let total: u128 = in_shape.iter().map(|&d| d as u128).product();
	let mut shape = Vec::with_capacity(spec.len());
	let mut infer_at = None;
	for (i, &d) in spec.iter().enumerate() {
		shape.push(match d {
			0 if !allowzero => *in_shape
				.get(i)
				.ok_or_else(|| ctx.invalid("shape copies a dimension the input does not have"))?
				as u64,
			-1 => {
				if infer_at.replace(i).is_some() {
					return Err(ctx.invalid("shape has more than one -1"));
				}
				1
			}
			d if d >= 0 => d as u64,
			d => return Err(ctx.invalid(format!("shape has invalid dimension {d}"))),
		});
	}
	if let Some(i) = infer_at {
		let known: u128 = shape.iter().map(|&d| d as u128).product();
		if known == 0 || !total.is_multiple_of(known) {
			return Err(ctx.invalid("cannot infer the -1 dimension"));
		}
		shape[i] = u64::try_from(total / known).map_err(|_| ctx.invalid("shape too large"))?;
	}
	one(b.apply(ctx, Op::Reshape { shape }, &[Some(x)])?)
}

/// `Split` as one `Slice` per used output: output `k` is `x[.., offset_k .. offset_k + split_k,
/// ..]` along `axis` (`offset_k` = sum of the earlier splits), exactly the data Split copies.
/// Unused outputs produce no node.
fn split(b: &mut Builder, ctx: &NodeCtx, ins: &[Option<Value>]) -> Outs {
	let x = ctx.req(ins, 0)?;
	let axis = norm_axis(ctx, ctx.attr(ctx.attrs.int_or("axis", 0))?, x.rank())?;
	let len = x.shape()[axis as usize] as i64;
	let given = if ctx.opset >= 13 {
		ctx.opt_ints(ins, 1)?
	} else {
		if ctx.opset < 2 && ctx.opt(ins, 1).is_some() {
			return Err(ctx.unsupported("the opset-1 `split` input"));
		}
		ctx.attr(ctx.attrs.ints("split"))?
	};
	let num_outputs = ctx.attr(ctx.attrs.int("num_outputs"))?;
	let splits = match given {
		Some(s) if !s.is_empty() => s,
		_ => {
			let n = num_outputs.unwrap_or(ctx.output_count() as i64);
			if n <= 0 {
				return Err(ctx.invalid("no outputs to split into"));
			}
			if len % n == 0 {
				vec![len / n; n as usize]
			} else if num_outputs.is_some() {
				// Opset 18: chunks of ceil(len / n), the last one smaller.
				let chunk = (len + n - 1) / n;
				let last = len - chunk * (n - 1);
				if last < 0 {
					return Err(ctx.invalid("cannot split into that many outputs"));
				}
				let mut v = vec![chunk; n as usize - 1];
				v.push(last);
				v
			} else {
				return Err(ctx.invalid("axis length is not divisible by the number of outputs"));
			}
		}
	};
	if splits.len() != ctx.output_count() {
		return Err(ctx.invalid("the number of splits differs from the number of outputs"));
	}
	let splits = non_negative(ctx, "split", &splits)?;
	let total = splits.iter().try_fold(0u64, |a, &s| a.checked_add(s));
	if total != Some(len as u64) {
		return Err(ctx.invalid(format!(
			"the splits {splits:?} do not sum to the axis length {len}"
		)));
	}
	let mut outs = Vec::with_capacity(splits.len());
	let mut start = 0i64;
	for (k, &s) in splits.iter().enumerate() {
		// `start + s ≤ len`, which fits `i64`.
		let end = start + s as i64;
		outs.push(if ctx.output_live(k) {
			let op = Op::Slice {
				starts: vec![start],
				ends: vec![end],
				axes: vec![axis],
				steps: vec![1],
			};
			Some(b.apply(ctx, op, &[Some(x)])?)
		} else {
			None
		});
		start = end;
	}
	Ok(outs)
}

fn slice(b: &mut Builder, ctx: &NodeCtx, ins: &[Option<Value>]) -> Outs {
	let x = ctx.req(ins, 0)?;
	let (starts, ends, axes, steps) = if ctx.opset < 10 {
		let starts = ctx
			.attr(ctx.attrs.ints("starts"))?
			.ok_or_else(|| ctx.invalid("starts is required"))?;
		let ends = ctx
			.attr(ctx.attrs.ints("ends"))?
			.ok_or_else(|| ctx.invalid("ends is required"))?;
		(starts, ends, ctx.attr(ctx.attrs.ints("axes"))?, None)
	} else {
		(
			ctx.req_ints(ins, 1)?,
			ctx.req_ints(ins, 2)?,
			ctx.opt_ints(ins, 3)?,
			ctx.opt_ints(ins, 4)?,
		)
	};
	let n = starts.len();
	let axes = match axes {
		Some(a) => a
			.iter()
			.map(|&a| norm_axis(ctx, a, x.rank()))
			.collect::<Result<Vec<_>, _>>()?,
		None => (0..n as u32).collect(),
	};
	let steps = steps.unwrap_or_else(|| vec![1; n]);
	one(b.apply(
		ctx,
		Op::Slice {
			starts,
			ends,
			axes,
			steps,
		},
		&[Some(x)],
	)?)
}

fn squeeze(b: &mut Builder, ctx: &NodeCtx, ins: &[Option<Value>]) -> Outs {
	let x = ctx.req(ins, 0)?;
	let axes = if ctx.opset >= 13 {
		ctx.opt_ints(ins, 1)?
	} else {
		ctx.attr(ctx.attrs.ints("axes"))?
	};
	let axes = match axes {
		Some(a) if !a.is_empty() => norm_axes(ctx, &a, x.rank())?,
		_ => x
			.shape()
			.iter()
			.enumerate()
			.filter(|(_, &d)| d == 1)
			.map(|(i, _)| i as u32)
			.collect(),
	};
	one(b.apply(ctx, Op::Squeeze { axes }, &[Some(x)])?)
}

fn unsqueeze(b: &mut Builder, ctx: &NodeCtx, ins: &[Option<Value>]) -> Outs {
	let x = ctx.req(ins, 0)?;
	let axes = if ctx.opset >= 13 {
		ctx.req_ints(ins, 1)?
	} else {
		ctx.attr(ctx.attrs.ints("axes"))?
			.ok_or_else(|| ctx.invalid("axes is required"))?
	};
	let axes = norm_axes(ctx, &axes, x.rank() + axes.len())?;
	one(b.apply(ctx, Op::Unsqueeze { axes }, &[Some(x)])?)
}

fn pad(b: &mut Builder, ctx: &NodeCtx, ins: &[Option<Value>]) -> Outs {
	let x = ctx.req(ins, 0)?;
	let r = x.rank();
	let mode = match ctx.attr(ctx.attrs.string_or("mode", "constant"))?.as_str() {
		"constant" => PadMode::Constant,
		"reflect" => PadMode::Reflect,
		"edge" => PadMode::Edge,
		"wrap" => PadMode::Wrap,
		other => return Err(ctx.invalid(format!("unknown mode {other:?}"))),
	};
	let legacy_value;
	let (pads, value, axes) = if ctx.opset < 11 {
		let pads = match ctx.attr(ctx.attrs.ints("pads"))? {
			Some(p) => p,
			None => ctx
				.attr(ctx.attrs.ints("paddings"))?
				.ok_or_else(|| ctx.invalid("pads is required"))?,
		};
		let v = ctx.attr(ctx.attrs.float_or("value", 0.0))?;
		legacy_value = (v.to_bits() != 0).then(|| Value::anon(Tensor::scalar_f32(v)));
		(pads, legacy_value.as_ref(), None)
	} else {
		(
			ctx.req_ints(ins, 1)?,
			ctx.opt(ins, 2),
			ctx.opt_ints(ins, 3)?,
		)
	};
	let pads = match axes {
		None => pads,
		Some(axes) => {
			let k = axes.len();
			if pads.len() != 2 * k {
				return Err(ctx.invalid("pads must have 2 values per axis"));
			}
			let mut full = vec![0i64; 2 * r];
			for (j, &a) in axes.iter().enumerate() {
				let a = norm_axis(ctx, a, r)? as usize;
				full[a] = pads[j];
				full[a + r] = pads[j + k];
			}
			full
		}
	};
	one(b.apply(ctx, Op::Pad { mode, pads }, &[Some(x), value])?)
}

fn dropout(ctx: &NodeCtx, ins: &[Option<Value>]) -> Outs {
	let x = ctx.req(ins, 0)?;
	ctx.attrs.ignore(&["seed", "is_test"]);
	let (ratio, training) = if ctx.opset >= 12 {
		let ratio = match ctx.opt_floats(ins, 1)? {
			Some(r) => *r.first().ok_or_else(|| ctx.invalid("ratio is empty"))?,
			None => 0.5,
		};
		let training = match ctx.opt_const(ins, 2)? {
			Some(t) => t
				.as_bool()
				.ok()
				.and_then(|v| v.first().copied())
				.unwrap_or(false),
			None => false,
		};
		(ratio, training)
	} else {
		(ctx.attr(ctx.attrs.float_or("ratio", 0.5))?, false)
	};
	if training && ratio != 0.0 {
		return Err(ctx.unsupported("training-mode Dropout (random) with a non-zero ratio"));
	}
	let mask = if ctx.output_live(1) {
		let shape = x.shape();
		let n = shape.iter().product();
		let t = Tensor::from_bool(&shape, vec![true; n]).map_err(|e| ctx.invalid(e.to_string()))?;
		Some(Value::anon(t))
	} else {
		None
	};
	Ok(vec![Some(x.clone()), mask])
}

fn constant(ctx: &NodeCtx) -> Result<Tensor, CompileError> {
	let a = &ctx.attrs;
	if let Some(t) = ctx.attr(a.tensor("value"))? {
		return tensor_from_proto(t);
	}
	if let Some(v) = ctx.attr(a.float("value_float"))? {
		return Ok(Tensor::scalar_f32(v));
	}
	if let Some(v) = ctx.attr(a.floats("value_floats"))? {
		return Tensor::from_f32(&[v.len()], v).map_err(|e| ctx.invalid(e.to_string()));
	}
	if let Some(v) = ctx.attr(a.int("value_int"))? {
		return Ok(Tensor::scalar_i64(v));
	}
	if let Some(v) = ctx.attr(a.ints("value_ints"))? {
		return Tensor::from_i64(&[v.len()], v).map_err(|e| ctx.invalid(e.to_string()));
	}
	for unsupported in ["sparse_value", "value_string", "value_strings"] {
		if a.has(unsupported) {
			return Err(ctx.unsupported(format!("attribute {unsupported}")));
		}
	}
	Err(ctx.invalid("no value attribute"))
}

fn shape(ctx: &NodeCtx, ins: &[Option<Value>]) -> Outs {
	let s = ctx.req(ins, 0)?.shape();
	let r = s.len() as i64;
	let clamp = |v: i64| (if v < 0 { v + r } else { v }).clamp(0, r) as usize;
	let start = clamp(ctx.attr(ctx.attrs.int_or("start", 0))?);
	let end = clamp(ctx.attr(ctx.attrs.int_or("end", r))?);
	let dims: Vec<i64> = s
		.get(start..end.max(start))
		.unwrap_or(&[])
		.iter()
		.map(|&d| d as i64)
		.collect();
	one(Value::anon(
		Tensor::from_i64(&[dims.len()], dims).map_err(|e| ctx.invalid(e.to_string()))?,
	))
}

fn range(ctx: &NodeCtx, ins: &[Option<Value>]) -> Outs {
	let (start, limit, delta) = (
		ctx.req_const(ins, 0)?,
		ctx.req_const(ins, 1)?,
		ctx.req_const(ins, 2)?,
	);
	let bad = || ctx.invalid("start, limit and delta must be scalars of one numeric type");
	if start.len() != 1 || limit.len() != 1 || delta.len() != 1 {
		return Err(bad());
	}
	let t = match start.dtype() {
		DType::F32 => {
			let f = |t: &Tensor| t.as_f32().map(|v| v[0]).map_err(|_| bad());
			let (s, l, d) = (f(start)?, f(limit)?, f(delta)?);
			let n = ((l as f64 - s as f64) / d as f64).ceil().max(0.0);
			if n.is_nan() || n > (1u64 << 28) as f64 {
				return Err(ctx.invalid("range too large"));
			}
			let v: Vec<f32> = (0..n as usize).map(|i| s + i as f32 * d).collect();
			Tensor::from_f32(&[v.len()], v)
		}
		DType::I64 | DType::I32 => {
			let f = |t: &Tensor| {
				crate::lower::ints_of(t)
					.filter(|_| t.dtype() == start.dtype())
					.map(|v| v[0])
					.ok_or_else(bad)
			};
			let (s, l, d) = (f(start)? as i128, f(limit)? as i128, f(delta)? as i128);
			if d == 0 {
				return Err(ctx.invalid("delta is zero"));
			}
			let n = ((l - s) + d - d.signum()) / d;
			let n = n.max(0);
			if n > 1 << 28 {
				return Err(ctx.invalid("range too large"));
			}
			let v: Vec<i64> = (0..n).map(|i| (s + i * d) as i64).collect();
			if start.dtype() == DType::I64 {
				Tensor::from_i64(&[v.len()], v)
			} else {
				Tensor::from_i32(&[v.len()], v.into_iter().map(|x| x as i32).collect())
			}
		}
		_ => return Err(bad()),
	};
	one(Value::anon(t.map_err(|e| ctx.invalid(e.to_string()))?))
}

fn resize(b: &mut Builder, ctx: &NodeCtx, ins: &[Option<Value>]) -> Outs {
	let x = ctx.req(ins, 0)?;
	let r = x.rank();
	let in_shape = x.shape();
	let mode = match ctx.attr(ctx.attrs.string_or("mode", "nearest"))?.as_str() {
		"nearest" => ResizeMode::Nearest,
		"linear" | "bilinear" => ResizeMode::Linear,
		"cubic" => ResizeMode::Cubic,
		other => return Err(ctx.invalid(format!("unknown mode {other:?}"))),
	};
	// Upsample and Resize-10: scales only, asymmetric coordinates, nearest rounds down.
	let legacy = ctx.op_type() == "Upsample" || ctx.opset < 11;
	let mut attrs = ResizeAttrs {
		mode,
		coord: CoordMode::Asymmetric,
		nearest: NearestMode::Floor,
		sizes: Vec::new(),
		scales: Vec::new(),
		roi: Vec::new(),
		cubic_coeff_a: F32Bits::new(-0.75),
		exclude_outside: false,
		extrapolation_value: F32Bits::new(0.0),
		antialias: false,
	};
	let (scales, sizes, axes) = if legacy {
		let scales = match ctx.attr(ctx.attrs.floats("scales"))? {
			Some(s) => s,
			None => ctx
				.opt_floats(ins, 1)?
				.ok_or_else(|| ctx.invalid("scales are required"))?,
		};
		(Some(scales), None, None)
	} else {
		attrs.coord = match ctx
			.attr(
				ctx.attrs
					.string_or("coordinate_transformation_mode", "half_pixel"),
			)?
			.as_str()
		{
			"half_pixel" => CoordMode::HalfPixel,
			"pytorch_half_pixel" => CoordMode::PytorchHalfPixel,
			"align_corners" => CoordMode::AlignCorners,
			"asymmetric" => CoordMode::Asymmetric,
			"tf_crop_and_resize" => CoordMode::TfCropAndResize,
			"half_pixel_symmetric" => CoordMode::HalfPixelSymmetric,
			other => {
				return Err(ctx.unsupported(format!("coordinate_transformation_mode {other:?}")))
			}
		};
		attrs.nearest = match ctx
			.attr(ctx.attrs.string_or("nearest_mode", "round_prefer_floor"))?
			.as_str()
		{
			"round_prefer_floor" => NearestMode::RoundPreferFloor,
			"round_prefer_ceil" => NearestMode::RoundPreferCeil,
			"floor" => NearestMode::Floor,
			"ceil" => NearestMode::Ceil,
			other => return Err(ctx.invalid(format!("unknown nearest_mode {other:?}"))),
		};
		attrs.cubic_coeff_a = ctx.attr(ctx.attrs.float_or("cubic_coeff_a", -0.75))?.into();
		attrs.exclude_outside = ctx.attr(ctx.attrs.int_or("exclude_outside", 0))? != 0;
		attrs.extrapolation_value = ctx
			.attr(ctx.attrs.float_or("extrapolation_value", 0.0))?
			.into();
		attrs.antialias = ctx.attr(ctx.attrs.int_or("antialias", 0))? != 0;
		let scales = ctx.opt_floats(ins, 2)?.filter(|s| !s.is_empty());
		let sizes = ctx.opt_ints(ins, 3)?.filter(|s| !s.is_empty());
		(scales, sizes, ctx.attr(ctx.attrs.ints("axes"))?)
	};
	let policy = ctx.attr(ctx.attrs.string_or("keep_aspect_ratio_policy", "stretch"))?;
	let axes: Vec<usize> = match &axes {
		Some(a) => a
			.iter()
			.map(|&a| norm_axis(ctx, a, r).map(|a| a as usize))
			.collect::<Result<_, _>>()?,
		None => (0..r).collect(),
	};
	match (scales, sizes) {
		(Some(scales), None) => {
			if scales.len() != axes.len() {
				return Err(ctx.invalid("scales must have one value per axis"));
			}
			let mut full = vec![1.0f32; r];
			for (&a, &s) in axes.iter().zip(&scales) {
				full[a] = s;
			}
			// Output size = floor(in · scale), computed in f64 as the reference does.
			attrs.sizes = in_shape
				.iter()
				.zip(&full)
				.map(|(&d, &s)| (d as f64 * s as f64).floor().max(0.0) as u64)
				.collect();
			attrs.scales = full.into_iter().map(F32Bits::new).collect();
		}
		(None, Some(sizes)) => {
			if sizes.len() != axes.len() {
				return Err(ctx.invalid("sizes must have one value per axis"));
			}
			let sizes = non_negative(ctx, "sizes", &sizes)?;
			let mut full: Vec<u64> = in_shape.iter().map(|&d| d as u64).collect();
			match policy.as_str() {
				"stretch" => {
					for (&a, &s) in axes.iter().zip(&sizes) {
						full[a] = s;
					}
				}
				"not_larger" | "not_smaller" => {
					let ratios = axes
						.iter()
						.zip(&sizes)
						.map(|(&a, &s)| s as f64 / in_shape[a] as f64);
					let scale = if policy == "not_larger" {
						ratios.fold(f64::INFINITY, f64::min)
					} else {
						ratios.fold(f64::NEG_INFINITY, f64::max)
					};
					let mut sc = vec![1.0f32; r];
					for &a in &axes {
						full[a] = (scale * in_shape[a] as f64 + 0.5).floor() as u64;
						sc[a] = scale as f32;
					}
					attrs.scales = sc.into_iter().map(F32Bits::new).collect();
				}
				other => {
					return Err(ctx.invalid(format!("unknown keep_aspect_ratio_policy {other:?}")))
				}
			}
			attrs.sizes = full;
		}
		_ => return Err(ctx.invalid("exactly one of scales and sizes must be given")),
	}
	if attrs.coord == CoordMode::TfCropAndResize {
		let roi = ctx
			.opt_floats(ins, 1)?
			.ok_or_else(|| ctx.invalid("tf_crop_and_resize needs roi"))?;
		let k = axes.len();
		if roi.len() != 2 * k {
			return Err(ctx.invalid("roi must have 2 values per axis"));
		}
		let mut full = vec![0.0f32; 2 * r];
		full[r..].fill(1.0);
		for (j, &a) in axes.iter().enumerate() {
			full[a] = roi[j];
			full[a + r] = roi[j + k];
		}
		attrs.roi = full.into_iter().map(F32Bits::new).collect();
	}
	one(b.apply(ctx, Op::Resize(attrs), &[Some(x)])?)
}

fn quant_linear(b: &mut Builder, ctx: &NodeCtx, ins: &[Option<Value>], quantize: bool) -> Outs {
	let x = ctx.req(ins, 0)?;
	let scale = ctx.req(ins, 1)?;
	if ctx.attr(ctx.attrs.int_or("block_size", 0))? != 0 {
		return Err(ctx.unsupported("blocked quantization (block_size)"));
	}
	// `saturate` only affects float8 types, which the engine does not have.
	ctx.attrs.ignore(&["saturate"]);
	let per_axis = scale.rank() > 1 || scale.shape().iter().product::<usize>() != 1;
	let axis = ctx.attr(ctx.attrs.int_or("axis", 1))?;
	let axis = if per_axis {
		norm_axis(ctx, axis, x.rank())?
	} else {
		0
	};
	let out_dtype =
		match ctx.attr(ctx.attrs.int("output_dtype"))? {
			None | Some(0) => None,
			Some(code) => Some(dtype_from_onnx(code as i32).ok_or_else(|| {
				CompileError::UnsupportedDType {
					name: ctx.node.output.first().cloned().unwrap_or_default(),
					dtype: onnx_dtype_name(code as i32),
				}
			})?),
		};
	let mut zp = ctx.opt(ins, 2).cloned();
	if let Some(Value::Const { t, .. }) = &zp {
		// Zero points of shape [1] next to a scalar scale (or the reverse) are common; the IR
		// wants the same shape.
		if t.shape() != scale.shape().as_slice()
			&& t.len() == scale.shape().iter().product::<usize>()
		{
			let t = (**t)
				.clone()
				.reshape(scale.shape())
				.map_err(|e| ctx.invalid(e.to_string()))?;
			zp = Some(Value::anon(t));
		}
	}
	if quantize {
		if let Some(dt) = out_dtype {
			match &zp {
				Some(z) if z.dtype() != dt => {
					return Err(ctx.invalid("output_dtype differs from the zero point's type"))
				}
				Some(_) => {}
				None => {
					zp = Some(Value::anon(
						Tensor::zeros(dt, &scale.shape())
							.map_err(|e| ctx.invalid(e.to_string()))?,
					))
				}
			}
		}
	}
	let op = if quantize {
		Op::QuantizeLinear { axis }
	} else {
		Op::DequantizeLinear { axis }
	};
	one(b.apply(ctx, op, &[Some(x), Some(scale), zp.as_ref()])?)
}
