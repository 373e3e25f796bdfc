//! Parsed X.509 certificates kept together with their exact bytes.

use super::algorithm::{ECDSA_WITH_SHA256, PublicKey, SM2_WITH_SM3, SignatureAlgorithm};
use super::der_util::children;
use super::error::{CmsError, malformed};
use der::asn1::AnyRef;
use der::{Decode, Encode};
use x509_cert::Certificate;
use x509_cert::ext::pkix::{BasicConstraints, KeyUsage, KeyUsages, SubjectKeyIdentifier};

/// Largest single certificate (DER bytes) accepted.
pub const MAX_CERTIFICATE_BYTES: usize = 64 * 1024;

/// A certificate: its DER as given, the typed view, and the exact TBSCertificate bytes.
#[derive(Clone, Debug)]
pub(crate) struct Cert {
    pub(crate) der: Vec<u8>,
    pub(crate) cert: Certificate,
    tbs_der: Vec<u8>,
}

impl Cert {
    /// Parse one DER certificate (strict DER, no trailing bytes).
    pub(crate) fn parse(der: &[u8]) -> Result<Self, CmsError> {
        if der.len() > MAX_CERTIFICATE_BYTES {
            return Err(CmsError::TooLarge {
                size: der.len(),
                limit: MAX_CERTIFICATE_BYTES,
            });
        }
        let cert = Certificate::from_der(der).map_err(malformed("certificate"))?;
        // The signature covers the TBSCertificate exactly as it appears in the input.
        let outer = AnyRef::from_der(der).map_err(malformed("certificate"))?;
        let tbs_der = children(outer.value())
            .map_err(malformed("certificate"))?
            .first()
            .ok_or_else(|| CmsError::Malformed("certificate: empty SEQUENCE".into()))?
            .to_der()
            .map_err(malformed("certificate"))?;
        if cert.signature_algorithm() != cert.tbs_certificate().signature() {
            return Err(CmsError::Malformed(
                "certificate: signatureAlgorithm differs from the TBSCertificate's signature field"
                    .into(),
            ));
        }
        Ok(Cert {
            der: der.to_vec(),
            cert,
            tbs_der,
        })
    }

    /// The subject name in RFC 4514 form.
    pub(crate) fn subject_string(&self) -> String {
        self.cert.tbs_certificate().subject().to_string()
    }

    /// The certified public key (SM2 or P-256).
    pub(crate) fn public_key(&self) -> Result<PublicKey, CmsError> {
        PublicKey::from_spki(self.cert.tbs_certificate().subject_public_key_info())
    }

    /// The suite of the certified key.
    pub(crate) fn algorithm(&self) -> Result<SignatureAlgorithm, CmsError> {
        Ok(self.public_key()?.algorithm())
    }

    /// The subjectKeyIdentifier extension's value, if present.
    pub(crate) fn subject_key_identifier(&self) -> Result<Option<Vec<u8>>, CmsError> {
        Ok(self
            .cert
            .tbs_certificate()
            .get_extension::<SubjectKeyIdentifier>()
            .map_err(malformed("subjectKeyIdentifier extension"))?
            .map(|(_, ski)| ski.0.as_bytes().to_vec()))
    }

    /// basicConstraints: `None` when the extension is absent, else `(cA, pathLenConstraint)`.
    pub(crate) fn basic_constraints(&self) -> Result<Option<(bool, Option<u8>)>, CmsError> {
        Ok(self
            .cert
            .tbs_certificate()
            .get_extension::<BasicConstraints>()
            .map_err(malformed("basicConstraints extension"))?
            .map(|(_, bc)| (bc.ca, bc.path_len_constraint)))
    }

    /// keyUsage, if present.
    pub(crate) fn key_usage(&self) -> Result<Option<KeyUsage>, CmsError> {
        Ok(self
            .cert
            .tbs_certificate()
            .get_extension::<KeyUsage>()
            .map_err(malformed("keyUsage extension"))?
            .map(|(_, ku)| ku))
    }

