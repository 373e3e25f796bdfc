//! The institution's sealing service against a real server on loopback (real SQLite, the file
//! vault): roles, organisation certificates with the unified social credit code, SM2 and P-256
//! sign-hash, typed refusals, the batch form sealing 100 PDFs in one call with an audit entry
//! each, and disabled seals.

use base64_helpers::{b64, unb64};
use inkseal_cosign::sm2::dsa::signature::Verifier as _;
use inkseal_sdk::seal::{
    SealClient, SealDescription, SealLook, seal_appearance, seal_digest, seal_sign_options,
    sm2_digest,
};
use inkseal_server::service::Role;
use inkseal_tests::{Backend, start_server};
use serde_json::json;

/// Minimal base64 for request bodies built by hand (standard alphabet, padded).
mod base64_helpers {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

    pub fn b64(data: &[u8]) -> String {
        let mut out = String::new();
        for chunk in data.chunks(3) {
            let b = [
                chunk[0],
                *chunk.get(1).unwrap_or(&0),
                *chunk.get(2).unwrap_or(&0),
            ];
            let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
            for i in 0..4 {
                if i <= chunk.len() {
                    out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
                } else {
                    out.push('=');
                }
            }
        }
        out
    }

    pub fn unb64(text: &str) -> Vec<u8> {
        let mut bits = 0u32;
        let mut n = 0;
        let mut out = Vec::new();
        for c in text.bytes().filter(|c| *c != b'=') {
            let v = ALPHABET.iter().position(|a| *a == c).expect("base64") as u32;
            bits = (bits << 6) | v;
            n += 6;
            if n >= 8 {
                n -= 8;
                out.push((bits >> n) as u8);
            }
        }
        out
    }
}

const INSTITUTION: &str = "示例银行股份有限公司";
const CREDIT_CODE: &str = "91350100M000100Y43";

fn policy_pdf() -> Vec<u8> {
    std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/data/e-policy-zh.pdf")).expect("e-policy")
}

