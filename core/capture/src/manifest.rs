//! The hash-chained evidence manifest.
//!
//! Every artefact of a capture session (the challenge, each frame, the vendor package, the
//! events, the ID-card photos and fields, the intent recording, the phone's check results and
//! finally the digest of the document about to be signed) becomes one [`EvidenceEntry`] that
//! records the artefact's digest and links to the previous entry's hash. The hash of the last
//! entry, the *head*, goes into the co-signing request (`CosignRequest.evidence_head`), so the
//! signature is bound to exactly this evidence in exactly this order.
//!
//! # Encoding (version 1)
//!
//! `H` is the manifest's [`DigestAlgorithm`]. `str(x)` is a `u32` big-endian byte length
//! followed by the UTF-8 bytes, `bytes(x)` the same for raw bytes, integers are big-endian at
//! their width (see [`crate::encoding`]).
//!
//! ```text
//! genesis  = H( str("inkseal/evidence-manifest/genesis/v1") u32(version)
//!               str(algorithm) str(session_id) )
//! entry_hash = H( str("inkseal/evidence-manifest/entry/v1") u32(version) str(algorithm)
//!               str(session_id) u64(seq) str(kind) u64(at_ms) bytes(artefact_digest)
//!               u32(number of meta pairs) { str(key) str(value) } in ascending key byte order
//!               bytes(prev) )
//! ```
//!
//! `algorithm` is `"sm3"` or `"sha256"`, `kind` the snake_case name of [`EvidenceKind`],
//! `artefact_digest` and `prev` the raw 32 bytes. Entry `seq` numbers are 0, 1, 2, ... in
//! order; entry 0's `prev` is `genesis`, entry `n`'s `prev` is entry `n-1`'s `entry_hash`. The
//! head of a manifest is its last entry's hash (the genesis value while it is empty). In JSON,
//! every digest is 64 lower-case hex characters; any other spelling is refused.
//!
//! The artefact digest is `H(artefact bytes)`: for frames, photos, the vendor package and the
//! recording the bytes as captured; for structured artefacts their canonical encoding
//! ([`LivenessChallenge::canonical_bytes`](crate::challenge::LivenessChallenge::canonical_bytes),
//! [`IdCardFields::canonical_bytes`](crate::id_card::IdCardFields::canonical_bytes),
//! [`client_events_bytes`], [`check_result_bytes`]). One exception: a
//! [`EvidenceKind::DocumentDigest`] entry records the document's digest itself, computed with
//! the algorithm named in its `document_digest_algorithm` meta.
//!
//! Verification ([`EvidenceManifest::verify`]) recomputes every link. A truncated manifest is
//! still a valid chain, but its head differs: the server compares the head with the one bound
//! into the co-signing request.

use crate::digest::DigestAlgorithm;
use crate::encoding::{Canonical, is_lower_hex, is_plain_id};
use crate::error::ManifestError;
use crate::hooks::ClientEvent;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The manifest version this code writes and verifies.
pub const MANIFEST_VERSION: u32 = 1;
/// Most entries in one manifest.
pub const MAX_ENTRIES: usize = 256;
/// Most meta pairs in one entry.
pub const MAX_META_ENTRIES: usize = 32;
/// Longest meta key (`[a-z0-9_.-]`), in bytes.
pub const MAX_META_KEY_BYTES: usize = 64;
/// Longest meta value, in bytes.
pub const MAX_META_VALUE_BYTES: usize = 1024;
/// Longest manifest JSON [`EvidenceManifest::from_json`] reads: 1 MiB.
pub const MAX_MANIFEST_JSON_BYTES: usize = 1024 * 1024;

