//! `inkseal demo` runs the whole flow, leaves a signed contract that independent validators
//! accept, and an evidence package.

use std::process::Command;

use inkseal_tests::render::render_page;
use inkseal_tests::validators::bouncycastle_check;

#[test]
fn the_demo_signs_the_contract_and_leaves_evidence() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = Command::new(env!("CARGO_BIN_EXE_inkseal"))
        .args(["demo", "--dir"])
        .arg(dir.path())
        .output()
        .expect("run the demo");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "demo failed: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("refused by the server"), "{stdout}");
    assert!(stdout.trim_end().ends_with("done."), "{stdout}");

    let signed = dir.path().join("contract-signed.pdf");
    let ca = dir.path().join("ca-cert.pem");
    let verify = Command::new(env!("CARGO_BIN_EXE_inkseal"))
        .arg("verify")
        .arg(&signed)
        .arg("--trust")
        .arg(&ca)
        .arg("--json")
        .output()
        .expect("verify");
    assert_eq!(
        verify.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&verify.stdout)
    );
    let bc = bouncycastle_check(&signed, &[&ca]);
    assert!(bc.all_valid(), "BouncyCastle: {}", bc.stdout);

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
    render_page(&signed, 3, &dir.path().join("page3"));
    let keep = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("demo-contract-page3.png");
    let _ = std::fs::copy(dir.path().join("page3.png"), keep);
}
