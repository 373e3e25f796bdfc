//! `inkseal tx sign|verify`: transaction signatures (attached CMS SignedData over the
//! transaction's canonical DER) with a local key, and their verification.

use crate::pdf_cmd::{LocalKeyArgs, human_time, now, read_limited, read_trust_anchors};
use clap::{Args, Subcommand};
use inkseal_pdf::cms::OidProfile;
use inkseal_pdf::cms::attached::{VerifiedTransaction, sign_transaction_in, verify_transaction};
use inkseal_pdf::cms::transaction::{Party, Transaction};
use serde_json::{Value, json};
use std::path::PathBuf;
use std::process::ExitCode;

/// Largest transaction description (JSON) read.
const MAX_JSON_BYTES: u64 = 64 * 1024;
/// Largest SignedData read for verification (the CMS parser's own limit is larger).
const MAX_SIGNED_BYTES: u64 = 1024 * 1024;

/// `inkseal tx ...`.
#[derive(Subcommand)]
pub enum TxCommand {
    /// Sign a transaction (JSON) with a local key: writes the DER SignedData.
    Sign(TxSignArgs),
    /// Verify a transaction SignedData and print what was approved (exit 0 valid, 1 invalid,
    /// 2 unreadable).
    Verify(TxVerifyArgs),
}

/// `inkseal tx sign`.
#[derive(Args)]
pub struct TxSignArgs {
    /// The transaction: JSON `{"transaction_id", "payer": {"name", "account", "institution"?},
    /// "payee": {...}, "amount_minor", "currency", "created_unix"?, "memo"?}` (created_unix
    /// defaults to now).
    transaction: PathBuf,
    /// Where to write the DER SignedData (written atomically).
    output: PathBuf,
    #[command(flatten)]
    signer: LocalKeyArgs,
    /// Write GB/T 35275's OIDs (signedData 1.2.156.10197.6.1.4.2.2, data …4.2.1, sm2sign) for
    /// GM middleware that insists on them; SM2 keys only. Default: RFC 5652's.
    #[arg(long)]
    gm_oids: bool,
}

/// `inkseal tx verify`.
#[derive(Args)]
pub struct TxVerifyArgs {
    /// The DER SignedData.
    file: PathBuf,
    /// Trust anchor certificates (PEM, every certificate in each file); at least one.
    #[arg(long, required = true)]
    trust: Vec<PathBuf>,
    /// Print JSON instead of a summary.
    #[arg(long)]
    json: bool,
}

/// Run `inkseal tx ...`.
pub fn run(cmd: TxCommand) -> ExitCode {
    match cmd {
        TxCommand::Sign(args) => crate::exit_code(sign(args)),
        TxCommand::Verify(args) => verify(args),
    }
}

fn sign(args: TxSignArgs) -> Result<(), String> {
    let json: Value = serde_json::from_slice(&read_limited(&args.transaction, MAX_JSON_BYTES)?)
        .map_err(|e| format!("{}: {e}", args.transaction.display()))?;
    let transaction = transaction_from_json(&json)?;
    let signer = args.signer.signer()?;
    let profile = if args.gm_oids {
        OidProfile::GbT35275
    } else {
        OidProfile::Rfc5652
    };
    let der =
        sign_transaction_in(profile, &transaction, &signer, now()).map_err(|e| e.to_string())?;
    inkseal_fs::write_atomically(&args.output, &[&der], inkseal_fs::Visibility::Default)
        .map_err(|e| format!("{}: {e}", args.output.display()))?;
    println!(
        "signed transaction {} ({}) to {}",
        transaction.transaction_id(),
        transaction.amount_display(),
        args.output.display()
    );
    Ok(())
}

/// The transaction a JSON description names (every field checked by [`Transaction::new`]).
fn transaction_from_json(v: &Value) -> Result<Transaction, String> {
    let text = |v: &Value, key: &str| -> Result<String, String> {
        v.get(key)
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| format!("transaction JSON: \"{key}\" must be a string"))
    };
    let optional = |v: &Value, key: &str| -> Result<Option<String>, String> {
        match v.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(format!("transaction JSON: \"{key}\" must be a string")),
        }
    };
    let party = |key: &str| -> Result<Party, String> {
        let p = v
            .get(key)
            .ok_or_else(|| format!("transaction JSON: \"{key}\" is missing"))?;
        Party::new(
            text(p, "name")?,
            text(p, "account")?,
            optional(p, "institution")?,
        )
        .map_err(|e| format!("{key}: {e}"))
    };
    let number = |key: &str| -> Result<Option<u64>, String> {
        match v.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(n) => n
                .as_u64()
                .map(Some)
                .ok_or_else(|| format!("transaction JSON: \"{key}\" must be a whole number")),
        }
    };
    Transaction::new(
        text(v, "transaction_id")?,
        party("payer")?,
        party("payee")?,
        number("amount_minor")?
            .ok_or("transaction JSON: \"amount_minor\" is missing (minor units, e.g. fen)")?,
        text(v, "currency")?,
        number("created_unix")?.unwrap_or_else(now),
        optional(v, "memo")?,
    )
    .map_err(|e| e.to_string())
}

fn party_json(p: &Party) -> Value {
    json!({ "name": p.name(), "account": p.account(), "institution": p.institution() })
}

fn verified_json(v: &VerifiedTransaction) -> Value {
    let tx = &v.transaction;
    json!({
        "ok": true,
        "transaction_id": tx.transaction_id(),
        "payer": party_json(tx.payer()),
        "payee": party_json(tx.payee()),
        "amount_minor": tx.amount_minor(),
        "currency": tx.currency(),
        "amount": v.amount_display,
        "created_unix": tx.created_unix(),
        "memo": tx.memo(),
        "signer": v.signer,
        "signing_time_unix": v.signing_time_unix,
        "algorithm": v.algorithm.name(),
        "oids": profile_name(v.profile),
        "chain_length": v.chain.len(),
    })
}

/// The OID profile's name in the output.
fn profile_name(profile: OidProfile) -> &'static str {
    match profile {
        OidProfile::Rfc5652 => "RFC 5652",
        OidProfile::GbT35275 => "GB/T 35275",
    }
}

fn verify(args: TxVerifyArgs) -> ExitCode {
    let input = read_trust_anchors(&args.trust)
        .and_then(|anchors| Ok((anchors, read_limited(&args.file, MAX_SIGNED_BYTES)?)));
    let (anchors, der) = match input {
        Ok(x) => x,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    match verify_transaction(&der, &anchors, Some(now())) {
        Ok(v) => {
            if args.json {
                println!("{}", verified_json(&v));
            } else {
                let tx = &v.transaction;
                let party = |p: &Party| match p.institution() {
                    Some(i) => format!("{} ({}, {i})", p.name(), p.account()),
                    None => format!("{} ({})", p.name(), p.account()),
                };
                println!("valid transaction signature");
                println!("  transaction  {}", tx.transaction_id());
                println!("  amount       {}", v.amount_display);
                println!("  payer        {}", party(tx.payer()));
                println!("  payee        {}", party(tx.payee()));
                println!("  created      {}", human_time(tx.created_unix()));
                if let Some(memo) = tx.memo() {
                    println!("  memo         {memo}");
                }
                println!("  signer       {}", v.signer);
                println!("  signed at    {}", human_time(v.signing_time_unix));
                println!("  algorithm    {}", v.algorithm);
                println!("  OIDs         {}", profile_name(v.profile));
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
