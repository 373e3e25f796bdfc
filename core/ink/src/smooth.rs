//! Display smoothing: quadratic-midpoint Bézier centreline with velocity- and
//! pressure-dependent width.
//!
//! The output is a chain of [`Segment`]s, each a tapered capsule (two discs joined by their
//! outer tangents). Consecutive segments share an end disc, so the union of the capsules is a
//! gap-free outline of the stroke whatever the turns; a one-point stroke is a single round dot.
//! [`Segment::outline`] gives each capsule as a closed path of lines and cubic Béziers.

use crate::stroke::{Pad, Point, Stroke};

/// A 2-D point in pad units.
pub type Vec2 = [f32; 2];

/// Parameters of the width model, in pad units.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SmoothOptions {
    /// Nominal full width of the ink at zero velocity and neutral pressure.
    pub base_width: f32,
    /// Minimum full width (fast strokes never turn into dots).
    pub min_width: f32,
    /// Maximum full width (slow strokes never blob).
    pub max_width: f32,
    /// Velocity thinning factor, per (pad units per millisecond).
    pub velocity_k: f32,
    /// Exponential moving average factor for width and velocity, in `(0, 1]`.
    pub ema_alpha: f32,
}

impl SmoothOptions {
    /// Defaults scaled to the pad's dpi: 0.7 mm nominal width, 0.35 ..= 1.4 mm.
    pub fn for_pad(pad: &Pad) -> Self {
        let dpi = if pad.dpi.is_finite() && pad.dpi > 0.0 {
            pad.dpi
        } else {
            160.0
        };
        let mm = dpi / 25.4;
        SmoothOptions {
            base_width: 0.7 * mm,
            min_width: 0.35 * mm,
            max_width: 1.4 * mm,
            // Thinning by half at about 1 mm/ms (a brisk signature stroke).
            velocity_k: 1.0 / mm,
            ema_alpha: 0.3,
        }
    }

    fn sanitized(self) -> Self {
        let pos = |v: f32, d: f32| if v.is_finite() && v > 0.0 { v } else { d };
        let min_width = pos(self.min_width, 1.0);
        let max_width = pos(self.max_width, 4.0).max(min_width);
        SmoothOptions {
            base_width: pos(self.base_width, 2.0),
            min_width,
            max_width,
            velocity_k: if self.velocity_k.is_finite() && self.velocity_k >= 0.0 {
                self.velocity_k
            } else {
                0.0
            },
            ema_alpha: if self.ema_alpha.is_finite() && self.ema_alpha > 0.0 {
                self.ema_alpha.min(1.0)
            } else {
                1.0
            },
        }
    }
}

/// A tapered capsule from disc (`a`, `ra`) to disc (`b`, `rb`); `a == b` is a round dot.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Segment {
    /// Start centre.
    pub a: Vec2,
    /// Start radius (half width).
    pub ra: f32,
    /// End centre.
    pub b: Vec2,
    /// End radius (half width).
    pub rb: f32,
}

/// One command of a closed outline path.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum PathCmd {
    /// Start a subpath.
    MoveTo(Vec2),
    /// Straight line.
    LineTo(Vec2),
    /// Cubic Bézier with two control points and an end point.
    CubicTo(Vec2, Vec2, Vec2),
    /// Close the subpath.
    Close,
}

impl Segment {
    /// Axis-aligned bounding box `[min_x, min_y, max_x, max_y]` of the capsule.
    pub fn bbox(&self) -> [f32; 4] {
        [
            (self.a[0] - self.ra).min(self.b[0] - self.rb),
            (self.a[1] - self.ra).min(self.b[1] - self.rb),
            (self.a[0] + self.ra).max(self.b[0] + self.rb),
            (self.a[1] + self.ra).max(self.b[1] + self.rb),
        ]
    }

