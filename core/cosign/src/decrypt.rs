//! Two-party SM2 decryption in one round trip (issue 17, design §3).
//!
//! The key is an *encryption* key made by the same key generation as a signing key:
//! `(1 + d)^-1 = d1 d2`, `P1 = d1^-1 G`, `P2 = d2^-1 G`, `P = (d1 d2)^-1 G - G`. An SM2
//! ciphertext (GB/T 32918.4) carries `C1 = k G`; the sender derived its key stream from
//! `k P = d C1 = (d1 d2)^-1 C1 - C1`.
//!
//! 1. Phone ([`DecryptSession::start`]): checks C1, draws a fresh `ρ` (hedged with d1 and
//!    the request), sends `T1 = (ρ d1^-1) C1`. `T1` is uniformly random and independent of
//!    C1, so the server learns nothing about the envelope it helps open.
//! 2. Server ([`ServerKeyShare::decrypt_step`]): checks `T1` (on the curve, not the identity),
//!    answers `T2 = d2^-1 T1` with a Chaum–Pedersen proof that `log_G P2 = log_T1 T2`, bound
//!    to the key id and the request id.
//! 3. Phone ([`DecryptSession::finish`], which consumes the session, so ρ is used once): checks
//!    `T2` and the proof (a failure is [`DecryptError::ServerMisbehaved`]), computes
//!    `S = ρ^-1 T2 - C1 = d C1 = (x2, y2)`, `t = KDF(x2 || y2, |C2|)` (refused if all zero),
//!    `M' = C2 xor t`, and compares `SM3(x2 || M' || y2)` with C3 in constant time. Only then
//!    is `M'` released, whole, in a [`Zeroizing`] buffer; on any failure nothing is.
//!
//! ρ, S, t and M' are wiped on every path. The phone computes `P2 = d1 (P + G)` from its own
//! share and the joint key, so it needs nothing stored beyond what signing keeps.

use crate::client::ClientKeyShare;
use crate::codec::HexPoint;
use crate::dleq::{DleqProof, Statement};
use crate::messages::{Versioned, valid_id};
use crate::nonce::{fresh_from, hedged_scalar_with};
use crate::{CosignError, ServerKeyShare};
use serde::{Deserialize, Serialize};
use sm2::elliptic_curve::group::Group;
use sm2::elliptic_curve::sec1::ToSec1Point;
use sm2::{ProjectivePoint, PublicKey, Scalar};
use sm3::{Digest, Sm3};
use subtle::ConstantTimeEq;
use thiserror::Error;
use zeroize::{Zeroize, Zeroizing};

/// The version of the decryption round (request and answer).
pub const DECRYPT_PROTOCOL_VERSION: u32 = 1;

/// Longest C2 (the encrypted message) accepted, in bytes: a content-encryption key is 16 or 32
/// bytes; anything longer is not a key transport and is refused before any arithmetic.
pub const MAX_C2_BYTES: usize = 64;

/// Longest DER `SM2Cipher` accepted, in bytes (two 33-byte INTEGERs, a 32-byte C3 and a
/// 64-byte C2 with their headers fit in 180).
pub const MAX_SM2_CIPHER_DER_BYTES: usize = 256;

