//! Two-party P-256 (issue 18, stage 2) through the real server on loopback: enrollment in two
//! round trips, the certificate from the CA's P-256 root, co-signatures verified by the `p256`
//! crate, PIN failures and lockout, and a misbehaving client: a reused `sign_id` or
//! idempotency key with another body, tampered messages, an abort that bans the key. Each gets
//! a typed error, is audited, and yields no signature. Byte-identical repeats of either trip
//! (a phone retrying after a lost answer) get the answer already given, on SQLite and on
//! PostgreSQL, and the SDK retries a trip whose answer was lost.

use inkseal_cosign::api::{
    ErrorCode, KeyCurve, MessageKind, P256Hex, P256SignFinishRequest, P256SignRequest,
    P256SignResponse, Pin, SignedMessage,
};
use inkseal_cosign::p256::{PhoneShare, PhoneSign, SignReply1};
use inkseal_sdk::{CosignClient, SdkError, ShareStore};
use inkseal_server::RunningServer;
use inkseal_server::audit::verify_chain;
use inkseal_tests::{Backend, RawDevice, client_for, http_client, raw, start_server};
use p256::ecdsa::signature::Verifier as _;

fn pin() -> Pin {
    Pin::new("802461")
}

async fn enrolled(
    server: &RunningServer,
    client: &CosignClient,
    user: &str,
) -> inkseal_sdk::P256Enrollment {
    let ticket = Backend::new(server).ticket(user).await;
    client
        .enroll_p256(&ticket, &pin())
        .await
        .expect("enroll P-256")
}

