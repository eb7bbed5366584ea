//! Benchmarks of every call and of the work `on_initialize` does per deadline.
//!
//! `challenge` is measured on a real MatMul node `[m, 256] × [256, 256]` whose cost in
//! [`verity_engine::node_cost`] units is `MATMUL_COST_PER_ROW·m + MATMUL_COST_BASE`: component
//! `c` picks `m`, so the fitted weight is a function of the node's cost, which is what the
//! call's weight annotation uses. `challenge_<kind>` measures the same call on the other heavy
//! op kinds of [`crate::challenge_nodes`] as a function of their shape; the runtime's tests
//! check that the charged weight covers each of them.

use super::*;
use alloc::{vec, vec::Vec};
use codec::Encode;
use frame_benchmarking::v2::*;
use frame_support::{
	traits::{
		fungible::{Inspect, Mutate},
		Get,
	},
	BoundedVec,
};
use frame_system::{pallet_prelude::BlockNumberFor, RawOrigin};
use sp_core::H256;
use sp_runtime::traits::{One, Saturating};
use verity_engine::{
	ir::{Node, ValueRef},
	tensor_hash, DType, MerkleProof, ModelTree, Tensor,
};
use verity_primitives::{
	AssignmentState, ModeSet, ModelId, ModelInfo, ModelLocation, ModelStatus, OutputSpec,
	ProvenTensor, RequestId, RequestStatus, ResultInfo, TensorSpec, VerificationMode,
};

use crate::{
	challenge_nodes::{HeavyKind, MATMUL_COST, MATMUL_COST_BASE, MATMUL_COST_PER_ROW},
	Pallet as Inference,
};

const SEED: u32 = 0;

/// The fewest replicas of a quorum: benchmarks over `r` replicas start there (one replica is
/// the attested and optimistic modes, and the fits extend to it).
const MIN_QUORUM: u32 = 2;

fn funded<T: Config>(name: &'static str, index: u32) -> T::AccountId {
	let who: T::AccountId = account(name, index, SEED);
	let amount = T::Currency::minimum_balance().saturating_mul(1_000_000_000u32.into());
	T::Currency::set_balance(&who, amount);
	who
}

fn workers<T: Config>(n: u32) -> Vec<T::AccountId> {
	(0..n)
		.map(|i| {
			let w: T::AccountId = account("worker", i, SEED);
			T::BenchmarkHelper::register_worker(&w);
			w
		})
		.collect()
}

/// The result the settlement benchmarks settle with.
fn settled_with() -> Accepted {
	Accepted {
		output_hash: H256::zero(),
		trace_root: H256::zero(),
		failed_at: None,
	}
}

fn protocol_exists<T: Config>() {
	let protocol = T::ProtocolAccount::get();
	if T::Currency::balance(&protocol) < T::Currency::minimum_balance() {
		T::Currency::set_balance(&protocol, T::Currency::minimum_balance());
	}
}

fn f32_spec(shape: &[u64]) -> TensorSpec {
	TensorSpec {
		dtype: DType::F32,
		shape: shape.to_vec().try_into().expect("rank"),
	}
}

/// A model record: one `[1]` f32 input, `node_count` nodes, one f32 output of `shape` at the
/// last node.
fn model<T: Config>(
	node_count: u32,
	weight_count: u32,
	model_root: H256,
	output_shape: &[u64],
) -> ModelId {
	model_with_input::<T>(node_count, weight_count, model_root, &[1], output_shape)
}

/// [`model`] with an f32 input of `input_shape`.
fn model_with_input<T: Config>(
	node_count: u32,
	weight_count: u32,
	model_root: H256,
	input_shape: &[u64],
	output_shape: &[u64],
) -> ModelId {
	model_with_io::<T>(
		node_count,
		weight_count,
		model_root,
		input_shape,
		f32_spec(output_shape),
	)
}

