//! Certificate login with the co-signed key: the institution's backend obtained a challenge
//! from the server (`POST /v1/admin/login/challenges`) and handed it to the app; the phone
//! co-signs a login assertion over it (one round trip, PIN, device key) and hands the attached
//! CMS SignedData back to the backend, which verifies it (`POST /v1/admin/login/verify`, or
//! `inkseal_pdf::cms::attached::verify_login` plus its own single-use check).
//!
//! The server co-signs only for a challenge it issued that is unexpired and unused, and
//! audits the co-signature as `login_signed`. Under a liveness policy the evidence must bind
//! SM3 of the assertion's DER.

use crate::{CosignClient, Pin, SdkError};
pub use inkseal_cosign::api::LoginChallenge;
use inkseal_cosign::api::MessageKind;
use inkseal_pdf::cms::SignatureAlgorithm;
use inkseal_pdf::cms::attached::PreparedAttached;
pub use inkseal_pdf::cms::login::{LoginAssertion, LoginAssertionError};

/// The assertion that answers `challenge` (hex fields decoded, every field checked), with an
/// optional channel binding (1 to 64 bytes: an app-id hash, a TLS exporter value).
pub fn login_assertion(
    challenge: &LoginChallenge,
    channel: Option<Vec<u8>>,
) -> Result<LoginAssertion, SdkError> {
    fn fixed<const N: usize>(what: &str, value: &str) -> Result<[u8; N], SdkError> {
        hex::decode(value)
            .ok()
            .and_then(|b| <[u8; N]>::try_from(b.as_slice()).ok())
            .ok_or_else(|| SdkError::InvalidInput(format!("{what} must be {N} bytes of hex")))
    }
    LoginAssertion::new(
        challenge.relying_party.clone(),
        fixed("challenge_id", &challenge.challenge_id)?,
        fixed("nonce", &challenge.nonce)?,
        challenge.issued_at,
        challenge.expires_at,
        channel,
    )
    .map_err(|e| SdkError::InvalidInput(e.to_string()))
}

impl CosignClient {
    /// Co-sign a login assertion over `challenge` with the key's certificate: returns the DER
    /// ContentInfo of an attached SignedData (content-type, message-digest, signing-time now,
    /// signing-certificate-v2), checked before it is returned. The key must have a
    /// certificate.
    pub async fn login(
        &self,
        key_id: &str,
        pin: &Pin,
        challenge: &LoginChallenge,
        channel: Option<Vec<u8>>,
        evidence_head: Option<[u8; 32]>,
    ) -> Result<Vec<u8>, SdkError> {
        let assertion = login_assertion(challenge, channel)?;
        let (prepared, signature) = self
            .co_sign_attached(
                key_id,
                pin,
                MessageKind::CmsAttachedLogin,
                evidence_head,
                |certificate, now| {
                    PreparedAttached::login(
                        &assertion,
                        SignatureAlgorithm::Sm2Sm3,
                        &[certificate],
                        now,
                    )
                },
            )
            .await?;
        prepared
            .finish_login(&signature)
            .map_err(|e| SdkError::ServerMisbehaved(format!("login co-signature: {e}")))
    }
}
