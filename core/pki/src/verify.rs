//! Checking certificates: SM2 key extraction, signature under an issuer, validity.

use crate::algorithm::{Signed, sm2_public_key, verify_sm2};
use crate::error::{PkiError, malformed};
use crate::time;
use der::Decode;
use inkseal_cosign::sm2::PublicKey;
use x509_cert::Certificate;
use x509_cert::ext::pkix::{BasicConstraints, KeyUsage, KeyUsages};

/// Largest certificate (DER bytes) this crate parses.
pub const MAX_CERTIFICATE_BYTES: usize = 16 * 1024;

/// A parsed certificate together with the exact bytes its signature covers.
pub(crate) struct ParsedCertificate<'a> {
    pub(crate) certificate: Certificate,
    pub(crate) signed: Signed<'a>,
    pub(crate) tbs: Vec<u8>,
}

impl<'a> ParsedCertificate<'a> {
    pub(crate) fn parse(der: &'a [u8]) -> Result<Self, PkiError> {
        if der.len() > MAX_CERTIFICATE_BYTES {
            return Err(PkiError::TooLarge(MAX_CERTIFICATE_BYTES));
        }
        let (signed, tbs) = Signed::parse(der, "certificate")?;
        let certificate = Certificate::from_der(der).map_err(malformed("certificate"))?;
        if certificate.signature_algorithm() != certificate.tbs_certificate().signature() {
            return Err(PkiError::Malformed(
                "signatureAlgorithm differs from the TBSCertificate's signature field".into(),
            ));
        }
        Ok(ParsedCertificate {
            certificate,
            signed,
            tbs,
        })
    }

    pub(crate) fn public_key(&self) -> Result<PublicKey, PkiError> {
        sm2_public_key(self.certificate.tbs_certificate().subject_public_key_info())
    }
}

/// Require basicConstraints CA:true and, when keyUsage is present, keyCertSign.
pub(crate) fn require_ca(issuer: &ParsedCertificate<'_>) -> Result<(), PkiError> {
    require_ca_usage(issuer, KeyUsages::KeyCertSign, PkiError::NotCa)
}

/// Require basicConstraints CA:true and, when keyUsage is present, `usage` (else `missing`).
pub(crate) fn require_ca_usage(
    issuer: &ParsedCertificate<'_>,
    usage: KeyUsages,
    missing: PkiError,
) -> Result<(), PkiError> {
    let tbs = issuer.certificate.tbs_certificate();
    let is_ca = tbs
        .get_extension::<BasicConstraints>()
        .map_err(malformed("basicConstraints"))?
        .is_some_and(|(_, bc)| bc.ca);
    if !is_ca {
        return Err(PkiError::NotCa);
    }
    if let Some((_, present)) = tbs
        .get_extension::<KeyUsage>()
        .map_err(malformed("keyUsage"))?
    {
        if !present.0.contains(usage) {
            return Err(missing);
        }
    }
    Ok(())
}

/// The SM2 public key a certificate (DER) certifies; other key types are refused.
pub fn certificate_public_key(cert_der: &[u8]) -> Result<PublicKey, PkiError> {
    ParsedCertificate::parse(cert_der)?.public_key()
}

/// Check that `cert_der` was issued by `issuer_cert_der`: issuer name equals the issuer's
/// subject, the issuer is a CA (basicConstraints CA:true, keyCertSign if keyUsage is present),
/// and the SM2-with-SM3 signature (default signer ID) over the TBSCertificate bytes verifies
/// under the issuer's SM2 key. A self-signed CA certificate passes with itself as issuer.
///
/// Validity periods are not checked here; see [`check_issued_for`].
pub fn verify_certificate_signature(
    cert_der: &[u8],
    issuer_cert_der: &[u8],
) -> Result<(), PkiError> {
    let cert = ParsedCertificate::parse(cert_der)?;
    let issuer = ParsedCertificate::parse(issuer_cert_der)?;
    verify_parsed(&cert, &issuer)
}

