//! Tensors: element types, typed storage, and their canonical SCALE encoding.
//!
//! A [`Tensor`] is a dense, row-major (C order) array with a concrete shape. Its storage is typed
//! ([`TensorData`]) so kernels work on `&[f32]`, `&[i64]`, … directly. The invariant
//! `data.len() == product(shape)` (and the element cap [`MAX_ELEMENTS`]) holds for every value
//! of the type: constructors and the decoder check it, and the fields are private.
//!
//! SCALE encoding (what [`TypeInfo`] describes): `{ dtype: DType, shape: Vec<u64>, data: Vec<u8> }`
//! where `data` is the little-endian bytes of the elements (`Bool` as one byte, 0 or 1). Decoding
//! treats bytes as untrusted: the rank, every dimension, the element count and the byte length
//! are checked before anything is allocated.

use alloc::{vec, vec::Vec};
use codec::{Compact, Decode, DecodeWithMemTracking, Encode, Input, MaxEncodedLen, Output};
use core::fmt;
use scale_info::TypeInfo;

use crate::linalg::canonicalize;

/// Largest number of elements any tensor (input, weight or intermediate) may have: 2^28.
///
/// Keeps every byte size below 2^31 (so it fits a `u32`/`usize` on wasm32) and bounds the memory
/// a single decoded value can claim.
pub const MAX_ELEMENTS: usize = 1 << 28;

/// Largest rank a tensor may have.
pub const MAX_RANK: usize = 16;

/// Element type of a tensor. The SCALE index (and [`DType::code`]) is the stable on-chain byte.
#[derive(
	Clone,
	Copy,
	Debug,
	PartialEq,
	Eq,
	PartialOrd,
	Ord,
	Hash,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
)]
pub enum DType {
	/// IEEE-754 binary32.
	#[codec(index = 0)]
	F32,
	/// Two's complement 64-bit integer.
	#[codec(index = 1)]
	I64,
	/// Two's complement 32-bit integer.
	#[codec(index = 2)]
	I32,
	/// Two's complement 8-bit integer.
	#[codec(index = 3)]
	I8,
	/// Unsigned 8-bit integer.
	#[codec(index = 4)]
	U8,
	/// Boolean, stored and hashed as one byte (0 or 1).
	#[codec(index = 5)]
	Bool,
}

impl DType {
	/// All element types, in code order.
	pub const ALL: [DType; 6] = [
		DType::F32,
		DType::I64,
		DType::I32,
		DType::I8,
		DType::U8,
		DType::Bool,
	];

	/// Size of one element in bytes.
	pub const fn size(self) -> usize {
		match self {
			DType::F32 | DType::I32 => 4,
			DType::I64 => 8,
			DType::I8 | DType::U8 | DType::Bool => 1,
		}
	}

	/// Stable one-byte code (equal to the SCALE encoding).
	pub const fn code(self) -> u8 {
		match self {
			DType::F32 => 0,
			DType::I64 => 1,
			DType::I32 => 2,
			DType::I8 => 3,
			DType::U8 => 4,
			DType::Bool => 5,
		}
	}

	/// Inverse of [`DType::code`].
	pub const fn from_code(code: u8) -> Option<DType> {
		match code {
			0 => Some(DType::F32),
			1 => Some(DType::I64),
			2 => Some(DType::I32),
			3 => Some(DType::I8),
			4 => Some(DType::U8),
			5 => Some(DType::Bool),
			_ => None,
		}
	}

	/// ONNX-style lowercase name.
	pub const fn name(self) -> &'static str {
		match self {
			DType::F32 => "float32",
			DType::I64 => "int64",
			DType::I32 => "int32",
			DType::I8 => "int8",
			DType::U8 => "uint8",
			DType::Bool => "bool",
		}
	}

	/// Whether this is an integer type (signed or unsigned; not `Bool`).
	pub const fn is_int(self) -> bool {
		matches!(self, DType::I64 | DType::I32 | DType::I8 | DType::U8)
	}

	/// Whether this is a numeric type (float or integer; not `Bool`).
	pub const fn is_numeric(self) -> bool {
		!matches!(self, DType::Bool)
	}
}

impl fmt::Display for DType {
	fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
		f.write_str(self.name())
	}
}

