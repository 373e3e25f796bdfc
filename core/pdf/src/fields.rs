//! AcroForm signature fields: find a pre-created field, or add a new field with its widget.

use crate::document::Document;
use crate::error::PdfError;
use crate::object::{Dictionary, Object, ObjectId, text_string};
use crate::pages::{PageRef, pages};
use crate::writer::IncrementalUpdate;

/// A signature field found in the form.
#[derive(Clone, Debug)]
pub struct SigField {
    /// Fully qualified name (`parent.child`).
    pub name: String,
    /// The field object.
    pub field_id: ObjectId,
    /// The widget annotation (the field itself when merged; the first when there are several).
    pub widget_id: ObjectId,
    /// Every widget of the field (a paging seal has one per page).
    pub widgets: Vec<ObjectId>,
    /// Whether the field already holds a signature (`/V`).
    pub signed: bool,
    /// The widget's rectangle.
    pub rect: Option<[f64; 4]>,
    /// The signature dictionary, when signed.
    pub value: Option<ObjectId>,
}

/// Every signature field of the document's form.
pub fn signature_fields(doc: &Document<'_>) -> Result<Vec<SigField>, PdfError> {
    let (_, catalog) = doc.catalog()?;
    let Some(form) = catalog.get(b"AcroForm") else {
        return Ok(Vec::new());
    };
    let form = doc.dict(form, "the AcroForm")?;
    let fields = match form.get(b"Fields").map(|f| doc.resolve(f)).transpose()? {
        Some(Object::Array(a)) => a,
        _ => return Ok(Vec::new()),
    };
    let mut out = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for f in fields {
        if let Some(id) = f.as_ref_id() {
            collect(doc, id, "", None, &mut out, &mut seen, 0)?;
        }
    }
    Ok(out)
}

fn collect(
    doc: &Document<'_>,
    id: ObjectId,
    prefix: &str,
    inherited_ft: Option<Vec<u8>>,
    out: &mut Vec<SigField>,
    seen: &mut std::collections::HashSet<ObjectId>,
    depth: usize,
) -> Result<(), PdfError> {
    if depth > 32 || !seen.insert(id) {
        return Err(PdfError::Malformed(
            "the form's field tree has a cycle".into(),
        ));
    }
    let dict = doc.dict(&Object::Reference(id), "a form field")?;
    let partial = match dict.get(b"T") {
        Some(Object::String(s, _)) => decode_text(s),
        _ => String::new(),
    };
    let name = match (prefix.is_empty(), partial.is_empty()) {
        (true, _) => partial.clone(),
        (false, true) => prefix.to_owned(),
        (false, false) => format!("{prefix}.{partial}"),
    };
    let ft = dict.name(b"FT").map(<[u8]>::to_vec).or(inherited_ft);
    let kids = match dict.get(b"Kids").map(|k| doc.resolve(k)).transpose()? {
        Some(Object::Array(k)) => k,
        _ => Vec::new(),
    };
    let kid_fields: Vec<ObjectId> = kids.iter().filter_map(Object::as_ref_id).collect();
    let kids_are_widgets = !kid_fields.is_empty()
        && kid_fields.iter().all(|k| {
            doc.dict(&Object::Reference(*k), "a widget")
                .map(|d| d.get(b"T").is_none())
                .unwrap_or(false)
        });
    if !kid_fields.is_empty() && !kids_are_widgets {
        for k in kid_fields {
            collect(doc, k, &name, ft.clone(), out, seen, depth + 1)?;
        }
        return Ok(());
    }
    if ft.as_deref() != Some(b"Sig") {
        return Ok(());
    }
    let widgets = if kids_are_widgets {
        kid_fields
    } else {
        vec![id]
    };
    let widget_id = widgets[0];
    let widget = doc.dict(&Object::Reference(widget_id), "a widget")?;
    let rect = match widget.get(b"Rect").map(|r| doc.resolve(r)).transpose()? {
        Some(Object::Array(a)) if a.len() == 4 => {
            let v: Option<Vec<f64>> = a.iter().map(Object::as_f64).collect();
            v.map(|v| [v[0], v[1], v[2], v[3]])
        }
        _ => None,
    };
    let value = dict.get(b"V").and_then(Object::as_ref_id);
    out.push(SigField {
        name,
        field_id: id,
        widget_id,
        widgets,
        signed: dict.get(b"V").is_some_and(|v| !matches!(v, Object::Null)),
        rect,
        value,
    });
    Ok(())
}

/// Decode a PDF text string (UTF-16BE with BOM, or PDFDocEncoding treated as Latin-1).
pub fn decode_text(s: &[u8]) -> String {
    if s.starts_with(&[0xfe, 0xff]) {
        let units: Vec<u16> = s[2..]
            .chunks_exact(2)
            .map(|c| u16::from_be_bytes([c[0], c[1]]))
            .collect();
        String::from_utf16_lossy(&units)
    } else if s.starts_with(&[0xef, 0xbb, 0xbf]) {
        String::from_utf8_lossy(&s[3..]).into_owned()
    } else {
        s.iter().map(|&b| b as char).collect()
    }
}

