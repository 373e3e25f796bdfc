//! Transaction signing (issue 17): an attached CMS SignedData over the transaction's DER,
//! co-signed through a real server on loopback (SM2) or signed with a local P-256 key, checked
//! by our verifier, by BouncyCastle and by `openssl cms -verify`.

use inkseal_cosign::api::{CosignRequest, MessageKind, SignedMessage};
use inkseal_pdf::cms::attached::{TransactionVerifyError, sign_transaction, verify_transaction};
use inkseal_pdf::cms::transaction::{Party, Transaction};
use inkseal_pdf::cms::{CmsError, OidProfile, SignatureAlgorithm, signed_attributes};
use inkseal_pdf::signer::LocalSigner;
use inkseal_tests::validators::{bouncycastle_cms_check, openssl_p256_pki};
use inkseal_tests::{CertifiedKey, RawDevice, certified_key, now_unix, raw};
use std::process::Command;

fn payment(id: &str) -> Transaction {
    Transaction::new(
        id,
        Party::new("王小明", "6222020200112233445", Some("中国工商银行".into())).expect("payer"),
        Party::new(
            "上海某某贸易有限公司",
            "31001234567890",
            Some("交通银行".into()),
        )
        .expect("payee"),
        123_456,
        "CNY",
        now_unix() - 60,
        Some("货款 INV-2026-118".into()),
    )
    .expect("transaction")
}

