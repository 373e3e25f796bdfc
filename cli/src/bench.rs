//! `inkseal bench ...`: measurements printed in one run (not timed tests).

use crate::bench_pdf;
use clap::{Args, Subcommand};
use inkseal_cosign::sm2::dsa::signature::Signer;
use inkseal_cosign::sm2::dsa::{Signature, SigningKey};
use inkseal_sdk::{ClientConfig, CosignClient, FileDeviceKeyStore, FileShareStore, Pin};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Benchmarks.
#[derive(Subcommand, Debug)]
pub enum BenchCommand {
    /// Co-signatures per second through the server vs. local SM2 and `openssl speed sm2`.
    Cosign(CosignArgs),
    /// Two-party SM2 decryptions per second through the server, beside co-signatures per
    /// second through the same server.
    Decrypt(crate::bench_decrypt::DecryptArgs),
    /// Two-party P-256 co-signatures per second through the server (2 round trips each),
    /// beside SM2 co-signatures through the same server.
    P256(crate::bench_p256::P256Args),
    /// Whole-process PDF signing time and peak memory vs. pyHanko and sha256sum (1-100 MB).
    Pdf(bench_pdf::PdfArgs),
    /// Sealing N e-policies through the batch sign-hash service: P-256 in SoftHSM2, SM2 in
    /// the vault.
    Seal(crate::bench_seal::SealArgs),
    /// Whole-process verification of the 2 MiB contract with three signatures vs. pyHanko.
    Verify(crate::bench_verify::VerifyArgs),
}

/// Options of `inkseal bench cosign`.
#[derive(Args, Debug)]
pub struct CosignArgs {
    /// Concurrent clients.
    #[arg(long, default_value_t = 8)]
    clients: usize,
    /// Enrolled users (keys), shared out among the clients. Default: one per client.
    #[arg(long)]
    users: Option<usize>,
    /// Seconds per measurement.
    #[arg(long, default_value_t = 5)]
    seconds: u64,
    /// Stop after this many co-signatures (attempts, errors included) instead of after
    /// --seconds; progress goes to standard error every tenth.
    #[arg(long, value_name = "N")]
    count: Option<u64>,
    /// Running servers to load instead of starting one (base URLs, comma-separated; client i
    /// uses target i mod n, so every target must share one store). Needs --api-key.
    #[arg(long, value_delimiter = ',')]
    target: Vec<String>,
    /// With --target: an operator API key with the `enroll` role (or $INKSEAL_API_KEY).
    #[arg(long)]
    api_key: Option<String>,
    /// With --target on this machine: server process ids whose CPU time to report.
    #[arg(long, value_delimiter = ',')]
    server_pid: Vec<u32>,
    /// INSECURE, to measure what durability costs: the server started here skips the fsync
    /// that makes an answered signature survive a power failure.
    #[arg(long)]
    insecure_no_fsync: bool,
}

pub async fn run(cmd: BenchCommand) -> Result<(), String> {
    match cmd {
        BenchCommand::Cosign(args) => cosign(args).await,
        BenchCommand::Decrypt(args) => crate::bench_decrypt::run(args).await,
        BenchCommand::P256(args) => crate::bench_p256::run(args).await,
        BenchCommand::Pdf(args) => bench_pdf::run(args),
        BenchCommand::Verify(args) => crate::bench_verify::run(args),
        BenchCommand::Seal(args) => {
            tokio::task::spawn_blocking(move || crate::bench_seal::run(args))
                .await
                .map_err(|e| format!("bench seal: {e}"))?
        }
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx.min(sorted.len() - 1)]
}

/// `inkseal serve` as a child process on a free loopback port (its CPU time is then the
/// server's alone), with an operator credential made beforehand.
pub(crate) struct ChildServer {
    pub(crate) child: std::process::Child,
    pub(crate) url: String,
    pub(crate) api_key: String,
}

impl ChildServer {
    fn start(data: &Path, no_fsync: bool) -> Result<Self, String> {
        Self::start_with(data, no_fsync, &[], &[], "enroll")
    }

    /// [`ChildServer::start`] with extra data-directory arguments (a PKCS#11 vault) and
    /// environment for both `serve` and `admin`, and a credential with `roles`.
    pub(crate) fn start_with(
        data: &Path,
        no_fsync: bool,
        data_args: &[String],
        env: &[(String, String)],
        roles: &str,
    ) -> Result<Self, String> {
        Self::start_serving(data, no_fsync, data_args, env, roles, &[])
    }

