//! Glyph outlines from a TrueType or OpenType font (a single font or a collection), for text
//! that must look the same in every viewer: seal text is drawn as filled paths, so no font is
//! embedded and no viewer substitutes one.
//!
//! The font file is outside input: it is size-limited, parsed by `ttf-parser` (which never
//! panics on malformed tables and bounds every read), and a glyph whose outline cannot be read
//! is a typed error, never an empty gap in a seal.

use super::SealError;
use crate::outline::{OutlineError, OutlineSegment, TextOutline, TextOutliner};
use crate::path::{Affine, PathWriter};

/// Largest font file accepted (the CJK collections Debian ships are 5-25 MB).
pub const MAX_FONT_BYTES: usize = 48 << 20;

/// Where Debian's CJK font packages put their files, in order of preference: WenQuanYi Micro
/// Hei (`fonts-wqy-microhei`, Apache-2.0) first. Every one's licence allows its outlines in a
/// document.
pub const DEBIAN_CJK_FONTS: &[&str] = &[
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/arphic/uming.ttc",
    "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
];

/// The environment variable naming the font file to use instead of the Debian ones.
pub const FONT_ENV: &str = "INKSEAL_SEAL_FONT";

/// A parsed font whose glyph outlines seal text is drawn from.
#[derive(Clone)]
pub struct OutlineFont {
    /// Shared: a font is cloned into every appearance that draws with it.
    data: std::sync::Arc<[u8]>,
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
            data: data.into(),
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

    /// The font to draw seal and label text from: `explicit`, else `$INKSEAL_SEAL_FONT`, else
    /// the first of [`DEBIAN_CJK_FONTS`] installed; the error says how to get one.
    pub fn locate(explicit: Option<&std::path::Path>) -> Result<Self, SealError> {
        let chosen = explicit
            .map(std::path::Path::to_path_buf)
            .or_else(|| std::env::var_os(FONT_ENV).map(std::path::PathBuf::from))
            .or_else(|| {
                DEBIAN_CJK_FONTS
                    .iter()
                    .map(std::path::PathBuf::from)
                    .find(|p| p.is_file())
            });
        let path = chosen.ok_or_else(|| {
            SealError::Font(format!(
                "no font to draw Chinese text from: install Debian's fonts-wqy-microhei \
                 (apt-get install fonts-wqy-microhei), or name a TrueType or OpenType font with \
                 Chinese glyphs whose licence allows embedding (--seal-font FILE or ${FONT_ENV})"
            ))
        })?;
        Self::from_file(&path).map_err(|e| SealError::Font(format!("{}: {e}", path.display())))
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

    /// The outline of `c` in ems (a blank glyph such as a space has none, only its advance).
    pub(crate) fn glyph(&self, c: char) -> Result<TextOutline, SealError> {
        let face = self.face()?;
        let id = face.glyph_index(c).ok_or(SealError::MissingGlyph(c))?;
        let em = self.units_per_em;
        let advance = f64::from(face.glyph_hor_advance(id).unwrap_or(0)) / em;
        let mut sink = OutlineSink {
            em,
            segments: Vec::new(),
        };
        if !c.is_whitespace() {
            // A glyph with no contours (e.g. an unusual blank) draws nothing, which is right.
            let _ = face.outline_glyph(id, &mut sink);
        }
        TextOutline::new(advance, sink.segments)
            .map_err(|e| SealError::Font(format!("the glyph for {c:?}: {e}")))
    }

    /// Append the outline of `c` to `out`, mapped from em units by `to_page`.
    pub(crate) fn draw(
        &self,
        c: char,
        to_page: Affine,
        out: &mut PathWriter,
    ) -> Result<(), SealError> {
        self.glyph(c)?.draw(to_page, out);
        Ok(())
    }
}

impl TextOutliner for OutlineFont {
    /// The glyphs of `text` side by side at their advances (no kerning or shaping: enough for
    /// Chinese, digits and Latin names; a character the font lacks is refused).
    fn outline(&self, text: &str) -> Result<TextOutline, OutlineError> {
        let mut line = TextOutline::default();
        for c in text.chars() {
            let glyph = match self.glyph(c) {
                Ok(g) => g,
                Err(SealError::MissingGlyph(c)) => {
                    return Err(OutlineError::Unsupported(c.to_string()));
                }
                Err(e) => return Err(OutlineError::Invalid(e.to_string())),
            };
            line.push_shifted(&glyph, line.advance());
            if line.segments().len() > crate::outline::MAX_OUTLINE_SEGMENTS {
                return Err(OutlineError::Invalid(format!(
                    "{text:?} needs more than {} segments",
                    crate::outline::MAX_OUTLINE_SEGMENTS
                )));
            }
        }
        // Checked like any outline from outside (the advance of a long line included).
        TextOutline::new(line.advance(), line.segments().to_vec())
    }
}

/// Collects `ttf-parser` outline callbacks as segments in ems.
struct OutlineSink {
    em: f64,
    segments: Vec<OutlineSegment>,
}

impl OutlineSink {
    fn p(&self, x: f32, y: f32) -> [f64; 2] {
        [f64::from(x) / self.em, f64::from(y) / self.em]
    }
}

impl ttf_parser::OutlineBuilder for OutlineSink {
    fn move_to(&mut self, x: f32, y: f32) {
        let p = self.p(x, y);
        self.segments.push(OutlineSegment::MoveTo(p));
    }

    fn line_to(&mut self, x: f32, y: f32) {
        let p = self.p(x, y);
        self.segments.push(OutlineSegment::LineTo(p));
    }

    fn quad_to(&mut self, x1: f32, y1: f32, x: f32, y: f32) {
        let (c, p) = (self.p(x1, y1), self.p(x, y));
        self.segments.push(OutlineSegment::QuadTo(c, p));
    }

    fn curve_to(&mut self, x1: f32, y1: f32, x2: f32, y2: f32, x: f32, y: f32) {
        let (c1, c2, p) = (self.p(x1, y1), self.p(x2, y2), self.p(x, y));
        self.segments.push(OutlineSegment::CubicTo(c1, c2, p));
    }

    fn close(&mut self) {
        self.segments.push(OutlineSegment::Close);
    }
}
