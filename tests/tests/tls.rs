//! HTTPS with rustls: a pinned server certificate is accepted, an unknown one is not; operators
//! may authenticate with TLS client certificates from the operator CA.

use inkseal_cosign::api::Pin;
use inkseal_sdk::{ClientConfig, CosignClient, FileDeviceKeyStore, FileShareStore, SdkError};
use inkseal_server::TlsFiles;
use inkseal_server::audit::Caller;
use inkseal_server::service::{CredentialSecret, Role};
use inkseal_tests::{client_with, loopback_config, ticket_in_process};
use std::sync::Arc;

struct TlsServerFiles {
    cert_pem: String,
    cert: std::path::PathBuf,
    key: std::path::PathBuf,
}

fn server_certificate(dir: &std::path::Path) -> TlsServerFiles {
    let certified =
        rcgen::generate_simple_self_signed(vec!["localhost".to_string(), "127.0.0.1".to_string()])
            .expect("self-signed cert");
    let files = TlsServerFiles {
        cert_pem: certified.cert.pem(),
        cert: dir.join("tls-cert.pem"),
        key: dir.join("tls-key.pem"),
    };
    std::fs::write(&files.cert, &files.cert_pem).expect("write cert");
    std::fs::write(&files.key, certified.signing_key.serialize_pem()).expect("write key");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&files.key, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    files
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pinned_https_works_and_unpinned_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let files = server_certificate(dir.path());
    let mut config = loopback_config(&dir.path().join("server"));
    config.tls = Some(TlsFiles {
        cert: files.cert.clone(),
        key: files.key.clone(),
        operator_client_ca: None,
    });
    let server = inkseal_server::start(config)
        .await
        .expect("start TLS server");
    assert!(server.url().starts_with("https://"));
    assert!(
        server.warnings().is_empty(),
        "an owner-only key: {:?}",
        server.warnings()
    );

    let mut pinned = ClientConfig::new(server.url());
    pinned.trusted_server_certs_pem = vec![files.cert_pem.clone().into_bytes()];
    let client = client_with(pinned, &dir.path().join("device"));
    let pin = Pin::new("112358");
    let key = client
        .enroll(&ticket_in_process(&server, "tls-user"), &pin)
        .await
        .expect("enroll over TLS")
        .key_id;
    client
        .sign_message(&key, &pin, b"over TLS", None)
        .await
        .expect("sign over TLS");

    // A client that does not trust this certificate never talks to the server.
    let stranger = client_with(ClientConfig::new(server.url()), &dir.path().join("device"));
    assert!(matches!(
        stranger.status(&key).await,
        Err(SdkError::Network(_))
    ));
    server.shutdown().await.expect("shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tls_key_others_can_read_is_warned_about() {
    let dir = tempfile::tempdir().expect("tempdir");
    let files = server_certificate(dir.path());
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&files.key, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let mut config = loopback_config(&dir.path().join("server"));
    config.tls = Some(TlsFiles {
        cert: files.cert,
        key: files.key,
        operator_client_ca: None,
    });
    let server = inkseal_server::start(config).await.expect("starts anyway");
    assert!(
        server
            .warnings()
            .iter()
            .any(|w| w.contains("TLS private key") && w.contains("readable by others")),
        "{:?}",
        server.warnings()
    );
    server.shutdown().await.expect("shutdown");
}

/// An operator CA and a client certificate it issued (PEM cert, PEM key).
fn operator_ca(name: &str) -> (rcgen::Issuer<'static, rcgen::KeyPair>, String) {
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("params");
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, format!("{name} operator CA"));
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let key = rcgen::KeyPair::generate().expect("ca key");
    let cert = params.self_signed(&key).expect("ca cert");
    (rcgen::Issuer::new(params, key), cert.pem())
}

