//! Two-party SM2 decryption with an encryption key (issue 17): the phone and the server each
//! apply their share to the ciphertext's C1 in one round trip; the phone checks C3 before it
//! releases anything.
//!
//! [`CosignClient::decrypt_sm2`] opens one GM/T 0009 DER `SM2Cipher` (a key transport: at most
//! 64 bytes of plaintext, in practice the 16-byte SM4 content-encryption key of a digital
//! envelope). The round: the phone blinds C1 (`T1 = ρ d1^-1 C1`, so the server learns nothing
//! of the envelope), the server answers `T2 = d2^-1 T1` with a proof that it used its share
//! (PIN, device signature, audited as `decrypted` with `envelope_ref`), the phone checks the
//! proof, unblinds, derives the key stream and compares C3 in constant time. A server whose
//! answer fails the proof is [`SdkError::ServerMisbehaved`]; a ciphertext that fails C3 (not
//! for this key, or altered) is [`SdkError::InvalidInput`]. Either way nothing is released.
//!
//! # Opening a digital envelope
//!
//! [`CosignClient::open_envelope`] opens a CMS EnvelopedData (GB/T 35275 or RFC 5652 OIDs)
//! addressed to the encryption key's certificate (the one [`CosignClient::request_certificate`]
//! obtained and the SDK keeps with the share):
//!
//! 1. size limit ([`MAX_ENVELOPE_BYTES`]) and a strict parse, before any network traffic;
//! 2. the SM2 key-transport recipient (KTRI) for the key's certificate (issuer and serial
//!    number, or subject key identifier); none is [`SdkError::InvalidInput`] saying the
//!    envelope is not addressed to this key;
//! 3. [`CosignClient::decrypt_sm2`] recovers the content-encryption key (16 bytes for SM4-CBC,
//!    32 for AES-256-CBC when the envelope also has P-256 recipients), audited by the server
//!    with `envelope_ref` = SM3 of the envelope's bytes; C3 is checked before the key is used;
//! 4. the content is decrypted and its padding checked; the whole plaintext is returned
//!    ([`OpenedEnvelope`], wiped when dropped) or nothing.
//!
//! Signed-then-enveloped content (content type id-signedData or GB/T signedData) is returned
//! as is, the DER SignedData, with [`OpenedEnvelope::signed`] set: the app (or its backend)
//! verifies it with `inkseal_pdf::cms::enveloped::verify_signed_content` against its trust
//! anchors before using what it says. The SDK does not verify it: the phone has no trust
//! anchors of the sender's PKI.
//!
//! CBC content is not authenticated: a correct padding does not prove the content was not
//! altered. Where that matters the sender signs before enveloping.
//!
//! Errors: a malformed, oversized or unsupported envelope, or content that does not decrypt,
//! is [`SdkError::BadDocument`]; an envelope not addressed to the key, or a key without a
//! certificate, is [`SdkError::InvalidInput`]; PIN, lock, network and server errors are
//! [`CosignClient::decrypt_sm2`]'s.

use crate::client::misbehaved;
use crate::{CosignClient, Pin, SdkError};
use inkseal_cosign::api::{DecryptApiRequest, DecryptApiResponse};
use inkseal_cosign::{DecryptError, DecryptSession, Sm2Ciphertext};
use inkseal_pdf::cms::enveloped::{self, EnvelopeError};
use sm3::{Digest, Sm3};
use zeroize::Zeroizing;

/// The envelope reference the server audits: SM3 of the envelope's DER.
pub fn envelope_ref(envelope_der: &[u8]) -> [u8; 32] {
    Sm3::digest(envelope_der).into()
}

/// The largest envelope [`CosignClient::open_envelope`] reads (the CMS reader's limit).
pub const MAX_ENVELOPE_BYTES: usize = enveloped::MAX_ENVELOPE_BYTES;

/// The plaintext of an envelope opened with a split key. Its content is wiped when dropped;
/// `Debug` does not print it.
pub struct OpenedEnvelope {
    content: Zeroizing<Vec<u8>>,
    content_type: String,
    signed: bool,
    cipher: &'static str,
}

impl std::fmt::Debug for OpenedEnvelope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenedEnvelope")
            .field("content", &format_args!("<{} bytes>", self.content.len()))
            .field("content_type", &self.content_type)
            .field("signed", &self.signed)
            .field("cipher", &self.cipher)
            .finish()
    }
}

impl OpenedEnvelope {
    /// The decrypted content (for signed content, the DER SignedData).
    pub fn content(&self) -> &[u8] {
        &self.content
    }

    /// The decrypted content, owned (still wiped when dropped).
    pub fn into_content(self) -> Zeroizing<Vec<u8>> {
        self.content
    }

    /// The content type's OID, dotted (`1.2.840.113549.1.7.1` id-data,
    /// `1.2.156.10197.6.1.4.2.1` GB/T data, the signedData OIDs...).
    pub fn content_type(&self) -> &str {
        &self.content_type
    }

    /// Whether the content is a SignedData (signed-then-enveloped): verify it with
    /// `inkseal_pdf::cms::enveloped::verify_signed_content` before using what it says.
    pub fn signed(&self) -> bool {
        self.signed
    }

    /// The content cipher: `SM4-CBC`, `AES-128-CBC` or `AES-256-CBC` (`other` for a cipher
    /// the reader learns later).
    pub fn cipher(&self) -> &'static str {
        self.cipher
    }
}

