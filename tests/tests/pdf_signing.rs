//! PDFs signed by inkseal, checked by independent validators (pyHanko, poppler's pdfsig,
//! BouncyCastle, qpdf) and by inkseal's own verifier.

use inkseal_pdf::appearance::{AppearanceSpec, InkStrokes};
use inkseal_pdf::changes::Changes;
use inkseal_pdf::sign::{Placement, SignOptions, sign_file};
use inkseal_pdf::signer::LocalSigner;
use inkseal_pdf::verify::{Coverage, VerifyOptions, verify};
use inkseal_tests::validators::{
    Modifications, bouncycastle_check, openssl_p256_pki, pdfsig, pyhanko_sign, pyhanko_validate,
    qpdf_check,
};
use inkseal_tests::{fixture, inkseal_verify, now_unix, sm2_pki};
use std::path::Path;

fn signature_ink() -> InkStrokes {
    // A hand-made "张" -like scribble: three strokes.
    InkStrokes::from_polylines(
        inkseal_ink::Pad {
            width: 400.0,
            height: 160.0,
            dpi: 160.0,
        },
        &[
            (0..40)
                .map(|i| [20.0 + i as f32 * 4.0, 60.0 + (i as f32 / 4.0).sin() * 20.0])
                .collect(),
            (0..30)
                .map(|i| [90.0 + (i as f32 / 5.0).cos() * 10.0, 20.0 + i as f32 * 4.0])
                .collect(),
            (0..50)
                .map(|i| {
                    [
                        180.0 + i as f32 * 4.0,
                        100.0 - (i as f32 / 6.0).sin() * 40.0,
                    ]
                })
                .collect(),
        ],
    )
}

fn visible(page: u32, rect: [f64; 4], name: &str, label: &str) -> SignOptions {
    let mut o = SignOptions::new(now_unix());
    o.field_name = Some(name.to_string());
    o.placement = Placement::Rect { page, rect };
    o.appearance = AppearanceSpec {
        ink: Some(signature_ink()),
        label: vec![label.to_string(), "2026-11-24 10:30 UTC".into()],
        label_font: Some(inkseal_tests::label_font()),
        ..Default::default()
    };
    o
}

/// inkseal's report (no trust anchors) on the signature in `field` of `pdf`.
fn signature_report(pdf: &Path, field: &str) -> inkseal_pdf::verify::SignatureReport {
    let data = std::fs::read(pdf).expect("read");
    verify(&data, &VerifyOptions::default())
        .expect("verify")
        .signatures
        .into_iter()
        .find(|s| s.field == field)
        .unwrap_or_else(|| panic!("no signature in {field}"))
}

#[test]
fn p256_visible_signature_is_accepted_by_every_validator() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pki = openssl_p256_pki(dir.path(), "lender");
    let signer =
        LocalSigner::from_pem_files(&pki.signer_key, &pki.signer_pem, &[]).expect("signer");
    let out = dir.path().join("signed.pdf");
    let input = fixture("loan-contract-zh.pdf");
    sign_file(
        &input,
        &out,
        &visible(
            3,
            [320.0, 120.0, 200.0, 80.0],
            "Lender",
            "贷款人 Lender Bank",
        ),
        &signer,
    )
    .expect("sign");
    let original = std::fs::read(&input).expect("read");
    let signed = std::fs::read(&out).expect("read");
    assert_eq!(
        &signed[..original.len()],
        &original[..],
        "incremental: original bytes untouched"
    );

    let ph = pyhanko_validate(&out, &pki.ca_pem);
    assert!(ph.all_valid(), "pyHanko: {}", ph.stdout);
    assert_eq!(ph.signatures[0].trusted, Some(true));
    assert_eq!(
        ph.signatures[0].modifications,
        Some(Modifications::Untouched)
    );
    let ps = pdfsig(&out);
    assert!(ps.all_signatures_valid(), "pdfsig: {}", ps.stdout);
    assert_eq!(ps.signatures[0].total_document_signed, Some(true));
    qpdf_check(&out).expect("qpdf --check");
    let bc = bouncycastle_check(&out, &[&pki.ca_pem]);
    assert!(bc.all_valid(), "BouncyCastle: {}", bc.stdout);

    let report = inkseal_verify(&out, &[&pki.ca_pem]);
    assert!(report.all_ok(), "{report:#?}");
    assert_eq!(report.signatures[0].coverage, Some(Coverage::WholeFile));
    assert_eq!(report.signatures[0].changes, Some(Changes::None));
}

