//! `register_model`: the happy paths and every way a registration is refused.

use super::*;
use crate::{Error, Event, ModelBytes, NextModelId, MAX_PROOF_MATERIAL};
use alloc::boxed::Box;
use frame_support::{assert_noop, assert_ok};
use verity_primitives::engine::ops::COST_PER_BYTE;
use verity_primitives::{ModelLocation, ModelStatus, OutputSpec, TensorSpec};

fn register(
	who: AccountId,
	r: ModelRegistrationOf<Test>,
) -> frame_support::dispatch::DispatchResult {
	Models::register_model(RuntimeOrigin::signed(who), Box::new(r))
}

/// Registering `r` as Alice fails with `e` and changes nothing.
fn refused(r: ModelRegistrationOf<Test>, e: Error<Test>) {
	assert_noop!(register(ALICE, r), e);
	assert_eq!(held(&ALICE), 0);
	assert_eq!(Balances::free_balance(ALICE), ENDOWMENT);
}

#[test]
fn registers_on_chain_model_and_holds_deposit() {
	test(|| {
		let r = registration();
		assert_ok!(register(ALICE, r.clone()));

		let info = crate::Models::<Test>::get(0).unwrap();
		let expected = deposit(onnx().len(), record_len(0));
		assert_eq!(info.owner, ALICE);
		assert_eq!(info.onnx_hash, onnx_hash());
		assert_eq!(info.model_root, r.model_root);
		assert_eq!(info.compiler_version, 1);
		assert_eq!(info.node_count, 2);
		assert_eq!(info.weight_count, 1);
		assert_eq!(
			info.inputs.to_vec(),
			vec![TensorSpec {
				dtype: DType::F32,
				shape: vec![1, 4].try_into().unwrap()
			}]
		);
		assert_eq!(
			info.outputs.to_vec(),
			vec![OutputSpec {
				node: 1,
				spec: TensorSpec {
					dtype: DType::F32,
					shape: vec![1, 4].try_into().unwrap()
				},
			}]
		);
		assert_eq!(info.macs, program().macs());
		assert_eq!(info.max_node_footprint, 48);
		// The Add node: 16 + 16 input bytes and 16 output bytes.
		assert_eq!(info.max_node_cost, 48 * COST_PER_BYTE);
		assert_eq!(info.price, PRICE);
		assert_eq!(info.modes, ModeSet::ALL);
		assert_eq!(
			info.location,
			ModelLocation::OnChain {
				len: onnx().len() as u32
			}
		);
		assert_eq!(info.deposit, expected);
		assert_eq!(info.status, ModelStatus::Active);
		assert_eq!(info.in_flight, 0);
		assert_eq!(info.registered_at, 1);

		assert_eq!(ModelBytes::<Test>::get(0).unwrap().to_vec(), onnx());
		assert_eq!(NextModelId::<Test>::get(), 1);
		assert_eq!(held(&ALICE), expected);
		assert_eq!(Balances::free_balance(ALICE), ENDOWMENT - expected);
		System::assert_last_event(
			Event::ModelRegistered {
				id: 0,
				owner: ALICE,
				model_root: r.model_root,
				onnx_hash: onnx_hash(),
				location: ModelLocation::OnChain {
					len: onnx().len() as u32,
				},
				deposit: expected,
			}
			.into(),
		);
	});
}

#[test]
fn registers_uri_model_without_storing_bytes() {
	test(|| {
		let r = uri_registration();
		assert_ok!(register(BOB, r.clone()));
		let info = crate::Models::<Test>::get(0).unwrap();
		assert_eq!(info.location, ModelLocation::Uri(r.uri.clone().unwrap()));
		assert!(ModelBytes::<Test>::get(0).is_none());
		assert_eq!(held(&BOB), deposit(0, record_len(0)));
		assert_eq!(info.deposit, deposit(0, record_len(0)));
	});
}

#[test]
fn ids_are_sequential_and_deposits_add_up() {
	test(|| {
		assert_ok!(register(ALICE, registration()));
		assert_ok!(register(ALICE, uri_registration()));
		assert_ok!(register(BOB, registration()));
		assert_eq!(NextModelId::<Test>::get(), 3);
		assert_eq!(crate::Models::<Test>::get(2).unwrap().owner, BOB);
		let alice = deposit(onnx().len(), record_len(0)) + deposit(0, record_len(1));
		assert_eq!(held(&ALICE), alice);
		assert_eq!(held(&BOB), deposit(onnx().len(), record_len(2)));
	});
}

