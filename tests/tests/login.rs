//! Certificate login (issue 17) through a real server on loopback: the backend issues a
//! challenge, the phone co-signs a login assertion (one round trip), the backend verifies it
//! and learns who logged in; replayed, expired, revoked and misdirected assertions are refused,
//! typed and audited. BouncyCastle verifies the co-signed assertion.

use inkseal_cosign::api::LoginChallenge;
use inkseal_pdf::cms::attached::{LoginRevocation, LoginVerifyError, verify_login};
use inkseal_sdk::SdkError;
use inkseal_tests::validators::bouncycastle_cms_check;
use inkseal_tests::{Backend, CertifiedKey, certified_key, now_unix};
use serde_json::json;

const RP: &str = "bank.example";

async fn challenge(backend: &Backend, ttl_secs: u64) -> LoginChallenge {
    let (status, body) = backend
        .post(
            "/v1/admin/login/challenges",
            json!({ "relying_party": RP, "ttl_secs": ttl_secs }),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    serde_json::from_value(body).expect("a LoginChallenge")
}

async fn verify(backend: &Backend, der: &[u8], relying_party: &str) -> (u16, serde_json::Value) {
    backend
        .post(
            "/v1/admin/login/verify",
            json!({ "assertion_der_hex": hex::encode(der), "relying_party": relying_party }),
        )
        .await
}

fn kinds(entries: &[serde_json::Value], kind: &str) -> Vec<serde_json::Value> {
    entries
        .iter()
        .filter(|e| e["kind"] == kind)
        .cloned()
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_returns_who_logged_in_once_and_refuses_replays_and_other_relying_parties() {
    let dir = tempfile::tempdir().expect("tempdir");
    let CertifiedKey {
        server,
        client,
        backend,
        key_id: key,
        pin,
        certificate,
        ca,
    } = certified_key(dir.path(), "customer-0042", "271828").await;

    let issued = challenge(&backend, 120).await;
    assert_eq!(issued.challenge_id.len(), 32);
    assert_eq!(issued.nonce.len(), 64);
    assert_eq!(issued.expires_at - issued.issued_at, 120);
    let assertion = client
        .login(&key, &pin, &issued, None, None)
        .await
        .expect("co-signed login");

    // Offline, our verifier agrees (single use is the server's to check).
    let offline = verify_login(
        &assertion,
        std::slice::from_ref(&ca),
        LoginRevocation::NotChecked,
        now_unix(),
        RP,
    )
    .expect("verifies offline");
    assert_eq!(offline.signer_certificate, certificate);
    assert_eq!(hex::encode(offline.challenge_id), issued.challenge_id);
    // BouncyCastle, which shares no code with us, verifies the SM2 signature and the chain.
    let cms_path = dir.path().join("login.p7");
    let ca_path = dir.path().join("ca.der");
    std::fs::write(&cms_path, &assertion).expect("write");
    std::fs::write(&ca_path, &ca).expect("write");
    let bc = bouncycastle_cms_check(&cms_path, &ca_path);
    assert!(bc.valid, "{bc:?}");
    assert_eq!(bc.content, offline.assertion.to_der().expect("der"));
    assert_eq!(bc.signature_algorithm, "1.2.156.10197.1.501");

    // Another relying party: refused, and the challenge is not consumed by the refusal.
    let (status, body) = verify(&backend, &assertion, "other.example").await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["code"], "login_refused");

    let (status, who) = verify(&backend, &assertion, RP).await;
    assert_eq!(status, 200, "{who}");
    assert_eq!(who["key_id"], key.as_str());
    assert_eq!(who["challenge_id"], issued.challenge_id.as_str());
    assert_eq!(who["relying_party"], RP);
    assert_eq!(who["certificate_der_hex"], hex::encode(&certificate));
    assert!(
        who["subject"]
            .as_str()
            .expect("subject")
            .contains("customer-0042"),
        "{who}"
    );
    assert!(
        who["signed_at"]
            .as_u64()
            .expect("signed_at")
            .abs_diff(now_unix())
            < 120
    );

    // The same assertion again: a replay, refused.
    let (status, body) = verify(&backend, &assertion, RP).await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["code"], "login_replayed");

    // Once consumed, the challenge cannot be co-signed again either.
    match client.login(&key, &pin, &issued, None, None).await {
        Err(SdkError::Refused(why)) => assert!(why.contains("already used"), "{why}"),
        other => panic!("expected a refusal, got {other:?}"),
    }
    // Nor can one the server never issued.
    let mut forged = challenge(&backend, 120).await;
    forged.nonce = "00".repeat(32);
    match client.login(&key, &pin, &forged, None, None).await {
        Err(SdkError::Refused(why)) => assert!(why.contains("nonce"), "{why}"),
        other => panic!("expected a refusal, got {other:?}"),
    }

    // Audited apart from document signatures.
    let entries = backend.audit().await;
    assert_eq!(kinds(&entries, "login_challenge_issued").len(), 2);
    let signed = kinds(&entries, "login_signed");
    assert_eq!(signed.len(), 1, "{entries:?}");
    let detail: serde_json::Value =
        serde_json::from_str(signed[0]["detail"].as_str().expect("detail is JSON text"))
            .expect("detail JSON");
    assert_eq!(detail["relying_party"], RP);
    assert_eq!(detail["message_kind"], "cms_attached_login");
    assert_eq!(kinds(&entries, "login_verified").len(), 1);
    assert_eq!(kinds(&entries, "login_refused").len(), 2);
    assert!(
        kinds(&entries, "signed")
            .iter()
            .all(|e| e.to_string().contains("certification_request")),
        "no document signature besides the CSR"
    );
    server.shutdown().await.expect("shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_challenges_and_revoked_certificates_are_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let CertifiedKey {
        server,
        client,
        backend,
        key_id: key,
        pin,
        ca,
        ..
    } = certified_key(dir.path(), "customer-0043", "271828").await;

    // Co-signed in time, presented too late.
    let short = challenge(&backend, 2).await;
    let late = client
        .login(&key, &pin, &short, None, None)
        .await
        .expect("co-signed");
    // A second challenge that has already expired when the phone answers.
    let gone = challenge(&backend, 1).await;
    tokio::time::sleep(std::time::Duration::from_millis(3100)).await;
    let (status, body) = verify(&backend, &late, RP).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["code"], "login_refused");
    assert!(
        body["message"]
            .as_str()
            .expect("message")
            .contains("expired"),
        "{body}"
    );
    assert!(matches!(
        verify_login(
            &late,
            std::slice::from_ref(&ca),
            LoginRevocation::NotChecked,
            now_unix(),
            RP
        ),
        Err(LoginVerifyError::Expired { .. })
    ));
    match client.login(&key, &pin, &gone, None, None).await {
        Err(SdkError::Refused(why)) => assert!(why.contains("expired"), "{why}"),
        other => panic!("expected a refusal, got {other:?}"),
    }

    // Co-signed, then the key (and its certificate) revoked: the login is refused.
    let issued = challenge(&backend, 120).await;
    let assertion = client
        .login(&key, &pin, &issued, None, None)
        .await
        .expect("co-signed");
    let (status, _) = backend
        .post(
            &format!("/v1/admin/keys/{key}/revoke"),
            json!({ "reason": "key_compromise" }),
        )
        .await;
    assert_eq!(status, 200);
    let (status, body) = verify(&backend, &assertion, RP).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["code"], "login_refused");
    assert!(
        body["message"]
            .as_str()
            .expect("message")
            .contains("revoked"),
        "{body}"
    );
    // The CRL says the same to an offline verifier.
    let crl = server.service().lifecycle().crl().expect("crl");
    let source = inkseal_pdf::cms::attached::CrlRevocation {
        crls: std::slice::from_ref(&crl),
        now_unix: now_unix(),
    };
    assert!(matches!(
        verify_login(
            &assertion,
            std::slice::from_ref(&ca),
            LoginRevocation::Checked(&source),
            now_unix(),
            RP
        ),
        Err(LoginVerifyError::Revoked { .. })
    ));

    // Only login:issue issues, only login:verify verifies.
    let issuer_only = Backend::with_roles(&server, &[inkseal_server::service::Role::LoginIssue]);
    let (status, _) = issuer_only
        .post("/v1/admin/login/challenges", json!({ "relying_party": RP }))
        .await;
    assert_eq!(status, 201);
    let (status, body) = verify(&issuer_only, &assertion, RP).await;
    assert_eq!(status, 403, "{body}");
    let (status, _) = issuer_only
        .post(
            "/v1/admin/login/challenges",
            json!({ "relying_party": RP, "ttl_secs": 301 }),
        )
        .await;
    assert_eq!(status, 400);
    server.shutdown().await.expect("shutdown");
}

