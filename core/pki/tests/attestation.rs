//! Android Key Attestation chains, built here with rcgen (ECDSA keys from ring) and a
//! KeyDescription encoded with `der`: one valid shape per supported algorithm, and one refusal
//! (with its own error) per way a chain can be wrong. No real device chain is used: Google's
//! roots are not part of the repository.

mod common;

use common::NOW;

use der::{Decode, Encode};
use inkseal_pki::{
    ANDROID_KEY_ATTESTATION_OID, AndroidKeyAttestation, MAX_ATTESTATION_CHAIN_CERTIFICATES,
    MAX_CERTIFICATE_BYTES, PkiError, SecurityLevel, verify_android_key_attestation,
};
use proptest::prelude::*;
use rcgen::{
    BasicConstraints, CertificateParams, CustomExtension, DnType, IsCa, Issuer, KeyPair,
    PKCS_ECDSA_P256_SHA256, PKCS_ECDSA_P384_SHA384, PublicKeyData, SignatureAlgorithm,
    date_time_ymd,
};
use std::sync::OnceLock;

const CHALLENGE: &[u8] = b"server challenge 0123456789abcdef";

fn key_description(challenge: &[u8], level: SecurityLevel) -> Vec<u8> {
    inkseal_pki::key_description_der(challenge, level).expect("KeyDescription")
}

fn attestation_extension(value: Vec<u8>) -> CustomExtension {
    let arcs: Vec<u64> = ANDROID_KEY_ATTESTATION_OID.arcs().map(u64::from).collect();
    CustomExtension::from_oid_content(&arcs, value)
}

fn ca_params(cn: &str) -> CertificateParams {
    let mut params = CertificateParams::default();
    params.distinguished_name = rcgen::DistinguishedName::new();
    params.distinguished_name.push(DnType::CommonName, cn);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.not_before = date_time_ymd(2020, 1, 1);
    params.not_after = date_time_ymd(2040, 1, 1);
    params
}

/// A root and an intermediate ("batch" attestation key).
struct Pki {
    root_key: KeyPair,
    root: Vec<u8>,
    intermediate_key: KeyPair,
    intermediate_params: CertificateParams,
    intermediate: Vec<u8>,
}

fn make_pki(
    root_alg: &'static SignatureAlgorithm,
    intermediate_alg: &'static SignatureAlgorithm,
) -> Pki {
    let root_key = KeyPair::generate_for(root_alg).expect("root key");
    let root_params = ca_params("Test Key Attestation Root");
    let root = root_params
        .self_signed(&root_key)
        .expect("root")
        .der()
        .to_vec();
    let intermediate_key = KeyPair::generate_for(intermediate_alg).expect("intermediate key");
    let intermediate_params = ca_params("Test Attestation Batch Key");
    let intermediate = intermediate_params
        .signed_by(
            &intermediate_key,
            &Issuer::from_params(&root_params, &root_key),
        )
        .expect("intermediate")
        .der()
        .to_vec();
    Pki {
        root_key,
        root,
        intermediate_key,
        intermediate_params,
        intermediate,
    }
}

fn device_key() -> KeyPair {
    KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).expect("device key")
}

/// How to write the leaf.
struct Leaf {
    extension: Option<Vec<u8>>,
    not_before: (i32, u8, u8),
    not_after: (i32, u8, u8),
    padding: usize,
}

impl Default for Leaf {
    fn default() -> Self {
        Leaf {
            extension: Some(key_description(
                CHALLENGE,
                SecurityLevel::TrustedEnvironment,
            )),
            not_before: (1970, 1, 1),
            not_after: (2048, 1, 1),
            padding: 0,
        }
    }
}

fn leaf_cert(pki: &Pki, device: &KeyPair, leaf: Leaf) -> Vec<u8> {
    let mut params = CertificateParams::default();
    params.distinguished_name = rcgen::DistinguishedName::new();
    params
        .distinguished_name
        .push(DnType::CommonName, "Android Keystore Key");
    params.not_before = date_time_ymd(leaf.not_before.0, leaf.not_before.1, leaf.not_before.2);
    params.not_after = date_time_ymd(leaf.not_after.0, leaf.not_after.1, leaf.not_after.2);
    if let Some(value) = leaf.extension {
        params.custom_extensions.push(attestation_extension(value));
    }
    if leaf.padding > 0 {
        params
            .custom_extensions
            .push(CustomExtension::from_oid_content(
                &[1, 2, 3, 4],
                vec![0x04; leaf.padding],
            ));
    }
    params
        .signed_by(
            device,
            &Issuer::from_params(&pki.intermediate_params, &pki.intermediate_key),
        )
        .expect("leaf")
        .der()
        .to_vec()
}

