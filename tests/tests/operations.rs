//! What the bank's operations team watches: readiness, Prometheus metrics (co-signing latency,
//! requests by outcome, PIN failures, locks) behind the `audit:read` role, and access logs
//! that say which route answered what and nothing about anyone.

use std::io::Write;
use std::sync::{Arc, Mutex};

use inkseal_cosign::api::Pin;
use inkseal_sdk::SdkError;
use inkseal_server::service::Role;
use inkseal_tests::{Backend, client_for, enroll, http_client, start_server};

/// Everything the process logs, for the test to read.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("log").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The value of the sample `series` (name and labels exactly) in a Prometheus text page.
fn sample(page: &str, series: &str) -> Option<f64> {
    page.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readiness_metrics_and_access_logs() {
    let log = Captured::default();
    let writer = log.clone();
    tracing::subscriber::set_global_default(
        tracing_subscriber::fmt()
            .with_env_filter("inkseal=info")
            .with_ansi(false)
            .without_time()
            .with_writer(move || writer.clone())
            .finish(),
    )
    .expect("the only subscriber of this test binary");

    let dir = tempfile::tempdir().expect("tempdir");
    let server = start_server(&dir.path().join("server")).await;
    let http = http_client();
    let ready = http
        .get(format!("{}/v1/ready", server.url()))
        .send()
        .await
        .expect("ready");
    assert_eq!(ready.status().as_u16(), 200);
    assert_eq!(
        ready.json::<serde_json::Value>().await.expect("json"),
        serde_json::json!({ "ready": true })
    );

    // Two co-signatures, two wrong PINs and a third that is right.
    let backend = Backend::new(&server);
    let client = client_for(&server, &dir.path().join("device"));
    let pin = Pin::new("314159");
    let key = enroll(&backend, &client, "customer-ops-1", &pin)
        .await
        .key_id;
    for message in [&b"one"[..], b"two"] {
        client
            .sign_message(&key, &pin, message, None)
            .await
            .expect("signed");
    }
    for _ in 0..2 {
        assert!(matches!(
            client
                .sign_message(&key, &Pin::new("000000"), b"x", None)
                .await,
            Err(SdkError::WrongPin { .. })
        ));
    }

    // The page: only for audit:read.
    let url = format!("{}/v1/admin/metrics/prometheus", server.url());
    let anonymous = http.get(&url).send().await.expect("request");
    assert_eq!(anonymous.status().as_u16(), 401);
    let enroller = Backend::with_roles(&server, &[Role::Enroll]);
    let refused = http
        .get(&url)
        .bearer_auth(&enroller.api_key)
        .send()
        .await
        .expect("request");
    assert_eq!(refused.status().as_u16(), 403);
    let auditor = Backend::with_roles(&server, &[Role::AuditRead]);
    let page = http
        .get(&url)
        .bearer_auth(&auditor.api_key)
        .send()
        .await
        .expect("request");
    assert_eq!(page.status().as_u16(), 200);
    assert!(
        page.headers()[reqwest::header::CONTENT_TYPE]
            .to_str()
            .expect("type")
            .starts_with("text/plain; version=0.0.4")
    );
    let page = page.text().await.expect("text");
    assert_eq!(
        sample(&page, "inkseal_cosignatures_total"),
        Some(2.0),
        "{page}"
    );
    assert_eq!(sample(&page, "inkseal_pin_failures_total"), Some(2.0));
    assert_eq!(sample(&page, "inkseal_key_locks_total"), Some(0.0));
    let sign = "route=\"/v1/keys/{key_id}/sign\"";
    assert_eq!(
        sample(
            &page,
            &format!("inkseal_http_requests_total{{{sign},status=\"200\"}}")
        ),
        Some(2.0),
        "{page}"
    );
    assert_eq!(
        sample(
            &page,
            &format!("inkseal_http_requests_total{{{sign},status=\"403\"}}")
        ),
        Some(2.0)
    );
    assert_eq!(
        sample(
            &page,
            &format!("inkseal_http_request_duration_seconds_count{{{sign}}}")
        ),
        Some(4.0)
    );
    assert_eq!(
        sample(
            &page,
            &format!("inkseal_http_request_duration_seconds_bucket{{{sign},le=\"+Inf\"}}")
        ),
        Some(4.0)
    );
    assert!(
        sample(
            &page,
            "inkseal_http_requests_total{route=\"/v1/admin/metrics/prometheus\",status=\"401\"}"
        ) == Some(1.0)
    );
    // No series names a key, a user or an address.
    for secret in [key.as_str(), "customer-ops-1", "127.0.0.1"] {
        assert!(!page.contains(secret), "{secret} in the metrics");
    }

    // The access log: one line per request, by route template; no key id, PIN or API key.
    let text = String::from_utf8(log.0.lock().expect("log").clone()).expect("utf-8");
    let access: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("inkseal::access"))
        .collect();
    assert!(
        access
            .iter()
            .filter(|l| l.contains("route=\"/v1/keys/{key_id}/sign\""))
            .count()
            >= 4,
        "{text}"
    );
    assert!(access.iter().any(|l| l.contains("status=403")), "{text}");
    for secret in [
        key.as_str(),
        "314159",
        "000000",
        auditor.api_key.as_str(),
        "customer-ops-1",
    ] {
        assert!(!text.contains(secret), "{secret} in the log:\n{text}");
    }
    server.shutdown().await.expect("shutdown");
}