fn verify_parsed(
    cert: &ParsedCertificate<'_>,
    issuer: &ParsedCertificate<'_>,
) -> Result<(), PkiError> {
    let signature = cert.signed.sm2_signature()?;
    if cert.certificate.tbs_certificate().issuer() != issuer.certificate.tbs_certificate().subject()
    {
        return Err(PkiError::IssuerMismatch);
    }
    require_ca(issuer)?;
    verify_sm2(&issuer.public_key()?, &cert.tbs, &signature)
}

/// What the phone runs on the certificate it was issued: the certificate verifies under the
/// issuer (see [`verify_certificate_signature`]), certifies `expected_key`
/// ([`PkiError::KeyMismatch`] otherwise), and both certificates are valid at `now_unix`
/// ([`PkiError::NotYetValid`] / [`PkiError::Expired`]).
pub fn check_issued_for(
    cert_der: &[u8],
    issuer_cert_der: &[u8],
    expected_key: &PublicKey,
    now_unix: u64,
) -> Result<(), PkiError> {
    let cert = ParsedCertificate::parse(cert_der)?;
    let issuer = ParsedCertificate::parse(issuer_cert_der)?;
    verify_parsed(&cert, &issuer)?;
    if cert.public_key()? != *expected_key {
        return Err(PkiError::KeyMismatch);
    }
    time::check_within(cert.certificate.tbs_certificate().validity(), now_unix)?;
    time::check_within(issuer.certificate.tbs_certificate().validity(), now_unix)
}

/// [`check_issued_for`] for a two-party P-256 key: the certificate's ecdsa-with-SHA256
/// signature verifies under the issuer's P-256 key (the issuer is a CA whose subject is the
/// certificate's issuer), it certifies `expected_key` ([`PkiError::KeyMismatch`] otherwise),
/// and both certificates are valid at `now_unix`.
pub fn check_p256_issued_for(
    cert_der: &[u8],
    issuer_cert_der: &[u8],
    expected_key: &p256::PublicKey,
    now_unix: u64,
) -> Result<(), PkiError> {
    use p256::ecdsa::signature::Verifier as _;
    let cert = ParsedCertificate::parse(cert_der)?;
    let issuer = ParsedCertificate::parse(issuer_cert_der)?;
    if cert.certificate.tbs_certificate().issuer() != issuer.certificate.tbs_certificate().subject()
    {
        return Err(PkiError::IssuerMismatch);
    }
    require_ca(&issuer)?;
    if cert.signed.algorithm.oid != crate::algorithm::ECDSA_WITH_SHA256 {
        return Err(PkiError::UnsupportedAlgorithm(format!(
            "signature algorithm {} (expected ecdsa-with-SHA256)",
            cert.signed.algorithm.oid
        )));
    }
    let p256_key = |c: &ParsedCertificate<'_>| -> Result<p256::PublicKey, PkiError> {
        let (curve, point) = crate::algorithm::ec_public_key_parts(
            c.certificate.tbs_certificate().subject_public_key_info(),
        )?;
        if curve != crate::algorithm::PRIME256V1 {
            return Err(PkiError::UnsupportedAlgorithm(format!(
                "curve {curve} (expected P-256)"
            )));
        }
        p256::PublicKey::from_sec1_bytes(point)
            .map_err(|_| PkiError::Malformed("public key is not a point on P-256".into()))
    };
    let signature = cert
        .signed
        .signature
        .as_bytes()
        .and_then(|b| p256::ecdsa::Signature::from_der(b).ok())
        .ok_or_else(|| PkiError::Malformed("certificate signature is not DER ECDSA".into()))?;
    p256::ecdsa::VerifyingKey::from(&p256_key(&issuer)?)
        .verify(&cert.tbs, &signature)
        .map_err(|_| PkiError::BadSignature)?;
    if p256_key(&cert)? != *expected_key {
        return Err(PkiError::KeyMismatch);
    }
    time::check_within(cert.certificate.tbs_certificate().validity(), now_unix)?;
    time::check_within(issuer.certificate.tbs_certificate().validity(), now_unix)
}
