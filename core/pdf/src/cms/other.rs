//! Verification of the signature algorithms other signers use and inkseal never writes: RSA
//! (PKCS#1 v1.5 and RSASSA-PSS), ECDSA on P-256 with SHA-384/512, on P-384 and on P-521, and
//! Ed25519 (RFC 8419). Used for SignerInfos and for certificates on a chain.
//!
//! Weak choices are refused as such ([`CmsError::WeakAlgorithm`]), never valid: SHA-1 in any
//! form, RSA keys under 2048 bits. SHA-224 and Ed448 are "cannot check".
//!
//! Only with the `other-algorithms` feature (on in the CLI, the server and the default build;
//! off in the mobile library, whose verifier reports such signatures as "cannot check").

use super::algorithm::{
    DigestAlgorithm, ID_EC_PUBLIC_KEY, NistCurve, OtherAlgorithm, PRIME256V1, uncheckable_key,
};
use super::error::CmsError;
use der::Tagged;
use der::asn1::ObjectIdentifier;
use rsa::pkcs1::DecodeRsaPublicKey as _;
use rsa::traits::PublicKeyParts as _;
use signature::Verifier as _;
use signature::hazmat::PrehashVerifier as _;
use spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};

const RSA_ENCRYPTION: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
const RSASSA_PSS: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.10");
const SHA1_WITH_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.5");
const SHA256_WITH_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.11");
const SHA384_WITH_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.12");
const SHA512_WITH_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.13");
const MGF1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.8");
const ECDSA_WITH_SHA1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.1");
const ECDSA_WITH_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");
const ECDSA_WITH_SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.3");
const ECDSA_WITH_SHA512: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.4");
const ED25519: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.112");
const SECP384R1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.34");
const SECP521R1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.35");
const SHA1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.14.3.2.26");

/// RSA keys below this many bits are refused as weak.
pub const MIN_RSA_BITS: usize = 2048;

/// A public key of another signer.
#[derive(Clone, Debug)]
pub(crate) enum OtherKey {
    Rsa(rsa::PublicKey),
    P256(p256::ecdsa::VerifyingKey),
    P384(p384::ecdsa::VerifyingKey),
    P521(p521::ecdsa::VerifyingKey),
    Ed25519(ed25519_dalek::VerifyingKey),
}

impl OtherKey {
    /// Decode a SubjectPublicKeyInfo: rsaEncryption or id-RSASSA-PSS, id-ecPublicKey on P-256,
    /// P-384 or P-521, Ed25519. Anything else is [`CmsError::CannotCheck`] naming it.
    pub(crate) fn from_spki(spki: &SubjectPublicKeyInfoOwned) -> Result<Self, CmsError> {
        let oid = spki.algorithm.oid;
        let bits = spki
            .subject_public_key
            .as_bytes()
            .ok_or_else(|| CmsError::Malformed("public key BIT STRING has unused bits".into()))?;
        if oid == RSA_ENCRYPTION || oid == RSASSA_PSS {
            return match rsa::PublicKey::from_pkcs1_der(bits) {
                Ok(key) => Ok(OtherKey::Rsa(key)),
                Err(_) => rsa_key_size(bits).map_or_else(
                    || Err(CmsError::Malformed("RSA public key does not decode".into())),
                    |size| {
                        if size < MIN_RSA_BITS {
                            Err(CmsError::WeakAlgorithm(format!(
                                "RSA key of {size} bits (at least {MIN_RSA_BITS} required)"
                            )))
                        } else {
                            Err(CmsError::Unsupported(format!(
                                "RSA key of {size} bits (at most 8192 are checked)"
                            )))
                        }
                    },
                ),
            };
        }
        if oid == ED25519 {
            let key: [u8; 32] = bits
                .try_into()
                .map_err(|_| CmsError::Malformed("Ed25519 public key is not 32 bytes".into()))?;
            return ed25519_dalek::VerifyingKey::from_bytes(&key)
                .map(OtherKey::Ed25519)
                .map_err(|_| CmsError::Malformed("Ed25519 public key is not a point".into()));
        }
        if oid == ID_EC_PUBLIC_KEY {
            let (curve, point) = inkseal_pki::ec_public_key_parts(spki)
                .map_err(|e| CmsError::CannotCheck(e.to_string()))?;
            let not_on =
                |name: &'static str| move |_| CmsError::Malformed(format!("not a {name} point"));
            return if curve == PRIME256V1 {
                p256::ecdsa::VerifyingKey::from_sec1_bytes(point)
                    .map(OtherKey::P256)
                    .map_err(not_on("P-256"))
            } else if curve == SECP384R1 {
                p384::ecdsa::VerifyingKey::from_sec1_bytes(point)
                    .map(OtherKey::P384)
                    .map_err(not_on("P-384"))
            } else if curve == SECP521R1 {
                p521::ecdsa::VerifyingKey::from_sec1_bytes(point)
                    .map(OtherKey::P521)
                    .map_err(not_on("P-521"))
            } else {
                Err(CmsError::CannotCheck(uncheckable_key(spki)))
            };
        }
        Err(CmsError::CannotCheck(uncheckable_key(spki)))
    }

