//! Two-party P-256 messages from the network, and the server's stored states, decoded by their
//! checked constructors and fed to both parties' state machines (one fixed key pair). A
//! message the fuzzer made is never the honest one, so no step that checks it may succeed.
#![no_main]

use inkseal_cosign::p256::{
    KeygenReply1, KeygenReply2, KeygenRound1, KeygenRound2, PhoneKeygen, PhoneShare, PhoneSign,
    ServerKeygen, ServerShare, ServerSignPending, SignReply1, SignReply2, SignRound1, SignRound2,
};
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

const MESSAGE: &[u8] = b"fuzz";

struct Parties {
    phone: PhoneShare,
    server: ServerShare,
    /// The server's state after a key generation's trip 1, as it is stored between trips.
    keygen_state: Vec<u8>,
    /// The server's state after a signing session's trip 1, as it is stored between trips.
    sign_state: Vec<u8>,
}

fn parties() -> &'static Parties {
    static P: OnceLock<Parties> = OnceLock::new();
    P.get_or_init(|| {
        let rng = &mut getrandom::SysRng;
        let (phone, m1) = PhoneKeygen::start(rng).expect("start");
        let (server, r1) = ServerKeygen::respond(&m1, rng).expect("respond");
        let (phone, m2) = phone.receive(&r1).expect("receive");
        let (server, r2) = server.finish(&m2).expect("finish");
        let phone = phone.finish(&r2).expect("phone finish");
        let (_, other_m1) = PhoneKeygen::start(rng).expect("start");
        let (state, _) = ServerKeygen::respond(&other_m1, rng).expect("respond");
        let keygen_state = state.into_bytes().expect("bytes").to_vec();
        let (_, s1) = PhoneSign::start(&phone, MESSAGE, rng).expect("sign");
        let (pending, _) = ServerSignPending::respond(&server, MESSAGE, &s1).expect("respond");
        let sign_state = pending.into_bytes().expect("bytes").to_vec();
        Parties {
            phone,
            server,
            keygen_state,
            sign_state,
        }
    })
}

fuzz_target!(|data: &[u8]| {
    let p = parties();
    let rng = &mut getrandom::SysRng;
    if let Ok(m1) = KeygenRound1::from_bytes(data) {
        let _ = ServerKeygen::respond(&m1, rng);
    }
    if let Ok(r1) = KeygenReply1::from_bytes(data) {
        // Trip 1's answer binds nothing the phone can check yet (the joint session id is
        // derived from both nonces); the server's commitments are opened and checked in
        // trip 2's answer.
        if let Ok((phone, _)) = PhoneKeygen::start(rng) {
            let _ = phone.receive(&r1);
        }
    }
    if let Ok(m2) = KeygenRound2::from_bytes(data) {
        if let Ok(state) = ServerKeygen::from_bytes(&p.keygen_state) {
            assert!(state.finish(&m2).is_err(), "a forged key generation round 2");
        }
    }
    let _ = KeygenReply2::from_bytes(data);
    if let Ok(s1) = SignRound1::from_bytes(data) {
        let _ = ServerSignPending::respond(&p.server, MESSAGE, &s1);
    }
    if let Ok(r1) = SignReply1::from_bytes(data) {
        if let Ok((phone, _)) = PhoneSign::start(&p.phone, MESSAGE, rng) {
            assert!(phone.receive(&r1).is_err(), "a reply to another session");
        }
    }
    if let Ok(s2) = SignRound2::from_bytes(data) {
        if let Ok(pending) = ServerSignPending::from_bytes(&p.sign_state) {
            assert!(pending.finish(&p.server, &s2).is_err(), "a forged signing round 2");
        }
    }
    let _ = SignReply2::from_bytes(data);
    let _ = ServerKeygen::from_bytes(data);
    let _ = ServerSignPending::from_bytes(data);
    let _ = PhoneShare::from_bytes(data);
    let _ = ServerShare::from_bytes(data);
});
