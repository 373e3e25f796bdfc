//! `inkseal serve` starts with zero configuration, says where it listens, answers, logs each
//! request, and stops cleanly on Ctrl-C (SIGINT) and on SIGTERM.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

#[test]
fn serve_prints_its_address_and_stops_cleanly_on_ctrl_c() {
    serve_then_stop_with("-INT");
}

#[test]
fn serve_stops_cleanly_on_sigterm() {
    serve_then_stop_with("-TERM");
}

fn serve_then_stop_with(signal: &str) {
    let home = tempfile::tempdir().expect("tempdir");
    // A free port: bind, read it, release it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_inkseal"))
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .env_remove("INKSEAL_DATA")
        .env_remove("XDG_DATA_HOME")
        .env("HOME", home.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn inkseal serve");
    let mut out = BufReader::new(child.stdout.take().expect("stdout"));
    let mut first = String::new();
    out.read_line(&mut first).expect("read banner");
    assert!(
        first.contains(&format!("listening on http://127.0.0.1:{port}")),
        "banner: {first}"
    );
    // Zero configuration: data under ~/.local/share/inkseal.
    let data = home.path().join(".local/share/inkseal");
    assert!(data.join("inkseal.db").exists() && data.join("master.key").exists());
    // It answers.
    let mut stream =
        std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect to the server");
    use std::io::{Read, Write};
    stream
        .write_all(b"GET /v1/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .expect("write");
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    let mut reply = String::new();
    stream.read_to_string(&mut reply).expect("read reply");
    assert!(reply.starts_with("HTTP/1.1 200"), "reply: {reply}");

    let kill = Command::new("kill")
        .args([signal, &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(kill.success());
    let status = child.wait().expect("wait");
    assert!(status.success(), "exit status after {signal}: {status}");
    let mut log = String::new();
    child
        .stderr
        .take()
        .expect("stderr")
        .read_to_string(&mut log)
        .expect("log");
    assert!(
        log.contains("inkseal::access")
            && log.contains("route=\"/v1/health\"")
            && log.contains("status=200"),
        "access log: {log}"
    );
    let mut rest = String::new();
    for line in out.lines() {
        rest.push_str(&line.expect("line"));
        rest.push('\n');
    }
    assert!(rest.contains("stopped cleanly"), "output: {rest}");
}

#[test]
fn serve_refuses_unsafe_configurations_with_a_clear_message() {
    let home = tempfile::tempdir().expect("tempdir");
    let run = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_inkseal"))
            .arg("serve")
            .args([
                "--data-dir",
                &home.path().join("data").display().to_string(),
            ])
            .args(args)
            .output()
            .expect("run inkseal serve");
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    // Liveness required but no vendor adapter: refused (the test vendor needs its flag).
    let (ok, err) = run(&["--listen", "127.0.0.1:0", "--require-liveness"]);
    assert!(!ok);
    assert!(err.contains("no liveness vendor adapter"), "{err}");
    assert!(err.contains("--insecure-test-liveness-vendor"), "{err}");
    // Plain HTTP off loopback: refused.
    let (ok, err) = run(&["--listen", "0.0.0.0:0"]);
    assert!(!ok);
    assert!(err.contains("refusing plain HTTP"), "{err}");
    // A database off loopback: TLS by default, so without the database's CA it refuses to
    // start (before connecting), and plaintext needs the insecure flag.
    let (ok, err) = run(&[
        "--listen",
        "127.0.0.1:0",
        "--database",
        "postgres://inkseal@db.example/inkseal",
    ]);
    assert!(!ok);
    assert!(err.contains("--database-ca"), "{err}");
    let (ok, err) = run(&[
        "--listen",
        "127.0.0.1:0",
        "--database",
        "postgres://inkseal@db.example/inkseal?sslmode=disable",
    ]);
    assert!(!ok);
    assert!(err.contains("--insecure-database-without-tls"), "{err}");
    // Unknown rate limit names are a usage error, not a silent default.
    let (ok, err) = run(&["--listen", "127.0.0.1:0", "--rate-limit", "sign-per-hour=5"]);
    assert!(!ok);
    assert!(err.contains("unknown limit"), "{err}");
}

/// `inkseal serve` (with the given flags) on a free loopback port: the child and its URL.
fn spawn_serve(data: &std::path::Path, flags: &[&str]) -> (std::process::Child, String) {
    let mut serve = Command::new(env!("CARGO_BIN_EXE_inkseal"));
    serve
        .arg("serve")
        .arg("--data-dir")
        .arg(data)
        .args(["--listen", "127.0.0.1:0"])
        .args(flags);
    inkseal_tests::cli::spawn_serve(serve)
}

/// An operator API key made with `inkseal admin credential create`.
fn admin_key(data: &std::path::Path) -> String {
    inkseal_tests::cli::create_credential(
        std::path::Path::new(env!("CARGO_BIN_EXE_inkseal")),
        "test backend",
        "enroll,keys:read",
        &["--data-dir".as_ref(), data.as_os_str()],
    )
}

fn stop(mut child: std::process::Child) {
    let _ = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status();
    let _ = child.wait();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_with_default_flags_does_not_accept_the_test_vendor() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    for (flags, accepted) in [
        (&[][..], false),
        (&["--insecure-test-liveness-vendor"][..], true),
    ] {
        let (child, url) = spawn_serve(&data, flags);
        let key = admin_key(&data);
        let device = dir.path().join(format!("device-{accepted}"));
        // (The SDK client installs the TLS crypto provider reqwest needs.)
        let client = inkseal_tests::client_at(&url, &device);
        let resp = inkseal_tests::http_client()
            .post(format!("{url}/v1/admin/tickets"))
            .bearer_auth(&key)
            .json(&serde_json::json!({ "user_id": "customer-1" }))
            .send()
            .await
            .expect("ticket");
        assert_eq!(resp.status(), 201);
        let ticket: serde_json::Value = resp.json().await.expect("json");
        let key_id = client
            .enroll(
                ticket["ticket"].as_str().expect("ticket"),
                &inkseal_sdk::Pin::new("802461"),
            )
            .await
            .expect("enroll")
            .key_id;
        let capture = device.join("capture");
        inkseal_capture::FileHooks::write_sample(&capture).expect("sample");
        let files = std::sync::Arc::new(inkseal_capture::FileHooks::new(&capture));
        let outcome = client
            .capture_evidence(
                &key_id,
                inkseal_sdk::CaptureHookSet {
                    id_card: Some(files.clone()),
                    liveness: files,
                    intent: None,
                },
                inkseal_sdk::CaptureRequest::default(),
            )
            .await;
        match (accepted, outcome) {
            (true, Ok(evidence)) => assert!(evidence.receipt.passed),
            (false, Err(inkseal_sdk::SdkError::CaptureRejected { reason, .. })) => {
                assert!(reason.contains("not accepted here"), "{reason}")
            }
            (accepted, other) => panic!("test vendor accepted={accepted}: {other:?}"),
        }
        stop(child);
    }
}
