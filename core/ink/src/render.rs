//! Rendering the smoothed ink: PDF content-stream paths and antialiased PNG.

use std::fmt::Write as _;

use image::ImageEncoder as _;
use image::codecs::png::{CompressionType, FilterType, PngEncoder};

use crate::smooth::{PathCmd, Segment, chain_outline, smooth_strokes};
use crate::stroke::{InkError, Pad, Stroke};

/// Largest accepted raster dimension in pixels.
pub const MAX_RASTER_SIDE: u32 = 8192;

/// Margin around the ink when cropping, as a fraction of the larger ink dimension.
const MARGIN_FRACTION: f32 = 0.02;

/// Union of the segments' bounding boxes, or `None` if there are none.
pub fn ink_bbox(segments: &[Segment]) -> Option<[f32; 4]> {
    let mut it = segments.iter();
    let mut bb = it.next()?.bbox();
    for s in it {
        let b = s.bbox();
        bb[0] = bb[0].min(b[0]);
        bb[1] = bb[1].min(b[1]);
        bb[2] = bb[2].max(b[2]);
        bb[3] = bb[3].max(b[3]);
    }
    Some(bb)
}

/// PDF content-stream operators (`m`, `l`, `c`, `h`, `f`) filling the smoothed ink, fitted
/// into a `box_w` x `box_h` box (origin at the box's lower-left corner) with the aspect ratio
/// kept, centred, and y flipped (pad y grows down, PDF y grows up).
///
/// The caller sets the colour and translates to the box (e.g. `q 0 0 1 rg 1 0 0 1 x y cm
/// ... Q`). Returns an empty string when there is no ink or the box is degenerate.
pub fn to_pdf_path(strokes: &[Stroke], pad: &Pad, box_w: f32, box_h: f32) -> String {
    let segs = smooth_strokes(strokes, pad);
    segments_to_pdf_path(&segs, box_w, box_h)
}

/// [`to_pdf_path`] for already smoothed segments.
pub fn segments_to_pdf_path(segs: &[Segment], box_w: f32, box_h: f32) -> String {
    let mut out = String::new();
    let Some(bb) = ink_bbox(segs) else {
        return out;
    };
    if !(box_w.is_finite() && box_h.is_finite() && box_w > 0.0 && box_h > 0.0) {
        return out;
    }
    let (iw, ih) = ((bb[2] - bb[0]).max(1e-3), (bb[3] - bb[1]).max(1e-3));
    let s = (box_w / iw).min(box_h / ih);
    let ox = (box_w - iw * s) * 0.5;
    let oy = (box_h - ih * s) * 0.5;
    // Pad (x, y) -> PDF (ox + (x - minx) s, oy + (maxy - y) s).
    let tx = |p: [f32; 2]| [ox + (p[0] - bb[0]) * s, oy + (bb[3] - p[1]) * s];
    out.reserve(segs.len() * 80);
    let mut cmds = Vec::with_capacity(segs.len() * 6 + 16);
    chain_outline(segs, &mut cmds);
    for c in &cmds {
        // Writing to a String cannot fail.
        let _ = match *c {
            PathCmd::MoveTo(p) => {
                let p = tx(p);
                writeln!(out, "{:.2} {:.2} m", p[0], p[1])
            }
            PathCmd::LineTo(p) => {
                let p = tx(p);
                writeln!(out, "{:.2} {:.2} l", p[0], p[1])
            }
            PathCmd::CubicTo(a, b, p) => {
                let (a, b, p) = (tx(a), tx(b), tx(p));
                writeln!(
                    out,
                    "{:.2} {:.2} {:.2} {:.2} {:.2} {:.2} c",
                    a[0], a[1], b[0], b[1], p[0], p[1]
                )
            }
            PathCmd::Close => writeln!(out, "h"),
        };
    }

    out.push_str("f\n");
    out
}

