//! Encrypted PDFs whose user password is empty (issue 14): files encrypted by qpdf in the test
//! run (RC4 40 and 128 bits, AES-128, AES-256, AES-256 with object and cross-reference
//! streams) are signed by inkseal and verified by inkseal, pyHanko and qpdf; pyHanko's
//! signatures on them verify in inkseal; a user password is a typed refusal.
#![allow(clippy::unwrap_used)]

mod cms_support;

use cms_support::{Fixture, now, p256_fixture};
use inkseal_pdf::sign::{Placement, SignOptions, sign};
use inkseal_pdf::verify::{SignatureReport, VerifyOptions, verify};
use inkseal_pdf::{Document, Limits, PdfError};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures/e-policy-zh.pdf")
}

/// The encryption settings the issue names, as qpdf arguments (what follows `--` are
/// qpdf's own options).
const SCHEMES: [(&str, &[&str]); 5] = [
    (
        "rc4-40",
        &["--allow-weak-crypto", "--encrypt", "", "owner", "40", "--"],
    ),
    (
        "rc4-128",
        &[
            "--allow-weak-crypto",
            "--encrypt",
            "",
            "owner",
            "128",
            "--use-aes=n",
            "--",
        ],
    ),
    (
        "aes-128",
        &["--encrypt", "", "owner", "128", "--use-aes=y", "--"],
    ),
    ("aes-256", &["--encrypt", "", "owner", "256", "--"]),
    (
        "aes-256-object-streams",
        &[
            "--encrypt",
            "",
            "owner",
            "256",
            "--",
            "--object-streams=generate",
        ],
    ),
];

const REASON: &str = "Approved under encryption 7741";

