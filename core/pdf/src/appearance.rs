//! Visible signature appearances: handwriting as vector paths plus a label (signer, time).
//!
//! The label uses the non-embedded Adobe CJK font STSong-Light with the UniGB-UCS2-H encoding,
//! which every conforming reader provides, so Chinese names render without embedding a font.

use crate::filters::deflate;
use crate::object::{Dictionary, Object, Stream, format_real};

/// Handwriting as strokes of points in pad coordinates (origin top-left, y down).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct InkStrokes {
    /// Pad width in pad units.
    pub width: f32,
    /// Pad height in pad units.
    pub height: f32,
    /// Strokes, each a polyline of (x, y) points.
    pub strokes: Vec<Vec<[f32; 2]>>,
}

/// What the widget shows.
#[derive(Clone, Debug, Default)]
pub struct AppearanceSpec {
    /// The handwriting, drawn as vector paths.
    pub ink: Option<InkStrokes>,
    /// Text under the ink (signer name, time...), possibly several lines.
    pub label: Vec<String>,
    /// Ink colour, RGB 0..1 (default dark blue).
    pub ink_rgb: Option<[f32; 3]>,
    /// Ink width in points (default 1.6).
    pub ink_width: Option<f32>,
}

const LABEL_SIZE: f64 = 7.0;

/// Build the appearance stream's content for a box of `w` x `h` points.
pub fn content(spec: &AppearanceSpec, w: f64, h: f64) -> Vec<u8> {
    let mut c = String::new();
    let label_h = if spec.label.is_empty() {
        0.0
    } else {
        spec.label.len() as f64 * (LABEL_SIZE + 1.5) + 2.0
    };
    if let Some(ink) = spec.ink.as_ref().filter(|i| !i.strokes.is_empty()) {
        let [r, g, b] = spec.ink_rgb.unwrap_or([0.05, 0.1, 0.45]);
        let lw = f64::from(spec.ink_width.unwrap_or(1.6));
        c.push_str(&format!(
            "q {} {} {} RG {} w 1 J 1 j\n",
            format_real(f64::from(r)),
            format_real(f64::from(g)),
            format_real(f64::from(b)),
            format_real(lw)
        ));
        // Fit the ink's bounding box into the area above the label, keeping its aspect ratio.
        let (mut x0, mut y0, mut x1, mut y1) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
        for p in ink.strokes.iter().flatten() {
            let (x, y) = (f64::from(p[0]), f64::from(p[1]));
            if x.is_finite() && y.is_finite() {
                x0 = x0.min(x);
                y0 = y0.min(y);
                x1 = x1.max(x);
                y1 = y1.max(y);
            }
        }
        let (bw, bh) = ((x1 - x0).max(1.0), (y1 - y0).max(1.0));
        let (aw, ah) = ((w - 2.0 * lw).max(1.0), (h - label_h - 2.0 * lw).max(1.0));
        let scale = (aw / bw).min(ah / bh);
        let ox = lw + (aw - bw * scale) / 2.0;
        let oy = label_h + lw + (ah - bh * scale) / 2.0;
        let map = |p: &[f32; 2]| -> (f64, f64) {
            let x = ox + (f64::from(p[0]) - x0) * scale;
            // Pad y grows downwards, PDF y upwards.
            let y = oy + (y1 - f64::from(p[1])) * scale;
            (x, y)
        };
        for stroke in &ink.strokes {
            let pts: Vec<(f64, f64)> = stroke
                .iter()
                .filter(|p| p[0].is_finite() && p[1].is_finite())
                .map(map)
                .collect();
            let Some(first) = pts.first() else { continue };
            c.push_str(&format!(
                "{} {} m\n",
                format_real(first.0),
                format_real(first.1)
            ));
            if pts.len() == 1 {
                // A dot: a zero-length line with round caps.
                c.push_str(&format!(
                    "{} {} l\n",
                    format_real(first.0),
                    format_real(first.1)
                ));
            }
            // Quadratic smoothing through segment midpoints, written as cubic Béziers.
            for win in pts.windows(3) {
                let (p0, p1, p2) = (win[0], win[1], win[2]);
                let m0 = ((p0.0 + p1.0) / 2.0, (p0.1 + p1.1) / 2.0);
                let m1 = ((p1.0 + p2.0) / 2.0, (p1.1 + p2.1) / 2.0);
                let c1 = (
                    m0.0 + 2.0 / 3.0 * (p1.0 - m0.0),
                    m0.1 + 2.0 / 3.0 * (p1.1 - m0.1),
                );
                let c2 = (
                    m1.0 + 2.0 / 3.0 * (p1.0 - m1.0),
                    m1.1 + 2.0 / 3.0 * (p1.1 - m1.1),
                );
                c.push_str(&format!(
                    "{} {} l {} {} {} {} {} {} c\n",
                    format_real(m0.0),
                    format_real(m0.1),
                    format_real(c1.0),
                    format_real(c1.1),
                    format_real(c2.0),
                    format_real(c2.1),
                    format_real(m1.0),
                    format_real(m1.1)
                ));
            }
            if let Some(last) = pts.last().filter(|_| pts.len() > 1) {
                c.push_str(&format!(
                    "{} {} l\n",
                    format_real(last.0),
                    format_real(last.1)
                ));
            }
            c.push_str("S\n");
        }
        c.push_str("Q\n");
    }
    if !spec.label.is_empty() {
        c.push_str("q 0.2 0.2 0.2 rg BT\n");
        for (i, line) in spec.label.iter().enumerate() {
            let y = label_h - 1.0 - (i as f64 + 1.0) * (LABEL_SIZE + 1.5) + 1.5;
            let mut hex = String::new();
            for unit in line.encode_utf16() {
                hex.push_str(&format!("{unit:04X}"));
            }
            c.push_str(&format!(
                "/F1 {} Tf 1 0 0 1 2 {} Tm <{hex}> Tj\n",
                format_real(LABEL_SIZE),
                format_real(y.max(0.0))
            ));
        }
        c.push_str("ET Q\n");
    }
    c.into_bytes()
}

