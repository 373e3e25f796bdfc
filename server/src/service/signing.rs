//! Co-signing, certificates and key status, for an authenticated device.
//!
//! A co-signing request carries the message itself ([`SignedMessage`]): the server reads which
//! document it names (the CMS message-digest attribute, the certification request's key and
//! name, or the SM3 of a raw message), computes `e = SM3(Z_A || M)` itself and refuses a
//! request whose `e` differs, records the document in the audit log, and lets the key's
//! signing policy hold the signature to the document its liveness evidence bound.

use super::{Context, check_round_ids, replay, unseal_share};
use crate::audit::{AuditEvent, AuditKind, Caller};
use crate::error::ServiceError;
use crate::store::{KeyCurve, KeyPurpose, KeyRecord, NewSignature, Recorded};
use inkseal_cosign::api::{
    CertificateRequest, CertificateResponse, CosignRequest, CosignResponse, KeyStatus, MessageKind,
    SignedMessage,
};
use inkseal_pdf::cms::SignatureAlgorithm;
use inkseal_pdf::cms::attached::{read_login_request, read_transaction_request};
use inkseal_pdf::cms::login::LoginAssertion;
use inkseal_pdf::cms::transaction::Transaction;
use serde_json::json;
use sha2::{Digest, Sha256};

/// Largest accepted CSR, in hex digits.
const MAX_CSR_HEX: usize = 32 * 1024;

/// Co-signing, certificates, status (see the module documentation).
pub struct Signing<'a> {
    pub(crate) ctx: &'a Context,
}

/// The document a message names, as the server reads it.
pub(crate) struct ReadMessage {
    /// SM3 digest of the document (the CMS message-digest, or of the raw message).
    pub(crate) document_digest: [u8; 32],
    /// The transaction an attached transaction signature approves.
    pub(crate) transaction: Option<Transaction>,
    /// The login assertion an attached login signature makes (its challenge not yet checked).
    pub(crate) login: Option<LoginAssertion>,
}

fn refused_message(why: impl std::fmt::Display) -> ServiceError {
    ServiceError::BadRequest(format!("the message to sign is refused: {why}"))
}

/// Read what `message` signs for `key` (see the module documentation).
pub(crate) fn read_message(
    key: &KeyRecord,
    message: &SignedMessage,
) -> Result<ReadMessage, ServiceError> {
    let mut transaction = None;
    let mut login = None;
    let document_digest: [u8; 32] = match message.kind() {
        MessageKind::CmsSignedAttributes => {
            let md = inkseal_pdf::cms::message_digest_of_signed_attributes(message.bytes())
                .map_err(refused_message)?;
            md.as_slice()
                .try_into()
                .map_err(|_| refused_message("the message-digest is not a 32-byte SM3 digest"))?
        }
        MessageKind::CertificationRequest => {
            let info = inkseal_pki::read_csr_info(message.bytes()).map_err(refused_message)?;
            if *info.public_key.to_sec1_bytes() != key.public_key[..] {
                return Err(refused_message("the request is for another key"));
            }
            if info.common_name != key.certificate_name {
                return Err(refused_message(format!(
                    "the request's common name must be {:?}, the name the institution asserted",
                    key.certificate_name
                )));
            }
            sm3_digest(message.bytes())
        }
        MessageKind::CmsAttachedTransaction => {
            let content = message
                .content()
                .ok_or_else(|| refused_message("an attached transaction carries its content"))?;
            transaction = Some(read_transaction_request(
                SignatureAlgorithm::Sm2Sm3,
                message.bytes(),
                content,
            )?);
            sm3_digest(content)
        }
        MessageKind::CmsAttachedLogin => {
            let content = message.content().ok_or_else(|| {
                refused_message("an attached login assertion carries its content")
            })?;
            login = Some(
                read_login_request(SignatureAlgorithm::Sm2Sm3, message.bytes(), content)
                    .map_err(crate::error::LoginRefusal::Request)?,
            );
            sm3_digest(content)
        }
        MessageKind::Raw => sm3_digest(message.bytes()),
    };
    Ok(ReadMessage {
        document_digest,
        transaction,
        login,
    })
}

fn sm3_digest(bytes: &[u8]) -> [u8; 32] {
    use sm3::Digest as _;
    sm3::Sm3::digest(bytes).into()
}