/// Failure to build or decode a tensor.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TensorError {
	/// The rank exceeds [`MAX_RANK`].
	RankTooLarge {
		/// Rank that was asked for.
		rank: usize,
	},
	/// A dimension does not fit the platform's `usize`.
	DimTooLarge {
		/// The dimension.
		dim: u64,
	},
	/// The product of the non-zero dimensions exceeds [`MAX_ELEMENTS`].
	TooManyElements,
	/// The data length does not match the shape.
	LengthMismatch {
		/// Elements (or bytes, for byte input) the shape requires.
		expected: usize,
		/// Elements (or bytes) supplied.
		got: usize,
	},
	/// A `Bool` byte was neither 0 nor 1.
	InvalidBool {
		/// The offending byte.
		byte: u8,
	},
	/// The tensor has a different element type than the accessor expected.
	WrongDType {
		/// Type expected.
		expected: DType,
		/// Type found.
		got: DType,
	},
}

impl fmt::Display for TensorError {
	fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
		match self {
			TensorError::RankTooLarge { rank } => {
				write!(f, "tensor rank {rank} exceeds the maximum of {MAX_RANK}")
			}
			TensorError::DimTooLarge { dim } => write!(f, "tensor dimension {dim} is too large"),
			TensorError::TooManyElements => {
				write!(
					f,
					"tensor dimensions multiply to more than {MAX_ELEMENTS} elements"
				)
			}
			TensorError::LengthMismatch { expected, got } => {
				write!(f, "tensor data has length {got}, shape requires {expected}")
			}
			TensorError::InvalidBool { byte } => write!(f, "invalid bool byte {byte}"),
			TensorError::WrongDType { expected, got } => {
				write!(f, "expected a {expected} tensor, got {got}")
			}
		}
	}
}

#[cfg(feature = "std")]
impl std::error::Error for TensorError {}

/// Number of elements of `shape`, or `None` if the product of its non-zero dimensions exceeds
/// [`MAX_ELEMENTS`]. Even an empty tensor cannot claim absurd dimensions: the product of any of
/// a valid shape's dimensions is at most `MAX_ELEMENTS`, so size arithmetic on shapes is the same
/// on 32-bit targets (wasm) as on 64-bit ones.
pub fn num_elements(shape: &[usize]) -> Option<usize> {
	// At most `MAX_ELEMENTS`, which fits any `usize`.
	element_count(shape.iter().map(|&d| d as u64)).map(|n| n as usize)
}

/// Number of elements of a `u64` shape, or `None` if the product of its non-zero dimensions
/// exceeds [`MAX_ELEMENTS`] (see [`num_elements`]).
pub fn num_elements_u64(shape: &[u64]) -> Option<u64> {
	element_count(shape.iter().copied())
}

fn element_count(dims: impl Iterator<Item = u64>) -> Option<u64> {
	let limit = MAX_ELEMENTS as u64;
	let (mut nonzero, mut empty) = (1u64, false);
	for d in dims {
		if d == 0 {
			empty = true;
		} else if d > limit {
			return None;
		} else {
			// Both factors are at most 2^28: no overflow.
			nonzero *= d;
			if nonzero > limit {
				return None;
			}
		}
	}
	Some(if empty { 0 } else { nonzero })
}

/// Converts a wire shape to a native one, checking rank, each dimension and the element count.
pub fn shape_from_u64(shape: &[u64]) -> Result<Vec<usize>, TensorError> {
	if shape.len() > MAX_RANK {
		return Err(TensorError::RankTooLarge { rank: shape.len() });
	}
	let mut out = Vec::with_capacity(shape.len());
	for &d in shape {
		out.push(usize::try_from(d).map_err(|_| TensorError::DimTooLarge { dim: d })?);
	}
	num_elements(&out).ok_or(TensorError::TooManyElements)?;
	Ok(out)
}

/// Converts a native shape to its wire form.
pub fn shape_to_u64(shape: &[usize]) -> Vec<u64> {
	shape.iter().map(|&d| d as u64).collect()
}

/// Element type and shape of a value: what a program declares for an input or a node output.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub struct TensorType {
	/// Element type.
	pub dtype: DType,
	/// Dimensions, outermost first. Empty for a scalar.
	pub shape: Vec<u64>,
}

impl TensorType {
	/// Builds a type from a native shape.
	pub fn new(dtype: DType, shape: &[usize]) -> Self {
		TensorType {
			dtype,
			shape: shape_to_u64(shape),
		}
	}

	/// Element count, if within [`MAX_ELEMENTS`].
	pub fn num_elements(&self) -> Option<u64> {
		num_elements_u64(&self.shape)
	}

