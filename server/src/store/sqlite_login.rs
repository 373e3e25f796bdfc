//! [`LoginStore`] for [`SqliteStore`].

use super::login::{LoginChallengeRecord, LoginStore};
use super::sqlite::{backend, int, sql};
use super::{SqliteStore, StoreError};
use crate::audit::AuditEvent;
use rusqlite::{OptionalExtension, params};

/// From schema 3 to 4: login challenges.
pub(super) const MIGRATE_3_TO_4: &str = r#"
CREATE TABLE login_challenges (
    challenge_id  BLOB PRIMARY KEY,
    relying_party TEXT NOT NULL,
    nonce         BLOB NOT NULL,
    issued_ms     INTEGER NOT NULL,
    expires_ms    INTEGER NOT NULL,
    used_ms       INTEGER
);
CREATE INDEX login_challenges_by_expiry ON login_challenges (expires_ms);
PRAGMA user_version = 4;
"#;

fn from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<LoginChallengeRecord> {
    Ok(LoginChallengeRecord {
        challenge_id: r.get(0)?,
        relying_party: r.get(1)?,
        nonce: r.get(2)?,
        issued_ms: r.get::<_, i64>(3)? as u64,
        expires_ms: r.get::<_, i64>(4)? as u64,
        used_ms: r.get::<_, Option<i64>>(5)?.map(|v| v as u64),
    })
}

impl LoginStore for SqliteStore {
    fn insert_login_challenge(
        &self,
        challenge: &LoginChallengeRecord,
        audit: &AuditEvent,
    ) -> Result<(), StoreError> {
        self.write_audited(audit, |tx| {
            sql(tx.execute(
                "INSERT INTO login_challenges
                     (challenge_id, relying_party, nonce, issued_ms, expires_ms, used_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, NULL)",
                params![
                    challenge.challenge_id,
                    challenge.relying_party,
                    challenge.nonce,
                    int(challenge.issued_ms),
                    int(challenge.expires_ms)
                ],
            ))
            .map(|_| ())
        })
    }

    fn get_login_challenge(
        &self,
        challenge_id: &[u8],
    ) -> Result<Option<LoginChallengeRecord>, StoreError> {
        self.with(|c| {
            c.query_row(
                "SELECT challenge_id, relying_party, nonce, issued_ms, expires_ms, used_ms
                 FROM login_challenges WHERE challenge_id = ?1",
                [challenge_id],
                from_row,
            )
            .optional()
            .map_err(backend)
        })
    }

    fn consume_login_challenge(
        &self,
        challenge_id: &[u8],
        now_ms: u64,
        audit: &AuditEvent,
    ) -> Result<(), StoreError> {
        self.write_audited(audit, |tx| {
            let taken = sql(tx.execute(
                "UPDATE login_challenges SET used_ms = ?2
                 WHERE challenge_id = ?1 AND used_ms IS NULL AND expires_ms > ?2",
                params![challenge_id, int(now_ms)],
            ))?;
            if taken != 1 {
                return Err(StoreError::Conflict);
            }
            Ok(())
        })
    }
}