fn signed_entries(server: &RunningServer, kind: &str) -> Vec<inkseal_server::audit::AuditEntry> {
    inkseal_server::store::read_whole_log(server.service().store().as_ref())
        .expect("audit")
        .into_iter()
        .filter(|e| e.kind == kind)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enroll_certify_and_sign_five_messages_verified_by_the_p256_crate() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start_server(&dir.path().join("server")).await;
    let client = client_for(&server, &dir.path().join("device"));
    let enrollment = enrolled(&server, &client, "carol").await;
    assert_eq!(
        client.key_curve(&enrollment.key_id).expect("curve"),
        KeyCurve::P256
    );
    let status = client.status(&enrollment.key_id).await.expect("status");
    assert_eq!(status.curve, KeyCurve::P256);
    assert!(!status.has_certificate && !status.locked);

    let (cert, ca) = client
        .request_certificate_p256(&enrollment.key_id, &pin(), None)
        .await
        .expect("certificate");
    inkseal_pki::check_p256_issued_for(
        &cert,
        &ca,
        &enrollment.public_key,
        inkseal_tests::now_unix(),
    )
    .expect("issued by the P-256 root for the joint key");
    // ecdsa-with-SHA256 (1.2.840.10045.4.3.2), DER-encoded OID bytes.
    let oid = [0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02];
    assert!(cert.windows(oid.len()).any(|w| w == oid));
    assert!(
        server
            .service()
            .root_certificates()
            .contains(&ca.as_slice()),
        "the CA is one of the server's roots"
    );

    let vk = p256::ecdsa::VerifyingKey::from(&enrollment.public_key);
    for i in 0..5 {
        let msg = format!("policy #{i}: EUR {i}0,000");
        let sig = client
            .sign_message_p256(&enrollment.key_id, &pin(), msg.as_bytes(), None)
            .await
            .expect("co-sign");
        vk.verify(msg.as_bytes(), &sig).expect("p256 verifies");
        assert!(vk.verify(b"another message", &sig).is_err());
    }
    // An SM2 call on a P-256 key is refused, typed.
    assert!(matches!(
        client
            .sign_message(&enrollment.key_id, &pin(), b"sm2?", None)
            .await,
        Err(SdkError::Storage(_) | SdkError::Refused(_))
    ));

    let entries =
        inkseal_server::store::read_whole_log(server.service().store().as_ref()).expect("audit");
    verify_chain(&entries).expect("audit chain intact");
    let enrolled_entry = entries
        .iter()
        .find(|e| e.kind == "enrolled")
        .expect("enrolled");
    assert!(enrolled_entry.detail.contains("\"curve\":\"p256\""));
    let signed = signed_entries(&server, "signed");
    assert_eq!(signed.len(), 6, "5 messages and the CSR");
    assert!(
        signed
            .iter()
            .all(|e| e.detail.contains("\"curve\":\"p256\""))
    );
    assert!(entries.iter().any(|e| e.kind == "certificate_issued"));
    server.shutdown().await.expect("shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_pins_count_and_the_fifth_locks_a_p256_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start_server(&dir.path().join("server")).await;
    let client = client_for(&server, &dir.path().join("device"));
    let key = enrolled(&server, &client, "dave").await.key_id;
    let wrong = Pin::new("999999");
    assert_eq!(
        client
            .sign_message_p256(&key, &wrong, b"m", None)
            .await
            .err(),
        Some(SdkError::WrongPin { attempts_left: 4 })
    );
    client
        .sign_message_p256(&key, &pin(), b"m", None)
        .await
        .expect("right PIN resets the count");
    for left in [4, 3, 2, 1] {
        assert_eq!(
            client
                .sign_message_p256(&key, &wrong, b"m", None)
                .await
                .err(),
            Some(SdkError::WrongPin {
                attempts_left: left
            })
        );
    }
    assert_eq!(
        client
            .sign_message_p256(&key, &wrong, b"m", None)
            .await
            .err(),
        Some(SdkError::Locked)
    );
    assert_eq!(
        client
            .sign_message_p256(&key, &pin(), b"m", None)
            .await
            .err(),
        Some(SdkError::Locked)
    );
    assert_eq!(signed_entries(&server, "signed").len(), 1);
    // One before the right PIN, five after it (the fifth locks).
    assert_eq!(signed_entries(&server, "pin_failure").len(), 6);
    server.shutdown().await.expect("shutdown");
}

/// A phone that speaks the P-256 routes by hand, to misbehave.
struct RawP256 {
    device: RawDevice,
    share: PhoneShare,
    key_id: String,
    base: String,
    http: reqwest::Client,
}

impl RawP256 {
    fn new(server: &RunningServer, device_dir: &std::path::Path, key_id: &str) -> Self {
        let stored = inkseal_sdk::FileShareStore::new(device_dir)
            .expect("store")
            .load(key_id)
            .expect("load")
            .expect("present");
        RawP256 {
            device: RawDevice::new(device_dir),
            share: PhoneShare::from_bytes(&stored.secret).expect("P-256 share"),
            key_id: key_id.to_owned(),
            base: server.url(),
            http: http_client(),
        }
    }

    async fn post(&self, path: &str, body: &impl serde::Serialize) -> (u16, serde_json::Value) {
        self.post_to(&self.base, path, body).await
    }

    /// `post` to `base`, the answer's bytes as sent (freshly device-signed each time).
    async fn post_bytes(
        &self,
        base: &str,
        path: &str,
        body: &impl serde::Serialize,
    ) -> (u16, Vec<u8>) {
        let body = serde_json::to_vec(body).expect("json");
        let headers = self.device.signed(&self.key_id, "POST", path, &body);
        let mut req = self.http.post(format!("{base}{path}"));
        for (k, v) in &headers {
            req = req.header(k.as_str(), v.as_str());
        }
        let resp = req.body(body).send().await.expect("send");
        let status = resp.status().as_u16();
        (status, resp.bytes().await.expect("body").to_vec())
    }

    /// `post` to another replica.
    async fn post_to(
        &self,
        base: &str,
        path: &str,
        body: &impl serde::Serialize,
    ) -> (u16, serde_json::Value) {
        let body = serde_json::to_vec(body).expect("json");
        let headers = self.device.signed(&self.key_id, "POST", path, &body);
        raw(&self.http, "POST", &format!("{base}{path}"), &headers, body).await
    }

    fn request(&self, idempotency_key: &str, message: &[u8], round1: &[u8]) -> P256SignRequest {
        P256SignRequest {
            idempotency_key: idempotency_key.into(),
            pin: pin(),
            evidence_head: None,
            message: SignedMessage::new(MessageKind::Raw, message.to_vec()).expect("message"),
            sign: P256Hex::of(round1),
        }
    }

    fn sign_path(&self) -> String {
        format!("/v1/keys/{}/p256/sign", self.key_id)
    }

    fn finish_path(&self, sign_id: &str) -> String {
        format!("/v1/keys/{}/p256/sign/{sign_id}/finish", self.key_id)
    }
}

fn code(body: &serde_json::Value) -> ErrorCode {
    serde_json::from_value(body["code"].clone()).expect("a typed error code")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replays_reused_sessions_and_tampering_get_typed_errors_and_no_signature() {
    let _ = tracing_subscriber::fmt().with_test_writer().try_init();
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start_server(&dir.path().join("server")).await;
    let device_dir = dir.path().join("device");
    let client = client_for(&server, &device_dir);
    let key = enrolled(&server, &client, "erin").await.key_id;
    let phone = RawP256::new(&server, &device_dir, &key);
    let vk = p256::ecdsa::VerifyingKey::from(phone.share.public_key());

    // One honest session, by hand.
    let (session, round1) =
        PhoneSign::start(&phone.share, b"honest", &mut getrandom::SysRng).expect("start");
    let request = phone.request("idem-honest-1", b"honest", round1.as_bytes());
    let (status, first) = phone
        .post_bytes(&phone.base, &phone.sign_path(), &request)
        .await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&first));
    // Its answer lost, the phone sends the same trip 1 again: the same answer, byte for byte
    // (the session's one server message, not a second one).
    let (status, repeat) = phone
        .post_bytes(&phone.base, &phone.sign_path(), &request)
        .await;
    assert_eq!(status, 200);
    assert!(repeat == first, "a repeated trip 1 gets the stored answer");
    // Another body under the open session's idempotency key: refused, the session intact.
    let (_s, other) =
        PhoneSign::start(&phone.share, b"other", &mut getrandom::SysRng).expect("start");
    let (status, body) = phone
        .post(
            &phone.sign_path(),
            &phone.request("idem-honest-1", b"other", other.as_bytes()),
        )
        .await;
    assert_eq!(
        (status, code(&body)),
        (409, ErrorCode::SessionRefused),
        "{body}"
    );
    let (status, body) = phone
        .post(
            &phone.sign_path(),
            &phone.request("idem-honest-1", b"honest", other.as_bytes()),
        )
        .await;
    assert_eq!(
        (status, code(&body)),
        (409, ErrorCode::SessionRefused),
        "another sign_id under the same key: {body}"
    );
    let answer: P256SignResponse = serde_json::from_slice(&first).expect("answer");
    let reply1 = SignReply1::from_bytes(&answer.sign.bytes(200_000).expect("hex")).expect("reply");
    let (finish, round2) = session.receive(&reply1).expect("receive");
    let finish_body = P256SignFinishRequest {
        sign: P256Hex::of(round2.as_bytes()),
    };
    let (status, finished) = phone
        .post_bytes(
            &phone.base,
            &phone.finish_path(&answer.sign_id),
            &finish_body,
        )
        .await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&finished));
    let reply2: inkseal_cosign::api::P256SignFinishResponse =
        serde_json::from_slice(&finished).expect("answer");
    let reply2 =
        inkseal_cosign::p256::SignReply2::from_bytes(&reply2.sign.bytes(4096).expect("hex"))
            .expect("reply 2");
    let sig = finish.finish(&reply2).expect("signature");
    vk.verify(b"honest", &sig).expect("verifies");
    assert_eq!(signed_entries(&server, "signed").len(), 1);

    // The same trip 2 again (freshly device-signed): the recorded answer, byte for byte, and
    // no second signature.
    let (status, repeat) = phone
        .post_bytes(
            &phone.base,
            &phone.finish_path(&answer.sign_id),
            &finish_body,
        )
        .await;
    assert_eq!(status, 200);
    assert!(
        repeat == finished,
        "a repeated trip 2 gets the stored answer"
    );
    assert_eq!(signed_entries(&server, "signed").len(), 1);
    // Another trip 2 on the used session: refused.
    let mut altered = round2.as_bytes().to_vec();
    altered[10] ^= 0x01;
    let (status, body) = phone
        .post(
            &phone.finish_path(&answer.sign_id),
            &P256SignFinishRequest {
                sign: P256Hex::of(&altered),
            },
        )
        .await;
    assert_eq!(
        (status, code(&body)),
        (409, ErrorCode::SessionRefused),
        "{body}"
    );
    // Trip 1 again once the session is used: refused (its answer is no longer kept).
    let (status, body) = phone.post(&phone.sign_path(), &request).await;
    assert_eq!(
        (status, code(&body)),
        (409, ErrorCode::SessionRefused),
        "{body}"
    );
    // The same trip 1 again (its sign_id reused) under a new idempotency key.
    let again = phone.request("idem-honest-2", b"honest", round1.as_bytes());
    let (status, body) = phone.post(&phone.sign_path(), &again).await;
    assert_eq!(
        (status, code(&body)),
        (409, ErrorCode::SessionRefused),
        "{body}"
    );
    // A new session under the used idempotency key.
    let (_s, other) =
        PhoneSign::start(&phone.share, b"other", &mut getrandom::SysRng).expect("start");
    let reused = phone.request("idem-honest-1", b"other", other.as_bytes());
    let (status, body) = phone.post(&phone.sign_path(), &reused).await;
    assert_eq!(
        (status, code(&body)),
        (409, ErrorCode::SessionRefused),
        "{body}"
    );
    // An unknown session.
    let (status, body) = phone
        .post(&phone.finish_path(&"ab".repeat(32)), &finish_body)
        .await;
    assert_eq!(status / 100, 4, "{body}");

    // A message other than the one the phone hashed: the message hash is bound into the
    // session from phase 1, so the server's phase 2 refuses it (typed, audited), nothing is
    // stored, and nothing is signed.
    let (_session, round1) =
        PhoneSign::start(&phone.share, b"what the user saw", &mut getrandom::SysRng).expect("s");
    let swapped = phone.request("idem-swap-0001", b"something else", round1.as_bytes());
    let (status, body) = phone.post(&phone.sign_path(), &swapped).await;
    assert_eq!(
        (status, code(&body)),
        (400, ErrorCode::BadRequest),
        "{body}"
    );

    // A byte of trip 2 flipped: refused, and the session is closed.
    let (session, round1) =
        PhoneSign::start(&phone.share, b"flip", &mut getrandom::SysRng).expect("start");
    let request = phone.request("idem-flip-0001", b"flip", round1.as_bytes());
    let (status, body) = phone.post(&phone.sign_path(), &request).await;
    assert_eq!(status, 200, "{body}");
    let answer: P256SignResponse = serde_json::from_value(body).expect("answer");
    let reply1 = SignReply1::from_bytes(&answer.sign.bytes(200_000).expect("hex")).expect("reply");
    let (_finish, round2) = session.receive(&reply1).expect("receive");
    let mut tampered = round2.as_bytes().to_vec();
    let last = tampered.len() - 3;
    tampered[last] ^= 0x01;
    let (status, body) = phone
        .post(
            &phone.finish_path(&answer.sign_id),
            &P256SignFinishRequest {
                sign: P256Hex::of(&tampered),
            },
        )
        .await;
    assert_eq!(status / 100, 4, "{body}");
    let (status, body) = phone
        .post(
            &phone.finish_path(&answer.sign_id),
            &P256SignFinishRequest {
                sign: P256Hex::of(round2.as_bytes()),
            },
        )
        .await;
    assert_eq!(status / 100, 4, "the session is never continued: {body}");

    // Garbage and oversized trip-1 messages are typed refusals.
    let garbage = phone.request("idem-garbage-1", b"g", b"not a protocol message");
    let (status, body) = phone.post(&phone.sign_path(), &garbage).await;
    assert_eq!(
        (status, code(&body)),
        (400, ErrorCode::BadRequest),
        "{body}"
    );

    assert_eq!(
        signed_entries(&server, "signed").len(),
        1,
        "no failed session produced a signature"
    );
    let refusals = signed_entries(&server, "refused");
    assert!(
        refusals.iter().any(|e| e.detail.contains("already used")),
        "the replay is audited: {refusals:#?}"
    );
    assert!(refusals.iter().any(|e| e.detail.contains("used before")));
    assert!(refusals.iter().any(|e| e.detail.contains("trip 1 failed")));
    assert!(refusals.iter().any(|e| e.detail.contains("trip 2 failed")));
    // The honest key still signs through the SDK.
    client
        .sign_message_p256(&key, &pin(), b"still fine", None)
        .await
        .expect("the key still works");
    server.shutdown().await.expect("shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn altered_ot_data_bans_locks_and_revokes_the_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start_server(&dir.path().join("server")).await;
    let device_dir = dir.path().join("device");
    let client = client_for(&server, &device_dir);
    let key = enrolled(&server, &client, "frank").await.key_id;
    let phone = RawP256::new(&server, &device_dir, &key);

    let (session, round1) =
        PhoneSign::start(&phone.share, b"ban", &mut getrandom::SysRng).expect("start");
    let mut altered = round1.as_bytes().to_vec();
    let mid = altered.len() / 2;
    altered[mid] ^= 0x80;
    let request = phone.request("idem-ban-00001", b"ban", &altered);
    let (status, body) = phone.post(&phone.sign_path(), &request).await;
    if status == 200 {
        let answer: P256SignResponse = serde_json::from_value(body).expect("answer");
        let reply1 =
            SignReply1::from_bytes(&answer.sign.bytes(200_000).expect("hex")).expect("reply");
        let (_finish, round2) = session.receive(&reply1).expect("the phone is honest");
        let (status, body) = phone
            .post(
                &phone.finish_path(&answer.sign_id),
                &P256SignFinishRequest {
                    sign: P256Hex::of(round2.as_bytes()),
                },
            )
            .await;
        assert_eq!(
            (status, code(&body)),
            (409, ErrorCode::SessionRefused),
            "{body}"
        );
    } else {
        assert_eq!(
            (status, code(&body)),
            (409, ErrorCode::SessionRefused),
            "{body}"
        );
    }
    let status = client.status(&key).await.expect("status");
    assert!(status.locked && status.revoked, "{status:?}");
    assert_eq!(
        client
            .sign_message_p256(&key, &pin(), b"after", None)
            .await
            .err(),
        Some(SdkError::Revoked)
    );
    let locked = signed_entries(&server, "locked");
    assert!(
        locked
            .iter()
            .any(|e| e.detail.contains("counterparty banned"))
    );
    assert_eq!(signed_entries(&server, "revoked").len(), 1);
    assert!(signed_entries(&server, "signed").is_empty());
    server.shutdown().await.expect("shutdown");
}