	/// Size of the data in bytes, if the element count is within [`MAX_ELEMENTS`].
	pub fn byte_size(&self) -> Option<u64> {
		self.num_elements().map(|n| n * self.dtype.size() as u64)
	}

	/// Native shape, checked (rank, dimensions, element count).
	pub fn dims(&self) -> Result<Vec<usize>, TensorError> {
		shape_from_u64(&self.shape)
	}

	/// Whether `t` has exactly this type.
	pub fn matches(&self, t: &Tensor) -> bool {
		self.dtype == t.dtype()
			&& self.shape.len() == t.shape().len()
			&& self
				.shape
				.iter()
				.zip(t.shape())
				.all(|(&a, &b)| a == b as u64)
	}
}

impl fmt::Display for TensorType {
	fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
		write!(f, "{}{:?}", self.dtype, self.shape)
	}
}

/// Typed element storage of a tensor.
#[derive(Clone, Debug, PartialEq)]
pub enum TensorData {
	/// `DType::F32` elements.
	F32(Vec<f32>),
	/// `DType::I64` elements.
	I64(Vec<i64>),
	/// `DType::I32` elements.
	I32(Vec<i32>),
	/// `DType::I8` elements.
	I8(Vec<i8>),
	/// `DType::U8` elements.
	U8(Vec<u8>),
	/// `DType::Bool` elements.
	Bool(Vec<bool>),
}

impl TensorData {
	/// Element type of the storage.
	pub fn dtype(&self) -> DType {
		match self {
			TensorData::F32(_) => DType::F32,
			TensorData::I64(_) => DType::I64,
			TensorData::I32(_) => DType::I32,
			TensorData::I8(_) => DType::I8,
			TensorData::U8(_) => DType::U8,
			TensorData::Bool(_) => DType::Bool,
		}
	}

	/// Number of elements.
	pub fn len(&self) -> usize {
		match self {
			TensorData::F32(v) => v.len(),
			TensorData::I64(v) => v.len(),
			TensorData::I32(v) => v.len(),
			TensorData::I8(v) => v.len(),
			TensorData::U8(v) => v.len(),
			TensorData::Bool(v) => v.len(),
		}
	}

	/// Whether there are no elements.
	pub fn is_empty(&self) -> bool {
		self.len() == 0
	}

	/// `n` zero (false) elements of type `dtype`.
	pub fn zeros(dtype: DType, n: usize) -> TensorData {
		match dtype {
			DType::F32 => TensorData::F32(vec![0.0; n]),
			DType::I64 => TensorData::I64(vec![0; n]),
			DType::I32 => TensorData::I32(vec![0; n]),
			DType::I8 => TensorData::I8(vec![0; n]),
			DType::U8 => TensorData::U8(vec![0; n]),
			DType::Bool => TensorData::Bool(vec![false; n]),
		}
	}
}

/// A dense row-major tensor with typed storage. See the module documentation.
#[derive(Clone, Debug, PartialEq)]
pub struct Tensor {
	shape: Vec<usize>,
	data: TensorData,
}