/// Why a two-party decryption produced no plaintext. Never carries a secret.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum DecryptError {
    /// The ciphertext is not a GM/T 0009 DER `SM2Cipher` this build accepts; the field says
    /// what was wrong.
    #[error("malformed SM2 ciphertext: {0}")]
    Ciphertext(&'static str),
    /// The co-signing server's answer is wrong: its `T2` is not a curve point, its proof does
    /// not verify for this round's `T1`, key and request, or it answers another round. This is
    /// attributable misbehaviour (or an attack on the channel); report it. Nothing was
    /// decrypted.
    #[error("the co-signing server misbehaved ({0}); nothing was decrypted")]
    ServerMisbehaved(&'static str),
    /// The server's answer is proven right, but the ciphertext's check value C3 does not match
    /// the recovered message: it was not encrypted to this key, or it was altered.
    #[error("the ciphertext's check value C3 does not match; nothing was decrypted")]
    CheckFailed,
    /// The SM2 key stream came out all zeros (GB/T 32918.4 A5; probability about 2^-256).
    #[error("the SM2 key stream is all zeros; the ciphertext is refused")]
    ZeroKeyStream,
    /// A protocol-level failure before or outside the server's answer (bad id, version,
    /// random number generator).
    #[error(transparent)]
    Protocol(#[from] CosignError),
}

/// A parsed GM/T 0009 `SM2Cipher ::= SEQUENCE { x INTEGER, y INTEGER, hash OCTET STRING
/// (SIZE(32)), cipherText OCTET STRING }`: C1 on the curve and not the identity, C3 32 bytes,
/// C2 1 to [`MAX_C2_BYTES`] bytes.
///
/// The one SM2 public-key encryption of the workspace (GB/T 32918.4): the two-party round
/// ([`DecryptSession`]), a local key and digital envelopes (`inkseal_pdf::cms::enveloped`)
/// all finish with [`Sm2Ciphertext::finish_with_shared_point`], and envelopes are sealed with
/// [`Sm2Ciphertext::encrypt`].
#[derive(Clone)]
pub struct Sm2Ciphertext {
    c1: PublicKey,
    c3: [u8; 32],
    c2: Zeroizing<Vec<u8>>,
}

impl std::fmt::Debug for Sm2Ciphertext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sm2Ciphertext")
            .field("c1", &HexPoint::from_public_key(&self.c1))
            .field("c2_len", &self.c2.len())
            .finish_non_exhaustive()
    }
}

impl Sm2Ciphertext {
    /// Parse the DER form (strict: one SEQUENCE, nothing after it).
    pub fn from_der(der: &[u8]) -> Result<Self, DecryptError> {
        use sm2::pkcs8::der::Decode;
        if der.len() > MAX_SM2_CIPHER_DER_BYTES {
            return Err(DecryptError::Ciphertext("longer than an SM2 key transport"));
        }
        let cipher = sm2::pke::Cipher::<sm2::Sm2, Sm3>::from_der(der)
            .map_err(|_| DecryptError::Ciphertext("not a DER SM2Cipher with C1 on the curve"))?;
        let c2 = cipher.c2();
        if c2.is_empty() || c2.len() > MAX_C2_BYTES {
            return Err(DecryptError::Ciphertext("C2 must be 1 to 64 bytes"));
        }
        let c1 = PublicKey::from_affine(*cipher.c1())
            .map_err(|_| DecryptError::Ciphertext("C1 is the identity"))?;
        let mut c3 = [0u8; 32];
        c3.copy_from_slice(cipher.c3());
        Ok(Sm2Ciphertext {
            c1,
            c3,
            c2: Zeroizing::new(c2.to_vec()),
        })
    }

    /// C1, the sender's ephemeral point.
    pub fn c1(&self) -> &PublicKey {
        &self.c1
    }

    /// Length of C2 (the length of the message it hides).
    pub fn c2_len(&self) -> usize {
        self.c2.len()
    }

    /// C3, the SM3 check value.
    pub fn c3(&self) -> &[u8; 32] {
        &self.c3
    }

    /// C2, the encrypted message.
    pub fn c2(&self) -> &[u8] {
        &self.c2
    }

    /// GB/T 32918.4 decryption steps B4 to B7 given the shared point `S = d C1`, however it was
    /// computed (a local key, two parties, an HSM): the SM3 key stream (refused if all zero),
    /// `M = C2 xor t` in a wiped buffer, and C3 compared in constant time. Returns `M` only if
    /// C3 matches ([`DecryptError::CheckFailed`] otherwise); the identity is refused. The
    /// caller vouches that `S` is `d C1` for the recipient's `d`: C3 is the last line of
    /// defence, not the only one.
    pub fn finish_with_shared_point(
        &self,
        shared: &ProjectivePoint,
    ) -> Result<Zeroizing<Vec<u8>>, DecryptError> {
        complete(shared, &self.c2, &self.c3)
    }

    /// Decrypt with a whole private key `d` (a key that is not split): `S = d C1`, then
    /// [`Sm2Ciphertext::finish_with_shared_point`].
    pub fn decrypt_with_key(
        &self,
        key: &sm2::SecretKey,
    ) -> Result<Zeroizing<Vec<u8>>, DecryptError> {
        let mut shared = self.c1.to_projective() * *key.to_nonzero_scalar();
        let result = complete(&shared, &self.c2, &self.c3);
        shared.zeroize();
        result
    }

