//! Storage of liveness challenges, evidence and per-key signing policies.
//!
//! Challenges are single use: taking one is a single conditional UPDATE (on the challenge, its
//! key, and its being unused), so two concurrent submissions cannot both consume it, and a
//! stranger's submission naming someone else's challenge consumes nothing. Evidence rows are
//! append-only (the SQLite store refuses UPDATE and DELETE with triggers), like the audit log;
//! expired challenges that no evidence answered may be purged.

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
    /// The documents the manifest binds (SM3 digests, lower-case hex), in manifest order.
    pub document_digests: Vec<String>,
}

/// Signing rules of one key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SigningPolicy {
    /// Co-signing needs a passed liveness result bound to the request.
    pub require_liveness: bool,
    /// How old (seconds since the server received it) that result may be.
    pub max_evidence_age_secs: u64,
    /// One piece of evidence may sign each document it binds once (a loan package signed
    /// after one liveness check); otherwise it signs exactly one document, once.
    #[serde(default)]
    pub allow_batch: bool,
}

impl Default for SigningPolicy {
    /// No liveness required; evidence, when presented, valid for 10 minutes, one signature.
    fn default() -> Self {
        SigningPolicy {
            require_liveness: false,
            max_evidence_age_secs: 600,
            allow_batch: false,
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
    /// What kind of message was signed.
    pub message_kind: String,
    /// The document the message names (hex).
    pub document_digest: String,
    /// The evidence manifest head the request carried.
    pub evidence_head: Option<String>,
    /// When it was produced (unix ms).
    pub created_ms: u64,
}

/// Evidence storage; part of every [`Store`](super::Store).
pub trait EvidenceStore {
    /// Store a new challenge and its audit entry atomically.
    fn insert_challenge(
        &self,
        challenge: &ChallengeRecord,
        audit: &AuditEvent,
    ) -> Result<(), StoreError>;
    /// Consume the challenge with its verdict, atomically: the challenge must be `key_id`'s
    /// and unused; the evidence and its audit entry are stored with it. `Conflict` if the
    /// challenge was used meanwhile (or the manifest head is known).
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
    /// The challenge as issued, and whether it was used.
    fn get_challenge(
        &self,
        challenge_id: &str,
    ) -> Result<Option<(ChallengeRecord, bool)>, StoreError>;
    /// Challenges of `key_id` issued and not yet answered nor expired.
    fn open_challenges(&self, key_id: &str, now_ms: u64) -> Result<u64, StoreError>;
    /// The key's own signing policy, if one was set.
    fn get_policy(&self, key_id: &str) -> Result<Option<SigningPolicy>, StoreError>;
    /// Set the key's signing policy (audited).
    fn set_policy(
        &self,
        key_id: &str,
        policy: &SigningPolicy,
        audit: &AuditEvent,
    ) -> Result<(), StoreError>;
    /// The signings of a key, newest first, at most `limit`.
    fn signatures_of(&self, key_id: &str, limit: u32) -> Result<Vec<SignatureSummary>, StoreError>;
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
