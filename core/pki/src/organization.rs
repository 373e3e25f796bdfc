//! Organisation (e-seal) certificates: the unified social credit code and the subject that
//! carries it.
//!
//! A Chinese institution is identified by its **unified social credit code** (统一社会信用代码,
//! GB 32100-2015): 18 characters from `0123456789ABCDEFGHJKLMNPQRTUWXY` (no I, O, S, V, Z),
//! the last a check character over the first 17 ([`CreditCode::parse`]). An e-seal's
//! certificate names the institution in `O`, the seal (its purpose, e.g. 合同专用章) in `CN`,
//! and carries the code as `organizationIdentifier` (X.520, 2.5.4.97) in the ETSI EN 319 412-1
//! semantics `NTRCN-<code>` (national trade register, China), with `C=CN`.

use crate::ca::{EndEntity, issue_end_entity_named};
use crate::error::{PkiError, encoding};
use crate::key::IssuerKey;
use crate::verify::ParsedCertificate;
use const_oid::ObjectIdentifier;
use const_oid::db::rfc4519::{COMMON_NAME, COUNTRY_NAME, ORGANIZATION_NAME};
use der::asn1::Any;
use der::{Decode, Encode, Tag};
use x509_cert::attr::AttributeTypeAndValue;
use x509_cert::name::{Name, RdnSequence, RelativeDistinguishedName};

/// X.520 organizationIdentifier.
pub const ORGANIZATION_IDENTIFIER: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.97");

/// The prefix of the organizationIdentifier value (ETSI EN 319 412-1 §5.1.4: national trade
/// register, country CN).
pub const ORGANIZATION_IDENTIFIER_PREFIX: &str = "NTRCN-";

/// The characters of a unified social credit code, in the order of their values (0..=30).
const CREDIT_CODE_ALPHABET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";

/// Weights of the first 17 characters (3^i mod 31).
const CREDIT_CODE_WEIGHTS: [u32; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];

/// Upper bound on an organisation name (X.520 ub-organization-name).
pub const MAX_ORGANIZATION_NAME_CHARS: usize = 64;

/// Why a unified social credit code is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CreditCodeError {
    /// Not 18 characters.
    #[error("a unified social credit code has 18 characters, not {0}")]
    Length(usize),
    /// A character outside `0-9 A-H J-N P-R T U W-Y` (1-based position).
    #[error("character {position} ({found:?}) is not allowed in a unified social credit code")]
    Character {
        /// 1-based position.
        position: usize,
        /// The character found.
        found: char,
    },
    /// The check character (the 18th) is not the one the first 17 give.
    #[error("the check character is {found:?}, the code's first 17 characters give {expected:?}")]
    CheckCharacter {
        /// The check character the first 17 give.
        expected: char,
        /// The one given.
        found: char,
    },
}

/// A unified social credit code whose characters and check character are valid.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CreditCode(String);

impl CreditCode {
    /// Check `code` (upper case, no spaces) against GB 32100: 18 characters from the
    /// alphabet, and the 18th equal to `31 - (Σ value_i · weight_i mod 31)` (31 maps to `0`).
    pub fn parse(code: &str) -> Result<Self, CreditCodeError> {
        let chars: Vec<char> = code.chars().collect();
        if chars.len() != 18 {
            return Err(CreditCodeError::Length(chars.len()));
        }
        let mut values = [0u32; 18];
        for (i, c) in chars.iter().enumerate() {
            values[i] = credit_code_value(*c).ok_or(CreditCodeError::Character {
                position: i + 1,
                found: *c,
            })?;
        }
        let sum: u32 = values[..17]
            .iter()
            .zip(CREDIT_CODE_WEIGHTS)
            .map(|(v, w)| v * w)
            .sum();
        let check = (31 - sum % 31) % 31;
        if values[17] != check {
            return Err(CreditCodeError::CheckCharacter {
                expected: char::from(CREDIT_CODE_ALPHABET[check as usize]),
                found: chars[17],
            });
        }
        Ok(CreditCode(code.to_owned()))
    }

    /// The code.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for CreditCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn credit_code_value(c: char) -> Option<u32> {
    let b = u8::try_from(c).ok()?;
    CREDIT_CODE_ALPHABET
        .iter()
        .position(|a| *a == b)
        .and_then(|p| u32::try_from(p).ok())
}

/// The institution an organisation certificate names.
#[derive(Debug, Clone)]
pub struct Organization<'a> {
    /// The institution's registered name (`O`).
    pub name: &'a str,
    /// The seal's name or purpose, e.g. 合同专用章 (`CN`).
    pub common_name: &'a str,
    /// The unified social credit code (`organizationIdentifier`, `NTRCN-<code>`).
    pub credit_code: &'a CreditCode,
}

fn text(what: &str, value: &str, max: usize) -> Result<(), PkiError> {
    let n = value.chars().count();
    if n == 0 || n > max || value.chars().any(char::is_control) {
        return Err(PkiError::InvalidInput(format!(
            "{what}: 1 to {max} characters, no control characters"
        )));
    }
    Ok(())
}

fn rdn(
    oid: ObjectIdentifier,
    tag: Tag,
    value: &str,
) -> Result<RelativeDistinguishedName, PkiError> {
    let atv = AttributeTypeAndValue {
        oid,
        value: Any::new(tag, value.as_bytes()).map_err(encoding("name attribute"))?,
    };
    RelativeDistinguishedName::try_from(vec![atv]).map_err(encoding("name attribute"))
}

