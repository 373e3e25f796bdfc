//! `inkseal demo`: the whole product flow against a server started in this process, the way a
//! loan officer's tablet runs it, with the demo also playing the bank's backend (an operator
//! API key): an enrollment ticket, enrollment with a device key, identity proofing (ID card +
//! face liveness through file-based hooks), a certificate, a handwritten signature sealed to
//! the bank, a co-signed PAdES signature in the Chinese loan contract bound to fresh liveness
//! evidence of that very document, verification, the evidence package the backend exports,
//! and the anchored audit log.

use clap::Args;
use inkseal_capture::FileHooks;
use inkseal_ink::record::encrypt::{InstitutionSecret, Scheme};
use inkseal_ink::{Pad, Point, QualityRules};
use inkseal_pdf::sign::{Placement, SignOptions};
use inkseal_pdf::verify::{VerifyOptions, verify};
use inkseal_sdk::{
    CaptureHookSet, CaptureRequest, ClientConfig, CosignClient, FileDeviceKeyStore, FileShareStore,
    InkPad, Pin, SdkError,
};
use inkseal_server::ServerConfig;
use inkseal_server::audit::Caller;
use inkseal_server::service::{CredentialSecret, Role};
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

/// The institution's backend, played by the demo: an operator API key over HTTP.
struct Backend {
    http: reqwest::Client,
    base: String,
    api_key: String,
}

impl Backend {
    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> Result<reqwest::Response, String> {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.api_key);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.map_err(err)?;
        if !resp.status().is_success() {
            let status = resp.status();
            return Err(format!(
                "{path}: HTTP {status}: {}",
                resp.text().await.unwrap_or_default()
            ));
        }
        Ok(resp)
    }

    async fn json(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> Result<serde_json::Value, String> {
        self.call(method, path, body)
            .await?
            .json()
            .await
            .map_err(err)
    }
}

