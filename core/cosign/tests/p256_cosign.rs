//! Two-party P-256 (DKLs23 2-of-2): key generation, signing, tampering, replay and garbage.
#![cfg(feature = "p256-cosign")]
#![allow(clippy::unwrap_used)]

use inkseal_cosign::p256::curve as p256;
use inkseal_cosign::p256::*;
use p256::ecdsa::signature::Verifier;
use sha2::Digest;

/// A deterministic `TryCryptoRng` for our own session ids and nonces (SHA-256 in counter
/// mode). The library's internal randomness comes from the OS and cannot be injected.
struct SeededRng {
    seed: [u8; 32],
    counter: u64,
}

impl SeededRng {
    fn new(label: &str) -> Self {
        SeededRng {
            seed: sha2::Sha256::digest(label.as_bytes()).into(),
            counter: 0,
        }
    }
}

impl rand_core::TryRng for SeededRng {
    type Error = std::convert::Infallible;
    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        let mut b = [0u8; 4];
        self.try_fill_bytes(&mut b)?;
        Ok(u32::from_le_bytes(b))
    }
    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        let mut b = [0u8; 8];
        self.try_fill_bytes(&mut b)?;
        Ok(u64::from_le_bytes(b))
    }
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
        for chunk in dst.chunks_mut(32) {
            let mut h = sha2::Sha256::new();
            h.update(self.seed);
            h.update(self.counter.to_le_bytes());
            self.counter += 1;
            let block: [u8; 32] = h.finalize().into();
            chunk.copy_from_slice(&block[..chunk.len()]);
        }
        Ok(())
    }
}
impl rand_core::TryCryptoRng for SeededRng {}

/// Which message of a run to alter, and how.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Step {
    K1,
    KR1,
    K2,
    KR2,
    S1,
    SR1,
    S2,
    SR2,
}

/// Sends `bytes` through the wire: the receiver decodes them with the checked constructor,
/// after `alter` changed them if it is aimed at this step.
fn wire<T>(
    step: Step,
    bytes: &[u8],
    alter: &mut dyn FnMut(Step, &mut Vec<u8>),
    decode: fn(&[u8]) -> Result<T, P256CosignError>,
) -> Result<T, P256CosignError> {
    let mut bytes = bytes.to_vec();
    alter(step, &mut bytes);
    decode(&bytes)
}

fn no_change(_: Step, _: &mut Vec<u8>) {}

fn keygen_with(
    rng: &mut SeededRng,
    alter: &mut dyn FnMut(Step, &mut Vec<u8>),
) -> Result<(PhoneShare, ServerShare), P256CosignError> {
    let (phone, m1) = PhoneKeygen::start(rng)?;
    let m1 = wire(Step::K1, m1.as_bytes(), alter, KeygenRound1::from_bytes)?;
    let (server, r1) = ServerKeygen::respond(&m1, rng)?;
    let r1 = wire(Step::KR1, r1.as_bytes(), alter, KeygenReply1::from_bytes)?;
    let (phone, m2) = phone.receive(&r1)?;
    let m2 = wire(Step::K2, m2.as_bytes(), alter, KeygenRound2::from_bytes)?;
    let (server_share, r2) = server.finish(&m2)?;
    let r2 = wire(Step::KR2, r2.as_bytes(), alter, KeygenReply2::from_bytes)?;
    let phone_share = phone.finish(&r2)?;
    Ok((phone_share, server_share))
}

fn keygen(rng: &mut SeededRng) -> (PhoneShare, ServerShare) {
    keygen_with(rng, &mut no_change).unwrap()
}

