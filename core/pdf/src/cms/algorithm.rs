//! Signature suites, digests, object identifiers and public-key signature checks.

use super::error::CmsError;
use der::asn1::ObjectIdentifier;
use der::{Tag, Tagged};
use p256::ecdsa::signature::Verifier as _;
use p256::elliptic_curve::sec1::ToSec1Point;
use sha2::Sha256;
use sm3::{Digest, Sm3};
use spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};

/// SM3 (GM/T 0004), the digest of the SM2 suite.
pub const ID_SM3: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.156.10197.1.401");
/// SHA-256 (NIST), the digest of the P-256 suite.
pub const ID_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");
/// SM2-with-SM3 signature algorithm (GM/T 0006), written without parameters.
pub const SM2_WITH_SM3: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.156.10197.1.501");
/// ecdsa-with-SHA256 (RFC 5758), written without parameters.
pub const ECDSA_WITH_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");
/// id-ecPublicKey (RFC 5480), the SubjectPublicKeyInfo algorithm of SM2 and P-256 keys.
pub const ID_EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
/// The SM2 curve (GM/T 0006), as id-ecPublicKey parameter.
pub const SM2_CURVE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.156.10197.1.301");
/// The NIST P-256 curve (prime256v1 / secp256r1), as id-ecPublicKey parameter.
pub const PRIME256V1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");

/// `sm2sign` (GM/T 0006 1.2.156.10197.1.301.1): GB/T 35275 names the CMS signature algorithm
/// with it (written in that profile); accepted when verifying either profile.
const SM2_SIGN: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.156.10197.1.301.1");

/// A signature suite: key type, digest and signature algorithm together.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SignatureAlgorithm {
    /// SM2 signature (GB/T 32918.2, default signer ID "1234567812345678") with SM3.
    Sm2Sm3,
    /// ECDSA on NIST P-256 with SHA-256.
    EcdsaP256Sha256,
}

impl SignatureAlgorithm {
    /// The suite's digest (SM3 or SHA-256).
    pub fn digest_algorithm(self) -> DigestAlgorithm {
        match self {
            SignatureAlgorithm::Sm2Sm3 => DigestAlgorithm::Sm3,
            SignatureAlgorithm::EcdsaP256Sha256 => DigestAlgorithm::Sha256,
        }
    }

    /// The digest algorithm's OID (SM3 1.2.156.10197.1.401, SHA-256 2.16.840.1.101.3.4.2.1).
    pub fn digest_oid(self) -> ObjectIdentifier {
        self.digest_algorithm().oid()
    }

    /// The signature algorithm's OID (SM2-with-SM3 1.2.156.10197.1.501, ecdsa-with-SHA256
    /// 1.2.840.10045.4.3.2).
    pub fn signature_oid(self) -> ObjectIdentifier {
        match self {
            SignatureAlgorithm::Sm2Sm3 => SM2_WITH_SM3,
            SignatureAlgorithm::EcdsaP256Sha256 => ECDSA_WITH_SHA256,
        }
    }

    /// The curve OID carried by the suite's id-ecPublicKey SubjectPublicKeyInfo.
    pub fn curve_oid(self) -> ObjectIdentifier {
        match self {
            SignatureAlgorithm::Sm2Sm3 => SM2_CURVE,
            SignatureAlgorithm::EcdsaP256Sha256 => PRIME256V1,
        }
    }

    /// Output length of the digest in bytes (32 for both suites).
    pub fn digest_len(self) -> usize {
        32
    }

