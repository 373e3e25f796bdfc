//! Certificate revocation lists (RFC 5280 section 5) from the embedded SM2 CA.
//!
//! [`build_crl`] writes a complete (not delta) X.509 v2 CRL signed SM2-with-SM3 with the CA key
//! (default signer ID, like every signature this crate makes); [`parse_crl`] checks one against
//! the CA certificate and returns what it says, so the server, the SDK and the tests can read a
//! CRL without OpenSSL. [`certificate_serial`] gives the serial number the server records for
//! each certificate it issues, in the form [`RevokedCertificate::serial`] takes.
//!
//! Serial numbers cross this API as big-endian unsigned magnitudes without leading zero octets
//! (the DER sign octet of a serial with its top bit set is not part of it).

use crate::algorithm::{Signed, verify_sm2};
use crate::ca::{authority_key_identifier, extension};
use crate::error::{PkiError, encoding, malformed};
use crate::key::IssuerKey;
use crate::time::time_at;
use crate::verify::{ParsedCertificate, require_ca_usage};
use const_oid::AssociatedOid;
use const_oid::db::rfc5280::{ID_CE_AUTHORITY_KEY_IDENTIFIER, ID_CE_CRL_NUMBER, ID_CE_CRL_REASONS};
use der::{Decode, Encode};
use std::collections::HashSet;
use x509_cert::Version;
use x509_cert::crl::{CertificateList, RevokedCert, TbsCertList};
use x509_cert::ext::pkix::crl::CrlReason;
use x509_cert::ext::pkix::{AuthorityKeyIdentifier, CrlNumber, KeyUsages, SubjectKeyIdentifier};
use x509_cert::ext::{Extension, Extensions};
use x509_cert::serial_number::SerialNumber;
use x509_cert::time::Time;

/// Largest CRL (DER bytes) [`parse_crl`] accepts and [`build_crl`] produces.
pub const MAX_CRL_BYTES: usize = 1024 * 1024;

/// Longest serial number (octets of magnitude) accepted in a CRL entry (RFC 5280 section
/// 4.1.2.2: conforming CAs use at most 20 octets).
const MAX_SERIAL_OCTETS: usize = 20;

/// Why a certificate was revoked: the CRLReason values of RFC 5280 section 5.3.1 that a complete
/// CRL can carry (removeFromCRL belongs to delta CRLs, which this crate does not produce).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RevocationReason {
    /// unspecified (0). RFC 5280 asks for the reasonCode extension to be left out rather than
    /// carry this value, so [`build_crl`] writes no reasonCode for it.
    Unspecified,
    /// keyCompromise (1): the certified key (here: a share of the joint key) is compromised.
    KeyCompromise,
    /// cACompromise (2).
    CaCompromise,
    /// affiliationChanged (3): the subject's name or relationship changed.
    AffiliationChanged,
    /// superseded (4): a new certificate replaces this one.
    Superseded,
    /// cessationOfOperation (5): the certificate is no longer needed.
    CessationOfOperation,
    /// certificateHold (6): suspended; may be lifted by leaving the entry out of a later CRL.
    CertificateHold,
    /// privilegeWithdrawn (9).
    PrivilegeWithdrawn,
    /// aACompromise (10).
    AaCompromise,
}

impl RevocationReason {
    pub(crate) fn to_x509(self) -> CrlReason {
        match self {
            Self::Unspecified => CrlReason::Unspecified,
            Self::KeyCompromise => CrlReason::KeyCompromise,
            Self::CaCompromise => CrlReason::CaCompromise,
            Self::AffiliationChanged => CrlReason::AffiliationChanged,
            Self::Superseded => CrlReason::Superseded,
            Self::CessationOfOperation => CrlReason::CessationOfOperation,
            Self::CertificateHold => CrlReason::CertificateHold,
            Self::PrivilegeWithdrawn => CrlReason::PrivilegeWithdrawn,
            Self::AaCompromise => CrlReason::AaCompromise,
        }
    }

