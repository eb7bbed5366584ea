//! Support for tests that run the real `verity-node` binary: free ports, a process guard that
//! kills the node and removes its directory even when the test fails, a JSON-RPC client over a
//! plain TCP socket, and signed-extrinsic construction for the dev accounts.
#![allow(dead_code)]

use std::{
	io::{BufRead, BufReader, Read, Write},
	net::{TcpListener, TcpStream},
	path::{Path, PathBuf},
	process::{Child, Command, Stdio},
	time::{Duration, Instant},
};

use codec::{Decode, Encode};
use serde_json::{json, Value};
use sp_core::H256;
use sp_keyring::Sr25519Keyring;
use sp_runtime::generic::Era;
use verity_runtime::{
	AccountId, Balance, Nonce, Runtime, RuntimeCall, SignedPayload, TxExtension,
	UncheckedExtrinsic, VERSION,
};

/// The node binary cargo built for these tests.
pub const NODE: &str = env!("CARGO_BIN_EXE_verity-node");

/// A port nothing listens on right now.
pub fn free_port() -> u16 {
	TcpListener::bind("127.0.0.1:0")
		.and_then(|l| l.local_addr())
		.map(|a| a.port())
		.expect("the OS hands out an ephemeral port")
}

/// A running `verity-node`. Dropping it kills the process and deletes its base directory.
pub struct Node {
	pub name: String,
	pub rpc_port: u16,
	pub p2p_port: u16,
	args: Vec<String>,
	child: Child,
	dir: tempfile::TempDir,
}

impl Node {
	/// Starts `verity-node` with `args` plus its own base path, ports and log file.
	pub fn spawn(name: &str, args: &[&str]) -> Node {
		let dir = tempfile::Builder::new()
			.prefix(&format!("verity-test-{name}-"))
			.tempdir()
			.expect("temp dir");
		let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
		let (rpc_port, p2p_port) = (free_port(), free_port());
		let child = Self::start(name, &args, dir.path(), rpc_port, p2p_port);
		Node {
			name: name.into(),
			rpc_port,
			p2p_port,
			args,
			child,
			dir,
		}
	}

	fn start(name: &str, args: &[String], dir: &Path, rpc_port: u16, p2p_port: u16) -> Child {
		let log = std::fs::OpenOptions::new()
			.create(true)
			.append(true)
			.open(dir.join("node.log"))
			.expect("log file");
		let mut cmd = Command::new(NODE);
		cmd.args(args);
		// `--tmp` makes the node pick (and delete) its own base path; otherwise use ours.
		if !args.iter().any(|a| a == "--tmp") {
			cmd.arg("--base-path").arg(dir.join("data"));
		}
		// No metrics endpoint unless the test asks for one (`--prometheus-port`).
		if !args.iter().any(|a| a == "--prometheus-port") {
			cmd.arg("--no-prometheus");
		}
		cmd.args(["--rpc-port", &rpc_port.to_string()])
			.args(["--listen-addr", &format!("/ip4/127.0.0.1/tcp/{p2p_port}")])
			.args(["--no-telemetry", "--no-mdns", "--name", name])
			.stdout(Stdio::null())
			.stderr(log)
			.spawn()
			.expect("verity-node starts")
	}

	/// Stops the node (SIGTERM, as an operator would) and starts it again with the same
	/// arguments, base path (database, keystore, off-chain storage) and ports.
	pub fn restart(&mut self) {
		self.stop();
		self.child = Self::start(
			&self.name,
			&self.args,
			self.dir.path(),
			self.rpc_port,
			self.p2p_port,
		);
	}

	/// Kills the node at once (SIGKILL: no shutdown, as a crash or power loss would).
	pub fn kill(&mut self) {
		let _ = self.child.kill();
		let _ = self.child.wait();
	}

	fn stop(&mut self) {
		// SIGTERM first so the node closes its database; SIGKILL if it lingers.
		unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
		let deadline = Instant::now() + Duration::from_secs(10);
		while Instant::now() < deadline {
			if let Ok(Some(_)) = self.child.try_wait() {
				return;
			}
			std::thread::sleep(Duration::from_millis(100));
		}
		let _ = self.child.kill();
		let _ = self.child.wait();
	}

