//! Two server replicas on one PostgreSQL database (a throwaway cluster): any replica serves any
//! request. A key enrolled through one signs through the other; the same idempotency key through
//! both gets one answer; PIN counters and the lock are shared; after concurrent load through
//! both each replica's audit lanes verify (and a dropped lane is named); and `/v1/ready`
//! follows the database.

use inkseal_cosign::api::{CosignRequest, CosignResponse, MessageKind, Pin, SignedMessage};
use inkseal_sdk::SdkError;
use inkseal_server::store::PostgresConfig;
use inkseal_server::{DatabaseChoice, RunningServer};
use inkseal_tests::postgres::PgCluster;
use inkseal_tests::{Backend, RawDevice, client_at, enroll, loopback_config, raw};
use std::path::Path;
use std::time::{Duration, Instant};

fn pin() -> Pin {
    Pin::new("802461")
}

async fn replica(data_dir: &Path, url: &str) -> RunningServer {
    let mut config = loopback_config(data_dir);
    let mut pg = PostgresConfig::new(url);
    // Unnamed, each replica gets lanes of its own (`<host>:<pid>-<random>/<slot>`: the port
    // is picked at random).
    pg.pool_size = 8;
    pg.connect_timeout = Duration::from_secs(2);
    config.database = DatabaseChoice::Postgres(pg);
    config.housekeeping_interval = Duration::from_millis(500);
    match inkseal_server::start(config).await {
        Ok(s) => s,
        Err(e) => panic!("replica failed to start: {e}"),
    }
}

/// The store's synchronous client must not run on an async worker: call it the way the
/// server's handlers do.
fn blocking<T>(f: impl FnOnce() -> T) -> T {
    tokio::task::block_in_place(f)
}

async fn ready(server: &RunningServer) -> u16 {
    inkseal_tests::http_client()
        .get(format!("{}/v1/ready", server.url()))
        .send()
        .await
        .map(|r| r.status().as_u16())
        .unwrap_or(0)
}

