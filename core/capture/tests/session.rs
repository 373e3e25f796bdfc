//! Whole capture sessions: file hooks over a generated sample folder, retakes, errors, and what
//! the server checks on the submission.

#![allow(clippy::unwrap_used)]

use inkseal_capture::error::SubmissionError;
use inkseal_capture::hooks::MAX_FRAMES;
use inkseal_capture::samples::{box_blur_rgb, encode_jpeg, face_jpeg, face_rgb};
use inkseal_capture::test_vendor;
use inkseal_capture::{
    CaptureConfig, CaptureError, CaptureHooks, CaptureSession, CapturedFrame, ChallengeError,
    Clock, Date, DigestAlgorithm, EvidenceKind, EvidenceSubmission, FaceLivenessHook, FileHooks,
    HookError, IdCardCapture, IdCardHook, ImageRole, IntentRecording, IntentRecordingHook,
    LivenessAction, LivenessCapture, LivenessChallenge, QualityError, QualityThresholds,
    RecoveryAction, VendorCheckError,
};
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

const NOW: u64 = 1_750_000_000_000;
const STATEMENT: &str = "本人已阅读并同意《个人借款合同》全部条款，自愿签署。";

fn challenge() -> LivenessChallenge {
    LivenessChallenge::new(
        "chal-2025-0001",
        &[0x5a; 32],
        vec![LivenessAction::Blink, LivenessAction::TurnLeft],
        QualityThresholds::face(),
        NOW,
        5 * 60 * 1000,
    )
    .unwrap()
}

fn config() -> CaptureConfig {
    CaptureConfig {
        algorithm: DigestAlgorithm::Sm3,
        require_id_card: true,
        intent_statement: Some(STATEMENT.into()),
        today: Date::new(2025, 6, 15).unwrap(),
        clock: Clock::Fixed(NOW + 1_000),
        id_card_thresholds: QualityThresholds::id_card(),
    }
}

fn sample_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    FileHooks::write_sample(dir.path()).unwrap();
    dir
}

fn hooks(files: &FileHooks) -> CaptureHooks<'_> {
    CaptureHooks {
        id_card: Some(files),
        liveness: files,
        intent: Some(files),
    }
}

fn kinds(outcome_manifest: &inkseal_capture::EvidenceManifest) -> Vec<EvidenceKind> {
    outcome_manifest.entries.iter().map(|e| e.kind).collect()
}

