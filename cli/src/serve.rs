//! `inkseal serve`, and the options every command that opens a data directory shares.

use clap::Args;
use inkseal_server::attestation::AndroidKeyAttestation;
use inkseal_server::limits::{Limits, PerMinute};
use inkseal_server::store::PostgresConfig;
use inkseal_server::vault::{DEFAULT_AUDIT_KEY_LABEL, Pkcs11Config};
use inkseal_server::{DatabaseChoice, Insecure, ServerConfig, TlsFiles, VaultChoice};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// Where the data lives and which vault opens it (serve, admin, audit).
#[derive(Args, Debug, Clone)]
pub struct DataArgs {
    /// Data directory (database, master key). Default: $INKSEAL_DATA, else
    /// $XDG_DATA_HOME/inkseal, else ~/.local/share/inkseal.
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// Wrap shares with an AES key in this PKCS#11 module instead of the master key file
    /// (token PIN in $INKSEAL_PKCS11_PIN).
    #[arg(long, requires = "pkcs11_token")]
    pub pkcs11_module: Option<PathBuf>,
    /// Label of the PKCS#11 token.
    #[arg(long)]
    pub pkcs11_token: Option<String>,
    /// Label of the wrapping key in the token (created if missing).
    #[arg(long, default_value = "inkseal-share-wrap")]
    pub pkcs11_key_label: String,
    /// Label of the audit checkpoint key pair in the token (created if missing).
    #[arg(long, default_value = DEFAULT_AUDIT_KEY_LABEL)]
    pub pkcs11_audit_key_label: String,
    #[command(flatten)]
    pub database: DatabaseArgs,
}

/// Which database holds the server's state.
#[derive(Args, Debug, Clone)]
pub struct DatabaseArgs {
    /// PostgreSQL database shared by every replica, `postgres://USER[:PASSWORD]@HOST[:PORT]/DB`
    /// (or the key=value form; a Unix socket with `host=/path`). Without it: SQLite in the
    /// data directory. The password is never logged.
    #[arg(
        long = "database",
        env = "INKSEAL_DATABASE_URL",
        hide_env_values = true
    )]
    pub url: Option<String>,
    /// Database connections in this process's pool.
    #[arg(long, default_value_t = 16)]
    pub database_pool_size: u32,
    /// Seconds to wait for a database connection (requests and /v1/ready).
    #[arg(long, default_value_t = 5)]
    pub database_timeout: u64,
    /// This replica's name on PostgreSQL: its audit lanes are `NAME/0`, `NAME/1`, ... (one per
    /// pooled connection), so an operator can tell which replica wrote an entry. Give every
    /// replica its own (replicas sharing one stay correct but contend for their lanes).
    /// Default: the host name and the port `inkseal serve` listens on (`host:8440`); the host
    /// name and `admin` for `inkseal admin` and `inkseal audit`.
    #[arg(long, env = "INKSEAL_REPLICA_NAME", value_name = "NAME")]
    pub replica_name: Option<String>,
    /// The CA certificate(s) (PEM) that the PostgreSQL server's certificate must chain to.
    /// Turns TLS on (as `sslmode=verify-full` or `sslrootcert=FILE` in the URL do); TLS is
    /// always verified in full (chain and host name), and the default for a host off loopback.
    #[arg(long, env = "INKSEAL_DATABASE_CA", value_name = "FILE")]
    pub database_ca: Option<PathBuf>,
    /// INSECURE: connect to a database host off loopback without TLS (use TLS with
    /// --database-ca, a Unix socket or loopback instead).
    #[arg(long)]
    pub insecure_database_without_tls: bool,
}

impl DatabaseArgs {
    /// The database choice these options make.
    pub fn choice(&self) -> DatabaseChoice {
        match &self.url {
            None => DatabaseChoice::Sqlite,
            Some(url) => {
                let mut pg = PostgresConfig::new(url.clone());
                pg.pool_size = self.database_pool_size.max(1);
                pg.connect_timeout = Duration::from_secs(self.database_timeout.max(1));
                pg.ca_file = self.database_ca.clone();
                pg.insecure_without_tls = self.insecure_database_without_tls;
                pg.replica = self.replica_name.clone();
                DatabaseChoice::Postgres(pg)
            }
        }
    }
}

