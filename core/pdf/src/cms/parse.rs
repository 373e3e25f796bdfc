//! Parsing and verifying a CMS SignedData found in a PDF's /Contents.

use super::algorithm::{
    DigestAlgorithm, ID_SHA1, PublicKey, VerifiedAlgorithm, uncheckable_digest, uncheckable_key,
};
use super::attributes::{
    ExtraAttribute, ID_DATA, ID_SIGNED_DATA, check_signing_certificate_v2, read_signed_attributes,
};
use super::cert::Cert;
use super::der_util::children;
use super::error::{CmsError, encoding, malformed};
use cms::content_info::{CmsVersion, ContentInfo};
use cms::signed_data::{SignedData, SignerIdentifier, SignerInfo};
use der::asn1::{AnyRef, ObjectIdentifier};
use der::{Decode, Encode, Tag, TagNumber, Tagged};
use x509_cert::ext::pkix::KeyUsages;

/// Largest CMS object (DER bytes, including trailing zero padding) [`parse`] accepts.
pub const MAX_CMS_BYTES: usize = 1024 * 1024;

/// A decoded SignedData, not yet verified.
///
/// Holds the typed structure plus the exact input bytes of the certificates and of the signed
/// attributes, which are what signatures and hashes are checked over.
#[derive(Debug, Clone)]
pub struct ParsedSignedData {
    signed_data: SignedData,
    certificates: Vec<Vec<u8>>,
    signed_attrs_der: Option<Vec<u8>>,
    encoded_len: usize,
    digest: DigestAlgorithm,
    profile: super::OidProfile,
}

/// The result of a successful [`ParsedSignedData::verify`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CmsVerification {
    /// What the signature was made with: one of inkseal's suites (given by the signer
    /// certificate's key), or another signer's algorithm ([`VerifiedAlgorithm::Other`], only
    /// from [`ParsedSignedData::verify`] with the `other-algorithms` feature).
    pub algorithm: VerifiedAlgorithm,
    /// The signer's certificate (DER, as embedded).
    pub signer_cert_der: Vec<u8>,
    /// Every certificate embedded in the SignedData (DER, in embedded order), signer included.
    pub certificates: Vec<Vec<u8>>,
    /// The signer certificate's subject in RFC 4514 form (e.g. `CN=Alice,O=Example`).
    pub signer_subject: String,
    /// The signed attributes as signed: DER `SET OF Attribute` (tag 0x31).
    pub signed_attrs_der: Vec<u8>,
    /// The signature value (DER `SEQUENCE { r, s }`); a signature time-stamp covers these bytes.
    pub signature: Vec<u8>,
    /// Whether a signing-certificate-v2 attribute was present (and matched the signer).
    pub has_signing_certificate_v2: bool,
    /// Signed attributes other than content-type, message-digest and signing-certificate-v2
    /// (e.g. signing-time, S/MIME capabilities, custom attributes), in DER order.
    pub signed_attributes: Vec<ExtraAttribute>,
    /// Unsigned attributes (e.g. a signature time-stamp token), in DER order.
    pub unsigned_attributes: Vec<ExtraAttribute>,
}

impl CmsVerification {
    /// The signed attribute of type `oid` among [`CmsVerification::signed_attributes`].
    pub fn signed_attribute(&self, oid: &ObjectIdentifier) -> Option<&ExtraAttribute> {
        self.signed_attributes.iter().find(|a| a.oid == *oid)
    }

    /// The unsigned attribute of type `oid`.
    pub fn unsigned_attribute(&self, oid: &ObjectIdentifier) -> Option<&ExtraAttribute> {
        self.unsigned_attributes.iter().find(|a| a.oid == *oid)
    }
}

