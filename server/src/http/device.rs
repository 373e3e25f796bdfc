//! Routes a phone calls: each request is signed by a device key, checked before its body is
//! even decoded.

use super::{App, Body, blocking, decode};
use crate::audit::Caller;
use crate::error::ServiceError;
use crate::limits::Class;
use crate::net::PeerInfo;
use crate::service::DeviceRequest;
use crate::store::KeyRecord;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use inkseal_capture::submission::EvidenceSubmission;
use inkseal_cosign::api::{
    CertificateRequest, CosignRequest, DecryptApiRequest, EnrollRequest, P256EnrollFinishRequest,
    P256EnrollRequest, P256SignFinishRequest, P256SignRequest, PinChangeRequest, RevokeRequest,
};
use serde::Serialize;

/// A request as its device signature covers it.
struct Signed {
    method: String,
    path: String,
    headers: HeaderMap,
    body: axum::body::Bytes,
    peer: PeerInfo,
}

impl Signed {
    fn new(
        method: Method,
        uri: Uri,
        headers: HeaderMap,
        body: Body,
        peer: Option<Extension<PeerInfo>>,
    ) -> Self {
        Signed {
            method: method.as_str().to_owned(),
            // With its query, if any: the signature covers `@path` only, so a query is refused.
            path: uri
                .path_and_query()
                .map(|p| p.as_str().to_owned())
                .unwrap_or_else(|| uri.path().to_owned()),
            headers,
            body: body.0,
            peer: super::peer(peer),
        }
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    fn request(&self) -> DeviceRequest<'_> {
        DeviceRequest {
            method: &self.method,
            path: &self.path,
            body: &self.body,
            content_digest: self.header(inkseal_httpsig::CONTENT_DIGEST_HEADER),
            signature_input: self.header(inkseal_httpsig::SIGNATURE_INPUT_HEADER),
            signature: self.header(inkseal_httpsig::SIGNATURE_HEADER),
            address: self.peer.ip(),
        }
    }
}

/// Rate-limit by address, authenticate the device, rate-limit by key, then run `f` on a
/// blocking thread.
async fn device_call<T: Serialize + Send + 'static>(
    app: App,
    key_id: String,
    signed: Signed,
    class: Class,
    status: StatusCode,
    f: impl FnOnce(&App, &KeyRecord, &Caller, &[u8]) -> Result<T, ServiceError> + Send + 'static,
) -> Result<Response, ServiceError> {
    // Evidence uploads were counted by the middleware that guards their bodies.
    if class != Class::Evidence {
        app.limiter.check_address(class, signed.peer.ip())?;
    }
    let value = blocking(move || {
        let (key, caller) = app
            .service
            .device_auth()
            .authenticate(&key_id, &signed.request())?;
        app.limiter.check_key(class, &key.key_id)?;
        f(&app, &key, &caller, &signed.body)
    })
    .await?;
    Ok((status, Json(value)).into_response())
}

/// One enrollment trip: the signature's form and time first; then the body, which names the
/// ticket and (through `device_key`) the device key the signature must verify under; then
/// `run` for the authenticated caller.
async fn enrollment_call<Req, Resp>(
    app: App,
    signed: Signed,
    status: StatusCode,
    device_key: impl FnOnce(&App, &Req) -> Result<(String, Vec<u8>), ServiceError> + Send + 'static,
    run: impl FnOnce(&App, &Req, &Caller) -> Result<Resp, ServiceError> + Send + 'static,
) -> Result<Response, ServiceError>
where
    Req: serde::de::DeserializeOwned,
    Resp: Serialize + Send + 'static,
{
    app.limiter.check_address(Class::Enroll, signed.peer.ip())?;
    let resp = blocking(move || {
        app.service.device_auth().parse_fresh(&signed.request())?;
        let req: Req = decode(&signed.body)?;
        let (ticket_id, device_key) = device_key(&app, &req)?;
        let caller = app.service.device_auth().authenticate_enrollment(
            &ticket_id,
            &device_key,
            &signed.request(),
        )?;
        run(&app, &req, &caller)
    })
    .await?;
    Ok((status, Json(resp)).into_response())
}

/// The device key an enrollment registers, from its body.
fn registered_key(
    ticket: &inkseal_cosign::api::EnrollmentTicket,
    key: &inkseal_cosign::api::DeviceKeyRegistration,
) -> Result<(String, Vec<u8>), ServiceError> {
    let spki = key.public_key_spki().map_err(ServiceError::BadRequest)?;
    Ok((ticket.id().to_owned(), spki))
}

pub(super) async fn enroll(
    State(app): State<App>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    peer: Option<Extension<PeerInfo>>,
    body: Body,
) -> Result<Response, ServiceError> {
    enrollment_call(
        app,
        Signed::new(method, uri, headers, body, peer),
        StatusCode::CREATED,
        |_, req: &EnrollRequest| registered_key(&req.ticket, &req.device_key),
        |app, req, caller| app.service.enrollment().enroll(req, caller),
    )
    .await
}