	pub fn log_path(&self) -> PathBuf {
		self.dir.path().join("node.log")
	}

	/// One JSON-RPC call over HTTP. Errors are connection failures or JSON-RPC errors.
	pub fn rpc(&self, method: &str, params: Value) -> Result<Value, String> {
		rpc_call(self.rpc_port, method, params)
	}

	/// Like [`Node::rpc`] but retries until the node answers, for up to `timeout`.
	pub fn rpc_when_up(&self, method: &str, params: Value, timeout: Duration) -> Value {
		wait_for(&format!("{}: RPC {method}", self.name), timeout, || {
			self.rpc(method, params.clone()).ok()
		})
	}

	/// Number of the latest finalized block.
	pub fn finalized_number(&self) -> Result<u32, String> {
		let hash = self.rpc("chain_getFinalizedHead", json!([]))?;
		let header = self.rpc("chain_getHeader", json!([hash]))?;
		hex_number(&header["number"])
	}

	/// Number of the best block.
	pub fn best_number(&self) -> Result<u32, String> {
		let header = self.rpc("chain_getHeader", json!([]))?;
		hex_number(&header["number"])
	}

	/// Waits until block `n` is finalized.
	pub fn wait_finalized(&self, n: u32, timeout: Duration) {
		wait_for(
			&format!("{}: block {n} finalized", self.name),
			timeout,
			|| self.finalized_number().ok().filter(|f| *f >= n),
		);
	}

	/// Last lines of the node's log, for failure messages.
	pub fn log_tail(&self, lines: usize) -> String {
		let text = std::fs::read_to_string(self.log_path()).unwrap_or_default();
		let all: Vec<&str> = text.lines().collect();
		all[all.len().saturating_sub(lines)..].join("\n")
	}
}

impl Drop for Node {
	fn drop(&mut self) {
		if std::thread::panicking() {
			eprintln!(
				"---- last log lines of {} ----\n{}",
				self.name,
				self.log_tail(40)
			);
		}
		self.stop();
	}
}

