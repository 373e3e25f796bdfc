//! What a person sees: the signed page rendered by poppler differs from the original only inside
//! the signature rectangle, for vector ink and for a PNG of the handwriting.

use inkseal_pdf::appearance::{AppearanceSpec, InkStrokes};
use inkseal_pdf::sign::{Placement, SignOptions, sign};
use inkseal_pdf::signer::LocalSigner;
use inkseal_tests::render::{DPI, changed_pixels, render_page};
use inkseal_tests::{fixture, sm2_pki};
use std::path::Path;

fn sign_and_compare(spec: AppearanceSpec, name: &str) {
    let dir = tempfile::tempdir().expect("tempdir");
    let pki = sm2_pki(dir.path(), name);
    let signer =
        LocalSigner::from_pem_files(&pki.signer_key, &pki.signer_pem, &[]).expect("signer");
    let input = fixture("e-policy-zh.pdf");
    let original = std::fs::read(&input).expect("read");
    let rect = [330.0, 90.0, 200.0, 80.0];
    let mut o = SignOptions::new(1_790_000_000);
    o.placement = Placement::Rect { page: 1, rect };
    o.appearance = spec;
    let tail = sign(&original, &o, &signer).expect("sign");
    let out = dir.path().join("signed.pdf");
    std::fs::write(&out, [original.as_slice(), tail.as_slice()].concat()).expect("write");
    let before = render_page(&input, 1, &dir.path().join("before"));
    let after = render_page(&out, 1, &dir.path().join("after"));
    assert_eq!(before.dimensions(), after.dimensions());
    let page_h = f64::from(before.height()) * 72.0 / DPI;
    let (inside, outside) = changed_pixels(&before, &after, rect, page_h);
    assert!(
        inside > 150,
        "{name}: the handwriting is visible ({inside} pixels changed)"
    );
    assert_eq!(
        outside, 0,
        "{name}: nothing changes outside the signature box"
    );
    // Keep a rendering for people to look at.
    let keep = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("appearance-{name}.png"));
    let _ = std::fs::copy(dir.path().join("after.png"), keep);
}

#[test]
fn vector_ink_is_drawn_inside_the_box_only() {
    sign_and_compare(
        AppearanceSpec {
            ink: Some(InkStrokes::from_polylines(
                inkseal_ink::Pad {
                    width: 300.0,
                    height: 100.0,
                    dpi: 160.0,
                },
                &[
                    (0..60)
                        .map(|i| [10.0 + i as f32 * 4.5, 50.0 + (i as f32 / 5.0).sin() * 35.0])
                        .collect(),
                    vec![[60.0, 10.0], [70.0, 90.0]],
                ],
            )),
            label: vec!["投保人 李四".into()],
            label_font: Some(inkseal_tests::label_font()),
            ..Default::default()
        },
        "vector",
    );
}

#[test]
fn a_png_of_the_handwriting_is_drawn_inside_the_box_only() {
    let mut img = image::RgbaImage::new(300, 100);
    for x in 0..300u32 {
        let y = 50.0 + (x as f32 / 30.0).sin() * 35.0;
        for dy in -2..=2 {
            let yy = (y as i32 + dy).clamp(0, 99) as u32;
            img.put_pixel(x, yy, image::Rgba([10, 20, 120, 255]));
        }
    }
    let mut png = Vec::new();
    img.write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .expect("png");
    sign_and_compare(
        AppearanceSpec {
            image: Some(png),
            label: vec!["投保人 李四".into()],
            label_font: Some(inkseal_tests::label_font()),
            ..Default::default()
        },
        "png",
    );
}

#[test]
fn an_unreadable_image_is_a_typed_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pki = sm2_pki(dir.path(), "bad-image");
    let signer =
        LocalSigner::from_pem_files(&pki.signer_key, &pki.signer_pem, &[]).expect("signer");
    let original = std::fs::read(fixture("e-policy-zh.pdf")).expect("read");
    let mut o = SignOptions::new(1_790_000_000);
    o.placement = Placement::Rect {
        page: 1,
        rect: [330.0, 90.0, 200.0, 80.0],
    };
    o.appearance.image = Some(b"\\x89PNG not really".to_vec());
    let err = sign(&original, &o, &signer).expect_err("bad image");
    assert!(matches!(err, inkseal_pdf::PdfError::Appearance(_)), "{err}");
}
