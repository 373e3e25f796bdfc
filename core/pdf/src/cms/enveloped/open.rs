//! Opening an envelope with a local private key.
//!
//! With the recipient's certificate, the recipient is found by its identifier and the key must
//! be the certificate's; without it, every recipient of the key's type is tried (the C3 or
//! key-unwrap check tells whose it is). Either way the content key is released only after its
//! check, and the content only after its padding check.

use super::content::ContentCipher;
use super::error::EnvelopeError;
use super::parse::{ParsedEnvelope, Recipient};
use crate::cms::PublicKey;
use crate::cms::cert::Cert;
use const_oid::ObjectIdentifier;
use zeroize::Zeroizing;

/// A local private key that opens envelopes (wiped when dropped).
pub enum EnvelopeKey {
    /// An SM2 key (SM2 key-transport recipients).
    Sm2(sm2::SecretKey),
    /// A P-256 key (key-agreement recipients; opening them needs the `envelopes` feature).
    P256(p256::SecretKey),
}

impl std::fmt::Debug for EnvelopeKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            EnvelopeKey::Sm2(_) => "EnvelopeKey::Sm2(..)",
            EnvelopeKey::P256(_) => "EnvelopeKey::P256(..)",
        })
    }
}

impl EnvelopeKey {
    /// A key from PEM: a `PRIVATE KEY` (PKCS#8), `EC PRIVATE KEY` or `SM2 PRIVATE KEY` (SEC1)
    /// block, SM2 or P-256, as [`crate::signer::LocalSigner::from_pem`] reads them. A SEC1 key
    /// without curve parameters takes the curve of `certificate_der` (P-256 without one).
    pub fn from_pem(key_pem: &str, certificate_der: Option<&[u8]>) -> Result<Self, EnvelopeError> {
        let fallback = match certificate_der {
            Some(der) => Cert::parse(der)
                .and_then(|c| c.algorithm())
                .map_err(|e| EnvelopeError::Certificate(e.to_string()))?,
            None => crate::cms::SignatureAlgorithm::EcdsaP256Sha256,
        };
        let der = crate::signer::single_key_block(key_pem)
            .map_err(|e| EnvelopeError::InvalidInput(format!("private key: {e}")))?;
        Ok(
            match crate::signer::decode_key(&der, fallback)
                .map_err(|e| EnvelopeError::InvalidInput(format!("private key: {e}")))?
            {
                crate::signer::LocalKey::Sm2(k) => EnvelopeKey::Sm2(k),
                crate::signer::LocalKey::P256(k) => EnvelopeKey::P256(k),
            },
        )
    }
}

/// A P-256 private key that opens key-agreement recipients by computing ECDH shared secrets,
/// wherever it lives: `p256::SecretKey` implements it in this process; the server implements it
/// for a key inside a PKCS#11 token (`CKM_ECDH1_DERIVE`), whose private half never leaves the
/// token. Only `Z` for one envelope's ephemeral key comes out; the KDF, key unwrap and content
/// decryption run here.
pub trait P256KeyAgreement {
    /// The key's public half (to check it is the recipient certificate's).
    fn public_key(&self) -> p256::PublicKey;
    /// `Z`, the x-coordinate of `d · originator` (RFC 5753's standard ECDH), wiped when dropped.
    /// A key that cannot be used (a token that fails) is [`EnvelopeError::KeyUnavailable`].
    fn shared_secret(
        &self,
        originator: &p256::PublicKey,
    ) -> Result<Zeroizing<[u8; 32]>, EnvelopeError>;
}

/// The plaintext of an opened envelope, in a buffer wiped when dropped.
#[derive(Debug)]
pub struct OpenedEnvelope {
    content: Zeroizing<Vec<u8>>,
    content_type: ObjectIdentifier,
    cipher: ContentCipher,
}

impl OpenedEnvelope {
    /// The decrypted content.
    pub fn content(&self) -> &[u8] {
        &self.content
    }

    /// The decrypted content, owned (still wiped when dropped).
    pub fn into_content(self) -> Zeroizing<Vec<u8>> {
        self.content
    }

    /// Its content type (id-data, GB/T data, id-signedData...).
    pub fn content_type(&self) -> ObjectIdentifier {
        self.content_type
    }

    /// The content cipher it was encrypted with.
    pub fn cipher(&self) -> ContentCipher {
        self.cipher
    }
}

impl ParsedEnvelope {
    /// Decrypt the content with a content key recovered by any means (see
    /// [`ParsedEnvelope::decrypt_content`]) and keep its type with it.
    pub fn open_with_cek(&self, cek: &[u8]) -> Result<OpenedEnvelope, EnvelopeError> {
        Ok(OpenedEnvelope {
            content: self.decrypt_content(cek)?,
            content_type: self.content_type(),
            cipher: self.content_cipher(),
        })
    }

    /// Open with a local SM2 private key. With `certificate_der` (the recipient's encryption
    /// certificate) the SM2 recipient for it is used and the key must be the certificate's
    /// ([`EnvelopeError::InvalidInput`] otherwise); without it every SM2 recipient is tried.
    /// [`EnvelopeError::NotARecipient`] when no recipient is for this certificate or key,
    /// [`EnvelopeError::KeyDecryptionFailed`] when the certificate's recipient does not
    /// decrypt under the key (C3 differs).
    pub fn open_with_sm2_key(
        &self,
        key: &sm2::SecretKey,
        certificate_der: Option<&[u8]>,
    ) -> Result<OpenedEnvelope, EnvelopeError> {
        let cek = match certificate_der {
            Some(cert) => {
                check_key_is_certificates(
                    cert,
                    |pk| matches!(pk, PublicKey::Sm2(p) if *p == key.public_key()),
                )?;
                self.sm2_recipient_for(cert)?.ciphertext().decrypt(key)?
            }
            None => self
                .recipients()
                .iter()
                .filter_map(|r| match r {
                    Recipient::Sm2(r) => r.ciphertext().decrypt(key).ok(),
                    _ => None,
                })
                .next()
                .ok_or(EnvelopeError::NotARecipient("key"))?,
        };
        self.open_checked(&cek)
    }

