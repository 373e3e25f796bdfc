//! Two-party P-256 key generation (DKLs23 DKG, 2-of-2) in two round trips.

use std::collections::BTreeMap;

use dkls23_core::DkgSession;
use dkls23_core::protocols::PartyIndex;
use dkls23_core::protocols::dkg::{
    self, BroadcastDerivationPhase2to4, BroadcastDerivationPhase3to4, KeepInitZeroSharePhase2to3,
    ProofCommitment, SessionData, TransmitInitMulPhase3to4, TransmitInitZeroSharePhase2to4,
    TransmitInitZeroSharePhase3to4, UniqueKeepDerivationPhase2to3,
};
use dkls23_core::utilities::proofs::DLogProof;
use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, Zeroizing};

use super::P256CosignError;
use super::share::{PhoneShare, ServerShare, Share};
use super::wire::{
    decode, encode, non_identity, parameters, phone_index, random32, routed, server_index,
};

type Curve = ::p256::NistP256;
type Scalar = ::p256::Scalar;

const KIND_KEYGEN_1: u8 = 0x01;
const KIND_KEYGEN_REPLY_1: u8 = 0x02;
const KIND_KEYGEN_2: u8 = 0x03;
const KIND_KEYGEN_REPLY_2: u8 = 0x04;
const KIND_SERVER_KEYGEN: u8 = 0x22;

/// Size limits: twice the measured encodings (see the module docs for the measured sizes).
pub const MAX_KEYGEN_1_BYTES: usize = 140;
/// Limit of [`KeygenReply1`].
pub const MAX_KEYGEN_REPLY_1_BYTES: usize = 340;
/// Limit of [`KeygenRound2`].
pub const MAX_KEYGEN_2_BYTES: usize = 300_000;
/// Limit of [`KeygenReply2`].
pub const MAX_KEYGEN_REPLY_2_BYTES: usize = 300_000;
/// Limit of a stored [`ServerKeygen`]: about twice the measured 4,973 bytes.
pub const MAX_SERVER_KEYGEN_BYTES: usize = 10_000;

/// Domain tag of the joint key-generation session id.
const DKG_SESSION_TAG: &[u8] = b"inkseal/p256-cosign/dkg/v1";

/// The session id both parties feed to the DKG: SHA-256 of a tag and both parties' nonces,
/// so neither side alone chooses it and an old session's messages cannot be replayed.
fn dkg_session_id(phone_nonce: &[u8; 32], server_nonce: &[u8; 32]) -> [u8; 32] {
    use sha2::Digest;
    let mut h = sha2::Sha256::new();
    h.update(DKG_SESSION_TAG);
    h.update(phone_nonce);
    h.update(server_nonce);
    h.finalize().into()
}

fn check_proof(proof: &DLogProof<Curve>, what: &'static str) -> Result<(), P256CosignError> {
    non_identity(&proof.point, what)?;
    proof
        .rand_commitments
        .iter()
        .try_for_each(|p| non_identity(p, what))
}

macro_rules! wire_message {
    ($name:ident, $body:ident, $kind:expr, $max:expr, $what:literal) => {
        impl $name {
            /// Decodes the message, refusing oversized input, another version or kind,
            /// trailing bytes and values that fail our own checks.
            pub fn from_bytes(bytes: &[u8]) -> Result<Self, P256CosignError> {
                let body: $body = decode(bytes, $kind, $max, $what)?;
                body.check()?;
                Ok($name {
                    encoded: Zeroizing::new(bytes.to_vec()),
                    body,
                })
            }

            fn new(body: $body) -> Result<Self, P256CosignError> {
                let encoded = encode($kind, &body, $what)?;
                Ok($name { encoded, body })
            }

            /// The encoded message, to send.
            pub fn as_bytes(&self) -> &[u8] {
                &self.encoded
            }
        }

        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct(stringify!($name))
                    .field("bytes", &self.encoded.len())
                    .finish_non_exhaustive()
            }
        }
    };
}
pub(crate) use wire_message;

// ---------------------------------------------------------------------------------------------
// Messages

#[derive(Serialize, Deserialize)]
struct Keygen1Body {
    phone_nonce: [u8; 32],
    /// `p_phone(2)`: secret, for the server only.
    fragment: Scalar,
}

impl Keygen1Body {
    fn check(&self) -> Result<(), P256CosignError> {
        Ok(())
    }
}

impl Drop for Keygen1Body {
    fn drop(&mut self) {
        self.fragment.zeroize();
    }
}

