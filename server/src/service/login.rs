//! Certificate login (issue 17): challenges for the institution's backend, the co-signing
//! check of a login assertion, and verification that consumes the challenge.
//!
//! 1. [`Login::issue_challenge`] (operator role `login:issue`): 16 random bytes of id, 32 of
//!    nonce, the relying party, whole-second issue and expiry times (at most 300 s apart),
//!    stored and audited (`login_challenge_issued`) in one transaction.
//! 2. Co-signing a `cms_attached_login` message ([`Login::check_cosign`]): the server reads
//!    the assertion from the content and co-signs only if its challenge was issued here, is
//!    unexpired and unused, and its relying party, nonce and validity are the challenge's. It
//!    does not consume the challenge: an assertion lost on the way back (a dropped answer)
//!    must not burn it, and a co-signature alone logs nobody in. The signature is audited as
//!    `login_signed`, apart from document signatures.
//! 3. [`Login::verify`] (operator role `login:verify`): [`verify_login`] (signature, chain to
//!    the embedded CA, revocation from the CA's own register, relying party, expiry), then the
//!    challenge must match and is consumed in one conditional UPDATE with the `login_verified`
//!    entry. Single use is enforced here: a replayed assertion finds its challenge used and
//!    is refused (`login_replayed`). Every refusal is audited (`login_refused`).

use super::{Context, random_bytes};
use crate::audit::{AuditEvent, AuditKind, Caller};
use crate::error::{LoginRefusal, ServiceError};
use crate::store::{LoginChallengeRecord, StoreError, now_ms};
use inkseal_cosign::api::{LoginChallenge, LoginChallengeOrder, LoginVerified, LoginVerifyRequest};
use inkseal_pdf::cms::attached::{LoginRevocation, RevocationSource, VerifiedLogin, verify_login};
use inkseal_pdf::cms::login::{LoginAssertion, MAX_CHANNEL_BYTES, check_relying_party};
use serde_json::json;

/// Longest lifetime of a login challenge, in seconds.
pub const MAX_LOGIN_CHALLENGE_TTL_SECS: u64 = 300;
/// Lifetime of a login challenge when the order names none, in seconds.
pub const DEFAULT_LOGIN_CHALLENGE_TTL_SECS: u64 = 120;
/// Largest assertion `verify` reads, hex digits (the SignedData with its certificate).
const MAX_ASSERTION_HEX: usize = 2 * 16 * 1024;

/// Certificate login (see the module documentation).
pub struct Login<'a> {
    pub(crate) ctx: &'a Context,
}

/// Revocation as the embedded CA's register knows it: a certificate this CA did not issue is
/// unknown (refused), one it revoked is revoked.
struct Register<'a> {
    ctx: &'a Context,
}

impl RevocationSource for Register<'_> {
    fn revoked_at(&self, serial: &[u8], _issuer: &[u8]) -> Result<Option<u64>, String> {
        match self.ctx.store.issued_certificate(serial) {
            Ok(Some(issued)) => Ok(issued.revoked_ms.map(|ms| ms / 1000)),
            Ok(None) => Err("the certificate was not issued by this server's CA".into()),
            Err(e) => Err(format!("the CA's register: {e}")),
        }
    }
}