    /// The capsule's outline as one closed path, always with the same orientation
    /// (clockwise in a y-up frame), so a nonzero fill of many outlines is their union.
    pub fn outline(&self, out: &mut Vec<PathCmd>) {
        let (dx, dy) = (self.b[0] - self.a[0], self.b[1] - self.a[1]);
        let d = (dx * dx + dy * dy).sqrt();
        if d <= (self.ra - self.rb).abs() || d < 1e-6 {
            // One disc contains the other: the bigger disc alone.
            let (c, r) = if self.ra >= self.rb {
                (self.a, self.ra)
            } else {
                (self.b, self.rb)
            };
            out.push(PathCmd::MoveTo([c[0] + r, c[1]]));
            arc(out, c, r, 0.0, -std::f32::consts::TAU);
            out.push(PathCmd::Close);
            return;
        }
        let base = dy.atan2(dx);
        let cos_t = ((self.ra - self.rb) / d).clamp(-1.0, 1.0);
        let theta = cos_t.acos();
        let (sp, cp) = (base + theta).sin_cos();
        let (sm, cm) = (base - theta).sin_cos();
        let a_plus = [self.a[0] + self.ra * cp, self.a[1] + self.ra * sp];
        let b_plus = [self.b[0] + self.rb * cp, self.b[1] + self.rb * sp];
        out.push(PathCmd::MoveTo(a_plus));
        out.push(PathCmd::LineTo(b_plus));
        arc(out, self.b, self.rb, base + theta, -2.0 * theta);
        out.push(PathCmd::LineTo([
            self.a[0] + self.ra * cm,
            self.a[1] + self.ra * sm,
        ]));
        arc(
            out,
            self.a,
            self.ra,
            base - theta,
            -(std::f32::consts::TAU - 2.0 * theta),
        );
        out.push(PathCmd::Close);
    }
}

impl Segment {
    /// Direction angle and tangent half-angle of the capsule's sides, or `None` when one disc
    /// contains the other (the capsule is just the bigger disc).
    fn frame(&self) -> Option<(f32, f32)> {
        let (dx, dy) = (self.b[0] - self.a[0], self.b[1] - self.a[1]);
        let d = (dx * dx + dy * dy).sqrt();
        if !(d > (self.ra - self.rb).abs() && d >= 1e-6) {
            return None;
        }
        let cos_t = ((self.ra - self.rb) / d).clamp(-1.0, 1.0);
        Some((dy.atan2(dx), cos_t.acos()))
    }
}

/// Angular difference wrapped into `-PI..=PI`.
fn wrap(a: f32) -> f32 {
    let t = std::f32::consts::TAU;
    let r = a.rem_euclid(t);
    if r > std::f32::consts::PI { r - t } else { r }
}

fn circle(out: &mut Vec<PathCmd>, c: Vec2, r: f32) {
    out.push(PathCmd::MoveTo([c[0] + r, c[1]]));
    arc(out, c, r, 0.0, -std::f32::consts::TAU);
    out.push(PathCmd::Close);
}

/// Joints whose sides turn by less than this (radians) are mitred (the two quadrilaterals
/// share their corners, leaving a notch under 0.3 % of the radius deep) instead of rounded.
const JOINT_TOLERANCE: f32 = 0.15;

/// Compact outline of a list of segments (chains of connected segments): one quadrilateral
/// per segment, mitred to its neighbours at gentle joints, plus discs only at chain ends, at
/// dots and at sharp joints. Every subpath has the same orientation, so a nonzero fill paints
/// (up to a negligible notch at gentle joints) the union of the capsules, with about a third
/// of the path commands of filling every [`Segment::outline`].
pub fn chain_outline(segs: &[Segment], out: &mut Vec<PathCmd>) {
    let frames: Vec<Option<(f32, f32)>> = segs.iter().map(Segment::frame).collect();
    // Shared side-normal angles (plus, minus) at the joint after segment i, if mitred.
    let joint = |i: usize| -> Option<(f32, f32)> {
        let (s, n) = (segs.get(i)?, segs.get(i + 1)?);
        if s.b != n.a || s.rb != n.ra {
            return None;
        }
        let ((b0, t0), (b1, t1)) = (frames[i]?, frames[i + 1]?);
        let dp = wrap(b1 + t1 - b0 - t0);
        let dm = wrap(b1 - t1 - b0 + t0);
        if dp.abs() < JOINT_TOLERANCE && dm.abs() < JOINT_TOLERANCE {
            Some((b0 + t0 + dp * 0.5, b0 - t0 + dm * 0.5))
        } else {
            None
        }
    };
    let mut prev_joint: Option<(f32, f32)> = None;
    for (i, s) in segs.iter().enumerate() {
        let next_joint = joint(i);
        if prev_joint.is_none() {
            circle(out, s.a, s.ra);
        }
        match frames[i] {
            Some((base, theta)) => {
                let (ap, am) = prev_joint.unwrap_or((base + theta, base - theta));
                let (bp, bm) = next_joint.unwrap_or((base + theta, base - theta));
                let corner = |c: Vec2, r: f32, ang: f32| {
                    let (sn, cs) = ang.sin_cos();
                    [c[0] + r * cs, c[1] + r * sn]
                };
                out.push(PathCmd::MoveTo(corner(s.a, s.ra, ap)));
                out.push(PathCmd::LineTo(corner(s.b, s.rb, bp)));
                out.push(PathCmd::LineTo(corner(s.b, s.rb, bm)));
                out.push(PathCmd::LineTo(corner(s.a, s.ra, am)));
                out.push(PathCmd::Close);
            }
            None => {
                if s.rb > s.ra {
                    circle(out, s.b, s.rb);
                }
            }
        }
        if next_joint.is_none() && s.a != s.b {
            circle(out, s.b, s.rb);
        }
        prev_joint = next_joint;
    }
}

