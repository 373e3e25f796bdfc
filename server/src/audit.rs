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
//!
//! **Lanes.** The log is one or more hash chains ("lanes"), each with its own sequence from 1
//! and its own genesis. SQLite keeps one lane, [`MAIN_LANE`]; on PostgreSQL each replica appends
//! to lanes of its own (`<replica>/<slot>`), so concurrent appends from different connections
//! and replicas do not contend for one head, and the log written before lanes existed is lane
//! `main`. Within a lane the order is total (by `seq`); across lanes entries are ordered only by
//! their times (`at_ms`, each replica's clock). An entry of lane `main` hashes as it always did
//! (format v2); an entry of any other lane also hashes its lane's name (format v3), so an entry
//! cannot be moved to another lane. A checkpoint signs the heads of every lane at one moment
//! ([`Checkpoint`]), so a lane that was dropped, cut short or rewritten is found as well as an
//! entry deleted, edited or reordered inside a lane.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::net::IpAddr;

/// The hash before the first entry of every lane.
pub const GENESIS: [u8; 32] = [0u8; 32];

/// The one lane of a SQLite store, and the lane the PostgreSQL log written before lanes
/// existed became (its entries hash as they always did).
pub const MAIN_LANE: &str = "main";

fn main_lane() -> String {
    MAIN_LANE.to_owned()
}

/// Longest lane name (bytes).
pub const MAX_LANE_NAME: usize = 128;

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
    /// Every kind, in the order of [`AuditKind::as_str`]'s arms (the OpenAPI description's
    /// `AuditEntry.kind` lists exactly these names; a test checks it).
    pub const ALL: [AuditKind; 27] = [
        AuditKind::TicketIssued,
        AuditKind::Enrolled,
        AuditKind::CertificateIssued,
        AuditKind::Signed,
        AuditKind::PinFailure,
        AuditKind::Locked,
        AuditKind::PinChanged,
        AuditKind::Unlocked,
        AuditKind::Revoked,
        AuditKind::Refused,
        AuditKind::ChallengeIssued,
        AuditKind::EvidenceAccepted,
        AuditKind::EvidenceRejected,
        AuditKind::PolicyChanged,
        AuditKind::CredentialCreated,
        AuditKind::CredentialRevoked,
        AuditKind::Purged,
        AuditKind::SealCreated,
        AuditKind::SealDisabled,
        AuditKind::Sealed,
        AuditKind::EnvelopeOpened,
        AuditKind::TransactionSigned,
        AuditKind::LoginChallengeIssued,
        AuditKind::LoginSigned,
        AuditKind::LoginVerified,
        AuditKind::LoginRefused,
        AuditKind::Decrypted,
    ];

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
    /// The lane (hash chain) the entry belongs to: [`MAIN_LANE`] on SQLite; on PostgreSQL the
    /// replica's lane that appended it (`main` for entries written before lanes existed).
    #[serde(default = "main_lane")]
    pub lane: String,
    /// Position in its lane, from 1.
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
        lane_entry_hash(
            &self.lane,
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
    hash_entry_body(h, prev, seq, at_ms, fields)
}

