//! `inkseal demo` runs the whole flow, leaves a signed contract (every line filled, the
//! lender's seal and paging seal) and a certified e-policy that independent validators accept,
//! and an evidence package.

use std::path::Path;
use std::process::Command;

use inkseal_tests::render::{DPI, count_ink, ink_mask, is_seal_red, render_page};
use inkseal_tests::validators::{bouncycastle_check, pyhanko_validate_offline, qpdf_check};

/// Run `inkseal demo` with `args` into `dir`; returns its output.
fn run_demo(dir: &Path, args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_inkseal"))
        .arg("demo")
        .args(args)
        .arg("--dir")
        .arg(dir)
        .output()
        .expect("run the demo");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "demo failed: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.trim_end().ends_with("done."), "{stdout}");
    stdout
}

/// `inkseal verify --json` of `pdf` against `roots`: every signature valid.
fn inkseal_verify(pdf: &Path, roots: &Path) -> serde_json::Value {
    let verify = Command::new(env!("CARGO_BIN_EXE_inkseal"))
        .arg("verify")
        .arg(pdf)
        .arg("--trust")
        .arg(roots)
        .arg("--json")
        .output()
        .expect("verify");
    let stdout = String::from_utf8_lossy(&verify.stdout);
    assert_eq!(verify.status.code(), Some(0), "{stdout}");
    serde_json::from_str(&stdout).expect("json")
}

/// Seal-red pixels of a page rendering inside the PDF rectangle `[x0, y0, x1, y1]`.
fn red_pixels(img: &image::RgbImage, [x0, y0, x1, y1]: [f64; 4]) -> usize {
    count_ink(&ink_mask(img, DPI, [x0, y0, x1 - x0, y1 - y0], is_seal_red))
}

#[test]
fn the_demo_fills_every_line_of_the_contract_and_leaves_evidence() {
    let dir = tempfile::tempdir().expect("tempdir");
    let stdout = run_demo(dir.path(), &[]);
    assert!(stdout.contains("refused by the server"), "{stdout}");

    let signed = dir.path().join("contract-signed.pdf");
    let roots = dir.path().join("ca-roots.pem");
    let report = inkseal_verify(&signed, &roots);
    let signatures = report["signatures"].as_array().expect("signatures");
    let field = |name: &str| {
        signatures
            .iter()
            .find(|s| s["field"] == name)
            .unwrap_or_else(|| panic!("no {name}: {report}"))
    };
    for name in ["Borrower", "LoanOfficer", "LenderSeal"] {
        assert_eq!(field(name)["ok"], true, "{name}: {report}");
        assert!(
            field(name)["time_stamp"].is_object(),
            "{name} is time-stamped"
        );
        assert_eq!(field(name)["revocation"]["ltv"], true, "{name}: {report}");
    }
    assert_eq!(field("LenderSeal")["pages"], serde_json::json!([1, 2, 3]));
    assert!(
        signatures.iter().any(|s| s["document_time_stamp"] == true),
        "B-LTA: {report}"
    );
    // BouncyCastle checks every SM2 signature and time-stamp; qpdf finds the file sound.
    let bc = bouncycastle_check(&signed, &[&roots]);
    assert!(bc.all_valid(), "BouncyCastle: {}", bc.stdout);
    assert_eq!(bc.signatures.len(), signatures.len(), "{}", bc.stdout);
    qpdf_check(&signed).expect("qpdf --check");

    // What a person sees: the red seal on the seal line of page 3, a slice of the paging seal
    // on the right edge of every page, the date on the date line.
    for page in 1..=3u32 {
        let img = render_page(&signed, page, &dir.path().join(format!("page{page}")));
        let page_w = f64::from(img.width()) * 72.0 / DPI;
        let edge = red_pixels(&img, [page_w - 46.0, 0.0, page_w, 842.0]);
        assert!(
            edge > 150,
            "page {page}: {edge} red pixels on the right edge"
        );
        if page == 3 {
            let seal_line = red_pixels(&img, [150.0, 150.0, 420.0, 450.0]);
            assert!(
                seal_line > 2000,
                "the seal on the seal line: {seal_line} red pixels"
            );
        } else {
            let middle = red_pixels(&img, [0.0, 0.0, page_w - 46.0, 842.0]);
            assert_eq!(middle, 0, "page {page}: nothing red but the edge");
        }
    }
    assert!(
        dir.path().join("contract-page3.png").is_file()
            || stdout.contains("pdftoppm was not found")
    );

    let package: serde_json::Value = serde_json::from_slice(
        &std::fs::read(dir.path().join("evidence.json")).expect("evidence.json"),
    )
    .expect("json");
    assert_eq!(package["evidence"]["passed"], true);
    assert_eq!(package["evidence"]["manifest_verified"], true);
    // The package's time-stamp, checked by OpenSSL against the server's roots.
    let ts = std::process::Command::new("openssl")
        .current_dir(dir.path())
        .args([
            "ts",
            "-verify",
            "-data",
            "evidence.json",
            "-in",
            "evidence.json.tsr",
            "-token_in",
            "-CAfile",
            "ca-roots.pem",
        ])
        .output()
        .expect("openssl");
    assert!(
        ts.status.success(),
        "{}{}",
        String::from_utf8_lossy(&ts.stdout),
        String::from_utf8_lossy(&ts.stderr)
    );
    let report = std::fs::read(dir.path().join("evidence-report.pdf")).expect("report");
    assert!(report.starts_with(b"%PDF-"));

    // Keep the signed page for people to look at.
    let keep = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("demo-contract-page3.png");
    let _ = std::fs::copy(dir.path().join("page3.png"), keep);
}

