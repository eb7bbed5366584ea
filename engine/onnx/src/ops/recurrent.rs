//! Recurrent networks: `RNN`, `GRU` and `LSTM`, unrolled over the sequence length the input
//! shapes fix at compile time into IR ops the engine already has (`MatMul`, `Slice`, `Add`,
//! `Mul`, activations, `Concat`), so every step runs bit-identically in wasm and is adjudicable
//! by the single-node fraud proof.
//!
//! Canonical order of each step: `X·Wᵀ` is one `MatMul` over all steps at once (plus `Wb`), then
//! per step `H·Rᵀ` (plus `Rb`) is added to the step's slice of it, gate by gate as the ONNX
//! equations write them; the reductions inside each `MatMul` are the engine's. Directions are
//! lowered independently (forward, then reverse) and concatenated.
//!
//! `sequence_lens` must be a constant: lengths equal to the sequence length are ignored; shorter
//! ones are honoured for the forward direction (a finished row keeps its state and outputs zeros)
//! and refused for the others. `LSTM`'s `input_forget` is refused.

use verity_engine::{
	ir::{BinaryOp, F32Bits, Op, UnaryOp},
	Tensor,
};

use super::{apply, bin, reshape_to, slice_axis, transpose_to, Outs, Registry};
use crate::{
	error::CompileError,
	lower::{Builder, NodeCtx, Value},
};

pub(super) fn register(r: &mut Registry) {
	r.insert("RNN", |b, ctx, ins| recurrent(b, ctx, ins, Cell::Rnn));
	r.insert("GRU", |b, ctx, ins| recurrent(b, ctx, ins, Cell::Gru));
	r.insert("LSTM", |b, ctx, ins| recurrent(b, ctx, ins, Cell::Lstm));
}

type Res<T> = Result<T, CompileError>;

#[derive(Clone, Copy, PartialEq)]
enum Cell {
	Rnn,
	Gru,
	Lstm,
}

impl Cell {
	/// Gates stacked in `W`, `R` and each half of `B`.
	fn gates(self) -> usize {
		match self {
			Cell::Rnn => 1,
			Cell::Gru => 3,
			Cell::Lstm => 4,
		}
	}

	/// The activation functions of one direction, by default.
	fn default_activations(self) -> &'static [&'static str] {
		match self {
			Cell::Rnn => &["Tanh"],
			Cell::Gru => &["Sigmoid", "Tanh"],
			Cell::Lstm => &["Sigmoid", "Tanh", "Tanh"],
		}
	}
}

/// One activation function of the ONNX recurrent operators, with its parameters.
#[derive(Clone)]
struct Activation {
	name: String,
	alpha: f32,
	beta: f32,
}

impl Activation {
	fn activate(&self, b: &mut Builder, ctx: &NodeCtx, x: &Value) -> Res<Value> {
		let (alpha, beta) = (F32Bits::new(self.alpha), F32Bits::new(self.beta));
		let s = |v: f32| Value::anon(Tensor::scalar_f32(v));
		match self.name.as_str() {
			"Sigmoid" => apply(b, ctx, Op::Sigmoid, &[x]),
			"Tanh" => apply(b, ctx, Op::Tanh, &[x]),
			"Relu" => apply(b, ctx, Op::Relu, &[x]),
			"Softplus" => apply(b, ctx, Op::Softplus, &[x]),
			"LeakyRelu" => apply(b, ctx, Op::LeakyRelu { alpha }, &[x]),
			"Elu" => apply(b, ctx, Op::Elu { alpha }, &[x]),
			"HardSigmoid" => apply(b, ctx, Op::HardSigmoid { alpha, beta }, &[x]),
			"Affine" => {
				let m = bin(b, ctx, BinaryOp::Mul, x, &s(self.alpha))?;
				bin(b, ctx, BinaryOp::Add, &m, &s(self.beta))
			}
			"ScaledTanh" => {
				let m = bin(b, ctx, BinaryOp::Mul, x, &s(self.beta))?;
				let t = apply(b, ctx, Op::Tanh, &[&m])?;
				bin(b, ctx, BinaryOp::Mul, &t, &s(self.alpha))
			}
			"ThresholdedRelu" => {
				let above = bin(b, ctx, BinaryOp::Greater, x, &s(self.alpha))?;
				apply(b, ctx, Op::Where, &[&above, x, &s(0.0)])
			}
			"Softsign" => {
				let a = apply(b, ctx, Op::Unary(UnaryOp::Abs), &[x])?;
				let d = bin(b, ctx, BinaryOp::Add, &s(1.0), &a)?;
				bin(b, ctx, BinaryOp::Div, x, &d)
			}
			other => Err(ctx.invalid(format!("unknown activation {other:?}"))),
		}
	}
}