#[test]
fn sm2_signature_is_accepted_by_bouncycastle_and_inkseal() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pki = sm2_pki(dir.path(), "张三");
    let signer =
        LocalSigner::from_pem_files(&pki.signer_key, &pki.signer_pem, &[]).expect("signer");
    let out = dir.path().join("signed-sm2.pdf");
    sign_file(
        &fixture("loan-contract-zh.pdf"),
        &out,
        &visible(3, [80.0, 120.0, 180.0, 70.0], "Borrower", "借款人 张三"),
        &signer,
    )
    .expect("sign");
    let bc = bouncycastle_check(&out, &[&pki.ca_pem]);
    assert!(bc.all_valid(), "BouncyCastle: {}", bc.stdout);
    assert_eq!(
        bc.signatures[0].signature_algorithm.as_deref(),
        Some("SM2-with-SM3")
    );
    assert_eq!(bc.signatures[0].chain_trusted, Some(true));
    qpdf_check(&out).expect("qpdf --check");
    let report = inkseal_verify(&out, &[&pki.ca_pem]);
    assert!(report.all_ok(), "{report:#?}");

    // Another root does not vouch for it.
    let other = sm2_pki(dir.path(), "other");
    let report = inkseal_verify(&out, &[&other.ca_pem]);
    assert_eq!(report.signatures[0].trusted, Some(false));
    assert!(!report.all_ok());
}

#[test]
fn three_sequential_signers_all_stay_valid() {
    let dir = tempfile::tempdir().expect("tempdir");
    let parties = [
        ("Borrower", [80.0, 120.0, 160.0, 60.0]),
        ("Officer", [260.0, 120.0, 160.0, 60.0]),
        ("Lender", [420.0, 120.0, 140.0, 60.0]),
    ];
    let root = openssl_p256_pki(dir.path(), "root-for-three");
    let mut current = fixture("loan-contract-zh.pdf");
    for (i, (name, rect)) in parties.iter().enumerate() {
        let pki = openssl_p256_pki(dir.path(), name);
        let signer =
            LocalSigner::from_pem_files(&pki.signer_key, &pki.signer_pem, &[]).expect("signer");
        let out = dir.path().join(format!("signed-{i}.pdf"));
        sign_file(&current, &out, &visible(3, *rect, name, name), &signer).expect("sign");
        // Each party's own root validates its own signature in pyHanko.
        let ph = pyhanko_validate(&out, &pki.ca_pem);
        let mine = ph
            .signatures
            .iter()
            .find(|s| s.field == *name)
            .expect("my signature");
        assert!(mine.valid, "pyHanko on {name}: {}", ph.stdout);
        current = out;
    }
    let _ = root;
    let ps = pdfsig(&current);
    assert_eq!(ps.signatures.len(), 3);
    assert!(ps.all_signatures_valid(), "pdfsig: {}", ps.stdout);
    qpdf_check(&current).expect("qpdf --check");
    let bc = bouncycastle_check(&current, &[]);
    assert_eq!(bc.signatures.len(), 3);
    assert!(
        bc.signatures.iter().all(|s| s.signature_valid),
        "{}",
        bc.stdout
    );
    let data = std::fs::read(&current).expect("read");
    let report = verify(&data, &VerifyOptions::default()).expect("verify");
    assert_eq!(report.signatures.len(), 3);
    assert_eq!(report.revisions, 4);
    for s in &report.signatures {
        assert!(s.is_ok(), "{s:#?}");
    }
    let earlier: Vec<_> = report
        .signatures
        .iter()
        .filter(|s| s.coverage == Some(Coverage::WholeRevision))
        .collect();
    assert_eq!(earlier.len(), 2);
    assert!(
        earlier
            .iter()
            .all(|s| s.changes == Some(Changes::SignaturesAndForms))
    );
}

