fn main() {
	#[cfg(feature = "std")]
	{
		substrate_wasm_builder::WasmBuilder::build_using_defaults();
		build_upgrade_test_runtime();
	}
}

/// Builds `upgrade-test/` (this runtime with `spec_version` + 1) for the runtime upgrade test.
/// Its wasm project shares the runtime's cargo target directory, so that only the runtime crate
/// itself is compiled again, not its dependencies (the builder gives every project its own
/// target directory, and the two projects resolve the same lock file to the same units); should
/// the builder's layout change, the build stays correct, only slower.
#[cfg(feature = "std")]
fn build_upgrade_test_runtime() {
	let out_dir = std::path::PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
	let wbuild = out_dir
		.ancestors()
		.find(|dir| dir.ends_with("build"))
		.and_then(|build| build.parent())
		.map(|profile_dir| profile_dir.join("wbuild"));
	if let Some(wbuild) = wbuild {
		let project = wbuild.join("verity-runtime-upgrade-test");
		let target = project.join("target");
		if std::fs::symlink_metadata(&target).is_err() {
			std::fs::create_dir_all(wbuild.join("verity-runtime").join("target"))
				.and_then(|()| std::fs::create_dir_all(&project))
				.and_then(|()| std::os::unix::fs::symlink("../verity-runtime/target", &target))
				.expect("the upgrade-test project shares the runtime's target directory");
		}
	}
	substrate_wasm_builder::WasmBuilder::new()
		.with_project(concat!(
			env!("CARGO_MANIFEST_DIR"),
			"/upgrade-test/Cargo.toml"
		))
		.expect("runtime/upgrade-test exists")
		.set_file_name("upgrade_test_wasm.rs")
		.build();
}
