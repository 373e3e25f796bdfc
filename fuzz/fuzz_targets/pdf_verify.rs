//! Hostile PDFs: loading, walking pages and form fields, and verifying every signature.
//! Seed with `shared/corpus` (see README): `cargo fuzz run pdf_verify ../../shared/corpus/pyhanko-test-pdfs`.
#![no_main]

use inkseal_pdf::verify::{VerifyOptions, verify};
use inkseal_pdf::{Document, Limits};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let limits = Limits {
        max_file_size: 4 << 20,
        max_decoded_stream: 16 << 20,
        ..Limits::default()
    };
    if let Ok(doc) = Document::load(data, &limits) {
        let _ = inkseal_pdf::pages::pages(&doc);
        let _ = inkseal_pdf::fields::signature_fields(&doc);
    }
    let _ = verify(
        data,
        &VerifyOptions {
            limits,
            ..Default::default()
        },
    );
});
