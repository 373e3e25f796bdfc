//! The phone's side: share d1, key generation and signing sessions.

use crate::CosignError;
use crate::codec::{HexPoint, HexScalar, nonzero};
use crate::hash::message_digest;
use crate::messages::{
    Curve, KeygenRequest, KeygenResponse, NonceCommitment, PROTOCOL_VERSION, SignRequest,
    SignResponse, valid_id,
};
use crate::nonce::hedged_scalar;
use crate::proof::SchnorrProof;
#[cfg(feature = "precomputed-tables")]
use crate::table::FixedBaseTable;
use crate::verify::PrecomputedVerifier;
use sm2::elliptic_curve::PrimeField;
use sm2::elliptic_curve::group::Group;
use sm2::{FieldBytes, ProjectivePoint, PublicKey, Scalar};
use std::sync::{Arc, OnceLock};
use subtle::{Choice, ConstantTimeEq};
use zeroize::{Zeroize, Zeroizing};

pub(crate) const CLIENT_ROLE: &str = "client";
pub(crate) const SERVER_ROLE: &str = "server";

/// Key generation in progress on the phone: holds d1 until the server answers.
pub struct ClientKeygen {
    enrollment_id: String,
    d1: Scalar,
}

impl Drop for ClientKeygen {
    fn drop(&mut self) {
        self.d1.zeroize();
    }
}

impl std::fmt::Debug for ClientKeygen {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientKeygen")
            .field("enrollment_id", &self.enrollment_id)
            .finish_non_exhaustive()
    }
}

impl ClientKeygen {
    /// Draw d1 and build the request carrying P1 = d1^-1 G and its proof.
    pub fn start(enrollment_id: &str) -> Result<(Self, KeygenRequest), CosignError> {
        if !valid_id(enrollment_id) {
            return Err(CosignError::Malformed("enrollment_id"));
        }
        let d1 = hedged_scalar("inkseal/cosign/v1/d1", None, enrollment_id.as_bytes())?;
        let mut d1_inv = Option::<Scalar>::from(d1.invert()).ok_or(CosignError::Degenerate)?;
        let p1 = HexPoint::from_point(&(ProjectivePoint::mul_by_generator(&d1_inv)));
        let proof = SchnorrProof::prove(CLIENT_ROLE, enrollment_id, &d1_inv, &p1);
        d1_inv.zeroize();
        let request = KeygenRequest {
            v: PROTOCOL_VERSION,
            curve: Curve::Sm2,
            enrollment_id: enrollment_id.to_owned(),
            p1,
            proof: proof?,
        };
        Ok((
            ClientKeygen {
                enrollment_id: enrollment_id.to_owned(),
                d1,
            },
            request,
        ))
    }

    /// Check the server's answer and produce the phone's key share.
    ///
    /// Verifies the server's proof for P2, recomputes P = d1^-1 P2 - G, and requires it to equal
    /// the joint key the server returned and not to be the identity.
    pub fn finish(self, response: &KeygenResponse) -> Result<ClientKeyShare, CosignError> {
        if response.v != PROTOCOL_VERSION {
            return Err(CosignError::UnsupportedVersion(response.v));
        }
        if response.enrollment_id != self.enrollment_id {
            return Err(CosignError::Malformed("enrollment_id"));
        }
        let p2 = response
            .proof
            .verify(SERVER_ROLE, &self.enrollment_id, &response.p2, "p2")?;
        let claimed = response.public_key.point("public_key")?;
        let mut d1_inv = Option::<Scalar>::from(self.d1.invert()).ok_or(CosignError::Degenerate)?;
        let joint = p2.to_projective() * d1_inv - ProjectivePoint::generator();
        d1_inv.zeroize();
        if bool::from(joint.is_identity()) {
            return Err(CosignError::DegenerateKey);
        }
        if joint.to_affine() != *claimed.as_affine() {
            return Err(CosignError::JointKeyMismatch);
        }
        Ok(ClientKeyShare {
            key_id: self.enrollment_id.clone(),
            d1: self.d1,
            public_key: claimed,
            tables: OnceLock::new(),
        })
    }
}

