//! Merkle trees, proofs, tensor hashes and the model root.

mod common;

use common::*;
use verity_engine::{
	commit::*,
	ir::*,
	tensor::{DType, Tensor},
};

fn leaves(n: usize) -> Vec<Hash> {
	(0..n)
		.map(|i| blake2_256(&(i as u64).to_le_bytes()))
		.collect()
}

#[test]
fn proofs_verify_for_every_size_and_index() {
	for n in 1..=33usize {
		let ls = leaves(n);
		let root = merkle_root(&ls);
		for i in 0..n {
			let proof = merkle_proof(&ls, i).unwrap();
			assert!(proof.siblings.len() <= 6);
			assert!(
				verify_proof(&root, &ls[i], i as u64, n as u64, &proof),
				"n={n} i={i}"
			);
			// Wrong leaf, index, count, root or sibling: rejected.
			assert!(!verify_proof(&root, &ls[(i + 1) % n], i as u64, n as u64, &proof) || n == 1);
			if n > 1 {
				assert!(!verify_proof(
					&root,
					&ls[i],
					((i + 1) % n) as u64,
					n as u64,
					&proof
				));
			}
			assert!(!verify_proof(&root, &ls[i], i as u64, n as u64 + 1, &proof));
			let mut bad = root;
			bad[0] ^= 1;
			assert!(!verify_proof(&bad, &ls[i], i as u64, n as u64, &proof));
			if !proof.siblings.is_empty() {
				let mut p2 = proof.clone();
				p2.siblings[0][5] ^= 0x80;
				assert!(!verify_proof(&root, &ls[i], i as u64, n as u64, &p2));
				let mut p3 = proof.clone();
				p3.siblings.push([0u8; 32]);
				assert!(!verify_proof(&root, &ls[i], i as u64, n as u64, &p3));
			}
			assert!(!verify_proof(&root, &ls[i], n as u64, n as u64, &proof));
		}
		assert!(merkle_proof(&ls, n).is_none());
	}
	assert_eq!(merkle_root(&[]), empty_root());
}

#[test]
fn odd_rule_promotes_the_last_node() {
	let ls = leaves(3);
	let h = |prefix: u8, parts: &[&[u8]]| {
		let mut v = vec![prefix];
		for p in parts {
			v.extend_from_slice(p);
		}
		blake2_256(&v)
	};
	let l: Vec<Hash> = ls.iter().map(|x| h(0, &[x])).collect();
	let top = h(1, &[&h(1, &[&l[0], &l[1]]), &l[2]]);
	assert_eq!(merkle_root(&ls), h(3, &[&3u64.to_le_bytes(), &top]));
	assert_eq!(merkle_root(&ls[..1]), h(3, &[&1u64.to_le_bytes(), &l[0]]));
}

#[test]
fn tensor_hash_commits_to_type_shape_and_canonical_data() {
	let a = Tensor::from_f32(&[2, 2], vec![1., 2., 3., 4.]).unwrap();
	let b = a.clone().reshape(vec![4]).unwrap();
	assert_ne!(tensor_hash(&a), tensor_hash(&b));
	let c = Tensor::from_i32(&[2, 2], vec![1, 2, 3, 4]).unwrap();
	assert_ne!(tensor_hash(&a), tensor_hash(&c));
	// NaN payloads do not matter.
	let n1 = Tensor::from_f32(&[2], vec![f32::from_bits(0x7fc0_0001), 1.0]).unwrap();
	let n2 = Tensor::from_f32(&[2], vec![f32::from_bits(0xffc0_0000), 1.0]).unwrap();
	assert_eq!(tensor_hash(&n1), tensor_hash(&n2));
	// -0.0 and +0.0 do.
	assert_ne!(
		tensor_hash(&Tensor::from_f32(&[1], vec![0.0]).unwrap()),
		tensor_hash(&Tensor::from_f32(&[1], vec![-0.0]).unwrap())
	);
	// The definition, recomputed with plain blake2-256 calls (as a runtime with host hashing
	// would), over several chunks.
	let n = TENSOR_CHUNK / 4 * 2 + 100;
	let t = Tensor::from_f32(&[n], (0..n).map(|i| i as f32).collect()).unwrap();
	let data = t.to_le_bytes();
	let mut pre = TENSOR_TAG.to_vec();
	pre.push(DType::F32.code());
	pre.extend_from_slice(&1u64.to_le_bytes());
	pre.extend_from_slice(&(n as u64).to_le_bytes());
	pre.extend_from_slice(&(data.len() as u64).to_le_bytes());
	for c in data.chunks(TENSOR_CHUNK) {
		pre.extend_from_slice(&blake2_256(c));
	}
	assert_eq!(tensor_hash(&t), blake2_256(&pre));
}

