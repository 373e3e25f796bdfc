//! Long-term validation: the Document Security Store (PAdES B-LT) and document time-stamps
//! (PAdES B-LTA), sans-IO.
//!
//! * [`validation_needs`] lists, for every signature and time-stamp in a PDF, the certificate
//!   paths to a trust anchor and the (certificate, issuer) pairs whose revocation status a
//!   long-term validator needs; the caller fetches OCSP responses (or CRLs) for them.
//! * [`add_dss`] appends an incremental update with a `/DSS` holding those certificates, OCSP
//!   responses and CRLs (merged with any DSS already there; each entry once).
//! * [`prepare_document_time_stamp`] appends an invisible `/DocTimeStamp` field
//!   (`/SubFilter /ETSI.RFC3161`) whose `/Contents` will be a time-stamp token over the byte
//!   range: [`PreparedDocumentTimeStamp::time_stamp_request`], then any RFC 3161 TSA, then
//!   [`PreparedDocumentTimeStamp::finish`].
//!
//! B-LT is a signature (B-T) followed by a DSS revision; B-LTA adds a document time-stamp
//! over it all, so the DSS data itself is dated and protected.

use crate::cms::{self, SignatureAlgorithm};
use crate::document::Document;
use crate::error::{Limits, PdfError};
use crate::fields::signature_fields;
use crate::object::{Dictionary, Object, ObjectId, Stream};
use crate::sign::{Kind, Placement, SignOptions, fill_contents, write_revision};
use crate::tsp::{TimeStampRequest, TimeStampToken, TspError};
use crate::writer::IncrementalUpdate;
use std::ops::Range;

/// Largest DSS entry (one certificate, OCSP response or CRL, decoded) read or written.
pub const MAX_DSS_ENTRY_BYTES: usize = 1024 * 1024;
/// Most entries of each kind a DSS may hold (read or written).
pub const MAX_DSS_ENTRIES: usize = 1000;

/// Validation material for a DSS: DER certificates, DER OCSP responses, DER CRLs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ValidationData {
    /// Certificates (DER).
    pub certificates: Vec<Vec<u8>>,
    /// OCSP responses (DER OCSPResponse).
    pub ocsp_responses: Vec<Vec<u8>>,
    /// CRLs (DER).
    pub crls: Vec<Vec<u8>>,
}

impl ValidationData {
    /// Whether there is nothing in it.
    pub fn is_empty(&self) -> bool {
        self.certificates.is_empty() && self.ocsp_responses.is_empty() && self.crls.is_empty()
    }
}

const DSS_KEYS: [&[u8]; 3] = [b"Certs", b"OCSPs", b"CRLs"];

/// The DSS of `doc` (empty when there is none), each stream decoded.
pub fn read_dss(doc: &Document<'_>) -> Result<ValidationData, PdfError> {
    let (_, catalog) = doc.catalog()?;
    let Some(dss) = catalog.get(b"DSS") else {
        return Ok(ValidationData::default());
    };
    let dss = doc.dict(dss, "the DSS")?;
    let mut lists: [Vec<Vec<u8>>; 3] = Default::default();
    for (key, list) in DSS_KEYS.iter().zip(lists.iter_mut()) {
        let Some(array) = dss.get(key) else { continue };
        let Object::Array(items) = doc.resolve(array)? else {
            return Err(PdfError::Malformed(format!(
                "DSS /{} is not an array",
                String::from_utf8_lossy(key)
            )));
        };
        if items.len() > MAX_DSS_ENTRIES {
            return Err(PdfError::Limit(format!(
                "DSS /{} has more than {MAX_DSS_ENTRIES} entries",
                String::from_utf8_lossy(key)
            )));
        }
        for item in &items {
            match doc.resolve(item)? {
                Object::Stream(s) => {
                    list.push(crate::filters::decode_stream(&s, MAX_DSS_ENTRY_BYTES)?)
                }
                _ => {
                    return Err(PdfError::Malformed("a DSS entry is not a stream".into()));
                }
            }
        }
    }
    let [certificates, ocsp_responses, crls] = lists;
    Ok(ValidationData {
        certificates,
        ocsp_responses,
        crls,
    })
}

