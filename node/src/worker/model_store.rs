//! The model store: ONNX bytes read from chain storage or downloaded from the model's URI
//! (bounded in size and time, see [`super::fetch`]), checked against the registered ONNX hash,
//! compiled with `verity-onnx`, and refused unless the compiled program's root equals the
//! registered model root and no node exceeds the registered cost and footprint claims. Compiled programs are cached in memory (a few, most recently used) and
//! on disk under the node's base path (bounded in bytes, least recently used evicted), so a
//! restart does not recompile.

use std::{
	fs,
	path::{Path, PathBuf},
	sync::{Arc, Mutex},
	time::{Duration, Instant, SystemTime},
};

use codec::{Decode, Encode};
use sp_core::H256;
use verity_engine::{
	ir::{node_footprint, Program},
	ModelTree, Prepared,
};
use verity_primitives::{host::ModelRef, ModelLocation};

use super::metrics::Metrics;

/// Log target of the worker.
const LOG_TARGET: &str = "verity::worker";

/// Compiled models kept in memory.
const MEMORY_SLOTS: usize = 8;

/// A compiled, verified model ready to run.
pub struct LoadedModel {
	/// The program with its weights pre-packed.
	pub prepared: Prepared,
	/// The model's Merkle tree (for fraud-proof material).
	pub tree: ModelTree,
}

/// Why a model cannot be served.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
	/// The bytes could not be had.
	Unavailable(String),
	/// More bytes than `--verity-max-model-bytes`.
	TooLarge(u64),
	/// The bytes' blake2-256 differs from the registration.
	HashMismatch {
		/// Registered.
		expected: H256,
		/// Of the bytes received.
		got: H256,
	},
	/// The front end refused the model.
	Compile(String),
	/// The compiled root differs from the registered root.
	RootMismatch {
		/// Registered.
		registered: H256,
		/// Compiled here.
		compiled: H256,
	},
	/// A node's cost or footprint exceeds the owner's claim (provable on chain with
	/// `Models::report_false_claim`).
	ClaimUnderstated {
		/// The node.
		node: u32,
		/// Its cost, and the claimed largest.
		cost: (u64, u64),
		/// Its footprint, and the claimed largest.
		footprint: (u64, u64),
	},
}

impl std::fmt::Display for Refusal {
	fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
		match self {
			Refusal::Unavailable(why) => write!(f, "model bytes unavailable: {why}"),
			Refusal::TooLarge(n) => write!(f, "model has {n} bytes, more than this node accepts"),
			Refusal::HashMismatch { expected, got } => {
				write!(
					f,
					"ONNX hash mismatch: registered {expected:?}, received {got:?}"
				)
			}
			Refusal::Compile(why) => write!(f, "compilation failed: {why}"),
			Refusal::RootMismatch {
				registered,
				compiled,
			} => write!(
				f,
				"model root mismatch: registered {registered:?}, compiled {compiled:?}"
			),
			Refusal::ClaimUnderstated {
				node,
				cost,
				footprint,
			} => write!(
				f,
				"node {node} exceeds the registered claims: cost {} (claimed at most {}), \
				 footprint {} bytes (claimed at most {})",
				cost.0, cost.1, footprint.0, footprint.1
			),
		}
	}
}

/// Compiled models by model root.
pub struct ModelStore {
	dir: Option<PathBuf>,
	max_disk_bytes: u64,
	max_model_bytes: u64,
	fetch_timeout: Duration,
	memory: Mutex<Vec<(H256, Arc<LoadedModel>)>>,
	metrics: Option<Metrics>,
}

impl ModelStore {
	/// A store caching on disk in `dir` (created if missing) up to `max_disk_bytes`, accepting
	/// ONNX files up to `max_model_bytes` and downloads that take at most `fetch_timeout`.
	pub fn new(
		dir: Option<PathBuf>,
		max_disk_bytes: u64,
		max_model_bytes: u64,
		fetch_timeout: Duration,
		metrics: Option<Metrics>,
	) -> std::io::Result<Self> {
		if let Some(dir) = &dir {
			fs::create_dir_all(dir)?;
		}
		let store = ModelStore {
			dir,
			max_disk_bytes,
			max_model_bytes,
			fetch_timeout,
			memory: Mutex::new(Vec::new()),
			metrics,
		};
		store.prune();
		Ok(store)
	}

