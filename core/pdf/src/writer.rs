//! Incremental updates: new and changed objects appended after the original bytes, with a
//! cross-reference section (table or stream, matching the original) whose /Prev chains back.

use crate::crypt::SecurityHandler;
use crate::document::Document;
use crate::error::PdfError;
use crate::object::{Dictionary, Object, ObjectId};
use crate::pages::{PageLocation, PageRef};
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::Arc;

/// Objects to append as one new revision. The revision of an encrypted document is encrypted
/// with the document's own security handler: [`IncrementalUpdate::put`] encrypts, and
/// [`IncrementalUpdate::sealed`] gives what a hand-serialized object must contain.
#[derive(Debug)]
pub struct IncrementalUpdate {
    next: u32,
    bodies: BTreeMap<ObjectId, Vec<u8>>,
    crypt: Option<Arc<SecurityHandler>>,
    /// Pages written directly in a /Kids array that this update gave an object of their own,
    /// by their place in the tree.
    promoted: BTreeMap<PageLocation, ObjectId>,
    /// The objects holding those /Kids arrays as this update rewrites them (a page tree node,
    /// or the array when the node keeps its /Kids in an object of its own).
    kids_holders: BTreeMap<ObjectId, Object>,
}

/// The serialized revision.
#[derive(Debug)]
pub struct WrittenUpdate {
    /// Bytes to append to the original file.
    pub bytes: Vec<u8>,
    /// Offset of each object's body (after `n g obj\n`) within `bytes`.
    pub body_offsets: BTreeMap<ObjectId, usize>,
}

impl IncrementalUpdate {
    /// Start an update of `doc`; new objects are numbered after its highest.
    pub fn new(doc: &Document<'_>) -> Self {
        IncrementalUpdate {
            next: doc.next_object_number().max(1),
            bodies: BTreeMap::new(),
            crypt: doc.security_handler().cloned(),
            promoted: BTreeMap::new(),
            kids_holders: BTreeMap::new(),
        }
    }

