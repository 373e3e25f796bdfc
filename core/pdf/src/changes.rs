//! What changed in the revisions after a signature, classified the way a verifier must:
//! nothing; only signatures and form fields (allowed by PAdES and DocMDP P=2); anything else.
//!
//! New objects are harmless until an existing object refers to them, so the analysis looks at
//! every object that a later revision *replaces* and allows only the changes that adding or
//! filling a signature field makes: the catalog's /AcroForm (and /Perms only when first set),
//! the form's /Fields (growing) and /SigFlags, a page's /Annots (growing by signature widgets;
//! for a page written directly in a page tree node's /Kids, the node rewritten with that page
//! given an object of its own, or with the page rewritten in place),
//! and unsigned signature fields receiving /V and an appearance; besides, updates of what is
//! never shown: the document information, the XMP metadata and the document security store
//! (`UnrenderedObjects`). Anything else (content streams,
//! resources, fonts, XObjects, pages, overlays...) is reported: that is how incremental-saving
//! and shadow attacks show up.

use crate::document::Document;
use crate::error::PdfError;
use crate::object::{Dictionary, Object, ObjectId};
use crate::xref::XrefEntry;
use std::collections::{BTreeSet, HashMap};

/// The verdict on the revisions after a signature.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Changes {
    /// The signature covers the whole file.
    None,
    /// Only later signatures, signature fields and form filling.
    SignaturesAndForms,
    /// Other changes, with a description of each.
    Other(Vec<String>),
}

/// How far the revisions after a signature go, in the levels pyHanko names
/// (`ModificationLevel`), lowest first. DocMDP permissions are applied to them: every level up
/// to [`ModificationLevel::LtaUpdates`] is allowed even after a certification that permits no
/// changes (P=1: PAdES long-term validation data and document time-stamps are not changes to
/// the document, as ISO 32000-2 12.8.2.2 and pyHanko have it), [`ModificationLevel::FormFilling`]
/// after P=2 and P=3 and after approval signatures.
///
/// pyHanko also names an ANNOTATIONS level (P=3) but its policy has no rule that grants it:
/// like pyHanko, inkseal reports any added or changed annotation other than a signature widget
/// as [`ModificationLevel::Other`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ModificationLevel {
    /// The signature covers the whole file.
    None,
    /// Only what keeps signatures verifiable over time: the document security store, invisible
    /// document time-stamps, the document information and XMP metadata, empty invisible
    /// signature fields, signature widgets bound to their pages.
    LtaUpdates,
    /// Besides, form fields filled, signatures in new or existing fields, visible signature
    /// fields added.
    FormFilling,
    /// Anything else (see [`Changes::Other`]): incremental-saving and shadow attacks.
    Other,
}

impl ModificationLevel {
    /// The level's name as in reports (`none`, `lta_updates`, `form_filling`, `other`).
    pub fn name(self) -> &'static str {
        match self {
            ModificationLevel::None => "none",
            ModificationLevel::LtaUpdates => "lta_updates",
            ModificationLevel::FormFilling => "form_filling",
            ModificationLevel::Other => "other",
        }
    }
}

/// The verdict plus the form fields whose value or appearance later revisions set (fully
/// qualified names), which FieldMDP locks are checked against.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Analysis {
    /// The verdict.
    pub changes: Changes,
    /// The verdict as a named level.
    pub level: ModificationLevel,
    /// The change that decided [`Analysis::level`], naming its object ("object 12: signature
    /// field 'Borrower' signed"); `None` for [`ModificationLevel::None`], and for
    /// [`ModificationLevel::LtaUpdates`] when nothing but new objects came (a document
    /// time-stamp's revision replaces its catalog and form, which decides nothing).
    pub decided_by: Option<String>,
    /// Form fields (text, choice, button, signature) filled or changed afterwards.
    pub fields_changed: BTreeSet<String>,
    /// Signature fields added afterwards with a visible widget (a non-empty /Rect): allowed
    /// after an approval signature, not after a DocMDP P=2 certification, which permits
    /// signing only the fields the certifier left.
    pub visible_fields_added: BTreeSet<String>,
}

/// Classify the revisions newer than `rev` (an index into [`Document::sections`], 0 = newest).
pub fn changes_after(doc: &Document<'_>, rev: usize) -> Result<Changes, PdfError> {
    analyse_after(doc, rev).map(|a| a.changes)
}

