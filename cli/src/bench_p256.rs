//! `inkseal bench p256`: two-party P-256 co-signatures per second through the server (issue
//! 18), beside SM2 co-signatures through the same server.
//!
//! Each client has one P-256 key and one SM2 key (enrolled through the operator API). A P-256
//! round is the whole protocol through the SDK: two device-signed round trips (the PIN and the
//! server's phases 1-2 in the first; phases 3-4 and its `p256` check in the second), the
//! phone's phases and its `p256` check of the signature before it is released. Also printed:
//! the bytes each round moves and the protocol maths alone, one thread, no I/O.

use crate::bench::{ChildServer, ticket};
use crate::bench_decrypt::{Round, measure, print};
use clap::Args;
use inkseal_cosign::api::KeyPurpose;
use inkseal_cosign::p256::{PhoneKeygen, PhoneSign, ServerKeygen, ServerSignPending};
use inkseal_sdk::{ClientConfig, CosignClient, FileDeviceKeyStore, FileShareStore, Pin};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Options of `inkseal bench p256`.
#[derive(Args, Debug)]
pub struct P256Args {
    /// Concurrent clients (each with its own P-256 and SM2 key).
    #[arg(long, default_value_t = 4)]
    clients: usize,
    /// Seconds per measurement (P-256, then SM2).
    #[arg(long, default_value_t = 5)]
    seconds: u64,
    /// INSECURE, to measure what durability costs: the server started here skips the fsync
    /// that makes an answered request survive a power failure.
    #[arg(long)]
    insecure_no_fsync: bool,
}

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

/// Whole signatures (both parties, all four phases, both `p256` checks, the server's state
/// through its bytes) per second on one thread, and the bytes of one round each way.
fn maths(duration: Duration) -> Result<(f64, usize, usize), String> {
    let mut rng = getrandom::SysRng;
    let (phone, k1) = PhoneKeygen::start(&mut rng).map_err(err)?;
    let (server, r1) = ServerKeygen::respond(&k1, &mut rng).map_err(err)?;
    let (phone, k2) = phone.receive(&r1).map_err(err)?;
    let (server_share, r2) = server.finish(&k2).map_err(err)?;
    let phone_share = phone.finish(&r2).map_err(err)?;
    let (mut up, mut down) = (0, 0);
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed() < duration || n == 0 {
        let (session, s1) = PhoneSign::start(&phone_share, b"bench", &mut rng).map_err(err)?;
        let (pending, a1) =
            ServerSignPending::respond(&server_share, b"bench", &s1).map_err(err)?;
        let pending =
            ServerSignPending::from_bytes(&pending.into_bytes().map_err(err)?).map_err(err)?;
        let (session, s2) = session.receive(&a1).map_err(err)?;
        let (_, a2) = pending.finish(&server_share, &s2).map_err(err)?;
        session.finish(&a2).map_err(err)?;
        up = s1.as_bytes().len() + s2.as_bytes().len();
        down = a1.as_bytes().len() + a2.as_bytes().len();
        n += 1;
    }
    Ok((n as f64 / start.elapsed().as_secs_f64(), up, down))
}

pub async fn run(args: P256Args) -> Result<(), String> {
    let dir = tempfile::tempdir().map_err(err)?;
    let clients_n = args.clients.max(1);
    let mut server = ChildServer::start_serving(
        &dir.path().join("server"),
        args.insecure_no_fsync,
        &[],
        &[],
        "enroll",
        &["--enable-unaudited-p256-cosign"],
    )?;
    let pid = server.child.id();
    let device = dir.path().join("device");
    let store = Arc::new(FileShareStore::new(&device).map_err(err)?);
    let device_keys = Arc::new(FileDeviceKeyStore::new(&device).map_err(err)?);
    let client =
        CosignClient::new(ClientConfig::new(&server.url), store, device_keys).map_err(err)?;
    let http = reqwest::Client::new();
    let pin = Pin::new("135790");
    let mut keys = Vec::new();
    let enroll_started = Instant::now();
    for i in 0..clients_n {
        let t = ticket(
            &http,
            &server.url,
            &server.api_key,
            &format!("bench-p256-{i}"),
            KeyPurpose::Signing,
        )
        .await?;
        let p256 = client.enroll_p256(&t, &pin).await.map_err(err)?;
        let t = ticket(
            &http,
            &server.url,
            &server.api_key,
            &format!("bench-sm2-{i}"),
            KeyPurpose::Signing,
        )
        .await?;
        let sm2 = client.enroll(&t, &pin).await.map_err(err)?;
        // Warm-up.
        client
            .sign_message_p256(&p256.key_id, &pin, b"warm-up", None)
            .await
            .map_err(err)?;
        client
            .sign_message(&sm2.key_id, &pin, b"warm-up", None)
            .await
            .map_err(err)?;
        keys.push((p256.key_id, sm2.key_id));
    }
    let enrollment = enroll_started.elapsed();
    let keys = Arc::new(keys);
    let p256_round: Round = {
        let (client, keys, pin) = (client.clone(), keys.clone(), pin.clone());
        Arc::new(move |c| {
            let (client, keys, pin) = (client.clone(), keys.clone(), pin.clone());
            Box::pin(async move {
                client
                    .sign_message_p256(&keys[c].0, &pin, b"benchmark message", None)
                    .await
                    .map(drop)
                    .map_err(err)
            })
        })
    };
    let sm2_round: Round = {
        let (client, keys, pin) = (client.clone(), keys.clone(), pin.clone());
        Arc::new(move |c| {
            let (client, keys, pin) = (client.clone(), keys.clone(), pin.clone());
            Box::pin(async move {
                client
                    .sign_message(&keys[c].1, &pin, b"benchmark message", None)
                    .await
                    .map(drop)
                    .map_err(err)
            })
        })
    };
    let p256 = measure(clients_n, args.seconds, pid, p256_round).await?;
    let sm2 = measure(clients_n, args.seconds, pid, sm2_round).await?;
    server.stop()?;
    let (rate, up, down) = maths(Duration::from_secs(args.seconds.clamp(1, 3)))?;
    println!(
        "two-party P-256 co-signing benchmark ({clients_n} clients, {} s each, device-signed \
         requests, inkseal serve on loopback, {}, file vault)",
        args.seconds,
        if args.insecure_no_fsync {
            "SQLite WITHOUT fsync (INSECURE, measurement only)"
        } else {
            "SQLite synced to disk before each answer"
        }
    );
    println!(
        "  enrollment:     {clients_n} P-256 + {clients_n} SM2 keys in {:.1} s (P-256 key \
         generation: 2 round trips, the base-OT setup)",
        enrollment.as_secs_f64()
    );
    print("P-256 (2 trips):", &p256);
    print("SM2 (1 trip):", &sm2);
    println!(
        "  P-256 protocol maths only, both parties, no I/O (1 thread): {rate:>7.1} signatures/s \
         ({:.1} ms each); protocol messages {up} B phone -> server, {down} B back",
        1e3 / rate
    );
    match super::bench::openssl_sign_rate("ecdsap256", "nistp256") {
        Some(r) => println!(
            "  openssl speed ecdsap256 (1 thread, one whole key, no split): {r:>9.0} signatures/s; \
             ratio P-256 co-sign through the server / openssl {:.4}",
            p256.done as f64 / p256.elapsed / r
        ),
        None => println!("  openssl speed ecdsap256: not available on this machine"),
    }
    let failed = p256.errors.len() + sm2.errors.len();
    if failed == 0 {
        Ok(())
    } else {
        Err(format!("{failed} rounds failed"))
    }
}