/// Decode a DER ContentInfo holding a SignedData, as found in a signature's /Contents.
///
/// At most [`MAX_CMS_BYTES`]. BER (indefinite lengths, chunked strings: BouncyCastle,
/// `openssl cms -stream`) is rewritten as DER first ([`super::ber::to_der`]); what DER forbids
/// beyond that is refused. Bytes after the object are allowed only if they are all zero (the
/// hex string is zero-padded).
/// The SignedData must have exactly one SignerInfo ([`CmsError::SignerInfoCount`]) whose
/// digest algorithm is SM3 or SHA-256 ([`CmsError::Unsupported`]), as a PAdES signature has.
/// Certificates and the SignerInfo are decoded; nothing is verified yet.
pub fn parse(der: &[u8]) -> Result<ParsedSignedData, CmsError> {
    if der.len() > MAX_CMS_BYTES {
        return Err(CmsError::TooLarge {
            size: der.len(),
            limit: MAX_CMS_BYTES,
        });
    }
    let (normalized, encoded_len) = super::ber::to_der(der)?;
    if der[encoded_len..].iter().any(|b| *b != 0) {
        return Err(CmsError::Malformed(
            "non-zero bytes after the end of the DER object".into(),
        ));
    }
    let body = normalized.as_slice();
    let outer = AnyRef::from_der(body).map_err(malformed("ContentInfo"))?;
    if outer.tag() != Tag::Sequence {
        return Err(CmsError::Malformed("ContentInfo is not a SEQUENCE".into()));
    }

    let content_info = ContentInfo::from_der(body).map_err(malformed("ContentInfo"))?;
    // RFC 5652's signedData, or GB/T 35275's (the same structure under a GM OID).
    let profile =
        super::OidProfile::of_signed_data(&content_info.content_type).ok_or_else(|| {
            CmsError::Unsupported(format!(
                "content type {} (expected signedData {ID_SIGNED_DATA})",
                content_info.content_type
            ))
        })?;
    let signed_data: SignedData = content_info
        .content
        .decode_as()
        .map_err(malformed("SignedData"))?;

    // Walk the same bytes again for the parts whose exact encoding matters.
    let raw_signed_data = children(outer.value())
        .map_err(malformed("ContentInfo"))?
        .get(1)
        .map(|explicit| AnyRef::from_der(explicit.value()))
        .transpose()
        .map_err(malformed("SignedData"))?
        .ok_or_else(|| CmsError::Malformed("ContentInfo without content".into()))?;
    let parts = children(raw_signed_data.value()).map_err(malformed("SignedData"))?;
    let mut certificates = Vec::new();
    for part in &parts {
        if part.tag() == context(0, true) {
            for choice in children(part.value()).map_err(malformed("certificates"))? {
                if choice.tag() == Tag::Sequence {
                    certificates.push(choice.to_der().map_err(malformed("certificate"))?);
                }
            }
        }
    }
    let signer_infos = parts
        .last()
        .ok_or_else(|| CmsError::Malformed("empty SignedData".into()))?;
    let raw_infos = children(signer_infos.value()).map_err(malformed("SignerInfos"))?;
    let [only] = raw_infos.as_slice() else {
        return Err(CmsError::SignerInfoCount(raw_infos.len()));
    };
    let fields = children(only.value()).map_err(malformed("SignerInfo"))?;
    let signed_attrs_der = match fields.get(3) {
        Some(field) if field.tag() == context(0, true) => Some(
            AnyRef::new(Tag::Set, field.value())
                .and_then(|set| set.to_der())
                .map_err(malformed("signed attributes"))?,
        ),
        _ => None,
    };
    let info = single_signer_info(&signed_data)?;
    let digest_oid = &info.digest_alg.oid;
    let digest = DigestAlgorithm::from_oid(digest_oid).ok_or_else(|| {
        if *digest_oid == ID_SHA1 {
            CmsError::WeakAlgorithm(format!("SHA-1 digest ({digest_oid})"))
        } else {
            CmsError::CannotCheck(uncheckable_digest(digest_oid))
        }
    })?;

    Ok(ParsedSignedData {
        signed_data,
        certificates,
        signed_attrs_der,
        encoded_len,
        digest,
        profile,
    })
}

/// The only SignerInfo.
fn single_signer_info(signed_data: &SignedData) -> Result<&SignerInfo, CmsError> {
    let infos = &signed_data.signer_infos.0;
    match infos.iter().next() {
        Some(info) if infos.len() == 1 => Ok(info),
        _ => Err(CmsError::SignerInfoCount(infos.len())),
    }
}

/// A context-specific tag.
fn context(number: u32, constructed: bool) -> Tag {
    Tag::ContextSpecific {
        constructed,
        number: TagNumber(number),
    }
}

