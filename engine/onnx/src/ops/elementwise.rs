//! Elementwise math: unary functions, binary arithmetic, comparisons and logic (with
//! legacy broadcasting), variadic reductions over inputs, `Where`.

use verity_engine::{
	ir::{BinaryOp, Op, UnaryOp, VariadicOp},
	Tensor,
};

use super::{one, Outs, Registry};
use crate::lower::{Builder, NodeCtx, Value};

pub(super) fn register(r: &mut Registry) {
	for (op_type, op) in [
		("Neg", UnaryOp::Neg),
		("Abs", UnaryOp::Abs),
		("Sqrt", UnaryOp::Sqrt),
		("Exp", UnaryOp::Exp),
		("Log", UnaryOp::Log),
		("Reciprocal", UnaryOp::Reciprocal),
		("Floor", UnaryOp::Floor),
		("Ceil", UnaryOp::Ceil),
		("Round", UnaryOp::Round),
		("Sign", UnaryOp::Sign),
		("Erf", UnaryOp::Erf),
		("Sin", UnaryOp::Sin),
		("Cos", UnaryOp::Cos),
		("Not", UnaryOp::Not),
		("IsNaN", UnaryOp::IsNaN),
	] {
		r.insert_simple(op_type, Op::Unary(op));
	}
	r.insert("IsInf", |b, ctx, ins| {
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
	});
	for (op_type, op) in [
		("Add", BinaryOp::Add),
		("Sub", BinaryOp::Sub),
		("Mul", BinaryOp::Mul),
		("Div", BinaryOp::Div),
		("Pow", BinaryOp::Pow),
		("And", BinaryOp::And),
		("Or", BinaryOp::Or),
		("Xor", BinaryOp::Xor),
		("Equal", BinaryOp::Equal),
		("Less", BinaryOp::Less),
		("LessOrEqual", BinaryOp::LessOrEqual),
		("Greater", BinaryOp::Greater),
		("GreaterOrEqual", BinaryOp::GreaterOrEqual),
	] {
		r.insert(op_type, move |b, ctx, ins| binary(b, ctx, ins, op));
	}
	for (op_type, op) in [
		("Sum", VariadicOp::Sum),
		("Mean", VariadicOp::Mean),
		("Min", VariadicOp::Min),
		("Max", VariadicOp::Max),
	] {
		r.insert(op_type, move |b, ctx, ins| variadic(b, ctx, ins, op));
	}
	r.insert("Mod", |b, ctx, ins| {
		let fmod = ctx.attr(ctx.attrs.int_or("fmod", 0))? != 0;
		binary(
			b,
			ctx,
			ins,
			if fmod { BinaryOp::Fmod } else { BinaryOp::Mod },
		)
	});
	r.insert_simple("Where", Op::Where);
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
