//! Two-party decryption's outside bytes: the DER SM2Cipher a phone parses from an envelope,
//! and the round's messages, fed to both parties. A forged answer never yields plaintext.
#![no_main]

use inkseal_cosign::{
    ClientKeyShare, ClientKeygen, DecryptRequest, DecryptResponse, DecryptSession,
    ServerKeyShare, Sm2Ciphertext, decode_message,
};
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

struct Fixture {
    client: ClientKeyShare,
    server: ServerKeyShare,
    ciphertext: Vec<u8>,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let (k, req) = ClientKeygen::start("fuzz").expect("start");
        let (server, resp) = ServerKeyShare::keygen(&req).expect("keygen");
        let client = k.finish(&resp).expect("finish");
        let ciphertext = inkseal_cosign::sm2::pke::EncryptingKey::new(*client.public_key())
            .encrypt_der(&mut getrandom::SysRng, &[7u8; 16])
            .expect("encrypt");
        Fixture {
            client,
            server,
            ciphertext,
        }
    })
}

fuzz_target!(|data: &[u8]| {
    let f = fixture();
    if let Ok(ct) = Sm2Ciphertext::from_der(data) {
        assert!(ct.c2_len() >= 1 && ct.c2_len() <= inkseal_cosign::MAX_C2_BYTES);
        let _ = DecryptSession::start_with_os_rng(&f.client, "fuzz-round", &ct);
    }
    if let Ok(req) = decode_message::<DecryptRequest>(data) {
        let _ = f.server.decrypt_step_with_os_rng("fuzz", &req);
    }
    if let Ok(resp) = decode_message::<DecryptResponse>(data) {
        let ct = Sm2Ciphertext::from_der(&f.ciphertext).expect("fixture");
        if let Ok((session, _)) = DecryptSession::start_with_os_rng(&f.client, "fuzz-round", &ct) {
            // An answer not made for this round's blinded point never opens it.
            assert!(session.finish(&resp).is_err());
        }
    }
});