/// One signing session. The server's state goes through its serialized form between the
/// trips, as it will in storage. Returns the phone's and the server's signature.
fn sign_with(
    phone_share: &PhoneShare,
    server_share: &ServerShare,
    message: &[u8],
    rng: &mut SeededRng,
    alter: &mut dyn FnMut(Step, &mut Vec<u8>),
) -> Result<(p256::ecdsa::Signature, p256::ecdsa::Signature), P256CosignError> {
    let (phone, m1) = PhoneSign::start(phone_share, message, rng)?;
    let m1 = wire(Step::S1, m1.as_bytes(), alter, SignRound1::from_bytes)?;
    let (pending, r1) = ServerSignPending::respond(server_share, message, &m1)?;
    let stored = pending.into_bytes()?;
    let r1 = wire(Step::SR1, r1.as_bytes(), alter, SignReply1::from_bytes)?;
    let (phone, m2) = phone.receive(&r1)?;
    let m2 = wire(Step::S2, m2.as_bytes(), alter, SignRound2::from_bytes)?;
    let pending = ServerSignPending::from_bytes(&stored)?;
    let (server_signature, r2) = pending.finish(server_share, &m2)?;
    let r2 = wire(Step::SR2, r2.as_bytes(), alter, SignReply2::from_bytes)?;
    let phone_signature = phone.finish(&r2)?;
    Ok((phone_signature, server_signature))
}

fn flip(at: usize) -> impl FnMut(Step, &mut Vec<u8>) {
    move |_, bytes: &mut Vec<u8>| {
        let i = at.min(bytes.len() - 1);
        bytes[i] ^= 0x01;
    }
}

#[test]
fn keygen_then_twenty_signatures_verify_with_p256() {
    let mut rng = SeededRng::new("twenty");
    let (phone, server) = keygen(&mut rng);
    assert_eq!(phone.public_key(), server.public_key());
    let key = p256::ecdsa::VerifyingKey::from(phone.public_key());
    let mut seen = std::collections::HashSet::new();
    for i in 0..20u32 {
        let message = format!("document {i}: {}", "x".repeat(i as usize * 7));
        let (from_phone, from_server) = sign_with(
            &phone,
            &server,
            message.as_bytes(),
            &mut rng,
            &mut no_change,
        )
        .unwrap();
        assert_eq!(from_phone, from_server);
        key.verify(message.as_bytes(), &from_phone).unwrap();
        // Another message does not verify under the same signature.
        assert!(key.verify(b"another message", &from_phone).is_err());
        assert!(
            seen.insert(from_phone.to_bytes().to_vec()),
            "a signature repeated"
        );
    }
}

#[test]
fn shares_survive_storage_and_refuse_the_other_role() {
    let mut rng = SeededRng::new("storage");
    let (phone, server) = keygen(&mut rng);
    let phone_bytes = phone.to_bytes().unwrap();
    let server_bytes = server.to_bytes().unwrap();
    assert!(phone_bytes.len() <= MAX_SHARE_BYTES);
    assert_eq!(phone_bytes[0], P256_WIRE_VERSION);
    let phone2 = PhoneShare::from_bytes(&phone_bytes).unwrap();
    let server2 = ServerShare::from_bytes(&server_bytes).unwrap();
    assert_eq!(phone2.public_key(), phone.public_key());
    let message = b"stored shares sign";
    let (signature, _) = sign_with(&phone2, &server2, message, &mut rng, &mut no_change).unwrap();
    p256::ecdsa::VerifyingKey::from(phone.public_key())
        .verify(message, &signature)
        .unwrap();
    assert!(matches!(
        ServerShare::from_bytes(&phone_bytes),
        Err(P256CosignError::Malformed(_))
    ));
    assert!(matches!(
        PhoneShare::from_bytes(&server_bytes),
        Err(P256CosignError::Malformed(_))
    ));
    let mut other_version = phone_bytes.to_vec();
    other_version[0] = 2;
    assert!(matches!(
        PhoneShare::from_bytes(&other_version),
        Err(P256CosignError::Malformed(_))
    ));
    // Debug shows the public key only.
    let printed = format!("{phone:?}");
    assert!(
        printed.starts_with("PhoneShare { public_key: \""),
        "{printed}"
    );
    assert!(printed.len() < 120, "{printed}");
}

/// Positions to alter in a message of `len` bytes: the header, the first body bytes, the
/// middle and the end.
fn positions(len: usize) -> Vec<usize> {
    let mut p = vec![0, 1, 2, 3, len / 4, len / 2, 3 * len / 4, len - 2, len - 1];
    p.sort_unstable();
    p.dedup();
    p
}