/// The phone's long-term share d1 with the joint public key P.
///
/// Wiped on drop; `Debug` shows only the key id and public key.
pub struct ClientKeyShare {
    key_id: String,
    d1: Scalar,
    public_key: PublicKey,
    /// Built on first signature and shared by every session of this share.
    tables: OnceLock<Arc<KeyTables>>,
}

/// A key's precomputed values (about 70 KiB, 95 with `precomputed-tables`), built once per
/// share and never secret.
struct KeyTables {
    /// Checks each co-signed signature against P.
    verifier: PrecomputedVerifier,
    /// Multiples of `P + G = (d1 d2)^-1 G`, for `X1 = w1 P2 = (w1 d1)(P + G)`.
    #[cfg(feature = "precomputed-tables")]
    nonce_base: FixedBaseTable,
    /// `P + G = (d1 d2)^-1 G`, for `X1 = w1 P2 = (w1 d1)(P + G)`.
    #[cfg(not(feature = "precomputed-tables"))]
    nonce_base: ProjectivePoint,
}

impl KeyTables {
    fn new(public_key: &PublicKey) -> Self {
        let nonce_base = public_key.to_projective() + ProjectivePoint::generator();
        KeyTables {
            verifier: PrecomputedVerifier::new(public_key),
            #[cfg(feature = "precomputed-tables")]
            nonce_base: FixedBaseTable::new(nonce_base),
            #[cfg(not(feature = "precomputed-tables"))]
            nonce_base,
        }
    }

    /// `[k](P + G)` in constant time (`k = w1 d1` is secret).
    fn nonce_point(&self, k: &Scalar) -> ProjectivePoint {
        #[cfg(feature = "precomputed-tables")]
        return self.nonce_base.mul(k);
        #[cfg(not(feature = "precomputed-tables"))]
        return self.nonce_base * k;
    }
}

impl Drop for ClientKeyShare {
    fn drop(&mut self) {
        self.d1.zeroize();
    }
}

impl std::fmt::Debug for ClientKeyShare {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientKeyShare")
            .field("key_id", &self.key_id)
            .field("public_key", &HexPoint::from_public_key(&self.public_key))
            .finish_non_exhaustive()
    }
}

impl ConstantTimeEq for ClientKeyShare {
    fn ct_eq(&self, other: &Self) -> Choice {
        self.d1.ct_eq(&other.d1)
            & Choice::from(u8::from(self.key_id == other.key_id))
            & Choice::from(u8::from(self.public_key == other.public_key))
    }
}

impl ClientKeyShare {
    /// Rebuild a share from what a share store kept.
    pub fn from_parts(
        key_id: &str,
        secret: &[u8; 32],
        public_key_sec1: &[u8],
    ) -> Result<Self, CosignError> {
        if !valid_id(key_id) {
            return Err(CosignError::Malformed("key_id"));
        }
        let d1 = HexScalar(*secret).nonzero("d1")?;
        let public_key = HexPoint(public_key_sec1.to_vec()).point("public_key")?;
        Ok(ClientKeyShare {
            key_id: key_id.to_owned(),
            d1,
            public_key,
            tables: OnceLock::new(),
        })
    }

    /// The share's secret bytes, for a share store to wrap. Wiped when the returned value drops.
    pub fn secret_bytes(&self) -> Zeroizing<[u8; 32]> {
        Zeroizing::new(self.d1.to_repr().into())
    }

    /// `P2 = d2^-1 G = d1 (P + G)`, the server's key-generation contribution, recomputed from
    /// the share and the joint key (constant time: d1 is secret), for the decryption round.
    pub(crate) fn p2(&self) -> ProjectivePoint {
        // With the tables (server, CLI) from the key's fixed-base table; without them (the
        // phone) directly, so a decryption-only key never builds the signature verifier.
        #[cfg(feature = "precomputed-tables")]
        return self.tables().nonce_point(&self.d1);
        #[cfg(not(feature = "precomputed-tables"))]
        return (self.public_key.to_projective() + ProjectivePoint::generator()) * self.d1;
    }

    /// The share d1 (for the decryption round in this crate).
    pub(crate) fn d1(&self) -> &Scalar {
        &self.d1
    }

