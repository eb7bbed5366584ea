//! A probe that runs `verity-engine` inside a wasm engine, for the native-vs-wasm bit-exactness
//! test (`tests/bit_exact.rs`). Not part of the chain.
//!
//! Built for `wasm32v1-none` (no std, like the runtime), the crate is a self-contained module:
//! no imports, its own allocator and panic handler, and the engine without `std`, so every
//! multiply-accumulate is `libm::fmaf` and every transcendental is `libm`'s. It exports:
//!
//! * `alloc(len) -> ptr` / `dealloc(ptr, len)`: buffers for the host (alignment 8);
//! * `run(program_ptr, program_len, inputs_ptr, inputs_len) -> reply_ptr`: decodes a SCALE
//!   [`Program`] and a SCALE `Vec<Tensor>`, runs [`execute`], replies with [`RunReply`];
//! * `run_node(node_ptr, node_len, inputs_ptr, inputs_len) -> reply_ptr`: decodes a [`Node`]
//!   and a `Vec<Option<Tensor>>`, runs [`execute_node`] (what a fraud proof does), replies with
//!   [`NodeReply`];
//! * `fma_batch(ptr, len) -> reply_ptr`: `len` bytes of little-endian `f32` triples `(a, b, c)`,
//!   replies with one little-endian `fma(a, b, c)` per triple;
//! * `hardware_fma() -> u32`: 1 if the engine found a hardware FMA (never, in wasm).
//!
//! A reply is a buffer of `4 + n` bytes: `n` as a little-endian `u32`, then the payload; the host
//! frees it with `dealloc(reply_ptr, 4 + n)`.
//!
//! The decoding and running is ordinary Rust ([`run_program`], [`run_node`], [`fma_batch`]),
//! compiled on every target, so the host test shares the wire format.
#![cfg_attr(target_arch = "wasm32", no_std)]

extern crate alloc;

use alloc::{
	string::{String, ToString},
	vec::Vec,
};
use codec::{Decode, DecodeAll, Encode};
use verity_engine::{
	commit::trace_root, execute, execute_node, linalg, Hash, Node, Program, Tensor,
};

/// What `run` computed: the program outputs and its trace.
#[derive(Clone, Debug, PartialEq, Encode, Decode)]
pub struct RunResult {
	/// Program outputs, in order.
	pub outputs: Vec<Tensor>,
	/// One hash per node (node `i` is leaf `i`).
	pub leaves: Vec<Hash>,
	/// Merkle root of `leaves`.
	pub root: Hash,
}

/// Reply of `run`: the result, or why decoding or execution failed.
pub type RunReply = Result<RunResult, String>;

/// Reply of `run_node`: the node's output (a one-element vector), or why decoding or execution
/// failed.
pub type NodeReply = Result<Vec<Tensor>, String>;

/// Decodes a SCALE [`Program`] and SCALE `Vec<Tensor>` inputs and runs them.
pub fn run_program(program: &[u8], inputs: &[u8]) -> RunReply {
	let program = Program::decode_all(&mut &program[..]).map_err(|e| e.to_string())?;
	let inputs = Vec::<Tensor>::decode_all(&mut &inputs[..]).map_err(|e| e.to_string())?;
	let (outputs, trace) = execute(&program, &inputs).map_err(|e| e.to_string())?;
	let root = trace_root(&trace);
	Ok(RunResult {
		outputs,
		leaves: trace.leaves,
		root,
	})
}

/// Decodes a SCALE [`Node`] and SCALE `Vec<Option<Tensor>>` inputs and re-executes the node.
pub fn run_node(node: &[u8], inputs: &[u8]) -> NodeReply {
	let node = Node::decode_all(&mut &node[..]).map_err(|e| e.to_string())?;
	let inputs = Vec::<Option<Tensor>>::decode_all(&mut &inputs[..]).map_err(|e| e.to_string())?;
	let args: Vec<Option<&Tensor>> = inputs.iter().map(Option::as_ref).collect();
	execute_node(&node, &args).map_err(|e| e.to_string())
}

