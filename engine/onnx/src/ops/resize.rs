//! `Resize` and its predecessor `Upsample`: attributes and inputs resolved to explicit output
//! sizes, scales and region of interest.

use verity_engine::ir::{CoordMode, F32Bits, NearestMode, Op, ResizeAttrs, ResizeMode};

use super::{non_negative, norm_axis, one, Outs, Registry};
use crate::lower::{Builder, NodeCtx, Value};

pub(super) fn register(r: &mut Registry) {
	r.insert("Resize", |b, ctx, ins| resize(b, ctx, ins));
	r.insert("Upsample", |b, ctx, ins| resize(b, ctx, ins));
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
