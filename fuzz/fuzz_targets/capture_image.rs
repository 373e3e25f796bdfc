//! Image quality checks on arbitrary bytes (JPEG and PNG decoding under limits), plus the
//! grayscale path with a size taken from the input.
#![no_main]

use inkseal_capture::quality::{FaceBox, QualityThresholds, check_gray, check_image};
use libfuzzer_sys::fuzz_target;

/// Small limits so that every input decodes fast and allocates little.
fn thresholds() -> QualityThresholds {
    QualityThresholds {
        min_width: 1,
        min_height: 1,
        min_mean_luma: 0,
        max_mean_luma: 255,
        min_sharpness: 0,
        min_face_percent: 10,
        max_bytes: 1024 * 1024,
        max_pixels: 1_000_000,
    }
}

fuzz_target!(|data: &[u8]| {
    let t = thresholds();
    let face = (data.len() >= 8).then(|| FaceBox {
        x: u32::from(u16::from_le_bytes([data[0], data[1]])),
        y: u32::from(u16::from_le_bytes([data[2], data[3]])),
        width: u32::from(u16::from_le_bytes([data[4], data[5]])),
        height: u32::from(u16::from_le_bytes([data[6], data[7]])),
    });
    let _ = check_image(data, &t, None);
    let _ = check_image(data, &t, face);
    let _ = check_image(data, &QualityThresholds::face(), face);
    // The gray path: width from the first two bytes, the rest as pixels.
    if data.len() > 2 {
        let width = u32::from(u16::from_le_bytes([data[0], data[1]])).max(1);
        let pixels = &data[2..];
        let height = (pixels.len() as u32) / width;
        let _ = check_gray(
            width,
            height,
            &pixels[..(width * height) as usize],
            &t,
            face,
        );
        let _ = check_gray(width, height + 1, pixels, &t, None);
    }
});
