//! [`SealStore`] for [`SqliteStore`].

use super::KeyPurpose;
use super::seals::{SealKeyKind, SealRecord, SealStore};
use super::sqlite::{append, backend, int, sql};
use super::{SqliteStore, StoreError};
use crate::audit::AuditEvent;
use rusqlite::{OptionalExtension, TransactionBehavior, params};

/// The seals table. Applied to every database at open (`IF NOT EXISTS`): it only adds, so a
/// database made before seals existed keeps its schema version.
pub(super) const SEAL_SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS seals (
    seal_id            TEXT PRIMARY KEY,
    institution        TEXT NOT NULL,
    credit_code        TEXT NOT NULL,
    purpose            TEXT NOT NULL,
    algorithm          TEXT NOT NULL,
    key_kind           TEXT NOT NULL,
    key_ref            TEXT NOT NULL,
    sealed_key         BLOB,
    public_key         BLOB NOT NULL,
    certificate        BLOB NOT NULL,
    issuer_certificate BLOB NOT NULL,
    serial             BLOB NOT NULL UNIQUE,
    created_ms         INTEGER NOT NULL,
    disabled_ms        INTEGER
);
CREATE TRIGGER IF NOT EXISTS seals_no_delete BEFORE DELETE ON seals
    BEGIN SELECT RAISE(ABORT, 'seals are kept: disable them'); END;
"#;

const SEAL_COLUMNS: &str = "seal_id, institution, credit_code, purpose, algorithm, key_kind, \
    key_ref, sealed_key, public_key, certificate, issuer_certificate, serial, created_ms, \
    disabled_ms, key_purpose";

fn seal_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<SealRecord> {
    let kind: String = r.get(5)?;
    Ok(SealRecord {
        seal_id: r.get(0)?,
        institution: r.get(1)?,
        credit_code: r.get(2)?,
        purpose: r.get(3)?,
        algorithm: r.get(4)?,
        key_kind: SealKeyKind::parse(&kind).ok_or_else(|| {
            rusqlite::Error::FromSqlConversionFailure(
                5,
                rusqlite::types::Type::Text,
                format!("unknown seal key kind {kind:?}").into(),
            )
        })?,
        key_ref: r.get(6)?,
        sealed_key: r.get(7)?,
        public_key: r.get(8)?,
        certificate: r.get(9)?,
        issuer_certificate: r.get(10)?,
        serial: r.get(11)?,
        created_ms: r.get::<_, i64>(12)? as u64,
        disabled_ms: r.get::<_, Option<i64>>(13)?.map(|v| v as u64),
        key_purpose: {
            let purpose: String = r.get(14)?;
            KeyPurpose::parse(&purpose).ok_or_else(|| {
                rusqlite::Error::FromSqlConversionFailure(
                    14,
                    rusqlite::types::Type::Text,
                    format!("unknown seal key purpose {purpose:?}").into(),
                )
            })?
        },
    })
}

impl SqliteStore {
    fn one_seal(
        &self,
        column: &str,
        value: &dyn rusqlite::ToSql,
    ) -> Result<Option<SealRecord>, StoreError> {
        self.with(|c| {
            c.prepare_cached(&format!(
                "SELECT {SEAL_COLUMNS} FROM seals WHERE {column} = ?1"
            ))
            .and_then(|mut st| st.query_row([value], seal_from_row).optional())
            .map_err(backend)
        })
    }
}

impl SealStore for SqliteStore {
    fn insert_seal(&self, seal: &SealRecord, audit: &AuditEvent) -> Result<(), StoreError> {
        self.write_audited(audit, |tx| {
            sql(tx.execute(
                &format!(
                    "INSERT INTO seals ({SEAL_COLUMNS})
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, NULL, ?14)"
                ),
                params![
                    seal.seal_id,
                    seal.institution,
                    seal.credit_code,
                    seal.purpose,
                    seal.algorithm,
                    seal.key_kind.as_str(),
                    seal.key_ref,
                    seal.sealed_key,
                    seal.public_key,
                    seal.certificate,
                    seal.issuer_certificate,
                    seal.serial,
                    int(seal.created_ms),
                    seal.key_purpose.as_str()
                ],
            ))
            .map(|_| ())
        })
    }

    fn get_seal(&self, seal_id: &str) -> Result<Option<SealRecord>, StoreError> {
        self.one_seal("seal_id", &seal_id)
    }

    fn list_seals(&self) -> Result<Vec<SealRecord>, StoreError> {
        self.with(|c| {
            let mut st = c
                .prepare(&format!(
                    "SELECT {SEAL_COLUMNS} FROM seals ORDER BY created_ms, seal_id"
                ))
                .map_err(backend)?;
            let rows = st.query_map([], seal_from_row).map_err(backend)?;
            rows.collect::<Result<Vec<_>, _>>().map_err(backend)
        })
    }

    fn seal_by_serial(&self, serial: &[u8]) -> Result<Option<SealRecord>, StoreError> {
        self.one_seal("serial", &serial)
    }

    fn disable_seal(
        &self,
        seal_id: &str,
        now_ms: u64,
        audit: &AuditEvent,
    ) -> Result<(), StoreError> {
        self.write_audited(audit, |tx| {
            let changed = sql(tx.execute(
                "UPDATE seals SET disabled_ms = ?2 WHERE seal_id = ?1 AND disabled_ms IS NULL",
                params![seal_id, int(now_ms)],
            ))?;
            if changed == 0 {
                return Err(StoreError::NotFound);
            }
            Ok(())
        })
    }

    fn record_seal_uses(&self, seal_id: &str, audit: &[AuditEvent]) -> Result<(), StoreError> {
        self.durable(|c| {
            let tx = c
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(backend)?;
            let enabled: Option<i64> = tx
                .query_row(
                    "SELECT 1 FROM seals WHERE seal_id = ?1 AND disabled_ms IS NULL",
                    [seal_id],
                    |r| r.get(0),
                )
                .optional()
                .map_err(backend)?;
            if enabled.is_none() {
                return Err(StoreError::NotFound);
            }
            for event in audit {
                append(&tx, event)?;
            }
            tx.commit().map_err(backend)
        })
    }
}
