//! Verification of every signature in a PDF: coverage, digest, signature, chain, and what
//! changed afterwards, with the known PDF signature attacks reported by name.

use crate::changes::{Analysis, Changes, ModificationLevel, analyse_after};
use crate::cms;
use crate::document::Document;
use crate::error::{Limits, PdfError};
use crate::fields::{decode_text, signature_fields};
use crate::mdp::{docmdp_level, fieldmdp_locks};
use crate::object::{Dictionary, Object};
use crate::parser::Parser;
use crate::sign::FieldLock;
use crate::xref::XrefEntry;

/// How to verify.
#[derive(Clone, Debug, Default)]
pub struct VerifyOptions {
    /// Trust anchors (DER certificates); when empty, chains are not judged.
    pub trust_anchors: Vec<Vec<u8>>,
    /// Time to check certificate validity at (Unix seconds); `None` skips validity periods.
    pub at_unix: Option<u64>,
    /// Loading limits.
    pub limits: Limits,
}

/// How much of the file a signature's byte range covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Coverage {
    /// Everything.
    WholeFile,
    /// Its whole revision; later revisions follow.
    WholeRevision,
    /// It does not end at a revision boundary (a coverage anomaly).
    Partial,
}

/// The result for one signature.
#[derive(Clone, Debug)]
pub struct SignatureReport {
    /// Field name.
    pub field: String,
    /// The pages showing the signature's widgets, 1-based (empty for an invisible signature
    /// whose widget is on no page; every page for a paging seal).
    pub pages: Vec<u32>,
    /// `/ByteRange`, if it could be read.
    pub byte_range: Option<[usize; 4]>,
    /// Coverage of the byte range.
    pub coverage: Option<Coverage>,
    /// Revision the signature belongs to (1 = oldest).
    pub revision: Option<usize>,
    /// `/M`, the claimed signing time.
    pub signing_time: Option<String>,
    /// `/SubFilter`.
    pub sub_filter: Option<String>,
    /// Signature algorithm: `Sm2Sm3` or `EcdsaP256Sha256` for inkseal's own suites, else the
    /// other algorithm's name (`RSA-2048 PKCS#1 v1.5 SHA-256`, `ECDSA-P384-SHA384`, `Ed25519`).
    pub algorithm: Option<String>,
    /// Signer's subject.
    pub signer: Option<String>,
    /// The digest of the byte ranges matches the signed message-digest.
    pub digest_valid: bool,
    /// The signature value verifies with the signer certificate.
    pub signature_valid: bool,
    /// The chain reaches a trust anchor (`None` when no anchors were given).
    pub trusted: Option<bool>,
    /// DocMDP level when this is a certification signature.
    pub certification: Option<i64>,
    /// What changed after it.
    pub changes: Option<Changes>,
    /// How far the changes after it go, as a named level (`None` when they could not be
    /// analysed).
    pub modification_level: Option<ModificationLevel>,
    /// The change that decided [`SignatureReport::modification_level`], naming its object.
    pub level_decided_by: Option<String>,
    /// Whether an embedded handwriting record is bound to this signature and document
    /// (`None` when the signature carries no record).
    pub ink_binding: Option<bool>,
    /// The signature time-stamp (PAdES B-T), when the signature carries one; for a document
    /// time-stamp, the token itself.
    pub time_stamp: Option<TimeStampReport>,
    /// This is a document time-stamp (`/SubFilter /ETSI.RFC3161`, PAdES B-LTA), not a signature:
    /// [`SignatureReport::signer`] is the TSA and the digest is the token's imprint.
    pub document_time_stamp: bool,
    /// What the document's own validation data (its DSS) says about revocation of the
    /// certificates on the trusted paths (`None` when no path was trusted, no time judged, or
    /// the crate was built without its `offline-revocation` feature, as the mobile library is).
    pub revocation: Option<RevocationReport>,
    /// The time the signer's certificate chain was checked at: the trusted time-stamp's time
    /// when there is one and [`VerifyOptions::at_unix`] was given (the signature provably
    /// existed then), else [`VerifyOptions::at_unix`].
    pub chain_checked_at: Option<u64>,
    /// The signature uses an algorithm this verifier cannot check (RSA, ECDSA P-384,
    /// Ed25519, a SHA-384 digest...), named here: neither valid nor invalid. When the content
    /// digest could be computed, [`SignatureReport::digest_valid`] still says whether the
    /// signed bytes are intact.
    pub cannot_check: Option<String>,
    /// The signature uses a weak algorithm (SHA-1, an RSA key under 2048 bits), named here:
    /// invalid whatever its maths says (also listed among the problems).
    pub weak_algorithm: Option<String>,
    /// Every problem found, in words.
    pub problems: Vec<String>,
}