#[test]
fn the_demo_issues_a_certified_e_policy_that_pyhanko_accepts() {
    let dir = tempfile::tempdir().expect("tempdir");
    run_demo(dir.path(), &["--flow", "policy"]);
    let issued = dir.path().join("policy-signed.pdf");
    let roots = dir.path().join("ca-roots.pem");
    let report = inkseal_verify(&issued, &roots);
    let signatures = report["signatures"].as_array().expect("signatures");
    assert_eq!(
        signatures.len(),
        3,
        "seal, policy-holder, archive time-stamp: {report}"
    );
    let bc = bouncycastle_check(&issued, &[&roots]);
    assert!(bc.all_valid(), "BouncyCastle: {}", bc.stdout);
    qpdf_check(&issued).expect("qpdf --check");
    // pyHanko has no SM2 (its CLI stops at the policy-holder's SM2 signature): it must accept
    // the P-256 certification seal, judging every later revision (the policy-holder's
    // signature in the prepared field, the DSS, the archive time-stamp) as allowed by P=2.
    // The demo's server is gone, so revocation is judged softly; the DSS is checked above.
    let py = pyhanko_validate_offline(&issued, &[&roots]);
    let seal = py
        .signatures
        .iter()
        .find(|s| s.field == "InsurerSeal")
        .unwrap_or_else(|| panic!("pyHanko: {}", py.stdout));
    assert!(
        seal.valid,
        "pyHanko on the insurer's seal: {}\n{}",
        py.stdout, py.stderr
    );
    let keep = Path::new(env!("CARGO_TARGET_TMPDIR")).join("demo-policy-page1.png");
    render_page(&issued, 1, &dir.path().join("p1"));
    let _ = std::fs::copy(dir.path().join("p1.png"), keep);
}

/// `inkseal demo --p256`: the borrower's key is a two-party P-256 key; the contract still
/// verifies in full, and the borrower's signature is ecdsa-with-SHA256, which BouncyCastle and
/// poppler's `pdfsig` check.
#[test]
fn the_demo_borrower_signs_with_a_p256_split_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    let stdout = run_demo(dir.path(), &["--p256"]);
    assert!(stdout.contains("joint P-256 public key"), "{stdout}");
    let signed = dir.path().join("contract-signed.pdf");
    let roots = dir.path().join("ca-roots.pem");
    let report = inkseal_verify(&signed, &roots);
    let signatures = report["signatures"].as_array().expect("signatures");
    assert!(
        signatures.iter().all(|s| s["ok"] == true),
        "every signature valid: {report}"
    );
    let bc = bouncycastle_check(&signed, &[&roots]);
    assert!(bc.all_valid(), "BouncyCastle: {}", bc.stdout);
    assert_eq!(
        bc.signatures[0].signature_algorithm.as_deref(),
        Some("ECDSA-with-SHA256"),
        "the borrower's: {}",
        bc.stdout
    );
    let ps = inkseal_tests::validators::pdfsig(&signed);
    let borrower = ps
        .signatures
        .iter()
        .find(|s| s.field.as_deref() == Some("Borrower"))
        .unwrap_or_else(|| panic!("pdfsig: {}", ps.stdout));
    assert!(borrower.signature_valid(), "pdfsig: {}", ps.stdout);
}
