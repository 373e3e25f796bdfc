//! Routes the institution's backend calls (`/v1/admin/`): an operator credential (API key or
//! TLS client certificate) with the route's role.

use super::{App, Body, blocking, decode};
use crate::audit::Caller;
use crate::error::ServiceError;
use crate::limits::Class;
use crate::net::PeerInfo;
use crate::service::{AdminRevokeRequest, CredentialSecret, Role, TicketOrder, UnlockRequest};
use crate::store::SigningPolicy;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};

/// The credential a request presents: a bearer API key, else the TLS client certificate.
fn operator_caller(
    app: &App,
    headers: &HeaderMap,
    peer: &PeerInfo,
    role: Role,
) -> Result<Caller, ServiceError> {
    let operators = app.service.operators();
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let operator = match (bearer, &peer.client_certificate) {
        (Some(token), _) => operators.authenticate_api_key(token.trim()),
        (None, Some(cert)) => operators.authenticate_certificate(cert),
        (None, None) => Err(ServiceError::Unauthenticated(
            "operator routes need an API key (Authorization: Bearer ...) or a client certificate"
                .into(),
        )),
    };
    let operator = match operator {
        Ok(o) => o,
        Err(e) => {
            app.service.store().append_audit(
                &crate::audit::AuditEvent::global(
                    crate::audit::AuditKind::Refused,
                    serde_json::json!({ "reason": "operator authentication failed" }),
                )
                .by(&Caller::anonymous(peer.ip())),
            )?;
            return Err(e);
        }
    };
    let caller = operator.caller(peer.ip());
    operators.require(&operator, role, &caller)?;
    Ok(caller)
}

/// Rate-limit, authenticate the operator for `role`, run `f` on a blocking thread.
async fn operator_call<T: Send + 'static>(
    app: App,
    headers: HeaderMap,
    peer: Option<Extension<PeerInfo>>,
    role: Role,
    f: impl FnOnce(&App, &Caller) -> Result<T, ServiceError> + Send + 'static,
) -> Result<T, ServiceError> {
    let peer = super::peer(peer);
    app.limiter.check_address(Class::Operator, peer.ip())?;
    blocking(move || {
        let caller = operator_caller(&app, &headers, &peer, role)?;
        f(&app, &caller)
    })
    .await
}

fn json<T: Serialize>(value: T) -> Response {
    Json(value).into_response()
}

pub(super) async fn ticket(
    State(app): State<App>,
    headers: HeaderMap,
    peer: Option<Extension<PeerInfo>>,
    body: Body,
) -> Result<Response, ServiceError> {
    let issued = operator_call(app, headers, peer, Role::Enroll, move |app, caller| {
        let order: TicketOrder = decode(&body.0)?;
        app.service.enrollment().issue_ticket(&order, caller)
    })
    .await?;
    Ok((StatusCode::CREATED, Json(issued)).into_response())
}

#[derive(Deserialize)]
pub(super) struct AuditQuery {
    #[serde(default)]
    from: Option<u64>,
    #[serde(default)]
    limit: Option<u32>,
}

pub(super) async fn audit(
    State(app): State<App>,
    headers: HeaderMap,
    peer: Option<Extension<PeerInfo>>,
    Query(q): Query<AuditQuery>,
) -> Result<Response, ServiceError> {
    let entries = operator_call(app, headers, peer, Role::AuditRead, move |app, _| {
        app.service
            .audit()
            .entries(q.from.unwrap_or(1), q.limit.unwrap_or(1000))
    })
    .await?;
    Ok(json(entries))
}

pub(super) async fn audit_verify(
    State(app): State<App>,
    headers: HeaderMap,
    peer: Option<Extension<PeerInfo>>,
) -> Result<Response, ServiceError> {
    let report = operator_call(app, headers, peer, Role::AuditRead, |app, _| {
        app.service.audit().verify()
    })
    .await?;
    Ok(json(report))
}

pub(super) async fn audit_key(
    State(app): State<App>,
    headers: HeaderMap,
    peer: Option<Extension<PeerInfo>>,
) -> Result<Response, ServiceError> {
    let key = operator_call(app, headers, peer, Role::AuditRead, |app, _| {
        app.service.audit().public_key_hex()
    })
    .await?;
    Ok(json(serde_json::json!({
        "algorithm": "ecdsa-p256-sha256",
        "public_key_sec1_hex": key,
    })))
}

pub(super) async fn metrics(
    State(app): State<App>,
    headers: HeaderMap,
    peer: Option<Extension<PeerInfo>>,
) -> Result<Response, ServiceError> {
    let m = operator_call(app, headers, peer, Role::AuditRead, |app, _| {
        Ok(app.service.metrics())
    })
    .await?;
    Ok(json(m))
}

pub(super) async fn key_status(
    State(app): State<App>,
    Path(key_id): Path<String>,
    headers: HeaderMap,
    peer: Option<Extension<PeerInfo>>,
) -> Result<Response, ServiceError> {
    let status = operator_call(app, headers, peer, Role::KeysRead, move |app, _| {
        let key = app.service.ctx.key(&key_id)?;
        Ok(app.service.signing().status(&key))
    })
    .await?;
    Ok(json(status))
}

