//! Hostile signature containers (the /Contents of a signature), DER or BER.
#![no_main]

use inkseal_pdf::cms::ber;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(parsed) = inkseal_pdf::cms::parse(data) {
        let digest = parsed.digest_algorithm().digest(&[data]);
        let _ = parsed.verify(&digest);
    }
    // BER to DER: within the input, and what it writes is DER (a second pass changes nothing).
    if let Ok((der, used)) = ber::to_der(data) {
        assert!(used <= data.len());
        let again = ber::to_der(&der).expect("DER output reads back");
        assert_eq!(again, (der.clone(), der.len()));
    }
    // The signed attributes a co-signing request carries, as the server reads them.
    let _ = inkseal_pdf::cms::message_digest_of_signed_attributes(data);
});