/// Domain-separation tag of the genesis value.
pub const GENESIS_TAG: &str = "inkseal/evidence-manifest/genesis/v1";
/// Domain-separation tag of an entry hash.
pub const ENTRY_TAG: &str = "inkseal/evidence-manifest/entry/v1";
/// Domain-separation tag of [`check_result_bytes`].
pub const CHECK_RESULT_TAG: &str = "inkseal/evidence-manifest/check-result/v1";
/// Domain-separation tag of [`client_events_bytes`].
pub const CLIENT_EVENTS_TAG: &str = "inkseal/evidence-manifest/client-events/v1";

/// What an entry records (JSON: snake_case, for example `"liveness_frame"`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EvidenceKind {
    /// The server's challenge (canonical encoding); meta `challenge_id`.
    Challenge,
    /// One liveness frame; meta `index`, `mean_luma`, `sharpness`, `width`, `height`.
    LivenessFrame,
    /// The liveness vendor's package; meta `vendor_name`, `vendor_reference`.
    VendorPackage,
    /// The capture's client events ([`client_events_bytes`]); meta `count`.
    ClientEvents,
    /// Photo of the ID card's front.
    IdCardFront,
    /// Photo of the ID card's back.
    IdCardBack,
    /// The fields read from the ID card (canonical encoding).
    IdCardFields,
    /// The intent recording; meta `media_type`, `statement`, `started_at_ms`, `ended_at_ms`.
    IntentRecording,
    /// A check the phone ran ([`check_result_bytes`] of the meta); meta `check`, `result`.
    CheckResult,
    /// The digest of the document about to be signed; meta `document_digest_algorithm`.
    DocumentDigest,
}

impl EvidenceKind {
    /// The wire name, also used in the entry hash.
    pub fn as_str(self) -> &'static str {
        match self {
            EvidenceKind::Challenge => "challenge",
            EvidenceKind::LivenessFrame => "liveness_frame",
            EvidenceKind::VendorPackage => "vendor_package",
            EvidenceKind::ClientEvents => "client_events",
            EvidenceKind::IdCardFront => "id_card_front",
            EvidenceKind::IdCardBack => "id_card_back",
            EvidenceKind::IdCardFields => "id_card_fields",
            EvidenceKind::IntentRecording => "intent_recording",
            EvidenceKind::CheckResult => "check_result",
            EvidenceKind::DocumentDigest => "document_digest",
        }
    }
}

/// One link of the chain.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvidenceEntry {
    /// Position in the manifest, from 0.
    pub seq: u64,
    /// What is recorded.
    pub kind: EvidenceKind,
    /// When it was recorded, milliseconds since the Unix epoch (phone clock, informative).
    pub at_ms: u64,
    /// Digest of the artefact, 64 lower-case hex characters.
    pub artefact_digest_hex: String,
    /// Small facts about the artefact (keys `[a-z0-9_.-]`, at most 32 pairs).
    pub meta: BTreeMap<String, String>,
    /// The previous entry's hash (genesis for entry 0).
    pub prev_hex: String,
    /// This entry's hash.
    pub entry_hash_hex: String,
}

/// The manifest: a session's entries under one algorithm.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvidenceManifest {
    /// [`MANIFEST_VERSION`].
    pub version: u32,
    /// The digest algorithm of every digest and link.
    pub algorithm: DigestAlgorithm,
    /// The session (the challenge id): 1-128 characters of `[A-Za-z0-9._:-]`.
    pub session_id: String,
    /// The entries, `seq` 0, 1, 2, ...
    pub entries: Vec<EvidenceEntry>,
}

/// The genesis value of a session's chain (`prev` of entry 0).
pub fn genesis(algorithm: DigestAlgorithm, session_id: &str) -> [u8; 32] {
    let mut c = Canonical::new(GENESIS_TAG);
    c.u32(MANIFEST_VERSION)
        .str(algorithm.as_str())
        .str(session_id);
    algorithm.digest(&c.finish())
}

/// The fields an entry hash covers.
struct EntryContent<'a> {
    algorithm: DigestAlgorithm,
    session_id: &'a str,
    seq: u64,
    kind: EvidenceKind,
    at_ms: u64,
    artefact_digest: &'a [u8; 32],
    meta: &'a BTreeMap<String, String>,
    prev: &'a [u8; 32],
}

