//! Incremental updates: new and changed objects appended after the original bytes, with a
//! cross-reference section (table or stream, matching the original) whose /Prev chains back.

use crate::crypt::SecurityHandler;
use crate::document::Document;
use crate::object::{Dictionary, Object, ObjectId};
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
        }
    }

    /// `obj` as object `id` is written in this revision: encrypted with the document's
    /// security handler if it has one (a signature dictionary's `/Contents` excepted).
    pub fn sealed(&self, id: ObjectId, obj: &Object) -> Object {
        match &self.crypt {
            Some(c) => c.encrypt_object(id, obj),
            None => obj.clone(),
        }
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
        match &self.crypt {
            Some(c) => c.encrypt_object(id, obj).write(&mut body),
            None => obj.write(&mut body),
        }
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
