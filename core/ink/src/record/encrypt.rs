//! Hybrid encryption of an encoded record to the institution's public key.
//!
//! A fresh random 256-bit content key encrypts the record with AES-256-GCM under a fresh random
//! 96-bit nonce. The content key is wrapped for the institution:
//!
//! * [`Scheme::Sm2`]: SM2 public-key encryption (GB/T 32918.4) with SM3, ciphertext layout
//!   `C1 ‖ C3 ‖ C2` with `C1` an uncompressed point (65 + 32 + 32 = 129 bytes). Any standard SM2
//!   implementation can unwrap it with the institution's SM2 private key.
//! * [`Scheme::P256Ecies`]: an ephemeral P-256 key, ECDH with the institution's key, HKDF-SHA256
//!   (no salt, info = `"inkseal/ink-record/v1" ‖ ephemeral public key ‖ institution public key`,
//!   both SEC1 uncompressed) to a 256-bit key-encryption key, and AES-256-GCM of the content key
//!   under that key with an all-zero nonce (safe: the key-encryption key is used exactly once).
//!   Wrapped key = ephemeral public key (65) ‖ ciphertext and tag (48) = 113 bytes.
//!
//! Envelope layout (integers little-endian):
//!
//! ```text
//! 4   magic "INKE"
//! 1   envelope version = 1
//! 1   scheme id (1 = SM2, 2 = P-256 ECIES)
//! 2   wrapped key length (u16; must equal the scheme's fixed length)
//! n   wrapped content key
//! 12  AES-GCM nonce
//! ..  AES-256-GCM ciphertext of the record, with the 16-byte tag
//! ```
//!
//! The associated data of the record encryption is everything before the ciphertext (magic,
//! version, scheme id, wrapped key length, wrapped key and nonce), so no header byte can be
//! changed or swapped with another envelope's without the envelope failing to open.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use hkdf::Hkdf;
use sha2::{Digest, Sha256};
use sm2::pkcs8::DecodePublicKey;
use sm2::pke::{DecryptingKey, EncryptingKey, Mode};
use zeroize::{Zeroize, Zeroizing};

use super::RecordError;
use super::format::MAX_RECORD_BYTES;

/// Magic bytes at the start of a sealed envelope.
pub const ENVELOPE_MAGIC: [u8; 4] = *b"INKE";
/// The envelope version written and accepted by this implementation.
pub const ENVELOPE_VERSION: u8 = 1;
/// HKDF info prefix of the P-256 ECIES scheme.
pub const HKDF_INFO: &[u8] = b"inkseal/ink-record/v1";

const KEY_LEN: usize = 32;
const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;
const POINT_LEN: usize = 65;
const SM2_WRAPPED_LEN: usize = POINT_LEN + 32 + KEY_LEN;
const P256_WRAPPED_LEN: usize = POINT_LEN + KEY_LEN + TAG_LEN;
const HEADER_LEN: usize = 4 + 1 + 1 + 2;

/// How the content key is wrapped for the institution.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Scheme {
    /// SM2 public-key encryption (GB/T 32918.4), `C1C3C2`.
    Sm2 = 1,
    /// ECIES over P-256: ECDH, HKDF-SHA256, AES-256-GCM.
    P256Ecies = 2,
}

impl Scheme {
    /// The scheme id written into the envelope.
    pub fn id(self) -> u8 {
        self as u8
    }

    /// The scheme with the given envelope id.
    pub fn from_id(id: u8) -> Result<Self, RecordError> {
        match id {
            1 => Ok(Self::Sm2),
            2 => Ok(Self::P256Ecies),
            other => Err(RecordError::UnknownScheme(other)),
        }
    }

    fn wrapped_len(self) -> usize {
        match self {
            Self::Sm2 => SM2_WRAPPED_LEN,
            Self::P256Ecies => P256_WRAPPED_LEN,
        }
    }
}

/// The institution's public key, to which records are sealed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InstitutionKey {
    /// An SM2 public key.
    Sm2(sm2::PublicKey),
    /// A NIST P-256 public key.
    P256(p256::PublicKey),
}

impl InstitutionKey {
    /// Parses a SEC1-encoded point (compressed or uncompressed) for the given scheme.
    ///
    /// The scheme must be given because SM2 and P-256 points have the same encoding.
    pub fn from_sec1(scheme: Scheme, bytes: &[u8]) -> Result<Self, RecordError> {
        match scheme {
            Scheme::Sm2 => sm2::PublicKey::from_sec1_bytes(bytes)
                .map(Self::Sm2)
                .map_err(|_| RecordError::InvalidKey("not an SM2 SEC1 point")),
            Scheme::P256Ecies => p256::PublicKey::from_sec1_bytes(bytes)
                .map(Self::P256)
                .map_err(|_| RecordError::InvalidKey("not a P-256 SEC1 point")),
        }
    }