    /// [`ChildServer::start_with`] with `serve_args` for `serve` only (not `admin`).
    pub(crate) fn start_serving(
        data: &Path,
        no_fsync: bool,
        data_args: &[String],
        env: &[(String, String)],
        roles: &str,
        serve_args: &[&str],
    ) -> Result<Self, String> {
        let exe = std::env::current_exe().map_err(|e| format!("current_exe: {e}"))?;
        let mut cmd = Command::new(&exe);
        cmd.arg("serve")
            .arg("--data-dir")
            .arg(data)
            .args(data_args)
            .args(serve_args)
            .envs(env.iter().map(|(k, v)| (k, v)))
            .args(["--listen", "127.0.0.1:0"]);
        // A load test is one address hammering the server: its rates are lifted.
        for limit in [
            "enroll-per-address",
            "sign-per-address",
            "sign-per-key",
            "operator-per-address",
        ] {
            cmd.args(["--rate-limit", &format!("{limit}={}", u32::MAX)]);
        }
        if no_fsync {
            cmd.arg("--insecure-no-fsync");
        }
        let child = cmd
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("inkseal serve: {e}"))?;
        // From here on, an error stops it (Drop).
        let mut server = ChildServer {
            child,
            url: String::new(),
            api_key: String::new(),
        };
        let stdout = server
            .child
            .stdout
            .take()
            .ok_or("inkseal serve: no stdout")?;
        let mut lines = std::io::BufRead::lines(std::io::BufReader::new(stdout));
        let banner = lines
            .next()
            .and_then(Result::ok)
            .ok_or("inkseal serve printed nothing")?;
        // Keep reading what it prints (it says when it stops), so it never writes to a
        // closed pipe.
        std::thread::spawn(move || lines.for_each(drop));
        // The credential, now that the database exists (the server keeps running: SQLite in
        // WAL mode takes a second writer).
        let created = Command::new(&exe)
            .args([
                "admin",
                "credential",
                "create",
                "--name",
                "bench",
                "--role",
                roles,
            ])
            .arg("--json")
            .arg("--data-dir")
            .arg(data)
            .args(data_args)
            .envs(env.iter().map(|(k, v)| (k, v)))
            .output()
            .map_err(|e| format!("inkseal admin credential create: {e}"))?;
        if !created.status.success() {
            return Err(format!(
                "inkseal admin credential create: {}",
                String::from_utf8_lossy(&created.stderr)
            ));
        }
        let created: serde_json::Value =
            serde_json::from_slice(&created.stdout).map_err(|e| format!("credential JSON: {e}"))?;
        server.api_key = created["api_key"]
            .as_str()
            .ok_or("the credential has no API key")?
            .to_owned();

        server.url = banner
            .split_whitespace()
            .find(|w| w.starts_with("http://"))
            .ok_or_else(|| format!("inkseal serve said {banner:?}"))?
            .to_owned();
        Ok(server)
    }

    pub(crate) fn stop(&mut self) -> Result<(), String> {
        let _ = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status();
        let status = self.child.wait().map_err(|e| e.to_string())?;
        if status.success() {
            Ok(())
        } else {
            Err(format!("inkseal serve exited with {status}"))
        }
    }
}

impl Drop for ChildServer {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// CPU time a process has used, from /proc: in its own code and in the kernel for it.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(crate) struct ProcessCpu {
    pub(crate) user: Duration,
    pub(crate) system: Duration,
}

impl ProcessCpu {
    pub(crate) fn total(self) -> Duration {
        self.user + self.system
    }

    pub(crate) fn since(self, before: ProcessCpu) -> ProcessCpu {
        ProcessCpu {
            user: self.user.saturating_sub(before.user),
            system: self.system.saturating_sub(before.system),
        }
    }
}

impl std::iter::Sum for ProcessCpu {
    fn sum<I: Iterator<Item = ProcessCpu>>(iter: I) -> Self {
        iter.fold(ProcessCpu::default(), |a, b| ProcessCpu {
            user: a.user + b.user,
            system: a.system + b.system,
        })
    }
}

