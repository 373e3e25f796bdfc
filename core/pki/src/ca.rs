//! The embedded CA: a self-signed SM2 root and end-entity certificates for verified CSRs.

use crate::algorithm::{Signed, key_identifier, sm2_spki, sm2_with_sm3};
use crate::csr::VerifiedCsr;
use crate::error::{PkiError, encoding, malformed};
use crate::key::CaKey;
use crate::verify::{ParsedCertificate, require_ca};
use crate::{name, time};
use const_oid::AssociatedOid;
use der::asn1::OctetString;
use der::{Encode, Sequence};
use sm3::{Digest, Sm3};
use spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};
use x509_cert::Version;
use x509_cert::ext::pkix::{
    AuthorityKeyIdentifier, BasicConstraints, KeyUsage, KeyUsages, SubjectKeyIdentifier,
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
/// [`crate::NOT_BEFORE_BACKDATE_SECS`]) for `validity_days` days; signed SM2-with-SM3. The serial
/// number is derived from the key and `now_unix`, so the function is deterministic.
pub fn self_signed_ca(
    key: &CaKey,
    common_name: &str,
    validity_days: u32,
    now_unix: u64,
) -> Result<Vec<u8>, PkiError> {
    let subject = name::common_name(common_name)?;
    let key_id = key_identifier(key.public_key());
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
        signature: sm2_with_sm3(),
        issuer: subject.clone(),
        validity: time::validity(now_unix, validity_days, None)?,
        subject,
        subject_public_key_info: sm2_spki(key.public_key())?,
        extensions: Some(extensions),
    };
    sign_certificate(key, &tbs)
}

/// An end-entity v3 certificate (DER) for a verified CSR, issued by the CA certificate
/// `ca_cert_der` whose key is `ca_key`.
///
/// Subject `CN=<csr.common_name>`, issuer the CA's subject, serial `serial` with its top bit
/// cleared (so it is positive; all-zero is refused). Extensions: basicConstraints (critical)
/// CA:false; keyUsage (critical) digitalSignature, nonRepudiation; authorityKeyIdentifier (the
/// CA's subjectKeyIdentifier); subjectKeyIdentifier. Valid from `now_unix` (backdated by
/// [`crate::NOT_BEFORE_BACKDATE_SECS`]) for `validity_days` days, but not beyond the CA
/// certificate's notAfter. Signed SM2-with-SM3.
pub fn issue_certificate(
    ca_key: &CaKey,
    ca_cert_der: &[u8],
    csr: &VerifiedCsr,
    serial: &[u8; 16],
    validity_days: u32,
    now_unix: u64,
) -> Result<Vec<u8>, PkiError> {
    let ca = ParsedCertificate::parse(ca_cert_der)?;
    if ca.public_key()? != *ca_key.public_key() {
        return Err(PkiError::KeyMismatch);
    }
    require_ca(&ca)?;
    let ca_tbs = ca.certificate.tbs_certificate();
    let (_, ca_not_after) = time::bounds(ca_tbs.validity());
    let extensions = vec![
        extension(
            &BasicConstraints {
                ca: false,
                path_len_constraint: None,
            },
            true,
        )?,
        extension(
            &KeyUsage(KeyUsages::DigitalSignature | KeyUsages::NonRepudiation),
            true,
        )?,
        authority_key_identifier(&ca, ca_key)?,
        extension(
            &subject_key_identifier(&key_identifier(&csr.public_key))?,
            false,
        )?,
    ];
    let tbs = TbsCertificate {
        version: Version::V3,
        serial_number: SerialNumber::new(&positive_serial(*serial)?)
            .map_err(encoding("serial number"))?,
        signature: sm2_with_sm3(),
        issuer: ca_tbs.subject().clone(),
        validity: time::validity(now_unix, validity_days, Some(ca_not_after))?,
        subject: name::common_name(&csr.common_name)?,
        subject_public_key_info: sm2_spki(&csr.public_key)?,
        extensions: Some(extensions),
    };
    sign_certificate(ca_key, &tbs)
}

/// The authorityKeyIdentifier extension naming `ca`: its subjectKeyIdentifier, or the
/// identifier of `ca_key` when the certificate has none (certificates and CRLs alike).
pub(crate) fn authority_key_identifier(
    ca: &ParsedCertificate<'_>,
    ca_key: &CaKey,
) -> Result<Extension, PkiError> {
    let key_id = match ca
        .certificate
        .tbs_certificate()
        .get_extension::<SubjectKeyIdentifier>()
        .map_err(malformed("CA subjectKeyIdentifier"))?
    {
        Some((_, ski)) => ski.0,
        None => OctetString::new(key_identifier(ca_key.public_key()).to_vec())
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
fn sign_certificate(key: &CaKey, tbs: &TbsCertificate) -> Result<Vec<u8>, PkiError> {
    let tbs_der = tbs.to_der().map_err(encoding("TBSCertificate"))?;
    let signature = key.sign(&tbs_der)?;
    Signed::assemble(&tbs_der, &signature)
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
