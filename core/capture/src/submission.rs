//! The JSON body the phone posts to the server after the capture.
//!
//! ```json
//! {
//!   "challenge_id": "...",
//!   "manifest": { "version": 1, "algorithm": "sm3", "session_id": "...", "entries": [ ... ] },
//!   "liveness": {
//!     "vendor_name": "inkseal-test-vendor", "vendor_reference": "...",
//!     "vendor_package_hex": "...", "frames_hex": ["...", ...],
//!     "events": [ { "at_ms": 0, "kind": "...", "detail": "..." } ]
//!   },
//!   "id_card": { ...IdCardFields... } | null
//! }
//! ```
//!
//! Binary artefacts are lower-case hex (the convention of the other inkseal bodies). The body is
//! at most [`MAX_SUBMISSION_BYTES`] = 16 MiB, so the frames and package together must stay under
//! about 8 MiB raw; the ID-card photos and the intent recording are not in the body (their
//! digests are in the manifest, and the institution may fetch them separately).
//!
//! The server reads the body with [`EvidenceSubmission::from_json`], then
//! [`EvidenceSubmission::check_consistency`] (the manifest verifies and every submitted
//! artefact is the one the manifest records), then [`EvidenceSubmission::check_challenge`]
//! against the challenge it issued, and only then hands the package and frames to its vendor
//! adapter (for example [`crate::test_vendor::check`]).

use crate::challenge::LivenessChallenge;
use crate::error::SubmissionError;
use crate::hooks::{ClientEvent, MAX_FRAMES, check_events};
use crate::id_card::IdCardFields;
use crate::manifest::{EvidenceEntry, EvidenceKind, EvidenceManifest, client_events_bytes};
use serde::{Deserialize, Serialize};

/// Largest submission body: 16 MiB.
pub const MAX_SUBMISSION_BYTES: usize = 16 * 1024 * 1024;

/// The liveness part of a submission.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LivenessEvidence {
    /// The liveness vendor's name (the server picks its adapter by it).
    pub vendor_name: String,
    /// The vendor's reference of the capture.
    pub vendor_reference: String,
    /// The vendor's package, hex.
    pub vendor_package_hex: String,
    /// The frames, hex, in capture order.
    pub frames_hex: Vec<String>,
    /// The client events of the capture.
    pub events: Vec<ClientEvent>,
}

/// The evidence submission body.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvidenceSubmission {
    /// The challenge this evidence answers (also the manifest's session id).
    pub challenge_id: String,
    /// The hash-chained manifest.
    pub manifest: EvidenceManifest,
    /// The liveness artefacts.
    pub liveness: LivenessEvidence,
    /// The ID-card fields, when the card was captured.
    #[serde(default)]
    pub id_card: Option<IdCardFields>,
}

fn decode_hex(text: &str, field: &'static str) -> Result<Vec<u8>, SubmissionError> {
    hex::decode(text).map_err(|_| SubmissionError::BadHex { field })
}

fn exactly_one(
    manifest: &EvidenceManifest,
    kind: EvidenceKind,
) -> Result<&EvidenceEntry, SubmissionError> {
    let mut it = manifest.entries_of(kind);
    match (it.next(), it.count()) {
        (Some(e), 0) => Ok(e),
        (first, rest) => Err(SubmissionError::EntryCount {
            kind,
            found: usize::from(first.is_some()) + rest,
            expected: 1,
        }),
    }
}

fn artefact_matches(
    manifest: &EvidenceManifest,
    entry: &EvidenceEntry,
    bytes: &[u8],
    index: usize,
) -> Result<(), SubmissionError> {
    manifest
        .verify_artefact(entry.seq, bytes)
        .map_err(|_| SubmissionError::ArtefactMismatch {
            kind: entry.kind,
            index,
            seq: entry.seq,
        })
}

impl EvidenceSubmission {
    /// Parse a body of at most [`MAX_SUBMISSION_BYTES`]. Nothing is verified yet: call
    /// [`EvidenceSubmission::check_consistency`].
    pub fn from_json(bytes: &[u8]) -> Result<Self, SubmissionError> {
        if bytes.len() > MAX_SUBMISSION_BYTES {
            return Err(SubmissionError::TooLarge {
                len: bytes.len(),
                max: MAX_SUBMISSION_BYTES,
            });
        }
        serde_json::from_slice(bytes).map_err(|e| SubmissionError::Json(e.to_string()))
    }

    /// The JSON body; refused if it would exceed [`MAX_SUBMISSION_BYTES`].
    pub fn to_json(&self) -> Result<Vec<u8>, SubmissionError> {
        let body = serde_json::to_vec(self).map_err(|e| SubmissionError::Json(e.to_string()))?;
        if body.len() > MAX_SUBMISSION_BYTES {
            return Err(SubmissionError::TooLarge {
                len: body.len(),
                max: MAX_SUBMISSION_BYTES,
            });
        }
        Ok(body)
    }

