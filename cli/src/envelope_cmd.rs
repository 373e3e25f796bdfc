//! `inkseal envelope seal|open`: digital envelopes (CMS EnvelopedData) to SM2 and P-256
//! recipient certificates, opened with a local key; optionally signed before sealing
//! (signed-then-enveloped, the customs flow), with the inner signature verified on opening.

use crate::pdf_cmd::{human_time, now, read_limited, read_trust_anchors};
use clap::{Args, Subcommand};
use inkseal_pdf::cms::ID_SIGNED_DATA;
use inkseal_pdf::cms::attached::PreparedAttached;
use inkseal_pdf::cms::enveloped::{
    EnvelopeKey, GM_SIGNED_DATA, MAX_ENVELOPE_BYTES, OidProfile, SealOptions, is_signed_content,
    parse_envelope, seal, signed_content_info, signed_data_of, verify_signed_content,
};
use inkseal_pdf::signer::{LocalSigner, Signer, parse_certificate_chain};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use zeroize::Zeroizing;

/// Largest content sealed (the envelope, with padding and recipients, must stay under the
/// reader's limit).
const MAX_CONTENT_BYTES: u64 = (MAX_ENVELOPE_BYTES - 64 * 1024) as u64;
/// Largest key or certificate file read.
const MAX_PEM_BYTES: u64 = 256 * 1024;

/// `inkseal envelope ...`.
#[derive(Subcommand)]
pub enum EnvelopeCommand {
    /// Seal a file to one or more recipient certificates (SM2: SM4-CBC with SM2 key transport;
    /// P-256: AES-256-CBC with ECDH key agreement; mixed: AES-256-CBC). Writes DER.
    Seal(SealArgs),
    /// Open an envelope with a local private key (exit 0 opened, 1 refused, 2 unreadable).
    Open(OpenArgs),
}

/// `inkseal envelope seal`.
#[derive(Args)]
pub struct SealArgs {
    /// A recipient certificate (PEM or DER; SM2 or P-256); repeat for more recipients.
    #[arg(long = "to", required = true)]
    to: Vec<PathBuf>,
    /// Write the GB/T 35275 content-type OIDs (1.2.156.10197.6.1.4.2.x) instead of RFC 5652's.
    #[arg(long)]
    gm_oids: bool,
    /// Sign the content first with this private key (PEM): the envelope then holds an attached
    /// SignedData (signed-then-enveloped). Needs --sign-cert.
    #[arg(long, requires = "sign_cert")]
    sign_key: Option<PathBuf>,
    /// The signer's certificate (PEM), for --sign-key.
    #[arg(long, requires = "sign_key")]
    sign_cert: Option<PathBuf>,
    /// Intermediate certificates of the signer (PEM), in order.
    #[arg(long, requires = "sign_key")]
    sign_chain: Vec<PathBuf>,
    /// The file to seal.
    input: PathBuf,
    /// Where to write the envelope (DER; written atomically).
    output: PathBuf,
}

/// `inkseal envelope open`.
#[derive(Args)]
pub struct OpenArgs {
    /// The private key (PEM, PKCS#8 or SEC1; SM2 or P-256).
    #[arg(long)]
    key: PathBuf,
    /// The key's certificate (PEM or DER): its recipient entry is used, and the key must be
    /// the certificate's. Without it every recipient of the key's type is tried.
    #[arg(long)]
    cert: Option<PathBuf>,
    /// Trust anchors (PEM) for signed-then-enveloped content: its signature and certificate
    /// path are verified and the signed content is written. Required when the content is
    /// signed, unless --keep-signed.
    #[arg(long)]
    trust: Vec<PathBuf>,
    /// For signed content, write the SignedData (DER ContentInfo) as it is instead of
    /// verifying it.
    #[arg(long)]
    keep_signed: bool,
    /// The envelope (DER or BER).
    input: PathBuf,
    /// Where to write the plaintext (owner-only permissions; written atomically, and not at
    /// all unless everything checked).
    output: PathBuf,
}

/// Run `inkseal envelope ...`.
pub fn run(cmd: EnvelopeCommand) -> ExitCode {
    match cmd {
        EnvelopeCommand::Seal(args) => crate::exit_code(seal_cmd(args)),
        EnvelopeCommand::Open(args) => open_cmd(args),
    }
}

fn read_cert(path: &Path) -> Result<Vec<u8>, String> {
    parse_certificate_chain(&read_limited(path, MAX_PEM_BYTES)?)
        .map_err(|e| format!("{}: {e}", path.display()))?
        .into_iter()
        .next()
        .ok_or_else(|| format!("{}: no certificate", path.display()))
}

