//! The server's OCSP responder (`POST /v1/ocsp`) on loopback: good, revoked (after an
//! operator revokes a key) and unknown for the SM2 root's certificates, the P-256 root's TSA
//! certificate checked by `openssl ocsp -url`, refusals typed.

use inkseal_cosign::api::Pin;
use inkseal_pki::{
    CertId, CertIdHash, CertificateStatus, OcspResponseStatus, PkiError, RevocationReason,
    der_to_pem, ocsp_request, parse_ocsp_response,
};
use inkseal_server::RunningServer;
use inkseal_tests::{Loopback, enroll, http_client, post_der, start_server};
use std::process::Command;

async fn ask(server: &RunningServer, body: Vec<u8>, content_type: &str) -> (u16, Vec<u8>) {
    post_der(
        server,
        "/v1/ocsp",
        content_type,
        body,
        "application/ocsp-response",
    )
    .await
}

/// The response's signer: not `root` itself but a certificate embedded in the response that
/// `root` issued for OCSP signing alone (id-kp-OCSPSigning, id-pkix-ocsp-nocheck).
fn delegated_responder(parsed: &inkseal_pki::ParsedOcspResponse, root: &[u8]) -> Vec<u8> {
    use der::Decode;
    use x509_cert::ext::pkix::ExtendedKeyUsage;
    assert!(
        !parsed.responder_is(root),
        "the root signs no OCSP response"
    );
    let responder = parsed
        .certificates
        .iter()
        .find(|c| parsed.responder_is(c))
        .expect("the responder's certificate is embedded")
        .clone();
    inkseal_pdf::cms::verify_chain(&responder, &[], &[root.to_vec()], None)
        .expect("the root issued the responder's certificate");
    let cert = x509_cert::Certificate::from_der(&responder).expect("certificate");
    let (_, eku) = cert
        .tbs_certificate()
        .get_extension::<ExtendedKeyUsage>()
        .expect("extensions")
        .expect("extended key usage");
    assert_eq!(eku.0, [const_oid::db::rfc5280::ID_KP_OCSP_SIGNING]);
    let nocheck = cert
        .tbs_certificate()
        .extensions()
        .into_iter()
        .flatten()
        .any(|e| e.extn_id == const_oid::db::rfc6960::ID_PKIX_OCSP_NOCHECK);
    assert!(nocheck, "ocsp-nocheck");
    responder
}

/// The OCSP URL (authorityInfoAccess) and CRL URL (cRLDistributionPoints) a certificate names.
fn revocation_pointers(cert_der: &[u8]) -> (Option<String>, Option<String>) {
    use der::Decode;
    use x509_cert::ext::pkix::name::{DistributionPointName, GeneralName};
    use x509_cert::ext::pkix::{AuthorityInfoAccessSyntax, CrlDistributionPoints};
    let cert = x509_cert::Certificate::from_der(cert_der).expect("certificate");
    let tbs = cert.tbs_certificate();
    let uri = |n: &GeneralName| match n {
        GeneralName::UniformResourceIdentifier(u) => Some(u.to_string()),
        _ => None,
    };
    let ocsp = tbs
        .get_extension::<AuthorityInfoAccessSyntax>()
        .expect("aia")
        .and_then(|(_, aia)| aia.0.first().and_then(|a| uri(&a.access_location)));
    let crl = tbs
        .get_extension::<CrlDistributionPoints>()
        .expect("crldp")
        .and_then(
            |(_, dps)| match dps.0.first()?.distribution_point.as_ref()? {
                DistributionPointName::FullName(names) => names.first().and_then(uri),
                _ => None,
            },
        );
    (ocsp, crl)
}

