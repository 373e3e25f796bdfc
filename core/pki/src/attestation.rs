//! Android Key Attestation: checking the certificate chain a phone sends for its P-256 device
//! key (a pure function: bytes and the time in, a verdict out).
//!
//! Android's Keystore certifies a hardware-held key with a chain: the leaf certifies the key
//! and carries the KeyDescription extension (OID 1.3.6.1.4.1.11129.2.1.17) with the server's
//! challenge and the security level the key lives at; the chain ends at one of Google's
//! attestation roots, which a deployment supplies as trusted roots.
//!
//! What is checked, and what is not:
//! * Signatures: each certificate's signature verifies under the next one's key, with
//!   ecdsa-with-SHA256 or ecdsa-with-SHA384 on a P-256 or P-384 key (Google's newer roots are
//!   P-384). RSA is not supported yet: chains under Google's older RSA-4096 roots need RSA
//!   verification, which a later change adds; they get [`PkiError::UnsupportedAlgorithm`].
//! * Trust: the last certificate's SubjectPublicKeyInfo equals a trusted root's (so the last
//!   certificate may be the root itself or a re-issue of it with the same key).
//! * Validity periods of every certificate cover `now_unix`.
//! * The leaf certifies exactly the device key, and its KeyDescription's attestationChallenge is
//!   the expected challenge. The KeyDescription must be in the leaf only: a chain in which
//!   another certificate carries it (an attested key that issued the leaf, as with Android 12's
//!   app-provided ATTEST_KEY keys) is refused, because whoever holds such a key could write any
//!   leaf they like.
//! * Not checked: names chaining (issuer = next subject), basicConstraints and keyUsage of the
//!   intermediates, and revocation (Google's attestation status list); like Google's reference
//!   verifier, trust rests on the signatures and the root key. The two AuthorizationLists
//!   (softwareEnforced, hardwareEnforced) are parsed only as DER SEQUENCEs and not interpreted
//!   yet (no purpose, origin or root-of-trust checks).
//!
//! The caller decides what a security level is worth: `Software` means the key is not in
//! hardware at all.

use crate::algorithm::ec_public_key_parts;
use crate::error::{PkiError, malformed};
use crate::time;
use crate::verify::{MAX_CERTIFICATE_BYTES, ParsedCertificate};
use der::asn1::{Any, ObjectIdentifier, OctetString};
use der::{Decode, Encode, Enumerated, Sequence, Tag, Tagged};
use p256::ecdsa::signature::hazmat::PrehashVerifier;
use sha2::{Digest, Sha256, Sha384};
use spki::SubjectPublicKeyInfoOwned;
use x509_cert::Certificate;

/// The Android Key Attestation extension (KeyDescription).
pub const ANDROID_KEY_ATTESTATION_OID: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.3.6.1.4.1.11129.2.1.17");

/// Most certificates an attestation chain may have. Each certificate is limited to
/// [`crate::MAX_CERTIFICATE_BYTES`].
pub const MAX_ATTESTATION_CHAIN_CERTIFICATES: usize = 8;

const ECDSA_WITH_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");
const ECDSA_WITH_SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.3");
const SECP256R1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
const SECP384R1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.34");
/// PKCS #1 (RFC 8017): rsaEncryption and the RSA signature algorithms live under this arc.
const PKCS1_ARC: &str = "1.2.840.113549.1.1.";

/// Where the attested key (or the attestation itself) is enforced (Android's SecurityLevel).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Enumerated)]
#[repr(u32)]
pub enum SecurityLevel {
    /// Android's software Keystore: the key is not in secure hardware.
    Software = 0,
    /// A Trusted Execution Environment (TEE).
    TrustedEnvironment = 1,
    /// A StrongBox secure element.
    StrongBox = 2,
}

/// What a verified attestation says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AndroidKeyAttestation {
    /// attestationVersion (e.g. 3, 4, 100, 200, 300, 400).
    pub attestation_version: u32,
    /// attestationSecurityLevel: where the attestation was produced.
    pub attestation_security_level: SecurityLevel,
    /// keyMintSecurityLevel (keymasterSecurityLevel before version 100): where the key lives.
    pub keymint_security_level: SecurityLevel,
    /// Number of certificates in the verified chain (leaf and root included).
    pub chain_length: usize,
}

