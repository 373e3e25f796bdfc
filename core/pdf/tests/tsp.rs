//! RFC 3161: our TSA code and our client against each other and against OpenSSL's `ts`, for
//! P-256 (SHA-256 imprints) and SM2 (SM3 imprints).
#![allow(clippy::unwrap_used)]

mod cms_support;

use cms_support::{have_openssl, openssl, openssl_ok, write};
use inkseal_pdf::cms::SignatureAlgorithm;
use inkseal_pdf::tsp::{
    FailureInfo, IssueParams, PkiStatus, TimeStampRequest, TimeStampToken, TspError, check_reply,
    granted_reply, issue_token, rejection_reply,
};
use inkseal_pki::{
    CaKey, CertificatePurpose, EndEntity, IssuerKey, P256CaKey, der_to_pem, issue_end_entity,
    self_signed_ca,
};

const POLICY: const_oid::ObjectIdentifier =
    const_oid::ObjectIdentifier::new_unwrap("1.3.6.1.4.1.99999.3161.1");
/// 2026-12-06T12:00:00Z
const NOW: u64 = 1_796_558_400;

struct Tsa<K> {
    key: K,
    root: Vec<u8>,
    chain: Vec<Vec<u8>>,
}

fn tsa<K: IssuerKey>(root_key: &impl IssuerKey, key: K, purpose: CertificatePurpose) -> Tsa<K> {
    let root = self_signed_ca(root_key, "inkseal test root", 3650, NOW - 86_400).unwrap();
    let cert = issue_end_entity(
        root_key,
        &root,
        &EndEntity {
            subject_public_key_info: key.subject_public_key_info().unwrap(),
            common_name: "inkseal test TSA",
            purpose,
            revocation: None,
        },
        &[0x21; 16],
        365,
        NOW - 86_400,
    )
    .unwrap();
    Tsa {
        key,
        root,
        chain: vec![cert],
    }
}

fn p256_tsa() -> Tsa<P256CaKey> {
    tsa(
        &P256CaKey::try_generate().unwrap(),
        P256CaKey::try_generate().unwrap(),
        CertificatePurpose::TimeStamping,
    )
}

fn sm2_tsa() -> Tsa<CaKey> {
    tsa(
        &CaKey::generate(),
        CaKey::generate(),
        CertificatePurpose::TimeStamping,
    )
}

fn params(serial: &[u8]) -> IssueParams<'_> {
    IssueParams {
        policy: POLICY,
        serial,
        gen_time_unix_millis: NOW * 1000 + 250,
        accuracy_millis: Some(1500),
    }
}

fn reply_for<K: IssuerKey>(tsa: &Tsa<K>, request: &TimeStampRequest) -> Vec<u8> {
    let token = issue_token(request, &tsa.chain, &params(&[7, 7]), |tbs| {
        tsa.key.sign_to_der(tbs)
    })
    .unwrap();
    granted_reply(&token).unwrap()
}

#[test]
fn our_client_accepts_our_tsa_for_both_suites() {
    for (suite, reply_of) in [
        (
            SignatureAlgorithm::EcdsaP256Sha256,
            Box::new(|r: &TimeStampRequest| reply_for(&p256_tsa(), r))
                as Box<dyn Fn(&TimeStampRequest) -> Vec<u8>>,
        ),
        (
            SignatureAlgorithm::Sm2Sm3,
            Box::new(|r: &TimeStampRequest| reply_for(&sm2_tsa(), r)),
        ),
    ] {
        let digest = suite.digest(&[b"the signature value"]);
        let request = TimeStampRequest::new(suite, &digest, Some(&[0x9a; 16]), None).unwrap();
        let request = TimeStampRequest::parse(&request.to_der().unwrap()).unwrap();
        let token = check_reply(&request, &reply_of(&request)).unwrap();
        assert_eq!(token.gen_time_unix_millis(), NOW * 1000 + 250);
        assert_eq!(token.gen_time_unix(), NOW);
        assert_eq!(token.accuracy_millis(), Some(1500));
        assert_eq!(token.serial_number(), &[7, 7]);
        assert_eq!(token.policy(), POLICY);
        assert_eq!(token.digest_suite(), suite);
        assert_eq!(
            token.signature_algorithm(),
            inkseal_pdf::cms::VerifiedAlgorithm::Suite(suite)
        );
        assert!(token.covers(&[b"the signature ", b"value"]));
        assert!(!token.covers(&[b"another value"]));
        assert_eq!(token.tsa_subject(), "CN=inkseal test TSA");
        // The nonce goes back as a positive INTEGER: a zero octet in front of 0x9a.
        let mut nonce = vec![0];
        nonce.extend_from_slice(&[0x9a; 16]);
        assert_eq!(token.nonce(), Some(nonce.as_slice()));
        // The token alone parses to the same thing.
        let again = TimeStampToken::parse(token.to_der()).unwrap();
        assert_eq!(again.gen_time_unix_millis(), token.gen_time_unix_millis());
    }
}

