//! CSRs the server receives, certificates the phone receives, OCSP requests the responder
//! reads and OCSP responses a verifier reads from a PDF.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = inkseal_pki::verify_csr(data);
    if let Ok(key) = inkseal_pki::certificate_public_key(data) {
        let _ = inkseal_pki::check_issued_for(data, data, &key, 1_800_000_000);
    }
    let _ = inkseal_pki::verify_certificate_signature(data, data);
    let _ = inkseal_pki::signature_from_der(data);
    let _ = inkseal_pki::read_csr_info(data);
    let _ = inkseal_pki::certificate_serial(data);
    let _ = inkseal_pki::parse_crl(data, data);
    let _ = inkseal_pki::parse_ocsp_request(data);
    if let Ok(response) = inkseal_pki::parse_ocsp_response(data) {
        let _ = response.status_of(data, data);
        let _ = response.responder_is(data);
    }
    // An attestation chain: the input cut in two certificates, trusting the second.
    let (a, b) = data.split_at(data.len() / 2);
    let chain = [a.to_vec(), b.to_vec()];
    let _ = inkseal_pki::verify_android_key_attestation(&chain, &chain[1..], b"challenge", a, 1_800_000_000);
});
