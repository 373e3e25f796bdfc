//! Liveness and ID-card evidence against a real server: the signing policy refuses to co-sign
//! without a fresh passed liveness result bound to the request, and accepts with one; replayed,
//! foreign and expired challenges, failed verdicts and stale evidence are refused; the evidence
//! package and its PDF report describe the signing.

use std::path::Path;
use std::sync::Arc;

use inkseal_capture::session::{CaptureConfig, CaptureHooks, CaptureSession, Clock};
use inkseal_capture::{Date, DigestAlgorithm, FileHooks};
use inkseal_cosign::api::Pin;
use inkseal_pdf::sign::{Placement, SignOptions};
use inkseal_pdf::verify::{VerifyOptions, verify};
use inkseal_sdk::{CaptureHookSet, CaptureRequest, CosignClient, SdkError};
use inkseal_server::RunningServer;
use inkseal_server::store::SigningPolicy;
use inkseal_tests::render::render_page;
use inkseal_tests::{client_for, fixture, loopback_config};

fn pin() -> Pin {
    Pin::new("246810")
}

async fn start(dir: &Path, edit: impl FnOnce(&mut inkseal_server::ServerConfig)) -> RunningServer {
    let mut config = loopback_config(dir);
    edit(&mut config);
    inkseal_server::start(config).await.expect("server starts")
}

