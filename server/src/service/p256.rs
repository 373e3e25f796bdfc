//! Two-party P-256 (issue 18, stage 2): enrollment and co-signing of keys on the P-256 curve
//! with DKLs23 (`inkseal_cosign::p256`), authorised exactly like SM2's.
//!
//! * **Enrollment, 2 round trips.** Trip 1 (`POST /v1/enroll/p256`) checks what an SM2
//!   enrollment checks (the ticket, its purpose, the device key and its attestation, the PIN
//!   policy) and runs the server's first key-generation step; trip 2
//!   (`POST /v1/enroll/p256/finish`, signed by the same device key) runs the DKG's checks,
//!   seals the share and the PIN verifier, and stores the key, consuming the ticket, with its
//!   `enrolled` entry. Between the trips the server's DKG state, sealed by the vault
//!   (associated data: ticket id, device key), waits with the device key, its attestation
//!   and the PIN (sealed by the vault too, associated data: ticket id) in a row keyed by the
//!   ticket id, for [`KEYGEN_TTL_MS`] (`p256_keygens`, [`crate::store::P256Store`]). A
//!   retried trip 1 replaces the row (the key generation starts again). Trip 2, on **any
//!   replica**, is authenticated under the row's device key, then takes the row in the
//!   statement that deletes it, whatever its outcome: a key generation is never continued
//!   twice, and a replayed trip 2 finds nothing.
//! * **Signing, 2 round trips.** Trip 1 (`POST /v1/keys/{key_id}/p256/sign`) runs every SM2
//!   check (device signature, PIN check, the message read and hashed by the server,
//!   policy, evidence), then the server's phases 1 and 2; its pending state is sealed by the
//!   vault (associated data: user, key id, public key, sign id) into a single-use session
//!   row with an expiry, unique per `sign_id` and per idempotency key. Trip 2
//!   (`POST /v1/keys/{key_id}/p256/sign/{sign_id}/finish`) consumes the row in the statement
//!   that reads it, finishes, verifies the signature with `p256`, and records it with its
//!   `signed` entry. A used, expired or unknown session, and a reused `sign_id` or
//!   idempotency key, is `session_refused` and audited; a failed session is never continued.
//!   **Repeats** (a phone retrying after a lost answer) get the answer already given, never a
//!   new one: a trip 1 identical to its session's (same idempotency key, request hash and
//!   `sign_id`; the PIN checked again, as for SM2) while the session is open gets trip 1's
//!   stored answer (sealed in the row), and a trip 2 identical to the one that took the
//!   session (same hash) gets the stored signature's response once it is recorded. A
//!   different body under a used idempotency key or session is refused as before.
//!   A `BanCounterparty` abort locks and revokes the key (both audited).

use super::{Context, random_bytes, share_aad};
use crate::audit::{AuditEvent, AuditKind, Caller};
use crate::error::ServiceError;
use crate::store::{
    EvidenceUse, KeyCurve, KeyPurpose, KeyRecord, NewP256Keygen, NewP256Session, NewSignature,
    P256SessionTake, Recorded, StoreError, now_ms,
};
use inkseal_cosign::api::{
    MAX_P256_KEYGEN_2_BYTES, MAX_P256_SIGN_1_BYTES, MAX_P256_SIGN_2_BYTES, MAX_P256_SMALL_BYTES,
    MessageKind, P256EnrollFinishRequest, P256EnrollFinishResponse, P256EnrollRequest,
    P256EnrollResponse, P256Hex, P256SignFinishRequest, P256SignFinishResponse, P256SignRequest,
    P256SignResponse, Pin, SignedMessage,
};
use inkseal_cosign::p256::{
    KeygenRound1, KeygenRound2, P256CosignError, ServerKeygen, ServerShare, ServerSignPending,
    SignRound1, SignRound2,
};
use serde_json::json;
use sha2::{Digest, Sha256};

/// How long the server keeps a P-256 key generation between its two trips (ms).
pub const KEYGEN_TTL_MS: u64 = 120_000;
/// How long a P-256 signing session waits for its trip 2 (ms).
pub const SIGN_SESSION_TTL_MS: u64 = 120_000;
/// Failed P-256 signing sessions (recoverable aborts, signatures that do not verify, a
/// malformed trip 2) after which a key is locked for review: each may be an attempt on the
/// OT correlations the share reuses (ARCHITECTURE.md, "Abort and retry rules" 3). Never reset.
pub const MAX_FAILED_SESSIONS: u32 = 8;

