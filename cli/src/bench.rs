//! `inkseal bench ...`: measurements printed in one run (not timed tests).

use crate::bench_pdf;
use clap::{Args, Subcommand};
use inkseal_cosign::sm2::dsa::signature::Signer;
use inkseal_cosign::sm2::dsa::{Signature, SigningKey};
use inkseal_sdk::{ClientConfig, CosignClient, FileDeviceKeyStore, FileShareStore, Pin};
use inkseal_server::ServerConfig;
use inkseal_server::audit::Caller;
use inkseal_server::service::TicketOrder;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Benchmarks.
#[derive(Subcommand, Debug)]
pub enum BenchCommand {
    /// Co-signatures per second through the server vs. local SM2 and `openssl speed sm2`.
    Cosign(CosignArgs),
    /// Whole-process PDF signing time and peak memory vs. pyHanko and sha256sum (1-100 MB).
    Pdf(bench_pdf::PdfArgs),
}

/// Options of `inkseal bench cosign`.
#[derive(Args, Debug)]
pub struct CosignArgs {
    /// Concurrent clients (each with its own key).
    #[arg(long, default_value_t = 8)]
    clients: usize,
    /// Seconds per measurement.
    #[arg(long, default_value_t = 5)]
    seconds: u64,
    /// INSECURE, to measure what durability costs: the server skips the fsync that makes an
    /// answered signature survive a power failure.
    #[arg(long)]
    insecure_no_fsync: bool,
}

pub async fn run(cmd: BenchCommand) -> Result<(), String> {
    match cmd {
        BenchCommand::Cosign(args) => cosign(args).await,
        BenchCommand::Pdf(args) => bench_pdf::run(args),
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx.min(sorted.len() - 1)]
}

async fn cosign(args: CosignArgs) -> Result<(), String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let mut config = ServerConfig::new(dir.path().join("server"));
    config.listen = ([127, 0, 0, 1], 0).into();
    // A load test is one address hammering the server: the per-address and per-key request
    // rates are lifted (connection caps stay).
    config.limits = config.limits.without_rates();
    config.insecure.no_fsync = args.insecure_no_fsync;
    let server = inkseal_server::start(config)
        .await
        .map_err(|e| e.to_string())?;
    let device = dir.path().join("device");
    let store = Arc::new(FileShareStore::new(&device).map_err(|e| e.to_string())?);
    let device_keys = Arc::new(FileDeviceKeyStore::new(&device).map_err(|e| e.to_string())?);
    let client = CosignClient::new(ClientConfig::new(server.url()), store, device_keys)
        .map_err(|e| e.to_string())?;
    let pin = Pin::new("135790");
    let mut keys = Vec::new();
    for i in 0..args.clients.max(1) {
        let ticket = server
            .service()
            .enrollment()
            .issue_ticket(
                &TicketOrder {
                    user_id: format!("bench-user-{i}"),
                    certificate_name: None,
                    id_number: None,
                    ttl_secs: None,
                },
                &Caller::system(),
            )
            .map_err(|e| e.to_string())?;
        let enrolled = client
            .enroll(&ticket.ticket, &pin)
            .await
            .map_err(|e| e.to_string())?;
        keys.push(enrolled.key_id);
    }
    // Warm-up.
    for k in &keys {
        client
            .sign_message(k, &pin, b"warm-up", None)
            .await
            .map_err(|e| e.to_string())?;
    }
    let deadline = Instant::now() + Duration::from_secs(args.seconds);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for k in keys {
        let client = client.clone();
        let pin = pin.clone();
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            while Instant::now() < deadline {
                let t = Instant::now();
                client
                    .sign_message(&k, &pin, b"benchmark message", None)
                    .await?;
                lat.push(t.elapsed());
            }
            Ok::<_, inkseal_sdk::SdkError>(lat)
        }));
    }
    let mut latencies = Vec::new();
    for t in tasks {
        latencies.extend(
            t.await
                .map_err(|e| e.to_string())?
                .map_err(|e| e.to_string())?,
        );
    }
    let elapsed = started.elapsed().as_secs_f64();
    latencies.sort();
    let cosign_rate = latencies.len() as f64 / elapsed;
    server.shutdown().await.map_err(|e| e.to_string())?;

    let local_rate = local_sm2_rate(Duration::from_secs(args.seconds.clamp(1, 3)))?;
    let maths_rate = protocol_maths_rate(Duration::from_secs(args.seconds.clamp(1, 3)))?;
    let openssl_rate = openssl_sm2_rate();

    println!(
        "co-signing benchmark ({} clients, {} s, loopback HTTP, device-signed requests, SQLite {}, \
         file vault)",
        args.clients,
        args.seconds,
        if args.insecure_no_fsync {
            "WITHOUT fsync (INSECURE, measurement only)"
        } else {
            "synced to disk before each answer"
        }
    );
    println!(
        "  co-signatures:            {:>9.0} /s  ({} signatures)",
        cosign_rate,
        latencies.len()
    );
    println!(
        "  latency p50 / p99 / max:  {:>6.2} / {:.2} / {:.2} ms",
        percentile(&latencies, 0.50).as_secs_f64() * 1e3,
        percentile(&latencies, 0.99).as_secs_f64() * 1e3,
        latencies.last().copied().unwrap_or_default().as_secs_f64() * 1e3
    );
    println!("  two-party maths only, no I/O (1 thread):    {maths_rate:>9.0} signatures/s");
    println!("  local single-key SM2 (sm2 crate, 1 thread): {local_rate:>9.0} signatures/s");
    match openssl_rate {
        Some(r) => println!(
            "  openssl speed sm2 (1 thread):               {:>9.0} signatures/s",
            r
        ),
        None => println!("  openssl speed sm2: not available on this machine"),
    }
    println!(
        "  ratio co-sign / local sm2 crate: {:.2}",
        cosign_rate / local_rate
    );
    if let Some(r) = openssl_rate {
        println!("  ratio co-sign / openssl:         {:.2}", cosign_rate / r);
    }
    Ok(())
}

