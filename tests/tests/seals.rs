//! Institution seals as people and printers see them: every seal kind rendered by poppler and
//! by Ghostscript matches its golden image (the seal's red pixels, so both renderers agree
//! without a font on the machine), and the paging seal puts a slice on every page's edge,
//! verifies as one signature shown on every page, and survives a later approval signature.
//!
//! Golden images live in `tests/data/golden/`; after a deliberate change of the seal's look,
//! `INKSEAL_BLESS_GOLDEN=1 cargo test -p inkseal-tests --test seals` writes them again.

use inkseal_pdf::appearance::AppearanceSpec;
use inkseal_pdf::seal::{OutlineFont, SealError, SealShape, SealSpec};
use inkseal_pdf::sign::{PagingSeal, Placement, SignOptions, sign};
use inkseal_pdf::signer::LocalSigner;
use inkseal_pdf::verify::{VerifyOptions, verify};
use inkseal_tests::{certificate_der, fixture, sm2_pki};
use std::path::{Path, PathBuf};

use inkseal_tests::render::{Renderer, count_ink, ink_mask, is_dark, is_seal_red, render_with};
use inkseal_tests::seal_font;

const RED_DPI: f64 = 144.0;

/// Compare a mask with the golden one `{stem}.png`: the pixels that differ are few next to the
/// golden image's `min_ink` or more ink pixels.
fn assert_matches_golden(stem: &str, renderer: Renderer, mask: &image::GrayImage, min_ink: usize) {
    let (name, renderer) = (stem, renderer.name());
    let golden_path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("data/golden")
        .join(format!("{stem}.png"));
    if std::env::var_os("INKSEAL_BLESS_GOLDEN").is_some() && renderer == "poppler" {
        mask.save(&golden_path).expect("write golden");
    }
    let golden = image::open(&golden_path)
        .unwrap_or_else(|e| panic!("{}: {e}", golden_path.display()))
        .to_luma8();
    assert_eq!(golden.dimensions(), mask.dimensions(), "{name} size");
    // A red pixel with no red within one pixel in the other image: renderers differ in
    // anti-aliasing and stroke weight by about a pixel, a wrong or missing glyph by far more.
    let near_red = |img: &image::GrayImage, x: u32, y: u32| {
        (x.saturating_sub(1)..=(x + 1).min(img.width() - 1)).any(|i| {
            (y.saturating_sub(1)..=(y + 1).min(img.height() - 1))
                .any(|j| img.get_pixel(i, j)[0] == 0)
        })
    };
    let differing = golden
        .enumerate_pixels()
        .filter(|(x, y, p)| {
            let (a, b) = (p[0] == 0, mask.get_pixel(*x, *y)[0] == 0);
            (a && !near_red(mask, *x, *y)) || (b && !near_red(&golden, *x, *y))
        })
        .count();
    let ink = count_ink(&golden);
    assert!(
        ink > min_ink,
        "{name}: the golden image has {ink} ink pixels"
    );
    assert!(
        differing * 100 <= ink * 5,
        "{name} rendered by {renderer}: {differing} pixels differ from the golden image's {ink} ink ones"
    );
}

/// A one-page PDF signed with `appearance` in `rect`.
fn sealed_page(dir: &Path, appearance: AppearanceSpec, rect: [f64; 4]) -> PathBuf {
    let pki = sm2_pki(dir, "seal");
    let signer =
        LocalSigner::from_pem_files(&pki.signer_key, &pki.signer_pem, &[]).expect("signer");
    let original = inkseal_pdf::testing::minimal_pdf();
    let mut o = SignOptions::new(1_790_000_000);
    o.placement = Placement::Rect { page: 1, rect };
    o.appearance = appearance;
    let tail = sign(&original, &o, &signer).expect("sign");
    std::fs::write(dir.join("plain.pdf"), &original).expect("write");
    let out = dir.join("sealed.pdf");
    std::fs::write(&out, [original.as_slice(), tail.as_slice()].concat()).expect("write");
    out
}