/// Run a blocking sealing-client call off the async runtime.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(f).await.expect("task")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sealing_service_end_to_end() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start_server(&dir.path().join("server")).await;
    let base = server.url();
    let auditor = Backend::with_roles(&server, &[Role::AuditRead]);
    let manager = Backend::with_roles(&server, &[Role::SealManage, Role::SealUse]);
    let user = Backend::with_roles(&server, &[Role::SealUse]);
    let outsider = Backend::with_roles(&server, &[Role::Enroll, Role::KeysManage]);

    let order = |algorithm: &str, code: &str| {
        json!({
            "institution": INSTITUTION,
            "credit_code": code,
            "purpose": "合同专用章",
            "algorithm": algorithm,
        })
    };

    // Without the role: refused, typed, and audited with the credential.
    let (status, body) = outsider
        .post("/v1/admin/seals", order("sm2", CREDIT_CODE))
        .await;
    assert_eq!((status, body["code"].as_str()), (403, Some("forbidden")));
    let (status, _) = user
        .post("/v1/admin/seals", order("sm2", CREDIT_CODE))
        .await;
    assert_eq!(status, 403, "seal:use cannot create seals");
    let (status, _) = outsider.get("/v1/admin/seals").await;
    assert_eq!(status, 403);

    // An invalid unified social credit code: refused, typed, audited.
    let (status, body) = manager
        .post("/v1/admin/seals", order("sm2", "91350100M000100Y44"))
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (422, Some("invalid_credit_code")),
        "{body}"
    );
    assert!(
        body["message"]
            .as_str()
            .unwrap_or("")
            .contains("check character")
    );

    // An SM2 seal: organisation certificate from the SM2 root with the code.
    let (status, sm2_seal) = manager
        .post("/v1/admin/seals", order("sm2", CREDIT_CODE))
        .await;
    assert_eq!(status, 201, "{sm2_seal}");
    assert_eq!(sm2_seal["key_storage"], "vault_sealed");
    let sm2_seal: SealDescription = serde_json::from_value(sm2_seal).expect("seal");
    let chain = sm2_seal.chain().expect("chain");
    assert_eq!(chain.len(), 2);
    let roots: Vec<Vec<u8>> = server
        .service()
        .root_certificates()
        .iter()
        .map(|r| r.to_vec())
        .collect();
    assert_eq!(chain[1], roots[0], "the SM2 root issued it");
    inkseal_pdf::cms::verify_chain(&chain[0], &[], &[roots[0].clone()], None)
        .expect("chains to the SM2 root");
    let subject = inkseal_pki::certificate_organization(&chain[0]).expect("subject");
    assert_eq!(subject.credit_code(), Some(CREDIT_CODE));
    assert_eq!(subject.organization.as_deref(), Some(INSTITUTION));
    assert_eq!(subject.common_name.as_deref(), Some("合同专用章"));

    // SM2 sign-hash: e = SM3(Z_A || message) computed by the client; the signature verifies
    // as a standard SM2 signature over the message.
    let message = b"signed attributes stand-in".to_vec();
    let e = sm2_digest(&chain[0], &message).expect("e");
    let (status, answer) = user
        .post(
            &format!("/v1/admin/seals/{}/sign-hash", sm2_seal.seal_id),
            json!({
                "hashes": [b64(&e)],
                "hash_algorithm_oid": "1.2.156.10197.1.401",
                "sign_algorithm_oid": "1.2.156.10197.1.501",
                "documents": ["raw message"],
            }),
        )
        .await;
    assert_eq!(status, 200, "{answer}");
    let der = unb64(answer["signatures"][0].as_str().expect("signature"));
    let signature = inkseal_cosign::sm2::dsa::Signature::from_der(&der).expect("DER");
    let public = inkseal_pki::certificate_public_key(&chain[0]).expect("key");
    inkseal_cosign::sm2::dsa::VerifyingKey::new(inkseal_cosign::DEFAULT_SIGNER_ID, public)
        .expect("vk")
        .verify(&message, &signature)
        .expect("the SM2 seal signature verifies");

    // Typed refusals.
    let sign_path = format!("/v1/admin/seals/{}/sign-hash", sm2_seal.seal_id);
    let refusals = [
        (
            json!({ "hashes": [b64(&e)], "hash_algorithm_oid": "2.16.840.1.101.3.4.2.1",
                    "sign_algorithm_oid": "1.2.840.10045.4.3.2", "documents": ["x"] }),
            422,
            "algorithm_mismatch",
        ),
        (
            json!({ "hashes": [b64(&e[..31])], "hash_algorithm_oid": "1.2.156.10197.1.401",
                    "sign_algorithm_oid": "1.2.156.10197.1.501", "documents": ["x"] }),
            400,
            "bad_hash",
        ),
        (
            json!({ "hashes": vec![b64(&e); 1001], "hash_algorithm_oid": "1.2.156.10197.1.401",
                    "sign_algorithm_oid": "1.2.156.10197.1.501",
                    "documents": vec!["x"; 1001] }),
            413,
            "batch_too_large",
        ),
    ];
    for (body, status, code) in refusals {
        let (s, answer) = user.post(&sign_path, body).await;
        assert_eq!(
            (s, answer["code"].as_str()),
            (status, Some(code)),
            "{answer}"
        );
    }
    let (s, answer) = user
        .post(
            "/v1/admin/seals/s-00000000000000000000000000000000/sign-hash",
            json!({ "hashes": [b64(&e)], "hash_algorithm_oid": "1.2.156.10197.1.401",
                    "sign_algorithm_oid": "1.2.156.10197.1.501", "documents": ["x"] }),
        )
        .await;
    assert_eq!((s, answer["code"].as_str()), (404, Some("unknown_seal")));
    // Without seal:use, sign-hash is refused.
    let (s, _) = outsider
        .post(
            &sign_path,
            json!({ "hashes": [b64(&e)], "hash_algorithm_oid": "1.2.156.10197.1.401",
                    "sign_algorithm_oid": "1.2.156.10197.1.501", "documents": ["x"] }),
        )
        .await;
    assert_eq!(s, 403);

    // A P-256 seal (the file vault: sealed by it) seals 100 PDFs in one call.
    let (status, p256_seal) = manager
        .post("/v1/admin/seals", order("ecdsa-p256", "91110000802100433B"))
        .await;
    assert_eq!(status, 201, "{p256_seal}");
    let p256_seal: SealDescription = serde_json::from_value(p256_seal).expect("seal");
    let p256_chain = p256_seal.chain().expect("chain");
    assert_eq!(p256_chain[1], roots[1], "the P-256 root issued it");
    let audit_before = auditor.audit().await.len();
    let input = policy_pdf();
    let labels: Vec<String> = (0..100).map(|i| format!("policy-{i:03}.pdf")).collect();
    let (client_base, key, seal) = (base.clone(), user.api_key.clone(), p256_seal.clone());
    let (outputs, digests) = blocking(move || {
        let client = SealClient::new(&client_base, &key).expect("client");
        let now = inkseal_tests::now_unix();
        let algorithm = seal.signature_algorithm().expect("algorithm");
        let font = inkseal_tests::seal_font();
        let appearance = seal_appearance(
            &seal,
            &SealLook::Drawn {
                font: &font,
                number: Some("3101150012345".into()),
            },
        )
        .expect("appearance");
        let prepared: Vec<_> = (0..100)
            .map(|i| {
                let options = seal_sign_options(
                    &seal,
                    now + i,
                    inkseal_pdf::sign::Placement::Rect {
                        page: 1,
                        rect: [420.0, 60.0, 120.0, 120.0],
                    },
                    Some(inkseal_pdf::sign::Certification::FormFillingAndSigning),
                    appearance.clone(),
                );
                inkseal_pdf::sign::prepare(&input, &options, algorithm, &seal.chain().expect("c"))
                    .expect("prepare")
            })
            .collect();
        let digests: Vec<[u8; 32]> = prepared
            .iter()
            .map(|p| {
                seal_digest(algorithm, &seal.chain().expect("c")[0], p.to_be_signed())
                    .expect("digest")
            })
            .collect();
        let tails = client
            .seal_prepared(&seal, prepared, &labels)
            .expect("one batch call");
        let outputs: Vec<Vec<u8>> = tails
            .into_iter()
            .map(|tail| [input.as_slice(), tail.as_slice()].concat())
            .collect();
        (outputs, digests)
    })
    .await;
    assert_eq!(outputs.len(), 100);
    for (i, pdf) in outputs.iter().enumerate() {
        let report = inkseal_pdf::verify::verify(
            pdf,
            &inkseal_pdf::verify::VerifyOptions {
                trust_anchors: vec![roots[1].clone()],
                at_unix: Some(inkseal_tests::now_unix()),
                ..Default::default()
            },
        )
        .expect("verify");
        assert!(report.all_ok(), "document {i}: {report:#?}");
        assert_eq!(report.signatures[0].certification, Some(2));
    }
    let audit = auditor.audit().await;
    let sealed: Vec<&serde_json::Value> = audit[audit_before..]
        .iter()
        .filter(|e| e["kind"] == "sealed")
        .collect();
    assert_eq!(sealed.len(), 100, "one audit entry per document");
    for (i, entry) in sealed.iter().enumerate() {
        let detail: serde_json::Value = match &entry["detail"] {
            serde_json::Value::String(s) => serde_json::from_str(s).expect("detail"),
            v => v.clone(),
        };
        assert_eq!(detail["seal_id"], p256_seal.seal_id.as_str());
        assert_eq!(detail["document"], format!("policy-{i:03}.pdf"));
        assert_eq!(detail["digest"], hex::encode(digests[i]));
        assert_eq!(detail["batch"], 100);
        assert_eq!(entry["actor"], format!("operator:{}", user.credential_id));
    }

    // Disabled: it signs nothing more (typed, audited); it stays listed.
    let (status, disabled) = manager
        .post(
            &format!("/v1/admin/seals/{}/disable", sm2_seal.seal_id),
            json!({}),
        )
        .await;
    assert_eq!(status, 200, "{disabled}");
    assert!(disabled["disabled_ms"].as_u64().is_some());
    let (s, answer) = user
        .post(
            &sign_path,
            json!({ "hashes": [b64(&e)], "hash_algorithm_oid": "1.2.156.10197.1.401",
                    "sign_algorithm_oid": "1.2.156.10197.1.501", "documents": ["late"] }),
        )
        .await;
    assert_eq!((s, answer["code"].as_str()), (410, Some("seal_disabled")));
    let (status, list) = user.get("/v1/admin/seals").await;
    assert_eq!(status, 200);
    assert_eq!(list.as_array().map(Vec::len), Some(2));

    // Every refusal that matters is in the log, with who asked.
    let audit = auditor.audit().await;
    let refused = |reason: &str, actor: &str| {
        audit.iter().any(|e| {
            e["kind"] == "refused"
                && e["actor"] == format!("operator:{actor}")
                && e["detail"].to_string().contains(reason)
        })
    };
    assert!(refused("seal:manage", &outsider.credential_id));
    assert!(refused("seal:use", &outsider.credential_id));
    assert!(refused("check character", &manager.credential_id));
    assert!(refused("disabled", &user.credential_id));
    assert!(refused("1001 hashes", &user.credential_id));
    assert!(refused("no such seal", &user.credential_id));
    assert!(
        audit
            .iter()
            .any(|e| e["kind"] == "seal_created" && e["detail"].to_string().contains(CREDIT_CODE))
    );
    assert!(audit.iter().any(|e| e["kind"] == "seal_disabled"));
    // The chain still verifies with the new entries.
    let (status, verified) = auditor.get("/v1/admin/audit/verify").await;
    assert_eq!(status, 200);
    assert!(
        verified["problems"].as_array().is_some_and(Vec::is_empty),
        "{verified}"
    );

    // The seal's certificate is known to the OCSP responder (good, even when disabled).
    let sm2_cert = chain[0].clone();
    let service = server.service().clone();
    let status = blocking(move || {
        let responses = service
            .revocation_data(&[sm2_cert])
            .expect("OCSP for a seal certificate");
        inkseal_pki::parse_ocsp_response(&responses[0]).expect("response")
    })
    .await;
    assert!(
        format!("{status:?}").contains("Good"),
        "a seal certificate is good: {status:?}"
    );
    server.shutdown().await.expect("shutdown");
}