/// Phone → server, trip 1: the phone's nonce and its polynomial fragment for the server
/// (secret: it travels only inside TLS and is never logged; wiped on drop).
pub struct KeygenRound1 {
    encoded: Zeroizing<Vec<u8>>,
    body: Keygen1Body,
}
wire_message!(
    KeygenRound1,
    Keygen1Body,
    KIND_KEYGEN_1,
    MAX_KEYGEN_1_BYTES,
    "keygen round 1"
);

#[derive(Serialize, Deserialize)]
struct KeygenReply1Body {
    server_nonce: [u8; 32],
    /// `p_server(1)`: secret, for the phone only.
    fragment: Scalar,
    /// Commitment to the server's DLog proof of its polynomial point.
    proof_commitment: [u8; 32],
    zero_commitment: TransmitInitZeroSharePhase2to4,
    chain_code_commitment: BroadcastDerivationPhase2to4,
}

impl KeygenReply1Body {
    fn check(&self) -> Result<(), P256CosignError> {
        let what = "keygen reply 1";
        routed(
            &self.zero_commitment.parties,
            server_index(),
            phone_index(),
            what,
        )?;
        if self.chain_code_commitment.sender_index != server_index() {
            return Err(P256CosignError::Malformed(what));
        }
        Ok(())
    }
}

impl Drop for KeygenReply1Body {
    fn drop(&mut self) {
        self.fragment.zeroize();
    }
}

/// Server → phone, trip 1: the server's nonce, its fragment for the phone (secret) and its
/// commitments (DLog proof, zero-share seed, chain code), which it opens only in trip 2.
pub struct KeygenReply1 {
    encoded: Zeroizing<Vec<u8>>,
    body: KeygenReply1Body,
}
wire_message!(
    KeygenReply1,
    KeygenReply1Body,
    KIND_KEYGEN_REPLY_1,
    MAX_KEYGEN_REPLY_1_BYTES,
    "keygen reply 1"
);

#[derive(Serialize, Deserialize)]
struct Keygen2Body {
    session_id: [u8; 32],
    proof_commitment: ProofCommitment<Curve>,
    zero_commitment: TransmitInitZeroSharePhase2to4,
    chain_code_commitment: BroadcastDerivationPhase2to4,
    zero_seed: TransmitInitZeroSharePhase3to4,
    mul_init: TransmitInitMulPhase3to4<Curve>,
    chain_code: BroadcastDerivationPhase3to4,
}

impl Keygen2Body {
    fn check(&self) -> Result<(), P256CosignError> {
        let what = "keygen round 2";
        let (us, them) = (phone_index(), server_index());
        if self.proof_commitment.index != us
            || self.chain_code_commitment.sender_index != us
            || self.chain_code.sender_index != us
        {
            return Err(P256CosignError::Malformed(what));
        }
        routed(&self.zero_commitment.parties, us, them, what)?;
        routed(&self.zero_seed.parties, us, them, what)?;
        routed(&self.mul_init.parties, us, them, what)?;
        check_proof(&self.proof_commitment.proof, what)?;
        check_proof(&self.mul_init.dlog_proof, what)
    }
}

/// Phone → server, trip 2: all the phone's DKG phase-2 and phase-3 output at once (its DLog
/// proof with commitment, zero-share seed commitment and opening, base-OT setup, chain code).
/// The phone may open at once because the server committed to its own values in trip 1.
pub struct KeygenRound2 {
    encoded: Zeroizing<Vec<u8>>,
    body: Keygen2Body,
}
wire_message!(
    KeygenRound2,
    Keygen2Body,
    KIND_KEYGEN_2,
    MAX_KEYGEN_2_BYTES,
    "keygen round 2"
);

#[derive(Serialize, Deserialize)]
struct KeygenReply2Body {
    session_id: [u8; 32],
    /// The opening of the commitment sent in trip 1.
    proof: DLogProof<Curve>,
    zero_seed: TransmitInitZeroSharePhase3to4,
    mul_init: TransmitInitMulPhase3to4<Curve>,
    chain_code: BroadcastDerivationPhase3to4,
    /// The joint key as the server computed it (SEC1 compressed).
    public_key: Vec<u8>,
}

impl KeygenReply2Body {
    fn check(&self) -> Result<(), P256CosignError> {
        let what = "keygen reply 2";
        let (us, them) = (server_index(), phone_index());
        if self.chain_code.sender_index != us || self.public_key.len() != 33 {
            return Err(P256CosignError::Malformed(what));
        }
        routed(&self.zero_seed.parties, us, them, what)?;
        routed(&self.mul_init.parties, us, them, what)?;
        check_proof(&self.proof, what)?;
        check_proof(&self.mul_init.dlog_proof, what)
    }
}