fn seal_art(spec: &SealSpec) -> AppearanceSpec {
    AppearanceSpec {
        art: Some(spec.draw(&seal_font()).expect("draw seal")),
        ..Default::default()
    }
}

fn check_kind(name: &str, appearance: AppearanceSpec, rect: [f64; 4]) {
    check_look(&format!("seal-{name}"), appearance, rect, is_seal_red, 1500);
}

/// Sign a page with `appearance` in `rect`, render it with poppler and Ghostscript, and
/// compare the `ink` pixels of the box with the golden image `stem`.
fn check_look(
    stem: &str,
    appearance: AppearanceSpec,
    rect: [f64; 4],
    ink: fn(&image::Rgb<u8>) -> bool,
    min_ink: usize,
) {
    let dir = tempfile::tempdir().expect("tempdir");
    let pdf = sealed_page(dir.path(), appearance, rect);
    for renderer in Renderer::ALL {
        let img = render_with(
            renderer,
            &pdf,
            1,
            RED_DPI,
            &dir.path().join(format!("{}.png", renderer.name())),
        );
        let mask = ink_mask(&img, RED_DPI, rect, ink);
        let keep =
            Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("{stem}-{}.png", renderer.name()));
        let _ = mask.save(keep);
        assert_matches_golden(stem, renderer, &mask, min_ink);
        // No more such ink outside the box than the unsigned page has there.
        let plain = render_with(
            renderer,
            &dir.path().join("plain.pdf"),
            1,
            RED_DPI,
            &dir.path().join(format!("plain-{}.png", renderer.name())),
        );
        let outside = |img: &image::RgbImage| {
            count_ink(&ink_mask(img, RED_DPI, [0.0, 0.0, 595.0, 842.0], ink))
                - count_ink(&ink_mask(img, RED_DPI, rect, ink))
        };
        assert!(
            outside(&img) <= outside(&plain) + 20,
            "{stem} ({}): ink outside the box",
            renderer.name()
        );
    }
}

#[test]
fn a_round_contract_seal_matches_its_golden_image_in_poppler_and_ghostscript() {
    let mut spec = SealSpec::contract_seal("上海浦江商业银行股份有限公司");
    spec.number = Some("3101150012345".into());
    check_kind("round", seal_art(&spec), [100.0, 400.0, 140.0, 140.0]);
}

#[test]
fn an_oval_seal_matches_its_golden_image() {
    let spec = SealSpec {
        shape: SealShape::Oval,
        name: "华安财产保险股份有限公司".into(),
        purpose: Some("财务专用章".into()),
        number: Some("3101150054321".into()),
        rgb: inkseal_pdf::seal::SEAL_RED,
    };
    check_kind("oval", seal_art(&spec), [100.0, 400.0, 150.0, 100.0]);
}

#[test]
fn a_square_name_seal_matches_its_golden_image() {
    let spec = SealSpec {
        shape: SealShape::Square,
        name: "王建国".into(),
        purpose: None,
        number: None,
        rgb: inkseal_pdf::seal::SEAL_RED,
    };
    check_kind("square", seal_art(&spec), [100.0, 400.0, 80.0, 80.0]);
}

/// The label under a handwritten signature (signer, date) is drawn as glyph outlines: with no
/// ink at all, both poppler and Ghostscript show it, as its golden image. (Drawn in the
/// non-embedded STSong-Light before, Ghostscript showed nothing.)
#[test]
fn a_signature_label_matches_its_golden_image_in_poppler_and_ghostscript() {
    let appearance = AppearanceSpec {
        label: vec!["借款人 张三".into(), "2026-12-07 10:30 UTC+8".into()],
        label_font: Some(inkseal_tests::label_font()),
        ..Default::default()
    };
    check_look(
        "label-signature",
        appearance,
        [100.0, 400.0, 160.0, 40.0],
        is_dark,
        300,
    );
}