/// [`changes_after`] with the names of the form fields that changed.
pub fn analyse_after(doc: &Document<'_>, rev: usize) -> Result<Analysis, PdfError> {
    let mut fields_changed = BTreeSet::new();
    let mut visible_fields_added = BTreeSet::new();
    if rev == 0 {
        return Ok(Analysis {
            changes: Changes::None,
            level: ModificationLevel::None,
            decided_by: None,
            fields_changed,
            visible_fields_added,
        });
    }
    let mut problems = Vec::new();
    let mut level = ModificationLevel::LtaUpdates;
    let mut decided_by = None;
    let mut raise = |to: ModificationLevel, why: String| {
        if to > level {
            level = to;
            decided_by = Some(why);
        }
    };
    // Walk forward in time: from the signed revision to the newest.
    for later in (0..rev).rev() {
        let before = doc.xref_at(later + 1);
        let after = doc.xref_at(later);
        let section = &doc.sections[later];
        let unrendered = UnrenderedObjects::of(
            doc,
            (&before, &after),
            (&doc.sections[later + 1].trailer, &section.trailer),
        );
        for (num, entry) in &section.entries {
            if *entry == XrefEntry::Free {
                if matches!(before.get(num), Some(e) if *e != XrefEntry::Free) {
                    problems.push(format!("object {num} was deleted"));
                }
                continue;
            }
            let Some(old_entry) = before.get(num).filter(|e| **e != XrefEntry::Free) else {
                // A new object.
                if let Some(name) = visible_signature_widget(doc, &after, ObjectId(*num, 0)) {
                    raise(
                        ModificationLevel::FormFilling,
                        format!(
                            "object {num}: signature field '{name}' added with a visible widget"
                        ),
                    );
                    visible_fields_added.insert(name);
                } else if let Some(name) = signed_field(doc, &after, ObjectId(*num, 0)) {
                    raise(
                        ModificationLevel::FormFilling,
                        format!("object {num}: signature field '{name}' added and signed"),
                    );
                }
                continue;
            };
            if Some(old_entry) == after.get(num) {
                continue;
            }
            let id = ObjectId(*num, 0);
            let old = doc.get_in(&before, id).unwrap_or(Object::Null);
            let new = doc.get_in(&after, id).unwrap_or(Object::Null);
            if old == new {
                continue;
            }
            if unrendered.allows(id, (&old, &new)) {
                continue;
            }
            match allowed_change(doc, (&before, &after), id, &old, &new) {
                Ok(Some(field)) => {
                    if signed_field(doc, &after, id).is_some() {
                        raise(
                            ModificationLevel::FormFilling,
                            format!("object {num}: signature field '{field}' signed"),
                        );
                    } else if !is_document_time_stamp_field(doc, &after, &new) {
                        raise(
                            ModificationLevel::FormFilling,
                            format!("object {num}: form field '{field}' filled or changed"),
                        );
                    }
                    fields_changed.insert(field);
                }
                Ok(None) => {}
                Err(why) => {
                    raise(ModificationLevel::Other, format!("object {num}: {why}"));
                    problems.push(format!("object {num}: {why}"));
                }
            }
        }
    }
    let changes = if problems.is_empty() {
        Changes::SignaturesAndForms
    } else {
        Changes::Other(problems)
    };
    Ok(Analysis {
        changes,
        level,
        decided_by,
        fields_changed,
        visible_fields_added,
    })
}

/// The value (`/V`) of the signature field `d`: its signature dictionary.
fn signature_value(doc: &Document<'_>, xref: &Xref, d: &Dictionary) -> Option<Dictionary> {
    match d.get(b"V")? {
        Object::Dictionary(v) => Some(v.clone()),
        Object::Reference(id) => match doc.get_in(xref, *id).ok()? {
            Object::Dictionary(v) => Some(v),
            _ => None,
        },
        _ => None,
    }
}

/// `object` is a signature field whose value is an invisible document time-stamp (PAdES
/// B-LTA): long-term maintenance, not signing.
fn is_document_time_stamp_field(doc: &Document<'_>, xref: &Xref, object: &Object) -> bool {
    let Object::Dictionary(d) = object else {
        return false;
    };
    !has_area(d)
        && signature_value(doc, xref, d).is_some_and(|v| v.name(b"Type") == Some(b"DocTimeStamp"))
}

