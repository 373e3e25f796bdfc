//! The HTTP API's JSON bodies, shared by the phone's client and the server.
//!
//! They wrap the protocol messages with what the server needs to authorise a step (enrollment
//! ticket, device key, PIN, idempotency key, the message to be signed, evidence head). Keeping
//! them here means a change to either side's view of the API fails to compile on the other.
//!
//! Values that arrive from outside and carry structure ([`EnrollmentTicket`],
//! [`SignedMessage`], [`DeviceKeyRegistration`]) parse when they are deserialised: their
//! fields are private and only hold checked values.

mod login;
mod message;
mod p256;
mod pin;
mod ticket;

pub use login::{LoginChallenge, LoginChallengeOrder, LoginVerified, LoginVerifyRequest};
pub use message::{MAX_SIGNED_MESSAGE_BYTES, MessageError, MessageKind, SignedMessage};
pub use p256::{
    KeyCurve, MAX_P256_KEYGEN_2_BYTES, MAX_P256_KEYGEN_REPLY_2_BYTES, MAX_P256_SIGN_1_BYTES,
    MAX_P256_SIGN_2_BYTES, MAX_P256_SIGN_REPLY_1_BYTES, MAX_P256_SMALL_BYTES,
    P256EnrollFinishRequest, P256EnrollFinishResponse, P256EnrollRequest, P256EnrollResponse,
    P256Hex, P256SignFinishRequest, P256SignFinishResponse, P256SignRequest, P256SignResponse,
};
pub use pin::{Pin, PinPolicy, PinRejection};
pub use ticket::{EnrollmentTicket, TicketError};

use crate::messages::{KeygenRequest, KeygenResponse, SignRequest, SignResponse};
use serde::{Deserialize, Serialize};

/// Largest device public key (SubjectPublicKeyInfo DER) accepted, in bytes.
pub const MAX_DEVICE_KEY_BYTES: usize = 512;
/// Largest attestation accepted (all its parts together), in bytes (a real Android chain is 3
/// to 5 KiB; the enrollment body, hex-encoded, must fit in 64 KiB).
pub const MAX_ATTESTATION_BYTES: usize = 24 * 1024;

/// How a device key's attestation is encoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttestationFormat {
    /// Android Key Attestation: the key's certificate chain, leaf first, each part one DER
    /// certificate; the attestation challenge is the enrollment ticket's id.
    AndroidKey,
    /// An Apple App Attest attestation object (one CBOR part); the client data hash is
    /// SHA-256 of the enrollment ticket's id.
    AppleAppAttest,
}

impl AttestationFormat {
    /// The stable name (as in JSON).
    pub fn as_str(self) -> &'static str {
        match self {
            AttestationFormat::AndroidKey => "android_key",
            AttestationFormat::AppleAppAttest => "apple_app_attest",
        }
    }
}

/// A platform's statement about where a device key lives.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeviceAttestation {
    /// Encoding.
    pub format: AttestationFormat,
    /// The parts, hex (certificates for Android, one object for Apple).
    pub parts_hex: Vec<String>,
}

impl DeviceAttestation {
    /// The parts as bytes, refusing bad hex, no parts, or more than [`MAX_ATTESTATION_BYTES`].
    pub fn parts(&self) -> Result<Vec<Vec<u8>>, String> {
        let total: usize = self.parts_hex.iter().map(|p| p.len() / 2).sum();
        if self.parts_hex.is_empty() || self.parts_hex.len() > 8 || total > MAX_ATTESTATION_BYTES {
            return Err(format!(
                "an attestation has 1 to 8 parts and at most {MAX_ATTESTATION_BYTES} bytes"
            ));
        }
        self.parts_hex
            .iter()
            .map(|p| hex::decode(p).map_err(|_| "attestation part is not hex".to_string()))
            .collect()
    }
}

/// The phone's device key, registered at enrollment: every later request about the key is
/// signed by it (HTTP Message Signatures, `ecdsa-p256-sha256`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeviceKeyRegistration {
    /// The P-256 public key as SubjectPublicKeyInfo DER, hex.
    pub public_key_spki_hex: String,
    /// Where the platform can, its attestation of the key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attestation: Option<DeviceAttestation>,
}

impl DeviceKeyRegistration {
    /// The SubjectPublicKeyInfo bytes (hex checked, size capped; the key itself is checked by
    /// whoever verifies signatures with it).
    pub fn public_key_spki(&self) -> Result<Vec<u8>, String> {
        if self.public_key_spki_hex.len() > 2 * MAX_DEVICE_KEY_BYTES {
            return Err("device public key too large".into());
        }
        hex::decode(&self.public_key_spki_hex).map_err(|_| "device public key is not hex".into())
    }
}

