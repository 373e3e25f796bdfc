//! `inkseal demo`: the whole product against a server started in this process, the way a
//! loan officer's tablet and the bank's backend run it (the demo plays both, and says so).
//!
//! Two flows share the set-up (server, tablet, operator credential, seal font) and the end
//! (the anchored audit log):
//! - `--flow contract` (default, [`contract`]): every line of the Chinese loan contract:
//!   the date, the borrower and the loan officer co-signing with handwriting on one tablet, the
//!   lender's contract seal with the paging seal through the sealing service, B-LTA.
//! - `--flow policy` ([`policy`]): the insurer certifies an e-policy with its P-256 seal
//!   (DocMDP, a field left for the policy-holder), who co-signs it after a liveness check.

mod backend;
mod contract;
mod party;
mod policy;

use backend::Backend;
use clap::{Args, ValueEnum};
use inkseal_ink::record::encrypt::{InstitutionSecret, Scheme};
use inkseal_pdf::seal::OutlineFont;
use inkseal_pdf::verify::{VerificationReport, VerifyOptions, verify};
use inkseal_sdk::{ClientConfig, CosignClient, FileDeviceKeyStore, FileShareStore};
use inkseal_server::audit::Caller;
use inkseal_server::service::{CredentialSecret, Role};
use inkseal_server::{RunningServer, ServerConfig};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Which document the demo signs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum Flow {
    /// The loan contract: borrower, loan officer, the lender's seal and paging seal, the date.
    #[default]
    Contract,
    /// The e-policy: certified by the insurer's seal, co-signed by the policy-holder.
    Policy,
}

/// Options of `inkseal demo`.
#[derive(Args, Debug)]
pub struct DemoArgs {
    /// Keep the server data, device shares, signed PDFs, page images and evidence here
    /// (default: a temporary folder, removed at the end).
    #[arg(long)]
    dir: Option<PathBuf>,
    /// Which document to sign.
    #[arg(long, value_enum, default_value_t = Flow::Contract)]
    flow: Flow,
    /// The font seal text, the date and the signature labels are drawn from (default:
    /// $INKSEAL_SEAL_FONT or Debian's fonts-wqy-microhei).
    #[arg(long)]
    seal_font: Option<PathBuf>,
    /// The contract's borrower enrolls a two-party P-256 key (ECDSA with SHA-256, DKLs23; the
    /// server runs with --enable-unaudited-p256-cosign) instead of SM2: a signature Adobe
    /// Reader and verifiers outside China can check.
    #[arg(long)]
    p256: bool,
}

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// What every flow works with.
struct Demo {
    dir: PathBuf,
    server: RunningServer,
    /// The tablet's client (several people may enroll keys on it).
    client: CosignClient,
    /// The bank's backend (operator API key).
    backend: Backend,
    /// The operator credential's id.
    operator: String,
    /// The server CA's roots (SM2, P-256).
    roots: Vec<Vec<u8>>,
    /// The bank's key handwriting records are sealed to.
    bank: InstitutionSecret,
    /// The font seal text and the date are drawn from.
    font: OutlineFont,
    /// The borrower's key is two-party P-256 (`--p256`).
    p256: bool,
}

impl Demo {
    /// The backend's last step: make `signed` B-LTA under all the server's roots (DSS and a
    /// document time-stamp with `algorithm`), write it to `dir/name` atomically, and verify it
    /// now under those roots; an error unless every signature is valid and trusted.
    async fn archive_and_verify(
        &self,
        signed: &[u8],
        algorithm: inkseal_pdf::cms::SignatureAlgorithm,
        name: &str,
    ) -> Result<(PathBuf, VerificationReport), String> {
        let archive = self
            .client
            .add_long_term_validation_under(
                &self.roots,
                signed,
                inkseal_sdk::LongTermLevel::Archive,
                algorithm,
            )
            .await
            .map_err(err)?;
        let whole = [signed, &archive].concat();
        let path = self.dir.join(name);
        inkseal_fs::write_atomically(&path, &[whole.as_slice()], inkseal_fs::Visibility::Default)
            .map_err(err)?;
        let report = verify(
            &whole,
            &VerifyOptions {
                trust_anchors: self.roots.clone(),
                at_unix: Some(now_secs()),
                ..Default::default()
            },
        )
        .map_err(err)?;
        if !report.all_ok() {
            return Err(format!("{name} does not verify: {report:#?}"));
        }
        Ok((path, report))
    }
}

