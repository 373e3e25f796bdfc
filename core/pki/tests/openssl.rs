//! Cross-checks with the OpenSSL 3 command line (skipped when `openssl` is not installed).
//!
//! OpenSSL 3.0 does not apply the GB/T 32918 default signer ID "1234567812345678" on its own:
//! without `-vfyopt distid:...` / `-sigopt distid:...` it hashes Z_A with an empty ID. The
//! checks therefore pass the default ID explicitly.

mod common;

use common::*;
use der::{Decode, Encode};
use inkseal_pki::{
    CaKey, PkiError, certificate_public_key, check_issued_for, der_to_pem, issue_certificate,
    pem_to_der, verify_certificate_signature, verify_csr,
};
use std::path::Path;

fn write(dir: &Path, name: &str, contents: impl AsRef<[u8]>) {
    std::fs::write(dir.join(name), contents).expect("write");
}

fn read(dir: &Path, name: &str) -> Vec<u8> {
    std::fs::read(dir.join(name)).expect("read")
}

/// Our CA and an issued certificate written as PEM, plus the CSR and the CA key.
fn our_pki(dir: &Path) -> (CaKey, Vec<u8>, Vec<u8>) {
    let (ca_key, ca) = test_ca("inkseal test CA");
    let user = plain_key();
    let csr = csr_for(&user, "customer-310101199001011234");
    let verified = verify_csr(&csr).expect("csr");
    let ee = issue_certificate(&ca_key, &ca, &verified, &[0xab; 16], 365, now()).expect("issue");
    write(dir, "ca.pem", der_to_pem("CERTIFICATE", &ca));
    write(dir, "ee.pem", der_to_pem("CERTIFICATE", &ee));
    write(dir, "csr.pem", der_to_pem("CERTIFICATE REQUEST", &csr));
    let key_der = ca_key.to_pkcs8_der().expect("pkcs8");
    write(dir, "ca.key", der_to_pem("PRIVATE KEY", &key_der));
    (ca_key, ca, ee)
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs()
}

#[test]
fn openssl_verifies_our_issued_certificate() {
    if !openssl_available() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let dir = dir.path();
    our_pki(dir);
    let out = openssl(
        dir,
        &["verify", "-vfyopt", DISTID, "-CAfile", "ca.pem", "ee.pem"],
    );
    assert!(out.status.success());
    assert!(text(&out).contains("ee.pem: OK"));
    // For the record (not asserted): without the ID OpenSSL 3.0 reports a signature failure.
    openssl(dir, &["verify", "-CAfile", "ca.pem", "ee.pem"]);
}

#[test]
fn openssl_parses_our_certificates() {
    if !openssl_available() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let dir = dir.path();
    our_pki(dir);
    let ca = openssl(dir, &["x509", "-in", "ca.pem", "-noout", "-text"]);
    assert!(ca.status.success());
    let ca = text(&ca);
    for expected in [
        "Version: 3 (0x2)",
        "Signature Algorithm: SM2-with-SM3",
        "Public Key Algorithm: id-ecPublicKey",
        "ASN1 OID: SM2",
        "Subject: CN = inkseal test CA",
        "X509v3 Basic Constraints: critical",
        "CA:TRUE",
        "X509v3 Key Usage: critical",
        "Certificate Sign, CRL Sign",
        "X509v3 Subject Key Identifier",
    ] {
        assert!(
            ca.contains(expected),
            "CA certificate text lacks {expected:?}"
        );
    }
    let ee = openssl(dir, &["x509", "-in", "ee.pem", "-noout", "-text"]);
    assert!(ee.status.success());
    let ee = text(&ee);
    for expected in [
        "Signature Algorithm: SM2-with-SM3",
        "ASN1 OID: SM2",
        "Issuer: CN = inkseal test CA",
        "Subject: CN = customer-310101199001011234",
        "Serial Number:",
        "2b:ab:ab:ab:ab:ab:ab:ab:ab:ab:ab:ab:ab:ab:ab:ab",
        "CA:FALSE",
        "Digital Signature, Non Repudiation",
        "X509v3 Authority Key Identifier",
    ] {
        assert!(
            ee.contains(expected),
            "issued certificate text lacks {expected:?}"
        );
    }
}

#[test]
fn openssl_verifies_the_ca_self_signature_with_pkeyutl() {
    if !openssl_available() {
        return;
    }
    // `openssl verify` does not check a trust anchor's own signature with an SM2 ID, so check
    // it directly: SM2 with SM3 and the default ID over the TBSCertificate bytes.
    let dir = tempfile::tempdir().expect("tempdir");
    let dir = dir.path();
    let (_, ca, _) = our_pki(dir);
    let cert = x509_cert::Certificate::from_der(&ca).expect("parse");
    let tbs = cert.tbs_certificate().to_der().expect("tbs");
    let sig = cert.signature().as_bytes().expect("sig");
    assert!(openssl_sm2_verifies(dir, "ca.pem", &tbs, sig));
}