/// `POST /v1/enroll/p256`: trip 1 of a P-256 enrollment, authenticated like `/v1/enroll`.
pub(super) async fn enroll_p256(
    State(app): State<App>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    peer: Option<Extension<PeerInfo>>,
    body: Body,
) -> Result<Response, ServiceError> {
    enrollment_call(
        app,
        Signed::new(method, uri, headers, body, peer),
        StatusCode::OK,
        |_, req: &P256EnrollRequest| registered_key(&req.ticket, &req.device_key),
        |app, req, caller| app.service.p256().enroll_start(req, caller),
    )
    .await
}

/// `POST /v1/enroll/p256/finish`: trip 2, signed by the device key trip 1 registered.
pub(super) async fn enroll_p256_finish(
    State(app): State<App>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    peer: Option<Extension<PeerInfo>>,
    body: Body,
) -> Result<Response, ServiceError> {
    enrollment_call(
        app,
        Signed::new(method, uri, headers, body, peer),
        StatusCode::CREATED,
        |app, req: &P256EnrollFinishRequest| {
            let ticket_id = req.ticket.id().to_owned();
            match app.service.p256().pending_device_key(&ticket_id)? {
                Some(device_key) => Ok((ticket_id, device_key)),
                None => Err(ServiceError::SessionRefused(
                    "no P-256 key generation is pending for this ticket (expired, finished, or \
                     never started): start the enrollment again"
                        .into(),
                )),
            }
        },
        |app, req, caller| app.service.p256().enroll_finish(req, caller),
    )
    .await
}

/// `POST /v1/keys/{key_id}/p256/sign/{sign_id}/finish`: trip 2 of a P-256 co-signature.
pub(super) async fn sign_p256_finish(
    State(app): State<App>,
    Path((key_id, sign_id)): Path<(String, String)>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    peer: Option<Extension<PeerInfo>>,
    body: Body,
) -> Result<Response, ServiceError> {
    let signed = Signed::new(method, uri, headers, body, peer);
    device_call(
        app,
        key_id,
        signed,
        Class::Sign,
        StatusCode::OK,
        move |app: &App, key: &KeyRecord, caller: &Caller, body: &[u8]| {
            let req: P256SignFinishRequest = decode(body)?;
            app.service.p256().sign_finish(key, &sign_id, &req, caller)
        },
    )
    .await
}

macro_rules! device_route {
    ($name:ident, $class:expr, $status:expr, |$app:ident, $key:ident, $caller:ident, $body:ident| $run:expr) => {
        pub(super) async fn $name(
            State(app): State<App>,
            Path(key_id): Path<String>,
            method: Method,
            uri: Uri,
            headers: HeaderMap,
            peer: Option<Extension<PeerInfo>>,
            body: Body,
        ) -> Result<Response, ServiceError> {
            let signed = Signed::new(method, uri, headers, body, peer);
            device_call(
                app,
                key_id,
                signed,
                $class,
                $status,
                |$app: &App, $key: &KeyRecord, $caller: &Caller, $body: &[u8]| $run,
            )
            .await
        }
    };
}

device_route!(
    status,
    Class::DeviceRead,
    StatusCode::OK,
    |app, key, _caller, _body| { Ok(app.service.signing().status(key)) }
);

device_route!(
    certificate,
    Class::DeviceRead,
    StatusCode::OK,
    |app, key, _caller, _body| { app.service.signing().certificate(key) }
);

device_route!(
    certify,
    Class::Sign,
    StatusCode::OK,
    |app, key, caller, body| {
        let req: CertificateRequest = decode(body)?;
        app.service.signing().certify(key, &req, caller)
    }
);

device_route!(
    sign,
    Class::Sign,
    StatusCode::OK,
    |app, key, caller, body| {
        let req: CosignRequest = decode(body)?;
        app.service.signing().sign(key, &req, caller)
    }
);

device_route!(
    sign_p256,
    Class::Sign,
    StatusCode::OK,
    |app, key, caller, body| {
        let req: P256SignRequest = decode(body)?;
        app.service.p256().sign_start(key, &req, caller)
    }
);

device_route!(
    decrypt,
    Class::Sign,
    StatusCode::OK,
    |app, key, caller, body| {
        let req: DecryptApiRequest = decode(body)?;
        app.service.decrypting().decrypt(key, &req, caller)
    }
);

device_route!(
    change_pin,
    Class::Sign,
    StatusCode::OK,
    |app, key, caller, body| {
        let req: PinChangeRequest = decode(body)?;
        app.service.lifecycle().change_pin(key, &req, caller)?;
        Ok(serde_json::json!({ "changed": true }))
    }
);

device_route!(
    revoke,
    Class::Sign,
    StatusCode::OK,
    |app, key, caller, body| {
        let req: RevokeRequest = decode(body)?;
        app.service.lifecycle().revoke_by_user(key, &req, caller)?;
        Ok(serde_json::json!({ "revoked": true }))
    }
);

device_route!(
    challenge,
    Class::Challenge,
    StatusCode::CREATED,
    |app, key, caller, _body| { app.service.liveness().issue_challenge(key, caller) }
);

device_route!(
    evidence,
    Class::Evidence,
    StatusCode::OK,
    |app, key, caller, body| {
        let submission = EvidenceSubmission::from_json(body)
            .map_err(|e| ServiceError::BadRequest(format!("evidence: {e}")))?;
        app.service
            .liveness()
            .submit_evidence(key, &submission, caller)
    }
);