/// [`model_with_input`] with an output of any type.
fn model_with_io<T: Config>(
	node_count: u32,
	weight_count: u32,
	model_root: H256,
	input_shape: &[u64],
	output: TensorSpec,
) -> ModelId {
	// Every payee exists, so settlement measures real transfers, not the fallback for payments
	// below the existential deposit.
	let owner = funded::<T>("owner", 0);
	protocol_exists::<T>();
	let info: ModelOf<T> = ModelInfo {
		owner,
		onnx_hash: H256::zero(),
		model_root,
		compiler_version: 1,
		node_count,
		weight_count,
		inputs: vec![f32_spec(input_shape)].try_into().expect("one input"),
		outputs: vec![OutputSpec {
			node: node_count - 1,
			spec: output,
		}]
		.try_into()
		.expect("one output"),
		macs: 0,
		max_node_footprint: 0,
		max_node_cost: 0,
		price: 1u32.into(),
		modes: ModeSet::ALL,
		location: ModelLocation::Uri(Default::default()),
		deposit: 0u32.into(),
		status: ModelStatus::Active,
		in_flight: 0,
		registered_at: 0u32.into(),
	};
	T::BenchmarkHelper::register_model(info)
}

fn input<T: Config>() -> BoundedVec<u8, T::MaxInputBytes> {
	let x = Tensor::from_f32(&[1], vec![0.5]).expect("tensor");
	vec![x].encode().try_into().expect("fits")
}

/// Opens a request and returns its id.
fn open<T: Config>(model: ModelId, mode: VerificationMode) -> RequestId {
	let requester = funded::<T>("requester", 0);
	let id = NextRequestId::<T>::get();
	let fee = Inference::<T>::quote(model, mode).expect("quotable");
	Inference::<T>::request_inference(
		RawOrigin::Signed(requester).into(),
		model,
		input::<T>(),
		mode,
		fee,
	)
	.expect("request");
	id
}

fn assigned<T: Config>(id: RequestId) -> Vec<T::AccountId> {
	Requests::<T>::get(id)
		.expect("open")
		.assignments
		.iter()
		.map(|a| a.worker.clone())
		.collect()
}

/// An output of `n` f32 elements and a trace of `l` leaves ending with its hash (leaf `i` is
/// `i` repeated, optionally with a different last-but-output byte for diverging traces).
fn result_of(l: u32, n: u32, variant: u8) -> (Tensor, Vec<H256>) {
	let out = Tensor::from_f32(&[n as usize], vec![0.25; n as usize]).expect("tensor");
	let mut leaves: Vec<H256> = (0..l)
		.map(|i| {
			let mut leaf = [0u8; 32];
			leaf[..4].copy_from_slice(&i.to_le_bytes());
			H256(leaf)
		})
		.collect();
	if l >= 2 {
		leaves[l as usize - 2] = H256::repeat_byte(variant);
	}
	leaves[l as usize - 1] = H256(tensor_hash(&out));
	(out, leaves)
}

/// Puts `worker`'s result in storage as if it had been revealed.
fn store_result<T: Config>(id: RequestId, worker: &T::AccountId, out: &Tensor, leaves: Vec<H256>) {
	let raw: Vec<[u8; 32]> = leaves.iter().map(|h| h.0).collect();
	let hashes = [H256(tensor_hash(out))];
	Results::<T>::insert(
		id,
		worker,
		ResultInfo {
			output: BoundedVec::truncate_from(vec![out.clone()].encode()),
			output_hash: verity_primitives::io_hash(&hashes),
			trace_root: H256(verity_engine::commit::merkle_root(&raw)),
			failed_at: None,
			submitted_at: frame_system::Pallet::<T>::block_number(),
		},
	);
	TraceLeaves::<T>::insert(id, worker, BoundedVec::truncate_from(leaves));
	Requests::<T>::mutate(id, |r| {
		if let Some(r) = r {
			for a in r.assignments.iter_mut().filter(|a| &a.worker == worker) {
				a.state = AssignmentState::Submitted;
			}
		}
	});
}

/// A quorum request of `r` workers on a model of `l` nodes, every worker revealed; the traces
/// differ (at their next-to-last leaf) when `diverge`.
fn revealed_quorum<T: Config>(l: u32, r: u32, diverge: bool) -> RequestId {
	workers::<T>(r);
	let model = model::<T>(l, 0, H256::zero(), &[4]);
	let id = open::<T>(model, VerificationMode::Quorum(r as u8));
	for (i, w) in assigned::<T>(id).iter().enumerate() {
		let (out, leaves) = result_of(l, 4, if diverge { i as u8 + 1 } else { 1 });
		store_result::<T>(id, w, &out, leaves);
	}
	id
}