    /// Verify `signature` over `message` with the signature algorithm `id` (a SignerInfo's
    /// signatureAlgorithm or a certificate's). `digest` is the SignerInfo's digest algorithm
    /// (`None` for a certificate): it must agree with a digest `id` names, and is the one used
    /// when `id` names none (rsaEncryption, id-ecPublicKey).
    pub(crate) fn verify(
        &self,
        id: &AlgorithmIdentifierOwned,
        digest: Option<DigestAlgorithm>,
        message: &[u8],
        signature: &[u8],
    ) -> Result<OtherAlgorithm, CmsError> {
        let scheme = Scheme::from_identifier(id)?;
        if let (OtherKey::Ed25519(key), Scheme::Ed25519) = (self, scheme) {
            // Pure Ed25519 signs the message itself (RFC 8419: the SignerInfo's digest is
            // SHA-512 and is used only for the message-digest attribute).
            let sig = ed25519_dalek::Signature::from_slice(signature).map_err(bad)?;
            key.verify(message, &sig).map_err(bad)?;
            return Ok(OtherAlgorithm::Ed25519);
        }
        let digest = match (scheme.digest(), digest) {
            (Some(named), Some(given)) if named != given => {
                return Err(CmsError::AlgorithmMismatch(format!(
                    "signature algorithm {} with digest algorithm {}",
                    id.oid,
                    given.name()
                )));
            }
            (Some(named), _) => named,
            (None, Some(given)) => given,
            (None, None) => {
                return Err(CmsError::Malformed(format!(
                    "signature algorithm {} names no digest",
                    id.oid
                )));
            }
        };
        match (self, scheme) {
            (OtherKey::Rsa(key), Scheme::RsaPkcs1v15(_)) => {
                let modulus_bits = rsa_bits(key)?;
                let hashed = digest.digest(&[message]);
                let padding = match digest {
                    DigestAlgorithm::Sha256 => rsa::Pkcs1v15Sign::new::<sha2::Sha256>(),
                    DigestAlgorithm::Sha384 => rsa::Pkcs1v15Sign::new::<sha2::Sha384>(),
                    DigestAlgorithm::Sha512 => rsa::Pkcs1v15Sign::new::<sha2::Sha512>(),
                    DigestAlgorithm::Sm3 => return Err(unpaired("RSA", digest)),
                };
                key.verify(padding, &hashed, signature).map_err(bad)?;
                Ok(OtherAlgorithm::RsaPkcs1v15 {
                    modulus_bits,
                    digest,
                })
            }
            (OtherKey::Rsa(key), Scheme::RsaPss { salt_len, .. }) => {
                let modulus_bits = rsa_bits(key)?;
                let hashed = digest.digest(&[message]);
                let result = match digest {
                    DigestAlgorithm::Sha256 => key.verify(
                        rsa::Pss::<sha2::Sha256>::new_with_salt(salt_len),
                        &hashed,
                        signature,
                    ),
                    DigestAlgorithm::Sha384 => key.verify(
                        rsa::Pss::<sha2::Sha384>::new_with_salt(salt_len),
                        &hashed,
                        signature,
                    ),
                    DigestAlgorithm::Sha512 => key.verify(
                        rsa::Pss::<sha2::Sha512>::new_with_salt(salt_len),
                        &hashed,
                        signature,
                    ),
                    DigestAlgorithm::Sm3 => return Err(unpaired("RSASSA-PSS", digest)),
                };
                result.map_err(bad)?;
                Ok(OtherAlgorithm::RsaPss {
                    modulus_bits,
                    digest,
                })
            }
            (OtherKey::P256(key), Scheme::Ecdsa(_)) => {
                let sig = p256::ecdsa::Signature::from_der(signature).map_err(bad)?;
                key.verify_prehash(&digest.digest(&[message]), &sig)
                    .map_err(bad)?;
                Ok(ecdsa(NistCurve::P256, digest))
            }
            (OtherKey::P384(key), Scheme::Ecdsa(_)) => {
                let sig = p384::ecdsa::Signature::from_der(signature).map_err(bad)?;
                key.verify_prehash(&digest.digest(&[message]), &sig)
                    .map_err(bad)?;
                Ok(ecdsa(NistCurve::P384, digest))
            }
            (OtherKey::P521(key), Scheme::Ecdsa(_)) => {
                let sig = p521::ecdsa::Signature::from_der(signature).map_err(bad)?;
                key.verify_prehash(&digest.digest(&[message]), &sig)
                    .map_err(bad)?;
                Ok(ecdsa(NistCurve::P521, digest))
            }
            (key, _) => Err(CmsError::AlgorithmMismatch(format!(
                "signature algorithm {} with {} key",
                id.oid,
                key.kind()
            ))),
        }
    }

