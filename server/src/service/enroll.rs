//! Enrollment: the institution issues a one-time ticket for a user it has identified; the
//! phone presents it once, with its device key and its half of two-party key generation.
//!
//! * A ticket is bound to the user id the operator named (opaque to the server), to the common
//!   name certificates will carry (what the operator asserted, nothing the phone says), and,
//!   when the operator gives the holder's ID number, to a keyed hash of it (HMAC under a key
//!   the vault seals, with a per-ticket salt: a copy of the database does not allow guessing
//!   the numbers). The number itself is never stored.
//! * The server, not the phone, chooses the key id. The ticket's id binds both key-generation
//!   proofs and is the device key's first `keyid`.
//! * The ticket is consumed in the same transaction that stores the key: one key per ticket.

use super::pin::SealedPin;
use super::{Context, random_bytes, share_aad};
use crate::audit::{AuditEvent, AuditKind, Caller};
use crate::error::ServiceError;
use crate::store::{KeyCurve, KeyPurpose, KeyRecord, StoreError, TicketRecord, now_ms};
use hmac::{Hmac, KeyInit, Mac};
use inkseal_capture::date::{CHINA_STANDARD_TIME_OFFSET_MINUTES, Date};
use inkseal_capture::id_number::IdNumber;
use inkseal_cosign::ServerKeyShare;
use inkseal_cosign::api::{
    DeviceKeyRegistration, EnrollRequest, EnrollResponse, EnrollmentTicket, valid_user_id,
};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// Longest ticket lifetime an operator may ask for (7 days).
pub const MAX_TICKET_TTL_SECS: u64 = 7 * 24 * 3600;

/// An operator's order for a ticket (`POST /v1/admin/tickets`).
#[derive(Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TicketOrder {
    /// The institution's opaque id for the user (not a national ID number).
    pub user_id: String,
    /// The name certificates for this key will carry (e.g. the person's legal name, as the
    /// institution verified it); the user id when absent.
    #[serde(default)]
    pub certificate_name: Option<String>,
    /// The holder's ID number, when the institution wants evidence ID cards checked against
    /// it. Only a keyed hash is kept.
    #[serde(default)]
    pub id_number: Option<String>,
    /// Lifetime in seconds (default: the server's `ticket_ttl_secs`; at most 7 days).
    #[serde(default)]
    pub ttl_secs: Option<u64>,
    /// What the key it enrolls is for: `signing` (the default) or `encryption` (two-party
    /// decryption only). The institution decides; an enrollment asking for the other purpose
    /// is refused.
    #[serde(default)]
    pub purpose: KeyPurpose,
}

impl std::fmt::Debug for TicketOrder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TicketOrder")
            .field("user_id", &self.user_id)
            .field("certificate_name", &self.certificate_name)
            .field("id_number", &self.id_number.as_ref().map(|_| "***"))
            .field("ttl_secs", &self.ttl_secs)
            .field("purpose", &self.purpose)
            .finish()
    }
}

/// A ticket as issued: hand `ticket` to the user's phone.
#[derive(Clone, Serialize, Deserialize)]
pub struct IssuedTicket {
    /// The ticket (`et-<id>.<secret>`): shown only now.
    pub ticket: String,
    /// Its public id.
    pub ticket_id: String,
    /// The user it enrolls.
    pub user_id: String,
    /// The common name certificates will carry.
    pub certificate_name: String,
    /// Whether an ID number is bound.
    pub id_number_bound: bool,
    /// Expiry (unix ms).
    pub expires_at_ms: u64,
    /// The purpose of the key it enrolls.
    pub purpose: KeyPurpose,
}

impl std::fmt::Debug for IssuedTicket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssuedTicket")
            .field("ticket_id", &self.ticket_id)
            .field("user_id", &self.user_id)
            .field("expires_at_ms", &self.expires_at_ms)
            .finish_non_exhaustive()
    }
}

/// Tickets and enrollment (see the module documentation).
pub struct Enrollment<'a> {
    pub(crate) ctx: &'a Context,
}

