//! Device-key attestation: how a deployment decides whether a phone's device key lives in its
//! secure hardware.
//!
//! At enrollment the phone may send, with its device key, the platform's attestation of it:
//! an Android Key Attestation certificate chain (the key generated with the enrollment
//! ticket's id as attestation challenge) or an Apple App Attest object. The server stores what
//! it received; an [`AttestationVerifier`] for that format decides whether it holds, and the
//! policy `require_device_attestation` refuses enrollment without a verified one.
//!
//! Verifying against the platforms' roots is an adapter because the roots are the
//! deployment's to choose (Google's attestation roots, a test root, an MDM's): build
//! [`AndroidKeyAttestation`] with the roots and add it to
//! [`ServerConfig::attestation`](crate::ServerConfig). No Apple App Attest verifier ships yet
//! (it needs CBOR and Apple's root); such objects are stored unverified.

use inkseal_cosign::api::AttestationFormat;

/// Checks one attestation format.
pub trait AttestationVerifier: Send + Sync + std::fmt::Debug {
    /// The format it checks.
    fn format(&self) -> AttestationFormat;

    /// Check that `parts` attest `device_key_spki` (SubjectPublicKeyInfo DER) with
    /// `challenge` (the enrollment ticket's id). Returns a short summary for the audit log,
    /// or why the attestation does not hold.
    fn verify(
        &self,
        device_key_spki: &[u8],
        challenge: &[u8],
        parts: &[Vec<u8>],
        now_unix: u64,
    ) -> Result<String, String>;
}

/// Android Key Attestation against a set of trusted roots (Google's in production; the
/// chain's root must have one of their keys). ECDSA chains only (P-256, P-384): Google's
/// older RSA root needs RSA verification, which inkseal does not do yet.
#[derive(Clone, Debug)]
pub struct AndroidKeyAttestation {
    roots: Vec<Vec<u8>>,
}

impl AndroidKeyAttestation {
    /// A verifier trusting these root certificates (DER).
    pub fn new(roots: Vec<Vec<u8>>) -> Self {
        AndroidKeyAttestation { roots }
    }
}

impl AttestationVerifier for AndroidKeyAttestation {
    fn format(&self) -> AttestationFormat {
        AttestationFormat::AndroidKey
    }

    fn verify(
        &self,
        device_key_spki: &[u8],
        challenge: &[u8],
        parts: &[Vec<u8>],
        now_unix: u64,
    ) -> Result<String, String> {
        let a = inkseal_pki::verify_android_key_attestation(
            parts,
            &self.roots,
            challenge,
            device_key_spki,
            now_unix,
        )
        .map_err(|e| e.to_string())?;
        Ok(format!(
            "android key attestation v{}: attestation {:?}, KeyMint {:?}, chain of {}",
            a.attestation_version,
            a.attestation_security_level,
            a.keymint_security_level,
            a.chain_length
        ))
    }
}
