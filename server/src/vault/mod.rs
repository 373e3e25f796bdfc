//! Share vaults: where the server's key shares and PIN verifiers are kept encrypted, and where
//! the audit log's checkpoint signing key lives.
//!
//! A vault seals a short secret under a wrapping key with AES-256-GCM and associated data that
//! names what the secret belongs to (user, key id, public key), so a sealed blob moved to another
//! record fails to open. The database only ever holds sealed blobs. Two vaults exist:
//! [`FileVault`] (a master key file, the zero-configuration default) and
//! [`Pkcs11Vault`] (a non-extractable AES key inside a PKCS#11 token, e.g. an HSM or SoftHSM2).
//!
//! Every vault also holds an *audit key*, a P-256 ECDSA key pair ([`AuditSigner`]): the server
//! signs checkpoints of its hash-chained audit log (sequence number, head hash, time) with it, so
//! someone with write access to the database alone cannot delete an entry and re-hash the rest
//! without the published checkpoints exposing it. [`FileVault`] derives the audit key from its
//! master key (HMAC-SHA256, label [`AUDIT_KEY_DERIVATION_LABEL`]), so no extra file exists and the
//! same master key always gives the same audit key. [`Pkcs11Vault`] keeps it in the token as a
//! sensitive, non-extractable EC key pair (label [`Pkcs11Config::audit_key_label`], default
//! [`DEFAULT_AUDIT_KEY_LABEL`]), generated there on first use; its signatures are computed
//! by the token and checked in this process against the public key before they are returned.

mod file;
mod pkcs11;

pub use file::{AUDIT_KEY_DERIVATION_LABEL, FileVault};
pub use pkcs11::{DEFAULT_AUDIT_KEY_LABEL, Pkcs11Config, Pkcs11Vault};

use thiserror::Error;
use zeroize::Zeroizing;

/// Version byte that starts every sealed blob.
pub const SEALED_V1: u8 = 1;
/// AES-GCM nonce length used by every vault.
pub const NONCE_LEN: usize = 12;
/// Largest secret a vault will seal.
pub const MAX_SECRET_LEN: usize = 1024;

/// Errors from a vault. They never contain secret material.
#[derive(Debug, Error)]
pub enum VaultError {
    /// The sealed blob is malformed, was tampered with, or belongs to another record.
    #[error("sealed secret cannot be opened (tampered, or bound to another record)")]
    Unseal,
    /// The secret is empty or larger than [`MAX_SECRET_LEN`].
    #[error("secret of {0} bytes cannot be sealed")]
    BadLength(usize),
    /// The master key file or token could not be used.
    #[error("vault unavailable: {0}")]
    Unavailable(String),
}

/// Signs audit log checkpoints with the vault's P-256 audit key.
///
/// A sibling of [`ShareVault`] rather than more methods on it, and a supertrait of it so every
/// vault has an audit key: code that only signs or publishes checkpoints can be handed an
/// `&dyn AuditSigner` and gets no way to open shares (least authority), while a server holding an
/// `Arc<dyn ShareVault>` calls both methods directly on it. The audit key is a different key from
/// the wrapping key, with one purpose: it signs nothing but checkpoints.
///
/// Implementations must be safe to call from several threads at once.
pub trait AuditSigner: Send + Sync {
    /// The checkpoint verification key (P-256). The server publishes it; verifiers pin it.
    ///
    /// The first call may create the key (the PKCS#11 vault generates it in the token), so a
    /// server should call this once at start: a token that cannot hold the key then fails there.
    fn audit_public_key(&self) -> Result<p256::ecdsa::VerifyingKey, VaultError>;
    /// ECDSA P-256 signature over SHA-256(`message`), verifiable with
    /// [`AuditSigner::audit_public_key`] (e.g. `p256::ecdsa::signature::Verifier::verify`).
    fn sign_audit(&self, message: &[u8]) -> Result<p256::ecdsa::Signature, VaultError>;
}

