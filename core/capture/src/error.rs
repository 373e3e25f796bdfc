//! Typed errors of every step, and what the app should do about each.
//!
//! The small enums ([`QualityError`], [`IdNumberError`], [`IdCardError`], [`ChallengeError`],
//! [`ManifestError`], [`VendorCheckError`], [`SubmissionError`], [`DateError`]) belong to one
//! check each, so the server can use them alone. [`CaptureError`] is what a
//! [`CaptureSession`](crate::session::CaptureSession) returns: it wraps them with the artefact
//! concerned, and [`CaptureError::action`] tells the app what to do next.
//!
//! No error message contains a full ID number, a name or an image: only sizes, positions and
//! rule names.

use crate::date::Date;
use crate::manifest::EvidenceKind;
use thiserror::Error;

/// A calendar date that could not be read or does not exist.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
pub enum DateError {
    /// The text is not `YYYYMMDD`, `YYYY-MM-DD` or `YYYY.MM.DD`.
    #[error("date is not in the form YYYYMMDD, YYYY-MM-DD or YYYY.MM.DD")]
    BadFormat,
    /// Year, month or day out of range (for example 1999-02-30).
    #[error("{year:04}-{month:02}-{day:02} is not a calendar date")]
    NoSuchDate {
        /// Year as read.
        year: u32,
        /// Month as read.
        month: u32,
        /// Day as read.
        day: u32,
    },
}

/// Why an image (camera frame or ID-card photo) was refused by [`crate::quality`].
#[derive(Clone, Debug, Error, PartialEq)]
pub enum QualityError {
    /// More bytes than `max_bytes`; refused before decoding.
    #[error("image is {bytes} bytes, the limit is {max}")]
    TooLarge {
        /// Length of the encoded image.
        bytes: u64,
        /// The threshold's `max_bytes`.
        max: u64,
    },
    /// More pixels than `max_pixels`; refused from the header, before the pixel buffer exists.
    #[error("image is {width}x{height} pixels, more than the limit of {max_pixels}")]
    TooManyPixels {
        /// Width from the header.
        width: u32,
        /// Height from the header.
        height: u32,
        /// The threshold's `max_pixels`.
        max_pixels: u64,
    },
    /// Neither JPEG nor PNG (by the file's magic bytes).
    #[error("unsupported image format: {0} (JPEG or PNG expected)")]
    UnsupportedFormat(String),
    /// A JPEG or PNG that does not decode (truncated, corrupt).
    #[error("image does not decode: {0}")]
    Undecodable(String),
    /// Smaller than the minimum resolution.
    #[error("image is {width}x{height}, at least {min_width}x{min_height} is needed")]
    TooSmall {
        /// Width of the image.
        width: u32,
        /// Height of the image.
        height: u32,
        /// Minimum width.
        min_width: u32,
        /// Minimum height.
        min_height: u32,
    },
    /// Mean luma under the minimum.
    #[error("image too dark: mean luma {mean:.1} < {min}")]
    TooDark {
        /// Measured mean luma (0-255).
        mean: f64,
        /// Minimum mean luma.
        min: u8,
    },
    /// Mean luma over the maximum (over-exposed, glare).
    #[error("image too bright: mean luma {mean:.1} > {max}")]
    TooBright {
        /// Measured mean luma (0-255).
        mean: f64,
        /// Maximum mean luma.
        max: u8,
    },
    /// Variance of the Laplacian under the minimum: out of focus or moving.
    #[error("image blurred: sharpness {sharpness:.1} < {min}")]
    Blurred {
        /// Measured variance of the Laplacian.
        sharpness: f64,
        /// Minimum sharpness.
        min: u32,
    },
    /// The face box is empty or reaches outside the picture.
    #[error(
        "face box {x},{y} {width}x{height} is not inside the {frame_width}x{frame_height} frame"
    )]
    FaceOutsideFrame {
        /// Left edge of the box.
        x: u32,
        /// Top edge of the box.
        y: u32,
        /// Width of the box.
        width: u32,
        /// Height of the box.
        height: u32,
        /// Width of the frame.
        frame_width: u32,
        /// Height of the frame.
        frame_height: u32,
    },
    /// The face is too small a part of the picture (too far from the camera).
    #[error("face too small: {side} px, at least {min_side} px is needed")]
    FaceTooSmall {
        /// Shorter side of the face box.
        side: u32,
        /// Minimum side for this frame.
        min_side: u32,
    },
    /// The thresholds themselves are inconsistent (for example min luma above max luma).
    #[error("invalid quality thresholds: {0}")]
    BadThresholds(&'static str),
}