/// What a split key is for. A key has one purpose for its life: the decryption share is never
/// the signing share (two-party decryption answers `d2^-1 T1` for any `T1`, a static-DH oracle
/// the signing key must stay out of; see ARCHITECTURE.md, "Two-party decryption").
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyPurpose {
    /// Co-signing (documents, transactions, logins). The default.
    #[default]
    Signing,
    /// Two-party SM2 decryption (`POST /v1/keys/{key_id}/decrypt`); it co-signs nothing but its
    /// own certificate request, and its certificate has keyUsage keyEncipherment.
    Encryption,
}

impl KeyPurpose {
    /// The stable name (as in JSON and the database).
    pub fn as_str(self) -> &'static str {
        match self {
            KeyPurpose::Signing => "signing",
            KeyPurpose::Encryption => "encryption",
        }
    }

    /// Parse a stable name.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "signing" => Some(KeyPurpose::Signing),
            "encryption" => Some(KeyPurpose::Encryption),
            _ => None,
        }
    }

    fn is_signing(&self) -> bool {
        *self == KeyPurpose::Signing
    }
}

/// `POST /v1/enroll`: create a split key with a ticket the institution issued.
///
/// The request is signed by the new device key (its key id is the ticket's id), which proves
/// the phone holds it.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnrollRequest {
    /// The one-time enrollment ticket the institution issued for this user.
    pub ticket: EnrollmentTicket,
    /// The PIN that will authorise every signature with this key.
    pub pin: Pin,
    /// The device key that will sign every later request about this key.
    pub device_key: DeviceKeyRegistration,
    /// The phone's key-generation message; its `enrollment_id` is the ticket's id.
    pub keygen: KeygenRequest,
    /// What the key is for (absent: signing, as before purposes existed).
    #[serde(default, skip_serializing_if = "KeyPurpose::is_signing")]
    pub purpose: KeyPurpose,
}

/// Answer to [`EnrollRequest`].
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnrollResponse {
    /// The key id the server chose; use it from now on.
    pub key_id: String,
    /// The user the institution named in the ticket.
    pub user_id: String,
    /// The common name certificates for this key will carry (what the institution asserted).
    pub certificate_name: String,
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

/// Most certificates one [`RevocationRequest`] may name.
pub const MAX_REVOCATION_CERTIFICATES: usize = 8;

/// `POST /v1/revocation`: OCSP responses for certificates the CA issued, for a PDF's DSS
/// (PAdES B-LT), asked in JSON so a phone needs no OCSP encoding of its own; optionally with
/// the signature's time-stamp request, so that a co-signed signature gets its time-stamp and
/// all its long-term data in one round trip.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RevocationRequest {
    /// DER of each certificate, hex (1 to [`MAX_REVOCATION_CERTIFICATES`]).
    pub certificates_der_hex: Vec<String>,
    /// A DER RFC 3161 `TimeStampReq`, hex, for the server's time-stamping authority.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_stamp_request_der_hex: Option<String>,
}

/// Answer to [`RevocationRequest`]: one DER OCSPResponse per certificate, in request order,
/// each signed by the delegated responder of the root that issued the certificate; when a
/// time-stamp was asked for, its reply, and (when it grants a token) one more OCSP response,
/// last, for the certificate of the TSA unit that signed it.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RevocationResponse {
    /// DER OCSPResponse for each certificate, hex.
    pub ocsp_responses_der_hex: Vec<String>,
    /// The DER `TimeStampResp`, hex (a token or a rejection), when one was asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_stamp_reply_der_hex: Option<String>,
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
    /// What is signed: the server computes `e = SM3(Z_A || message)` itself, records the
    /// document it names, and checks `sign.e` against it.
    pub message: SignedMessage,
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

/// Largest `envelope_ref` accepted: an SM3 digest, 64 hex digits.
pub const ENVELOPE_REF_HEX_LEN: usize = 64;

/// `POST /v1/keys/{key_id}/decrypt`: one two-party decryption round (encryption keys only).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecryptApiRequest {
    /// Client-chosen key (8-64 characters of `[A-Za-z0-9_-]`), also the round's request id
    /// (`decrypt.request_id` must equal it): a retry returns the first answer.
    pub idempotency_key: String,
    /// The user's PIN.
    pub pin: Pin,
    /// SM3 of the envelope being opened, lower-case hex: only the client's claim (the server
    /// sees a blinded point and cannot check it), recorded in the audit log.
    pub envelope_ref: String,
    /// The protocol message.
    pub decrypt: crate::DecryptRequest,
}

