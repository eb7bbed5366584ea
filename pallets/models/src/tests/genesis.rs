//! Models registered at genesis, the genesis config's JSON form, and the integrity test.

use super::*;
use crate::{GenesisConfig, ModelBytes, NextModelId};
use frame_support::traits::Hooks;
use verity_primitives::ModelStatus;

#[test]
fn genesis_registers_models_and_holds_deposits() {
	let models = vec![(ALICE, registration()), (BOB, uri_registration())];
	run(new_test_ext_with(models), || {
		assert_eq!(NextModelId::<Test>::get(), 2);
		let first = crate::Models::<Test>::get(0).unwrap();
		assert_eq!(first.owner, ALICE);
		assert_eq!(first.status, ModelStatus::Active);
		assert_eq!(first.registered_at, 0);
		assert_eq!(ModelBytes::<Test>::get(0).unwrap().to_vec(), onnx());
		assert_eq!(held(&ALICE), deposit(onnx().len(), record_len(0)));
		assert_eq!(first.deposit, held(&ALICE));
		assert_eq!(crate::Models::<Test>::get(1).unwrap().owner, BOB);
		assert_eq!(held(&BOB), deposit(0, record_len(1)));
		assert_eq!(Balances::free_balance(ALICE), ENDOWMENT - held(&ALICE));
	});
}

#[test]
#[should_panic(expected = "pallet-models genesis: model 0 is invalid")]
fn invalid_genesis_model_panics() {
	let mut r = registration();
	r.model_root = H256::zero();
	new_test_ext_with(vec![(ALICE, r)]);
}

#[test]
#[should_panic(expected = "NodeTooCostlyForFraudProof")]
fn genesis_model_too_costly_for_a_fraud_proof_panics() {
	let mut r = registration();
	r.max_node_cost = MAX_NODE_COST + 1;
	new_test_ext_with(vec![(ALICE, r)]);
}

#[test]
#[should_panic(expected = "pallet-models genesis: model 0 is invalid")]
fn genesis_owner_must_afford_deposit() {
	new_test_ext_with(vec![(CHARLIE, registration())]);
}

#[test]
fn genesis_config_round_trips_through_json() {
	let config = GenesisConfig::<Test> {
		models: vec![(ALICE, registration())],
	};
	let json = serde_json::to_value(&config).unwrap();
	let hex = json["models"][0][1].as_str().unwrap().to_string();
	assert_eq!(hex, format!("0x{}", hex_of(&registration().encode())));
	let back: GenesisConfig<Test> = serde_json::from_value(json).unwrap();
	assert_eq!(back.models, config.models);

	// Trailing bytes and garbage are refused.
	let bad = serde_json::json!({ "models": [[1, format!("{hex}00")]] });
	assert!(serde_json::from_value::<GenesisConfig<Test>>(bad).is_err());
	let bad = serde_json::json!({ "models": [[1, "0x1234"]] });
	assert!(serde_json::from_value::<GenesisConfig<Test>>(bad).is_err());
}

#[test]
fn integrity_test_passes_for_the_mock() {
	new_test_ext().execute_with(|| {
		<Models as Hooks<u64>>::integrity_test();
	});
}

fn hex_of(bytes: &[u8]) -> String {
	bytes.iter().map(|b| format!("{b:02x}")).collect()
}