pub async fn run(args: DemoArgs) -> Result<(), String> {
    let temp = tempfile::tempdir().map_err(err)?;
    let dir = args.dir.unwrap_or_else(|| temp.path().to_owned());
    std::fs::create_dir_all(&dir).map_err(err)?;
    let mut config = ServerConfig::new(dir.join("server"));
    config.listen = ([127, 0, 0, 1], 0).into();
    config.policy.signing.require_liveness = true;
    // No liveness vendor account here: the deterministic test vendor judges the sample
    // captures. It is insecure (anyone can forge its verdict) and only ever on by a flag.
    config.insecure.test_liveness_vendor = true;
    let server = inkseal_server::start(config).await.map_err(err)?;
    println!(
        "1. co-signing server at {} (data in {}); policy: co-sign only with a passed liveness check \
         younger than 10 minutes that bound the very document signed",
        server.url(),
        dir.join("server").display()
    );
    println!(
        "   INSECURE for the demo only: the deterministic test liveness vendor stands in for a real one"
    );

    let device = dir.join("device");
    let store = Arc::new(FileShareStore::new(&device).map_err(err)?);
    let device_keys = Arc::new(FileDeviceKeyStore::new(&device).map_err(err)?);
    let client =
        CosignClient::new(ClientConfig::new(server.url()), store, device_keys).map_err(err)?;

    // The demo also plays the bank's backend: an operator credential (API key, roles), made
    // the way `inkseal admin credential create` makes one.
    let created = server
        .service()
        .operators()
        .create(
            "demo bank backend",
            &[
                Role::Enroll,
                Role::EvidenceRead,
                Role::AuditRead,
                Role::KeysRead,
            ],
            CredentialSecret::ApiKey,
            &Caller::system(),
        )
        .map_err(err)?;
    let backend = Backend {
        http: reqwest::Client::new(),
        base: server.url(),
        api_key: created.api_key.clone().ok_or("no API key was made")?,
    };
    let user_id = "customer-0042";
    let ticket = backend
        .json(
            reqwest::Method::POST,
            "/v1/admin/tickets",
            Some(serde_json::json!({
                "user_id": user_id,
                "certificate_name": "张三",
                "id_number": inkseal_capture::samples::sample_id_number(),
            })),
        )
        .await?;
    let ticket_text = ticket["ticket"].as_str().ok_or("no ticket")?;
    println!(
        "2. the bank's backend (operator {}, this demo plays it too) checked the customer and \
         issued enrollment ticket {} for user {user_id}, certificate name 张三, ID number bound as \
         a keyed hash (never stored)",
        created.credential.credential_id,
        ticket["ticket_id"].as_str().unwrap_or_default()
    );

    let pin = Pin::new("246810");
    match client.enroll(ticket_text, &Pin::new("123456")).await {
        Err(SdkError::PinRejected(why)) => println!("3. PIN 123456 is refused: {why}"),
        other => return Err(format!("expected a weak-PIN refusal, got {other:?}")),
    }
    let enrollment = client.enroll(ticket_text, &pin).await.map_err(err)?;
    let key = enrollment.key_id.clone();
    println!(
        "   enrolled with the ticket: key {key} (chosen by the server), joint SM2 public key {}",
        hex::encode(enrollment.public_key.to_sec1_bytes())
    );
    println!(
        "   the tablet holds d1 and a P-256 device key that signs every request; the server holds \
         d2 (sealed); neither alone can sign"
    );

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
        "4. identity proofing: ID card {} checked (check digit, dates, the number the bank bound), \
         face liveness judged by the server: {}",
        card.id_number.masked(),
        proofing.receipt.reason
    );
    let (cert, ca) = client
        .request_certificate(&key, &pin, Some(proofing.head))
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
        "5. certificate for {} issued to the joint key after a co-signed CSR (CA: {})",
        enrollment.certificate_name,
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
        "6. handwritten signature: {} points over {} ms; raw record sealed to the bank's SM2 key ({} bytes)",
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
    options.appearance.label = vec![format!("借款人 {}", enrollment.certificate_name)];
    sealed.apply_to(&mut options);
    let prepared = client.prepare_pdf(&key, CONTRACT, &options).map_err(err)?;
    match client
        .sign_prepared_pdf(&pin, &prepared, Some(proofing.head))
        .await
    {
        Err(SdkError::EvidenceRequired(why)) => println!(
            "7. signing the contract with the identity-proofing evidence is refused by the server: {why}"
        ),
        other => return Err(format!("expected a policy refusal, got {other:?}")),
    }
    // The customer reads the contract; the tablet prepared the signature revision, and the
    // liveness capture binds its digest, so the evidence can sign this document and no other.
    let document = prepared.document_digest();
    let evidence = client
        .capture_evidence(
            &key,
            capture_hooks(&dir.join("capture"))?,
            CaptureRequest {
                documents: vec![document],
                ..Default::default()
            },
        )
        .await
        .map_err(err)?;
    let tail = client
        .sign_prepared_pdf(&pin, &prepared, Some(evidence.head))
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
        "8. fresh liveness bound to this contract's digest {} (manifest head {}), then one \
         co-signing round:\n   {} — SM2 PAdES signature valid, chain to the CA, handwriting \
         record bound",
        &hex::encode(document)[..16],
        &hex::encode(evidence.head)[..16],
        signed_path.display()
    );

    match client
        .sign_message(&key, &Pin::new("000000"), b"a wrong PIN", None)
        .await
    {
        Err(SdkError::WrongPin { attempts_left }) => println!(
            "9. a wrong PIN is refused by the server: {attempts_left} attempt(s) left before the key locks"
        ),
        other => return Err(format!("expected a wrong-PIN refusal, got {other:?}")),
    }

    // The backend finds the signing and exports its evidence.
    let head_hex = hex::encode(evidence.head);
    let signings = backend
        .json(
            reqwest::Method::GET,
            &format!("/v1/admin/keys/{key}/signings"),
            None,
        )
        .await?;
    let idempotency_key = signings
        .as_array()
        .and_then(|list| {
            list.iter()
                .find(|s| s["evidence_head"] == head_hex.as_str())
                .and_then(|s| s["idempotency_key"].as_str())
        })
        .ok_or("the backend does not find the signing")?
        .to_owned();
    let evidence_path = format!("/v1/admin/keys/{key}/signings/{idempotency_key}/evidence");
    // The package exactly as time-stamped by the server's TSA, and the token beside it.
    let sealed = backend
        .json(
            reqwest::Method::GET,
            &format!("{evidence_path}.sealed"),
            None,
        )
        .await?;
    let package_text = sealed["package"]
        .as_str()
        .ok_or("the sealed evidence has no package")?;
    let package: serde_json::Value = serde_json::from_str(package_text).map_err(err)?;
    let token = hex::decode(
        sealed["time_stamp_token_der_hex"]
            .as_str()
            .ok_or("the sealed evidence has no time-stamp")?,
    )
    .map_err(err)?;
    let pdf_report = backend
        .call(reqwest::Method::GET, &format!("{evidence_path}.pdf"), None)
        .await?
        .bytes()
        .await
        .map_err(err)?;
    std::fs::write(dir.join("evidence.json"), package_text).map_err(err)?;
    std::fs::write(dir.join("evidence.json.tsr"), &token).map_err(err)?;
    // Every root of the server's CA (SM2, P-256): the time-stamp chains to the P-256 one.
    let roots: String = server
        .service()
        .root_certificates()
        .into_iter()
        .map(|der| inkseal_pki::der_to_pem("CERTIFICATE", der))
        .collect();
    std::fs::write(dir.join("ca-roots.pem"), roots).map_err(err)?;
    std::fs::write(dir.join("evidence-report.pdf"), &pdf_report).map_err(err)?;
    println!(
        "10. the backend exports the evidence of the signing: {} (time-stamped: {}) and {} (document {}…, {} audit entries)",
        dir.join("evidence.json").display(),
        dir.join("evidence.json.tsr").display(),
        dir.join("evidence-report.pdf").display(),
        &package["signing"]["document_digest"]
            .as_str()
            .unwrap_or_default()[..16.min(
            package["signing"]["document_digest"]
                .as_str()
                .unwrap_or_default()
                .len()
        )],
        package["audit"].as_array().map_or(0, Vec::len)
    );

    let service = server.service().clone();
    tokio::task::spawn_blocking(move || service.audit().checkpoint())
        .await
        .map_err(err)?
        .map_err(err)?;
    let verification = backend
        .json(reqwest::Method::GET, "/v1/admin/audit/verify", None)
        .await?;
    let entries = backend
        .json(reqwest::Method::GET, "/v1/admin/audit", None)
        .await?;
    let entries = entries.as_array().ok_or("no audit entries")?;
    println!(
        "11. audit log: {} hash-chained entries anchored by checkpoints the vault's audit key signed; \
         problems: {}",
        entries.len(),
        verification["problems"].as_array().map_or(0, Vec::len)
    );
    if verification["problems"]
        .as_array()
        .is_none_or(|p| !p.is_empty())
    {
        return Err(format!("the audit log does not verify: {verification}"));
    }
    for e in entries {
        println!(
            "    #{:<3} {:<19} {:<38} {}",
            e["seq"],
            e["kind"].as_str().unwrap_or_default(),
            e["actor"].as_str().unwrap_or_default(),
            &e["hash"].as_str().unwrap_or_default()[..16]
        );
    }
    server.shutdown().await.map_err(err)?;
    println!("done.");
    Ok(())
}
