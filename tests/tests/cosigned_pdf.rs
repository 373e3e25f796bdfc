//! A two-party (phone + server) SM2 signature lands in a PDF and independent tools accept it.

use inkseal_cosign::api::Pin;
use inkseal_pdf::appearance::{AppearanceSpec, InkStrokes};
use inkseal_pdf::sign::{Placement, SignOptions};
use inkseal_pdf::verify::{VerifyOptions, verify};
use inkseal_tests::validators::{bouncycastle_check, qpdf_check};
use inkseal_tests::{Backend, client_for, fixture, start_server};

/// A server, a phone client with an enrolled key that has its certificate, and the CA.
struct Setup {
    dir: tempfile::TempDir,
    server: inkseal_server::RunningServer,
    client: inkseal_sdk::CosignClient,
    backend: Backend,
    key: String,
    pin: Pin,
    ca: Vec<u8>,
    ca_pem: std::path::PathBuf,
}

async fn setup(user: &str, pin: &str) -> Setup {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start_server(&dir.path().join("server")).await;
    let client = client_for(&server, &dir.path().join("device"));
    let pin = Pin::new(pin);
    let backend = Backend::new(&server);
    let key = inkseal_tests::enroll(&backend, &client, user, &pin)
        .await
        .key_id;
    let (_, ca) = client
        .request_certificate(&key, &pin, None)
        .await
        .expect("certificate");
    let ca_pem = dir.path().join("ca.pem");
    std::fs::write(&ca_pem, inkseal_pki::der_to_pem("CERTIFICATE", &ca)).expect("write");
    Setup {
        dir,
        server,
        client,
        backend,
        key,
        pin,
        ca,
        ca_pem,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cosigned_sm2_signature_lands_in_the_loan_contract() {
    let Setup {
        dir,
        server,
        client,
        backend: _,
        key,
        pin,
        ca,
        ca_pem,
    } = setup("customer-0042", "271828").await;

    let input = std::fs::read(fixture("loan-contract-zh.pdf")).expect("fixture");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs();
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
        label: vec!["借款人".into()],
        label_font: Some(inkseal_tests::label_font()),
        ..Default::default()
    };
    let tail = client
        .sign_pdf(&key, &pin, &input, &options)
        .await
        .expect("co-signed PDF");
    let out = dir.path().join("cosigned.pdf");
    std::fs::write(&out, [input.as_slice(), tail.as_slice()].concat()).expect("write");

    let bc = bouncycastle_check(&out, &[&ca_pem]);
    assert!(bc.all_valid(), "BouncyCastle: {}", bc.stdout);
    assert_eq!(
        bc.signatures[0].signature_algorithm.as_deref(),
        Some("SM2-with-SM3")
    );
    qpdf_check(&out).expect("qpdf --check");
    let data = std::fs::read(&out).expect("read");
    let report = verify(
        &data,
        &VerifyOptions {
            trust_anchors: vec![ca],
            at_unix: Some(now),
            ..Default::default()
        },
    )
    .expect("verify");
    assert!(report.all_ok(), "{report:#?}");
    assert!(
        report.signatures[0]
            .signer
            .as_deref()
            .unwrap_or("")
            .contains("customer-0042")
    );

    // The wrong PIN never produces a PDF signature.
    let err = client
        .sign_pdf(&key, &Pin::new("000000"), &input, &options)
        .await
        .expect_err("wrong PIN");
    assert!(
        matches!(err, inkseal_sdk::SdkError::WrongPin { .. }),
        "{err}"
    );
    server.shutdown().await.expect("shutdown");
}

/// PAdES B-T in the co-signed flow: the co-signature, then a signature time-stamp from the
/// same server's TSA (one more round trip); our verifier and BouncyCastle (its
/// `TimeStampToken.validate` on the SM2 token inside the signature) accept it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cosigned_sm2_signature_gets_the_servers_time_stamp() {
    let Setup {
        dir,
        server,
        client,
        backend: _,
        key,
        pin,
        ca,
        ca_pem,
    } = setup("customer-0043", "314159").await;

    let input = std::fs::read(fixture("loan-contract-zh.pdf")).expect("fixture");
    let now = inkseal_tests::now_unix();
    let mut options = SignOptions::new(now);
    options.time_stamped = true;
    let tail = client
        .sign_pdf(&key, &pin, &input, &options)
        .await
        .expect("co-signed B-T PDF");
    let out = dir.path().join("b-t.pdf");
    let data = [input.as_slice(), tail.as_slice()].concat();
    std::fs::write(&out, &data).expect("write");

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
    let ts = report.signatures[0]
        .time_stamp
        .as_ref()
        .expect("time-stamp");
    assert!(ts.valid && ts.trusted == Some(true), "{ts:?}");
    assert_eq!(ts.tsa, "CN=inkseal time-stamping authority SM2");
    assert!(ts.time_unix_millis / 1000 >= now - 1 && ts.time_unix_millis / 1000 <= now + 60);

    let bc = bouncycastle_check(&out, &[&ca_pem]);
    assert!(bc.all_valid(), "BouncyCastle: {}", bc.stdout);
    assert_eq!(
        bc.signatures[0].timestamp_valid,
        Some(true),
        "{}",
        bc.stdout
    );
    assert_eq!(
        bc.signatures[0].timestamp_time_ms,
        Some(ts.time_unix_millis)
    );
    qpdf_check(&out).expect("qpdf --check");
    assert_eq!(server.service().metrics().time_stamps, 1);
    server.shutdown().await.expect("shutdown");
}

