//! Protocol messages shared by the phone and the server.
//!
//! Every message carries a version `v`; decoding enforces [`MAX_MESSAGE_BYTES`] before parsing.

use crate::CosignError;
use crate::codec::{HexPoint, HexScalar};
use crate::proof::SchnorrProof;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// The protocol version this build speaks.
pub const PROTOCOL_VERSION: u32 = 1;

/// Upper bound on an encoded protocol message; larger inputs are rejected before parsing.
pub const MAX_MESSAGE_BYTES: usize = 16 * 1024;

/// The curve of a split key. P-256 will join SM2 here.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Curve {
    /// SM2 (GB/T 32918) with SM3.
    Sm2,
}

/// Phone -> server: start of two-party key generation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeygenRequest {
    /// Protocol version.
    pub v: u32,
    /// Curve of the key.
    pub curve: Curve,
    /// The enrollment ticket's id (one use only): binds both proofs to this enrollment.
    pub enrollment_id: String,
    /// P1 = d1^-1 G.
    pub p1: HexPoint,
    /// Proof of knowledge of d1^-1.
    pub proof: SchnorrProof,
}

/// Server -> phone: the server's contribution and the joint public key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeygenResponse {
    /// Protocol version.
    pub v: u32,
    /// Echo of the enrollment id.
    pub enrollment_id: String,
    /// P2 = d2^-1 G.
    pub p2: HexPoint,
    /// Proof of knowledge of d2^-1.
    pub proof: SchnorrProof,
    /// Joint public key P = d2^-1 P1 - G.
    pub public_key: HexPoint,
}

/// Phone -> server: one signing round.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignRequest {
    /// Protocol version.
    pub v: u32,
    /// Key id (the enrollment id).
    pub key_id: String,
    /// e = SM3(Z_A || M).
    pub e: HexScalar,
    /// Q1 = w1 G.
    pub q1: HexPoint,
}

/// Server -> phone: the server's half of the signature.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignResponse {
    /// Protocol version.
    pub v: u32,
    /// r = (e + x(R)) mod n.
    pub r: HexScalar,
    /// s1 = d2 (r + w2).
    pub s1: HexScalar,
}

/// Messages that carry a protocol version.
pub trait Versioned {
    /// The message's version field.
    fn version(&self) -> u32;
}

macro_rules! versioned {
    ($($t:ty),*) => { $(impl Versioned for $t { fn version(&self) -> u32 { self.v } })* };
}
versioned!(KeygenRequest, KeygenResponse, SignRequest, SignResponse);

/// Decode a JSON protocol message, enforcing the size limit and the version.
pub fn decode_message<T: DeserializeOwned + Versioned>(bytes: &[u8]) -> Result<T, CosignError> {
    if bytes.len() > MAX_MESSAGE_BYTES {
        return Err(CosignError::TooLarge(bytes.len()));
    }
    let msg: T = serde_json::from_slice(bytes).map_err(|e| CosignError::Decode(e.to_string()))?;
    if msg.version() != PROTOCOL_VERSION {
        return Err(CosignError::UnsupportedVersion(msg.version()));
    }
    Ok(msg)
}

/// Check an enrollment / key id: 1 to 64 characters of `[A-Za-z0-9_-]`.
pub fn valid_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}