fn lengths_of_a_run(rng: &mut SeededRng) -> std::collections::HashMap<Step, usize> {
    let mut lengths = std::collections::HashMap::new();
    let mut record = |step: Step, bytes: &mut Vec<u8>| {
        lengths.insert(step, bytes.len());
    };
    let (phone, server) = keygen_with(rng, &mut record).unwrap();
    sign_with(&phone, &server, b"lengths", rng, &mut record).unwrap();
    lengths
}

#[test]
fn every_altered_signing_message_is_refused_and_ot_tampering_bans() {
    let mut rng = SeededRng::new("tamper-sign");
    let lengths = lengths_of_a_run(&mut rng);
    let (phone, server) = keygen(&mut rng);
    let mut bans = 0;
    for step in [Step::S1, Step::SR1, Step::S2, Step::SR2] {
        for at in positions(lengths[&step]) {
            let mut hit = false;
            let mut alter = |s: Step, bytes: &mut Vec<u8>| {
                if s == step {
                    hit = true;
                    flip(at)(s, bytes);
                }
            };
            let result = sign_with(&phone, &server, b"tampered", &mut rng, &mut alter);
            assert!(hit);
            match result {
                Ok(_) => panic!("{step:?} altered at {at} still gave a signature"),
                Err(P256CosignError::Abort { ban: true, .. }) => bans += 1,
                Err(_) => {}
            }
        }
    }
    // Altering the OT-extension or multiplication data is the library's BanCounterparty.
    assert!(bans > 0, "no alteration was classified as ban");
    // The key still works after refused sessions (in tests only: in production a ban locks it).
    sign_with(&phone, &server, b"after", &mut rng, &mut no_change).unwrap();
}

#[test]
fn altered_ot_data_in_round_one_is_a_ban() {
    let mut rng = SeededRng::new("ban");
    let lengths = lengths_of_a_run(&mut rng);
    let (phone, server) = keygen(&mut rng);
    let mid = lengths[&Step::S1] / 2;
    let result = sign_with(
        &phone,
        &server,
        b"ban",
        &mut rng,
        &mut |s, b: &mut Vec<u8>| {
            if s == Step::S1 {
                b[mid] ^= 0x80;
            }
        },
    );
    assert!(
        matches!(result, Err(P256CosignError::Abort { ban: true, .. })),
        "{result:?}"
    );
}

#[test]
fn every_altered_keygen_message_is_refused() {
    let mut rng = SeededRng::new("tamper-keygen");
    let lengths = lengths_of_a_run(&mut rng);
    // Round 1 and reply 1: header and nonce bytes (the fragment after them is checked below).
    let cases: Vec<(Step, Vec<usize>)> = vec![
        (Step::K1, vec![0, 1, 2, 20, 33]),
        (
            Step::KR1,
            vec![
                0,
                1,
                2,
                20,
                33,
                lengths[&Step::KR1] - 1,
                lengths[&Step::KR1] - 40,
            ],
        ),
        (Step::K2, positions(lengths[&Step::K2])),
        (Step::KR2, positions(lengths[&Step::KR2])),
    ];
    for (step, ats) in cases {
        for at in ats {
            let mut alter = |s: Step, bytes: &mut Vec<u8>| {
                if s == step {
                    flip(at)(s, bytes);
                }
            };
            let result = keygen_with(&mut rng, &mut alter);
            assert!(result.is_err(), "{step:?} altered at {at} still gave a key");
        }
    }
}

/// A fragment carries no integrity of its own in the DKG (with 2-of-2 any two points define a
/// line): an altered one gives another key, but both parties still agree on it and it signs.
#[test]
fn an_altered_fragment_gives_a_consistent_key_or_an_error() {
    let mut rng = SeededRng::new("fragment");
    for step in [Step::K1, Step::KR1] {
        let mut alter = |s: Step, bytes: &mut Vec<u8>| {
            if s == step {
                // The last byte of the 32-byte nonce is at 33; the fragment follows.
                bytes[40] ^= 0x01;
            }
        };
        match keygen_with(&mut rng, &mut alter) {
            Ok((phone, server)) => {
                assert_eq!(phone.public_key(), server.public_key());
                sign_with(&phone, &server, b"fragment", &mut rng, &mut no_change).unwrap();
            }
            Err(e) => assert!(matches!(e, P256CosignError::Malformed(_)), "{e:?}"),
        }
    }
}