    /// `obj` as object `id` is written in this revision: encrypted with the document's
    /// security handler if it has one (a signature dictionary's `/Contents` excepted).
    pub fn sealed<'o>(&self, id: ObjectId, obj: &'o Object) -> Cow<'o, Object> {
        match &self.crypt {
            Some(c) => Cow::Owned(c.encrypt_object(id, obj)),
            None => Cow::Borrowed(obj),
        }
    }

    /// The object of `page` in this update, to refer to it (a widget's /P) or to replace it.
    ///
    /// A page written directly in its parent's /Kids (see [`crate::pages`]) gets an object of
    /// its own, allocated here the first time: the same dictionary with /Parent naming the
    /// parent, and the parent rewritten with a reference in that /Kids entry. Giving it an
    /// object rather than rewriting the dictionary inside the parent: a widget's /P must be an
    /// indirect reference to its page, and the page tree then is what ISO 32000 asks for. The
    /// change analysis (ours, [`crate::changes`]) allows exactly this rewrite of a page tree
    /// node. pyHanko 0.38 judges neither choice: when a revision adds a signature field after
    /// a signature, it walks the earlier revision's page tree and refuses any direct kid
    /// ("Array contains direct objects"), for its own second signature too
    /// (`tests/tests/direct_pages.rs`); a single inkseal signature on a direct kid it
    /// validates as untouched.
    pub fn page_id(&mut self, doc: &Document<'_>, page: &PageRef) -> Result<ObjectId, PdfError> {
        let (parent, index) = match page.location {
            PageLocation::Object(id) => return Ok(id),
            PageLocation::Direct { parent, index } => (parent, index),
        };
        if let Some(id) = self.promoted.get(&page.location) {
            return Ok(*id);
        }
        // The object holding the /Kids array: the node, or its /Kids array object.
        let node = doc.dict(&Object::Reference(parent), "a page tree node")?;
        let holder_id = match node.get(b"Kids") {
            Some(Object::Reference(kids)) => *kids,
            _ => parent,
        };
        let holder = match self.kids_holders.remove(&holder_id) {
            Some(h) => h,
            None if holder_id == parent => Object::Dictionary(node),
            None => doc.resolve(&Object::Reference(holder_id))?,
        };
        let id = self.allocate();
        let mut holder = holder;
        let kids = match &mut holder {
            Object::Dictionary(d) => match d.get_mut(b"Kids") {
                Some(Object::Array(kids)) => Some(kids),
                _ => None,
            },
            Object::Array(kids) => Some(kids),
            _ => None,
        };
        match kids.and_then(|kids| kids.get_mut(index)) {
            Some(kid @ Object::Dictionary(_)) => *kid = Object::Reference(id),
            _ => {
                return Err(PdfError::Malformed(format!(
                    "page tree node {} has no page at /Kids index {index}",
                    parent.0
                )));
            }
        }
        self.put(holder_id, &holder);
        self.kids_holders.insert(holder_id, holder);
        self.promoted.insert(page.location, id);
        let mut dict = page.dict.clone();
        dict.set(b"Parent", Object::Reference(parent));
        self.put(id, &Object::Dictionary(dict));
        Ok(id)
    }

    /// Replace `page`'s dictionary by `dict` (giving a page written directly in a /Kids array
    /// an object of its own, see [`IncrementalUpdate::page_id`]); returns the page's object.
    pub fn put_page(
        &mut self,
        doc: &Document<'_>,
        page: &PageRef,
        mut dict: Dictionary,
    ) -> Result<ObjectId, PdfError> {
        let id = self.page_id(doc, page)?;
        if let PageLocation::Direct { parent, .. } = page.location {
            dict.set(b"Parent", Object::Reference(parent));
        }
        self.put(id, &Object::Dictionary(dict));
        Ok(id)
    }

    /// Reserve a new object number.
    pub fn allocate(&mut self) -> ObjectId {
        let id = ObjectId(self.next, 0);
        self.next += 1;
        id
    }

    /// Set an object (new or replacing an existing one), encrypted if the document is.
    pub fn put(&mut self, id: ObjectId, obj: &Object) {
        let mut body = Vec::new();
        self.sealed(id, obj).write(&mut body);
        self.bodies.insert(id, body);
    }

    /// Set an object from already serialized bytes (for templates with placeholders). Its
    /// strings and streams must already be what [`IncrementalUpdate::sealed`] gives.
    pub fn put_raw(&mut self, id: ObjectId, body: Vec<u8>) {
        self.bodies.insert(id, body);
    }

    /// Serialize after `doc`'s bytes: objects, then the cross-reference section and trailer.
    pub fn write(mut self, doc: &Document<'_>) -> WrittenUpdate {
        let original = doc.data();
        let mut out = Vec::new();
        if !original.ends_with(b"\n") && !original.ends_with(b"\r") {
            out.push(b'\n');
        }
        let base = original.len();
        let use_stream = doc.sections.first().is_some_and(|s| s.is_stream);
        let xref_id = use_stream.then(|| self.allocate());
        let mut offsets = BTreeMap::new();
        let mut body_offsets = BTreeMap::new();
        for (id, body) in &self.bodies {
            offsets.insert(*id, base + out.len());
            out.extend_from_slice(format!("{} {} obj\n", id.0, id.1).as_bytes());
            body_offsets.insert(*id, out.len());
            out.extend_from_slice(body);
            out.extend_from_slice(b"\nendobj\n");
        }
        let mut trailer = Dictionary::new();
        trailer.set(b"Size", Object::Integer(i64::from(self.next)));
        // An encrypted document's revisions keep its /Encrypt (never rewritten) and /ID (the
        // key derivation uses its first element).
        for key in [&b"Root"[..], b"Info", b"ID", b"Encrypt"] {
            if let Some(v) = doc.trailer.get(key) {
                trailer.set(key, v.clone());
            }
        }
        trailer.set(b"Prev", Object::Integer(doc.startxref() as i64));
        let xref_offset = base + out.len();
        match xref_id {
            None => {
                out.extend_from_slice(b"xref\n");
                for run in runs(&offsets) {
                    out.extend_from_slice(format!("{} {}\n", run[0].0.0, run.len()).as_bytes());
                    for (id, off) in run {
                        out.extend_from_slice(format!("{off:010} {:05} n\r\n", id.1).as_bytes());
                    }
                }
                out.extend_from_slice(b"trailer\n");
                trailer.write(&mut out);
                out.push(b'\n');
            }
            Some(xid) => {
                offsets.insert(xid, xref_offset);
                let mut data = Vec::new();
                let mut index = Vec::new();
                for run in runs(&offsets) {
                    index.push(Object::Integer(i64::from(run[0].0.0)));
                    index.push(Object::Integer(run.len() as i64));
                    for (id, off) in run {
                        data.push(1u8);
                        data.extend_from_slice(&(off as u64).to_be_bytes()[3..]);
                        data.extend_from_slice(&id.1.to_be_bytes());
                    }
                }
                trailer.set(b"Type", Object::name("XRef"));
                trailer.set(
                    b"W",
                    Object::Array(vec![
                        Object::Integer(1),
                        Object::Integer(5),
                        Object::Integer(2),
                    ]),
                );
                trailer.set(b"Index", Object::Array(index));
                out.extend_from_slice(format!("{} 0 obj\n", xid.0).as_bytes());
                Object::Stream(crate::object::Stream {
                    dict: trailer,
                    data,
                })
                .write(&mut out);
                out.extend_from_slice(b"\nendobj\n");
            }
        }
        out.extend_from_slice(format!("startxref\n{xref_offset}\n%%EOF\n").as_bytes());
        WrittenUpdate {
            bytes: out,
            body_offsets,
        }
    }
}

