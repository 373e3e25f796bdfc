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
        self.sign_pdf_with_evidence(key_id, pin, input, options, None)
            .await
    }

    /// [`CosignClient::sign_pdf`] bound to an evidence manifest: the server checks its
    /// signing policy against the evidence with head `evidence_head` (see
    /// [`CosignClient::capture_evidence`]) and records the binding in its audit log.
    pub async fn sign_pdf_with_evidence(
        &self,
        key_id: &str,
        pin: &Pin,
        input: &[u8],
        options: &SignOptions,
        evidence_head: Option<[u8; 32]>,
    ) -> Result<Vec<u8>, SdkError> {
        let certificate = self
            .certificate(key_id)?
            .ok_or_else(|| SdkError::InvalidInput("the key has no certificate yet".into()))?;
        let prepared = prepare(input, options, SignatureAlgorithm::Sm2Sm3, &[certificate])
            .map_err(|e| SdkError::BadDocument(e.to_string()))?;
        let e = self.digest(key_id, prepared.to_be_signed())?;
        let signature = self.sign_digest(key_id, pin, &e, evidence_head).await?;
        prepared
            .finish(&inkseal_pki::signature_to_der(&signature))
            .map_err(|e| SdkError::BadDocument(e.to_string()))
    }
}
