//! Independent checks of the embedded CA's CRLs with tools that share no code with inkseal.
//!
//! Which tool verifies the SM2 signature, and why:
//! * **BouncyCastle** (`CrlCheck.java`, run as a single-file Java program against Debian's
//!   `/usr/share/java/bc{prov,pkix,util}.jar`) is the verifier of record: its SM2-with-SM3
//!   verifier applies the GB/T 32918 default signer ID "1234567812345678", as the CA signs.
//! * **OpenSSL 3.0** cannot be that verifier: `openssl crl -verify` has no `-vfyopt`, so it
//!   hashes Z_A with an empty ID and prints "verify failure" for every standard SM2 CRL (and
//!   still exits 0); `openssl verify -crl_check -vfyopt distid:...` applies the ID to
//!   certificates only and reports "CRL signature failure". The tests record that verdict
//!   without asserting it, check with `openssl pkeyutl -pkeyopt distid:1234567812345678` that
//!   the signature over the TBSCertList bytes is right, and show the cause: a CRL OpenSSL signs
//!   itself (empty ID) passes `openssl crl -verify` but fails BouncyCastle and `parse_crl`.
//!   `openssl crl -text` does read our CRLs and lists the revoked serials and reasons.
//!
//! Each test is skipped, with a message on stderr, when its tool (openssl, java, the
//! BouncyCastle jars) is not installed (`scripts/install-validators.sh` installs them).

mod common;

use common::*;
use der::{Decode, Encode};
use inkseal_pki::{
    PkiError, RevocationReason, RevokedCertificate, build_crl, certificate_serial, der_to_pem,
    issue_certificate, parse_crl,
};
use std::path::Path;
use std::process::Command;

const BC_JARS: [&str; 3] = [
    "/usr/share/java/bcprov.jar",
    "/usr/share/java/bcpkix.jar",
    "/usr/share/java/bcutil.jar",
];

fn bouncycastle_available() -> bool {
    let java = Command::new("java")
        .arg("-version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !java {
        eprintln!("java not found: skipping the BouncyCastle CRL check");
        return false;
    }
    if let Some(missing) = BC_JARS.iter().find(|jar| !Path::new(jar).exists()) {
        eprintln!("{missing} not found (libbcprov-java, libbcpkix-java, libbcutil-java): skipping");
        return false;
    }
    true
}

/// Run `CrlCheck.java` on DER files in `dir`; returns (exit code, output).
fn crl_check(dir: &Path, ca_der: &str, crl_der: &str) -> (i32, String) {
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/CrlCheck.java");
    let out = Command::new("java")
        .arg("-cp")
        .arg(BC_JARS.join(":"))
        .arg(&source)
        .arg(ca_der)
        .arg(crl_der)
        .current_dir(dir)
        .output()
        .expect("run java");
    let output = text(&out);
    eprintln!("$ java CrlCheck.java {ca_der} {crl_der}\n{output}");
    (out.status.code().unwrap_or(-1), output)
}

/// A CA, three certificates it issued and revoked (reasons: keyCompromise, none, superseded),
/// and the CRL, written to `dir` as ca.pem / ca.der / crl.pem / crl.der / ca.key.
struct Fixture {
    ca: Vec<u8>,
    crl: Vec<u8>,
    revoked: Vec<RevokedCertificate>,
}

