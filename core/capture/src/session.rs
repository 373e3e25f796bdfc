//! The capture session: drives the hooks in order, checks what they return, and records
//! everything in the evidence manifest.
//!
//! Order (enforced):
//!
//! 1. [`CaptureSession::start`] validates the challenge against the clock and records it
//!    (`challenge` entry, seq 0). The manifest's session id is the challenge id.
//! 2. [`CaptureSession::capture_id_card`] (required when `require_id_card`): both photos pass
//!    [`check_image`] with the ID-card thresholds, the fields pass
//!    [`check_id_card`](crate::id_card::check_id_card); then `id_card_front`, `id_card_back`,
//!    `id_card_fields` and a passing `check_result` are recorded.
//! 3. [`CaptureSession::capture_liveness`]: the challenge is re-checked for expiry, the hook
//!    gets the challenge, the capture must respect the limits and every frame must pass the
//!    challenge's thresholds (with its face box if given); then one `liveness_frame` per frame,
//!    the `vendor_package`, the `client_events` and a passing `check_result` are recorded.
//! 4. [`CaptureSession::record_intent`] when the configuration has an intent statement:
//!    `intent_recording`.
//! 5. Optionally [`CaptureSession::bind_document`] (or [`CaptureOutcome::bind_document`] after
//!    finishing): a `document_digest` entry for the document about to be signed.
//! 6. [`CaptureSession::finish`] returns the manifest and the submission body. The final
//!    [head](CaptureOutcome::head_hex) is what goes into `CosignRequest.evidence_head`.
//!
//! A step whose check fails records nothing but a `check_result` entry with `result` =
//! `rejected` and the error's [`code`](CaptureError::code) (never personal data), and can be
//! retried (retake the photo), so the manifest keeps the history of attempts. The phone's
//! checks are a first filter for a good user experience; the verdict that counts is the
//! server's, from its liveness vendor.

use crate::challenge::LivenessChallenge;
use crate::date::Date;
use crate::digest::DigestAlgorithm;
use crate::error::{CaptureError, ImageRole};
use crate::hooks::{FaceLivenessHook, IdCardHook, IntentRecordingHook, MAX_STATEMENT_BYTES};
use crate::id_card::{IdCardFields, IdCardReport, check_id_card_capture};
use crate::manifest::{EvidenceKind, EvidenceManifest, ManifestBuilder, client_events_bytes, meta};
use crate::quality::{ImageReport, QualityThresholds, check_image};
use crate::submission::{EvidenceSubmission, LivenessEvidence, MAX_SUBMISSION_BYTES};
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

/// Where the session gets "now" (milliseconds since the Unix epoch) for the challenge's expiry
/// and the entries' `at_ms`.
#[derive(Clone)]
pub enum Clock {
    /// The system clock.
    System,
    /// Always this value (tests, replays).
    Fixed(u64),
    /// A function (an app's trusted time source, or an advancing test clock).
    Custom(Arc<dyn Fn() -> u64 + Send + Sync>),
}

impl Clock {
    /// Now, in milliseconds since the Unix epoch.
    pub fn now_ms(&self) -> u64 {
        match self {
            Clock::System => std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
                .unwrap_or(0),
            Clock::Fixed(ms) => *ms,
            Clock::Custom(f) => f(),
        }
    }
}

impl fmt::Debug for Clock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Clock::System => f.write_str("Clock::System"),
            Clock::Fixed(ms) => write!(f, "Clock::Fixed({ms})"),
            Clock::Custom(_) => f.write_str("Clock::Custom(..)"),
        }
    }
}

/// How a session runs.
#[derive(Clone, Debug)]
pub struct CaptureConfig {
    /// Digest algorithm of the manifest.
    pub algorithm: DigestAlgorithm,
    /// Whether the ID card must be captured (before the face).
    pub require_id_card: bool,
    /// The statement the user must read aloud, if intent recording is required (at most
    /// 1024 bytes, no control characters).
    pub intent_statement: Option<String>,
    /// Today's date, for the card's validity (local date: see [`Date::from_unix_ms`]).
    pub today: Date,
    /// The source of "now".
    pub clock: Clock,
    /// Thresholds for the ID-card photos (the face thresholds come with the challenge).
    pub id_card_thresholds: QualityThresholds,
}

impl CaptureConfig {
    /// ID card required, no intent recording, system clock, [`QualityThresholds::id_card`].
    pub fn new(algorithm: DigestAlgorithm, today: Date) -> Self {
        CaptureConfig {
            algorithm,
            require_id_card: true,
            intent_statement: None,
            today,
            clock: Clock::System,
            id_card_thresholds: QualityThresholds::id_card(),
        }
    }
}

