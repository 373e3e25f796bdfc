//! Raw ink model: points, strokes, the pad, and a batch-ingesting recorder.
//!
//! The raw points are the evidence: the recorder stores them exactly as delivered (after
//! validation), and never smooths or resamples them.

use thiserror::Error;

/// Errors of the handwriting pipeline: ingest, rendering and quality checks.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum InkError {
    /// The pad has a non-finite or non-positive width, height or dpi.
    #[error("invalid pad geometry: width, height and dpi must be finite and positive")]
    InvalidPad,
    /// `add_points` was called while no stroke was open (call `begin_stroke` first).
    #[error("no open stroke: call begin_stroke before add_points")]
    NoOpenStroke,
    /// A coordinate, pressure, tilt or azimuth is NaN or infinite.
    #[error("point {index} of the batch has a non-finite value")]
    NonFinite {
        /// Index of the offending point within the batch.
        index: usize,
    },
    /// Pressure outside `0.0..=1.0`.
    #[error("point {index} of the batch has pressure {pressure} outside 0..=1")]
    InvalidPressure {
        /// Index of the offending point within the batch.
        index: usize,
        /// The rejected pressure.
        pressure: f32,
    },
    /// A point lies far outside the pad (beyond the tolerated margin).
    #[error("point {index} of the batch at ({x}, {y}) is far outside the pad")]
    OutOfPad {
        /// Index of the offending point within the batch.
        index: usize,
        /// Rejected x.
        x: f32,
        /// Rejected y.
        y: f32,
    },
    /// Time went backwards within a stroke.
    #[error("point {index} of the batch goes back in time: {got_ms} ms after {prev_ms} ms")]
    TimeWentBackwards {
        /// Index of the offending point within the batch.
        index: usize,
        /// Timestamp of the previous point of the stroke.
        prev_ms: u32,
        /// Timestamp of the rejected point.
        got_ms: u32,
    },
    /// Accepting the batch would exceed the recorder's point limit.
    #[error("too many points: limit is {max}")]
    TooManyPoints {
        /// The configured maximum number of points over all strokes.
        max: usize,
    },
    /// Requested output size is zero or too large, or the ink does not fit it.
    #[error("invalid render size: {0}")]
    InvalidRenderSize(String),
    /// Encoding the raster image failed.
    #[error("image encoding failed: {0}")]
    Encode(String),
    /// Quality: the pad holds no ink at all.
    #[error("the pad is empty")]
    EmptyPad,
    /// Quality: fewer raw points than required.
    #[error("too few points: got {got}, need {need}")]
    TooFewPoints {
        /// Points recorded.
        got: usize,
        /// Points required.
        need: usize,
    },
    /// Quality: the signature was written too quickly.
    #[error("signature too short in time: {ms} ms, need {need_ms} ms")]
    TooShort {
        /// Writing duration.
        ms: u32,
        /// Required duration.
        need_ms: u32,
    },
    /// Quality: the total pen path is too short.
    #[error("pen path too short: {mm:.1} mm, need {need_mm:.1} mm")]
    PathTooShort {
        /// Path length in millimetres.
        mm: f32,
        /// Required length in millimetres.
        need_mm: f32,
    },
    /// Quality: the ink's bounding box is too small.
    #[error("signature too small: {width_mm:.1} x {height_mm:.1} mm")]
    TooSmall {
        /// Bounding-box width in millimetres.
        width_mm: f32,
        /// Bounding-box height in millimetres.
        height_mm: f32,
    },
}

/// One raw sample from the digitizer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    /// X in pad units, growing right.
    pub x: f32,
    /// Y in pad units, growing down.
    pub y: f32,
    /// Milliseconds since the pad was started.
    pub t_ms: u32,
    /// Pressure in `0..=1`; `0` when the device does not report pressure.
    pub pressure: f32,
    /// Stylus tilt in radians, if reported.
    pub tilt: Option<f32>,
    /// Stylus azimuth in radians, if reported.
    pub azimuth: Option<f32>,
}

impl Point {
    /// A point without pressure, tilt or azimuth (finger input).
    pub fn new(x: f32, y: f32, t_ms: u32) -> Self {
        Point {
            x,
            y,
            t_ms,
            pressure: 0.0,
            tilt: None,
            azimuth: None,
        }
    }

    /// The same point with a pressure value.
    pub fn with_pressure(mut self, pressure: f32) -> Self {
        self.pressure = pressure;
        self
    }
}

/// A pen-down .. pen-up sequence of raw points.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Stroke {
    /// The raw points in delivery order.
    pub points: Vec<Point>,
}

/// The writing surface, in pad units (usually device-independent pixels).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pad {
    /// Width in pad units.
    pub width: f32,
    /// Height in pad units.
    pub height: f32,
    /// Pad units per inch, used to convert to millimetres.
    pub dpi: f32,
}

