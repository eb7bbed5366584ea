//! The op kinds of the IR, derived from the `TypeInfo` of [`Op`], so that a new variant anywhere
//! in an op's attributes is a new kind without anyone listing it.
//!
//! A *choice* is a place in an op's attributes where a value selects different arithmetic: a
//! field whose type is an enum (`UnaryOp`, `ReduceKind`, `PadMode`, `ResizeMode`, `Activation`,
//! the `DType` of `Cast`…) or a `bool` (`Gemm`'s transposes, `ArgExtremum`'s `max`, `ceil_mode`,
//! `antialias`…), found in the op variant's fields and, recursively, in the structs among them.
//! Lists (pads, axes, shapes) are not choices. A kind is one value of one choice, written
//! `Op.field=Value` (`Reduce.kind=Max`, `Unary=Neg` for an unnamed field,
//! `MaxPool.pool.ceil_mode=true`), or just the variant's name for an op without choices
//! (`MatMul`).
//!
//! The kinds of a node are read back from the SCALE encoding of its `Op`, walked with the same
//! type registry, so both sides of the comparison use one naming.

use std::collections::BTreeSet;

use codec::{Compact, Decode, Encode};
use scale_info::{
	form::PortableForm, Field, MetaType, PortableRegistry, Registry, TypeDef, TypeDefPrimitive,
	TypeDefVariant, Variant,
};
use verity_engine::ir::Op;

/// The registry of `Op` and every type it contains.
pub struct OpTypes {
	registry: PortableRegistry,
	op: u32,
}

impl OpTypes {
	pub fn new() -> Self {
		let mut registry = Registry::new();
		let op = registry.register_type(&MetaType::new::<Op>()).id;
		OpTypes {
			registry: registry.into(),
			op,
		}
	}

	fn def(&self, id: u32) -> &TypeDef<PortableForm> {
		&self
			.registry
			.resolve(id)
			.unwrap_or_else(|| panic!("type {id} is not in the registry"))
			.type_def
	}

	/// Every kind of the IR.
	pub fn all(&self) -> BTreeSet<String> {
		let TypeDef::Variant(op) = self.def(self.op) else {
			panic!("`Op` is not an enum");
		};
		let mut all = BTreeSet::new();
		for variant in &op.variants {
			let mut kinds = Vec::new();
			self.field_choices(&variant.fields, &variant.name, &mut kinds);
			if kinds.is_empty() {
				kinds.push(variant.name.clone());
			}
			all.extend(kinds);
		}
		all
	}

	fn field_choices(&self, fields: &[Field<PortableForm>], path: &str, out: &mut Vec<String>) {
		for f in fields {
			self.choices(f.ty.id, &field_path(path, f), out);
		}
	}

	/// Every value of every choice inside a value of type `id` found at `path`.
	fn choices(&self, id: u32, path: &str, out: &mut Vec<String>) {
		match self.def(id) {
			TypeDef::Variant(v) => {
				for variant in &v.variants {
					let at = format!("{path}={}", variant.name);
					out.push(at.clone());
					self.field_choices(&variant.fields, &at, out);
				}
			}
			TypeDef::Primitive(TypeDefPrimitive::Bool) => {
				out.push(format!("{path}=false"));
				out.push(format!("{path}=true"));
			}
			TypeDef::Composite(c) => self.field_choices(&c.fields, path, out),
			_ => {}
		}
	}

	/// The kinds `op` is an instance of: one per choice in its attributes, or its name.
	pub fn of(&self, op: &Op) -> Vec<String> {
		let TypeDef::Variant(v) = self.def(self.op) else {
			panic!("`Op` is not an enum");
		};
		let bytes = op.encode();
		let mut input = &bytes[..];
		let variant = variant_at(v, take(&mut input, 1)[0], "Op");
		let mut kinds = Vec::new();
		self.walk_fields(&variant.fields, &variant.name, &mut input, Some(&mut kinds));
		assert!(
			input.is_empty(),
			"{}: the TypeInfo of Op does not describe its encoding",
			op.name()
		);
		if kinds.is_empty() {
			kinds.push(variant.name.clone());
		}
		kinds
	}

	/// Decodes a value of type `id` from `input`, recording the choices it makes (when `out` is
	/// given: not inside lists, whose elements are data, not attributes).
	fn walk(&self, id: u32, path: &str, input: &mut &[u8], mut out: Option<&mut Vec<String>>) {
		match self.def(id) {
			TypeDef::Composite(c) => self.walk_fields(&c.fields, path, input, out),
			TypeDef::Variant(v) => {
				let variant = variant_at(v, take(input, 1)[0], path);
				let at = format!("{path}={}", variant.name);
				if let Some(out) = out.as_deref_mut() {
					out.push(at.clone());
				}
				self.walk_fields(&variant.fields, &at, input, out);
			}
			TypeDef::Primitive(TypeDefPrimitive::Bool) => {
				let value = take(input, 1)[0] != 0;
				if let Some(out) = out {
					out.push(format!("{path}={value}"));
				}
			}
			TypeDef::Primitive(p) => {
				let width = match p {
					TypeDefPrimitive::U8 | TypeDefPrimitive::I8 => 1,
					TypeDefPrimitive::U16 | TypeDefPrimitive::I16 => 2,
					TypeDefPrimitive::U32 | TypeDefPrimitive::I32 | TypeDefPrimitive::Char => 4,
					TypeDefPrimitive::U64 | TypeDefPrimitive::I64 => 8,
					TypeDefPrimitive::U128 | TypeDefPrimitive::I128 => 16,
					TypeDefPrimitive::U256 | TypeDefPrimitive::I256 => 32,
					TypeDefPrimitive::Str => compact_len(input),
					TypeDefPrimitive::Bool => unreachable!(),
				};
				take(input, width);
			}
			TypeDef::Sequence(s) => {
				for _ in 0..compact_len(input) {
					self.walk(s.type_param.id, path, input, None);
				}
			}
			TypeDef::Array(a) => {
				for _ in 0..a.len {
					self.walk(a.type_param.id, path, input, None);
				}
			}
			TypeDef::Tuple(t) => {
				for ty in &t.fields {
					self.walk(ty.id, path, input, None);
				}
			}
			TypeDef::Compact(_) => {
				Compact::<u128>::decode(input).expect("compact integer");
			}
			TypeDef::BitSequence(_) => panic!("{path}: bit sequences are not part of the IR"),
		}
	}

	fn walk_fields(
		&self,
		fields: &[Field<PortableForm>],
		path: &str,
		input: &mut &[u8],
		mut out: Option<&mut Vec<String>>,
	) {
		for f in fields {
			self.walk(f.ty.id, &field_path(path, f), input, out.as_deref_mut());
		}
	}
}

fn variant_at<'a>(
	v: &'a TypeDefVariant<PortableForm>,
	index: u8,
	path: &str,
) -> &'a Variant<PortableForm> {
	v.variants
		.iter()
		.find(|w| w.index == index)
		.unwrap_or_else(|| panic!("{path}: no variant with index {index}"))
}

/// `path.name` for a named field, `path` for an unnamed one.
fn field_path(path: &str, f: &Field<PortableForm>) -> String {
	match &f.name {
		Some(name) => format!("{path}.{name}"),
		None => path.to_string(),
	}
}

fn take<'a>(input: &mut &'a [u8], n: usize) -> &'a [u8] {
	assert!(input.len() >= n, "encoding ends early");
	let (head, tail) = input.split_at(n);
	*input = tail;
	head
}

fn compact_len(input: &mut &[u8]) -> usize {
	Compact::<u32>::decode(input).expect("compact length").0 as usize
}
