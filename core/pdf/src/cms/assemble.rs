//! Putting the SignedData together once the signer has returned its signature.

use super::OidProfile;
use super::algorithm::SignatureAlgorithm;
use super::attributes::{
    ExtraAttribute, ID_DATA, check_signing_certificate_v2, read_signed_attributes,
};
use super::cert::Cert;
use super::error::{CmsError, encoding};
use super::parse::{MAX_CMS_BYTES, parse};
use cms::cert::{CertificateChoices, IssuerAndSerialNumber};
use cms::content_info::{CmsVersion, ContentInfo};
use cms::signed_data::{
    CertificateSet, EncapsulatedContentInfo, SignedData, SignerIdentifier, SignerInfo, SignerInfos,
};
use der::asn1::{Any, ObjectIdentifier, OctetString, SetOfVec};
use der::{Decode, Encode};
use x509_cert::attr::Attributes;

/// The DER `ContentInfo` (id-signedData) of a detached CMS SignedData for PAdES
/// (ETSI.CAdES.detached).
///
/// * `signed_attrs_der`: the bytes [`super::signed_attributes`] returned (DER `SET OF
///   Attribute`, tag 0x31); they are embedded as `[0] IMPLICIT` with the same content bytes.
/// * `signature`: the DER `SEQUENCE { r, s }` the signer produced over `signed_attrs_der`.
/// * `chain`: certificates (DER), signer first, then intermediates; all go into the
///   `certificates` SET (in DER order; duplicates dropped).
///
/// The result is SignedData v1 with digestAlgorithms {the suite's digest}, encapContentInfo
/// id-data without eContent, and one SignerInfo v1 identified by the signer certificate's
/// issuer and serial number, with the suite's digest and signature algorithm identifiers
/// (parameters absent).
///
/// Before anything is written, the signed attributes must be canonical DER with content-type
/// id-data and a message-digest of the suite's length, a signing-certificate-v2 attribute (if
/// present) must identify `chain[0]`, and the signature must verify under `chain[0]`'s key, so a
/// faulty remote signer is caught here rather than by the relying party. The output is parsed
/// back and its signed attributes compared byte for byte with the input.
pub fn assemble(
    alg: SignatureAlgorithm,
    signed_attrs_der: &[u8],
    signature: &[u8],
    chain: &[Vec<u8>],
) -> Result<Vec<u8>, CmsError> {
    assemble_with_unsigned(alg, signed_attrs_der, signature, chain, &[])
}

/// [`assemble`], also writing `unsigned` as the SignerInfo's unsignedAttrs (for example a
/// signature time-stamp token added by a later step). Empty `unsigned` writes none.
pub fn assemble_with_unsigned(
    alg: SignatureAlgorithm,
    signed_attrs_der: &[u8],
    signature: &[u8],
    chain: &[Vec<u8>],
    unsigned: &[ExtraAttribute],
) -> Result<Vec<u8>, CmsError> {
    assemble_content(
        OidProfile::Rfc5652,
        Content::Detached,
        alg,
        signed_attrs_der,
        signature,
        chain,
        unsigned,
    )
}

/// What a SignedData carries.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Content<'a> {
    /// Detached id-data: the PDF's byte ranges, hashed by the caller.
    Detached,
    /// Encapsulated content of the given type (id-ct-TSTInfo for a time-stamp token).
    Encapsulated(ObjectIdentifier, &'a [u8]),
}

impl Content<'_> {
    pub(crate) fn content_type(&self) -> ObjectIdentifier {
        match self {
            Content::Detached => ID_DATA,
            Content::Encapsulated(oid, _) => *oid,
        }
    }
}

