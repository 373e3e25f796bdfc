//! P-256 key agreement recipients (RFC 5753 section 3.1, ephemeral-static ECDH).
//!
//! `Z` is the x-coordinate of the ECDH point; the key-encryption key is
//! `KEK = X9.63-KDF(Z, ECC-CMS-SharedInfo)` with
//! `ECC-CMS-SharedInfo ::= SEQUENCE { keyInfo AlgorithmIdentifier, entityUInfo [0] EXPLICIT
//! OCTET STRING OPTIONAL, suppPubInfo [2] EXPLICIT OCTET STRING }`, keyInfo being the key-wrap
//! algorithm as encoded in the envelope and suppPubInfo the KEK length in bits (32-bit
//! big-endian). The content key is wrapped with AES key wrap (RFC 3394), whose integrity check
//! tells a wrong key.
//!
//! This is our own code, not the `cms` crate's `KeyAgreeRecipientInfoBuilder`, which wraps the
//! content key under an all-zero key (design issue 17, section 0).

use super::error::{EnvelopeError, encoding};
use super::open::P256KeyAgreement;
use super::parse::{KdfDigest, KeyWrap, P256KeyAgreeRecipient};
use aes_kw::KeyInit;
use der::Encode;
use der::asn1::{Any, OctetStringRef};
use der::{Tag, TagNumber};
use p256::elliptic_curve::point::AffineCoordinates;
use sha2::Digest;
use zeroize::Zeroizing;

/// The content key of `recipient`, unwrapped with the key behind `key` (local or in a token):
/// [`EnvelopeError::KeyDecryptionFailed`] when the key-unwrap check fails (another key, or an
/// altered wrapped key).
pub(crate) fn unwrap_cek(
    recipient: &P256KeyAgreeRecipient,
    key: &dyn P256KeyAgreement,
) -> Result<Zeroizing<Vec<u8>>, EnvelopeError> {
    let z = key.shared_secret(recipient.originator())?;
    let kek = kek(
        &z,
        recipient.kdf(),
        recipient.wrap(),
        recipient.wrap_algorithm_der(),
        recipient.ukm(),
    )?;
    let wrapped = recipient.encrypted_key();
    let mut out = Zeroizing::new(vec![0u8; wrapped.len()]);
    let len = match recipient.wrap() {
        KeyWrap::Aes128 => aes_kw::KwAes128::new_from_slice(&kek)
            .map_err(|_| EnvelopeError::KeyDecryptionFailed)?
            .unwrap_key(wrapped, &mut out)
            .map(<[u8]>::len),
        KeyWrap::Aes256 => aes_kw::KwAes256::new_from_slice(&kek)
            .map_err(|_| EnvelopeError::KeyDecryptionFailed)?
            .unwrap_key(wrapped, &mut out)
            .map(<[u8]>::len),
    }
    .map_err(|_| EnvelopeError::KeyDecryptionFailed)?;
    out.truncate(len);
    Ok(out)
}

/// Wrap `cek` for `recipient` with a fresh ephemeral key: the ephemeral public key and the
/// wrapped key (sha256kdf, aes256-wrap, no ukm).
pub(crate) fn wrap_cek<R: rand_core::CryptoRng + ?Sized>(
    recipient: &p256::PublicKey,
    cek: &[u8],
    wrap_algorithm_der: &[u8],
    rng: &mut R,
) -> Result<(p256::PublicKey, Vec<u8>), EnvelopeError> {
    let ephemeral = {
        use p256::elliptic_curve::Generate;
        p256::NonZeroScalar::generate_from_rng(rng)
    };
    let ephemeral_public = p256::PublicKey::from_secret_scalar(&ephemeral);
    let z = shared_secret(ephemeral, recipient);
    let kek = kek(
        &z,
        KdfDigest::Sha256,
        KeyWrap::Aes256,
        wrap_algorithm_der,
        None,
    )?;
    let mut out = vec![0u8; cek.len() + aes_kw::IV_LEN];
    let len = aes_kw::KwAes256::new_from_slice(&kek)
        .map_err(|_| EnvelopeError::Encoding("key-encryption key length".into()))?
        .wrap_key(cek, &mut out)
        .map_err(|e| EnvelopeError::Encoding(format!("key wrap: {e}")))?
        .len();
    out.truncate(len);
    Ok((ephemeral_public, out))
}

impl P256KeyAgreement for p256::SecretKey {
    fn public_key(&self) -> p256::PublicKey {
        p256::SecretKey::public_key(self)
    }

