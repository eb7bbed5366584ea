//! The checked-in chain specs (`chain-specs/*.json`) must match what the node generates, up to
//! the runtime code blob (whose bytes depend on the build path). Regenerate them with
//! `scripts/regenerate-chain-specs.sh` when a genesis change is intended.

mod common;

use std::process::Command;

use common::{repo_path, NODE};
use serde_json::Value;

/// The spec `verity-node export-chain-spec --chain <chain>` prints, without the runtime code.
fn generated(chain: &str) -> Value {
	let out = Command::new(NODE)
		.args(["export-chain-spec", "--chain", chain])
		.output()
		.expect("verity-node runs");
	assert!(
		out.status.success(),
		"export-chain-spec failed: {}",
		String::from_utf8_lossy(&out.stderr)
	);
	without_code(serde_json::from_slice(&out.stdout).expect("the node prints JSON"))
}

fn checked_in(file: &str) -> Value {
	let path = repo_path(&format!("chain-specs/{file}"));
	let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
	without_code(serde_json::from_str(&text).expect("checked-in spec is JSON"))
}

fn without_code(mut spec: Value) -> Value {
	let code = spec
		.pointer_mut("/genesis/runtimeGenesis")
		.and_then(Value::as_object_mut)
		.and_then(|g| g.remove("code"));
	assert!(
		code.is_some_and(|c| c.as_str().is_some_and(|s| s.starts_with("0x"))),
		"spec carries the runtime code"
	);
	spec
}

/// Every JSON path where `a` and `b` differ, with both values.
fn differences(path: &str, a: &Value, b: &Value, out: &mut Vec<String>) {
	match (a, b) {
		(Value::Object(x), Value::Object(y)) => {
			let keys: std::collections::BTreeSet<_> = x.keys().chain(y.keys()).collect();
			for k in keys {
				let (va, vb) = (
					x.get(k).unwrap_or(&Value::Null),
					y.get(k).unwrap_or(&Value::Null),
				);
				differences(&format!("{path}/{k}"), va, vb, out);
			}
		}
		(Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
			for (i, (va, vb)) in x.iter().zip(y).enumerate() {
				differences(&format!("{path}/{i}"), va, vb, out);
			}
		}
		_ if a != b => out.push(format!("{path}:\n  checked in: {a}\n  generated:  {b}")),
		_ => {}
	}
}

fn assert_no_drift(chain: &str, file: &str) {
	let mut diff = Vec::new();
	differences("", &checked_in(file), &generated(chain), &mut diff);
	assert!(
		diff.is_empty(),
		"chain-specs/{file} drifted from the genesis the node builds for `--chain {chain}`; \
		 if intended, run scripts/regenerate-chain-specs.sh\n{}",
		diff.join("\n")
	);
}

#[test]
fn dev_spec_matches_the_node() {
	assert_no_drift("dev", "dev.json");
}

#[test]
fn local_spec_matches_the_node() {
	assert_no_drift("local", "local.json");
}
