//! The app's own HTTP stack (OkHttp, URLSession, a corporate gateway) in place of the built-in
//! reqwest client, as a foreign trait.

use crate::errors::HookError;
use std::sync::Arc;

/// One request to the co-signing server (JSON).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct HttpRequestInfo {
    /// `GET` or `POST`.
    pub method: String,
    /// The whole URL.
    pub url: String,
    /// Headers to send exactly as given: `content-type` and the device signature
    /// (`content-digest`, `signature-input`, `signature`). Do not drop or rewrite them, and
    /// do not compress the body: the signature covers it byte for byte.
    pub headers: Vec<HttpHeader>,
    /// The JSON body (`POST` only), byte for byte.
    pub body: Option<Vec<u8>>,
    /// How long the whole exchange may take, in milliseconds.
    pub timeout_ms: u64,
}

/// One request header.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct HttpHeader {
    /// Lower-case name.
    pub name: String,
    /// Value.
    pub value: String,
}

/// The server's answer, whatever its status.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct HttpResponseInfo {
    /// HTTP status code.
    pub status: u16,
    /// The body.
    pub body: Vec<u8>,
}

/// An HTTP stack the app provides. Called on a background thread: a blocking call is fine.
/// Return the response for every status (errors included); throw when nothing came back.
/// `HookError.Failed` means "unreachable, retry" (connect failure, timeout); any other
/// exception stops the request with `InksealError.Network`.
#[uniffi::export(with_foreign)]
pub trait HttpTransport: Send + Sync {
    /// Sends `request` and returns the status and body.
    fn send(&self, request: HttpRequestInfo) -> Result<HttpResponseInfo, HookError>;
}

/// A foreign transport seen as the SDK's.
pub(crate) struct ForeignTransport(pub(crate) Arc<dyn HttpTransport>);

impl inkseal_sdk::Transport for ForeignTransport {
    fn send(
        &self,
        request: inkseal_sdk::HttpRequest,
    ) -> Result<inkseal_sdk::HttpResponse, inkseal_sdk::TransportError> {
        let info = HttpRequestInfo {
            method: request.method,
            url: request.url,
            headers: request
                .headers
                .into_iter()
                .map(|(name, value)| HttpHeader { name, value })
                .collect(),
            body: request.body,
            timeout_ms: u64::try_from(request.timeout.as_millis()).unwrap_or(u64::MAX),
        };
        match self.0.send(info) {
            Ok(r) => Ok(inkseal_sdk::HttpResponse {
                status: r.status,
                body: r.body,
            }),
            Err(HookError::Failed { reason }) => {
                Err(inkseal_sdk::TransportError::Unreachable(reason))
            }
            Err(other) => Err(inkseal_sdk::TransportError::Failed(other.to_string())),
        }
    }
}