    fn kind(&self) -> &'static str {
        match self {
            OtherKey::Rsa(_) => "an RSA",
            OtherKey::P256(_) => "a P-256",
            OtherKey::P384(_) => "a P-384",
            OtherKey::P521(_) => "a P-521",
            OtherKey::Ed25519(_) => "an Ed25519",
        }
    }
}

/// Any verification failure is a bad signature.
fn bad<E>(_: E) -> CmsError {
    CmsError::BadSignature
}

fn ecdsa(curve: NistCurve, digest: DigestAlgorithm) -> OtherAlgorithm {
    OtherAlgorithm::Ecdsa { curve, digest }
}

fn unpaired(scheme: &str, digest: DigestAlgorithm) -> CmsError {
    CmsError::CannotCheck(format!("{scheme} with {}", digest.name()))
}

/// The modulus size, refusing keys under [`MIN_RSA_BITS`] as weak.
fn rsa_bits(key: &rsa::PublicKey) -> Result<usize, CmsError> {
    let bits = key.n().bit_width_vartime() as usize;
    if bits < MIN_RSA_BITS {
        return Err(CmsError::WeakAlgorithm(format!(
            "RSA key of {bits} bits (at least {MIN_RSA_BITS} required)"
        )));
    }
    Ok(bits)
}

/// The modulus size of a PKCS#1 RSAPublicKey the `rsa` crate refused (to tell a weak key from
/// a malformed one).
fn rsa_key_size(der: &[u8]) -> Option<usize> {
    use der::Decode as _;
    let key = rsa::pkcs1::RsaPublicKeyRef::from_der(der).ok()?;
    let modulus = key.modulus.as_bytes();
    let first = modulus.iter().position(|b| *b != 0)?;
    Some((modulus.len() - first) * 8 - modulus[first].leading_zeros() as usize)
}

/// A signature scheme named by an AlgorithmIdentifier.
#[derive(Clone, Copy, Debug)]
enum Scheme {
    RsaPkcs1v15(Option<DigestAlgorithm>),
    RsaPss {
        digest: DigestAlgorithm,
        salt_len: usize,
    },
    Ecdsa(Option<DigestAlgorithm>),
    Ed25519,
}

