//! `inkseal tx sign` and `inkseal tx verify` as a user runs them: SM2 and P-256 local keys,
//! the decoded transaction printed, exit 1 for a tampered or untrusted signature, 2 for input
//! that cannot be read.

use std::path::Path;
use std::process::{Command, Output};

fn inkseal(args: &[&Path]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_inkseal"))
        .args(args)
        .output()
        .expect("run inkseal")
}

fn p(s: &str) -> &Path {
    Path::new(s)
}

const TRANSACTION: &str = r#"{
  "transaction_id": "TX-CLI-1",
  "payer": {"name": "王小明", "account": "6222020200112233445", "institution": "中国工商银行"},
  "payee": {"name": "ACME Ltd", "account": "GB33BUKB20201555555555"},
  "amount_minor": 99905,
  "currency": "HKD",
  "created_unix": 1780000000,
  "memo": "rent"
}"#;

fn sign_and_verify(dir: &Path, key: &Path, cert: &Path, ca: &Path, other_ca: &Path) {
    let tx = dir.join("tx.json");
    let out = dir.join("tx.p7");
    std::fs::write(&tx, TRANSACTION).expect("write");
    let signed = inkseal(&[
        p("tx"),
        p("sign"),
        &tx,
        &out,
        p("--key"),
        key,
        p("--cert"),
        cert,
    ]);
    assert!(
        signed.status.success(),
        "{}",
        String::from_utf8_lossy(&signed.stderr)
    );

    let verified = inkseal(&[p("tx"), p("verify"), &out, p("--trust"), ca]);
    let stdout = String::from_utf8_lossy(&verified.stdout);
    assert!(verified.status.success(), "{stdout}");
    assert!(stdout.contains("999.05 HKD"), "{stdout}");
    assert!(stdout.contains("GB33BUKB20201555555555"), "{stdout}");
    assert!(stdout.contains("中国工商银行"), "{stdout}");

    let json = inkseal(&[p("tx"), p("verify"), &out, p("--trust"), ca, p("--json")]);
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).expect("JSON");
    assert_eq!(v["ok"], true);
    assert_eq!(v["amount_minor"], 99905);
    assert_eq!(v["payee"]["account"], "GB33BUKB20201555555555");

    // An untrusted root: exit 1.
    let untrusted = inkseal(&[p("tx"), p("verify"), &out, p("--trust"), other_ca]);
    assert_eq!(untrusted.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&untrusted.stdout).contains("not trusted"));

    // The memo changed in place ("rent" to "rant"): exit 1.
    let mut bytes = std::fs::read(&out).expect("read");
    let at = bytes.windows(4).position(|w| w == b"rent").expect("memo");
    bytes[at + 1] = b'a';
    let tampered = dir.join("tampered.p7");
    std::fs::write(&tampered, &bytes).expect("write");
    let bad = inkseal(&[p("tx"), p("verify"), &tampered, p("--trust"), ca]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&bad.stdout).contains("INVALID"));

    // Not a SignedData at all: exit 1 with a typed message; a missing file: exit 2.
    let missing = inkseal(&[p("tx"), p("verify"), &dir.join("nope.p7"), p("--trust"), ca]);
    assert_eq!(missing.status.code(), Some(2));
    let not_cms = inkseal(&[p("tx"), p("verify"), &tx, p("--trust"), ca]);
    assert_eq!(not_cms.status.code(), Some(1));

    // A transaction outside the limits is refused before anything is written.
    std::fs::write(&tx, TRANSACTION.replace("99905", "0")).expect("write");
    let zero = dir.join("zero.p7");
    let refused = inkseal(&[
        p("tx"),
        p("sign"),
        &tx,
        &zero,
        p("--key"),
        key,
        p("--cert"),
        cert,
    ]);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("amount"));
    assert!(!zero.exists());
}

#[test]
fn p256_transactions_sign_and_verify_from_the_command_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let [pki, other] = ["tx-cli", "other"]
        .map(|name| inkseal_tests::validators::openssl_p256_pki(dir.path(), name))
        .map(|p| [p.signer_key, p.signer_pem, p.ca_pem]);
    sign_and_verify(dir.path(), &pki[0], &pki[1], &pki[2], &other[2]);
}

#[test]
fn sm2_transactions_sign_and_verify_from_the_command_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let [pki, other] = ["tx-cli", "other"]
        .map(|name| inkseal_tests::sm2_pki(dir.path(), name))
        .map(|p| [p.signer_key, p.signer_pem, p.ca_pem]);
    sign_and_verify(dir.path(), &pki[0], &pki[1], &pki[2], &other[2]);

    // `--gm-oids`: GB/T 35275's OIDs, said so by verify.
    let tx = dir.path().join("tx-gm.json");
    std::fs::write(&tx, TRANSACTION).expect("write");
    let out = dir.path().join("tx-gm.p7");
    let signed = inkseal(&[
        p("tx"),
        p("sign"),
        &tx,
        &out,
        p("--key"),
        &pki[0],
        p("--cert"),
        &pki[1],
        p("--gm-oids"),
    ]);
    assert!(
        signed.status.success(),
        "{}",
        String::from_utf8_lossy(&signed.stderr)
    );
    let json = inkseal(&[
        p("tx"),
        p("verify"),
        &out,
        p("--trust"),
        &pki[2],
        p("--json"),
    ]);
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).expect("JSON");
    assert_eq!(v["ok"], true, "{v}");
    assert_eq!(v["oids"], "GB/T 35275");
    assert_eq!(v["amount_minor"], 99905);
}