/// Answer to [`DecryptApiRequest`].
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct DecryptApiResponse {
    /// The protocol message.
    pub decrypt: crate::DecryptResponse,
}

/// `POST /v1/keys/{key_id}/pin`: change the PIN, proving the old one.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PinChangeRequest {
    /// The PIN in force (counted like any PIN attempt).
    pub old_pin: Pin,
    /// The new PIN (checked against the server's PIN policy).
    pub new_pin: Pin,
}

/// Why a key is revoked (RFC 5280 reason codes the CRL carries).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RevocationReason {
    /// No reason given.
    Unspecified,
    /// The phone or the PIN is compromised (lost, stolen).
    KeyCompromise,
    /// The user left the institution or changed name.
    AffiliationChanged,
    /// Replaced by a new enrollment.
    Superseded,
    /// The user no longer needs the key.
    CessationOfOperation,
}

impl RevocationReason {
    /// The stable name (as in JSON and the audit log).
    pub fn as_str(self) -> &'static str {
        match self {
            RevocationReason::Unspecified => "unspecified",
            RevocationReason::KeyCompromise => "key_compromise",
            RevocationReason::AffiliationChanged => "affiliation_changed",
            RevocationReason::Superseded => "superseded",
            RevocationReason::CessationOfOperation => "cessation_of_operation",
        }
    }
}

/// `POST /v1/keys/{key_id}/revoke`: the user revokes the key (PIN required).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RevokeRequest {
    /// The user's PIN.
    pub pin: Pin,
    /// Why.
    pub reason: RevocationReason,
}

/// `GET /v1/keys/{key_id}`: what the server knows about a key (nothing secret).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct KeyStatus {
    /// Key id.
    pub key_id: String,
    /// User the key belongs to (the institution's opaque id).
    pub user_id: String,
    /// Joint public key, SEC1 uncompressed, hex.
    pub public_key_hex: String,
    /// Consecutive wrong PINs so far.
    pub pin_failures: u32,
    /// Whether the key is locked.
    pub locked: bool,
    /// Whether the key is revoked (it never signs again).
    pub revoked: bool,
    /// Whether a certificate was issued.
    pub has_certificate: bool,
    /// What the key is for.
    #[serde(default)]
    pub purpose: KeyPurpose,
    /// The key's curve (absent: SM2).
    #[serde(default, skip_serializing_if = "KeyCurve::is_sm2")]
    pub curve: KeyCurve,
    /// The device key's attestation format, when one was verified at enrollment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_attestation: Option<AttestationFormat>,
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
    /// The document digests (SM3, hex) the evidence binds: the ones it may be used to sign.
    #[serde(default)]
    pub document_digests: Vec<String>,
}

