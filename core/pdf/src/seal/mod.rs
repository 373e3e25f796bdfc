//! Institution seals drawn as vector art: the round contract seal (合同专用章), the oval seal,
//! and the square personal name seal.
//!
//! Every stroke of a seal, its text included, is a filled or stroked path: the text comes from
//! a font's glyph outlines ([`OutlineFont`]), so the seal looks the same in every viewer and
//! printer, needs no font in the PDF and none on the reader's machine (and so suits PDF/A).
//! The geometry follows the common layout of Chinese official seals: the name set along the
//! upper arc reading left to right, a five-pointed star in the centre, the purpose across the
//! middle under the star, and an optional seal number along the lower arc.
//!
//! A seal is drawn at its size on paper (42 mm round, 45 x 30 mm oval, 20 mm square) and
//! scaled by the appearance that shows it; an institution's registered seal image goes through
//! [`crate::appearance::AppearanceSpec::image`] instead (a PNG's transparency is kept as a
//! soft mask).

mod font;

pub use font::{DEBIAN_CJK_FONTS, FONT_ENV, MAX_FONT_BYTES, OutlineFont};

use crate::appearance::VectorArt;
use crate::outline::TextOutliner;
use crate::path::{Affine, PathWriter};
use std::f64::consts::PI;
use thiserror::Error;

/// Why a seal could not be drawn.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum SealError {
    /// The font file is unreadable or too large.
    #[error("seal font: {0}")]
    Font(String),
    /// The font has no glyph for a character of the seal's text: pick a font that covers it.
    #[error("the seal font has no glyph for {0:?}")]
    MissingGlyph(char),
    /// A text of the seal is empty or longer than a seal can hold.
    #[error("seal {field}: {reason}")]
    Text {
        /// Which text (institution, purpose, number, name).
        field: &'static str,
        /// What is wrong with it.
        reason: String,
    },
}

/// The seal's outline.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SealShape {
    /// Round, 42 mm: the official and contract seals of companies.
    Round,
    /// Oval, 45 x 30 mm: financial and invoice seals.
    Oval,
    /// Square, 20 mm: a person's name seal (the name read in columns from the right, with
    /// 之印 or 印 added to make four characters).
    Square,
}

/// What a generated seal shows.
#[derive(Clone, Debug, PartialEq)]
pub struct SealSpec {
    /// Outline.
    pub shape: SealShape,
    /// The institution's name along the upper arc (round, oval), or the person's name
    /// (square).
    pub name: String,
    /// The seal's purpose across the middle, e.g. 合同专用章 (round, oval).
    pub purpose: Option<String>,
    /// A seal number along the lower arc, e.g. the registration number (round, oval).
    pub number: Option<String>,
    /// Seal ink, RGB 0..1 (default: seal red).
    pub rgb: [f32; 3],
}

/// Seal red (a cinnabar close to the ink of physical seals).
pub const SEAL_RED: [f32; 3] = [0.86, 0.07, 0.09];

/// Longest institution name along the arc, in characters.
pub const MAX_NAME_CHARS: usize = 40;
/// Longest purpose, in characters.
pub const MAX_PURPOSE_CHARS: usize = 12;
/// Longest seal number, in characters.
pub const MAX_NUMBER_CHARS: usize = 24;
/// Longest personal name on a square seal.
pub const MAX_PERSON_CHARS: usize = 8;

const MM: f64 = 72.0 / 25.4;

impl SealSpec {
    /// A round contract seal: `institution` along the arc, 合同专用章 across the middle.
    pub fn contract_seal(institution: &str) -> Self {
        SealSpec {
            shape: SealShape::Round,
            name: institution.to_owned(),
            purpose: Some("合同专用章".into()),
            number: None,
            rgb: SEAL_RED,
        }
    }