async fn status_of(server: &RunningServer, id: &CertId) -> CertificateStatus {
    let nonce = [0x42; 16];
    let (status, der) = ask(
        server,
        ocsp_request(std::slice::from_ref(id), Some(&nonce)).expect("request"),
        "application/ocsp-request",
    )
    .await;
    assert_eq!(status, 200);
    let parsed = parse_ocsp_response(&der).expect("successful response");
    assert!(parsed.nonce.as_deref().is_some_and(|n| n.ends_with(&nonce)));
    // Signed by the SM2 root's delegated responder, named by its key.
    let root = server.service().ca_certificate().to_vec();
    let responder = delegated_responder(&parsed, &root);
    let (tbs, _, signature) = parsed.signed_data();
    let key = inkseal_pki::certificate_public_key(&responder).expect("responder key");
    let sig = inkseal_pki::signature_from_der(signature).expect("signature");
    inkseal_cosign::verify_digest(&key, &inkseal_cosign::message_digest(&key, tbs), &sig)
        .expect("the response is signed by the SM2 root's responder");
    assert_eq!(parsed.responses.len(), 1);
    parsed.responses[0].status
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn good_then_revoked_then_unknown() {
    let Loopback {
        dir: _dir,
        server,
        client,
        backend,
    } = Loopback::start().await;
    let pin = Pin::new("246810");
    let key = enroll(&backend, &client, "customer-ocsp", &pin)
        .await
        .key_id;
    let (cert, root) = client
        .request_certificate(&key, &pin, None)
        .await
        .expect("certificate");
    // The certificate says where its status lives: this server's responder and CRL.
    let pointers = revocation_pointers(&cert);
    assert_eq!(
        pointers,
        (
            Some(format!("{}/v1/ocsp", server.url())),
            Some(format!("{}/v1/crl", server.url()))
        )
    );
    let id = CertId::for_certificate(&cert, &root, CertIdHash::Sha1).expect("id");
    assert_eq!(status_of(&server, &id).await, CertificateStatus::Good);
    let id256 = CertId::for_certificate(&cert, &root, CertIdHash::Sha256).expect("id");
    assert_eq!(status_of(&server, &id256).await, CertificateStatus::Good);

    let before = inkseal_tests::now_unix();
    let (status, _) = backend
        .post(
            &format!("/v1/admin/keys/{key}/revoke"),
            serde_json::json!({ "reason": "key_compromise", "note": "phone stolen" }),
        )
        .await;
    assert_eq!(status, 200);
    match status_of(&server, &id).await {
        CertificateStatus::Revoked { at_unix, reason } => {
            assert_eq!(reason, Some(RevocationReason::KeyCompromise));
            assert!(at_unix >= before - 1 && at_unix <= inkseal_tests::now_unix());
        }
        other => panic!("expected revoked, got {other:?}"),
    }

    let stranger = CertId::for_serial(&root, &[0x12, 0x34, 0x56], CertIdHash::Sha1).expect("id");
    assert_eq!(
        status_of(&server, &stranger).await,
        CertificateStatus::Unknown
    );
    server.shutdown().await.expect("shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_are_typed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start_server(&dir.path().join("server")).await;
    let roots: Vec<Vec<u8>> = server
        .service()
        .root_certificates()
        .into_iter()
        .map(<[u8]>::to_vec)
        .collect();
    let tsa = server.service().tsa().expect("tsa").certificates()[1].to_vec();

    let (status, der) = ask(&server, b"not DER".to_vec(), "application/ocsp-request").await;
    assert_eq!(status, 200);
    assert_eq!(
        parse_ocsp_response(&der).expect_err("no statuses"),
        PkiError::OcspStatus(OcspResponseStatus::MalformedRequest)
    );
    // Another issuer (the TSA certificate posing as a CA).
    let foreign = CertId::for_serial(&tsa, &[1], CertIdHash::Sha1).expect("id");
    let (_, der) = ask(
        &server,
        ocsp_request(&[foreign], None).expect("request"),
        "application/ocsp-request",
    )
    .await;
    assert_eq!(
        parse_ocsp_response(&der).expect_err("no statuses"),
        PkiError::OcspStatus(OcspResponseStatus::Unauthorized)
    );
    // Certificates of both roots in one request.
    let mixed = [
        CertId::for_serial(&roots[0], &[1], CertIdHash::Sha1).expect("id"),
        CertId::for_serial(&roots[1], &[1], CertIdHash::Sha1).expect("id"),
    ];
    let (_, der) = ask(
        &server,
        ocsp_request(&mixed, None).expect("request"),
        "application/ocsp-request",
    )
    .await;
    assert_eq!(
        parse_ocsp_response(&der).expect_err("no statuses"),
        PkiError::OcspStatus(OcspResponseStatus::Unauthorized)
    );
    let (status, _) = ask(&server, b"{}".to_vec(), "application/json").await;
    assert_eq!(status, 415);
    server.shutdown().await.expect("shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openssl_asks_about_the_p256_tsa_certificate_over_http() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let server = start_server(&d.join("server")).await;
    let roots = server.service().root_certificates();
    std::fs::write(d.join("p256-root.pem"), der_to_pem("CERTIFICATE", roots[1])).expect("write");
    let tsa = server.service().tsa().expect("tsa").certificates()[1].to_vec();
    std::fs::write(d.join("tsa.pem"), der_to_pem("CERTIFICATE", &tsa)).expect("write");
    let url = format!("{}/v1/ocsp", server.url());
    let out = tokio::task::spawn_blocking({
        let d = d.to_path_buf();
        move || {
            Command::new("openssl")
                .current_dir(&d)
                .args([
                    "ocsp",
                    "-issuer",
                    "p256-root.pem",
                    "-cert",
                    "tsa.pem",
                    "-url",
                    &url,
                    "-CAfile",
                    "p256-root.pem",
                ])
                .output()
                .expect("openssl")
        }
    })
    .await
    .expect("join");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{text}");
    assert!(text.contains("Response verify OK"), "{text}");
    assert!(text.contains("tsa.pem: good"), "{text}");
    server.shutdown().await.expect("shutdown");
}

/// `POST /v1/revocation`: the JSON route the SDK uses for B-LT answers the same OCSP
/// responses, and refuses certificates of other issuers and bad input.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_json_route_answers_like_ocsp_and_refuses_strangers() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start_server(&dir.path().join("server")).await;
    let tsa = server.service().tsa().expect("tsa").certificates();
    let post = |body: serde_json::Value| {
        let url = format!("{}/v1/revocation", server.url());
        async move {
            let resp = http_client()
                .post(url)
                .json(&body)
                .send()
                .await
                .expect("post");
            let status = resp.status().as_u16();
            (
                status,
                resp.json::<serde_json::Value>().await.expect("json"),
            )
        }
    };
    let (status, body) = post(serde_json::json!({
        "certificates_der_hex": [hex::encode(tsa[0]), hex::encode(tsa[1])]
    }))
    .await;
    assert_eq!(status, 200, "{body}");
    let responses = body["ocsp_responses_der_hex"].as_array().expect("array");
    assert_eq!(responses.len(), 2);
    let roots = server.service().root_certificates();
    // The P-256 TSA names the responder only: the CRL is the SM2 root's.
    assert_eq!(
        revocation_pointers(tsa[1]),
        (Some(format!("{}/v1/ocsp", server.url())), None)
    );
    for (i, response) in responses.iter().enumerate() {
        let der = hex::decode(response.as_str().expect("hex")).expect("hex");
        let parsed = parse_ocsp_response(&der).expect("successful");
        delegated_responder(&parsed, roots[i]);
        let single = parsed.status_of(tsa[i], roots[i]).expect("status");
        assert_eq!(single.status, CertificateStatus::Good);
    }
    // With a time-stamp request inside: the reply, the OCSP responses asked for, then one for
    // the TSA unit that signed the token; a time-stamp alone needs no certificate named.
    use inkseal_pdf::cms::SignatureAlgorithm;
    use inkseal_pdf::tsp::{TimeStampRequest, check_reply};
    for (suite, named) in [
        (SignatureAlgorithm::Sm2Sm3, vec![hex::encode(tsa[1])]),
        (SignatureAlgorithm::EcdsaP256Sha256, vec![]),
    ] {
        let request =
            TimeStampRequest::new(suite, &suite.digest(&[b"signature"]), Some(&[7; 16]), None)
                .expect("request");
        let (status, body) = post(serde_json::json!({
            "certificates_der_hex": named,
            "time_stamp_request_der_hex": hex::encode(request.to_der().expect("der")),
        }))
        .await;
        assert_eq!(status, 200, "{body}");
        let reply =
            hex::decode(body["time_stamp_reply_der_hex"].as_str().expect("reply")).expect("hex");
        let token = check_reply(&request, &reply).expect("granted");
        let unit = token.tsa_certificate();
        let responses = body["ocsp_responses_der_hex"].as_array().expect("array");
        assert_eq!(responses.len(), named.len() + 1, "{body}");
        let last =
            hex::decode(responses.last().and_then(|r| r.as_str()).expect("hex")).expect("hex");
        let root = roots[usize::from(suite == SignatureAlgorithm::EcdsaP256Sha256)];
        let parsed = parse_ocsp_response(&last).expect("successful");
        assert_eq!(
            parsed
                .status_of(unit, root)
                .expect("about the TSA unit")
                .status,
            CertificateStatus::Good
        );
    }
    // A refused time-stamp request: the rejection, and no response for any TSA unit.
    let (status, body) = post(serde_json::json!({
        "certificates_der_hex": [hex::encode(tsa[0])],
        "time_stamp_request_der_hex": "3000",
    }))
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["ocsp_responses_der_hex"].as_array().map(Vec::len),
        Some(1)
    );
    let reply =
        hex::decode(body["time_stamp_reply_der_hex"].as_str().expect("reply")).expect("hex");
    let request = TimeStampRequest::new(
        SignatureAlgorithm::Sm2Sm3,
        &SignatureAlgorithm::Sm2Sm3.digest(&[b"x"]),
        None,
        None,
    )
    .expect("request");
    assert!(matches!(
        check_reply(&request, &reply),
        Err(inkseal_pdf::tsp::TspError::Refused { .. })
    ));

    // A certificate of another CA, a root itself, garbage, too many, none.
    let pki = inkseal_tests::sm2_pki(dir.path(), "other");
    let read = |p: &std::path::Path| {
        inkseal_pki::pem_to_der(&std::fs::read_to_string(p).expect("pem"))
            .expect("der")
            .1
    };
    let (other, other_root) = (read(&pki.signer_pem), read(&pki.ca_pem));
    for body in [
        serde_json::json!({ "certificates_der_hex": [hex::encode(&other)] }),
        serde_json::json!({ "certificates_der_hex": [hex::encode(&other_root)] }),
        serde_json::json!({ "certificates_der_hex": ["zz"] }),
        serde_json::json!({ "certificates_der_hex": vec![hex::encode(tsa[0]); 9] }),
        serde_json::json!({ "certificates_der_hex": [] }),
        serde_json::json!({ "certificates": [] }),
    ] {
        let (status, answer) = post(body.clone()).await;
        assert_eq!(status, 400, "{body} -> {answer}");
        assert_eq!(answer["code"], "bad_request", "{answer}");
    }
    server.shutdown().await.expect("shutdown");
}

/// The public URL named in certificates follows the configuration: a restart with another
/// `public_url` issues the TSA units' certificates again (same keys) naming the new responder;
/// the roots and the responders' certificates stay.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn service_certificates_follow_the_public_url() {
    let dir = tempfile::tempdir().expect("tempdir");
    let start = |url: &str| {
        let mut config = inkseal_tests::loopback_config(&dir.path().join("server"));
        config.public_url = Some(url.to_owned());
        inkseal_server::start(config)
    };
    let snapshot = |server: &RunningServer| {
        let tsa = server.service().tsa().expect("TSA").certificates();
        (
            tsa.map(<[u8]>::to_vec),
            server
                .service()
                .root_certificates()
                .into_iter()
                .map(<[u8]>::to_vec)
                .collect::<Vec<_>>(),
        )
    };
    let server = start("https://a.example").await.expect("start");
    let (tsa_a, roots_a) = snapshot(&server);
    for cert in &tsa_a {
        assert_eq!(
            revocation_pointers(cert).0.as_deref(),
            Some("https://a.example/v1/ocsp")
        );
    }
    server.shutdown().await.expect("shutdown");

    let server = start("https://b.example/").await.expect("restart");
    let (tsa_b, roots_b) = snapshot(&server);
    assert_eq!(roots_a, roots_b, "the roots stay");
    for (a, b) in tsa_a.iter().zip(&tsa_b) {
        assert_ne!(a, b, "issued again");
        assert_eq!(
            revocation_pointers(b).0.as_deref(),
            Some("https://b.example/v1/ocsp")
        );
        let spki = |der: &[u8]| {
            use der::Decode;
            x509_cert::Certificate::from_der(der)
                .expect("certificate")
                .tbs_certificate()
                .subject_public_key_info()
                .clone()
        };
        assert_eq!(spki(a), spki(b), "the same key");
    }
    server.shutdown().await.expect("shutdown");
}
