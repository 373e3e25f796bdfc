//! Abuse and policy, tried against a real server on loopback: exact PIN lockout under
//! concurrency, the PIN policy, PIN change, operator unlock, revocation with a CRL that
//! BouncyCastle checks, rate limits with `Retry-After`, connection and body limits, and HTTP
//! hygiene (plain HTTP off loopback, file modes, JSON only, printable user ids).

use inkseal_cosign::api::{CosignRequest, MessageKind, Pin, RevocationReason, SignedMessage};
use inkseal_sdk::SdkError;
use inkseal_server::limits::PerMinute;
use inkseal_server::service::Role;
use inkseal_tests::validators::bouncycastle_crl_check;
use inkseal_tests::{
    Backend, Loopback, RawDevice, client_for, enroll, loopback_config, raw, start_server,
};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

fn pin() -> Pin {
    Pin::new("802461")
}

async fn start(
    dir: &std::path::Path,
    edit: impl FnOnce(&mut inkseal_server::ServerConfig),
) -> inkseal_server::RunningServer {
    let mut config = loopback_config(dir);
    edit(&mut config);
    inkseal_server::start(config).await.expect("start")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn never_more_than_five_wrong_pins_are_compared_under_any_concurrency() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start(&dir.path().join("server"), |c| {
        c.limits = c.limits.clone().without_rates();
        c.limits.max_connections_per_address = 512;
    })
    .await;
    let backend = Backend::new(&server);
    let device = dir.path().join("device");
    let client = client_for(&server, &device);
    let key = enroll(&backend, &client, "customer-1", &pin()).await.key_id;
    let raw_device = RawDevice::new(&device);
    let share = raw_device.share(&key);
    let path = format!("/v1/keys/{key}/sign");
    let url = format!("{}{path}", server.url());

    // 128 wrong-PIN requests, each a valid, distinct, device-signed request, released at once.
    let mut requests = Vec::new();
    for i in 0..128 {
        let message =
            SignedMessage::new(MessageKind::Raw, format!("m{i}").into_bytes()).expect("message");
        let (_, sign) = share
            .start_sign(&share.digest(message.bytes()))
            .expect("start");
        let body = serde_json::to_vec(&CosignRequest {
            idempotency_key: format!("guess-{i:04}"),
            pin: Pin::new(format!("{:06}", 900_001 + i * 7)),
            evidence_head: None,
            message,
            sign,
        })
        .expect("json");
        let headers = raw_device.signed(&key, "POST", &path, &body);
        requests.push((headers, body));
    }
    let http = inkseal_tests::http_client();
    let gate = std::sync::Arc::new(tokio::sync::Barrier::new(requests.len()));
    let mut tasks = Vec::new();
    for (headers, body) in requests {
        let (http, url, gate) = (http.clone(), url.clone(), gate.clone());
        tasks.push(tokio::spawn(async move {
            gate.wait().await;
            raw(&http, "POST", &url, &headers, body).await
        }));
    }
    let mut codes = std::collections::BTreeMap::<String, usize>::new();
    for t in tasks {
        let (_, body) = t.await.expect("task");
        *codes
            .entry(body["code"].as_str().unwrap_or("?").to_owned())
            .or_default() += 1;
    }
    // Exactly five PINs were compared; every other request was told the key is locked or that
    // the last attempts were being checked. (A compared PIN is answered "wrong" while the key
    // is open, "locked" once the attempts still in flight have used up the count.)
    assert_eq!(server.service().metrics().pin_comparisons, 5, "{codes:?}");
    let count = |c: &str| codes.get(c).copied().unwrap_or(0);
    assert!((1..=4).contains(&count("wrong_pin")), "{codes:?}");
    assert_eq!(
        count("wrong_pin") + count("locked") + count("rate_limited"),
        128,
        "{codes:?}"
    );
    let audit = backend.audit().await;
    let count = |kind: &str| audit.iter().filter(|e| e["kind"] == kind).count();
    assert_eq!(count("pin_failure"), 5);
    assert_eq!(count("locked"), 1);
    let (_, status) = backend.get(&format!("/v1/admin/keys/{key}")).await;
    assert_eq!(
        (status["locked"].as_bool(), status["pin_failures"].as_u64()),
        (Some(true), Some(5))
    );
    server.shutdown().await.expect("shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn weak_pins_are_refused_and_the_pin_can_be_changed() {
    let Loopback {
        dir,
        server,
        client,
        backend,
    } = Loopback::start().await;
    let ticket = backend.ticket("customer-2").await;
    for weak in ["000000", "123456", "      ", "987654", "12345"] {
        let err = client
            .enroll(&ticket, &Pin::new(weak))
            .await
            .expect_err("weak PIN");
        assert!(matches!(err, SdkError::PinRejected(_)), "{weak:?}: {err:?}");
    }
    // The server applies the policy too (an app with its own checks, or none).
    let enrolled = client
        .enroll(&ticket, &Pin::new("271828"))
        .await
        .expect("the ticket was not used by the refusals");
    let key = enrolled.key_id;
    let raw_device = RawDevice::new(&dir.path().join("device"));
    let path = format!("/v1/keys/{key}/pin");
    let body = serde_json::to_vec(&serde_json::json!({ "old_pin": "271828", "new_pin": "111111" }))
        .expect("json");
    let (status, json) = raw(
        &inkseal_tests::http_client(),
        "POST",
        &format!("{}{path}", server.url()),
        &raw_device.signed(&key, "POST", &path, &body),
        body,
    )
    .await;
    assert_eq!(
        (status, json["code"].as_str()),
        (422, Some("pin_rejected")),
        "{json}"
    );

    // Changing needs the old PIN (a wrong one counts), then only the new one works.
    assert_eq!(
        client
            .change_pin(&key, &Pin::new("999999"), &Pin::new("314159"))
            .await,
        Err(SdkError::WrongPin { attempts_left: 4 })
    );
    client
        .change_pin(&key, &Pin::new("271828"), &Pin::new("314159"))
        .await
        .expect("changed");
    assert!(matches!(
        client
            .sign_message(&key, &Pin::new("271828"), b"x", None)
            .await,
        Err(SdkError::WrongPin { .. })
    ));
    client
        .sign_message(&key, &Pin::new("314159"), b"x", None)
        .await
        .expect("the new PIN signs");
    assert!(
        backend
            .audit()
            .await
            .iter()
            .any(|e| e["kind"] == "pin_changed")
    );
    server.shutdown().await.expect("shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_unlocks_after_re_verification_and_says_so() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start_server(&dir.path().join("server")).await;
    let backend = Backend::new(&server);
    let reader = Backend::with_roles(&server, &[Role::KeysRead]);
    let client = client_for(&server, &dir.path().join("device"));
    let key = enroll(&backend, &client, "customer-3", &pin()).await.key_id;
    for _ in 0..5 {
        let _ = client
            .sign_message(&key, &Pin::new("999999"), b"x", None)
            .await;
    }
    assert_eq!(
        client.sign_message(&key, &pin(), b"x", None).await.err(),
        Some(SdkError::Locked)
    );
    let unlock = format!("/v1/admin/keys/{key}/unlock");
    let (status, _) = reader
        .post(&unlock, serde_json::json!({ "reverification": "counter" }))
        .await;
    assert_eq!(status, 403, "keys:read is not keys:manage");
    let (status, _) = backend
        .post(&unlock, serde_json::json!({ "reverification": "   " }))
        .await;
    assert_eq!(
        status, 400,
        "the operator must say how the user was verified"
    );
    let (status, body) = backend
        .post(
            &unlock,
            serde_json::json!({ "reverification": "branch 12 counter, ID card seen by staff 0042" }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    client
        .sign_message(&key, &pin(), b"after unlock", None)
        .await
        .expect("unlocked");
    let (status, _) = backend
        .post(&unlock, serde_json::json!({ "reverification": "again" }))
        .await;
    assert_eq!(status, 409, "not locked");
    let unlocked = backend
        .audit()
        .await
        .into_iter()
        .find(|e| e["kind"] == "unlocked")
        .expect("audited");
    assert_eq!(
        unlocked["actor"],
        format!("operator:{}", backend.credential_id).as_str()
    );
    assert!(
        unlocked["detail"]
            .as_str()
            .expect("detail")
            .contains("staff 0042")
    );
    server.shutdown().await.expect("shutdown");
}

/// Builds before 2026-12 reserved a PIN attempt (counted it as a failure) before comparing; a
/// request killed in between left it counted. A key whose count such leftovers brought to the
/// limit locks at its next check, audited, without comparing even the right PIN, instead of
/// signing; an operator unlocks it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attempts_an_older_build_left_reserved_lock_the_key() {
    let Loopback {
        dir,
        server,
        client,
        backend,
    } = Loopback::start().await;
    let key = enroll(&backend, &client, "customer-9", &pin()).await.key_id;
    client
        .sign_message(&key, &pin(), b"before", None)
        .await
        .expect("signs");
    // What five requests that died after reserving (a killed replica of an older build) leave
    // behind, written straight into the server's database.
    let db =
        rusqlite::Connection::open(dir.path().join("server").join("inkseal.db")).expect("database");
    let n = db
        .execute(
            "UPDATE keys SET pin_failures = 5 WHERE key_id = ?1",
            rusqlite::params![key],
        )
        .expect("update");
    assert_eq!(n, 1);
    let locks = |audit: &[serde_json::Value]| {
        audit
            .iter()
            .filter(|e| e["kind"] == "locked" && e["key_id"] == key.as_str())
            .count()
    };
    assert_eq!(locks(&backend.audit().await), 0, "not locked yet");
    assert_eq!(
        client
            .sign_message(&key, &pin(), b"abandoned", None)
            .await
            .err(),
        Some(SdkError::Locked),
        "even the right PIN is not compared: the leftover attempts count as failures"
    );
    let audit = backend.audit().await;
    assert_eq!(locks(&audit), 1, "the lock is audited once");
    let lock = audit
        .iter()
        .find(|e| e["kind"] == "locked" && e["key_id"] == key.as_str())
        .expect("lock entry");
    assert!(
        lock.to_string().contains("abandoned"),
        "the entry says why: {lock}"
    );
    assert_eq!(
        server.service().metrics().pin_comparisons,
        1,
        "only the first sign"
    );
    assert_eq!(server.service().metrics().key_locks, 1);
    let (status, body) = backend
        .post(
            &format!("/v1/admin/keys/{key}/unlock"),
            serde_json::json!({ "reverification": "branch 3 counter, ID card seen" }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    client
        .sign_message(&key, &pin(), b"after unlock", None)
        .await
        .expect("unlocked, the key signs again");
    server.shutdown().await.expect("shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoked_keys_never_sign_again_and_the_crl_lists_their_certificates() {
    let Loopback {
        dir,
        server,
        client,
        backend,
    } = Loopback::start().await;
    let mut serials = Vec::new();
    let mut keys = Vec::new();
    for user in ["customer-4", "customer-5"] {
        let key = enroll(&backend, &client, user, &pin()).await.key_id;
        let (cert, _) = client
            .request_certificate(&key, &pin(), None)
            .await
            .expect("certificate");
        serials.push(inkseal_pki::certificate_serial(&cert).expect("serial"));
        keys.push(key);
    }
    let ca_der = server.service().ca_certificate().to_vec();
    let crl_url = format!("{}/v1/ca/crl", server.url());
    let fetch_crl = || async {
        let resp = reqwest::get(&crl_url).await.expect("crl");
        assert_eq!(
            resp.headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok()),
            Some("application/pkix-crl")
        );
        resp.bytes().await.expect("bytes").to_vec()
    };
    let before = inkseal_pki::parse_crl(&fetch_crl().await, &ca_der).expect("crl");
    assert!(before.revoked.is_empty());

    // The user revokes the first key with the PIN.
    let wrong = client
        .revoke(
            &keys[0],
            &Pin::new("999999"),
            RevocationReason::KeyCompromise,
        )
        .await;
    assert!(matches!(wrong, Err(SdkError::WrongPin { .. })));
    client
        .revoke(&keys[0], &pin(), RevocationReason::KeyCompromise)
        .await
        .expect("revoked");
    // The device forgot the share; the server refuses the key for good (another device that
    // still held the files would be refused the same way).
    assert!(matches!(
        client.sign_message(&keys[0], &pin(), b"x", None).await,
        Err(SdkError::UnknownKey(_))
    ));
    let (_, status) = backend.get(&format!("/v1/admin/keys/{}", keys[0])).await;
    assert_eq!(status["revoked"], true);
    // An operator revokes the second one.
    let (status, _) = backend
        .post(
            &format!("/v1/admin/keys/{}/revoke", keys[1]),
            serde_json::json!({ "reason": "affiliation_changed", "note": "account closed" }),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        client
            .sign_message(&keys[1], &pin(), b"x", None)
            .await
            .err(),
        Some(SdkError::Revoked)
    );
    assert_eq!(
        client
            .request_certificate(&keys[1], &pin(), None)
            .await
            .err(),
        Some(SdkError::Revoked)
    );
    assert!(matches!(
        client.liveness_challenge(&keys[1]).await,
        Err(SdkError::Revoked)
    ));

    // The CRL, regenerated and signed by the CA, lists both certificates.
    let crl = fetch_crl().await;
    let parsed = inkseal_pki::parse_crl(&crl, &ca_der).expect("crl");
    assert!(parsed.crl_number > before.crl_number);
    for serial in &serials {
        assert!(parsed.revocation_of(serial).is_some(), "{serial:02x?}");
    }
    // An independent verifier agrees.
    let ca_path = dir.path().join("ca.der");
    let crl_path = dir.path().join("crl.der");
    std::fs::write(&ca_path, &ca_der).expect("write");
    std::fs::write(&crl_path, &crl).expect("write");
    let (code, report) = bouncycastle_crl_check(&ca_path, &crl_path);
    assert_eq!(code, 0, "{report}");
    assert!(report.contains("signature: valid"), "{report}");
    for serial in &serials {
        let hex_serial = hex::encode_upper(serial);
        assert!(
            report.contains(hex_serial.trim_start_matches('0')),
            "{hex_serial} in {report}"
        );
    }
    server.shutdown().await.expect("shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limits_answer_429_with_retry_after() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start(&dir.path().join("server"), |c| {
        c.limits.challenge_per_key = PerMinute(2);
        c.limits.enroll_per_address = PerMinute(3);
        c.policy.max_open_challenges = 100;
    })
    .await;
    let backend = Backend::new(&server);
    let client = client_for(&server, &dir.path().join("device"));
    let key = enroll(&backend, &client, "customer-6", &pin()).await.key_id;
    for _ in 0..2 {
        client.liveness_challenge(&key).await.expect("challenge");
    }
    match client.liveness_challenge(&key).await {
        Err(SdkError::RateLimited { retry_after_secs }) => {
            assert!((1..=60).contains(&retry_after_secs))
        }
        other => panic!("expected a 429, got {other:?}"),
    }
    // Enrollment attempts per address (one used above): the fourth is refused before its body
    // is even read, with a Retry-After header.
    let http = inkseal_tests::http_client();
    let url = format!("{}/v1/enroll", server.url());
    let mut last = None;
    for _ in 0..3 {
        let resp = http
            .post(&url)
            .header("content-type", "application/json")
            .body("{}")
            .send()
            .await
            .expect("send");
        last = Some((
            resp.status().as_u16(),
            resp.headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
        ));
    }
    let (status, retry_after) = last.expect("answers");
    assert_eq!(status, 429);
    let secs: u64 = retry_after.expect("Retry-After").parse().expect("seconds");
    assert!((1..=60).contains(&secs));
    server.shutdown().await.expect("shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_holds_few_open_challenges() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start(&dir.path().join("server"), |c| {
        c.limits = c.limits.clone().without_rates();
        c.policy.max_open_challenges = 3;
    })
    .await;
    let backend = Backend::new(&server);
    let client = client_for(&server, &dir.path().join("device"));
    let key = enroll(&backend, &client, "customer-7", &pin()).await.key_id;
    for _ in 0..3 {
        client.liveness_challenge(&key).await.expect("challenge");
    }
    assert!(matches!(
        client.liveness_challenge(&key).await,
        Err(SdkError::RateLimited { .. })
    ));
    server.shutdown().await.expect("shutdown");
}

/// Reads until EOF or error; true when the server closed the connection within `within`.
fn closed_within(stream: &mut TcpStream, within: Duration) -> bool {
    stream.set_read_timeout(Some(within)).expect("read timeout");
    let mut buf = [0u8; 4096];
    let deadline = Instant::now() + within;
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => {
                if Instant::now() > deadline {
                    return false;
                }
            }
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                return false;
            }
            Err(_) => return true,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_slow_and_excess_connections_are_closed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start(&dir.path().join("server"), |c| {
        c.limits.idle_timeout = Duration::from_secs(1);
        c.limits.header_read_timeout = Duration::from_secs(1);
        c.limits.max_connections_per_address = 4;
    })
    .await;
    let addr = server.addr();
    let result = tokio::task::spawn_blocking(move || {
        // An idle connection is closed.
        let mut idle = TcpStream::connect(addr).expect("connect");
        let idle_closed = closed_within(&mut idle, Duration::from_secs(4));
        // A client that trickles its headers is cut off.
        let mut slow = TcpStream::connect(addr).expect("connect");
        slow.write_all(b"GET /v1/health HTTP/1.1\r\nHost: x\r\n")
            .expect("write");
        let started = Instant::now();
        let mut slow_closed = false;
        while started.elapsed() < Duration::from_secs(5) {
            std::thread::sleep(Duration::from_millis(300));
            if slow.write_all(b"X-Slow: 1\r\n").is_err() {
                slow_closed = true;
                break;
            }
        }
        if !slow_closed {
            slow_closed = closed_within(&mut slow, Duration::from_secs(2));
        }
        (idle_closed, slow_closed)
    })
    .await
    .expect("task");
    assert_eq!(result, (true, true));

    // Four idle connections from 127.0.0.1 use up that address's share: the fifth is closed
    // at once, while another address is still served.
    let held: Vec<TcpStream> = (0..4)
        .map(|_| TcpStream::connect(addr).expect("connect"))
        .collect();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let fifth = tokio::task::spawn_blocking(move || {
        let mut s = TcpStream::connect(addr).expect("connect");
        let _ = s.write_all(b"GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n");
        closed_within(&mut s, Duration::from_millis(800))
    })
    .await
    .expect("task");
    assert!(fifth, "the fifth connection from one address is closed");
    let other = inkseal_tests::http_builder()
        .local_address(std::net::IpAddr::from([127, 0, 0, 2]))
        .build()
        .expect("client");
    let health = other
        .get(format!("{}/v1/health", server.url()))
        .send()
        .await
        .expect("another address is served");
    assert_eq!(health.status(), 200);
    drop(held);
    server.shutdown().await.expect("shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_bodies_are_read_a_few_at_a_time() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start(&dir.path().join("server"), |c| {
        c.limits.max_concurrent_evidence = 1;
        c.limits = c.limits.clone().without_rates();
    })
    .await;
    let addr = server.addr();
    // One upload in progress (a slow 8 MB body)...
    let mut upload = TcpStream::connect(addr).expect("connect");
    upload
        .write_all(
            b"POST /v1/keys/k-1/evidence HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
              Content-Length: 8000000\r\n\r\n{\"challenge_id\":",
        )
        .expect("write");
    tokio::time::sleep(Duration::from_millis(300)).await;
    // ...and the next one is turned away until it is done.
    let resp = inkseal_tests::http_client()
        .post(format!("{}/v1/keys/k-2/evidence", server.url()))
        .header("content-type", "application/json")
        .body(vec![b' '; 1024])
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status(), 429);
    assert!(resp.headers().get("retry-after").is_some());
    drop(upload);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let resp = inkseal_tests::http_client()
        .post(format!("{}/v1/keys/k-2/evidence", server.url()))
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .expect("send");
    assert_eq!(
        resp.status(),
        401,
        "read, then refused for its missing signature"
    );
    server.shutdown().await.expect("shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_hygiene() {
    let dir = tempfile::tempdir().expect("tempdir");
    use std::os::unix::fs::PermissionsExt;

    // Plain HTTP off loopback is refused, unless the insecure flag says so.
    let mut config = loopback_config(&dir.path().join("open"));
    config.listen = ([0, 0, 0, 0], 0).into();
    let err = inkseal_server::start(config.clone())
        .await
        .err()
        .expect("refused");
    assert!(err.to_string().contains("plain HTTP"), "{err}");
    config.insecure.plain_http_off_loopback = true;
    let open = inkseal_server::start(config)
        .await
        .expect("starts with the flag");
    assert!(open.warnings().iter().any(|w| w.contains("INSECURE")));
    open.shutdown().await.expect("shutdown");

    // A data directory others could read is made owner-only, with a warning.
    let data = dir.path().join("server");
    std::fs::create_dir_all(&data).expect("dir");
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    std::fs::write(data.join("notes.txt"), "x").expect("file");
    std::fs::set_permissions(
        data.join("notes.txt"),
        std::fs::Permissions::from_mode(0o644),
    )
    .expect("chmod");
    let server = start_server(&data).await;
    assert!(
        server.warnings().iter().any(|w| w.contains("0700")),
        "{:?}",
        server.warnings()
    );
    let mode =
        |p: &std::path::Path| std::fs::metadata(p).expect("meta").permissions().mode() & 0o777;
    assert_eq!(mode(&data), 0o700);
    for f in ["notes.txt", "inkseal.db", "master.key"] {
        assert_eq!(mode(&data.join(f)), 0o600, "{f}");
    }

    // Bodies are JSON: a cross-site form or text post is refused before it is read.
    let backend = Backend::new(&server);
    let http = inkseal_tests::http_client();
    for (path, auth) in [("/v1/enroll", false), ("/v1/admin/tickets", true)] {
        let mut req = http
            .post(format!("{}{path}", server.url()))
            .header("content-type", "text/plain")
            .body(r#"{"user_id":"x"}"#);
        if auth {
            req = req.bearer_auth(&backend.api_key);
        }
        let resp = req.send().await.expect("send");
        assert_eq!(resp.status(), 415, "{path}");
        let body: serde_json::Value = resp.json().await.expect("typed");
        assert_eq!(body["code"], "unsupported_media_type");
    }
    // User ids are printable, without bidirectional controls.
    for user in ["a\u{202e}gpj.exe", "tab\tuser", ""] {
        let (status, _) = backend
            .post("/v1/admin/tickets", serde_json::json!({ "user_id": user }))
            .await;
        assert_eq!(status, 400, "{user:?}");
    }
    server.shutdown().await.expect("shutdown");
}
