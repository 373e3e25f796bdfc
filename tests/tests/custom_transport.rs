//! An app's own HTTP stack in place of reqwest: the SDK sends every request through it,
//! retries what it reports as unreachable, and stops at what it reports as failed.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use inkseal_cosign::api::Pin;
use inkseal_sdk::{
    ClientConfig, CosignClient, FileDeviceKeyStore, FileShareStore, HttpRequest, HttpResponse,
    SdkError, Transport, TransportError,
};
use inkseal_tests::{Backend, start_server};

/// A minimal blocking HTTP/1.1 client on std's TcpStream (one request per connection), like an
/// app's own stack would be; `fail_first` requests are reported unreachable first.
struct PlainHttp {
    sent: AtomicUsize,
    /// The method and path of every request, in order.
    log: std::sync::Mutex<Vec<String>>,
    fail_first: usize,
    broken: bool,
    /// Drop the device-signature headers (a badly written transport).
    drop_signature: bool,
}

impl PlainHttp {
    fn new(fail_first: usize, broken: bool) -> Arc<Self> {
        Arc::new(PlainHttp {
            sent: AtomicUsize::new(0),
            log: Default::default(),
            fail_first,
            broken,
            drop_signature: false,
        })
    }
}

impl Transport for PlainHttp {
    fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        let n = self.sent.fetch_add(1, Ordering::SeqCst);
        if self.broken {
            return Err(TransportError::Failed("proxy refused the request".into()));
        }
        if n < self.fail_first {
            return Err(TransportError::Unreachable("no route (simulated)".into()));
        }
        let rest = request.url.strip_prefix("http://").expect("http URL");
        let (host, path) = rest.split_at(rest.find('/').expect("path"));
        self.log
            .lock()
            .expect("log")
            .push(format!("{} {path}", request.method));
        let io = |e: std::io::Error| TransportError::Unreachable(e.to_string());
        let mut stream = TcpStream::connect(host).map_err(io)?;
        stream.set_read_timeout(Some(request.timeout)).map_err(io)?;
        let body = request.body.unwrap_or_default();
        let mut head = format!("{} {path} HTTP/1.1\r\nHost: {host}\r\n", request.method);
        for (name, value) in &request.headers {
            if self.drop_signature && name.starts_with("signature") {
                continue;
            }
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
        let mut body = vec![0; length];
        reader.read_exact(&mut body).map_err(io)?;
        Ok(HttpResponse { status, body })
    }
}

