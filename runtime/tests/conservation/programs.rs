//! The property test's models: three tiny programs with different prices and owners, their
//! inputs, and every execution a worker may post for them (honest, lying at a chosen node and
//! element, claiming a failure that did not happen, inventing an output past a failing node),
//! computed once per input and plan and shared by all sequences, with the fraud proofs built
//! from the honest execution.

use std::{
	collections::HashMap,
	sync::{Arc, Mutex},
};

use codec::Encode;
use sp_core::H256;
use verity_engine::{
	commit::merkle_root,
	ir::{BinaryOp, Node, NodeInput, Op, OutputInfo, ValueInfo, ValueRef},
	DType, ExecError, MerkleProof, ModelTree, Program, Tensor, TensorType,
};
use verity_primitives::{failure_hash, io_hash, ModeSet, ProvenTensor};
use verity_runtime::Balance;

use pallet_inference::{ProofInput, ProofNode};

/// Input seeds per model: each model has this many distinct request inputs.
pub const SEEDS: u32 = 4;

/// What a worker posts for a request, relative to the honest execution of its input.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Plan {
	/// The honest execution (an output, or the failure the input really causes).
	Honest,
	/// Adds `delta` to element `element` of node `node`'s output and computes everything after
	/// from it: a self-consistent lie (which may end in a failure further on).
	Lie {
		/// The node lied about.
		node: u8,
		/// The element changed (modulo the output's length).
		element: u8,
		/// Which of [`DELTAS`].
		delta: u8,
	},
	/// Claims the execution failed at `node` (with the honest leaves before it).
	FalseFailure {
		/// The claimed failing node.
		node: u8,
	},
	/// Runs past the node whose operator rejects the input with a zero tensor in its place.
	Invent,
}

/// The perturbations of [`Plan::Lie`].
pub const DELTAS: [f32; 3] = [1.0, -0.5, 3.0];

/// One execution as a worker posts it.
#[derive(Debug)]
pub struct Run {
	/// Output of each node that ran, in node order.
	pub values: Vec<Tensor>,
	/// Tensor hash of each of those outputs: the trace leaves.
	pub leaves: Vec<H256>,
	/// SCALE `Vec<Tensor>` of the program outputs (empty for a failure).
	pub output: Vec<u8>,
	/// The node the execution (claims to have) failed at.
	pub failed_at: Option<u32>,
	/// `io_hash` of the outputs, or `failure_hash` of the failing node.
	pub output_hash: H256,
	/// Merkle root of the leaves.
	pub trace_root: H256,
}

impl Run {
	/// Whether this is the same result as `other` (what a quorum compares).
	pub fn same_result(&self, other: &Run) -> bool {
		(self.output_hash, self.trace_root, self.failed_at)
			== (other.output_hash, other.trace_root, other.failed_at)
	}

	/// Whether this is the same trace as `other` (what makes a result honest).
	pub fn same_trace(&self, other: &Run) -> bool {
		self.leaves == other.leaves && self.failed_at == other.failed_at
	}
}

/// What the runtime's re-execution of one node on honest inputs gives.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum NodeVerdict {
	/// The node runs; the hash of its output.
	Output(H256),
	/// The node's operator rejects its inputs.
	Failed,
}

impl NodeVerdict {
	/// Whether a trace with `leaves` is contradicted at `node` (the rule of the fraud proof:
	/// a different leaf, a missing leaf where the node runs, a leaf where it fails).
	pub fn contradicts(&self, leaves: &[H256], node: u32) -> bool {
		let leaf = leaves.get(node as usize);
		match self {
			NodeVerdict::Output(hash) => leaf != Some(hash),
			NodeVerdict::Failed => leaf.is_some(),
		}
	}
}

/// The arguments of a fraud proof at one node.
#[derive(Clone)]
pub struct Proof {
	/// The node.
	pub node: ProofNode,
	/// Its proof against the model root.
	pub node_proof: MerkleProof,
	/// Its inputs, from the honest execution.
	pub inputs: Vec<Option<ProofInput>>,
}

/// One of the test models.
pub struct TestModel {
	/// Name, for logs.
	pub name: &'static str,
	/// The canonical program.
	pub program: Program,
	/// Its Merkle tree.
	pub tree: ModelTree,
	/// The royalty at genesis.
	pub price: Balance,
	/// The modes allowed at genesis.
	pub modes: ModeSet,
	/// Input tensors for each seed.
	pub inputs: Vec<Vec<Tensor>>,
}

