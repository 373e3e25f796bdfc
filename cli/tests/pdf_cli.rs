//! `inkseal sign` and `inkseal verify` as a user runs them, with the documented exit codes.

use std::path::{Path, PathBuf};
use std::process::Command;

fn inkseal() -> Command {
    Command::new(env!("CARGO_BIN_EXE_inkseal"))
}

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/fixtures/loan-contract-zh.pdf")
}

/// A P-256 root and a signer certificate made with OpenSSL: (root, key, certificate).
fn openssl_pki(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let pki = inkseal_tests::validators::openssl_p256_pki(dir, "cli");
    (pki.ca_pem, pki.signer_key, pki.signer_pem)
}

#[test]
fn sign_then_verify_with_exit_codes_and_json() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (ca, key, cert) = openssl_pki(dir.path());
    let out = dir.path().join("signed.pdf");
    let ink = dir.path().join("ink.json");
    std::fs::write(
        &ink,
        r#"{"width":100,"height":40,"strokes":[[[5,30],[30,5],[60,35],[95,10]]]}"#,
    )
    .expect("ink");
    let status = inkseal()
        .arg("sign")
        .args([fixture().as_path(), out.as_path()])
        .args([
            "--key".as_ref(),
            key.as_os_str(),
            "--cert".as_ref(),
            cert.as_os_str(),
        ])
        .args(["--page", "3", "--rect", "320,120,200,80", "--certify"])
        .arg("--ink")
        .arg(&ink)
        .status()
        .expect("run sign");
    assert!(status.success());

    let verify = inkseal()
        .arg("verify")
        .arg(&out)
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
    let json: serde_json::Value = serde_json::from_slice(&verify.stdout).expect("json");
    assert_eq!(json["all_ok"], true);
    assert_eq!(json["signatures"][0]["certification_level"], 2);
    assert_eq!(json["signatures"][0]["trusted"], true);
    assert_eq!(json["signatures"][0]["coverage"], "WholeFile");

    // Not trusted under another root: exit 1 and the reason in the summary.
    let other = tempfile::tempdir().expect("tempdir");
    let (other_ca, _, _) = openssl_pki(other.path());
    let v = inkseal()
        .arg("verify")
        .arg(&out)
        .arg("--trust")
        .arg(&other_ca)
        .output()
        .expect("verify");
    assert_eq!(v.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&v.stdout).contains("chain NOT trusted"));

    // A signed byte changed: exit 1.
    let mut data = std::fs::read(&out).expect("read");
    let pos = data
        .windows(8)
        .position(|w| w == b"/Catalog")
        .expect("catalog");
    data[pos + 1] = b'c';
    let tampered = dir.path().join("tampered.pdf");
    std::fs::write(&tampered, &data).expect("write");
    let v = inkseal()
        .arg("verify")
        .arg(&tampered)
        .output()
        .expect("verify");
    assert_eq!(
        v.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&v.stdout)
    );

    // Not a PDF: exit 2.
    let junk = dir.path().join("junk.pdf");
    std::fs::write(&junk, b"hello").expect("write");
    let v = inkseal().arg("verify").arg(&junk).output().expect("verify");
    assert_eq!(v.status.code(), Some(2));

    // An unsigned PDF verifies nothing: exit 1.
    let v = inkseal()
        .arg("verify")
        .arg(fixture())
        .output()
        .expect("verify");
    assert_eq!(v.status.code(), Some(1));
}

#[test]
fn sign_errors_are_clear_and_leave_no_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (_, key, cert) = openssl_pki(dir.path());
    let out = dir.path().join("never.pdf");
    let o = inkseal()
        .arg("sign")
        .args([fixture().as_path(), out.as_path()])
        .args([
            "--key".as_ref(),
            key.as_os_str(),
            "--cert".as_ref(),
            cert.as_os_str(),
        ])
        .args(["--page", "7", "--rect", "10,10,100,50"])
        .output()
        .expect("run");
    assert!(!o.status.success());
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("page 7 does not exist"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(!out.exists());
}