/// A registered seal image: a red ring and bar on a transparent background.
fn registered_seal_png() -> Vec<u8> {
    let img = image::RgbaImage::from_fn(200, 200, |x, y| {
        let (dx, dy) = (x as f32 - 99.5, y as f32 - 99.5);
        let r = (dx * dx + dy * dy).sqrt();
        let ring = (88.0..98.0).contains(&r);
        let bar = dy.abs() < 8.0 && dx.abs() < 60.0;
        if ring || bar {
            image::Rgba([220, 20, 25, 255])
        } else {
            image::Rgba([255, 255, 255, 0])
        }
    });
    let mut png = Vec::new();
    img.write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .expect("png");
    png
}

#[test]
fn a_registered_seal_image_keeps_its_transparency() {
    let appearance = AppearanceSpec {
        image: Some(registered_seal_png()),
        ..Default::default()
    };
    let rect = [60.0, 690.0, 80.0, 80.0];
    check_kind("image", appearance.clone(), rect);
    // Black text stamped into the page under the seal shows through its transparent parts.
    let dir = tempfile::tempdir().expect("tempdir");
    let original = inkseal_pdf::testing::minimal_pdf();
    let text =
        inkseal_pdf::seal::text_line(&seal_font(), "田田", 30.0, [0.0, 0.0, 0.0]).expect("text");
    let stamped = [
        original.as_slice(),
        &inkseal_pdf::stamp::stamp(
            &original,
            &[inkseal_pdf::stamp::Stamp {
                page: 1,
                at: [70.0, 715.0],
                art: text,
            }],
            &Default::default(),
        )
        .expect("stamp"),
    ]
    .concat();
    let pki = sm2_pki(dir.path(), "seal");
    let signer =
        LocalSigner::from_pem_files(&pki.signer_key, &pki.signer_pem, &[]).expect("signer");
    let mut o = SignOptions::new(1_790_000_000);
    o.placement = Placement::Rect { page: 1, rect };
    o.appearance = appearance;
    let signed = [
        stamped.as_slice(),
        &sign(&stamped, &o, &signer).expect("sign"),
    ]
    .concat();
    let pdf = dir.path().join("over-text.pdf");
    std::fs::write(&pdf, &signed).expect("write");
    let img = render_with(
        Renderer::Poppler,
        &pdf,
        1,
        RED_DPI,
        &dir.path().join("p.png"),
    );
    let dark = count_ink(&ink_mask(&img, RED_DPI, rect, is_dark));
    assert!(
        dark > 200,
        "the text under the seal's transparent parts shows ({dark} dark pixels)"
    );
    // Stamping is refused once the document is signed.
    let e = inkseal_pdf::stamp::stamp(
        &signed,
        &[inkseal_pdf::stamp::Stamp {
            page: 1,
            at: [0.0, 0.0],
            art: inkseal_pdf::seal::text_line(&seal_font(), "x", 10.0, [0.0; 3]).expect("x"),
        }],
        &Default::default(),
    )
    .expect_err("signed");
    assert!(e.to_string().contains("break its signatures"), "{e}");
}

#[test]
fn seal_text_is_checked_before_drawing() {
    let font = seal_font();
    let mut spec = SealSpec::contract_seal("");
    assert!(matches!(
        spec.draw(&font),
        Err(SealError::Text { field: "name", .. })
    ));
    spec.name = "很".repeat(41);
    assert!(matches!(
        spec.draw(&font),
        Err(SealError::Text { field: "name", .. })
    ));
    spec.name = "某某公司\u{7}".into();
    assert!(matches!(spec.draw(&font), Err(SealError::Text { .. })));
    // A character the font lacks is named, never left as a gap.
    spec.name = "某某公司\u{10FFFD}".into();
    assert_eq!(spec.draw(&font), Err(SealError::MissingGlyph('\u{10FFFD}')));
    assert!(matches!(
        OutlineFont::parse(b"not a font".to_vec(), 0),
        Err(SealError::Font(_))
    ));
}

