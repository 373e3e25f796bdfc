//! `inkseal seal ...`: the institution's seals on a running server, through its sealing
//! service (an operator API key with `seal:manage` to create and disable, `seal:use` to list,
//! show and sign). `sign` prepares every PDF here, sends only the digests of their signed
//! attributes in one sign-hash call per 1000 documents, and writes each sealed PDF to the
//! output directory; the PDFs never reach the server.
//!
//! `create --encryption` makes the institution's encryption key instead of a seal, and
//! `open-envelope` has the server open an envelope sent to its certificate (role
//! `envelope:open`; with a PKCS#11 vault a P-256 key computes the ECDH inside the token). The
//! plaintext is written owner-only and atomically, and not at all when the server refuses.

use clap::{Args, Subcommand};
use inkseal_pdf::sign::{Certification, PagingSeal, Placement};
use inkseal_sdk::seal::{
    ROUND_SEAL_POINTS, SealClient, SealDescription, SealLook, SealOrder, seal_appearance,
    seal_sign_options,
};
use std::path::PathBuf;

/// `inkseal seal`.
#[derive(Subcommand, Debug)]
pub enum SealCommand {
    /// Create a seal: key (in the server's PKCS#11 token for P-256 when it has one, else
    /// sealed by its vault) and organisation certificate (role seal:manage).
    Create(CreateArgs),
    /// List the seals (role seal:use).
    List(ServerArgs),
    /// Show one seal with its certificate chain as PEM (role seal:use).
    Show(ShowArgs),
    /// Disable a seal: it signs nothing more (role seal:manage).
    Disable(ShowArgs),
    /// Seal PDFs: prepare each here, sign all digests in one batch call, write them to
    /// --out-dir (role seal:use).
    Sign(SignArgs),
    /// Open a digital envelope with one of the institution's encryption keys on the server
    /// (role envelope:open).
    OpenEnvelope(OpenEnvelopeArgs),
}

/// `inkseal seal open-envelope`.
#[derive(Args, Debug)]
pub struct OpenEnvelopeArgs {
    #[command(flatten)]
    server: ServerArgs,
    /// The encryption key's id (`s-...`, made with `seal create --encryption`).
    #[arg(long)]
    seal: String,
    /// The envelope (CMS EnvelopedData, DER or BER).
    #[arg(long = "in")]
    input: PathBuf,
    /// Where to write the plaintext (owner-only permissions; written atomically).
    #[arg(long)]
    out: PathBuf,
    /// What it is, for the server's audit log; default the input's file name.
    #[arg(long)]
    document: Option<String>,
}

/// Where the server is and how to authenticate.
#[derive(Args, Debug)]
pub struct ServerArgs {
    /// The server's base URL (e.g. https://sign.example.com).
    #[arg(long)]
    server: String,
    /// A file holding the operator API key (`op-<id>.<secret>`); else $INKSEAL_API_KEY.
    #[arg(long)]
    api_key_file: Option<PathBuf>,
}

impl ServerArgs {
    fn client(&self) -> Result<SealClient, String> {
        let key = match &self.api_key_file {
            Some(path) => zeroize::Zeroizing::new(
                std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?,
            ),
            None => zeroize::Zeroizing::new(
                std::env::var("INKSEAL_API_KEY")
                    .map_err(|_| "give --api-key-file or set INKSEAL_API_KEY".to_string())?,
            ),
        };
        SealClient::new(&self.server, key.trim()).map_err(|e| e.to_string())
    }
}

/// `inkseal seal create`.
#[derive(Args, Debug)]
pub struct CreateArgs {
    #[command(flatten)]
    server: ServerArgs,
    /// The institution's registered name (certificate O).
    #[arg(long)]
    institution: String,
    /// Its unified social credit code (统一社会信用代码, 18 characters).
    #[arg(long)]
    credit_code: String,
    /// The seal's purpose (certificate CN), e.g. 合同专用章.
    #[arg(long)]
    purpose: String,
    /// ecdsa-p256 or sm2.
    #[arg(long, default_value = "sm2")]
    algorithm: String,
    /// Make the institution's encryption key (opens envelopes, signs nothing; certificate
    /// keyUsage keyAgreement for P-256, keyEncipherment for SM2) instead of a seal.
    #[arg(long)]
    encryption: bool,
}

