//! The hash-chained, append-only audit log: entry format, chain check, signed checkpoints.
//!
//! Each entry's hash is SHA-256 over the previous entry's hash and the entry's own fields
//! (including who called and from where), so removing, reordering or editing any entry breaks
//! every hash after it. The storage layer also refuses UPDATE and DELETE on the table.
//!
//! A chain alone does not stop someone holding the database from deleting an entry and
//! re-hashing everything after it. So the server **anchors** the chain: it signs checkpoints
//! (sequence number, head hash, time) with an audit key held by the vault (inside the HSM
//! where one is configured). [`verify_log`] checks the whole chain against the checkpoints and
//! the vault's public key: a rewritten chain no longer matches the heads the key signed.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::net::IpAddr;

/// The hash before the first entry.
pub const GENESIS: [u8; 32] = [0u8; 32];

/// What happened (stable strings; they are part of the evidence format).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditKind {
    /// An enrollment ticket was issued.
    TicketIssued,
    /// A key was enrolled.
    Enrolled,
    /// A certificate was issued.
    CertificateIssued,
    /// A co-signature was produced (detail carries e and the document).
    Signed,
    /// A wrong PIN was presented.
    PinFailure,
    /// The key locked after too many wrong PINs.
    Locked,
    /// The PIN was changed.
    PinChanged,
    /// An operator unlocked the key.
    Unlocked,
    /// The key was revoked.
    Revoked,
    /// A request was refused (authentication, policy, locked key...).
    Refused,
    /// A liveness challenge was issued.
    ChallengeIssued,
    /// Evidence was received and the liveness check passed.
    EvidenceAccepted,
    /// Evidence was received and the liveness check failed.
    EvidenceRejected,
    /// A key's signing policy was set.
    PolicyChanged,
    /// An operator credential was created.
    CredentialCreated,
    /// An operator credential was revoked.
    CredentialRevoked,
    /// Housekeeping removed expired rows (their audit entries stay).
    Purged,
    /// An institution seal was created (key generated, organisation certificate issued).
    SealCreated,
    /// An institution seal was disabled.
    SealDisabled,
    /// A document was sealed (one entry per document of a batch: seal, label, digest).
    Sealed,
    /// An envelope was opened with the institution's encryption key (seal id, document label,
    /// SHA-256 of the envelope, content type, cipher, plaintext length; never the plaintext).
    EnvelopeOpened,
    /// A transaction was co-signed (attached CMS): apart from document signatures, the detail
    /// carries the transaction id, the payee's account, the amount and the currency as well as
    /// e and the document.
    TransactionSigned,
    /// A certificate-login challenge was issued to an institution's backend (relying party,
    /// challenge id, expiry).
    LoginChallengeIssued,
    /// A login assertion was co-signed (attached CMS), apart from document signatures: the
    /// detail names the relying party and the challenge.
    LoginSigned,
    /// A login assertion was verified and its challenge consumed: who logged in, to whom.
    LoginVerified,
    /// A login assertion was refused at verification (replayed, expired, revoked, wrong
    /// relying party, bad signature): why.
    LoginRefused,
    /// The server applied an encryption key's share in a two-party decryption: the detail
    /// names the envelope (SM3, as the client claims it; the server sees only a blinded point)
    /// and the idempotency key; the caller and address are the entry's.
    Decrypted,
}

impl AuditKind {
    /// The stable name stored in the log.
    pub fn as_str(self) -> &'static str {
        match self {
            AuditKind::TicketIssued => "ticket_issued",
            AuditKind::Enrolled => "enrolled",
            AuditKind::CertificateIssued => "certificate_issued",
            AuditKind::Signed => "signed",
            AuditKind::PinFailure => "pin_failure",
            AuditKind::Locked => "locked",
            AuditKind::PinChanged => "pin_changed",
            AuditKind::Unlocked => "unlocked",
            AuditKind::Revoked => "revoked",
            AuditKind::Refused => "refused",
            AuditKind::ChallengeIssued => "challenge_issued",
            AuditKind::EvidenceAccepted => "evidence_accepted",
            AuditKind::EvidenceRejected => "evidence_rejected",
            AuditKind::PolicyChanged => "policy_changed",
            AuditKind::CredentialCreated => "credential_created",
            AuditKind::CredentialRevoked => "credential_revoked",
            AuditKind::Purged => "purged",
            AuditKind::SealCreated => "seal_created",
            AuditKind::SealDisabled => "seal_disabled",
            AuditKind::Sealed => "sealed",
            AuditKind::EnvelopeOpened => "envelope_opened",
            AuditKind::TransactionSigned => "transaction_signed",
            AuditKind::LoginChallengeIssued => "login_challenge_issued",
            AuditKind::LoginSigned => "login_signed",
            AuditKind::LoginVerified => "login_verified",
            AuditKind::LoginRefused => "login_refused",
            AuditKind::Decrypted => "decrypted",
        }
    }
}

