//! Signing PDFs with the co-signed key: PAdES with SM2, the CMS carrying the user's certificate.

use crate::{CosignClient, Pin, SdkError};
use inkseal_pdf::cms::SignatureAlgorithm;
use inkseal_pdf::sign::{SignOptions, prepare};

impl CosignClient {
    /// Sign `input` as the user of `key_id` and return the bytes to append to it.
    ///
    /// The key must have a certificate (see [`CosignClient::request_certificate`]). One co-signing
    /// round trip; the signature is verified before it is embedded.
    pub async fn sign_pdf(
        &self,
        key_id: &str,
        pin: &Pin,
        input: &[u8],
        options: &SignOptions,
    ) -> Result<Vec<u8>, SdkError> {
        let certificate = self
            .certificate(key_id)?
            .ok_or_else(|| SdkError::InvalidInput("the key has no certificate yet".into()))?;
        let prepared = prepare(input, options, SignatureAlgorithm::Sm2Sm3, &[certificate])
            .map_err(|e| SdkError::BadDocument(e.to_string()))?;
        let signature = self
            .sign_message(key_id, pin, prepared.to_be_signed())
            .await?;
        prepared
            .finish(&inkseal_pki::signature_to_der(&signature))
            .map_err(|e| SdkError::BadDocument(e.to_string()))
    }
}