/// The hooks for [`CaptureSession::run`].
#[derive(Clone, Copy)]
pub struct CaptureHooks<'a> {
    /// ID-card capture (needed when the configuration requires the card).
    pub id_card: Option<&'a dyn IdCardHook>,
    /// Face liveness.
    pub liveness: &'a dyn FaceLivenessHook,
    /// Intent recording (needed when the configuration has a statement).
    pub intent: Option<&'a dyn IntentRecordingHook>,
}

/// What a finished session gives.
#[derive(Clone, Debug)]
pub struct CaptureOutcome {
    /// The evidence manifest.
    pub manifest: EvidenceManifest,
    /// The body to post to the server (its manifest equals `manifest`).
    pub submission: EvidenceSubmission,
    /// The ID card's check report, if the card was captured.
    pub id_card: Option<IdCardReport>,
    /// Each liveness frame's measures.
    pub frame_reports: Vec<ImageReport>,
}

impl CaptureOutcome {
    /// The manifest head, lower-case hex: the value of `CosignRequest.evidence_head`.
    pub fn head_hex(&self) -> String {
        self.manifest.head_hex()
    }

    /// Append a `document_digest` entry (the digest of the document about to be signed,
    /// computed with `document_algorithm`) to the manifest and the submission, and return the
    /// new head.
    pub fn bind_document(
        &mut self,
        document_algorithm: DigestAlgorithm,
        document_digest: [u8; 32],
        at_ms: u64,
    ) -> Result<String, CaptureError> {
        let mut builder = ManifestBuilder::resume(self.manifest.clone())?;
        append_document(&mut builder, document_algorithm, document_digest, at_ms)?;
        self.manifest = builder.finish();
        self.submission.manifest = self.manifest.clone();
        Ok(self.head_hex())
    }
}

fn append_document(
    builder: &mut ManifestBuilder,
    document_algorithm: DigestAlgorithm,
    document_digest: [u8; 32],
    at_ms: u64,
) -> Result<(), CaptureError> {
    builder.append_digest(
        EvidenceKind::DocumentDigest,
        at_ms,
        document_digest,
        meta([("document_digest_algorithm", document_algorithm.as_str())]),
    )?;
    Ok(())
}

/// One capture session (see the module doc for the order).
#[derive(Debug)]
pub struct CaptureSession {
    config: CaptureConfig,
    challenge: LivenessChallenge,
    builder: ManifestBuilder,
    id_card: Option<(IdCardFields, IdCardReport)>,
    liveness: Option<(LivenessEvidence, Vec<ImageReport>)>,
    intent_recorded: bool,
}

fn fmt1(v: f64) -> String {
    format!("{v:.1}")
}

impl CaptureSession {
    /// Validate `challenge` now and record it. Fails with [`CaptureError::Challenge`] (ask the
    /// server for a new one) or [`CaptureError::Misuse`] for a bad intent statement.
    pub fn start(
        config: CaptureConfig,
        challenge: LivenessChallenge,
    ) -> Result<Self, CaptureError> {
        let bad_statement = config.intent_statement.as_deref().is_some_and(|s| {
            s.trim().is_empty() || s.len() > MAX_STATEMENT_BYTES || s.chars().any(char::is_control)
        });
        if bad_statement {
            return Err(CaptureError::Misuse(
                "intent statement must be 1-1024 bytes without control characters",
            ));
        }
        let now = config.clock.now_ms();
        challenge.validate(now)?;
        let mut builder = ManifestBuilder::new(config.algorithm, challenge.challenge_id.clone())?;
        let actions: Vec<&str> = challenge.actions.iter().map(|a| a.as_str()).collect();
        builder.append(
            EvidenceKind::Challenge,
            now,
            &challenge.canonical_bytes(),
            meta([
                ("challenge_id", challenge.challenge_id.clone()),
                ("mode", challenge.mode.as_str().to_string()),
                ("actions", actions.join(",")),
                ("expires_at_ms", challenge.expires_at_ms.to_string()),
            ]),
        )?;
        Ok(CaptureSession {
            config,
            challenge,
            builder,
            id_card: None,
            liveness: None,
            intent_recorded: false,
        })
    }

    /// Run every step in order with `hooks` and finish.
    pub fn run(
        config: CaptureConfig,
        challenge: LivenessChallenge,
        hooks: CaptureHooks<'_>,
    ) -> Result<CaptureOutcome, CaptureError> {
        let mut session = CaptureSession::start(config, challenge)?;
        if session.config.require_id_card {
            let hook = hooks.id_card.ok_or(CaptureError::Misuse(
                "the configuration requires the ID card but no ID-card hook was given",
            ))?;
            session.capture_id_card(hook)?;
        }
        session.capture_liveness(hooks.liveness)?;
        if session.config.intent_statement.is_some() {
            let hook = hooks.intent.ok_or(CaptureError::Misuse(
                "the configuration has an intent statement but no intent hook was given",
            ))?;
            session.record_intent(hook)?;
        }
        session.finish()
    }