/// The subject `C=CN, O=<name>, organizationIdentifier=NTRCN-<code>, CN=<common_name>`
/// (O and CN as UTF8String, the others as PrintableString).
pub fn organization_name(org: &Organization<'_>) -> Result<Name, PkiError> {
    text("organisation name", org.name, MAX_ORGANIZATION_NAME_CHARS)?;
    text(
        "seal name",
        org.common_name,
        crate::name::MAX_COMMON_NAME_CHARS,
    )?;
    let identifier = format!("{ORGANIZATION_IDENTIFIER_PREFIX}{}", org.credit_code);
    let mut rdns = RdnSequence::default();
    rdns.push(rdn(COUNTRY_NAME, Tag::PrintableString, "CN")?);
    rdns.push(rdn(ORGANIZATION_NAME, Tag::Utf8String, org.name)?);
    rdns.push(rdn(
        ORGANIZATION_IDENTIFIER,
        Tag::PrintableString,
        &identifier,
    )?);
    rdns.push(rdn(COMMON_NAME, Tag::Utf8String, org.common_name)?);
    let der = rdns.to_der().map_err(encoding("name"))?;
    Name::from_der(&der).map_err(encoding("name"))
}

/// An organisation (e-seal) certificate: [`crate::issue_end_entity`] with the subject
/// [`organization_name`] (`subject.common_name` is ignored in favour of
/// `org.common_name`). Use [`crate::CertificatePurpose::DocumentSigning`] for a seal, and
/// [`crate::CertificatePurpose::KeyAgreement`] (P-256) or
/// [`crate::CertificatePurpose::KeyEncipherment`] (SM2) for an encryption key.
pub fn issue_organization_certificate(
    ca_key: &(impl IssuerKey + ?Sized),
    ca_cert_der: &[u8],
    subject: &EndEntity<'_>,
    org: &Organization<'_>,
    serial: &[u8; 16],
    validity_days: u32,
    now_unix: u64,
) -> Result<Vec<u8>, PkiError> {
    issue_end_entity_named(
        ca_key,
        ca_cert_der,
        subject,
        organization_name(org)?,
        serial,
        validity_days,
        now_unix,
    )
}

/// What a certificate's subject says about an organisation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SubjectOrganization {
    /// `O`, if present.
    pub organization: Option<String>,
    /// `organizationIdentifier`, if present (e.g. `NTRCN-91350100M000100Y43`).
    pub organization_identifier: Option<String>,
    /// `CN`, if present.
    pub common_name: Option<String>,
}

impl SubjectOrganization {
    /// The unified social credit code of an `NTRCN-` organizationIdentifier.
    pub fn credit_code(&self) -> Option<&str> {
        self.organization_identifier
            .as_deref()?
            .strip_prefix(ORGANIZATION_IDENTIFIER_PREFIX)
    }
}

/// The organisation attributes of a certificate's subject (the first of each).
pub fn certificate_organization(cert_der: &[u8]) -> Result<SubjectOrganization, PkiError> {
    let cert = ParsedCertificate::parse(cert_der)?;
    let mut out = SubjectOrganization::default();
    for atv in cert.certificate.tbs_certificate().subject().iter() {
        let value = || -> Result<String, PkiError> {
            let bytes = atv.value.value();
            std::str::from_utf8(bytes)
                .map(str::to_owned)
                .map_err(|_| PkiError::Malformed("name attribute is not text".into()))
        };
        let slot = if atv.oid == ORGANIZATION_NAME {
            &mut out.organization
        } else if atv.oid == ORGANIZATION_IDENTIFIER {
            &mut out.organization_identifier
        } else if atv.oid == COMMON_NAME {
            &mut out.common_name
        } else {
            continue;
        };
        if slot.is_none() {
            *slot = Some(value()?);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credit_codes_are_checked() {
        // Published example codes with valid check characters.
        for ok in [
            "91350100M000100Y43",
            "911100001000044477",
            "91110000802100433B",
        ] {
            assert_eq!(
                CreditCode::parse(ok).map(|c| c.0),
                Ok(ok.to_owned()),
                "{ok}"
            );
        }
        assert_eq!(
            CreditCode::parse("91350100M000100Y44"),
            Err(CreditCodeError::CheckCharacter {
                expected: '3',
                found: '4'
            })
        );
        assert_eq!(
            CreditCode::parse("9135010"),
            Err(CreditCodeError::Length(7))
        );
        assert!(matches!(
            CreditCode::parse("91350100I000100Y43"),
            Err(CreditCodeError::Character { position: 9, .. })
        ));
        assert!(matches!(
            CreditCode::parse("91350100m000100Y43"),
            Err(CreditCodeError::Character { position: 9, .. })
        ));
    }

    #[test]
    fn a_check_value_of_31_is_written_zero() {
        // Find the first 17 characters whose sum is ≡ 0 mod 31: the check character is '0'.
        let mut base: Vec<u8> = b"91350100M000100Y4".to_vec();
        for c in CREDIT_CODE_ALPHABET {
            base[16] = *c;
            let s = std::str::from_utf8(&base).expect("ascii");
            for check in CREDIT_CODE_ALPHABET {
                let code = format!("{s}{}", char::from(*check));
                if CreditCode::parse(&code).is_ok() && *check == b'0' {
                    return;
                }
            }
        }
        panic!("no code with check character 0 found");
    }
}