/// KeyDescription (Android's key attestation schema, attestation versions 1 to 400).
///
/// The AuthorizationLists are kept as raw DER: they are not interpreted yet.
#[derive(Sequence)]
struct KeyDescription {
    attestation_version: u32,
    attestation_security_level: SecurityLevel,
    keymint_version: u32,
    keymint_security_level: SecurityLevel,
    attestation_challenge: OctetString,
    unique_id: OctetString,
    software_enforced: Any,
    hardware_enforced: Any,
}

/// The KeyDescription extension value (DER) a device at `level` writes for `challenge`,
/// attestation version 300, no unique id, empty authorization lists: what test chains and
/// tools put in a leaf certificate. The verifier reads the same structure.
pub fn key_description_der(challenge: &[u8], level: SecurityLevel) -> Result<Vec<u8>, PkiError> {
    let empty = Any::from_der(&[0x30, 0x00]).map_err(malformed("AuthorizationList"))?;
    let octets = |b: &[u8]| OctetString::new(b).map_err(malformed("KeyDescription"));
    KeyDescription {
        attestation_version: 300,
        attestation_security_level: level,
        keymint_version: 300,
        keymint_security_level: level,
        attestation_challenge: octets(challenge)?,
        unique_id: octets(&[])?,
        software_enforced: empty.clone(),
        hardware_enforced: empty,
    }
    .to_der()
    .map_err(malformed("KeyDescription"))
}

/// A parsed certificate with the exact bytes its signature covers.
type ChainCertificate<'a> = ParsedCertificate<'a>;

