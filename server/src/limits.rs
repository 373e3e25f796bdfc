//! Rate limits and connection limits.
//!
//! Request rates are token buckets kept in this process's memory, per client address and
//! (after authentication, so that a stranger cannot use up someone else's budget) per key.
//! With several replicas behind a load balancer each replica counts on its own: the limits a
//! client meets add up across replicas. The correctness rules that must hold across
//! replicas (PIN attempts, single-use challenges, tickets and nonces) are in the store, not
//! here.

use crate::error::ServiceError;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Which budget a request draws from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Class {
    /// `POST /v1/enroll`.
    Enroll,
    /// Liveness challenges.
    Challenge,
    /// Evidence submissions.
    Evidence,
    /// Co-signing (and PIN change, revocation).
    Sign,
    /// Other device routes (status, certificate).
    DeviceRead,
    /// Operator routes.
    Operator,
    /// RFC 3161 time-stamp requests (`POST /v1/tsa`).
    TimeStamp,
    /// OCSP requests (`POST /v1/ocsp`).
    Ocsp,
}

impl Class {
    fn name(self) -> &'static str {
        match self {
            Class::Enroll => "enrollment",
            Class::Challenge => "liveness challenges",
            Class::Evidence => "evidence submissions",
            Class::Sign => "signing",
            Class::DeviceRead => "key reads",
            Class::Operator => "operator requests",
            Class::TimeStamp => "time-stamp requests",
            Class::Ocsp => "OCSP requests",
        }
    }
}

/// Requests per minute (the bucket also holds this many, so a burst of that size passes).
/// Zero turns the limit off.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PerMinute(pub u32);

/// Every limit, with defaults sized for people using phones (not for load tests: `inkseal
/// bench` raises them).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Enrollments per client address.
    pub enroll_per_address: PerMinute,
    /// Challenges per client address.
    pub challenge_per_address: PerMinute,
    /// Challenges per key.
    pub challenge_per_key: PerMinute,
    /// Evidence submissions per client address.
    pub evidence_per_address: PerMinute,
    /// Evidence submissions per key.
    pub evidence_per_key: PerMinute,
    /// Signing requests per client address.
    pub sign_per_address: PerMinute,
    /// Signing requests per key.
    pub sign_per_key: PerMinute,
    /// Status and certificate reads per client address.
    pub device_read_per_address: PerMinute,
    /// Operator requests per client address.
    pub operator_per_address: PerMinute,
    /// Time-stamp requests per client address.
    pub timestamp_per_address: PerMinute,
    /// OCSP requests per client address.
    pub ocsp_per_address: PerMinute,
    /// Evidence uploads (up to 16 MiB each) read at once; more wait for a 429.
    pub max_concurrent_evidence: usize,
    /// Open connections per client address.
    pub max_connections_per_address: usize,
    /// Open connections in all.
    pub max_connections: usize,
    /// Time a client has to send a request's headers.
    pub header_read_timeout: Duration,
    /// A connection with no bytes moving for this long is closed.
    pub idle_timeout: Duration,
    /// Time a request (body included) may take.
    pub request_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            enroll_per_address: PerMinute(20),
            challenge_per_address: PerMinute(60),
            challenge_per_key: PerMinute(10),
            evidence_per_address: PerMinute(30),
            evidence_per_key: PerMinute(10),
            sign_per_address: PerMinute(600),
            sign_per_key: PerMinute(120),
            device_read_per_address: PerMinute(300),
            operator_per_address: PerMinute(1200),
            timestamp_per_address: PerMinute(600),
            ocsp_per_address: PerMinute(600),
            max_concurrent_evidence: 4,
            max_connections_per_address: 64,
            max_connections: 4096,
            header_read_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(30),
            request_timeout: Duration::from_secs(60),
        }
    }
}

impl Limits {
    /// No request-rate limits (benchmarks and load tests); connection limits stay.
    pub fn without_rates(mut self) -> Self {
        for rate in [
            &mut self.enroll_per_address,
            &mut self.challenge_per_address,
            &mut self.challenge_per_key,
            &mut self.evidence_per_address,
            &mut self.evidence_per_key,
            &mut self.sign_per_address,
            &mut self.sign_per_key,
            &mut self.device_read_per_address,
            &mut self.operator_per_address,
            &mut self.timestamp_per_address,
            &mut self.ocsp_per_address,
        ] {
            *rate = PerMinute(0);
        }
        self
    }

