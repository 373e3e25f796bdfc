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

/// `inkseal sign --timestamp` against a running `inkseal serve`'s TSA: B-T, and every
/// validator sees the time-stamp.
#[test]
fn b_t_signature_with_the_servers_time_stamping_authority() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let (ca, key, cert) = openssl_pki(d);
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let server = runtime.block_on(inkseal_tests::start_server(&d.join("server")));
    let roots = d.join("inkseal-roots.pem");
    let pem = server.service().root_certificates_pem();
    std::fs::write(&roots, pem).expect("roots");
    let tsa = format!("{}/v1/tsa", server.url());
    let out = d.join("b-t.pdf");
    let sign = |extra: &[&str], output: &Path| {
        inkseal()
            .arg("sign")
            .args([fixture().as_path(), output])
            .args([
                "--key".as_ref(),
                key.as_os_str(),
                "--cert".as_ref(),
                cert.as_os_str(),
            ])
            .args(extra)
            .output()
            .expect("run sign")
    };
    let signed = sign(&["--level", "B-T", "--timestamp", &tsa], &out);
    assert!(
        signed.status.success(),
        "{}",
        String::from_utf8_lossy(&signed.stderr)
    );

    let verify = inkseal()
        .arg("verify")
        .arg(&out)
        .args([
            "--trust".as_ref(),
            ca.as_os_str(),
            "--trust".as_ref(),
            roots.as_os_str(),
        ])
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
    let ts = &json["signatures"][0]["time_stamp"];
    assert_eq!(ts["valid"], true, "{json:#}");
    assert_eq!(ts["trusted"], true, "{json:#}");
    assert_eq!(ts["tsa"], "CN=inkseal time-stamping authority P-256");
    let stamped = ts["time_unix_millis"].as_u64().expect("time");
    assert!(stamped.abs_diff(inkseal_tests::now_unix() * 1000) < 60_000);

    let ph = inkseal_tests::validators::pyhanko_validate_with_roots(&out, &[&ca, &roots]);
    assert!(ph.all_valid(), "{}", ph.stdout);
    let pts = ph.signatures[0]
        .time_stamp
        .as_ref()
        .expect("pyHanko sees the time-stamp");
    assert!(pts.sound && pts.tsa_trusted, "{}", ph.stdout);
    // Without the TSA's root pyHanko still finds the token sound, but not its TSA trusted.
    let ph = inkseal_tests::validators::pyhanko_validate_with_roots(&out, &[&ca]);
    let pts = ph.signatures[0].time_stamp.as_ref().expect("time-stamp");
    assert!(pts.sound && !pts.tsa_trusted, "{}", ph.stdout);

    let ps = inkseal_tests::validators::pdfsig(&out);
    assert!(ps.all_signatures_valid(), "{ps:?}");
    inkseal_tests::validators::qpdf_check(&out).expect("qpdf finds no problem");

    // B-T needs a TSA; a TSA URL makes B-T; a URL that is not a TSA fails without output.
    let none = d.join("none.pdf");
    let refused = sign(&["--level", "B-T"], &none);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--timestamp"));
    let refused = sign(&["--level", "B-B", "--timestamp", &tsa], &none);
    assert!(!refused.status.success());
    let refused = sign(
        &["--timestamp", &format!("{}/v1/health", server.url())],
        &none,
    );
    assert!(!refused.status.success());
    assert!(!none.exists(), "no partial output");
    runtime.block_on(server.shutdown()).expect("shutdown");
}