fn audit(server: &inkseal_server::RunningServer) -> Vec<(String, serde_json::Value)> {
    server
        .service()
        .store()
        .audit_entries("main", 1, 10_000)
        .expect("audit")
        .into_iter()
        .map(|e| {
            let detail = serde_json::from_str(&e.detail).expect("detail JSON");
            (e.kind, detail)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cosigned_sm2_transaction_verifies_with_its_content_and_bouncycastle_agrees() {
    let dir = tempfile::tempdir().expect("tempdir");
    let CertifiedKey {
        server,
        client,
        key_id: key,
        pin,
        certificate,
        ca,
        ..
    } = certified_key(dir.path(), "customer-0042", "271828").await;

    let tx = payment("TX-20261207-0001");
    let signed = client
        .sign_transaction(&key, &pin, &tx, None)
        .await
        .expect("co-signed transaction");

    let verified =
        verify_transaction(&signed, std::slice::from_ref(&ca), Some(now_unix())).expect("verifies");
    assert_eq!(verified.transaction, tx);
    assert_eq!(verified.amount_display, "1234.56 CNY");
    assert_eq!(verified.algorithm, SignatureAlgorithm::Sm2Sm3);
    assert_eq!(verified.signer_certificate, certificate);
    assert!(
        verified.signer.contains("customer-0042"),
        "{}",
        verified.signer
    );
    assert_eq!(verified.chain, vec![certificate.clone(), ca.clone()]);
    assert!(verified.signing_time_unix.abs_diff(now_unix()) < 120);

    // The audit log has a transaction entry (not a document signature) naming what was approved.
    let entries = audit(&server);
    let tx_entries: Vec<_> = entries
        .iter()
        .filter(|(kind, _)| kind == "transaction_signed")
        .collect();
    assert_eq!(tx_entries.len(), 1, "{entries:?}");
    let detail = &tx_entries[0].1;
    assert_eq!(detail["transaction_id"], "TX-20261207-0001");
    assert_eq!(detail["payee_account"], "31001234567890");
    assert_eq!(detail["amount_minor"], 123_456);
    assert_eq!(detail["currency"], "CNY");
    assert_eq!(detail["message_kind"], "cms_attached_transaction");
    // The only document signature is the certificate request's.
    assert!(
        entries
            .iter()
            .filter(|(kind, _)| kind == "signed")
            .all(|(_, d)| d["message_kind"] == "certification_request")
    );

    // BouncyCastle, which shares no code with us, verifies the SM2 signature and the chain.
    let cms_path = dir.path().join("tx.p7");
    let ca_path = dir.path().join("ca.der");
    std::fs::write(&cms_path, &signed).expect("write");
    std::fs::write(&ca_path, &ca).expect("write");
    let bc = bouncycastle_cms_check(&cms_path, &ca_path);
    assert!(bc.valid, "{bc:?}");
    assert_eq!(bc.content, tx.to_der().expect("der"));
    assert_eq!(bc.content_type, "1.2.840.113549.1.7.1");
    assert_eq!(bc.signature_algorithm, "1.2.156.10197.1.501");
    assert_eq!(
        bc.signing_time_ms,
        Some(verified.signing_time_unix * 1000),
        "{bc:?}"
    );

    // One changed byte of the transaction (the id, still valid DER) and nothing verifies.
    let content = tx.to_der().expect("der");
    let at = signed
        .windows(content.len())
        .position(|w| w == content.as_slice())
        .expect("the content is embedded");
    let id_at = at
        + content
            .windows(4)
            .position(|w| w == b"0001")
            .expect("the id in the content");
    let mut tampered = signed.clone();
    tampered[id_at] = b'9';
    assert_eq!(
        verify_transaction(&tampered, std::slice::from_ref(&ca), Some(now_unix())),
        Err(TransactionVerifyError::Signature(CmsError::DigestMismatch))
    );
    let tampered_path = dir.path().join("tampered.p7");
    std::fs::write(&tampered_path, &tampered).expect("write");
    let bc = bouncycastle_cms_check(&tampered_path, &ca_path);
    assert!(!bc.valid, "BouncyCastle accepted a tampered transaction");

    // Another CA is not trusted.
    let other =
        inkseal_pki::self_signed_ca(&inkseal_pki::CaKey::generate(), "other", 30, now_unix())
            .expect("other root");
    assert!(matches!(
        verify_transaction(&signed, &[other], Some(now_unix())),
        Err(TransactionVerifyError::Untrusted(_))
    ));
    assert_eq!(verified.profile, OidProfile::Rfc5652);

    // The same co-signing in GB/T 35275's OIDs: the server co-signs it (and audits it), we
    // read it back with its profile, and BouncyCastle verifies it too.
    let tx = payment("TX-20261207-0002");
    let signed = client
        .sign_transaction_in(OidProfile::GbT35275, &key, &pin, &tx, None)
        .await
        .expect("co-signed in the GB/T 35275 profile");
    let verified =
        verify_transaction(&signed, std::slice::from_ref(&ca), Some(now_unix())).expect("verifies");
    assert_eq!(verified.transaction, tx);
    assert_eq!(verified.profile, OidProfile::GbT35275);
    let gm = |oid: &str| {
        let oid: inkseal_pdf::cms::ObjectIdentifier = oid.parse().expect("oid");
        let der = der::Encode::to_der(&oid).expect("der");
        signed.windows(der.len()).any(|w| w == der.as_slice())
    };
    assert!(gm("1.2.156.10197.6.1.4.2.2"), "GB/T signedData");
    assert!(gm("1.2.156.10197.6.1.4.2.1"), "GB/T data");
    assert!(gm("1.2.156.10197.1.301.1"), "sm2sign");
    // (The certificates keep their own sm2-with-SM3 signatures; only the CMS names change.)
    assert!(!gm("1.2.840.113549.1.7.2") && !gm("1.2.840.113549.1.7.1"));
    assert!(
        audit(&server)
            .iter()
            .any(|(kind, d)| kind == "transaction_signed"
                && d["transaction_id"] == "TX-20261207-0002")
    );
    let gm_path = dir.path().join("tx-gm.p7");
    std::fs::write(&gm_path, &signed).expect("write");
    let bc = bouncycastle_cms_check(&gm_path, &ca_path);
    assert!(bc.valid, "{bc:?}");
    assert_eq!(bc.content, tx.to_der().expect("der"));
    assert_eq!(bc.content_type, "1.2.156.10197.6.1.4.2.1");
    assert_eq!(bc.signature_algorithm, "1.2.156.10197.1.301.1");
    server.shutdown().await.expect("shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_refuses_and_audits_content_that_is_not_the_transaction_signed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let CertifiedKey {
        server,
        key_id: key,
        pin,
        certificate,
        ..
    } = certified_key(dir.path(), "mallory", "271828").await;
    let device = dir.path().join("device");
    let raw_device = RawDevice::new(&device);
    let share = raw_device.share(&key);
    let http = inkseal_tests::http_client();
    let path = format!("/v1/keys/{key}/sign");
    let url = format!("{}{path}", server.url());
    let alg = SignatureAlgorithm::Sm2Sm3;

    let real = payment("TX-REAL").to_der().expect("der");
    let cases: [(&str, Vec<u8>, Vec<u8>); 3] = [
        // Not DER at all, though the attributes name it.
        (
            "not-der-0001",
            alg.digest(&[b"pay 1,000,000 CNY"]),
            b"pay 1,000,000 CNY".to_vec(),
        ),
        // A real transaction, but the attributes sign a different one.
        (
            "mismatch-0001",
            alg.digest(&[&payment("TX-OTHER").to_der().expect("der")]),
            real.clone(),
        ),
        // DER that is not a transaction: a certificate, named by the attributes.
        (
            "not-tx-00001",
            alg.digest(&[&certificate]),
            certificate.clone(),
        ),
    ];
    for (idempotency_key, digest, content) in cases {
        let attrs = signed_attributes(alg, &digest, &certificate, &[]).expect("attributes");
        let message =
            SignedMessage::with_content(MessageKind::CmsAttachedTransaction, attrs, content)
                .expect("message");
        let (_, sign) = share
            .start_sign(&share.digest(message.bytes()))
            .expect("start");
        let request = CosignRequest {
            idempotency_key: idempotency_key.into(),
            pin: pin.clone(),
            evidence_head: None,
            message,
            sign,
        };
        let body = serde_json::to_vec(&request).expect("json");
        let headers = raw_device.signed(&key, "POST", &path, &body);
        let (status, json) = raw(&http, "POST", &url, &headers, body).await;
        assert_eq!(status, 422, "{idempotency_key}: {json}");
        assert_eq!(json["code"], "transaction_refused", "{json}");
    }
    let entries = audit(&server);
    let refused: Vec<_> = entries
        .iter()
        .filter(|(kind, d)| kind == "refused" && d["message_kind"] == "cms_attached_transaction")
        .collect();
    assert_eq!(refused.len(), 3, "{entries:?}");
    assert!(refused.iter().any(|(_, d)| {
        d["reason"]
            .as_str()
            .is_some_and(|r| r.contains("message-digest"))
    }));
    assert!(!entries.iter().any(|(kind, _)| kind == "transaction_signed"));
    // The only document signature is the certificate request's.
    assert!(
        entries
            .iter()
            .filter(|(kind, _)| kind == "signed")
            .all(|(_, d)| d["message_kind"] == "certification_request")
    );
    server.shutdown().await.expect("shutdown");
}

#[test]
fn openssl_cms_verify_accepts_a_p256_transaction_and_returns_our_content() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pki = openssl_p256_pki(dir.path(), "bank-customer");
    let signer =
        LocalSigner::from_pem_files(&pki.signer_key, &pki.signer_pem, &[]).expect("signer");
    let tx = Transaction::new(
        "WIRE-77",
        Party::new("Alice Example", "DE89370400440532013000", None).expect("payer"),
        Party::new(
            "Bob Example",
            "GB33BUKB20201555555555",
            Some("Example Bank".into()),
        )
        .expect("payee"),
        250_000,
        "EUR",
        now_unix() - 10,
        None,
    )
    .expect("transaction");
    let signed = sign_transaction(&tx, &signer, now_unix()).expect("signed");
    let ca = inkseal_pdf::signer::parse_certificate_chain(&std::fs::read(&pki.ca_pem).expect("ca"))
        .expect("ca der");
    let verified = verify_transaction(&signed, &ca, Some(now_unix())).expect("ours verifies");
    assert_eq!(verified.algorithm, SignatureAlgorithm::EcdsaP256Sha256);
    assert_eq!(verified.amount_display, "2500.00 EUR");

    let input = dir.path().join("tx.p7");
    let out = dir.path().join("out.der");
    std::fs::write(&input, &signed).expect("write");
    let verify = |input: &std::path::Path| {
        let _ = std::fs::remove_file(&out);
        let result = Command::new("openssl")
            .args(["cms", "-verify", "-binary", "-inform", "DER", "-in"])
            .arg(input)
            .arg("-CAfile")
            .arg(&pki.ca_pem)
            .arg("-out")
            .arg(&out)
            .output()
            .expect("openssl (install the openssl package)");
        (
            result.status.success(),
            String::from_utf8_lossy(&result.stderr).into_owned(),
        )
    };
    let (ok, stderr) = verify(&input);
    assert!(
        ok,
        "openssl cms -verify refused our P-256 transaction: {stderr}"
    );
    assert_eq!(
        std::fs::read(&out).expect("output"),
        tx.to_der().expect("der")
    );

    // openssl too refuses a changed amount byte.
    let content = tx.to_der().expect("der");
    let at = signed
        .windows(content.len())
        .position(|w| w == content.as_slice())
        .expect("embedded");
    let mut tampered = signed.clone();
    tampered[at + content.len() - 1] ^= 0x01;
    let bad = dir.path().join("bad.p7");
    std::fs::write(&bad, &tampered).expect("write");
    assert!(!verify(&bad).0, "openssl accepted a tampered transaction");
    assert!(matches!(
        verify_transaction(&tampered, &ca, Some(now_unix())),
        Err(TransactionVerifyError::Signature(CmsError::DigestMismatch))
    ));
}