#[test]
fn a_pdf_signed_by_pyhanko_verifies_until_a_signed_byte_changes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pki = openssl_p256_pki(dir.path(), "pyhanko-signer");
    let out = dir.path().join("by-pyhanko.pdf");
    pyhanko_sign(
        &fixture("e-policy-zh.pdf"),
        &out,
        &pki.signer_key,
        &pki.signer_pem,
        "Sig1",
    );
    let report = inkseal_verify(&out, &[&pki.ca_pem]);
    assert!(report.all_ok(), "{report:#?}");
    let tampered = dir.path().join("tampered.pdf");
    inkseal_tests::validators::tamper_signed_bytes(&out, &tampered);
    let report = inkseal_verify(&tampered, &[&pki.ca_pem]);
    assert!(!report.all_ok(), "tampered file must not verify");
    assert!(!report.signatures[0].digest_valid);
    assert!(
        report.signatures[0]
            .problems
            .iter()
            .any(|p| p.contains("digest")),
        "{:?}",
        report.signatures[0].problems
    );
}

/// BouncyCastle's `CMSSignedData.getEncoded()` (what PDFBox- and iText-based signers embed)
/// writes BER with indefinite lengths, which RFC 5652 allows: SM2 and P-256 signatures in that
/// form verify exactly as their DER form does, BouncyCastle (and for P-256 pyHanko) agreeing,
/// and a changed byte is still caught.
#[test]
fn signatures_bouncycastle_writes_in_ber_verify_like_their_der() {
    use inkseal_tests::validators::{make_bc_p256_sample, make_sm2_sample, tamper_signed_bytes};
    let dir = tempfile::tempdir().expect("tempdir");
    for (curve, sample) in [
        ("SM2", make_sm2_sample(&dir.path().join("sm2"))),
        ("P-256", make_bc_p256_sample(&dir.path().join("p256"))),
    ] {
        let ber = std::fs::read(&sample.pdf_ber).expect("BER sample");
        let at = ber
            .windows(11)
            .position(|w| w == b"/Contents <")
            .expect("contents")
            + 11;
        assert_eq!(&ber[at..at + 4], b"3080", "{curve}: BER, indefinite length");
        let bc = bouncycastle_check(&sample.pdf_ber, &[&sample.ca_pem]);
        assert!(
            bc.all_valid(),
            "{curve}: BouncyCastle reads its own BER: {bc:?}"
        );

        let der_report = inkseal_verify(&sample.pdf, &[&sample.ca_pem]);
        let ber_report = inkseal_verify(&sample.pdf_ber, &[&sample.ca_pem]);
        assert!(der_report.all_ok(), "{curve} DER: {der_report:#?}");
        assert!(ber_report.all_ok(), "{curve} BER: {ber_report:#?}");
        let (d, b) = (&der_report.signatures[0], &ber_report.signatures[0]);
        assert_eq!(
            (&b.signer, &b.algorithm, b.trusted, &b.changes),
            (&d.signer, &d.algorithm, d.trusted, &d.changes),
            "{curve}"
        );
        assert_eq!(b.trusted, Some(true));

        if curve == "P-256" {
            let ph = pyhanko_validate(&sample.pdf_ber, &sample.ca_pem);
            assert!(ph.all_valid(), "{}\n{}", ph.stdout, ph.stderr);
        }

        let tampered = dir.path().join(format!("{curve}-tampered.pdf"));
        tamper_signed_bytes(&sample.pdf_ber, &tampered);
        let report = inkseal_verify(&tampered, &[&sample.ca_pem]);
        assert!(!report.signatures[0].digest_valid, "{curve}: {report:#?}");
    }
}

