//! Tensor files: NumPy `.npy` (read and write) and serialized ONNX `TensorProto` `.pb` (read).
//!
//! `.npy` support covers what the engine can hold: little-endian (or byte-order free)
//! `float32`, `int64`, `int32`, `int8`, `uint8` and `bool` arrays, C or Fortran order, format
//! versions 1.0, 2.0 and 3.0. Written files are version 1.0, C order, little-endian.

use std::path::Path;

use verity_engine::{tensor::MAX_RANK, DType, Tensor, TensorData};

use crate::{error::TensorFileError, proto};

const MAGIC: &[u8; 6] = b"\x93NUMPY";

fn npy_err(msg: impl Into<String>) -> TensorFileError {
	TensorFileError::Npy(msg.into())
}

fn read(path: &Path) -> Result<Vec<u8>, TensorFileError> {
	std::fs::read(path).map_err(|error| TensorFileError::Io {
		path: path.display().to_string(),
		error,
	})
}

/// Reads a `.npy` file.
pub fn read_npy(path: impl AsRef<Path>) -> Result<Tensor, TensorFileError> {
	parse_npy(&read(path.as_ref())?)
}

/// Reads a serialized ONNX `TensorProto` (`.pb`), as in the ONNX test data sets. Returns the
/// tensor's name (possibly empty) and the tensor.
pub fn read_tensor_pb(path: impl AsRef<Path>) -> Result<(String, Tensor), TensorFileError> {
	Ok(proto::tensor_proto_from_bytes(&read(path.as_ref())?)?)
}

/// Parses a serialized ONNX `TensorProto`.
pub fn parse_tensor_pb(bytes: &[u8]) -> Result<(String, Tensor), TensorFileError> {
	Ok(proto::tensor_proto_from_bytes(bytes)?)
}

/// Writes a `.npy` file (version 1.0, C order, little-endian).
pub fn write_npy(path: impl AsRef<Path>, t: &Tensor) -> Result<(), TensorFileError> {
	let path = path.as_ref();
	std::fs::write(path, encode_npy(t)).map_err(|error| TensorFileError::Io {
		path: path.display().to_string(),
		error,
	})
}

fn descr(dtype: DType) -> &'static str {
	match dtype {
		DType::F32 => "<f4",
		DType::I64 => "<i8",
		DType::I32 => "<i4",
		DType::I8 => "|i1",
		DType::U8 => "|u1",
		DType::Bool => "|b1",
	}
}

/// Encodes a tensor as `.npy` bytes (version 1.0, C order, little-endian).
pub fn encode_npy(t: &Tensor) -> Vec<u8> {
	let shape = match t.shape() {
		[] => "()".to_string(),
		[d] => format!("({d},)"),
		s => format!(
			"({})",
			s.iter()
				.map(|d| d.to_string())
				.collect::<Vec<_>>()
				.join(", ")
		),
	};
	let mut header = format!(
		"{{'descr': '{}', 'fortran_order': False, 'shape': {shape}, }}",
		descr(t.dtype())
	);
	// Magic (6) + version (2) + length (2) + header + '\n' is padded to a multiple of 64.
	let unpadded = 10 + header.len() + 1;
	header.push_str(&" ".repeat((64 - unpadded % 64) % 64));
	header.push('\n');
	let mut out = Vec::with_capacity(10 + header.len() + t.byte_size());
	out.extend_from_slice(MAGIC);
	out.extend_from_slice(&[1, 0]);
	out.extend_from_slice(&(header.len() as u16).to_le_bytes());
	out.extend_from_slice(header.as_bytes());
	out.extend_from_slice(&t.to_le_bytes());
	out
}

