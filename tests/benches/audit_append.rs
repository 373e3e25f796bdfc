//! What one audit append costs, SQLite against PostgreSQL, one writer against several (and
//! several pools, as replicas): `cargo bench -p inkseal-tests --bench audit_append`.
//!
//! Each write is what a co-signature writes: the signature row and its audit entry in one
//! transaction (`record_signature`), and, for comparison, an audit entry alone
//! (`append_audit`). SQLite is a file with its durable group commit; PostgreSQL a throwaway
//! cluster on loopback (fsync on, synchronous_commit on). Prints a table; no assertion.

use inkseal_server::audit::{AuditEvent, AuditKind, verify_chain};
use inkseal_server::store::{
    KeyRecord, NewSignature, PostgresConfig, PostgresStore, SqliteStore, Store, TicketRecord,
};
use inkseal_tests::postgres::PgCluster;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

const RUN: Duration = Duration::from_secs(3);

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

fn setup(store: &dyn Store) {
    let ticket = TicketRecord {
        ticket_id: "et-bench".into(),
        secret_hash: vec![0; 32],
        user_id: "bench".into(),
        certificate_name: "Bench".into(),
        id_binding: None,
        issued_by: "system".into(),
        issued_ms: now(),
        expires_ms: now() + 3_600_000,
        used_ms: None,
        key_id: None,
        purpose: inkseal_server::store::KeyPurpose::Signing,
    };
    let global = AuditEvent::global(AuditKind::TicketIssued, serde_json::json!({}));
    store.insert_ticket(&ticket, &global).expect("ticket");
    let key = KeyRecord {
        key_id: "k-bench".into(),
        user_id: "bench".into(),
        certificate_name: "Bench".into(),
        ticket_id: "et-bench".into(),
        public_key: vec![4; 65],
        device_public_key: vec![1; 91],
        device_attestation: None,
        id_binding: None,
        sealed_share: vec![2; 60],
        sealed_pin: vec![3; 60],
        pin_salt: vec![5; 16],
        pin_failures: 0,
        locked: false,
        revoked: false,
        certificate: None,
        purpose: inkseal_server::store::KeyPurpose::Signing,
        curve: inkseal_server::store::KeyCurve::Sm2,
    };
    let enrolled = AuditEvent::new(AuditKind::Enrolled, "k-bench", serde_json::json!({}));
    store.insert_key(&key, now(), &enrolled).expect("key");
}

#[derive(Clone, Copy, PartialEq)]
enum Write {
    Signature,
    AuditOnly,
}

/// `threads` writers spread over `stores` for [`RUN`]: writes per second and mean latency.
fn run(stores: &[Arc<dyn Store>], threads: usize, write: Write) -> (f64, f64) {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let done = AtomicU64::new(0);
    let busy_ns = AtomicU64::new(0);
    let started = Instant::now();
    std::thread::scope(|scope| {
        for t in 0..threads {
            let store = stores[t % stores.len()].clone();
            let (done, busy_ns) = (&done, &busy_ns);
            scope.spawn(move || {
                let event = AuditEvent::new(
                    AuditKind::Signed,
                    "k-bench",
                    serde_json::json!({ "document": "ab".repeat(32), "e": "cd".repeat(32) }),
                );
                while started.elapsed() < RUN {
                    let t0 = Instant::now();
                    match write {
                        Write::AuditOnly => store.append_audit(&event).expect("append"),
                        Write::Signature => {
                            let n = NEXT.fetch_add(1, Ordering::Relaxed);
                            let sig = NewSignature {
                                key_id: "k-bench".into(),
                                idempotency_key: format!("idem-{n}"),
                                request_hash: vec![9; 32],
                                response: "{\"sign\":\"...\"}".repeat(8),
                                e: vec![1; 32],
                                message_kind: "raw".into(),
                                document_digest: vec![2; 32],
                                evidence_head: None,
                                evidence_use: None,
                            };
                            store.record_signature(&sig, &event).expect("record");
                        }
                    }
                    busy_ns.fetch_add(t0.elapsed().as_nanos() as u64, Ordering::Relaxed);
                    done.fetch_add(1, Ordering::Relaxed);
                }
            });
        }
    });
    let n = done.load(Ordering::Relaxed).max(1) as f64;
    let secs = started.elapsed().as_secs_f64();
    (
        n / secs,
        busy_ns.load(Ordering::Relaxed) as f64 / n / 1000.0,
    )
}

/// Entries and lanes; every lane verifies.
fn check_chain(store: &dyn Store) -> (usize, usize) {
    let all = inkseal_server::store::read_whole_log(store).expect("audit");
    verify_chain(&all).expect("every lane verifies");
    let lanes: std::collections::HashSet<&str> = all.iter().map(|e| e.lane.as_str()).collect();
    (all.len(), lanes.len())
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let cluster = PgCluster::start();
    let dir = tempfile::tempdir().expect("tempdir");
    println!(
        "{:<10} {:<9} {:>7} {:>7} {:>12} {:>14}",
        "store", "write", "pools", "threads", "writes/s", "mean µs/write"
    );
    for backend in ["sqlite", "postgres"] {
        for write in [Write::Signature, Write::AuditOnly] {
            for (pools, threads) in [(1, 1), (1, 8), (2, 8)] {
                let stores: Vec<Arc<dyn Store>> = if backend == "sqlite" {
                    let path = dir.path().join(format!(
                        "b-{}-{pools}-{threads}-{}.db",
                        write == Write::Signature,
                        now()
                    ));
                    (0..pools)
                        .map(|_| Arc::new(SqliteStore::open(&path).expect("sqlite")) as _)
                        .collect()
                } else {
                    let url = cluster.create_database();
                    (0..pools)
                        .map(|i| {
                            let mut c = PostgresConfig::new(url.clone());
                            c.pool_size = 8;
                            // Each pool a replica of its own, with its own audit lanes.
                            c.replica = Some(format!("bench-{i}"));
                            Arc::new(PostgresStore::open(&c).expect("postgres")) as _
                        })
                        .collect()
                };
                setup(stores[0].as_ref());
                let (rate, mean_us) = run(&stores, threads, write);
                let (entries, lanes) = check_chain(stores[0].as_ref());
                println!(
                    "{:<10} {:<9} {:>7} {:>7} {:>12.0} {:>14.1}   ({entries} entries in {lanes} lane(s), every lane verifies)",
                    backend,
                    if write == Write::Signature {
                        "signature"
                    } else {
                        "audit"
                    },
                    pools,
                    threads,
                    rate,
                    mean_us
                );
            }
        }
    }
}