impl EntryContent<'_> {
    fn hash(&self) -> [u8; 32] {
        let mut c = Canonical::new(ENTRY_TAG);
        c.u32(MANIFEST_VERSION)
            .str(self.algorithm.as_str())
            .str(self.session_id)
            .u64(self.seq)
            .str(self.kind.as_str())
            .u64(self.at_ms)
            .bytes(self.artefact_digest)
            .count(self.meta.len());
        // BTreeMap<String, _> iterates in ascending byte order of the keys.
        for (k, v) in self.meta {
            c.str(k).str(v);
        }
        c.bytes(self.prev);
        self.algorithm.digest(&c.finish())
    }
}

/// The artefact of a [`EvidenceKind::CheckResult`] entry: the canonical encoding of its meta,
/// `str("inkseal/evidence-manifest/check-result/v1") u32(n) { str(key) str(value) }`, keys in
/// ascending byte order. Anyone holding the manifest can recompute it.
pub fn check_result_bytes(meta: &BTreeMap<String, String>) -> Vec<u8> {
    let mut c = Canonical::new(CHECK_RESULT_TAG);
    c.count(meta.len());
    for (k, v) in meta {
        c.str(k).str(v);
    }
    c.finish()
}

/// The artefact of a [`EvidenceKind::ClientEvents`] entry:
/// `str("inkseal/evidence-manifest/client-events/v1") u32(n) { u64(at_ms) str(kind) str(detail) }`
/// in the order given.
pub fn client_events_bytes(events: &[ClientEvent]) -> Vec<u8> {
    let mut c = Canonical::new(CLIENT_EVENTS_TAG);
    c.count(events.len());
    for e in events {
        c.u64(e.at_ms).str(&e.kind).str(&e.detail);
    }
    c.finish()
}

fn check_meta(seq: u64, meta: &BTreeMap<String, String>) -> Result<(), ManifestError> {
    let bad = |reason| Err(ManifestError::BadMeta { seq, reason });
    if meta.len() > MAX_META_ENTRIES {
        return bad("more than 32 pairs");
    }
    for (k, v) in meta {
        if k.is_empty()
            || k.len() > MAX_META_KEY_BYTES
            || !k
                .bytes()
                .all(|b| matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'_' | b'.' | b'-'))
        {
            return bad("key must be 1-64 characters of [a-z0-9_.-]");
        }
        if v.len() > MAX_META_VALUE_BYTES || v.chars().any(char::is_control) {
            return bad("value must be at most 1024 bytes without control characters");
        }
    }
    Ok(())
}

fn decode_digest(hex_text: &str, seq: u64, field: &'static str) -> Result<[u8; 32], ManifestError> {
    let mut out = [0u8; 32];
    if !is_lower_hex(hex_text, 32) || hex::decode_to_slice(hex_text, &mut out).is_err() {
        return Err(ManifestError::MalformedDigest { seq, field });
    }
    Ok(out)
}

impl EvidenceManifest {
    /// The head: the last entry's hash, or the genesis value when there is no entry. This is
    /// what goes into `CosignRequest.evidence_head`. (On a manifest that does not verify, this
    /// is just the last entry's claimed hash.)
    pub fn head_hex(&self) -> String {
        match self.entries.last() {
            Some(e) => e.entry_hash_hex.clone(),
            None => hex::encode(genesis(self.algorithm, &self.session_id)),
        }
    }