/// Seals and opens small secrets (key shares, PIN verifiers) with associated data; also signs
/// audit checkpoints (see [`AuditSigner`] for why that is a separate trait).
///
/// Implementations must be safe to call from several threads at once.
pub trait ShareVault: AuditSigner + Send + Sync {
    /// Encrypt `secret`, binding it to `aad`. Output: `SEALED_V1 || nonce || ciphertext+tag`.
    fn seal(&self, aad: &[u8], secret: &[u8]) -> Result<Vec<u8>, VaultError>;
    /// Decrypt a blob made by [`ShareVault::seal`] with the same `aad`. Wiped on drop.
    fn open(&self, aad: &[u8], sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>, VaultError>;
    /// A short human-readable description (no secrets), e.g. for the startup banner.
    fn describe(&self) -> String;
    /// Key pairs generated and used inside the vault's token, if it has one (the PKCS#11
    /// vault); `None` for a vault that only seals (the file vault).
    fn token_keys(&self) -> Option<&dyn TokenKeys> {
        None
    }
}

/// P-256 key pairs that live in a token (the PKCS#11 vault): generated there with the
/// private half sensitive and non-extractable, used there (`CKM_ECDSA` over a digest the
/// caller computed). Every signature is checked against the public key before it is returned.
/// Used for institution seal keys ([`crate::service::Sealing`]).
pub trait TokenKeys: Send + Sync {
    /// Generate a key pair labelled `label`; refused if the token already holds that label.
    fn generate_p256(&self, label: &str) -> Result<p256::ecdsa::VerifyingKey, VaultError>;
    /// ECDSA signature by the key labelled `label` over the SHA-256 `digest`.
    fn sign_p256_digest(
        &self,
        label: &str,
        digest: &[u8; 32],
    ) -> Result<p256::ecdsa::Signature, VaultError>;
    /// The public key of the pair labelled `label`.
    fn p256_public_key(&self, label: &str) -> Result<p256::ecdsa::VerifyingKey, VaultError>;
    /// True if the private key labelled `label` is sensitive and non-extractable, and always
    /// has been.
    fn p256_key_is_protected(&self, label: &str) -> Result<bool, VaultError>;
    /// Generate a key-agreement pair labelled `label` (`CKA_DERIVE` only, never `CKA_SIGN`: an
    /// institution's encryption key signs nothing); refused if the label is taken. The token's
    /// ECDH is checked against this process's before the key is reported.
    fn generate_p256_agreement(&self, label: &str)
    -> Result<p256::ecdsa::VerifyingKey, VaultError>;
    /// `Z`, the x-coordinate of `d · peer` for the key labelled `label` (`CKM_ECDH1_DERIVE`,
    /// null KDF), wiped when dropped. A signing key is refused by the token.
    fn ecdh_p256(
        &self,
        label: &str,
        peer: &p256::PublicKey,
    ) -> Result<Zeroizing<[u8; 32]>, VaultError>;
}

/// Check an audit signature in this process before it leaves the vault: catches a wrong key,
/// mechanism or a faulty signer (a token, or a fault during signing) before anyone relies on it.
pub(crate) fn check_audit_signature(
    key: &p256::ecdsa::VerifyingKey,
    message: &[u8],
    signature: &p256::ecdsa::Signature,
) -> Result<(), VaultError> {
    use p256::ecdsa::signature::Verifier;
    key.verify(message, signature).map_err(|_| {
        VaultError::Unavailable("audit signature does not verify under the audit public key".into())
    })
}

/// Split a sealed blob into (nonce, ciphertext) after checking version and length.
pub(crate) fn split_sealed(sealed: &[u8]) -> Result<(&[u8], &[u8]), VaultError> {
    match sealed.split_first() {
        Some((&SEALED_V1, rest)) if rest.len() >= NONCE_LEN + 16 => Ok(rest.split_at(NONCE_LEN)),
        _ => Err(VaultError::Unseal),
    }
}

/// Check the secret's length, draw a nonce, encrypt with it and frame the result as
/// `SEALED_V1 || nonce || ciphertext+tag`: the part every vault shares.
pub(crate) fn seal_framed(
    secret: &[u8],
    encrypt: impl FnOnce(&[u8; NONCE_LEN]) -> Result<Vec<u8>, VaultError>,
) -> Result<Vec<u8>, VaultError> {
    if secret.is_empty() || secret.len() > MAX_SECRET_LEN {
        return Err(VaultError::BadLength(secret.len()));
    }
    let nonce = fresh_nonce()?;
    let ct = encrypt(&nonce)?;
    let mut out = Vec::with_capacity(1 + NONCE_LEN + ct.len());
    out.push(SEALED_V1);
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&ct);
    Ok(out)
}

