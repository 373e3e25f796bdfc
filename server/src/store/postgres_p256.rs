//! [`P256Store`] for [`PostgresStore`].

use super::p256::{
    FoundP256Session, NewP256Keygen, NewP256Session, P256SessionTake, P256Store, TakenP256Keygen,
    TakenP256Session,
};
use super::postgres::int;
use super::{PostgresStore, StoreError};
use crate::audit::AuditEvent;

/// Migration 7: a key's curve (keys made before are SM2), its failed P-256 sessions, and
/// two-party P-256 signing sessions.
pub(super) const KEY_CURVES_AND_P256_SESSIONS: &str = r#"
ALTER TABLE keys ADD COLUMN curve TEXT NOT NULL DEFAULT 'sm2';
ALTER TABLE keys ADD COLUMN p256_session_failures BIGINT NOT NULL DEFAULT 0;
CREATE TABLE p256_sign_sessions (
    key_id          TEXT NOT NULL REFERENCES keys(key_id),
    sign_id         BYTEA NOT NULL,
    idempotency_key TEXT NOT NULL,
    sealed_state    BYTEA,
    context         TEXT NOT NULL,
    created_ms      BIGINT NOT NULL,
    expires_ms      BIGINT NOT NULL,
    used_ms         BIGINT,
    PRIMARY KEY (key_id, sign_id),
    CONSTRAINT p256_sign_sessions_idempotency UNIQUE (key_id, idempotency_key)
);
"#;

/// Migration 8: a P-256 session keeps trip 1's sealed answer while it is open, and the hash
/// of the trip 2 that took it, so byte-identical repeats get the same answers.
pub(super) const P256_SESSION_REPEATS: &str = r#"
ALTER TABLE p256_sign_sessions ADD COLUMN sealed_reply BYTEA, ADD COLUMN finish_hash BYTEA;
"#;

/// Migration 9: pending two-party P-256 key generations (enrollment trip 1's sealed state,
/// one row per ticket), so trip 2 may reach any replica.
pub(super) const P256_PENDING_KEYGENS: &str = r#"
CREATE TABLE p256_keygens (
    ticket_id          TEXT PRIMARY KEY,
    sealed_state       BYTEA NOT NULL,
    device_key         BYTEA NOT NULL,
    attestation        TEXT,
    attestation_format TEXT,
    sealed_pin         BYTEA NOT NULL,
    created_ms         BIGINT NOT NULL,
    expires_ms         BIGINT NOT NULL
);
"#;

