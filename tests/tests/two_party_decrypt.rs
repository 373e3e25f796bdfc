//! Two-party SM2 decryption (issue 17) through a real server on loopback: an encryption key
//! opens what the sm2 crate encrypted to it, PIN-authorised and audited; key purposes keep
//! signing and decryption apart; and a lying server (a transport that rewrites the server's
//! answers) never makes the phone release plaintext.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::sync::{Arc, Mutex};

use inkseal_cosign::api::{KeyPurpose, Pin};
use inkseal_cosign::sm2::pke::EncryptingKey;
use inkseal_sdk::decrypt::envelope_ref;
use inkseal_sdk::{
    ClientConfig, CosignClient, FileDeviceKeyStore, FileShareStore, HttpRequest, HttpResponse,
    SdkError, Transport, TransportError,
};
use inkseal_server::audit::verify_chain;
use inkseal_tests::{Backend, Loopback, client_for, start_server};

fn pin() -> Pin {
    Pin::new("802461")
}

const CEK: &[u8] = b"\x01\x23\x45\x67\x89\xab\xcd\xef\xfe\xdc\xba\x98\x76\x54\x32\x10";

fn encrypt_to(public_key: &inkseal_cosign::sm2::PublicKey, message: &[u8]) -> Vec<u8> {
    EncryptingKey::new(*public_key)
        .encrypt_der(&mut getrandom::SysRng, message)
        .expect("sm2 encrypt")
}

