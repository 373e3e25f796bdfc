//! HTTP routes: thin JSON handlers over [`CosignService`], run on blocking threads.

use crate::error::ServiceError;
use crate::service::CosignService;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use inkseal_capture::submission::{EvidenceSubmission, MAX_SUBMISSION_BYTES};
use inkseal_cosign::api::{CertificateRequest, CosignRequest, EnrollRequest};
use serde::de::DeserializeOwned;

/// Largest request body accepted on any route.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// The OpenAPI description served at `/openapi.json`.
pub const OPENAPI: &str = include_str!("../openapi.json");

/// Build the router.
pub fn router(service: CosignService) -> Router {
    Router::new()
        .route("/v1/health", get(|| async { "ok" }))
        .route("/openapi.json", get(openapi))
        .route("/v1/ca", get(ca))
        .route("/v1/enroll", post(enroll))
        .route("/v1/keys/{key_id}", get(status))
        .route(
            "/v1/keys/{key_id}/certificate",
            post(certify).get(certificate),
        )
        .route("/v1/keys/{key_id}/sign", post(sign))
        .route("/v1/keys/{key_id}/liveness/challenge", post(challenge))
        .route(
            "/v1/keys/{key_id}/signings/{idempotency_key}/evidence",
            get(evidence_package),
        )
        .route(
            "/v1/keys/{key_id}/signings/{idempotency_key}/evidence.pdf",
            get(evidence_report),
        )
        .route("/v1/audit", get(audit))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .merge(
            // Evidence carries face frames: the one route with a large body limit.
            Router::new()
                .route("/v1/keys/{key_id}/evidence", post(evidence))
                .layer(DefaultBodyLimit::max(MAX_SUBMISSION_BYTES)),
        )
        .with_state(service)
}

async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI).into_response()
}

fn decode<T: DeserializeOwned>(body: &[u8]) -> Result<T, ServiceError> {
    serde_json::from_slice(body).map_err(|e| ServiceError::BadRequest(format!("invalid JSON: {e}")))
}

/// Run a service call on the blocking pool.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ServiceError> + Send + 'static,
) -> Result<T, ServiceError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ServiceError::Internal(format!("task failed: {e}")))?
}

async fn ca(State(s): State<CosignService>) -> Response {
    let pem = inkseal_pki::der_to_pem("CERTIFICATE", s.ca_certificate());
    ([(header::CONTENT_TYPE, "application/x-pem-file")], pem).into_response()
}

async fn enroll(
    State(s): State<CosignService>,
    body: axum::body::Bytes,
) -> Result<Response, ServiceError> {
    let req: EnrollRequest = decode(&body)?;
    let resp = blocking(move || s.enroll(&req)).await?;
    Ok((StatusCode::CREATED, Json(resp)).into_response())
}

async fn status(
    State(s): State<CosignService>,
    Path(key_id): Path<String>,
) -> Result<Response, ServiceError> {
    Ok(Json(blocking(move || s.status(&key_id)).await?).into_response())
}

async fn certify(
    State(s): State<CosignService>,
    Path(key_id): Path<String>,
    body: axum::body::Bytes,
) -> Result<Response, ServiceError> {
    let req: CertificateRequest = decode(&body)?;
    Ok(Json(blocking(move || s.certify(&key_id, &req)).await?).into_response())
}

async fn certificate(
    State(s): State<CosignService>,
    Path(key_id): Path<String>,
) -> Result<Response, ServiceError> {
    Ok(Json(blocking(move || s.certificate(&key_id)).await?).into_response())
}

async fn sign(
    State(s): State<CosignService>,
    Path(key_id): Path<String>,
    body: axum::body::Bytes,
) -> Result<Response, ServiceError> {
    let req: CosignRequest = decode(&body)?;
    Ok(Json(blocking(move || s.sign(&key_id, &req)).await?).into_response())
}

async fn challenge(
    State(s): State<CosignService>,
    Path(key_id): Path<String>,
) -> Result<Response, ServiceError> {
    let challenge = blocking(move || s.issue_challenge(&key_id)).await?;
    Ok((StatusCode::CREATED, Json(challenge)).into_response())
}

async fn evidence(
    State(s): State<CosignService>,
    Path(key_id): Path<String>,
    body: axum::body::Bytes,
) -> Result<Response, ServiceError> {
    let submission = EvidenceSubmission::from_json(&body)
        .map_err(|e| ServiceError::BadRequest(format!("evidence: {e}")))?;
    Ok(Json(blocking(move || s.submit_evidence(&key_id, &submission)).await?).into_response())
}

async fn evidence_package(
    State(s): State<CosignService>,
    Path((key_id, idempotency_key)): Path<(String, String)>,
) -> Result<Response, ServiceError> {
    Ok(
        Json(blocking(move || s.evidence_package(&key_id, &idempotency_key)).await?)
            .into_response(),
    )
}

async fn evidence_report(
    State(s): State<CosignService>,
    Path((key_id, idempotency_key)): Path<(String, String)>,
) -> Result<Response, ServiceError> {
    let pdf = blocking(move || s.evidence_report_pdf(&key_id, &idempotency_key)).await?;
    Ok(([(header::CONTENT_TYPE, "application/pdf")], pdf).into_response())
}

#[derive(serde::Deserialize)]
struct AuditQuery {
    #[serde(default)]
    from: Option<u64>,
    #[serde(default)]
    limit: Option<u32>,
}

async fn audit(
    State(s): State<CosignService>,
    Query(q): Query<AuditQuery>,
) -> Result<Response, ServiceError> {
    let from = q.from.unwrap_or(1);
    let limit = q.limit.unwrap_or(1000).min(10_000);
    let entries = blocking(move || Ok(s.store().audit_entries(from, limit)?)).await?;
    Ok(Json(entries).into_response())
}
