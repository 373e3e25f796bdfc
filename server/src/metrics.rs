//! Counters and latency histograms since start, for `/v1/admin/metrics` (JSON) and
//! `/v1/admin/metrics/prometheus` (the Prometheus text format, version 0.0.4).
//!
//! Everything here is per process: with several replicas, Prometheus scrapes each and sums.
//! Labels are route templates (`/v1/keys/{key_id}/sign`) and status codes, never key ids,
//! users or addresses, so the series stay few and say nothing about anyone.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Upper bounds (seconds) of the request-duration histogram's buckets.
pub const DURATION_BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
];

/// The counters.
#[derive(Debug, Default)]
pub struct Metrics {
    pin_comparisons: AtomicU64,
    pin_failures: AtomicU64,
    key_locks: AtomicU64,
    signatures: AtomicU64,
    device_auth_failures: AtomicU64,
    time_stamps: AtomicU64,
    http: Mutex<BTreeMap<&'static str, RouteStats>>,
}

/// One route's requests: by status, and a duration histogram.
#[derive(Debug, Default, Clone)]
struct RouteStats {
    by_status: BTreeMap<u16, u64>,
    /// Cumulative counts per bucket of [`DURATION_BUCKETS`].
    buckets: [u64; DURATION_BUCKETS.len()],
    count: u64,
    sum_secs: f64,
}

/// A copy of the counters (the JSON form).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct MetricsSnapshot {
    /// PINs compared against a verifier since start.
    pub pin_comparisons: u64,
    /// Wrong PINs since start.
    pub pin_failures: u64,
    /// Keys locked by wrong PINs since start.
    pub key_locks: u64,
    /// Co-signatures produced since start.
    pub signatures: u64,
    /// Device requests refused for their signature since start.
    pub device_auth_failures: u64,
    /// Time-stamp tokens issued since start.
    pub time_stamps: u64,
}

impl Metrics {
    pub(crate) fn pin_compared(&self) {
        self.pin_comparisons.fetch_add(1, Ordering::Relaxed);
    }
    pub(crate) fn pin_failed(&self, locked: bool) {
        self.pin_failures.fetch_add(1, Ordering::Relaxed);
        if locked {
            self.key_locks.fetch_add(1, Ordering::Relaxed);
        }
    }
    /// A key locked without a wrong PIN being compared (attempts an older build left reserved).
    pub(crate) fn key_locked(&self) {
        self.key_locks.fetch_add(1, Ordering::Relaxed);
    }
    pub(crate) fn signed(&self) {
        self.signatures.fetch_add(1, Ordering::Relaxed);
    }
    pub(crate) fn device_auth_failed(&self) {
        self.device_auth_failures.fetch_add(1, Ordering::Relaxed);
    }
    pub(crate) fn time_stamp(&self) {
        self.time_stamps.fetch_add(1, Ordering::Relaxed);
    }

    /// Count one answered request of `route` (a template, or `"other"`).
    pub fn request(&self, route: &'static str, status: u16, took: Duration) {
        let secs = took.as_secs_f64();
        // A poisoned lock only means another request panicked mid-update: keep counting.
        let mut http = self.http.lock().unwrap_or_else(|e| e.into_inner());
        let stats = http.entry(route).or_default();
        *stats.by_status.entry(status).or_default() += 1;
        for (bound, bucket) in DURATION_BUCKETS.iter().zip(stats.buckets.iter_mut()) {
            if secs <= *bound {
                *bucket += 1;
            }
        }
        stats.count += 1;
        stats.sum_secs += secs;
    }

    /// The counters now.
    pub fn snapshot(&self) -> MetricsSnapshot {
        MetricsSnapshot {
            pin_comparisons: self.pin_comparisons.load(Ordering::Relaxed),
            pin_failures: self.pin_failures.load(Ordering::Relaxed),
            key_locks: self.key_locks.load(Ordering::Relaxed),
            signatures: self.signatures.load(Ordering::Relaxed),
            device_auth_failures: self.device_auth_failures.load(Ordering::Relaxed),
            time_stamps: self.time_stamps.load(Ordering::Relaxed),
        }
    }

