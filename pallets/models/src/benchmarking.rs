//! Benchmarks of `pallet_models`, worst cases: the most on-chain bytes, the largest header and
//! output nodes, `MAX_MODEL_IO` outputs, and `MaxNodes` nodes (the deepest Merkle proofs).

#![cfg(feature = "runtime-benchmarks")]

use super::*;
use alloc::{boxed::Box, string::String, vec, vec::Vec};
use codec::Encode;
use frame_benchmarking::v2::*;
use frame_support::{
	traits::{
		fungible::{Inspect, Mutate},
		Get,
	},
	BoundedVec,
};
use frame_system::RawOrigin;
use sp_core::H256;
use sp_runtime::traits::Saturating;
use verity_primitives::{
	engine::{
		commit::{header_leaf, merkle_proof, merkle_root, node_leaf, ProgramHeader},
		exec::node_cost,
		ir::{Node, NodeInput, Op, OutputInfo, ValueInfo, ValueRef},
		DType, TensorType, IR_VERSION,
	},
	ModeSet, ModelId, ModelRegistry, ModelStatus, MAX_MODEL_IO, MAX_RANK,
};

/// Encoded size of the unpadded header plus output nodes of [`registration`] is below this.
const MIN_MATERIAL: u32 = 2048;

/// The smallest node `report_false_claim` is benchmarked with (a one-input `Concat` is smaller).
const MIN_CLAIM_NODE: u32 = 64;

/// A registration that passes every check: `b` on-chain bytes, `MAX_MODEL_IO` inputs and
/// outputs of rank `MAX_RANK`, `MaxNodes` identical nodes, and the first input's name padded so
/// that the header plus the output nodes encode to `h` bytes (when `h` exceeds their unpadded
/// size).
fn registration<T: Config>(b: u32, h: u32) -> ModelRegistrationOf<T> {
	registration_with_first::<T>(b, h, None).0
}

/// [`registration`] whose node 0 (never an output) is `first` when given; also returns the
/// model's Merkle leaves.
fn registration_with_first<T: Config>(
	b: u32,
	h: u32,
	first: Option<&Node>,
) -> (ModelRegistrationOf<T>, Vec<[u8; 32]>) {
	let ty = TensorType {
		dtype: DType::F32,
		shape: vec![1; MAX_RANK as usize],
	};
	let node = Node {
		op: Op::Relu,
		inputs: vec![Some(NodeInput {
			source: ValueRef::Input(0),
			ty: ty.clone(),
		})],
		outputs: vec![ty.clone()],
	};
	let node_count = T::MaxNodes::get();
	let output_indices: Vec<u32> = (0..MAX_MODEL_IO)
		.map(|k| node_count.saturating_sub(1 + k % node_count))
		.collect();
	let mut header = ProgramHeader {
		version: IR_VERSION,
		inputs: (0..MAX_MODEL_IO)
			.map(|_| ValueInfo {
				name: String::new(),
				ty: ty.clone(),
			})
			.collect(),
		outputs: output_indices
			.iter()
			.map(|&node| OutputInfo {
				name: String::new(),
				source: ValueRef::Node { node, output: 0 },
			})
			.collect(),
		node_count,
		weight_count: 0,
	};
	let nodes_len = node.encoded_size() * MAX_MODEL_IO as usize;
	let material = |header: &ProgramHeader| header.encoded_size() + nodes_len;
	let pad = (h as usize).saturating_sub(material(&header));
	header.inputs[0].name = "x".repeat(pad);
	// The name's length prefix grows with it; trim back to `h`.
	while material(&header) > h as usize && !header.inputs[0].name.is_empty() {
		header.inputs[0].name.pop();
	}

	let mut leaves = vec![node_leaf(&node); node_count as usize];
	if let Some(first) = first {
		leaves[0] = node_leaf(first);
	}
	leaves.push(header_leaf(&header));
	let output_nodes = output_indices
		.iter()
		.map(|&i| ProvenNode {
			node: node.clone(),
			proof: merkle_proof(&leaves, i as usize).expect("index below the leaf count"),
		})
		.collect();
	let bytes = vec![0xab; b as usize];
	let registration = ModelRegistration {
		onnx_hash: H256(sp_io::hashing::blake2_256(&bytes)),
		model_root: H256(merkle_root(&leaves)),
		compiler_version: 1,
		header_proof: merkle_proof(&leaves, node_count as usize).expect("the header leaf exists"),
		header,
		output_nodes,
		macs: 1_000_000,
		max_node_footprint: T::MaxNodeFootprint::get(),
		max_node_cost: T::MaxNodeCost::get(),
		price: 1u32.into(),
		modes: ModeSet::ALL,
		bytes: Some(BoundedVec::try_from(bytes).expect("b is at most MaxModelBytes")),
		uri: None,
	};
	(registration, leaves)
}

/// A `Concat` of `k` `[1]` inputs: a real node whose encoding grows by a few bytes per input.
fn concat_node(k: u32) -> Node {
	let one = TensorType {
		dtype: DType::F32,
		shape: vec![1],
	};
	Node {
		op: Op::Concat { axis: 0 },
		inputs: (0..k)
			.map(|_| {
				Some(NodeInput {
					source: ValueRef::Input(0),
					ty: one.clone(),
				})
			})
			.collect(),
		outputs: vec![TensorType {
			dtype: DType::F32,
			shape: vec![k as u64],
		}],
	}
}

