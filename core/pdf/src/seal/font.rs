//! Glyph outlines from a TrueType or OpenType font (a single font or a collection), for text
//! that must look the same in every viewer: seal text is drawn as filled paths, so no font is
//! embedded and no viewer substitutes one.
//!
//! The font file is outside input: it is size-limited, parsed by `ttf-parser` (which never
//! panics on malformed tables and bounds every read), and a glyph whose outline cannot be read
//! is a typed error, never an empty gap in a seal.

use super::SealError;
use super::path::{Affine, PathWriter};

/// Largest font file accepted (the CJK collections Debian ships are 5-25 MB).
pub const MAX_FONT_BYTES: usize = 48 << 20;

/// A parsed font whose glyph outlines seal text is drawn from.
#[derive(Clone)]
pub struct OutlineFont {
    data: Vec<u8>,
    index: u32,
    units_per_em: f64,
}

impl std::fmt::Debug for OutlineFont {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OutlineFont")
            .field("bytes", &self.data.len())
            .field("index", &self.index)
            .finish()
    }
}

/// One glyph's metrics in em units (1.0 = the font size).
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct GlyphBox {
    /// Horizontal advance.
    pub(crate) advance: f64,
    /// Ink bounds `[x0, y0, x1, y1]` (zero for a blank glyph such as a space).
    pub(crate) bounds: [f64; 4],
}

impl OutlineFont {
    /// Parse font `index` of a font file or collection (`.ttf`, `.otf`, `.ttc`).
    pub fn parse(data: Vec<u8>, index: u32) -> Result<Self, SealError> {
        if data.len() > MAX_FONT_BYTES {
            return Err(SealError::Font(format!(
                "font file of {} bytes is larger than {MAX_FONT_BYTES}",
                data.len()
            )));
        }
        let face = ttf_parser::Face::parse(&data, index)
            .map_err(|e| SealError::Font(format!("cannot read the font: {e}")))?;
        let units_per_em = f64::from(face.units_per_em());
        if units_per_em <= 0.0 {
            return Err(SealError::Font("the font has no units per em".into()));
        }
        Ok(OutlineFont {
            data,
            index,
            units_per_em,
        })
    }

    /// Read and parse a font file (face 0).
    pub fn from_file(path: &std::path::Path) -> Result<Self, SealError> {
        let len = std::fs::metadata(path)
            .map_err(|e| SealError::Font(format!("cannot read {}: {e}", path.display())))?
            .len();
        if len > MAX_FONT_BYTES as u64 {
            return Err(SealError::Font(format!(
                "{} is {len} bytes, larger than {MAX_FONT_BYTES}",
                path.display()
            )));
        }
        let data = std::fs::read(path)
            .map_err(|e| SealError::Font(format!("cannot read {}: {e}", path.display())))?;
        Self::parse(data, 0)
    }

    fn face(&self) -> Result<ttf_parser::Face<'_>, SealError> {
        ttf_parser::Face::parse(&self.data, self.index)
            .map_err(|e| SealError::Font(format!("cannot read the font: {e}")))
    }

    /// Whether every character of `text` has a glyph (blanks aside).
    pub fn covers(&self, text: &str) -> bool {
        self.face().is_ok_and(|face| {
            text.chars()
                .all(|c| c.is_whitespace() || face.glyph_index(c).is_some())
        })
    }

    /// Metrics of `c` in em units.
    pub(crate) fn glyph_box(&self, c: char) -> Result<GlyphBox, SealError> {
        let face = self.face()?;
        let id = face.glyph_index(c).ok_or(SealError::MissingGlyph(c))?;
        let em = self.units_per_em;
        let advance = f64::from(face.glyph_hor_advance(id).unwrap_or(0)) / em;
        let bounds = face
            .glyph_bounding_box(id)
            .map(|r| {
                [
                    f64::from(r.x_min) / em,
                    f64::from(r.y_min) / em,
                    f64::from(r.x_max) / em,
                    f64::from(r.y_max) / em,
                ]
            })
            .unwrap_or([0.0; 4]);
        Ok(GlyphBox { advance, bounds })
    }

    /// Append the outline of `c` to `out`, mapped from em units by `to_page`.
    pub(crate) fn draw(
        &self,
        c: char,
        to_page: Affine,
        out: &mut PathWriter,
    ) -> Result<(), SealError> {
        if c.is_whitespace() {
            return Ok(());
        }
        let face = self.face()?;
        let id = face.glyph_index(c).ok_or(SealError::MissingGlyph(c))?;
        let em = self.units_per_em;
        let mut sink = OutlineSink {
            out,
            map: to_page.then_scale(1.0 / em),
            start: (0.0, 0.0),
            current: (0.0, 0.0),
        };
        // A glyph with no contours (e.g. an unusual blank) draws nothing, which is right.
        let _ = face.outline_glyph(id, &mut sink);
        Ok(())
    }
}

/// Turns `ttf-parser` outline callbacks into PDF path operators; quadratic segments (TrueType)
/// become the cubic Béziers PDF draws exactly.
struct OutlineSink<'a> {
    out: &'a mut PathWriter,
    map: Affine,
    start: (f64, f64),
    current: (f64, f64),
}

impl ttf_parser::OutlineBuilder for OutlineSink<'_> {
    fn move_to(&mut self, x: f32, y: f32) {
        let p = (f64::from(x), f64::from(y));
        self.out.move_to(self.map.apply(p));
        self.start = p;
        self.current = p;
    }

    fn line_to(&mut self, x: f32, y: f32) {
        let p = (f64::from(x), f64::from(y));
        self.out.line_to(self.map.apply(p));
        self.current = p;
    }

    fn quad_to(&mut self, x1: f32, y1: f32, x: f32, y: f32) {
        let (q, p) = ((f64::from(x1), f64::from(y1)), (f64::from(x), f64::from(y)));
        let c0 = self.current;
        let c1 = (
            c0.0 + 2.0 / 3.0 * (q.0 - c0.0),
            c0.1 + 2.0 / 3.0 * (q.1 - c0.1),
        );
        let c2 = (p.0 + 2.0 / 3.0 * (q.0 - p.0), p.1 + 2.0 / 3.0 * (q.1 - p.1));
        self.out
            .curve_to(self.map.apply(c1), self.map.apply(c2), self.map.apply(p));
        self.current = p;
    }

    fn curve_to(&mut self, x1: f32, y1: f32, x2: f32, y2: f32, x: f32, y: f32) {
        let p = (f64::from(x), f64::from(y));
        self.out.curve_to(
            self.map.apply((f64::from(x1), f64::from(y1))),
            self.map.apply((f64::from(x2), f64::from(y2))),
            self.map.apply(p),
        );
        self.current = p;
    }

    fn close(&mut self) {
        self.out.close();
        self.current = self.start;
    }
}