fn key_usage(cert: &[u8]) -> x509_cert::ext::pkix::KeyUsage {
    use der::Decode;
    let cert = x509_cert::Certificate::from_der(cert).expect("certificate");
    let (_, usage) = cert
        .tbs_certificate()
        .get_extension::<x509_cert::ext::pkix::KeyUsage>()
        .expect("extensions")
        .expect("keyUsage");
    usage
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_encryption_key_opens_sm2_ciphertexts_with_the_server() {
    let Loopback {
        dir: _dir,
        server,
        client,
        backend,
    } = Loopback::start().await;
    let ticket = backend.encryption_ticket("carol").await;
    let enc = client
        .enroll_for(&ticket, &pin(), KeyPurpose::Encryption)
        .await
        .expect("enroll an encryption key");

    // Its certificate (co-signing its own CSR is the one signature it may make) is for key
    // transport only.
    let (cert, _) = client
        .request_certificate(&enc.key_id, &pin(), None)
        .await
        .expect("encryption certificate");
    let usage = key_usage(&cert);
    assert!(usage.key_encipherment());
    assert!(!usage.digital_signature() && !usage.non_repudiation());
    let status = client.status(&enc.key_id).await.expect("status");
    assert_eq!(status.purpose, KeyPurpose::Encryption);
    // Once certified, not even another CSR is co-signed.
    assert!(matches!(
        client.request_certificate(&enc.key_id, &pin(), None).await,
        Err(SdkError::Refused(m)) if m.contains("encryption key")
    ));

    // Open what the sm2 crate encrypted to the joint key.
    let envelope = b"an EnvelopedData would be here";
    let reference = envelope_ref(envelope);
    for message in [CEK, &[0x5a; 32][..], b"x"] {
        let der = encrypt_to(&enc.public_key, message);
        let plain = client
            .decrypt_sm2(&enc.key_id, &pin(), &der, &reference)
            .await
            .expect("two-party decryption");
        assert_eq!(&plain[..], message);
    }

    // A ciphertext for another key fails C3: nothing is released.
    let other = inkseal_cosign::sm2::SecretKey::from_slice(&[7; 32]).expect("key");
    let der = encrypt_to(&other.public_key(), CEK);
    assert!(matches!(
        client.decrypt_sm2(&enc.key_id, &pin(), &der, &reference).await,
        Err(SdkError::InvalidInput(m)) if m.contains("C3")
    ));

    // A wrong PIN is refused and counted, like a signature's.
    let der = encrypt_to(&enc.public_key, CEK);
    assert_eq!(
        client
            .decrypt_sm2(&enc.key_id, &Pin::new("999999"), &der, &reference)
            .await
            .err(),
        Some(SdkError::WrongPin { attempts_left: 4 })
    );
    assert_eq!(
        client
            .status(&enc.key_id)
            .await
            .expect("status")
            .pin_failures,
        1
    );

    // The encryption key co-signs nothing else.
    assert!(matches!(
        client.sign_message(&enc.key_id, &pin(), b"a contract", None).await,
        Err(SdkError::Refused(m)) if m.contains("encryption key")
    ));

    // A signing key does not decrypt.
    let signer = inkseal_tests::enroll(&backend, &client, "carol-signing", &pin()).await;
    let der = encrypt_to(&signer.public_key, CEK);
    assert!(matches!(
        client.decrypt_sm2(&signer.key_id, &pin(), &der, &reference).await,
        Err(SdkError::Refused(m)) if m.contains("signing key does not decrypt")
    ));
    client
        .sign_message(&signer.key_id, &pin(), b"still signs", None)
        .await
        .expect("the signing key signs");

    // Audited: each decryption with its envelope, caller and address; each refusal.
    let entries = server
        .service()
        .store()
        .audit_entries("main", 1, 10_000)
        .expect("audit");
    verify_chain(&entries).expect("audit chain intact");
    let decrypted: Vec<_> = entries.iter().filter(|e| e.kind == "decrypted").collect();
    // Three openings and the C3 failure (the server cannot tell: it answered).
    assert_eq!(decrypted.len(), 4, "{decrypted:#?}");
    for e in &decrypted {
        assert_eq!(e.key_id.as_deref(), Some(enc.key_id.as_str()));
        assert!(e.actor.starts_with("device:"));
        assert_eq!(e.client, "127.0.0.1");
        assert!(e.detail.contains(&hex::encode(reference)), "{}", e.detail);
    }
    let refusals: Vec<_> = entries
        .iter()
        .filter(|e| e.kind == "refused" && e.detail.contains("wrong key purpose"))
        .collect();
    assert_eq!(refusals.len(), 3, "{refusals:#?}");
    assert!(
        entries
            .iter()
            .any(|e| e.kind == "pin_failure" && e.key_id.as_deref() == Some(&enc.key_id))
    );
    server.shutdown().await.expect("shutdown");
}

/// How the lying server rewrites an answer to `/decrypt`, given the request's body.
type Lie = Box<dyn Fn(&serde_json::Value, &mut serde_json::Value) + Send + Sync>;

/// A plain HTTP/1.1 transport (one request per connection) that lets `lie` rewrite the answers
/// to decryption requests: the server as a phone that cannot trust it would see it.
struct LyingServer {
    lie: Mutex<Option<Lie>>,
    /// The last honest answer to `/decrypt` (for replays).
    last_answer: Mutex<Option<serde_json::Value>>,
}

impl LyingServer {
    fn new() -> Arc<Self> {
        Arc::new(LyingServer {
            lie: Mutex::new(None),
            last_answer: Mutex::new(None),
        })
    }

    fn lie(&self, lie: Option<Lie>) {
        *self.lie.lock().expect("lie") = lie;
    }
}

impl Transport for LyingServer {
    fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        let rest = request.url.strip_prefix("http://").expect("http URL");
        let (host, path) = rest.split_at(rest.find('/').expect("path"));
        let io = |e: std::io::Error| TransportError::Unreachable(e.to_string());
        let mut stream = TcpStream::connect(host).map_err(io)?;
        stream.set_read_timeout(Some(request.timeout)).map_err(io)?;
        let body = request.body.clone().unwrap_or_default();
        let mut head = format!("{} {path} HTTP/1.1\r\nHost: {host}\r\n", request.method);
        for (name, value) in &request.headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str(&format!(
            "Content-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        ));
        stream.write_all(head.as_bytes()).map_err(io)?;
        stream.write_all(&body).map_err(io)?;
        let mut reader = BufReader::new(stream);
        let mut status_line = String::new();
        reader.read_line(&mut status_line).map_err(io)?;
        let status: u16 = status_line
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| TransportError::Failed(format!("bad status line {status_line:?}")))?;
        let mut length = 0usize;
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).map_err(io)?;
            if line.trim().is_empty() {
                break;
            }
            if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                length = v.trim().parse().unwrap_or(0);
            }
        }
        let mut answer = vec![0; length];
        reader.read_exact(&mut answer).map_err(io)?;
        if status == 200 && path.ends_with("/decrypt") {
            let sent: serde_json::Value = serde_json::from_slice(&body).expect("request JSON");
            let mut value: serde_json::Value =
                serde_json::from_slice(&answer).expect("answer JSON");
            let honest = value.clone();
            if let Some(lie) = self.lie.lock().expect("lie").as_ref() {
                lie(&sent, &mut value);
            }
            *self.last_answer.lock().expect("last") = Some(honest);
            answer = serde_json::to_vec(&value).expect("JSON");
        }
        Ok(HttpResponse {
            status,
            body: answer,
        })
    }
}