#[test]
fn a_full_session_over_the_sample_folder() {
    let dir = sample_dir();
    let files = FileHooks::new(dir.path()).with_clock(Clock::Fixed(NOW + 500));
    let mut outcome = CaptureSession::run(config(), challenge(), hooks(&files)).unwrap();

    use EvidenceKind::*;
    let mut expected = vec![
        Challenge,
        IdCardFront,
        IdCardBack,
        IdCardFields,
        CheckResult,
    ];
    expected.extend([LivenessFrame; 4]);
    expected.extend([VendorPackage, ClientEvents, CheckResult, IntentRecording]);
    assert_eq!(kinds(&outcome.manifest), expected);
    assert_eq!(outcome.manifest.verify(), Ok(()));
    assert_eq!(outcome.manifest.session_id, "chal-2025-0001");
    assert_eq!(outcome.frame_reports.len(), 4);
    assert!(outcome.frame_reports.iter().all(|r| r.sharpness > 100.0));
    let card = outcome.id_card.as_ref().unwrap();
    assert_eq!(
        card.id_number.as_str(),
        inkseal_capture::samples::sample_id_number()
    );
    assert!(card.front.is_some() && card.back.is_some());
    let intent = outcome.manifest.entries_of(IntentRecording).next().unwrap();
    assert_eq!(intent.meta["statement"], STATEMENT);
    assert_eq!(intent.meta["media_type"], "audio/wav");

    // What the server does with the body.
    let body = outcome.submission.to_json().unwrap();
    let received = EvidenceSubmission::from_json(&body).unwrap();
    assert_eq!(received, outcome.submission);
    received.check_consistency().unwrap();
    received.check_challenge(&challenge()).unwrap();
    let frames = received.frames().unwrap();
    test_vendor::check(&received.vendor_package().unwrap(), &challenge(), &frames).unwrap();
    assert_eq!(received.head_hex(), outcome.head_hex());

    // Bind the document about to be signed: the head moves and stays consistent.
    let before = outcome.head_hex();
    let doc = DigestAlgorithm::Sm3.digest(b"%PDF-1.7 loan contract");
    let head = outcome
        .bind_document(DigestAlgorithm::Sm3, doc, NOW + 9_000)
        .unwrap();
    assert_ne!(head, before);
    assert_eq!(head.len(), 64);
    assert!(head.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')));
    assert_eq!(head, outcome.submission.head_hex());
    let last = outcome.manifest.entries.last().unwrap();
    assert_eq!(last.kind, DocumentDigest);
    assert_eq!(last.artefact_digest_hex, hex::encode(doc));
    assert_eq!(last.meta["document_digest_algorithm"], "sm3");
    outcome.submission.check_consistency().unwrap();
}

#[test]
fn the_server_detects_a_tampered_submission() {
    let dir = sample_dir();
    let files = FileHooks::new(dir.path()).with_clock(Clock::Fixed(NOW + 500));
    let base = CaptureSession::run(config(), challenge(), hooks(&files))
        .unwrap()
        .submission;

    let mut s = base.clone();
    s.liveness.frames_hex.swap(0, 1);
    assert_eq!(
        s.check_consistency(),
        Err(SubmissionError::ArtefactMismatch {
            kind: EvidenceKind::LivenessFrame,
            index: 0,
            seq: 5
        })
    );
    let mut s = base.clone();
    s.liveness.frames_hex.pop();
    assert!(matches!(
        s.check_consistency(),
        Err(SubmissionError::EntryCount {
            kind: EvidenceKind::LivenessFrame,
            ..
        })
    ));
    let mut s = base.clone();
    s.liveness.vendor_package_hex = hex::encode(b"{}");
    assert!(matches!(
        s.check_consistency(),
        Err(SubmissionError::ArtefactMismatch {
            kind: EvidenceKind::VendorPackage,
            ..
        })
    ));
    let mut s = base.clone();
    s.liveness.vendor_reference.push('x');
    assert_eq!(s.check_consistency(), Err(SubmissionError::VendorMismatch));
    let mut s = base.clone();
    s.liveness.events[0].detail = "turn_right".into();
    assert!(matches!(
        s.check_consistency(),
        Err(SubmissionError::ArtefactMismatch {
            kind: EvidenceKind::ClientEvents,
            ..
        })
    ));
    let mut s = base.clone();
    s.id_card.as_mut().unwrap().name = "李四".into();
    assert!(matches!(
        s.check_consistency(),
        Err(SubmissionError::ArtefactMismatch {
            kind: EvidenceKind::IdCardFields,
            ..
        })
    ));
    let mut s = base.clone();
    s.id_card = None;
    assert!(matches!(
        s.check_consistency(),
        Err(SubmissionError::EntryCount {
            kind: EvidenceKind::IdCardFields,
            found: 1,
            expected: 0
        })
    ));
    let mut s = base.clone();
    s.challenge_id = "chal-2025-0002".into();
    assert!(matches!(
        s.check_consistency(),
        Err(SubmissionError::ChallengeMismatch(_))
    ));
    let mut s = base.clone();
    s.liveness.frames_hex[0].push('z');
    assert!(matches!(
        s.check_consistency(),
        Err(SubmissionError::BadHex { .. })
    ));
    let mut s = base.clone();
    s.manifest.entries[7].at_ms += 1;
    assert!(matches!(
        s.check_consistency(),
        Err(SubmissionError::Manifest(_))
    ));
    // A manifest made for another challenge with the same id (another nonce).
    let mut other = challenge();
    other.nonce_hex = "00".repeat(32);
    assert!(matches!(
        base.check_challenge(&other),
        Err(SubmissionError::ArtefactMismatch {
            kind: EvidenceKind::Challenge,
            ..
        })
    ));
    assert!(EvidenceSubmission::from_json(&vec![b' '; 16 * 1024 * 1024 + 1]).is_err());
}

#[test]
fn the_phone_does_not_judge_liveness_the_server_vendor_does() {
    let dir = sample_dir();
    std::fs::write(dir.path().join("face/verdict_hint.txt"), "spoof\n").unwrap();
    let files = FileHooks::new(dir.path()).with_clock(Clock::Fixed(NOW + 500));
    let outcome = CaptureSession::run(config(), challenge(), hooks(&files)).unwrap();
    let s = &outcome.submission;
    s.check_consistency().unwrap();
    assert_eq!(
        test_vendor::check(
            &s.vendor_package().unwrap(),
            &challenge(),
            &s.frames().unwrap()
        ),
        Err(VendorCheckError::NotLive("spoof".into()))
    );
}

#[test]
fn an_expired_challenge_stops_the_session_before_or_between_steps() {
    let mut cfg = config();
    cfg.clock = Clock::Fixed(NOW + 5 * 60 * 1000);
    let e = CaptureSession::start(cfg, challenge()).unwrap_err();
    assert!(matches!(
        e,
        CaptureError::Challenge(ChallengeError::Expired { .. })
    ));
    assert_eq!(e.action(), RecoveryAction::NewChallenge);
    assert_eq!(e.code(), "challenge_expired");

    let dir = sample_dir();
    let files = FileHooks::new(dir.path());
    let now = Arc::new(AtomicU64::new(NOW + 1));
    let mut cfg = config();
    let n = now.clone();
    cfg.clock = Clock::Custom(Arc::new(move || n.load(Ordering::SeqCst)));
    let mut session = CaptureSession::start(cfg, challenge()).unwrap();
    session.capture_id_card(&files).unwrap();
    now.store(NOW + 6 * 60 * 1000, Ordering::SeqCst);
    assert!(matches!(
        session.capture_liveness(&files),
        Err(CaptureError::Challenge(ChallengeError::Expired { .. }))
    ));
}

/// An ID-card hook that returns a blurred back photo first, then the folder's photos.
struct RetakeCard<'a> {
    files: &'a FileHooks,
    calls: Mutex<u32>,
}

