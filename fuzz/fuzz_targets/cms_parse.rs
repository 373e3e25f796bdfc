//! Hostile signature containers (the /Contents of a signature).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(parsed) = inkseal_pdf::cms::parse(data) {
        let digest = parsed.algorithm().digest(&[data]);
        let _ = parsed.verify(&digest);
    }
    // The signed attributes a co-signing request carries, as the server reads them.
    let _ = inkseal_pdf::cms::message_digest_of_signed_attributes(data);
});
