//! Rendering tests: determinism, golden pixel checks, PDF paths.

#![allow(clippy::unwrap_used)]

use inkseal_ink::{Pad, Point, Stroke, to_pdf_path, to_png};

const PAD: Pad = Pad {
    width: 800.0,
    height: 300.0,
    dpi: 160.0,
};

fn line() -> Vec<Stroke> {
    vec![Stroke {
        points: (0..=100)
            .map(|i| Point::new(100.0 + i as f32 * 5.0, 150.0, i * 10))
            .collect(),
    }]
}

fn signature() -> Vec<Stroke> {
    let pts = (0..1000u32)
        .map(|i| {
            let s = i as f32 / 1000.0;
            Point::new(
                60.0 + 650.0 * s + 30.0 * (s * 60.0).sin(),
                150.0 + 70.0 * (s * 25.0).cos(),
                i * 3,
            )
            .with_pressure(0.5)
        })
        .collect();
    vec![Stroke { points: pts }]
}

#[test]
fn png_is_deterministic() {
    let a = to_png(&signature(), &PAD, 600, [0, 0, 128]).unwrap();
    let b = to_png(&signature(), &PAD, 600, [0, 0, 128]).unwrap();
    assert_eq!(a, b);
    assert_eq!(&a[..8], b"\x89PNG\r\n\x1a\n");
}

#[test]
fn horizontal_line_golden() {
    let png = to_png(&line(), &PAD, 400, [10, 20, 30]).unwrap();
    let img = image::load_from_memory(&png).unwrap().to_rgba8();
    let (w, h) = img.dimensions();
    assert_eq!(w, 400);
    // Cropped to the ink: a thin line gives a short, wide image.
    assert!(h < 40, "height {h}");
    let mid = h / 2;
    // Opaque ink along the middle row, away from the rounded ends.
    for x in (w / 10)..(w * 9 / 10) {
        let px = img.get_pixel(x, mid);
        assert_eq!(px[3], 255, "pixel ({x}, {mid}) not opaque");
        assert_eq!(&px.0[..3], &[10, 20, 30]);
    }
    // Transparent corners.
    for (x, y) in [(0, 0), (w - 1, 0), (0, h - 1), (w - 1, h - 1)] {
        assert_eq!(img.get_pixel(x, y)[3], 0, "corner ({x}, {y})");
    }
    // Antialiased: some partially covered pixels exist.
    assert!(img.pixels().any(|p| p[3] > 0 && p[3] < 255));
}

#[test]
fn diagonal_ink_follows_the_path() {
    let stroke = vec![Stroke {
        points: (0..=100)
            .map(|i| Point::new(100.0 + i as f32 * 4.0, 50.0 + i as f32 * 2.0, i * 10))
            .collect(),
    }];
    let png = to_png(&stroke, &PAD, 300, [0, 0, 0]).unwrap();
    let img = image::load_from_memory(&png).unwrap().to_rgba8();
    let (w, h) = img.dimensions();
    // The line goes from the top-left to the bottom-right (pad y grows down, like images).
    let (x, y) = (w / 2, h / 2);
    assert!(img.get_pixel(x, y)[3] > 200);
    assert_eq!(img.get_pixel(w - 1, 0)[3], 0);
    assert_eq!(img.get_pixel(0, h - 1)[3], 0);
}

#[test]
fn png_errors() {
    assert!(to_png(&[], &PAD, 600, [0, 0, 0]).is_err());
    assert!(to_png(&line(), &PAD, 0, [0, 0, 0]).is_err());
    // A vertical line at a big width would need a huge image.
    let vertical = vec![Stroke {
        points: (0..100)
            .map(|i| Point::new(10.0, i as f32 * 3.0, i))
            .collect(),
    }];
    assert!(to_png(&vertical, &PAD, 8000, [0, 0, 0]).is_err());
    let dot = vec![Stroke {
        points: vec![Point::new(10.0, 10.0, 0)],
    }];
    let png = to_png(&dot, &PAD, 64, [0, 0, 0]).unwrap();
    let img = image::load_from_memory(&png).unwrap().to_rgba8();
    assert_eq!(img.get_pixel(32, img.height() / 2)[3], 255);
}

