//! The page tree: find a page, its inherited boxes.

use crate::document::Document;
use crate::error::PdfError;
use crate::object::{Dictionary, Object, ObjectId};
use std::collections::HashSet;

/// A page found in the tree.
#[derive(Clone, Debug)]
pub struct PageRef {
    /// The page object.
    pub id: ObjectId,
    /// Its dictionary.
    pub dict: Dictionary,
    /// Crop box (or media box), normalised [x0, y0, x1, y1].
    pub crop_box: [f64; 4],
}

/// All pages in order (each with inherited boxes). Detects cycles.
pub fn pages(doc: &Document<'_>) -> Result<Vec<PageRef>, PdfError> {
    let (_, catalog) = doc.catalog()?;
    let root = catalog
        .get(b"Pages")
        .and_then(Object::as_ref_id)
        .ok_or_else(|| PdfError::Malformed("catalog has no /Pages".into()))?;
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    walk(doc, root, None, None, &mut seen, &mut out, 0)?;
    Ok(out)
}

fn to_box(obj: &Object, doc: &Document<'_>) -> Option<[f64; 4]> {
    let Ok(Object::Array(a)) = doc.resolve(obj) else {
        return None;
    };
    if a.len() != 4 {
        return None;
    }
    let mut v = [0f64; 4];
    for (i, o) in a.iter().enumerate() {
        v[i] = doc.resolve(o).ok()?.as_f64()?;
    }
    Some([
        v[0].min(v[2]),
        v[1].min(v[3]),
        v[0].max(v[2]),
        v[1].max(v[3]),
    ])
}

fn walk(
    doc: &Document<'_>,
    id: ObjectId,
    media: Option<[f64; 4]>,
    crop: Option<[f64; 4]>,
    seen: &mut HashSet<ObjectId>,
    out: &mut Vec<PageRef>,
    depth: usize,
) -> Result<(), PdfError> {
    if !seen.insert(id) {
        return Err(PdfError::Malformed("the page tree has a cycle".into()));
    }
    if depth > 64 {
        return Err(PdfError::Limit("page tree deeper than 64".into()));
    }
    let dict = doc.dict(&Object::Reference(id), "a page tree node")?;
    let media = dict.get(b"MediaBox").and_then(|b| to_box(b, doc)).or(media);
    let crop = dict.get(b"CropBox").and_then(|b| to_box(b, doc)).or(crop);
    match dict.name(b"Type") {
        Some(b"Pages") => {
            let kids = match dict.get(b"Kids").map(|k| doc.resolve(k)).transpose()? {
                Some(Object::Array(k)) => k,
                _ => return Err(PdfError::Malformed("page tree node without /Kids".into())),
            };
            for kid in kids {
                let kid = kid.as_ref_id().ok_or_else(|| {
                    PdfError::Malformed("page tree kid is not a reference".into())
                })?;
                walk(doc, kid, media, crop, seen, out, depth + 1)?;
            }
            Ok(())
        }
        _ => {
            let crop_box = crop
                .or(media)
                .ok_or_else(|| PdfError::Malformed(format!("page {} has no MediaBox", id.0)))?;
            out.push(PageRef { id, dict, crop_box });
            Ok(())
        }
    }
}