    /// Draw the seal with glyphs from `font`.
    pub fn draw(&self, font: &OutlineFont) -> Result<VectorArt, SealError> {
        let name = checked_text(
            "name",
            &self.name,
            match self.shape {
                SealShape::Square => MAX_PERSON_CHARS,
                _ => MAX_NAME_CHARS,
            },
        )?;
        let purpose = self
            .purpose
            .as_deref()
            .map(|p| checked_text("purpose", p, MAX_PURPOSE_CHARS))
            .transpose()?;
        let number = self
            .number
            .as_deref()
            .map(|n| checked_text("number", n, MAX_NUMBER_CHARS))
            .transpose()?;
        for c in name
            .iter()
            .chain(purpose.iter().flatten())
            .chain(number.iter().flatten())
        {
            if !c.is_whitespace() {
                font.glyph_box(*c)?;
            }
        }
        let (w, h, body) = match self.shape {
            SealShape::Round => round(font, &name, purpose.as_deref(), number.as_deref())?,
            SealShape::Oval => oval(font, &name, purpose.as_deref(), number.as_deref())?,
            SealShape::Square => square(font, &name)?,
        };
        let [r, g, b] = self.rgb.map(|v| f64::from(v.clamp(0.0, 1.0)));
        let content = format!(
            "q {} {} {} rg {} {} {} RG\n{body}Q\n",
            short(r),
            short(g),
            short(b),
            short(r),
            short(g),
            short(b)
        );
        Ok(VectorArt::new(content.into_bytes(), w, h))
    }
}

/// A line of text as vector art (glyph outlines, no font needed by the viewer): e.g. the
/// signing date stamped on a contract's date line. `size` is the font size in points.
pub fn text_line(
    font: &OutlineFont,
    text: &str,
    size: f64,
    rgb: [f32; 3],
) -> Result<VectorArt, SealError> {
    let chars = checked_text("text", text, 200)?;
    if !(size.is_finite() && size > 0.0 && size <= 720.0) {
        return Err(SealError::Text {
            field: "text",
            reason: format!("font size {size} is not between 0 and 720 points"),
        });
    }
    let text: String = chars.iter().collect();
    let line = font.outline(&text).map_err(|e| match e {
        crate::outline::OutlineError::Unsupported(c) => {
            SealError::MissingGlyph(c.chars().next().unwrap_or('\u{fffd}'))
        }
        crate::outline::OutlineError::Invalid(why) => SealError::Font(why),
    })?;
    Ok(line.to_art(size, rgb))
}

fn short(v: f64) -> String {
    format!("{}", (v * 1000.0).round() / 1000.0)
}

fn checked_text(field: &'static str, text: &str, max: usize) -> Result<Vec<char>, SealError> {
    let chars: Vec<char> = text.trim().chars().collect();
    if chars.is_empty() {
        return Err(SealError::Text {
            field,
            reason: "is empty".into(),
        });
    }
    if chars.len() > max {
        return Err(SealError::Text {
            field,
            reason: format!("has {} characters, more than {max}", chars.len()),
        });
    }
    if let Some(c) = chars.iter().find(|c| c.is_control()) {
        return Err(SealError::Text {
            field,
            reason: format!("holds the control character {c:?}"),
        });
    }
    Ok(chars)
}

/// A curve text is set on, by arc length: `point(t)` for `t` in `0..=1`, traversed in the
/// reading direction (glyphs stand on its left side).
struct Curve<'a> {
    point: &'a dyn Fn(f64) -> (f64, f64),
}

const SAMPLES: usize = 720;

impl Curve<'_> {
    /// Cumulative lengths of the sampled curve.
    fn lengths(&self) -> Vec<f64> {
        let mut out = Vec::with_capacity(SAMPLES + 1);
        let mut total = 0.0;
        let mut prev = (self.point)(0.0);
        out.push(0.0);
        for i in 1..=SAMPLES {
            let p = (self.point)(i as f64 / SAMPLES as f64);
            total += ((p.0 - prev.0).powi(2) + (p.1 - prev.1).powi(2)).sqrt();
            out.push(total);
            prev = p;
        }
        out
    }

    /// The point at arc length `s` and the unit tangent there.
    fn at(&self, lengths: &[f64], s: f64) -> ((f64, f64), (f64, f64)) {
        let i = lengths.partition_point(|l| *l < s).clamp(1, SAMPLES);
        let (l0, l1) = (lengths[i - 1], lengths[i]);
        let f = if l1 > l0 { (s - l0) / (l1 - l0) } else { 0.0 };
        let t = ((i - 1) as f64 + f) / SAMPLES as f64;
        let p = (self.point)(t);
        let (a, b) = (
            (self.point)(((i - 1) as f64) / SAMPLES as f64),
            (self.point)(i as f64 / SAMPLES as f64),
        );
        let (dx, dy) = (b.0 - a.0, b.1 - a.1);
        let n = (dx * dx + dy * dy).sqrt().max(1e-12);
        (p, (dx / n, dy / n))
    }
}