    /// Open with a local P-256 private key (ECDH, the X9.63 KDF, AES key unwrap). With
    /// `certificate_der` the key-agreement recipients for it are used and the key must be the
    /// certificate's; without it every P-256 recipient is tried. Errors as
    /// [`ParsedEnvelope::open_with_sm2_key`]'s.
    #[cfg(feature = "envelopes")]
    pub fn open_with_p256_key(
        &self,
        key: &p256::SecretKey,
        certificate_der: Option<&[u8]>,
    ) -> Result<OpenedEnvelope, EnvelopeError> {
        self.open_with_p256_agreement(key, certificate_der)
    }

    /// Open with a P-256 key that may live elsewhere ([`P256KeyAgreement`], e.g. a PKCS#11
    /// token): as [`ParsedEnvelope::open_with_p256_key`]. A failure of the key itself
    /// ([`EnvelopeError::KeyUnavailable`]) is returned at once, not taken for "not this
    /// recipient".
    #[cfg(feature = "envelopes")]
    pub fn open_with_p256_agreement(
        &self,
        key: &dyn P256KeyAgreement,
        certificate_der: Option<&[u8]>,
    ) -> Result<OpenedEnvelope, EnvelopeError> {
        let public = key.public_key();
        let cek = match certificate_der {
            Some(cert) => {
                check_key_is_certificates(
                    cert,
                    |pk| matches!(pk, PublicKey::P256(p) if *p == public),
                )?;
                let candidates = self.p256_recipients_for(cert)?;
                if candidates.is_empty() {
                    return Err(EnvelopeError::NotARecipient("certificate"));
                }
                first_unwrapping(candidates, key)?.ok_or(EnvelopeError::KeyDecryptionFailed)?
            }
            None => first_unwrapping(
                self.recipients().iter().filter_map(|r| match r {
                    Recipient::P256(r) => Some(r),
                    _ => None,
                }),
                key,
            )?
            .ok_or(EnvelopeError::NotARecipient("key"))?,
        };
        self.open_checked(&cek)
    }

    /// Open with a local key of either kind ([`ParsedEnvelope::open_with_sm2_key`],
    /// [`ParsedEnvelope::open_with_p256_key`]); a P-256 key without the `envelopes` feature is
    /// [`EnvelopeError::Unsupported`].
    pub fn open_with_key(
        &self,
        key: &EnvelopeKey,
        certificate_der: Option<&[u8]>,
    ) -> Result<OpenedEnvelope, EnvelopeError> {
        match key {
            EnvelopeKey::Sm2(k) => self.open_with_sm2_key(k, certificate_der),
            #[cfg(feature = "envelopes")]
            EnvelopeKey::P256(k) => self.open_with_p256_key(k, certificate_der),
            #[cfg(not(feature = "envelopes"))]
            EnvelopeKey::P256(_) => Err(EnvelopeError::Unsupported(
                "opening P-256 key-agreement recipients (built without the envelopes feature)"
                    .into(),
            )),
        }
    }

    /// Decrypt with a content key that came out of a recipient: a key of the wrong length
    /// means the sender's envelope is inconsistent.
    fn open_checked(&self, cek: &[u8]) -> Result<OpenedEnvelope, EnvelopeError> {
        if cek.len() != self.content_cipher().key_len() {
            return Err(EnvelopeError::Malformed(format!(
                "the recipient's content key is {} bytes; {:?} needs {}",
                cek.len(),
                self.content_cipher(),
                self.content_cipher().key_len()
            )));
        }
        self.open_with_cek(cek)
    }
}

/// The content key of the first of `recipients` whose wrapped key unwraps under `key`; a
/// failure of the key itself ([`EnvelopeError::KeyUnavailable`]) ends the search.
#[cfg(feature = "envelopes")]
fn first_unwrapping<'a>(
    recipients: impl IntoIterator<Item = &'a super::parse::P256KeyAgreeRecipient>,
    key: &dyn P256KeyAgreement,
) -> Result<Option<Zeroizing<Vec<u8>>>, EnvelopeError> {
    for r in recipients {
        match super::p256_kari::unwrap_cek(r, key) {
            Ok(cek) => return Ok(Some(cek)),
            Err(e @ EnvelopeError::KeyUnavailable(_)) => return Err(e),
            Err(_) => {}
        }
    }
    Ok(None)
}

fn check_key_is_certificates(
    certificate_der: &[u8],
    matches: impl FnOnce(&PublicKey) -> bool,
) -> Result<(), EnvelopeError> {
    let cert =
        Cert::parse(certificate_der).map_err(|e| EnvelopeError::Certificate(e.to_string()))?;
    let public = cert
        .public_key()
        .map_err(|e| EnvelopeError::Certificate(e.to_string()))?;
    if matches(&public) {
        Ok(())
    } else {
        Err(EnvelopeError::InvalidInput(
            "the private key is not the certificate's".into(),
        ))
    }
}
