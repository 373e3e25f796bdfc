//! Two-party P-256 (DKLs23 2-of-2): time per party for key generation and signing, and bytes
//! each way. Run with `cargo bench -p inkseal-cosign --features p256-cosign --bench p256_cosign`.
#![allow(clippy::unwrap_used)]

use inkseal_cosign::p256::*;
use std::time::{Duration, Instant};

const KEYGENS: u32 = 10;
const SIGNATURES: u32 = 100;

fn ms(d: Duration, n: u32) -> f64 {
    d.as_secs_f64() * 1e3 / f64::from(n)
}

fn main() {
    let mut rng = getrandom::SysRng;
    let mut sizes = [0usize; 4];
    // Per step: phone start, server respond, phone receive, server finish, phone finish.
    let mut steps = [Duration::ZERO; 5];
    let mut shares = None;
    for _ in 0..KEYGENS {
        let t = Instant::now();
        let (phone, k1) = PhoneKeygen::start(&mut rng).unwrap();
        steps[0] += t.elapsed();
        let t = Instant::now();
        let (server, r1) = ServerKeygen::respond(&k1, &mut rng).unwrap();
        steps[1] += t.elapsed();
        let t = Instant::now();
        let (phone, k2) = phone.receive(&r1).unwrap();
        steps[2] += t.elapsed();
        let t = Instant::now();
        let (server_share, r2) = server.finish(&k2).unwrap();
        steps[3] += t.elapsed();
        let t = Instant::now();
        let phone_share = phone.finish(&r2).unwrap();
        steps[4] += t.elapsed();
        sizes = [
            k1.as_bytes().len(),
            r1.as_bytes().len(),
            k2.as_bytes().len(),
            r2.as_bytes().len(),
        ];
        shares = Some((phone_share, server_share));
    }
    let (phone_share, server_share) = shares.unwrap();
    let phone_time = steps[0] + steps[2] + steps[4];
    let server_time = steps[1] + steps[3];
    println!("keygen, {KEYGENS} runs");
    println!("  phone  {:>8.2} ms per key", ms(phone_time, KEYGENS));
    println!("  server {:>8.2} ms per key", ms(server_time, KEYGENS));
    println!(
        "  steps: phone start {:.2} ms, server respond {:.2} ms, phone receive {:.2} ms, \
         server finish {:.2} ms, phone finish {:.2} ms",
        ms(steps[0], KEYGENS),
        ms(steps[1], KEYGENS),
        ms(steps[2], KEYGENS),
        ms(steps[3], KEYGENS),
        ms(steps[4], KEYGENS)
    );
    println!(
        "  bytes: trip 1 {} up / {} down, trip 2 {} up / {} down; share {} B",
        sizes[0],
        sizes[1],
        sizes[2],
        sizes[3],
        phone_share.to_bytes().unwrap().len()
    );

    let (mut phone_time, mut server_time) = (Duration::ZERO, Duration::ZERO);
    let (mut up, mut down, mut state) = (0usize, 0usize, 0usize);
    for i in 0..SIGNATURES {
        let message = format!("benchmark document {i}");
        let t = Instant::now();
        let (phone, m1) = PhoneSign::start(&phone_share, message.as_bytes(), &mut rng).unwrap();
        phone_time += t.elapsed();
        let t = Instant::now();
        let (pending, r1) =
            ServerSignPending::respond(&server_share, message.as_bytes(), &m1).unwrap();
        let stored = pending.into_bytes().unwrap();
        server_time += t.elapsed();
        let t = Instant::now();
        let (phone, m2) = phone.receive(&r1).unwrap();
        phone_time += t.elapsed();
        let t = Instant::now();
        let pending = ServerSignPending::from_bytes(&stored).unwrap();
        let (_signature, r2) = pending.finish(&server_share, &m2).unwrap();
        server_time += t.elapsed();
        let t = Instant::now();
        phone.finish(&r2).unwrap();
        phone_time += t.elapsed();
        up = m1.as_bytes().len() + m2.as_bytes().len();
        down = r1.as_bytes().len() + r2.as_bytes().len();
        state = stored.len();
    }
    println!("signing, {SIGNATURES} signatures");
    println!(
        "  phone  {:>8.2} ms per signature",
        ms(phone_time, SIGNATURES)
    );
    println!(
        "  server {:>8.2} ms per signature (incl. state encode/decode)",
        ms(server_time, SIGNATURES)
    );
    println!(
        "  bytes per signature: {up} phone->server, {down} server->phone; server state {state} B"
    );
}
