//! Two-party P-256 (ECDSA with SHA-256) co-signing with DKLs23, 2-of-2 (issue 18, stage 1).
//!
//! Behind the `p256-cosign` feature, off by default. The maths is `dkls23-core` 0.6.2
//! (pinned exactly; not audited by a third party, see ARCHITECTURE.md "Two-party P-256").
//! This module only frames, checks and sequences its messages, sans-IO, in the shape of the
//! SM2 state machines: every state is consumed by value, every message is a type with private
//! fields decoded through a size-limited checked constructor, secrets are wiped on drop and
//! never printed by `Debug`.
//!
//! The phone is party 1, the server party 2.
//!
//! # Key generation: 2 round trips
//!
//! The DKG has 3 message rounds (fragments; commitments; openings). Phase 3 needs no input, so
//! the two parties take turns:
//!
//! 1. phone → server [`KeygenRound1`] (its nonce and polynomial fragment `p₁(2)`);
//!    server → phone [`KeygenReply1`] (its nonce, fragment `p₂(1)`, and *commitments* to its
//!    DLog proof, zero-share seed and chain code). The session id is SHA-256 of both nonces.
//! 2. phone → server [`KeygenRound2`] (its proof, zero-share seed, base-OT setup and chain code
//!    with their commitments: it may open at once because the server is already committed);
//!    the server runs phase 4 (all the library's checks) and answers [`KeygenReply2`] with its
//!    openings, its base-OT setup and the joint key; the phone runs phase 4 and refuses the
//!    key unless it equals the server's ([`P256CosignError::JointKeyMismatch`]).
//!
//! Each party either commits before it sees the other's values or opens only after the other
//! committed, so neither can choose its contribution after seeing the other's. The server
//! learns that the phone agrees only when the phone first uses the key (stage 2: its
//! certificate request), so the server's share stays pending until then. The server runs the
//! library's low-level `dkg::phase*` functions (the ones its `DkgSession` wraps), whose kept
//! data is serializable: its state between the trips ([`ServerKeygen`]) goes through
//! [`ServerKeygen::into_bytes`], which the caller seals and stores as a single-use row, so
//! trip 2 may reach any replica.
//!
//! Measured sizes (postcard): round 1 67 B, reply 1 166 B, round 2 147,928 B and reply 2
//! 147,862 B (mostly the 256 encryption proofs of the base-OT setup in each direction).
//! Each message's limit is about twice its measured size.
//!
//! # Signing: 2 round trips
//!
//! 1. phone: phase 1 → [`SignRound1`] (≈27 KB, with a fresh random 32-byte `sign_id`);
//!    server: hashes the message itself, phase 1 and phase 2 → [`SignReply1`] (≈82 KB) and a
//!    [`ServerSignPending`], which the caller seals and stores as a single-use row.
//! 2. phone: phase 2 and phase 3 → [`SignRound2`] (≈55 KB); server: phase 3, phase 4, its own
//!    `p256` verification → the signature and [`SignReply2`] (≈100 B); phone: phase 4 and
//!    `p256` verification against the joint key before it releases `(r, s)`.
//!
//! The message hash is bound from phase 1 on (0.6.2 has no presignature API), so nothing can
//! be done before the document exists. Signatures are low-s normalized.
//!
//! # What each side keeps
//!
//! * After key generation: [`PhoneShare`] / [`ServerShare`] (≈52.5 KB each, versioned
//!   `to_bytes`/`from_bytes`): the polynomial point, zero-share seeds and the base-OT /
//!   multiplication setup reused by every signature.
//! * Between key-generation trips: the phone keeps [`PhoneKeygenFinish`] in memory; the
//!   server keeps [`ServerKeygen`] sealed in storage.
//! * Between signing trips: the phone keeps [`PhoneSign`] / [`PhoneSignFinish`] in memory;
//!   the server keeps [`ServerSignPending`] sealed in storage.
//!
//! # Aborts
//!
//! Library aborts surface as [`P256CosignError::Abort`]. `ban: true` (the library's
//! `BanCounterparty`: OT-consistency, multiplication or gamma check failed) is **permanent for
//! the key**: lock it, never retry or refresh, generate a new key. Anything else kills only
//! the session; a new one starts at phase 1 with a fresh `sign_id`, started by the user, and
//! failed sessions are counted per key. A failed final verification is
//! [`P256CosignError::SignatureInvalid`]. Kept phase data is used once: the types are consumed
//! by each step and not `Clone`.
//!
//! # Input checks
//!
//! Before the library sees a message: its size limit, version and kind bytes, no trailing
//! bytes; scalars canonical (`p256`'s serde refuses values ≥ n); points decoded on the curve
//! (SEC1); the identity refused for DLog-proof points, the instance point, the public share
//! and the gamma points; routing fields (sender, receiver, party index) must name the other
//! party and us. The library then checks vector lengths, session bindings, commitments and
//! proofs. Only public values (session ids, public keys) are compared here, so no comparison
//! needs to be constant-time.
//!
//! # Randomness
//!
//! Our nonces and session ids come from the caller's `rand_core::CryptoRng`. `dkls23-core`
//! draws its own randomness from `rand::rng()` (the operating system's generator) and offers
//! no way to inject one, so runs are not reproducible.

mod error;
mod keygen;
mod share;
mod sign;
mod wire;

pub use error::P256CosignError;
pub use keygen::{
    KeygenReply1, KeygenReply2, KeygenRound1, KeygenRound2, MAX_KEYGEN_1_BYTES, MAX_KEYGEN_2_BYTES,
    MAX_KEYGEN_REPLY_1_BYTES, MAX_KEYGEN_REPLY_2_BYTES, MAX_SERVER_KEYGEN_BYTES, PhoneKeygen,
    PhoneKeygenFinish, ServerKeygen,
};
pub use share::{MAX_SHARE_BYTES, PhoneShare, ServerShare};
pub use sign::{
    MAX_SERVER_PENDING_BYTES, MAX_SIGN_1_BYTES, MAX_SIGN_2_BYTES, MAX_SIGN_REPLY_1_BYTES,
    MAX_SIGN_REPLY_2_BYTES, PhoneSign, PhoneSignFinish, ServerSignPending, SignReply1, SignReply2,
    SignRound1, SignRound2,
};
pub use wire::P256_WIRE_VERSION;

/// Re-export of the `p256` crate version this module is built against.
pub use ::p256 as curve;
