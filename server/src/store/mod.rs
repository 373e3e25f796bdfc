//! Storage behind traits, one per concern: keys, PIN counters, signatures, certificates, the
//! audit log and settings ([`Store`]); liveness challenges, evidence and signing policies
//! ([`EvidenceStore`]); operator credentials, enrollment tickets and request nonces
//! ([`AccessStore`]); the institution's seals ([`SealStore`]); certificate-login challenges
//! ([`LoginStore`]).
//!
//! The traits are synchronous; the server calls them from blocking tasks. [`SqliteStore`] is
//! the default (embedded, zero set-up, one server process); [`PostgresStore`] serves any number
//! of replicas on one database. Every rule that matters for correctness (unique key ids, one
//! signature per idempotency key, single-use tickets, challenges, nonces and evidence, PIN
//! attempts reserved before they are compared, append-only audit, one order per audit lane) is a
//! constraint or a single conditional statement, so both keep it, the PostgreSQL store across
//! replicas. The conformance suite (`tests/tests/store_conformance.rs`) runs the same tests
//! against both.

mod access;
mod decrypt;
mod evidence;
mod login;
mod p256;
mod postgres;
mod postgres_decrypt;
mod postgres_login;
mod postgres_more;
mod postgres_p256;
mod seals;
mod sqlite;
mod sqlite_access;
mod sqlite_decrypt;
mod sqlite_evidence;
mod sqlite_login;
mod sqlite_p256;
mod sqlite_seals;

pub(crate) use sqlite::now_ms;

pub use access::{AccessStore, CredentialKind, CredentialRecord, PurgeCounts, TicketRecord};
pub use decrypt::{DecryptionStore, NewDecryption, RecordedDecryption};
pub use evidence::{
    ChallengeRecord, EvidenceRecord, EvidenceStore, SignatureSummary, SigningPolicy,
};
pub use login::{LoginChallengeRecord, LoginStore};
pub use p256::{
    FoundP256Session, NewP256Keygen, NewP256Session, P256SessionTake, P256Store, TakenP256Keygen,
    TakenP256Session,
};
pub use postgres::{MAX_REPLICA_NAME, MigrationReport, PostgresConfig, PostgresStore, host_name};
pub use seals::{SealKeyKind, SealRecord, SealStore};
pub use sqlite::SqliteStore;

use crate::audit::{AuditEntry, AuditEvent, AuditKind, Checkpoint, LaneHead};
pub use inkseal_cosign::api::{KeyCurve, KeyPurpose};
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
    /// The database was made by an incompatible version.
    #[error("{0}")]
    Incompatible(String),
    /// The database failed.
    #[error("database error: {0}")]
    Backend(String),
    /// TLS to the database is misconfigured or failed: no CA to verify with, or the server's
    /// certificate is not trusted or not for its host name.
    #[error("database TLS: {0}")]
    Tls(String),
}

/// A key as enrolled (every secret in it is sealed by the vault).
#[derive(Clone, Debug)]
pub struct KeyRecord {
    /// Key id (chosen by the server).
    pub key_id: String,
    /// User the key belongs to (the institution's opaque id, from the ticket).
    pub user_id: String,
    /// Common name the institution asserted for certificates.
    pub certificate_name: String,
    /// The enrollment ticket that created the key.
    pub ticket_id: String,
    /// Joint public key, SEC1 uncompressed.
    pub public_key: Vec<u8>,
    /// The phone's device key (P-256 SubjectPublicKeyInfo DER) that signs every request.
    pub device_public_key: Vec<u8>,
    /// The device key's attestation format, when one was verified at enrollment.
    pub device_attestation: Option<String>,
    /// The keyed hash binding the key to the holder's ID number (salt || MAC), when the
    /// institution supplied the number with the ticket.
    pub id_binding: Option<Vec<u8>>,
    /// d2 sealed by the vault.
    pub sealed_share: Vec<u8>,
    /// PIN verifier sealed by the vault.
    pub sealed_pin: Vec<u8>,
    /// Salt of the PIN verifier.
    pub pin_salt: Vec<u8>,
    /// Wrong PINs since the last right one, including attempts being compared right now.
    pub pin_failures: u32,
    /// Locked after too many wrong PINs.
    pub locked: bool,
    /// Revoked: never signs again.
    pub revoked: bool,
    /// Issued certificate (DER), if any.
    pub certificate: Option<Vec<u8>>,
    /// What the key is for (fixed at enrollment).
    pub purpose: KeyPurpose,
    /// The key's curve (fixed at enrollment): SM2, or two-party P-256.
    pub curve: KeyCurve,
}

