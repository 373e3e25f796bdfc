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
//! [`CosignClient::sign_prepared_pdf_long_term`] goes on to B-LT (the time-stamp and every
//! OCSP response in that same one round trip, then the DSS) or B-LTA (one more, for the
//! document time-stamp): at most two round trips after the co-signature.
//! [`CosignClient::add_long_term_validation`] brings an already signed PDF to B-LT or B-LTA.

use crate::{CosignClient, Pin, SdkError};
use inkseal_cosign::api::{KeyCurve, MessageKind, SignedMessage};
use inkseal_cosign::api::{RevocationRequest, RevocationResponse};
use inkseal_pdf::PdfError;
use inkseal_pdf::cms::SignatureAlgorithm;
use inkseal_pdf::ltv::{ValidationData, add_dss, prepare_document_time_stamp, validation_needs};
use inkseal_pdf::sign::{AwaitingTimeStamp, PreparedSignature, SignOptions, prepare};
use inkseal_pdf::tsp::{TimeStampRequest, TimeStampToken, TspError, check_reply};

/// A PDF signature built and waiting for its co-signature.
pub struct PreparedPdf {
    key_id: String,
    curve: KeyCurve,
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
    /// SM3 (SHA-256 for a two-party P-256 key) of the signed revision's byte ranges (the CMS
    /// message-digest): the document a liveness capture must bind
    /// (`CaptureRequest::documents`).
    pub fn document_digest(&self) -> [u8; 32] {
        self.document_digest
    }

    /// The key it was prepared for.
    pub fn key_id(&self) -> &str {
        &self.key_id
    }
}

