//! `inkseal bench pdf`: whole-process time and peak memory of `inkseal sign` next to pyHanko and
//! `sha256sum`, in one run on the same files.
//!
//! The test PDFs are generated here, deterministically, with plain Rust (no inkseal code): a
//! classic cross-reference table and, per page, a little contract text plus an uncompressed
//! grayscale image of pseudo-random bytes, so the file size is what we ask for. Every tool runs as
//! its own process under `/usr/bin/time -f "%e %M"`; wall time is taken around that process with
//! `Instant` (finer than `%e`'s 10 ms), peak RSS is `%M` (the child's `ru_maxrss`).

use clap::Args;
use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

pub(crate) const MIB: f64 = 1_048_576.0;
pub(crate) const TIME: &str = "/usr/bin/time";
/// Reference numbers measured earlier with pyHanko 0.38 (used when pyhanko is not installed).
const REF_PYHANKO_CONTRACT_S: f64 = 0.84;
const REF_PYHANKO_100_S: f64 = 1.17;
const REF_PYHANKO_100_MIB: f64 = 160.0;
/// Goals of the issue.
const GOAL_CONTRACT_SPEEDUP: f64 = 10.0;
const GOAL_LARGE_SPEEDUP: f64 = 3.0;
const GOAL_LARGE_MEMORY_RATIO: f64 = 1.2;
pub(crate) const CONTRACT_MIB: f64 = 2.0;
pub(crate) const CONTRACT_PAGES: usize = 20;
/// Image width in pixels (one byte each); heights are chosen to reach the target size.
const IMAGE_WIDTH: usize = 512;

/// Options of `inkseal bench pdf`.
#[derive(Args, Debug)]
pub struct PdfArgs {
    /// Sizes of the large test PDFs in MiB, comma-separated (the 2 MiB, 20-page contract is
    /// always measured as well).
    #[arg(long, value_delimiter = ',', default_value = "1,10,100")]
    sizes: Vec<f64>,
    /// Runs per tool and file; the median wall time is reported.
    #[arg(long, default_value_t = 3)]
    runs: usize,
    /// Keep the test PDFs, key, certificate and signed outputs in this directory.
    #[arg(long)]
    keep: Option<PathBuf>,
    /// PAdES B-T: start an inkseal server on loopback in this process and have both tools get
    /// a signature time-stamp from its TSA (`inkseal sign --timestamp`, `pyhanko addsig
    /// --timestamp-url`).
    #[arg(long)]
    time_stamped: bool,
    /// PAdES B-LTA with validation data (implies --time-stamped): the signer's certificate
    /// from a CA made here whose OCSP responder (`openssl ocsp`, on loopback) it names; both
    /// tools gather OCSP responses for the signer and the TSA into a DSS and add a document
    /// time-stamp (`inkseal sign --level B-LTA`, `pyhanko addsig --use-pades-lta
    /// --with-validation-info`).
    #[arg(long)]
    long_term: bool,
}

/// One generated test PDF.
struct TestFile {
    label: String,
    path: PathBuf,
    bytes: u64,
    /// The 2 MiB contract (goal 1) or, for the large files, the requested size in MiB.
    contract: bool,
    size_mib: f64,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Tool {
    Inkseal,
    InksealVisible,
    PyHanko,
    Sha256sum,
}

impl Tool {
    fn name(self) -> &'static str {
        match self {
            Tool::Inkseal => "inkseal sign",
            Tool::InksealVisible => "inkseal sign --rect",
            Tool::PyHanko => "pyhanko addsig",
            Tool::Sha256sum => "sha256sum",
        }
    }
}

#[derive(Clone, Copy, Debug)]
pub(crate) struct Sample {
    wall_s: f64,
    /// `%e` of /usr/bin/time (10 ms resolution), kept as a cross-check.
    time_e_s: f64,
    max_rss_kib: u64,
}

/// Median wall time, min, max, and the largest peak RSS over the runs.
pub(crate) struct Summary {
    pub(crate) median_s: f64,
    pub(crate) min_s: f64,
    pub(crate) max_s: f64,
    pub(crate) median_e_s: f64,
    pub(crate) peak_mib: f64,
}

pub(crate) fn summarize(samples: &[Sample]) -> Option<Summary> {
    if samples.is_empty() {
        return None;
    }
    let median = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        let n = v.len();
        if n % 2 == 1 {
            v[n / 2]
        } else {
            (v[n / 2 - 1] + v[n / 2]) / 2.0
        }
    };
    let walls: Vec<f64> = samples.iter().map(|s| s.wall_s).collect();
    Some(Summary {
        median_s: median(walls.clone()),
        min_s: walls.iter().copied().fold(f64::INFINITY, f64::min),
        max_s: walls.iter().copied().fold(0.0, f64::max),
        median_e_s: median(samples.iter().map(|s| s.time_e_s).collect()),
        peak_mib: samples.iter().map(|s| s.max_rss_kib).max().unwrap_or(0) as f64 / 1024.0,
    })
}