/// Polls `f` every 250 ms until it returns `Some`, panicking after `timeout`.
/// The body of `GET http://127.0.0.1:{port}{path}` (HTTP/1.0, so the server closes the
/// connection when done).
pub fn http_get(port: u16, path: &str) -> Result<String, String> {
	use std::io::{Read, Write};
	let mut stream =
		std::net::TcpStream::connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
	stream
		.set_read_timeout(Some(Duration::from_secs(30)))
		.map_err(|e| e.to_string())?;
	write!(stream, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").map_err(|e| e.to_string())?;
	let mut response = String::new();
	stream
		.read_to_string(&mut response)
		.map_err(|e| e.to_string())?;
	let (head, body) = response
		.split_once("\r\n\r\n")
		.ok_or_else(|| format!("not an HTTP response: {response}"))?;
	if !head.starts_with("HTTP/1.") || !head.split(' ').nth(1).is_some_and(|c| c == "200") {
		return Err(format!("GET {path}: {head}"));
	}
	Ok(body.to_string())
}

/// The value of the Prometheus sample of metric `name` whose labels include `labels` (the node
/// adds its own, such as `chain`), in a scraped `body`.
pub fn metric(body: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
	body.lines()
		.filter(|l| !l.starts_with('#'))
		.find_map(|line| {
			let (sample, value) = line.rsplit_once(' ')?;
			let (metric, sample_labels) = match sample.split_once('{') {
				Some((m, rest)) => (m, rest.strip_suffix('}')?),
				None => (sample, ""),
			};
			let has = |(k, v): &(&str, &str)| {
				sample_labels
					.split(',')
					.any(|pair| pair == format!("{k}=\"{v}\""))
			};
			(metric == name && labels.iter().all(has)).then(|| value.parse().ok())?
		})
}

/// The metric names (`substrate_*`, `verity_*`) that the alert rules and the Grafana dashboard
/// of `docker/` query.
pub fn monitored_metrics() -> std::collections::BTreeSet<String> {
	let mut names = std::collections::BTreeSet::new();
	for file in [
		"docker/prometheus/alerts.yml",
		"docker/grafana/dashboards/verity.json",
	] {
		let text = std::fs::read_to_string(repo_path(file)).expect("a monitoring file");
		for (start, _) in text.match_indices(|c: char| c == 's' || c == 'v') {
			let rest = &text[start..];
			let preceded = text[..start]
				.chars()
				.next_back()
				.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
			if preceded || !(rest.starts_with("substrate_") || rest.starts_with("verity_")) {
				continue;
			}
			let end = rest
				.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
				.unwrap_or(rest.len());
			names.insert(rest[..end].to_string());
		}
	}
	names
}

/// Whether the Prometheus text `body` exports the series `name`: a family of its own or a
/// histogram's `_bucket` / `_sum` / `_count` series.
pub fn exports_series(body: &str, name: &str) -> bool {
	let families: Vec<(&str, &str)> = body
		.lines()
		.filter_map(|l| l.strip_prefix("# TYPE "))
		.filter_map(|l| l.split_once(' '))
		.collect();
	families.iter().any(|(family, _)| *family == name)
		|| ["_bucket", "_sum", "_count"].iter().any(|suffix| {
			name.strip_suffix(suffix).is_some_and(|family| {
				families
					.iter()
					.any(|(f, kind)| *f == family && *kind == "histogram")
			})
		})
}

pub fn wait_for<T>(what: &str, timeout: Duration, mut f: impl FnMut() -> Option<T>) -> T {
	let deadline = Instant::now() + timeout;
	loop {
		if let Some(v) = f() {
			return v;
		}
		if Instant::now() > deadline {
			panic!("timed out after {timeout:?} waiting for {what}");
		}
		std::thread::sleep(Duration::from_millis(250));
	}
}

/// A JSON-RPC 2.0 call as an HTTP/1.1 POST on 127.0.0.1:`port`.
pub fn rpc_call(port: u16, method: &str, params: Value) -> Result<Value, String> {
	let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).to_string();
	let mut stream = TcpStream::connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
	stream
		.set_read_timeout(Some(Duration::from_secs(30)))
		.map_err(|e| e.to_string())?;
	write!(
		stream,
		"POST / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n\
		 Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
		body.len()
	)
	.map_err(|e| e.to_string())?;
	let mut reader = BufReader::new(stream);
	let mut status = String::new();
	reader.read_line(&mut status).map_err(|e| e.to_string())?;
	let mut content_length = None;
	loop {
		let mut line = String::new();
		reader.read_line(&mut line).map_err(|e| e.to_string())?;
		let line = line.trim_end();
		if line.is_empty() {
			break;
		}
		if let Some((k, v)) = line.split_once(':') {
			if k.eq_ignore_ascii_case("content-length") {
				content_length = v.trim().parse::<usize>().ok();
			}
		}
	}
	let mut body = Vec::new();
	match content_length {
		Some(n) => {
			body.resize(n, 0);
			reader.read_exact(&mut body).map_err(|e| e.to_string())?;
		}
		None => {
			reader.read_to_end(&mut body).map_err(|e| e.to_string())?;
		}
	}
	if !status.contains(" 200 ") {
		return Err(format!("{method}: HTTP {}", status.trim()));
	}
	let reply: Value = serde_json::from_slice(&body).map_err(|e| e.to_string())?;
	match reply.get("error") {
		Some(err) => Err(format!("{method}: {err}")),
		None => Ok(reply["result"].clone()),
	}
}

/// Parses a `0x`-prefixed hex quantity (block numbers in headers).
pub fn hex_number(v: &Value) -> Result<u32, String> {
	let s = v.as_str().ok_or_else(|| format!("not a hex string: {v}"))?;
	u32::from_str_radix(s.trim_start_matches("0x"), 16).map_err(|e| e.to_string())
}

/// Decodes `0x`-prefixed hex bytes.
pub fn hex_bytes(v: &Value) -> Result<Vec<u8>, String> {
	let s = v.as_str().ok_or_else(|| format!("not a hex string: {v}"))?;
	hex::decode(s.trim_start_matches("0x")).map_err(|e| e.to_string())
}