    /// The challenge.
    pub fn challenge(&self) -> &LivenessChallenge {
        &self.challenge
    }

    /// The manifest so far.
    pub fn manifest(&self) -> &EvidenceManifest {
        self.builder.manifest()
    }

    /// The head so far, lower-case hex.
    pub fn head_hex(&self) -> String {
        self.builder.head_hex()
    }

    /// Record a refused attempt, then hand the error back.
    fn rejected(&mut self, check: &str, error: CaptureError) -> CaptureError {
        let now = self.config.clock.now_ms();
        let record = self.builder.append_check_result(
            now,
            meta([
                ("check", check),
                ("result", "rejected"),
                ("code", error.code()),
            ]),
        );
        match record {
            Ok(_) => error,
            // The manifest is full: that error wins (the session cannot go on).
            Err(e) => CaptureError::Manifest(e),
        }
    }

    /// Capture and check the ID card (before the face). On success the photos, the fields and
    /// the check result are recorded; on failure only a rejected check result, and the step can
    /// be retried.
    pub fn capture_id_card(
        &mut self,
        hook: &dyn IdCardHook,
    ) -> Result<&IdCardReport, CaptureError> {
        if self.id_card.is_some() {
            return Err(CaptureError::Misuse("the ID card was already captured"));
        }
        if self.liveness.is_some() {
            return Err(CaptureError::Misuse(
                "the ID card must be captured before the face",
            ));
        }
        let capture = match hook.capture() {
            Ok(c) => c,
            Err(e) => return Err(self.rejected("id_card", e.into())),
        };
        let report = match check_id_card_capture(
            &capture.front,
            &capture.back,
            &capture.fields,
            &self.config.id_card_thresholds,
            self.config.today,
        ) {
            Ok(r) => r,
            Err(e) => return Err(self.rejected("id_card", e.into())),
        };
        let now = self.config.clock.now_ms();
        for (kind, bytes, image) in [
            (EvidenceKind::IdCardFront, &capture.front, &report.front),
            (EvidenceKind::IdCardBack, &capture.back, &report.back),
        ] {
            let mut m = BTreeMap::new();
            if let Some(r) = image {
                m = image_meta(r);
            }
            self.builder.append(kind, now, bytes, m)?;
        }
        self.builder.append(
            EvidenceKind::IdCardFields,
            now,
            &capture.fields.canonical_bytes(),
            BTreeMap::new(),
        )?;
        self.builder.append_check_result(
            now,
            meta([
                ("check", "id_card".to_string()),
                ("result", "pass".to_string()),
                ("valid_until", report.valid_until.to_string()),
            ]),
        )?;
        let (_, report) = self.id_card.insert((capture.fields, report));
        Ok(report)
    }

    /// Run the face liveness hook with the challenge and check what it returns. On success the
    /// frames, the vendor package, the events and the check result are recorded.
    pub fn capture_liveness(
        &mut self,
        hook: &dyn FaceLivenessHook,
    ) -> Result<&[ImageReport], CaptureError> {
        if self.liveness.is_some() {
            return Err(CaptureError::Misuse("liveness was already captured"));
        }
        if self.config.require_id_card && self.id_card.is_none() {
            return Err(CaptureError::Misuse("capture the ID card first"));
        }
        self.challenge.validate(self.config.clock.now_ms())?;
        let capture = match hook.capture(&self.challenge) {
            Ok(c) => c,
            Err(e) => return Err(self.rejected("liveness", e.into())),
        };
        // The capture may have taken long: a challenge that expired meanwhile is refused here
        // rather than by the server later.
        self.challenge.validate(self.config.clock.now_ms())?;
        let thresholds = &self.challenge.thresholds;
        if let Err(m) = capture.check_limits(thresholds.max_bytes) {
            return Err(self.rejected("liveness", CaptureError::BadCapture(m)));
        }
        let raw: usize = capture.frames.iter().map(|f| f.image.len()).sum::<usize>()
            + capture.vendor_package.len();
        // Hex doubles the artefacts; keep 1 MiB for the manifest, events and fields.
        if raw.saturating_mul(2) > MAX_SUBMISSION_BYTES - 1024 * 1024 {
            let e = CaptureError::BadCapture(format!(
                "frames and package total {raw} bytes, too large for the submission"
            ));
            return Err(self.rejected("liveness", e));
        }
        let mut reports = Vec::with_capacity(capture.frames.len());
        for (i, frame) in capture.frames.iter().enumerate() {
            match check_image(&frame.image, thresholds, frame.face_box) {
                Ok(r) => reports.push(r),
                Err(error) => {
                    let e = CaptureError::Image {
                        role: ImageRole::LivenessFrame(i),
                        error,
                    };
                    return Err(self.rejected("liveness", e));
                }
            }
        }
        let now = self.config.clock.now_ms();
        for (i, (frame, report)) in capture.frames.iter().zip(&reports).enumerate() {
            let mut m = image_meta(report);
            m.insert("index".into(), i.to_string());
            m.insert("captured_at_ms".into(), frame.at_ms.to_string());
            self.builder
                .append(EvidenceKind::LivenessFrame, now, &frame.image, m)?;
        }
        self.builder.append(
            EvidenceKind::VendorPackage,
            now,
            &capture.vendor_package,
            meta([
                ("vendor_name", capture.vendor_name.clone()),
                ("vendor_reference", capture.vendor_reference.clone()),
            ]),
        )?;
        self.builder.append(
            EvidenceKind::ClientEvents,
            now,
            &client_events_bytes(&capture.events),
            meta([("count", capture.events.len().to_string())]),
        )?;
        self.builder.append_check_result(
            now,
            meta([
                ("check", "liveness_quality".to_string()),
                ("result", "pass".to_string()),
                ("frames", reports.len().to_string()),
            ]),
        )?;
        let evidence = LivenessEvidence {
            vendor_name: capture.vendor_name,
            vendor_reference: capture.vendor_reference,
            vendor_package_hex: hex::encode(&capture.vendor_package),
            frames_hex: capture
                .frames
                .iter()
                .map(|f| hex::encode(&f.image))
                .collect(),
            events: capture.events,
        };
        let (_, reports) = self.liveness.insert((evidence, reports));
        Ok(reports)
    }

