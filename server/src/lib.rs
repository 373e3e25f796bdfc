//! The inkseal co-signing server.
//!
//! Holds the server half (d2) of every user's split SM2 key, sealed by a [`vault`]; checks the
//! user's PIN and counts failures exactly; answers one co-signing round per signature,
//! idempotently, after reading what is signed; issues certificates for joint keys through a
//! [`ca::CertificateAuthority`] and publishes a CRL; and keeps a hash-chained audit log
//! anchored by signed checkpoints. Storage is behind [`store::Store`] (SQLite by default).
//!
//! Two kinds of callers, both authenticated ([`http`]): the institution's backend (operators:
//! API keys or TLS client certificates, with roles) and phones (every request signed by the
//! key's device key; enrollment needs an operator-issued ticket). [`liveness`] issues one-time
//! challenges, judges capture evidence through a vendor adapter and enforces each key's
//! signing policy; [`evidence_export`] exports the evidence of one signing; [`limits`] and
//! [`net`] keep abusive clients from exhausting the server.
//!
//! [`start`] runs it on a socket (TLS with rustls; plain HTTP only on loopback unless an
//! insecure flag says otherwise).

pub mod attestation;
pub mod audit;
pub mod ca;
pub mod error;
pub mod evidence_export;
pub mod http;
pub mod limits;
pub mod liveness;
pub mod metrics;
pub mod net;
pub mod service;
pub mod store;
pub mod tsa;
pub mod vault;

use attestation::AttestationVerifier;
use ca::{CertificateAuthority, EmbeddedCa};
use liveness::vendor::{LivenessVendor, TestVendor};
use service::{CosignService, Parts, Policy};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use store::{PostgresStore, SqliteStore, Store};
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

/// Where the server keeps its state.
#[derive(Clone, Debug, Default)]
pub enum DatabaseChoice {
    /// `inkseal.db` in the data directory: one server process.
    #[default]
    Sqlite,
    /// A PostgreSQL database shared by any number of replicas (migrated at start).
    Postgres(store::PostgresConfig),
}

/// TLS certificate chain and private key, PEM files.
#[derive(Clone, Debug)]
pub struct TlsFiles {
    /// Certificate chain (PEM).
    pub cert: PathBuf,
    /// Private key (PEM, PKCS#8 or SEC1).
    pub key: PathBuf,
    /// CA certificates (PEM) that operator client certificates must chain to; without it no
    /// client certificate is asked for.
    pub operator_client_ca: Option<PathBuf>,
}

/// Conveniences that are insecure, each off by default and named so.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Insecure {
    /// Serve plain HTTP on an address other than loopback (the PIN is in every body).
    pub plain_http_off_loopback: bool,
    /// Accept the deterministic test liveness vendor, whose verdict anyone can forge.
    pub test_liveness_vendor: bool,
    /// Skip the fsync after durable writes (only `inkseal bench cosign --insecure-no-fsync`,
    /// to measure what durability costs): an answered request may be lost on a power failure.
    pub no_fsync: bool,
}

/// Everything [`start`] needs.
#[derive(Clone)]
pub struct ServerConfig {
    /// Directory for `inkseal.db` and `master.key`; created (mode 0700) if missing.
    pub data_dir: PathBuf,
    /// SQLite in the data directory (default) or PostgreSQL.
    pub database: DatabaseChoice,
    /// Address to listen on (port 0 picks a free port).
    pub listen: SocketAddr,
    /// Serve HTTPS with these files; plain HTTP when `None` (loopback only, unless
    /// [`Insecure::plain_http_off_loopback`]).
    pub tls: Option<TlsFiles>,
    /// Share vault.
    pub vault: VaultChoice,
    /// PIN, certificate, liveness and signing rules.
    pub policy: Policy,
    /// Liveness vendors whose verdicts count (a deployment's adapters). Empty by default.
    pub liveness_vendors: Vec<Arc<dyn LivenessVendor>>,
    /// Device-key attestation verifiers (e.g. [`attestation::AndroidKeyAttestation`]).
    pub attestation: Vec<Arc<dyn AttestationVerifier>>,
    /// Rate, connection and time limits.
    pub limits: limits::Limits,
    /// How often expired rows are purged and the audit head is checkpointed.
    pub housekeeping_interval: Duration,
    /// Insecure conveniences (all off by default).
    pub insecure: Insecure,
    /// The policy OID of the time-stamping authority's tokens.
    pub tsa_policy: const_oid::ObjectIdentifier,
    /// The base URL relying parties reach this server at (`https://sign.bank.example`):
    /// certificates the embedded CA issues name its OCSP responder and CRL under it. `None`:
    /// [`start`] uses the address it listens on (right for a demo on loopback, not behind a
    /// proxy: say so with `--public-url`).
    pub public_url: Option<String>,
}

