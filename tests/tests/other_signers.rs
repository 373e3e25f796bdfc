//! PDFs signed by pyHanko with the algorithms other signers use and inkseal only verifies:
//! RSA, ECDSA on P-384 and P-521, Ed25519 (keys and certificates made by openssl). inkseal
//! verifies each with its chain, as pyHanko does, refuses it once a signed byte changes, keeps
//! it valid when it adds its own SM2 signature after it, and refuses a 1024-bit RSA signature
//! as weak.

use inkseal_pdf::changes::Changes;
use inkseal_pdf::sign::{SignOptions, sign_file};
use inkseal_pdf::signer::LocalSigner;
use inkseal_pdf::verify::{Verdict, VerificationReport, VerifyOptions, verify};
use inkseal_tests::validators::{
    OpensslKey, openssl_pki, pyhanko_sign, pyhanko_validate, tamper_signed_bytes,
};
use inkseal_tests::{fixture, sm2_pki};
use std::path::Path;

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs()
}

fn der_of(pem: &Path) -> Vec<u8> {
    let text = std::fs::read(pem).expect("read pem");
    inkseal_pdf::signer::parse_certificate_chain(&text)
        .expect("pem")
        .remove(0)
}

fn inkseal_verify(pdf: &Path, roots: &[&Path]) -> VerificationReport {
    let data = std::fs::read(pdf).expect("read");
    verify(
        &data,
        &VerifyOptions {
            trust_anchors: roots.iter().map(|r| der_of(r)).collect(),
            at_unix: Some(now()),
            ..Default::default()
        },
    )
    .expect("verifies")
}

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
    let mut options = SignOptions::new(now());
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
        let mut options = SignOptions::new(now());
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