/// What formats v2 and v3 hash after their prefix: the previous hash, `seq`, `at_ms` and
/// every field length-prefixed.
fn hash_entry_body(
    mut h: Sha256,
    prev: &[u8; 32],
    seq: u64,
    at_ms: u64,
    fields: EntryFields<'_>,
) -> [u8; 32] {
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

/// The chained hash of one entry of `lane`: [`entry_hash`] (format v2) for [`MAIN_LANE`], so
/// the log written before lanes keeps its hashes; for any other lane format
/// `inkseal/audit/v3`, which also hashes the lane's name (length-prefixed) before the rest.
pub fn lane_entry_hash(
    lane: &str,
    prev: &[u8; 32],
    seq: u64,
    at_ms: u64,
    fields: EntryFields<'_>,
) -> [u8; 32] {
    if lane == MAIN_LANE {
        return entry_hash(prev, seq, at_ms, fields);
    }
    let mut h = Sha256::new();
    h.update(b"inkseal/audit/v3");
    h.update((lane.len() as u64).to_be_bytes());
    h.update(lane.as_bytes());
    hash_entry_body(h, prev, seq, at_ms, fields)
}

/// Whether `name` may name a lane: 1 to [`MAX_LANE_NAME`] bytes of printable ASCII.
pub fn valid_lane_name(name: &str) -> bool {
    !name.is_empty() && name.len() <= MAX_LANE_NAME && name.bytes().all(|b| b.is_ascii_graphic())
}

/// Check entries from the genesis of each lane: sequence, links and hashes. The entries may
/// come from several lanes, interleaved in any way, but each lane's in order of `seq` and
/// complete from its first entry.
///
/// Returns the index (in `entries`) of the first bad entry on failure.
pub fn verify_chain(entries: &[AuditEntry]) -> Result<(), usize> {
    let mut lanes: std::collections::HashMap<&str, (u64, [u8; 32])> =
        std::collections::HashMap::new();
    for (i, e) in entries.iter().enumerate() {
        let (count, prev) = lanes.entry(e.lane.as_str()).or_insert((0, GENESIS));
        let expected = e.hash_after(prev);
        if e.seq != *count + 1
            || e.prev_hash != hex::encode(*prev)
            || e.hash != hex::encode(expected)
        {
            return Err(i);
        }
        *count += 1;
        *prev = expected;
    }
    Ok(())
}

/// One lane's head as a checkpoint names it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LaneHead {
    /// The lane.
    pub lane: String,
    /// Its last entry's sequence number.
    pub seq: u64,
    /// That entry's hash, hex.
    pub head_hash: String,
}

/// What a checkpoint's signature covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckpointFormat {
    /// `inkseal/audit-checkpoint/v1`: the head of the one lane [`MAIN_LANE`] (a log of one
    /// chain: SQLite, and PostgreSQL before lanes).
    V1,
    /// `inkseal/audit-checkpoint/v2`: the heads of every lane the log had at `at_ms`, sorted by
    /// lane name: also proves which lanes existed.
    Lanes,
}

/// A signed statement "at `at_ms` the log's lanes had these heads" (see [`CheckpointFormat`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// What the signature covers.
    pub format: CheckpointFormat,
    /// The heads signed, sorted by lane, one per lane (exactly one, [`MAIN_LANE`]'s, in a
    /// [`CheckpointFormat::V1`] checkpoint).
    pub heads: Vec<LaneHead>,
    /// When the checkpoint was signed (unix ms).
    pub at_ms: u64,
    /// ECDSA P-256 signature (r || s, hex) by the vault's audit key over
    /// [`Checkpoint::signed_bytes`].
    pub signature_hex: String,
}

/// Why a checkpoint's content cannot be signed or checked.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CheckpointError {
    /// A head's hash is not 32 bytes of hex.
    #[error("head hash of lane {0} is not a SHA-256 in hex")]
    BadHash(String),
    /// Lanes not sorted, named twice, or a name that is not a lane name.
    #[error("the lanes are not sorted, unique, valid names")]
    BadLanes,
    /// A v1 checkpoint names something other than the one head of lane `main`.
    #[error("a v1 checkpoint names the head of lane main only")]
    NotV1,
}

impl Checkpoint {
    /// The format for a log whose lanes now have `heads` (sorted by lane): v1 for a log that is
    /// one lane `main` (SQLite; PostgreSQL before any replica wrote a lane), else lanes.
    pub fn format_for(heads: &[LaneHead]) -> CheckpointFormat {
        match heads {
            [only] if only.lane == MAIN_LANE => CheckpointFormat::V1,
            _ => CheckpointFormat::Lanes,
        }
    }