/// `inkseal sign --level B-LTA`: the signer's CA answers OCSP through `openssl ocsp` (its
/// response given with --revocation), the TSA's through the server (--ocsp); the result is
/// long-term valid for `inkseal verify` and pyHanko sees signature maintenance after the
/// signature.
#[test]
fn b_lta_from_the_command_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let pki = inkseal_tests::validators::openssl_p256_pki(d, "lta");
    let ca_key = d.join("lta-ca.key");
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let server = runtime.block_on(inkseal_tests::start_server(&d.join("server")));
    let roots = d.join("inkseal-roots.pem");
    let pem = server.service().root_certificates_pem();
    std::fs::write(&roots, pem).expect("roots");

    // The signer's OCSP response, from OpenSSL as its CA's responder.
    let openssl = |args: &[&str]| {
        let out = Command::new("openssl")
            .current_dir(d)
            .args(args)
            .output()
            .expect("openssl");
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    let s = |p: &Path| p.display().to_string();
    let serial = openssl(&["x509", "-in", &s(&pki.signer_pem), "-noout", "-serial"]);
    let serial = serial.trim_start_matches("serial=");
    let index = format!("V\t991231235959Z\t\t{serial}\tunknown\t/CN=signer\n");
    std::fs::write(d.join("index.txt"), index).expect("index");
    openssl(&[
        "ocsp",
        "-issuer",
        &s(&pki.ca_pem),
        "-cert",
        &s(&pki.signer_pem),
        "-no_nonce",
        "-reqout",
        "req.der",
    ]);
    openssl(&[
        "ocsp",
        "-index",
        "index.txt",
        "-CA",
        &s(&pki.ca_pem),
        "-rsigner",
        &s(&pki.ca_pem),
        "-rkey",
        &s(&ca_key),
        "-reqin",
        "req.der",
        "-respout",
        "signer-ocsp.der",
        "-ndays",
        "1",
    ]);

    let out = d.join("b-lta.pdf");
    let tsa = format!("{}/v1/tsa", server.url());
    let ocsp = format!("{}/v1/ocsp", server.url());
    let sign = |extra: &[&str]| {
        inkseal()
            .arg("sign")
            .args([fixture().as_path(), out.as_path()])
            .args(["--key".as_ref(), pki.signer_key.as_os_str()])
            .args(["--cert".as_ref(), pki.signer_pem.as_os_str()])
            .args(extra)
            .output()
            .expect("run sign")
    };
    // B-LT without anchors, or without a source for the signer's status, is refused.
    let refused = sign(&["--level", "B-LT", "--timestamp", &tsa]);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--trust"));
    let refused = sign(&[
        "--level",
        "B-LT",
        "--timestamp",
        &tsa,
        "--trust",
        &s(&pki.ca_pem),
        "--trust",
        &s(&roots),
    ]);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--ocsp"));
    assert!(!out.exists(), "no partial output");

    let signed = sign(&[
        "--level",
        "B-LTA",
        "--timestamp",
        &tsa,
        "--trust",
        &s(&pki.ca_pem),
        "--trust",
        &s(&roots),
        "--ocsp",
        &ocsp,
        "--revocation",
        &s(&d.join("signer-ocsp.der")),
    ]);
    let signed_text = String::from_utf8_lossy(&signed.stderr).to_string();
    assert!(signed.status.success(), "{signed_text}");

    let verify = inkseal()
        .arg("verify")
        .arg(&out)
        .args(["--trust".as_ref(), pki.ca_pem.as_os_str()])
        .args(["--trust".as_ref(), roots.as_os_str()])
        .arg("--json")
        .output()
        .expect("verify");
    let json: serde_json::Value = serde_json::from_slice(&verify.stdout).expect("json");
    assert_eq!(verify.status.code(), Some(0), "{json:#}");
    let sig = &json["signatures"][0];
    assert_eq!(sig["revocation"]["ltv"], true, "{json:#}");
    assert_eq!(
        json["signatures"][1]["document_time_stamp"], true,
        "{json:#}"
    );

    let ph = inkseal_tests::validators::pyhanko_validate_with_roots(&out, &[&pki.ca_pem, &roots]);
    assert!(ph.all_valid(), "{}", ph.stdout);
    assert_eq!(
        ph.signatures[0].modifications,
        Some(inkseal_tests::validators::Modifications::LtaUpdates),
        "{}",
        ph.stdout
    );
    runtime.block_on(server.shutdown()).expect("shutdown");
}

