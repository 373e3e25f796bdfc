//! PAdES B-LT and B-LTA: the DSS with OCSP responses for every certificate on the signer's
//! and the TSA's paths, then a document time-stamp over it all; what the verifier makes of a
//! certificate that expired after signing, one revoked before the time-stamp, one revoked
//! after it, and missing data.
#![allow(clippy::unwrap_used)]

mod ltv_support;

use inkseal_pdf::Limits;
use inkseal_pdf::changes::{Changes, ModificationLevel};
use inkseal_pdf::cms::SignatureAlgorithm;
use inkseal_pdf::ltv::{ValidationData, add_dss, prepare_document_time_stamp, validation_needs};
use inkseal_pdf::signer::Signer;
use inkseal_pdf::verify::verify;
use inkseal_pki::{CertId, CertIdHash, CertificateStatus, RevocationReason, build_ocsp_response};
use ltv_support::{DAY, ISSUED, Pki, options, pki, sign_b_t, stamp};

const SIGNED: u64 = ISSUED + 3500;
const STAMPED: u64 = ISSUED + 3600;
/// When the long-term data is fetched (after the signature time-stamp).
const FETCHED: u64 = ISSUED + 3700;
/// A year later: the one-day signer certificate has long expired.
const LATER: u64 = ISSUED + 365 * DAY;

/// The root's OCSP responses for every link of every path `validation_needs` lists, each
/// certificate with the status `status_of` gives it.
fn validation_data(
    pki: &Pki,
    pdf: &[u8],
    status_of: impl Fn(&[u8]) -> CertificateStatus,
) -> ValidationData {
    let paths = validation_needs(pdf, &pki.anchors, &Limits::default()).unwrap();
    let mut data = ValidationData::default();
    for path in &paths {
        data.certificates.extend(path.certificates.iter().cloned());
        for (cert, issuer) in path.revocation_pairs() {
            let id = CertId::for_certificate(cert, issuer, CertIdHash::Sha256).unwrap();
            data.ocsp_responses.push(
                build_ocsp_response(
                    &*pki.ca_key,
                    issuer,
                    &[(id, status_of(cert))],
                    FETCHED,
                    7 * DAY,
                    None,
                )
                .unwrap(),
            );
        }
    }
    data
}

fn b_lt(pki: &Pki, status_of: impl Fn(&[u8]) -> CertificateStatus) -> Vec<u8> {
    let pdf = sign_b_t(pki, SIGNED, STAMPED);
    let data = validation_data(pki, &pdf, status_of);
    let tail = add_dss(&pdf, &data, &Limits::default()).unwrap();
    [pdf, tail].concat()
}

fn b_lta(pki: &Pki, pdf: Vec<u8>, at: u64) -> Vec<u8> {
    let prepared = prepare_document_time_stamp(
        &pdf,
        SignatureAlgorithm::EcdsaP256Sha256,
        None,
        &Limits::default(),
    )
    .unwrap();
    let token = stamp(pki, &prepared.time_stamp_request(&[7; 16]).unwrap(), at);
    let tail = prepared.finish(&token).unwrap();
    [pdf, tail].concat()
}

#[test]
fn needs_name_the_signer_and_tsa_paths() {
    let pki = pki(SignatureAlgorithm::Sm2Sm3);
    let pdf = sign_b_t(&pki, SIGNED, STAMPED);
    let paths = validation_needs(&pdf, &pki.anchors, &Limits::default()).unwrap();
    assert_eq!(paths.len(), 2);
    assert_eq!(paths[0].context, "signature \"Signature1\"");
    assert_eq!(paths[1].context, "time-stamp of \"Signature1\"");
    for path in &paths {
        assert_eq!(path.certificates.len(), 2);
        assert_eq!(path.certificates[1], pki.anchors[0]);
        assert_eq!(path.revocation_pairs().count(), 1);
    }
    assert_eq!(paths[1].certificates[0], pki.tsa_chain[0]);
    // Without the right anchor there is no path to gather data for.
    let other =
        inkseal_pki::self_signed_ca(&inkseal_pki::CaKey::generate(), "x", 10, ISSUED).unwrap();
    assert!(validation_needs(&pdf, &[other], &Limits::default()).is_err());
}