/// A fraud proof ready to submit: an optimistic request on a three-node model (see
/// [`HeavyKind::program`]) whose worker lied about the middle node's output.
struct LyingResult<T: Config> {
	id: RequestId,
	liar: T::AccountId,
	node: Node,
	node_proof: MerkleProof,
	inputs: BoundedVec<Option<ProofInput>, T::MaxChallengeInputs>,
}

fn lying_result<T: Config>(kind: HeavyKind, p: u32) -> Result<LyingResult<T>, BenchmarkError> {
	protocol_exists::<T>();
	let (program, x) = kind.program(p);
	let unused = Tensor::from_f32(&[1], vec![0.5]).expect("input");
	let (mut outputs, _) = verity_engine::execute(&program, &[unused])
		.map_err(|_| BenchmarkError::Stop("the program executes"))?;
	let out = outputs.pop().ok_or(BenchmarkError::Stop("one output"))?;
	let tree = ModelTree::new(&program);
	let output_spec = TensorSpec {
		dtype: out.dtype(),
		shape: out
			.shape()
			.iter()
			.map(|&d| d as u64)
			.collect::<Vec<_>>()
			.try_into()
			.map_err(|_| BenchmarkError::Stop("the output's rank is allowed"))?,
	};
	let model = model_with_io::<T>(
		3,
		program.weights.len() as u32,
		H256(tree.root()),
		&[1],
		output_spec,
	);
	// Two workers: the liar and its replacement.
	workers::<T>(2);
	let id = open::<T>(model, VerificationMode::Optimistic);
	let liar = assigned::<T>(id).remove(0);
	let leaves: BoundedVec<H256, T::MaxNodes> = vec![
		H256(tensor_hash(&x)),
		H256::repeat_byte(9),
		H256(tensor_hash(&out)),
	]
	.try_into()
	.map_err(|_| BenchmarkError::Stop("three leaves fit"))?;
	let output: BoundedVec<u8, T::MaxOutputBytes> = vec![out]
		.encode()
		.try_into()
		.map_err(|_| BenchmarkError::Stop("the output fits"))?;
	Inference::<T>::submit_result(
		RawOrigin::Signed(liar.clone()).into(),
		id,
		output,
		leaves,
		None,
	)
	.map_err(|e| BenchmarkError::Stop(e.error.into()))?;
	let node = program.nodes[1].clone();
	let inputs: BoundedVec<Option<ProofInput>, T::MaxChallengeInputs> = node
		.inputs
		.iter()
		.map(|input| {
			let source = input.as_ref().expect("every input present").source;
			Some(ProofInput(match source {
				ValueRef::Weight(j) => ProvenTensor {
					tensor: program.weights[j as usize].clone(),
					weight_proof: tree.weight_proof(j),
				},
				_ => ProvenTensor {
					tensor: x.clone(),
					weight_proof: None,
				},
			}))
		})
		.collect::<Vec<_>>()
		.try_into()
		.map_err(|_| BenchmarkError::Stop("the node's inputs fit"))?;
	let node_proof = tree
		.node_proof(1)
		.ok_or(BenchmarkError::Stop("node 1 exists"))?;
	Ok(LyingResult {
		id,
		liar,
		node,
		node_proof,
		inputs,
	})
}

fn ensure_slashed<T: Config>(id: RequestId, liar: &T::AccountId) -> Result<(), BenchmarkError> {
	if Results::<T>::contains_key(id, liar) {
		return Err(BenchmarkError::Stop("the lie was not proven"));
	}
	Ok(())
}

#[benchmarks]
mod benchmarks {
	use super::*;