    /// Encrypt `message` (1 to [`MAX_C2_BYTES`] bytes: a content key) to `recipient` with an
    /// ephemeral scalar from `rng` (GB/T 32918.4 A1 to A8, redrawn on an all-zero key stream),
    /// as the DER `SM2Cipher`.
    pub fn encrypt<R: rand_core::CryptoRng + ?Sized>(
        recipient: &PublicKey,
        message: &[u8],
        rng: &mut R,
    ) -> Result<Vec<u8>, DecryptError> {
        use sm2::elliptic_curve::Generate;
        use sm2::pkcs8::der::asn1::{Any, OctetStringRef, UintRef};
        use sm2::pkcs8::der::{Encode, Tag};
        if message.is_empty() || message.len() > MAX_C2_BYTES {
            return Err(DecryptError::Ciphertext("a message of 1 to 64 bytes"));
        }
        loop {
            let k = sm2::NonZeroScalar::generate_from_rng(rng);
            let c1 = (ProjectivePoint::GENERATOR * *k).to_affine();
            let mut shared = recipient.to_projective() * *k;
            let mut xy = Zeroizing::new([0u8; 64]);
            if !coordinates_into(&shared, &mut xy) {
                shared.zeroize();
                continue;
            }
            shared.zeroize();
            let mut t = kdf(&xy[..], message.len());
            if t.iter().all(|b| *b == 0) {
                continue;
            }
            let c3 = check_value(&xy, message);
            for (out, m) in t.iter_mut().zip(message) {
                *out ^= m;
            }
            let point = c1.to_sec1_point(false);
            let (Some(x1), Some(y1)) = (point.x(), point.y()) else {
                continue;
            };
            let encoding =
                |_: sm2::pkcs8::der::Error| DecryptError::Ciphertext("cannot be encoded");
            let mut body = Vec::new();
            for field in [
                UintRef::new(x1).and_then(|v| v.to_der()),
                UintRef::new(y1).and_then(|v| v.to_der()),
                OctetStringRef::new(&c3).and_then(|v| v.to_der()),
                OctetStringRef::new(&t[..]).and_then(|v| v.to_der()),
            ] {
                body.extend(field.map_err(encoding)?);
            }
            return Any::new(Tag::Sequence, body)
                .and_then(|a| a.to_der())
                .map_err(encoding);
        }
    }
}

/// The affine coordinates `x2 || y2` of `point` into `out`; false for the identity.
fn coordinates_into(point: &ProjectivePoint, out: &mut [u8; 64]) -> bool {
    let mut affine = point.to_affine();
    let mut encoded = affine.to_sec1_point(false);
    affine.zeroize();
    let found = match (encoded.x(), encoded.y()) {
        (Some(x2), Some(y2)) => {
            out[..32].copy_from_slice(x2);
            out[32..].copy_from_slice(y2);
            true
        }
        _ => false,
    };
    encoded.zeroize();
    found
}

/// `C3 = SM3(x2 || M || y2)`.
fn check_value(xy: &[u8; 64], message: &[u8]) -> [u8; 32] {
    let mut h = Sm3::new();
    h.update(&xy[..32]);
    h.update(message);
    h.update(&xy[32..]);
    h.finalize().into()
}

/// Phone -> server: the blinded point of one decryption round.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecryptRequest {
    /// Protocol version ([`DECRYPT_PROTOCOL_VERSION`]).
    pub v: u32,
    /// The key id.
    pub key_id: String,
    /// The round's id (the HTTP request's idempotency key): the proof is bound to it.
    pub request_id: String,
    /// `T1 = (ρ d1^-1) C1`.
    pub t1: HexPoint,
}

/// Server -> phone: the server's share applied to `T1`, with its proof.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecryptResponse {
    /// Protocol version (the request's).
    pub v: u32,
    /// Echo of the round's id.
    pub request_id: String,
    /// `T2 = d2^-1 T1`.
    pub t2: HexPoint,
    /// Proof that `log_G P2 = log_T1 T2`, bound to the key id and request id.
    pub proof: DleqProof,
}

impl Versioned for DecryptRequest {
    fn version(&self) -> u32 {
        self.v
    }

    fn supported_versions() -> &'static [u32] {
        &[DECRYPT_PROTOCOL_VERSION]
    }
}

impl Versioned for DecryptResponse {
    fn version(&self) -> u32 {
        self.v
    }

    fn supported_versions() -> &'static [u32] {
        &[DECRYPT_PROTOCOL_VERSION]
    }
}

