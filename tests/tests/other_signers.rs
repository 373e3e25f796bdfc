//! PDFs signed by pyHanko with the algorithms other signers use and inkseal only verifies:
//! RSA, ECDSA on P-384 and P-521, Ed25519 (keys and certificates made by openssl). inkseal
//! verifies each with its chain, as pyHanko does, refuses it once a signed byte changes, keeps
//! it valid when it adds its own SM2 signature after it, and refuses a 1024-bit RSA signature
//! as weak. And CMS made by `openssl cms -sign` (RSA, P-256), embedded in a PDF's /Contents,
//! verified and, tampered, refused; and a signature LibreOffice makes at PDF export, kept valid
//! after an inkseal one.

use inkseal_pdf::changes::Changes;
use inkseal_pdf::sign::{SignOptions, sign_file};
use inkseal_pdf::signer::LocalSigner;
use inkseal_pdf::verify::Verdict;
use inkseal_tests::validators::{
    OpensslKey, openssl_pki, pyhanko_sign, pyhanko_validate, tamper_signed_bytes,
};
use inkseal_tests::{fixture, inkseal_verify, now_unix, sm2_pki};
use std::path::Path;

#[test]
fn pyhanko_signatures_in_other_algorithms_verify_like_pyhanko_says() {
    let dir = tempfile::tempdir().expect("tempdir");
    for (key, name, algorithm_prefix) in [
        (OpensslKey::Rsa(2048), "rsa", "RSA-2048 PKCS#1 v1.5"),
        (OpensslKey::P384, "p384", "ECDSA-P384-"),
        (OpensslKey::P521, "p521", "ECDSA-P521-"),
        (OpensslKey::Ed25519, "ed25519", "Ed25519"),
    ] {
        let pki = openssl_pki(dir.path(), name, key);
        let signed = dir.path().join(format!("{name}.pdf"));
        pyhanko_sign(
            &fixture("e-policy-zh.pdf"),
            &signed,
            &pki.signer_key,
            &pki.signer_pem,
            "Sig1",
        );
        let pyhanko = pyhanko_validate(&signed, &pki.ca_pem);
        assert!(pyhanko.all_valid(), "{name}: {}", pyhanko.stdout);

        let report = inkseal_verify(&signed, &[&pki.ca_pem]);
        let s = &report.signatures[0];
        assert_eq!(s.verdict(), Verdict::Valid, "{name}: {s:#?}");
        assert_eq!(s.trusted, Some(true), "{name}");
        let algorithm = s.algorithm.as_deref().unwrap_or_default();
        assert!(
            algorithm.starts_with(algorithm_prefix),
            "{name}: {algorithm}"
        );

        // Another root: not trusted, for the same reason pyHanko would give.
        let stranger = openssl_pki(dir.path(), &format!("{name}-stranger"), key);
        let report = inkseal_verify(&signed, &[&stranger.ca_pem]);
        assert_eq!(report.signatures[0].trusted, Some(false), "{name}");
        assert_eq!(report.signatures[0].verdict(), Verdict::Invalid, "{name}");
        assert!(
            report.signatures[0]
                .advice()
                .is_some_and(|a| a.contains("trust anchor")),
            "{name}"
        );

        let tampered = dir.path().join(format!("{name}-tampered.pdf"));
        tamper_signed_bytes(&signed, &tampered);
        let report = inkseal_verify(&tampered, &[&pki.ca_pem]);
        assert!(!report.signatures[0].digest_valid, "{name}");
        assert_eq!(report.signatures[0].verdict(), Verdict::Invalid, "{name}");
    }
}

