//! PAdES signing by incremental update, in two phases so that remote signers fit.
//!
//! [`prepare`] appends a revision holding the signature field, its appearance and a signature
//! dictionary whose `/Contents` is a zero-filled placeholder; it fixes `/ByteRange`, digests the
//! two ranges (straight from the borrowed input and the small appended buffer: the file is never
//! copied) and builds the CMS signed attributes: [`PreparedSignature::to_be_signed`].
//! [`PreparedSignature::finish`] wraps the signature into the CMS and writes it into the hole.

use crate::appearance::{AppearanceSpec, add_form_xobject};
use crate::cms::{self, ExtraAttribute, SignatureAlgorithm};
use crate::document::Document;
use crate::error::{Limits, PdfError};
use crate::fields::{
    add_annotations, form_for_update, new_field, new_widget, page, signature_fields,
};
use crate::object::{Dictionary, Object, ObjectId, text_string};
use crate::signer::Signer;
use crate::tsp::{ID_AA_SIGNATURE_TIME_STAMP_TOKEN, TimeStampRequest, TimeStampToken};
use crate::writer::IncrementalUpdate;
use std::ops::Range;

/// Where the signature goes.
#[derive(Clone, Debug)]
pub enum Placement {
    /// No visible widget (a zero-size annotation on page 1).
    Invisible,
    /// A rectangle on a page: `[x, y, width, height]` in PDF points from the bottom-left.
    Rect {
        /// 1-based page number.
        page: u32,
        /// `[x, y, width, height]`.
        rect: [f64; 4],
    },
    /// An existing unsigned signature field, by fully qualified name.
    Field(String),
    /// Right after the first occurrence of `text` (e.g. `借款人（签字）：`), vertically centred
    /// on its line, `size` = `[width, height]` points; `page` restricts the search.
    Keyword {
        /// Text to find (whitespace and full-width/ASCII punctuation differences are ignored).
        text: String,
        /// Only this page (1-based), or every page in order.
        page: Option<u32>,
        /// `[width, height]` of the signature box.
        size: [f64; 2],
    },
}

/// Turn a keyword placement into a page and a rectangle `[x, y, w, h]` inside that page.
fn locate_keyword(
    doc: &Document<'_>,
    text: &str,
    page_filter: Option<u32>,
    [w, h]: [f64; 2],
) -> Result<(u32, [f64; 4]), PdfError> {
    let all = crate::pages::pages(doc)?;
    for (i, pg) in all.iter().enumerate() {
        let number = i as u32 + 1;
        if page_filter.is_some_and(|p| p != number) {
            continue;
        }
        if let Some(hit) = crate::text::find_text(doc, pg, text)?.first() {
            let b = pg.crop_box;
            let line_mid = (hit.rect[1] + hit.rect[3]) / 2.0;
            let x = (hit.rect[2] + 4.0).min(b[2] - w).max(b[0]);
            let y = (line_mid - h / 2.0).min(b[3] - h).max(b[1]);
            return Ok((number, [x, y, w, h]));
        }
    }
    if let Some(p) = page_filter {
        if p == 0 || p as usize > all.len() {
            return Err(PdfError::NoSuchPage {
                page: p,
                count: all.len() as u32,
            });
        }
    }
    Err(PdfError::KeywordNotFound(text.to_owned()))
}

/// Certification level (DocMDP `/P`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Certification {
    /// P=1: no changes at all.
    NoChanges,
    /// P=2: form filling and signing only.
    FormFillingAndSigning,
    /// P=3: also annotations.
    Annotations,
}

/// An empty signature field for a later signer, created with this signature.
#[derive(Clone, Debug)]
pub struct EmptyField {
    /// Field name (the later signer fills it with `Placement::Field(name)`).
    pub name: String,
    /// 1-based page.
    pub page: u32,
    /// `[x, y, width, height]` in points.
    pub rect: [f64; 4],
}

/// A paging seal (骑缝章): the seal split into vertical slices, one on the right edge of every
/// page, all widgets of the signature's one field, so that the seal is whole when the pages
/// are fanned and no page can be swapped unseen. Page 1 shows the left-most slice.
///
/// The seal's whole appearance is one Form XObject that every slice draws, clipped and
/// shifted, so the file grows by one small form per page. Slices follow each page's crop box
/// (a page's `/Rotate` is not compensated: put the edge where the page is read).
#[derive(Clone, Debug)]
pub struct PagingSeal {
    /// What the whole seal shows (usually [`AppearanceSpec::art`], a generated seal, or
    /// [`AppearanceSpec::image`], the registered seal image).
    pub appearance: AppearanceSpec,
    /// The seal's size on paper, `[width, height]` points.
    pub size: [f64; 2],
    /// The height of the seal's centre on every page, points from the crop box's bottom
    /// (default: the middle of each page).
    pub center_y: Option<f64>,
}

/// Which form fields this signature locks (FieldMDP).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FieldLock {
    /// Every field.
    All,
    /// Only these fields.
    Include(Vec<String>),
    /// Every field but these.
    Exclude(Vec<String>),
}

