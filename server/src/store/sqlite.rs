//! SQLite store: one connection in WAL mode behind a mutex.

use super::{KeyRecord, NewSignature, PinFailure, Recorded, Store, StoreError, StoredSignature};
use crate::audit::{AuditEntry, AuditEvent, AuditKind, GENESIS, entry_hash};
use rusqlite::{Connection, OptionalExtension, Transaction, params};
use std::path::Path;
use std::sync::Mutex;

const SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS keys (
    key_id        TEXT PRIMARY KEY,
    user_id       TEXT NOT NULL,
    public_key    BLOB NOT NULL,
    sealed_share  BLOB NOT NULL,
    sealed_pin    BLOB NOT NULL,
    pin_salt      BLOB NOT NULL,
    pin_failures  INTEGER NOT NULL DEFAULT 0,
    locked        INTEGER NOT NULL DEFAULT 0,
    certificate   BLOB,
    created_ms    INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS signatures (
    key_id          TEXT NOT NULL REFERENCES keys(key_id),
    idempotency_key TEXT NOT NULL,
    request_hash    BLOB NOT NULL,
    response        TEXT NOT NULL,
    e               BLOB NOT NULL,
    evidence_head   TEXT,
    created_ms      INTEGER NOT NULL,
    PRIMARY KEY (key_id, idempotency_key)
);
CREATE TABLE IF NOT EXISTS audit (
    seq       INTEGER PRIMARY KEY,
    at_ms     INTEGER NOT NULL,
    kind      TEXT NOT NULL,
    key_id    TEXT,
    detail    TEXT NOT NULL,
    prev_hash BLOB NOT NULL,
    hash      BLOB NOT NULL
);
CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit
    BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit
    BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
CREATE TABLE IF NOT EXISTS settings (
    name  TEXT PRIMARY KEY,
    value BLOB NOT NULL
);
"#;

/// The default store.
pub struct SqliteStore {
    conn: Mutex<Connection>,
}

pub(super) fn backend(e: rusqlite::Error) -> StoreError {
    StoreError::Backend(e.to_string())
}

pub(super) fn is_unique_violation(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(f, _)
        if f.code == rusqlite::ErrorCode::ConstraintViolation)
}

/// A statement's result: a constraint violation is [`StoreError::Conflict`].
pub(super) fn sql<T>(r: rusqlite::Result<T>) -> Result<T, StoreError> {
    r.map_err(|e| {
        if is_unique_violation(&e) {
            StoreError::Conflict
        } else {
            backend(e)
        }
    })
}

pub(crate) fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

impl SqliteStore {
    /// Open (or create) the database file and apply the schema.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let conn = Connection::open(path).map_err(backend)?;
        Self::init(conn)
    }

    /// A private in-memory database (tests).
    pub fn in_memory() -> Result<Self, StoreError> {
        Self::init(Connection::open_in_memory().map_err(backend)?)
    }

    fn init(conn: Connection) -> Result<Self, StoreError> {
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(backend)?;
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(backend)?;
        conn.pragma_update(None, "foreign_keys", "ON")
            .map_err(backend)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(backend)?;
        conn.execute_batch(SCHEMA).map_err(backend)?;
        conn.execute_batch(super::sqlite_evidence::EVIDENCE_SCHEMA)
            .map_err(backend)?;
        Ok(SqliteStore {
            conn: Mutex::new(conn),
        })
    }

    /// Runs `write` and appends `audit` in one transaction, committed only when `write`
    /// succeeds. Map `write`'s statements with [`sql`].
    pub(super) fn write_audited<T>(
        &self,
        audit: &AuditEvent,
        write: impl FnOnce(&Transaction<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        self.with(|c| {
            let tx = c.transaction().map_err(backend)?;
            let value = write(&tx)?;
            append(&tx, audit)?;
            tx.commit().map_err(backend)?;
            Ok(value)
        })
    }

    pub(super) fn with<T>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut guard = self
            .conn
            .lock()
            .map_err(|_| StoreError::Backend("store mutex poisoned".into()))?;
        f(&mut guard)
    }
}