#[test]
fn model_root_proofs() {
	let mut r = Rng(1);
	let mut b = Builder::new();
	let x = b.input(DType::F32, &[2, 4]);
	let w = b.weight(r.tensor(&[4, 3]));
	let m = b.node1(Op::MatMul, &[x, w]);
	let bias = b.weight(r.tensor(&[3]));
	let y = b.node1(Op::Binary(BinaryOp::Add), &[m, bias]);
	let z = b.node1(Op::Relu, &[y]);
	b.output(z);
	let p = b.build();
	let tree = ModelTree::new(&p);
	let root = tree.root();
	assert_eq!(root, model_root(&p));
	assert_eq!(tree.leaf_count(), 3 + 2 + 1);
	let (nn, nw) = (p.nodes.len() as u32, p.weights.len() as u32);
	for i in 0..nn {
		let proof = tree.node_proof(i).unwrap();
		assert!(verify_node(&root, &p.nodes[i as usize], i, nn, nw, &proof));
		let mut tampered = p.nodes[i as usize].clone();
		tampered.outputs[0].shape.push(1);
		assert!(!verify_node(&root, &tampered, i, nn, nw, &proof));
	}
	for j in 0..nw {
		let proof = tree.weight_proof(j).unwrap();
		assert!(verify_weight(
			&root,
			&p.weights[j as usize],
			j,
			nn,
			nw,
			&proof
		));
		let mut t = p.weights[j as usize].clone();
		t.as_f32_mut().unwrap()[0] += 1.0;
		assert!(!verify_weight(&root, &t, j, nn, nw, &proof));
		// A weight proof does not pass as a node proof.
		assert!(!verify_node(&root, &p.nodes[0], nn + j, nn, nw, &proof));
	}
	let header = ProgramHeader::of(&p);
	assert!(verify_header(&root, &header, &tree.header_proof().unwrap()));
	let mut h2 = header.clone();
	h2.inputs[0].ty.shape[0] = 3;
	assert!(!verify_header(&root, &h2, &tree.header_proof().unwrap()));
	// Any change to the program changes the root.
	let mut p2 = p.clone();
	p2.weights[1].as_f32_mut().unwrap()[2] = 0.5;
	assert_ne!(model_root(&p2), root);
	let mut p3 = p.clone();
	p3.outputs[0].name = "renamed".into();
	assert_ne!(model_root(&p3), root);
	// The trace leaf of the output node (node `i` is leaf `i`) equals the hash of the output.
	let (outs, trace) = verity_engine::execute(&p, &[r.tensor(&[2, 4])]).unwrap();
	assert_eq!(trace.len(), p.nodes.len());
	let leaf = p.output_node(0).unwrap();
	assert_eq!(trace.leaves[leaf as usize], tensor_hash(&outs[0]));
	let proof = trace.proof(leaf as usize).unwrap();
	assert!(verify_proof(
		&trace.root(),
		&tensor_hash(&outs[0]),
		leaf as u64,
		trace.len() as u64,
		&proof
	));
	let mut other = trace.clone();
	other.leaves[1][0] ^= 1;
	assert_eq!(trace.first_divergence(&other), Some(1));
	assert_eq!(trace.first_divergence(&trace), None);
}

#[test]
fn threaded_tensor_hash_is_identical() {
	let mut r = Rng(77);
	let t = r.tensor(&[300_000]);
	let h = tensor_hash(&t);
	for threads in [2, 3, 8] {
		assert_eq!(tensor_hash_threads(&t, threads), h);
	}
}