    pub(crate) fn from_x509(reason: CrlReason) -> Result<Self, PkiError> {
        Ok(match reason {
            CrlReason::Unspecified => Self::Unspecified,
            CrlReason::KeyCompromise => Self::KeyCompromise,
            CrlReason::CaCompromise => Self::CaCompromise,
            CrlReason::AffiliationChanged => Self::AffiliationChanged,
            CrlReason::Superseded => Self::Superseded,
            CrlReason::CessationOfOperation => Self::CessationOfOperation,
            CrlReason::CertificateHold => Self::CertificateHold,
            CrlReason::PrivilegeWithdrawn => Self::PrivilegeWithdrawn,
            CrlReason::AaCompromise => Self::AaCompromise,
            CrlReason::RemoveFromCRL => {
                return Err(PkiError::Malformed(
                    "removeFromCRL reason in a complete CRL".into(),
                ));
            }
        })
    }
}

/// One entry of a CRL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevokedCertificate {
    /// The certificate's serial number: big-endian, positive (leading zero octets are ignored
    /// when building and never returned when parsing). See [`certificate_serial`].
    pub serial: Vec<u8>,
    /// When the certificate was revoked (Unix seconds).
    pub revoked_at_unix: u64,
    /// The reasonCode entry extension; `None` when absent. [`build_crl`] writes none for
    /// `Some(Unspecified)`, so that entry parses back as `None`.
    pub reason: Option<RevocationReason>,
}

/// What a CRL that passed [`parse_crl`] says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedCrl {
    /// The cRLNumber extension (monotonically increasing per CA).
    pub crl_number: u64,
    /// thisUpdate (Unix seconds).
    pub this_update_unix: u64,
    /// nextUpdate (Unix seconds): a relying party should not use this CRL after it.
    pub next_update_unix: u64,
    /// The revoked certificates, in CRL order.
    pub revoked: Vec<RevokedCertificate>,
}

impl ParsedCrl {
    /// The entry for `serial` (big-endian; leading zero octets ignored), if it is revoked.
    pub fn revocation_of(&self, serial: &[u8]) -> Option<&RevokedCertificate> {
        let serial = strip_leading_zeros(serial);
        self.revoked.iter().find(|r| r.serial == serial)
    }
}

