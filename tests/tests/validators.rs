//! The independent validators themselves work: each accepts a good signature and rejects a
//! tampered one, on PDFs signed by pyHanko (ECDSA P-256) and by BouncyCastle (SM2).

use inkseal_tests::validators::{
    Modifications, bouncycastle_check, make_sm2_sample, openssl_p256_pki, pdfsig, pyhanko_sign,
    pyhanko_sign_with, pyhanko_validate, qpdf_check, tamper_signed_bytes,
};
use std::path::{Path, PathBuf};

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/fixtures/loan-contract-zh.pdf")
}

#[test]
fn p256_signature_by_pyhanko_passes_every_validator() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pki = openssl_p256_pki(dir.path(), "p256");
    let signed = dir.path().join("signed.pdf");
    pyhanko_sign(
        &fixture(),
        &signed,
        &pki.signer_key,
        &pki.signer_pem,
        "Sig1",
    );

    let bc = bouncycastle_check(&signed, &[&pki.ca_pem]);
    assert!(bc.all_valid(), "{bc:?}");
    assert_eq!(bc.signatures.len(), 1);
    let sig = &bc.signatures[0];
    assert_eq!(
        sig.signature_algorithm.as_deref(),
        Some("ECDSA-with-SHA256")
    );
    assert_eq!(sig.digest_algorithm.as_deref(), Some("SHA-256"));
    assert_eq!(sig.chain_trusted, Some(true));
    assert!(sig.covers_whole_file);
    assert_eq!(sig.signer.as_deref(), Some("CN=p256 Test Signer,O=inkseal"));
    let len = std::fs::metadata(&signed).expect("signed file").len();
    let [a, b, c, d] = sig.byte_range.expect("byte range");
    assert_eq!((a, c + d), (0, len));
    assert!(b < c);

    let ph = pyhanko_validate(&signed, &pki.ca_pem);
    assert!(ph.all_valid(), "{ph:?}");
    assert_eq!(ph.signatures.len(), 1);
    assert_eq!(ph.signatures[0].field, "Sig1");
    assert!(ph.signatures[0].sound);
    assert_eq!(ph.signatures[0].trusted, Some(true));
    assert_eq!(
        ph.signatures[0].modifications,
        Some(Modifications::Untouched)
    );

    let ps = pdfsig(&signed);
    assert!(ps.all_signatures_valid(), "{ps:?}");
    assert_eq!(ps.signatures[0].field.as_deref(), Some("Sig1"));
    assert_eq!(
        ps.signatures[0].signature_type.as_deref(),
        Some("ETSI.CAdES.detached")
    );
    assert_eq!(ps.signatures[0].total_document_signed, Some(true));
    assert_eq!(ps.signatures[0].signed_ranges, vec![(a, b), (c, c + d)]);

    qpdf_check(&signed).expect("qpdf finds no problem");
}

#[test]
fn p256_tampered_signature_is_rejected_by_every_validator() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pki = openssl_p256_pki(dir.path(), "p256");
    let signed = dir.path().join("signed.pdf");
    let tampered = dir.path().join("tampered.pdf");
    pyhanko_sign(
        &fixture(),
        &signed,
        &pki.signer_key,
        &pki.signer_pem,
        "Sig1",
    );
    tamper_signed_bytes(&signed, &tampered);

    let bc = bouncycastle_check(&tampered, &[&pki.ca_pem]);
    assert!(!bc.all_valid());
    assert_eq!(bc.exit_code, 1);
    assert!(!bc.signatures[0].signature_valid, "{bc:?}");
    let error = bc.signatures[0].error.as_deref().unwrap_or("");
    assert!(error.contains("message-digest"), "{error}");

    let ph = pyhanko_validate(&tampered, &pki.ca_pem);
    assert!(!ph.all_valid());
    assert_ne!(ph.exit_code, 0);
    assert!(!ph.signatures[0].sound && !ph.signatures[0].valid, "{ph:?}");

    let ps = pdfsig(&tampered);
    assert!(!ps.all_signatures_valid());
    assert_eq!(
        ps.signatures[0].signature_validation.as_deref(),
        Some("Digest Mismatch.")
    );

    // The flipped bit is inside a comment: the file is still well formed, so qpdf has no
    // signature opinion; its own rejection is tested on a broken file below.
    qpdf_check(&tampered).expect("still well-formed");
}