/// Render page `page` of `pdf` to `png` with poppler's `pdftoppm` when it is installed (the
/// picture is for people; the demo does not need it).
fn render_page_png(pdf: &Path, page: u32, png: &Path) {
    let prefix = png.with_extension("");
    let rendered = std::process::Command::new("pdftoppm")
        .args([
            "-f",
            &page.to_string(),
            "-l",
            &page.to_string(),
            "-r",
            "100",
            "-png",
            "-singlefile",
        ])
        .arg(pdf)
        .arg(&prefix)
        .output();
    match rendered {
        Ok(out) if out.status.success() => {
            println!("    page {page} rendered by poppler: {}", png.display())
        }
        _ => println!(
            "    (install poppler-utils to get a picture of page {page}: pdftoppm was not found)"
        ),
    }
}

pub async fn run(args: DemoArgs) -> Result<(), String> {
    let temp = tempfile::tempdir().map_err(err)?;
    let dir = args.dir.unwrap_or_else(|| temp.path().to_owned());
    std::fs::create_dir_all(&dir).map_err(err)?;
    let font = crate::fonts::seal_font(args.seal_font.as_deref())?;
    let mut config = ServerConfig::new(dir.join("server"));
    config.listen = ([127, 0, 0, 1], 0).into();
    config.policy.signing.require_liveness = true;
    // No liveness vendor account here: the deterministic test vendor judges the sample
    // captures. It is insecure (anyone can forge its verdict) and only ever on by a flag.
    config.insecure.test_liveness_vendor = true;
    config.policy.p256_cosign = args.p256;
    let server = inkseal_server::start(config).await.map_err(err)?;
    println!(
        "1. co-signing server at {} (data in {}); policy: co-sign only with a passed liveness check \
         younger than 10 minutes that bound the very document signed",
        server.url(),
        dir.join("server").display()
    );
    println!(
        "   INSECURE for the demo only: the deterministic test liveness vendor stands in for a real one"
    );

    let device = dir.join("device");
    let store = Arc::new(FileShareStore::new(&device).map_err(err)?);
    let device_keys = Arc::new(FileDeviceKeyStore::new(&device).map_err(err)?);
    let client =
        CosignClient::new(ClientConfig::new(server.url()), store, device_keys).map_err(err)?;

    // The demo also plays the bank's backend: an operator credential (API key, roles), made
    // the way `inkseal admin credential create` makes one.
    let created = server
        .service()
        .operators()
        .create(
            "demo bank backend",
            &[
                Role::Enroll,
                Role::EvidenceRead,
                Role::AuditRead,
                Role::KeysRead,
                Role::PolicyWrite,
                Role::SealManage,
                Role::SealUse,
            ],
            CredentialSecret::ApiKey,
            &Caller::system(),
        )
        .map_err(err)?;
    let backend = Backend {
        http: reqwest::Client::new(),
        base: server.url(),
        api_key: created.api_key.clone().ok_or("no API key was made")?,
    };
    let roots = server
        .service()
        .root_certificates()
        .into_iter()
        .map(<[u8]>::to_vec)
        .collect();
    let demo = Demo {
        dir,
        client,
        backend,
        operator: created.credential.credential_id.clone(),
        roots,
        bank: InstitutionSecret::generate(Scheme::Sm2).map_err(err)?,
        font,
        server,
        p256: args.p256,
    };
    let step = match args.flow {
        Flow::Contract => {
            contract::run(&demo).await?;
            13
        }
        Flow::Policy => {
            policy::run(&demo).await?;
            7
        }
    };
    audit_log(&demo, step).await?;
    demo.server.shutdown().await.map_err(err)?;
    println!("done.");
    Ok(())
}

