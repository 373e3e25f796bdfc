//! [`EvidenceStore`] for [`SqliteStore`].

use super::evidence::{
    ChallengeRecord, EvidenceRecord, EvidenceStore, SignatureSummary, SigningPolicy,
};
use super::sqlite::{AUDIT_COLUMNS, audit_from_row, backend, int, now_ms, sql};
use super::{SqliteStore, StoreError};
use crate::audit::{AuditEntry, AuditEvent};
use rusqlite::{OptionalExtension, params};

/// Tables for challenges, evidence and policies (applied with the main schema).
pub(super) const EVIDENCE_SCHEMA: &str = r#"
CREATE TABLE liveness_challenges (
    challenge_id   TEXT PRIMARY KEY,
    key_id         TEXT NOT NULL REFERENCES keys(key_id),
    challenge_json TEXT NOT NULL,
    expires_ms     INTEGER NOT NULL,
    issued_ms      INTEGER NOT NULL,
    used_ms        INTEGER
);
CREATE INDEX challenges_by_key ON liveness_challenges (key_id, expires_ms);
CREATE INDEX challenges_by_expiry ON liveness_challenges (expires_ms);
-- A challenge that evidence answered is part of that evidence: never deleted.
CREATE TRIGGER challenges_keep_answered BEFORE DELETE ON liveness_challenges
    WHEN EXISTS (SELECT 1 FROM evidence WHERE challenge_id = OLD.challenge_id)
    BEGIN SELECT RAISE(ABORT, 'answered challenges are kept as evidence'); END;
CREATE TABLE evidence (
    challenge_id     TEXT PRIMARY KEY REFERENCES liveness_challenges(challenge_id),
    key_id           TEXT NOT NULL REFERENCES keys(key_id),
    manifest_head    TEXT NOT NULL UNIQUE,
    manifest_json    TEXT NOT NULL,
    passed           INTEGER NOT NULL,
    reason           TEXT NOT NULL,
    vendor_name      TEXT NOT NULL,
    vendor_reference TEXT NOT NULL,
    id_number_masked TEXT,
    received_ms      INTEGER NOT NULL,
    document_digests TEXT NOT NULL
);
CREATE TRIGGER evidence_no_update BEFORE UPDATE ON evidence
    BEGIN SELECT RAISE(ABORT, 'evidence is append-only'); END;
CREATE TRIGGER evidence_no_delete BEFORE DELETE ON evidence
    BEGIN SELECT RAISE(ABORT, 'evidence is append-only'); END;
CREATE TABLE signing_policies (
    key_id                TEXT PRIMARY KEY REFERENCES keys(key_id),
    require_liveness      INTEGER NOT NULL,
    max_evidence_age_secs INTEGER NOT NULL,
    allow_batch           INTEGER NOT NULL
);
"#;

const EVIDENCE_COLUMNS: &str = "challenge_id, key_id, manifest_head, manifest_json, passed, \
    reason, vendor_name, vendor_reference, id_number_masked, received_ms, document_digests";

fn evidence_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<EvidenceRecord> {
    Ok(EvidenceRecord {
        challenge_id: r.get(0)?,
        key_id: r.get(1)?,
        manifest_head: r.get(2)?,
        manifest_json: r.get(3)?,
        passed: r.get::<_, i64>(4)? != 0,
        reason: r.get(5)?,
        vendor_name: r.get(6)?,
        vendor_reference: r.get(7)?,
        id_number_masked: r.get(8)?,
        received_ms: r.get::<_, i64>(9)? as u64,
        document_digests: serde_json::from_str(&r.get::<_, String>(10)?).map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(10, rusqlite::types::Type::Text, e.into())
        })?,
    })
}

const SIGNATURE_COLUMNS: &str =
    "idempotency_key, e, message_kind, document_digest, evidence_head, created_ms";

fn signature_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<SignatureSummary> {
    Ok(SignatureSummary {
        idempotency_key: r.get(0)?,
        e: r.get(1)?,
        message_kind: r.get(2)?,
        document_digest: hex::encode(r.get::<_, Vec<u8>>(3)?),
        evidence_head: r.get(4)?,
        created_ms: r.get::<_, i64>(5)? as u64,
    })
}

fn challenge_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ChallengeRecord> {
    Ok(ChallengeRecord {
        challenge_id: r.get(0)?,
        key_id: r.get(1)?,
        challenge_json: r.get(2)?,
        expires_ms: r.get::<_, i64>(3)? as u64,
    })
}

impl EvidenceStore for SqliteStore {
    fn insert_challenge(
        &self,
        challenge: &ChallengeRecord,
        audit: &AuditEvent,
    ) -> Result<(), StoreError> {
        self.write_audited(audit, |tx| {
            sql(tx.execute(
                "INSERT INTO liveness_challenges
                     (challenge_id, key_id, challenge_json, expires_ms, issued_ms, used_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, NULL)",
                params![
                    challenge.challenge_id,
                    challenge.key_id,
                    challenge.challenge_json,
                    int(challenge.expires_ms),
                    int(now_ms())
                ],
            ))
            .map(|_| ())
        })
    }

