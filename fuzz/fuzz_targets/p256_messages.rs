//! Two-party P-256 messages from the network, and the server's stored states, decoded by their
//! checked constructors; round 2s are fed to the server's stored states (one fixed key pair).
//! A message the fuzzer made is never the honest one, so no round 2 may finish.
#![no_main]

use inkseal_cosign::p256::{
    KeygenReply1, KeygenReply2, KeygenRound1, KeygenRound2, PhoneShare, ServerKeygen, ServerShare,
    ServerSignPending, SignReply1, SignReply2, SignRound1, SignRound2,
};
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

/// The server's share of one key pair, and its stored states after a key generation's and a
/// signing session's trip 1 (`core/cosign/tests/p256_cosign.rs`, `write_fuzz_inputs`): loaded,
/// because generating them takes half a minute under the sanitizer.
struct Parties {
    server: ServerShare,
    keygen_state: &'static [u8],
    sign_state: &'static [u8],
}

fn parties() -> &'static Parties {
    static P: OnceLock<Parties> = OnceLock::new();
    P.get_or_init(|| Parties {
        server: ServerShare::from_bytes(include_bytes!("../states/p256/server-share"))
            .expect("server share"),
        keygen_state: include_bytes!("../states/p256/keygen-state"),
        sign_state: include_bytes!("../states/p256/sign-state"),
    })
}

// Only steps that check a message against a stored state run per input: starting a session
// (the OT extension behind every trip-1 step) takes seconds under the fuzzer's sanitizer, and
// would leave the parsers a handful of runs per smoke run.
fuzz_target!(|data: &[u8]| {
    let p = parties();
    if let Ok(m2) = KeygenRound2::from_bytes(data) {
        if let Ok(state) = ServerKeygen::from_bytes(p.keygen_state) {
            assert!(
                state.finish(&m2).is_err(),
                "a forged key generation round 2"
            );
        }
    }
    if let Ok(s2) = SignRound2::from_bytes(data) {
        if let Ok(pending) = ServerSignPending::from_bytes(p.sign_state) {
            assert!(
                pending.finish(&p.server, &s2).is_err(),
                "a forged signing round 2"
            );
        }
    }
    let _ = KeygenRound1::from_bytes(data);
    let _ = KeygenReply1::from_bytes(data);
    let _ = KeygenReply2::from_bytes(data);
    let _ = SignRound1::from_bytes(data);
    let _ = SignReply1::from_bytes(data);
    let _ = SignReply2::from_bytes(data);
    let _ = ServerKeygen::from_bytes(data);
    let _ = ServerSignPending::from_bytes(data);
    let _ = PhoneShare::from_bytes(data);
    let _ = ServerShare::from_bytes(data);
});