#[test]
fn messages_from_another_signing_session_are_refused() {
    let mut rng = SeededRng::new("swap");
    let (phone, server) = keygen(&mut rng);
    let message = b"swap";
    let (phone_a, m1_a) = PhoneSign::start(&phone, message, &mut rng).unwrap();
    let (phone_b, m1_b) = PhoneSign::start(&phone, message, &mut rng).unwrap();
    let (pending_a, r1_a) = ServerSignPending::respond(&server, message, &m1_a).unwrap();
    let (pending_b, r1_b) = ServerSignPending::respond(&server, message, &m1_b).unwrap();
    // B's phone given A's answer.
    assert_eq!(
        phone_b.receive(&r1_a).unwrap_err(),
        P256CosignError::SessionMismatch
    );
    // A's phone given B's answer with A's session id written over it: the library's binding.
    let mut forged = r1_b.as_bytes().to_vec();
    forged[2..34].copy_from_slice(m1_a.sign_id());
    let forged = SignReply1::from_bytes(&forged).unwrap();
    assert!(matches!(
        phone_a.receive(&forged),
        Err(P256CosignError::Abort { ban: false, .. })
    ));
    // A server session given another session's second message.
    let (phone_c, m1_c) = PhoneSign::start(&phone, message, &mut rng).unwrap();
    let (pending_c, r1_c) = ServerSignPending::respond(&server, message, &m1_c).unwrap();
    let (_, m2_c) = phone_c.receive(&r1_c).unwrap();
    assert_eq!(
        pending_a.finish(&server, &m2_c).unwrap_err(),
        P256CosignError::SessionMismatch
    );
    let mut forged = m2_c.as_bytes().to_vec();
    let sign_id_b = *m1_b.sign_id();
    forged[2..34].copy_from_slice(&sign_id_b);
    let forged = SignRound2::from_bytes(&forged).unwrap();
    assert!(matches!(
        pending_b.finish(&server, &forged),
        Err(P256CosignError::Abort { ban: false, .. })
    ));
    drop(r1_b);
    drop(pending_c);
    // The server refuses a pending session with another key's share.
    let (_, other_server) = keygen(&mut rng);
    let (phone_d, m1_d) = PhoneSign::start(&phone, message, &mut rng).unwrap();
    let (pending_d, r1_d) = ServerSignPending::respond(&server, message, &m1_d).unwrap();
    let (_, m2_d) = phone_d.receive(&r1_d).unwrap();
    assert_eq!(
        pending_d.finish(&other_server, &m2_d).unwrap_err(),
        P256CosignError::SessionMismatch
    );
}

#[test]
fn the_server_signs_the_message_it_was_given() {
    let mut rng = SeededRng::new("message");
    let (phone, server) = keygen(&mut rng);
    let (phone_s, m1) = PhoneSign::start(&phone, b"what the phone shows", &mut rng).unwrap();
    // The server hashes the bytes it was given; they differ from the phone's, so the
    // session bindings differ and nothing is signed.
    let result = ServerSignPending::respond(&server, b"what the server got", &m1);
    let err = match result {
        Err(e) => e,
        Ok((pending, r1)) => match phone_s.receive(&r1) {
            Err(e) => e,
            Ok((_, m2)) => pending.finish(&server, &m2).unwrap_err(),
        },
    };
    assert!(matches!(err, P256CosignError::Abort { .. }), "{err:?}");
}