/// Server → phone, trip 2: the openings of the server's commitments, its base-OT setup and
/// the joint public key it computed.
pub struct KeygenReply2 {
    encoded: Zeroizing<Vec<u8>>,
    body: KeygenReply2Body,
}
wire_message!(
    KeygenReply2,
    KeygenReply2Body,
    KIND_KEYGEN_REPLY_2,
    MAX_KEYGEN_REPLY_2_BYTES,
    "keygen reply 2"
);

// ---------------------------------------------------------------------------------------------
// Phone

/// The phone's key generation before trip 1's answer: its nonce and own polynomial point
/// `p_phone(1)` (wiped on drop).
pub struct PhoneKeygen {
    phone_nonce: [u8; 32],
    own_fragment: Scalar,
}

impl Drop for PhoneKeygen {
    fn drop(&mut self) {
        self.own_fragment.zeroize();
    }
}

impl std::fmt::Debug for PhoneKeygen {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PhoneKeygen").finish_non_exhaustive()
    }
}

impl PhoneKeygen {
    /// Starts key generation: DKG phase 1 (a random degree-1 polynomial evaluated at 1 and 2).
    /// `rng` supplies the phone's session nonce; the library draws its own randomness from
    /// the operating system (`rand::rng()`), which cannot be injected.
    pub fn start<R: rand_core::TryCryptoRng + ?Sized>(
        rng: &mut R,
    ) -> Result<(PhoneKeygen, KeygenRound1), P256CosignError> {
        let data = SessionData {
            parameters: parameters(),
            party_index: phone_index(),
            // Phase 1 does not read the session id; the joint one exists only after trip 1.
            session_id: Vec::new(),
        };
        let mut fragments = Zeroizing::new(dkg::phase1::<Curve>(&data));
        let (own, theirs) = match fragments.as_slice() {
            [own, theirs] => (*own, *theirs),
            _ => return Err(P256CosignError::Malformed("dkg phase 1 output")),
        };
        fragments.zeroize();
        let phone_nonce = random32(rng)?;
        let message = KeygenRound1::new(Keygen1Body {
            phone_nonce,
            fragment: theirs,
        })?;
        Ok((
            PhoneKeygen {
                phone_nonce,
                own_fragment: own,
            },
            message,
        ))
    }

    /// Handles trip 1's answer: DKG phases 2 and 3 under the joint session id. Returns the
    /// state for trip 2 and the message to send.
    pub fn receive(
        self,
        reply: &KeygenReply1,
    ) -> Result<(PhoneKeygenFinish, KeygenRound2), P256CosignError> {
        let server = &reply.body;
        let session_id = dkg_session_id(&self.phone_nonce, &server.server_nonce);
        let mut session =
            DkgSession::<Curve>::new(parameters(), phone_index(), session_id.to_vec());
        let (proof_commitment, zero_commitments, chain_code_commitment) =
            session.phase2(&[self.own_fragment, server.fragment])?;
        let (zero_seeds, mul_inits, chain_code) = session.phase3()?;
        let (Ok([zero_commitment]), Ok([zero_seed]), Ok([mul_init])) = (
            <[_; 1]>::try_from(zero_commitments),
            <[_; 1]>::try_from(zero_seeds),
            <[_; 1]>::try_from(mul_inits),
        ) else {
            return Err(P256CosignError::Malformed("dkg phase output"));
        };
        let message = KeygenRound2::new(Keygen2Body {
            session_id,
            proof_commitment: proof_commitment.clone(),
            zero_commitment,
            chain_code_commitment: chain_code_commitment.clone(),
            zero_seed,
            mul_init,
            chain_code: chain_code.clone(),
        })?;
        Ok((
            PhoneKeygenFinish {
                session,
                session_id,
                own_proof: proof_commitment,
                own_chain_code_commitment: chain_code_commitment,
                own_chain_code: chain_code,
                server_proof_commitment: server.proof_commitment,
                server_zero_commitment: server.zero_commitment.clone(),
                server_chain_code_commitment: server.chain_code_commitment.clone(),
            },
            message,
        ))
    }
}