	#[benchmark]
	fn request_inference(
		i: Linear<32, { T::MaxInputBytes::get() }>,
		r: Linear<MIN_QUORUM, { T::MaxReplicas::get() }>,
	) -> Result<(), BenchmarkError> {
		workers::<T>(r);
		// One f32 tensor whose encoding is about `i` bytes.
		let n = (i.saturating_sub(16) / 4).max(1);
		let x = Tensor::from_f32(&[n as usize], vec![1.5; n as usize]).expect("tensor");
		let model = model_with_input::<T>(1, 0, H256::zero(), &[n as u64], &[1]);
		let mode = VerificationMode::Quorum(r as u8);
		let fee = Inference::<T>::quote(model, mode).expect("quotable");
		let requester = funded::<T>("requester", 0);
		let input: BoundedVec<u8, T::MaxInputBytes> = vec![x]
			.encode()
			.try_into()
			.map_err(|_| BenchmarkError::Weightless)?;

		let id = NextRequestId::<T>::get();

		#[extrinsic_call]
		_(RawOrigin::Signed(requester), model, input, mode, fee);

		assert_eq!(assigned::<T>(id).len() as u32, r);
		Ok(())
	}

	#[benchmark]
	fn commit_result() -> Result<(), BenchmarkError> {
		let r = T::MaxReplicas::get();
		workers::<T>(r);
		let model = model::<T>(1, 0, H256::zero(), &[1]);
		let id = open::<T>(model, VerificationMode::Quorum(r as u8));
		let all = assigned::<T>(id);
		let (last, first) = all.split_last().expect("r >= 1");
		for w in first {
			Inference::<T>::commit_result(RawOrigin::Signed(w.clone()).into(), id, H256::zero())?;
		}

		#[extrinsic_call]
		_(RawOrigin::Signed(last.clone()), id, H256::repeat_byte(1));

		assert!(matches!(
			Requests::<T>::get(id).expect("open").status,
			RequestStatus::Revealing { .. }
		));
		Ok(())
	}

	#[benchmark]
	fn submit_result(
		l: Linear<1, { T::MaxNodes::get() }>,
		o: Linear<64, { T::MaxOutputBytes::get() }>,
	) -> Result<(), BenchmarkError> {
		workers::<T>(1);
		let n = (o.saturating_sub(32) / 4).max(1);
		let model = model::<T>(l, 0, H256::zero(), &[n as u64]);
		let id = open::<T>(model, VerificationMode::Optimistic);
		let worker = assigned::<T>(id).remove(0);
		let (out, leaves) = result_of(l, n, 1);
		let output: BoundedVec<u8, T::MaxOutputBytes> = vec![out]
			.encode()
			.try_into()
			.map_err(|_| BenchmarkError::Weightless)?;
		let leaves: BoundedVec<H256, T::MaxNodes> =
			leaves.try_into().map_err(|_| BenchmarkError::Weightless)?;

		#[extrinsic_call]
		_(RawOrigin::Signed(worker.clone()), id, output, leaves, None);

		assert!(Results::<T>::contains_key(id, &worker));
		Ok(())
	}

	/// A failure at the last of `l + 1` nodes, with `l` leaves.
	#[benchmark]
	fn submit_failure(l: Linear<0, { T::MaxNodes::get() - 1 }>) -> Result<(), BenchmarkError> {
		workers::<T>(1);
		let model = model::<T>(l + 1, 0, H256::zero(), &[1]);
		let id = open::<T>(model, VerificationMode::Optimistic);
		let worker = assigned::<T>(id).remove(0);
		let leaves: BoundedVec<H256, T::MaxNodes> = (0..l)
			.map(|i| H256::repeat_byte(i as u8))
			.collect::<Vec<_>>()
			.try_into()
			.map_err(|_| BenchmarkError::Weightless)?;

		#[extrinsic_call]
		_(RawOrigin::Signed(worker.clone()), id, l, leaves, None);

		let result = Results::<T>::get(id, &worker).ok_or(BenchmarkError::Stop("stored"))?;
		assert_eq!(result.failed_at, Some(l));
		Ok(())
	}

	#[benchmark]
	fn settle(r: Linear<MIN_QUORUM, { T::MaxReplicas::get() }>) {
		protocol_exists::<T>();
		let id = revealed_quorum::<T>(2, r, false);
		let request = Requests::<T>::get(id).expect("open");
		let accepted = assigned::<T>(id);
		let now = frame_system::Pallet::<T>::block_number();

		#[block]
		{
			Inference::<T>::settle(id, request, &accepted, settled_with(), now, None);
		}

		assert!(Receipts::<T>::contains_key(id));
	}