fn run(cmd: &mut Command, what: &str) -> Output {
    cmd.output()
        .unwrap_or_else(|e| panic!("{what} is installed: {e}"))
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn qpdf_encrypt(dir: &Path, name: &str, scheme: &[&str]) -> PathBuf {
    let out = dir.join(format!("{name}.pdf"));
    let result = run(
        Command::new("qpdf").args(scheme).arg(fixture()).arg(&out),
        "qpdf",
    );
    assert!(result.status.success(), "qpdf: {}", text(&result.stderr));
    out
}

fn options(fx: &Fixture) -> VerifyOptions {
    VerifyOptions {
        trust_anchors: vec![fx.root_der.clone()],
        at_unix: Some(now()),
        ..VerifyOptions::default()
    }
}

fn reports(pdf: &[u8], fx: &Fixture) -> Vec<SignatureReport> {
    verify(pdf, &options(fx)).unwrap().signatures
}

fn sign_options(field: &str) -> SignOptions {
    let mut o = SignOptions::new(now());
    o.field_name = Some(field.into());
    o.placement = Placement::Rect {
        page: 1,
        rect: [72.0, 72.0, 160.0, 48.0],
    };
    o.reason = Some(REASON.into());
    o.signer_name = Some("Alice P-256".into());
    o
}

/// Run pyHanko with the empty password on its standard input (it asks for the password of
/// an encrypted file).
fn pyhanko(cmd: &mut Command) -> Output {
    use std::io::Write;
    let mut child = cmd
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("pyhanko is installed (pip install pyhanko-cli)");
    if let Some(mut stdin) = child.stdin.take() {
        // The empty password; pyHanko may not read it at all.
        let _ = stdin.write_all(b"\n");
    }
    child.wait_with_output().expect("pyhanko runs")
}

/// pyHanko's validation output for `pdf`, opened with the empty user password.
fn pyhanko_validate(pdf: &Path, root_pem: &Path) -> String {
    let out = pyhanko(
        Command::new("pyhanko")
            .args([
                "sign",
                "validate",
                "--pretty-print",
                "--trust-replace",
                "--trust",
            ])
            .arg(root_pem)
            .arg(pdf),
    );
    format!("{}{}", text(&out.stdout), text(&out.stderr))
}

fn qpdf_check(pdf: &Path) {
    let out = run(
        Command::new("qpdf")
            .args(["--check", "--password="])
            .arg(pdf),
        "qpdf",
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "qpdf --check {}: {}{}",
        pdf.display(),
        text(&out.stdout),
        text(&out.stderr)
    );
}

/// The file as qpdf decrypts it, uncompressed (QDF).
fn qpdf_decrypted(pdf: &Path, out: &Path) -> Vec<u8> {
    let result = run(
        Command::new("qpdf")
            .args([
                "--password=",
                "--decrypt",
                "--qdf",
                "--object-streams=disable",
            ])
            .arg(pdf)
            .arg(out),
        "qpdf",
    );
    assert!(
        matches!(result.status.code(), Some(0)),
        "qpdf --decrypt: {}",
        text(&result.stderr)
    );
    std::fs::read(out).unwrap()
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Flip a bit of the binary comment after the header: inside every signed range, harmless to
/// the syntax.
fn tamper(bytes: &[u8]) -> Vec<u8> {
    let mut bytes = bytes.to_vec();
    let at = bytes
        .windows(2)
        .position(|w| w == b"\n%")
        .filter(|&i| i < 64)
        .expect("a comment line after the header")
        + 2;
    bytes[at] ^= 0x01;
    bytes
}

#[test]
fn inkseal_signs_encrypted_files_and_inkseal_pyhanko_and_qpdf_accept_them() {
    let fx = p256_fixture();
    let fx_dir = fx.dir.as_ref().unwrap().path().to_owned();
    let dir = tempfile::tempdir().unwrap();
    for (name, scheme) in SCHEMES {
        let input_path = qpdf_encrypt(dir.path(), name, scheme);
        let input = std::fs::read(&input_path).unwrap();
        let before = Document::load(&input, &Limits::default()).unwrap();
        let scheme_name = before.security_handler().expect("encrypted").describe();

        let opts = sign_options("Sig1");
        let signed = [input.clone(), sign(&input, &opts, &fx.signer).unwrap()].concat();
        let signed_path = dir.path().join(format!("{name}-signed.pdf"));
        std::fs::write(&signed_path, &signed).unwrap();

        // The appended revision keeps the file's handler: /Encrypt and /ID carried over, the
        // reason and the appearance written encrypted.
        let doc = Document::load(&signed, &Limits::default()).unwrap();
        assert_eq!(
            doc.security_handler().map(|h| h.describe()),
            Some(scheme_name.clone()),
            "{name}"
        );
        assert_eq!(doc.trailer.get(b"ID"), before.trailer.get(b"ID"), "{name}");
        assert_eq!(
            doc.trailer.get(b"Encrypt"),
            before.trailer.get(b"Encrypt"),
            "{name}"
        );
        let tail = &signed[input.len()..];
        assert!(
            !contains(tail, REASON.as_bytes()),
            "{name}: the reason is not written in the clear"
        );

        // inkseal: valid, trusted, the whole file, and the decrypted /Reason and /M read.
        let sigs = reports(&signed, &fx);
        assert_eq!(sigs.len(), 1, "{name}");
        let sig = &sigs[0];
        assert!(sig.is_ok(), "{name} ({scheme_name}): {:?}", sig.problems);
        assert_eq!(sig.trusted, Some(true), "{name}");
        assert_eq!(
            sig.signing_time,
            Some(inkseal_pdf::sign::pdf_date(opts.signing_time)),
            "{name}: /M decrypted"
        );

        // qpdf reads every object of the new revision (its strings and streams decrypt with
        // good padding), and decrypts the reason to what inkseal wrote.
        qpdf_check(&signed_path);
        let decrypted = qpdf_decrypted(&signed_path, &dir.path().join(format!("{name}-qdf.pdf")));
        assert!(
            contains(&decrypted, REASON.as_bytes()),
            "{name}: qpdf decrypts the reason"
        );

        // pyHanko opens the file with the empty user password and finds the signature intact.
        let pyhanko = pyhanko_validate(&signed_path, &fx_dir.join("root.pem"));
        assert!(
            pyhanko.contains("The signature is cryptographically sound."),
            "{name}: {pyhanko}"
        );
        assert!(
            pyhanko.contains("covers the entire file"),
            "{name}: {pyhanko}"
        );

        // A flipped byte inside the signed range: inkseal says tampered.
        let tampered = tamper(&signed);
        let sig = &reports(&tampered, &fx)[0];
        assert!(!sig.digest_valid, "{name}: tampering detected");
        assert!(!sig.is_ok(), "{name}");
    }
}

#[test]
fn pyhanko_signatures_on_encrypted_files_verify_and_survive_an_inkseal_signature() {
    let fx = p256_fixture();
    let fx_dir = fx.dir.as_ref().unwrap().path().to_owned();
    let dir = tempfile::tempdir().unwrap();
    for (name, scheme) in SCHEMES {
        let input = qpdf_encrypt(dir.path(), name, scheme);
        let theirs = dir.path().join(format!("{name}-pyhanko.pdf"));
        let out = pyhanko(
            Command::new("pyhanko")
                .args(["sign", "addsig", "--use-pades", "--field", "PySig"])
                .args(["pemder", "--no-pass", "--key"])
                .arg(fx_dir.join("signer.pk8"))
                .arg("--cert")
                .arg(fx_dir.join("signer.pem"))
                .arg("--chain")
                .arg(fx_dir.join("inter.pem"))
                .arg(&input)
                .arg(&theirs),
        );
        assert!(
            out.status.success(),
            "{name}: pyhanko addsig: {}{}",
            text(&out.stdout),
            text(&out.stderr)
        );
        let bytes = std::fs::read(&theirs).unwrap();
        let sigs = reports(&bytes, &fx);
        assert_eq!(sigs.len(), 1, "{name}");
        assert!(sigs[0].is_ok(), "{name}: {:?}", sigs[0].problems);
        assert_eq!(sigs[0].field, "PySig");

        // inkseal signs after pyHanko: its revision, encrypted with the same handler, is a
        // change pyHanko's signature permits (the change analysis compares decrypted objects).
        let both = [
            bytes.clone(),
            sign(&bytes, &sign_options("Sig2"), &fx.signer).unwrap(),
        ]
        .concat();
        let both_path = dir.path().join(format!("{name}-both.pdf"));
        std::fs::write(&both_path, &both).unwrap();
        let sigs = reports(&both, &fx);
        assert_eq!(sigs.len(), 2, "{name}");
        for sig in &sigs {
            assert!(sig.is_ok(), "{name} {}: {:?}", sig.field, sig.problems);
        }
        let pyhanko = pyhanko_validate(&both_path, &fx_dir.join("root.pem"));
        assert_eq!(
            pyhanko
                .matches("The signature is cryptographically sound.")
                .count(),
            2,
            "{name}: {pyhanko}"
        );
        // pyHanko files a signing revision of an encrypted document (its own second
        // signature as well as inkseal's) under "signature maintenance", of a plain one
        // under "signing and form filling": either way a permitted change.
        assert!(
            pyhanko.contains("appear to be compatible with the current document modification"),
            "{name}: {pyhanko}"
        );
        assert_eq!(
            pyhanko.matches("The signature is judged VALID.").count(),
            2,
            "{name}: {pyhanko}"
        );
        qpdf_check(&both_path);
    }
}

#[test]
fn a_user_password_is_a_typed_refusal_for_signing_and_verifying() {
    let fx = p256_fixture();
    let dir = tempfile::tempdir().unwrap();
    for (bits, aes) in [("128", "--use-aes=n"), ("128", "--use-aes=y"), ("256", "")] {
        let out = dir.path().join(format!("pw-{bits}{aes}.pdf"));
        let mut args = vec!["--allow-weak-crypto", "--encrypt", "secret", "owner", bits];
        if !aes.is_empty() {
            args.push(aes);
        }
        args.push("--");
        let result = run(
            Command::new("qpdf").args(&args).arg(fixture()).arg(&out),
            "qpdf",
        );
        assert!(result.status.success(), "{}", text(&result.stderr));
        let data = std::fs::read(&out).unwrap();
        let err = sign(&data, &sign_options("Sig1"), &fx.signer).unwrap_err();
        assert_eq!(err, PdfError::PasswordRequired, "{bits} {aes}");
        assert!(
            err.to_string().contains("user password is empty"),
            "the message says what inkseal opens: {err}"
        );
        assert_eq!(
            verify(&data, &options(&fx)).unwrap_err(),
            PdfError::PasswordRequired
        );
    }
}

#[test]
fn a_page_changed_after_signing_an_encrypted_file_is_reported() {
    use inkseal_pdf::object::{Object, Stream};
    use inkseal_pdf::writer::IncrementalUpdate;
    let fx = p256_fixture();
    let dir = tempfile::tempdir().unwrap();
    for (name, scheme) in [SCHEMES[1], SCHEMES[2], SCHEMES[4]] {
        let input = std::fs::read(qpdf_encrypt(dir.path(), name, scheme)).unwrap();
        let signed = [
            input.clone(),
            sign(&input, &sign_options("Sig1"), &fx.signer).unwrap(),
        ]
        .concat();
        // A later revision, encrypted like the file, replaces page 1's content.
        let doc = Document::load(&signed, &Limits::default()).unwrap();
        let page = inkseal_pdf::pages::pages(&doc).unwrap()[0].id().unwrap();
        let mut page_dict = doc.dict(&Object::Reference(page), "page").unwrap();
        let mut update = IncrementalUpdate::new(&doc);
        let content = update.allocate();
        update.put(
            content,
            &Object::Stream(Stream {
                dict: inkseal_pdf::object::Dictionary::new(),
                data: b"BT /F1 24 Tf 72 720 Td (Pay 1,000,000) Tj ET".to_vec(),
            }),
        );
        page_dict.set(b"Contents", Object::Reference(content));
        update.put(page, &Object::Dictionary(page_dict));
        let changed = [signed.clone(), update.write(&doc).bytes].concat();
        // The new revision reads back decrypted: the new content is the text written.
        let reread = Document::load(&changed, &Limits::default()).unwrap();
        match reread.get(content).unwrap() {
            Object::Stream(s) => assert_eq!(
                s.data, b"BT /F1 24 Tf 72 720 Td (Pay 1,000,000) Tj ET",
                "{name}"
            ),
            other => panic!("{name}: {other:?}"),
        }
        let sig = &reports(&changed, &fx)[0];
        assert!(sig.digest_valid && sig.signature_valid, "{name}");
        assert!(!sig.is_ok(), "{name}: the change is reported");
        assert!(
            sig.problems
                .iter()
                .any(|p| p.contains("page") || p.contains("content")),
            "{name}: {:?}",
            sig.problems
        );
    }
}

#[test]
fn a_dss_added_to_a_signed_encrypted_file_is_encrypted_and_reads_back() {
    use inkseal_pdf::ltv::{ValidationData, add_dss, read_dss};
    let fx = p256_fixture();
    let dir = tempfile::tempdir().unwrap();
    // The control: in a plain file's DSS the deflated certificate is there as it is.
    let plain = std::fs::read(fixture()).unwrap();
    let root_only = ValidationData {
        certificates: vec![fx.root_der.clone()],
        ..ValidationData::default()
    };
    let plain_dss = add_dss(&plain, &root_only, &Limits::default()).unwrap();
    assert!(contains(
        &plain_dss,
        &inkseal_pdf::filters::deflate(&fx.root_der)
    ));
    for (name, scheme) in [SCHEMES[0], SCHEMES[2], SCHEMES[3]] {
        let input = std::fs::read(qpdf_encrypt(dir.path(), name, scheme)).unwrap();
        let signed = [
            input.clone(),
            sign(&input, &sign_options("Sig1"), &fx.signer).unwrap(),
        ]
        .concat();
        let data = ValidationData {
            certificates: vec![fx.chain[1].clone(), fx.root_der.clone()],
            ..ValidationData::default()
        };
        let with_dss = [
            signed.clone(),
            add_dss(&signed, &data, &Limits::default()).unwrap(),
        ]
        .concat();
        // The certificates' streams (deflated, as the DSS writes them) are not in the new
        // revision as they would be in a plain file...
        let deflated = inkseal_pdf::filters::deflate(&fx.root_der);
        assert!(
            !contains(&with_dss[signed.len()..], &deflated),
            "{name}: encrypted"
        );
        // ...and read back decrypted; the signature is still valid, the DSS an allowed change.
        let doc = Document::load(&with_dss, &Limits::default()).unwrap();
        assert_eq!(read_dss(&doc).unwrap(), data, "{name}");
        let sig = &reports(&with_dss, &fx)[0];
        assert!(sig.is_ok(), "{name}: {:?}", sig.problems);
        let path = dir.path().join(format!("{name}-dss.pdf"));
        std::fs::write(&path, &with_dss).unwrap();
        qpdf_check(&path);
    }
}

#[test]
fn sm2_signatures_on_encrypted_files_verify() {
    let (fx, _ca) = cms_support::sm2_fixture();
    let dir = tempfile::tempdir().unwrap();
    for (name, scheme) in [SCHEMES[1], SCHEMES[3]] {
        let input = std::fs::read(qpdf_encrypt(dir.path(), name, scheme)).unwrap();
        let signed = [
            input.clone(),
            sign(&input, &sign_options("Sig1"), &fx.signer).unwrap(),
        ]
        .concat();
        let sig = &reports(&signed, &fx)[0];
        assert!(sig.is_ok(), "{name}: {:?}", sig.problems);
        assert_eq!(sig.trusted, Some(true), "{name}");
        let path = dir.path().join(format!("{name}-sm2.pdf"));
        std::fs::write(&path, &signed).unwrap();
        qpdf_check(&path);
    }
}