/// The name of the signature field `id` when it holds a signature that is not an invisible
/// document time-stamp (signing: [`ModificationLevel::FormFilling`]).
fn signed_field(doc: &Document<'_>, xref: &Xref, id: ObjectId) -> Option<String> {
    let object = doc.get_in(xref, id).ok()?;
    let Object::Dictionary(d) = &object else {
        return None;
    };
    if d.name(b"FT") != Some(b"Sig") || signature_value(doc, xref, d).is_none() {
        return None;
    }
    (!is_document_time_stamp_field(doc, xref, &object)).then(|| qualified_name(doc, xref, d))
}

/// Whether the annotation `d` has a /Rect of four numbers enclosing a non-zero area (a widget
/// without one is invisible).
fn has_area(d: &Dictionary) -> bool {
    match d.get(b"Rect") {
        Some(Object::Array(r)) if r.len() == 4 => {
            let v: Vec<f64> = r.iter().filter_map(Object::as_f64).collect();
            v.len() == 4 && (v[2] - v[0]) * (v[3] - v[1]) != 0.0
        }
        _ => false,
    }
}

/// The field name when `id` is a signature widget with a non-empty rectangle (a merged
/// field-widget, or a widget whose parent is a signature field).
fn visible_signature_widget(doc: &Document<'_>, xref: &Xref, id: ObjectId) -> Option<String> {
    let Ok(Object::Dictionary(d)) = doc.get_in(xref, id) else {
        return None;
    };
    if d.name(b"Subtype") != Some(b"Widget") {
        return None;
    }
    if !has_area(&d) {
        return None;
    }
    let signature = d.name(b"FT") == Some(b"Sig")
        || d.get(b"Parent").and_then(Object::as_ref_id).is_some_and(|p| {
            matches!(doc.get_in(xref, p), Ok(Object::Dictionary(p)) if p.name(b"FT") == Some(b"Sig"))
        });
    signature.then(|| qualified_name(doc, xref, &d))
}

type Xref = HashMap<u32, XrefEntry>;

/// Objects a later revision may update without changing what is shown, found once per
/// revision pair; pyHanko allows the same updates.
///
/// - The catalog's developer extensions dictionary kept in an object of its own.
/// - Document metadata: the document information dictionary (the trailer's /Info in both
///   revisions, a dictionary in both) and the catalog's XMP stream (its /Metadata in both
///   revisions, `/Type /Metadata` in both). A second signer's tool updates them.
/// - The document security store (PAdES B-LT): the catalog's /DSS dictionary in both revisions
///   (only its /Certs, /OCSPs, /CRLs and /VRI entries may change), the arrays and the /VRI
///   dictionary it kept in objects of their own (pyHanko writes them so), and the VRI entries.
///   The certificates, OCSP responses and CRLs themselves are streams: changing one is still
///   reported.
struct UnrenderedObjects {
    /// The /Info object, when both trailers name the same one.
    info: Option<ObjectId>,
    /// The catalog's /Metadata object, when both revisions' catalogs name the same one.
    xmp: Option<ObjectId>,
    /// The catalog's /Extensions dictionary (ISO 32000-2 7.12), when both revisions'
    /// catalogs keep it in the same object.
    extensions: Option<ObjectId>,
    /// The catalog's /DSS object, when both revisions' catalogs name the same one.
    dss: Option<ObjectId>,
    /// The earlier DSS's /Certs, /OCSPs and /CRLs arrays kept in objects of their own.
    dss_arrays: BTreeSet<ObjectId>,
    /// The earlier DSS's /VRI dictionary, when kept in an object of its own.
    vri: Option<ObjectId>,
    /// The earlier /VRI dictionary's entries kept in objects of their own.
    vri_entries: BTreeSet<ObjectId>,
}

/// The keys of a DSS that may change (ISO 32000-2 12.8.4.3).
const DSS_KEYS: &[&[u8]] = &[b"Certs", b"OCSPs", b"CRLs", b"VRI"];
/// The keys of a VRI entry that may change (ISO 32000-2 12.8.4.4).
const VRI_KEYS: &[&[u8]] = &[b"Cert", b"OCSP", b"CRL", b"TU", b"TS"];