impl std::fmt::Debug for ServerConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerConfig")
            .field("data_dir", &self.data_dir)
            .field("database", &self.database)
            .field("listen", &self.listen)
            .field("tls", &self.tls)
            .field("vault", &self.vault)
            .field("policy", &self.policy)
            .field("liveness_vendors", &self.liveness_vendors)
            .field("attestation", &self.attestation)
            .field("limits", &self.limits)
            .field("insecure", &self.insecure)
            .field("tsa_policy", &self.tsa_policy)
            .field("public_url", &self.public_url)
            .finish()
    }
}

impl ServerConfig {
    /// Defaults: loopback port 8440, file vault, 5 PIN tries, no liveness vendor, default
    /// limits, nothing insecure.
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        ServerConfig {
            data_dir: data_dir.into(),
            database: DatabaseChoice::Sqlite,
            listen: SocketAddr::from(([127, 0, 0, 1], 8440)),
            tls: None,
            vault: VaultChoice::File,
            policy: Policy::default(),
            liveness_vendors: Vec::new(),
            attestation: Vec::new(),
            limits: limits::Limits::default(),
            housekeeping_interval: Duration::from_secs(10),
            insecure: Insecure::default(),
            tsa_policy: tsa::DEFAULT_POLICY,
            public_url: None,
        }
    }

    /// The liveness vendors that will count: the configured ones, plus the test vendor when
    /// (and only when) [`Insecure::test_liveness_vendor`] is set.
    fn vendors(&self) -> Result<Vec<Arc<dyn LivenessVendor>>, StartError> {
        let test_name = inkseal_capture::test_vendor::TEST_VENDOR_NAME;
        if !self.insecure.test_liveness_vendor
            && self.liveness_vendors.iter().any(|v| v.name() == test_name)
        {
            return Err(StartError::Config(
                "the deterministic test liveness vendor is configured, but anyone can forge its \
                 verdict: start with --insecure-test-liveness-vendor (demo and tests only) or \
                 configure a real vendor adapter"
                    .into(),
            ));
        }
        let mut vendors = self.liveness_vendors.clone();
        if self.insecure.test_liveness_vendor {
            vendors.push(Arc::new(TestVendor));
        }
        if self.policy.signing.require_liveness && vendors.is_empty() {
            return Err(StartError::Config(
                "the signing policy requires liveness, but no liveness vendor adapter is \
                 configured: plug in your vendor's adapter (see ARCHITECTURE.md, \"Liveness \
                 vendors\"), or for the demo and tests only, --insecure-test-liveness-vendor"
                    .into(),
            ));
        }
        Ok(vendors)
    }
}

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The data directory or socket failed.
    #[error("{0}")]
    Io(String),
    /// The configuration is unsafe or inconsistent.
    #[error("{0}")]
    Config(String),
    /// The store failed to open.
    #[error("store: {0}")]
    Store(#[from] store::StoreError),
    /// The vault failed to open.
    #[error("vault: {0}")]
    Vault(#[from] vault::VaultError),
    /// The CA failed to load.
    #[error("certificate authority: {0}")]
    Ca(String),
    /// The service failed to assemble.
    #[error("service: {0}")]
    Service(String),
    /// TLS files unusable.
    #[error("TLS: {0}")]
    Tls(String),
}

/// Create the data directory owner-only, and make what is in it owner-only (warning about
/// anything that was not).
fn secure_data_dir(dir: &Path, warnings: &mut Vec<String>) -> Result<(), StartError> {
    use std::os::unix::fs::PermissionsExt;
    let io = |e: std::io::Error| StartError::Io(format!("{}: {e}", dir.display()));
    let existed = dir.exists();
    std::fs::create_dir_all(dir).map_err(io)?;
    let mode = std::fs::metadata(dir).map_err(io)?.permissions().mode() & 0o777;
    if existed && mode & 0o077 != 0 {
        warnings.push(format!(
            "data directory {} was readable by others (mode {mode:o}): set to 0700",
            dir.display()
        ));
    }
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).map_err(io)?;
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let entry = entry.map_err(io)?;
        let meta = entry.metadata().map_err(io)?;
        if !meta.is_file() {
            continue;
        }
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            warnings.push(format!(
                "{} was readable by others (mode {mode:o}): set to 0600",
                entry.path().display()
            ));
            std::fs::set_permissions(entry.path(), std::fs::Permissions::from_mode(0o600))
                .map_err(io)?;
        }
    }
    Ok(())
}