impl ParsedSignedData {
    /// Whose OIDs the ContentInfo uses: RFC 5652's signedData, or GB/T 35275's.
    pub fn profile(&self) -> super::OidProfile {
        self.profile
    }

    /// Length of the object as it was read (BER or DER), without the trailing zero padding.
    pub fn encoded_len(&self) -> usize {
        self.encoded_len
    }

    /// The embedded certificates (DER, in embedded order).
    pub fn certificates(&self) -> &[Vec<u8>] {
        &self.certificates
    }

    /// The SignerInfo's digest algorithm: compute the content digest (over the PDF's
    /// /ByteRange) with it, then call [`ParsedSignedData::verify`], which checks the signer's
    /// key and signature algorithm fit it.
    pub fn digest_algorithm(&self) -> DigestAlgorithm {
        self.digest
    }

    /// The SignerInfo's signature value.
    pub fn signature(&self) -> Result<&[u8], CmsError> {
        Ok(self.signer_info()?.signature.as_bytes())
    }

    /// The SignerInfo's signed attributes exactly as embedded, re-tagged as `SET OF` (0x31):
    /// the bytes the signature covers. `None` without signed attributes.
    pub fn signed_attributes_der(&self) -> Option<&[u8]> {
        self.signed_attrs_der.as_deref()
    }

    fn signer_info(&self) -> Result<&SignerInfo, CmsError> {
        single_signer_info(&self.signed_data)
    }

    /// The embedded certificate the SignerInfo names (DER), without verifying anything.
    pub fn signer_certificate(&self) -> Result<Vec<u8>, CmsError> {
        let certs = self
            .certificates
            .iter()
            .map(|der| Cert::parse(der))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(find_signer(&self.signer_info()?.sid, &certs)?.der.clone())
    }

    /// The first value (DER) of the SignerInfo's unsigned attribute `oid`, if present; not
    /// verified (a signature time-stamp token is checked on its own).
    pub fn unsigned_attribute(&self, oid: &ObjectIdentifier) -> Result<Option<Vec<u8>>, CmsError> {
        let Some(attrs) = &self.signer_info()?.unsigned_attrs else {
            return Ok(None);
        };
        attrs
            .iter()
            .find(|a| a.oid == *oid)
            .and_then(|a| a.values.iter().next())
            .map(|v| v.to_der().map_err(malformed("unsigned attribute")))
            .transpose()
    }

    /// Verify the signature for detached content whose digest (with
    /// [`Self::digest_algorithm`]) is `content_digest`.
    ///
    /// Checks, in order: encapsulated content type id-data with no
    /// eContent; the signer certificate is embedded (by issuer and serial number or by
    /// subjectKeyIdentifier); its key is SM2 or P-256 and the SignerInfo's digest and signature
    /// algorithms fit it (with the `other-algorithms` feature also RSA PKCS#1 v1.5 or PSS,
    /// ECDSA on P-256, P-384 or P-521, or Ed25519, SHA-1 and RSA under 2048 bits refused as
    /// [`CmsError::WeakAlgorithm`]), and digestAlgorithms lists the digest; signed attributes present,
    /// canonical DER, each type once; content-type is id-data; message-digest equals
    /// `content_digest`; signing-certificate-v2, if present, identifies the signer certificate;
    /// the signature over the signed attributes verifies (SM2: `SM3(Z_A || attrs)` with the
    /// default signer ID; ECDSA: SHA-256); the signer certificate's keyUsage, if present,
    /// allows digitalSignature or nonRepudiation.
    ///
    /// The certificate chain is not checked here; see [`super::verify_chain`].
    pub fn verify(&self, content_digest: &[u8]) -> Result<CmsVerification, CmsError> {
        self.verify_content(Expected::Detached(content_digest), OTHER_ALGORITHMS)
            .map(|(verification, _)| verification)
    }

    /// [`ParsedSignedData::verify`] for a SignedData that encapsulates content of type
    /// `content_type` (a time-stamp token's TSTInfo): the message-digest must be the digest of
    /// the eContent, which is returned with the verification. `other_algorithms`: whether a
    /// signer key of another algorithm is checked (a TSA's RSA key, with the
    /// `other-algorithms` feature) or refused (transactions and logins are inkseal's own).
    pub(crate) fn verify_encapsulated(
        &self,
        content_type: ObjectIdentifier,
        other_algorithms: bool,
    ) -> Result<(CmsVerification, Vec<u8>), CmsError> {
        self.verify_content(
            Expected::Encapsulated(content_type),
            other_algorithms && OTHER_ALGORITHMS,
        )
    }