/// A counterparty signed with RSA first; inkseal adds an SM2 signature in a new field. Both
/// verify, the earlier one followed only by a signature, and pyHanko agrees about the RSA one.
#[test]
fn an_sm2_signature_after_an_rsa_one_keeps_both_valid() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pki = openssl_pki(dir.path(), "counterparty", OpensslKey::Rsa(3072));
    let first = dir.path().join("rsa-first.pdf");
    pyhanko_sign(
        &fixture("loan-contract-zh.pdf"),
        &first,
        &pki.signer_key,
        &pki.signer_pem,
        "Counterparty",
    );
    let sm2 = sm2_pki(dir.path(), "borrower");
    let signer =
        LocalSigner::from_pem_files(&sm2.signer_key, &sm2.signer_pem, &[]).expect("sm2 signer");
    let second = dir.path().join("then-sm2.pdf");
    let mut options = SignOptions::new(now_unix());
    options.field_name = Some("Borrower".into());
    options.reason = Some("borrower".into());
    sign_file(&first, &second, &options, &signer).expect("inkseal signs after pyHanko");

    let report = inkseal_verify(&second, &[&pki.ca_pem, &sm2.ca_pem]);
    assert!(report.all_ok(), "{report:#?}");
    let rsa = report
        .signatures
        .iter()
        .find(|s| s.field == "Counterparty")
        .expect("the RSA signature");
    assert_eq!(rsa.changes, Some(Changes::SignaturesAndForms));
    assert!(
        rsa.algorithm
            .as_deref()
            .is_some_and(|a| a.starts_with("RSA-3072"))
    );

    let pyhanko = pyhanko_validate(&second, &pki.ca_pem);
    let theirs = pyhanko
        .signatures
        .iter()
        .find(|s| s.field == "Counterparty")
        .unwrap_or_else(|| panic!("pyHanko lists the field:\n{}", pyhanko.stdout));
    assert!(theirs.sound, "{}", pyhanko.stdout);
}

#[test]
fn a_1024_bit_rsa_signature_is_refused_as_weak() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pki = openssl_pki(dir.path(), "weak", OpensslKey::Rsa(1024));
    let signed = dir.path().join("weak.pdf");
    pyhanko_sign(
        &fixture("e-policy-zh.pdf"),
        &signed,
        &pki.signer_key,
        &pki.signer_pem,
        "Sig1",
    );
    let report = inkseal_verify(&signed, &[&pki.ca_pem]);
    let s = &report.signatures[0];
    assert_eq!(s.verdict(), Verdict::Invalid, "{s:#?}");
    assert!(s.digest_valid, "the bytes are intact: {s:#?}");
    assert!(
        s.problems
            .iter()
            .any(|p| p.contains("weak algorithm") && p.contains("1024")),
        "{:?}",
        s.problems
    );
    assert!(
        s.weak_algorithm
            .as_deref()
            .is_some_and(|w| w.contains("1024"))
    );
    assert!(
        s.advice().is_some_and(|a| a.contains("too weak")),
        "{:?}",
        s.advice()
    );
}

