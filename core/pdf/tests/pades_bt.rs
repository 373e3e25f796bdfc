//! PAdES B-T: a signature time-stamp over the signature value, for SM2 and P-256, and what
//! the verifier makes of it (trusted time, certificate validity at that time, tampering).
#![allow(clippy::unwrap_used)]

use inkseal_pdf::cms::SignatureAlgorithm;
use inkseal_pdf::sign::{SignOptions, prepare};
use inkseal_pdf::signer::{LocalSigner, Signer};
use inkseal_pdf::tsp::{IssueParams, TimeStampToken, check_reply, granted_reply, issue_token};
use inkseal_pdf::verify::{VerifyOptions, verify};
use inkseal_pki::{
    CaKey, CertificatePurpose, EndEntity, IssuerKey, P256CaKey, issue_end_entity, self_signed_ca,
};

const DAY: u64 = 86_400;
/// 2026-06-01T00:00:00Z: when the (short-lived) signer certificates are issued.
const ISSUED: u64 = 1_780_272_000;

struct Pki {
    signer: LocalSigner,
    tsa_key: Box<dyn IssuerKey>,
    tsa_chain: Vec<Vec<u8>>,
    anchors: Vec<Vec<u8>>,
}

fn certify(
    ca: &impl IssuerKey,
    root: &[u8],
    key: &dyn IssuerKey,
    cn: &str,
    purpose: CertificatePurpose,
    days: u32,
) -> Vec<u8> {
    issue_end_entity(
        ca,
        root,
        &EndEntity {
            subject_public_key_info: key.subject_public_key_info().unwrap(),
            common_name: cn,
            purpose,
        },
        &[0x33; 16],
        days,
        ISSUED,
    )
    .unwrap()
}

/// A root, a signer certificate valid for one day from [`ISSUED`], and a TSA.
fn pki(suite: SignatureAlgorithm) -> Pki {
    match suite {
        SignatureAlgorithm::Sm2Sm3 => {
            let ca = CaKey::generate();
            let root = self_signed_ca(&ca, "B-T test root SM2", 3650, ISSUED - DAY).unwrap();
            let user = CaKey::generate();
            let cert = certify(
                &ca,
                &root,
                &user,
                "Signer",
                CertificatePurpose::DocumentSigning,
                1,
            );
            let tsa = CaKey::generate();
            let tsa_cert = certify(
                &ca,
                &root,
                &tsa,
                "TSA",
                CertificatePurpose::TimeStamping,
                3000,
            );
            Pki {
                signer: LocalSigner::from_der(&user.to_pkcs8_der().unwrap(), vec![cert]).unwrap(),
                tsa_key: Box::new(tsa),
                tsa_chain: vec![tsa_cert],
                anchors: vec![root],
            }
        }
        SignatureAlgorithm::EcdsaP256Sha256 => {
            let ca = P256CaKey::try_generate().unwrap();
            let root = self_signed_ca(&ca, "B-T test root P-256", 3650, ISSUED - DAY).unwrap();
            let user = P256CaKey::try_generate().unwrap();
            let cert = certify(
                &ca,
                &root,
                &user,
                "Signer",
                CertificatePurpose::DocumentSigning,
                1,
            );
            let tsa = P256CaKey::try_generate().unwrap();
            let tsa_cert = certify(
                &ca,
                &root,
                &tsa,
                "TSA",
                CertificatePurpose::TimeStamping,
                3000,
            );
            Pki {
                signer: LocalSigner::from_der(&user.to_pkcs8_der().unwrap(), vec![cert]).unwrap(),
                tsa_key: Box::new(tsa),
                tsa_chain: vec![tsa_cert],
                anchors: vec![root],
            }
        }
    }
}

/// Sign the minimal PDF at `signed_at` with a signature time-stamp at `stamped_at`.
fn sign_b_t(pki: &Pki, signed_at: u64, stamped_at: u64) -> Vec<u8> {
    let input = inkseal_pdf::testing::minimal_pdf();
    let mut options = SignOptions::new(signed_at);
    options.time_stamped = true;
    let prepared = prepare(
        &input,
        &options,
        pki.signer.algorithm(),
        pki.signer.certificate_chain(),
    )
    .unwrap();
    let signature = pki.signer.sign(prepared.to_be_signed()).unwrap();
    let request = prepared
        .time_stamp_request(&signature, &[0x5a; 16])
        .unwrap();
    let token = issue_token(
        &request,
        &pki.tsa_chain,
        &IssueParams {
            policy: const_oid::ObjectIdentifier::new_unwrap("1.3.6.1.4.1.32473.1"),
            serial: &[1],
            gen_time_unix_millis: stamped_at * 1000,
            accuracy_millis: None,
        },
        |tbs| pki.tsa_key.sign_to_der(tbs),
    )
    .unwrap();
    let token = check_reply(&request, &granted_reply(&token).unwrap()).unwrap();
    let tail = prepared.finish_with_time_stamp(&signature, &token).unwrap();
    [input, tail].concat()
}

fn options(pki: &Pki, at: u64) -> VerifyOptions {
    VerifyOptions {
        trust_anchors: pki.anchors.clone(),
        at_unix: Some(at),
        ..VerifyOptions::default()
    }
}

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
