//! The server's OCSP responder (`POST /v1/ocsp`) on loopback: good, revoked (after an
//! operator revokes a key) and unknown for the SM2 root's certificates, the P-256 root's TSA
//! certificate checked by `openssl ocsp -url`, refusals typed.

use inkseal_cosign::api::Pin;
use inkseal_pki::{
    CertId, CertIdHash, CertificateStatus, OcspResponseStatus, PkiError, RevocationReason,
    der_to_pem, ocsp_request, parse_ocsp_response,
};
use inkseal_server::RunningServer;
use inkseal_tests::{Backend, client_for, enroll, http_client, post_der, start_server};
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
    // Signed by the SM2 root, named by its key.
    let root = server.service().ca_certificate().to_vec();
    assert!(parsed.responder_is(&root));
    let (tbs, _, signature) = parsed.signed_data();
    let key = inkseal_pki::certificate_public_key(&root).expect("root key");
    let sig = inkseal_pki::signature_from_der(signature).expect("signature");
    inkseal_cosign::verify_digest(&key, &inkseal_cosign::message_digest(&key, tbs), &sig)
        .expect("the response is signed by the SM2 root");
    assert_eq!(parsed.responses.len(), 1);
    parsed.responses[0].status
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn good_then_revoked_then_unknown() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start_server(&dir.path().join("server")).await;
    let backend = Backend::new(&server);
    let client = client_for(&server, &dir.path().join("device"));
    let pin = Pin::new("246810");
    let key = enroll(&backend, &client, "customer-ocsp", &pin)
        .await
        .key_id;
    let (cert, root) = client
        .request_certificate(&key, &pin, None)
        .await
        .expect("certificate");
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
    for (i, response) in responses.iter().enumerate() {
        let der = hex::decode(response.as_str().expect("hex")).expect("hex");
        let parsed = parse_ocsp_response(&der).expect("successful");
        assert!(parsed.responder_is(roots[i]), "each from its own root");
        let single = parsed.status_of(tsa[i], roots[i]).expect("status");
        assert_eq!(single.status, CertificateStatus::Good);
    }
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