    /// A short human-readable name ("SM2-with-SM3", "ECDSA-P256-SHA256").
    pub fn name(self) -> &'static str {
        match self {
            SignatureAlgorithm::Sm2Sm3 => "SM2-with-SM3",
            SignatureAlgorithm::EcdsaP256Sha256 => "ECDSA-P256-SHA256",
        }
    }

    /// A fresh incremental digest for this suite.
    pub fn digester(self) -> Digester {
        Digester::new(self)
    }

    /// The suite's digest over the concatenation of `parts` (nothing is copied).
    pub fn digest(self, parts: &[&[u8]]) -> Vec<u8> {
        self.digest_algorithm().digest(parts)
    }

    /// The suite of the key a certificate (DER) certifies: id-ecPublicKey with curve SM2
    /// (1.2.156.10197.1.301) or prime256v1 (1.2.840.10045.3.1.7).
    pub fn from_certificate(cert_der: &[u8]) -> Result<Self, CmsError> {
        let cert = super::cert::Cert::parse(cert_der)?;
        Ok(cert.public_key()?.algorithm())
    }

    /// The suite's digest algorithm identifier, parameters absent.
    pub(crate) fn digest_identifier(self) -> AlgorithmIdentifierOwned {
        AlgorithmIdentifierOwned {
            oid: self.digest_oid(),
            parameters: None,
        }
    }

    /// The suite's signature algorithm identifier, parameters absent.
    pub(crate) fn signature_identifier(self) -> AlgorithmIdentifierOwned {
        AlgorithmIdentifierOwned {
            oid: self.signature_oid(),
            parameters: None,
        }
    }

    /// The signature algorithm identifier `profile` writes: GB/T 35275 names SM2 signatures
    /// sm2sign (1.2.156.10197.1.301.1) and has no P-256 ([`CmsError::InvalidInput`]).
    pub(crate) fn signature_identifier_in(
        self,
        profile: super::OidProfile,
    ) -> Result<AlgorithmIdentifierOwned, CmsError> {
        match (profile, self) {
            (super::OidProfile::Rfc5652, _) => Ok(self.signature_identifier()),
            (super::OidProfile::GbT35275, SignatureAlgorithm::Sm2Sm3) => {
                Ok(AlgorithmIdentifierOwned {
                    oid: SM2_SIGN,
                    parameters: None,
                })
            }
            (super::OidProfile::GbT35275, SignatureAlgorithm::EcdsaP256Sha256) => {
                Err(CmsError::InvalidInput(
                    "the GB/T 35275 profile is for SM2 signatures; sign P-256 in RFC 5652's".into(),
                ))
            }
        }
    }

    /// Check a SignerInfo's digestAlgorithm names this suite's digest.
    pub(crate) fn check_digest_identifier(
        self,
        id: &AlgorithmIdentifierOwned,
    ) -> Result<(), CmsError> {
        if id.oid != self.digest_oid() {
            return Err(CmsError::AlgorithmMismatch(format!(
                "digest algorithm {} with a {} key (expected {})",
                id.oid,
                self.name(),
                self.digest_oid()
            )));
        }
        absent_or_null(id)
    }

    /// Check a SignerInfo's signatureAlgorithm fits this suite.
    ///
    /// Accepted: SM2-with-SM3 or sm2sign (1.2.156.10197.1.301.1) for SM2; ecdsa-with-SHA256 or
    /// plain id-ecPublicKey (which some producers write) for P-256. Parameters absent or NULL.
    pub(crate) fn check_signature_identifier(
        self,
        id: &AlgorithmIdentifierOwned,
    ) -> Result<(), CmsError> {
        let accepted: &[ObjectIdentifier] = match self {
            SignatureAlgorithm::Sm2Sm3 => &[SM2_WITH_SM3, SM2_SIGN],
            SignatureAlgorithm::EcdsaP256Sha256 => &[ECDSA_WITH_SHA256, ID_EC_PUBLIC_KEY],
        };
        if !accepted.contains(&id.oid) {
            return Err(CmsError::AlgorithmMismatch(format!(
                "signature algorithm {} with a {} key (expected {})",
                id.oid,
                self.name(),
                self.signature_oid()
            )));
        }
        absent_or_null(id)
    }
}

impl std::fmt::Display for SignatureAlgorithm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Parameters must be absent or NULL.
fn absent_or_null(id: &AlgorithmIdentifierOwned) -> Result<(), CmsError> {
    match &id.parameters {
        None => Ok(()),
        Some(p) if p.tag() == Tag::Null && p.value().is_empty() => Ok(()),
        Some(_) => Err(CmsError::Malformed(format!(
            "algorithm {} has unexpected parameters",
            id.oid
        ))),
    }
}

/// A digest algorithm a SignerInfo may name: the suites' SM3 and SHA-256, and the SHA-384
/// and SHA-512 of signatures other tools make (verified, never written).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DigestAlgorithm {
    /// SM3 (GM/T 0004).
    Sm3,
    /// SHA-256.
    Sha256,
    /// SHA-384.
    Sha384,
    /// SHA-512.
    Sha512,
}

/// SHA-384 (NIST).
pub const ID_SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.2");
/// SHA-512 (NIST).
pub const ID_SHA512: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.3");
/// SHA-1: collisions are practical, so a signature over a SHA-1 digest proves nothing.
pub(crate) const ID_SHA1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.14.3.2.26");

