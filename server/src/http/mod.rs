//! HTTP: thin JSON handlers over the service views, run on blocking threads.
//!
//! Three kinds of routes, each with the one credential it needs ([`ROUTES`] lists them all;
//! the OpenAPI document is checked against it):
//!
//! * public (`/v1/health`, `/openapi.json`, `/v1/ca`, `/v1/ca/crl`, `/v1/tsa`, `/v1/ocsp`,
//!   `/v1/revocation`): nothing about any key;
//! * device (`/v1/enroll`, `/v1/keys/{key_id}/...`): signed by the key's device key (see
//!   [`crate::service::DeviceAuth`]), checked before anything else;
//! * operator (`/v1/admin/...`): an API key or a TLS client certificate with the route's role.
//!
//! Every answer is `Cache-Control: no-store` (most carry personal data) and
//! `X-Content-Type-Options: nosniff`; every body a route reads must be `application/json`
//! (so a cross-site form post is refused before it is read); bodies have a size limit per
//! route (64 KiB; evidence uploads, seal sign-hash batches and envelopes to open more, see
//! [`MAX_SIGN_HASH_BODY_BYTES`] and [`MAX_OPEN_ENVELOPE_BODY_BYTES`]), evidence uploads a cap
//! on how many are read at once, and requests a time limit.

mod admin;
mod device;
mod public;

use crate::error::ServiceError;
use crate::limits::{Class, RateLimiter};
use crate::net::PeerInfo;
use crate::service::CosignService;
use crate::service::institution_envelopes::MAX_OPEN_ENVELOPE_BODY_BYTES;
use crate::service::sealing::MAX_SIGN_HASH_BODY_BYTES;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, FromRequest, Request};
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post, put};
use inkseal_capture::submission::MAX_SUBMISSION_BYTES;
use serde::de::DeserializeOwned;
use std::sync::Arc;
use tokio::sync::Semaphore;

/// Largest request body accepted on any route but evidence.
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// Largest body of a P-256 enrollment's trip 2 (its key-generation message, hex, is up to
/// 600,000 digits).
pub const MAX_P256_ENROLL_BODY_BYTES: usize = 640 * 1024;
/// Largest body of a P-256 signing trip 1 (its message, hex, up to 108,000 digits, and the
/// message to sign, at most 8 KiB).
pub const MAX_P256_SIGN_BODY_BYTES: usize = 160 * 1024;
/// Largest body of a P-256 signing trip 2 (its message, hex, up to 222,000 digits).
pub const MAX_P256_FINISH_BODY_BYTES: usize = 256 * 1024;

/// The OpenAPI description served at `/openapi.json`.
pub const OPENAPI: &str = include_str!("../../openapi.json");

/// Which credential a route needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Credential {
    /// None.
    Public,
    /// A request signed by the new device key (enrollment; `keyid` = the ticket id).
    EnrollmentDevice,
    /// A request signed by the key's device key.
    Device,
    /// An operator credential with this role.
    Operator(crate::service::Role),
}

