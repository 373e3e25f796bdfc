//! Helpers shared by the end-to-end tests: a server on loopback and a client for it.

use inkseal_sdk::{ClientConfig, CosignClient, FileShareStore};
use inkseal_server::{RunningServer, ServerConfig};
use std::path::Path;
use std::sync::Arc;

pub mod render;
pub mod validators;

/// A server configuration on a free loopback port with its data in `dir`.
pub fn loopback_config(dir: &Path) -> ServerConfig {
    let mut config = ServerConfig::new(dir);
    config.listen = ([127, 0, 0, 1], 0).into();
    config
}

/// Start a plain-HTTP server on loopback with data in `dir`.
pub async fn start_server(dir: &Path) -> RunningServer {
    match inkseal_server::start(loopback_config(dir)).await {
        Ok(s) => s,
        Err(e) => panic!("server failed to start: {e}"),
    }
}

/// A client for `server` keeping device shares in `device_dir`.
pub fn client_for(server: &RunningServer, device_dir: &Path) -> CosignClient {
    client_at(&server.url(), device_dir)
}

/// A client for a base URL keeping device shares in `device_dir`.
pub fn client_at(url: &str, device_dir: &Path) -> CosignClient {
    let store = Arc::new(FileShareStore::new(device_dir).expect("share store"));
    CosignClient::new(ClientConfig::new(url), store).expect("client")
}

/// Create a SoftHSM2 token in `dir` and return a vault configuration for it.
///
/// Points `SOFTHSM2_CONF` at a configuration in `dir`, so call it before any thread that may
/// read the environment is started (each test binary is its own process).
pub fn softhsm_token(
    dir: &Path,
    label: &str,
    user_pin: &str,
) -> inkseal_server::vault::Pkcs11Config {
    let tokens = dir.join("tokens");
    std::fs::create_dir_all(&tokens).expect("token dir");
    let conf = dir.join("softhsm2.conf");
    std::fs::write(
        &conf,
        format!(
            "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\n",
            tokens.display()
        ),
    )
    .expect("softhsm2.conf");
    // SAFETY: called at the start of a test binary's only test, before other threads exist.
    #[allow(unsafe_code)]
    unsafe {
        std::env::set_var("SOFTHSM2_CONF", &conf)
    };
    let status = std::process::Command::new("softhsm2-util")
        .args([
            "--init-token",
            "--free",
            "--label",
            label,
            "--so-pin",
            "87654321",
            "--pin",
            user_pin,
        ])
        .output()
        .unwrap_or_else(|e| panic!("softhsm2-util is needed (apt-get install softhsm2): {e}"));
    assert!(
        status.status.success(),
        "init token: {}",
        String::from_utf8_lossy(&status.stderr)
    );
    inkseal_server::vault::Pkcs11Config {
        module: inkseal_server::vault::Pkcs11Config::softhsm_default_module(),
        token_label: label.to_owned(),
        user_pin: user_pin.to_owned().into(),
        key_label: "inkseal-share-wrap".to_owned(),
    }
}

/// An SM2 test PKI made with inkseal's own CA code: a root and a signer with a local key.
pub struct Sm2Pki {
    /// Root certificate (PEM).
    pub ca_pem: std::path::PathBuf,
    /// Signer private key (PKCS#8 PEM).
    pub signer_key: std::path::PathBuf,
    /// Signer certificate (PEM).
    pub signer_pem: std::path::PathBuf,
}

/// Create an SM2 root and a signer certificate for `name` in `dir`.
pub fn sm2_pki(dir: &Path, name: &str) -> Sm2Pki {
    use inkseal_cosign::sm2::dsa::signature::Signer as _;
    use inkseal_cosign::sm2::pkcs8::DecodePrivateKey as _;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs();
    let ca = inkseal_pki::CaKey::generate();
    let ca_cert =
        inkseal_pki::self_signed_ca(&ca, &format!("{name} test root"), 3650, now).expect("root");
    let signer = inkseal_pki::CaKey::generate();
    let tbs = inkseal_pki::csr_to_be_signed(signer.public_key(), name).expect("csr tbs");
    let der = signer.to_pkcs8_der().expect("pkcs8");
    let key = inkseal_cosign::sm2::SecretKey::from_pkcs8_der(&der).expect("secret key");
    let sk = inkseal_cosign::sm2::dsa::SigningKey::new(inkseal_cosign::DEFAULT_SIGNER_ID, &key)
        .expect("sk");
    let sig: inkseal_cosign::sm2::dsa::Signature = sk.sign(&tbs);
    let csr = inkseal_pki::assemble_csr(&tbs, &sig).expect("csr");
    let csr = inkseal_pki::verify_csr(&csr).expect("verified csr");
    let cert =
        inkseal_pki::issue_certificate(&ca, &ca_cert, &csr, &[0x11; 16], 365, now).expect("issue");
    let pki = Sm2Pki {
        ca_pem: dir.join(format!("{name}-sm2-root.pem")),
        signer_key: dir.join(format!("{name}-sm2-key.pem")),
        signer_pem: dir.join(format!("{name}-sm2-cert.pem")),
    };
    std::fs::write(
        &pki.ca_pem,
        inkseal_pki::der_to_pem("CERTIFICATE", &ca_cert),
    )
    .expect("write");
    std::fs::write(
        &pki.signer_key,
        inkseal_pki::der_to_pem("PRIVATE KEY", &der),
    )
    .expect("write");
    std::fs::write(
        &pki.signer_pem,
        inkseal_pki::der_to_pem("CERTIFICATE", &cert),
    )
    .expect("write");
    pki
}

/// The shared fixtures folder (`shared/fixtures` beside the repository).
pub fn fixture(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/fixtures")
        .join(name)
}

/// The shared corpus folder (`shared/corpus` beside the repository).
pub fn corpus(rel: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/corpus")
        .join(rel)
}
