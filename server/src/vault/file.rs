//! The default vault: AES-256-GCM under a 32-byte master key kept in a file (mode 0600), and a
//! P-256 audit key derived from that master key.

use super::{
    AuditSigner, ShareVault, VaultError, check_audit_signature, seal_framed, split_sealed,
};
use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use hmac::{Hmac, Mac};
use p256::ecdsa::{Signature, SigningKey, VerifyingKey, signature::Signer};
use sha2::Sha256;
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

/// Domain label of the audit key derivation: the key is the first P-256 scalar in
/// `HMAC-SHA256(master key, label || counter)` for the one-byte counter 0, 1, ... that is in
/// range (nonzero and below the group order; counter 0 is out of range with probability ~2^-32).
pub const AUDIT_KEY_DERIVATION_LABEL: &[u8] = b"inkseal/audit-key/v1";

/// A vault whose wrapping key is a local master key file.
pub struct FileVault {
    cipher: Aes256Gcm,
    /// Derived from the master key at open; `SigningKey` wipes its scalar on drop.
    audit: SigningKey,
    path: PathBuf,
}

/// The audit signing key derived from `master` (see [`AUDIT_KEY_DERIVATION_LABEL`]).
///
/// HMAC-SHA256 is a PRF keyed by the master key, so the audit key is independent of the AES key
/// use of the same master key and reveals nothing about it; the label keeps the derivation apart
/// from any later one.
fn derive_audit_key(master: &[u8]) -> Result<SigningKey, VaultError> {
    let mac = <Hmac<Sha256> as hmac::KeyInit>::new_from_slice(master)
        .map_err(|_| VaultError::Unavailable("bad master key".into()))?;
    first_valid_key(|counter, candidate| {
        let mut mac = mac.clone();
        mac.update(AUDIT_KEY_DERIVATION_LABEL);
        mac.update(&[counter]);
        candidate.copy_from_slice(&mac.finalize().into_bytes());
    })
}

/// The first candidate (counter 0, 1, ...) that is a valid P-256 private key.
fn first_valid_key(candidate_for: impl Fn(u8, &mut [u8; 32])) -> Result<SigningKey, VaultError> {
    let mut candidate = Zeroizing::new([0u8; 32]);
    for counter in 0..=u8::MAX {
        candidate_for(counter, &mut candidate);
        // Rejects zero and values at or above the group order: try the next counter.
        if let Ok(key) = SigningKey::from_slice(&candidate[..]) {
            return Ok(key);
        }
    }
    Err(VaultError::Unavailable(
        "cannot derive the audit key from the master key".into(),
    ))
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
        let audit = derive_audit_key(&key)?;
        Ok(FileVault {
            cipher,
            audit,
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

impl AuditSigner for FileVault {
    fn audit_public_key(&self) -> Result<VerifyingKey, VaultError> {
        Ok(*self.audit.verifying_key())
    }

    fn sign_audit(&self, message: &[u8]) -> Result<Signature, VaultError> {
        // Deterministic (RFC 6979) ECDSA over SHA-256(message); checked before it leaves.
        let signature: Signature = self
            .audit
            .try_sign(message)
            .map_err(|_| VaultError::Unavailable("audit signing failed".into()))?;
        check_audit_signature(self.audit.verifying_key(), message, &signature)?;
        Ok(signature)
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

    fn vault_with_master(dir: &Path, name: &str, master: &[u8; 32]) -> FileVault {
        let path = dir.join(name);
        std::fs::write(&path, master).expect("write master key");
        FileVault::open_or_create(&path).expect("open")
    }

    #[test]
    fn audit_key_is_derived_from_the_master_key() {
        let dir = tempfile::tempdir().expect("tempdir");
        let a = vault_with_master(dir.path(), "a.key", &[0x42; 32]);
        let a_again = vault_with_master(dir.path(), "a-copy.key", &[0x42; 32]);
        let b = vault_with_master(dir.path(), "b.key", &[0x43; 32]);
        let key_a = a.audit_public_key().expect("audit key");
        // Same master key, same audit key, whatever the file; another master key, another key.
        assert_eq!(key_a, a_again.audit_public_key().expect("audit key"));
        assert_ne!(key_a, b.audit_public_key().expect("audit key"));
        // Known answer, computed independently (Python: hmac + cryptography), pins the
        // derivation: changing it would change every published checkpoint key.
        assert_eq!(
            hex::encode(key_a.to_sec1_point(true).as_bytes()),
            "0372d3b35407269dbf6abf23b15298742eb3ffdeb4d54cfbf6253d6bf424784efd"
        );
        // A freshly created master key gets an audit key too, stable across reopening.
        let path = dir.path().join("fresh.key");
        let fresh = FileVault::open_or_create(&path).expect("create");
        let reopened = FileVault::open_or_create(&path).expect("reopen");
        assert_eq!(
            fresh.audit_public_key().expect("audit key"),
            reopened.audit_public_key().expect("audit key")
        );
        assert_ne!(fresh.audit_public_key().expect("audit key"), key_a);
    }

    #[test]
    fn audit_signatures_verify_with_p256() {
        use p256::ecdsa::signature::Verifier;
        use p256::ecdsa::signature::hazmat::PrehashVerifier;
        use sha2::Digest;
        let dir = tempfile::tempdir().expect("tempdir");
        let vault = vault_with_master(dir.path(), "m.key", &[7; 32]);
        let key = vault.audit_public_key().expect("audit key");
        let message = b"checkpoint|seq=42|head=00ff|t=1700000000";
        let signature = vault.sign_audit(message).expect("sign");
        key.verify(message, &signature).expect("signature verifies");
        // It is ECDSA over SHA-256(message).
        key.verify_prehash(&Sha256::digest(message), &signature)
            .expect("prehash verifies");
        assert!(key.verify(b"checkpoint|seq=41", &signature).is_err());
        // Another vault's key does not verify it.
        let other = vault_with_master(dir.path(), "o.key", &[8; 32]);
        assert!(
            other
                .audit_public_key()
                .expect("audit key")
                .verify(message, &signature)
                .is_err()
        );
        // Reachable through the share vault trait object the server holds.
        let shared: std::sync::Arc<dyn ShareVault> = std::sync::Arc::new(vault);
        let via_dyn = shared.sign_audit(message).expect("sign");
        // RFC 6979: deterministic, so the same message gives the same signature.
        assert_eq!(via_dyn, signature);
        let vault = &*shared;
        // The key signs empty and long messages alike.
        for m in [&b""[..], &[0xA5; 10_000][..]] {
            let s = vault.sign_audit(m).expect("sign");
            key.verify(m, &s).expect("verifies");
        }
    }

    #[test]
    fn audit_key_derivation_retries_out_of_range_candidates() {
        // Zero and the all-ones value (above the group order) are skipped; the counter moves on.
        let key = first_valid_key(|counter, c| {
            *c = match counter {
                0 => [0; 32],
                1 => [0xFF; 32],
                _ => [counter; 32],
            }
        })
        .expect("derive");
        assert_eq!(key.to_bytes().as_slice(), &[2u8; 32]);
        // No valid candidate at all is an error, not a panic or a weak key.
        assert!(matches!(
            first_valid_key(|_, c| *c = [0xFF; 32]),
            Err(VaultError::Unavailable(_))
        ));
    }
}