impl FieldLock {
    /// The lock a `/Lock` or FieldMDP `/TransformParams` dictionary describes (`None` for an
    /// unknown `/Action`). Field names in `/Fields` are text strings.
    pub fn from_dict(d: &Dictionary) -> Option<Self> {
        let names = || -> Vec<String> {
            match d.get(b"Fields") {
                Some(Object::Array(a)) => a
                    .iter()
                    .filter_map(|n| match n {
                        Object::String(s, _) => Some(crate::fields::decode_text(s)),
                        _ => None,
                    })
                    .collect(),
                _ => Vec::new(),
            }
        };
        match d.name(b"Action")? {
            b"All" => Some(FieldLock::All),
            b"Include" => Some(FieldLock::Include(names())),
            b"Exclude" => Some(FieldLock::Exclude(names())),
            _ => None,
        }
    }

    /// Whether the lock covers the field with fully qualified name `field` (a listed name
    /// also covers its descendants, `parent` covers `parent.child`).
    pub fn covers(&self, field: &str) -> bool {
        let listed = |names: &[String]| {
            names.iter().any(|n| {
                field == n
                    || field
                        .strip_prefix(n.as_str())
                        .is_some_and(|rest| rest.starts_with('.'))
            })
        };
        match self {
            FieldLock::All => true,
            FieldLock::Include(names) => listed(names),
            FieldLock::Exclude(names) => !listed(names),
        }
    }
}

/// How to sign.
#[derive(Clone, Debug)]
pub struct SignOptions {
    /// Name of a new field (default `Signature1`, `Signature2`, ...).
    pub field_name: Option<String>,
    /// Where.
    pub placement: Placement,
    /// What the widget shows (ignored when invisible).
    pub appearance: AppearanceSpec,
    /// Signing time, seconds since the Unix epoch (goes into `/M`).
    pub signing_time: u64,
    /// `/Reason`.
    pub reason: Option<String>,
    /// `/Location`.
    pub location: Option<String>,
    /// `/Name` of the signer.
    pub signer_name: Option<String>,
    /// Make this a certification signature.
    pub certify: Option<Certification>,
    /// Empty signature fields to create for later signers.
    pub empty_fields: Vec<EmptyField>,
    /// Also show the signature as a paging seal on every page (a new field only).
    pub paging_seal: Option<PagingSeal>,
    /// Form fields this signature locks (FieldMDP).
    pub lock: Option<FieldLock>,
    /// Bytes reserved for the CMS (default: certificates plus 8 KiB, plus
    /// [`TIME_STAMP_RESERVE`] when [`SignOptions::time_stamped`]).
    pub contents_reserve: Option<usize>,
    /// A signature time-stamp will be added ([`PreparedSignature::finish_with_time_stamp`],
    /// PAdES B-T): reserve room for the token in the default `/Contents` size.
    pub time_stamped: bool,
    /// Extra signed attributes.
    pub extra_attributes: Vec<ExtraAttribute>,
    /// The sealed handwriting record to embed and bind (see [`crate::ink_binding`]).
    pub ink_record: Option<Vec<u8>>,
    /// Add a new visible signature field to a document certified with DocMDP P=2 anyway.
    /// P=2 permits filling fields and signing, which validators (pyHanko, Adobe) read as
    /// signing the existing signature fields: a new visible field is a change the
    /// certification does not permit, and the certification signature will report it. Off by
    /// default: such a document is refused with [`PdfError::CertifiedFieldsOnly`].
    pub allow_breaking_certification: bool,
    /// Loading limits for the input.
    pub limits: Limits,
}

impl SignOptions {
    /// Defaults: invisible, signed now, no certification.
    pub fn new(signing_time: u64) -> Self {
        SignOptions {
            field_name: None,
            placement: Placement::Invisible,
            appearance: AppearanceSpec::default(),
            signing_time,
            reason: None,
            location: None,
            signer_name: None,
            certify: None,
            empty_fields: Vec::new(),
            paging_seal: None,
            lock: None,
            contents_reserve: None,
            time_stamped: false,
            extra_attributes: Vec::new(),
            ink_record: None,
            allow_breaking_certification: false,
            limits: Limits::default(),
        }
    }
}

/// A revision ready for its signature.
#[derive(Clone, Debug)]
pub struct PreparedSignature {
    tail: Vec<u8>,
    /// The `<...>` hole within `tail`.
    hole: Range<usize>,
    signed_attrs: Vec<u8>,
    algorithm: SignatureAlgorithm,
    chain: Vec<Vec<u8>>,
    byte_range: [usize; 4],
    time_stamped: bool,
}

/// `D:YYYYMMDDHHmmSS+00'00'` for a Unix time.
pub fn pdf_date(unix: u64) -> String {
    match der::DateTime::from_unix_duration(std::time::Duration::from_secs(unix)) {
        Ok(t) => format!(
            "D:{:04}{:02}{:02}{:02}{:02}{:02}+00'00'",
            t.year(),
            t.month(),
            t.day(),
            t.hour(),
            t.minutes(),
            t.seconds()
        ),
        Err(_) => "D:19700101000000+00'00'".into(),
    }
}

/// Extra `/Contents` bytes reserved for a signature time-stamp token when
/// [`SignOptions::time_stamped`] is set (a token with a short chain takes about 2 KiB; RSA
/// chains from public TSAs up to about 8 KiB).
pub const TIME_STAMP_RESERVE: usize = 10 * 1024;

const BYTE_RANGE_PLACEHOLDER: &str = "[0 0000000000 0000000000 0000000000]";

