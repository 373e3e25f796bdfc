//! Visible signature appearances: handwriting as vector paths plus a label (signer, time).
//!
//! The label is drawn as glyph outlines from the appearance's [`AppearanceSpec::label_font`]
//! (see [`crate::outline`]): no font is embedded or referenced, so every viewer (Ghostscript
//! included) shows the same name and date, and the appearance suits PDF/A. A label without a
//! font to draw it is refused rather than left to a font the viewer may lack.

use crate::filters::deflate;
use crate::object::{Dictionary, Object, ObjectId, Stream, format_real};
use crate::outline::TextOutliner;
use crate::writer::IncrementalUpdate;
use inkseal_ink::{Pad, Point, Stroke, to_pdf_path};

/// Handwriting as recorded on the pad: raw strokes (pad coordinates, origin top-left, y down)
/// and the pad they were written on. The appearance draws them with core/ink's smoothing
/// (filled variable-width outlines), the same ink the signer saw on screen.
#[derive(Clone, Debug, PartialEq)]
pub struct InkStrokes {
    /// The pad the strokes were written on (its size scales the pen width).
    pub pad: Pad,
    /// The raw strokes.
    pub strokes: Vec<Stroke>,
}

impl InkStrokes {
    /// Strokes given as polylines of `[x, y]` pad points, timed 8 ms apart at mid pressure
    /// (for ink that arrives without timing, e.g. a stroke file or a test).
    pub fn from_polylines(pad: Pad, polylines: &[Vec<[f32; 2]>]) -> Self {
        let mut t = 0u32;
        let strokes = polylines
            .iter()
            .map(|line| Stroke {
                points: line
                    .iter()
                    .map(|p| {
                        t = t.saturating_add(8);
                        Point::new(p[0], p[1], t)
                    })
                    .collect(),
            })
            .collect();
        Self { pad, strokes }
    }
}

/// What the widget shows.
#[derive(Clone, Debug, Default)]
pub struct AppearanceSpec {
    /// The handwriting, drawn as vector paths.
    pub ink: Option<InkStrokes>,
    /// Text under the ink (signer name, time...), possibly several lines; needs
    /// `label_font`.
    pub label: Vec<String>,
    /// What draws the label as outlines: the seal font (`crate::seal::OutlineFont`) on a
    /// server or desktop, the platform's font engine on a phone.
    pub label_font: Option<std::sync::Arc<dyn TextOutliner>>,
    /// Ink colour, RGB 0..1 (default dark blue).
    pub ink_rgb: Option<[f32; 3]>,
    /// A PNG or JPEG image of the handwriting, drawn instead of `ink` when given.
    pub image: Option<Vec<u8>>,
    /// Vector art (an institution seal, see `crate::seal`), fitted into the box above the
    /// label, drawn over the handwriting or image.
    pub art: Option<VectorArt>,
}

/// Paths drawn in their own box `[0 0 width height]`, needing no resources: made by this
/// crate (a generated seal), never parsed from outside input.
#[derive(Clone, Debug, PartialEq)]
pub struct VectorArt {
    content: Vec<u8>,
    width: f64,
    height: f64,
}

impl VectorArt {
    #[cfg_attr(not(feature = "seals"), allow(dead_code))]
    pub(crate) fn new(content: Vec<u8>, width: f64, height: f64) -> Self {
        VectorArt {
            content,
            width,
            height,
        }
    }

    /// The content stream operators (paths only).
    pub fn content(&self) -> &[u8] {
        &self.content
    }

    /// Natural size `[width, height]` in points (the size on paper).
    pub fn size(&self) -> [f64; 2] {
        [self.width, self.height]
    }
}

/// Largest image accepted for an appearance (encoded bytes, and pixels on either side).
pub const MAX_IMAGE_BYTES: usize = 8 << 20;
/// Largest image side in pixels.
pub const MAX_IMAGE_SIDE: u32 = 4096;

/// A decoded appearance image: RGB samples and an alpha mask, both Flate-compressed.
struct DecodedImage {
    width: u32,
    height: u32,
    rgb: Vec<u8>,
    alpha: Vec<u8>,
}