    fn shared_secret(
        &self,
        originator: &p256::PublicKey,
    ) -> Result<Zeroizing<[u8; 32]>, EnvelopeError> {
        Ok(shared_secret(self.to_nonzero_scalar(), originator))
    }
}

/// `Z`: the x-coordinate of `scalar · point`.
fn shared_secret(scalar: p256::NonZeroScalar, point: &p256::PublicKey) -> Zeroizing<[u8; 32]> {
    let shared = (point.to_projective() * *scalar).to_affine();
    Zeroizing::new(shared.x().into())
}

/// The key-encryption key: the ANSI X9.63 KDF of `z` over ECC-CMS-SharedInfo.
fn kek(
    z: &[u8; 32],
    digest: KdfDigest,
    wrap: KeyWrap,
    wrap_algorithm_der: &[u8],
    ukm: Option<&[u8]>,
) -> Result<Zeroizing<Vec<u8>>, EnvelopeError> {
    let shared_info = shared_info(wrap_algorithm_der, ukm, wrap.kek_len())?;
    let len = wrap.kek_len();
    Ok(Zeroizing::new(match digest {
        KdfDigest::Sha1 => x963::<sha1::Sha1>(z, &shared_info, len),
        KdfDigest::Sha256 => x963::<sha2::Sha256>(z, &shared_info, len),
        KdfDigest::Sha384 => x963::<sha2::Sha384>(z, &shared_info, len),
        KdfDigest::Sha512 => x963::<sha2::Sha512>(z, &shared_info, len),
    }))
}

/// ANSI X9.63 KDF: `H(Z ‖ counter ‖ SharedInfo)` for counter = 1, 2, ... (32-bit big-endian),
/// concatenated and cut to `len`.
fn x963<D: Digest>(z: &[u8], shared_info: &[u8], len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(len + 64);
    let mut counter: u32 = 1;
    while out.len() < len {
        let mut h = D::new();
        h.update(z);
        h.update(counter.to_be_bytes());
        h.update(shared_info);
        out.extend_from_slice(&h.finalize());
        counter += 1;
    }
    out.truncate(len);
    out
}

/// DER ECC-CMS-SharedInfo.
fn shared_info(
    wrap_algorithm_der: &[u8],
    ukm: Option<&[u8]>,
    kek_len: usize,
) -> Result<Vec<u8>, EnvelopeError> {
    let explicit = |number: u32, value: &[u8]| -> Result<Vec<u8>, EnvelopeError> {
        let octets = OctetStringRef::new(value)
            .and_then(|o| o.to_der())
            .map_err(encoding("ECC-CMS-SharedInfo"))?;
        Any::new(
            Tag::ContextSpecific {
                constructed: true,
                number: TagNumber(number),
            },
            octets,
        )
        .and_then(|a| a.to_der())
        .map_err(encoding("ECC-CMS-SharedInfo"))
    };
    let mut body = wrap_algorithm_der.to_vec();
    if let Some(ukm) = ukm {
        body.extend(explicit(0, ukm)?);
    }
    let bits = u32::try_from(kek_len * 8).unwrap_or(u32::MAX);
    body.extend(explicit(2, &bits.to_be_bytes())?);
    Any::new(Tag::Sequence, body)
        .and_then(|a| a.to_der())
        .map_err(encoding("ECC-CMS-SharedInfo"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 3394 section 4.6: 256-bit KEK, 256-bit key data.
    #[test]
    fn aes_key_wrap_known_answer() {
        let kek = hex::decode("000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F")
            .expect("hex");
        let data = hex::decode("00112233445566778899AABBCCDDEEFF000102030405060708090A0B0C0D0E0F")
            .expect("hex");
        let expected = hex::decode(
            "28C9F404C4B810F4CBCCB35CFB87F8263F5786E2D80ED326CBC7F0E71A99F43BFB988B9B7A02DD21",
        )
        .expect("hex");
        let mut out = vec![0u8; 40];
        let wrapped = aes_kw::KwAes256::new_from_slice(&kek)
            .expect("kek")
            .wrap_key(&data, &mut out)
            .expect("wrap");
        assert_eq!(wrapped, expected.as_slice());
    }

    /// The X9.63 KDF against the SEC 1 / NIST CAVS SHA-256 vector
    /// (Z = 96c05619d56c328ab95fe84b18264b08725b85e33fd34f08, no SharedInfo, 128 bits).
    #[test]
    fn x963_known_answer() {
        let z = hex::decode("96c05619d56c328ab95fe84b18264b08725b85e33fd34f08").expect("hex");
        assert_eq!(
            hex::encode(x963::<sha2::Sha256>(&z, &[], 16)),
            "443024c3dae66b95e6f5670601558f71"
        );
    }
}