	#[benchmark]
	fn prune_results(r: Linear<MIN_QUORUM, { T::MaxReplicas::get() }>) {
		protocol_exists::<T>();
		let id = revealed_quorum::<T>(2, r, false);
		let request = Requests::<T>::get(id).expect("open");
		let accepted = assigned::<T>(id);
		let now = frame_system::Pallet::<T>::block_number();
		Inference::<T>::settle(id, request, &accepted, settled_with(), now, None);
		let receipt = Receipts::<T>::get(id).expect("settled");
		assert!(Inference::<T>::has_results(id));

		#[block]
		{
			Inference::<T>::prune_results(id, &receipt);
		}

		assert!(!Inference::<T>::has_results(id));
	}

	#[benchmark]
	fn dispute(l: Linear<2, { T::MaxNodes::get() }>, r: Linear<2, { T::MaxReplicas::get() }>) {
		let id = revealed_quorum::<T>(l, r, true);
		let request = Requests::<T>::get(id).expect("open");
		let now = frame_system::Pallet::<T>::block_number();

		#[block]
		{
			Inference::<T>::conclude(id, request, now, true);
		}

		assert!(matches!(
			Requests::<T>::get(id).expect("open").status,
			RequestStatus::Disputed { .. }
		));
	}

	/// The weight `challenge` charges: a MatMul node of cost `c` (see [`HeavyKind::MatMul`]).
	#[benchmark]
	fn challenge(c: Linear<{ MATMUL_COST.0 }, { MATMUL_COST.1 }>) -> Result<(), BenchmarkError> {
		let m = c
			.saturating_sub(MATMUL_COST_BASE)
			.div_ceil(MATMUL_COST_PER_ROW)
			.max(1);
		let lie = lying_result::<T>(HeavyKind::MatMul, m)?;
		assert!(node_cost_in_units(&lie.node) >= c);
		let challenger = funded::<T>("challenger", 0);

		#[extrinsic_call]
		_(
			RawOrigin::Signed(challenger),
			lie.id,
			lie.liar.clone(),
			1,
			ProofNode(lie.node),
			lie.node_proof,
			lie.inputs,
		);

		ensure_slashed::<T>(lie.id, &lie.liar)
	}

	/// A fraud proof against [`HeavyKind::Conv`] at its parameter `h`.
	#[benchmark]
	fn challenge_conv(
		h: Linear<{ HeavyKind::Conv.range().0 }, { HeavyKind::Conv.range().1 }>,
	) -> Result<(), BenchmarkError> {
		let lie = lying_result::<T>(HeavyKind::Conv, h)?;
		let challenger = funded::<T>("challenger", 0);

		#[extrinsic_call]
		challenge(
			RawOrigin::Signed(challenger),
			lie.id,
			lie.liar.clone(),
			1,
			ProofNode(lie.node),
			lie.node_proof,
			lie.inputs,
		);

		ensure_slashed::<T>(lie.id, &lie.liar)
	}

	/// A fraud proof against [`HeavyKind::ConvTranspose`] at its parameter `h`.
	#[benchmark]
	fn challenge_conv_transpose(
		h: Linear<{ HeavyKind::ConvTranspose.range().0 }, { HeavyKind::ConvTranspose.range().1 }>,
	) -> Result<(), BenchmarkError> {
		let lie = lying_result::<T>(HeavyKind::ConvTranspose, h)?;
		let challenger = funded::<T>("challenger", 0);

		#[extrinsic_call]
		challenge(
			RawOrigin::Signed(challenger),
			lie.id,
			lie.liar.clone(),
			1,
			ProofNode(lie.node),
			lie.node_proof,
			lie.inputs,
		);

		ensure_slashed::<T>(lie.id, &lie.liar)
	}

	/// A fraud proof against [`HeavyKind::QLinearConv`] at its parameter `h`.
	#[benchmark]
	fn challenge_qlinear_conv(
		h: Linear<{ HeavyKind::QLinearConv.range().0 }, { HeavyKind::QLinearConv.range().1 }>,
	) -> Result<(), BenchmarkError> {
		let lie = lying_result::<T>(HeavyKind::QLinearConv, h)?;
		let challenger = funded::<T>("challenger", 0);

		#[extrinsic_call]
		challenge(
			RawOrigin::Signed(challenger),
			lie.id,
			lie.liar.clone(),
			1,
			ProofNode(lie.node),
			lie.node_proof,
			lie.inputs,
		);

		ensure_slashed::<T>(lie.id, &lie.liar)
	}