/// Append a revision whose catalog `/DSS` holds the existing DSS entries plus those of `data`
/// not already there (new streams, Flate-compressed; a new DSS dictionary). Returns the bytes
/// to append to `input`. Nothing new to add is an error ([`PdfError::Field`]), so a caller
/// never writes an empty revision.
pub fn add_dss(input: &[u8], data: &ValidationData, limits: &Limits) -> Result<Vec<u8>, PdfError> {
    let doc = Document::load(input, limits)?;
    let existing = read_dss(&doc)?;
    let (root_id, mut catalog) = doc.catalog()?;
    let old_dss = match catalog.get(b"DSS") {
        Some(d) => doc.dict(d, "the DSS")?,
        None => Dictionary::new(),
    };
    let mut update = IncrementalUpdate::new(&doc);
    let mut dss = Dictionary::new().with(b"Type", Object::name("DSS"));
    let mut added = 0usize;
    let new_lists = [&data.certificates, &data.ocsp_responses, &data.crls];
    let old_lists = [
        &existing.certificates,
        &existing.ocsp_responses,
        &existing.crls,
    ];
    for ((key, new), old) in DSS_KEYS.iter().zip(new_lists).zip(old_lists) {
        let mut refs = match old_dss.get(key).map(|a| doc.resolve(a)).transpose()? {
            Some(Object::Array(items)) => items,
            _ => Vec::new(),
        };
        let mut seen: Vec<&[u8]> = old.iter().map(Vec::as_slice).collect();
        for entry in new.iter() {
            if entry.len() > MAX_DSS_ENTRY_BYTES {
                return Err(PdfError::Limit(format!(
                    "a DSS entry larger than {MAX_DSS_ENTRY_BYTES} bytes"
                )));
            }
            if seen.contains(&entry.as_slice()) {
                continue;
            }
            seen.push(entry);
            let id = update.allocate();
            update.put(
                id,
                &Object::Stream(Stream {
                    dict: Dictionary::new().with(b"Filter", Object::name("FlateDecode")),
                    data: crate::filters::deflate(entry),
                }),
            );
            refs.push(Object::Reference(id));
            added += 1;
        }
        if refs.len() > MAX_DSS_ENTRIES {
            return Err(PdfError::Limit(format!(
                "the DSS would hold more than {MAX_DSS_ENTRIES} entries of one kind"
            )));
        }
        if !refs.is_empty() {
            dss.set(key, Object::Array(refs));
        }
    }
    if added == 0 {
        return Err(PdfError::Field(
            "DSS".into(),
            "everything given is already in the document's DSS".into(),
        ));
    }
    // Other DSS entries (e.g. /VRI written by another tool) are carried over unchanged.
    for (key, value) in &old_dss.0 {
        if dss.get(key).is_none() && !DSS_KEYS.contains(&key.as_slice()) {
            dss.set(key, value.clone());
        }
    }
    let dss_id: ObjectId = update.allocate();
    update.put(dss_id, &Object::Dictionary(dss));
    catalog.set(b"DSS", Object::Reference(dss_id));
    update.put(root_id, &Object::Dictionary(catalog));
    Ok(update.write(&doc).bytes)
}

/// A document time-stamp revision waiting for its token.
#[derive(Clone, Debug)]
pub struct PreparedDocumentTimeStamp {
    tail: Vec<u8>,
    hole: Range<usize>,
    digest_suite: SignatureAlgorithm,
    digest: Vec<u8>,
}

/// Append an invisible document time-stamp field (`/Type /DocTimeStamp`, `/SubFilter
/// /ETSI.RFC3161`) named `field_name` (default: the next free `SignatureN`), with room for a
/// token; its imprint will be `digest_suite`'s hash of the byte range.
pub fn prepare_document_time_stamp(
    input: &[u8],
    digest_suite: SignatureAlgorithm,
    field_name: Option<String>,
    limits: &Limits,
) -> Result<PreparedDocumentTimeStamp, PdfError> {
    let mut options = SignOptions::new(0);
    options.field_name = field_name;
    options.placement = Placement::Invisible;
    options.limits = limits.clone();
    let revision = write_revision(
        input,
        &options,
        Kind::DocumentTimeStamp {
            digest: digest_suite,
        },
    )?;
    Ok(PreparedDocumentTimeStamp {
        tail: revision.tail,
        hole: revision.hole,
        digest_suite,
        digest: revision.digest,
    })
}

