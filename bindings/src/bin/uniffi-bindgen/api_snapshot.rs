//! The exported API, one line per item, from the metadata UniFFI embeds in the library.

use uniffi_meta::{
    DefaultValueMetadata, EnumShape, FieldMetadata, FnParamMetadata, LiteralMetadata, Metadata,
    ObjectImpl, Type,
};

/// Every exported item of the library at `library`, sorted.
pub fn snapshot(library: &str) -> anyhow::Result<String> {
    let metadata = uniffi_bindgen::macro_metadata::extract_from_library(library.into())?;
    let mut lines: Vec<String> = metadata.iter().flat_map(describe).collect();
    lines.sort();
    lines.dedup();
    let mut out = String::from(
        "# The exported API of inkseal-bindings (scripts/bindings.sh bless-api rewrites it).\n",
    );
    for line in lines {
        out.push_str(&line);
        out.push('\n');
    }
    Ok(out)
}

fn describe(item: &Metadata) -> Vec<String> {
    match item {
        Metadata::Func(f) => vec![format!(
            "fn {}{}({}){}",
            asyncness(f.is_async),
            f.name,
            params(&f.inputs),
            outcome(&f.return_type, &f.throws)
        )],
        Metadata::Object(o) => {
            let kind = match o.imp {
                ObjectImpl::Struct => "object".to_owned(),
                ObjectImpl::Trait(kind) => format!("trait ({kind:?})").to_lowercase(),
            };
            vec![format!("{kind} {}", o.name)]
        }
        Metadata::CallbackInterface(c) => vec![format!("callback interface {}", c.name)],
        Metadata::Constructor(c) => vec![format!(
            "{}::{}constructor {}({}){}",
            c.self_name,
            asyncness(c.is_async),
            c.name,
            params(&c.inputs),
            outcome(&None, &c.throws)
        )],
        Metadata::Method(m) => vec![format!(
            "{}::{}method {}({}){}",
            m.self_name,
            asyncness(m.is_async),
            m.name,
            params(&m.inputs),
            outcome(&m.return_type, &m.throws)
        )],
        Metadata::TraitMethod(m) => vec![format!(
            "{}::{}trait method {}({}){}",
            m.trait_name,
            asyncness(m.is_async),
            m.name,
            params(&m.inputs),
            outcome(&m.return_type, &m.throws)
        )],
        Metadata::Record(r) => vec![format!("record {} {{ {} }}", r.name, fields(&r.fields))],
        Metadata::Enum(e) => {
            let kind = match e.shape {
                EnumShape::Enum => "enum",
                EnumShape::Error { flat: false } => "error",
                EnumShape::Error { flat: true } => "flat error",
            };
            let exhaustive = if e.non_exhaustive {
                " (non-exhaustive)"
            } else {
                ""
            };
            let mut lines = vec![format!("{kind} {}{exhaustive}", e.name)];
            lines.extend(e.variants.iter().map(|v| {
                if v.fields.is_empty() {
                    format!("{}::{}", e.name, v.name)
                } else {
                    format!("{}::{} {{ {} }}", e.name, v.name, fields(&v.fields))
                }
            }));
            lines
        }
        Metadata::CustomType(c) => vec![format!("custom type {} = {}", c.name, ty(&c.builtin))],
        Metadata::UniffiTrait(t) => vec![format!("trait impl {t:?}")],
        Metadata::ObjectTraitImpl(t) => {
            vec![format!("{} implements {}", ty(&t.ty), ty(&t.trait_ty))]
        }
        Metadata::Namespace(_) | Metadata::UdlFile(_) => Vec::new(),
    }
}

fn asyncness(is_async: bool) -> &'static str {
    if is_async { "async " } else { "" }
}

fn params(inputs: &[FnParamMetadata]) -> String {
    inputs
        .iter()
        .map(|p| format!("{}: {}{}", p.name, ty(&p.ty), default(&p.default)))
        .collect::<Vec<_>>()
        .join(", ")
}

fn fields(fields: &[FieldMetadata]) -> String {
    fields
        .iter()
        .map(|f| format!("{}: {}{}", f.name, ty(&f.ty), default(&f.default)))
        .collect::<Vec<_>>()
        .join(", ")
}

fn outcome(returns: &Option<Type>, throws: &Option<Type>) -> String {
    let mut out = String::new();
    if let Some(r) = returns {
        out.push_str(&format!(" -> {}", ty(r)));
    }
    if let Some(e) = throws {
        out.push_str(&format!(" throws {}", ty(e)));
    }
    out
}

fn default(d: &Option<DefaultValueMetadata>) -> String {
    match d {
        None => String::new(),
        Some(DefaultValueMetadata::Default) => " = default".into(),
        Some(DefaultValueMetadata::Literal(l)) => format!(" = {}", literal(l)),
    }
}

fn literal(l: &LiteralMetadata) -> String {
    match l {
        LiteralMetadata::Boolean(b) => b.to_string(),
        LiteralMetadata::String(s) => format!("{s:?}"),
        LiteralMetadata::UInt(v, _, _) => v.to_string(),
        LiteralMetadata::Int(v, _, _) => v.to_string(),
        LiteralMetadata::Float(v, _) => v.clone(),
        LiteralMetadata::Enum(v, t) => format!("{}::{v}", ty(t)),
        LiteralMetadata::EmptySequence => "[]".into(),
        other => format!("{other:?}"),
    }
}

fn ty(t: &Type) -> String {
    match t {
        Type::UInt8 => "u8".into(),
        Type::Int8 => "i8".into(),
        Type::UInt16 => "u16".into(),
        Type::Int16 => "i16".into(),
        Type::UInt32 => "u32".into(),
        Type::Int32 => "i32".into(),
        Type::UInt64 => "u64".into(),
        Type::Int64 => "i64".into(),
        Type::Float32 => "f32".into(),
        Type::Float64 => "f64".into(),
        Type::Boolean => "bool".into(),
        Type::String => "string".into(),
        Type::Bytes => "bytes".into(),
        Type::Timestamp => "timestamp".into(),
        Type::Duration => "duration".into(),
        Type::Object { name, imp, .. } => match imp {
            ObjectImpl::Struct => name.clone(),
            ObjectImpl::Trait(_) => format!("dyn {name}"),
        },
        Type::Record { name, .. }
        | Type::Enum { name, .. }
        | Type::CallbackInterface { name, .. }
        | Type::Custom { name, .. } => name.clone(),
        Type::Box { inner_type } => ty(inner_type),
        Type::Optional { inner_type } => format!("{}?", ty(inner_type)),
        Type::Sequence { inner_type } => format!("[{}]", ty(inner_type)),
        Type::Set { inner_type } => format!("set<{}>", ty(inner_type)),
        Type::Map {
            key_type,
            value_type,
        } => format!("map<{}, {}>", ty(key_type), ty(value_type)),
    }
}