#[test]
fn b_lt_and_b_lta_stay_valid_after_the_signer_certificate_expires() {
    for suite in [
        SignatureAlgorithm::Sm2Sm3,
        SignatureAlgorithm::EcdsaP256Sha256,
    ] {
        let pki = pki(suite);
        let lt = b_lt(&pki, |_| CertificateStatus::Good);
        let report = verify(&lt, &options(&pki, LATER)).unwrap();
        assert_eq!(report.signatures.len(), 1);
        let sig = &report.signatures[0];
        assert!(sig.is_ok(), "{suite:?}: {:?}", sig.problems);
        assert_eq!(
            sig.changes,
            Some(Changes::SignaturesAndForms),
            "the DSS is allowed"
        );
        assert_eq!(sig.modification_level, Some(ModificationLevel::LtaUpdates));
        let revocation = sig.revocation.as_ref().expect("judged");
        assert!(revocation.ltv, "{revocation:?}");
        assert_eq!(revocation.at_unix, STAMPED);
        assert!(revocation.missing.is_empty());

        // A second DSS update with the same data adds nothing.
        let again = validation_data(&pki, &lt, |_| CertificateStatus::Good);
        assert!(add_dss(&lt, &again, &Limits::default()).is_err());

        let lta = b_lta(&pki, lt, FETCHED + 60);
        let report = verify(&lta, &options(&pki, LATER)).unwrap();
        assert!(report.all_ok(), "{suite:?}: {report:#?}");
        assert_eq!(report.signatures.len(), 2);
        let doc_ts = &report.signatures[1];
        assert!(doc_ts.document_time_stamp);
        assert_eq!(doc_ts.sub_filter.as_deref(), Some("ETSI.RFC3161"));
        assert_eq!(doc_ts.signer.as_deref(), Some("CN=TSA"));
        let ts = doc_ts.time_stamp.as_ref().expect("token");
        assert_eq!(ts.time_unix_millis, (FETCHED + 60) * 1000);
        assert!(ts.valid && ts.trusted == Some(true));
        // A document time-stamp is long-term maintenance too, not signing.
        assert_eq!(
            report.signatures[0].modification_level,
            Some(ModificationLevel::LtaUpdates),
            "{:?}",
            report.signatures[0].level_decided_by
        );
        assert_eq!(
            report.signatures[1].modification_level,
            Some(ModificationLevel::None)
        );
        // The signature is still judged at its own time-stamp, with its data.
        assert!(
            report.signatures[0]
                .revocation
                .as_ref()
                .is_some_and(|r| r.ltv)
        );
    }
}

#[test]
fn revoked_before_the_time_stamp_fails_after_it_does_not() {
    let pki = pki(SignatureAlgorithm::EcdsaP256Sha256);
    let signer = pki.signer.certificate_chain()[0].clone();
    for (revoked_at, valid) in [(STAMPED - 60, false), (STAMPED + 30, true)] {
        let pdf = b_lt(&pki, |cert| {
            if cert == signer.as_slice() {
                CertificateStatus::Revoked {
                    at_unix: revoked_at,
                    reason: Some(RevocationReason::KeyCompromise),
                }
            } else {
                CertificateStatus::Good
            }
        });
        let report = verify(&pdf, &options(&pki, LATER)).unwrap();
        let sig = &report.signatures[0];
        assert_eq!(
            sig.is_ok(),
            valid,
            "revoked at {revoked_at}: {:?}",
            sig.problems
        );
        if !valid {
            assert!(
                sig.problems.iter().any(|p| p.contains("was revoked")),
                "{:?}",
                sig.problems
            );
        }
    }
}

#[test]
fn without_long_term_data_the_report_says_what_is_missing() {
    let pki = pki(SignatureAlgorithm::Sm2Sm3);
    let pdf = sign_b_t(&pki, SIGNED, STAMPED);
    let sig = &verify(&pdf, &options(&pki, ISSUED + 2 * 3600))
        .unwrap()
        .signatures[0];
    assert!(
        sig.is_ok(),
        "B-T alone is valid while the certificate is: {:?}",
        sig.problems
    );
    let revocation = sig.revocation.as_ref().expect("judged");
    assert!(!revocation.ltv);
    assert_eq!(revocation.missing.len(), 2, "{revocation:?}");
    assert!(
        revocation
            .missing
            .iter()
            .any(|m| m.starts_with("CN=Signer"))
    );
    assert!(revocation.missing.iter().any(|m| m.starts_with("CN=TSA")));
}

