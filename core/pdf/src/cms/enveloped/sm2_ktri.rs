//! SM2 public-key encryption (GB/T 32918.4 / GM/T 0003.4) of a content key, in the DER form
//! GM/T 0009 and GB/T 35275 use for a key-transport recipient's encryptedKey:
//! `SEQUENCE { x INTEGER, y INTEGER, hash OCTET STRING (C3), cipherText OCTET STRING (C2) }`.
//!
//! The arithmetic is `inkseal_cosign::Sm2Ciphertext`'s, the workspace's one SM2 encryption,
//! which the two-party decryption round also finishes with: this type keeps the encryptedKey's
//! bytes beside it and speaks [`EnvelopeError`]. Decryption is split so that the point `d·C1`
//! may come from anywhere (a local key, or two parties each applying a share of `d`):
//! [`Sm2Ciphertext::finish_with_point`] derives the key stream `t = KDF(x2 ‖ y2, |C2|)` with
//! SM3, computes `M = C2 ⊕ t` in a wiped buffer and compares `C3 = SM3(x2 ‖ M ‖ y2)` in constant
//! time before releasing `M`.

use super::error::EnvelopeError;
use inkseal_cosign::DecryptError;
use sm2::elliptic_curve::sec1::ToSec1Point;
use zeroize::Zeroizing;

/// Longest C2 (the encrypted content key) accepted or produced: content keys are 16 or 32
/// bytes; anything much longer is not a key.
pub const MAX_SM2_PLAINTEXT: usize = inkseal_cosign::MAX_C2_BYTES;

/// A DER SM2 ciphertext, checked: C1 is a point on the SM2 curve (not the identity), C3 is 32
/// bytes, C2 is 1 to [`MAX_SM2_PLAINTEXT`] bytes.
#[derive(Clone)]
pub struct Sm2Ciphertext {
    der: Vec<u8>,
    inner: inkseal_cosign::Sm2Ciphertext,
}

impl std::fmt::Debug for Sm2Ciphertext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.inner.fmt(f)
    }
}

impl PartialEq for Sm2Ciphertext {
    fn eq(&self, other: &Self) -> bool {
        self.der == other.der
    }
}

impl Eq for Sm2Ciphertext {}

