//! Ingest, smoothing and quality tests.

#![allow(clippy::unwrap_used)]

use inkseal_ink::quality::{QualityRules, check};
use inkseal_ink::smooth::{SmoothOptions, Smoother, smooth_stroke};
use inkseal_ink::{InkError, InkRecorder, Pad, Point, Stroke};
use proptest::prelude::*;

const PAD: Pad = Pad {
    width: 800.0,
    height: 300.0,
    dpi: 160.0,
};

fn p(x: f32, y: f32, t: u32) -> Point {
    Point::new(x, y, t)
}

/// A realistic cursive-like signature: a few loops over ~1.2 s, two strokes.
fn realistic() -> Vec<Stroke> {
    let mut a = Vec::new();
    for i in 0..120u32 {
        let s = i as f32 / 120.0;
        let x = 100.0 + 450.0 * s + 25.0 * (s * 40.0).sin();
        let y = 150.0 + 50.0 * (s * 20.0).cos();
        a.push(Point::new(x, y, i * 8).with_pressure(0.5 + 0.3 * (s * 7.0).sin()));
    }
    let b: Vec<Point> = (0..30u32)
        .map(|i| p(120.0 + i as f32 * 15.0, 230.0 - i as f32, 1100 + i * 8))
        .collect();
    vec![Stroke { points: a }, Stroke { points: b }]
}

#[test]
fn batch_ingest_accepts_and_rejects_with_typed_errors() {
    let mut r = InkRecorder::with_max_points(PAD, 10).unwrap();
    assert_eq!(r.add_points(&[p(1.0, 1.0, 0)]), Err(InkError::NoOpenStroke));
    r.begin_stroke();
    r.add_points(&[p(1.0, 1.0, 0), p(2.0, 2.0, 5), p(3.0, 3.0, 5)])
        .unwrap();
    assert_eq!(
        r.add_points(&[p(4.0, 4.0, 6), p(f32::NAN, 1.0, 7)]),
        Err(InkError::NonFinite { index: 1 })
    );
    assert_eq!(
        r.add_points(&[p(f32::INFINITY, 1.0, 7)]),
        Err(InkError::NonFinite { index: 0 })
    );
    assert!(matches!(
        r.add_points(&[p(5000.0, 1.0, 7)]),
        Err(InkError::OutOfPad { index: 0, .. })
    ));
    // Slightly outside the pad is tolerated (finger sliding off the edge).
    r.add_points(&[p(-10.0, 305.0, 7)]).unwrap();
    assert_eq!(
        r.add_points(&[p(1.0, 1.0, 8), p(1.0, 1.0, 3)]),
        Err(InkError::TimeWentBackwards {
            index: 1,
            prev_ms: 8,
            got_ms: 3
        })
    );
    assert!(matches!(
        r.add_points(&[p(1.0, 1.0, 9).with_pressure(1.5)]),
        Err(InkError::InvalidPressure { index: 0, .. })
    ));
    // Rejected batches append nothing.
    assert_eq!(r.strokes()[0].points.len(), 4);
    r.end_stroke();
    // Time may restart in a new stroke? No: it only must not go backwards within a stroke.
    r.begin_stroke();
    r.add_points(&[p(1.0, 1.0, 2)]).unwrap();
    assert_eq!(
        r.add_points(&[p(1.0, 1.0, 10); 6]),
        Err(InkError::TooManyPoints { max: 10 })
    );
    r.add_points(&[p(1.0, 1.0, 10); 5]).unwrap();
    assert_eq!(r.total_points(), 10);
    assert_eq!(r.pad(), &PAD);
    assert!(
        InkRecorder::new(Pad {
            width: 0.0,
            height: 1.0,
            dpi: 1.0
        })
        .is_err()
    );
}

