//! `inkseal bench seal`: seal N copies of a two-page e-policy (a seal on page 1 and a paging
//! seal across both pages, certified) through the batch sign-hash
//! service of a server running as a child process, once with a P-256 seal key in a SoftHSM2
//! token (skipped when SoftHSM2 is absent) and once with an SM2 seal key sealed by the file
//! vault. Reports documents per second end to end (prepare here, one sign-hash call per 1000
//! documents, finish here) and the server's share (wall time of the calls, its CPU time).

use crate::bench::{ChildServer, process_cpu};
use clap::Args;
use inkseal_pdf::sign::{PagingSeal, Placement};
use inkseal_sdk::seal::{
    ROUND_SEAL_POINTS, SealClient, SealLook, SealOrder, seal_appearance, seal_digest,
    seal_sign_options,
};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// Options of `inkseal bench seal`.
#[derive(Args, Debug)]
pub struct SealArgs {
    /// Documents to seal per row.
    #[arg(long, default_value_t = 1000)]
    documents: usize,
    /// The PDF to seal (default: the two-page e-policy of tests/data). Documents of two or
    /// more pages also get a paging seal.
    #[arg(long)]
    input: Option<PathBuf>,
    /// The SoftHSM2 PKCS#11 module.
    #[arg(long, default_value = "/usr/lib/softhsm/libsofthsm2.so")]
    softhsm_module: PathBuf,
}

/// What each row seals: `documents` copies of `input` (`pages` pages).
#[derive(Clone, Copy)]
struct Batch<'a> {
    input: &'a [u8],
    pages: usize,
    documents: usize,
}

struct Row {
    name: String,
    documents: usize,
    total: Duration,
    prepare: Duration,
    server_wall: Duration,
    server_cpu: Option<Duration>,
    finish: Duration,
}

/// Run the benchmark (blocking).
pub fn run(args: SealArgs) -> Result<(), String> {
    let input_path = args.input.clone().unwrap_or_else(|| {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/data/e-policy-2p-zh.pdf")
    });
    let input = std::fs::read(&input_path).map_err(|e| format!("{}: {e}", input_path.display()))?;
    let pages = {
        let doc =
            inkseal_pdf::Document::load(&input, &Default::default()).map_err(|e| e.to_string())?;
        inkseal_pdf::pages::pages(&doc)
            .map_err(|e| e.to_string())?
            .len()
    };
    println!(
        "sealing {} copies of {} ({} pages, {} bytes), one sign-hash call per 1000",
        args.documents,
        input_path.display(),
        pages,
        input.len()
    );
    let batch = Batch {
        input: &input,
        pages,
        documents: args.documents,
    };
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let mut rows = Vec::new();
    match softhsm_setup(dir.path(), &args.softhsm_module) {
        Ok((data_args, env)) => rows.push(row(
            "P-256, key in SoftHSM2 (PKCS#11)",
            &dir.path().join("hsm-server"),
            &data_args,
            &env,
            "ecdsa-p256",
            &batch,
        )?),
        Err(why) => println!("P-256 in SoftHSM2: skipped ({why})"),
    }
    rows.push(row(
        "SM2, key sealed by the file vault",
        &dir.path().join("vault-server"),
        &[],
        &[],
        "sm2",
        &batch,
    )?);
    println!(
        "\n{:<36} {:>6} {:>9} {:>9} {:>11} {:>11} {:>9} {:>9}",
        "seal", "docs", "docs/s", "total s", "prepare s", "server s", "srv CPU", "finish s"
    );
    for r in rows {
        println!(
            "{:<36} {:>6} {:>9.1} {:>9.2} {:>11.2} {:>11.2} {:>9} {:>9.2}",
            r.name,
            r.documents,
            r.documents as f64 / r.total.as_secs_f64(),
            r.total.as_secs_f64(),
            r.prepare.as_secs_f64(),
            r.server_wall.as_secs_f64(),
            r.server_cpu
                .map(|c| format!("{:.2}", c.as_secs_f64()))
                .unwrap_or_else(|| "-".into()),
            r.finish.as_secs_f64(),
        );
    }
    println!(
        "(server s: wall time of the sign-hash calls, including audit writes; srv CPU: the \
         server process's CPU time over them; documents are prepared and finished here)"
    );
    Ok(())
}

/// A fresh SoftHSM2 token in `dir`: the `serve`/`admin` arguments and environment for it.
type VaultSetup = (Vec<String>, Vec<(String, String)>);

