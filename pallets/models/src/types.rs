//! What `register_model` takes, and the aliases the pallet stores.
//!
//! The stored record itself is [`verity_primitives::ModelInfo`], shared with the other pallets.

use alloc::vec::Vec;
use codec::{Decode, DecodeAll, DecodeWithMemTracking, Encode};
use core::fmt::Debug;
use frame_support::{
	traits::{fungible::Inspect, Get},
	BoundedVec, CloneNoBound, DebugNoBound, EqNoBound, PartialEqNoBound,
};
use frame_system::pallet_prelude::BlockNumberFor;
use scale_info::TypeInfo;
use sp_core::{ConstU32, H256};
use verity_primitives::{
	engine::{
		commit::{ModelTree, ProgramHeader},
		ir::{Node, Program, ValueRef},
		MerkleProof,
	},
	ModeSet, ModelInfo, MAX_URI_LEN,
};

use crate::Config;

/// Balance of the pallet's currency.
pub type BalanceOf<T> =
	<<T as Config>::Currency as Inspect<<T as frame_system::Config>::AccountId>>::Balance;

/// The stored model record, with the runtime's types.
pub type ModelInfoOf<T> =
	ModelInfo<<T as frame_system::Config>::AccountId, BalanceOf<T>, BlockNumberFor<T>>;

/// A registration, with the runtime's types.
pub type ModelRegistrationOf<T> = ModelRegistration<BalanceOf<T>, <T as Config>::MaxModelBytes>;

/// A URI under which a model's bytes are published.
pub type Uri = BoundedVec<u8, ConstU32<MAX_URI_LEN>>;

/// Largest encoded size, in bytes, of a registration's program header plus its output nodes:
/// everything `register_model` hashes besides the ONNX bytes. Bounds the call's weight. A real
/// header is a few hundred bytes (its names come from the ONNX graph); an output node carries
/// its declared input and output types and attributes.
pub const MAX_PROOF_MATERIAL: u32 = 64 * 1024;

/// A program node with its Merkle proof against the model root: it is leaf `i` of the root,
/// where `i` is the node index the registration's header names.
#[derive(Clone, PartialEq, Encode, Decode, DecodeWithMemTracking, TypeInfo, Debug)]
pub struct ProvenNode {
	/// The node, exactly as the compiler emitted it.
	pub node: Node,
	/// Its proof against the model root.
	pub proof: MerkleProof,
}

// `Node` is not `Eq` only because a constant operand may hold floats; it stores them as bit
// patterns and its `PartialEq` compares those, so equality is an equivalence relation.
impl Eq for ProvenNode {}

/// Everything `register_model` takes.
///
/// The counts and the input specs come from `header`, proven against `model_root` with
/// `header_proof`. The header names each output's producing node but not its type, so
/// `output_nodes` carries that node (one per header output, in order), proven against the same
/// root; the output spec is the node's single declared output type. The remaining figures
/// (`macs`, `max_node_footprint`, `max_node_cost`) are the owner's claims, which workers check
/// when they recompile the ONNX bytes; the chain checks the last two against the output nodes.
///
/// Exactly one of `bytes` (stored on chain) and `uri` must be given.
///
/// In a genesis config a registration is written as the hex string of its SCALE encoding
/// (its program types have no JSON form).
#[derive(
	CloneNoBound,
	PartialEqNoBound,
	EqNoBound,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	DebugNoBound,
)]
#[scale_info(skip_type_params(MaxModelBytes))]
pub struct ModelRegistration<Balance: Clone + PartialEq + Eq + Debug, MaxModelBytes: Get<u32>> {
	/// blake2-256 of the ONNX bytes.
	pub onnx_hash: H256,
	/// Root of the canonical program.
	pub model_root: H256,
	/// Version of the ONNX→IR compiler that produced `model_root`.
	pub compiler_version: u32,
	/// The program header (IR version, inputs, outputs, node and weight counts).
	pub header: ProgramHeader,
	/// Proof of `header` against `model_root` (it is the root's last leaf).
	pub header_proof: MerkleProof,
	/// The node producing each program output, in header order.
	pub output_nodes: Vec<ProvenNode>,
	/// Multiply-accumulates of one inference (the engine's cost units).
	pub macs: u64,
	/// Bytes of the largest single node's inputs plus outputs.
	pub max_node_footprint: u64,
	/// Cost of the largest single node: the engine's `exec::node_cost` (multiply-accumulates
	/// plus elements touched, from the declared types), maximised over nodes.
	pub max_node_cost: u64,
	/// Royalty per inference per replica, paid to the owner.
	pub price: Balance,
	/// Verification modes requesters may choose.
	pub modes: ModeSet,
	/// The ONNX bytes, to store on chain.
	pub bytes: Option<BoundedVec<u8, MaxModelBytes>>,
	/// Where the ONNX bytes are published instead.
	pub uri: Option<Uri>,
}

