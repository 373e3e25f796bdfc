//! Handwriting records and their encrypted envelopes, as the institution receives them.
#![no_main]

use inkseal_ink::record::encrypt::{InstitutionSecret, Scheme, open};
use inkseal_ink::record::format::decode;
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

fn keys() -> &'static (InstitutionSecret, InstitutionSecret) {
    static K: OnceLock<(InstitutionSecret, InstitutionSecret)> = OnceLock::new();
    K.get_or_init(|| {
        (
            InstitutionSecret::generate(Scheme::Sm2).expect("sm2 key"),
            InstitutionSecret::generate(Scheme::P256Ecies).expect("p256 key"),
        )
    })
}

fuzz_target!(|data: &[u8]| {
    let _ = decode(data);
    let (sm2, p256) = keys();
    let _ = open(data, sm2);
    let _ = open(data, p256);
});