/// [`assemble_with_unsigned`] for either kind of content. Encapsulated content makes
/// SignedData version 3 (RFC 5652 section 5.1) and its digest must be the message-digest.
pub(crate) fn assemble_content(
    profile: OidProfile,
    content: Content<'_>,
    alg: SignatureAlgorithm,
    signed_attrs_der: &[u8],
    signature: &[u8],
    chain: &[Vec<u8>],
    unsigned: &[ExtraAttribute],
) -> Result<Vec<u8>, CmsError> {
    let econtent_len = match content {
        Content::Detached => 0,
        Content::Encapsulated(_, bytes) => bytes.len(),
    };
    let total = econtent_len
        + signed_attrs_der.len()
        + signature.len()
        + chain.iter().map(Vec::len).sum::<usize>()
        + unsigned
            .iter()
            .flat_map(|a| a.values_der.iter().map(Vec::len))
            .sum::<usize>();
    if total > MAX_CMS_BYTES {
        return Err(CmsError::TooLarge {
            size: total,
            limit: MAX_CMS_BYTES,
        });
    }
    let signer_der = chain
        .first()
        .ok_or_else(|| CmsError::InvalidInput("the certificate chain is empty".into()))?;
    let signer = Cert::parse(signer_der)?;
    let key = signer.public_key()?;
    if key.algorithm() != alg {
        return Err(CmsError::AlgorithmMismatch(format!(
            "assembling {} but the signer certificate has a {} key",
            alg.name(),
            key.algorithm().name()
        )));
    }

    let attrs = Attributes::from_der(signed_attrs_der).map_err(|e| {
        CmsError::InvalidInput(format!(
            "signed attributes are not a DER SET OF Attribute: {e}"
        ))
    })?;
    if attrs.to_der().map_err(encoding("signed attributes"))? != signed_attrs_der {
        return Err(CmsError::InvalidInput(
            "signed attributes are not canonical DER (SET OF must be sorted)".into(),
        ));
    }
    let read = read_signed_attributes(&attrs, content.content_type())?;
    if let Content::Encapsulated(_, bytes) = content {
        if read.message_digest != alg.digest(&[bytes]) {
            return Err(CmsError::DigestMismatch);
        }
    }
    if read.message_digest.len() != alg.digest_len() {
        return Err(CmsError::InvalidInput(format!(
            "message-digest attribute is {} bytes, {} produces {}",
            read.message_digest.len(),
            alg.name(),
            alg.digest_len()
        )));
    }
    if let Some(v2) = &read.signing_certificate_v2 {
        check_signing_certificate_v2(v2, &signer)?;
    }
    key.verify(signed_attrs_der, signature)?;

    let mut certificates = Vec::with_capacity(chain.len());
    for (i, der) in chain.iter().enumerate() {
        let cert = Cert::parse(der)?;
        // The typed certificate is re-encoded; refuse anything that would not come out the same.
        if cert.cert.to_der().map_err(encoding("certificate"))? != *der {
            return Err(CmsError::InvalidInput(format!(
                "certificate {i} of the chain is not canonical DER"
            )));
        }
        if !chain[..i].contains(der) {
            certificates.push(CertificateChoices::Certificate(cert.cert));
        }
    }

    let tbs = signer.cert.tbs_certificate();
    let unsigned_attrs = if unsigned.is_empty() {
        None
    } else {
        let list = unsigned
            .iter()
            .map(ExtraAttribute::to_attribute)
            .collect::<Result<Vec<_>, _>>()?;
        Some(SetOfVec::try_from(list).map_err(encoding("unsigned attributes"))?)
    };
    let signer_info = SignerInfo {
        version: CmsVersion::V1,
        sid: SignerIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber {
            issuer: tbs.issuer().clone(),
            serial_number: tbs.serial_number().clone(),
        }),
        digest_alg: alg.digest_identifier(),
        signed_attrs: Some(attrs),
        signature_algorithm: alg.signature_identifier_in(profile)?,
        signature: OctetString::new(signature).map_err(encoding("signature"))?,
        unsigned_attrs,
    };
    let (version, econtent) = match content {
        Content::Detached => (CmsVersion::V1, None),
        Content::Encapsulated(_, bytes) => (
            CmsVersion::V3,
            Some(
                Any::encode_from(&OctetString::new(bytes).map_err(encoding("eContent"))?)
                    .map_err(encoding("eContent"))?,
            ),
        ),
    };
    let signed_data = SignedData {
        version,
        digest_algorithms: SetOfVec::try_from(vec![alg.digest_identifier()])
            .map_err(encoding("digest algorithms"))?,
        encap_content_info: EncapsulatedContentInfo {
            econtent_type: content.content_type(),
            econtent,
        },
        certificates: Some(
            CertificateSet::try_from(certificates).map_err(encoding("certificates"))?,
        ),
        crls: None,
        signer_infos: SignerInfos::try_from(vec![signer_info]).map_err(encoding("signer infos"))?,
    };
    let content_info = ContentInfo {
        content_type: profile.signed_data(),
        content: Any::encode_from(&signed_data).map_err(encoding("SignedData"))?,
    };
    let out = content_info.to_der().map_err(encoding("ContentInfo"))?;

    let parsed = parse(&out)?;
    if parsed.signed_attributes_der() != Some(signed_attrs_der) {
        return Err(CmsError::Encoding(
            "signed attributes did not survive the round trip unchanged".into(),
        ));
    }
    Ok(out)
}
