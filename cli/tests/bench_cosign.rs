//! `inkseal bench cosign` against a running server (`--target`): it enrolls its users through
//! the operator API with the given key, shares them among its clients, makes exactly
//! `--count` co-signatures without an error and reports the server's CPU time per
//! co-signature from the server's process.

use std::process::Command;

fn inkseal() -> Command {
    Command::new(env!("CARGO_BIN_EXE_inkseal"))
}

#[test]
fn bench_cosign_loads_a_running_server_and_reports_its_cpu_per_signature() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("server");
    let mut serve = inkseal();
    serve
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(&data)
        .args(["--rate-limit", "sign-per-key=100000"]);
    let (mut server, url) = inkseal_tests::cli::spawn_serve(serve);
    let key = &inkseal_tests::cli::create_credential(
        std::path::Path::new(env!("CARGO_BIN_EXE_inkseal")),
        "load",
        "enroll",
        &["--data-dir".as_ref(), data.as_os_str()],
    );

    let bench = inkseal()
        .args([
            "bench",
            "cosign",
            "--clients",
            "2",
            "--users",
            "3",
            "--count",
            "30",
        ])
        .args(["--target", &url, "--api-key", key])
        .args(["--server-pid", &server.id().to_string()])
        .output()
        .expect("bench");
    let report = String::from_utf8_lossy(&bench.stdout);
    assert!(
        bench.status.success(),
        "{report}{}",
        String::from_utf8_lossy(&bench.stderr)
    );
    assert!(report.contains("2 clients, 3 users"), "{report}");
    // --count: exactly that many co-signatures, none failed.
    assert!(report.contains("30 co-signatures in"), "{report}");
    assert!(report.contains("(30 signatures, 0 errors)"), "{report}");
    let cpu_line = report
        .lines()
        .find(|l| l.contains("server CPU per co-signature"))
        .expect("CPU line");
    let micros: f64 = cpu_line
        .split_once(':')
        .and_then(|(_, rest)| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{cpu_line}"));
    assert!(micros > 0.0, "{cpu_line}");
    // Split into the server's own code and the kernel's work for it, which add up.
    let part = |label: &str| -> f64 {
        cpu_line
            .split_once(label)
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("{label} in {cpu_line}"))
    };
    let (user, system) = (part("user "), part("system "));
    assert!(user > 0.0, "{cpu_line}");
    assert!((user + system - micros).abs() <= 2.0, "{cpu_line}");

    // Without a key it says what it needs.
    let refused = inkseal()
        .args(["bench", "cosign", "--seconds", "1", "--target", &url])
        .env_remove("INKSEAL_API_KEY")
        .output()
        .expect("bench");
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--api-key"));

    let _ = Command::new("kill")
        .args(["-INT", &server.id().to_string()])
        .status();
    assert!(server.wait().expect("wait").success());
}