fn fixture(dir: &Path) -> Fixture {
    let (ca_key, ca) = test_ca("inkseal test CA");
    let reasons = [
        Some(RevocationReason::KeyCompromise),
        None,
        Some(RevocationReason::Superseded),
    ];
    let revoked: Vec<_> = reasons
        .into_iter()
        .enumerate()
        .map(|(i, reason)| {
            let csr = verified_csr(&plain_key(), &format!("customer-{i}"));
            let mut serial = [0xa0 + i as u8; 16];
            serial[15] = i as u8 + 1;
            let cert = issue_certificate(&ca_key, &ca, &csr, &serial, 365, NOW).expect("issue");
            RevokedCertificate {
                serial: certificate_serial(&cert).expect("serial"),
                revoked_at_unix: NOW + 60 * (i as u64 + 1),
                reason,
            }
        })
        .collect();
    let crl = build_crl(&ca_key, &ca, &revoked, 17, NOW, NOW + 7 * DAY).expect("crl");
    std::fs::write(dir.join("ca.pem"), der_to_pem("CERTIFICATE", &ca)).expect("write");
    std::fs::write(dir.join("ca.der"), &ca).expect("write");
    std::fs::write(dir.join("crl.pem"), der_to_pem("X509 CRL", &crl)).expect("write");
    std::fs::write(dir.join("crl.der"), &crl).expect("write");
    let key = ca_key.to_pkcs8_der().expect("pkcs8");
    std::fs::write(dir.join("ca.key"), der_to_pem("PRIVATE KEY", &key)).expect("write");
    Fixture { ca, crl, revoked }
}

fn upper_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

#[test]
fn openssl_lists_the_revoked_serials_and_checks_the_signature_with_the_sm2_id() {
    if !openssl_available() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let dir = dir.path();
    let f = fixture(dir);

    let out = openssl(dir, &["crl", "-in", "crl.pem", "-noout", "-text"]);
    assert!(out.status.success());
    let listing = text(&out);
    for expected in [
        "Version 2 (0x1)",
        "Signature Algorithm: SM2-with-SM3",
        "Issuer: CN = inkseal test CA",
        "Last Update: Jan  1 00:00:00 2026 GMT",
        "Next Update: Jan  8 00:00:00 2026 GMT",
        "X509v3 Authority Key Identifier",
        "X509v3 CRL Number",
        "17",
        "Key Compromise",
        "Superseded",
    ] {
        assert!(listing.contains(expected), "CRL text lacks {expected:?}");
    }
    for entry in &f.revoked {
        let serial = format!("Serial Number: {}", upper_hex(&entry.serial));
        assert!(listing.contains(&serial), "CRL text lacks {serial:?}");
    }
    assert_eq!(listing.matches("Serial Number:").count(), 3);

    // OpenSSL checks the SM2 signature (default ID) over the TBSCertList bytes.
    let crl: x509_cert::crl::CertificateList = Decode::from_der(&f.crl).expect("decode");
    let tbs = crl.tbs_cert_list.to_der().expect("tbs");
    let sig = crl.signature.as_bytes().expect("sig");
    assert!(openssl_sm2_verifies(dir, "ca.pem", &tbs, sig));
    let mut tampered = tbs;
    let last = tampered.len() - 1;
    tampered[last] ^= 1;
    assert!(!openssl_sm2_verifies(dir, "ca.pem", &tampered, sig));

    // For the record (not asserted): `openssl crl -verify` cannot be given the SM2 ID.
    let out = openssl(
        dir,
        &[
            "crl", "-in", "crl.pem", "-CAfile", "ca.pem", "-verify", "-noout",
        ],
    );
    let verdict = text(&out);
    if verdict.contains("verify OK") {
        eprintln!("this OpenSSL verifies standard SM2 CRLs with `openssl crl -verify`");
    } else {
        eprintln!(
            "`openssl crl -verify` (empty SM2 ID) says: {}",
            verdict.trim()
        );
    }
}

