//! tract as a reference runner: the oracle of the differential tests and the baseline of the
//! benchmarks. Results are tract's (CPU-dependent kernels), never canonical.

use std::{
	collections::HashMap,
	panic::{catch_unwind, AssertUnwindSafe},
	sync::Arc,
};

use tract_onnx::{
	prelude::{
		tract_ndarray, DatumType, Framework, InferenceFact, InferenceModel, InferenceModelExt,
		IntoRunnable, IntoTValue, Symbol, TDim, TValue, Tensor as TTensor, TypedRunnableModel,
	},
	tract_hir::infer::{GenericFactoid, ShapeFactoid},
};
use verity_engine::{DType, Tensor, TensorData, TensorType};

use crate::error::{panic_message, TractError};

/// An ONNX model loaded into tract with concrete input types and optimised into a runnable,
/// single-threaded plan.
pub struct TractModel {
	plan: Arc<TypedRunnableModel>,
	inputs: usize,
}

fn tract_err(e: impl std::fmt::Display) -> TractError {
	// `{:#}` renders anyhow's context chain on one line.
	TractError::Tract(format!("{e:#}"))
}

fn datum_type(d: DType) -> DatumType {
	match d {
		DType::F32 => DatumType::F32,
		DType::I64 => DatumType::I64,
		DType::I32 => DatumType::I32,
		DType::I8 => DatumType::I8,
		DType::U8 => DatumType::U8,
		DType::Bool => DatumType::Bool,
	}
}

fn guarded<T>(f: impl FnOnce() -> Result<T, TractError>) -> Result<T, TractError> {
	catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|p| Err(TractError::Panic(panic_message(p))))
}

impl TractModel {
	/// Loads `onnx` with the given input types (in graph-input order, initializers excluded)
	/// and optimises it.
	///
	/// The concrete input types override every symbolic dimension of the model: each symbol an
	/// input declares (e.g. a batch dimension `N`) is replaced by the given size throughout the
	/// model's declared facts (value infos and outputs too), and declared dimensions that are
	/// still symbolic after that (symbols the inputs do not bind) are forgotten, to be
	/// recomputed by tract's analysis from the concrete inputs.
	pub fn new(onnx: &[u8], input_types: &[TensorType]) -> Result<TractModel, TractError> {
		guarded(|| {
			let mut model = tract_onnx::onnx()
				.model_for_read(&mut &onnx[..])
				.map_err(tract_err)?;
			let n = model.input_outlets().map_err(tract_err)?.len();
			if n != input_types.len() {
				return Err(TractError::InputCount {
					expected: n,
					got: input_types.len(),
				});
			}
			fix_symbols(&mut model, input_types)?;
			for (i, t) in input_types.iter().enumerate() {
				let shape: Vec<usize> = t.shape.iter().map(|&d| d as usize).collect();
				let fact = InferenceFact::dt_shape(datum_type(t.dtype), shape);
				model.set_input_fact(i, fact).map_err(tract_err)?;
			}
			let typed = model.into_optimized().map_err(tract_err)?;
			let plan = typed.into_runnable().map_err(tract_err)?;
			Ok(TractModel { plan, inputs: n })
		})
	}

	/// Runs the model.
	pub fn run(&self, inputs: &[Tensor]) -> Result<Vec<Tensor>, TractError> {
		if inputs.len() != self.inputs {
			return Err(TractError::InputCount {
				expected: self.inputs,
				got: inputs.len(),
			});
		}
		guarded(|| {
			let tv = inputs
				.iter()
				.map(to_tract)
				.collect::<Result<Vec<TValue>, _>>()?;
			let outs = self.plan.run(tv.into()).map_err(tract_err)?;
			outs.iter().map(|t| from_tract(t)).collect()
		})
	}
}