#[test]
fn p256_signer_from_another_root_is_untrusted() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pki = openssl_p256_pki(dir.path(), "p256");
    let other = openssl_p256_pki(dir.path(), "other");
    let signed = dir.path().join("signed.pdf");
    pyhanko_sign(
        &fixture(),
        &signed,
        &pki.signer_key,
        &pki.signer_pem,
        "Sig1",
    );

    let bc = bouncycastle_check(&signed, &[&other.ca_pem]);
    assert_eq!(bc.exit_code, 1);
    assert!(bc.signatures[0].signature_valid);
    assert_eq!(bc.signatures[0].chain_trusted, Some(false), "{bc:?}");
    // Without anchors only the signature is judged.
    let bc = bouncycastle_check(&signed, &[]);
    assert!(bc.all_valid(), "{bc:?}");
    assert_eq!(bc.signatures[0].chain_trusted, None);

    let ph = pyhanko_validate(&signed, &other.ca_pem);
    assert!(!ph.all_valid());
    assert!(ph.signatures[0].sound);
    assert_eq!(ph.signatures[0].trusted, Some(false), "{ph:?}");
}

#[test]
fn second_signature_in_an_incremental_update_is_seen_by_every_validator() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pki = openssl_p256_pki(dir.path(), "p256");
    let once = dir.path().join("once.pdf");
    let twice = dir.path().join("twice.pdf");
    pyhanko_sign(&fixture(), &once, &pki.signer_key, &pki.signer_pem, "Sig1");
    pyhanko_sign(
        &once,
        &twice,
        &pki.signer_key,
        &pki.signer_pem,
        "1/50,50,250,100/Sig2",
    );

    let bc = bouncycastle_check(&twice, &[&pki.ca_pem]);
    assert!(bc.all_valid(), "{bc:?}");
    let whole: Vec<bool> = bc.signatures.iter().map(|s| s.covers_whole_file).collect();
    assert_eq!(whole, [false, true]);

    let ph = pyhanko_validate(&twice, &pki.ca_pem);
    assert!(ph.all_valid(), "{ph:?}");
    let fields: Vec<&str> = ph.signatures.iter().map(|s| s.field.as_str()).collect();
    assert_eq!(fields, ["Sig1", "Sig2"]);
    assert_eq!(
        ph.signatures[0].modifications,
        Some(Modifications::FormFilling)
    );
    assert_eq!(
        ph.signatures[1].modifications,
        Some(Modifications::Untouched)
    );

    let ps = pdfsig(&twice);
    assert!(ps.all_signatures_valid(), "{ps:?}");
    let total: Vec<Option<bool>> = ps
        .signatures
        .iter()
        .map(|s| s.total_document_signed)
        .collect();
    assert_eq!(total, [Some(false), Some(true)]);
    qpdf_check(&twice).expect("qpdf finds no problem");
}

#[test]
fn sm2_signature_by_bouncycastle_is_accepted_and_tampering_rejected() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sample = make_sm2_sample(dir.path());

    let bc = bouncycastle_check(&sample.pdf, &[&sample.ca_pem]);
    assert!(bc.all_valid(), "{bc:?}");
    let sig = &bc.signatures[0];
    assert_eq!(sig.signature_algorithm.as_deref(), Some("SM2-with-SM3"));
    assert_eq!(sig.digest_algorithm.as_deref(), Some("SM3"));
    assert_eq!(sig.chain_trusted, Some(true));
    assert!(sig.covers_whole_file);
    qpdf_check(&sample.pdf).expect("the hand-made PDF is well formed");

    // pdfsig (NSS) finds the signature but knows no SM3, so it must not call it valid.
    let ps = pdfsig(&sample.pdf);
    assert_eq!(ps.signatures.len(), 1, "{ps:?}");
    assert_eq!(ps.signatures[0].total_document_signed, Some(true));
    assert!(!ps.all_signatures_valid());

    let tampered = dir.path().join("tampered.pdf");
    tamper_signed_bytes(&sample.pdf, &tampered);
    let bc = bouncycastle_check(&tampered, &[&sample.ca_pem]);
    assert_eq!(bc.exit_code, 1);
    assert!(!bc.signatures[0].signature_valid, "{bc:?}");

    // An SM2 signer is untrusted under a root that did not issue it.
    let other = make_sm2_sample(&dir.path().join("other"));
    let bc = bouncycastle_check(&sample.pdf, &[&other.ca_pem]);
    assert_eq!(bc.signatures[0].chain_trusted, Some(false), "{bc:?}");
}