fn client(url: &str, dir: &std::path::Path, transport: Arc<PlainHttp>) -> CosignClient {
    let store = Arc::new(FileShareStore::new(dir).expect("store"));
    let keys = Arc::new(FileDeviceKeyStore::new(dir).expect("device keys"));
    let mut config = ClientConfig::new(url);
    config.retries = 2;
    CosignClient::new(config, store, keys)
        .expect("client")
        .with_transport(transport)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_request_goes_through_the_apps_transport() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start_server(&dir.path().join("server")).await;
    let http = PlainHttp::new(0, false);
    let c = client(&server.url(), &dir.path().join("device"), http.clone());
    let pin = Pin::new("314159");
    let backend = Backend::new(&server);
    let key = inkseal_tests::enroll(&backend, &c, "transport-user", &pin)
        .await
        .key_id;
    c.request_certificate(&key, &pin, None)
        .await
        .expect("certificate");
    let sig = c
        .sign_message(&key, &pin, b"contract", None)
        .await
        .expect("sign");
    assert_eq!(sig.r_bytes().len(), 32);
    // Typed errors come through the app's stack too.
    assert!(matches!(
        c.sign_message(&key, &Pin::new("000000"), b"x", None).await,
        Err(SdkError::WrongPin { attempts_left: 4 })
    ));
    // enroll, CSR co-signature, certificate, signature, wrong PIN.
    assert_eq!(http.sent.load(Ordering::SeqCst), 5);

    // A transport that drops the signature headers gets nowhere, and costs no PIN attempt.
    let careless = Arc::new(PlainHttp {
        sent: AtomicUsize::new(0),
        log: Default::default(),
        fail_first: 0,
        broken: false,
        drop_signature: true,
    });
    let c2 = client(&server.url(), &dir.path().join("device"), careless);
    assert!(matches!(
        c2.sign_message(&key, &Pin::new("000000"), b"x", None).await,
        Err(SdkError::Unauthenticated(_))
    ));
    assert_eq!(c.status(&key).await.expect("status").pin_failures, 1);
    server.shutdown().await.expect("shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_is_retried_and_failed_is_not() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start_server(&dir.path().join("server")).await;
    let flaky = PlainHttp::new(2, false);
    let c = client(&server.url(), &dir.path().join("device"), flaky.clone());
    let backend = Backend::new(&server);
    c.enroll(&backend.ticket("flaky-user").await, &Pin::new("314159"))
        .await
        .expect("succeeds on the third try");
    assert_eq!(flaky.sent.load(Ordering::SeqCst), 3);

    let broken = PlainHttp::new(0, true);
    let c = client(&server.url(), &dir.path().join("device2"), broken.clone());
    let err = c
        .enroll(&backend.ticket("broken-user").await, &Pin::new("314159"))
        .await
        .expect_err("the proxy refuses");
    assert!(
        matches!(&err, SdkError::Network(m) if m.contains("proxy refused")),
        "{err}"
    );
    assert_eq!(broken.sent.load(Ordering::SeqCst), 1, "not retried");
    server.shutdown().await.expect("shutdown");
}

/// A co-signed PAdES B-LTA costs the co-signature and two more round trips: the signature
/// time-stamp with every OCSP response, then the document time-stamp.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cosigned_b_lta_takes_two_round_trips_after_the_co_signature() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start_server(&dir.path().join("server")).await;
    let http = PlainHttp::new(0, false);
    let c = client(&server.url(), &dir.path().join("device"), http.clone());
    let pin = Pin::new("314159");
    let backend = Backend::new(&server);
    let key = inkseal_tests::enroll(&backend, &c, "lta-user", &pin)
        .await
        .key_id;
    let (_, ca) = c
        .request_certificate(&key, &pin, None)
        .await
        .expect("certificate");
    let input = std::fs::read(inkseal_tests::fixture("e-policy-zh.pdf")).expect("fixture");
    let mut options = inkseal_pdf::sign::SignOptions::new(inkseal_tests::now_unix());
    options.time_stamped = true;
    let prepared = c.prepare_pdf(&key, &input, &options).expect("prepare");
    http.log.lock().expect("log").clear();
    let tail = c
        .sign_prepared_pdf_long_term(
            &pin,
            &prepared,
            &input,
            None,
            inkseal_sdk::LongTermLevel::Archive,
        )
        .await
        .expect("B-LTA");
    assert_eq!(
        *http.log.lock().expect("log"),
        [
            format!("POST /v1/keys/{key}/sign"),
            "POST /v1/revocation".to_owned(),
            "POST /v1/tsa".to_owned(),
        ]
    );
    let signed = [input.as_slice(), tail.as_slice()].concat();
    let report = inkseal_pdf::verify::verify(
        &signed,
        &inkseal_pdf::verify::VerifyOptions {
            trust_anchors: vec![ca],
            ..Default::default()
        },
    )
    .expect("verify");
    assert!(report.all_ok(), "{report:#?}");
    assert!(
        report.signatures[0]
            .revocation
            .as_ref()
            .is_some_and(|r| r.ltv)
    );
    assert!(report.signatures[1].document_time_stamp);

    // A signature prepared without a time-stamp cannot go long-term, and costs nothing.
    let plain = c
        .prepare_pdf(
            &key,
            &input,
            &inkseal_pdf::sign::SignOptions::new(inkseal_tests::now_unix()),
        )
        .expect("prepare");
    http.log.lock().expect("log").clear();
    let err = c
        .sign_prepared_pdf_long_term(
            &pin,
            &plain,
            &input,
            None,
            inkseal_sdk::LongTermLevel::LongTerm,
        )
        .await
        .expect_err("no time-stamp");
    assert!(matches!(err, SdkError::InvalidInput(_)), "{err}");
    // Nor can a prepared signature go onto another document.
    let err = c
        .sign_prepared_pdf_long_term(
            &pin,
            &prepared,
            &input[..input.len() - 1],
            None,
            inkseal_sdk::LongTermLevel::LongTerm,
        )
        .await
        .expect_err("another document");
    assert!(matches!(err, SdkError::InvalidInput(_)), "{err}");
    assert!(http.log.lock().expect("log").is_empty());
    server.shutdown().await.expect("shutdown");
}