/// Every route: method, path (OpenAPI template syntax) and credential.
pub const ROUTES: &[(&str, &str, Credential)] = {
    use crate::service::Role::*;
    use Credential::*;
    &[
        ("get", "/v1/health", Public),
        ("get", "/v1/ready", Public),
        ("get", "/openapi.json", Public),
        ("get", "/v1/ca", Public),
        ("get", "/v1/ca/crl", Public),
        ("post", "/v1/tsa", Public),
        ("post", "/v1/ocsp", Public),
        ("post", "/v1/revocation", Public),
        ("post", "/v1/enroll", EnrollmentDevice),
        ("post", "/v1/enroll/p256", EnrollmentDevice),
        ("post", "/v1/enroll/p256/finish", EnrollmentDevice),
        ("get", "/v1/keys/{key_id}", Device),
        ("post", "/v1/keys/{key_id}/certificate", Device),
        ("get", "/v1/keys/{key_id}/certificate", Device),
        ("post", "/v1/keys/{key_id}/sign", Device),
        ("post", "/v1/keys/{key_id}/p256/sign", Device),
        (
            "post",
            "/v1/keys/{key_id}/p256/sign/{sign_id}/finish",
            Device,
        ),
        ("post", "/v1/keys/{key_id}/decrypt", Device),
        ("post", "/v1/keys/{key_id}/pin", Device),
        ("post", "/v1/keys/{key_id}/revoke", Device),
        ("post", "/v1/keys/{key_id}/liveness/challenge", Device),
        ("post", "/v1/keys/{key_id}/evidence", Device),
        ("post", "/v1/admin/tickets", Operator(Enroll)),
        ("get", "/v1/admin/audit", Operator(AuditRead)),
        ("get", "/v1/admin/audit/lanes", Operator(AuditRead)),
        ("get", "/v1/admin/audit/verify", Operator(AuditRead)),
        ("get", "/v1/admin/audit/key", Operator(AuditRead)),
        ("get", "/v1/admin/metrics", Operator(AuditRead)),
        ("get", "/v1/admin/metrics/prometheus", Operator(AuditRead)),
        ("get", "/v1/admin/keys/{key_id}", Operator(KeysRead)),
        (
            "put",
            "/v1/admin/keys/{key_id}/policy",
            Operator(PolicyWrite),
        ),
        (
            "post",
            "/v1/admin/keys/{key_id}/unlock",
            Operator(KeysManage),
        ),
        (
            "post",
            "/v1/admin/keys/{key_id}/revoke",
            Operator(KeysManage),
        ),
        (
            "get",
            "/v1/admin/keys/{key_id}/signings",
            Operator(EvidenceRead),
        ),
        (
            "get",
            "/v1/admin/keys/{key_id}/signings/{idempotency_key}/evidence",
            Operator(EvidenceRead),
        ),
        (
            "get",
            "/v1/admin/keys/{key_id}/signings/{idempotency_key}/evidence.pdf",
            Operator(EvidenceRead),
        ),
        (
            "get",
            "/v1/admin/keys/{key_id}/signings/{idempotency_key}/evidence.sealed",
            Operator(EvidenceRead),
        ),
        ("get", "/v1/admin/credentials", Operator(CredentialsManage)),
        ("post", "/v1/admin/credentials", Operator(CredentialsManage)),
        (
            "delete",
            "/v1/admin/credentials/{credential_id}",
            Operator(CredentialsManage),
        ),
        ("post", "/v1/admin/seals", Operator(SealManage)),
        ("get", "/v1/admin/seals", Operator(SealUse)),
        ("get", "/v1/admin/seals/{seal_id}", Operator(SealUse)),
        (
            "post",
            "/v1/admin/seals/{seal_id}/disable",
            Operator(SealManage),
        ),
        (
            "post",
            "/v1/admin/seals/{seal_id}/sign-hash",
            Operator(SealUse),
        ),
        (
            "post",
            "/v1/admin/seals/{seal_id}/open-envelope",
            Operator(EnvelopeOpen),
        ),
        ("post", "/v1/admin/login/challenges", Operator(LoginIssue)),
        ("post", "/v1/admin/login/verify", Operator(LoginVerify)),
    ]
};

/// What every handler shares.
#[derive(Clone)]
pub struct App {
    pub(crate) service: CosignService,
    pub(crate) limiter: Arc<RateLimiter>,
    evidence_slots: Arc<Semaphore>,
}

impl App {
    /// Handlers' state for `service` under `limiter`.
    pub fn new(service: CosignService, limiter: Arc<RateLimiter>) -> Self {
        let slots = limiter.limits().max_concurrent_evidence.max(1);
        App {
            service,
            limiter,
            evidence_slots: Arc::new(Semaphore::new(slots)),
        }
    }
}