    /// Recompute every link: version, session id, entry count, then per entry its `seq`, the
    /// form of its digests and meta, its `prev` against the previous hash (or genesis) and its
    /// `entry_hash` against its content. The first broken entry is named.
    pub fn verify(&self) -> Result<(), ManifestError> {
        if self.version != MANIFEST_VERSION {
            return Err(ManifestError::UnsupportedVersion(self.version));
        }
        if !is_plain_id(&self.session_id) {
            return Err(ManifestError::BadSessionId);
        }
        if self.entries.len() > MAX_ENTRIES {
            return Err(ManifestError::TooManyEntries { max: MAX_ENTRIES });
        }
        let mut prev = genesis(self.algorithm, &self.session_id);
        for (index, e) in self.entries.iter().enumerate() {
            if e.seq != index as u64 {
                return Err(ManifestError::SeqOutOfOrder { index, seq: e.seq });
            }
            let seq = e.seq;
            let artefact = decode_digest(&e.artefact_digest_hex, seq, "artefact_digest_hex")?;
            let claimed_prev = decode_digest(&e.prev_hex, seq, "prev_hex")?;
            let claimed_hash = decode_digest(&e.entry_hash_hex, seq, "entry_hash_hex")?;
            check_meta(seq, &e.meta)?;
            if claimed_prev != prev {
                return Err(ManifestError::BrokenLink { seq });
            }
            let hash = EntryContent {
                algorithm: self.algorithm,
                session_id: &self.session_id,
                seq,
                kind: e.kind,
                at_ms: e.at_ms,
                artefact_digest: &artefact,
                meta: &e.meta,
                prev: &prev,
            }
            .hash();
            if hash != claimed_hash {
                return Err(ManifestError::HashMismatch { seq });
            }
            prev = hash;
        }
        Ok(())
    }

    /// The entry with sequence number `seq`.
    pub fn entry(&self, seq: u64) -> Option<&EvidenceEntry> {
        usize::try_from(seq)
            .ok()
            .and_then(|i| self.entries.get(i))
            .filter(|e| e.seq == seq)
    }

    /// The entries of one kind, in order.
    pub fn entries_of(&self, kind: EvidenceKind) -> impl Iterator<Item = &EvidenceEntry> {
        self.entries.iter().filter(move |e| e.kind == kind)
    }

    /// Check that `artefact` hashes, under the manifest's algorithm, to entry `seq`'s artefact
    /// digest. (A [`EvidenceKind::DocumentDigest`] entry holds the document's digest itself:
    /// compare its `artefact_digest_hex` directly.) This does not verify the chain: call
    /// [`EvidenceManifest::verify`] first.
    pub fn verify_artefact(&self, seq: u64, artefact: &[u8]) -> Result<(), ManifestError> {
        let entry = self.entry(seq).ok_or(ManifestError::NoSuchEntry(seq))?;
        let expected = decode_digest(&entry.artefact_digest_hex, seq, "artefact_digest_hex")?;
        if self.algorithm.digest(artefact) != expected {
            return Err(ManifestError::ArtefactMismatch { seq });
        }
        Ok(())
    }

    /// Parse JSON of at most [`MAX_MANIFEST_JSON_BYTES`] and [verify](Self::verify) it.
    pub fn from_json(bytes: &[u8]) -> Result<Self, ManifestError> {
        if bytes.len() > MAX_MANIFEST_JSON_BYTES {
            return Err(ManifestError::TooLarge {
                len: bytes.len(),
                max: MAX_MANIFEST_JSON_BYTES,
            });
        }
        let m: EvidenceManifest =
            serde_json::from_slice(bytes).map_err(|e| ManifestError::Json(e.to_string()))?;
        m.verify()?;
        Ok(m)
    }

    /// The JSON text.
    pub fn to_json(&self) -> Result<Vec<u8>, ManifestError> {
        serde_json::to_vec(self).map_err(|e| ManifestError::Json(e.to_string()))
    }
}

/// Builds a manifest one entry at a time, each linked to the last.
#[derive(Clone, Debug)]
pub struct ManifestBuilder {
    manifest: EvidenceManifest,
    head: [u8; 32],
}