/// An account that can afford the largest deposit.
fn funded<T: Config>(name: &'static str) -> T::AccountId {
	let who: T::AccountId = account(name, 0, 0);
	let largest = Pallet::<T>::deposit_for(T::MaxModelBytes::get(), record_max_len::<T>());
	let _ = T::Currency::set_balance(
		&who,
		largest
			.saturating_mul(4u32.into())
			.saturating_add(T::Currency::minimum_balance().saturating_mul(100u32.into())),
	);
	who
}

/// Registers a model for `owner` with `b` bytes and returns its id.
fn registered<T: Config>(owner: &T::AccountId, b: u32) -> ModelId {
	let (id, _) = Pallet::<T>::do_register_model(owner, registration::<T>(b, MIN_MATERIAL))
		.expect("the benchmark registration is valid");
	id
}

#[benchmarks]
mod benchmarks {
	use super::*;

	#[benchmark]
	fn register_model(
		b: Linear<1, { T::MaxModelBytes::get() }>,
		h: Linear<MIN_MATERIAL, MAX_PROOF_MATERIAL>,
	) {
		let owner = funded::<T>("owner");
		let r = registration::<T>(b, h);
		// Within the few bytes a length prefix can add when the padding crosses a boundary.
		assert!(r.proof_material_len() <= h && r.proof_material_len() + 4 >= h);
		// A chain's genesis may already hold models.
		let id = NextModelId::<T>::get();

		#[extrinsic_call]
		_(RawOrigin::Signed(owner.clone()), Box::new(r));

		assert_eq!(Models::<T>::get(id).map(|m| m.owner), Some(owner));
	}

	/// A false cost claim proven at node 0 of a `MaxNodes`-node model (the deepest proof) by a
	/// node of `n` encoded bytes.
	#[benchmark]
	fn report_false_claim(
		n: Linear<{ MIN_CLAIM_NODE }, MAX_PROOF_MATERIAL>,
	) -> Result<(), BenchmarkError> {
		let owner = funded::<T>("owner");
		let one_input = concat_node(1).encoded_size() as u32;
		let per_input = concat_node(2).encoded_size() as u32 - one_input;
		let node = concat_node(1 + n.saturating_sub(one_input) / per_input);
		let (mut r, leaves) = registration_with_first::<T>(1, MIN_MATERIAL, Some(&node));
		// The outputs' cost, far below the Concat's.
		r.max_node_cost = r
			.output_nodes
			.iter()
			.map(|o| node_cost(&o.node))
			.max()
			.unwrap_or(0);
		let (id, _) = Pallet::<T>::do_register_model(&owner, r)
			.map_err(|_| BenchmarkError::Stop("the registration is valid"))?;
		let proven = ProvenNode {
			node,
			proof: merkle_proof(&leaves, 0).expect("node 0 exists"),
		};
		let reporter = funded::<T>("reporter");

		#[extrinsic_call]
		_(RawOrigin::Signed(reporter), id, 0, Box::new(proven));

		assert_eq!(
			Models::<T>::get(id).map(|m| m.status),
			Some(ModelStatus::Deprecated)
		);
		Ok(())
	}

	#[benchmark]
	fn set_price() {
		let owner = funded::<T>("owner");
		let id = registered::<T>(&owner, 1);

		#[extrinsic_call]
		_(RawOrigin::Signed(owner), id, 5u32.into());

		assert_eq!(Models::<T>::get(id).map(|m| m.price), Some(5u32.into()));
	}

	#[benchmark]
	fn set_modes() {
		let owner = funded::<T>("owner");
		let id = registered::<T>(&owner, 1);
		let modes = ModeSet(ModeSet::OPTIMISTIC);

		#[extrinsic_call]
		_(RawOrigin::Signed(owner), id, modes);

		assert_eq!(Models::<T>::get(id).map(|m| m.modes), Some(modes));
	}

	#[benchmark]
	fn deprecate() {
		let owner = funded::<T>("owner");
		let id = registered::<T>(&owner, 1);

		#[extrinsic_call]
		_(RawOrigin::Signed(owner), id);

		assert_eq!(
			Models::<T>::get(id).map(|m| m.status),
			Some(verity_primitives::ModelStatus::Deprecated)
		);
	}

	#[benchmark]
	fn remove_model() {
		let owner = funded::<T>("owner");
		let id = registered::<T>(&owner, T::MaxModelBytes::get());
		Pallet::<T>::do_deprecate(&owner, id).expect("the owner deprecates");

		#[extrinsic_call]
		_(RawOrigin::Signed(owner), id);

		assert!(Models::<T>::get(id).is_none());
		assert!(ModelBytes::<T>::get(id).is_none());
	}

	#[benchmark]
	fn request_opened() {
		let owner = funded::<T>("owner");
		let id = registered::<T>(&owner, 1);

		#[block]
		{
			<Pallet<T> as ModelRegistry<_, _, _>>::request_opened(id).expect("the model is active");
		}

		assert_eq!(Models::<T>::get(id).map(|m| m.in_flight), Some(1));
	}

	#[benchmark]
	fn request_closed() {
		let owner = funded::<T>("owner");
		let id = registered::<T>(&owner, 1);
		<Pallet<T> as ModelRegistry<_, _, _>>::request_opened(id).expect("the model is active");

		#[block]
		{
			<Pallet<T> as ModelRegistry<_, _, _>>::request_closed(id);
		}

		assert_eq!(Models::<T>::get(id).map(|m| m.in_flight), Some(0));
	}

	impl_benchmark_test_suite!(Pallet, crate::mock::new_test_ext(), crate::mock::Test);
}