/// Append the signature revision to `input` and compute what must be signed.
pub fn prepare(
    input: &[u8],
    options: &SignOptions,
    algorithm: SignatureAlgorithm,
    chain: &[Vec<u8>],
) -> Result<PreparedSignature, PdfError> {
    let signer_cert = chain
        .first()
        .ok_or_else(|| PdfError::Signer("no signer certificate".into()))?;
    let revision = write_revision(input, options, Kind::Signature { algorithm, chain })?;
    let signed_attrs =
        cms::signed_attributes(algorithm, &revision.digest, signer_cert, &revision.extra)
            .map_err(|e| PdfError::Cms(e.to_string()))?;
    Ok(PreparedSignature {
        tail: revision.tail,
        hole: revision.hole,
        signed_attrs,
        algorithm,
        chain: chain.to_vec(),
        byte_range: revision.byte_range,
        time_stamped: options.time_stamped,
    })
}

/// What the new signature dictionary holds.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Kind<'a> {
    /// A PAdES signature (ETSI.CAdES.detached) by the holder of `chain[0]`.
    Signature {
        algorithm: SignatureAlgorithm,
        chain: &'a [Vec<u8>],
    },
    /// A document time-stamp (ETSI.RFC3161, PAdES B-LTA) whose imprint uses `digest`'s hash.
    DocumentTimeStamp { digest: SignatureAlgorithm },
}

impl Kind<'_> {
    fn digest_suite(self) -> SignatureAlgorithm {
        match self {
            Kind::Signature { algorithm, .. } => algorithm,
            Kind::DocumentTimeStamp { digest } => digest,
        }
    }
}

/// The written revision: the bytes to append with the `/Contents` hole, the byte range, the
/// digest of the covered bytes, and the signed attributes it adds (the ink binding).
pub(crate) struct Revision {
    pub(crate) tail: Vec<u8>,
    pub(crate) hole: Range<usize>,
    pub(crate) byte_range: [usize; 4],
    pub(crate) digest: Vec<u8>,
    extra: Vec<ExtraAttribute>,
}