/// Channel binding: the phone puts the channel it logs in through into the assertion (the
/// relying party's app id hash, or the TLS exporter of the session); a relying party that
/// names the channel it sees gets the login only when they agree. An assertion relayed from
/// another channel is refused (audited) without consuming the challenge.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_login_bound_to_another_channel_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let CertifiedKey {
        server,
        client,
        backend,
        key_id: key,
        pin,
        ..
    } = certified_key(dir.path(), "customer-0043", "271828").await;
    let channel = b"tls-exporter of the bank's session 7".to_vec();
    let issued = challenge(&backend, 120).await;
    let assertion = client
        .login(&key, &pin, &issued, Some(channel.clone()), None)
        .await
        .expect("co-signed login");
    let verify_on = |seen: Option<&[u8]>| {
        let mut body = json!({ "assertion_der_hex": hex::encode(&assertion), "relying_party": RP });
        if let Some(seen) = seen {
            body["channel_hex"] = json!(hex::encode(seen));
        }
        let backend = &backend;
        async move { backend.post("/v1/admin/login/verify", body).await }
    };

    // Relayed to another channel: refused, typed, and the challenge survives.
    let (status, body) = verify_on(Some(b"the attacker's session")).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (422, Some("login_refused")),
        "{body}"
    );
    assert!(
        body["message"]
            .as_str()
            .unwrap_or_default()
            .contains("channel"),
        "{body}"
    );
    // Malformed: a bad request.
    let (status, body) = backend
        .post(
            "/v1/admin/login/verify",
            json!({ "assertion_der_hex": hex::encode(&assertion), "relying_party": RP,
                    "channel_hex": "not hex" }),
        )
        .await;
    assert_eq!(status, 400, "{body}");

    // On its own channel: who logged in, with the channel echoed.
    let (status, who) = verify_on(Some(&channel)).await;
    assert_eq!(status, 200, "{who}");
    assert_eq!(who["key_id"], key.as_str());
    assert_eq!(who["channel_hex"], hex::encode(&channel));
    let refusals = kinds(&backend.audit().await, "login_refused");
    assert!(
        refusals
            .iter()
            .any(|e| e["detail"].to_string().contains("channel binding")),
        "{refusals:?}"
    );

    // An assertion without a channel is refused where the relying party expects one.
    let issued = challenge(&backend, 120).await;
    let unbound = client
        .login(&key, &pin, &issued, None, None)
        .await
        .expect("co-signed login");
    let (status, body) = backend
        .post(
            "/v1/admin/login/verify",
            json!({ "assertion_der_hex": hex::encode(&unbound), "relying_party": RP,
                    "channel_hex": hex::encode(&channel) }),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (422, Some("login_refused")),
        "{body}"
    );
    server.shutdown().await.expect("shutdown");
}