/// Append one audit entry inside a transaction, chaining it to the last one.
pub(super) fn append(tx: &Transaction<'_>, event: &AuditEvent) -> Result<(), StoreError> {
    let last: Option<(i64, Vec<u8>)> = tx
        .prepare_cached("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1")
        .and_then(|mut st| st.query_row([], |r| Ok((r.get(0)?, r.get(1)?))).optional())
        .map_err(backend)?;
    let (seq, prev) = match last {
        Some((seq, hash)) => {
            let prev: [u8; 32] = hash
                .try_into()
                .map_err(|_| StoreError::Backend("corrupt audit hash".into()))?;
            (seq as u64 + 1, prev)
        }
        None => (1u64, GENESIS),
    };
    let at = now_ms();
    let detail = event.detail.to_string();
    let kind = event.kind.as_str();
    let hash = entry_hash(&prev, seq, at, kind, event.key_id.as_deref(), &detail);
    tx.prepare_cached(
        "INSERT INTO audit (seq, at_ms, kind, key_id, detail, prev_hash, hash)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )
    .and_then(|mut st| {
        st.execute(params![
            seq as i64,
            at as i64,
            kind,
            event.key_id,
            detail,
            &prev[..],
            &hash[..]
        ])
    })
    .map_err(backend)?;
    Ok(())
}

/// An audit row (`seq, at_ms, kind, key_id, detail, prev_hash, hash`).
pub(super) fn audit_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<AuditEntry> {
    Ok(AuditEntry {
        seq: r.get::<_, i64>(0)? as u64,
        at_ms: r.get::<_, i64>(1)? as u64,
        kind: r.get(2)?,
        key_id: r.get(3)?,
        detail: r.get(4)?,
        prev_hash: hex::encode(r.get::<_, Vec<u8>>(5)?),
        hash: hex::encode(r.get::<_, Vec<u8>>(6)?),
    })
}

fn key_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<KeyRecord> {
    Ok(KeyRecord {
        key_id: r.get(0)?,
        user_id: r.get(1)?,
        public_key: r.get(2)?,
        sealed_share: r.get(3)?,
        sealed_pin: r.get(4)?,
        pin_salt: r.get(5)?,
        pin_failures: r.get(6)?,
        locked: r.get::<_, i64>(7)? != 0,
        certificate: r.get(8)?,
    })
}

impl Store for SqliteStore {
    fn insert_key(&self, key: &KeyRecord, audit: &AuditEvent) -> Result<(), StoreError> {
        self.write_audited(audit, |tx| {
            sql(tx.execute(
                "INSERT INTO keys (key_id, user_id, public_key, sealed_share, sealed_pin,
                                   pin_salt, pin_failures, locked, certificate, created_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, 0, 0, NULL, ?7)",
                params![
                    key.key_id,
                    key.user_id,
                    key.public_key,
                    key.sealed_share,
                    key.sealed_pin,
                    key.pin_salt,
                    now_ms() as i64
                ],
            ))
            .map(|_| ())
        })
    }

    fn get_key(&self, key_id: &str) -> Result<Option<KeyRecord>, StoreError> {
        self.with(|c| {
            c.prepare_cached(
                "SELECT key_id, user_id, public_key, sealed_share, sealed_pin, pin_salt,
                        pin_failures, locked, certificate FROM keys WHERE key_id = ?1",
            )
            .and_then(|mut st| st.query_row([key_id], key_from_row).optional())
            .map_err(backend)
        })
    }

    fn record_pin_failure(
        &self,
        key_id: &str,
        max_failures: u32,
    ) -> Result<PinFailure, StoreError> {
        self.with(|c| {
            let tx = c.transaction().map_err(backend)?;
            let (failures, locked): (u32, bool) = tx
                .query_row(
                    "UPDATE keys SET pin_failures = pin_failures + 1,
                            locked = CASE WHEN pin_failures + 1 >= ?2 THEN 1 ELSE locked END
                     WHERE key_id = ?1 RETURNING pin_failures, locked",
                    params![key_id, max_failures],
                    |r| Ok((r.get(0)?, r.get::<_, i64>(1)? != 0)),
                )
                .optional()
                .map_err(backend)?
                .ok_or(StoreError::NotFound)?;
            append(
                &tx,
                &AuditEvent::new(
                    AuditKind::PinFailure,
                    key_id,
                    serde_json::json!({ "consecutive_failures": failures }),
                ),
            )?;
            if locked && failures == max_failures {
                append(
                    &tx,
                    &AuditEvent::new(
                        AuditKind::Locked,
                        key_id,
                        serde_json::json!({ "after_failures": failures }),
                    ),
                )?;
            }
            tx.commit().map_err(backend)?;
            Ok(PinFailure { failures, locked })
        })
    }

    fn reset_pin_failures(&self, key_id: &str) -> Result<(), StoreError> {
        self.with(|c| {
            c.execute(
                "UPDATE keys SET pin_failures = 0 WHERE key_id = ?1 AND locked = 0",
                [key_id],
            )
            .map(|_| ())
            .map_err(backend)
        })
    }

    fn find_signature(
        &self,
        key_id: &str,
        idempotency_key: &str,
    ) -> Result<Option<StoredSignature>, StoreError> {
        self.with(|c| {
            c.prepare_cached(
                "SELECT request_hash, response FROM signatures
                 WHERE key_id = ?1 AND idempotency_key = ?2",
            )
            .and_then(|mut st| {
                st.query_row([key_id, idempotency_key], |r| {
                    Ok(StoredSignature {
                        request_hash: r.get(0)?,
                        response: r.get(1)?,
                    })
                })
                .optional()
            })
            .map_err(backend)
        })
    }

    fn record_signature(
        &self,
        sig: &NewSignature,
        audit: &AuditEvent,
    ) -> Result<Recorded, StoreError> {
        self.with(|c| {
            let tx = c.transaction().map_err(backend)?;
            let res = tx
                .prepare_cached(
                    "INSERT INTO signatures (key_id, idempotency_key, request_hash, response, e,
                                             evidence_head, created_ms)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                )
                .and_then(|mut st| {
                    st.execute(params![
                        sig.key_id,
                        sig.idempotency_key,
                        sig.request_hash,
                        sig.response,
                        sig.e,
                        sig.evidence_head,
                        now_ms() as i64
                    ])
                });
            match res {
                Err(e) if is_unique_violation(&e) => {
                    let existing = tx
                        .query_row(
                            "SELECT request_hash, response FROM signatures
                             WHERE key_id = ?1 AND idempotency_key = ?2",
                            [&sig.key_id, &sig.idempotency_key],
                            |r| {
                                Ok(StoredSignature {
                                    request_hash: r.get(0)?,
                                    response: r.get(1)?,
                                })
                            },
                        )
                        .map_err(backend)?;
                    return Ok(Recorded::Existing(existing));
                }
                Err(e) => return Err(backend(e)),
                Ok(_) => {}
            }
            append(&tx, audit)?;
            tx.commit().map_err(backend)?;
            Ok(Recorded::Inserted)
        })
    }

    fn set_certificate(
        &self,
        key_id: &str,
        certificate: &[u8],
        audit: &AuditEvent,
    ) -> Result<(), StoreError> {
        self.write_audited(audit, |tx| {
            let changed = sql(tx.execute(
                "UPDATE keys SET certificate = ?2 WHERE key_id = ?1",
                params![key_id, certificate],
            ))?;
            if changed == 0 {
                return Err(StoreError::NotFound);
            }
            Ok(())
        })
    }

    fn append_audit(&self, audit: &AuditEvent) -> Result<(), StoreError> {
        self.with(|c| {
            let tx = c.transaction().map_err(backend)?;
            append(&tx, audit)?;
            tx.commit().map_err(backend)
        })
    }

    fn audit_entries(&self, from: u64, limit: u32) -> Result<Vec<AuditEntry>, StoreError> {
        self.with(|c| {
            let mut st = c
                .prepare_cached(
                    "SELECT seq, at_ms, kind, key_id, detail, prev_hash, hash FROM audit
                     WHERE seq >= ?1 ORDER BY seq LIMIT ?2",
                )
                .map_err(backend)?;
            let rows = st
                .query_map(
                    params![from.min(i64::MAX as u64) as i64, limit],
                    audit_from_row,
                )
                .map_err(backend)?;
            rows.collect::<Result<Vec<_>, _>>().map_err(backend)
        })
    }

    fn get_setting(&self, name: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.with(|c| {
            c.query_row("SELECT value FROM settings WHERE name = ?1", [name], |r| {
                r.get(0)
            })
            .optional()
            .map_err(backend)
        })
    }

    fn put_setting_if_absent(&self, name: &str, value: &[u8]) -> Result<Vec<u8>, StoreError> {
        self.with(|c| {
            c.execute(
                "INSERT OR IGNORE INTO settings (name, value) VALUES (?1, ?2)",
                params![name, value],
            )
            .map_err(backend)?;
            c.query_row("SELECT value FROM settings WHERE name = ?1", [name], |r| {
                r.get(0)
            })
            .map_err(backend)
        })
    }
}
