//! Two-party decryptions: one answer per idempotency key, stored with its audit entry.

use super::{StoreError, StoredSignature};
use crate::audit::AuditEvent;

/// A decryption step to record (the server's answer `T2` and its proof, nothing secret).
#[derive(Clone, Debug)]
pub struct NewDecryption {
    /// Key id (an encryption key).
    pub key_id: String,
    /// Client's idempotency key (also the round's request id).
    pub idempotency_key: String,
    /// SHA-256 of the request (without the PIN).
    pub request_hash: Vec<u8>,
    /// JSON response.
    pub response: String,
    /// SM3 of the envelope, as the client claims it.
    pub envelope_ref: Vec<u8>,
}

/// Outcome of [`DecryptionStore::record_decryption`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RecordedDecryption {
    /// This call's answer was stored and may be returned.
    Inserted,
    /// Another request with the same idempotency key won; return (or refuse) this one instead.
    Existing(StoredSignature),
    /// The key has answered its lifetime's number of decryptions: nothing was written, and the
    /// answer must not be returned.
    CapReached,
}

/// Storage of two-party decryption answers; part of every [`super::Store`].
pub trait DecryptionStore {
    /// Look up a decryption by idempotency key.
    fn find_decryption(
        &self,
        key_id: &str,
        idempotency_key: &str,
    ) -> Result<Option<StoredSignature>, StoreError>;
    /// Record a decryption answer and its audit entry atomically, unless the idempotency key
    /// is taken (then the answer stored first is returned and nothing is written) or the key
    /// has already recorded `cap` decryptions ([`RecordedDecryption::CapReached`], nothing
    /// written). The count (`keys.decryptions`) is exact under concurrent requests on any
    /// number of replicas: it is raised in the same transaction, on the key's row.
    fn record_decryption(
        &self,
        decryption: &NewDecryption,
        audit: &AuditEvent,
        cap: u64,
    ) -> Result<RecordedDecryption, StoreError>;
    /// How many decryptions the key has recorded in its life.
    fn decryption_count(&self, key_id: &str) -> Result<u64, StoreError>;
}