/// The field, widget, appearance and signature dictionary of a new signature or document
/// time-stamp, written as an incremental update with a zeroed `/Contents` hole.
pub(crate) fn write_revision(
    input: &[u8],
    options: &SignOptions,
    kind: Kind<'_>,
) -> Result<Revision, PdfError> {
    let algorithm = kind.digest_suite();
    let doc = Document::load(input, &options.limits)?;
    let existing = signature_fields(&doc)?;
    let certified = docmdp_of(&doc)?;
    if certified == Some(1) {
        return Err(PdfError::Locked);
    }
    if certified == Some(2) && !options.allow_breaking_certification {
        check_only_existing_fields(&existing, options)?;
    }
    if options.certify.is_some() && existing.iter().any(|f| f.signed) {
        return Err(PdfError::Field(
            "certify".into(),
            "a certification signature must be the document's first signature".into(),
        ));
    }
    let (root_id, catalog_before) = doc.catalog()?;
    let mut catalog = catalog_before.clone();
    let mut update = IncrementalUpdate::new(&doc);
    let sig_id = update.allocate();
    // Widgets added in this revision, with their pages: written to /Annots and /Fields at once.
    let mut new_widgets: Vec<(crate::pages::PageRef, ObjectId)> = Vec::new();
    // Fields added in this revision (for /Fields): a widget, or a parent of widgets.
    let mut new_fields: Vec<ObjectId> = Vec::new();

    // The widget: an existing field, or a new one.
    match &options.placement {
        Placement::Field(name) => {
            if options.paging_seal.is_some() {
                return Err(PdfError::Field(
                    name.clone(),
                    "a paging seal needs a new field: its widgets on every page are added with it"
                        .into(),
                ));
            }
            let f = existing
                .iter()
                .find(|f| &f.name == name)
                .ok_or_else(|| PdfError::Field(name.clone(), "no such signature field".into()))?;
            if f.signed {
                return Err(PdfError::Field(name.clone(), "already signed".into()));
            }
            let mut field = doc.dict(&Object::Reference(f.field_id), "the field")?;
            field.set(b"V", Object::Reference(sig_id));
            let rect = f.rect.unwrap_or([0.0; 4]);
            let (w, h) = ((rect[2] - rect[0]).abs(), (rect[3] - rect[1]).abs());
            if f.widget_id == f.field_id {
                add_appearance(&mut update, &mut field, &options.appearance, w, h)?;
            } else {
                let mut widget = doc.dict(&Object::Reference(f.widget_id), "the widget")?;
                add_appearance(&mut update, &mut widget, &options.appearance, w, h)?;
                update.put(f.widget_id, &Object::Dictionary(widget));
            }
            update.put(f.field_id, &Object::Dictionary(field));
        }
        placement => {
            let (page_no, rect) = match placement {
                Placement::Rect { page, rect } => (*page, Some(*rect)),
                Placement::Keyword { text, page, size } => {
                    let (p, r) = locate_keyword(&doc, text, *page, *size)?;
                    (p, Some(r))
                }
                _ => (1, None),
            };
            let pg = page(&doc, page_no)?;
            let pdf_rect = match rect {
                Some(r) => checked_rect(&pg, r)?,
                None => [0.0; 4],
            };
            let name = match &options.field_name {
                Some(n) => {
                    if existing.iter().any(|f| &f.name == n) {
                        return Err(PdfError::Field(
                            n.clone(),
                            "a field with this name exists".into(),
                        ));
                    }
                    n.clone()
                }
                None => (1..)
                    .map(|i| format!("Signature{i}"))
                    .find(|n| !existing.iter().any(|f| &f.name == n))
                    .unwrap_or_else(|| "Signature".into()),
            };
            let widget_id = update.allocate();
            if let Some(paging) = &options.paging_seal {
                // A parent field whose kids are the widgets: the one on the signature line
                // (when placed) and a slice on every page.
                let field_id = widget_id;
                let mut field = Dictionary::new()
                    .with(b"FT", Object::name("Sig"))
                    .with(b"T", text_string(&name))
                    .with(b"V", Object::Reference(sig_id));
                if let Some(lock) = &options.lock {
                    field.set(b"Lock", Object::Dictionary(lock_dictionary(lock, true)));
                }
                let mut kids = Vec::new();
                if rect.is_some() {
                    let kid = update.allocate();
                    let mut widget = new_widget(pdf_rect, update.page_id(&doc, &pg)?, field_id);
                    let (w, h) = (pdf_rect[2] - pdf_rect[0], pdf_rect[3] - pdf_rect[1]);
                    add_appearance(&mut update, &mut widget, &options.appearance, w, h)?;
                    update.put(kid, &Object::Dictionary(widget));
                    kids.push(kid);
                    new_widgets.push((pg, kid));
                }
                for (slice_page, kid) in paging_slices(&doc, &mut update, paging, field_id)? {
                    kids.push(kid);
                    new_widgets.push((slice_page, kid));
                }
                field.set(
                    b"Kids",
                    Object::Array(kids.into_iter().map(Object::Reference).collect()),
                );
                update.put(field_id, &Object::Dictionary(field));
                new_fields.push(field_id);
            } else {
                let mut widget = new_field(&name, pdf_rect, update.page_id(&doc, &pg)?);
                widget.set(b"V", Object::Reference(sig_id));
                if rect.is_some() {
                    let (w, h) = (pdf_rect[2] - pdf_rect[0], pdf_rect[3] - pdf_rect[1]);
                    add_appearance(&mut update, &mut widget, &options.appearance, w, h)?;
                } else {
                    widget.set(b"F", Object::Integer(132 | 2)); // hidden
                }
                if let Some(lock) = &options.lock {
                    widget.set(b"Lock", Object::Dictionary(lock_dictionary(lock, true)));
                }
                update.put(widget_id, &Object::Dictionary(widget));
                new_widgets.push((pg, widget_id));
                new_fields.push(widget_id);
            }
        }
    }
    for f in &options.empty_fields {
        if existing.iter().any(|e| e.name == f.name)
            || options.field_name.as_deref() == Some(f.name.as_str())
        {
            return Err(PdfError::Field(
                f.name.clone(),
                "a field with this name exists".into(),
            ));
        }
        let pg = page(&doc, f.page)?;
        let r = checked_rect(&pg, f.rect)?;
        let id = update.allocate();
        let page_id = update.page_id(&doc, &pg)?;
        update.put(id, &Object::Dictionary(new_field(&f.name, r, page_id)));
        new_widgets.push((pg, id));
        new_fields.push(id);
    }
    if !new_widgets.is_empty() {
        let mut by_page: Vec<(crate::pages::PageRef, Vec<ObjectId>)> = Vec::new();
        for (pg, id) in &new_widgets {
            match by_page.iter_mut().find(|(p, _)| p.location == pg.location) {
                Some((_, ids)) => ids.push(*id),
                None => by_page.push((pg.clone(), vec![*id])),
            }
        }
        for (pg, ids) in &by_page {
            add_annotations(&doc, &mut update, pg, ids)?;
        }
    }
    // The form lists the new fields and says it holds signatures; written only when it changed.
    let plan = form_for_update(&doc)?;
    let mut form = plan.form.clone();
    if !new_fields.is_empty() {
        let mut fields = match form.get(b"Fields").map(|f| doc.resolve(f)).transpose()? {
            Some(Object::Array(a)) => a,
            _ => Vec::new(),
        };
        fields.extend(new_fields.iter().map(|id| Object::Reference(*id)));
        form.set(b"Fields", Object::Array(fields));
    }
    form.set(b"SigFlags", Object::Integer(3));
    if form != plan.form {
        match plan.form_id {
            Some(id) => update.put(id, &Object::Dictionary(form)),
            None => catalog.set(b"AcroForm", Object::Dictionary(form)),
        }
    }

    if options.certify.is_some() {
        let mut perms = match catalog.get(b"Perms").map(|p| doc.resolve(p)).transpose()? {
            Some(Object::Dictionary(d)) => d,
            _ => Dictionary::new(),
        };
        perms.set(b"DocMDP", Object::Reference(sig_id));
        catalog.set(b"Perms", Object::Dictionary(perms));
    }
    if catalog != catalog_before {
        update.put(root_id, &Object::Dictionary(catalog));
    }

    // The signature dictionary, serialized by hand so the placeholders are at known places.
    let reserve = options.contents_reserve.unwrap_or_else(|| match kind {
        Kind::Signature { chain, .. } => {
            chain.iter().map(Vec::len).sum::<usize>()
                + 8192
                + if options.time_stamped {
                    TIME_STAMP_RESERVE
                } else {
                    0
                }
        }
        Kind::DocumentTimeStamp { .. } => TIME_STAMP_RESERVE,
    });
    let mut extra = options.extra_attributes.clone();
    if let Some(record) = &options.ink_record {
        extra.push(
            crate::ink_binding::binding_attribute(record, algorithm, input)
                .map_err(|e| PdfError::Cms(e.to_string()))?,
        );
    }
    let (sig_body, br_rel, hole_rel) = signature_dictionary(options, reserve, kind, |head| {
        // An encrypted document's signature dictionary is encrypted like the revision's other
        // objects; /ByteRange and /Contents are written after it, in the clear.
        update
            .sealed(sig_id, &Object::Dictionary(head))
            .into_owned()
    });
    update.put_raw(sig_id, sig_body);
    let written = update.write(&doc);
    let mut tail = written.bytes;
    let body_at = *written
        .body_offsets
        .get(&sig_id)
        .ok_or_else(|| PdfError::Malformed("signature object was not written".into()))?;
    let hole = body_at + hole_rel.start..body_at + hole_rel.end;
    let total = input.len() + tail.len();
    let byte_range = [
        0,
        input.len() + hole.start,
        input.len() + hole.end,
        total - (input.len() + hole.end),
    ];
    let br_text = format!(
        "[{} {} {} {}]",
        byte_range[0], byte_range[1], byte_range[2], byte_range[3]
    );
    let br_slot = body_at + br_rel.start..body_at + br_rel.end;
    if br_text.len() > br_slot.len() {
        return Err(PdfError::Limit("file too large for the byte range".into()));
    }
    let mut padded = br_text.into_bytes();
    padded.resize(br_slot.len(), b' ');
    tail[br_slot].copy_from_slice(&padded);

    let digest = algorithm.digest(&[input, &tail[..hole.start], &tail[hole.end..]]);
    Ok(Revision {
        tail,
        hole,
        byte_range,
        digest,
        extra,
    })
}

