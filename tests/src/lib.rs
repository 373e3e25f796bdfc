//! Helpers shared by the end-to-end tests: a server on loopback and a client for it.

use inkseal_sdk::{ClientConfig, CosignClient, FileShareStore};
use inkseal_server::{RunningServer, ServerConfig};
use std::path::Path;
use std::sync::Arc;

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
