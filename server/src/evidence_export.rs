//! The evidence package of one signing, for disputes: JSON for machines and a PDF report for
//! people (who, when, which document digest, which checks passed).
//!
//! The package holds the key and its certificate fingerprint, the co-signed digest `e`, the
//! evidence manifest bound by the request (with the challenge it answered and the server's
//! verdict), and the key's audit entries, each with its chain hashes so a reader holding the
//! log can check them.

use crate::audit::AuditEntry;
use crate::error::ServiceError;
use crate::liveness::Liveness;
use crate::store::now_ms;
use inkseal_capture::date::Date;
use inkseal_capture::manifest::EvidenceManifest;
use inkseal_pdf::report::{ReportSection, text_report};
use serde::Serialize;
use sha2::{Digest, Sha256};

/// Format name of [`EvidencePackage`].
pub const PACKAGE_FORMAT: &str = "inkseal-evidence-package/v1";
/// Audit entries included per package, at most.
const MAX_AUDIT_ENTRIES: u32 = 2_000;

/// The key that signed.
#[derive(Clone, Debug, Serialize)]
pub struct KeySection {
    /// Key id.
    pub key_id: String,
    /// Enrolled user.
    pub user_id: String,
    /// Joint public key, SEC1 hex.
    pub public_key_hex: String,
    /// SHA-256 of the issued certificate (DER), if one was issued.
    pub certificate_sha256: Option<String>,
}

/// The signing.
#[derive(Clone, Debug, Serialize, serde::Deserialize)]
pub struct SigningSection {
    /// The client's idempotency key, which names the signing.
    pub idempotency_key: String,
    /// The co-signed digest e = SM3(Z_A || M), hex.
    pub e_hex: String,
    /// What kind of message was signed (`cms_signed_attributes`, `certification_request`,
    /// `raw`, `cms_attached_transaction`, `cms_attached_login`).
    pub message_kind: String,
    /// The document that was signed: the SM3 digest the signed message names, hex (for a PDF,
    /// the digest of its signed byte ranges).
    pub document_digest: String,
    /// When the server co-signed (unix ms).
    pub signed_at_ms: u64,
    /// The evidence manifest head the request carried.
    pub evidence_head: Option<String>,
}

/// The evidence bound to the signing.
#[derive(Clone, Debug, Serialize)]
pub struct EvidenceSection {
    /// The liveness challenge as issued.
    pub challenge: serde_json::Value,
    /// The manifest as received.
    pub manifest: EvidenceManifest,
    /// Whether the manifest's hash chain verifies now.
    pub manifest_verified: bool,
    /// The server's verdict.
    pub passed: bool,
    /// Why.
    pub reason: String,
    /// Liveness vendor and its reference.
    pub vendor_name: String,
    /// The vendor's reference of the check.
    pub vendor_reference: String,
    /// The ID number, masked, when a card was captured.
    pub id_number_masked: Option<String>,
    /// When the server received the evidence (unix ms).
    pub received_at_ms: u64,
    /// Digests of the document(s) recorded in the manifest, hex.
    pub document_digests: Vec<String>,
}

/// Everything about one signing.
#[derive(Clone, Debug, Serialize)]
pub struct EvidencePackage {
    /// [`PACKAGE_FORMAT`].
    pub format: String,
    /// When the package was made (unix ms).
    pub generated_at_ms: u64,
    /// The key.
    pub key: KeySection,
    /// The signing.
    pub signing: SigningSection,
    /// The bound evidence, when the request carried a known manifest head.
    pub evidence: Option<EvidenceSection>,
    /// The key's audit entries, oldest first by time (`at_ms`, then lane and `seq`), each
    /// naming its lane.
    pub audit: Vec<AuditEntry>,
    /// Whether every listed audit entry's hash recomputes from its fields and predecessor.
    pub audit_entries_verified: bool,
}