/// Group object offsets into runs of consecutive object numbers.
fn runs(offsets: &BTreeMap<ObjectId, usize>) -> Vec<Vec<(ObjectId, usize)>> {
    let mut runs: Vec<Vec<(ObjectId, usize)>> = Vec::new();
    for (id, off) in offsets {
        match runs.last_mut() {
            Some(run) if run.last().is_some_and(|(last, _)| last.0 + 1 == id.0) => {
                run.push((*id, *off))
            }
            _ => runs.push(vec![(*id, *off)]),
        }
    }
    runs
}

/// A whole PDF file with a classic cross-reference table: object `i + 1` is `bodies[i]`
/// (serialized object text), and `trailer` holds the trailer's entries besides `/Size`
/// (e.g. `/Root 1 0 R`).
pub fn classic_file(bodies: &[Vec<u8>], trailer: &str) -> Vec<u8> {
    let mut out = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n".to_vec();
    let mut offsets = Vec::with_capacity(bodies.len());
    for (i, body) in bodies.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n", i + 1).as_bytes());
        out.extend_from_slice(body);
        out.extend_from_slice(b"\nendobj\n");
    }
    let xref = out.len();
    out.extend_from_slice(
        format!("xref\n0 {}\n0000000000 65535 f\r\n", bodies.len() + 1).as_bytes(),
    );
    for off in offsets {
        out.extend_from_slice(format!("{off:010} 00000 n\r\n").as_bytes());
    }
    out.extend_from_slice(
        format!(
            "trailer\n<</Size {} {trailer}>>\nstartxref\n{xref}\n%%EOF\n",
            bodies.len() + 1
        )
        .as_bytes(),
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Limits;

    /// Two pages written directly in a /Kids array kept in an object of its own: both get
    /// objects, the array is rewritten once with both references, and the pages read back in
    /// order with their /Parent.
    #[test]
    fn direct_kids_get_objects_of_their_own() {
        let page = "<</Type /Page /MediaBox [0 0 100 100]>>";
        let bodies: Vec<Vec<u8>> = [
            "<</Type /Catalog /Pages 2 0 R>>".to_owned(),
            "<</Type /Pages /Count 2 /Kids 3 0 R>>".to_owned(),
            format!("[{page} {page}]"),
        ]
        .iter()
        .map(|b| b.as_bytes().to_vec())
        .collect();
        let original = classic_file(&bodies, "/Root 1 0 R");
        let doc = Document::load(&original, &Limits::default()).expect("load");
        let pages = crate::pages::pages(&doc).expect("pages");
        assert_eq!(pages.len(), 2);
        let mut update = IncrementalUpdate::new(&doc);
        let second = update.page_id(&doc, &pages[1]).expect("second");
        assert_eq!(update.page_id(&doc, &pages[1]).expect("again"), second);
        let first = update
            .put_page(&doc, &pages[0], {
                let small = [0, 0, 50, 50].map(Object::Integer).to_vec();
                Dictionary::new()
                    .with(b"Type", Object::name("Page"))
                    .with(b"MediaBox", Object::Array(small))
            })
            .expect("first");
        assert_ne!(first, second);
        let tail = update.write(&doc).bytes;
        let updated = [original.as_slice(), &tail].concat();
        let doc = Document::load(&updated, &Limits::default()).expect("reload");
        assert_eq!(
            doc.resolve(&Object::Reference(ObjectId(3, 0)))
                .expect("kids"),
            Object::Array(vec![Object::Reference(first), Object::Reference(second)])
        );
        let pages = crate::pages::pages(&doc).expect("pages");
        assert_eq!(
            pages.iter().map(|p| p.location).collect::<Vec<_>>(),
            vec![PageLocation::Object(first), PageLocation::Object(second)]
        );
        for p in &pages {
            assert_eq!(
                p.dict.get(b"Parent"),
                Some(&Object::Reference(ObjectId(2, 0)))
            );
        }
        // The second kept its dictionary, the first has what put_page gave it.
        assert_eq!(pages[1].crop_box, [0.0, 0.0, 100.0, 100.0]);
        assert_eq!(pages[0].crop_box, [0.0, 0.0, 50.0, 50.0]);
    }

    /// A /Kids entry that is neither a reference nor a page is a typed error, not a panic.
    #[test]
    fn odd_kids_are_refused() {
        for kids in ["[5]", "[<</Type /Pages /Kids []>>]"] {
            let bodies: Vec<Vec<u8>> = [
                "<</Type /Catalog /Pages 2 0 R>>".to_owned(),
                format!("<</Type /Pages /Count 1 /Kids {kids}>>"),
            ]
            .iter()
            .map(|b| b.as_bytes().to_vec())
            .collect();
            let original = classic_file(&bodies, "/Root 1 0 R");
            let doc = Document::load(&original, &Limits::default()).expect("load");
            assert!(matches!(
                crate::pages::pages(&doc),
                Err(crate::error::PdfError::Malformed(_))
            ));
        }
    }

    #[test]
    fn an_update_reloads_with_the_new_and_changed_objects() {
        let original = crate::testing::minimal_pdf();
        let doc = Document::load(&original, &Limits::default()).expect("load");
        let mut update = IncrementalUpdate::new(&doc);
        let new_id = update.allocate();
        update.put(new_id, &Object::string("hello"));
        let (root, mut catalog) = doc.catalog().expect("catalog");
        catalog.set(b"Extra", Object::Reference(new_id));
        update.put(root, &Object::Dictionary(catalog));
        let written = update.write(&doc);
        let mut full = original.clone();
        full.extend_from_slice(&written.bytes);
        let doc2 = Document::load(&full, &Limits::default()).expect("reload");
        assert_eq!(doc2.sections.len(), 2);
        assert_eq!(doc2.sections[0].end, full.len());
        assert_eq!(doc2.sections[1].end, original.len());
        let (_, cat2) = doc2.catalog().expect("catalog");
        let extra = doc2
            .resolve(cat2.get(b"Extra").expect("extra"))
            .expect("resolve");
        assert_eq!(extra, Object::string("hello"));
        assert_eq!(
            &full[..original.len()],
            &original[..],
            "original bytes untouched"
        );
    }
}