const CONTRACT_SEAL_SIZE: f64 = 42.0 * 72.0 / 25.4;

/// The loan contract sealed on its seal line with a paging seal across every page.
fn contract_with_paging_seal(dir: &Path) -> (PathBuf, Vec<u8>, inkseal_tests::Sm2Pki) {
    let pki = sm2_pki(dir, "lender");
    let signer =
        LocalSigner::from_pem_files(&pki.signer_key, &pki.signer_pem, &[]).expect("signer");
    let seal = seal_art(&SealSpec::contract_seal("上海浦江商业银行股份有限公司"));
    let original = std::fs::read(fixture("loan-contract-zh.pdf")).expect("read");
    let mut o = SignOptions::new(1_790_000_000);
    o.field_name = Some("LenderSeal".into());
    o.placement = Placement::Keyword {
        text: "贷款人（盖章）：".into(),
        page: None,
        size: [CONTRACT_SEAL_SIZE, CONTRACT_SEAL_SIZE],
    };
    o.appearance = seal.clone();
    o.paging_seal = Some(PagingSeal {
        appearance: seal,
        size: [CONTRACT_SEAL_SIZE, CONTRACT_SEAL_SIZE],
        center_y: None,
    });
    let tail = sign(&original, &o, &signer).expect("seal");
    let out = dir.join("sealed.pdf");
    let bytes = [original.as_slice(), tail.as_slice()].concat();
    std::fs::write(&out, &bytes).expect("write");
    (out, bytes, pki)
}

#[test]
fn a_paging_seal_puts_a_slice_on_every_page_and_verifies_as_one_signature() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (pdf, bytes, pki) = contract_with_paging_seal(dir.path());
    let anchors = vec![certificate_der(&pki.ca_pem)];
    let report = verify(
        &bytes,
        &VerifyOptions {
            trust_anchors: anchors,
            ..Default::default()
        },
    )
    .expect("verify");
    assert_eq!(report.signatures.len(), 1, "one signature");
    let sig = &report.signatures[0];
    assert!(sig.is_ok(), "{:?}", sig.problems);
    assert_eq!(sig.pages, vec![1, 2, 3], "shown on every page");
    inkseal_tests::validators::qpdf_check(&pdf).expect("qpdf --check");

    // Each page shows red in its right-edge strip: one third of the seal's width each.
    let slice = CONTRACT_SEAL_SIZE / 3.0;
    for page in 1..=3u32 {
        for renderer in Renderer::ALL {
            let img = render_with(
                renderer,
                &pdf,
                page,
                RED_DPI,
                &dir.path().join(format!("p{page}{}.png", renderer.name())),
            );
            let page_w = f64::from(img.width()) * 72.0 / RED_DPI;
            let page_h = f64::from(img.height()) * 72.0 / RED_DPI;
            let strip = [
                page_w - slice,
                page_h / 2.0 - CONTRACT_SEAL_SIZE / 2.0,
                slice,
                CONTRACT_SEAL_SIZE,
            ];
            let red = count_ink(&ink_mask(&img, RED_DPI, strip, is_seal_red));
            let renderer = renderer.name();
            assert!(
                red > 300,
                "page {page} ({renderer}): {red} red pixels in the edge strip"
            );
        }
    }
}

