//! Routes anyone may call: they say nothing about any key.

use super::{App, OPENAPI, blocking};
use crate::error::ServiceError;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};

pub(super) async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI).into_response()
}

pub(super) async fn ca(State(app): State<App>) -> Response {
    let pem = inkseal_pki::der_to_pem("CERTIFICATE", app.service.ca_certificate());
    ([(header::CONTENT_TYPE, "application/x-pem-file")], pem).into_response()
}

/// The embedded CA's CRL (DER, `application/pkix-crl`, RFC 5280 section 4.2.1.13).
pub(super) async fn crl(State(app): State<App>) -> Result<Response, ServiceError> {
    let der = blocking(move || app.service.lifecycle().crl()).await?;
    Ok(([(header::CONTENT_TYPE, "application/pkix-crl")], der).into_response())
}
