//! Signatures other signers make and inkseal verifies without writing them (the
//! `other-algorithms` feature): RSA PKCS#1 v1.5 and RSASSA-PSS, ECDSA on P-256 with SHA-384,
//! P-384 and P-521 (Ed25519: OpenSSL 3.0 cannot sign CMS with it, so pyHanko makes those in
//! tests/tests/other_signers.rs). Each is made by OpenSSL (`openssl cms -sign`, a CA and signer
//! certificate of the same algorithm made by `openssl req`/`x509`), verified with its chain,
//! then refused once the content or the signature value is changed. SHA-1 and RSA under 2048
//! bits are refused as weak even though they verify.

#![cfg(feature = "other-algorithms")]

mod cms_support;

use cms_support::{find_unique, openssl_ok, pem_file_der, write};
use inkseal_pdf::cms::{self, CmsError, DigestAlgorithm, NistCurve, OtherAlgorithm};

const CONTENT: &[u8] = b"%PDF-1.7 bytes a counterparty signed with another tool\n";

const CNF: &str = "\
[req]
distinguished_name = dn
prompt = no
[dn]
CN = unused
[v3_root]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[v3_ee]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature,nonRepudiation
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
";

/// How one case's keys, certificates and signature are made.
struct Case {
    name: &'static str,
    /// `openssl genpkey` arguments for the CA's and the signer's keys.
    key: &'static [&'static str],
    /// Digest for the certificates and the CMS signature (`-sha384`, `-md sha384`).
    md: &'static str,
    /// Extra `openssl cms -sign` arguments (`-keyopt rsa_padding_mode:pss`).
    sign: &'static [&'static str],
}

/// A CA and a signer certificate for `case` in a fresh directory, and the DER CMS signature
/// over [`CONTENT`]. Returns (directory, root DER, CMS DER).
fn make(case: &Case) -> (tempfile::TempDir, Vec<u8>, Vec<u8>) {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    write(d, "openssl.cnf", CNF.as_bytes());
    write(d, "data.bin", CONTENT);
    for key in ["root.key", "signer.key"] {
        let mut args = vec!["genpkey"];
        args.extend_from_slice(case.key);
        args.extend_from_slice(&["-out", key]);
        openssl_ok(d, &args);
    }
    let md = format!("-{}", case.md);
    let md_args = [md.as_str()];
    let mut root = vec![
        "req", "-x509", "-new", "-key", "root.key", "-out", "root.pem", "-days", "30", "-subj",
    ];
    root.extend_from_slice(&["/CN=Other Algorithms Root", "-config", "openssl.cnf"]);
    root.extend_from_slice(&["-extensions", "v3_root"]);
    root.extend(md_args.iter().copied());
    openssl_ok(d, &root);
    openssl_ok(
        d,
        &[
            "req",
            "-new",
            "-key",
            "signer.key",
            "-subj",
            "/CN=Counterparty Signer",
            "-config",
            "openssl.cnf",
            "-out",
            "signer.csr",
        ],
    );
    let mut issue = vec![
        "x509",
        "-req",
        "-in",
        "signer.csr",
        "-CA",
        "root.pem",
        "-CAkey",
        "root.key",
        "-CAcreateserial",
        "-days",
        "30",
        "-extfile",
        "openssl.cnf",
        "-extensions",
        "v3_ee",
        "-out",
        "signer.pem",
    ];
    issue.extend(md_args.iter().copied());
    openssl_ok(d, &issue);
    let mut sign = vec![
        "cms",
        "-sign",
        "-binary",
        "-in",
        "data.bin",
        "-signer",
        "signer.pem",
        "-inkey",
        "signer.key",
        "-md",
        case.md,
        "-outform",
        "DER",
        "-out",
        "sig.der",
    ];
    sign.extend_from_slice(case.sign);
    openssl_ok(d, &sign);
    let root_der = pem_file_der(&d.join("root.pem"));
    let cms_der = std::fs::read(d.join("sig.der")).expect("signature");
    (dir, root_der, cms_der)
}

fn digest_of(parsed: &cms::ParsedSignedData, content: &[u8]) -> Vec<u8> {
    parsed.digest_algorithm().digest(&[content])
}

/// The signature value replaced by the same bytes with the last one changed.
fn with_changed_signature(der: &[u8], parsed: &cms::ParsedSignedData) -> Vec<u8> {
    let signature = parsed.signature().expect("signature").to_vec();
    let at = find_unique(der, &signature) + signature.len() - 1;
    let mut changed = der.to_vec();
    changed[at] ^= 0x01;
    changed
}

