//! Signed attributes: building the set that gets signed, and reading it back.

use super::algorithm::{DigestAlgorithm, SignatureAlgorithm};
use super::cert::Cert;
use super::error::{CmsError, encoding, malformed};
use der::asn1::{Any, ObjectIdentifier, OctetString, SetOfVec};
use der::{Decode, Encode, Sequence, Tag, Tagged};
use spki::AlgorithmIdentifierOwned;
use x509_cert::attr::{Attribute, Attributes};
use x509_cert::ext::pkix::name::{GeneralName, GeneralNames};
use x509_cert::serial_number::SerialNumber;

/// id-data (RFC 5652): the content type of the detached PDF byte ranges.
pub const ID_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.1");
/// id-signedData (RFC 5652).
pub const ID_SIGNED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.2");
/// id-contentType signed attribute (RFC 5652 section 11.1).
pub const ID_CONTENT_TYPE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.3");
/// id-messageDigest signed attribute (RFC 5652 section 11.2).
pub const ID_MESSAGE_DIGEST: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.4");
/// id-signingTime signed attribute (RFC 5652 section 11.3); never written in a PAdES
/// signature (which takes the claimed signing time from the signature dictionary's /M), always
/// in an attached SignedData ([`super::attached`]).
pub const ID_SIGNING_TIME: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.5");
/// id-aa-signingCertificate (RFC 2634, SHA-1 ESSCertID); accepted when reading, not checked.
pub const ID_AA_SIGNING_CERTIFICATE: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.2.12");
/// id-aa-signingCertificateV2 (RFC 5035).
pub const ID_AA_SIGNING_CERTIFICATE_V2: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.2.47");

/// Attributes [`signed_attributes`] writes itself, so callers cannot add them again.
const RESERVED: [(ObjectIdentifier, &str); 4] = [
    (ID_CONTENT_TYPE, "content-type"),
    (ID_MESSAGE_DIGEST, "message-digest"),
    (ID_AA_SIGNING_CERTIFICATE_V2, "signing-certificate-v2"),
    (ID_AA_SIGNING_CERTIFICATE, "signing-certificate"),
];

/// An attribute other than the ones this module handles itself: its type and the DER of each
/// value (one complete TLV per value).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtraAttribute {
    /// The attribute type.
    pub oid: ObjectIdentifier,
    /// The attribute values, each one DER TLV.
    pub values_der: Vec<Vec<u8>>,
}

impl ExtraAttribute {
    /// An attribute with the given type and values (each one DER TLV).
    pub fn new(oid: ObjectIdentifier, values_der: Vec<Vec<u8>>) -> Self {
        ExtraAttribute { oid, values_der }
    }