#[test]
fn openssl_verifies_our_csr() {
    if !openssl_available() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let dir = dir.path();
    our_pki(dir);
    let out = openssl(
        dir,
        &[
            "req", "-in", "csr.pem", "-verify", "-noout", "-vfyopt", DISTID,
        ],
    );
    assert!(out.status.success());
    assert!(text(&out).contains("verify OK"));
    let out = openssl(dir, &["req", "-in", "csr.pem", "-noout", "-text"]);
    assert!(out.status.success());
    let t = text(&out);
    assert!(t.contains("Subject: CN = customer-310101199001011234"));
    assert!(t.contains("ASN1 OID: SM2"));
    assert!(t.contains("Signature Algorithm: SM2-with-SM3"));
}

#[test]
fn openssl_reads_our_ca_key() {
    if !openssl_available() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let dir = dir.path();
    let (_, ca, _) = our_pki(dir);
    let out = openssl(
        dir,
        &[
            "pkey", "-in", "ca.key", "-pubout", "-outform", "DER", "-out", "ca.spki",
        ],
    );
    assert!(out.status.success());
    let cert = x509_cert::Certificate::from_der(&ca).expect("parse");
    let spki = cert
        .tbs_certificate()
        .subject_public_key_info()
        .to_der()
        .expect("spki");
    assert_eq!(read(dir, "ca.spki"), spki);
}

#[test]
fn we_accept_openssl_csrs_and_certificates() {
    if !openssl_available() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let dir = dir.path();
    let (_, ca, _) = our_pki(dir);

    assert!(
        openssl(dir, &["genpkey", "-algorithm", "SM2", "-out", "user.key"])
            .status
            .success()
    );
    assert!(
        openssl(
            dir,
            &[
                "pkey",
                "-in",
                "user.key",
                "-pubout",
                "-outform",
                "DER",
                "-out",
                "user.spki"
            ]
        )
        .status
        .success()
    );
    let user_spki =
        spki::SubjectPublicKeyInfoOwned::from_der(&read(dir, "user.spki")).expect("spki");
    let user_pk = inkseal_cosign::sm2::PublicKey::from_sec1_bytes(
        user_spki.subject_public_key.as_bytes().expect("point"),
    )
    .expect("sm2 point");

    // An OpenSSL CSR signed with the default ID verifies here.
    let out = openssl(
        dir,
        &[
            "req",
            "-new",
            "-key",
            "user.key",
            "-subj",
            "/CN=bob",
            "-sm3",
            "-sigopt",
            DISTID,
            "-outform",
            "DER",
            "-out",
            "user_id.csr",
        ],
    );
    assert!(out.status.success());
    let verified = verify_csr(&read(dir, "user_id.csr")).expect("OpenSSL CSR with the default ID");
    assert_eq!(verified.common_name, "bob");
    assert_eq!(verified.public_key, user_pk);

    // Without -sigopt OpenSSL 3.0 signs with an empty ID, which is not the standard default.
    let out = openssl(
        dir,
        &[
            "req",
            "-new",
            "-key",
            "user.key",
            "-subj",
            "/CN=bob",
            "-sm3",
            "-outform",
            "DER",
            "-out",
            "user_noid.csr",
        ],
    );
    assert!(out.status.success());
    match verify_csr(&read(dir, "user_noid.csr")) {
        Ok(_) => eprintln!("this OpenSSL signs CSRs with the default SM2 ID by default"),
        Err(e) => {
            assert_eq!(e, PkiError::BadSignature);
            eprintln!("OpenSSL CSR without -sigopt distid: rejected ({e})");
        }
    }

    // OpenSSL issues with our CA key (PKCS#8 from CaKey::to_pkcs8_der) and the default ID; our
    // checks accept the result.
    write(
        dir,
        "user_id.csr.pem",
        der_to_pem("CERTIFICATE REQUEST", &read(dir, "user_id.csr")),
    );
    let out = openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "user_id.csr.pem",
            "-vfyopt",
            DISTID,
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-sm3",
            "-sigopt",
            DISTID,
            "-days",
            "30",
            "-set_serial",
            "4660",
            "-outform",
            "DER",
            "-out",
            "openssl_ee.der",
        ],
    );
    assert!(out.status.success());
    let openssl_ee = read(dir, "openssl_ee.der");
    verify_certificate_signature(&openssl_ee, &ca).expect("OpenSSL-issued certificate verifies");
    assert_eq!(certificate_public_key(&openssl_ee).expect("key"), user_pk);
    check_issued_for(&openssl_ee, &ca, &user_pk, now()).expect("phone check");

    // An OpenSSL-generated SM2 key works as our CA key; OpenSSL verifies what it issues.
    let (_, key_der) =
        pem_to_der(&String::from_utf8(read(dir, "user.key")).expect("utf8")).expect("pem");
    let openssl_ca_key = CaKey::from_pkcs8_der(&key_der).expect("OpenSSL PKCS#8 SM2 key");
    assert_eq!(*openssl_ca_key.public_key(), user_pk);
    let ca2 = inkseal_pki::self_signed_ca(&openssl_ca_key, "CA with an OpenSSL key", 30, now())
        .expect("ca2");
    let ee2 =
        issue_certificate(&openssl_ca_key, &ca2, &verified, &[5; 16], 30, now()).expect("ee2");
    write(dir, "ca2.pem", der_to_pem("CERTIFICATE", &ca2));
    write(dir, "ee2.pem", der_to_pem("CERTIFICATE", &ee2));
    let out = openssl(
        dir,
        &["verify", "-vfyopt", DISTID, "-CAfile", "ca2.pem", "ee2.pem"],
    );
    assert!(out.status.success());
}
