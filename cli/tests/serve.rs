//! `inkseal serve` starts with zero configuration, says where it listens, answers, and stops
//! cleanly on Ctrl-C (SIGINT).

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

#[test]
fn serve_prints_its_address_and_stops_cleanly_on_ctrl_c() {
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
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill -INT");
    assert!(kill.success());
    let status = child.wait().expect("wait");
    assert!(status.success(), "exit status after Ctrl-C: {status}");
    let mut rest = String::new();
    for line in out.lines() {
        rest.push_str(&line.expect("line"));
        rest.push('\n');
    }
    assert!(rest.contains("stopped cleanly"), "output: {rest}");
}
