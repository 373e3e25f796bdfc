//! `inkseal demo`: the whole product flow against a server started in this process, the way a
//! loan officer's tablet runs it: enrollment, identity proofing (ID card + face liveness through
//! file-based hooks), a certificate, a handwritten signature sealed to the bank, a co-signed
//! PAdES signature in the Chinese loan contract bound to fresh liveness evidence, verification,
//! and the evidence package a bank keeps for disputes.

use clap::Args;
use inkseal_capture::FileHooks;
use inkseal_ink::record::encrypt::{InstitutionSecret, Scheme};
use inkseal_ink::{Pad, Point, QualityRules};
use inkseal_pdf::sign::{Placement, SignOptions};
use inkseal_pdf::verify::{VerifyOptions, verify};
use inkseal_sdk::{
    CaptureHookSet, CaptureRequest, ClientConfig, CosignClient, FileShareStore, InkPad, Pin,
    SdkError,
};
use inkseal_server::ServerConfig;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The contract the demo signs (tests/data, from shared/fixtures).
const CONTRACT: &[u8] = include_bytes!("../../tests/data/loan-contract-zh.pdf");

/// Options of `inkseal demo`.
#[derive(Args, Debug)]
pub struct DemoArgs {
    /// Keep the server data, device share, signed contract and evidence here (default: a
    /// temporary folder, removed at the end).
    #[arg(long)]
    dir: Option<PathBuf>,
}

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// The borrower writes a three-stroke signature on a 600 x 240 pad; points arrive in batches.
fn write_signature(pad: &mut InkPad) -> Result<(), String> {
    for k in 0..3u32 {
        pad.begin_stroke();
        let points: Vec<Point> = (0..80u32)
            .map(|i| {
                let s = i as f32 / 80.0;
                let x = 70.0 + 150.0 * k as f32 + 110.0 * s + 14.0 * (s * 16.0).sin();
                let y = 120.0 + 65.0 * (s * 6.5 + k as f32).cos();
                Point::new(x, y, k * 1100 + i * 9).with_pressure(0.55 + 0.3 * (s * 4.0).sin())
            })
            .collect();
        for batch in points.chunks(6) {
            pad.add_points(batch).map_err(err)?;
        }
        pad.end_stroke();
    }
    Ok(())
}

fn capture_hooks(dir: &Path) -> Result<CaptureHookSet, String> {
    FileHooks::write_sample(dir).map_err(err)?;
    let files = Arc::new(FileHooks::new(dir));
    Ok(CaptureHookSet {
        id_card: Some(files.clone()),
        liveness: files,
        intent: None,
    })
}