fn softhsm_setup(dir: &Path, module: &Path) -> Result<VaultSetup, String> {
    if !module.exists() {
        return Err(format!("no module at {}", module.display()));
    }
    let tokens = dir.join("tokens");
    std::fs::create_dir_all(&tokens).map_err(|e| e.to_string())?;
    let conf = dir.join("softhsm2.conf");
    std::fs::write(
        &conf,
        format!(
            "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\n",
            tokens.display()
        ),
    )
    .map_err(|e| e.to_string())?;
    // A throwaway token for the benchmark; its PINs protect nothing.
    let pin = "5678";
    let out = Command::new("softhsm2-util")
        .env("SOFTHSM2_CONF", &conf)
        .args(["--init-token", "--free", "--label", "inkseal-bench"])
        .args(["--so-pin", "87654321", "--pin", pin])
        .output()
        .map_err(|e| format!("softhsm2-util: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "softhsm2-util: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok((
        vec![
            "--pkcs11-module".into(),
            module.display().to_string(),
            "--pkcs11-token".into(),
            "inkseal-bench".into(),
        ],
        vec![
            ("SOFTHSM2_CONF".into(), conf.display().to_string()),
            ("INKSEAL_PKCS11_PIN".into(), pin.into()),
        ],
    ))
}

fn row(
    name: &str,
    data: &Path,
    data_args: &[String],
    env: &[(String, String)],
    algorithm: &str,
    batch: &Batch<'_>,
) -> Result<Row, String> {
    let Batch {
        input,
        pages,
        documents,
    } = *batch;
    let mut server = ChildServer::start_with(data, false, data_args, env, "seal:manage,seal:use")?;
    let client = SealClient::new(&server.url, &server.api_key).map_err(|e| e.to_string())?;
    let seal = client
        .create(&SealOrder {
            institution: "示例保险股份有限公司".into(),
            credit_code: "911100001000044477".into(),
            purpose: "保单专用章".into(),
            algorithm: algorithm.into(),
        })
        .map_err(|e| e.to_string())?;
    let suite = seal.signature_algorithm().map_err(|e| e.to_string())?;
    let chain = seal.chain().map_err(|e| e.to_string())?;
    let font = crate::fonts::seal_font(None)?;
    let appearance = seal_appearance(
        &seal,
        &SealLook::Drawn {
            font: &font,
            number: None,
        },
    )
    .map_err(|e| e.to_string())?;
    let pid = server.child.id();
    let start = Instant::now();
    let now = crate::pdf_cmd::now();
    let prepared = (0..documents)
        .map(|i| {
            let mut options = seal_sign_options(
                &seal,
                now,
                Placement::Rect {
                    page: 1,
                    rect: [420.0, 60.0, 120.0, 120.0],
                },
                Some(inkseal_pdf::sign::Certification::FormFillingAndSigning),
                appearance.clone(),
            );
            if pages >= 2 {
                options.paging_seal = Some(PagingSeal {
                    appearance: appearance.clone(),
                    size: [ROUND_SEAL_POINTS, ROUND_SEAL_POINTS],
                    center_y: None,
                });
            }
            inkseal_pdf::sign::prepare(input, &options, suite, &chain)
                .map_err(|e| format!("document {i}: {e}"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let digests = prepared
        .iter()
        .map(|p| seal_digest(suite, &chain[0], p.to_be_signed()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| e.to_string())?;
    let labels: Vec<String> = (0..documents)
        .map(|i| format!("policy-{i:05}.pdf"))
        .collect();
    let prepare = start.elapsed();
    let cpu_before = process_cpu(pid);
    let call = Instant::now();
    let signatures = client
        .sign_hashes(&seal, &digests, &labels)
        .map_err(|e| e.to_string())?;
    let server_wall = call.elapsed();
    let server_cpu = process_cpu(pid)
        .zip(cpu_before)
        .map(|(a, b)| a.since(b).total());
    let finishing = Instant::now();
    let mut last = Vec::new();
    for (p, s) in prepared.into_iter().zip(&signatures) {
        last = p.finish(s).map_err(|e| e.to_string())?;
    }
    let finish = finishing.elapsed();
    let total = start.elapsed();
    // The last document must verify.
    let pdf = [input, last.as_slice()].concat();
    let report = inkseal_pdf::verify::verify(
        &pdf,
        &inkseal_pdf::verify::VerifyOptions {
            trust_anchors: vec![chain[chain.len() - 1].clone()],
            ..Default::default()
        },
    )
    .map_err(|e| e.to_string())?;
    if !report.all_ok() {
        return Err(format!("{name}: a sealed document does not verify"));
    }
    let shown = report.signatures.first().map_or(0, |s| s.pages.len());
    if pages >= 2 && shown != pages {
        return Err(format!(
            "{name}: the paging seal shows on {shown} of {pages} pages"
        ));
    }
    server.stop()?;
    Ok(Row {
        name: name.into(),
        documents,
        total,
        prepare,
        server_wall,
        server_cpu,
        finish,
    })
}