/// CPU time of process `pid` so far (from /proc).
pub(crate) fn process_cpu(pid: u32) -> Option<ProcessCpu> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which may hold spaces) in parentheses.
    let rest = stat.rsplit_once(") ")?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the whole line: 12 and 13 after "pid (comm)".
    let ticks = |i: usize| -> Option<Duration> {
        let t = fields.get(i)?.parse::<u64>().ok()?;
        Some(Duration::from_secs_f64(t as f64 / clock_ticks_per_second()))
    };
    Some(ProcessCpu {
        user: ticks(11)?,
        system: ticks(12)?,
    })
}

fn clock_ticks_per_second() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
        .unwrap_or(100.0)
}

/// An enrollment ticket for a `purpose` key of `user` from the operator API at `url`.
pub(crate) async fn ticket(
    http: &reqwest::Client,
    url: &str,
    api_key: &str,
    user: &str,
    purpose: inkseal_cosign::api::KeyPurpose,
) -> Result<String, String> {
    let answer = http
        .post(format!("{url}/v1/admin/tickets"))
        .bearer_auth(api_key)
        .json(&serde_json::json!({ "user_id": user, "purpose": purpose }))
        .send()
        .await
        .map_err(|e| format!("ticket: {e}"))?;
    let status = answer.status();
    let body: serde_json::Value = answer.json().await.map_err(|e| format!("ticket: {e}"))?;
    if status != reqwest::StatusCode::CREATED {
        return Err(format!("ticket: {status}: {body}"));
    }
    body["ticket"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| format!("ticket: {body}"))
}