/// Build the router.
pub fn router(app: App) -> Router {
    let timeout = app.limiter.limits().request_timeout;
    let evidence = Router::new()
        .route("/v1/keys/{key_id}/evidence", post(device::evidence))
        .layer(DefaultBodyLimit::max(MAX_SUBMISSION_BYTES))
        .route_layer(middleware::from_fn_with_state(app.clone(), evidence_slot));
    let sign_hash = Router::new()
        .route(
            "/v1/admin/seals/{seal_id}/sign-hash",
            post(admin::sign_hash),
        )
        .layer(DefaultBodyLimit::max(MAX_SIGN_HASH_BODY_BYTES));
    let open_envelope = Router::new()
        .route(
            "/v1/admin/seals/{seal_id}/open-envelope",
            post(admin::open_envelope),
        )
        .layer(DefaultBodyLimit::max(MAX_OPEN_ENVELOPE_BODY_BYTES));
    let p256 = Router::new()
        .route("/v1/enroll/p256/finish", post(device::enroll_p256_finish))
        .layer(DefaultBodyLimit::max(MAX_P256_ENROLL_BODY_BYTES))
        .merge(
            Router::new()
                .route("/v1/keys/{key_id}/p256/sign", post(device::sign_p256))
                .layer(DefaultBodyLimit::max(MAX_P256_SIGN_BODY_BYTES)),
        )
        .merge(
            Router::new()
                .route(
                    "/v1/keys/{key_id}/p256/sign/{sign_id}/finish",
                    post(device::sign_p256_finish),
                )
                .layer(DefaultBodyLimit::max(MAX_P256_FINISH_BODY_BYTES)),
        );
    Router::new()
        .route("/v1/health", get(|| async { "ok" }))
        .route("/v1/ready", get(public::ready))
        .route("/openapi.json", get(public::openapi))
        .route("/v1/ca", get(public::ca))
        .route("/v1/ca/crl", get(public::crl))
        .route("/v1/tsa", post(public::tsa))
        .route("/v1/ocsp", post(public::ocsp))
        .route("/v1/revocation", post(public::revocation))
        .route("/v1/enroll", post(device::enroll))
        .route("/v1/enroll/p256", post(device::enroll_p256))
        .route("/v1/keys/{key_id}", get(device::status))
        .route(
            "/v1/keys/{key_id}/certificate",
            post(device::certify).get(device::certificate),
        )
        .route("/v1/keys/{key_id}/sign", post(device::sign))
        .route("/v1/keys/{key_id}/decrypt", post(device::decrypt))
        .route("/v1/keys/{key_id}/pin", post(device::change_pin))
        .route("/v1/keys/{key_id}/revoke", post(device::revoke))
        .route(
            "/v1/keys/{key_id}/liveness/challenge",
            post(device::challenge),
        )
        .route("/v1/admin/tickets", post(admin::ticket))
        .route("/v1/admin/audit", get(admin::audit))
        .route("/v1/admin/audit/lanes", get(admin::audit_lanes))
        .route("/v1/admin/audit/verify", get(admin::audit_verify))
        .route("/v1/admin/audit/key", get(admin::audit_key))
        .route("/v1/admin/metrics", get(admin::metrics))
        .route(
            "/v1/admin/metrics/prometheus",
            get(admin::metrics_prometheus),
        )
        .route("/v1/admin/keys/{key_id}", get(admin::key_status))
        .route("/v1/admin/keys/{key_id}/policy", put(admin::set_policy))
        .route("/v1/admin/keys/{key_id}/unlock", post(admin::unlock))
        .route("/v1/admin/keys/{key_id}/revoke", post(admin::revoke))
        .route("/v1/admin/keys/{key_id}/signings", get(admin::signings))
        .route(
            "/v1/admin/keys/{key_id}/signings/{idempotency_key}/evidence",
            get(admin::evidence_package),
        )
        .route(
            "/v1/admin/keys/{key_id}/signings/{idempotency_key}/evidence.pdf",
            get(admin::evidence_report),
        )
        .route(
            "/v1/admin/keys/{key_id}/signings/{idempotency_key}/evidence.sealed",
            get(admin::sealed_evidence_package),
        )
        .route(
            "/v1/admin/credentials",
            get(admin::list_credentials).post(admin::create_credential),
        )
        .route(
            "/v1/admin/credentials/{credential_id}",
            delete(admin::revoke_credential),
        )
        .route(
            "/v1/admin/seals",
            get(admin::list_seals).post(admin::create_seal),
        )
        .route("/v1/admin/seals/{seal_id}", get(admin::get_seal))
        .route("/v1/admin/login/challenges", post(admin::login_challenge))
        .route("/v1/admin/login/verify", post(admin::login_verify))
        .route(
            "/v1/admin/seals/{seal_id}/disable",
            post(admin::disable_seal),
        )
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .merge(evidence)
        .merge(sign_hash)
        .merge(open_envelope)
        .merge(p256)
        .layer(middleware::from_fn(json_only))
        .layer(middleware::from_fn(move |req: Request, next: Next| {
            request_timeout(req, next, timeout)
        }))
        .layer(middleware::from_fn(hygiene_headers))
        .layer(middleware::from_fn_with_state(app.clone(), observe))
        .with_state(app)
}

/// The route template (from [`ROUTES`]) a request's path matches, `"other"` when none does.
pub fn route_template(method: &Method, path: &str) -> &'static str {
    let segments: Vec<&str> = path.split('/').collect();
    ROUTES
        .iter()
        .find(|(m, template, _)| {
            m.eq_ignore_ascii_case(method.as_str()) && {
                let t: Vec<&str> = template.split('/').collect();
                t.len() == segments.len()
                    && t.iter()
                        .zip(&segments)
                        .all(|(t, s)| t == s || (t.starts_with('{') && !s.is_empty()))
            }
        })
        .map_or("other", |(_, template, _)| *template)
}

/// Counts every answer by route template and status with its duration, and writes one access
/// log line (target `inkseal::access`): method, route template, status, milliseconds. No
/// path parameters (key ids), no query, no body, no address: nothing about anyone.
async fn observe(
    axum::extract::State(app): axum::extract::State<App>,
    req: Request,
    next: Next,
) -> Response {
    let start = std::time::Instant::now();
    let method = req.method().clone();
    let route = route_template(&method, req.uri().path());
    let response = next.run(req).await;
    let took = start.elapsed();
    let status = response.status().as_u16();
    app.service.observe_request(route, status, took);
    tracing::info!(
        target: "inkseal::access",
        method = %method,
        route,
        status,
        ms = %format_args!("{:.3}", took.as_secs_f64() * 1000.0),
        "request"
    );
    response
}

