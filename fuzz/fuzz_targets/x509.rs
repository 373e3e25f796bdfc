//! CSRs the server receives and certificates the phone receives.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = inkseal_pki::verify_csr(data);
    if let Ok(key) = inkseal_pki::certificate_public_key(data) {
        let _ = inkseal_pki::check_issued_for(data, data, &key, 1_800_000_000);
    }
    let _ = inkseal_pki::verify_certificate_signature(data, data);
    let _ = inkseal_pki::signature_from_der(data);
});
