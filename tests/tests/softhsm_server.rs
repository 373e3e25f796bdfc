//! The server with its shares wrapped by an AES key inside a real SoftHSM2 token.

use inkseal_cosign::DEFAULT_SIGNER_ID;
use inkseal_cosign::api::Pin;
use inkseal_cosign::sm2::dsa::VerifyingKey;
use inkseal_cosign::sm2::dsa::signature::Verifier;
use inkseal_server::VaultChoice;
use inkseal_server::vault::{Pkcs11Vault, ShareVault};
use inkseal_tests::{client_at, loopback_config, softhsm_token, ticket_in_process};

#[test]
fn co_signing_with_an_hsm_vault_survives_a_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pkcs11 = softhsm_token(&dir.path().join("hsm"), "inkseal-e2e", "4321");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let data = dir.path().join("server");
        let mut config = loopback_config(&data);
        config.vault = VaultChoice::Pkcs11(pkcs11.clone());
        let server = inkseal_server::start(config.clone())
            .await
            .expect("start with HSM vault");
        let client = client_at(&server.url(), &dir.path().join("device"));
        let pin = Pin::new("505050");
        let ticket = ticket_in_process(&server, "hsm-user");
        let enrolled = client.enroll(&ticket, &pin).await.expect("enroll");
        client
            .request_certificate(&enrolled.key_id, &pin, None)
            .await
            .expect("certificate");
        server.shutdown().await.expect("shutdown");

        // No master key file: the wrapping key lives only in the token.
        assert!(!data.join("master.key").exists());

        let server = inkseal_server::start(config).await.expect("restart");
        let client = client_at(&server.url(), &dir.path().join("device"));
        let sig = client
            .sign_message(&enrolled.key_id, &pin, b"sealed by the HSM", None)
            .await
            .expect("sign after restart");
        let vk = VerifyingKey::new(DEFAULT_SIGNER_ID, enrolled.public_key).expect("vk");
        vk.verify(b"sealed by the HSM", &sig).expect("verifies");
        // The audit log is anchored by checkpoints the token's audit key signed.
        let service = server.service().clone();
        let report = tokio::task::spawn_blocking(move || {
            service.audit().checkpoint().expect("checkpoint");
            service.audit().verify().expect("verify")
        })
        .await
        .expect("task");
        assert!(report.is_intact(), "{report:?}");
        assert!(report.checkpoints >= 1 && report.anchored_through == report.entries);
        server.shutdown().await.expect("shutdown");
    });

    // The token's wrapping key is sensitive and cannot be extracted.
    let vault = Pkcs11Vault::open(&pkcs11).expect("open vault");
    assert!(vault.key_is_protected().expect("attributes"));
    assert!(vault.describe().contains("inkseal-e2e"));
}