/// [`linalg::fma`] over little-endian `f32` triples; a trailing partial triple is ignored.
pub fn fma_batch(triples: &[u8]) -> Vec<u8> {
	let f = |b: &[u8]| f32::from_le_bytes([b[0], b[1], b[2], b[3]]);
	let mut out = Vec::with_capacity(triples.len() / 3);
	for t in triples.chunks_exact(12) {
		let r = linalg::fma(f(&t[0..4]), f(&t[4..8]), f(&t[8..12]));
		out.extend_from_slice(&r.to_le_bytes());
	}
	out
}

#[cfg(target_arch = "wasm32")]
mod wasm {
	//! The module's exports, allocator and panic handler.

	use alloc::alloc::{alloc as raw_alloc, dealloc as raw_dealloc, Layout};
	use codec::Encode;
	use core::slice;

	/// Alignment of every buffer exchanged with the host.
	const ALIGN: usize = 8;

	fn layout(len: u32) -> Layout {
		// Never zero-sized (a zero-size `alloc` is undefined); `len < 2^32` and `ALIGN` is a
		// power of two, so the layout is always valid on wasm32.
		Layout::from_size_align((len as usize).max(1), ALIGN).expect("valid layout")
	}

	/// A buffer of `len` bytes for the host to fill (0 if memory is exhausted).
	#[no_mangle]
	pub extern "C" fn alloc(len: u32) -> u32 {
		// SAFETY: `layout` is never zero-sized.
		unsafe { raw_alloc(layout(len)) as u32 }
	}

	/// Frees a buffer from [`alloc`] or a reply (`len` = the length it was allocated with).
	///
	/// # Safety
	/// `ptr` must come from [`alloc`]`(len)` or be a reply of total length `len`, freed once.
	#[no_mangle]
	pub unsafe extern "C" fn dealloc(ptr: u32, len: u32) {
		raw_dealloc(ptr as *mut u8, layout(len))
	}

	/// # Safety
	/// `ptr .. ptr + len` must be memory the host wrote (from [`alloc`]).
	unsafe fn bytes<'a>(ptr: u32, len: u32) -> &'a [u8] {
		if len == 0 {
			return &[];
		}
		slice::from_raw_parts(ptr as *const u8, len as usize)
	}

	/// Copies `payload` into a reply buffer: little-endian `u32` length, then the bytes.
	fn reply(payload: &[u8]) -> u32 {
		let total = 4 + payload.len() as u32;
		let ptr = alloc(total);
		if ptr == 0 {
			core::arch::wasm32::unreachable();
		}
		// SAFETY: `ptr` holds `total` bytes.
		unsafe {
			let out = slice::from_raw_parts_mut(ptr as *mut u8, total as usize);
			out[..4].copy_from_slice(&(payload.len() as u32).to_le_bytes());
			out[4..].copy_from_slice(payload);
		}
		ptr
	}

	/// Runs a program; replies with a SCALE [`crate::RunReply`].
	///
	/// # Safety
	/// Both ranges must be memory the host wrote.
	#[no_mangle]
	pub unsafe extern "C" fn run(
		program_ptr: u32,
		program_len: u32,
		inputs_ptr: u32,
		inputs_len: u32,
	) -> u32 {
		let r = crate::run_program(
			bytes(program_ptr, program_len),
			bytes(inputs_ptr, inputs_len),
		);
		reply(&r.encode())
	}

	/// Re-executes one node; replies with a SCALE [`crate::NodeReply`].
	///
	/// # Safety
	/// Both ranges must be memory the host wrote.
	#[no_mangle]
	pub unsafe extern "C" fn run_node(
		node_ptr: u32,
		node_len: u32,
		inputs_ptr: u32,
		inputs_len: u32,
	) -> u32 {
		let r = crate::run_node(bytes(node_ptr, node_len), bytes(inputs_ptr, inputs_len));
		reply(&r.encode())
	}

	/// `fma` over `f32` triples; replies with the raw little-endian results.
	///
	/// # Safety
	/// The range must be memory the host wrote.
	#[no_mangle]
	pub unsafe extern "C" fn fma_batch(ptr: u32, len: u32) -> u32 {
		reply(&crate::fma_batch(bytes(ptr, len)))
	}

