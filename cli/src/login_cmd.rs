//! `inkseal login sign|verify`: certificate-login assertions (attached CMS SignedData over a
//! LoginAssertion) with a local key, and their offline verification. Offline, single use
//! cannot be checked: that is the relying party's (or the server's
//! `POST /v1/admin/login/verify`), and `verify` says so.

use crate::pdf_cmd::{LocalKeyArgs, human_time, now, read_limited, read_trust_anchors};
use clap::{Args, Subcommand};
use inkseal_pdf::cms::attached::{
    CrlRevocation, LoginRevocation, VerifiedLogin, sign_login, verify_login,
};
use serde_json::{Value, json};
use std::path::PathBuf;
use std::process::ExitCode;

/// Largest challenge (JSON) read.
const MAX_JSON_BYTES: u64 = 64 * 1024;
/// Largest SignedData or CRL read.
const MAX_FILE_BYTES: u64 = 1024 * 1024;

/// `inkseal login ...`.
#[derive(Subcommand)]
pub enum LoginCommand {
    /// Sign a login assertion over a challenge (the JSON `POST /v1/admin/login/challenges`
    /// answers) with a local key: writes the DER SignedData.
    Sign(LoginSignArgs),
    /// Verify a login assertion offline and print who logged in (exit 0 valid, 1 invalid,
    /// 2 unreadable). Single use is not checked offline.
    Verify(LoginVerifyArgs),
}

/// `inkseal login sign`.
#[derive(Args)]
pub struct LoginSignArgs {
    /// The challenge: JSON `{"challenge_id", "nonce", "relying_party", "issued_at",
    /// "expires_at"}`.
    challenge: PathBuf,
    /// Where to write the DER SignedData (written atomically).
    output: PathBuf,
    #[command(flatten)]
    signer: LocalKeyArgs,
    /// Bind the assertion to this channel (hex, 1 to 64 bytes): the app id's hash, or the TLS
    /// exporter of the session the login goes through.
    #[arg(long)]
    channel: Option<String>,
}

/// `inkseal login verify`.
#[derive(Args)]
pub struct LoginVerifyArgs {
    /// The DER SignedData.
    file: PathBuf,
    /// Trust anchor certificates (PEM, every certificate in each file); at least one.
    #[arg(long, required = true)]
    trust: Vec<PathBuf>,
    /// The relying party the assertion must be for (your own id).
    #[arg(long)]
    relying_party: String,
    /// CRLs (DER) to judge revocation by: the signer's issuer's must be among them and
    /// current. Without any, revocation is reported as not checked.
    #[arg(long)]
    crl: Vec<PathBuf>,
    /// The channel binding this login arrived on (hex): the assertion must carry exactly it.
    #[arg(long)]
    channel: Option<String>,
    /// Print JSON instead of a summary.
    #[arg(long)]
    json: bool,
}

/// The `--channel` argument's bytes.
fn channel_arg(hex_text: Option<&str>) -> Result<Option<Vec<u8>>, String> {
    hex_text
        .map(hex::decode)
        .transpose()
        .map_err(|_| "--channel is not hex".to_string())
}

/// Run `inkseal login ...`.
pub fn run(cmd: LoginCommand) -> ExitCode {
    match cmd {
        LoginCommand::Sign(args) => crate::exit_code(sign(args)),
        LoginCommand::Verify(args) => verify(args),
    }
}

fn sign(args: LoginSignArgs) -> Result<(), String> {
    let challenge: inkseal_cosign::api::LoginChallenge =
        serde_json::from_slice(&read_limited(&args.challenge, MAX_JSON_BYTES)?)
            .map_err(|e| format!("{}: {e}", args.challenge.display()))?;
    let channel = channel_arg(args.channel.as_deref())?;
    let assertion = inkseal_sdk::login::login_assertion(&challenge, channel)
        .map_err(|e| format!("{}: {e}", args.challenge.display()))?;
    let signer = args.signer.signer()?;
    let der = sign_login(&assertion, &signer, now()).map_err(|e| e.to_string())?;
    inkseal_fs::write_atomically(&args.output, &[&der], inkseal_fs::Visibility::Default)
        .map_err(|e| format!("{}: {e}", args.output.display()))?;
    println!(
        "signed login for {} (challenge {}) to {}",
        challenge.relying_party,
        challenge.challenge_id,
        args.output.display()
    );
    Ok(())
}

fn verified_json(v: &VerifiedLogin) -> Value {
    json!({
        "ok": true,
        "subject": v.subject,
        "serial_hex": hex::encode(&v.serial),
        "relying_party": v.relying_party,
        "challenge_id": hex::encode(v.challenge_id),
        "issued_at": v.assertion.issued_unix(),
        "expires_at": v.assertion.expires_unix(),
        "signed_at": v.signed_at_unix,
        "algorithm": v.algorithm.name(),
        "revocation_checked": v.revocation_checked,
        "single_use_checked": false,
    })
}

fn verify(args: LoginVerifyArgs) -> ExitCode {
    let input = read_trust_anchors(&args.trust).and_then(|anchors| {
        let crls = args
            .crl
            .iter()
            .map(|p| read_limited(p, MAX_FILE_BYTES))
            .collect::<Result<Vec<_>, _>>()?;
        Ok((anchors, crls, read_limited(&args.file, MAX_FILE_BYTES)?))
    });
    let (anchors, crls, der) = match input {
        Ok(x) => x,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let at = now();
    let source = CrlRevocation {
        crls: &crls,
        now_unix: at,
    };
    let revocation = if crls.is_empty() {
        LoginRevocation::NotChecked
    } else {
        LoginRevocation::Checked(&source)
    };
    let channel = match channel_arg(args.channel.as_deref()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let verified =
        verify_login(&der, &anchors, revocation, at, &args.relying_party).and_then(|v| {
            match &channel {
                Some(expected) => v.check_channel(expected).map(|()| v),
                None => Ok(v),
            }
        });
    match verified {
        Ok(v) => {
            if args.json {
                println!("{}", verified_json(&v));
            } else {
                println!("valid login assertion");
                println!("  subject      {}", v.subject);
                println!("  serial       {}", hex::encode(&v.serial));
                println!("  for          {}", v.relying_party);
                println!("  challenge    {}", hex::encode(v.challenge_id));
                println!("  expires      {}", human_time(v.assertion.expires_unix()));
                println!("  signed at    {}", human_time(v.signed_at_unix));
                println!("  algorithm    {}", v.algorithm);
                println!(
                    "  revocation   {}",
                    if v.revocation_checked {
                        "checked (CRL)"
                    } else {
                        "not checked (no --crl)"
                    }
                );
                println!(
                    "  single use: not checked (offline; the relying party must consume the challenge)"
                );
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            if args.json {
                println!("{}", json!({ "ok": false, "error": e.to_string() }));
            } else {
                println!("INVALID: {e}");
            }
            ExitCode::FAILURE
        }
    }
}