/// The AcroForm as it will be after the update, and where it lives.
pub struct FormPlan {
    /// The AcroForm dictionary to write.
    pub form: Dictionary,
    /// Where to write it: its own object, or inside the catalog.
    pub form_id: Option<ObjectId>,
}

/// Load the AcroForm for modification (creating an empty one if absent).
pub fn form_for_update(doc: &Document<'_>) -> Result<FormPlan, PdfError> {
    let (_, catalog) = doc.catalog()?;
    match catalog.get(b"AcroForm") {
        Some(Object::Reference(id)) => Ok(FormPlan {
            form: doc.dict(&Object::Reference(*id), "the AcroForm")?,
            form_id: Some(*id),
        }),
        Some(Object::Dictionary(d)) => Ok(FormPlan {
            form: d.clone(),
            form_id: None,
        }),
        _ => Ok(FormPlan {
            form: Dictionary::new().with(b"Fields", Object::Array(Vec::new())),
            form_id: None,
        }),
    }
}

/// Find page `number` (1-based).
pub fn page(doc: &Document<'_>, number: u32) -> Result<PageRef, PdfError> {
    let all = pages(doc)?;
    let count = all.len() as u32;
    number
        .checked_sub(1)
        .and_then(|i| all.into_iter().nth(i as usize))
        .ok_or(PdfError::NoSuchPage {
            page: number,
            count,
        })
}

/// The 1-based numbers of the pages showing any of `widgets` (by the widget's `/P`, else by
/// the pages' `/Annots`), ascending.
pub fn widget_pages(doc: &Document<'_>, widgets: &[ObjectId]) -> Result<Vec<u32>, PdfError> {
    let all = pages(doc)?;
    let mut out = Vec::new();
    for (i, pg) in all.iter().enumerate() {
        let annots = match pg.dict.get(b"Annots").map(|a| doc.resolve(a)).transpose()? {
            Some(Object::Array(a)) => a,
            _ => Vec::new(),
        };
        let shows = widgets.iter().any(|w| {
            annots.iter().any(|a| a.as_ref_id() == Some(*w))
                || doc
                    .dict(&Object::Reference(*w), "a widget")
                    .is_ok_and(|d| d.get(b"P").and_then(Object::as_ref_id) == pg.id())
        });
        if shows {
            out.push(i as u32 + 1);
        }
    }
    Ok(out)
}

/// Add widget references to a page's /Annots (modifying the page or its annotation array).
pub fn add_annotations(
    doc: &Document<'_>,
    update: &mut IncrementalUpdate,
    page: &PageRef,
    widgets: &[ObjectId],
) -> Result<(), PdfError> {
    let refs = widgets.iter().map(|w| Object::Reference(*w));
    match page.dict.get(b"Annots") {
        Some(Object::Reference(arr_id)) => {
            let mut arr = match doc.resolve(&Object::Reference(*arr_id))? {
                Object::Array(a) => a,
                _ => Vec::new(),
            };
            arr.extend(refs);
            update.put(*arr_id, &Object::Array(arr));
        }
        other => {
            let mut arr = match other {
                Some(Object::Array(a)) => a.clone(),
                _ => Vec::new(),
            };
            arr.extend(refs);
            let mut dict = page.dict.clone();
            dict.set(b"Annots", Object::Array(arr));
            update.put_page(doc, page, dict)?;
        }
    }
    Ok(())
}

/// A widget of a signature field with several widgets (its parent holds `/FT`, `/T`, `/V`).
pub fn new_widget(rect: [f64; 4], page: ObjectId, parent: ObjectId) -> Dictionary {
    Dictionary::new()
        .with(b"Type", Object::name("Annot"))
        .with(b"Subtype", Object::name("Widget"))
        .with(b"F", Object::Integer(132))
        .with(
            b"Rect",
            Object::Array(rect.iter().map(|v| Object::real(*v)).collect()),
        )
        .with(b"P", Object::Reference(page))
        .with(b"Parent", Object::Reference(parent))
}

/// A new merged signature field + widget dictionary.
pub fn new_field(name: &str, rect: [f64; 4], page: ObjectId) -> Dictionary {
    Dictionary::new()
        .with(b"Type", Object::name("Annot"))
        .with(b"Subtype", Object::name("Widget"))
        .with(b"FT", Object::name("Sig"))
        .with(b"T", text_string(name))
        .with(b"F", Object::Integer(132))
        .with(
            b"Rect",
            Object::Array(rect.iter().map(|v| Object::real(*v)).collect()),
        )
        .with(b"P", Object::Reference(page))
}
