//! RFC 3161 bytes from outside: a request as the TSA reads it, a reply as the client checks it,
//! a token as the verifier reads it from a PDF.
#![no_main]

use inkseal_pdf::cms::SignatureAlgorithm;
use inkseal_pdf::tsp::{TimeStampRequest, TimeStampToken, check_reply};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(request) = TimeStampRequest::parse(data) {
        let _ = request.to_der();
    }
    let _ = TimeStampToken::parse(data);
    let suite = SignatureAlgorithm::EcdsaP256Sha256;
    if let Ok(request) = TimeStampRequest::new(suite, &[0x11; 32], Some(&[7; 8]), None) {
        let _ = check_reply(&request, data);
    }
});