/// Two-party P-256 enrollment and signing (see the module documentation).
pub struct P256Cosigning<'a> {
    pub(crate) ctx: &'a Context,
}

fn refused(why: impl Into<String>) -> ServiceError {
    ServiceError::SessionRefused(why.into())
}

fn protocol_error(e: P256CosignError) -> ServiceError {
    ServiceError::BadRequest(format!("two-party P-256: {e}"))
}

/// Associated data of a pending key generation's sealed DKG state.
fn keygen_aad(ticket_id: &str, device_key: &[u8]) -> Vec<u8> {
    crate::vault::associated_data(
        "inkseal/p256-keygen-state/v1",
        &[ticket_id.as_bytes(), device_key],
    )
}

/// Associated data of the PIN a pending key generation keeps until trip 2.
fn keygen_pin_aad(ticket_id: &str) -> Vec<u8> {
    crate::vault::associated_data("inkseal/p256-keygen-pin/v1", &[ticket_id.as_bytes()])
}

/// The refusal of a trip 2 that finds no key generation (here or on any other replica).
const NO_KEYGEN: &str = "no P-256 key generation is pending for this ticket (expired, finished, \
                         or never started): start the enrollment again";

/// What a signing session seals: its state between the trips.
const SESSION_STATE: &str = "inkseal/p256-sign-session/v1";
/// What a signing session seals: its trip-1 answer, kept for repeats of trip 1.
const SESSION_REPLY: &str = "inkseal/p256-sign-reply/v1";

/// Associated data of what a signing session seals (`what`: [`SESSION_STATE`] or
/// [`SESSION_REPLY`]), bound to the key and the session.
fn session_aad(what: &str, key: &KeyRecord, sign_id: &[u8]) -> Vec<u8> {
    crate::vault::associated_data(
        what,
        &[
            key.user_id.as_bytes(),
            key.key_id.as_bytes(),
            &key.public_key,
            sign_id,
        ],
    )
}

/// SHA-256 of a trip 2's body: a repeat of the trip 2 that took a session has the same.
fn finish_hash(req: &P256SignFinishRequest) -> Vec<u8> {
    Sha256::digest(json!({ "sign": req.sign }).to_string().as_bytes()).to_vec()
}

fn sec1_uncompressed(public_key: &p256::PublicKey) -> Vec<u8> {
    use p256::elliptic_curve::sec1::ToSec1Point as _;
    public_key.to_sec1_point(false).as_bytes().to_vec()
}

/// What a P-256 message signs, as the server reads it: the document digest (the CMS
/// message-digest, or SHA-256 of a CSR or raw message).
fn read_message(key: &KeyRecord, message: &SignedMessage) -> Result<[u8; 32], ServiceError> {
    let refused =
        |why: String| ServiceError::BadRequest(format!("the message to sign is refused: {why}"));
    match message.kind() {
        MessageKind::CmsSignedAttributes => {
            let md = inkseal_pdf::cms::message_digest_of_signed_attributes(message.bytes())
                .map_err(|e| refused(e.to_string()))?;
            md.as_slice()
                .try_into()
                .map_err(|_| refused("the message-digest is not a 32-byte SHA-256 digest".into()))
        }
        MessageKind::CertificationRequest => {
            let info = inkseal_pki::read_p256_csr_info(message.bytes())
                .map_err(|e| refused(e.to_string()))?;
            if sec1_uncompressed(&info.public_key) != key.public_key {
                return Err(refused("the request is for another key".into()));
            }
            if info.common_name != key.certificate_name {
                return Err(refused(format!(
                    "the request's common name must be {:?}, the name the institution asserted",
                    key.certificate_name
                )));
            }
            Ok(Sha256::digest(message.bytes()).into())
        }
        MessageKind::Raw => Ok(Sha256::digest(message.bytes()).into()),
        MessageKind::CmsAttachedTransaction | MessageKind::CmsAttachedLogin => Err(refused(
            "transactions and login assertions are co-signed with SM2 keys only".into(),
        )),
    }
}