#[test]
fn a_response_signed_by_another_key_or_before_the_time_stamp_does_not_count() {
    let pki = pki(SignatureAlgorithm::EcdsaP256Sha256);
    let pdf = sign_b_t(&pki, SIGNED, STAMPED);
    let paths = validation_needs(&pdf, &pki.anchors, &Limits::default()).unwrap();
    let impostor = inkseal_pki::P256CaKey::try_generate().unwrap();
    let mut data = ValidationData::default();
    for path in &paths {
        for (cert, issuer) in path.revocation_pairs() {
            let id = CertId::for_certificate(cert, issuer, CertIdHash::Sha1).unwrap();
            // Signed by another key (the issuer's certificate embedded, to no avail)...
            let forged = build_ocsp_response(
                &impostor,
                &inkseal_pki::self_signed_ca(&impostor, "inkseal test root", 10, ISSUED).unwrap(),
                &[(id.clone(), CertificateStatus::Good)],
                FETCHED,
                DAY,
                None,
            )
            .unwrap();
            // ...or genuine but produced long before the time-stamp.
            let stale = build_ocsp_response(
                &*pki.ca_key,
                issuer,
                &[(id, CertificateStatus::Good)],
                STAMPED - DAY,
                7 * DAY,
                None,
            )
            .unwrap();
            data.ocsp_responses.extend([forged, stale]);
        }
    }
    let tail = add_dss(&pdf, &data, &Limits::default()).unwrap();
    let pdf = [pdf, tail].concat();
    let sig = &verify(&pdf, &options(&pki, LATER)).unwrap().signatures[0];
    let revocation = sig.revocation.as_ref().expect("judged");
    assert!(!revocation.ltv, "{revocation:?}");
    assert_eq!(revocation.missing.len(), 2);
}

#[test]
fn a_document_time_stamp_over_other_bytes_is_refused_and_tampering_is_found() {
    let pki = pki(SignatureAlgorithm::EcdsaP256Sha256);
    let lt = b_lt(&pki, |_| CertificateStatus::Good);
    let prepared = prepare_document_time_stamp(
        &lt,
        SignatureAlgorithm::EcdsaP256Sha256,
        None,
        &Limits::default(),
    )
    .unwrap();
    let other = inkseal_pdf::tsp::TimeStampRequest::new(
        SignatureAlgorithm::EcdsaP256Sha256,
        &[1; 32],
        Some(&[1; 8]),
        None,
    )
    .unwrap();
    let token = stamp(&pki, &other, FETCHED);
    assert!(matches!(
        prepared.finish(&token),
        Err(inkseal_pdf::PdfError::TimeStamp(
            inkseal_pdf::tsp::TspError::ImprintMismatch
        ))
    ));
    // A byte of the DSS changed after the document time-stamp: the time-stamp fails.
    let lta = b_lta(&pki, lt.clone(), FETCHED);
    let mut tampered = lta.clone();
    // The DSS dictionary's /Type, in the revision the document time-stamp covers.
    let at = lta
        .windows(10)
        .position(|w| w == b"/Type /DSS")
        .expect("the DSS");
    tampered[at + 9] = b'T';
    let report = verify(&tampered, &options(&pki, LATER)).unwrap();
    assert!(!report.signatures[1].is_ok());
}