/// Make the database files owner-only (SQLite creates them with the process umask).
fn restrict_files(dir: &Path) {
    use std::os::unix::fs::PermissionsExt;
    for name in [
        "inkseal.db",
        "inkseal.db-wal",
        "inkseal.db-shm",
        "master.key",
    ] {
        let path = dir.join(name);
        if path.exists() {
            let _ = std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600));
        }
    }
}

/// Open the configured store (PostgreSQL: connect and apply pending migrations).
pub fn open_store(
    config: &ServerConfig,
    warnings: &mut Vec<String>,
) -> Result<Arc<dyn Store>, StartError> {
    Ok(match &config.database {
        DatabaseChoice::Sqlite => {
            let db = config.data_dir.join("inkseal.db");
            Arc::new(if config.insecure.no_fsync {
                warnings.push("INSECURE: writes are not synced to disk (benchmark only)".into());
                SqliteStore::open_without_fsync_insecure(&db)?
            } else {
                SqliteStore::open(&db)?
            })
        }
        DatabaseChoice::Postgres(pg) => {
            if config.insecure.no_fsync {
                warnings.push(
                    "--insecure-no-fsync applies to SQLite only: PostgreSQL commits as its \
                     server is configured"
                        .into(),
                );
            }
            if pg.insecure_without_tls {
                warnings.push(format!(
                    "INSECURE: the database connection to {} is not encrypted",
                    pg.redacted_url()
                ));
            }
            // Lanes named after the replica: the host name and the port it listens on, unless
            // the operator named it (a port picked at random, 0, gets a random name instead).
            let mut pg = pg.clone();
            if pg.replica.is_none() {
                let port = match config.listen.port() {
                    0 => {
                        let mut b = [0u8; 4];
                        getrandom::fill(&mut b).map_err(|e| {
                            StartError::Store(store::StoreError::Backend(e.to_string()))
                        })?;
                        format!("{}-{}", std::process::id(), hex::encode(b))
                    }
                    port => port.to_string(),
                };
                pg.replica = Some(format!("{}:{port}", store::host_name()));
            }
            let store = PostgresStore::open(&pg)?;
            tracing::info!(
                database = %pg.redacted_url(),
                pool = pg.pool_size,
                lanes = %store.lane_names().join(","),
                "PostgreSQL store"
            );
            Arc::new(store)
        }
    })
}

