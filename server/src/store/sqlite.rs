//! SQLite store: one connection in WAL mode behind a mutex. An answered request (a signature, a
//! PIN failure, an audit entry) survives a power loss: every such write is on disk before the
//! store returns.
//!
//! How: the connection runs `synchronous=NORMAL` (a commit writes its WAL frames, with their
//! commit marker and checksums, but does not fsync), and a durable write fsyncs the WAL file
//! itself after its commit, once the connection's mutex is released. That is what
//! `synchronous=FULL` does (an fsync of the WAL at each commit), minus holding every other
//! request behind the disk: concurrent writers commit while one syncs, and one fsync covers
//! every frame written before it (group commit). Frames a checkpoint moved into the database
//! file are synced by the checkpoint itself (SQLite syncs the WAL before and the database
//! after a checkpoint in NORMAL mode). `inkseal bench cosign` measures the cost.
//!
//! One kind of write skips the fsync, because losing it on a power loss is safe: the reset of
//! the failure count after a right PIN (a lost reset leaves the count higher, never lower). A
//! wrong PIN's record, which the answer reports, is synced like everything else. Request nonces are not written at all: one process serves a SQLite database, so they
//! live in its memory (`sqlite_access.rs`).

use super::{
    IssuedCertificate, KeyRecord, NewSignature, PinCheck, PinState, PinWrite, Recorded, Store,
    StoreError, StoredSignature, check_pin_in,
};
use crate::audit::{
    AuditEntry, AuditEvent, Checkpoint, CheckpointFormat, EntryFields, GENESIS, LaneHead,
    MAIN_LANE, entry_hash,
};
use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior, params};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// The schema version this build writes (`PRAGMA user_version`).
pub(super) const SCHEMA_VERSION: i64 = 9;

/// From schema 2 to 3: the time of a key's latest PIN reservation (builds before 2026-12
/// reserved attempts; the column is no longer written).
const MIGRATE_2_TO_3: &str = "ALTER TABLE keys ADD COLUMN pin_reserved_ms INTEGER;
                              PRAGMA user_version = 3;";

/// Schema 6: a seal's key either signs or agrees keys (the institution's encryption key; seals
/// made before sign), each key counts its two-party decryptions (for the lifetime cap; counted
/// from the recorded ones), and a ticket names the purpose of the key it enrolls (tickets
/// issued before enroll signing keys).
const MIGRATE_5_TO_6: &str = r#"
ALTER TABLE seals ADD COLUMN key_purpose TEXT NOT NULL DEFAULT 'signing';
ALTER TABLE keys ADD COLUMN decryptions INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tickets ADD COLUMN purpose TEXT NOT NULL DEFAULT 'signing';
UPDATE keys SET decryptions = (SELECT count(*) FROM decryptions d WHERE d.key_id = keys.key_id);
PRAGMA user_version = 6;
"#;

const SCHEMA: &str = r#"
CREATE TABLE keys (
    key_id             TEXT PRIMARY KEY,
    user_id            TEXT NOT NULL,
    certificate_name   TEXT NOT NULL,
    ticket_id          TEXT NOT NULL UNIQUE,
    public_key         BLOB NOT NULL,
    device_public_key  BLOB NOT NULL,
    device_attestation TEXT,
    id_binding         BLOB,
    sealed_share       BLOB NOT NULL,
    sealed_pin         BLOB NOT NULL,
    pin_salt           BLOB NOT NULL,
    pin_failures       INTEGER NOT NULL DEFAULT 0,
    locked             INTEGER NOT NULL DEFAULT 0,
    revoked_ms         INTEGER,
    certificate        BLOB,
    created_ms         INTEGER NOT NULL
);
CREATE TABLE signatures (
    key_id          TEXT NOT NULL REFERENCES keys(key_id),
    idempotency_key TEXT NOT NULL,
    request_hash    BLOB NOT NULL,
    response        TEXT NOT NULL,
    e               BLOB NOT NULL,
    message_kind    TEXT NOT NULL,
    document_digest BLOB NOT NULL,
    evidence_head   TEXT,
    created_ms      INTEGER NOT NULL,
    PRIMARY KEY (key_id, idempotency_key)
);
CREATE TABLE evidence_uses (
    manifest_head   TEXT NOT NULL,
    slot            TEXT NOT NULL,
    key_id          TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    PRIMARY KEY (manifest_head, slot)
);
CREATE TABLE certificates (
    serial            BLOB PRIMARY KEY,
    key_id            TEXT NOT NULL REFERENCES keys(key_id),
    certificate       BLOB NOT NULL,
    issued_ms         INTEGER NOT NULL,
    revoked_ms        INTEGER,
    revocation_reason TEXT
);
CREATE TABLE audit (
    seq       INTEGER PRIMARY KEY,
    at_ms     INTEGER NOT NULL,
    kind      TEXT NOT NULL,
    key_id    TEXT,
    actor     TEXT NOT NULL,
    client    TEXT NOT NULL,
    detail    TEXT NOT NULL,
    prev_hash BLOB NOT NULL,
    hash      BLOB NOT NULL
);
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
    BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
    BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