/// pyHanko's own twice-signed file: two RSA signatures with RSA time-stamps, the second
/// signer's tool also updating the document information and the XMP metadata. Both verify
/// (exit 0), named by algorithm, with the metadata update allowed as pyHanko judges it. An
/// Ed448 signature, which inkseal cannot check, is "cannot check" (exit 3), never "bad
/// signature". A changed signed byte is INVALID.
#[test]
fn rsa_signatures_verify_and_algorithms_inkseal_cannot_check_get_their_own_verdict() {
    let pyhanko_corpus =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus/pyhanko-test-pdfs");
    let corpus = pyhanko_corpus.join("minimal-signed-twice-both-created.pdf");
    let run = |file: &Path| {
        let out = inkseal()
            .args(["verify", "--json"])
            .arg(file)
            .output()
            .expect("verify");
        let json: serde_json::Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)));
        (out.status.code(), json)
    };
    let (code, json) = run(&corpus);
    assert_eq!(code, Some(0), "{json:#}");
    let sigs = json["signatures"].as_array().expect("signatures");
    assert_eq!(sigs.len(), 2);
    for s in sigs {
        assert_eq!(s["verdict"], "valid", "{s:#}");
        assert!(
            s["algorithm"]
                .as_str()
                .expect("algorithm")
                .starts_with("RSA-"),
            "{s:#}"
        );
        assert_eq!(s["problems"].as_array().map(Vec::len), Some(0), "{s:#}");
    }
    assert_eq!(
        sigs[0]["changes_after"], "SignaturesAndForms",
        "a metadata update by the second signer's tool is allowed"
    );
    // The named level, and the change in the second revision that decided it.
    assert_eq!(
        sigs[0]["modification_level"], "form_filling",
        "{:#}",
        sigs[0]
    );
    let decided = sigs[0]["level_decided_by"].as_str().expect("decided by");
    assert!(
        decided.starts_with("object ") && decided.contains("signature field"),
        "{decided}"
    );
    assert_eq!(sigs[1]["modification_level"], "none");

    let ed448 = pyhanko_corpus.join("ed448-disallowed-hash.pdf");
    let (code, json) = run(&ed448);
    assert_eq!(code, Some(3), "{json:#}");
    let s = &json["signatures"][0];
    assert_eq!(s["verdict"], "cannot_check", "{s:#}");
    assert!(
        s["cannot_check"].as_str().expect("what").contains("Ed448"),
        "{s:#}"
    );
    assert_eq!(s["digest_valid"], true, "{s:#}");
    assert_eq!(
        s["advice"], "check this signature with a validator that supports its algorithm",
        "{s:#}"
    );
    let text = inkseal()
        .arg("verify")
        .arg(&ed448)
        .output()
        .expect("verify");
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(
        text.contains("[CANNOT CHECK]")
            && !text.contains("INVALID")
            && text.contains("what to do: check this signature with a validator"),
        "{text}"
    );

    // A byte both signatures cover, changed: invalid, exit 1.
    let dir = tempfile::tempdir().expect("tempdir");
    let mut data = std::fs::read(&corpus).expect("corpus");
    let at = data
        .windows(8)
        .position(|w| w == b"/Catalog")
        .expect("catalog");
    data[at + 1] = b'c';
    let tampered = dir.path().join("tampered.pdf");
    std::fs::write(&tampered, &data).expect("write");
    let (code, json) = run(&tampered);
    assert_eq!(code, Some(1), "{json:#}");
    assert!(
        json["signatures"]
            .as_array()
            .expect("signatures")
            .iter()
            .all(|s| s["verdict"] == "invalid"
                && s["digest_valid"] == false
                && s["advice"]
                    .as_str()
                    .is_some_and(|a| a.starts_with("the signed bytes were changed after signing"))),
        "{json:#}"
    );
}

/// A reader that closes the pipe early (`inkseal verify FILE | head -1`) ends inkseal quietly
/// with 141 (128 + SIGPIPE), as shell tools do, not with a panic message on standard error.
#[test]
fn a_closed_output_pipe_ends_verify_quietly() {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/corpus/pyhanko-test-pdfs/pades-lta-dss-indirect-arrs-test-2.pdf");
    let mut child = inkseal()
        .arg("verify")
        .arg(&corpus)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    // Close the reading end before inkseal has verified anything: its first line meets a
    // closed pipe.
    drop(child.stdout.take());
    let out = child.wait_with_output().expect("wait");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(out.status.code(), Some(141), "{stderr}");
}

