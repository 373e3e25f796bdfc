//! Liveness and ID-card evidence against a real server: the signing policy co-signs only with
//! fresh passed liveness evidence that bound the very document being signed, once; replayed,
//! foreign and expired challenges, failed verdicts and stale evidence are refused; a foreign
//! submission consumes nothing; the ID card must be the one the institution enrolled; the test
//! vendor counts only behind its insecure flag; the evidence package names the document.

use std::path::Path;
use std::sync::Arc;

use inkseal_capture::session::{CaptureConfig, CaptureHooks, CaptureSession, Clock};
use inkseal_capture::{Date, DigestAlgorithm, FileHooks};
use inkseal_cosign::api::Pin;
use inkseal_pdf::sign::{Placement, SignOptions};
use inkseal_pdf::verify::{VerifyOptions, verify};
use inkseal_sdk::{CaptureHookSet, CaptureRequest, CosignClient, RecoveryAction, SdkError};
use inkseal_server::RunningServer;
use inkseal_tests::render::render_page;
use inkseal_tests::{Backend, client_for, fixture, loopback_config, start_liveness_server};

fn pin() -> Pin {
    Pin::new("246810")
}

async fn enrolled(backend: &Backend, client: &CosignClient, user: &str) -> String {
    let key = inkseal_tests::enroll(backend, client, user, &pin())
        .await
        .key_id;
    client
        .request_certificate(&key, &pin(), None)
        .await
        .expect("certificate");
    key
}

fn hooks(dir: &Path) -> CaptureHookSet {
    FileHooks::write_sample(dir).expect("sample capture folder");
    let files = Arc::new(FileHooks::new(dir));
    CaptureHookSet {
        id_card: Some(files.clone()),
        liveness: files,
        intent: None,
    }
}

fn sign_options(label: &str) -> SignOptions {
    let mut o = SignOptions::new(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("clock")
            .as_secs(),
    );
    o.placement = Placement::Keyword {
        text: "借款人（签字）：".into(),
        page: Some(3),
        size: [150.0, 50.0],
    };
    o.appearance.label = vec![label.into()];
    o.appearance.label_font = Some(inkseal_tests::label_font());
    o
}

fn today() -> Date {
    Date::from_unix_ms(Clock::System.now_ms(), 480)
}

/// The operator sets `key`'s signing policy over HTTP.
async fn set_policy(backend: &Backend, key: &str, policy: serde_json::Value) {
    let (status, body) = backend
        .send(
            reqwest::Method::PUT,
            &format!("/v1/admin/keys/{key}/policy"),
            policy,
        )
        .await;
    assert_eq!(status, 200, "{body}");
}