#[test]
fn registration_deposit_view_matches_held_deposit() {
	test(|| {
		let quoted = Models::registration_deposit(ALICE, registration()).unwrap();
		assert_ok!(register(ALICE, registration()));
		assert_eq!(held(&ALICE), quoted);
		assert_eq!(
			Models::registration_deposit(ALICE, uri_registration()).unwrap(),
			deposit(
				0,
				record_len(0) - 5 + 1 + 1 + uri_registration().uri.unwrap().len()
			)
		);
		let mut bad = registration();
		bad.modes = ModeSet(0);
		assert_eq!(
			Models::registration_deposit(ALICE, bad),
			Err(Error::<Test>::InvalidModes.into())
		);
	});
}

#[test]
fn unsigned_origin_is_refused() {
	test(|| {
		assert_noop!(
			Models::register_model(RuntimeOrigin::none(), Box::new(registration())),
			sp_runtime::DispatchError::BadOrigin
		);
	});
}

#[test]
fn invalid_modes_are_refused() {
	test(|| {
		let mut r = registration();
		r.modes = ModeSet(0);
		refused(r, Error::InvalidModes);
		let mut r = registration();
		r.modes = ModeSet(8);
		refused(r, Error::InvalidModes);
	});
}

#[test]
fn exactly_one_location_is_required() {
	test(|| {
		let mut r = registration();
		r.bytes = None;
		refused(r, Error::NoLocation);

		let mut r = registration();
		r.uri = uri_registration().uri;
		refused(r, Error::BothLocations);

		let mut r = registration();
		r.bytes = Some(BoundedVec::new());
		refused(r, Error::EmptyBytes);

		let mut r = uri_registration();
		r.uri = Some(BoundedVec::new());
		refused(r, Error::EmptyUri);
	});
}

#[test]
fn bytes_must_hash_to_onnx_hash() {
	test(|| {
		let mut r = registration();
		r.bytes = Some(BoundedVec::try_from(b"other bytes".to_vec()).unwrap());
		refused(r, Error::OnnxHashMismatch);
	});
}

#[test]
fn ir_version_must_be_the_engines() {
	test(|| {
		let mut p = program();
		p.version = IR_VERSION + 1;
		let mut r = registration();
		recommit(&mut r, &p);
		refused(r, Error::UnsupportedIrVersion);
	});
}

#[test]
fn node_count_is_bounded() {
	test(|| {
		let mut p = program();
		let relu = p.nodes[0].clone();
		p.nodes.resize(MAX_NODES as usize + 1, relu);
		let mut r = registration();
		recommit(&mut r, &p);
		refused(r, Error::TooManyNodes);
	});
}

#[test]
fn node_larger_than_a_fraud_proof_is_refused() {
	test(|| {
		let mut r = registration();
		r.max_node_footprint = MAX_NODE_FOOTPRINT + 1;
		refused(r, Error::NodeTooLargeForFraudProof);

		// At the bound exactly, it is accepted.
		let mut r = registration();
		r.max_node_footprint = MAX_NODE_FOOTPRINT;
		assert_ok!(register(ALICE, r));
	});
}

#[test]
fn node_costlier_than_a_fraud_proof_is_refused() {
	test(|| {
		let mut r = registration();
		r.max_node_cost = MAX_NODE_COST + 1;
		refused(r, Error::NodeTooCostlyForFraudProof);

		// At the bound exactly, it is accepted.
		let mut r = registration();
		r.max_node_cost = MAX_NODE_COST;
		assert_ok!(register(ALICE, r));
	});
}

#[test]
fn compute_heavy_node_within_the_footprint_bound_is_refused() {
	test(|| {
		// `y = x · w` with `x: F32 [4, 8]`, `w: F32 [8, 8]`: 512 bytes, within the footprint
		// bound, but 4·8·8 multiply-accumulates plus 512 bytes at `COST_PER_BYTE` = 5376 >
		// `MAX_NODE_COST`.
		let x = TensorType::new(DType::F32, &[4, 8]);
		let w = TensorType::new(DType::F32, &[8, 8]);
		let mut p = program();
		p.inputs[0].ty = x.clone();
		p.outputs[0].source = ValueRef::Node { node: 0, output: 0 };
		p.nodes = vec![Node {
			op: Op::MatMul,
			inputs: vec![
				Some(NodeInput {
					source: ValueRef::Input(0),
					ty: x.clone(),
				}),
				Some(NodeInput {
					source: ValueRef::Weight(0),
					ty: w,
				}),
			],
			outputs: vec![x],
		}];
		p.weights = vec![Tensor::from_f32(&[8, 8], vec![0.5; 64]).unwrap()];
		let r = ModelRegistration::for_program(
			&p,
			onnx_hash(),
			1,
			PRICE,
			ModeSet::ALL,
			registration().bytes,
			None,
		)
		.unwrap();
		assert_eq!(r.max_node_footprint, 512);
		assert!(r.max_node_footprint <= MAX_NODE_FOOTPRINT);
		assert_eq!(r.max_node_cost, 4 * 8 * 8 + 512 * COST_PER_BYTE);
		refused(r, Error::NodeTooCostlyForFraudProof);
	});
}

