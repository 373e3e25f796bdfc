//! A key's life after enrollment: PIN change, operator unlock, revocation, and the CRL the
//! embedded CA publishes.
//!
//! * PIN change proves the old PIN (counted like any attempt) and checks the new one against
//!   the PIN policy.
//! * Only an operator with `keys:manage` unlocks a locked key, saying how the user was verified
//!   again (and optionally naming fresh passed liveness evidence of this key); the audit entry
//!   records the operator's credential.
//! * Revocation (by the user with the PIN, or by an operator) is final: the key never
//!   co-signs again, its certificates are listed in a new CRL signed by the CA
//!   (`GET /v1/ca/crl`), regenerated at once.

use super::Context;
use crate::audit::{AuditEvent, AuditKind, Caller};
use crate::error::ServiceError;
use crate::store::{KeyRecord, StoreError, now_ms};
use inkseal_cosign::api::{PinChangeRequest, RevocationReason, RevokeRequest};
use serde::{Deserialize, Serialize};
use serde_json::json;

const CRL_SETTING: &str = "ca.crl";
const CRL_NUMBER_COUNTER: &str = "ca.crl.number";
/// How long a CRL is valid (its nextUpdate); a fresh one is made well before.
const CRL_VALIDITY_SECS: u64 = 7 * 24 * 3600;
/// A stored CRL older than this is re-signed on request.
const CRL_REFRESH_SECS: u64 = 24 * 3600;

/// An operator's unlock (`POST /v1/admin/keys/{key_id}/unlock`).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UnlockRequest {
    /// How the user was verified again (who, where, which document): kept in the audit log.
    pub reverification: String,
    /// Head of fresh, passed liveness evidence of this key, when the re-verification went
    /// through the server.
    #[serde(default)]
    pub evidence_head: Option<String>,
}

/// An operator's revocation (`POST /v1/admin/keys/{key_id}/revoke`).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdminRevokeRequest {
    /// Why.
    pub reason: RevocationReason,
    /// A note for the audit log.
    #[serde(default)]
    pub note: Option<String>,
}

/// PIN change, unlock, revocation, CRL (see the module documentation).
pub struct KeyLifecycle<'a> {
    pub(crate) ctx: &'a Context,
}

impl KeyLifecycle<'_> {
    /// Change the PIN of an authenticated device's key.
    pub fn change_pin(
        &self,
        key: &KeyRecord,
        req: &PinChangeRequest,
        caller: &Caller,
    ) -> Result<(), ServiceError> {
        if key.revoked {
            return Err(ServiceError::Revoked);
        }
        self.ctx.authorise_pin(key, &req.old_pin, caller)?;
        if req.new_pin == req.old_pin {
            return Err(ServiceError::PinRejected(
                "the new PIN must differ from the old one".into(),
            ));
        }
        let sealed =
            self.ctx
                .seal_new_pin(&key.user_id, &key.key_id, &key.public_key, &req.new_pin)?;
        match self.ctx.store.set_pin(
            &key.key_id,
            &sealed.sealed,
            &sealed.salt,
            &AuditEvent::new(AuditKind::PinChanged, &key.key_id, json!({})).by(caller),
        ) {
            Err(StoreError::NotFound) => Err(ServiceError::Revoked),
            other => Ok(other?),
        }
    }

    /// Unlock a locked key after the user was verified again (operator).
    pub fn unlock(
        &self,
        key_id: &str,
        req: &UnlockRequest,
        caller: &Caller,
    ) -> Result<(), ServiceError> {
        let key = self.ctx.key(key_id)?;
        let reverification = req.reverification.trim();
        if reverification.is_empty() || reverification.chars().count() > 500 {
            return Err(ServiceError::BadRequest(
                "say how the user was verified again (1-500 characters)".into(),
            ));
        }
        if key.revoked {
            return Err(ServiceError::Revoked);
        }
        if let Some(head) = &req.evidence_head {
            self.ctx.require_fresh_evidence(&key.key_id, head)?;
        }
        let audit = AuditEvent::new(
            AuditKind::Unlocked,
            &key.key_id,
            json!({ "reverification": reverification, "evidence_head": req.evidence_head }),
        )
        .by(caller);
        match self.ctx.store.unlock(&key.key_id, &audit) {
            Err(StoreError::NotFound) => {
                Err(ServiceError::Conflict("the key is not locked".into()))
            }
            other => Ok(other?),
        }
    }

    /// The user revokes their key (device-authenticated, PIN required).
    pub fn revoke_by_user(
        &self,
        key: &KeyRecord,
        req: &RevokeRequest,
        caller: &Caller,
    ) -> Result<(), ServiceError> {
        if key.revoked {
            return Err(ServiceError::Revoked);
        }
        self.ctx.authorise_pin(key, &req.pin, caller)?;
        self.revoke(key, req.reason, None, caller)
    }

    /// An operator revokes a key.
    pub fn revoke_by_operator(
        &self,
        key_id: &str,
        req: &AdminRevokeRequest,
        caller: &Caller,
    ) -> Result<(), ServiceError> {
        let key = self.ctx.key(key_id)?;
        if key.revoked {
            return Err(ServiceError::Conflict("the key is already revoked".into()));
        }
        self.revoke(&key, req.reason, req.note.as_deref(), caller)
    }

    fn revoke(
        &self,
        key: &KeyRecord,
        reason: RevocationReason,
        note: Option<&str>,
        caller: &Caller,
    ) -> Result<(), ServiceError> {
        let audit = AuditEvent::new(
            AuditKind::Revoked,
            &key.key_id,
            json!({ "reason": reason.as_str(), "note": note }),
        )
        .by(caller);
        match self
            .ctx
            .store
            .revoke(&key.key_id, reason.as_str(), now_ms(), &audit)
        {
            Err(StoreError::NotFound) => return Err(ServiceError::Revoked),
            other => other?,
        }
        self.refresh_crl()?;
        Ok(())
    }

    /// The CA's current CRL (DER), re-signed when it is a day old or missing.
    pub fn crl(&self) -> Result<Vec<u8>, ServiceError> {
        let now = now_ms() / 1000;
        if let Some(stored) = self.ctx.store.get_setting(CRL_SETTING)? {
            if let Some((at, der)) = split_stored_crl(&stored) {
                if now.saturating_sub(at) < CRL_REFRESH_SECS {
                    return Ok(der.to_vec());
                }
            }
        }
        self.refresh_crl()
    }

    /// Sign a new CRL listing every revoked certificate and store it.
    pub fn refresh_crl(&self) -> Result<Vec<u8>, ServiceError> {
        let now = now_ms() / 1000;
        let revoked = self.ctx.store.revoked_certificates()?;
        let number = self.ctx.store.next_counter(CRL_NUMBER_COUNTER)?;
        let der = self
            .ctx
            .ca
            .crl(&revoked, number, now, now + CRL_VALIDITY_SECS)
            .map_err(|e| ServiceError::Internal(format!("CRL: {e}")))?;
        let mut stored = now.to_be_bytes().to_vec();
        stored.extend_from_slice(&der);
        self.ctx.store.put_setting(CRL_SETTING, &stored)?;
        Ok(der)
    }
}

fn split_stored_crl(stored: &[u8]) -> Option<(u64, &[u8])> {
    let (at, der) = stored.split_at_checked(8)?;
    Some((u64::from_be_bytes(at.try_into().ok()?), der))
}