/// The bottom line on one signature.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Intact, verified, trusted when anchors were given, followed only by allowed changes.
    Valid,
    /// Made with an algorithm this verifier cannot check, and nothing else found wrong: check
    /// it with a validator that supports the algorithm.
    CannotCheck,
    /// Something is wrong: see [`SignatureReport::problems`].
    Invalid,
}

/// Revocation, judged offline from the document's DSS (PAdES B-LT).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RevocationReport {
    /// The time judged (seconds): the trusted time-stamp's, else [`VerifyOptions::at_unix`].
    pub at_unix: u64,
    /// Long-term validation data is complete: a trusted time-stamp, and an OCSP response or
    /// CRL for every certificate on the signer's and the time-stamping authority's paths, so the
    /// signature stays provable offline after the certificates expire.
    pub ltv: bool,
    /// Certificates without usable revocation data in the document, with the reason.
    pub missing: Vec<String>,
}

/// A signature time-stamp token as verified.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TimeStampReport {
    /// The time the TSA vouches for, milliseconds since the Unix epoch.
    pub time_unix_millis: u64,
    /// The TSA certificate's subject.
    pub tsa: String,
    /// The token verifies, its TSA certificate is a time-stamping certificate, and its imprint
    /// is the digest of this signature's value.
    pub valid: bool,
    /// The TSA's chain reaches a trust anchor, valid at the time stamped (`None` when no
    /// anchors were given or the token is not valid).
    pub trusted: Option<bool>,
}

impl SignatureReport {
    fn new(field: String) -> Self {
        SignatureReport {
            field,
            pages: Vec::new(),
            byte_range: None,
            coverage: None,
            revision: None,
            signing_time: None,
            sub_filter: None,
            algorithm: None,
            signer: None,
            digest_valid: false,
            signature_valid: false,
            trusted: None,
            certification: None,
            changes: None,
            modification_level: None,
            level_decided_by: None,
            ink_binding: None,
            time_stamp: None,
            document_time_stamp: false,
            revocation: None,
            chain_checked_at: None,
            cannot_check: None,
            weak_algorithm: None,
            problems: Vec::new(),
        }
    }

    /// The bottom line: valid, cannot be checked here (and nothing else wrong), or invalid.
    pub fn verdict(&self) -> Verdict {
        if self.is_ok() {
            Verdict::Valid
        } else if self.cannot_check.is_some()
            && self.problems.is_empty()
            && !matches!(self.changes, Some(Changes::Other(_)))
        {
            Verdict::CannotCheck
        } else {
            Verdict::Invalid
        }
    }

    /// What a bank's operator should do about this signature, in words (`None` when it is
    /// valid and its signer was checked against trust anchors). The most serious finding
    /// decides.
    pub fn advice(&self) -> Option<&'static str> {
        let changed_later = matches!(self.changes, Some(Changes::Other(_)));
        if self.byte_range.is_none() || self.coverage == Some(Coverage::Partial) {
            Some(
                "the signature does not cover the document as signed documents must: treat \
                 the document as unsigned",
            )
        } else if !self.digest_valid
            && self.cannot_check.is_none()
            // A SHA-1 digest is refused before the content is digested: not changed, unchecked.
            && self.weak_algorithm.is_none()
        {
            Some(
                "the signed bytes were changed after signing: do not rely on this document; \
                 ask the signer for the original",
            )
        } else if self.weak_algorithm.is_some() {
            Some(
                "the signature uses an algorithm too weak to prove anything: ask for the \
                 document to be signed again",
            )
        } else if self.cannot_check.is_some() && self.problems.is_empty() && !changed_later {
            Some("check this signature with a validator that supports its algorithm")
        } else if !self.signature_valid && self.cannot_check.is_none() {
            Some(
                "the signature or its certificates are not sound: treat the document as \
                 unsigned and report it",
            )
        } else if self.trusted == Some(false) {
            Some(
                "the signer's certificate does not lead to a root you trust: find out who \
                 issued it; if you trust that authority, add its root certificate as a trust \
                 anchor",
            )
        } else if changed_later {
            Some(
                "the document was changed after this signature in ways signing does not allow \
                 (see the problems): what the signer approved is the revision this signature \
                 covers; compare it with the current document",
            )
        } else if !self.problems.is_empty() {
            Some(
                "see the problems listed: the signature cannot be relied on until they are resolved",
            )
        } else if self.trusted.is_none() {
            Some("intact and sound; give trust anchors to also check who signed")
        } else {
            None
        }
    }

    /// Valid, trusted when anchors were given, and followed only by allowed changes.
    pub fn is_ok(&self) -> bool {
        self.problems.is_empty()
            && self.digest_valid
            && self.signature_valid
            && self.trusted != Some(false)
            && matches!(
                self.changes,
                Some(Changes::None) | Some(Changes::SignaturesAndForms)
            )
    }
}

