//! A small path writer: points mapped by an affine transform, written as PDF path operators
//! with two decimals (a hundredth of a point is far below what any printer resolves).
// Seals use every part; without the `seals` feature only labels (move, line, curve) do.
#![cfg_attr(not(feature = "seals"), allow(dead_code))]

use std::fmt::Write;

/// `[a b c d e f]`: `(x, y)` maps to `(a x + c y + e, b x + d y + f)`, as PDF's `cm`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Affine(pub(crate) [f64; 6]);

impl Affine {
    /// Rotation by `angle` radians, then translation to `(x, y)`.
    pub(crate) fn rotate_translate(angle: f64, (x, y): (f64, f64)) -> Self {
        let (s, c) = angle.sin_cos();
        Affine([c, s, -s, c, x, y])
    }

    /// `self` applied after scaling by `(sx, sy)` and translating by `(dx, dy)` in the local
    /// coordinates.
    pub(crate) fn then_local(self, sx: f64, sy: f64, dx: f64, dy: f64) -> Self {
        let [a, b, c, d, e, f] = self.0;
        Affine([
            a * sx,
            b * sx,
            c * sy,
            d * sy,
            a * dx + c * dy + e,
            b * dx + d * dy + f,
        ])
    }

    /// `self` applied after a uniform scale.
    pub(crate) fn then_scale(self, s: f64) -> Self {
        self.then_local(s, s, 0.0, 0.0)
    }

    pub(crate) fn apply(self, (x, y): (f64, f64)) -> (f64, f64) {
        let [a, b, c, d, e, f] = self.0;
        (a * x + c * y + e, b * x + d * y + f)
    }
}

/// PDF path operators being written.
#[derive(Default)]
pub(crate) struct PathWriter {
    ops: String,
}

fn num(out: &mut String, v: f64) {
    let v = if v.is_finite() { v } else { 0.0 };
    let r = (v * 100.0).round() / 100.0;
    let r = if r == 0.0 { 0.0 } else { r }; // no "-0"
    let _ = write!(out, "{r} ");
}

impl PathWriter {
    fn point(&mut self, (x, y): (f64, f64)) {
        num(&mut self.ops, x);
        num(&mut self.ops, y);
    }

    pub(crate) fn move_to(&mut self, p: (f64, f64)) {
        self.point(p);
        self.ops.push_str("m\n");
    }

    pub(crate) fn line_to(&mut self, p: (f64, f64)) {
        self.point(p);
        self.ops.push_str("l\n");
    }

    pub(crate) fn curve_to(&mut self, c1: (f64, f64), c2: (f64, f64), p: (f64, f64)) {
        self.point(c1);
        self.point(c2);
        self.point(p);
        self.ops.push_str("c\n");
    }

    pub(crate) fn close(&mut self) {
        self.ops.push_str("h\n");
    }

    /// An ellipse centred at `c` with semi-axes `rx`, `ry`, as four Bézier quarters.
    pub(crate) fn ellipse(&mut self, (cx, cy): (f64, f64), rx: f64, ry: f64) {
        const K: f64 = 0.552_284_75;
        let (kx, ky) = (rx * K, ry * K);
        self.move_to((cx + rx, cy));
        self.curve_to((cx + rx, cy + ky), (cx + kx, cy + ry), (cx, cy + ry));
        self.curve_to((cx - kx, cy + ry), (cx - rx, cy + ky), (cx - rx, cy));
        self.curve_to((cx - rx, cy - ky), (cx - kx, cy - ry), (cx, cy - ry));
        self.curve_to((cx + kx, cy - ry), (cx + rx, cy - ky), (cx + rx, cy));
        self.close();
    }

    /// Finish with a painting operator (`f` fill, `S` stroke...).
    pub(crate) fn paint(&mut self, op: &str) {
        self.ops.push_str(op);
        self.ops.push('\n');
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }

    pub(crate) fn into_string(self) -> String {
        self.ops
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn affine_composes_like_pdf_cm() {
        let quarter = Affine::rotate_translate(std::f64::consts::FRAC_PI_2, (10.0, 0.0));
        let (x, y) = quarter.apply((1.0, 0.0));
        assert!((x - 10.0).abs() < 1e-9 && (y - 1.0).abs() < 1e-9);
        let scaled = quarter.then_local(2.0, 3.0, 1.0, 0.0).apply((1.0, 1.0));
        // local (1,1) -> scaled (2,3) -> shifted (3,3) -> rotated (-3,3) -> moved (7,3)
        assert!((scaled.0 - 7.0).abs() < 1e-9 && (scaled.1 - 3.0).abs() < 1e-9);
    }

    #[test]
    fn numbers_are_short_and_never_nan() {
        let mut w = PathWriter::default();
        w.move_to((f64::NAN, -0.001));
        w.line_to((1.23456, f64::INFINITY));
        assert_eq!(w.into_string(), "0 0 m\n1.23 0 l\n");
    }
}