macro_rules! typed_ctor {
	($(#[$doc:meta] $name:ident, $as:ident, $as_mut:ident, $variant:ident, $t:ty, $dt:expr;)*) => {
		$(
			#[$doc]
			pub fn $name(shape: &[usize], data: Vec<$t>) -> Result<Tensor, TensorError> {
				Tensor::new(shape.to_vec(), TensorData::$variant(data))
			}

			/// The elements, if the tensor has this element type.
			pub fn $as(&self) -> Result<&[$t], TensorError> {
				match &self.data {
					TensorData::$variant(v) => Ok(v),
					other => Err(TensorError::WrongDType { expected: $dt, got: other.dtype() }),
				}
			}

			/// The elements, mutably, if the tensor has this element type.
			pub fn $as_mut(&mut self) -> Result<&mut [$t], TensorError> {
				match &mut self.data {
					TensorData::$variant(v) => Ok(v),
					other => Err(TensorError::WrongDType { expected: $dt, got: other.dtype() }),
				}
			}
		)*
	};
}

impl Tensor {
	/// Builds a tensor, checking rank, element count and that `data` has exactly that many
	/// elements.
	pub fn new(shape: Vec<usize>, data: TensorData) -> Result<Tensor, TensorError> {
		if shape.len() > MAX_RANK {
			return Err(TensorError::RankTooLarge { rank: shape.len() });
		}
		let n = num_elements(&shape).ok_or(TensorError::TooManyElements)?;
		if data.len() != n {
			return Err(TensorError::LengthMismatch {
				expected: n,
				got: data.len(),
			});
		}
		Ok(Tensor { shape, data })
	}

	typed_ctor! {
		/// Builds an `F32` tensor.
		from_f32, as_f32, as_f32_mut, F32, f32, DType::F32;
		/// Builds an `I64` tensor.
		from_i64, as_i64, as_i64_mut, I64, i64, DType::I64;
		/// Builds an `I32` tensor.
		from_i32, as_i32, as_i32_mut, I32, i32, DType::I32;
		/// Builds an `I8` tensor.
		from_i8, as_i8, as_i8_mut, I8, i8, DType::I8;
		/// Builds a `U8` tensor.
		from_u8, as_u8, as_u8_mut, U8, u8, DType::U8;
		/// Builds a `Bool` tensor.
		from_bool, as_bool, as_bool_mut, Bool, bool, DType::Bool;
	}

	/// A tensor of zeros (false).
	pub fn zeros(dtype: DType, shape: &[usize]) -> Result<Tensor, TensorError> {
		let n = num_elements(shape).ok_or(TensorError::TooManyElements)?;
		Tensor::new(shape.to_vec(), TensorData::zeros(dtype, n))
	}

	/// A rank-0 `F32` tensor.
	pub fn scalar_f32(v: f32) -> Tensor {
		Tensor {
			shape: Vec::new(),
			data: TensorData::F32(vec![v]),
		}
	}

	/// A rank-0 `I64` tensor.
	pub fn scalar_i64(v: i64) -> Tensor {
		Tensor {
			shape: Vec::new(),
			data: TensorData::I64(vec![v]),
		}
	}

	/// Element type.
	pub fn dtype(&self) -> DType {
		self.data.dtype()
	}

	/// Dimensions, outermost first.
	pub fn shape(&self) -> &[usize] {
		&self.shape
	}

	/// Number of dimensions.
	pub fn rank(&self) -> usize {
		self.shape.len()
	}

	/// Number of elements.
	pub fn len(&self) -> usize {
		self.data.len()
	}

	/// Whether the tensor has no elements (some dimension is 0).
	pub fn is_empty(&self) -> bool {
		self.data.is_empty()
	}

	/// Size of the data in bytes.
	pub fn byte_size(&self) -> usize {
		self.len() * self.dtype().size()
	}

	/// Element type and shape.
	pub fn tensor_type(&self) -> TensorType {
		TensorType::new(self.dtype(), &self.shape)
	}

	/// The typed storage.
	pub fn data(&self) -> &TensorData {
		&self.data
	}

	/// Splits into shape and storage.
	pub fn into_parts(self) -> (Vec<usize>, TensorData) {
		(self.shape, self.data)
	}

	/// Same data, new shape with the same element count.
	pub fn reshape(self, shape: Vec<usize>) -> Result<Tensor, TensorError> {
		Tensor::new(shape, self.data)
	}

	/// Replaces every NaN by the canonical NaN (see [`crate::linalg::CANONICAL_NAN_BITS`]).
	pub fn canonicalize_nans(&mut self) {
		if let TensorData::F32(v) = &mut self.data {
			crate::linalg::canonicalize_slice(v);
		}
	}

	/// Bitwise equality (NaNs compare by canonical bits): what the commitment sees.
	pub fn bit_eq(&self, other: &Tensor) -> bool {
		if self.shape != other.shape {
			return false;
		}
		match (&self.data, &other.data) {
			(TensorData::F32(a), TensorData::F32(b)) => a
				.iter()
				.zip(b)
				.all(|(x, y)| canonicalize(*x).to_bits() == canonicalize(*y).to_bits()),
			(a, b) => a == b,
		}
	}

	/// Little-endian bytes of the elements (the SCALE `data` field), NaNs as stored.
	pub fn to_le_bytes(&self) -> Vec<u8> {
		let mut out = Vec::with_capacity(self.byte_size());
		write_le(&self.data, false, &mut |chunk| out.extend_from_slice(chunk));
		out
	}

	/// Builds a tensor from little-endian element bytes.
	pub fn from_le_bytes(
		dtype: DType,
		shape: &[usize],
		bytes: &[u8],
	) -> Result<Tensor, TensorError> {
		let n = num_elements(shape).ok_or(TensorError::TooManyElements)?;
		let expected = n * dtype.size();
		if bytes.len() != expected {
			return Err(TensorError::LengthMismatch {
				expected,
				got: bytes.len(),
			});
		}
		let data = data_from_le(dtype, bytes)?;
		Tensor::new(shape.to_vec(), data)
	}
}

/// Streams the little-endian bytes of `data` to `sink` in bounded chunks. With `canonical`, NaNs
/// are written as the canonical NaN.
pub(crate) fn write_le(data: &TensorData, canonical: bool, sink: &mut dyn FnMut(&[u8])) {
	const CHUNK: usize = 1024;
	let mut buf = [0u8; CHUNK * 8];
	macro_rules! chunks {
		($v:expr, $size:expr, $conv:expr) => {
			for c in $v.chunks(CHUNK) {
				for (i, x) in c.iter().enumerate() {
					buf[i * $size..(i + 1) * $size].copy_from_slice(&$conv(*x));
				}
				sink(&buf[..c.len() * $size]);
			}
		};
	}
	match data {
		TensorData::F32(v) => {
			if canonical {
				chunks!(v, 4, |x: f32| canonicalize(x).to_le_bytes())
			} else {
				chunks!(v, 4, |x: f32| x.to_le_bytes())
			}
		}
		TensorData::I64(v) => chunks!(v, 8, |x: i64| x.to_le_bytes()),
		TensorData::I32(v) => chunks!(v, 4, |x: i32| x.to_le_bytes()),
		TensorData::I8(v) => chunks!(v, 1, |x: i8| x.to_le_bytes()),
		TensorData::U8(v) => sink(v),
		TensorData::Bool(v) => chunks!(v, 1, |x: bool| [x as u8]),
	}
}

/// Appends the elements encoded in `bytes` (a whole number of elements) to `data`.
fn extend_from_le(data: &mut TensorData, bytes: &[u8]) -> Result<(), TensorError> {
	match data {
		TensorData::F32(v) => v.extend(
			bytes
				.chunks_exact(4)
				.map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])),
		),
		TensorData::I64(v) => v.extend(bytes.chunks_exact(8).map(|c| {
			let mut b = [0u8; 8];
			b.copy_from_slice(c);
			i64::from_le_bytes(b)
		})),
		TensorData::I32(v) => v.extend(
			bytes
				.chunks_exact(4)
				.map(|c| i32::from_le_bytes([c[0], c[1], c[2], c[3]])),
		),
		TensorData::I8(v) => v.extend(bytes.iter().map(|&b| b as i8)),
		TensorData::U8(v) => v.extend_from_slice(bytes),
		TensorData::Bool(v) => {
			for &b in bytes {
				match b {
					0 => v.push(false),
					1 => v.push(true),
					byte => return Err(TensorError::InvalidBool { byte }),
				}
			}
		}
	}
	Ok(())
}

