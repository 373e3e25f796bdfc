//! Shared fixtures: a deterministic device key and a typical request.
#![allow(dead_code)]

use inkseal_httpsig::{
    ParsedSignature, RequestTarget, SignatureParams, SignedHeaders, sign_request,
};
use p256::ecdsa::SigningKey;

pub const METHOD: &str = "POST";
pub const PATH: &str = "/v1/keys/k-01/sign";
pub const BODY: &[u8] = br#"{"idempotency_key":"abc","pin":"123456"}"#;
pub const CREATED: u64 = 1_700_000_000;
pub const NONCE: &str = "bm9uY2Utbm9uY2Utbm9uY2U";
pub const KEYID: &str = "device:k-01.v1";

/// A fixed P-256 device key (scalar `seed` repeated 32 times; any value in 1..n works).
pub fn device_key(seed: u8) -> SigningKey {
    SigningKey::from_slice(&[seed; 32]).expect("a valid P-256 scalar")
}

pub fn target() -> RequestTarget<'static> {
    RequestTarget::new(METHOD, PATH, BODY).expect("a valid target")
}

pub fn params() -> SignatureParams {
    SignatureParams::new(KEYID, CREATED, NONCE).expect("valid params")
}

/// The typical request signed by `device_key(7)`.
pub fn signed() -> SignedHeaders {
    sign_request(&target(), &params(), &device_key(7)).expect("signing succeeds")
}

pub fn parse(h: &SignedHeaders) -> Result<ParsedSignature, inkseal_httpsig::HttpSigError> {
    ParsedSignature::parse(
        Some(&h.content_digest),
        Some(&h.signature_input),
        Some(&h.signature),
    )
}