/// Decode a PNG/JPEG with size limits; errors say why in words.
fn decode_image(bytes: &[u8]) -> Result<DecodedImage, String> {
    if bytes.len() > MAX_IMAGE_BYTES {
        return Err(format!(
            "image of {} bytes is larger than {MAX_IMAGE_BYTES}",
            bytes.len()
        ));
    }
    let mut reader = image::ImageReader::new(std::io::Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| format!("image: {e}"))?;
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(MAX_IMAGE_SIDE);
    limits.max_image_height = Some(MAX_IMAGE_SIDE);
    limits.max_alloc = Some(256 << 20);
    reader.limits(limits);
    let img = reader
        .decode()
        .map_err(|e| format!("image: {e}"))?
        .to_rgba8();
    let (width, height) = img.dimensions();
    let mut rgb = Vec::with_capacity((width * height * 3) as usize);
    let mut alpha = Vec::with_capacity((width * height) as usize);
    for px in img.pixels() {
        rgb.extend_from_slice(&px.0[..3]);
        alpha.push(px.0[3]);
    }
    Ok(DecodedImage {
        width,
        height,
        rgb: deflate(&rgb),
        alpha: deflate(&alpha),
    })
}

const LABEL_SIZE: f64 = 7.0;
/// Label text colour (dark grey).
const LABEL_RGB: [f32; 3] = [0.2, 0.2, 0.2];

fn label_height(lines: usize) -> f64 {
    if lines == 0 {
        0.0
    } else {
        lines as f64 * (LABEL_SIZE + 1.5) + 2.0
    }
}

/// Most label lines under a signature.
pub const MAX_LABEL_LINES: usize = 6;
/// Longest label line, in characters.
pub const MAX_LABEL_CHARS: usize = 200;

/// The label's lines drawn as outlines by the spec's label font: at most
/// [`MAX_LABEL_LINES`] lines of [`MAX_LABEL_CHARS`] characters, no control characters.
fn label_art(spec: &AppearanceSpec) -> Result<Vec<VectorArt>, String> {
    if spec.label.is_empty() {
        return Ok(Vec::new());
    }
    if spec.label.len() > MAX_LABEL_LINES {
        return Err(format!(
            "{} label lines, more than {MAX_LABEL_LINES}",
            spec.label.len()
        ));
    }
    for line in &spec.label {
        if line.chars().count() > MAX_LABEL_CHARS {
            return Err(format!(
                "label line of {} characters, more than {MAX_LABEL_CHARS}",
                line.chars().count()
            ));
        }
        if let Some(c) = line.chars().find(|c| c.is_control()) {
            return Err(format!("label {line:?} holds the control character {c:?}"));
        }
    }
    let font = spec.label_font.as_ref().ok_or(
        "a label needs a label font to draw it as outlines (AppearanceSpec::label_font; \
         on a phone, the app's platform font engine)",
    )?;
    spec.label
        .iter()
        .map(|line| {
            font.outline(line)
                .map(|o| o.to_art(LABEL_SIZE, LABEL_RGB))
                .map_err(|e| format!("label {line:?}: {e}"))
        })
        .collect()
}