/// SEC1 uncompressed `k G`, hex.
fn point_hex(k: u8) -> String {
    let secret = inkseal_cosign::sm2::SecretKey::from_slice(&[k; 32]).expect("scalar");
    hex::encode(secret.public_key().to_sec1_bytes())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lying_server_never_makes_the_phone_release_plaintext() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start_server(&dir.path().join("server")).await;
    let transport = LyingServer::new();
    let device = dir.path().join("device");
    let store = Arc::new(FileShareStore::new(&device).expect("store"));
    let keys = Arc::new(FileDeviceKeyStore::new(&device).expect("device keys"));
    let client = CosignClient::new(ClientConfig::new(server.url()), store, keys)
        .expect("client")
        .with_transport(transport.clone());
    let backend = Backend::new(&server);
    let ticket = backend.encryption_ticket("dave").await;
    let enc = client
        .enroll_for(&ticket, &pin(), KeyPurpose::Encryption)
        .await
        .expect("enroll");
    let der = encrypt_to(&enc.public_key, CEK);
    let reference = envelope_ref(b"envelope");

    // Honest first (and keep its answer for the replay).
    let plain = client
        .decrypt_sm2(&enc.key_id, &pin(), &der, &reference)
        .await
        .expect("honest server");
    assert_eq!(&plain[..], CEK);
    let replayed = transport
        .last_answer
        .lock()
        .expect("last")
        .clone()
        .expect("an answer");

    let lies: Vec<(&str, Lie)> = vec![
        (
            "a random T2",
            Box::new(|_, a| a["decrypt"]["t2"] = point_hex(42).into()),
        ),
        (
            "T2 = T1 (the server skipped its share)",
            Box::new(|req, a| a["decrypt"]["t2"] = req["decrypt"]["t1"].clone()),
        ),
        (
            "the identity as T2",
            Box::new(|_, a| a["decrypt"]["t2"] = "00".repeat(65).into()),
        ),
        (
            "a tampered proof",
            Box::new(|_, a| {
                let z = a["decrypt"]["proof"]["z"].as_str().expect("z").to_owned();
                let flipped = if z.ends_with('0') { "1" } else { "0" };
                a["decrypt"]["proof"]["z"] = format!("{}{flipped}", &z[..63]).into();
            }),
        ),
        (
            "an earlier round's answer, replayed as it was",
            Box::new(move |_, a| *a = replayed.clone()),
        ),
        (
            "an earlier round's answer relabelled to this round (a correct proof over another T1)",
            Box::new({
                let replayed = transport
                    .last_answer
                    .lock()
                    .expect("last")
                    .clone()
                    .expect("an answer");
                move |req, a| {
                    *a = replayed.clone();
                    a["decrypt"]["request_id"] = req["idempotency_key"].clone();
                }
            }),
        ),
    ];
    for (what, lie) in lies {
        transport.lie(Some(lie));
        match client
            .decrypt_sm2(&enc.key_id, &pin(), &der, &reference)
            .await
        {
            Err(SdkError::ServerMisbehaved(_)) => {}
            Err(other) => panic!("{what}: expected ServerMisbehaved, got {other:?}"),
            Ok(_) => panic!("{what}: the phone released plaintext"),
        }
    }

    // Honest again: it opens.
    transport.lie(None);
    let plain = client
        .decrypt_sm2(&enc.key_id, &pin(), &der, &reference)
        .await
        .expect("honest server");
    assert_eq!(&plain[..], CEK);
    server.shutdown().await.expect("shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retried_round_gets_the_first_answer_and_a_reused_key_is_a_conflict() {
    use inkseal_cosign::api::{DecryptApiRequest, DecryptApiResponse};
    use inkseal_cosign::{DecryptSession, Sm2Ciphertext};
    use inkseal_tests::{RawDevice, http_client, raw};

    let dir = tempfile::tempdir().expect("tempdir");
    let server = start_server(&dir.path().join("server")).await;
    let device_dir = dir.path().join("device");
    let client = client_for(&server, &device_dir);
    let backend = Backend::new(&server);
    let ticket = backend.encryption_ticket("erin").await;
    let enc = client
        .enroll_for(&ticket, &pin(), KeyPurpose::Encryption)
        .await
        .expect("enroll");
    let device = RawDevice::new(&device_dir);
    let share = device.share(&enc.key_id);
    let der = encrypt_to(&enc.public_key, CEK);
    let ciphertext = Sm2Ciphertext::from_der(&der).expect("ciphertext");
    let path = format!("/v1/keys/{}/decrypt", enc.key_id);
    let url = format!("{}{path}", server.url());
    let http = http_client();
    let post = |body: Vec<u8>| {
        let headers = device.signed(&enc.key_id, "POST", &path, &body);
        let (http, url) = (http.clone(), url.clone());
        async move { raw(&http, "POST", &url, &headers, body).await }
    };

    let (session, decrypt) =
        DecryptSession::start_with_os_rng(&share, "round-0001", &ciphertext).expect("start");
    let request = DecryptApiRequest {
        idempotency_key: "round-0001".into(),
        pin: pin(),
        envelope_ref: hex::encode(envelope_ref(b"e")),
        decrypt: decrypt.clone(),
    };
    let body = serde_json::to_vec(&request).expect("json");
    let (status, first) = post(body.clone()).await;
    assert_eq!(status, 200, "{first}");
    let (status, again) = post(body).await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(first, again, "a retry gets the stored answer");
    let answer: DecryptApiResponse = serde_json::from_value(first).expect("answer");
    assert_eq!(&session.finish(&answer.decrypt).expect("opens")[..], CEK);

    // The same idempotency key for another round: a conflict, nothing applied.
    let (_, other) =
        DecryptSession::start_with_os_rng(&share, "round-0001", &ciphertext).expect("start");
    let reused = DecryptApiRequest {
        decrypt: other,
        ..request.clone()
    };
    let (status, json) = post(serde_json::to_vec(&reused).expect("json")).await;
    assert_eq!(
        (status, json["code"].as_str()),
        (409, Some("conflict")),
        "{json}"
    );

    // The request id must be the idempotency key; T1 must be a curve point.
    let mismatched = DecryptApiRequest {
        idempotency_key: "round-0002".into(),
        ..request.clone()
    };
    let (status, json) = post(serde_json::to_vec(&mismatched).expect("json")).await;
    assert_eq!(
        (status, json["code"].as_str()),
        (400, Some("bad_request")),
        "{json}"
    );
    let mut off_curve = request.clone();
    off_curve.idempotency_key = "round-0003".into();
    off_curve.decrypt.request_id = "round-0003".into();
    off_curve.decrypt.t1.0[64] ^= 1;
    let (status, json) = post(serde_json::to_vec(&off_curve).expect("json")).await;
    assert_eq!(
        (status, json["code"].as_str()),
        (400, Some("bad_request")),
        "{json}"
    );

    // One `decrypted` entry for the round answered (twice).
    let entries = server
        .service()
        .store()
        .audit_entries("main", 1, 10_000)
        .expect("audit");
    assert_eq!(entries.iter().filter(|e| e.kind == "decrypted").count(), 1);
    server.shutdown().await.expect("shutdown");
}

/// An encryption key answers at most `max_decryptions_per_key` decryptions in its life: the
/// one past the cap is refused (policy_refused, audited) and its answer never sent; an answer
/// already given is still replayed to its retry.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_encryption_key_answers_at_most_its_lifetime_cap() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut config = inkseal_tests::loopback_config(&dir.path().join("server"));
    config.policy.max_decryptions_per_key = 2;
    let server = inkseal_server::start(config).await.expect("start");
    let client = client_for(&server, &dir.path().join("device"));
    let backend = Backend::new(&server);
    let ticket = backend.encryption_ticket("frank").await;
    let enc = client
        .enroll_for(&ticket, &pin(), KeyPurpose::Encryption)
        .await
        .expect("enroll");
    let reference = envelope_ref(b"envelope");
    for _ in 0..2 {
        let der = encrypt_to(&enc.public_key, CEK);
        let plain = client
            .decrypt_sm2(&enc.key_id, &pin(), &der, &reference)
            .await
            .expect("under the cap");
        assert_eq!(&plain[..], CEK);
    }
    let der = encrypt_to(&enc.public_key, CEK);
    match client
        .decrypt_sm2(&enc.key_id, &pin(), &der, &reference)
        .await
    {
        Err(SdkError::Refused(m)) => assert!(m.contains("2 decryptions"), "{m}"),
        other => panic!("expected the cap's refusal, got {other:?}"),
    }
    let entries = server
        .service()
        .audit()
        .entries(Some("main"), 0, 1000)
        .expect("audit");
    assert_eq!(
        entries.iter().filter(|e| e.kind == "decrypted").count(),
        2,
        "the third answer was not recorded"
    );
    assert!(
        entries
            .iter()
            .any(|e| e.kind == "refused" && e.detail.contains("decryption cap")),
        "the refusal is audited"
    );
    // The PIN was right: the refusal is not a PIN failure.
    assert_eq!(
        client
            .status(&enc.key_id)
            .await
            .expect("status")
            .pin_failures,
        0
    );
    server.shutdown().await.expect("shutdown");
}

