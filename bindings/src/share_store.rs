//! Where the device share lives: wrapped by a platform key, stored by the app.
//!
//! Secrets never cross the FFI as values. The app's [`SecureBlobStore`] only ever receives the
//! share already wrapped (AES-256-GCM, associated data = key id) by a [`PlatformKey`] whose key
//! stays in the platform's key store; the bindings' [`WrappedShareStore`] does the wrapping,
//! behind the SDK's [`ShareStore`] trait.

use crate::errors::{HookError, InksealError};
use crate::keystore::android::{JavaKeyStore, JavaKeyStoreWrapper, java_vm_known};
use crate::keystore::{ShareWrapper, WrapError};
use inkseal_sdk::{SdkError, ShareStore, StoredShare};
use std::sync::Arc;
use zeroize::Zeroizing;

/// Storage the app provides for wrapped shares: a file in the app's no-backup directory, a
/// Keychain item, a database row... It never sees a share in the clear.
///
/// Methods may block (they run on the caller's thread); throwing from them fails the current
/// operation with `InksealError.Storage` rather than crashing.
#[uniffi::export(with_foreign)]
pub trait SecureBlobStore: Send + Sync {
    /// Stores (or replaces) the wrapped share of `key_id`.
    fn put(&self, key_id: String, blob: Vec<u8>) -> Result<(), HookError>;
    /// The wrapped share of `key_id`, or nothing when there is none.
    fn get(&self, key_id: String) -> Result<Option<Vec<u8>>, HookError>;
    /// Forgets the wrapped share of `key_id` (nothing to do when there is none).
    fn delete(&self, key_id: String) -> Result<(), HookError>;
}

/// A key in the platform's key store that wraps device shares (AES-256-GCM, the key id as
/// associated data). The key is created on first use and never leaves the key store.
#[derive(uniffi::Object)]
pub struct PlatformKey {
    wrapper: Arc<dyn ShareWrapper>,
    description: String,
}

impl std::fmt::Debug for PlatformKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.description)
    }
}

fn key_store_error(e: WrapError) -> InksealError {
    InksealError::Storage {
        detail: e.to_string(),
    }
}

#[uniffi::export]
impl PlatformKey {
    /// An AES-256 key `alias` in the Android Keystore (hardware-backed where the device has
    /// it). `user_auth_validity_seconds`: when set, the key only works that many seconds after
    /// the user unlocked the device or passed a biometric prompt.
    ///
    /// Needs the library loaded with `System.loadLibrary("inkseal_ffi")` (`Inkseal.init()`).
    #[uniffi::constructor(default(user_auth_validity_seconds = None))]
    pub fn android_keystore(
        alias: String,
        user_auth_validity_seconds: Option<u32>,
    ) -> Result<Arc<Self>, InksealError> {
        let description = format!("Android Keystore key {alias:?}");
        let wrapper = JavaKeyStoreWrapper::new(
            JavaKeyStore::Android {
                user_auth_validity_seconds,
            },
            alias,
        )
        .map_err(key_store_error)?;
        Ok(Arc::new(PlatformKey {
            wrapper: Arc::new(wrapper),
            description,
        }))
    }

    /// An AES-256 key `alias` in a password-protected PKCS12 key store file, used through the
    /// same JNI code as the Android Keystore: for desktop JVMs and tests, not for phones.
    ///
    /// Needs the library loaded with `System.load`/`System.loadLibrary` (`Inkseal.init()`).
    #[uniffi::constructor]
    pub fn java_keystore_file(
        path: String,
        password: String,
        alias: String,
    ) -> Result<Arc<Self>, InksealError> {
        if path.is_empty() {
            return Err(InksealError::InvalidInput {
                detail: "empty key store path".into(),
            });
        }
        let description = format!("PKCS12 key {alias:?} in {path}");
        let wrapper = JavaKeyStoreWrapper::new(
            JavaKeyStore::File {
                store_type: "PKCS12".into(),
                path: path.into(),
                password: Zeroizing::new(password),
            },
            alias,
        )
        .map_err(key_store_error)?;
        Ok(Arc::new(PlatformKey {
            wrapper: Arc::new(wrapper),
            description,
        }))
    }

