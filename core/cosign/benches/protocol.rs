//! Per-step cost of the two-party protocol (run with `cargo bench -p inkseal-cosign`).

use inkseal_cosign::{ClientKeygen, ServerKeyShare};
use std::hint::black_box;
use std::time::{Duration, Instant};

fn time<T>(name: &str, mut f: impl FnMut() -> T) {
    for _ in 0..50 {
        black_box(f());
    }
    let start = Instant::now();
    let mut n = 0u32;
    while start.elapsed() < Duration::from_millis(700) {
        black_box(f());
        n += 1;
    }
    let per = start.elapsed() / n;
    println!("{name:<32} {:>8.1} µs", per.as_secs_f64() * 1e6);
}

fn main() {
    let (keygen, request) = ClientKeygen::start("bench").expect("start");
    let (server, response) = ServerKeyShare::keygen(&request).expect("keygen");
    let client = keygen.finish(&response).expect("finish");
    let e = client.digest(b"benchmark message");
    time("keygen (both sides)", || {
        let (k, r) = ClientKeygen::start("bench").expect("start");
        let (_, resp) = ServerKeyShare::keygen(&r).expect("keygen");
        k.finish(&resp).expect("finish")
    });
    time("phone: start_sign", || {
        client.start_sign(&e).expect("start")
    });
    let (_, req) = client.start_sign(&e).expect("start");
    time("server: cosign", || server.cosign(&req).expect("cosign"));
    time("server: restore share", || {
        ServerKeyShare::from_parts(&server.secret_bytes(), &response.public_key.0).expect("parts")
    });
    let resp = server.cosign(&req).expect("cosign");
    time("phone: finish (incl. verify)", || {
        let (session, req) = client.start_sign(&e).expect("start");
        let resp = server.cosign(&req).expect("cosign");
        session.finish(&resp).expect("finish")
    });
    black_box(resp);
    let sig = {
        let (session, req) = client.start_sign(&e).expect("start");
        session
            .finish(&server.cosign(&req).expect("cosign"))
            .expect("finish")
    };
    {
        use inkseal_cosign::sm2::elliptic_curve::group::Group;
        use inkseal_cosign::sm2::elliptic_curve::ops::LinearCombination;
        use inkseal_cosign::sm2::{ProjectivePoint, Scalar};
        let k = Scalar::from(123456789u64).invert().expect("inv");
        let p = client.public_key().to_projective();
        time("prim: k*G (table)", || {
            ProjectivePoint::mul_by_generator(&k)
        });
        time("prim: k*P (variable)", || p * k);
        time("prim: lincomb(G,P)", || {
            ProjectivePoint::lincomb(&[(ProjectivePoint::generator(), k), (p, k)])
        });
        time("prim: to_affine", || (p * k).to_affine());
        time("prim: scalar invert", || k.invert());
        time("prim: decompress point", || {
            inkseal_cosign::HexPoint(response.public_key.0.clone()).point("p")
        });
    }
    time("verify only", || {
        inkseal_cosign::verify_digest(client.public_key(), &e, &sig).expect("ok")
    });
}

#[allow(dead_code)]
fn primitives() {}