/// The appearance as a Form XObject for a `w` x `h` box.
pub fn form_xobject(spec: &AppearanceSpec, w: f64, h: f64) -> Object {
    let font = Dictionary::new()
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
                    .with(b"DW", Object::Integer(1000)),
            )]),
        );
    let resources = Dictionary::new().with(
        b"Font",
        Object::Dictionary(Dictionary::new().with(b"F1", Object::Dictionary(font))),
    );
    let dict = Dictionary::new()
        .with(b"Type", Object::name("XObject"))
        .with(b"Subtype", Object::name("Form"))
        .with(
            b"BBox",
            Object::Array(vec![
                Object::Integer(0),
                Object::Integer(0),
                Object::Real(w),
                Object::Real(h),
            ]),
        )
        .with(b"Resources", Object::Dictionary(resources))
        .with(b"Filter", Object::name("FlateDecode"));
    Object::Stream(Stream {
        dict,
        data: deflate(&content(spec, w, h)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ink_is_fitted_inside_the_box_and_never_nan() {
        let spec = AppearanceSpec {
            ink: Some(InkStrokes {
                width: 300.0,
                height: 100.0,
                strokes: vec![
                    vec![[10.0, 10.0], [50.0, 80.0], [90.0, 20.0], [f32::NAN, 1.0]],
                    vec![[200.0, 50.0]],
                ],
            }),
            label: vec!["张三 2026-11-24 10:00 UTC".into()],
            ..Default::default()
        };
        let text = String::from_utf8(content(&spec, 150.0, 60.0)).expect("ascii");
        assert!(!text.contains("NaN") && !text.contains("inf"));
        for tok in text.split_whitespace() {
            if let Ok(v) = tok.parse::<f64>() {
                assert!((-1.0..=151.0).contains(&v) || tok.len() <= 2, "{tok}");
            }
        }
        assert!(text.contains("<5F204E09"), "label as UCS-2: {text}");
    }
}