/// Build the appearance stream's content for a box of `w` x `h` points, the label lines
/// already drawn (`labels`, from top to bottom).
///
/// `image` is the pixel size of the handwriting image (named `/Im1`) when one is drawn.
fn content(
    spec: &AppearanceSpec,
    labels: &[VectorArt],
    w: f64,
    h: f64,
    image: Option<(u32, u32)>,
) -> Vec<u8> {
    let mut c = String::new();
    let label_h = label_height(labels.len());
    if let Some((iw, ih)) = image {
        // Fit the image above the label, keeping its aspect ratio.
        let (aw, ah) = (w.max(1.0), (h - label_h).max(1.0));
        let scale = (aw / f64::from(iw.max(1))).min(ah / f64::from(ih.max(1)));
        let (dw, dh) = (f64::from(iw) * scale, f64::from(ih) * scale);
        c.push_str(&format!(
            "q {} 0 0 {} {} {} cm /Im1 Do Q\n",
            format_real(dw),
            format_real(dh),
            format_real((aw - dw) / 2.0),
            format_real(label_h + (ah - dh) / 2.0)
        ));
    } else if let Some(ink) = spec.ink.as_ref() {
        // Fit the smoothed ink into the area above the label, with a small margin.
        let margin = 2.0;
        let (aw, ah) = (
            (w - 2.0 * margin).max(1.0),
            (h - label_h - 2.0 * margin).max(1.0),
        );
        let path = to_pdf_path(&ink.strokes, &ink.pad, aw as f32, ah as f32);
        if !path.is_empty() {
            let [r, g, b] = spec.ink_rgb.unwrap_or([0.05, 0.1, 0.45]);
            c.push_str(&format!(
                "q {} {} {} rg 1 0 0 1 {} {} cm\n{path}Q\n",
                format_real(f64::from(r)),
                format_real(f64::from(g)),
                format_real(f64::from(b)),
                format_real(margin),
                format_real(label_h + margin)
            ));
        }
    }
    if let Some(art) = spec.art.as_ref() {
        let (aw, ah) = (w.max(1.0), (h - label_h).max(1.0));
        let [nw, nh] = art.size();
        let scale = (aw / nw.max(1e-3)).min(ah / nh.max(1e-3));
        c.push_str(&format!(
            "q {} 0 0 {} {} {} cm\n",
            format_real(scale),
            format_real(scale),
            format_real((aw - nw * scale) / 2.0),
            format_real(label_h + (ah - nh * scale) / 2.0)
        ));
        c.push_str(&String::from_utf8_lossy(art.content()));
        c.push_str("Q\n");
    }
    for (i, line) in labels.iter().enumerate() {
        // The baseline where the text font's would be; a line wider than the box shrinks.
        let baseline = (label_h - 1.0 - (i as f64 + 1.0) * (LABEL_SIZE + 1.5) + 1.5).max(0.0);
        let [lw, _] = line.size();
        let scale = if lw > w - 4.0 && lw > 0.0 {
            ((w - 4.0) / lw).max(0.01)
        } else {
            1.0
        };
        c.push_str(&format!(
            "q {} 0 0 {} 2 {} cm\n",
            format_real(scale),
            format_real(scale),
            format_real(baseline - 0.15 * LABEL_SIZE * scale)
        ));
        c.push_str(&String::from_utf8_lossy(line.content()));
        c.push_str("Q\n");
    }
    c.into_bytes()
}