#[test]
fn the_paging_seal_survives_a_later_approval_signature() {
    // P-256 keys, so that pyHanko and BouncyCastle judge the same file.
    let dir = tempfile::tempdir().expect("tempdir");
    let lender = inkseal_tests::validators::openssl_p256_pki(dir.path(), "lender");
    let officer = inkseal_tests::validators::openssl_p256_pki(dir.path(), "officer");
    let signer_of = |pki: &inkseal_tests::validators::P256Pki| {
        LocalSigner::from_pem_files(&pki.signer_key, &pki.signer_pem, &[]).expect("signer")
    };
    let seal = seal_art(&SealSpec::contract_seal("上海浦江商业银行股份有限公司"));
    let original = std::fs::read(fixture("loan-contract-zh.pdf")).expect("read");
    let mut o = SignOptions::new(1_790_000_000);
    o.field_name = Some("LenderSeal".into());
    o.placement = Placement::Keyword {
        text: "贷款人（盖章）：".into(),
        page: None,
        size: [CONTRACT_SEAL_SIZE, CONTRACT_SEAL_SIZE],
    };
    o.appearance = seal.clone();
    o.paging_seal = Some(PagingSeal {
        appearance: seal,
        size: [CONTRACT_SEAL_SIZE, CONTRACT_SEAL_SIZE],
        center_y: Some(500.0),
    });
    let sealed = [
        original.as_slice(),
        &sign(&original, &o, &signer_of(&lender)).expect("seal"),
    ]
    .concat();
    let mut o = SignOptions::new(1_790_000_100);
    o.placement = Placement::Keyword {
        text: "贷款经办人（签字）：".into(),
        page: None,
        size: [120.0, 40.0],
    };
    o.appearance.label = vec!["经办人 赵六".into()];
    o.appearance.label_font = Some(inkseal_tests::label_font());
    let tail = sign(&sealed, &o, &signer_of(&officer)).expect("approval");
    let both = [sealed.as_slice(), tail.as_slice()].concat();
    let report = verify(
        &both,
        &VerifyOptions {
            trust_anchors: vec![
                certificate_der(&lender.ca_pem),
                certificate_der(&officer.ca_pem),
            ],
            ..Default::default()
        },
    )
    .expect("verify");
    assert_eq!(report.signatures.len(), 2);
    for s in &report.signatures {
        assert!(s.is_ok(), "{}: {:?} {:?}", s.field, s.problems, s.changes);
    }
    let seal = report
        .signatures
        .iter()
        .find(|s| s.field == "LenderSeal")
        .expect("the seal");
    assert_eq!(seal.pages, vec![1, 2, 3]);
    let out = dir.path().join("both.pdf");
    std::fs::write(&out, &both).expect("write");
    let roots = [lender.ca_pem.as_path(), officer.ca_pem.as_path()];
    let py = inkseal_tests::validators::pyhanko_validate_with_roots(&out, &roots);
    assert!(py.all_valid(), "pyHanko: {}\n{}", py.stdout, py.stderr);
    assert_eq!(
        py.signatures.len(),
        2,
        "pyHanko sees one seal: {}",
        py.stdout
    );
    let bc = inkseal_tests::validators::bouncycastle_check(&out, &roots);
    assert!(bc.all_valid(), "BouncyCastle: {}\n{}", bc.stdout, bc.stderr);
    // poppler 22.12 lists each widget of a multi-widget signature field as a field of its
    // own without the inherited /V ("not signed"): a reader limitation, see ARCHITECTURE.md.
    // The signatures it does find verify.
    let ps = inkseal_tests::validators::pdfsig(&out);
    let checked: Vec<_> = ps
        .signatures
        .iter()
        .filter(|s| s.signature_validation.is_some())
        .collect();
    assert!(!checked.is_empty(), "pdfsig: {}", ps.stdout);
    assert!(
        checked.iter().all(|s| s.signature_valid()),
        "pdfsig: {}",
        ps.stdout
    );
}

