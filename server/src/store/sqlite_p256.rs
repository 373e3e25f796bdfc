//! [`P256Store`] for [`SqliteStore`].

use super::p256::{
    FoundP256Session, NewP256Keygen, NewP256Session, P256SessionTake, P256Store, TakenP256Keygen,
    TakenP256Session,
};
use super::sqlite::{backend, int, is_unique_violation, sql};
use super::{SqliteStore, StoreError};
use crate::audit::AuditEvent;
use rusqlite::{OptionalExtension, TransactionBehavior, params};

/// Schema 7: a key's curve (keys made before are SM2), its failed P-256 sessions, and
/// two-party P-256 signing sessions.
pub(super) const MIGRATE_6_TO_7: &str = r#"
ALTER TABLE keys ADD COLUMN curve TEXT NOT NULL DEFAULT 'sm2';
ALTER TABLE keys ADD COLUMN p256_session_failures INTEGER NOT NULL DEFAULT 0;
CREATE TABLE p256_sign_sessions (
    key_id          TEXT NOT NULL REFERENCES keys(key_id),
    sign_id         BLOB NOT NULL,
    idempotency_key TEXT NOT NULL,
    sealed_state    BLOB,
    context         TEXT NOT NULL,
    created_ms      INTEGER NOT NULL,
    expires_ms      INTEGER NOT NULL,
    used_ms         INTEGER,
    PRIMARY KEY (key_id, sign_id),
    UNIQUE (key_id, idempotency_key)
);
PRAGMA user_version = 7;
"#;

/// Schema 8: a P-256 session keeps trip 1's sealed answer while it is open, and the hash of
/// the trip 2 that took it, so byte-identical repeats get the same answers.
pub(super) const MIGRATE_7_TO_8: &str = r#"
ALTER TABLE p256_sign_sessions ADD COLUMN sealed_reply BLOB;
ALTER TABLE p256_sign_sessions ADD COLUMN finish_hash BLOB;
PRAGMA user_version = 8;
"#;

/// Schema 9: pending two-party P-256 key generations (enrollment trip 1's sealed state, one
/// row per ticket), so trip 2 may reach any replica.
pub(super) const MIGRATE_8_TO_9: &str = r#"
CREATE TABLE p256_keygens (
    ticket_id          TEXT PRIMARY KEY,
    sealed_state       BLOB NOT NULL,
    device_key         BLOB NOT NULL,
    attestation        TEXT,
    attestation_format TEXT,
    sealed_pin         BLOB NOT NULL,
    created_ms         INTEGER NOT NULL,
    expires_ms         INTEGER NOT NULL
);
PRAGMA user_version = 9;
"#;

impl P256Store for SqliteStore {
    fn put_p256_keygen(&self, k: &NewP256Keygen) -> Result<(), StoreError> {
        self.durable(|c| {
            sql(c.execute(
                "INSERT OR REPLACE INTO p256_keygens (ticket_id, sealed_state, device_key,
                                                      attestation, attestation_format,
                                                      sealed_pin, created_ms, expires_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![
                    k.ticket_id,
                    k.sealed_state,
                    k.device_key,
                    k.attestation,
                    k.attestation_format,
                    k.sealed_pin,
                    int(k.created_ms),
                    int(k.expires_ms)
                ],
            ))?;
            Ok(())
        })
    }

    fn pending_p256_keygen_device_key(
        &self,
        ticket_id: &str,
        now_ms: u64,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        self.with(|c| {
            c.query_row(
                "SELECT device_key FROM p256_keygens WHERE ticket_id = ?1 AND expires_ms > ?2",
                params![ticket_id, int(now_ms)],
                |r| r.get(0),
            )
            .optional()
            .map_err(backend)
        })
    }

    fn take_p256_keygen(
        &self,
        ticket_id: &str,
        now_ms: u64,
    ) -> Result<Option<TakenP256Keygen>, StoreError> {
        self.durable(|c| {
            let taken = c
                .query_row(
                    "DELETE FROM p256_keygens WHERE ticket_id = ?1
                     RETURNING sealed_state, device_key, attestation, attestation_format,
                               sealed_pin, expires_ms",
                    [ticket_id],
                    |r| {
                        Ok((
                            TakenP256Keygen {
                                sealed_state: r.get(0)?,
                                device_key: r.get(1)?,
                                attestation: r.get(2)?,
                                attestation_format: r.get(3)?,
                                sealed_pin: r.get(4)?,
                            },
                            r.get::<_, i64>(5)?,
                        ))
                    },
                )
                .optional()
                .map_err(backend)?;
            Ok(taken
                .filter(|(_, expires_ms)| *expires_ms > int(now_ms))
                .map(|(k, _)| k))
        })
    }