impl DigestAlgorithm {
    /// The digest's OID.
    pub fn oid(self) -> ObjectIdentifier {
        match self {
            DigestAlgorithm::Sm3 => ID_SM3,
            DigestAlgorithm::Sha256 => ID_SHA256,
            DigestAlgorithm::Sha384 => ID_SHA384,
            DigestAlgorithm::Sha512 => ID_SHA512,
        }
    }

    /// The digest named by `oid`, if it is one of these.
    pub fn from_oid(oid: &ObjectIdentifier) -> Option<Self> {
        [
            DigestAlgorithm::Sm3,
            DigestAlgorithm::Sha256,
            DigestAlgorithm::Sha384,
            DigestAlgorithm::Sha512,
        ]
        .into_iter()
        .find(|d| d.oid() == *oid)
    }

    /// Output length in bytes.
    pub fn output_len(self) -> usize {
        match self {
            DigestAlgorithm::Sm3 | DigestAlgorithm::Sha256 => 32,
            DigestAlgorithm::Sha384 => 48,
            DigestAlgorithm::Sha512 => 64,
        }
    }

    /// A short name ("SM3", "SHA-256", ...).
    pub fn name(self) -> &'static str {
        match self {
            DigestAlgorithm::Sm3 => "SM3",
            DigestAlgorithm::Sha256 => "SHA-256",
            DigestAlgorithm::Sha384 => "SHA-384",
            DigestAlgorithm::Sha512 => "SHA-512",
        }
    }

    /// The digest over the concatenation of `parts` (nothing is copied).
    pub fn digest(self, parts: &[&[u8]]) -> Vec<u8> {
        let mut state = DigestState::new(self);
        for part in parts {
            state.update(part);
        }
        state.finalize()
    }
}

/// An incremental digest of a [`SignatureAlgorithm`]'s hash (SM3 or SHA-256).
///
/// Feed the byte ranges one after another with [`Digester::update`] and take the result with
/// [`Digester::finalize`]; the result equals [`SignatureAlgorithm::digest`] over the same parts.
#[derive(Clone)]
pub struct Digester {
    algorithm: SignatureAlgorithm,
    state: DigestState,
}

#[derive(Clone)]
enum DigestState {
    Sm3(Sm3),
    Sha256(Sha256),
    Sha384(sha2::Sha384),
    Sha512(sha2::Sha512),
}

impl DigestState {
    fn new(algorithm: DigestAlgorithm) -> Self {
        match algorithm {
            DigestAlgorithm::Sm3 => DigestState::Sm3(Sm3::new()),
            DigestAlgorithm::Sha256 => DigestState::Sha256(Sha256::new()),
            DigestAlgorithm::Sha384 => DigestState::Sha384(sha2::Sha384::new()),
            DigestAlgorithm::Sha512 => DigestState::Sha512(sha2::Sha512::new()),
        }
    }

    fn update(&mut self, data: &[u8]) {
        match self {
            DigestState::Sm3(h) => h.update(data),
            DigestState::Sha256(h) => h.update(data),
            DigestState::Sha384(h) => h.update(data),
            DigestState::Sha512(h) => h.update(data),
        }
    }

    fn finalize(self) -> Vec<u8> {
        match self {
            DigestState::Sm3(h) => h.finalize().to_vec(),
            DigestState::Sha256(h) => h.finalize().to_vec(),
            DigestState::Sha384(h) => h.finalize().to_vec(),
            DigestState::Sha512(h) => h.finalize().to_vec(),
        }
    }
}

impl std::fmt::Debug for Digester {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Digester")
            .field("algorithm", &self.algorithm)
            .finish_non_exhaustive()
    }
}

impl Digester {
    /// A fresh digest for `algorithm`.
    pub fn new(algorithm: SignatureAlgorithm) -> Self {
        Digester {
            algorithm,
            state: DigestState::new(algorithm.digest_algorithm()),
        }
    }

    /// The suite this digest belongs to.
    pub fn algorithm(&self) -> SignatureAlgorithm {
        self.algorithm
    }

    /// Absorb `data`.
    pub fn update(&mut self, data: &[u8]) {
        self.state.update(data);
    }

    /// The digest of everything absorbed.
    pub fn finalize(self) -> Vec<u8> {
        self.state.finalize()
    }
}