/// `inkseal seal show` / `disable`.
#[derive(Args, Debug)]
pub struct ShowArgs {
    #[command(flatten)]
    server: ServerArgs,
    /// The seal id (`s-...`).
    seal_id: String,
}

/// `inkseal seal sign`.
#[derive(Args, Debug)]
pub struct SignArgs {
    #[command(flatten)]
    server: ServerArgs,
    /// The seal id.
    #[arg(long)]
    seal: String,
    /// A PDF to seal (repeatable).
    #[arg(long = "in", required = true)]
    inputs: Vec<PathBuf>,
    /// Where the sealed PDFs go (same file names); created if missing.
    #[arg(long)]
    out_dir: PathBuf,
    /// Certify (DocMDP): 1 no changes, 2 form filling and signing, 3 also annotations.
    #[arg(long, value_parser = clap::value_parser!(u8).range(1..=3))]
    certify: Option<u8>,
    /// Page of the visible seal (1-based); with --rect.
    #[arg(long, requires = "rect")]
    page: Option<u32>,
    /// The seal's rectangle x,y,w,h in points from the bottom-left; invisible without it.
    #[arg(long, requires = "page", conflicts_with = "keyword")]
    rect: Option<String>,
    /// Put the seal (42 mm) right after this text, e.g. 贷款人（盖章）：
    #[arg(long)]
    keyword: Option<String>,
    /// Also stamp a paging seal (骑缝章): a slice of the seal on the right edge of every page.
    #[arg(long)]
    paging: bool,
    /// Draw the seal's text from this font (TrueType/OpenType with Chinese glyphs); default
    /// $INKSEAL_SEAL_FONT or Debian's fonts-wqy-microhei.
    #[arg(long, conflicts_with = "seal_image")]
    seal_font: Option<PathBuf>,
    /// Show the institution's registered seal image (PNG with transparency) instead of a
    /// drawn seal.
    #[arg(long)]
    seal_image: Option<PathBuf>,
    /// The seal number printed along the drawn seal's lower arc.
    #[arg(long, conflicts_with = "seal_image")]
    seal_number: Option<String>,
}

fn print(seal: &SealDescription) {
    println!(
        "{}  {}  {}  {}  {}  {}  {}{}",
        seal.seal_id,
        seal.key_purpose.as_str(),
        seal.algorithm,
        seal.key_storage,
        seal.credit_code,
        seal.institution,
        seal.purpose,
        if seal.disabled_ms.is_some() {
            "  DISABLED"
        } else {
            ""
        }
    );
}

/// Run `inkseal seal ...` (blocking; outside any async runtime).
pub fn run(cmd: SealCommand) -> Result<(), String> {
    match cmd {
        SealCommand::Create(a) => {
            let client = a.server.client()?;
            let order = SealOrder {
                institution: a.institution,
                credit_code: a.credit_code,
                purpose: a.purpose,
                algorithm: a.algorithm,
            };
            let seal = if a.encryption {
                client.create_encryption_key(&order)
            } else {
                client.create(&order)
            }
            .map_err(|e| e.to_string())?;
            print(&seal);
            Ok(())
        }
        SealCommand::List(a) => {
            for seal in a.client()?.list().map_err(|e| e.to_string())? {
                print(&seal);
            }
            Ok(())
        }
        SealCommand::Show(a) => {
            let seal = a
                .server
                .client()?
                .get(&a.seal_id)
                .map_err(|e| e.to_string())?;
            print(&seal);
            for der in seal.chain().map_err(|e| e.to_string())? {
                print!("{}", inkseal_pki::der_to_pem("CERTIFICATE", &der));
            }
            Ok(())
        }
        SealCommand::Disable(a) => {
            let seal = a
                .server
                .client()?
                .disable(&a.seal_id)
                .map_err(|e| e.to_string())?;
            print(&seal);
            Ok(())
        }
        SealCommand::Sign(a) => sign(a),
        SealCommand::OpenEnvelope(a) => open_envelope(a),
    }
}