#[test]
fn io_counts_are_bounded() {
	test(|| {
		let mut p = program();
		p.inputs = vec![p.inputs[0].clone(); 9];
		let mut r = registration();
		recommit(&mut r, &p);
		refused(r, Error::TooManyInputs);

		let mut p = program();
		p.outputs = vec![p.outputs[0].clone(); 9];
		let mut r = registration();
		recommit(&mut r, &p);
		r.output_nodes = vec![r.output_nodes[0].clone(); 9];
		refused(r, Error::TooManyOutputs);

		let mut p = program();
		p.outputs.clear();
		let mut r = registration();
		recommit(&mut r, &p);
		r.output_nodes.clear();
		refused(r, Error::NoOutputs);
	});
}

#[test]
fn one_proven_node_per_output_is_required() {
	test(|| {
		let mut r = registration();
		r.output_nodes.push(r.output_nodes[0].clone());
		refused(r, Error::OutputProofCountMismatch);
	});
}

#[test]
fn proof_material_is_bounded() {
	test(|| {
		let mut p = program();
		p.inputs[0].name = "x".repeat(MAX_PROOF_MATERIAL as usize);
		let mut r = registration();
		recommit(&mut r, &p);
		refused(r, Error::ProofMaterialTooLarge);
	});
}

#[test]
fn specs_must_fit() {
	test(|| {
		let mut p = program();
		p.inputs[0].ty = TensorType {
			dtype: DType::F32,
			shape: vec![1; 9],
		};
		let mut r = registration();
		recommit(&mut r, &p);
		refused(r, Error::RankTooHigh);

		let mut p = program();
		p.inputs[0].ty = TensorType {
			dtype: DType::F32,
			shape: vec![u64::MAX, 2],
		};
		let mut r = registration();
		recommit(&mut r, &p);
		refused(r, Error::SpecTooLarge);
	});
}

#[test]
fn header_must_be_proven_against_the_root() {
	test(|| {
		let mut r = registration();
		r.model_root = H256::repeat_byte(1);
		refused(r, Error::InvalidHeaderProof);

		// A header claiming other counts than the committed one.
		let mut r = registration();
		r.header.weight_count += 1;
		refused(r, Error::InvalidHeaderProof);

		let mut r = registration();
		r.header_proof.siblings.push([0; 32]);
		refused(r, Error::InvalidHeaderProof);
	});
}

#[test]
fn outputs_must_be_node_outputs() {
	test(|| {
		for source in [
			ValueRef::Input(0),
			ValueRef::Weight(0),
			ValueRef::Node { node: 1, output: 1 },
		] {
			let mut p = program();
			p.outputs[0].source = source;
			let mut r = registration();
			recommit(&mut r, &p);
			refused(r, Error::OutputNotNodeSource);
		}

		let mut p = program();
		p.outputs[0].source = ValueRef::Node { node: 2, output: 0 };
		let mut r = registration();
		recommit(&mut r, &p);
		refused(r, Error::OutputNodeOutOfRange);
	});
}

#[test]
fn output_nodes_must_be_proven() {
	test(|| {
		// Another node than the committed one.
		let mut r = registration();
		r.output_nodes[0].node.op = Op::Binary(BinaryOp::Sub);
		refused(r, Error::InvalidOutputNodeProof);

		// The right node with the proof of another leaf.
		let mut r = registration();
		r.output_nodes[0].proof = ModelTree::new(&program()).node_proof(0).unwrap();
		refused(r, Error::InvalidOutputNodeProof);

		// Node 0's proof for an output that names node 0 works: proofs are per index.
		let mut p = program();
		p.outputs[0].source = ValueRef::Node { node: 0, output: 0 };
		let mut r = registration();
		recommit(&mut r, &p);
		r.output_nodes[0] = crate::ProvenNode {
			node: p.nodes[0].clone(),
			proof: ModelTree::new(&p).node_proof(0).unwrap(),
		};
		assert_ok!(register(ALICE, r));
	});
}

