//! Commitments: tensor hashes, the execution trace, binary Merkle trees and the model root.
//!
//! Every hash is plain, unkeyed BLAKE2b with a 32-byte output (what `sp_io::hashing::blake2_256`
//! computes) over a domain-tagged preimage, so a runtime can recompute any of them with its host
//! hashing functions.
//!
//! * **Tensor:** the data bytes `D` are the elements in little-endian order (Bool as 0/1, every
//!   NaN as the canonical NaN), cut into chunks of [`TENSOR_CHUNK`] bytes (the last one shorter;
//!   none if `D` is empty). `tensor_hash = H(TENSOR_TAG ‖ dtype code (1 byte) ‖ rank (u64 LE) ‖
//!   dims (u64 LE each) ‖ len(D) (u64 LE) ‖ H(chunk_0) ‖ H(chunk_1) ‖ …)`. Chunking lets
//!   native code hash four chunks at once with SIMD, keeps every hash computable with the
//!   runtime's `blake2_256` host function, and allows proving a single chunk later.
//! * **Merkle tree** over 32-byte leaves: leaf node `H(0x00 ‖ leaf)`, inner node
//!   `H(0x01 ‖ left ‖ right)`, built level by level from the left. **Odd rule:** when a level
//!   has an odd number of nodes, the last one is *promoted unchanged* to the next level (it is
//!   neither duplicated nor hashed again). The root binds the leaf count:
//!   `root = H(0x03 ‖ leaf count (u64 LE) ‖ top node)`, so a proof verifies for one leaf count
//!   only. The top node of zero leaves is `H(0x02)`.
//! * **Trace:** one leaf per node, in node order: leaf `i` is the tensor hash of node `i`'s
//!   (only) output (see [`crate::ir`]). Trace root = Merkle root of the leaves.
//! * **Model root:** Merkle root over, in this order, `H(NODE_TAG ‖ SCALE(node))` for each node,
//!   the tensor hash of each weight, and `H(HEADER_TAG ‖ SCALE(ProgramHeader))`. With `N` nodes
//!   and `W` weights: node `i` is leaf `i`, weight `j` is leaf `N + j`, the header is leaf
//!   `N + W`, and there are `N + W + 1` leaves.

use alloc::{borrow::Cow, string::String, vec::Vec};
use codec::{Decode, DecodeWithMemTracking, Encode};
use scale_info::TypeInfo;

use crate::{
	ir::{Node, OutputInfo, Program, ValueInfo},
	tensor::{write_le, Tensor, TensorData},
};

/// A 32-byte BLAKE2b digest.
pub type Hash = [u8; 32];

/// Domain tag of tensor hashes.
pub const TENSOR_TAG: &[u8; 16] = b"verity.tensor.v1";
/// Domain tag of model-root node leaves.
pub const NODE_TAG: &[u8; 14] = b"verity.node.v1";
/// Domain tag of the model-root header leaf.
pub const HEADER_TAG: &[u8; 16] = b"verity.header.v1";

const LEAF_PREFIX: u8 = 0x00;
const INNER_PREFIX: u8 = 0x01;
const EMPTY_PREFIX: u8 = 0x02;
const ROOT_PREFIX: u8 = 0x03;

fn state() -> blake2b_simd::State {
	blake2b_simd::Params::new().hash_length(32).to_state()
}

fn finish(st: &blake2b_simd::State) -> Hash {
	let mut out = [0u8; 32];
	out.copy_from_slice(st.finalize().as_bytes());
	out
}

/// Plain BLAKE2b-256 of `data`.
pub fn blake2_256(data: &[u8]) -> Hash {
	let mut st = state();
	st.update(data);
	finish(&st)
}

/// Bytes per data chunk of a tensor commitment (the last chunk may be shorter).
pub const TENSOR_CHUNK: usize = 16 * 1024;