/// The activations of every direction, with `activation_alpha` / `activation_beta` consumed in
/// order by the functions that take them (the defaults onnxruntime uses otherwise).
fn activations(ctx: &NodeCtx, cell: Cell, directions: usize) -> Res<Vec<Vec<Activation>>> {
	let per_direction = cell.default_activations().len();
	let names = match ctx.attr(ctx.attrs.strings("activations"))? {
		Some(names) if names.len() == per_direction * directions => names,
		Some(names) if names.len() == per_direction => names
			.iter()
			.cycle()
			.take(per_direction * directions)
			.cloned()
			.collect(),
		Some(names) => {
			return Err(ctx.invalid(format!(
				"{} activations, expected {per_direction} per direction",
				names.len()
			)))
		}
		None => cell
			.default_activations()
			.iter()
			.cycle()
			.take(per_direction * directions)
			.map(|s| s.to_string())
			.collect(),
	};
	let mut alphas = ctx
		.attr(ctx.attrs.floats("activation_alpha"))?
		.unwrap_or_default()
		.into_iter();
	let mut betas = ctx
		.attr(ctx.attrs.floats("activation_beta"))?
		.unwrap_or_default()
		.into_iter();
	let all: Vec<Activation> = names
		.into_iter()
		.map(|name| {
			let (alpha, beta) = match name.as_str() {
				"LeakyRelu" => (alphas.next().unwrap_or(0.01), 0.0),
				"ThresholdedRelu" | "Elu" => (alphas.next().unwrap_or(1.0), 0.0),
				"HardSigmoid" => (alphas.next().unwrap_or(0.2), betas.next().unwrap_or(0.5)),
				"Affine" | "ScaledTanh" => {
					(alphas.next().unwrap_or(1.0), betas.next().unwrap_or(0.0))
				}
				_ => (0.0, 0.0),
			};
			Activation { name, alpha, beta }
		})
		.collect();
	Ok(all.chunks(per_direction).map(<[_]>::to_vec).collect())
}

fn concat(b: &mut Builder, ctx: &NodeCtx, axis: u32, parts: &[Value]) -> Res<Value> {
	let args: Vec<&Value> = parts.iter().collect();
	apply(b, ctx, Op::Concat { axis }, &args)
}

/// `[2-D matrix]ᵀ`-ready slice of a per-direction weight: `w[d]` as `[rows, cols]`, transposed.
fn direction_matrix_t(
	b: &mut Builder,
	ctx: &NodeCtx,
	w: &Value,
	d: usize,
	rows: usize,
	cols: usize,
) -> Res<Value> {
	let wd = slice_axis(b, ctx, w, 0, d, d + 1)?;
	let wd = reshape_to(b, ctx, &wd, &[rows, cols])?;
	transpose_to(b, ctx, &wd, &[1, 0])
}