impl UnrenderedObjects {
    fn of(
        doc: &Document<'_>,
        (before, after): (&Xref, &Xref),
        (old_trailer, new_trailer): (&Dictionary, &Dictionary),
    ) -> Self {
        let catalog = |t: &Dictionary, xref: &Xref| -> Option<Dictionary> {
            match doc.get_in(xref, t.get(b"Root")?.as_ref_id()?).ok()? {
                Object::Dictionary(catalog) => Some(catalog),
                _ => None,
            }
        };
        let (old_catalog, new_catalog) = (
            catalog(old_trailer, before).unwrap_or_default(),
            catalog(new_trailer, after).unwrap_or_default(),
        );
        // The object `key` names in both revisions (the trailer's for /Info, the catalog's
        // otherwise), provided neither the trailers nor the catalogs name it under another key
        // too: an object also reachable another way (pyHanko's "sneaky" test files hang the
        // same dictionary under a private catalog or trailer key) is judged as any object is.
        let same = |key: &[u8], in_trailer: bool| -> Option<ObjectId> {
            let holders = [old_trailer, new_trailer, &old_catalog, &new_catalog];
            let (old, new) = if in_trailer {
                (old_trailer, new_trailer)
            } else {
                (&old_catalog, &new_catalog)
            };
            let id = old.get(key)?.as_ref_id()?;
            let elsewhere = holders.iter().any(|d| {
                d.0.iter()
                    .any(|(k, v)| k.as_slice() != key && *v == Object::Reference(id))
            });
            (new.get(key)?.as_ref_id()? == id && !elsewhere).then_some(id)
        };
        let dss = same(b"DSS", false);
        let mut objects = UnrenderedObjects {
            info: same(b"Info", true),
            xmp: same(b"Metadata", false),
            extensions: same(b"Extensions", false),
            dss,
            dss_arrays: BTreeSet::new(),
            vri: None,
            vri_entries: BTreeSet::new(),
        };
        let Some(Ok(Object::Dictionary(old_dss))) = dss.map(|id| doc.get_in(before, id)) else {
            return objects;
        };
        for key in [&b"Certs"[..], b"OCSPs", b"CRLs"] {
            objects
                .dss_arrays
                .extend(old_dss.get(key).and_then(Object::as_ref_id));
        }
        let vri = match old_dss.get(b"VRI") {
            Some(Object::Reference(id)) => {
                objects.vri = Some(*id);
                doc.get_in(before, *id).ok()
            }
            other => other.cloned(),
        };
        if let Some(Object::Dictionary(vri)) = vri {
            objects
                .vri_entries
                .extend(vri.0.iter().filter_map(|(_, v)| v.as_ref_id()));
        }
        objects
    }

    /// Whether replacing `id` by `new` (was `old`) is such an update.
    fn allows(&self, id: ObjectId, (old, new): (&Object, &Object)) -> bool {
        let is_xmp = |o: &Object| matches!(o, Object::Stream(s) if s.dict.name(b"Type") == Some(&b"Metadata"[..]));
        let dictionaries = |keys: &[&[u8]]| match (old, new) {
            (Object::Dictionary(o), Object::Dictionary(n)) => {
                only_keys_changed(o, n, keys, "").is_ok()
            }
            _ => false,
        };
        let references =
            |o: &Object| matches!(o, Object::Array(a) if a.iter().all(|e| e.as_ref_id().is_some()));
        if self.info == Some(id) {
            return matches!((old, new), (Object::Dictionary(_), Object::Dictionary(_)));
        }
        if self.xmp == Some(id) {
            return is_xmp(old) && is_xmp(new);
        }
        if self.extensions == Some(id) {
            return matches!((old, new), (Object::Dictionary(_), Object::Dictionary(_)));
        }
        if self.dss == Some(id) {
            return dictionaries(DSS_KEYS);
        }
        if self.dss_arrays.contains(&id) {
            return references(old) && references(new);
        }
        if self.vri == Some(id) {
            // Keyed by signature hashes: entries are added.
            return matches!((old, new), (Object::Dictionary(_), Object::Dictionary(_)));
        }
        self.vri_entries.contains(&id) && dictionaries(VRI_KEYS)
    }
}