impl Signing<'_> {
    /// One co-signing round (idempotent per idempotency key) for an authenticated device.
    pub fn sign(
        &self,
        key: &KeyRecord,
        req: &CosignRequest,
        caller: &Caller,
    ) -> Result<CosignResponse, ServiceError> {
        let ctx = self.ctx;
        if key.curve != KeyCurve::Sm2 {
            return Err(ServiceError::SessionRefused(
                "this key is a two-party P-256 key: co-sign with /v1/keys/{key_id}/p256/sign"
                    .into(),
            ));
        }
        check_round_ids(&key.key_id, &req.sign.key_id, &req.idempotency_key)?;
        if let Some(head) = &req.evidence_head {
            if head.len() != 64 || !head.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
                return Err(ServiceError::BadRequest(
                    "evidence_head must be 64 lower-case hex digits".into(),
                ));
            }
        }
        if key.revoked {
            return Err(ServiceError::Revoked);
        }
        if !purpose_allows(key, req.message.kind()) {
            return Err(super::decrypting::refuse_purpose(
                ctx,
                key,
                caller,
                "an encryption key co-signs nothing but its own certificate request",
                &req.idempotency_key,
            )?);
        }
        ctx.authorise_pin(key, &req.pin, caller)?;
        let request_hash = request_hash(req);
        if let Some(done) = ctx
            .store
            .find_signature(&key.key_id, &req.idempotency_key)?
        {
            return replay(done, &request_hash);
        }
        let read = match read_message(key, &req.message).and_then(|read| {
            if let Some(assertion) = &read.login {
                super::login::Login { ctx }.check_cosign(assertion)?;
            }
            Ok(read)
        }) {
            Err(ServiceError::LoginRefused(why)) => {
                ctx.store.append_audit(
                    &AuditEvent::new(
                        AuditKind::Refused,
                        &key.key_id,
                        json!({
                            "reason": format!("login refused: {why}"),
                            "message_kind": req.message.kind().as_str(),
                            "idempotency_key": req.idempotency_key,
                        }),
                    )
                    .by(caller),
                )?;
                return Err(ServiceError::LoginRefused(why));
            }
            Err(ServiceError::TransactionRefused(why)) => {
                ctx.store.append_audit(
                    &AuditEvent::new(
                        AuditKind::Refused,
                        &key.key_id,
                        json!({
                            "reason": format!("transaction refused: {why}"),
                            "message_kind": req.message.kind().as_str(),
                            "idempotency_key": req.idempotency_key,
                        }),
                    )
                    .by(caller),
                )?;
                return Err(ServiceError::TransactionRefused(why));
            }
            other => other?,
        };
        let share_key = inkseal_cosign::sm2::PublicKey::from_sec1_bytes(&key.public_key)
            .map_err(|_| ServiceError::Internal("stored public key is invalid".into()))?;
        let e = inkseal_cosign::message_digest(&share_key, req.message.bytes());
        if e != req.sign.e.0 {
            return Err(ServiceError::BadRequest(
                "sign.e is not SM3(Z_A || message) for this key".into(),
            ));
        }
        let evidence_use = ctx.check_signing_policy(
            &key.key_id,
            req.evidence_head.as_deref(),
            req.message.kind(),
            &read.document_digest,
            caller,
        )?;
        let response = self.cosign(key, req)?;
        let response_json =
            serde_json::to_string(&response).map_err(|e| ServiceError::Internal(e.to_string()))?;
        let record = NewSignature {
            key_id: key.key_id.clone(),
            idempotency_key: req.idempotency_key.clone(),
            request_hash: request_hash.clone(),
            response: response_json,
            e: e.to_vec(),
            message_kind: req.message.kind().as_str().to_owned(),
            document_digest: read.document_digest.to_vec(),
            evidence_head: req.evidence_head.clone(),
            evidence_use,
        };
        let mut detail = json!({
            "e": hex::encode(e),
            "message_kind": req.message.kind().as_str(),
            "document_digest": hex::encode(read.document_digest),
            "idempotency_key": req.idempotency_key,
            "evidence_head": req.evidence_head,
        });
        let audit_kind = match (&read.transaction, &read.login) {
            (None, Some(assertion)) => {
                detail["relying_party"] = json!(assertion.relying_party());
                detail["challenge_id"] = json!(hex::encode(assertion.challenge_id()));
                AuditKind::LoginSigned
            }
            (None, None) => AuditKind::Signed,
            (Some(tx), _) => {
                detail["transaction_id"] = json!(tx.transaction_id());
                detail["payee_account"] = json!(tx.payee().account());
                detail["amount_minor"] = json!(tx.amount_minor());
                detail["currency"] = json!(tx.currency());
                detail["amount"] = json!(tx.amount_display());
                AuditKind::TransactionSigned
            }
        };
        let audit = AuditEvent::new(audit_kind, &key.key_id, detail).by(caller);
        match ctx.store.record_signature(&record, &audit)? {
            Recorded::Inserted => {
                ctx.metrics.signed();
                Ok(response)
            }
            // A concurrent twin won the race: its answer is the one; ours is dropped unsent.
            Recorded::Existing(done) => replay(done, &request_hash),
            Recorded::EvidenceUsed => Err(ctx.refuse_evidence(
                &key.key_id,
                req.evidence_head.as_deref(),
                "the presented evidence was already used for another signature",
                caller,
            )?),
        }
    }

    /// Unseal d2 for this one step, co-sign, wipe.
    fn cosign(&self, key: &KeyRecord, req: &CosignRequest) -> Result<CosignResponse, ServiceError> {
        let share = unseal_share(self.ctx.vault.as_ref(), key)?;
        Ok(CosignResponse {
            sign: share
                .cosign(&req.sign)
                .map_err(|e| ServiceError::BadRequest(e.to_string()))?,
        })
    }

    /// Verify a CSR co-signed by the joint key and issue its certificate, with the name the
    /// institution asserted.
    pub fn certify(
        &self,
        key: &KeyRecord,
        req: &CertificateRequest,
        caller: &Caller,
    ) -> Result<CertificateResponse, ServiceError> {
        if key.revoked {
            return Err(ServiceError::Revoked);
        }
        if key.locked {
            return Err(ServiceError::Locked);
        }
        if req.csr_der_hex.len() > MAX_CSR_HEX {
            return Err(ServiceError::BadRequest("CSR too large".into()));
        }
        let der = hex::decode(&req.csr_der_hex)
            .map_err(|_| ServiceError::BadRequest("csr_der_hex is not hex".into()))?;
        if key.curve == KeyCurve::P256 {
            return self.certify_p256(key, &der, caller);
        }
        let csr = inkseal_pki::verify_csr(&der)
            .map_err(|e| ServiceError::BadRequest(format!("CSR rejected: {e}")))?;
        if *csr.public_key.to_sec1_bytes() != key.public_key[..] {
            return Err(ServiceError::BadRequest(
                "the CSR's key is not this enrollment's joint key".into(),
            ));
        }
        if csr.common_name != key.certificate_name {
            return Err(ServiceError::BadRequest(format!(
                "the CSR's common name must be {:?}, the name the institution asserted",
                key.certificate_name
            )));
        }
        let cert = match key.purpose {
            KeyPurpose::Signing => self.ctx.ca.issue(&csr),
            KeyPurpose::Encryption => self.ctx.ca.issue_encryption(&csr),
        }
        .map_err(ServiceError::Internal)?;
        self.record_issued(key, cert, self.ctx.ca.ca_certificate(), caller)
    }

    /// Register a certificate the CA issued to `key` (the key's current one, the CA's
    /// register, the `certificate_issued` entry) and answer it with its CA's certificate.
    fn record_issued(
        &self,
        key: &KeyRecord,
        cert: Vec<u8>,
        ca: &[u8],
        caller: &Caller,
    ) -> Result<CertificateResponse, ServiceError> {
        let serial = inkseal_pki::certificate_serial(&cert)
            .map_err(|e| ServiceError::Internal(format!("issued certificate: {e}")))?;
        self.ctx.store.record_certificate(
            &key.key_id,
            &serial,
            &cert,
            &AuditEvent::new(
                AuditKind::CertificateIssued,
                &key.key_id,
                json!({
                    "sha256": hex::encode(Sha256::digest(&cert)),
                    "serial": hex::encode(&serial),
                    "subject_cn": key.certificate_name,
                    "curve": key.curve.as_str(),
                }),
            )
            .by(caller),
        )?;
        Ok(CertificateResponse {
            certificate_der_hex: hex::encode(&cert),
            ca_certificate_der_hex: hex::encode(ca),
        })
    }

    /// A two-party P-256 key's certificate: the CSR, co-signed beforehand through the two
    /// P-256 round trips (the proof of possession, and the server's confirmation that the
    /// phone holds the same joint key), must verify (ecdsa-with-SHA256) under the key's joint
    /// key and carry the asserted name; the CA issues from its P-256 root.
    fn certify_p256(
        &self,
        key: &KeyRecord,
        der: &[u8],
        caller: &Caller,
    ) -> Result<CertificateResponse, ServiceError> {
        use p256::elliptic_curve::sec1::ToSec1Point as _;
        // A CSR co-signed while the server served P-256 is not certified once it no longer does.
        super::p256::P256Cosigning { ctx: self.ctx }.check_enabled()?;
        let csr = inkseal_pki::verify_p256_csr(der)
            .map_err(|e| ServiceError::BadRequest(format!("CSR rejected: {e}")))?;
        if csr.public_key.to_sec1_point(false).as_bytes() != key.public_key.as_slice() {
            return Err(ServiceError::BadRequest(
                "the CSR's key is not this enrollment's joint key".into(),
            ));
        }
        if csr.common_name != key.certificate_name {
            return Err(ServiceError::BadRequest(format!(
                "the CSR's common name must be {:?}, the name the institution asserted",
                key.certificate_name
            )));
        }
        let (cert, ca) = self
            .ctx
            .ca
            .issue_p256(&csr)
            .map_err(ServiceError::Internal)?;
        self.record_issued(key, cert, &ca, caller)
    }

    /// The issued certificate, if any.
    pub fn certificate(&self, key: &KeyRecord) -> Result<CertificateResponse, ServiceError> {
        let cert = key
            .certificate
            .as_ref()
            .ok_or_else(|| ServiceError::NotFound("no certificate issued yet".into()))?;
        let ca = match key.curve {
            KeyCurve::Sm2 => self.ctx.ca.ca_certificate().to_vec(),
            // The root that issued it (the embedded CA has two).
            KeyCurve::P256 => self
                .ctx
                .ca
                .p256_ca_certificate()
                .ok_or_else(|| ServiceError::Internal("the CA has no P-256 root".into()))?
                .to_vec(),
        };
        Ok(CertificateResponse {
            certificate_der_hex: hex::encode(cert),
            ca_certificate_der_hex: hex::encode(ca),
        })
    }

    /// What the server knows about a key (nothing secret).
    pub fn status(&self, key: &KeyRecord) -> KeyStatus {
        KeyStatus {
            key_id: key.key_id.clone(),
            user_id: key.user_id.clone(),
            public_key_hex: hex::encode(&key.public_key),
            pin_failures: key.pin_failures,
            locked: key.locked,
            revoked: key.revoked,
            has_certificate: key.certificate.is_some(),
            purpose: key.purpose,
            curve: key.curve,
            device_attestation: super::enroll::verified_attestation(
                key.device_attestation.as_deref(),
            ),
        }
    }
}

/// Whether `key`'s purpose lets it co-sign a message of `kind`: a signing key signs every
/// kind; an encryption key only its own certificate request, before its certificate is issued
/// (the proof of possession enrollment needs).
fn purpose_allows(key: &KeyRecord, kind: MessageKind) -> bool {
    match key.purpose {
        KeyPurpose::Signing => true,
        KeyPurpose::Encryption => match kind {
            MessageKind::CertificationRequest => key.certificate.is_none(),
            MessageKind::CmsSignedAttributes
            | MessageKind::CmsAttachedTransaction
            | MessageKind::CmsAttachedLogin
            | MessageKind::Raw => false,
        },
    }
}

/// SHA-256 of everything in the request except the PIN.
fn request_hash(req: &CosignRequest) -> Vec<u8> {
    let canonical = json!({
        "idempotency_key": req.idempotency_key,
        "evidence_head": req.evidence_head,
        "message": req.message,
        "sign": req.sign,
    });
    Sha256::digest(canonical.to_string().as_bytes()).to_vec()
}
