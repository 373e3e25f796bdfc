//! `inkseal`: run the co-signing server, the end-to-end demo, and the benchmarks.

mod admin;
mod bench;
mod bench_decrypt;
mod bench_p256;
mod bench_pdf;
mod bench_seal;
mod bench_verify;
mod demo;
mod envelope_cmd;
mod fonts;
mod login_cmd;
mod pdf_cmd;
mod seal_cmd;
mod serve;
mod tx_cmd;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "inkseal",
    version,
    about = "inkseal: two-party SM2 signing for mobile finance"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the co-signing server (zero configuration: data under the default directory).
    Serve(serve::ServeArgs),
    /// Walk through enrollment, certificate and co-signing against an in-process server.
    Demo(demo::DemoArgs),
    /// Sign a PDF with a local key (an institution's seal, tests, benchmarks).
    Sign(pdf_cmd::SignArgs),
    /// Verify every signature of a PDF (exit 0 valid, 1 invalid, 2 unreadable).
    Verify(pdf_cmd::VerifyArgs),
    /// Transaction signatures: sign with a local key, verify and show what was approved.
    #[command(subcommand)]
    Tx(tx_cmd::TxCommand),
    /// Certificate-login assertions: sign with a local key, verify offline and show who logged in.
    #[command(subcommand)]
    Login(login_cmd::LoginCommand),
    /// Digital envelopes (CMS EnvelopedData): seal to SM2 and P-256 certificates, open with a
    /// local key; optionally signed before sealing.
    #[command(subcommand)]
    Envelope(envelope_cmd::EnvelopeCommand),
    /// The institution's seals on a running server: create, list, show, disable, sign PDFs.
    #[command(subcommand)]
    Seal(seal_cmd::SealCommand),
    /// Operator credentials against a data directory.
    #[command(subcommand)]
    Admin(admin::AdminCommand),
    /// Apply the PostgreSQL schema migrations this build needs (each once, in a transaction).
    Migrate(serve::MigrateArgs),
    /// The audit log: verify the chain against its signed checkpoints.
    #[command(subcommand)]
    Audit(admin::AuditCommand),
    /// Benchmarks.
    #[command(subcommand)]
    Bench(bench::BenchCommand),
}

/// A reader that stops early (`inkseal verify FILE | head`) closes the pipe: the rest of the
/// output has nowhere to go, which is not an error of inkseal's. `println!` panics on it; this
/// hook turns exactly that panic into the quiet exit a shell expects (128 + SIGPIPE) and leaves
/// every other panic to the default hook.
fn exit_quietly_on_a_closed_stdout() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let message = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or("");
        if message.starts_with("failed printing to stdout") && message.contains("Broken pipe") {
            std::process::exit(141);
        }
        default(info);
    }));
}

fn main() -> ExitCode {
    exit_quietly_on_a_closed_stdout();
    // `inkseal serve` logs its start and one access line per request by default; every other
    // command only warnings. RUST_LOG overrides both.
    let serving = std::env::args().nth(1).as_deref() == Some("serve");
    let default_filter = if serving {
        "warn,inkseal_server=info,inkseal::access=info"
    } else {
        "warn"
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default_filter)),
        )
        .with_writer(std::io::stderr)
        // Colours only on a terminal: log files and journald get plain text.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    // The demo's backend calls use reqwest, which takes rustls' process-wide provider (the
    // SDK configures its own connections and installs nothing).
    let _ = rustls::crypto::ring::default_provider().install_default();
    let cli = Cli::parse();
    let command = match cli.command {
        Command::Verify(args) => return pdf_cmd::verify_cmd(args),
        Command::Tx(cmd) => return tx_cmd::run(cmd),
        Command::Login(cmd) => return login_cmd::run(cmd),
        Command::Envelope(cmd) => return envelope_cmd::run(cmd),
        Command::Audit(cmd) => return admin::audit(cmd),
        Command::Migrate(args) => return exit_code(serve::migrate(args)),
        Command::Admin(cmd) => return exit_code(admin::admin(cmd)),
        Command::Seal(cmd) => return exit_code(seal_cmd::run(cmd)),
        Command::Sign(args) => return exit_code(pdf_cmd::sign(args)),
        other => other,
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(2);
        }
    };
    let result = runtime.block_on(async {
        match command {
            Command::Serve(args) => serve::run(args).await,
            Command::Demo(args) => demo::run(args).await,
            Command::Bench(cmd) => bench::run(cmd).await,
            Command::Sign(_)
            | Command::Verify(_)
            | Command::Admin(_)
            | Command::Audit(_)
            | Command::Migrate(_)
            | Command::Seal(_)
            | Command::Tx(_)
            | Command::Login(_)
            | Command::Envelope(_) => Ok(()),
        }
    });
    exit_code(result)
}

/// Success, or the error on standard error and exit status 1.
pub(crate) fn exit_code<E: std::fmt::Display>(result: Result<(), E>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
