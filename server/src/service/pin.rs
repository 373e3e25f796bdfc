//! Checking a PIN without ever comparing more than the allowed number of wrong ones.
//!
//! The verifier is opened from the vault first (outside any database transaction: an HSM call
//! holds no lock). Then the store compares under the key's write lock
//! ([`crate::store::Store::check_pin`]): it reads the count and the lock state, compares, and
//! records a failure (locking at the limit, audited) in one transaction. Under any
//! concurrency, on any number of replicas, at most `max_pin_failures` wrong PINs are compared
//! since the last right one; concurrent checks of one key wait for each other for the time of
//! a hash. A crash mid-check rolls its transaction back: nothing was answered, nothing is held.
//! A right PIN on a key with no failures writes nothing. A PIN change committed between the
//! request's read of the key and the check is seen under the lock: the check reads the key
//! again and compares with the new verifier, never the old one.
//!
//! Until 2026-12 an attempt was *reserved* (counted as a failure) before the compare and
//! cleared after it, three writes per check; a count such reservations left at the limit (the
//! requests that made them died) locks the key at its next check, audited.

use super::pin_verifier;
use super::{Context, pin_aad, random_bytes};
use crate::audit::{AuditEvent, AuditKind, Caller};
use crate::error::ServiceError;
use crate::store::{KeyRecord, PinCheck};
use inkseal_cosign::api::Pin;
use serde_json::json;

/// How many PIN changes in a row one check follows before it answers "retry".
const PIN_CHANGE_RETRIES: usize = 3;

/// A new PIN's sealed verifier and salt.
pub(crate) struct SealedPin {
    pub(crate) sealed: Vec<u8>,
    pub(crate) salt: Vec<u8>,
}

impl Context {
    /// Check `pin` for `key` (see the module documentation). A locked or revoked key is
    /// refused even with the right PIN, without comparing it.
    pub(crate) fn authorise_pin(
        &self,
        key: &KeyRecord,
        pin: &Pin,
        caller: &Caller,
    ) -> Result<(), ServiceError> {
        if !pin.is_acceptable() {
            return Err(ServiceError::BadRequest(
                "a PIN has 6 to 32 characters without control characters".into(),
            ));
        }
        let max = self.policy.max_pin_failures.max(1);
        let locked = || -> Result<ServiceError, ServiceError> {
            self.store.append_audit(
                &AuditEvent::new(
                    AuditKind::Refused,
                    &key.key_id,
                    json!({ "reason": "locked" }),
                )
                .by(caller),
            )?;
            Ok(ServiceError::Locked)
        };
        let failure_entry =
            AuditEvent::new(AuditKind::PinFailure, &key.key_id, json!({})).by(caller);
        let mut record = std::borrow::Cow::Borrowed(key);
        for _ in 0..PIN_CHANGE_RETRIES {
            // The record read at authentication: a key locked before this request costs no
            // HSM call (the store checks again under the lock).
            if record.locked {
                return Err(locked()?);
            }
            let expected = self.vault.open(
                &pin_aad(&record.user_id, &record.key_id, &record.public_key),
                &record.sealed_pin,
            )?;
            let mut compare = || {
                self.metrics.pin_compared();
                pin_verifier::matches(&expected, &record.pin_salt, &record.key_id, pin)
            };
            let check = self.store.check_pin(
                &record.key_id,
                &record.sealed_pin,
                max,
                &mut compare,
                &failure_entry,
            )?;
            return match check {
                PinCheck::Right => Ok(()),
                PinCheck::Wrong(failure) => {
                    self.metrics.pin_failed(failure.locked);
                    if failure.locked {
                        Err(ServiceError::Locked)
                    } else {
                        Err(ServiceError::WrongPin {
                            attempts_left: max.saturating_sub(failure.failures),
                        })
                    }
                }
                PinCheck::Locked => Err(locked()?),
                PinCheck::LockedNow => {
                    self.metrics.key_locked();
                    Err(locked()?)
                }
                PinCheck::Revoked => Err(ServiceError::Revoked),
                PinCheck::NotFound => Err(ServiceError::UnknownKey),
                PinCheck::Changed => {
                    // A PIN change committed after this request read the key: compare with
                    // the new verifier, never the old one.
                    let fresh = self
                        .store
                        .get_key(&key.key_id)?
                        .ok_or(ServiceError::UnknownKey)?;
                    record = std::borrow::Cow::Owned(fresh);
                    continue;
                }
            };
        }
        Err(ServiceError::RateLimited {
            retry_after_secs: 1,
            why: "this key's PIN is being changed right now".into(),
        })
    }

    /// Seal a verifier for a new PIN of `key_id`, after checking it against the PIN policy.
    pub(crate) fn seal_new_pin(
        &self,
        user_id: &str,
        key_id: &str,
        public_key: &[u8],
        pin: &Pin,
    ) -> Result<SealedPin, ServiceError> {
        self.policy
            .pin
            .check(pin)
            .map_err(|e| ServiceError::PinRejected(e.to_string()))?;
        let salt: [u8; 16] = random_bytes()?;
        let verifier = pin_verifier::verifier(&salt, key_id, pin);
        let sealed = self
            .vault
            .seal(&pin_aad(user_id, key_id, public_key), verifier.as_slice())?;
        Ok(SealedPin {
            sealed,
            salt: salt.to_vec(),
        })
    }
}