/// Who made a request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Actor {
    /// The server itself (start-up, housekeeping).
    System,
    /// A caller that did not (or not yet) authenticate.
    Anonymous,
    /// A phone, authenticated by the device key of this key id (or, at enrollment, of this
    /// ticket id).
    Device(String),
    /// The institution's backend, authenticated by this operator credential id.
    Operator(String),
}

impl Actor {
    /// The form stored in the audit log: `system`, `anonymous`, `device:<id>`,
    /// `operator:<credential id>`.
    pub fn label(&self) -> String {
        match self {
            Actor::System => "system".into(),
            Actor::Anonymous => "anonymous".into(),
            Actor::Device(id) => format!("device:{id}"),
            Actor::Operator(id) => format!("operator:{id}"),
        }
    }
}

/// Who called and from where: what every audit entry records.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Caller {
    /// The authenticated (or not) party.
    pub actor: Actor,
    /// The client's address as the server saw it (no proxy headers are trusted).
    pub address: Option<IpAddr>,
}

impl Caller {
    /// The server itself.
    pub fn system() -> Self {
        Caller {
            actor: Actor::System,
            address: None,
        }
    }

    /// An unauthenticated caller at `address`.
    pub fn anonymous(address: Option<IpAddr>) -> Self {
        Caller {
            actor: Actor::Anonymous,
            address,
        }
    }

