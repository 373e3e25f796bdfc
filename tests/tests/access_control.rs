//! Who may call the server, tried the way a penetration tester would against a real server on
//! loopback: anonymous reads, enrollment without a valid ticket, client-chosen key ids,
//! requests without (or with a wrong, replayed or stale) device signature, operators without
//! the role.

use inkseal_cosign::api::{
    CosignRequest, DeviceKeyRegistration, EnrollRequest, EnrollmentTicket, MessageKind, Pin,
    SignedMessage,
};
use inkseal_sdk::SdkError;
use inkseal_server::service::Role;
use inkseal_server::store::TicketRecord;
use inkseal_tests::{
    Backend, Loopback, RawDevice, client_for, enroll, fresh_nonce, now_unix, raw, start_server,
};
use sha2::Digest;

fn pin() -> Pin {
    Pin::new("802461")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anonymous_callers_reach_only_the_public_routes() {
    let Loopback {
        dir: _dir,
        server,
        client,
        backend,
    } = Loopback::start().await;
    let key = enroll(&backend, &client, "customer-1", &pin()).await.key_id;
    client
        .sign_message(&key, &pin(), b"something to find", None)
        .await
        .expect("sign");
    let http = inkseal_tests::http_client();
    let base = server.url();

    for path in ["/v1/health", "/openapi.json", "/v1/ca", "/v1/ca/crl"] {
        let resp = http.get(format!("{base}{path}")).send().await.expect("get");
        assert_eq!(resp.status(), 200, "{path}");
    }
    let (_, signings) = backend.get(&format!("/v1/admin/keys/{key}/signings")).await;
    let idem = signings[0]["idempotency_key"].as_str().expect("signing");
    for path in [
        "/v1/admin/audit".to_owned(),
        "/v1/admin/audit/verify".to_owned(),
        format!("/v1/admin/keys/{key}"),
        format!("/v1/admin/keys/{key}/signings"),
        format!("/v1/admin/keys/{key}/signings/{idem}/evidence"),
        format!("/v1/admin/keys/{key}/signings/{idem}/evidence.pdf"),
        "/v1/admin/credentials".to_owned(),
        format!("/v1/keys/{key}"),
        format!("/v1/keys/{key}/certificate"),
    ] {
        let resp = http.get(format!("{base}{path}")).send().await.expect("get");
        assert_eq!(resp.status(), 401, "{path}");
        assert_eq!(
            resp.headers()
                .get("cache-control")
                .and_then(|v| v.to_str().ok()),
            Some("no-store"),
            "{path}"
        );
        let body: serde_json::Value = resp.json().await.expect("typed error");
        assert_eq!(body["code"], "unauthenticated", "{path}");
        let text = body.to_string();
        assert!(!text.contains("customer-1"), "{path} leaks {text}");
    }
    // The operator sees the same routes, with no-store on personal data.
    let resp = http
        .get(format!("{base}/v1/admin/keys/{key}"))
        .bearer_auth(&backend.api_key)
        .send()
        .await
        .expect("get");
    assert_eq!(resp.status(), 200);
    assert_eq!(
        resp.headers()
            .get("cache-control")
            .and_then(|v| v.to_str().ok()),
        Some("no-store")
    );
    server.shutdown().await.expect("shutdown");
}

/// An enrollment body for `ticket` with a fresh device key, and the key.
fn enrollment(ticket: &EnrollmentTicket, id: &str) -> (EnrollRequest, p256::ecdsa::SigningKey) {
    use p256::pkcs8::EncodePublicKey;
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).expect("random");
    let device = p256::ecdsa::SigningKey::from_slice(&seed).expect("key");
    let spki = device.verifying_key().to_public_key_der().expect("spki");
    let (_, keygen) = inkseal_cosign::ClientKeygen::start(id).expect("keygen");
    let request = EnrollRequest {
        ticket: ticket.clone(),
        pin: pin(),
        device_key: DeviceKeyRegistration {
            public_key_spki_hex: hex::encode(spki.as_bytes()),
            attestation: None,
        },
        keygen,
        purpose: Default::default(),
    };
    (request, device)
}

