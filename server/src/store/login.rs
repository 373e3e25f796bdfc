//! Storage of certificate-login challenges (issue 17).
//!
//! A challenge is issued to an institution's backend (an operator) before anyone knows which
//! key will answer it, so it has its own table rather than `liveness_challenges` (whose rows
//! belong to a key). It is single use: consuming one is a single conditional UPDATE (unused and
//! unexpired), with the audit entry in the same transaction, so two concurrent verifications
//! of one assertion cannot both succeed, also across replicas on one PostgreSQL database.
//! Expired challenges, used or not, are purged by housekeeping: an assertion over one fails
//! its expiry check anyway.

use super::StoreError;
use crate::audit::AuditEvent;

/// A login challenge as issued.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoginChallengeRecord {
    /// 16 random bytes.
    pub challenge_id: Vec<u8>,
    /// The relying party (the institution's id) it is for.
    pub relying_party: String,
    /// 32 random bytes.
    pub nonce: Vec<u8>,
    /// When it was issued (unix ms, server clock; whole seconds).
    pub issued_ms: u64,
    /// When it expires (unix ms, server clock; whole seconds).
    pub expires_ms: u64,
    /// When a verification consumed it, if one did.
    pub used_ms: Option<u64>,
}

/// Login challenge storage; part of every [`Store`](super::Store).
pub trait LoginStore {
    /// Store a new challenge (unused) and its audit entry atomically. `Conflict` if the id
    /// exists.
    fn insert_login_challenge(
        &self,
        challenge: &LoginChallengeRecord,
        audit: &AuditEvent,
    ) -> Result<(), StoreError>;
    /// The challenge, used or not.
    fn get_login_challenge(
        &self,
        challenge_id: &[u8],
    ) -> Result<Option<LoginChallengeRecord>, StoreError>;
    /// Consume the challenge at `now_ms` with its audit entry, atomically: it must exist, be
    /// unused and not expired (`expires_ms > now_ms`). `Conflict` otherwise (nothing written;
    /// [`LoginStore::get_login_challenge`] tells why).
    fn consume_login_challenge(
        &self,
        challenge_id: &[u8],
        now_ms: u64,
        audit: &AuditEvent,
    ) -> Result<(), StoreError>;
}