	/// The model `model`, compiled and verified. `chain_bytes` reads its ONNX bytes from chain
	/// storage when they are on chain.
	pub fn get(
		&self,
		model: &ModelRef,
		chain_bytes: impl FnOnce() -> Result<Vec<u8>, String>,
	) -> Result<Arc<LoadedModel>, Refusal> {
		let loaded = self.by_root(model, chain_bytes)?;
		// Per registration, not per root: another registration of the same program may have
		// claimed enough.
		Self::check_claims(model, loaded.prepared.program())?;
		Ok(loaded)
	}

	/// The program of `model`'s root: from memory, from disk, or fetched and compiled.
	fn by_root(
		&self,
		model: &ModelRef,
		chain_bytes: impl FnOnce() -> Result<Vec<u8>, String>,
	) -> Result<Arc<LoadedModel>, Refusal> {
		let root = model.model_root;
		if let Some(hit) = self.from_memory(&root) {
			self.count(true);
			return Ok(hit);
		}
		let started = Instant::now();
		if let Some(program) = self.from_disk(&root) {
			if let Ok(loaded) = Self::load(program) {
				self.count(true);
				self.loaded(model, "disk", started);
				return Ok(self.remember(root, loaded));
			}
		}
		self.count(false);
		let program = self.fetch_and_compile(model, chain_bytes)?;
		self.to_disk(&root, &program);
		let loaded = Self::load(program).map_err(Refusal::Compile)?;
		self.loaded(model, "compile", started);
		Ok(self.remember(root, loaded))
	}

	/// Logs and measures a load from `source` that began at `started`.
	fn loaded(&self, model: &ModelRef, source: &str, started: Instant) {
		let seconds = started.elapsed().as_secs_f64();
		log::info!(
			target: LOG_TARGET,
			"model {} loaded ({source}) in {:.1} ms",
			model.id,
			seconds * 1e3,
		);
		if let Some(m) = &self.metrics {
			m.model_load_seconds
				.with_label_values(&[source])
				.observe(seconds);
		}
	}

	fn fetch_and_compile(
		&self,
		model: &ModelRef,
		chain_bytes: impl FnOnce() -> Result<Vec<u8>, String>,
	) -> Result<Program, Refusal> {
		let bytes = match &model.location {
			ModelLocation::OnChain { len } => {
				if u64::from(*len) > self.max_model_bytes {
					return Err(Refusal::TooLarge((*len).into()));
				}
				chain_bytes().map_err(Refusal::Unavailable)?
			}
			ModelLocation::Uri(uri) => {
				let uri = std::str::from_utf8(uri)
					.map_err(|_| Refusal::Unavailable("the model URI is not UTF-8".into()))?;
				super::fetch::fetch(uri, self.max_model_bytes, self.fetch_timeout)
					.map_err(Refusal::Unavailable)?
			}
		};
		if bytes.len() as u64 > self.max_model_bytes {
			return Err(Refusal::TooLarge(bytes.len() as u64));
		}
		let got = H256(verity_engine::commit::blake2_256(&bytes));
		if got != model.onnx_hash {
			return Err(Refusal::HashMismatch {
				expected: model.onnx_hash,
				got,
			});
		}
		let names =
			verity_onnx::graph_input_names(&bytes).map_err(|e| Refusal::Compile(e.to_string()))?;
		let shapes: Vec<(&str, Vec<usize>)> = names
			.iter()
			.zip(&model.input_shapes)
			.map(|(name, shape)| (name.as_str(), shape.iter().map(|d| *d as usize).collect()))
			.collect();
		let compiled =
			verity_onnx::compile(&bytes, &shapes).map_err(|e| Refusal::Compile(e.to_string()))?;
		let compiled_root = H256(compiled.model_root());
		if compiled_root != model.model_root {
			if let Some(m) = &self.metrics {
				m.root_mismatches.inc();
			}
			log::error!(
				target: LOG_TARGET,
				"model {} refused: registered root {:?}, compiled root {:?}",
				model.id,
				model.model_root,
				compiled_root,
			);
			return Err(Refusal::RootMismatch {
				registered: model.model_root,
				compiled: compiled_root,
			});
		}
		Ok(compiled.program)
	}

