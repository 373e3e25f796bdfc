//! SM2 public-key encryption (GB/T 32918.4 / GM/T 0003.4) of a content key, in the DER form
//! GM/T 0009 and GB/T 35275 use for a key-transport recipient's encryptedKey:
//! `SEQUENCE { x INTEGER, y INTEGER, hash OCTET STRING (C3), cipherText OCTET STRING (C2) }`.
//!
//! Decryption is split so that the point `d·C1` may come from anywhere (a local key, or two
//! parties each applying a share of `d`): [`Sm2Ciphertext::finish`] takes that point, derives
//! the key stream `t = KDF(x2 ‖ y2, |C2|)` with SM3, computes `M = C2 ⊕ t` in a wiped buffer
//! and compares `C3 = SM3(x2 ‖ M ‖ y2)` in constant time before releasing `M`.

use super::error::{EnvelopeError, malformed};
use crate::cms::der_util::children;
use der::asn1::{AnyRef, UintRef};
use der::{Decode, Tag, Tagged};
use sm2::elliptic_curve::sec1::ToSec1Point;
use sm3::{Digest, Sm3};
use subtle::ConstantTimeEq;
use zeroize::{Zeroize, Zeroizing};

/// Longest C2 (the encrypted content key) accepted or produced: content keys are 16 or 32
/// bytes; anything much longer is not a key.
pub const MAX_SM2_PLAINTEXT: usize = 64;

/// Coordinate length on the SM2 curve.
const COORD: usize = 32;

/// A DER SM2 ciphertext, checked: C1 is a point on the SM2 curve (not the identity), C3 is 32
/// bytes, C2 is 1 to [`MAX_SM2_PLAINTEXT`] bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sm2Ciphertext {
    der: Vec<u8>,
    c1: sm2::PublicKey,
    c3: [u8; 32],
    c2: Vec<u8>,
}

impl Sm2Ciphertext {
    /// Read the DER `SEQUENCE { x, y, C3, C2 }`. The raw `C1 ‖ C3 ‖ C2` (or `C1 ‖ C2 ‖ C3`)
    /// layout is refused ([`EnvelopeError::Unsupported`]): it cannot be told apart reliably.
    pub fn from_der(der: &[u8]) -> Result<Self, EnvelopeError> {
        if der.first() == Some(&0x04) {
            return Err(EnvelopeError::Unsupported(
                "a raw (non-DER) SM2 ciphertext; GB/T 35275 requires the DER SM2Cipher".into(),
            ));
        }
        let seq = AnyRef::from_der(der).map_err(malformed("SM2 ciphertext"))?;
        if seq.tag() != Tag::Sequence {
            return Err(EnvelopeError::Malformed(
                "SM2 ciphertext is not a SEQUENCE".into(),
            ));
        }
        let parts = children(seq.value()).map_err(malformed("SM2 ciphertext"))?;
        let [x, y, c3, c2] = parts.as_slice() else {
            return Err(EnvelopeError::Malformed(format!(
                "SM2 ciphertext has {} fields, not 4",
                parts.len()
            )));
        };
        let mut point = [0u8; 1 + 2 * COORD];
        point[0] = 4;
        for (coordinate, out) in [(x, 1..1 + COORD), (y, 1 + COORD..1 + 2 * COORD)] {
            let int: UintRef<'_> = coordinate
                .decode_as()
                .map_err(malformed("SM2 ciphertext coordinate"))?;
            let bytes = int.as_bytes();
            if bytes.len() > COORD {
                return Err(EnvelopeError::Malformed(
                    "SM2 ciphertext coordinate longer than 32 bytes".into(),
                ));
            }
            point[out.end - bytes.len()..out.end].copy_from_slice(bytes);
        }
        let c1 = sm2::PublicKey::from_sec1_bytes(&point).map_err(|_| {
            EnvelopeError::Malformed("SM2 ciphertext's C1 is not a point on the curve".into())
        })?;
        if c3.tag() != Tag::OctetString || c2.tag() != Tag::OctetString {
            return Err(EnvelopeError::Malformed(
                "SM2 ciphertext's C3 and C2 must be OCTET STRINGs".into(),
            ));
        }
        let c3: [u8; 32] = c3.value().try_into().map_err(|_| {
            EnvelopeError::Malformed(format!(
                "SM2 ciphertext's C3 is {} bytes, not 32",
                c3.value().len()
            ))
        })?;
        let c2 = c2.value();
        if c2.is_empty() || c2.len() > MAX_SM2_PLAINTEXT {
            return Err(EnvelopeError::Malformed(format!(
                "SM2 ciphertext's C2 is {} bytes (1 to {MAX_SM2_PLAINTEXT} accepted)",
                c2.len()
            )));
        }
        Ok(Self {
            der: der.to_vec(),
            c1,
            c3,
            c2: c2.to_vec(),
        })
    }

    /// The DER bytes (the recipient's encryptedKey as found).
    pub fn to_der(&self) -> &[u8] {
        &self.der
    }