pub async fn run(args: DemoArgs) -> Result<(), String> {
    let temp = tempfile::tempdir().map_err(err)?;
    let dir = args.dir.unwrap_or_else(|| temp.path().to_owned());
    std::fs::create_dir_all(&dir).map_err(err)?;
    let mut config = ServerConfig::new(dir.join("server"));
    config.listen = ([127, 0, 0, 1], 0).into();
    config.policy.signing.require_liveness = true;
    let server = inkseal_server::start(config).await.map_err(err)?;
    println!(
        "1. co-signing server at {} (data in {}); policy: co-sign only with a passed liveness check \
         younger than 10 minutes",
        server.url(),
        dir.join("server").display()
    );

    let store = Arc::new(FileShareStore::new(dir.join("device")).map_err(err)?);
    let client = CosignClient::new(ClientConfig::new(server.url()), store).map_err(err)?;
    let pin = Pin::new("246810");
    // The sample ID card's (fictitious) number names the user.
    let user = format!("borrower-{}", inkseal_capture::samples::sample_id_number());
    let enrollment = client.enroll(&user, &pin).await.map_err(err)?;
    let key = enrollment.key_id.clone();
    println!(
        "2. enrolled {user}: key {key}, joint SM2 public key {}",
        hex::encode(enrollment.public_key.to_sec1_bytes())
    );
    println!("   the tablet holds d1, the server holds d2 (sealed); neither alone can sign");

    let proofing = client
        .capture_evidence(
            &key,
            capture_hooks(&dir.join("capture"))?,
            CaptureRequest::default(),
        )
        .await
        .map_err(err)?;
    let card = proofing
        .id_card
        .as_ref()
        .ok_or("the ID card was not captured")?;
    println!(
        "3. identity proofing: ID card {} checked (check digit, dates), face liveness judged by the \
         server: {}",
        card.id_number.masked(),
        proofing.receipt.reason
    );
    let (cert, ca) = client
        .request_certificate_with_evidence(&key, &pin, Some(proofing.head))
        .await
        .map_err(err)?;
    let ca_path = dir.join("ca-cert.pem");
    std::fs::write(&ca_path, inkseal_pki::der_to_pem("CERTIFICATE", &ca)).map_err(err)?;
    std::fs::write(
        dir.join("borrower-cert.pem"),
        inkseal_pki::der_to_pem("CERTIFICATE", &cert),
    )
    .map_err(err)?;
    println!(
        "4. certificate issued for the joint key after a co-signed CSR (CA: {})",
        ca_path.display()
    );

    let mut pad = InkPad::new(Pad {
        width: 600.0,
        height: 240.0,
        dpi: 160.0,
    })
    .map_err(err)?;
    write_signature(&mut pad)?;
    let written = pad
        .finish(
            &QualityRules::default(),
            "inkseal demo pad",
            1_790_000_000_000,
        )
        .map_err(err)?;
    let bank = InstitutionSecret::generate(Scheme::Sm2).map_err(err)?;
    let sealed = written.seal_for(&bank.public_key()).map_err(err)?;
    std::fs::write(
        dir.join("signature.png"),
        pad.to_png(480, [15, 30, 120]).map_err(err)?,
    )
    .map_err(err)?;
    println!(
        "5. handwritten signature: {} points over {} ms; raw record sealed to the bank's SM2 key ({} bytes)",
        written.quality().points,
        written.quality().duration_ms,
        sealed.sealed_record().len()
    );

    let mut options = SignOptions::new(now_secs());
    options.field_name = Some("Borrower".into());
    options.placement = Placement::Keyword {
        text: "借款人（签字）：".into(),
        page: Some(3),
        size: [150.0, 55.0],
    };
    options.reason = Some("借款人签署 / borrower signs".into());
    options.appearance.label = vec![format!("借款人 {}", card.id_number.masked())];
    sealed.apply_to(&mut options);
    match client.sign_pdf(&key, &pin, CONTRACT, &options).await {
        Err(SdkError::EvidenceRequired(why)) => {
            println!("6. signing without fresh evidence is refused by the server: {why}")
        }
        other => return Err(format!("expected a policy refusal, got {other:?}")),
    }
    let evidence = client
        .capture_evidence(
            &key,
            capture_hooks(&dir.join("capture"))?,
            CaptureRequest {
                document: Some(CONTRACT.to_vec()),
                ..Default::default()
            },
        )
        .await
        .map_err(err)?;
    let tail = client
        .sign_pdf_with_evidence(&key, &pin, CONTRACT, &options, Some(evidence.head))
        .await
        .map_err(err)?;
    let signed = [CONTRACT, tail.as_slice()].concat();
    let signed_path = dir.join("contract-signed.pdf");
    inkseal_fs::write_atomically(
        &signed_path,
        &[signed.as_slice()],
        inkseal_fs::Visibility::Default,
    )
    .map_err(err)?;
    let report = verify(
        &signed,
        &VerifyOptions {
            trust_anchors: vec![ca],
            at_unix: Some(now_secs()),
            ..Default::default()
        },
    )
    .map_err(err)?;
    if !report.all_ok() || report.signatures[0].ink_binding != Some(true) {
        return Err(format!("the signed contract does not verify: {report:#?}"));
    }
    println!(
        "7. fresh liveness bound to the contract (manifest head {}), then one co-signing round:\n   \
         {} — SM2 PAdES signature valid, chain to the CA, handwriting record bound",
        &hex::encode(evidence.head)[..16],
        signed_path.display()
    );

    match client
        .sign_digest(&key, &Pin::new("000000"), &[0; 32], Some(evidence.head))
        .await
    {
        Err(SdkError::WrongPin { attempts_left }) => println!(
            "8. a wrong PIN is refused by the server: {attempts_left} attempt(s) left before the key locks"
        ),
        other => return Err(format!("expected a wrong-PIN refusal, got {other:?}")),
    }

    let entries = server
        .service()
        .store()
        .audit_entries(1, 10_000)
        .map_err(err)?;
    inkseal_server::audit::verify_chain(&entries)
        .map_err(|i| format!("audit chain broken at entry {i}"))?;
    let head_hex = hex::encode(evidence.head);
    let idempotency_key = entries
        .iter()
        .filter(|e| e.kind == "signed")
        .filter_map(|e| serde_json::from_str::<serde_json::Value>(&e.detail).ok())
        .find(|d| d["evidence_head"] == head_hex.as_str())
        .and_then(|d| d["idempotency_key"].as_str().map(str::to_owned))
        .ok_or("the signing is not in the audit log")?;
    let package = server
        .service()
        .evidence_package(&key, &idempotency_key)
        .map_err(err)?;
    let pdf_report = server
        .service()
        .evidence_report_pdf(&key, &idempotency_key)
        .map_err(err)?;
    let json = serde_json::to_vec_pretty(&package).map_err(err)?;
    std::fs::write(dir.join("evidence.json"), json).map_err(err)?;
    std::fs::write(dir.join("evidence-report.pdf"), pdf_report).map_err(err)?;
    println!(
        "9. evidence package of the signing: {} and {} ({} manifest entries, {} audit entries)",
        dir.join("evidence.json").display(),
        dir.join("evidence-report.pdf").display(),
        package
            .evidence
            .as_ref()
            .map_or(0, |e| e.manifest.entries.len()),
        package.audit.len()
    );
    println!(
        "10. audit log: {} hash-chained entries, chain intact",
        entries.len()
    );
    for e in &entries {
        println!("    #{:<3} {:<19} {}", e.seq, e.kind, &e.hash[..16]);
    }
    server.shutdown().await.map_err(err)?;
    println!("done.");
    Ok(())
}
