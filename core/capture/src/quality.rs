//! Image quality checks for camera frames and ID-card photos: size, decodability, brightness,
//! blur and the face box.
//!
//! [`check_image`] works on the encoded bytes (JPEG or PNG, sniffed from the magic bytes, not
//! trusted from a file name):
//!
//! 1. the byte length is compared with `max_bytes` before anything is parsed;
//! 2. the header is read and `width × height` compared with `max_pixels` (and the minimum size)
//!    before the pixel buffer is allocated (each side is also capped at `max_pixels` inside the
//!    decoders; the PNG decoder gets `image::Limits` with allocations at most
//!    `4 × max_pixels` bytes + 16 MiB);
//! 3. the image is decoded to luma. JPEG is decoded by `zune-jpeg` in **strict mode** straight
//!    to its Y channel (no colour conversion; strict mode refuses truncated or corrupt entropy
//!    data, which the lenient mode would silently fill with grey, and which a camera never
//!    produces). PNG is decoded by `image` and converted with BT.601 integer weights
//!    (`77 R + 150 G + 29 B`, then `/ 256`, the same luma JPEG's Y carries). The luma is
//!    **downscaled on the fly** by an integer factor `k = ceil(width / 640)` (`k × k` box
//!    average, the last incomplete columns and rows are dropped), so the analysis plane is at
//!    most [`ANALYSIS_MAX_WIDTH`] pixels wide whatever the camera's resolution;
//! 4. [`check_gray`]'s checks run on that plane: mean luma, then the variance of the 4-neighbour
//!    Laplacian `[0 1 0; 1 -4 1; 0 1 0]` over the interior pixels (the "sharpness"), then the
//!    face box, which is in the original image's pixel coordinates.
//!
//! EXIF orientation is ignored: the face box is in the stored pixel grid, as cameras deliver it.
//!
//! The blur threshold ([`QualityThresholds::min_sharpness`], default
//! [`DEFAULT_MIN_SHARPNESS`] = 100) is a variance of the Laplacian measured on the downscaled
//! plane, so it depends little on the camera's resolution. Calibration on the synthetic,
//! textured face pictures of [`crate::samples`] (JPEG q90; see `tests/quality.rs`): in focus
//! they measure about 950 at 640×480, 420 at 1280×720 and 340 at 1920×1080; after a 5×5 box
//! blur 12, 39 and 79; after a 7×7 box blur 6, 18 and 40. 100 sits between the two groups with
//! a margin on both sides; an institution should confirm it on frames from its own devices
//! (the value travels in the challenge, so the server can change it without an app release).

use crate::error::QualityError;
use image::{DynamicImage, ImageDecoder, ImageReader, Limits};
use serde::{Deserialize, Serialize};
use std::io::Cursor;

/// Widest analysis plane: larger images are box-downscaled by an integer factor first.
pub const ANALYSIS_MAX_WIDTH: u32 = 640;
/// Default minimum variance of the Laplacian (on the analysis plane).
pub const DEFAULT_MIN_SHARPNESS: u32 = 100;
/// Highest `max_bytes` any thresholds may ask for (64 MiB): a server cannot make the phone
/// accept more.
pub const HARD_MAX_BYTES: u64 = 64 * 1024 * 1024;
/// Highest `max_pixels` any thresholds may ask for (100 Mpx).
pub const HARD_MAX_PIXELS: u64 = 100_000_000;

/// What an image must satisfy. Sent by the server inside the
/// [`LivenessChallenge`](crate::challenge::LivenessChallenge), so every field is an integer
/// (no floating-point rounding between the two sides).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QualityThresholds {
    /// Minimum width in pixels.
    pub min_width: u32,
    /// Minimum height in pixels.
    pub min_height: u32,
    /// Minimum mean luma (0-255): darker is refused as too dark.
    pub min_mean_luma: u8,
    /// Maximum mean luma (0-255): brighter is refused as over-exposed.
    pub max_mean_luma: u8,
    /// Minimum variance of the Laplacian on the analysis plane (see the module doc).
    pub min_sharpness: u32,
    /// Minimum shorter side of the face box, in percent of the frame's shorter side (0 = any).
    pub min_face_percent: u8,
    /// Maximum encoded size in bytes.
    pub max_bytes: u64,
    /// Maximum `width × height`.
    pub max_pixels: u64,
}