#[test]
fn bouncycastle_verifies_our_crl_and_lists_the_revoked_serials() {
    if !bouncycastle_available() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let dir = dir.path();
    let f = fixture(dir);

    let (code, out) = crl_check(dir, "ca.der", "crl.der");
    assert_eq!(code, 0, "BouncyCastle refused our CRL:\n{out}");
    assert!(out.contains("signature: valid"));
    assert!(out.contains("issuer: match"));
    assert!(out.contains("algorithm: 1.2.156.10197.1.501"));
    assert!(out.contains("crlNumber: 17"));
    assert!(out.contains(&format!("thisUpdate: {NOW}")));
    assert!(out.contains(&format!("nextUpdate: {}", NOW + 7 * DAY)));
    let reason_codes = ["1", "-", "4"];
    for (entry, code) in f.revoked.iter().zip(reason_codes) {
        let line = format!(
            "revoked: {} {} {code}",
            upper_hex(&entry.serial),
            entry.revoked_at_unix
        );
        assert!(out.contains(&line), "BouncyCastle output lacks {line:?}");
    }
    assert_eq!(out.matches("revoked: ").count(), 3);

    // BouncyCastle really checks: one changed octet (the CRL number) and it refuses.
    let mut tampered = f.crl.clone();
    let number = [0x02, 0x01, 17]; // INTEGER 17
    let at = tampered
        .windows(3)
        .position(|w| w == number)
        .expect("cRLNumber");
    tampered[at + 2] = 18;
    assert_eq!(parse_crl(&tampered, &f.ca), Err(PkiError::BadSignature));
    std::fs::write(dir.join("tampered.der"), &tampered).expect("write");
    let (code, out) = crl_check(dir, "ca.der", "tampered.der");
    assert_eq!(code, 1);
    assert!(out.contains("signature: invalid"));

    // And under another CA with the same name.
    let (_, impostor) = test_ca("inkseal test CA");
    std::fs::write(dir.join("impostor.der"), &impostor).expect("write");
    let (code, out) = crl_check(dir, "impostor.der", "crl.der");
    assert_eq!(code, 1);
    assert!(out.contains("signature: invalid"));
}

#[test]
fn an_openssl_signed_crl_shows_openssl_uses_the_empty_sm2_id() {
    if !openssl_available() || !bouncycastle_available() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let dir = dir.path();
    let f = fixture(dir);
    std::fs::create_dir(dir.join("db")).expect("mkdir");
    std::fs::write(dir.join("db/index.txt"), "").expect("write");
    std::fs::write(dir.join("db/crlnumber"), "05\n").expect("write");
    std::fs::write(
        dir.join("ca.cnf"),
        "[ca]\ndefault_ca = inkseal\n[inkseal]\ndatabase = db/index.txt\n\
         crlnumber = db/crlnumber\ndefault_md = sm3\ndefault_crl_days = 7\n",
    )
    .expect("write");
    let out = openssl(
        dir,
        &[
            "ca",
            "-config",
            "ca.cnf",
            "-gencrl",
            "-keyfile",
            "ca.key",
            "-cert",
            "ca.pem",
            "-out",
            "openssl.pem",
        ],
    );
    assert!(out.status.success());
    let out = openssl(
        dir,
        &[
            "crl",
            "-in",
            "openssl.pem",
            "-outform",
            "DER",
            "-out",
            "openssl.der",
        ],
    );
    assert!(out.status.success());
    let openssl_crl = std::fs::read(dir.join("openssl.der")).expect("read");

    let own_verdict = text(&openssl(
        dir,
        &[
            "crl",
            "-in",
            "openssl.pem",
            "-CAfile",
            "ca.pem",
            "-verify",
            "-noout",
        ],
    ));
    let (bc_code, _) = crl_check(dir, "ca.der", "openssl.der");
    match parse_crl(&openssl_crl, &f.ca) {
        Ok(parsed) => {
            eprintln!("this OpenSSL signs CRLs with the default SM2 ID");
            assert_eq!(parsed.crl_number, 5);
            assert_eq!(bc_code, 0);
        }
        Err(e) => {
            // OpenSSL 3.0: signed with an empty ID, which it also verifies with; BouncyCastle
            // and parse_crl apply the standard default ID and refuse it.
            assert_eq!(e, PkiError::BadSignature);
            assert!(own_verdict.contains("verify OK"), "{own_verdict}");
            assert_eq!(bc_code, 1);
        }
    }
}