fn empty_data(dtype: DType, capacity: usize) -> TensorData {
	match dtype {
		DType::F32 => TensorData::F32(Vec::with_capacity(capacity)),
		DType::I64 => TensorData::I64(Vec::with_capacity(capacity)),
		DType::I32 => TensorData::I32(Vec::with_capacity(capacity)),
		DType::I8 => TensorData::I8(Vec::with_capacity(capacity)),
		DType::U8 => TensorData::U8(Vec::with_capacity(capacity)),
		DType::Bool => TensorData::Bool(Vec::with_capacity(capacity)),
	}
}

fn data_from_le(dtype: DType, bytes: &[u8]) -> Result<TensorData, TensorError> {
	let mut data = empty_data(dtype, bytes.len() / dtype.size());
	extend_from_le(&mut data, bytes)?;
	Ok(data)
}

impl Encode for Tensor {
	fn size_hint(&self) -> usize {
		1 + 1 + 8 * self.rank() + 5 + self.byte_size()
	}

	fn encode_to<T: Output + ?Sized>(&self, dest: &mut T) {
		self.dtype().encode_to(dest);
		Compact(self.rank() as u32).encode_to(dest);
		for &d in &self.shape {
			(d as u64).encode_to(dest);
		}
		// `byte_size() < 2^31` by the element cap.
		Compact(self.byte_size() as u32).encode_to(dest);
		write_le(&self.data, false, &mut |chunk| dest.write(chunk));
	}
}