fn spki(key: &KeyPair) -> Vec<u8> {
    key.subject_public_key_info()
}

fn verify(
    chain: &[Vec<u8>],
    roots: &[Vec<u8>],
    device: &KeyPair,
) -> Result<AndroidKeyAttestation, PkiError> {
    verify_android_key_attestation(chain, roots, CHALLENGE, &spki(device), NOW)
}

// ---------------------------------------------------------------------------------------------
// Valid chains

#[test]
fn valid_chain_under_a_p384_root_passes() {
    let pki = make_pki(&PKCS_ECDSA_P384_SHA384, &PKCS_ECDSA_P256_SHA256);
    let device = device_key();
    let leaf = leaf_cert(&pki, &device, Leaf::default());
    let chain = vec![leaf, pki.intermediate.clone(), pki.root.clone()];
    let expected = AndroidKeyAttestation {
        attestation_version: 300,
        attestation_security_level: SecurityLevel::TrustedEnvironment,
        keymint_security_level: SecurityLevel::TrustedEnvironment,
        chain_length: 3,
    };
    assert_eq!(
        verify(&chain, std::slice::from_ref(&pki.root), &device),
        Ok(expected.clone())
    );
    // Among several trusted roots.
    let other = make_pki(&PKCS_ECDSA_P256_SHA256, &PKCS_ECDSA_P256_SHA256);
    assert_eq!(
        verify(&chain, &[other.root.clone(), pki.root.clone()], &device),
        Ok(expected)
    );
    // The root is trusted by its key: a re-issued root certificate with the same key matches.
    let reissued = {
        let mut params = ca_params("Test Key Attestation Root");
        params.not_after = date_time_ymd(2045, 1, 1);
        params
            .self_signed(&pki.root_key)
            .expect("reissue")
            .der()
            .to_vec()
    };
    assert_ne!(reissued, pki.root);
    assert!(verify(&chain, &[reissued], &device).is_ok());
}

#[test]
fn valid_chains_with_other_algorithm_mixes_pass() {
    // P-256 root; P-384 intermediate, so the leaf is signed ecdsa-with-SHA384.
    let pki = make_pki(&PKCS_ECDSA_P256_SHA256, &PKCS_ECDSA_P384_SHA384);
    let device = device_key();
    let leaf = leaf_cert(
        &pki,
        &device,
        Leaf {
            extension: Some(key_description(CHALLENGE, SecurityLevel::StrongBox)),
            ..Leaf::default()
        },
    );
    let chain = vec![leaf.clone(), pki.intermediate.clone(), pki.root.clone()];
    let result = verify(&chain, std::slice::from_ref(&pki.root), &device).expect("valid");
    assert_eq!(result.attestation_security_level, SecurityLevel::StrongBox);
    assert_eq!(result.keymint_security_level, SecurityLevel::StrongBox);

    // Two certificates: the intermediate is the trusted root.
    let result = verify(
        &[leaf, pki.intermediate.clone()],
        std::slice::from_ref(&pki.intermediate),
        &device,
    )
    .expect("valid");
    assert_eq!(result.chain_length, 2);

    // Software attestations verify too; judging the level is the caller's policy.
    let leaf = leaf_cert(
        &pki,
        &device,
        Leaf {
            extension: Some(key_description(CHALLENGE, SecurityLevel::Software)),
            ..Leaf::default()
        },
    );
    let result = verify(
        &[leaf, pki.intermediate.clone(), pki.root.clone()],
        std::slice::from_ref(&pki.root),
        &device,
    )
    .expect("valid");
    assert_eq!(result.attestation_security_level, SecurityLevel::Software);
}

// ---------------------------------------------------------------------------------------------
// Refusals, one distinct error each

