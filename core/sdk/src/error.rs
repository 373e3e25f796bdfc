//! The SDK's public error: each variant says what the app should do.

use thiserror::Error;

/// What went wrong, phrased for the app.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SdkError {
    /// The PIN was wrong; ask again. The key locks when `attempts_left` reaches zero.
    #[error("wrong PIN ({attempts_left} attempt(s) left)")]
    WrongPin {
        /// Tries left before the key locks.
        attempts_left: u32,
    },
    /// The key is locked after too many wrong PINs: the user must be re-verified.
    #[error("the key is locked")]
    Locked,
    /// The server does not know this key (or this device has no share for it): re-enroll.
    #[error("unknown key: {0}")]
    UnknownKey(String),
    /// The server could not be reached or did not answer in time: retry later.
    #[error("network error: {0}")]
    Network(String),
    /// The server answered something that fails the protocol's checks. Nothing was signed;
    /// report it, do not retry blindly.
    #[error("the server misbehaved: {0}")]
    ServerMisbehaved(String),
    /// The server refused the request (policy, conflict, internal error).
    #[error("the server refused: {0}")]
    Refused(String),
    /// The key's policy requires a fresh, passed liveness check bound to this signature: run
    /// the capture flow again, then sign with its evidence.
    #[error("evidence required: {0}")]
    EvidenceRequired(String),
    /// Capture failed a check (photo too dark or blurred, card expired, liveness not passed,
    /// challenge expired...): show `reason` and capture again.
    #[error("capture rejected: {reason}")]
    CaptureRejected {
        /// What was wrong, in words.
        reason: String,
    },
    /// The user cancelled (in a capture hook).
    #[error("cancelled")]
    Cancelled,
    /// The caller passed something invalid.
    #[error("invalid input: {0}")]
    InvalidInput(String),
    /// The document cannot be signed (malformed, encrypted, no room...); the message says why.
    #[error("bad document: {0}")]
    BadDocument(String),
    /// The handwritten signature breaks a quality rule (empty, too short, too small...):
    /// ask the signer to write again. The message names the rule.
    #[error("handwriting rejected: {0}")]
    HandwritingRejected(String),
    /// The share store failed.
    #[error("share storage: {0}")]
    Storage(String),
}

impl From<reqwest::Error> for SdkError {
    fn from(e: reqwest::Error) -> Self {
        // reqwest's messages carry the URL but no secrets.
        SdkError::Network(e.to_string())
    }
}