impl IdCardHook for RetakeCard<'_> {
    fn capture(&self) -> Result<IdCardCapture, HookError> {
        let mut calls = self.calls.lock().unwrap();
        *calls += 1;
        let mut c = IdCardHook::capture(self.files)?;
        if *calls == 1 {
            let img = image::load_from_memory(&c.back).unwrap().to_rgb8();
            let (w, h) = img.dimensions();
            c.back = encode_jpeg(&box_blur_rgb(img.as_raw(), w, h, 4), w, h, 90).unwrap();
        }
        Ok(c)
    }
}

/// A liveness hook whose first capture has one dark frame.
struct RetakeFace<'a> {
    files: &'a FileHooks,
    calls: Mutex<u32>,
}

impl FaceLivenessHook for RetakeFace<'_> {
    fn capture(&self, challenge: &LivenessChallenge) -> Result<LivenessCapture, HookError> {
        let mut calls = self.calls.lock().unwrap();
        *calls += 1;
        let mut c = FaceLivenessHook::capture(self.files, challenge)?;
        if *calls == 1 {
            let (rgb, _) = face_rgb(640, 480, 77);
            let dark: Vec<u8> = rgb.iter().map(|v| v / 6).collect();
            c.frames[2].image = encode_jpeg(&dark, 640, 480, 90).unwrap();
        }
        Ok(c)
    }
}

#[test]
fn refused_photos_can_be_retaken_and_the_attempts_are_recorded() {
    let dir = sample_dir();
    let files = FileHooks::new(dir.path()).with_clock(Clock::Fixed(NOW + 500));
    let card = RetakeCard {
        files: &files,
        calls: Mutex::new(0),
    };
    let face = RetakeFace {
        files: &files,
        calls: Mutex::new(0),
    };
    let mut session = CaptureSession::start(config(), challenge()).unwrap();

    let e = session.capture_id_card(&card).unwrap_err();
    assert!(
        matches!(
            e,
            CaptureError::Image {
                role: ImageRole::IdCardBack,
                error: QualityError::Blurred { .. }
            }
        ),
        "{e:?}"
    );
    assert_eq!(e.action(), RecoveryAction::RetakeIdCard);
    session.capture_id_card(&card).unwrap();

    let e = session.capture_liveness(&face).unwrap_err();
    assert!(
        matches!(
            e,
            CaptureError::Image {
                role: ImageRole::LivenessFrame(2),
                error: QualityError::TooDark { .. }
            }
        ),
        "{e:?}"
    );
    assert_eq!(e.action(), RecoveryAction::RetakeFace);
    let reports = session.capture_liveness(&face).unwrap();
    assert_eq!(reports.len(), 4);
    session.record_intent(&files).unwrap();
    let outcome = session.finish().unwrap();

    let rejected: Vec<(&str, &str)> = outcome
        .manifest
        .entries_of(EvidenceKind::CheckResult)
        .filter(|e| e.meta["result"] == "rejected")
        .map(|e| (e.meta["check"].as_str(), e.meta["code"].as_str()))
        .collect();
    assert_eq!(
        rejected,
        [("id_card", "image_blurred"), ("liveness", "image_too_dark")]
    );
    // Only the accepted attempt's artefacts are in the chain and the body.
    assert_eq!(
        outcome
            .manifest
            .entries_of(EvidenceKind::LivenessFrame)
            .count(),
        4
    );
    assert_eq!(
        outcome
            .manifest
            .entries_of(EvidenceKind::IdCardBack)
            .count(),
        1
    );
    outcome.submission.check_consistency().unwrap();
}