/// The phone's key generation between trip 2's request and its answer. Its secrets live in
/// the library's `DkgSession`, which wipes itself on drop.
pub struct PhoneKeygenFinish {
    session: DkgSession<Curve>,
    session_id: [u8; 32],
    own_proof: ProofCommitment<Curve>,
    own_chain_code_commitment: BroadcastDerivationPhase2to4,
    own_chain_code: BroadcastDerivationPhase3to4,
    server_proof_commitment: [u8; 32],
    server_zero_commitment: TransmitInitZeroSharePhase2to4,
    server_chain_code_commitment: BroadcastDerivationPhase2to4,
}

impl std::fmt::Debug for PhoneKeygenFinish {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PhoneKeygenFinish").finish_non_exhaustive()
    }
}

impl PhoneKeygenFinish {
    /// Handles trip 2's answer: DKG phase 4 (the library verifies both DLog proofs against
    /// their commitments, the zero-share seed commitment, the chain-code commitment and the
    /// base-OT setup's proofs), then compares the joint key with the server's.
    pub fn finish(self, reply: &KeygenReply2) -> Result<PhoneShare, P256CosignError> {
        let server = &reply.body;
        if server.session_id != self.session_id {
            return Err(P256CosignError::SessionMismatch);
        }
        let server_proof = ProofCommitment {
            index: server_index(),
            proof: server.proof.clone(),
            // The commitment the server sent in trip 1, not anything new.
            commitment: self.server_proof_commitment,
        };
        let chain_code_commitments = BTreeMap::from([
            (phone_index(), self.own_chain_code_commitment.clone()),
            (server_index(), self.server_chain_code_commitment.clone()),
        ]);
        let chain_codes = BTreeMap::from([
            (phone_index(), self.own_chain_code.clone()),
            (server_index(), server.chain_code.clone()),
        ]);
        let (party, _package) = self.session.phase4(
            &[self.own_proof.clone(), server_proof],
            std::slice::from_ref(&self.server_zero_commitment),
            std::slice::from_ref(&server.zero_seed),
            std::slice::from_ref(&server.mul_init),
            &chain_code_commitments,
            &chain_codes,
            |_| String::new(),
        )?;
        let share = Share::from_party(party, phone_index(), server_index(), "phone share")?;
        let claimed = ::p256::PublicKey::from_sec1_bytes(&server.public_key)
            .map_err(|_| P256CosignError::Malformed("keygen reply 2"))?;
        if claimed != share.public_key {
            return Err(P256CosignError::JointKeyMismatch);
        }
        Ok(PhoneShare(share))
    }
}

// ---------------------------------------------------------------------------------------------
// Server

/// The server's key generation between trip 1 and trip 2: the library's kept phase-2 data
/// (its polynomial point, zero-share seed and chain-code opening: secret, wiped on drop), its
/// DLog proof with commitment and its chain-code commitment.
///
/// The caller seals [`Self::into_bytes`] (AES-GCM under the vault, associated data binding the
/// enrollment ticket) into a single-use row and consumes the row when it reads it back, so any
/// replica can run trip 2 and the data is never used twice.
pub struct ServerKeygen(KeygenState);

/// What [`ServerKeygen`] holds, serialized only through its checked constructor.
#[derive(Serialize, Deserialize)]
struct KeygenState {
    session_id: [u8; 32],
    poly_point: Scalar,
    own_proof: ProofCommitment<Curve>,
    zero_kept: BTreeMap<PartyIndex, KeepInitZeroSharePhase2to3>,
    bip_kept: UniqueKeepDerivationPhase2to3,
    own_chain_code_commitment: BroadcastDerivationPhase2to4,
}

impl Drop for KeygenState {
    fn drop(&mut self) {
        self.poly_point.zeroize();
        for kept in self.zero_kept.values_mut() {
            kept.seed.zeroize();
            kept.salt.zeroize();
        }
        self.bip_kept.aux_chain_code.zeroize();
        self.bip_kept.cc_salt.zeroize();
    }
}

impl std::fmt::Debug for ServerKeygen {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerKeygen").finish_non_exhaustive()
    }
}

fn server_session_data(session_id: &[u8; 32]) -> SessionData {
    SessionData {
        parameters: parameters(),
        party_index: server_index(),
        session_id: session_id.to_vec(),
    }
}

