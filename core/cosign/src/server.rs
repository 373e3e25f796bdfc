//! The server's side: share d2, key generation answer and the co-signing step.

use crate::CosignError;
use crate::client::{CLIENT_ROLE, SERVER_ROLE};
use crate::codec::{HexPoint, HexScalar, reduce_bytes, x_bytes};
use crate::messages::{
    KeygenRequest, KeygenResponse, NonceCommitment, PROTOCOL_VERSION, SignRequest, SignResponse,
    valid_id,
};
use crate::nonce::hedged_scalar;
use crate::proof::SchnorrProof;
use sm2::elliptic_curve::PrimeField;
use sm2::elliptic_curve::group::Group;
use sm2::{ProjectivePoint, PublicKey, Scalar};
use subtle::{Choice, ConstantTimeEq};
use zeroize::{Zeroize, Zeroizing};

/// The server's share d2 with the joint public key P. Wiped on drop.
pub struct ServerKeyShare {
    d2: Scalar,
    /// d2^-1, kept with d2 so a signing step needs no inversion.
    d2_inv: Scalar,
    public_key: PublicKey,
}

impl Drop for ServerKeyShare {
    fn drop(&mut self) {
        self.d2.zeroize();
        self.d2_inv.zeroize();
    }
}

impl std::fmt::Debug for ServerKeyShare {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerKeyShare")
            .field("public_key", &HexPoint::from_public_key(&self.public_key))
            .finish_non_exhaustive()
    }
}

impl ConstantTimeEq for ServerKeyShare {
    fn ct_eq(&self, other: &Self) -> Choice {
        self.d2.ct_eq(&other.d2) & Choice::from(u8::from(self.public_key == other.public_key))
    }
}

impl ServerKeyShare {
    /// Answer a key-generation request: check P1's proof, draw d2, compute P = d2^-1 P1 - G.
    pub fn keygen(request: &KeygenRequest) -> Result<(Self, KeygenResponse), CosignError> {
        if request.v != PROTOCOL_VERSION {
            return Err(CosignError::UnsupportedVersion(request.v));
        }
        if !valid_id(&request.enrollment_id) {
            return Err(CosignError::Malformed("enrollment_id"));
        }
        let p1 = request
            .proof
            .verify(CLIENT_ROLE, &request.enrollment_id, &request.p1, "p1")?;
        loop {
            let d2 = hedged_scalar("inkseal/cosign/v1/d2", None, request.p1.0.as_slice())?;
            let mut d2_inv = Option::<Scalar>::from(d2.invert()).ok_or(CosignError::Degenerate)?;
            let joint = p1.to_projective() * d2_inv - ProjectivePoint::generator();
            if bool::from(joint.is_identity()) {
                // d1 * d2 == 1 means d == 0: draw again.
                d2_inv.zeroize();
                continue;
            }
            let p2 = HexPoint::from_point(&(ProjectivePoint::mul_by_generator(&d2_inv)));
            let proof = SchnorrProof::prove(SERVER_ROLE, &request.enrollment_id, &d2_inv, &p2);
            let public_key = PublicKey::from_affine(joint.to_affine())
                .map_err(|_| CosignError::DegenerateKey)?;
            let share = ServerKeyShare {
                d2,
                d2_inv,
                public_key,
            };
            d2_inv.zeroize();
            let response = KeygenResponse {
                v: PROTOCOL_VERSION,
                enrollment_id: request.enrollment_id.clone(),
                p2,
                proof: proof?,
                public_key: HexPoint::from_public_key(&public_key),
            };
            return Ok((share, response));
        }
    }

    /// Rebuild a share from d2 and the public key.
    pub fn from_parts(secret: &[u8; 32], public_key_sec1: &[u8]) -> Result<Self, CosignError> {
        let d2 = HexScalar(*secret).nonzero("d2")?;
        let d2_inv = Option::<Scalar>::from(d2.invert()).ok_or(CosignError::InvalidScalar("d2"))?;
        Ok(ServerKeyShare {
            d2,
            d2_inv,
            public_key: HexPoint(public_key_sec1.to_vec()).point("public_key")?,
        })
    }