    /// The bytes the audit key signs for `heads` (sorted by lane, unique) at `at_ms`.
    pub fn signed_bytes(
        format: CheckpointFormat,
        heads: &[LaneHead],
        at_ms: u64,
    ) -> Result<Vec<u8>, CheckpointError> {
        let hash = |h: &LaneHead| {
            let mut out = [0u8; 32];
            hex::decode_to_slice(&h.head_hash, &mut out)
                .map_err(|_| CheckpointError::BadHash(h.lane.clone()))?;
            Ok::<_, CheckpointError>(out)
        };
        match format {
            CheckpointFormat::V1 => {
                let [only] = heads else {
                    return Err(CheckpointError::NotV1);
                };
                if only.lane != MAIN_LANE {
                    return Err(CheckpointError::NotV1);
                }
                let mut m = Vec::with_capacity(80);
                m.extend_from_slice(b"inkseal/audit-checkpoint/v1");
                m.extend_from_slice(&only.seq.to_be_bytes());
                m.extend_from_slice(&hash(only)?);
                m.extend_from_slice(&at_ms.to_be_bytes());
                Ok(m)
            }
            CheckpointFormat::Lanes => {
                let sorted = heads.windows(2).all(|w| w[0].lane < w[1].lane);
                if !sorted || !heads.iter().all(|h| valid_lane_name(&h.lane)) {
                    return Err(CheckpointError::BadLanes);
                }
                let mut m = Vec::with_capacity(48 + heads.len() * 64);
                m.extend_from_slice(b"inkseal/audit-checkpoint/v2");
                m.extend_from_slice(&at_ms.to_be_bytes());
                m.extend_from_slice(&(heads.len() as u64).to_be_bytes());
                for h in heads {
                    m.extend_from_slice(&(h.lane.len() as u64).to_be_bytes());
                    m.extend_from_slice(h.lane.as_bytes());
                    m.extend_from_slice(&h.seq.to_be_bytes());
                    m.extend_from_slice(&hash(h)?);
                }
                Ok(m)
            }
        }
    }

    /// This checkpoint's signed bytes.
    pub fn to_be_signed(&self) -> Result<Vec<u8>, CheckpointError> {
        Checkpoint::signed_bytes(self.format, &self.heads, self.at_ms)
    }

    /// SHA-256 of the heads alone (without the time): two replicas that checkpoint the same
    /// heads make the same digest, and the store keeps the first.
    pub fn heads_digest(&self) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update(b"inkseal/audit-heads/v1");
        for head in &self.heads {
            h.update((head.lane.len() as u64).to_be_bytes());
            h.update(head.lane.as_bytes());
            h.update(head.seq.to_be_bytes());
            h.update(head.head_hash.as_bytes());
        }
        h.finalize().into()
    }

    /// The head this checkpoint names for `lane`.
    pub fn head(&self, lane: &str) -> Option<&LaneHead> {
        self.heads.iter().find(|h| h.lane == lane)
    }

    /// Whether this checkpoint already covers every head in `heads` (no lane moved since).
    pub fn covers(&self, heads: &[LaneHead]) -> bool {
        heads
            .iter()
            .all(|h| self.head(&h.lane).is_some_and(|c| c.seq >= h.seq))
    }

    /// A short name for messages: `lanes checkpoint at <ms>` or `checkpoint <seq>` (v1).
    pub fn label(&self) -> String {
        match (self.format, self.heads.as_slice()) {
            (CheckpointFormat::V1, [only]) => format!("checkpoint {}", only.seq),
            _ => format!("lanes checkpoint of {} at {}", self.heads.len(), self.at_ms),
        }
    }

    /// Whether the signature verifies under `key`.
    pub fn verifies(&self, key: &p256::ecdsa::VerifyingKey) -> bool {
        use p256::ecdsa::signature::Verifier;
        let Ok(sig) = hex::decode(&self.signature_hex) else {
            return false;
        };
        let Ok(sig) = p256::ecdsa::Signature::from_slice(&sig) else {
            return false;
        };
        self.to_be_signed()
            .is_ok_and(|bytes| key.verify(&bytes, &sig).is_ok())
    }
}

/// What [`verify_log`] found in one lane.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LaneVerification {
    /// The lane.
    pub lane: String,
    /// Its entries checked.
    pub entries: u64,
    /// Its last entry a valid checkpoint covers (0: none yet).
    pub anchored_through: u64,
    /// Its first entry's time (unix ms), if it has entries.
    pub first_at_ms: Option<u64>,
    /// Its last entry's time (unix ms), if it has entries.
    pub last_at_ms: Option<u64>,
}

/// What [`verify_log`] found.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogVerification {
    /// Entries checked (every lane).
    pub entries: u64,
    /// Checkpoints checked.
    pub checkpoints: u64,
    /// Entries a valid checkpoint covers, every lane's together (for a log of one lane, the
    /// last entry a valid checkpoint covers; later entries are protected only by the chain
    /// until the next checkpoint).
    pub anchored_through: u64,
    /// Each lane, by name.
    #[serde(default)]
    pub lanes: Vec<LaneVerification>,
    /// Problems found, in words (empty when the log is intact).
    pub problems: Vec<String>,
}

