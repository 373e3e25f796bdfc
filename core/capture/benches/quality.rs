//! Timing of the image quality checks (plain main, `cargo bench -p inkseal-capture --bench quality`).
//!
//! Goal: decode + all checks of a 1280×720 camera JPEG in under 10 ms on one core.

#![allow(clippy::unwrap_used)]

use std::hint::black_box;
use std::time::Instant;

use inkseal_capture::quality::{QualityThresholds, check_gray, check_image};
use inkseal_capture::samples::{encode_jpeg, face_rgb};

const GOAL_MS: f64 = 10.0;

/// Run `f` `iters` times after a warm-up; print and return (median, p99) in ms.
fn time<T>(label: &str, iters: usize, mut f: impl FnMut() -> T) -> (f64, f64) {
    for _ in 0..5 {
        black_box(f());
    }
    let mut ms: Vec<f64> = (0..iters)
        .map(|_| {
            let t = Instant::now();
            black_box(f());
            t.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    ms.sort_by(f64::total_cmp);
    let median = ms[ms.len() / 2];
    let p99 = ms[(ms.len() * 99).div_ceil(100) - 1];
    println!("{label:<44} median {median:>7.3} ms   p99 {p99:>7.3} ms   ({iters} runs)");
    (median, p99)
}

fn main() {
    let (w, h) = (1280u32, 720u32);
    let (rgb, face) = face_rgb(w, h, 42);
    let jpeg = encode_jpeg(&rgb, w, h, 90).unwrap();
    let gray = image::load_from_memory(&jpeg).unwrap().to_luma8();
    let t = QualityThresholds::face();
    let report = check_image(&jpeg, &t, Some(face)).unwrap();
    println!(
        "1280x720 textured face JPEG, {} bytes (q90): mean luma {:.1}, sharpness {:.1}",
        jpeg.len(),
        report.mean_luma,
        report.sharpness
    );
    let (median, p99) = time("decode + all checks (check_image)", 300, || {
        check_image(&jpeg, &t, Some(face)).unwrap()
    });
    time("checks only on decoded luma (check_gray)", 300, || {
        check_gray(w, h, gray.as_raw(), &t, Some(face)).unwrap()
    });
    time("RGB decode only, image crate (comparison)", 300, || {
        image::load_from_memory(&jpeg).unwrap()
    });
    let verdict = if p99 < GOAL_MS {
        "met (p99)"
    } else if median < GOAL_MS {
        "met at the median, not at p99"
    } else {
        "NOT met"
    };
    println!(
        "goal: decode + checks under {GOAL_MS} ms on one core: {verdict} (median {median:.3} ms)"
    );
}