/// A PAdES signature by a two-party P-256 key (ecdsa-with-SHA256, the certificate from the
/// CA's P-256 root) in the loan contract: inkseal, pyHanko, poppler's `pdfsig` and BouncyCastle
/// accept it, and a wrong PIN gives no signature.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_p256_split_key_signs_a_pdf_that_pyhanko_pdfsig_and_bouncycastle_accept() {
    use inkseal_pdf::appearance::{AppearanceSpec, InkStrokes};
    use inkseal_pdf::sign::{Placement, SignOptions};
    use inkseal_pdf::verify::{VerifyOptions, verify};
    use inkseal_tests::validators::{bouncycastle_check, pdfsig, pyhanko_validate, qpdf_check};

    let dir = tempfile::tempdir().expect("tempdir");
    let server = start_server(&dir.path().join("server")).await;
    let client = client_for(&server, &dir.path().join("device"));
    let key = enrolled(&server, &client, "Grace Policyholder")
        .await
        .key_id;
    let (_, ca) = client
        .request_certificate_p256(&key, &pin(), None)
        .await
        .expect("certificate");
    let ca_pem = dir.path().join("ca-p256.pem");
    std::fs::write(&ca_pem, inkseal_pki::der_to_pem("CERTIFICATE", &ca)).expect("write");

    let input = std::fs::read(inkseal_tests::fixture("loan-contract-zh.pdf")).expect("fixture");
    let now = inkseal_tests::now_unix();
    let mut options = SignOptions::new(now);
    options.field_name = Some("Borrower".into());
    options.placement = Placement::Rect {
        page: 3,
        rect: [150.0, 380.0, 160.0, 60.0],
    };
    options.appearance = AppearanceSpec {
        ink: Some(InkStrokes::from_polylines(
            inkseal_ink::Pad {
                width: 100.0,
                height: 40.0,
                dpi: 160.0,
            },
            &[vec![[5.0, 30.0], [30.0, 5.0], [60.0, 35.0], [95.0, 10.0]]],
        )),
        label: vec!["Borrower".into()],
        label_font: Some(inkseal_tests::label_font()),
        ..Default::default()
    };
    let tail = client
        .sign_pdf(&key, &pin(), &input, &options)
        .await
        .expect("co-signed PDF");
    let out = dir.path().join("p256-cosigned.pdf");
    std::fs::write(&out, [input.as_slice(), tail.as_slice()].concat()).expect("write");

    let data = std::fs::read(&out).expect("read");
    let report = verify(
        &data,
        &VerifyOptions {
            trust_anchors: vec![ca.clone()],
            at_unix: Some(now),
            ..Default::default()
        },
    )
    .expect("verify");
    assert!(report.all_ok(), "{report:#?}");
    qpdf_check(&out).expect("qpdf --check");
    let bc = bouncycastle_check(&out, &[&ca_pem]);
    assert!(bc.all_valid(), "BouncyCastle: {} {}", bc.stdout, bc.stderr);
    assert_eq!(
        bc.signatures[0].signature_algorithm.as_deref(),
        Some("ECDSA-with-SHA256")
    );
    assert_eq!(
        bc.signatures[0].digest_algorithm.as_deref(),
        Some("SHA-256")
    );
    let ph = pyhanko_validate(&out, &ca_pem);
    assert!(ph.all_valid(), "pyHanko: {}\n{}", ph.stdout, ph.stderr);
    let ps = pdfsig(&out);
    assert!(ps.all_signatures_valid(), "pdfsig: {}", ps.stdout);
    assert_eq!(ps.signatures[0].hash_algorithm.as_deref(), Some("SHA-256"));

    let err = client
        .sign_pdf(&key, &Pin::new("000000"), &input, &options)
        .await
        .expect_err("wrong PIN");
    assert!(matches!(err, SdkError::WrongPin { .. }), "{err}");
    server.shutdown().await.expect("shutdown");
}