impl DataArgs {
    /// A server configuration for this data directory and vault.
    pub fn config(&self) -> Result<ServerConfig, String> {
        let mut config = ServerConfig::new(self.data_dir.clone().unwrap_or_else(default_data_dir));
        config.database = self.database.choice();
        if let Some(module) = &self.pkcs11_module {
            let pin = std::env::var("INKSEAL_PKCS11_PIN")
                .map_err(|_| "set the token's user PIN in INKSEAL_PKCS11_PIN".to_string())?;
            let mut p = Pkcs11Config::new(
                module.clone(),
                self.pkcs11_token.clone().unwrap_or_default(),
                pin.into(),
                self.pkcs11_key_label.clone(),
            );
            p.audit_key_label = self.pkcs11_audit_key_label.clone();
            config.vault = VaultChoice::Pkcs11(p);
        }
        Ok(config)
    }
}

/// Options of `inkseal serve`.
#[derive(Args, Debug)]
pub struct ServeArgs {
    #[command(flatten)]
    data: DataArgs,
    /// Address to listen on. Plain HTTP is refused off loopback (see --tls-cert).
    #[arg(long, default_value = "127.0.0.1:8440")]
    listen: SocketAddr,
    /// TLS certificate chain (PEM); serve HTTPS with --tls-key.
    #[arg(long, requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// TLS private key (PEM); a warning when others can read it.
    #[arg(long, requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// CA certificates (PEM) that operator TLS client certificates must chain to.
    #[arg(long, requires = "tls_cert")]
    operator_client_ca: Option<PathBuf>,
    /// Wrong PINs (since the last right one) that lock a key.
    #[arg(long, default_value_t = 5)]
    max_pin_failures: u32,
    /// Two-party decryptions an encryption key answers in its life (each is a static-DH
    /// oracle query; see ARCHITECTURE.md); then the user enrolls a new encryption key.
    #[arg(long, default_value_t = inkseal_server::service::DEFAULT_MAX_DECRYPTIONS_PER_KEY,
          value_parser = clap::value_parser!(u64).range(1..=(1 << 32)))]
    max_decryptions_per_key: u64,
    /// Fewest characters of a new PIN (6 to 32).
    #[arg(long, default_value_t = 6)]
    pin_min_length: usize,
    /// New PINs may contain only digits.
    #[arg(long)]
    pin_digits_only: bool,
    /// Refuse to co-sign unless the request carries the head of a fresh, passed liveness check
    /// that bound the document being signed (the default for keys without their own policy).
    /// Needs a liveness vendor adapter.
    #[arg(long)]
    require_liveness: bool,
    /// How long a passed liveness check satisfies the signing policy, in seconds.
    #[arg(long, default_value_t = 600)]
    max_evidence_age: u64,
    /// Lifetime of a liveness challenge, in seconds (1 to 900).
    #[arg(long, default_value_t = 120)]
    challenge_ttl: u64,
    /// Default lifetime of an enrollment ticket, in seconds (60 to 604800).
    #[arg(long, default_value_t = 3600)]
    ticket_ttl: u64,
    /// How far a device's request time may be from the server's, in seconds.
    #[arg(long, default_value_t = 120)]
    max_clock_skew: u64,
    /// Refuse enrollment without a device-key attestation a configured verifier accepts.
    #[arg(long)]
    require_device_attestation: bool,
    /// Enroll and co-sign with two-party P-256 keys (DKLs23 from dkls23-core 0.6.2, not yet
    /// reviewed by a third party; ARCHITECTURE.md "Two-party P-256").
    #[arg(long)]
    enable_unaudited_p256_cosign: bool,
    /// A trusted Android Key Attestation root (PEM, repeatable): enables the Android verifier.
    #[arg(long)]
    android_attestation_root: Vec<PathBuf>,
    /// A request-rate limit, `NAME=PER_MINUTE` (repeatable; 0 turns it off). Names:
    /// enroll-per-address (20), challenge-per-address (60), challenge-per-key (10),
    /// evidence-per-address (30), evidence-per-key (10), sign-per-address (600),
    /// sign-per-key (120), device-read-per-address (300), operator-per-address (1200),
    /// timestamp-per-address (600), ocsp-per-address (600).
    #[arg(long = "rate-limit", value_name = "NAME=PER_MINUTE")]
    rate_limits: Vec<String>,
    /// The policy OID of the time-stamping authority's tokens (the institution's registered
    /// TSA policy; the default lies under IANA's documentation enterprise number 32473).
    #[arg(long, default_value = "1.3.6.1.4.1.32473.3161.1")]
    tsa_policy: String,
    /// The base URL relying parties reach this server at (e.g. https://sign.bank.example):
    /// issued certificates name its OCSP responder and CRL under it. Default: the address
    /// the server listens on.
    #[arg(long, value_name = "URL")]
    public_url: Option<String>,
    /// Evidence uploads (up to 16 MiB each) read at once.
    #[arg(long, default_value_t = 4)]
    max_concurrent_evidence: usize,
    /// Open connections per client address.
    #[arg(long, default_value_t = 64)]
    max_connections_per_address: usize,
    /// Open connections in all.
    #[arg(long, default_value_t = 4096)]
    max_connections: usize,
    /// Seconds a client has to send a request's headers.
    #[arg(long, default_value_t = 10)]
    header_timeout: u64,
    /// Seconds a connection may stay idle.
    #[arg(long, default_value_t = 30)]
    idle_timeout: u64,
    /// Seconds a request (body included) may take.
    #[arg(long, default_value_t = 60)]
    request_timeout: u64,
    /// INSECURE: serve plain HTTP on an address other than loopback (PINs travel in bodies).
    #[arg(long)]
    insecure_plain_http: bool,
    /// INSECURE: accept the deterministic test liveness vendor, whose verdict anyone can
    /// forge (the demo and tests only).
    #[arg(long)]
    insecure_test_liveness_vendor: bool,
    /// INSECURE, benchmarks only: do not sync writes to disk before answering (an answered
    /// signature may be lost in a power failure).
    #[arg(long)]
    insecure_no_fsync: bool,
}

