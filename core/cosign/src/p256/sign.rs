//! Two-party P-256 signing (DKLs23 `sign_phase1..4`, 2-of-2) in two round trips.

use std::collections::BTreeMap;

use dkls23_core::protocols::signing::{
    Broadcast3to4, KeepPhase2to3, SignData, TransmitPhase1to2, TransmitPhase2to3, UniqueKeep1to2,
    UniqueKeep2to3,
};
use dkls23_core::protocols::{AbortReason, PartyIndex};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::P256CosignError;
use super::keygen::wire_message;
use super::share::{PhoneShare, ServerShare};
use super::wire::{
    decode, encode, non_identity, phone_index, random32, routed, server_index, sha256,
};

type Curve = ::p256::NistP256;

const KIND_SIGN_1: u8 = 0x11;
const KIND_SIGN_REPLY_1: u8 = 0x12;
const KIND_SIGN_2: u8 = 0x13;
const KIND_SIGN_REPLY_2: u8 = 0x14;
const KIND_SERVER_PENDING: u8 = 0x21;

/// Limit of [`SignRound1`]: twice the measured size.
pub const MAX_SIGN_1_BYTES: usize = 54_000;
/// Limit of [`SignReply1`].
pub const MAX_SIGN_REPLY_1_BYTES: usize = 165_000;
/// Limit of [`SignRound2`].
pub const MAX_SIGN_2_BYTES: usize = 111_000;
/// Limit of [`SignReply2`].
pub const MAX_SIGN_REPLY_2_BYTES: usize = 200;
/// Limit of a stored [`ServerSignPending`].
pub const MAX_SERVER_PENDING_BYTES: usize = 42_000;

fn check_phase1(
    m: &TransmitPhase1to2,
    from: PartyIndex,
    to: PartyIndex,
    what: &'static str,
) -> Result<(), P256CosignError> {
    routed(&m.parties, from, to, what)
}

fn check_phase2(
    m: &TransmitPhase2to3<Curve>,
    from: PartyIndex,
    to: PartyIndex,
    what: &'static str,
) -> Result<(), P256CosignError> {
    routed(&m.parties, from, to, what)?;
    for point in [&m.gamma_u, &m.gamma_v, &m.public_share, &m.instance_point] {
        non_identity(point, what)?;
    }
    Ok(())
}

/// Turns the library's hex `r` and `s` into a `p256` signature and verifies it against the
/// joint key over the SHA-256 digest. Nothing is released unless this passes.
fn verified_signature(
    public_key: &::p256::PublicKey,
    digest: &[u8; 32],
    r_hex: &str,
    s_hex: &str,
) -> Result<::p256::ecdsa::Signature, P256CosignError> {
    use ::p256::ecdsa::signature::hazmat::PrehashVerifier;
    let mut rs = [0u8; 64];
    let (r, s) = rs.split_at_mut(32);
    hex::decode_to_slice(r_hex, r).map_err(|_| P256CosignError::SignatureInvalid)?;
    hex::decode_to_slice(s_hex, s).map_err(|_| P256CosignError::SignatureInvalid)?;
    let signature =
        ::p256::ecdsa::Signature::from_slice(&rs).map_err(|_| P256CosignError::SignatureInvalid)?;
    ::p256::ecdsa::VerifyingKey::from(public_key)
        .verify_prehash(digest, &signature)
        .map_err(|_| P256CosignError::SignatureInvalid)?;
    Ok(signature)
}

/// The library's phase 4 verifies the signature itself; its failure is our `SignatureInvalid`.
fn phase4_error(abort: dkls23_core::protocols::Abort) -> P256CosignError {
    if abort.reason == AbortReason::SignatureVerificationFailed {
        P256CosignError::SignatureInvalid
    } else {
        abort.into()
    }
}

// ---------------------------------------------------------------------------------------------
// Messages