struct Fails(HookError);

impl FaceLivenessHook for Fails {
    fn capture(&self, _: &LivenessChallenge) -> Result<LivenessCapture, HookError> {
        Err(self.0.clone())
    }
}

#[test]
fn hook_errors_map_to_actions() {
    let mut cfg = config();
    cfg.require_id_card = false;
    cfg.intent_statement = None;
    for (err, action, code) in [
        (HookError::Cancelled, RecoveryAction::None, "cancelled"),
        (
            HookError::Unavailable("no camera".into()),
            RecoveryAction::Abort,
            "unavailable",
        ),
        (
            HookError::Failed("vendor SDK threw".into()),
            RecoveryAction::Retry,
            "hook_failed",
        ),
    ] {
        let mut s = CaptureSession::start(cfg.clone(), challenge()).unwrap();
        let e = s.capture_liveness(&Fails(err)).unwrap_err();
        assert_eq!((e.action(), e.code()), (action, code), "{e}");
        let last = s.manifest().entries.last().unwrap();
        assert_eq!(last.meta["code"], code);
    }
}

struct Frames(Vec<CapturedFrame>, Vec<u8>);

impl FaceLivenessHook for Frames {
    fn capture(&self, _: &LivenessChallenge) -> Result<LivenessCapture, HookError> {
        Ok(LivenessCapture {
            frames: self.0.clone(),
            vendor_name: "acme".into(),
            vendor_reference: "r-1".into(),
            vendor_package: self.1.clone(),
            events: vec![],
        })
    }
}

#[test]
fn captures_breaking_the_limits_are_refused() {
    let mut cfg = config();
    cfg.require_id_card = false;
    cfg.intent_statement = None;
    let (jpeg, fb) = face_jpeg(640, 480, 1).unwrap();
    let frame = CapturedFrame {
        image: jpeg,
        face_box: Some(fb),
        at_ms: NOW,
    };
    for hook in [
        Frames(vec![frame.clone(); MAX_FRAMES + 1], b"pkg".to_vec()),
        Frames(vec![], b"pkg".to_vec()),
        Frames(vec![frame.clone()], vec![]),
    ] {
        let mut s = CaptureSession::start(cfg.clone(), challenge()).unwrap();
        let e = s.capture_liveness(&hook).unwrap_err();
        assert!(matches!(e, CaptureError::BadCapture(_)), "{e:?}");
    }
    // Within the limits a foreign vendor's package is simply carried.
    let mut s = CaptureSession::start(cfg, challenge()).unwrap();
    s.capture_liveness(&Frames(vec![frame; 2], b"opaque".to_vec()))
        .unwrap();
    let outcome = s.finish().unwrap();
    assert_eq!(outcome.submission.liveness.vendor_name, "acme");
    assert!(outcome.submission.id_card.is_none());
    outcome.submission.check_consistency().unwrap();
}

#[test]
fn steps_must_come_in_order() {
    let dir = sample_dir();
    let files = FileHooks::new(dir.path());
    let mut s = CaptureSession::start(config(), challenge()).unwrap();
    assert!(matches!(
        s.capture_liveness(&files),
        Err(CaptureError::Misuse(_))
    ));
    assert!(matches!(
        s.record_intent(&files),
        Err(CaptureError::Misuse(_))
    ));
    s.capture_id_card(&files).unwrap();
    assert!(matches!(
        s.capture_id_card(&files),
        Err(CaptureError::Misuse(_))
    ));
    s.capture_liveness(&files).unwrap();
    assert!(matches!(
        s.capture_liveness(&files),
        Err(CaptureError::Misuse(_))
    ));
    let missing_intent = CaptureSession::start(config(), challenge()).unwrap();
    assert!(matches!(
        missing_intent.finish(),
        Err(CaptureError::Misuse(_))
    ));
    s.record_intent(&files).unwrap();
    assert!(matches!(
        s.record_intent(&files),
        Err(CaptureError::Misuse(_))
    ));
    s.finish().unwrap();

    let no_card_hook = CaptureHooks {
        id_card: None,
        liveness: &files,
        intent: Some(&files),
    };
    assert!(matches!(
        CaptureSession::run(config(), challenge(), no_card_hook),
        Err(CaptureError::Misuse(_))
    ));
    let mut cfg = config();
    cfg.intent_statement = None;
    let mut s = CaptureSession::start(cfg, challenge()).unwrap();
    assert!(matches!(
        s.record_intent(&files),
        Err(CaptureError::Misuse(_))
    ));
}