/// A signature already produced for an idempotency key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredSignature {
    /// SHA-256 of the request (without the PIN).
    pub request_hash: Vec<u8>,
    /// The JSON response that was returned.
    pub response: String,
}

/// The tables that keep idempotent answers (a co-signature, a decryption), each keyed by
/// `(key_id, idempotency_key)` with the request's hash and the answer: one lookup serves both.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum AnswerTable {
    /// `signatures`.
    Signatures,
    /// `decryptions`.
    Decryptions,
}

impl AnswerTable {
    /// The lookup, with SQLite's (`?1`) or PostgreSQL's (`$1`) placeholders.
    pub(crate) fn find_sql(self, postgres: bool) -> &'static str {
        match (self, postgres) {
            (AnswerTable::Signatures, false) => {
                "SELECT request_hash, response FROM signatures
                 WHERE key_id = ?1 AND idempotency_key = ?2"
            }
            (AnswerTable::Decryptions, false) => {
                "SELECT request_hash, response FROM decryptions
                 WHERE key_id = ?1 AND idempotency_key = ?2"
            }
            (AnswerTable::Signatures, true) => {
                "SELECT request_hash, response FROM signatures
                 WHERE key_id = $1 AND idempotency_key = $2"
            }
            (AnswerTable::Decryptions, true) => {
                "SELECT request_hash, response FROM decryptions
                 WHERE key_id = $1 AND idempotency_key = $2"
            }
        }
    }
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
    /// What kind of message was signed.
    pub message_kind: String,
    /// The document the message names (the CMS message-digest, or SM3 of a raw message).
    pub document_digest: Vec<u8>,
    /// Evidence manifest head, if any.
    pub evidence_head: Option<String>,
    /// The use of the evidence this signature takes, when the policy makes evidence count.
    pub evidence_use: Option<EvidenceUse>,
}

/// One use of a piece of evidence: `(manifest head, slot)` is unique, so the evidence signs
/// once per slot. A single-use policy has one slot (`""`); a batch policy one per bound
/// document (the document digest, hex).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EvidenceUse {
    /// Manifest head.
    pub manifest_head: String,
    /// The slot.
    pub slot: String,
}

/// Outcome of [`Store::record_signature`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Recorded {
    /// This call's response was stored and may be returned.
    Inserted,
    /// Another request with the same idempotency key won; return (or refuse) this one instead.
    Existing(StoredSignature),
    /// The evidence's use was already taken by another signature: nothing was recorded.
    EvidenceUsed,
}

/// Outcome of [`Store::check_pin`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PinCheck {
    /// The PIN compared right; the failure count starts again.
    Right,
    /// The PIN compared wrong; the failure is recorded (and audited) before this returns.
    Wrong(PinFailure),
    /// The key is locked: nothing was compared.
    Locked,
    /// The count had already reached the limit (an older build's reservations, see
    /// [`abandoned_lock`]): the key is locked now, audited, and nothing was compared.
    LockedNow,
    /// The key is revoked: nothing was compared.
    Revoked,
    /// The key's PIN was changed after the caller read the sealed verifier it opened: nothing
    /// was compared; read the key again.
    Changed,
    /// No such key.
    NotFound,
}

/// Outcome of a wrong PIN.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PinFailure {
    /// Wrong PINs since the last right one.
    pub failures: u32,
    /// Whether the key is now locked.
    pub locked: bool,
}

/// The `locked` entry written when [`Store::check_pin`] finds a key whose count already reached
/// the limit without being locked: attempts an older build reserved for requests that never
/// answered (before 2026-12, a PIN attempt was counted before it was compared). They count as
/// failures, as a crash's always did. `audit`'s key and caller, the same in every store.
pub(crate) fn abandoned_lock(audit: &AuditEvent, failures: u32) -> AuditEvent {
    let mut lock = audit.clone();
    lock.kind = AuditKind::Locked;
    lock.detail = serde_json::json!({
        "after_failures": failures,
        "reason": "pin attempts abandoned by requests that never answered",
    });
    lock
}

/// The `pin_failure` entry of a wrong PIN (`audit` with the count), and the `locked` entry that
/// follows when it locked the key.
fn failure_entries(audit: &AuditEvent, failure: PinFailure) -> Vec<AuditEvent> {
    let mut failed = audit.clone();
    if let Some(detail) = failed.detail.as_object_mut() {
        detail.insert("failures".into(), failure.failures.into());
    }
    let mut entries = vec![failed];
    if failure.locked {
        let mut lock = audit.clone();
        lock.kind = AuditKind::Locked;
        lock.detail = serde_json::json!({ "after_failures": failure.failures });
        entries.push(lock);
    }
    entries
}

