//! HTTP API bodies as the server and the client decode them.
#![no_main]

use inkseal_cosign::api::{
    CertificateRequest, CertificateResponse, CosignRequest, CosignResponse, EnrollRequest,
    EnrollResponse, ErrorBody, KeyStatus,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = serde_json::from_slice::<EnrollRequest>(data);
    let _ = serde_json::from_slice::<EnrollResponse>(data);
    let _ = serde_json::from_slice::<CosignRequest>(data);
    let _ = serde_json::from_slice::<CosignResponse>(data);
    let _ = serde_json::from_slice::<CertificateRequest>(data);
    let _ = serde_json::from_slice::<CertificateResponse>(data);
    let _ = serde_json::from_slice::<KeyStatus>(data);
    let _ = serde_json::from_slice::<ErrorBody>(data);
});