/// The result for a document.
#[derive(Clone, Debug)]
pub struct VerificationReport {
    /// One entry per signature field that holds a signature.
    pub signatures: Vec<SignatureReport>,
    /// Number of revisions in the file.
    pub revisions: usize,
}

impl VerificationReport {
    /// At least one signature, and every signature OK.
    pub fn all_ok(&self) -> bool {
        !self.signatures.is_empty() && self.signatures.iter().all(SignatureReport::is_ok)
    }
}

/// The CMS signature: digest, signature, ink binding, signature time-stamp, chain and
/// revocation.
#[allow(clippy::too_many_arguments)]
fn check_cms(
    doc: &Document<'_>,
    sig: &Dictionary,
    contents: &[u8],
    [a, b, c, end]: [usize; 4],
    rev: usize,
    options: &VerifyOptions,
    dss: &crate::ltv::ValidationData,
    report: &mut SignatureReport,
) {
    let data = doc.data();
    // /Contents is zero-padded after the DER; the CMS parser accepts trailing zeros.
    match cms::parse(contents) {
        Err(cms::CmsError::CannotCheck(what)) => report.cannot_check = Some(what),
        Err(e) => {
            if let cms::CmsError::WeakAlgorithm(what) = &e {
                report.weak_algorithm = Some(what.clone());
            }
            report.problems.push(format!("signature container: {e}"));
        }
        Ok(parsed) => {
            let digest = parsed
                .digest_algorithm()
                .digest(&[&data[a..b], &data[c..end]]);
            match parsed.verify(&digest) {
                Ok(v) => {
                    report.algorithm = Some(algorithm_name(v.algorithm));
                    report.digest_valid = true;
                    report.signature_valid = true;
                    report.signer = Some(v.signer_subject.clone());
                    if let Some(suite) = v.algorithm.suite() {
                        check_ink_binding(doc, sig, &v, rev, suite, report);
                    }
                    let tsa_path = check_time_stamp(&v, options, report);
                    let trusted_time = report
                        .time_stamp
                        .as_ref()
                        .filter(|t| t.valid && t.trusted == Some(true))
                        .map(|t| t.time_unix_millis / 1000);
                    report.chain_checked_at = options.at_unix.map(|at| trusted_time.unwrap_or(at));
                    if !options.trust_anchors.is_empty() {
                        let trusted = cms::verify_chain(
                            &v.signer_cert_der,
                            &v.certificates,
                            &options.trust_anchors,
                            report.chain_checked_at,
                        );
                        match &trusted {
                            Err(e) => report.problems.push(format!("certificate chain: {e}")),
                            Ok(path) => {
                                let mut paths = vec![path.as_slice()];
                                paths.extend(tsa_path.as_deref());
                                check_revocation(&paths, dss, report);
                            }
                        }
                        report.trusted = Some(trusted.is_ok());
                    }
                }
                Err(cms::CmsError::CannotCheck(what)) => {
                    // Raised only once the content digest matched.
                    report.digest_valid = true;
                    report.cannot_check = Some(what);
                }
                Err(e) => {
                    report.digest_valid = !matches!(e, cms::CmsError::DigestMismatch);
                    if let cms::CmsError::WeakAlgorithm(what) = &e {
                        report.weak_algorithm = Some(what.clone());
                    }
                    report.problems.push(format!("signature: {e}"));
                }
            }
        }
    }
}