async fn wait_ready(server: &RunningServer, want: u16) -> Duration {
    let started = Instant::now();
    loop {
        let status = ready(server).await;
        if status == want {
            return started.elapsed();
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "/v1/ready stayed {status}, wanted {want}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_replicas_share_one_postgres() {
    let cluster = PgCluster::start();
    let url = cluster.create_database();
    let dir = tempfile::tempdir().expect("tempdir");
    // One vault (the same master key) for both replicas, as a deployment shares its HSM.
    let data = dir.path().join("server");
    let a = replica(&data, &url).await;
    let b = replica(&data, &url).await;
    let backend = blocking(|| Backend::new(&a));

    // Enrolled through A, signs through B.
    let device = dir.path().join("device");
    let via_a = client_at(&a.url(), &device);
    let via_b = client_at(&b.url(), &device);
    let key = enroll(&backend, &via_a, "erin", &pin()).await.key_id;
    via_b
        .sign_message(&key, &pin(), b"pay 100 through B", None)
        .await
        .expect("a key enrolled on A signs through B");

    // The same idempotency key through both replicas, concurrently: one answer, one signature.
    let raw_device = RawDevice::new(&device);
    let share = raw_device.share(&key);
    let message = SignedMessage::new(MessageKind::Raw, b"pay 200".to_vec()).expect("message");
    let (session, sign) = share
        .start_sign(&share.digest(message.bytes()))
        .expect("start");
    let request = CosignRequest {
        idempotency_key: "replicas-0001".into(),
        pin: pin(),
        evidence_head: None,
        message,
        sign,
    };
    let body = serde_json::to_vec(&request).expect("json");
    let path = format!("/v1/keys/{key}/sign");
    let http = inkseal_tests::http_client();
    let mut tasks = Vec::new();
    for i in 0..8 {
        let base = if i % 2 == 0 { a.url() } else { b.url() };
        let headers = raw_device.signed(&key, "POST", &path, &body);
        let (http, url, body) = (http.clone(), format!("{base}{path}"), body.clone());
        tasks.push(tokio::spawn(async move {
            let (status, json) = raw(&http, "POST", &url, &headers, body).await;
            assert_eq!(status, 200, "{json}");
            serde_json::from_value::<CosignResponse>(json).expect("response")
        }));
    }
    let mut answers = Vec::new();
    for t in tasks {
        answers.push(t.await.expect("task"));
    }
    assert!(
        answers.windows(2).all(|w| w[0] == w[1]),
        "one answer through both replicas"
    );
    session
        .finish(&answers[0].sign)
        .expect("the answer is a valid half-signature");
    let signed_for = |store: &dyn inkseal_server::store::Store, idem: &str| {
        store.get_signature(&key, idem).expect("get").is_some() as usize
    };
    assert_eq!(
        blocking(|| signed_for(b.service().store().as_ref(), "replicas-0001")),
        1
    );

    // PIN failures counted across replicas; the lock holds on both.
    let wrong = Pin::new("999999");
    for (i, left) in [4u32, 3, 2, 1].into_iter().enumerate() {
        let client = if i % 2 == 0 { &via_a } else { &via_b };
        assert_eq!(
            client.sign_message(&key, &wrong, b"m", None).await.err(),
            Some(SdkError::WrongPin {
                attempts_left: left
            })
        );
    }
    assert_eq!(
        via_b.sign_message(&key, &wrong, b"m", None).await.err(),
        Some(SdkError::Locked)
    );
    assert_eq!(
        via_a.sign_message(&key, &pin(), b"m", None).await.err(),
        Some(SdkError::Locked),
        "locked through B, locked through A"
    );

    // Concurrent load through both replicas, several users.
    let mut users = Vec::new();
    for u in 0..4 {
        let device = dir.path().join(format!("device-{u}"));
        let client = client_at(&a.url(), &device);
        let key = enroll(&backend, &client, &format!("user-{u}"), &pin())
            .await
            .key_id;
        users.push((device, key));
    }
    let per_user = 12;
    let mut load = Vec::new();
    for (u, (device, key)) in users.iter().enumerate() {
        let clients = [client_at(&a.url(), device), client_at(&b.url(), device)];
        let key = key.clone();
        load.push(tokio::spawn(async move {
            for i in 0..per_user {
                clients[(i + u) % 2]
                    .sign_message(&key, &pin(), format!("doc {u}/{i}").as_bytes(), None)
                    .await
                    .expect("sign under load");
            }
        }));
    }
    for t in load {
        t.await.expect("load task");
    }
    let report = blocking(|| a.service().audit().verify()).expect("verify");
    assert!(report.is_intact(), "{:?}", report.problems);
    let entries = blocking(|| inkseal_server::store::read_whole_log(b.service().store().as_ref()))
        .expect("audit");
    let signed = entries.iter().filter(|e| e.kind == "signed").count();
    assert_eq!(signed, 2 + 4 * per_user, "every signature has its entry");
    // Each replica appended to lanes of its own, and every lane verifies.
    let replicas: std::collections::HashSet<&str> = entries
        .iter()
        .filter_map(|e| e.lane.rsplit_once('/').map(|(replica, _)| replica))
        .collect();
    assert_eq!(replicas.len(), 2, "two replicas' lanes: {replicas:?}");
    assert!(report.lanes.len() >= 2, "{:?}", report.lanes);
    assert!(entries.len() >= report.entries as usize);
    inkseal_server::audit::verify_chain(&entries).expect("every lane verifies");

    // Sequence numbers count per lane: the log read without a lane is refused with a pointer
    // to the lanes, and each lane the pointer lists reads by itself.
    let (status, body) = backend.get("/v1/admin/audit").await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap_or_default()
            .contains("/v1/admin/audit/lanes"),
        "{body}"
    );
    let (status, lanes) = backend.get("/v1/admin/audit/lanes").await;
    assert_eq!(status, 200, "{lanes}");
    let mut read = 0;
    for head in lanes.as_array().expect("lanes") {
        let lane = head["lane"].as_str().expect("lane name");
        let (status, page) = backend
            .get(&format!("/v1/admin/audit?lane={lane}&limit=10000"))
            .await;
        assert_eq!(status, 200, "{page}");
        let page = page.as_array().expect("entries");
        assert!(page.iter().all(|e| e["lane"] == lane));
        assert_eq!(page.len() as u64, head["seq"].as_u64().expect("head seq"));
        read += page.len();
    }
    assert_eq!(read, entries.len(), "the lanes hold the whole log");

    // An evidence package reads the key's entries across both replicas' lanes, by time, each
    // with its lane, and each recomputes.
    let user_key = &users[0].1;
    let (status, signings) = backend
        .get(&format!("/v1/admin/keys/{user_key}/signings"))
        .await;
    assert_eq!(status, 200, "{signings}");
    let idem = signings[0]["idempotency_key"].as_str().expect("signing");
    let (status, package) = backend
        .get(&format!(
            "/v1/admin/keys/{user_key}/signings/{idem}/evidence"
        ))
        .await;
    assert_eq!(status, 200, "{package}");
    assert_eq!(package["audit_entries_verified"], true);
    let audit = package["audit"].as_array().expect("audit entries");
    assert_eq!(
        audit.iter().filter(|e| e["kind"] == "signed").count(),
        per_user
    );
    let writers: std::collections::HashSet<&str> = audit
        .iter()
        .filter_map(|e| e["lane"].as_str()?.rsplit_once('/').map(|(r, _)| r))
        .collect();
    assert_eq!(writers.len(), 2, "entries of both replicas: {writers:?}");
    assert!(
        audit
            .windows(2)
            .all(|w| w[0]["at_ms"].as_u64() <= w[1]["at_ms"].as_u64()),
        "oldest first"
    );

    // The operator sees each replica's database pool in its metrics.
    let metrics = a.service().prometheus_metrics();
    let open: u32 = metrics
        .lines()
        .find_map(|l| l.strip_prefix("inkseal_db_pool_connections{state=\"open\"} "))
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no pool gauge in\n{metrics}"));
    assert!(open >= 1, "{metrics}");
    assert!(metrics.contains("inkseal_db_pool_connections{state=\"in_use\"}"));

    // Readiness follows the database.
    assert_eq!(ready(&a).await, 200);
    cluster.stop();
    let took = wait_ready(&a, 503).await;
    println!("/v1/ready turned 503 {took:?} after the database stopped");
    assert_eq!(ready(&b).await, 503);
    cluster.start_again();
    wait_ready(&a, 200).await;
    wait_ready(&b, 200).await;

    // Both stop cleanly (each signs a checkpoint); the log still verifies with both.
    a.shutdown().await.expect("shutdown A");
    let report = blocking(|| b.service().audit().verify()).expect("verify");
    assert!(report.is_intact(), "{:?}", report.problems);
    assert!(report.checkpoints >= 1);

    // The database's owner drops a whole lane a checkpoint names (rows and all, behind the
    // append-only trigger): the verification names it.
    let dropped = report
        .lanes
        .iter()
        .find(|l| l.anchored_through >= 1)
        .expect("an anchored lane")
        .lane
        .clone();
    let db = url.rsplit('/').next().unwrap_or_default();
    cluster
        .psql(
            db,
            &format!(
                "ALTER TABLE audit DISABLE TRIGGER USER; \
                 DELETE FROM audit WHERE lane = '{dropped}'; \
                 ALTER TABLE audit ENABLE TRIGGER USER;"
            ),
        )
        .expect("drop a lane");
    let report = blocking(|| b.service().audit().verify()).expect("verify");
    assert!(
        report
            .problems
            .iter()
            .any(|p| p.contains(&dropped) && p.contains("removed")),
        "{:?}",
        report.problems
    );
    b.shutdown().await.expect("shutdown B");
}
