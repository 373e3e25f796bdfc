//! Reading an EnvelopedData strictly into typed recipients and encrypted content.
//!
//! The input is hostile: at most [`MAX_ENVELOPE_BYTES`], BER rewritten as DER first
//! ([`crate::cms::ber::to_der`], which bounds nesting), at most [`MAX_RECIPIENTS`] recipients,
//! every recipient of a known kind decoded completely (an SM2 ciphertext whose C1 is not on the
//! curve, or a P-256 originator key that is not on P-256, makes the whole envelope malformed).
//! Recipients of kinds this module does not open (RSA, passwords, pre-shared keys) are kept as
//! [`Recipient::Unsupported`], so an envelope also addressed to them still opens for ours.

use super::content::{BLOCK, ContentCipher};
use super::error::{EnvelopeError, malformed};
use super::sm2_ktri::Sm2Ciphertext;
use super::{
    ECDH_SHA1_KDF, ECDH_SHA256_KDF, ECDH_SHA384_KDF, ECDH_SHA512_KDF, GM_ENVELOPED_DATA,
    ID_AES128_WRAP, ID_AES256_WRAP, ID_ENVELOPED_DATA, SM2_ENCRYPTION, SM2_ENCRYPTION_WITH_SM3,
};
use crate::cms::cert::Cert;
use crate::cms::der_util::children;
use crate::cms::{ID_EC_PUBLIC_KEY, PRIME256V1};
use cms::content_info::ContentInfo;
use cms::enveloped_data::{
    KeyAgreeRecipientIdentifier, KeyAgreeRecipientInfo, KeyTransRecipientInfo,
    OriginatorIdentifierOrKey, RecipientIdentifier, RecipientInfo,
};
use const_oid::ObjectIdentifier;
use der::asn1::{AnyRef, ObjectIdentifier as Oid};
use der::{Decode, Encode, Tag, TagNumber, Tagged};
use spki::AlgorithmIdentifierOwned;
use zeroize::Zeroizing;

/// RFC 5083 id-ct-authEnvelopedData (what `openssl cms -encrypt -aes-256-gcm` writes): named
/// in the error, not read.
const ID_AUTH_ENVELOPED_DATA: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.1.23");

/// Largest envelope (BER or DER bytes) [`parse_envelope`] accepts: 16 MiB.
pub const MAX_ENVELOPE_BYTES: usize = 16 * 1024 * 1024;

/// Most recipients [`parse_envelope`] accepts in one envelope.
pub const MAX_RECIPIENTS: usize = 64;

/// Longest user keying material (ukm) of a key-agreement recipient accepted (RFC 5753 uses
/// 64 bytes of random data; it is copied to each of the recipient info's keys).
const MAX_UKM_BYTES: usize = 1024;

/// Which family of content-type OIDs an envelope uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum OidProfile {
    /// RFC 5652: id-envelopedData 1.2.840.113549.1.7.3, id-data 1.2.840.113549.1.7.1. Written
    /// by default, for SM2 and P-256 recipients alike (what OpenSSL and BouncyCastle expect).
    #[default]
    Rfc5652,
    /// GB/T 35275: envelopedData 1.2.156.10197.6.1.4.2.3, data 1.2.156.10197.6.1.4.2.1, for
    /// GM middleware that insists on them.
    GbT35275,
}

impl OidProfile {
    /// The data content type (id-data, or GB/T 35275 data).
    pub fn data(self) -> ObjectIdentifier {
        match self {
            OidProfile::Rfc5652 => crate::cms::ID_DATA,
            OidProfile::GbT35275 => super::GM_DATA,
        }
    }

    /// The signedData content type (id-signedData, or GB/T 35275 signedData).
    pub fn signed_data(self) -> ObjectIdentifier {
        match self {
            OidProfile::Rfc5652 => crate::cms::ID_SIGNED_DATA,
            OidProfile::GbT35275 => super::GM_SIGNED_DATA,
        }
    }

    /// The envelopedData content type (id-envelopedData, or GB/T 35275 envelopedData).
    pub fn enveloped_data(self) -> ObjectIdentifier {
        match self {
            OidProfile::Rfc5652 => super::ID_ENVELOPED_DATA,
            OidProfile::GbT35275 => super::GM_ENVELOPED_DATA,
        }
    }

