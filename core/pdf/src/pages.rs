//! The page tree: find a page, its inherited boxes.
//!
//! A page is normally an object of its own named by reference in its parent's /Kids, but some
//! writers put the page dictionary itself in the /Kids array ("direct kids"; ISO 32000 asks for
//! indirect references; poppler and qpdf read them anyway). Such a page has no object
//! number: [`PageLocation::Direct`] finds it by its parent and its index in the parent's /Kids.
//! Writing to it (a widget in its /Annots, stamped content) first gives it an object of its own:
//! see [`crate::writer::IncrementalUpdate::page_id`].

use crate::document::Document;
use crate::error::PdfError;
use crate::object::{Dictionary, Object, ObjectId};
use std::collections::HashSet;

/// Where a page's dictionary is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum PageLocation {
    /// An object of its own (the usual case).
    Object(ObjectId),
    /// Written directly as entry `index` of the /Kids array of the page tree node `parent`.
    Direct {
        /// The page tree node (an indirect object) whose /Kids holds the page.
        parent: ObjectId,
        /// The page's index in that /Kids array.
        index: usize,
    },
}

/// A page found in the tree.
#[derive(Clone, Debug)]
pub struct PageRef {
    /// Where the page dictionary is.
    pub location: PageLocation,
    /// Its dictionary.
    pub dict: Dictionary,
    /// Crop box (or media box), normalised [x0, y0, x1, y1].
    pub crop_box: [f64; 4],
}

impl PageRef {
    /// The page's object, `None` for a page written directly in its parent's /Kids.
    pub fn id(&self) -> Option<ObjectId> {
        match self.location {
            PageLocation::Object(id) => Some(id),
            PageLocation::Direct { .. } => None,
        }
    }
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
            for (index, kid) in kids.into_iter().enumerate() {
                match kid {
                    Object::Reference(kid) => walk(doc, kid, media, crop, seen, out, depth + 1)?,
                    Object::Dictionary(page) => {
                        if page.name(b"Type") == Some(b"Pages") {
                            return Err(PdfError::Malformed(format!(
                                "page tree node {} holds a page tree node directly in its \
                                 /Kids (only pages may be written so)",
                                id.0
                            )));
                        }
                        let location = PageLocation::Direct { parent: id, index };
                        out.push(leaf(doc, page, location, media, crop)?);
                    }
                    _ => {
                        return Err(PdfError::Malformed(format!(
                            "page tree node {} has a /Kids entry that is neither a reference \
                             nor a page dictionary",
                            id.0
                        )));
                    }
                }
            }
            Ok(())
        }
        _ => {
            out.push(leaf(doc, dict, PageLocation::Object(id), media, crop)?);
            Ok(())
        }
    }
}

/// A page with the boxes it inherits.
fn leaf(
    doc: &Document<'_>,
    dict: Dictionary,
    location: PageLocation,
    media: Option<[f64; 4]>,
    crop: Option<[f64; 4]>,
) -> Result<PageRef, PdfError> {
    let media = dict.get(b"MediaBox").and_then(|b| to_box(b, doc)).or(media);
    let crop = dict.get(b"CropBox").and_then(|b| to_box(b, doc)).or(crop);
    let crop_box = crop.or(media).ok_or_else(|| {
        PdfError::Malformed(match location {
            PageLocation::Object(id) => format!("page {} has no MediaBox", id.0),
            PageLocation::Direct { parent, index } => {
                format!(
                    "page {index} of page tree node {} has no MediaBox",
                    parent.0
                )
            }
        })
    })?;
    Ok(PageRef {
        location,
        dict,
        crop_box,
    })
}
