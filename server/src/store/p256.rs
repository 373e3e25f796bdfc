//! Two-party P-256 signing sessions (issue 18): the server's sealed state between the two
//! round trips of a signature, in single-use rows any replica can finish.
//!
//! A row is keyed by `(key_id, sign_id)` and unique per `(key_id, idempotency_key)`. It is
//! consumed by the one statement that reads it (`UPDATE … SET used_ms, sealed_state = NULL
//! … WHERE used_ms IS NULL AND expires_ms > now RETURNING …`), so two finishes of one
//! session, on any number of replicas, cannot both get the state. The row itself stays (only
//! its sealed state is dropped), so a `sign_id` is refused for its key for good.
//!
//! Repeats (schema 8): while a session is open its row also keeps trip 1's answer, sealed
//! ([`P256Store::find_p256_session`] gives it back for a byte-identical trip 1), and the take
//! records the hash of the trip 2 that consumed it ([`P256SessionTake::AlreadyUsed`] reports
//! it), so the service answers the same trip 2 again with the stored signature's response and
//! refuses any other.
//!
//! Pending key generations (schema 9): between an enrollment's two trips the server's DKG
//! state, sealed by the vault, waits in a row keyed by the ticket id. Trip 1 inserts or
//! replaces it (a retried trip 1 starts the key generation again); trip 2, on any replica,
//! reads its device key to authenticate the request and then takes the row with the one
//! statement that deletes it (`DELETE … RETURNING`), so two trip 2s cannot both get it. An
//! expired row counts as absent.

use super::StoreError;
use crate::audit::AuditEvent;

/// A signing session to store after trip 1.
#[derive(Clone, Debug)]
pub struct NewP256Session {
    /// The key.
    pub key_id: String,
    /// The phone's 32-byte session id.
    pub sign_id: Vec<u8>,
    /// The request's idempotency key.
    pub idempotency_key: String,
    /// The server's pending protocol state, sealed by the vault (associated data: user, key
    /// id, public key, sign id).
    pub sealed_state: Vec<u8>,
    /// What the signature record needs at trip 2 (JSON, nothing secret).
    pub context: String,
    /// Trip 1's answer (the server's protocol message), sealed by the vault: given back, while
    /// the session is open, to a byte-identical repeat of trip 1 (`None`: repeats are refused).
    pub sealed_reply: Option<Vec<u8>>,
    /// Created (unix ms).
    pub created_ms: u64,
    /// Trip 2 is refused after this (unix ms).
    pub expires_ms: u64,
}

/// A consumed session: its state, to be unsealed and used once.
#[derive(Clone, Debug)]
pub struct TakenP256Session {
    /// The sealed pending state.
    pub sealed_state: Vec<u8>,
    /// The context stored at trip 1.
    pub context: String,
    /// The idempotency key of trip 1.
    pub idempotency_key: String,
}

/// A session found by its idempotency key ([`P256Store::find_p256_session`]).
#[derive(Clone, Debug)]
pub struct FoundP256Session {
    /// The phone's session id.
    pub sign_id: Vec<u8>,
    /// The context stored at trip 1 (its `request_hash` tells a repeat from another request).
    pub context: String,
    /// Trip 1's sealed answer while the session is open (not used, not expired); `None` once
    /// it is closed.
    pub sealed_reply: Option<Vec<u8>>,
    /// Trip 2 is refused after this (unix ms).
    pub expires_ms: u64,
}

/// Outcome of [`P256Store::take_p256_session`].
#[derive(Clone, Debug)]
pub enum P256SessionTake {
    /// The session was open: it is now used, and this is its state.
    Taken(TakenP256Session),
    /// The session was already used (a replayed or concurrent trip 2).
    AlreadyUsed {
        /// The session's idempotency key (its signature record's, if it signed).
        idempotency_key: String,
        /// The hash of the trip 2 that took it (`None` if it closed by expiring).
        finish_hash: Option<Vec<u8>>,
    },
    /// The session expired before trip 2 (it is now closed).
    Expired,
    /// No such session for this key.
    Unknown,
}