/// A one-page PDF whose page dictionary writes numbers the way other tools do: 16 and 17
/// significant digits (LibreOffice, computed page sizes), trailing zeros, a leading point; with
/// an empty signature field `Sig1`, so that pyHanko signs without rewriting the page.
fn pdf_with_awkward_numbers() -> Vec<u8> {
    let objects = [
        "<</Type /Catalog /Pages 2 0 R /AcroForm <</Fields [5 0 R]>>>>",
        "<</Type /Pages /Kids [3 0 R] /Count 1>>",
        "<</Type /Page /Parent 2 0 R /MediaBox [0 0 595.3039370078740 841.8897637795276] \
         /CropBox [0.0000 .0 595.3039370078740 841.8897637795276] /Contents 4 0 R \
         /Resources <</Font <</F1 <</Type /Font /Subtype /Type1 /BaseFont /Helvetica>>>>>> \
         /PieceInfo <</Example <</LastModified (D:20261207) \
         /Private <</Scale 96.0000 /Ratio 0.12345678901234567 /Offset -.002>>>>>> \
         /Annots [5 0 R]>>",
        "<</Length 33>>\nstream\nBT /F1 12 Tf 72 720 Td (Hi) Tj ET\nendstream",
        "<</Type /Annot /Subtype /Widget /FT /Sig /T (Sig1) /F 132 /Rect [0 0 0 0] /P 3 0 R>>",
    ];
    let bodies: Vec<Vec<u8>> = objects.iter().map(|o| o.as_bytes().to_vec()).collect();
    inkseal_pdf::writer::classic_file(
        &bodies,
        "/Root 1 0 R /ID [<00112233445566778899AABBCCDDEEFF> <00112233445566778899AABBCCDDEEFF>]",
    )
}

/// Adding our signature to a file someone else signed must keep theirs intact: the incremental
/// update rewrites the page (its /Annots) and must copy every number of it as written, or
/// pyHanko (which compares reals as decimals) and our own verifier call the earlier signature
/// modified.
#[test]
fn signing_after_pyhanko_keeps_its_signature_whatever_numbers_the_page_holds() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pki = openssl_p256_pki(dir.path(), "first-signer");
    let input = dir.path().join("awkward.pdf");
    std::fs::write(&input, pdf_with_awkward_numbers()).expect("write");
    let first = dir.path().join("pyhanko-first.pdf");
    pyhanko_sign(&input, &first, &pki.signer_key, &pki.signer_pem, "Sig1");
    let signer =
        LocalSigner::from_pem_files(&pki.signer_key, &pki.signer_pem, &[]).expect("signer");
    let second = dir.path().join("then-inkseal.pdf");
    sign_file(
        &first,
        &second,
        &visible(1, [300.0, 80.0, 200.0, 80.0], "Sig2", "Second signer"),
        &signer,
    )
    .expect("inkseal signs after pyHanko");

    // The page our update rewrote carries the signed revision's numbers token for token.
    let signed = std::fs::read(&first).expect("read");
    let all = std::fs::read(&second).expect("read");
    let update = String::from_utf8_lossy(&all[signed.len()..]);
    let original_len = std::fs::metadata(&input).expect("input").len() as usize;
    assert!(
        !String::from_utf8_lossy(&signed[original_len..]).contains("/PieceInfo"),
        "pyHanko signed the existing field without rewriting the page"
    );
    for token in [
        "595.3039370078740",
        "841.8897637795276",
        "0.0000 .0",
        "96.0000",
        "0.12345678901234567",
        "-.002",
    ] {
        assert!(update.contains(token), "{token} rewritten by our update");
    }

    let report = pyhanko_validate(&second, &pki.ca_pem);
    let sig1 = report
        .signatures
        .iter()
        .find(|s| s.field == "Sig1")
        .unwrap_or_else(|| panic!("pyHanko lists Sig1:\n{}", report.stdout));
    assert!(sig1.sound, "{}", report.stdout);
    assert_eq!(
        sig1.modifications,
        Some(Modifications::FormFilling),
        "pyHanko sees only a signature added after Sig1:\n{}",
        report.stdout
    );
    assert!(report.all_valid(), "{}\n{}", report.stdout, report.stderr);

    let ours = inkseal_verify(&second, &[&pki.ca_pem]);
    assert!(ours.all_ok(), "{ours:#?}");
    let earlier = ours
        .signatures
        .iter()
        .find(|s| s.coverage == Some(Coverage::WholeRevision))
        .expect("the earlier signature");
    assert_eq!(earlier.changes, Some(Changes::SignaturesAndForms));
}

