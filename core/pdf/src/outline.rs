//! Text as glyph outlines: the signer's name and date under a handwritten signature, a seal's
//! text, a stamped date. Text drawn as filled paths looks the same in every viewer and
//! printer, needs no font in the PDF and none on the reader's machine, so it suits PDF/A.
//!
//! Outlines come from a [`TextOutliner`]: on servers and desktops the seal font
//! (`crate::seal::OutlineFont`, feature `seals`); on phones the platform's own font engine,
//! handed in by the app through the bindings, so the mobile library carries no font parser and
//! no font. Either way the outline is checked on the way in ([`TextOutline::new`]): finite,
//! bounded coordinates and a bounded number of segments, every path opened before it is drawn.

use crate::appearance::VectorArt;
use crate::path::{Affine, PathWriter};
use thiserror::Error;

/// Most segments in one outline (a line of 40 complex CJK glyphs needs about 10,000).
pub const MAX_OUTLINE_SEGMENTS: usize = 100_000;
/// Largest coordinate or advance, in ems.
pub const MAX_OUTLINE_EMS: f64 = 1_000.0;

/// One piece of an outline, points `[x, y]` in ems (1.0 = the font size), the origin on the
/// baseline where the text starts, y pointing up (as in PDF; platforms whose y points down
/// negate it).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum OutlineSegment {
    /// Start a new contour at the point.
    MoveTo([f64; 2]),
    /// A straight line to the point.
    LineTo([f64; 2]),
    /// A quadratic Bézier through a control point to the end point (TrueType).
    QuadTo([f64; 2], [f64; 2]),
    /// A cubic Bézier through two control points to the end point (CFF, PostScript).
    CubicTo([f64; 2], [f64; 2], [f64; 2]),
    /// Close the current contour.
    Close,
}

impl OutlineSegment {
    /// The segment's points (control points first, the end point last).
    fn points(&self) -> Vec<[f64; 2]> {
        match *self {
            OutlineSegment::MoveTo(p) | OutlineSegment::LineTo(p) => vec![p],
            OutlineSegment::QuadTo(c, p) => vec![c, p],
            OutlineSegment::CubicTo(c1, c2, p) => vec![c1, c2, p],
            OutlineSegment::Close => Vec::new(),
        }
    }

    /// The segment with every point mapped by `f`.
    #[cfg_attr(not(feature = "seals"), allow(dead_code))]
    fn map(self, f: impl Fn([f64; 2]) -> [f64; 2]) -> Self {
        match self {
            OutlineSegment::MoveTo(p) => OutlineSegment::MoveTo(f(p)),
            OutlineSegment::LineTo(p) => OutlineSegment::LineTo(f(p)),
            OutlineSegment::QuadTo(c, p) => OutlineSegment::QuadTo(f(c), f(p)),
            OutlineSegment::CubicTo(c1, c2, p) => OutlineSegment::CubicTo(f(c1), f(c2), f(p)),
            OutlineSegment::Close => OutlineSegment::Close,
        }
    }
}

/// Why text could not be drawn as outlines.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum OutlineError {
    /// The font cannot draw this text (a character it lacks): pick a font that covers it.
    #[error("the font cannot draw {0:?}")]
    Unsupported(String),
    /// The outline handed in is malformed (see [`TextOutline::new`]).
    #[error("text outline: {0}")]
    Invalid(String),
}

/// A line of text as filled contours (nonzero winding), with its advance width, in ems.
///
/// Fields are private: an outline exists only once [`TextOutline::new`] has checked it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TextOutline {
    advance: f64,
    segments: Vec<OutlineSegment>,
}

