//! Documents whose page tree holds a page dictionary directly in a /Kids array (some writers
//! make them; `with_direct_page_kid` makes one from a fixture): inkseal signs them, visibly on
//! that page and invisibly, and pyHanko, poppler's pdfsig, qpdf and inkseal's own verifier
//! accept the result; after a pyHanko signature, inkseal's signature keeps both valid.
//!
//! pyHanko 0.38 itself cannot sign on or after a direct kid (its page walk refuses them) and
//! cannot judge any revision added after a signature that creates a new field in such a
//! document, not even its own second signature ("Array contains direct objects"):
//! [`pyhanko_cannot_judge_a_new_field_after_a_signature_on_a_direct_kid_document`] pins that,
//! so the test says when a pyHanko release starts judging them.

use inkseal_pdf::changes::Changes;
use inkseal_pdf::sign::{Placement, SignOptions, sign_file};
use inkseal_pdf::signer::LocalSigner;
use inkseal_tests::validators::{
    Modifications, openssl_p256_pki, pdfsig, pyhanko_sign, pyhanko_validate,
    pyhanko_validate_with_roots, qpdf_check, with_direct_page_kid,
};
use inkseal_tests::{fixture, inkseal_verify, now_unix};
use std::path::Path;
use std::process::Command;

fn options(field: &str, placement: Placement) -> SignOptions {
    let mut o = SignOptions::new(now_unix());
    o.field_name = Some(field.into());
    o.placement = placement;
    o
}

/// The loan contract with page `page` written directly in /Kids; qpdf sees the direct kid.
fn direct_kid_contract(dir: &Path, page: usize) -> std::path::PathBuf {
    let out = dir.join(format!("direct-kid-page{page}.pdf"));
    with_direct_page_kid(&fixture("loan-contract-zh.pdf"), &out, page);
    let warning = qpdf_check(&out).expect_err("qpdf notices the direct kid");
    assert!(warning.contains("is direct"), "{warning}");
    out
}

#[test]
fn inkseal_signs_on_a_direct_page_kid_and_the_validators_agree() {
    let dir = tempfile::tempdir().expect("tempdir");
    let input = direct_kid_contract(dir.path(), 1);
    let pki = openssl_p256_pki(dir.path(), "lender");
    let signer =
        LocalSigner::from_pem_files(&pki.signer_key, &pki.signer_pem, &[]).expect("signer");
    for (what, placement) in [
        (
            "visible",
            Placement::Rect {
                page: 1,
                rect: [320.0, 120.0, 200.0, 80.0],
            },
        ),
        ("invisible", Placement::Invisible),
    ] {
        let out = dir.path().join(format!("{what}.pdf"));
        sign_file(&input, &out, &options("Lender", placement), &signer).expect("sign");

        let report = inkseal_verify(&out, &[&pki.ca_pem]);
        assert!(report.all_ok(), "{what}: {report:#?}");
        assert_eq!(report.signatures[0].changes, Some(Changes::None));
        if what == "visible" {
            assert_eq!(report.signatures[0].pages, vec![1]);
        }
        let ph = pyhanko_validate(&out, &pki.ca_pem);
        assert!(ph.all_valid(), "{what}: pyHanko: {}", ph.stdout);
        assert_eq!(
            ph.signatures[0].modifications,
            Some(Modifications::Untouched)
        );
        let ps = pdfsig(&out);
        assert!(ps.all_signatures_valid(), "{what}: pdfsig: {}", ps.stdout);
        // The signed page got an object of its own: the newest revision's tree is plain.
        qpdf_check(&out).unwrap_or_else(|e| panic!("{what}: qpdf --check: {e}"));
    }
}