#[derive(Serialize, Deserialize)]
struct Sign1Body {
    sign_id: [u8; 32],
    phase1: TransmitPhase1to2,
}

impl Sign1Body {
    fn check(&self) -> Result<(), P256CosignError> {
        check_phase1(&self.phase1, phone_index(), server_index(), "sign round 1")
    }
}

/// Phone → server, trip 1 (≈27 KB): a fresh 32-byte signing-session id and the phone's
/// phase-1 message (OT-extension data and its nonce commitment). The message itself travels
/// beside it; the server hashes it.
pub struct SignRound1 {
    encoded: Zeroizing<Vec<u8>>,
    body: Sign1Body,
}
wire_message!(
    SignRound1,
    Sign1Body,
    KIND_SIGN_1,
    MAX_SIGN_1_BYTES,
    "sign round 1"
);

impl SignRound1 {
    /// The signing-session id the phone chose. The server must refuse one it has seen before.
    pub fn sign_id(&self) -> &[u8; 32] {
        &self.body.sign_id
    }
}

#[derive(Serialize, Deserialize)]
struct SignReply1Body {
    sign_id: [u8; 32],
    phase1: TransmitPhase1to2,
    phase2: TransmitPhase2to3<Curve>,
}

impl SignReply1Body {
    fn check(&self) -> Result<(), P256CosignError> {
        let what = "sign reply 1";
        check_phase1(&self.phase1, server_index(), phone_index(), what)?;
        check_phase2(&self.phase2, server_index(), phone_index(), what)
    }
}

/// Server → phone, trip 1 (≈82 KB): the server's phase-1 and phase-2 messages.
pub struct SignReply1 {
    encoded: Zeroizing<Vec<u8>>,
    body: SignReply1Body,
}
wire_message!(
    SignReply1,
    SignReply1Body,
    KIND_SIGN_REPLY_1,
    MAX_SIGN_REPLY_1_BYTES,
    "sign reply 1"
);

#[derive(Serialize, Deserialize)]
struct Sign2Body {
    sign_id: [u8; 32],
    phase2: TransmitPhase2to3<Curve>,
    broadcast: Broadcast3to4<Curve>,
}

impl Sign2Body {
    fn check(&self) -> Result<(), P256CosignError> {
        check_phase2(&self.phase2, phone_index(), server_index(), "sign round 2")
    }
}

/// Phone → server, trip 2 (≈55 KB): the phone's phase-2 message and its phase-3 broadcast.
pub struct SignRound2 {
    encoded: Zeroizing<Vec<u8>>,
    body: Sign2Body,
}
wire_message!(
    SignRound2,
    Sign2Body,
    KIND_SIGN_2,
    MAX_SIGN_2_BYTES,
    "sign round 2"
);

impl SignRound2 {
    /// The signing-session id this message continues (the server finds its pending state by
    /// it).
    pub fn sign_id(&self) -> &[u8; 32] {
        &self.body.sign_id
    }
}

#[derive(Serialize, Deserialize)]
struct SignReply2Body {
    sign_id: [u8; 32],
    broadcast: Broadcast3to4<Curve>,
}

impl SignReply2Body {
    fn check(&self) -> Result<(), P256CosignError> {
        Ok(())
    }
}

/// Server → phone, trip 2 (≈100 B): the server's phase-3 broadcast, sent only after the
/// server assembled and verified the signature.
pub struct SignReply2 {
    encoded: Zeroizing<Vec<u8>>,
    body: SignReply2Body,
}
wire_message!(
    SignReply2,
    SignReply2Body,
    KIND_SIGN_REPLY_2,
    MAX_SIGN_REPLY_2_BYTES,
    "sign reply 2"
);

// ---------------------------------------------------------------------------------------------
// Phone

