//! The `verity` CLI against a real dev node (the `verity-node` binary of the same build), over
//! real RPC and, for `receipt verify`, the embedded light client over the node's p2p port:
//! register a model from its ONNX file, pay for an inference that the node's own worker serves,
//! verify the receipt (and see tampered outputs and a wrong model fail), and get one clear line
//! for each error, which moves no funds.

use std::{
	io::{BufRead, BufReader, Write},
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
	/// Starts `verity-node --dev` with `extra` flags.
	fn start(extra: &[&str]) -> DevNode {
		let dir = tempfile::tempdir().expect("temp dir");
		let (rpc, p2p) = (free_port(), free_port());
		let log = std::fs::File::create(dir.path().join("node.log")).expect("log file");
		let child = Command::new(node_binary())
			.args(["--dev", "--no-prometheus", "--no-telemetry", "--no-mdns"])
			.arg("--base-path")
			.arg(dir.path().join("data"))
			.args(["--rpc-port", &rpc.to_string()])
			.args(["--listen-addr", &format!("/ip4/127.0.0.1/tcp/{p2p}")])
			.args(extra)
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
	let node = DevNode::start(&[]);
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
	// The MLP's outputs, in order: probs, logits.
	let local_outputs = [local.join("probs.npy"), local.join("logits.npy")];
	for (chain_file, local_file) in files.iter().zip(&local_outputs) {
		assert_eq!(
			std::fs::read(chain_file).expect("output file"),
			std::fs::read(local_file).expect("local output"),
			"{chain_file} differs from the local run's {}",
			local_file.display()
		);
	}

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

	// An audit of the honest result finds nothing to prove and sends nothing.
	let audit = ok(&["audit", &request, "--suri", "//Dave"], &url);
	assert!(
		audit.contains("its trace equals the local execution"),
		"{audit}"
	);

	mcp_exchange(&url, spec, input);
	polkadot_js_request(&url, input, &local_outputs);

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

	// A worker's life from the CLI, last so that no request is assigned to a worker without a
	// node: Ferdie registers, bonds more, unbonds, and cannot withdraw before the delay. Each
	// call the worker's record rules out is refused before anything is sent.
	let key = format!("0x{}", "f1".repeat(32));
	let ferdie = || balance("//Ferdie", &url);
	let ferdie_before = ferdie();
	fails(
		&["worker", "withdraw", "--suri", "//Ferdie"],
		&url,
		"is not a worker",
	);
	fails(
		&[
			"worker", "register", "0x12", "1500VRT", "--suri", "//Ferdie",
		],
		&url,
		"the key must be 32 bytes of 0x hex",
	);
	fails(
		&["worker", "register", &key, "10VRT", "--suri", "//Ferdie"],
		&url,
		"is below the minimum worker bond (1000000000000000 units)",
	);
	assert_eq!(
		ferdie(),
		ferdie_before,
		"a refused call moved Ferdie's funds"
	);
	let out = ok(
		&["worker", "register", &key, "1500VRT", "--suri", "//Ferdie"],
		&url,
	);
	assert!(
		out.contains("registered as a worker, bond 1500 VRT"),
		"{out}"
	);
	ok(&["worker", "bond", "500VRT", "--suri", "//Ferdie"], &url);
	let status = ok(&["worker", "status", "//Ferdie"], &url);
	assert!(
		status.contains("bond 2000 VRT, Active") && status.contains("slashed 0"),
		"{status}"
	);
	let ferdie_bonded = ferdie();
	fails(
		&["worker", "register", &key, "1500VRT", "--suri", "//Ferdie"],
		&url,
		"is already a worker",
	);
	fails(
		&["worker", "withdraw", "--suri", "//Ferdie"],
		&url,
		"not unbonding: `verity worker unbond` first",
	);
	assert_eq!(
		ferdie(),
		ferdie_bonded,
		"a refused call moved Ferdie's funds"
	);
	let out = ok(&["worker", "unbond", "--suri", "//Ferdie"], &url);
	assert!(out.contains("unbonding"), "{out}");
	let status = ok(&["worker", "status", "//Ferdie"], &url);
	assert!(
		status.contains("bond 2000 VRT, Unbonding { until: "),
		"{status}"
	);
	let ferdie_unbonding = ferdie();
	fails(
		&["worker", "unbond", "--suri", "//Ferdie"],
		&url,
		"already unbonding; the bond can be withdrawn from block",
	);
	fails(
		&["worker", "withdraw", "--suri", "//Ferdie"],
		&url,
		"still unbonding: the bond can be withdrawn from block",
	);
	assert_eq!(
		ferdie(),
		ferdie_unbonding,
		"a refused call moved Ferdie's funds"
	);
}

/// A validator whose worker lies about its outputs (`--verity-dev-misbehave tamper-output`):
/// its attested result settles, and `verity audit` re-executes the request, proves the wrong
/// leaf with a fraud proof, and the worker is slashed; the receipt is marked fraudulent and the
/// requester compensated.
#[test]
fn audit_proves_a_tampered_result_wrong_and_the_worker_is_slashed() {
	let node = DevNode::start(&["--verity-dev-misbehave", "tamper-output"]);
	let url = node.url.clone();
	wait_until_up(&url);
	let input = repo("models/mlp-digits/input_0.npy");
	let status = ok(&["worker", "status", "//Alice"], &url);
	assert!(
		status.contains("bond 10000 VRT") && status.contains("slashed 0"),
		"{status}"
	);

	let json = ok(
		&[
			"infer",
			"0",
			"--input",
			input.to_str().unwrap(),
			"--suri",
			"//Bob",
			"--json",
		],
		&url,
	);
	let v: serde_json::Value = serde_json::from_str(json.trim()).expect("one JSON object");
	// The lie settles: the receipt commits to the tampered outputs.
	assert_eq!(v["outcome"], "settled", "{v}");
	let request = v["request"].as_u64().expect("request id").to_string();
	let bob_before = balance("//Bob", &url);

	// A dry run finds the divergence and sends nothing.
	let dry = ok(&["audit", &request, "--dry-run"], &url);
	assert!(dry.contains("not challenged (--dry-run)"), "{dry}");

	let audit = ok(&["audit", &request, "--suri", "//Dave", "--json"], &url);
	let a: serde_json::Value = serde_json::from_str(audit.trim()).expect("one JSON object");
	let result = &a["results"][0];
	assert_eq!(result["finding"], "diverges", "{a}");
	assert_eq!(result["verdict"]["fraudProven"], true, "{a}");
	assert_eq!(
		result["verdict"]["slashed"], "500000000000000",
		"FraudSlash is 500 VRT: {a}"
	);

	let receipt = ok(&["receipt", "show", &request, "--json"], &url);
	let r: serde_json::Value = serde_json::from_str(receipt.trim()).expect("one JSON object");
	assert_eq!(r["outcome"], "fraudulent", "{r}");
	let status = ok(&["worker", "status", "//Alice"], &url);
	assert!(
		status.contains("bond 9500 VRT") && status.contains("slashed 1"),
		"{status}"
	);
	let bob_after = balance("//Bob", &url);
	assert_ne!(
		bob_after, bob_before,
		"the requester is compensated from the slash"
	);
}

/// A generic client: `client/js/request.mjs` (polkadot.js, the chain's metadata and
/// docs/protocol.md's input encoding, no Verity code) pays for an attested inference of model
/// 1 and decodes its outputs, which must be the local canonical run's, bit for bit.
fn polkadot_js_request(url: &str, input: &str, local_outputs: &[PathBuf]) {
	let js = repo("client/js");
	if !js.join("node_modules/@polkadot/api").exists() {
		let why = "client/js/node_modules missing (scripts/test.sh installs it)";
		assert!(
			std::env::var("CI").as_deref() != Ok("true"),
			"{why}; CI=true needs it"
		);
		eprintln!(
			"SKIPPED the polkadot.js part of register_infer_verify_and_errors_on_a_dev_node: {why}"
		);
		return;
	}
	let tensor = verity_onnx::read_npy(Path::new(input)).expect("input");
	let values = match tensor.data() {
		verity_engine::TensorData::F32(v) => v.clone(),
		_ => panic!("an f32 input"),
	};
	let out = Command::new("node")
		.current_dir(&js)
		.args(["request.mjs", url, "1", "//Eve"])
		.arg(serde_json::json!([values]).to_string())
		.stdin(Stdio::null())
		.output()
		.expect("node runs");
	assert!(
		out.status.success(),
		"request.mjs failed:\n{}{}",
		stdout(&out),
		stderr(&out)
	);
	let v: serde_json::Value = serde_json::from_str(stdout(&out).trim()).expect("one JSON object");
	assert_eq!(v["outcome"], "Settled", "{v}");
	assert_eq!(v["outputHash"], v["postedOutputHash"], "{v}");
	// The JS encoding of the input is the SDK's.
	let sdk_bytes = codec::Encode::encode(&vec![tensor]);
	assert_eq!(
		v["inputHex"],
		format!("0x{}", hex::encode(sdk_bytes)),
		"{v}"
	);
	let outputs = v["outputs"].as_array().expect("outputs");
	assert_eq!(outputs.len(), local_outputs.len(), "{v}");
	for (o, path) in outputs.iter().zip(local_outputs) {
		let t = verity_onnx::read_npy(path).expect("local output");
		let want = match t.data() {
			verity_engine::TensorData::F32(v) => v.iter().map(|x| *x as f64).collect::<Vec<_>>(),
			_ => panic!("f32 outputs"),
		};
		let got: Vec<f64> = o["data"]
			.as_array()
			.expect("data")
			.iter()
			.map(|x| x.as_f64().expect("a number"))
			.collect();
		assert_eq!(got, want, "output {} differs", path.display());
		assert_eq!(o["shape"], serde_json::json!(t.shape()), "{v}");
	}
}

/// A real MCP client exchange with `verity mcp` over its stdio: initialize, list the tools,
/// buy an inference within the spending limit, be refused one over it, verify the receipt.
fn mcp_exchange(url: &str, spec: &str, input: &str) {
	let mut server = Command::new(VERITY)
		.args([
			"mcp",
			"--max-spend",
			"0.1VRT",
			"--chain-spec",
			spec,
			"--suri",
			"//Dave",
		])
		.env("VERITY_URL", url)
		.stdin(Stdio::piped())
		.stdout(Stdio::piped())
		.stderr(Stdio::inherit())
		.spawn()
		.expect("verity mcp starts");
	struct Kill(Child);
	impl Drop for Kill {
		fn drop(&mut self) {
			let _ = self.0.kill();
			let _ = self.0.wait();
		}
	}
	let mut stdin = server.stdin.take().expect("stdin");
	let mut lines = BufReader::new(server.stdout.take().expect("stdout")).lines();
	let _guard = Kill(server);
	// A request `id` and its answer; id 0 sends a notification (no answer).
	let mut call = |id: u64, method: &str, params: serde_json::Value| -> serde_json::Value {
		let msg = match id {
			0 => serde_json::json!({"jsonrpc": "2.0", "method": method}),
			_ => {
				serde_json::json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params})
			}
		};
		writeln!(stdin, "{msg}").expect("write to the server");
		stdin.flush().expect("flush");
		if id == 0 {
			return serde_json::Value::Null;
		}
		loop {
			let line = lines.next().expect("the server answers").expect("a line");
			let v: serde_json::Value = serde_json::from_str(&line).expect("JSON-RPC");
			if v["id"] == id {
				return v;
			}
		}
	};
	let init = call(
		1,
		"initialize",
		serde_json::json!({
			"protocolVersion": "2025-06-18",
			"capabilities": {},
			"clientInfo": {"name": "verity-test", "version": "1"}
		}),
	);
	assert!(
		init["result"]["capabilities"]["tools"].is_object(),
		"{init}"
	);
	call(0, "notifications/initialized", serde_json::Value::Null);
	let tools = call(2, "tools/list", serde_json::json!({}));
	let names: Vec<&str> = tools["result"]["tools"]
		.as_array()
		.expect("tools")
		.iter()
		.map(|t| t["name"].as_str().unwrap())
		.collect();
	for t in ["list_models", "quote", "infer", "verify_receipt"] {
		assert!(names.contains(&t), "{t} missing from {names:?}");
	}
	let text = |v: &serde_json::Value| -> serde_json::Value {
		let t = v["result"]["content"][0]["text"]
			.as_str()
			.unwrap_or_else(|| panic!("{v}"));
		serde_json::from_str(t).unwrap_or_else(|_| serde_json::Value::String(t.into()))
	};
	let models = text(&call(
		3,
		"tools/call",
		serde_json::json!({"name": "list_models", "arguments": {}}),
	));
	assert_eq!(
		models["models"][1]["inputs"][0]["shape"],
		serde_json::json!([1, 64]),
		"{models}"
	);

	let data = match verity_onnx::read_npy(Path::new(input))
		.expect("input")
		.data()
	{
		verity_engine::TensorData::F32(v) => v.clone(),
		_ => panic!("an f32 input"),
	};
	let infer = call(
		4,
		"tools/call",
		serde_json::json!({"name": "infer", "arguments": {"model": 1, "inputs": [data]}}),
	);
	assert_ne!(infer["result"]["isError"], true, "{infer}");
	let done = text(&infer);
	assert_eq!(done["outcome"], "settled", "{done}");
	assert_eq!(done["verification"]["outputsMatchReceipt"], true, "{done}");
	assert_eq!(
		done["verification"]["lightClient"]["receiptMatches"], true,
		"{done}"
	);
	assert_eq!(done["outputs"].as_array().map(Vec::len), Some(2), "{done}");

	// Over the limit: refused before anything is sent.
	let refused = call(
		5,
		"tools/call",
		serde_json::json!({"name": "infer", "arguments": {"model": 1, "inputs": [data], "max_fee": "1VRT"}}),
	);
	assert_eq!(refused["result"]["isError"], true, "{refused}");
	assert!(refused.to_string().contains("spending limit"), "{refused}");

	let outputs: Vec<serde_json::Value> = done["outputs"]
		.as_array()
		.unwrap()
		.iter()
		.map(|o| o["data"].clone())
		.collect();
	let verified = text(&call(
		6,
		"tools/call",
		serde_json::json!({"name": "verify_receipt", "arguments": {"request": done["request"], "outputs": outputs}}),
	));
	assert_eq!(verified["verified"], true, "{verified}");
}