/// Makes the model's declared facts agree with concrete inputs (see [`TractModel::new`]):
/// binds the symbols of the declared input shapes to the given sizes everywhere, then drops the
/// declared dimensions that remain symbolic.
fn fix_symbols(model: &mut InferenceModel, input_types: &[TensorType]) -> Result<(), TractError> {
	let mut subs: HashMap<Symbol, TDim> = HashMap::new();
	for (i, t) in input_types.iter().enumerate() {
		let declared = model.input_fact(i).map_err(tract_err)?;
		for (d, &given) in declared.shape.dims().zip(&t.shape) {
			let GenericFactoid::Only(TDim::Sym(sym)) = d else {
				continue;
			};
			let given = TDim::Val(i64::try_from(given).map_err(tract_err)?);
			match subs.get(sym) {
				Some(bound) if *bound != given => {
					return Err(TractError::Tract(format!(
						"symbolic dimension {sym} is given as both {bound} and {given}"
					)))
				}
				_ => {
					subs.insert(sym.clone(), given);
				}
			}
		}
	}
	model.set_symbols(&subs).map_err(tract_err)?;
	fn symbolic(d: &GenericFactoid<TDim>) -> bool {
		matches!(d, GenericFactoid::Only(d) if d.as_i64().is_none())
	}
	for node in model.nodes_mut() {
		for outlet in node.outputs.iter_mut() {
			let shape = &outlet.fact.shape;
			if !shape.dims().any(symbolic) {
				continue;
			}
			let dims = shape
				.dims()
				.map(|d| {
					if symbolic(d) {
						GenericFactoid::Any
					} else {
						d.clone()
					}
				})
				.collect();
			outlet.fact.shape = if shape.is_open() {
				ShapeFactoid::open(dims)
			} else {
				ShapeFactoid::closed(dims)
			};
		}
	}
	Ok(())
}

/// Loads, optimises and runs `onnx` once on `inputs` (whose types fix the input shapes).
pub fn run_tract(onnx: &[u8], inputs: &[Tensor]) -> Result<Vec<Tensor>, TractError> {
	let types: Vec<TensorType> = inputs.iter().map(Tensor::tensor_type).collect();
	TractModel::new(onnx, &types)?.run(inputs)
}

/// Converts an engine tensor to a tract value.
fn to_tract(t: &Tensor) -> Result<TValue, TractError> {
	let s = t.shape();
	let r = match t.data() {
		TensorData::F32(v) => TTensor::from_shape(s, v),
		TensorData::I64(v) => TTensor::from_shape(s, v),
		TensorData::I32(v) => TTensor::from_shape(s, v),
		TensorData::I8(v) => TTensor::from_shape(s, v),
		TensorData::U8(v) => TTensor::from_shape(s, v),
		TensorData::Bool(v) => TTensor::from_shape(s, v),
	};
	Ok(r.map_err(tract_err)?.into_tvalue())
}

/// Converts a tract tensor to an engine tensor (engine element types only).
fn from_tract(t: &TTensor) -> Result<Tensor, TractError> {
	fn collect<T: tract_onnx::prelude::Datum + Copy>(t: &TTensor) -> Result<Vec<T>, TractError> {
		let view: tract_ndarray::ArrayViewD<'_, T> =
			t.to_plain_array_view::<T>().map_err(tract_err)?;
		Ok(view.iter().copied().collect())
	}
	let shape = t.shape().to_vec();
	let data = match t.datum_type() {
		DatumType::F32 => TensorData::F32(collect(t)?),
		DatumType::I64 => TensorData::I64(collect(t)?),
		DatumType::I32 => TensorData::I32(collect(t)?),
		DatumType::I8 => TensorData::I8(collect(t)?),
		DatumType::U8 => TensorData::U8(collect(t)?),
		DatumType::Bool => TensorData::Bool(collect(t)?),
		// Quantized types carry their zero point and scale in the type; the values are plain.
		// Shape computations come out as symbolic dimensions.
		DatumType::TDim => {
			let c = t.cast_to_dt(DatumType::I64).map_err(tract_err)?;
			TensorData::I64(collect(&c)?)
		}
		dt if dt.unquantized() == DatumType::I8 => {
			let c = t.cast_to_dt(DatumType::I8).map_err(tract_err)?;
			TensorData::I8(collect(&c)?)
		}
		dt if dt.unquantized() == DatumType::U8 => {
			let c = t.cast_to_dt(DatumType::U8).map_err(tract_err)?;
			TensorData::U8(collect(&c)?)
		}
		dt => return Err(TractError::UnsupportedDType(format!("{dt:?}"))),
	};
	Tensor::new(shape, data).map_err(tract_err)
}