#[test]
fn bad_requests_get_typed_errors_and_no_output_file() {
    use inkseal_pdf::PdfError;
    let dir = tempfile::tempdir().expect("tempdir");
    let pki = openssl_p256_pki(dir.path(), "errors");
    let signer =
        LocalSigner::from_pem_files(&pki.signer_key, &pki.signer_pem, &[]).expect("signer");
    let out = dir.path().join("never.pdf");
    let input = fixture("e-policy-zh.pdf");
    let err = sign_file(
        &input,
        &out,
        &visible(9, [10.0, 10.0, 50.0, 20.0], "X", "x"),
        &signer,
    )
    .expect_err("page 9");
    assert!(
        matches!(err, PdfError::NoSuchPage { page: 9, count: 1 }),
        "{err}"
    );
    let err = sign_file(
        &input,
        &out,
        &visible(1, [500.0, 800.0, 300.0, 200.0], "X", "x"),
        &signer,
    )
    .expect_err("off page");
    assert!(matches!(err, PdfError::RectOffPage { .. }), "{err}");
    let mut tiny = visible(1, [10.0, 10.0, 50.0, 20.0], "X", "x");
    tiny.contents_reserve = Some(64);
    let err = sign_file(&input, &out, &tiny, &signer).expect_err("too small");
    assert!(matches!(err, PdfError::ContentsTooSmall { .. }), "{err}");
    let enc = inkseal_tests::corpus("pyhanko-test-pdfs/minimal-aes256.pdf");
    if enc.exists() {
        let err =
            sign_file(&enc, &out, &SignOptions::new(now_unix()), &signer).expect_err("encrypted");
        assert_eq!(err, PdfError::PasswordRequired);
    }
    assert!(!out.exists(), "no partial output file");
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .expect("dir")
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().contains(".tmp"))
        .collect();
    assert!(leftovers.is_empty());
}

#[test]
fn lender_prepares_fields_and_certifies_then_each_party_fills_its_own() {
    use inkseal_pdf::sign::{Certification, EmptyField, FieldLock};
    let dir = tempfile::tempdir().expect("tempdir");
    let lender = openssl_p256_pki(dir.path(), "lender");
    let signer =
        LocalSigner::from_pem_files(&lender.signer_key, &lender.signer_pem, &[]).expect("signer");
    let mut o = visible(3, [400.0, 250.0, 150.0, 60.0], "Lender", "贷款人（盖章）");
    o.certify = Some(Certification::FormFillingAndSigning);
    o.lock = Some(FieldLock::Exclude(vec![
        "Borrower".into(),
        "Officer".into(),
    ]));
    o.empty_fields = vec![
        EmptyField {
            name: "Borrower".into(),
            page: 3,
            rect: [150.0, 380.0, 160.0, 60.0],
        },
        EmptyField {
            name: "Officer".into(),
            page: 3,
            rect: [150.0, 300.0, 160.0, 60.0],
        },
    ];
    let step0 = dir.path().join("prepared.pdf");
    sign_file(&fixture("loan-contract-zh.pdf"), &step0, &o, &signer).expect("certify");

    let mut current = step0;
    let mut roots = vec![("Lender", lender.ca_pem.clone())];
    for party in ["Borrower", "Officer"] {
        let pki = openssl_p256_pki(dir.path(), party);
        let s = LocalSigner::from_pem_files(&pki.signer_key, &pki.signer_pem, &[]).expect("signer");
        let mut o = visible(3, [0.0, 0.0, 1.0, 1.0], party, party);
        o.placement = Placement::Field(party.into());
        o.field_name = None;
        let out = dir.path().join(format!("{party}.pdf"));
        sign_file(&current, &out, &o, &s).expect("fill my field");
        roots.push((party, pki.ca_pem.clone()));
        current = out;
    }
    // A field cannot be signed twice.
    let again =
        LocalSigner::from_pem_files(&lender.signer_key, &lender.signer_pem, &[]).expect("signer");
    let mut o = SignOptions::new(now_unix());
    o.placement = Placement::Field("Borrower".into());
    let err = inkseal_pdf::sign::sign(&std::fs::read(&current).expect("read"), &o, &again)
        .expect_err("signed");
    assert!(matches!(err, inkseal_pdf::PdfError::Field(..)), "{err}");

    for (party, root) in &roots {
        let ph = pyhanko_validate(&current, root);
        let mine = ph
            .signatures
            .iter()
            .find(|s| s.field == *party)
            .expect("signature");
        assert!(mine.valid, "pyHanko, {party}: {}", ph.stdout);
        if *party != "Officer" {
            assert_eq!(
                mine.modifications,
                Some(Modifications::FormFilling),
                "{party}: {}",
                ph.stdout
            );
        }
    }
    let ps = pdfsig(&current);
    assert_eq!(ps.signatures.len(), 3);
    assert!(ps.all_signatures_valid(), "{}", ps.stdout);
    qpdf_check(&current).expect("qpdf");
    let data = std::fs::read(&current).expect("read");
    let report = verify(&data, &VerifyOptions::default()).expect("verify");
    assert!(report.all_ok(), "{report:#?}");
    assert_eq!(
        report
            .signatures
            .iter()
            .find(|s| s.field == "Lender")
            .and_then(|s| s.certification),
        Some(2)
    );

    // A new visible field after P=2 is what the certification does not permit: refused by
    // default; when the caller insists, pyHanko and inkseal both fault the certification.
    let witness = openssl_p256_pki(dir.path(), "Witness");
    let s =
        LocalSigner::from_pem_files(&witness.signer_key, &witness.signer_pem, &[]).expect("signer");
    let mut o = visible(3, [350.0, 120.0, 160.0, 60.0], "Witness", "Witness");
    let out = dir.path().join("witness.pdf");
    let err = sign_file(&current, &out, &o, &s).expect_err("a new visible field after P=2");
    assert!(
        matches!(err, inkseal_pdf::PdfError::CertifiedFieldsOnly { .. }),
        "{err}"
    );
    assert!(!out.exists());
    o.allow_breaking_certification = true;
    sign_file(&current, &out, &o, &s).expect("signs when allowed to break the certification");
    let ph = pyhanko_validate(&out, &lender.ca_pem);
    let lender_sig = ph
        .signatures
        .iter()
        .find(|s| s.field == "Lender")
        .expect("lender");
    assert!(
        !lender_sig.valid,
        "pyHanko faults the certification: {}",
        ph.stdout
    );
    let lender_report = signature_report(&out, "Lender");
    assert!(!lender_report.is_ok(), "{lender_report:#?}");
    assert!(
        lender_report
            .problems
            .iter()
            .any(|p| p.contains("'Witness'")),
        "{lender_report:#?}"
    );
}