    /// Whether extendedKeyUsage lists id-kp-OCSPSigning (a delegated OCSP responder).
    #[cfg(feature = "offline-revocation")]
    pub(crate) fn has_ocsp_signing_usage(&self) -> bool {
        const ID_KP_OCSP_SIGNING: der::asn1::ObjectIdentifier =
            der::asn1::ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.9");
        self.cert
            .tbs_certificate()
            .get_extension::<x509_cert::ext::pkix::ExtendedKeyUsage>()
            .ok()
            .flatten()
            .is_some_and(|(_, eku)| eku.0.contains(&ID_KP_OCSP_SIGNING))
    }

    /// Whether keyUsage (when present) allows `usage`.
    pub(crate) fn key_usage_allows(&self, usage: KeyUsages) -> Result<bool, CmsError> {
        Ok(self.key_usage()?.is_none_or(|ku| ku.0.contains(usage)))
    }

    /// Check that `issuer`'s key signed this certificate (signature only; names and CA flags are
    /// the caller's business).
    ///
    /// SM2-with-SM3 (default signer ID) under an SM2 key, ecdsa-with-SHA256 under a P-256 key;
    /// with the `other-algorithms` feature also RSA (PKCS#1 v1.5, PSS), ECDSA with SHA-384/512
    /// or on P-384/P-521, and Ed25519 ([`super::other`]; SHA-1 and short RSA keys refused as
    /// [`CmsError::WeakAlgorithm`]).
    pub(crate) fn verify_signed_by(&self, issuer: &Cert) -> Result<(), CmsError> {
        let alg = self.cert.signature_algorithm();
        let signature = self.cert.signature().as_bytes().ok_or_else(|| {
            CmsError::Malformed("certificate signature BIT STRING has unused bits".into())
        })?;
        let suite = if alg.oid == SM2_WITH_SM3 {
            Some(SignatureAlgorithm::Sm2Sm3)
        } else if alg.oid == ECDSA_WITH_SHA256 {
            Some(SignatureAlgorithm::EcdsaP256Sha256)
        } else {
            None
        };
        let key = match issuer.public_key() {
            Ok(key) => Some(key),
            Err(CmsError::Unsupported(_)) => None,
            Err(e) => return Err(e),
        };
        match (suite, key) {
            (Some(expected), Some(key)) => {
                expected.check_signature_identifier(alg)?;
                if key.algorithm() != expected {
                    return Err(CmsError::AlgorithmMismatch(format!(
                        "certificate \"{}\" is signed with {} but its issuer has a {} key",
                        self.subject_string(),
                        expected.name(),
                        key.algorithm().name()
                    )));
                }
                key.verify(&self.tbs_der, signature)
                    .map_err(|_| CmsError::CertificateSignature(self.subject_string()))
            }
            _ => self.verify_other_signature(issuer, alg, signature),
        }
    }

    /// A certificate signature in another signer's algorithm.
    #[cfg(feature = "other-algorithms")]
    fn verify_other_signature(
        &self,
        issuer: &Cert,
        alg: &spki::AlgorithmIdentifierOwned,
        signature: &[u8],
    ) -> Result<(), CmsError> {
        let key = super::other::OtherKey::from_spki(
            issuer.cert.tbs_certificate().subject_public_key_info(),
        )?;
        match key.verify(alg, None, &self.tbs_der, signature) {
            Ok(_) => Ok(()),
            Err(CmsError::BadSignature) => {
                Err(CmsError::CertificateSignature(self.subject_string()))
            }
            Err(e) => Err(e),
        }
    }

    /// Without the `other-algorithms` feature only inkseal's suites are checked.
    #[cfg(not(feature = "other-algorithms"))]
    fn verify_other_signature(
        &self,
        _issuer: &Cert,
        alg: &spki::AlgorithmIdentifierOwned,
        _signature: &[u8],
    ) -> Result<(), CmsError> {
        Err(CmsError::Unsupported(format!(
            "certificate signature algorithm {} on \"{}\"",
            alg.oid,
            self.subject_string()
        )))
    }
}