/// SHA-256 of trip 1 without the PIN.
fn request_hash(req: &P256SignRequest) -> Vec<u8> {
    let canonical = json!({
        "idempotency_key": req.idempotency_key,
        "evidence_head": req.evidence_head,
        "message": req.message,
        "sign": req.sign,
    });
    Sha256::digest(canonical.to_string().as_bytes()).to_vec()
}

impl P256Cosigning<'_> {
    /// Enrollment trip 1 (see the module documentation).
    pub fn enroll_start(
        &self,
        req: &P256EnrollRequest,
        caller: &Caller,
    ) -> Result<P256EnrollResponse, ServiceError> {
        let ctx = self.ctx;
        self.check_enabled()?;
        let enrollment = super::Enrollment { ctx };
        let ticket = enrollment.valid_ticket(&req.ticket, caller)?;
        if ticket.purpose != KeyPurpose::Signing || req.purpose != KeyPurpose::Signing {
            let why = "a P-256 key is a signing key: ask the institution for a signing ticket";
            ctx.store.append_audit(
                &AuditEvent::global(
                    AuditKind::Refused,
                    json!({
                        "reason": format!("wrong key purpose: {why}"),
                        "ticket_id": ticket.ticket_id,
                        "curve": KeyCurve::P256.as_str(),
                    }),
                )
                .by(caller),
            )?;
            return Err(ServiceError::WrongKeyPurpose(why.into()));
        }
        ctx.policy
            .pin
            .check(&req.pin)
            .map_err(|e| ServiceError::PinRejected(e.to_string()))?;
        let device_key = req
            .device_key
            .public_key_spki()
            .map_err(ServiceError::BadRequest)?;
        let attestation =
            enrollment.check_device_attestation(&req.ticket, &req.device_key, &device_key)?;
        let round1 = KeygenRound1::from_bytes(
            &req.keygen
                .bytes(MAX_P256_SMALL_BYTES)
                .map_err(ServiceError::BadRequest)?,
        )
        .map_err(protocol_error)?;
        let (state, reply) =
            ServerKeygen::respond(&round1, &mut getrandom::SysRng).map_err(protocol_error)?;
        let state = state.into_bytes().map_err(protocol_error)?;
        let sealed_state = crate::vault::seal_large(
            ctx.vault.as_ref(),
            &keygen_aad(&ticket.ticket_id, &device_key),
            state.as_slice(),
        )?;
        drop(state);
        let sealed_pin = ctx.vault.seal(
            &keygen_pin_aad(&ticket.ticket_id),
            req.pin.expose().as_bytes(),
        )?;
        let (attestation, attestation_format) = match attestation {
            Some((json, format)) => (Some(json.to_string()), Some(format)),
            None => (None, None),
        };
        // No count limit: a row is keyed by its ticket, and a ticket is single-use, issued by
        // an operator, and checked unused and unexpired above, so there are never more pending
        // key generations than outstanding tickets (expired rows are purged). A retried trip 1
        // with the same ticket replaces the row: the key generation starts again.
        let now = now_ms();
        ctx.store.put_p256_keygen(&NewP256Keygen {
            ticket_id: ticket.ticket_id.clone(),
            sealed_state,
            device_key,
            attestation,
            attestation_format,
            sealed_pin,
            created_ms: now,
            expires_ms: now.saturating_add(KEYGEN_TTL_MS),
        })?;
        Ok(P256EnrollResponse {
            keygen: P256Hex::of(reply.as_bytes()),
        })
    }

    /// The device key enrollment trip 1 registered for `ticket_id` (trip 2 is verified
    /// under it), if the key generation is pending (on any replica: it is in the store).
    pub fn pending_device_key(&self, ticket_id: &str) -> Result<Option<Vec<u8>>, ServiceError> {
        Ok(self
            .ctx
            .store
            .pending_p256_keygen_device_key(ticket_id, now_ms())?)
    }

    /// Enrollment trip 2 (see the module documentation). `caller` comes from
    /// [`super::DeviceAuth::authenticate_enrollment`] under the pending device key.
    pub fn enroll_finish(
        &self,
        req: &P256EnrollFinishRequest,
        caller: &Caller,
    ) -> Result<P256EnrollFinishResponse, ServiceError> {
        let ctx = self.ctx;
        self.check_enabled()?;
        // Taken out whatever happens next: a key generation is never continued twice.
        let Some(pending) = ctx.store.take_p256_keygen(req.ticket.id(), now_ms())? else {
            return Err(refused(NO_KEYGEN));
        };
        let ticket = super::Enrollment { ctx }.valid_ticket(&req.ticket, caller)?;
        let round2 = KeygenRound2::from_bytes(
            &req.keygen
                .bytes(MAX_P256_KEYGEN_2_BYTES)
                .map_err(ServiceError::BadRequest)?,
        )
        .map_err(protocol_error)?;
        let device_key = pending.device_key;
        let state = crate::vault::open_large(
            ctx.vault.as_ref(),
            &keygen_aad(&ticket.ticket_id, &device_key),
            &pending.sealed_state,
        )?;
        let state = ServerKeygen::from_bytes(&state).map_err(|e| {
            ServiceError::Internal(format!("stored P-256 key generation state: {e}"))
        })?;
        let pin = {
            let bytes = ctx
                .vault
                .open(&keygen_pin_aad(&ticket.ticket_id), &pending.sealed_pin)?;
            let text = std::str::from_utf8(&bytes)
                .map_err(|_| ServiceError::Internal("sealed PIN is not UTF-8".into()))?;
            Pin::new(text)
        };
        let attestation = match (pending.attestation, pending.attestation_format) {
            (Some(json), Some(format)) => Some((
                serde_json::from_str::<serde_json::Value>(&json)
                    .map_err(|e| ServiceError::Internal(format!("stored attestation: {e}")))?,
                format,
            )),
            _ => None,
        };
        let (share, reply) = match state.finish(&round2) {
            Ok(done) => done,
            Err(e) => {
                ctx.store.append_audit(
                    &AuditEvent::global(
                        AuditKind::Refused,
                        json!({
                            "reason": format!("P-256 key generation failed: {e}"),
                            "ticket_id": ticket.ticket_id,
                        }),
                    )
                    .by(caller),
                )?;
                return Err(protocol_error(e));
            }
        };
        let key_id = format!("k-{}", hex::encode(random_bytes::<16>()?));
        let public_key = sec1_uncompressed(share.public_key());
        let sealed_pin = ctx.seal_new_pin(&ticket.user_id, &key_id, &public_key, &pin)?;
        drop(pin);
        let share_bytes = share.to_bytes().map_err(protocol_error)?;
        drop(share);
        let sealed_share = crate::vault::seal_large(
            ctx.vault.as_ref(),
            &share_aad(&ticket.user_id, &key_id, &public_key),
            share_bytes.as_slice(),
        )?;
        drop(share_bytes);
        ctx.insert_enrolled_key(
            super::enroll::NewKey {
                ticket: &ticket,
                key_id: &key_id,
                public_key: &public_key,
                device_key: &device_key,
                attestation: attestation.as_ref(),
                sealed_share,
                pin: sealed_pin,
                purpose: KeyPurpose::Signing,
                curve: KeyCurve::P256,
            },
            caller,
        )?;
        Ok(P256EnrollFinishResponse {
            key_id,
            user_id: ticket.user_id,
            certificate_name: ticket.certificate_name,
            public_key_hex: hex::encode(&public_key),
            keygen: P256Hex::of(reply.as_bytes()),
        })
    }

    fn audit_refusal(
        &self,
        key: &KeyRecord,
        caller: &Caller,
        why: &str,
        detail: serde_json::Value,
    ) -> Result<(), ServiceError> {
        let mut detail = detail;
        detail["reason"] = json!(why);
        detail["curve"] = json!(KeyCurve::P256.as_str());
        self.ctx
            .store
            .append_audit(&AuditEvent::new(AuditKind::Refused, &key.key_id, detail).by(caller))?;
        Ok(())
    }

    /// A session of `key` failed: audited and counted; at [`MAX_FAILED_SESSIONS`] the key is
    /// locked (audited) and the answer is `locked`, else `error`.
    fn session_failed(
        &self,
        key: &KeyRecord,
        caller: &Caller,
        why: &str,
        detail: serde_json::Value,
        error: ServiceError,
    ) -> ServiceError {
        let mut detail = detail;
        detail["reason"] = json!(why);
        detail["curve"] = json!(KeyCurve::P256.as_str());
        let refused = AuditEvent::new(AuditKind::Refused, &key.key_id, detail).by(caller);
        let locked = AuditEvent::new(
            AuditKind::Locked,
            &key.key_id,
            json!({
                "after_failures": MAX_FAILED_SESSIONS,
                "reason": "failed two-party P-256 sessions",
            }),
        )
        .by(caller);
        match self.ctx.store.p256_session_failed(
            &key.key_id,
            MAX_FAILED_SESSIONS,
            &refused,
            &locked,
        ) {
            Ok(true) => ServiceError::Locked,
            Ok(false) => error,
            Err(e) => e.into(),
        }
    }

    pub(crate) fn check_enabled(&self) -> Result<(), ServiceError> {
        if self.ctx.policy.p256_cosign {
            Ok(())
        } else {
            Err(ServiceError::PolicyRefused(
                "this server does not enroll or co-sign with two-party P-256 keys (start it with \
                 --enable-unaudited-p256-cosign)"
                    .into(),
            ))
        }
    }

    fn check_curve(&self, key: &KeyRecord) -> Result<(), ServiceError> {
        self.check_enabled()?;
        if key.curve != KeyCurve::P256 {
            return Err(refused(
                "this key is an SM2 key: co-sign with /v1/keys/{key_id}/sign",
            ));
        }
        Ok(())
    }

    fn unseal_share(&self, key: &KeyRecord) -> Result<ServerShare, ServiceError> {
        let bytes = crate::vault::open_large(
            self.ctx.vault.as_ref(),
            &share_aad(&key.user_id, &key.key_id, &key.public_key),
            &key.sealed_share,
        )?;
        ServerShare::from_bytes(&bytes)
            .map_err(|e| ServiceError::Internal(format!("stored P-256 share: {e}")))
    }

    /// The counterparty failed a check that may leak bits of the share: the key is locked and
    /// revoked for good (both audited), and the caller is told so.
    /// A signing trip the protocol refused: an abort that bans the counterparty locks and
    /// revokes the key ([`Self::ban`]); any other failure closes the session, counts against
    /// the key ([`Self::session_failed`]) and is answered with `answer`.
    fn trip_failed(
        &self,
        key: &KeyRecord,
        caller: &Caller,
        trip: u8,
        e: P256CosignError,
        detail: serde_json::Value,
        answer: impl FnOnce(P256CosignError) -> ServiceError,
    ) -> ServiceError {
        if let P256CosignError::Abort { ban: true, .. } = e {
            return self.ban(key, caller, &e);
        }
        let why = format!("two-party P-256 trip {trip} failed: {e}");
        self.session_failed(key, caller, &why, detail, answer(e))
    }

    fn ban(&self, key: &KeyRecord, caller: &Caller, e: &P256CosignError) -> ServiceError {
        let ctx = self.ctx;
        let why = format!("two-party P-256 abort (counterparty banned): {e}");
        let locked = ctx.store.lock_key(
            &key.key_id,
            &AuditEvent::new(
                AuditKind::Locked,
                &key.key_id,
                json!({ "reason": why, "curve": KeyCurve::P256.as_str() }),
            )
            .by(caller),
        );
        let revoked = ctx.store.revoke(
            &key.key_id,
            inkseal_cosign::api::RevocationReason::KeyCompromise.as_str(),
            now_ms(),
            &AuditEvent::new(
                AuditKind::Revoked,
                &key.key_id,
                json!({ "reason": inkseal_cosign::api::RevocationReason::KeyCompromise.as_str(),
                        "why": why }),
            )
            .by(caller),
        );
        if let Err(e) = locked.and(revoked) {
            return ServiceError::from(e);
        }
        refused(
            "the two-party protocol aborted with a check that may leak key material: the key is \
             locked and revoked for good; enroll a new key",
        )
    }

    /// Signing trip 1 (see the module documentation).
    pub fn sign_start(
        &self,
        key: &KeyRecord,
        req: &P256SignRequest,
        caller: &Caller,
    ) -> Result<P256SignResponse, ServiceError> {
        let ctx = self.ctx;
        self.check_curve(key)?;
        if !inkseal_cosign::api::valid_idempotency_key(&req.idempotency_key) {
            return Err(ServiceError::BadRequest(
                "idempotency_key must be 8-64 characters of [A-Za-z0-9_-]".into(),
            ));
        }
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
        let round1 = SignRound1::from_bytes(
            &req.sign
                .bytes(MAX_P256_SIGN_1_BYTES)
                .map_err(ServiceError::BadRequest)?,
        )
        .map_err(protocol_error)?;
        ctx.authorise_pin(key, &req.pin, caller)?;
        let sign_id = *round1.sign_id();
        let request_hash = request_hash(req);
        // A repeat of a trip 1 already answered gets that answer (or is refused): never a
        // second protocol message for one session.
        if let Some(answer) = self.repeated_start(key, req, &request_hash, &sign_id, caller)? {
            return Ok(answer);
        }
        let document_digest = read_message(key, &req.message)?;
        let e: [u8; 32] = Sha256::digest(req.message.bytes()).into();
        let evidence_use = ctx.check_signing_policy(
            &key.key_id,
            req.evidence_head.as_deref(),
            req.message.kind(),
            &document_digest,
            caller,
        )?;
        let share = self.unseal_share(key)?;
        let (pending, reply) =
            match ServerSignPending::respond(&share, req.message.bytes(), &round1) {
                Ok(done) => done,
                Err(e) => {
                    return Err(self.trip_failed(
                        key,
                        caller,
                        1,
                        e,
                        json!({ "idempotency_key": req.idempotency_key,
                                "sign_id": hex::encode(sign_id) }),
                        protocol_error,
                    ));
                }
            };
        drop(share);
        let state = pending.into_bytes().map_err(protocol_error)?;
        let sealed_state = crate::vault::seal_large(
            ctx.vault.as_ref(),
            &session_aad(SESSION_STATE, key, &sign_id),
            state.as_slice(),
        )?;
        drop(state);
        // Kept for a repeat of this trip 1 (the answer is about 80 KB; one over the vault's
        // limit is not kept, and its repeats are refused).
        let sealed_reply = (reply.as_bytes().len() <= crate::vault::MAX_LARGE_SECRET_LEN)
            .then(|| {
                crate::vault::seal_large(
                    ctx.vault.as_ref(),
                    &session_aad(SESSION_REPLY, key, &sign_id),
                    reply.as_bytes(),
                )
            })
            .transpose()?;
        let context = json!({
            "request_hash": hex::encode(&request_hash),
            "e": hex::encode(e),
            "message_kind": req.message.kind().as_str(),
            "document_digest": hex::encode(document_digest),
            "evidence_head": req.evidence_head,
            "evidence_use": evidence_use.as_ref().map(|u| json!({
                "manifest_head": u.manifest_head,
                "slot": u.slot,
            })),
        });
        let now = now_ms();
        let expires_ms = now.saturating_add(SIGN_SESSION_TTL_MS);
        let session = NewP256Session {
            key_id: key.key_id.clone(),
            sign_id: sign_id.to_vec(),
            idempotency_key: req.idempotency_key.clone(),
            sealed_state,
            context: context.to_string(),
            sealed_reply,
            created_ms: now,
            expires_ms,
        };
        match ctx.store.insert_p256_session(&session) {
            Ok(()) => {}
            Err(StoreError::Conflict) => {
                // A concurrent twin of this trip 1 won: its answer is the one, ours is dropped
                // unsent. Otherwise the sign_id or the idempotency key was used before.
                return match self.repeated_start(key, req, &request_hash, &sign_id, caller)? {
                    Some(answer) => Ok(answer),
                    None => Err(self.refuse_reused(key, req, &sign_id, caller)?),
                };
            }
            Err(e) => return Err(e.into()),
        }
        Ok(P256SignResponse {
            sign_id: hex::encode(sign_id),
            expires_at_ms: expires_ms,
            sign: P256Hex::of(reply.as_bytes()),
        })
    }

    /// The answer to a repeat of a trip 1 whose session holds it: `None` when no session has
    /// this idempotency key; refused when the session is another request's or is closed.
    fn repeated_start(
        &self,
        key: &KeyRecord,
        req: &P256SignRequest,
        request_hash: &[u8],
        sign_id: &[u8; 32],
        caller: &Caller,
    ) -> Result<Option<P256SignResponse>, ServiceError> {
        let ctx = self.ctx;
        let Some(found) =
            ctx.store
                .find_p256_session(&key.key_id, &req.idempotency_key, now_ms())?
        else {
            return Ok(None);
        };
        let context: serde_json::Value = serde_json::from_str(&found.context)
            .map_err(|e| ServiceError::Internal(format!("stored session context: {e}")))?;
        let same = found.sign_id == sign_id
            && context["request_hash"].as_str() == Some(hex::encode(request_hash).as_str());
        match found.sealed_reply {
            Some(sealed) if same => {
                let reply = crate::vault::open_large(
                    ctx.vault.as_ref(),
                    &session_aad(SESSION_REPLY, key, sign_id),
                    &sealed,
                )?;
                Ok(Some(P256SignResponse {
                    sign_id: hex::encode(sign_id),
                    expires_at_ms: found.expires_ms,
                    sign: P256Hex::of(&reply),
                }))
            }
            _ => Err(self.refuse_reused(key, req, sign_id, caller)?),
        }
    }

    /// The refusal of a trip 1 whose `sign_id` or idempotency key was used before (audited).
    fn refuse_reused(
        &self,
        key: &KeyRecord,
        req: &P256SignRequest,
        sign_id: &[u8; 32],
        caller: &Caller,
    ) -> Result<ServiceError, ServiceError> {
        let why = "the sign_id or the idempotency key was used before for this key";
        self.audit_refusal(
            key,
            caller,
            &format!("P-256 session refused: {why}"),
            json!({ "idempotency_key": req.idempotency_key,
                    "sign_id": hex::encode(sign_id) }),
        )?;
        Ok(refused(format!("{why}: start a new session")))
    }

    /// The answer to a repeat of the trip 2 that took a used session: its signature's recorded
    /// response, when the repeat's hash is the taker's and the signature is recorded (`None`
    /// while that trip 2 still runs, after it failed, or for another body: then refused).
    fn repeated_finish(
        &self,
        key: &KeyRecord,
        outcome: &P256SessionTake,
        finish_hash: &[u8],
    ) -> Result<Option<P256SignFinishResponse>, ServiceError> {
        let P256SessionTake::AlreadyUsed {
            idempotency_key,
            finish_hash: Some(taken_by),
        } = outcome
        else {
            return Ok(None);
        };
        if taken_by.as_slice() != finish_hash {
            return Ok(None);
        }
        self.ctx
            .store
            .find_signature(&key.key_id, idempotency_key)?
            .map(|done| {
                serde_json::from_str(&done.response)
                    .map_err(|e| ServiceError::Internal(format!("stored P-256 answer: {e}")))
            })
            .transpose()
    }

    /// Signing trip 2 (see the module documentation).
    pub fn sign_finish(
        &self,
        key: &KeyRecord,
        sign_id_hex: &str,
        req: &P256SignFinishRequest,
        caller: &Caller,
    ) -> Result<P256SignFinishResponse, ServiceError> {
        let ctx = self.ctx;
        self.check_curve(key)?;
        let sign_id: [u8; 32] = (sign_id_hex.len() == 64)
            .then(|| hex::decode(sign_id_hex).ok())
            .flatten()
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| ServiceError::BadRequest("sign_id must be 64 hex digits".into()))?;
        if key.revoked {
            return Err(ServiceError::Revoked);
        }
        if key.locked {
            return Err(ServiceError::Locked);
        }
        let finish_hash = finish_hash(req);
        let taken =
            match ctx
                .store
                .take_p256_session(&key.key_id, &sign_id, &finish_hash, now_ms())?
            {
                P256SessionTake::Taken(t) => t,
                other => {
                    if let Some(answer) = self.repeated_finish(key, &other, &finish_hash)? {
                        return Ok(answer);
                    }
                    let why = match other {
                        P256SessionTake::AlreadyUsed { .. } => {
                            "the session was already used (a replayed or repeated trip 2)"
                        }
                        P256SessionTake::Expired => "the session expired",
                        _ => "no such session for this key",
                    };
                    self.audit_refusal(
                        key,
                        caller,
                        &format!("P-256 session refused: {why}"),
                        json!({ "sign_id": hex::encode(sign_id) }),
                    )?;
                    return Err(refused(format!("{why}: start a new session")));
                }
            };
        // Decoded only after the session is taken: a malformed trip 2 closes it too.
        let round2 = match req
            .sign
            .bytes(MAX_P256_SIGN_2_BYTES)
            .map_err(ServiceError::BadRequest)
            .and_then(|b| SignRound2::from_bytes(&b).map_err(protocol_error))
            .and_then(|m| {
                if m.sign_id() == &sign_id {
                    Ok(m)
                } else {
                    Err(ServiceError::BadRequest(
                        "the message belongs to another session than the path names".into(),
                    ))
                }
            }) {
            Ok(m) => m,
            Err(e) => {
                let why = format!("two-party P-256 trip 2 failed: {e}");
                return Err(self.session_failed(
                    key,
                    caller,
                    &why,
                    json!({ "idempotency_key": taken.idempotency_key,
                            "sign_id": hex::encode(sign_id) }),
                    e,
                ));
            }
        };
        let state = crate::vault::open_large(
            ctx.vault.as_ref(),
            &session_aad(SESSION_STATE, key, &sign_id),
            &taken.sealed_state,
        )?;
        let pending = ServerSignPending::from_bytes(&state)
            .map_err(|e| ServiceError::Internal(format!("stored P-256 session: {e}")))?;
        drop(state);
        let share = self.unseal_share(key)?;
        let outcome = pending.finish(&share, &round2);
        drop(share);
        let (signature, reply) = match outcome {
            Ok(done) => done,
            Err(e) => {
                return Err(self.trip_failed(
                    key,
                    caller,
                    2,
                    e,
                    json!({ "idempotency_key": taken.idempotency_key,
                            "sign_id": hex::encode(sign_id) }),
                    |e| {
                        refused(format!(
                            "the session failed ({e}) and is closed: start a new session"
                        ))
                    },
                ));
            }
        };
        let context: serde_json::Value = serde_json::from_str(&taken.context)
            .map_err(|e| ServiceError::Internal(format!("stored session context: {e}")))?;
        let text = |name: &str| context[name].as_str().map(str::to_owned);
        let bytes = |name: &str| text(name).and_then(|t| hex::decode(t).ok());
        let corrupt = || ServiceError::Internal("stored session context is incomplete".into());
        let response = P256SignFinishResponse {
            sign: P256Hex::of(reply.as_bytes()),
        };
        let response_json =
            serde_json::to_string(&response).map_err(|e| ServiceError::Internal(e.to_string()))?;
        let evidence_head = text("evidence_head");
        let record = NewSignature {
            key_id: key.key_id.clone(),
            idempotency_key: taken.idempotency_key.clone(),
            request_hash: bytes("request_hash").ok_or_else(corrupt)?,
            response: response_json,
            e: bytes("e").ok_or_else(corrupt)?,
            message_kind: text("message_kind").ok_or_else(corrupt)?,
            document_digest: bytes("document_digest").ok_or_else(corrupt)?,
            evidence_head: evidence_head.clone(),
            evidence_use: context["evidence_use"]
                .as_object()
                .map(|u| {
                    Some(EvidenceUse {
                        manifest_head: u.get("manifest_head")?.as_str()?.to_owned(),
                        slot: u.get("slot")?.as_str()?.to_owned(),
                    })
                })
                .map(|u| u.ok_or_else(corrupt))
                .transpose()?,
        };
        let audit = AuditEvent::new(
            AuditKind::Signed,
            &key.key_id,
            json!({
                "e": hex::encode(&record.e),
                "message_kind": record.message_kind,
                "document_digest": hex::encode(&record.document_digest),
                "idempotency_key": record.idempotency_key,
                "evidence_head": evidence_head,
                "curve": KeyCurve::P256.as_str(),
                "sign_id": hex::encode(sign_id),
                "signature": hex::encode(signature.to_der().as_bytes()),
            }),
        )
        .by(caller);
        match ctx.store.record_signature(&record, &audit)? {
            Recorded::Inserted => {
                ctx.metrics.signed();
                Ok(response)
            }
            Recorded::Existing(_) => Err(refused(
                "the idempotency key already holds another signature: start a new session",
            )),
            Recorded::EvidenceUsed => Err(ctx.refuse_evidence(
                &key.key_id,
                evidence_head.as_deref(),
                "the presented evidence was already used for another signature",
                caller,
            )?),
        }
    }
}