fn recurrent(b: &mut Builder, ctx: &NodeCtx, ins: &[Option<Value>], cell: Cell) -> Outs {
	let x = ctx.req(ins, 0)?;
	let w = ctx.req(ins, 1)?;
	let r = ctx.req(ins, 2)?;
	let hidden = ctx
		.attr(ctx.attrs.int("hidden_size"))?
		.ok_or_else(|| ctx.invalid("hidden_size is required"))?;
	let hidden = usize::try_from(hidden)
		.ok()
		.filter(|&h| h >= 1)
		.ok_or_else(|| ctx.invalid("hidden_size must be positive"))?;
	let directions = match ctx
		.attr(ctx.attrs.string_or("direction", "forward"))?
		.as_str()
	{
		"forward" => vec![false],
		"reverse" => vec![true],
		"bidirectional" => vec![false, true],
		other => return Err(ctx.invalid(format!("unknown direction {other:?}"))),
	};
	let nd = directions.len();
	let layout = ctx.attr(ctx.attrs.int_or("layout", 0))?;
	let clip = ctx.attr(ctx.attrs.float("clip"))?;
	let linear_before_reset =
		cell == Cell::Gru && ctx.attr(ctx.attrs.int_or("linear_before_reset", 0))? != 0;
	if cell == Cell::Lstm && ctx.attr(ctx.attrs.int_or("input_forget", 0))? != 0 {
		return Err(ctx.unsupported("input_forget = 1"));
	}
	let acts = activations(ctx, cell, nd)?;

	// X as [seq, batch, input].
	let x = match layout {
		0 => x.clone(),
		1 => transpose_to(b, ctx, x, &[1, 0, 2])?,
		other => return Err(ctx.invalid(format!("layout must be 0 or 1, got {other}"))),
	};
	let (seq, batch, input) = match x.shape().as_slice() {
		&[s, n, i] => (s, n, i),
		s => return Err(ctx.invalid(format!("X must be 3-D, got shape {s:?}"))),
	};
	let g = cell.gates();
	let want_w = [nd, g * hidden, input];
	let want_r = [nd, g * hidden, hidden];
	if w.shape() != want_w || r.shape() != want_r {
		return Err(ctx.invalid(format!(
			"W {:?} and R {:?} must be {want_w:?} and {want_r:?}",
			w.shape(),
			r.shape()
		)));
	}
	let bias = ctx.opt(ins, 3);
	if let Some(bv) = bias {
		if bv.shape() != [nd, 2 * g * hidden] {
			return Err(ctx.invalid(format!("B must be [{nd}, {}]", 2 * g * hidden)));
		}
	}
	// Row lengths: constant, and equal to the sequence length unless the only direction is
	// forward.
	let lengths: Option<Vec<i64>> = match ctx.opt_const(ins, 4)? {
		None => None,
		Some(t) => {
			let l = crate::lower::ints_of(t)
				.ok_or_else(|| ctx.invalid("sequence_lens must be int32 or int64"))?;
			if l.len() != batch || l.iter().any(|&n| n < 0 || n as usize > seq) {
				return Err(ctx.invalid(format!(
					"sequence_lens {l:?} for batch {batch} and sequence length {seq}"
				)));
			}
			Some(l).filter(|l| l.iter().any(|&n| n as usize != seq))
		}
	};
	if lengths.is_some() && directions != [false] {
		return Err(ctx.unsupported(
			"sequence_lens shorter than the sequence for a reverse or bidirectional layer",
		));
	}
	let state_shape = [nd, batch, hidden];
	let initial = |k: usize| -> Res<Option<&Value>> {
		match ctx.opt(ins, k) {
			Some(v) if layout == 0 && v.shape() != state_shape => {
				Err(ctx.invalid(format!("initial state {k} must be {state_shape:?}")))
			}
			other => Ok(other),
		}
	};
	let (initial_h, initial_c) = (
		initial(5)?,
		if cell == Cell::Lstm {
			initial(6)?
		} else {
			None
		},
	);
	let peepholes = if cell == Cell::Lstm {
		ctx.opt(ins, 7)
	} else {
		None
	};
	let to_dir_major = |b: &mut Builder, v: &Value| -> Res<Value> {
		// layout 1 stores states as [batch, directions, hidden].
		if layout == 1 {
			transpose_to(b, ctx, v, &[1, 0, 2])
		} else {
			Ok(v.clone())
		}
	};
	let initial_h = initial_h.map(|v| to_dir_major(b, v)).transpose()?;
	let initial_c = initial_c.map(|v| to_dir_major(b, v)).transpose()?;

	let zeros = Value::anon(
		Tensor::from_f32(&[batch, hidden], vec![0.0; batch * hidden])
			.map_err(|e| ctx.invalid(e.to_string()))?,
	);
	let flat_x = reshape_to(b, ctx, &x, &[seq * batch, input])?;
	let (mut ys, mut hs, mut cs) = (Vec::new(), Vec::new(), Vec::new());
	for (d, &reverse) in directions.iter().enumerate() {
		let act = &acts[d];
		let wt = direction_matrix_t(b, ctx, w, d, g * hidden, input)?; // [input, g·h]
		let rt = direction_matrix_t(b, ctx, r, d, g * hidden, hidden)?; // [h, g·h]
		let (wb, rb) = match bias {
			Some(bv) => {
				let bd = slice_axis(b, ctx, bv, 0, d, d + 1)?;
				let bd = reshape_to(b, ctx, &bd, &[2 * g * hidden])?;
				(
					Some(slice_axis(b, ctx, &bd, 0, 0, g * hidden)?),
					Some(slice_axis(b, ctx, &bd, 0, g * hidden, 2 * g * hidden)?),
				)
			}
			None => (None, None),
		};
		let mut xw = apply(b, ctx, Op::MatMul, &[&flat_x, &wt])?;
		if let Some(wb) = &wb {
			xw = bin(b, ctx, BinaryOp::Add, &xw, wb)?;
		}
		let xw = reshape_to(b, ctx, &xw, &[seq, batch, g * hidden])?;
		// Per-gate recurrence weights and biases (gate k: columns k·h .. (k+1)·h).
		let gate_cols = |b: &mut Builder, v: &Value, axis: u32, k: usize| {
			slice_axis(b, ctx, v, axis, k * hidden, (k + 1) * hidden)
		};
		let r_gate: Vec<Value> = (0..g)
			.map(|k| gate_cols(b, &rt, 1, k))
			.collect::<Res<_>>()?;
		let rb_gate: Vec<Option<Value>> = (0..g)
			.map(|k| rb.as_ref().map(|rb| gate_cols(b, rb, 0, k)).transpose())
			.collect::<Res<_>>()?;
		let state = |b: &mut Builder, v: Option<&Value>| -> Res<Value> {
			match v {
				Some(v) => {
					let s = slice_axis(b, ctx, v, 0, d, d + 1)?;
					reshape_to(b, ctx, &s, &[batch, hidden])
				}
				None => Ok(zeros.clone()),
			}
		};
		let mut h = state(b, initial_h.as_ref())?;
		let mut c = state(b, initial_c.as_ref())?;
		let p: Option<Vec<Value>> = match peepholes {
			Some(pv) => {
				let pd = slice_axis(b, ctx, pv, 0, d, d + 1)?;
				let pd = reshape_to(b, ctx, &pd, &[3 * hidden])?;
				Some(
					(0..3)
						.map(|k| gate_cols(b, &pd, 0, k))
						.collect::<Res<_>>()?,
				)
			}
			None => None,
		};
		let mut outputs: Vec<Option<Value>> = vec![None; seq];
		let steps: Vec<usize> = if reverse {
			(0..seq).rev().collect()
		} else {
			(0..seq).collect()
		};
		for t in steps {
			let xt = slice_axis(b, ctx, &xw, 0, t, t + 1)?;
			let xt = reshape_to(b, ctx, &xt, &[batch, g * hidden])?;
			// Gate k's pre-activation: X·Wₖᵀ + Wbₖ + H·Rₖᵀ + Rbₖ (H optionally replaced).
			let pre = |b: &mut Builder, k: usize, hr: Option<Value>| -> Res<Value> {
				let xk = gate_cols(b, &xt, 1, k)?;
				let hr = match hr {
					Some(v) => v,
					None => {
						let mut v = apply(b, ctx, Op::MatMul, &[&h, &r_gate[k]])?;
						if let Some(rbk) = &rb_gate[k] {
							v = bin(b, ctx, BinaryOp::Add, &v, rbk)?;
						}
						v
					}
				};
				bin(b, ctx, BinaryOp::Add, &xk, &hr)
			};
			let clipped = |b: &mut Builder, v: Value| -> Res<Value> {
				match clip {
					Some(cl) => {
						let lo = Value::anon(Tensor::scalar_f32(-cl));
						let hi = Value::anon(Tensor::scalar_f32(cl));
						apply(b, ctx, Op::Clip, &[&v, &lo, &hi])
					}
					None => Ok(v),
				}
			};
			let (h_new, c_new) = match cell {
				Cell::Rnn => {
					let a = pre(b, 0, None)?;
					let a = clipped(b, a)?;
					(act[0].activate(b, ctx, &a)?, None)
				}
				Cell::Gru => {
					// Gates z, r, h.
					let z = pre(b, 0, None)?;
					let z = clipped(b, z)?;
					let z = act[0].activate(b, ctx, &z)?;
					let rr = pre(b, 1, None)?;
					let rr = clipped(b, rr)?;
					let rr = act[0].activate(b, ctx, &rr)?;
					let hr = if linear_before_reset {
						let mut v = apply(b, ctx, Op::MatMul, &[&h, &r_gate[2]])?;
						if let Some(rbk) = &rb_gate[2] {
							v = bin(b, ctx, BinaryOp::Add, &v, rbk)?;
						}
						bin(b, ctx, BinaryOp::Mul, &rr, &v)?
					} else {
						let rh = bin(b, ctx, BinaryOp::Mul, &rr, &h)?;
						let mut v = apply(b, ctx, Op::MatMul, &[&rh, &r_gate[2]])?;
						if let Some(rbk) = &rb_gate[2] {
							v = bin(b, ctx, BinaryOp::Add, &v, rbk)?;
						}
						v
					};
					let hh = pre(b, 2, Some(hr))?;
					let hh = clipped(b, hh)?;
					let hh = act[1].activate(b, ctx, &hh)?;
					// H = (1 − z)·h̃ + z·H
					let one = Value::anon(Tensor::scalar_f32(1.0));
					let keep = bin(b, ctx, BinaryOp::Sub, &one, &z)?;
					let a = bin(b, ctx, BinaryOp::Mul, &keep, &hh)?;
					let zh = bin(b, ctx, BinaryOp::Mul, &z, &h)?;
					(bin(b, ctx, BinaryOp::Add, &a, &zh)?, None)
				}
				Cell::Lstm => {
					// Gates i, o, f, c; peepholes i, o, f.
					let peep = |b: &mut Builder, v: Value, k: usize, state: &Value| -> Res<Value> {
						match &p {
							Some(p) => {
								let pc = bin(b, ctx, BinaryOp::Mul, &p[k], state)?;
								bin(b, ctx, BinaryOp::Add, &v, &pc)
							}
							None => Ok(v),
						}
					};
					let i = pre(b, 0, None)?;
					let i = peep(b, i, 0, &c)?;
					let i = clipped(b, i)?;
					let i = act[0].activate(b, ctx, &i)?;
					let f = pre(b, 2, None)?;
					let f = peep(b, f, 2, &c)?;
					let f = clipped(b, f)?;
					let f = act[0].activate(b, ctx, &f)?;
					let cc = pre(b, 3, None)?;
					let cc = clipped(b, cc)?;
					let cc = act[1].activate(b, ctx, &cc)?;
					let fc = bin(b, ctx, BinaryOp::Mul, &f, &c)?;
					let ic = bin(b, ctx, BinaryOp::Mul, &i, &cc)?;
					let c_new = bin(b, ctx, BinaryOp::Add, &fc, &ic)?;
					let o = pre(b, 1, None)?;
					let o = peep(b, o, 1, &c_new)?;
					let o = clipped(b, o)?;
					let o = act[0].activate(b, ctx, &o)?;
					let hc = act[2].activate(b, ctx, &c_new)?;
					(bin(b, ctx, BinaryOp::Mul, &o, &hc)?, Some(c_new))
				}
			};
			let y_t = match &lengths {
				// Rows past their length keep their state and output zeros.
				Some(l) => {
					let alive: Vec<bool> = l.iter().map(|&n| (t as i64) < n).collect();
					let alive = Value::anon(
						Tensor::from_bool(&[batch, 1], alive)
							.map_err(|e| ctx.invalid(e.to_string()))?,
					);
					h = apply(b, ctx, Op::Where, &[&alive, &h_new, &h])?;
					if let Some(cn) = &c_new {
						c = apply(b, ctx, Op::Where, &[&alive, cn, &c])?;
					}
					apply(b, ctx, Op::Where, &[&alive, &h_new, &zeros])?
				}
				None => {
					h = h_new.clone();
					if let Some(cn) = c_new {
						c = cn;
					}
					h_new
				}
			};
			outputs[t] = Some(y_t);
		}
		if ctx.output_live(0) {
			let steps: Vec<Value> = outputs
				.into_iter()
				.flatten()
				.map(|y| reshape_to(b, ctx, &y, &[1, 1, batch, hidden]))
				.collect::<Res<_>>()?;
			ys.push(concat(b, ctx, 0, &steps)?); // [seq, 1, batch, hidden]
		}
		hs.push(reshape_to(b, ctx, &h, &[1, batch, hidden])?);
		cs.push(reshape_to(b, ctx, &c, &[1, batch, hidden])?);
	}
	let y = if ctx.output_live(0) {
		let y = concat(b, ctx, 1, &ys)?; // [seq, dirs, batch, hidden]
		Some(if layout == 1 {
			transpose_to(b, ctx, &y, &[2, 0, 1, 3])?
		} else {
			y
		})
	} else {
		None
	};
	let states = |b: &mut Builder, parts: &[Value], live: bool| -> Res<Option<Value>> {
		if !live {
			return Ok(None);
		}
		let s = concat(b, ctx, 0, parts)?;
		Ok(Some(if layout == 1 {
			transpose_to(b, ctx, &s, &[1, 0, 2])?
		} else {
			s
		}))
	};
	let y_h = states(b, &hs, ctx.output_live(1))?;
	let mut outs = vec![y, y_h];
	if cell == Cell::Lstm {
		outs.push(states(b, &cs, ctx.output_live(2))?);
	}
	Ok(outs)
}
