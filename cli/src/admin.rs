//! `inkseal admin ...` and `inkseal audit ...`: operator credentials and audit verification
//! against a data directory (the first credential has to come from somewhere: this is where).
//! They open the same store and vault the server uses and may run while it does.

use crate::serve::DataArgs;
use clap::{Args, Subcommand};
use inkseal_server::audit::Caller;
use inkseal_server::service::{CosignService, CredentialSecret, Role};
use std::path::PathBuf;
use std::process::ExitCode;

/// `inkseal admin`.
#[derive(Subcommand, Debug)]
pub enum AdminCommand {
    /// Operator credentials (API keys, TLS client certificates) and their roles.
    #[command(subcommand)]
    Credential(CredentialCommand),
}

/// `inkseal admin credential`.
#[derive(Subcommand, Debug)]
pub enum CredentialCommand {
    /// Create a credential; an API key is printed once (only its hash is stored).
    Create(CreateArgs),
    /// List credentials (never their secrets).
    List(ListArgs),
    /// Revoke a credential: it never authenticates again.
    Revoke(RevokeArgs),
}

/// `inkseal admin credential create`.
#[derive(Args, Debug)]
pub struct CreateArgs {
    #[command(flatten)]
    data: DataArgs,
    /// A name for people ("loan backend").
    #[arg(long)]
    name: String,
    /// A role (repeatable or comma-separated): enroll, audit:read, evidence:read,
    /// policy:write, keys:read, keys:manage, credentials:manage, seal:manage, seal:use,
    /// login:issue, login:verify; `all` for every one.
    #[arg(long = "role", value_delimiter = ',', required = true)]
    roles: Vec<String>,
    /// Authenticate with this TLS client certificate (PEM) instead of an API key.
    #[arg(long)]
    client_cert: Option<PathBuf>,
    /// Print the result as JSON (the API key included).
    #[arg(long)]
    json: bool,
}

/// `inkseal admin credential list`.
#[derive(Args, Debug)]
pub struct ListArgs {
    #[command(flatten)]
    data: DataArgs,
}

/// `inkseal admin credential revoke`.
#[derive(Args, Debug)]
pub struct RevokeArgs {
    #[command(flatten)]
    data: DataArgs,
    /// The credential id (`op-...`).
    credential_id: String,
}

/// `inkseal audit`.
#[derive(Subcommand, Debug)]
pub enum AuditCommand {
    /// Check the whole hash chain against the checkpoints the vault's audit key signed: a
    /// deleted, edited or re-hashed entry is found. Exit 0 intact, 1 not.
    Verify(VerifyArgs),
}

/// `inkseal audit verify`.
#[derive(Args, Debug)]
pub struct VerifyArgs {
    #[command(flatten)]
    data: DataArgs,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

fn open(data: &DataArgs) -> Result<CosignService, String> {
    let mut config = data.config()?;
    // On PostgreSQL what this process writes (a credential's entry) goes to lanes of its own.
    if let inkseal_server::DatabaseChoice::Postgres(pg) = &mut config.database
        && pg.replica.is_none()
    {
        pg.replica = Some(format!("{}:admin", inkseal_server::store::host_name()));
    }
    if matches!(config.database, inkseal_server::DatabaseChoice::Sqlite)
        && !config.data_dir.join("inkseal.db").exists()
    {
        return Err(format!(
            "{} holds no inkseal database (start `inkseal serve` once, or pass --data-dir)",
            config.data_dir.display()
        ));
    }
    let (service, warnings) = inkseal_server::build_service(&config).map_err(|e| e.to_string())?;
    for w in warnings {
        eprintln!("warning: {w}");
    }
    Ok(service)
}

fn roles(names: &[String]) -> Result<Vec<Role>, String> {
    let mut out = Vec::new();
    for name in names {
        match name.trim() {
            "all" => out.extend(Role::ALL),
            n => out.push(Role::parse(n).ok_or_else(|| {
                format!(
                    "unknown role {n:?}; roles: {}",
                    Role::ALL.map(|r| r.as_str()).join(", ")
                )
            })?),
        }
    }
    Ok(out)
}

/// Run `inkseal admin ...`.
pub fn admin(cmd: AdminCommand) -> Result<(), String> {
    let AdminCommand::Credential(cmd) = cmd;
    let caller = Caller::system();
    match cmd {
        CredentialCommand::Create(args) => {
            let service = open(&args.data)?;
            let secret = match &args.client_cert {
                None => CredentialSecret::ApiKey,
                Some(path) => {
                    let pem = std::fs::read_to_string(path)
                        .map_err(|e| format!("{}: {e}", path.display()))?;
                    let (_, der) = inkseal_pki::pem_to_der(&pem)
                        .map_err(|e| format!("{}: {e}", path.display()))?;
                    CredentialSecret::ClientCertificate(der)
                }
            };
            let created = service
                .operators()
                .create(&args.name, &roles(&args.roles)?, secret, &caller)
                .map_err(|e| e.to_string())?;
            if args.json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&created).map_err(|e| e.to_string())?
                );
            } else {
                let c = &created.credential;
                println!("credential {} ({}) created", c.credential_id, c.name);
                println!(
                    "roles: {}",
                    c.roles
                        .iter()
                        .map(|r| r.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                );
                match &created.api_key {
                    Some(key) => {
                        println!("API key (shown once; send it as `Authorization: Bearer <key>`):");
                        println!("{key}");
                    }
                    None => println!(
                        "client certificate SHA-256: {}",
                        c.certificate_sha256.clone().unwrap_or_default()
                    ),
                }
            }
            Ok(())
        }
        CredentialCommand::List(args) => {
            let service = open(&args.data)?;
            for c in service.operators().list().map_err(|e| e.to_string())? {
                println!(
                    "{}  {:<20} {:<18} {}{}",
                    c.credential_id,
                    c.name,
                    c.kind,
                    c.roles
                        .iter()
                        .map(|r| r.as_str())
                        .collect::<Vec<_>>()
                        .join(","),
                    if c.revoked_ms.is_some() {
                        "  REVOKED"
                    } else {
                        ""
                    }
                );
            }
            Ok(())
        }
        CredentialCommand::Revoke(args) => {
            let service = open(&args.data)?;
            service
                .operators()
                .revoke(&args.credential_id, &caller)
                .map_err(|e| e.to_string())?;
            println!("credential {} revoked", args.credential_id);
            Ok(())
        }
    }
}

/// Run `inkseal audit ...`: exit 0 when the log is intact, 1 when not, 2 when it cannot be read.
pub fn audit(cmd: AuditCommand) -> ExitCode {
    let AuditCommand::Verify(args) = cmd;
    let report = match open(&args.data).and_then(|s| s.audit().verify().map_err(|e| e.to_string()))
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    if args.json {
        match serde_json::to_string_pretty(&report) {
            Ok(j) => println!("{j}"),
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(2);
            }
        }
    } else {
        println!(
            "{} entries in {} lane(s), {} checkpoints, {} entries anchored",
            report.entries,
            report.lanes.len(),
            report.checkpoints,
            report.anchored_through
        );
        for lane in &report.lanes {
            println!(
                "  lane {}: {} entries, anchored through entry {}",
                lane.lane, lane.entries, lane.anchored_through
            );
        }
        for p in &report.problems {
            println!("PROBLEM: {p}");
        }
        println!(
            "{}",
            if report.is_intact() {
                "INTACT"
            } else {
                "TAMPERED"
            }
        );
    }
    if report.is_intact() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