/// A DER X.509 v2 CRL (RFC 5280 section 5) issued by the CA certificate `ca_cert_der`, whose
/// key is `ca_key`, signed with that key's algorithm (SM2-with-SM3 with the default signer ID,
/// or ecdsa-with-SHA256).
///
/// issuer = the CA certificate's subject; thisUpdate / nextUpdate as UTCTime through 2049 and
/// GeneralizedTime from 2050 (RFC 5280 section 5.1.2.4); revokedCertificates in the order
/// given, each with its serial, revocationDate and, unless the reason is `None` or
/// `Unspecified`, a reasonCode entry extension (omitted entirely when `revoked` is empty);
/// crlExtensions authorityKeyIdentifier (the CA's subjectKeyIdentifier, as
/// [`crate::issue_certificate`] writes it) and cRLNumber.
///
/// Refused: a CA certificate that is not for `ca_key` ([`PkiError::KeyMismatch`]), not a CA
/// ([`PkiError::NotCa`]) or whose keyUsage lacks cRLSign ([`PkiError::NotCrlSigner`]);
/// nextUpdate not after thisUpdate, a zero, empty, over-long (more than 20 octets) or repeated
/// serial, and a CRL larger than [`MAX_CRL_BYTES`] ([`PkiError::InvalidInput`]).
pub fn build_crl(
    ca_key: &(impl IssuerKey + ?Sized),
    ca_cert_der: &[u8],
    revoked: &[RevokedCertificate],
    crl_number: u64,
    this_update_unix: u64,
    next_update_unix: u64,
) -> Result<Vec<u8>, PkiError> {
    let ca = ParsedCertificate::parse(ca_cert_der)?;
    if *ca.certificate.tbs_certificate().subject_public_key_info()
        != ca_key.subject_public_key_info()?
    {
        return Err(PkiError::KeyMismatch);
    }
    require_crl_signer(&ca)?;
    if next_update_unix <= this_update_unix {
        return Err(PkiError::InvalidInput(
            "nextUpdate must be later than thisUpdate".into(),
        ));
    }
    let ca_tbs = ca.certificate.tbs_certificate();

    let mut entries: Vec<RevokedCert> = Vec::with_capacity(revoked.len());
    let mut seen: HashSet<&[u8]> = HashSet::with_capacity(revoked.len());
    for entry in revoked {
        let serial = strip_leading_zeros(&entry.serial);
        if serial.is_empty() {
            return Err(PkiError::InvalidInput(
                "revoked serial number is zero or empty".into(),
            ));
        }
        if serial.len() > MAX_SERIAL_OCTETS {
            return Err(PkiError::InvalidInput(format!(
                "revoked serial number longer than {MAX_SERIAL_OCTETS} octets"
            )));
        }
        if !seen.insert(serial) {
            return Err(PkiError::InvalidInput(
                "a serial number is listed twice".into(),
            ));
        }
        let serial_number: SerialNumber = SerialNumber::new(serial).map_err(|e| {
            PkiError::InvalidInput(format!("revoked serial number cannot be encoded: {e}"))
        })?;
        let crl_entry_extensions = match entry.reason {
            None | Some(RevocationReason::Unspecified) => None,
            Some(reason) => Some(vec![extension(&reason.to_x509(), false)?]),
        };
        entries.push(RevokedCert {
            serial_number,
            revocation_date: time_at(entry.revoked_at_unix)?,
            crl_entry_extensions,
        });
    }

    let crl_extensions: Extensions = vec![
        authority_key_identifier(&ca, ca_key)?,
        extension(
            &CrlNumber::try_from(crl_number).map_err(encoding("cRLNumber"))?,
            false,
        )?,
    ];
    let tbs = TbsCertList {
        version: Version::V2,
        signature: ca_key.signature_algorithm(),
        issuer: ca_tbs.subject().clone(),
        this_update: time_at(this_update_unix)?,
        next_update: Some(time_at(next_update_unix)?),
        revoked_certificates: (!entries.is_empty()).then_some(entries),
        crl_extensions: Some(crl_extensions),
    };
    let tbs_der = tbs.to_der().map_err(encoding("TBSCertList"))?;
    // The signed envelope adds well under 200 bytes to the TBSCertList.
    if tbs_der.len() + 200 > MAX_CRL_BYTES {
        return Err(PkiError::InvalidInput(format!(
            "the CRL would be larger than {MAX_CRL_BYTES} bytes"
        )));
    }
    let signature = ca_key.sign_to_der(&tbs_der)?;
    Signed::assemble_with(&tbs_der, ca_key.signature_algorithm(), &signature)
}