#[test]
fn filling_a_field_the_certifier_locked_breaks_the_certification() {
    use inkseal_pdf::sign::{EmptyField, FieldLock};
    let dir = tempfile::tempdir().expect("tempdir");
    let lender = openssl_p256_pki(dir.path(), "lender");
    let signer =
        LocalSigner::from_pem_files(&lender.signer_key, &lender.signer_pem, &[]).expect("signer");
    // The lender prepares two fields but locks "Witness" against any later change.
    let mut o = visible(3, [400.0, 250.0, 150.0, 60.0], "Lender", "贷款人（盖章）");
    o.lock = Some(FieldLock::Include(vec!["Witness".into()]));
    o.empty_fields = ["Borrower", "Witness"]
        .iter()
        .enumerate()
        .map(|(i, name)| EmptyField {
            name: (*name).into(),
            page: 3,
            rect: [150.0, 380.0 - 80.0 * i as f64, 160.0, 60.0],
        })
        .collect();
    let prepared = dir.path().join("prepared.pdf");
    sign_file(&fixture("loan-contract-zh.pdf"), &prepared, &o, &signer).expect("lender");

    let party = openssl_p256_pki(dir.path(), "party");
    let s = LocalSigner::from_pem_files(&party.signer_key, &party.signer_pem, &[]).expect("signer");
    let fill = |field: &str, out: &std::path::Path, input: &std::path::Path| {
        let mut o = visible(3, [0.0, 0.0, 1.0, 1.0], field, field);
        o.placement = Placement::Field(field.into());
        o.field_name = None;
        sign_file(input, out, &o, &s).expect("fill");
    };
    // Filling the unlocked field keeps the lender's signature valid...
    let borrower = dir.path().join("borrower.pdf");
    fill("Borrower", &borrower, &prepared);
    let report = verify(
        &std::fs::read(&borrower).expect("read"),
        &VerifyOptions::default(),
    )
    .expect("verify");
    assert!(report.all_ok(), "{report:#?}");
    // ...filling the locked one does not, and pyHanko agrees.
    let witness = dir.path().join("witness.pdf");
    fill("Witness", &witness, &borrower);
    let lender_report = signature_report(&witness, "Lender");
    assert!(!lender_report.is_ok());
    assert!(
        lender_report
            .problems
            .iter()
            .any(|p| p.contains("'Witness'") && p.contains("FieldMDP")),
        "{lender_report:#?}"
    );
    assert!(
        report
            .signatures
            .iter()
            .filter(|s| s.field != "Lender")
            .all(|s| s.is_ok()),
        "{report:#?}"
    );
    let ph = pyhanko_validate(&witness, &lender.ca_pem);
    let ph_lender = ph
        .signatures
        .iter()
        .find(|s| s.field == "Lender")
        .expect("pyHanko reports the lender");
    assert!(!ph_lender.valid, "pyHanko: {}", ph.stdout);
}