/// PAdES B-LTA in the co-signed flow, all from the server: co-signature, signature
/// time-stamp, OCSP responses for the signer's and the TSA's certificates in the DSS, a
/// document time-stamp. Our verifier judges it long-term valid offline; BouncyCastle checks the
/// signature, its time-stamp and the document time-stamp; qpdf is content.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cosigned_sm2_signature_reaches_b_lta_with_the_servers_tsa_and_responder() {
    let Setup {
        dir,
        server,
        client,
        backend,
        key,
        pin,
        ca,
        ca_pem,
    } = setup("customer-0044", "161803").await;

    let input = std::fs::read(fixture("loan-contract-zh.pdf")).expect("fixture");
    let now = inkseal_tests::now_unix();
    let mut options = SignOptions::new(now);
    options.time_stamped = true;
    let prepared = client.prepare_pdf(&key, &input, &options).expect("prepare");
    let tail = client
        .sign_prepared_pdf_long_term(
            &pin,
            &prepared,
            &input,
            None,
            inkseal_sdk::LongTermLevel::Archive,
        )
        .await
        .expect("B-LTA");
    let data = [input.as_slice(), tail.as_slice()].concat();
    // The signed revision alone (B-T), for the B-LT gathered again after the revocation.
    let signed = {
        let report = verify(&data, &VerifyOptions::default()).expect("verify");
        let range = report.signatures[0].byte_range.expect("byte range");
        data[..range[2] + range[3]].to_vec()
    };
    let out = dir.path().join("b-lta.pdf");
    std::fs::write(&out, &data).expect("write");

    // Judged a minute later; the certificates are still valid, what matters here is that the
    // file's own data proves it (tests in core/pdf let certificates expire).
    let report = verify(
        &data,
        &VerifyOptions {
            trust_anchors: vec![ca.clone()],
            at_unix: Some(now + 60),
            ..Default::default()
        },
    )
    .expect("verify");
    assert!(report.all_ok(), "{report:#?}");
    assert_eq!(report.signatures.len(), 2);
    let revocation = report.signatures[0].revocation.as_ref().expect("judged");
    assert!(revocation.ltv, "{revocation:?}");
    assert!(report.signatures[1].document_time_stamp);

    let bc = bouncycastle_check(&out, &[&ca_pem]);
    assert!(bc.all_valid(), "BouncyCastle: {}", bc.stdout);
    assert_eq!(bc.signatures.len(), 2);
    assert_eq!(bc.signatures[0].timestamp_valid, Some(true));
    assert!(bc.signatures[1].document_timestamp, "{}", bc.stdout);
    qpdf_check(&out).expect("qpdf --check");

    // The key's certificate revoked now: the file's own data still proves it was good when
    // time-stamped, so the signature stays valid; and long-term data gathered after the
    // revocation says so too: revoked after the time-stamp, which does not undo the signature.
    let (status, _) = backend
        .post(
            &format!("/v1/admin/keys/{key}/revoke"),
            serde_json::json!({ "reason": "superseded" }),
        )
        .await;
    assert_eq!(status, 200);
    let report = verify(
        &data,
        &VerifyOptions {
            trust_anchors: vec![ca],
            at_unix: Some(now + 3600),
            ..Default::default()
        },
    )
    .expect("verify");
    assert!(report.all_ok(), "{report:#?}");
    let after = client
        .add_long_term_validation(&key, &signed, false)
        .await
        .expect("B-LT after the revocation");
    let data = [signed.as_slice(), after.as_slice()].concat();
    let report = verify(
        &data,
        &VerifyOptions {
            trust_anchors: vec![
                inkseal_pki::pem_to_der(&std::fs::read_to_string(&ca_pem).expect("ca"))
                    .expect("pem")
                    .1,
            ],
            at_unix: Some(now + 3600),
            ..Default::default()
        },
    )
    .expect("verify");
    assert!(report.all_ok(), "{report:#?}");
    assert!(
        report.signatures[0]
            .revocation
            .as_ref()
            .is_some_and(|r| r.ltv)
    );
    server.shutdown().await.expect("shutdown");
}
