//! Where the phone's share lives between runs.

use crate::SdkError;
use inkseal_cosign::api::KeyCurve;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

/// What a device keeps for one key. The secret is wiped on drop and hidden from `Debug`.
#[derive(Clone, Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
pub struct StoredShare {
    /// Key id on the server.
    pub key_id: String,
    /// User the key belongs to (the institution's opaque id).
    pub user_id: String,
    /// The common name the institution asserted: what the certificate request must carry.
    #[serde(default)]
    pub certificate_name: String,
    /// The alias of this key's device key in the [`DeviceKeyStore`](crate::DeviceKeyStore).
    #[serde(default)]
    pub device_key_alias: String,
    /// Joint public key, SEC1.
    #[serde(with = "hex_bytes")]
    pub public_key: Vec<u8>,
    /// The share d1 (32 bytes). A platform store wraps it before it touches disk.
    #[serde(with = "hex_bytes")]
    pub secret: Vec<u8>,
    /// Issued certificate (DER), once there is one.
    #[serde(
        default,
        with = "opt_hex_bytes",
        skip_serializing_if = "Option::is_none"
    )]
    pub certificate: Option<Vec<u8>>,
    /// The CA certificate that issued it (DER): the trust anchor for gathering long-term
    /// validation data.
    #[serde(
        default,
        with = "opt_hex_bytes",
        skip_serializing_if = "Option::is_none"
    )]
    pub ca_certificate: Option<Vec<u8>>,
    /// The key's curve: SM2 (the default, left out of the stored form), or two-party P-256,
    /// whose `secret` is the versioned DKLs23 share (≈52.5 KB) instead of d1.
    #[serde(default, skip_serializing_if = "KeyCurve::is_sm2")]
    #[zeroize(skip)]
    pub curve: KeyCurve,
}

impl std::fmt::Debug for StoredShare {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredShare")
            .field("key_id", &self.key_id)
            .field("user_id", &self.user_id)
            .field("public_key", &hex::encode(&self.public_key))
            .finish_non_exhaustive()
    }
}

mod hex_bytes {
    use serde::{Deserialize, Deserializer, Serializer};
    pub fn serialize<S: Serializer>(b: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(b))
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let s = String::deserialize(d)?;
        hex::decode(s).map_err(serde::de::Error::custom)
    }
}

mod opt_hex_bytes {
    use serde::{Deserialize, Deserializer, Serializer};
    pub fn serialize<S: Serializer>(b: &Option<Vec<u8>>, s: S) -> Result<S::Ok, S::Error> {
        match b {
            Some(b) => s.serialize_str(&hex::encode(b)),
            None => s.serialize_none(),
        }
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<u8>>, D::Error> {
        let s = Option::<String>::deserialize(d)?;
        s.map(|s| hex::decode(s).map_err(serde::de::Error::custom))
            .transpose()
    }
}

/// Persistent storage of device shares. Platform implementations wrap the secret with a
/// hardware-backed key (Android Keystore, Apple Keychain / Secure Enclave).
pub trait ShareStore: Send + Sync {
    /// Save (or replace) a share.
    fn save(&self, share: &StoredShare) -> Result<(), SdkError>;
    /// Load a share, `None` if this device has none for the key.
    fn load(&self, key_id: &str) -> Result<Option<StoredShare>, SdkError>;
    /// Forget a share.
    fn delete(&self, key_id: &str) -> Result<(), SdkError>;
}

/// Largest share file accepted on load (a two-party P-256 share, hex, is ≈105 KB).
const MAX_SHARE_FILE: u64 = 256 * 1024;

/// A directory of JSON files, one per key, readable only by the owner (desktop and tests).
///
/// The share is protected by file permissions only; on phones use a platform store.
#[derive(Debug, Clone)]
pub struct FileShareStore {
    dir: PathBuf,
}

impl FileShareStore {
    /// Use (and create) `dir`.
    pub fn new(dir: impl Into<PathBuf>) -> Result<Self, SdkError> {
        let dir = dir.into();
        std::fs::create_dir_all(&dir)
            .map_err(|e| SdkError::Storage(format!("{}: {e}", dir.display())))?;
        Ok(FileShareStore { dir })
    }

    fn path(&self, key_id: &str) -> Result<PathBuf, SdkError> {
        if !inkseal_cosign::valid_id(key_id) {
            return Err(SdkError::InvalidInput(format!("bad key id {key_id:?}")));
        }
        Ok(self.dir.join(format!("{key_id}.share.json")))
    }
}

impl ShareStore for FileShareStore {
    fn save(&self, share: &StoredShare) -> Result<(), SdkError> {
        let path = self.path(&share.key_id)?;
        let json = Zeroizing::new(
            serde_json::to_vec_pretty(share).map_err(|e| SdkError::Storage(e.to_string()))?,
        );
        inkseal_fs::write_atomically(&path, &[&json], inkseal_fs::Visibility::Private)
            .map_err(|e| SdkError::Storage(format!("{}: {e}", path.display())))
    }

    fn load(&self, key_id: &str) -> Result<Option<StoredShare>, SdkError> {
        let path = self.path(key_id)?;
        match std::fs::metadata(&path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(SdkError::Storage(format!("{}: {e}", path.display()))),
            Ok(m) if m.len() > MAX_SHARE_FILE => {
                return Err(SdkError::Storage(format!(
                    "{} is too large",
                    path.display()
                )));
            }
            Ok(_) => {}
        }
        let bytes = Zeroizing::new(
            std::fs::read(&path)
                .map_err(|e| SdkError::Storage(format!("{}: {e}", path.display())))?,
        );
        serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| SdkError::Storage(format!("{} is corrupt: {e}", path.display())))
    }

    fn delete(&self, key_id: &str) -> Result<(), SdkError> {
        match std::fs::remove_file(self.path(key_id)?) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                Err(SdkError::Storage(e.to_string()))
            }
            _ => Ok(()),
        }
    }
}
