//! A PDF loaded lazily: cross-reference data is read up front, objects only when asked for.

use crate::crypt::SecurityHandler;
use crate::error::{Limits, PdfError};
use crate::filters::decode_stream;
use crate::object::{Dictionary, Object, ObjectId};
use crate::parser::Parser;
use crate::xref::{Section, XrefEntry, load_sections};
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::Arc;

/// A loaded PDF over borrowed bytes.
pub struct Document<'a> {
    data: &'a [u8],
    /// Cross-reference sections, newest first (one per revision).
    pub sections: Vec<Section>,
    xref: HashMap<u32, XrefEntry>,
    /// The newest trailer.
    pub trailer: Dictionary,
    limits: Limits,
    /// Decoded object streams by the byte offset of the stream object.
    objstm_cache: RefCell<HashMap<usize, Rc<ObjectStreamContents>>>,
    /// The standard security handler of an encrypted file (opened with the empty user
    /// password): every object read is decrypted with it.
    crypt: Option<Arc<SecurityHandler>>,
}

/// The objects of one decoded object stream: (object number, object).
type ObjectStreamContents = Vec<(u32, Object)>;

impl std::fmt::Debug for Document<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Document")
            .field("bytes", &self.data.len())
            .field("revisions", &self.sections.len())
            .finish_non_exhaustive()
    }
}

impl<'a> Document<'a> {
    /// Load the cross-reference data of `data`. An encrypted document is opened with the
    /// empty user password ([`crate::crypt`]); one that needs a password is refused with
    /// [`PdfError::PasswordRequired`], other security handlers with
    /// [`PdfError::UnsupportedEncryption`].
    pub fn load(data: &'a [u8], limits: &Limits) -> Result<Self, PdfError> {
        if data.len() as u64 > limits.max_file_size {
            return Err(PdfError::TooLarge {
                size: data.len() as u64,
                limit: limits.max_file_size,
            });
        }
        let head = &data[..data.len().min(1024)];
        if memchr::memmem::find(head, b"%PDF-").is_none() {
            return Err(PdfError::NotPdf("no %PDF- header".into()));
        }
        let sections = load_sections(data, limits)?;
        let trailer = sections
            .first()
            .map(|s| s.trailer.clone())
            .ok_or_else(|| PdfError::BrokenXref("no cross-reference section".into()))?;
        let mut xref = HashMap::new();
        for section in sections.iter().rev() {
            for (num, entry) in &section.entries {
                xref.insert(*num, *entry);
            }
        }
        if xref.len() > limits.max_objects {
            return Err(PdfError::Limit(format!(
                "more than {} objects",
                limits.max_objects
            )));
        }
        let mut doc = Document {
            data,
            sections,
            xref,
            trailer,
            limits: limits.clone(),
            objstm_cache: RefCell::default(),
            crypt: None,
        };
        if let Some(encrypt) = doc.trailer.get(b"Encrypt").cloned() {
            // Read before the handler exists: the /Encrypt dictionary is never encrypted.
            let dict = doc.dict(&encrypt, "the /Encrypt dictionary")?;
            let first_id = match doc.trailer.get(b"ID") {
                Some(Object::Array(ids)) => match ids.first() {
                    Some(Object::String(s, _)) => s.clone(),
                    _ => Vec::new(),
                },
                _ => Vec::new(),
            };
            let handler = SecurityHandler::open(&dict, &first_id, encrypt.as_ref_id())?;
            doc.crypt = Some(Arc::new(handler));
        }
        Ok(doc)
    }

    /// The security handler of an encrypted document (`None` for a plain one).
    pub fn security_handler(&self) -> Option<&Arc<SecurityHandler>> {
        self.crypt.as_ref()
    }

    /// Decrypt indirect object `id` as parsed from the file's bytes by a caller that read it
    /// itself (e.g. the signature dictionary, whose byte spans the verifier needs); a plain
    /// document returns it as it is.
    pub fn decrypt(&self, id: ObjectId, obj: Object) -> Result<Object, PdfError> {
        match &self.crypt {
            Some(c) => c.decrypt_object(id, obj),
            None => Ok(obj),
        }
    }

