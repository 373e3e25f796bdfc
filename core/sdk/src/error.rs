//! The SDK's public error: each variant says what the app should do.
//!
//! Deliberately not `#[non_exhaustive]`: the bindings map every variant without a catch-all
//! arm, so a new error fails to compile there until it has its own meaning for the app.

use inkseal_capture::RecoveryAction;
use thiserror::Error;

/// What went wrong, phrased for the app.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum SdkError {
    /// The PIN was wrong; ask again. The key locks when `attempts_left` reaches zero.
    #[error("wrong PIN ({attempts_left} attempt(s) left)")]
    WrongPin {
        /// Tries left before the key locks.
        attempts_left: u32,
    },
    /// The new PIN breaks the server's PIN policy (too short, one repeated digit, a straight
    /// run such as 123456...): ask for another. The message names the rule.
    #[error("PIN refused: {0}")]
    PinRejected(String),
    /// The key is locked after too many wrong PINs: the user must be verified again and the
    /// institution unlocks it.
    #[error("the key is locked")]
    Locked,
    /// The key is revoked and never signs again: enroll anew.
    #[error("the key is revoked")]
    Revoked,
    /// This device has no share for the key: enroll.
    #[error("unknown key: {0}")]
    UnknownKey(String),
    /// The server does not accept this device's signature for the key (the key was removed, or
    /// the device key was lost or replaced): enroll again.
    #[error("this device is not recognised for the key: {0}")]
    Unauthenticated(String),
    /// The device's clock is too far from the server's: ask the user to set the clock
    /// (automatic time), then retry.
    #[error("the device clock is off (server time {server_time_unix})")]
    ClockSkew {
        /// The server's clock, unix seconds.
        server_time_unix: u64,
    },
    /// The enrollment ticket is unknown, already used or expired: ask the institution for a
    /// new one.
    #[error("enrollment ticket refused: {0}")]
    TicketInvalid(String),
    /// Too many requests: wait `retry_after_secs`, then retry.
    #[error("too many requests; retry in {retry_after_secs} s")]
    RateLimited {
        /// Seconds to wait.
        retry_after_secs: u64,
    },
    /// The server could not be reached or did not answer in time: retry later.
    #[error("network error: {0}")]
    Network(String),
    /// The server answered something that fails the protocol's checks. Nothing was signed;
    /// report it, do not retry blindly.
    #[error("the server misbehaved: {0}")]
    ServerMisbehaved(String),
    /// The server refused the request (policy, conflict, internal error): show the message.
    #[error("the server refused: {0}")]
    Refused(String),
    /// The key's policy requires a fresh, passed liveness check bound to this document: run
    /// the capture flow for this document again, then sign with its evidence.
    #[error("evidence required: {0}")]
    EvidenceRequired(String),
    /// Capture failed a check (photo too dark or blurred, card expired, liveness not passed,
    /// challenge expired...): show `reason` and do what `action` says.
    #[error("capture rejected: {reason}")]
    CaptureRejected {
        /// What was wrong, in words.
        reason: String,
        /// What to do next (retake the face, photograph the card again, ask for a new
        /// challenge...).
        action: RecoveryAction,
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
    /// The share store or the device key store failed.
    #[error("share storage: {0}")]
    Storage(String),
}

impl From<reqwest::Error> for SdkError {
    fn from(e: reqwest::Error) -> Self {
        // reqwest's messages carry the URL but no secrets.
        SdkError::Network(e.to_string())
    }
}