/// The shared e-policy, certified (form filling and signing allowed) by an SM2 signer, signed
/// again by a P-256 signer, both B-T; then one DSS for both signatures and both TSAs, then a
/// document time-stamp: every signature stays valid and long-term verifiable.
#[test]
fn a_certified_e_policy_with_two_signers_reaches_b_lta() {
    use inkseal_pdf::sign::{Certification, SignOptions};
    let fixture = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/fixtures/e-policy-zh.pdf");
    let input = std::fs::read(fixture).expect("the shared e-policy");
    let sm2 = pki(SignatureAlgorithm::Sm2Sm3);
    let p256 = pki(SignatureAlgorithm::EcdsaP256Sha256);
    let mut insurer = SignOptions::new(SIGNED);
    insurer.certify = Some(Certification::FormFillingAndSigning);
    insurer.field_name = Some("Insurer".into());
    let pdf = ltv_support::sign_b_t_with(&sm2, input, insurer, STAMPED);
    let mut holder = SignOptions::new(SIGNED + 60);
    holder.field_name = Some("PolicyHolder".into());
    let pdf = ltv_support::sign_b_t_with(&p256, pdf, holder, STAMPED + 60);

    let anchors = [sm2.anchors.clone(), p256.anchors.clone()].concat();
    let paths = validation_needs(&pdf, &anchors, &Limits::default()).unwrap();
    assert_eq!(paths.len(), 4, "two signatures, two signature time-stamps");
    let mut data = ValidationData::default();
    for path in &paths {
        let owner = if path.certificates.last() == sm2.anchors.first() {
            &sm2
        } else {
            &p256
        };
        data.certificates.extend(path.certificates.iter().cloned());
        for (cert, issuer) in path.revocation_pairs() {
            let id = CertId::for_certificate(cert, issuer, CertIdHash::Sha1).unwrap();
            data.ocsp_responses.push(
                build_ocsp_response(
                    &*owner.ca_key,
                    issuer,
                    &[(id, CertificateStatus::Good)],
                    FETCHED + 120,
                    7 * DAY,
                    None,
                )
                .unwrap(),
            );
        }
    }
    let tail = add_dss(&pdf, &data, &Limits::default()).unwrap();
    let lta = b_lta(&p256, [pdf, tail].concat(), FETCHED + 180);
    let mut opts = options(&sm2, LATER);
    opts.trust_anchors = anchors;
    let report = verify(&lta, &opts).unwrap();
    assert!(report.all_ok(), "{report:#?}");
    assert_eq!(report.signatures.len(), 3);
    assert_eq!(report.signatures[0].certification, Some(2));
    for sig in &report.signatures[..2] {
        let revocation = sig.revocation.as_ref().expect("judged");
        assert!(revocation.ltv, "{}: {revocation:?}", sig.field);
    }
    assert!(report.signatures[2].document_time_stamp);
}

/// A certification that permits no changes (DocMDP P=1) stays valid when the DSS is added
/// (B-LT): long-term validation data is maintenance (LTA updates), not a change to the
/// document, as PAdES and pyHanko have it. (inkseal's own signer adds no document time-stamp
/// after P=1: `prepare_document_time_stamp` refuses it as `Locked`, as any signature.)
#[test]
fn a_no_changes_certification_stays_valid_through_b_lt() {
    use inkseal_pdf::sign::{Certification, SignOptions};
    let pki = pki(SignatureAlgorithm::EcdsaP256Sha256);
    let fixture = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/fixtures/e-policy-zh.pdf");
    let input = std::fs::read(fixture).expect("the shared e-policy");
    let mut seal = SignOptions::new(SIGNED);
    seal.certify = Some(Certification::NoChanges);
    seal.field_name = Some("Seal".into());
    let pdf = ltv_support::sign_b_t_with(&pki, input, seal, STAMPED);
    let data = validation_data(&pki, &pdf, |_| CertificateStatus::Good);
    let tail = add_dss(&pdf, &data, &Limits::default()).unwrap();
    let lt = [pdf.as_slice(), &tail].concat();
    let report = verify(&lt, &options(&pki, LATER)).unwrap();
    assert!(report.all_ok(), "{report:#?}");
    let seal = &report.signatures[0];
    assert_eq!(seal.certification, Some(1));
    assert_eq!(seal.modification_level, Some(ModificationLevel::LtaUpdates));
    assert!(seal.revocation.as_ref().is_some_and(|r| r.ltv), "{seal:#?}");
    assert_eq!(
        prepare_document_time_stamp(
            &lt,
            SignatureAlgorithm::EcdsaP256Sha256,
            None,
            &Limits::default()
        )
        .err(),
        Some(inkseal_pdf::PdfError::Locked)
    );
}