impl PreparedDocumentTimeStamp {
    /// The time-stamp request for the byte range's digest, with `nonce` (drawn by the caller)
    /// and the TSA certificate asked for.
    pub fn time_stamp_request(&self, nonce: &[u8]) -> Result<TimeStampRequest, PdfError> {
        Ok(TimeStampRequest::new(
            self.digest_suite,
            &self.digest,
            Some(nonce),
            None,
        )?)
    }

    /// Embed `token` (checked to cover this revision's byte range) and return the bytes to
    /// append to the input.
    pub fn finish(mut self, token: &TimeStampToken) -> Result<Vec<u8>, PdfError> {
        if token.digest_suite() != self.digest_suite || token.digest() != self.digest {
            return Err(PdfError::TimeStamp(TspError::ImprintMismatch));
        }
        fill_contents(&mut self.tail, &self.hole, token.to_der())?;
        Ok(self.tail)
    }
}

/// A certificate path a validator must be able to check for revocation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CertificatePath {
    /// What the path belongs to, e.g. `signature "Signature1"` or `time-stamp of "Signature1"`.
    pub context: String,
    /// The path (DER), end entity first, trust anchor last.
    pub certificates: Vec<Vec<u8>>,
}

impl CertificatePath {
    /// (certificate, issuer) pairs whose revocation status is needed: every link but the
    /// anchor.
    pub fn revocation_pairs(&self) -> impl Iterator<Item = (&[u8], &[u8])> {
        self.certificates
            .windows(2)
            .map(|w| (w[0].as_slice(), w[1].as_slice()))
    }
}

/// The certificate paths (to one of `trust_anchors`) of every signature, signature
/// time-stamp and document time-stamp of `data`, in file order. A signature whose path
/// cannot be built is an error naming it: long-term data cannot be gathered for it.
pub fn validation_needs(
    data: &[u8],
    trust_anchors: &[Vec<u8>],
    limits: &Limits,
) -> Result<Vec<CertificatePath>, PdfError> {
    let doc = Document::load(data, limits)?;
    let dss = read_dss(&doc)?;
    let mut out = Vec::new();
    for field in signature_fields(&doc)?.iter().filter(|f| f.signed) {
        let value = field.value.ok_or_else(|| {
            PdfError::Malformed(format!(
                "signature \"{}\": /V is not a reference",
                field.name
            ))
        })?;
        let sig = doc.dict(&Object::Reference(value), "the signature")?;
        let contents = match sig.get(b"Contents") {
            Some(Object::String(bytes, _)) => bytes.clone(),
            _ => {
                return Err(PdfError::Malformed(format!(
                    "signature \"{}\" has no /Contents",
                    field.name
                )));
            }
        };
        let path_of = |context: String, leaf: &[u8], pool: &[Vec<u8>]| {
            let mut pool = pool.to_vec();
            pool.extend(dss.certificates.iter().cloned());
            cms::verify_chain(leaf, &pool, trust_anchors, None)
                .map(|certificates| CertificatePath {
                    context: context.clone(),
                    certificates,
                })
                .map_err(|e| PdfError::Cms(format!("{context}: {e}")))
        };
        if sig.name(b"SubFilter") == Some(b"ETSI.RFC3161") {
            let token = TimeStampToken::parse(&contents)?;
            out.push(path_of(
                format!("document time-stamp \"{}\"", field.name),
                token.tsa_certificate(),
                token.certificates(),
            )?);
            continue;
        }
        let parsed = cms::parse(&contents).map_err(|e| PdfError::Cms(e.to_string()))?;
        let signer = parsed
            .signer_certificate()
            .map_err(|e| PdfError::Cms(e.to_string()))?;
        out.push(path_of(
            format!("signature \"{}\"", field.name),
            &signer,
            parsed.certificates(),
        )?);
        if let Some(token) = parsed
            .unsigned_attribute(&crate::tsp::ID_AA_SIGNATURE_TIME_STAMP_TOKEN)
            .map_err(|e| PdfError::Cms(e.to_string()))?
        {
            let token = TimeStampToken::parse(&token)?;
            out.push(path_of(
                format!("time-stamp of \"{}\"", field.name),
                token.tsa_certificate(),
                token.certificates(),
            )?);
        }
    }
    Ok(out)
}

