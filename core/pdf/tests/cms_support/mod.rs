//! Shared fixtures for the CMS tests: an SM2 PKI from inkseal-pki and a P-256 PKI from OpenSSL.
#![allow(dead_code, clippy::unwrap_used)]

use inkseal_pdf::cms::{self, SignatureAlgorithm};
use inkseal_pdf::signer::{LocalSigner, Signer};
use inkseal_pki::{CaKey, der_to_pem};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{SystemTime, UNIX_EPOCH};

pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_secs()
}

/// A signer with its chain and trust anchor.
pub struct Fixture {
    pub algorithm: SignatureAlgorithm,
    /// Signer certificate first, then intermediates (no root).
    pub chain: Vec<Vec<u8>>,
    pub root_der: Vec<u8>,
    pub key_pem: String,
    pub signer: LocalSigner,
    /// Keeps OpenSSL's files alive (P-256 fixture only).
    pub dir: Option<tempfile::TempDir>,
}

impl Fixture {
    pub fn signer_der(&self) -> &[u8] {
        &self.chain[0]
    }
}

/// An SM2 user key: the inkseal CaKey type is a convenient SM2 key generator.
pub struct Sm2Key {
    pub key: CaKey,
    pub secret: sm2::SecretKey,
    pub pkcs8_der: Vec<u8>,
}

pub fn sm2_key() -> Sm2Key {
    use sm2::pkcs8::DecodePrivateKey;
    let key = CaKey::generate();
    let pkcs8_der = key.to_pkcs8_der().expect("pkcs8").to_vec();
    let secret = sm2::SecretKey::from_pkcs8_der(&pkcs8_der).expect("sm2 key");
    Sm2Key {
        key,
        secret,
        pkcs8_der,
    }
}

/// Issue an SM2 end-entity certificate for `user` through a real CSR.
pub fn issue_sm2(
    ca_key: &CaKey,
    ca_der: &[u8],
    user: &Sm2Key,
    cn: &str,
    serial: [u8; 16],
) -> Vec<u8> {
    use sm2::dsa::signature::Signer as _;
    let tbs = inkseal_pki::csr_to_be_signed(user.key.public_key(), cn).expect("csr tbs");
    let signing_key =
        sm2::dsa::SigningKey::new(inkseal_cosign::DEFAULT_SIGNER_ID, &user.secret).expect("sk");
    let signature: sm2::dsa::Signature = signing_key.try_sign(&tbs).expect("sign csr");
    let csr = inkseal_pki::assemble_csr(&tbs, &signature).expect("assemble csr");
    let verified = inkseal_pki::verify_csr(&csr).expect("verify csr");
    inkseal_pki::issue_certificate(ca_key, ca_der, &verified, &serial, 365, now())
        .expect("issue certificate")
}

/// SM2 CA (inkseal-pki) and a signer certificate issued through a CSR.
pub fn sm2_fixture() -> (Fixture, CaKey) {
    let ca_key = CaKey::generate();
    let ca_der =
        inkseal_pki::self_signed_ca(&ca_key, "Inkseal Test SM2 CA", 3650, now()).expect("ca");
    let user = sm2_key();
    let cert = issue_sm2(&ca_key, &ca_der, &user, "Alice SM2", [0x11; 16]);
    let key_pem = der_to_pem("PRIVATE KEY", &user.pkcs8_der);
    let chain = vec![cert.clone()];
    let signer = LocalSigner::from_pem(&key_pem, der_to_pem("CERTIFICATE", &cert).as_bytes())
        .expect("local signer");
    (
        Fixture {
            algorithm: SignatureAlgorithm::Sm2Sm3,
            chain,
            root_der: ca_der,
            key_pem,
            signer,
            dir: None,
        },
        ca_key,
    )
}

