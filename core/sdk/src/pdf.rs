//! Signing PDFs with the co-signed key: PAdES with SM2, the CMS carrying the user's certificate.
//!
//! Two steps, so that liveness evidence can bind the exact document being signed:
//! [`CosignClient::prepare_pdf`] builds the signed revision and its signed attributes (whose
//! message-digest names the document), [`PreparedPdf::document_digest`] is what the capture
//! binds, and [`CosignClient::sign_prepared_pdf`] co-signs those attributes. The server reads
//! the message-digest from the attributes it co-signs and, under a liveness policy, refuses
//! unless the evidence bound that digest.
//!
//! With [`SignOptions::time_stamped`] the signature also gets a signature time-stamp from the
//! server's time-stamping authority (PAdES B-T): one more round trip, after the co-signature.

use crate::{CosignClient, Pin, SdkError};
use inkseal_cosign::api::{MessageKind, SignedMessage};
use inkseal_pdf::cms::SignatureAlgorithm;
use inkseal_pdf::sign::{PreparedSignature, SignOptions, prepare};
use inkseal_pdf::tsp::{TimeStampToken, TspError, check_reply};

/// A PDF signature built and waiting for its co-signature.
pub struct PreparedPdf {
    key_id: String,
    prepared: PreparedSignature,
    document_digest: [u8; 32],
}

impl std::fmt::Debug for PreparedPdf {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PreparedPdf")
            .field("key_id", &self.key_id)
            .field("document_digest", &hex::encode(self.document_digest))
            .finish_non_exhaustive()
    }
}

impl PreparedPdf {
    /// SM3 of the signed revision's byte ranges (the CMS message-digest): the document a
    /// liveness capture must bind (`CaptureRequest::documents`).
    pub fn document_digest(&self) -> [u8; 32] {
        self.document_digest
    }

    /// The key it was prepared for.
    pub fn key_id(&self) -> &str {
        &self.key_id
    }
}

impl CosignClient {
    /// Build the signed revision of `input` for the key's certificate (no network).
    pub fn prepare_pdf(
        &self,
        key_id: &str,
        input: &[u8],
        options: &SignOptions,
    ) -> Result<PreparedPdf, SdkError> {
        let certificate = self
            .certificate(key_id)?
            .ok_or_else(|| SdkError::InvalidInput("the key has no certificate yet".into()))?;
        let prepared = prepare(input, options, SignatureAlgorithm::Sm2Sm3, &[certificate])
            .map_err(|e| SdkError::BadDocument(e.to_string()))?;
        let digest = inkseal_pdf::cms::message_digest_of_signed_attributes(prepared.to_be_signed())
            .map_err(|e| SdkError::BadDocument(e.to_string()))?;
        let document_digest = digest
            .as_slice()
            .try_into()
            .map_err(|_| SdkError::BadDocument("the message digest is not SM3".into()))?;
        Ok(PreparedPdf {
            key_id: key_id.to_owned(),
            prepared,
            document_digest,
        })
    }

    /// Co-sign a prepared signature and return the bytes to append to the input. One
    /// co-signing round trip; the signature is verified before it is embedded. The prepared
    /// signature stays usable after a refusal (a wrong PIN, evidence required), so the user
    /// neither prepares nor proves liveness again for the same document.
    pub async fn sign_prepared_pdf(
        &self,
        pin: &Pin,
        prepared: &PreparedPdf,
        evidence_head: Option<[u8; 32]>,
    ) -> Result<Vec<u8>, SdkError> {
        let message = SignedMessage::new(
            MessageKind::CmsSignedAttributes,
            prepared.prepared.to_be_signed().to_vec(),
        )
        .map_err(|e| SdkError::BadDocument(e.to_string()))?;
        let signature = self
            .sign_signed_message(&prepared.key_id, pin, message, evidence_head)
            .await?;
        let signature = inkseal_pki::signature_to_der(&signature);
        let finished = if prepared.prepared.time_stamped() {
            let token = self.time_stamp(&prepared.prepared, &signature).await?;
            prepared
                .prepared
                .clone()
                .finish_with_time_stamp(&signature, &token)
        } else {
            prepared.prepared.clone().finish(&signature)
        };
        finished.map_err(|e| SdkError::BadDocument(e.to_string()))
    }

    /// A signature time-stamp over `signature` from the server's time-stamping authority
    /// (`/v1/tsa`, RFC 3161; one round trip), checked: status, imprint, nonce, signature and
    /// the TSA certificate's usage. Whether the TSA is trusted is the verifier's question.
    async fn time_stamp(
        &self,
        prepared: &PreparedSignature,
        signature: &[u8],
    ) -> Result<TimeStampToken, SdkError> {
        let nonce: [u8; 16] = crate::client::random_bytes()?;
        let request = prepared
            .time_stamp_request(signature, &nonce)
            .map_err(|e| SdkError::InvalidInput(e.to_string()))?;
        let body = request
            .to_der()
            .map_err(|e| SdkError::InvalidInput(e.to_string()))?;
        let reply = self
            .send_bytes("/v1/tsa", "application/timestamp-query", body)
            .await?;
        check_reply(&request, &reply).map_err(|e| match e {
            TspError::Refused { .. } => SdkError::Refused(format!("time-stamping authority: {e}")),
            other => SdkError::ServerMisbehaved(format!("time-stamp: {other}")),
        })
    }

    /// Prepare and co-sign in one call, for keys whose policy needs no evidence; returns the
    /// bytes to append to `input`. The key must have a certificate.
    pub async fn sign_pdf(
        &self,
        key_id: &str,
        pin: &Pin,
        input: &[u8],
        options: &SignOptions,
    ) -> Result<Vec<u8>, SdkError> {
        let prepared = self.prepare_pdf(key_id, input, options)?;
        self.sign_prepared_pdf(pin, &prepared, None).await
    }
}
