//! Face liveness and ID-card capture hooks, quality checks and the evidence manifest.
//!
//! Banks must be able to prove that the person who signed was a live person holding the ID
//! card they enrolled with. The camera work is done by the app or a vendor SDK behind the
//! [`hooks`] traits; this crate drives the order, passes the server's one-time challenge to the
//! hooks, checks what comes back, hashes every artefact into a hash-chained evidence manifest,
//! and builds the body the phone posts to the server. It is sans-IO except for the demo's
//! [`file_hooks`]: no async runtime, no HTTP, no FFI. The verdict that counts is the
//! server's (its liveness-vendor adapter), never the phone's.
//!
//! # Flow
//!
//! ```text
//! server                                   phone (this crate)
//! ──────                                   ──────────────────
//! LivenessChallenge { id, 32-byte nonce,   CaptureSession::start(config, challenge)
//!   actions, thresholds, expiry } ───────▶   challenge.validate(now)            → entry 0: challenge
//!                                          capture_id_card(&dyn IdCardHook)
//!                                            check_image(front/back), check_id_card(fields, today)
//!                                                                     → id_card_front/back/fields, check_result
//!                                          capture_liveness(&dyn FaceLivenessHook)
//!                                            hook gets the challenge; frames checked with its thresholds
//!                                                                     → liveness_frame×n, vendor_package,
//!                                                                       client_events, check_result
//!                                          record_intent(&dyn IntentRecordingHook) (optional)
//!                                                                     → intent_recording
//!                                          finish() → CaptureOutcome { manifest, submission, .. }
//!                                          bind_document(alg, digest) → document_digest; head
//! EvidenceSubmission::from_json ◀──────── POST submission (JSON, ≤ 16 MiB)
//!   check_consistency, check_challenge,
//!   vendor adapter (test_vendor::check)
//! co-signing: CosignRequest.evidence_head ◀── manifest head (lower-case hex)
//!   must equal the stored manifest's head
//! ```
//!
//! # The manifest encoding
//!
//! Each entry's hash is `H(str(tag) u32(version) str(algorithm) str(session_id) u64(seq)
//! str(kind) u64(at_ms) bytes(artefact_digest) u32(n) {str(key) str(value)}… bytes(prev))`,
//! where `str`/`bytes` are a `u32` big-endian length then the bytes, integers are big-endian,
//! meta pairs are in ascending key order, and entry 0's `prev` is
//! `H(str("inkseal/evidence-manifest/genesis/v1") u32(version) str(algorithm) str(session_id))`.
//! `H` is SM3 or SHA-256. The head is the last entry's hash. Structured artefacts (challenge,
//! ID-card fields, events, check results) are digested in the same kind of length-prefixed
//! canonical encoding, never as JSON. Details: [`manifest`].
//!
//! # Modules
//!
//! - [`challenge`]: the server's challenge and its validation.
//! - [`quality`]: image decoding under limits, brightness, blur, face box.
//! - [`id_number`], [`id_card`], [`date`]: GB 11643 numbers, card fields, dates.
//! - [`hooks`]: the traits the app implements, and the data they return.
//! - [`manifest`], [`digest`]: the hash chain.
//! - [`submission`]: the body posted to the server and its consistency checks.
//! - [`test_vendor`]: the deterministic test vendor's package (shared with the server).
//! - [`session`]: the capture session.
//! - [`file_hooks`], [`samples`]: folder-based hooks and synthetic sample data.
//! - [`error`]: the typed errors and what the app should do about each.

pub mod challenge;
pub mod date;
pub mod digest;
pub mod encoding;
pub mod error;
pub mod file_hooks;
pub mod hooks;
pub mod id_card;
pub mod id_number;
pub mod manifest;
pub mod quality;
pub mod samples;
pub mod session;
pub mod submission;
pub mod test_vendor;

pub use challenge::{LivenessAction, LivenessChallenge, LivenessMode};
pub use date::Date;
pub use digest::DigestAlgorithm;
pub use error::{
    CaptureError, ChallengeError, DateError, IdCardError, IdNumberError, ImageRole, ManifestError,
    QualityError, RecoveryAction, SubmissionError, VendorCheckError,
};
pub use file_hooks::FileHooks;
pub use hooks::{
    CapturedFrame, ClientEvent, FaceLivenessHook, HookError, IdCardCapture, IdCardHook,
    IntentRecording, IntentRecordingHook, LivenessCapture,
};
pub use id_card::{IdCardFields, IdCardReport, ValidUntil, check_id_card};
pub use id_number::{IdNumber, Sex};
pub use manifest::{EvidenceEntry, EvidenceKind, EvidenceManifest, ManifestBuilder};
pub use quality::{FaceBox, ImageFormat, ImageReport, QualityThresholds, check_gray, check_image};
pub use session::{CaptureConfig, CaptureHooks, CaptureOutcome, CaptureSession, Clock};
pub use submission::{EvidenceSubmission, LivenessEvidence};
pub use test_vendor::TestVendorPackage;
