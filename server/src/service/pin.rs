//! Checking a PIN without ever comparing more than the allowed number of wrong ones.
//!
//! Each check first **reserves** an attempt in the one statement that also checks the lock
//! (`pin_failures < max AND NOT locked`), then compares, then either clears the count (right
//! PIN) or confirms the failure and locks at the limit. Under any concurrency at most
//! `max_pin_failures` wrong PINs are compared since the last right one: the reservations are
//! the count. A request that finds every remaining attempt reserved by concurrent requests is
//! told to retry; a crash between reservation and answer leaves the attempt counted as a
//! failure (the safe side). When such leftovers fill every remaining attempt, the key would be
//! "busy" for good: once the latest reservation is a minute old, the key is locked instead,
//! as if those attempts had failed, and an operator can unlock it.

use super::pin_verifier;
use super::{Context, pin_aad, random_bytes};
use crate::audit::{AuditEvent, AuditKind, Caller};
use crate::error::ServiceError;
use crate::store::{KeyRecord, PinReservation};
use inkseal_cosign::api::Pin;
use serde_json::json;

/// How many times a request whose attempts are all in flight waits 2 ms for one to clear.
const BUSY_RETRIES: usize = 25;

/// Reservations older than this belong to requests that died (a killed process): a PIN
/// comparison takes milliseconds, a slow HSM's seconds at most.
const ABANDONED_AFTER_MS: u64 = 60_000;

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
        // Every remaining attempt in flight (concurrent requests on one key) clears within
        // microseconds: wait a little before answering "busy".
        let mut reservation = self.store.reserve_pin_attempt(&key.key_id, max)?;
        for _ in 0..BUSY_RETRIES {
            if reservation != PinReservation::Busy {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(2));
            reservation = self.store.reserve_pin_attempt(&key.key_id, max)?;
        }
        match reservation {
            PinReservation::Reserved => {}
            PinReservation::Locked => {
                self.store.append_audit(
                    &AuditEvent::new(
                        AuditKind::Refused,
                        &key.key_id,
                        json!({ "reason": "locked" }),
                    )
                    .by(caller),
                )?;
                return Err(ServiceError::Locked);
            }
            PinReservation::Revoked => return Err(ServiceError::Revoked),
            PinReservation::Busy => {
                // Every attempt reserved for a minute: requests that will never answer hold
                // them. They count as failures, so the key locks (audited) instead of being
                // "busy" for good.
                let cutoff = crate::store::now_ms().saturating_sub(ABANDONED_AFTER_MS);
                let lock = AuditEvent::new(AuditKind::Locked, &key.key_id, json!({})).by(caller);
                if self
                    .store
                    .lock_abandoned_pin_attempts(&key.key_id, max, cutoff, &lock)?
                {
                    self.metrics.key_locked();
                    return Err(ServiceError::Locked);
                }
                return Err(ServiceError::RateLimited {
                    retry_after_secs: 1,
                    why: "the last PIN attempts for this key are being checked right now".into(),
                });
            }
            PinReservation::NotFound => return Err(ServiceError::UnknownKey),
        }
        let expected = match self.vault.open(
            &pin_aad(&key.user_id, &key.key_id, &key.public_key),
            &key.sealed_pin,
        ) {
            Ok(v) => v,
            Err(e) => {
                // Nothing was compared: give the attempt back.
                let _ = self.store.release_pin_attempt(&key.key_id);
                return Err(e.into());
            }
        };
        self.metrics.pin_compared();
        if pin_verifier::matches(&expected, &key.pin_salt, &key.key_id, pin) {
            self.store.pin_attempt_succeeded(&key.key_id)?;
            return Ok(());
        }
        let failure = self.store.pin_attempt_failed(
            &key.key_id,
            max,
            &AuditEvent::new(AuditKind::PinFailure, &key.key_id, json!({})).by(caller),
        )?;
        self.metrics.pin_failed(failure.locked);
        if failure.locked {
            Err(ServiceError::Locked)
        } else {
            Err(ServiceError::WrongPin {
                attempts_left: max.saturating_sub(failure.failures),
            })
        }
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