impl Default for QualityThresholds {
    /// The face-frame thresholds, [`QualityThresholds::face`].
    fn default() -> Self {
        Self::face()
    }
}

impl QualityThresholds {
    /// Face frames: at least 480×360, mean luma 40-220, sharpness ≥ 100, face at least 20 % of
    /// the shorter side, at most 8 MiB and 40 Mpx.
    pub fn face() -> Self {
        QualityThresholds {
            min_width: 480,
            min_height: 360,
            min_mean_luma: 40,
            max_mean_luma: 220,
            min_sharpness: DEFAULT_MIN_SHARPNESS,
            min_face_percent: 20,
            max_bytes: 8 * 1024 * 1024,
            max_pixels: 40_000_000,
        }
    }

    /// ID-card photos (a document filling most of the picture, landscape): at least 640×400,
    /// mean luma 50-235 (the card is light), sharpness ≥ 100 (the printed text must be
    /// readable), no face box needed, at most 8 MiB and 40 Mpx.
    pub fn id_card() -> Self {
        QualityThresholds {
            min_width: 640,
            min_height: 400,
            min_mean_luma: 50,
            max_mean_luma: 235,
            min_sharpness: DEFAULT_MIN_SHARPNESS,
            min_face_percent: 0,
            max_bytes: 8 * 1024 * 1024,
            max_pixels: 40_000_000,
        }
    }

    /// Refuse inconsistent thresholds (inverted luma range, limits above the hard caps, a
    /// minimum size above the pixel limit, a face percentage above 100).
    pub fn validate(&self) -> Result<(), QualityError> {
        if self.min_mean_luma > self.max_mean_luma {
            return Err(QualityError::BadThresholds(
                "min_mean_luma is above max_mean_luma",
            ));
        }
        if self.max_bytes == 0 || self.max_bytes > HARD_MAX_BYTES {
            return Err(QualityError::BadThresholds("max_bytes must be 1..=64 MiB"));
        }
        if self.max_pixels == 0 || self.max_pixels > HARD_MAX_PIXELS {
            return Err(QualityError::BadThresholds(
                "max_pixels must be 1..=100 000 000",
            ));
        }
        if u64::from(self.min_width) * u64::from(self.min_height) > self.max_pixels {
            return Err(QualityError::BadThresholds(
                "min_width x min_height is above max_pixels",
            ));
        }
        if self.min_face_percent > 100 {
            return Err(QualityError::BadThresholds("min_face_percent is above 100"));
        }
        Ok(())
    }
}

/// Where the face is, in pixels of the original image (as the capture hook reports it).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaceBox {
    /// Left edge.
    pub x: u32,
    /// Top edge.
    pub y: u32,
    /// Width.
    pub width: u32,
    /// Height.
    pub height: u32,
}

/// The format an image was checked in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ImageFormat {
    /// JPEG.
    Jpeg,
    /// PNG.
    Png,
    /// An already decoded 8-bit grayscale buffer ([`check_gray`]).
    Gray8,
}

/// The measures of an accepted image.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImageReport {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Mean luma, 0-255.
    pub mean_luma: f64,
    /// Variance of the Laplacian on the analysis plane.
    pub sharpness: f64,
    /// The format decoded.
    pub format: ImageFormat,
}

/// The downscaled luma plane the measures are taken on.
struct LumaPlane {
    width: usize,
    height: usize,
    data: Vec<u8>,
}

