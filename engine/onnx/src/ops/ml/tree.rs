//! Tree ensembles: `TreeEnsembleRegressor` and `TreeEnsembleClassifier`.

use std::collections::BTreeMap;

use verity_engine::{
	ir::{BinaryOp, Op, ReduceKind, UnaryOp},
	DType,
};

use super::{
	apply, arg_max_rows, bin, bools, cast_to, f32s, float_rows, gather, i64s, int_labels,
	labels_of, one, post_transform, post_transform_attr, refuse_double_attrs, req_floats,
	reshape_to, scalar, select, unary, Res,
};
use crate::lower::{Builder, NodeCtx, Value};
use crate::ops::Outs;

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
		let flat_x = reshape_to(b, ctx, x, &[n * f])?;
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
			let at = bin(b, ctx, BinaryOp::Add, &feature, &row_base)?;
			let value = gather(b, ctx, 0, &flat_x, &at)?;
			let threshold = gather(b, ctx, 0, &thresholds, &idx)?;
			let mut test: Option<Value> = None;
			for &mode in &branch_modes {
				let t = match mode {
					Mode::Leq => bin(b, ctx, BinaryOp::LessOrEqual, &value, &threshold)?,
					Mode::Lt => bin(b, ctx, BinaryOp::Less, &value, &threshold)?,
					Mode::Gte => bin(b, ctx, BinaryOp::GreaterOrEqual, &value, &threshold)?,
					Mode::Gt => bin(b, ctx, BinaryOp::Greater, &value, &threshold)?,
					Mode::Eq => bin(b, ctx, BinaryOp::Equal, &value, &threshold)?,
					Mode::Neq => {
						let eq = bin(b, ctx, BinaryOp::Equal, &value, &threshold)?;
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
				let to_true = bin(b, ctx, BinaryOp::And, &nan, &tracks)?;
				test = bin(b, ctx, BinaryOp::Or, &test, &to_true)?;
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
		let as_u8 = cast_to(b, ctx, &per_tree, DType::U8)?;
		let op = Op::Reduce {
			kind: ReduceKind::Max,
			axes: vec![1],
			keepdims: false,
		};
		let any = apply(b, ctx, op, &[&as_u8])?;
		cast_to(b, ctx, &any, DType::Bool)
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
			bin(b, ctx, BinaryOp::Div, &sum, &trees)
		}
		"MIN" | "MAX" => Err(ctx.unsupported("aggregate_function MIN or MAX")),
		other => Err(ctx.invalid(format!("unknown aggregate_function {other:?}"))),
	}
}

/// `TreeEnsembleRegressor`: `Y[n, t]` = the aggregate over trees of the weights for target `t`
/// of the leaf row `n` reaches in each tree, plus `base_values[t]`. One target: the one base
/// value is added, and any `post_transform` but `NONE` is refused (onnxruntime ignores it); more
/// targets: base values (one per target) are added, then `post_transform`.
pub(super) fn regressor(b: &mut Builder, ctx: &NodeCtx, ins: &[Option<Value>]) -> Outs {
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
		y = bin(b, ctx, BinaryOp::Add, &y, &f32s(ctx, &[targets], base)?)?;
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
pub(super) fn classifier(b: &mut Builder, ctx: &NodeCtx, ins: &[Option<Value>]) -> Outs {
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
			s = bin(b, ctx, BinaryOp::Add, &s, &scalar(b0))?;
		}
		let probabilities_like = forest.all_weights_non_negative();
		let cut = if probabilities_like { 0.5 } else { 0.0 };
		let second = bin(b, ctx, BinaryOp::Greater, &s, &scalar(cut))?; // [N, 1]
		let second_flat = reshape_to(b, ctx, &second, &[n])?;
		let index = cast_to(b, ctx, &second_flat, DType::I64)?;
		let label = labels_of(b, ctx, &labels, &index)?;
		let concat = |b: &mut Builder, first: &Value, other: &Value| {
			apply(b, ctx, Op::Concat { axis: 1 }, &[first, other])
		};
		let neg = unary(b, ctx, UnaryOp::Neg, &s)?;
		let probabilities = if probabilities_like {
			let complement = bin(b, ctx, BinaryOp::Sub, &scalar(1.0), &s)?;
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
			scores = bin(
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