#[test]
fn the_client_refuses_a_reply_for_another_request() {
    let tsa = p256_tsa();
    let suite = SignatureAlgorithm::EcdsaP256Sha256;
    let digest = suite.digest(&[b"mine"]);
    let mine = TimeStampRequest::new(suite, &digest, Some(&[1; 8]), None).unwrap();
    let other_nonce = TimeStampRequest::new(suite, &digest, Some(&[2; 8]), None).unwrap();
    let other_digest =
        TimeStampRequest::new(suite, &suite.digest(&[b"theirs"]), Some(&[1; 8]), None).unwrap();
    assert_eq!(
        check_reply(&mine, &reply_for(&tsa, &other_nonce)).unwrap_err(),
        TspError::NonceMismatch
    );
    assert_eq!(
        check_reply(&mine, &reply_for(&tsa, &other_digest)).unwrap_err(),
        TspError::ImprintMismatch
    );
    let with_policy = TimeStampRequest::new(
        suite,
        &digest,
        Some(&[1; 8]),
        Some(const_oid::ObjectIdentifier::new_unwrap("1.2.3.4")),
    )
    .unwrap();
    assert_eq!(
        issue_token(&with_policy, &tsa.chain, &params(&[1]), |tbs| tsa
            .key
            .sign_to_der(tbs))
        .unwrap_err(),
        TspError::PolicyMismatch
    );
}

#[test]
fn a_tampered_token_or_a_signature_by_another_key_is_refused() {
    let tsa = p256_tsa();
    let suite = SignatureAlgorithm::EcdsaP256Sha256;
    let request =
        TimeStampRequest::new(suite, &suite.digest(&[b"x"]), Some(&[3; 8]), None).unwrap();
    let reply = reply_for(&tsa, &request);
    let token = check_reply(&request, &reply).unwrap();
    let der = token.to_der().to_vec();
    // Flip one bit inside the TSTInfo's genTime digits: the message-digest no longer fits.
    let at = der
        .windows(14)
        .position(|w| w == b"20261206120000")
        .expect("genTime in the token");
    let mut tampered = der.clone();
    tampered[at + 13] ^= 0x01;
    assert!(matches!(
        TimeStampToken::parse(&tampered),
        Err(TspError::Cms(_))
    ));
    // A signer that signs with another key is caught when the token is built.
    let impostor = P256CaKey::try_generate().unwrap();
    assert!(matches!(
        issue_token(&request, &tsa.chain, &params(&[1]), |tbs| impostor
            .sign_to_der(tbs)),
        Err(TspError::Cms(_))
    ));
}

#[test]
fn only_a_time_stamping_certificate_may_sign_tokens() {
    let root_key = P256CaKey::try_generate().unwrap();
    let signing = tsa(
        &root_key,
        P256CaKey::try_generate().unwrap(),
        CertificatePurpose::DocumentSigning,
    );
    let suite = SignatureAlgorithm::EcdsaP256Sha256;
    let request = TimeStampRequest::new(suite, &suite.digest(&[b"x"]), None, None).unwrap();
    assert!(matches!(
        issue_token(&request, &signing.chain, &params(&[1]), |tbs| signing
            .key
            .sign_to_der(tbs)),
        Err(TspError::NotTimeStampingCertificate(_))
    ));
}

#[test]
fn rejections_carry_status_failure_and_text() {
    let suite = SignatureAlgorithm::Sm2Sm3;
    let request = TimeStampRequest::new(suite, &suite.digest(&[b"x"]), None, None).unwrap();
    for failure in [
        FailureInfo::BadAlg,
        FailureInfo::BadDataFormat,
        FailureInfo::UnacceptedPolicy,
        FailureInfo::SystemFailure,
    ] {
        let reply = rejection_reply(failure, "not today").unwrap();
        assert_eq!(
            check_reply(&request, &reply).unwrap_err(),
            TspError::Refused {
                status: PkiStatus::Rejection,
                fail_info: vec![failure],
                text: "not today".into(),
            }
        );
    }
}

#[test]
fn requests_are_checked() {
    let suite = SignatureAlgorithm::EcdsaP256Sha256;
    assert!(matches!(
        TimeStampRequest::new(suite, &[0; 31], None, None),
        Err(TspError::InvalidInput(_))
    ));
    assert!(matches!(
        TimeStampRequest::new(suite, &[0; 32], Some(&[0, 0]), None),
        Err(TspError::InvalidInput(_))
    ));
    assert!(matches!(
        TimeStampRequest::parse(&vec![0x30; 5000]),
        Err(TspError::TooLarge { .. })
    ));
    assert!(matches!(
        TimeStampRequest::parse(b"\x30\x03\x02\x01\x01"),
        Err(TspError::Malformed(_))
    ));
}