    /// The decoded frames.
    pub fn frames(&self) -> Result<Vec<Vec<u8>>, SubmissionError> {
        if self.liveness.frames_hex.len() > MAX_FRAMES {
            return Err(SubmissionError::TooMany {
                what: "frames",
                count: self.liveness.frames_hex.len(),
                max: MAX_FRAMES,
            });
        }
        self.liveness
            .frames_hex
            .iter()
            .map(|f| decode_hex(f, "frames_hex"))
            .collect()
    }

    /// The decoded vendor package.
    pub fn vendor_package(&self) -> Result<Vec<u8>, SubmissionError> {
        decode_hex(&self.liveness.vendor_package_hex, "vendor_package_hex")
    }

    /// Check that the submission is what its manifest records:
    ///
    /// - the manifest [verifies](EvidenceManifest::verify) and its session id is `challenge_id`;
    /// - it has exactly one `challenge` entry, the first, whose `challenge_id` meta is
    ///   `challenge_id`;
    /// - it has one `liveness_frame` entry per submitted frame, in the same order, each with the
    ///   frame's digest (at most [`MAX_FRAMES`] frames);
    /// - exactly one `vendor_package` entry with the package's digest and the same
    ///   `vendor_name` / `vendor_reference` meta;
    /// - exactly one `client_events` entry with the events' digest (events within limits);
    /// - exactly one `id_card_fields` entry with the fields' digest when `id_card` is present,
    ///   none when it is absent.
    pub fn check_consistency(&self) -> Result<(), SubmissionError> {
        let m = &self.manifest;
        m.verify()?;
        if m.session_id != self.challenge_id {
            return Err(SubmissionError::ChallengeMismatch(
                "manifest session id differs from challenge_id",
            ));
        }
        let challenge = exactly_one(m, EvidenceKind::Challenge)?;
        if challenge.seq != 0 {
            return Err(SubmissionError::ChallengeMismatch(
                "the challenge is not the first entry",
            ));
        }
        if challenge.meta.get("challenge_id") != Some(&self.challenge_id) {
            return Err(SubmissionError::ChallengeMismatch(
                "challenge entry names another challenge",
            ));
        }

        let frames = self.frames()?;
        let frame_entries: Vec<&EvidenceEntry> =
            m.entries_of(EvidenceKind::LivenessFrame).collect();
        if frame_entries.len() != frames.len() {
            return Err(SubmissionError::EntryCount {
                kind: EvidenceKind::LivenessFrame,
                found: frame_entries.len(),
                expected: frames.len(),
            });
        }
        for (index, (entry, frame)) in frame_entries.iter().zip(&frames).enumerate() {
            artefact_matches(m, entry, frame, index)?;
        }

        let package_entry = exactly_one(m, EvidenceKind::VendorPackage)?;
        artefact_matches(m, package_entry, &self.vendor_package()?, 0)?;
        if package_entry.meta.get("vendor_name") != Some(&self.liveness.vendor_name)
            || package_entry.meta.get("vendor_reference") != Some(&self.liveness.vendor_reference)
        {
            return Err(SubmissionError::VendorMismatch);
        }

        check_events(&self.liveness.events).map_err(SubmissionError::BadEvents)?;
        let events_entry = exactly_one(m, EvidenceKind::ClientEvents)?;
        artefact_matches(
            m,
            events_entry,
            &client_events_bytes(&self.liveness.events),
            0,
        )?;

        match &self.id_card {
            Some(fields) => {
                let entry = exactly_one(m, EvidenceKind::IdCardFields)?;
                artefact_matches(m, entry, &fields.canonical_bytes(), 0)?;
            }
            None => {
                let found = m.entries_of(EvidenceKind::IdCardFields).count();
                if found != 0 {
                    return Err(SubmissionError::EntryCount {
                        kind: EvidenceKind::IdCardFields,
                        found,
                        expected: 0,
                    });
                }
            }
        }
        Ok(())
    }

    /// Server side: the manifest's `challenge` entry records exactly `challenge` (the one the
    /// server issued and stored), by digest of its canonical encoding. Call after
    /// [`EvidenceSubmission::check_consistency`].
    pub fn check_challenge(&self, challenge: &LivenessChallenge) -> Result<(), SubmissionError> {
        if challenge.challenge_id != self.challenge_id {
            return Err(SubmissionError::ChallengeMismatch(
                "submission answers another challenge",
            ));
        }
        let entry = exactly_one(&self.manifest, EvidenceKind::Challenge)?;
        artefact_matches(&self.manifest, entry, &challenge.canonical_bytes(), 0)
    }

    /// The manifest head, lower-case hex (what `CosignRequest.evidence_head` must carry).
    pub fn head_hex(&self) -> String {
        self.manifest.head_hex()
    }
}