/// POST /v1/enroll with `body`, signed by `device` as `keyid`.
async fn post_enroll(
    base: &str,
    body: &[u8],
    device: &p256::ecdsa::SigningKey,
    keyid: &str,
) -> (u16, serde_json::Value) {
    let params =
        inkseal_httpsig::SignatureParams::new(keyid, now_unix(), &fresh_nonce()).expect("params");
    let target = inkseal_httpsig::RequestTarget::new("POST", "/v1/enroll", body).expect("target");
    let h = inkseal_httpsig::sign_request(&target, &params, device).expect("sign");
    let headers = vec![
        ("content-type".to_owned(), "application/json".to_owned()),
        ("content-digest".to_owned(), h.content_digest),
        ("signature-input".to_owned(), h.signature_input),
        ("signature".to_owned(), h.signature),
    ];
    raw(
        &inkseal_tests::http_client(),
        "POST",
        &format!("{base}/v1/enroll"),
        &headers,
        body.to_vec(),
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enrollment_needs_a_valid_ticket_and_the_server_picks_the_key_id() {
    let Loopback {
        dir: _dir,
        server,
        client,
        backend,
    } = Loopback::start().await;
    let base = server.url();

    // A ticket the server never issued.
    let forged = EnrollmentTicket::from_parts([7; 16], [9; 32]).to_token();
    assert!(matches!(
        client.enroll(&forged, &pin()).await,
        Err(SdkError::TicketInvalid(ref m)) if m.contains("not recognised")
    ));
    // Not a ticket at all.
    assert!(matches!(
        client.enroll("customer-42", &pin()).await,
        Err(SdkError::TicketInvalid(_))
    ));
    // One ticket's id with another ticket's secret.
    let a = EnrollmentTicket::parse(&backend.ticket("customer-a").await).expect("a");
    let b = EnrollmentTicket::parse(&backend.ticket("customer-b").await).expect("b");
    let mixed = format!("{}.{}", a.id(), hex::encode(b.secret()));
    assert!(matches!(
        client.enroll(&mixed, &pin()).await,
        Err(SdkError::TicketInvalid(ref m)) if m.contains("not recognised")
    ));
    // The phone cannot name the user or the key.
    let (request, device) = enrollment(&a, a.id());
    let mut body = serde_json::to_value(&request).expect("json");
    body["user_id"] = "victim".into();
    let (status, json) = post_enroll(&base, body.to_string().as_bytes(), &device, a.id()).await;
    assert_eq!(status, 400, "{json}");
    let mut body = serde_json::to_value(&request).expect("json");
    body["key_id"] = "admin".into();
    let (status, _) = post_enroll(&base, body.to_string().as_bytes(), &device, a.id()).await;
    assert_eq!(status, 400);
    // The key-generation proofs must be bound to the ticket.
    let (request, device) = enrollment(&a, "my-own-id");
    let body = serde_json::to_vec(&request).expect("json");
    let (status, json) = post_enroll(&base, &body, &device, a.id()).await;
    assert_eq!(status, 400, "{json}");
    // An enrollment not signed by the device key it registers.
    let (request, _) = enrollment(&a, a.id());
    let (_, stranger) = enrollment(&a, a.id());
    let body = serde_json::to_vec(&request).expect("json");
    let (status, json) = post_enroll(&base, &body, &stranger, a.id()).await;
    assert_eq!(
        (status, json["code"].as_str()),
        (401, Some("unauthenticated"))
    );

    // The real holder enrolls: the user and the certificate name are the ticket's, the key
    // id the server's.
    let enrolled = client.enroll(&a.to_token(), &pin()).await.expect("enroll");
    assert_eq!(enrolled.user_id, "customer-a");
    assert!(enrolled.key_id.starts_with("k-") && enrolled.key_id.len() == 34);
    assert_ne!(enrolled.key_id, a.id());
    // Used: refused, however fast the second try.
    assert!(matches!(
        client.enroll(&a.to_token(), &pin()).await,
        Err(SdkError::TicketInvalid(ref m)) if m.contains("already used")
    ));
    // Expired.
    let expired = EnrollmentTicket::from_parts([3; 16], [4; 32]);
    server
        .service()
        .store()
        .insert_ticket(
            &TicketRecord {
                ticket_id: expired.id().to_owned(),
                secret_hash: sha2::Sha256::digest(expired.secret()).to_vec(),
                user_id: "customer-late".into(),
                certificate_name: "customer-late".into(),
                id_binding: None,
                issued_by: "operator:test".into(),
                issued_ms: 1,
                expires_ms: 2,
                used_ms: None,
                key_id: None,
                purpose: inkseal_server::store::KeyPurpose::Signing,
            },
            &inkseal_server::audit::AuditEvent::global(
                inkseal_server::audit::AuditKind::TicketIssued,
                serde_json::json!({}),
            ),
        )
        .expect("insert");
    assert!(matches!(
        client.enroll(&expired.to_token(), &pin()).await,
        Err(SdkError::TicketInvalid(ref m)) if m.contains("expired")
    ));
    // A certificate carries only what the operator asserted: a CSR with another name is
    // refused (the SDK builds it from the enrollment; a raw one says something else).
    let named = backend
        .ticket_with(serde_json::json!({ "user_id": "customer-c", "certificate_name": "王五" }))
        .await;
    let enrolled = client.enroll(&named, &pin()).await.expect("enroll");
    assert_eq!(enrolled.certificate_name, "王五");
    let (cert, _) = client
        .request_certificate(&enrolled.key_id, &pin(), None)
        .await
        .expect("certificate");
    let subject = x509_subject_cn(&cert);
    assert_eq!(subject, "王五");
    // Every refusal above is in the audit log, with the client's address.
    let refusals: Vec<_> = backend
        .audit()
        .await
        .into_iter()
        .filter(|e| e["kind"] == "refused")
        .collect();
    assert!(refusals.len() >= 4, "{refusals:#?}");
    assert!(refusals.iter().all(|e| e["client"] == "127.0.0.1"));
    server.shutdown().await.expect("shutdown");
}

fn x509_subject_cn(der: &[u8]) -> String {
    use der::Decode;
    let cert = x509_cert::Certificate::from_der(der).expect("certificate");
    cert.tbs_certificate()
        .subject()
        .to_string()
        .trim_start_matches("CN=")
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_need_the_keys_device_signature_and_strangers_burn_no_pin() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start_server(&dir.path().join("server")).await;
    let backend = Backend::new(&server);
    let victim_dir = dir.path().join("victim");
    let victim = client_for(&server, &victim_dir);
    let key = enroll(&backend, &victim, "customer-v", &pin()).await.key_id;
    let attacker_dir = dir.path().join("attacker");
    let attacker = client_for(&server, &attacker_dir);
    let own = enroll(&backend, &attacker, "customer-x", &pin())
        .await
        .key_id;
    let victim_device = RawDevice::new(&victim_dir);
    let attacker_device = RawDevice::new(&attacker_dir);
    let http = inkseal_tests::http_client();
    let base = server.url();

    // A wrong-PIN signing request about the victim's key, as bytes.
    let share = victim_device.share(&key);
    let message = SignedMessage::new(MessageKind::Raw, b"pay me".to_vec()).expect("message");
    let (_, sign) = share
        .start_sign(&share.digest(message.bytes()))
        .expect("start");
    let body = serde_json::to_vec(&CosignRequest {
        idempotency_key: "attack-0001".into(),
        pin: Pin::new("999999"),
        evidence_head: None,
        message,
        sign,
    })
    .expect("json");
    let path = format!("/v1/keys/{key}/sign");
    let url = format!("{base}{path}");
    let content_type = vec![("content-type".to_owned(), "application/json".to_owned())];

    // No signature at all.
    let (status, none) = raw(&http, "POST", &url, &content_type, body.clone()).await;
    assert_eq!(
        (status, none["code"].as_str()),
        (401, Some("unauthenticated"))
    );
    // Signed by the attacker's own device key, claiming the victim's key id.
    let wrong =
        attacker_device.headers(&own, &key, "POST", &path, &body, now_unix(), &fresh_nonce());
    let (status, bad_signature) = raw(&http, "POST", &url, &wrong, body.clone()).await;
    // The same request about a key that does not exist: the same answer, word for word.
    let ghost_path = "/v1/keys/k-00000000000000000000000000000000/sign";
    let ghost = attacker_device.headers(
        &own,
        "k-00000000000000000000000000000000",
        "POST",
        ghost_path,
        &body,
        now_unix(),
        &fresh_nonce(),
    );
    let (ghost_status, unknown_key) = raw(
        &http,
        "POST",
        &format!("{base}{ghost_path}"),
        &ghost,
        body.clone(),
    )
    .await;
    assert_eq!((status, ghost_status), (401, 401));
    assert_eq!(
        bad_signature, unknown_key,
        "an unknown key and a bad signature look alike"
    );
    // A valid signature over a different body.
    let mut tampered = body.clone();
    tampered.extend_from_slice(b" ");
    let signed_other = victim_device.signed(&key, "POST", &path, &body);
    let (status, _) = raw(&http, "POST", &url, &signed_other, tampered).await;
    assert_eq!(status, 401);
    // A valid signature made ten minutes ago: outside the clock window.
    let stale = victim_device.headers(
        &key,
        &key,
        "POST",
        &path,
        &body,
        now_unix() - 600,
        &fresh_nonce(),
    );
    let (status, skew) = raw(&http, "POST", &url, &stale, body.clone()).await;
    assert_eq!((status, skew["code"].as_str()), (401, Some("clock_skew")));
    assert!(skew["server_time_unix"].as_u64().expect("time") >= now_unix() - 5);
    // Nothing so far reached the PIN check.
    assert_eq!(server.service().metrics().pin_comparisons, 0);
    let (_, status_json) = backend.get(&format!("/v1/admin/keys/{key}")).await;
    assert_eq!(status_json["pin_failures"], 0);

    // The victim's own (captured) request works once; its replay is refused.
    let genuine = victim_device.signed(&key, "POST", &path, &body);
    let (status, first) = raw(&http, "POST", &url, &genuine, body.clone()).await;
    assert_eq!((status, first["code"].as_str()), (403, Some("wrong_pin")));
    let (status, replay) = raw(&http, "POST", &url, &genuine, body.clone()).await;
    assert_eq!(
        (status, replay["code"].as_str()),
        (401, Some("unauthenticated"))
    );
    assert!(
        replay["message"]
            .as_str()
            .expect("message")
            .contains("replay")
    );
    assert_eq!(server.service().metrics().pin_comparisons, 1);
    let (_, status_json) = backend.get(&format!("/v1/admin/keys/{key}")).await;
    assert_eq!(status_json["pin_failures"], 1);

    // The SDK with the wrong device gets a typed error; the right one still signs.
    std::fs::copy(
        victim_dir.join(format!("{key}.share.json")),
        attacker_dir.join(format!("{key}.share.json")),
    )
    .expect("steal the share file");
    let err = attacker
        .sign_message(&key, &pin(), b"with a stolen share and PIN", None)
        .await
        .expect_err("no device key");
    assert!(
        matches!(err, SdkError::UnknownKey(_) | SdkError::Unauthenticated(_)),
        "{err:?}"
    );
    victim
        .sign_message(&key, &pin(), b"the real phone", None)
        .await
        .expect("signs");
    // Refusals are audited with the claimed key and the address.
    let audit = backend.audit().await;
    let device_refusals = audit
        .iter()
        .filter(|e| {
            e["kind"] == "refused"
                && e["detail"]
                    .as_str()
                    .is_some_and(|d| d.contains("device authentication"))
        })
        .count();
    assert!(device_refusals >= 4, "{device_refusals}");
    server.shutdown().await.expect("shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operators_need_the_route_s_role_and_a_live_credential() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start_server(&dir.path().join("server")).await;
    let auditor = Backend::with_roles(&server, &[Role::AuditRead]);
    let admin = Backend::with_roles(&server, &[Role::CredentialsManage]);

    // An auditor cannot issue tickets, export evidence or manage credentials.
    let (status, body) = auditor
        .post("/v1/admin/tickets", serde_json::json!({ "user_id": "u" }))
        .await;
    assert_eq!((status, body["code"].as_str()), (403, Some("forbidden")));
    assert!(
        body["message"]
            .as_str()
            .expect("message")
            .contains("enroll")
    );
    let (status, _) = auditor.get("/v1/admin/credentials").await;
    assert_eq!(status, 403);
    let (status, _) = auditor.get("/v1/admin/audit").await;
    assert_eq!(status, 200);

    // The credentials admin makes an enrolment credential over HTTP; the key is shown once.
    let (status, created) = admin
        .post(
            "/v1/admin/credentials",
            serde_json::json!({ "name": "branch 12", "roles": ["enroll"] }),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let key = created["api_key"].as_str().expect("api key").to_owned();
    let id = created["credential"]["credential_id"]
        .as_str()
        .expect("id")
        .to_owned();
    let branch = Backend {
        api_key: key.clone(),
        credential_id: id.clone(),
        ..admin.clone()
    };
    let (status, _) = branch
        .post(
            "/v1/admin/tickets",
            serde_json::json!({ "user_id": "customer-9" }),
        )
        .await;
    assert_eq!(status, 201);
    let (_, list) = admin.get("/v1/admin/credentials").await;
    assert!(
        !list
            .to_string()
            .contains(key.split('.').nth(1).expect("secret"))
    );

    // Revoked: never authenticates again. A wrong secret: neither.
    let (status, _) = admin
        .send(
            reqwest::Method::DELETE,
            &format!("/v1/admin/credentials/{id}"),
            serde_json::json!({}),
        )
        .await;
    assert_eq!(status, 200);
    let (status, _) = branch
        .post(
            "/v1/admin/tickets",
            serde_json::json!({ "user_id": "customer-10" }),
        )
        .await;
    assert_eq!(status, 401);
    let wrong_secret = Backend {
        api_key: format!("{}.{}", auditor.credential_id, "00".repeat(32)),
        ..auditor.clone()
    };
    let (status, _) = wrong_secret.get("/v1/admin/audit").await;
    assert_eq!(status, 401);

    // The audit log names the operator behind each action.
    let entries = auditor.audit().await;
    let issued = entries
        .iter()
        .find(|e| e["kind"] == "ticket_issued")
        .expect("ticket entry");
    assert_eq!(issued["actor"], format!("operator:{id}").as_str());
    assert!(entries.iter().any(|e| e["kind"] == "credential_revoked"
        && e["actor"] == format!("operator:{}", admin.credential_id).as_str()));
    let refused_roles = entries
        .iter()
        .filter(|e| {
            e["kind"] == "refused"
                && e["detail"]
                    .as_str()
                    .is_some_and(|d| d.contains("missing role"))
        })
        .count();
    assert_eq!(refused_roles, 2);
    server.shutdown().await.expect("shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_audit_log_is_anchored_by_signed_checkpoints() {
    let Loopback {
        dir: _dir,
        server,
        client,
        backend,
    } = Loopback::start().await;
    let key = enroll(&backend, &client, "customer-1", &pin()).await.key_id;
    for i in 0..3 {
        client
            .sign_message(&key, &pin(), format!("m{i}").as_bytes(), None)
            .await
            .expect("sign");
    }
    let service = server.service().clone();
    let checkpoint = tokio::task::spawn_blocking(move || service.audit().checkpoint())
        .await
        .expect("task")
        .expect("checkpoint")
        .expect("a new head to anchor");
    let (status, key_info) = backend.get("/v1/admin/audit/key").await;
    assert_eq!(status, 200);
    let public = hex::decode(key_info["public_key_sec1_hex"].as_str().expect("key")).expect("hex");
    let vk = p256::ecdsa::VerifyingKey::from_sec1_bytes(&public).expect("point");
    assert!(
        checkpoint.verifies(&vk),
        "anyone holding the published key can check it"
    );
    let (status, report) = backend.get("/v1/admin/audit/verify").await;
    assert_eq!(status, 200);
    assert_eq!(report["problems"], serde_json::json!([]));
    // A SQLite log is one lane, `main`: its checkpoints name that lane's head alone.
    assert_eq!(checkpoint.heads.len(), 1);
    assert_eq!(checkpoint.heads[0].lane, "main");
    assert_eq!(report["anchored_through"], checkpoint.heads[0].seq);
    assert_eq!(report["lanes"][0]["lane"], "main");
    let (status, lanes) = backend.get("/v1/admin/audit/lanes").await;
    assert_eq!(status, 200);
    assert_eq!(lanes[0]["lane"], "main");
    assert!(lanes[0]["seq"].as_u64() >= Some(checkpoint.heads[0].seq));
    let (status, page) = backend
        .get("/v1/admin/audit?lane=main&from=2&limit=2")
        .await;
    assert_eq!(status, 200);
    assert_eq!(page[0]["seq"], 2);
    assert_eq!(page[0]["lane"], "main");
    server.shutdown().await.expect("shutdown");
}
