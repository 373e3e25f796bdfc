//! The crate's error types.

/// Why signing, parsing or verifying a device-signed request failed.
///
/// Messages name the header and what is wrong, never echo more of the received value than a
/// short, character-checked token, so they are safe to log and to return to the client.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HttpSigError {
    /// A required header is absent (the header name).
    #[error("missing {0} header")]
    Missing(&'static str),
    /// A header value is longer than its limit; checked before parsing.
    #[error("{header} header too large: {len} bytes (limit {max})")]
    TooLarge {
        /// The header's name.
        header: &'static str,
        /// The received length in bytes.
        len: usize,
        /// The limit in bytes.
        max: usize,
    },
    /// A header, parameter or signature is not in the accepted form.
    #[error("malformed: {0}")]
    Malformed(String),
    /// `alg` names another algorithm than `ecdsa-p256-sha256`.
    #[error("unsupported signature algorithm: {0}")]
    UnsupportedAlgorithm(String),
    /// The method or path cannot be signed (lower-case method, query, not an absolute path, ...).
    #[error("invalid request target: {0}")]
    InvalidTarget(String),
    /// A device public key is not a valid P-256 key in the expected encoding.
    #[error("invalid device public key: {0}")]
    InvalidKey(String),
    /// The body's SHA-256 is not the one in `Content-Digest`.
    #[error("Content-Digest does not match the body")]
    DigestMismatch,
    /// The signature does not verify under the device key.
    #[error("signature does not verify")]
    BadSignature,
    /// The signer (key store) failed or returned an unusable signature.
    #[error("signer failed: {0}")]
    Signer(String),
}

/// A [`crate::RequestSigner`] failure: the key store refused, the key is gone, or it returned a
/// signature that is not a P-256 ECDSA signature.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct SignerError {
    message: String,
}

impl SignerError {
    /// A signer error with a message (no secrets in it: it ends up in [`HttpSigError::Signer`]).
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
        }
    }

    /// The message.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl From<SignerError> for HttpSigError {
    fn from(e: SignerError) -> Self {
        HttpSigError::Signer(e.message)
    }
}