fn pem(der: &[u8]) -> String {
    der_to_pem("CERTIFICATE", der)
}

#[test]
fn openssl_verifies_our_p256_tsa_and_reads_our_request() {
    if !have_openssl() {
        eprintln!("openssl not found; skipping");
        return;
    }
    let tsa = p256_tsa();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "data.bin", b"the bytes being time-stamped");
    write(d, "root.pem", pem(&tsa.root).as_bytes());
    write(d, "tsa.pem", pem(&tsa.chain[0]).as_bytes());
    // OpenSSL's request, our token.
    openssl_ok(
        d,
        &[
            "ts", "-query", "-data", "data.bin", "-sha256", "-cert", "-out", "req.tsq",
        ],
    );
    let request = TimeStampRequest::parse(&std::fs::read(d.join("req.tsq")).unwrap()).unwrap();
    assert!(request.cert_req());
    assert!(
        request.nonce().is_some(),
        "openssl sends a nonce by default"
    );
    let reply = reply_for(&tsa, &request);
    write(d, "reply.tsr", &reply);
    let out = openssl(
        d,
        &[
            "ts",
            "-verify",
            "-in",
            "reply.tsr",
            "-queryfile",
            "req.tsq",
            "-CAfile",
            "root.pem",
            "-attime",
            &(NOW + 60).to_string(),
        ],
    );
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && text.contains("Verification: OK"),
        "{text}"
    );
    let out = openssl_ok(d, &["ts", "-reply", "-in", "reply.tsr", "-text"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("Status: Granted."), "{text}");
    assert!(text.contains("Dec  6 12:00:00.25 2026 GMT"), "{text}");
    assert!(text.contains("1.3.6.1.4.1.99999.3161.1"), "{text}");
    // Another document does not verify against the same reply.
    write(d, "other.bin", b"other bytes");
    let out = openssl(
        d,
        &[
            "ts",
            "-verify",
            "-in",
            "reply.tsr",
            "-data",
            "other.bin",
            "-CAfile",
            "root.pem",
            "-attime",
            &(NOW + 60).to_string(),
        ],
    );
    assert!(!out.status.success());
    // A rejection reads as one.
    write(
        d,
        "reject.tsr",
        &rejection_reply(FailureInfo::BadAlg, "no").unwrap(),
    );
    let out = openssl_ok(d, &["ts", "-reply", "-in", "reject.tsr", "-text"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("Rejected") && text.contains("unrecognized or unsupported algorithm"),
        "{text}"
    );
}

#[test]
fn our_client_accepts_openssl_as_the_tsa() {
    if !have_openssl() {
        eprintln!("openssl not found; skipping");
        return;
    }
    let tsa = p256_tsa();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "tsa.pem", pem(&tsa.chain[0]).as_bytes());
    write(
        d,
        "tsa.key",
        der_to_pem("PRIVATE KEY", &tsa.key.to_pkcs8_der().unwrap()).as_bytes(),
    );
    write(d, "serial", b"0A\n");
    write(
        d,
        "ts.cnf",
        b"[tsa]\ndefault_tsa = t\n[t]\nserial = ./serial\nsigner_cert = ./tsa.pem\n\
          signer_key = ./tsa.key\nsigner_digest = sha256\ndefault_policy = 1.3.6.1.4.1.99999.3161.1\n\
          digests = sha256\naccuracy = secs:1, millisecs:500\nclock_precision_digits = 3\n\
          ess_cert_id_alg = sha256\ness_cert_id_chain = no\n",
    );
    let suite = SignatureAlgorithm::EcdsaP256Sha256;
    let request = TimeStampRequest::new(
        suite,
        &suite.digest(&[b"signature"]),
        Some(&[0x42; 12]),
        None,
    )
    .unwrap();
    write(d, "req.tsq", &request.to_der().unwrap());
    openssl_ok(
        d,
        &[
            "ts",
            "-reply",
            "-config",
            "ts.cnf",
            "-queryfile",
            "req.tsq",
            "-out",
            "reply.tsr",
        ],
    );
    let token = check_reply(&request, &std::fs::read(d.join("reply.tsr")).unwrap()).unwrap();
    // OpenSSL increments the serial file before it issues.
    assert_eq!(token.serial_number(), &[0x0b]);
    assert_eq!(token.accuracy_millis(), Some(1500));
    assert_eq!(token.policy(), POLICY);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert!(token.gen_time_unix().abs_diff(now) < 600);
}
