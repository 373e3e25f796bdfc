//! Shared helpers for the integration tests.
#![allow(dead_code)]

use inkseal_cosign::DEFAULT_SIGNER_ID;
use inkseal_cosign::sm2::dsa::SigningKey;
use inkseal_cosign::sm2::dsa::signature::hazmat::PrehashSigner;
use inkseal_cosign::sm2::elliptic_curve::Generate;
use inkseal_cosign::sm2::{PublicKey, SecretKey};
use inkseal_pki::{CaKey, VerifiedCsr, assemble_csr, csr_to_be_signed, verify_csr};

/// 2026-01-01T00:00:00Z
pub const NOW: u64 = 1_767_225_600;
pub const DAY: u64 = 86_400;

/// A plain (single-party) SM2 key with the default signer ID.
pub fn plain_key() -> SigningKey {
    SigningKey::new(DEFAULT_SIGNER_ID, &SecretKey::generate()).expect("signing key")
}

pub fn public_key(key: &SigningKey) -> PublicKey {
    PublicKey::from(key.verifying_key().clone())
}

/// A CSR signed the way the phone does it: sign e = SM3(Z_A || tbs) as a prehash.
pub fn csr_for(key: &SigningKey, cn: &str) -> Vec<u8> {
    let pk = public_key(key);
    let tbs = csr_to_be_signed(&pk, cn).expect("tbs");
    let e = inkseal_cosign::message_digest(&pk, &tbs);
    let sig = key.sign_prehash(&e).expect("sign");
    assemble_csr(&tbs, &sig).expect("assemble")
}

pub fn verified_csr(key: &SigningKey, cn: &str) -> VerifiedCsr {
    verify_csr(&csr_for(key, cn)).expect("verify csr")
}

/// A CA key and its self-signed certificate (valid from NOW for ten years).
pub fn test_ca(cn: &str) -> (CaKey, Vec<u8>) {
    let key = CaKey::generate();
    let cert = inkseal_pki::self_signed_ca(&key, cn, 3650, NOW).expect("ca cert");
    (key, cert)
}

/// The GB/T 32918 default signer ID, as OpenSSL 3.0 must be told it.
pub const DISTID: &str = "distid:1234567812345678";

/// Whether `openssl` runs (the OpenSSL cross-checks skip, saying so, when it does not).
pub fn openssl_available() -> bool {
    let ok = std::process::Command::new("openssl")
        .arg("version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        eprintln!("openssl not found: skipping the OpenSSL cross-check");
    }
    ok
}

/// stdout and stderr of a finished command, as text.
pub fn text(out: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Run `openssl ARGS` in `dir`, echoing the command and its output.
pub fn openssl(dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    let out = std::process::Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run openssl");
    eprintln!("$ openssl {}\n{}", args.join(" "), text(&out));
    out
}

/// Whether OpenSSL accepts `sig` (DER SM2 signature) over `tbs` under the public key of the
/// certificate in `dir/ca_pem`: SM2 with SM3 and the default signer ID, via `pkeyutl`
/// (`openssl verify` and `openssl crl -verify` cannot be given the ID for a trust anchor).
pub fn openssl_sm2_verifies(dir: &std::path::Path, ca_pem: &str, tbs: &[u8], sig: &[u8]) -> bool {
    std::fs::write(dir.join("sm2-check.tbs"), tbs).expect("write");
    std::fs::write(dir.join("sm2-check.sig"), sig).expect("write");
    let key = openssl(
        dir,
        &[
            "x509",
            "-in",
            ca_pem,
            "-pubkey",
            "-noout",
            "-out",
            "sm2-check.pub",
        ],
    );
    assert!(key.status.success(), "the public key of {ca_pem}");
    let out = openssl(
        dir,
        &[
            "pkeyutl",
            "-verify",
            "-pubin",
            "-inkey",
            "sm2-check.pub",
            "-rawin",
            "-digest",
            "sm3",
            "-pkeyopt",
            DISTID,
            "-in",
            "sm2-check.tbs",
            "-sigfile",
            "sm2-check.sig",
        ],
    );
    out.status.success() && text(&out).contains("Signature Verified Successfully")
}