/// Appends cubic Béziers approximating a circular arc starting at angle `start` (the current
/// point) and sweeping `sweep` radians (negative: clockwise in a y-up frame).
fn arc(out: &mut Vec<PathCmd>, c: Vec2, r: f32, start: f32, sweep: f32) {
    let n = ((sweep.abs() / std::f32::consts::FRAC_PI_2).ceil() as usize).clamp(1, 4);
    let step = sweep / n as f32;
    let k = 4.0 / 3.0 * (step / 4.0).tan() * r;
    let mut a0 = start;
    for _ in 0..n {
        let a1 = a0 + step;
        let (s0, c0) = a0.sin_cos();
        let (s1, c1) = a1.sin_cos();
        let p0 = [c[0] + r * c0, c[1] + r * s0];
        let p1 = [c[0] + r * c1, c[1] + r * s1];
        out.push(PathCmd::CubicTo(
            [p0[0] - k * s0, p0[1] + k * c0],
            [p1[0] + k * s1, p1[1] - k * c1],
            p1,
        ));
        a0 = a1;
    }
}

/// Incremental smoother: feed raw points one by one, draw the segments each call returns.
#[derive(Debug, Clone)]
pub struct Smoother {
    opts: SmoothOptions,
    out: Vec<Segment>,
    /// Last accepted raw point: the control point of the next quadratic.
    ctrl: Option<(Vec2, u32)>,
    /// Radius at `ctrl`.
    ctrl_r: f32,
    /// End of the centreline emitted so far, with its radius.
    cursor: (Vec2, f32),
    /// Smoothed velocity in pad units per ms.
    velocity: f32,
    /// Smoothed full width.
    width: f32,
}

/// Points closer than this (pad units) to the previous one are treated as duplicates.
const DUPLICATE_EPS: f32 = 1e-3;

impl Smoother {
    /// A smoother with the given options (non-finite or invalid options fall back to sane values).
    pub fn new(opts: SmoothOptions) -> Self {
        Smoother {
            opts: opts.sanitized(),
            out: Vec::with_capacity(16),
            ctrl: None,
            ctrl_r: 0.0,
            cursor: ([0.0, 0.0], 0.0),
            velocity: 0.0,
            width: 0.0,
        }
    }

    /// Starts a new stroke, forgetting the previous one.
    pub fn reset(&mut self) {
        self.out.clear();
        self.ctrl = None;
        self.velocity = 0.0;
        self.width = 0.0;
    }

    fn target_width(&self, pressure: f32) -> f32 {
        let o = &self.opts;
        let pf = if pressure.is_finite() && pressure > 0.0 {
            0.4 + 1.2 * pressure.min(1.0)
        } else {
            1.0
        };
        let w = o.base_width * pf / (1.0 + o.velocity_k * self.velocity);
        if w.is_finite() {
            w.clamp(o.min_width, o.max_width)
        } else {
            o.min_width
        }
    }