    /// The file's bytes.
    pub fn data(&self) -> &'a [u8] {
        self.data
    }

    /// The loading limits.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// One past the highest object number in use (trailer /Size, or the xref, whichever is larger).
    pub fn next_object_number(&self) -> u32 {
        let size = self
            .trailer
            .get(b"Size")
            .and_then(Object::as_i64)
            .and_then(|s| u32::try_from(s).ok())
            .unwrap_or(0);
        let max = self.xref.keys().max().map_or(0, |m| m + 1);
        size.max(max)
    }

    /// Where the newest cross-reference section starts (the new revision's /Prev).
    pub fn startxref(&self) -> usize {
        self.sections.first().map_or(0, |s| s.offset)
    }

    /// The cross-reference entry of an object.
    pub fn entry(&self, num: u32) -> Option<XrefEntry> {
        self.xref.get(&num).copied()
    }

    /// Fetch an object (a free or missing object is `null`, as the PDF specification says).
    pub fn get(&self, id: ObjectId) -> Result<Object, PdfError> {
        self.get_in(&self.xref, id)
    }

    /// The cross-reference map as of revision `rev` (0 = newest, as in [`Document::sections`]).
    pub fn xref_at(&self, rev: usize) -> HashMap<u32, XrefEntry> {
        let mut map = HashMap::new();
        for section in self.sections.iter().skip(rev).rev() {
            for (num, entry) in &section.entries {
                map.insert(*num, *entry);
            }
        }
        map
    }

    /// Fetch an object through a given cross-reference map (see [`Document::xref_at`]).
    pub fn get_in(&self, xref: &HashMap<u32, XrefEntry>, id: ObjectId) -> Result<Object, PdfError> {
        match xref.get(&id.0) {
            None | Some(XrefEntry::Free) => Ok(Object::Null),
            Some(XrefEntry::Offset(off, _)) => self.object_at(*off, Some(id)).map(|(_, o)| o),
            Some(XrefEntry::InStream(stm, index)) => {
                let Some(XrefEntry::Offset(stm_off, _)) = xref.get(stm).copied() else {
                    return Err(PdfError::Malformed(format!(
                        "object stream {stm} not found"
                    )));
                };
                self.read_object_stream(*stm, stm_off, *index, id.0)
            }
        }
    }

    /// Parse the indirect object at a byte offset.
    pub fn object_at(
        &self,
        offset: usize,
        expect: Option<ObjectId>,
    ) -> Result<(ObjectId, Object), PdfError> {
        if offset >= self.data.len() {
            return Err(PdfError::Malformed(format!(
                "object offset {offset} outside the file"
            )));
        }
        let mut p = Parser::new(self.data, offset, self.limits.max_depth);
        let resolver = |id: ObjectId| -> Option<i64> {
            match self.xref.get(&id.0) {
                Some(XrefEntry::Offset(off, _)) if Some(id) != expect => {
                    let mut q = Parser::new(self.data, *off, 4);
                    q.indirect(&|_| None).ok().and_then(|(_, o)| o.as_i64())
                }
                _ => None,
            }
        };
        let (id, obj) = p.indirect(&resolver)?;
        if let Some(want) = expect {
            if want.0 != id.0 {
                return Err(PdfError::Malformed(format!(
                    "xref points object {} at offset {offset}, found object {}",
                    want.0, id.0
                )));
            }
        }
        Ok((id, self.decrypt(id, obj)?))
    }

    fn read_object_stream(
        &self,
        stm: u32,
        off: usize,
        index: u32,
        num: u32,
    ) -> Result<Object, PdfError> {
        if let Some(objs) = self.objstm_cache.borrow().get(&off) {
            return Ok(find_in(objs, index, num));
        }
        let (_, obj) = self.object_at(off, Some(ObjectId(stm, 0)))?;
        let Object::Stream(stream) = obj else {
            return Err(PdfError::Malformed(format!(
                "object {stm} is not an object stream"
            )));
        };
        let n = stream.dict.get(b"N").and_then(Object::as_i64).unwrap_or(0);
        let first = stream
            .dict
            .get(b"First")
            .and_then(Object::as_i64)
            .unwrap_or(0);
        let (n, first) = match (usize::try_from(n), usize::try_from(first)) {
            (Ok(n), Ok(f)) if n <= self.limits.max_objects => (n, f),
            _ => return Err(PdfError::Malformed(format!("bad object stream {stm}"))),
        };
        let body = decode_stream(&stream, self.limits.max_decoded_stream)?;
        let mut header = Parser::new(&body, 0, 4);
        let mut offsets = Vec::with_capacity(n.min(1 << 16));
        for _ in 0..n {
            let (Ok(num), Ok(rel)) = (header.uint(), header.uint()) else {
                break;
            };
            offsets.push((num, rel));
        }
        let mut objs = Vec::with_capacity(offsets.len());
        for (num, rel) in offsets {
            let Some(pos) = usize::try_from(rel).ok().and_then(|r| r.checked_add(first)) else {
                continue;
            };
            if pos >= body.len() {
                continue;
            }
            let mut p = Parser::new(&body, pos, self.limits.max_depth);
            if let (Ok(o), Ok(num)) = (p.object(0), u32::try_from(num)) {
                objs.push((num, o));
            }
        }
        let objs = Rc::new(objs);
        let found = find_in(&objs, index, num);
        self.objstm_cache.borrow_mut().insert(off, objs);
        Ok(found)
    }

    /// Follow references (bounded) until a direct object.
    pub fn resolve(&self, obj: &Object) -> Result<Object, PdfError> {
        let mut current = obj.clone();
        for _ in 0..32 {
            match current {
                Object::Reference(id) => current = self.get(id)?,
                other => return Ok(other),
            }
        }
        Err(PdfError::Malformed("reference chain too long".into()))
    }

    /// Resolve and require a dictionary (of a dictionary or a stream).
    pub fn dict(&self, obj: &Object, what: &str) -> Result<Dictionary, PdfError> {
        match self.resolve(obj)? {
            Object::Dictionary(d) => Ok(d),
            Object::Stream(s) => Ok(s.dict),
            _ => Err(PdfError::Malformed(format!("{what} is not a dictionary"))),
        }
    }

    /// The document catalog and its reference.
    pub fn catalog(&self) -> Result<(ObjectId, Dictionary), PdfError> {
        let root = self
            .trailer
            .get(b"Root")
            .and_then(Object::as_ref_id)
            .ok_or_else(|| PdfError::Malformed("trailer has no /Root reference".into()))?;
        Ok((root, self.dict(&Object::Reference(root), "the catalog")?))
    }
}

fn find_in(objs: &[(u32, Object)], index: u32, num: u32) -> Object {
    usize::try_from(index)
        .ok()
        .and_then(|i| objs.get(i))
        .filter(|(n, _)| *n == num)
        .or_else(|| objs.iter().find(|(n, _)| *n == num))
        .map_or(Object::Null, |(_, o)| o.clone())
}
