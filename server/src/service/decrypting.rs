//! Two-party SM2 decryption for an authenticated device (issue 17, design §3).
//!
//! The checks run in the order signing runs them: the device signature (the HTTP layer), then
//! revoked, then the key's purpose (only an `encryption` key decrypts; a signing key is refused
//! and the refusal audited), then the PIN (the same `Store::check_pin`), then the key's
//! policy (rate limits are the HTTP layer's, in the signing class, so decryptions and
//! signatures share one budget per key). Only then is d2 unsealed for the one step
//! `T2 = d2^-1 T1` with its proof, and wiped. The answer is stored under the idempotency key
//! with its `decrypted` audit entry in one transaction; a retry gets the stored answer.
//!
//! The server never sees the envelope: `T1` is blinded by the phone, so `envelope_ref` (SM3 of
//! the envelope) is recorded as the client's claim.
//!
//! Each answer is a static Diffie–Hellman oracle query (`d2^-1` applied to a point of the
//! caller's choice), so a key answers at most [`Policy::max_decryptions_per_key`] in its life
//! (2^20 by default): the count is raised in the transaction that records the answer, and at
//! the cap the answer is dropped unsent, the refusal audited, and the user must enroll a new
//! encryption key (ARCHITECTURE.md, "Two-party decryption", has the arithmetic).
//!
//! [`Policy::max_decryptions_per_key`]: super::Policy::max_decryptions_per_key

use super::{Context, check_round_ids, replay, unseal_share};
use crate::audit::{AuditEvent, AuditKind, Caller};
use crate::error::ServiceError;
use crate::store::{KeyPurpose, KeyRecord, NewDecryption, RecordedDecryption};
use inkseal_cosign::api::{DecryptApiRequest, DecryptApiResponse, ENVELOPE_REF_HEX_LEN};
use serde_json::json;
use sha2::{Digest, Sha256};

/// Two-party decryption (see the module documentation).
pub struct Decrypting<'a> {
    pub(crate) ctx: &'a Context,
}

impl Decrypting<'_> {
    /// One decryption round (idempotent per idempotency key) for an authenticated device.
    pub fn decrypt(
        &self,
        key: &KeyRecord,
        req: &DecryptApiRequest,
        caller: &Caller,
    ) -> Result<DecryptApiResponse, ServiceError> {
        let ctx = self.ctx;
        check_round_ids(&key.key_id, &req.decrypt.key_id, &req.idempotency_key)?;
        if req.decrypt.request_id != req.idempotency_key {
            return Err(ServiceError::BadRequest(
                "decrypt.request_id must be the idempotency key".into(),
            ));
        }
        let envelope_ref = parse_envelope_ref(&req.envelope_ref)?;
        if key.revoked {
            return Err(ServiceError::Revoked);
        }
        match key.purpose {
            KeyPurpose::Encryption => {}
            KeyPurpose::Signing => {
                return Err(refuse_purpose(
                    ctx,
                    key,
                    caller,
                    "a signing key does not decrypt; enroll an encryption key",
                    &req.idempotency_key,
                )?);
            }
        }
        ctx.authorise_pin(key, &req.pin, caller)?;
        let request_hash = request_hash(req);
        if let Some(done) = ctx
            .store
            .find_decryption(&key.key_id, &req.idempotency_key)?
        {
            return replay(done, &request_hash);
        }
        if ctx.signing_policy(&key.key_id)?.require_liveness {
            // Liveness evidence binds documents to signatures; nothing binds it to an envelope
            // the server cannot see yet. Refuse rather than decrypt without the check.
            ctx.store.append_audit(
                &AuditEvent::new(
                    AuditKind::Refused,
                    &key.key_id,
                    json!({
                        "reason": "the key's policy requires liveness, which decryption does \
                                   not support yet",
                        "idempotency_key": req.idempotency_key,
                    }),
                )
                .by(caller),
            )?;
            return Err(ServiceError::PolicyRefused(
                "this key's policy requires a liveness check, which two-party decryption does \
                 not support yet"
                    .into(),
            ));
        }
        let response = DecryptApiResponse {
            decrypt: self.step(key, req)?,
        };
        let response_json =
            serde_json::to_string(&response).map_err(|e| ServiceError::Internal(e.to_string()))?;
        let record = NewDecryption {
            key_id: key.key_id.clone(),
            idempotency_key: req.idempotency_key.clone(),
            request_hash: request_hash.clone(),
            response: response_json,
            envelope_ref: envelope_ref.to_vec(),
        };
        let audit = AuditEvent::new(
            AuditKind::Decrypted,
            &key.key_id,
            json!({
                "envelope_ref": req.envelope_ref,
                "idempotency_key": req.idempotency_key,
            }),
        )
        .by(caller);
        let cap = ctx.policy.max_decryptions_per_key;
        match ctx.store.record_decryption(&record, &audit, cap)? {
            RecordedDecryption::Inserted => Ok(response),
            // A concurrent twin won the race: its answer is the one; ours is dropped unsent.
            RecordedDecryption::Existing(done) => replay(done, &request_hash),
            // Our answer is dropped unsent.
            RecordedDecryption::CapReached => {
                let why = format!(
                    "this encryption key has answered its {cap} decryptions; enroll a new \
                     encryption key"
                );
                ctx.store.append_audit(
                    &AuditEvent::new(
                        AuditKind::Refused,
                        &key.key_id,
                        json!({
                            "reason": format!("decryption cap: {why}"),
                            "idempotency_key": req.idempotency_key,
                        }),
                    )
                    .by(caller),
                )?;
                Err(ServiceError::PolicyRefused(why))
            }
        }
    }

    /// Unseal d2 for this one step, apply it to T1 with the proof, wipe.
    fn step(
        &self,
        key: &KeyRecord,
        req: &DecryptApiRequest,
    ) -> Result<inkseal_cosign::DecryptResponse, ServiceError> {
        unseal_share(self.ctx.vault.as_ref(), key)?
            .decrypt_step_with_os_rng(&key.key_id, &req.decrypt)
            .map_err(|e| ServiceError::BadRequest(e.to_string()))
    }
}

/// Refuse a request the key's purpose does not allow, audited.
pub(crate) fn refuse_purpose(
    ctx: &Context,
    key: &KeyRecord,
    caller: &Caller,
    why: &str,
    idempotency_key: &str,
) -> Result<ServiceError, ServiceError> {
    ctx.store.append_audit(
        &AuditEvent::new(
            AuditKind::Refused,
            &key.key_id,
            json!({
                "reason": format!("wrong key purpose: {why}"),
                "purpose": key.purpose.as_str(),
                "idempotency_key": idempotency_key,
            }),
        )
        .by(caller),
    )?;
    Ok(ServiceError::WrongKeyPurpose(why.to_owned()))
}

fn parse_envelope_ref(text: &str) -> Result<[u8; 32], ServiceError> {
    let bad =
        || ServiceError::BadRequest("envelope_ref must be 64 lower-case hex digits (SM3)".into());
    if text.len() != ENVELOPE_REF_HEX_LEN
        || !text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    {
        return Err(bad());
    }
    let mut out = [0u8; 32];
    hex::decode_to_slice(text, &mut out).map_err(|_| bad())?;
    Ok(out)
}

/// SHA-256 of everything in the request except the PIN.
fn request_hash(req: &DecryptApiRequest) -> Vec<u8> {
    let canonical = json!({
        "idempotency_key": req.idempotency_key,
        "envelope_ref": req.envelope_ref,
        "decrypt": req.decrypt,
    });
    Sha256::digest(canonical.to_string().as_bytes()).to_vec()
}
