//! The embedded CA: self-signed SM2 and P-256 roots, end-entity certificates for verified CSRs,
//! and time-stamping and OCSP-signing certificates.

use crate::algorithm::{
    PRIME256V1, SM2_CURVE, Signed, ec_public_key_parts, sm2_spki, spki_key_identifier,
};
use crate::csr::VerifiedCsr;
use crate::error::{PkiError, encoding, malformed};
use crate::key::IssuerKey;
use crate::verify::{ParsedCertificate, require_ca};
use crate::{name, time};
use const_oid::AssociatedOid;
use const_oid::db::rfc5280::{ID_KP_OCSP_SIGNING, ID_KP_TIME_STAMPING};
use const_oid::db::rfc6960::ID_PKIX_OCSP_NOCHECK;
use der::asn1::Ia5String;
use der::asn1::OctetString;
use der::{Encode, Sequence};
use sm3::{Digest, Sm3};
use spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};
use x509_cert::Version;
use x509_cert::ext::pkix::crl::dp::DistributionPoint;
use x509_cert::ext::pkix::name::{DistributionPointName, GeneralName};
use x509_cert::ext::pkix::{
    AccessDescription, AuthorityInfoAccessSyntax, AuthorityKeyIdentifier, BasicConstraints,
    CrlDistributionPoints, ExtendedKeyUsage, KeyUsage, KeyUsages, SubjectKeyIdentifier,
};
use x509_cert::ext::{Extension, Extensions};
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::time::Validity;

/// TBSCertificate (RFC 5280 section 4.1) with fields we can set.
///
/// `x509_cert::TbsCertificate` keeps its fields private and its builder wants signer traits the
/// `sm2` key lacks; this mirrors its encoding (and the tests decode our output with it).
#[derive(Sequence)]
struct TbsCertificate {
    #[asn1(context_specific = "0", default = "Default::default")]
    version: Version,
    serial_number: SerialNumber,
    signature: AlgorithmIdentifierOwned,
    issuer: Name,
    validity: Validity,
    subject: Name,
    subject_public_key_info: SubjectPublicKeyInfoOwned,
    #[asn1(context_specific = "3", optional = "true")]
    extensions: Option<Extensions>,
}

/// A self-signed v3 CA certificate (DER) for `key`, subject and issuer `CN=<common_name>`.
///
/// Extensions: basicConstraints (critical) CA:true, pathLen:0; keyUsage (critical)
/// keyCertSign, cRLSign; subjectKeyIdentifier. Valid from `now_unix` (backdated by
/// [`crate::NOT_BEFORE_BACKDATE_SECS`]) for `validity_days` days; signed with the key's own
/// algorithm (SM2-with-SM3 for a [`crate::CaKey`], ecdsa-with-SHA256 for a
/// [`crate::P256CaKey`]). The serial number is derived from the key and `now_unix`, so the
/// function is deterministic for SM2 (ECDSA signatures are randomized).
pub fn self_signed_ca(
    key: &(impl IssuerKey + ?Sized),
    common_name: &str,
    validity_days: u32,
    now_unix: u64,
) -> Result<Vec<u8>, PkiError> {
    let subject = name::common_name(common_name)?;
    let spki = key.subject_public_key_info()?;
    let key_id = spki_key_identifier(&spki)?;
    let serial = SerialNumber::new(&positive_serial(derived_serial(&key_id, now_unix))?)
        .map_err(encoding("serial number"))?;
    let extensions = vec![
        extension(
            &BasicConstraints {
                ca: true,
                path_len_constraint: Some(0),
            },
            true,
        )?,
        extension(&KeyUsage(KeyUsages::KeyCertSign | KeyUsages::CRLSign), true)?,
        extension(&subject_key_identifier(&key_id)?, false)?,
    ];
    let tbs = TbsCertificate {
        version: Version::V3,
        serial_number: serial,
        signature: key.signature_algorithm(),
        issuer: subject.clone(),
        validity: time::validity(now_unix, validity_days, None)?,
        subject,
        subject_public_key_info: spki,
        extensions: Some(extensions),
    };
    sign_certificate(key, &tbs)
}

