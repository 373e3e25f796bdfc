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
    /// A CRL or CRL entry carries a critical extension this crate does not implement (RFC 5280
    /// section 5.2: such a CRL must not be used); the OID is given.
    #[error("unsupported critical extension {0}")]
    UnsupportedCriticalExtension(String),
    /// The CA certificate has a keyUsage extension without cRLSign.
    #[error("the CA certificate may not sign CRLs (keyUsage lacks cRLSign)")]
    NotCrlSigner,
    /// A certificate chain has more certificates than the limit given.
    #[error("certificate chain longer than {0} certificates")]
    ChainTooLong(usize),
    /// Certificate `i` of a chain (0 = leaf) is not signed by certificate `i + 1`'s key.
    #[error("certificate {0} of the chain is not signed by the next certificate's key")]
    ChainBroken(usize),
    /// The last certificate of a chain is not (and has not the key of) a trusted root.
    #[error("the certificate chain does not end at a trusted root")]
    UntrustedRoot,
    /// The leaf has no Android Key Attestation extension (1.3.6.1.4.1.11129.2.1.17).
    #[error("the leaf certificate has no Android key attestation extension")]
    MissingAttestationExtension,
    /// A certificate other than the leaf (index given) carries the Android Key Attestation
    /// extension: an attested key was used to issue the leaf, so the leaf's claims are forged.
    #[error(
        "certificate {0} of the chain carries the key attestation extension; only the leaf may"
    )]
    AttestationExtensionNotInLeaf(usize),
    /// An OCSP response's status is not successful.
    #[error("the OCSP responder answered {0:?}")]
    OcspStatus(crate::OcspResponseStatus),
    /// The attestation challenge in the leaf is not the expected challenge.
    #[error("the attestation challenge is not the expected challenge")]
    ChallengeMismatch,
}

/// Map a decoding error to [`PkiError::Malformed`] with context.
pub(crate) fn malformed(what: &'static str) -> impl FnOnce(der::Error) -> PkiError {
    move |e| PkiError::Malformed(format!("{what}: {e}"))
}

/// Map an encoding error to [`PkiError::Encoding`] with context.
pub(crate) fn encoding(what: &'static str) -> impl FnOnce(der::Error) -> PkiError {
    move |e| PkiError::Encoding(format!("{what}: {e}"))
}