/// What a reader calls an algorithm this module cannot check, with its OID: the digest of a
/// SignerInfo, or the key of a certificate.
pub(crate) fn uncheckable_digest(oid: &ObjectIdentifier) -> String {
    let name = match oid.to_string().as_str() {
        "1.3.14.3.2.26" => "SHA-1",
        "2.16.840.1.101.3.4.2.4" => "SHA-224",
        "2.16.840.1.101.3.4.2.2" => "SHA-384",
        "2.16.840.1.101.3.4.2.3" => "SHA-512",
        "2.16.840.1.101.3.4.2.8" => "SHA3-256",
        "2.16.840.1.101.3.4.2.12" => "SHAKE256",
        _ => "an unknown digest",
    };
    format!("{name} digest ({oid}); inkseal checks SM3 and SHA-256")
}

/// [`uncheckable_digest`] for a certificate's key.
pub(crate) fn uncheckable_key(spki: &SubjectPublicKeyInfoOwned) -> String {
    let oid = spki.algorithm.oid;
    let curve = spki
        .algorithm
        .parameters
        .as_ref()
        .and_then(|p| p.decode_as::<ObjectIdentifier>().ok());
    let name = match (oid.to_string().as_str(), curve.map(|c| c.to_string())) {
        ("1.2.840.113549.1.1.1", _) => "RSA".to_owned(),
        ("1.2.840.113549.1.1.10", _) => "RSASSA-PSS".to_owned(),
        ("1.3.101.112", _) => "Ed25519".to_owned(),
        ("1.3.101.113", _) => "Ed448".to_owned(),
        ("1.2.840.10045.2.1", Some(c)) if c == "1.3.132.0.34" => "ECDSA P-384".to_owned(),
        ("1.2.840.10045.2.1", Some(c)) if c == "1.3.132.0.35" => "ECDSA P-521".to_owned(),
        ("1.2.840.10045.2.1", Some(c)) => format!("ECDSA on curve {c}"),
        _ => "an unknown key algorithm".to_owned(),
    };
    format!("{name} signature (key {oid}); inkseal checks SM2 and ECDSA P-256")
}

/// A public key of one of the supported suites.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum PublicKey {
    Sm2(sm2::PublicKey),
    P256(p256::PublicKey),
}

impl PublicKey {
    /// Decode an id-ecPublicKey SubjectPublicKeyInfo with the SM2 or P-256 named curve.
    pub(crate) fn from_spki(spki: &SubjectPublicKeyInfoOwned) -> Result<Self, CmsError> {
        let (curve, point) = inkseal_pki::ec_public_key_parts(spki).map_err(|e| match e {
            inkseal_pki::PkiError::UnsupportedAlgorithm(m) => CmsError::Unsupported(format!(
                "{m} (expected id-ecPublicKey with curve SM2 or P-256)"
            )),
            other => CmsError::Malformed(other.to_string()),
        })?;
        if curve == SM2_CURVE {
            sm2::PublicKey::from_sec1_bytes(point)
                .map(PublicKey::Sm2)
                .map_err(|_| {
                    CmsError::Malformed("public key is not a point on the SM2 curve".into())
                })
        } else if curve == PRIME256V1 {
            p256::PublicKey::from_sec1_bytes(point)
                .map(PublicKey::P256)
                .map_err(|_| CmsError::Malformed("public key is not a point on P-256".into()))
        } else {
            Err(CmsError::Unsupported(format!(
                "EC curve {curve} (expected SM2 {SM2_CURVE} or P-256 {PRIME256V1})"
            )))
        }
    }

    /// The suite this key signs with.
    pub(crate) fn algorithm(&self) -> SignatureAlgorithm {
        match self {
            PublicKey::Sm2(_) => SignatureAlgorithm::Sm2Sm3,
            PublicKey::P256(_) => SignatureAlgorithm::EcdsaP256Sha256,
        }
    }

    /// Uncompressed SEC1 encoding of the point.
    pub(crate) fn to_sec1_uncompressed(&self) -> Vec<u8> {
        match self {
            PublicKey::Sm2(k) => k.to_sec1_point(false).as_bytes().to_vec(),
            PublicKey::P256(k) => k.to_sec1_point(false).as_bytes().to_vec(),
        }
    }