    /// An AES-256 key kept in the Apple Keychain under (`service`, `account`), accessible only
    /// when the device is unlocked and never synchronised. Fails on other platforms.
    #[uniffi::constructor]
    pub fn apple_keychain(service: String, account: String) -> Result<Arc<Self>, InksealError> {
        apple_keychain(service, account)
    }

    /// Wraps and unwraps a random probe and checks that an altered blob is refused: a start-up
    /// check that the key store works. No secret crosses the FFI.
    pub fn check(&self) -> Result<(), InksealError> {
        let mut probe = Zeroizing::new([0u8; 32]);
        getrandom::fill(probe.as_mut_slice()).map_err(|e| InksealError::Storage {
            detail: format!("random: {e}"),
        })?;
        let blob = self
            .wrapper
            .wrap("inkseal-check", probe.as_slice())
            .map_err(key_store_error)?;
        let back = self
            .wrapper
            .unwrap("inkseal-check", &blob)
            .map_err(key_store_error)?;
        if back.as_slice() != probe.as_slice() {
            return Err(InksealError::Storage {
                detail: format!("{} returned different bytes", self.description),
            });
        }
        match self.wrapper.unwrap("inkseal-other", &blob) {
            Err(WrapError::Authentication) => Ok(()),
            _ => Err(InksealError::Storage {
                detail: format!("{} accepted a blob for another key id", self.description),
            }),
        }
    }

    /// Which key this is, for logs and diagnostics.
    pub fn describe(&self) -> String {
        self.description.clone()
    }
}

#[cfg(test)]
impl PlatformKey {
    /// A platform key over any wrapper (tests only).
    pub(crate) fn for_tests(wrapper: Arc<dyn ShareWrapper>) -> Arc<Self> {
        Arc::new(PlatformKey {
            wrapper,
            description: "test key".into(),
        })
    }
}

#[cfg(any(target_os = "ios", target_os = "macos"))]
fn apple_keychain(service: String, account: String) -> Result<Arc<PlatformKey>, InksealError> {
    if service.is_empty() || account.is_empty() {
        return Err(InksealError::InvalidInput {
            detail: "the keychain service and account must not be empty".into(),
        });
    }
    let description = format!("Keychain key {service:?}/{account:?}");
    Ok(Arc::new(PlatformKey {
        wrapper: Arc::new(crate::keystore::apple::KeychainWrapper::new(
            service, account,
        )),
        description,
    }))
}

#[cfg(not(any(target_os = "ios", target_os = "macos")))]
fn apple_keychain(_service: String, _account: String) -> Result<Arc<PlatformKey>, InksealError> {
    Err(InksealError::InvalidInput {
        detail: "the Apple Keychain exists only on iOS and macOS".into(),
    })
}

/// Whether the JVM is known to the library, i.e. it was loaded with `System.loadLibrary` or
/// `System.load` (which runs `JNI_OnLoad`) and Java key stores can be used.
#[uniffi::export]
pub fn java_vm_available() -> bool {
    java_vm_known()
}

/// Where [`crate::client::InksealClient`] keeps device shares.
#[derive(uniffi::Enum)]
pub enum ShareStorage {
    /// On phones: wrapped by `key`, stored by the app's `blobs`.
    Platform {
        /// The platform key that wraps shares.
        key: Arc<PlatformKey>,
        /// Where the app stores the wrapped blobs.
        blobs: Arc<dyn SecureBlobStore>,
    },
    /// Desktop and tests only: one owner-only JSON file per key in `path`, protected by file
    /// permissions alone.
    Directory {
        /// The directory (created if missing).
        path: String,
    },
}

