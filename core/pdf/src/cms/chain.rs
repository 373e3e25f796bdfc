//! Certificate path building and checking up to a trust anchor.

use super::cert::Cert;
use super::error::CmsError;
use x509_cert::ext::pkix::KeyUsages;

/// Longest path (certificates, signer and trust anchor included) [`verify_chain`] builds.
pub const MAX_CHAIN_LENGTH: usize = 8;

/// Most certificate signatures [`verify_chain`] checks in one call, so that a CMS stuffed with
/// look-alike issuer certificates cannot make path building expensive.
pub const MAX_SIGNATURE_CHECKS: usize = 32;

/// Build and check a path from `signer_cert_der` to one of `trust_anchors_der`, using
/// `intermediates` (e.g. the certificates embedded in the CMS) as needed.
///
/// Returns the path as DER, signer first and trust anchor last (just the signer when it is
/// itself a trust anchor). For each link: the issuer's subject equals the certificate's issuer
/// name and the certificate's signature verifies under the issuer's key (SM2-with-SM3 with the
/// default signer ID under an SM2 key, ecdsa-with-SHA256 under a P-256 key). Intermediates must
/// carry basicConstraints cA=TRUE; a trust anchor must not carry basicConstraints with
/// cA=FALSE (an anchor without the extension, such as a v1 root, is accepted because it is
/// trusted explicitly). Issuers with keyUsage must allow keyCertSign, and pathLenConstraint
/// is honoured. When `at_unix` is given, every certificate on the path must be valid at that
/// time (bounds inclusive).
///
/// Revocation is not checked.
pub fn verify_chain(
    signer_cert_der: &[u8],
    intermediates: &[Vec<u8>],
    trust_anchors_der: &[Vec<u8>],
    at_unix: Option<u64>,
) -> Result<Vec<Vec<u8>>, CmsError> {
    let signer = Cert::parse(signer_cert_der)?;
    let anchors = parse_all(trust_anchors_der)?;
    let intermediates = parse_all(intermediates)?;

    let mut path: Vec<&Cert> = vec![&signer];
    let mut budget = MAX_SIGNATURE_CHECKS;
    let mut spend = || {
        budget = budget.checked_sub(1).ok_or_else(|| {
            CmsError::UntrustedChain(format!(
                "gave up after {MAX_SIGNATURE_CHECKS} candidate issuer signatures"
            ))
        })?;
        Ok::<(), CmsError>(())
    };
    if !anchors.iter().any(|a| a.der == signer.der) {
        'build: loop {
            if path.len() >= MAX_CHAIN_LENGTH {
                return Err(CmsError::UntrustedChain(format!(
                    "no trust anchor within {MAX_CHAIN_LENGTH} certificates"
                )));
            }
            let current = path[path.len() - 1];
            let issuer_name = current.cert.tbs_certificate().issuer();
            let mut bad_signature = None;

            for anchor in anchors
                .iter()
                .filter(|a| a.cert.tbs_certificate().subject() == issuer_name)
            {
                spend()?;
                match current.verify_signed_by(anchor) {
                    Ok(()) => {
                        check_issuer(anchor, path.len() - 1, false)?;
                        path.push(anchor);
                        break 'build;
                    }
                    Err(e) => bad_signature = Some(e),
                }
            }
            for candidate in intermediates.iter().filter(|c| {
                c.cert.tbs_certificate().subject() == issuer_name
                    && !path.iter().any(|p| p.der == c.der)
            }) {
                spend()?;
                match current.verify_signed_by(candidate) {
                    Ok(()) => {
                        check_issuer(candidate, path.len() - 1, true)?;
                        path.push(candidate);
                        continue 'build;
                    }
                    Err(e) => bad_signature = Some(e),
                }
            }
            return Err(bad_signature.unwrap_or_else(|| {
                CmsError::UntrustedChain(format!(
                    "no trust anchor or intermediate certificate issued \"{}\" (issuer \"{}\")",
                    current.subject_string(),
                    issuer_name
                ))
            }));
        }
    }

    if let Some(now) = at_unix {
        for cert in &path {
            let validity = cert.cert.tbs_certificate().validity();
            if now < validity.not_before.to_unix_duration().as_secs() {
                return Err(CmsError::CertificateNotYetValid(cert.subject_string()));
            }
            if now > validity.not_after.to_unix_duration().as_secs() {
                return Err(CmsError::CertificateExpired(cert.subject_string()));
            }
        }
    }
    Ok(path.into_iter().map(|c| c.der.clone()).collect())
}

/// Parse certificates, dropping exact duplicates.
fn parse_all(ders: &[Vec<u8>]) -> Result<Vec<Cert>, CmsError> {
    let mut out: Vec<Cert> = Vec::with_capacity(ders.len());
    for der in ders {
        if !out.iter().any(|c| c.der == *der) {
            out.push(Cert::parse(der)?);
        }
    }
    Ok(out)
}

/// May `issuer` issue a certificate with `below` intermediate CA certificates under it?
fn check_issuer(
    issuer: &Cert,
    below: usize,
    require_basic_constraints: bool,
) -> Result<(), CmsError> {
    match issuer.basic_constraints()? {
        Some((true, Some(max))) if below > usize::from(max) => {
            return Err(CmsError::NotCa(issuer.subject_string()));
        }
        Some((true, _)) => {}
        Some((false, _)) => return Err(CmsError::NotCa(issuer.subject_string())),
        None if require_basic_constraints => {
            return Err(CmsError::NotCa(issuer.subject_string()));
        }
        None => {}
    }
    if !issuer.key_usage_allows(KeyUsages::KeyCertSign)? {
        return Err(CmsError::NotCa(issuer.subject_string()));
    }
    Ok(())
}