    /// Convert to the typed attribute, checking every value is exactly one DER TLV.
    pub(crate) fn to_attribute(&self) -> Result<Attribute, CmsError> {
        if self.values_der.is_empty() {
            return Err(CmsError::InvalidInput(format!(
                "attribute {} has no values",
                self.oid
            )));
        }
        let values = self
            .values_der
            .iter()
            .map(|v| {
                let any = Any::from_der(v).map_err(|e| {
                    CmsError::InvalidInput(format!(
                        "attribute {} value is not one DER TLV: {e}",
                        self.oid
                    ))
                })?;
                // `Any` keeps the value bytes verbatim; a non-minimal header would change here.
                if any.to_der().map_err(encoding("attribute value"))? != *v {
                    return Err(CmsError::InvalidInput(format!(
                        "attribute {} value is not DER",
                        self.oid
                    )));
                }
                Ok(any)
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Attribute {
            oid: self.oid,
            values: SetOfVec::try_from(values).map_err(encoding("attribute values"))?,
        })
    }

    /// The values of a typed attribute as DER TLVs.
    pub(crate) fn from_attribute(attr: &Attribute) -> Result<Self, CmsError> {
        let values_der = attr
            .values
            .iter()
            .map(|v| v.to_der().map_err(malformed("attribute value")))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(ExtraAttribute {
            oid: attr.oid,
            values_der,
        })
    }
}

/// `SigningCertificateV2 ::= SEQUENCE { certs SEQUENCE OF ESSCertIDv2,
/// policies SEQUENCE OF PolicyInformation OPTIONAL }` (RFC 5035).
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub(crate) struct SigningCertificateV2 {
    pub(crate) certs: Vec<EssCertIdV2>,
    #[asn1(optional = "true")]
    pub(crate) policies: Option<Vec<Any>>,
}

/// `ESSCertIDv2 ::= SEQUENCE { hashAlgorithm AlgorithmIdentifier DEFAULT {algorithm id-sha256},
/// certHash OCTET STRING, issuerSerial IssuerSerial OPTIONAL }`.
///
/// The DEFAULT is modelled as an optional field: written absent for SHA-256 (DER omits
/// defaults), and when reading, absent means SHA-256.
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub(crate) struct EssCertIdV2 {
    #[asn1(optional = "true")]
    pub(crate) hash_algorithm: Option<AlgorithmIdentifierOwned>,
    pub(crate) cert_hash: OctetString,
    #[asn1(optional = "true")]
    pub(crate) issuer_serial: Option<IssuerSerial>,
}

/// `IssuerSerial ::= SEQUENCE { issuer GeneralNames, serialNumber CertificateSerialNumber }`.
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub(crate) struct IssuerSerial {
    pub(crate) issuer: GeneralNames,
    pub(crate) serial_number: SerialNumber,
}

/// DER of the signed attributes (`SET OF Attribute`, outer tag 0x31): exactly the bytes the
/// signer signs (RFC 5652 section 5.4).
///
/// Contents: content-type = id-data; message-digest = `message_digest` (the suite's digest of
/// the signed byte ranges); signing-certificate-v2 (RFC 5035) with one ESSCertIDv2 for the
/// signer certificate: hashAlgorithm the suite's digest (written explicitly for SM3, omitted as
/// the DER DEFAULT for SHA-256), certHash over `signer_cert_der`, and issuerSerial (the issuer
/// as a directoryName and the serial number); then the `extra` attributes. No signing-time.
///
/// `extra` may not repeat an attribute type nor use one written here (or signing-time, or the
/// v1 signing-certificate). The set is sorted as DER requires.
pub fn signed_attributes(
    alg: SignatureAlgorithm,
    message_digest: &[u8],
    signer_cert_der: &[u8],
    extra: &[ExtraAttribute],
) -> Result<Vec<u8>, CmsError> {
    if extra.iter().any(|e| e.oid == ID_SIGNING_TIME) {
        return Err(CmsError::InvalidInput(
            "signing-time is not allowed in PAdES signatures".into(),
        ));
    }
    signed_attributes_for(ID_DATA, alg, message_digest, signer_cert_der, extra)
}

/// [`signed_attributes`] with content-type `content_type` (id-ct-TSTInfo for a time-stamp
/// token), and signing-time allowed among `extra` (an attached SignedData carries one,
/// encoded by its caller so that the PAdES path does not link the time encoder: the mobile
/// library's size budget).
pub(crate) fn signed_attributes_for(
    content_type: ObjectIdentifier,
    alg: SignatureAlgorithm,
    message_digest: &[u8],
    signer_cert_der: &[u8],
    extra: &[ExtraAttribute],
) -> Result<Vec<u8>, CmsError> {
    if message_digest.len() != alg.digest_len() {
        return Err(CmsError::InvalidInput(format!(
            "message digest is {} bytes, {} produces {}",
            message_digest.len(),
            alg.name(),
            alg.digest_len()
        )));
    }
    let cert = Cert::parse(signer_cert_der)?;
    let cert_alg = cert.algorithm()?;
    if cert_alg != alg {
        return Err(CmsError::AlgorithmMismatch(format!(
            "signing with {} but the signer certificate has a {} key",
            alg.name(),
            cert_alg.name()
        )));
    }

    let mut attributes = vec![
        single(ID_CONTENT_TYPE, Any::encode_from(&content_type))?,
        single(
            ID_MESSAGE_DIGEST,
            OctetString::new(message_digest).and_then(|md| Any::encode_from(&md)),
        )?,
        single(
            ID_AA_SIGNING_CERTIFICATE_V2,
            Any::encode_from(&signing_certificate_v2(alg, &cert)?),
        )?,
    ];
    for (i, e) in extra.iter().enumerate() {
        if let Some((_, name)) = RESERVED.iter().find(|(oid, _)| *oid == e.oid) {
            return Err(CmsError::InvalidInput(format!(
                "extra attribute {} ({name}) is written by this module or not allowed",
                e.oid
            )));
        }
        if extra[..i].iter().any(|prev| prev.oid == e.oid) {
            return Err(CmsError::InvalidInput(format!(
                "extra attribute {} given twice",
                e.oid
            )));
        }
        attributes.push(e.to_attribute()?);
    }
    let set: Attributes = SetOfVec::try_from(attributes).map_err(encoding("signed attributes"))?;
    set.to_der().map_err(encoding("signed attributes"))
}

/// An attribute with one value.
fn single(oid: ObjectIdentifier, value: der::Result<Any>) -> Result<Attribute, CmsError> {
    let value = value.map_err(encoding("attribute value"))?;
    Ok(Attribute {
        oid,
        values: SetOfVec::try_from(vec![value]).map_err(encoding("attribute value"))?,
    })
}

/// The signing-certificate-v2 value identifying `cert`.
fn signing_certificate_v2(
    alg: SignatureAlgorithm,
    cert: &Cert,
) -> Result<SigningCertificateV2, CmsError> {
    let tbs = cert.cert.tbs_certificate();
    let hash_algorithm = match alg {
        // DER: a component equal to its DEFAULT is not encoded.
        SignatureAlgorithm::EcdsaP256Sha256 => None,
        SignatureAlgorithm::Sm2Sm3 => Some(alg.digest_identifier()),
    };
    Ok(SigningCertificateV2 {
        certs: vec![EssCertIdV2 {
            hash_algorithm,
            cert_hash: OctetString::new(alg.digest(&[&cert.der]))
                .map_err(encoding("certificate hash"))?,
            issuer_serial: Some(IssuerSerial {
                issuer: vec![GeneralName::DirectoryName(tbs.issuer().clone())],
                serial_number: tbs.serial_number().clone(),
            }),
        }],
        policies: None,
    })
}

/// What the verifier needs from a SignerInfo's signed attributes.
#[derive(Debug)]
pub(crate) struct ReadAttributes {
    pub(crate) message_digest: Vec<u8>,
    pub(crate) signing_certificate_v2: Option<SigningCertificateV2>,
    /// Everything but content-type, message-digest and signing-certificate-v2.
    pub(crate) others: Vec<ExtraAttribute>,
}

/// Read the signed attributes: each type at most once, content-type present and
/// `content_type`, message-digest present with one OCTET STRING value, signing-certificate-v2
/// decoded if present.
pub(crate) fn read_signed_attributes(
    attrs: &Attributes,
    expected_content_type: ObjectIdentifier,
) -> Result<ReadAttributes, CmsError> {
    let list: Vec<&Attribute> = attrs.iter().collect();
    for (i, a) in list.iter().enumerate() {
        if list[..i].iter().any(|prev| prev.oid == a.oid) {
            return Err(CmsError::Malformed(format!(
                "signed attribute {} appears more than once",
                a.oid
            )));
        }
    }
    let find = |oid: ObjectIdentifier| list.iter().find(|a| a.oid == oid);

    let content_type = find(ID_CONTENT_TYPE).ok_or(CmsError::MissingAttribute("content-type"))?;
    let content_type: ObjectIdentifier = only_value(content_type, "content-type")?
        .decode_as()
        .map_err(malformed("content-type attribute"))?;
    if content_type != expected_content_type {
        return Err(CmsError::ContentTypeMismatch(content_type.to_string()));
    }

    let md = find(ID_MESSAGE_DIGEST).ok_or(CmsError::MissingAttribute("message-digest"))?;
    let md: OctetString = only_value(md, "message-digest")?
        .decode_as()
        .map_err(malformed("message-digest attribute"))?;

    let signing_certificate_v2 = match find(ID_AA_SIGNING_CERTIFICATE_V2) {
        None => None,
        Some(a) => Some(
            only_value(a, "signing-certificate-v2")?
                .decode_as::<SigningCertificateV2>()
                .map_err(malformed("signing-certificate-v2 attribute"))?,
        ),
    };

    let others = list
        .iter()
        .filter(|a| {
            ![
                ID_CONTENT_TYPE,
                ID_MESSAGE_DIGEST,
                ID_AA_SIGNING_CERTIFICATE_V2,
            ]
            .contains(&a.oid)
        })
        .map(|a| ExtraAttribute::from_attribute(a))
        .collect::<Result<Vec<_>, _>>()?;

    Ok(ReadAttributes {
        message_digest: md.as_bytes().to_vec(),
        signing_certificate_v2,
        others,
    })
}

/// Largest signed-attributes DER [`message_digest_of_signed_attributes`] reads.
pub const MAX_SIGNED_ATTRIBUTES_BYTES: usize = 8 * 1024;

/// The message-digest of DER-encoded signed attributes (the bytes a CMS signer signs), after
/// the same checks the verifier makes (each type once, content-type id-data or GB/T 35275's
/// data, one message-digest value). The co-signing server reads what document a request signs
/// with it.
pub fn message_digest_of_signed_attributes(der: &[u8]) -> Result<Vec<u8>, CmsError> {
    if der.len() > MAX_SIGNED_ATTRIBUTES_BYTES {
        return Err(CmsError::Malformed(format!(
            "signed attributes larger than {MAX_SIGNED_ATTRIBUTES_BYTES} bytes"
        )));
    }
    let attrs = Attributes::from_der(der).map_err(malformed("signed attributes"))?;
    if attrs.to_der().map_err(malformed("signed attributes"))? != der {
        return Err(CmsError::Malformed(
            "signed attributes are not canonical DER".into(),
        ));
    }
    let gm_data = super::enveloped::GM_DATA;
    let read = match read_signed_attributes(&attrs, ID_DATA) {
        Err(CmsError::ContentTypeMismatch(found)) if found == gm_data.to_string() => {
            read_signed_attributes(&attrs, gm_data)?
        }
        other => other?,
    };
    Ok(read.message_digest)
}

/// The single value of an attribute that must have exactly one.
fn only_value<'a>(attr: &'a Attribute, name: &str) -> Result<&'a Any, CmsError> {
    let mut values = attr.values.iter();
    match (values.next(), values.next()) {
        (Some(v), None) => Ok(v),
        _ => Err(CmsError::Malformed(format!(
            "{name} attribute must have exactly one value, has {}",
            attr.values.len()
        ))),
    }
}