/// The paging seal's widgets: the whole seal as one form, and on every page a widget at the
/// right edge whose appearance draws that form clipped to the page's slice.
fn paging_slices(
    doc: &Document<'_>,
    update: &mut IncrementalUpdate,
    paging: &PagingSeal,
    parent: ObjectId,
) -> Result<Vec<(crate::pages::PageRef, ObjectId)>, PdfError> {
    let all = crate::pages::pages(doc)?;
    let [sw, sh] = paging.size;
    if !(sw.is_finite() && sh.is_finite() && sw > 0.0 && sh > 0.0) {
        return Err(PdfError::Appearance(format!(
            "the paging seal's size {sw} x {sh} is not a positive size"
        )));
    }
    if all.len() < 2 {
        return Err(PdfError::Appearance(
            "a paging seal spans the edges of at least two pages; this document has one".into(),
        ));
    }
    let n = all.len() as f64;
    let slice = sw / n;
    let whole =
        add_form_xobject(update, &paging.appearance, sw, sh).map_err(PdfError::Appearance)?;
    let mut out = Vec::with_capacity(all.len());
    for (i, pg) in all.into_iter().enumerate() {
        let b = pg.crop_box;
        if sh > b[3] - b[1] || slice > b[2] - b[0] {
            return Err(PdfError::Appearance(format!(
                "the paging seal ({sw} x {sh} points) does not fit page {}",
                i + 1
            )));
        }
        let cy = paging
            .center_y
            .map_or((b[1] + b[3]) / 2.0, |y| b[1] + y)
            .clamp(b[1] + sh / 2.0, b[3] - sh / 2.0);
        let rect = [b[2] - slice, cy - sh / 2.0, b[2], cy + sh / 2.0];
        let form = update.allocate();
        let content = format!(
            "q 0 0 {w} {h} re W n 1 0 0 1 {dx} 0 cm /Seal Do Q\n",
            w = crate::object::format_real(slice),
            h = crate::object::format_real(sh),
            dx = crate::object::format_real(-(i as f64) * slice),
        );
        update.put(
            form,
            &Object::Stream(crate::object::Stream {
                dict: Dictionary::new()
                    .with(b"Type", Object::name("XObject"))
                    .with(b"Subtype", Object::name("Form"))
                    .with(
                        b"BBox",
                        Object::Array(vec![
                            Object::Integer(0),
                            Object::Integer(0),
                            Object::real(slice),
                            Object::real(sh),
                        ]),
                    )
                    .with(
                        b"Resources",
                        Object::Dictionary(Dictionary::new().with(
                            b"XObject",
                            Object::Dictionary(
                                Dictionary::new().with(b"Seal", Object::Reference(whole)),
                            ),
                        )),
                    ),
                data: content.into_bytes(),
            }),
        );
        let widget = new_widget(rect, update.page_id(doc, &pg)?, parent).with(
            b"AP",
            Object::Dictionary(Dictionary::new().with(b"N", Object::Reference(form))),
        );
        let id = update.allocate();
        update.put(id, &Object::Dictionary(widget));
        out.push((pg, id));
    }
    Ok(out)
}

fn add_appearance(
    update: &mut IncrementalUpdate,
    widget: &mut Dictionary,
    spec: &AppearanceSpec,
    w: f64,
    h: f64,
) -> Result<(), PdfError> {
    if w <= 0.0 || h <= 0.0 {
        return Ok(());
    }
    let ap_id = add_form_xobject(update, spec, w, h).map_err(PdfError::Appearance)?;
    widget.set(
        b"AP",
        Object::Dictionary(Dictionary::new().with(b"N", Object::Reference(ap_id))),
    );
    Ok(())
}