pub(super) async fn set_policy(
    State(app): State<App>,
    Path(key_id): Path<String>,
    headers: HeaderMap,
    peer: Option<Extension<PeerInfo>>,
    body: Body,
) -> Result<Response, ServiceError> {
    let policy = operator_call(app, headers, peer, Role::PolicyWrite, move |app, caller| {
        let policy: SigningPolicy = decode(&body.0)?;
        app.service
            .liveness()
            .set_signing_policy(&key_id, policy, caller)?;
        Ok(policy)
    })
    .await?;
    Ok(json(policy))
}

pub(super) async fn unlock(
    State(app): State<App>,
    Path(key_id): Path<String>,
    headers: HeaderMap,
    peer: Option<Extension<PeerInfo>>,
    body: Body,
) -> Result<Response, ServiceError> {
    operator_call(app, headers, peer, Role::KeysManage, move |app, caller| {
        let req: UnlockRequest = decode(&body.0)?;
        app.service.lifecycle().unlock(&key_id, &req, caller)
    })
    .await?;
    Ok(json(serde_json::json!({ "unlocked": true })))
}

pub(super) async fn revoke(
    State(app): State<App>,
    Path(key_id): Path<String>,
    headers: HeaderMap,
    peer: Option<Extension<PeerInfo>>,
    body: Body,
) -> Result<Response, ServiceError> {
    operator_call(app, headers, peer, Role::KeysManage, move |app, caller| {
        let req: AdminRevokeRequest = decode(&body.0)?;
        app.service
            .lifecycle()
            .revoke_by_operator(&key_id, &req, caller)
    })
    .await?;
    Ok(json(serde_json::json!({ "revoked": true })))
}

#[derive(Deserialize)]
pub(super) struct LimitQuery {
    #[serde(default)]
    limit: Option<u32>,
}

pub(super) async fn signings(
    State(app): State<App>,
    Path(key_id): Path<String>,
    headers: HeaderMap,
    peer: Option<Extension<PeerInfo>>,
    Query(q): Query<LimitQuery>,
) -> Result<Response, ServiceError> {
    let list = operator_call(app, headers, peer, Role::EvidenceRead, move |app, _| {
        app.service
            .liveness()
            .signings(&key_id, q.limit.unwrap_or(100))
    })
    .await?;
    Ok(json(list))
}

pub(super) async fn evidence_package(
    State(app): State<App>,
    Path((key_id, idempotency_key)): Path<(String, String)>,
    headers: HeaderMap,
    peer: Option<Extension<PeerInfo>>,
) -> Result<Response, ServiceError> {
    let package = operator_call(app, headers, peer, Role::EvidenceRead, move |app, _| {
        app.service
            .liveness()
            .evidence_package(&key_id, &idempotency_key)
    })
    .await?;
    Ok(json(package))
}

pub(super) async fn evidence_report(
    State(app): State<App>,
    Path((key_id, idempotency_key)): Path<(String, String)>,
    headers: HeaderMap,
    peer: Option<Extension<PeerInfo>>,
) -> Result<Response, ServiceError> {
    let pdf = operator_call(app, headers, peer, Role::EvidenceRead, move |app, _| {
        app.service
            .liveness()
            .evidence_report_pdf(&key_id, &idempotency_key)
    })
    .await?;
    Ok(([(header::CONTENT_TYPE, "application/pdf")], pdf).into_response())
}

pub(super) async fn list_credentials(
    State(app): State<App>,
    headers: HeaderMap,
    peer: Option<Extension<PeerInfo>>,
) -> Result<Response, ServiceError> {
    let list = operator_call(app, headers, peer, Role::CredentialsManage, |app, _| {
        app.service.operators().list()
    })
    .await?;
    Ok(json(list))
}

/// `POST /v1/admin/credentials`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct CreateCredential {
    name: String,
    roles: Vec<Role>,
    /// A PEM client certificate; an API key is made when absent.
    #[serde(default)]
    client_certificate_pem: Option<String>,
}

pub(super) async fn create_credential(
    State(app): State<App>,
    headers: HeaderMap,
    peer: Option<Extension<PeerInfo>>,
    body: Body,
) -> Result<Response, ServiceError> {
    let created = operator_call(
        app,
        headers,
        peer,
        Role::CredentialsManage,
        move |app, caller| {
            let req: CreateCredential = decode(&body.0)?;
            let secret = match &req.client_certificate_pem {
                None => CredentialSecret::ApiKey,
                Some(pem) => {
                    let (label, der) = inkseal_pki::pem_to_der(pem)
                        .map_err(|e| ServiceError::BadRequest(format!("certificate: {e}")))?;
                    if label != "CERTIFICATE" {
                        return Err(ServiceError::BadRequest(
                            "client_certificate_pem must be a PEM CERTIFICATE".into(),
                        ));
                    }
                    CredentialSecret::ClientCertificate(der)
                }
            };
            app.service
                .operators()
                .create(&req.name, &req.roles, secret, caller)
        },
    )
    .await?;
    Ok((StatusCode::CREATED, Json(created)).into_response())
}

pub(super) async fn revoke_credential(
    State(app): State<App>,
    Path(credential_id): Path<String>,
    headers: HeaderMap,
    peer: Option<Extension<PeerInfo>>,
) -> Result<Response, ServiceError> {
    operator_call(
        app,
        headers,
        peer,
        Role::CredentialsManage,
        move |app, caller| app.service.operators().revoke(&credential_id, caller),
    )
    .await?;
    Ok(json(serde_json::json!({ "revoked": true })))
}
