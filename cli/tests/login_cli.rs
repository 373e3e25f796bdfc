//! `inkseal login sign` and `inkseal login verify` as a user runs them: an SM2 local key, who
//! logged in printed, "single use: not checked" said, exit 1 for another relying party, an
//! expired or untrusted assertion, 2 for input that cannot be read.

use std::path::Path;
use std::process::{Command, Output};

fn inkseal(args: &[&Path]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_inkseal"))
        .args(args)
        .output()
        .expect("run inkseal")
}

fn p(s: &str) -> &Path {
    Path::new(s)
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs()
}

fn challenge(issued: u64, expires: u64) -> String {
    serde_json::json!({
        "challenge_id": "11".repeat(16),
        "nonce": "22".repeat(32),
        "relying_party": "bank.example",
        "issued_at": issued,
        "expires_at": expires,
    })
    .to_string()
}

#[test]
fn sm2_logins_sign_and_verify_from_the_command_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let [pki, other] = ["login-cli", "other"]
        .map(|name| inkseal_tests::sm2_pki(dir.path(), name))
        .map(|p| [p.signer_key, p.signer_pem, p.ca_pem]);
    let (key, cert, ca) = (&pki[0], &pki[1], &pki[2]);
    let sign = |json: &str, out: &Path| {
        let ch = dir.path().join("challenge.json");
        std::fs::write(&ch, json).expect("write");
        inkseal(&[
            p("login"),
            p("sign"),
            &ch,
            out,
            p("--key"),
            key,
            p("--cert"),
            cert,
        ])
    };
    let out = dir.path().join("login.p7");
    let signed = sign(&challenge(now() - 10, now() + 290), &out);
    assert!(
        signed.status.success(),
        "{}",
        String::from_utf8_lossy(&signed.stderr)
    );
    let rp = p("bank.example");
    let verified = inkseal(&[
        p("login"),
        p("verify"),
        &out,
        p("--trust"),
        ca,
        p("--relying-party"),
        rp,
    ]);
    let stdout = String::from_utf8_lossy(&verified.stdout);
    assert!(verified.status.success(), "{stdout}");
    assert!(stdout.contains("valid login assertion"), "{stdout}");
    assert!(stdout.contains(&"11".repeat(16)), "{stdout}");
    assert!(stdout.contains("single use: not checked"), "{stdout}");
    assert!(stdout.contains("revocation   not checked"), "{stdout}");

    let json = inkseal(&[
        p("login"),
        p("verify"),
        &out,
        p("--trust"),
        ca,
        p("--relying-party"),
        rp,
        p("--json"),
    ]);
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).expect("JSON");
    assert_eq!(v["ok"], true);
    assert_eq!(v["relying_party"], "bank.example");
    assert_eq!(v["single_use_checked"], false);

    // A channel binding: the right one verifies, another one or none is exit 1.
    let bound = dir.path().join("bound.p7");
    let ch = dir.path().join("challenge-bound.json");
    std::fs::write(&ch, challenge(now() - 10, now() + 290)).expect("write");
    let signed = inkseal(&[
        p("login"),
        p("sign"),
        &ch,
        &bound,
        p("--key"),
        key,
        p("--cert"),
        cert,
        p("--channel"),
        p("0a0b0c"),
    ]);
    assert!(
        signed.status.success(),
        "{}",
        String::from_utf8_lossy(&signed.stderr)
    );
    for (file, channel, ok) in [
        (&bound, "0a0b0c", true),
        (&bound, "0a0b0d", false),
        (&out, "0a0b0c", false),
    ] {
        let run = inkseal(&[
            p("login"),
            p("verify"),
            file,
            p("--trust"),
            ca,
            p("--relying-party"),
            rp,
            p("--channel"),
            p(channel),
        ]);
        let stdout = String::from_utf8_lossy(&run.stdout);
        assert_eq!(run.status.success(), ok, "{channel}: {stdout}");
        if !ok {
            assert_eq!(run.status.code(), Some(1), "{stdout}");
            assert!(stdout.contains("channel binding"), "{stdout}");
        }
    }

    // Another relying party, another root: exit 1.
    let wrong = inkseal(&[
        p("login"),
        p("verify"),
        &out,
        p("--trust"),
        ca,
        p("--relying-party"),
        p("other.example"),
    ]);
    assert_eq!(wrong.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&wrong.stdout).contains("relying party"));
    let untrusted = inkseal(&[
        p("login"),
        p("verify"),
        &out,
        p("--trust"),
        &other[2],
        p("--relying-party"),
        rp,
    ]);
    assert_eq!(untrusted.status.code(), Some(1));

    // Expired: exit 1.
    let old = dir.path().join("old.p7");
    assert!(
        sign(&challenge(now() - 400, now() - 100), &old)
            .status
            .success()
    );
    let expired = inkseal(&[
        p("login"),
        p("verify"),
        &old,
        p("--trust"),
        ca,
        p("--relying-party"),
        rp,
    ]);
    assert_eq!(expired.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&expired.stdout).contains("expired"));

    // A malformed challenge is refused before anything is written; a missing file is exit 2.
    let bad = dir.path().join("bad.p7");
    assert!(!sign(&challenge(now(), now()), &bad).status.success());
    assert!(!bad.exists());
    let missing = inkseal(&[
        p("login"),
        p("verify"),
        &dir.path().join("nope.p7"),
        p("--trust"),
        ca,
        p("--relying-party"),
        rp,
    ]);
    assert_eq!(missing.status.code(), Some(2));
}
