//! The CMS error type.

use thiserror::Error;

/// Why building, parsing or verifying a CMS SignedData (or a certificate chain) failed.
///
/// Messages name what was wrong; they never contain key material.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CmsError {
    /// The input is larger than the limit this module accepts.
    #[error("input of {size} bytes exceeds the limit of {limit} bytes")]
    TooLarge {
        /// Size of the input in bytes.
        size: usize,
        /// The limit in bytes.
        limit: usize,
    },
    /// The input is not the DER structure expected (or not canonical where it must be).
    #[error("malformed CMS: {0}")]
    Malformed(String),
    /// An algorithm, key type, curve or structure this module does not handle.
    #[error("unsupported: {0}")]
    Unsupported(String),
    /// A well-formed signature made with an algorithm this verifier cannot check (RSA,
    /// ECDSA on P-384, Ed25519, SHA-384...): neither valid nor invalid here. Raised by
    /// [`crate::cms::parse`] for an unknown digest, and by verification for an unknown key only
    /// after the content digest was found to match the message-digest attribute.
    #[error("cannot check: {0}")]
    CannotCheck(String),
    /// A well-formed signature made with a weak algorithm (SHA-1, RSA under 2048 bits): it
    /// proves nothing and is never reported valid, whether or not it verifies.
    #[error("weak algorithm, not accepted: {0}")]
    WeakAlgorithm(String),
    /// The algorithms named in the structure do not fit together or do not fit the key.
    #[error("algorithm mismatch: {0}")]
    AlgorithmMismatch(String),
    /// A caller-supplied argument is invalid (empty chain, wrong digest length, ...).
    #[error("invalid input: {0}")]
    InvalidInput(String),
    /// The SignedData does not contain exactly one SignerInfo.
    #[error("expected exactly one SignerInfo, found {0}")]
    SignerInfoCount(usize),
    /// A mandatory signed attribute is absent.
    #[error("signed attribute {0} is missing")]
    MissingAttribute(&'static str),
    /// The content-type attribute (or the encapsulated content type) is not the one expected
    /// (id-data for a PAdES signature, id-ct-TSTInfo for a time-stamp token).
    #[error("content type is {0}, not the expected one")]
    ContentTypeMismatch(String),
    /// The message-digest attribute is not the digest of the signed content.
    #[error("the message-digest attribute does not match the digest of the signed content")]
    DigestMismatch,
    /// The signature over the signed attributes does not verify under the signer's key.
    #[error("the signature does not verify under the signer certificate's key")]
    BadSignature,
    /// No certificate in the SignedData matches the SignerInfo's signer identifier.
    #[error("the signer's certificate is not among the certificates in the SignedData")]
    SignerCertificateMissing,
    /// The signing-certificate-v2 attribute names a different certificate than the signer's.
    #[error("the signing-certificate-v2 attribute does not identify the signer certificate")]
    SigningCertificateMismatch,
    /// The signer certificate's keyUsage allows neither digitalSignature nor nonRepudiation.
    #[error("the signer certificate's keyUsage does not permit signing")]
    KeyUsage,
    /// A certificate's signature does not verify under its issuer's key.
    #[error("the signature on certificate \"{0}\" does not verify under its issuer's key")]
    CertificateSignature(String),
    /// No path from the certificate to one of the trust anchors could be built.
    #[error("no trusted certificate path: {0}")]
    UntrustedChain(String),
    /// An issuer certificate is not allowed to issue certificates (basicConstraints, keyUsage,
    /// pathLenConstraint).
    #[error("certificate \"{0}\" is not allowed to act as a CA")]
    NotCa(String),
    /// A certificate in the path has expired at the time checked.
    #[error("certificate \"{0}\" has expired")]
    CertificateExpired(String),
    /// A certificate in the path is not yet valid at the time checked.
    #[error("certificate \"{0}\" is not yet valid")]
    CertificateNotYetValid(String),
    /// DER encoding of a structure built here failed.
    #[error("encoding failed: {0}")]
    Encoding(String),
}

/// Map a decoding error to [`CmsError::Malformed`] with context.
pub(crate) fn malformed(what: &'static str) -> impl FnOnce(der::Error) -> CmsError {
    move |e| CmsError::Malformed(format!("{what}: {e}"))
}

/// Map an encoding error to [`CmsError::Encoding`] with context.
pub(crate) fn encoding(what: &'static str) -> impl FnOnce(der::Error) -> CmsError {
    move |e| CmsError::Encoding(format!("{what}: {e}"))
}