async fn postgres_replica(data_dir: &std::path::Path, url: &str) -> RunningServer {
    let mut config = inkseal_tests::loopback_config(data_dir);
    let mut pg = inkseal_server::store::PostgresConfig::new(url);
    pg.pool_size = 4;
    config.database = inkseal_server::DatabaseChoice::Postgres(pg);
    match inkseal_server::start(config).await {
        Ok(s) => s,
        Err(e) => panic!("replica failed to start: {e}"),
    }
}

/// Two replicas on one PostgreSQL database: an enrollment whose trip 1 reaches A and trip 2
/// reaches B succeeds (the sealed key generation is in the shared row) and the key signs; a
/// signing session started on one is finished on the other (the sealed state is in the shared
/// row), and a replayed trip 2 of either is refused on either replica.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn on_postgres_any_replica_finishes_an_enrollment_or_a_signing_session_once() {
    let url = inkseal_tests::postgres::PgCluster::shared().create_database();
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("server");
    let a = postgres_replica(&data, &url).await;
    let b = postgres_replica(&data, &url).await;
    let device_dir = dir.path().join("device");
    let via_b = client_for(&b, &device_dir);
    let backend = tokio::task::block_in_place(|| Backend::new(&a));

    // The SDK's enrollment with trip 1 routed to A and trip 2 to B.
    let ticket = backend.ticket("henry").await;
    let split = std::sync::Arc::new(TripsToReplicas {
        http: http_client(),
        first: a.url(),
        second: b.url(),
        seconds: Default::default(),
    });
    let key = client_for(&a, &device_dir)
        .with_transport(split.clone())
        .enroll_p256(&ticket, &pin())
        .await
        .expect("enroll: trip 1 through A, trip 2 through B")
        .key_id;
    assert_eq!(
        split.seconds.load(std::sync::atomic::Ordering::SeqCst),
        1,
        "trip 2 went to B"
    );
    // Signs through B (its sessions and share are in the database).
    let sig = via_b
        .sign_message_p256(&key, &pin(), b"through B", None)
        .await
        .expect("sign through B");
    let vk = p256::ecdsa::VerifyingKey::from(&via_b.p256_public_key(&key).expect("key"));
    vk.verify(b"through B", &sig).expect("verifies");

    let phone = RawP256::new(&a, &device_dir, &key);
    let (session, round1) =
        PhoneSign::start(&phone.share, b"A then B", &mut getrandom::SysRng).expect("start");
    let request = phone.request("idem-pg-00001", b"A then B", round1.as_bytes());
    let (status, first) = phone
        .post_bytes(&a.url(), &phone.sign_path(), &request)
        .await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&first));
    // The same trip 1 repeated through B: A's answer, byte for byte, from the shared row.
    let (status, repeat) = phone
        .post_bytes(&b.url(), &phone.sign_path(), &request)
        .await;
    assert_eq!(status, 200);
    assert!(
        repeat == first,
        "a repeated trip 1 gets the stored answer on any replica"
    );
    // Another body under the same idempotency key: refused on either replica.
    let (_s, other) =
        PhoneSign::start(&phone.share, b"other", &mut getrandom::SysRng).expect("start");
    for replica in [&a, &b] {
        let (status, body) = phone
            .post_to(
                &replica.url(),
                &phone.sign_path(),
                &phone.request("idem-pg-00001", b"other", other.as_bytes()),
            )
            .await;
        assert_eq!(
            (status, code(&body)),
            (409, ErrorCode::SessionRefused),
            "{body}"
        );
    }
    let answer: P256SignResponse = serde_json::from_slice(&first).expect("answer");
    let reply1 = SignReply1::from_bytes(&answer.sign.bytes(200_000).expect("hex")).expect("reply");
    let (finish, round2) = session.receive(&reply1).expect("receive");
    let finish_body = P256SignFinishRequest {
        sign: P256Hex::of(round2.as_bytes()),
    };
    let path = phone.finish_path(&answer.sign_id);
    let (status, finished) = phone.post_bytes(&b.url(), &path, &finish_body).await;
    assert_eq!(
        status,
        200,
        "finished on the other replica: {}",
        String::from_utf8_lossy(&finished)
    );
    let reply2: inkseal_cosign::api::P256SignFinishResponse =
        serde_json::from_slice(&finished).expect("answer");
    let reply2 =
        inkseal_cosign::p256::SignReply2::from_bytes(&reply2.sign.bytes(4096).expect("hex"))
            .expect("reply 2");
    vk.verify(b"A then B", &finish.finish(&reply2).expect("signature"))
        .expect("verifies");
    // The same trip 2 again, on either replica: the recorded answer, byte for byte; another
    // trip 2 on the used session is refused on either.
    let mut altered = round2.as_bytes().to_vec();
    altered[10] ^= 0x01;
    let altered = P256SignFinishRequest {
        sign: P256Hex::of(&altered),
    };
    for replica in [&a, &b] {
        let (status, repeat) = phone.post_bytes(&replica.url(), &path, &finish_body).await;
        assert_eq!(status, 200);
        assert!(
            repeat == finished,
            "a repeated trip 2 gets the stored answer"
        );
        let (status, body) = phone.post_to(&replica.url(), &path, &altered).await;
        assert_eq!(
            (status, code(&body)),
            (409, ErrorCode::SessionRefused),
            "{body}"
        );
    }

    // By hand: trip 1 to A, trip 2 to B (the phone gets the same joint key), then the same
    // trip 2 replayed to A and to B: refused on both (the key generation was taken once).
    let ticket = backend.ticket("ines").await;
    let trips = enroll_trip_one_then_other(&a, &b, &ticket, &dir.path().join("d2")).await;
    assert_eq!(trips.len(), 3);
    assert_eq!(trips[0].0, 201, "{}", trips[0].1);
    for (status, body) in &trips[1..] {
        assert_eq!(
            (*status, code(body)),
            (409, ErrorCode::SessionRefused),
            "{body}"
        );
    }

    let entries = tokio::task::block_in_place(|| {
        inkseal_server::store::read_whole_log(a.service().store().as_ref()).expect("audit")
    });
    verify_chain(&entries).expect("one chain across replicas");
    a.shutdown().await.expect("shutdown");
    b.shutdown().await.expect("shutdown");
}