    fn insert_evidence(
        &self,
        evidence: &EvidenceRecord,
        audit: &AuditEvent,
    ) -> Result<(), StoreError> {
        let digests = serde_json::to_string(&evidence.document_digests)
            .map_err(|e| StoreError::Backend(e.to_string()))?;
        self.write_audited(audit, |tx| {
            let taken = sql(tx.execute(
                "UPDATE liveness_challenges SET used_ms = ?3
                 WHERE challenge_id = ?1 AND key_id = ?2 AND used_ms IS NULL",
                params![
                    evidence.challenge_id,
                    evidence.key_id,
                    int(evidence.received_ms)
                ],
            ))?;
            if taken != 1 {
                return Err(StoreError::Conflict);
            }
            sql(tx.execute(
                &format!(
                    "INSERT INTO evidence ({EVIDENCE_COLUMNS})
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"
                ),
                params![
                    evidence.challenge_id,
                    evidence.key_id,
                    evidence.manifest_head,
                    evidence.manifest_json,
                    i64::from(evidence.passed),
                    evidence.reason,
                    evidence.vendor_name,
                    evidence.vendor_reference,
                    evidence.id_number_masked,
                    int(evidence.received_ms),
                    digests
                ],
            ))
            .map(|_| ())
        })
    }

    fn find_evidence(
        &self,
        key_id: &str,
        manifest_head: &str,
    ) -> Result<Option<EvidenceRecord>, StoreError> {
        self.with(|c| {
            c.prepare_cached(&format!(
                "SELECT {EVIDENCE_COLUMNS} FROM evidence WHERE key_id = ?1 AND manifest_head = ?2"
            ))
            .and_then(|mut st| {
                st.query_row([key_id, manifest_head], evidence_from_row)
                    .optional()
            })
            .map_err(backend)
        })
    }

    fn get_challenge(
        &self,
        challenge_id: &str,
    ) -> Result<Option<(ChallengeRecord, bool)>, StoreError> {
        self.with(|c| {
            c.query_row(
                "SELECT challenge_id, key_id, challenge_json, expires_ms, used_ms IS NOT NULL
                 FROM liveness_challenges WHERE challenge_id = ?1",
                [challenge_id],
                |r| Ok((challenge_from_row(r)?, r.get::<_, i64>(4)? != 0)),
            )
            .optional()
            .map_err(backend)
        })
    }

    fn open_challenges(&self, key_id: &str, now_ms: u64) -> Result<u64, StoreError> {
        self.with(|c| {
            c.query_row(
                "SELECT count(*) FROM liveness_challenges
                 WHERE key_id = ?1 AND used_ms IS NULL AND expires_ms >= ?2",
                params![key_id, int(now_ms)],
                |r| r.get::<_, i64>(0),
            )
            .map(|n| n as u64)
            .map_err(backend)
        })
    }

    fn get_policy(&self, key_id: &str) -> Result<Option<SigningPolicy>, StoreError> {
        self.with(|c| {
            c.query_row(
                "SELECT require_liveness, max_evidence_age_secs, allow_batch
                 FROM signing_policies WHERE key_id = ?1",
                [key_id],
                |r| {
                    Ok(SigningPolicy {
                        require_liveness: r.get::<_, i64>(0)? != 0,
                        max_evidence_age_secs: r.get::<_, i64>(1)? as u64,
                        allow_batch: r.get::<_, i64>(2)? != 0,
                    })
                },
            )
            .optional()
            .map_err(backend)
        })
    }

    fn set_policy(
        &self,
        key_id: &str,
        policy: &SigningPolicy,
        audit: &AuditEvent,
    ) -> Result<(), StoreError> {
        let written = self.write_audited(audit, |tx| {
            sql(tx.execute(
                "INSERT INTO signing_policies (key_id, require_liveness, max_evidence_age_secs,
                                               allow_batch)
                 VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (key_id) DO UPDATE SET
                     require_liveness = excluded.require_liveness,
                     max_evidence_age_secs = excluded.max_evidence_age_secs,
                     allow_batch = excluded.allow_batch",
                params![
                    key_id,
                    i64::from(policy.require_liveness),
                    int(policy.max_evidence_age_secs),
                    i64::from(policy.allow_batch)
                ],
            ))
            .map(|_| ())
        });
        match written {
            // The only constraint left is the foreign key: no such key.
            Err(StoreError::Conflict) => Err(StoreError::NotFound),
            other => other,
        }
    }

    fn signatures_of(&self, key_id: &str, limit: u32) -> Result<Vec<SignatureSummary>, StoreError> {
        self.with(|c| {
            let mut st = c
                .prepare_cached(&format!(
                    "SELECT {SIGNATURE_COLUMNS} FROM signatures WHERE key_id = ?1
                     ORDER BY created_ms DESC, idempotency_key LIMIT ?2"
                ))
                .map_err(backend)?;
            let rows = st
                .query_map(params![key_id, limit], signature_from_row)
                .map_err(backend)?;
            rows.collect::<Result<Vec<_>, _>>().map_err(backend)
        })
    }

    fn get_signature(
        &self,
        key_id: &str,
        idempotency_key: &str,
    ) -> Result<Option<SignatureSummary>, StoreError> {
        self.with(|c| {
            c.query_row(
                &format!(
                    "SELECT {SIGNATURE_COLUMNS} FROM signatures
                     WHERE key_id = ?1 AND idempotency_key = ?2"
                ),
                [key_id, idempotency_key],
                signature_from_row,
            )
            .optional()
            .map_err(backend)
        })
    }

    fn audit_entries_for_key(
        &self,
        key_id: &str,
        limit: u32,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        self.with(|c| {
            let mut st = c
                .prepare_cached(&format!(
                    "SELECT {AUDIT_COLUMNS} FROM audit WHERE key_id = ?1 ORDER BY seq LIMIT ?2"
                ))
                .map_err(backend)?;
            let rows = st
                .query_map(params![key_id, limit], audit_from_row)
                .map_err(backend)?;
            rows.collect::<Result<Vec<_>, _>>().map_err(backend)
        })
    }
}