    /// Parses a DER SubjectPublicKeyInfo; the curve is taken from its parameters.
    pub fn from_public_key_der(der: &[u8]) -> Result<Self, RecordError> {
        if let Ok(k) = sm2::PublicKey::from_public_key_der(der) {
            return Ok(Self::Sm2(k));
        }
        p256::PublicKey::from_public_key_der(der)
            .map(Self::P256)
            .map_err(|_| RecordError::InvalidKey("not an SM2 or P-256 SubjectPublicKeyInfo"))
    }

    /// Parses a PEM `PUBLIC KEY` (SubjectPublicKeyInfo); the curve is taken from its parameters.
    pub fn from_public_key_pem(pem: &str) -> Result<Self, RecordError> {
        if let Ok(k) = sm2::PublicKey::from_public_key_pem(pem) {
            return Ok(Self::Sm2(k));
        }
        p256::PublicKey::from_public_key_pem(pem)
            .map(Self::P256)
            .map_err(|_| RecordError::InvalidKey("not an SM2 or P-256 PEM public key"))
    }

    /// The scheme used to wrap content keys for this key.
    pub fn scheme(&self) -> Scheme {
        match self {
            Self::Sm2(_) => Scheme::Sm2,
            Self::P256(_) => Scheme::P256Ecies,
        }
    }

    /// The key as an uncompressed SEC1 point.
    pub fn to_sec1_bytes(&self) -> Vec<u8> {
        match self {
            Self::Sm2(k) => k.to_sec1_bytes().into_vec(),
            Self::P256(k) => k.to_sec1_bytes().into_vec(),
        }
    }
}

/// The institution's secret key, which opens sealed records.
///
/// The inner keys wipe themselves on drop; `Debug` shows only the scheme.
#[derive(Clone)]
pub enum InstitutionSecret {
    /// An SM2 secret key.
    Sm2(sm2::SecretKey),
    /// A NIST P-256 secret key.
    P256(p256::SecretKey),
}

impl core::fmt::Debug for InstitutionSecret {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_tuple("InstitutionSecret")
            .field(&self.scheme())
            .finish_non_exhaustive()
    }
}

impl InstitutionSecret {
    /// Generates a fresh secret key for the scheme from the system's random number generator.
    pub fn generate(scheme: Scheme) -> Result<Self, RecordError> {
        use sm2::elliptic_curve::Generate;
        match scheme {
            Scheme::Sm2 => sm2::SecretKey::try_generate()
                .map(Self::Sm2)
                .map_err(|_| RecordError::Encryption("random number generator failed")),
            Scheme::P256Ecies => p256::SecretKey::try_generate()
                .map(Self::P256)
                .map_err(|_| RecordError::Encryption("random number generator failed")),
        }
    }

    /// Parses a big-endian scalar for the given scheme.
    pub fn from_bytes(scheme: Scheme, bytes: &[u8]) -> Result<Self, RecordError> {
        match scheme {
            Scheme::Sm2 => sm2::SecretKey::from_slice(bytes)
                .map(Self::Sm2)
                .map_err(|_| RecordError::InvalidKey("not an SM2 secret scalar")),
            Scheme::P256Ecies => p256::SecretKey::from_slice(bytes)
                .map(Self::P256)
                .map_err(|_| RecordError::InvalidKey("not a P-256 secret scalar")),
        }
    }

    /// The scheme this key opens.
    pub fn scheme(&self) -> Scheme {
        match self {
            Self::Sm2(_) => Scheme::Sm2,
            Self::P256(_) => Scheme::P256Ecies,
        }
    }

    /// The matching public key.
    pub fn public_key(&self) -> InstitutionKey {
        match self {
            Self::Sm2(k) => InstitutionKey::Sm2(k.public_key()),
            Self::P256(k) => InstitutionKey::P256(k.public_key()),
        }
    }
}

fn random_bytes<const N: usize>() -> Result<[u8; N], RecordError> {
    let mut b = [0u8; N];
    getrandom::fill(&mut b)
        .map_err(|_| RecordError::Encryption("random number generator failed"))?;
    Ok(b)
}

