//! [`LoginStore`] for [`PostgresStore`].

use super::login::{LoginChallengeRecord, LoginStore};
use super::postgres::{Fail, int, uint};
use super::{PostgresStore, StoreError};
use crate::audit::AuditEvent;
use postgres::Row;

/// Migration 3: login challenges.
pub(super) const LOGIN_CHALLENGES: &str = r#"
CREATE TABLE login_challenges (
    challenge_id  BYTEA PRIMARY KEY,
    relying_party TEXT NOT NULL,
    nonce         BYTEA NOT NULL,
    issued_ms     BIGINT NOT NULL,
    expires_ms    BIGINT NOT NULL,
    used_ms       BIGINT
);
CREATE INDEX login_challenges_by_expiry ON login_challenges (expires_ms);
"#;

fn from_row(r: &Row) -> Result<LoginChallengeRecord, Fail> {
    Ok(LoginChallengeRecord {
        challenge_id: r.try_get(0)?,
        relying_party: r.try_get(1)?,
        nonce: r.try_get(2)?,
        issued_ms: uint(r.try_get(3)?),
        expires_ms: uint(r.try_get(4)?),
        used_ms: r.try_get::<_, Option<i64>>(5)?.map(uint),
    })
}

impl LoginStore for PostgresStore {
    fn insert_login_challenge(
        &self,
        challenge: &LoginChallengeRecord,
        audit: &AuditEvent,
    ) -> Result<(), StoreError> {
        self.write_audited(audit, |tx| {
            tx.execute(
                "INSERT INTO login_challenges
                     (challenge_id, relying_party, nonce, issued_ms, expires_ms, used_ms)
                 VALUES ($1, $2, $3, $4, $5, NULL)",
                &[
                    &challenge.challenge_id,
                    &challenge.relying_party,
                    &challenge.nonce,
                    &int(challenge.issued_ms),
                    &int(challenge.expires_ms),
                ],
            )?;
            Ok(())
        })
    }

    fn get_login_challenge(
        &self,
        challenge_id: &[u8],
    ) -> Result<Option<LoginChallengeRecord>, StoreError> {
        self.read(|c| {
            c.query_opt(
                "SELECT challenge_id, relying_party, nonce, issued_ms, expires_ms, used_ms
                 FROM login_challenges WHERE challenge_id = $1",
                &[&challenge_id],
            )?
            .map(|r| from_row(&r))
            .transpose()
        })
    }

    fn consume_login_challenge(
        &self,
        challenge_id: &[u8],
        now_ms: u64,
        audit: &AuditEvent,
    ) -> Result<(), StoreError> {
        self.write_audited(audit, |tx| {
            let taken = tx.execute(
                "UPDATE login_challenges SET used_ms = $2
                 WHERE challenge_id = $1 AND used_ms IS NULL AND expires_ms > $2",
                &[&challenge_id, &int(now_ms)],
            )?;
            if taken != 1 {
                return Err(Fail::Store(StoreError::Conflict));
            }
            Ok(())
        })
    }
}
