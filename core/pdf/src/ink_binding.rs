//! Binding an encrypted handwriting record to a signature and to the document it was made for.
//!
//! The sealed record (see `inkseal-ink`) is embedded in the signature dictionary itself, as the
//! string `/InksealInkRecord`, so the signature's byte range covers it and the revision adds
//! no object beyond those of a plain signature (validators such as pyHanko judge a later
//! signature's revision against DocMDP by explaining every new object; a stream of unknown
//! purpose would count as a suspicious modification of a certified document). Files from
//! before this version reference a stream there instead; [`embedded_record`] reads both. A signed attribute of the CMS, [`INK_BINDING_OID`], carries
//!
//! ```text
//! InkBinding ::= SEQUENCE {
//!     version         INTEGER (1),
//!     recordDigest    OCTET STRING,   -- SHA-256 of the sealed record, as embedded
//!     documentDigest  OCTET STRING,   -- the suite's digest (SM3 or SHA-256) of the document
//!                                     -- bytes before the signature's revision
//!     documentLength  INTEGER }       -- how many bytes that is
//! ```
//!
//! so the handwriting, the document and the signature belong together: moving the record or the
//! appearance to another document, or swapping the record, fails verification.

use crate::cms::{CmsError, ExtraAttribute, SignatureAlgorithm};
use const_oid::ObjectIdentifier;
use der::asn1::OctetString;
use der::{Decode, Encode, Sequence};
use sha2::{Digest, Sha256};

/// The attribute type.
///
/// PLACEHOLDER: an arc under IANA's enterprise number 32473, which RFC 5612 reserves for
/// documentation and examples. It must be replaced by an arc under inkseal's own registered
/// enterprise number before production (a UUID-based 2.25 OID does not fit the 32-bit arcs of
/// the ASN.1 library used here).
pub const INK_BINDING_OID: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.32473.1.1");

/// Key of the signature dictionary entry that holds the embedded record.
pub const RECORD_KEY: &[u8] = b"InksealInkRecord";

/// The sealed record embedded in signature dictionary `sig`, if any: a string, or (files from
/// before the record moved into the dictionary) a reference to a stream, read as of
/// `xref`.
pub fn embedded_record(
    doc: &crate::document::Document<'_>,
    xref: &std::collections::HashMap<u32, crate::xref::XrefEntry>,
    sig: &crate::object::Dictionary,
) -> Option<Vec<u8>> {
    match sig.get(RECORD_KEY)? {
        crate::object::Object::String(bytes, _) => Some(bytes.clone()),
        crate::object::Object::Reference(id) => match doc.get_in(xref, *id) {
            Ok(crate::object::Object::Stream(s)) => Some(s.data),
            _ => None,
        },
        _ => None,
    }
}

#[derive(Sequence)]
struct InkBindingDer {
    version: u8,
    record_digest: OctetString,
    document_digest: OctetString,
    document_length: u64,
}

/// A decoded binding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InkBinding {
    /// SHA-256 of the sealed record.
    pub record_digest: Vec<u8>,
    /// Digest of the document before the signature's revision.
    pub document_digest: Vec<u8>,
    /// Length of that document in bytes.
    pub document_length: u64,
}

/// SHA-256 of a sealed record.
pub fn record_digest(sealed_record: &[u8]) -> Vec<u8> {
    Sha256::digest(sealed_record).to_vec()
}

/// The signed attribute binding `sealed_record` to `document` (the bytes being signed onto).
pub fn binding_attribute(
    sealed_record: &[u8],
    algorithm: SignatureAlgorithm,
    document: &[u8],
) -> Result<ExtraAttribute, CmsError> {
    let value = InkBindingDer {
        version: 1,
        record_digest: OctetString::new(record_digest(sealed_record))
            .map_err(|e| CmsError::Encoding(e.to_string()))?,
        document_digest: OctetString::new(algorithm.digest(&[document]))
            .map_err(|e| CmsError::Encoding(e.to_string()))?,
        document_length: document.len() as u64,
    };
    let der = value
        .to_der()
        .map_err(|e| CmsError::Encoding(e.to_string()))?;
    Ok(ExtraAttribute::new(INK_BINDING_OID, vec![der]))
}

/// Decode the binding attribute.
pub fn parse_binding(attr: &ExtraAttribute) -> Result<InkBinding, String> {
    let [value] = attr.values_der.as_slice() else {
        return Err("the ink binding attribute must have exactly one value".into());
    };
    let v = InkBindingDer::from_der(value).map_err(|e| format!("malformed ink binding: {e}"))?;
    if v.version != 1 {
        return Err(format!("unsupported ink binding version {}", v.version));
    }
    Ok(InkBinding {
        record_digest: v.record_digest.as_bytes().to_vec(),
        document_digest: v.document_digest.as_bytes().to_vec(),
        document_length: v.document_length,
    })
}