    /// The ephemeral point C1 (checked to be on the SM2 curve).
    pub fn c1(&self) -> &sm2::PublicKey {
        &self.c1
    }

    /// C1 as an uncompressed SEC1 point (`04 ‖ x ‖ y`, 65 bytes).
    pub fn c1_sec1(&self) -> [u8; 65] {
        let mut out = [0u8; 65];
        out.copy_from_slice(self.c1.to_sec1_point(false).as_bytes());
        out
    }

    /// C3, the SM3 check value.
    pub fn c3(&self) -> &[u8; 32] {
        &self.c3
    }

    /// C2, the encrypted content key.
    pub fn c2(&self) -> &[u8] {
        &self.c2
    }

    /// Finish decryption given `d·C1 = (x2, y2)` (32-byte big-endian coordinates), however it
    /// was computed: the SM3 KDF, `M = C2 ⊕ t`, and C3 compared in constant time. Returns the
    /// plaintext (the content key) only if C3 matches; otherwise
    /// [`EnvelopeError::KeyDecryptionFailed`] and nothing. The caller must have made sure
    /// `(x2, y2)` is `d·C1` for the recipient's `d` (a two-party protocol checks its peer's
    /// contribution before calling this; C3 is the last line of defence, not the only one).
    pub fn finish(
        &self,
        x2: &[u8; 32],
        y2: &[u8; 32],
    ) -> Result<Zeroizing<Vec<u8>>, EnvelopeError> {
        let mut m = Zeroizing::new(kdf(x2, y2, self.c2.len()));
        // GB/T 32918.4 A5: an all-zero key stream is an error.
        if bool::from(m.as_slice().ct_eq(&vec![0u8; m.len()])) {
            return Err(EnvelopeError::KeyDecryptionFailed);
        }
        for (out, c) in m.iter_mut().zip(&self.c2) {
            *out ^= c;
        }
        let c3 = c3(x2, &m, y2);
        if bool::from(c3.as_slice().ct_eq(&self.c3)) {
            Ok(m)
        } else {
            Err(EnvelopeError::KeyDecryptionFailed)
        }
    }

    /// [`Sm2Ciphertext::finish`] with `d·C1` as a point; the identity (which `d·C1` never is
    /// for a valid key) is refused as [`EnvelopeError::KeyDecryptionFailed`].
    pub fn finish_with_point(
        &self,
        shared: &sm2::AffinePoint,
    ) -> Result<Zeroizing<Vec<u8>>, EnvelopeError> {
        if bool::from(shared.is_identity()) {
            return Err(EnvelopeError::KeyDecryptionFailed);
        }
        let (mut x2, mut y2) = coordinates(shared);
        let out = self.finish(&x2, &y2);
        x2.zeroize();
        y2.zeroize();
        out
    }

    /// Decrypt with a local SM2 private key: `d·C1`, then [`Sm2Ciphertext::finish`].
    pub fn decrypt(&self, key: &sm2::SecretKey) -> Result<Zeroizing<Vec<u8>>, EnvelopeError> {
        let shared = (self.c1.to_projective() * *key.to_nonzero_scalar()).to_affine();
        self.finish_with_point(&shared)
    }

    /// Encrypt `message` (a content key) to `recipient` with an ephemeral scalar from `rng`.
    #[cfg(feature = "envelopes")]
    pub(crate) fn encrypt<R: rand_core::CryptoRng + ?Sized>(
        recipient: &sm2::PublicKey,
        message: &[u8],
        rng: &mut R,
    ) -> Result<Self, EnvelopeError> {
        use der::Encode;
        use der::asn1::{Any, OctetStringRef};
        if message.is_empty() || message.len() > MAX_SM2_PLAINTEXT {
            return Err(EnvelopeError::InvalidInput(format!(
                "an SM2-encrypted key is 1 to {MAX_SM2_PLAINTEXT} bytes, not {}",
                message.len()
            )));
        }
        loop {
            let k = {
                use sm2::elliptic_curve::Generate;
                sm2::NonZeroScalar::generate_from_rng(rng)
            };
            let c1 = (sm2::ProjectivePoint::GENERATOR * *k).to_affine();
            let shared = (recipient.to_projective() * *k).to_affine();
            let (mut x2, mut y2) = coordinates(&shared);
            let mut t = Zeroizing::new(kdf(&x2, &y2, message.len()));
            if t.iter().all(|b| *b == 0) {
                continue;
            }
            let c3 = c3(&x2, message, &y2);
            for (out, m) in t.iter_mut().zip(message) {
                *out ^= m;
            }
            x2.zeroize();
            y2.zeroize();
            let (x1, y1) = coordinates(&c1);
            let mut body = Vec::new();
            for field in [
                UintRef::new(&x1).and_then(|v| v.to_der()),
                UintRef::new(&y1).and_then(|v| v.to_der()),
                OctetStringRef::new(&c3).and_then(|v| v.to_der()),
                OctetStringRef::new(&t).and_then(|v| v.to_der()),
            ] {
                body.extend(field.map_err(super::error::encoding("SM2 ciphertext"))?);
            }
            let der = Any::new(Tag::Sequence, body)
                .and_then(|a| a.to_der())
                .map_err(super::error::encoding("SM2 ciphertext"))?;
            return Self::from_der(&der);
        }
    }
}

