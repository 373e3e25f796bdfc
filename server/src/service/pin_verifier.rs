//! PIN verifiers: salted hashes, sealed by the vault, compared in constant time.
//!
//! The server is the only place a PIN can be tested, and it counts every failure. The verifier
//! itself is sealed by the vault, so a stolen database does not allow offline guessing without
//! the vault key either.

use inkseal_cosign::api::Pin;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

/// Compute the verifier for a PIN.
pub fn verifier(salt: &[u8], key_id: &str, pin: &Pin) -> Zeroizing<[u8; 32]> {
    let mut h = Sha256::new();
    h.update(b"inkseal/pin/v1");
    h.update((salt.len() as u32).to_be_bytes());
    h.update(salt);
    h.update((key_id.len() as u32).to_be_bytes());
    h.update(key_id.as_bytes());
    h.update(pin.expose().as_bytes());
    Zeroizing::new(h.finalize().into())
}

/// Constant-time comparison of a presented PIN against an opened verifier.
pub fn matches(expected: &[u8], salt: &[u8], key_id: &str, pin: &Pin) -> bool {
    let got = verifier(salt, key_id, pin);
    expected.len() == 32 && bool::from(got.as_slice().ct_eq(expected))
}