/// A failed decryption: never a partial key, whatever the reason.
fn failed(e: DecryptError) -> EnvelopeError {
    match e {
        DecryptError::Ciphertext(what) => {
            EnvelopeError::Malformed(format!("SM2 ciphertext: {what}"))
        }
        DecryptError::ServerMisbehaved(_)
        | DecryptError::CheckFailed
        | DecryptError::ZeroKeyStream
        | DecryptError::Protocol(_) => EnvelopeError::KeyDecryptionFailed,
    }
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
        Ok(Self {
            der: der.to_vec(),
            inner: inkseal_cosign::Sm2Ciphertext::from_der(der).map_err(failed)?,
        })
    }

    /// The DER bytes (the recipient's encryptedKey as found).
    pub fn to_der(&self) -> &[u8] {
        &self.der
    }

    /// The ciphertext as the two-party decryption round takes it
    /// (`inkseal_cosign::DecryptSession::start`).
    pub fn as_cosign(&self) -> &inkseal_cosign::Sm2Ciphertext {
        &self.inner
    }

    /// The ephemeral point C1 (checked to be on the SM2 curve).
    pub fn c1(&self) -> &sm2::PublicKey {
        self.inner.c1()
    }

    /// C1 as an uncompressed SEC1 point (`04 ‖ x ‖ y`, 65 bytes).
    pub fn c1_sec1(&self) -> [u8; 65] {
        let mut out = [0u8; 65];
        out.copy_from_slice(self.inner.c1().to_sec1_point(false).as_bytes());
        out
    }

    /// C3, the SM3 check value.
    pub fn c3(&self) -> &[u8; 32] {
        self.inner.c3()
    }

    /// C2, the encrypted content key.
    pub fn c2(&self) -> &[u8] {
        self.inner.c2()
    }

    /// Finish decryption given `d·C1 = (x2, y2)` (32-byte big-endian coordinates), however it
    /// was computed: see [`Sm2Ciphertext::finish_with_point`]. Coordinates that are not a
    /// curve point are refused as [`EnvelopeError::KeyDecryptionFailed`].
    pub fn finish(
        &self,
        x2: &[u8; 32],
        y2: &[u8; 32],
    ) -> Result<Zeroizing<Vec<u8>>, EnvelopeError> {
        let mut sec1 = Zeroizing::new([0u8; 65]);
        sec1[0] = 4;
        sec1[1..33].copy_from_slice(x2);
        sec1[33..].copy_from_slice(y2);
        let point = sm2::PublicKey::from_sec1_bytes(&sec1[..])
            .map_err(|_| EnvelopeError::KeyDecryptionFailed)?;
        self.finish_with_point(point.as_affine())
    }

    /// The SM3 key stream, `M = C2 ⊕ t` and C3 compared in constant time, given `d·C1` as a
    /// point: the content key only if C3 matches, else [`EnvelopeError::KeyDecryptionFailed`]
    /// and nothing (also for the identity, which `d·C1` never is for a valid key). The caller
    /// must have made sure the point is `d·C1` for the recipient's `d` (a two-party protocol
    /// checks its peer's contribution before calling this; C3 is the last line of defence, not
    /// the only one).
    pub fn finish_with_point(
        &self,
        shared: &sm2::AffinePoint,
    ) -> Result<Zeroizing<Vec<u8>>, EnvelopeError> {
        self.inner
            .finish_with_shared_point(&sm2::ProjectivePoint::from(*shared))
            .map_err(failed)
    }

    /// Decrypt with a local SM2 private key: `d·C1`, then the same completion.
    pub fn decrypt(&self, key: &sm2::SecretKey) -> Result<Zeroizing<Vec<u8>>, EnvelopeError> {
        self.inner.decrypt_with_key(key).map_err(failed)
    }

    /// Encrypt `message` (a content key) to `recipient` with an ephemeral scalar from `rng`.
    #[cfg(feature = "envelopes")]
    pub(crate) fn encrypt<R: rand_core::CryptoRng + ?Sized>(
        recipient: &sm2::PublicKey,
        message: &[u8],
        rng: &mut R,
    ) -> Result<Self, EnvelopeError> {
        if message.is_empty() || message.len() > MAX_SM2_PLAINTEXT {
            return Err(EnvelopeError::InvalidInput(format!(
                "an SM2-encrypted key is 1 to {MAX_SM2_PLAINTEXT} bytes, not {}",
                message.len()
            )));
        }
        let der = inkseal_cosign::Sm2Ciphertext::encrypt(recipient, message, rng)
            .map_err(|e| EnvelopeError::InvalidInput(format!("SM2 encryption: {e}")))?;
        Self::from_der(&der)
    }
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
        let mut rng = crate::testing::CounterRng::new(1);
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
        // A flipped bit in C3, then in C2 (the DER ends with C2 and C3 comes just before it).
        for at in [ct.to_der().len() - 16 - 2 - 1, ct.to_der().len() - 1] {
            let mut der = ct.to_der().to_vec();
            der[at] ^= 1;
            let bad = Sm2Ciphertext::from_der(&der).expect("still well formed");
            assert_eq!(bad.decrypt(&key), Err(EnvelopeError::KeyDecryptionFailed));
        }
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
        let encoded = g.to_sec1_point(false);
        let (x, y) = (encoded.x().expect("x"), encoded.y().expect("y"));
        let der_of = |c2_len: usize| {
            use der::Encode;
            use der::Tag;
            use der::asn1::{Any, OctetStringRef, UintRef};
            let mut body = Vec::new();
            body.extend(UintRef::new(x).and_then(|v| v.to_der()).expect("x"));
            body.extend(UintRef::new(y).and_then(|v| v.to_der()).expect("y"));
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