#[test]
fn replayed_round_one_messages_are_refused() {
    let mut rng = SeededRng::new("replay");
    let (phone, server) = keygen(&mut rng);
    // Signing: session A completes; its round-1 message is replayed into session B.
    let (phone_a, m1_a) = PhoneSign::start(&phone, b"m", &mut rng).unwrap();
    let (pending_a, r1_a) = ServerSignPending::respond(&server, b"m", &m1_a).unwrap();
    let (phone_a, m2_a) = phone_a.receive(&r1_a).unwrap();
    let (_, r2_a) = pending_a.finish(&server, &m2_a).unwrap();
    phone_a.finish(&r2_a).unwrap();
    let (phone_b, m1_b) = PhoneSign::start(&phone, b"m", &mut rng).unwrap();
    // As sent: the server answers under the old session id, which B's phone refuses.
    let (_, r1_replayed) = ServerSignPending::respond(&server, b"m", &m1_a).unwrap();
    assert_eq!(
        phone_b.receive(&r1_replayed).unwrap_err(),
        P256CosignError::SessionMismatch
    );
    // With B's session id written over it: the library's session binding refuses it.
    let mut forged = m1_a.as_bytes().to_vec();
    forged[2..34].copy_from_slice(m1_b.sign_id());
    let forged = SignRound1::from_bytes(&forged).unwrap();
    assert!(matches!(
        ServerSignPending::respond(&server, b"m", &forged),
        Err(P256CosignError::Abort { ban: false, .. })
    ));

    // Key generation: an old round 1 replayed to the server gives a new session id, so the
    // old round 2 does not fit it.
    let (phone_k, k1) = PhoneKeygen::start(&mut rng).unwrap();
    let (_server_k, kr1) = ServerKeygen::respond(&k1, &mut rng).unwrap();
    let (_, k2) = phone_k.receive(&kr1).unwrap();
    let (server_replayed, _) = ServerKeygen::respond(&k1, &mut rng).unwrap();
    assert_eq!(
        server_replayed.finish(&k2).unwrap_err(),
        P256CosignError::SessionMismatch
    );
}

#[test]
fn garbage_and_oversized_input_gives_typed_errors() {
    type Decoder = fn(&[u8]) -> Result<(), P256CosignError>;
    let decoders: [(&str, Decoder, usize); 11] = [
        (
            "k1",
            |b| KeygenRound1::from_bytes(b).map(drop),
            MAX_KEYGEN_1_BYTES,
        ),
        (
            "kr1",
            |b| KeygenReply1::from_bytes(b).map(drop),
            MAX_KEYGEN_REPLY_1_BYTES,
        ),
        (
            "k2",
            |b| KeygenRound2::from_bytes(b).map(drop),
            MAX_KEYGEN_2_BYTES,
        ),
        (
            "kr2",
            |b| KeygenReply2::from_bytes(b).map(drop),
            MAX_KEYGEN_REPLY_2_BYTES,
        ),
        (
            "s1",
            |b| SignRound1::from_bytes(b).map(drop),
            MAX_SIGN_1_BYTES,
        ),
        (
            "sr1",
            |b| SignReply1::from_bytes(b).map(drop),
            MAX_SIGN_REPLY_1_BYTES,
        ),
        (
            "s2",
            |b| SignRound2::from_bytes(b).map(drop),
            MAX_SIGN_2_BYTES,
        ),
        (
            "sr2",
            |b| SignReply2::from_bytes(b).map(drop),
            MAX_SIGN_REPLY_2_BYTES,
        ),
        (
            "pending",
            |b| ServerSignPending::from_bytes(b).map(drop),
            MAX_SERVER_PENDING_BYTES,
        ),
        (
            "phone share",
            |b| PhoneShare::from_bytes(b).map(drop),
            MAX_SHARE_BYTES,
        ),
        (
            "server share",
            |b| ServerShare::from_bytes(b).map(drop),
            MAX_SHARE_BYTES,
        ),
    ];
    let mut rng = SeededRng::new("garbage");
    for (name, decode, max) in decoders {
        assert!(
            matches!(
                decode(&vec![1u8; max + 1]),
                Err(P256CosignError::TooLarge { .. })
            ),
            "{name}"
        );
        assert!(
            matches!(decode(&[]), Err(P256CosignError::Malformed(_))),
            "{name}"
        );
        for len in [1usize, 2, 3, 40, 300, 5_000] {
            for _ in 0..20 {
                let mut bytes = vec![0u8; len.min(max)];
                rand_core::TryRng::try_fill_bytes(&mut rng, &mut bytes).unwrap();
                // With the right header too, so the body decoder sees the garbage.
                if bytes.len() > 1 && rng.counter % 2 == 0 {
                    bytes[0] = P256_WIRE_VERSION;
                }
                assert!(
                    decode(&bytes).is_err(),
                    "{name}: {len} random bytes decoded"
                );
            }
        }
    }
}

