//! `inkseal bench decrypt`: two-party SM2 decryptions per second through the server, beside
//! co-signatures per second through the same server (issue 17).
//!
//! Each client has one encryption key and one signing key (enrolled through the operator
//! API). Decryption is measured with a 16-byte content-encryption key encrypted to the
//! encryption key by the sm2 crate (what an SM2 KTRI carries); each round is the full
//! protocol: blinding, device-signed request, PIN, the server's `T2` and proof, the phone's
//! proof check, unblinding and C3 check. Co-signing is measured the same way as `bench cosign`.

use crate::bench::{ChildServer, ProcessCpu, process_cpu, ticket};
use clap::Args;
use inkseal_cosign::api::KeyPurpose;
use inkseal_sdk::{ClientConfig, CosignClient, FileDeviceKeyStore, FileShareStore, Pin};
use std::future::Future;
use std::pin::Pin as Pinned;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Options of `inkseal bench decrypt`.
#[derive(Args, Debug)]
pub struct DecryptArgs {
    /// Concurrent clients (each with its own encryption and signing key).
    #[arg(long, default_value_t = 8)]
    clients: usize,
    /// Seconds per measurement (decryption, then co-signing).
    #[arg(long, default_value_t = 5)]
    seconds: u64,
    /// INSECURE, to measure what durability costs: the server started here skips the fsync
    /// that makes an answered request survive a power failure.
    #[arg(long)]
    insecure_no_fsync: bool,
}

pub(crate) type Round =
    Arc<dyn Fn(usize) -> Pinned<Box<dyn Future<Output = Result<(), String>> + Send>> + Send + Sync>;

/// What one measurement found.
pub(crate) struct Measured {
    pub(crate) done: usize,
    pub(crate) errors: Vec<String>,
    pub(crate) latencies: Vec<Duration>,
    pub(crate) elapsed: f64,
    pub(crate) cpu: Option<ProcessCpu>,
}

pub(crate) async fn measure(
    clients: usize,
    seconds: u64,
    pid: u32,
    round: Round,
) -> Result<Measured, String> {
    let before = process_cpu(pid);
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..clients {
        let round = round.clone();
        tasks.push(tokio::spawn(async move {
            let (mut lat, mut errors) = (Vec::new(), Vec::new());
            while Instant::now() < deadline {
                let t = Instant::now();
                match round(c).await {
                    Ok(()) => lat.push(t.elapsed()),
                    Err(e) => errors.push(e),
                }
            }
            (lat, errors)
        }));
    }
    let (mut latencies, mut errors) = (Vec::new(), Vec::new());
    for t in tasks {
        let (lat, err) = t.await.map_err(|e| e.to_string())?;
        latencies.extend(lat);
        errors.extend(err);
    }
    let elapsed = started.elapsed().as_secs_f64();
    latencies.sort();
    let cpu = before.and_then(|b| Some(process_cpu(pid)?.since(b)));
    Ok(Measured {
        done: latencies.len(),
        errors,
        latencies,
        elapsed,
        cpu,
    })
}

pub(crate) fn print(what: &str, m: &Measured) {
    let at = |p: f64| {
        if m.latencies.is_empty() {
            0.0
        } else {
            let i = ((m.latencies.len() as f64 * p) as usize).min(m.latencies.len() - 1);
            m.latencies[i].as_secs_f64() * 1e3
        }
    };
    println!(
        "  {what:<15} {:>9.0} /s  ({} done, {} errors)  p50 / p99: {:.2} / {:.2} ms",
        m.done as f64 / m.elapsed,
        m.done,
        m.errors.len(),
        at(0.50),
        at(0.99)
    );
    if let (Some(cpu), true) = (m.cpu, m.done > 0) {
        println!(
            "  {:<15} server CPU {:.0} µs each (/proc/PID/stat)",
            "",
            cpu.total().as_secs_f64() * 1e6 / m.done as f64
        );
    }
    if let Some(first) = m.errors.first() {
        println!("  {:<15} first error: {first}", "");
    }
}

/// Phone start + server step + phone finish (proof check, C3), one thread, no I/O.
fn decrypt_maths_rate(duration: Duration) -> Result<f64, String> {
    use inkseal_cosign::{ClientKeygen, DecryptSession, ServerKeyShare, Sm2Ciphertext};
    let (keygen, request) = ClientKeygen::start("bench-maths").map_err(|e| e.to_string())?;
    let (server, response) = ServerKeyShare::keygen(&request).map_err(|e| e.to_string())?;
    let client = keygen.finish(&response).map_err(|e| e.to_string())?;
    let der = inkseal_cosign::sm2::pke::EncryptingKey::new(*client.public_key())
        .encrypt_der(&mut getrandom::SysRng, &[0x11; 16])
        .map_err(|e| e.to_string())?;
    let ciphertext = Sm2Ciphertext::from_der(&der).map_err(|e| e.to_string())?;
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed() < duration {
        let (session, req) = DecryptSession::start_with_os_rng(&client, "bench-round", &ciphertext)
            .map_err(|e| e.to_string())?;
        let resp = server
            .decrypt_step_with_os_rng("bench-maths", &req)
            .map_err(|e| e.to_string())?;
        session.finish(&resp).map_err(|e| e.to_string())?;
        n += 1;
    }
    Ok(n as f64 / start.elapsed().as_secs_f64())
}

