//! Chaum–Pedersen proofs of equal discrete logarithms (non-interactive, Fiat–Shamir with SM3).
//!
//! In two-party decryption the server answers `T2 = d2^-1 T1` and proves, without revealing
//! `d2^-1`, that it used the same scalar as in its key-generation contribution `P2 = d2^-1 G`:
//! `log_G P2 = log_T1 T2`. The challenge is bound to the key id and the request id (the
//! idempotency key of the round), so a proof cannot be moved to another key or round, and to
//! every point involved, so a proof over another `T1` does not verify for this one.

use crate::CosignError;
use crate::codec::{HexScalar, reduce_bytes};
use crate::hash::tagged_hash;
use crate::nonce::hedged_scalar_with;
use serde::{Deserialize, Serialize};
use sm2::elliptic_curve::group::Group;
use sm2::elliptic_curve::ops::LinearCombination;
use sm2::elliptic_curve::sec1::ToSec1Point;
use sm2::{ProjectivePoint, Scalar};
use zeroize::Zeroize;

const TAG: &str = "inkseal/cosign/v1/dleq";

/// A proof `(c, z)`: with `A = z G - c P2` and `B = z T1 - c T2`,
/// `c = H(key id, request id, P2, T1, T2, A, B)`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DleqProof {
    /// The challenge c.
    pub c: HexScalar,
    /// The response z = k + c x.
    pub z: HexScalar,
}

fn enc(p: &ProjectivePoint) -> Vec<u8> {
    p.to_affine().to_sec1_point(false).as_bytes().to_vec()
}

/// The statement: the bases and the images, with what the proof is bound to.
pub(crate) struct Statement<'a> {
    pub(crate) key_id: &'a str,
    pub(crate) request_id: &'a str,
    /// `P2 = x G`.
    pub(crate) p2: &'a ProjectivePoint,
    /// The second base.
    pub(crate) t1: &'a ProjectivePoint,
    /// `T2 = x T1`.
    pub(crate) t2: &'a ProjectivePoint,
}

impl Statement<'_> {
    fn challenge(&self, a: &ProjectivePoint, b: &ProjectivePoint) -> Scalar {
        reduce_bytes(&tagged_hash(
            TAG,
            &[
                self.key_id.as_bytes(),
                self.request_id.as_bytes(),
                &enc(self.p2),
                &enc(self.t1),
                &enc(self.t2),
                &enc(a),
                &enc(b),
            ],
        ))
    }
}

impl DleqProof {
    /// Prove `log_G P2 = log_T1 T2 = secret`. `fresh` are 32 fresh random bytes (hedged with
    /// the secret and the statement, so a broken generator never reuses k for two statements).
    pub(crate) fn prove(statement: &Statement<'_>, secret: &Scalar, fresh: [u8; 32]) -> Self {
        let mut context = enc(statement.t1);
        context.extend_from_slice(&enc(statement.t2));
        context.extend_from_slice(statement.request_id.as_bytes());
        let mut k = hedged_scalar_with(fresh, TAG, Some(secret), &context);
        let a = ProjectivePoint::mul_by_generator(&k);
        let b = *statement.t1 * k;
        let c = statement.challenge(&a, &b);
        let z = k + c * secret;
        k.zeroize();
        DleqProof {
            c: HexScalar::from_scalar(&c),
            z: HexScalar::from_scalar(&z),
        }
    }

    /// Check the proof. Every input is public, so this need not be constant-time.
    pub(crate) fn verify(&self, statement: &Statement<'_>) -> Result<(), CosignError> {
        let c = self.c.scalar("proof.c")?;
        let z = self.z.scalar("proof.z")?;
        if bool::from(statement.t1.is_identity()) || bool::from(statement.t2.is_identity()) {
            return Err(CosignError::ProofInvalid("dleq"));
        }
        // Two interleaved (Straus) combinations instead of four multiplications.
        let a = ProjectivePoint::lincomb_vartime(&[
            (ProjectivePoint::generator(), z),
            (*statement.p2, -c),
        ]);
        let b = ProjectivePoint::lincomb_vartime(&[(*statement.t1, z), (*statement.t2, -c)]);
        if statement.challenge(&a, &b) == c {
            Ok(())
        } else {
            Err(CosignError::ProofInvalid("dleq"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::HexPoint;

    fn scalar(seed: u8) -> Scalar {
        HexScalar([seed; 32]).nonzero("s").expect("scalar")
    }

    #[test]
    fn proof_verifies_and_is_bound_to_everything() {
        let x = scalar(7);
        let p2 = ProjectivePoint::mul_by_generator(&x);
        let t1 = ProjectivePoint::mul_by_generator(&scalar(9));
        let t2 = t1 * x;
        let st = Statement {
            key_id: "key-1",
            request_id: "request-1",
            p2: &p2,
            t1: &t1,
            t2: &t2,
        };
        let proof = DleqProof::prove(&st, &x, [1; 32]);
        proof.verify(&st).expect("verifies");
        let other_t1 = ProjectivePoint::mul_by_generator(&scalar(10));
        for bad in [
            Statement {
                key_id: "key-2",
                ..st
            },
            Statement {
                request_id: "request-2",
                ..st
            },
            Statement {
                t1: &other_t1,
                ..st
            },
            Statement { t2: &t1, ..st },
            Statement { p2: &t1, ..st },
        ] {
            assert_eq!(proof.verify(&bad), Err(CosignError::ProofInvalid("dleq")));
        }
        // A wrong secret does not prove the statement.
        let lie = DleqProof::prove(&st, &scalar(8), [1; 32]);
        assert!(lie.verify(&st).is_err());
        // The encoding round-trips.
        let json = serde_json::to_string(&proof).expect("json");
        let back: DleqProof = serde_json::from_str(&json).expect("parse");
        assert_eq!(back, proof);
        let _ = HexPoint::from_point(&p2);
    }
}
