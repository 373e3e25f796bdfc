//! Helpers shared by the end-to-end tests: a server on loopback and a client for it.

use inkseal_sdk::{ClientConfig, CosignClient, FileShareStore};
use inkseal_server::{RunningServer, ServerConfig};
use std::path::Path;
use std::sync::Arc;

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