impl ServerKeygen {
    /// Handles trip 1: fixes the joint session id, runs DKG phases 1 and 2 and answers with
    /// the server's fragment for the phone and its commitments.
    pub fn respond<R: rand_core::TryCryptoRng + ?Sized>(
        request: &KeygenRound1,
        rng: &mut R,
    ) -> Result<(ServerKeygen, KeygenReply1), P256CosignError> {
        let server_nonce = random32(rng)?;
        let session_id = dkg_session_id(&request.body.phone_nonce, &server_nonce);
        let data = server_session_data(&session_id);
        let mut fragments = Zeroizing::new(dkg::phase1::<Curve>(&data));
        let (for_phone, own) = match fragments.as_slice() {
            [for_phone, own] => (*for_phone, *own),
            _ => return Err(P256CosignError::Malformed("dkg phase 1 output")),
        };
        fragments.zeroize();
        let mut own_fragments = Zeroizing::new([request.body.fragment, own]);
        let (
            poly_point,
            proof_commitment,
            zero_kept,
            zero_commitments,
            bip_kept,
            chain_code_commitment,
        ) = dkg::phase2::<Curve>(&data, own_fragments.as_slice());
        own_fragments.zeroize();
        // Owned from here on, so it is wiped on every path.
        let state = KeygenState {
            session_id,
            poly_point,
            own_proof: proof_commitment,
            zero_kept,
            bip_kept,
            own_chain_code_commitment: chain_code_commitment,
        };
        let Ok([zero_commitment]) = <[_; 1]>::try_from(zero_commitments) else {
            return Err(P256CosignError::Malformed("dkg phase output"));
        };
        let reply = KeygenReply1::new(KeygenReply1Body {
            server_nonce,
            fragment: for_phone,
            proof_commitment: state.own_proof.commitment,
            zero_commitment,
            chain_code_commitment: state.own_chain_code_commitment.clone(),
        })?;
        Ok((ServerKeygen(state), reply))
    }

    /// Serializes the pending key generation for sealing, consuming it:
    /// `[version][kind][postcard]` (the buffer is wiped on drop).
    pub fn into_bytes(self) -> Result<Zeroizing<Vec<u8>>, P256CosignError> {
        encode(KIND_SERVER_KEYGEN, &self.0, "server keygen state")
    }