/// Serialize the signature dictionary, its head as `seal` writes it (encrypted for an
/// encrypted document); returns (body, ByteRange slot, Contents hole).
fn signature_dictionary(
    options: &SignOptions,
    reserve: usize,
    kind: Kind<'_>,
    seal: impl FnOnce(Dictionary) -> Object,
) -> (Vec<u8>, Range<usize>, Range<usize>) {
    let mut head = match kind {
        Kind::Signature { .. } => Dictionary::new()
            .with(b"Type", Object::name("Sig"))
            .with(b"Filter", Object::name("Adobe.PPKLite"))
            .with(b"SubFilter", Object::name("ETSI.CAdES.detached"))
            .with(b"M", Object::string(&pdf_date(options.signing_time))),
        // ISO 32000-2 12.8.5: no /M, /Name or /Reason: the token says when, and who.
        Kind::DocumentTimeStamp { .. } => Dictionary::new()
            .with(b"Type", Object::name("DocTimeStamp"))
            .with(b"Filter", Object::name("Adobe.PPKLite"))
            .with(b"SubFilter", Object::name("ETSI.RFC3161")),
    };
    if let Some(n) = &options.signer_name {
        head.set(b"Name", text_string(n));
    }
    if let Some(r) = &options.reason {
        head.set(b"Reason", text_string(r));
    }
    if let Some(l) = &options.location {
        head.set(b"Location", text_string(l));
    }
    if let Some(level) = options.certify {
        let p = match level {
            Certification::NoChanges => 1,
            Certification::FormFillingAndSigning => 2,
            Certification::Annotations => 3,
        };
        let params = Dictionary::new()
            .with(b"Type", Object::name("TransformParams"))
            .with(b"P", Object::Integer(p))
            .with(b"V", Object::name("1.2"));
        let reference = Dictionary::new()
            .with(b"Type", Object::name("SigRef"))
            .with(b"TransformMethod", Object::name("DocMDP"))
            .with(b"TransformParams", Object::Dictionary(params));
        head.set(
            b"Reference",
            Object::Array(vec![Object::Dictionary(reference)]),
        );
    }
    if let (Some(record), Kind::Signature { .. }) = (&options.ink_record, kind) {
        // A direct string in the signature dictionary: covered by the byte range, and no
        // object of its own that a validator's change analysis would have to explain.
        head.set(
            crate::ink_binding::RECORD_KEY,
            Object::String(record.clone(), true),
        );
    }
    if let Some(lock) = &options.lock {
        let reference = Dictionary::new()
            .with(b"Type", Object::name("SigRef"))
            .with(b"TransformMethod", Object::name("FieldMDP"))
            .with(
                b"TransformParams",
                Object::Dictionary(lock_dictionary(lock, false)),
            );
        let mut refs = match head.remove(b"Reference") {
            Some(Object::Array(a)) => a,
            _ => Vec::new(),
        };
        refs.push(Object::Dictionary(reference));
        head.set(b"Reference", Object::Array(refs));
    }
    let mut body = Vec::new();
    seal(head).write(&mut body);
    body.truncate(body.len() - 2); // reopen the dictionary: drop ">>"
    body.extend_from_slice(b" /ByteRange ");
    let br = body.len()..body.len() + BYTE_RANGE_PLACEHOLDER.len() + 8;
    body.extend_from_slice(BYTE_RANGE_PLACEHOLDER.as_bytes());
    body.extend_from_slice(&[b' '; 8]);
    body.extend_from_slice(b" /Contents ");
    let hole_start = body.len();
    body.push(b'<');
    body.extend(std::iter::repeat_n(b'0', reserve * 2));
    body.push(b'>');
    let hole = hole_start..body.len();
    body.extend_from_slice(b">>");
    (body, br, hole)
}

/// `[x, y, w, h]` to `[x0, y0, x1, y1]`, refusing rectangles that are empty or off the page.
fn checked_rect(pg: &crate::pages::PageRef, [x, y, w, h]: [f64; 4]) -> Result<[f64; 4], PdfError> {
    let r = [x, y, x + w, y + h];
    let b = pg.crop_box;
    let inside = r.iter().all(|v| v.is_finite())
        && w > 0.0
        && h > 0.0
        && r[0] >= b[0]
        && r[1] >= b[1]
        && r[2] <= b[2]
        && r[3] <= b[3];
    if inside {
        Ok(r)
    } else {
        Err(PdfError::RectOffPage {
            rect: r,
            page_box: b,
        })
    }
}

/// The `/Lock` (on the field) or FieldMDP `/TransformParams` (in the signature) dictionary.
fn lock_dictionary(lock: &FieldLock, for_field: bool) -> Dictionary {
    let mut d = Dictionary::new().with(
        b"Type",
        Object::name(if for_field {
            "SigFieldLock"
        } else {
            "TransformParams"
        }),
    );
    let names = |v: &[String]| Object::Array(v.iter().map(|n| text_string(n)).collect());
    match lock {
        FieldLock::All => d.set(b"Action", Object::name("All")),
        FieldLock::Include(v) => {
            d.set(b"Action", Object::name("Include"));
            d.set(b"Fields", names(v));
        }
        FieldLock::Exclude(v) => {
            d.set(b"Action", Object::name("Exclude"));
            d.set(b"Fields", names(v));
        }
    }
    if !for_field {
        d.set(b"V", Object::name("1.2"));
    }
    d
}