impl CosignClient {
    /// Build the signed revision of `input` for the key's certificate (no network): SM2 with
    /// SM3 for an SM2 key, ecdsa-with-SHA256 for a two-party P-256 key.
    pub fn prepare_pdf(
        &self,
        key_id: &str,
        input: &[u8],
        options: &SignOptions,
    ) -> Result<PreparedPdf, SdkError> {
        let certificate = self
            .certificate(key_id)?
            .ok_or_else(|| SdkError::InvalidInput("the key has no certificate yet".into()))?;
        let curve = self.stored(key_id)?.curve;
        let algorithm = match curve {
            KeyCurve::Sm2 => SignatureAlgorithm::Sm2Sm3,
            #[cfg(feature = "p256-cosign")]
            KeyCurve::P256 => SignatureAlgorithm::EcdsaP256Sha256,
            // Without the feature the SDK has no P-256 co-signer to finish the signature.
            #[cfg(not(feature = "p256-cosign"))]
            KeyCurve::P256 => {
                return Err(SdkError::InvalidInput(
                    "this build cannot co-sign with two-party P-256 keys (feature p256-cosign)"
                        .into(),
                ));
            }
        };
        let prepared = prepare(input, options, algorithm, &[certificate]).map_err(pdf_error)?;
        let digest = inkseal_pdf::cms::message_digest_of_signed_attributes(prepared.to_be_signed())
            .map_err(|e| SdkError::BadDocument(e.to_string()))?;
        let document_digest = digest
            .as_slice()
            .try_into()
            .map_err(|_| SdkError::BadDocument("the message digest is not 32 bytes".into()))?;
        Ok(PreparedPdf {
            key_id: key_id.to_owned(),
            curve,
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
        if !prepared.prepared.time_stamped() {
            let signature = self.co_sign_prepared(pin, prepared, evidence_head).await?;
            return prepared
                .prepared
                .clone()
                .finish(&signature)
                .map_err(pdf_error);
        }
        // PAdES B-T: a signature time-stamp from the server's TSA (`/v1/tsa`, RFC 3161; one
        // round trip), checked. Whether the TSA is trusted is the verifier's question.
        let step = self
            .co_sign_for_time_stamp(pin, prepared, evidence_head)
            .await?;
        let reply = self.tsa_reply(step.request()).await?;
        step.finish(&reply).map_err(pdf_error)
    }

    /// Co-sign, then hold the signature for its signature time-stamp (PAdES B-T).
    async fn co_sign_for_time_stamp(
        &self,
        pin: &Pin,
        prepared: &PreparedPdf,
        evidence_head: Option<[u8; 32]>,
    ) -> Result<AwaitingTimeStamp, SdkError> {
        let signature = self.co_sign_prepared(pin, prepared, evidence_head).await?;
        let nonce: [u8; 16] = crate::client::random_bytes()?;
        prepared
            .prepared
            .clone()
            .await_time_stamp(&signature, &nonce)
            .map_err(|e| SdkError::InvalidInput(e.to_string()))
    }

    /// The co-signature (DER) over the prepared signed attributes: one round trip.
    async fn co_sign_prepared(
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
        match prepared.curve {
            KeyCurve::Sm2 => {
                let signature = self
                    .sign_signed_message(&prepared.key_id, pin, message, evidence_head)
                    .await?;
                Ok(inkseal_pki::signature_to_der(&signature))
            }
            #[cfg(feature = "p256-cosign")]
            KeyCurve::P256 => {
                let signature = self
                    .sign_signed_message_p256(&prepared.key_id, pin, message, evidence_head)
                    .await?;
                Ok(signature.to_der().as_bytes().to_vec())
            }
            #[cfg(not(feature = "p256-cosign"))]
            KeyCurve::P256 => Err(SdkError::InvalidInput(
                "this build cannot co-sign with two-party P-256 keys (feature p256-cosign)".into(),
            )),
        }
    }

    /// Send `request` to the server's TSA and check the reply.
    async fn fetch_time_stamp(
        &self,
        request: &TimeStampRequest,
    ) -> Result<TimeStampToken, SdkError> {
        let reply = self.tsa_reply(request).await?;
        check_time_stamp_reply(request, &reply)
    }

    /// The server's TSA's reply to `request` (`POST /v1/tsa`), not yet checked.
    async fn tsa_reply(&self, request: &TimeStampRequest) -> Result<Vec<u8>, SdkError> {
        let body = request
            .to_der()
            .map_err(|e| SdkError::InvalidInput(e.to_string()))?;
        self.send_bytes("/v1/tsa", "application/timestamp-query", body)
            .await
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

/// The level a co-signed signature is brought to after the co-signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LongTermLevel {
    /// PAdES B-LT: a DSS with the certificates and OCSP responses of every path.
    LongTerm,
    /// PAdES B-LTA: B-LT and a document time-stamp over it all.
    Archive,
}

/// Certificates, with their issuers, whose revocation status a DSS must carry.
#[derive(Default)]
struct Needs {
    /// Every certificate of every path (each once; add_dss also de-duplicates).
    certificates: Vec<Vec<u8>>,
    /// The certificates to ask OCSP responses for, each once.
    revocation: Vec<Vec<u8>>,
}

impl Needs {
    fn of(paths: &[inkseal_pdf::ltv::CertificatePath]) -> Self {
        let mut needs = Needs::default();
        for path in paths {
            needs.certificates.extend(path.certificates.iter().cloned());
            for (cert, _) in path.revocation_pairs() {
                needs.add_revocation(cert);
            }
        }
        needs
    }

    fn add_revocation(&mut self, cert: &[u8]) {
        if !self.revocation.iter().any(|c| c == cert) {
            self.revocation.push(cert.to_vec());
        }
    }
}

impl CosignClient {
    /// Co-sign a prepared, time-stamped signature and bring it to B-LT or B-LTA with the
    /// server's TSA and OCSP responder: the co-signature, then one round trip
    /// (`/v1/revocation` with the time-stamp request inside) for the signature time-stamp and
    /// the OCSP responses of every path (earlier signatures', this signer's and the TSA's),
    /// then for B-LTA one more for the document time-stamp. Returns the bytes to append to
    /// `input`, the document the signature was prepared from.
    pub async fn sign_prepared_pdf_long_term(
        &self,
        pin: &Pin,
        prepared: &PreparedPdf,
        input: &[u8],
        evidence_head: Option<[u8; 32]>,
        level: LongTermLevel,
    ) -> Result<Vec<u8>, SdkError> {
        if !prepared.prepared.time_stamped() {
            return Err(SdkError::InvalidInput(
                "long-term validation needs a time-stamped signature (SignOptions::time_stamped)"
                    .into(),
            ));
        }
        if !prepared.prepared.prepared_for_length(input.len()) {
            return Err(SdkError::InvalidInput(
                "the input is not the document this signature was prepared from".into(),
            ));
        }
        let limits = inkseal_pdf::Limits::default();
        let ca = self.key_ca(&prepared.key_id)?;
        let anchors = std::slice::from_ref(&ca);
        let certificate = self
            .certificate(&prepared.key_id)?
            .ok_or_else(|| SdkError::InvalidInput("the key has no certificate yet".into()))?;
        // Before any round trip: the earlier signatures' paths must lead to the key's CA.
        let mut needs = Needs::of(&validation_needs(input, anchors, &limits).map_err(pdf_error)?);
        needs.add_revocation(&certificate);

        let step = self
            .co_sign_for_time_stamp(pin, prepared, evidence_head)
            .await?;
        let (reply, ocsp_responses) = self
            .fetch_time_stamp_with_revocation_data(&needs.revocation, step.request())
            .await?;
        let tail = step.finish(&reply).map_err(pdf_error)?;
        let signed = [input, tail.as_slice()].concat();
        let after = Needs::of(&validation_needs(&signed, anchors, &limits).map_err(pdf_error)?);
        let data = ValidationData {
            certificates: after.certificates,
            ocsp_responses,
            crls: Vec::new(),
        };
        let long_term = self
            .finish_long_term(&signed, &data, level, SignatureAlgorithm::Sm2Sm3)
            .await?;
        Ok([tail, long_term].concat())
    }

    /// Make a signed PDF long-term verifiable (PAdES B-LT, and B-LTA when `archive`): the
    /// server's OCSP responses for every certificate on the signatures' and time-stamps' paths
    /// to the key's CA (one round trip, `/v1/revocation`), written with the certificates into
    /// the DSS; then, for B-LTA, a document time-stamp from the server's TSA over it all (one
    /// more). Returns the bytes to append to `signed_pdf`. The document must carry at least
    /// one signature whose path leads to the key's CA.
    pub async fn add_long_term_validation(
        &self,
        key_id: &str,
        signed_pdf: &[u8],
        archive: bool,
    ) -> Result<Vec<u8>, SdkError> {
        let ca = self.key_ca(key_id)?;
        let level = if archive {
            LongTermLevel::Archive
        } else {
            LongTermLevel::LongTerm
        };
        self.add_long_term_validation_under(
            std::slice::from_ref(&ca),
            signed_pdf,
            level,
            SignatureAlgorithm::Sm2Sm3,
        )
        .await
    }

    /// [`Self::add_long_term_validation`] for every signature of `signed_pdf` that chains to
    /// one of `roots` (e.g. all of the server's roots, `GET /v1/ca`: a document with SM2
    /// co-signatures and a P-256 institution seal), with the document time-stamp for B-LTA
    /// over a `time_stamp_suite` imprint (P-256 for a document that validators without SM2
    /// must check).
    pub async fn add_long_term_validation_under(
        &self,
        roots: &[Vec<u8>],
        signed_pdf: &[u8],
        level: LongTermLevel,
        time_stamp_suite: SignatureAlgorithm,
    ) -> Result<Vec<u8>, SdkError> {
        let limits = inkseal_pdf::Limits::default();
        let needs = Needs::of(&validation_needs(signed_pdf, roots, &limits).map_err(pdf_error)?);
        if needs.revocation.is_empty() {
            return Err(SdkError::BadDocument(
                "the document has no signature to gather long-term data for".into(),
            ));
        }
        let data = ValidationData {
            ocsp_responses: self.fetch_revocation_data(&needs.revocation).await?,
            certificates: needs.certificates,
            crls: Vec::new(),
        };
        self.finish_long_term(signed_pdf, &data, level, time_stamp_suite)
            .await
    }

    /// The certificate (DER) of the CA that issued the key's certificate.
    fn key_ca(&self, key_id: &str) -> Result<Vec<u8>, SdkError> {
        self.stored(key_id)?.ca_certificate.clone().ok_or_else(|| {
            SdkError::InvalidInput("the key has no certificate on this device yet".into())
        })
    }

    /// The DSS update with `data`, and for B-LTA a document time-stamp from the server's TSA
    /// over it (one round trip): the bytes to append to `signed_pdf`.
    async fn finish_long_term(
        &self,
        signed_pdf: &[u8],
        data: &ValidationData,
        level: LongTermLevel,
        time_stamp_suite: SignatureAlgorithm,
    ) -> Result<Vec<u8>, SdkError> {
        let limits = inkseal_pdf::Limits::default();
        let dss = add_dss(signed_pdf, data, &limits).map_err(pdf_error)?;
        if level == LongTermLevel::LongTerm {
            return Ok(dss);
        }
        let with_dss = [signed_pdf, dss.as_slice()].concat();
        let prepared = prepare_document_time_stamp(&with_dss, time_stamp_suite, None, &limits)
            .map_err(pdf_error)?;
        let nonce: [u8; 16] = crate::client::random_bytes()?;
        let request = prepared
            .time_stamp_request(&nonce)
            .map_err(|e| SdkError::InvalidInput(e.to_string()))?;
        let token = self.fetch_time_stamp(&request).await?;
        let archive_tail = prepared.finish(&token).map_err(pdf_error)?;
        Ok([dss, archive_tail].concat())
    }

    /// The TSA's reply to `request` (a signature time-stamp, still to be checked) and the OCSP
    /// responses for `certificates` and the TSA's certificate, in one round trip.
    async fn fetch_time_stamp_with_revocation_data(
        &self,
        certificates: &[Vec<u8>],
        request: &TimeStampRequest,
    ) -> Result<(Vec<u8>, Vec<Vec<u8>>), SdkError> {
        let der = request
            .to_der()
            .map_err(|e| SdkError::InvalidInput(e.to_string()))?;
        let response = self
            .post_revocation(RevocationRequest {
                certificates_der_hex: certificates.iter().map(hex::encode).collect(),
                time_stamp_request_der_hex: Some(hex::encode(der)),
            })
            .await?;
        let reply = response
            .time_stamp_reply_der_hex
            .as_deref()
            .ok_or_else(|| {
                SdkError::ServerMisbehaved("revocation data: no time-stamp reply".into())
            })
            .and_then(|h| decode_hex(h, "the time-stamp reply"))?;
        let responses = decode_responses(&response, certificates.len() + 1)?;
        Ok((reply, responses))
    }

    /// The server's OCSP responses for `certificates` (one JSON round trip: the phone builds
    /// no OCSP request of its own); one per certificate, each a DER OCSPResponse. Whether they
    /// say good and are signed by the issuer is for the verifier to judge from the file.
    async fn fetch_revocation_data(
        &self,
        certificates: &[Vec<u8>],
    ) -> Result<Vec<Vec<u8>>, SdkError> {
        let response = self
            .post_revocation(RevocationRequest {
                certificates_der_hex: certificates.iter().map(hex::encode).collect(),
                time_stamp_request_der_hex: None,
            })
            .await?;
        decode_responses(&response, certificates.len())
    }

    async fn post_revocation(
        &self,
        request: RevocationRequest,
    ) -> Result<RevocationResponse, SdkError> {
        let body =
            serde_json::to_vec(&request).map_err(|e| SdkError::InvalidInput(e.to_string()))?;
        let answer = self
            .send_bytes("/v1/revocation", "application/json", body)
            .await?;
        serde_json::from_slice(&answer)
            .map_err(|e| SdkError::ServerMisbehaved(format!("revocation data: {e}")))
    }
}

fn check_time_stamp_reply(
    request: &TimeStampRequest,
    reply: &[u8],
) -> Result<TimeStampToken, SdkError> {
    check_reply(request, reply).map_err(time_stamp_error)
}

/// A time-stamp the server's TSA refused or got wrong.
fn time_stamp_error(e: TspError) -> SdkError {
    match e {
        TspError::Refused { .. } => SdkError::Refused(format!("time-stamping authority: {e}")),
        // The request this SDK built was refused before it left: a bug here, not the TSA's.
        TspError::InvalidInput(_) => SdkError::InvalidInput(format!("time-stamp request: {e}")),
        // A reply that fails the checks: too large, malformed, for another request or policy,
        // or signed by a certificate that may not time-stamp.
        TspError::TooLarge { .. }
        | TspError::Malformed(_)
        | TspError::UnsupportedExtension
        | TspError::Unsupported(_)
        | TspError::ImprintMismatch
        | TspError::NonceMismatch
        | TspError::PolicyMismatch
        | TspError::NotTimeStampingCertificate(_)
        | TspError::Cms(_) => SdkError::ServerMisbehaved(format!("time-stamp: {e}")),
    }
}

/// What the app should do about a PDF error, by variant: the document's own faults, and a
/// place (page, rectangle, keyword, field) this document does not have, are
/// [`SdkError::BadDocument`]; an appearance the app built wrong is [`SdkError::InvalidInput`];
/// the TSA's errors are [`time_stamp_error`]'s.
pub(crate) fn pdf_error(e: PdfError) -> SdkError {
    match e {
        PdfError::TimeStamp(tsp) => time_stamp_error(tsp),
        PdfError::Appearance(why) => SdkError::InvalidInput(format!("signature appearance: {why}")),
        // The place asked for is not in this document (the bindings document "keyword not
        // found" as BadDocument): the document cannot be signed there.
        e @ (PdfError::NoSuchPage { .. }
        | PdfError::RectOffPage { .. }
        | PdfError::KeywordNotFound(_)
        | PdfError::Field(..)) => SdkError::BadDocument(format!("signature placement: {e}")),
        e @ (PdfError::TooLarge { .. }
        | PdfError::NotPdf(_)
        | PdfError::BrokenXref(_)
        | PdfError::Syntax { .. }
        | PdfError::Malformed(_)
        | PdfError::Limit(_)
        | PdfError::PasswordRequired
        | PdfError::UnsupportedEncryption(_)
        | PdfError::BadEncryption(_)
        | PdfError::UnsupportedFilter(_)
        | PdfError::Locked
        | PdfError::CertifiedFieldsOnly { .. }
        | PdfError::ContentsTooSmall { .. }
        | PdfError::Cms(_)) => SdkError::BadDocument(e.to_string()),
        // The SDK signs through the server, not through a PDF signer callback, and works on
        // bytes, not files: either would be a fault in building this document.
        e @ (PdfError::Signer(_) | PdfError::Io(_)) => SdkError::BadDocument(e.to_string()),
    }
}

fn decode_hex(h: &str, what: &str) -> Result<Vec<u8>, SdkError> {
    hex::decode(h)
        .map_err(|_| SdkError::ServerMisbehaved(format!("revocation data: {what} is not hex")))
}

/// Exactly `expected` DER OCSP responses.
fn decode_responses(
    response: &RevocationResponse,
    expected: usize,
) -> Result<Vec<Vec<u8>>, SdkError> {
    if response.ocsp_responses_der_hex.len() != expected {
        return Err(SdkError::ServerMisbehaved(
            "revocation data: not one OCSP response per certificate".into(),
        ));
    }
    response
        .ocsp_responses_der_hex
        .iter()
        .map(|h| decode_hex(h, "an OCSP response"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An appearance the app built wrong is its input; what the document is or lacks is the
    /// document's fault; the TSA's refusal is a refusal and its bad reply the server's fault.
    #[test]
    fn pdf_errors_tell_the_app_whose_fault_it_is() {
        assert!(matches!(
            pdf_error(PdfError::Appearance("unreadable image".into())),
            SdkError::InvalidInput(_)
        ));
        for e in [
            PdfError::NoSuchPage { page: 9, count: 2 },
            PdfError::KeywordNotFound("甲方".into()),
            PdfError::Field("sig1".into(), "already signed".into()),
            PdfError::NotPdf("no header".into()),
            PdfError::PasswordRequired,
            PdfError::Locked,
        ] {
            assert!(
                matches!(pdf_error(e.clone()), SdkError::BadDocument(_)),
                "{e:?}"
            );
        }
        assert!(matches!(
            pdf_error(PdfError::TimeStamp(TspError::ImprintMismatch)),
            SdkError::ServerMisbehaved(_)
        ));
        assert!(matches!(
            pdf_error(PdfError::TimeStamp(TspError::Refused {
                status: inkseal_pdf::tsp::PkiStatus::Rejection,
                fail_info: Vec::new(),
                text: "policy".into(),
            })),
            SdkError::Refused(_)
        ));
    }
}