#[test]
fn wrong_challenge_is_refused() {
    let pki = make_pki(&PKCS_ECDSA_P384_SHA384, &PKCS_ECDSA_P256_SHA256);
    let device = device_key();
    let leaf = leaf_cert(&pki, &device, Leaf::default());
    let chain = vec![leaf, pki.intermediate.clone(), pki.root.clone()];
    let roots = [pki.root.clone()];
    assert_eq!(
        verify_android_key_attestation(&chain, &roots, b"another challenge", &spki(&device), NOW),
        Err(PkiError::ChallengeMismatch)
    );
    // A prefix of the challenge is not the challenge.
    assert_eq!(
        verify_android_key_attestation(&chain, &roots, &CHALLENGE[..8], &spki(&device), NOW),
        Err(PkiError::ChallengeMismatch)
    );
}

#[test]
fn foreign_root_is_refused() {
    let pki = make_pki(&PKCS_ECDSA_P384_SHA384, &PKCS_ECDSA_P256_SHA256);
    let device = device_key();
    let leaf = leaf_cert(&pki, &device, Leaf::default());
    let chain = vec![leaf.clone(), pki.intermediate.clone(), pki.root.clone()];
    let google = make_pki(&PKCS_ECDSA_P384_SHA384, &PKCS_ECDSA_P256_SHA256);
    assert_eq!(
        verify(&chain, std::slice::from_ref(&google.root), &device),
        Err(PkiError::UntrustedRoot)
    );
    // A chain that stops below the root is not trusted either.
    assert_eq!(
        verify(
            &[leaf, pki.intermediate.clone()],
            std::slice::from_ref(&pki.root),
            &device
        ),
        Err(PkiError::UntrustedRoot)
    );
    // Same name as the trusted root, another key.
    let impostor_key = KeyPair::generate_for(&PKCS_ECDSA_P384_SHA384).expect("key");
    let impostor = ca_params("Test Key Attestation Root")
        .self_signed(&impostor_key)
        .expect("impostor")
        .der()
        .to_vec();
    assert_eq!(
        verify(&chain, &[impostor], &device),
        Err(PkiError::UntrustedRoot)
    );
}

#[test]
fn broken_link_is_refused() {
    let pki = make_pki(&PKCS_ECDSA_P384_SHA384, &PKCS_ECDSA_P256_SHA256);
    let other = make_pki(&PKCS_ECDSA_P384_SHA384, &PKCS_ECDSA_P256_SHA256);
    let device = device_key();
    // The leaf is signed by another batch key with the same name.
    let leaf = leaf_cert(&other, &device, Leaf::default());
    let chain = vec![leaf, pki.intermediate.clone(), pki.root.clone()];
    assert_eq!(
        verify(&chain, std::slice::from_ref(&pki.root), &device),
        Err(PkiError::ChainBroken(0))
    );
    // The intermediate is signed by another root.
    let leaf = leaf_cert(&other, &device, Leaf::default());
    let chain = vec![leaf, other.intermediate.clone(), pki.root.clone()];
    assert_eq!(
        verify(&chain, std::slice::from_ref(&pki.root), &device),
        Err(PkiError::ChainBroken(1))
    );
    // A leaf whose signature was altered (last octet of s).
    let mut leaf = leaf_cert(&pki, &device, Leaf::default());
    let last = leaf.len() - 1;
    leaf[last] ^= 0x01;
    let chain = vec![leaf, pki.intermediate.clone(), pki.root.clone()];
    assert!(matches!(
        verify(&chain, std::slice::from_ref(&pki.root), &device),
        Err(PkiError::ChainBroken(0) | PkiError::Malformed(_))
    ));
}