/// Little-endian element bytes with canonical NaNs: borrowed from the tensor when its memory
/// already is that encoding (little-endian targets, no NaN to rewrite), copied otherwise.
fn canonical_bytes(t: &Tensor) -> Cow<'_, [u8]> {
	#[cfg(target_endian = "little")]
	{
		// SAFETY (all arms): the element types have no padding, `bool` is one byte holding 0 or
		// 1, and each view covers exactly the slice's memory.
		unsafe fn view<T>(v: &[T]) -> &[u8] {
			core::slice::from_raw_parts(v.as_ptr() as *const u8, core::mem::size_of_val(v))
		}
		let raw = match t.data() {
			TensorData::F32(v) if !v.iter().any(|x| x.is_nan()) => Some(unsafe { view(v) }),
			TensorData::F32(_) => None,
			TensorData::I64(v) => Some(unsafe { view(v) }),
			TensorData::I32(v) => Some(unsafe { view(v) }),
			TensorData::I8(v) => Some(unsafe { view(v) }),
			TensorData::U8(v) => Some(v.as_slice()),
			TensorData::Bool(v) => Some(unsafe { view(v) }),
		};
		if let Some(raw) = raw {
			return Cow::Borrowed(raw);
		}
	}
	let mut out = Vec::with_capacity(t.byte_size());
	write_le(t.data(), true, &mut |chunk| out.extend_from_slice(chunk));
	Cow::Owned(out)
}

/// Tensor commitment (see the module documentation):
/// `H(TENSOR_TAG ‖ dtype ‖ rank ‖ dims ‖ byte length (u64 LE) ‖ H(chunk_0) ‖ H(chunk_1) ‖ …)`
/// over the canonical little-endian data cut into [`TENSOR_CHUNK`]-byte chunks. The chunk hashes
/// are independent, so they are computed several at a time with SIMD (`blake2b_simd::many`).
pub fn tensor_hash(t: &Tensor) -> Hash {
	tensor_hash_threads(t, 1)
}

/// [`tensor_hash`], spreading the chunk hashes of large tensors over `threads` threads (std
/// only; the result does not depend on `threads`).
pub fn tensor_hash_threads(t: &Tensor, threads: usize) -> Hash {
	let bytes = canonical_bytes(t);
	let params = {
		let mut p = blake2b_simd::Params::new();
		p.hash_length(32);
		p
	};
	let mut jobs: Vec<blake2b_simd::many::HashManyJob> = bytes
		.chunks(TENSOR_CHUNK)
		.map(|c| blake2b_simd::many::HashManyJob::new(&params, c))
		.collect();
	#[cfg(feature = "std")]
	if threads > 1 && jobs.len() >= 32 {
		let per = jobs.len().div_ceil(threads);
		std::thread::scope(|s| {
			let mut groups = jobs.chunks_mut(per);
			let first = groups.next();
			for g in groups {
				s.spawn(move || blake2b_simd::many::hash_many(g.iter_mut()));
			}
			if let Some(g) = first {
				blake2b_simd::many::hash_many(g.iter_mut());
			}
		});
	} else {
		blake2b_simd::many::hash_many(jobs.iter_mut());
	}
	#[cfg(not(feature = "std"))]
	{
		let _ = threads;
		blake2b_simd::many::hash_many(jobs.iter_mut());
	}
	let mut st = state();
	st.update(TENSOR_TAG);
	st.update(&[t.dtype().code()]);
	st.update(&(t.rank() as u64).to_le_bytes());
	for &d in t.shape() {
		st.update(&(d as u64).to_le_bytes());
	}
	st.update(&(bytes.len() as u64).to_le_bytes());
	for job in &jobs {
		st.update(job.to_hash().as_bytes());
	}
	finish(&st)
}

fn leaf_node(leaf: &Hash) -> Hash {
	let mut st = state();
	st.update(&[LEAF_PREFIX]);
	st.update(leaf);
	finish(&st)
}

fn inner_node(l: &Hash, r: &Hash) -> Hash {
	let mut st = state();
	st.update(&[INNER_PREFIX]);
	st.update(l);
	st.update(r);
	finish(&st)
}

/// Binds the leaf count into the root: `H(0x03 ‖ count (u64 LE) ‖ top)`.
fn bind_count(count: u64, top: &Hash) -> Hash {
	let mut st = state();
	st.update(&[ROOT_PREFIX]);
	st.update(&count.to_le_bytes());
	st.update(top);
	finish(&st)
}

/// Root of zero leaves.
pub fn empty_root() -> Hash {
	bind_count(0, &blake2_256(&[EMPTY_PREFIX]))
}

/// Merkle root of `leaves` (see the module documentation for the odd rule and count binding).
pub fn merkle_root(leaves: &[Hash]) -> Hash {
	if leaves.is_empty() {
		return empty_root();
	}
	let mut level: Vec<Hash> = leaves.iter().map(leaf_node).collect();
	while level.len() > 1 {
		level = level
			.chunks(2)
			.map(|p| {
				if p.len() == 2 {
					inner_node(&p[0], &p[1])
				} else {
					p[0]
				}
			})
			.collect();
	}
	bind_count(leaves.len() as u64, &level[0])
}

