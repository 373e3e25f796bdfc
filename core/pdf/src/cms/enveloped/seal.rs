//! Sealing: an EnvelopedData (DER ContentInfo) to one or more recipient certificates.
//!
//! - SM2 recipients get a key-transport RecipientInfo (version 0, issuerAndSerialNumber,
//!   keyEncryptionAlgorithm sm2-3 1.2.156.10197.1.301.3 without parameters, encryptedKey the
//!   DER SM2Cipher of the content key).
//! - P-256 recipients get a key-agreement RecipientInfo each (version 3), with their own
//!   ephemeral key (originatorKey id-ecPublicKey without parameters), dhSinglePass-stdDH-
//!   sha256kdf-scheme with id-aes256-wrap, no ukm.
//! - The content cipher: SM4-CBC when every recipient is SM2 (GB/T 35275), AES-256-CBC as soon
//!   as one recipient is P-256 (what OpenSSL, BouncyCastle and every RFC 5652 reader open; the
//!   SM2 recipients then get a 32-byte AES key SM2-encrypted, which GM readers that assume SM4
//!   will not open: seal to them separately).
//! - The content key and IV and the ephemeral scalars come from the caller's `rng`.

use super::content::{BLOCK, ContentCipher};
use super::error::{EnvelopeError, encoding};
use super::parse::{MAX_RECIPIENTS, OidProfile};
use super::sm2_ktri::Sm2Ciphertext;
use super::{ECDH_SHA256_KDF, ID_AES256_WRAP, SM2_ENCRYPTION};
use crate::cms::cert::Cert;
use crate::cms::{ID_EC_PUBLIC_KEY, PublicKey};
use cms::cert::IssuerAndSerialNumber;
use cms::content_info::{CmsVersion, ContentInfo};
use cms::enveloped_data::{
    EncryptedContentInfo, EnvelopedData, KeyAgreeRecipientIdentifier, KeyAgreeRecipientInfo,
    KeyTransRecipientInfo, OriginatorIdentifierOrKey, OriginatorPublicKey, RecipientEncryptedKey,
    RecipientIdentifier, RecipientInfo, RecipientInfos,
};
use const_oid::ObjectIdentifier;
use der::Encode;
use der::asn1::{Any, BitString, OctetString};
use p256::elliptic_curve::sec1::ToSec1Point;
use spki::AlgorithmIdentifierOwned;
use x509_cert::ext::pkix::KeyUsages;
use zeroize::Zeroizing;

/// How [`seal`] writes the envelope.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SealOptions {
    profile: OidProfile,
    content_type: Option<ObjectIdentifier>,
}

impl SealOptions {
    /// RFC 5652 content types, content type id-data.
    pub fn new() -> Self {
        Self::default()
    }

    /// Which content-type OIDs to write (the outer envelopedData, and data for id-data
    /// content).
    pub fn with_profile(mut self, profile: OidProfile) -> Self {
        self.profile = profile;
        self
    }

    /// The type of the content (default id-data; id-signedData for signed-then-enveloped
    /// content, whose bytes are then the SignedData, not its ContentInfo).
    pub fn with_content_type(mut self, content_type: ObjectIdentifier) -> Self {
        self.content_type = Some(content_type);
        self
    }
}