/// The default data directory.
pub fn default_data_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("INKSEAL_DATA") {
        return PathBuf::from(d);
    }
    if let Some(d) = std::env::var_os("XDG_DATA_HOME") {
        return PathBuf::from(d).join("inkseal");
    }
    match std::env::var_os("HOME") {
        Some(h) => PathBuf::from(h).join(".local/share/inkseal"),
        None => PathBuf::from("inkseal-data"),
    }
}

/// Apply `NAME=PER_MINUTE` settings to `limits`.
fn apply_rate_limits(limits: &mut Limits, settings: &[String]) -> Result<(), String> {
    for setting in settings {
        let (name, value) = setting
            .split_once('=')
            .ok_or_else(|| format!("--rate-limit {setting:?}: expected NAME=PER_MINUTE"))?;
        let value: u32 = value
            .parse()
            .map_err(|_| format!("--rate-limit {setting:?}: {value:?} is not a number"))?;
        let slot = match name {
            "enroll-per-address" => &mut limits.enroll_per_address,
            "challenge-per-address" => &mut limits.challenge_per_address,
            "challenge-per-key" => &mut limits.challenge_per_key,
            "evidence-per-address" => &mut limits.evidence_per_address,
            "evidence-per-key" => &mut limits.evidence_per_key,
            "sign-per-address" => &mut limits.sign_per_address,
            "sign-per-key" => &mut limits.sign_per_key,
            "device-read-per-address" => &mut limits.device_read_per_address,
            "operator-per-address" => &mut limits.operator_per_address,
            "timestamp-per-address" => &mut limits.timestamp_per_address,
            "ocsp-per-address" => &mut limits.ocsp_per_address,
            other => return Err(format!("--rate-limit: unknown limit {other:?}")),
        };
        *slot = PerMinute(value);
    }
    Ok(())
}

/// Every certificate of a PEM file (or one DER certificate), as `--trust` reads them.
fn read_pem_certificates(path: &PathBuf) -> Result<Vec<Vec<u8>>, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    inkseal_pdf::signer::parse_certificate_chain(&bytes)
        .map_err(|e| format!("{}: {e}", path.display()))
}

