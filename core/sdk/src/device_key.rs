//! The device key: a P-256 key that never leaves the phone's key store and signs every
//! request the phone makes about its split key (HTTP Message Signatures, see
//! `inkseal-httpsig`). The server registered its public half at enrollment; a stranger who
//! learns a key id, or a PIN, but does not hold the phone, cannot make a request the server
//! accepts.
//!
//! On Android the key lives in the Android Keystore (`KeyGenParameterSpec` with
//! `PURPOSE_SIGN`, `DIGEST_SHA256`, and the enrollment ticket's id as attestation challenge);
//! on iOS in the Secure Enclave (`kSecAttrTokenIDSecureEnclave`); the bindings expose this
//! trait to the apps for that. [`FileDeviceKeyStore`] keeps keys in owner-only files, for
//! desktops and tests.

use crate::SdkError;
use inkseal_cosign::api::DeviceAttestation;
use p256::ecdsa::SigningKey;
use p256::pkcs8::{DecodePrivateKey, EncodePrivateKey, EncodePublicKey};
use std::path::PathBuf;

/// A new device key's public half, and the platform's attestation of it when there is one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceKeyInfo {
    /// SubjectPublicKeyInfo DER of the P-256 public key.
    pub public_key_spki_der: Vec<u8>,
    /// The platform's attestation (Android key attestation chain, Apple App Attest object).
    pub attestation: Option<DeviceAttestation>,
}

/// Where device keys live. Implementations must never export a private key.
pub trait DeviceKeyStore: Send + Sync {
    /// Create a new P-256 signing key named `alias` (replacing one of that name).
    /// `attestation_challenge` is what a platform attestation must carry (the enrollment
    /// ticket's id); a store that cannot attest returns no attestation.
    fn create(&self, alias: &str, attestation_challenge: &[u8]) -> Result<DeviceKeyInfo, SdkError>;
    /// Sign `message` with ECDSA P-256 over SHA-256 (the store hashes). Returns the signature
    /// as DER (what Android and Apple produce) or as 64 bytes `r || s`.
    fn sign(&self, alias: &str, message: &[u8]) -> Result<Vec<u8>, SdkError>;
    /// Forget the key `alias` (nothing to do when there is none).
    fn delete(&self, alias: &str) -> Result<(), SdkError>;
}

/// Turn what a [`DeviceKeyStore`] returned into a P-256 signature.
pub(crate) fn signature_from_store(bytes: &[u8]) -> Result<p256::ecdsa::Signature, SdkError> {
    let parsed = if bytes.len() == 64 {
        p256::ecdsa::Signature::from_slice(bytes).ok()
    } else {
        inkseal_httpsig::signature_from_der(bytes).ok()
    };
    parsed.ok_or_else(|| {
        SdkError::Storage("the device key store returned something that is not a signature".into())
    })
}

/// Largest key file accepted on load.
const MAX_KEY_FILE: u64 = 16 * 1024;

/// Device keys as owner-only PKCS#8 files in a directory (desktops and tests: protected by
/// file permissions only; on phones use the platform's key store).
#[derive(Debug, Clone)]
pub struct FileDeviceKeyStore {
    dir: PathBuf,
}

impl FileDeviceKeyStore {
    /// Use (and create) `dir`.
    pub fn new(dir: impl Into<PathBuf>) -> Result<Self, SdkError> {
        let dir = dir.into();
        std::fs::create_dir_all(&dir)
            .map_err(|e| SdkError::Storage(format!("{}: {e}", dir.display())))?;
        Ok(FileDeviceKeyStore { dir })
    }

    fn path(&self, alias: &str) -> Result<PathBuf, SdkError> {
        if !inkseal_cosign::valid_id(alias) {
            return Err(SdkError::InvalidInput(format!(
                "bad device key alias {alias:?}"
            )));
        }
        Ok(self.dir.join(format!("{alias}.device-key.der")))
    }

    fn load(&self, alias: &str) -> Result<SigningKey, SdkError> {
        let path = self.path(alias)?;
        let storage =
            |e: &dyn std::fmt::Display| SdkError::Storage(format!("{}: {e}", path.display()));
        let meta = std::fs::metadata(&path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => {
                SdkError::UnknownKey(format!("no device key {alias:?} on this device"))
            }
            _ => storage(&e),
        })?;
        if meta.len() > MAX_KEY_FILE {
            return Err(storage(&"file too large"));
        }
        let der = zeroize::Zeroizing::new(std::fs::read(&path).map_err(|e| storage(&e))?);
        SigningKey::from_pkcs8_der(&der).map_err(|e| storage(&e))
    }
}

impl DeviceKeyStore for FileDeviceKeyStore {
    fn create(&self, alias: &str, _challenge: &[u8]) -> Result<DeviceKeyInfo, SdkError> {
        let path = self.path(alias)?;
        let mut seed = zeroize::Zeroizing::new([0u8; 32]);
        let key = loop {
            getrandom::fill(seed.as_mut_slice())
                .map_err(|e| SdkError::Storage(format!("random: {e}")))?;
            if let Ok(k) = SigningKey::from_slice(seed.as_slice()) {
                break k;
            }
        };
        let der = key
            .to_pkcs8_der()
            .map_err(|e| SdkError::Storage(format!("device key: {e}")))?;
        inkseal_fs::write_atomically(&path, &[der.as_bytes()], inkseal_fs::Visibility::Private)
            .map_err(|e| SdkError::Storage(format!("{}: {e}", path.display())))?;
        let spki = key
            .verifying_key()
            .to_public_key_der()
            .map_err(|e| SdkError::Storage(format!("device key: {e}")))?;
        Ok(DeviceKeyInfo {
            public_key_spki_der: spki.as_bytes().to_vec(),
            attestation: None,
        })
    }

    fn sign(&self, alias: &str, message: &[u8]) -> Result<Vec<u8>, SdkError> {
        let key = self.load(alias)?;
        let signature: p256::ecdsa::Signature =
            p256::ecdsa::signature::Signer::try_sign(&key, message)
                .map_err(|e| SdkError::Storage(format!("device key: {e}")))?;
        Ok(signature.to_der().as_bytes().to_vec())
    }

    fn delete(&self, alias: &str) -> Result<(), SdkError> {
        let path = self.path(alias)?;
        match std::fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(SdkError::Storage(format!("{}: {e}", path.display()))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use p256::ecdsa::signature::Verifier;

    #[test]
    fn file_keys_sign_verifiably_and_stay_private() {
        let dir = tempfile::tempdir().expect("dir");
        let store = FileDeviceKeyStore::new(dir.path()).expect("store");
        let info = store.create("dk-1", b"challenge").expect("create");
        let vk =
            inkseal_httpsig::verifying_key_from_spki_der(&info.public_key_spki_der).expect("spki");
        let sig = signature_from_store(&store.sign("dk-1", b"hello").expect("sign")).expect("der");
        vk.verify(b"hello", &sig).expect("verifies");
        assert!(vk.verify(b"other", &sig).is_err());
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join("dk-1.device-key.der"))
            .expect("meta")
            .permissions()
            .mode();
        assert_eq!(mode & 0o077, 0, "owner-only");
        store.delete("dk-1").expect("delete");
        assert!(matches!(
            store.sign("dk-1", b"x"),
            Err(SdkError::UnknownKey(_))
        ));
        store.delete("dk-1").expect("deleting twice is fine");
        assert!(store.create("../x", b"c").is_err());
        assert!(signature_from_store(&[1, 2, 3]).is_err());
    }
}