/// One decryption round in flight on the phone. Consumed by [`DecryptSession::finish`], so ρ
/// blinds one round only. Wiped on drop; `Debug` shows only the ids.
pub struct DecryptSession {
    key_id: String,
    request_id: String,
    rho: Scalar,
    c1: ProjectivePoint,
    c3: [u8; 32],
    c2: Zeroizing<Vec<u8>>,
    t1: ProjectivePoint,
    p2: ProjectivePoint,
}

impl Drop for DecryptSession {
    fn drop(&mut self) {
        self.rho.zeroize();
    }
}

impl std::fmt::Debug for DecryptSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DecryptSession")
            .field("key_id", &self.key_id)
            .field("request_id", &self.request_id)
            .finish_non_exhaustive()
    }
}

impl DecryptSession {
    /// Start a round for `ciphertext` with the phone's share: draw ρ from `rng` (hedged with
    /// d1, the request id and C1) and build the request carrying `T1`. `request_id` is the
    /// HTTP request's idempotency key (8-64 characters of `[A-Za-z0-9_-]`).
    pub fn start<R: rand_core::TryCryptoRng + ?Sized>(
        share: &ClientKeyShare,
        request_id: &str,
        ciphertext: &Sm2Ciphertext,
        rng: &mut R,
    ) -> Result<(Self, DecryptRequest), DecryptError> {
        if !valid_id(request_id) {
            return Err(CosignError::Malformed("request_id").into());
        }
        let c1 = ciphertext.c1.to_projective();
        let mut context = request_id.as_bytes().to_vec();
        context.extend_from_slice(ciphertext.c1.to_sec1_point(false).as_bytes());
        let rho = hedged_scalar_with(
            fresh_from(rng)?,
            "inkseal/cosign/v1/rho",
            Some(share.d1()),
            &context,
        );
        let mut d1_inv =
            Option::<Scalar>::from(share.d1().invert()).ok_or(CosignError::Degenerate)?;
        let mut blind = rho * d1_inv;
        let t1 = c1 * blind;
        d1_inv.zeroize();
        blind.zeroize();
        // P2 = d2^-1 G = d1 (d1 d2)^-1 G = d1 (P + G).
        let p2 = share.p2();
        let session = DecryptSession {
            key_id: share.key_id().to_owned(),
            request_id: request_id.to_owned(),
            rho,
            c1,
            c3: ciphertext.c3,
            c2: ciphertext.c2.clone(),
            t1,
            p2,
        };
        if bool::from(t1.is_identity()) {
            return Err(CosignError::Degenerate.into());
        }
        let request = DecryptRequest {
            v: DECRYPT_PROTOCOL_VERSION,
            key_id: share.key_id().to_owned(),
            request_id: request_id.to_owned(),
            t1: HexPoint::from_point_uncompressed(&t1),
        };
        Ok((session, request))
    }

    /// [`DecryptSession::start`] with the operating system's random number generator.
    pub fn start_with_os_rng(
        share: &ClientKeyShare,
        request_id: &str,
        ciphertext: &Sm2Ciphertext,
    ) -> Result<(Self, DecryptRequest), DecryptError> {
        Self::start(share, request_id, ciphertext, &mut getrandom::SysRng)
    }

    /// Check the server's answer, unblind, and release the message only if C3 matches.
    pub fn finish(self, response: &DecryptResponse) -> Result<Zeroizing<Vec<u8>>, DecryptError> {
        if response.v != DECRYPT_PROTOCOL_VERSION {
            return Err(DecryptError::ServerMisbehaved("answer of another version"));
        }
        if response.request_id != self.request_id {
            return Err(DecryptError::ServerMisbehaved("answer to another request"));
        }
        let t2 = response
            .t2
            .point("t2")
            .map_err(|_| DecryptError::ServerMisbehaved("T2 is not a curve point"))?
            .to_projective();
        let statement = Statement {
            key_id: &self.key_id,
            request_id: &self.request_id,
            p2: &self.p2,
            t1: &self.t1,
            t2: &t2,
        };
        response
            .proof
            .verify(&statement)
            .map_err(|_| DecryptError::ServerMisbehaved("the proof for T2 does not verify"))?;
        let mut rho_inv =
            Option::<Scalar>::from(self.rho.invert()).ok_or(CosignError::Degenerate)?;
        let mut shared = t2 * rho_inv - self.c1;
        rho_inv.zeroize();
        let result = if bool::from(shared.is_identity()) {
            // Impossible with a verified proof (d != 0, C1 != O); refuse all the same.
            Err(DecryptError::ServerMisbehaved(
                "the shared point is the identity",
            ))
        } else {
            complete(&shared, &self.c2, &self.c3)
        };
        shared.zeroize();
        result
    }
}