/// The keyed hash of an ID number: `salt || HMAC-SHA256(pepper, tag || salt || number)`.
pub(crate) fn id_binding(pepper: &[u8; 32], salt: &[u8; 16], id_number: &str) -> Vec<u8> {
    let mut mac = match <Hmac<Sha256> as KeyInit>::new_from_slice(pepper) {
        Ok(m) => m,
        // HMAC takes keys of any length.
        Err(_) => return Vec::new(),
    };
    mac.update(b"inkseal/id-binding/v1");
    mac.update(salt);
    mac.update(id_number.as_bytes());
    let mut out = salt.to_vec();
    out.extend_from_slice(&mac.finalize().into_bytes());
    out
}

/// Whether `id_number` is the one `binding` was made from (constant time).
pub(crate) fn id_matches(pepper: &[u8; 32], binding: &[u8], id_number: &str) -> bool {
    let Some(salt) = binding.get(..16).and_then(|s| <[u8; 16]>::try_from(s).ok()) else {
        return false;
    };
    bool::from(id_binding(pepper, &salt, id_number).ct_eq(binding))
}

fn ticket_refused(why: &str) -> ServiceError {
    ServiceError::TicketInvalid(format!(
        "{why}; ask the institution for a new enrollment ticket"
    ))
}

/// A new key, its share and PIN verifier sealed, ready to be stored.
pub(crate) struct NewKey<'a> {
    pub(crate) ticket: &'a TicketRecord,
    pub(crate) key_id: &'a str,
    /// SEC1 uncompressed.
    pub(crate) public_key: &'a [u8],
    /// The device key's SubjectPublicKeyInfo.
    pub(crate) device_key: &'a [u8],
    /// The attestation's audit summary and stored form.
    pub(crate) attestation: Option<&'a (serde_json::Value, String)>,
    pub(crate) sealed_share: Vec<u8>,
    pub(crate) pin: SealedPin,
    pub(crate) purpose: KeyPurpose,
    pub(crate) curve: KeyCurve,
}

impl Context {
    /// Store an enrolled key with its `enrolled` entry, using its ticket up in the same
    /// transaction (SM2 and P-256 enrollments alike).
    pub(crate) fn insert_enrolled_key(
        &self,
        key: NewKey<'_>,
        caller: &Caller,
    ) -> Result<(), ServiceError> {
        let NewKey {
            ticket,
            key_id,
            public_key,
            device_key,
            attestation,
            sealed_share,
            pin,
            purpose,
            curve,
        } = key;
        let record = KeyRecord {
            key_id: key_id.to_owned(),
            user_id: ticket.user_id.clone(),
            certificate_name: ticket.certificate_name.clone(),
            ticket_id: ticket.ticket_id.clone(),
            public_key: public_key.to_vec(),
            device_public_key: device_key.to_vec(),
            device_attestation: attestation.map(|a| a.1.clone()),
            id_binding: ticket.id_binding.clone(),
            sealed_share,
            sealed_pin: pin.sealed,
            pin_salt: pin.salt,
            pin_failures: 0,
            locked: false,
            revoked: false,
            certificate: None,
            purpose,
            curve,
        };
        let audit = AuditEvent::new(
            AuditKind::Enrolled,
            key_id,
            json!({
                "ticket_id": ticket.ticket_id,
                "user_id": ticket.user_id,
                "public_key": hex::encode(public_key),
                "device_key_sha256": hex::encode(Sha256::digest(device_key)),
                "attestation": attestation.map(|a| a.0.clone()),
                "purpose": purpose.as_str(),
                "curve": curve.as_str(),
            }),
        )
        .by(caller);
        match self.store.insert_key(&record, now_ms(), &audit) {
            Err(StoreError::Conflict) => Err(ticket_refused(
                "the enrollment ticket was used or expired meanwhile",
            )),
            other => other.map_err(ServiceError::from),
        }
    }
}

