//! Protocol messages from the network, decoded and fed to both parties' state machines.
#![no_main]

use inkseal_cosign::{
    ClientKeygen, KeygenRequest, KeygenResponse, ServerKeyShare, SignRequest, SignResponse,
    decode_message,
};
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

fn parties() -> &'static (inkseal_cosign::ClientKeyShare, ServerKeyShare) {
    static P: OnceLock<(inkseal_cosign::ClientKeyShare, ServerKeyShare)> = OnceLock::new();
    P.get_or_init(|| {
        let (k, req) = ClientKeygen::start("fuzz").expect("start");
        let (s, resp) = ServerKeyShare::keygen(&req).expect("keygen");
        (k.finish(&resp).expect("finish"), s)
    })
}

fuzz_target!(|data: &[u8]| {
    let (client, server) = parties();
    if let Ok(req) = decode_message::<KeygenRequest>(data) {
        let _ = ServerKeyShare::keygen(&req);
    }
    if let Ok(resp) = decode_message::<KeygenResponse>(data) {
        if let Ok((k, _)) = ClientKeygen::start("fuzz") {
            let _ = k.finish(&resp);
        }
    }
    if let Ok(req) = decode_message::<SignRequest>(data) {
        let _ = server.cosign(&req);
    }
    if let Ok(resp) = decode_message::<SignResponse>(data) {
        if let Ok((session, _)) = client.start_sign(&[3u8; 32]) {
            // A forged half-signature must never verify.
            assert!(session.finish(&resp).is_err());
        }
    }
});