impl Decode for Tensor {
	fn decode<I: Input>(input: &mut I) -> Result<Self, codec::Error> {
		let dtype = DType::decode(input)?;
		let rank = Compact::<u32>::decode(input)?.0 as usize;
		if rank > MAX_RANK {
			return Err("tensor rank too large".into());
		}
		let mut dims = [0u64; MAX_RANK];
		for d in dims.iter_mut().take(rank) {
			*d = u64::decode(input)?;
		}
		let shape = shape_from_u64(&dims[..rank]).map_err(|_| "tensor shape too large")?;
		// Cannot overflow: elements ≤ 2^28, element size ≤ 8.
		let n = num_elements(&shape).ok_or("tensor shape too large")?;
		let nbytes = n * dtype.size();
		let len = Compact::<u32>::decode(input)?.0 as usize;
		if len != nbytes {
			return Err("tensor data length does not match its shape".into());
		}
		if let Some(remaining) = input.remaining_len()? {
			if remaining < nbytes {
				return Err("not enough data to fill tensor".into());
			}
		}
		input.on_before_alloc_mem(nbytes)?;
		// Read in bounded chunks so an input of unknown length cannot make us allocate the
		// whole claimed size up front.
		const CHUNK: usize = 64 * 1024;
		let mut data = empty_data(dtype, n.min(CHUNK));
		let mut buf = vec![0u8; nbytes.min(CHUNK)];
		let mut left = nbytes;
		while left > 0 {
			let take = left.min(CHUNK);
			input.read(&mut buf[..take])?;
			extend_from_le(&mut data, &buf[..take]).map_err(|_| "invalid bool in tensor data")?;
			left -= take;
		}
		Ok(Tensor { shape, data })
	}
}

impl DecodeWithMemTracking for Tensor {}

impl TypeInfo for Tensor {
	type Identity = Self;

	fn type_info() -> scale_info::Type {
		scale_info::Type::builder()
			.path(scale_info::Path::new("Tensor", module_path!()))
			.docs(&[
				"A dense row-major tensor: element type, dimensions, little-endian element bytes.",
			])
			.composite(
				scale_info::build::Fields::named()
					.field(|f| f.ty::<DType>().name("dtype").type_name("DType"))
					.field(|f| f.ty::<Vec<u64>>().name("shape").type_name("Vec<u64>"))
					.field(|f| f.ty::<Vec<u8>>().name("data").type_name("Vec<u8>")),
			)
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn roundtrip_all_dtypes() {
		let ts = [
			Tensor::from_f32(&[2, 2], vec![1.0, -0.0, f32::INFINITY, 3.5]).unwrap(),
			Tensor::from_i64(&[3], vec![i64::MIN, 0, i64::MAX]).unwrap(),
			Tensor::from_i32(&[1, 2], vec![-7, 9]).unwrap(),
			Tensor::from_i8(&[2], vec![-128, 127]).unwrap(),
			Tensor::from_u8(&[0, 3], vec![]).unwrap(),
			Tensor::from_bool(&[], vec![true]).unwrap(),
		];
		for t in ts {
			let enc = t.encode();
			let dec = Tensor::decode(&mut &enc[..]).unwrap();
			assert!(dec.bit_eq(&t));
			assert_eq!(dec.shape(), t.shape());
		}
	}

	#[test]
	fn rejects_bad_lengths_and_bools() {
		assert!(Tensor::from_f32(&[2, 2], vec![0.0; 3]).is_err());
		assert!(Tensor::zeros(DType::F32, &[1 << 20, 1 << 20]).is_err());
		let mut enc = Tensor::from_bool(&[2], vec![true, false]).unwrap().encode();
		let last = enc.len() - 1;
		enc[last] = 2;
		assert!(Tensor::decode(&mut &enc[..]).is_err());
	}

	#[test]
	fn huge_claimed_length_is_rejected_cheaply() {
		// dtype f32, rank 2, dims 2^14 x 2^14, data length 2^30 but no data.
		let mut enc = Vec::new();
		DType::F32.encode_to(&mut enc);
		Compact(2u32).encode_to(&mut enc);
		(1u64 << 14).encode_to(&mut enc);
		(1u64 << 14).encode_to(&mut enc);
		Compact(1u32 << 30).encode_to(&mut enc);
		assert!(Tensor::decode(&mut &enc[..]).is_err());
	}
}