/// The institution decides a key's purpose when it issues the ticket: an enrollment asking
/// for the other purpose is refused (audited), and the ticket stays usable for the right one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ticket_decides_the_key_purpose() {
    let Loopback {
        dir: _dir,
        server,
        client,
        backend,
    } = Loopback::start().await;

    let signing = backend.ticket("grace").await;
    match client
        .enroll_for(&signing, &pin(), KeyPurpose::Encryption)
        .await
    {
        Err(SdkError::Refused(m)) => {
            assert!(
                m.contains("enrolls a signing key, not an encryption key"),
                "{m}"
            )
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    let key = client.enroll(&signing, &pin()).await.expect("signing key");
    assert_eq!(
        client.status(&key.key_id).await.expect("status").purpose,
        KeyPurpose::Signing
    );

    let encryption = backend.encryption_ticket("grace").await;
    match client.enroll(&encryption, &pin()).await {
        Err(SdkError::Refused(m)) => {
            assert!(
                m.contains("enrolls an encryption key, not a signing key"),
                "{m}"
            )
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    let enc = client
        .enroll_for(&encryption, &pin(), KeyPurpose::Encryption)
        .await
        .expect("encryption key");
    assert_eq!(
        client.status(&enc.key_id).await.expect("status").purpose,
        KeyPurpose::Encryption
    );
    let refusals = backend
        .audit()
        .await
        .into_iter()
        .filter(|e| e["kind"] == "refused" && e["detail"].to_string().contains("wrong key purpose"))
        .count();
    assert_eq!(refusals, 2, "both refusals are audited");
    server.shutdown().await.expect("shutdown");
}