/// Set `text` at font size `em` on `curve`, centred on it. Characters are spaced by `gap`
/// ems at most and narrowed when the text is longer than the curve. The baseline lies on the
/// curve; glyphs stand on its left side.
fn text_on_curve(
    font: &OutlineFont,
    text: &[char],
    em: f64,
    gap: f64,
    curve: &Curve<'_>,
    out: &mut PathWriter,
) -> Result<(), SealError> {
    let boxes = text
        .iter()
        .map(|c| font.glyph_box(*c))
        .collect::<Result<Vec<_>, _>>()?;
    let lengths = curve.lengths();
    let available = lengths[SAMPLES];
    let advances: f64 = boxes.iter().map(|b| b.advance * em).sum();
    let gaps = gap * em * (text.len().saturating_sub(1)) as f64;
    let natural = advances + gaps;
    // Narrow the glyphs (not only the gaps) when the text is too long: seal makers do the
    // same, setting long names in condensed type.
    let squeeze = if natural > available && natural > 0.0 {
        available / natural
    } else {
        1.0
    };
    let mut s = (available - natural * squeeze) / 2.0;
    for (c, b) in text.iter().zip(&boxes) {
        let width = b.advance * em * squeeze;
        let ((x, y), (tx, ty)) = curve.at(&lengths, s + width / 2.0);
        let place = Affine::rotate_translate(ty.atan2(tx), (x, y)).then_local(
            squeeze,
            1.0,
            -b.advance * em / 2.0,
            0.0,
        );
        font.draw(*c, place.then_scale(em), out)?;
        s += width + gap * em * squeeze;
    }
    Ok(())
}

/// A five-pointed star, point up, filled.
fn star(out: &mut PathWriter, (cx, cy): (f64, f64), r: f64) {
    // The inner corners of a regular five-pointed star: sin 18° / sin 126° of the points'.
    let inner = r * (PI / 10.0).sin() / (0.7 * PI).sin();
    for k in 0..10 {
        let radius = if k % 2 == 0 { r } else { inner };
        let a = PI / 2.0 + f64::from(k) * PI / 5.0;
        let p = (cx + radius * a.cos(), cy + radius * a.sin());
        if k == 0 {
            out.move_to(p);
        } else {
            out.line_to(p);
        }
    }
    out.close();
    out.paint("f");
}

type Drawn = (f64, f64, String);