/// Apache PDFBox 2 signs with a BouncyCastle CMS (BER), SM2 and P-256, as many e-signing
/// products do: inkseal verifies the signature, refuses it once a signed byte changes, and
/// adds its own SM2 signature after it with both staying valid (pyHanko agreeing about the
/// P-256 one).
#[test]
fn pdfbox_signatures_verify_and_survive_an_inkseal_signature_after_them() {
    use inkseal_tests::validators::make_pdfbox_sample;
    let dir = tempfile::tempdir().expect("tempdir");
    let sm2 = sm2_pki(dir.path(), "after-pdfbox");
    let signer =
        LocalSigner::from_pem_files(&sm2.signer_key, &sm2.signer_pem, &[]).expect("sm2 signer");
    for curve in ["sm2", "p256"] {
        let sample = make_pdfbox_sample(dir.path(), &fixture("e-policy-zh.pdf"), curve);
        let bytes = std::fs::read(&sample.pdf).expect("PDFBox's file");
        let at = bytes
            .windows(10)
            .rposition(|w| w == b"/Contents<" || w == b"/Contents ")
            .expect("contents");
        let hex = String::from_utf8_lossy(&bytes[at..at + 20]).to_string();
        assert!(hex.contains("3080"), "{curve}: PDFBox embeds BER: {hex}");

        let report = inkseal_verify(&sample.pdf, &[&sample.ca_pem]);
        assert!(report.all_ok(), "{curve}: {report:#?}");

        let tampered = dir.path().join(format!("pdfbox-{curve}-tampered.pdf"));
        tamper_signed_bytes(&sample.pdf, &tampered);
        let report = inkseal_verify(&tampered, &[&sample.ca_pem]);
        assert!(!report.signatures[0].digest_valid, "{curve}");

        let after = dir.path().join(format!("pdfbox-{curve}-then-inkseal.pdf"));
        let mut options = SignOptions::new(now_unix());
        options.field_name = Some("Borrower".into());
        sign_file(&sample.pdf, &after, &options, &signer).expect("inkseal signs after PDFBox");
        let report = inkseal_verify(&after, &[&sample.ca_pem, &sm2.ca_pem]);
        assert!(report.all_ok(), "{curve}: {report:#?}");
        assert_eq!(report.signatures.len(), 2);
        if curve == "p256" {
            let pyhanko = pyhanko_validate(&after, &sample.ca_pem);
            let theirs = pyhanko
                .signatures
                .iter()
                .find(|s| s.field != "Borrower")
                .unwrap_or_else(|| panic!("pyHanko lists PDFBox's field:\n{}", pyhanko.stdout));
            assert!(theirs.sound, "{}", pyhanko.stdout);
            assert_eq!(
                theirs.modifications,
                Some(inkseal_tests::validators::Modifications::FormFilling),
                "{}",
                pyhanko.stdout
            );
        }
    }
}

/// The CMS of a signature, made by `openssl cms -sign` (detached, DER, SHA-256) over the
/// byte ranges of a PDF whose signature dictionary inkseal prepared, written into its
/// `/Contents`: nothing of the CMS is ours.
fn with_openssl_cms(prepared: &Path, out: &Path, key: &Path, cert: &Path) {
    let mut pdf = std::fs::read(prepared).expect("read");
    let at = pdf
        .windows(b"/ByteRange [".len())
        .rposition(|w| w == b"/ByteRange [")
        .expect("a /ByteRange")
        + b"/ByteRange [".len();
    let end = at + pdf[at..].iter().position(|&b| b == b']').expect("]");
    let range: Vec<usize> = std::str::from_utf8(&pdf[at..end])
        .expect("ascii")
        .split_whitespace()
        .map(|n| n.parse().expect("a number"))
        .collect();
    let [a, b, c, d] = <[usize; 4]>::try_from(range).expect("four numbers");
    let dir = out.parent().expect("dir");
    let data = dir.join("byte-ranges.bin");
    std::fs::write(&data, [&pdf[a..a + b], &pdf[c..c + d]].concat()).expect("write");
    let cms = dir.join("openssl.p7s");
    let run = std::process::Command::new("openssl")
        .args(["cms", "-sign", "-binary", "-md", "sha256", "-nosmimecap"])
        .args(["-outform", "DER", "-in"])
        .arg(&data)
        .arg("-signer")
        .arg(cert)
        .arg("-inkey")
        .arg(key)
        .arg("-out")
        .arg(&cms)
        .output()
        .expect("openssl runs");
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let hex = hex::encode_upper(std::fs::read(&cms).expect("cms"));
    let hole = a + b + 1..c - 1; // inside `<` and `>`
    assert!(
        hex.len() <= hole.len(),
        "the CMS fits the reserved /Contents"
    );
    pdf[hole.clone()].fill(b'0');
    pdf[hole.start..hole.start + hex.len()].copy_from_slice(hex.as_bytes());
    std::fs::write(out, pdf).expect("write");
}