/// A key's PIN state, as [`Store::check_pin`] reads it under the key's write lock.
#[derive(Clone, Copy, Debug)]
pub(crate) struct PinState {
    pub(crate) failures: u32,
    pub(crate) locked: bool,
    pub(crate) revoked: bool,
    /// The key's sealed verifier is still the one the caller opened (no PIN change since).
    pub(crate) current: bool,
}

/// What [`Store::check_pin`] writes (in the transaction that read the [`PinState`]).
pub(crate) struct PinWrite {
    pub(crate) failures: u32,
    pub(crate) locked: bool,
    /// Audit entries to append: when there are any, the write must be durable before the
    /// answer.
    pub(crate) entries: Vec<AuditEvent>,
}

/// [`Store::check_pin`]'s decisions, the same in every store: `state` as read under the key's
/// write lock, `write` the store's UPDATE of the row and appends of the entries, in the same
/// transaction.
pub(crate) fn check_pin_in<E>(
    state: Option<PinState>,
    max_failures: u32,
    compare: &mut dyn FnMut() -> bool,
    audit: &AuditEvent,
    write: &mut dyn FnMut(PinWrite) -> Result<(), E>,
) -> Result<PinCheck, E> {
    let Some(state) = state else {
        return Ok(PinCheck::NotFound);
    };
    if state.revoked {
        return Ok(PinCheck::Revoked);
    }
    if state.locked {
        return Ok(PinCheck::Locked);
    }
    if state.failures >= max_failures {
        write(PinWrite {
            failures: state.failures,
            locked: true,
            entries: vec![abandoned_lock(audit, state.failures)],
        })?;
        return Ok(PinCheck::LockedNow);
    }
    if !state.current {
        return Ok(PinCheck::Changed);
    }
    if compare() {
        if state.failures > 0 {
            write(PinWrite {
                failures: 0,
                locked: false,
                entries: Vec::new(),
            })?;
        }
        return Ok(PinCheck::Right);
    }
    let failure = PinFailure {
        failures: state.failures + 1,
        locked: state.failures + 1 >= max_failures,
    };
    write(PinWrite {
        failures: failure.failures,
        locked: failure.locked,
        entries: failure_entries(audit, failure),
    })?;
    Ok(PinCheck::Wrong(failure))
}

/// A certificate the CA issued.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IssuedCertificate {
    /// Serial number (big-endian).
    pub serial: Vec<u8>,
    /// The key it was issued to.
    pub key_id: String,
    /// When (unix ms).
    pub issued_ms: u64,
    /// When it was revoked (unix ms), if it was.
    pub revoked_ms: Option<u64>,
    /// Why (a `RevocationReason` name).
    pub revocation_reason: Option<String>,
}

/// Every entry of every audit lane, lane by lane (sorted by name), each lane in order of `seq`
/// (the only order a lane guarantees; across lanes entries are ordered by their replicas'
/// clocks, `at_ms`). For tests and tools on small logs: it holds the log in memory.
pub fn read_whole_log(store: &dyn Store) -> Result<Vec<AuditEntry>, StoreError> {
    let mut all = Vec::new();
    for head in store.audit_heads()? {
        let mut from = 1;
        loop {
            let page = store.audit_entries(&head.lane, from, 10_000)?;
            let Some(last) = page.last() else { break };
            from = last.seq + 1;
            all.extend(page);
        }
    }
    Ok(all)
}