/// Parses `.npy` bytes.
pub fn parse_npy(bytes: &[u8]) -> Result<Tensor, TensorFileError> {
	if bytes.len() < 10 || &bytes[..6] != MAGIC {
		return Err(npy_err("not an .npy file (bad magic)"));
	}
	let (major, minor) = (bytes[6], bytes[7]);
	let (header_len, start): (usize, usize) = match major {
		1 => (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10),
		2 | 3 => {
			if bytes.len() < 12 {
				return Err(npy_err("truncated header"));
			}
			(
				u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize,
				12,
			)
		}
		_ => {
			return Err(npy_err(format!(
				"unsupported format version {major}.{minor}"
			)))
		}
	};
	let end = start.checked_add(header_len).filter(|&e| e <= bytes.len());
	let end = end.ok_or_else(|| npy_err("truncated header"))?;
	let header =
		std::str::from_utf8(&bytes[start..end]).map_err(|_| npy_err("header is not valid text"))?;
	let h = parse_header(header)?;
	let dtype = match h.descr.as_str() {
		"<f4" => DType::F32,
		"<i8" => DType::I64,
		"<i4" => DType::I32,
		"|i1" | "<i1" | ">i1" | "i1" => DType::I8,
		"|u1" | "<u1" | ">u1" | "u1" => DType::U8,
		"|b1" | "<b1" | ">b1" | "b1" | "?" => DType::Bool,
		d => return Err(npy_err(format!("unsupported dtype {d:?}"))),
	};
	if h.shape.len() > MAX_RANK {
		return Err(npy_err(format!("rank {} is too large", h.shape.len())));
	}
	let data = &bytes[end..];
	if h.fortran_order && h.shape.len() > 1 {
		// Column-major data is the row-major data of the reversed shape; transpose it back.
		let rev: Vec<usize> = h.shape.iter().rev().copied().collect();
		let t = Tensor::from_le_bytes(dtype, &rev, data).map_err(TensorFileError::Tensor)?;
		return reverse_axes(&t).map_err(TensorFileError::Tensor);
	}
	Tensor::from_le_bytes(dtype, &h.shape, data).map_err(TensorFileError::Tensor)
}

/// Transposes with the permutation `[r-1, …, 0]`.
fn reverse_axes(t: &Tensor) -> Result<Tensor, verity_engine::tensor::TensorError> {
	let in_shape = t.shape();
	let r = in_shape.len();
	let out_shape: Vec<usize> = in_shape.iter().rev().copied().collect();
	let mut in_strides = vec![1usize; r];
	for i in (0..r.saturating_sub(1)).rev() {
		in_strides[i] = in_strides[i + 1] * in_shape[i + 1];
	}
	// Output axis i is input axis r-1-i.
	let src_strides: Vec<usize> = (0..r).map(|i| in_strides[r - 1 - i]).collect();
	let n = t.len();
	let mut order = Vec::with_capacity(n);
	let mut idx = vec![0usize; r];
	for _ in 0..n {
		order.push(
			idx.iter()
				.zip(&src_strides)
				.map(|(i, s)| i * s)
				.sum::<usize>(),
		);
		for d in (0..r).rev() {
			idx[d] += 1;
			if idx[d] < out_shape[d] {
				break;
			}
			idx[d] = 0;
		}
	}
	fn pick<T: Copy>(v: &[T], order: &[usize]) -> Vec<T> {
		order.iter().map(|&i| v[i]).collect()
	}
	let data = match t.data() {
		TensorData::F32(v) => TensorData::F32(pick(v, &order)),
		TensorData::I64(v) => TensorData::I64(pick(v, &order)),
		TensorData::I32(v) => TensorData::I32(pick(v, &order)),
		TensorData::I8(v) => TensorData::I8(pick(v, &order)),
		TensorData::U8(v) => TensorData::U8(pick(v, &order)),
		TensorData::Bool(v) => TensorData::Bool(pick(v, &order)),
	};
	Tensor::new(out_shape, data)
}

struct Header {
	descr: String,
	fortran_order: bool,
	shape: Vec<usize>,
}