/// Sibling hashes from a leaf up to the root (levels where the node is promoted contribute
/// nothing).
#[derive(Clone, Debug, PartialEq, Eq, Default, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub struct MerkleProof {
	/// Siblings, bottom-up.
	pub siblings: Vec<Hash>,
}

/// Proof that `leaves[index]` is in the tree of `leaves`; `None` if `index` is out of range.
pub fn merkle_proof(leaves: &[Hash], index: usize) -> Option<MerkleProof> {
	if index >= leaves.len() {
		return None;
	}
	let mut siblings = Vec::new();
	let mut level: Vec<Hash> = leaves.iter().map(leaf_node).collect();
	let mut idx = index;
	while level.len() > 1 {
		let sib = idx ^ 1;
		if sib < level.len() {
			siblings.push(level[sib]);
		}
		level = level
			.chunks(2)
			.map(|p| {
				if p.len() == 2 {
					inner_node(&p[0], &p[1])
				} else {
					p[0]
				}
			})
			.collect();
		idx /= 2;
	}
	Some(MerkleProof { siblings })
}

/// Whether `proof` shows `leaf` at `index` in a tree of `leaf_count` leaves with root `root`.
/// Cheap: `O(log leaf_count)` hashes, no allocation.
pub fn verify_proof(
	root: &Hash,
	leaf: &Hash,
	index: u64,
	leaf_count: u64,
	proof: &MerkleProof,
) -> bool {
	if index >= leaf_count {
		return false;
	}
	let mut h = leaf_node(leaf);
	let (mut idx, mut n) = (index, leaf_count);
	let mut used = 0usize;
	while n > 1 {
		let promoted = idx == n - 1 && n % 2 == 1;
		if !promoted {
			let Some(sib) = proof.siblings.get(used) else {
				return false;
			};
			used += 1;
			h = if idx % 2 == 0 {
				inner_node(&h, sib)
			} else {
				inner_node(sib, &h)
			};
		}
		idx /= 2;
		n = n.div_ceil(2);
	}
	used == proof.siblings.len() && bind_count(leaf_count, &h) == *root
}

/// The execution trace: leaf `i` is the tensor hash of node `i`'s output (see [`crate::ir`]).
#[derive(Clone, Debug, PartialEq, Eq, Default, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub struct Trace {
	/// Leaves in trace order.
	pub leaves: Vec<Hash>,
}

impl Trace {
	/// Merkle root of the leaves.
	pub fn root(&self) -> Hash {
		merkle_root(&self.leaves)
	}

	/// Proof for leaf `index`.
	pub fn proof(&self, index: usize) -> Option<MerkleProof> {
		merkle_proof(&self.leaves, index)
	}

	/// Number of leaves.
	pub fn len(&self) -> usize {
		self.leaves.len()
	}

	/// Whether there are no leaves.
	pub fn is_empty(&self) -> bool {
		self.leaves.is_empty()
	}

	/// Index of the first leaf where `self` and `other` differ (or where one ends).
	pub fn first_divergence(&self, other: &Trace) -> Option<usize> {
		let n = self.leaves.len().min(other.leaves.len());
		(0..n).find(|&i| self.leaves[i] != other.leaves[i]).or(
			if self.leaves.len() != other.leaves.len() {
				Some(n)
			} else {
				None
			},
		)
	}
}

/// Root of a trace.
pub fn trace_root(trace: &Trace) -> Hash {
	trace.root()
}

/// What the header leaf of the model root commits to.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub struct ProgramHeader {
	/// IR version.
	pub version: u16,
	/// Program inputs (names and types).
	pub inputs: Vec<ValueInfo>,
	/// Program outputs (names and sources).
	pub outputs: Vec<OutputInfo>,
	/// Number of nodes.
	pub node_count: u32,
	/// Number of weights.
	pub weight_count: u32,
}

impl ProgramHeader {
	/// Header of `p`.
	pub fn of(p: &Program) -> Self {
		ProgramHeader {
			version: p.version,
			inputs: p.inputs.clone(),
			outputs: p.outputs.clone(),
			node_count: p.nodes.len() as u32,
			weight_count: p.weights.len() as u32,
		}
	}

	/// Model-root leaf count for this header (`N + W + 1`).
	pub fn leaf_count(&self) -> u64 {
		self.node_count as u64 + self.weight_count as u64 + 1
	}
}