#[test]
fn pdf_path_fits_box_and_flips_y() {
    assert_eq!(to_pdf_path(&[], &PAD, 200.0, 50.0), "");
    let s = to_pdf_path(&line(), &PAD, 200.0, 50.0);
    assert!(s.ends_with("f\n"));
    assert!(s.contains(" m\n") && s.contains(" l\n") && s.contains(" c\n") && s.contains("h\n"));
    let mut nums = Vec::new();
    for line in s.lines() {
        let toks: Vec<&str> = line.split(' ').collect();
        for t in &toks[..toks.len() - 1] {
            let v: f32 = t.parse().unwrap();
            assert!(v.is_finite());
            nums.push(v);
        }
    }
    let xs: Vec<f32> = nums.iter().step_by(2).copied().collect();
    let ys: Vec<f32> = nums.iter().skip(1).step_by(2).copied().collect();
    let (minx, maxx) = xs
        .iter()
        .fold((f32::MAX, f32::MIN), |a, &v| (a.0.min(v), a.1.max(v)));
    let (miny, maxy) = ys
        .iter()
        .fold((f32::MAX, f32::MIN), |a, &v| (a.0.min(v), a.1.max(v)));
    // Fills the box width, centred vertically (aspect ratio kept).
    // (Bézier control points may lie slightly outside the ink.)
    assert!(minx > -0.5 && (maxx - 200.0).abs() < 0.5, "{minx} {maxx}");
    assert!(
        (miny + maxy - 50.0).abs() < 0.5 && maxy - miny < 10.0,
        "{miny} {maxy}"
    );

    // y flip: a stroke going down on the pad goes down in PDF too, i.e. its first point
    // (top of the pad) has the larger PDF y.
    let down = vec![Stroke {
        points: (0..50)
            .map(|i| Point::new(100.0, 10.0 + i as f32 * 5.0, i))
            .collect(),
    }];
    let s = to_pdf_path(&down, &PAD, 100.0, 100.0);
    let first = s.lines().next().unwrap();
    let y: f32 = first.split(' ').nth(1).unwrap().parse().unwrap();
    assert!(y > 90.0, "first point should be at the top: {first}");
}

/// Nonzero winding number of `pt` for a path, flattening cubics.
fn winding(cmds: &[inkseal_ink::smooth::PathCmd], pt: [f32; 2]) -> i32 {
    use inkseal_ink::smooth::PathCmd;
    let mut w = 0;
    let mut start = [0.0f32; 2];
    let mut cur = [0.0f32; 2];
    let mut edge = |a: [f32; 2], b: [f32; 2]| {
        if (a[1] <= pt[1]) != (b[1] <= pt[1]) {
            let t = (pt[1] - a[1]) / (b[1] - a[1]);
            let x = a[0] + t * (b[0] - a[0]);
            if x > pt[0] {
                w += if b[1] > a[1] { 1 } else { -1 };
            }
        }
    };
    for c in cmds {
        match *c {
            PathCmd::MoveTo(p) => {
                start = p;
                cur = p;
            }
            PathCmd::LineTo(p) => {
                edge(cur, p);
                cur = p;
            }
            PathCmd::CubicTo(c1, c2, p) => {
                let mut prev = cur;
                for i in 1..=16 {
                    let t = i as f32 / 16.0;
                    let u = 1.0 - t;
                    let q = [
                        u * u * u * cur[0]
                            + 3.0 * u * u * t * c1[0]
                            + 3.0 * u * t * t * c2[0]
                            + t * t * t * p[0],
                        u * u * u * cur[1]
                            + 3.0 * u * u * t * c1[1]
                            + 3.0 * u * t * t * c2[1]
                            + t * t * t * p[1],
                    ];
                    edge(prev, q);
                    prev = q;
                }
                cur = p;
            }
            PathCmd::Close => {
                edge(cur, start);
                cur = start;
            }
        }
    }
    w
}

#[test]
fn compact_outline_covers_the_capsule_union() {
    use inkseal_ink::smooth::{chain_outline, smooth_strokes};
    let mut strokes = signature();
    strokes[0].points.truncate(300);
    // A sharp zig-zag and a dot as well.
    strokes.push(Stroke {
        points: (0..20)
            .map(|i| Point::new(300.0 + (i % 2) as f32 * 40.0, 20.0 + i as f32 * 3.0, i * 30))
            .collect(),
    });
    strokes.push(Stroke {
        points: vec![Point::new(700.0, 30.0, 0)],
    });
    let segs = smooth_strokes(&strokes, &PAD);
    let mut cmds = Vec::new();
    chain_outline(&segs, &mut cmds);
    let (mut inside, mut outside) = (0, 0);
    for gy in 0..300 {
        for gx in 0..400 {
            let pt = [gx as f32 * 2.0 + 0.37, gy as f32 + 0.61];
            let mut sdf = f32::MAX;
            for s in &segs {
                let (dx, dy) = (s.b[0] - s.a[0], s.b[1] - s.a[1]);
                let l2 = dx * dx + dy * dy;
                let t = if l2 > 0.0 {
                    (((pt[0] - s.a[0]) * dx + (pt[1] - s.a[1]) * dy) / l2).clamp(0.0, 1.0)
                } else {
                    0.0
                };
                let q = [s.a[0] + t * dx - pt[0], s.a[1] + t * dy - pt[1]];
                let d = (q[0] * q[0] + q[1] * q[1]).sqrt() - (s.ra + (s.rb - s.ra) * t);
                sdf = sdf.min(d);
            }
            if sdf < -0.3 {
                inside += 1;
                assert_ne!(winding(&cmds, pt), 0, "gap at {pt:?} (sdf {sdf})");
            } else if sdf > 0.3 && (sdf < 3.0 || (gx + gy) % 41 == 0) {
                // Near the ink, plus a sparse sample of the rest.
                outside += 1;
                assert_eq!(winding(&cmds, pt), 0, "spill at {pt:?} (sdf {sdf})");
            }
        }
    }
    assert!(inside > 500 && outside > 2_000, "{inside} {outside}");
}