/// The SDK's error for an envelope that released nothing.
pub(crate) fn envelope_error(e: EnvelopeError) -> SdkError {
    match e {
        EnvelopeError::NotARecipient(_) => SdkError::InvalidInput(
            "the envelope is not addressed to this key's certificate; nothing was decrypted".into(),
        ),
        EnvelopeError::InvalidInput(m) | EnvelopeError::Certificate(m) => {
            SdkError::InvalidInput(format!("envelope: {m}"))
        }
        // The envelope itself cannot be opened: too large, malformed, an algorithm this SDK
        // does not open, or altered (its content key or content does not decrypt).
        e @ (EnvelopeError::TooLarge { .. }
        | EnvelopeError::TooManyRecipients { .. }
        | EnvelopeError::Malformed(_)
        | EnvelopeError::Unsupported(_)
        | EnvelopeError::KeyDecryptionFailed
        | EnvelopeError::ContentDecryptionFailed) => {
            SdkError::BadDocument(format!("envelope: {e}; nothing was decrypted"))
        }
        // The phone's key is the two-party share, used through the server: a key that cannot
        // be used here is the share store's failure.
        e @ EnvelopeError::KeyUnavailable(_) => {
            SdkError::Storage(format!("envelope: {e}; nothing was decrypted"))
        }
        // Encoding a structure built here failed: nothing the app passed is at fault.
        e @ EnvelopeError::Encoding(_) => {
            SdkError::BadDocument(format!("envelope: {e}; nothing was decrypted"))
        }
    }
}

/// The SDK's error for a decryption that released nothing.
pub(crate) fn decrypt_error(e: DecryptError) -> SdkError {
    match e {
        DecryptError::ServerMisbehaved(why) => SdkError::ServerMisbehaved(format!(
            "two-party decryption: {why}; nothing was decrypted"
        )),
        DecryptError::Ciphertext(why) => {
            SdkError::InvalidInput(format!("SM2 ciphertext refused: {why}"))
        }
        DecryptError::CheckFailed => SdkError::InvalidInput(
            "the SM2 ciphertext's check value (C3) does not match: it is not for this key, or \
             it was altered; nothing was decrypted"
                .into(),
        ),
        DecryptError::ZeroKeyStream => {
            SdkError::InvalidInput("the SM2 key stream is all zeros; ciphertext refused".into())
        }
        DecryptError::Protocol(e) => misbehaved(e),
    }
}

impl CosignClient {
    /// Decrypt one DER `SM2Cipher` with the encryption key `key_id` and the server (one round
    /// trip; see the module documentation). `envelope_ref` is SM3 of the envelope it came
    /// from ([`envelope_ref`]), recorded in the server's audit log. Returns the plaintext
    /// (the content-encryption key) only after its C3 check passed.
    pub async fn decrypt_sm2(
        &self,
        key_id: &str,
        pin: &Pin,
        sm2_cipher_der: &[u8],
        envelope_ref: &[u8; 32],
    ) -> Result<Zeroizing<Vec<u8>>, SdkError> {
        let ciphertext = Sm2Ciphertext::from_der(sm2_cipher_der).map_err(decrypt_error)?;
        self.decrypt_parsed(key_id, pin, &ciphertext, envelope_ref)
            .await
    }

    /// [`CosignClient::decrypt_sm2`] for a ciphertext already parsed (an envelope's key
    /// transport, which the envelope reader checked when it read it).
    async fn decrypt_parsed(
        &self,
        key_id: &str,
        pin: &Pin,
        ciphertext: &Sm2Ciphertext,
        envelope_ref: &[u8; 32],
    ) -> Result<Zeroizing<Vec<u8>>, SdkError> {
        let share = self.share(key_id)?;
        let idempotency_key = crate::client::random_id(16)?;
        let (session, decrypt) =
            DecryptSession::start_with_os_rng(&share, &idempotency_key, ciphertext)
                .map_err(decrypt_error)?;
        let body = DecryptApiRequest {
            idempotency_key,
            pin: pin.clone(),
            envelope_ref: hex::encode(envelope_ref),
            decrypt,
        };
        let resp: DecryptApiResponse = self
            .send_as(
                key_id,
                "POST",
                &format!("/v1/keys/{key_id}/decrypt"),
                Some(&body),
            )
            .await?;
        session.finish(&resp.decrypt).map_err(decrypt_error)
    }

    /// Open the digital envelope `envelope_der` (CMS EnvelopedData, DER or BER) addressed to
    /// the certificate of the encryption key `key_id`, with the server (one round trip, one
    /// PIN use, audited). See the module documentation: all of the plaintext or nothing.
    pub async fn open_envelope(
        &self,
        key_id: &str,
        pin: &Pin,
        envelope_der: &[u8],
    ) -> Result<OpenedEnvelope, SdkError> {
        if envelope_der.len() > MAX_ENVELOPE_BYTES {
            return Err(envelope_error(EnvelopeError::TooLarge {
                size: envelope_der.len(),
                limit: MAX_ENVELOPE_BYTES,
            }));
        }
        let certificate = self.certificate(key_id)?.ok_or_else(|| {
            SdkError::InvalidInput(
                "the key has no certificate yet: request its encryption certificate first".into(),
            )
        })?;
        let parsed = enveloped::parse_envelope(envelope_der).map_err(envelope_error)?;
        let recipient = parsed
            .sm2_recipient_for(&certificate)
            .map_err(envelope_error)?;
        let reference = envelope_ref(envelope_der);
        let cek = self
            .decrypt_parsed(key_id, pin, recipient.ciphertext().as_cosign(), &reference)
            .await?;
        let opened = parsed.open_with_cek(&cek).map_err(envelope_error)?;
        let content_type = opened.content_type();
        let cipher = opened.cipher().name();
        Ok(OpenedEnvelope {
            signed: enveloped::is_signed_content(&content_type),
            content_type: content_type.to_string(),
            cipher,
            content: opened.into_content(),
        })
    }
}