/// openssl's own CMS (RSA-2048 and P-256) embedded in a PDF: inkseal verifies it with its
/// chain, as pyHanko does, and refuses it once a signed byte changes.
#[test]
fn openssl_cms_signatures_embedded_in_a_pdf_verify_and_tampering_is_found() {
    let dir = tempfile::tempdir().expect("tempdir");
    for (name, key, algorithm) in [
        ("rsa", OpensslKey::Rsa(2048), "RSA-2048"),
        ("p256", OpensslKey::P256, "EcdsaP256"),
    ] {
        let pki = openssl_pki(dir.path(), name, key);
        // The dictionary and its byte ranges come from an inkseal signature with any local
        // key; its CMS is then replaced whole.
        let placeholder_pki =
            openssl_pki(dir.path(), &format!("{name}-placeholder"), OpensslKey::P256);
        let signer = LocalSigner::from_pem_files(
            &placeholder_pki.signer_key,
            &placeholder_pki.signer_pem,
            &[],
        )
        .expect("signer");
        let prepared = dir.path().join(format!("{name}-prepared.pdf"));
        let mut options = SignOptions::new(now_unix());
        options.field_name = Some("Counterparty".into());
        options.contents_reserve = Some(16 * 1024);
        sign_file(
            &fixture("loan-contract-zh.pdf"),
            &prepared,
            &options,
            &signer,
        )
        .expect("inkseal prepares the field");
        let signed = dir.path().join(format!("{name}-openssl.pdf"));
        with_openssl_cms(&prepared, &signed, &pki.signer_key, &pki.signer_pem);

        let report = inkseal_verify(&signed, &[&pki.ca_pem]);
        assert!(report.all_ok(), "{name}: {report:#?}");
        let sig = &report.signatures[0];
        assert!(sig.digest_valid && sig.signature_valid, "{name}: {sig:#?}");
        assert_eq!(sig.trusted, Some(true), "{name}");
        assert!(
            sig.algorithm
                .as_deref()
                .is_some_and(|a| a.starts_with(algorithm)),
            "{name}: {:?}",
            sig.algorithm
        );
        // The placeholder's root does not vouch for openssl's signer.
        let stranger = inkseal_verify(&signed, &[&placeholder_pki.ca_pem]);
        assert_eq!(stranger.signatures[0].trusted, Some(false), "{name}");
        let pyhanko = pyhanko_validate(&signed, &pki.ca_pem);
        assert!(
            pyhanko.signatures.iter().all(|s| s.sound && s.valid),
            "{name}: {}",
            pyhanko.stdout
        );

        let tampered = dir.path().join(format!("{name}-tampered.pdf"));
        tamper_signed_bytes(&signed, &tampered);
        let report = inkseal_verify(&tampered, &[&pki.ca_pem]);
        assert!(!report.all_ok(), "{name}");
        assert!(!report.signatures[0].digest_valid, "{name}");
    }
}