/// The phone's signing session after trip 1's request. Kept phase data is not `Clone` and
/// every step consumes the state, so a phase cannot run twice.
pub struct PhoneSign<'a> {
    share: &'a PhoneShare,
    data: SignData,
    unique: UniqueKeep1to2<Curve>,
    kept: BTreeMap<PartyIndex, dkls23_core::protocols::signing::KeepPhase1to2<Curve>>,
}

impl std::fmt::Debug for PhoneSign<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PhoneSign").finish_non_exhaustive()
    }
}

impl<'a> PhoneSign<'a> {
    /// Starts signing `message` (ECDSA with SHA-256): a fresh session id from `rng` and the
    /// phone's phase 1. The library draws its nonces from the operating system.
    pub fn start<R: rand_core::TryCryptoRng + ?Sized>(
        share: &'a PhoneShare,
        message: &[u8],
        rng: &mut R,
    ) -> Result<(PhoneSign<'a>, SignRound1), P256CosignError> {
        let sign_id = random32(rng)?;
        let data = SignData {
            sign_id: sign_id.to_vec(),
            counterparties: vec![server_index()],
            message_hash: sha256(message),
        };
        let (unique, kept, transmit) = share.0.party.sign_phase1(&data)?;
        let Ok([phase1]) = <[_; 1]>::try_from(transmit) else {
            return Err(P256CosignError::Malformed("sign phase 1 output"));
        };
        let message = SignRound1::new(Sign1Body { sign_id, phase1 })?;
        Ok((
            PhoneSign {
                share,
                data,
                unique,
                kept,
            },
            message,
        ))
    }

    /// Handles trip 1's answer: phase 2 over the server's phase-1 message, phase 3 over its
    /// phase-2 message (the library's multiplication, gamma and OT-consistency checks).
    pub fn receive(
        self,
        reply: &SignReply1,
    ) -> Result<(PhoneSignFinish<'a>, SignRound2), P256CosignError> {
        if reply.body.sign_id[..] != self.data.sign_id[..] {
            return Err(P256CosignError::SessionMismatch);
        }
        let party = &self.share.0.party;
        let (unique, kept, transmit) = party.sign_phase2(
            &self.data,
            self.unique,
            self.kept,
            std::slice::from_ref(&reply.body.phase1),
        )?;
        let Ok([phase2]) = <[_; 1]>::try_from(transmit) else {
            return Err(P256CosignError::Malformed("sign phase 2 output"));
        };
        let (x_coord, broadcast) = party.sign_phase3(
            &self.data,
            unique,
            kept,
            std::slice::from_ref(&reply.body.phase2),
        )?;
        let mut sign_id = [0u8; 32];
        sign_id.copy_from_slice(&self.data.sign_id);
        let message = SignRound2::new(Sign2Body {
            sign_id,
            phase2,
            broadcast: broadcast.clone(),
        })?;
        Ok((
            PhoneSignFinish {
                share: self.share,
                data: self.data,
                x_coord,
                broadcast,
            },
            message,
        ))
    }
}

/// The phone's signing session after trip 2's request.
pub struct PhoneSignFinish<'a> {
    share: &'a PhoneShare,
    data: SignData,
    x_coord: String,
    broadcast: Broadcast3to4<Curve>,
}

impl std::fmt::Debug for PhoneSignFinish<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PhoneSignFinish").finish_non_exhaustive()
    }
}

impl PhoneSignFinish<'_> {
    /// Handles trip 2's answer: phase 4, then verification of `(r, s)` with `p256::ecdsa`
    /// against the joint key. Only a verified signature is returned.
    pub fn finish(self, reply: &SignReply2) -> Result<::p256::ecdsa::Signature, P256CosignError> {
        if reply.body.sign_id[..] != self.data.sign_id[..] {
            return Err(P256CosignError::SessionMismatch);
        }
        let (s_hex, _recovery) = self
            .share
            .0
            .party
            .sign_phase4(
                &self.data,
                &self.x_coord,
                &[self.broadcast.clone(), reply.body.broadcast.clone()],
                true,
            )
            .map_err(phase4_error)?;
        verified_signature(
            &self.share.0.public_key,
            &self.data.message_hash,
            &self.x_coord,
            &s_hex,
        )
    }
}

