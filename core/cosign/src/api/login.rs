//! Certificate login bodies (issue 17): the institution's backend asks the server for a
//! challenge, the phone co-signs a login assertion over it, the backend asks the server to
//! verify the assertion (which consumes the challenge).

use serde::{Deserialize, Serialize};

/// `POST /v1/admin/login/challenges`: a challenge for `relying_party`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginChallengeOrder {
    /// The institution's id (1 to 128 characters, no control characters).
    pub relying_party: String,
    /// Lifetime in seconds, 1 to 300 (default 120).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl_secs: Option<u64>,
}

/// A login challenge as issued; the app hands it to the SDK's `login`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginChallenge {
    /// 16 bytes, lower-case hex.
    pub challenge_id: String,
    /// 32 bytes, lower-case hex.
    pub nonce: String,
    /// The institution's id.
    pub relying_party: String,
    /// When it was issued (unix seconds, server clock).
    pub issued_at: u64,
    /// When it expires (unix seconds, server clock).
    pub expires_at: u64,
}

/// `POST /v1/admin/login/verify`: an assertion to verify for `relying_party`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginVerifyRequest {
    /// The attached CMS SignedData (DER ContentInfo), hex.
    pub assertion_der_hex: String,
    /// The relying party the caller expects (its own id).
    pub relying_party: String,
    /// The channel binding the relying party sees for this login (its app id's hash, the TLS
    /// exporter of the session it came through), hex, 1 to 64 bytes: when given, the
    /// assertion must carry exactly it (`login_refused` otherwise, and the challenge is not
    /// consumed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel_hex: Option<String>,
}

/// Who logged in: the answer of a verification that held and consumed the challenge.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginVerified {
    /// The key whose certificate signed (this server issued it).
    pub key_id: String,
    /// The signer certificate's subject (RFC 4514).
    pub subject: String,
    /// The signer certificate's serial, lower-case hex.
    pub serial_hex: String,
    /// The signer certificate, DER hex.
    pub certificate_der_hex: String,
    /// The challenge answered (now used), hex.
    pub challenge_id: String,
    /// The relying party.
    pub relying_party: String,
    /// The signing-time attribute (unix seconds; the signer's claim).
    pub signed_at: u64,
    /// The assertion's channel binding, hex, if it carries one (checked against
    /// `channel_hex` when the request gave it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel_hex: Option<String>,
}
