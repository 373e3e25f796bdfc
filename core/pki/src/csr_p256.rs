//! PKCS#10 certification requests for a two-party P-256 key (issue 18): the same callback
//! shape as the SM2 requests in `csr.rs`. [`p256_csr_to_be_signed`] returns the
//! CertificationRequestInfo DER, the joint key signs those bytes with ECDSA over SHA-256 (the
//! co-signing server hashes them itself), and [`assemble_p256_csr`] wraps bytes and signature
//! into the CertificationRequest, signature algorithm ecdsa-with-SHA256.

use crate::algorithm::{ECDSA_WITH_SHA256, PRIME256V1, Signed, ec_public_key_parts, p256_spki};
use crate::ca::{CertificatePurpose, EndEntity, RevocationPointers};
use crate::csr::MAX_CSR_BYTES;
use crate::error::{PkiError, encoding, malformed};
use crate::name;
use der::{Decode, Encode, Tag, Tagged};
use p256::ecdsa::signature::Verifier as _;
use spki::AlgorithmIdentifierOwned;
use x509_cert::attr::Attributes;
use x509_cert::request::{CertReqInfo, Version};

/// A P-256 CSR whose structure, algorithms and proof-of-possession signature were checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedP256Csr {
    /// The P-256 public key being certified (it signed the request).
    pub public_key: p256::PublicKey,
    /// The subject's single commonName.
    pub common_name: String,
}

impl VerifiedP256Csr {
    /// The document-signing end entity this CSR asks for, with `revocation` pointers.
    pub fn end_entity<'a>(
        &'a self,
        revocation: Option<RevocationPointers<'a>>,
    ) -> Result<EndEntity<'a>, PkiError> {
        Ok(EndEntity {
            subject_public_key_info: p256_spki(&self.public_key)?,
            common_name: &self.common_name,
            purpose: CertificatePurpose::DocumentSigning,
            revocation,
        })
    }
}

/// DER of the PKCS#10 CertificationRequestInfo for a P-256 key and the subject `CN=<name>`
/// (version 0, one UTF8String commonName, id-ecPublicKey prime256v1 with the uncompressed
/// point, no attributes): the bytes the joint key signs.
pub fn p256_csr_to_be_signed(
    public_key: &p256::PublicKey,
    subject_common_name: &str,
) -> Result<Vec<u8>, PkiError> {
    let info = CertReqInfo {
        version: Version::V1,
        subject: name::common_name(subject_common_name)?,
        public_key: p256_spki(public_key)?,
        attributes: Attributes::default(),
    };
    info.to_der().map_err(encoding("CertificationRequestInfo"))
}

/// Wrap CertificationRequestInfo DER and its ECDSA P-256 signature into a CertificationRequest
/// (DER); the signature must verify under the request's own key.
pub fn assemble_p256_csr(
    to_be_signed: &[u8],
    signature: &p256::ecdsa::Signature,
) -> Result<Vec<u8>, PkiError> {
    let info = read_p256_csr_info(to_be_signed)?;
    p256::ecdsa::VerifyingKey::from(&info.public_key)
        .verify(to_be_signed, signature)
        .map_err(|_| PkiError::BadSignature)?;
    Signed::assemble_with(
        to_be_signed,
        AlgorithmIdentifierOwned {
            oid: ECDSA_WITH_SHA256,
            parameters: None,
        },
        signature.to_der().as_bytes(),
    )
}

/// Parse and check a P-256 CSR: size, DER, a P-256 key, an ecdsa-with-SHA256 signature over
/// the request info as it appears in the input, and a single commonName.
pub fn verify_p256_csr(csr_der: &[u8]) -> Result<VerifiedP256Csr, PkiError> {
    if csr_der.len() > MAX_CSR_BYTES {
        return Err(PkiError::TooLarge(MAX_CSR_BYTES));
    }
    let (signed, tbs) = Signed::parse(csr_der, "CSR")?;
    let info = read_p256_csr_info(&tbs)?;
    if signed.algorithm.oid != ECDSA_WITH_SHA256 {
        return Err(PkiError::UnsupportedAlgorithm(format!(
            "signature algorithm {} (expected ecdsa-with-SHA256 {ECDSA_WITH_SHA256})",
            signed.algorithm.oid
        )));
    }
    if let Some(p) = &signed.algorithm.parameters {
        if !(p.tag() == Tag::Null && p.value().is_empty()) {
            return Err(PkiError::Malformed(
                "ecdsa-with-SHA256 algorithm identifier has parameters".into(),
            ));
        }
    }
    let bytes = signed
        .signature
        .as_bytes()
        .ok_or_else(|| PkiError::Malformed("signature BIT STRING has unused bits".into()))?;
    let signature = p256::ecdsa::Signature::from_der(bytes)
        .map_err(|_| PkiError::Malformed("ECDSA signature is not DER (r, s)".into()))?;
    p256::ecdsa::VerifyingKey::from(&info.public_key)
        .verify(&tbs, &signature)
        .map_err(|_| PkiError::BadSignature)?;
    Ok(info)
}

/// Read an (unsigned) CertificationRequestInfo for a P-256 key: its key and single
/// commonName. The co-signing server reads what it is asked to sign with this.
pub fn read_p256_csr_info(to_be_signed: &[u8]) -> Result<VerifiedP256Csr, PkiError> {
    if to_be_signed.len() > MAX_CSR_BYTES {
        return Err(PkiError::TooLarge(MAX_CSR_BYTES));
    }
    let info =
        CertReqInfo::from_der(to_be_signed).map_err(malformed("CertificationRequestInfo"))?;
    if info
        .to_der()
        .map_err(malformed("CertificationRequestInfo"))?
        != to_be_signed
    {
        return Err(PkiError::Malformed(
            "CertificationRequestInfo is not canonical DER".into(),
        ));
    }
    let (curve, point) = ec_public_key_parts(&info.public_key)?;
    if curve != PRIME256V1 {
        return Err(PkiError::UnsupportedAlgorithm(format!(
            "curve {curve} (expected P-256 {PRIME256V1})"
        )));
    }
    let public_key = p256::PublicKey::from_sec1_bytes(point)
        .map_err(|_| PkiError::Malformed("public key is not a point on P-256".into()))?;
    Ok(VerifiedP256Csr {
        public_key,
        common_name: name::single_common_name(&info.subject)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use p256::ecdsa::signature::Signer as _;

    #[test]
    fn a_p256_csr_round_trips_and_a_changed_byte_is_refused() {
        let sk = p256::ecdsa::SigningKey::from_slice(&[7u8; 32]).expect("key");
        let pk = p256::PublicKey::from(sk.verifying_key());
        let tbs = p256_csr_to_be_signed(&pk, "张三").expect("tbs");
        let sig: p256::ecdsa::Signature = sk.sign(&tbs);
        let csr = assemble_p256_csr(&tbs, &sig).expect("csr");
        let v = verify_p256_csr(&csr).expect("verify");
        assert_eq!(v.public_key, pk);
        assert_eq!(v.common_name, "张三");
        let mut bad = csr.clone();
        let i = bad.len() - 5;
        bad[i] ^= 1;
        assert!(verify_p256_csr(&bad).is_err());
        // An SM2 request is not a P-256 one.
        let other = p256::ecdsa::SigningKey::from_slice(&[9u8; 32]).expect("key");
        let wrong: p256::ecdsa::Signature = other.sign(&tbs);
        assert!(assemble_p256_csr(&tbs, &wrong).is_err());
        assert!(verify_p256_csr(&vec![0u8; MAX_CSR_BYTES + 1]).is_err());
    }
}