/// Decode a JPEG or PNG and run every check (see the module doc for the order and the limits).
pub fn check_image(
    bytes: &[u8],
    thresholds: &QualityThresholds,
    face_box: Option<FaceBox>,
) -> Result<ImageReport, QualityError> {
    thresholds.validate()?;
    let len = bytes.len() as u64;
    if len > thresholds.max_bytes {
        return Err(QualityError::TooLarge {
            bytes: len,
            max: thresholds.max_bytes,
        });
    }
    match image::guess_format(bytes) {
        Ok(image::ImageFormat::Jpeg) => check_jpeg(bytes, thresholds, face_box),
        Ok(image::ImageFormat::Png) => check_png(bytes, thresholds, face_box),
        Ok(other) => Err(QualityError::UnsupportedFormat(format!("{other:?}"))),
        Err(_) => Err(QualityError::UnsupportedFormat("unknown".into())),
    }
}

/// Largest side the decoders accept: `max_pixels` (a side longer than that cannot fit).
fn max_side(thresholds: &QualityThresholds) -> u32 {
    u32::try_from(thresholds.max_pixels).unwrap_or(u32::MAX)
}

fn check_jpeg(
    bytes: &[u8],
    thresholds: &QualityThresholds,
    face_box: Option<FaceBox>,
) -> Result<ImageReport, QualityError> {
    use zune_core::bytestream::ZCursor;
    use zune_core::colorspace::ColorSpace;
    use zune_core::options::DecoderOptions;
    let side = max_side(thresholds) as usize;
    let options = DecoderOptions::default()
        .jpeg_set_out_colorspace(ColorSpace::Luma)
        .set_strict_mode(true)
        .set_max_width(side)
        .set_max_height(side);
    let mut decoder = zune_jpeg::JpegDecoder::new_with_options(ZCursor::new(bytes), options);
    let jpeg_error =
        |e: zune_jpeg::errors::DecodeErrors| QualityError::Undecodable(format!("JPEG: {e:?}"));
    decoder.decode_headers().map_err(jpeg_error)?;
    let (w, h) = decoder
        .dimensions()
        .ok_or_else(|| QualityError::Undecodable("JPEG: no frame header".into()))?;
    let (width, height) = (
        u32::try_from(w).unwrap_or(u32::MAX),
        u32::try_from(h).unwrap_or(u32::MAX),
    );
    check_dimensions(width, height, thresholds)?;
    let len = decoder
        .output_buffer_size()
        .ok_or_else(|| QualityError::Undecodable("JPEG: no frame header".into()))?;
    if len != w * h {
        return Err(QualityError::Undecodable(
            "JPEG: luma output size differs from its dimensions".into(),
        ));
    }
    let mut luma = vec![0u8; len];
    decoder.decode_into(&mut luma).map_err(jpeg_error)?;
    let plane = downscale::<1>(&luma, width, height);
    drop(luma);
    evaluate(
        width,
        height,
        &plane,
        thresholds,
        face_box,
        ImageFormat::Jpeg,
    )
}

fn check_png(
    bytes: &[u8],
    thresholds: &QualityThresholds,
    face_box: Option<FaceBox>,
) -> Result<ImageReport, QualityError> {
    let mut reader = ImageReader::with_format(Cursor::new(bytes), image::ImageFormat::Png);
    let side = max_side(thresholds);
    let mut limits = Limits::default();
    limits.max_image_width = Some(side);
    limits.max_image_height = Some(side);
    limits.max_alloc = Some(
        thresholds
            .max_pixels
            .saturating_mul(4)
            .saturating_add(16 * 1024 * 1024),
    );
    reader.limits(limits);
    let decoder = reader.into_decoder().map_err(decode_error)?;
    let (width, height) = decoder.dimensions();
    check_dimensions(width, height, thresholds)?;
    let image = DynamicImage::from_decoder(decoder).map_err(decode_error)?;
    let plane = match &image {
        DynamicImage::ImageLuma8(b) => downscale::<1>(b.as_raw(), width, height),
        DynamicImage::ImageLumaA8(b) => downscale::<2>(b.as_raw(), width, height),
        DynamicImage::ImageRgb8(b) => downscale::<3>(b.as_raw(), width, height),
        DynamicImage::ImageRgba8(b) => downscale::<4>(b.as_raw(), width, height),
        other => downscale::<1>(other.to_luma8().as_raw(), width, height),
    };
    drop(image);
    evaluate(
        width,
        height,
        &plane,
        thresholds,
        face_box,
        ImageFormat::Png,
    )
}