impl TextOutline {
    /// Check an outline: `advance` and every coordinate finite and within
    /// ±[`MAX_OUTLINE_EMS`], at most [`MAX_OUTLINE_SEGMENTS`] segments, and a contour opened
    /// (`MoveTo`) before any line or curve. A `Close` with no contour open (a font engine's
    /// double close) is dropped: PDF has no current point to close then.
    pub fn new(advance: f64, mut segments: Vec<OutlineSegment>) -> Result<Self, OutlineError> {
        let bounded = |v: f64| v.is_finite() && v.abs() <= MAX_OUTLINE_EMS;
        if !bounded(advance) || advance < 0.0 {
            return Err(OutlineError::Invalid(format!(
                "advance {advance} is not between 0 and {MAX_OUTLINE_EMS} ems"
            )));
        }
        if segments.len() > MAX_OUTLINE_SEGMENTS {
            return Err(OutlineError::Invalid(format!(
                "{} segments, more than {MAX_OUTLINE_SEGMENTS}",
                segments.len()
            )));
        }
        let mut open = false;
        let mut keep = Vec::with_capacity(segments.len());
        for (i, s) in segments.iter().enumerate() {
            if let Some(v) = s.points().into_iter().flatten().find(|v| !bounded(*v)) {
                return Err(OutlineError::Invalid(format!(
                    "segment {i} has the coordinate {v}, not a finite number within \
                     {MAX_OUTLINE_EMS} ems"
                )));
            }
            keep.push(open || !matches!(s, OutlineSegment::Close));
            match s {
                OutlineSegment::MoveTo { .. } => open = true,
                OutlineSegment::Close => open = false,
                _ if !open => {
                    return Err(OutlineError::Invalid(format!(
                        "segment {i} draws before a MoveTo opened a contour"
                    )));
                }
                _ => {}
            }
        }
        let mut kept = keep.into_iter();
        segments.retain(|_| kept.next().unwrap_or(true));
        Ok(TextOutline { advance, segments })
    }

    /// The advance width in ems.
    pub fn advance(&self) -> f64 {
        self.advance
    }

    /// The segments, in ems.
    pub fn segments(&self) -> &[OutlineSegment] {
        &self.segments
    }

    /// Append `other` shifted right by `dx` ems (laying out a line glyph by glyph); the
    /// advance grows by `other`'s.
    #[cfg_attr(not(feature = "seals"), allow(dead_code))]
    pub(crate) fn push_shifted(&mut self, other: &TextOutline, dx: f64) {
        self.segments.extend(
            other
                .segments
                .iter()
                .map(|seg| seg.map(|[x, y]| [x + dx, y])),
        );
        self.advance += other.advance;
    }

    /// Append the contours to `out`, mapped from ems by `to_page`; quadratic segments become
    /// the cubic Béziers PDF draws exactly.
    pub(crate) fn draw(&self, to_page: Affine, out: &mut PathWriter) {
        let at = |[x, y]: [f64; 2]| to_page.apply((x, y));
        let (mut start, mut current) = ([0.0, 0.0], [0.0, 0.0]);
        for seg in &self.segments {
            match *seg {
                OutlineSegment::MoveTo(p) => {
                    out.move_to(at(p));
                    (start, current) = (p, p);
                }
                OutlineSegment::LineTo(p) => {
                    out.line_to(at(p));
                    current = p;
                }
                OutlineSegment::QuadTo(q, p) => {
                    let toward = |a: [f64; 2]| {
                        [
                            a[0] + 2.0 / 3.0 * (q[0] - a[0]),
                            a[1] + 2.0 / 3.0 * (q[1] - a[1]),
                        ]
                    };
                    out.curve_to(at(toward(current)), at(toward(p)), at(p));
                    current = p;
                }
                OutlineSegment::CubicTo(c1, c2, p) => {
                    out.curve_to(at(c1), at(c2), at(p));
                    current = p;
                }
                OutlineSegment::Close => {
                    out.close();
                    current = start;
                }
            }
        }
    }

    /// The line as vector art at font size `size` points, filled in `rgb`: its box is the
    /// advance wide and 1.1 sizes high, the baseline 0.15 sizes above the bottom.
    pub fn to_art(&self, size: f64, rgb: [f32; 3]) -> VectorArt {
        let size = if size.is_finite() {
            size.clamp(0.1, 720.0)
        } else {
            12.0
        };
        let mut out = PathWriter::default();
        self.draw(Affine([size, 0.0, 0.0, size, 0.0, 0.15 * size]), &mut out);
        let [r, g, b] = rgb.map(|v| (f64::from(v.clamp(0.0, 1.0)) * 1000.0).round() / 1000.0);
        let content = if out.is_empty() {
            String::new()
        } else {
            out.paint("f");
            format!("q {r} {g} {b} rg\n{}Q\n", out.into_string())
        };
        VectorArt::new(content.into_bytes(), self.advance * size, size * 1.1)
    }
}