pub fn have_openssl() -> bool {
    Command::new("openssl")
        .arg("version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Run openssl in `dir`; returns the output whatever the exit status.
pub fn openssl(dir: &Path, args: &[&str]) -> Output {
    Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run openssl")
}

/// Run openssl in `dir` and require success.
pub fn openssl_ok(dir: &Path, args: &[&str]) -> Output {
    let out = openssl(dir, args);
    assert!(
        out.status.success(),
        "openssl {args:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

const OPENSSL_CNF: &str = "\
[req]
distinguished_name = dn
prompt = no
[dn]
CN = unused
[v3_root]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[v3_intermediate]
basicConstraints = critical,CA:TRUE,pathlen:0
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[v3_ee]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature,nonRepudiation
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
";

pub fn pem_file_der(path: &Path) -> Vec<u8> {
    let text = std::fs::read_to_string(path).expect("read pem");
    inkseal_pdf::signer::parse_certificate_chain(text.as_bytes())
        .expect("pem")
        .remove(0)
}

/// P-256 root -> intermediate (pathlen 0) -> signer, made with OpenSSL in a temporary
/// directory. Files: root.key root.pem inter.key inter.pem signer.key (SEC1 with EC
/// PARAMETERS) signer.pk8 (PKCS#8) signer.pem.
pub fn p256_fixture() -> Fixture {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    std::fs::write(d.join("openssl.cnf"), OPENSSL_CNF).expect("write cnf");
    for name in ["root", "inter", "signer"] {
        openssl_ok(
            d,
            &[
                "ecparam",
                "-name",
                "prime256v1",
                "-genkey",
                "-out",
                &format!("{name}.key"),
            ],
        );
    }
    openssl_ok(
        d,
        &[
            "req",
            "-x509",
            "-new",
            "-config",
            "openssl.cnf",
            "-key",
            "root.key",
            "-subj",
            "/CN=Inkseal Test P-256 Root/O=Inkseal",
            "-days",
            "3650",
            "-sha256",
            "-extensions",
            "v3_root",
            "-set_serial",
            "1",
            "-out",
            "root.pem",
        ],
    );
    for (name, issuer, ext, subject, serial) in [
        (
            "inter",
            "root",
            "v3_intermediate",
            "/CN=Inkseal Test P-256 Intermediate/O=Inkseal",
            "2",
        ),
        (
            "signer",
            "inter",
            "v3_ee",
            "/CN=Alice P-256/O=Inkseal",
            "0x3a5f",
        ),
    ] {
        openssl_ok(
            d,
            &[
                "req",
                "-new",
                "-config",
                "openssl.cnf",
                "-key",
                &format!("{name}.key"),
                "-subj",
                subject,
                "-out",
                &format!("{name}.csr"),
            ],
        );
        openssl_ok(
            d,
            &[
                "x509",
                "-req",
                "-in",
                &format!("{name}.csr"),
                "-CA",
                &format!("{issuer}.pem"),
                "-CAkey",
                &format!("{issuer}.key"),
                "-set_serial",
                serial,
                "-days",
                "365",
                "-sha256",
                "-extfile",
                "openssl.cnf",
                "-extensions",
                ext,
                "-out",
                &format!("{name}.pem"),
            ],
        );
    }
    openssl_ok(
        d,
        &[
            "pkcs8",
            "-topk8",
            "-nocrypt",
            "-in",
            "signer.key",
            "-out",
            "signer.pk8",
        ],
    );
    let signer_der = pem_file_der(&d.join("signer.pem"));
    let inter_der = pem_file_der(&d.join("inter.pem"));
    let root_der = pem_file_der(&d.join("root.pem"));
    let key_pem = std::fs::read_to_string(d.join("signer.key")).expect("key");
    let chain = vec![signer_der, inter_der];
    let signer = LocalSigner::from_der(&pem_key_der(&key_pem), chain.clone()).expect("signer");
    Fixture {
        algorithm: SignatureAlgorithm::EcdsaP256Sha256,
        chain,
        root_der,
        key_pem,
        signer,
        dir: Some(dir),
    }
}

/// The EC PRIVATE KEY block of an `openssl ecparam -genkey` file, as DER.
pub fn pem_key_der(pem: &str) -> Vec<u8> {
    let start = pem
        .find("-----BEGIN EC PRIVATE KEY-----")
        .expect("key block");
    der::pem::decode_vec(&pem.as_bytes()[start..])
        .expect("pem")
        .1
}

/// Sign `parts` (the detached content) end to end; returns (content digest, CMS DER).
pub fn sign_detached(
    fx: &Fixture,
    parts: &[&[u8]],
    extra: &[cms::ExtraAttribute],
) -> (Vec<u8>, Vec<u8>) {
    let mut digester = fx.algorithm.digester();
    for p in parts {
        digester.update(p);
    }
    let digest = digester.finalize();
    let attrs =
        cms::signed_attributes(fx.algorithm, &digest, fx.signer_der(), extra).expect("attrs");
    let signature = fx.signer.sign(&attrs).expect("sign");
    let der = cms::assemble(
        fx.algorithm,
        &attrs,
        &signature,
        fx.signer.certificate_chain(),
    )
    .expect("assemble");
    (digest, der)
}

pub fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).expect("write");
    path
}

/// Index of `needle` in `haystack` (exactly one occurrence required).
pub fn find_unique(haystack: &[u8], needle: &[u8]) -> usize {
    let hits: Vec<usize> = haystack
        .windows(needle.len())
        .enumerate()
        .filter(|(_, w)| *w == needle)
        .map(|(i, _)| i)
        .collect();
    assert_eq!(hits.len(), 1, "needle found {} times", hits.len());
    hits[0]
}