impl LogVerification {
    /// No problem found.
    pub fn is_intact(&self) -> bool {
        self.problems.is_empty()
    }
}

/// One lane's state while it is checked.
struct LaneState {
    prev: [u8; 32],
    next_seq: u64,
    broken: bool,
    anchored_through: u64,
    first_at_ms: Option<u64>,
    last_at_ms: Option<u64>,
}

impl LaneState {
    fn new() -> Self {
        LaneState {
            prev: GENESIS,
            next_seq: 1,
            broken: false,
            anchored_through: 0,
            first_at_ms: None,
            last_at_ms: None,
        }
    }
}

/// Checks a log lane by lane and page by page (the log can be larger than memory): each
/// lane's chain from its genesis, every checkpoint's signature under the vault's audit key,
/// and every head a checkpoint names against the lane as it is now. A lane a checkpoint names
/// that the log no longer has, or has fewer entries of, is a problem.
pub struct LogVerifier {
    /// `(lane, seq)` → the hash valid checkpoints signed for it.
    anchors: std::collections::BTreeMap<String, std::collections::BTreeMap<u64, String>>,
    checkpoint_count: u64,
    lanes: std::collections::BTreeMap<String, LaneState>,
    problems: Vec<String>,
}

impl LogVerifier {
    /// Start with the stored checkpoints and the key they must verify under.
    pub fn new(checkpoints: &[Checkpoint], audit_key: &p256::ecdsa::VerifyingKey) -> Self {
        let mut problems = Vec::new();
        let mut anchors: std::collections::BTreeMap<
            String,
            std::collections::BTreeMap<u64, String>,
        > = std::collections::BTreeMap::new();
        for c in checkpoints {
            if !c.verifies(audit_key) {
                problems.push(format!(
                    "{} is not signed by this server's audit key",
                    c.label()
                ));
                continue;
            }
            for h in &c.heads {
                let lane = anchors.entry(h.lane.clone()).or_default();
                match lane.get(&h.seq) {
                    Some(other) if *other != h.head_hash => problems.push(format!(
                        "two signed checkpoints name different hashes for entry {} of lane {}",
                        h.seq, h.lane
                    )),
                    Some(_) => {}
                    None => {
                        lane.insert(h.seq, h.head_hash.clone());
                    }
                }
            }
        }
        LogVerifier {
            anchors,
            checkpoint_count: checkpoints.len() as u64,
            lanes: std::collections::BTreeMap::new(),
            problems,
        }
    }

    /// Check the next entries: each lane's in order of `seq`, lanes in any order (a lane may be
    /// fed in several pages).
    pub fn feed(&mut self, entries: &[AuditEntry]) {
        for e in entries {
            let state = self
                .lanes
                .entry(e.lane.clone())
                .or_insert_with(LaneState::new);
            if !state.broken {
                let expected = e.hash_after(&state.prev);
                if e.seq != state.next_seq
                    || e.prev_hash != hex::encode(state.prev)
                    || e.hash != hex::encode(expected)
                {
                    self.problems.push(format!(
                        "the hash chain of lane {} breaks at entry {} (stored seq {})",
                        e.lane, state.next_seq, e.seq
                    ));
                    state.broken = true;
                }
                state.prev = expected;
            }
            state.first_at_ms.get_or_insert(e.at_ms);
            state.last_at_ms = Some(e.at_ms);
            if let Some(hash) = self
                .anchors
                .get_mut(&e.lane)
                .and_then(|lane| lane.remove(&e.seq))
            {
                if hash == e.hash {
                    state.anchored_through = state.anchored_through.max(e.seq);
                } else {
                    self.problems.push(format!(
                        "entry {} of lane {} no longer has the hash a checkpoint signed (the \
                         log was rewritten)",
                        e.seq, e.lane
                    ));
                }
            }
            state.next_seq += 1;
        }
    }