async fn enrolled(client: &CosignClient, user: &str) -> String {
    let key = client.enroll(user, &pin()).await.expect("enroll").key_id;
    client
        .request_certificate(&key, &pin())
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

fn sign_options() -> SignOptions {
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
    o.appearance.label = vec!["借款人 张三".into()];
    o
}

fn today() -> Date {
    Date::from_unix_ms(Clock::System.now_ms(), 480)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_needs_a_fresh_passed_liveness_check_bound_to_the_request() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start(&dir.path().join("server"), |_| {}).await;
    let client = client_for(&server, &dir.path().join("device"));
    let key = enrolled(&client, "borrower-110105199003071234").await;
    server
        .service()
        .set_signing_policy(
            &key,
            SigningPolicy {
                require_liveness: true,
                max_evidence_age_secs: 600,
            },
        )
        .expect("policy");
    let contract = std::fs::read(fixture("loan-contract-zh.pdf")).expect("fixture");

    // Without evidence: refused, typed, and nothing is signed.
    let err = client
        .sign_pdf(&key, &pin(), &contract, &sign_options())
        .await
        .expect_err("no liveness, no signature");
    assert!(matches!(err, SdkError::EvidenceRequired(_)), "{err}");

    // Capture through the file hooks, bound to the contract, judged by the server.
    let request = CaptureRequest {
        document: Some(contract.clone()),
        ..Default::default()
    };
    let evidence = client
        .capture_evidence(&key, hooks(&dir.path().join("capture")), request)
        .await
        .expect("live and valid");
    assert!(evidence.receipt.passed);
    let card = evidence.id_card.as_ref().expect("the card was checked");
    assert_eq!(card.id_number.as_str().len(), 18);

    let tail = client
        .sign_pdf_with_evidence(
            &key,
            &pin(),
            &contract,
            &sign_options(),
            Some(evidence.head),
        )
        .await
        .expect("co-signed with evidence");
    let signed = [contract.as_slice(), tail.as_slice()].concat();
    let report = verify(&signed, &VerifyOptions::default()).expect("verify");
    assert!(report.signatures[0].signature_valid, "{report:#?}");

    // The evidence of a different key does not open this key's policy.
    let other = enrolled(&client, "officer-0001").await;
    let other_evidence = client
        .capture_evidence(
            &other,
            hooks(&dir.path().join("capture-other")),
            CaptureRequest::default(),
        )
        .await
        .expect("the officer is live too");
    let err = client
        .sign_pdf_with_evidence(
            &key,
            &pin(),
            &contract,
            &sign_options(),
            Some(other_evidence.head),
        )
        .await
        .expect_err("someone else's evidence");
    assert!(
        matches!(err, SdkError::EvidenceRequired(ref m) if m.contains("unknown")),
        "{err}"
    );

    // The institution exports the signing's evidence: JSON and a PDF report.
    let audit: Vec<serde_json::Value> = reqwest::get(format!("{}/v1/audit", server.url()))
        .await
        .expect("audit")
        .json()
        .await
        .expect("json");
    let head_hex = hex::encode(evidence.head);
    let signing = audit
        .iter()
        .filter(|e| e["kind"] == "signed")
        .map(|e| serde_json::from_str::<serde_json::Value>(e["detail"].as_str().expect("detail")))
        .collect::<Result<Vec<_>, _>>()
        .expect("details")
        .into_iter()
        .find(|d| d["evidence_head"] == head_hex.as_str())
        .expect("the co-signature with evidence is audited");
    let idempotency_key = signing["idempotency_key"].as_str().expect("key");
    let base = format!("{}/v1/keys/{key}/signings/{idempotency_key}", server.url());
    let package: serde_json::Value = reqwest::get(format!("{base}/evidence"))
        .await
        .expect("package")
        .json()
        .await
        .expect("json");
    assert_eq!(package["format"], "inkseal-evidence-package/v1");
    assert_eq!(package["signing"]["evidence_head"], head_hex.as_str());
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
    let contract_sm3 = hex::encode(DigestAlgorithm::Sm3.digest(&contract));
    assert_eq!(ev["document_digests"][0], contract_sm3.as_str());
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

    let pdf = reqwest::get(format!("{base}/evidence.pdf"))
        .await
        .expect("report")
        .bytes()
        .await
        .expect("bytes");
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
        compact.contains(&contract_sm3[..32]),
        "the document digest is printed"
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
async fn replayed_foreign_and_expired_challenges_are_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start(&dir.path().join("server"), |c| {
        c.policy.challenge_ttl_secs = 1
    })
    .await;
    let client = client_for(&server, &dir.path().join("device"));
    let key = enrolled(&client, "policyholder-1").await;
    let other = enrolled(&client, "policyholder-2").await;
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

    // A fresh challenge passes once; the identical retry gets the same receipt.
    let challenge = client.liveness_challenge(&key).await.expect("challenge");
    assert!(!challenge.actions.is_empty(), "actions mode by default");
    let outcome = capture(challenge.clone());
    let first = client
        .submit_evidence(&key, &outcome.submission)
        .await
        .expect("submit");
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
        matches!(err, SdkError::CaptureRejected { ref reason } if reason.contains("already used")),
        "{err}"
    );

    // Another key's challenge is refused (and used up).
    let foreign = client.liveness_challenge(&other).await.expect("challenge");
    let err = client
        .submit_evidence(&key, &capture(foreign).submission)
        .await
        .expect_err("foreign");
    assert!(
        matches!(err, SdkError::CaptureRejected { ref reason } if reason.contains("another key")),
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
        matches!(err, SdkError::CaptureRejected { ref reason } if reason.contains("expired")),
        "{err}"
    );

    // A vendor verdict of "spoof" is recorded as failed and opens nothing.
    std::fs::write(capture_dir.join("face/verdict_hint.txt"), "spoof").expect("hint");
    server
        .service()
        .set_signing_policy(
            &key,
            SigningPolicy {
                require_liveness: true,
                max_evidence_age_secs: 600,
            },
        )
        .expect("policy");
    let challenge = client.liveness_challenge(&key).await.expect("challenge");
    let spoof = capture(challenge);
    let receipt = client
        .submit_evidence(&key, &spoof.submission)
        .await
        .expect("a verdict, not an error");
    assert!(!receipt.passed);
    assert!(receipt.reason.contains("spoof"), "{}", receipt.reason);
    let mut head = [0u8; 32];
    hex::decode_to_slice(&receipt.manifest_head, &mut head).expect("hex");
    let err = client
        .sign_digest(&key, &pin(), &[1; 32], Some(head))
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
    let server = start(&dir.path().join("server"), |c| {
        c.policy.signing = SigningPolicy {
            require_liveness: true,
            max_evidence_age_secs: 1,
        };
    })
    .await;
    let client = client_for(&server, &dir.path().join("device"));
    // Identity proofing before the certificate: the CSR's co-signature needs evidence too.
    let key = client
        .enroll("consumer-9", &pin())
        .await
        .expect("enroll")
        .key_id;
    let err = client
        .request_certificate(&key, &pin())
        .await
        .expect_err("no certificate without liveness");
    assert!(matches!(err, SdkError::EvidenceRequired(_)), "{err}");
    let evidence = client
        .capture_evidence(
            &key,
            hooks(&dir.path().join("capture")),
            CaptureRequest::default(),
        )
        .await
        .expect("evidence");
    client
        .request_certificate_with_evidence(&key, &pin(), Some(evidence.head))
        .await
        .expect("certificate after proofing");
    client
        .sign_digest(&key, &pin(), &[2; 32], Some(evidence.head))
        .await
        .expect("fresh evidence signs");
    tokio::time::sleep(std::time::Duration::from_millis(1_300)).await;
    let err = client
        .sign_digest(&key, &pin(), &[3; 32], Some(evidence.head))
        .await
        .expect_err("stale");
    assert!(
        matches!(err, SdkError::EvidenceRequired(ref m) if m.contains("old")),
        "{err}"
    );
    let refusals = server
        .service()
        .store()
        .audit_entries(1, 1000)
        .expect("audit")
        .into_iter()
        .filter(|e| e.kind == "refused" && e.detail.contains("old"))
        .count();
    assert_eq!(refusals, 1);
    server.shutdown().await.expect("shutdown");
}