#[test]
fn undo_and_clear() {
    let mut r = InkRecorder::new(PAD).unwrap();
    for k in 0..3u32 {
        r.begin_stroke();
        r.add_points(&[p(10.0, 10.0, k * 100), p(20.0, 20.0, k * 100 + 10)])
            .unwrap();
        r.end_stroke();
    }
    // An empty stroke is discarded.
    r.begin_stroke();
    r.end_stroke();
    assert_eq!(r.strokes().len(), 3);
    let last = r.undo().unwrap();
    assert_eq!(last.points[0].t_ms, 200);
    assert_eq!(r.strokes().len(), 2);
    assert_eq!(r.total_points(), 4);
    r.clear();
    assert!(r.strokes().is_empty());
    assert_eq!(r.total_points(), 0);
    assert!(r.undo().is_none());
}

#[test]
fn single_point_is_a_round_dot() {
    let segs = smooth_stroke(
        &Stroke {
            points: vec![p(5.0, 5.0, 0)],
        },
        &SmoothOptions::for_pad(&PAD),
    );
    assert_eq!(segs.len(), 1);
    assert_eq!(segs[0].a, segs[0].b);
    assert!(segs[0].ra > 0.0);
}

#[test]
fn width_thins_with_velocity_but_stays_above_minimum() {
    let opts = SmoothOptions::for_pad(&PAD);
    let slow: Vec<Point> = (0..50).map(|i| p(i as f32, 0.0, i * 20)).collect();
    let fast: Vec<Point> = (0..50).map(|i| p(i as f32 * 20.0, 0.0, i)).collect();
    let ws = smooth_stroke(&Stroke { points: slow }, &opts);
    let wf = smooth_stroke(&Stroke { points: fast }, &opts);
    let rs = ws[ws.len() - 2].rb;
    let rf = wf[wf.len() - 2].rb;
    assert!(rf < rs, "fast {rf} should be thinner than slow {rs}");
    assert!(rf >= opts.min_width * 0.5 - 1e-4);
    assert!(rs <= opts.max_width * 0.5 + 1e-4);
}

#[test]
fn incremental_output_matches_batch() {
    let opts = SmoothOptions::for_pad(&PAD);
    let s = &realistic()[0];
    let mut sm = Smoother::new(opts);
    let mut inc = Vec::new();
    for q in &s.points {
        inc.extend_from_slice(sm.push(*q));
    }
    inc.extend_from_slice(sm.finish());
    assert_eq!(inc, smooth_stroke(s, &opts));
}

#[test]
fn quality_rules() {
    assert_eq!(check(&[], &PAD), Err(InkError::EmptyPad));
    assert_eq!(check(&[Stroke::default()], &PAD), Err(InkError::EmptyPad));
    let dot = vec![Stroke {
        points: vec![p(10.0, 10.0, 0)],
    }];
    assert_eq!(
        check(&dot, &PAD),
        Err(InkError::TooFewPoints { got: 1, need: 20 })
    );
    // A quick flick: enough points, but 40 ms.
    let flick = vec![Stroke {
        points: (0..25)
            .map(|i| p(100.0 + i as f32 * 10.0, 100.0, i * 2))
            .collect(),
    }];
    assert!(matches!(
        check(&flick, &PAD),
        Err(InkError::TooShort {
            ms: 48,
            need_ms: 300
        })
    ));
    // Scribbling on the spot: long in time, tiny path.
    let spot = vec![Stroke {
        points: (0..40)
            .map(|i| p(100.0 + (i % 2) as f32, 100.0, i * 20))
            .collect(),
    }];
    assert!(matches!(
        check(&spot, &PAD),
        Err(InkError::PathTooShort { .. })
    ));
    // Going back and forth over a small area: long path, tiny box.
    let tiny = vec![Stroke {
        points: (0..200)
            .map(|i| {
                p(
                    100.0 + (i % 2) as f32 * 20.0,
                    100.0 + (i % 3) as f32,
                    i * 10,
                )
            })
            .collect(),
    }];
    assert!(matches!(check(&tiny, &PAD), Err(InkError::TooSmall { .. })));
    let report = check(&realistic(), &PAD).unwrap();
    assert_eq!(report.strokes, 2);
    assert_eq!(report.points, 150);
    assert!(report.bbox_width_mm > 60.0);
    // Custom rules.
    let strict = QualityRules {
        min_points: 1000,
        ..QualityRules::default()
    };
    assert!(matches!(
        strict.check(&realistic(), &PAD),
        Err(InkError::TooFewPoints {
            got: 150,
            need: 1000
        })
    ));
}