fn seal_cmd(args: SealArgs) -> Result<(), String> {
    let recipients = args
        .to
        .iter()
        .map(|p| read_cert(p))
        .collect::<Result<Vec<_>, _>>()?;
    let content = Zeroizing::new(read_limited(&args.input, MAX_CONTENT_BYTES)?);
    let profile = if args.gm_oids {
        OidProfile::GbT35275
    } else {
        OidProfile::Rfc5652
    };
    let mut options = SealOptions::new().with_profile(profile);
    let signed;
    let (content, signed_by): (&[u8], Option<String>) = match (&args.sign_key, &args.sign_cert) {
        (Some(key), Some(cert)) => {
            let signer = LocalSigner::from_pem_files(key, cert, &args.sign_chain)
                .map_err(|e| e.to_string())?;
            let prepared = PreparedAttached::new(
                content.to_vec(),
                signer.algorithm(),
                signer.certificate_chain(),
                now(),
            )
            .map_err(|e| e.to_string())?;
            let signature = signer
                .sign(prepared.to_be_signed())
                .map_err(|e| e.to_string())?;
            let content_info = prepared.finish(&signature).map_err(|e| e.to_string())?;
            signed = signed_data_of(&content_info).map_err(|e| e.to_string())?;
            options = options.with_content_type(match profile {
                OidProfile::Rfc5652 => ID_SIGNED_DATA,
                OidProfile::GbT35275 => GM_SIGNED_DATA,
            });
            (&signed, signer.common_name())
        }
        _ => (&content, None),
    };
    let der = seal(
        content,
        &recipients,
        &options,
        &mut rand_core::UnwrapErr(getrandom::SysRng),
    )
    .map_err(|e| e.to_string())?;
    inkseal_fs::write_atomically(&args.output, &[&der], inkseal_fs::Visibility::Default)
        .map_err(|e| format!("{}: {e}", args.output.display()))?;
    match signed_by {
        Some(cn) => println!(
            "sealed {} (signed by {cn}) to {} recipient(s): {}",
            args.input.display(),
            recipients.len(),
            args.output.display()
        ),
        None => println!(
            "sealed {} to {} recipient(s): {}",
            args.input.display(),
            recipients.len(),
            args.output.display()
        ),
    }
    Ok(())
}

fn open_cmd(args: OpenArgs) -> ExitCode {
    let input = (|| -> Result<_, String> {
        let cert = args.cert.as_deref().map(read_cert).transpose()?;
        let key_pem = Zeroizing::new(read_limited(&args.key, MAX_PEM_BYTES)?);
        let key_pem = std::str::from_utf8(&key_pem)
            .map_err(|_| format!("{}: not PEM text", args.key.display()))?;
        let key = EnvelopeKey::from_pem(key_pem, cert.as_deref())
            .map_err(|e| format!("{}: {e}", args.key.display()))?;
        let anchors = read_trust_anchors(&args.trust)?;
        let envelope = read_limited(&args.input, MAX_ENVELOPE_BYTES as u64)?;
        let parsed =
            parse_envelope(&envelope).map_err(|e| format!("{}: {e}", args.input.display()))?;
        Ok((cert, key, anchors, parsed))
    })();
    let (cert, key, anchors, parsed) = match input {
        Ok(x) => x,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let opened = match parsed.open_with_key(&key, cert.as_deref()) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut summary = format!("opened ({:?})", opened.cipher());
    let plaintext: Zeroizing<Vec<u8>> = if is_signed_content(&opened.content_type()) {
        if args.keep_signed {
            summary.push_str(", signed content written unverified");
            // The SignedData with its ContentInfo, as `inkseal tx verify` and openssl read it.
            match signed_content_info(opened.content()) {
                Ok(der) => Zeroizing::new(der),
                Err(e) => {
                    eprintln!("error: {e}");
                    return ExitCode::FAILURE;
                }
            }
        } else if anchors.is_empty() {
            eprintln!(
                "error: the content is signed: give --trust to verify it (or --keep-signed to \
                 write the SignedData unverified)"
            );
            return ExitCode::from(2);
        } else {
            match verify_signed_content(opened.content(), &anchors, Some(now())) {
                Ok(v) => {
                    summary.push_str(&format!(
                        ", valid signature by {} at {} ({})",
                        v.signer,
                        human_time(v.signing_time_unix),
                        v.algorithm
                    ));
                    v.content
                }
                Err(e) => {
                    println!("INVALID signed content: {e}");
                    return ExitCode::FAILURE;
                }
            }
        }
    } else {
        opened.into_content()
    };
    if let Err(e) =
        inkseal_fs::write_atomically(&args.output, &[&plaintext], inkseal_fs::Visibility::Private)
    {
        eprintln!("error: {}: {e}", args.output.display());
        return ExitCode::from(2);
    }
    println!(
        "{summary}: {} bytes to {}",
        plaintext.len(),
        args.output.display()
    );
    ExitCode::SUCCESS
}