	/// 1 if the engine would use a hardware FMA instruction here (it cannot in wasm).
	#[no_mangle]
	pub extern "C" fn hardware_fma() -> u32 {
		verity_engine::linalg::fma_hw(1.0, 1.0, 1.0).is_some() as u32
	}

	#[panic_handler]
	fn panic(_: &core::panic::PanicInfo) -> ! {
		// Traps; the host sees a wasm trap instead of a result.
		core::arch::wasm32::unreachable()
	}

	#[global_allocator]
	static HEAP: heap::Heap = heap::Heap::new();

	mod heap {
		//! A size-class allocator for a single-threaded wasm instance.
		//!
		//! Blocks are powers of two from 16 bytes up; a freed block goes on its class's free list
		//! (the link lives in the block) and is reused by the next allocation of that class. New
		//! blocks are cut from the end of linear memory, aligned to their size (at most a page),
		//! which grows on demand. Memory is never returned to the engine: the probe instance is
		//! short-lived.

		use core::{
			alloc::{GlobalAlloc, Layout},
			arch::wasm32,
			cell::UnsafeCell,
			ptr,
		};

		const PAGE: usize = 65536;
		const MIN_CLASS: u32 = 4;
		const CLASSES: usize = 32;

		struct State {
			/// Next unused byte at the end of the heap (0 until the first allocation).
			top: usize,
			/// End of linear memory.
			end: usize,
			/// Head of each class's free list (0 = empty).
			free: [usize; CLASSES],
		}

		pub struct Heap(UnsafeCell<State>);

		// SAFETY: wasm32v1-none has no threads; the allocator is never entered concurrently.
		unsafe impl Sync for Heap {}

		impl Heap {
			pub const fn new() -> Self {
				Heap(UnsafeCell::new(State {
					top: 0,
					end: 0,
					free: [0; CLASSES],
				}))
			}
		}

		/// Size class of a layout: `log2` of the block size, or `None` if too large.
		fn class(layout: Layout) -> Option<u32> {
			let size = layout.size().max(layout.align()).max(1 << MIN_CLASS);
			let block = size.checked_next_power_of_two()?;
			let c = block.trailing_zeros();
			((c as usize) < CLASSES && layout.align() <= PAGE).then_some(c)
		}

		impl State {
			/// A fresh block of `1 << c` bytes from the end of memory, or null.
			fn carve(&mut self, c: u32) -> *mut u8 {
				if self.top == 0 {
					self.end = wasm32::memory_size::<0>() * PAGE;
					self.top = self.end;
				}
				let size = 1usize << c;
				let align = size.min(PAGE);
				let Some(start) = self.top.checked_add(align - 1).map(|t| t & !(align - 1)) else {
					return ptr::null_mut();
				};
				let Some(stop) = start.checked_add(size) else {
					return ptr::null_mut();
				};
				if stop > self.end {
					let pages = (stop - self.end).div_ceil(PAGE);
					if wasm32::memory_grow::<0>(pages) == usize::MAX {
						return ptr::null_mut();
					}
					self.end += pages * PAGE;
				}
				self.top = stop;
				start as *mut u8
			}
		}

		unsafe impl GlobalAlloc for Heap {
			unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
				let Some(c) = class(layout) else {
					return ptr::null_mut();
				};
				let s = &mut *self.0.get();
				let head = s.free[c as usize];
				if head != 0 {
					s.free[c as usize] = *(head as *const usize);
					return head as *mut u8;
				}
				s.carve(c)
			}

			unsafe fn dealloc(&self, p: *mut u8, layout: Layout) {
				let Some(c) = class(layout) else { return };
				let s = &mut *self.0.get();
				*(p as *mut usize) = s.free[c as usize];
				s.free[c as usize] = p as usize;
			}

			unsafe fn realloc(&self, p: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
				let new = Layout::from_size_align_unchecked(new_size, layout.align());
				if class(layout).is_some() && class(layout) == class(new) {
					return p;
				}
				let q = self.alloc(new);
				if !q.is_null() {
					ptr::copy_nonoverlapping(p, q, layout.size().min(new_size));
					self.dealloc(p, layout);
				}
				q
			}
		}
	}
}