    /// The profile whose signedData content type is `oid`, if either's is.
    pub fn of_signed_data(oid: &ObjectIdentifier) -> Option<Self> {
        [OidProfile::Rfc5652, OidProfile::GbT35275]
            .into_iter()
            .find(|p| p.signed_data() == *oid)
    }
}

/// How a recipient is identified: by its certificate's issuer and serial number, or by its
/// subject key identifier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecipientId {
    /// issuerAndSerialNumber.
    IssuerAndSerial {
        /// The issuer Name, DER.
        issuer: Vec<u8>,
        /// The serial number's INTEGER content bytes (big-endian, as encoded).
        serial: Vec<u8>,
    },
    /// subjectKeyIdentifier (KTRI) or rKeyId (KARI).
    SubjectKeyId(Vec<u8>),
}

impl RecipientId {
    /// The issuerAndSerialNumber of a certificate (DER).
    pub fn of_certificate(certificate_der: &[u8]) -> Result<Self, EnvelopeError> {
        let cert =
            Cert::parse(certificate_der).map_err(|e| EnvelopeError::Certificate(e.to_string()))?;
        issuer_and_serial(&cert)
    }

    /// Whether this identifier names the certificate `cert`.
    fn names(&self, cert: &Cert) -> Result<bool, EnvelopeError> {
        Ok(match self {
            RecipientId::IssuerAndSerial { .. } => *self == issuer_and_serial(cert)?,
            RecipientId::SubjectKeyId(id) => cert
                .subject_key_identifier()
                .map_err(|e| EnvelopeError::Certificate(e.to_string()))?
                .is_some_and(|ski| ski == *id),
        })
    }

    fn from_issuer_and_serial(
        ias: &cms::cert::IssuerAndSerialNumber,
    ) -> Result<Self, EnvelopeError> {
        Ok(RecipientId::IssuerAndSerial {
            issuer: ias.issuer.to_der().map_err(malformed("recipient issuer"))?,
            serial: ias.serial_number.as_bytes().to_vec(),
        })
    }
}

fn issuer_and_serial(cert: &Cert) -> Result<RecipientId, EnvelopeError> {
    let tbs = cert.cert.tbs_certificate();
    Ok(RecipientId::IssuerAndSerial {
        issuer: tbs
            .issuer()
            .to_der()
            .map_err(|e| EnvelopeError::Certificate(e.to_string()))?,
        serial: tbs.serial_number().as_bytes().to_vec(),
    })
}

/// An SM2 key-transport recipient (GB/T 35275): the content key SM2-encrypted to the
/// recipient's encryption certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sm2KeyTransRecipient {
    rid: RecipientId,
    ciphertext: Sm2Ciphertext,
}

impl Sm2KeyTransRecipient {
    /// Who the recipient is.
    pub fn rid(&self) -> &RecipientId {
        &self.rid
    }

    /// The encryptedKey, checked and decoded (C1, C3, C2). Its [`Sm2Ciphertext::to_der`] is
    /// the encryptedKey's bytes.
    pub fn ciphertext(&self) -> &Sm2Ciphertext {
        &self.ciphertext
    }
}

/// The KDF digest of an RFC 5753 dhSinglePass-stdDH scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KdfDigest {
    /// dhSinglePass-stdDH-sha1kdf-scheme (OpenSSL's default). Read only.
    Sha1,
    /// dhSinglePass-stdDH-sha256kdf-scheme, written by sealing.
    Sha256,
    /// dhSinglePass-stdDH-sha384kdf-scheme. Read only.
    Sha384,
    /// dhSinglePass-stdDH-sha512kdf-scheme. Read only.
    Sha512,
}

/// The AES key wrap (RFC 3394) of a key-agreement recipient.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyWrap {
    /// id-aes128-wrap: a 16-byte key-encryption key.
    Aes128,
    /// id-aes256-wrap: a 32-byte key-encryption key, written by sealing.
    Aes256,
}

impl KeyWrap {
    /// The key-encryption key's length in bytes.
    pub fn kek_len(self) -> usize {
        match self {
            KeyWrap::Aes128 => 16,
            KeyWrap::Aes256 => 32,
        }
    }
}