/// The DocMDP level of the document's certification signature, if it is certified.
fn docmdp_of(doc: &Document<'_>) -> Result<Option<i64>, PdfError> {
    let (_, catalog) = doc.catalog()?;
    let Some(perms) = catalog.get(b"Perms") else {
        return Ok(None);
    };
    let perms = doc.dict(perms, "/Perms")?;
    let Some(sig) = perms.get(b"DocMDP") else {
        return Ok(None);
    };
    let sig = doc.dict(sig, "the DocMDP signature")?;
    Ok(crate::mdp::docmdp_level(doc, &sig))
}

/// Under a DocMDP P=2 certification, sign an existing empty signature field, or invisibly:
/// a new visible field (or a paging seal's widgets) is an annotation the certification does
/// not permit (ISO 32000-1, 12.8.2.2: P=2 permits "filling in forms, instantiating page
/// templates, and signing"; validators read signing as signing the fields the certifier left).
fn check_only_existing_fields(
    existing: &[crate::fields::SigField],
    options: &SignOptions,
) -> Result<(), PdfError> {
    let new_visible = match &options.placement {
        Placement::Field(_) => false,
        Placement::Invisible => options.paging_seal.is_some(),
        Placement::Rect { .. } | Placement::Keyword { .. } => true,
    };
    if !new_visible && options.empty_fields.is_empty() {
        return Ok(());
    }
    let empty: Vec<&str> = existing
        .iter()
        .filter(|f| !f.signed)
        .map(|f| f.name.as_str())
        .collect();
    Err(PdfError::CertifiedFieldsOnly {
        empty_fields: if empty.is_empty() {
            "none left".into()
        } else {
            empty.join(", ")
        },
    })
}

impl PreparedSignature {
    /// The bytes the signer must sign (DER of the CMS signed attributes).
    pub fn to_be_signed(&self) -> &[u8] {
        &self.signed_attrs
    }

    /// The `/ByteRange` of the new signature.
    pub fn byte_range(&self) -> [usize; 4] {
        self.byte_range
    }

    /// Whether an input of `input_len` bytes is as long as the one this signature was
    /// prepared from (a cheap guard against appending the signature to another document).
    pub fn prepared_for_length(&self, input_len: usize) -> bool {
        input_len + self.tail.len() == self.byte_range[2] + self.byte_range[3]
    }

    /// Whether it was prepared for a signature time-stamp ([`SignOptions::time_stamped`]).
    pub fn time_stamped(&self) -> bool {
        self.time_stamped
    }

    /// Embed the signature and return the bytes to append to the input.
    pub fn finish(self, signature: &[u8]) -> Result<Vec<u8>, PdfError> {
        self.embed(signature, &[])
    }

    /// The request for a signature time-stamp over `signature` (PAdES B-T): the imprint is the
    /// suite's digest (SM3 or SHA-256) of the signature value, with `nonce` (drawn by the
    /// caller, 8 to 32 bytes advised) and the TSA certificate asked for. Send it to any
    /// RFC 3161 TSA, check the reply with [`crate::tsp::check_reply`], then
    /// [`PreparedSignature::finish_with_time_stamp`].
    pub fn time_stamp_request(
        &self,
        signature: &[u8],
        nonce: &[u8],
    ) -> Result<TimeStampRequest, PdfError> {
        TimeStampRequest::new(
            self.algorithm,
            &self.algorithm.digest(&[signature]),
            Some(nonce),
            None,
        )
        .map_err(PdfError::TimeStamp)
    }

    /// The next step towards PAdES B-T: hold `signature` while its time-stamp is fetched.
    /// Send [`AwaitingTimeStamp::request_der`] to any RFC 3161 TSA (over any transport, sync or
    /// async) and hand the reply to [`AwaitingTimeStamp::finish`]. `nonce` is drawn by the
    /// caller (8 to 32 bytes advised).
    pub fn await_time_stamp(
        self,
        signature: &[u8],
        nonce: &[u8],
    ) -> Result<AwaitingTimeStamp, PdfError> {
        let request = self.time_stamp_request(signature, nonce)?;
        Ok(AwaitingTimeStamp {
            prepared: self,
            signature: signature.to_vec(),
            request,
        })
    }

    /// Embed the signature with `token` as its signature time-stamp (the unsigned attribute
    /// id-aa-signatureTimeStampToken), after checking the token covers `signature`.
    pub fn finish_with_time_stamp(
        self,
        signature: &[u8],
        token: &TimeStampToken,
    ) -> Result<Vec<u8>, PdfError> {
        if !token.covers(&[signature]) {
            return Err(PdfError::TimeStamp(crate::tsp::TspError::ImprintMismatch));
        }
        let attribute = ExtraAttribute::new(
            ID_AA_SIGNATURE_TIME_STAMP_TOKEN,
            vec![token.to_der().to_vec()],
        );
        self.embed(signature, &[attribute])
    }

    fn embed(mut self, signature: &[u8], unsigned: &[ExtraAttribute]) -> Result<Vec<u8>, PdfError> {
        let cms = cms::assemble_with_unsigned(
            self.algorithm,
            &self.signed_attrs,
            signature,
            &self.chain,
            unsigned,
        )
        .map_err(|e| PdfError::Cms(e.to_string()))?;
        fill_contents(&mut self.tail, &self.hole, &cms)?;
        Ok(self.tail)
    }
}

