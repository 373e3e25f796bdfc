//! Hex encodings of scalars and points on the wire, and their validating decoders.

use crate::CosignError;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sm2::elliptic_curve::PrimeField;
use sm2::elliptic_curve::sec1::ToSec1Point;
use sm2::{FieldBytes, NonZeroScalar, ProjectivePoint, PublicKey, Scalar};

/// A 32-byte big-endian scalar, hex-encoded on the wire. Not validated until used.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct HexScalar(pub [u8; 32]);

/// A SEC1-encoded curve point (33 bytes compressed or 65 uncompressed), hex on the wire.
#[derive(Clone, PartialEq, Eq)]
pub struct HexPoint(pub Vec<u8>);

impl std::fmt::Debug for HexScalar {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", hex::encode(self.0))
    }
}

impl std::fmt::Debug for HexPoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", hex::encode(&self.0))
    }
}

impl Serialize for HexScalar {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(self.0))
    }
}

impl<'de> Deserialize<'de> for HexScalar {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        let mut out = [0u8; 32];
        hex::decode_to_slice(s.as_bytes(), &mut out)
            .map_err(|_| serde::de::Error::custom("expected 64 hex digits"))?;
        Ok(HexScalar(out))
    }
}

impl Serialize for HexPoint {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(&self.0))
    }
}

impl<'de> Deserialize<'de> for HexPoint {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        if s.len() != 66 && s.len() != 130 {
            return Err(serde::de::Error::custom(
                "expected a 33- or 65-byte SEC1 point",
            ));
        }
        hex::decode(s.as_bytes())
            .map(HexPoint)
            .map_err(|_| serde::de::Error::custom("point is not hex"))
    }
}

impl HexScalar {
    /// Encode a scalar.
    pub fn from_scalar(s: &Scalar) -> Self {
        HexScalar(s.to_repr().into())
    }

    /// Decode as a canonical scalar (`< n`); zero is allowed.
    pub fn scalar(&self, field: &'static str) -> Result<Scalar, CosignError> {
        Option::from(Scalar::from_repr(FieldBytes::from(self.0)))
            .ok_or(CosignError::InvalidScalar(field))
    }

    /// Decode as a canonical, non-zero scalar.
    pub fn nonzero(&self, field: &'static str) -> Result<Scalar, CosignError> {
        let s = self.scalar(field)?;
        if bool::from(s.is_zero()) {
            return Err(CosignError::InvalidScalar(field));
        }
        Ok(s)
    }
}

impl HexPoint {
    /// Encode a point (compressed SEC1). The identity has no SEC1 point encoding we accept.
    pub fn from_point(p: &ProjectivePoint) -> Self {
        HexPoint(p.to_affine().to_sec1_point(true).as_bytes().to_vec())
    }

    /// Encode a point uncompressed (65 bytes): larger, but the receiver needs no square root.
    pub fn from_point_uncompressed(p: &ProjectivePoint) -> Self {
        HexPoint(p.to_affine().to_sec1_point(false).as_bytes().to_vec())
    }

    /// Encode a public key (compressed SEC1).
    pub fn from_public_key(p: &PublicKey) -> Self {
        HexPoint(p.to_sec1_point(true).as_bytes().to_vec())
    }

    /// Decode as a point on the SM2 curve that is not the identity. SM2's cofactor is 1, so a
    /// point on the curve is in the prime-order group.
    pub fn point(&self, field: &'static str) -> Result<PublicKey, CosignError> {
        PublicKey::from_sec1_bytes(&self.0).map_err(|_| CosignError::InvalidPoint(field))
    }
}

/// Reduce 32 big-endian bytes modulo n (used for e and for x coordinates).
pub(crate) fn reduce_bytes(bytes: &[u8; 32]) -> Scalar {
    use sm2::elliptic_curve::ops::Reduce;
    <Scalar as Reduce<FieldBytes>>::reduce(&FieldBytes::from(*bytes))
}

/// Turn a non-zero scalar into a `NonZeroScalar`.
pub(crate) fn nonzero(s: Scalar, field: &'static str) -> Result<NonZeroScalar, CosignError> {
    Option::from(NonZeroScalar::new(s)).ok_or(CosignError::InvalidScalar(field))
}

/// x coordinate of a non-identity projective point, as bytes.
pub(crate) fn x_bytes(p: &ProjectivePoint) -> Option<[u8; 32]> {
    let enc = p.to_affine().to_sec1_point(false);
    enc.x().map(|x| {
        let mut out = [0u8; 32];
        out.copy_from_slice(x);
        out
    })
}
