//! PAdES B-T: a signature time-stamp over the signature value, for SM2 and P-256, and what
//! the verifier makes of it (trusted time, certificate validity at that time, tampering).
#![allow(clippy::unwrap_used)]

use inkseal_pdf::cms::SignatureAlgorithm;
use inkseal_pdf::sign::{SignOptions, prepare};
use inkseal_pdf::signer::Signer;
use inkseal_pdf::tsp::{IssueParams, TimeStampToken, issue_token};
use inkseal_pdf::verify::{VerifyOptions, verify};

mod ltv_support;

use ltv_support::{DAY, ISSUED, options, pki, sign_b_t};

#[test]
fn a_time_stamp_keeps_a_signature_valid_after_its_certificate_expires() {
    for suite in [
        SignatureAlgorithm::Sm2Sm3,
        SignatureAlgorithm::EcdsaP256Sha256,
    ] {
        let pki = pki(suite);
        let stamped_at = ISSUED + 3600;
        let pdf = sign_b_t(&pki, ISSUED + 3500, stamped_at);
        // A year later the signer certificate (one day) has long expired.
        let later = ISSUED + 365 * DAY;
        let report = verify(&pdf, &options(&pki, later)).unwrap();
        let sig = &report.signatures[0];
        assert!(sig.is_ok(), "{suite:?}: {:?}", sig.problems);
        let ts = sig.time_stamp.as_ref().expect("time-stamp reported");
        assert_eq!(ts.time_unix_millis, stamped_at * 1000);
        assert!(ts.valid);
        assert_eq!(ts.trusted, Some(true));
        assert_eq!(ts.tsa, "CN=TSA");
        assert_eq!(sig.chain_checked_at, Some(stamped_at));

        // Without trust anchors nothing is judged trusted, so nothing moves the check time.
        let untrusted = VerifyOptions {
            trust_anchors: Vec::new(),
            at_unix: Some(later),
            ..VerifyOptions::default()
        };
        let sig = &verify(&pdf, &untrusted).unwrap().signatures[0];
        assert_eq!(sig.time_stamp.as_ref().map(|t| t.trusted), Some(None));
        assert_eq!(sig.chain_checked_at, Some(later));
    }
}

#[test]
fn a_time_stamp_after_the_certificate_expired_does_not_rescue_it() {
    let pki = pki(SignatureAlgorithm::EcdsaP256Sha256);
    // Stamped two days after issue: the one-day certificate had expired by then.
    let pdf = sign_b_t(&pki, ISSUED + 2 * DAY, ISSUED + 2 * DAY);
    let report = verify(&pdf, &options(&pki, ISSUED + 3 * DAY)).unwrap();
    let sig = &report.signatures[0];
    assert!(!sig.is_ok());
    assert_eq!(sig.trusted, Some(false));
    assert!(
        sig.problems.iter().any(|p| p.contains("expired")),
        "{:?}",
        sig.problems
    );
}

#[test]
fn without_a_time_stamp_an_expired_certificate_fails() {
    let pki = pki(SignatureAlgorithm::Sm2Sm3);
    let input = inkseal_pdf::testing::minimal_pdf();
    let tail =
        inkseal_pdf::sign::sign(&input, &SignOptions::new(ISSUED + 60), &pki.signer).unwrap();
    let pdf = [input, tail].concat();
    let report = verify(&pdf, &options(&pki, ISSUED + 365 * DAY)).unwrap();
    let sig = &report.signatures[0];
    assert!(sig.time_stamp.is_none());
    assert_eq!(sig.trusted, Some(false));
    // At a time within its validity it is fine.
    assert!(
        verify(&pdf, &options(&pki, ISSUED + 60))
            .unwrap()
            .signatures[0]
            .is_ok()
    );
}

#[test]
fn a_token_for_another_signature_is_refused_when_embedding() {
    let pki = pki(SignatureAlgorithm::EcdsaP256Sha256);
    let input = inkseal_pdf::testing::minimal_pdf();
    let options = SignOptions::new(ISSUED);
    let prepared = prepare(
        &input,
        &options,
        pki.signer.algorithm(),
        pki.signer.certificate_chain(),
    )
    .unwrap();
    let signature = pki.signer.sign(prepared.to_be_signed()).unwrap();
    let request = prepared
        .time_stamp_request(b"another signature", &[1; 8])
        .unwrap();
    let token = issue_token(
        &request,
        &pki.tsa_chain,
        &IssueParams {
            policy: const_oid::ObjectIdentifier::new_unwrap("1.3.6.1.4.1.32473.1"),
            serial: &[2],
            gen_time_unix_millis: ISSUED * 1000,
            accuracy_millis: None,
        },
        |tbs| pki.tsa_key.sign_to_der(tbs),
    )
    .unwrap();
    let token = TimeStampToken::parse(&token).unwrap();
    assert!(matches!(
        prepared.finish_with_time_stamp(&signature, &token),
        Err(inkseal_pdf::PdfError::TimeStamp(
            inkseal_pdf::tsp::TspError::ImprintMismatch
        ))
    ));
}

#[test]
fn a_tampered_time_stamp_is_reported() {
    let pki = pki(SignatureAlgorithm::Sm2Sm3);
    let pdf = sign_b_t(&pki, ISSUED + 10, ISSUED + 20);
    // The token's genTime digits are in the hex /Contents: change one digit of the time.
    let gen_time_hex = hex::encode_upper(b"20260601000020Z");
    let at = pdf
        .windows(gen_time_hex.len())
        .position(|w| w == gen_time_hex.as_bytes())
        .expect("genTime in /Contents");
    let mut tampered = pdf.clone();
    // "...20Z" -> "...21Z": '0' (0x30) -> '1' (0x31); the low hex digit of that byte.
    let digit = at + gen_time_hex.len() - 3;
    tampered[digit] = b'1';
    let report = verify(&tampered, &options(&pki, ISSUED + 30)).unwrap();
    let sig = &report.signatures[0];
    assert!(!sig.is_ok());
    assert!(
        sig.problems
            .iter()
            .any(|p| p.starts_with("signature time-stamp")),
        "{:?}",
        sig.problems
    );
    // The signature itself is untouched: only the unsigned token changed.
    assert!(sig.signature_valid);
}