    /// Record the intent statement (after the face). Requires a configured statement.
    pub fn record_intent(&mut self, hook: &dyn IntentRecordingHook) -> Result<(), CaptureError> {
        let Some(statement) = self.config.intent_statement.clone() else {
            return Err(CaptureError::Misuse("no intent statement is configured"));
        };
        if self.intent_recorded {
            return Err(CaptureError::Misuse("the intent was already recorded"));
        }
        if self.liveness.is_none() {
            return Err(CaptureError::Misuse(
                "the intent is recorded after the face capture",
            ));
        }
        let recording = match hook.record(&statement) {
            Ok(r) => r,
            Err(e) => return Err(self.rejected("intent", e.into())),
        };
        if let Err(m) = recording.check(&statement) {
            return Err(self.rejected("intent", CaptureError::BadIntentRecording(m)));
        }
        let now = self.config.clock.now_ms();
        self.builder.append(
            EvidenceKind::IntentRecording,
            now,
            &recording.media,
            meta([
                ("media_type", recording.media_type.clone()),
                ("statement", statement),
                ("started_at_ms", recording.started_at_ms.to_string()),
                ("ended_at_ms", recording.ended_at_ms.to_string()),
                ("bytes", recording.media.len().to_string()),
            ]),
        )?;
        self.intent_recorded = true;
        Ok(())
    }

    /// Append a `document_digest` entry for the document about to be signed (its digest under
    /// `document_algorithm`), and return the new head.
    pub fn bind_document(
        &mut self,
        document_algorithm: DigestAlgorithm,
        document_digest: [u8; 32],
    ) -> Result<String, CaptureError> {
        let now = self.config.clock.now_ms();
        append_document(&mut self.builder, document_algorithm, document_digest, now)?;
        Ok(self.builder.head_hex())
    }

    /// Finish: every required step must be done. Returns the manifest and the submission.
    pub fn finish(self) -> Result<CaptureOutcome, CaptureError> {
        if self.config.require_id_card && self.id_card.is_none() {
            return Err(CaptureError::Misuse("the ID card was not captured"));
        }
        if self.config.intent_statement.is_some() && !self.intent_recorded {
            return Err(CaptureError::Misuse("the intent was not recorded"));
        }
        let Some((liveness, frame_reports)) = self.liveness else {
            return Err(CaptureError::Misuse("liveness was not captured"));
        };
        let manifest = self.builder.finish();
        let (fields, report) = match self.id_card {
            Some((f, r)) => (Some(f), Some(r)),
            None => (None, None),
        };
        let submission = EvidenceSubmission {
            challenge_id: self.challenge.challenge_id,
            manifest: manifest.clone(),
            liveness,
            id_card: fields,
        };
        // Same checks the server runs; a failure here is a bug, better found on the phone.
        submission.check_consistency()?;
        submission.to_json()?;
        Ok(CaptureOutcome {
            manifest,
            submission,
            id_card: report,
            frame_reports,
        })
    }
}

fn image_meta(r: &ImageReport) -> BTreeMap<String, String> {
    meta([
        ("width", r.width.to_string()),
        ("height", r.height.to_string()),
        ("mean_luma", fmt1(r.mean_luma)),
        ("sharpness", fmt1(r.sharpness)),
    ])
}
