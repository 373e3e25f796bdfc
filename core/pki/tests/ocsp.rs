//! OCSP: our responses read by OpenSSL (`openssl ocsp -respin`), OpenSSL's requests read by
//! us, and our own reader on good, revoked and unknown answers.

mod common;

use common::{DAY, NOW, openssl, openssl_available, plain_key, test_ca, verified_csr};
use inkseal_pki::{
    CertId, CertIdHash, CertificatePurpose, CertificateStatus, EndEntity, IssuerKey,
    OcspResponseStatus, P256CaKey, PkiError, RevocationReason, build_ocsp_response, der_to_pem,
    issue_certificate, issue_end_entity, ocsp_error_response, ocsp_request, parse_ocsp_request,
    parse_ocsp_response, self_signed_ca,
};

struct P256Pki {
    ca: P256CaKey,
    root: Vec<u8>,
    leaf: Vec<u8>,
}

fn p256_pki(serial: u8) -> P256Pki {
    let ca = P256CaKey::try_generate().expect("key");
    let root = self_signed_ca(&ca, "OCSP test root", 3650, NOW).expect("root");
    let subject = P256CaKey::try_generate().expect("key");
    let leaf = issue_end_entity(
        &ca,
        &root,
        &EndEntity {
            subject_public_key_info: subject.subject_public_key_info().expect("spki"),
            common_name: "OCSP test leaf",
            purpose: CertificatePurpose::DocumentSigning,
            revocation: None,
        },
        &[serial; 16],
        365,
        NOW,
    )
    .expect("leaf");
    P256Pki { ca, root, leaf }
}

#[test]
fn statuses_round_trip_through_our_reader() {
    let (ca, root) = test_ca("SM2 OCSP root");
    let leaf = issue_certificate(
        &ca,
        &root,
        &verified_csr(&plain_key(), "leaf"),
        &[5; 16],
        30,
        NOW,
    )
    .expect("leaf");
    for hash in [CertIdHash::Sha1, CertIdHash::Sha256] {
        let id = CertId::for_certificate(&leaf, &root, hash).expect("id");
        assert!(id.is_issued_by(&root));
        assert!(!id.is_issued_by(&leaf));
        let request = ocsp_request(std::slice::from_ref(&id), Some(&[9; 16])).expect("request");
        let query = parse_ocsp_request(&request).expect("parse");
        assert_eq!(query.cert_ids, vec![id.clone()]);
        for status in [
            CertificateStatus::Good,
            CertificateStatus::Unknown,
            CertificateStatus::Revoked {
                at_unix: NOW + DAY,
                reason: Some(RevocationReason::KeyCompromise),
            },
        ] {
            let der = build_ocsp_response(
                &ca,
                &root,
                &[(id.clone(), status)],
                NOW + 2 * DAY,
                7 * DAY,
                query.nonce.as_deref(),
            )
            .expect("response");
            let parsed = parse_ocsp_response(&der).expect("parse");
            assert_eq!(parsed.produced_at_unix, NOW + 2 * DAY);
            assert!(parsed.responder_is(&root));
            assert!(!parsed.responder_is(&leaf));
            assert_eq!(parsed.certificates, vec![root.clone()]);
            assert_eq!(parsed.nonce, query.nonce);
            let single = parsed.status_of(&leaf, &root).expect("status for the leaf");
            assert_eq!(single.status, status);
            assert_eq!(single.next_update_unix, Some(NOW + 9 * DAY));
            // The signature covers the ResponseData, under the CA's SM2 key.
            let (tbs, alg, signature) = parsed.signed_data();
            assert_eq!(alg.to_string(), "1.2.156.10197.1.501");
            let sig = inkseal_pki::signature_from_der(signature).expect("sig");
            let e = inkseal_cosign::message_digest(ca.public_key(), tbs);
            inkseal_cosign::verify_digest(ca.public_key(), &e, &sig).expect("verifies");
        }
    }
}

#[test]
fn responses_and_requests_are_checked() {
    let pki = p256_pki(3);
    let other = p256_pki(4);
    let id = CertId::for_certificate(&pki.leaf, &pki.root, CertIdHash::Sha1).expect("id");
    // The responder key must be its certificate's.
    assert_eq!(
        build_ocsp_response(
            &other.ca,
            &pki.root,
            &[(id, CertificateStatus::Good)],
            NOW,
            DAY,
            None
        )
        .expect_err("refused"),
        PkiError::KeyMismatch
    );
    let err = ocsp_error_response(OcspResponseStatus::Unauthorized).expect("error response");
    assert_eq!(
        parse_ocsp_response(&err).expect_err("not successful"),
        PkiError::OcspStatus(OcspResponseStatus::Unauthorized)
    );
    assert!(ocsp_error_response(OcspResponseStatus::Successful).is_err());
    assert!(matches!(
        parse_ocsp_request(&vec![0x30; 9000]),
        Err(PkiError::TooLarge(_))
    ));
    assert!(matches!(
        parse_ocsp_request(b"\x30\x00"),
        Err(PkiError::Malformed(_))
    ));
    // A response for one certificate says nothing of another.
    let der = build_ocsp_response(
        &pki.ca,
        &pki.root,
        &[(
            CertId::for_certificate(&pki.leaf, &pki.root, CertIdHash::Sha256).expect("id"),
            CertificateStatus::Good,
        )],
        NOW,
        DAY,
        None,
    )
    .expect("response");
    let parsed = parse_ocsp_response(&der).expect("parse");
    assert!(parsed.status_of(&other.leaf, &other.root).is_none());
    assert!(parsed.status_of(&pki.leaf, &other.root).is_none());
}