/// Model-root leaf of a node: `H(NODE_TAG ‖ SCALE(node))`.
pub fn node_leaf(node: &Node) -> Hash {
	let mut st = state();
	st.update(NODE_TAG);
	node.encode_to(&mut HashOutput(&mut st));
	finish(&st)
}

/// Model-root leaf of the header: `H(HEADER_TAG ‖ SCALE(header))`.
pub fn header_leaf(h: &ProgramHeader) -> Hash {
	let mut st = state();
	st.update(HEADER_TAG);
	h.encode_to(&mut HashOutput(&mut st));
	finish(&st)
}

/// Streams SCALE output into a hash state without buffering.
struct HashOutput<'a>(&'a mut blake2b_simd::State);

impl codec::Output for HashOutput<'_> {
	fn write(&mut self, bytes: &[u8]) {
		self.0.update(bytes);
	}
}

/// The model-root Merkle tree of a program, for roots and proofs.
#[derive(Clone, Debug)]
pub struct ModelTree {
	leaves: Vec<Hash>,
	node_count: u32,
	weight_count: u32,
}

impl ModelTree {
	/// Hashes every node, weight and the header of `p`.
	pub fn new(p: &Program) -> Self {
		let mut leaves: Vec<Hash> = p.nodes.iter().map(node_leaf).collect();
		leaves.extend(p.weights.iter().map(tensor_hash));
		leaves.push(header_leaf(&ProgramHeader::of(p)));
		ModelTree {
			leaves,
			node_count: p.nodes.len() as u32,
			weight_count: p.weights.len() as u32,
		}
	}

	/// The model root.
	pub fn root(&self) -> Hash {
		merkle_root(&self.leaves)
	}

	/// All leaves.
	pub fn leaves(&self) -> &[Hash] {
		&self.leaves
	}

	/// Number of leaves (`N + W + 1`).
	pub fn leaf_count(&self) -> u64 {
		self.leaves.len() as u64
	}

	/// Proof for node `i` (leaf `i`).
	pub fn node_proof(&self, i: u32) -> Option<MerkleProof> {
		if i >= self.node_count {
			return None;
		}
		merkle_proof(&self.leaves, i as usize)
	}

	/// Proof for weight `j` (leaf `N + j`).
	pub fn weight_proof(&self, j: u32) -> Option<MerkleProof> {
		if j >= self.weight_count {
			return None;
		}
		merkle_proof(&self.leaves, self.node_count as usize + j as usize)
	}

	/// Proof for the header (leaf `N + W`).
	pub fn header_proof(&self) -> Option<MerkleProof> {
		merkle_proof(&self.leaves, self.leaves.len() - 1)
	}
}

/// Model root of a program.
pub fn model_root(p: &Program) -> Hash {
	ModelTree::new(p).root()
}

/// Verifies that `node` is node `index` of the model with `root`, `node_count` nodes and
/// `weight_count` weights.
pub fn verify_node(
	root: &Hash,
	node: &Node,
	index: u32,
	node_count: u32,
	weight_count: u32,
	proof: &MerkleProof,
) -> bool {
	index < node_count
		&& verify_proof(
			root,
			&node_leaf(node),
			index as u64,
			node_count as u64 + weight_count as u64 + 1,
			proof,
		)
}

/// Verifies that `weight` is weight `index` of the model (see [`verify_node`]).
pub fn verify_weight(
	root: &Hash,
	weight: &Tensor,
	index: u32,
	node_count: u32,
	weight_count: u32,
	proof: &MerkleProof,
) -> bool {
	index < weight_count
		&& verify_proof(
			root,
			&tensor_hash(weight),
			node_count as u64 + index as u64,
			node_count as u64 + weight_count as u64 + 1,
			proof,
		)
}

/// Verifies the header leaf of the model (its counts fix the leaf layout).
pub fn verify_header(root: &Hash, header: &ProgramHeader, proof: &MerkleProof) -> bool {
	let n = header.leaf_count();
	verify_proof(root, &header_leaf(header), n - 1, n, proof)
}

/// Hex form of a hash, for logs and tests.
pub fn to_hex(h: &Hash) -> String {
	const HEX: &[u8; 16] = b"0123456789abcdef";
	let mut s = String::with_capacity(64);
	for b in h {
		s.push(HEX[(b >> 4) as usize] as char);
		s.push(HEX[(b & 15) as usize] as char);
	}
	s
}
