//! The crate's error type.

/// Why building or checking a CSR or certificate failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PkiError {
    /// The input is larger than the limit (in bytes) this crate accepts.
    #[error("input too large (limit {0} bytes)")]
    TooLarge(usize),
    /// The input is not the DER structure expected (or not canonical DER).
    #[error("malformed: {0}")]
    Malformed(String),
    /// A signature or key algorithm other than SM2 / SM2-with-SM3 was found.
    #[error("unsupported algorithm: {0}")]
    UnsupportedAlgorithm(String),
    /// The signature does not verify.
    #[error("signature does not verify")]
    BadSignature,
    /// The certificate's key is not the expected key (or the CA certificate is not for the CA key).
    #[error("the certificate's public key is not the expected key")]
    KeyMismatch,
    /// The certificate's issuer name is not the issuer certificate's subject name.
    #[error("the certificate's issuer is not the given issuer certificate's subject")]
    IssuerMismatch,
    /// The issuer certificate is not allowed to issue certificates.
    #[error("the issuer certificate is not a CA certificate")]
    NotCa,
    /// The certificate's notAfter is in the past.
    #[error("certificate expired")]
    Expired,
    /// The certificate's notBefore is in the future.
    #[error("certificate not yet valid")]
    NotYetValid,
    /// A caller-supplied parameter is out of range (empty name, zero validity, zero serial, ...).
    #[error("invalid input: {0}")]
    InvalidInput(String),
    /// A private key could not be decoded or encoded, or the random generator failed.
    #[error("key error: {0}")]
    Key(String),
    /// DER encoding of a structure we built failed.
    #[error("encoding failed: {0}")]
    Encoding(String),
}

/// Map a decoding error to [`PkiError::Malformed`] with context.
pub(crate) fn malformed(what: &'static str) -> impl FnOnce(der::Error) -> PkiError {
    move |e| PkiError::Malformed(format!("{what}: {e}"))
}

/// Map an encoding error to [`PkiError::Encoding`] with context.
pub(crate) fn encoding(what: &'static str) -> impl FnOnce(der::Error) -> PkiError {
    move |e| PkiError::Encoding(format!("{what}: {e}"))
}