async fn capture_for(
    client: &CosignClient,
    key: &str,
    dir: &Path,
    documents: Vec<[u8; 32]>,
) -> inkseal_sdk::VerifiedEvidence {
    client
        .capture_evidence(
            key,
            hooks(dir),
            CaptureRequest {
                documents,
                ..Default::default()
            },
        )
        .await
        .expect("live and valid")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_needs_fresh_liveness_bound_to_the_document_and_signs_it_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start_liveness_server(&dir.path().join("server"), false).await;
    let backend = Backend::new(&server);
    let client = client_for(&server, &dir.path().join("device"));
    let key = enrolled(&backend, &client, "customer-1001").await;
    set_policy(
        &backend,
        &key,
        serde_json::json!({ "require_liveness": true, "max_evidence_age_secs": 600 }),
    )
    .await;
    let contract = std::fs::read(fixture("loan-contract-zh.pdf")).expect("fixture");

    // Without evidence: refused, typed, and nothing is signed.
    let err = client
        .sign_pdf(&key, &pin(), &contract, &sign_options("借款人 张三"))
        .await
        .expect_err("no liveness, no signature");
    assert!(matches!(err, SdkError::EvidenceRequired(_)), "{err}");

    // The capture binds the prepared signature's document digest; the server judges it.
    let prepared = client
        .prepare_pdf(&key, &contract, &sign_options("借款人 张三"))
        .expect("prepared");
    let document = prepared.document_digest();
    let evidence = capture_for(&client, &key, &dir.path().join("capture"), vec![document]).await;
    assert!(evidence.receipt.passed);
    assert_eq!(evidence.receipt.document_digests, [hex::encode(document)]);
    let card = evidence.id_card.as_ref().expect("the card was checked");
    assert_eq!(card.id_number.as_str().len(), 18);

    // The same evidence cannot sign another document (contract B: another label, another
    // revision, another digest), whatever the age window says.
    let other_document = client
        .prepare_pdf(&key, &contract, &sign_options("借款人 李四"))
        .expect("prepared");
    assert_ne!(other_document.document_digest(), document);
    let err = client
        .sign_prepared_pdf(&pin(), &other_document, Some(evidence.head))
        .await
        .expect_err("evidence of another document");
    assert!(
        matches!(err, SdkError::EvidenceRequired(ref m) if m.contains("another document")),
        "{err}"
    );
    // Nor a raw message.
    let err = client
        .sign_message(&key, &pin(), b"transfer 1,000,000", Some(evidence.head))
        .await
        .expect_err("evidence of another document");
    assert!(matches!(err, SdkError::EvidenceRequired(_)), "{err}");

    let tail = client
        .sign_prepared_pdf(&pin(), &prepared, Some(evidence.head))
        .await
        .expect("co-signed with evidence");
    let signed = [contract.as_slice(), tail.as_slice()].concat();
    let report = verify(&signed, &VerifyOptions::default()).expect("verify");
    assert!(report.signatures[0].signature_valid, "{report:#?}");

    // Once: the same document prepared again (same digest) is not signed a second time.
    let again = client
        .prepare_pdf(&key, &contract, &sign_options("借款人 张三"))
        .expect("prepared");
    let again_digest = again.document_digest();
    let err = client
        .sign_prepared_pdf(&pin(), &again, Some(evidence.head))
        .await
        .expect_err("used evidence");
    if again_digest == document {
        assert!(
            matches!(err, SdkError::EvidenceRequired(ref m) if m.contains("already used")),
            "{err}"
        );
    } else {
        // The clock moved to the next second between the two preparations.
        assert!(matches!(err, SdkError::EvidenceRequired(_)), "{err}");
    }

    // The evidence of a different key does not open this key's policy.
    let other = enrolled(&backend, &client, "customer-1002").await;
    let prepared = client
        .prepare_pdf(&key, &contract, &sign_options("借款人 张三"))
        .expect("prepared");
    let other_evidence = capture_for(
        &client,
        &other,
        &dir.path().join("capture-other"),
        vec![prepared.document_digest()],
    )
    .await;
    let err = client
        .sign_prepared_pdf(&pin(), &prepared, Some(other_evidence.head))
        .await
        .expect_err("someone else's evidence");
    assert!(
        matches!(err, SdkError::EvidenceRequired(ref m) if m.contains("unknown")),
        "{err}"
    );

    // The institution finds the signing and exports its evidence: JSON and a PDF report
    // naming the document signed.
    let head_hex = hex::encode(evidence.head);
    let (status, signings) = backend.get(&format!("/v1/admin/keys/{key}/signings")).await;
    assert_eq!(status, 200);
    let signing = signings
        .as_array()
        .expect("list")
        .iter()
        .find(|s| s["evidence_head"] == head_hex.as_str())
        .expect("the co-signature with evidence is listed")
        .clone();
    assert_eq!(signing["document_digest"], hex::encode(document).as_str());
    assert_eq!(signing["message_kind"], "cms_signed_attributes");
    let idempotency_key = signing["idempotency_key"].as_str().expect("key");
    let base = format!("/v1/admin/keys/{key}/signings/{idempotency_key}");
    let (status, package) = backend.get(&format!("{base}/evidence")).await;
    assert_eq!(status, 200);
    assert_eq!(package["format"], "inkseal-evidence-package/v1");
    assert_eq!(package["signing"]["evidence_head"], head_hex.as_str());
    assert_eq!(
        package["signing"]["document_digest"],
        hex::encode(document).as_str()
    );
    let ev = &package["evidence"];
    assert_eq!(ev["passed"], true);
    assert_eq!(ev["manifest_verified"], true);
    assert_eq!(ev["vendor_name"], "inkseal-test-vendor");
    assert!(
        ev["id_number_masked"]
            .as_str()
            .expect("masked id")
            .contains('*')
    );
    assert_eq!(ev["document_digests"][0], hex::encode(document).as_str());
    assert_eq!(package["audit_entries_verified"], true);
    let kinds: Vec<&str> = package["audit"]
        .as_array()
        .expect("audit")
        .iter()
        .filter_map(|e| e["kind"].as_str())
        .collect();
    for k in [
        "enrolled",
        "challenge_issued",
        "evidence_accepted",
        "policy_changed",
        "refused",
        "signed",
    ] {
        assert!(kinds.contains(&k), "{k} in {kinds:?}");
    }
    // The sealed package: its exact bytes under a time-stamp that OpenSSL accepts.
    let (status, sealed) = backend.get(&format!("{base}/evidence.sealed")).await;
    assert_eq!(status, 200, "{sealed}");
    let text = sealed["package"].as_str().expect("package text");
    let inner: serde_json::Value = serde_json::from_str(text).expect("package JSON");
    assert_eq!(inner["format"], "inkseal-evidence-package/v1");
    assert_eq!(inner["signing"], package["signing"]);
    use sha2::Digest;
    assert_eq!(
        sealed["package_sha256"].as_str(),
        Some(hex::encode(sha2::Sha256::digest(text.as_bytes())).as_str())
    );
    let sealed_dir = dir.path().join("sealed");
    std::fs::create_dir_all(&sealed_dir).expect("dir");
    std::fs::write(sealed_dir.join("package.json"), text).expect("write");
    std::fs::write(
        sealed_dir.join("token.der"),
        hex::decode(sealed["time_stamp_token_der_hex"].as_str().expect("token")).expect("hex"),
    )
    .expect("write");
    let roots = server.service().root_certificates_pem();
    std::fs::write(sealed_dir.join("roots.pem"), roots).expect("write");
    let verify_with_openssl = |data: &str| {
        std::process::Command::new("openssl")
            .current_dir(&sealed_dir)
            .args([
                "ts",
                "-verify",
                "-data",
                data,
                "-in",
                "token.der",
                "-token_in",
                "-CAfile",
                "roots.pem",
            ])
            .output()
            .expect("openssl")
    };
    let out = verify_with_openssl("package.json");
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::write(
        sealed_dir.join("changed.json"),
        text.replace("true", "false"),
    )
    .expect("write");
    assert!(!verify_with_openssl("changed.json").status.success());

    let pdf = backend
        .http
        .get(format!("{}{base}/evidence.pdf", server.url()))
        .bearer_auth(&backend.api_key)
        .send()
        .await
        .expect("report");
    assert_eq!(
        pdf.headers()
            .get("cache-control")
            .and_then(|v| v.to_str().ok()),
        Some("no-store")
    );
    let pdf = pdf.bytes().await.expect("bytes");
    assert!(pdf.starts_with(b"%PDF-"));
    let doc = inkseal_pdf::Document::load(&pdf, &inkseal_pdf::Limits::default()).expect("loads");
    let pages = inkseal_pdf::pages::pages(&doc).expect("pages");
    let mut text = String::new();
    for page in &pages {
        for c in inkseal_pdf::text::page_text(&doc, page).expect("text") {
            text.push(c.ch);
        }
    }
    let compact: String = text.split_whitespace().collect();
    assert!(compact.contains("活体检测"), "{compact}");
    assert!(
        compact.contains(&hex::encode(document)[..32]),
        "the signed document's digest is printed"
    );
    // The report is sealed by a document time-stamp of the server's P-256 TSA.
    let roots: Vec<Vec<u8>> = server
        .service()
        .root_certificates()
        .into_iter()
        .map(<[u8]>::to_vec)
        .collect();
    let report = inkseal_pdf::verify::verify(
        &pdf,
        &inkseal_pdf::verify::VerifyOptions {
            trust_anchors: roots,
            at_unix: Some(inkseal_tests::now_unix()),
            ..Default::default()
        },
    )
    .expect("verify the report");
    assert!(report.all_ok(), "{report:#?}");
    assert_eq!(report.signatures.len(), 1);
    assert!(report.signatures[0].document_time_stamp);
    assert_eq!(
        report.signatures[0].signer.as_deref(),
        Some("CN=inkseal time-stamping authority P-256")
    );
    let out = dir.path().join("evidence-report.pdf");
    std::fs::write(&out, &pdf).expect("write");
    let page = render_page(&out, 1, &dir.path().join("report"));
    assert!(page.width() > 500);
    let keep = Path::new(env!("CARGO_TARGET_TMPDIR")).join("evidence-report.png");
    let _ = std::fs::copy(dir.path().join("report.png"), keep);
    server.shutdown().await.expect("shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_policy_signs_each_bound_document_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start_liveness_server(&dir.path().join("server"), false).await;
    let backend = Backend::new(&server);
    let client = client_for(&server, &dir.path().join("device"));
    let key = enrolled(&backend, &client, "customer-2001").await;
    set_policy(
        &backend,
        &key,
        serde_json::json!({
            "require_liveness": true, "max_evidence_age_secs": 600, "allow_batch": true
        }),
    )
    .await;
    let (a, b, c) = (
        &b"loan agreement"[..],
        &b"repayment schedule"[..],
        &b"privacy notice"[..],
    );
    let sm3 = |m: &[u8]| DigestAlgorithm::Sm3.digest(m);
    let evidence = capture_for(
        &client,
        &key,
        &dir.path().join("capture"),
        vec![sm3(a), sm3(b)],
    )
    .await;
    for m in [a, b] {
        client
            .sign_message(&key, &pin(), m, Some(evidence.head))
            .await
            .expect("a bound document signs");
    }
    for (m, why) in [(a, "already used"), (c, "another document")] {
        let err = client
            .sign_message(&key, &pin(), m, Some(evidence.head))
            .await
            .expect_err("refused");
        assert!(
            matches!(err, SdkError::EvidenceRequired(ref e) if e.contains(why)),
            "{err}"
        );
    }
    server.shutdown().await.expect("shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replayed_foreign_and_expired_challenges_are_refused_and_foreigners_consume_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut config = loopback_config(&dir.path().join("server"));
    config.insecure.test_liveness_vendor = true;
    config.policy.challenge_ttl_secs = 3; // short, but room for a loaded machine
    // The test purges by hand: housekeeping must not delete the expired challenge before its
    // late submission is refused as expired (it would then be "unknown").
    config.housekeeping_interval = std::time::Duration::from_secs(3600);
    let server = inkseal_server::start(config).await.expect("start");
    let backend = Backend::new(&server);
    let client = client_for(&server, &dir.path().join("device"));
    let key = enrolled(&backend, &client, "policyholder-1").await;
    let other = enrolled(&backend, &client, "policyholder-2").await;
    let capture_dir = dir.path().join("capture");
    FileHooks::write_sample(&capture_dir).expect("sample");
    let files = FileHooks::new(&capture_dir);
    // The phone's clock is pinned to the issue time: only the server's clock judges expiry.
    let capture = |challenge: inkseal_capture::LivenessChallenge| {
        let mut config = CaptureConfig::new(DigestAlgorithm::Sha256, today());
        config.require_id_card = false;
        config.clock = Clock::Fixed(challenge.issued_at_ms);
        CaptureSession::run(
            config,
            challenge,
            CaptureHooks {
                id_card: None,
                liveness: &files,
                intent: None,
            },
        )
        .expect("capture")
    };

    // Another key submitting evidence that names this key's challenge is refused, and the
    // challenge is still there for its owner.
    let challenge = client.liveness_challenge(&key).await.expect("challenge");
    assert!(!challenge.actions.is_empty(), "actions mode by default");
    let outcome = capture(challenge.clone());
    let err = client
        .submit_evidence(&other, &outcome.submission)
        .await
        .expect_err("foreign");
    assert!(
        matches!(err, SdkError::CaptureRejected { ref reason, action: RecoveryAction::NewChallenge }
            if reason.contains("another key")),
        "{err}"
    );
    // A malformed submission by the owner consumes nothing either.
    let mut broken = outcome.submission.clone();
    broken.liveness.frames_hex.clear();
    let refused = client.submit_evidence(&key, &broken).await;
    assert!(matches!(refused, Err(SdkError::Refused(_))), "{refused:?}");
    let first = client
        .submit_evidence(&key, &outcome.submission)
        .await
        .expect("the owner's submission still counts");
    assert!(first.passed, "{}", first.reason);
    let again = client
        .submit_evidence(&key, &outcome.submission)
        .await
        .expect("idempotent retry");
    assert_eq!(again, first);

    // Replaying the challenge with another capture is refused.
    let mut replay = capture(challenge);
    replay
        .bind_document(DigestAlgorithm::Sha256, [7; 32], 1)
        .expect("bind");
    let err = client
        .submit_evidence(&key, &replay.submission)
        .await
        .expect_err("replay");
    assert!(
        matches!(err, SdkError::CaptureRejected { ref reason, .. } if reason.contains("already used")),
        "{err}"
    );

    // An expired challenge is refused by the server's clock, whatever the phone's says.
    let challenge = client.liveness_challenge(&key).await.expect("challenge");
    let late = capture(challenge.clone());
    tokio::time::sleep(std::time::Duration::from_millis(
        challenge.expires_at_ms - challenge.issued_at_ms + 300,
    ))
    .await;
    let err = client
        .submit_evidence(&key, &late.submission)
        .await
        .expect_err("expired");
    assert!(
        matches!(err, SdkError::CaptureRejected { ref reason, .. } if reason.contains("expired")),
        "{err}"
    );

    // Expired, unanswered challenges are purged (their audit entries stay).
    let purged = server.service().purge_expired().expect("purge");
    assert!(purged.challenges >= 1, "{purged:?}");
    let entries = backend.audit().await;
    assert!(entries.iter().any(|e| e["kind"] == "purged"));
    assert!(
        entries
            .iter()
            .filter(|e| e["kind"] == "challenge_issued")
            .count()
            >= 2
    );

    // A vendor verdict of "spoof" is recorded as failed and opens nothing.
    std::fs::write(capture_dir.join("face/verdict_hint.txt"), "spoof").expect("hint");
    set_policy(
        &backend,
        &key,
        serde_json::json!({ "require_liveness": true, "max_evidence_age_secs": 600 }),
    )
    .await;
    let challenge = client.liveness_challenge(&key).await.expect("challenge");
    let mut spoof = capture(challenge);
    let message = b"spoofed consent";
    spoof
        .bind_document(
            DigestAlgorithm::Sm3,
            DigestAlgorithm::Sm3.digest(message),
            1,
        )
        .expect("bind");
    let receipt = client
        .submit_evidence(&key, &spoof.submission)
        .await
        .expect("a verdict, not an error");
    assert!(!receipt.passed);
    assert!(receipt.reason.contains("spoof"), "{}", receipt.reason);
    let mut head = [0u8; 32];
    hex::decode_to_slice(&receipt.manifest_head, &mut head).expect("hex");
    let err = client
        .sign_message(&key, &pin(), message, Some(head))
        .await
        .expect_err("failed liveness");
    assert!(
        matches!(err, SdkError::EvidenceRequired(ref m) if m.contains("failed")),
        "{err}"
    );
    server.shutdown().await.expect("shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stale_evidence_is_refused_and_the_refusal_is_audited() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut config = loopback_config(&dir.path().join("server"));
    config.insecure.test_liveness_vendor = true;
    config.policy.signing.require_liveness = true;
    // Generous while the fresh steps run (however loaded the machine); the operator shortens
    // it to one second below, so only evidence captured before the pause is judged stale.
    config.policy.signing.max_evidence_age_secs = 600;
    config.policy.signing.allow_batch = true;
    let server = inkseal_server::start(config).await.expect("start");
    let backend = Backend::new(&server);
    let client = client_for(&server, &dir.path().join("device"));
    // Identity proofing before the certificate: the CSR's co-signature needs evidence too.
    let key = inkseal_tests::enroll(&backend, &client, "consumer-9", &pin())
        .await
        .key_id;
    let err = client
        .request_certificate(&key, &pin(), None)
        .await
        .expect_err("no certificate without liveness");
    assert!(matches!(err, SdkError::EvidenceRequired(_)), "{err}");
    let (m1, m2) = (&b"first consent"[..], &b"second consent"[..]);
    let evidence = capture_for(
        &client,
        &key,
        &dir.path().join("capture"),
        vec![
            DigestAlgorithm::Sm3.digest(m1),
            DigestAlgorithm::Sm3.digest(m2),
        ],
    )
    .await;
    client
        .request_certificate(&key, &pin(), Some(evidence.head))
        .await
        .expect("certificate after proofing");
    client
        .sign_message(&key, &pin(), m1, Some(evidence.head))
        .await
        .expect("fresh evidence signs");
    set_policy(
        &backend,
        &key,
        serde_json::json!({
            "require_liveness": true,
            "max_evidence_age_secs": 1,
            "allow_batch": true
        }),
    )
    .await;
    // The evidence was captured before this pause, so it is older than a second after it.
    tokio::time::sleep(std::time::Duration::from_millis(1_300)).await;
    let err = client
        .sign_message(&key, &pin(), m2, Some(evidence.head))
        .await
        .expect_err("stale");
    assert!(
        matches!(err, SdkError::EvidenceRequired(ref m) if m.contains("old")),
        "{err}"
    );
    let refusals = backend
        .audit()
        .await
        .into_iter()
        .filter(|e| {
            e["kind"] == "refused" && e["detail"].as_str().is_some_and(|d| d.contains("old"))
        })
        .count();
    assert_eq!(refusals, 1);
    server.shutdown().await.expect("shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_id_card_must_be_the_one_the_institution_enrolled() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start_liveness_server(&dir.path().join("server"), false).await;
    let backend = Backend::new(&server);
    let client = client_for(&server, &dir.path().join("device"));
    let sample = inkseal_capture::samples::sample_id_number();
    // Another valid number (check character recomputed) for the second user.
    let other = {
        let body = format!("{}{}", &sample[..14], "555");
        let check = inkseal_capture::id_number::check_character(&body).expect("check");
        format!("{body}{check}")
    };
    let mut keys = Vec::new();
    for (user, number) in [("holder-1", sample.clone()), ("holder-2", other)] {
        let ticket = backend
            .ticket_with(serde_json::json!({ "user_id": user, "id_number": number }))
            .await;
        keys.push(client.enroll(&ticket, &pin()).await.expect("enroll").key_id);
    }
    let passed = client
        .capture_evidence(
            &keys[0],
            hooks(&dir.path().join("capture")),
            CaptureRequest::default(),
        )
        .await
        .expect("the holder's own card");
    assert!(passed.receipt.passed);
    let err = client
        .capture_evidence(
            &keys[1],
            hooks(&dir.path().join("capture")),
            CaptureRequest::default(),
        )
        .await
        .expect_err("someone else's card");
    assert!(
        matches!(err, SdkError::CaptureRejected { ref reason, .. }
            if reason.contains("not the one the institution enrolled")),
        "{err}"
    );
    // The ID number itself is nowhere in the database.
    let db = std::fs::read(dir.path().join("server/inkseal.db")).expect("db");
    let wal = std::fs::read(dir.path().join("server/inkseal.db-wal")).unwrap_or_default();
    for bytes in [db, wal] {
        assert!(
            !bytes.windows(sample.len()).any(|w| w == sample.as_bytes()),
            "the full ID number is stored"
        );
    }
    server.shutdown().await.expect("shutdown");
}

async fn start_default(dir: &Path) -> RunningServer {
    inkseal_server::start(loopback_config(dir))
        .await
        .expect("start")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_test_vendor_counts_only_behind_its_insecure_flag() {
    let dir = tempfile::tempdir().expect("tempdir");
    // Requiring liveness with no vendor adapter: the server refuses to start.
    let mut config = loopback_config(&dir.path().join("a"));
    config.policy.signing.require_liveness = true;
    let err = inkseal_server::start(config)
        .await
        .err()
        .expect("refuses to start");
    assert!(err.to_string().contains("no liveness vendor"), "{err}");
    // Configuring the test vendor by hand without the flag: refused too.
    let mut config = loopback_config(&dir.path().join("b"));
    config
        .liveness_vendors
        .push(Arc::new(inkseal_server::liveness::vendor::TestVendor));
    let err = inkseal_server::start(config)
        .await
        .err()
        .expect("refuses to start");
    assert!(
        err.to_string().contains("insecure-test-liveness-vendor"),
        "{err}"
    );

    // Default flags: the test vendor's package is judged "not accepted", so it opens nothing.
    let server = start_default(&dir.path().join("c")).await;
    let backend = Backend::new(&server);
    let client = client_for(&server, &dir.path().join("device"));
    let key = enrolled(&backend, &client, "customer-3001").await;
    let err = client
        .capture_evidence(
            &key,
            hooks(&dir.path().join("capture")),
            CaptureRequest::default(),
        )
        .await
        .expect_err("the test vendor does not count");
    assert!(
        matches!(err, SdkError::CaptureRejected { ref reason, action: RecoveryAction::RetakeFace }
            if reason.contains("not accepted here")),
        "{err}"
    );
    server.shutdown().await.expect("shutdown");
}
