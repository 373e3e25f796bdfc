//! Every phone request about a key is signed by that key's device key (HTTP Message
//! Signatures, see `inkseal-httpsig`), and checked here before anything else runs: before the
//! key's lock state is read, before a PIN is compared, before a body is interpreted.
//!
//! Order of the checks, and what each refusal tells a stranger:
//! 1. the three headers parse (a malformed request learns only that it is malformed);
//! 2. `created` is within the clock window (`clock_skew`, with the server's time);
//! 3. the `keyid` is the key the path names, the key exists, and the signature and
//!    Content-Digest verify under its device key: an unknown key and a wrong signature get the
//!    same status and body, and both pay for one ECDSA verification;
//! 4. the nonce was not seen inside the window (a replay is refused).
//!
//! Refusals of step 3 and 4 are audited (claimed key id, client address); per-address rate
//! limits keep that from flooding the log.

use super::Context;
use crate::audit::{Actor, AuditEvent, AuditKind, Caller};
use crate::error::ServiceError;
use crate::store::{KeyRecord, now_ms};
use inkseal_httpsig::{HttpSigError, ParsedSignature, RequestTarget};
use p256::ecdsa::VerifyingKey;
use serde_json::json;
use std::net::IpAddr;
use std::sync::OnceLock;

/// The refusal an unknown key and a bad signature share.
pub(crate) const UNRECOGNISED: &str =
    "the request is not signed by the device key registered for this key";

/// The parts of a request the device signature covers.
#[derive(Clone, Copy, Debug)]
pub struct DeviceRequest<'a> {
    /// Upper-case method.
    pub method: &'a str,
    /// Absolute path (no query).
    pub path: &'a str,
    /// The body as received.
    pub body: &'a [u8],
    /// `Content-Digest` header.
    pub content_digest: Option<&'a str>,
    /// `Signature-Input` header.
    pub signature_input: Option<&'a str>,
    /// `Signature` header.
    pub signature: Option<&'a str>,
    /// The client's address.
    pub address: Option<IpAddr>,
}

/// Device request signatures (see the module documentation).
pub struct DeviceAuth<'a> {
    pub(crate) ctx: &'a Context,
}

/// A verifying key (the generator: the public key of the scalar 1) used when the key id is
/// unknown, so that an unknown key costs the same verification as a known one.
fn decoy_key() -> Option<&'static VerifyingKey> {
    static DECOY: OnceLock<Option<VerifyingKey>> = OnceLock::new();
    DECOY
        .get_or_init(|| VerifyingKey::from_affine(p256::AffinePoint::GENERATOR).ok())
        .as_ref()
}

fn malformed(e: HttpSigError) -> ServiceError {
    ServiceError::Unauthenticated(format!("request signature: {e}"))
}

impl DeviceAuth<'_> {
    /// Parse the headers and check the time window; returns the parsed signature. An
    /// enrollment runs this before decoding its body (whose device key the signature is
    /// then checked against).
    pub(crate) fn parse_fresh(
        &self,
        req: &DeviceRequest<'_>,
    ) -> Result<ParsedSignature, ServiceError> {
        let parsed = ParsedSignature::parse(req.content_digest, req.signature_input, req.signature)
            .map_err(malformed)?;
        let now = now_ms() / 1000;
        let created = parsed.params().created();
        if now.abs_diff(created) > self.ctx.policy.max_clock_skew_secs {
            return Err(ServiceError::ClockSkew {
                server_time_unix: now,
            });
        }
        Ok(parsed)
    }

    /// Remember the nonce of `signer`; a second use inside the window is a replay.
    fn fresh_nonce(
        &self,
        signer: &str,
        parsed: &ParsedSignature,
        req: &DeviceRequest<'_>,
    ) -> Result<(), ServiceError> {
        let window_ms = self.ctx.policy.max_clock_skew_secs.saturating_mul(1000);
        let expires = parsed
            .params()
            .created()
            .saturating_mul(1000)
            .saturating_add(window_ms);
        if self.ctx.store.remember_nonce(
            signer,
            parsed.params().nonce(),
            parsed.params().created().saturating_mul(1000),
            expires,
        )? {
            return Ok(());
        }
        self.refuse(signer, "replayed request", req)?;
        Err(ServiceError::Unauthenticated(
            "this signed request was already received (a replay)".into(),
        ))
    }

    fn refuse(
        &self,
        claimed: &str,
        why: &str,
        req: &DeviceRequest<'_>,
    ) -> Result<(), ServiceError> {
        self.ctx.metrics.device_auth_failed();
        self.ctx.store.append_audit(
            &AuditEvent::global(
                AuditKind::Refused,
                json!({
                    "reason": format!("device authentication: {why}"),
                    "claimed_key_id": claimed,
                    "method": req.method,
                    "path": req.path,
                }),
            )
            .by(&Caller::anonymous(req.address)),
        )?;
        Ok(())
    }

    /// Authenticate a request about `key_id`: returns the key and the caller it makes.
    pub fn authenticate(
        &self,
        key_id: &str,
        req: &DeviceRequest<'_>,
    ) -> Result<(KeyRecord, Caller), ServiceError> {
        let parsed = self.parse_fresh(req)?;
        let target = RequestTarget::new(req.method, req.path, req.body).map_err(malformed)?;
        let claimed = parsed.params().keyid();
        let key = if claimed == key_id && inkseal_cosign::valid_id(key_id) {
            self.ctx.store.get_key(key_id)?
        } else {
            None
        };
        let device_key = key
            .as_ref()
            .and_then(|k| inkseal_httpsig::verifying_key_from_spki_der(&k.device_public_key).ok());
        // The same verification runs whether or not the key exists.
        let verified = match device_key.as_ref().or(decoy_key()) {
            Some(k) => parsed.verify(&target, k),
            None => Err(HttpSigError::BadSignature),
        };
        let key = match (key, device_key, verified) {
            (Some(k), Some(_), Ok(())) => k,
            _ => {
                self.refuse(claimed, "unknown key or bad signature", req)?;
                return Err(ServiceError::Unauthenticated(UNRECOGNISED.into()));
            }
        };
        self.fresh_nonce(&key.key_id, &parsed, req)?;
        let caller = Caller {
            actor: Actor::Device(key.key_id.clone()),
            address: req.address,
        };
        Ok((key, caller))
    }

    /// Authenticate an enrollment request: signed by the new device key (`keyid` = the
    /// ticket's id) whose public key the body carries.
    pub fn authenticate_enrollment(
        &self,
        ticket_id: &str,
        device_public_key_spki: &[u8],
        req: &DeviceRequest<'_>,
    ) -> Result<Caller, ServiceError> {
        let parsed = self.parse_fresh(req)?;
        let target = RequestTarget::new(req.method, req.path, req.body).map_err(malformed)?;
        let key = inkseal_httpsig::verifying_key_from_spki_der(device_public_key_spki)
            .map_err(|e| ServiceError::BadRequest(format!("device key: {e}")))?;
        if parsed.params().keyid() != ticket_id || parsed.verify(&target, &key).is_err() {
            self.refuse(
                ticket_id,
                "enrollment not signed by the registered device key",
                req,
            )?;
            return Err(ServiceError::Unauthenticated(
                "the enrollment is not signed by the device key it registers (keyid = ticket id)"
                    .into(),
            ));
        }
        self.fresh_nonce(ticket_id, &parsed, req)?;
        Ok(Caller {
            actor: Actor::Device(ticket_id.to_owned()),
            address: req.address,
        })
    }
}
