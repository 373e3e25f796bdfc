//! Modification detection and prevention entries of a signature dictionary's `/Reference`
//! list: DocMDP (certification level) and FieldMDP (field locks). Read by signing (a P=1
//! certification forbids further signatures) and by verification.

use crate::document::Document;
use crate::object::{Dictionary, Object};
use crate::sign::FieldLock;

/// The `/TransformParams` of every reference with `/TransformMethod method` (an empty
/// dictionary when a reference has none, so defaults apply).
fn transform_params(doc: &Document<'_>, sig: &Dictionary, method: &[u8]) -> Vec<Dictionary> {
    let refs = match sig.get(b"Reference").map(|r| doc.resolve(r)) {
        Some(Ok(Object::Array(a))) => a,
        _ => return Vec::new(),
    };
    refs.iter()
        .filter_map(|r| doc.dict(r, "a signature reference").ok())
        .filter(|r| r.name(b"TransformMethod") == Some(method))
        .map(|r| {
            r.get(b"TransformParams")
                .and_then(|t| doc.dict(t, "TransformParams").ok())
                .unwrap_or_default()
        })
        .collect()
}

/// The DocMDP permission level `/P` (1-3, default 2) when `sig` is a certification signature.
pub fn docmdp_level(doc: &Document<'_>, sig: &Dictionary) -> Option<i64> {
    transform_params(doc, sig, b"DocMDP")
        .first()
        .map(|t| t.get(b"P").and_then(Object::as_i64).unwrap_or(2))
}

/// The FieldMDP locks of `sig`.
pub fn fieldmdp_locks(doc: &Document<'_>, sig: &Dictionary) -> Vec<FieldLock> {
    transform_params(doc, sig, b"FieldMDP")
        .iter()
        .filter_map(FieldLock::from_dict)
        .collect()
}