impl ShareStorage {
    /// The SDK store behind this choice.
    pub(crate) fn into_store(self) -> Result<Arc<dyn ShareStore>, InksealError> {
        Ok(match self {
            ShareStorage::Platform { key, blobs } => Arc::new(WrappedShareStore {
                wrapper: key.wrapper.clone(),
                blobs,
            }),
            ShareStorage::Directory { path } => Arc::new(inkseal_sdk::FileShareStore::new(path)?),
        })
    }
}

/// Largest wrapped share accepted from the app's store (a two-party P-256 share is ≈52.5 KB).
const MAX_BLOB: usize = 256 * 1024;

/// The SDK's [`ShareStore`] over a platform key and the app's blob store: serialises the
/// [`StoredShare`], wraps it, and hands over only the wrapped blob.
pub(crate) struct WrappedShareStore {
    pub(crate) wrapper: Arc<dyn ShareWrapper>,
    pub(crate) blobs: Arc<dyn SecureBlobStore>,
}

fn storage(what: &str, e: impl std::fmt::Display) -> SdkError {
    SdkError::Storage(format!("{what}: {e}"))
}

fn checked_id(key_id: &str) -> Result<(), SdkError> {
    if inkseal_cosign::valid_id(key_id) {
        Ok(())
    } else {
        Err(SdkError::InvalidInput(format!("bad key id {key_id:?}")))
    }
}

impl ShareStore for WrappedShareStore {
    fn save(&self, share: &StoredShare) -> Result<(), SdkError> {
        checked_id(&share.key_id)?;
        let plain = Zeroizing::new(serde_json::to_vec(share).map_err(|e| storage("share", e))?);
        let blob = self
            .wrapper
            .wrap(&share.key_id, &plain)
            .map_err(|e| storage("wrapping the share", e))?;
        self.blobs
            .put(share.key_id.clone(), blob)
            .map_err(|e| storage("the app's secure blob store", e))
    }

    fn load(&self, key_id: &str) -> Result<Option<StoredShare>, SdkError> {
        checked_id(key_id)?;
        let Some(blob) = self
            .blobs
            .get(key_id.to_owned())
            .map_err(|e| storage("the app's secure blob store", e))?
        else {
            return Ok(None);
        };
        if blob.len() > MAX_BLOB {
            return Err(SdkError::Storage("the wrapped share is too large".into()));
        }
        let plain = self
            .wrapper
            .unwrap(key_id, &blob)
            .map_err(|e| storage("unwrapping the share", e))?;
        let share: StoredShare =
            serde_json::from_slice(&plain).map_err(|e| storage("the unwrapped share", e))?;
        if share.key_id != key_id {
            return Err(SdkError::Storage(format!(
                "the blob stored for {key_id} holds another key"
            )));
        }
        Ok(Some(share))
    }