/// The backend finds the signing bound to `evidence_head` and exports its evidence: the
/// package as time-stamped by the server's TSA, the token, the roots, the PDF report.
async fn export_evidence(demo: &Demo, key: &str, evidence_head: [u8; 32]) -> Result<(), String> {
    let backend = &demo.backend;
    // The backend finds the signing and exports its evidence.
    let head_hex = hex::encode(evidence_head);
    let signings = backend
        .json(
            reqwest::Method::GET,
            &format!("/v1/admin/keys/{key}/signings"),
            None,
        )
        .await?;
    let idempotency_key = signings
        .as_array()
        .and_then(|list| {
            list.iter()
                .find(|s| s["evidence_head"] == head_hex.as_str())
                .and_then(|s| s["idempotency_key"].as_str())
        })
        .ok_or("the backend does not find the signing")?
        .to_owned();
    let evidence_path = format!("/v1/admin/keys/{key}/signings/{idempotency_key}/evidence");
    // The package exactly as time-stamped by the server's TSA, and the token beside it.
    let sealed = backend
        .json(
            reqwest::Method::GET,
            &format!("{evidence_path}.sealed"),
            None,
        )
        .await?;
    let package_text = sealed["package"]
        .as_str()
        .ok_or("the sealed evidence has no package")?;
    let package: serde_json::Value = serde_json::from_str(package_text).map_err(err)?;
    let token = hex::decode(
        sealed["time_stamp_token_der_hex"]
            .as_str()
            .ok_or("the sealed evidence has no time-stamp")?,
    )
    .map_err(err)?;
    let pdf_report = backend
        .call(reqwest::Method::GET, &format!("{evidence_path}.pdf"), None)
        .await?
        .bytes()
        .await
        .map_err(err)?;
    std::fs::write(demo.dir.join("evidence.json"), package_text).map_err(err)?;
    std::fs::write(demo.dir.join("evidence.json.tsr"), &token).map_err(err)?;
    // Every root of the server's CA (SM2, P-256): the time-stamp chains to the P-256 one.
    let roots = demo.server.service().root_certificates_pem();
    std::fs::write(demo.dir.join("ca-roots.pem"), roots).map_err(err)?;
    std::fs::write(demo.dir.join("evidence-report.pdf"), &pdf_report).map_err(err)?;
    println!(
        "12. the backend exports the evidence of the signing: {} (time-stamped: {}) and {} (document {}…, {} audit entries)",
        demo.dir.join("evidence.json").display(),
        demo.dir.join("evidence.json.tsr").display(),
        demo.dir.join("evidence-report.pdf").display(),
        &package["signing"]["document_digest"]
            .as_str()
            .unwrap_or_default()[..16.min(
            package["signing"]["document_digest"]
                .as_str()
                .unwrap_or_default()
                .len()
        )],
        package["audit"].as_array().map_or(0, Vec::len)
    );

    Ok(())
}

/// The audit log, anchored by checkpoints the vault's audit key signs, verified by the backend.
async fn audit_log(demo: &Demo, step: u32) -> Result<(), String> {
    let backend = &demo.backend;
    let service = demo.server.service().clone();
    tokio::task::spawn_blocking(move || service.audit().checkpoint())
        .await
        .map_err(err)?
        .map_err(err)?;
    let verification = backend
        .json(reqwest::Method::GET, "/v1/admin/audit/verify", None)
        .await?;
    let entries = backend
        .json(reqwest::Method::GET, "/v1/admin/audit", None)
        .await?;
    let entries = entries.as_array().ok_or("no audit entries")?;
    println!(
        "{step}. audit log: {} hash-chained entries anchored by checkpoints the vault's audit key signed; \
         problems: {}",
        entries.len(),
        verification["problems"].as_array().map_or(0, Vec::len)
    );
    if verification["problems"]
        .as_array()
        .is_none_or(|p| !p.is_empty())
    {
        return Err(format!("the audit log does not verify: {verification}"));
    }
    for e in entries {
        println!(
            "    #{:<3} {:<19} {:<38} {}",
            e["seq"],
            e["kind"].as_str().unwrap_or_default(),
            e["actor"].as_str().unwrap_or_default(),
            &e["hash"].as_str().unwrap_or_default()[..16]
        );
    }
    Ok(())
}