#[test]
fn expired_or_not_yet_valid_certificates_are_refused() {
    let pki = make_pki(&PKCS_ECDSA_P384_SHA384, &PKCS_ECDSA_P256_SHA256);
    let device = device_key();
    let expired = leaf_cert(
        &pki,
        &device,
        Leaf {
            not_before: (2024, 1, 1),
            not_after: (2025, 12, 31),
            ..Leaf::default()
        },
    );
    let chain = vec![expired, pki.intermediate.clone(), pki.root.clone()];
    assert_eq!(
        verify(&chain, std::slice::from_ref(&pki.root), &device),
        Err(PkiError::Expired)
    );
    let future = leaf_cert(
        &pki,
        &device,
        Leaf {
            not_before: (2027, 1, 1),
            ..Leaf::default()
        },
    );
    let chain = vec![future, pki.intermediate.clone(), pki.root.clone()];
    assert_eq!(
        verify(&chain, std::slice::from_ref(&pki.root), &device),
        Err(PkiError::NotYetValid)
    );
    // The intermediate's validity counts too: the same chain at 2041.
    let leaf = leaf_cert(&pki, &device, Leaf::default());
    let chain = vec![leaf, pki.intermediate.clone(), pki.root.clone()];
    let in_2041 = 2_240_524_800;
    assert_eq!(
        verify_android_key_attestation(
            &chain,
            std::slice::from_ref(&pki.root),
            CHALLENGE,
            &spki(&device),
            in_2041
        ),
        Err(PkiError::Expired)
    );
}

#[test]
fn leaf_key_other_than_the_device_key_is_refused() {
    let pki = make_pki(&PKCS_ECDSA_P384_SHA384, &PKCS_ECDSA_P256_SHA256);
    let device = device_key();
    let leaf = leaf_cert(&pki, &device, Leaf::default());
    let chain = vec![leaf, pki.intermediate.clone(), pki.root.clone()];
    let other_device = device_key();
    assert_eq!(
        verify(&chain, std::slice::from_ref(&pki.root), &other_device),
        Err(PkiError::KeyMismatch)
    );
    // The device key given compressed still matches the leaf's uncompressed key.
    use p256::elliptic_curve::sec1::ToSec1Point;
    use p256::pkcs8::{DecodePublicKey, EncodePublicKey};
    let key = p256::PublicKey::from_public_key_der(&spki(&device)).expect("p256 spki");
    let compressed = spki::SubjectPublicKeyInfoOwned::from_der(
        key.to_public_key_der().expect("spki").as_bytes(),
    )
    .map(|mut s| {
        s.subject_public_key =
            der::asn1::BitString::from_bytes(key.to_sec1_point(true).as_bytes()).expect("bits");
        s.to_der().expect("spki")
    })
    .expect("spki");
    let chain_roots = [pki.root.clone()];
    assert!(
        verify_android_key_attestation(&chain, &chain_roots, CHALLENGE, &compressed, NOW).is_ok()
    );
}

#[test]
fn missing_or_misplaced_extension_is_refused() {
    let pki = make_pki(&PKCS_ECDSA_P384_SHA384, &PKCS_ECDSA_P256_SHA256);
    let device = device_key();
    let leaf = leaf_cert(
        &pki,
        &device,
        Leaf {
            extension: None,
            ..Leaf::default()
        },
    );
    let chain = vec![leaf, pki.intermediate.clone(), pki.root.clone()];
    assert_eq!(
        verify(&chain, std::slice::from_ref(&pki.root), &device),
        Err(PkiError::MissingAttestationExtension)
    );

    // An attested key issued the leaf: its certificate carries a KeyDescription too. Whoever
    // holds that key could have written any leaf, so the chain is refused.
    let mut attested_params = ca_params("Attested key used as issuer");
    attested_params
        .custom_extensions
        .push(attestation_extension(key_description(
            CHALLENGE,
            SecurityLevel::TrustedEnvironment,
        )));
    let attested_key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).expect("key");
    let attested = attested_params
        .signed_by(
            &attested_key,
            &Issuer::from_params(&pki.intermediate_params, &pki.intermediate_key),
        )
        .expect("attested")
        .der()
        .to_vec();
    let mut leaf_params = CertificateParams::default();
    leaf_params.not_before = date_time_ymd(1970, 1, 1);
    leaf_params
        .custom_extensions
        .push(attestation_extension(key_description(
            CHALLENGE,
            SecurityLevel::StrongBox,
        )));
    let forged_leaf = leaf_params
        .signed_by(
            &device,
            &Issuer::from_params(&attested_params, &attested_key),
        )
        .expect("leaf")
        .der()
        .to_vec();
    let chain = vec![
        forged_leaf,
        attested,
        pki.intermediate.clone(),
        pki.root.clone(),
    ];
    assert_eq!(
        verify(&chain, std::slice::from_ref(&pki.root), &device),
        Err(PkiError::AttestationExtensionNotInLeaf(1))
    );

    // A KeyDescription that is not one.
    for bad in [
        vec![0x30, 0x00],
        vec![0x04, 0x01, 0x00],
        b"garbage".to_vec(),
        // Security level 3 does not exist.
        {
            let mut kd = key_description(CHALLENGE, SecurityLevel::TrustedEnvironment);
            let at = kd
                .windows(3)
                .position(|w| w == [0x0a, 0x01, 0x01])
                .expect("ENUMERATED 1");
            kd[at + 2] = 3;
            kd
        },
        // Trailing data after the SEQUENCE.
        {
            let mut kd = key_description(CHALLENGE, SecurityLevel::TrustedEnvironment);
            kd.extend([0x05, 0x00]);
            kd
        },
    ] {
        let leaf = leaf_cert(
            &pki,
            &device,
            Leaf {
                extension: Some(bad),
                ..Leaf::default()
            },
        );
        let chain = vec![leaf, pki.intermediate.clone(), pki.root.clone()];
        assert!(matches!(
            verify(&chain, std::slice::from_ref(&pki.root), &device),
            Err(PkiError::Malformed(_))
        ));
    }
}