/// Something that turns a line of text into outlines: a font file's glyphs
/// (`crate::seal::OutlineFont`) or, on a phone, the platform's font engine through the
/// bindings. `Debug` so that appearances holding one can be printed.
pub trait TextOutliner: Send + Sync + std::fmt::Debug {
    /// The outline of `text` as one line.
    fn outline(&self, text: &str) -> Result<TextOutline, OutlineError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn square(dx: f64) -> Vec<OutlineSegment> {
        vec![
            OutlineSegment::MoveTo([dx, 0.0]),
            OutlineSegment::LineTo([dx + 0.5, 0.0]),
            OutlineSegment::QuadTo([dx + 0.5, 0.5], [dx + 0.5, 0.7]),
            OutlineSegment::LineTo([dx, 0.7]),
            OutlineSegment::Close,
        ]
    }

    #[test]
    fn bad_outlines_are_refused_with_the_reason() {
        let nan = vec![OutlineSegment::MoveTo([f64::NAN, 0.0])];
        let far = vec![OutlineSegment::MoveTo([0.0, 2e3])];
        let unopened = vec![OutlineSegment::LineTo([0.0, 1.0])];
        let after_close = [square(0.0), vec![OutlineSegment::LineTo([1.0, 1.0])]].concat();
        for (advance, segments, why) in [
            (1.0, nan, "coordinate NaN"),
            (1.0, far, "coordinate 2000"),
            (1.0, unopened, "segment 0 draws before a MoveTo"),
            (1.0, after_close, "segment 5 draws before a MoveTo"),
            (f64::INFINITY, vec![], "advance inf"),
            (-1.0, vec![], "advance -1"),
            (
                1.0,
                vec![OutlineSegment::MoveTo([0.0, 0.0]); MAX_OUTLINE_SEGMENTS + 1],
                "100001 segments",
            ),
        ] {
            let e = TextOutline::new(advance, segments).expect_err(why);
            assert!(e.to_string().contains(why), "{e} / {why}");
        }
    }

    #[test]
    fn a_close_with_no_contour_open_is_dropped() {
        let doubled = [
            vec![OutlineSegment::Close],
            square(0.0),
            vec![OutlineSegment::Close],
        ]
        .concat();
        let line = TextOutline::new(0.6, doubled).expect("valid");
        assert_eq!(line.segments(), square(0.0).as_slice());
    }

    #[test]
    fn art_is_scaled_filled_and_sized_by_the_advance() {
        let mut line = TextOutline::new(0.6, square(0.0)).expect("valid");
        line.push_shifted(&TextOutline::new(0.6, square(0.0)).expect("valid"), 0.6);
        assert_eq!(line.advance(), 1.2);
        let art = line.to_art(10.0, [0.2, 0.2, 0.2]);
        assert_eq!(art.size(), [12.0, 11.0]);
        let text = String::from_utf8(art.content().to_vec()).expect("ascii");
        assert!(
            text.starts_with("q 0.2 0.2 0.2 rg\n0 1.5 m\n5 1.5 l\n"),
            "{text}"
        );
        // The quadratic became a cubic through 2/3 of the way to its control point.
        assert!(text.contains("5 4.83 5 7.17 5 8.5 c\n"), "{text}");
        // The second square starts 6 points (0.6 em at 10 points) to the right.
        assert!(text.contains("6 1.5 m\n11 1.5 l\n"), "{text}");
        assert!(text.ends_with("h\nf\nQ\n"), "{text}");
        assert!(
            TextOutline::default()
                .to_art(10.0, [0.0; 3])
                .content()
                .is_empty()
        );
    }
}
