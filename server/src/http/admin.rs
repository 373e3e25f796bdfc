//! Routes the institution's backend calls (`/v1/admin/`): an operator credential (API key or
//! TLS client certificate) with the route's role.

use super::{App, Body, blocking, decode};
use crate::audit::Caller;
use crate::error::ServiceError;
use crate::limits::Class;
use crate::net::PeerInfo;
use crate::service::{
    AdminRevokeRequest, CredentialSecret, NewSeal, Role, SignHashRequest, TicketOrder,
    UnlockRequest,
};
use crate::store::SigningPolicy;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::Deserialize;

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

/// An operator route: the listed extractors, the role, and a body run on a blocking thread
/// whose value is answered as JSON with `status`.
macro_rules! operator_route {
    ($name:ident($($arg:tt : $ty:ty),*) $role:ident, $status:expr, |$app:ident, $caller:ident| $run:expr) => {
        pub(super) async fn $name(
            State(app): State<App>,
            headers: HeaderMap,
            peer: Option<Extension<PeerInfo>>,
            $($arg: $ty),*
        ) -> Result<Response, ServiceError> {
            let value = operator_call(app, headers, peer, Role::$role, move |$app: &App, $caller: &Caller| $run).await?;
            Ok(($status, Json(value)).into_response())
        }
    };
}

operator_route!(ticket(body: Body) Enroll, StatusCode::CREATED, |app, caller| {
    let order: TicketOrder = decode(&body.0)?;
    app.service.enrollment().issue_ticket(&order, caller)
});

#[derive(Deserialize)]
pub(super) struct AuditQuery {
    #[serde(default)]
    lane: Option<String>,
    #[serde(default)]
    from: Option<u64>,
    #[serde(default)]
    limit: Option<u32>,
}

operator_route!(login_challenge(body: Body) LoginIssue, StatusCode::CREATED, |app, caller| {
    let order: inkseal_cosign::api::LoginChallengeOrder = decode(&body.0)?;
    app.service.login().issue_challenge(&order, caller)
});

operator_route!(login_verify(body: Body) LoginVerify, StatusCode::OK, |app, caller| {
    let req: inkseal_cosign::api::LoginVerifyRequest = decode(&body.0)?;
    app.service.login().verify(&req, caller)
});

operator_route!(audit(q: Query<AuditQuery>) AuditRead, StatusCode::OK, |app, _caller| {
    app.service
        .audit()
        .entries(
            q.lane.as_deref(),
            q.from.unwrap_or(1),
            q.limit.unwrap_or(1000),
        )
});

operator_route!(audit_lanes() AuditRead, StatusCode::OK, |app, _caller| {
    app.service.audit().lanes()
});

operator_route!(audit_verify() AuditRead, StatusCode::OK, |app, _caller| {
    app.service.audit().verify()
});

operator_route!(audit_key() AuditRead, StatusCode::OK, |app, _caller| {
    Ok(serde_json::json!({
        "algorithm": "ecdsa-p256-sha256",
        "public_key_sec1_hex": app.service.audit().public_key_hex()?,
    }))
});

operator_route!(metrics() AuditRead, StatusCode::OK, |app, _caller| {
    Ok(app.service.metrics())
});

operator_route!(key_status(key_id: Path<String>) KeysRead, StatusCode::OK, |app, _caller| {
    let key = app.service.ctx.key(&key_id)?;
    Ok(app.service.signing().status(&key))
});

operator_route!(set_policy(key_id: Path<String>, body: Body) PolicyWrite, StatusCode::OK, |app, caller| {
    let policy: SigningPolicy = decode(&body.0)?;
    app.service
        .liveness()
        .set_signing_policy(&key_id, policy, caller)?;
    Ok(policy)
});

operator_route!(unlock(key_id: Path<String>, body: Body) KeysManage, StatusCode::OK, |app, caller| {
    let req: UnlockRequest = decode(&body.0)?;
    app.service.lifecycle().unlock(&key_id, &req, caller)?;
    Ok(serde_json::json!({ "unlocked": true }))
});