/// LibreOffice (7.4, Debian) signs at PDF export with a key from an NSS database; inkseal
/// verifies that signature, adds its own after it, and both stay valid in inkseal and in
/// poppler's pdfsig; a changed byte is caught. (pyHanko 0.38 cannot read the file at all: it
/// refuses LibreOffice's signing time `D:…Z'`, ARCHITECTURE.md "Where inkseal and pyHanko judge
/// differently".)
#[test]
fn a_libreoffice_signature_stays_valid_after_an_inkseal_one() {
    use std::process::Command;
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let run = |cmd: &mut Command, what: &str| {
        let out = cmd
            .output()
            .unwrap_or_else(|e| panic!("{what} (scripts/install-validators.sh installs it): {e}"));
        assert!(
            out.status.success(),
            "{what}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        out
    };
    // The office user's key and certificate (RSA, openssl), in an NSS database.
    let office = openssl_pki(d, "office", OpensslKey::Rsa(2048));
    let p12 = d.join("office.p12");
    run(
        Command::new("openssl")
            .args(["pkcs12", "-export", "-passout", "pass:pw", "-inkey"])
            .arg(&office.signer_key)
            .arg("-in")
            .arg(&office.signer_pem)
            .arg("-out")
            .arg(&p12),
        "openssl pkcs12",
    );
    let nss = d.join("nss");
    std::fs::create_dir_all(&nss).expect("dir");
    let nss_db = format!("sql:{}", nss.display());
    run(
        Command::new("certutil").args(["-N", "--empty-password", "-d", &nss_db]),
        "certutil (libnss3-tools)",
    );
    run(
        Command::new("pk12util")
            .args(["-W", "pw", "-n", "office", "-d", &nss_db, "-i"])
            .arg(&p12),
        "pk12util (libnss3-tools)",
    );
    let subject = String::from_utf8_lossy(
        &run(
            Command::new("openssl")
                .args(["x509", "-noout", "-subject", "-nameopt", "RFC2253", "-in"])
                .arg(&office.signer_pem),
            "openssl x509",
        )
        .stdout,
    )
    .trim()
    .trim_start_matches("subject=")
    .to_owned();
    std::fs::write(
        d.join("contract.txt"),
        "借款合同\nLoan contract, clause 1.\n",
    )
    .expect("write");
    let filter = format!(
        "pdf:writer_pdf_Export:{{\"SignPDF\":{{\"type\":\"boolean\",\"value\":\"true\"}},\
         \"SignCertificateSubjectName\":{{\"type\":\"string\",\"value\":\"{subject}\"}}}}"
    );
    run(
        Command::new("soffice")
            .current_dir(d)
            .env("MOZILLA_CERTIFICATE_FOLDER", &nss_db)
            .arg("--headless")
            .arg(format!(
                "-env:UserInstallation=file://{}",
                d.join("profile").display()
            ))
            .args(["--convert-to", &filter, "contract.txt"]),
        "soffice (libreoffice-writer-nogui)",
    );
    let theirs = d.join("contract.pdf");
    let report = inkseal_verify(&theirs, &[&office.ca_pem]);
    assert!(report.all_ok(), "LibreOffice's signature: {report:#?}");
    assert!(
        report.signatures[0]
            .algorithm
            .as_deref()
            .is_some_and(|a| a.starts_with("RSA-2048")),
        "{:?}",
        report.signatures[0].algorithm
    );

    // inkseal signs after it (P-256, visible): both stay valid.
    let ours = openssl_pki(d, "borrower", OpensslKey::P256);
    let signer =
        LocalSigner::from_pem_files(&ours.signer_key, &ours.signer_pem, &[]).expect("signer");
    let mut options = SignOptions::new(now_unix());
    options.field_name = Some("Borrower".into());
    options.placement = inkseal_pdf::sign::Placement::Rect {
        page: 1,
        rect: [300.0, 100.0, 160.0, 60.0],
    };
    let both = d.join("contract-both.pdf");
    sign_file(&theirs, &both, &options, &signer).expect("inkseal signs after LibreOffice");
    let report = inkseal_verify(&both, &[&office.ca_pem, &ours.ca_pem]);
    assert!(report.all_ok(), "{report:#?}");
    assert_eq!(report.signatures.len(), 2);
    assert_eq!(
        report.signatures[0].changes,
        Some(Changes::SignaturesAndForms),
        "our revision is a signature added, nothing else"
    );
    let poppler = inkseal_tests::validators::pdfsig(&both);
    assert_eq!(poppler.signatures.len(), 2, "{poppler:?}");
    for s in &poppler.signatures {
        assert_eq!(
            s.signature_validation.as_deref(),
            Some("Signature is Valid."),
            "{poppler:?}"
        );
    }

    let tampered = d.join("contract-tampered.pdf");
    tamper_signed_bytes(&both, &tampered);
    let report = inkseal_verify(&tampered, &[&office.ca_pem, &ours.ca_pem]);
    assert!(report.signatures.iter().all(|s| !s.digest_valid));
}