	/// A fraud proof against [`HeavyKind::Pow`] at its parameter `n`.
	#[benchmark]
	fn challenge_pow(
		n: Linear<{ HeavyKind::Pow.range().0 }, { HeavyKind::Pow.range().1 }>,
	) -> Result<(), BenchmarkError> {
		let lie = lying_result::<T>(HeavyKind::Pow, n)?;
		let challenger = funded::<T>("challenger", 0);

		#[extrinsic_call]
		challenge(
			RawOrigin::Signed(challenger),
			lie.id,
			lie.liar.clone(),
			1,
			ProofNode(lie.node),
			lie.node_proof,
			lie.inputs,
		);

		ensure_slashed::<T>(lie.id, &lie.liar)
	}

	/// A fraud proof against [`HeavyKind::Resize`] at its parameter `h`.
	#[benchmark]
	fn challenge_resize(
		h: Linear<{ HeavyKind::Resize.range().0 }, { HeavyKind::Resize.range().1 }>,
	) -> Result<(), BenchmarkError> {
		let lie = lying_result::<T>(HeavyKind::Resize, h)?;
		let challenger = funded::<T>("challenger", 0);

		#[extrinsic_call]
		challenge(
			RawOrigin::Signed(challenger),
			lie.id,
			lie.liar.clone(),
			1,
			ProofNode(lie.node),
			lie.node_proof,
			lie.inputs,
		);

		ensure_slashed::<T>(lie.id, &lie.liar)
	}

	/// A fraud proof against [`HeavyKind::Gather`] at its parameter `n`.
	#[benchmark]
	fn challenge_gather(
		n: Linear<{ HeavyKind::Gather.range().0 }, { HeavyKind::Gather.range().1 }>,
	) -> Result<(), BenchmarkError> {
		let lie = lying_result::<T>(HeavyKind::Gather, n)?;
		let challenger = funded::<T>("challenger", 0);

		#[extrinsic_call]
		challenge(
			RawOrigin::Signed(challenger),
			lie.id,
			lie.liar.clone(),
			1,
			ProofNode(lie.node),
			lie.node_proof,
			lie.inputs,
		);

		ensure_slashed::<T>(lie.id, &lie.liar)
	}

	/// A fraud proof against [`HeavyKind::Slice`] at its parameter `n`.
	#[benchmark]
	fn challenge_slice(
		n: Linear<{ HeavyKind::Slice.range().0 }, { HeavyKind::Slice.range().1 }>,
	) -> Result<(), BenchmarkError> {
		let lie = lying_result::<T>(HeavyKind::Slice, n)?;
		let challenger = funded::<T>("challenger", 0);

		#[extrinsic_call]
		challenge(
			RawOrigin::Signed(challenger),
			lie.id,
			lie.liar.clone(),
			1,
			ProofNode(lie.node),
			lie.node_proof,
			lie.inputs,
		);

		ensure_slashed::<T>(lie.id, &lie.liar)
	}

	#[benchmark]
	fn slash(r: Linear<MIN_QUORUM, { T::MaxReplicas::get() }>) {
		protocol_exists::<T>();
		let id = revealed_quorum::<T>(2, r, true);
		let liars = assigned::<T>(id);
		let requester = Requests::<T>::get(id).expect("open").requester;
		let challenger = funded::<T>("challenger", 0);

		#[block]
		{
			for liar in &liars {
				Inference::<T>::punish(id, liar, &requester, &challenger, 0);
				Inference::<T>::drop_result(id, liar);
			}
		}

		assert!(TraceLeaves::<T>::iter_prefix(id).next().is_none());
	}

	#[benchmark]
	fn refund(r: Linear<MIN_QUORUM, { T::MaxReplicas::get() }>) {
		let id = revealed_quorum::<T>(2, r, true);
		let request = Requests::<T>::get(id).expect("open");
		let now = frame_system::Pallet::<T>::block_number();

		#[block]
		{
			Inference::<T>::refund(id, request, now);
		}

		assert!(Receipts::<T>::contains_key(id));
	}

