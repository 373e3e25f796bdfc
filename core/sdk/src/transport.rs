//! How requests reach the co-signing server. The default is reqwest (rustls, optional
//! certificate pinning); an app can replace it with its own HTTP stack (OkHttp with its
//! interceptors, URLSession with its proxy and MDM settings, a corporate gateway) by giving the
//! client a [`Transport`].

use std::time::Duration;

/// One request to the server, always to a URL under the configured base: JSON, or (for a
/// signature time-stamp) a DER `application/timestamp-query` to `/v1/tsa`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpRequest {
    /// `GET` or `POST`.
    pub method: String,
    /// The whole URL.
    pub url: String,
    /// Headers to send exactly as given (`Content-Type`, and the device signature:
    /// `Content-Digest`, `Signature-Input`, `Signature`). A transport must not drop or change
    /// them, and must not add a body encoding the signature does not cover.
    pub headers: Vec<(String, String)>,
    /// The body (`POST` only): JSON, or a DER time-stamp query.
    pub body: Option<Vec<u8>>,
    /// How long the whole exchange may take.
    pub timeout: Duration,
}

/// The server's answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpResponse {
    /// HTTP status code.
    pub status: u16,
    /// The body (JSON, or a DER time-stamp reply), at most [`MAX_RESPONSE_BYTES`] are read by
    /// the client.
    pub body: Vec<u8>,
}

/// Largest response body the client accepts.
pub const MAX_RESPONSE_BYTES: usize = 1024 * 1024;

/// Why a transport could not deliver a request.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TransportError {
    /// The server could not be reached or did not answer in time; the client retries the
    /// same request (same idempotency key) a few times.
    #[error("server unreachable: {0}")]
    Unreachable(String),
    /// Anything else; not retried.
    #[error("transport failed: {0}")]
    Failed(String),
}

/// An HTTP stack the app provides. Called on a blocking thread: a synchronous call is fine.
pub trait Transport: Send + Sync {
    /// Sends `request` and returns the status and body, whatever the status.
    fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError>;
}
