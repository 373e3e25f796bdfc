//! HTTPS with rustls: a pinned server certificate is accepted, an unknown one is not.

use inkseal_cosign::api::Pin;
use inkseal_sdk::{ClientConfig, CosignClient, FileShareStore, SdkError};
use inkseal_server::TlsFiles;
use inkseal_tests::loopback_config;
use std::sync::Arc;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pinned_https_works_and_unpinned_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let certified =
        rcgen::generate_simple_self_signed(vec!["localhost".to_string(), "127.0.0.1".to_string()])
            .expect("self-signed cert");
    let cert_pem = certified.cert.pem();
    let cert_path = dir.path().join("tls-cert.pem");
    let key_path = dir.path().join("tls-key.pem");
    std::fs::write(&cert_path, &cert_pem).expect("write cert");
    std::fs::write(&key_path, certified.signing_key.serialize_pem()).expect("write key");

    let mut config = loopback_config(&dir.path().join("server"));
    config.tls = Some(TlsFiles {
        cert: cert_path,
        key: key_path,
    });
    let server = inkseal_server::start(config)
        .await
        .expect("start TLS server");
    assert!(server.url().starts_with("https://"));

    let store = Arc::new(FileShareStore::new(dir.path().join("device")).expect("store"));
    let mut pinned = ClientConfig::new(server.url());
    pinned.trusted_server_certs_pem = vec![cert_pem.into_bytes()];
    let client = CosignClient::new(pinned, store.clone()).expect("client");
    let pin = Pin::new("112233");
    let key = client
        .enroll("tls-user", &pin)
        .await
        .expect("enroll over TLS")
        .key_id;
    client
        .sign_message(&key, &pin, b"over TLS")
        .await
        .expect("sign over TLS");

    // A client that does not trust this certificate never talks to the server.
    let stranger = CosignClient::new(ClientConfig::new(server.url()), store).expect("client");
    assert!(matches!(
        stranger.enroll("x", &pin).await,
        Err(SdkError::Network(_))
    ));
    server.shutdown().await.expect("shutdown");
}

#[test]
fn an_unusable_pin_is_a_configuration_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Arc::new(FileShareStore::new(dir.path()).expect("store"));
    let key_pem = rcgen::KeyPair::generate().expect("key").serialize_pem();
    for (pin, why) in [
        (b"not a certificate".to_vec(), "PEM"),
        (vec![0xff, 0xfe], "not PEM text"),
        (key_pem.into_bytes(), "CERTIFICATE"),
    ] {
        let mut config = ClientConfig::new("https://127.0.0.1:1");
        config.trusted_server_certs_pem = vec![pin];
        match CosignClient::new(config, store.clone()) {
            Err(SdkError::InvalidInput(m)) => assert!(m.contains(why), "{m}"),
            other => panic!("expected InvalidInput mentioning {why}, got {other:?}"),
        }
    }
}
