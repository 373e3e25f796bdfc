//! The ink pad: what a signing screen drives while the signer writes, and what it hands to
//! PDF signing afterwards.
//!
//! ```text
//! InkPad ── begin_stroke / add_points (batches) / end_stroke ──> live segments to draw
//!        └─ finish(rules) ──> Handwriting (quality checked, raw record)
//!                               └─ seal_for(institution key) ──> SealedHandwriting
//!                                                                  └─ apply_to(SignOptions)
//! ```
//!
//! The raw points are the evidence: they go, unsmoothed, into the biometric record, which is
//! encrypted to the institution before it leaves this object. The appearance in the PDF is drawn
//! with the same smoothing the screen showed.

use inkseal_ink::record::encrypt::{InstitutionKey, seal_for_institution};
use inkseal_ink::record::format::{BiometricRecord, encode};
use inkseal_ink::{
    InkError, InkRecorder, Pad, Point, QualityReport, QualityRules, Segment, SmoothOptions,
    Smoother, Stroke, to_png,
};
use inkseal_pdf::appearance::InkStrokes;
use inkseal_pdf::sign::SignOptions;

use crate::SdkError;

/// A signature pad: records raw strokes and smooths them incrementally for display.
pub struct InkPad {
    recorder: InkRecorder,
    smoother: Smoother,
    options: SmoothOptions,
}

impl InkPad {
    /// A pad of `pad` size (in the platform's view units) and resolution.
    pub fn new(pad: Pad) -> Result<Self, SdkError> {
        let recorder = InkRecorder::new(pad).map_err(ink_input)?;
        let options = SmoothOptions::for_pad(&pad);
        Ok(InkPad {
            recorder,
            smoother: Smoother::new(options),
            options,
        })
    }

    /// The pad's geometry.
    pub fn pad(&self) -> Pad {
        *self.recorder.pad()
    }

    /// Pen down: starts a stroke (ending an open one first).
    pub fn begin_stroke(&mut self) {
        self.finish_open_stroke();
        self.recorder.begin_stroke();
        self.smoother = Smoother::new(self.options);
    }

    /// Adds a batch of points (historical/coalesced events at once) to the open stroke and
    /// returns the smoothed segments they complete, to draw right away.
    ///
    /// A rejected batch (non-finite value, time going back, outside the pad, too many
    /// points) is not recorded at all.
    pub fn add_points(&mut self, batch: &[Point]) -> Result<Vec<Segment>, SdkError> {
        self.recorder.add_points(batch).map_err(ink_input)?;
        let mut out = Vec::with_capacity(batch.len() * 2);
        for p in batch {
            out.extend_from_slice(self.smoother.push(*p));
        }
        Ok(out)
    }

    /// Pen up: ends the stroke and returns its final segment(s).
    pub fn end_stroke(&mut self) -> Vec<Segment> {
        let tail = self.finish_open_stroke();
        self.recorder.end_stroke();
        tail
    }

    fn finish_open_stroke(&mut self) -> Vec<Segment> {
        if self.recorder.is_stroke_open() {
            self.smoother.finish().to_vec()
        } else {
            Vec::new()
        }
    }

    /// Removes the last stroke; returns whether there was one.
    pub fn undo(&mut self) -> bool {
        self.finish_open_stroke();
        self.recorder.undo().is_some()
    }

    /// Removes all ink.
    pub fn clear(&mut self) {
        self.finish_open_stroke();
        self.recorder.clear();
    }

    /// The raw strokes recorded so far.
    pub fn strokes(&self) -> &[Stroke] {
        self.recorder.strokes()
    }

    /// A PNG of the ink on a transparent background, `width_px` wide, cropped to the ink.
    pub fn to_png(&self, width_px: u32, rgb: [u8; 3]) -> Result<Vec<u8>, SdkError> {
        to_png(self.recorder.strokes(), self.recorder.pad(), width_px, rgb).map_err(ink_input)
    }

    /// Checks the signature against `rules` and returns it ready for signing; a signature
    /// that breaks a rule gives [`SdkError::HandwritingRejected`] (ask the signer to write
    /// again) and leaves the pad as it is.
    ///
    /// `device` describes the capturing device for the record (make, model, OS);
    /// `captured_at_ms` is the wall-clock time (unix ms) when writing started.
    pub fn finish(
        &self,
        rules: &QualityRules,
        device: &str,
        captured_at_ms: u64,
    ) -> Result<Handwriting, SdkError> {
        let pad = *self.recorder.pad();
        let strokes = self.recorder.strokes().to_vec();
        let quality = rules
            .check(&strokes, &pad)
            .map_err(|e| SdkError::HandwritingRejected(e.to_string()))?;
        let record = BiometricRecord::from_strokes(&pad, &strokes, device, captured_at_ms);
        Ok(Handwriting {
            ink: InkStrokes { pad, strokes },
            record,
            quality,
        })
    }
}

/// A quality-checked signature: the ink to draw and the raw biometric record (plaintext,
/// wiped on drop; it never leaves the SDK unencrypted).
pub struct Handwriting {
    ink: InkStrokes,
    record: BiometricRecord,
    quality: QualityReport,
}

