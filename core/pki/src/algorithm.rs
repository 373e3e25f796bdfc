//! SM2 algorithm identifiers, SubjectPublicKeyInfo, signature encoding and verification.

use crate::error::{PkiError, encoding, malformed};
use der::asn1::{Any, AnyRef, BitString, BitStringRef, ObjectIdentifier};
use der::{Decode, Encode, Sequence, Tag, Tagged};
use inkseal_cosign::sm2::elliptic_curve::sec1::ToSec1Point;
use inkseal_cosign::sm2::{self, PublicKey};
use sm3::{Digest, Sm3};
use spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};

/// id-ecPublicKey (RFC 5480): the SPKI algorithm of an SM2 key.
pub const ID_EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
/// The SM2 curve (GM/T 0006): the id-ecPublicKey parameter of an SM2 key.
pub const SM2_CURVE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.156.10197.1.301");
/// SM2-with-SM3 signature algorithm (GM/T 0006), used without parameters.
pub const SM2_WITH_SM3: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.156.10197.1.501");
/// ecdsa-with-SHA256 (RFC 5758), used without parameters: the embedded CA's P-256 root signs
/// with it.
pub const ECDSA_WITH_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");
/// The NIST P-256 curve (prime256v1): the id-ecPublicKey parameter of a P-256 key.
pub const PRIME256V1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");

/// The signed envelope shared by PKCS#10 and X.509: `SEQUENCE { tbs, algorithm, BIT STRING }`.
///
/// `tbs` is kept as the raw TLV so the signature is checked over the exact input bytes and a
/// caller's to-be-signed bytes are embedded unchanged.
#[derive(Sequence)]
pub(crate) struct Signed<'a> {
    pub(crate) tbs: AnyRef<'a>,
    pub(crate) algorithm: AlgorithmIdentifierOwned,
    pub(crate) signature: BitStringRef<'a>,
}

impl<'a> Signed<'a> {
    /// Parse the envelope and return it with the DER of its to-be-signed part.
    pub(crate) fn parse(der: &'a [u8], what: &'static str) -> Result<(Self, Vec<u8>), PkiError> {
        let signed = Signed::from_der(der).map_err(malformed(what))?;
        if signed.tbs.tag() != Tag::Sequence {
            return Err(PkiError::Malformed(format!(
                "{what}: to-be-signed part is not a SEQUENCE"
            )));
        }
        // DER lengths are minimal (the decoder rejects anything else), so re-encoding the TLV
        // header reproduces the input bytes exactly.
        let tbs = signed.tbs.to_der().map_err(malformed(what))?;
        Ok((signed, tbs))
    }

    /// Wrap `tbs` (one DER TLV) with the SM2-with-SM3 algorithm and signature.
    pub(crate) fn assemble(
        tbs: &[u8],
        signature: &sm2::dsa::Signature,
    ) -> Result<Vec<u8>, PkiError> {
        Self::assemble_with(tbs, sm2_with_sm3(), &signature_to_der(signature))
    }

    /// Wrap `tbs` (one DER TLV) with `algorithm` and the DER signature `signature`.
    pub(crate) fn assemble_with(
        tbs: &[u8],
        algorithm: AlgorithmIdentifierOwned,
        signature: &[u8],
    ) -> Result<Vec<u8>, PkiError> {
        let signed = Signed {
            tbs: AnyRef::from_der(tbs).map_err(malformed("to-be-signed bytes"))?,
            algorithm,
            signature: BitStringRef::from_bytes(signature).map_err(encoding("signature"))?,
        };
        signed.to_der().map_err(encoding("signed structure"))
    }

    /// Check the algorithm is SM2-with-SM3 and return the decoded signature.
    pub(crate) fn sm2_signature(&self) -> Result<sm2::dsa::Signature, PkiError> {
        check_sm2_with_sm3(&self.algorithm)?;
        let bytes = self
            .signature
            .as_bytes()
            .ok_or_else(|| PkiError::Malformed("signature BIT STRING has unused bits".into()))?;
        signature_from_der(bytes)
    }
}

/// The SM2-with-SM3 algorithm identifier (parameters absent).
pub(crate) fn sm2_with_sm3() -> AlgorithmIdentifierOwned {
    AlgorithmIdentifierOwned {
        oid: SM2_WITH_SM3,
        parameters: None,
    }
}

/// Accept SM2-with-SM3 with absent (or NULL) parameters; reject anything else.
pub(crate) fn check_sm2_with_sm3(alg: &AlgorithmIdentifierOwned) -> Result<(), PkiError> {
    if alg.oid != SM2_WITH_SM3 {
        return Err(PkiError::UnsupportedAlgorithm(format!(
            "signature algorithm {} (expected SM2-with-SM3 {SM2_WITH_SM3})",
            alg.oid
        )));
    }
    match &alg.parameters {
        None => Ok(()),
        Some(p) if p.tag() == Tag::Null && p.value().is_empty() => Ok(()),
        Some(_) => Err(PkiError::Malformed(
            "SM2-with-SM3 algorithm identifier has parameters".into(),
        )),
    }
}