/// GB/T 32918.4 decryption steps B4 to B7 from the shared point `S = d C1 = (x2, y2)`.
fn complete(
    shared: &ProjectivePoint,
    c2: &[u8],
    c3: &[u8; 32],
) -> Result<Zeroizing<Vec<u8>>, DecryptError> {
    let mut xy = Zeroizing::new([0u8; 64]);
    if !coordinates_into(shared, &mut xy) {
        return Err(DecryptError::ServerMisbehaved(
            "the shared point is the identity",
        ));
    }
    let mut t = kdf(&xy[..], c2.len());
    let nonzero = t.iter().fold(0u8, |acc, b| acc | b);
    if bool::from(nonzero.ct_eq(&0)) {
        return Err(DecryptError::ZeroKeyStream);
    }
    let mut message = Zeroizing::new(vec![0u8; c2.len()]);
    for ((m, c), k) in message.iter_mut().zip(c2).zip(t.iter()) {
        *m = c ^ k;
    }
    t.zeroize();
    let mut u = check_value(&xy, &message);
    let matches = u.ct_eq(c3);
    u.zeroize();
    if bool::from(matches) {
        Ok(message)
    } else {
        Err(DecryptError::CheckFailed)
    }
}

/// The SM3 KDF of GB/T 32918.4: `H(Z || ct)` for `ct = 1, 2, ...`, truncated to `len` bytes.
fn kdf(z: &[u8], len: usize) -> Zeroizing<Vec<u8>> {
    let mut out = Zeroizing::new(Vec::with_capacity(len + 32));
    let mut counter: u32 = 1;
    while out.len() < len {
        let mut h = Sm3::new();
        h.update(z);
        h.update(counter.to_be_bytes());
        let mut block: [u8; 32] = h.finalize().into();
        out.extend_from_slice(&block);
        block.zeroize();
        counter = counter.wrapping_add(1);
    }
    out.truncate(len);
    out
}

impl ServerKeyShare {
    /// The server's decryption step: check `T1` (on the curve, not the identity), answer
    /// `T2 = d2^-1 T1` with a proof bound to `key_id` (the key the caller is authorised for;
    /// it must be the request's) and the request id. `rng` supplies the proof's fresh
    /// randomness.
    pub fn decrypt_step<R: rand_core::TryCryptoRng + ?Sized>(
        &self,
        key_id: &str,
        request: &DecryptRequest,
        rng: &mut R,
    ) -> Result<DecryptResponse, CosignError> {
        if request.v != DECRYPT_PROTOCOL_VERSION {
            return Err(CosignError::UnsupportedVersion(request.v));
        }
        if request.key_id != key_id || !valid_id(key_id) {
            return Err(CosignError::Malformed("key_id"));
        }
        if !valid_id(&request.request_id) {
            return Err(CosignError::Malformed("request_id"));
        }
        let t1 = request.t1.point("t1")?.to_projective();
        let d2_inv = self.d2_inv();
        let t2 = t1 * *d2_inv;
        let p2 = ProjectivePoint::mul_by_generator(d2_inv);
        let proof = DleqProof::prove(
            &Statement {
                key_id,
                request_id: &request.request_id,
                p2: &p2,
                t1: &t1,
                t2: &t2,
            },
            d2_inv,
            fresh_from(rng)?,
        );
        Ok(DecryptResponse {
            v: DECRYPT_PROTOCOL_VERSION,
            request_id: request.request_id.clone(),
            t2: HexPoint::from_point_uncompressed(&t2),
            proof,
        })
    }