/// Verify an Android Key Attestation chain for the device key and return what it attests.
///
/// * `chain_der`: the chain as `KeyStore.getCertificateChain` returns it, leaf first, root
///   last: at least 2 and at most [`MAX_ATTESTATION_CHAIN_CERTIFICATES`] certificates
///   ([`PkiError::InvalidInput`] / [`PkiError::ChainTooLong`]), each at most
///   [`crate::MAX_CERTIFICATE_BYTES`] ([`PkiError::TooLarge`]).
/// * `trusted_roots_der`: the attestation root certificates the deployment trusts (Google's);
///   at least one.
/// * `expected_challenge`: the challenge the server issued for this attestation (non-empty).
/// * `device_public_key_spki_der`: the phone's P-256 device key as a SubjectPublicKeyInfo.
/// * `now_unix`: the time validity periods are checked at.
///
/// Errors, in the order checked: malformed certificates ([`PkiError::Malformed`]); the last
/// certificate's key is not a trusted root's ([`PkiError::UntrustedRoot`]); certificate `i`
/// does not verify under certificate `i + 1`'s key ([`PkiError::ChainBroken`]), or uses an
/// algorithm other than ECDSA with SHA-256/384 on P-256/384
/// ([`PkiError::UnsupportedAlgorithm`]); a certificate is expired or not yet valid
/// ([`PkiError::Expired`] / [`PkiError::NotYetValid`]); the leaf's key is not the device key
/// ([`PkiError::KeyMismatch`]); a certificate other than the leaf carries the extension
/// ([`PkiError::AttestationExtensionNotInLeaf`]); the leaf lacks it
/// ([`PkiError::MissingAttestationExtension`]); the challenge differs
/// ([`PkiError::ChallengeMismatch`]).
///
/// See the module documentation for what is deliberately not checked.
pub fn verify_android_key_attestation(
    chain_der: &[Vec<u8>],
    trusted_roots_der: &[Vec<u8>],
    expected_challenge: &[u8],
    device_public_key_spki_der: &[u8],
    now_unix: u64,
) -> Result<AndroidKeyAttestation, PkiError> {
    if chain_der.len() > MAX_ATTESTATION_CHAIN_CERTIFICATES {
        return Err(PkiError::ChainTooLong(MAX_ATTESTATION_CHAIN_CERTIFICATES));
    }
    if chain_der.len() < 2 {
        return Err(PkiError::InvalidInput(
            "an attestation chain has at least a leaf and a root".into(),
        ));
    }
    if trusted_roots_der.is_empty() {
        return Err(PkiError::InvalidInput(
            "no trusted attestation roots".into(),
        ));
    }
    if expected_challenge.is_empty() {
        return Err(PkiError::InvalidInput(
            "the expected attestation challenge is empty".into(),
        ));
    }
    let device_key = device_key(device_public_key_spki_der)?;
    let chain = chain_der
        .iter()
        .map(|der| ChainCertificate::parse(der))
        .collect::<Result<Vec<_>, _>>()?;
    let root_keys = trusted_root_keys(trusted_roots_der)?;

    let (Some(leaf), Some(last)) = (chain.first(), chain.last()) else {
        return Err(PkiError::InvalidInput("empty chain".into()));
    };

    // Trust: the last certificate has a trusted root's key.
    let last_key = spki_der(&last.certificate)?;
    if !root_keys.contains(&last_key) {
        return Err(PkiError::UntrustedRoot);
    }

    // Signatures: certificate i under certificate i + 1's key.
    for (index, pair) in chain.windows(2).enumerate() {
        let [cert, issuer] = pair else { continue };
        verify_link(
            cert,
            issuer
                .certificate
                .tbs_certificate()
                .subject_public_key_info(),
            index,
        )?;
    }

    for cert in &chain {
        time::check_within(cert.certificate.tbs_certificate().validity(), now_unix)?;
    }

    let leaf_key = p256_key(leaf.certificate.tbs_certificate().subject_public_key_info())
        .map_err(|_| PkiError::KeyMismatch)?;
    if leaf_key != device_key {
        return Err(PkiError::KeyMismatch);
    }

    for (index, cert) in chain.iter().enumerate().skip(1) {
        if attestation_extension(&cert.certificate)?.is_some() {
            return Err(PkiError::AttestationExtensionNotInLeaf(index));
        }
    }
    let value =
        attestation_extension(&leaf.certificate)?.ok_or(PkiError::MissingAttestationExtension)?;
    let description = KeyDescription::from_der(value).map_err(malformed("KeyDescription"))?;
    for list in [
        &description.software_enforced,
        &description.hardware_enforced,
    ] {
        if list.tag() != Tag::Sequence {
            return Err(PkiError::Malformed(
                "KeyDescription: an AuthorizationList is not a SEQUENCE".into(),
            ));
        }
    }
    if description.attestation_challenge.as_bytes() != expected_challenge {
        return Err(PkiError::ChallengeMismatch);
    }
    Ok(AndroidKeyAttestation {
        attestation_version: description.attestation_version,
        attestation_security_level: description.attestation_security_level,
        keymint_security_level: description.keymint_security_level,
        chain_length: chain.len(),
    })
}

/// The DER SubjectPublicKeyInfo of each trusted root certificate.
fn trusted_root_keys(roots: &[Vec<u8>]) -> Result<Vec<Vec<u8>>, PkiError> {
    roots
        .iter()
        .enumerate()
        .map(|(i, der)| {
            if der.len() > MAX_CERTIFICATE_BYTES {
                return Err(PkiError::InvalidInput(format!(
                    "trusted root {i} is larger than {MAX_CERTIFICATE_BYTES} bytes"
                )));
            }
            let cert = Certificate::from_der(der)
                .map_err(|e| PkiError::InvalidInput(format!("trusted root {i}: {e}")))?;
            spki_der(&cert)
        })
        .collect()
}

fn spki_der(cert: &Certificate) -> Result<Vec<u8>, PkiError> {
    cert.tbs_certificate()
        .subject_public_key_info()
        .to_der()
        .map_err(malformed("SubjectPublicKeyInfo"))
}

/// The caller's device key: an id-ecPublicKey P-256 SubjectPublicKeyInfo.
fn device_key(spki_der: &[u8]) -> Result<p256::PublicKey, PkiError> {
    if spki_der.len() > MAX_CERTIFICATE_BYTES {
        return Err(PkiError::InvalidInput("device key is too large".into()));
    }
    let spki = SubjectPublicKeyInfoOwned::from_der(spki_der)
        .map_err(|e| PkiError::InvalidInput(format!("device key: {e}")))?;
    p256_key(&spki).map_err(|e| PkiError::InvalidInput(format!("device key: {e}")))
}