#[test]
fn signatures_of_other_algorithms_verify_with_their_chains_and_fail_when_changed() {
    let cases = [
        (
            Case {
                name: "RSA-2048 PKCS#1 v1.5 SHA-256",
                key: &["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"],
                md: "sha256",
                sign: &[],
            },
            OtherAlgorithm::RsaPkcs1v15 {
                modulus_bits: 2048,
                digest: DigestAlgorithm::Sha256,
            },
        ),
        (
            Case {
                name: "RSA-3072 PSS SHA-384",
                key: &["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:3072"],
                md: "sha384",
                sign: &["-keyopt", "rsa_padding_mode:pss"],
            },
            OtherAlgorithm::RsaPss {
                modulus_bits: 3072,
                digest: DigestAlgorithm::Sha384,
            },
        ),
        (
            Case {
                name: "ECDSA-P256-SHA384",
                key: &["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"],
                md: "sha384",
                sign: &[],
            },
            OtherAlgorithm::Ecdsa {
                curve: NistCurve::P256,
                digest: DigestAlgorithm::Sha384,
            },
        ),
        (
            Case {
                name: "ECDSA-P384-SHA384",
                key: &["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384"],
                md: "sha384",
                sign: &[],
            },
            OtherAlgorithm::Ecdsa {
                curve: NistCurve::P384,
                digest: DigestAlgorithm::Sha384,
            },
        ),
        (
            Case {
                name: "ECDSA-P521-SHA512",
                key: &["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-521"],
                md: "sha512",
                sign: &[],
            },
            OtherAlgorithm::Ecdsa {
                curve: NistCurve::P521,
                digest: DigestAlgorithm::Sha512,
            },
        ),
    ];
    for (case, expected) in cases {
        let (dir, root, der) = make(&case);
        let parsed = cms::parse(&der).unwrap_or_else(|e| panic!("{}: parse: {e}", case.name));
        let v = parsed
            .verify(&digest_of(&parsed, CONTENT))
            .unwrap_or_else(|e| panic!("{}: verify: {e}", case.name));
        assert_eq!(
            v.algorithm,
            cms::VerifiedAlgorithm::Other(expected),
            "{}",
            case.name
        );
        assert_eq!(v.algorithm.to_string(), case.name);
        assert_eq!(v.signer_subject, "CN=Counterparty Signer");
        // The chain: the CA signed the signer's certificate in the same algorithm.
        let path = cms::verify_chain(
            &v.signer_cert_der,
            &v.certificates,
            std::slice::from_ref(&root),
            None,
        )
        .unwrap_or_else(|e| panic!("{}: chain: {e}", case.name));
        assert_eq!(path.len(), 2, "{}", case.name);
        // Another root of the same name and algorithm (another key) does not anchor it.
        let (_other, other_root, _) = make(&case);
        let result = cms::verify_chain(&v.signer_cert_der, &v.certificates, &[other_root], None);
        assert!(
            matches!(
                result,
                Err(CmsError::UntrustedChain(_) | CmsError::CertificateSignature(_))
            ),
            "{}: {result:?}",
            case.name
        );
        // Other content, or a changed signature value: refused.
        assert_eq!(
            parsed.verify(&digest_of(&parsed, b"other bytes")),
            Err(CmsError::DigestMismatch),
            "{}",
            case.name
        );
        let changed = with_changed_signature(&der, &parsed);
        let changed = cms::parse(&changed).expect("still parses");
        assert_eq!(
            changed.verify(&digest_of(&changed, CONTENT)),
            Err(CmsError::BadSignature),
            "{}",
            case.name
        );
        drop(dir);
    }
}

#[test]
fn weak_signatures_are_refused_as_weak_even_when_they_verify() {
    // SHA-1: refused when the container is read.
    let (_dir, _root, der) = make(&Case {
        name: "RSA-2048 SHA-1",
        key: &["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"],
        md: "sha1",
        sign: &[],
    });
    match cms::parse(&der) {
        Err(CmsError::WeakAlgorithm(what)) => assert!(what.contains("SHA-1"), "{what}"),
        other => panic!("SHA-1 signature: {other:?}"),
    }
    // RSA-1024: the signature verifies mathematically, and is still refused.
    let (dir, root, der) = make(&Case {
        name: "RSA-1024 PKCS#1 v1.5 SHA-256",
        key: &["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:1024"],
        md: "sha256",
        sign: &[],
    });
    let parsed = cms::parse(&der).expect("parse");
    match parsed.verify(&digest_of(&parsed, CONTENT)) {
        Err(CmsError::WeakAlgorithm(what)) => assert!(what.contains("1024"), "{what}"),
        other => panic!("RSA-1024 signature: {other:?}"),
    }
    // A CA that signs with RSA-1024 does not anchor a chain either.
    let signer = pem_file_der(&dir.path().join("signer.pem"));
    assert!(
        matches!(
            cms::verify_chain(&signer, &[], &[root], None),
            Err(CmsError::UntrustedChain(_) | CmsError::WeakAlgorithm(_))
        ),
        "an RSA-1024 CA"
    );
}
