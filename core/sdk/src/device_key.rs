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
    /// Whether `sign` may block (a user-authentication prompt, a hardware round trip): the
    /// client then calls it on a blocking thread. Platform stores keep the default.
    fn may_block(&self) -> bool {
        true
    }
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

/// A device key ready to sign (ring's ECDSA signs about five times faster than p256's).
#[derive(Clone)]
struct Loaded(std::sync::Arc<ring::signature::EcdsaKeyPair>);

impl Loaded {
    fn new(key: &SigningKey) -> Result<Self, SdkError> {
        let secret = zeroize::Zeroizing::new(key.to_bytes());
        let public = key.verifying_key().to_sec1_point(false);
        ring::signature::EcdsaKeyPair::from_private_key_and_public_key(
            &ring::signature::ECDSA_P256_SHA256_FIXED_SIGNING,
            secret.as_slice(),
            public.as_bytes(),
            &ring::rand::SystemRandom::new(),
        )
        .map(|k| Loaded(std::sync::Arc::new(k)))
        .map_err(|_| SdkError::Storage("device key: unusable key".into()))
    }
}

/// Largest key file accepted on load.
const MAX_KEY_FILE: u64 = 16 * 1024;

/// Device keys as owner-only PKCS#8 files in a directory (desktops and tests: protected by
/// file permissions only; on phones use the platform's key store). Keys read once stay in
/// memory (wiped on drop) for the life of the store.
#[derive(Clone)]
pub struct FileDeviceKeyStore {
    dir: PathBuf,
    loaded: std::sync::Arc<std::sync::Mutex<std::collections::HashMap<String, Loaded>>>,
}

impl std::fmt::Debug for FileDeviceKeyStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileDeviceKeyStore")
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

impl FileDeviceKeyStore {
    /// Use (and create) `dir`.
    pub fn new(dir: impl Into<PathBuf>) -> Result<Self, SdkError> {
        let dir = dir.into();
        std::fs::create_dir_all(&dir)
            .map_err(|e| SdkError::Storage(format!("{}: {e}", dir.display())))?;
        Ok(FileDeviceKeyStore {
            dir,
            loaded: Default::default(),
        })
    }

    fn cache(
        &self,
    ) -> Result<std::sync::MutexGuard<'_, std::collections::HashMap<String, Loaded>>, SdkError>
    {
        self.loaded
            .lock()
            .map_err(|_| SdkError::Storage("device key cache poisoned".into()))
    }

    fn path(&self, alias: &str) -> Result<PathBuf, SdkError> {
        if !inkseal_cosign::valid_id(alias) {
            return Err(SdkError::InvalidInput(format!(
                "bad device key alias {alias:?}"
            )));
        }
        Ok(self.dir.join(format!("{alias}.device-key.der")))
    }

    fn load(&self, alias: &str) -> Result<Loaded, SdkError> {
        if let Some(key) = self.cache()?.get(alias) {
            return Ok(key.clone());
        }
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
        let key = SigningKey::from_pkcs8_der(&der).map_err(|e| storage(&e))?;
        let loaded = Loaded::new(&key)?;
        self.cache()?.insert(alias.to_owned(), loaded.clone());
        Ok(loaded)
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
        self.cache()?.insert(alias.to_owned(), Loaded::new(&key)?);
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
        key.0
            .sign(&ring::rand::SystemRandom::new(), message)
            .map(|s| s.as_ref().to_vec())
            .map_err(|_| SdkError::Storage("device key: signing failed".into()))
    }

    fn may_block(&self) -> bool {
        // A key in memory after its first use: signing takes tens of microseconds.
        false
    }

    fn delete(&self, alias: &str) -> Result<(), SdkError> {
        let path = self.path(alias)?;
        self.cache()?.remove(alias);
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
