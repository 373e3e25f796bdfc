//! The signature pad: what a signing screen drives while the signer writes.
//!
//! ```text
//! InkPad ── beginStroke / addPoints (batches) / endStroke ──> live segments to draw
//!        └─ finish ──> Handwriting (quality checked)
//!                        └─ sealForInstitution(public key PEM) ──> SealedInk ──> PdfSignOptions
//! ```
//!
//! The raw points (the biometric record) stay in Rust: the app gets segments to draw, a PNG,
//! and quality figures; the record leaves only encrypted to the institution.

use crate::errors::{InksealError, poisoned};
use inkseal_ink::record::encrypt::InstitutionKey;
use inkseal_ink::{Pad, Point, QualityRules, Segment};
use inkseal_sdk::{Handwriting as SdkHandwriting, InkPad as SdkInkPad, SealedHandwriting};
use std::sync::{Arc, Mutex, MutexGuard};

/// One raw sample from the touch screen or stylus.
#[derive(Debug, Clone, Copy, PartialEq, uniffi::Record)]
pub struct InkPoint {
    /// X in pad units (the view's units), growing right.
    pub x: f32,
    /// Y in pad units, growing down.
    pub y: f32,
    /// Milliseconds since the pad was created; never going back.
    pub t_ms: u32,
    /// Pressure in `0..=1`; `0` when the device reports none (finger).
    #[uniffi(default = 0.0)]
    pub pressure: f32,
    /// Stylus tilt in radians, when reported.
    #[uniffi(default = None)]
    pub tilt: Option<f32>,
    /// Stylus azimuth in radians, when reported.
    #[uniffi(default = None)]
    pub azimuth: Option<f32>,
}

impl From<InkPoint> for Point {
    fn from(p: InkPoint) -> Self {
        Point {
            x: p.x,
            y: p.y,
            t_ms: p.t_ms,
            pressure: p.pressure,
            tilt: p.tilt,
            azimuth: p.azimuth,
        }
    }
}

/// A piece of smoothed ink to draw: a tapered capsule from the disc (`ax`, `ay`, radius `ra`)
/// to the disc (`bx`, `by`, radius `rb`), in pad units.
#[derive(Debug, Clone, Copy, PartialEq, uniffi::Record)]
pub struct InkSegment {
    /// Start centre x.
    pub ax: f32,
    /// Start centre y.
    pub ay: f32,
    /// Start radius (half the pen width).
    pub ra: f32,
    /// End centre x.
    pub bx: f32,
    /// End centre y.
    pub by: f32,
    /// End radius.
    pub rb: f32,
}

impl From<Segment> for InkSegment {
    fn from(s: Segment) -> Self {
        InkSegment {
            ax: s.a[0],
            ay: s.a[1],
            ra: s.ra,
            bx: s.b[0],
            by: s.b[1],
            rb: s.rb,
        }
    }
}

fn segments(s: Vec<Segment>) -> Vec<InkSegment> {
    s.into_iter().map(InkSegment::from).collect()
}

/// What the quality check measured on an accepted signature.
#[derive(Debug, Clone, Copy, PartialEq, uniffi::Record)]
pub struct InkQuality {
    /// Non-empty strokes.
    pub strokes: u32,
    /// Raw points.
    pub points: u32,
    /// Writing time, first to last point, in milliseconds.
    pub duration_ms: u32,
    /// Pen path length in millimetres.
    pub path_length_mm: f32,
    /// Ink bounding-box width in millimetres.
    pub bbox_width_mm: f32,
    /// Ink bounding-box height in millimetres.
    pub bbox_height_mm: f32,
}

/// A signature pad: records raw strokes and smooths them as they arrive. Safe to call from
/// any thread (calls are serialised).
#[derive(uniffi::Object)]
pub struct InkPad {
    pad: Mutex<SdkInkPad>,
}

impl std::fmt::Debug for InkPad {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("InkPad")
    }
}

impl InkPad {
    fn lock(&self) -> Result<MutexGuard<'_, SdkInkPad>, InksealError> {
        self.pad.lock().map_err(|_| poisoned("the ink pad"))
    }
}