    /// [`ServerKeyShare::decrypt_step`] with the operating system's random number generator.
    pub fn decrypt_step_with_os_rng(
        &self,
        key_id: &str,
        request: &DecryptRequest,
    ) -> Result<DecryptResponse, CosignError> {
        self.decrypt_step(key_id, request, &mut getrandom::SysRng)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ClientKeygen;
    use crate::codec::HexScalar;
    use proptest::prelude::*;
    use sm2::pke::EncryptingKey;
    use std::convert::Infallible;

    /// A deterministic generator for tests: SM3 in counter mode over a seed.
    struct TestRng {
        seed: [u8; 32],
        counter: u64,
    }

    impl TestRng {
        fn new(seed: u8) -> Self {
            TestRng {
                seed: [seed; 32],
                counter: 0,
            }
        }
    }

    impl rand_core::TryRng for TestRng {
        type Error = Infallible;
        fn try_next_u32(&mut self) -> Result<u32, Infallible> {
            let mut b = [0u8; 4];
            self.try_fill_bytes(&mut b)?;
            Ok(u32::from_be_bytes(b))
        }
        fn try_next_u64(&mut self) -> Result<u64, Infallible> {
            let mut b = [0u8; 8];
            self.try_fill_bytes(&mut b)?;
            Ok(u64::from_be_bytes(b))
        }
        fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
            for chunk in dst.chunks_mut(32) {
                self.counter += 1;
                let mut h = Sm3::new();
                h.update(self.seed);
                h.update(self.counter.to_be_bytes());
                let block: [u8; 32] = h.finalize().into();
                chunk.copy_from_slice(&block[..chunk.len()]);
            }
            Ok(())
        }
    }

    impl rand_core::TryCryptoRng for TestRng {}

    fn split_key(id: &str) -> (ClientKeyShare, ServerKeyShare) {
        let (keygen, request) = ClientKeygen::start(id).expect("start");
        let (server, response) = ServerKeyShare::keygen(&request).expect("keygen");
        (keygen.finish(&response).expect("finish"), server)
    }

    fn encrypt(public_key: &PublicKey, message: &[u8], rng: &mut TestRng) -> Vec<u8> {
        EncryptingKey::new(*public_key)
            .encrypt_der(rng, message)
            .expect("encrypt")
    }

    const CEK: &[u8] = b"0123456789abcdef";

    fn round(
        client: &ClientKeyShare,
        server: &ServerKeyShare,
        der: &[u8],
        request_id: &str,
    ) -> Result<Zeroizing<Vec<u8>>, DecryptError> {
        let ct = Sm2Ciphertext::from_der(der)?;
        let (session, request) =
            DecryptSession::start(client, request_id, &ct, &mut TestRng::new(2))?;
        let response = server.decrypt_step(client.key_id(), &request, &mut TestRng::new(3))?;
        session.finish(&response)
    }

    #[test]
    fn opens_what_the_sm2_crate_encrypted() {
        let (client, server) = split_key("enc-key-1");
        let mut rng = TestRng::new(1);
        for message in [&b"x"[..], CEK, &[0xA5; 32][..], &[7; 64][..]] {
            let der = encrypt(client.public_key(), message, &mut rng);
            let plain = round(&client, &server, &der, "request-0001").expect("decrypts");
            assert_eq!(&plain[..], message);
        }
    }

    #[test]
    fn the_request_reveals_nothing_of_c1_and_is_deterministic_under_a_seeded_rng() {
        let (client, _server) = split_key("enc-key-2");
        let der = encrypt(client.public_key(), CEK, &mut TestRng::new(1));
        let ct = Sm2Ciphertext::from_der(&der).expect("parse");
        let (_, a) = DecryptSession::start(&client, "request-0001", &ct, &mut TestRng::new(5))
            .expect("start");
        let (_, b) = DecryptSession::start(&client, "request-0001", &ct, &mut TestRng::new(5))
            .expect("start");
        let (_, c) = DecryptSession::start(&client, "request-0001", &ct, &mut TestRng::new(6))
            .expect("start");
        assert_eq!(a, b);
        assert_ne!(a.t1, c.t1);
        assert_ne!(
            a.t1,
            HexPoint::from_point_uncompressed(&ct.c1.to_projective())
        );
    }

    /// Start a round and return what a lying server needs.
    fn started(
        client: &ClientKeyShare,
        request_id: &str,
    ) -> (DecryptSession, DecryptRequest, Vec<u8>) {
        let der = encrypt(client.public_key(), CEK, &mut TestRng::new(1));
        let ct = Sm2Ciphertext::from_der(&der).expect("parse");
        let (s, r) =
            DecryptSession::start(client, request_id, &ct, &mut TestRng::new(9)).expect("start");
        (s, r, der)
    }

    fn misbehaved(r: Result<Zeroizing<Vec<u8>>, DecryptError>) {
        match r {
            Err(DecryptError::ServerMisbehaved(_)) => {}
            Err(other) => panic!("expected ServerMisbehaved, got {other:?}"),
            Ok(_) => panic!("a lying server made the phone release plaintext"),
        }
    }