impl Handwriting {
    /// What the quality check measured.
    pub fn quality(&self) -> &QualityReport {
        &self.quality
    }

    /// The ink as the PDF appearance draws it.
    pub fn ink(&self) -> &InkStrokes {
        &self.ink
    }

    /// Encrypts the biometric record to the institution's public key (SM2 or P-256).
    pub fn seal_for(&self, institution: &InstitutionKey) -> Result<SealedHandwriting, SdkError> {
        let plain = zeroize::Zeroizing::new(encode(&self.record).map_err(record_input)?);
        let sealed_record = seal_for_institution(&plain, institution).map_err(record_input)?;
        Ok(SealedHandwriting {
            ink: self.ink.clone(),
            sealed_record,
        })
    }
}

/// The handwriting as it goes into a PDF signature: the ink for the appearance and the record
/// encrypted to the institution, embedded in the signed revision and bound by a signed
/// attribute (see `inkseal_pdf::ink_binding`).
#[derive(Clone, Debug)]
pub struct SealedHandwriting {
    ink: InkStrokes,
    sealed_record: Vec<u8>,
}

impl SealedHandwriting {
    /// The encrypted record (only the institution's key opens it).
    pub fn sealed_record(&self) -> &[u8] {
        &self.sealed_record
    }

    /// Makes `options` draw this ink in the signature's appearance and embed and bind the
    /// sealed record.
    pub fn apply_to(&self, options: &mut SignOptions) {
        options.appearance.ink = Some(self.ink.clone());
        options.appearance.image = None;
        options.ink_record = Some(self.sealed_record.clone());
    }
}

fn ink_input(e: InkError) -> SdkError {
    SdkError::InvalidInput(e.to_string())
}

fn record_input(e: inkseal_ink::record::RecordError) -> SdkError {
    SdkError::InvalidInput(format!("handwriting record: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use inkseal_ink::record::encrypt::{InstitutionSecret, Scheme, open};
    use inkseal_ink::record::format::decode;

    const PAD: Pad = Pad {
        width: 500.0,
        height: 200.0,
        dpi: 160.0,
    };

    fn stroke(pad: &mut InkPad, y: f32, t0: u32) {
        pad.begin_stroke();
        let points: Vec<Point> = (0..60u32)
            .map(|i| {
                Point::new(
                    40.0 + i as f32 * 6.0,
                    y + (i as f32 / 6.0).sin() * 30.0,
                    t0 + i * 10,
                )
            })
            .collect();
        pad.add_points(&points).expect("points");
        pad.end_stroke();
    }

    #[test]
    fn a_rejected_batch_leaves_the_pad_unchanged() {
        let mut pad = InkPad::new(PAD).expect("pad");
        stroke(&mut pad, 100.0, 0);
        pad.begin_stroke();
        let bad = [Point::new(1.0, 1.0, 5), Point::new(f32::NAN, 1.0, 6)];
        assert!(matches!(
            pad.add_points(&bad),
            Err(SdkError::InvalidInput(_))
        ));
        pad.end_stroke();
        let points: usize = pad.strokes().iter().map(|s| s.points.len()).sum();
        assert_eq!(points, 60);
    }

    #[test]
    fn undo_and_clear_remove_ink() {
        let mut pad = InkPad::new(PAD).expect("pad");
        stroke(&mut pad, 60.0, 0);
        stroke(&mut pad, 140.0, 1000);
        assert!(pad.undo());
        assert_eq!(pad.strokes().len(), 1);
        pad.clear();
        assert!(!pad.undo());
        let err = pad
            .finish(&QualityRules::default(), "test", 0)
            .err()
            .expect("empty pad");
        assert_eq!(
            err,
            SdkError::HandwritingRejected(InkError::EmptyPad.to_string())
        );
    }

    #[test]
    fn sealed_for_a_p256_institution_and_applied_to_the_options() {
        let mut pad = InkPad::new(PAD).expect("pad");
        stroke(&mut pad, 60.0, 0);
        stroke(&mut pad, 140.0, 1000);
        let written = pad
            .finish(&QualityRules::default(), "desk pad", 1_790_000_000_000)
            .expect("acceptable");
        let insurer = InstitutionSecret::generate(Scheme::P256Ecies).expect("key");
        let sealed = written.seal_for(&insurer.public_key()).expect("seal");
        let mut options = SignOptions::new(1_790_000_000);
        options.appearance.image = Some(vec![1, 2, 3]);
        sealed.apply_to(&mut options);
        assert_eq!(options.ink_record.as_deref(), Some(sealed.sealed_record()));
        assert!(
            options.appearance.image.is_none(),
            "the ink replaces an image"
        );
        assert_eq!(options.appearance.ink.as_ref(), Some(written.ink()));
        let record = decode(&open(sealed.sealed_record(), &insurer).expect("open")).expect("parse");
        assert_eq!(record.device, "desk pad");
        assert_eq!(record.strokes.len(), 2);
        assert_eq!(
            (record.pad_width, record.pad_height, record.dpi),
            (500, 200, 160)
        );
    }
}
