use thiserror::Error;

/// Everything that can go wrong in the two-party protocol.
///
/// Variants name *what* was wrong, never secret values.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CosignError {
    /// A point was not a valid SM2 curve point, or was the identity where that is not allowed.
    #[error("invalid curve point in field `{0}`")]
    InvalidPoint(&'static str),
    /// A scalar was not canonical (>= n), or zero where zero is not allowed.
    #[error("invalid scalar in field `{0}`")]
    InvalidScalar(&'static str),
    /// A field had the wrong length or was not hex.
    #[error("malformed field `{0}`")]
    Malformed(&'static str),
    /// A Schnorr proof of knowledge did not verify.
    #[error("proof of knowledge for `{0}` does not verify")]
    ProofInvalid(&'static str),
    /// The server's public key contribution does not give the joint key it claimed.
    #[error("the server's key contribution does not match the joint public key it returned")]
    JointKeyMismatch,
    /// The joint public key is the point at infinity (a degenerate share).
    #[error("degenerate joint key")]
    DegenerateKey,
    /// The assembled signature did not verify against the joint key: the server misbehaved or
    /// the response belongs to another session. The signature is not released.
    #[error("co-signed signature does not verify; the server response was rejected")]
    SignatureCheckFailed,
    /// s came out as zero (probability ~2^-256); start a new signing session.
    #[error("degenerate signature value; retry with a new session")]
    Degenerate,
    /// The message is bigger than [`crate::MAX_MESSAGE_BYTES`].
    #[error("message of {0} bytes exceeds the limit")]
    TooLarge(usize),
    /// The message could not be decoded.
    #[error("cannot decode message: {0}")]
    Decode(String),
    /// The message carries a protocol version this build does not speak.
    #[error("unsupported protocol version {0}")]
    UnsupportedVersion(u32),
    /// The message names a curve this build does not support.
    #[error("unsupported curve")]
    UnsupportedCurve,
    /// The operating system's random number generator failed.
    #[error("random number generator failure")]
    Rng,
}