impl TestModel {
	/// The nodes whose outputs node `i` reads.
	pub fn node_sources(&self, i: u32) -> Vec<u32> {
		self.program.nodes[i as usize]
			.inputs
			.iter()
			.flatten()
			.filter_map(|input| match input.source {
				ValueRef::Node { node, .. } => Some(node),
				_ => None,
			})
			.collect()
	}

	/// Number of nodes.
	pub fn node_count(&self) -> u32 {
		self.program.nodes.len() as u32
	}
}

/// Appends a node on `inputs` with its inferred output type; returns its output.
fn push(program: &mut Program, op: Op, inputs: &[ValueRef]) -> ValueRef {
	let inputs: Vec<Option<NodeInput>> = inputs
		.iter()
		.map(|&source| {
			Some(NodeInput {
				source,
				ty: program.value_type(source).expect("defined before use"),
			})
		})
		.collect();
	let types: Vec<Option<TensorType>> = inputs
		.iter()
		.map(|i| i.as_ref().map(|i| i.ty.clone()))
		.collect();
	let outputs = verity_engine::ops::infer(&op, &types).expect("well-typed");
	program.nodes.push(Node {
		op,
		inputs,
		outputs,
	});
	ValueRef::Node {
		node: program.nodes.len() as u32 - 1,
		output: 0,
	}
}

fn f32s(shape: &[usize], values: Vec<f32>) -> Tensor {
	Tensor::from_f32(shape, values).expect("shape fits")
}

fn input(program: &mut Program, name: &str, ty: TensorType) -> ValueRef {
	program.inputs.push(ValueInfo {
		name: name.into(),
		ty,
	});
	ValueRef::Input(program.inputs.len() as u32 - 1)
}

fn weight(program: &mut Program, tensor: Tensor) -> ValueRef {
	program.weights.push(tensor);
	ValueRef::Weight(program.weights.len() as u32 - 1)
}

fn output(program: &mut Program, name: &str, source: ValueRef) {
	program.outputs.push(OutputInfo {
		name: name.into(),
		source,
	});
}

/// `softmax(relu(x·W + b))`, `x: f32[1, 4]`: four nodes, always runs.
fn mlp() -> TestModel {
	let mut p = Program::new();
	let x = input(&mut p, "x", TensorType::new(DType::F32, &[1, 4]));
	let w = weight(
		&mut p,
		f32s(
			&[4, 3],
			vec![
				0.5, -1.0, 0.25, 1.5, 0.75, -0.5, -0.25, 0.125, 1.0, 0.3, -0.6, 0.9,
			],
		),
	);
	let b = weight(&mut p, f32s(&[1, 3], vec![0.1, -0.2, 0.05]));
	let m = push(&mut p, Op::MatMul, &[x, w]);
	let a = push(&mut p, Op::Binary(BinaryOp::Add), &[m, b]);
	let r = push(&mut p, Op::Relu, &[a]);
	let s = push(
		&mut p,
		Op::Softmax {
			axis: 1,
			coerce_2d: false,
		},
		&[r],
	);
	output(&mut p, "probs", s);
	let inputs = (0..SEEDS)
		.map(|s| {
			let s = s as f32;
			vec![f32s(
				&[1, 4],
				vec![0.5 + s, -1.25 + 0.5 * s, 2.0 - s, 0.75 * s],
			)]
		})
		.collect();
	finish(
		"mlp",
		p,
		50 * verity_runtime::MILLI_UNIT,
		ModeSet::ALL,
		inputs,
	)
}

/// `relu(table[ids + 1])`, `ids: i64[2]`, `table: f32[4, 3]`: the lookup fails (node 1) for ids
/// above 2, so half of its inputs make honest workers post a failure. A free model (price 0).
fn lookup() -> TestModel {
	let mut p = Program::new();
	let ids = input(&mut p, "ids", TensorType::new(DType::I64, &[2]));
	let shift = weight(
		&mut p,
		Tensor::from_i64(&[2], vec![1, 1]).expect("shape fits"),
	);
	let table = weight(
		&mut p,
		f32s(
			&[4, 3],
			vec![
				0.5, -1.0, 0.25, 1.5, 0.75, -0.5, -0.25, 0.125, 1.0, 0.3, -0.6, 0.9,
			],
		),
	);
	let shifted = push(&mut p, Op::Binary(BinaryOp::Add), &[ids, shift]);
	let rows = push(&mut p, Op::Gather { axis: 0 }, &[table, shifted]);
	let out = push(&mut p, Op::Relu, &[rows]);
	output(&mut p, "rows", out);
	let inputs = [[0i64, 1], [2, 0], [3, 0], [1, 5]]
		.iter()
		.map(|ids| vec![Tensor::from_i64(&[2], ids.to_vec()).expect("shape fits")])
		.collect();
	finish("lookup", p, 0, ModeSet::ALL, inputs)
}