async fn cosign(args: CosignArgs) -> Result<(), String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let clients_n = args.clients.max(1);
    let users_n = args.users.unwrap_or(clients_n).max(1);
    let (server, targets, api_key) = if args.target.is_empty() {
        let server = ChildServer::start(&dir.path().join("server"), args.insecure_no_fsync)?;
        let (url, key) = (server.url.clone(), server.api_key.clone());
        (Some(server), vec![url], key)
    } else {
        let key = args
            .api_key
            .clone()
            .or_else(|| std::env::var("INKSEAL_API_KEY").ok())
            .ok_or("--target needs --api-key (or $INKSEAL_API_KEY) with the enroll role")?;
        (None, args.target.clone(), key)
    };
    let pids: Vec<u32> = match &server {
        Some(s) => vec![s.child.id()],
        None => args.server_pid.clone(),
    };
    let device = dir.path().join("device");
    let store = Arc::new(FileShareStore::new(&device).map_err(|e| e.to_string())?);
    let device_keys = Arc::new(FileDeviceKeyStore::new(&device).map_err(|e| e.to_string())?);
    let clients = targets
        .iter()
        .map(|url| {
            CosignClient::new(ClientConfig::new(url), store.clone(), device_keys.clone())
                .map_err(|e| e.to_string())
        })
        .collect::<Result<Vec<_>, _>>()?;
    let http = reqwest::Client::new();
    let pin = Pin::new("135790");
    // User names of this run, distinct from earlier runs against the same --target.
    let run_id = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
        ^ u64::from(std::process::id());
    let mut keys = Vec::new();
    for i in 0..users_n {
        let ticket = ticket(
            &http,
            &targets[0],
            &api_key,
            &format!("bench-{run_id:x}-{i}"),
            inkseal_cosign::api::KeyPurpose::Signing,
        )
        .await?;
        let enrolled = clients[0]
            .enroll(&ticket, &pin)
            .await
            .map_err(|e| e.to_string())?;
        // Warm-up, through the target this key's client will use.
        clients[i % clients_n % clients.len()]
            .sign_message(&enrolled.key_id, &pin, b"warm-up", None)
            .await
            .map_err(|e| e.to_string())?;
        keys.push(enrolled.key_id);
    }
    let cpu_before: Vec<Option<ProcessCpu>> = pids.iter().map(|p| process_cpu(*p)).collect();
    let deadline = Instant::now() + Duration::from_secs(args.seconds);
    let started = Instant::now();
    // With --count, clients claim attempts from one counter until it runs out.
    let claimed = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let count = args.count;
    let mut tasks = Vec::new();
    for c in 0..clients_n {
        let client = clients[c % clients.len()].clone();
        let mine: Vec<String> = keys.iter().skip(c).step_by(clients_n).cloned().collect();
        let pin = pin.clone();
        let claimed = claimed.clone();
        tasks.push(tokio::spawn(async move {
            let (mut lat, mut errors) = (Vec::new(), Vec::new());
            let mut n = 0usize;
            while !mine.is_empty() {
                match count {
                    Some(count) => {
                        let k = claimed.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        if k >= count {
                            break;
                        }
                        if count >= 10 && k > 0 && k % (count / 10) == 0 {
                            eprintln!(
                                "  {k} of {count} co-signatures started ({:.0} s)",
                                started.elapsed().as_secs_f64()
                            );
                        }
                    }
                    None if Instant::now() >= deadline => break,
                    None => {}
                }
                let key = &mine[n % mine.len()];
                n += 1;
                let t = Instant::now();
                match client
                    .sign_message(key, &pin, b"benchmark message", None)
                    .await
                {
                    Ok(_) => lat.push(t.elapsed()),
                    Err(e) => errors.push(e.to_string()),
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
    let server_cpu: Option<ProcessCpu> = pids
        .iter()
        .zip(&cpu_before)
        .map(|(p, before)| Some(process_cpu(*p)?.since((*before)?)))
        .sum();
    latencies.sort();
    let cosign_rate = latencies.len() as f64 / elapsed;
    if let Some(mut server) = server {
        server.stop()?;
    }

    let local_rate = local_sm2_rate(Duration::from_secs(args.seconds.clamp(1, 3)))?;
    let maths_rate = protocol_maths_rate(Duration::from_secs(args.seconds.clamp(1, 3)))?;
    let openssl_rate = openssl_sm2_rate();

    let length = match args.count {
        Some(n) => format!("{n} co-signatures in {elapsed:.1} s"),
        None => format!("{} s", args.seconds),
    };
    println!(
        "co-signing benchmark ({clients_n} clients, {users_n} users, {length}, {} target(s), \
         device-signed requests, {})",
        targets.len(),
        if !args.target.is_empty() {
            "servers given by --target"
        } else if args.insecure_no_fsync {
            "inkseal serve on loopback, SQLite WITHOUT fsync (INSECURE, measurement only), file vault"
        } else {
            "inkseal serve on loopback, SQLite synced to disk before each answer, file vault"
        }
    );
    println!(
        "  co-signatures:            {:>9.0} /s  ({} signatures, {} errors)",
        cosign_rate,
        latencies.len(),
        errors.len()
    );
    if let Some(first) = errors.first() {
        println!("  first error: {first}");
    }
    println!(
        "  latency p50 / p99 / max:  {:>6.2} / {:.2} / {:.2} ms",
        percentile(&latencies, 0.50).as_secs_f64() * 1e3,
        percentile(&latencies, 0.99).as_secs_f64() * 1e3,
        latencies.last().copied().unwrap_or_default().as_secs_f64() * 1e3
    );
    match server_cpu {
        Some(cpu) if !latencies.is_empty() => {
            let per = |d: Duration| d.as_secs_f64() * 1e6 / latencies.len() as f64;
            println!(
                "  server CPU per co-signature: {:>6.0} µs  (user {:.0} + system {:.0} µs; {:.2} s of CPU over {:.2} s: {:.2} cores; /proc/PID/stat)",
                per(cpu.total()),
                per(cpu.user),
                per(cpu.system),
                cpu.total().as_secs_f64(),
                elapsed,
                cpu.total().as_secs_f64() / elapsed
            )
        }
        _ => println!(
            "  server CPU per co-signature: not measured (give --server-pid with --target)"
        ),
    }
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
    if errors.is_empty() {
        Ok(())
    } else {
        Err(format!("{} co-signatures failed", errors.len()))
    }
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
    openssl_sign_rate("sm2", "SM2")
}

/// The sign rate `openssl speed -seconds 3 ALGORITHM` prints on its result line (the one that
/// names `label` and its key size), e.g.
/// " 256 bits SM2 (CurveSM2)   0.0002s   0.0004s   4100.0   2050.0" or
/// " 256 bits ecdsa (nistp256)   0.0000s   0.0001s  51426.3  16872.9".
pub(crate) fn openssl_sign_rate(algorithm: &str, label: &str) -> Option<f64> {
    let out = std::process::Command::new("openssl")
        .args(["speed", "-seconds", "3", algorithm])
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines()
        .filter(|l| l.contains(label) && l.contains("bits"))
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