fn client_certificate(
    issuer: &rcgen::Issuer<'static, rcgen::KeyPair>,
    cn: &str,
) -> (String, String) {
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("params");
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, cn);
    params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ClientAuth];
    let key = rcgen::KeyPair::generate().expect("key");
    let cert = params.signed_by(&key, issuer).expect("client cert");
    (cert.pem(), key.serialize_pem())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operators_authenticate_with_client_certificates_from_the_operator_ca() {
    let dir = tempfile::tempdir().expect("tempdir");
    let files = server_certificate(dir.path());
    let (ca, ca_pem) = operator_ca("bank");
    let ca_path = dir.path().join("operator-ca.pem");
    std::fs::write(&ca_path, &ca_pem).expect("write");
    let mut config = loopback_config(&dir.path().join("server"));
    config.tls = Some(TlsFiles {
        cert: files.cert.clone(),
        key: files.key.clone(),
        operator_client_ca: Some(ca_path),
    });
    let server = inkseal_server::start(config).await.expect("start");
    let (cert_pem, key_pem) = client_certificate(&ca, "loan backend");
    let (_, cert_der) = inkseal_pki::pem_to_der(&cert_pem).expect("der");
    server
        .service()
        .operators()
        .create(
            "loan backend (mTLS)",
            &[Role::AuditRead],
            CredentialSecret::ClientCertificate(cert_der),
            &Caller::system(),
        )
        .expect("credential");
    let server_root = reqwest::Certificate::from_pem(files.cert_pem.as_bytes()).expect("root");
    let http = |identity: Option<reqwest::Identity>| {
        let mut b = inkseal_tests::http_builder().tls_certs_only([server_root.clone()]);
        if let Some(id) = identity {
            b = b.identity(id);
        }
        b.build().expect("client")
    };
    let audit = format!("{}/v1/admin/audit", server.url());

    let with_cert = http(Some(
        reqwest::Identity::from_pem(format!("{cert_pem}{key_pem}").as_bytes()).expect("identity"),
    ));
    let resp = with_cert.get(&audit).send().await.expect("request");
    assert_eq!(resp.status(), 200);
    // The credential has audit:read only.
    let resp = with_cert
        .get(format!("{}/v1/admin/credentials", server.url()))
        .send()
        .await
        .expect("request");
    assert_eq!(resp.status(), 403);

    // No certificate: anonymous.
    let resp = http(None).get(&audit).send().await.expect("request");
    assert_eq!(resp.status(), 401);

    // A certificate from the operator CA that no credential names: refused.
    let (other_pem, other_key) = client_certificate(&ca, "unknown backend");
    let resp = http(Some(
        reqwest::Identity::from_pem(format!("{other_pem}{other_key}").as_bytes()).expect("id"),
    ))
    .get(&audit)
    .send()
    .await
    .expect("request");
    assert_eq!(resp.status(), 401);

    // A certificate from another CA does not even finish the handshake.
    let (rogue_ca, _) = operator_ca("rogue");
    let (rogue_pem, rogue_key) = client_certificate(&rogue_ca, "loan backend");
    let refused = http(Some(
        reqwest::Identity::from_pem(format!("{rogue_pem}{rogue_key}").as_bytes()).expect("id"),
    ))
    .get(&audit)
    .send()
    .await;
    assert!(refused.is_err(), "{refused:?}");
    server.shutdown().await.expect("shutdown");
}

#[test]
fn an_unusable_pin_is_a_configuration_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Arc::new(FileShareStore::new(dir.path()).expect("store"));
    let keys = Arc::new(FileDeviceKeyStore::new(dir.path()).expect("keys"));
    let key_pem = rcgen::KeyPair::generate().expect("key").serialize_pem();
    for (pin, why) in [
        (b"not a certificate".to_vec(), "PEM"),
        (vec![0xff, 0xfe], "not PEM text"),
        (key_pem.into_bytes(), "CERTIFICATE"),
    ] {
        let mut config = ClientConfig::new("https://127.0.0.1:1");
        config.trusted_server_certs_pem = vec![pin];
        match CosignClient::new(config, store.clone(), keys.clone()) {
            Err(SdkError::InvalidInput(m)) => assert!(m.contains(why), "{m}"),
            other => panic!("expected InvalidInput mentioning {why}, got {other:?}"),
        }
    }
}