/// Seal `content` to the certificates `recipients` (DER, SM2 or P-256 keys; a keyUsage
/// extension, if present, must allow keyEncipherment for SM2 and keyAgreement for P-256). The
/// DER ContentInfo. See the module documentation for the algorithms.
pub fn seal<R: rand_core::CryptoRng + ?Sized>(
    content: &[u8],
    recipients: &[Vec<u8>],
    options: &SealOptions,
    rng: &mut R,
) -> Result<Vec<u8>, EnvelopeError> {
    if recipients.is_empty() {
        return Err(EnvelopeError::InvalidInput("no recipients".into()));
    }
    if recipients.len() > MAX_RECIPIENTS {
        return Err(EnvelopeError::TooManyRecipients {
            count: recipients.len(),
            limit: MAX_RECIPIENTS,
        });
    }
    let certs = recipients
        .iter()
        .map(|der| {
            let cert = Cert::parse(der).map_err(|e| EnvelopeError::Certificate(e.to_string()))?;
            let key = cert
                .public_key()
                .map_err(|e| EnvelopeError::Certificate(e.to_string()))?;
            let usage = match key {
                PublicKey::Sm2(_) => KeyUsages::KeyEncipherment,
                PublicKey::P256(_) => KeyUsages::KeyAgreement,
            };
            let has_key_usage = cert
                .key_usage()
                .map_err(|e| EnvelopeError::Certificate(e.to_string()))?
                .is_some();
            if has_key_usage
                && !cert
                    .key_usage_allows(usage)
                    .map_err(|e| EnvelopeError::Certificate(e.to_string()))?
            {
                return Err(EnvelopeError::Certificate(format!(
                    "\"{}\" may not be used for {usage:?} (keyUsage)",
                    cert.subject_string()
                )));
            }
            Ok((cert, key))
        })
        .collect::<Result<Vec<_>, EnvelopeError>>()?;

    let cipher = if certs.iter().all(|(_, k)| matches!(k, PublicKey::Sm2(_))) {
        ContentCipher::Sm4Cbc
    } else {
        ContentCipher::Aes256Cbc
    };
    let mut cek = Zeroizing::new(vec![0u8; cipher.key_len()]);
    rng.fill_bytes(&mut cek);
    let mut iv = [0u8; BLOCK];
    rng.fill_bytes(&mut iv);

    let wrap_algorithm = AlgorithmIdentifierOwned {
        oid: ID_AES256_WRAP,
        parameters: None,
    };
    let wrap_algorithm_der = wrap_algorithm.to_der().map_err(encoding("key wrap"))?;
    let mut infos = Vec::with_capacity(certs.len());
    for (cert, key) in &certs {
        let tbs = cert.cert.tbs_certificate();
        let ias = IssuerAndSerialNumber {
            issuer: tbs.issuer().clone(),
            serial_number: tbs.serial_number().clone(),
        };
        infos.push(match key {
            PublicKey::Sm2(pk) => {
                let ct = Sm2Ciphertext::encrypt(pk, &cek, rng)?;
                RecipientInfo::Ktri(KeyTransRecipientInfo {
                    version: CmsVersion::V0,
                    rid: RecipientIdentifier::IssuerAndSerialNumber(ias),
                    key_enc_alg: AlgorithmIdentifierOwned {
                        oid: SM2_ENCRYPTION,
                        parameters: None,
                    },
                    enc_key: OctetString::new(ct.to_der()).map_err(encoding("encryptedKey"))?,
                })
            }
            PublicKey::P256(pk) => {
                let (ephemeral, wrapped) =
                    super::p256_kari::wrap_cek(pk, &cek, &wrap_algorithm_der, rng)?;
                RecipientInfo::Kari(KeyAgreeRecipientInfo {
                    version: CmsVersion::V3,
                    originator: OriginatorIdentifierOrKey::OriginatorKey(OriginatorPublicKey {
                        algorithm: AlgorithmIdentifierOwned {
                            oid: ID_EC_PUBLIC_KEY,
                            parameters: None,
                        },
                        public_key: BitString::from_bytes(
                            ephemeral.to_sec1_point(false).as_bytes(),
                        )
                        .map_err(encoding("originator key"))?,
                    }),
                    ukm: None,
                    key_enc_alg: AlgorithmIdentifierOwned {
                        oid: ECDH_SHA256_KDF,
                        parameters: Some(
                            Any::encode_from(&wrap_algorithm).map_err(encoding("key wrap"))?,
                        ),
                    },
                    recipient_enc_keys: vec![RecipientEncryptedKey {
                        rid: KeyAgreeRecipientIdentifier::IssuerAndSerialNumber(ias),
                        enc_key: OctetString::new(wrapped).map_err(encoding("encryptedKey"))?,
                    }],
                })
            }
        });
    }
    let any_kari = infos.iter().any(|i| matches!(i, RecipientInfo::Kari(_)));

    let content_type = options
        .content_type
        .unwrap_or_else(|| options.profile.data());
    let ciphertext = cipher.encrypt(&cek, &iv, content)?;
    let enveloped = EnvelopedData {
        version: if any_kari {
            CmsVersion::V2
        } else {
            CmsVersion::V0
        },
        originator_info: None,
        recip_infos: RecipientInfos::try_from(infos).map_err(encoding("recipientInfos"))?,
        encrypted_content: EncryptedContentInfo {
            content_type,
            content_enc_alg: AlgorithmIdentifierOwned {
                oid: cipher.oid(),
                parameters: Some(
                    Any::encode_from(&OctetString::new(iv).map_err(encoding("IV"))?)
                        .map_err(encoding("IV"))?,
                ),
            },
            encrypted_content: Some(
                OctetString::new(ciphertext).map_err(encoding("encryptedContent"))?,
            ),
        },
        unprotected_attrs: None,
    };
    ContentInfo {
        content_type: options.profile.enveloped_data(),
        content: Any::encode_from(&enveloped).map_err(encoding("EnvelopedData"))?,
    }
    .to_der()
    .map_err(encoding("ContentInfo"))
}