/// A P-256 key-agreement recipient (RFC 5753, ephemeral-static ECDH): one
/// RecipientEncryptedKey of a KeyAgreeRecipientInfo, with that KARI's originator key and
/// algorithms (a KARI with several recipient keys gives one of these each).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct P256KeyAgreeRecipient {
    rid: RecipientId,
    originator: p256::PublicKey,
    ukm: Option<Vec<u8>>,
    kdf: KdfDigest,
    wrap: KeyWrap,
    wrap_algorithm_der: Vec<u8>,
    encrypted_key: Vec<u8>,
}

impl P256KeyAgreeRecipient {
    /// Who the recipient is.
    pub fn rid(&self) -> &RecipientId {
        &self.rid
    }

    /// The originator's (ephemeral) public key, checked to be on P-256.
    pub fn originator(&self) -> &p256::PublicKey {
        &self.originator
    }

    /// The user keying material, if any.
    pub fn ukm(&self) -> Option<&[u8]> {
        self.ukm.as_deref()
    }

    /// The KDF's digest.
    pub fn kdf(&self) -> KdfDigest {
        self.kdf
    }

    /// The key wrap.
    pub fn wrap(&self) -> KeyWrap {
        self.wrap
    }

    /// The key-wrap AlgorithmIdentifier as encoded (the ECC-CMS-SharedInfo keyInfo).
    pub fn wrap_algorithm_der(&self) -> &[u8] {
        &self.wrap_algorithm_der
    }

    /// The wrapped content key.
    pub fn encrypted_key(&self) -> &[u8] {
        &self.encrypted_key
    }
}

/// One recipient of an envelope.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Recipient {
    /// SM2 key transport.
    Sm2(Sm2KeyTransRecipient),
    /// P-256 key agreement.
    P256(P256KeyAgreeRecipient),
    /// A recipient this module cannot open (RSA key transport, another curve, a password, a
    /// pre-shared key...), with what it is.
    Unsupported(String),
}

/// A parsed EnvelopedData: recipients, content cipher, IV and ciphertext. Nothing is decrypted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedEnvelope {
    profile: OidProfile,
    recipients: Vec<Recipient>,
    content_type: ObjectIdentifier,
    cipher: ContentCipher,
    iv: [u8; BLOCK],
    ciphertext: Vec<u8>,
}

impl ParsedEnvelope {
    /// The recipients, in the envelope's order.
    pub fn recipients(&self) -> &[Recipient] {
        &self.recipients
    }

    /// Which content-type OIDs the envelope uses (the outer ContentInfo's).
    pub fn profile(&self) -> OidProfile {
        self.profile
    }

    /// The type of the encrypted content (id-data, GB/T data, id-signedData for
    /// signed-then-enveloped content...).
    pub fn content_type(&self) -> ObjectIdentifier {
        self.content_type
    }

    /// The content cipher; its [`ContentCipher::key_len`] is the content key's length.
    pub fn content_cipher(&self) -> ContentCipher {
        self.cipher
    }

    /// The encrypted content's length in bytes (the plaintext is at most this long).
    pub fn ciphertext_len(&self) -> usize {
        self.ciphertext.len()
    }

    /// The SM2 key-transport recipient for the certificate `certificate_der` (matched by
    /// issuerAndSerialNumber, or subjectKeyIdentifier). Its
    /// [`Sm2KeyTransRecipient::ciphertext`] is what a decrypter applies its key to.
    /// [`EnvelopeError::NotARecipient`] if the envelope has none for this certificate.
    pub fn sm2_recipient_for(
        &self,
        certificate_der: &[u8],
    ) -> Result<&Sm2KeyTransRecipient, EnvelopeError> {
        let cert =
            Cert::parse(certificate_der).map_err(|e| EnvelopeError::Certificate(e.to_string()))?;
        for recipient in &self.recipients {
            if let Recipient::Sm2(r) = recipient
                && r.rid.names(&cert)?
            {
                return Ok(r);
            }
        }
        Err(EnvelopeError::NotARecipient("certificate"))
    }

    /// The SM2 key-transport recipient with identifier `rid`, if there is one.
    pub fn sm2_recipient(&self, rid: &RecipientId) -> Option<&Sm2KeyTransRecipient> {
        self.recipients.iter().find_map(|r| match r {
            Recipient::Sm2(r) if r.rid == *rid => Some(r),
            _ => None,
        })
    }