impl Login<'_> {
    /// Issue a challenge for an institution's backend.
    pub fn issue_challenge(
        &self,
        order: &LoginChallengeOrder,
        caller: &Caller,
    ) -> Result<LoginChallenge, ServiceError> {
        check_relying_party(&order.relying_party)
            .map_err(|e| ServiceError::BadRequest(e.to_string()))?;
        let ttl = order.ttl_secs.unwrap_or(DEFAULT_LOGIN_CHALLENGE_TTL_SECS);
        if ttl == 0 || ttl > MAX_LOGIN_CHALLENGE_TTL_SECS {
            return Err(ServiceError::BadRequest(format!(
                "ttl_secs must be 1 to {MAX_LOGIN_CHALLENGE_TTL_SECS}"
            )));
        }
        let issued = now_ms() / 1000;
        let challenge_id: [u8; 16] = random_bytes()?;
        let nonce: [u8; 32] = random_bytes()?;
        let record = LoginChallengeRecord {
            challenge_id: challenge_id.to_vec(),
            relying_party: order.relying_party.clone(),
            nonce: nonce.to_vec(),
            issued_ms: issued * 1000,
            expires_ms: (issued + ttl) * 1000,
            used_ms: None,
        };
        self.ctx.store.insert_login_challenge(
            &record,
            &AuditEvent::global(
                AuditKind::LoginChallengeIssued,
                json!({
                    "challenge_id": hex::encode(challenge_id),
                    "relying_party": order.relying_party,
                    "expires_at": issued + ttl,
                }),
            )
            .by(caller),
        )?;
        Ok(LoginChallenge {
            challenge_id: hex::encode(challenge_id),
            nonce: hex::encode(nonce),
            relying_party: order.relying_party.clone(),
            issued_at: issued,
            expires_at: issued + ttl,
        })
    }

    /// The challenge an assertion answers, checked: issued here, matching, unexpired at
    /// `now_ms` and unused.
    fn matching_challenge(
        &self,
        assertion: &LoginAssertion,
        now_ms: u64,
    ) -> Result<LoginChallengeRecord, ServiceError> {
        let challenge = self
            .ctx
            .store
            .get_login_challenge(assertion.challenge_id())?
            .ok_or(LoginRefusal::UnknownChallenge)?;
        if challenge.relying_party != assertion.relying_party() {
            return Err(LoginRefusal::ChallengeMismatch("relying party").into());
        }
        // Not secret once issued, but compared without shortcuts anyway.
        if !bool::from(subtle::ConstantTimeEq::ct_eq(
            challenge.nonce.as_slice(),
            assertion.nonce().as_slice(),
        )) {
            return Err(LoginRefusal::ChallengeMismatch("nonce").into());
        }
        if challenge.issued_ms / 1000 != assertion.issued_unix()
            || challenge.expires_ms / 1000 != assertion.expires_unix()
        {
            return Err(LoginRefusal::ChallengeMismatch("validity").into());
        }
        if challenge.used_ms.is_some() {
            return Err(LoginRefusal::ChallengeUsed.into());
        }
        if challenge.expires_ms <= now_ms {
            return Err(LoginRefusal::ChallengeExpired.into());
        }
        Ok(challenge)
    }

    /// The co-signing check of a login assertion (see the module documentation); the caller
    /// audits a refusal.
    pub(crate) fn check_cosign(&self, assertion: &LoginAssertion) -> Result<(), ServiceError> {
        self.matching_challenge(assertion, now_ms()).map(|_| ())
    }

    /// Verify an assertion and consume its challenge (see the module documentation).
    pub fn verify(
        &self,
        req: &LoginVerifyRequest,
        caller: &Caller,
    ) -> Result<LoginVerified, ServiceError> {
        if req.assertion_der_hex.len() > MAX_ASSERTION_HEX {
            return Err(ServiceError::BadRequest(
                "assertion_der_hex too large".into(),
            ));
        }
        let der = hex::decode(&req.assertion_der_hex)
            .map_err(|_| ServiceError::BadRequest("assertion_der_hex is not hex".into()))?;
        let channel = match &req.channel_hex {
            None => None,
            Some(h) => Some(
                hex::decode(h)
                    .ok()
                    .filter(|c| (1..=MAX_CHANNEL_BYTES).contains(&c.len()))
                    .ok_or_else(|| {
                        ServiceError::BadRequest(format!(
                            "channel_hex must be hex of 1 to {MAX_CHANNEL_BYTES} bytes"
                        ))
                    })?,
            ),
        };
        match self.verify_and_consume(&der, &req.relying_party, channel.as_deref(), caller) {
            Ok(done) => Ok(done),
            Err(ServiceError::LoginRefused(why)) => {
                self.ctx.store.append_audit(
                    &AuditEvent::global(
                        AuditKind::LoginRefused,
                        json!({
                            "reason": why.to_string(),
                            "relying_party": req.relying_party,
                            "assertion_bytes": der.len(),
                        }),
                    )
                    .by(caller),
                )?;
                Err(ServiceError::LoginRefused(why))
            }
            Err(other) => Err(other),
        }
    }

    fn verify_and_consume(
        &self,
        der: &[u8],
        relying_party: &str,
        channel: Option<&[u8]>,
        caller: &Caller,
    ) -> Result<LoginVerified, ServiceError> {
        let now = now_ms();
        let anchors: Vec<Vec<u8>> = self
            .ctx
            .ca
            .root_certificates()
            .into_iter()
            .map(<[u8]>::to_vec)
            .collect();
        let register = Register { ctx: self.ctx };
        let verified: VerifiedLogin = verify_login(
            der,
            &anchors,
            LoginRevocation::Checked(&register),
            now / 1000,
            relying_party,
        )
        .map_err(LoginRefusal::Verify)?;
        if let Some(expected) = channel {
            // Before the challenge is consumed: an assertion relayed from another channel
            // does not burn the login it was made for.
            verified
                .check_channel(expected)
                .map_err(LoginRefusal::Verify)?;
        }
        self.matching_challenge(&verified.assertion, now)?;
        let key_id = self
            .ctx
            .store
            .issued_certificate(&verified.serial)?
            .map(|c| c.key_id)
            .ok_or_else(|| {
                ServiceError::Internal("verified certificate left the register".into())
            })?;
        let challenge_hex = hex::encode(verified.challenge_id);
        let serial_hex = hex::encode(&verified.serial);
        let audit = AuditEvent::new(
            AuditKind::LoginVerified,
            &key_id,
            json!({
                "challenge_id": challenge_hex,
                "relying_party": verified.relying_party,
                "subject": verified.subject,
                "serial": serial_hex,
                "signed_at": verified.signed_at_unix,
            }),
        )
        .by(caller);
        match self
            .ctx
            .store
            .consume_login_challenge(&verified.challenge_id, now, &audit)
        {
            Ok(()) => {}
            // Taken meanwhile by a concurrent verification (or it just expired): say which.
            Err(StoreError::Conflict) => {
                return Err(match self.matching_challenge(&verified.assertion, now) {
                    Err(e) => e,
                    Ok(_) => LoginRefusal::ChallengeUsed.into(),
                });
            }
            Err(e) => return Err(e.into()),
        }
        Ok(LoginVerified {
            key_id,
            subject: verified.subject,
            serial_hex,
            certificate_der_hex: hex::encode(&verified.signer_certificate),
            challenge_id: challenge_hex,
            relying_party: verified.relying_party,
            signed_at: verified.signed_at_unix,
            channel_hex: verified.assertion.channel().map(hex::encode),
        })
    }
}
