//! Image checks on real encoded pictures made here.

#![allow(clippy::unwrap_used)]

use inkseal_capture::QualityError;
use inkseal_capture::quality::{FaceBox, ImageFormat, QualityThresholds, check_gray, check_image};
use inkseal_capture::samples::{box_blur_rgb, encode_jpeg, encode_png, face_rgb};

fn face() -> QualityThresholds {
    QualityThresholds::face()
}

/// A 640×480 portrait: pixels and face box.
fn portrait() -> (Vec<u8>, FaceBox) {
    face_rgb(640, 480, 3)
}

fn scaled(rgb: &[u8], factor: f32, offset: f32) -> Vec<u8> {
    rgb.iter()
        .map(|&v| (f32::from(v) * factor + offset).clamp(0.0, 255.0) as u8)
        .collect()
}

#[test]
fn a_sharp_well_lit_jpeg_passes_and_is_measured() {
    let (rgb, fb) = portrait();
    let jpeg = encode_jpeg(&rgb, 640, 480, 90).unwrap();
    let r = check_image(&jpeg, &face(), Some(fb)).unwrap();
    assert_eq!((r.width, r.height, r.format), (640, 480, ImageFormat::Jpeg));
    assert!((40.0..=220.0).contains(&r.mean_luma), "{r:?}");
    assert!(r.sharpness > 300.0, "{r:?}");
}

#[test]
fn the_same_picture_box_blurred_is_refused_as_blurred() {
    let (rgb, fb) = portrait();
    for radius in [2, 3] {
        let blurred = box_blur_rgb(&rgb, 640, 480, radius);
        let jpeg = encode_jpeg(&blurred, 640, 480, 90).unwrap();
        match check_image(&jpeg, &face(), Some(fb)) {
            Err(QualityError::Blurred { sharpness, min }) => {
                assert_eq!(min, 100);
                assert!(sharpness < 50.0, "radius {radius}: {sharpness}");
            }
            other => panic!("radius {radius}: {other:?}"),
        }
    }
}

#[test]
fn the_blur_threshold_separates_sharp_and_blurred_at_camera_resolutions() {
    for (w, h) in [(1280u32, 720u32), (1920, 1080)] {
        let (rgb, fb) = face_rgb(w, h, 9);
        let sharp = encode_jpeg(&rgb, w, h, 90).unwrap();
        let r = check_image(&sharp, &face(), Some(fb)).unwrap();
        assert!(r.sharpness > 200.0, "{w}x{h}: {r:?}");
        let blurred = encode_jpeg(&box_blur_rgb(&rgb, w, h, 3), w, h, 90).unwrap();
        assert!(
            matches!(
                check_image(&blurred, &face(), Some(fb)),
                Err(QualityError::Blurred { .. })
            ),
            "{w}x{h}"
        );
    }
}

