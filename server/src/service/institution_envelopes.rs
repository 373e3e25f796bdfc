//! The institution's encryption keys open digital envelopes sent to them (the customs flow:
//! each party seals what only the recipient's signature server can open).
//!
//! An encryption key is a seal record whose key purpose is `encryption` (see
//! [`super::sealing`]): created by `seal:manage` like a seal, with an organisation
//! certificate whose keyUsage is keyAgreement (P-256) or keyEncipherment (SM2). It never signs,
//! and a seal never opens envelopes.
//!
//! Opening (`POST /v1/admin/seals/{seal_id}/open-envelope`, role `envelope:open`):
//! * **P-256 with a PKCS#11 vault**: the key pair was generated in the token with `CKA_DERIVE`
//!   only (sensitive, non-extractable, no `CKA_SIGN`). The token computes ECDH with the
//!   envelope's ephemeral key (`CKM_ECDH1_DERIVE`, null KDF) into a session object that is read
//!   and destroyed at once: only `Z` of that one envelope reaches this process; the X9.63 KDF,
//!   the AES key unwrap and the content decryption run here ([`TokenAgreement`]).
//! * **P-256 or SM2 with the file vault** (or SM2 with a PKCS#11 vault, whose wrapping key is in
//!   the token): the private key is unsealed for this call only and wiped after.
//!
//! The recipient is found by the key's certificate, and the key must be the certificate's.
//! Nothing is returned before the content key's check (C3 or AES key unwrap) and the content's
//! padding check pass. Every opening is audited (`envelope_opened`: seal, document label,
//! SHA-256 of the envelope, content type, cipher, plaintext length; never the plaintext) in the
//! transaction that re-checks the key is still enabled, before the plaintext is answered; every
//! refusal is audited with its reason. A content key that does not unwrap and content whose
//! padding is wrong get one and the same answer ([`DOES_NOT_DECRYPT`]; the audit entry keeps
//! which): the envelopes come from outside, and CBC content without a MAC whose failures are
//! told apart is a padding oracle.

use super::Context;
use super::sealing::{SealAlgorithm, Sealing, seal_algorithm};
use crate::audit::{AuditEvent, AuditKind, Caller};
use crate::error::{SealRefusal, ServiceError};
use crate::store::{KeyPurpose, SealKeyKind, SealRecord, StoreError};
use crate::vault::TokenKeys;
use base64ct::{Base64, Encoding};
use inkseal_pdf::cms::enveloped::{
    EnvelopeError, OpenedEnvelope, P256KeyAgreement, ParsedEnvelope, parse_envelope,
};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

/// Largest envelope the open-envelope route takes (DER bytes).
pub const MAX_OPEN_ENVELOPE_BYTES: usize = 3 * 1024 * 1024;
/// Largest open-envelope request body: the envelope in base64 and a label.
pub const MAX_OPEN_ENVELOPE_BODY_BYTES: usize = MAX_OPEN_ENVELOPE_BYTES / 3 * 4 + 64 * 1024;

/// The one answer for an envelope whose content key or content does not decrypt.
pub const DOES_NOT_DECRYPT: &str = "the envelope does not decrypt under this key (altered, or its recipient entry is not this \
     key's)";

/// `POST /v1/admin/seals/{seal_id}/open-envelope`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpenEnvelopeRequest {
    /// The EnvelopedData ContentInfo (DER or BER), base64.
    pub envelope: String,
    /// What it is (declaration number, file name), for the audit log.
    pub document: String,
}

/// The answer: the plaintext and what it was.
#[derive(Serialize, Deserialize)]
pub struct OpenEnvelopeResponse {
    /// The decrypted content, base64.
    pub content: String,
    /// Its content type OID (id-data, GB/T data, a signedData for signed-then-enveloped).
    pub content_type: String,
    /// The content cipher (`SM4-CBC`, `AES-128-CBC`, `AES-256-CBC`).
    pub cipher: String,
}

impl std::fmt::Debug for OpenEnvelopeResponse {
    /// The plaintext is confidential: never in a debug print or a log.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenEnvelopeResponse")
            .field(
                "content",
                &format_args!("<{} base64 chars>", self.content.len()),
            )
            .field("content_type", &self.content_type)
            .field("cipher", &self.cipher)
            .finish()
    }
}

impl Drop for OpenEnvelopeResponse {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.content);
    }
}

/// A P-256 key-agreement key inside the vault's token, by label.
pub struct TokenAgreement<'a> {
    token: &'a dyn TokenKeys,
    label: &'a str,
    public: p256::PublicKey,
}

impl P256KeyAgreement for TokenAgreement<'_> {
    fn public_key(&self) -> p256::PublicKey {
        self.public
    }

    fn shared_secret(
        &self,
        originator: &p256::PublicKey,
    ) -> Result<Zeroizing<[u8; 32]>, EnvelopeError> {
        self.token
            .ecdh_p256(self.label, originator)
            .map_err(|e| EnvelopeError::KeyUnavailable(e.to_string()))
    }
}

/// The institution's envelope opening (see the module documentation).
pub struct InstitutionEnvelopes<'a> {
    pub(crate) ctx: &'a Context,
}