/// What the document's own validation data says of one certificate.
#[cfg(feature = "offline-revocation")]
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Finding {
    /// A signed OCSP response or CRL from after `at` says it was not revoked.
    Good,
    /// Revoked at this time (seconds).
    RevokedAt(u64),
    /// Nothing usable: why.
    NoData(String),
}

/// How long before the time judged an OCSP response or CRL may have been produced and still
/// count (the signer fetches it right after the time-stamp; clocks differ a little).
#[cfg(feature = "offline-revocation")]
const FRESHNESS_GRACE_SECS: u64 = 300;

/// The revocation status of `cert_der` (issued by `issuer_der`) at `at_unix`, from the OCSP
/// responses and CRLs in `data`: a response must be signed by the issuer or by a responder
/// certificate the issuer gave id-kp-OCSPSigning, and produced no earlier than
/// `at_unix` minus a small grace, to prove the status at that time.
#[cfg(feature = "offline-revocation")]
pub(crate) fn revocation_finding(
    cert_der: &[u8],
    issuer_der: &[u8],
    data: &ValidationData,
    at_unix: u64,
) -> Finding {
    let Ok(issuer) = cms::cert::Cert::parse(issuer_der) else {
        return Finding::NoData("the issuer certificate does not parse".into());
    };
    let mut why = "no OCSP response or CRL for it".to_owned();
    for der in &data.ocsp_responses {
        let Ok(response) = inkseal_pki::parse_ocsp_response(der) else {
            continue;
        };
        let Some(single) = response.status_of(cert_der, issuer_der) else {
            continue;
        };
        if let Err(e) = check_ocsp_signature(&response, &issuer) {
            why = format!("an OCSP response for it does not verify: {e}");
            continue;
        }
        match single.status {
            inkseal_pki::CertificateStatus::Revoked { at_unix: at, .. } => {
                return Finding::RevokedAt(at);
            }
            inkseal_pki::CertificateStatus::Unknown => {
                why = "the OCSP responder does not know it".into();
            }
            inkseal_pki::CertificateStatus::Good => {
                if single.this_update_unix + FRESHNESS_GRACE_SECS >= at_unix {
                    return Finding::Good;
                }
                why = "its OCSP response predates the time judged".into();
            }
        }
    }
    let serial = inkseal_pki::certificate_serial(cert_der).unwrap_or_default();
    for der in &data.crls {
        // CRLs are read for SM2 issuers (the embedded CA's); others are skipped.
        let Ok(crl) = inkseal_pki::parse_crl(der, issuer_der) else {
            continue;
        };
        if let Some(entry) = crl.revocation_of(&serial) {
            return Finding::RevokedAt(entry.revoked_at_unix);
        }
        if crl.this_update_unix + FRESHNESS_GRACE_SECS >= at_unix {
            return Finding::Good;
        }
        why = "its CRL predates the time judged".into();
    }
    Finding::NoData(why)
}

/// The response is signed by the issuer itself, or by a responder certificate (embedded in
/// the response) that the issuer signed with id-kp-OCSPSigning.
#[cfg(feature = "offline-revocation")]
fn check_ocsp_signature(
    response: &inkseal_pki::ParsedOcspResponse,
    issuer: &cms::cert::Cert,
) -> Result<(), PdfError> {
    let (tbs, algorithm, signature) = response.signed_data();
    let signer = if response.responder_is(&issuer.der) {
        issuer.clone()
    } else {
        let delegated = response
            .certificates
            .iter()
            .filter(|c| response.responder_is(c))
            .filter_map(|c| cms::cert::Cert::parse(c).ok())
            .find(|c| c.verify_signed_by(issuer).is_ok() && c.has_ocsp_signing_usage());
        delegated.ok_or_else(|| {
            PdfError::Cms("the responder is neither the issuer nor delegated by it".into())
        })?
    };
    let key = signer
        .public_key()
        .map_err(|e| PdfError::Cms(e.to_string()))?;
    if key.algorithm().signature_oid() != algorithm {
        return Err(PdfError::Cms(format!(
            "OCSP signature algorithm {algorithm} does not fit the responder's key"
        )));
    }
    key.verify(tbs, signature)
        .map_err(|e| PdfError::Cms(e.to_string()))
}
