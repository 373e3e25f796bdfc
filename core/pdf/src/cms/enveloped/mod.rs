//! CMS EnvelopedData (digital envelopes): SM2 key transport with SM4-CBC per GB/T 35275, and
//! ECDH key agreement (RFC 5753) with AES for P-256 recipients.
//!
//! Reading and content decryption are in every build, the mobile library included, because the
//! phone opens envelopes addressed to its split SM2 key:
//!
//! 1. [`parse_envelope`] reads the DER (or BER) ContentInfo, strictly and size-limited, into a
//!    [`ParsedEnvelope`] with typed recipients ([`Recipient`]);
//! 2. the content-encryption key (CEK) is recovered from the recipient meant for the key:
//!    [`ParsedEnvelope::sm2_recipient_for`] gives the [`Sm2Ciphertext`] (C1, C3, C2) of the SM2
//!    key-transport recipient for a certificate; whoever computes `d·C1` (one local key:
//!    [`Sm2Ciphertext::decrypt`]; two parties each applying a share: their own protocol) hands
//!    the point to [`Sm2Ciphertext::finish`] (or [`Sm2Ciphertext::finish_with_point`]), which
//!    derives the key stream with the SM3 KDF, checks C3 in constant time and only then
//!    releases the CEK;
//! 3. [`ParsedEnvelope::decrypt_content`] decrypts the content (SM4-CBC, AES-128-CBC or
//!    AES-256-CBC), checks the PKCS#7 padding and releases the whole plaintext or nothing.
//!
//! [`ParsedEnvelope::open_with_sm2_key`] does 2 and 3 with a local SM2 key. With a split key:
//!
//! ```ignore
//! let envelope = parse_envelope(&bytes)?; // EnvelopeError if hostile
//! let ciphertext = envelope.sm2_recipient_for(&encryption_cert_der)?.ciphertext();
//! // ciphertext.c1() goes to the two-party protocol, which returns d·C1 (checked there)
//! let cek = ciphertext.finish_with_point(&d_times_c1)?; // C3 checked, else no key
//! let plaintext = envelope.decrypt_content(&cek)?; // padding checked, else nothing
//! ```
//!
//! Signed-then-enveloped content (content type signedData) is checked with
//! [`verify_signed_content`] before its content is used.
//!
//! With the `envelopes` feature (server and CLI, not the phone): opening P-256 key-agreement
//! recipients with a local key ([`ParsedEnvelope::open_with_p256_key`]: ECDH, the ANSI X9.63
//! KDF over ECC-CMS-SharedInfo with SHA-1, SHA-256, SHA-384 or SHA-512, AES key unwrap per
//! RFC 3394) and sealing ([`seal`]).
//!
//! Invariants: no plaintext (CEK or content) leaves this module before its integrity check
//! passed (C3 for SM2, the RFC 3394 check value for AES key wrap, the PKCS#7 padding for the
//! content); secrets are held in [`zeroize::Zeroizing`] buffers; CEKs, KEKs and shared secrets
//! are wiped when dropped. CBC content is not authenticated (EnvelopedData has no MAC): a
//! correct padding does not prove that the content was not altered; sign before enveloping
//! (signed-then-enveloped) when that matters. The `sm4` crate's S-box is a table lookup, not
//! constant-time against cache-timing attacks by code on the same machine.

mod content;
mod error;
mod open;
#[cfg(feature = "envelopes")]
mod p256_kari;
mod parse;
#[cfg(feature = "envelopes")]
mod seal;
mod signed;
mod sm2_ktri;

pub use content::ContentCipher;
pub use error::EnvelopeError;
pub use open::{EnvelopeKey, OpenedEnvelope, P256KeyAgreement};
pub use parse::{
    KdfDigest, KeyWrap, MAX_ENVELOPE_BYTES, MAX_RECIPIENTS, OidProfile, P256KeyAgreeRecipient,
    ParsedEnvelope, Recipient, RecipientId, Sm2KeyTransRecipient, parse_envelope,
};
#[cfg(feature = "envelopes")]
pub use seal::{SealOptions, seal};
pub use signed::{
    SignedContentError, VerifiedSignedContent, is_signed_content, signed_content_info,
    signed_data_of, verify_signed_content,
};
pub use sm2_ktri::{MAX_SM2_PLAINTEXT, Sm2Ciphertext};

use const_oid::ObjectIdentifier;

/// RFC 5652 id-envelopedData.
pub const ID_ENVELOPED_DATA: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.3");
/// GB/T 35275 envelopedData.
pub const GM_ENVELOPED_DATA: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.156.10197.6.1.4.2.3");
/// GB/T 35275 data.
pub const GM_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.156.10197.6.1.4.2.1");
/// GB/T 35275 signedData.
pub const GM_SIGNED_DATA: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.156.10197.6.1.4.2.2");
/// SM2 public-key encryption (sm2-3), the SM2 key-transport algorithm GB/T 35275 names.
pub const SM2_ENCRYPTION: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.156.10197.1.301.3");
/// BouncyCastle's sm2encrypt_with_sm3, accepted on input as [`SM2_ENCRYPTION`].
pub const SM2_ENCRYPTION_WITH_SM3: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.156.10197.1.301.3.2.1");
/// SM4 in CBC mode.
pub const SM4_CBC: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.156.10197.1.104.2");
/// AES-128 in CBC mode.
pub const AES128_CBC: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.1.2");
/// AES-256 in CBC mode.
pub const AES256_CBC: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.1.42");
/// AES-128 key wrap (RFC 3394).
pub const ID_AES128_WRAP: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.1.5");
/// AES-256 key wrap (RFC 3394).
pub const ID_AES256_WRAP: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.1.45");
/// dhSinglePass-stdDH-sha1kdf-scheme (RFC 5753; OpenSSL's default). Accepted on input only.
pub const ECDH_SHA1_KDF: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.133.16.840.63.0.2");
/// dhSinglePass-stdDH-sha256kdf-scheme (RFC 5753), written by [`seal`].
pub const ECDH_SHA256_KDF: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.1.11.1");
/// dhSinglePass-stdDH-sha384kdf-scheme (RFC 5753). Accepted on input.
pub const ECDH_SHA384_KDF: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.1.11.2");
/// dhSinglePass-stdDH-sha512kdf-scheme (RFC 5753). Accepted on input.
pub const ECDH_SHA512_KDF: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.1.11.3");
