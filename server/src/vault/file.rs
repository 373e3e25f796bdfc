//! The default vault: AES-256-GCM under a 32-byte master key kept in a file (mode 0600).

use super::{ShareVault, VaultError, seal_framed, split_sealed};
use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

/// A vault whose wrapping key is a local master key file.
pub struct FileVault {
    cipher: Aes256Gcm,
    path: PathBuf,
}

impl FileVault {
    /// Open the master key at `path`, creating a fresh random key (mode 0600) if it is missing.
    pub fn open_or_create(path: &Path) -> Result<Self, VaultError> {
        let unavailable = |what: &str, e: std::io::Error| {
            VaultError::Unavailable(format!("{what} {}: {e}", path.display()))
        };
        let key: Zeroizing<Vec<u8>> = match std::fs::read(path) {
            Ok(bytes) => Zeroizing::new(bytes),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let mut key = Zeroizing::new(vec![0u8; 32]);
                getrandom::fill(&mut key).map_err(|e| VaultError::Unavailable(e.to_string()))?;
                inkseal_fs::write_atomically(path, &[&key], inkseal_fs::Visibility::Private)
                    .map_err(|e| unavailable("cannot write master key", e))?;
                key
            }
            Err(e) => return Err(unavailable("cannot read master key", e)),
        };
        if key.len() != 32 {
            return Err(VaultError::Unavailable(format!(
                "master key {} must be 32 bytes, found {}",
                path.display(),
                key.len()
            )));
        }
        let cipher = Aes256Gcm::new_from_slice(&key)
            .map_err(|_| VaultError::Unavailable("bad master key".into()))?;
        Ok(FileVault {
            cipher,
            path: path.to_owned(),
        })
    }
}

impl ShareVault for FileVault {
    fn seal(&self, aad: &[u8], secret: &[u8]) -> Result<Vec<u8>, VaultError> {
        seal_framed(secret, |nonce| {
            self.cipher
                .encrypt(&Nonce::from(*nonce), Payload { msg: secret, aad })
                .map_err(|_| VaultError::Unavailable("encryption failed".into()))
        })
    }

    fn open(&self, aad: &[u8], sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>, VaultError> {
        let (nonce, ct) = split_sealed(sealed)?;
        self.cipher
            .decrypt(
                &Nonce::try_from(nonce).map_err(|_| VaultError::Unseal)?,
                Payload { msg: ct, aad },
            )
            .map(Zeroizing::new)
            .map_err(|_| VaultError::Unseal)
    }

    fn describe(&self) -> String {
        format!("file vault ({})", self.path.display())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_open_round_trip_and_binding() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("master.key");
        let vault = FileVault::open_or_create(&path).expect("create");
        let sealed = vault.seal(b"alice|k1", b"share-bytes").expect("seal");
        assert_eq!(
            &vault.open(b"alice|k1", &sealed).expect("open")[..],
            b"share-bytes"
        );
        // Bound to its record.
        assert!(matches!(
            vault.open(b"bob|k1", &sealed),
            Err(VaultError::Unseal)
        ));
        // Tampering is detected.
        let mut bad = sealed.clone();
        let last = bad.len() - 1;
        bad[last] ^= 1;
        assert!(matches!(
            vault.open(b"alice|k1", &bad),
            Err(VaultError::Unseal)
        ));
        assert!(matches!(
            vault.open(b"alice|k1", &sealed[..5]),
            Err(VaultError::Unseal)
        ));
        // Same key after reopening; the file is private.
        let again = FileVault::open_or_create(&path).expect("reopen");
        assert_eq!(
            &again.open(b"alice|k1", &sealed).expect("open")[..],
            b"share-bytes"
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert!(matches!(
            vault.seal(b"a", b""),
            Err(VaultError::BadLength(0))
        ));
    }

    #[test]
    fn rejects_a_short_master_key() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("master.key");
        std::fs::write(&path, b"short").expect("write");
        assert!(matches!(
            FileVault::open_or_create(&path),
            Err(VaultError::Unavailable(_))
        ));
    }
}
