//! [`DecryptionStore`] for [`PostgresStore`].

use super::decrypt::{DecryptionStore, NewDecryption, RecordedDecryption};
use super::postgres::{append, int, stored_signature, uint};
use super::{PostgresStore, StoreError, StoredSignature};
use crate::audit::AuditEvent;

/// Migration 4: key purposes (existing keys sign) and two-party decryptions.
pub(super) const KEY_PURPOSES_AND_DECRYPTIONS: &str = r#"
ALTER TABLE keys ADD COLUMN purpose TEXT NOT NULL DEFAULT 'signing';
CREATE TABLE decryptions (
    key_id          TEXT NOT NULL REFERENCES keys(key_id),
    idempotency_key TEXT NOT NULL,
    request_hash    BYTEA NOT NULL,
    response        TEXT NOT NULL,
    envelope_ref    BYTEA NOT NULL,
    created_ms      BIGINT NOT NULL,
    PRIMARY KEY (key_id, idempotency_key)
);
"#;

impl DecryptionStore for PostgresStore {
    fn find_decryption(
        &self,
        key_id: &str,
        idempotency_key: &str,
    ) -> Result<Option<StoredSignature>, StoreError> {
        self.find_answer(super::AnswerTable::Decryptions, key_id, idempotency_key)
    }

    fn record_decryption(
        &self,
        d: &NewDecryption,
        audit: &AuditEvent,
        cap: u64,
    ) -> Result<RecordedDecryption, StoreError> {
        self.transact(|tx| {
            // Counted first, on the key's row: this serialises the key's decryptions (and their
            // twins) across replicas; undone below if a twin already answered.
            let counted = tx.execute(
                "UPDATE keys SET decryptions = decryptions + 1
                 WHERE key_id = $1 AND decryptions < $2",
                &[&d.key_id, &int(cap)],
            )?;
            if counted == 0 {
                return Ok(RecordedDecryption::CapReached);
            }
            // A twin in flight on another replica: this INSERT waits for its transaction, then
            // inserts nothing when it committed.
            let inserted = tx.execute(
                "INSERT INTO decryptions (key_id, idempotency_key, request_hash, response,
                                          envelope_ref, created_ms)
                 VALUES ($1, $2, $3, $4, $5, $6)
                 ON CONFLICT (key_id, idempotency_key) DO NOTHING",
                &[
                    &d.key_id,
                    &d.idempotency_key,
                    &d.request_hash,
                    &d.response,
                    &d.envelope_ref,
                    &int(super::now_ms()),
                ],
            )?;
            if inserted == 0 {
                let existing = tx.query_one(
                    "SELECT request_hash, response FROM decryptions
                     WHERE key_id = $1 AND idempotency_key = $2",
                    &[&d.key_id, &d.idempotency_key],
                )?;
                tx.execute(
                    "UPDATE keys SET decryptions = decryptions - 1 WHERE key_id = $1",
                    &[&d.key_id],
                )?;
                return Ok(RecordedDecryption::Existing(stored_signature(&existing)?));
            }
            append(tx, audit)?;
            Ok(RecordedDecryption::Inserted)
        })
    }

    fn decryption_count(&self, key_id: &str) -> Result<u64, StoreError> {
        self.read(|c| {
            c.query_opt("SELECT decryptions FROM keys WHERE key_id = $1", &[&key_id])?
                .map(|r| r.try_get::<_, i64>(0).map(uint))
                .transpose()
                .map_err(Into::into)
        })?
        .ok_or(StoreError::NotFound)
    }
}
