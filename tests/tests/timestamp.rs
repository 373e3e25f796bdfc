//! The server's RFC 3161 time-stamping authority, on loopback: our client, OpenSSL and
//! BouncyCastle check its tokens; its serials survive a restart; every refusal is a well-formed
//! rejection with the right failure.

use inkseal_pdf::cms::{SignatureAlgorithm, verify_chain};
use inkseal_pdf::tsp::{FailureInfo, PkiStatus, TimeStampRequest, TspError, check_reply};
use inkseal_pki::{der_to_pem, pem_to_der};
use inkseal_server::RunningServer;
use inkseal_tests::validators::bouncycastle_tst_check;
use inkseal_tests::{http_client, post_der, start_server};

use std::process::Command;

async fn post_query(server: &RunningServer, body: Vec<u8>, content_type: &str) -> (u16, Vec<u8>) {
    post_der(
        server,
        "/v1/tsa",
        content_type,
        body,
        "application/timestamp-reply",
    )
    .await
}

async fn stamp(server: &RunningServer, request: &TimeStampRequest) -> Result<Vec<u8>, TspError> {
    let (status, reply) = post_query(
        server,
        request.to_der().expect("der"),
        "application/timestamp-query",
    )
    .await;
    assert_eq!(status, 200);
    check_reply(request, &reply).map(|t| t.to_der().to_vec())
}

/// The roots `/v1/ca` publishes (DER), SM2 first.
async fn roots(server: &RunningServer) -> Vec<Vec<u8>> {
    let pem = http_client()
        .get(format!("{}/v1/ca", server.url()))
        .send()
        .await
        .expect("get")
        .text()
        .await
        .expect("text");
    pem.split_inclusive("-----END CERTIFICATE-----\n")
        .map(|one| pem_to_der(one).expect("pem").1)
        .collect()
}

fn request(suite: SignatureAlgorithm, data: &[u8], nonce: u8) -> TimeStampRequest {
    TimeStampRequest::new(suite, &suite.digest(&[data]), Some(&[nonce; 16]), None).expect("request")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_for_both_suites_chain_to_the_published_roots_and_pass_bouncycastle() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start_server(&dir.path().join("server")).await;
    let roots = roots(&server).await;
    assert_eq!(roots.len(), 2, "/v1/ca serves the SM2 and the P-256 root");
    let mut serials = Vec::new();
    for (suite, root) in [
        (SignatureAlgorithm::Sm2Sm3, &roots[0]),
        (SignatureAlgorithm::EcdsaP256Sha256, &roots[1]),
    ] {
        let req = request(suite, b"a signature value", 5);
        let token_der = stamp(&server, &req).await.expect("granted");
        let token = inkseal_pdf::tsp::TimeStampToken::parse(&token_der).expect("parse");
        assert_eq!(
            token.signature_algorithm(),
            inkseal_pdf::cms::VerifiedAlgorithm::Suite(suite),
            "the TSA unit fits the imprint"
        );
        assert_eq!(
            token.policy(),
            inkseal_server::tsa::DEFAULT_POLICY,
            "issued under the TSA's policy"
        );
        assert_eq!(token.accuracy_millis(), Some(1000));
        let now_ms = inkseal_tests::now_unix() * 1000;
        assert!(token.gen_time_unix_millis().abs_diff(now_ms) < 5_000);
        let path = verify_chain(
            token.tsa_certificate(),
            token.certificates(),
            std::slice::from_ref(root),
            Some(token.gen_time_unix()),
        )
        .expect("the TSA certificate chains to its published root");
        assert_eq!(path.len(), 2);
        serials.push(token.serial_number().to_vec());

        let d = dir.path();
        std::fs::write(d.join("token.der"), &token_der).expect("write");
        std::fs::write(d.join("tsa.der"), token.tsa_certificate()).expect("write");
        let bc = bouncycastle_tst_check(&d.join("token.der"), &d.join("tsa.der"));
        assert!(bc.valid, "{suite:?}: {bc:?}");
        assert_eq!(bc.imprint, hex::encode(req.digest()));
        assert_eq!(bc.gen_time_ms, token.gen_time_unix_millis());
        // BouncyCastle refuses the same token under the other suite's TSA certificate.
        let other = if suite == SignatureAlgorithm::Sm2Sm3 {
            SignatureAlgorithm::EcdsaP256Sha256
        } else {
            SignatureAlgorithm::Sm2Sm3
        };
        let other_token = inkseal_pdf::tsp::TimeStampToken::parse(
            &stamp(&server, &request(other, b"x", 6))
                .await
                .expect("granted"),
        )
        .expect("parse");
        std::fs::write(d.join("other.der"), other_token.tsa_certificate()).expect("write");
        let bc = bouncycastle_tst_check(&d.join("token.der"), &d.join("other.der"));
        assert!(!bc.valid, "{bc:?}");
        serials.push(other_token.serial_number().to_vec());
    }
    let mut unique = serials.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(
        unique.len(),
        serials.len(),
        "serials are unique: {serials:?}"
    );
    server.shutdown().await.expect("shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openssl_ts_verifies_a_p256_token_and_serials_survive_a_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data_dir = dir.path().join("server");
    let d = dir.path();
    std::fs::write(d.join("data.bin"), b"the contract's bytes").expect("write");
    let out = Command::new("openssl")
        .current_dir(d)
        .args([
            "ts", "-query", "-data", "data.bin", "-sha256", "-cert", "-out", "req.tsq",
        ])
        .output()
        .expect("openssl");
    assert!(out.status.success());
    // One public URL across the restart (with port 0 and no URL, the listening address would
    // change it, and the TSA certificates would be issued again).
    let start = || {
        let mut config = inkseal_tests::loopback_config(&data_dir);
        config.public_url = Some("https://tsa.example".into());
        async move { inkseal_server::start(config).await.expect("start") }
    };
    let server = start().await;
    let roots = roots(&server).await;
    std::fs::write(
        d.join("p256-root.pem"),
        der_to_pem("CERTIFICATE", &roots[1]),
    )
    .expect("write");
    let (status, reply) = post_query(
        &server,
        std::fs::read(d.join("req.tsq")).expect("read"),
        "application/timestamp-query",
    )
    .await;
    assert_eq!(status, 200);
    std::fs::write(d.join("reply.tsr"), &reply).expect("write");
    let out = Command::new("openssl")
        .current_dir(d)
        .args([
            "ts",
            "-verify",
            "-in",
            "reply.tsr",
            "-queryfile",
            "req.tsq",
            "-CAfile",
            "p256-root.pem",
        ])
        .output()
        .expect("openssl");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success() && text.contains("Verification: OK"),
        "{text}"
    );

    let req = request(SignatureAlgorithm::EcdsaP256Sha256, b"first", 1);
    let first = inkseal_pdf::tsp::TimeStampToken::parse(&stamp(&server, &req).await.expect("ok"))
        .expect("parse");
    let tsa_cert = first.tsa_certificate().to_vec();
    server.shutdown().await.expect("shutdown");

    let server = start().await;
    let req = request(SignatureAlgorithm::EcdsaP256Sha256, b"second", 2);
    let second = inkseal_pdf::tsp::TimeStampToken::parse(&stamp(&server, &req).await.expect("ok"))
        .expect("parse");
    assert_eq!(
        second.tsa_certificate(),
        tsa_cert,
        "same TSA key and certificate"
    );
    let number = |s: &[u8]| s.iter().fold(0u128, |n, b| (n << 8) | u128::from(*b));
    assert!(
        number(second.serial_number()) > number(first.serial_number()),
        "the serial counter is persisted"
    );
    server.shutdown().await.expect("shutdown");
}