/// `Ok(Some(name))` when the allowed change fills or changes the form field `name`.
fn allowed_change(
    doc: &Document<'_>,
    (before, after): (&Xref, &Xref),
    id: ObjectId,
    old: &Object,
    new: &Object,
) -> Result<Option<String>, String> {
    match (old, new) {
        (Object::Dictionary(o), Object::Dictionary(n)) => {
            let kind = o
                .name(b"Type")
                .map(|t| String::from_utf8_lossy(t).into_owned());
            match (kind.as_deref(), o.name(b"FT"), o.name(b"Subtype")) {
                (Some("Catalog"), _, _) => {
                    only_keys_changed(
                        o,
                        n,
                        &[
                            b"AcroForm",
                            b"Perms",
                            b"DSS",
                            b"Extensions",
                            b"Metadata",
                            b"Version",
                        ],
                        "catalog",
                    )?;
                    if o.get(b"Perms").is_some() && o.get(b"Perms") != n.get(b"Perms") {
                        return Err("catalog /Perms changed after it was set".into());
                    }
                    if o.get(b"Metadata") != n.get(b"Metadata") {
                        // Only ever another XMP stream (a second signer's tool writes one).
                        let xmp = n
                            .get(b"Metadata")
                            .and_then(Object::as_ref_id)
                            .and_then(|id| doc.get_in(after, id).ok());
                        if !matches!(&xmp, Some(Object::Stream(s)) if s.dict.name(b"Type") == Some(&b"Metadata"[..]))
                        {
                            return Err("catalog /Metadata is not an XMP metadata stream".into());
                        }
                    }
                    if !matches!(n.get(b"Version"), None | Some(Object::Name(_))) {
                        return Err("catalog /Version is not a name".into());
                    }
                    Ok(None)
                }
                (Some("Page"), _, _) => {
                    only_keys_changed(o, n, &[b"Annots"], "page")?;
                    grows_by_signature_widgets(doc, after, o.get(b"Annots"), n.get(b"Annots"))
                        .map(|()| None)
                }
                (Some("Pages"), _, _) => {
                    only_keys_changed(o, n, &[b"Kids"], "page tree node")?;
                    direct_pages_given_objects(doc, (before, after), id, o, n).map(|()| None)
                }
                (_, Some(b"Sig"), _) | (_, _, Some(b"Widget")) if o.get(b"V").is_none() => {
                    only_keys_changed(o, n, &[b"V", b"AP", b"AS", b"F"], "signature field")?;
                    Ok(Some(qualified_name(doc, before, o)))
                }
                (_, Some(b"Tx" | b"Ch" | b"Btn"), _) => {
                    only_keys_changed(o, n, &[b"V", b"AP", b"AS"], "form field")?;
                    Ok(Some(qualified_name(doc, before, o)))
                }
                _ if o.get(b"Fields").is_some() || n.get(b"Fields").is_some() => {
                    only_keys_changed(o, n, &[b"Fields", b"SigFlags", b"DR", b"DA"], "form")?;
                    grows_by_signature_widgets(doc, after, o.get(b"Fields"), n.get(b"Fields"))
                        .map(|()| None)
                }
                _ => Err(format!("{} changed", describe(o))),
            }
        }
        (Object::Array(_), Object::Array(_)) => {
            // An /Annots or /Fields array kept in its own object.
            grows_by_signature_widgets(doc, after, Some(old), Some(new)).map(|()| None)
        }
        (Object::Stream(s), _) => Err(format!("stream ({}) changed", describe(&s.dict))),
        _ => Err("object replaced".into()),
    }
}

/// The fully qualified name of a field (or of the field a widget belongs to): the `/T` of the
/// object and its `/Parent`s, joined with dots.
fn qualified_name(doc: &Document<'_>, xref: &Xref, field: &Dictionary) -> String {
    let mut parts = Vec::new();
    let mut current = Some(field.clone());
    for _ in 0..32 {
        let Some(d) = current.take() else { break };
        if let Some(Object::String(t, _)) = d.get(b"T") {
            parts.push(crate::fields::decode_text(t));
        }
        current = match d.get(b"Parent").and_then(Object::as_ref_id) {
            Some(id) => match doc.get_in(xref, id) {
                Ok(Object::Dictionary(p)) => Some(p),
                _ => None,
            },
            None => None,
        };
    }
    parts.reverse();
    parts.join(".")
}

fn describe(d: &Dictionary) -> String {
    let t = d
        .name(b"Type")
        .or_else(|| d.name(b"Subtype"))
        .map(|t| String::from_utf8_lossy(t).into_owned());
    t.map_or_else(|| "dictionary".into(), |t| format!("/{t}"))
}

fn only_keys_changed(
    o: &Dictionary,
    n: &Dictionary,
    allowed: &[&[u8]],
    what: &str,
) -> Result<(), String> {
    let keys: std::collections::BTreeSet<&[u8]> =
        o.0.iter()
            .chain(n.0.iter())
            .map(|(k, _)| k.as_slice())
            .collect();
    for k in keys {
        if o.get(k) != n.get(k) && !allowed.contains(&k) {
            return Err(format!(
                "{what} entry /{} changed",
                String::from_utf8_lossy(k)
            ));
        }
    }
    Ok(())
}

