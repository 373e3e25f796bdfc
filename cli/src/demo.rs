//! `inkseal demo`: the whole co-signing flow against a server started in this process.

use clap::Args;
use inkseal_cosign::sm2::dsa::VerifyingKey;
use inkseal_cosign::sm2::dsa::signature::Verifier;
use inkseal_sdk::{ClientConfig, CosignClient, FileShareStore, Pin, SdkError};
use inkseal_server::ServerConfig;
use std::path::PathBuf;
use std::sync::Arc;

/// Options of `inkseal demo`.
#[derive(Args, Debug)]
pub struct DemoArgs {
    /// Keep the server data, device share and certificates here (default: a temporary folder).
    #[arg(long)]
    dir: Option<PathBuf>,
}

pub async fn run(args: DemoArgs) -> Result<(), String> {
    let temp = tempfile::tempdir().map_err(|e| e.to_string())?;
    let dir = args.dir.unwrap_or_else(|| temp.path().to_owned());
    let mut config = ServerConfig::new(dir.join("server"));
    config.listen = ([127, 0, 0, 1], 0).into();
    let server = inkseal_server::start(config)
        .await
        .map_err(|e| e.to_string())?;
    println!(
        "1. co-signing server started at {} (data in {})",
        server.url(),
        dir.join("server").display()
    );

    let store = Arc::new(FileShareStore::new(dir.join("device")).map_err(|e| e.to_string())?);
    let client =
        CosignClient::new(ClientConfig::new(server.url()), store).map_err(|e| e.to_string())?;
    let pin = Pin::new("246810");
    let user = "customer-310101199001011234";
    let enrollment = client.enroll(user, &pin).await.map_err(|e| e.to_string())?;
    println!(
        "2. enrolled {user}: key {} with joint SM2 public key {}",
        enrollment.key_id,
        hex::encode(enrollment.public_key.to_sec1_bytes())
    );
    println!("   the phone holds d1, the server holds d2 (sealed); neither alone can sign");

    let (cert, ca) = client
        .request_certificate(&enrollment.key_id, &pin)
        .await
        .map_err(|e| e.to_string())?;
    let cert_path = dir.join("customer-cert.pem");
    let ca_path = dir.join("ca-cert.pem");
    std::fs::write(&cert_path, inkseal_pki::der_to_pem("CERTIFICATE", &cert))
        .map_err(|e| e.to_string())?;
    std::fs::write(&ca_path, inkseal_pki::der_to_pem("CERTIFICATE", &ca))
        .map_err(|e| e.to_string())?;
    println!(
        "3. certificate issued for the joint key after a co-signed CSR: {} (CA: {})",
        cert_path.display(),
        ca_path.display()
    );

    let contract = "个人消费借款合同 第七条：借款人确认已阅读并同意本合同全部条款。".as_bytes();
    let signature = client
        .sign_message(&enrollment.key_id, &pin, contract)
        .await
        .map_err(|e| e.to_string())?;
    let vk = VerifyingKey::new(inkseal_cosign::DEFAULT_SIGNER_ID, enrollment.public_key)
        .map_err(|e| e.to_string())?;
    vk.verify(contract, &signature)
        .map_err(|_| "the co-signed signature does not verify".to_string())?;
    println!(
        "4. co-signed the contract clause in one round trip; SM2 signature verifies:\n   r = {}\n   s = {}",
        hex::encode(signature.r_bytes()),
        hex::encode(signature.s_bytes())
    );

    match client
        .sign_message(&enrollment.key_id, &Pin::new("000000"), contract)
        .await
    {
        Err(SdkError::WrongPin { attempts_left }) => {
            println!(
                "5. a wrong PIN is refused by the server: {attempts_left} attempt(s) left before the key locks"
            )
        }
        other => return Err(format!("expected a wrong-PIN refusal, got {other:?}")),
    }

    let entries = server
        .service()
        .store()
        .audit_entries(1, 10_000)
        .map_err(|e| e.to_string())?;
    inkseal_server::audit::verify_chain(&entries)
        .map_err(|i| format!("audit chain broken at entry {i}"))?;
    println!(
        "6. audit log: {} hash-chained entries, chain intact",
        entries.len()
    );
    for e in &entries {
        println!("   #{:<3} {:<19} {}", e.seq, e.kind, &e.hash[..16]);
    }
    server.shutdown().await.map_err(|e| e.to_string())?;
    println!("done.");
    Ok(())
}