/// Every prefix of a real message is refused without a panic.
#[test]
fn truncated_messages_are_refused() {
    let mut rng = SeededRng::new("truncated");
    let (phone, server) = keygen(&mut rng);
    let (_, m1) = PhoneSign::start(&phone, b"t", &mut rng).unwrap();
    let (_, r1) = ServerSignPending::respond(&server, b"t", &m1).unwrap();
    let bytes = r1.as_bytes();
    for cut in (0..bytes.len()).step_by(97) {
        assert!(
            SignReply1::from_bytes(&bytes[..cut]).is_err(),
            "prefix {cut}"
        );
    }
    let mut longer = bytes.to_vec();
    longer.push(0);
    assert!(matches!(
        SignReply1::from_bytes(&longer),
        Err(P256CosignError::Malformed(_))
    ));
}

mod random_bytes {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        #[test]
        fn no_decoder_panics(kind in 0u8..0x60, body in proptest::collection::vec(any::<u8>(), 0..2048)) {
            let mut bytes = vec![P256_WIRE_VERSION, kind];
            bytes.extend_from_slice(&body);
            let _ = KeygenRound1::from_bytes(&bytes);
            let _ = KeygenReply1::from_bytes(&bytes);
            let _ = KeygenRound2::from_bytes(&bytes);
            let _ = KeygenReply2::from_bytes(&bytes);
            let _ = SignRound1::from_bytes(&bytes);
            let _ = SignReply1::from_bytes(&bytes);
            let _ = SignRound2::from_bytes(&bytes);
            prop_assert!(SignReply2::from_bytes(&bytes).is_err() || kind == 0x14);
            let _ = ServerSignPending::from_bytes(&bytes);
            let _ = PhoneShare::from_bytes(&bytes);
            let _ = ServerShare::from_bytes(&bytes);
        }
    }
}

/// The server's reply 2 names another (valid) key: the phone refuses to finish.
#[test]
fn a_server_naming_another_joint_key_is_refused() {
    use p256::elliptic_curve::sec1::ToSec1Point;
    let mut rng = SeededRng::new("joint key");
    let (other, _) = keygen(&mut rng);
    let other_key = other.public_key().to_sec1_point(true).as_bytes().to_vec();
    let mut swap = |s: Step, bytes: &mut Vec<u8>| {
        if s == Step::KR2 {
            // The key is the last field: 33 bytes after its one-byte length.
            let at = bytes.len() - 33;
            bytes[at..].copy_from_slice(&other_key);
        }
    };
    assert_eq!(
        keygen_with(&mut rng, &mut swap).unwrap_err(),
        P256CosignError::JointKeyMismatch
    );
}

/// Our nonces and session ids come from the injected RNG (the same seed gives the same ones);
/// the library's own randomness comes from the OS (the fragments differ).
#[test]
fn session_ids_come_from_the_injected_rng_and_the_library_uses_its_own() {
    let (_, a) = PhoneKeygen::start(&mut SeededRng::new("same")).unwrap();
    let (_, b) = PhoneKeygen::start(&mut SeededRng::new("same")).unwrap();
    assert_eq!(a.as_bytes()[2..34], b.as_bytes()[2..34]);
    assert_ne!(a.as_bytes()[34..], b.as_bytes()[34..]);
    let (_, c) = PhoneKeygen::start(&mut SeededRng::new("other")).unwrap();
    assert_ne!(a.as_bytes()[2..34], c.as_bytes()[2..34]);

    let mut rng = SeededRng::new("sign ids");
    let (phone, _server) = keygen(&mut rng);
    let (_, m1) = PhoneSign::start(&phone, b"m", &mut SeededRng::new("id")).unwrap();
    let (_, m2) = PhoneSign::start(&phone, b"m", &mut SeededRng::new("id")).unwrap();
    assert_eq!(m1.sign_id(), m2.sign_id());
    // Same session id and message, yet fresh library randomness: different OT data.
    assert_ne!(m1.as_bytes(), m2.as_bytes());
}