/// Check a DER CRL against the CA certificate `ca_cert_der` and return its contents.
///
/// Checks, in order: size ([`MAX_CRL_BYTES`], [`PkiError::TooLarge`]); DER structure, version
/// v2, signatureAlgorithm SM2-with-SM3 equal to the TBSCertList's ([`PkiError::Malformed`],
/// [`PkiError::UnsupportedAlgorithm`]); issuer = the CA's subject ([`PkiError::IssuerMismatch`]);
/// the CA certificate is a CA (basicConstraints CA:true, [`PkiError::NotCa`]) allowed to sign
/// CRLs (cRLSign when keyUsage is present, [`PkiError::NotCrlSigner`]); the SM2 signature
/// (default signer ID) over the TBSCertList bytes as they appear in the input
/// ([`PkiError::BadSignature`]); the authorityKeyIdentifier, when both it and the CA's
/// subjectKeyIdentifier are present, equals the latter ([`PkiError::IssuerMismatch`]); a
/// cRLNumber and a nextUpdate are present, no extension appears twice, and no CRL or entry
/// extension is critical other than those understood here ([`PkiError::UnsupportedCriticalExtension`]: issuingDistributionPoint,
/// deltaCRLIndicator and certificateIssuer, i.e. partitioned, delta and indirect CRLs, are
/// refused).
///
/// Freshness is the caller's: compare `now` with [`ParsedCrl::next_update_unix`].
pub fn parse_crl(crl_der: &[u8], ca_cert_der: &[u8]) -> Result<ParsedCrl, PkiError> {
    if crl_der.len() > MAX_CRL_BYTES {
        return Err(PkiError::TooLarge(MAX_CRL_BYTES));
    }
    let (signed, tbs_der) = Signed::parse(crl_der, "CRL")?;
    let crl = CertificateList::from_der(crl_der).map_err(malformed("CRL"))?;
    let tbs = &crl.tbs_cert_list;
    if tbs.version != Version::V2 {
        return Err(PkiError::Malformed("CRL version is not v2".into()));
    }
    if crl.signature_algorithm != tbs.signature {
        return Err(PkiError::Malformed(
            "signatureAlgorithm differs from the TBSCertList's signature field".into(),
        ));
    }
    let signature = signed.sm2_signature()?;

    let ca = ParsedCertificate::parse(ca_cert_der)?;
    let ca_tbs = ca.certificate.tbs_certificate();
    if tbs.issuer != *ca_tbs.subject() {
        return Err(PkiError::IssuerMismatch);
    }
    require_crl_signer(&ca)?;

    verify_sm2(&ca.public_key()?, &tbs_der, &signature)?;

    let extensions = tbs.crl_extensions.as_deref().unwrap_or_default();
    check_extensions(
        extensions,
        &[ID_CE_AUTHORITY_KEY_IDENTIFIER, ID_CE_CRL_NUMBER],
    )?;
    if let Some(aki) = find_extension::<AuthorityKeyIdentifier>(extensions)? {
        let ca_ski = ca_tbs
            .get_extension::<SubjectKeyIdentifier>()
            .map_err(malformed("CA subjectKeyIdentifier"))?;
        if let (Some(crl_key_id), Some((_, ski))) = (aki.key_identifier, ca_ski) {
            if crl_key_id != ski.0 {
                return Err(PkiError::IssuerMismatch);
            }
        }
    }

    let crl_number = find_extension::<CrlNumber>(extensions)?
        .ok_or_else(|| PkiError::Malformed("CRL has no cRLNumber".into()))?;
    let crl_number = uint_to_u64(crl_number.0.as_bytes())
        .ok_or_else(|| PkiError::Malformed("cRLNumber does not fit in 64 bits".into()))?;
    let next_update = tbs
        .next_update
        .ok_or_else(|| PkiError::Malformed("CRL has no nextUpdate".into()))?;

    let mut revoked = Vec::new();
    for entry in tbs.revoked_certificates.iter().flatten() {
        let entry_extensions = entry.crl_entry_extensions.as_deref().unwrap_or_default();
        check_extensions(entry_extensions, &[ID_CE_CRL_REASONS])?;
        let reason = find_extension::<CrlReason>(entry_extensions)?
            .map(RevocationReason::from_x509)
            .transpose()?;
        revoked.push(RevokedCertificate {
            serial: positive_serial_bytes(&entry.serial_number)?,
            revoked_at_unix: unix(&entry.revocation_date),
            reason,
        });
    }
    Ok(ParsedCrl {
        crl_number,
        this_update_unix: unix(&tbs.this_update),
        next_update_unix: unix(&next_update),
        revoked,
    })
}

/// The serial number of a certificate (DER, at most [`crate::MAX_CERTIFICATE_BYTES`]), as a
/// big-endian positive integer without leading zero octets: what [`RevokedCertificate::serial`]
/// takes. A negative serial (from a non-conforming CA) is [`PkiError::Malformed`].
pub fn certificate_serial(cert_der: &[u8]) -> Result<Vec<u8>, PkiError> {
    let cert = ParsedCertificate::parse(cert_der)?;
    positive_serial_bytes(cert.certificate.tbs_certificate().serial_number())
}