/// [`SignatureReport::algorithm`]: a suite's Rust name (`Sm2Sm3`), another algorithm's
/// description (`RSA-2048 PKCS#1 v1.5 SHA-256`).
fn algorithm_name(algorithm: cms::VerifiedAlgorithm) -> String {
    match algorithm {
        cms::VerifiedAlgorithm::Suite(suite) => format!("{suite:?}"),
        cms::VerifiedAlgorithm::Other(other) => other.to_string(),
    }
}

/// A document time-stamp (PAdES B-LTA): the token verifies, its imprint is the digest of the
/// byte range, its TSA chains to a trust anchor at the time it states.
fn check_document_time_stamp(
    contents: &[u8],
    covered: &[&[u8]],
    options: &VerifyOptions,
    dss: &crate::ltv::ValidationData,
    report: &mut SignatureReport,
) {
    report.document_time_stamp = true;
    let token = match crate::tsp::TimeStampToken::parse(contents) {
        Ok(t) => t,
        Err(e) => {
            report.problems.push(format!("document time-stamp: {e}"));
            return;
        }
    };
    report.algorithm = Some(algorithm_name(token.signature_algorithm()));
    report.signer = Some(token.tsa_subject().to_owned());
    report.signature_valid = true;
    report.digest_valid = token.covers(covered);
    if !report.digest_valid {
        report
            .problems
            .push("document time-stamp: the token does not cover these bytes".into());
    }
    let trusted = (!options.trust_anchors.is_empty()).then(|| {
        cms::verify_chain(
            token.tsa_certificate(),
            token.certificates(),
            &options.trust_anchors,
            Some(token.gen_time_unix()),
        )
    });
    match &trusted {
        Some(Err(e)) => report
            .problems
            .push(format!("document time-stamp: TSA certificate chain: {e}")),
        Some(Ok(path)) => {
            report.chain_checked_at = Some(token.gen_time_unix());
            check_revocation_at(
                &[path.as_slice()],
                dss,
                token.gen_time_unix(),
                false,
                report,
            );
        }
        None => {}
    }
    report.trusted = trusted.as_ref().map(Result::is_ok);
    report.time_stamp = Some(TimeStampReport {
        time_unix_millis: token.gen_time_unix_millis(),
        tsa: token.tsa_subject().to_owned(),
        valid: report.digest_valid,
        trusted: report.trusted,
    });
}

/// Judge revocation of every link of `paths` at the trusted time-stamp's time (else the
/// verification time), from the DSS.
fn check_revocation(
    paths: &[&[Vec<u8>]],
    dss: &crate::ltv::ValidationData,
    report: &mut SignatureReport,
) {
    let stamped = report
        .time_stamp
        .as_ref()
        .filter(|t| t.valid && t.trusted == Some(true))
        .map(|t| t.time_unix_millis / 1000);
    let Some(at) = stamped.or(report.chain_checked_at) else {
        return;
    };
    check_revocation_at(paths, dss, at, stamped.is_some(), report);
}

/// Without the `offline-revocation` feature revocation is not judged
/// ([`SignatureReport::revocation`] stays `None`).
#[cfg(not(feature = "offline-revocation"))]
fn check_revocation_at(
    _paths: &[&[Vec<u8>]],
    _dss: &crate::ltv::ValidationData,
    _at: u64,
    _time_stamped: bool,
    _report: &mut SignatureReport,
) {
}

#[cfg(feature = "offline-revocation")]
fn check_revocation_at(
    paths: &[&[Vec<u8>]],
    dss: &crate::ltv::ValidationData,
    at: u64,
    time_stamped: bool,
    report: &mut SignatureReport,
) {
    use crate::ltv::Finding;
    let mut missing = Vec::new();
    for path in paths {
        for pair in path.windows(2) {
            let subject = cms::cert::Cert::parse(&pair[0])
                .map(|c| c.subject_string())
                .unwrap_or_default();
            match crate::ltv::revocation_finding(&pair[0], &pair[1], dss, at) {
                Finding::Good => {}
                Finding::RevokedAt(when) if when <= at => report.problems.push(format!(
                    "certificate \"{subject}\" was revoked at {} (Unix), not after the time judged {at}",
                    when
                )),
                Finding::RevokedAt(_) => {}
                Finding::NoData(why) => missing.push(format!("{subject}: {why}")),
            }
        }
    }
    report.revocation = Some(RevocationReport {
        at_unix: at,
        ltv: missing.is_empty() && (time_stamped || report.document_time_stamp),
        missing,
    });
}