/// Build the service from a configuration (opens store, vault, CA). Returns the service and
/// the warnings worth showing the operator.
pub fn build_service(config: &ServerConfig) -> Result<(CosignService, Vec<String>), StartError> {
    let mut warnings = Vec::new();
    let vendors = config.vendors()?;
    secure_data_dir(&config.data_dir, &mut warnings)?;
    let store = open_store(config, &mut warnings)?;
    let vault: Arc<dyn ShareVault> = match &config.vault {
        VaultChoice::File => Arc::new(FileVault::open_or_create(
            &config.data_dir.join("master.key"),
        )?),
        VaultChoice::Pkcs11(p) => Arc::new(Pkcs11Vault::open(p)?),
    };
    restrict_files(&config.data_dir);
    // The audit key must work before the first entry needs anchoring.
    vault.audit_public_key()?;
    let embedded = EmbeddedCa::load_or_create(
        store.as_ref(),
        vault.as_ref(),
        config.policy.certificate_validity_days,
        config.public_url.as_deref(),
    )
    .map_err(StartError::Ca)?;
    let tsa = tsa::TimeStampAuthority::load_or_create(
        store.as_ref(),
        vault.as_ref(),
        &embedded,
        config.tsa_policy,
    )
    .map_err(StartError::Ca)?;
    let ca: Arc<dyn CertificateAuthority> = Arc::new(embedded);
    if vendors
        .iter()
        .any(|v| v.name() == inkseal_capture::test_vendor::TEST_VENDOR_NAME)
    {
        warnings.push(
            "INSECURE: the deterministic test liveness vendor is accepted (demo and tests only)"
                .into(),
        );
    }
    tracing::info!(vault = %vault.describe(), "co-signing service ready");
    let service = CosignService::new(
        Parts {
            store,
            vault,
            ca,
            tsa: Some(Arc::new(tsa)),
            vendors,
            attestation: config.attestation.clone(),
        },
        config.policy.clone(),
    )
    .map_err(|e| StartError::Service(e.to_string()))?;
    Ok((service, warnings))
}

/// A server running on a socket.
pub struct RunningServer {
    addr: SocketAddr,
    tls: bool,
    listener: net::Listener,
    housekeeping: tokio::task::JoinHandle<()>,
    service: CosignService,
    warnings: Vec<String>,
}

impl RunningServer {
    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Base URL, e.g. `https://127.0.0.1:8440`.
    pub fn url(&self) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        format!("{scheme}://{}", self.addr)
    }

    /// The service behind the socket (for inspection in tests and tools).
    pub fn service(&self) -> &CosignService {
        &self.service
    }

    /// What the operator should know about the configuration (permissions fixed, insecure
    /// options in force).
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// Stop accepting, let requests in flight finish (up to 5 s), checkpoint the audit log,
    /// and wait.
    pub async fn shutdown(self) -> std::io::Result<()> {
        self.housekeeping.abort();
        let result = self.listener.shutdown().await;
        let service = self.service.clone();
        let _ = tokio::task::spawn_blocking(move || service.audit().checkpoint()).await;
        result
    }
}

/// Load the TLS configuration: the server's chain and key, and (for operators) optional
/// client certificates chaining to the operator CA.
fn tls_config(
    files: &TlsFiles,
    warnings: &mut Vec<String>,
) -> Result<rustls::ServerConfig, StartError> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    use std::os::unix::fs::PermissionsExt;
    let tls = |what: &Path, e: &dyn std::fmt::Display| {
        StartError::Tls(format!("{}: {e}", what.display()))
    };
    if let Ok(meta) = std::fs::metadata(&files.key) {
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            warnings.push(format!(
                "the TLS private key {} is readable by others (mode {mode:o}): chmod 600 it",
                files.key.display()
            ));
            tracing::warn!(path = %files.key.display(), mode = format!("{mode:o}"), "TLS key readable by others");
        }
    }
    let chain = CertificateDer::pem_file_iter(&files.cert)
        .map_err(|e| tls(&files.cert, &e))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| tls(&files.cert, &e))?;
    if chain.is_empty() {
        return Err(tls(&files.cert, &"no certificate in the file"));
    }
    let key = PrivateKeyDer::from_pem_file(&files.key).map_err(|e| tls(&files.key, &e))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| StartError::Tls(e.to_string()))?;
    let builder = match &files.operator_client_ca {
        None => builder.with_no_client_auth(),
        Some(ca) => {
            let mut roots = rustls::RootCertStore::empty();
            for cert in CertificateDer::pem_file_iter(ca).map_err(|e| tls(ca, &e))? {
                roots
                    .add(cert.map_err(|e| tls(ca, &e))?)
                    .map_err(|e| tls(ca, &e))?;
            }
            let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
                Arc::new(roots),
                provider,
            )
            .allow_unauthenticated()
            .build()
            .map_err(|e| tls(ca, &e))?;
            builder.with_client_cert_verifier(verifier)
        }
    };
    let mut config = builder
        .with_single_cert(chain, key)
        .map_err(|e| StartError::Tls(e.to_string()))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

