//! The biometric record: format, encryption to the institution, decryption and parsing.
//!
//! The customer's raw handwriting (points with position, time, pressure and tilt) is biometric
//! evidence. It is serialised with [`format::encode`] into a compact, strictly bounded binary
//! format modelled on ISO/IEC 19794-7, sealed to the institution's public key with
//! [`encrypt::seal_for_institution`], and the SHA-256 of the sealed envelope
//! ([`encrypt::record_digest`]) is what gets bound into the PDF signature.

pub mod encrypt;
pub mod format;

pub use encrypt::{
    InstitutionKey, InstitutionSecret, Scheme, open, record_digest, seal_for_institution,
};
pub use format::{BiometricRecord, RecordPoint, decode, encode};

/// Everything that can go wrong while encoding, decoding, sealing or opening a record.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RecordError {
    /// The input is larger than the format allows.
    #[error("input too large: {len} bytes (maximum {max})")]
    TooLarge {
        /// The size of the input in bytes.
        len: usize,
        /// The maximum allowed size in bytes.
        max: usize,
    },
    /// The input ended before a complete structure was read.
    #[error("input truncated")]
    Truncated,
    /// Bytes remain after a complete structure was read.
    #[error("{0} trailing bytes after the record")]
    TrailingBytes(usize),
    /// The magic bytes at the start are wrong.
    #[error("bad magic bytes")]
    BadMagic,
    /// The format or envelope version is not supported.
    #[error("unsupported version {0}")]
    UnsupportedVersion(u16),
    /// The channel bitmask is invalid (a mandatory channel is missing or an unknown bit is set).
    #[error("invalid channel mask {0:#04x}")]
    BadChannels(u8),
    /// Some points carry an optional channel (tilt or azimuth) and others do not.
    #[error("optional channel {0} present on some points but not on others")]
    InconsistentChannels(&'static str),
    /// A count or length exceeds its limit.
    #[error("limit exceeded: {what} is {value} (maximum {max})")]
    LimitExceeded {
        /// What was counted.
        what: &'static str,
        /// The value found.
        value: u64,
        /// The maximum allowed.
        max: u64,
    },
    /// A stroke has no points.
    #[error("stroke {0} is empty")]
    EmptyStroke(usize),
    /// A sample value is NaN or infinite.
    #[error("non-finite value in stroke {stroke}, point {point}")]
    NonFinite {
        /// Index of the stroke.
        stroke: usize,
        /// Index of the point inside the stroke.
        point: usize,
    },
    /// The device string is not valid UTF-8.
    #[error("device string is not valid UTF-8")]
    InvalidDevice,
    /// The envelope names an encryption scheme this version does not know.
    #[error("unknown encryption scheme {0}")]
    UnknownScheme(u8),
    /// The envelope's scheme does not match the secret key used to open it.
    #[error("envelope scheme {envelope:?} does not match the key's scheme {key:?}")]
    SchemeMismatch {
        /// The scheme named in the envelope.
        envelope: Scheme,
        /// The scheme of the secret key.
        key: Scheme,
    },
    /// A key could not be parsed.
    #[error("invalid key: {0}")]
    InvalidKey(&'static str),
    /// Encryption failed (random number generator or cipher failure).
    #[error("encryption failed: {0}")]
    Encryption(&'static str),
    /// The envelope could not be opened: wrong key, or the envelope was altered.
    ///
    /// Deliberately carries no detail, so it cannot serve as an oracle.
    #[error("the sealed record could not be opened (wrong key or tampered envelope)")]
    OpenFailed,
}