/// Check a signing-certificate-v2 value identifies `cert`: the first ESSCertIDv2's hash
/// (SHA-256 or SM3) is the hash of the certificate, and its issuerSerial, if present, names the
/// certificate's issuer and serial number.
pub(crate) fn check_signing_certificate_v2(
    value: &SigningCertificateV2,
    cert: &Cert,
) -> Result<(), CmsError> {
    let id = value.certs.first().ok_or_else(|| {
        CmsError::Malformed("signing-certificate-v2 attribute lists no certificate".into())
    })?;
    let hash_alg = match &id.hash_algorithm {
        None => DigestAlgorithm::Sha256,
        Some(h) => {
            let alg = DigestAlgorithm::from_oid(&h.oid).ok_or_else(|| {
                CmsError::Unsupported(format!("signing-certificate-v2 hash algorithm {}", h.oid))
            })?;
            if let Some(p) = &h.parameters {
                if !(p.tag() == Tag::Null && p.value().is_empty()) {
                    return Err(CmsError::Malformed(
                        "signing-certificate-v2 hash algorithm has parameters".into(),
                    ));
                }
            }
            alg
        }
    };
    if hash_alg.digest(&[&cert.der]) != id.cert_hash.as_bytes() {
        return Err(CmsError::SigningCertificateMismatch);
    }
    if let Some(issuer_serial) = &id.issuer_serial {
        let tbs = cert.cert.tbs_certificate();
        if issuer_serial.serial_number != *tbs.serial_number() {
            return Err(CmsError::SigningCertificateMismatch);
        }
        let names_issuer = issuer_serial
            .issuer
            .iter()
            .any(|n| matches!(n, GeneralName::DirectoryName(name) if name == tbs.issuer()));
        if !names_issuer {
            return Err(CmsError::SigningCertificateMismatch);
        }
    }
    Ok(())
}
