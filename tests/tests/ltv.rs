//! PAdES B-LTA on P-256 with the server's time-stamping authority and OCSP responder, checked
//! by pyHanko (which has no SM2), BouncyCastle, pdfsig and qpdf: the signer's own CA is made
//! here (the embedded CA issues P-256 certificates only to its services), its OCSP response
//! signed here by a delegated responder; the time-stamps, the TSA's OCSP response and the
//! P-256 root come from the server. pyHanko's ETSI validation processes run offline: B-LT
//! proves the signature now, B-LTA still after the signer's certificate expired.

use inkseal_pdf::Limits;
use inkseal_pdf::cms::SignatureAlgorithm;
use inkseal_pdf::ltv::{ValidationData, add_dss, prepare_document_time_stamp, validation_needs};
use inkseal_pdf::sign::{SignOptions, prepare};
use inkseal_pdf::signer::{LocalSigner, Signer};
use inkseal_pdf::tsp::{TimeStampRequest, TimeStampToken, check_reply};
use inkseal_pki::{
    CertId, CertIdHash, CertificatePurpose, CertificateStatus, EndEntity, IssuerKey, P256CaKey,
    RevocationPointers, build_ocsp_response, der_to_pem, issue_end_entity, ocsp_request,
    self_signed_ca,
};
use inkseal_server::RunningServer;
use inkseal_tests::validators::{
    AdesProcess, Modifications, bouncycastle_check, pdfsig, pyhanko_ades_validate,
    pyhanko_validate_offline, qpdf_check,
};
use inkseal_tests::{fixture, now_unix, post_der, start_server};

async fn post(server: &RunningServer, path: &str, content_type: &str, body: Vec<u8>) -> Vec<u8> {
    let answer_type = if path == "/v1/tsa" {
        "application/timestamp-reply"
    } else {
        "application/ocsp-response"
    };
    let (status, body) = post_der(server, path, content_type, body, answer_type).await;
    assert_eq!(status, 200, "{path}");
    body
}