operator_route!(revoke(key_id: Path<String>, body: Body) KeysManage, StatusCode::OK, |app, caller| {
    let req: AdminRevokeRequest = decode(&body.0)?;
    app.service
        .lifecycle()
        .revoke_by_operator(&key_id, &req, caller)?;
    Ok(serde_json::json!({ "revoked": true }))
});

#[derive(Deserialize)]
pub(super) struct LimitQuery {
    #[serde(default)]
    limit: Option<u32>,
}

operator_route!(signings(key_id: Path<String>, q: Query<LimitQuery>) EvidenceRead, StatusCode::OK, |app, _caller| {
    app.service
        .liveness()
        .signings(&key_id, q.limit.unwrap_or(100))
});

operator_route!(evidence_package(ids: Path<(String, String)>) EvidenceRead, StatusCode::OK, |app, _caller| {
    app.service.liveness().evidence_package(&ids.0.0, &ids.0.1)
});

operator_route!(sealed_evidence_package(ids: Path<(String, String)>) EvidenceRead, StatusCode::OK, |app, _caller| {
    app.service.liveness().sealed_evidence_package(&ids.0.0, &ids.0.1)
});

/// The metrics in the Prometheus text format (scrape with the operator API key as a bearer
/// token).
pub(super) async fn metrics_prometheus(
    State(app): State<App>,
    headers: HeaderMap,
    peer: Option<Extension<PeerInfo>>,
) -> Result<Response, ServiceError> {
    let text = operator_call(app, headers, peer, Role::AuditRead, |app, _| {
        Ok(app.service.prometheus_metrics())
    })
    .await?;
    Ok((
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    )
        .into_response())
}

pub(super) async fn evidence_report(
    State(app): State<App>,
    headers: HeaderMap,
    peer: Option<Extension<PeerInfo>>,
    Path((key_id, idempotency_key)): Path<(String, String)>,
) -> Result<Response, ServiceError> {
    let pdf = operator_call(app, headers, peer, Role::EvidenceRead, move |app, _| {
        app.service
            .liveness()
            .evidence_report_pdf(&key_id, &idempotency_key)
    })
    .await?;
    Ok(([(header::CONTENT_TYPE, "application/pdf")], pdf).into_response())
}

operator_route!(list_credentials() CredentialsManage, StatusCode::OK, |app, _caller| {
    app.service.operators().list()
});

operator_route!(revoke_credential(credential_id: Path<String>) CredentialsManage, StatusCode::OK, |app, caller| {
    app.service.operators().revoke(&credential_id, caller)?;
    Ok(serde_json::json!({ "revoked": true }))
});

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

operator_route!(create_credential(body: Body) CredentialsManage, StatusCode::CREATED, |app, caller| {
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
});

operator_route!(create_seal(body: Body) SealManage, StatusCode::CREATED, |app, caller| {
    let new: NewSeal = decode(&body.0)?;
    app.service.sealing().create(&new, caller)
});

operator_route!(list_seals() SealUse, StatusCode::OK, |app, _caller| {
    app.service.sealing().list()
});

operator_route!(get_seal(seal_id: Path<String>) SealUse, StatusCode::OK, |app, _caller| {
    app.service.sealing().get(&seal_id)
});

operator_route!(disable_seal(seal_id: Path<String>) SealManage, StatusCode::OK, |app, caller| {
    app.service.sealing().disable(&seal_id, caller)
});

operator_route!(sign_hash(seal_id: Path<String>, body: Body) SealUse, StatusCode::OK, |app, caller| {
    let request: SignHashRequest = decode(&body.0)?;
    app.service.sealing().sign_hashes(&seal_id, &request, caller)
});

operator_route!(open_envelope(seal_id: Path<String>, body: Body) EnvelopeOpen, StatusCode::OK, |app, caller| {
    let request: crate::service::OpenEnvelopeRequest = decode(&body.0)?;
    app.service.institution_envelopes().open(&seal_id, &request, caller)
});
