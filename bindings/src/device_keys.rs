//! The device key: a P-256 key in the phone's key store that signs every request about the
//! user's split key (see `inkseal_sdk::DeviceKeyStore`).
//!
//! On Android implement [`DeviceKeyStore`] with the Android Keystore (`KeyPairGenerator` "EC"
//! in "AndroidKeyStore", `PURPOSE_SIGN`, `DIGEST_SHA256`, `setAttestationChallenge(challenge)`,
//! and `Signature` "SHA256withECDSA"); on iOS with the Secure Enclave
//! (`SecKeyCreateRandomKey` with `kSecAttrTokenIDSecureEnclave`, and
//! `.ecdsaSignatureMessageX962SHA256`). The façades ship both. [`DeviceKeys::Directory`]
//! keeps keys in owner-only files (desktops, tests).

use crate::errors::{HookError, InksealError};
use inkseal_sdk::{AttestationFormat, DeviceAttestation, SdkError};
use std::sync::Arc;

/// Which platform attestation a device key carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum AttestationKind {
    /// Android Key Attestation: the key's certificate chain, leaf first.
    AndroidKey,
    /// An Apple App Attest attestation object.
    AppleAppAttest,
}

/// A platform's attestation of a new device key.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct DeviceAttestationInfo {
    /// Which kind.
    pub kind: AttestationKind,
    /// Its parts: DER certificates (Android), or one CBOR object (Apple).
    pub parts: Vec<Vec<u8>>,
}

/// A new device key's public half.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct DeviceKeyInfo {
    /// SubjectPublicKeyInfo DER of the P-256 public key (`PublicKey.getEncoded()` on the JVM;
    /// `SecKeyCopyExternalRepresentation` plus the P-256 SPKI header on iOS).
    pub public_key_spki_der: Vec<u8>,
    /// The attestation, where the platform gives one.
    #[uniffi(default = None)]
    pub attestation: Option<DeviceAttestationInfo>,
}

/// Device keys in the platform's key store, implemented by the app. Private keys never leave
/// the store; methods may block (a biometric prompt) and run on a background thread.
#[uniffi::export(with_foreign)]
pub trait DeviceKeyStore: Send + Sync {
    /// Creates a P-256 signing key named `alias` (replacing one of that name), attested with
    /// `attestation_challenge` where the platform can.
    fn create(
        &self,
        alias: String,
        attestation_challenge: Vec<u8>,
    ) -> Result<DeviceKeyInfo, HookError>;
    /// Signs `message` with ECDSA P-256 over SHA-256; returns DER (or 64 bytes r || s).
    fn sign(&self, alias: String, message: Vec<u8>) -> Result<Vec<u8>, HookError>;
    /// Deletes the key `alias` (nothing to do when there is none).
    fn delete(&self, alias: String) -> Result<(), HookError>;
}

/// Where the client keeps device keys.
#[derive(uniffi::Enum)]
pub enum DeviceKeys {
    /// Owner-only files in a directory (desktop JVMs and tests; not for phones: the production
    /// mobile library, built without the `file-device-keys` feature, refuses it with
    /// `InvalidInput`).
    Directory {
        /// The directory.
        path: String,
    },
    /// The app's platform key store.
    Platform {
        /// The store.
        store: Arc<dyn DeviceKeyStore>,
    },
}

impl std::fmt::Debug for DeviceKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DeviceKeys::Directory { path } => write!(f, "DeviceKeys::Directory({path})"),
            DeviceKeys::Platform { .. } => f.write_str("DeviceKeys::Platform"),
        }
    }
}

impl DeviceKeys {
    pub(crate) fn into_store(self) -> Result<Arc<dyn inkseal_sdk::DeviceKeyStore>, InksealError> {
        Ok(match self {
            #[cfg(feature = "file-device-keys")]
            DeviceKeys::Directory { path } => Arc::new(inkseal_sdk::FileDeviceKeyStore::new(path)?),
            #[cfg(not(feature = "file-device-keys"))]
            DeviceKeys::Directory { path } => {
                return Err(InksealError::InvalidInput {
                    detail: format!(
                        "this library was built without file device keys (feature \
                         file-device-keys), as phone builds are; cannot use {path}: give \
                         DeviceKeys.Platform with the platform's key store"
                    ),
                });
            }
            DeviceKeys::Platform { store } => Arc::new(ForeignDeviceKeys(store)),
        })
    }
}

fn hook(what: &str, e: HookError) -> SdkError {
    SdkError::Storage(format!("device key store ({what}): {e}"))
}

/// A foreign device key store seen as the SDK's.
struct ForeignDeviceKeys(Arc<dyn DeviceKeyStore>);

impl inkseal_sdk::DeviceKeyStore for ForeignDeviceKeys {
    fn create(
        &self,
        alias: &str,
        attestation_challenge: &[u8],
    ) -> Result<inkseal_sdk::DeviceKeyInfo, SdkError> {
        let info = self
            .0
            .create(alias.to_owned(), attestation_challenge.to_vec())
            .map_err(|e| hook("create", e))?;
        Ok(inkseal_sdk::DeviceKeyInfo {
            public_key_spki_der: info.public_key_spki_der,
            attestation: info.attestation.map(|a| DeviceAttestation {
                format: match a.kind {
                    AttestationKind::AndroidKey => AttestationFormat::AndroidKey,
                    AttestationKind::AppleAppAttest => AttestationFormat::AppleAppAttest,
                },
                parts_hex: a.parts.iter().map(hex::encode).collect(),
            }),
        })
    }

    fn sign(&self, alias: &str, message: &[u8]) -> Result<Vec<u8>, SdkError> {
        self.0
            .sign(alias.to_owned(), message.to_vec())
            .map_err(|e| hook("sign", e))
    }

    fn delete(&self, alias: &str) -> Result<(), SdkError> {
        self.0
            .delete(alias.to_owned())
            .map_err(|e| hook("delete", e))
    }
}
