//! SM3 hashing helpers: the user-information hash Z_A and the message digest e.

use sm2::elliptic_curve::sec1::ToSec1Point;
use sm2::{AffinePoint, PublicKey};
use sm3::{Digest, Sm3};

/// The default signer ID of GB/T 32918 / GM/T 0009 ("1234567812345678").
pub const DEFAULT_SIGNER_ID: &str = "1234567812345678";

// Curve constants a, b, xG, yG of the SM2 recommended curve (GB/T 32918.5).
const CURVE_A: [u8; 32] = hex32("FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFC");
const CURVE_B: [u8; 32] = hex32("28E9FA9E9D9F5E344D5A9E4BCF6509A7F39789F515AB8F92DDBCBD414D940E93");
const GEN_X: [u8; 32] = hex32("32C4AE2C1F1981195F9904466A39C9948FE30BBFF2660BE1715A4589334C74C7");
const GEN_Y: [u8; 32] = hex32("BC3736A2F4F6779C59BDCEE36B692153D0A9877CC62A474002DF32E52139F0A0");

const fn hex32(s: &str) -> [u8; 32] {
    let b = s.as_bytes();
    let mut out = [0u8; 32];
    let mut i = 0;
    while i < 32 {
        out[i] = (nibble(b[2 * i]) << 4) | nibble(b[2 * i + 1]);
        i += 1;
    }
    out
}

const fn nibble(c: u8) -> u8 {
    match c {
        b'0'..=b'9' => c - b'0',
        b'A'..=b'F' => c - b'A' + 10,
        _ => panic!("bad hex constant"),
    }
}

/// Z_A = SM3(ENTL_A || ID_A || a || b || xG || yG || xA || yA) for a signer ID and public key.
///
/// Returns `None` when the ID is longer than 8191 bytes (ENTL_A is a 16-bit bit count).
pub fn z_a(public_key: &PublicKey, id: &str) -> Option<[u8; 32]> {
    let bits: u16 = id.len().checked_mul(8)?.try_into().ok()?;
    let affine: &AffinePoint = public_key.as_affine();
    let enc = affine.to_sec1_point(false);
    let (x, y) = (enc.x()?, enc.y()?);
    let mut h = Sm3::new();
    h.update(bits.to_be_bytes());
    h.update(id.as_bytes());
    h.update(CURVE_A);
    h.update(CURVE_B);
    h.update(GEN_X);
    h.update(GEN_Y);
    h.update(x);
    h.update(y);
    Some(h.finalize().into())
}

/// e = SM3(Z_A || M) with the default signer ID: the digest both parties sign.
pub fn message_digest(public_key: &PublicKey, message: &[u8]) -> [u8; 32] {
    let za = z_a(public_key, DEFAULT_SIGNER_ID).unwrap_or_default();
    let mut h = Sm3::new();
    h.update(za);
    h.update(message);
    h.finalize().into()
}

/// Domain-separated SM3 over several parts, each prefixed by its length.
pub(crate) fn tagged_hash(tag: &str, parts: &[&[u8]]) -> [u8; 32] {
    let mut h = Sm3::new();
    h.update((tag.len() as u32).to_be_bytes());
    h.update(tag.as_bytes());
    for p in parts {
        h.update((p.len() as u32).to_be_bytes());
        h.update(p);
    }
    h.finalize().into()
}
