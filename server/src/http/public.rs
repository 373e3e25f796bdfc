//! Routes anyone may call: they say nothing about any key.

use super::{App, Body, OPENAPI, blocking};
use crate::error::ServiceError;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};

pub(super) async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI).into_response()
}

/// Readiness: 200 when the database answers, 503 when it does not (liveness is `/v1/health`).
pub(super) async fn ready(State(app): State<App>) -> Response {
    use axum::http::StatusCode;
    match blocking(move || app.service.ready()).await {
        Ok(()) => (
            StatusCode::OK,
            axum::Json(serde_json::json!({ "ready": true })),
        )
            .into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "not ready");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                axum::Json(serde_json::json!({ "ready": false })),
            )
                .into_response()
        }
    }
}

/// Every root of the CA, PEM, the issuing (SM2) root first, then the P-256 root.
pub(super) async fn ca(State(app): State<App>) -> Response {
    let pem = app.service.root_certificates_pem();
    ([(header::CONTENT_TYPE, "application/x-pem-file")], pem).into_response()
}

/// The OCSP request media type (RFC 6960 appendix A.1).
pub(super) const OCSP_REQUEST: &str = "application/ocsp-request";

/// OCSP over HTTP POST (RFC 6960 appendix A): a DER OCSPRequest in, a DER OCSPResponse out,
/// signed by the root that issued the certificates asked about. Limited per client address.
pub(super) async fn ocsp(
    State(app): State<App>,
    peer: Option<axum::Extension<crate::net::PeerInfo>>,
    Body(body): Body,
) -> Result<Response, ServiceError> {
    let peer = super::peer(peer);
    app.limiter
        .check_address(crate::limits::Class::Ocsp, peer.ip())?;
    let der = blocking(move || app.service.ocsp(&body)).await?;
    Ok(([(header::CONTENT_TYPE, "application/ocsp-response")], der).into_response())
}

/// OCSP responses for a PDF's DSS, asked in JSON (a phone needs no OCSP encoding): one per
/// certificate, from the delegated responder of the root that issued it; with a time-stamp
/// request inside, also the time-stamp and the response for its TSA's certificate (the
/// co-signed B-LT/B-LTA flow's one round trip after the co-signature). Limited per client
/// address like OCSP, and like the TSA when it carries a time-stamp request.
pub(super) async fn revocation(
    State(app): State<App>,
    peer: Option<axum::Extension<crate::net::PeerInfo>>,
    Body(body): Body,
) -> Result<Response, ServiceError> {
    use inkseal_cosign::api::{MAX_REVOCATION_CERTIFICATES, RevocationRequest, RevocationResponse};
    let peer = super::peer(peer);
    app.limiter
        .check_address(crate::limits::Class::Ocsp, peer.ip())?;
    let request: RevocationRequest = super::decode(&body)?;
    let n = request.certificates_der_hex.len();
    if n > MAX_REVOCATION_CERTIFICATES || (n == 0 && request.time_stamp_request_der_hex.is_none()) {
        return Err(ServiceError::BadRequest(format!(
            "name 1 to {MAX_REVOCATION_CERTIFICATES} certificates"
        )));
    }
    let not_hex = |what: &str| ServiceError::BadRequest(format!("{what} is not hex"));
    let certificates = request
        .certificates_der_hex
        .iter()
        .map(|h| hex::decode(h).map_err(|_| not_hex("a certificate")))
        .collect::<Result<Vec<_>, _>>()?;
    let time_stamp_request = match &request.time_stamp_request_der_hex {
        None => None,
        Some(h) => {
            app.limiter
                .check_address(crate::limits::Class::TimeStamp, peer.ip())?;
            Some(hex::decode(h).map_err(|_| not_hex("the time-stamp request"))?)
        }
    };
    let (reply, responses) = blocking(move || match time_stamp_request {
        None => Ok((None, app.service.revocation_data(&certificates)?)),
        Some(ts) => app
            .service
            .time_stamp_with_revocation_data(&certificates, &ts)
            .map(|(reply, responses)| (Some(reply), responses)),
    })
    .await?;
    Ok(axum::Json(RevocationResponse {
        ocsp_responses_der_hex: responses.iter().map(hex::encode).collect(),
        time_stamp_reply_der_hex: reply.map(|r| hex::encode(r.der)),
    })
    .into_response())
}

/// The time-stamp request media type (RFC 3161 section 3.4).
pub(super) const TIMESTAMP_QUERY: &str = "application/timestamp-query";

/// RFC 3161 over HTTP: a DER `TimeStampReq` in, a DER `TimeStampResp` out (a rejection is a
/// 200 with a rejection inside, as the RFC has it). Limited per client address.
pub(super) async fn tsa(
    State(app): State<App>,
    peer: Option<axum::Extension<crate::net::PeerInfo>>,
    Body(body): Body,
) -> Result<Response, ServiceError> {
    let peer = super::peer(peer);
    app.limiter
        .check_address(crate::limits::Class::TimeStamp, peer.ip())?;
    let reply = blocking(move || {
        app.service.time_stamp(&body).unwrap_or_else(|| {
            Err(ServiceError::NotFound(
                "this server runs no time-stamping authority".into(),
            ))
        })
    })
    .await?;
    Ok((
        [(header::CONTENT_TYPE, "application/timestamp-reply")],
        reply.der,
    )
        .into_response())
}

/// The embedded CA's CRL (DER, `application/pkix-crl`, RFC 5280 section 4.2.1.13).
pub(super) async fn crl(State(app): State<App>) -> Result<Response, ServiceError> {
    let der = blocking(move || app.service.lifecycle().crl()).await?;
    Ok(([(header::CONTENT_TYPE, "application/pkix-crl")], der).into_response())
}