impl<Balance: Clone + PartialEq + Eq + Debug, MaxModelBytes: Get<u32>>
	ModelRegistration<Balance, MaxModelBytes>
{
	/// The registration of a compiled `program`: its header, the proofs and the claimed
	/// figures computed from the program itself. `None` if an output is not the output of a
	/// node of the program.
	///
	/// For node-side tooling, genesis presets and tests; the pallet checks the result like any
	/// other registration.
	pub fn for_program(
		program: &Program,
		onnx_hash: H256,
		compiler_version: u32,
		price: Balance,
		modes: ModeSet,
		bytes: Option<BoundedVec<u8, MaxModelBytes>>,
		uri: Option<Uri>,
	) -> Option<Self> {
		let tree = ModelTree::new(program);
		let output_nodes = program
			.outputs
			.iter()
			.map(|o| match o.source {
				ValueRef::Node { node, .. } => Some(ProvenNode {
					node: program.nodes.get(node as usize)?.clone(),
					proof: tree.node_proof(node)?,
				}),
				_ => None,
			})
			.collect::<Option<Vec<_>>>()?;
		Some(ModelRegistration {
			onnx_hash,
			model_root: H256(tree.root()),
			compiler_version,
			header: ProgramHeader::of(program),
			header_proof: tree.header_proof()?,
			output_nodes,
			macs: program.macs(),
			max_node_footprint: program.largest_node_footprint(),
			max_node_cost: program.largest_node_cost(),
			price,
			modes,
			bytes,
			uri,
		})
	}

	/// Encoded size of the header plus the output nodes (what [`MAX_PROOF_MATERIAL`] bounds),
	/// saturating at `u32::MAX`.
	pub fn proof_material_len(&self) -> u32 {
		let nodes = self
			.output_nodes
			.iter()
			.fold(0usize, |acc, n| acc.saturating_add(n.node.encoded_size()));
		u32::try_from(self.header.encoded_size().saturating_add(nodes)).unwrap_or(u32::MAX)
	}

	/// Length of the on-chain bytes (zero for a URI model).
	pub fn bytes_len(&self) -> u32 {
		self.bytes.as_ref().map_or(0, |b| b.len() as u32)
	}
}

impl<Balance, MaxModelBytes> sp_core::serde::Serialize for ModelRegistration<Balance, MaxModelBytes>
where
	Balance: Clone + PartialEq + Eq + Debug + Encode,
	MaxModelBytes: Get<u32>,
{
	fn serialize<S: sp_core::serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
		sp_core::serde::Serialize::serialize(&sp_core::Bytes(self.encode()), serializer)
	}
}

impl<'de, Balance, MaxModelBytes> sp_core::serde::Deserialize<'de>
	for ModelRegistration<Balance, MaxModelBytes>
where
	Balance: Clone + PartialEq + Eq + Debug + Decode,
	MaxModelBytes: Get<u32>,
{
	fn deserialize<D: sp_core::serde::Deserializer<'de>>(
		deserializer: D,
	) -> Result<Self, D::Error> {
		let bytes: sp_core::Bytes = sp_core::serde::Deserialize::deserialize(deserializer)?;
		Self::decode_all(&mut &bytes.0[..]).map_err(|_| {
			<D::Error as sp_core::serde::de::Error>::custom(
				"not the SCALE encoding of a model registration",
			)
		})
	}
}
