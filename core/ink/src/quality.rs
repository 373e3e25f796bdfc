//! Quality rules rejecting empty, trivial or tiny signatures.

use crate::stroke::{InkError, Pad, Stroke};

/// Minimum requirements for an acceptable signature.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct QualityRules {
    /// Minimum number of raw points over all strokes.
    pub min_points: usize,
    /// Minimum writing time, first to last point.
    pub min_duration_ms: u32,
    /// Minimum total pen path length, in millimetres (via the pad's dpi).
    pub min_path_length_mm: f32,
    /// Minimum bounding-box width of the ink, in millimetres.
    pub min_bbox_width_mm: f32,
    /// Minimum bounding-box height of the ink, in millimetres.
    pub min_bbox_height_mm: f32,
}

impl Default for QualityRules {
    /// 20 points, 300 ms, 30 mm of path, 15 x 4 mm of ink.
    fn default() -> Self {
        QualityRules {
            min_points: 20,
            min_duration_ms: 300,
            min_path_length_mm: 30.0,
            min_bbox_width_mm: 15.0,
            min_bbox_height_mm: 4.0,
        }
    }
}

/// Measurements of an accepted signature.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct QualityReport {
    /// Number of non-empty strokes.
    pub strokes: usize,
    /// Number of raw points.
    pub points: usize,
    /// Writing time, first to last point.
    pub duration_ms: u32,
    /// Total pen path length in millimetres.
    pub path_length_mm: f32,
    /// Ink bounding-box width in millimetres.
    pub bbox_width_mm: f32,
    /// Ink bounding-box height in millimetres.
    pub bbox_height_mm: f32,
}

impl QualityRules {
    /// Measures the raw strokes and checks them against the rules, reporting the first
    /// violated rule in the order: empty, points, duration, path length, size.
    pub fn check(&self, strokes: &[Stroke], pad: &Pad) -> Result<QualityReport, InkError> {
        pad.validate()?;
        let report = measure(strokes, pad).ok_or(InkError::EmptyPad)?;
        if report.points < self.min_points {
            return Err(InkError::TooFewPoints {
                got: report.points,
                need: self.min_points,
            });
        }
        if report.duration_ms < self.min_duration_ms {
            return Err(InkError::TooShort {
                ms: report.duration_ms,
                need_ms: self.min_duration_ms,
            });
        }
        if report.path_length_mm < self.min_path_length_mm {
            return Err(InkError::PathTooShort {
                mm: report.path_length_mm,
                need_mm: self.min_path_length_mm,
            });
        }
        if report.bbox_width_mm < self.min_bbox_width_mm
            || report.bbox_height_mm < self.min_bbox_height_mm
        {
            return Err(InkError::TooSmall {
                width_mm: report.bbox_width_mm,
                height_mm: report.bbox_height_mm,
            });
        }
        Ok(report)
    }
}

/// Checks `strokes` with the default rules.
pub fn check(strokes: &[Stroke], pad: &Pad) -> Result<QualityReport, InkError> {
    QualityRules::default().check(strokes, pad)
}

/// Measures the raw strokes; `None` when there are no finite points.
pub fn measure(strokes: &[Stroke], pad: &Pad) -> Option<QualityReport> {
    let mut n_strokes = 0;
    let mut points = 0;
    let mut t_min = u32::MAX;
    let mut t_max = 0u32;
    let mut path = 0f64;
    let mut bb = [
        f32::INFINITY,
        f32::INFINITY,
        f32::NEG_INFINITY,
        f32::NEG_INFINITY,
    ];
    for s in strokes {
        let mut prev: Option<(f32, f32)> = None;
        let mut any = false;
        for p in &s.points {
            if !(p.x.is_finite() && p.y.is_finite()) {
                continue;
            }
            any = true;
            points += 1;
            t_min = t_min.min(p.t_ms);
            t_max = t_max.max(p.t_ms);
            bb[0] = bb[0].min(p.x);
            bb[1] = bb[1].min(p.y);
            bb[2] = bb[2].max(p.x);
            bb[3] = bb[3].max(p.y);
            if let Some((px, py)) = prev {
                path += f64::from(((p.x - px).powi(2) + (p.y - py).powi(2)).sqrt());
            }
            prev = Some((p.x, p.y));
        }
        if any {
            n_strokes += 1;
        }
    }
    if points == 0 {
        return None;
    }
    Some(QualityReport {
        strokes: n_strokes,
        points,
        duration_ms: t_max - t_min,
        path_length_mm: pad.to_mm(path as f32),
        bbox_width_mm: pad.to_mm(bb[2] - bb[0]),
        bbox_height_mm: pad.to_mm(bb[3] - bb[1]),
    })
}
