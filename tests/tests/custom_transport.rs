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
    fail_first: usize,
    broken: bool,
    /// Drop the device-signature headers (a badly written transport).
    drop_signature: bool,
}

impl PlainHttp {
    fn new(fail_first: usize, broken: bool) -> Arc<Self> {
        Arc::new(PlainHttp {
            sent: AtomicUsize::new(0),
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
