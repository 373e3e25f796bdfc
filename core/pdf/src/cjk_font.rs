//! The non-embedded Adobe CJK font STSong-Light (Adobe-GB1, UniGB-UCS2-H encoding), which
//! conforming readers provide, so Chinese text renders without embedding a font program. Used
//! by signature labels and evidence reports. Not PDF/A (PDF/A requires embedded fonts).

use crate::object::{Dictionary, Object};

/// Width of an ASCII character (CIDs 1-95) in 1/1000 em; everything else is full width.
const HALF_WIDTH: i64 = 500;

/// The Type0 font dictionary, to be placed in a resource dictionary's `/Font`.
pub fn dictionary() -> Dictionary {
    Dictionary::new()
        .with(b"Type", Object::name("Font"))
        .with(b"Subtype", Object::name("Type0"))
        .with(b"BaseFont", Object::name("STSong-Light"))
        .with(b"Encoding", Object::name("UniGB-UCS2-H"))
        .with(
            b"DescendantFonts",
            Object::Array(vec![Object::Dictionary(
                Dictionary::new()
                    .with(b"Type", Object::name("Font"))
                    .with(b"Subtype", Object::name("CIDFontType0"))
                    .with(b"BaseFont", Object::name("STSong-Light"))
                    .with(
                        b"CIDSystemInfo",
                        Object::Dictionary(
                            Dictionary::new()
                                .with(b"Registry", Object::string("Adobe"))
                                .with(b"Ordering", Object::string("GB1"))
                                .with(b"Supplement", Object::Integer(2)),
                        ),
                    )
                    .with(
                        b"FontDescriptor",
                        Object::Dictionary(
                            Dictionary::new()
                                .with(b"Type", Object::name("FontDescriptor"))
                                .with(b"FontName", Object::name("STSong-Light"))
                                .with(b"Flags", Object::Integer(6))
                                .with(
                                    b"FontBBox",
                                    Object::Array(
                                        [-25, -254, 1000, 880]
                                            .iter()
                                            .map(|v| Object::Integer(*v))
                                            .collect(),
                                    ),
                                )
                                .with(b"ItalicAngle", Object::Integer(0))
                                .with(b"Ascent", Object::Integer(880))
                                .with(b"Descent", Object::Integer(-120))
                                .with(b"CapHeight", Object::Integer(880))
                                .with(b"StemV", Object::Integer(93)),
                        ),
                    )
                    .with(b"DW", Object::Integer(1000))
                    // ASCII (CIDs 1-95 in Adobe-GB1) is half width.
                    .with(
                        b"W",
                        Object::Array(vec![
                            Object::Integer(1),
                            Object::Integer(95),
                            Object::Integer(HALF_WIDTH),
                        ]),
                    ),
            )]),
        )
}

/// `text` as the hex of its UCS-2 code units, for a `<...> Tj` with this font (characters
/// outside the Basic Multilingual Plane are replaced by U+FFFD).
pub fn ucs2_hex(text: &str) -> String {
    let mut hex = String::with_capacity(text.len() * 4);
    for c in text.chars() {
        let unit = u16::try_from(u32::from(c)).unwrap_or(0xFFFD);
        hex.push_str(&format!("{unit:04X}"));
    }
    hex
}

/// Width of `text` in points at `size`: ASCII is half width, everything else full width.
pub fn text_width(text: &str, size: f64) -> f64 {
    text.chars()
        .map(|c| {
            if (' '..='~').contains(&c) {
                HALF_WIDTH as f64
            } else {
                1000.0
            }
        })
        .sum::<f64>()
        * size
        / 1000.0
}
