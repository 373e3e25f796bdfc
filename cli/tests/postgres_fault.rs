//! The fault test of the scale-out design: two `inkseal serve` processes (the real binary) on
//! one PostgreSQL database (a throwaway cluster), concurrent signing load through both, and
//! replica A killed with SIGKILL mid-run, then restarted on the same database and address.
//!
//! The clients behave as a phone behind a load balancer should: every request carries an
//! idempotency key, and a request to A that fails in transport (connection refused or reset,
//! no answer) is sent again, the same body with the same idempotency key (and a freshly signed
//! device header, since request nonces are single use), through B.
//!
//! Afterwards: every acknowledged signature (a client got 200) is in the store with exactly
//! one audit entry; the same request sent again through the other replica gets a
//! byte-identical answer; no nonce point R repeats across all signatures; `inkseal audit
//! verify` passes against the PostgreSQL URL, listing each replica's audit lanes, and fails,
//! naming the lane, once an entry is deleted from one; every user still signs through each
//! replica.
//!
//! R is recovered from the finished signature: a valid SM2 signature (r, s) under the joint key
//! P has R = s·G + (r + s)·P (the verifier's computation), and the test checks that
//! x(R) + e = r (mod n) for each one, so R is the point the server formed,
//! R = w2·G + d2⁻¹·Q1 (design.md §3).
//!
//! This test lives in the CLI crate because only there does Cargo build the `inkseal` binary
//! for it (`CARGO_BIN_EXE_inkseal`). A few seconds of load: heavier runs are
//! `scripts/scale-test.sh`.

use inkseal_cosign::api::{CosignRequest, CosignResponse, MessageKind, Pin, SignedMessage};
use inkseal_cosign::sm2::elliptic_curve::ops::Reduce;
use inkseal_cosign::sm2::elliptic_curve::sec1::ToSec1Point;
use inkseal_cosign::sm2::{FieldBytes, ProjectivePoint, Scalar};
use inkseal_server::store::{PostgresConfig, PostgresStore, Store};
use inkseal_tests::RawDevice;
use inkseal_tests::postgres::PgCluster;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

const USERS: usize = 6;
/// Acknowledged signatures before A is killed, and again after it is back.
const ACKS_PER_PHASE: usize = 40;

fn pin() -> Pin {
    Pin::new("802461")
}