/// What an end-entity certificate from the embedded CA is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CertificatePurpose {
    /// Signing documents: keyUsage digitalSignature and nonRepudiation, no extended key usage.
    DocumentSigning,
    /// A time-stamping authority (RFC 3161 section 2.3): keyUsage digitalSignature and
    /// nonRepudiation, and a critical extendedKeyUsage with id-kp-timeStamping only.
    TimeStamping,
    /// An OCSP responder delegated by the CA (RFC 6960 section 4.2.2.2): keyUsage
    /// digitalSignature, extendedKeyUsage id-kp-OCSPSigning, and id-pkix-ocsp-nocheck.
    OcspSigning,
    /// A key-transport (encryption) key, such as a two-party SM2 encryption key that opens
    /// digital envelopes: keyUsage keyEncipherment only, so it cannot pass for a signing
    /// certificate (GB/T 20518's separate signing and encryption certificates).
    KeyEncipherment,
    /// A key-agreement (ECDH) key, such as an institution's P-256 encryption key that opens
    /// RFC 5753 envelopes: keyUsage keyAgreement only (RFC 5480 section 3).
    KeyAgreement,
}

/// An end-entity v3 certificate (DER) for a verified CSR, issued by the CA certificate
/// `ca_cert_der` whose key is `ca_key`.
///
/// Subject `CN=<csr.common_name>`, issuer the CA's subject, serial `serial` with its top bit
/// cleared (so it is positive; all-zero is refused). Extensions: basicConstraints (critical)
/// CA:false; keyUsage (critical) digitalSignature, nonRepudiation; authorityKeyIdentifier (the
/// CA's subjectKeyIdentifier); subjectKeyIdentifier. Valid from `now_unix` (backdated by
/// [`crate::NOT_BEFORE_BACKDATE_SECS`]) for `validity_days` days, but not beyond the CA
/// certificate's notAfter. Signed with the CA key's algorithm.
pub fn issue_certificate(
    ca_key: &(impl IssuerKey + ?Sized),
    ca_cert_der: &[u8],
    csr: &VerifiedCsr,
    serial: &[u8; 16],
    validity_days: u32,
    now_unix: u64,
) -> Result<Vec<u8>, PkiError> {
    issue_end_entity(
        ca_key,
        ca_cert_der,
        &csr.end_entity(None)?,
        serial,
        validity_days,
        now_unix,
    )
}

impl VerifiedCsr {
    /// The document-signing end entity this CSR asks for, with `revocation` pointers.
    pub fn end_entity<'a>(
        &'a self,
        revocation: Option<RevocationPointers<'a>>,
    ) -> Result<EndEntity<'a>, PkiError> {
        Ok(EndEntity {
            subject_public_key_info: sm2_spki(&self.public_key)?,
            common_name: &self.common_name,
            purpose: CertificatePurpose::DocumentSigning,
            revocation,
        })
    }
}

/// The subject of an end-entity certificate: its key, name and purpose.
#[derive(Debug, Clone)]
pub struct EndEntity<'a> {
    /// The certified key (SM2 or P-256, id-ecPublicKey).
    pub subject_public_key_info: SubjectPublicKeyInfoOwned,
    /// The subject's common name (`CN=<common_name>`).
    pub common_name: &'a str,
    /// What the certificate allows.
    pub purpose: CertificatePurpose,
    /// Where relying parties find its revocation status (not for an
    /// [`CertificatePurpose::OcspSigning`] certificate, which carries ocsp-nocheck).
    pub revocation: Option<RevocationPointers<'a>>,
}

/// Where the CA publishes revocation status: written into the certificates it issues as
/// authorityInfoAccess (id-ad-ocsp) and cRLDistributionPoints, so that validators (and
/// long-term validators deciding what revocation data a signature needs, such as pyHanko's
/// and Adobe's) know that status exists and where.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RevocationPointers<'a> {
    /// The OCSP responder's URL (RFC 6960 appendix A, HTTP POST or GET).
    pub ocsp_url: &'a str,
    /// The URL of the issuer's CRL (DER, `application/pkix-crl`), if it publishes one.
    pub crl_url: Option<&'a str>,
}

/// The OCSP responder URL a certificate names (its authorityInfoAccess id-ad-ocsp entry, the
/// first one with a URI), if any.
pub fn certificate_ocsp_url(cert_der: &[u8]) -> Result<Option<String>, PkiError> {
    let cert = ParsedCertificate::parse(cert_der)?;
    let aia = cert
        .certificate
        .tbs_certificate()
        .get_extension::<AuthorityInfoAccessSyntax>()
        .map_err(malformed("authorityInfoAccess"))?;
    Ok(aia.and_then(|(_, aia)| {
        aia.0.into_iter().find_map(|a| match a.access_location {
            GeneralName::UniformResourceIdentifier(u) if a.access_method == ID_AD_OCSP => {
                Some(u.to_string())
            }
            _ => None,
        })
    }))
}

const ID_AD_OCSP: const_oid::ObjectIdentifier =
    const_oid::ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.48.1");