impl InstitutionEnvelopes<'_> {
    fn sealing(&self) -> Sealing<'_> {
        Sealing { ctx: self.ctx }
    }

    /// Open `request.envelope` with the encryption key `seal_id` (see the module
    /// documentation).
    pub fn open(
        &self,
        seal_id: &str,
        request: &OpenEnvelopeRequest,
        caller: &Caller,
    ) -> Result<OpenEnvelopeResponse, ServiceError> {
        let sealing = self.sealing();
        let refuse = |refusal| sealing.refuse(refusal, Some(seal_id), caller);
        let seal = sealing.usable_key(seal_id, KeyPurpose::Encryption, caller)?;
        let document = super::sealing::printable(
            "document label",
            &request.document,
            super::sealing::MAX_DOCUMENT_LABEL_CHARS,
        )?;
        let der = Base64::decode_vec(&request.envelope)
            .map_err(|_| ServiceError::BadRequest("envelope: not base64".into()))?;
        if der.len() > MAX_OPEN_ENVELOPE_BYTES {
            return Err(ServiceError::TooLarge(MAX_OPEN_ENVELOPE_BYTES));
        }
        let opened = parse_envelope(&der).and_then(|parsed| self.open_parsed(&seal, &parsed));
        let opened = match opened {
            Ok(opened) => opened,
            Err(EnvelopeError::KeyUnavailable(why)) => {
                return Err(ServiceError::Internal(format!(
                    "encryption key {seal_id}: {why}"
                )));
            }
            // One answer for a content key that does not unwrap and content that does not
            // decrypt: the envelopes come from outside, and CBC without a MAC told apart
            // would be a padding oracle to whoever can submit envelopes and see the answer.
            // The audit entry keeps the exact reason.
            Err(
                e @ (EnvelopeError::KeyDecryptionFailed | EnvelopeError::ContentDecryptionFailed),
            ) => {
                refuse(SealRefusal::EnvelopeRefused(e.to_string()))?;
                return Err(ServiceError::Seal(SealRefusal::EnvelopeRefused(
                    DOES_NOT_DECRYPT.into(),
                )));
            }
            // What the envelope says of itself: nothing about the key.
            Err(
                e @ (EnvelopeError::TooLarge { .. }
                | EnvelopeError::TooManyRecipients { .. }
                | EnvelopeError::Malformed(_)
                | EnvelopeError::Unsupported(_)
                | EnvelopeError::NotARecipient(_)
                | EnvelopeError::Certificate(_)
                | EnvelopeError::InvalidInput(_)
                | EnvelopeError::Encoding(_)),
            ) => return Err(refuse(SealRefusal::EnvelopeRefused(e.to_string()))?),
        };
        let audit = AuditEvent::new(
            AuditKind::EnvelopeOpened,
            seal_id,
            json!({
                "seal_id": seal_id,
                "document": document,
                "envelope_sha256": hex::encode(Sha256::digest(&der)),
                "content_type": opened.content_type().to_string(),
                "cipher": opened.cipher().name(),
                "content_bytes": opened.content().len(),
            }),
        )
        .by(caller);
        match self.ctx.store.record_seal_uses(seal_id, &[audit]) {
            // Disabled while this envelope was being opened: nothing is returned.
            Err(StoreError::NotFound) => return Err(refuse(SealRefusal::Disabled)?),
            other => other?,
        }
        Ok(OpenEnvelopeResponse {
            content: Base64::encode_string(opened.content()),
            content_type: opened.content_type().to_string(),
            cipher: opened.cipher().name().into(),
        })
    }

    /// The key step: by where the key is held and its curve.
    fn open_parsed(
        &self,
        seal: &SealRecord,
        parsed: &ParsedEnvelope,
    ) -> Result<OpenedEnvelope, EnvelopeError> {
        let internal = |why: String| EnvelopeError::KeyUnavailable(why);
        let algorithm = seal_algorithm(seal).map_err(|e| internal(e.to_string()))?;
        let certificate = Some(seal.certificate.as_slice());
        match (seal.key_kind, algorithm) {
            (SealKeyKind::Token, SealAlgorithm::EcdsaP256) => {
                let token = self.ctx.vault.token_keys().ok_or_else(|| {
                    internal("its key is in a PKCS#11 token, but the vault has none".into())
                })?;
                let public = token
                    .p256_public_key(&seal.key_ref)
                    .map_err(|e| internal(e.to_string()))?;
                let key = TokenAgreement {
                    token,
                    label: &seal.key_ref,
                    public: public.into(),
                };
                parsed.open_with_p256_agreement(&key, certificate)
            }
            (SealKeyKind::Token, SealAlgorithm::Sm2) => {
                Err(internal("SM2 keys are never in a token".into()))
            }
            (SealKeyKind::VaultSealed, algorithm) => {
                let pkcs8 = self
                    .sealing()
                    .unseal_key(seal)
                    .map_err(|e| internal(e.to_string()))?;
                let unreadable = |_| internal("sealed key unreadable".into());
                match algorithm {
                    SealAlgorithm::EcdsaP256 => {
                        use p256::pkcs8::DecodePrivateKey;
                        let key = p256::SecretKey::from_pkcs8_der(&pkcs8).map_err(unreadable)?;
                        parsed.open_with_p256_key(&key, certificate)
                    }
                    SealAlgorithm::Sm2 => {
                        use sm2::pkcs8::DecodePrivateKey;
                        let key = sm2::SecretKey::from_pkcs8_der(&pkcs8).map_err(unreadable)?;
                        parsed.open_with_sm2_key(&key, certificate)
                    }
                }
            }
        }
    }
}