// ---------------------------------------------------------------------------------------------
// Server

#[derive(Serialize)]
struct PendingRef<'a> {
    public_key: &'a [u8],
    data: &'a SignData,
    unique: &'a UniqueKeep2to3<Curve>,
    kept: &'a BTreeMap<PartyIndex, KeepPhase2to3<Curve>>,
}

#[derive(Deserialize)]
struct PendingOwned {
    public_key: Vec<u8>,
    data: SignData,
    unique: UniqueKeep2to3<Curve>,
    kept: BTreeMap<PartyIndex, KeepPhase2to3<Curve>>,
}

/// The server's signing session between trip 1 and trip 2: the library's kept phase-2 data
/// (secret; wiped on drop), the session's data and the key it belongs to.
///
/// The caller seals [`Self::into_bytes`] (AES-GCM under the vault, associated data: key id and
/// session id) into a single-use row and consumes the row when it reads it back: the data must
/// never be used twice.
pub struct ServerSignPending {
    public_key: Vec<u8>,
    data: SignData,
    unique: UniqueKeep2to3<Curve>,
    kept: BTreeMap<PartyIndex, KeepPhase2to3<Curve>>,
}

impl std::fmt::Debug for ServerSignPending {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerSignPending").finish_non_exhaustive()
    }
}

fn key_bytes(public_key: &::p256::PublicKey) -> Vec<u8> {
    use ::p256::elliptic_curve::sec1::ToSec1Point;
    public_key.to_sec1_point(true).as_bytes().to_vec()
}

impl ServerSignPending {
    /// Handles trip 1: hashes `message` itself (SHA-256; never a digest from the phone), runs
    /// the server's phase 1 and phase 2 over the phone's phase-1 message, and answers with both
    /// of its messages. The caller must have checked that the request's
    /// [`SignRound1::sign_id`] was never used before for this key.
    pub fn respond(
        share: &ServerShare,
        message: &[u8],
        request: &SignRound1,
    ) -> Result<(ServerSignPending, SignReply1), P256CosignError> {
        let party = &share.0.party;
        let data = SignData {
            sign_id: request.body.sign_id.to_vec(),
            counterparties: vec![phone_index()],
            message_hash: sha256(message),
        };
        let (unique1, kept1, transmit1) = party.sign_phase1(&data)?;
        let (unique, kept, transmit2) = party.sign_phase2(
            &data,
            unique1,
            kept1,
            std::slice::from_ref(&request.body.phase1),
        )?;
        let (Ok([phase1]), Ok([phase2])) =
            (<[_; 1]>::try_from(transmit1), <[_; 1]>::try_from(transmit2))
        else {
            return Err(P256CosignError::Malformed("sign phase output"));
        };
        let reply = SignReply1::new(SignReply1Body {
            sign_id: request.body.sign_id,
            phase1,
            phase2,
        })?;
        Ok((
            ServerSignPending {
                public_key: key_bytes(&share.0.public_key),
                data,
                unique,
                kept,
            },
            reply,
        ))
    }

    /// Serializes the pending session for sealing, consuming it: `[version][kind][postcard]`.
    pub fn into_bytes(self) -> Result<Zeroizing<Vec<u8>>, P256CosignError> {
        encode(
            KIND_SERVER_PENDING,
            &PendingRef {
                public_key: &self.public_key,
                data: &self.data,
                unique: &self.unique,
                kept: &self.kept,
            },
            "server signing state",
        )
    }