/// Enrollment trip 1 to `first`, trip 2 to `second`, by hand, then the same trip 2 (freshly
/// signed) to `first` and to `second` again: the three answers. The phone finishes its key
/// generation with the first answer if it succeeded and checks the joint key.
async fn enroll_trip_one_then_other(
    first: &RunningServer,
    second: &RunningServer,
    ticket: &str,
    device_dir: &std::path::Path,
) -> Vec<(u16, serde_json::Value)> {
    use inkseal_cosign::api::{
        DeviceKeyRegistration, EnrollmentTicket, KeyPurpose, P256EnrollFinishRequest,
        P256EnrollFinishResponse, P256EnrollRequest, P256EnrollResponse,
    };
    use inkseal_cosign::p256::{KeygenReply1, KeygenReply2, PhoneKeygen};
    use inkseal_sdk::DeviceKeyStore;
    let ticket = EnrollmentTicket::parse(ticket).expect("ticket");
    let keys = inkseal_sdk::FileDeviceKeyStore::new(device_dir).expect("keys");
    let device = keys
        .create("dk-raw", ticket.id().as_bytes())
        .expect("device key");
    let sign = |path: &str, body: &[u8]| {
        let params = inkseal_httpsig::SignatureParams::new(
            ticket.id(),
            inkseal_tests::now_unix(),
            &inkseal_tests::fresh_nonce(),
        )
        .expect("params");
        let target = inkseal_httpsig::RequestTarget::new("POST", path, body).expect("target");
        let signer = |m: &[u8]| {
            let bytes = keys
                .sign("dk-raw", m)
                .map_err(|e| inkseal_httpsig::SignerError::new(e.to_string()))?;
            match p256::ecdsa::Signature::from_slice(&bytes) {
                Ok(sig) if bytes.len() == 64 => Ok(sig),
                _ => inkseal_httpsig::signature_from_der(&bytes),
            }
        };
        let h = inkseal_httpsig::sign_request(&target, &params, &signer).expect("sign");
        vec![
            ("content-type".to_owned(), "application/json".to_owned()),
            ("content-digest".to_owned(), h.content_digest),
            ("signature-input".to_owned(), h.signature_input),
            ("signature".to_owned(), h.signature),
        ]
    };
    let http = http_client();
    let (keygen, round1) = PhoneKeygen::start(&mut getrandom::SysRng).expect("start");
    let body = serde_json::to_vec(&P256EnrollRequest {
        ticket: ticket.clone(),
        pin: pin(),
        device_key: DeviceKeyRegistration {
            public_key_spki_hex: hex::encode(&device.public_key_spki_der),
            attestation: None,
        },
        purpose: KeyPurpose::Signing,
        keygen: P256Hex::of(round1.as_bytes()),
    })
    .expect("json");
    let path = "/v1/enroll/p256";
    let (status, answer) = raw(
        &http,
        "POST",
        &format!("{}{path}", first.url()),
        &sign(path, &body),
        body,
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    let answer: P256EnrollResponse = serde_json::from_value(answer).expect("answer");
    let reply1 = KeygenReply1::from_bytes(&answer.keygen.bytes(4096).expect("hex")).expect("r1");
    let (finish, round2) = keygen.receive(&reply1).expect("receive");
    let body = serde_json::to_vec(&P256EnrollFinishRequest {
        ticket: ticket.clone(),
        keygen: P256Hex::of(round2.as_bytes()),
    })
    .expect("json");
    let path = "/v1/enroll/p256/finish";
    let mut answers = Vec::new();
    for server in [second, first, second] {
        answers.push(
            raw(
                &http,
                "POST",
                &format!("{}{path}", server.url()),
                &sign(path, &body),
                body.clone(),
            )
            .await,
        );
    }
    if answers[0].0 == 201 {
        let done: P256EnrollFinishResponse =
            serde_json::from_value(answers[0].1.clone()).expect("finish answer");
        let reply2 =
            KeygenReply2::from_bytes(&done.keygen.bytes(400_000).expect("hex")).expect("r2");
        let share = finish
            .finish(&reply2)
            .expect("the phone's key generation finishes");
        let public_key = {
            use p256::elliptic_curve::sec1::ToSec1Point as _;
            hex::encode(share.public_key().to_sec1_point(false).as_bytes())
        };
        assert_eq!(public_key, done.public_key_hex, "one joint key");
    }
    answers
}

/// Sends `request` to `url` with `http`, from the blocking thread of the SDK's runtime the SDK
/// calls a transport on; a failure to reach the server is `Unreachable`.
fn send_over(
    http: &reqwest::Client,
    request: inkseal_sdk::HttpRequest,
    url: &str,
) -> Result<inkseal_sdk::HttpResponse, inkseal_sdk::TransportError> {
    let unreachable = |e: reqwest::Error| inkseal_sdk::TransportError::Unreachable(e.to_string());
    tokio::runtime::Handle::current().block_on(async {
        let mut req = http
            .request(request.method.parse().expect("method"), url)
            .timeout(request.timeout);
        for (name, value) in &request.headers {
            req = req.header(name.as_str(), value.as_str());
        }
        if let Some(body) = request.body {
            req = req.body(body);
        }
        let resp = req.send().await.map_err(unreachable)?;
        let status = resp.status().as_u16();
        let body = resp.bytes().await.map_err(unreachable)?.to_vec();
        Ok(inkseal_sdk::HttpResponse { status, body })
    })
}

/// An app's HTTP stack behind a load balancer that sends P-256 enrollment trip 2 to another
/// replica than everything else.
struct TripsToReplicas {
    http: reqwest::Client,
    first: String,
    second: String,
    /// Requests sent to `second`.
    seconds: std::sync::atomic::AtomicUsize,
}

impl inkseal_sdk::Transport for TripsToReplicas {
    fn send(
        &self,
        request: inkseal_sdk::HttpRequest,
    ) -> Result<inkseal_sdk::HttpResponse, inkseal_sdk::TransportError> {
        let url = match request.url.strip_prefix(&self.first) {
            Some(path) if path.starts_with("/v1/enroll/p256/finish") => {
                self.seconds
                    .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                format!("{}{path}", self.second)
            }
            _ => request.url.clone(),
        };
        send_over(&self.http, request, &url)
    }
}

/// Two-party P-256 is off unless the server is started with it: an enrollment is refused by
/// policy and nothing is kept.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_without_the_flag_refuses_p256_enrollment() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut config = inkseal_tests::loopback_config(&dir.path().join("server"));
    config.policy.p256_cosign = false;
    let server = inkseal_server::start(config).await.expect("start");
    let client = client_for(&server, &dir.path().join("device"));
    let ticket = Backend::new(&server).ticket("ivan").await;
    match client.enroll_p256(&ticket, &pin()).await {
        Err(SdkError::Refused(why)) => assert!(why.contains("P-256"), "{why}"),
        other => panic!("expected a policy refusal, got {other:?}"),
    }
    // The ticket is untouched: it still enrolls an SM2 key.
    client
        .enroll(&ticket, &pin())
        .await
        .expect("SM2 enrollment");
    server.shutdown().await.expect("shutdown");
}