/// A page tree node whose /Kids changed only where a page written directly in the array
/// (see [`crate::pages`]) got a signature widget: the entry became a reference to a new object
/// holding the same page with /Parent naming this node (what inkseal writes,
/// [`crate::writer::IncrementalUpdate::page_id`]), or stayed a dictionary (what a writer that
/// rewrites the node in place makes); either way only the page's /Annots may grow, by
/// signature widgets. Kids added, removed, reordered or replaced are reported.
fn direct_pages_given_objects(
    doc: &Document<'_>,
    (before, after): (&Xref, &Xref),
    node: ObjectId,
    o: &Dictionary,
    n: &Dictionary,
) -> Result<(), String> {
    let (Some(Object::Array(old_kids)), Some(Object::Array(new_kids))) =
        (o.get(b"Kids"), n.get(b"Kids"))
    else {
        return Err("page tree node entry /Kids changed".into());
    };
    if old_kids.len() != new_kids.len() {
        return Err("page tree node /Kids: pages were added or removed".into());
    }
    for (index, (old, new)) in old_kids.iter().zip(new_kids).enumerate() {
        if old == new {
            continue;
        }
        let Object::Dictionary(old_page) = old else {
            return Err(format!("page tree node /Kids entry {index} was replaced"));
        };
        let new_page = match new {
            Object::Dictionary(page) => page.clone(),
            Object::Reference(id) if before.get(&id.0).is_none_or(|e| *e == XrefEntry::Free) => {
                match doc.get_in(after, *id) {
                    Ok(Object::Dictionary(page)) => {
                        if page.get(b"Parent") != Some(&Object::Reference(node)) {
                            return Err(format!(
                                "page tree node /Kids entry {index}: the page's new object {} \
                                 does not name the node as its /Parent",
                                id.0
                            ));
                        }
                        page
                    }
                    _ => {
                        return Err(format!(
                            "page tree node /Kids entry {index}: new object {} is not a page",
                            id.0
                        ));
                    }
                }
            }
            _ => return Err(format!("page tree node /Kids entry {index} was replaced")),
        };
        if old_page.name(b"Type") == Some(b"Pages")
            || new_page.name(b"Type") != old_page.name(b"Type")
        {
            return Err(format!("page tree node /Kids entry {index} was replaced"));
        }
        let what = format!("page {index} of page tree node {}", node.0);
        let mut old_page = old_page.clone();
        if new_page.get(b"Parent").is_some() && old_page.get(b"Parent").is_none() {
            old_page.set(b"Parent", Object::Reference(node));
        }
        only_keys_changed(&old_page, &new_page, &[b"Annots"], &what)?;
        grows_by_signature_widgets(doc, after, old_page.get(b"Annots"), new_page.get(b"Annots"))
            .map_err(|e| format!("{what}: {e}"))?;
    }
    Ok(())
}

/// `new` must equal `old` plus references to signature fields/widgets.
fn grows_by_signature_widgets(
    doc: &Document<'_>,
    after: &Xref,
    old: Option<&Object>,
    new: Option<&Object>,
) -> Result<(), String> {
    let list = |o: Option<&Object>, xref: &Xref| -> Vec<Object> {
        match o {
            Some(Object::Array(a)) => a.clone(),
            Some(Object::Reference(id)) => match doc.get_in(xref, *id) {
                Ok(Object::Array(a)) => a,
                _ => Vec::new(),
            },
            _ => Vec::new(),
        }
    };
    let (old, new) = (list(old, after), list(new, after));
    if new.len() < old.len() || new[..old.len()] != old[..] {
        return Err("existing entries were removed or reordered".into());
    }
    for added in &new[old.len()..] {
        let Some(id) = added.as_ref_id() else {
            return Err("a direct annotation or field was added".into());
        };
        let d = match doc.get_in(after, id) {
            Ok(Object::Dictionary(d)) => d,
            _ => return Err(format!("added object {} is not a dictionary", id.0)),
        };
        // A signature field, or a widget of one (a field with several widgets, such as a
        // paging seal, keeps /FT on the parent).
        let is_signature = |d: &Dictionary| d.name(b"FT") == Some(b"Sig");
        let widget_of_signature = d.name(b"Subtype") == Some(b"Widget")
            && d.get(b"FT").is_none()
            && d.get(b"Parent").and_then(Object::as_ref_id).is_some_and(
                |p| matches!(doc.get_in(after, p), Ok(Object::Dictionary(p)) if is_signature(&p)),
            );
        if !is_signature(&d) && !widget_of_signature {
            return Err(format!("added object {} is not a signature field", id.0));
        }
    }
    Ok(())
}