/// `Cache-Control: no-store` and `X-Content-Type-Options: nosniff` on every answer.
async fn hygiene_headers(req: Request, next: Next) -> Response {
    let mut response = next.run(req).await;
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

/// Bodies are JSON: a POST or PUT whose `Content-Type` is not `application/json` is refused
/// before its body is read (a cross-site form or `text/plain` post never reaches a route).
/// The exceptions are `/v1/tsa` and `/v1/ocsp`, which take `application/timestamp-query` and
/// `application/ocsp-request` (media types a cross-site form cannot send either).
async fn json_only(req: Request, next: Next) -> Response {
    let expected = match req.uri().path() {
        "/v1/tsa" => public::TIMESTAMP_QUERY,
        "/v1/ocsp" => public::OCSP_REQUEST,
        _ => "application/json",
    };
    if matches!(*req.method(), Method::POST | Method::PUT | Method::PATCH)
        && !content_type_is(req.headers(), expected)
    {
        return ServiceError::UnsupportedMediaType.into_response();
    }
    next.run(req).await
}

/// Whether the request's `Content-Type` (parameters ignored) is `expected`.
pub(crate) fn content_type_is(headers: &HeaderMap, expected: &str) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|t| t.trim().eq_ignore_ascii_case(expected))
}

/// A request (body included) that takes longer than the limit is answered 408.
async fn request_timeout(req: Request, next: Next, limit: std::time::Duration) -> Response {
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(r) => r,
        Err(_) => (
            axum::http::StatusCode::REQUEST_TIMEOUT,
            axum::Json(inkseal_cosign::api::ErrorBody::new(
                inkseal_cosign::api::ErrorCode::BadRequest,
                "the request took too long",
            )),
        )
            .into_response(),
    }
}

/// At most `max_concurrent_evidence` evidence bodies are read at once.
async fn evidence_slot(
    axum::extract::State(app): axum::extract::State<App>,
    req: Request,
    next: Next,
) -> Response {
    let peer = req
        .extensions()
        .get::<PeerInfo>()
        .cloned()
        .unwrap_or_default();
    if let Err(e) = app.limiter.check_address(Class::Evidence, peer.ip()) {
        return e.into_response();
    }
    match app.evidence_slots.clone().try_acquire_owned() {
        Ok(permit) => {
            let response = next.run(req).await;
            drop(permit);
            response
        }
        Err(_) => ServiceError::RateLimited {
            retry_after_secs: 2,
            why: "the server is reading as many evidence uploads as it allows at once".into(),
        }
        .into_response(),
    }
}

/// The body as bytes, with the size limit's refusal typed.
pub(crate) struct Body(pub(crate) Bytes);

impl<S: Send + Sync> FromRequest<S> for Body {
    type Rejection = ServiceError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ServiceError> {
        let path = req.uri().path();
        let limit = if path.ends_with("/evidence") {
            MAX_SUBMISSION_BYTES
        } else if path.ends_with("/sign-hash") {
            MAX_SIGN_HASH_BODY_BYTES
        } else if path.ends_with("/open-envelope") {
            MAX_OPEN_ENVELOPE_BODY_BYTES
        } else if path == "/v1/enroll/p256/finish" {
            MAX_P256_ENROLL_BODY_BYTES
        } else if path.ends_with("/p256/sign") {
            MAX_P256_SIGN_BODY_BYTES
        } else if path.contains("/p256/sign/") && path.ends_with("/finish") {
            MAX_P256_FINISH_BODY_BYTES
        } else {
            MAX_BODY_BYTES
        };
        Bytes::from_request(req, state)
            .await
            .map(Body)
            .map_err(|e| match e {
                axum::extract::rejection::BytesRejection::FailedToBufferBody(_) => {
                    ServiceError::TooLarge(limit)
                }
                other => ServiceError::BadRequest(other.to_string()),
            })
    }
}

pub(crate) fn decode<T: DeserializeOwned>(body: &[u8]) -> Result<T, ServiceError> {
    serde_json::from_slice(body).map_err(|e| ServiceError::BadRequest(format!("invalid JSON: {e}")))
}

/// Run a service call on the blocking pool.
pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ServiceError> + Send + 'static,
) -> Result<T, ServiceError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ServiceError::Internal(format!("task failed: {e}")))?
}

/// The peer of a request (absent when the router is called in-process).
pub(crate) fn peer(req_extensions: Option<axum::Extension<PeerInfo>>) -> PeerInfo {
    req_extensions.map(|e| e.0).unwrap_or_default()
}
