//! Font files from outside (an institution's chosen seal font): parsing and drawing a seal's
//! text (and a signature label) from its glyph outlines must never panic, whatever the tables
//! say.
#![no_main]

use inkseal_pdf::outline::TextOutliner;
use inkseal_pdf::seal::{OutlineFont, SealShape, SealSpec};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(font) = OutlineFont::parse(data.to_vec(), 0) else {
        return;
    };
    for shape in [SealShape::Round, SealShape::Oval, SealShape::Square] {
        let spec = SealSpec {
            shape,
            name: "Ab 1".into(),
            purpose: Some("Z9".into()),
            number: Some("0123".into()),
            rgb: [1.0, 0.0, 0.0],
        };
        let _ = spec.draw(&font);
    }
    if let Ok(line) = font.outline("Ab 1 张") {
        let _ = line.to_art(7.0, [0.0; 3]);
    }
});