impl P256Store for PostgresStore {
    fn put_p256_keygen(&self, k: &NewP256Keygen) -> Result<(), StoreError> {
        self.transact(|tx| {
            tx.execute(
                "INSERT INTO p256_keygens (ticket_id, sealed_state, device_key, attestation,
                                           attestation_format, sealed_pin, created_ms,
                                           expires_ms)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                 ON CONFLICT (ticket_id) DO UPDATE SET
                     sealed_state = EXCLUDED.sealed_state, device_key = EXCLUDED.device_key,
                     attestation = EXCLUDED.attestation,
                     attestation_format = EXCLUDED.attestation_format,
                     sealed_pin = EXCLUDED.sealed_pin, created_ms = EXCLUDED.created_ms,
                     expires_ms = EXCLUDED.expires_ms",
                &[
                    &k.ticket_id,
                    &k.sealed_state,
                    &k.device_key,
                    &k.attestation,
                    &k.attestation_format,
                    &k.sealed_pin,
                    &int(k.created_ms),
                    &int(k.expires_ms),
                ],
            )?;
            Ok(())
        })
    }

    fn pending_p256_keygen_device_key(
        &self,
        ticket_id: &str,
        now_ms: u64,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        self.read(|c| {
            c.query_opt(
                "SELECT device_key FROM p256_keygens WHERE ticket_id = $1 AND expires_ms > $2",
                &[&ticket_id, &int(now_ms)],
            )?
            .map(|r| Ok(r.try_get(0)?))
            .transpose()
        })
    }

    fn take_p256_keygen(
        &self,
        ticket_id: &str,
        now_ms: u64,
    ) -> Result<Option<TakenP256Keygen>, StoreError> {
        self.transact(|tx| {
            // A concurrent take waits on the row lock and then finds the row gone.
            let Some(r) = tx.query_opt(
                "DELETE FROM p256_keygens WHERE ticket_id = $1
                 RETURNING sealed_state, device_key, attestation, attestation_format,
                           sealed_pin, expires_ms",
                &[&ticket_id],
            )?
            else {
                return Ok(None);
            };
            if r.try_get::<_, i64>(5)? <= int(now_ms) {
                return Ok(None);
            }
            Ok(Some(TakenP256Keygen {
                sealed_state: r.try_get(0)?,
                device_key: r.try_get(1)?,
                attestation: r.try_get(2)?,
                attestation_format: r.try_get(3)?,
                sealed_pin: r.try_get(4)?,
            }))
        })
    }

    fn insert_p256_session(&self, s: &NewP256Session) -> Result<(), StoreError> {
        let inserted = self.transact(|tx| {
            Ok(tx.execute(
                "INSERT INTO p256_sign_sessions (key_id, sign_id, idempotency_key, sealed_state,
                                                 context, created_ms, expires_ms, used_ms,
                                                 sealed_reply)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, NULL, $8)
                 ON CONFLICT DO NOTHING",
                &[
                    &s.key_id,
                    &s.sign_id,
                    &s.idempotency_key,
                    &s.sealed_state,
                    &s.context,
                    &int(s.created_ms),
                    &int(s.expires_ms),
                    &s.sealed_reply,
                ],
            )?)
        })?;
        if inserted == 1 {
            Ok(())
        } else {
            Err(StoreError::Conflict)
        }
    }

    fn find_p256_session(
        &self,
        key_id: &str,
        idempotency_key: &str,
        now_ms: u64,
    ) -> Result<Option<FoundP256Session>, StoreError> {
        self.read(|c| {
            c.query_opt(
                "SELECT sign_id, context,
                        CASE WHEN used_ms IS NULL AND sealed_state IS NOT NULL
                                  AND expires_ms > $3 THEN sealed_reply END,
                        expires_ms
                 FROM p256_sign_sessions WHERE key_id = $1 AND idempotency_key = $2",
                &[&key_id, &idempotency_key, &int(now_ms)],
            )?
            .map(|r| {
                Ok(FoundP256Session {
                    sign_id: r.try_get(0)?,
                    context: r.try_get(1)?,
                    sealed_reply: r.try_get(2)?,
                    expires_ms: u64::try_from(r.try_get::<_, i64>(3)?).unwrap_or(0),
                })
            })
            .transpose()
        })
    }

    fn take_p256_session(
        &self,
        key_id: &str,
        sign_id: &[u8],
        finish_hash: &[u8],
        now_ms: u64,
    ) -> Result<P256SessionTake, StoreError> {
        self.transact(|tx| {
            // Marked used first (RETURNING gives the row as updated, so the state is dropped by
            // a second statement of the same transaction). A concurrent take waits on the row
            // lock and then finds it used.
            let taken = tx.query_opt(
                "UPDATE p256_sign_sessions SET used_ms = $3, finish_hash = $4
                 WHERE key_id = $1 AND sign_id = $2 AND used_ms IS NULL
                   AND sealed_state IS NOT NULL AND expires_ms > $3
                 RETURNING sealed_state, context, idempotency_key",
                &[&key_id, &sign_id, &int(now_ms), &finish_hash],
            )?;
            let outcome = match taken {
                Some(r) => P256SessionTake::Taken(TakenP256Session {
                    sealed_state: r.try_get(0)?,
                    context: r.try_get(1)?,
                    idempotency_key: r.try_get(2)?,
                }),
                None => match tx.query_opt(
                    "SELECT used_ms, idempotency_key, finish_hash FROM p256_sign_sessions
                     WHERE key_id = $1 AND sign_id = $2",
                    &[&key_id, &sign_id],
                )? {
                    None => P256SessionTake::Unknown,
                    Some(r) if r.try_get::<_, Option<i64>>(0)?.is_some() => {
                        P256SessionTake::AlreadyUsed {
                            idempotency_key: r.try_get(1)?,
                            finish_hash: r.try_get(2)?,
                        }
                    }
                    Some(_) => P256SessionTake::Expired,
                },
            };
            if !matches!(
                outcome,
                P256SessionTake::Unknown | P256SessionTake::AlreadyUsed { .. }
            ) {
                tx.execute(
                    "UPDATE p256_sign_sessions
                     SET used_ms = coalesce(used_ms, $3), sealed_state = NULL, sealed_reply = NULL
                     WHERE key_id = $1 AND sign_id = $2",
                    &[&key_id, &sign_id, &int(now_ms)],
                )?;
            }
            Ok(outcome)
        })
    }

    fn p256_session_failed(
        &self,
        key_id: &str,
        max_failures: u32,
        refused: &AuditEvent,
        locked: &AuditEvent,
    ) -> Result<bool, StoreError> {
        self.transact(|tx| {
            // The key's row serialises its failures across replicas.
            let Some(row) = tx.query_opt(
                "UPDATE keys SET p256_session_failures = p256_session_failures + 1
                 WHERE key_id = $1 RETURNING p256_session_failures",
                &[&key_id],
            )?
            else {
                return Err(StoreError::NotFound.into());
            };
            let failures: i64 = row.try_get(0)?;
            super::postgres::append(tx, refused)?;
            if failures < i64::from(max_failures) {
                return Ok(false);
            }
            tx.execute(
                "UPDATE keys SET locked = TRUE WHERE key_id = $1",
                &[&key_id],
            )?;
            super::postgres::append(tx, locked)?;
            Ok(true)
        })
    }

    fn lock_key(&self, key_id: &str, audit: &AuditEvent) -> Result<(), StoreError> {
        self.write_audited(audit, |tx| {
            let n = tx.execute(
                "UPDATE keys SET locked = TRUE WHERE key_id = $1",
                &[&key_id],
            )?;
            if n == 1 {
                Ok(())
            } else {
                Err(StoreError::NotFound.into())
            }
        })
    }
}