    /// Everything in the Prometheus text exposition format (version 0.0.4).
    pub fn prometheus(&self) -> String {
        let s = self.snapshot();
        let mut out = String::new();
        for (name, help, value) in [
            (
                "inkseal_cosignatures_total",
                "Co-signatures produced.",
                s.signatures,
            ),
            (
                "inkseal_pin_comparisons_total",
                "PINs compared against a verifier.",
                s.pin_comparisons,
            ),
            ("inkseal_pin_failures_total", "Wrong PINs.", s.pin_failures),
            (
                "inkseal_key_locks_total",
                "Keys locked by wrong PINs.",
                s.key_locks,
            ),
            (
                "inkseal_device_auth_failures_total",
                "Device requests refused for their signature.",
                s.device_auth_failures,
            ),
            (
                "inkseal_time_stamps_total",
                "Time-stamp tokens issued.",
                s.time_stamps,
            ),
        ] {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {value}"
            );
        }
        let http = self.http.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let _ = writeln!(
            out,
            "# HELP inkseal_http_requests_total Requests answered, by route and status.\n\
             # TYPE inkseal_http_requests_total counter"
        );
        for (route, stats) in &http {
            for (status, n) in &stats.by_status {
                let _ = writeln!(
                    out,
                    "inkseal_http_requests_total{{route=\"{route}\",status=\"{status}\"}} {n}"
                );
            }
        }
        let _ = writeln!(
            out,
            "# HELP inkseal_http_request_duration_seconds Time to answer, by route \
             (route=\"/v1/keys/{{key_id}}/sign\" is the co-signing latency).\n\
             # TYPE inkseal_http_request_duration_seconds histogram"
        );
        for (route, stats) in &http {
            let name = "inkseal_http_request_duration_seconds";
            for (bound, n) in DURATION_BUCKETS.iter().zip(stats.buckets) {
                let _ = writeln!(out, "{name}_bucket{{route=\"{route}\",le=\"{bound}\"}} {n}");
            }
            let _ = writeln!(
                out,
                "{name}_bucket{{route=\"{route}\",le=\"+Inf\"}} {count}\n\
                 {name}_sum{{route=\"{route}\"}} {sum}\n\
                 {name}_count{{route=\"{route}\"}} {count}",
                count = stats.count,
                sum = stats.sum_secs
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_buckets_are_cumulative_and_the_text_format_parses() {
        let m = Metrics::default();
        m.request("/v1/keys/{key_id}/sign", 200, Duration::from_millis(3));
        m.request("/v1/keys/{key_id}/sign", 403, Duration::from_millis(30));
        m.request("/v1/health", 200, Duration::from_micros(200));
        m.pin_failed(false);
        m.pin_failed(true);
        let text = m.prometheus();
        let value = |series: &str| -> f64 {
            text.lines()
                .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
                .unwrap_or_else(|| panic!("{series} in\n{text}"))
        };
        let sign = "inkseal_http_request_duration_seconds_bucket{route=\"/v1/keys/{key_id}/sign\"";
        assert_eq!(value(&format!("{sign},le=\"0.001\"}}")), 0.0);
        assert_eq!(value(&format!("{sign},le=\"0.005\"}}")), 1.0);
        assert_eq!(value(&format!("{sign},le=\"0.05\"}}")), 2.0);
        assert_eq!(value(&format!("{sign},le=\"+Inf\"}}")), 2.0);
        assert_eq!(
            value("inkseal_http_requests_total{route=\"/v1/keys/{key_id}/sign\",status=\"403\"}"),
            1.0
        );
        assert_eq!(value("inkseal_pin_failures_total"), 2.0);
        assert_eq!(value("inkseal_key_locks_total"), 1.0);
        // Every sample line is NAME{LABELS} VALUE or NAME VALUE; every family has TYPE.
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            let (_, v) = line.rsplit_once(' ').expect("value");
            assert!(v.parse::<f64>().is_ok(), "{line}");
        }
    }
}