/// Check the signature time-stamp token(s) in the unsigned attributes, if any: exactly one
/// token, valid, covering the signature value, its TSA chained to the trust anchors at the
/// time it states. Returns the TSA's trusted path.
fn check_time_stamp(
    v: &cms::CmsVerification,
    options: &VerifyOptions,
    report: &mut SignatureReport,
) -> Option<Vec<Vec<u8>>> {
    let attribute = v.unsigned_attribute(&crate::tsp::ID_AA_SIGNATURE_TIME_STAMP_TOKEN)?;
    let [token_der] = attribute.values_der.as_slice() else {
        report.problems.push(format!(
            "signature time-stamp: {} tokens in one attribute (expected one)",
            attribute.values_der.len()
        ));
        return None;
    };
    let token = match crate::tsp::TimeStampToken::parse(token_der) {
        Ok(t) => t,
        Err(e) => {
            report.problems.push(format!("signature time-stamp: {e}"));
            return None;
        }
    };
    let valid = token.covers(&[&v.signature]);
    if !valid {
        report
            .problems
            .push("signature time-stamp: it covers another signature value".into());
    }
    let chain = (valid && !options.trust_anchors.is_empty()).then(|| {
        cms::verify_chain(
            token.tsa_certificate(),
            token.certificates(),
            &options.trust_anchors,
            Some(token.gen_time_unix()),
        )
    });
    if let Some(Err(e)) = &chain {
        report
            .problems
            .push(format!("signature time-stamp: TSA certificate chain: {e}"));
    }
    report.time_stamp = Some(TimeStampReport {
        time_unix_millis: token.gen_time_unix_millis(),
        tsa: token.tsa_subject().to_owned(),
        valid,
        trusted: chain.as_ref().map(Result::is_ok),
    });
    chain.and_then(Result::ok)
}

/// Verify every signature of `data`.
pub fn verify(data: &[u8], options: &VerifyOptions) -> Result<VerificationReport, PdfError> {
    let doc = Document::load(data, &options.limits)?;
    let (dss, dss_problem) = if cfg!(feature = "offline-revocation") {
        match crate::ltv::read_dss(&doc) {
            Ok(d) => (d, None),
            Err(e) => (crate::ltv::ValidationData::default(), Some(e.to_string())),
        }
    } else {
        (crate::ltv::ValidationData::default(), None)
    };
    let mut signatures = Vec::new();
    for field in signature_fields(&doc)?.into_iter().filter(|f| f.signed) {
        let mut report = SignatureReport::new(field.name.clone());
        report.pages = crate::fields::widget_pages(&doc, &field.widgets)?;
        // A pre-created field's /Lock applies to the signature that fills it.
        let field_lock = doc
            .dict(&Object::Reference(field.field_id), "the field")
            .ok()
            .and_then(|f| f.get(b"Lock").cloned())
            .and_then(|l| doc.dict(&l, "/Lock").ok());
        if let Some(problem) = &dss_problem {
            report
                .problems
                .push(format!("the DSS cannot be read: {problem}"));
        }
        match field.value {
            Some(sig_id) => check_signature(&doc, sig_id, field_lock, options, &dss, &mut report),
            None => report
                .problems
                .push("universal signature forgery: /V is not a reference to a signature".into()),
        }
        signatures.push(report);
    }
    Ok(VerificationReport {
        signatures,
        revisions: doc.sections.len(),
    })
}

