//! Fast verification against one public key, for the phone's check of every co-signed signature.
//!
//! GB/T 32918.2 verification computes `[s]G + [t]P`. `[s]G` uses the generator's precomputed
//! table; for `[t]P` this module precomputes, once per key, the multiples `j * 16^i * P`
//! (i < 64, j < 16), so each verification needs 64 point additions instead of 256 doublings.
//! Every input is public (the key, the digest and the signature), so the lookups may be
//! variable-time. The tests check it agrees with the `sm2` crate's verifier on valid and invalid
//! signatures.

use crate::CosignError;
use crate::codec::{reduce_bytes, x_bytes};
use sm2::elliptic_curve::PrimeField;
use sm2::elliptic_curve::group::{Curve, Group};
use sm2::{AffinePoint, ProjectivePoint, PublicKey, Scalar};

const WINDOWS: usize = 64;
const WINDOW_SIZE: usize = 16;

/// A public key with a precomputed multiplication table (about 70 KiB).
pub struct PrecomputedVerifier {
    public_key: PublicKey,
    /// `table[i * 16 + j] = j * 16^i * P` (entry j = 0 is the identity and never used).
    table: Vec<AffinePoint>,
}

impl std::fmt::Debug for PrecomputedVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PrecomputedVerifier")
            .field(
                "public_key",
                &crate::HexPoint::from_public_key(&self.public_key),
            )
            .finish_non_exhaustive()
    }
}

impl PrecomputedVerifier {
    /// Build the table for `public_key` (about a millisecond).
    pub fn new(public_key: &PublicKey) -> Self {
        let mut projective = Vec::with_capacity(WINDOWS * WINDOW_SIZE);
        let mut base = public_key.to_projective();
        for _ in 0..WINDOWS {
            let mut acc = ProjectivePoint::identity();
            for _ in 0..WINDOW_SIZE {
                projective.push(acc);
                acc += base;
            }
            // acc is now 16 * base.
            base = acc;
        }
        let mut table = vec![AffinePoint::default(); projective.len()];
        ProjectivePoint::batch_normalize(&projective, &mut table);
        PrecomputedVerifier {
            public_key: *public_key,
            table,
        }
    }

    /// The key this verifier checks against.
    pub fn public_key(&self) -> &PublicKey {
        &self.public_key
    }

    /// `[k]P` from the table (variable time: only for public scalars).
    fn mul_public(&self, k: &Scalar) -> ProjectivePoint {
        let bytes = k.to_repr();
        let mut acc = ProjectivePoint::identity();
        // Byte 31 holds the least significant nibbles (big-endian representation).
        for (i, byte) in bytes.iter().rev().enumerate() {
            for (half, nibble) in [(0, byte & 0x0f), (1, byte >> 4)] {
                if nibble != 0 {
                    acc += self.table[(2 * i + half) * WINDOW_SIZE + usize::from(nibble)];
                }
            }
        }
        acc
    }

    /// Verify `(r, s)` over the digest `e` (GB/T 32918.2 section 7.1, steps B1 to B7).
    pub fn verify(&self, e: &[u8; 32], signature: &sm2::dsa::Signature) -> Result<(), CosignError> {
        // B1, B2: r and s in [1, n-1] is guaranteed by the Signature type.
        let r: Scalar = *signature.r();
        let s: Scalar = *signature.s();
        // B5
        let t = r + s;
        if bool::from(t.is_zero()) {
            return Err(CosignError::SignatureCheckFailed);
        }
        // B6, rejecting the point at infinity.
        let point = ProjectivePoint::mul_by_generator(&s) + self.mul_public(&t);
        if bool::from(point.is_identity()) {
            return Err(CosignError::SignatureCheckFailed);
        }
        let x = x_bytes(&point).ok_or(CosignError::SignatureCheckFailed)?;
        // B7
        if reduce_bytes(e) + reduce_bytes(&x) == r {
            Ok(())
        } else {
            Err(CosignError::SignatureCheckFailed)
        }
    }
}
