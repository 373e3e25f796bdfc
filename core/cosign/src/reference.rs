//! Plain single-key SM2 signing with an explicit nonce (GB/T 32918.2, section 6.1).
//!
//! For test vectors and benchmarks only: production signing is two-party, and the `sm2` crate's
//! own signer is what callers should use for a local key.

use crate::CosignError;
use crate::codec::{reduce_bytes, x_bytes};
use sm2::elliptic_curve::PrimeField;
use sm2::elliptic_curve::group::Group;
use sm2::{FieldBytes, ProjectivePoint, Scalar};

/// Sign digest `e` with private key `d` and nonce `k`; `None` if the nonce is degenerate.
pub fn sign_with_nonce(
    d: &Scalar,
    e: &[u8; 32],
    k: &Scalar,
) -> Result<Option<sm2::dsa::Signature>, CosignError> {
    let big_r = ProjectivePoint::mul_by_generator(k);
    let x = x_bytes(&big_r).ok_or(CosignError::Degenerate)?;
    let r = reduce_bytes(e) + reduce_bytes(&x);
    if bool::from(r.is_zero()) || bool::from((r + k).is_zero()) {
        return Ok(None);
    }
    let inv = Option::<Scalar>::from((Scalar::ONE + d).invert()).ok_or(CosignError::Degenerate)?;
    let s = inv * (*k + r) - r;
    if bool::from(s.is_zero()) {
        return Ok(None);
    }
    sm2::dsa::Signature::from_scalars(FieldBytes::from(r.to_repr()), FieldBytes::from(s.to_repr()))
        .map(Some)
        .map_err(|_| CosignError::Degenerate)
}