    /// `other_algorithms`: whether a signer key of another algorithm ([`super::other`]) is
    /// checked, or reported as [`CmsError::CannotCheck`].
    fn verify_content(
        &self,
        expected: Expected<'_>,
        other_algorithms: bool,
    ) -> Result<(CmsVerification, Vec<u8>), CmsError> {
        let info = self.signer_info()?;
        let sd = &self.signed_data;
        if !matches!(sd.version, CmsVersion::V1 | CmsVersion::V3) {
            return Err(CmsError::Unsupported(format!(
                "SignedData version {:?}",
                sd.version
            )));
        }
        if !matches!(info.version, CmsVersion::V1 | CmsVersion::V3) {
            return Err(CmsError::Unsupported(format!(
                "SignerInfo version {:?}",
                info.version
            )));
        }
        let content_type = match expected {
            Expected::Detached(_) => ID_DATA,
            Expected::Encapsulated(oid) => oid,
        };
        if sd.encap_content_info.econtent_type != content_type {
            return Err(CmsError::ContentTypeMismatch(
                sd.encap_content_info.econtent_type.to_string(),
            ));
        }
        let econtent = match (&expected, &sd.encap_content_info.econtent) {
            (Expected::Detached(_), None) => Vec::new(),
            (Expected::Detached(_), Some(_)) => {
                return Err(CmsError::Unsupported(
                    "the SignedData encapsulates its content (expected a detached signature)"
                        .into(),
                ));
            }
            (Expected::Encapsulated(_), None) => {
                return Err(CmsError::Malformed(
                    "the SignedData has no encapsulated content".into(),
                ));
            }
            (Expected::Encapsulated(_), Some(any)) => any
                .decode_as::<der::asn1::OctetString>()
                .map_err(malformed("eContent"))?
                .as_bytes()
                .to_vec(),
        };

        let certs = self
            .certificates
            .iter()
            .map(|der| Cert::parse(der))
            .collect::<Result<Vec<_>, _>>()?;
        let signer = find_signer(&info.sid, &certs)?;
        // The content digest first, with the digest the SignerInfo names: a signature whose
        // key this verifier cannot check is then reported as such with its content known to
        // be intact.
        let digest_alg = self.digest;
        let attrs = info
            .signed_attrs
            .as_ref()
            .ok_or_else(|| CmsError::Unsupported("SignerInfo without signed attributes".into()))?;
        let attrs_der = self
            .signed_attrs_der
            .as_ref()
            .ok_or_else(|| CmsError::Malformed("signed attributes not found".into()))?;
        if attrs.to_der().map_err(encoding("signed attributes"))? != *attrs_der {
            return Err(CmsError::Malformed(
                "signed attributes are not canonical DER (SET OF not sorted)".into(),
            ));
        }
        let read = read_signed_attributes(attrs, content_type)?;

        let econtent_digest;
        let content_digest = match expected {
            Expected::Detached(digest) => digest,
            Expected::Encapsulated(_) => {
                econtent_digest = digest_alg.digest(&[&econtent]);
                &econtent_digest
            }
        };
        if content_digest.len() != digest_alg.output_len() {
            return Err(CmsError::InvalidInput(format!(
                "content digest is {} bytes, {} produces {}",
                content_digest.len(),
                digest_alg.name(),
                digest_alg.output_len()
            )));
        }
        if read.message_digest != content_digest {
            return Err(CmsError::DigestMismatch);
        }
        if !sd
            .digest_algorithms
            .iter()
            .any(|d| d.oid == digest_alg.oid())
        {
            return Err(CmsError::Malformed(format!(
                "digestAlgorithms does not list the signer's digest {}",
                digest_alg.oid()
            )));
        }
        if let Some(v2) = &read.signing_certificate_v2 {
            check_signing_certificate_v2(v2, signer)?;
        }
        let spki = signer.cert.tbs_certificate().subject_public_key_info();
        let algorithm = match signer.public_key() {
            Ok(key) if key.algorithm().digest_algorithm() == digest_alg => {
                let alg = key.algorithm();
                alg.check_digest_identifier(&info.digest_alg)?;
                alg.check_signature_identifier(&info.signature_algorithm)?;
                key.verify(attrs_der, info.signature.as_bytes())?;
                VerifiedAlgorithm::Suite(alg)
            }
            // P-256 with another digest (ecdsa-with-SHA384...) is another signer's algorithm;
            // SM2 with any digest but SM3 is a mismatch.
            Ok(PublicKey::P256(_)) | Err(CmsError::Unsupported(_)) if other_algorithms => {
                verify_other(spki, info, digest_alg, attrs_der)?
            }
            Ok(key) => {
                return Err(CmsError::AlgorithmMismatch(format!(
                    "digest algorithm {} with a {} key (expected {})",
                    info.digest_alg.oid,
                    key.algorithm().name(),
                    key.algorithm().digest_oid()
                )));
            }
            Err(CmsError::Unsupported(_)) => {
                return Err(CmsError::CannotCheck(uncheckable_key(spki)));
            }
            Err(e) => return Err(e),
        };
        if !signer.key_usage_allows(KeyUsages::DigitalSignature)?
            && !signer.key_usage_allows(KeyUsages::NonRepudiation)?
        {
            return Err(CmsError::KeyUsage);
        }

        let unsigned_attributes = match &info.unsigned_attrs {
            None => Vec::new(),
            Some(set) => set
                .iter()
                .map(ExtraAttribute::from_attribute)
                .collect::<Result<Vec<_>, _>>()?,
        };
        let verification = CmsVerification {
            algorithm,
            signer_cert_der: signer.der.clone(),
            certificates: self.certificates.clone(),
            signer_subject: signer.subject_string(),
            signed_attrs_der: attrs_der.clone(),
            signature: info.signature.as_bytes().to_vec(),
            has_signing_certificate_v2: read.signing_certificate_v2.is_some(),
            signed_attributes: read.others,
            unsigned_attributes,
        };
        Ok((verification, econtent))
    }
}

