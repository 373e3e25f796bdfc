//! Apple Keychain wrapper (iOS, macOS).
//!
//! NOT COMPILED ON THE PROJECT'S LINUX MACHINES (no Apple SDK there): this file is kept small
//! and was reviewed by hand against security-framework 3.7; build it on a Mac
//! (`cargo build -p inkseal-bindings --target aarch64-apple-ios`, see ios/README.md) after
//! every change. The cipher it uses, [`super::software`], is compiled and tested everywhere.
//!
//! The wrapping key is a random AES-256 key kept as a generic-password Keychain item
//! (`kSecClassGenericPassword`, service and account given by the app) that is
//! `kSecAttrAccessibleWhenUnlockedThisDeviceOnly` and not synchronizable: it is never in a
//! backup or iCloud Keychain, and readable only while the device is unlocked. The key is read
//! for each wrap or unwrap and wiped after it. The app's `SecureBlobStore` keeps the wrapped
//! share (the Swift façade's `KeychainBlobStore` stores it as a generic-password item with the
//! same accessibility).
//!
//! Not done (optional in the design): a Secure Enclave P-256 key wrapping with ECIES
//! (`SecKeyCreateEncryptedData`, `eciesEncryptionCofactorVariableIVX963SHA256AESGCM`), which
//! would keep the wrapping key out of process memory altogether.

use super::{ShareWrapper, WrapError, software};
use security_framework::access_control::{ProtectionMode, SecAccessControl};
use security_framework::passwords::{
    PasswordOptions, generic_password, set_generic_password_options,
};
use std::sync::Mutex;
use zeroize::Zeroizing;

/// `errSecItemNotFound`.
const ERR_SEC_ITEM_NOT_FOUND: i32 = -25300;

/// A share wrapper whose AES-256 key is a Keychain item of this device.
pub(crate) struct KeychainWrapper {
    service: String,
    account: String,
    /// Serialises the key's creation.
    lock: Mutex<()>,
}

impl KeychainWrapper {
    /// The key stored under (`service`, `account`), created on first use.
    pub(crate) fn new(service: String, account: String) -> Self {
        KeychainWrapper {
            service,
            account,
            lock: Mutex::new(()),
        }
    }

    fn query(&self) -> PasswordOptions {
        let mut options = PasswordOptions::new_generic_password(&self.service, &self.account);
        options.set_access_synchronized(Some(false));
        // The iOS-style keychain on macOS too (feature OSX_10_15); on iOS it is the only one.
        // On macOS it needs a signed app with a keychain access group.
        options.use_protected_keychain();
        options
    }

    fn key(&self) -> Result<Zeroizing<[u8; 32]>, WrapError> {
        let _guard = self
            .lock
            .lock()
            .map_err(|_| WrapError::Platform("keychain lock poisoned".into()))?;
        match generic_password(self.query()) {
            Ok(bytes) => {
                let bytes = Zeroizing::new(bytes);
                let key: [u8; 32] = bytes.as_slice().try_into().map_err(|_| {
                    WrapError::Platform("the keychain item is not a 32-byte key".into())
                })?;
                Ok(Zeroizing::new(key))
            }
            Err(e) if e.code() == ERR_SEC_ITEM_NOT_FOUND => {
                let mut key = Zeroizing::new([0u8; 32]);
                getrandom::fill(key.as_mut_slice())
                    .map_err(|e| WrapError::Platform(format!("random: {e}")))?;
                let access = SecAccessControl::create_with_protection(
                    Some(ProtectionMode::AccessibleWhenUnlockedThisDeviceOnly),
                    0,
                )
                .map_err(|e| WrapError::Platform(format!("keychain access control: {e}")))?;
                let mut options = self.query();
                options.set_access_control(access);
                options.set_label("inkseal share-wrapping key");
                set_generic_password_options(key.as_slice(), options)
                    .map_err(|e| WrapError::Platform(format!("keychain: {e}")))?;
                Ok(key)
            }
            Err(e) => Err(WrapError::Platform(format!("keychain: {e}"))),
        }
    }
}

impl ShareWrapper for KeychainWrapper {
    fn wrap(&self, key_id: &str, plaintext: &[u8]) -> Result<Vec<u8>, WrapError> {
        software::wrap(&self.key()?, key_id.as_bytes(), plaintext)
    }

    fn unwrap(&self, key_id: &str, blob: &[u8]) -> Result<Zeroizing<Vec<u8>>, WrapError> {
        software::unwrap(&self.key()?, key_id.as_bytes(), blob)
    }
}
