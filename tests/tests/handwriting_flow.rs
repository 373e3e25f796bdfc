//! The loan officer's tablet flow through the SDK: the borrower writes on the ink pad, a poor
//! signature is refused, the good one is sealed to the bank and co-signed into the contract
//! under the borrower's keyword line; the page shows the ink, the record is bound, and the bank
//! reads the raw handwriting back.

use inkseal_cosign::api::Pin;
use inkseal_ink::record::encrypt::{InstitutionSecret, Scheme, open};
use inkseal_ink::record::format::decode;
use inkseal_ink::{Pad, Point, QualityRules};
use inkseal_pdf::object::Object;
use inkseal_pdf::sign::{Placement, SignOptions};
use inkseal_pdf::verify::{VerifyOptions, verify};
use inkseal_pdf::{Document, Limits};
use inkseal_sdk::{InkPad, SdkError};
use inkseal_tests::render::{DPI, changed_pixels, render_page};
use inkseal_tests::validators::bouncycastle_check;
use inkseal_tests::{Backend, client_for, fixture, start_server};

const PAD: Pad = Pad {
    width: 600.0,
    height: 240.0,
    dpi: 160.0,
};

/// Three strokes of a written name, 8 ms apart, with varying pressure, as the platform
/// delivers them: in batches of 5 coalesced points.
fn write_name(pad: &mut InkPad) -> usize {
    let strokes: Vec<Vec<Point>> = (0..3u32)
        .map(|k| {
            (0..90u32)
                .map(|i| {
                    let s = i as f32 / 90.0;
                    let x = 60.0 + 160.0 * k as f32 + 120.0 * s + 12.0 * (s * 18.0).sin();
                    let y = 120.0 + 70.0 * (s * 7.0 + k as f32).cos();
                    Point::new(x, y, k * 1200 + i * 8).with_pressure(0.55 + 0.35 * (s * 5.0).sin())
                })
                .collect()
        })
        .collect();
    let mut drawn = 0;
    for stroke in &strokes {
        pad.begin_stroke();
        for batch in stroke.chunks(5) {
            drawn += pad.add_points(batch).expect("valid points").len();
        }
        drawn += pad.end_stroke().len();
    }
    drawn
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_borrower_signs_the_contract_by_hand() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start_server(&dir.path().join("server")).await;
    let client = client_for(&server, &dir.path().join("device"));
    let pin = Pin::new("314159");
    let backend = Backend::new(&server);
    let key = inkseal_tests::enroll(&backend, &client, "customer-0042", &pin)
        .await
        .key_id;
    let (_, ca) = client
        .request_certificate(&key, &pin, None)
        .await
        .expect("certificate");
    let bank = InstitutionSecret::generate(Scheme::Sm2).expect("bank key");

    // A quick tick is refused with a reason the app can show.
    let mut pad = InkPad::new(PAD).expect("pad");
    pad.begin_stroke();
    pad.add_points(&[Point::new(10.0, 10.0, 0), Point::new(14.0, 12.0, 16)])
        .expect("points");
    pad.end_stroke();
    let err = pad
        .finish(&QualityRules::default(), "test tablet", 0)
        .err()
        .expect("a two-point tick is not a signature");
    assert!(matches!(err, SdkError::HandwritingRejected(_)), "{err}");

    // Write again; the live segments are what the screen draws.
    pad.clear();
    let live_segments = write_name(&mut pad);
    assert!(
        live_segments > 200,
        "live smoothing produced {live_segments}"
    );
    let written = pad
        .finish(
            &QualityRules::default(),
            "PAD-9 tablet / Android 15",
            1_790_000_000_000,
        )
        .expect("a real signature passes");
    assert_eq!(written.quality().points, 270);
    let sealed = written.seal_for(&bank.public_key()).expect("seal");

    let input = std::fs::read(fixture("loan-contract-zh.pdf")).expect("fixture");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs();
    let mut options = SignOptions::new(now);
    options.field_name = Some("Borrower".into());
    options.placement = Placement::Keyword {
        text: "借款人（签字）：".into(),
        page: Some(3),
        size: [150.0, 60.0],
    };
    options.appearance.label = vec!["借款人 张三".into()];
    options.appearance.label_font = Some(inkseal_tests::label_font());
    sealed.apply_to(&mut options);
    let tail = client
        .sign_pdf(&key, &pin, &input, &options)
        .await
        .expect("co-signed");
    let signed = [input.as_slice(), tail.as_slice()].concat();
    let out = dir.path().join("signed-by-hand.pdf");
    std::fs::write(&out, &signed).expect("write");

    // Valid, bound, and standard CMS.
    let report = verify(
        &signed,
        &VerifyOptions {
            trust_anchors: vec![ca.clone()],
            at_unix: Some(now),
            ..Default::default()
        },
    )
    .expect("verify");
    assert!(report.all_ok(), "{report:#?}");
    assert_eq!(report.signatures[0].ink_binding, Some(true));
    let ca_pem = dir.path().join("ca.pem");
    std::fs::write(&ca_pem, inkseal_pki::der_to_pem("CERTIFICATE", &ca)).expect("write");
    let bc = bouncycastle_check(&out, &[&ca_pem]);
    assert!(bc.all_valid(), "BouncyCastle: {}", bc.stdout);

    // The ink shows inside the widget on page 3 and nowhere else.
    let doc = Document::load(&signed, &Limits::default()).expect("load");
    let field = inkseal_pdf::fields::signature_fields(&doc)
        .expect("fields")
        .into_iter()
        .find(|f| f.name == "Borrower")
        .expect("the borrower's field");
    let [x0, y0, x1, y1] = field.rect.expect("a visible widget");
    let before = render_page(
        &fixture("loan-contract-zh.pdf"),
        3,
        &dir.path().join("before"),
    );
    let after = render_page(&out, 3, &dir.path().join("after"));
    let page_h = f64::from(before.height()) * 72.0 / DPI;
    let (inside, outside) = changed_pixels(&before, &after, [x0, y0, x1 - x0, y1 - y0], page_h);
    assert!(inside > 300, "the handwriting is visible: {inside} pixels");
    assert_eq!(outside, 0, "nothing changes outside the signature box");
    let keep = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("handwriting-flow.png");
    let _ = std::fs::copy(dir.path().join("after.png"), keep);

    // The bank opens the embedded record and gets the raw points back, unsmoothed.
    let sig = doc
        .dict(&Object::Reference(field.value.expect("signed")), "sig")
        .expect("sig dict");
    let embedded = inkseal_pdf::ink_binding::embedded_record(&doc, &doc.xref_at(0), &sig)
        .expect("the record is embedded in the signature dictionary");
    assert_eq!(embedded, sealed.sealed_record());
    let record = decode(&open(&embedded, &bank).expect("the bank opens it")).expect("parse");
    assert_eq!(record.device, "PAD-9 tablet / Android 15");
    assert_eq!(record.strokes.len(), 3);
    let raw: Vec<_> = pad
        .strokes()
        .iter()
        .flat_map(|s| s.points.clone())
        .collect();
    let kept: Vec<_> = record.strokes.iter().flatten().collect();
    assert_eq!(raw.len(), kept.len());
    for (r, k) in raw.iter().zip(kept) {
        assert_eq!(
            (r.x, r.y, r.t_ms, r.pressure),
            (k.x, k.y, k.t_ms, k.pressure)
        );
    }
    server.shutdown().await.expect("shutdown");
}