CREATE INDEX audit_by_key ON audit (key_id, seq);
CREATE TABLE audit_checkpoints (
    seq       INTEGER PRIMARY KEY,
    head_hash TEXT NOT NULL,
    at_ms     INTEGER NOT NULL,
    signature TEXT NOT NULL
);
CREATE TRIGGER checkpoints_no_update BEFORE UPDATE ON audit_checkpoints
    BEGIN SELECT RAISE(ABORT, 'checkpoints are append-only'); END;
CREATE TRIGGER checkpoints_no_delete BEFORE DELETE ON audit_checkpoints
    BEGIN SELECT RAISE(ABORT, 'checkpoints are append-only'); END;
CREATE TABLE settings (
    name  TEXT PRIMARY KEY,
    value BLOB NOT NULL
);
"#;

/// The default store.
pub struct SqliteStore {
    conn: Mutex<Connection>,
    /// The WAL file to fsync after durable writes (`None` in memory).
    wal: Option<PathBuf>,
    wal_file: Mutex<Option<std::sync::Arc<std::fs::File>>>,
    /// Group commit: writers wait for one fsync that covers them.
    syncs: Mutex<SyncState>,
    /// Request nonces seen by this process.
    pub(super) nonces: Mutex<super::sqlite_access::NonceMemory>,
    synced: std::sync::Condvar,
}

/// Which durable writes the WAL fsyncs have covered.
#[derive(Debug, Default)]
struct SyncState {
    /// Durable writes committed so far (each takes the next number after its commit).
    committed: u64,
    /// Every write up to this number is on disk.
    on_disk: u64,
    /// An fsync is running.
    syncing: bool,
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

/// An `IssuedCertificate` from `serial, key_id, issued_ms, revoked_ms, revocation_reason`.
fn issued_certificate_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<IssuedCertificate> {
    Ok(IssuedCertificate {
        serial: r.get(0)?,
        key_id: r.get(1)?,
        issued_ms: r.get::<_, i64>(2)? as u64,
        revoked_ms: r.get::<_, Option<i64>>(3)?.map(|v| v as u64),
        revocation_reason: r.get(4)?,
    })
}

pub(crate) fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// A time or count as SQLite's signed integer.
pub(super) fn int(v: u64) -> i64 {
    v.min(i64::MAX as u64) as i64
}

impl SqliteStore {
    /// The idempotent answer stored in `table` for `(key_id, idempotency_key)`.
    pub(super) fn find_answer(
        &self,
        table: super::AnswerTable,
        key_id: &str,
        idempotency_key: &str,
    ) -> Result<Option<StoredSignature>, StoreError> {
        self.with(|c| {
            c.prepare_cached(table.find_sql(false))
                .and_then(|mut st| {
                    st.query_row([key_id, idempotency_key], stored_signature)
                        .optional()
                })
                .map_err(backend)
        })
    }

    /// Open (or create) the database file and apply the schema.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let conn = Connection::open(path).map_err(backend)?;
        let mut wal = path.as_os_str().to_owned();
        wal.push("-wal");
        Self::init(conn, Some(PathBuf::from(wal)))
    }

    /// INSECURE, for measuring what durability costs (`inkseal bench cosign
    /// --insecure-no-fsync`): like [`SqliteStore::open`] but nothing is synced to disk, so an
    /// answered request may be lost on a power failure.
    pub fn open_without_fsync_insecure(path: &Path) -> Result<Self, StoreError> {
        let conn = Connection::open(path).map_err(backend)?;
        Self::init(conn, None)
    }

