//! HTTP API bodies as the server and the client decode them.
#![no_main]

use inkseal_cosign::api::{
    CertificateRequest, CertificateResponse, CosignRequest, CosignResponse, EnrollRequest,
    EnrollResponse, EnrollmentTicket, ErrorBody, KeyStatus, PinChangeRequest, PinPolicy,
    RevokeRequest,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(req) = serde_json::from_slice::<EnrollRequest>(data) {
        let _ = req.device_key.public_key_spki();
        if let Some(a) = &req.device_key.attestation {
            let _ = a.parts();
        }
        let _ = PinPolicy::default().check(&req.pin);
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = EnrollmentTicket::parse(text);
        let _ = inkseal_cosign::api::valid_user_id(text);
    }
    let _ = serde_json::from_slice::<PinChangeRequest>(data);
    let _ = serde_json::from_slice::<RevokeRequest>(data);
    let _ = serde_json::from_slice::<EnrollResponse>(data);
    let _ = serde_json::from_slice::<CosignRequest>(data);
    let _ = serde_json::from_slice::<CosignResponse>(data);
    let _ = serde_json::from_slice::<CertificateRequest>(data);
    let _ = serde_json::from_slice::<CertificateResponse>(data);
    let _ = serde_json::from_slice::<KeyStatus>(data);
    let _ = serde_json::from_slice::<ErrorBody>(data);
});
