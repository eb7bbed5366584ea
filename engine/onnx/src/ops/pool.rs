//! Pooling: windowed and global, max and average.

use verity_engine::ir::{Op, PoolAttrs};

use super::{conv::window_pads, int_list, one, simple, to_u32s, Outs, Registry};
use crate::{
	error::CompileError,
	lower::{Builder, NodeCtx, Value},
};

pub(super) fn register(r: &mut Registry) {
	r.insert("MaxPool", |b, ctx, ins| max_pool(b, ctx, ins));
	r.insert("AveragePool", |b, ctx, ins| {
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
	});
	r.insert_simple("GlobalAveragePool", Op::GlobalAveragePool);
	r.insert_simple("GlobalMaxPool", Op::GlobalMaxPool);
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
