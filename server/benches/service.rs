//! Server-side cost of one co-signing step without HTTP (PIN check, vault, maths, SQLite with
//! `synchronous=FULL`, audit) and of checking one device request signature (parse, ECDSA
//! P-256 verification, nonce insert). Run with `cargo bench -p inkseal-server --bench service`.

use inkseal_cosign::ClientKeygen;
use inkseal_cosign::api::{
    CosignRequest, DeviceKeyRegistration, EnrollRequest, EnrollmentTicket, MessageKind, Pin,
    SignedMessage,
};
use inkseal_server::audit::Caller;
use inkseal_server::service::{DeviceRequest, TicketOrder};
use inkseal_server::{ServerConfig, build_service};
use p256::pkcs8::EncodePublicKey;
use std::time::{Duration, Instant};

fn per_second(label: &str, n: u64, elapsed: Duration) {
    let per = elapsed / n.max(1) as u32;
    println!(
        "{label}: {:.1} µs, {:.0}/s on one thread",
        per.as_secs_f64() * 1e6,
        1.0 / per.as_secs_f64()
    );
}

fn main() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut config = ServerConfig::new(dir.path());
    config.insecure.no_fsync = std::env::var_os("INKSEAL_BENCH_NO_FSYNC").is_some();
    let (service, _) = build_service(&config).expect("service");
    let system = Caller::system();
    let ticket = service
        .enrollment()
        .issue_ticket(
            &TicketOrder {
                user_id: "bench".into(),
                certificate_name: None,
                id_number: None,
                ttl_secs: None,
                purpose: Default::default(),
            },
            &system,
        )
        .expect("ticket");
    let ticket = EnrollmentTicket::parse(&ticket.ticket).expect("parse");
    let device = p256::ecdsa::SigningKey::from_slice(&[7; 32]).expect("device key");
    let spki = device
        .verifying_key()
        .to_public_key_der()
        .expect("spki")
        .as_bytes()
        .to_vec();
    let (keygen, request) = ClientKeygen::start(ticket.id()).expect("start");
    let pin = Pin::new("135790");
    let enrolled = service
        .enrollment()
        .enroll(
            &EnrollRequest {
                ticket,
                pin: pin.clone(),
                device_key: DeviceKeyRegistration {
                    public_key_spki_hex: hex::encode(&spki),
                    attestation: None,
                },
                keygen: request,
                purpose: Default::default(),
            },
            &system,
        )
        .expect("enroll");
    let share = keygen.finish(&enrolled.keygen).expect("finish");
    let client = inkseal_cosign::ClientKeyShare::from_parts(
        &enrolled.key_id,
        &share.secret_bytes(),
        &share.public_key().to_sec1_bytes(),
    )
    .expect("share");
    let key_id = enrolled.key_id.clone();
    let message = SignedMessage::new(MessageKind::Raw, b"bench".to_vec()).expect("message");
    let (_, sign) = client
        .start_sign(&client.digest(message.bytes()))
        .expect("start");
    let key = service.store().get_key(&key_id).expect("get").expect("key");

    let mut n = 0u64;
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(2) {
        let req = CosignRequest {
            idempotency_key: format!("bench-{n:012}"),
            pin: pin.clone(),
            evidence_head: None,
            message: message.clone(),
            sign: sign.clone(),
        };
        service.signing().sign(&key, &req, &system).expect("sign");
        n += 1;
    }
    per_second("server co-signing step (no HTTP)", n, start.elapsed());

    let path = format!("/v1/keys/{key_id}");
    let mut n = 0u64;
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(2) {
        let created = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("clock")
            .as_secs();
        let nonce = format!("bench-nonce-{n:016}");
        let params =
            inkseal_httpsig::SignatureParams::new(&key_id, created, &nonce).expect("params");
        let target = inkseal_httpsig::RequestTarget::new("GET", &path, b"").expect("target");
        let headers = inkseal_httpsig::sign_request(&target, &params, &device).expect("sign");
        service
            .device_auth()
            .authenticate(
                &key_id,
                &DeviceRequest {
                    method: "GET",
                    path: &path,
                    body: b"",
                    content_digest: Some(&headers.content_digest),
                    signature_input: Some(&headers.signature_input),
                    signature: Some(&headers.signature),
                    address: None,
                },
            )
            .expect("authenticated");
        n += 1;
    }
    per_second(
        "device request signature: phone signs + server verifies and records the nonce",
        n,
        start.elapsed(),
    );
}