pub async fn run(args: DecryptArgs) -> Result<(), String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let clients_n = args.clients.max(1);
    let mut server = ChildServer::start_with(
        &dir.path().join("server"),
        args.insecure_no_fsync,
        &[],
        &[],
        "enroll",
    )?;
    let pid = server.child.id();
    let device = dir.path().join("device");
    let store = Arc::new(FileShareStore::new(&device).map_err(|e| e.to_string())?);
    let device_keys = Arc::new(FileDeviceKeyStore::new(&device).map_err(|e| e.to_string())?);
    let client = CosignClient::new(ClientConfig::new(&server.url), store, device_keys)
        .map_err(|e| e.to_string())?;
    let http = reqwest::Client::new();
    let pin = Pin::new("135790");
    let mut keys = Vec::new();
    for i in 0..clients_n {
        let t = ticket(
            &http,
            &server.url,
            &server.api_key,
            &format!("bench-enc-{i}"),
            KeyPurpose::Encryption,
        )
        .await?;
        let enc = client
            .enroll_for(&t, &pin, KeyPurpose::Encryption)
            .await
            .map_err(|e| e.to_string())?;
        let t = ticket(
            &http,
            &server.url,
            &server.api_key,
            &format!("bench-sig-{i}"),
            KeyPurpose::Signing,
        )
        .await?;
        let sig = client.enroll(&t, &pin).await.map_err(|e| e.to_string())?;
        let der = inkseal_cosign::sm2::pke::EncryptingKey::new(enc.public_key)
            .encrypt_der(&mut getrandom::SysRng, &[0x5a; 16])
            .map_err(|e| e.to_string())?;
        // Warm-up.
        client
            .decrypt_sm2(&enc.key_id, &pin, &der, &[0; 32])
            .await
            .map_err(|e| e.to_string())?;
        client
            .sign_message(&sig.key_id, &pin, b"warm-up", None)
            .await
            .map_err(|e| e.to_string())?;
        keys.push((enc.key_id, der, sig.key_id));
    }
    let keys = Arc::new(keys);
    let decrypt: Round = {
        let (client, keys, pin) = (client.clone(), keys.clone(), pin.clone());
        Arc::new(move |c| {
            let (client, keys, pin) = (client.clone(), keys.clone(), pin.clone());
            Box::pin(async move {
                let (key, der, _) = &keys[c];
                client
                    .decrypt_sm2(key, &pin, der, &[0; 32])
                    .await
                    .map(drop)
                    .map_err(|e| e.to_string())
            })
        })
    };
    let sign: Round = {
        let (client, keys, pin) = (client.clone(), keys.clone(), pin.clone());
        Arc::new(move |c| {
            let (client, keys, pin) = (client.clone(), keys.clone(), pin.clone());
            Box::pin(async move {
                let (_, _, key) = &keys[c];
                client
                    .sign_message(key, &pin, b"benchmark message", None)
                    .await
                    .map(drop)
                    .map_err(|e| e.to_string())
            })
        })
    };
    let decrypted = measure(clients_n, args.seconds, pid, decrypt).await?;
    let signed = measure(clients_n, args.seconds, pid, sign).await?;
    server.stop()?;
    let maths = decrypt_maths_rate(Duration::from_secs(args.seconds.clamp(1, 3)))?;
    println!(
        "two-party decryption benchmark ({clients_n} clients, {} s each, device-signed requests, \
         inkseal serve on loopback, {}, file vault)",
        args.seconds,
        if args.insecure_no_fsync {
            "SQLite WITHOUT fsync (INSECURE, measurement only)"
        } else {
            "SQLite synced to disk before each answer"
        }
    );
    print("decryptions:", &decrypted);
    print("co-signatures:", &signed);
    println!("  two-party decryption maths only, no I/O (1 thread): {maths:>9.0} /s");
    if decrypted.done > 0 && signed.done > 0 {
        println!(
            "  ratio decrypt / co-sign: {:.2}",
            (decrypted.done as f64 / decrypted.elapsed) / (signed.done as f64 / signed.elapsed)
        );
    }
    let failed = decrypted.errors.len() + signed.errors.len();
    if failed == 0 {
        Ok(())
    } else {
        Err(format!("{failed} rounds failed"))
    }
}
