//! The `verity` CLI against a real dev node (the `verity-node` binary of the same build), over
//! real RPC and, for `receipt verify`, the embedded light client over the node's p2p port:
//! register a model from its ONNX file, pay for an inference that the node's own worker serves,
//! verify the receipt (and see tampered outputs and a wrong model fail), and get one clear line
//! for each error, which moves no funds.

use std::{
	net::TcpListener,
	path::{Path, PathBuf},
	process::{Child, Command, Output, Stdio},
	time::{Duration, Instant},
};

const VERITY: &str = env!("CARGO_BIN_EXE_verity");

fn repo(path: &str) -> PathBuf {
	Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(path)
}

/// `verity-node` from the same target directory (cargo builds it for the workspace's tests).
fn node_binary() -> PathBuf {
	let exe = std::env::current_exe().expect("test executable path");
	let bin = exe
		.parent()
		.and_then(Path::parent)
		.expect("target/<profile>/deps")
		.join("verity-node");
	assert!(
		bin.exists(),
		"{} is missing: build it with `cargo build --release -p verity-node` (scripts/build.sh)",
		bin.display()
	);
	bin
}

fn free_port() -> u16 {
	TcpListener::bind("127.0.0.1:0")
		.and_then(|l| l.local_addr())
		.map(|a| a.port())
		.expect("an ephemeral port")
}

/// A dev node, killed when dropped.
struct DevNode {
	child: Child,
	url: String,
	_dir: tempfile::TempDir,
}

impl DevNode {
	fn start() -> DevNode {
		let dir = tempfile::tempdir().expect("temp dir");
		let (rpc, p2p) = (free_port(), free_port());
		let log = std::fs::File::create(dir.path().join("node.log")).expect("log file");
		let child = Command::new(node_binary())
			.args(["--dev", "--no-prometheus", "--no-telemetry", "--no-mdns"])
			.arg("--base-path")
			.arg(dir.path().join("data"))
			.args(["--rpc-port", &rpc.to_string()])
			.args(["--listen-addr", &format!("/ip4/127.0.0.1/tcp/{p2p}")])
			.stdout(Stdio::null())
			.stderr(log)
			.spawn()
			.expect("verity-node starts");
		DevNode {
			child,
			url: format!("ws://127.0.0.1:{rpc}"),
			_dir: dir,
		}
	}
}

impl Drop for DevNode {
	fn drop(&mut self) {
		let _ = self.child.kill();
		let _ = self.child.wait();
	}
}

fn verity(args: &[&str], url: &str) -> Output {
	Command::new(VERITY)
		.args(args)
		.env("VERITY_URL", url)
		.env_remove("VERITY_SURI")
		.stdin(Stdio::null())
		.output()
		.expect("verity runs")
}