/// Failed sessions are counted per key: the eighth locks it for review (audited), whatever
/// the PIN.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eight_failed_sessions_lock_the_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start_server(&dir.path().join("server")).await;
    let device_dir = dir.path().join("device");
    let client = client_for(&server, &device_dir);
    let key = enrolled(&server, &client, "judy").await.key_id;
    let phone = RawP256::new(&server, &device_dir, &key);
    for i in 0..8 {
        // The phone hashed one message, the request carries another: the server's phase 2
        // refuses the session (a recoverable abort).
        let (_session, round1) =
            PhoneSign::start(&phone.share, b"seen", &mut getrandom::SysRng).expect("start");
        let swapped = phone.request(&format!("idem-fail-{i:04}"), b"other", round1.as_bytes());
        let (status, body) = phone.post(&phone.sign_path(), &swapped).await;
        let want = if i < 7 {
            (400, ErrorCode::BadRequest)
        } else {
            (423, ErrorCode::Locked)
        };
        assert_eq!((status, code(&body)), want, "session {i}: {body}");
    }
    assert!(client.status(&key).await.expect("status").locked);
    assert_eq!(
        client
            .sign_message_p256(&key, &pin(), b"m", None)
            .await
            .err(),
        Some(SdkError::Locked)
    );
    let locked = signed_entries(&server, "locked");
    assert!(
        locked
            .iter()
            .any(|e| e.detail.contains("failed two-party P-256 sessions")),
        "{locked:#?}"
    );

    // An operator unlocks after review: the count starts again, so one more failed session
    // is an ordinary refusal, and the key signs.
    let backend = Backend::new(&server);
    let (status, body) = backend
        .post(
            &format!("/v1/admin/keys/{key}/unlock"),
            serde_json::json!({ "reverification": "branch 7, the customer's phone checked" }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (_session, round1) =
        PhoneSign::start(&phone.share, b"seen", &mut getrandom::SysRng).expect("start");
    let swapped = phone.request("idem-after-unlock", b"other", round1.as_bytes());
    let (status, body) = phone.post(&phone.sign_path(), &swapped).await;
    assert_eq!(
        (status, code(&body)),
        (400, ErrorCode::BadRequest),
        "{body}"
    );
    assert!(!client.status(&key).await.expect("status").locked);
    client
        .sign_message_p256(&key, &pin(), b"after review", None)
        .await
        .expect("the unlocked key signs");
    server.shutdown().await.expect("shutdown");
}

/// An app's HTTP stack that loses the answer to the first copy of each P-256 signing trip
/// after the server processed it (reported unreachable, as a dropped connection would be).
struct LosingAnswers {
    http: reqwest::Client,
    /// The paths whose first answer was lost.
    lost: std::sync::Mutex<Vec<String>>,
}

impl inkseal_sdk::Transport for LosingAnswers {
    fn send(
        &self,
        request: inkseal_sdk::HttpRequest,
    ) -> Result<inkseal_sdk::HttpResponse, inkseal_sdk::TransportError> {
        let unreachable = |e: String| inkseal_sdk::TransportError::Unreachable(e);
        let path = reqwest::Url::parse(&request.url)
            .map_err(|e| unreachable(e.to_string()))?
            .path()
            .to_owned();
        let trip = path.contains("/p256/sign") && request.method == "POST";
        let url = request.url.clone();
        let inkseal_sdk::HttpResponse { status, body } = send_over(&self.http, request, &url)?;
        let mut lost = self.lost.lock().expect("lost");
        if trip && status == 200 && !lost.contains(&path) {
            lost.push(path);
            return Err(unreachable(
                "connection reset after the server answered (simulated)".into(),
            ));
        }
        Ok(inkseal_sdk::HttpResponse { status, body })
    }
}

/// The SDK sends a P-256 signing trip again when its answer is lost, and the server answers
/// the repeat with the answer it gave: one signature, recorded once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sdk_retries_a_p256_trip_whose_answer_was_lost() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start_server(&dir.path().join("server")).await;
    let device_dir = dir.path().join("device");
    let client = client_for(&server, &device_dir);
    let key = enrolled(&server, &client, "frank").await.key_id;
    let transport = std::sync::Arc::new(LosingAnswers {
        http: http_client(),
        lost: Default::default(),
    });
    let lossy = client_for(&server, &device_dir).with_transport(transport.clone());
    let sig = lossy
        .sign_message_p256(&key, &pin(), b"answers lost once", None)
        .await
        .expect("signed although both trips lost their first answer");
    let vk = p256::ecdsa::VerifyingKey::from(&client.p256_public_key(&key).expect("key"));
    vk.verify(b"answers lost once", &sig).expect("verifies");
    assert_eq!(
        transport.lost.lock().expect("lost").len(),
        2,
        "trip 1 and trip 2 each lost one answer"
    );
    assert_eq!(signed_entries(&server, "signed").len(), 1, "one signature");
    server.shutdown().await.expect("shutdown");
}