/// A key generation between enrollment trip 1 and trip 2 (one per ticket).
#[derive(Clone, Debug)]
pub struct NewP256Keygen {
    /// The enrollment ticket.
    pub ticket_id: String,
    /// The server's DKG state, sealed by the vault (associated data: ticket id, device key).
    pub sealed_state: Vec<u8>,
    /// The device key (SPKI) trip 1 registered; trip 2 must be signed by it.
    pub device_key: Vec<u8>,
    /// The device key's checked attestation (JSON), if it had one.
    pub attestation: Option<String>,
    /// The attestation's format.
    pub attestation_format: Option<String>,
    /// The PIN chosen at trip 1, sealed by the vault (associated data: ticket id); never in
    /// clear.
    pub sealed_pin: Vec<u8>,
    /// Created (unix ms).
    pub created_ms: u64,
    /// Trip 2 is refused after this (unix ms).
    pub expires_ms: u64,
}

/// A key generation taken by trip 2 ([`P256Store::take_p256_keygen`]): gone from the store.
#[derive(Clone, Debug)]
pub struct TakenP256Keygen {
    /// The sealed DKG state.
    pub sealed_state: Vec<u8>,
    /// The device key (SPKI).
    pub device_key: Vec<u8>,
    /// The attestation (JSON), if any.
    pub attestation: Option<String>,
    /// Its format.
    pub attestation_format: Option<String>,
    /// The sealed PIN.
    pub sealed_pin: Vec<u8>,
}

/// Storage of P-256 signing sessions and pending key generations; part of every
/// [`super::Store`].
pub trait P256Store {
    /// Store the pending key generation of `keygen.ticket_id`, replacing any earlier one for
    /// the ticket (a retried trip 1 starts again).
    fn put_p256_keygen(&self, keygen: &NewP256Keygen) -> Result<(), StoreError>;
    /// The device key of the ticket's pending key generation, if one is pending and unexpired
    /// at `now_ms` (trip 2 is authenticated under it before the take).
    fn pending_p256_keygen_device_key(
        &self,
        ticket_id: &str,
        now_ms: u64,
    ) -> Result<Option<Vec<u8>>, StoreError>;
    /// Take the ticket's pending key generation exactly once: the row is deleted by the
    /// statement that reads it, whatever it holds; an expired one is deleted and `None`.
    fn take_p256_keygen(
        &self,
        ticket_id: &str,
        now_ms: u64,
    ) -> Result<Option<TakenP256Keygen>, StoreError>;
    /// Store a new session. `Conflict` if the key already has a session with this `sign_id`
    /// or this idempotency key (used or not).
    fn insert_p256_session(&self, session: &NewP256Session) -> Result<(), StoreError>;
    /// The key's session under `idempotency_key`, used or not; its sealed answer only while it
    /// is open at `now_ms`.
    fn find_p256_session(
        &self,
        key_id: &str,
        idempotency_key: &str,
        now_ms: u64,
    ) -> Result<Option<FoundP256Session>, StoreError>;
    /// Consume a session in the statement that reads it (see the module documentation),
    /// recording `finish_hash`, the hash of the trip 2 that takes it.
    fn take_p256_session(
        &self,
        key_id: &str,
        sign_id: &[u8],
        finish_hash: &[u8],
        now_ms: u64,
    ) -> Result<P256SessionTake, StoreError>;
    /// Lock a key for good after the counterparty failed a check that may leak share bits
    /// (DKLs23's `BanCounterparty`), with its `locked` audit entry. Unlike a PIN lock it
    /// records why; the caller revokes the key too.
    fn lock_key(&self, key_id: &str, audit: &AuditEvent) -> Result<(), StoreError>;
    /// A P-256 signing session of the key failed (a recoverable abort, a signature that did
    /// not verify, a malformed trip 2): count it (`keys.p256_session_failures`, never reset:
    /// each failure may be an attempt on the share) with its `refused` entry, and once the
    /// count reaches `max_failures` lock the key with the `locked` entry, in one transaction.
    /// Returns whether the key is now locked.
    fn p256_session_failed(
        &self,
        key_id: &str,
        max_failures: u32,
        refused: &AuditEvent,
        locked: &AuditEvent,
    ) -> Result<bool, StoreError>;
}
