//! A P-256 seal generated and used inside a real SoftHSM2 token: the private key object is
//! sensitive and non-extractable, the token signs, and the signature verifies under the
//! seal's organisation certificate.

use inkseal_sdk::seal::{RemoteSeal, SealClient, SealOrder};
use inkseal_server::service::Role;
use inkseal_tests::{Backend, TokenServer, token_server};

#[test]
fn a_p256_seal_lives_and_signs_in_the_token() {
    let dir = tempfile::tempdir().expect("tempdir");
    let TokenServer {
        runtime,
        server,
        pkcs11,
    } = token_server(dir.path(), "inkseal-seal", "4321");
    let backend = Backend::with_roles(&server, &[Role::SealManage, Role::SealUse]);
    let client = SealClient::new(&server.url(), &backend.api_key).expect("client");

    let seal = client
        .create(&SealOrder {
            institution: "示例保险股份有限公司".into(),
            credit_code: "911100001000044477".into(),
            purpose: "保单专用章".into(),
            algorithm: "ecdsa-p256".into(),
        })
        .expect("create");
    assert_eq!(seal.key_storage, "pkcs11_token");

    // The private key object in the token: sensitive, never extractable, always so.
    let protected = server
        .service()
        .sealing()
        .key_is_protected(&seal.seal_id)
        .expect("attributes");
    assert_eq!(protected, Some(true));
    let vault = inkseal_server::vault::Pkcs11Vault::open(&pkcs11).expect("vault");
    use inkseal_server::vault::ShareVault;
    let token = vault.token_keys().expect("token keys");
    let label = inkseal_server::service::sealing::token_label(&seal.seal_id);
    assert!(token.p256_key_is_protected(&label).expect("flags"));

    // The token signs (through the HTTP API); p256 verifies against the certificate.
    let message = b"DER signed attributes of a policy".to_vec();
    let signer =
        RemoteSeal::from_description(&client, seal.clone(), "policy-1.pdf").expect("remote seal");
    let der = inkseal_pdf::signer::Signer::sign(&signer, &message).expect("sign");
    let chain = seal.chain().expect("chain");
    let public = inkseal_pki::certificate_public_key(&chain[0]);
    assert!(
        public.is_err(),
        "certificate_public_key reads SM2 keys only"
    );
    let spki = {
        use der::Decode;
        let cert = x509_cert::Certificate::from_der(&chain[0]).expect("certificate");
        cert.tbs_certificate()
            .subject_public_key_info()
            .subject_public_key
            .raw_bytes()
            .to_vec()
    };
    let key = p256::ecdsa::VerifyingKey::from_sec1_bytes(&spki).expect("P-256 key");
    assert_eq!(
        key,
        token.p256_public_key(&label).expect("token public key")
    );
    let signature = p256::ecdsa::Signature::from_der(&der).expect("DER signature");
    use p256::ecdsa::signature::Verifier;
    key.verify(&message, &signature)
        .expect("the token's signature verifies under the certificate");
    let subject = inkseal_pki::certificate_organization(&chain[0]).expect("subject");
    assert_eq!(subject.credit_code(), Some("911100001000044477"));

    runtime.block_on(server.shutdown()).expect("shutdown");
}