/// Add the appearance as a Form XObject for a `w` x `h` box (plus its image, if any) to
/// `update`; returns the form's id. Fails only on an unreadable image.
pub fn add_form_xobject(
    update: &mut IncrementalUpdate,
    spec: &AppearanceSpec,
    w: f64,
    h: f64,
) -> Result<ObjectId, String> {
    let image = spec.image.as_deref().map(decode_image).transpose()?;
    let labels = label_art(spec)?;
    let mut resources = Dictionary::new();
    if let Some(img) = &image {
        let image_dict = |cs: &str| {
            Dictionary::new()
                .with(b"Type", Object::name("XObject"))
                .with(b"Subtype", Object::name("Image"))
                .with(b"Width", Object::Integer(i64::from(img.width)))
                .with(b"Height", Object::Integer(i64::from(img.height)))
                .with(b"ColorSpace", Object::name(cs))
                .with(b"BitsPerComponent", Object::Integer(8))
                .with(b"Filter", Object::name("FlateDecode"))
        };
        let mask_id = update.allocate();
        update.put(
            mask_id,
            &Object::Stream(Stream {
                dict: image_dict("DeviceGray"),
                data: img.alpha.clone(),
            }),
        );
        let image_id = update.allocate();
        update.put(
            image_id,
            &Object::Stream(Stream {
                dict: image_dict("DeviceRGB").with(b"SMask", Object::Reference(mask_id)),
                data: img.rgb.clone(),
            }),
        );
        resources.set(
            b"XObject",
            Object::Dictionary(Dictionary::new().with(b"Im1", Object::Reference(image_id))),
        );
    }
    let dict = Dictionary::new()
        .with(b"Type", Object::name("XObject"))
        .with(b"Subtype", Object::name("Form"))
        .with(
            b"BBox",
            Object::Array(vec![
                Object::Integer(0),
                Object::Integer(0),
                Object::real(w),
                Object::real(h),
            ]),
        )
        .with(b"Resources", Object::Dictionary(resources))
        .with(b"Filter", Object::name("FlateDecode"));
    let id = update.allocate();
    update.put(
        id,
        &Object::Stream(Stream {
            dict,
            data: deflate(&content(
                spec,
                &labels,
                w,
                h,
                image.as_ref().map(|i| (i.width, i.height)),
            )),
        }),
    );
    Ok(id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outline::{OutlineError, OutlineSegment, TextOutline};
    use std::sync::Arc;

    /// Draws each character as a 0.8 em square; refuses '?'.
    #[derive(Debug)]
    struct Squares;

    impl TextOutliner for Squares {
        fn outline(&self, text: &str) -> Result<TextOutline, OutlineError> {
            let mut segments = Vec::new();
            for (i, c) in text.chars().enumerate() {
                if c == '?' {
                    return Err(OutlineError::Unsupported(c.into()));
                }
                let x = i as f64;
                segments.extend([
                    OutlineSegment::MoveTo([x, 0.0]),
                    OutlineSegment::LineTo([x + 0.8, 0.0]),
                    OutlineSegment::LineTo([x + 0.8, 0.8]),
                    OutlineSegment::Close,
                ]);
            }
            TextOutline::new(text.chars().count() as f64, segments)
        }
    }

    #[test]
    fn ink_and_label_are_fitted_inside_the_box_and_never_nan() {
        let spec = AppearanceSpec {
            ink: Some(InkStrokes::from_polylines(
                Pad {
                    width: 300.0,
                    height: 100.0,
                    dpi: 160.0,
                },
                &[
                    vec![[10.0, 10.0], [50.0, 80.0], [90.0, 20.0], [f32::NAN, 1.0]],
                    vec![[200.0, 50.0]],
                ],
            )),
            // 40 characters at 7 points: 280 points, wider than the box, so it shrinks.
            label: vec!["x".repeat(40), "张三 2026-11-24".into()],
            label_font: Some(Arc::new(Squares)),
            ..Default::default()
        };
        let labels = label_art(&spec).expect("drawn");
        assert_eq!(labels.len(), 2);
        let text = String::from_utf8(content(&spec, &labels, 150.0, 60.0, None)).expect("ascii");
        assert!(!text.contains("NaN") && !text.contains("inf"));
        assert!(
            !text.contains("Tf") && !text.contains("Tj"),
            "no font text: {text}"
        );
        for tok in text.split_whitespace() {
            if let Ok(v) = tok.parse::<f64>() {
                assert!((-1.0..=281.0).contains(&v) || tok.len() <= 2, "{tok}");
            }
        }
        // The long line is scaled to the box's width less the margins: 146 / 280.
        assert!(text.contains("q 0.521429 0 0 0.521429 2 "), "{text}");
        // The second line is drawn at its natural size, in the label's grey.
        assert!(text.contains("q 1 0 0 1 2 "), "{text}");
        assert!(text.contains("q 0.2 0.2 0.2 rg"), "{text}");
    }

    #[test]
    fn a_label_needs_a_font_that_can_draw_it() {
        let mut spec = AppearanceSpec {
            label: vec!["张三".into()],
            ..Default::default()
        };
        let e = label_art(&spec).expect_err("no font");
        assert!(e.contains("needs a label font"), "{e}");
        spec.label_font = Some(Arc::new(Squares));
        spec.label = vec!["ok".into(), "who?".into()];
        let e = label_art(&spec).expect_err("unsupported");
        assert_eq!(e, "label \"who?\": the font cannot draw \"?\"");
        spec.label = vec!["x".into(); MAX_LABEL_LINES + 1];
        let e = label_art(&spec).expect_err("too many lines");
        assert!(e.contains("7 label lines"), "{e}");
        spec.label = vec!["x".repeat(MAX_LABEL_CHARS + 1)];
        let e = label_art(&spec).expect_err("too long");
        assert!(e.contains("201 characters"), "{e}");
        spec.label = vec!["a\nb".into()];
        let e = label_art(&spec).expect_err("control character");
        assert!(e.contains("control character"), "{e}");
        spec.label.clear();
        spec.label_font = None;
        assert!(label_art(&spec).expect("no label").is_empty());
    }
}