impl Pad {
    /// Checks that all dimensions are finite and positive.
    pub fn validate(&self) -> Result<(), InkError> {
        let ok = |v: f32| v.is_finite() && v > 0.0;
        if ok(self.width) && ok(self.height) && ok(self.dpi) {
            Ok(())
        } else {
            Err(InkError::InvalidPad)
        }
    }

    /// Converts a length in pad units to millimetres.
    pub fn to_mm(&self, units: f32) -> f32 {
        units / self.dpi * 25.4
    }

    /// Converts millimetres to pad units.
    pub fn from_mm(&self, mm: f32) -> f32 {
        mm / 25.4 * self.dpi
    }
}

/// Default limit on the number of raw points over all strokes.
pub const DEFAULT_MAX_POINTS: usize = 100_000;

/// Fraction of the pad size a point may lie outside the pad (fingers slide off the edge).
pub const OUT_OF_PAD_MARGIN: f32 = 0.25;

/// Collects strokes from a platform's touch or stylus events, in batches.
#[derive(Debug, Clone)]
pub struct InkRecorder {
    pad: Pad,
    max_points: usize,
    strokes: Vec<Stroke>,
    open: bool,
    total_points: usize,
}

impl InkRecorder {
    /// A recorder for `pad` with the default point limit.
    pub fn new(pad: Pad) -> Result<Self, InkError> {
        Self::with_max_points(pad, DEFAULT_MAX_POINTS)
    }

    /// A recorder for `pad` accepting at most `max_points` points over all strokes.
    pub fn with_max_points(pad: Pad, max_points: usize) -> Result<Self, InkError> {
        pad.validate()?;
        Ok(InkRecorder {
            pad,
            max_points,
            strokes: Vec::new(),
            open: false,
            total_points: 0,
        })
    }

    /// Starts a new stroke (pen down). An already open stroke is ended first.
    pub fn begin_stroke(&mut self) {
        self.end_stroke();
        self.strokes.push(Stroke::default());
        self.open = true;
    }

    /// Appends a batch of points to the open stroke. The batch is validated as a whole: on
    /// error nothing is appended.
    pub fn add_points(&mut self, batch: &[Point]) -> Result<(), InkError> {
        if !self.open {
            return Err(InkError::NoOpenStroke);
        }
        if self.total_points.saturating_add(batch.len()) > self.max_points {
            return Err(InkError::TooManyPoints {
                max: self.max_points,
            });
        }
        let mx = self.pad.width * OUT_OF_PAD_MARGIN;
        let my = self.pad.height * OUT_OF_PAD_MARGIN;
        let mut prev_t = self
            .strokes
            .last()
            .and_then(|s| s.points.last())
            .map(|p| p.t_ms);
        for (index, p) in batch.iter().enumerate() {
            let finite = p.x.is_finite()
                && p.y.is_finite()
                && p.pressure.is_finite()
                && p.tilt.is_none_or(f32::is_finite)
                && p.azimuth.is_none_or(f32::is_finite);
            if !finite {
                return Err(InkError::NonFinite { index });
            }
            if !(0.0..=1.0).contains(&p.pressure) {
                return Err(InkError::InvalidPressure {
                    index,
                    pressure: p.pressure,
                });
            }
            if p.x < -mx || p.x > self.pad.width + mx || p.y < -my || p.y > self.pad.height + my {
                return Err(InkError::OutOfPad {
                    index,
                    x: p.x,
                    y: p.y,
                });
            }
            if let Some(prev_ms) = prev_t.filter(|&prev| p.t_ms < prev) {
                return Err(InkError::TimeWentBackwards {
                    index,
                    prev_ms,
                    got_ms: p.t_ms,
                });
            }
            prev_t = Some(p.t_ms);
        }
        if let Some(s) = self.strokes.last_mut() {
            s.points.extend_from_slice(batch);
            self.total_points += batch.len();
        }
        Ok(())
    }

    /// Ends the open stroke (pen up). An empty stroke is discarded. No-op when none is open.
    pub fn end_stroke(&mut self) {
        if self.open {
            self.open = false;
            if self.strokes.last().is_some_and(|s| s.points.is_empty()) {
                self.strokes.pop();
            }
        }
    }

    /// Whether a stroke is currently open.
    pub fn is_stroke_open(&self) -> bool {
        self.open
    }

    /// Drops the last stroke (the open one, if any) and returns it.
    pub fn undo(&mut self) -> Option<Stroke> {
        self.open = false;
        let s = self.strokes.pop()?;
        self.total_points -= s.points.len();
        Some(s)
    }

    /// Drops all strokes.
    pub fn clear(&mut self) {
        self.strokes.clear();
        self.open = false;
        self.total_points = 0;
    }

    /// All strokes, including the open one (last) if any.
    pub fn strokes(&self) -> &[Stroke] {
        &self.strokes
    }

    /// The pad this recorder writes on.
    pub fn pad(&self) -> &Pad {
        &self.pad
    }

    /// Number of raw points over all strokes.
    pub fn total_points(&self) -> usize {
        self.total_points
    }

    /// Maximum number of raw points accepted.
    pub fn max_points(&self) -> usize {
        self.max_points
    }
}
