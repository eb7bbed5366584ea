//! Verification modes by name, as clients and the `verity_*` RPC write them.

use verity_primitives::{UnknownMode, VerificationMode};

#[test]
fn every_mode_round_trips_through_its_name() {
	let modes = [
		VerificationMode::Attested,
		VerificationMode::Optimistic,
		VerificationMode::Quorum(2),
		VerificationMode::Quorum(255),
	];
	for mode in modes {
		let name = mode.to_string();
		assert_eq!(name.parse::<VerificationMode>(), Ok(mode), "{name}");
	}
	assert_eq!(VerificationMode::Quorum(3).to_string(), "quorum:3");
}

#[test]
fn other_names_are_refused() {
	for bad in [
		"",
		"Attested",
		"quorum",
		"quorum:",
		"quorum:x",
		"quorum:256",
		"quorum:-1",
		" attested",
	] {
		assert_eq!(bad.parse::<VerificationMode>(), Err(UnknownMode), "{bad:?}");
	}
}
