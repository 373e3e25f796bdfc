//! [`DecryptionStore`] for [`SqliteStore`].

use super::decrypt::{DecryptionStore, NewDecryption, RecordedDecryption};
use super::sqlite::{append, backend, int, is_unique_violation, stored_signature};
use super::{SqliteStore, StoreError, StoredSignature, now_ms};
use crate::audit::AuditEvent;
use rusqlite::{OptionalExtension, TransactionBehavior, params};

/// From schema 4 to 5: key purposes (existing keys sign) and two-party decryptions.
pub(super) const MIGRATE_4_TO_5: &str = r#"
ALTER TABLE keys ADD COLUMN purpose TEXT NOT NULL DEFAULT 'signing';
CREATE TABLE decryptions (
    key_id          TEXT NOT NULL REFERENCES keys(key_id),
    idempotency_key TEXT NOT NULL,
    request_hash    BLOB NOT NULL,
    response        TEXT NOT NULL,
    envelope_ref    BLOB NOT NULL,
    created_ms      INTEGER NOT NULL,
    PRIMARY KEY (key_id, idempotency_key)
);
PRAGMA user_version = 5;
"#;

impl DecryptionStore for SqliteStore {
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
        self.durable(|c| {
            let tx = c
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(backend)?;
            // Counted first, on the key's row; undone below if a twin already answered.
            let counted = tx
                .execute(
                    "UPDATE keys SET decryptions = decryptions + 1
                     WHERE key_id = ?1 AND decryptions < ?2",
                    params![d.key_id, int(cap)],
                )
                .map_err(backend)?;
            if counted == 0 {
                return Ok(RecordedDecryption::CapReached);
            }
            let res = tx.execute(
                "INSERT INTO decryptions (key_id, idempotency_key, request_hash, response,
                                          envelope_ref, created_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    d.key_id,
                    d.idempotency_key,
                    d.request_hash,
                    d.response,
                    d.envelope_ref,
                    int(now_ms())
                ],
            );
            match res {
                Err(e) if is_unique_violation(&e) => {
                    let existing = tx
                        .query_row(
                            "SELECT request_hash, response FROM decryptions
                             WHERE key_id = ?1 AND idempotency_key = ?2",
                            [&d.key_id, &d.idempotency_key],
                            stored_signature,
                        )
                        .map_err(backend)?;
                    // Dropping the transaction rolls the count back.
                    return Ok(RecordedDecryption::Existing(existing));
                }
                Err(e) => return Err(backend(e)),
                Ok(_) => {}
            }
            append(&tx, audit)?;
            tx.commit().map_err(backend)?;
            Ok(RecordedDecryption::Inserted)
        })
    }

    fn decryption_count(&self, key_id: &str) -> Result<u64, StoreError> {
        self.with(|c| {
            c.query_row(
                "SELECT decryptions FROM keys WHERE key_id = ?1",
                [key_id],
                |r| r.get::<_, i64>(0),
            )
            .optional()
            .map_err(backend)?
            .map(|n| n as u64)
            .ok_or(StoreError::NotFound)
        })
    }
}
