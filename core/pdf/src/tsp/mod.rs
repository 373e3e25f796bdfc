//! RFC 3161 time-stamping: requests, replies and tokens, sans-IO, for SM2 and P-256 alike.
//!
//! * Client: [`TimeStampRequest::new`] builds a request for a digest (SM3 or SHA-256) with a
//!   caller-drawn nonce (randomness comes from the caller, so tests are deterministic); the
//!   transport is the caller's; [`check_reply`] checks the reply's status, the token's
//!   signature, its TSA certificate's extended key usage, the imprint and the nonce, and gives
//!   the [`TimeStampToken`]. Any RFC 3161 TSA whose token is DER and signed SM2-with-SM3 or
//!   ECDSA P-256 with SHA-256 works.
//! * Verifier: [`TimeStampToken::parse`] does the same checks on a token found in a PDF (a
//!   signature time-stamp unsigned attribute, or a document time-stamp); chaining the TSA
//!   certificate to a trust anchor is the caller's ([`crate::cms::verify_chain`]).
//! * TSA: [`TimeStampRequest::parse`] reads a request, [`issue_token`] builds and signs the
//!   token through a caller-supplied signer (the key stays in the vault), and
//!   [`granted_reply`] / [`rejection_reply`] wrap the answer.
//!
//! Every parser here takes outside bytes: each has a size limit ([`MAX_REQUEST_BYTES`],
//! [`MAX_REPLY_BYTES`], [`crate::cms::MAX_CMS_BYTES`]) and accepts strict DER only.

mod asn1;
mod reply;
mod request;
mod token;

pub use reply::{
    FailureInfo, MAX_REPLY_BYTES, PkiStatus, check_reply, granted_reply, rejection_reply,
};
pub use request::{MAX_REQUEST_BYTES, TimeStampRequest};
pub use token::{IssueParams, TimeStampToken, issue_token};

use crate::cms::CmsError;
use const_oid::ObjectIdentifier;

/// id-ct-TSTInfo (RFC 3161): the content type of a time-stamp token's SignedData.
pub const ID_CT_TST_INFO: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.1.4");
/// id-aa-signatureTimeStampToken (RFC 3161 appendix A): the unsigned attribute that carries a
/// time-stamp over a SignerInfo's signature value (PAdES B-T).
pub const ID_AA_SIGNATURE_TIME_STAMP_TOKEN: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.2.14");
/// id-kp-timeStamping (RFC 5280): the only extended key usage a TSA certificate may carry.
pub const ID_KP_TIME_STAMPING: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.8");

/// Why a time-stamp request, reply or token was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TspError {
    /// The input is larger than the limit.
    #[error("input of {size} bytes exceeds the limit of {limit} bytes")]
    TooLarge {
        /// Size of the input in bytes.
        size: usize,
        /// The limit in bytes.
        limit: usize,
    },
    /// The input is not the DER structure RFC 3161 defines (or not strict DER).
    #[error("malformed time-stamp data: {0}")]
    Malformed(String),
    /// The request carries extensions; this TSA accepts none (answered unacceptedExtension).
    #[error("unsupported: request extensions (none is supported)")]
    UnsupportedExtension,
    /// A hash algorithm or version this implementation does not handle.
    #[error("unsupported: {0}")]
    Unsupported(String),
    /// The TSA answered with a status other than granted.
    #[error("the time-stamping authority refused: {status:?} {fail_info:?} {text}")]
    Refused {
        /// The PKIStatus.
        status: PkiStatus,
        /// The PKIFailureInfo bits set, if any.
        fail_info: Vec<FailureInfo>,
        /// The TSA's free text (may be empty).
        text: String,
    },
    /// The token's message imprint is not the one requested (or not the expected digest).
    #[error("the time-stamp covers other data than the data expected")]
    ImprintMismatch,
    /// The token's nonce is not the request's.
    #[error("the time-stamp reply's nonce is not the request's")]
    NonceMismatch,
    /// The token's policy is not the one requested.
    #[error("the time-stamp was issued under another policy than the one requested")]
    PolicyMismatch,
    /// The token's signer certificate is not a time-stamping certificate (RFC 3161 2.3: a
    /// critical extendedKeyUsage with id-kp-timeStamping only).
    #[error("the time-stamp's signer certificate is not a time-stamping certificate: {0}")]
    NotTimeStampingCertificate(String),
    /// The token's CMS SignedData does not verify.
    #[error("the time-stamp token does not verify: {0}")]
    Cms(#[from] CmsError),
    /// A caller-supplied argument is invalid.
    #[error("invalid input: {0}")]
    InvalidInput(String),
}

fn malformed(what: &'static str) -> impl FnOnce(der::Error) -> TspError {
    move |e| TspError::Malformed(format!("{what}: {e}"))
}

fn encoding(what: &'static str) -> impl FnOnce(der::Error) -> TspError {
    move |e| TspError::InvalidInput(format!("cannot encode {what}: {e}"))
}