/// An elliptical seal (a circle when `rx == ry`): ring, name on the upper arc, optional star,
/// purpose across the middle, number on the lower arc.
#[allow(clippy::too_many_arguments)]
fn elliptical(
    font: &OutlineFont,
    rx: f64,
    ry: f64,
    with_star: bool,
    name: &[char],
    purpose: Option<&[char]>,
    number: Option<&[char]>,
) -> Result<Drawn, SealError> {
    let c = (rx, ry);
    let small = rx.min(ry);
    let ring = 0.055 * small;
    let mut out = PathWriter::default();
    out.paint(&format!("{} w", (ring * 100.0).round() / 100.0));
    out.ellipse(c, rx - ring / 2.0, ry - ring / 2.0);
    out.paint("S");

    // The name: baseline on an inner ellipse, read clockwise over the top.
    let em = 0.29 * small;
    let inset = ring + 0.05 * small + 0.86 * em;
    let (ax, ay) = (rx - inset, ry - inset);
    let span = if with_star { 1.36 * PI } else { 1.1 * PI };
    let start = PI / 2.0 + span / 2.0;
    let upper = move |t: f64| {
        let a = start - span * t;
        (c.0 + ax * a.cos(), c.1 + ay * a.sin())
    };
    text_on_curve(font, name, em, 0.08, &Curve { point: &upper }, &mut out)?;
    out.paint("f");

    if with_star {
        star(&mut out, c, 0.33 * small);
    }
    if let Some(purpose) = purpose {
        let pem = 0.2 * small;
        let y = if with_star {
            c.1 - 0.62 * small
        } else {
            c.1 - 0.2 * small
        };
        let half = 0.62 * rx.min(1.4 * small);
        let line = move |t: f64| (c.0 - half + 2.0 * half * t, y);
        text_on_curve(font, purpose, pem, 0.05, &Curve { point: &line }, &mut out)?;
        out.paint("f");
    }
    if let Some(number) = number {
        // Along the lower arc, read left to right, the glyphs' tops toward the centre.
        let nem = 0.11 * small;
        let (bx, by) = (rx - ring - 0.06 * small, ry - ring - 0.06 * small);
        let nspan = 0.45 * PI;
        let nstart = 1.5 * PI - nspan / 2.0;
        let lower = move |t: f64| {
            let a = nstart + nspan * t;
            (c.0 + bx * a.cos(), c.1 + by * a.sin())
        };
        text_on_curve(font, number, nem, 0.02, &Curve { point: &lower }, &mut out)?;
        out.paint("f");
    }
    Ok((2.0 * rx, 2.0 * ry, out.into_string()))
}

fn round(
    font: &OutlineFont,
    name: &[char],
    purpose: Option<&[char]>,
    number: Option<&[char]>,
) -> Result<Drawn, SealError> {
    let r = 21.0 * MM;
    elliptical(font, r, r, true, name, purpose, number)
}

fn oval(
    font: &OutlineFont,
    name: &[char],
    purpose: Option<&[char]>,
    number: Option<&[char]>,
) -> Result<Drawn, SealError> {
    elliptical(font, 22.5 * MM, 15.0 * MM, false, name, purpose, number)
}

/// A square name seal: the name (made up to four characters with 之印 or 印) read in columns
/// from the right, each glyph stretched to fill its cell, inside a heavy border.
fn square(font: &OutlineFont, name: &[char]) -> Result<Drawn, SealError> {
    let side = 20.0 * MM;
    let mut chars = name.to_vec();
    match chars.len() {
        1 | 2 => chars.extend(['之', '印'].iter().take(4 - chars.len().max(2))),
        3 => chars.push('印'),
        _ => {}
    }
    if chars.len() == 3 {
        // One character and 之印 make three; centre nothing, keep columns even.
        chars.insert(1, ' ');
    }
    let rows = chars.len().div_ceil(2);
    let border = 0.07 * side;
    let mut out = PathWriter::default();
    out.paint(&format!("{} w", (border * 100.0).round() / 100.0));
    out.move_to((border / 2.0, border / 2.0));
    out.line_to((side - border / 2.0, border / 2.0));
    out.line_to((side - border / 2.0, side - border / 2.0));
    out.line_to((border / 2.0, side - border / 2.0));
    out.close();
    out.paint("S");
    let inner = side - 2.0 * border - 0.06 * side;
    let origin = border + 0.03 * side;
    let (cw, ch) = (inner / 2.0, inner / rows as f64);
    for (i, c) in chars.iter().enumerate() {
        if c.is_whitespace() {
            continue;
        }
        let (col, row) = (i / rows, i % rows);
        // Column 0 is the right one.
        let x0 = origin + inner - (col as f64 + 1.0) * cw;
        let y0 = origin + inner - (row as f64 + 1.0) * ch;
        let b = font.glyph_box(*c)?.bounds;
        let (bw, bh) = ((b[2] - b[0]).max(1e-3), (b[3] - b[1]).max(1e-3));
        let (sx, sy) = (0.9 * cw / bw, 0.9 * ch / bh);
        let place = Affine([
            sx,
            0.0,
            0.0,
            sy,
            x0 + 0.05 * cw - b[0] * sx,
            y0 + 0.05 * ch - b[1] * sy,
        ]);
        font.draw(*c, place, &mut out)?;
    }
    if !out.is_empty() {
        out.paint("f");
    }
    Ok((side, side, out.into_string()))
}
