//! The institution's P-256 encryption key generated and used inside a real SoftHSM2 token
//! (`CKA_DERIVE` only, sensitive, non-extractable): the token computes the ECDH for each
//! envelope sent to the key's certificate (by inkseal and by `openssl cms -encrypt`), the key
//! signs nothing, and openings and refusals are audited. Its own binary: SoftHSM2's
//! configuration is read once per process.

use inkseal_sdk::seal::{SealClient, SealOrder};
use inkseal_server::service::Role;
use inkseal_tests::{Backend, TokenServer, token_server};

/// The institution's P-256 encryption key lives in the token with `CKA_DERIVE` only: it opens
/// envelopes sealed by inkseal and by `openssl cms -encrypt` to its certificate (the token
/// computes the ECDH), signs nothing, and every opening and refusal is audited.
#[test]
fn an_institution_p256_encryption_key_in_the_token_opens_envelopes() {
    use inkseal_cosign::api::{ErrorCode, KeyPurpose};
    use inkseal_pdf::cms::enveloped::{SealOptions, seal};
    use inkseal_sdk::seal::SealClientError;
    use inkseal_server::vault::ShareVault;

    let dir = tempfile::tempdir().expect("tempdir");
    let TokenServer {
        runtime,
        server,
        pkcs11,
    } = token_server(dir.path(), "inkseal-envelope", "4321");
    let backend = Backend::with_roles(
        &server,
        &[
            Role::SealManage,
            Role::SealUse,
            Role::EnvelopeOpen,
            Role::AuditRead,
        ],
    );
    let client = SealClient::new(&server.url(), &backend.api_key).expect("client");
    let order = SealOrder {
        institution: "示例海关申报服务有限公司".into(),
        credit_code: "911100001000044477".into(),
        purpose: "加密证书".into(),
        algorithm: "ecdsa-p256".into(),
    };
    let key = client.create_encryption_key(&order).expect("create");
    assert_eq!(key.key_storage, "pkcs11_token");
    assert_eq!(key.key_purpose, KeyPurpose::Encryption);
    let certificate = key.chain().expect("chain").remove(0);
    let usage = {
        use der::Decode;
        let cert = x509_cert::Certificate::from_der(&certificate).expect("certificate");
        cert.tbs_certificate()
            .get_extension::<x509_cert::ext::pkix::KeyUsage>()
            .expect("extension")
            .expect("keyUsage present")
            .1
    };
    assert!(usage.key_agreement(), "{usage:?}");
    assert!(!usage.digital_signature() && !usage.non_repudiation());

    // In the token: sensitive and never extractable; it derives but cannot sign.
    assert_eq!(
        server
            .service()
            .sealing()
            .key_is_protected(&key.seal_id)
            .expect("attributes"),
        Some(true)
    );
    let vault = inkseal_server::vault::Pkcs11Vault::open(&pkcs11).expect("vault");
    let token = vault.token_keys().expect("token keys");
    let label = inkseal_server::service::sealing::token_label(&key.seal_id);
    assert!(
        token.sign_p256_digest(&label, &[7; 32]).is_err(),
        "the token refuses to sign with an encryption key"
    );

    // An envelope inkseal seals to the certificate (AES-256, sha256kdf).
    let declaration = "报关单 2026-0042: 12 托盘, HS 8471.30, CNY 1,250,000.00".as_bytes();
    let mut rng = p256::elliptic_curve::rand_core::UnwrapErr(getrandom::SysRng);
    let ours = seal(
        declaration,
        std::slice::from_ref(&certificate),
        &SealOptions::new(),
        &mut rng,
    )
    .expect("sealed");
    let opened = client
        .open_envelope(&key.seal_id, &ours, "declaration 2026-0042")
        .expect("the token opens it");
    assert_eq!(opened.content.as_slice(), declaration);
    assert_eq!(opened.cipher, "AES-256-CBC");

    // One openssl made (sha1kdf, AES-128, also addressed to another certificate first).
    let work = dir.path().join("openssl");
    std::fs::create_dir_all(&work).expect("dir");
    let pem = |name: &str, der: &[u8]| {
        std::fs::write(work.join(format!("{name}.der")), der).expect("write");
        let out = std::process::Command::new("openssl")
            .current_dir(&work)
            .args(["x509", "-inform", "DER", "-in"])
            .arg(format!("{name}.der"))
            .arg("-out")
            .arg(format!("{name}.pem"))
            .output()
            .expect("openssl runs");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    pem("recipient", &certificate);
    let other = client
        .create_encryption_key(&SealOrder {
            purpose: "另一加密证书".into(),
            ..order.clone()
        })
        .expect("second key");
    let other_certificate = other.chain().expect("chain").remove(0);
    pem("other", &other_certificate);
    std::fs::write(work.join("msg.bin"), declaration).expect("write");
    let out = std::process::Command::new("openssl")
        .current_dir(&work)
        .args([
            "cms",
            "-encrypt",
            "-aes128",
            "-binary",
            "-outform",
            "DER",
            "-in",
            "msg.bin",
            "-out",
            "theirs.der",
            "-recip",
            "other.pem",
            "-recip",
            "recipient.pem",
        ])
        .output()
        .expect("openssl runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let theirs = std::fs::read(work.join("theirs.der")).expect("read");
    let opened = client
        .open_envelope(&key.seal_id, &theirs, "openssl-made")
        .expect("the token opens openssl's envelope");
    assert_eq!(opened.content.as_slice(), declaration);
    assert_eq!(opened.cipher, "AES-128-CBC");
    // The other key opens the same envelope through its own recipient.
    let opened = client
        .open_envelope(&other.seal_id, &theirs, "openssl-made, other")
        .expect("the other key opens it too");
    assert_eq!(opened.content.as_slice(), declaration);

    fn refused<T: std::fmt::Debug>(result: Result<T, SealClientError>) -> ErrorCode {
        match result {
            Err(SealClientError::Refused { code, .. }) => code,
            other => panic!("expected a refusal, got {other:?}"),
        }
    }
    // Not addressed to it, altered, garbage: refused, nothing released.
    let to_other = seal(
        declaration,
        std::slice::from_ref(&other_certificate),
        &SealOptions::new(),
        &mut rng,
    )
    .expect("sealed");
    assert_eq!(
        refused(client.open_envelope(&key.seal_id, &to_other, "not ours")),
        ErrorCode::EnvelopeRefused
    );
    // A byte of the second-to-last ciphertext block flips a padding byte of the last: the
    // content does not decrypt. The answer is the one a content key that does not unwrap
    // gets (no padding oracle); the audit log keeps which.
    let mut altered = ours.clone();
    let at = altered.len() - 20;
    altered[at] ^= 0x01;
    let message = match client.open_envelope(&key.seal_id, &altered, "altered") {
        Err(SealClientError::Refused { code, message, .. }) => {
            assert_eq!(code, ErrorCode::EnvelopeRefused);
            message
        }
        other => panic!("expected a refusal, got {other:?}"),
    };
    let mut wrong_key = theirs.clone();
    {
        // Every recipient's wrapped content key, found in the DER by its bytes and altered:
        // the AES key unwrap check fails.
        use inkseal_pdf::cms::enveloped::{Recipient, parse_envelope};
        let parsed = parse_envelope(&theirs).expect("parses");
        let wrapped: Vec<Vec<u8>> = parsed
            .recipients()
            .iter()
            .filter_map(|r| match r {
                Recipient::P256(r) => Some(r.encrypted_key().to_vec()),
                _ => None,
            })
            .collect();
        for w in &wrapped {
            let at = wrong_key
                .windows(w.len())
                .position(|win| win == w.as_slice())
                .expect("wrapped key in the DER");
            wrong_key[at + 3] ^= 0x80;
        }
    }
    let unwrap_message = match client.open_envelope(&key.seal_id, &wrong_key, "bad wrap") {
        Err(SealClientError::Refused { code, message, .. }) => {
            assert_eq!(code, ErrorCode::EnvelopeRefused);
            message
        }
        other => panic!("expected a refusal, got {other:?}"),
    };
    assert_eq!(message, unwrap_message, "one answer for both failures");
    assert!(message.contains("does not decrypt"), "{message}");
    assert_eq!(
        refused(client.open_envelope(&key.seal_id, b"not an envelope", "garbage")),
        ErrorCode::EnvelopeRefused
    );

    // Key purposes do not mix: the encryption key signs no hash, a seal opens no envelope.
    assert_eq!(
        refused(client.sign_hashes(&key, &[[1; 32]], &["x".into()])),
        ErrorCode::WrongKeyPurpose
    );
    let seal_key = client.create(&order).expect("a seal");
    assert_eq!(seal_key.key_purpose, KeyPurpose::Signing);
    assert_eq!(
        refused(client.open_envelope(&seal_key.seal_id, &ours, "to a seal")),
        ErrorCode::WrongKeyPurpose
    );

    // An operator without `envelope:open` is refused.
    let signer_only = Backend::with_roles(&server, &[Role::SealUse]);
    let other_client = SealClient::new(&server.url(), &signer_only.api_key).expect("client");
    assert_eq!(
        refused(other_client.open_envelope(&key.seal_id, &ours, "no role")),
        ErrorCode::Forbidden
    );

    // Disabled: it opens nothing more.
    client.disable(&key.seal_id).expect("disable");
    assert_eq!(
        refused(client.open_envelope(&key.seal_id, &ours, "after disabling")),
        ErrorCode::SealDisabled
    );

    // The audit log: three openings with the envelope's digest, never the plaintext; the
    // refusals with their reasons.
    let entries = server
        .service()
        .audit()
        .entries(Some("main"), 0, 1000)
        .expect("audit entries");
    let opened: Vec<_> = entries
        .iter()
        .filter(|e| e.kind == "envelope_opened")
        .collect();
    assert_eq!(opened.len(), 3, "{opened:?}");
    let digest = {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(&ours))
    };
    let detail: serde_json::Value = serde_json::from_str(&opened[0].detail).expect("detail");
    assert_eq!(detail["envelope_sha256"], digest.as_str());
    assert_eq!(detail["document"], "declaration 2026-0042");
    assert_eq!(detail["cipher"], "AES-256-CBC");
    assert!(
        entries.iter().all(|e| !e.detail.contains("1,250,000")),
        "no plaintext in the audit log"
    );
    let reasons: Vec<String> = entries
        .iter()
        .filter(|e| e.kind == "refused")
        .map(|e| {
            let detail: serde_json::Value = serde_json::from_str(&e.detail).expect("detail");
            detail["reason"].as_str().unwrap_or_default().to_owned()
        })
        .collect();
    assert!(
        reasons
            .iter()
            .filter(|r| r.contains("envelope refused"))
            .count()
            >= 3,
        "{reasons:?}"
    );
    assert!(
        reasons.iter().any(|r| r.contains("only a seal")),
        "{reasons:?}"
    );
    assert!(
        reasons
            .iter()
            .any(|r| r.contains("only the institution's encryption keys")),
        "{reasons:?}"
    );

    runtime.block_on(server.shutdown()).expect("shutdown");
}