/// An evidence package with a time-stamp over its exact bytes: what a dispute needs to show
/// the package existed, unchanged, at the time-stamp's time.
#[derive(Clone, Debug, Serialize)]
pub struct SealedEvidencePackage {
    /// The [`EvidencePackage`] as JSON text: the bytes the time-stamp covers are exactly its
    /// UTF-8 encoding.
    pub package: String,
    /// SHA-256 of `package`, hex: the time-stamp's message imprint.
    pub package_sha256: String,
    /// An RFC 3161 `TimeStampToken` (DER, hex) from the server's P-256 TSA unit over
    /// `package_sha256`: `openssl ts -verify -data package.json -in token.der -token_in
    /// -CAfile roots.pem` checks it.
    pub time_stamp_token_der_hex: String,
    /// The token's time (unix ms).
    pub time_stamped_at_ms: u64,
}

/// "YYYY-MM-DD HH:MM:SS UTC".
fn utc(ms: u64) -> String {
    let d = Date::from_unix_ms(ms, 0);
    let secs = (ms / 1000) % 86_400;
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02} UTC",
        d.year(),
        d.month(),
        d.day(),
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

impl Liveness<'_> {
    /// The signings of a key, newest first (at most `limit`), for operators looking for one.
    pub fn signings(&self, key_id: &str, limit: u32) -> Result<Vec<SigningSection>, ServiceError> {
        self.ctx.key(key_id)?;
        Ok(self
            .ctx
            .store
            .signatures_of(key_id, limit.min(1000))?
            .into_iter()
            .map(signing_section)
            .collect())
    }

    /// The evidence package of the signing `idempotency_key` by `key_id`.
    pub fn evidence_package(
        &self,
        key_id: &str,
        idempotency_key: &str,
    ) -> Result<EvidencePackage, ServiceError> {
        let store = &self.ctx.store;
        let key = self.ctx.key(key_id)?;
        let sig = store
            .get_signature(key_id, idempotency_key)?
            .ok_or_else(|| ServiceError::NotFound("no such signing for this key".into()))?;
        let evidence = match &sig.evidence_head {
            None => None,
            Some(head) => match store.find_evidence(key_id, head)? {
                None => None,
                Some(e) => {
                    let challenge = store
                        .get_challenge(&e.challenge_id)?
                        .map(|(c, _)| serde_json::from_str(&c.challenge_json))
                        .transpose()
                        .map_err(|e| ServiceError::Internal(format!("stored challenge: {e}")))?
                        .unwrap_or(serde_json::Value::Null);
                    let manifest: EvidenceManifest = serde_json::from_str(&e.manifest_json)
                        .map_err(|e| ServiceError::Internal(format!("stored manifest: {e}")))?;
                    Some(EvidenceSection {
                        challenge,
                        manifest_verified: manifest.verify().is_ok()
                            && manifest.head_hex() == e.manifest_head,
                        manifest,
                        passed: e.passed,
                        reason: e.reason,
                        vendor_name: e.vendor_name,
                        vendor_reference: e.vendor_reference,
                        id_number_masked: e.id_number_masked,
                        received_at_ms: e.received_ms,
                        document_digests: e.document_digests,
                    })
                }
            },
        };
        let audit = store.audit_entries_for_key(key_id, MAX_AUDIT_ENTRIES)?;
        Ok(EvidencePackage {
            format: PACKAGE_FORMAT.into(),
            generated_at_ms: now_ms(),
            key: KeySection {
                key_id: key.key_id,
                user_id: key.user_id,
                public_key_hex: hex::encode(&key.public_key),
                certificate_sha256: key.certificate.map(|c| hex::encode(Sha256::digest(c))),
            },
            signing: signing_section(sig),
            evidence,
            audit_entries_verified: audit.iter().all(AuditEntry::recomputes),
            audit,
        })
    }

    /// [`Liveness::evidence_package`] as JSON text with a time-stamp from the server's TSA over
    /// its bytes (`NotFound` when the server runs no TSA).
    pub fn sealed_evidence_package(
        &self,
        key_id: &str,
        idempotency_key: &str,
    ) -> Result<SealedEvidencePackage, ServiceError> {
        use inkseal_pdf::cms::SignatureAlgorithm;
        let tsa = self.ctx.tsa.as_ref().ok_or_else(|| {
            ServiceError::NotFound("this server runs no time-stamping authority".into())
        })?;
        let package = serde_json::to_string(&self.evidence_package(key_id, idempotency_key)?)
            .map_err(|e| ServiceError::Internal(format!("evidence package: {e}")))?;
        let suite = SignatureAlgorithm::EcdsaP256Sha256;
        let digest = suite.digest(&[package.as_bytes()]);
        let nonce: [u8; 16] = crate::service::random_bytes()?;
        let request = inkseal_pdf::tsp::TimeStampRequest::new(suite, &digest, Some(&nonce), None)
            .map_err(|e| ServiceError::Internal(format!("time-stamp request: {e}")))?;
        let token = own_time_stamp(tsa, self.ctx.store.as_ref(), &request)?;
        Ok(SealedEvidencePackage {
            package_sha256: hex::encode(&digest),
            time_stamp_token_der_hex: hex::encode(token.to_der()),
            time_stamped_at_ms: token.gen_time_unix_millis(),
            package,
        })
    }

    /// The human-readable PDF report of [`Liveness::evidence_package`], with a document
    /// time-stamp from the server's TSA (P-256, SHA-256 imprint: any PDF validator can check
    /// it) when the server runs one, so the report itself is dated and sealed.
    pub fn evidence_report_pdf(
        &self,
        key_id: &str,
        idempotency_key: &str,
    ) -> Result<Vec<u8>, ServiceError> {
        let p = self.evidence_package(key_id, idempotency_key)?;
        let report = text_report("签署证据报告 Signing evidence report", &report_sections(&p))
            .map_err(|e| ServiceError::Internal(format!("report: {e}")))?;
        match &self.ctx.tsa {
            None => Ok(report),
            Some(tsa) => time_stamp_document(tsa, self.ctx.store.as_ref(), report),
        }
    }
}

