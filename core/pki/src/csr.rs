//! PKCS#10 certification requests for a key whose private half nobody holds in one place.
//!
//! Signing is a callback step: [`csr_to_be_signed`] returns the CertificationRequestInfo DER,
//! the caller has the joint key sign `e = inkseal_cosign::message_digest(&public_key, &tbs)` (the
//! standard SM2 signature over those bytes with the default signer ID), and [`assemble_csr`]
//! wraps the bytes and the signature into the CertificationRequest.

use crate::algorithm::{Signed, sm2_public_key, sm2_spki, verify_sm2};
use crate::error::{PkiError, encoding, malformed};
use crate::name;
use der::{Decode, Encode};
use inkseal_cosign::sm2::{self, PublicKey};
use x509_cert::attr::Attributes;
use x509_cert::request::{CertReqInfo, Version};

/// Largest CSR (DER bytes) [`verify_csr`] accepts.
pub const MAX_CSR_BYTES: usize = 16 * 1024;

/// A CSR whose structure, algorithms and proof-of-possession signature were checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedCsr {
    /// The SM2 public key being certified (it signed the request).
    pub public_key: PublicKey,
    /// The subject's single commonName.
    pub common_name: String,
}

/// DER of the PKCS#10 CertificationRequestInfo for an SM2 key and the subject `CN=<name>`.
///
/// Version 0, subject with one UTF8String commonName, SubjectPublicKeyInfo id-ecPublicKey with
/// curve sm2 and the uncompressed point, and an empty attribute set. These are the bytes the
/// joint key signs.
pub fn csr_to_be_signed(
    public_key: &PublicKey,
    subject_common_name: &str,
) -> Result<Vec<u8>, PkiError> {
    let info = CertReqInfo {
        version: Version::V1,
        subject: name::common_name(subject_common_name)?,
        public_key: sm2_spki(public_key)?,
        attributes: Attributes::default(),
    };
    info.to_der().map_err(encoding("CertificationRequestInfo"))
}

/// Wrap CertificationRequestInfo DER and its SM2 signature into a CertificationRequest (DER).
///
/// The signature algorithm is SM2-with-SM3 (no parameters) and the signature is DER
/// `SEQUENCE { r, s }`. The bytes are embedded unchanged; they must be a canonical
/// CertificationRequestInfo for an SM2 key, and the signature must verify under that key, so a
/// request built here passes [`verify_csr`].
pub fn assemble_csr(
    to_be_signed: &[u8],
    signature: &sm2::dsa::Signature,
) -> Result<Vec<u8>, PkiError> {
    if to_be_signed.len() > MAX_CSR_BYTES {
        return Err(PkiError::TooLarge(MAX_CSR_BYTES));
    }
    let info = parse_info(to_be_signed)?;
    let public_key = sm2_public_key(&info.public_key)?;
    verify_sm2(&public_key, to_be_signed, signature)?;
    Signed::assemble(to_be_signed, signature)
}

/// Parse and check a CSR: size, DER, SM2 key, SM2-with-SM3 signature over the request info as
/// it appears in the input (default signer ID), and a single commonName.
pub fn verify_csr(csr_der: &[u8]) -> Result<VerifiedCsr, PkiError> {
    if csr_der.len() > MAX_CSR_BYTES {
        return Err(PkiError::TooLarge(MAX_CSR_BYTES));
    }
    let (signed, tbs) = Signed::parse(csr_der, "CSR")?;
    // The typed view is decoded from exactly the bytes that were signed.
    let info = parse_info(&tbs)?;
    let signature = signed.sm2_signature()?;
    let public_key = sm2_public_key(&info.public_key)?;
    verify_sm2(&public_key, &tbs, &signature)?;
    let common_name = name::single_common_name(&info.subject)?;
    Ok(VerifiedCsr {
        public_key,
        common_name,
    })
}

/// Read an (unsigned) CertificationRequestInfo: its SM2 key and single commonName. The
/// co-signing server reads what it is asked to sign with this before it signs it.
pub fn read_csr_info(to_be_signed: &[u8]) -> Result<VerifiedCsr, PkiError> {
    if to_be_signed.len() > MAX_CSR_BYTES {
        return Err(PkiError::TooLarge(MAX_CSR_BYTES));
    }
    let info = parse_info(to_be_signed)?;
    Ok(VerifiedCsr {
        public_key: sm2_public_key(&info.public_key)?,
        common_name: name::single_common_name(&info.subject)?,
    })
}

/// Decode CertificationRequestInfo DER, requiring the canonical encoding.
fn parse_info(der: &[u8]) -> Result<CertReqInfo, PkiError> {
    let info = CertReqInfo::from_der(der).map_err(malformed("CertificationRequestInfo"))?;
    if info
        .to_der()
        .map_err(malformed("CertificationRequestInfo"))?
        != der
    {
        return Err(PkiError::Malformed(
            "CertificationRequestInfo is not canonical DER".into(),
        ));
    }
    Ok(info)
}
