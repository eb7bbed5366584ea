//! The SDK's API is generated from the runtime metadata checked in at `client/sdk/metadata.scale`:
//! this test fails when that file no longer matches the runtime, and rewrites it when run with
//! `VERITY_UPDATE_METADATA=1`.

use std::path::PathBuf;

fn checked_in() -> PathBuf {
	PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../client/sdk/metadata.scale")
}

#[test]
fn sdk_metadata_is_the_runtimes() {
	let current =
		verity_runtime::Runtime::metadata_at_version(16).expect("the runtime serves metadata V16");
	let path = checked_in();
	if std::env::var_os("VERITY_UPDATE_METADATA").is_some() {
		std::fs::write(&path, &current[..]).expect("write client/sdk/metadata.scale");
		return;
	}
	let file = std::fs::read(&path).expect("client/sdk/metadata.scale exists");
	assert!(
		file == current[..],
		"client/sdk/metadata.scale differs from the runtime's metadata: regenerate it with \
		 `VERITY_UPDATE_METADATA=1 cargo test --release --workspace --test metadata`"
	);
}