    fn per_address(&self, class: Class) -> PerMinute {
        match class {
            Class::Enroll => self.enroll_per_address,
            Class::Challenge => self.challenge_per_address,
            Class::Evidence => self.evidence_per_address,
            Class::Sign => self.sign_per_address,
            Class::DeviceRead => self.device_read_per_address,
            Class::Operator => self.operator_per_address,
            Class::TimeStamp => self.timestamp_per_address,
            Class::Ocsp => self.ocsp_per_address,
        }
    }

    fn per_key(&self, class: Class) -> PerMinute {
        match class {
            Class::Challenge => self.challenge_per_key,
            Class::Evidence => self.evidence_per_key,
            Class::Sign => self.sign_per_key,
            Class::Enroll
            | Class::DeviceRead
            | Class::Operator
            | Class::TimeStamp
            | Class::Ocsp => PerMinute(0),
        }
    }
}

#[derive(Clone, Copy, Debug)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

/// Subject of a bucket: an address or a key.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Subject {
    Address(IpAddr),
    Key(String),
}

/// Buckets are dropped once this many exist and they are full again.
const MAX_BUCKETS: usize = 100_000;

/// The token buckets of one server process.
#[derive(Debug)]
pub struct RateLimiter {
    limits: Limits,
    buckets: Mutex<HashMap<(Class, Subject), Bucket>>,
}

impl RateLimiter {
    /// A limiter for `limits`.
    pub fn new(limits: Limits) -> Self {
        RateLimiter {
            limits,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// The limits in force.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Take one request of `class` from `address`'s budget (no address: no limit).
    pub fn check_address(&self, class: Class, address: Option<IpAddr>) -> Result<(), ServiceError> {
        match address {
            Some(a) => self.take(class, Subject::Address(a), self.limits.per_address(class)),
            None => Ok(()),
        }
    }

    /// Take one request of `class` from `key_id`'s budget.
    pub fn check_key(&self, class: Class, key_id: &str) -> Result<(), ServiceError> {
        self.take(
            class,
            Subject::Key(key_id.to_owned()),
            self.limits.per_key(class),
        )
    }

    fn take(&self, class: Class, subject: Subject, rate: PerMinute) -> Result<(), ServiceError> {
        if rate.0 == 0 {
            return Ok(());
        }
        let capacity = f64::from(rate.0);
        let per_sec = capacity / 60.0;
        let now = Instant::now();
        let mut buckets = self
            .buckets
            .lock()
            .map_err(|_| ServiceError::Internal("rate limiter poisoned".into()))?;
        if buckets.len() >= MAX_BUCKETS {
            buckets.retain(|(c, _), b| {
                let cap = f64::from(self.rate_of(*c));
                b.tokens + now.duration_since(b.at).as_secs_f64() * cap / 60.0 < cap
            });
        }
        let bucket = buckets.entry((class, subject)).or_insert(Bucket {
            tokens: capacity,
            at: now,
        });
        bucket.tokens =
            (bucket.tokens + now.duration_since(bucket.at).as_secs_f64() * per_sec).min(capacity);
        bucket.at = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            return Ok(());
        }
        let wait = ((1.0 - bucket.tokens) / per_sec).ceil().max(1.0) as u64;
        Err(ServiceError::RateLimited {
            retry_after_secs: wait,
            why: format!("the limit on {} was reached", class.name()),
        })
    }

    fn rate_of(&self, class: Class) -> u32 {
        self.limits
            .per_address(class)
            .0
            .max(self.limits.per_key(class).0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_lets_a_burst_through_then_refuses_with_a_wait() {
        let limits = Limits {
            challenge_per_address: PerMinute(3),
            ..Limits::default()
        };
        let limiter = RateLimiter::new(limits);
        let a = Some(IpAddr::from([10, 0, 0, 1]));
        for _ in 0..3 {
            limiter
                .check_address(Class::Challenge, a)
                .expect("within burst");
        }
        match limiter.check_address(Class::Challenge, a) {
            Err(ServiceError::RateLimited {
                retry_after_secs, ..
            }) => assert!((1..=20).contains(&retry_after_secs)),
            other => panic!("expected a refusal, got {other:?}"),
        }
        // Another address and another class have their own budgets.
        limiter
            .check_address(Class::Challenge, Some(IpAddr::from([10, 0, 0, 2])))
            .expect("other address");
        limiter.check_address(Class::Sign, a).expect("other class");
        // No address (an in-process call): no limit.
        limiter
            .check_address(Class::Challenge, None)
            .expect("no address");
    }

    #[test]
    fn zero_turns_a_limit_off() {
        let limiter = RateLimiter::new(Limits::default().without_rates());
        for _ in 0..10_000 {
            limiter.check_key(Class::Sign, "k").expect("unlimited");
        }
    }
}