    /// The operator credential id, when an operator called.
    pub fn operator_id(&self) -> Option<&str> {
        match &self.actor {
            Actor::Operator(id) => Some(id),
            _ => None,
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
    /// Details as JSON (never secrets: no PINs, no shares, no nonces, no ID numbers).
    pub detail: serde_json::Value,
    /// Who called ([`Actor::label`]).
    pub actor: String,
    /// From where (the client address, or empty).
    pub client: String,
}

impl AuditEvent {
    /// An event about `key_id`, made by the server itself until [`AuditEvent::by`] names the
    /// caller.
    pub fn new(kind: AuditKind, key_id: &str, detail: serde_json::Value) -> Self {
        AuditEvent {
            kind,
            key_id: Some(key_id.to_owned()),
            detail,
            actor: Actor::System.label(),
            client: String::new(),
        }
    }

    /// An event about no key in particular.
    pub fn global(kind: AuditKind, detail: serde_json::Value) -> Self {
        AuditEvent {
            key_id: None,
            ..AuditEvent::new(kind, "", detail)
        }
    }

    /// Record `caller` as the one who made this happen.
    pub fn by(mut self, caller: &Caller) -> Self {
        self.actor = caller.actor.label();
        self.client = caller.address.map(|a| a.to_string()).unwrap_or_default();
        self
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
    /// Who called ([`Actor::label`]).
    pub actor: String,
    /// The client's address, or empty.
    pub client: String,
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
            EntryFields {
                kind: &self.kind,
                key_id: self.key_id.as_deref(),
                actor: &self.actor,
                client: &self.client,
                detail: &self.detail,
            },
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

/// The hashed fields of one entry besides its position and time.
#[derive(Clone, Copy, Debug)]
pub struct EntryFields<'a> {
    /// Kind name.
    pub kind: &'a str,
    /// Key concerned.
    pub key_id: Option<&'a str>,
    /// Who called.
    pub actor: &'a str,
    /// From where.
    pub client: &'a str,
    /// Details (JSON text).
    pub detail: &'a str,
}

/// The chained hash of one entry (format `inkseal/audit/v2`: every field length-prefixed).
pub fn entry_hash(prev: &[u8; 32], seq: u64, at_ms: u64, fields: EntryFields<'_>) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"inkseal/audit/v2");
    h.update(prev);
    h.update(seq.to_be_bytes());
    h.update(at_ms.to_be_bytes());
    for part in [
        fields.kind,
        fields.key_id.unwrap_or(""),
        fields.actor,
        fields.client,
        fields.detail,
    ] {
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

/// A signed statement "the log's entry `seq` had hash `head`" made at `at_ms`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// The last entry covered.
    pub seq: u64,
    /// That entry's hash, hex.
    pub head_hash: String,
    /// When the checkpoint was signed (unix ms).
    pub at_ms: u64,
    /// ECDSA P-256 signature (r || s, hex) by the vault's audit key over
    /// [`Checkpoint::signed_bytes`].
    pub signature_hex: String,
}

impl Checkpoint {
    /// The bytes the audit key signs.
    pub fn signed_bytes(seq: u64, head_hash: &[u8; 32], at_ms: u64) -> Vec<u8> {
        let mut m = Vec::with_capacity(80);
        m.extend_from_slice(b"inkseal/audit-checkpoint/v1");
        m.extend_from_slice(&seq.to_be_bytes());
        m.extend_from_slice(head_hash);
        m.extend_from_slice(&at_ms.to_be_bytes());
        m
    }

    /// Whether the signature verifies under `key`.
    pub fn verifies(&self, key: &p256::ecdsa::VerifyingKey) -> bool {
        use p256::ecdsa::signature::Verifier;
        let mut head = [0u8; 32];
        let Ok(sig) = hex::decode(&self.signature_hex) else {
            return false;
        };
        let Ok(sig) = p256::ecdsa::Signature::from_slice(&sig) else {
            return false;
        };
        hex::decode_to_slice(&self.head_hash, &mut head).is_ok()
            && key
                .verify(&Checkpoint::signed_bytes(self.seq, &head, self.at_ms), &sig)
                .is_ok()
    }
}

/// What [`verify_log`] found.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogVerification {
    /// Entries checked.
    pub entries: u64,
    /// Checkpoints checked.
    pub checkpoints: u64,
    /// The last entry a valid checkpoint covers (entries after it are protected only by the
    /// chain until the next checkpoint).
    pub anchored_through: u64,
    /// Problems found, in words (empty when the log is intact).
    pub problems: Vec<String>,
}

impl LogVerification {
    /// No problem found.
    pub fn is_intact(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Checks a log page by page (the log can be larger than memory): the chain from the genesis,
/// and every checkpoint's signature under the vault's audit key and head hash against the
/// chain as it is now.
pub struct LogVerifier<'a> {
    checkpoints: std::collections::BTreeMap<u64, &'a Checkpoint>,
    checkpoint_count: u64,
    prev: [u8; 32],
    next_seq: u64,
    chain_broken: bool,
    anchored_through: u64,
    problems: Vec<String>,
}

impl<'a> LogVerifier<'a> {
    /// Start with the stored checkpoints (oldest first) and the key they must verify under.
    pub fn new(checkpoints: &'a [Checkpoint], audit_key: &p256::ecdsa::VerifyingKey) -> Self {
        let mut problems = Vec::new();
        let mut map = std::collections::BTreeMap::new();
        for c in checkpoints {
            if !c.verifies(audit_key) {
                problems.push(format!(
                    "checkpoint {} is not signed by this server's audit key",
                    c.seq
                ));
            } else if map.insert(c.seq, c).is_some() {
                problems.push(format!("checkpoint {} appears twice", c.seq));
            }
        }
        LogVerifier {
            checkpoints: map,
            checkpoint_count: checkpoints.len() as u64,
            prev: GENESIS,
            next_seq: 1,
            chain_broken: false,
            anchored_through: 0,
            problems,
        }
    }

    /// Check the next entries, in order.
    pub fn feed(&mut self, entries: &[AuditEntry]) {
        for e in entries {
            if !self.chain_broken {
                let expected = e.hash_after(&self.prev);
                if e.seq != self.next_seq
                    || e.prev_hash != hex::encode(self.prev)
                    || e.hash != hex::encode(expected)
                {
                    self.problems.push(format!(
                        "the hash chain breaks at entry {} (stored seq {})",
                        self.next_seq, e.seq
                    ));
                    self.chain_broken = true;
                }
                self.prev = expected;
            }
            if let Some(c) = self.checkpoints.remove(&e.seq) {
                if c.head_hash == e.hash {
                    self.anchored_through = self.anchored_through.max(e.seq);
                } else {
                    self.problems.push(format!(
                        "entry {} no longer has the hash checkpoint {} signed (the log was rewritten)",
                        e.seq, c.seq
                    ));
                }
            }
            self.next_seq += 1;
        }
    }

    /// The verdict.
    pub fn finish(mut self) -> LogVerification {
        for seq in self.checkpoints.keys() {
            self.problems.push(format!(
                "checkpoint {seq} names an entry the log no longer has (entries were removed)"
            ));
        }
        LogVerification {
            entries: self.next_seq - 1,
            checkpoints: self.checkpoint_count,
            anchored_through: self.anchored_through,
            problems: self.problems,
        }
    }
}

/// [`LogVerifier`] over a log held in memory.
pub fn verify_log(
    entries: &[AuditEntry],
    checkpoints: &[Checkpoint],
    audit_key: &p256::ecdsa::VerifyingKey,
) -> LogVerification {
    let mut v = LogVerifier::new(checkpoints, audit_key);
    v.feed(entries);
    v.finish()
}
