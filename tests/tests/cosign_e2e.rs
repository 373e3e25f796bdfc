//! The whole co-signing flow over HTTP against a real server on loopback.

use inkseal_cosign::api::{CosignRequest, CosignResponse, ErrorBody, ErrorCode, Pin};
use inkseal_cosign::sm2::dsa::VerifyingKey;
use inkseal_cosign::sm2::dsa::signature::Verifier;
use inkseal_cosign::{ClientKeyShare, DEFAULT_SIGNER_ID};
use inkseal_sdk::{SdkError, ShareStore};
use inkseal_server::audit::verify_chain;
use inkseal_tests::{client_at, client_for, start_server};

fn pin() -> Pin {
    Pin::new("123456")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enroll_certify_and_sign_100_messages() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start_server(&dir.path().join("server")).await;
    let client = client_for(&server, &dir.path().join("device"));
    let enrolled = client.enroll("alice", &pin()).await.expect("enroll");

    let (cert, ca) = client
        .request_certificate(&enrolled.key_id, &pin())
        .await
        .expect("certificate");
    assert_eq!(
        inkseal_pki::certificate_public_key(&cert).expect("cert key"),
        enrolled.public_key
    );
    inkseal_pki::verify_certificate_signature(&cert, &ca).expect("issued by the CA");
    let status = client.status(&enrolled.key_id).await.expect("status");
    assert!(status.has_certificate && !status.locked && status.user_id == "alice");

    let vk = VerifyingKey::new(DEFAULT_SIGNER_ID, enrolled.public_key).expect("vk");
    for i in 0..100 {
        let msg = format!("loan contract #{i}: 人民币 {i}0,000 元");
        let sig = client
            .sign_message(&enrolled.key_id, &pin(), msg.as_bytes())
            .await
            .expect("co-sign");
        vk.verify(msg.as_bytes(), &sig).expect("sm2 crate verifies");
        assert!(vk.verify(b"another message", &sig).is_err());
    }

    // Every enrollment, certificate and signature is in an intact hash chain.
    let entries = server
        .service()
        .store()
        .audit_entries(1, 10_000)
        .expect("audit");
    verify_chain(&entries).expect("audit chain intact");
    let signed = entries.iter().filter(|e| e.kind == "signed").count();
    assert_eq!(signed, 101, "100 messages plus the CSR");
    assert_eq!(entries[0].kind, "enrolled");
    assert!(entries.iter().any(|e| e.kind == "certificate_issued"));
    // The signed digests are recorded: the last entry carries the e of the last message.
    let last_msg = "loan contract #99: 人民币 990,000 元";
    let e = client
        .digest(&enrolled.key_id, last_msg.as_bytes())
        .expect("digest");
    assert!(
        entries
            .last()
            .expect("entries")
            .detail
            .contains(&hex::encode(e))
    );
    server.shutdown().await.expect("shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifth_wrong_pin_locks_the_key_for_good() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start_server(&dir.path().join("server")).await;
    let client = client_for(&server, &dir.path().join("device"));
    let key = client.enroll("bob", &pin()).await.expect("enroll").key_id;
    let wrong = Pin::new("999999");

    // A right PIN resets the consecutive count.
    assert_eq!(
        client.sign_message(&key, &wrong, b"m").await.err(),
        Some(SdkError::WrongPin { attempts_left: 4 })
    );
    client
        .sign_message(&key, &pin(), b"m")
        .await
        .expect("right PIN");
    assert_eq!(client.status(&key).await.expect("status").pin_failures, 0);

    for left in [4, 3, 2, 1] {
        assert_eq!(
            client.sign_message(&key, &wrong, b"m").await.err(),
            Some(SdkError::WrongPin {
                attempts_left: left
            })
        );
    }
    assert_eq!(
        client.sign_message(&key, &wrong, b"m").await.err(),
        Some(SdkError::Locked)
    );
    // Locked: even the right PIN never co-signs again.
    assert_eq!(
        client.sign_message(&key, &pin(), b"m").await.err(),
        Some(SdkError::Locked)
    );
    let status = client.status(&key).await.expect("status");
    assert!(status.locked);
    assert_eq!(status.pin_failures, 5);
    let entries = server
        .service()
        .store()
        .audit_entries(1, 1000)
        .expect("audit");
    assert_eq!(
        entries.iter().filter(|e| e.kind == "pin_failure").count(),
        6
    );
    assert_eq!(entries.iter().filter(|e| e.kind == "locked").count(), 1);
    assert!(entries.iter().any(|e| e.kind == "refused"));
    verify_chain(&entries).expect("chain");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_on_the_device_tests_a_pin() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start_server(&dir.path().join("server")).await;
    let device = dir.path().join("device");
    let client = client_for(&server, &device);
    let secret_pin = Pin::new("864209");
    let key = client
        .enroll("carol", &secret_pin)
        .await
        .expect("enroll")
        .key_id;
    // The device keeps the share and public data only: no PIN, no hash of it.
    let file =
        std::fs::read_to_string(device.join(format!("{key}.share.json"))).expect("share file");
    assert!(!file.contains("864209"));
    let json: serde_json::Value = serde_json::from_str(&file).expect("json");
    let mut fields: Vec<&String> = json.as_object().expect("object").keys().collect();
    fields.sort();
    assert_eq!(fields, ["key_id", "public_key", "secret", "user_id"]);
    // And the share alone cannot produce a signature: the server's half is needed.
    let store = inkseal_sdk::FileShareStore::new(&device).expect("store");
    let stored = store.load(&key).expect("load").expect("present");
    let secret: [u8; 32] = stored.secret.as_slice().try_into().expect("32 bytes");
    let share = ClientKeyShare::from_parts(&key, &secret, &stored.public_key).expect("share");
    let (session, _) = share.start_sign(&[1u8; 32]).expect("start");
    let forged = inkseal_cosign::SignResponse {
        v: 1,
        r: inkseal_cosign::HexScalar([1u8; 32]),
        s1: inkseal_cosign::HexScalar([2u8; 32]),
    };
    assert!(session.finish(&forged).is_err());
    server.shutdown().await.expect("shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_server_keeps_every_user_able_to_sign() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("server");
    let device = dir.path().join("device");
    let server = start_server(&data).await;
    let client = client_for(&server, &device);
    let enrolled = client.enroll("dave", &pin()).await.expect("enroll");
    let (_, ca_before) = client
        .request_certificate(&enrolled.key_id, &pin())
        .await
        .expect("cert");
    client
        .sign_message(&enrolled.key_id, &pin(), b"before")
        .await
        .expect("sign");
    server.shutdown().await.expect("shutdown");

    let server = start_server(&data).await;
    let client = client_at(&server.url(), &device);
    let sig = client
        .sign_message(&enrolled.key_id, &pin(), b"after restart")
        .await
        .expect("sign after restart");
    let vk = VerifyingKey::new(DEFAULT_SIGNER_ID, enrolled.public_key).expect("vk");
    vk.verify(b"after restart", &sig).expect("verifies");
    assert_eq!(
        server.service().ca_certificate(),
        &ca_before[..],
        "same CA after restart"
    );
    let entries = server
        .service()
        .store()
        .audit_entries(1, 1000)
        .expect("audit");
    verify_chain(&entries).expect("chain continues across restarts");
    server.shutdown().await.expect("shutdown");
}

/// Raw HTTP: the same idempotency key returns the same answer and never signs twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retried_requests_are_answered_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start_server(&dir.path().join("server")).await;
    let device = dir.path().join("device");
    let client = client_for(&server, &device);
    let key = client.enroll("erin", &pin()).await.expect("enroll").key_id;
    let store = inkseal_sdk::FileShareStore::new(&device).expect("store");
    let stored = store.load(&key).expect("load").expect("present");
    let secret: [u8; 32] = stored.secret.as_slice().try_into().expect("32 bytes");
    let share = ClientKeyShare::from_parts(&key, &secret, &stored.public_key).expect("share");
    let e = share.digest(b"pay 100");
    let (session, sign) = share.start_sign(&e).expect("start");
    let request = CosignRequest {
        idempotency_key: "retry-0001".into(),
        pin: pin(),
        evidence_head: None,
        sign,
    };
    let http = reqwest::Client::new();
    let url = format!("{}/v1/keys/{key}/sign", server.url());
    // Ten concurrent copies of the same request (a flaky network retrying).
    let mut tasks = Vec::new();
    for _ in 0..10 {
        let (http, url, body) = (http.clone(), url.clone(), request.clone());
        tasks.push(tokio::spawn(async move {
            let resp = http.post(&url).json(&body).send().await.expect("send");
            assert_eq!(resp.status(), 200);
            resp.json::<CosignResponse>().await.expect("json")
        }));
    }
    let mut answers = Vec::new();
    for t in tasks {
        answers.push(t.await.expect("task"));
    }
    assert!(
        answers.windows(2).all(|w| w[0] == w[1]),
        "one answer for all retries"
    );
    share_finish_ok(session, &answers[0]);
    let entries = server
        .service()
        .store()
        .audit_entries(1, 1000)
        .expect("audit");
    assert_eq!(entries.iter().filter(|e| e.kind == "signed").count(), 1);

    // The same key for a different request is a conflict, not a second signature.
    let (_, other) = share
        .start_sign(&share.digest(b"pay 1,000,000"))
        .expect("start");
    let reused = CosignRequest {
        sign: other,
        ..request.clone()
    };
    let resp = http.post(&url).json(&reused).send().await.expect("send");
    assert_eq!(resp.status(), 409);
    let body: ErrorBody = resp.json().await.expect("error body");
    assert_eq!(body.code, ErrorCode::Conflict);
    server.shutdown().await.expect("shutdown");
}

fn share_finish_ok(session: inkseal_cosign::SignSession, resp: &CosignResponse) {
    session
        .finish(&resp.sign)
        .expect("the replayed answer is a valid half-signature");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_http_input_gets_typed_errors() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start_server(&dir.path().join("server")).await;
    let http = reqwest::Client::new();
    let base = server.url();
    let post = |path: &str, body: Vec<u8>| {
        http.post(format!("{base}{path}"))
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    let resp = post("/v1/enroll", b"{not json".to_vec())
        .await
        .expect("send");
    assert_eq!(resp.status(), 400);
    assert_eq!(
        resp.json::<ErrorBody>().await.expect("body").code,
        ErrorCode::BadRequest
    );
    let resp = post("/v1/enroll", vec![b' '; 200 * 1024])
        .await
        .expect("send");
    assert_eq!(resp.status(), 413);
    let resp = http
        .get(format!("{base}/v1/keys/nope"))
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status(), 404);
    assert_eq!(
        resp.json::<ErrorBody>().await.expect("body").code,
        ErrorCode::UnknownKey
    );
    // An enrollment whose proof is for another id is refused.
    let (_, mut keygen) = inkseal_cosign::ClientKeygen::start("abc").expect("keygen");
    keygen.enrollment_id = "abd".into();
    let body = serde_json::json!({ "user_id": "u", "pin": "123456", "keygen": keygen });
    let resp = post("/v1/enroll", body.to_string().into_bytes())
        .await
        .expect("send");
    assert_eq!(resp.status(), 400);
    // A short PIN is refused at enrollment.
    let (_, keygen) = inkseal_cosign::ClientKeygen::start("abe").expect("keygen");
    let body = serde_json::json!({ "user_id": "u", "pin": "12", "keygen": keygen });
    let resp = post("/v1/enroll", body.to_string().into_bytes())
        .await
        .expect("send");
    assert_eq!(resp.status(), 400);
    server.shutdown().await.expect("shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn network_failures_are_reported_as_such() {
    // Nothing listens on this port (bound then released).
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let dir = tempfile::tempdir().expect("tempdir");
    let client = client_at(&format!("http://127.0.0.1:{port}"), dir.path());
    assert!(matches!(
        client.enroll("x", &pin()).await,
        Err(SdkError::Network(_))
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openapi_document_describes_every_route() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start_server(&dir.path().join("server")).await;
    let doc: serde_json::Value = reqwest::get(format!("{}/openapi.json", server.url()))
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    let paths = doc["paths"].as_object().expect("paths");
    for p in [
        "/v1/health",
        "/v1/ca",
        "/v1/enroll",
        "/v1/keys/{key_id}",
        "/v1/keys/{key_id}/certificate",
        "/v1/keys/{key_id}/sign",
        "/v1/keys/{key_id}/liveness/challenge",
        "/v1/keys/{key_id}/evidence",
        "/v1/keys/{key_id}/signings/{idempotency_key}/evidence",
        "/v1/keys/{key_id}/signings/{idempotency_key}/evidence.pdf",
        "/v1/audit",
    ] {
        assert!(paths.contains_key(p), "{p} documented");
    }
    // Every documented operation is served (the router's own 404/405 have no error body).
    let http = reqwest::Client::new();
    for (path, ops) in paths {
        for method in ops.as_object().expect("ops").keys() {
            let url = format!("{}{}", server.url(), path.replace("{key_id}", "k"));
            let req = match method.as_str() {
                "get" => http.get(&url),
                "post" => http
                    .post(&url)
                    .header("content-type", "application/json")
                    .body("{}"),
                other => panic!("unexpected method {other}"),
            };
            let resp = req.send().await.expect("send");
            assert_ne!(resp.status(), 405, "{method} {path}");
            if !resp.status().is_success() {
                let body: ErrorBody = resp.json().await.expect("typed error body");
                assert!(!body.message.is_empty());
            }
        }
    }
    server.shutdown().await.expect("shutdown");
}
