//! The hash-chained, append-only audit log's entry format and chain check.
//!
//! Each entry's hash is SHA-256 over the previous entry's hash and the entry's own fields, so
//! removing, reordering or editing any entry breaks every hash after it. The storage layer also
//! refuses UPDATE and DELETE on the table; the chain is what proves it to a third party.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The hash before the first entry.
pub const GENESIS: [u8; 32] = [0u8; 32];

/// What happened (stable strings; they are part of the evidence format).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditKind {
    /// A key was enrolled.
    Enrolled,
    /// A certificate was issued.
    CertificateIssued,
    /// A co-signature was produced (detail carries e).
    Signed,
    /// A wrong PIN was presented.
    PinFailure,
    /// The key locked after too many wrong PINs.
    Locked,
    /// A request was refused (policy, locked key...).
    Refused,
    /// A liveness challenge was issued.
    ChallengeIssued,
    /// Evidence was received and the liveness check passed.
    EvidenceAccepted,
    /// Evidence was received and the liveness check failed.
    EvidenceRejected,
    /// A key's signing policy was set.
    PolicyChanged,
}

impl AuditKind {
    /// The stable name stored in the log.
    pub fn as_str(self) -> &'static str {
        match self {
            AuditKind::Enrolled => "enrolled",
            AuditKind::CertificateIssued => "certificate_issued",
            AuditKind::Signed => "signed",
            AuditKind::PinFailure => "pin_failure",
            AuditKind::Locked => "locked",
            AuditKind::Refused => "refused",
            AuditKind::ChallengeIssued => "challenge_issued",
            AuditKind::EvidenceAccepted => "evidence_accepted",
            AuditKind::EvidenceRejected => "evidence_rejected",
            AuditKind::PolicyChanged => "policy_changed",
        }
    }
}

/// An event to append; the store assigns sequence, time and hashes.
#[derive(Clone, Debug)]
pub struct AuditEvent {
    /// Kind of event.
    pub kind: AuditKind,
    /// Key concerned, if any.
    pub key_id: Option<String>,
    /// Details as JSON (never secrets: no PINs, no shares, no nonces).
    pub detail: serde_json::Value,
}

impl AuditEvent {
    /// Build an event.
    pub fn new(kind: AuditKind, key_id: &str, detail: serde_json::Value) -> Self {
        AuditEvent {
            kind,
            key_id: Some(key_id.to_owned()),
            detail,
        }
    }
}

/// A stored entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// Position in the log, from 1.
    pub seq: u64,
    /// Milliseconds since the Unix epoch.
    pub at_ms: u64,
    /// Kind name.
    pub kind: String,
    /// Key concerned.
    pub key_id: Option<String>,
    /// Details, as the JSON text that was hashed.
    pub detail: String,
    /// Hash of the previous entry, hex.
    pub prev_hash: String,
    /// This entry's hash, hex.
    pub hash: String,
}

impl AuditEntry {
    /// This entry's hash recomputed from its fields, chained after `prev`.
    pub fn hash_after(&self, prev: &[u8; 32]) -> [u8; 32] {
        entry_hash(
            prev,
            self.seq,
            self.at_ms,
            &self.kind,
            self.key_id.as_deref(),
            &self.detail,
        )
    }

    /// Whether the stored hash recomputes from the fields and the stored previous hash (a
    /// check of one entry on its own; [`verify_chain`] checks a run of them).
    pub fn recomputes(&self) -> bool {
        let mut prev = [0u8; 32];
        hex::decode_to_slice(&self.prev_hash, &mut prev).is_ok()
            && hex::encode(self.hash_after(&prev)) == self.hash
    }
}

/// The chained hash of one entry.
pub fn entry_hash(
    prev: &[u8; 32],
    seq: u64,
    at_ms: u64,
    kind: &str,
    key_id: Option<&str>,
    detail: &str,
) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"inkseal/audit/v1");
    h.update(prev);
    h.update(seq.to_be_bytes());
    h.update(at_ms.to_be_bytes());
    for part in [kind, key_id.unwrap_or(""), detail] {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part.as_bytes());
    }
    h.finalize().into()
}

/// Check a run of entries starting at the genesis: sequence, links and hashes.
///
/// Returns the index of the first bad entry on failure.
pub fn verify_chain(entries: &[AuditEntry]) -> Result<(), usize> {
    let mut prev = GENESIS;
    for (i, e) in entries.iter().enumerate() {
        let expected = e.hash_after(&prev);
        if e.seq != i as u64 + 1
            || e.prev_hash != hex::encode(prev)
            || e.hash != hex::encode(expected)
        {
            return Err(i);
        }
        prev = expected;
    }
    Ok(())
}