async fn stamp(server: &RunningServer, request: &TimeStampRequest) -> TimeStampToken {
    let reply = post(
        server,
        "/v1/tsa",
        "application/timestamp-query",
        request.to_der().expect("der"),
    )
    .await;
    check_reply(request, &reply).expect("granted")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn p256_b_lta_passes_pyhanko_bouncycastle_pdfsig_and_qpdf() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let server = start_server(&d.join("server")).await;
    let server_root = server.service().root_certificates()[1].to_vec();

    // The signer's CA, here.
    let now = now_unix();
    let ca = P256CaKey::try_generate().expect("key");
    let root = self_signed_ca(&ca, "LTA test root P-256", 3650, now).expect("root");
    let user = P256CaKey::try_generate().expect("key");
    let cert = issue_end_entity(
        &ca,
        &root,
        &EndEntity {
            subject_public_key_info: user.subject_public_key_info().expect("spki"),
            common_name: "LTA test signer",
            purpose: CertificatePurpose::DocumentSigning,
            // Its status lives at an OCSP responder: validators must find it in the file.
            revocation: Some(RevocationPointers {
                ocsp_url: "http://signer-ca.invalid/ocsp",
                crl_url: None,
            }),
        },
        &[0x44; 16],
        // Short-lived: it expires, and the file must still prove the signature.
        1,
        now,
    )
    .expect("cert");
    let signer = LocalSigner::from_der(&user.to_pkcs8_der().expect("pkcs8"), vec![cert.clone()])
        .expect("signer");
    // Its OCSP responder, delegated (id-kp-OCSPSigning, ocsp-nocheck) like the server's.
    let responder = P256CaKey::try_generate().expect("key");
    let responder_cert = issue_end_entity(
        &ca,
        &root,
        &EndEntity {
            subject_public_key_info: responder.subject_public_key_info().expect("spki"),
            common_name: "LTA test OCSP responder",
            purpose: CertificatePurpose::OcspSigning,
            revocation: None,
        },
        &[0x45; 16],
        30,
        now,
    )
    .expect("responder cert");

    // B-T: the signature, then the server's time-stamp over it.
    let input = std::fs::read(fixture("e-policy-zh.pdf")).expect("fixture");
    let mut options = SignOptions::new(now);
    options.time_stamped = true;
    let prepared = prepare(
        &input,
        &options,
        signer.algorithm(),
        signer.certificate_chain(),
    )
    .expect("prepare");
    let signature = signer.sign(prepared.to_be_signed()).expect("sign");
    let token = stamp(
        &server,
        &prepared
            .time_stamp_request(&signature, &[3; 16])
            .expect("request"),
    )
    .await;
    let tail = prepared
        .finish_with_time_stamp(&signature, &token)
        .expect("B-T");
    let mut pdf = [input, tail].concat();
    let b_t_len = pdf.len();

    // B-LT: OCSP for the signer (from its CA, here) and the TSA (from the server).
    let anchors = vec![root.clone(), server_root.clone()];
    let paths = validation_needs(&pdf, &anchors, &Limits::default()).expect("needs");
    assert_eq!(paths.len(), 2);
    let mut data = ValidationData::default();
    for path in &paths {
        data.certificates.extend(path.certificates.iter().cloned());
        for (c, issuer) in path.revocation_pairs() {
            let id = CertId::for_certificate(c, issuer, CertIdHash::Sha1).expect("id");
            let response = if issuer == root.as_slice() {
                build_ocsp_response(
                    &responder,
                    &responder_cert,
                    &[(id, CertificateStatus::Good)],
                    now_unix(),
                    86_400,
                    None,
                )
                .expect("ocsp")
            } else {
                post(
                    &server,
                    "/v1/ocsp",
                    "application/ocsp-request",
                    ocsp_request(&[id], None).expect("request"),
                )
                .await
            };
            data.ocsp_responses.push(response);
        }
    }
    let dss = add_dss(&pdf, &data, &Limits::default()).expect("DSS");
    pdf.extend_from_slice(&dss);
    let b_lt_len = pdf.len();

    // B-LTA: a document time-stamp over it all.
    let archive = prepare_document_time_stamp(
        &pdf,
        SignatureAlgorithm::EcdsaP256Sha256,
        None,
        &Limits::default(),
    )
    .expect("prepare");
    let token = stamp(
        &server,
        &archive.time_stamp_request(&[4; 16]).expect("request"),
    )
    .await;
    let tail = archive.finish(&token).expect("B-LTA");
    pdf.extend_from_slice(&tail);
    let out = d.join("b-lta.pdf");
    std::fs::write(&out, &pdf).expect("write");
    let root_pem = d.join("signer-root.pem");
    std::fs::write(&root_pem, der_to_pem("CERTIFICATE", &root)).expect("write");
    let tsa_root_pem = d.join("tsa-root.pem");
    std::fs::write(&tsa_root_pem, der_to_pem("CERTIFICATE", &server_root)).expect("write");

    // Our verifier: long-term valid.
    let report = inkseal_pdf::verify::verify(
        &pdf,
        &inkseal_pdf::verify::VerifyOptions {
            trust_anchors: anchors,
            at_unix: Some(now_unix()),
            ..Default::default()
        },
    )
    .expect("verify");
    assert!(report.all_ok(), "{report:#?}");
    assert!(
        report.signatures[0]
            .revocation
            .as_ref()
            .is_some_and(|r| r.ltv)
    );

    // pyHanko (its CLI validation: trust, integrity, the time-stamp, and the later revisions
    // judged as signature maintenance).
    let ph = pyhanko_validate_offline(&out, &[&root_pem, &tsa_root_pem]);
    assert!(ph.all_valid(), "{}\n{}", ph.stdout, ph.stderr);
    let signature = &ph.signatures[0];
    assert_eq!(
        signature.modifications,
        Some(Modifications::LtaUpdates),
        "{}",
        ph.stdout
    );
    let ts = signature
        .time_stamp
        .as_ref()
        .expect("pyHanko sees the time-stamp");
    assert!(ts.sound && ts.tsa_trusted, "{}", ph.stdout);

    // pyHanko's long-term validation (ETSI EN 319 102-1), offline. Now: every certificate's
    // status from the DSS. Three days on, the signer's certificate has expired: the document
    // time-stamp's proof of existence and the DSS's OCSP responses show it was valid when
    // the signature was made. The last time-stamp is judged at that time itself, and offline
    // nothing can say its TSA certificate is still good three days on unless it is trusted as
    // such: the TSA unit listed as a trust anchor, the way trusted lists name TSA units.
    let tsa_unit_pem = d.join("tsa-unit.pem");
    let tsa_unit = server
        .service()
        .tsa()
        .expect("TSA")
        .chain(SignatureAlgorithm::EcdsaP256Sha256)[0]
        .clone();
    std::fs::write(&tsa_unit_pem, der_to_pem("CERTIFICATE", &tsa_unit)).expect("write");
    let later = iso_8601(now + 3 * 86_400);
    for (at, roots) in [
        (None, [root_pem.as_path(), &tsa_root_pem]),
        (Some(later.as_str()), [root_pem.as_path(), &tsa_unit_pem]),
    ] {
        let (judged, log) = pyhanko_ades_validate(&out, &roots, at, AdesProcess::LongTerm);
        assert_eq!(judged.len(), 1, "{log}");
        assert!(judged[0].valid, "at {at:?}: {:?}\n{log}", judged[0]);
        assert_eq!(judged[0].indication, "PASSED", "{:?}", judged[0]);
        assert!(
            judged[0].oldest_evidence_record.is_some(),
            "{:?}",
            judged[0]
        );
    }
    // B-LT (the DSS, no document time-stamp) passes now, offline, with the DSS's revocation
    // data; the B-T revision alone, without it, does not.
    let b_lt = d.join("b-lt.pdf");
    std::fs::write(&b_lt, &pdf[..b_lt_len]).expect("write");
    let b_t = d.join("b-t.pdf");
    std::fs::write(&b_t, &pdf[..b_t_len]).expect("write");
    let roots = [root_pem.as_path(), &tsa_root_pem];
    let (judged, log) = pyhanko_ades_validate(&b_lt, &roots, None, AdesProcess::WithTime);
    assert!(judged.len() == 1 && judged[0].valid, "{judged:?}\n{log}");
    let (judged, log) = pyhanko_ades_validate(&b_t, &roots, None, AdesProcess::WithTime);
    assert!(judged.len() == 1 && !judged[0].valid, "{judged:?}\n{log}");
    // Without the DSS and the document time-stamp (the B-T revision alone), three days on:
    // not provable.
    let (judged, log) = pyhanko_ades_validate(
        &b_t,
        &[&root_pem, &tsa_unit_pem],
        Some(&later),
        AdesProcess::LongTerm,
    );
    assert_eq!(judged.len(), 1, "{log}");
    assert!(!judged[0].valid, "{:?}", judged[0]);

    let bc = bouncycastle_check(&out, &[&root_pem, &tsa_root_pem]);
    assert!(bc.all_valid(), "{}", bc.stdout);
    assert_eq!(bc.signatures.len(), 2);
    assert_eq!(bc.signatures[0].timestamp_valid, Some(true));
    assert!(bc.signatures[1].document_timestamp);
    let ps = pdfsig(&out);
    assert_eq!(ps.signatures.len(), 2, "{ps:?}");
    qpdf_check(&out).expect("qpdf finds no problem");
    server.shutdown().await.expect("shutdown");
}

/// `YYYY-MM-DDTHH:MM:SS+00:00` for a Unix time.
fn iso_8601(unix: u64) -> String {
    let t = der::DateTime::from_unix_duration(std::time::Duration::from_secs(unix)).expect("time");
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}+00:00",
        t.year(),
        t.month(),
        t.day(),
        t.hour(),
        t.minutes(),
        t.seconds()
    )
}