#[test]
fn a_paging_seal_is_refused_where_it_cannot_go() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pki = sm2_pki(dir.path(), "x");
    let signer =
        LocalSigner::from_pem_files(&pki.signer_key, &pki.signer_pem, &[]).expect("signer");
    let seal = seal_art(&SealSpec::contract_seal("某某公司"));
    let mut o = SignOptions::new(1_790_000_000);
    o.paging_seal = Some(PagingSeal {
        appearance: seal,
        size: [CONTRACT_SEAL_SIZE, CONTRACT_SEAL_SIZE],
        center_y: None,
    });
    // One page: nothing to span.
    let one = inkseal_pdf::testing::minimal_pdf();
    let e = sign(&one, &o, &signer).expect_err("one page");
    assert!(e.to_string().contains("at least two pages"), "{e}");
    // An existing field cannot grow widgets on every page.
    o.placement = Placement::Field("Signature1".into());
    let contract = std::fs::read(fixture("loan-contract-zh.pdf")).expect("read");
    let e = sign(&contract, &o, &signer).expect_err("existing field");
    assert!(
        e.to_string().contains("paging seal needs a new field"),
        "{e}"
    );
    // A seal taller than the page.
    o.placement = Placement::Invisible;
    if let Some(p) = o.paging_seal.as_mut() {
        p.size = [100.0, 5000.0];
    }
    let e = sign(&contract, &o, &signer).expect_err("too tall");
    assert!(e.to_string().contains("does not fit"), "{e}");
}

#[test]
fn an_earlier_signature_stays_valid_under_a_later_paging_seal() {
    // The borrower signs first; the lender's paging seal adds widgets on every page after it.
    let dir = tempfile::tempdir().expect("tempdir");
    let borrower = inkseal_tests::validators::openssl_p256_pki(dir.path(), "borrower");
    let lender = inkseal_tests::validators::openssl_p256_pki(dir.path(), "lender");
    let signer_of = |pki: &inkseal_tests::validators::P256Pki| {
        LocalSigner::from_pem_files(&pki.signer_key, &pki.signer_pem, &[]).expect("signer")
    };
    let original = std::fs::read(fixture("loan-contract-zh.pdf")).expect("read");
    let mut o = SignOptions::new(1_790_000_000);
    o.placement = Placement::Keyword {
        text: "借款人（签字）：".into(),
        page: None,
        size: [120.0, 40.0],
    };
    o.appearance.label = vec!["借款人 张三".into()];
    o.appearance.label_font = Some(inkseal_tests::label_font());
    let signed = [
        original.as_slice(),
        &sign(&original, &o, &signer_of(&borrower)).expect("sign"),
    ]
    .concat();
    let seal = seal_art(&SealSpec::contract_seal("上海浦江商业银行股份有限公司"));
    let mut o = SignOptions::new(1_790_000_100);
    o.field_name = Some("LenderSeal".into());
    o.placement = Placement::Keyword {
        text: "贷款人（盖章）：".into(),
        page: None,
        size: [CONTRACT_SEAL_SIZE, CONTRACT_SEAL_SIZE],
    };
    o.appearance = seal.clone();
    o.paging_seal = Some(PagingSeal {
        appearance: seal,
        size: [CONTRACT_SEAL_SIZE, CONTRACT_SEAL_SIZE],
        center_y: None,
    });
    let both = [
        signed.as_slice(),
        &sign(&signed, &o, &signer_of(&lender)).expect("seal"),
    ]
    .concat();
    let report = verify(
        &both,
        &VerifyOptions {
            trust_anchors: vec![
                certificate_der(&borrower.ca_pem),
                certificate_der(&lender.ca_pem),
            ],
            ..Default::default()
        },
    )
    .expect("verify");
    assert_eq!(report.signatures.len(), 2);
    for s in &report.signatures {
        assert!(s.is_ok(), "{}: {:?} {:?}", s.field, s.problems, s.changes);
    }
    let out = dir.path().join("both.pdf");
    std::fs::write(&out, &both).expect("write");
    let roots = [borrower.ca_pem.as_path(), lender.ca_pem.as_path()];
    let py = inkseal_tests::validators::pyhanko_validate_with_roots(&out, &roots);
    assert!(py.all_valid(), "pyHanko: {}\n{}", py.stdout, py.stderr);
}