#[test]
fn oversized_chains_and_bad_arguments_are_refused() {
    let pki = make_pki(&PKCS_ECDSA_P384_SHA384, &PKCS_ECDSA_P256_SHA256);
    let device = device_key();
    let leaf = leaf_cert(&pki, &device, Leaf::default());
    let roots = [pki.root.clone()];

    // Nine certificates (the limit is eight), checked before anything is parsed.
    let mut long = vec![leaf.clone()];
    long.extend(std::iter::repeat_n(
        pki.intermediate.clone(),
        MAX_ATTESTATION_CHAIN_CERTIFICATES - 1,
    ));
    long.push(pki.root.clone());
    assert_eq!(long.len(), 9);
    assert_eq!(
        verify(&long, &roots, &device),
        Err(PkiError::ChainTooLong(MAX_ATTESTATION_CHAIN_CERTIFICATES))
    );
    assert_eq!(
        verify(&vec![vec![0u8; 3]; 100], &roots, &device),
        Err(PkiError::ChainTooLong(MAX_ATTESTATION_CHAIN_CERTIFICATES))
    );

    // A certificate over 16 KiB.
    let big = leaf_cert(
        &pki,
        &device,
        Leaf {
            padding: MAX_CERTIFICATE_BYTES,
            ..Leaf::default()
        },
    );
    assert!(big.len() > MAX_CERTIFICATE_BYTES);
    let chain = vec![big, pki.intermediate.clone(), pki.root.clone()];
    assert_eq!(
        verify(&chain, &roots, &device),
        Err(PkiError::TooLarge(MAX_CERTIFICATE_BYTES))
    );

    let chain = vec![leaf, pki.intermediate.clone(), pki.root.clone()];
    let invalid = |result: Result<AndroidKeyAttestation, PkiError>| {
        matches!(result, Err(PkiError::InvalidInput(_)))
    };
    assert!(invalid(verify(&chain[..1], &roots, &device)));
    assert!(invalid(verify(&[], &roots, &device)));
    assert!(invalid(verify(&chain, &[], &device)));
    assert!(invalid(verify(
        &chain,
        &[b"not a certificate".to_vec()],
        &device
    )));
    assert!(invalid(verify_android_key_attestation(
        &chain,
        &roots,
        b"",
        &spki(&device),
        NOW
    )));
    // The device key must be a P-256 SubjectPublicKeyInfo.
    let p384 = KeyPair::generate_for(&PKCS_ECDSA_P384_SHA384).expect("key");
    assert!(invalid(verify(&chain, &roots, &p384)));
    assert!(invalid(verify_android_key_attestation(
        &chain,
        &roots,
        CHALLENGE,
        b"\x30\x00",
        NOW
    )));
}