/// Write `der` as upper-case hex into the zero-filled `/Contents` hole `<...>` of `tail`.
pub(crate) fn fill_contents(
    tail: &mut [u8],
    hole: &Range<usize>,
    der: &[u8],
) -> Result<(), PdfError> {
    let room = (hole.len() - 2) / 2;
    if der.len() > room {
        return Err(PdfError::ContentsTooSmall {
            needed: der.len(),
            reserved: room,
        });
    }
    let hex = hex::encode_upper(der);
    let start = hole.start + 1;
    tail[start..start + hex.len()].copy_from_slice(hex.as_bytes());
    Ok(())
}

/// Sign in one call with a synchronous signer; returns the bytes to append to `input`.
pub fn sign(input: &[u8], options: &SignOptions, signer: &dyn Signer) -> Result<Vec<u8>, PdfError> {
    let prepared = prepare(
        input,
        options,
        signer.algorithm(),
        signer.certificate_chain(),
    )?;
    let signature = signer
        .sign(prepared.to_be_signed())
        .map_err(|e| PdfError::Signer(e.to_string()))?;
    prepared.finish(&signature)
}

/// Sign a file: the output is written to a temporary file next to `output` and renamed into
/// place only when complete, so a failure never leaves a partial file. The copy of the input is
/// written on a second thread while the signing code digests it.
pub fn sign_file(
    input: &std::path::Path,
    output: &std::path::Path,
    options: &SignOptions,
    signer: &dyn Signer,
) -> Result<(), PdfError> {
    let io = |e: std::io::Error| PdfError::Io(format!("{}: {e}", output.display()));
    let data =
        std::fs::read(input).map_err(|e| PdfError::Io(format!("{}: {e}", input.display())))?;
    let mut out =
        inkseal_fs::AtomicFile::create(output, inkseal_fs::Visibility::Default).map_err(io)?;
    let (tail, copied) = std::thread::scope(|scope| {
        let copier = scope.spawn(|| out.write_all(&data));
        let tail = sign(&data, options, signer);
        (tail, copier.join())
    });
    let tail = tail?;
    copied
        .map_err(|_| PdfError::Io("the writer thread failed".into()))?
        .map_err(io)?;
    out.write_all(&tail).map_err(io)?;
    out.commit().map_err(io)
}

/// Write parts to `path` through a temporary file and a rename.
pub fn write_atomically(path: &std::path::Path, parts: &[&[u8]]) -> Result<(), PdfError> {
    inkseal_fs::write_atomically(path, parts, inkseal_fs::Visibility::Default)
        .map_err(|e| PdfError::Io(format!("{}: {e}", path.display())))
}

/// A signature waiting for its signature time-stamp (from
/// [`PreparedSignature::await_time_stamp`]): the request to send, and the step that checks the
/// TSA's reply and embeds its token.
#[derive(Clone, Debug)]
pub struct AwaitingTimeStamp {
    prepared: PreparedSignature,
    signature: Vec<u8>,
    request: TimeStampRequest,
}

impl AwaitingTimeStamp {
    /// The RFC 3161 request.
    pub fn request(&self) -> &TimeStampRequest {
        &self.request
    }

    /// The request's DER, the body of an `application/timestamp-query` POST.
    pub fn request_der(&self) -> Result<Vec<u8>, PdfError> {
        self.request.to_der().map_err(PdfError::TimeStamp)
    }

    /// Check the TSA's DER reply (status, imprint, nonce, the TSA's signature and the usage of
    /// its certificate; [`crate::tsp::check_reply`]) and embed its token; returns the bytes to
    /// append to the input. A refusal or a bad reply is [`PdfError::TimeStamp`].
    pub fn finish(self, reply: &[u8]) -> Result<Vec<u8>, PdfError> {
        let token = crate::tsp::check_reply(&self.request, reply).map_err(PdfError::TimeStamp)?;
        self.prepared
            .finish_with_time_stamp(&self.signature, &token)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_locks_cover_the_listed_fields_and_their_children() {
        let include = FieldLock::Include(vec!["Borrower".into(), "terms".into()]);
        assert!(include.covers("Borrower"));
        assert!(include.covers("terms.amount"));
        assert!(
            !include.covers("BorrowerWitness"),
            "a prefix is not a parent"
        );
        assert!(!include.covers("Officer"));
        let exclude = FieldLock::Exclude(vec!["Borrower".into()]);
        assert!(!exclude.covers("Borrower"));
        assert!(exclude.covers("Officer"));
        assert!(FieldLock::All.covers("anything"));
    }

    #[test]
    fn locks_round_trip_through_their_dictionaries() {
        for lock in [
            FieldLock::All,
            FieldLock::Include(vec!["甲方".into(), "b".into()]),
            FieldLock::Exclude(vec!["c".into()]),
        ] {
            for for_field in [true, false] {
                let d = lock_dictionary(&lock, for_field);
                assert_eq!(FieldLock::from_dict(&d), Some(lock.clone()));
            }
        }
        let unknown = Dictionary::new().with(b"Action", Object::name("Sometimes"));
        assert_eq!(FieldLock::from_dict(&unknown), None);
    }
}
