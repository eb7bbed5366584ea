//! End to end in the real runtime (native build of `verity-runtime`, `development` genesis with
//! the demo model, real Models/Workers/Inference pallets): every verification mode, a cheating
//! worker caught by a fraud proof built from the demo model's real trace, and a failed
//! challenge against an honest worker. Funds are conserved and no escrow outlives a request.

mod common;

use common::*;

#[test]
fn attested_settles_at_once_and_a_cheater_is_slashed_afterwards() {
	dev_ext().execute_with(|| {
		let issuance = Balances::total_issuance();
		let known = total_of_known_accounts();
		let (program, inputs) = demo();
		let dave = account(Sr25519Keyring::Dave);
		let id = request(Sr25519Keyring::Dave, VerificationMode::Attested, &inputs);
		let worker = assigned(id).remove(0);

		// The worker lies at node 2 and posts a self-consistent trace.
		let lie = 2;
		let s = submission(&program, &node_outputs(&program, &inputs, Some(lie)));
		submit(&worker, id, &s, None);
		let receipt = Inference::receipt(id).expect("attested settles at once");
		assert_eq!(receipt.outcome, Outcome::Settled);
		assert_eq!(escrow_of(&dave), 0, "no escrow left behind");

		// Eve proves the lie at node 2 by re-executing it in the runtime.
		let eve = account(Sr25519Keyring::Eve);
		let (eve_before, dave_before) =
			(Balances::free_balance(&eve), Balances::free_balance(&dave));
		assert_ok!(call_by(
			&eve,
			challenge_call(id, &worker, &program, &inputs, lie)
		));
		let proven = events().into_iter().find_map(|e| match e {
			pallet_inference::Event::FraudProven {
				id: i,
				worker: w,
				node,
				slashed,
				to_requester,
				to_challenger,
				..
			} if i == id => Some((w, node, slashed, to_requester, to_challenger)),
			_ => None,
		});
		let (w, node, slashed, to_requester, to_challenger) = proven.expect("fraud proven");
		assert_eq!(
			(w, node, slashed),
			(worker.clone(), lie as u32, FraudSlash::get())
		);
		assert_eq!(Balances::free_balance(&eve), eve_before + to_challenger);
		assert_eq!(Balances::free_balance(&dave), dave_before + to_requester);
		assert_eq!(Inference::receipt(id).unwrap().outcome, Outcome::Fraudulent);

		assert_eq!(
			Balances::total_issuance(),
			issuance,
			"nothing minted or burned"
		);
		assert_eq!(
			total_of_known_accounts(),
			known,
			"every unit stays with the known accounts"
		);
	});
}

#[test]
fn optimistic_honest_result_settles_after_the_challenge_period() {
	dev_ext().execute_with(|| {
		let issuance = Balances::total_issuance();
		let (program, inputs) = demo();
		let dave = account(Sr25519Keyring::Dave);
		let dave_before = Balances::total_balance(&dave);
		let id = request(Sr25519Keyring::Dave, VerificationMode::Optimistic, &inputs);
		let worker = assigned(id).remove(0);
		let s = submission(&program, &node_outputs(&program, &inputs, None));
		submit(&worker, id, &s, None);
		assert!(
			Inference::receipt(id).is_none(),
			"not settled during the challenge period"
		);

		// An honest result survives a challenge: the challenger's bond goes to the worker.
		let ferdie = account(Sr25519Keyring::Ferdie);
		let (ferdie_before, worker_before) = (
			Balances::free_balance(&ferdie),
			Balances::free_balance(&worker),
		);
		assert_ok!(call_by(
			&ferdie,
			challenge_call(id, &worker, &program, &inputs, 3)
		));
		assert!(events().iter().any(
			|e| matches!(e, pallet_inference::Event::ChallengeFailed { id: i, .. } if *i == id)
		));
		assert!(Balances::free_balance(&ferdie) <= ferdie_before - ChallengeBond::get());
		assert_eq!(
			Balances::free_balance(&worker),
			worker_before + ChallengeBond::get()
		);

		run_to(System::block_number() + ChallengePeriod::get() + 2);
		let receipt = Inference::receipt(id).expect("settled after the period");
		assert_eq!(receipt.outcome, Outcome::Settled);
		assert_eq!(
			(receipt.output_hash, receipt.trace_root),
			(s.output_hash, s.trace_root)
		);
		assert_eq!(escrow_of(&dave), 0);
		assert_eq!(Balances::total_balance(&dave), dave_before - receipt.paid);
		assert_eq!(Balances::total_issuance(), issuance);
	});
}

#[test]
fn optimistic_fraud_is_rejected_and_the_request_reassigned() {
	dev_ext().execute_with(|| {
		let issuance = Balances::total_issuance();
		let (program, inputs) = demo();
		let id = request(Sr25519Keyring::Dave, VerificationMode::Optimistic, &inputs);
		let cheater = assigned(id).remove(0);
		let lie = program.nodes.len() - 1; // the softmax: the last node
		submit(
			&cheater,
			id,
			&submission(&program, &node_outputs(&program, &inputs, Some(lie))),
			None,
		);

		assert_ok!(call_by(
			&account(Sr25519Keyring::Eve),
			challenge_call(id, &cheater, &program, &inputs, lie)
		));
		let request = Inference::request(id).expect("reassigned, not finished");
		let next = request.assignments[0].worker.clone();
		assert_ne!(next, cheater, "the cheater is not assigned again");
		assert!(request.missed.contains(&cheater));

		let honest = submission(&program, &node_outputs(&program, &inputs, None));
		submit(&next, id, &honest, None);
		run_to(System::block_number() + ChallengePeriod::get() + 2);
		let receipt = Inference::receipt(id).unwrap();
		assert_eq!(receipt.outcome, Outcome::Settled);
		assert_eq!(receipt.workers.to_vec(), vec![next]);
		assert_eq!(receipt.trace_root, honest.trace_root);
		assert_eq!(escrow_of(&account(Sr25519Keyring::Dave)), 0);
		assert_eq!(Balances::total_issuance(), issuance);
	});
}