fn stdout(o: &Output) -> String {
	String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
	String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Runs `verity` and expects success; returns its stdout.
fn ok(args: &[&str], url: &str) -> String {
	let o = verity(args, url);
	assert!(
		o.status.success(),
		"verity {args:?} failed:\n{}{}",
		stdout(&o),
		stderr(&o)
	);
	stdout(&o)
}

/// Runs `verity`, expects failure with one `error:` line containing `expected`.
fn fails(args: &[&str], url: &str, expected: &str) {
	let o = verity(args, url);
	let err = stderr(&o);
	assert!(
		!o.status.success(),
		"verity {args:?} should fail:\n{}",
		stdout(&o)
	);
	assert_eq!(err.lines().count(), 1, "one line: {err}");
	assert!(
		err.starts_with("error: ") && err.contains(expected),
		"verity {args:?}: expected an error with {expected:?}, got {err}"
	);
}

fn balance(who: &str, url: &str) -> String {
	ok(&["account", "balance", who], url)
}

fn wait_until_up(url: &str) {
	let deadline = Instant::now() + Duration::from_secs(180);
	loop {
		if verity(&["account", "balance", "//Alice"], url)
			.status
			.success()
		{
			return;
		}
		assert!(
			Instant::now() < deadline,
			"the dev node at {url} did not come up"
		);
		std::thread::sleep(Duration::from_millis(500));
	}
}

#[test]
fn register_infer_verify_and_errors_on_a_dev_node() {
	let node = DevNode::start();
	let url = node.url.clone();
	wait_until_up(&url);
	let work = tempfile::tempdir().expect("temp dir");
	let spec = work.path().join("dev-raw.json");
	let exported = Command::new(node_binary())
		.args(["export-chain-spec", "--chain", "dev", "--raw"])
		.output()
		.expect("export-chain-spec runs");
	assert!(
		exported.status.success(),
		"{}",
		String::from_utf8_lossy(&exported.stderr)
	);
	std::fs::write(&spec, &exported.stdout).expect("write the spec");
	let model = repo("models/mlp-digits/model.onnx");
	let input = repo("models/mlp-digits/input_0.npy");
	let (model, input, spec) = (
		model.to_str().unwrap(),
		input.to_str().unwrap(),
		spec.to_str().unwrap(),
	);

	// Charlie registers the MLP again (model 1; genesis has model 0).
	let out = ok(
		&[
			"model",
			"register",
			model,
			"--shape",
			"input=1,64",
			"--price",
			"0.02VRT",
			"--suri",
			"//Charlie",
		],
		&url,
	);
	assert!(out.contains("model root 0x"), "{out}");
	assert!(out.contains("registered model 1"), "{out}");
	let shown = ok(&["model", "show", "1"], &url);
	assert!(shown.contains("price:       0.02 VRT"), "{shown}");

	// Bob pays for an attested inference on it; the node's own worker serves it.
	let out_dir = work.path().join("out");
	let json = ok(
		&[
			"infer",
			"1",
			"--input",
			input,
			"--mode",
			"attested",
			"--suri",
			"//Bob",
			"--json",
			"--out-dir",
			out_dir.to_str().unwrap(),
		],
		&url,
	);
	let v: serde_json::Value = serde_json::from_str(json.trim()).expect("one JSON object");
	assert_eq!(v["outcome"], "settled", "{v}");
	assert_eq!(v["model"], 1);
	assert_eq!(v["outputsMatchReceipt"], true, "{v}");
	let request = v["request"].as_u64().expect("request id").to_string();
	let files: Vec<String> = v["outputFiles"]
		.as_array()
		.expect("output files")
		.iter()
		.map(|f| f.as_str().unwrap().to_string())
		.collect();
	assert_eq!(files.len(), 2, "the MLP has two outputs: {v}");
	// The same outputs as a local run of the canonical engine.
	let local = work.path().join("local");
	ok(
		&[
			"model",
			"run",
			model,
			"--shape",
			"input=1,64",
			"--input",
			&format!("input={input}"),
			"--out-dir",
			local.to_str().unwrap(),
		],
		&url,
	);

	// The receipt, proven by the light client, with the outputs and the model file.
	let mut verify = vec!["receipt", "verify", &request, "--chain-spec", spec];
	for f in &files {
		verify.extend(["--output", f.as_str()]);
	}
	let with_model = [&verify[..], &["--model", model, "--shape", "input=1,64"]].concat();
	let out = ok(&with_model, &url);
	assert!(
		out.contains("proven by the light client at finalized block #"),
		"{out}"
	);
	assert!(out.trim_end().ends_with("verified"), "{out}");

	// A tampered output file fails.
	let tampered = work.path().join("tampered.npy");
	let mut bytes = std::fs::read(&files[0]).expect("output file");
	let last = bytes.len() - 1;
	bytes[last] ^= 0x01;
	std::fs::write(&tampered, bytes).expect("write tampered");
	let mut bad = verify.clone();
	let pos = bad.iter().position(|a| *a == files[0]).unwrap();
	let tampered_str = tampered.to_str().unwrap().to_string();
	bad[pos] = &tampered_str;
	fails(
		&bad,
		&url,
		"the output files do not hash to the receipt's output hash",
	);
	// Another model file fails.
	let other = repo("models/cnn-digits/model.onnx");
	let wrong_model = [
		&verify[..],
		&[
			"--model",
			other.to_str().unwrap(),
			"--shape",
			"input=1,1,8,8",
		],
	]
	.concat();
	fails(
		&wrong_model,
		&url,
		"does not compile to the receipt's model root",
	);
	// A request without a receipt fails.
	fails(
		&[
			"receipt",
			"verify",
			"99",
			"--chain-spec",
			spec,
			"--timeout",
			"20",
		],
		&url,
		"no receipt of request 99",
	);

	// Every error: one line, and no funds move.
	let bob_before = balance("//Bob", &url);
	let cnn_input = repo("models/cnn-digits/input_0.npy");
	fails(
		&["infer", "7", "--input", input, "--suri", "//Bob"],
		&url,
		"unknown model 7",
	);
	fails(
		&[
			"infer",
			"1",
			"--input",
			cnn_input.to_str().unwrap(),
			"--suri",
			"//Bob",
		],
		&url,
		"input 0 of model 1 is F32[1, 64], the file is F32[1, 1, 8, 8]",
	);
	fails(
		&[
			"infer",
			"1",
			"--input",
			input,
			"--suri",
			"//Bob",
			"--max-fee",
			"1000",
		],
		&url,
		"is above the maximum (1000 units)",
	);
	fails(
		&[
			"infer", "1", "--input", input, "--mode", "quorum:x", "--suri", "//Bob",
		],
		&url,
		"unknown mode",
	);
	fails(
		&["infer", "1", "--input", input, "--suri", "//Nobody"],
		&url,
		"insufficient funds",
	);
	fails(
		&["infer", "1", "--input", input],
		&url,
		"no signing account",
	);
	fails(
		&["account", "balance", "//Bob", "--url", "ws://127.0.0.1:9"],
		&url,
		"cannot reach a Verity node at ws://127.0.0.1:9",
	);
	fails(
		&["model", "set-price", "1", "1VRT", "--suri", "//Bob"],
		&url,
		"model 1 belongs to 5FLSigC9HGRKVhB9FiEo4Y3koPsNmBmLJbpXg2mp1hXcS59Y, not to",
	);
	assert_eq!(
		balance("//Bob", &url),
		bob_before,
		"a failed command moved Bob's funds"
	);
}