/// `pdf` with a document time-stamp from `tsa` appended.
fn time_stamp_document(
    tsa: &crate::tsa::TimeStampAuthority,
    store: &dyn crate::store::Store,
    pdf: Vec<u8>,
) -> Result<Vec<u8>, ServiceError> {
    use inkseal_pdf::cms::SignatureAlgorithm;
    let internal = |what: &str, e: &dyn std::fmt::Display| {
        ServiceError::Internal(format!("time-stamping the report: {what}: {e}"))
    };
    let prepared = inkseal_pdf::ltv::prepare_document_time_stamp(
        &pdf,
        SignatureAlgorithm::EcdsaP256Sha256,
        Some("EvidenceTimeStamp".into()),
        &inkseal_pdf::Limits::default(),
    )
    .map_err(|e| internal("prepare", &e))?;
    let nonce: [u8; 16] = crate::service::random_bytes()?;
    let request = prepared
        .time_stamp_request(&nonce)
        .map_err(|e| internal("request", &e))?;
    let token = own_time_stamp(tsa, store, &request)?;
    let tail = prepared.finish(&token).map_err(|e| internal("embed", &e))?;
    Ok([pdf, tail].concat())
}

/// A token for `request` from the server's own TSA, checked like any client checks one.
fn own_time_stamp(
    tsa: &crate::tsa::TimeStampAuthority,
    store: &dyn crate::store::Store,
    request: &inkseal_pdf::tsp::TimeStampRequest,
) -> Result<inkseal_pdf::tsp::TimeStampToken, ServiceError> {
    let internal = |what: &str, e: &dyn std::fmt::Display| {
        ServiceError::Internal(format!("time-stamp: {what}: {e}"))
    };
    let der = request.to_der().map_err(|e| internal("request", &e))?;
    let reply = tsa
        .respond(store, &der)
        .map_err(|e| internal("reply", &e))?;
    inkseal_pdf::tsp::check_reply(request, &reply.der).map_err(|e| internal("token", &e))
}