#[test]
fn openssl_reads_our_p256_responses_and_we_read_its_requests() {
    if !openssl_available() {
        return;
    }
    let pki = p256_pki(7);
    let dir = tempfile::tempdir().expect("dir");
    let d = dir.path();
    std::fs::write(d.join("root.pem"), der_to_pem("CERTIFICATE", &pki.root)).expect("write");
    std::fs::write(d.join("leaf.pem"), der_to_pem("CERTIFICATE", &pki.leaf)).expect("write");
    let out = openssl(
        d,
        &[
            "ocsp", "-issuer", "root.pem", "-cert", "leaf.pem", "-reqout", "req.der",
        ],
    );
    assert!(out.status.success());
    let query = parse_ocsp_request(&std::fs::read(d.join("req.der")).expect("req")).expect("parse");
    assert_eq!(query.cert_ids.len(), 1);
    assert_eq!(query.cert_ids[0].hash(), CertIdHash::Sha1);
    assert!(query.nonce.is_some(), "openssl sends a nonce by default");
    let now = inkseal_tests_now();
    for (status, expect) in [
        (CertificateStatus::Good, "leaf.pem: good"),
        (
            CertificateStatus::Revoked {
                at_unix: now - 60,
                reason: Some(RevocationReason::KeyCompromise),
            },
            "leaf.pem: revoked",
        ),
        (CertificateStatus::Unknown, "leaf.pem: unknown"),
    ] {
        let der = build_ocsp_response(
            &pki.ca,
            &pki.root,
            &[(query.cert_ids[0].clone(), status)],
            now,
            DAY,
            query.nonce.as_deref(),
        )
        .expect("response");
        std::fs::write(d.join("resp.der"), &der).expect("write");
        let out = openssl(
            d,
            &[
                // With -cert OpenSSL builds its own request (with a nonce of its own) to
                // match statuses against, so the nonce check is left out here; the echo of
                // the request's nonce is checked below.
                "ocsp",
                "-respin",
                "resp.der",
                "-issuer",
                "root.pem",
                "-cert",
                "leaf.pem",
                "-no_nonce",
                "-CAfile",
                "root.pem",
            ],
        );
        let text = common::text(&out);
        assert!(out.status.success(), "{text}");
        assert!(text.contains("Response verify OK"), "{text}");
        assert!(text.contains(expect), "{text}");
        if matches!(status, CertificateStatus::Revoked { .. }) {
            assert!(text.contains("keyCompromise"), "{text}");
        }
        let out = openssl(
            d,
            &["ocsp", "-respin", "resp.der", "-resp_text", "-noverify"],
        );
        let request_nonce = hex::encode_upper(query.nonce.as_deref().expect("nonce"));
        assert!(
            common::text(&out).contains(&request_nonce),
            "the nonce is echoed"
        );
    }
    // OpenSSL reads our request, nonce included.
    let id = CertId::for_certificate(&pki.leaf, &pki.root, CertIdHash::Sha256).expect("id");
    std::fs::write(
        d.join("ours.der"),
        ocsp_request(&[id], Some(&[1, 2, 3])).expect("req"),
    )
    .expect("write");
    let out = openssl(d, &["ocsp", "-reqin", "ours.der", "-req_text"]);
    let text = common::text(&out);
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains("sha256") && text.contains("OCSP Nonce"),
        "{text}"
    );
}

fn inkseal_tests_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs()
}

#[test]
fn an_identifier_by_serial_equals_the_one_from_the_certificate() {
    let pki = p256_pki(0x81);
    let serial = inkseal_pki::certificate_serial(&pki.leaf).expect("serial");
    assert_eq!(
        serial[0], 0x01,
        "the top bit of the requested serial is cleared"
    );
    for hash in [CertIdHash::Sha1, CertIdHash::Sha256] {
        let by_serial = CertId::for_serial(&pki.root, &serial, hash).expect("by serial");
        let by_cert = CertId::for_certificate(&pki.leaf, &pki.root, hash).expect("by cert");
        assert_eq!(by_serial, by_cert);
        assert_eq!(by_serial.serial(), serial.as_slice());
    }
    let high = CertId::for_serial(&pki.root, &[0xff, 1], CertIdHash::Sha1).expect("high bit");
    assert_eq!(high.serial(), &[0xff, 1]);
    assert!(CertId::for_serial(&pki.root, &[0, 0], CertIdHash::Sha1).is_err());
}