    fn delete(&self, key_id: &str) -> Result<(), SdkError> {
        checked_id(key_id)?;
        self.blobs
            .delete(key_id.to_owned())
            .map_err(|e| storage("the app's secure blob store", e))
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::keystore::software;
    use std::collections::HashMap;
    use std::sync::Mutex;

    /// A software wrapper for tests (never offered to apps).
    pub(crate) struct TestWrapper(pub [u8; 32]);

    impl ShareWrapper for TestWrapper {
        fn wrap(&self, key_id: &str, plaintext: &[u8]) -> Result<Vec<u8>, WrapError> {
            software::wrap(&self.0, key_id.as_bytes(), plaintext)
        }
        fn unwrap(&self, key_id: &str, blob: &[u8]) -> Result<Zeroizing<Vec<u8>>, WrapError> {
            software::unwrap(&self.0, key_id.as_bytes(), blob)
        }
    }

    /// An in-memory blob store that can be told to fail.
    #[derive(Default)]
    pub(crate) struct MemoryBlobs {
        pub(crate) blobs: Mutex<HashMap<String, Vec<u8>>>,
        pub(crate) fail: Mutex<bool>,
    }

    impl SecureBlobStore for MemoryBlobs {
        fn put(&self, key_id: String, blob: Vec<u8>) -> Result<(), HookError> {
            if *self.fail.lock().expect("lock") {
                return Err(HookError::Unexpected {
                    reason: "java.io.IOException: disk full".into(),
                });
            }
            self.blobs.lock().expect("lock").insert(key_id, blob);
            Ok(())
        }
        fn get(&self, key_id: String) -> Result<Option<Vec<u8>>, HookError> {
            Ok(self.blobs.lock().expect("lock").get(&key_id).cloned())
        }
        fn delete(&self, key_id: String) -> Result<(), HookError> {
            self.blobs.lock().expect("lock").remove(&key_id);
            Ok(())
        }
    }

    fn share(key_id: &str) -> StoredShare {
        StoredShare {
            curve: Default::default(),
            key_id: key_id.into(),
            user_id: "customer-1".into(),
            certificate_name: "张三".into(),
            device_key_alias: "dk-1".into(),
            public_key: vec![2; 33],
            secret: vec![0x5a; 32],
            certificate: None,
            ca_certificate: None,
        }
    }

    #[test]
    fn the_app_only_sees_wrapped_blobs_and_tampering_is_refused() {
        let blobs = Arc::new(MemoryBlobs::default());
        let store = WrappedShareStore {
            wrapper: Arc::new(TestWrapper([1; 32])),
            blobs: blobs.clone(),
        };
        store.save(&share("key-a")).expect("save");
        let blob = blobs.blobs.lock().expect("lock")["key-a"].clone();
        assert!(
            !blob.windows(8).any(|w| w == [0x5a; 8]),
            "the secret must not appear in the blob"
        );
        assert!(!String::from_utf8_lossy(&blob).contains("5a5a5a5a"));
        let back = store.load("key-a").expect("load").expect("some");
        assert_eq!(back.secret, vec![0x5a; 32]);
        assert!(store.load("key-b").expect("load").is_none());

        // The blob moved to another key id does not open.
        blobs
            .blobs
            .lock()
            .expect("lock")
            .insert("key-b".into(), blob.clone());
        assert!(matches!(store.load("key-b"), Err(SdkError::Storage(_))));

        let mut tampered = blob;
        tampered[20] ^= 0x40;
        blobs
            .blobs
            .lock()
            .expect("lock")
            .insert("key-a".into(), tampered);
        match store.load("key-a") {
            Err(SdkError::Storage(msg)) => assert!(msg.contains("authentication"), "{msg}"),
            other => panic!("expected a storage error, got {other:?}"),
        }
        store.delete("key-a").expect("delete");
        assert!(store.load("key-a").expect("load").is_none());
        assert!(matches!(
            store.load("../etc"),
            Err(SdkError::InvalidInput(_))
        ));
    }

    #[test]
    fn a_failing_blob_store_is_a_storage_error() {
        let blobs = Arc::new(MemoryBlobs::default());
        *blobs.fail.lock().expect("lock") = true;
        let store = WrappedShareStore {
            wrapper: Arc::new(TestWrapper([1; 32])),
            blobs,
        };
        match store.save(&share("key-a")) {
            Err(SdkError::Storage(msg)) => assert!(msg.contains("disk full"), "{msg}"),
            other => panic!("expected a storage error, got {other:?}"),
        }
    }

    #[test]
    fn platform_keys_check_themselves() {
        let key = PlatformKey {
            wrapper: Arc::new(TestWrapper([3; 32])),
            description: "test key".into(),
        };
        key.check().expect("a working key passes");
        #[cfg(not(any(target_os = "ios", target_os = "macos")))]
        assert!(matches!(
            PlatformKey::apple_keychain("s".into(), "a".into()),
            Err(InksealError::InvalidInput { .. })
        ));
        assert!(!java_vm_available());
    }
}