    #[test]
    fn a_lying_server_never_yields_plaintext() {
        let (client, server) = split_key("enc-key-3");
        let id = client.key_id().to_owned();
        let mut rng = TestRng::new(4);

        // Random T2 with the honest proof of another point.
        let (session, request, _) = started(&client, "request-0001");
        let honest = server.decrypt_step(&id, &request, &mut rng).expect("step");
        let random =
            ProjectivePoint::mul_by_generator(&HexScalar([0x42; 32]).nonzero("r").expect("scalar"));
        let lie = DecryptResponse {
            t2: HexPoint::from_point_uncompressed(&random),
            ..honest.clone()
        };
        misbehaved(session.finish(&lie));

        // T2 of a different T1, with its (valid) proof: a correct proof over a wrong T1.
        let (session, request, _) = started(&client, "request-0002");
        let (_, other_request, _) = {
            let der = encrypt(client.public_key(), CEK, &mut TestRng::new(11));
            let ct = Sm2Ciphertext::from_der(&der).expect("parse");
            let (s, r) = DecryptSession::start(&client, "request-0002", &ct, &mut TestRng::new(12))
                .expect("start");
            (s, r, der)
        };
        assert_ne!(request.t1, other_request.t1);
        let other = server
            .decrypt_step(&id, &other_request, &mut rng)
            .expect("step");
        misbehaved(session.finish(&other));

        // A replayed answer (an earlier round's, as it was, and relabelled to this round).
        let (session, _, _) = started(&client, "request-0003");
        misbehaved(session.finish(&honest));
        let (session, _, _) = started(&client, "request-0003");
        let relabelled = DecryptResponse {
            request_id: "request-0003".into(),
            ..honest.clone()
        };
        misbehaved(session.finish(&relabelled));

        // The identity and a non-point as T2.
        let (session, request, _) = started(&client, "request-0004");
        let answer = server.decrypt_step(&id, &request, &mut rng).expect("step");
        let identity = DecryptResponse {
            t2: HexPoint(vec![0u8; 65]),
            ..answer.clone()
        };
        misbehaved(session.finish(&identity));
        let (session, _, _) = started(&client, "request-0004");
        let mut off = answer.t2.0.clone();
        off[64] ^= 1;
        misbehaved(session.finish(&DecryptResponse {
            t2: HexPoint(off),
            ..answer.clone()
        }));

        // T2 = T1 (the server skipped its share) or C1-derived: the proof fails.
        let (session, request, der) = started(&client, "request-0005");
        let ct = Sm2Ciphertext::from_der(&der).expect("parse");
        misbehaved(session.finish(&DecryptResponse {
            t2: request.t1.clone(),
            ..server.decrypt_step(&id, &request, &mut rng).expect("step")
        }));
        let (session, request, _) = started(&client, "request-0005");
        misbehaved(session.finish(&DecryptResponse {
            t2: HexPoint::from_point_uncompressed(&ct.c1.to_projective()),
            ..server.decrypt_step(&id, &request, &mut rng).expect("step")
        }));

        // Another key's share answering (a server that mixed up keys).
        let (_, wrong_server) = split_key("enc-key-4");
        let (session, request, _) = started(&client, "request-0006");
        misbehaved(
            session.finish(
                &wrong_server
                    .decrypt_step(&id, &request, &mut rng)
                    .expect("step"),
            ),
        );

        // A tampered proof.
        let (session, request, _) = started(&client, "request-0007");
        let mut answer = server.decrypt_step(&id, &request, &mut rng).expect("step");
        answer.proof.z.0[31] ^= 1;
        misbehaved(session.finish(&answer));

        // After all of that, the honest round still opens.
        let (session, request, _) = started(&client, "request-0008");
        let answer = server.decrypt_step(&id, &request, &mut rng).expect("step");
        assert_eq!(&session.finish(&answer).expect("opens")[..], CEK);
    }

