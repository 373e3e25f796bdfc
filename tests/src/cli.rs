//! Driving the `inkseal` binary from the CLI crate's tests (only they know its path, through
//! `CARGO_BIN_EXE_inkseal`, so they pass it in): a server process and operator credentials.

use std::ffi::OsStr;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

/// Run `inkseal serve` prepared in `serve` (its arguments and environment set by the caller):
/// spawn it, read its banner line, keep draining its output (so it never writes to a closed
/// pipe); returns the child and the `http://` URL the banner names.
pub fn spawn_serve(mut serve: Command) -> (Child, String) {
    let mut child = serve
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn inkseal serve");
    let mut out = BufReader::new(child.stdout.take().expect("stdout"));
    let mut banner = String::new();
    out.read_line(&mut banner).expect("banner");
    std::thread::spawn(move || out.lines().for_each(drop));
    let url = banner
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("no URL in {banner:?}"))
        .to_owned();
    (child, url)
}

/// `inkseal admin credential create --json --name NAME --role ROLES` for the server whose data
/// (and database) `data_args` name, e.g. `["--data-dir", DIR]`: the new API key.
pub fn create_credential(inkseal: &Path, name: &str, roles: &str, data_args: &[&OsStr]) -> String {
    let out = Command::new(inkseal)
        .args(["admin", "credential", "create", "--json", "--name", name])
        .args(["--role", roles])
        .args(data_args)
        .output()
        .expect("inkseal admin credential create");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let created: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    created["api_key"].as_str().expect("API key").to_owned()
}
