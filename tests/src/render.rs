//! Looking at pages the way a person does: poppler's `pdftoppm` renders them, and pixel
//! differences are located relative to a PDF rectangle.

use std::path::Path;
use std::process::Command;

/// Resolution the pages are rendered at, in dots per inch (72: one pixel per point).
pub const DPI: f64 = 72.0;

/// Renders page `page` (1-based) of `pdf` to `<out_prefix>.png` and returns it.
pub fn render_page(pdf: &Path, page: u32, out_prefix: &Path) -> image::RgbImage {
    let status = Command::new("pdftoppm")
        .args([
            "-f",
            &page.to_string(),
            "-l",
            &page.to_string(),
            "-r",
            &DPI.to_string(),
            "-png",
            "-singlefile",
        ])
        .arg(pdf)
        .arg(out_prefix)
        .status()
        .expect("pdftoppm (poppler-utils) is needed");
    assert!(status.success(), "pdftoppm failed on {}", pdf.display());
    image::open(out_prefix.with_extension("png"))
        .expect("rendered page")
        .to_rgb8()
}

/// Pixels that differ clearly between two renderings of the same page, counted
/// `(inside, outside)` the PDF rectangle `rect = [x, y, w, h]` (2 pt of slack), for a page
/// `page_h` points high.
pub fn changed_pixels(
    a: &image::RgbImage,
    b: &image::RgbImage,
    rect: [f64; 4],
    page_h: f64,
) -> (usize, usize) {
    let (mut inside, mut outside) = (0, 0);
    for (x, y, pa) in a.enumerate_pixels() {
        let pb = b.get_pixel(x, y);
        let d: i32 = (0..3)
            .map(|i| (i32::from(pa[i]) - i32::from(pb[i])).abs())
            .sum();
        if d > 60 {
            let (px, py) = (
                f64::from(x) * 72.0 / DPI,
                page_h - f64::from(y) * 72.0 / DPI,
            );
            let margin = 2.0;
            if px >= rect[0] - margin
                && px <= rect[0] + rect[2] + margin
                && py >= rect[1] - margin
                && py <= rect[1] + rect[3] + margin
            {
                inside += 1;
            } else {
                outside += 1;
            }
        }
    }
    (inside, outside)
}
