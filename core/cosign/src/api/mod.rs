//! The HTTP API's JSON bodies, shared by the phone's client and the server.
//!
//! They wrap the protocol messages with what the server needs to authorise a step (user, PIN,
//! idempotency key, evidence head). Keeping them here means a change to either side's view of
//! the API fails to compile on the other.

use crate::messages::{KeygenRequest, KeygenResponse, SignRequest, SignResponse};
use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, ZeroizeOnDrop};

/// A PIN in transit. Wiped on drop and never shown by `Debug`.
#[derive(Clone, Serialize, Deserialize, Zeroize, ZeroizeOnDrop, PartialEq, Eq)]
#[serde(transparent)]
pub struct Pin(String);

impl Pin {
    /// Wrap a PIN typed by the user.
    pub fn new(pin: impl Into<String>) -> Self {
        Pin(pin.into())
    }

    /// The PIN's text, for hashing on the server.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// PIN rule: 6 to 32 characters, no control characters.
    pub fn is_acceptable(&self) -> bool {
        let n = self.0.chars().count();
        (6..=32).contains(&n) && !self.0.chars().any(char::is_control)
    }
}

impl std::fmt::Debug for Pin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Pin(***)")
    }
}

/// `POST /v1/enroll`: create a split key for a user and set its PIN.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnrollRequest {
    /// The institution's identifier for the user (1-128 characters).
    pub user_id: String,
    /// The PIN that will authorise every signature with this key.
    pub pin: Pin,
    /// The phone's key-generation message.
    pub keygen: KeygenRequest,
}

/// Answer to [`EnrollRequest`].
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnrollResponse {
    /// The key id to use from now on.
    pub key_id: String,
    /// The server's key-generation message.
    pub keygen: KeygenResponse,
}

/// `POST /v1/keys/{key_id}/certificate`: a CSR for the joint key, co-signed beforehand.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CertificateRequest {
    /// DER of the PKCS#10 request, hex.
    pub csr_der_hex: String,
}

/// Answer to [`CertificateRequest`] and body of `GET /v1/keys/{key_id}/certificate`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CertificateResponse {
    /// DER of the issued certificate, hex.
    pub certificate_der_hex: String,
    /// DER of the issuing CA's certificate, hex.
    pub ca_certificate_der_hex: String,
}

/// `POST /v1/keys/{key_id}/sign`: one co-signing round.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CosignRequest {
    /// Client-chosen key (8-64 characters of `[A-Za-z0-9_-]`); a retry with the same key and
    /// the same request returns the first answer instead of signing again.
    pub idempotency_key: String,
    /// The user's PIN.
    pub pin: Pin,
    /// Head of the evidence manifest bound to this signature, if any (hex).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence_head: Option<String>,
    /// The protocol message.
    pub sign: SignRequest,
}

/// Answer to [`CosignRequest`].
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct CosignResponse {
    /// The protocol message.
    pub sign: SignResponse,
}

/// `GET /v1/keys/{key_id}`: what the server knows about a key (nothing secret).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct KeyStatus {
    /// Key id.
    pub key_id: String,
    /// User the key belongs to.
    pub user_id: String,
    /// Joint public key, SEC1 compressed, hex.
    pub public_key_hex: String,
    /// Consecutive wrong PINs so far.
    pub pin_failures: u32,
    /// Whether the key is locked.
    pub locked: bool,
    /// Whether a certificate was issued.
    pub has_certificate: bool,
}

/// The server's answer to an evidence submission (`POST /v1/keys/{key_id}/evidence`).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct EvidenceReceipt {
    /// The challenge the evidence answered (now used up).
    pub challenge_id: String,
    /// The manifest head to put in `CosignRequest.evidence_head` (lower-case hex).
    pub manifest_head: String,
    /// The server's verdict (from its liveness vendor and its own checks).
    pub passed: bool,
    /// Why it passed or failed, in words.
    pub reason: String,
    /// Until when (unix ms, server clock) a passed result satisfies the signing policy.
    pub valid_until_ms: u64,
}

/// What the caller should do about an error; stable, machine-readable.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The request is malformed; fix the client.
    BadRequest,
    /// The PIN was wrong; `attempts_left` says how many tries remain.
    WrongPin,
    /// The key is locked after too many wrong PINs; it must be unlocked or re-enrolled.
    Locked,
    /// No such key.
    UnknownKey,
    /// The id or idempotency key is already used for something else.
    Conflict,
    /// The body is too large.
    TooLarge,
    /// The request was refused by policy.
    PolicyRefused,
    /// The key's policy requires a fresh, passed liveness check bound to this request: run
    /// the capture again and sign with its evidence head.
    EvidenceRequired,
    /// The liveness challenge is unknown, already used or expired: request a new one.
    ChallengeInvalid,
    /// The server failed; retry later.
    Internal,
}

/// Body of every non-2xx answer.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct ErrorBody {
    /// Machine-readable code.
    pub code: ErrorCode,
    /// Human-readable explanation (never contains secrets).
    pub message: String,
    /// For `wrong_pin`: tries left before the key locks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attempts_left: Option<u32>,
}

/// Check an idempotency key: 8 to 64 characters of `[A-Za-z0-9_-]`.
pub fn valid_idempotency_key(k: &str) -> bool {
    k.len() >= 8 && crate::messages::valid_id(k)
}