/// `(sigmoid(x), tanh(sigmoid(x))·W)`, `x: f32[2, 2]`: two outputs, an odd price, and no
/// attested mode.
fn mix() -> TestModel {
	let mut p = Program::new();
	let x = input(&mut p, "x", TensorType::new(DType::F32, &[2, 2]));
	let w = weight(&mut p, f32s(&[2, 2], vec![0.75, -1.5, 2.0, 0.25]));
	let s = push(&mut p, Op::Sigmoid, &[x]);
	let t = push(&mut p, Op::Tanh, &[s]);
	let m = push(&mut p, Op::MatMul, &[t, w]);
	output(&mut p, "gate", s);
	output(&mut p, "mixed", m);
	let inputs = (0..SEEDS)
		.map(|s| {
			let s = s as f32;
			vec![f32s(&[2, 2], vec![s - 1.0, 0.5, 2.0 * s, -s])]
		})
		.collect();
	finish(
		"mix",
		p,
		7 * verity_runtime::MILLI_UNIT + 3,
		ModeSet(ModeSet::OPTIMISTIC | ModeSet::QUORUM),
		inputs,
	)
}

fn finish(
	name: &'static str,
	program: Program,
	price: Balance,
	modes: ModeSet,
	inputs: Vec<Vec<Tensor>>,
) -> TestModel {
	program.validate().expect("a valid test program");
	TestModel {
		name,
		tree: ModelTree::new(&program),
		program,
		price,
		modes,
		inputs,
	}
}

/// The models, in registration (id) order.
pub fn models() -> Vec<TestModel> {
	vec![mlp(), lookup(), mix()]
}

/// Runs `program` node by node on `inputs` with `plan` (the honest run, a lie, or inventing
/// past a failure). An operator rejecting its inputs ends the run as a failure at that node.
fn execute(program: &Program, inputs: &[Tensor], plan: Plan) -> Run {
	let mut values: Vec<Tensor> = Vec::new();
	let mut failed_at = None;
	for (i, node) in program.nodes.iter().enumerate() {
		let args: Vec<Option<&Tensor>> = node
			.inputs
			.iter()
			.map(|input| {
				input.as_ref().map(|input| match input.source {
					ValueRef::Input(k) => &inputs[k as usize],
					ValueRef::Weight(w) => &program.weights[w as usize],
					ValueRef::Node { node, .. } => &values[node as usize],
				})
			})
			.collect();
		let mut out = match verity_engine::execute_node(node, &args) {
			Ok(mut outs) => outs.remove(0),
			Err(ExecError::Op { .. }) if plan == Plan::Invent => {
				let ty = &node.outputs[0];
				Tensor::zeros(ty.dtype, &ty.dims().expect("declared shape"))
					.expect("declared shape")
			}
			Err(ExecError::Op { .. }) => {
				failed_at = Some(i as u32);
				break;
			}
			Err(e) => panic!("test program node {i} does not run: {e:?}"),
		};
		if let Plan::Lie {
			node,
			element,
			delta,
		} = plan
		{
			if node as usize == i {
				out = perturb(out, element as usize, DELTAS[delta as usize]);
			}
		}
		values.push(out);
	}
	finish_run(program, values, failed_at)
}

/// `t` with `delta` added to element `element` (modulo its length).
fn perturb(t: Tensor, element: usize, delta: f32) -> Tensor {
	let (shape, _) = t.clone().into_parts();
	match t.dtype() {
		DType::F32 => {
			let mut v = t.as_f32().expect("f32").to_vec();
			let e = element % v.len();
			v[e] += delta;
			Tensor::from_f32(&shape, v).expect("same shape")
		}
		DType::I64 => {
			let mut v = t.as_i64().expect("i64").to_vec();
			let e = element % v.len();
			v[e] += if delta > 0.0 { delta as i64 } else { -1 };
			Tensor::from_i64(&shape, v).expect("same shape")
		}
		other => panic!("no lie for {other:?} outputs"),
	}
}

