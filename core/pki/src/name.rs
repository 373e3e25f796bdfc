//! Distinguished names: a single commonName, encoded as UTF8String.

use crate::error::{PkiError, encoding, malformed};
use const_oid::db::rfc4519::COMMON_NAME;
use der::asn1::Any;
use der::{Decode, Encode, Tag};
use x509_cert::attr::AttributeTypeAndValue;
use x509_cert::name::{Name, RdnSequence, RelativeDistinguishedName};

/// Upper bound on a commonName's length in characters (X.520 ub-common-name).
pub const MAX_COMMON_NAME_CHARS: usize = 64;

/// Build the name `CN=<common_name>` with the value as UTF8String.
///
/// The name is taken literally (no RFC 4514 string parsing); it must be non-empty, at most
/// [`MAX_COMMON_NAME_CHARS`] characters and free of control characters.
pub(crate) fn common_name(common_name: &str) -> Result<Name, PkiError> {
    if common_name.is_empty() {
        return Err(PkiError::InvalidInput("common name is empty".into()));
    }
    if common_name.chars().count() > MAX_COMMON_NAME_CHARS {
        return Err(PkiError::InvalidInput(format!(
            "common name is longer than {MAX_COMMON_NAME_CHARS} characters"
        )));
    }
    if common_name.chars().any(char::is_control) {
        return Err(PkiError::InvalidInput(
            "common name contains control characters".into(),
        ));
    }
    let atv = AttributeTypeAndValue {
        oid: COMMON_NAME,
        value: Any::new(Tag::Utf8String, common_name.as_bytes())
            .map_err(encoding("common name"))?,
    };
    let rdn = RelativeDistinguishedName::try_from(vec![atv]).map_err(encoding("common name"))?;
    let mut rdns = RdnSequence::default();
    rdns.push(rdn);
    // `Name`'s inner sequence is private; go through its DER encoding.
    let der = rdns.to_der().map_err(encoding("name"))?;
    Name::from_der(&der).map_err(encoding("name"))
}

/// The single commonName of a name, as text.
pub(crate) fn single_common_name(name: &Name) -> Result<String, PkiError> {
    let count = name.iter().filter(|atv| atv.oid == COMMON_NAME).count();
    if count != 1 {
        return Err(PkiError::Malformed(format!(
            "subject has {count} commonName attributes, expected exactly one"
        )));
    }
    let cn = name
        .common_name()
        .map_err(malformed("commonName"))?
        .ok_or_else(|| PkiError::Malformed("subject has no commonName".into()))?;
    Ok(cn.value().into_owned())
}