	/// Refuses a program with a node beyond the owner's cost or footprint claims: the claims
	/// admit the model to requests as fraud-provable, and such a node may not be.
	fn check_claims(model: &ModelRef, program: &Program) -> Result<(), Refusal> {
		let understated = program.nodes.iter().enumerate().find(|(_, node)| {
			verity_engine::node_cost(node) > model.max_node_cost
				|| node_footprint(node) > model.max_node_footprint
		});
		match understated {
			None => Ok(()),
			Some((index, node)) => {
				log::error!(
					target: LOG_TARGET,
					"model {} refused: node {index} exceeds its registered cost or footprint claim",
					model.id,
				);
				Err(Refusal::ClaimUnderstated {
					node: index as u32,
					cost: (verity_engine::node_cost(node), model.max_node_cost),
					footprint: (node_footprint(node), model.max_node_footprint),
				})
			}
		}
	}

	fn load(program: Program) -> Result<LoadedModel, String> {
		let tree = ModelTree::new(&program);
		let prepared = Prepared::new(program).map_err(|e| format!("{e:?}"))?;
		Ok(LoadedModel { prepared, tree })
	}

	fn count(&self, hit: bool) {
		if let Some(m) = &self.metrics {
			if hit {
				m.cache_hits.inc()
			} else {
				m.cache_misses.inc()
			}
		}
	}

	fn from_memory(&self, root: &H256) -> Option<Arc<LoadedModel>> {
		let mut memory = self.memory.lock().expect("model store lock");
		let pos = memory.iter().position(|(r, _)| r == root)?;
		let entry = memory.remove(pos);
		let model = entry.1.clone();
		memory.push(entry);
		Some(model)
	}

	fn remember(&self, root: H256, loaded: LoadedModel) -> Arc<LoadedModel> {
		let loaded = Arc::new(loaded);
		let mut memory = self.memory.lock().expect("model store lock");
		memory.retain(|(r, _)| *r != root);
		if memory.len() >= MEMORY_SLOTS {
			memory.remove(0);
		}
		memory.push((root, loaded.clone()));
		loaded
	}

	fn path(&self, root: &H256) -> Option<PathBuf> {
		let dir = self.dir.as_ref()?;
		Some(dir.join(format!(
			"{}.program",
			verity_engine::commit::to_hex(&root.0)
		)))
	}

	/// A cached program, if its file decodes and hashes to `root` (a corrupt file is deleted).
	fn from_disk(&self, root: &H256) -> Option<Program> {
		let path = self.path(root)?;
		let bytes = fs::read(&path).ok()?;
		let program = Program::decode(&mut &bytes[..])
			.ok()
			.filter(|p| H256(verity_engine::model_root(p)) == *root);
		match &program {
			Some(_) => touch(&path),
			None => {
				log::warn!(target: LOG_TARGET, "deleting corrupt cache file {}", path.display());
				let _ = fs::remove_file(&path);
			}
		}
		program
	}

	fn to_disk(&self, root: &H256, program: &Program) {
		let Some(path) = self.path(root) else {
			return;
		};
		let temp = path.with_extension("partial");
		let written = fs::write(&temp, program.encode()).and_then(|()| fs::rename(&temp, &path));
		if let Err(e) = written {
			log::warn!(target: LOG_TARGET, "cannot cache {}: {e}", path.display());
			let _ = fs::remove_file(&temp);
		}
		self.prune();
	}

