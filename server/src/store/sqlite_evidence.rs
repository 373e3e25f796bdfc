//! [`EvidenceStore`] for [`SqliteStore`].

use super::evidence::{
    ChallengeRecord, EvidenceRecord, EvidenceStore, SignatureSummary, SigningPolicy, Taken,
};
use super::sqlite::{audit_from_row, backend, now_ms, sql};
use super::{SqliteStore, StoreError};
use crate::audit::{AuditEntry, AuditEvent};
use rusqlite::{OptionalExtension, params};

/// Tables for challenges, evidence and policies (applied with the main schema).
pub(super) const EVIDENCE_SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS liveness_challenges (
    challenge_id   TEXT PRIMARY KEY,
    key_id         TEXT NOT NULL REFERENCES keys(key_id),
    challenge_json TEXT NOT NULL,
    expires_ms     INTEGER NOT NULL,
    issued_ms      INTEGER NOT NULL,
    used_ms        INTEGER
);
CREATE TRIGGER IF NOT EXISTS challenges_no_delete BEFORE DELETE ON liveness_challenges
    BEGIN SELECT RAISE(ABORT, 'challenges are kept as evidence'); END;
CREATE TABLE IF NOT EXISTS evidence (
    challenge_id     TEXT PRIMARY KEY REFERENCES liveness_challenges(challenge_id),
    key_id           TEXT NOT NULL REFERENCES keys(key_id),
    manifest_head    TEXT NOT NULL UNIQUE,
    manifest_json    TEXT NOT NULL,
    passed           INTEGER NOT NULL,
    reason           TEXT NOT NULL,
    vendor_name      TEXT NOT NULL,
    vendor_reference TEXT NOT NULL,
    id_number_masked TEXT,
    received_ms      INTEGER NOT NULL
);
CREATE TRIGGER IF NOT EXISTS evidence_no_update BEFORE UPDATE ON evidence
    BEGIN SELECT RAISE(ABORT, 'evidence is append-only'); END;
CREATE TRIGGER IF NOT EXISTS evidence_no_delete BEFORE DELETE ON evidence
    BEGIN SELECT RAISE(ABORT, 'evidence is append-only'); END;
CREATE TABLE IF NOT EXISTS signing_policies (
    key_id                TEXT PRIMARY KEY REFERENCES keys(key_id),
    require_liveness      INTEGER NOT NULL,
    max_evidence_age_secs INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_by_key ON audit (key_id, seq);
"#;

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

const MS_MAX: u64 = i64::MAX as u64;

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
                    challenge.expires_ms.min(MS_MAX) as i64,
                    now_ms() as i64
                ],
            ))
            .map(|_| ())
        })
    }

    fn take_challenge(&self, challenge_id: &str) -> Result<Taken, StoreError> {
        self.with(|c| {
            let taken = c
                .query_row(
                    "UPDATE liveness_challenges SET used_ms = ?2
                     WHERE challenge_id = ?1 AND used_ms IS NULL
                     RETURNING challenge_id, key_id, challenge_json, expires_ms",
                    params![challenge_id, now_ms() as i64],
                    challenge_from_row,
                )
                .optional()
                .map_err(backend)?;
            if let Some(record) = taken {
                return Ok(Taken::Fresh(record));
            }
            let exists: bool = c
                .query_row(
                    "SELECT 1 FROM liveness_challenges WHERE challenge_id = ?1",
                    [challenge_id],
                    |_| Ok(true),
                )
                .optional()
                .map_err(backend)?
                .unwrap_or(false);
            Ok(if exists {
                Taken::AlreadyUsed
            } else {
                Taken::Unknown
            })
        })
    }

    fn insert_evidence(
        &self,
        evidence: &EvidenceRecord,
        audit: &AuditEvent,
    ) -> Result<(), StoreError> {
        self.write_audited(audit, |tx| {
            sql(tx.execute(
                "INSERT INTO evidence (challenge_id, key_id, manifest_head, manifest_json, passed,
                                       reason, vendor_name, vendor_reference, id_number_masked,
                                       received_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
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
                    evidence.received_ms.min(MS_MAX) as i64
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
            c.prepare_cached(
                "SELECT challenge_id, key_id, manifest_head, manifest_json, passed, reason,
                        vendor_name, vendor_reference, id_number_masked, received_ms
                 FROM evidence WHERE key_id = ?1 AND manifest_head = ?2",
            )
            .and_then(|mut st| {
                st.query_row([key_id, manifest_head], evidence_from_row)
                    .optional()
            })
            .map_err(backend)
        })
    }

    fn get_challenge(&self, challenge_id: &str) -> Result<Option<ChallengeRecord>, StoreError> {
        self.with(|c| {
            c.query_row(
                "SELECT challenge_id, key_id, challenge_json, expires_ms
                 FROM liveness_challenges WHERE challenge_id = ?1",
                [challenge_id],
                challenge_from_row,
            )
            .optional()
            .map_err(backend)
        })
    }

    fn get_policy(&self, key_id: &str) -> Result<Option<SigningPolicy>, StoreError> {
        self.with(|c| {
            c.query_row(
                "SELECT require_liveness, max_evidence_age_secs FROM signing_policies
                 WHERE key_id = ?1",
                [key_id],
                |r| {
                    Ok(SigningPolicy {
                        require_liveness: r.get::<_, i64>(0)? != 0,
                        max_evidence_age_secs: r.get::<_, i64>(1)? as u64,
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
                "INSERT INTO signing_policies (key_id, require_liveness, max_evidence_age_secs)
                 VALUES (?1, ?2, ?3)
                 ON CONFLICT (key_id) DO UPDATE SET
                     require_liveness = excluded.require_liveness,
                     max_evidence_age_secs = excluded.max_evidence_age_secs",
                params![
                    key_id,
                    i64::from(policy.require_liveness),
                    policy.max_evidence_age_secs.min(MS_MAX) as i64
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

    fn get_signature(
        &self,
        key_id: &str,
        idempotency_key: &str,
    ) -> Result<Option<SignatureSummary>, StoreError> {
        self.with(|c| {
            c.query_row(
                "SELECT idempotency_key, e, evidence_head, created_ms FROM signatures
                 WHERE key_id = ?1 AND idempotency_key = ?2",
                [key_id, idempotency_key],
                |r| {
                    Ok(SignatureSummary {
                        idempotency_key: r.get(0)?,
                        e: r.get(1)?,
                        evidence_head: r.get(2)?,
                        created_ms: r.get::<_, i64>(3)? as u64,
                    })
                },
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
                .prepare_cached(
                    "SELECT seq, at_ms, kind, key_id, detail, prev_hash, hash FROM audit
                     WHERE key_id = ?1 ORDER BY seq LIMIT ?2",
                )
                .map_err(backend)?;
            let rows = st
                .query_map(params![key_id, limit], audit_from_row)
                .map_err(backend)?;
            rows.collect::<Result<Vec<_>, _>>().map_err(backend)
        })
    }
}
