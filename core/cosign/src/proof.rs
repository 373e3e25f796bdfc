//! Schnorr proofs of knowledge of a discrete logarithm (non-interactive, Fiat-Shamir with SM3).
//!
//! Proves knowledge of `x` with `X = x G`, bound to a role ("client" or "server") and to the
//! enrollment id, so a proof cannot be replayed into another enrollment or reflected back.

use crate::CosignError;
use crate::codec::{HexPoint, HexScalar, reduce_bytes};
use crate::hash::tagged_hash;
use crate::nonce::hedged_scalar;
use serde::{Deserialize, Serialize};
use sm2::elliptic_curve::group::Group;
use sm2::{ProjectivePoint, PublicKey, Scalar};
use zeroize::Zeroize;

const TAG: &str = "inkseal/cosign/v1/schnorr";

/// A proof `(T, z)` with `z G == T + c X`, `c = H(role, enrollment id, X, T)`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SchnorrProof {
    /// Commitment T = k G.
    pub t: HexPoint,
    /// Response z = k + c x.
    pub z: HexScalar,
}

fn challenge(role: &str, enrollment_id: &str, x: &HexPoint, t: &HexPoint) -> Scalar {
    reduce_bytes(&tagged_hash(
        TAG,
        &[role.as_bytes(), enrollment_id.as_bytes(), &x.0, &t.0],
    ))
}

impl SchnorrProof {
    /// Prove knowledge of `secret` where `public = secret * G`.
    pub(crate) fn prove(
        role: &str,
        enrollment_id: &str,
        secret: &Scalar,
        public: &HexPoint,
    ) -> Result<Self, CosignError> {
        let mut k = hedged_scalar(TAG, Some(secret), public.0.as_slice())?;
        let t = HexPoint::from_point(&(ProjectivePoint::mul_by_generator(&k)));
        let c = challenge(role, enrollment_id, public, &t);
        let z = k + c * secret;
        k.zeroize();
        Ok(SchnorrProof {
            t,
            z: HexScalar::from_scalar(&z),
        })
    }

    /// Check the proof for `public` under `role` and `enrollment_id`.
    pub(crate) fn verify(
        &self,
        role: &str,
        enrollment_id: &str,
        public: &HexPoint,
        field: &'static str,
    ) -> Result<PublicKey, CosignError> {
        let x = public.point(field)?;
        let t = self.t.point(field)?;
        let z = self.z.scalar(field)?;
        let c = challenge(role, enrollment_id, public, &self.t);
        let lhs = ProjectivePoint::mul_by_generator(&z);
        let rhs = t.to_projective() + x.to_projective() * c;
        if bool::from((lhs - rhs).is_identity()) {
            Ok(x)
        } else {
            Err(CosignError::ProofInvalid(field))
        }
    }
}
