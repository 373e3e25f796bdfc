//! Hostile signature containers (the /Contents of a signature).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(parsed) = inkseal_pdf::cms::parse(data) {
        let digest = parsed.algorithm().digest(&[data]);
        let _ = parsed.verify(&digest);
    }
});
