//! The inkseal co-signing server.
//!
//! Holds the server half (d2) of every user's split SM2 key, sealed by a [`vault`]; checks the
//! user's PIN and counts failures; answers one co-signing round per signature, idempotently;
//! issues certificates for joint keys through a [`ca::CertificateAuthority`]; and keeps a
//! hash-chained audit log. Storage is behind [`store::Store`] (SQLite by default).
//! [`liveness`] issues one-time liveness challenges, judges capture evidence through a vendor
//! adapter and enforces each key's signing policy; [`evidence_export`] exports the evidence of
//! one signing as JSON and as a PDF report.
//!
//! [`start`] runs it on a socket (plain HTTP, or TLS with rustls when given a certificate).

pub mod audit;
pub mod ca;
pub mod error;
pub mod evidence_export;
pub mod liveness;
mod pin;
pub mod routes;
pub mod service;
pub mod store;
pub mod vault;

use ca::{CertificateAuthority, EmbeddedCa};
use liveness::vendor::{LivenessVendor, TestVendor};
use service::{CosignService, Policy};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use store::{SqliteStore, Store};
use vault::{FileVault, Pkcs11Config, Pkcs11Vault, ShareVault};

/// Which vault wraps the shares.
#[derive(Clone, Debug, Default)]
pub enum VaultChoice {
    /// `master.key` in the data directory (created on first start).
    #[default]
    File,
    /// A PKCS#11 token (HSM, SoftHSM2).
    Pkcs11(Pkcs11Config),
}

/// TLS certificate chain and private key, PEM files.
#[derive(Clone, Debug)]
pub struct TlsFiles {
    /// Certificate chain (PEM).
    pub cert: PathBuf,
    /// Private key (PEM, PKCS#8 or SEC1).
    pub key: PathBuf,
}

/// Everything [`start`] needs.
#[derive(Clone, Debug)]
pub struct ServerConfig {
    /// Directory for `inkseal.db` and `master.key`; created if missing.
    pub data_dir: PathBuf,
    /// Address to listen on (port 0 picks a free port).
    pub listen: SocketAddr,
    /// Serve HTTPS with these files; plain HTTP when `None`.
    pub tls: Option<TlsFiles>,
    /// Share vault.
    pub vault: VaultChoice,
    /// PIN, certificate, liveness and signing rules.
    pub policy: Policy,
    /// Liveness vendors whose verdicts are accepted. The default is the deterministic
    /// [`TestVendor`](liveness::vendor::TestVendor) for the demo and tests: replace it with a
    /// real vendor's adapter in production.
    pub liveness_vendors: Vec<Arc<dyn LivenessVendor>>,
}

impl ServerConfig {
    /// Defaults: loopback port 8440, file vault, 5 PIN tries.
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        ServerConfig {
            data_dir: data_dir.into(),
            listen: SocketAddr::from(([127, 0, 0, 1], 8440)),
            tls: None,
            vault: VaultChoice::File,
            policy: Policy::default(),
            liveness_vendors: vec![Arc::new(TestVendor)],
        }
    }
}

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The data directory or socket failed.
    #[error("{0}")]
    Io(String),
    /// The store failed to open.
    #[error("store: {0}")]
    Store(#[from] store::StoreError),
    /// The vault failed to open.
    #[error("vault: {0}")]
    Vault(#[from] vault::VaultError),
    /// The CA failed to load.
    #[error("certificate authority: {0}")]
    Ca(String),
    /// TLS files unusable.
    #[error("TLS: {0}")]
    Tls(String),
}

/// Build the service from a configuration (opens store, vault, CA).
pub fn build_service(config: &ServerConfig) -> Result<CosignService, StartError> {
    std::fs::create_dir_all(&config.data_dir)
        .map_err(|e| StartError::Io(format!("{}: {e}", config.data_dir.display())))?;
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&config.data_dir.join("inkseal.db"))?);
    let vault: Arc<dyn ShareVault> = match &config.vault {
        VaultChoice::File => Arc::new(FileVault::open_or_create(
            &config.data_dir.join("master.key"),
        )?),
        VaultChoice::Pkcs11(p) => Arc::new(Pkcs11Vault::open(p)?),
    };
    let ca: Arc<dyn CertificateAuthority> = Arc::new(
        EmbeddedCa::load_or_create(
            store.as_ref(),
            vault.as_ref(),
            config.policy.certificate_validity_days,
        )
        .map_err(StartError::Ca)?,
    );
    tracing::info!(vault = %vault.describe(), "co-signing service ready");
    let mut service = CosignService::new(store, vault, ca, config.policy.clone());
    for vendor in &config.liveness_vendors {
        if vendor.name() == inkseal_capture::test_vendor::TEST_VENDOR_NAME {
            tracing::warn!("the deterministic test liveness vendor is enabled: not for production");
        }
        service = service.with_vendor(vendor.clone());
    }
    Ok(service)
}

/// A server running on a socket.
pub struct RunningServer {
    addr: SocketAddr,
    tls: bool,
    handle: axum_server::Handle<SocketAddr>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
    service: CosignService,
}

impl RunningServer {
    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Base URL, e.g. `http://127.0.0.1:8440`.
    pub fn url(&self) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        format!("{scheme}://{}", self.addr)
    }

    /// The service behind the socket (for inspection in tests and tools).
    pub fn service(&self) -> &CosignService {
        &self.service
    }

    /// Stop accepting, let requests in flight finish (up to 5 s), and wait.
    pub async fn shutdown(self) -> std::io::Result<()> {
        self.handle
            .graceful_shutdown(Some(std::time::Duration::from_secs(5)));
        match self.task.await {
            Ok(r) => r,
            Err(e) => Err(std::io::Error::other(e.to_string())),
        }
    }
}

/// Start serving. Returns once the socket is bound.
pub async fn start(config: ServerConfig) -> Result<RunningServer, StartError> {
    let service = {
        let config = config.clone();
        tokio::task::spawn_blocking(move || build_service(&config))
            .await
            .map_err(|e| StartError::Io(e.to_string()))??
    };
    let listener = std::net::TcpListener::bind(config.listen)
        .map_err(|e| StartError::Io(format!("cannot listen on {}: {e}", config.listen)))?;
    let addr = listener
        .local_addr()
        .map_err(|e| StartError::Io(e.to_string()))?;
    let app = routes::router(service.clone()).into_make_service();
    let handle = axum_server::Handle::new();
    let task = match &config.tls {
        None => {
            let server = axum_server::from_tcp(listener)
                .map_err(|e| StartError::Io(e.to_string()))?
                .handle(handle.clone());
            tokio::spawn(server.serve(app))
        }
        Some(files) => {
            let _ = rustls::crypto::ring::default_provider().install_default();
            let tls = axum_server::tls_rustls::RustlsConfig::from_pem_file(&files.cert, &files.key)
                .await
                .map_err(|e| StartError::Tls(e.to_string()))?;
            let server = axum_server::tls_rustls::from_tcp_rustls(listener, tls)
                .map_err(|e| StartError::Io(e.to_string()))?
                .handle(handle.clone());
            tokio::spawn(server.serve(app))
        }
    };
    Ok(RunningServer {
        addr,
        tls: config.tls.is_some(),
        handle,
        task,
        service,
    })
}