    /// Reads a pending key generation back from its (unsealed) bytes, refusing oversized
    /// input, another version or kind, trailing bytes and state that is not the server's
    /// (party index, routing) or has the identity as a proof point.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, P256CosignError> {
        let what = "server keygen state";
        let state: KeygenState = decode(bytes, KIND_SERVER_KEYGEN, MAX_SERVER_KEYGEN_BYTES, what)?;
        if state.own_proof.index != server_index()
            || state.own_chain_code_commitment.sender_index != server_index()
            || state.zero_kept.len() != 1
            || !state.zero_kept.contains_key(&phone_index())
        {
            return Err(P256CosignError::Malformed(what));
        }
        check_proof(&state.own_proof.proof, what)?;
        Ok(ServerKeygen(state))
    }

    /// Handles trip 2: DKG phase 3 (the openings), then phase 4 over the phone's messages
    /// (every check of the library: DLog proofs and commitments, zero-share and chain-code
    /// commitments, base-OT and multiplication setup). Answers with the server's openings and
    /// the joint key, which the phone compares with its own.
    pub fn finish(
        self,
        request: &KeygenRound2,
    ) -> Result<(ServerShare, KeygenReply2), P256CosignError> {
        let phone = &request.body;
        if phone.session_id != self.0.session_id {
            return Err(P256CosignError::SessionMismatch);
        }
        let data = server_session_data(&self.0.session_id);
        let (mut zero_kept, zero_seeds, mut mul_kept, mul_inits, chain_code) =
            dkg::phase3::<Curve>(&data, &self.0.zero_kept, &self.0.bip_kept);
        let result = (|| {
            let (Ok([zero_seed]), Ok([mul_init])) = (
                <[_; 1]>::try_from(zero_seeds),
                <[_; 1]>::try_from(mul_inits),
            ) else {
                return Err(P256CosignError::Malformed("dkg phase output"));
            };
            let chain_code_commitments = BTreeMap::from([
                (phone_index(), phone.chain_code_commitment.clone()),
                (server_index(), self.0.own_chain_code_commitment.clone()),
            ]);
            let chain_codes = BTreeMap::from([
                (phone_index(), phone.chain_code.clone()),
                (server_index(), chain_code.clone()),
            ]);
            let (party, _package) = dkg::phase4::<Curve>(
                &data,
                &self.0.poly_point,
                &[phone.proof_commitment.clone(), self.0.own_proof.clone()],
                &zero_kept,
                std::slice::from_ref(&phone.zero_commitment),
                std::slice::from_ref(&phone.zero_seed),
                &mul_kept,
                std::slice::from_ref(&phone.mul_init),
                &chain_code_commitments,
                &chain_codes,
                |_| String::new(),
            )?;
            Ok((party, zero_seed, mul_init))
        })();
        // Wipe phase 3's kept data as the library's own session does.
        for kept in zero_kept.values_mut() {
            kept.seed.zeroize();
        }
        for kept in mul_kept.values_mut() {
            kept.ot_sender.s.zeroize();
            kept.ot_receiver.seed.zeroize();
            kept.nonce.zeroize();
            kept.vec_r.zeroize();
            kept.correlation.zeroize();
        }
        let (party, zero_seed, mul_init) = result?;
        let own_proof = self.0.own_proof.clone();
        let session_id = self.0.session_id;
        let share = Share::from_party(party, server_index(), phone_index(), "server share")?;
        let public_key = {
            use ::p256::elliptic_curve::sec1::ToSec1Point;
            share.public_key.to_sec1_point(true).as_bytes().to_vec()
        };
        let reply = KeygenReply2::new(KeygenReply2Body {
            session_id,
            proof: own_proof.proof,
            zero_seed,
            mul_init,
            chain_code,
            public_key,
        })?;
        Ok((ServerShare(share), reply))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Our nonces from a counter; the library's own randomness comes from the OS.
    struct CounterRng(u64);

    impl rand_core::TryRng for CounterRng {
        type Error = std::convert::Infallible;
        fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
            self.0 += 1;
            Ok(self.0 as u32)
        }
        fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
            self.0 += 1;
            Ok(self.0)
        }
        fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
            for chunk in dst.chunks_mut(32) {
                self.0 += 1;
                let block = super::super::wire::sha256(&self.0.to_le_bytes());
                chunk.copy_from_slice(&block[..chunk.len()]);
            }
            Ok(())
        }
    }
    impl rand_core::TryCryptoRng for CounterRng {}

    #[test]
    fn server_state_through_bytes_finishes_with_the_same_joint_key() {
        let mut rng = CounterRng(0);
        let (phone, m1) = PhoneKeygen::start(&mut rng).expect("start");
        let m1 = KeygenRound1::from_bytes(m1.as_bytes()).expect("round 1");
        let (server, r1) = ServerKeygen::respond(&m1, &mut rng).expect("respond");
        let bytes = server.into_bytes().expect("into_bytes");
        eprintln!("server keygen state: {} bytes", bytes.len());
        assert!(bytes.len() <= MAX_SERVER_KEYGEN_BYTES);
        let server = ServerKeygen::from_bytes(&bytes).expect("from_bytes");
        let r1 = KeygenReply1::from_bytes(r1.as_bytes()).expect("reply 1");
        let (phone, m2) = phone.receive(&r1).expect("receive");
        let m2 = KeygenRound2::from_bytes(m2.as_bytes()).expect("round 2");
        let (server_share, r2) = server.finish(&m2).expect("server finish");
        let r2 = KeygenReply2::from_bytes(r2.as_bytes()).expect("reply 2");
        let phone_share = phone.finish(&r2).expect("phone finish");
        assert_eq!(phone_share.public_key(), server_share.public_key());
    }

    #[test]
    fn garbage_server_state_is_a_typed_error() {
        let mut rng = CounterRng(7);
        let (_phone, m1) = PhoneKeygen::start(&mut rng).expect("start");
        let (server, _r1) = ServerKeygen::respond(&m1, &mut rng).expect("respond");
        let bytes = server.into_bytes().expect("into_bytes");
        let what = "server keygen state";
        for garbage in [
            Vec::new(),
            vec![P256_WIRE_VERSION_FOR_TESTS],
            vec![0xff; 64],
            bytes[..bytes.len() - 1].to_vec(),
            [bytes.as_slice(), &[0]].concat(),
            [&[bytes[0], 0x21][..], &bytes[2..]].concat(),
        ] {
            assert_eq!(
                ServerKeygen::from_bytes(&garbage).map(|_| ()),
                Err(P256CosignError::Malformed(what))
            );
        }
        assert_eq!(
            ServerKeygen::from_bytes(&vec![0; MAX_SERVER_KEYGEN_BYTES + 1]).map(|_| ()),
            Err(P256CosignError::TooLarge {
                what,
                len: MAX_SERVER_KEYGEN_BYTES + 1,
                max: MAX_SERVER_KEYGEN_BYTES,
            })
        );
    }

    const P256_WIRE_VERSION_FOR_TESTS: u8 = super::super::wire::P256_WIRE_VERSION;
}