/// Entry point of `inkseal bench pdf`.
pub fn run(args: PdfArgs) -> Result<(), String> {
    if args.runs == 0 {
        return Err("--runs must be at least 1".into());
    }
    if let Some(bad) = args.sizes.iter().find(|s| !(s.is_finite() && **s > 0.0)) {
        return Err(format!("--sizes: {bad} is not a positive size in MiB"));
    }
    if !Path::new(TIME).exists() {
        return Err(format!(
            "{TIME} not found: install the Debian package `time` (scripts/bench-pdf.sh does)"
        ));
    }
    if cfg!(debug_assertions) {
        eprintln!(
            "warning: this is a debug build of inkseal; run scripts/bench-pdf.sh for numbers"
        );
    }
    let inkseal = std::env::current_exe().map_err(|e| format!("current_exe: {e}"))?;
    let pyhanko = find_pyhanko();

    // Working directory: kept (--keep) or temporary.
    let (dir, _temp) = work_dir(args.keep.as_deref(), "inkseal-bench-pdf-")?;

    // --- Setup: key, certificate, test files (each checked once with qpdf). ---
    let key = dir.join("key.pem");
    let cert = dir.join("cert.pem");
    let time_stamped = args.time_stamped || args.long_term;
    // B-LTA: a CA and its OCSP responder; the signer's certificate names the responder.
    let responder = if args.long_term {
        Some(start_ocsp_responder(&dir, &key, &cert)?)
    } else {
        make_key_and_cert(&key, &cert)?;
        None
    };
    let mut files = Vec::new();
    let mut plan = vec![(true, CONTRACT_MIB)];
    plan.extend(args.sizes.iter().map(|s| (false, *s)));
    for (i, (contract, mib)) in plan.into_iter().enumerate() {
        let pages = if contract {
            CONTRACT_PAGES
        } else {
            pages_for(mib)
        };
        let name = if contract {
            "contract-2MiB.pdf".to_string()
        } else {
            format!("bench-{}MiB.pdf", fmt_mib(mib))
        };
        let path = dir.join(&name);
        let target = (mib * MIB).round() as u64;
        let seed = 0x1a2b_3c4d_5e6f_7788 ^ (i as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ target;
        let t = Instant::now();
        let bytes = write_pdf(&path, pages, target, seed)
            .map_err(|e| format!("writing {}: {e}", path.display()))?;
        qpdf_check(&path)?;
        eprintln!(
            "generated {} ({} pages, {} bytes = {:.2} MiB) in {:.2} s, qpdf --check ok",
            path.display(),
            pages,
            bytes,
            bytes as f64 / MIB,
            t.elapsed().as_secs_f64()
        );
        let label = if contract {
            format!("{:.1} MiB contract, {pages} p", bytes as f64 / MIB)
        } else {
            format!("{:.1} MiB, {pages} p", bytes as f64 / MIB)
        };
        files.push(TestFile {
            label,
            path,
            bytes,
            contract,
            size_mib: mib,
        });
    }

    // --- The time-stamping authority (B-T): a server on loopback, kept for the whole run. ---
    let tsa = if time_stamped {
        Some(start_tsa(&dir)?)
    } else {
        None
    };
    let tsa_url = tsa.as_ref().map(|t| t.url.clone());

    let mut tools = vec![Tool::Inkseal, Tool::InksealVisible];
    match &pyhanko {
        Some(_) => tools.push(Tool::PyHanko),
        None => eprintln!("pyhanko not found on PATH: pyHanko is not measured"),
    }
    tools.push(Tool::Sha256sum);

    // --- Measurements: runs interleaved across tools, so drifts hit every tool alike. ---
    let mut results: Vec<Vec<Vec<Sample>>> = vec![vec![Vec::new(); tools.len()]; files.len()];
    for (fi, file) in files.iter().enumerate() {
        eprintln!("measuring {} ({} runs)", file.label, args.runs);
        for run in 0..args.runs {
            for (ti, tool) in tools.iter().enumerate() {
                let out = dir.join(format!(
                    "{}.{}.signed.pdf",
                    file.path
                        .file_stem()
                        .map(|s| s.to_string_lossy().into_owned())
                        .unwrap_or_default(),
                    match tool {
                        Tool::Inkseal => "inkseal",
                        Tool::InksealVisible => "inkseal-visible",
                        Tool::PyHanko => "pyhanko",
                        Tool::Sha256sum => "none",
                    }
                ));
                let (program, cmd_args): (OsString, Vec<OsString>) = match tool {
                    Tool::Inkseal | Tool::InksealVisible => {
                        let mut a: Vec<OsString> = vec![
                            "sign".into(),
                            file.path.clone().into(),
                            out.clone().into(),
                            "--key".into(),
                            key.clone().into(),
                            "--cert".into(),
                            cert.clone().into(),
                        ];
                        if *tool == Tool::InksealVisible {
                            a.extend(
                                ["--page", "1", "--rect", "100,100,200,80"].map(OsString::from),
                            );
                        }
                        if let Some(url) = &tsa_url {
                            a.extend(["--timestamp".into(), url.into()]);
                        }
                        if let (Some(r), Some(t)) = (&responder, &tsa) {
                            a.extend([
                                "--level".into(),
                                "B-LTA".into(),
                                "--trust".into(),
                                r.ca.clone().into(),
                                "--trust".into(),
                                t.roots.clone().into(),
                            ]);
                        }
                        (inkseal.clone().into(), a)
                    }
                    Tool::PyHanko => {
                        let mut a: Vec<OsString> = vec![
                            "sign".into(),
                            "addsig".into(),
                            "--use-pades".into(),
                            "--field".into(),
                            "Sig1".into(),
                        ];
                        if let Some(url) = &tsa_url {
                            a.extend(["--timestamp-url".into(), url.into()]);
                        }
                        if let (Some(r), Some(t)) = (&responder, &tsa) {
                            a.extend([
                                "--use-pades-lta".into(),
                                "--with-validation-info".into(),
                                "--trust-replace".into(),
                                "--trust".into(),
                                r.ca.clone().into(),
                                "--trust".into(),
                                t.roots.clone().into(),
                            ]);
                        }
                        a.extend([
                            "pemder".into(),
                            "--no-pass".into(),
                            "--key".into(),
                            key.clone().into(),
                            "--cert".into(),
                            cert.clone().into(),
                        ]);
                        if let Some(r) = &responder {
                            a.extend(["--chain".into(), r.ca.clone().into()]);
                        }
                        a.extend([file.path.clone().into(), out.clone().into()]);
                        (pyhanko.clone().unwrap_or_default().into(), a)
                    }
                    Tool::Sha256sum => ("sha256sum".into(), vec![file.path.clone().into()]),
                };
                if *tool != Tool::Sha256sum {
                    let _ = std::fs::remove_file(&out);
                }
                // Flush the previous runs' dirty pages (untimed), so that no run pays for the
                // write-back of another one (inkseal fsyncs its output, pyHanko does not).
                sync_filesystems();
                let sample = measure(&program, &cmd_args, &dir)?;
                results[fi][ti].push(sample);
                if run == 0 && matches!(tool, Tool::Inkseal | Tool::InksealVisible) {
                    let anchor = responder.as_ref().map_or(&cert, |r| &r.ca);
                    verify_with_inkseal(
                        &inkseal,
                        &out,
                        anchor,
                        tsa.as_ref().map(|t| t.roots.as_path()),
                    )?;
                    if tsa_url.is_some() {
                        check_time_stamped(&out, responder.is_some())?;
                    }
                }
            }
        }
    }

    if let Some(tsa) = tsa {
        tsa.stop();
    }
    drop(responder);

    // --- Report. ---
    print_report(
        &args,
        &inkseal,
        pyhanko.as_deref(),
        &files,
        &tools,
        &results,
    );
    Ok(())
}

fn print_report(
    args: &PdfArgs,
    inkseal: &Path,
    pyhanko: Option<&Path>,
    files: &[TestFile],
    tools: &[Tool],
    results: &[Vec<Vec<Sample>>],
) {
    let sum = |fi: usize, tool: Tool| -> Option<Summary> {
        let ti = tools.iter().position(|t| *t == tool)?;
        summarize(&results[fi][ti])
    };
    println!();
    println!(
        "PDF signing benchmark: whole process, wall time median of {} run(s) (min..max), \
         peak RSS = largest ru_maxrss over the runs",
        args.runs
    );
    println!("  inkseal: {}", inkseal.display());
    if args.long_term {
        println!(
            "  PAdES B-LTA: both tools time-stamp at an inkseal server's TSA on loopback, fetch \
             OCSP for the signer (openssl ocsp on loopback) and the TSA (the server), write a \
             DSS and add a document time-stamp"
        );
    } else if args.time_stamped {
        println!(
            "  PAdES B-T: both tools time-stamp at an inkseal server's TSA on loopback \
             (one more HTTP round trip each)"
        );
    }
    match pyhanko {
        Some(p) => println!("  pyHanko: {} ({})", p.display(), pyhanko_version(p)),
        None => println!("  pyHanko: not installed (pyhanko not on PATH): not measured"),
    }
    println!(
        "  files generated in the benchmark, in the page cache; `sync` before every run; \
         key P-256 (openssl); inkseal outputs verified with `inkseal verify --trust`"
    );
    println!(
        "  wall time: around the /usr/bin/time process (about 1 ms more than the tool); \
         %e s: /usr/bin/time's own, 10 ms resolution"
    );
    println!();
    println!(
        "{:<24} {:<20} {:>9} {:>17} {:>9} {:>9} {:>11} {:>10} {:>8}",
        "file",
        "tool",
        "median s",
        "min..max s",
        "%e s",
        "peak MiB",
        "peak/file",
        "pyHanko/x",
        "x/sha256"
    );
    for (fi, f) in files.iter().enumerate() {
        let py = sum(fi, Tool::PyHanko);
        let sha = sum(fi, Tool::Sha256sum);
        let file_mib = f.bytes as f64 / MIB;
        for tool in tools {
            let Some(s) = sum(fi, *tool) else { continue };
            let vs_py = py
                .as_ref()
                .map(|p| format!("{:.1}x", p.median_s / s.median_s))
                .unwrap_or_else(|| "-".into());
            let vs_sha = sha
                .as_ref()
                .map(|h| format!("{:.1}x", s.median_s / h.median_s))
                .unwrap_or_else(|| "-".into());
            println!(
                "{:<24} {:<20} {:>9.3} {:>17} {:>9.2} {:>9.1} {:>11.2} {:>10} {:>8}",
                f.label,
                tool.name(),
                s.median_s,
                format!("{:.3}..{:.3}", s.min_s, s.max_s),
                s.median_e_s,
                s.peak_mib,
                s.peak_mib / file_mib,
                vs_py,
                vs_sha
            );
        }
    }
    println!();
    println!(
        "reference (pyHanko 0.38, measured earlier): {REF_PYHANKO_CONTRACT_S} s for 2 MB; \
         {REF_PYHANKO_100_S} s and {REF_PYHANKO_100_MIB} MiB peak for 100 MB"
    );

    // Goals.
    let verdict = |ok: bool| if ok { "MET" } else { "NOT MET" };
    let pyhanko_or_ref = |fi: usize, reference: f64| -> (f64, &'static str) {
        match sum(fi, Tool::PyHanko) {
            Some(p) => (p.median_s, "pyHanko measured"),
            None => (reference, "pyHanko reference number"),
        }
    };
    if let Some(fi) = files.iter().position(|f| f.contract)
        && let Some(ink) = sum(fi, Tool::Inkseal)
    {
        let (py, src) = pyhanko_or_ref(fi, REF_PYHANKO_CONTRACT_S);
        let speedup = py / ink.median_s;
        println!(
            "goal 1: 2 MB contract, inkseal >= {GOAL_CONTRACT_SPEEDUP}x faster than pyHanko: {} \
             ({:.3} s vs {:.3} s {src} = {:.1}x)",
            verdict(speedup >= GOAL_CONTRACT_SPEEDUP),
            ink.median_s,
            py,
            speedup
        );
    }
    match files
        .iter()
        .position(|f| !f.contract && (f.size_mib - 100.0).abs() < 1e-9)
    {
        Some(fi) => {
            if let Some(ink) = sum(fi, Tool::Inkseal) {
                let (py, src) = pyhanko_or_ref(fi, REF_PYHANKO_100_S);
                let speedup = py / ink.median_s;
                println!(
                    "goal 2: 100 MB, inkseal >= {GOAL_LARGE_SPEEDUP}x faster than pyHanko: {} \
                     ({:.3} s vs {:.3} s {src} = {:.1}x)",
                    verdict(speedup >= GOAL_LARGE_SPEEDUP),
                    ink.median_s,
                    py,
                    speedup
                );
                let file_mib = files[fi].bytes as f64 / MIB;
                let ratio = ink.peak_mib / file_mib;
                println!(
                    "goal 3: 100 MB, inkseal peak memory <= {GOAL_LARGE_MEMORY_RATIO}x file size: {} \
                     ({:.1} MiB peak / {:.1} MiB file = {:.2}x)",
                    verdict(ratio <= GOAL_LARGE_MEMORY_RATIO),
                    ink.peak_mib,
                    file_mib,
                    ratio
                );
            }
        }
        None => println!("goals 2 and 3 (100 MB): not evaluated, 100 is not in --sizes"),
    }
}

/// An inkseal server on loopback (its data in `dir/tsa-server`), with no request-rate
/// limits, on a thread and runtime of its own (the benchmark itself runs inside the CLI's
/// runtime) that live until [`Tsa::stop`].
struct Tsa {
    url: String,
    /// The server's roots (PEM), to trust its time-stamps.
    roots: PathBuf,
    stop: Option<std::sync::mpsc::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Tsa {
    fn stop(mut self) {
        drop(self.stop.take());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn start_tsa(dir: &Path) -> Result<Tsa, String> {
    let data = dir.join("tsa-server");
    let roots = dir.join("tsa-roots.pem");
    let roots_file = roots.clone();
    let (url_tx, url_rx) = std::sync::mpsc::channel::<Result<String, String>>();
    let (stop_tx, stop_rx) = std::sync::mpsc::channel::<()>();
    let thread = std::thread::spawn(move || {
        let runtime = match tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
        {
            Ok(r) => r,
            Err(e) => {
                let _ = url_tx.send(Err(format!("runtime: {e}")));
                return;
            }
        };
        let mut config = inkseal_server::ServerConfig::new(data);
        config.listen = ([127, 0, 0, 1], 0).into();
        config.limits = config.limits.clone().without_rates();
        match runtime.block_on(inkseal_server::start(config)) {
            Ok(server) => {
                let pem = server.service().root_certificates_pem();
                let sent = match std::fs::write(&roots_file, pem) {
                    Ok(()) => Ok(format!("{}/v1/tsa", server.url())),
                    Err(e) => Err(format!("{}: {e}", roots_file.display())),
                };
                let _ = url_tx.send(sent);
                // Serve until the benchmark drops the sender.
                let _ = stop_rx.recv();
                let _ = runtime.block_on(server.shutdown());
            }
            Err(e) => {
                let _ = url_tx.send(Err(format!("starting the time-stamping server: {e}")));
            }
        }
    });
    let url = url_rx
        .recv()
        .map_err(|_| "the time-stamping server thread ended".to_string())??;
    eprintln!("time-stamping authority at {url}");
    Ok(Tsa {
        url,
        roots,
        stop: Some(stop_tx),
        thread: Some(thread),
    })
}

/// The signature in `signed` carries a valid signature time-stamp and, for B-LTA, a document
/// time-stamp follows it.
fn check_time_stamped(signed: &Path, archive: bool) -> Result<(), String> {
    let data = std::fs::read(signed).map_err(|e| format!("{}: {e}", signed.display()))?;
    let report = inkseal_pdf::verify::verify(&data, &inkseal_pdf::verify::VerifyOptions::default())
        .map_err(|e| format!("{}: {e}", signed.display()))?;
    match report
        .signatures
        .first()
        .and_then(|s| s.time_stamp.as_ref())
    {
        Some(t) if t.valid => {}
        _ => {
            return Err(format!(
                "{}: no valid signature time-stamp",
                signed.display()
            ));
        }
    }
    if archive && !report.signatures.iter().any(|s| s.document_time_stamp) {
        return Err(format!("{}: no document time-stamp", signed.display()));
    }
    Ok(())
}

/// `openssl ocsp` answering for the benchmark's CA on a loopback port, until dropped.
struct OcspResponder {
    /// The CA's certificate (PEM), the trust anchor of the signer.
    ca: PathBuf,
    child: std::process::Child,
}

impl Drop for OcspResponder {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A P-256 CA, the signer's key and a certificate from it naming an OCSP responder on
/// loopback, and that responder (`openssl ocsp`, signing with the CA key).
fn start_ocsp_responder(dir: &Path, key: &Path, cert: &Path) -> Result<OcspResponder, String> {
    let port = std::net::TcpListener::bind(("127.0.0.1", 0))
        .and_then(|l| l.local_addr())
        .map_err(|e| format!("a free port: {e}"))?
        .port();
    let ca_key = dir.join("ca-key.pem");
    let ca = dir.join("ca.pem");
    let ext = dir.join("signer.ext");
    let csr = dir.join("signer.csr");
    let index = dir.join("ocsp-index.txt");
    std::fs::write(
        &ext,
        format!(
            "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,nonRepudiation\n\
             authorityInfoAccess=OCSP;URI:http://127.0.0.1:{port}\n"
        ),
    )
    .map_err(|e| format!("{}: {e}", ext.display()))?;
    let openssl = |args: &[&str], what: &str| {
        run_checked(Command::new("openssl").current_dir(dir).args(args), what)
    };
    for k in [&ca_key, &key.to_path_buf()] {
        run_checked(
            Command::new("openssl")
                .args([
                    "ecparam",
                    "-name",
                    "prime256v1",
                    "-genkey",
                    "-noout",
                    "-out",
                ])
                .arg(k),
            "openssl ecparam",
        )?;
    }
    openssl(
        &[
            "req",
            "-x509",
            "-new",
            "-key",
            "ca-key.pem",
            "-subj",
            "/CN=bench CA",
            "-days",
            "2",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign,digitalSignature",
            "-out",
            "ca.pem",
        ],
        "openssl req (CA)",
    )?;
    run_checked(
        Command::new("openssl")
            .args(["req", "-new", "-key"])
            .arg(key)
            .args(["-subj", "/CN=bench", "-out"])
            .arg(&csr),
        "openssl req (signer)",
    )?;
    run_checked(
        Command::new("openssl")
            .current_dir(dir)
            .args([
                "x509",
                "-req",
                "-in",
                "signer.csr",
                "-CA",
                "ca.pem",
                "-CAkey",
            ])
            .arg("ca-key.pem")
            .args([
                "-set_serial",
                "0x1001",
                "-days",
                "2",
                "-extfile",
                "signer.ext",
                "-out",
            ])
            .arg(cert),
        "openssl x509 -req (signer)",
    )?;
    // The responder's database: the signer, valid.
    std::fs::write(&index, "V\t991231235959Z\t\t1001\tunknown\t/CN=bench\n")
        .map_err(|e| format!("{}: {e}", index.display()))?;
    let mut child = Command::new("openssl")
        .current_dir(dir)
        .args([
            "ocsp",
            "-index",
            "ocsp-index.txt",
            "-port",
            &port.to_string(),
            "-rsigner",
            "ca.pem",
            "-rkey",
            "ca-key.pem",
            "-CA",
            "ca.pem",
            "-nmin",
            "60",
            "-ignore_err",
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| format!("openssl ocsp: {e}"))?;
    // Ready when it says so (a probing connection would wedge it); its log is then drained
    // on a thread of its own.
    let stderr = child.stderr.take();
    let responder = OcspResponder { ca, child };
    let mut lines = std::io::BufRead::lines(std::io::BufReader::new(
        stderr.ok_or("openssl ocsp: no stderr")?,
    ));
    loop {
        match lines.next() {
            Some(Ok(line)) if line.contains("waiting for OCSP client connections") => break,
            Some(Ok(_)) => {}
            _ => return Err(format!("openssl ocsp did not start on port {port}")),
        }
    }
    std::thread::spawn(move || lines.for_each(drop));
    eprintln!("OCSP responder (openssl) at http://127.0.0.1:{port}");
    Ok(responder)
}

/// The `pyhanko` on PATH; a pyenv shim is resolved to the real script so the shim's own start-up
/// (a bash script plus `pyenv exec`) is not counted against pyHanko.
/// A benchmark's working directory: `keep` (created if missing) or a fresh temporary one named
/// `prefix...`, removed when the returned guard is dropped.
pub(crate) fn work_dir(
    keep: Option<&Path>,
    prefix: &str,
) -> Result<(PathBuf, Option<tempfile::TempDir>), String> {
    match keep {
        Some(d) => {
            std::fs::create_dir_all(d).map_err(|e| format!("{}: {e}", d.display()))?;
            Ok((d.to_path_buf(), None))
        }
        None => {
            let t = tempfile::Builder::new()
                .prefix(prefix)
                .tempdir()
                .map_err(|e| format!("temporary directory: {e}"))?;
            Ok((t.path().to_path_buf(), Some(t)))
        }
    }
}

pub(crate) fn find_pyhanko() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    let found = std::env::split_paths(&path)
        .map(|d| d.join("pyhanko"))
        .find(|p| p.is_file())?;
    if found.components().any(|c| c.as_os_str() == "shims") {
        let real = Command::new("pyenv")
            .args(["which", "pyhanko"])
            .stderr(Stdio::null())
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()))
            .filter(|p| p.is_file());
        if let Some(real) = real {
            return Some(real);
        }
    }
    Some(found)
}

pub(crate) fn pyhanko_version(p: &Path) -> String {
    Command::new(p)
        .arg("--version")
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "version unknown".into())
}

fn pages_for(mib: f64) -> usize {
    ((mib * 2.0).round() as usize).clamp(10, 200)
}

fn fmt_mib(mib: f64) -> String {
    if mib.fract() == 0.0 {
        format!("{mib:.0}")
    } else {
        format!("{mib}")
    }
}

/// Run a command under `/usr/bin/time`; fail (with its stderr) when it fails.
pub(crate) fn measure(
    program: &OsStr,
    args: &[OsString],
    scratch: &Path,
) -> Result<Sample, String> {
    let time_out = scratch.join("time.out");
    let _ = std::fs::remove_file(&time_out);
    let started = Instant::now();
    let output = Command::new(TIME)
        .arg("-f")
        .arg("%e %M")
        .arg("-o")
        .arg(&time_out)
        .arg(program)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("{TIME}: {e}"))?;
    let wall_s = started.elapsed().as_secs_f64();
    let shown = || {
        std::iter::once(program)
            .chain(args.iter().map(OsString::as_os_str))
            .map(|a| a.to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join(" ")
    };
    if !output.status.success() {
        return Err(format!(
            "`{}` failed ({}):\n{}{}",
            shown(),
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    let text =
        std::fs::read_to_string(&time_out).map_err(|e| format!("{}: {e}", time_out.display()))?;
    let line = text
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("");
    let mut fields = line.split_whitespace();
    let (Some(e), Some(m), None) = (fields.next(), fields.next(), fields.next()) else {
        return Err(format!(
            "cannot parse {TIME} output {text:?} for `{}`",
            shown()
        ));
    };
    match (e.parse::<f64>(), m.parse::<u64>()) {
        (Ok(time_e_s), Ok(max_rss_kib)) => Ok(Sample {
            wall_s,
            time_e_s,
            max_rss_kib,
        }),
        _ => Err(format!(
            "cannot parse {TIME} output {text:?} for `{}`",
            shown()
        )),
    }
}

pub(crate) fn sync_filesystems() {
    let _ = Command::new("sync").status();
}

fn verify_with_inkseal(
    inkseal: &Path,
    signed: &Path,
    cert: &Path,
    tsa_roots: Option<&Path>,
) -> Result<(), String> {
    let mut cmd = Command::new(inkseal);
    cmd.arg("verify").arg(signed).arg("--trust").arg(cert);
    if let Some(roots) = tsa_roots {
        cmd.arg("--trust").arg(roots);
    }
    let out = cmd.output().map_err(|e| format!("inkseal verify: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "inkseal produced a signature that does not verify: `inkseal verify {} --trust {}` \
             exited with {}:\n{}{}",
            signed.display(),
            cert.display(),
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

pub(crate) fn run_checked(cmd: &mut Command, what: &str) -> Result<(), String> {
    let out = cmd.output().map_err(|e| format!("{what}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{what} failed ({}):\n{}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

pub(crate) fn make_key_and_cert(key: &Path, cert: &Path) -> Result<(), String> {
    run_checked(
        Command::new("openssl")
            .args([
                "ecparam",
                "-name",
                "prime256v1",
                "-genkey",
                "-noout",
                "-out",
            ])
            .arg(key),
        "openssl ecparam",
    )?;
    run_checked(
        Command::new("openssl")
            .args(["req", "-x509", "-new", "-key"])
            .arg(key)
            .args(["-subj", "/CN=bench", "-days", "2", "-out"])
            .arg(cert),
        "openssl req -x509",
    )
}

pub(crate) fn qpdf_check(path: &Path) -> Result<(), String> {
    let out = Command::new("qpdf")
        .arg("--check")
        .arg(path)
        .output()
        .map_err(|e| format!("qpdf (needed to check the generated PDFs): {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "generated PDF {} fails `qpdf --check` ({}):\n{}{}",
            path.display(),
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

/// splitmix64: deterministic, fast, good enough to be incompressible.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn fill(&mut self, buf: &mut [u8]) {
        for chunk in buf.chunks_mut(8) {
            let v = self.next().to_le_bytes();
            chunk.copy_from_slice(&v[..chunk.len()]);
        }
    }
}

/// Byte-counting writer (the cross-reference table needs the offsets).
struct Out<W: Write> {
    w: W,
    pos: u64,
}

impl<W: Write> Out<W> {
    fn put(&mut self, b: &[u8]) -> std::io::Result<()> {
        self.w.write_all(b)?;
        self.pos += b.len() as u64;
        Ok(())
    }
}

/// Write a `pages`-page PDF of about `target` bytes; returns its size.
pub(crate) fn write_pdf(path: &Path, pages: usize, target: u64, seed: u64) -> std::io::Result<u64> {
    // Size of everything but the image samples, then the image height that fills the rest.
    let overhead = emit_pdf(
        &mut Out {
            w: std::io::sink(),
            pos: 0,
        },
        pages,
        1,
        seed,
    )? - (pages * IMAGE_WIDTH) as u64;
    let per_page = target.saturating_sub(overhead) / pages as u64;
    let rows = (per_page as usize).div_ceil(IMAGE_WIDTH).max(1);
    let mut out = Out {
        w: BufWriter::with_capacity(1 << 20, File::create(path)?),
        pos: 0,
    };
    let size = emit_pdf(&mut out, pages, rows, seed)?;
    out.w.into_inner().map_err(|e| e.into_error())?.sync_all()?;
    Ok(size)
}

fn emit_pdf<W: Write>(
    out: &mut Out<W>,
    pages: usize,
    rows: usize,
    seed: u64,
) -> std::io::Result<u64> {
    // Objects: 1 catalog, 2 page tree, 3 font, 4 info; per page i: 5+3i page, 6+3i content,
    // 7+3i image.
    let count = 5 + 3 * pages;
    let mut offsets = vec![0u64; count];
    out.put(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")?;
    fn obj<W: Write>(
        out: &mut Out<W>,
        offsets: &mut [u64],
        num: usize,
        body: &str,
    ) -> std::io::Result<()> {
        offsets[num] = out.pos;
        out.put(format!("{num} 0 obj\n{body}\nendobj\n").as_bytes())
    }
    obj(out, &mut offsets, 1, "<< /Type /Catalog /Pages 2 0 R >>")?;
    let kids: Vec<String> = (0..pages).map(|i| format!("{} 0 R", 5 + 3 * i)).collect();
    obj(
        out,
        &mut offsets,
        2,
        &format!(
            "<< /Type /Pages /Kids [{}] /Count {pages} >>",
            kids.join(" ")
        ),
    )?;
    obj(
        out,
        &mut offsets,
        3,
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
    )?;
    obj(
        out,
        &mut offsets,
        4,
        "<< /Title (Benchmark contract) /Producer (inkseal bench pdf) \
         /CreationDate (D:20240101000000Z) >>",
    )?;
    let mut rng = Rng(seed);
    let mut buf = vec![0u8; 1 << 16];
    for i in 0..pages {
        let (page, content, image) = (5 + 3 * i, 6 + 3 * i, 7 + 3 * i);
        obj(
            out,
            &mut offsets,
            page,
            &format!(
                "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] \
                 /Resources << /Font << /F1 3 0 R >> /XObject << /Im0 {image} 0 R >> >> \
                 /Contents {content} 0 R >>"
            ),
        )?;
        let mut text = String::from("BT /F1 10 Tf 14 TL 56 790 Td\n");
        text.push_str(&format!(
            "(SERVICE AGREEMENT - page {} of {pages}) Tj T*\n",
            i + 1
        ));
        for clause in 1..=24 {
            text.push_str(&format!(
                "({}.{clause} The Parties agree that the obligations of this clause apply to \
                 the Services.) Tj T*\n",
                i + 1
            ));
        }
        text.push_str("ET\nq 480 0 0 300 56 80 cm /Im0 Do Q");
        obj(
            out,
            &mut offsets,
            content,
            &format!("<< /Length {} >>\nstream\n{text}\nendstream", text.len()),
        )?;
        offsets[image] = out.pos;
        let len = IMAGE_WIDTH * rows;
        out.put(
            format!(
                "{image} 0 obj\n<< /Type /XObject /Subtype /Image /Width {IMAGE_WIDTH} \
                 /Height {rows} /ColorSpace /DeviceGray /BitsPerComponent 8 /Length {len} >>\n\
                 stream\n"
            )
            .as_bytes(),
        )?;
        let mut left = len;
        while left > 0 {
            let n = left.min(buf.len());
            rng.fill(&mut buf[..n]);
            out.put(&buf[..n])?;
            left -= n;
        }
        out.put(b"\nendstream\nendobj\n")?;
    }
    let xref_at = out.pos;
    let mut xref = format!("xref\n0 {count}\n0000000000 65535 f\r\n");
    for off in &offsets[1..] {
        xref.push_str(&format!("{off:010} 00000 n\r\n"));
    }
    let id = format!("{seed:016x}{:016x}", seed.rotate_left(17) ^ 0x5555);
    xref.push_str(&format!(
        "trailer\n<< /Size {count} /Root 1 0 R /Info 4 0 R /ID [<{id}> <{id}>] >>\n\
         startxref\n{xref_at}\n%%EOF\n"
    ));
    out.put(xref.as_bytes())?;
    out.w.flush()?;
    Ok(out.pos)
}