fn p256_kek(
    shared_x: &[u8],
    ephemeral: &[u8],
    institution: &[u8],
) -> Result<Zeroizing<[u8; KEY_LEN]>, RecordError> {
    let hk = Hkdf::<Sha256>::new(None, shared_x);
    let mut kek = Zeroizing::new([0u8; KEY_LEN]);
    hk.expand_multi_info(&[HKDF_INFO, ephemeral, institution], kek.as_mut())
        .map_err(|_| RecordError::Encryption("HKDF expand failed"))?;
    Ok(kek)
}

fn wrap(content_key: &[u8; KEY_LEN], institution: &InstitutionKey) -> Result<Vec<u8>, RecordError> {
    match institution {
        InstitutionKey::Sm2(pk) => {
            let ek = EncryptingKey::new_with_mode(*pk, Mode::C1C3C2);
            ek.encrypt(&mut getrandom::SysRng, content_key)
                .map_err(|_| RecordError::Encryption("SM2 encryption failed"))
        }
        InstitutionKey::P256(pk) => {
            use sm2::elliptic_curve::Generate;
            let eph = p256::ecdh::EphemeralSecret::try_generate()
                .map_err(|_| RecordError::Encryption("random number generator failed"))?;
            let eph_pub = eph.public_key().to_sec1_bytes();
            let inst_pub = pk.to_sec1_bytes();
            let shared = eph.diffie_hellman(pk);
            let kek = p256_kek(shared.raw_secret_bytes(), &eph_pub, &inst_pub)?;
            let cipher = Aes256Gcm::new(&Key::<Aes256Gcm>::from(*kek));
            let ct = cipher
                .encrypt(&Nonce::default(), content_key.as_slice())
                .map_err(|_| RecordError::Encryption("AES-GCM key wrap failed"))?;
            let mut out = Vec::with_capacity(P256_WRAPPED_LEN);
            out.extend_from_slice(&eph_pub);
            out.extend_from_slice(&ct);
            Ok(out)
        }
    }
}

fn unwrap_key(
    wrapped: &[u8],
    secret: &InstitutionSecret,
) -> Result<Zeroizing<[u8; KEY_LEN]>, RecordError> {
    let mut key = Zeroizing::new([0u8; KEY_LEN]);
    match secret {
        InstitutionSecret::Sm2(sk) => {
            // Note: the sm2 crate's `DecryptingKey` keeps a copy of the scalar that it does not
            // wipe on drop; it lives only for this call.
            let dk = DecryptingKey::new_with_mode(sk.to_nonzero_scalar(), Mode::C1C3C2);
            let mut pt = dk.decrypt(wrapped).map_err(|_| RecordError::OpenFailed)?;
            if pt.len() != KEY_LEN {
                pt.zeroize();
                return Err(RecordError::OpenFailed);
            }
            key.copy_from_slice(&pt);
            pt.zeroize();
        }
        InstitutionSecret::P256(sk) => {
            let (eph_bytes, ct) = wrapped.split_at(POINT_LEN.min(wrapped.len()));
            let eph =
                p256::PublicKey::from_sec1_bytes(eph_bytes).map_err(|_| RecordError::OpenFailed)?;
            let mut scalar = sk.to_nonzero_scalar();
            let shared = p256::ecdh::diffie_hellman(scalar, eph.as_affine());
            scalar.zeroize();
            let inst_pub = sk.public_key().to_sec1_bytes();
            let kek = p256_kek(shared.raw_secret_bytes(), eph_bytes, &inst_pub)?;
            let cipher = Aes256Gcm::new(&Key::<Aes256Gcm>::from(*kek));
            let mut pt = cipher
                .decrypt(&Nonce::default(), ct)
                .map_err(|_| RecordError::OpenFailed)?;
            if pt.len() != KEY_LEN {
                pt.zeroize();
                return Err(RecordError::OpenFailed);
            }
            key.copy_from_slice(&pt);
            pt.zeroize();
        }
    }
    Ok(key)
}

