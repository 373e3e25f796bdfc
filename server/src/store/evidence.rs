//! Storage of liveness challenges, evidence and per-key signing policies.
//!
//! Challenges are single use: taking one is a single conditional UPDATE, so two concurrent
//! submissions cannot both consume it. Evidence rows are append-only (the SQLite store refuses
//! UPDATE and DELETE with triggers), like the audit log.

use super::StoreError;
use crate::audit::{AuditEntry, AuditEvent};

/// A liveness challenge as issued.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChallengeRecord {
    /// The challenge id (also the evidence manifest's session id).
    pub challenge_id: String,
    /// The key it was issued for.
    pub key_id: String,
    /// The challenge as sent, JSON.
    pub challenge_json: String,
    /// Expiry (unix ms, server clock).
    pub expires_ms: u64,
}

/// The server's verdict on one evidence submission, kept for disputes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EvidenceRecord {
    /// The challenge the evidence answers (one evidence per challenge).
    pub challenge_id: String,
    /// The key it was captured for.
    pub key_id: String,
    /// Head of the evidence manifest (lower-case hex); what signing requests carry.
    pub manifest_head: String,
    /// The whole manifest, JSON.
    pub manifest_json: String,
    /// Whether the liveness check passed.
    pub passed: bool,
    /// Why it passed or failed, in words.
    pub reason: String,
    /// Liveness vendor.
    pub vendor_name: String,
    /// The vendor's reference for the check.
    pub vendor_reference: String,
    /// The ID number with the middle masked, when an ID card was captured.
    pub id_number_masked: Option<String>,
    /// When the server received it (unix ms).
    pub received_ms: u64,
}

/// Signing rules of one key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SigningPolicy {
    /// Co-signing needs a passed liveness result bound to the request.
    pub require_liveness: bool,
    /// How old (seconds since the server received it) that result may be.
    pub max_evidence_age_secs: u64,
}

impl Default for SigningPolicy {
    /// No liveness required; evidence, when presented, valid for 10 minutes.
    fn default() -> Self {
        SigningPolicy {
            require_liveness: false,
            max_evidence_age_secs: 600,
        }
    }
}

/// A produced signature, as the evidence export lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignatureSummary {
    /// The client's idempotency key (identifies the signing).
    pub idempotency_key: String,
    /// The digest signed.
    pub e: Vec<u8>,
    /// The evidence manifest head the request carried.
    pub evidence_head: Option<String>,
    /// When it was produced (unix ms).
    pub created_ms: u64,
}

/// Outcome of [`EvidenceStore::take_challenge`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Taken {
    /// This call consumed the challenge.
    Fresh(ChallengeRecord),
    /// The challenge had been used before.
    AlreadyUsed,
    /// No such challenge.
    Unknown,
}

/// Evidence storage; part of every [`Store`](super::Store).
pub trait EvidenceStore {
    /// Store a new challenge and its audit entry atomically.
    fn insert_challenge(
        &self,
        challenge: &ChallengeRecord,
        audit: &AuditEvent,
    ) -> Result<(), StoreError>;
    /// Consume a challenge (single use), whatever the outcome of the check that follows.
    fn take_challenge(&self, challenge_id: &str) -> Result<Taken, StoreError>;
    /// Store a verdict and its audit entry atomically; `Conflict` if the challenge already
    /// has evidence or the manifest head is already known.
    fn insert_evidence(
        &self,
        evidence: &EvidenceRecord,
        audit: &AuditEvent,
    ) -> Result<(), StoreError>;
    /// The evidence with this manifest head for this key.
    fn find_evidence(
        &self,
        key_id: &str,
        manifest_head: &str,
    ) -> Result<Option<EvidenceRecord>, StoreError>;
    /// The challenge as issued.
    fn get_challenge(&self, challenge_id: &str) -> Result<Option<ChallengeRecord>, StoreError>;
    /// The key's own signing policy, if one was set.
    fn get_policy(&self, key_id: &str) -> Result<Option<SigningPolicy>, StoreError>;
    /// Set the key's signing policy (audited).
    fn set_policy(
        &self,
        key_id: &str,
        policy: &SigningPolicy,
        audit: &AuditEvent,
    ) -> Result<(), StoreError>;
    /// One produced signature.
    fn get_signature(
        &self,
        key_id: &str,
        idempotency_key: &str,
    ) -> Result<Option<SignatureSummary>, StoreError>;
    /// Audit entries about one key, oldest first, at most `limit`.
    fn audit_entries_for_key(
        &self,
        key_id: &str,
        limit: u32,
    ) -> Result<Vec<AuditEntry>, StoreError>;
}