#[test]
fn quorum_referees_a_disagreement_at_the_first_diverging_node() {
	dev_ext().execute_with(|| {
		let issuance = Balances::total_issuance();
		let (program, inputs) = demo();
		let id = request(Sr25519Keyring::Dave, VerificationMode::Quorum(3), &inputs);
		let workers = assigned(id);
		assert_eq!(workers.len(), 3);
		let liar = workers[1].clone();
		let lie = 1;
		let results: Vec<Submission> = workers
			.iter()
			.map(|w| {
				let lie_at = (*w == liar).then_some(lie);
				submission(&program, &node_outputs(&program, &inputs, lie_at))
			})
			.collect();

		// Commit, then reveal.
		for (k, (w, s)) in workers.iter().zip(&results).enumerate() {
			let salt = [k as u8 + 1; 32];
			let commitment = result_commitment(&s.output_hash, &s.trace_root, w, &salt);
			assert_ok!(call_by(
				w,
				RuntimeCall::Inference(pallet_inference::Call::commit_result {
					request: id,
					commitment
				})
			));
		}
		for (k, (w, s)) in workers.iter().zip(&results).enumerate() {
			submit(w, id, s, Some([k as u8 + 1; 32]));
		}
		let disputed_at = events().into_iter().find_map(|e| match e {
			pallet_inference::Event::Disputed { id: i, leaf, .. } if i == id => Some(leaf),
			_ => None,
		});
		assert_eq!(
			disputed_at,
			Some(lie as u32),
			"the runtime finds the first diverging leaf"
		);

		// One honest party's proof at that node settles it: the liar is slashed, the other two paid.
		assert_ok!(call_by(
			&workers[0],
			challenge_call(id, &liar, &program, &inputs, lie)
		));
		let receipt = Inference::receipt(id).expect("settled with the honest majority");
		assert_eq!(receipt.outcome, Outcome::Settled);
		let mut paid = receipt.workers.to_vec();
		paid.sort();
		let mut honest: Vec<AccountId> = workers.iter().filter(|w| **w != liar).cloned().collect();
		honest.sort();
		assert_eq!(paid, honest);
		assert_eq!(receipt.trace_root, results[0].trace_root);
		assert_eq!(escrow_of(&account(Sr25519Keyring::Dave)), 0);
		assert_eq!(Balances::total_issuance(), issuance);
	});
}

#[test]
fn quorum_agreement_settles_at_once() {
	dev_ext().execute_with(|| {
		let (program, inputs) = demo();
		let id = request(Sr25519Keyring::Dave, VerificationMode::Quorum(2), &inputs);
		let workers = assigned(id);
		let s = submission(&program, &node_outputs(&program, &inputs, None));
		for w in &workers {
			let commitment = result_commitment(&s.output_hash, &s.trace_root, w, &[9; 32]);
			assert_ok!(call_by(
				w,
				RuntimeCall::Inference(pallet_inference::Call::commit_result {
					request: id,
					commitment
				})
			));
		}
		for w in &workers {
			submit(w, id, &s, Some([9; 32]));
		}
		let receipt = Inference::receipt(id).expect("settled at once");
		assert_eq!(receipt.outcome, Outcome::Settled);
		assert_eq!(receipt.workers.len(), 2);
		// The receipt commits to the request's input and the model's root.
		let input_hash = io_hash(
			&inputs
				.iter()
				.map(|t| H256(tensor_hash(t)))
				.collect::<Vec<_>>(),
		);
		assert_eq!(receipt.input_hash, input_hash);
		assert_eq!(
			receipt.model_root,
			H256(verity_engine::model_root(&program))
		);
	});
}

#[test]
fn a_silent_worker_is_penalised_and_the_requester_refunded_in_full() {
	dev_ext().execute_with(|| {
		let issuance = Balances::total_issuance();
		let (_, inputs) = demo();
		let dave = account(Sr25519Keyring::Dave);
		let dave_before = Balances::total_balance(&dave);
		let id = request(Sr25519Keyring::Dave, VerificationMode::Attested, &inputs);
		// Nobody ever answers: every worker misses in turn until the request expires.
		run_to(System::block_number() + verity_runtime::configs::RequestLifetime::get() + 50);
		let receipt = Inference::receipt(id).expect("finished");
		assert_eq!(receipt.outcome, Outcome::Refunded);
		assert_eq!(escrow_of(&dave), 0);
		assert!(events()
			.iter()
			.any(|e| matches!(e, pallet_inference::Event::DeadlineMissed { .. })));
		// Refunded in full, plus the silent workers' penalties.
		assert!(Balances::total_balance(&dave) >= dave_before);
		assert_eq!(Balances::total_issuance(), issuance);
	});
}