fn rejection(reply: &[u8], request: &TimeStampRequest) -> Vec<FailureInfo> {
    match check_reply(request, reply) {
        Err(TspError::Refused {
            status: PkiStatus::Rejection,
            fail_info,
            ..
        }) => fail_info,
        other => panic!("expected a rejection, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_are_typed_rejections() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start_server(&dir.path().join("server")).await;
    let any = request(SignatureAlgorithm::EcdsaP256Sha256, b"x", 1);

    // Not DER at all.
    let (status, reply) =
        post_query(&server, b"hello".to_vec(), "application/timestamp-query").await;
    assert_eq!(status, 200);
    assert_eq!(rejection(&reply, &any), vec![FailureInfo::BadDataFormat]);

    // A SHA-1 imprint, from OpenSSL.
    let d = dir.path();
    std::fs::write(d.join("data.bin"), b"x").expect("write");
    let out = Command::new("openssl")
        .current_dir(d)
        .args([
            "ts", "-query", "-data", "data.bin", "-sha1", "-out", "sha1.tsq",
        ])
        .output()
        .expect("openssl");
    assert!(out.status.success());
    let (_, reply) = post_query(
        &server,
        std::fs::read(d.join("sha1.tsq")).expect("read"),
        "application/timestamp-query",
    )
    .await;
    assert_eq!(rejection(&reply, &any), vec![FailureInfo::BadAlg]);

    // Another policy.
    let other_policy = TimeStampRequest::new(
        SignatureAlgorithm::EcdsaP256Sha256,
        &[7; 32],
        None,
        Some(const_oid::ObjectIdentifier::new_unwrap("1.2.3.4.5")),
    )
    .expect("request");
    let (_, reply) = post_query(
        &server,
        other_policy.to_der().expect("der"),
        "application/timestamp-query",
    )
    .await;
    assert_eq!(rejection(&reply, &any), vec![FailureInfo::UnacceptedPolicy]);

    // The wrong media type never reaches the TSA; nor does an oversized body.
    let (status, _) = post_query(&server, any.to_der().expect("der"), "application/json").await;
    assert_eq!(status, 415);
    let (status, _) = post_query(
        &server,
        vec![0x30; inkseal_server::http::MAX_BODY_BYTES + 1],
        "application/timestamp-query",
    )
    .await;
    assert_eq!(status, 413);
    assert_eq!(server.service().metrics().time_stamps, 0);
    server.shutdown().await.expect("shutdown");
}