    /// The P-256 key-agreement recipients for the certificate `certificate_der`.
    pub fn p256_recipients_for(
        &self,
        certificate_der: &[u8],
    ) -> Result<Vec<&P256KeyAgreeRecipient>, EnvelopeError> {
        let cert =
            Cert::parse(certificate_der).map_err(|e| EnvelopeError::Certificate(e.to_string()))?;
        let mut out = Vec::new();
        for recipient in &self.recipients {
            if let Recipient::P256(r) = recipient
                && r.rid.names(&cert)?
            {
                out.push(r);
            }
        }
        Ok(out)
    }

    /// Decrypt the content with the content-encryption key `cek` (of
    /// [`ContentCipher::key_len`] bytes) and check its PKCS#7 padding: the whole plaintext in a
    /// buffer wiped when dropped, or [`EnvelopeError::ContentDecryptionFailed`] and nothing
    /// ([`EnvelopeError::InvalidInput`] if `cek` has the wrong length).
    pub fn decrypt_content(&self, cek: &[u8]) -> Result<Zeroizing<Vec<u8>>, EnvelopeError> {
        self.cipher.decrypt(cek, &self.iv, &self.ciphertext)
    }
}

/// Read a ContentInfo holding an EnvelopedData (RFC 5652 or GB/T 35275 content type), BER or
/// DER, at most [`MAX_ENVELOPE_BYTES`], with nothing after it. The content cipher must be
/// SM4-CBC, AES-128-CBC or AES-256-CBC ([`EnvelopeError::Unsupported`] otherwise) and the
/// encrypted content must be present.
pub fn parse_envelope(input: &[u8]) -> Result<ParsedEnvelope, EnvelopeError> {
    if input.len() > MAX_ENVELOPE_BYTES {
        return Err(EnvelopeError::TooLarge {
            size: input.len(),
            limit: MAX_ENVELOPE_BYTES,
        });
    }
    let (der, used) =
        crate::cms::ber::to_der(input).map_err(|e| EnvelopeError::Malformed(e.to_string()))?;
    if used != input.len() {
        return Err(EnvelopeError::Malformed(
            "bytes after the end of the envelope".into(),
        ));
    }
    let info = ContentInfo::from_der(&der).map_err(malformed("ContentInfo"))?;
    let profile = match info.content_type {
        ID_ENVELOPED_DATA => OidProfile::Rfc5652,
        GM_ENVELOPED_DATA => OidProfile::GbT35275,
        ID_AUTH_ENVELOPED_DATA => {
            return Err(EnvelopeError::Unsupported(
                "authEnvelopedData (AES-GCM, RFC 5083) is not read; ask for an EnvelopedData \
                 (AES-256-CBC or SM4-CBC)"
                    .into(),
            ));
        }
        other => {
            return Err(EnvelopeError::Unsupported(format!(
                "content type {other} (expected envelopedData {ID_ENVELOPED_DATA} or \
                 {GM_ENVELOPED_DATA})"
            )));
        }
    };
    if info.content.tag() != Tag::Sequence {
        return Err(EnvelopeError::Malformed(
            "EnvelopedData is not a SEQUENCE".into(),
        ));
    }
    let fields = children(info.content.value()).map_err(malformed("EnvelopedData"))?;
    let mut fields = fields.iter().peekable();

    let version: u8 = fields
        .next()
        .ok_or_else(|| EnvelopeError::Malformed("empty EnvelopedData".into()))?
        .decode_as()
        .map_err(malformed("EnvelopedData version"))?;
    if !matches!(version, 0 | 2 | 3 | 4) {
        return Err(EnvelopeError::Malformed(format!(
            "EnvelopedData version {version}"
        )));
    }
    // originatorInfo [0]: certificates and CRLs of the originator; not needed to open.
    if fields.peek().is_some_and(|f| f.tag() == context(0, true)) {
        fields.next();
    }
    let recipient_set = fields
        .next()
        .filter(|f| f.tag() == Tag::Set)
        .ok_or_else(|| EnvelopeError::Malformed("recipientInfos missing".into()))?;
    let raw_recipients = children(recipient_set.value()).map_err(malformed("recipientInfos"))?;
    if raw_recipients.is_empty() {
        return Err(EnvelopeError::Malformed("no recipientInfos".into()));
    }
    let too_many = |count| EnvelopeError::TooManyRecipients {
        count,
        limit: MAX_RECIPIENTS,
    };
    if raw_recipients.len() > MAX_RECIPIENTS {
        return Err(too_many(raw_recipients.len()));
    }
    let mut recipients = Vec::new();
    for raw in &raw_recipients {
        let info = RecipientInfo::from_der(&raw.to_der().map_err(malformed("RecipientInfo"))?)
            .map_err(malformed("RecipientInfo"))?;
        // A key-agreement recipient info counts once per recipient key, checked before its
        // keys are copied out.
        if let RecipientInfo::Kari(kari) = &info
            && recipients.len() + kari.recipient_enc_keys.len() > MAX_RECIPIENTS
        {
            return Err(too_many(recipients.len() + kari.recipient_enc_keys.len()));
        }
        match info {
            RecipientInfo::Ktri(ktri) => recipients.push(read_ktri(&ktri)?),
            RecipientInfo::Kari(kari) => recipients.extend(read_kari(&kari)?),
            RecipientInfo::Kekri(_) => recipients.push(Recipient::Unsupported(
                "a pre-shared key (KEKRecipientInfo)".into(),
            )),
            RecipientInfo::Pwri(_) => recipients.push(Recipient::Unsupported(
                "a password (PasswordRecipientInfo)".into(),
            )),
            RecipientInfo::Ori(ori) => recipients.push(Recipient::Unsupported(format!(
                "another recipient type {}",
                ori.ori_type
            ))),
        }
        if recipients.len() > MAX_RECIPIENTS {
            return Err(too_many(recipients.len()));
        }
    }

    let encrypted_content_info = fields
        .next()
        .filter(|f| f.tag() == Tag::Sequence)
        .ok_or_else(|| EnvelopeError::Malformed("encryptedContentInfo missing".into()))?;
    let (content_type, cipher, iv, ciphertext) = read_encrypted_content(encrypted_content_info)?;

    // unprotectedAttrs [1]: not interpreted.
    if fields.peek().is_some_and(|f| f.tag() == context(1, true)) {
        fields.next();
    }
    if fields.next().is_some() {
        return Err(EnvelopeError::Malformed(
            "unexpected fields after encryptedContentInfo".into(),
        ));
    }
    Ok(ParsedEnvelope {
        profile,
        recipients,
        content_type,
        cipher,
        iv,
        ciphertext,
    })
}