#[test]
fn too_dark_and_too_bright_pictures_are_refused() {
    let (rgb, fb) = portrait();
    let dark = encode_jpeg(&scaled(&rgb, 0.2, 0.0), 640, 480, 90).unwrap();
    match check_image(&dark, &face(), Some(fb)) {
        Err(QualityError::TooDark { mean, min }) => {
            assert_eq!(min, 40);
            assert!(mean < 40.0);
        }
        other => panic!("{other:?}"),
    }
    let bright = encode_jpeg(&scaled(&rgb, 0.3, 190.0), 640, 480, 90).unwrap();
    match check_image(&bright, &face(), Some(fb)) {
        Err(QualityError::TooBright { mean, max }) => {
            assert_eq!(max, 220);
            assert!(mean > 220.0);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_small_picture_is_refused_before_decoding() {
    let (rgb, _) = face_rgb(320, 240, 1);
    let jpeg = encode_jpeg(&rgb, 320, 240, 90).unwrap();
    assert_eq!(
        check_image(&jpeg, &face(), None),
        Err(QualityError::TooSmall {
            width: 320,
            height: 240,
            min_width: 480,
            min_height: 360
        })
    );
}

#[test]
fn truncated_jpegs_and_pngs_are_undecodable() {
    let (rgb, _) = portrait();
    let jpeg = encode_jpeg(&rgb, 640, 480, 90).unwrap();
    let png = encode_png(&rgb, 640, 480).unwrap();
    for (name, bytes) in [("jpeg", &jpeg), ("png", &png)] {
        // Anywhere from the headers to 10 bytes before the end.
        let n = bytes.len();
        let cuts = (1..20).map(|i| n * i / 20).chain([n - 100, n - 10]);
        for cut in cuts {
            let r = check_image(&bytes[..cut], &face(), None);
            assert!(
                matches!(r, Err(QualityError::Undecodable(_))),
                "{name} cut at {cut} of {n}: {r:?}"
            );
        }
        assert!(check_image(bytes, &face(), None).is_ok());
    }
    // So short that even the format is unknown.
    assert!(matches!(
        check_image(&jpeg[..1], &face(), None),
        Err(QualityError::UnsupportedFormat(_))
    ));
}

#[test]
fn png_is_accepted_and_gives_the_same_measures_as_the_gray_path() {
    let (rgb, fb) = portrait();
    let png = encode_png(&rgb, 640, 480).unwrap();
    let r = check_image(&png, &face(), Some(fb)).unwrap();
    assert_eq!(r.format, ImageFormat::Png);
    // Lossless: the gray path on the same pixels (BT.601 integer luma) measures the same.
    let gray: Vec<u8> = rgb
        .chunks_exact(3)
        .map(|p| {
            ((77 * u32::from(p[0]) + 150 * u32::from(p[1]) + 29 * u32::from(p[2]) + 128) >> 8) as u8
        })
        .collect();
    let g = check_gray(640, 480, &gray, &face(), Some(fb)).unwrap();
    assert_eq!(g.format, ImageFormat::Gray8);
    assert!((g.mean_luma - r.mean_luma).abs() < 1e-9);
    assert!((g.sharpness - r.sharpness).abs() < 1e-9);
}

#[test]
fn rgba_gray_and_16_bit_pngs_decode() {
    let (rgb, _) = portrait();
    let rgba: Vec<u8> = rgb
        .chunks_exact(3)
        .flat_map(|p| [p[0], p[1], p[2], 255])
        .collect();
    let mut out = Vec::new();
    use image::ImageEncoder as _;
    image::codecs::png::PngEncoder::new(&mut out)
        .write_image(&rgba, 640, 480, image::ExtendedColorType::Rgba8)
        .unwrap();
    let a = check_image(&out, &face(), None).unwrap();
    let b = check_image(&encode_png(&rgb, 640, 480).unwrap(), &face(), None).unwrap();
    assert!((a.sharpness - b.sharpness).abs() < 1e-9);

    let gray16: Vec<u8> = rgb
        .chunks_exact(3)
        .flat_map(|p| u16::from(p[1]).wrapping_mul(257).to_be_bytes())
        .collect();
    let mut out16 = Vec::new();
    image::codecs::png::PngEncoder::new(&mut out16)
        .write_image(&gray16, 640, 480, image::ExtendedColorType::L16)
        .unwrap();
    let r = check_image(&out16, &face(), None).unwrap();
    assert_eq!(r.format, ImageFormat::Png);
    assert!(r.sharpness > 100.0);
}

#[test]
fn oversized_inputs_are_refused_before_decoding() {
    let (rgb, _) = portrait();
    let jpeg = encode_jpeg(&rgb, 640, 480, 90).unwrap();
    let mut t = face();
    t.max_bytes = jpeg.len() as u64 - 1;
    assert_eq!(
        check_image(&jpeg, &t, None),
        Err(QualityError::TooLarge {
            bytes: jpeg.len() as u64,
            max: jpeg.len() as u64 - 1
        })
    );
    let mut t = face();
    t.max_pixels = 640 * 480 - 1;
    assert!(matches!(
        check_image(&jpeg, &t, None),
        Err(QualityError::TooManyPixels {
            width: 640,
            height: 480,
            ..
        })
    ));
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xffff_ffffu32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xedb8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

#[test]
fn a_png_header_declaring_a_huge_image_is_refused_without_allocating() {
    // A tiny real PNG whose IHDR is rewritten to claim 60000 × 60000 (3.6 Gpx), CRC fixed.
    let (rgb, _) = face_rgb(480, 360, 1);
    let mut png = encode_png(&rgb, 480, 360).unwrap();
    png[16..20].copy_from_slice(&60_000u32.to_be_bytes());
    png[20..24].copy_from_slice(&60_000u32.to_be_bytes());
    let crc = crc32(&png[12..29]);
    png[29..33].copy_from_slice(&crc.to_be_bytes());
    let r = check_image(&png, &face(), None);
    assert!(
        matches!(
            r,
            Err(QualityError::TooManyPixels { .. } | QualityError::Undecodable(_))
        ),
        "{r:?}"
    );
}

#[test]
fn other_formats_and_garbage_are_unsupported() {
    let gif = b"GIF89a\x01\x00\x01\x00\x00\x00\x00;".to_vec();
    assert!(matches!(
        check_image(&gif, &face(), None),
        Err(QualityError::UnsupportedFormat(_))
    ));
    assert!(matches!(
        check_image(b"not an image at all", &face(), None),
        Err(QualityError::UnsupportedFormat(_))
    ));
    assert!(matches!(
        check_image(&[], &face(), None),
        Err(QualityError::UnsupportedFormat(_))
    ));
}

#[test]
fn face_box_outside_or_tiny_is_refused() {
    let (rgb, fb) = portrait();
    let jpeg = encode_jpeg(&rgb, 640, 480, 90).unwrap();
    let outside = FaceBox { x: 600, ..fb };
    assert!(matches!(
        check_image(&jpeg, &face(), Some(outside)),
        Err(QualityError::FaceOutsideFrame { .. })
    ));
    let tiny = FaceBox {
        width: 50,
        height: 60,
        ..fb
    };
    assert_eq!(
        check_image(&jpeg, &face(), Some(tiny)),
        Err(QualityError::FaceTooSmall {
            side: 50,
            min_side: 96
        })
    );
}

#[test]
fn gray_buffer_of_the_wrong_length_is_refused() {
    assert!(matches!(
        check_gray(640, 480, &[0u8; 100], &face(), None),
        Err(QualityError::Undecodable(_))
    ));
}

#[test]
fn inconsistent_thresholds_are_refused() {
    let (rgb, _) = portrait();
    let jpeg = encode_jpeg(&rgb, 640, 480, 90).unwrap();
    let mut t = face();
    t.min_mean_luma = 200;
    t.max_mean_luma = 100;
    assert!(matches!(
        check_image(&jpeg, &t, None),
        Err(QualityError::BadThresholds(_))
    ));
}
