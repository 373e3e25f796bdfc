//! The whole co-signing flow over HTTP against a real server on loopback.

use inkseal_cosign::api::{
    CosignRequest, CosignResponse, ErrorBody, ErrorCode, MessageKind, Pin, SignedMessage,
};
use inkseal_cosign::sm2::dsa::VerifyingKey;
use inkseal_cosign::sm2::dsa::signature::Verifier;
use inkseal_cosign::{ClientKeyShare, DEFAULT_SIGNER_ID};
use inkseal_sdk::{SdkError, ShareStore};
use inkseal_server::audit::verify_chain;
use inkseal_tests::{
    Backend, Loopback, RawDevice, client_at, client_for, enroll, raw, start_server,
};

fn pin() -> Pin {
    Pin::new("802461")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enroll_certify_and_sign_100_messages() {
    let Loopback {
        dir: _dir,
        server,
        client,
        backend,
    } = Loopback::start().await;
    let enrolled = enroll(&backend, &client, "alice", &pin()).await;

    let (cert, ca) = client
        .request_certificate(&enrolled.key_id, &pin(), None)
        .await
        .expect("certificate");
    assert_eq!(
        inkseal_pki::certificate_public_key(&cert).expect("cert key"),
        enrolled.public_key
    );
    inkseal_pki::verify_certificate_signature(&cert, &ca).expect("issued by the CA");
    let status = client.status(&enrolled.key_id).await.expect("status");
    assert!(status.has_certificate && !status.locked && !status.revoked);
    assert_eq!(status.user_id, "alice");

    let vk = VerifyingKey::new(DEFAULT_SIGNER_ID, enrolled.public_key).expect("vk");
    for i in 0..100 {
        let msg = format!("loan contract #{i}: 人民币 {i}0,000 元");
        let sig = client
            .sign_message(&enrolled.key_id, &pin(), msg.as_bytes(), None)
            .await
            .expect("co-sign");
        vk.verify(msg.as_bytes(), &sig).expect("sm2 crate verifies");
        assert!(vk.verify(b"another message", &sig).is_err());
    }

    // Every enrollment, certificate and signature is in an intact hash chain.
    let entries = server
        .service()
        .store()
        .audit_entries("main", 1, 10_000)
        .expect("audit");
    verify_chain(&entries).expect("audit chain intact");
    let signed = entries.iter().filter(|e| e.kind == "signed").count();
    assert_eq!(signed, 101, "100 messages plus the CSR");
    assert_eq!(entries[1].kind, "ticket_issued");
    assert_eq!(entries[2].kind, "enrolled");
    // Every entry names its caller and address.
    assert!(entries[1].actor.starts_with("operator:op-"));
    assert!(
        entries[2..]
            .iter()
            .all(|e| e.actor.starts_with("device:") && e.client == "127.0.0.1"),
        "{entries:#?}"
    );
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
    let Loopback {
        dir: _dir,
        server,
        client,
        backend,
    } = Loopback::start().await;
    let key = enroll(&backend, &client, "bob", &pin()).await.key_id;
    let wrong = Pin::new("999999");

    // A right PIN resets the consecutive count.
    assert_eq!(
        client.sign_message(&key, &wrong, b"m", None).await.err(),
        Some(SdkError::WrongPin { attempts_left: 4 })
    );
    client
        .sign_message(&key, &pin(), b"m", None)
        .await
        .expect("right PIN");
    assert_eq!(client.status(&key).await.expect("status").pin_failures, 0);

    for left in [4, 3, 2, 1] {
        assert_eq!(
            client.sign_message(&key, &wrong, b"m", None).await.err(),
            Some(SdkError::WrongPin {
                attempts_left: left
            })
        );
    }
    assert_eq!(
        client.sign_message(&key, &wrong, b"m", None).await.err(),
        Some(SdkError::Locked)
    );
    // Locked: even the right PIN never co-signs again.
    assert_eq!(
        client.sign_message(&key, &pin(), b"m", None).await.err(),
        Some(SdkError::Locked)
    );
    let status = client.status(&key).await.expect("status");
    assert!(status.locked);
    assert_eq!(status.pin_failures, 5);
    let entries = server
        .service()
        .store()
        .audit_entries("main", 1, 1000)
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
    let backend = Backend::new(&server);
    let key = enroll(&backend, &client, "carol", &secret_pin).await.key_id;
    // The device keeps the share and public data only: no PIN, no hash of it.
    let file =
        std::fs::read_to_string(device.join(format!("{key}.share.json"))).expect("share file");
    assert!(!file.contains("864209"));
    let json: serde_json::Value = serde_json::from_str(&file).expect("json");
    let mut fields: Vec<&String> = json.as_object().expect("object").keys().collect();
    fields.sort();
    assert_eq!(
        fields,
        [
            "certificate_name",
            "device_key_alias",
            "key_id",
            "public_key",
            "secret",
            "user_id"
        ]
    );
    // And the share alone cannot produce a signature: the server's half is needed.
    let store = inkseal_sdk::FileShareStore::new(&device).expect("store");
    let stored = store.load(&key).expect("load").expect("present");
    let secret: [u8; 32] = stored.secret.as_slice().try_into().expect("32 bytes");
    let share = ClientKeyShare::from_parts(&key, &secret, &stored.public_key).expect("share");
    let (session, _) = share.start_sign(&[1u8; 32]).expect("start");
    let forged = inkseal_cosign::SignResponse {
        v: inkseal_cosign::SIGN_PROTOCOL_VERSION,
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
    let backend = Backend::new(&server);
    let enrolled = enroll(&backend, &client, "dave", &pin()).await;
    let (_, ca_before) = client
        .request_certificate(&enrolled.key_id, &pin(), None)
        .await
        .expect("cert");
    client
        .sign_message(&enrolled.key_id, &pin(), b"before", None)
        .await
        .expect("sign");
    server.shutdown().await.expect("shutdown");

    let server = start_server(&data).await;
    let client = client_at(&server.url(), &device);
    let sig = client
        .sign_message(&enrolled.key_id, &pin(), b"after restart", None)
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
        .audit_entries("main", 1, 1000)
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
    let backend = Backend::new(&server);
    let key = enroll(&backend, &client, "erin", &pin()).await.key_id;
    let raw_device = RawDevice::new(&device);
    let share = raw_device.share(&key);
    let message = SignedMessage::new(MessageKind::Raw, b"pay 100".to_vec()).expect("message");
    let e = share.digest(message.bytes());
    let (session, sign) = share.start_sign(&e).expect("start");
    let request = CosignRequest {
        idempotency_key: "retry-0001".into(),
        pin: pin(),
        evidence_head: None,
        message,
        sign,
    };
    let body = serde_json::to_vec(&request).expect("json");
    let http = inkseal_tests::http_client();
    let path = format!("/v1/keys/{key}/sign");
    let url = format!("{}{path}", server.url());
    // Ten concurrent copies of the same request (a flaky network retrying; each attempt is
    // signed anew, as the SDK does).
    let mut tasks = Vec::new();
    for _ in 0..10 {
        let headers = raw_device.signed(&key, "POST", &path, &body);
        let (http, url, body) = (http.clone(), url.clone(), body.clone());
        tasks.push(tokio::spawn(async move {
            let (status, json) = raw(&http, "POST", &url, &headers, body).await;
            assert_eq!(status, 200, "{json}");
            serde_json::from_value::<CosignResponse>(json).expect("response")
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
        .audit_entries("main", 1, 1000)
        .expect("audit");
    assert_eq!(entries.iter().filter(|e| e.kind == "signed").count(), 1);

    // The same key for a different request is a conflict, not a second signature.
    let other_message =
        SignedMessage::new(MessageKind::Raw, b"pay 1,000,000".to_vec()).expect("message");
    let (_, other) = share
        .start_sign(&share.digest(other_message.bytes()))
        .expect("start");
    let reused = CosignRequest {
        message: other_message,
        sign: other,
        ..request.clone()
    };
    let body = serde_json::to_vec(&reused).expect("json");
    let headers = raw_device.signed(&key, "POST", &path, &body);
    let (status, json) = raw(&http, "POST", &url, &headers, body).await;
    assert_eq!(status, 409);
    assert_eq!(json["code"], "conflict");

    // A request whose e is not SM3(Z_A || message) is refused: the server signs only what it
    // read.
    let lie = SignedMessage::new(MessageKind::Raw, b"pay 1".to_vec()).expect("message");
    let (_, lying_sign) = share
        .start_sign(&share.digest(b"pay 1,000,000"))
        .expect("start");
    let lying = CosignRequest {
        idempotency_key: "retry-0002".into(),
        message: lie,
        sign: lying_sign,
        ..request.clone()
    };
    let body = serde_json::to_vec(&lying).expect("json");
    let headers = raw_device.signed(&key, "POST", &path, &body);
    let (status, json) = raw(&http, "POST", &url, &headers, body).await;
    assert_eq!(status, 400, "{json}");
    assert!(
        json["message"]
            .as_str()
            .expect("message")
            .contains("sign.e")
    );
    server.shutdown().await.expect("shutdown");
}

/// Phones built before the version 2 signing round send `Q1 = w1 G`: the server still
/// co-signs them, over HTTP, and the signature is valid; a version 2 round from the same key
/// right after also is, and the two rounds' audit entries are alike.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_version_1_phone_still_signs_through_the_server() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start_server(&dir.path().join("server")).await;
    let device = dir.path().join("device");
    let client = client_for(&server, &device);
    let backend = Backend::new(&server);
    let enrolled = enroll(&backend, &client, "older-app", &pin()).await;
    let key = enrolled.key_id;
    let raw_device = RawDevice::new(&device);
    let share = raw_device.share(&key);
    let http = inkseal_tests::http_client();
    let path = format!("/v1/keys/{key}/sign");
    let url = format!("{}{path}", server.url());
    let vk = VerifyingKey::new(DEFAULT_SIGNER_ID, enrolled.public_key).expect("vk");
    for (version, text) in [
        (1u32, &b"signed by app 1.0"[..]),
        (2, &b"signed by app 2.0"[..]),
    ] {
        let message = SignedMessage::new(MessageKind::Raw, text.to_vec()).expect("message");
        let e = share.digest(message.bytes());
        let (session, sign) = if version == 1 {
            share.start_sign_v1(&e).expect("start")
        } else {
            share.start_sign(&e).expect("start")
        };
        let body = serde_json::to_vec(&CosignRequest {
            idempotency_key: format!("version-{version}-0001"),
            pin: pin(),
            evidence_head: None,
            message,
            sign,
        })
        .expect("json");
        let wire: serde_json::Value = serde_json::from_slice(&body).expect("json");
        assert_eq!(wire["sign"]["v"], version);
        let headers = raw_device.signed(&key, "POST", &path, &body);
        let (status, json) = raw(&http, "POST", &url, &headers, body).await;
        assert_eq!(status, 200, "{json}");
        let answer: CosignResponse = serde_json::from_value(json).expect("response");
        assert_eq!(
            answer.sign.v, version,
            "the answer echoes the round's version"
        );
        let sig = session
            .finish(&answer.sign)
            .expect("a valid half-signature");
        vk.verify(text, &sig).expect("a valid SM2 signature");
    }
    let entries = server
        .service()
        .store()
        .audit_entries("main", 1, 1000)
        .expect("audit");
    assert_eq!(entries.iter().filter(|e| e.kind == "signed").count(), 2);
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
    let http = inkseal_tests::http_client();
    let base = server.url();
    let post = |path: &str, body: Vec<u8>| {
        http.post(format!("{base}{path}"))
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    // An unsigned enrollment is refused before its body is read.
    let resp = post("/v1/enroll", b"{not json".to_vec())
        .await
        .expect("send");
    assert_eq!(resp.status(), 401);
    assert_eq!(
        resp.json::<ErrorBody>().await.expect("body").code,
        ErrorCode::Unauthenticated
    );
    let resp = post("/v1/enroll", vec![b' '; 200 * 1024])
        .await
        .expect("send");
    assert_eq!(resp.status(), 413);
    assert_eq!(
        resp.json::<ErrorBody>().await.expect("body").code,
        ErrorCode::TooLarge
    );
    // A key route without a device signature: unauthenticated, whether the key exists or not.
    let resp = http
        .get(format!("{base}/v1/keys/nope"))
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status(), 401);
    assert_eq!(
        resp.json::<ErrorBody>().await.expect("body").code,
        ErrorCode::Unauthenticated
    );
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
    let ticket = inkseal_cosign::api::EnrollmentTicket::from_parts([1; 16], [2; 32]).to_token();
    assert!(matches!(
        client.enroll(&ticket, &pin()).await,
        Err(SdkError::Network(_))
    ));
}
