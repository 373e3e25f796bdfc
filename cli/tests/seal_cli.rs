//! `inkseal seal ...` against a real server on loopback: create a seal, list and show it,
//! seal two PDFs in one call (certified, visible), and a disabled seal refuses.

use inkseal_server::audit::Caller;
use inkseal_server::service::{CredentialSecret, Role};
use std::path::Path;
use std::process::{Command, Output};

fn inkseal(args: &[&str], url: &str, key_file: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_inkseal"))
        .args(args)
        .args(["--server", url, "--api-key-file"])
        .arg(key_file)
        .output()
        .expect("run inkseal")
}

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn seals_are_made_and_pdfs_sealed_from_the_command_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let server = runtime
        .block_on(inkseal_server::start(inkseal_tests::loopback_config(
            &dir.path().join("server"),
        )))
        .expect("start");
    let url = server.url();
    let key_file = dir.path().join("api-key");
    let created = server
        .service()
        .operators()
        .create(
            "seal desk",
            &[Role::SealManage, Role::SealUse],
            CredentialSecret::ApiKey,
            &Caller::system(),
        )
        .expect("credential");
    std::fs::write(&key_file, created.api_key.expect("key")).expect("write key");

    // A bad credit code is refused with the server's typed reason.
    let out = inkseal(
        &[
            "seal",
            "create",
            "--institution",
            "示例银行",
            "--credit-code",
            "91350100M000100Y40",
            "--purpose",
            "合同专用章",
        ],
        &url,
        &key_file,
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("InvalidCreditCode"));

    let text = ok(&inkseal(
        &[
            "seal",
            "create",
            "--institution",
            "示例银行",
            "--credit-code",
            "91350100M000100Y43",
            "--purpose",
            "合同专用章",
            "--algorithm",
            "ecdsa-p256",
        ],
        &url,
        &key_file,
    ));
    let seal_id = text
        .split_whitespace()
        .next()
        .expect("the seal id first")
        .to_owned();
    assert!(seal_id.starts_with("s-"), "{text}");
    assert!(ok(&inkseal(&["seal", "list"], &url, &key_file)).contains(&seal_id));
    let shown = ok(&inkseal(&["seal", "show", &seal_id], &url, &key_file));
    assert_eq!(shown.matches("-----BEGIN CERTIFICATE-----").count(), 2);

    // Two PDFs in one call, certified, with a visible seal.
    let input = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/data/e-policy-zh.pdf");
    let a = dir.path().join("a.pdf");
    let b = dir.path().join("b.pdf");
    std::fs::copy(&input, &a).expect("copy");
    std::fs::copy(&input, &b).expect("copy");
    let out_dir = dir.path().join("sealed");
    let text = ok(&inkseal(
        &[
            "seal",
            "sign",
            "--seal",
            &seal_id,
            "--in",
            a.to_str().expect("path"),
            "--in",
            b.to_str().expect("path"),
            "--out-dir",
            out_dir.to_str().expect("path"),
            "--certify",
            "2",
            "--page",
            "1",
            "--rect",
            "380,60,160,80",
        ],
        &url,
        &key_file,
    ));
    assert!(text.contains("sealed 2 document(s)"), "{text}");
    let root = server.service().root_certificates()[1].to_vec();
    for name in ["a.pdf", "b.pdf"] {
        let pdf = std::fs::read(out_dir.join(name)).expect("sealed PDF");
        let report = inkseal_pdf::verify::verify(
            &pdf,
            &inkseal_pdf::verify::VerifyOptions {
                trust_anchors: vec![root.clone()],
                ..Default::default()
            },
        )
        .expect("verify");
        assert!(report.all_ok(), "{name}: {report:#?}");
        assert_eq!(report.signatures[0].certification, Some(2));
        assert!(
            report.signatures[0]
                .signer
                .as_deref()
                .is_some_and(|s| s.contains("合同专用章")),
            "{:?}",
            report.signatures[0].signer
        );
    }

    // Disabled: the next sign is refused.
    ok(&inkseal(&["seal", "disable", &seal_id], &url, &key_file));
    let out = inkseal(
        &[
            "seal",
            "sign",
            "--seal",
            &seal_id,
            "--in",
            a.to_str().expect("path"),
            "--out-dir",
            dir.path().join("late").to_str().expect("path"),
        ],
        &url,
        &key_file,
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("SealDisabled"));

    // The institution's SM2 encryption key: `inkseal envelope seal` to its certificate, the
    // server opens it, the plaintext lands owner-only; a refusal writes nothing.
    let opener = server
        .service()
        .operators()
        .create(
            "customs desk",
            &[Role::SealManage, Role::SealUse, Role::EnvelopeOpen],
            CredentialSecret::ApiKey,
            &Caller::system(),
        )
        .expect("credential");
    let opener_key = dir.path().join("opener-key");
    std::fs::write(&opener_key, opener.api_key.expect("key")).expect("write key");
    let text = ok(&inkseal(
        &[
            "seal",
            "create",
            "--encryption",
            "--institution",
            "示例银行",
            "--credit-code",
            "91350100M000100Y43",
            "--purpose",
            "加密证书",
        ],
        &url,
        &opener_key,
    ));
    let key_id = text.split_whitespace().next().expect("id").to_owned();
    assert!(text.contains("encryption"), "{text}");
    let shown = ok(&inkseal(&["seal", "show", &key_id], &url, &opener_key));
    let cert_pem = dir.path().join("encryption.pem");
    let first = shown
        .find("-----BEGIN CERTIFICATE-----")
        .expect("a certificate");
    let end = shown.find("-----END CERTIFICATE-----").expect("end") + 25;
    std::fs::write(&cert_pem, &shown[first..end]).expect("write");
    let message = dir.path().join("declaration.txt");
    std::fs::write(&message, "报关单 2026-0044: 机密附件").expect("write");
    let envelope = dir.path().join("declaration.p7m");
    let out = Command::new(env!("CARGO_BIN_EXE_inkseal"))
        .args(["envelope", "seal", "--to"])
        .arg(&cert_pem)
        .arg(&message)
        .arg(&envelope)
        .output()
        .expect("run inkseal");
    ok(&out);
    let plain = dir.path().join("declaration.out");
    let text = ok(&inkseal(
        &[
            "seal",
            "open-envelope",
            "--seal",
            &key_id,
            "--in",
            envelope.to_str().expect("path"),
            "--out",
            plain.to_str().expect("path"),
        ],
        &url,
        &opener_key,
    ));
    assert!(text.is_empty(), "the report goes to stderr: {text}");
    assert_eq!(
        std::fs::read(&plain).expect("plaintext"),
        std::fs::read(&message).expect("message")
    );
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&plain)
            .expect("meta")
            .permissions()
            .mode();
        assert_eq!(mode & 0o077, 0, "owner-only: {mode:o}");
    }
    // A seal (a signing key) opens nothing, and nothing is written.
    let text = ok(&inkseal(
        &[
            "seal",
            "create",
            "--institution",
            "示例银行",
            "--credit-code",
            "91350100M000100Y43",
            "--purpose",
            "合同专用章",
        ],
        &url,
        &opener_key,
    ));
    let signing_id = text.split_whitespace().next().expect("id").to_owned();
    let refused = dir.path().join("refused.out");
    let out = inkseal(
        &[
            "seal",
            "open-envelope",
            "--seal",
            &signing_id,
            "--in",
            envelope.to_str().expect("path"),
            "--out",
            refused.to_str().expect("path"),
        ],
        &url,
        &opener_key,
    );
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("WrongKeyPurpose"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!refused.exists());
    runtime.block_on(server.shutdown()).expect("shutdown");
}