fn local_sm2_rate(duration: Duration) -> Result<f64, String> {
    let key = SigningKey::from_bytes(inkseal_cosign::DEFAULT_SIGNER_ID, &[7u8; 32].into())
        .map_err(|e| e.to_string())?;
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed() < duration {
        let _sig: Signature = key.sign(&n.to_be_bytes());
        n += 1;
    }
    Ok(n as f64 / start.elapsed().as_secs_f64())
}

/// Phone start + server co-sign + phone finish (with verification), in one thread, no I/O.
fn protocol_maths_rate(duration: Duration) -> Result<f64, String> {
    use inkseal_cosign::{ClientKeygen, ServerKeyShare};
    let (keygen, request) = ClientKeygen::start("bench-maths").map_err(|e| e.to_string())?;
    let (server, response) = ServerKeyShare::keygen(&request).map_err(|e| e.to_string())?;
    let client = keygen.finish(&response).map_err(|e| e.to_string())?;
    let e = client.digest(b"benchmark message");
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed() < duration {
        let (session, req) = client.start_sign(&e).map_err(|e| e.to_string())?;
        let resp = server.cosign(&req).map_err(|e| e.to_string())?;
        session.finish(&resp).map_err(|e| e.to_string())?;
        n += 1;
    }
    Ok(n as f64 / start.elapsed().as_secs_f64())
}

/// Parse the sign rate from `openssl speed -seconds 3 sm2`.
fn openssl_sm2_rate() -> Option<f64> {
    let out = std::process::Command::new("openssl")
        .args(["speed", "-seconds", "3", "sm2"])
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    // Result line: " 256 bits SM2 (CurveSM2)   0.0002s   0.0004s   4100.0   2050.0"
    text.lines()
        .filter(|l| l.contains("SM2") && l.contains("bits"))
        .filter_map(|l| {
            let nums: Vec<f64> = l
                .split_whitespace()
                .filter_map(|w| w.parse::<f64>().ok())
                .collect();
            // [bits, sign/s, verify/s] once the "0.0002s" columns (which do not parse) are gone.
            (nums.len() >= 3).then(|| nums[nums.len() - 2])
        })
        .next()
}
