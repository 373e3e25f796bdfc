//! Sans-IO two-party SM2 co-signing (协同签名).
//!
//! The user's SM2 private key `d` never exists in one place. It is split multiplicatively,
//! `(1 + d)^-1 = d1 * d2`, with `d1` on the phone ([`ClientKeyShare`]) and `d2` on the
//! co-signing server ([`ServerKeyShare`]). Key generation and every signature take exactly one
//! round trip. This crate does the maths and defines the wire messages; it performs no I/O,
//! spawns no tasks and knows nothing about HTTP, so the phone and the server share one source
//! of truth for the protocol.
//!
//! The maths (see `shared/design.md`, section 3):
//!
//! * keygen: phone sends `P1 = d1^-1 G` with a Schnorr proof; server answers `P2 = d2^-1 G`
//!   with its proof and `P = d2^-1 P1 - G`; the phone checks `P == d1^-1 P2 - G`, `P != O`.
//! * signing: phone sends `e = SM3(Z_A || M)` and its nonce point; server answers
//!   `r = (e + x(w2 G + d2^-1 w1 G)) mod n` and `s1 = d2 (r + w2)`; the phone computes
//!   `s = d1 (s1 + w1) - r` and releases `(r, s)` only after it verifies against `P`.
//!   The nonce point is `X1 = w1 P2 = d2^-1 w1 G` (version 2, which phones send: the server
//!   only adds it to `w2 G`) or `Q1 = w1 G` (version 1, still accepted: the server multiplies
//!   it by `d2^-1`). See [`NonceCommitment`].
//!
//! Invariants kept here: every received point is decoded on the curve and rejected if it is the
//! identity; every received scalar is canonical and non-zero where zero would be degenerate;
//! secret scalars are wiped on drop and never printed by `Debug`; nonces are hedged (fresh
//! randomness mixed with the share and the message) and a signing session is consumed by its
//! single use, so a nonce cannot be used twice.

pub mod api;
mod client;
mod codec;
mod decrypt;
mod dleq;
mod error;
mod hash;
mod messages;
mod nonce;
#[cfg(feature = "p256-cosign")]
pub mod p256;
mod proof;
pub mod reference;
mod server;
#[cfg(feature = "precomputed-tables")]
mod table;
#[cfg(test)]
mod vectors;
mod verify;

pub use client::{ClientKeyShare, ClientKeygen, SignSession};
pub use codec::{HexPoint, HexScalar};
pub use decrypt::{
    DECRYPT_PROTOCOL_VERSION, DecryptError, DecryptRequest, DecryptResponse, DecryptSession,
    MAX_C2_BYTES, MAX_SM2_CIPHER_DER_BYTES, Sm2Ciphertext,
};
pub use dleq::DleqProof;
pub use error::CosignError;
pub use hash::{DEFAULT_SIGNER_ID, message_digest, z_a};
pub use messages::{
    Curve, KeygenRequest, KeygenResponse, MAX_MESSAGE_BYTES, NonceCommitment, PROTOCOL_VERSION,
    SIGN_PROTOCOL_VERSION, SignRequest, SignResponse, Versioned, decode_message, valid_id,
};
pub use proof::SchnorrProof;
pub use server::ServerKeyShare;
pub use verify::PrecomputedVerifier;

/// Re-export of the `sm2` crate version this crate is built against, so callers agree on types.
pub use sm2;

/// Verify an SM2 signature `(r, s)` over the digest `e` with public key `public_key`.
///
/// This is the plain GB/T 32918.2 verification (through the `sm2` crate); it is what the phone
/// runs before releasing a co-signed signature, and what anybody can run afterwards.
pub fn verify_digest(
    public_key: &sm2::PublicKey,
    e: &[u8; 32],
    signature: &sm2::dsa::Signature,
) -> Result<(), CosignError> {
    use sm2::dsa::signature::hazmat::PrehashVerifier;
    let vk = sm2::dsa::VerifyingKey::new(DEFAULT_SIGNER_ID, *public_key)
        .map_err(|_| CosignError::InvalidPoint("public key"))?;
    vk.verify_prehash(e, signature)
        .map_err(|_| CosignError::SignatureCheckFailed)
}