/// Start serving. Returns once the socket is bound.
pub async fn start(config: ServerConfig) -> Result<RunningServer, StartError> {
    if config.tls.is_none()
        && !config.listen.ip().is_loopback()
        && !config.insecure.plain_http_off_loopback
    {
        return Err(StartError::Config(format!(
            "refusing plain HTTP on {}: PINs travel in request bodies; give --tls-cert and \
             --tls-key, listen on loopback behind a TLS proxy, or pass \
             --insecure-plain-http if you really mean it",
            config.listen
        )));
    }
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|e| StartError::Io(format!("cannot listen on {}: {e}", config.listen)))?;
    let addr = listener
        .local_addr()
        .map_err(|e| StartError::Io(e.to_string()))?;
    let mut config = config;
    let mut public_url_warning = None;
    if config.public_url.is_none() {
        let scheme = if config.tls.is_some() {
            "https"
        } else {
            "http"
        };
        let url = format!("{scheme}://{addr}");
        if !addr.ip().is_loopback() {
            public_url_warning = Some(format!(
                "certificates will name revocation services at {url}; give --public-url with \
                 the address relying parties use"
            ));
        }
        config.public_url = Some(url);
    }
    let (service, mut warnings) = {
        let config = config.clone();
        tokio::task::spawn_blocking(move || build_service(&config))
            .await
            .map_err(|e| StartError::Io(e.to_string()))??
    };
    warnings.extend(public_url_warning);
    if config.tls.is_none() && !config.listen.ip().is_loopback() {
        warnings.push(format!(
            "INSECURE: plain HTTP on {}: PINs cross the network unencrypted",
            config.listen
        ));
    }
    let tls = match &config.tls {
        None => None,
        Some(files) => Some(tokio_rustls::TlsAcceptor::from(Arc::new(tls_config(
            files,
            &mut warnings,
        )?))),
    };
    for w in &warnings {
        tracing::warn!("{w}");
    }
    let limiter = Arc::new(limits::RateLimiter::new(config.limits.clone()));
    let app = http::router(http::App::new(service.clone(), limiter));
    let listener = net::serve(
        listener,
        tls,
        app,
        config.limits.clone(),
        Duration::from_secs(5),
    );
    let housekeeping = tokio::spawn(housekeeping(service.clone(), config.housekeeping_interval));
    Ok(RunningServer {
        addr,
        tls: config.tls.is_some(),
        listener,
        housekeeping,
        service,
        warnings,
    })
}

/// Purge expired rows and checkpoint the audit head, every `interval`.
async fn housekeeping(service: CosignService, interval: Duration) {
    let mut tick = tokio::time::interval(interval.max(Duration::from_millis(100)));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let s = service.clone();
        let outcome = tokio::task::spawn_blocking(move || {
            s.purge_expired()?;
            s.audit().checkpoint()
        })
        .await;
        match outcome {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => tracing::error!(error = %e, "housekeeping failed"),
            Err(e) => tracing::error!(error = %e, "housekeeping task failed"),
        }
    }
}