fn context(number: u32, constructed: bool) -> Tag {
    Tag::ContextSpecific {
        constructed,
        number: TagNumber(number),
    }
}

type EncryptedContent = (ObjectIdentifier, ContentCipher, [u8; BLOCK], Vec<u8>);

fn read_encrypted_content(info: &AnyRef<'_>) -> Result<EncryptedContent, EnvelopeError> {
    let parts = children(info.value()).map_err(malformed("encryptedContentInfo"))?;
    let [content_type, algorithm, rest @ ..] = parts.as_slice() else {
        return Err(EnvelopeError::Malformed(
            "encryptedContentInfo too short".into(),
        ));
    };
    let content_type: Oid = content_type
        .decode_as()
        .map_err(malformed("encryptedContentInfo contentType"))?;
    let algorithm = AlgorithmIdentifierOwned::from_der(
        &algorithm
            .to_der()
            .map_err(malformed("contentEncryptionAlgorithm"))?,
    )
    .map_err(malformed("contentEncryptionAlgorithm"))?;
    let cipher = ContentCipher::from_oid(&algorithm.oid).ok_or_else(|| {
        EnvelopeError::Unsupported(format!(
            "content cipher {} (SM4-CBC, AES-128-CBC and AES-256-CBC are handled)",
            algorithm.oid
        ))
    })?;
    let iv = algorithm
        .parameters
        .as_ref()
        .filter(|p| p.tag() == Tag::OctetString)
        .and_then(|p| <[u8; BLOCK]>::try_from(p.value()).ok())
        .ok_or_else(|| {
            EnvelopeError::Malformed("the content cipher's IV is not a 16-byte OCTET STRING".into())
        })?;
    let ciphertext = match rest {
        [] => {
            return Err(EnvelopeError::Unsupported(
                "detached encrypted content (encryptedContent absent)".into(),
            ));
        }
        [content] if content.tag() == context(0, false) => content.value().to_vec(),
        [content] if content.tag() == context(0, true) => {
            // BER's constructed [0] IMPLICIT OCTET STRING: the segments, in order.
            let mut out = Vec::new();
            for segment in children(content.value()).map_err(malformed("encryptedContent"))? {
                if segment.tag() != Tag::OctetString {
                    return Err(EnvelopeError::Malformed(
                        "encryptedContent segment is not an OCTET STRING".into(),
                    ));
                }
                out.extend_from_slice(segment.value());
            }
            out
        }
        _ => {
            return Err(EnvelopeError::Malformed(
                "unexpected fields in encryptedContentInfo".into(),
            ));
        }
    };
    Ok((content_type, cipher, iv, ciphertext))
}

