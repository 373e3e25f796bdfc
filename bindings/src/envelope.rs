//! Digital envelopes opened with the user's split key (issue 17): an encryption key is
//! enrolled ([`InksealClient::enroll_encryption_key`]) and certified
//! ([`InksealClient::request_certificate`], keyUsage keyEncipherment); an envelope (CMS
//! EnvelopedData) addressed to that certificate is opened with the server in one round trip
//! ([`InksealClient::open_envelope`]): PIN-authorised, audited, C3 and padding checked before
//! anything is returned, and then all of the plaintext or nothing.
//!
//! The content is the one secret that crosses the FFI, because the user asked for it: the
//! Rust copies are wiped; the `ByteArray`/`Data` the app receives is the app's to clear.
//! Signed-then-enveloped content is returned as the DER SignedData with `signed` set: the
//! app's backend verifies it (the bindings carry no verifier, as for login).

use crate::client::{EnrollmentInfo, InksealClient};
use crate::errors::InksealError;
use inkseal_sdk::{KeyPurpose, Pin};

/// An envelope's plaintext.
#[derive(Clone, PartialEq, Eq, uniffi::Record)]
pub struct OpenedEnvelope {
    /// The decrypted content (for signed content, the DER CMS SignedData).
    pub content: Vec<u8>,
    /// Whether the content is a SignedData (signed-then-enveloped): verify it before using
    /// what it says.
    pub signed: bool,
    /// The content type's OID, dotted (`1.2.156.10197.6.1.4.2.1` GB/T data,
    /// `1.2.840.113549.1.7.1` id-data, the signedData OIDs).
    pub content_type: String,
    /// The content cipher: `SM4-CBC`, `AES-128-CBC` or `AES-256-CBC`.
    pub cipher: String,
}

impl std::fmt::Debug for OpenedEnvelope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenedEnvelope")
            .field("content", &format_args!("<{} bytes>", self.content.len()))
            .field("signed", &self.signed)
            .field("content_type", &self.content_type)
            .field("cipher", &self.cipher)
            .finish()
    }
}

#[uniffi::export(async_runtime = "tokio")]
impl InksealClient {
    /// Creates a split **encryption** key with the one-time enrollment `ticket` (as
    /// [`InksealClient::enroll`] does for a signing key). It opens envelopes and co-signs
    /// nothing but its own certificate request: call `requestCertificate` next (its
    /// certificate, keyUsage keyEncipherment, is what senders seal to).
    pub async fn enroll_encryption_key(
        &self,
        ticket: String,
        pin: String,
    ) -> Result<EnrollmentInfo, InksealError> {
        let pin = Pin::new(pin);
        let ticket = zeroize::Zeroizing::new(ticket);
        let e = self
            .inner
            .enroll_for(&ticket, &pin, KeyPurpose::Encryption)
            .await?;
        Ok(crate::client::enrollment_info(e))
    }

    /// Opens the digital envelope `envelope` (DER CMS EnvelopedData, at most 16 MiB) addressed
    /// to the certificate of the encryption key `key_id`, with the server (one PIN use, one
    /// round trip, audited with SM3 of the envelope). Errors: `InvalidInput` when the envelope
    /// is not addressed to the key (or the key has no certificate yet, or the SM2 check value
    /// fails), `BadDocument` when it is malformed, too large, unsupported or its content does
    /// not decrypt, `WrongPin`/`Locked` as for signing. Nothing is returned on failure.
    pub async fn open_envelope(
        &self,
        key_id: String,
        pin: String,
        envelope: Vec<u8>,
    ) -> Result<OpenedEnvelope, InksealError> {
        let pin = Pin::new(pin);
        let opened = self.inner.open_envelope(&key_id, &pin, &envelope).await?;
        Ok(OpenedEnvelope {
            signed: opened.signed(),
            content_type: opened.content_type().to_owned(),
            cipher: opened.cipher().to_owned(),
            content: opened.content().to_vec(),
        })
    }
}