#[test]
fn output_nodes_must_have_one_well_typed_output() {
	test(|| {
		let mut p = program();
		p.nodes[1].outputs.push(ty());
		let r = ModelRegistration::for_program(
			&p,
			onnx_hash(),
			1,
			PRICE,
			ModeSet::ALL,
			registration().bytes,
			None,
		)
		.unwrap();
		refused(r, Error::OutputNodeNotSingleOutput);

		let mut p = program();
		p.nodes[1].outputs[0] = TensorType::new(DType::F32, &[1, 5]);
		let r = ModelRegistration::for_program(
			&p,
			onnx_hash(),
			1,
			PRICE,
			ModeSet::ALL,
			registration().bytes,
			None,
		)
		.unwrap();
		refused(r, Error::OutputNodeIllTyped);
	});
}

#[test]
fn footprint_claim_must_cover_the_output_nodes() {
	test(|| {
		let mut r = registration();
		r.max_node_footprint = 47;
		refused(r, Error::FootprintClaimTooLow);
	});
}

#[test]
fn cost_claim_must_cover_the_output_nodes() {
	test(|| {
		// The output node (the Add) costs 48 bytes' worth.
		let mut r = registration();
		r.max_node_cost = 48 * COST_PER_BYTE - 1;
		refused(r, Error::CostClaimTooLow);

		let mut r = registration();
		r.max_node_cost = 0;
		refused(r, Error::CostClaimTooLow);

		let mut r = registration();
		r.max_node_cost = 48 * COST_PER_BYTE;
		assert_ok!(register(ALICE, r));
	});
}

#[test]
fn owner_must_afford_the_deposit() {
	test(|| {
		assert_noop!(
			register(CHARLIE, registration()),
			Error::<Test>::InsufficientFunds
		);
		assert_eq!(held(&CHARLIE), 0);
	});
}

#[test]
fn ids_do_not_wrap() {
	test(|| {
		NextModelId::<Test>::put(u32::MAX);
		refused(registration(), Error::ModelIdOverflow);
		assert!(crate::Models::<Test>::get(u32::MAX).is_none());
	});
}

#[test]
fn largest_on_chain_model_fits() {
	test(|| {
		let bytes = vec![0xab; MAX_MODEL_BYTES as usize];
		let mut r = registration();
		r.onnx_hash = H256(sp_io::hashing::blake2_256(&bytes));
		r.bytes = Some(BoundedVec::try_from(bytes).unwrap());
		assert_ok!(register(ALICE, r));
		assert_eq!(
			held(&ALICE),
			deposit(MAX_MODEL_BYTES as usize, record_len(0))
		);
	});
}

#[test]
fn oversized_bytes_do_not_decode() {
	// The bound is enforced when the call is decoded: a registration with more than
	// `MaxModelBytes` bytes is not a valid call at all.
	use codec::Decode;
	let mut r = registration();
	r.bytes = None;
	let mut encoded = r.encode();
	// Replace the trailing `bytes: None, uri: None` with oversized bytes and no URI.
	encoded.truncate(encoded.len() - 2);
	encoded.push(1);
	vec![0u8; MAX_MODEL_BYTES as usize + 1].encode_to(&mut encoded);
	encoded.push(0);
	assert!(ModelRegistrationOf::<Test>::decode(&mut &encoded[..]).is_err());
	// Same layout with exactly `MaxModelBytes` decodes.
	let mut encoded = r.encode();
	encoded.truncate(encoded.len() - 2);
	encoded.push(1);
	vec![0u8; MAX_MODEL_BYTES as usize].encode_to(&mut encoded);
	encoded.push(0);
	assert!(ModelRegistrationOf::<Test>::decode(&mut &encoded[..]).is_ok());
}

#[test]
fn weight_grows_with_bytes_and_header() {
	use crate::WeightInfo;
	let small = <() as WeightInfo>::register_model(1, 1024);
	let large = <() as WeightInfo>::register_model(MAX_MODEL_BYTES, MAX_PROOF_MATERIAL);
	assert!(large.ref_time() > small.ref_time());
	let r = registration();
	assert_eq!(r.bytes_len(), onnx().len() as u32);
	assert!(r.proof_material_len() > 0 && r.proof_material_len() < 1024);
}