fn uri(url: &str) -> Result<GeneralName, PkiError> {
    if url.is_empty() || !url.is_ascii() || url.len() > 512 {
        return Err(PkiError::InvalidInput(format!(
            "revocation URL {url:?}: 1 to 512 ASCII characters"
        )));
    }
    Ok(GeneralName::UniformResourceIdentifier(
        Ia5String::new(url).map_err(encoding("URL"))?,
    ))
}

fn revocation_extensions(pointers: &RevocationPointers<'_>) -> Result<Vec<Extension>, PkiError> {
    let mut out = vec![extension(
        &AuthorityInfoAccessSyntax(vec![AccessDescription {
            access_method: ID_AD_OCSP,
            access_location: uri(pointers.ocsp_url)?,
        }]),
        false,
    )?];
    if let Some(crl_url) = pointers.crl_url {
        out.push(extension(
            &CrlDistributionPoints(vec![DistributionPoint {
                distribution_point: Some(DistributionPointName::FullName(vec![uri(crl_url)?])),
                reasons: None,
                crl_issuer: None,
            }]),
            false,
        )?);
    }
    Ok(out)
}

/// An end-entity v3 certificate (DER) for `subject`, issued by the CA certificate
/// `ca_cert_der` whose key is `ca_key`: as [`issue_certificate`], with the key usage and
/// extended key usage of `subject.purpose`.
///
/// The CA certificate must be for `ca_key` ([`PkiError::KeyMismatch`]) and a CA
/// ([`PkiError::NotCa`]); the subject key must be an SM2 or P-256 key.
pub fn issue_end_entity(
    ca_key: &(impl IssuerKey + ?Sized),
    ca_cert_der: &[u8],
    subject: &EndEntity<'_>,
    serial: &[u8; 16],
    validity_days: u32,
    now_unix: u64,
) -> Result<Vec<u8>, PkiError> {
    let name = name::common_name(subject.common_name)?;
    issue_end_entity_named(
        ca_key,
        ca_cert_der,
        subject,
        name,
        serial,
        validity_days,
        now_unix,
    )
}

/// [`issue_end_entity`] with the subject name `subject_name` instead of
/// `CN=<subject.common_name>` (organisation certificates carry O, CN and
/// organizationIdentifier).
pub(crate) fn issue_end_entity_named(
    ca_key: &(impl IssuerKey + ?Sized),
    ca_cert_der: &[u8],
    subject: &EndEntity<'_>,
    subject_name: Name,
    serial: &[u8; 16],
    validity_days: u32,
    now_unix: u64,
) -> Result<Vec<u8>, PkiError> {
    let ca = ParsedCertificate::parse(ca_cert_der)?;
    let ca_spki = ca_key.subject_public_key_info()?;
    if *ca.certificate.tbs_certificate().subject_public_key_info() != ca_spki {
        return Err(PkiError::KeyMismatch);
    }
    require_ca(&ca)?;
    let (curve, _) = ec_public_key_parts(&subject.subject_public_key_info)?;
    if curve != SM2_CURVE && curve != PRIME256V1 {
        return Err(PkiError::UnsupportedAlgorithm(format!(
            "EC curve {curve} (expected sm2 or prime256v1)"
        )));
    }
    let ca_tbs = ca.certificate.tbs_certificate();
    let (_, ca_not_after) = time::bounds(ca_tbs.validity());
    let mut extensions = vec![
        extension(
            &BasicConstraints {
                ca: false,
                path_len_constraint: None,
            },
            true,
        )?,
        extension(&KeyUsage(purpose_key_usage(subject.purpose)), true)?,
        authority_key_identifier(&ca, ca_key)?,
        extension(
            &subject_key_identifier(&spki_key_identifier(&subject.subject_public_key_info)?)?,
            false,
        )?,
    ];
    match (subject.purpose, &subject.revocation) {
        (CertificatePurpose::OcspSigning, Some(_)) => {
            return Err(PkiError::InvalidInput(
                "an OCSP responder certificate carries ocsp-nocheck, not revocation pointers"
                    .into(),
            ));
        }
        (_, Some(pointers)) => extensions.extend(revocation_extensions(pointers)?),
        (_, None) => {}
    }
    match subject.purpose {
        CertificatePurpose::DocumentSigning
        | CertificatePurpose::KeyEncipherment
        | CertificatePurpose::KeyAgreement => {}
        CertificatePurpose::TimeStamping => extensions.push(extension(
            &ExtendedKeyUsage(vec![ID_KP_TIME_STAMPING]),
            true,
        )?),
        CertificatePurpose::OcspSigning => {
            extensions.push(extension(
                &ExtendedKeyUsage(vec![ID_KP_OCSP_SIGNING]),
                false,
            )?);
            extensions.push(Extension {
                extn_id: ID_PKIX_OCSP_NOCHECK,
                critical: false,
                extn_value: OctetString::new(der::asn1::Null.to_der().map_err(encoding("NULL"))?)
                    .map_err(encoding("ocsp-nocheck"))?,
            });
        }
    }
    let tbs = TbsCertificate {
        version: Version::V3,
        serial_number: SerialNumber::new(&positive_serial(*serial)?)
            .map_err(encoding("serial number"))?,
        signature: ca_key.signature_algorithm(),
        issuer: ca_tbs.subject().clone(),
        validity: time::validity(now_unix, validity_days, Some(ca_not_after))?,
        subject: subject_name,
        subject_public_key_info: subject.subject_public_key_info.clone(),
        extensions: Some(extensions),
    };
    sign_certificate(ca_key, &tbs)
}