/// Run the checks on an already decoded 8-bit grayscale image (`pixels` row-major,
/// `width × height` bytes): the same measures as [`check_image`] without the decoding.
pub fn check_gray(
    width: u32,
    height: u32,
    pixels: &[u8],
    thresholds: &QualityThresholds,
    face_box: Option<FaceBox>,
) -> Result<ImageReport, QualityError> {
    thresholds.validate()?;
    let expected = u64::from(width) * u64::from(height);
    if pixels.len() as u64 != expected {
        return Err(QualityError::Undecodable(format!(
            "grayscale buffer is {} bytes, {width}x{height} needs {expected}",
            pixels.len()
        )));
    }
    check_dimensions(width, height, thresholds)?;
    let plane = downscale::<1>(pixels, width, height);
    evaluate(
        width,
        height,
        &plane,
        thresholds,
        face_box,
        ImageFormat::Gray8,
    )
}

fn decode_error(e: image::ImageError) -> QualityError {
    match e {
        image::ImageError::Limits(l) => {
            QualityError::Undecodable(format!("exceeds the decoder limits: {l}"))
        }
        image::ImageError::Unsupported(u) => QualityError::UnsupportedFormat(u.to_string()),
        other => QualityError::Undecodable(other.to_string()),
    }
}

fn check_dimensions(
    width: u32,
    height: u32,
    thresholds: &QualityThresholds,
) -> Result<(), QualityError> {
    if u64::from(width) * u64::from(height) > thresholds.max_pixels {
        return Err(QualityError::TooManyPixels {
            width,
            height,
            max_pixels: thresholds.max_pixels,
        });
    }
    if width < thresholds.min_width || height < thresholds.min_height || width == 0 || height == 0 {
        return Err(QualityError::TooSmall {
            width,
            height,
            min_width: thresholds.min_width,
            min_height: thresholds.min_height,
        });
    }
    Ok(())
}

/// BT.601 luma of one pixel of `C` channels (gray, gray+alpha, RGB, RGBA).
#[inline(always)]
fn luma<const C: usize>(px: &[u8]) -> u32 {
    if C >= 3 {
        (77 * u32::from(px[0]) + 150 * u32::from(px[1]) + 29 * u32::from(px[2]) + 128) >> 8
    } else {
        u32::from(px[0])
    }
}

/// Luma, box-downscaled by `k = ceil(width / ANALYSIS_MAX_WIDTH)`.
fn downscale<const C: usize>(data: &[u8], width: u32, height: u32) -> LumaPlane {
    let (w, h) = (width as usize, height as usize);
    let k = w.div_ceil(ANALYSIS_MAX_WIDTH as usize).max(1);
    let (ow, oh) = (w / k, h / k);
    let row_len = w * C;
    let mut out = Vec::with_capacity(ow * oh);
    if k == 1 {
        for px in data.chunks_exact(C).take(w * h) {
            out.push(luma::<C>(px) as u8);
        }
        return LumaPlane {
            width: w,
            height: h,
            data: out,
        };
    }
    let area = (k * k) as u32;
    let mut acc = vec![0u32; ow];
    for oy in 0..oh {
        acc.fill(0);
        for row in data[oy * k * row_len..].chunks_exact(row_len).take(k) {
            for (a, block) in acc.iter_mut().zip(row.chunks_exact(k * C)) {
                *a += block.chunks_exact(C).map(luma::<C>).sum::<u32>();
            }
        }
        out.extend(acc.iter().map(|s| ((s + area / 2) / area) as u8));
    }
    LumaPlane {
        width: ow,
        height: oh,
        data: out,
    }
}