fn open_envelope(a: OpenEnvelopeArgs) -> Result<(), String> {
    let envelope = crate::pdf_cmd::read_limited(
        &a.input,
        inkseal_server::service::institution_envelopes::MAX_OPEN_ENVELOPE_BYTES as u64,
    )?;
    let document = match a.document {
        Some(d) => d,
        None => a
            .input
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "envelope".into()),
    };
    let opened = a
        .server
        .client()?
        .open_envelope(&a.seal, &envelope, &document)
        .map_err(|e| e.to_string())?;
    inkseal_fs::write_atomically(&a.out, &[&opened.content], inkseal_fs::Visibility::Private)
        .map_err(|e| format!("{}: {e}", a.out.display()))?;
    eprintln!(
        "opened {} bytes ({}, content type {}) into {}",
        opened.content.len(),
        opened.cipher,
        opened.content_type,
        a.out.display()
    );
    Ok(())
}

fn certification(level: Option<u8>) -> Option<Certification> {
    match level? {
        1 => Some(Certification::NoChanges),
        2 => Some(Certification::FormFillingAndSigning),
        _ => Some(Certification::Annotations),
    }
}

fn sign(a: SignArgs) -> Result<(), String> {
    let client = a.server.client()?;
    let seal = client.get(&a.seal).map_err(|e| e.to_string())?;
    let placement = match (a.page, &a.rect, &a.keyword) {
        (Some(page), Some(rect), _) => Placement::Rect {
            page,
            rect: crate::pdf_cmd::parse_rect(rect)?,
        },
        (page, None, Some(text)) => Placement::Keyword {
            text: text.clone(),
            page,
            size: [ROUND_SEAL_POINTS, ROUND_SEAL_POINTS],
        },
        _ => Placement::Invisible,
    };
    let appearance = match &a.seal_image {
        Some(path) => seal_appearance(
            &seal,
            &SealLook::Image(std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?),
        ),
        None => {
            let font = crate::fonts::seal_font(a.seal_font.as_deref())?;
            seal_appearance(
                &seal,
                &SealLook::Drawn {
                    font: &font,
                    number: a.seal_number.clone(),
                },
            )
        }
    }
    .map_err(|e| e.to_string())?;
    std::fs::create_dir_all(&a.out_dir).map_err(|e| format!("{}: {e}", a.out_dir.display()))?;
    let algorithm = seal.signature_algorithm().map_err(|e| e.to_string())?;
    let chain = seal.chain().map_err(|e| e.to_string())?;
    let time = crate::pdf_cmd::now();
    let mut inputs = Vec::with_capacity(a.inputs.len());
    let mut prepared = Vec::with_capacity(a.inputs.len());
    let mut labels = Vec::with_capacity(a.inputs.len());
    let mut outputs = Vec::with_capacity(a.inputs.len());
    for path in &a.inputs {
        let name = path
            .file_name()
            .ok_or_else(|| format!("{} names no file", path.display()))?;
        let out = a.out_dir.join(name);
        if outputs.contains(&out) {
            return Err(format!("two inputs are named {}", name.to_string_lossy()));
        }
        let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let mut options = seal_sign_options(
            &seal,
            time,
            placement.clone(),
            certification(a.certify),
            appearance.clone(),
        );
        if a.paging {
            options.paging_seal = Some(PagingSeal {
                appearance: appearance.clone(),
                size: [ROUND_SEAL_POINTS, ROUND_SEAL_POINTS],
                center_y: None,
            });
        }
        prepared.push(
            inkseal_pdf::sign::prepare(&bytes, &options, algorithm, &chain)
                .map_err(|e| format!("{}: {e}", path.display()))?,
        );
        labels.push(name.to_string_lossy().into_owned());
        inputs.push(bytes);
        outputs.push(out);
    }
    let tails = client
        .seal_prepared(&seal, prepared, &labels)
        .map_err(|e| e.to_string())?;
    for ((input, tail), out) in inputs.iter().zip(&tails).zip(&outputs) {
        inkseal_pdf::sign::write_atomically(out, &[input, tail]).map_err(|e| e.to_string())?;
    }
    println!(
        "sealed {} document(s) with {} ({}) into {}",
        outputs.len(),
        seal.seal_id,
        seal.purpose,
        a.out_dir.display()
    );
    Ok(())
}