fn purpose_key_usage(purpose: CertificatePurpose) -> der::flagset::FlagSet<KeyUsages> {
    match purpose {
        CertificatePurpose::DocumentSigning | CertificatePurpose::TimeStamping => {
            KeyUsages::DigitalSignature | KeyUsages::NonRepudiation
        }
        CertificatePurpose::OcspSigning => KeyUsages::DigitalSignature.into(),
        CertificatePurpose::KeyEncipherment => KeyUsages::KeyEncipherment.into(),
        CertificatePurpose::KeyAgreement => KeyUsages::KeyAgreement.into(),
    }
}

/// The authorityKeyIdentifier extension naming `ca`: its subjectKeyIdentifier, or the
/// identifier of `ca_key` when the certificate has none (certificates and CRLs alike).
pub(crate) fn authority_key_identifier(
    ca: &ParsedCertificate<'_>,
    ca_key: &(impl IssuerKey + ?Sized),
) -> Result<Extension, PkiError> {
    let key_id = match ca
        .certificate
        .tbs_certificate()
        .get_extension::<SubjectKeyIdentifier>()
        .map_err(malformed("CA subjectKeyIdentifier"))?
    {
        Some((_, ski)) => ski.0,
        None => OctetString::new(spki_key_identifier(&ca_key.subject_public_key_info()?)?.to_vec())
            .map_err(encoding("key identifier"))?,
    };
    extension(
        &AuthorityKeyIdentifier {
            key_identifier: Some(key_id),
            authority_cert_issuer: None,
            authority_cert_serial_number: None,
        },
        false,
    )
}

/// DER-encode the TBSCertificate, sign it and wrap it into a Certificate.
fn sign_certificate(
    key: &(impl IssuerKey + ?Sized),
    tbs: &TbsCertificate,
) -> Result<Vec<u8>, PkiError> {
    let tbs_der = tbs.to_der().map_err(encoding("TBSCertificate"))?;
    let signature = key.sign_to_der(&tbs_der)?;
    Signed::assemble_with(&tbs_der, key.signature_algorithm(), &signature)
}

/// An extension carrying the DER of `value`.
pub(crate) fn extension<T: Encode + AssociatedOid>(
    value: &T,
    critical: bool,
) -> Result<Extension, PkiError> {
    let der = value.to_der().map_err(encoding("extension"))?;
    Ok(Extension {
        extn_id: T::OID,
        critical,
        extn_value: OctetString::new(der).map_err(encoding("extension"))?,
    })
}

fn subject_key_identifier(key_id: &[u8; 20]) -> Result<SubjectKeyIdentifier, PkiError> {
    OctetString::new(key_id.to_vec())
        .map(SubjectKeyIdentifier)
        .map_err(encoding("key identifier"))
}

/// Clear the top bit so the DER INTEGER is positive without a sign octet; refuse zero.
fn positive_serial(mut serial: [u8; 16]) -> Result<[u8; 16], PkiError> {
    serial[0] &= 0x7f;
    if serial.iter().all(|b| *b == 0) {
        return Err(PkiError::InvalidInput("serial number is zero".into()));
    }
    Ok(serial)
}

/// A serial for the self-signed certificate: SM3 over the key identifier and the issue time.
fn derived_serial(key_id: &[u8; 20], now_unix: u64) -> [u8; 16] {
    let digest = Sm3::new()
        .chain_update(b"inkseal/pki/v1/ca-serial")
        .chain_update(key_id)
        .chain_update(now_unix.to_be_bytes())
        .finalize();
    let mut serial = [0u8; 16];
    serial.copy_from_slice(&digest[..16]);
    serial[0] |= 0x01; // never all-zero once the top bit is cleared
    serial
}