#[uniffi::export]
impl InkPad {
    /// A pad `width` x `height` in the view's units, with the screen's `dpi` (so that the
    /// quality rules and the pen width can work in millimetres).
    #[uniffi::constructor]
    pub fn new(width: f32, height: f32, dpi: f32) -> Result<Arc<Self>, InksealError> {
        let pad = SdkInkPad::new(Pad { width, height, dpi })?;
        Ok(Arc::new(InkPad {
            pad: Mutex::new(pad),
        }))
    }

    /// Pen down: starts a stroke (ending an open one).
    pub fn begin_stroke(&self) -> Result<(), InksealError> {
        self.lock()?.begin_stroke();
        Ok(())
    }

    /// Adds a batch of points (e.g. a touch event's historical samples) to the open stroke and
    /// returns the smoothed segments they complete, to draw right away. A rejected batch
    /// (non-finite value, time going back, far outside the pad, too many points) is not
    /// recorded at all.
    pub fn add_points(&self, points: Vec<InkPoint>) -> Result<Vec<InkSegment>, InksealError> {
        let batch: Vec<Point> = points.into_iter().map(Point::from).collect();
        Ok(segments(self.lock()?.add_points(&batch)?))
    }

    /// Pen up: ends the stroke and returns its last segments.
    pub fn end_stroke(&self) -> Result<Vec<InkSegment>, InksealError> {
        Ok(segments(self.lock()?.end_stroke()))
    }

    /// Removes the last stroke; returns whether there was one.
    pub fn undo(&self) -> Result<bool, InksealError> {
        Ok(self.lock()?.undo())
    }

    /// Removes all ink.
    pub fn clear(&self) -> Result<(), InksealError> {
        self.lock()?.clear();
        Ok(())
    }

    /// Number of strokes recorded.
    pub fn stroke_count(&self) -> Result<u32, InksealError> {
        Ok(u32::try_from(self.lock()?.strokes().len()).unwrap_or(u32::MAX))
    }

    /// A PNG of the ink (colour `r`, `g`, `b`) on a transparent background, `width_px` wide,
    /// cropped to the ink: for a preview.
    pub fn to_png(&self, width_px: u32, r: u8, g: u8, b: u8) -> Result<Vec<u8>, InksealError> {
        Ok(self.lock()?.to_png(width_px, [r, g, b])?)
    }

    /// Checks the signature against the default quality rules (20 points, 300 ms, 30 mm of
    /// path, 15 x 4 mm of ink) and returns it ready for sealing; a signature breaking a rule
    /// throws `HandwritingRejected` and leaves the pad as it is.
    ///
    /// `device` describes the capturing device for the record (make, model, OS);
    /// `captured_at_ms` is the wall-clock time (Unix milliseconds) when writing started.
    pub fn finish(
        &self,
        device: String,
        captured_at_ms: u64,
    ) -> Result<Arc<Handwriting>, InksealError> {
        let written = self
            .lock()?
            .finish(&QualityRules::default(), &device, captured_at_ms)?;
        Ok(Arc::new(Handwriting { inner: written }))
    }
}

/// A quality-checked handwritten signature. Its raw biometric record never leaves Rust
/// unencrypted.
#[derive(uniffi::Object)]
pub struct Handwriting {
    inner: SdkHandwriting,
}

impl std::fmt::Debug for Handwriting {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Handwriting")
    }
}

#[uniffi::export]
impl Handwriting {
    /// What the quality check measured.
    pub fn quality(&self) -> InkQuality {
        let q = self.inner.quality();
        InkQuality {
            strokes: u32::try_from(q.strokes).unwrap_or(u32::MAX),
            points: u32::try_from(q.points).unwrap_or(u32::MAX),
            duration_ms: q.duration_ms,
            path_length_mm: q.path_length_mm,
            bbox_width_mm: q.bbox_width_mm,
            bbox_height_mm: q.bbox_height_mm,
        }
    }

    /// Encrypts the biometric record to the institution's public key (SM2 or P-256, a PEM
    /// `PUBLIC KEY`), for embedding in the signed PDF.
    pub fn seal_for_institution(
        &self,
        public_key_pem: String,
    ) -> Result<Arc<SealedInk>, InksealError> {
        let key = InstitutionKey::from_public_key_pem(&public_key_pem).map_err(|e| {
            InksealError::InvalidInput {
                detail: format!("institution public key: {e}"),
            }
        })?;
        Ok(Arc::new(SealedInk {
            inner: self.inner.seal_for(&key)?,
        }))
    }
}

