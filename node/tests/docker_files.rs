//! `docker/` and `zombienet/` cannot rot unnoticed (no container engine runs in CI): the compose
//! file, Prometheus' configuration and alert rules parse; every `verity-node` flag they, the
//! Dockerfile and the zombienet networks pass is one the node accepts (`verity-node --help`);
//! the bootnode addresses carry the peer ids of the node keys the validators are started with;
//! every file, volume and scrape target they refer to exists; the Grafana dashboard is JSON.

mod common;

use std::{collections::BTreeSet, process::Command};

use common::repo_path;
use serde_yaml::Value;

fn node(args: &[&str]) -> String {
	let out = Command::new(env!("CARGO_BIN_EXE_verity-node"))
		.args(args)
		.output()
		.expect("verity-node runs");
	assert!(out.status.success(), "verity-node {args:?}: {out:?}");
	String::from_utf8(out.stdout).expect("utf-8")
}

fn read(rel: &str) -> String {
	std::fs::read_to_string(repo_path(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn yaml(rel: &str) -> Value {
	let mut value: Value =
		serde_yaml::from_str(&read(rel)).unwrap_or_else(|e| panic!("{rel} is not YAML: {e}"));
	value.apply_merge().expect("YAML merge keys");
	value
}

/// The long flags `verity-node` documents in its help.
fn documented_flags() -> BTreeSet<String> {
	node(&["--help"])
		.split(|c: char| c.is_whitespace() || c == ',' || c == '[' || c == ']')
		.filter_map(|w| w.strip_prefix("--"))
		.map(|w| w.split(['=', '<']).next().unwrap_or_default().to_string())
		.filter(|w| !w.is_empty())
		.collect()
}

/// Flags the help hides on purpose (test-only), which the zombienet networks use.
const HIDDEN_FLAGS: &[&str] = &["verity-dev-misbehave"];

fn check_flags(file: &str, args: &[String], documented: &BTreeSet<String>) {
	for arg in args.iter().filter_map(|a| a.strip_prefix("--")) {
		let flag = arg.split([' ', '=']).next().unwrap_or_default();
		assert!(
			documented.contains(flag) || HIDDEN_FLAGS.contains(&flag),
			"{file} passes --{flag}, which `verity-node --help` does not list"
		);
	}
}

fn strings(value: &Value) -> Vec<String> {
	value
		.as_sequence()
		.map(|s| {
			s.iter()
				.filter_map(|v| v.as_str().map(String::from))
				.collect()
		})
		.unwrap_or_default()
}

/// The value of `--name=VALUE` in `args`.
fn flag_value<'a>(args: &'a [String], name: &str) -> Option<&'a str> {
	args.iter()
		.find_map(|a| a.strip_prefix(&format!("--{name}=")))
}

/// The peer id of an ed25519 node key (hex), as `verity-node key inspect-node-key` prints it.
fn peer_id(node_key: &str) -> String {
	let file = tempfile::NamedTempFile::new().expect("a temp file");
	std::fs::write(file.path(), node_key).expect("write the key");
	let path = file.path().to_str().expect("utf-8 path");
	node(&["key", "inspect-node-key", "--file", path])
		.trim()
		.to_string()
}

#[test]
fn compose_file_runs_nodes_with_flags_the_node_accepts() {
	let documented = documented_flags();
	assert!(documented.contains("verity-worker") && documented.contains("chain"));
	let compose = yaml("docker/docker-compose.yml");
	let services = compose["services"].as_mapping().expect("compose services");
	let declared_volumes: BTreeSet<&str> = compose["volumes"]
		.as_mapping()
		.expect("compose volumes")
		.keys()
		.filter_map(|k| k.as_str())
		.collect();

	let mut node_services = Vec::new();
	let mut peer_ids = std::collections::BTreeMap::new();
	for (name, service) in services {
		let name = name.as_str().expect("service name");
		for volume in strings(&service["volumes"]) {
			let source = volume.split(':').next().unwrap_or_default();
			if let Some(rel) = source.strip_prefix("./") {
				assert!(
					repo_path(&format!("docker/{rel}")).exists(),
					"{name} mounts missing docker/{rel}"
				);
			} else {
				assert!(
					declared_volumes.contains(source),
					"{name} uses undeclared volume {source}"
				);
			}
		}
		if service["image"].as_str() != Some("verity-node:local") {
			continue;
		}
		let args = strings(&service["command"]);
		check_flags(&format!("docker-compose.yml ({name})"), &args, &documented);
		assert!(
			service["healthcheck"]["test"].as_sequence().is_some(),
			"{name} has a healthcheck"
		);
		assert_eq!(
			service["build"]["dockerfile"].as_str(),
			Some("docker/Dockerfile")
		);
		let spec = flag_value(&args, "chain").expect("--chain");
		let spec = spec
			.strip_prefix("/chain-specs/")
			.expect("a spec of the image");
		assert!(repo_path(&format!("chain-specs/{spec}")).exists(), "{spec}");
		for flag in ["verity-worker", "prometheus-external", "validator"] {
			assert!(
				args.iter().any(|a| a == &format!("--{flag}")),
				"{name}: --{flag}"
			);
		}
		assert_eq!(flag_value(&args, "verity-model-cache"), Some("/models"));
		if let Some(key) = flag_value(&args, "node-key") {
			peer_ids.insert(name.to_string(), peer_id(key));
		}
		node_services.push((name.to_string(), args));
	}
	assert_eq!(node_services.len(), 3, "three validators");
	// Every bootnode address names a service and the peer id of that service's node key.
	for (name, args) in &node_services {
		for boot in args.iter().filter_map(|a| a.strip_prefix("--bootnodes=")) {
			let parts: Vec<&str> = boot.split('/').collect();
			let (host, id) = (parts[2], parts[parts.len() - 1]);
			assert_eq!(
				peer_ids.get(host).map(String::as_str),
				Some(id),
				"{name}'s bootnode {boot}"
			);
		}
	}

	// Prometheus scrapes every validator's metrics port and loads the alert rules it mounts.
	let prometheus = yaml("docker/prometheus/prometheus.yml");
	let targets: BTreeSet<String> =
		strings(&prometheus["scrape_configs"][0]["static_configs"][0]["targets"])
			.into_iter()
			.collect();
	let expected: BTreeSet<String> = node_services
		.iter()
		.map(|(n, _)| format!("{n}:9615"))
		.collect();
	assert_eq!(targets, expected);
	assert_eq!(
		strings(&prometheus["rule_files"]),
		["/etc/prometheus/alerts.yml"]
	);
	let alerts = yaml("docker/prometheus/alerts.yml");
	let names: Vec<&str> = alerts["groups"]
		.as_sequence()
		.expect("rule groups")
		.iter()
		.flat_map(|g| g["rules"].as_sequence().expect("rules"))
		.map(|r| {
			assert!(r["expr"].as_str().is_some(), "{r:?} has an expression");
			r["alert"].as_str().expect("an alert name")
		})
		.collect();
	for wanted in [
		"VerityWorkerStalled",
		"VerityAuditsFailing",
		"VerityFraudProofSubmitted",
	] {
		assert!(names.contains(&wanted), "alert {wanted}");
	}
	let dashboard: serde_json::Value =
		serde_json::from_str(&read("docker/grafana/dashboards/verity.json")).expect("JSON");
	assert!(dashboard["panels"]
		.as_array()
		.is_some_and(|p| !p.is_empty()));
}

#[test]
fn dockerfile_builds_both_binaries_and_runs_accepted_flags() {
	let dockerfile = read("docker/Dockerfile");
	let instruction = |name: &str| {
		dockerfile
			.lines()
			.find_map(|l| l.strip_prefix(&format!("{name} ")))
			.unwrap_or_else(|| panic!("Dockerfile has {name}"))
	};
	let cmd: Vec<String> = serde_json::from_str(instruction("CMD")).expect("CMD is exec form");
	check_flags("Dockerfile CMD", &cmd, &documented_flags());
	assert!(instruction("ENTRYPOINT").contains("/usr/local/bin/verity-node"));
	assert!(dockerfile.contains("cargo build --release --locked -p verity-node -p verity-client"));
	assert!(
		instruction("HEALTHCHECK").starts_with("--") && dockerfile.contains("/health/readiness")
	);
	for copied in dockerfile.lines().filter_map(|l| l.strip_prefix("COPY ")) {
		if let Some(src) = copied
			.split(' ')
			.next()
			.filter(|s| !s.starts_with("--") && *s != ".")
		{
			assert!(repo_path(src).exists(), "Dockerfile copies missing {src}");
		}
	}
}

#[test]
fn zombienet_networks_pass_flags_the_node_accepts() {
	let documented = documented_flags();
	let dir = repo_path("zombienet");
	let mut networks = 0;
	for entry in std::fs::read_dir(&dir).expect("zombienet/") {
		let path = entry.expect("an entry").path();
		if path.extension().is_none_or(|e| e != "toml") {
			continue;
		}
		networks += 1;
		let text = std::fs::read_to_string(&path).expect("a network file");
		let args: Vec<String> = text
			.lines()
			.filter(|l| {
				l.trim_start().starts_with("default_args") || l.trim_start().starts_with("args")
			})
			.flat_map(|l| {
				l.split('"')
					.skip(1)
					.step_by(2)
					.map(String::from)
					.collect::<Vec<_>>()
			})
			.collect();
		assert!(!args.is_empty(), "{} passes flags", path.display());
		check_flags(&path.display().to_string(), &args, &documented);
	}
	assert!(networks >= 2, "local.toml and cheater.toml");
}
