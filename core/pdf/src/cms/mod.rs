//! CMS SignedData for PAdES (ETSI.CAdES.detached) with SM2-with-SM3 or ECDSA P-256/SHA-256.
//!
//! Signing is two-phase, so a signer that only ever sees the to-be-signed bytes (the two-party
//! SM2 co-signing client, an HSM, a remote service) fits:
//!
//! 1. hash the PDF's /ByteRange with [`SignatureAlgorithm::digester`];
//! 2. [`signed_attributes`] gives the DER `SET OF Attribute` to be signed;
//! 3. the signer signs those bytes (it hashes them itself: SM2 with Z_A for the default signer
//!    ID "1234567812345678" and SM3, or ECDSA with SHA-256) and returns DER `SEQUENCE { r, s }`;
//! 4. [`assemble`] builds the ContentInfo DER that goes into /Contents.
//!
//! Verification: [`parse`] the /Contents bytes (hostile input: size-limited; BER, as other
//! signers write it, is first rewritten as DER by [`ber::to_der`]),
//! hash the /ByteRange with [`ParsedSignedData::digest_algorithm`], call
//! [`ParsedSignedData::verify`], then [`verify_chain`] the signer certificate to a trust
//! anchor.

mod algorithm;
mod assemble;
pub mod attached;
mod attributes;
pub mod ber;
pub(crate) mod cert;
mod chain;
pub(crate) mod der_util;
pub mod enveloped;
mod error;
pub mod login;
#[cfg(feature = "other-algorithms")]
mod other;
mod parse;
pub mod transaction;
#[cfg(test)]
mod wycheproof;

pub(crate) use algorithm::PublicKey;
pub use algorithm::{
    DigestAlgorithm, Digester, ECDSA_WITH_SHA256, ID_EC_PUBLIC_KEY, ID_SHA256, ID_SHA384,
    ID_SHA512, ID_SM3, NistCurve, OtherAlgorithm, PRIME256V1, SM2_CURVE, SM2_WITH_SM3,
    SignatureAlgorithm, VerifiedAlgorithm,
};
pub(crate) use assemble::{Content, assemble_content};
pub use assemble::{assemble, assemble_with_unsigned};
pub(crate) use attributes::signed_attributes_for;
pub use attributes::{
    ExtraAttribute, ID_AA_SIGNING_CERTIFICATE, ID_AA_SIGNING_CERTIFICATE_V2, ID_CONTENT_TYPE,
    ID_DATA, ID_MESSAGE_DIGEST, ID_SIGNED_DATA, ID_SIGNING_TIME, MAX_SIGNED_ATTRIBUTES_BYTES,
    message_digest_of_signed_attributes, signed_attributes,
};
pub use cert::MAX_CERTIFICATE_BYTES;
pub use chain::{MAX_CHAIN_LENGTH, MAX_SIGNATURE_CHECKS, verify_chain};
pub use const_oid::ObjectIdentifier;
pub use enveloped::OidProfile;
pub use error::CmsError;
#[cfg(feature = "other-algorithms")]
pub use other::MIN_RSA_BITS;
pub use parse::{CmsVerification, MAX_CMS_BYTES, ParsedSignedData, parse};
