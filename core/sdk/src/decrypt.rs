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
//! # Opening a digital envelope (after the CMS EnvelopedData reader lands)
//!
//! The envelope-level wrapper is a few lines over this call:
//!
//! ```text
//! let envelope_ref = inkseal_sdk::decrypt::envelope_ref(&envelope_der);
//! let ktri = enveloped::parse(&envelope_der)?                 // the CMS reader
//!     .recipient_for(&encryption_certificate)?;               // KTRI by issuerAndSerialNumber
//! let cek = client.decrypt_sm2(key_id, &pin, ktri.encrypted_key(), &envelope_ref).await?;
//! let content = enveloped::decrypt_content(&parsed, &cek)?;   // SM4-CBC, padding checked
//! ```
//!
//! `cek` is a `Zeroizing<Vec<u8>>`: pass it by reference and let it drop.

use crate::client::misbehaved;
use crate::{CosignClient, Pin, SdkError};
use inkseal_cosign::api::{DecryptApiRequest, DecryptApiResponse};
use inkseal_cosign::{DecryptError, DecryptSession, Sm2Ciphertext};
use sm3::{Digest, Sm3};
use zeroize::Zeroizing;

/// The envelope reference the server audits: SM3 of the envelope's DER.
pub fn envelope_ref(envelope_der: &[u8]) -> [u8; 32] {
    Sm3::digest(envelope_der).into()
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
        let share = self.share(key_id)?;
        let idempotency_key = crate::client::random_id(16)?;
        let (session, decrypt) =
            DecryptSession::start_with_os_rng(&share, &idempotency_key, &ciphertext)
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
}