/// What the caller should do about an error; stable, machine-readable.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The request is malformed; fix the client.
    BadRequest,
    /// The body is not `application/json`.
    UnsupportedMediaType,
    /// The request is not signed by a device key the server knows for this key (or the key
    /// does not exist; the two are answered alike): enroll again.
    Unauthenticated,
    /// The device's clock is too far from the server's: `server_time_unix` says the server's.
    ClockSkew,
    /// The operator credential lacks the role this route needs.
    Forbidden,
    /// The enrollment ticket is unknown, used or expired: ask the institution for a new one.
    TicketInvalid,
    /// The PIN was wrong; `attempts_left` says how many tries remain.
    WrongPin,
    /// The new PIN breaks the PIN policy; the message names the rule.
    PinRejected,
    /// The key is locked after too many wrong PINs; the institution must unlock it.
    Locked,
    /// The key is revoked and never signs again: enroll anew.
    Revoked,
    /// No such key (operator routes only; device routes answer `unauthenticated`).
    UnknownKey,
    /// Something else the request names does not exist (no certificate yet, no such signing
    /// or credential).
    NotFound,
    /// The id or idempotency key is already used for something else.
    Conflict,
    /// The body is too large.
    TooLarge,
    /// Too many requests: wait `retry_after_secs`.
    RateLimited,
    /// The request was refused by policy.
    PolicyRefused,
    /// The key's policy requires a fresh, passed liveness check bound to this request and to
    /// this document: run the capture again and sign with its evidence head.
    EvidenceRequired,
    /// The liveness challenge is unknown, already used or expired: request a new one.
    ChallengeInvalid,
    /// A request to co-sign a transaction was refused: its content is not a transaction (or
    /// not a valid one), or the signed attributes do not name it. The message says which.
    TransactionRefused,
    /// A login assertion was refused: at co-signing, its challenge is unknown, expired, used or
    /// does not match; at verification, its signature, chain, certificate status, relying
    /// party or validity does not hold. The message says which.
    LoginRefused,
    /// A login assertion whose challenge was already consumed by a verification: a replay.
    LoginReplayed,
    /// The key's purpose does not allow this request: a signing key asked to decrypt, or an
    /// encryption key asked to co-sign anything but its own certificate request.
    WrongKeyPurpose,
    /// The server failed; retry later.
    Internal,
    /// No such seal (the institution's sealing service).
    UnknownSeal,
    /// The seal is disabled and signs nothing more.
    SealDisabled,
    /// The hash or signature algorithm OID is not the seal's.
    AlgorithmMismatch,
    /// A hash is not base64 of exactly the digest length (32 bytes); the message names which.
    BadHash,
    /// More hashes in one sign-hash call than the server takes (the message says how many).
    BatchTooLarge,
    /// The unified social credit code (统一社会信用代码) is malformed or its check character
    /// is wrong.
    InvalidCreditCode,
    /// A two-party P-256 signing session was refused: unknown, expired, already used (a
    /// replayed trip 2), its `sign_id` used before for this key, or the request names a key of
    /// the other curve. Nothing was signed; start a new session.
    SessionRefused,
    /// An envelope given to the institution's encryption key was refused: it is not addressed
    /// to that key's certificate, it is malformed, or it does not decrypt (the message says
    /// which). Nothing was decrypted.
    EnvelopeRefused,
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
    /// For `rate_limited`: seconds to wait (also in the `Retry-After` header).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_secs: Option<u64>,
    /// For `clock_skew`: the server's clock, unix seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_time_unix: Option<u64>,
}

impl ErrorBody {
    /// A body with only a code and a message.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        ErrorBody {
            code,
            message: message.into(),
            attempts_left: None,
            retry_after_secs: None,
            server_time_unix: None,
        }
    }
}

/// Check an idempotency key: 8 to 64 characters of `[A-Za-z0-9_-]`.
pub fn valid_idempotency_key(k: &str) -> bool {
    k.len() >= 8 && crate::messages::valid_id(k)
}

/// Check a user id: 1 to 128 printable characters, no control or bidirectional-formatting
/// characters (which make a displayed id differ from the stored one).
pub fn valid_user_id(u: &str) -> bool {
    (1..=128).contains(&u.chars().count())
        && !u
            .chars()
            .any(|c| c.is_control() || is_bidi_control(c) || is_invisible(c))
}

/// Bidirectional formatting characters (Unicode TR9): embeddings, overrides, isolates, marks.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Zero-width and other invisible format characters.
fn is_invisible(c: char) -> bool {
    matches!(c, '\u{00AD}' | '\u{200B}'..='\u{200D}' | '\u{2060}'..='\u{2064}' | '\u{FEFF}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_ids_are_printable_without_bidi_tricks() {
        assert!(valid_user_id("customer-42"));
        assert!(valid_user_id("客户 0042"));
        for bad in [
            "",
            "a\u{202E}gpj.exe",
            "ab\u{2066}c",
            "x\u{200B}y",
            "line\nbreak",
            "tab\t",
        ] {
            assert!(!valid_user_id(bad), "{bad:?}");
        }
        assert!(!valid_user_id(&"u".repeat(129)));
    }

    #[test]
    fn attestation_parts_are_bounded() {
        let ok = DeviceAttestation {
            format: AttestationFormat::AndroidKey,
            parts_hex: vec!["3000".into()],
        };
        assert_eq!(ok.parts().expect("parts"), vec![vec![0x30, 0x00]]);
        let none = DeviceAttestation {
            parts_hex: vec![],
            ..ok.clone()
        };
        assert!(none.parts().is_err());
        let huge = DeviceAttestation {
            parts_hex: vec!["00".repeat(MAX_ATTESTATION_BYTES + 1)],
            ..ok.clone()
        };
        assert!(huge.parts().is_err());
        let bad = DeviceAttestation {
            parts_hex: vec!["zz".into()],
            ..ok
        };
        assert!(bad.parts().is_err());
    }
}