/// The affine coordinates of a point (not the identity: C1 and `d·C1` for d in [1, n-1] on a
/// prime-order curve never are).
fn coordinates(point: &sm2::AffinePoint) -> ([u8; 32], [u8; 32]) {
    let encoded = point.to_sec1_point(false);
    let bytes = encoded.as_bytes();
    let mut x = [0u8; 32];
    let mut y = [0u8; 32];
    if bytes.len() == 65 {
        x.copy_from_slice(&bytes[1..33]);
        y.copy_from_slice(&bytes[33..65]);
    }
    (x, y)
}

/// The SM3 KDF of GB/T 32918.4: `SM3(Z ‖ ct)` for ct = 1, 2, ... (32-bit big-endian),
/// concatenated and cut to `len` bytes, with `Z = x2 ‖ y2`.
fn kdf(x2: &[u8; 32], y2: &[u8; 32], len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(len.div_ceil(32) * 32);
    let mut counter: u32 = 1;
    while out.len() < len {
        let mut h = Sm3::new();
        h.update(x2);
        h.update(y2);
        h.update(counter.to_be_bytes());
        out.extend_from_slice(&h.finalize());
        counter += 1;
    }
    out.truncate(len);
    out
}

/// `C3 = SM3(x2 ‖ M ‖ y2)`.
fn c3(x2: &[u8; 32], message: &[u8], y2: &[u8; 32]) -> [u8; 32] {
    let mut h = Sm3::new();
    h.update(x2);
    h.update(message);
    h.update(y2);
    h.finalize().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(feature = "envelopes")]
    fn key() -> sm2::SecretKey {
        sm2::SecretKey::from_slice(&[0x11; 32]).expect("key")
    }

    /// Ours encrypts, the sm2 crate's independent SM2 decryption (DER, C1C3C2) agrees, and
    /// ours decrypts; a flipped bit in C3 or C2, or another key, releases nothing.
    #[cfg(feature = "envelopes")]
    #[test]
    fn round_trip_and_the_sm2_crate_agrees() {
        use sm2::pke::{DecryptingKey, Mode};
        let key = key();
        let mut rng = super::super::test_rng::TestRng::new(1);
        let ct = Sm2Ciphertext::encrypt(&key.public_key(), b"sixteen byte key", &mut rng)
            .expect("encrypt");
        assert_eq!(
            ct.decrypt(&key).expect("decrypt").as_slice(),
            b"sixteen byte key"
        );
        let dec = DecryptingKey::new_with_mode(key.to_nonzero_scalar(), Mode::C1C3C2);
        assert_eq!(
            dec.decrypt_der(ct.to_der()).expect("sm2 crate decrypts"),
            b"sixteen byte key"
        );
        let mut bad = ct.clone();
        bad.c3[0] ^= 1;
        assert_eq!(bad.decrypt(&key), Err(EnvelopeError::KeyDecryptionFailed));
        let mut bad = ct.clone();
        bad.c2[3] ^= 1;
        assert_eq!(bad.decrypt(&key), Err(EnvelopeError::KeyDecryptionFailed));
        let other = sm2::SecretKey::from_slice(&[0x22; 32]).expect("key");
        assert_eq!(ct.decrypt(&other), Err(EnvelopeError::KeyDecryptionFailed));
    }

    #[test]
    fn refuses_raw_layout_and_long_c2() {
        let mut raw = vec![4u8];
        raw.extend([1u8; 64 + 32 + 16]);
        assert!(matches!(
            Sm2Ciphertext::from_der(&raw),
            Err(EnvelopeError::Unsupported(_))
        ));
        // A valid point (the generator) with a 65-byte C2.
        let g = sm2::PublicKey::from_affine(sm2::AffinePoint::GENERATOR).expect("G");
        let (x, y) = coordinates(g.as_affine());
        let der_of = |c2_len: usize| {
            use der::Encode;
            use der::asn1::{Any, OctetStringRef};
            let mut body = Vec::new();
            body.extend(UintRef::new(&x).and_then(|v| v.to_der()).expect("x"));
            body.extend(UintRef::new(&y).and_then(|v| v.to_der()).expect("y"));
            body.extend(
                OctetStringRef::new(&[0u8; 32])
                    .and_then(|v| v.to_der())
                    .expect("c3"),
            );
            body.extend(
                OctetStringRef::new(&vec![0u8; c2_len])
                    .and_then(|v| v.to_der())
                    .expect("c2"),
            );
            Any::new(Tag::Sequence, body)
                .and_then(|a| a.to_der())
                .expect("seq")
        };
        assert!(Sm2Ciphertext::from_der(&der_of(64)).is_ok());
        assert!(matches!(
            Sm2Ciphertext::from_der(&der_of(65)),
            Err(EnvelopeError::Malformed(_))
        ));
    }
}