struct WrongStatement;

impl IntentRecordingHook for WrongStatement {
    fn record(&self, _: &str) -> Result<IntentRecording, HookError> {
        Ok(IntentRecording {
            media: vec![1, 2, 3],
            media_type: "audio/wav".into(),
            statement: "something else".into(),
            started_at_ms: NOW,
            ended_at_ms: NOW + 3000,
        })
    }
}

#[test]
fn an_intent_recording_of_another_statement_is_refused() {
    let dir = sample_dir();
    let files = FileHooks::new(dir.path());
    let mut s = CaptureSession::start(config(), challenge()).unwrap();
    s.capture_id_card(&files).unwrap();
    s.capture_liveness(&files).unwrap();
    let e = s.record_intent(&WrongStatement).unwrap_err();
    assert!(matches!(e, CaptureError::BadIntentRecording(_)));
    assert_eq!(e.action(), RecoveryAction::RerecordIntent);
    s.record_intent(&files).unwrap();
    s.finish().unwrap();
}

#[test]
fn a_document_can_be_bound_before_finishing() {
    let dir = sample_dir();
    let files = FileHooks::new(dir.path());
    let mut cfg = config();
    cfg.algorithm = DigestAlgorithm::Sha256;
    let mut s = CaptureSession::start(cfg, challenge()).unwrap();
    s.capture_id_card(&files).unwrap();
    s.capture_liveness(&files).unwrap();
    s.record_intent(&files).unwrap();
    let head = s.bind_document(DigestAlgorithm::Sha256, [7u8; 32]).unwrap();
    assert_eq!(head, s.head_hex());
    let outcome = s.finish().unwrap();
    assert_eq!(outcome.head_hex(), head);
    assert_eq!(outcome.manifest.algorithm, DigestAlgorithm::Sha256);
    outcome.submission.check_consistency().unwrap();
}

#[test]
fn file_hooks_report_missing_and_malformed_files() {
    let nowhere = FileHooks::new("/nonexistent/inkseal-sample");
    assert!(matches!(
        IdCardHook::capture(&nowhere),
        Err(HookError::Unavailable(_))
    ));
    assert!(matches!(
        FaceLivenessHook::capture(&nowhere, &challenge()),
        Err(HookError::Unavailable(_))
    ));

    let dir = sample_dir();
    let files = FileHooks::new(dir.path());
    std::fs::write(dir.path().join("id_fields.json"), b"{\"name\":1}").unwrap();
    assert!(matches!(
        IdCardHook::capture(&files),
        Err(HookError::Failed(_))
    ));
    std::fs::remove_file(dir.path().join("id_back.jpg")).unwrap();
    assert!(matches!(
        IdCardHook::capture(&files),
        Err(HookError::Failed(_))
    ));
    std::fs::remove_file(dir.path().join("intent.wav")).unwrap();
    assert!(matches!(
        files.record(STATEMENT),
        Err(HookError::Unavailable(_))
    ));
    for entry in std::fs::read_dir(dir.path().join("face")).unwrap() {
        let p = entry.unwrap().path();
        if p.extension().is_some_and(|e| e == "jpg") {
            std::fs::remove_file(p).unwrap();
        }
    }
    assert!(matches!(
        FaceLivenessHook::capture(&files, &challenge()),
        Err(HookError::Failed(_))
    ));
}

#[test]
fn file_hooks_read_frames_in_name_order_with_their_boxes() {
    let dir = sample_dir();
    let files = FileHooks::new(dir.path()).with_clock(Clock::Fixed(NOW));
    let c = FaceLivenessHook::capture(&files, &challenge()).unwrap();
    assert_eq!(c.frames.len(), 4);
    for (i, f) in c.frames.iter().enumerate() {
        let on_disk = std::fs::read(dir.path().join(format!("face/frame_{i:02}.jpg"))).unwrap();
        assert_eq!(f.image, on_disk);
        assert!(f.face_box.is_some());
        assert_eq!(f.at_ms, NOW + 100 * i as u64);
    }
    let actions: Vec<&str> = c.events.iter().map(|e| e.detail.as_str()).collect();
    assert_eq!(actions, ["blink", "turn_left"]);
    let frames: Vec<&[u8]> = c.frames.iter().map(|f| f.image.as_slice()).collect();
    test_vendor::check(&c.vendor_package, &challenge(), &frames).unwrap();
}
