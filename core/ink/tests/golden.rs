//! Golden images: the rendering of fixed signatures is compared with PNG files kept in
//! `tests/golden/`, pixel by pixel with a small tolerance (so a change in antialiasing
//! arithmetic does not fail the suite, but a change in shape, width or colour does).
//!
//! After a deliberate change to smoothing or rendering, look at the new images and bless them:
//! `INKSEAL_BLESS_GOLDEN=1 cargo test -p inkseal-ink --test golden`.

#![allow(clippy::unwrap_used)]

use std::path::PathBuf;

use inkseal_ink::{Pad, Point, Stroke, to_png};

const PAD: Pad = Pad {
    width: 800.0,
    height: 300.0,
    dpi: 160.0,
};

/// Largest per-channel difference that counts as "the same pixel".
const CHANNEL_TOLERANCE: i32 = 24;
/// Share of pixels allowed to differ by more than the tolerance.
const MAX_DIFFERING_SHARE: f64 = 0.002;

fn golden_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(format!("{name}.png"))
}

/// Compares `png` with the golden image `name`, or writes it when blessing.
fn check_golden(name: &str, png: &[u8]) {
    let path = golden_path(name);
    if std::env::var_os("INKSEAL_BLESS_GOLDEN").is_some() {
        std::fs::write(&path, png).unwrap();
        return;
    }
    let want = image::open(&path)
        .unwrap_or_else(|e| {
            panic!(
                "{}: {e} (bless with INKSEAL_BLESS_GOLDEN=1)",
                path.display()
            )
        })
        .to_rgba8();
    let got = image::load_from_memory(png).unwrap().to_rgba8();
    assert_eq!(got.dimensions(), want.dimensions(), "{name}: size changed");
    let differing = got
        .pixels()
        .zip(want.pixels())
        .filter(|(a, b)| {
            (0..4).any(|i| (i32::from(a[i]) - i32::from(b[i])).abs() > CHANNEL_TOLERANCE)
        })
        .count();
    let share = differing as f64 / f64::from(got.width() * got.height());
    assert!(
        share <= MAX_DIFFERING_SHARE,
        "{name}: {differing} pixels ({:.3}%) differ from {}",
        share * 100.0,
        path.display()
    );
}

/// A looping cursive signature written at a steady pace with varying pressure.
fn cursive() -> Vec<Stroke> {
    let pts = (0..600u32)
        .map(|i| {
            let s = i as f32 / 600.0;
            Point::new(
                60.0 + 650.0 * s + 35.0 * (s * 40.0).sin(),
                150.0 + 80.0 * (s * 20.0).cos(),
                i * 6,
            )
            .with_pressure(0.55 + 0.4 * (s * 7.0).sin())
        })
        .collect();
    vec![Stroke { points: pts }]
}

/// Strokes written fast (wide spacing, few samples) next to slow ones (dense samples):
/// the fast one must stay a continuous thin line, the slow one must not blob.
fn fast_and_slow() -> Vec<Stroke> {
    let fast = (0..12u32)
        .map(|i| Point::new(60.0 + i as f32 * 55.0, 80.0 + (i % 2) as f32 * 30.0, i * 4))
        .collect();
    let slow = (0..400u32)
        .map(|i| {
            let s = i as f32 / 400.0;
            Point::new(
                60.0 + 600.0 * s,
                220.0 + 20.0 * (s * 12.0).sin(),
                1000 + i * 12,
            )
        })
        .collect();
    vec![Stroke { points: fast }, Stroke { points: slow }]
}

/// A dot (a single tap) and a short tick.
fn dot_and_tick() -> Vec<Stroke> {
    vec![
        Stroke {
            points: vec![Point::new(100.0, 100.0, 0)],
        },
        Stroke {
            points: (0..20u32)
                .map(|i| Point::new(140.0 + i as f32 * 2.0, 120.0 - i as f32 * 3.0, 300 + i * 10))
                .collect(),
        },
    ]
}

#[test]
fn cursive_signature_matches_its_golden_image() {
    check_golden(
        "cursive-480",
        &to_png(&cursive(), &PAD, 480, [12, 24, 110]).unwrap(),
    );
}

#[test]
fn fast_and_slow_strokes_match_their_golden_image() {
    check_golden(
        "fast-and-slow-400",
        &to_png(&fast_and_slow(), &PAD, 400, [0, 0, 0]).unwrap(),
    );
}

#[test]
fn dot_and_tick_match_their_golden_image() {
    check_golden(
        "dot-and-tick-120",
        &to_png(&dot_and_tick(), &PAD, 120, [180, 20, 20]).unwrap(),
    );
}

#[test]
fn the_comparison_notices_a_different_signature() {
    // The tolerance must not hide a real change: a shifted pressure curve differs.
    let mut other = cursive();
    for p in &mut other[0].points {
        p.pressure = 1.0;
    }
    let want = image::open(golden_path("cursive-480")).unwrap().to_rgba8();
    let got = image::load_from_memory(&to_png(&other, &PAD, 480, [12, 24, 110]).unwrap())
        .unwrap()
        .to_rgba8();
    let same_size = got.dimensions() == want.dimensions();
    let differing = if same_size {
        got.pixels()
            .zip(want.pixels())
            .filter(|(a, b)| {
                (0..4).any(|i| (i32::from(a[i]) - i32::from(b[i])).abs() > CHANNEL_TOLERANCE)
            })
            .count()
    } else {
        usize::MAX
    };
    let share = differing as f64 / f64::from(want.width() * want.height());
    assert!(share > MAX_DIFFERING_SHARE * 10.0, "share {share}");
}