impl Enrollment<'_> {
    /// Issue a ticket for `order` (operator with the `enroll` role).
    pub fn issue_ticket(
        &self,
        order: &TicketOrder,
        caller: &Caller,
    ) -> Result<IssuedTicket, ServiceError> {
        if !valid_user_id(&order.user_id) {
            return Err(ServiceError::BadRequest(
                "user_id must be 1-128 printable characters without bidirectional controls".into(),
            ));
        }
        let certificate_name = order
            .certificate_name
            .clone()
            .unwrap_or_else(|| order.user_id.clone());
        if !valid_user_id(&certificate_name)
            || certificate_name.chars().count() > inkseal_pki::MAX_COMMON_NAME_CHARS
        {
            return Err(ServiceError::BadRequest(format!(
                "certificate_name must be 1-{} printable characters",
                inkseal_pki::MAX_COMMON_NAME_CHARS
            )));
        }
        let now = now_ms();
        let id_binding = match &order.id_number {
            None => None,
            Some(text) => {
                let today = Date::from_unix_ms(now, CHINA_STANDARD_TIME_OFFSET_MINUTES);
                let number = IdNumber::parse(text, today)
                    .map_err(|e| ServiceError::BadRequest(format!("id_number: {e}")))?;
                let salt: [u8; 16] = random_bytes()?;
                Some(id_binding(&self.ctx.id_pepper, &salt, number.as_str()))
            }
        };
        let ttl = order
            .ttl_secs
            .unwrap_or(self.ctx.policy.ticket_ttl_secs)
            .clamp(60, MAX_TICKET_TTL_SECS);
        let ticket = EnrollmentTicket::from_parts(random_bytes()?, random_bytes()?);
        let record = TicketRecord {
            ticket_id: ticket.id().to_owned(),
            secret_hash: Sha256::digest(ticket.secret()).to_vec(),
            user_id: order.user_id.clone(),
            certificate_name: certificate_name.clone(),
            id_binding,
            issued_by: caller.actor.label(),
            issued_ms: now,
            expires_ms: now.saturating_add(ttl.saturating_mul(1000)),
            used_ms: None,
            key_id: None,
            purpose: order.purpose,
        };
        let audit = AuditEvent::global(
            AuditKind::TicketIssued,
            json!({
                "ticket_id": record.ticket_id,
                "user_id": record.user_id,
                "certificate_name": record.certificate_name,
                "id_number_bound": record.id_binding.is_some(),
                "expires_at_ms": record.expires_ms,
                "purpose": record.purpose.as_str(),
            }),
        )
        .by(caller);
        self.ctx.store.insert_ticket(&record, &audit)?;
        Ok(IssuedTicket {
            ticket: ticket.to_token().to_string(),
            ticket_id: record.ticket_id,
            user_id: record.user_id,
            certificate_name,
            id_number_bound: record.id_binding.is_some(),
            expires_at_ms: record.expires_ms,
            purpose: record.purpose,
        })
    }

    /// The ticket a request presents, if it holds: known, secret right, unused, unexpired.
    pub(crate) fn valid_ticket(
        &self,
        ticket: &EnrollmentTicket,
        caller: &Caller,
    ) -> Result<TicketRecord, ServiceError> {
        let record = self.ctx.store.get_ticket(ticket.id())?;
        let presented = Sha256::digest(ticket.secret());
        let stored = record
            .as_ref()
            .map(|r| r.secret_hash.clone())
            .unwrap_or_else(|| vec![0u8; 32]);
        let why = match record {
            Some(r) if bool::from(presented.as_slice().ct_eq(&stored)) => {
                if r.used_ms.is_some() {
                    "the enrollment ticket was already used"
                } else if now_ms() > r.expires_ms {
                    "the enrollment ticket has expired"
                } else {
                    return Ok(r);
                }
            }
            _ => "the enrollment ticket is not recognised",
        };
        self.ctx.store.append_audit(
            &AuditEvent::global(
                AuditKind::Refused,
                json!({ "reason": why, "ticket_id": ticket.id() }),
            )
            .by(caller),
        )?;
        Err(ticket_refused(why))
    }

    /// Two-party key generation with a ticket; stores d2 and the PIN verifier sealed, and the
    /// device key. `caller` comes from [`DeviceAuth::authenticate_enrollment`](super::DeviceAuth).
    pub fn enroll(
        &self,
        req: &EnrollRequest,
        caller: &Caller,
    ) -> Result<EnrollResponse, ServiceError> {
        let ticket = self.valid_ticket(&req.ticket, caller)?;
        if req.keygen.enrollment_id != ticket.ticket_id {
            return Err(ServiceError::BadRequest(
                "keygen.enrollment_id must be the ticket's id".into(),
            ));
        }
        if req.purpose != ticket.purpose {
            // The institution chose the purpose when it issued the ticket; the ticket stays
            // usable for an enrollment that asks for it.
            let a_key = |p: KeyPurpose| match p {
                KeyPurpose::Signing => "a signing key",
                KeyPurpose::Encryption => "an encryption key",
            };
            let why = format!(
                "this ticket enrolls {}, not {}: ask the institution for a ticket for the \
                 other purpose",
                a_key(ticket.purpose),
                a_key(req.purpose)
            );
            self.ctx.store.append_audit(
                &AuditEvent::global(
                    AuditKind::Refused,
                    json!({
                        "reason": format!("wrong key purpose: {why}"),
                        "ticket_id": ticket.ticket_id,
                    }),
                )
                .by(caller),
            )?;
            return Err(ServiceError::WrongKeyPurpose(why));
        }
        let device_key = req
            .device_key
            .public_key_spki()
            .map_err(ServiceError::BadRequest)?;
        let attestation =
            self.check_device_attestation(&req.ticket, &req.device_key, &device_key)?;
        let key_id = format!("k-{}", hex::encode(random_bytes::<16>()?));
        let (share, response) = ServerKeyShare::keygen(&req.keygen)
            .map_err(|e| ServiceError::BadRequest(e.to_string()))?;
        // Stored uncompressed so that restoring the share needs no square root.
        let public_key = share.public_key().to_sec1_bytes().to_vec();
        let pin = self
            .ctx
            .seal_new_pin(&ticket.user_id, &key_id, &public_key, &req.pin)?;
        let sealed_share = self.ctx.vault.seal(
            &share_aad(&ticket.user_id, &key_id, &public_key),
            share.sealable_bytes().as_slice(),
        )?;
        drop(share);
        self.ctx.insert_enrolled_key(
            NewKey {
                ticket: &ticket,
                key_id: &key_id,
                public_key: &public_key,
                device_key: &device_key,
                attestation: attestation.as_ref(),
                sealed_share,
                pin,
                purpose: req.purpose,
                curve: KeyCurve::Sm2,
            },
            caller,
        )?;
        Ok(EnrollResponse {
            key_id,
            user_id: ticket.user_id,
            certificate_name: ticket.certificate_name,
            keygen: response,
        })
    }

    /// Check the attestation the request carries against the configured verifiers; refuse
    /// when the policy requires a verified one and there is none.
    /// Returns the audit summary and the stored form.
    pub(crate) fn check_device_attestation(
        &self,
        ticket: &EnrollmentTicket,
        registration: &DeviceKeyRegistration,
        device_key: &[u8],
    ) -> Result<Option<(serde_json::Value, String)>, ServiceError> {
        let required = self.ctx.policy.require_device_attestation;
        let Some(att) = &registration.attestation else {
            if required {
                return Err(ServiceError::PolicyRefused(
                    "this server requires a device-key attestation".into(),
                ));
            }
            return Ok(None);
        };
        let parts = att.parts().map_err(ServiceError::BadRequest)?;
        let verifier = self
            .ctx
            .attestation
            .iter()
            .find(|v| v.format() == att.format);
        let verdict = match verifier {
            Some(v) => Some(
                v.verify(device_key, ticket.id().as_bytes(), &parts, now_ms() / 1000)
                    .map_err(|e| {
                        ServiceError::PolicyRefused(format!("device-key attestation rejected: {e}"))
                    })?,
            ),
            None if required => {
                return Err(ServiceError::PolicyRefused(format!(
                    "no verifier for {} attestations is configured",
                    att.format.as_str()
                )));
            }
            None => None,
        };
        let stored = json!({
            "format": att.format.as_str(),
            "verified": verdict.is_some(),
            "summary": verdict,
            "parts_hex": att.parts_hex,
        })
        .to_string();
        Ok(Some((
            json!({ "format": att.format.as_str(), "verified": verdict }),
            stored,
        )))
    }
}

/// The attestation format of a key's stored attestation, when it was verified.
pub(crate) fn verified_attestation(
    stored: Option<&str>,
) -> Option<inkseal_cosign::api::AttestationFormat> {
    let v: serde_json::Value = serde_json::from_str(stored?).ok()?;
    if v.get("verified")?.as_bool()? {
        serde_json::from_value(v.get("format")?.clone()).ok()
    } else {
        None
    }
}