fn p256_key(spki: &SubjectPublicKeyInfoOwned) -> Result<p256::PublicKey, PkiError> {
    let (curve, point) = ec_public_key_parts(spki)?;
    if curve != SECP256R1 {
        return Err(PkiError::UnsupportedAlgorithm(format!(
            "EC curve {curve} (expected P-256 {SECP256R1})"
        )));
    }
    p256::PublicKey::from_sec1_bytes(point)
        .map_err(|_| PkiError::Malformed("public key is not a point on P-256".into()))
}

fn is_rsa(oid: &ObjectIdentifier) -> bool {
    oid.to_string().starts_with(PKCS1_ARC)
}

fn rsa_unsupported(oid: &ObjectIdentifier) -> PkiError {
    PkiError::UnsupportedAlgorithm(format!(
        "RSA ({oid}): chains under Google's RSA-4096 attestation roots are not supported yet"
    ))
}

/// Verify `cert`'s ECDSA signature under `issuer_spki`; a signature that does not verify is
/// [`PkiError::ChainBroken`]`(index)`.
fn verify_link(
    cert: &ChainCertificate<'_>,
    issuer_spki: &SubjectPublicKeyInfoOwned,
    index: usize,
) -> Result<(), PkiError> {
    let algorithm = &cert.signed.algorithm;
    let digest: Vec<u8> = if algorithm.oid == ECDSA_WITH_SHA256 {
        Sha256::digest(&cert.tbs).to_vec()
    } else if algorithm.oid == ECDSA_WITH_SHA384 {
        Sha384::digest(&cert.tbs).to_vec()
    } else if is_rsa(&algorithm.oid) {
        return Err(rsa_unsupported(&algorithm.oid));
    } else {
        return Err(PkiError::UnsupportedAlgorithm(format!(
            "signature algorithm {} (expected ecdsa-with-SHA256 or ecdsa-with-SHA384)",
            algorithm.oid
        )));
    };
    if algorithm.parameters.is_some() {
        return Err(PkiError::Malformed(
            "ECDSA algorithm identifier has parameters".into(),
        ));
    }
    let signature = cert
        .signed
        .signature
        .as_bytes()
        .ok_or_else(|| PkiError::Malformed("signature BIT STRING has unused bits".into()))?;
    if is_rsa(&issuer_spki.algorithm.oid) {
        return Err(rsa_unsupported(&issuer_spki.algorithm.oid));
    }
    let (curve, point) = ec_public_key_parts(issuer_spki)?;
    let bad_point =
        |_| PkiError::Malformed(format!("issuer key of certificate {index}: bad point"));
    let bad_signature =
        |_| PkiError::Malformed(format!("certificate {index}: bad ECDSA signature encoding"));
    let verified = if curve == SECP256R1 {
        let key = p256::ecdsa::VerifyingKey::from_sec1_bytes(point).map_err(bad_point)?;
        let signature = p256::ecdsa::Signature::from_der(signature).map_err(bad_signature)?;
        key.verify_prehash(&digest, &signature).is_ok()
    } else if curve == SECP384R1 {
        let key = p384::ecdsa::VerifyingKey::from_sec1_bytes(point).map_err(bad_point)?;
        let signature = p384::ecdsa::Signature::from_der(signature).map_err(bad_signature)?;
        key.verify_prehash(&digest, &signature).is_ok()
    } else {
        return Err(PkiError::UnsupportedAlgorithm(format!(
            "EC curve {curve} (expected P-256 or P-384)"
        )));
    };
    if verified {
        Ok(())
    } else {
        Err(PkiError::ChainBroken(index))
    }
}

/// The value of the certificate's KeyDescription extension, if it has exactly one.
fn attestation_extension(cert: &Certificate) -> Result<Option<&[u8]>, PkiError> {
    let mut found = cert
        .tbs_certificate()
        .extensions()
        .into_iter()
        .flatten()
        .filter(|e| e.extn_id == ANDROID_KEY_ATTESTATION_OID);
    let first = found.next();
    if found.next().is_some() {
        return Err(PkiError::Malformed(
            "the key attestation extension appears twice".into(),
        ));
    }
    Ok(first.map(|e| e.extn_value.as_bytes()))
}