    #[test]
    fn the_server_checks_t1_and_ids() {
        let (client, server) = split_key("enc-key-5");
        let (_, request, _) = started(&client, "request-0001");
        let mut rng = TestRng::new(4);
        let id = client.key_id();
        let mut bad = request.clone();
        bad.t1 = HexPoint(vec![0u8; 65]);
        assert_eq!(
            server.decrypt_step(id, &bad, &mut rng),
            Err(CosignError::InvalidPoint("t1"))
        );
        assert_eq!(
            server.decrypt_step("other-key", &request, &mut rng),
            Err(CosignError::Malformed("key_id"))
        );
        let mut bad = request.clone();
        bad.v = 2;
        assert_eq!(
            server.decrypt_step(id, &bad, &mut rng),
            Err(CosignError::UnsupportedVersion(2))
        );
        let mut bad = request;
        bad.request_id = "bad id!".into();
        assert_eq!(
            server.decrypt_step(id, &bad, &mut rng),
            Err(CosignError::Malformed("request_id"))
        );
    }

    #[test]
    fn a_ciphertext_for_another_key_or_altered_fails_c3() {
        let (client, server) = split_key("enc-key-6");
        let (other, _) = split_key("enc-key-7");
        let der = encrypt(other.public_key(), CEK, &mut TestRng::new(1));
        assert_eq!(
            round(&client, &server, &der, "request-0001"),
            Err(DecryptError::CheckFailed)
        );
        // Flip a bit of C2 (the last byte of the DER) and of C3.
        let der = encrypt(client.public_key(), CEK, &mut TestRng::new(1));
        let mut flipped = der.clone();
        let last = flipped.len() - 1;
        flipped[last] ^= 0x80;
        assert_eq!(
            round(&client, &server, &flipped, "request-0002"),
            Err(DecryptError::CheckFailed)
        );
        let mut flipped = der;
        let c3_byte = flipped.len() - CEK.len() - 2 - 5;
        flipped[c3_byte] ^= 1;
        assert_eq!(
            round(&client, &server, &flipped, "request-0003"),
            Err(DecryptError::CheckFailed)
        );
    }

    #[test]
    fn malformed_ciphertexts_are_refused() {
        let (client, _) = split_key("enc-key-8");
        let der = encrypt(client.public_key(), CEK, &mut TestRng::new(1));
        let mut trailing = der.clone();
        trailing.push(0);
        let long = encrypt(client.public_key(), &[1; 65], &mut TestRng::new(1));
        let raw = EncryptingKey::new(*client.public_key())
            .encrypt(&mut TestRng::new(1), CEK)
            .expect("raw");
        let mut off_curve = der.clone();
        off_curve[5] ^= 1; // inside x
        for bad in [
            &trailing[..],
            &long[..],
            &raw[..],
            &off_curve[..],
            &[][..],
            &der[..10],
        ] {
            assert!(
                matches!(
                    Sm2Ciphertext::from_der(bad),
                    Err(DecryptError::Ciphertext(_))
                ),
                "{}",
                hex::encode(bad)
            );
        }
    }

    #[test]
    fn kdf_matches_the_standard_example_length_and_counter() {
        // KDF(Z, 40) = H(Z||1) || H(Z||2)[..8].
        let z = [3u8; 64];
        let t = kdf(&z, 40);
        let mut h = Sm3::new();
        h.update(z);
        h.update(1u32.to_be_bytes());
        let first: [u8; 32] = h.finalize().into();
        let mut h = Sm3::new();
        h.update(z);
        h.update(2u32.to_be_bytes());
        let second: [u8; 32] = h.finalize().into();
        assert_eq!(&t[..32], &first);
        assert_eq!(&t[32..], &second[..8]);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(16))]

        #[test]
        fn any_short_message_round_trips(message in proptest::collection::vec(any::<u8>(), 1..=64), seed in any::<u8>()) {
            let (client, server) = split_key("enc-key-9");
            let der = encrypt(client.public_key(), &message, &mut TestRng::new(seed));
            let plain = round(&client, &server, &der, "request-0001").expect("decrypts");
            prop_assert_eq!(&plain[..], &message[..]);
        }

        #[test]
        fn any_random_t2_is_refused(bytes in any::<[u8; 32]>()) {
            let (client, server) = split_key("enc-key-10");
            let (session, request, _) = started(&client, "request-0001");
            let honest = server.decrypt_step(client.key_id(), &request, &mut TestRng::new(1)).expect("step");
            let Ok(s) = HexScalar(bytes).nonzero("s") else {
                return Ok(());
            };
            let lie = DecryptResponse { t2: HexPoint::from_point_uncompressed(&ProjectivePoint::mul_by_generator(&s)), ..honest };
            prop_assert!(matches!(session.finish(&lie), Err(DecryptError::ServerMisbehaved(_))));
        }
    }
}
