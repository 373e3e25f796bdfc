//! Timing of the ink pipeline (plain main, `cargo bench -p inkseal-ink --bench ink`).

#![allow(clippy::unwrap_used)]

use std::hint::black_box;
use std::time::Instant;

use inkseal_ink::smooth::{SmoothOptions, Smoother, smooth_strokes};
use inkseal_ink::{InkRecorder, Pad, Point, to_pdf_path, to_png};

const PAD: Pad = Pad {
    width: 800.0,
    height: 300.0,
    dpi: 160.0,
};

/// A 1,000-point signature in 4 strokes, delivered in batches of 8 (coalesced events).
fn signature() -> Vec<Vec<Point>> {
    (0..4u32)
        .map(|k| {
            (0..250u32)
                .map(|i| {
                    let s = i as f32 / 250.0;
                    let x = 60.0 + 170.0 * k as f32 + 150.0 * s + 20.0 * (s * 30.0).sin();
                    let y = 150.0 + 80.0 * (s * 12.0 + k as f32).cos();
                    Point::new(x, y, k * 1000 + i * 4).with_pressure(0.4 + 0.3 * (s * 9.0).sin())
                })
                .collect()
        })
        .collect()
}

fn time<T>(label: &str, iters: u32, mut f: impl FnMut() -> T) -> f64 {
    for _ in 0..3 {
        black_box(f());
    }
    let mut best = f64::MAX;
    let mut total = 0.0;
    for _ in 0..iters {
        let t = Instant::now();
        black_box(f());
        let us = t.elapsed().as_secs_f64() * 1e6;
        best = best.min(us);
        total += us;
    }
    println!(
        "{label:<48} mean {:>9.1} µs   best {:>9.1} µs",
        total / iters as f64,
        best
    );
    total / iters as f64
}

fn main() {
    let sig = signature();
    let ingest = || {
        let mut r = InkRecorder::new(PAD).unwrap();
        for s in &sig {
            r.begin_stroke();
            for chunk in s.chunks(8) {
                r.add_points(chunk).unwrap();
            }
            r.end_stroke();
        }
        r
    };
    let rec = ingest();
    let strokes = rec.strokes().to_vec();
    println!("1,000-point signature, pad 800x300 @160 dpi");
    time("ingest (batches of 8)", 200, ingest);
    time("smooth all strokes", 200, || smooth_strokes(&strokes, &PAD));
    let png = to_png(&strokes, &PAD, 600, [0, 0, 128]).unwrap();
    let pdf = to_pdf_path(&strokes, &PAD, 200.0, 60.0);
    println!(
        "  (png {} bytes, pdf path {} bytes, {} segments)",
        png.len(),
        pdf.len(),
        smooth_strokes(&strokes, &PAD).len()
    );
    let t_png = time("ingest + smooth + render PNG 600 px", 100, || {
        let r = ingest();
        to_png(r.strokes(), r.pad(), 600, [0, 0, 128]).unwrap()
    });
    let t_pdf = time("ingest + smooth + PDF vector path", 100, || {
        let r = ingest();
        to_pdf_path(r.strokes(), r.pad(), 200.0, 60.0)
    });
    println!(
        "  goal < 5000 µs: PNG {}, PDF {}",
        if t_png < 5000.0 { "ok" } else { "MISSED" },
        if t_pdf < 5000.0 { "ok" } else { "MISSED" }
    );

    // Incremental smoothing cost per point, while writing.
    let opts = SmoothOptions::for_pad(&PAD);
    let pts: Vec<Point> = sig.concat();
    let rounds = 200u32;
    let t = Instant::now();
    let mut n = 0usize;
    for _ in 0..rounds {
        let mut sm = Smoother::new(opts);
        for p in &pts {
            n += black_box(sm.push(*p)).len();
        }
        n += sm.finish().len();
    }
    let per_point = t.elapsed().as_secs_f64() * 1e6 / (rounds as f64 * pts.len() as f64);
    black_box(n);
    println!(
        "{:<48} {:>9.3} µs per point (goal < 20 µs: {})",
        "incremental Smoother::push",
        per_point,
        if per_point < 20.0 { "ok" } else { "MISSED" }
    );
}