/// An immortal transaction from `signer` with `nonce`, signed the way a wallet signs it for
/// this runtime's version.
pub fn signed_extrinsic(
	signer: Sr25519Keyring,
	call: RuntimeCall,
	nonce: Nonce,
	genesis: H256,
) -> UncheckedExtrinsic {
	signed_extrinsic_for(VERSION.spec_version, signer, call, nonce, genesis)
}

/// [`signed_extrinsic`] for a runtime at `spec_version` (after an upgrade).
pub fn signed_extrinsic_for(
	spec_version: u32,
	signer: Sr25519Keyring,
	call: RuntimeCall,
	nonce: Nonce,
	genesis: H256,
) -> UncheckedExtrinsic {
	let extension: TxExtension = (
		frame_system::AuthorizeCall::<Runtime>::new(),
		frame_system::CheckNonZeroSender::<Runtime>::new(),
		frame_system::CheckSpecVersion::<Runtime>::new(),
		frame_system::CheckTxVersion::<Runtime>::new(),
		frame_system::CheckGenesis::<Runtime>::new(),
		frame_system::CheckEra::<Runtime>::from(Era::Immortal),
		frame_system::CheckNonce::<Runtime>::from(nonce),
		frame_system::CheckWeight::<Runtime>::new(),
		pallet_transaction_payment::ChargeTransactionPayment::<Runtime>::from(0),
		frame_metadata_hash_extension::CheckMetadataHash::<Runtime>::new(false),
		frame_system::WeightReclaim::<Runtime>::new(),
	);
	// What the extensions add to the signed payload without carrying it in the extrinsic.
	let implicit = (
		(),
		(),
		spec_version,
		VERSION.transaction_version,
		genesis,
		genesis,
		(),
		(),
		(),
		None,
		(),
	);
	let payload = SignedPayload::from_raw(call.clone(), extension.clone(), implicit);
	let signature = payload.using_encoded(|bytes| signer.sign(bytes));
	UncheckedExtrinsic::new_signed(
		call,
		sp_runtime::MultiAddress::Id(signer.to_account_id()),
		signature.into(),
		extension,
	)
}

/// Hash of the genesis block.
pub fn genesis_hash(node: &Node) -> H256 {
	let v = node
		.rpc("chain_getBlockHash", json!([0]))
		.expect("genesis hash");
	H256::from_slice(&hex_bytes(&v).expect("hex hash"))
}

/// The free balance of `who` at the best block.
pub fn free_balance(node: &Node, who: &AccountId) -> Balance {
	let key = frame_system::Account::<Runtime>::hashed_key_for(who);
	let v = node
		.rpc(
			"state_getStorage",
			json!([format!("0x{}", hex::encode(key))]),
		)
		.expect("state_getStorage");
	if v.is_null() {
		return 0;
	}
	let bytes = hex_bytes(&v).expect("hex storage");
	let info = frame_system::AccountInfo::<Nonce, pallet_balances::AccountData<Balance>>::decode(
		&mut &bytes[..],
	)
	.expect("AccountInfo decodes");
	info.data.free
}

/// Encodes an extrinsic as the `0x…` hex string `author_submitExtrinsic` takes.
pub fn to_hex(xt: &impl Encode) -> String {
	format!("0x{}", hex::encode(xt.encode()))
}

/// Path of a file in the repository.
pub fn repo_path(rel: &str) -> PathBuf {
	Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(rel)
}

/// Calls runtime API `method` (e.g. `VerityApi_receipt`) with SCALE `args` at the best block and
/// decodes its reply.
pub fn state_call<R: Decode>(node: &Node, method: &str, args: impl Encode) -> Result<R, String> {
	let reply = node.rpc(
		"state_call",
		json!([method, format!("0x{}", hex::encode(args.encode()))]),
	)?;
	let bytes = hex_bytes(&reply)?;
	R::decode(&mut &bytes[..]).map_err(|e| format!("{method}: reply does not decode: {e}"))
}

/// The SCALE value under storage `key` at the best block, if any.
pub fn storage<R: Decode>(node: &Node, key: &[u8]) -> Result<Option<R>, String> {
	let v = node.rpc(
		"state_getStorage",
		json!([format!("0x{}", hex::encode(key))]),
	)?;
	if v.is_null() {
		return Ok(None);
	}
	let bytes = hex_bytes(&v)?;
	R::decode(&mut &bytes[..])
		.map(Some)
		.map_err(|e| format!("storage value does not decode: {e}"))
}