/// The magnitude of a DER INTEGER serial; negative ones are refused.
fn positive_serial_bytes(serial: &SerialNumber) -> Result<Vec<u8>, PkiError> {
    let bytes = serial.as_bytes();
    match bytes.first() {
        None => Err(PkiError::Malformed("empty serial number".into())),
        Some(b) if b & 0x80 != 0 => Err(PkiError::Malformed("negative serial number".into())),
        Some(_) => {
            let magnitude = strip_leading_zeros(bytes);
            Ok(if magnitude.is_empty() {
                vec![0]
            } else {
                magnitude.to_vec()
            })
        }
    }
}

fn strip_leading_zeros(bytes: &[u8]) -> &[u8] {
    let start = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
    &bytes[start..]
}

/// A big-endian unsigned integer as u64, if it fits.
fn uint_to_u64(bytes: &[u8]) -> Option<u64> {
    let bytes = strip_leading_zeros(bytes);
    if bytes.len() > 8 {
        return None;
    }
    Some(bytes.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b)))
}

/// Require basicConstraints CA:true and, when keyUsage is present, cRLSign.
fn require_crl_signer(ca: &ParsedCertificate<'_>) -> Result<(), PkiError> {
    require_ca_usage(ca, KeyUsages::CRLSign, PkiError::NotCrlSigner)
}

/// Refuse repeated extensions and critical extensions not in `understood`.
fn check_extensions(
    extensions: &[Extension],
    understood: &[const_oid::ObjectIdentifier],
) -> Result<(), PkiError> {
    for (i, ext) in extensions.iter().enumerate() {
        if extensions[..i].iter().any(|e| e.extn_id == ext.extn_id) {
            return Err(PkiError::Malformed(format!(
                "extension {} appears twice",
                ext.extn_id
            )));
        }
        if ext.critical && !understood.contains(&ext.extn_id) {
            return Err(PkiError::UnsupportedCriticalExtension(
                ext.extn_id.to_string(),
            ));
        }
    }
    Ok(())
}

/// Decode the extension of type `T`, if present (its value must be exactly one DER `T`).
fn find_extension<'a, T: AssociatedOid + Decode<'a>>(
    extensions: &'a [Extension],
) -> Result<Option<T>, PkiError> {
    extensions
        .iter()
        .find(|e| e.extn_id == T::OID)
        .map(|e| {
            T::from_der(e.extn_value.as_bytes())
                .map_err(|err| PkiError::Malformed(format!("extension {}: {err}", T::OID)))
        })
        .transpose()
}

fn unix(time: &Time) -> u64 {
    time.to_unix_duration().as_secs()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helpers() {
        assert_eq!(strip_leading_zeros(&[0, 0, 1, 0]), &[1, 0]);
        assert_eq!(strip_leading_zeros(&[0, 0]), &[] as &[u8]);
        assert_eq!(uint_to_u64(&[0, 1, 2]), Some(0x102));
        assert_eq!(uint_to_u64(&[0xff; 8]), Some(u64::MAX));
        assert_eq!(uint_to_u64(&[1; 9]), None);
        assert_eq!(uint_to_u64(&[]), Some(0));
        // UTCTime through 2049, GeneralizedTime from 2050 (RFC 5280 section 5.1.2.4).
        assert!(matches!(time_at(2_524_607_999), Ok(Time::UtcTime(_))));
        assert!(matches!(time_at(2_524_608_000), Ok(Time::GeneralTime(_))));
        let serial =
            SerialNumber::<x509_cert::certificate::Rfc5280>::new(&[0x80, 1]).expect("serial");
        assert_eq!(positive_serial_bytes(&serial), Ok(vec![0x80, 1]));
    }
}
