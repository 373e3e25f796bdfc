//! Signed-then-enveloped content (the customs flow): the content of an envelope whose type is
//! signedData (RFC 5652 id-signedData or GB/T 35275 signedData) is an attached SignedData; it
//! is verified like a transaction signature (the signature over the signed attributes, the
//! eContent's message-digest, the signing-time, the certificate path), and only then is its
//! eContent handed out.

use super::GM_SIGNED_DATA;
use super::error::EnvelopeError;
use crate::cms::attached::{AttachedFailure, verify_attached};
use crate::cms::{CmsError, ID_SIGNED_DATA, SignatureAlgorithm};
use cms::content_info::ContentInfo;
use const_oid::ObjectIdentifier;
use der::asn1::Any;
use der::{Decode, Encode};
use thiserror::Error;
use zeroize::Zeroizing;

/// Whether an envelope's content type says its content is a SignedData.
pub fn is_signed_content(content_type: &ObjectIdentifier) -> bool {
    *content_type == ID_SIGNED_DATA || *content_type == GM_SIGNED_DATA
}

/// The DER ContentInfo of a signed content: what [`crate::cms::enveloped::seal`] is given as
/// content (with content type id-signedData) is the SignedData itself, without the ContentInfo
/// around it (RFC 5652 section 6.1). [`signed_data_of`] takes that SignedData out of a
/// ContentInfo.
pub fn signed_data_of(content_info_der: &[u8]) -> Result<Vec<u8>, EnvelopeError> {
    let info = ContentInfo::from_der(content_info_der)
        .map_err(|e| EnvelopeError::InvalidInput(format!("SignedData ContentInfo: {e}")))?;
    if !is_signed_content(&info.content_type) {
        return Err(EnvelopeError::InvalidInput(format!(
            "content type {} is not signedData",
            info.content_type
        )));
    }
    info.content
        .to_der()
        .map_err(|e| EnvelopeError::Encoding(e.to_string()))
}

/// A SignedData (an opened envelope's signed content) in its ContentInfo (DER), as
/// `openssl cms -verify` and [`crate::cms::parse`] read it.
pub fn signed_content_info(signed_data_der: &[u8]) -> Result<Vec<u8>, EnvelopeError> {
    ContentInfo {
        content_type: ID_SIGNED_DATA,
        content: Any::from_der(signed_data_der)
            .map_err(|e| EnvelopeError::Malformed(format!("SignedData: {e}")))?,
    }
    .to_der()
    .map_err(|e| EnvelopeError::Encoding(e.to_string()))
}

/// A signed content that verified, and what it says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedSignedContent {
    /// The signed content (the eContent), in a buffer wiped when dropped.
    pub content: Zeroizing<Vec<u8>>,
    /// The signer certificate's subject (RFC 4514).
    pub signer: String,
    /// The signing-time attribute, Unix seconds (the signer's claim).
    pub signing_time_unix: u64,
    /// The signature suite.
    pub algorithm: SignatureAlgorithm,
    /// The certificate path, signer first and trust anchor last.
    pub chain: Vec<Vec<u8>>,
}

/// Why a signed content does not verify.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SignedContentError {
    /// The SignedData is malformed or its signature does not hold.
    #[error("signature: {0}")]
    Signature(CmsError),
    /// No trusted path leads from the signer to the trust anchors, or a certificate on it is
    /// not valid at the time checked.
    #[error("signer not trusted: {0}")]
    Untrusted(CmsError),
    /// The signing-time attribute is missing or unreadable.
    #[error("signing-time: {0}")]
    SigningTime(String),
}

/// Verify the SignedData `signed_data_der` (an opened envelope's content, without its
/// ContentInfo) against `trust_anchors` at `at_unix` and return its content.
pub fn verify_signed_content(
    signed_data_der: &[u8],
    trust_anchors: &[Vec<u8>],
    at_unix: Option<u64>,
) -> Result<VerifiedSignedContent, SignedContentError> {
    let content_info = signed_content_info(signed_data_der)
        .map_err(|e| SignedContentError::Signature(CmsError::Malformed(e.to_string())))?;
    let verified = verify_attached(&content_info, trust_anchors, at_unix, |c| {
        Ok::<_, std::convert::Infallible>(Zeroizing::new(c.to_vec()))
    })
    .map_err(|e| match e {
        AttachedFailure::Signature(e) => SignedContentError::Signature(e),
        AttachedFailure::Untrusted(e) => SignedContentError::Untrusted(e),
        AttachedFailure::SigningTime(e) => SignedContentError::SigningTime(e),
        AttachedFailure::Content(never) => match never {},
    })?;
    Ok(VerifiedSignedContent {
        content: verified.content,
        signer: verified.signer,
        signing_time_unix: verified.signing_time_unix,
        algorithm: verified.algorithm,
        chain: verified.chain,
    })
}