/// The server configuration `inkseal serve` runs with.
pub fn config(args: &ServeArgs) -> Result<ServerConfig, String> {
    let mut config = args.data.config()?;
    config.listen = args.listen;
    config.policy.max_pin_failures = args.max_pin_failures.max(1);
    config.policy.max_decryptions_per_key = args.max_decryptions_per_key;
    config.policy.pin.min_length = args.pin_min_length;
    config.policy.pin.digits_only = args.pin_digits_only;
    config.policy.pin = config.policy.pin.normalised();
    config.policy.signing.require_liveness = args.require_liveness;
    config.policy.signing.max_evidence_age_secs = args.max_evidence_age;
    config.policy.challenge_ttl_secs = args.challenge_ttl.clamp(1, 900);
    config.policy.ticket_ttl_secs = args.ticket_ttl.clamp(60, 7 * 24 * 3600);
    config.policy.max_clock_skew_secs = args.max_clock_skew.clamp(5, 3600);
    config.policy.require_device_attestation = args.require_device_attestation;
    config.policy.p256_cosign = args.enable_unaudited_p256_cosign;
    if let (Some(cert), Some(key)) = (&args.tls_cert, &args.tls_key) {
        config.tls = Some(TlsFiles {
            cert: cert.clone(),
            key: key.clone(),
            operator_client_ca: args.operator_client_ca.clone(),
        });
    }
    if !args.android_attestation_root.is_empty() {
        let mut roots = Vec::new();
        for path in &args.android_attestation_root {
            roots.extend(read_pem_certificates(path)?);
        }
        config
            .attestation
            .push(Arc::new(AndroidKeyAttestation::new(roots)));
    }
    config.tsa_policy = args
        .tsa_policy
        .parse()
        .map_err(|e| format!("--tsa-policy {:?}: not an OID: {e}", args.tsa_policy))?;
    if let Some(url) = &args.public_url {
        if !(url.starts_with("https://") || url.starts_with("http://")) || !url.is_ascii() {
            return Err(format!("--public-url {url:?}: an http(s) URL in ASCII"));
        }
        config.public_url = Some(url.clone());
    }
    apply_rate_limits(&mut config.limits, &args.rate_limits)?;
    config.limits.max_concurrent_evidence = args.max_concurrent_evidence.max(1);
    config.limits.max_connections_per_address = args.max_connections_per_address.max(1);
    config.limits.max_connections = args.max_connections.max(1);
    config.limits.header_read_timeout = Duration::from_secs(args.header_timeout.max(1));
    config.limits.idle_timeout = Duration::from_secs(args.idle_timeout.max(1));
    config.limits.request_timeout = Duration::from_secs(args.request_timeout.max(1));
    config.insecure = Insecure {
        plain_http_off_loopback: args.insecure_plain_http,
        test_liveness_vendor: args.insecure_test_liveness_vendor,
        no_fsync: args.insecure_no_fsync,
    };
    Ok(config)
}

pub async fn run(args: ServeArgs) -> Result<(), String> {
    let config = config(&args)?;
    let data_dir = config.data_dir.clone();
    let database = config.database.clone();
    // Ctrl-C, or SIGTERM from a service manager (systemd, Kubernetes): both handlers are in
    // place before the server says it listens, so a signal sent as soon as it answers stops
    // it cleanly instead of killing it.
    use tokio::signal::unix::{SignalKind, signal};
    let mut interrupt =
        signal(SignalKind::interrupt()).map_err(|e| format!("cannot wait for Ctrl-C: {e}"))?;
    let mut term =
        signal(SignalKind::terminate()).map_err(|e| format!("cannot wait for SIGTERM: {e}"))?;
    let server = inkseal_server::start(config)
        .await
        .map_err(|e| e.to_string())?;
    println!("inkseal co-signing server listening on {}", server.url());
    println!("data directory: {}", data_dir.display());
    if let DatabaseChoice::Postgres(pg) = &database {
        println!("database: {}", pg.redacted_url());
    }
    println!(
        "API description: {}/openapi.json  (Ctrl-C to stop)",
        server.url()
    );
    tokio::select! {
        _ = interrupt.recv() => {}
        _ = term.recv() => {}
    }
    println!("shutting down...");
    server.shutdown().await.map_err(|e| e.to_string())?;
    println!("stopped cleanly");
    Ok(())
}

/// Options of `inkseal migrate`.
#[derive(Args, Debug)]
pub struct MigrateArgs {
    /// The PostgreSQL database to migrate (see `inkseal serve --database`).
    #[arg(
        long = "database",
        env = "INKSEAL_DATABASE_URL",
        hide_env_values = true
    )]
    url: String,
    /// The CA certificate(s) (PEM) the database server's certificate must chain to (see
    /// `inkseal serve --database-ca`).
    #[arg(long, env = "INKSEAL_DATABASE_CA", value_name = "FILE")]
    database_ca: Option<PathBuf>,
    /// INSECURE: connect to a database host off loopback without TLS.
    #[arg(long)]
    insecure_database_without_tls: bool,
}

/// `inkseal migrate`: apply pending migrations and say what was done.
pub fn migrate(args: MigrateArgs) -> Result<(), String> {
    let mut pg = PostgresConfig::new(args.url);
    pg.pool_size = 1;
    pg.ca_file = args.database_ca;
    pg.insecure_without_tls = args.insecure_database_without_tls;
    let store = inkseal_server::store::PostgresStore::connect(&pg).map_err(|e| e.to_string())?;
    let report = store.migrate().map_err(|e| e.to_string())?;
    for (version, name) in &report.applied {
        println!("applied migration {version}: {name}");
    }
    if report.applied.is_empty() {
        println!("nothing to apply");
    }
    println!("{}: schema version {}", pg.redacted_url(), report.version);
    Ok(())
}