#[test]
fn inkseal_signs_the_direct_page_kid_after_pyhanko_signed_and_both_stay_valid() {
    let dir = tempfile::tempdir().expect("tempdir");
    // Page 3 direct: pyHanko signs on page 1 (its page walk stops before the direct kid).
    let input = direct_kid_contract(dir.path(), 3);
    let theirs = openssl_p256_pki(dir.path(), "counterparty");
    let first = dir.path().join("pyhanko-first.pdf");
    pyhanko_sign(
        &input,
        &first,
        &theirs.signer_key,
        &theirs.signer_pem,
        "Counterparty",
    );
    let ours = openssl_p256_pki(dir.path(), "borrower");
    let signer =
        LocalSigner::from_pem_files(&ours.signer_key, &ours.signer_pem, &[]).expect("signer");
    let second = dir.path().join("then-inkseal.pdf");
    let placement = Placement::Rect {
        page: 3,
        rect: [320.0, 120.0, 200.0, 80.0],
    };
    sign_file(&first, &second, &options("Borrower", placement), &signer).expect("sign");

    let report = inkseal_verify(&second, &[&theirs.ca_pem, &ours.ca_pem]);
    assert!(report.all_ok(), "{report:#?}");
    let counterparty = &report.signatures[0];
    assert_eq!(counterparty.field, "Counterparty");
    assert_eq!(counterparty.changes, Some(Changes::SignaturesAndForms));
    assert_eq!(report.signatures[1].pages, vec![3]);
    let ps = pdfsig(&second);
    assert_eq!(ps.signatures.len(), 2, "{}", ps.stdout);
    assert!(ps.all_signatures_valid(), "pdfsig: {}", ps.stdout);
    qpdf_check(&second).expect("the direct kid got an object of its own");
}

#[test]
fn inkseal_fills_a_field_pyhanko_left_in_a_direct_kid_document_and_pyhanko_agrees() {
    let dir = tempfile::tempdir().expect("tempdir");
    let input = direct_kid_contract(dir.path(), 3);
    // pyHanko adds an empty field for the borrower and signs its own.
    let with_field = dir.path().join("with-field.pdf");
    let out = Command::new("pyhanko")
        .args(["sign", "addfields", "--field", "1/320,120,520,200/Borrower"])
        .arg(&input)
        .arg(&with_field)
        .output()
        .expect("pyhanko runs (scripts/install-validators.sh)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let theirs = openssl_p256_pki(dir.path(), "counterparty");
    let first = dir.path().join("pyhanko-first.pdf");
    pyhanko_sign(
        &with_field,
        &first,
        &theirs.signer_key,
        &theirs.signer_pem,
        "Counterparty",
    );
    let ours = openssl_p256_pki(dir.path(), "borrower");
    let signer =
        LocalSigner::from_pem_files(&ours.signer_key, &ours.signer_pem, &[]).expect("signer");
    let second = dir.path().join("then-inkseal.pdf");
    let o = options("Borrower", Placement::Field("Borrower".into()));
    sign_file(&first, &second, &o, &signer).expect("sign");

    let report = inkseal_verify(&second, &[&theirs.ca_pem, &ours.ca_pem]);
    assert!(report.all_ok(), "{report:#?}");
    let ph = pyhanko_validate_with_roots(&second, &[&theirs.ca_pem, &ours.ca_pem]);
    assert!(ph.all_valid(), "pyHanko: {}\n{}", ph.stdout, ph.stderr);
    assert_eq!(ph.signatures.len(), 2, "{}", ph.stdout);
    let ps = pdfsig(&second);
    assert!(ps.all_signatures_valid(), "pdfsig: {}", ps.stdout);
}

#[test]
fn pyhanko_cannot_judge_a_new_field_after_a_signature_on_a_direct_kid_document() {
    let dir = tempfile::tempdir().expect("tempdir");
    let input = direct_kid_contract(dir.path(), 3);
    let pki = openssl_p256_pki(dir.path(), "counterparty");
    let first = dir.path().join("first.pdf");
    pyhanko_sign(&input, &first, &pki.signer_key, &pki.signer_pem, "Sig1");
    let second = dir.path().join("second.pdf");
    pyhanko_sign(&first, &second, &pki.signer_key, &pki.signer_pem, "Sig2");
    let ph = pyhanko_validate(&second, &pki.ca_pem);
    assert!(
        !ph.all_valid() && ph.stderr.contains("Array contains direct objects"),
        "pyHanko now judges revisions after a direct kid: test inkseal's new-field \
         signatures after a pyHanko one with it too\n{}\n{}",
        ph.stdout,
        ph.stderr
    );
    // inkseal judges pyHanko's own second signature as allowed.
    let report = inkseal_verify(&second, &[&pki.ca_pem]);
    assert!(report.all_ok(), "{report:#?}");
    assert_eq!(
        report.signatures[0].changes,
        Some(Changes::SignaturesAndForms)
    );
}