    /// A private in-memory database (tests).
    pub fn in_memory() -> Result<Self, StoreError> {
        Self::init(Connection::open_in_memory().map_err(backend)?, None)
    }

    fn init(conn: Connection, wal: Option<PathBuf>) -> Result<Self, StoreError> {
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(backend)?;
        // NORMAL, plus an fsync of the WAL after each durable write (see the module docs).
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(backend)?;
        conn.pragma_update(None, "foreign_keys", "ON")
            .map_err(backend)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(backend)?;
        let version: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(backend)?;
        let tables: i64 = conn
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table'",
                [],
                |r| r.get(0),
            )
            .map_err(backend)?;
        match (version, tables) {
            (2..=SCHEMA_VERSION, _) => {
                let mut conn = conn;
                let tx = conn.transaction().map_err(backend)?;
                // Additive: seals came after schema version 2 (the table in its first shape;
                // schema 6 extends it).
                tx.execute_batch(super::sqlite_seals::SEAL_SCHEMA)
                    .map_err(backend)?;
                if version == 2 {
                    tx.execute_batch(MIGRATE_2_TO_3).map_err(backend)?;
                }
                if version <= 3 {
                    tx.execute_batch(super::sqlite_login::MIGRATE_3_TO_4)
                        .map_err(backend)?;
                }
                if version <= 4 {
                    tx.execute_batch(super::sqlite_decrypt::MIGRATE_4_TO_5)
                        .map_err(backend)?;
                }
                if version <= 5 {
                    tx.execute_batch(MIGRATE_5_TO_6).map_err(backend)?;
                }
                if version <= 6 {
                    tx.execute_batch(super::sqlite_p256::MIGRATE_6_TO_7)
                        .map_err(backend)?;
                }
                if version <= 7 {
                    tx.execute_batch(super::sqlite_p256::MIGRATE_7_TO_8)
                        .map_err(backend)?;
                }
                if version <= 8 {
                    tx.execute_batch(super::sqlite_p256::MIGRATE_8_TO_9)
                        .map_err(backend)?;
                }
                tx.commit().map_err(backend)?;
                Ok(Self::with_connection(conn, wal))
            }
            (0, 0) => {
                let mut conn = conn;
                let tx = conn.transaction().map_err(backend)?;
                tx.execute_batch(SCHEMA).map_err(backend)?;
                tx.execute_batch(super::sqlite_evidence::EVIDENCE_SCHEMA)
                    .map_err(backend)?;
                tx.execute_batch(super::sqlite_access::ACCESS_SCHEMA)
                    .map_err(backend)?;
                tx.execute_batch(super::sqlite_seals::SEAL_SCHEMA)
                    .map_err(backend)?;
                tx.pragma_update(None, "user_version", 2).map_err(backend)?;
                tx.execute_batch(MIGRATE_2_TO_3).map_err(backend)?;
                tx.execute_batch(super::sqlite_login::MIGRATE_3_TO_4)
                    .map_err(backend)?;
                tx.execute_batch(super::sqlite_decrypt::MIGRATE_4_TO_5)
                    .map_err(backend)?;
                tx.execute_batch(MIGRATE_5_TO_6).map_err(backend)?;
                tx.execute_batch(super::sqlite_p256::MIGRATE_6_TO_7)
                    .map_err(backend)?;
                tx.execute_batch(super::sqlite_p256::MIGRATE_7_TO_8)
                    .map_err(backend)?;
                tx.execute_batch(super::sqlite_p256::MIGRATE_8_TO_9)
                    .map_err(backend)?;
                tx.commit().map_err(backend)?;
                Ok(Self::with_connection(conn, wal))
            }
            (0, _) => Err(StoreError::Incompatible(
                "this database was made by inkseal 0.1, whose keys have no device keys and \
                 whose audit entries use the v1 format; start the server with a new data \
                 directory and enroll the users again"
                    .into(),
            )),
            (other, _) => Err(StoreError::Incompatible(format!(
                "database schema version {other} is not {SCHEMA_VERSION}: use the inkseal \
                 version that made it"
            ))),
        }
    }

    fn with_connection(conn: Connection, wal: Option<PathBuf>) -> Self {
        SqliteStore {
            conn: Mutex::new(conn),
            wal,
            wal_file: Mutex::new(None),
            syncs: Mutex::default(),
            synced: std::sync::Condvar::new(),
            nonces: Mutex::new(super::sqlite_access::NonceMemory::new()),
        }
    }

    /// Runs `write` and appends `audit` in one transaction, committed only when `write`
    /// succeeds. Map `write`'s statements with [`sql`].
    pub(super) fn write_audited<T>(
        &self,
        audit: &AuditEvent,
        write: impl FnOnce(&Transaction<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        self.durable(|c| {
            let tx = c
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(backend)?;
            let value = write(&tx)?;
            append(&tx, audit)?;
            tx.commit().map_err(backend)?;
            Ok(value)
        })
    }

    /// [`SqliteStore::with`], then the WAL synced to disk (outside the connection's mutex).
    pub(super) fn durable<T>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let value = self.with(f)?;
        self.sync_wal()?;
        Ok(value)
    }

    /// Returns once every commit made before this call is on disk. Group commit: while one
    /// writer runs an fsync of the WAL, the others wait for the next one, which covers them
    /// all, so a burst of signatures costs a few fsyncs, not one each.
    fn sync_wal(&self) -> Result<(), StoreError> {
        let Some(path) = &self.wal else {
            return Ok(());
        };
        let poisoned = || StoreError::Backend("WAL sync state poisoned".into());
        let mut state = self.syncs.lock().map_err(|_| poisoned())?;
        state.committed += 1;
        let mine = state.committed;
        loop {
            if state.on_disk >= mine {
                return Ok(());
            }
            if state.syncing {
                state = self.synced.wait(state).map_err(|_| poisoned())?;
                continue;
            }
            // This writer runs the next fsync; it covers every commit numbered so far.
            state.syncing = true;
            let covers = state.committed;
            drop(state);
            let result = self.wal_handle(path).and_then(|file| match file {
                Some(f) => f
                    .sync_data()
                    .map_err(|e| StoreError::Backend(format!("cannot sync the WAL: {e}"))),
                None => Ok(()),
            });
            state = self.syncs.lock().map_err(|_| poisoned())?;
            state.syncing = false;
            if result.is_ok() {
                state.on_disk = state.on_disk.max(covers);
            }
            self.synced.notify_all();
            result?;
        }
    }

    /// The WAL file, opened once (`None` before anything was committed in WAL mode).
    fn wal_handle(&self, path: &Path) -> Result<Option<std::sync::Arc<std::fs::File>>, StoreError> {
        let mut guard = self
            .wal_file
            .lock()
            .map_err(|_| StoreError::Backend("WAL handle poisoned".into()))?;
        if let Some(f) = &*guard {
            return Ok(Some(f.clone()));
        }
        match std::fs::File::open(path) {
            Ok(f) => {
                let f = std::sync::Arc::new(f);
                *guard = Some(f.clone());
                Ok(Some(f))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(StoreError::Backend(format!("WAL: {e}"))),
        }
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

/// Append one audit entry inside a transaction, chaining it to the last one: `seq = head.seq +
/// 1`, `prev_hash = head.hash` under the `seq` primary key, the shape the PostgreSQL store uses.
/// Every write transaction is `BEGIN IMMEDIATE`, so SQLite's own write lock (not this process's
/// mutex) orders appends: a second process on the same file waits (busy timeout) and then reads
/// the new head.
pub(super) fn append(tx: &Transaction<'_>, event: &AuditEvent) -> Result<(), StoreError> {
    let (seq, prev) = match head(tx)? {
        Some((seq, hash)) => (seq + 1, hash),
        None => (1u64, GENESIS),
    };
    let at = now_ms();
    let detail = event.detail.to_string();
    let kind = event.kind.as_str();
    let hash = entry_hash(
        &prev,
        seq,
        at,
        EntryFields {
            kind,
            key_id: event.key_id.as_deref(),
            actor: &event.actor,
            client: &event.client,
            detail: &detail,
        },
    );
    tx.prepare_cached(
        "INSERT INTO audit (seq, at_ms, kind, key_id, actor, client, detail, prev_hash, hash)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )
    .and_then(|mut st| {
        st.execute(params![
            int(seq),
            int(at),
            kind,
            event.key_id,
            event.actor,
            event.client,
            detail,
            &prev[..],
            &hash[..]
        ])
    })
    .map_err(backend)?;
    Ok(())
}

fn head(c: &Connection) -> Result<Option<(u64, [u8; 32])>, StoreError> {
    let last: Option<(i64, Vec<u8>)> = c
        .prepare_cached("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1")
        .and_then(|mut st| st.query_row([], |r| Ok((r.get(0)?, r.get(1)?))).optional())
        .map_err(backend)?;
    match last {
        None => Ok(None),
        Some((seq, hash)) => {
            let hash: [u8; 32] = hash
                .try_into()
                .map_err(|_| StoreError::Backend("corrupt audit hash".into()))?;
            Ok(Some((seq as u64, hash)))
        }
    }
}

/// The columns [`audit_from_row`] reads.
pub(super) const AUDIT_COLUMNS: &str =
    "seq, at_ms, kind, key_id, actor, client, detail, prev_hash, hash";

/// An audit row ([`AUDIT_COLUMNS`]).
pub(super) fn audit_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<AuditEntry> {
    Ok(AuditEntry {
        lane: MAIN_LANE.to_owned(),
        seq: r.get::<_, i64>(0)? as u64,
        at_ms: r.get::<_, i64>(1)? as u64,
        kind: r.get(2)?,
        key_id: r.get(3)?,
        actor: r.get(4)?,
        client: r.get(5)?,
        detail: r.get(6)?,
        prev_hash: hex::encode(r.get::<_, Vec<u8>>(7)?),
        hash: hex::encode(r.get::<_, Vec<u8>>(8)?),
    })
}

/// A checkpoint stored in the one-lane form (`audit_checkpoints`: sequence, head, time,
/// signature), the form every SQLite checkpoint and PostgreSQL's before lanes have.
pub(super) fn v1_checkpoint(
    seq: u64,
    head_hash: String,
    at_ms: u64,
    signature_hex: String,
) -> Checkpoint {
    Checkpoint {
        format: CheckpointFormat::V1,
        heads: vec![LaneHead {
            lane: MAIN_LANE.to_owned(),
            seq,
            head_hash,
        }],
        at_ms,
        signature_hex,
    }
}

const KEY_COLUMNS: &str = "key_id, user_id, certificate_name, ticket_id, public_key, \
    device_public_key, device_attestation, id_binding, sealed_share, sealed_pin, pin_salt, \
    pin_failures, locked, revoked_ms, certificate, purpose, curve";

fn key_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<KeyRecord> {
    Ok(KeyRecord {
        key_id: r.get(0)?,
        user_id: r.get(1)?,
        certificate_name: r.get(2)?,
        ticket_id: r.get(3)?,
        public_key: r.get(4)?,
        device_public_key: r.get(5)?,
        device_attestation: r.get(6)?,
        id_binding: r.get(7)?,
        sealed_share: r.get(8)?,
        sealed_pin: r.get(9)?,
        pin_salt: r.get(10)?,
        pin_failures: r.get(11)?,
        locked: r.get::<_, i64>(12)? != 0,
        revoked: r.get::<_, Option<i64>>(13)?.is_some(),
        certificate: r.get(14)?,
        purpose: purpose_from_column(&r.get::<_, String>(15)?),
        curve: curve_from_column(&r.get::<_, String>(16)?),
    })
}

/// A key's purpose as stored; a name this build does not know is taken for encryption, the
/// purpose that signs nothing.
/// A key's curve as stored; a name this build does not know is refused when the key is
/// used (read as P-256, whose routes check the stored share).
pub(super) fn curve_from_column(name: &str) -> super::KeyCurve {
    super::KeyCurve::parse(name).unwrap_or(super::KeyCurve::P256)
}

pub(super) fn purpose_from_column(name: &str) -> super::KeyPurpose {
    super::KeyPurpose::parse(name).unwrap_or(super::KeyPurpose::Encryption)
}

pub(super) fn stored_signature(r: &rusqlite::Row<'_>) -> rusqlite::Result<StoredSignature> {
    Ok(StoredSignature {
        request_hash: r.get(0)?,
        response: r.get(1)?,
    })
}

impl Store for SqliteStore {
    fn insert_key(
        &self,
        key: &KeyRecord,
        now_ms: u64,
        audit: &AuditEvent,
    ) -> Result<(), StoreError> {
        self.write_audited(audit, |tx| {
            // The ticket is consumed in the same transaction: one key per ticket, ever.
            let used = sql(tx.execute(
                "UPDATE tickets SET used_ms = ?2, key_id = ?3
                 WHERE ticket_id = ?1 AND used_ms IS NULL AND expires_ms >= ?2",
                params![key.ticket_id, int(now_ms), key.key_id],
            ))?;
            if used != 1 {
                return Err(StoreError::Conflict);
            }
            sql(tx.execute(
                "INSERT INTO keys (key_id, user_id, certificate_name, ticket_id, public_key,
                                   device_public_key, device_attestation, id_binding,
                                   sealed_share, sealed_pin, pin_salt, pin_failures, locked,
                                   revoked_ms, certificate, created_ms, purpose, curve)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, 0, 0, NULL, NULL, ?12,
                         ?13, ?14)",
                params![
                    key.key_id,
                    key.user_id,
                    key.certificate_name,
                    key.ticket_id,
                    key.public_key,
                    key.device_public_key,
                    key.device_attestation,
                    key.id_binding,
                    key.sealed_share,
                    key.sealed_pin,
                    key.pin_salt,
                    int(now_ms),
                    key.purpose.as_str(),
                    key.curve.as_str()
                ],
            ))
            .map(|_| ())
        })
    }

    fn get_key(&self, key_id: &str) -> Result<Option<KeyRecord>, StoreError> {
        self.with(|c| {
            c.prepare_cached(&format!("SELECT {KEY_COLUMNS} FROM keys WHERE key_id = ?1"))
                .and_then(|mut st| st.query_row([key_id], key_from_row).optional())
                .map_err(backend)
        })
    }

    fn check_pin(
        &self,
        key_id: &str,
        sealed_pin: &[u8],
        max_failures: u32,
        compare: &mut dyn FnMut() -> bool,
        audit: &AuditEvent,
    ) -> Result<PinCheck, StoreError> {
        let mut audited = false;
        let check = self.with(|c| {
            // The write lock is taken before the state is read: a second handle on this file
            // (another process) waits here, so the compare and its record are one step.
            let tx = c
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(backend)?;
            let state = tx
                .prepare_cached(
                    "SELECT pin_failures, locked, revoked_ms IS NOT NULL, sealed_pin = ?2
                     FROM keys WHERE key_id = ?1",
                )
                .and_then(|mut st| {
                    st.query_row(params![key_id, sealed_pin], |r| {
                        Ok(PinState {
                            failures: r.get(0)?,
                            locked: r.get::<_, i64>(1)? != 0,
                            revoked: r.get::<_, i64>(2)? != 0,
                            current: r.get::<_, i64>(3)? != 0,
                        })
                    })
                    .optional()
                })
                .map_err(backend)?;
            let check = check_pin_in(state, max_failures, compare, audit, &mut |w: PinWrite| {
                tx.prepare_cached(
                    "UPDATE keys SET pin_failures = ?2, locked = ?3 WHERE key_id = ?1",
                )
                .and_then(|mut st| st.execute(params![key_id, w.failures, i64::from(w.locked)]))
                .map_err(backend)?;
                for entry in &w.entries {
                    append(&tx, entry)?;
                }
                audited |= !w.entries.is_empty();
                Ok::<_, StoreError>(())
            })?;
            // A right PIN on a key without failures changed nothing: this commit writes no page.
            tx.commit().map_err(backend)?;
            Ok(check)
        })?;
        if audited {
            self.sync_wal()?;
        }
        Ok(check)
    }

    fn set_pin(
        &self,
        key_id: &str,
        sealed_pin: &[u8],
        pin_salt: &[u8],
        audit: &AuditEvent,
    ) -> Result<(), StoreError> {
        self.write_audited(audit, |tx| {
            let changed = sql(tx.execute(
                "UPDATE keys SET sealed_pin = ?2, pin_salt = ?3
                 WHERE key_id = ?1 AND revoked_ms IS NULL",
                params![key_id, sealed_pin, pin_salt],
            ))?;
            if changed == 0 {
                return Err(StoreError::NotFound);
            }
            Ok(())
        })
    }

    fn unlock(&self, key_id: &str, audit: &AuditEvent) -> Result<(), StoreError> {
        self.write_audited(audit, |tx| {
            let changed = sql(tx.execute(
                "UPDATE keys SET locked = 0, pin_failures = 0, p256_session_failures = 0
                 WHERE key_id = ?1 AND locked = 1 AND revoked_ms IS NULL",
                [key_id],
            ))?;
            if changed == 0 {
                return Err(StoreError::NotFound);
            }
            Ok(())
        })
    }

    fn revoke(
        &self,
        key_id: &str,
        reason: &str,
        now_ms: u64,
        audit: &AuditEvent,
    ) -> Result<(), StoreError> {
        self.write_audited(audit, |tx| {
            let changed = sql(tx.execute(
                "UPDATE keys SET revoked_ms = ?2 WHERE key_id = ?1 AND revoked_ms IS NULL",
                params![key_id, int(now_ms)],
            ))?;
            if changed == 0 {
                return Err(StoreError::NotFound);
            }
            sql(tx.execute(
                "UPDATE certificates SET revoked_ms = ?2, revocation_reason = ?3
                 WHERE key_id = ?1 AND revoked_ms IS NULL",
                params![key_id, int(now_ms), reason],
            ))?;
            Ok(())
        })
    }

    fn find_signature(
        &self,
        key_id: &str,
        idempotency_key: &str,
    ) -> Result<Option<StoredSignature>, StoreError> {
        self.find_answer(super::AnswerTable::Signatures, key_id, idempotency_key)
    }

    fn record_signature(
        &self,
        sig: &NewSignature,
        audit: &AuditEvent,
    ) -> Result<Recorded, StoreError> {
        self.durable(|c| {
            let tx = c
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(backend)?;
            let res = tx
                .prepare_cached(
                    "INSERT INTO signatures (key_id, idempotency_key, request_hash, response, e,
                                             message_kind, document_digest, evidence_head,
                                             created_ms)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                )
                .and_then(|mut st| {
                    st.execute(params![
                        sig.key_id,
                        sig.idempotency_key,
                        sig.request_hash,
                        sig.response,
                        sig.e,
                        sig.message_kind,
                        sig.document_digest,
                        sig.evidence_head,
                        int(now_ms())
                    ])
                });
            match res {
                Err(e) if is_unique_violation(&e) => {
                    let existing = tx
                        .query_row(
                            "SELECT request_hash, response FROM signatures
                             WHERE key_id = ?1 AND idempotency_key = ?2",
                            [&sig.key_id, &sig.idempotency_key],
                            stored_signature,
                        )
                        .map_err(backend)?;
                    return Ok(Recorded::Existing(existing));
                }
                Err(e) => return Err(backend(e)),
                Ok(_) => {}
            }
            if let Some(u) = &sig.evidence_use {
                let taken = tx.execute(
                    "INSERT INTO evidence_uses (manifest_head, slot, key_id, idempotency_key)
                     VALUES (?1, ?2, ?3, ?4)",
                    params![u.manifest_head, u.slot, sig.key_id, sig.idempotency_key],
                );
                match taken {
                    Err(e) if is_unique_violation(&e) => return Ok(Recorded::EvidenceUsed),
                    Err(e) => return Err(backend(e)),
                    Ok(_) => {}
                }
            }
            append(&tx, audit)?;
            tx.commit().map_err(backend)?;
            Ok(Recorded::Inserted)
        })
    }

    fn record_certificate(
        &self,
        key_id: &str,
        serial: &[u8],
        certificate: &[u8],
        audit: &AuditEvent,
    ) -> Result<(), StoreError> {
        self.write_audited(audit, |tx| {
            let changed = sql(tx.execute(
                "UPDATE keys SET certificate = ?2 WHERE key_id = ?1 AND revoked_ms IS NULL",
                params![key_id, certificate],
            ))?;
            if changed == 0 {
                return Err(StoreError::NotFound);
            }
            sql(tx.execute(
                "INSERT INTO certificates (serial, key_id, certificate, issued_ms)
                 VALUES (?1, ?2, ?3, ?4)",
                params![serial, key_id, certificate, int(now_ms())],
            ))?;
            Ok(())
        })
    }

    fn revoked_certificates(&self) -> Result<Vec<IssuedCertificate>, StoreError> {
        self.with(|c| {
            let mut st = c
                .prepare_cached(
                    "SELECT serial, key_id, issued_ms, revoked_ms, revocation_reason
                     FROM certificates WHERE revoked_ms IS NOT NULL ORDER BY revoked_ms, serial",
                )
                .map_err(backend)?;
            let rows = st.query_map([], issued_certificate_row).map_err(backend)?;
            rows.collect::<Result<Vec<_>, _>>().map_err(backend)
        })
    }

    fn issued_certificate(&self, serial: &[u8]) -> Result<Option<IssuedCertificate>, StoreError> {
        self.with(|c| {
            c.prepare_cached(
                "SELECT serial, key_id, issued_ms, revoked_ms, revocation_reason
                 FROM certificates WHERE serial = ?1",
            )
            .map_err(backend)?
            .query_row([serial], issued_certificate_row)
            .optional()
            .map_err(backend)
        })
    }

    fn append_audit(&self, audit: &AuditEvent) -> Result<(), StoreError> {
        self.durable(|c| {
            let tx = c
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(backend)?;
            append(&tx, audit)?;
            tx.commit().map_err(backend)
        })
    }

    fn audit_entries(
        &self,
        lane: &str,
        from: u64,
        limit: u32,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        // One lane: SQLite's write lock orders every append (see `append`).
        if lane != MAIN_LANE {
            return Ok(Vec::new());
        }
        self.with(|c| {
            let mut st = c
                .prepare_cached(&format!(
                    "SELECT {AUDIT_COLUMNS} FROM audit WHERE seq >= ?1 ORDER BY seq LIMIT ?2"
                ))
                .map_err(backend)?;
            let rows = st
                .query_map(params![int(from), limit], audit_from_row)
                .map_err(backend)?;
            rows.collect::<Result<Vec<_>, _>>().map_err(backend)
        })
    }

    fn audit_heads(&self) -> Result<Vec<LaneHead>, StoreError> {
        Ok(self
            .with(|c| head(c))?
            .map(|(seq, hash)| LaneHead {
                lane: MAIN_LANE.to_owned(),
                seq,
                head_hash: hex::encode(hash),
            })
            .into_iter()
            .collect())
    }

    fn insert_checkpoint(&self, checkpoint: &Checkpoint) -> Result<(), StoreError> {
        let head = match (checkpoint.format, checkpoint.heads.as_slice()) {
            (CheckpointFormat::V1, [head]) if head.lane == MAIN_LANE => head,
            _ => {
                return Err(StoreError::Backend(
                    "a SQLite log is one lane: its checkpoints are v1".into(),
                ));
            }
        };
        self.durable(|c| {
            sql(c.execute(
                "INSERT INTO audit_checkpoints (seq, head_hash, at_ms, signature)
                 VALUES (?1, ?2, ?3, ?4)",
                params![
                    int(head.seq),
                    head.head_hash,
                    int(checkpoint.at_ms),
                    checkpoint.signature_hex
                ],
            ))
            .map(|_| ())
        })
    }

    fn checkpoints(&self) -> Result<Vec<Checkpoint>, StoreError> {
        self.with(|c| {
            let mut st = c
                .prepare_cached(
                    "SELECT seq, head_hash, at_ms, signature FROM audit_checkpoints ORDER BY seq",
                )
                .map_err(backend)?;
            let rows = st
                .query_map([], |r| {
                    Ok(v1_checkpoint(
                        r.get::<_, i64>(0)? as u64,
                        r.get(1)?,
                        r.get::<_, i64>(2)? as u64,
                        r.get(3)?,
                    ))
                })
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
        self.durable(|c| {
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

    fn put_setting(&self, name: &str, value: &[u8]) -> Result<(), StoreError> {
        self.durable(|c| {
            c.execute(
                "INSERT INTO settings (name, value) VALUES (?1, ?2)
                 ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                params![name, value],
            )
            .map(|_| ())
            .map_err(backend)
        })
    }

    fn next_counter(&self, name: &str) -> Result<u64, StoreError> {
        self.durable(|c| {
            let value: Vec<u8> = c
                .query_row(
                    "INSERT INTO settings (name, value) VALUES (?1, CAST('1' AS BLOB))
                     ON CONFLICT (name) DO UPDATE
                         SET value = CAST(CAST(CAST(value AS TEXT) AS INTEGER) + 1 AS TEXT)
                     RETURNING CAST(value AS BLOB)",
                    [name],
                    |r| r.get(0),
                )
                .map_err(backend)?;
            std::str::from_utf8(&value)
                .ok()
                .and_then(|s| s.parse().ok())
                .ok_or_else(|| StoreError::Backend(format!("counter {name} is corrupt")))
        })
    }
}