/// Encrypted PDFs (issue 14): one whose user password is empty signs and verifies (exit 0);
/// one with a user password is refused with a message saying what inkseal opens (verify:
/// exit 2).
#[test]
fn encrypted_pdfs_with_an_empty_user_password_sign_and_verify() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (ca, key, cert) = openssl_pki(dir.path());
    for (name, user, scheme) in [
        ("aes-256", "", &["256"][..]),
        ("rc4-128", "", &["128", "--use-aes=n"][..]),
        ("password", "secret", &["256"][..]),
    ] {
        let input = dir.path().join(format!("{name}.pdf"));
        let status = Command::new("qpdf")
            .args(["--allow-weak-crypto", "--encrypt", user, "owner"])
            .args(scheme)
            .arg("--")
            .arg(fixture())
            .arg(&input)
            .status()
            .expect("qpdf is installed");
        assert!(status.success(), "{name}: qpdf");
        let out = dir.path().join(format!("{name}-signed.pdf"));
        let sign = inkseal()
            .arg("sign")
            .args([input.as_path(), out.as_path()])
            .args([
                "--key".as_ref(),
                key.as_os_str(),
                "--cert".as_ref(),
                cert.as_os_str(),
            ])
            .args(["--page", "1", "--rect", "320,120,200,80"])
            .output()
            .expect("run sign");
        let verify = |pdf: &Path| {
            inkseal()
                .arg("verify")
                .arg(pdf)
                .arg("--trust")
                .arg(&ca)
                .arg("--json")
                .output()
                .expect("verify")
        };
        if user.is_empty() {
            assert!(
                sign.status.success(),
                "{name}: {}",
                String::from_utf8_lossy(&sign.stderr)
            );
            let v = verify(&out);
            assert_eq!(
                v.status.code(),
                Some(0),
                "{name}: {}{}",
                String::from_utf8_lossy(&v.stdout),
                String::from_utf8_lossy(&v.stderr)
            );
            let json: serde_json::Value = serde_json::from_slice(&v.stdout).expect("json");
            assert_eq!(json["all_ok"], true, "{name}");
            assert_eq!(json["signatures"][0]["trusted"], true, "{name}");
        } else {
            assert!(!sign.status.success(), "{name}");
            assert!(!out.exists(), "{name}: no output");
            let said = String::from_utf8_lossy(&sign.stderr);
            assert!(said.contains("user password is empty"), "{name}: {said}");
            let v = verify(&input);
            assert_eq!(v.status.code(), Some(2), "{name}");
            let said = format!(
                "{}{}",
                String::from_utf8_lossy(&v.stdout),
                String::from_utf8_lossy(&v.stderr)
            );
            assert!(said.contains("user password is empty"), "{name}: {said}");
        }
    }
}

/// A document whose first page is written directly in the page tree's /Kids (some writers
/// make them): `inkseal sign` puts a visible signature on it and `inkseal verify` calls it
/// valid.
#[test]
fn a_page_written_directly_in_the_page_tree_is_signed_and_verified() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (ca, key, cert) = openssl_pki(dir.path());
    let input = dir.path().join("direct-kid.pdf");
    inkseal_tests::validators::with_direct_page_kid(&fixture(), &input, 1);
    let out = dir.path().join("signed.pdf");
    let sign = inkseal()
        .arg("sign")
        .args([input.as_path(), out.as_path()])
        .args([
            "--key".as_ref(),
            key.as_os_str(),
            "--cert".as_ref(),
            cert.as_os_str(),
        ])
        .args(["--page", "1", "--rect", "320,120,200,80"])
        .output()
        .expect("run sign");
    assert!(
        sign.status.success(),
        "{}",
        String::from_utf8_lossy(&sign.stderr)
    );
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
    assert_eq!(json["signatures"][0]["pages"], serde_json::json!([1]));
    assert_eq!(json["signatures"][0]["modification_level"], "none");
}