/// Seals an encoded record (see [`super::format::encode`]) to the institution's public key.
///
/// Records up to [`MAX_RECORD_BYTES`] are accepted; the envelope is the record size plus a
/// fixed overhead (8 + 129 + 12 + 16 = 165 bytes for SM2, 8 + 113 + 12 + 16 = 149 for P-256).
pub fn seal_for_institution(
    record_bytes: &[u8],
    institution: &InstitutionKey,
) -> Result<Vec<u8>, RecordError> {
    if record_bytes.len() > MAX_RECORD_BYTES {
        return Err(RecordError::TooLarge {
            len: record_bytes.len(),
            max: MAX_RECORD_BYTES,
        });
    }
    let scheme = institution.scheme();
    let content_key = Zeroizing::new(random_bytes::<KEY_LEN>()?);
    let wrapped = wrap(&content_key, institution)?;
    if wrapped.len() != scheme.wrapped_len() {
        return Err(RecordError::Encryption("unexpected wrapped key length"));
    }
    let nonce = random_bytes::<NONCE_LEN>()?;

    let mut out =
        Vec::with_capacity(HEADER_LEN + wrapped.len() + NONCE_LEN + record_bytes.len() + TAG_LEN);
    out.extend_from_slice(&ENVELOPE_MAGIC);
    out.push(ENVELOPE_VERSION);
    out.push(scheme.id());
    // Fixed per scheme (129 or 113), so it fits in a u16.
    out.extend_from_slice(&(wrapped.len() as u16).to_le_bytes());
    out.extend_from_slice(&wrapped);
    out.extend_from_slice(&nonce);

    let cipher = Aes256Gcm::new(&Key::<Aes256Gcm>::from(*content_key));
    let ct = cipher
        .encrypt(
            &Nonce::from(nonce),
            Payload {
                msg: record_bytes,
                aad: &out,
            },
        )
        .map_err(|_| RecordError::Encryption("AES-GCM encryption failed"))?;
    out.extend_from_slice(&ct);
    Ok(out)
}

/// Opens a sealed envelope with the institution's secret key and returns the encoded record.
///
/// Structural problems are reported precisely ([`RecordError::BadMagic`],
/// [`RecordError::UnsupportedVersion`], [`RecordError::UnknownScheme`],
/// [`RecordError::SchemeMismatch`], [`RecordError::Truncated`], [`RecordError::TooLarge`]);
/// a wrong key or any altered byte that passes those checks yields [`RecordError::OpenFailed`].
pub fn open(sealed: &[u8], secret: &InstitutionSecret) -> Result<Vec<u8>, RecordError> {
    let max =
        HEADER_LEN + SM2_WRAPPED_LEN.max(P256_WRAPPED_LEN) + NONCE_LEN + MAX_RECORD_BYTES + TAG_LEN;
    if sealed.len() > max {
        return Err(RecordError::TooLarge {
            len: sealed.len(),
            max,
        });
    }
    if sealed.len() < HEADER_LEN {
        return Err(RecordError::Truncated);
    }
    if sealed[..4] != ENVELOPE_MAGIC {
        return Err(RecordError::BadMagic);
    }
    if sealed[4] != ENVELOPE_VERSION {
        return Err(RecordError::UnsupportedVersion(u16::from(sealed[4])));
    }
    let scheme = Scheme::from_id(sealed[5])?;
    if scheme != secret.scheme() {
        return Err(RecordError::SchemeMismatch {
            envelope: scheme,
            key: secret.scheme(),
        });
    }
    let wrapped_len = usize::from(u16::from_le_bytes([sealed[6], sealed[7]]));
    if wrapped_len != scheme.wrapped_len() {
        return Err(RecordError::OpenFailed);
    }
    let aad_len = HEADER_LEN + wrapped_len + NONCE_LEN;
    if sealed.len() < aad_len + TAG_LEN {
        return Err(RecordError::Truncated);
    }
    let (aad, ct) = sealed.split_at(aad_len);
    let wrapped = &aad[HEADER_LEN..HEADER_LEN + wrapped_len];
    let mut nonce = [0u8; NONCE_LEN];
    nonce.copy_from_slice(&aad[HEADER_LEN + wrapped_len..]);

    let content_key = unwrap_key(wrapped, secret)?;
    let cipher = Aes256Gcm::new(&Key::<Aes256Gcm>::from(*content_key));
    cipher
        .decrypt(&Nonce::from(nonce), Payload { msg: ct, aad })
        .map_err(|_| RecordError::OpenFailed)
}

/// The digest bound into the PDF signature: SHA-256 of the whole sealed envelope.
///
/// The digest is taken over the sealed bytes, not over the plaintext record, because:
/// * anyone holding the signed PDF and the stored envelope can check the binding without the
///   institution's secret key (only the examiner needs to decrypt);
/// * a hash of the plaintext would be a stable fingerprint of the customer's biometric data that
///   could be linked or guessed; the envelope hash reveals nothing about it;
/// * the envelope is authenticated (AES-GCM over the header, wrapped key and record), so the
///   digest pins exactly one record; re-sealing the same handwriting for another document gives a
///   different envelope and a different digest, so evidence cannot be moved between documents.
///
/// The envelope must therefore be stored byte for byte as sealed.
pub fn record_digest(sealed: &[u8]) -> [u8; 32] {
    Sha256::digest(sealed).into()
}