/// A signature ready for a PDF: the ink to draw and the biometric record encrypted to the
/// institution. Put it in `PdfSignOptions.handwriting`.
#[derive(Debug, uniffi::Object)]
pub struct SealedInk {
    pub(crate) inner: SealedHandwriting,
}

#[uniffi::export]
impl SealedInk {
    /// The encrypted biometric record (only the institution's private key opens it), e.g. to
    /// archive next to the signed document.
    pub fn sealed_record(&self) -> Vec<u8> {
        self.inner.sealed_record().to_vec()
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Writes two wavy strokes in batches of 8 points.
    pub(crate) fn write_signature(pad: &InkPad) -> usize {
        let mut drawn = 0;
        for (s, y) in [(0u32, 60.0f32), (1, 140.0)] {
            pad.begin_stroke().expect("begin");
            let points: Vec<InkPoint> = (0..60u32)
                .map(|i| InkPoint {
                    x: 40.0 + i as f32 * 6.0,
                    y: y + (i as f32 / 6.0).sin() * 30.0,
                    t_ms: s * 1000 + i * 10,
                    pressure: 0.5,
                    tilt: None,
                    azimuth: None,
                })
                .collect();
            for batch in points.chunks(8) {
                drawn += pad.add_points(batch.to_vec()).expect("points").len();
            }
            drawn += pad.end_stroke().expect("end").len();
        }
        drawn
    }

    /// The institution's public key as a PEM `PUBLIC KEY`.
    pub(crate) fn institution_pem(
        secret: &inkseal_ink::record::encrypt::InstitutionSecret,
    ) -> String {
        use p256::pkcs8::EncodePublicKey;
        let sec1 = secret.public_key().to_sec1_bytes();
        p256::PublicKey::from_sec1_bytes(&sec1)
            .expect("P-256 point")
            .to_public_key_pem(p256::pkcs8::LineEnding::LF)
            .expect("pem")
    }

    #[test]
    fn a_pad_draws_live_and_finishes_into_a_sealed_signature() {
        let pad = InkPad::new(500.0, 200.0, 160.0).expect("pad");
        assert!(write_signature(&pad) > 50, "live segments to draw");
        assert_eq!(pad.stroke_count().expect("count"), 2);
        let png = pad.to_png(300, 0, 0, 128).expect("png");
        assert_eq!(&png[..4], b"\x89PNG");
        let written = pad
            .finish("test device".into(), 1_790_000_000_000)
            .expect("ok");
        let q = written.quality();
        assert_eq!((q.strokes, q.points), (2, 120));
        let secret = inkseal_ink::record::encrypt::InstitutionSecret::generate(
            inkseal_ink::record::encrypt::Scheme::P256Ecies,
        )
        .expect("key");
        let pem = institution_pem(&secret);
        let sealed = written.seal_for_institution(pem).expect("sealed");
        let record = inkseal_ink::record::encrypt::open(&sealed.sealed_record(), &secret)
            .expect("the institution opens the record");
        assert!(!record.is_empty());
        assert!(matches!(
            written.seal_for_institution("not a key".into()),
            Err(InksealError::InvalidInput { .. })
        ));
    }

    #[test]
    fn bad_input_and_poor_signatures_are_typed_errors() {
        assert!(matches!(
            InkPad::new(0.0, 200.0, 160.0),
            Err(InksealError::InvalidInput { .. })
        ));
        let pad = InkPad::new(500.0, 200.0, 160.0).expect("pad");
        pad.begin_stroke().expect("begin");
        let bad = vec![InkPoint {
            x: f32::NAN,
            y: 1.0,
            t_ms: 0,
            pressure: 0.0,
            tilt: None,
            azimuth: None,
        }];
        assert!(matches!(
            pad.add_points(bad),
            Err(InksealError::InvalidInput { .. })
        ));
        pad.end_stroke().expect("end");
        assert!(matches!(
            pad.finish("d".into(), 0),
            Err(InksealError::HandwritingRejected { .. })
        ));
        write_signature(&pad);
        assert!(pad.undo().expect("undo"));
        pad.clear().expect("clear");
        assert_eq!(pad.stroke_count().expect("count"), 0);
    }
}