/// Parses the Python dict literal of the header: `{'descr': '<f4', 'fortran_order': False,
/// 'shape': (2, 3), }` (keys in any order).
fn parse_header(h: &str) -> Result<Header, TensorFileError> {
	let body = h
		.trim()
		.strip_prefix('{')
		.and_then(|s| s.trim_end().strip_suffix('}'));
	let body = body.ok_or_else(|| npy_err("header is not a dict"))?;
	let (mut descr, mut fortran, mut shape) = (None, None, None);
	let mut rest = body.trim();
	while !rest.is_empty() {
		let (key, after) = quoted(rest).ok_or_else(|| npy_err("expected a quoted key"))?;
		let after = after
			.trim_start()
			.strip_prefix(':')
			.ok_or_else(|| npy_err("expected ':'"))?;
		let after = after.trim_start();
		let after = match key {
			"descr" => {
				let (v, a) = quoted(after).ok_or_else(|| npy_err("descr must be a string"))?;
				descr = Some(v.to_string());
				a
			}
			"fortran_order" => {
				if let Some(a) = after.strip_prefix("False") {
					fortran = Some(false);
					a
				} else if let Some(a) = after.strip_prefix("True") {
					fortran = Some(true);
					a
				} else {
					return Err(npy_err("fortran_order must be True or False"));
				}
			}
			"shape" => {
				let a = after
					.strip_prefix('(')
					.ok_or_else(|| npy_err("shape must be a tuple"))?;
				let close = a.find(')').ok_or_else(|| npy_err("unterminated shape"))?;
				let dims = a[..close]
					.split(',')
					.map(str::trim)
					.filter(|s| !s.is_empty())
					.map(|s| {
						// Python 2 era files may write `3L`.
						s.trim_end_matches('L')
							.parse::<usize>()
							.map_err(|_| npy_err(format!("bad dimension {s:?}")))
					})
					.collect::<Result<Vec<_>, _>>()?;
				shape = Some(dims);
				&a[close + 1..]
			}
			k => return Err(npy_err(format!("unexpected header key {k:?}"))),
		};
		let after = after.trim_start();
		rest = after.strip_prefix(',').unwrap_or(after).trim_start();
	}
	Ok(Header {
		descr: descr.ok_or_else(|| npy_err("header has no descr"))?,
		fortran_order: fortran.ok_or_else(|| npy_err("header has no fortran_order"))?,
		shape: shape.ok_or_else(|| npy_err("header has no shape"))?,
	})
}

/// A single- or double-quoted string at the start of `s`, and what follows it.
fn quoted(s: &str) -> Option<(&str, &str)> {
	let q = s.chars().next().filter(|&c| c == '\'' || c == '"')?;
	let inner = &s[1..];
	let end = inner.find(q)?;
	Some((&inner[..end], &inner[end + 1..]))
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn npy_roundtrip_all_dtypes() {
		let ts = [
			Tensor::from_f32(&[2, 3], vec![1.0, -2.5, 0.0, f32::INFINITY, 1e-30, -0.0]).unwrap(),
			Tensor::from_i64(&[3], vec![i64::MIN, 0, i64::MAX]).unwrap(),
			Tensor::from_i32(&[], vec![-7]).unwrap(),
			Tensor::from_i8(&[1, 2, 1], vec![-128, 127]).unwrap(),
			Tensor::from_u8(&[0, 4], vec![]).unwrap(),
			Tensor::from_bool(&[2], vec![true, false]).unwrap(),
		];
		for t in ts {
			let bytes = encode_npy(&t);
			assert_eq!((bytes.len() - t.byte_size()) % 64, 0);
			let back = parse_npy(&bytes).unwrap();
			assert!(back.bit_eq(&t), "{t:?} vs {back:?}");
			assert_eq!(back.shape(), t.shape());
		}
	}

	#[test]
	fn npy_fortran_order_is_transposed() {
		// numpy.asfortranarray(numpy.arange(6, dtype='<i4').reshape(2, 3)) stores 0 3 1 4 2 5.
		let mut bytes = MAGIC.to_vec();
		let header = "{'descr': '<i4', 'fortran_order': True, 'shape': (2, 3), }\n";
		bytes.extend_from_slice(&[1, 0]);
		bytes.extend_from_slice(&(header.len() as u16).to_le_bytes());
		bytes.extend_from_slice(header.as_bytes());
		for v in [0i32, 3, 1, 4, 2, 5] {
			bytes.extend_from_slice(&v.to_le_bytes());
		}
		let t = parse_npy(&bytes).unwrap();
		assert_eq!(t.shape(), &[2, 3]);
		assert_eq!(t.as_i32().unwrap(), &[0, 1, 2, 3, 4, 5]);
	}

	#[test]
	fn npy_rejects_garbage() {
		assert!(parse_npy(b"").is_err());
		assert!(parse_npy(b"\x93NUMPY\x01\x00\xff\xff{").is_err());
		let mut t = encode_npy(&Tensor::from_f32(&[4], vec![0.0; 4]).unwrap());
		t.truncate(t.len() - 1);
		assert!(parse_npy(&t).is_err());
		let big = encode_npy(&Tensor::from_f32(&[1], vec![0.0]).unwrap());
		let s = String::from_utf8_lossy(&big).replace("'<f4'", "'<f8'");
		assert!(parse_npy(s.as_bytes()).is_err());
	}
}