    /// The key id the server knows this key by.
    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    /// The joint public key P.
    pub fn public_key(&self) -> &PublicKey {
        &self.public_key
    }

    /// e = SM3(Z_A || message) for this key with the default signer ID.
    pub fn digest(&self, message: &[u8]) -> [u8; 32] {
        message_digest(&self.public_key, message)
    }

    /// Start signing the digest `e`: draws a hedged w1 and returns the session and request.
    ///
    /// The request is a version 2 round: it carries `X1 = w1 P2`, so the server needs no
    /// variable-base multiplication (servers accept versions 1 and 2).
    pub fn start_sign(&self, e: &[u8; 32]) -> Result<(SignSession, SignRequest), CosignError> {
        let w1 = hedged_scalar("inkseal/cosign/v1/w1", Some(&self.d1), e)?;
        Ok(self.start_sign_with_nonce(e, w1))
    }

    /// Start a version 1 round (`Q1 = w1 G`), as phones built before version 2 do. For tests of
    /// the server's compatibility; apps call [`ClientKeyShare::start_sign`].
    #[doc(hidden)]
    pub fn start_sign_v1(&self, e: &[u8; 32]) -> Result<(SignSession, SignRequest), CosignError> {
        let w1 = hedged_scalar("inkseal/cosign/v1/w1", Some(&self.d1), e)?;
        let q1 = HexPoint::from_point_uncompressed(&ProjectivePoint::mul_by_generator(&w1));
        Ok(self.session(e, w1, NonceCommitment::Q1(q1)))
    }

    pub(crate) fn start_sign_with_nonce(
        &self,
        e: &[u8; 32],
        w1: Scalar,
    ) -> (SignSession, SignRequest) {
        // X1 = w1 P2 = (w1 d1)(P + G), since P + G = (d1 d2)^-1 G.
        let mut k = w1 * self.d1;
        let x1 = HexPoint::from_point_uncompressed(&self.tables().nonce_point(&k));
        k.zeroize();
        self.session(e, w1, NonceCommitment::X1(x1))
    }

    fn session(
        &self,
        e: &[u8; 32],
        w1: Scalar,
        nonce: NonceCommitment,
    ) -> (SignSession, SignRequest) {
        let version = nonce.version();
        let request = SignRequest {
            key_id: self.key_id.clone(),
            e: HexScalar(*e),
            nonce,
        };
        let session = SignSession {
            d1: self.d1,
            w1,
            e: *e,
            version,
            tables: self.tables(),
        };
        (session, request)
    }

    fn tables(&self) -> Arc<KeyTables> {
        self.tables
            .get_or_init(|| Arc::new(KeyTables::new(&self.public_key)))
            .clone()
    }
}

/// One signing round in flight. Consumed by [`SignSession::finish`], so w1 is used once.
pub struct SignSession {
    d1: Scalar,
    w1: Scalar,
    e: [u8; 32],
    /// The round's version; the answer must echo it.
    version: u32,
    tables: Arc<KeyTables>,
}

impl Drop for SignSession {
    fn drop(&mut self) {
        self.d1.zeroize();
        self.w1.zeroize();
    }
}

impl std::fmt::Debug for SignSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignSession")
            .field("e", &hex::encode(self.e))
            .finish_non_exhaustive()
    }
}

impl SignSession {
    /// Combine the server's half into `(r, s)` and release it only if it verifies against P.
    pub fn finish(self, response: &SignResponse) -> Result<sm2::dsa::Signature, CosignError> {
        if response.v != self.version {
            return Err(CosignError::UnsupportedVersion(response.v));
        }
        let r = response.r.nonzero("r")?;
        let s1 = response.s1.nonzero("s1")?;
        let s = self.d1 * (s1 + self.w1) - r;
        if bool::from(s.is_zero()) {
            return Err(CosignError::Degenerate);
        }
        let _ = nonzero(s, "s")?;
        let signature = sm2::dsa::Signature::from_scalars(
            FieldBytes::from(r.to_repr()),
            FieldBytes::from(s.to_repr()),
        )
        .map_err(|_| CosignError::SignatureCheckFailed)?;
        self.tables.verifier.verify(&self.e, &signature)?;
        Ok(signature)
    }
}