    /// d2 alone, 32 bytes. Wiped when the returned value drops.
    pub fn secret_bytes(&self) -> Zeroizing<[u8; 32]> {
        Zeroizing::new(self.d2.to_repr().into())
    }

    /// d2 followed by d2^-1 (64 bytes), the form the server seals: restoring it needs no
    /// inversion. Wiped when the returned value drops.
    pub fn sealable_bytes(&self) -> Zeroizing<[u8; 64]> {
        let mut out = Zeroizing::new([0u8; 64]);
        out[..32].copy_from_slice(&self.d2.to_repr());
        out[32..].copy_from_slice(&self.d2_inv.to_repr());
        out
    }

    /// Rebuild a share from [`ServerKeyShare::sealable_bytes`]; checks d2 * d2^-1 == 1.
    pub fn from_sealable(bytes: &[u8; 64], public_key_sec1: &[u8]) -> Result<Self, CosignError> {
        let mut d2 = [0u8; 32];
        let mut inv = [0u8; 32];
        d2.copy_from_slice(&bytes[..32]);
        inv.copy_from_slice(&bytes[32..]);
        let share = ServerKeyShare {
            d2: HexScalar(d2).nonzero("d2")?,
            d2_inv: HexScalar(inv).nonzero("d2_inv")?,
            public_key: HexPoint(public_key_sec1.to_vec()).point("public_key")?,
        };
        d2.zeroize();
        inv.zeroize();
        if share.d2 * share.d2_inv != Scalar::ONE {
            return Err(CosignError::InvalidScalar("d2_inv"));
        }
        Ok(share)
    }

    /// d2^-1 (for the decryption round in this crate).
    pub(crate) fn d2_inv(&self) -> &Scalar {
        &self.d2_inv
    }

    /// The joint public key P.
    pub fn public_key(&self) -> &PublicKey {
        &self.public_key
    }

    /// The co-signing step: validate the phone's nonce point, draw w2, return (r, s1).
    ///
    /// Version 1 carries `Q1 = w1 G` and costs a variable-base multiplication `d2^-1 Q1`;
    /// version 2 carries `X1 = w1 P2` (the same point, computed by the phone) and costs none.
    pub fn cosign(&self, request: &SignRequest) -> Result<SignResponse, CosignError> {
        let offset = match &request.nonce {
            NonceCommitment::Q1(q1) => q1.point("q1")?.to_projective() * self.d2_inv,
            NonceCommitment::X1(x1) => x1.point("x1")?.to_projective(),
        };
        // The hedge binds w2 to everything the phone chose (e and its point), so even a broken
        // RNG never answers two different rounds with one w2.
        let mut context = Vec::with_capacity(32 + 65);
        context.extend_from_slice(&request.e.0);
        context.extend_from_slice(request.nonce.point_bytes());
        loop {
            let w2 = hedged_scalar("inkseal/cosign/v1/w2", Some(&self.d2), &context)?;
            let version = request.nonce.version();
            if let Some(resp) = self.cosign_with_nonce(&request.e.0, &offset, w2, version)? {
                return Ok(resp);
            }
        }
    }

    /// One attempt with a given w2 and `offset = d2^-1 w1 G`; `None` when r == 0 or R is the
    /// identity (draw again).
    pub(crate) fn cosign_with_nonce(
        &self,
        e: &[u8; 32],
        offset: &ProjectivePoint,
        mut w2: Scalar,
        version: u32,
    ) -> Result<Option<SignResponse>, CosignError> {
        let big_r = ProjectivePoint::mul_by_generator(&w2) + offset;
        let Some(x) = x_bytes(&big_r).filter(|_| !bool::from(big_r.is_identity())) else {
            w2.zeroize();
            return Ok(None);
        };
        let r = reduce_bytes(e) + reduce_bytes(&x);
        if bool::from(r.is_zero()) {
            w2.zeroize();
            return Ok(None);
        }
        let s1 = self.d2 * (r + w2);
        w2.zeroize();
        Ok(Some(SignResponse {
            v: version,
            r: HexScalar::from_scalar(&r),
            s1: HexScalar::from_scalar(&s1),
        }))
    }
}