fn mean_luma(plane: &LumaPlane) -> f64 {
    if plane.data.is_empty() {
        return 0.0;
    }
    let sum: u64 = plane.data.iter().map(|&v| u64::from(v)).sum();
    sum as f64 / plane.data.len() as f64
}

/// Variance of the 4-neighbour Laplacian over the interior pixels (0 for planes under 3×3).
fn laplacian_variance(plane: &LumaPlane) -> f64 {
    let (w, h) = (plane.width, plane.height);
    if w < 3 || h < 3 {
        return 0.0;
    }
    let d = &plane.data;
    let mut sum: i64 = 0;
    let mut sum_sq: u64 = 0;
    for y in 1..h - 1 {
        let up = &d[(y - 1) * w + 1..y * w - 1];
        let down = &d[(y + 1) * w + 1..(y + 2) * w - 1];
        let mid = &d[y * w..(y + 1) * w];
        let (left, centre, right) = (&mid[..w - 2], &mid[1..w - 1], &mid[2..]);
        let mut row_sum: i32 = 0;
        let mut row_sq: u64 = 0;
        for i in 0..w - 2 {
            let l =
                i32::from(up[i]) + i32::from(down[i]) + i32::from(left[i]) + i32::from(right[i])
                    - 4 * i32::from(centre[i]);
            row_sum += l;
            row_sq += u64::from(l.unsigned_abs() * l.unsigned_abs());
        }
        sum += i64::from(row_sum);
        sum_sq += row_sq;
    }
    let n = ((w - 2) * (h - 2)) as f64;
    let mean = sum as f64 / n;
    (sum_sq as f64 / n - mean * mean).max(0.0)
}

fn evaluate(
    width: u32,
    height: u32,
    plane: &LumaPlane,
    t: &QualityThresholds,
    face_box: Option<FaceBox>,
    format: ImageFormat,
) -> Result<ImageReport, QualityError> {
    let mean = mean_luma(plane);
    if mean < f64::from(t.min_mean_luma) {
        return Err(QualityError::TooDark {
            mean,
            min: t.min_mean_luma,
        });
    }
    if mean > f64::from(t.max_mean_luma) {
        return Err(QualityError::TooBright {
            mean,
            max: t.max_mean_luma,
        });
    }
    let sharpness = laplacian_variance(plane);
    if sharpness < f64::from(t.min_sharpness) {
        return Err(QualityError::Blurred {
            sharpness,
            min: t.min_sharpness,
        });
    }
    if let Some(face) = face_box {
        check_face(face, width, height, t.min_face_percent)?;
    }
    Ok(ImageReport {
        width,
        height,
        mean_luma: mean,
        sharpness,
        format,
    })
}

