//! `inkseal serve`.

use clap::Args;
use inkseal_server::vault::Pkcs11Config;
use inkseal_server::{ServerConfig, TlsFiles, VaultChoice};
use std::net::SocketAddr;
use std::path::PathBuf;

/// Options of `inkseal serve`.
#[derive(Args, Debug)]
pub struct ServeArgs {
    /// Data directory (database, master key). Default: $INKSEAL_DATA, else
    /// $XDG_DATA_HOME/inkseal, else ~/.local/share/inkseal.
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8440")]
    listen: SocketAddr,
    /// TLS certificate chain (PEM); serve HTTPS with --tls-key.
    #[arg(long, requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// TLS private key (PEM).
    #[arg(long, requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Wrap shares with an AES key in this PKCS#11 module instead of the master key file.
    #[arg(long, requires = "pkcs11_token")]
    pkcs11_module: Option<PathBuf>,
    /// Label of the PKCS#11 token.
    #[arg(long)]
    pkcs11_token: Option<String>,
    /// Label of the wrapping key in the token (created if missing).
    #[arg(long, default_value = "inkseal-share-wrap")]
    pkcs11_key_label: String,
    /// Consecutive wrong PINs that lock a key.
    #[arg(long, default_value_t = 5)]
    max_pin_failures: u32,
    /// Refuse to co-sign unless the request carries the head of a fresh, passed liveness check
    /// (the default for keys without their own signing policy).
    #[arg(long)]
    require_liveness: bool,
    /// How long a passed liveness check satisfies the signing policy, in seconds.
    #[arg(long, default_value_t = 600)]
    max_evidence_age: u64,
    /// Lifetime of a liveness challenge, in seconds.
    #[arg(long, default_value_t = 120)]
    challenge_ttl: u64,
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

pub async fn run(args: ServeArgs) -> Result<(), String> {
    let mut config = ServerConfig::new(args.data_dir.unwrap_or_else(default_data_dir));
    config.listen = args.listen;
    config.policy.max_pin_failures = args.max_pin_failures.max(1);
    config.policy.signing.require_liveness = args.require_liveness;
    config.policy.signing.max_evidence_age_secs = args.max_evidence_age;
    config.policy.challenge_ttl_secs = args.challenge_ttl.clamp(1, 900);
    if let (Some(cert), Some(key)) = (args.tls_cert, args.tls_key) {
        config.tls = Some(TlsFiles { cert, key });
    }
    if let Some(module) = args.pkcs11_module {
        let pin = std::env::var("INKSEAL_PKCS11_PIN")
            .map_err(|_| "set the token's user PIN in INKSEAL_PKCS11_PIN".to_string())?;
        config.vault = VaultChoice::Pkcs11(Pkcs11Config {
            module,
            token_label: args.pkcs11_token.unwrap_or_default(),
            user_pin: pin.into(),
            key_label: args.pkcs11_key_label,
        });
    }
    let data_dir = config.data_dir.clone();
    let server = inkseal_server::start(config)
        .await
        .map_err(|e| e.to_string())?;
    println!("inkseal co-signing server listening on {}", server.url());
    println!("data directory: {}", data_dir.display());
    println!(
        "API description: {}/openapi.json  (Ctrl-C to stop)",
        server.url()
    );
    tokio::signal::ctrl_c()
        .await
        .map_err(|e| format!("cannot wait for Ctrl-C: {e}"))?;
    println!("shutting down...");
    server.shutdown().await.map_err(|e| e.to_string())?;
    println!("stopped cleanly");
    Ok(())
}