    /// The verdict.
    pub fn finish(mut self) -> LogVerification {
        for (lane, seqs) in &self.anchors {
            let Some(&seq) = seqs.keys().next() else {
                continue;
            };
            if self.lanes.contains_key(lane) {
                self.problems.push(format!(
                    "a checkpoint names entry {seq} of lane {lane}, which the log no longer \
                     has (entries were removed)"
                ));
            } else {
                self.problems.push(format!(
                    "a checkpoint names lane {lane} (through entry {seq}), which the log no \
                     longer has (the lane was removed)"
                ));
            }
        }
        let lanes: Vec<LaneVerification> = self
            .lanes
            .into_iter()
            .map(|(lane, s)| LaneVerification {
                lane,
                entries: s.next_seq - 1,
                anchored_through: s.anchored_through,
                first_at_ms: s.first_at_ms,
                last_at_ms: s.last_at_ms,
            })
            .collect();
        LogVerification {
            entries: lanes.iter().map(|l| l.entries).sum(),
            checkpoints: self.checkpoint_count,
            anchored_through: lanes.iter().map(|l| l.anchored_through).sum(),
            lanes,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_openapi_description_lists_every_kind() {
        let api: serde_json::Value =
            serde_json::from_str(crate::http::OPENAPI).expect("openapi.json");
        let listed: Vec<&str> =
            api["components"]["schemas"]["AuditEntry"]["properties"]["kind"]["enum"]
                .as_array()
                .expect("enum")
                .iter()
                .map(|v| v.as_str().expect("name"))
                .collect();
        let names: Vec<&str> = AuditKind::ALL.iter().map(|k| k.as_str()).collect();
        assert_eq!(listed, names);
        let mut unique = names.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), names.len());
    }

    fn head(lane: &str, seq: u64, byte: u8) -> LaneHead {
        LaneHead {
            lane: lane.into(),
            seq,
            head_hash: hex::encode([byte; 32]),
        }
    }

    #[test]
    fn one_lane_logs_keep_the_v1_formats() {
        // The bytes a v1 checkpoint signs are those of the build before lanes, so the
        // checkpoints it signed still verify.
        let bytes =
            Checkpoint::signed_bytes(CheckpointFormat::V1, &[head("main", 7, 3)], 9).expect("v1");
        let mut old = b"inkseal/audit-checkpoint/v1".to_vec();
        old.extend_from_slice(&7u64.to_be_bytes());
        old.extend_from_slice(&[3; 32]);
        old.extend_from_slice(&9u64.to_be_bytes());
        assert_eq!(bytes, old);
        assert_eq!(
            Checkpoint::format_for(&[head("main", 7, 3)]),
            CheckpointFormat::V1
        );
        assert_eq!(
            Checkpoint::signed_bytes(CheckpointFormat::V1, &[head("a/0", 7, 3)], 9),
            Err(CheckpointError::NotV1)
        );
        // Lane main hashes as format v2 did; any other lane also hashes its name.
        let fields = EntryFields {
            kind: "signed",
            key_id: Some("k"),
            actor: "system",
            client: "",
            detail: "{}",
        };
        let v2 = entry_hash(&GENESIS, 1, 5, fields);
        assert_eq!(lane_entry_hash(MAIN_LANE, &GENESIS, 1, 5, fields), v2);
        let a = lane_entry_hash("a/0", &GENESIS, 1, 5, fields);
        let b = lane_entry_hash("b/0", &GENESIS, 1, 5, fields);
        assert!(a != v2 && a != b);
    }

    #[test]
    fn lanes_checkpoints_name_sorted_unique_lanes() {
        let heads = [head("a/0", 2, 1), head("b/0", 5, 2), head("main", 9, 3)];
        assert_eq!(Checkpoint::format_for(&heads), CheckpointFormat::Lanes);
        let bytes = Checkpoint::signed_bytes(CheckpointFormat::Lanes, &heads, 1).expect("v2");
        assert!(bytes.starts_with(b"inkseal/audit-checkpoint/v2"));
        for bad in [
            vec![head("b/0", 1, 1), head("a/0", 1, 1)],
            vec![head("a/0", 1, 1), head("a/0", 2, 1)],
            vec![head("a b", 1, 1)],
        ] {
            assert_eq!(
                Checkpoint::signed_bytes(CheckpointFormat::Lanes, &bad, 1),
                Err(CheckpointError::BadLanes)
            );
        }
        let c = Checkpoint {
            format: CheckpointFormat::Lanes,
            heads: heads.to_vec(),
            at_ms: 1,
            signature_hex: String::new(),
        };
        assert!(c.covers(&[head("a/0", 2, 1), head("main", 8, 3)]));
        assert!(!c.covers(&[head("a/0", 3, 1)]), "a lane moved");
        assert!(!c.covers(&[head("c/0", 1, 1)]), "a new lane");
    }
}