/// Whether [`ParsedSignedData::verify`] checks other signers' algorithms ([`super::other`]).
const OTHER_ALGORITHMS: bool = cfg!(feature = "other-algorithms");

/// The SignerInfo's signature under a key of another algorithm.
#[cfg(feature = "other-algorithms")]
fn verify_other(
    spki: &spki::SubjectPublicKeyInfoOwned,
    info: &SignerInfo,
    digest: DigestAlgorithm,
    attrs_der: &[u8],
) -> Result<VerifiedAlgorithm, CmsError> {
    let key = super::other::OtherKey::from_spki(spki)?;
    key.verify(
        &info.signature_algorithm,
        Some(digest),
        attrs_der,
        info.signature.as_bytes(),
    )
    .map(VerifiedAlgorithm::Other)
}

/// Without the `other-algorithms` feature: never called ([`OTHER_ALGORITHMS`] is false).
#[cfg(not(feature = "other-algorithms"))]
fn verify_other(
    spki: &spki::SubjectPublicKeyInfoOwned,
    _info: &SignerInfo,
    _digest: DigestAlgorithm,
    _attrs_der: &[u8],
) -> Result<VerifiedAlgorithm, CmsError> {
    Err(CmsError::CannotCheck(uncheckable_key(spki)))
}

/// What [`ParsedSignedData::verify_content`] checks the content against.
enum Expected<'a> {
    /// Detached id-data with this digest.
    Detached(&'a [u8]),
    /// Encapsulated content of this type.
    Encapsulated(ObjectIdentifier),
}

/// The embedded certificate a SignerIdentifier names.
fn find_signer<'a>(sid: &SignerIdentifier, certs: &'a [Cert]) -> Result<&'a Cert, CmsError> {
    for cert in certs {
        let tbs = cert.cert.tbs_certificate();
        let matches = match sid {
            SignerIdentifier::IssuerAndSerialNumber(isn) => {
                isn.issuer == *tbs.issuer() && isn.serial_number == *tbs.serial_number()
            }
            SignerIdentifier::SubjectKeyIdentifier(ski) => {
                cert.subject_key_identifier()?.as_deref() == Some(ski.0.as_bytes())
            }
        };
        if matches {
            return Ok(cert);
        }
    }
    Err(CmsError::SignerCertificateMissing)
}