#[test]
fn unsigned_or_broken_files_are_not_passed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pki = openssl_p256_pki(dir.path(), "p256");

    // No signature is not "every signature valid".
    let bc = bouncycastle_check(&fixture(), &[]);
    assert!(!bc.all_valid() && bc.signatures.is_empty(), "{bc:?}");
    assert!(!pyhanko_validate(&fixture(), &pki.ca_pem).all_valid());
    assert!(!pdfsig(&fixture()).all_signatures_valid());
    assert_eq!(
        bouncycastle_check(&dir.path().join("missing.pdf"), &[]).exit_code,
        2
    );

    // A wrong stream /Length is repaired by qpdf with a warning, which must surface as Err.
    let sample = make_sm2_sample(dir.path());
    let mut bytes = std::fs::read(&sample.pdf).expect("sample");
    let at = bytes
        .windows(10)
        .position(|w| w == b"/Length 18")
        .expect("the sample's content stream");
    bytes[at + 9] = b'7';
    let broken = dir.path().join("broken.pdf");
    std::fs::write(&broken, bytes).expect("write");
    let err = qpdf_check(&broken).expect_err("qpdf warns");
    assert!(
        err.contains("exited Some(3)") && err.contains("WARNING"),
        "{err}"
    );
}

/// pyHanko time-stamps its signature at the inkseal server's TSA: BouncyCastle validates the
/// token inside the signature, our verifier reads pyHanko's token as trusted, and a token
/// whose bytes changed is refused by both.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pyhanko_time_stamps_at_our_tsa_and_both_verifiers_agree() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pki = openssl_p256_pki(dir.path(), "p256");
    let server = inkseal_tests::start_server(&dir.path().join("server")).await;
    let signed = dir.path().join("signed.pdf");
    let tsa = format!("{}/v1/tsa", server.url());
    pyhanko_sign_with(
        &fixture(),
        &signed,
        &pki.signer_key,
        &pki.signer_pem,
        "Sig1",
        &["--timestamp-url", &tsa],
    );
    let bc = bouncycastle_check(&signed, &[&pki.ca_pem]);
    assert!(bc.all_valid(), "{}", bc.stdout);
    assert_eq!(
        bc.signatures[0].timestamp_valid,
        Some(true),
        "{}",
        bc.stdout
    );

    let mut anchors = vec![
        inkseal_pdf::signer::parse_certificate_chain(&std::fs::read(&pki.ca_pem).expect("ca"))
            .expect("pem")
            .remove(0),
    ];
    anchors.extend(
        server
            .service()
            .root_certificates()
            .into_iter()
            .map(<[u8]>::to_vec),
    );
    let data = std::fs::read(&signed).expect("read");
    let options = inkseal_pdf::verify::VerifyOptions {
        trust_anchors: anchors,
        at_unix: Some(inkseal_tests::now_unix()),
        ..Default::default()
    };
    let report = inkseal_pdf::verify::verify(&data, &options).expect("verify");
    let sig = &report.signatures[0];
    assert!(sig.is_ok(), "{:?}", sig.problems);
    let ts = sig.time_stamp.as_ref().expect("pyHanko's time-stamp");
    assert!(ts.valid && ts.trusted == Some(true), "{ts:?}");
    assert_eq!(
        bc.signatures[0].timestamp_time_ms,
        Some(ts.time_unix_millis)
    );

    // Change one byte of the token's TSTInfo (its policy OID, in the hex /Contents).
    let policy = "2B0601040181FD5998";
    let hex_policy = {
        // 1.3.6.1.4.1.32473.3161.1 as DER content bytes, upper-case hex as in /Contents.
        let der = const_oid::ObjectIdentifier::new_unwrap("1.3.6.1.4.1.32473.3161.1");
        hex::encode_upper(der.as_bytes())
    };
    assert!(hex_policy.starts_with(policy), "{hex_policy}");
    let at = data
        .windows(hex_policy.len())
        .position(|w| w == hex_policy.as_bytes())
        .expect("the policy OID in /Contents");
    let mut tampered = data.clone();
    let last = at + hex_policy.len() - 1;
    tampered[last] = if tampered[last] == b'2' { b'3' } else { b'2' };
    let tampered_path = dir.path().join("tampered.pdf");
    std::fs::write(&tampered_path, &tampered).expect("write");
    let bc = bouncycastle_check(&tampered_path, &[&pki.ca_pem]);
    assert_eq!(
        bc.signatures[0].timestamp_valid,
        Some(false),
        "{}",
        bc.stdout
    );
    let sig = &inkseal_pdf::verify::verify(&tampered, &options)
        .expect("verify")
        .signatures[0];
    assert!(!sig.is_ok());
    assert!(
        sig.problems
            .iter()
            .any(|p| p.starts_with("signature time-stamp")),
        "{:?}",
        sig.problems
    );
    server.shutdown().await.expect("shutdown");
}