    fn insert_p256_session(&self, s: &NewP256Session) -> Result<(), StoreError> {
        self.durable(|c| {
            let res = c.execute(
                "INSERT INTO p256_sign_sessions (key_id, sign_id, idempotency_key, sealed_state,
                                                 context, created_ms, expires_ms, used_ms,
                                                 sealed_reply)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, NULL, ?8)",
                params![
                    s.key_id,
                    s.sign_id,
                    s.idempotency_key,
                    s.sealed_state,
                    s.context,
                    int(s.created_ms),
                    int(s.expires_ms),
                    s.sealed_reply
                ],
            );
            match res {
                Err(e) if is_unique_violation(&e) => Err(StoreError::Conflict),
                Err(e) => Err(backend(e)),
                Ok(_) => Ok(()),
            }
        })
    }

    fn find_p256_session(
        &self,
        key_id: &str,
        idempotency_key: &str,
        now_ms: u64,
    ) -> Result<Option<FoundP256Session>, StoreError> {
        self.with(|c| {
            c.query_row(
                "SELECT sign_id, context,
                        CASE WHEN used_ms IS NULL AND sealed_state IS NOT NULL
                                  AND expires_ms > ?3 THEN sealed_reply END,
                        expires_ms
                 FROM p256_sign_sessions WHERE key_id = ?1 AND idempotency_key = ?2",
                params![key_id, idempotency_key, int(now_ms)],
                |r| {
                    Ok(FoundP256Session {
                        sign_id: r.get(0)?,
                        context: r.get(1)?,
                        sealed_reply: r.get(2)?,
                        expires_ms: u64::try_from(r.get::<_, i64>(3)?).unwrap_or(0),
                    })
                },
            )
            .optional()
            .map_err(backend)
        })
    }

    fn take_p256_session(
        &self,
        key_id: &str,
        sign_id: &[u8],
        finish_hash: &[u8],
        now_ms: u64,
    ) -> Result<P256SessionTake, StoreError> {
        self.durable(|c| {
            let tx = c
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(backend)?;
            // Marked used first (RETURNING gives the row as updated, so the state is dropped by
            // a second statement of the same transaction).
            let taken = tx
                .query_row(
                    "UPDATE p256_sign_sessions SET used_ms = ?3, finish_hash = ?4
                     WHERE key_id = ?1 AND sign_id = ?2 AND used_ms IS NULL
                       AND sealed_state IS NOT NULL AND expires_ms > ?3
                     RETURNING sealed_state, context, idempotency_key",
                    params![key_id, sign_id, int(now_ms), finish_hash],
                    |r| {
                        Ok(TakenP256Session {
                            sealed_state: r.get(0)?,
                            context: r.get(1)?,
                            idempotency_key: r.get(2)?,
                        })
                    },
                )
                .optional()
                .map_err(backend)?;
            let outcome = match taken {
                Some(t) => P256SessionTake::Taken(t),
                None => {
                    type Row = (Option<i64>, String, Option<Vec<u8>>);
                    let used: Option<Row> = tx
                        .query_row(
                            "SELECT used_ms, idempotency_key, finish_hash FROM p256_sign_sessions
                             WHERE key_id = ?1 AND sign_id = ?2",
                            params![key_id, sign_id],
                            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                        )
                        .optional()
                        .map_err(backend)?;
                    match used {
                        None => P256SessionTake::Unknown,
                        Some((Some(_), idempotency_key, finish_hash)) => {
                            P256SessionTake::AlreadyUsed {
                                idempotency_key,
                                finish_hash,
                            }
                        }
                        // Expired: closed now, so it can never be continued either.
                        Some((None, _, _)) => P256SessionTake::Expired,
                    }
                }
            };
            if !matches!(
                outcome,
                P256SessionTake::Unknown | P256SessionTake::AlreadyUsed { .. }
            ) {
                sql(tx.execute(
                    "UPDATE p256_sign_sessions
                     SET used_ms = coalesce(used_ms, ?3), sealed_state = NULL, sealed_reply = NULL
                     WHERE key_id = ?1 AND sign_id = ?2",
                    params![key_id, sign_id, int(now_ms)],
                ))?;
            }
            tx.commit().map_err(backend)?;
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
        self.durable(|c| {
            let tx = c
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(backend)?;
            let failures: i64 = tx
                .query_row(
                    "UPDATE keys SET p256_session_failures = p256_session_failures + 1
                     WHERE key_id = ?1 RETURNING p256_session_failures",
                    [key_id],
                    |r| r.get(0),
                )
                .optional()
                .map_err(backend)?
                .ok_or(StoreError::NotFound)?;
            super::sqlite::append(&tx, refused)?;
            let now_locked = failures >= i64::from(max_failures);
            if now_locked {
                sql(tx.execute("UPDATE keys SET locked = 1 WHERE key_id = ?1", [key_id]))?;
                super::sqlite::append(&tx, locked)?;
            }
            tx.commit().map_err(backend)?;
            Ok(now_locked)
        })
    }

    fn lock_key(&self, key_id: &str, audit: &AuditEvent) -> Result<(), StoreError> {
        self.write_audited(audit, |tx| {
            let n = sql(tx.execute("UPDATE keys SET locked = 1 WHERE key_id = ?1", [key_id]))?;
            if n == 1 {
                Ok(())
            } else {
                Err(StoreError::NotFound)
            }
        })
    }
}
