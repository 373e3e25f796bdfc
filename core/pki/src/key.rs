//! Keys that sign certificates and CRLs: the embedded CA's SM2 key ([`CaKey`]) and its P-256
//! key ([`P256CaKey`]), both behind [`IssuerKey`].

use crate::error::PkiError;
use inkseal_cosign::DEFAULT_SIGNER_ID;
use inkseal_cosign::sm2::dsa::signature::Signer;
use inkseal_cosign::sm2::dsa::{Signature, SigningKey};
use inkseal_cosign::sm2::elliptic_curve::Generate;
use inkseal_cosign::sm2::pkcs8::{DecodePrivateKey, EncodePrivateKey};
use inkseal_cosign::sm2::{PublicKey, SecretKey};
use spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};
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
        pkcs8_document(self.secret.to_pkcs8_der())
    }

    /// The CA's public key.
    pub fn public_key(&self) -> &PublicKey {
        &self.public_key
    }

    /// SM2 signature (default signer ID, SM3) over `message`.
    fn sign(&self, message: &[u8]) -> Result<Signature, PkiError> {
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

/// The bytes of an encoded PKCS#8 document, in a buffer wiped when dropped.
fn pkcs8_document<E: std::fmt::Display>(
    encoded: Result<der::SecretDocument, E>,
) -> Result<Zeroizing<Vec<u8>>, PkiError> {
    encoded
        .map(|document| Zeroizing::new(document.as_bytes().to_vec()))
        .map_err(|e| PkiError::Key(format!("PKCS#8 encoding: {e}")))
}

/// A key that signs certificates, CRLs and time-stamp tokens.
///
/// Implemented by [`CaKey`] (SM2-with-SM3, default signer ID) and [`P256CaKey`]
/// (ecdsa-with-SHA256). The secret never leaves the implementation; callers get signatures.
pub trait IssuerKey {
    /// The signature algorithm identifier written into what this key signs (parameters absent).
    fn signature_algorithm(&self) -> AlgorithmIdentifierOwned;
    /// The key's SubjectPublicKeyInfo (id-ecPublicKey with the named curve).
    fn subject_public_key_info(&self) -> Result<SubjectPublicKeyInfoOwned, PkiError>;
    /// Sign `message` (the key hashes it itself) and return the DER `SEQUENCE { r, s }`.
    fn sign_to_der(&self, message: &[u8]) -> Result<Vec<u8>, PkiError>;
}

impl IssuerKey for CaKey {
    fn signature_algorithm(&self) -> AlgorithmIdentifierOwned {
        crate::algorithm::sm2_with_sm3()
    }

    fn subject_public_key_info(&self) -> Result<SubjectPublicKeyInfoOwned, PkiError> {
        crate::algorithm::sm2_spki(&self.public_key)
    }

    fn sign_to_der(&self, message: &[u8]) -> Result<Vec<u8>, PkiError> {
        self.sign(message)
            .map(|s| crate::algorithm::signature_to_der(&s))
    }
}

/// An ECDSA P-256 private key for the embedded CA's P-256 root and for P-256 time-stamping,
/// so that validators without SM2 (OpenSSL, pyHanko, Adobe Reader) can check P-256 chains.
///
/// Held as a `p256::SecretKey` (wiped on drop); `Debug` shows only the public key.
#[derive(Clone)]
pub struct P256CaKey {
    secret: p256::SecretKey,
    public_key: p256::PublicKey,
}

impl std::fmt::Debug for P256CaKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use p256::elliptic_curve::sec1::ToSec1Point;
        let point = self.public_key.to_sec1_point(true);
        f.debug_struct("P256CaKey")
            .field("public_key", &HexBytes(point.as_bytes()))
            .finish_non_exhaustive()
    }
}

impl P256CaKey {
    /// Draw a fresh key from the operating system's RNG, reporting an RNG failure.
    pub fn try_generate() -> Result<Self, PkiError> {
        use p256::elliptic_curve::Generate;
        p256::SecretKey::try_generate()
            .map(Self::from_secret)
            .map_err(|e| PkiError::Key(format!("random generator failed: {e}")))
    }

    /// Decode a PKCS#8 `PrivateKeyInfo` (id-ecPublicKey, curve prime256v1).
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self, PkiError> {
        use p256::pkcs8::DecodePrivateKey;
        p256::SecretKey::from_pkcs8_der(der)
            .map(Self::from_secret)
            .map_err(|e| PkiError::Key(format!("PKCS#8 P-256 private key: {e}")))
    }

    /// Encode as PKCS#8 DER. The returned buffer is wiped when dropped.
    pub fn to_pkcs8_der(&self) -> Result<Zeroizing<Vec<u8>>, PkiError> {
        use p256::pkcs8::EncodePrivateKey;
        pkcs8_document(self.secret.to_pkcs8_der())
    }

    /// The public key.
    pub fn public_key(&self) -> &p256::PublicKey {
        &self.public_key
    }

    fn from_secret(secret: p256::SecretKey) -> Self {
        let public_key = secret.public_key();
        P256CaKey { secret, public_key }
    }
}

impl IssuerKey for P256CaKey {
    fn signature_algorithm(&self) -> AlgorithmIdentifierOwned {
        AlgorithmIdentifierOwned {
            oid: crate::algorithm::ECDSA_WITH_SHA256,
            parameters: None,
        }
    }

    fn subject_public_key_info(&self) -> Result<SubjectPublicKeyInfoOwned, PkiError> {
        crate::algorithm::p256_spki(&self.public_key)
    }

    fn sign_to_der(&self, message: &[u8]) -> Result<Vec<u8>, PkiError> {
        use p256::ecdsa::signature::Signer as _;
        let signing_key = p256::ecdsa::SigningKey::from(&self.secret);
        let signature: p256::ecdsa::Signature = signing_key
            .try_sign(message)
            .map_err(|_| PkiError::Key("ECDSA P-256 signing failed".into()))?;
        Ok(signature.to_der().as_bytes().to_vec())
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