fn finish_run(program: &Program, values: Vec<Tensor>, failed_at: Option<u32>) -> Run {
	let leaves: Vec<H256> = values
		.iter()
		.map(|t| H256(verity_engine::tensor_hash(t)))
		.collect();
	let raw: Vec<[u8; 32]> = leaves.iter().map(|h| h.0).collect();
	let trace_root = H256(merkle_root(&raw));
	let (output, output_hash) = match failed_at {
		Some(node) => (Vec::<Tensor>::new().encode(), failure_hash(node)),
		None => {
			let outs: Vec<Tensor> = (0..program.outputs.len())
				.map(|j| values[program.output_node(j).expect("node output") as usize].clone())
				.collect();
			let hashes: Vec<H256> = outs
				.iter()
				.map(|t| H256(verity_engine::tensor_hash(t)))
				.collect();
			(outs.encode(), io_hash(&hashes))
		}
	};
	Run {
		values,
		leaves,
		output,
		failed_at,
		output_hash,
		trace_root,
	}
}

/// The models with every run and fraud proof computed once, shared by all sequences.
pub struct Catalog {
	/// The models, by id.
	pub models: Vec<TestModel>,
	runs: Mutex<HashMap<(u32, u32, Plan), Arc<Run>>>,
	proofs: Mutex<HashMap<(u32, u32, u32), Option<Proof>>>,
}

impl Catalog {
	/// The test models, nothing computed yet.
	pub fn new() -> Self {
		Catalog {
			models: models(),
			runs: Default::default(),
			proofs: Default::default(),
		}
	}

	/// The SCALE input of model `m` for `seed`.
	pub fn input(&self, m: u32, seed: u32) -> Vec<u8> {
		self.models[m as usize].inputs[seed as usize].encode()
	}

	/// What a worker following `plan` posts for model `m` on input `seed`.
	pub fn run(&self, m: u32, seed: u32, plan: Plan) -> Arc<Run> {
		if let Some(run) = self.runs.lock().unwrap().get(&(m, seed, plan)) {
			return run.clone();
		}
		let model = &self.models[m as usize];
		let inputs = &model.inputs[seed as usize];
		let run = match plan {
			Plan::FalseFailure { node } => {
				let honest = self.run(m, seed, Plan::Honest);
				let node = node as usize;
				finish_run(
					&model.program,
					honest.values[..node].to_vec(),
					Some(node as u32),
				)
			}
			_ => execute(&model.program, inputs, plan),
		};
		let run = Arc::new(run);
		self.runs
			.lock()
			.unwrap()
			.insert((m, seed, plan), run.clone());
		run
	}

	/// The honest run.
	pub fn honest(&self, m: u32, seed: u32) -> Arc<Run> {
		self.run(m, seed, Plan::Honest)
	}

	/// How many nodes the honest execution reaches: every node, or up to and including the one
	/// that fails. Fraud proofs with honest inputs exist for exactly these nodes.
	pub fn provable_nodes(&self, m: u32, seed: u32) -> u32 {
		let honest = self.honest(m, seed);
		match honest.failed_at {
			Some(f) => f + 1,
			None => self.models[m as usize].node_count(),
		}
	}

	/// What re-executing node `i` on honest inputs gives.
	pub fn verdict(&self, m: u32, seed: u32, i: u32) -> NodeVerdict {
		let honest = self.honest(m, seed);
		match honest.leaves.get(i as usize) {
			Some(leaf) => NodeVerdict::Output(*leaf),
			None => {
				assert_eq!(honest.failed_at, Some(i), "node {i} is not provable");
				NodeVerdict::Failed
			}
		}
	}

	/// The fraud proof at node `i` of model `m` on input `seed`, built from the honest execution
	/// (`None` past a failing node, where no honest inputs exist).
	pub fn proof(&self, m: u32, seed: u32, i: u32) -> Option<Proof> {
		if let Some(p) = self.proofs.lock().unwrap().get(&(m, seed, i)) {
			return p.clone();
		}
		let model = &self.models[m as usize];
		let honest = self.honest(m, seed);
		let node = &model.program.nodes[i as usize];
		let inputs: Option<Vec<Option<ProofInput>>> = node
			.inputs
			.iter()
			.map(|input| {
				let Some(input) = input else {
					return Some(None);
				};
				let (tensor, weight_proof) = match input.source {
					ValueRef::Input(k) => (model.inputs[seed as usize][k as usize].clone(), None),
					ValueRef::Weight(w) => (
						model.program.weights[w as usize].clone(),
						model.tree.weight_proof(w),
					),
					ValueRef::Node { node, .. } => {
						(honest.values.get(node as usize)?.clone(), None)
					}
				};
				Some(Some(ProofInput(ProvenTensor {
					tensor,
					weight_proof,
				})))
			})
			.collect();
		let proof = inputs.map(|inputs| Proof {
			node: ProofNode(node.clone()),
			node_proof: model.tree.node_proof(i).expect("a node of the model"),
			inputs,
		});
		self.proofs
			.lock()
			.unwrap()
			.insert((m, seed, i), proof.clone());
		proof
	}
}