    /// Verify a DER `SEQUENCE { r, s }` signature over `message` (which the suite hashes: SM2
    /// with Z_A for the default signer ID and SM3; ECDSA with SHA-256).
    ///
    /// A signature that does not decode is reported as [`CmsError::BadSignature`].
    pub(crate) fn verify(&self, message: &[u8], signature_der: &[u8]) -> Result<(), CmsError> {
        match self {
            PublicKey::Sm2(key) => {
                let signature = inkseal_pki::signature_from_der(signature_der)
                    .map_err(|_| CmsError::BadSignature)?;
                let e = inkseal_cosign::message_digest(key, message);
                inkseal_cosign::verify_digest(key, &e, &signature)
                    .map_err(|_| CmsError::BadSignature)
            }
            PublicKey::P256(key) => {
                let signature = p256::ecdsa::Signature::from_der(signature_der)
                    .map_err(|_| CmsError::BadSignature)?;
                if signature.to_der().as_bytes() != signature_der {
                    return Err(CmsError::BadSignature);
                }
                p256::ecdsa::VerifyingKey::from(key)
                    .verify(message, &signature)
                    .map_err(|_| CmsError::BadSignature)
            }
        }
    }
}

/// What a verified signature was made with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VerifiedAlgorithm {
    /// One of the suites inkseal signs with.
    Suite(SignatureAlgorithm),
    /// An algorithm other tools sign with, which inkseal verifies but never writes (only with
    /// the `other-algorithms` feature; without it such signatures are "cannot check").
    Other(OtherAlgorithm),
}

impl VerifiedAlgorithm {
    /// The signing suite, when it is one of inkseal's.
    pub fn suite(self) -> Option<SignatureAlgorithm> {
        match self {
            VerifiedAlgorithm::Suite(suite) => Some(suite),
            VerifiedAlgorithm::Other(_) => None,
        }
    }

    /// The suite of a verification that admits only inkseal's suites (time-stamp tokens,
    /// transactions, logins).
    pub(crate) fn expect_suite(self) -> Result<SignatureAlgorithm, CmsError> {
        match self {
            VerifiedAlgorithm::Suite(suite) => Ok(suite),
            VerifiedAlgorithm::Other(other) => Err(CmsError::Unsupported(format!(
                "{other} (expected SM2-with-SM3 or ECDSA-P256-SHA256)"
            ))),
        }
    }
}

impl std::fmt::Display for VerifiedAlgorithm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            VerifiedAlgorithm::Suite(suite) => suite.fmt(f),
            VerifiedAlgorithm::Other(other) => other.fmt(f),
        }
    }
}

/// A signature algorithm of other signers that inkseal verifies (see [`VerifiedAlgorithm`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OtherAlgorithm {
    /// RSA with PKCS#1 v1.5 padding.
    RsaPkcs1v15 {
        /// Modulus size in bits (at least 2048: smaller keys are refused as weak).
        modulus_bits: usize,
        /// The digest signed.
        digest: DigestAlgorithm,
    },
    /// RSASSA-PSS (MGF1 with the same digest).
    RsaPss {
        /// Modulus size in bits.
        modulus_bits: usize,
        /// The digest signed (and MGF1's).
        digest: DigestAlgorithm,
    },
    /// ECDSA on a NIST curve.
    Ecdsa {
        /// The curve.
        curve: NistCurve,
        /// The digest signed.
        digest: DigestAlgorithm,
    },
    /// Ed25519 (RFC 8032, pure), as CMS uses it (RFC 8419).
    Ed25519,
}

/// A NIST prime curve.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NistCurve {
    /// P-256 (with a digest other than SHA-256: with SHA-256 it is inkseal's own suite).
    P256,
    /// P-384.
    P384,
    /// P-521.
    P521,
}

impl std::fmt::Display for OtherAlgorithm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OtherAlgorithm::RsaPkcs1v15 {
                modulus_bits,
                digest,
            } => write!(f, "RSA-{modulus_bits} PKCS#1 v1.5 {}", digest.name()),
            OtherAlgorithm::RsaPss {
                modulus_bits,
                digest,
            } => write!(f, "RSA-{modulus_bits} PSS {}", digest.name()),
            OtherAlgorithm::Ecdsa { curve, digest } => {
                let curve = match curve {
                    NistCurve::P256 => "P256",
                    NistCurve::P384 => "P384",
                    NistCurve::P521 => "P521",
                };
                write!(f, "ECDSA-{curve}-{}", digest.name().replace('-', ""))
            }
            OtherAlgorithm::Ed25519 => f.write_str("Ed25519"),
        }
    }
}
