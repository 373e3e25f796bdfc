//! Platform keys that wrap the device share before it reaches the app's storage.
//!
//! A [`ShareWrapper`] encrypts with AES-256-GCM under a key that never leaves the platform's
//! key store (Android Keystore; the Apple Keychain), with the key id as associated data, so a
//! blob moved to another key id, or altered, fails to unwrap.
//!
//! Every wrapper writes the same envelope: `version (1) || iv length (1) || iv || ciphertext
//! and tag`.

pub mod android;
#[cfg(any(target_os = "ios", target_os = "macos"))]
pub(crate) mod apple;

use zeroize::Zeroizing;

/// Why a platform key could not wrap or unwrap.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum WrapError {
    /// The blob was altered, belongs to another key id, or was wrapped by another key.
    #[error("the wrapped share failed authentication (altered, or wrapped by another key)")]
    Authentication,
    /// The blob is not an envelope this version understands.
    #[error("the wrapped share is malformed: {0}")]
    Malformed(String),
    /// The platform's key store failed (key creation, a JNI call, the keychain...).
    #[error("platform key store: {0}")]
    Platform(String),
}

/// Encrypts and decrypts device shares with a platform-held key.
pub(crate) trait ShareWrapper: Send + Sync {
    /// Encrypts `plaintext`, binding `key_id` as associated data.
    fn wrap(&self, key_id: &str, plaintext: &[u8]) -> Result<Vec<u8>, WrapError>;
    /// Decrypts a blob made by [`ShareWrapper::wrap`] for the same `key_id`.
    fn unwrap(&self, key_id: &str, blob: &[u8]) -> Result<Zeroizing<Vec<u8>>, WrapError>;
}

/// Envelope version written by [`seal_envelope`].
const ENVELOPE_V1: u8 = 1;

/// `version || iv length || iv || ciphertext`.
pub(crate) fn seal_envelope(iv: &[u8], ciphertext: &[u8]) -> Result<Vec<u8>, WrapError> {
    let iv_len = u8::try_from(iv.len())
        .map_err(|_| WrapError::Platform(format!("unexpected IV of {} bytes", iv.len())))?;
    let mut out = Vec::with_capacity(2 + iv.len() + ciphertext.len());
    out.push(ENVELOPE_V1);
    out.push(iv_len);
    out.extend_from_slice(iv);
    out.extend_from_slice(ciphertext);
    Ok(out)
}

/// Splits an envelope into `(iv, ciphertext)`.
pub(crate) fn open_envelope(blob: &[u8]) -> Result<(&[u8], &[u8]), WrapError> {
    let [version, iv_len, rest @ ..] = blob else {
        return Err(WrapError::Malformed("too short".into()));
    };
    if *version != ENVELOPE_V1 {
        return Err(WrapError::Malformed(format!("unknown version {version}")));
    }
    let iv_len = usize::from(*iv_len);
    // GCM: 12-byte IVs in practice, and a 16-byte tag after the ciphertext.
    if !(8..=16).contains(&iv_len) || rest.len() < iv_len + 16 {
        return Err(WrapError::Malformed("bad lengths".into()));
    }
    Ok(rest.split_at(iv_len))
}

/// AES-256-GCM under a key held in process memory for the duration of one call: the Apple
/// Keychain wrapper's cipher (its key lives in the Keychain, not in an enclave).
#[cfg_attr(not(any(target_os = "ios", target_os = "macos")), allow(dead_code))]
pub(crate) mod software {
    use super::{WrapError, open_envelope, seal_envelope};
    use aes_gcm::aead::{Aead, KeyInit, Payload};
    use aes_gcm::{Aes256Gcm, Key, Nonce};
    use zeroize::Zeroizing;

    /// Encrypts `plaintext` under `key` with a random 96-bit nonce and `aad`.
    pub(crate) fn wrap(key: &[u8; 32], aad: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, WrapError> {
        let mut nonce = [0u8; 12];
        getrandom::fill(&mut nonce).map_err(|e| WrapError::Platform(format!("random: {e}")))?;
        let cipher = Aes256Gcm::new(&Key::<Aes256Gcm>::from(*key));
        let ciphertext = cipher
            .encrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: plaintext,
                    aad,
                },
            )
            .map_err(|_| WrapError::Platform("AES-GCM encryption failed".into()))?;
        seal_envelope(&nonce, &ciphertext)
    }

    /// Decrypts a blob made by [`wrap`] with the same `key` and `aad`.
    pub(crate) fn unwrap(
        key: &[u8; 32],
        aad: &[u8],
        blob: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, WrapError> {
        let (iv, ciphertext) = open_envelope(blob)?;
        let nonce: [u8; 12] = iv
            .try_into()
            .map_err(|_| WrapError::Malformed(format!("{}-byte nonce", iv.len())))?;
        let cipher = Aes256Gcm::new(&Key::<Aes256Gcm>::from(*key));
        cipher
            .decrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: ciphertext,
                    aad,
                },
            )
            .map(Zeroizing::new)
            .map_err(|_| WrapError::Authentication)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelopes_round_trip_and_reject_garbage() {
        let iv = [7u8; 12];
        let ct = [9u8; 40];
        let blob = seal_envelope(&iv, &ct).expect("seal");
        assert_eq!(open_envelope(&blob).expect("open"), (&iv[..], &ct[..]));
        assert!(matches!(open_envelope(&[]), Err(WrapError::Malformed(_))));
        assert!(matches!(
            open_envelope(&blob[..20]),
            Err(WrapError::Malformed(_))
        ));
        let mut v2 = blob.clone();
        v2[0] = 2;
        assert!(matches!(open_envelope(&v2), Err(WrapError::Malformed(_))));
    }

    #[test]
    fn the_software_cipher_binds_the_key_id() {
        let key = [5u8; 32];
        let blob = software::wrap(&key, b"key-1", b"share").expect("wrap");
        assert_eq!(
            software::unwrap(&key, b"key-1", &blob)
                .expect("unwrap")
                .as_slice(),
            b"share"
        );
        assert_eq!(
            software::unwrap(&key, b"key-2", &blob),
            Err(WrapError::Authentication)
        );
        let mut tampered = blob.clone();
        let last = tampered.len() - 1;
        tampered[last] ^= 1;
        assert_eq!(
            software::unwrap(&key, b"key-1", &tampered),
            Err(WrapError::Authentication)
        );
        assert_eq!(
            software::unwrap(&[6u8; 32], b"key-1", &blob),
            Err(WrapError::Authentication)
        );
    }
}