fn coord() -> impl Strategy<Value = f32> {
    prop_oneof![
        8 => -100.0f32..1000.0,
        1 => Just(0.0f32),
        1 => prop::num::f32::ANY,
    ]
}

fn point() -> impl Strategy<Value = Point> {
    (coord(), coord(), 0u32..5000, prop::num::f32::ANY).prop_map(|(x, y, t, pr)| Point {
        x,
        y,
        t_ms: t,
        pressure: pr,
        tilt: None,
        azimuth: None,
    })
}

fn finite_seg(s: &inkseal_ink::Segment) -> bool {
    s.a.iter().chain(s.b.iter()).all(|v| v.is_finite())
        && s.ra.is_finite()
        && s.rb.is_finite()
        && s.ra > 0.0
        && s.rb > 0.0
}

proptest! {
    #[test]
    fn smoothing_is_finite_and_connected(
        pts in prop::collection::vec(point(), 0..200),
        dup in 0usize..4,
    ) {
        // Duplicate some points to exercise zero-length and zero-time steps.
        let mut seq = Vec::new();
        for q in &pts {
            for _ in 0..=(dup.min(1)) {
                seq.push(*q);
            }
        }
        let opts = SmoothOptions::for_pad(&PAD);
        let mut sm = Smoother::new(opts);
        let mut all = Vec::new();
        for q in &seq {
            all.extend_from_slice(sm.push(*q));
        }
        all.extend_from_slice(sm.finish());
        let finite_in = seq.iter().any(|q| q.x.is_finite() && q.y.is_finite());
        prop_assert_eq!(all.is_empty(), !finite_in);
        for s in &all {
            prop_assert!(finite_seg(s), "non-finite segment {:?}", s);
            let mut cmds = Vec::new();
            s.outline(&mut cmds);
            for c in cmds {
                let ok = match c {
                    inkseal_ink::smooth::PathCmd::MoveTo(p)
                    | inkseal_ink::smooth::PathCmd::LineTo(p) => p.iter().all(|v| v.is_finite()),
                    inkseal_ink::smooth::PathCmd::CubicTo(a, b, p) => {
                        a.iter().chain(b.iter()).chain(p.iter()).all(|v| v.is_finite())
                    }
                    inkseal_ink::smooth::PathCmd::Close => true,
                };
                prop_assert!(ok);
            }
        }
        let mut cmds = Vec::new();
        inkseal_ink::smooth::chain_outline(&all, &mut cmds);
        prop_assert_eq!(cmds.is_empty(), all.is_empty());
        for c in cmds {
            let ok = match c {
                inkseal_ink::smooth::PathCmd::MoveTo(p)
                | inkseal_ink::smooth::PathCmd::LineTo(p) => p.iter().all(|v| v.is_finite()),
                inkseal_ink::smooth::PathCmd::CubicTo(a, b, p) => {
                    a.iter().chain(b.iter()).chain(p.iter()).all(|v| v.is_finite())
                }
                inkseal_ink::smooth::PathCmd::Close => true,
            };
            prop_assert!(ok);
        }
        for w in all.windows(2) {
            prop_assert_eq!(w[0].b, w[1].a);
            prop_assert_eq!(w[0].rb, w[1].ra);
        }
    }

    #[test]
    fn smoothing_handles_huge_jumps(
        xs in prop::collection::vec(prop_oneof![-1e18f32..1e18, -1e30f32..1e30], 1..50),
    ) {
        let opts = SmoothOptions::for_pad(&PAD);
        let mut sm = Smoother::new(opts);
        let mut all = Vec::new();
        for (i, x) in xs.iter().enumerate() {
            all.extend_from_slice(sm.push(p(*x, -*x, i as u32)));
        }
        all.extend_from_slice(sm.finish());
        for s in &all {
            prop_assert!(finite_seg(s), "non-finite segment {:?}", s);
        }
    }
}