/// Why a Chinese resident ID number (GB 11643-1999) was refused.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
pub enum IdNumberError {
    /// Not 18 characters.
    #[error("ID number has {len} characters, 18 expected")]
    WrongLength {
        /// Number of characters found.
        len: usize,
    },
    /// One of the first 17 characters is not a digit, or the last is neither a digit nor X.
    #[error("ID number character {position} is not allowed there")]
    NotDigits {
        /// 1-based position of the first bad character.
        position: usize,
    },
    /// The ISO 7064 MOD 11-2 check character does not match.
    #[error("ID number check character is {found}, {expected} expected")]
    BadCheckDigit {
        /// The check character the first 17 digits give.
        expected: char,
        /// The check character found (upper case).
        found: char,
    },
    /// The first two digits are not a province-level code.
    #[error("ID number region code {code} is not a province-level code")]
    BadRegion {
        /// The first two digits.
        code: String,
    },
    /// Digits 7-14 are not a real date, are before 1900, or are after `today`.
    #[error("ID number birth date is not plausible: {0}")]
    BadBirthDate(String),
}

/// Why the fields read from an ID card were refused.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
pub enum IdCardError {
    /// The name is blank, too long or contains control characters.
    #[error("name on the card is missing or not plausible")]
    BadName,
    /// A text field (address, authority, ethnicity) is too long or has control characters.
    #[error("field {field} is too long or contains control characters")]
    BadField {
        /// Field name (`address`, `ethnicity`, `issuing_authority`).
        field: &'static str,
    },
    /// The ID number is invalid.
    #[error("ID number: {0}")]
    IdNumber(#[from] IdNumberError),
    /// The birth date printed on the card differs from the one inside the number.
    #[error("birth date on the card ({card}) differs from the ID number's ({number})")]
    BirthDateMismatch {
        /// As read from the card.
        card: Date,
        /// As encoded in the number.
        number: Date,
    },
    /// The sex printed on the card differs from the number's 17th digit.
    #[error("sex on the card differs from the ID number's")]
    SexMismatch,
    /// `valid_from` is after today.
    #[error("card is valid only from {valid_from} (today is {today})")]
    NotYetValid {
        /// Start of validity.
        valid_from: Date,
        /// The date used as today.
        today: Date,
    },
    /// `valid_until` is before today.
    #[error("card expired on {valid_until} (today is {today})")]
    Expired {
        /// End of validity.
        valid_until: Date,
        /// The date used as today.
        today: Date,
    },
    /// `valid_until` is not after `valid_from`.
    #[error("card validity period is empty: {valid_from} to {valid_until}")]
    BadValidityPeriod {
        /// Start of validity.
        valid_from: Date,
        /// End of validity.
        valid_until: Date,
    },
}

/// Why a liveness challenge was refused.
#[derive(Clone, Debug, Error, PartialEq)]
pub enum ChallengeError {
    /// The challenge id is empty, too long or has characters outside `[A-Za-z0-9._:-]`.
    #[error("challenge id must be 1-128 characters of [A-Za-z0-9._:-]")]
    BadId,
    /// The nonce is not 64 lower-case hex characters (32 bytes).
    #[error("challenge nonce must be 64 lower-case hex characters")]
    BadNonce,
    /// `actions` mode with no action, silent mode with actions, or too many actions.
    #[error("challenge actions do not fit its mode: {0}")]
    BadActions(&'static str),
    /// The quality thresholds are inconsistent.
    #[error("challenge thresholds: {0}")]
    BadThresholds(#[from] QualityError),
    /// Issue and expiry times are inverted or the lifetime is longer than allowed.
    #[error("challenge validity window is malformed: {0}")]
    BadWindow(&'static str),
    /// Issued after now (beyond the allowed clock skew).
    #[error("challenge issued in the future (issued at {issued_at_ms}, now {now_ms})")]
    NotYetValid {
        /// Issue time (ms since the Unix epoch).
        issued_at_ms: u64,
        /// Local time used.
        now_ms: u64,
    },
    /// Expired.
    #[error("challenge expired at {expires_at_ms} (now {now_ms})")]
    Expired {
        /// Expiry time (ms since the Unix epoch).
        expires_at_ms: u64,
        /// Local time used.
        now_ms: u64,
    },
}

/// Why an evidence manifest was refused (with the sequence number of the broken entry).
#[derive(Clone, Debug, Error, PartialEq, Eq)]
pub enum ManifestError {
    /// A manifest version this code does not know.
    #[error("unsupported manifest version {0}")]
    UnsupportedVersion(u32),
    /// The session id is empty, too long or has characters outside `[A-Za-z0-9._:-]`.
    #[error("manifest session id must be 1-128 characters of [A-Za-z0-9._:-]")]
    BadSessionId,
    /// More entries than [`crate::manifest::MAX_ENTRIES`].
    #[error("manifest has more than {max} entries")]
    TooManyEntries {
        /// The limit.
        max: usize,
    },
    /// Entry at `index` carries sequence number `seq` (entries are numbered 0, 1, 2, ...).
    #[error("entry at position {index} has seq {seq}")]
    SeqOutOfOrder {
        /// Position in the entry list.
        index: usize,
        /// The sequence number it carries.
        seq: u64,
    },
    /// A digest field is not 64 lower-case hex characters.
    #[error("entry {seq}: {field} is not 64 lower-case hex characters")]
    MalformedDigest {
        /// Sequence number of the entry.
        seq: u64,
        /// Which field (`artefact_digest_hex`, `prev_hex`, `entry_hash_hex`).
        field: &'static str,
    },
    /// A meta key or value breaks the limits.
    #[error("entry {seq}: bad meta: {reason}")]
    BadMeta {
        /// Sequence number of the entry.
        seq: u64,
        /// What is wrong.
        reason: &'static str,
    },
    /// `prev_hex` is not the previous entry's hash (or the genesis value for entry 0).
    #[error("entry {seq}: prev_hex does not link to the previous entry")]
    BrokenLink {
        /// Sequence number of the entry.
        seq: u64,
    },
    /// `entry_hash_hex` is not the hash of the entry's content.
    #[error("entry {seq}: entry_hash_hex does not match its content")]
    HashMismatch {
        /// Sequence number of the entry.
        seq: u64,
    },
    /// No entry with that sequence number.
    #[error("no entry with seq {0}")]
    NoSuchEntry(u64),
    /// The artefact bytes do not hash to the entry's artefact digest.
    #[error("entry {seq}: artefact does not match its digest")]
    ArtefactMismatch {
        /// Sequence number of the entry.
        seq: u64,
    },
    /// The JSON text is longer than the limit.
    #[error("manifest JSON is {len} bytes, the limit is {max}")]
    TooLarge {
        /// Length received.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The JSON does not parse as a manifest.
    #[error("manifest JSON: {0}")]
    Json(String),
}

/// Why the test vendor's liveness package was refused.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
pub enum VendorCheckError {
    /// The package is longer than [`crate::test_vendor::MAX_PACKAGE_BYTES`].
    #[error("vendor package is {len} bytes, the limit is {max}")]
    TooLarge {
        /// Length received.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The package is not the test vendor's JSON.
    #[error("vendor package does not parse: {0}")]
    Malformed(String),
    /// The `vendor` field is not `inkseal-test-vendor`.
    #[error("package is from vendor {0:?}, not the test vendor")]
    WrongVendor(String),
    /// The package answers another challenge.
    #[error("package answers another challenge id")]
    ChallengeIdMismatch,
    /// The package carries another nonce (replay of an older capture).
    #[error("package nonce differs from the challenge nonce")]
    NonceMismatch,
    /// The actions performed are not the challenge's actions in its order.
    #[error("actions performed differ from the challenge's actions or order")]
    ActionsMismatch,
    /// The number of frame hashes differs from the number of frames.
    #[error("package lists {listed} frames, {submitted} submitted")]
    FrameCountMismatch {
        /// Hashes listed in the package.
        listed: usize,
        /// Frames submitted.
        submitted: usize,
    },
    /// Frame `index`'s SHA-256 differs from the package's.
    #[error("frame {index} does not match the package's hash")]
    FrameMismatch {
        /// 0-based frame index.
        index: usize,
    },
    /// The test vendor's verdict is not `live`.
    #[error("test vendor verdict is {0:?}, not live")]
    NotLive(String),
}

/// Why an evidence submission is inconsistent.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
pub enum SubmissionError {
    /// The JSON body is longer than [`crate::submission::MAX_SUBMISSION_BYTES`].
    #[error("submission is {len} bytes, the limit is {max}")]
    TooLarge {
        /// Length received.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The JSON does not parse as a submission.
    #[error("submission JSON: {0}")]
    Json(String),
    /// The manifest's chain is broken.
    #[error("manifest: {0}")]
    Manifest(#[from] ManifestError),
    /// A hex field does not decode.
    #[error("{field} is not valid hex")]
    BadHex {
        /// Which field.
        field: &'static str,
    },
    /// The manifest's session id or challenge entry does not match `challenge_id`.
    #[error("manifest does not belong to challenge id of the submission: {0}")]
    ChallengeMismatch(&'static str),
    /// The manifest has not exactly the expected number of entries of a kind.
    #[error("manifest has {found} {kind:?} entries, {expected} expected")]
    EntryCount {
        /// The kind.
        kind: EvidenceKind,
        /// Entries found.
        found: usize,
        /// Entries expected.
        expected: usize,
    },
    /// A submitted artefact does not hash to its manifest entry's digest.
    #[error("submitted {kind:?} artefact {index} does not match manifest entry {seq}")]
    ArtefactMismatch {
        /// The kind.
        kind: EvidenceKind,
        /// Index among the artefacts of that kind.
        index: usize,
        /// Sequence number of the entry it was compared with.
        seq: u64,
    },
    /// The vendor name or reference differs from the manifest's record.
    #[error("vendor name or reference differs from the manifest")]
    VendorMismatch,
    /// The client events break the limits (count or field sizes).
    #[error("client events: {0}")]
    BadEvents(String),
    /// More frames than the limits allow.
    #[error("too many {what}: {count} > {max}")]
    TooMany {
        /// What was counted.
        what: &'static str,
        /// How many.
        count: usize,
        /// The limit.
        max: usize,
    },
}

/// What went wrong in a capture session; [`CaptureError::action`] says what to do next.
#[derive(Clone, Debug, Error, PartialEq)]
pub enum CaptureError {
    /// The server's challenge is malformed, not yet valid or expired.
    #[error("challenge: {0}")]
    Challenge(#[from] ChallengeError),
    /// An image failed the quality checks.
    #[error("{role}: {error}")]
    Image {
        /// Which image.
        role: ImageRole,
        /// Why it was refused.
        error: QualityError,
    },
    /// The ID card's fields are invalid, inconsistent or the card is out of validity.
    #[error("ID card: {0}")]
    IdCard(#[from] IdCardError),
    /// The user cancelled in the hook.
    #[error("cancelled by the user")]
    Cancelled,
    /// The hook cannot run on this device (no camera, vendor SDK missing, permission denied).
    #[error("capture unavailable: {0}")]
    Unavailable(String),
    /// The hook ran and failed (includes exceptions thrown by foreign hook code).
    #[error("capture failed: {0}")]
    HookFailed(String),
    /// What the hook returned breaks a limit or rule (too many frames, empty package, ...).
    #[error("capture result refused: {0}")]
    BadCapture(String),
    /// The intent recording does not match what was asked.
    #[error("intent recording refused: {0}")]
    BadIntentRecording(String),
    /// A step was called out of order, or the configuration asks for a hook that was not given.
    #[error("session misuse: {0}")]
    Misuse(&'static str),
    /// The evidence manifest refused an entry (a bug or a limit).
    #[error("manifest: {0}")]
    Manifest(#[from] ManifestError),
    /// The submission would exceed its size limit.
    #[error("submission: {0}")]
    Submission(#[from] SubmissionError),
}

/// Which image a [`CaptureError::Image`] is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ImageRole {
    /// The ID card's front (portrait side).
    IdCardFront,
    /// The ID card's back (national emblem side).
    IdCardBack,
    /// A liveness frame, 0-based.
    LivenessFrame(usize),
}

impl std::fmt::Display for ImageRole {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ImageRole::IdCardFront => f.write_str("ID card front"),
            ImageRole::IdCardBack => f.write_str("ID card back"),
            ImageRole::LivenessFrame(i) => write!(f, "liveness frame {i}"),
        }
    }
}

/// What the app should do after a [`CaptureError`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RecoveryAction {
    /// Take the face capture again (blur, light, distance).
    RetakeFace,
    /// Photograph the ID card again (blur, light, or OCR misread a field).
    RetakeIdCard,
    /// The card itself is not acceptable (expired, not yet valid, invalid number): use another
    /// document or go to a counter.
    UseValidIdCard,
    /// Ask the server for a new challenge and start the session again.
    NewChallenge,
    /// Record the intent statement again.
    RerecordIntent,
    /// Try again later (transient failure).
    Retry,
    /// Nothing: the user chose to stop.
    None,
    /// A bug or unsupported device: stop and report.
    Abort,
}

impl From<crate::hooks::HookError> for CaptureError {
    fn from(e: crate::hooks::HookError) -> Self {
        use crate::hooks::HookError;
        match e {
            HookError::Cancelled => CaptureError::Cancelled,
            HookError::Unavailable(m) => CaptureError::Unavailable(m),
            HookError::Failed(m) => CaptureError::HookFailed(m),
        }
    }
}

impl CaptureError {
    /// What the app should do next.
    pub fn action(&self) -> RecoveryAction {
        match self {
            CaptureError::Challenge(_) => RecoveryAction::NewChallenge,
            CaptureError::Image { role, error } => match (error, role) {
                (QualityError::BadThresholds(_), _) => RecoveryAction::NewChallenge,
                (_, ImageRole::IdCardFront | ImageRole::IdCardBack) => RecoveryAction::RetakeIdCard,
                (_, ImageRole::LivenessFrame(_)) => RecoveryAction::RetakeFace,
            },
            CaptureError::IdCard(e) => match e {
                IdCardError::NotYetValid { .. }
                | IdCardError::Expired { .. }
                | IdCardError::BadValidityPeriod { .. } => RecoveryAction::UseValidIdCard,
                // A number that fails its check digit is far more often an OCR misread than a
                // forged card: retake first.
                _ => RecoveryAction::RetakeIdCard,
            },
            CaptureError::Cancelled => RecoveryAction::None,
            CaptureError::Unavailable(_) => RecoveryAction::Abort,
            CaptureError::HookFailed(_) => RecoveryAction::Retry,
            CaptureError::BadCapture(_) => RecoveryAction::RetakeFace,
            CaptureError::BadIntentRecording(_) => RecoveryAction::RerecordIntent,
            CaptureError::Misuse(_) | CaptureError::Manifest(_) => RecoveryAction::Abort,
            CaptureError::Submission(_) => RecoveryAction::RetakeFace,
        }
    }
}

impl CaptureError {
    /// A short, stable code for the error (for analytics and the manifest's `check_result`
    /// entries; never contains personal data).
    pub fn code(&self) -> &'static str {
        use ChallengeError as Ch;
        use IdNumberError as N;
        match self {
            CaptureError::Challenge(e) => match e {
                Ch::Expired { .. } => "challenge_expired",
                Ch::NotYetValid { .. } => "challenge_not_yet_valid",
                _ => "challenge_invalid",
            },
            CaptureError::Image { error, .. } => match error {
                QualityError::TooLarge { .. } => "image_too_large",
                QualityError::TooManyPixels { .. } => "image_too_many_pixels",
                QualityError::UnsupportedFormat(_) => "image_unsupported_format",
                QualityError::Undecodable(_) => "image_undecodable",
                QualityError::TooSmall { .. } => "image_too_small",
                QualityError::TooDark { .. } => "image_too_dark",
                QualityError::TooBright { .. } => "image_too_bright",
                QualityError::Blurred { .. } => "image_blurred",
                QualityError::FaceOutsideFrame { .. } => "face_outside_frame",
                QualityError::FaceTooSmall { .. } => "face_too_small",
                QualityError::BadThresholds(_) => "bad_thresholds",
            },
            CaptureError::IdCard(e) => match e {
                IdCardError::BadName => "card_bad_name",
                IdCardError::BadField { .. } => "card_bad_field",
                IdCardError::IdNumber(n) => match n {
                    N::WrongLength { .. } => "id_number_wrong_length",
                    N::NotDigits { .. } => "id_number_not_digits",
                    N::BadCheckDigit { .. } => "id_number_bad_check_digit",
                    N::BadRegion { .. } => "id_number_bad_region",
                    N::BadBirthDate(_) => "id_number_bad_birth_date",
                },
                IdCardError::BirthDateMismatch { .. } => "card_birth_date_mismatch",
                IdCardError::SexMismatch => "card_sex_mismatch",
                IdCardError::NotYetValid { .. } => "card_not_yet_valid",
                IdCardError::Expired { .. } => "card_expired",
                IdCardError::BadValidityPeriod { .. } => "card_bad_validity_period",
            },
            CaptureError::Cancelled => "cancelled",
            CaptureError::Unavailable(_) => "unavailable",
            CaptureError::HookFailed(_) => "hook_failed",
            CaptureError::BadCapture(_) => "bad_capture",
            CaptureError::BadIntentRecording(_) => "bad_intent_recording",
            CaptureError::Misuse(_) => "misuse",
            CaptureError::Manifest(_) => "manifest",
            CaptureError::Submission(_) => "submission",
        }
    }
}