/// The next nonce of `who`, as the pool sees it.
pub fn next_nonce(node: &Node, who: &AccountId) -> Nonce {
	node.rpc("system_accountNextIndex", json!([who.to_string()]))
		.expect("system_accountNextIndex")
		.as_u64()
		.expect("the nonce is a number") as Nonce
}

/// Submits `xt` and returns the number of the block that includes it, scanning blocks from the
/// best block at submission; panics after `timeout`.
pub fn submit_and_wait_included(node: &Node, xt: &UncheckedExtrinsic, timeout: Duration) -> u32 {
	let hex_xt = to_hex(xt);
	let from = node.best_number().expect("best block");
	node.rpc("author_submitExtrinsic", json!([hex_xt]))
		.unwrap_or_else(|e| panic!("the pool refuses the extrinsic: {e}"));
	let mut scanned = from;
	wait_for("the extrinsic in a block", timeout, || {
		let best = node.best_number().ok()?;
		while scanned <= best {
			let hash = node.rpc("chain_getBlockHash", json!([scanned])).ok()?;
			let block = node.rpc("chain_getBlock", json!([hash])).ok()?;
			let found = block["block"]["extrinsics"]
				.as_array()
				.is_some_and(|xts| xts.iter().any(|x| x.as_str() == Some(hex_xt.as_str())));
			if found {
				return Some(scanned);
			}
			scanned += 1;
		}
		None
	})
}

/// The dev validators of `--chain local`, in authority order.
pub const LOCAL_VALIDATORS: [&str; 3] = ["alice", "bob", "charlie"];

/// Starts `name` (one of [`LOCAL_VALIDATORS`]) as a serving validator of `--chain local` with a
/// fixed network key, `--bootnodes bootnode` when given, plus `extra` flags; waits for its RPC.
pub fn spawn_worker_validator(name: &str, bootnode: Option<&str>, extra: &[&str]) -> Node {
	let index = LOCAL_VALIDATORS
		.iter()
		.position(|v| *v == name)
		.expect("a local validator")
		+ 1;
	let node_key = format!("{index:064x}");
	let flag = format!("--{name}");
	let mut args: Vec<&str> = vec![
		"--chain",
		"local",
		"--validator",
		"--allow-private-ip",
		"--verity-worker",
		"--node-key",
		&node_key,
		&flag,
	];
	if let Some(boot) = bootnode {
		args.extend(["--bootnodes", boot]);
	}
	args.extend(extra);
	let node = Node::spawn(name, &args);
	node.rpc_when_up("system_health", json!([]), Duration::from_secs(120));
	node
}

/// The `--bootnodes` address of `node`.
pub fn boot_address(node: &Node) -> String {
	let peer_id = node.rpc("system_localPeerId", json!([])).expect("peer id");
	format!(
		"/ip4/127.0.0.1/tcp/{}/p2p/{}",
		node.p2p_port,
		peer_id.as_str().expect("a peer id string")
	)
}

/// The receipt of request `id`, once it finished.
pub fn receipt(
	node: &Node,
	id: verity_primitives::RequestId,
) -> Option<verity_primitives::Receipt<AccountId, Balance, verity_runtime::BlockNumber>> {
	state_call(node, "VerityApi_receipt", id).expect("VerityApi_receipt")
}

/// The id the next request gets.
pub fn next_request_id(node: &Node) -> verity_primitives::RequestId {
	storage(
		node,
		&pallet_inference::NextRequestId::<Runtime>::hashed_key(),
	)
	.expect("NextRequestId")
	.unwrap_or(0)
}

/// `who`'s worker record.
pub fn worker_info(
	node: &Node,
	who: &AccountId,
) -> pallet_workers::WorkerInfo<Balance, verity_runtime::BlockNumber> {
	storage(
		node,
		&pallet_workers::Workers::<Runtime>::hashed_key_for(who),
	)
	.expect("Workers")
	.expect("a registered worker")
}