fn check_signature(
    doc: &Document<'_>,
    sig_id: crate::object::ObjectId,
    field_lock: Option<Dictionary>,
    options: &VerifyOptions,
    dss: &crate::ltv::ValidationData,
    report: &mut SignatureReport,
) {
    let data = doc.data();
    // Where the signature dictionary is, with the byte spans of its values.
    let Some(XrefEntry::Offset(sig_offset, _)) = doc.entry(sig_id.0) else {
        report
            .problems
            .push("the signature dictionary is not a plain object in the file".into());
        return;
    };
    let mut parser = Parser::new(data, sig_offset, doc.limits().max_depth);
    let parsed = parser.indirect(&|_| None);
    let sig_end = parser.pos;
    // An encrypted document's signature dictionary is decrypted (its /Contents is not
    // encrypted, and the spans are the file's bytes as they are).
    let parsed = parsed.and_then(|(id, obj)| doc.decrypt(id, obj));
    let sig = match parsed {
        Ok(Object::Dictionary(d)) => d,
        _ => {
            report
                .problems
                .push("the signature value is not a dictionary".into());
            return;
        }
    };
    let contents_span = parser
        .spans
        .iter()
        .find(|(k, _)| k == b"Contents")
        .map(|(_, s)| s.clone());
    report.signing_time = string_of(&sig, b"M");
    report.sub_filter = sig
        .name(b"SubFilter")
        .map(|s| String::from_utf8_lossy(s).into_owned());
    report.certification = docmdp_level(doc, &sig);

    let Some(Object::String(contents, _)) = sig.get(b"Contents") else {
        report
            .problems
            .push("universal signature forgery: /Contents is missing or not a string".into());
        return;
    };
    let br = match sig.get(b"ByteRange") {
        Some(Object::Array(a)) if a.len() == 4 => a
            .iter()
            .map(|v| v.as_i64().and_then(|v| usize::try_from(v).ok()))
            .collect::<Option<Vec<usize>>>(),
        _ => None,
    };
    let Some(br) = br else {
        report
            .problems
            .push("universal signature forgery: /ByteRange is missing or malformed".into());
        return;
    };
    let br = [br[0], br[1], br[2], br[3]];
    report.byte_range = Some(br);
    let (a, b, c, d) = (br[0], br[1], br[2], br[3]);
    let end = c.checked_add(d);
    if a != 0 || b > c || end.is_none_or(|e| e > data.len()) {
        report
            .problems
            .push(format!("byte range {br:?} does not lie within the file"));
        return;
    }
    let end = end.unwrap_or(0);
    // Signature wrapping: the hole must be exactly this dictionary's /Contents string.
    if contents_span != Some(b..c) {
        report.problems.push(
            "signature wrapping: the byte range's gap is not this signature's /Contents".into(),
        );
    }
    if sig_offset >= end || sig_end > end {
        report.problems.push(
            "signature wrapping: the signature dictionary lies outside the signed bytes".into(),
        );
    }
    // Coverage and revision.
    let revision = doc.sections.iter().position(|s| s.end == end);
    report.coverage = Some(if end == data.len() {
        Coverage::WholeFile
    } else if revision.is_some() {
        Coverage::WholeRevision
    } else {
        Coverage::Partial
    });
    if revision.is_none() && end != data.len() {
        report.problems.push(format!(
            "the byte range ends at {end}, which is not the end of a revision"
        ));
    }
    let rev = revision.unwrap_or(0);
    report.revision = Some(doc.sections.len() - rev);
    // Bytes after the newest revision belong to no revision and no signature covers them.
    let newest_end = doc.sections.first().map_or(data.len(), |s| s.end);
    if data[newest_end.min(data.len())..]
        .iter()
        .any(|b| !crate::parser::is_ws(*b))
    {
        report.problems.push(format!(
            "{} bytes after the last revision are covered by no signature",
            data.len() - newest_end
        ));
    }

    if report.sub_filter.as_deref() == Some("ETSI.RFC3161") {
        check_document_time_stamp(
            contents,
            &[&data[a..b], &data[c..end]],
            options,
            dss,
            report,
        );
    } else {
        check_cms(
            doc,
            &sig,
            contents,
            [a, b, c, end],
            rev,
            options,
            dss,
            report,
        );
    }

    // What came after.
    match analyse_after(doc, rev) {
        Ok(Analysis {
            changes,
            level,
            decided_by,
            fields_changed,
            visible_fields_added,
        }) => {
            if report.certification == Some(2) {
                for name in &visible_fields_added {
                    report.problems.push(format!(
                        "signature field '{name}' was added with a visible widget after this \
                         certification, which permits only signing the fields it left (DocMDP P=2)"
                    ));
                }
            }
            let locks: Vec<FieldLock> = field_lock
                .iter()
                .filter_map(FieldLock::from_dict)
                .chain(fieldmdp_locks(doc, &sig))
                .collect();
            for name in fields_changed.iter().filter(|n| **n != report.field) {
                if locks.iter().any(|l| l.covers(name)) {
                    report.problems.push(format!(
                        "form field '{name}' changed after this signature, which locks it (FieldMDP)"
                    ));
                }
            }
            if let Changes::Other(list) = &changes {
                let level = report.certification;
                report.problems.push(format!(
                    "{} after this signature: {}",
                    if level.is_some() {
                        "changes not permitted by its certification"
                    } else {
                        "incremental-saving attack or other changes"
                    },
                    list.join("; ")
                ));
            } else if level > ModificationLevel::LtaUpdates && report.certification == Some(1) {
                // Long-term validation data and document time-stamps are no change to the
                // document (ModificationLevel::LtaUpdates); anything more is.
                report.problems.push(format!(
                    "changes after a certification that permits none (DocMDP P=1): {}",
                    decided_by.as_deref().unwrap_or("form filling or signing")
                ));
            }
            report.changes = Some(changes);
            report.modification_level = Some(level);
            report.level_decided_by = decided_by;
        }
        Err(e) => report
            .problems
            .push(format!("cannot analyse later revisions: {e}")),
    }
}