#[test]
fn each_party_signs_right_after_its_keyword_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut current = fixture("loan-contract-zh.pdf");
    let parties = [
        ("Borrower", "借款人（签字）："),
        ("Officer", "贷款经办人（签字）："),
        ("Lender", "贷款人（盖章）："),
    ];
    for (i, (name, keyword)) in parties.iter().enumerate() {
        let pki = sm2_pki(dir.path(), name);
        let s = LocalSigner::from_pem_files(&pki.signer_key, &pki.signer_pem, &[]).expect("signer");
        let mut o = visible(3, [0.0; 4], name, name);
        o.placement = Placement::Keyword {
            text: keyword.to_string(),
            page: None,
            size: [140.0, 50.0],
        };
        let out = dir.path().join(format!("kw-{i}.pdf"));
        sign_file(&current, &out, &o, &s).expect("sign at keyword");
        current = out;
    }
    let data = std::fs::read(&current).expect("read");
    let doc = inkseal_pdf::Document::load(&data, &inkseal_pdf::Limits::default()).expect("load");
    let page3 = inkseal_pdf::pages::pages(&doc).expect("pages").remove(2);
    let fields = inkseal_pdf::fields::signature_fields(&doc).expect("fields");
    for (name, keyword) in parties {
        let hit = inkseal_pdf::text::find_text(&doc, &page3, keyword)
            .expect("text")
            .remove(0);
        let rect = fields
            .iter()
            .find(|f| f.name == name)
            .and_then(|f| f.rect)
            .expect("widget rect");
        // Starts just right of the keyword and is centred on its line.
        assert!(
            (rect[0] - (hit.rect[2] + 4.0)).abs() < 0.5,
            "{name}: {rect:?} vs {:?}",
            hit.rect
        );
        let mid = (rect[1] + rect[3]) / 2.0;
        assert!(
            (mid - (hit.rect[1] + hit.rect[3]) / 2.0).abs() < 0.5,
            "{name}: {rect:?}"
        );
    }
    let bc = bouncycastle_check(&current, &[]);
    assert_eq!(bc.signatures.len(), 3);
    assert!(
        bc.signatures.iter().all(|s| s.signature_valid),
        "{}",
        bc.stdout
    );
    qpdf_check(&current).expect("qpdf");
    let report = verify(&data, &VerifyOptions::default()).expect("verify");
    assert!(report.signatures.iter().all(|s| s.is_ok()), "{report:#?}");

    // A keyword that is not in the document is a typed error.
    let pki = sm2_pki(dir.path(), "nobody");
    let s = LocalSigner::from_pem_files(&pki.signer_key, &pki.signer_pem, &[]).expect("signer");
    let mut o = SignOptions::new(now_unix());
    o.placement = Placement::Keyword {
        text: "担保人（签字）：".into(),
        page: None,
        size: [100.0, 40.0],
    };
    let err = inkseal_pdf::sign::sign(&data, &o, &s).expect_err("missing keyword");
    assert!(
        matches!(err, inkseal_pdf::PdfError::KeywordNotFound(_)),
        "{err}"
    );
}
