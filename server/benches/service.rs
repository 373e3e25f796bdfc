//! Server-side cost of one co-signing step without HTTP: PIN check, vault, maths, SQLite, audit.
//! Run with `cargo bench -p inkseal-server --bench service`.

use inkseal_cosign::ClientKeygen;
use inkseal_cosign::api::{CosignRequest, EnrollRequest, Pin};
use inkseal_server::{ServerConfig, build_service};
use std::time::{Duration, Instant};

fn main() {
    let dir = tempfile::tempdir().expect("tempdir");
    let service = build_service(&ServerConfig::new(dir.path())).expect("service");
    let (keygen, request) = ClientKeygen::start("bench-key").expect("start");
    let pin = Pin::new("123456");
    let enrolled = service
        .enroll(&EnrollRequest {
            user_id: "bench".into(),
            pin: pin.clone(),
            keygen: request,
        })
        .expect("enroll");
    let client = keygen.finish(&enrolled.keygen).expect("finish");
    let e = client.digest(b"bench");
    let (_, sign) = client.start_sign(&e).expect("start");
    let mut n = 0u64;
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(2) {
        let req = CosignRequest {
            idempotency_key: format!("bench-{n:012}"),
            pin: pin.clone(),
            evidence_head: None,
            sign: sign.clone(),
        };
        service.sign("bench-key", &req).expect("sign");
        n += 1;
    }
    let per = start.elapsed() / n as u32;
    println!(
        "server co-signing step (no HTTP): {:.1} µs, {:.0}/s on one thread",
        per.as_secs_f64() * 1e6,
        1.0 / per.as_secs_f64()
    );
}
