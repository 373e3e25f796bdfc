//! The embedded CA's SM2 signing key.

use crate::error::PkiError;
use inkseal_cosign::DEFAULT_SIGNER_ID;
use inkseal_cosign::sm2::dsa::signature::Signer;
use inkseal_cosign::sm2::dsa::{Signature, SigningKey};
use inkseal_cosign::sm2::elliptic_curve::Generate;
use inkseal_cosign::sm2::pkcs8::{DecodePrivateKey, EncodePrivateKey};
use inkseal_cosign::sm2::{PublicKey, SecretKey};
use zeroize::Zeroizing;

/// The CA's SM2 private key; signs with the default signer ID ("1234567812345678").
///
/// The secret is held as an `sm2::SecretKey`, which is wiped on drop. An `sm2` `SigningKey` is
/// built for each signature (sm2 0.14's `SigningKey` does not wipe itself, so none is kept).
/// `Debug` shows only the public key.
#[derive(Clone)]
pub struct CaKey {
    secret: SecretKey,
    public_key: PublicKey,
}

impl std::fmt::Debug for CaKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use inkseal_cosign::sm2::elliptic_curve::sec1::ToSec1Point;
        let point = self.public_key.to_sec1_point(true);
        f.debug_struct("CaKey")
            .field("public_key", &HexBytes(point.as_bytes()))
            .finish_non_exhaustive()
    }
}

struct HexBytes<'a>(&'a [u8]);

impl std::fmt::Debug for HexBytes<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

impl CaKey {
    /// Draw a fresh key from the operating system's RNG.
    ///
    /// # Panics
    ///
    /// Only if the operating system's RNG fails; use [`CaKey::try_generate`] to get an error
    /// instead.
    pub fn generate() -> Self {
        Self::from_secret(SecretKey::generate())
    }

    /// Draw a fresh key from the operating system's RNG, reporting an RNG failure.
    pub fn try_generate() -> Result<Self, PkiError> {
        SecretKey::try_generate()
            .map(Self::from_secret)
            .map_err(|e| PkiError::Key(format!("random generator failed: {e}")))
    }

    /// Decode a PKCS#8 `PrivateKeyInfo` (id-ecPublicKey, curve sm2), as [`CaKey::to_pkcs8_der`]
    /// writes and `openssl genpkey -algorithm SM2` produces.
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self, PkiError> {
        SecretKey::from_pkcs8_der(der)
            .map(Self::from_secret)
            .map_err(|e| PkiError::Key(format!("PKCS#8 SM2 private key: {e}")))
    }

    /// Encode as PKCS#8 DER. The returned buffer is wiped when dropped.
    pub fn to_pkcs8_der(&self) -> Result<Zeroizing<Vec<u8>>, PkiError> {
        let document = self
            .secret
            .to_pkcs8_der()
            .map_err(|e| PkiError::Key(format!("PKCS#8 encoding: {e}")))?;
        Ok(Zeroizing::new(document.as_bytes().to_vec()))
    }

    /// The CA's public key.
    pub fn public_key(&self) -> &PublicKey {
        &self.public_key
    }

    /// SM2 signature (default signer ID, SM3) over `message`.
    pub(crate) fn sign(&self, message: &[u8]) -> Result<Signature, PkiError> {
        let signing_key = SigningKey::new(DEFAULT_SIGNER_ID, &self.secret)
            .map_err(|_| PkiError::Key("cannot build the SM2 signing key".into()))?;
        signing_key
            .try_sign(message)
            .map_err(|_| PkiError::Key("SM2 signing failed".into()))
    }

    fn from_secret(secret: SecretKey) -> Self {
        let public_key = secret.public_key();
        CaKey { secret, public_key }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ca_key_is_shareable_across_threads() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<CaKey>();
    }
}
