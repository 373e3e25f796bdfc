//! Certificate login: the institution's backend obtains a challenge from the server and hands
//! it to the app; the phone co-signs a login assertion over it (one PIN use, one round trip)
//! and returns the DER CMS SignedData for the backend to verify (the server's
//! `/v1/admin/login/verify`, which also consumes the challenge). Verifying an assertion is
//! the backend's job (the server's endpoint, `inkseal login verify`, the core's
//! `verify_login`), so the bindings carry no verifier: a phone has nothing to verify, and
//! the mobile library has no room for one.

use crate::client::InksealClient;
use crate::errors::InksealError;
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
        let pin = inkseal_sdk::Pin::new(pin);
        let head = crate::capture::evidence_head(evidence_head_hex.as_deref())?;
        Ok(self
            .inner
            .login(&key_id, &pin, &challenge.into(), channel, head)
            .await?)
    }
}
