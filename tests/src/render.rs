//! Looking at pages the way a person does: poppler's `pdftoppm` or Ghostscript renders them,
//! and pixels are located relative to a PDF rectangle.

use std::path::Path;
use std::process::Command;

/// Resolution the pages are rendered at, in dots per inch (72: one pixel per point).
pub const DPI: f64 = 72.0;

/// A PDF renderer of this machine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Renderer {
    /// poppler's `pdftoppm` (what most Linux viewers use).
    Poppler,
    /// Ghostscript's `gs` (printers, many conversion pipelines).
    Ghostscript,
}

impl Renderer {
    /// Both, poppler first.
    pub const ALL: [Renderer; 2] = [Renderer::Poppler, Renderer::Ghostscript];

    /// Its name in messages and file names.
    pub fn name(self) -> &'static str {
        match self {
            Renderer::Poppler => "poppler",
            Renderer::Ghostscript => "ghostscript",
        }
    }
}

/// Renders page `page` (1-based) of `pdf` at `dpi` with `renderer` into the PNG `out` and
/// returns it.
pub fn render_with(
    renderer: Renderer,
    pdf: &Path,
    page: u32,
    dpi: f64,
    out: &Path,
) -> image::RgbImage {
    let status = match renderer {
        Renderer::Ghostscript => Command::new("gs")
            .args([
                "-q",
                "-dNOPAUSE",
                "-dBATCH",
                "-dSAFER",
                "-sDEVICE=png16m",
                &format!("-r{dpi}"),
                &format!("-dFirstPage={page}"),
                &format!("-dLastPage={page}"),
                &format!("-sOutputFile={}", out.display()),
            ])
            .arg(pdf)
            .status()
            .expect("Ghostscript (gs) is needed: scripts/install-validators.sh installs it"),
        Renderer::Poppler => Command::new("pdftoppm")
            .args([
                "-f",
                &page.to_string(),
                "-l",
                &page.to_string(),
                "-r",
                &dpi.to_string(),
                "-png",
                "-singlefile",
            ])
            .arg(pdf)
            .arg(out.with_extension(""))
            .status()
            .expect("pdftoppm (poppler-utils) is needed"),
    };
    assert!(
        status.success(),
        "{} failed on {}",
        renderer.name(),
        pdf.display()
    );
    image::open(out).expect("rendered page").to_rgb8()
}

/// Renders page `page` (1-based) of `pdf` with poppler at [`DPI`] to `<out_prefix>.png`.
pub fn render_page(pdf: &Path, page: u32, out_prefix: &Path) -> image::RgbImage {
    render_with(
        Renderer::Poppler,
        pdf,
        page,
        DPI,
        &out_prefix.with_extension("png"),
    )
}

/// Seal red: a red clearly above green and blue.
pub fn is_seal_red(p: &image::Rgb<u8>) -> bool {
    p[0] > 150 && p[1] < 120 && p[2] < 120
}

/// Dark ink (text, handwriting): any colour clearly darker than white, so that the
/// anti-aliased edges of thin strokes count too.
pub fn is_dark(p: &image::Rgb<u8>) -> bool {
    p.0.iter().map(|v| u32::from(*v)).sum::<u32>() < 3 * 170
}

/// The pixels of `img` (rendered at `dpi`) inside the PDF rectangle `[x, y, w, h]` for which
/// `ink` holds, as a black-on-white mask.
pub fn ink_mask(
    img: &image::RgbImage,
    dpi: f64,
    [x, y, w, h]: [f64; 4],
    ink: fn(&image::Rgb<u8>) -> bool,
) -> image::GrayImage {
    let s = dpi / 72.0;
    let page_h = f64::from(img.height()) / s;
    let (x0, y0) = (
        (x * s).round().max(0.0) as u32,
        ((page_h - y - h) * s).round().max(0.0) as u32,
    );
    let (mw, mh) = ((w * s).round() as u32, (h * s).round() as u32);
    image::GrayImage::from_fn(mw, mh, |i, j| {
        let p = img.get_pixel(
            (x0 + i).min(img.width() - 1),
            (y0 + j).min(img.height() - 1),
        );
        image::Luma([if ink(p) { 0 } else { 255 }])
    })
}

/// How many pixels of a mask from [`ink_mask`] are ink.
pub fn count_ink(mask: &image::GrayImage) -> usize {
    mask.pixels().filter(|p| p[0] == 0).count()
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