impl Scheme {
    fn from_identifier(id: &AlgorithmIdentifierOwned) -> Result<Self, CmsError> {
        let oid = id.oid;
        if oid == SHA1_WITH_RSA || oid == ECDSA_WITH_SHA1 {
            return Err(CmsError::WeakAlgorithm(format!("SHA-1 signature ({oid})")));
        }
        let plain = [
            (RSA_ENCRYPTION, Scheme::RsaPkcs1v15(None)),
            (
                SHA256_WITH_RSA,
                Scheme::RsaPkcs1v15(Some(DigestAlgorithm::Sha256)),
            ),
            (
                SHA384_WITH_RSA,
                Scheme::RsaPkcs1v15(Some(DigestAlgorithm::Sha384)),
            ),
            (
                SHA512_WITH_RSA,
                Scheme::RsaPkcs1v15(Some(DigestAlgorithm::Sha512)),
            ),
            (ID_EC_PUBLIC_KEY, Scheme::Ecdsa(None)),
            (
                ECDSA_WITH_SHA256,
                Scheme::Ecdsa(Some(DigestAlgorithm::Sha256)),
            ),
            (
                ECDSA_WITH_SHA384,
                Scheme::Ecdsa(Some(DigestAlgorithm::Sha384)),
            ),
            (
                ECDSA_WITH_SHA512,
                Scheme::Ecdsa(Some(DigestAlgorithm::Sha512)),
            ),
            (ED25519, Scheme::Ed25519),
        ];
        if let Some((_, scheme)) = plain.iter().find(|(o, _)| *o == oid) {
            // RSA identifiers carry NULL parameters, ECDSA and Ed25519 none.
            return match &id.parameters {
                None => Ok(*scheme),
                Some(p) if p.tag() == der::Tag::Null && p.value().is_empty() => Ok(*scheme),
                Some(_) => Err(CmsError::Malformed(format!(
                    "signature algorithm {oid} has unexpected parameters"
                ))),
            };
        }
        if oid == RSASSA_PSS {
            return pss_scheme(id);
        }
        Err(CmsError::CannotCheck(format!(
            "signature algorithm {oid}; inkseal checks SM2, ECDSA, RSA and Ed25519"
        )))
    }

    fn digest(self) -> Option<DigestAlgorithm> {
        match self {
            Scheme::RsaPkcs1v15(d) | Scheme::Ecdsa(d) => d,
            Scheme::RsaPss { digest, .. } => Some(digest),
            Scheme::Ed25519 => None,
        }
    }
}

/// RSASSA-PSS-params (RFC 4055 section 3.1). The salt length is an INTEGER (OpenSSL writes the
/// largest the key allows, over 255 for 3072-bit keys).
#[derive(der::Sequence)]
struct PssParams {
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    hash: Option<AlgorithmIdentifierOwned>,
    #[asn1(context_specific = "1", tag_mode = "EXPLICIT", optional = "true")]
    mask_gen: Option<AlgorithmIdentifierOwned>,
    #[asn1(context_specific = "2", tag_mode = "EXPLICIT", optional = "true")]
    salt_len: Option<u32>,
    #[asn1(context_specific = "3", tag_mode = "EXPLICIT", optional = "true")]
    trailer_field: Option<u32>,
}

/// The hash, MGF1 with the same hash, the salt length, trailer field 1. The defaults (SHA-1)
/// are weak.
fn pss_scheme(id: &AlgorithmIdentifierOwned) -> Result<Scheme, CmsError> {
    let params: PssParams = id
        .parameters
        .as_ref()
        .ok_or_else(|| CmsError::WeakAlgorithm("RSASSA-PSS with the default SHA-1".into()))?
        .decode_as()
        .map_err(|e| CmsError::Malformed(format!("RSASSA-PSS parameters: {e}")))?;
    let hash = params.hash.as_ref().map_or(SHA1, |h| h.oid);
    if hash == SHA1 {
        return Err(CmsError::WeakAlgorithm("RSASSA-PSS with SHA-1".into()));
    }
    let digest = DigestAlgorithm::from_oid(&hash)
        .filter(|d| *d != DigestAlgorithm::Sm3)
        .ok_or_else(|| CmsError::CannotCheck(format!("RSASSA-PSS with digest {hash}")))?;
    let (mgf, mgf_hash) = match &params.mask_gen {
        None => (MGF1, SHA1),
        Some(m) => {
            let over: Option<AlgorithmIdentifierOwned> = m
                .parameters
                .as_ref()
                .map(|p| p.decode_as())
                .transpose()
                .map_err(|e| CmsError::Malformed(format!("RSASSA-PSS mask generation: {e}")))?;
            (m.oid, over.map_or(SHA1, |h| h.oid))
        }
    };
    if mgf != MGF1 || mgf_hash != hash {
        return Err(CmsError::CannotCheck(format!(
            "RSASSA-PSS with mask generation {mgf} over {mgf_hash} (MGF1 with {hash} is checked)"
        )));
    }
    if params.trailer_field.unwrap_or(1) != 1 {
        return Err(CmsError::Malformed(
            "RSASSA-PSS trailer field is not 1".into(),
        ));
    }
    let salt_len = params.salt_len.unwrap_or(20);
    Ok(Scheme::RsaPss {
        digest,
        salt_len: usize::try_from(salt_len)
            .map_err(|_| CmsError::Malformed("RSASSA-PSS salt length".into()))?,
    })
}
