//! The HTTP bodies of two-party P-256 (issue 18): enrollment in two round trips and signing in
//! two round trips. The protocol messages travel as hex of their versioned bytes
//! (`inkseal_cosign::p256`, feature `p256-cosign`); these bodies only carry them, so both
//! sides can share them without the feature.
//!
//! Every hex field has a length limit checked before it is decoded
//! ([`P256Hex::bytes`]): the protocol message's own limit (`inkseal_cosign::p256::MAX_*`).

use super::{DeviceKeyRegistration, EnrollmentTicket, KeyPurpose, Pin, SignedMessage};
use serde::{Deserialize, Serialize};

/// The curve of a split key, chosen at enrollment and fixed for the key's life.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyCurve {
    /// SM2 with SM3 (GB/T 32918): one round trip per signature. The default.
    #[default]
    Sm2,
    /// ECDSA P-256 with SHA-256, two-party DKLs23: two round trips per signature (Adobe
    /// Reader and verifiers outside China check it).
    P256,
}

impl KeyCurve {
    /// The stable name (as in JSON and the database).
    pub fn as_str(self) -> &'static str {
        match self {
            KeyCurve::Sm2 => "sm2",
            KeyCurve::P256 => "p256",
        }
    }

    /// Parse a stable name.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "sm2" => Some(KeyCurve::Sm2),
            "p256" => Some(KeyCurve::P256),
            _ => None,
        }
    }

    /// Whether this is SM2 (the default, left out of JSON).
    pub fn is_sm2(&self) -> bool {
        *self == KeyCurve::Sm2
    }
}

/// Largest keygen trip-2 message (phone → server), in bytes: `MAX_KEYGEN_2_BYTES`.
pub const MAX_P256_KEYGEN_2_BYTES: usize = 300_000;
/// Largest keygen trip-2 answer, in bytes: `MAX_KEYGEN_REPLY_2_BYTES`.
pub const MAX_P256_KEYGEN_REPLY_2_BYTES: usize = 300_000;
/// Largest signing trip-1 message, in bytes: `MAX_SIGN_1_BYTES`.
pub const MAX_P256_SIGN_1_BYTES: usize = 54_000;
/// Largest signing trip-1 answer, in bytes: `MAX_SIGN_REPLY_1_BYTES`.
pub const MAX_P256_SIGN_REPLY_1_BYTES: usize = 165_000;
/// Largest signing trip-2 message, in bytes: `MAX_SIGN_2_BYTES`.
pub const MAX_P256_SIGN_2_BYTES: usize = 111_000;
/// Largest of the small messages (keygen trip 1 and its answer, signing trip 2's answer).
pub const MAX_P256_SMALL_BYTES: usize = 4 * 1024;

/// A protocol message as lower-case hex.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct P256Hex(pub String);

impl P256Hex {
    /// Hex of `bytes`.
    pub fn of(bytes: &[u8]) -> Self {
        P256Hex(hex::encode(bytes))
    }

    /// The bytes, refusing more than `max` bytes (before decoding) and bad hex.
    pub fn bytes(&self, max: usize) -> Result<Vec<u8>, String> {
        if self.0.len() > max.saturating_mul(2) {
            return Err(format!("protocol message larger than {max} bytes"));
        }
        hex::decode(&self.0).map_err(|_| "protocol message is not hex".into())
    }
}

/// `POST /v1/enroll/p256`: trip 1 of a P-256 enrollment. Authorised exactly like
/// [`super::EnrollRequest`] (ticket, PIN, device key, signed by the device key with
/// `keyid` = the ticket's id); the ticket is consumed only by trip 2.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct P256EnrollRequest {
    /// The one-time enrollment ticket.
    pub ticket: EnrollmentTicket,
    /// The PIN that will authorise every signature with this key.
    pub pin: Pin,
    /// The device key that will sign every later request about this key.
    pub device_key: DeviceKeyRegistration,
    /// What the key is for (only signing keys may be P-256).
    #[serde(default)]
    pub purpose: KeyPurpose,
    /// `KeygenRound1`, hex.
    pub keygen: P256Hex,
}

/// Answer to [`P256EnrollRequest`].
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct P256EnrollResponse {
    /// `KeygenReply1`, hex.
    pub keygen: P256Hex,
}

/// `POST /v1/enroll/p256/finish`: trip 2, signed by the same device key (`keyid` = the
/// ticket's id), to any server replica (trip 1's state is in the shared store).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct P256EnrollFinishRequest {
    /// The same ticket as trip 1.
    pub ticket: EnrollmentTicket,
    /// `KeygenRound2`, hex.
    pub keygen: P256Hex,
}

/// Answer to [`P256EnrollFinishRequest`]: the key exists.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct P256EnrollFinishResponse {
    /// The key id the server chose.
    pub key_id: String,
    /// The user the institution named in the ticket.
    pub user_id: String,
    /// The common name certificates for this key will carry.
    pub certificate_name: String,
    /// The joint public key, SEC1 uncompressed, hex.
    pub public_key_hex: String,
    /// `KeygenReply2`, hex.
    pub keygen: P256Hex,
}

/// `POST /v1/keys/{key_id}/p256/sign`: trip 1 of a P-256 co-signature: every check of an SM2
/// co-signature (device signature, PIN, idempotency key, the message read by the server,
/// policy), then the server's phases 1 and 2.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct P256SignRequest {
    /// Client-chosen key (8-64 characters of `[A-Za-z0-9_-]`): one signing session per key.
    pub idempotency_key: String,
    /// The user's PIN.
    pub pin: Pin,
    /// Head of the evidence manifest bound to this signature, if any (hex).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence_head: Option<String>,
    /// What is signed: the server hashes it with SHA-256 itself.
    pub message: SignedMessage,
    /// `SignRound1`, hex (its `sign_id` is the session's id).
    pub sign: P256Hex,
}

/// Answer to [`P256SignRequest`].
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct P256SignResponse {
    /// The session id (`sign_id`, hex): name it in trip 2's path.
    pub sign_id: String,
    /// Until when (unix ms, server clock) trip 2 is accepted.
    pub expires_at_ms: u64,
    /// `SignReply1`, hex.
    pub sign: P256Hex,
}

/// `POST /v1/keys/{key_id}/p256/sign/{sign_id}/finish`: trip 2. The session is consumed by
/// this request whatever its outcome: it is never continued twice.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct P256SignFinishRequest {
    /// `SignRound2`, hex.
    pub sign: P256Hex,
}

/// Answer to [`P256SignFinishRequest`]: the server's last message; the phone completes and
/// verifies the signature.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct P256SignFinishResponse {
    /// `SignReply2`, hex.
    pub sign: P256Hex,
}
