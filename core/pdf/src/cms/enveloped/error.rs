//! The envelope error type.

use thiserror::Error;

/// Why reading, opening or sealing a digital envelope failed. Each variant says what to do;
/// none carries key material or plaintext.
///
/// Not `#[non_exhaustive]`: the SDK, the server and the CLI map every variant to their own
/// error by name, so a new variant is a compile error there rather than a silent catch-all.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum EnvelopeError {
    /// The input is larger than this reader accepts. Refuse it; it is not an envelope this
    /// product made or opens.
    #[error("envelope of {size} bytes exceeds the limit of {limit} bytes")]
    TooLarge {
        /// Size of the input in bytes.
        size: usize,
        /// The limit in bytes.
        limit: usize,
    },
    /// The envelope has more recipients than this reader accepts.
    #[error("the envelope has {count} recipients, more than the limit of {limit}")]
    TooManyRecipients {
        /// Recipients found.
        count: usize,
        /// The limit.
        limit: usize,
    },
    /// The input is not a well-formed CMS EnvelopedData (or an SM2 ciphertext, or a recipient
    /// structure, is not the DER it must be). Ask the sender for the envelope again.
    #[error("malformed envelope: {0}")]
    Malformed(String),
    /// A well-formed envelope uses an algorithm or structure this module does not handle
    /// (another content cipher, RSA key transport, a password recipient...). Ask the sender to
    /// use SM2/SM4 or P-256/AES.
    #[error("unsupported: {0}")]
    Unsupported(String),
    /// None of the envelope's recipients is the given certificate or key: the envelope was not
    /// sent to it. Open it with the key it was sent to.
    #[error("the envelope is not addressed to this {0}")]
    NotARecipient(&'static str),
    /// The recipient's encrypted key did not decrypt under this private key: the SM2 C3 check
    /// or the AES key-unwrap check failed. Either the key is not the certificate's, or the
    /// encrypted key was altered. No key was released.
    #[error("the content key does not decrypt under this key (wrong key, or an altered envelope)")]
    KeyDecryptionFailed,
    /// The private key could not be used: the token (HSM) that holds it failed or refused the
    /// key agreement. Nothing about the envelope is known; retry when the token is back, and
    /// tell the token's operator.
    #[error("the private key cannot be used: {0}")]
    KeyUnavailable(String),
    /// The content did not decrypt to correctly padded plaintext under the content key (an
    /// altered ciphertext, or a wrong content key). No plaintext was released.
    #[error("the content does not decrypt (altered ciphertext or wrong content key)")]
    ContentDecryptionFailed,
    /// A recipient certificate cannot be used (unreadable, or its key is neither SM2 nor P-256).
    #[error("recipient certificate: {0}")]
    Certificate(String),
    /// A caller-supplied argument is invalid (a content key of the wrong length, no recipients).
    #[error("invalid input: {0}")]
    InvalidInput(String),
    /// DER encoding of a structure built here failed.
    #[error("encoding failed: {0}")]
    Encoding(String),
}

/// Map a decoding error to [`EnvelopeError::Malformed`] with context.
pub(crate) fn malformed(what: &'static str) -> impl FnOnce(der::Error) -> EnvelopeError {
    move |e| EnvelopeError::Malformed(format!("{what}: {e}"))
}

/// Map an encoding error to [`EnvelopeError::Encoding`] with context.
#[cfg_attr(not(feature = "envelopes"), allow(dead_code))]
pub(crate) fn encoding(what: &'static str) -> impl FnOnce(der::Error) -> EnvelopeError {
    move |e| EnvelopeError::Encoding(format!("{what}: {e}"))
}
