//! Storage behind a trait: keys, PIN counters, signatures (idempotency), audit log, settings,
//! and (in [`EvidenceStore`]) liveness challenges, evidence and signing policies.
//!
//! The trait is synchronous; the server calls it from blocking tasks. [`SqliteStore`] is the
//! default (embedded, zero set-up). A PostgreSQL store implements the same trait for deployments
//! with several server replicas: every rule that matters for correctness (unique key ids, one
//! signature per idempotency key, atomic PIN counters, append-only audit) is expressed as a
//! constraint or a single statement so it holds across replicas.

mod evidence;
mod sqlite;
mod sqlite_evidence;

pub(crate) use sqlite::now_ms;

pub use evidence::{
    ChallengeRecord, EvidenceRecord, EvidenceStore, SignatureSummary, SigningPolicy, Taken,
};
pub use sqlite::SqliteStore;

use crate::audit::{AuditEntry, AuditEvent};
use thiserror::Error;

/// Storage failures.
#[derive(Debug, Error)]
pub enum StoreError {
    /// A row with this identity already exists.
    #[error("already exists")]
    Conflict,
    /// No such row.
    #[error("not found")]
    NotFound,
    /// The database failed.
    #[error("database error: {0}")]
    Backend(String),
}

/// A key as enrolled (every secret in it is sealed by the vault).
#[derive(Clone, Debug)]
pub struct KeyRecord {
    /// Key id (the enrollment id).
    pub key_id: String,
    /// User the key belongs to.
    pub user_id: String,
    /// Joint public key, SEC1 compressed.
    pub public_key: Vec<u8>,
    /// d2 sealed by the vault.
    pub sealed_share: Vec<u8>,
    /// PIN verifier sealed by the vault.
    pub sealed_pin: Vec<u8>,
    /// Salt of the PIN verifier.
    pub pin_salt: Vec<u8>,
    /// Consecutive wrong PINs.
    pub pin_failures: u32,
    /// Locked after too many wrong PINs.
    pub locked: bool,
    /// Issued certificate (DER), if any.
    pub certificate: Option<Vec<u8>>,
}

/// A signature already produced for an idempotency key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredSignature {
    /// SHA-256 of the request (without the PIN).
    pub request_hash: Vec<u8>,
    /// The JSON response that was returned.
    pub response: String,
}

/// A signature to record.
#[derive(Clone, Debug)]
pub struct NewSignature {
    /// Key id.
    pub key_id: String,
    /// Client's idempotency key.
    pub idempotency_key: String,
    /// SHA-256 of the request (without the PIN).
    pub request_hash: Vec<u8>,
    /// JSON response.
    pub response: String,
    /// The digest signed.
    pub e: Vec<u8>,
    /// Evidence manifest head, if any.
    pub evidence_head: Option<String>,
}

/// Outcome of [`Store::record_signature`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Recorded {
    /// This call's response was stored and may be returned.
    Inserted,
    /// Another request with the same idempotency key won; return (or refuse) this one instead.
    Existing(StoredSignature),
}

/// Outcome of a wrong PIN.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PinFailure {
    /// Consecutive failures including this one.
    pub failures: u32,
    /// Whether the key is now locked.
    pub locked: bool,
}

/// The server's storage.
pub trait Store: EvidenceStore + Send + Sync {
    /// Insert a new key and its enrollment audit entry atomically. `Conflict` if the id exists.
    fn insert_key(&self, key: &KeyRecord, audit: &AuditEvent) -> Result<(), StoreError>;
    /// Fetch a key.
    fn get_key(&self, key_id: &str) -> Result<Option<KeyRecord>, StoreError>;
    /// Count a wrong PIN atomically; lock at `max_failures`. Audited.
    fn record_pin_failure(&self, key_id: &str, max_failures: u32)
    -> Result<PinFailure, StoreError>;
    /// Reset the consecutive-failure counter after a right PIN.
    fn reset_pin_failures(&self, key_id: &str) -> Result<(), StoreError>;
    /// Look up a signature by idempotency key.
    fn find_signature(
        &self,
        key_id: &str,
        idempotency_key: &str,
    ) -> Result<Option<StoredSignature>, StoreError>;
    /// Record a signature and its audit entry atomically, unless the idempotency key is taken.
    fn record_signature(
        &self,
        sig: &NewSignature,
        audit: &AuditEvent,
    ) -> Result<Recorded, StoreError>;
    /// Store an issued certificate and its audit entry.
    fn set_certificate(
        &self,
        key_id: &str,
        certificate: &[u8],
        audit: &AuditEvent,
    ) -> Result<(), StoreError>;
    /// Append an audit entry on its own.
    fn append_audit(&self, audit: &AuditEvent) -> Result<(), StoreError>;
    /// Read audit entries with `seq >= from`, at most `limit`.
    fn audit_entries(&self, from: u64, limit: u32) -> Result<Vec<AuditEntry>, StoreError>;
    /// Read a setting.
    fn get_setting(&self, name: &str) -> Result<Option<Vec<u8>>, StoreError>;
    /// Write a setting unless present; returns the value now stored.
    fn put_setting_if_absent(&self, name: &str, value: &[u8]) -> Result<Vec<u8>, StoreError>;
}