impl ManifestBuilder {
    /// An empty manifest for `session_id` (1-128 characters of `[A-Za-z0-9._:-]`).
    pub fn new(
        algorithm: DigestAlgorithm,
        session_id: impl Into<String>,
    ) -> Result<Self, ManifestError> {
        let session_id = session_id.into();
        if !is_plain_id(&session_id) {
            return Err(ManifestError::BadSessionId);
        }
        let head = genesis(algorithm, &session_id);
        Ok(ManifestBuilder {
            manifest: EvidenceManifest {
                version: MANIFEST_VERSION,
                algorithm,
                session_id,
                entries: Vec::new(),
            },
            head,
        })
    }

    /// Continue an existing manifest (it is verified first).
    pub fn resume(manifest: EvidenceManifest) -> Result<Self, ManifestError> {
        manifest.verify()?;
        let head = match manifest.entries.last() {
            Some(e) => decode_digest(&e.entry_hash_hex, e.seq, "entry_hash_hex")?,
            None => genesis(manifest.algorithm, &manifest.session_id),
        };
        Ok(ManifestBuilder { manifest, head })
    }

    /// The algorithm.
    pub fn algorithm(&self) -> DigestAlgorithm {
        self.manifest.algorithm
    }

    /// Append an artefact: its digest is computed here.
    pub fn append(
        &mut self,
        kind: EvidenceKind,
        at_ms: u64,
        artefact: &[u8],
        meta: BTreeMap<String, String>,
    ) -> Result<&EvidenceEntry, ManifestError> {
        let digest = self.manifest.algorithm.digest(artefact);
        self.append_digest(kind, at_ms, digest, meta)
    }

    /// Append an entry whose artefact digest was computed elsewhere (a large recording hashed
    /// while it streamed, or a [`EvidenceKind::DocumentDigest`]).
    pub fn append_digest(
        &mut self,
        kind: EvidenceKind,
        at_ms: u64,
        artefact_digest: [u8; 32],
        meta: BTreeMap<String, String>,
    ) -> Result<&EvidenceEntry, ManifestError> {
        let seq = self.manifest.entries.len() as u64;
        if self.manifest.entries.len() >= MAX_ENTRIES {
            return Err(ManifestError::TooManyEntries { max: MAX_ENTRIES });
        }
        check_meta(seq, &meta)?;
        let hash = EntryContent {
            algorithm: self.manifest.algorithm,
            session_id: &self.manifest.session_id,
            seq,
            kind,
            at_ms,
            artefact_digest: &artefact_digest,
            meta: &meta,
            prev: &self.head,
        }
        .hash();
        self.manifest.entries.push(EvidenceEntry {
            seq,
            kind,
            at_ms,
            artefact_digest_hex: hex::encode(artefact_digest),
            meta,
            prev_hex: hex::encode(self.head),
            entry_hash_hex: hex::encode(hash),
        });
        self.head = hash;
        let last = self.manifest.entries.len() - 1;
        Ok(&self.manifest.entries[last])
    }

    /// Append a [`EvidenceKind::CheckResult`] whose artefact is [`check_result_bytes`] of `meta`.
    pub fn append_check_result(
        &mut self,
        at_ms: u64,
        meta: BTreeMap<String, String>,
    ) -> Result<&EvidenceEntry, ManifestError> {
        let bytes = check_result_bytes(&meta);
        self.append(EvidenceKind::CheckResult, at_ms, &bytes, meta)
    }

    /// The current head, lower-case hex.
    pub fn head_hex(&self) -> String {
        hex::encode(self.head)
    }

    /// The manifest so far.
    pub fn manifest(&self) -> &EvidenceManifest {
        &self.manifest
    }

    /// The finished manifest.
    pub fn finish(self) -> EvidenceManifest {
        self.manifest
    }
}

/// Build a meta map from pairs (a convenience for callers and tests).
pub fn meta<K: Into<String>, V: Into<String>>(
    pairs: impl IntoIterator<Item = (K, V)>,
) -> BTreeMap<String, String> {
    pairs
        .into_iter()
        .map(|(k, v)| (k.into(), v.into()))
        .collect()
}
