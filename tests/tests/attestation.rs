//! Device-key attestation at enrollment, against a real server whose policy requires it: an
//! Android Key Attestation chain the test makes (root → batch key → the device key's
//! certificate carrying the KeyDescription with the ticket's id as challenge) is verified by the
//! configured adapter; no attestation, a wrong challenge or a foreign root is refused.

use inkseal_cosign::api::{AttestationFormat, DeviceAttestation, Pin};
use inkseal_pki::{ANDROID_KEY_ATTESTATION_OID, SecurityLevel};
use inkseal_sdk::{
    ClientConfig, CosignClient, DeviceKeyInfo, DeviceKeyStore, FileShareStore, SdkError,
};
use inkseal_server::attestation::AndroidKeyAttestation;
use inkseal_tests::{Backend, loopback_config};
use p256::pkcs8::DecodePrivateKey;
use rcgen::{
    BasicConstraints, CertificateParams, CustomExtension, DnType, IsCa, Issuer, KeyPair,
    PKCS_ECDSA_P256_SHA256, date_time_ymd,
};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

fn ca_params(cn: &str) -> CertificateParams {
    let mut params = CertificateParams::default();
    params.distinguished_name = rcgen::DistinguishedName::new();
    params.distinguished_name.push(DnType::CommonName, cn);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.not_before = date_time_ymd(2020, 1, 1);
    params.not_after = date_time_ymd(2040, 1, 1);
    params
}

/// A test attestation root and batch key, as a phone maker would hold.
struct Maker {
    root_params: CertificateParams,
    root_key: KeyPair,
    root: Vec<u8>,
    batch_params: CertificateParams,
    batch_key: KeyPair,
    batch: Vec<u8>,
}

impl Maker {
    fn new(name: &str) -> Maker {
        let root_key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).expect("key");
        let root_params = ca_params(&format!("{name} attestation root"));
        let root = root_params
            .self_signed(&root_key)
            .expect("root")
            .der()
            .to_vec();
        let batch_key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).expect("key");
        let batch_params = ca_params(&format!("{name} batch key"));
        let batch = batch_params
            .signed_by(&batch_key, &Issuer::from_params(&root_params, &root_key))
            .expect("batch")
            .der()
            .to_vec();
        Maker {
            root_params,
            root_key,
            root,
            batch_params,
            batch_key,
            batch,
        }
    }

    /// The device key's certificate chain, leaf first, attesting `challenge`.
    fn chain(&self, device: &KeyPair, challenge: &[u8]) -> Vec<Vec<u8>> {
        let description =
            inkseal_pki::key_description_der(challenge, SecurityLevel::TrustedEnvironment)
                .expect("KeyDescription");
        let mut params = CertificateParams::default();
        params.distinguished_name = rcgen::DistinguishedName::new();
        params
            .distinguished_name
            .push(DnType::CommonName, "Android Keystore Key");
        params.not_before = date_time_ymd(1970, 1, 1);
        params.not_after = date_time_ymd(2048, 1, 1);
        let arcs: Vec<u64> = ANDROID_KEY_ATTESTATION_OID.arcs().map(u64::from).collect();
        params
            .custom_extensions
            .push(CustomExtension::from_oid_content(&arcs, description));
        let leaf = params
            .signed_by(
                device,
                &Issuer::from_params(&self.batch_params, &self.batch_key),
            )
            .expect("leaf")
            .der()
            .to_vec();
        let _ = (&self.root_params, &self.root_key);
        vec![leaf, self.batch.clone(), self.root.clone()]
    }
}

/// A key store that attests its keys like an Android phone (or a forger).
struct AttestingKeys {
    maker: Arc<Maker>,
    wrong_challenge: bool,
    keys: Mutex<HashMap<String, KeyPair>>,
}

impl AttestingKeys {
    fn new(maker: Arc<Maker>, wrong_challenge: bool) -> Arc<Self> {
        Arc::new(AttestingKeys {
            maker,
            wrong_challenge,
            keys: Mutex::default(),
        })
    }
}