    /// Reads a pending session back from its (unsealed) bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, P256CosignError> {
        let what = "server signing state";
        let owned: PendingOwned =
            decode(bytes, KIND_SERVER_PENDING, MAX_SERVER_PENDING_BYTES, what)?;
        if owned.data.sign_id.len() != 32
            || owned.data.counterparties != [phone_index()]
            || owned.kept.len() != 1
            || !owned.kept.contains_key(&phone_index())
        {
            return Err(P256CosignError::Malformed(what));
        }
        Ok(ServerSignPending {
            public_key: owned.public_key,
            data: owned.data,
            unique: owned.unique,
            kept: owned.kept,
        })
    }

    /// Handles trip 2: phase 3 over the phone's phase-2 message (the library's multiplication,
    /// gamma and OT-consistency checks), phase 4 with both broadcasts (the library verifies
    /// the signature), then our own `p256::ecdsa` verification. Returns the verified signature
    /// and the answer, which carries the server's broadcast.
    pub fn finish(
        self,
        share: &ServerShare,
        request: &SignRound2,
    ) -> Result<(::p256::ecdsa::Signature, SignReply2), P256CosignError> {
        if key_bytes(&share.0.public_key) != self.public_key
            || request.body.sign_id[..] != self.data.sign_id[..]
        {
            return Err(P256CosignError::SessionMismatch);
        }
        let party = &share.0.party;
        let (x_coord, broadcast) = party.sign_phase3(
            &self.data,
            self.unique,
            self.kept,
            std::slice::from_ref(&request.body.phase2),
        )?;
        let (s_hex, _recovery) = party
            .sign_phase4(
                &self.data,
                &x_coord,
                &[broadcast.clone(), request.body.broadcast.clone()],
                true,
            )
            .map_err(phase4_error)?;
        let signature = verified_signature(
            &share.0.public_key,
            &self.data.message_hash,
            &x_coord,
            &s_hex,
        )?;
        let reply = SignReply2::new(SignReply2Body {
            sign_id: request.body.sign_id,
            broadcast,
        })?;
        Ok((signature, reply))
    }
}

/// Project Wycheproof's P-256/SHA-256 vectors in IEEE P1363 form (`r ‖ s`), the form the
/// library hands over, through the check that stands before every release of a co-signed
/// signature. The data and its licence are kept with the PDF crate's vectors.
#[cfg(test)]
mod wycheproof {
    use super::verified_signature;
    use sha2::{Digest, Sha256};

    #[test]
    fn p1363_vectors_through_the_release_check() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../pdf/tests/data/wycheproof/ecdsa_secp256r1_sha256_p1363_test.json"
        );
        let text = std::fs::read_to_string(path).expect("vectors");
        let json: serde_json::Value = serde_json::from_str(&text).expect("json");
        let (mut valid, mut invalid, mut wrong) = (0, 0, Vec::new());
        for group in json["testGroups"].as_array().expect("groups") {
            let key = ::p256::PublicKey::from_sec1_bytes(
                &hex::decode(group["publicKey"]["uncompressed"].as_str().expect("key"))
                    .expect("hex"),
            )
            .expect("a P-256 point");
            for t in group["tests"].as_array().expect("tests") {
                let message = hex::decode(t["msg"].as_str().expect("msg")).expect("hex");
                let digest: [u8; 32] = Sha256::digest(&message).into();
                let sig = t["sig"].as_str().expect("sig");
                // Anything but 32 + 32 bytes is refused before it is looked at.
                let released = sig.len() == 128
                    && verified_signature(&key, &digest, &sig[..64], &sig[64..]).is_ok();
                match t["result"].as_str() {
                    Some("valid") => {
                        valid += 1;
                        if !released {
                            wrong.push(t["tcId"].clone());
                        }
                    }
                    Some("invalid") => {
                        invalid += 1;
                        if released {
                            wrong.push(t["tcId"].clone());
                        }
                    }
                    other => panic!("unexpected result {other:?}"),
                }
            }
        }
        assert!(wrong.is_empty(), "vectors judged wrongly: {wrong:?}");
        assert_eq!((valid, invalid), (173, 89));
    }
}