/// Fresh random nonce for AES-GCM.
pub(crate) fn fresh_nonce() -> Result<[u8; NONCE_LEN], VaultError> {
    let mut n = [0u8; NONCE_LEN];
    getrandom::fill(&mut n).map_err(|e| VaultError::Unavailable(format!("rng: {e}")))?;
    Ok(n)
}

/// Associated data for a record: domain tag, then each part length-prefixed.
pub fn associated_data(purpose: &str, parts: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::with_capacity(64);
    for p in std::iter::once(purpose.as_bytes()).chain(parts.iter().copied()) {
        out.extend_from_slice(&(p.len() as u32).to_be_bytes());
        out.extend_from_slice(p);
    }
    out
}

/// Version byte of a secret sealed with [`seal_large`].
pub const SEALED_LARGE_V1: u8 = 2;
/// Largest secret [`seal_large`] seals (a two-party P-256 share is ≈52.5 KB, a pending P-256
/// signing state ≈21 KB).
pub const MAX_LARGE_SECRET_LEN: usize = 128 * 1024;

/// Seal a secret larger than [`MAX_SECRET_LEN`] (two-party P-256 shares and signing states):
/// a fresh 256-bit data key encrypts it with AES-256-GCM (associated data `aad`), and the
/// vault seals the data key (associated data: `aad` under its own tag), so with a PKCS#11
/// vault only the 32-byte data key passes through the token. Output:
/// `SEALED_LARGE_V1 || len(sealed key) (u16 BE) || sealed key || nonce || ciphertext+tag`.
pub fn seal_large(
    vault: &dyn ShareVault,
    aad: &[u8],
    secret: &[u8],
) -> Result<Vec<u8>, VaultError> {
    use aes_gcm::aead::{Aead, KeyInit, Payload};
    if secret.is_empty() || secret.len() > MAX_LARGE_SECRET_LEN {
        return Err(VaultError::BadLength(secret.len()));
    }
    let mut key = Zeroizing::new([0u8; 32]);
    getrandom::fill(key.as_mut_slice())
        .map_err(|e| VaultError::Unavailable(format!("rng: {e}")))?;
    let sealed_key = vault.seal(
        &associated_data("inkseal/data-key/v1", &[aad]),
        key.as_slice(),
    )?;
    let cipher = aes_gcm::Aes256Gcm::new_from_slice(key.as_slice())
        .map_err(|_| VaultError::Unavailable("data key".into()))?;
    let nonce = fresh_nonce()?;
    let ct = cipher
        .encrypt(&aes_gcm::Nonce::from(nonce), Payload { msg: secret, aad })
        .map_err(|_| VaultError::Unavailable("encryption failed".into()))?;
    let len =
        u16::try_from(sealed_key.len()).map_err(|_| VaultError::BadLength(sealed_key.len()))?;
    let mut out = Vec::with_capacity(3 + sealed_key.len() + NONCE_LEN + ct.len());
    out.push(SEALED_LARGE_V1);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(&sealed_key);
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&ct);
    Ok(out)
}

/// Open a blob made by [`seal_large`] with the same `aad` (size-limited before anything is
/// decrypted). Wiped on drop.
pub fn open_large(
    vault: &dyn ShareVault,
    aad: &[u8],
    sealed: &[u8],
) -> Result<Zeroizing<Vec<u8>>, VaultError> {
    use aes_gcm::aead::{Aead, KeyInit, Payload};
    if sealed.len() > MAX_LARGE_SECRET_LEN + 1024 {
        return Err(VaultError::Unseal);
    }
    let Some((&SEALED_LARGE_V1, rest)) = sealed.split_first() else {
        return Err(VaultError::Unseal);
    };
    let (len, rest) = rest.split_at_checked(2).ok_or(VaultError::Unseal)?;
    let len = usize::from(u16::from_be_bytes([len[0], len[1]]));
    let (sealed_key, rest) = rest.split_at_checked(len).ok_or(VaultError::Unseal)?;
    let (nonce, ct) = rest.split_at_checked(NONCE_LEN).ok_or(VaultError::Unseal)?;
    let key = vault.open(&associated_data("inkseal/data-key/v1", &[aad]), sealed_key)?;
    let cipher = aes_gcm::Aes256Gcm::new_from_slice(&key).map_err(|_| VaultError::Unseal)?;
    let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| VaultError::Unseal)?;
    cipher
        .decrypt(&aes_gcm::Nonce::from(nonce), Payload { msg: ct, aad })
        .map(Zeroizing::new)
        .map_err(|_| VaultError::Unseal)
}
