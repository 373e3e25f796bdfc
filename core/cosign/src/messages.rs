//! Protocol messages shared by the phone and the server.
//!
//! Every message carries a version `v`; decoding enforces [`MAX_MESSAGE_BYTES`] before parsing.

use crate::CosignError;
use crate::codec::{HexPoint, HexScalar};
use crate::proof::SchnorrProof;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// The protocol version of key generation and of the signing round's answer.
pub const PROTOCOL_VERSION: u32 = 1;

/// The signing round this build's phone side sends (see [`NonceCommitment`]). Servers accept
/// versions 1 and 2, so phones that still send version 1 keep working.
pub const SIGN_PROTOCOL_VERSION: u32 = 2;

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
///
/// Parsed, not just read: a request of version 1 carries `q1`, one of version 2 carries `x1`,
/// and anything else (both, neither, another version, unknown fields) is refused while decoding.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "WireSignRequest", into = "WireSignRequest")]
pub struct SignRequest {
    /// Key id (the enrollment id).
    pub key_id: String,
    /// e = SM3(Z_A || M).
    pub e: HexScalar,
    /// The phone's nonce contribution.
    pub nonce: NonceCommitment,
}

/// The phone's nonce contribution to `R = w2 G + d2^-1 w1 G`, by signing-round version.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NonceCommitment {
    /// Version 1: `Q1 = w1 G`. The server computes `d2^-1 Q1` itself: a variable-base scalar
    /// multiplication, two thirds of the server's arithmetic per signature.
    Q1(HexPoint),
    /// Version 2: `X1 = w1 P2` (`= d2^-1 w1 G`, computed by the phone from the public P2). The
    /// server only adds it to `w2 G`. Why this is as safe as version 1: ARCHITECTURE.md, "The
    /// signing round, version 2".
    X1(HexPoint),
}

impl NonceCommitment {
    /// The signing-round version this contribution belongs to.
    pub fn version(&self) -> u32 {
        match self {
            NonceCommitment::Q1(_) => 1,
            NonceCommitment::X1(_) => 2,
        }
    }

    /// The point as sent (SEC1 bytes).
    pub fn point_bytes(&self) -> &[u8] {
        match self {
            NonceCommitment::Q1(p) | NonceCommitment::X1(p) => &p.0,
        }
    }
}

/// The JSON shape of [`SignRequest`].
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct WireSignRequest {
    v: u32,
    key_id: String,
    e: HexScalar,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    q1: Option<HexPoint>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    x1: Option<HexPoint>,
}

impl TryFrom<WireSignRequest> for SignRequest {
    type Error = String;

    fn try_from(w: WireSignRequest) -> Result<Self, String> {
        let nonce = match (w.v, w.q1, w.x1) {
            (1, Some(q1), None) => NonceCommitment::Q1(q1),
            (2, None, Some(x1)) => NonceCommitment::X1(x1),
            (1 | 2, _, _) => {
                return Err(format!(
                    "a signing request of version {} carries exactly one of {}",
                    w.v,
                    if w.v == 1 { "`q1`" } else { "`x1`" }
                ));
            }
            (v, _, _) => return Err(format!("unsupported signing-round version {v}")),
        };
        Ok(SignRequest {
            key_id: w.key_id,
            e: w.e,
            nonce,
        })
    }
}

impl From<SignRequest> for WireSignRequest {
    fn from(r: SignRequest) -> Self {
        let v = r.nonce.version();
        let (q1, x1) = match r.nonce {
            NonceCommitment::Q1(p) => (Some(p), None),
            NonceCommitment::X1(p) => (None, Some(p)),
        };
        WireSignRequest {
            v,
            key_id: r.key_id,
            e: r.e,
            q1,
            x1,
        }
    }
}

/// Server -> phone: the server's half of the signature.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignResponse {
    /// The signing round's version (the request's).
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

    /// The versions this build understands for this message.
    fn supported_versions() -> &'static [u32] {
        &[PROTOCOL_VERSION]
    }
}

/// Versions of the signing round (its request and its answer, which echoes the request's).
const SIGN_VERSIONS: &[u32] = &[1, SIGN_PROTOCOL_VERSION];

impl Versioned for KeygenRequest {
    fn version(&self) -> u32 {
        self.v
    }
}

impl Versioned for KeygenResponse {
    fn version(&self) -> u32 {
        self.v
    }
}

impl Versioned for SignRequest {
    fn version(&self) -> u32 {
        self.nonce.version()
    }

    fn supported_versions() -> &'static [u32] {
        SIGN_VERSIONS
    }
}

impl Versioned for SignResponse {
    fn version(&self) -> u32 {
        self.v
    }

    fn supported_versions() -> &'static [u32] {
        SIGN_VERSIONS
    }
}

/// Decode a JSON protocol message, enforcing the size limit and the version.
pub fn decode_message<T: DeserializeOwned + Versioned>(bytes: &[u8]) -> Result<T, CosignError> {
    if bytes.len() > MAX_MESSAGE_BYTES {
        return Err(CosignError::TooLarge(bytes.len()));
    }
    let msg: T = serde_json::from_slice(bytes).map_err(|e| CosignError::Decode(e.to_string()))?;
    if !T::supported_versions().contains(&msg.version()) {
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
