//! Certificate login: the institution's backend obtains a challenge from the server and hands
//! it to the app; the phone co-signs a login assertion over it (one PIN use, one round trip)
//! and returns the DER CMS SignedData for the backend to verify (the server's
//! `/v1/admin/login/verify`, which also consumes the challenge). [`verify_login`] checks one
//! offline (signature, chain, relying party, expiry; not single use, not revocation).
//!
//! Only in builds with the `login` feature (the default). The production mobile library is
//! built without it for now (login would take it over 6 MB) and answers `InvalidInput`.

use crate::client::InksealClient;
use crate::errors::InksealError;
#[cfg(feature = "login")]
use inkseal_sdk::login::LoginChallenge;

/// A login challenge as the server issued it (`POST /v1/admin/login/challenges`).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct LoginChallengeInfo {
    /// 16 bytes, hex.
    pub challenge_id: String,
    /// 32 bytes, hex.
    pub nonce: String,
    /// The institution's id.
    pub relying_party: String,
    /// When it was issued, Unix seconds.
    pub issued_at: u64,
    /// When it expires, Unix seconds.
    pub expires_at: u64,
}

#[cfg(feature = "login")]
impl From<LoginChallengeInfo> for LoginChallenge {
    fn from(c: LoginChallengeInfo) -> Self {
        LoginChallenge {
            challenge_id: c.challenge_id,
            nonce: c.nonce,
            relying_party: c.relying_party,
            issued_at: c.issued_at,
            expires_at: c.expires_at,
        }
    }
}

/// An offline-verified login assertion: who signed, for whom, answering which challenge.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct VerifiedLoginInfo {
    /// The signer certificate's subject.
    pub subject: String,
    /// The signer certificate's serial, hex.
    pub serial_hex: String,
    /// The relying party.
    pub relying_party: String,
    /// The challenge answered, hex.
    pub challenge_id: String,
    /// The signing-time attribute, Unix seconds.
    pub signed_at_unix: u64,
    /// Always false: single use is the relying party's (or the server's verify) to check.
    pub single_use_checked: bool,
}

#[uniffi::export(async_runtime = "tokio")]
impl InksealClient {
    /// Co-signs a login assertion over `challenge` with the key's certificate (one PIN use,
    /// one round trip) and returns the DER CMS SignedData. `channel` (1 to 64 bytes) binds the
    /// login to a channel (an app-id hash, a TLS exporter value). The server refuses an
    /// unknown, expired, used or mismatched challenge (`Refused`).
    #[uniffi::method(default(channel = None, evidence_head_hex = None))]
    pub async fn login(
        &self,
        key_id: String,
        pin: String,
        challenge: LoginChallengeInfo,
        channel: Option<Vec<u8>>,
        evidence_head_hex: Option<String>,
    ) -> Result<Vec<u8>, InksealError> {
        #[cfg(feature = "login")]
        {
            let pin = inkseal_sdk::Pin::new(pin);
            let head = crate::capture::evidence_head(evidence_head_hex.as_deref())?;
            Ok(self
                .inner
                .login(&key_id, &pin, &challenge.into(), channel, head)
                .await?)
        }
        #[cfg(not(feature = "login"))]
        {
            let _ = (
                key_id,
                pin,
                challenge,
                channel,
                evidence_head_hex,
                &self.inner,
            );
            Err(without_login())
        }
    }
}

/// Verifies a login SignedData offline against `trust_anchors_der` (certificates, DER) for
/// `relying_party` at the current time; a bad signature, an untrusted signer, another relying
/// party, an expired assertion or content that is not a login is `BadDocument`. Neither
/// single use nor revocation is checked here.
#[uniffi::export]
pub fn verify_login(
    signed_der: Vec<u8>,
    trust_anchors_der: Vec<Vec<u8>>,
    relying_party: String,
) -> Result<VerifiedLoginInfo, InksealError> {
    #[cfg(feature = "login")]
    {
        use inkseal_pdf::cms::attached::{LoginRevocation, verify_login as verify};
        let v = verify(
            &signed_der,
            &trust_anchors_der,
            LoginRevocation::NotChecked,
            crate::pdf::now_unix(),
            &relying_party,
        )
        .map_err(|e| InksealError::BadDocument {
            detail: e.to_string(),
        })?;
        Ok(VerifiedLoginInfo {
            subject: v.subject,
            serial_hex: hex::encode(&v.serial),
            relying_party: v.relying_party,
            challenge_id: hex::encode(v.challenge_id),
            signed_at_unix: v.signed_at_unix,
            single_use_checked: false,
        })
    }
    #[cfg(not(feature = "login"))]
    {
        let _ = (signed_der, trust_anchors_der, relying_party);
        Err(without_login())
    }
}

#[cfg(not(feature = "login"))]
fn without_login() -> InksealError {
    InksealError::InvalidInput {
        detail: "this library was built without certificate login (feature login)".into(),
    }
}