fn read_ktri(ktri: &KeyTransRecipientInfo) -> Result<Recipient, EnvelopeError> {
    let oid = ktri.key_enc_alg.oid;
    if oid != SM2_ENCRYPTION && oid != SM2_ENCRYPTION_WITH_SM3 {
        return Ok(Recipient::Unsupported(format!("key transport with {oid}")));
    }
    let rid = match &ktri.rid {
        RecipientIdentifier::IssuerAndSerialNumber(ias) => {
            RecipientId::from_issuer_and_serial(ias)?
        }
        RecipientIdentifier::SubjectKeyIdentifier(ski) => {
            RecipientId::SubjectKeyId(ski.0.as_bytes().to_vec())
        }
    };
    Ok(Recipient::Sm2(Sm2KeyTransRecipient {
        rid,
        ciphertext: Sm2Ciphertext::from_der(ktri.enc_key.as_bytes())?,
    }))
}

fn read_kari(kari: &KeyAgreeRecipientInfo) -> Result<Vec<Recipient>, EnvelopeError> {
    let count = kari.recipient_enc_keys.len();
    let unsupported = |what: String| Ok(vec![Recipient::Unsupported(what); count.max(1)]);
    let kdf = match kari.key_enc_alg.oid {
        ECDH_SHA1_KDF => KdfDigest::Sha1,
        ECDH_SHA256_KDF => KdfDigest::Sha256,
        ECDH_SHA384_KDF => KdfDigest::Sha384,
        ECDH_SHA512_KDF => KdfDigest::Sha512,
        other => return unsupported(format!("key agreement with {other}")),
    };
    let wrap_any = kari.key_enc_alg.parameters.as_ref().ok_or_else(|| {
        EnvelopeError::Malformed("key agreement without its key-wrap algorithm".into())
    })?;
    let wrap_algorithm_der = wrap_any.to_der().map_err(malformed("key-wrap algorithm"))?;
    let wrap_algorithm = AlgorithmIdentifierOwned::from_der(&wrap_algorithm_der)
        .map_err(malformed("key-wrap algorithm"))?;
    let wrap = match wrap_algorithm.oid {
        ID_AES128_WRAP => KeyWrap::Aes128,
        ID_AES256_WRAP => KeyWrap::Aes256,
        other => return unsupported(format!("key wrap {other}")),
    };
    let OriginatorIdentifierOrKey::OriginatorKey(originator) = &kari.originator else {
        return unsupported("key agreement with a static originator key".into());
    };
    if originator.algorithm.oid != ID_EC_PUBLIC_KEY {
        return unsupported(format!(
            "key agreement with an originator key of type {}",
            originator.algorithm.oid
        ));
    }
    // RFC 5753: the parameters are absent or NULL (the recipient's curve), or name the curve.
    if let Some(params) = &originator.algorithm.parameters
        && params.tag() == Tag::ObjectIdentifier
    {
        let curve: Oid = params
            .decode_as()
            .map_err(malformed("originator key curve"))?;
        if curve != PRIME256V1 {
            return unsupported(format!("key agreement on curve {curve}"));
        }
    }
    let point = originator.public_key.as_bytes().ok_or_else(|| {
        EnvelopeError::Malformed("originator key BIT STRING has unused bits".into())
    })?;
    let originator = p256::PublicKey::from_sec1_bytes(point).map_err(|_| {
        EnvelopeError::Malformed("the originator key is not a point on P-256".into())
    })?;
    let ukm = kari.ukm.as_ref().map(|u| u.as_bytes().to_vec());
    if ukm.as_ref().is_some_and(|u| u.len() > MAX_UKM_BYTES) {
        return Err(EnvelopeError::Malformed(format!(
            "user keying material longer than {MAX_UKM_BYTES} bytes"
        )));
    }
    let mut out = Vec::with_capacity(count);
    for key in kari.recipient_enc_keys.iter() {
        let rid = match &key.rid {
            KeyAgreeRecipientIdentifier::IssuerAndSerialNumber(ias) => {
                RecipientId::from_issuer_and_serial(ias)?
            }
            KeyAgreeRecipientIdentifier::RKeyId(id) => {
                RecipientId::SubjectKeyId(id.subject_key_identifier.0.as_bytes().to_vec())
            }
        };
        out.push(Recipient::P256(P256KeyAgreeRecipient {
            rid,
            originator,
            ukm: ukm.clone(),
            kdf,
            wrap,
            wrap_algorithm_der: wrap_algorithm_der.clone(),
            encrypted_key: key.enc_key.as_bytes().to_vec(),
        }));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use cms::content_info::CmsVersion;
    use cms::enveloped_data::{
        EncryptedContentInfo, EnvelopedData, OriginatorPublicKey, RecipientEncryptedKey,
        RecipientInfos,
    };
    use der::asn1::{Any, BitString, OctetString};

    /// An envelope with one key-agreement recipient info holding `keys` recipient keys (their
    /// contents need not be valid: the count is checked first).
    fn kari_envelope(keys: usize) -> Vec<u8> {
        let rid = || {
            KeyAgreeRecipientIdentifier::RKeyId(cms::enveloped_data::RecipientKeyIdentifier {
                subject_key_identifier: cms::cert::x509::ext::pkix::SubjectKeyIdentifier(
                    OctetString::new(vec![1, 2, 3]).expect("ski"),
                ),
                date: None,
                other: None,
            })
        };
        let kari = KeyAgreeRecipientInfo {
            version: CmsVersion::V3,
            originator: OriginatorIdentifierOrKey::OriginatorKey(OriginatorPublicKey {
                algorithm: AlgorithmIdentifierOwned {
                    oid: ID_EC_PUBLIC_KEY,
                    parameters: None,
                },
                public_key: BitString::from_bytes(&[4; 65]).expect("bits"),
            }),
            ukm: None,
            key_enc_alg: AlgorithmIdentifierOwned {
                oid: ECDH_SHA256_KDF,
                parameters: Some(
                    Any::encode_from(&AlgorithmIdentifierOwned {
                        oid: ID_AES256_WRAP,
                        parameters: None,
                    })
                    .expect("wrap"),
                ),
            },
            recipient_enc_keys: (0..keys)
                .map(|_| RecipientEncryptedKey {
                    rid: rid(),
                    enc_key: OctetString::new(vec![0; 40]).expect("key"),
                })
                .collect(),
        };
        let enveloped = EnvelopedData {
            version: CmsVersion::V2,
            originator_info: None,
            recip_infos: RecipientInfos::try_from(vec![RecipientInfo::Kari(kari)]).expect("infos"),
            encrypted_content: EncryptedContentInfo {
                content_type: crate::cms::ID_DATA,
                content_enc_alg: AlgorithmIdentifierOwned {
                    oid: super::super::AES256_CBC,
                    parameters: Some(
                        Any::encode_from(&OctetString::new([0u8; 16]).expect("iv")).expect("iv"),
                    ),
                },
                encrypted_content: Some(OctetString::new([0u8; 16]).expect("ct")),
            },
            unprotected_attrs: None,
        };
        ContentInfo {
            content_type: ID_ENVELOPED_DATA,
            content: Any::encode_from(&enveloped).expect("enveloped"),
        }
        .to_der()
        .expect("der")
    }

    #[test]
    fn recipient_keys_are_counted_before_they_are_read() {
        assert!(matches!(
            parse_envelope(&kari_envelope(MAX_RECIPIENTS + 1)),
            Err(EnvelopeError::TooManyRecipients { count, .. }) if count == MAX_RECIPIENTS + 1
        ));
        // Within the limit, the (invalid) originator point is what is refused.
        assert!(matches!(
            parse_envelope(&kari_envelope(2)),
            Err(EnvelopeError::Malformed(m)) if m.contains("originator key")
        ));
    }
}