fn signing_section(sig: crate::store::SignatureSummary) -> SigningSection {
    SigningSection {
        idempotency_key: sig.idempotency_key,
        e_hex: hex::encode(&sig.e),
        message_kind: sig.message_kind,
        document_digest: sig.document_digest,
        signed_at_ms: sig.created_ms,
        evidence_head: sig.evidence_head,
    }
}

fn yes_no(v: bool) -> String {
    if v { "是 yes".into() } else { "否 NO".into() }
}

fn report_sections(p: &EvidencePackage) -> Vec<ReportSection> {
    let row = |a: &str, b: String| (a.to_owned(), b);
    let mut sections = vec![
        ReportSection {
            heading: "签署人 Signer".into(),
            rows: vec![
                row("用户 User", p.key.user_id.clone()),
                row("密钥 Key id", p.key.key_id.clone()),
                row("公钥 Public key", p.key.public_key_hex.clone()),
                row(
                    "证书 SHA-256 Certificate",
                    p.key
                        .certificate_sha256
                        .clone()
                        .unwrap_or_else(|| "-".into()),
                ),
            ],
        },
        ReportSection {
            heading: "签署 Signing".into(),
            rows: vec![
                row("时间 Time", utc(p.signing.signed_at_ms)),
                row("签名摘要 e (SM3)", p.signing.e_hex.clone()),
                row(
                    "所签文档 Document signed (SM3)",
                    p.signing.document_digest.clone(),
                ),
                row("报文 Message", p.signing.message_kind.clone()),
                row("请求 Request", p.signing.idempotency_key.clone()),
                row(
                    "证据头 Evidence head",
                    p.signing
                        .evidence_head
                        .clone()
                        .unwrap_or_else(|| "-".into()),
                ),
            ],
        },
    ];
    match &p.evidence {
        None => sections.push(ReportSection {
            heading: "活体与身份证据 Liveness and identity".into(),
            rows: vec![row("证据 Evidence", "无 none bound to this signing".into())],
        }),
        Some(e) => {
            let mut rows = vec![
                row("活体检测 Liveness passed", yes_no(e.passed)),
                row("结论 Reason", e.reason.clone()),
                row(
                    "供应商 Vendor",
                    format!("{} / {}", e.vendor_name, e.vendor_reference),
                ),
                row("接收时间 Received", utc(e.received_at_ms)),
                row("清单校验 Manifest verifies", yes_no(e.manifest_verified)),
                row(
                    "身份证号 ID number",
                    e.id_number_masked.clone().unwrap_or_else(|| "-".into()),
                ),
            ];
            for d in &e.document_digests {
                rows.push(row("文档摘要 Document digest", d.clone()));
            }
            for entry in &e.manifest.entries {
                let result = entry
                    .meta
                    .get("result")
                    .map(|r| format!(" ({r})"))
                    .unwrap_or_default();
                rows.push(row(
                    &format!("#{} {}", entry.seq, entry.kind.as_str()),
                    format!("{}{result}", entry.artefact_digest_hex),
                ));
            }
            sections.push(ReportSection {
                heading: "活体与身份证据 Liveness and identity".into(),
                rows,
            });
        }
    }
    sections.push(ReportSection {
        heading: "审计记录 Audit log".into(),
        rows: std::iter::once(row(
            "哈希链 Entries recompute",
            yes_no(p.audit_entries_verified),
        ))
        .chain(p.audit.iter().map(|a| {
            // `#seq` in the one lane `main`; `lane#seq` in a replica's lane.
            let lane = if a.lane == crate::audit::MAIN_LANE {
                ""
            } else {
                a.lane.as_str()
            };
            (
                format!("{lane}#{} {}", a.seq, a.kind),
                format!("{}  {}", utc(a.at_ms), a.detail),
            )
        }))
        .collect(),
    });
    sections
}