/// The face box must be non-empty, inside the frame, and its shorter side at least
/// `min_percent` % of the frame's shorter side.
pub fn check_face(
    face: FaceBox,
    frame_width: u32,
    frame_height: u32,
    min_percent: u8,
) -> Result<(), QualityError> {
    let right = u64::from(face.x) + u64::from(face.width);
    let bottom = u64::from(face.y) + u64::from(face.height);
    if face.width == 0
        || face.height == 0
        || right > u64::from(frame_width)
        || bottom > u64::from(frame_height)
    {
        return Err(QualityError::FaceOutsideFrame {
            x: face.x,
            y: face.y,
            width: face.width,
            height: face.height,
            frame_width,
            frame_height,
        });
    }
    let side = face.width.min(face.height);
    let min_side =
        (u64::from(frame_width.min(frame_height)) * u64::from(min_percent)).div_ceil(100) as u32;
    if side < min_side {
        return Err(QualityError::FaceTooSmall { side, min_side });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plane(width: usize, height: usize, f: impl Fn(usize, usize) -> u8) -> LumaPlane {
        let data = (0..height)
            .flat_map(|y| (0..width).map(move |x| (x, y)))
            .map(|(x, y)| f(x, y))
            .collect();
        LumaPlane {
            width,
            height,
            data,
        }
    }

    #[test]
    fn laplacian_of_flat_and_linear_ramps_is_zero() {
        assert_eq!(laplacian_variance(&plane(20, 10, |_, _| 77)), 0.0);
        assert_eq!(
            laplacian_variance(&plane(20, 10, |x, y| (3 * x + 2 * y) as u8)),
            0.0
        );
    }

    #[test]
    fn laplacian_of_a_checkerboard_is_known() {
        // Interior Laplacian of a 0/100 checkerboard is ±400, so the variance is 160 000.
        let p = plane(10, 10, |x, y| if (x + y) % 2 == 0 { 0 } else { 100 });
        assert!((laplacian_variance(&p) - 160_000.0).abs() < 1e-6);
        assert!((mean_luma(&p) - 50.0).abs() < 1e-9);
    }

    #[test]
    fn downscale_averages_blocks_and_drops_partial_ones() {
        // 1281 wide -> k = 3 -> 427 columns; 7 rows -> 2 rows.
        let w = 1281usize;
        let data: Vec<u8> = (0..7)
            .flat_map(|y| (0..w).map(move |x| ((x / 3 + y / 3) % 2 * 90) as u8))
            .collect();
        let p = downscale::<1>(&data, w as u32, 7);
        assert_eq!((p.width, p.height), (427, 2));
        assert_eq!(&p.data[..4], &[0, 90, 0, 90]);
        assert_eq!(&p.data[427..431], &[90, 0, 90, 0]);
    }

    #[test]
    fn rgb_luma_uses_bt601_weights() {
        assert_eq!(luma::<3>(&[255, 255, 255]), 255);
        assert_eq!(luma::<3>(&[255, 0, 0]), 77);
        assert_eq!(luma::<4>(&[0, 255, 0, 9]), 149);
        assert_eq!(luma::<3>(&[0, 0, 255]), 29);
    }

    #[test]
    fn face_box_rules() {
        let ok = FaceBox {
            x: 100,
            y: 50,
            width: 200,
            height: 260,
        };
        assert_eq!(check_face(ok, 640, 480, 20), Ok(()));
        let outside = FaceBox { x: 500, ..ok };
        assert!(matches!(
            check_face(outside, 640, 480, 20),
            Err(QualityError::FaceOutsideFrame { .. })
        ));
        let huge = FaceBox {
            x: u32::MAX,
            width: u32::MAX,
            ..ok
        };
        assert!(matches!(
            check_face(huge, 640, 480, 20),
            Err(QualityError::FaceOutsideFrame { .. })
        ));
        let empty = FaceBox { width: 0, ..ok };
        assert!(check_face(empty, 640, 480, 0).is_err());
        let tiny = FaceBox {
            width: 40,
            height: 40,
            ..ok
        };
        assert_eq!(
            check_face(tiny, 640, 480, 20),
            Err(QualityError::FaceTooSmall {
                side: 40,
                min_side: 96
            })
        );
    }

    #[test]
    fn thresholds_validation() {
        assert_eq!(QualityThresholds::face().validate(), Ok(()));
        assert_eq!(QualityThresholds::id_card().validate(), Ok(()));
        let mut t = QualityThresholds::face();
        t.min_mean_luma = 230;
        assert!(t.validate().is_err());
        let mut t = QualityThresholds::face();
        t.max_bytes = HARD_MAX_BYTES + 1;
        assert!(t.validate().is_err());
        let mut t = QualityThresholds::face();
        t.max_pixels = 1000;
        assert!(t.validate().is_err(), "min size above the pixel limit");
    }
}