/// SubjectPublicKeyInfo of an SM2 key: id-ecPublicKey, curve sm2, uncompressed SEC1 point.
pub(crate) fn sm2_spki(public_key: &PublicKey) -> Result<SubjectPublicKeyInfoOwned, PkiError> {
    ec_spki(SM2_CURVE, public_key.to_sec1_point(false).as_bytes())
}

/// SubjectPublicKeyInfo of a P-256 key: id-ecPublicKey, curve prime256v1, uncompressed point.
pub(crate) fn p256_spki(
    public_key: &p256::PublicKey,
) -> Result<SubjectPublicKeyInfoOwned, PkiError> {
    use p256::elliptic_curve::sec1::ToSec1Point as _;
    ec_spki(PRIME256V1, public_key.to_sec1_point(false).as_bytes())
}

fn ec_spki(curve: ObjectIdentifier, point: &[u8]) -> Result<SubjectPublicKeyInfoOwned, PkiError> {
    Ok(SubjectPublicKeyInfoOwned {
        algorithm: AlgorithmIdentifierOwned {
            oid: ID_EC_PUBLIC_KEY,
            parameters: Some(Any::encode_from(&curve).map_err(encoding("curve OID"))?),
        },
        subject_public_key: BitString::from_bytes(point).map_err(encoding("public key"))?,
    })
}

/// The named curve and the encoded point of an id-ecPublicKey SubjectPublicKeyInfo (RFC 5480);
/// other algorithms, explicit curve parameters and padded bit strings are refused.
pub fn ec_public_key_parts(
    spki: &SubjectPublicKeyInfoOwned,
) -> Result<(ObjectIdentifier, &[u8]), PkiError> {
    if spki.algorithm.oid != ID_EC_PUBLIC_KEY {
        return Err(PkiError::UnsupportedAlgorithm(format!(
            "public key algorithm {} (expected id-ecPublicKey)",
            spki.algorithm.oid
        )));
    }
    let curve: ObjectIdentifier = spki
        .algorithm
        .parameters
        .as_ref()
        .ok_or_else(|| PkiError::Malformed("id-ecPublicKey without curve parameters".into()))?
        .decode_as()
        .map_err(|_| {
            PkiError::UnsupportedAlgorithm("EC key with explicit curve parameters".into())
        })?;
    let point = spki
        .subject_public_key
        .as_bytes()
        .ok_or_else(|| PkiError::Malformed("public key BIT STRING has unused bits".into()))?;
    Ok((curve, point))
}

/// Decode the SM2 public key of a SubjectPublicKeyInfo, rejecting other algorithms and curves.
pub(crate) fn sm2_public_key(spki: &SubjectPublicKeyInfoOwned) -> Result<PublicKey, PkiError> {
    let (curve, point) = ec_public_key_parts(spki)?;
    if curve != SM2_CURVE {
        return Err(PkiError::UnsupportedAlgorithm(format!(
            "EC curve {curve} (expected sm2 {SM2_CURVE})"
        )));
    }
    PublicKey::from_sec1_bytes(point)
        .map_err(|_| PkiError::Malformed("public key is not a point on the SM2 curve".into()))
}

/// Key identifier of an SM2 or P-256 SubjectPublicKeyInfo: the leftmost 160 bits of SM3 (SM2
/// keys) or SHA-256 (other curves) over the subjectPublicKey bits
/// (RFC 7093 section 2 method 1).
pub(crate) fn spki_key_identifier(spki: &SubjectPublicKeyInfoOwned) -> Result<[u8; 20], PkiError> {
    let (curve, point) = ec_public_key_parts(spki)?;
    let mut out = [0u8; 20];
    if curve == SM2_CURVE {
        out.copy_from_slice(&Sm3::digest(point)[..20]);
    } else {
        out.copy_from_slice(&sha2::Sha256::digest(point)[..20]);
    }
    Ok(out)
}

/// Verify a standard SM2 signature (default signer ID) over `message`.
pub(crate) fn verify_sm2(
    public_key: &PublicKey,
    message: &[u8],
    signature: &sm2::dsa::Signature,
) -> Result<(), PkiError> {
    let e = inkseal_cosign::message_digest(public_key, message);
    inkseal_cosign::verify_digest(public_key, &e, signature).map_err(|_| PkiError::BadSignature)
}

/// Encode an SM2 signature as DER `SEQUENCE { INTEGER r, INTEGER s }`.
pub fn signature_to_der(signature: &sm2::dsa::Signature) -> Vec<u8> {
    signature.to_der().to_vec()
}

/// Decode a DER `SEQUENCE { INTEGER r, INTEGER s }` SM2 signature.
///
/// Strict: r and s must be in `[1, n-1]` and the encoding must be canonical DER (no trailing data,
/// no superfluous leading zeros).
pub fn signature_from_der(der: &[u8]) -> Result<sm2::dsa::Signature, PkiError> {
    let signature = sm2::dsa::Signature::from_der(der)
        .map_err(|_| PkiError::Malformed("signature is not DER SEQUENCE { r, s }".into()))?;
    if signature_to_der(&signature) != der {
        return Err(PkiError::Malformed("signature is not canonical DER".into()));
    }
    Ok(signature)
}