fn inkseal() -> Command {
    Command::new(env!("CARGO_BIN_EXE_inkseal"))
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

/// An `inkseal serve` replica on a fixed loopback port (a restart comes back at the same
/// address, as behind a load balancer).
struct Replica {
    child: Child,
    url: String,
}

impl Replica {
    fn start(data: &Path, database: &str, port: u16) -> Replica {
        let mut cmd = inkseal();
        cmd.arg("serve")
            .arg("--data-dir")
            .arg(data)
            .args(["--database", database])
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .args(["--database-pool-size", "8"]);
        // All the load comes from one address and a few keys.
        for limit in ["sign-per-address", "sign-per-key", "operator-per-address"] {
            cmd.args(["--rate-limit", &format!("{limit}=0")]);
        }
        cmd.env("RUST_LOG", "warn");
        let (child, url) = inkseal_tests::cli::spawn_serve(cmd);
        assert_eq!(
            url,
            format!("http://127.0.0.1:{port}"),
            "inkseal serve's address"
        );
        Replica { child, url }
    }

    /// SIGINT, and a clean exit.
    fn stop(mut self) {
        let _ = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status();
        let status = self.child.wait().expect("wait");
        assert!(status.success(), "inkseal serve exited with {status}");
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

async fn wait_ready(http: &reqwest::Client, url: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let status = http
            .get(format!("{url}/v1/ready"))
            .send()
            .await
            .map(|r| r.status().as_u16())
            .unwrap_or(0);
        if status == 200 {
            return;
        }
        assert!(Instant::now() < deadline, "{url}/v1/ready stayed {status}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Poll `cond` (the run's progress, not a timing assertion); give up after a minute.
async fn wait_for(what: &str, cond: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !cond() {
        assert!(Instant::now() < deadline, "waited a minute for {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// The nonce point R of a finished signature, compressed SEC1; checks x(R) + e = r (mod n).
fn nonce_point(
    sig: &inkseal_cosign::sm2::dsa::Signature,
    public_key: &inkseal_cosign::sm2::PublicKey,
    e: &[u8; 32],
) -> Vec<u8> {
    let (r, s): (Scalar, Scalar) = (*sig.r(), *sig.s());
    let big_r = (ProjectivePoint::GENERATOR * s + public_key.to_projective() * (r + s)).to_affine();
    let encoded = big_r.to_sec1_point(true);
    let x: [u8; 32] = encoded
        .x()
        .expect("not the identity")
        .as_slice()
        .try_into()
        .expect("x");
    let reduce = |b: &[u8; 32]| <Scalar as Reduce<FieldBytes>>::reduce(&FieldBytes::from(*b));
    assert_eq!(
        reduce(&x) + reduce(e),
        r,
        "R is the signature's nonce point"
    );
    encoded.as_bytes().to_vec()
}

/// Send a signing request (freshly signed device headers); `None` on a transport failure.
async fn post_sign(
    http: &reqwest::Client,
    device: &RawDevice,
    base: &str,
    key: &str,
    body: &[u8],
) -> Option<(u16, Vec<u8>)> {
    let path = format!("/v1/keys/{key}/sign");
    let mut req = http.post(format!("{base}{path}"));
    for (k, v) in device.signed(key, "POST", &path, body) {
        req = req.header(k, v);
    }
    let resp = req.body(body.to_vec()).send().await.ok()?;
    let status = resp.status().as_u16();
    let bytes = resp.bytes().await.ok()?;
    Some((status, bytes.to_vec()))
}

/// One acknowledged request of the run.
struct Acked {
    key: String,
    idempotency_key: String,
    body: Vec<u8>,
    /// Index of the replica that answered 200 (0 = A, 1 = B).
    answered_by: usize,
    answer: Vec<u8>,
    /// Whether the first attempt, to A, failed in transport.
    retried: bool,
    nonce_point: Vec<u8>,
}

struct Progress {
    acks: AtomicUsize,
    acks_via_a: AtomicUsize,
    retries: AtomicUsize,
    stop: AtomicBool,
}

struct User {
    device: PathBuf,
    key: String,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigkill_of_a_replica_loses_no_acknowledged_signature() {
    let cluster = PgCluster::start();
    let database = cluster.create_database();
    let dir = tempfile::tempdir().expect("tempdir");
    // One vault (the same master key file) for both replicas.
    let data = dir.path().join("server");
    let ports = [free_port(), free_port()];
    let mut a = Some(Replica::start(&data, &database, ports[0]));
    let b = Replica::start(&data, &database, ports[1]);
    let urls = [a.as_ref().expect("A").url.clone(), b.url.clone()];
    let http = inkseal_tests::http_client();

    // An operator credential, and the users enrolled (through A).
    let api_key = inkseal_tests::cli::create_credential(
        Path::new(env!("CARGO_BIN_EXE_inkseal")),
        "fault test",
        "enroll",
        &[
            "--data-dir".as_ref(),
            data.as_os_str(),
            "--database".as_ref(),
            database.as_ref(),
        ],
    );
    let mut users = Vec::new();
    for u in 0..USERS {
        let resp = http
            .post(format!("{}/v1/admin/tickets", urls[0]))
            .bearer_auth(&api_key)
            .json(&serde_json::json!({ "user_id": format!("fault-user-{u}") }))
            .send()
            .await
            .expect("ticket");
        assert_eq!(resp.status(), 201);
        let ticket: serde_json::Value = resp.json().await.expect("ticket JSON");
        let device = dir.path().join(format!("device-{u}"));
        let key = inkseal_tests::client_at(&urls[0], &device)
            .enroll(ticket["ticket"].as_str().expect("ticket"), &pin())
            .await
            .expect("enroll")
            .key_id;
        users.push(User { device, key });
    }

    // Load: one client per user, alternating its first attempt between A and B.
    let progress = Arc::new(Progress {
        acks: AtomicUsize::new(0),
        acks_via_a: AtomicUsize::new(0),
        retries: AtomicUsize::new(0),
        stop: AtomicBool::new(false),
    });
    let mut load = Vec::new();
    for (u, user) in users.iter().enumerate() {
        let (device_dir, key) = (user.device.clone(), user.key.clone());
        let (http, urls, progress) = (http.clone(), urls.clone(), progress.clone());
        load.push(tokio::spawn(async move {
            let device = RawDevice::new(&device_dir);
            let share = device.share(&key);
            let mut acked = Vec::new();
            let mut i = 0usize;
            while !progress.stop.load(Ordering::SeqCst) {
                i += 1;
                let message = SignedMessage::new(
                    MessageKind::Raw,
                    format!("fault test: user {u}, document {i}").into_bytes(),
                )
                .expect("message");
                let e = share.digest(message.bytes());
                let (session, sign) = share.start_sign(&e).expect("start");
                let idempotency_key = format!("fault-{u}-{i:06}");
                let body = serde_json::to_vec(&CosignRequest {
                    idempotency_key: idempotency_key.clone(),
                    pin: pin(),
                    evidence_head: None,
                    message,
                    sign,
                })
                .expect("json");
                let first = (u + i) % 2;
                let mut retried = false;
                let (answered_by, (status, answer)) =
                    match post_sign(&http, &device, &urls[first], &key, &body).await {
                        Some(answer) => (first, answer),
                        None => {
                            assert_eq!(first, 0, "B failed in transport; only A is killed");
                            retried = true;
                            progress.retries.fetch_add(1, Ordering::SeqCst);
                            let again = post_sign(&http, &device, &urls[1], &key, &body)
                                .await
                                .expect("B answers the retry");
                            (1, again)
                        }
                    };
                assert_eq!(
                    status,
                    200,
                    "{idempotency_key} through replica {answered_by}: {}",
                    String::from_utf8_lossy(&answer)
                );
                let response: CosignResponse =
                    serde_json::from_slice(&answer).expect("a co-signing answer");
                let signature = session
                    .finish(&response.sign)
                    .expect("the answer completes a valid signature");
                acked.push(Acked {
                    key: key.clone(),
                    idempotency_key,
                    body,
                    answered_by,
                    answer,
                    retried,
                    nonce_point: nonce_point(&signature, share.public_key(), &e),
                });
                progress.acks.fetch_add(1, Ordering::SeqCst);
                if answered_by == 0 {
                    progress.acks_via_a.fetch_add(1, Ordering::SeqCst);
                }
            }
            acked
        }));
    }

    // Mid-run: SIGKILL A, let clients fail over to B, restart A on the same database and port,
    // and keep the load going until A has answered again.
    let p = progress.clone();
    wait_for("the first signatures", || {
        p.acks.load(Ordering::SeqCst) >= ACKS_PER_PHASE
    })
    .await;
    let mut killed = a.take().expect("A");
    killed.child.kill().expect("SIGKILL A");
    let status = killed.child.wait().expect("wait for A");
    assert_eq!(
        std::os::unix::process::ExitStatusExt::signal(&status),
        Some(9),
        "A died of SIGKILL"
    );
    drop(killed);
    let acks_at_kill = progress.acks.load(Ordering::SeqCst);
    wait_for("a client to fail over to B", || {
        p.retries.load(Ordering::SeqCst) >= 1
    })
    .await;
    a = Some(Replica::start(&data, &database, ports[0]));
    wait_ready(&http, &urls[0]).await;
    let via_a_at_restart = progress.acks_via_a.load(Ordering::SeqCst);
    wait_for("the restarted A to answer", || {
        p.acks_via_a.load(Ordering::SeqCst) >= via_a_at_restart + ACKS_PER_PHASE / 2
    })
    .await;
    progress.stop.store(true, Ordering::SeqCst);
    let mut acked = Vec::new();
    for t in load {
        acked.extend(t.await.expect("a load client"));
    }
    let retried = acked.iter().filter(|a| a.retried).count();
    println!(
        "{} signatures acknowledged ({acks_at_kill} before the SIGKILL), {retried} retried \
         through B after a transport failure on A",
        acked.len()
    );
    assert!(retried >= 1);

    // Every acknowledged signature is stored, with the answer the client got, and has exactly
    // one audit entry.
    let store = tokio::task::block_in_place(|| {
        PostgresStore::open(&PostgresConfig::new(database.clone())).expect("open the store")
    });
    let entries = tokio::task::block_in_place(|| inkseal_server::store::read_whole_log(&store))
        .expect("audit entries");
    let mut signed_entries: HashMap<(String, String), usize> = HashMap::new();
    for entry in entries.iter().filter(|e| e.kind == "signed") {
        let detail: serde_json::Value = serde_json::from_str(&entry.detail).expect("detail");
        let idem = detail["idempotency_key"].as_str().expect("idempotency key");
        *signed_entries
            .entry((entry.key_id.clone().expect("key id"), idem.to_owned()))
            .or_default() += 1;
    }
    for ack in &acked {
        let stored =
            tokio::task::block_in_place(|| store.find_signature(&ack.key, &ack.idempotency_key))
                .expect("find_signature")
                .unwrap_or_else(|| panic!("acknowledged {} is not stored", ack.idempotency_key));
        let stored: CosignResponse = serde_json::from_str(&stored.response).expect("stored");
        let answered: CosignResponse = serde_json::from_slice(&ack.answer).expect("answer");
        assert_eq!(
            stored, answered,
            "{}: stored = acknowledged",
            ack.idempotency_key
        );
        assert_eq!(
            signed_entries.get(&(ack.key.clone(), ack.idempotency_key.clone())),
            Some(&1),
            "{}: one audit entry",
            ack.idempotency_key
        );
    }

    // The same request again through the other replica: the same bytes.
    for ack in &acked {
        let device = RawDevice::new(
            &users
                .iter()
                .find(|u| u.key == ack.key)
                .expect("user")
                .device,
        );
        let other = urls[1 - ack.answered_by].clone();
        let (status, answer) = post_sign(&http, &device, &other, &ack.key, &ack.body)
            .await
            .expect("an answer");
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&answer));
        assert_eq!(
            answer, ack.answer,
            "{}: a retry through the other replica gets the same bytes",
            ack.idempotency_key
        );
    }

    // Every user signs through each replica afterwards; no nonce point R repeats among all
    // signatures.
    let mut nonce_points: Vec<Vec<u8>> = acked.iter().map(|a| a.nonce_point.clone()).collect();
    for user in &users {
        let share = RawDevice::new(&user.device).share(&user.key);
        for (r, url) in urls.iter().enumerate() {
            let message = format!("after the fault, through replica {r}");
            let signature = inkseal_tests::client_at(url, &user.device)
                .sign_message(&user.key, &pin(), message.as_bytes(), None)
                .await
                .unwrap_or_else(|e| panic!("{} cannot sign through {url}: {e}", user.key));
            let e = share.digest(message.as_bytes());
            nonce_points.push(nonce_point(&signature, share.public_key(), &e));
        }
    }
    let distinct: HashSet<&Vec<u8>> = nonce_points.iter().collect();
    assert_eq!(
        distinct.len(),
        nonce_points.len(),
        "a nonce point R repeats"
    );
    drop(store);

    // Both stop cleanly; the chain verifies against the database with the CLI.
    a.take().expect("A").stop();
    b.stop();
    let verify = inkseal()
        .args(["audit", "verify", "--data-dir"])
        .arg(&data)
        .args(["--database", &database])
        .output()
        .expect("inkseal audit verify");
    let report = String::from_utf8_lossy(&verify.stdout);
    assert!(
        verify.status.success() && report.contains("INTACT"),
        "{report}{}",
        String::from_utf8_lossy(&verify.stderr)
    );
    // Each replica appended to lanes of its own, named after its port (A kept its lanes
    // across the restart), and the CLI lists them.
    let lane_of = |port: u16| {
        report
            .lines()
            .filter_map(|l| l.trim().strip_prefix("lane "))
            .filter_map(|l| l.split_once(": ").map(|(name, _)| name.to_owned()))
            .find(|name| name.ends_with(&format!(":{port}/0")))
            .unwrap_or_else(|| panic!("no lane of the replica on port {port} in\n{report}"))
    };
    let lane_b = lane_of(ports[1]);
    lane_of(ports[0]);

    // An entry deleted from B's lane behind the append-only trigger: the CLI says TAMPERED,
    // names the lane and exits 1.
    let db = database.rsplit('/').next().unwrap_or_default();
    cluster
        .psql(
            db,
            &format!(
                "ALTER TABLE audit DISABLE TRIGGER USER; \
                 DELETE FROM audit WHERE lane = '{lane_b}' AND seq = 2; \
                 ALTER TABLE audit ENABLE TRIGGER USER;"
            ),
        )
        .expect("tamper");
    let verify = inkseal()
        .args(["audit", "verify", "--data-dir"])
        .arg(&data)
        .args(["--database", &database])
        .output()
        .expect("inkseal audit verify");
    let report = String::from_utf8_lossy(&verify.stdout);
    assert_eq!(verify.status.code(), Some(1), "{report}");
    assert!(
        report.contains("TAMPERED")
            && report
                .lines()
                .any(|l| l.starts_with("PROBLEM") && l.contains(&lane_b)),
        "{report}"
    );
}