    /// Adds a raw point and returns only the segments it completes (O(1) per point).
    /// The first point of a stroke yields a round dot. Non-finite and duplicate points
    /// yield nothing.
    pub fn push(&mut self, p: Point) -> &[Segment] {
        self.out.clear();
        if !(p.x.is_finite() && p.y.is_finite()) {
            return &self.out;
        }
        let pos = [p.x, p.y];
        let Some((prev, prev_t)) = self.ctrl else {
            self.width = self.target_width(p.pressure);
            let r = self.width * 0.5;
            self.ctrl = Some((pos, p.t_ms));
            self.ctrl_r = r;
            self.cursor = (pos, r);
            self.out.push(Segment {
                a: pos,
                ra: r,
                b: pos,
                rb: r,
            });
            return &self.out;
        };
        let dist = ((pos[0] - prev[0]).powi(2) + (pos[1] - prev[1]).powi(2)).sqrt();
        if !dist.is_finite() || dist < DUPLICATE_EPS {
            return &self.out;
        }
        let alpha = self.opts.ema_alpha;
        // Zero or negative time delta (coalesced events): keep the previous velocity.
        if p.t_ms > prev_t {
            let v = dist / (p.t_ms - prev_t) as f32;
            if v.is_finite() {
                self.velocity += alpha * (v - self.velocity);
            }
        }
        let target = self.target_width(p.pressure);
        self.width += alpha * (target - self.width);
        let r = self.width * 0.5;
        let end = [prev[0] * 0.5 + pos[0] * 0.5, prev[1] * 0.5 + pos[1] * 0.5];
        let end_r = (self.ctrl_r + r) * 0.5;
        self.emit_quad(prev, end, end_r);
        self.ctrl = Some((pos, p.t_ms));
        self.ctrl_r = r;
        &self.out
    }

    /// Ends the stroke: returns the final straight piece to the last raw point.
    pub fn finish(&mut self) -> &[Segment] {
        self.out.clear();
        if let Some((pos, _)) = self.ctrl {
            let (c, cr) = self.cursor;
            if c != pos {
                self.out.push(Segment {
                    a: c,
                    ra: cr,
                    b: pos,
                    rb: self.ctrl_r,
                });
            }
            self.cursor = (pos, self.ctrl_r);
        }
        &self.out
    }

    /// Flattens the quadratic cursor -> ctrl -> end into a few capsules.
    fn emit_quad(&mut self, ctrl: Vec2, end: Vec2, end_r: f32) {
        let (start, start_r) = self.cursor;
        let len = dist(start, ctrl) + dist(ctrl, end);
        // About one piece per 3 base widths, at most 8.
        let n = ((len / (3.0 * self.opts.base_width)).ceil() as usize).clamp(1, 8);
        let mut a = start;
        let mut ra = start_r;
        for i in 1..=n {
            let t = i as f32 / n as f32;
            let (b, rb) = if i == n {
                (end, end_r)
            } else {
                let u = 1.0 - t;
                (
                    [
                        u * u * start[0] + 2.0 * u * t * ctrl[0] + t * t * end[0],
                        u * u * start[1] + 2.0 * u * t * ctrl[1] + t * t * end[1],
                    ],
                    start_r + (end_r - start_r) * t,
                )
            };
            self.out.push(Segment { a, ra, b, rb });
            a = b;
            ra = rb;
        }
        self.cursor = (end, end_r);
    }
}

fn dist(a: Vec2, b: Vec2) -> f32 {
    ((b[0] - a[0]).powi(2) + (b[1] - a[1]).powi(2)).sqrt()
}

/// Smooths a whole stroke into a connected chain of segments (a dot for one point).
pub fn smooth_stroke(stroke: &Stroke, opts: &SmoothOptions) -> Vec<Segment> {
    let mut out = Vec::with_capacity(stroke.points.len() * 2 + 1);
    smooth_stroke_into(stroke, opts, &mut out);
    out
}

/// Like [`smooth_stroke`], appending to `out`.
pub fn smooth_stroke_into(stroke: &Stroke, opts: &SmoothOptions, out: &mut Vec<Segment>) {
    let mut s = Smoother::new(*opts);
    for p in &stroke.points {
        out.extend_from_slice(s.push(*p));
    }
    out.extend_from_slice(s.finish());
}

/// Smooths all strokes with options derived from the pad.
pub fn smooth_strokes(strokes: &[Stroke], pad: &Pad) -> Vec<Segment> {
    let opts = SmoothOptions::for_pad(pad);
    let n: usize = strokes.iter().map(|s| s.points.len()).sum();
    let mut out = Vec::with_capacity(n * 2 + strokes.len());
    for s in strokes {
        smooth_stroke_into(s, &opts, &mut out);
    }
    out
}