	#[benchmark]
	fn expire_phase(r: Linear<MIN_QUORUM, { T::MaxReplicas::get() }>) {
		// Enough workers to replace every silent one.
		workers::<T>(2 * r);
		let model = model::<T>(1, 0, H256::zero(), &[1]);
		let id = open::<T>(model, VerificationMode::Quorum(r as u8));
		let silent = assigned::<T>(id);
		let request = Requests::<T>::get(id).expect("open");
		let RequestStatus::Assigned { deadline } = request.status else {
			panic!("assigned")
		};
		let now = deadline.saturating_add(One::one());
		frame_system::Pallet::<T>::set_block_number(now);

		#[block]
		{
			Inference::<T>::expire_assigned(id, request, now);
		}

		let fresh = assigned::<T>(id);
		assert_eq!(fresh.len() as u32, r);
		assert!(fresh.iter().all(|w| !silent.contains(w)));
	}

	/// The last of `r` quorum workers declines: the request is redrawn.
	#[benchmark]
	fn decline(r: Linear<MIN_QUORUM, { T::MaxReplicas::get() }>) -> Result<(), BenchmarkError> {
		workers::<T>(2 * r);
		let model = model::<T>(1, 0, H256::zero(), &[1]);
		let id = open::<T>(model, VerificationMode::Quorum(r as u8));
		let mut first = assigned::<T>(id);
		let last = first.pop().ok_or(BenchmarkError::Stop("assigned"))?;
		for worker in &first {
			Inference::<T>::do_decline(id, worker.clone())
				.map_err(|_| BenchmarkError::Stop("an assigned worker declines"))?;
		}

		#[extrinsic_call]
		_(RawOrigin::Signed(last.clone()), id);

		let fresh = assigned::<T>(id);
		assert_eq!(fresh.len() as u32, r);
		assert!(!fresh.contains(&last) && fresh.iter().all(|w| !first.contains(w)));
		Ok(())
	}

	#[benchmark]
	fn close_window() -> Result<(), BenchmarkError> {
		workers::<T>(1);
		let model = model::<T>(2, 0, H256::zero(), &[4]);
		let id = open::<T>(model, VerificationMode::Attested);
		let worker = assigned::<T>(id).remove(0);
		let (out, leaves) = result_of(2, 4, 1);
		let output: BoundedVec<u8, T::MaxOutputBytes> = vec![out]
			.encode()
			.try_into()
			.map_err(|_| BenchmarkError::Weightless)?;
		Inference::<T>::submit_result(
			RawOrigin::Signed(worker.clone()).into(),
			id,
			output,
			leaves.try_into().map_err(|_| BenchmarkError::Weightless)?,
			None,
		)
		.map_err(|e| BenchmarkError::Stop(e.error.into()))?;
		assert!(ChallengeWindows::<T>::contains_key(id));

		#[block]
		{
			Inference::<T>::close_window(id);
		}

		assert!(!TraceLeaves::<T>::contains_key(id, &worker));
		Ok(())
	}

	#[benchmark]
	fn on_initialize_base() {
		let now: BlockNumberFor<T> = 1000u32.into();
		// Caught up: one (empty) queue block to look at. Each further block looked at is
		// charged one read on top.
		crate::NextDue::<T>::put(now);

		#[block]
		{
			Inference::<T>::process_deadlines(now);
		}
	}

	/// What a worker call's authorization adds to its action: one sr25519 verification of a
	/// payload the size of a large result.
	#[benchmark]
	fn verify_worker_signature() {
		let key = sp_io::crypto::sr25519_generate(verity_primitives::crypto::WORKER_KEY_TYPE, None);
		let payload = vec![7u8; 64 * 1024];
		let signature =
			sp_io::crypto::sr25519_sign(verity_primitives::crypto::WORKER_KEY_TYPE, &key, &payload)
				.expect("the benchmark keystore signs");
		let valid;
		#[block]
		{
			valid = sp_io::crypto::sr25519_verify(&signature, &payload, &key);
		}
		assert!(valid);
	}

	impl_benchmark_test_suite!(Inference, crate::mock::new_test_ext(), crate::mock::Test);
}