/// The handwriting record embedded with a signature must be the one its CMS binds, for the
/// document the signature was made on.
fn check_ink_binding(
    doc: &Document<'_>,
    sig: &Dictionary,
    cms: &cms::CmsVerification,
    rev: usize,
    algorithm: cms::SignatureAlgorithm,
    report: &mut SignatureReport,
) {
    use crate::ink_binding::{INK_BINDING_OID, RECORD_KEY, parse_binding, record_digest};
    let record_ref = sig.get(RECORD_KEY);
    let attr = cms.signed_attribute(&INK_BINDING_OID);
    let attr = match (attr, record_ref) {
        (None, None) => return,
        (Some(a), Some(_)) => a,
        (Some(_), None) => {
            report.ink_binding = Some(false);
            report
                .problems
                .push("the signature binds a handwriting record that is not embedded".into());
            return;
        }
        (None, Some(_)) => {
            report.ink_binding = Some(false);
            report
                .problems
                .push("the embedded handwriting record is not bound by the signature".into());
            return;
        }
    };
    let mut problem = |p: String| {
        report.problems.push(p);
        false
    };
    let ok = match parse_binding(attr) {
        Err(e) => problem(e),
        Ok(binding) => {
            let data = doc.data();
            let record = crate::ink_binding::embedded_record(doc, &doc.xref_at(rev), sig);
            let prev_end = doc.sections.get(rev + 1).map_or(0, |s| s.end);
            let len = usize::try_from(binding.document_length).unwrap_or(usize::MAX);
            let len_ok = len == prev_end || (len + 1 == prev_end && data.get(len) == Some(&b'\n'));
            match record {
                None => problem("the embedded handwriting record is missing".into()),
                Some(r) if record_digest(&r) != binding.record_digest => problem(
                    "the embedded handwriting record is not the one the signature binds".into(),
                ),
                Some(_)
                    if !len_ok
                        || algorithm.digest(&[&data[..len.min(data.len())]])
                            != binding.document_digest =>
                {
                    problem("the handwriting was bound to another document".into())
                }
                Some(_) => true,
            }
        }
    };
    report.ink_binding = Some(ok);
}

fn string_of(d: &Dictionary, key: &[u8]) -> Option<String> {
    match d.get(key) {
        Some(Object::String(s, _)) => Some(decode_text(s)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A container refused for its SHA-1 digest was never digested: the advice is about the
    /// weak algorithm, not about changed bytes; a changed document with a sound algorithm is.
    #[test]
    fn advice_for_a_weak_digest_is_not_about_changed_bytes() {
        let mut weak = SignatureReport::new("Sig1".into());
        weak.byte_range = Some([0, 10, 20, 30]);
        weak.coverage = Some(Coverage::WholeFile);
        weak.weak_algorithm = Some("SHA-1 digest (1.3.14.3.2.26)".into());
        assert!(weak.advice().is_some_and(|a| a.contains("too weak")));
        let mut changed = weak.clone();
        changed.weak_algorithm = None;
        assert!(
            changed
                .advice()
                .is_some_and(|a| a.contains("changed after signing"))
        );
    }
}
