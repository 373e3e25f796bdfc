//! Time-stamp requests: built by the client, parsed by the TSA.

use super::asn1::{MessageImprint, TimeStampReq, positive_int};
use super::{TspError, encoding, malformed};
use crate::cms::SignatureAlgorithm;
use const_oid::ObjectIdentifier;
use der::asn1::OctetString;
use der::{Decode, Encode, Tagged};
use spki::AlgorithmIdentifierOwned;

/// Largest time-stamp request (DER bytes) [`TimeStampRequest::parse`] accepts.
pub const MAX_REQUEST_BYTES: usize = 4 * 1024;

/// A time-stamp request (RFC 3161 section 2.4.1) for an SM3 or SHA-256 digest.
///
/// Fields are private: a value is either built by [`TimeStampRequest::new`] or parsed and
/// checked by [`TimeStampRequest::parse`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimeStampRequest {
    req: TimeStampReq,
    digest_suite: SignatureAlgorithm,
}

impl TimeStampRequest {
    /// A version 1 request for `digest` (made with `digest_suite`'s hash: SM3 for SM2,
    /// SHA-256 for P-256), asking for the TSA's certificate, with `nonce` (a big-endian
    /// magnitude; the caller draws it, at least 8 random bytes are advised) and, optionally, a
    /// policy.
    pub fn new(
        digest_suite: SignatureAlgorithm,
        digest: &[u8],
        nonce: Option<&[u8]>,
        policy: Option<ObjectIdentifier>,
    ) -> Result<Self, TspError> {
        if digest.len() != digest_suite.digest_len() {
            return Err(TspError::InvalidInput(format!(
                "digest is {} bytes, {} produces {}",
                digest.len(),
                digest_suite.name(),
                digest_suite.digest_len()
            )));
        }
        let nonce = match nonce {
            None => None,
            Some(n) if n.iter().all(|b| *b == 0) || n.len() > 32 => {
                return Err(TspError::InvalidInput(
                    "a nonce must be 1 to 32 bytes and not zero".into(),
                ));
            }
            Some(n) => Some(positive_int(n).map_err(encoding("nonce"))?),
        };
        Ok(TimeStampRequest {
            req: TimeStampReq {
                version: 1,
                message_imprint: MessageImprint {
                    hash_algorithm: AlgorithmIdentifierOwned {
                        oid: digest_suite.digest_oid(),
                        parameters: None,
                    },
                    hashed_message: OctetString::new(digest).map_err(encoding("digest"))?,
                },
                req_policy: policy,
                nonce,
                cert_req: true,
                extensions: None,
            },
            digest_suite,
        })
    }

    /// Parse a DER request (at most [`MAX_REQUEST_BYTES`]): version 1, an SM3 or SHA-256
    /// imprint of the right length (else [`TspError::Unsupported`], which a TSA answers with
    /// badAlg), no extensions ([`TspError::UnsupportedExtension`]: unacceptedExtension).
    pub fn parse(der: &[u8]) -> Result<Self, TspError> {
        if der.len() > MAX_REQUEST_BYTES {
            return Err(TspError::TooLarge {
                size: der.len(),
                limit: MAX_REQUEST_BYTES,
            });
        }
        let req = TimeStampReq::from_der(der).map_err(malformed("TimeStampReq"))?;
        if req.version != 1 {
            return Err(TspError::Unsupported(format!(
                "TimeStampReq version {}",
                req.version
            )));
        }
        let digest_suite = imprint_suite(&req.message_imprint)?;
        if req.extensions.is_some() {
            return Err(TspError::UnsupportedExtension);
        }
        Ok(TimeStampRequest { req, digest_suite })
    }

    /// The DER encoding, to POST as `application/timestamp-query`.
    pub fn to_der(&self) -> Result<Vec<u8>, TspError> {
        self.req.to_der().map_err(encoding("TimeStampReq"))
    }

    /// Which suite's digest the imprint was made with.
    pub fn digest_suite(&self) -> SignatureAlgorithm {
        self.digest_suite
    }

    /// The digest being time-stamped.
    pub fn digest(&self) -> &[u8] {
        self.req.message_imprint.hashed_message.as_bytes()
    }

    /// The nonce (DER INTEGER content octets), if any.
    pub fn nonce(&self) -> Option<&[u8]> {
        self.req.nonce.as_ref().map(|n| n.as_bytes())
    }

    /// The requested policy, if any.
    pub fn policy(&self) -> Option<ObjectIdentifier> {
        self.req.req_policy
    }

    /// Whether the TSA's certificate is asked for.
    pub fn cert_req(&self) -> bool {
        self.req.cert_req
    }

    pub(super) fn imprint(&self) -> &MessageImprint {
        &self.req.message_imprint
    }

    pub(super) fn nonce_int(&self) -> Option<&der::asn1::Int> {
        self.req.nonce.as_ref()
    }
}

/// The suite whose digest made `imprint`, checking the digest's length and that the
/// algorithm identifier has no parameters other than NULL.
pub(super) fn imprint_suite(imprint: &MessageImprint) -> Result<SignatureAlgorithm, TspError> {
    let alg = &imprint.hash_algorithm;
    let suite = [
        SignatureAlgorithm::Sm2Sm3,
        SignatureAlgorithm::EcdsaP256Sha256,
    ]
    .into_iter()
    .find(|s| s.digest_oid() == alg.oid)
    .ok_or_else(|| {
        TspError::Unsupported(format!(
            "message imprint hash algorithm {} (SM3 and SHA-256 are supported)",
            alg.oid
        ))
    })?;
    if let Some(p) = &alg.parameters {
        if !(p.tag() == der::Tag::Null && p.value().is_empty()) {
            return Err(TspError::Malformed(
                "message imprint hash algorithm has parameters".into(),
            ));
        }
    }
    if imprint.hashed_message.as_bytes().len() != suite.digest_len() {
        return Err(TspError::Malformed(format!(
            "message imprint is {} bytes, {} produces {}",
            imprint.hashed_message.as_bytes().len(),
            suite.name(),
            suite.digest_len()
        )));
    }
    Ok(suite)
}