impl DeviceKeyStore for AttestingKeys {
    fn create(&self, alias: &str, challenge: &[u8]) -> Result<DeviceKeyInfo, SdkError> {
        let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).expect("key");
        let challenge = if self.wrong_challenge {
            b"et-00000000000000000000000000000000".as_slice()
        } else {
            challenge
        };
        let chain = self.maker.chain(&key, challenge);
        let info = DeviceKeyInfo {
            public_key_spki_der: rcgen::PublicKeyData::subject_public_key_info(&key),
            attestation: Some(DeviceAttestation {
                format: AttestationFormat::AndroidKey,
                parts_hex: chain.iter().map(hex::encode).collect(),
            }),
        };
        self.keys.lock().expect("lock").insert(alias.into(), key);
        Ok(info)
    }

    fn sign(&self, alias: &str, message: &[u8]) -> Result<Vec<u8>, SdkError> {
        use p256::ecdsa::signature::Signer;
        let keys = self.keys.lock().expect("lock");
        let key = keys.get(alias).expect("key");
        let signing = p256::ecdsa::SigningKey::from_pkcs8_der(&key.serialize_der()).expect("pkcs8");
        let signature: p256::ecdsa::Signature = signing.sign(message);
        Ok(signature.to_der().as_bytes().to_vec())
    }

    fn delete(&self, alias: &str) -> Result<(), SdkError> {
        self.keys.lock().expect("lock").remove(alias);
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_policy_requiring_attestation_admits_only_attested_device_keys() {
    let dir = tempfile::tempdir().expect("tempdir");
    let maker = Arc::new(Maker::new("phone maker"));
    let mut config = loopback_config(&dir.path().join("server"));
    config.policy.require_device_attestation = true;
    config
        .attestation
        .push(Arc::new(AndroidKeyAttestation::new(vec![
            maker.root.clone(),
        ])));
    let server = inkseal_server::start(config).await.expect("start");
    let backend = Backend::new(&server);
    let client = |keys: Arc<dyn DeviceKeyStore>, name: &str| {
        let store = Arc::new(FileShareStore::new(dir.path().join(name)).expect("store"));
        CosignClient::new(ClientConfig::new(server.url()), store, keys).expect("client")
    };
    let pin = Pin::new("802461");

    // An attested device key: enrolled, and the server says so.
    let phone = client(AttestingKeys::new(maker.clone(), false), "phone");
    let key = phone
        .enroll(&backend.ticket("customer-1").await, &pin)
        .await
        .expect("attested enrollment")
        .key_id;
    let status = phone.status(&key).await.expect("status");
    assert_eq!(
        status.device_attestation,
        Some(AttestationFormat::AndroidKey)
    );

    // No attestation (a desktop key store): refused, and the ticket is not used up.
    let ticket = backend.ticket("customer-2").await;
    let plain = client(
        Arc::new(inkseal_sdk::FileDeviceKeyStore::new(dir.path().join("plain")).expect("keys")),
        "plain",
    );
    let err = plain.enroll(&ticket, &pin).await.expect_err("unattested");
    assert!(
        matches!(err, SdkError::Refused(ref m) if m.contains("requires a device-key attestation")),
        "{err:?}"
    );
    // An attestation of another challenge (a replayed chain): refused.
    let replayer = client(AttestingKeys::new(maker.clone(), true), "replayer");
    let err = replayer
        .enroll(&ticket, &pin)
        .await
        .expect_err("wrong challenge");
    assert!(
        matches!(err, SdkError::Refused(ref m) if m.contains("challenge")),
        "{err:?}"
    );
    // A chain from a root the deployment does not trust: refused.
    let forger = client(
        AttestingKeys::new(Arc::new(Maker::new("forger")), false),
        "forger",
    );
    let err = forger
        .enroll(&ticket, &pin)
        .await
        .expect_err("foreign root");
    assert!(
        matches!(err, SdkError::Refused(ref m) if m.contains("attestation rejected")),
        "{err:?}"
    );
    // The rightful phone still enrolls with that ticket.
    phone.enroll(&ticket, &pin).await.expect("enrolls");
    let audit = backend.audit().await;
    assert!(audit.iter().filter(|e| e["kind"] == "enrolled").all(|e| {
        e["detail"]
            .as_str()
            .is_some_and(|d| d.contains("android key attestation"))
    }));
    server.shutdown().await.expect("shutdown");
}
