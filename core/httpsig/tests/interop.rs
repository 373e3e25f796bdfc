//! Interoperability with an independent RFC 9421 implementation: the PyPI package
//! `http-message-signatures` (driven by `tests/interop.py`), both ways.
//!
//! Skipped, with a message on stderr, when `python3` or the package is missing; under CI (the
//! `CI` environment variable is set) a missing package fails instead, since a check that silently
//! does not run proves nothing. `scripts/install-validators.sh` installs it.

mod common;

use std::io::Write;
use std::process::{Command, Stdio};

use base64ct::{Base64, Encoding};
use common::*;
use inkseal_httpsig::{
    HttpSigError, ParsedSignature, RequestTarget, SignatureParams, SignedHeaders, sign_request,
    signature_base, verifying_key_from_spki_der,
};
use p256::pkcs8::{EncodePublicKey, LineEnding};
use serde_json::{Value, json};

const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/interop.py");

/// Whether the Python side can run; panics under CI when it cannot.
fn python_available() -> bool {
    let ok = Command::new("python3")
        .args(["-c", "import http_message_signatures, cryptography"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        let msg = "python3 with the `http-message-signatures` package is not available \
                   (python3 -m pip install http-message-signatures, or scripts/install-validators.sh)";
        assert!(std::env::var_os("CI").is_none(), "{msg}");
        // Straight to stderr, past libtest's capture, so the skip shows without --nocapture.
        let line = format!("SKIPPING the http-message-signatures interop test: {msg}\n");
        let _ = std::io::stderr().write_all(line.as_bytes());
    }
    ok
}

/// Runs `interop.py <mode>` with `input` on stdin; returns (exit success, stdout JSON).
fn run_python(mode: &str, input: &Value) -> (bool, Value) {
    let mut child = Command::new("python3")
        .arg(SCRIPT)
        .arg(mode)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 starts");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.to_string().as_bytes())
        .expect("write stdin");
    let out = child.wait_with_output().expect("python3 runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let value: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!(
            "interop.py {mode} printed no JSON ({e}): {stdout}\nstderr: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.success(), value)
}

fn python_verify(pem: &str, target: &RequestTarget<'_>, h: &SignedHeaders) -> (bool, Value) {
    run_python(
        "verify",
        &json!({
            "public_key_pem": pem,
            "method": target.method(),
            "path": target.path(),
            "body_b64": Base64::encode_string(target.body()),
            "headers": {
                "Content-Digest": h.content_digest,
                "Signature-Input": h.signature_input,
                "Signature": h.signature,
            },
        }),
    )
}

#[test]
fn python_verifies_requests_we_sign() {
    if !python_available() {
        return;
    }
    let key = device_key(7);
    let pem = key
        .verifying_key()
        .to_public_key_pem(LineEnding::LF)
        .expect("PEM");
    let get = RequestTarget::new("GET", "/v1/keys/k-01/status", b"").expect("valid");
    for target in [target(), get] {
        let h = sign_request(&target, &params(), &key).expect("signs");
        let (ok, out) = python_verify(&pem, &target, &h);
        assert!(ok, "http-message-signatures refused our signature: {out}");
        assert_eq!(out["label"], "sig1");
        assert_eq!(out["parameters"]["keyid"], KEYID);
        assert_eq!(out["parameters"]["nonce"], NONCE);
        assert_eq!(out["parameters"]["created"], CREATED);
        assert_eq!(out["parameters"]["alg"], "ecdsa-p256-sha256");
        let covered = out["covered"].as_array().expect("list");
        for c in ["\"@method\"", "\"@path\"", "\"content-digest\""] {
            assert!(covered.iter().any(|v| v == c), "{c} covered: {out}");
        }
    }

    // The Python verifier is not vacuous: it refuses what ours refuses.
    let h = signed();
    let other_body = RequestTarget::new(METHOD, PATH, b"{}").expect("valid");
    let (ok, out) = python_verify(&pem, &other_body, &h);
    assert!(!ok && out["ok"] == false, "tampered body accepted: {out}");
    let mut later = h.clone();
    later.signature_input = h
        .signature_input
        .replace("created=1700000000", "created=1700000001");
    let (ok, out) = python_verify(&pem, &target(), &later);
    assert!(!ok, "tampered created accepted: {out}");
    let other_key_pem = device_key(8)
        .verifying_key()
        .to_public_key_pem(LineEnding::LF)
        .expect("PEM");
    let (ok, out) = python_verify(&other_key_pem, &target(), &h);
    assert!(!ok, "signature accepted under another key: {out}");
}

#[test]
fn we_verify_requests_python_signs() {
    if !python_available() {
        return;
    }
    let long_body = vec![b'x'; 10_000];
    let bodies: [(&str, &str, &[u8]); 3] = [
        ("GET", "/v1/keys/k-01/status", b""),
        (METHOD, PATH, BODY),
        ("PUT", "/v1/keys/k-01/pin", &long_body),
    ];
    for (method, path, body) in bodies {
        let target = RequestTarget::new(method, path, body).expect("valid");
        let (ok, out) = run_python(
            "sign",
            &json!({
                "method": method,
                "path": path,
                "body_b64": Base64::encode_string(body),
                "keyid": KEYID,
                "nonce": NONCE,
                "created": CREATED,
            }),
        );
        assert!(ok, "interop.py sign failed: {out}");
        let header = |name: &str| out["headers"][name].as_str().expect("header").to_owned();
        let h = SignedHeaders {
            content_digest: header("Content-Digest"),
            signature_input: header("Signature-Input"),
            signature: header("Signature"),
        };
        let spki = Base64::decode_vec(out["spki_der_b64"].as_str().expect("spki")).expect("b64");
        let key = verifying_key_from_spki_der(&spki).expect("Python's SPKI parses");

        let parsed = parse(&h).unwrap_or_else(|e| panic!("strict parser refused {h:?}: {e}"));
        assert_eq!(parsed.params(), &params());
        parsed
            .verify(&target, &key)
            .expect("Python's signature verifies");

        // The library orders the parameters created;keyid;alg;nonce: the signature verifies
        // only because the base uses the parameters as received, which are not our order.
        let python_base = out["signature_base"].as_str().expect("base");
        let received = python_base
            .rsplit_once("\n\"@signature-params\": ")
            .expect("last line")
            .1;
        assert_eq!(parsed.signature_params(), received);
        let ours = signature_base(&target, &params());
        assert_ne!(ours, python_base, "parameter order is the same as ours now");
        eprintln!("Python's Signature-Input: {}", h.signature_input);

        // And its signatures are refused when the request changes.
        let moved = RequestTarget::new(method, "/v1/keys/k-02/status", body).expect("valid");
        assert_eq!(parsed.verify(&moved, &key), Err(HttpSigError::BadSignature));
        let other_body = RequestTarget::new(method, path, b"tampered").expect("valid");
        assert_eq!(
            parsed.verify(&other_body, &key),
            Err(HttpSigError::DigestMismatch)
        );
        let other_key = device_key(8);
        assert_eq!(
            parsed.verify(&target, other_key.verifying_key()),
            Err(HttpSigError::BadSignature)
        );
    }
}

/// A request signed by Python with parameters our signer would never write (another nonce
/// length, a key id with every allowed punctuation) still meets the subset and verifies.
#[test]
fn python_signed_edge_params_verify() {
    if !python_available() {
        return;
    }
    let keyid = "a.b:c-d_e";
    let nonce = "x".repeat(64);
    let (ok, out) = run_python(
        "sign",
        &json!({
            "method": "DELETE", "path": "/v1/keys/k%2F1", "body_b64": "",
            "keyid": keyid, "nonce": nonce, "created": 0,
        }),
    );
    assert!(ok, "{out}");
    let header = |name: &str| out["headers"][name].as_str().expect("header").to_owned();
    let parsed = ParsedSignature::parse(
        Some(&header("Content-Digest")),
        Some(&header("Signature-Input")),
        Some(&header("Signature")),
    )
    .expect("parses");
    assert_eq!(
        parsed.params(),
        &SignatureParams::new(keyid, 0, &nonce).expect("valid")
    );
    let spki = Base64::decode_vec(out["spki_der_b64"].as_str().expect("spki")).expect("b64");
    let key = verifying_key_from_spki_der(&spki).expect("SPKI");
    let target = RequestTarget::new("DELETE", "/v1/keys/k%2F1", b"").expect("valid");
    parsed.verify(&target, &key).expect("verifies");
}
