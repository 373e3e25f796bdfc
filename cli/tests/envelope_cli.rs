//! `inkseal envelope seal` and `inkseal envelope open` as a user runs them: SM2 and P-256
//! recipients, the wrong key refused with nothing written, openssl opening what the CLI sealed,
//! and signed-then-enveloped content whose signature is verified on opening.

use inkseal_tests::envelopes::EnvelopePki;
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

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "exit {:?}\n{}{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

const MESSAGE: &[u8] = b"manifest 2026-0042\nsealed for the customs office only\n";

#[test]
fn seal_to_sm2_and_p256_open_with_each_key_and_refuse_another() {
    let pki = EnvelopePki::new();
    let (s_key, s_cert) = pki.recipient("officer", "sm2", None);
    let (r_key, r_cert) = pki.recipient("broker", "p256", None);
    let (x_key, x_cert) = pki.recipient("outsider", "sm2", None);
    let input = pki.path("manifest.txt");
    std::fs::write(&input, MESSAGE).expect("write");
    let sealed = pki.path("manifest.p7e");
    let out = ok(&inkseal(&[
        p("envelope"),
        p("seal"),
        p("--to"),
        &s_cert,
        p("--to"),
        &r_cert,
        &input,
        &sealed,
    ]));
    assert!(out.contains("2 recipient(s)"), "{out}");

    for (key, cert) in [(&s_key, &s_cert), (&r_key, &r_cert)] {
        let plain = pki.path("plain.txt");
        let _ = std::fs::remove_file(&plain);
        ok(&inkseal(&[
            p("envelope"),
            p("open"),
            p("--key"),
            key,
            p("--cert"),
            cert,
            &sealed,
            &plain,
        ]));
        assert_eq!(std::fs::read(&plain).expect("plaintext"), MESSAGE);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&plain)
                .expect("meta")
                .permissions()
                .mode();
            assert_eq!(mode & 0o077, 0, "plaintext readable by others: {mode:o}");
        }
    }

    // openssl opens it with the P-256 key.
    pki.openssl(&[
        "cms",
        "-decrypt",
        "-binary",
        "-inform",
        "DER",
        "-in",
        "manifest.p7e",
        "-recip",
        "broker.pem",
        "-inkey",
        "broker.key",
        "-out",
        "openssl.txt",
    ]);
    assert_eq!(
        std::fs::read(pki.path("openssl.txt")).expect("out"),
        MESSAGE
    );

    // Not a recipient: exit 1, and no output file.
    let nothing = pki.path("nothing.txt");
    let refused = inkseal(&[
        p("envelope"),
        p("open"),
        p("--key"),
        &x_key,
        p("--cert"),
        &x_cert,
        &sealed,
        &nothing,
    ]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("not addressed to this certificate"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    assert!(!nothing.exists());

    // The ciphertext's last byte altered: exit 1, nothing written.
    let mut bytes = std::fs::read(&sealed).expect("read");
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    let tampered = pki.path("tampered.p7e");
    std::fs::write(&tampered, &bytes).expect("write");
    let bad = inkseal(&[
        p("envelope"),
        p("open"),
        p("--key"),
        &s_key,
        &tampered,
        &nothing,
    ]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(!nothing.exists());

    // Not an envelope: exit 2.
    let unreadable = inkseal(&[
        p("envelope"),
        p("open"),
        p("--key"),
        &s_key,
        &input,
        &nothing,
    ]);
    assert_eq!(unreadable.status.code(), Some(2));
    assert!(!nothing.exists());
}

#[test]
fn signed_then_enveloped_content_is_verified_on_opening() {
    let pki = EnvelopePki::new();
    let signer = inkseal_tests::validators::openssl_p256_pki(pki.dir.path(), "exporter");
    let other = inkseal_tests::validators::openssl_p256_pki(pki.dir.path(), "other");
    signed_then_enveloped(
        &pki,
        (&signer.signer_key, &signer.signer_pem, &signer.ca_pem),
        &other.ca_pem,
        true,
    );
}

#[test]
fn sm2_signed_then_enveloped_content_is_verified_on_opening() {
    let pki = EnvelopePki::new();
    let signer = inkseal_tests::sm2_pki(pki.dir.path(), "exporter");
    let other = inkseal_tests::sm2_pki(pki.dir.path(), "other");
    signed_then_enveloped(
        &pki,
        (&signer.signer_key, &signer.signer_pem, &signer.ca_pem),
        &other.ca_pem,
        false,
    );
}

/// Seal signed content to an SM2 recipient and open it: verified against the signer's root,
/// refused under another root, written as a SignedData with --keep-signed (which openssl
/// verifies when `openssl_verifies`: P-256 signatures).
fn signed_then_enveloped(
    pki: &EnvelopePki,
    signer: (&Path, &Path, &Path),
    other_ca: &Path,
    openssl_verifies: bool,
) {
    let (signer_key, signer_cert, signer_ca) = signer;
    let (s_key, s_cert) = pki.recipient("officer", "sm2", None);
    let input = pki.path("declaration.xml");
    std::fs::write(&input, MESSAGE).expect("write");
    let sealed = pki.path("declaration.p7e");
    let out = ok(&inkseal(&[
        p("envelope"),
        p("seal"),
        p("--to"),
        &s_cert,
        p("--gm-oids"),
        p("--sign-key"),
        signer_key,
        p("--sign-cert"),
        signer_cert,
        &input,
        &sealed,
    ]));
    assert!(out.contains("signed by"), "{out}");

    let plain = pki.path("declaration.out");
    // Signed content needs trust anchors (or --keep-signed): exit 2, nothing written.
    let no_trust = inkseal(&[
        p("envelope"),
        p("open"),
        p("--key"),
        &s_key,
        &sealed,
        &plain,
    ]);
    assert_eq!(no_trust.status.code(), Some(2));
    assert!(!plain.exists());

    let out = ok(&inkseal(&[
        p("envelope"),
        p("open"),
        p("--key"),
        &s_key,
        p("--cert"),
        &s_cert,
        p("--trust"),
        signer_ca,
        &sealed,
        &plain,
    ]));
    assert!(out.contains("valid signature by"), "{out}");
    assert!(out.contains("exporter"), "{out}");
    assert_eq!(std::fs::read(&plain).expect("plaintext"), MESSAGE);

    // Another trust anchor: exit 1, nothing written.
    let untrusted_out = pki.path("untrusted.out");
    let untrusted = inkseal(&[
        p("envelope"),
        p("open"),
        p("--key"),
        &s_key,
        p("--trust"),
        other_ca,
        &sealed,
        &untrusted_out,
    ]);
    assert_eq!(untrusted.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&untrusted.stdout).contains("not trusted"));
    assert!(!untrusted_out.exists());

    // --keep-signed writes the SignedData, which openssl verifies.
    let kept = pki.path("declaration.p7s");
    ok(&inkseal(&[
        p("envelope"),
        p("open"),
        p("--key"),
        &s_key,
        p("--keep-signed"),
        &sealed,
        &kept,
    ]));
    assert!(kept.exists());
    if !openssl_verifies {
        return;
    }
    let verify = Command::new("openssl")
        .args(["cms", "-verify", "-binary", "-inform", "DER", "-in"])
        .arg(&kept)
        .arg("-CAfile")
        .arg(signer_ca)
        .arg("-out")
        .arg(pki.path("verified.out"))
        .output()
        .expect("openssl");
    assert!(
        verify.status.success(),
        "{}",
        String::from_utf8_lossy(&verify.stderr)
    );
    assert_eq!(
        std::fs::read(pki.path("verified.out")).expect("out"),
        MESSAGE
    );
}