/// Writes the `p256_messages` fuzz target's inputs under `$INKSEAL_FUZZ_DIR` (the `fuzz`
/// directory): one honest message of each kind as seeds (`seeds/p256`), and the server's share
/// and stored states of one key pair (`states/p256`), which the target loads instead of running
/// a key generation (that takes half a minute under the fuzzer's sanitizer):
/// `INKSEAL_FUZZ_DIR=$PWD/fuzz cargo test -p inkseal-cosign --features p256-cosign --test
/// p256_cosign -- --ignored write_fuzz_inputs`.
#[test]
#[ignore = "writes files; run by hand to refresh the fuzz inputs"]
fn write_fuzz_inputs() {
    let fuzz =
        std::path::PathBuf::from(std::env::var("INKSEAL_FUZZ_DIR").expect("INKSEAL_FUZZ_DIR"));
    let (seeds_dir, states_dir) = (fuzz.join("seeds/p256"), fuzz.join("states/p256"));
    std::fs::create_dir_all(&seeds_dir).unwrap();
    std::fs::create_dir_all(&states_dir).unwrap();
    let mut rng = SeededRng::new("fuzz seeds");
    let mut seeds: Vec<(&str, Vec<u8>)> = Vec::new();
    let (phone, m1) = PhoneKeygen::start(&mut rng).unwrap();
    let (server, r1) = ServerKeygen::respond(&m1, &mut rng).unwrap();
    let (phone, m2) = phone.receive(&r1).unwrap();
    let (server_share, r2) = server.finish(&m2).unwrap();
    let phone_share = phone.finish(&r2).unwrap();
    seeds.push(("keygen-1", m1.as_bytes().to_vec()));
    seeds.push(("keygen-reply-1", r1.as_bytes().to_vec()));
    seeds.push(("keygen-2", m2.as_bytes().to_vec()));
    seeds.push(("keygen-reply-2", r2.as_bytes().to_vec()));
    let message = b"fuzz";
    let (phone, s1) = PhoneSign::start(&phone_share, message, &mut rng).unwrap();
    let (pending, sr1) = ServerSignPending::respond(&server_share, message, &s1).unwrap();
    let (phone, s2) = phone.receive(&sr1).unwrap();
    let (_, sr2) = pending.finish(&server_share, &s2).unwrap();
    phone.finish(&sr2).unwrap();
    seeds.push(("sign-1", s1.as_bytes().to_vec()));
    seeds.push(("sign-reply-1", sr1.as_bytes().to_vec()));
    seeds.push(("sign-2", s2.as_bytes().to_vec()));
    seeds.push(("sign-reply-2", sr2.as_bytes().to_vec()));
    // The key generation's round 2 and its answer (about 148 KB each) would slow every run
    // of the target down more than their structure is worth; they are left out.
    for (name, bytes) in seeds.into_iter().filter(|(_, b)| b.len() <= 100_000) {
        std::fs::write(seeds_dir.join(name), bytes).unwrap();
    }
    // States the target's round 2s are checked against: a key generation and a signing
    // session of this share, each after its trip 1.
    let (_, other_m1) = PhoneKeygen::start(&mut rng).unwrap();
    let (keygen_state, _) = ServerKeygen::respond(&other_m1, &mut rng).unwrap();
    let (_, other_s1) = PhoneSign::start(&phone_share, message, &mut rng).unwrap();
    let (sign_state, _) = ServerSignPending::respond(&server_share, message, &other_s1).unwrap();
    std::fs::write(
        states_dir.join("server-share"),
        server_share.to_bytes().unwrap().as_slice(),
    )
    .unwrap();
    std::fs::write(
        states_dir.join("keygen-state"),
        keygen_state.into_bytes().unwrap().as_slice(),
    )
    .unwrap();
    std::fs::write(
        states_dir.join("sign-state"),
        sign_state.into_bytes().unwrap().as_slice(),
    )
    .unwrap();
}