/// Rasterises the ink to an 8-bit alpha coverage buffer cropped to the ink's bounding box
/// plus a small margin and scaled to `width_px`. Returns `(width, height, alpha)`.
pub fn rasterize(segs: &[Segment], width_px: u32) -> Result<(u32, u32, Vec<u8>), InkError> {
    if width_px == 0 || width_px > MAX_RASTER_SIDE {
        return Err(InkError::InvalidRenderSize(format!(
            "width {width_px} not in 1..={MAX_RASTER_SIDE}"
        )));
    }
    let bb = ink_bbox(segs).ok_or(InkError::EmptyPad)?;
    let margin = (bb[2] - bb[0]).max(bb[3] - bb[1]) * MARGIN_FRACTION;
    let (x0, y0) = (bb[0] - margin, bb[1] - margin);
    let iw = (bb[2] - bb[0] + 2.0 * margin).max(1e-3);
    let ih = (bb[3] - bb[1] + 2.0 * margin).max(1e-3);
    let scale = width_px as f32 / iw;
    let hf = (ih * scale).ceil();
    if !hf.is_finite() || hf > MAX_RASTER_SIDE as f32 {
        return Err(InkError::InvalidRenderSize(format!(
            "height {hf} px exceeds {MAX_RASTER_SIDE}"
        )));
    }
    let (w, h) = (width_px, (hf as u32).max(1));
    let mut alpha = vec![0u8; w as usize * h as usize];
    for seg in segs {
        let a = [(seg.a[0] - x0) * scale, (seg.a[1] - y0) * scale];
        let b = [(seg.b[0] - x0) * scale, (seg.b[1] - y0) * scale];
        // At least half a pixel so very thin ink stays visible.
        let ra = (seg.ra * scale).max(0.5);
        let rb = (seg.rb * scale).max(0.5);
        stamp(&mut alpha, w, h, a, ra, b, rb);
    }
    Ok((w, h, alpha))
}

/// Max-composites the coverage of one tapered capsule (distance-to-segment antialiasing).
fn stamp(alpha: &mut [u8], w: u32, h: u32, a: [f32; 2], ra: f32, b: [f32; 2], rb: f32) {
    let rmax = ra.max(rb) + 1.0;
    let px0 = ((a[0].min(b[0]) - rmax).floor().max(0.0)) as u32;
    let py0 = ((a[1].min(b[1]) - rmax).floor().max(0.0)) as u32;
    let px1 = ((a[0].max(b[0]) + rmax).ceil().max(0.0) as u32).min(w);
    let py1 = ((a[1].max(b[1]) + rmax).ceil().max(0.0) as u32).min(h);
    let (dx, dy) = (b[0] - a[0], b[1] - a[1]);
    let len2 = dx * dx + dy * dy;
    let inv = if len2 > 1e-12 { 1.0 / len2 } else { 0.0 };
    for py in py0..py1 {
        let cy = py as f32 + 0.5;
        let row = py as usize * w as usize;
        for px in px0..px1 {
            let cx = px as f32 + 0.5;
            let t = (((cx - a[0]) * dx + (cy - a[1]) * dy) * inv).clamp(0.0, 1.0);
            let qx = a[0] + t * dx - cx;
            let qy = a[1] + t * dy - cy;
            let r = ra + (rb - ra) * t;
            let d = (qx * qx + qy * qy).sqrt() - r;
            let cov = (0.5 - d).clamp(0.0, 1.0);
            let v = (cov * 255.0 + 0.5) as u8;
            let slot = &mut alpha[row + px as usize];
            if v > *slot {
                *slot = v;
            }
        }
    }
}

/// Renders the ink as an RGBA PNG: transparent background, ink in `rgb`, antialiased, cropped
/// to the ink's bounding box plus a small margin and scaled to `width_px`. Deterministic: the
/// same input gives byte-identical output.
pub fn to_png(
    strokes: &[Stroke],
    pad: &Pad,
    width_px: u32,
    rgb: [u8; 3],
) -> Result<Vec<u8>, InkError> {
    pad.validate()?;
    let segs = smooth_strokes(strokes, pad);
    segments_to_png(&segs, width_px, rgb)
}

/// [`to_png`] for already smoothed segments.
pub fn segments_to_png(segs: &[Segment], width_px: u32, rgb: [u8; 3]) -> Result<Vec<u8>, InkError> {
    let (w, h, alpha) = rasterize(segs, width_px)?;
    let mut rgba = Vec::with_capacity(alpha.len() * 4);
    for &a in &alpha {
        if a == 0 {
            rgba.extend_from_slice(&[0, 0, 0, 0]);
        } else {
            rgba.extend_from_slice(&[rgb[0], rgb[1], rgb[2], a]);
        }
    }
    let mut png = Vec::new();
    PngEncoder::new_with_quality(&mut png, CompressionType::Fast, FilterType::Sub)
        .write_image(&rgba, w, h, image::ExtendedColorType::Rgba8)
        .map_err(|e| InkError::Encode(e.to_string()))?;
    Ok(png)
}
