//! Device public keys and key-store signatures in the encodings phones produce.

use p256::ecdsa::{Signature, VerifyingKey};
use p256::pkcs8::DecodePublicKey as _;

use crate::{HttpSigError, SignerError};

/// Longest public key encoding accepted (bytes); a P-256 SubjectPublicKeyInfo is 91 (59
/// compressed), a SEC1 point 65 (33 compressed).
pub const MAX_PUBLIC_KEY_LEN: usize = 256;
/// Longest DER ECDSA P-256 signature (bytes): SEQUENCE of two 33-byte INTEGERs.
pub const MAX_DER_SIGNATURE_LEN: usize = 72;

/// Parses a device key as DER SubjectPublicKeyInfo (what Android's `PublicKey.getEncoded()`
/// and iOS's `SecKeyCopyExternalRepresentation` + SPKI header give). The algorithm must be
/// id-ecPublicKey with the prime256v1 curve, the point on the curve and not the identity, and no
/// bytes may follow the structure.
pub fn verifying_key_from_spki_der(der: &[u8]) -> Result<VerifyingKey, HttpSigError> {
    if der.len() > MAX_PUBLIC_KEY_LEN {
        return Err(HttpSigError::InvalidKey(format!(
            "SubjectPublicKeyInfo longer than {MAX_PUBLIC_KEY_LEN} bytes"
        )));
    }
    VerifyingKey::from_public_key_der(der)
        .map_err(|e| HttpSigError::InvalidKey(format!("not a P-256 SubjectPublicKeyInfo: {e}")))
}

/// Parses a device key as a SEC1 point (`04 || x || y`, or compressed `02`/`03 || x`; iOS's
/// `SecKeyCopyExternalRepresentation` gives the uncompressed form). The point must be on the
/// curve and not the identity.
pub fn verifying_key_from_sec1(bytes: &[u8]) -> Result<VerifyingKey, HttpSigError> {
    if bytes.len() > MAX_PUBLIC_KEY_LEN {
        return Err(HttpSigError::InvalidKey(format!(
            "SEC1 point longer than {MAX_PUBLIC_KEY_LEN} bytes"
        )));
    }
    VerifyingKey::from_sec1_bytes(bytes)
        .map_err(|_| HttpSigError::InvalidKey("not a P-256 SEC1 point".into()))
}

/// Converts a DER `SEQUENCE { r INTEGER, s INTEGER }` ECDSA signature (what Android Keystore's
/// `SHA256withECDSA` and the Secure Enclave's `ecdsaSignatureMessageX962SHA256` return) to the
/// signature this crate puts on the wire as raw `r || s`. Strict DER; `r` and `s` must be in
/// `1..n`.
pub fn signature_from_der(der: &[u8]) -> Result<Signature, SignerError> {
    if der.len() > MAX_DER_SIGNATURE_LEN {
        return Err(SignerError::new(format!(
            "DER signature longer than {MAX_DER_SIGNATURE_LEN} bytes"
        )));
    }
    Signature::from_der(der)
        .map_err(|_| SignerError::new("not a DER ECDSA P-256 signature with r, s in 1..n"))
}