	/// Deletes the least recently used cache files until the cache fits its bound.
	fn prune(&self) {
		let Some(dir) = &self.dir else {
			return;
		};
		let mut files = cache_files(dir);
		let mut total: u64 = files.iter().map(|(_, len, _)| len).sum();
		files.sort_by_key(|(_, _, used)| *used);
		for (path, len, _) in files {
			if total <= self.max_disk_bytes {
				break;
			}
			if fs::remove_file(&path).is_ok() {
				total -= len;
			}
		}
		if let Some(m) = &self.metrics {
			m.cache_bytes.set(total);
		}
	}
}

/// `(path, length, last use)` of every cached program in `dir`.
fn cache_files(dir: &Path) -> Vec<(PathBuf, u64, SystemTime)> {
	let Ok(entries) = fs::read_dir(dir) else {
		return Vec::new();
	};
	entries
		.filter_map(|e| {
			let e = e.ok()?;
			let path = e.path();
			(path.extension()? == "program").then_some(())?;
			let meta = e.metadata().ok()?;
			Some((path, meta.len(), meta.modified().ok()?))
		})
		.collect()
}

/// Marks a cache file as just used (its modification time orders eviction).
fn touch(path: &Path) {
	if let Ok(file) = fs::File::options().append(true).open(path) {
		let _ = file.set_modified(SystemTime::now());
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	/// The repo's MLP (batch 1) registered on chain with the claims its compiled program has.
	fn mlp() -> (Vec<u8>, ModelRef) {
		let path = concat!(
			env!("CARGO_MANIFEST_DIR"),
			"/../models/mlp-digits/model.onnx"
		);
		let bytes = fs::read(path).expect("the repo model");
		let program = verity_onnx::compile(&bytes, &[("input", vec![1, 64])])
			.expect("compiles")
			.program;
		let model = ModelRef {
			id: 3,
			onnx_hash: H256(verity_engine::commit::blake2_256(&bytes)),
			model_root: H256(verity_engine::model_root(&program)),
			location: ModelLocation::OnChain {
				len: bytes.len() as u32,
			},
			input_shapes: vec![vec![1, 64]],
			max_node_cost: program.largest_node_cost(),
			max_node_footprint: program.largest_node_footprint(),
		};
		(bytes, model)
	}

	fn open_store(dir: &Path) -> ModelStore {
		ModelStore::new(
			Some(dir.to_path_buf()),
			1 << 30,
			1 << 24,
			Duration::from_secs(5),
			None,
		)
		.unwrap()
	}

	#[test]
	fn a_registration_understating_a_claim_is_refused_even_from_the_cache() {
		let dir = tempfile::tempdir().unwrap();
		let (bytes, honest) = mlp();
		let store = open_store(dir.path());
		assert!(store.get(&honest, || Ok(bytes.clone())).is_ok());
		for understate_cost in [true, false] {
			// Same bytes and root (so the compiled program comes from the cache), one claim
			// a unit short of the heaviest node.
			let mut model = honest.clone();
			if understate_cost {
				model.max_node_cost -= 1;
			} else {
				model.max_node_footprint -= 1;
			}
			let refused = store
				.get(&model, || panic!("served from the cache"))
				.err()
				.expect("refused");
			let Refusal::ClaimUnderstated {
				node,
				cost,
				footprint,
			} = refused
			else {
				panic!("{refused}");
			};
			assert_eq!(cost.1, model.max_node_cost);
			assert_eq!(footprint.1, model.max_node_footprint);
			assert!(cost.0 > cost.1 || footprint.0 > footprint.1);
			// A fresh store (compiling from the bytes) refuses it the same way.
			let fresh = tempfile::tempdir().unwrap();
			assert_eq!(
				open_store(fresh.path())
					.get(&model, || Ok(bytes.clone()))
					.err(),
				Some(Refusal::ClaimUnderstated {
					node,
					cost,
					footprint
				})
			);
		}
	}
}