/// The server's storage of keys, signatures, certificates, audit log and settings.
pub trait Store:
    EvidenceStore + AccessStore + SealStore + LoginStore + DecryptionStore + P256Store + Send + Sync
{
    /// Connections of the store's pool, `(open, idle)`, for the operator's metrics; `None`
    /// for a store without a pool (SQLite: one connection in this process).
    fn pool_state(&self) -> Option<(u32, u32)> {
        None
    }

    /// Insert a new key, consuming its enrollment ticket, with the audit entry, atomically.
    /// `Conflict` if the ticket was used (or expired) meanwhile or the key id exists.
    fn insert_key(
        &self,
        key: &KeyRecord,
        now_ms: u64,
        audit: &AuditEvent,
    ) -> Result<(), StoreError>;
    /// Fetch a key.
    fn get_key(&self, key_id: &str) -> Result<Option<KeyRecord>, StoreError>;
    /// Compare a PIN under the key's write lock (SQLite's `BEGIN IMMEDIATE`, PostgreSQL's
    /// `SELECT ... FOR UPDATE`), so that under any concurrency, on any number of replicas, at
    /// most `max_failures` wrong PINs are ever compared since the last right one.
    ///
    /// A locked or revoked key, or one whose count already reached `max_failures`, is refused
    /// without calling `compare` (the last case locks it first, audited: see
    /// [`abandoned_lock`]); so is a key whose sealed verifier is no longer `sealed_pin`, the
    /// one `compare` opened ([`PinCheck::Changed`]: a PIN change came in between). Otherwise `compare` runs once (a transaction the engine retries
    /// reuses its verdict): right resets the count; wrong adds one, locks at `max_failures`,
    /// and appends `audit` (a `pin_failure` entry, then `locked` if this one locked the key),
    /// durably, before returning. A right PIN on a key with no failures writes nothing.
    fn check_pin(
        &self,
        key_id: &str,
        sealed_pin: &[u8],
        max_failures: u32,
        compare: &mut dyn FnMut() -> bool,
        audit: &AuditEvent,
    ) -> Result<PinCheck, StoreError>;
    /// Replace the PIN verifier (PIN change), audited.
    fn set_pin(
        &self,
        key_id: &str,
        sealed_pin: &[u8],
        pin_salt: &[u8],
        audit: &AuditEvent,
    ) -> Result<(), StoreError>;
    /// Unlock a locked key and reset its count, audited. `NotFound` if it is not locked (or
    /// revoked).
    fn unlock(&self, key_id: &str, audit: &AuditEvent) -> Result<(), StoreError>;
    /// Revoke a key and its certificates, audited. `NotFound` if it is already revoked.
    fn revoke(
        &self,
        key_id: &str,
        reason: &str,
        now_ms: u64,
        audit: &AuditEvent,
    ) -> Result<(), StoreError>;
    /// Look up a signature by idempotency key.
    fn find_signature(
        &self,
        key_id: &str,
        idempotency_key: &str,
    ) -> Result<Option<StoredSignature>, StoreError>;
    /// Record a signature, the evidence use it takes and its audit entry atomically, unless
    /// the idempotency key or the evidence use is taken.
    fn record_signature(
        &self,
        sig: &NewSignature,
        audit: &AuditEvent,
    ) -> Result<Recorded, StoreError>;
    /// Store an issued certificate (the key's current one, and the CA's register) with its
    /// audit entry.
    fn record_certificate(
        &self,
        key_id: &str,
        serial: &[u8],
        certificate: &[u8],
        audit: &AuditEvent,
    ) -> Result<(), StoreError>;
    /// Every revoked certificate, for the CRL.
    fn revoked_certificates(&self) -> Result<Vec<IssuedCertificate>, StoreError>;
    /// The certificate with serial `serial` (big-endian magnitude), if this CA issued it, for
    /// the OCSP responder.
    fn issued_certificate(&self, serial: &[u8]) -> Result<Option<IssuedCertificate>, StoreError>;
    /// Append an audit entry on its own.
    fn append_audit(&self, audit: &AuditEvent) -> Result<(), StoreError>;
    /// Read the entries of audit lane `lane` with `seq >= from`, at most `limit`, in order of
    /// `seq` (none for a lane the log does not have).
    fn audit_entries(
        &self,
        lane: &str,
        from: u64,
        limit: u32,
    ) -> Result<Vec<AuditEntry>, StoreError>;
    /// Every audit lane's head (last sequence number and hash), sorted by lane name, read at
    /// one moment (one statement): what a checkpoint signs. Empty while the log is.
    fn audit_heads(&self) -> Result<Vec<LaneHead>, StoreError>;
    /// Store a signed checkpoint. `Conflict` if one exists for the same heads.
    fn insert_checkpoint(&self, checkpoint: &Checkpoint) -> Result<(), StoreError>;
    /// Every checkpoint, oldest first.
    fn checkpoints(&self) -> Result<Vec<Checkpoint>, StoreError>;
    /// The newest checkpoint, if any.
    fn last_checkpoint(&self) -> Result<Option<Checkpoint>, StoreError> {
        Ok(self.checkpoints()?.pop())
    }
    /// Read a setting.
    fn get_setting(&self, name: &str) -> Result<Option<Vec<u8>>, StoreError>;
    /// Write a setting unless present; returns the value now stored.
    fn put_setting_if_absent(&self, name: &str, value: &[u8]) -> Result<Vec<u8>, StoreError>;
    /// Write (or replace) a setting.
    fn put_setting(&self, name: &str, value: &[u8]) -> Result<(), StoreError>;
    /// Add one to a counter setting and return the new value (1 the first time).
    fn next_counter(&self, name: &str) -> Result<u64, StoreError>;
}