/// With the file vault, the institution's SM2 and P-256 encryption keys are vault-sealed: an
/// SM2 key opens SM4 envelopes (GB/T 35275 profile too), a P-256 key AES ones, each only
/// those sent to its own certificate; the SM2 certificate says keyEncipherment.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vault_sealed_encryption_keys_open_their_envelopes() {
    use inkseal_cosign::api::{ErrorCode, KeyPurpose};
    use inkseal_pdf::cms::enveloped::{OidProfile, SealOptions, seal};
    use inkseal_sdk::seal::{SealClient, SealClientError, SealOrder};

    let dir = tempfile::tempdir().expect("tempdir");
    let server = start_server(&dir.path().join("server")).await;
    let backend = Backend::with_roles(&server, &[Role::SealManage, Role::EnvelopeOpen]);
    let (url, api_key) = (server.url(), backend.api_key.clone());
    blocking(move || {
        let client = SealClient::new(&url, &api_key).expect("client");
        let order = |algorithm: &str| SealOrder {
            institution: INSTITUTION.into(),
            credit_code: CREDIT_CODE.into(),
            purpose: "加密证书".into(),
            algorithm: algorithm.into(),
        };
        let sm2 = client
            .create_encryption_key(&order("sm2"))
            .expect("SM2 key");
        let p256 = client
            .create_encryption_key(&order("ecdsa-p256"))
            .expect("P-256 key");
        for key in [&sm2, &p256] {
            assert_eq!(key.key_storage, "vault_sealed");
            assert_eq!(key.key_purpose, KeyPurpose::Encryption);
        }
        let certificate =
            |key: &inkseal_sdk::seal::SealDescription| key.chain().expect("chain").remove(0);
        let usage = {
            use der::Decode;
            let der = certificate(&sm2);
            let cert = x509_cert::Certificate::from_der(&der).expect("certificate");
            cert.tbs_certificate()
                .get_extension::<x509_cert::ext::pkix::KeyUsage>()
                .expect("extension")
                .expect("keyUsage present")
                .1
        };
        assert!(
            usage.key_encipherment() && !usage.digital_signature(),
            "{usage:?}"
        );

        let message = "报关单 2026-0043 的敏感附件".as_bytes();
        let mut rng = p256::elliptic_curve::rand_core::UnwrapErr(getrandom::SysRng);
        for (key, options, cipher) in [
            (&sm2, SealOptions::new(), "SM4-CBC"),
            (
                &sm2,
                SealOptions::new().with_profile(OidProfile::GbT35275),
                "SM4-CBC",
            ),
            (&p256, SealOptions::new(), "AES-256-CBC"),
        ] {
            let envelope = seal(message, &[certificate(key)], &options, &mut rng).expect("sealed");
            let opened = client
                .open_envelope(&key.seal_id, &envelope, "attachment")
                .expect("opens");
            assert_eq!(opened.content.as_slice(), message);
            assert_eq!(opened.cipher, cipher);
            // The other key is not its recipient.
            let other = if key.seal_id == sm2.seal_id {
                &p256
            } else {
                &sm2
            };
            match client.open_envelope(&other.seal_id, &envelope, "not for it") {
                Err(SealClientError::Refused { code, .. }) => {
                    assert_eq!(code, ErrorCode::EnvelopeRefused)
                }
                other => panic!("expected a refusal, got {other:?}"),
            }
        }
    })
    .await;
}