/// RSA chains (Google's older RSA-4096 roots) are refused as unsupported. rcgen on ring cannot
/// generate RSA keys, so OpenSSL makes one; skipped without openssl.
#[test]
fn rsa_root_is_unsupported() {
    let dir = tempfile::tempdir().expect("tempdir");
    let key_path = dir.path().join("rsa.pem");
    let made = std::process::Command::new("openssl")
        .args([
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            "rsa_keygen_bits:2048",
            "-out",
        ])
        .arg(&key_path)
        .output()
        .is_ok_and(|o| o.status.success());
    if !made {
        eprintln!("openssl not found: skipping the RSA root check");
        return;
    }
    let pem = std::fs::read_to_string(&key_path).expect("read");
    let rsa_key = KeyPair::from_pem_and_sign_algo(&pem, &rcgen::PKCS_RSA_SHA256).expect("rsa key");
    let root_params = ca_params("Test RSA Attestation Root");
    let root = root_params
        .self_signed(&rsa_key)
        .expect("root")
        .der()
        .to_vec();
    let intermediate_key = KeyPair::generate_for(&PKCS_ECDSA_P384_SHA384).expect("key");
    let intermediate_params = ca_params("Test Attestation Batch Key");
    let intermediate = intermediate_params
        .signed_by(
            &intermediate_key,
            &Issuer::from_params(&root_params, &rsa_key),
        )
        .expect("intermediate")
        .der()
        .to_vec();
    let pki = Pki {
        root_key: rsa_key,
        root,
        intermediate_key,
        intermediate_params,
        intermediate,
    };
    let device = device_key();
    let leaf = leaf_cert(&pki, &device, Leaf::default());
    let chain = vec![leaf, pki.intermediate.clone(), pki.root.clone()];
    match verify(&chain, std::slice::from_ref(&pki.root), &device) {
        Err(PkiError::UnsupportedAlgorithm(message)) => assert!(message.contains("RSA")),
        other => panic!("expected UnsupportedAlgorithm, got {other:?}"),
    }
}

// ---------------------------------------------------------------------------------------------
// Hostile input never panics

struct Fixture {
    chain: Vec<Vec<u8>>,
    root: Vec<u8>,
    device_spki: Vec<u8>,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let pki = make_pki(&PKCS_ECDSA_P384_SHA384, &PKCS_ECDSA_P256_SHA256);
        let device = device_key();
        let leaf = leaf_cert(&pki, &device, Leaf::default());
        Fixture {
            chain: vec![leaf, pki.intermediate.clone(), pki.root.clone()],
            root: pki.root.clone(),
            device_spki: spki(&device),
        }
    })
}

#[test]
fn every_truncation_is_refused() {
    let f = fixture();
    let roots = [f.root.clone()];
    assert!(
        verify_android_key_attestation(&f.chain, &roots, CHALLENGE, &f.device_spki, NOW).is_ok()
    );
    for i in 0..f.chain.len() {
        for len in 0..f.chain[i].len() {
            let mut chain = f.chain.clone();
            chain[i].truncate(len);
            assert!(
                verify_android_key_attestation(&chain, &roots, CHALLENGE, &f.device_spki, NOW)
                    .is_err(),
                "certificate {i} truncated to {len} bytes was accepted"
            );
        }
    }
    for len in 0..f.device_spki.len() {
        assert!(
            verify_android_key_attestation(&f.chain, &roots, CHALLENGE, &f.device_spki[..len], NOW)
                .is_err()
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn garbage_never_panics(
        chain in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..400), 0..10),
        roots in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..200), 0..3),
        challenge in proptest::collection::vec(any::<u8>(), 0..40),
        device in proptest::collection::vec(any::<u8>(), 0..100),
        now in any::<u64>(),
    ) {
        let _ = verify_android_key_attestation(&chain, &roots, &challenge, &device, now);
    }

    #[test]
    fn mutated_chains_never_panic(
        cert in 0usize..3,
        at in any::<proptest::sample::Index>(),
        value in any::<u8>(),
        truncate in any::<bool>(),
        now in any::<u64>(),
    ) {
        let f = fixture();
        let mut chain = f.chain.clone();
        let i = at.index(chain[cert].len());
        if truncate {
            chain[cert].truncate(i);
        } else {
            chain[cert][i] = value;
        }
        let roots = [f.root.clone()];
        let _ = verify_android_key_attestation(&chain, &roots, CHALLENGE, &f.device_spki, now);
        let _ = verify_android_key_attestation(&chain, &chain[2..], CHALLENGE, &chain[0], now);
    }
}
