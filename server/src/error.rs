//! The server's error type and its mapping to HTTP answers.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use inkseal_cosign::api::{ErrorBody, ErrorCode};

/// Why a request failed. Messages never contain secrets.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// Malformed request.
    #[error("{0}")]
    BadRequest(String),
    /// Wrong PIN.
    #[error("wrong PIN; {attempts_left} attempt(s) left before the key locks")]
    WrongPin {
        /// Tries left.
        attempts_left: u32,
    },
    /// Locked key.
    #[error("the key is locked after too many wrong PINs")]
    Locked,
    /// Unknown key.
    #[error("no such key")]
    UnknownKey,
    /// Identity already used.
    #[error("{0}")]
    Conflict(String),
    /// Refused by policy.
    #[error("{0}")]
    PolicyRefused(String),
    /// The key's policy needs a fresh passed liveness result bound to the request.
    #[error("{0}")]
    EvidenceRequired(String),
    /// The liveness challenge is unknown, used or expired.
    #[error("{0}")]
    ChallengeInvalid(String),
    /// Internal failure (details are logged, not returned).
    #[error("internal error")]
    Internal(String),
}

impl ServiceError {
    /// The machine-readable code and HTTP status.
    pub fn code(&self) -> (ErrorCode, StatusCode) {
        match self {
            ServiceError::BadRequest(_) => (ErrorCode::BadRequest, StatusCode::BAD_REQUEST),
            ServiceError::WrongPin { .. } => (ErrorCode::WrongPin, StatusCode::UNAUTHORIZED),
            ServiceError::Locked => (ErrorCode::Locked, StatusCode::LOCKED),
            ServiceError::UnknownKey => (ErrorCode::UnknownKey, StatusCode::NOT_FOUND),
            ServiceError::Conflict(_) => (ErrorCode::Conflict, StatusCode::CONFLICT),
            ServiceError::PolicyRefused(_) => (ErrorCode::PolicyRefused, StatusCode::FORBIDDEN),
            ServiceError::EvidenceRequired(_) => {
                (ErrorCode::EvidenceRequired, StatusCode::FORBIDDEN)
            }
            ServiceError::ChallengeInvalid(_) => (ErrorCode::ChallengeInvalid, StatusCode::GONE),
            ServiceError::Internal(_) => (ErrorCode::Internal, StatusCode::INTERNAL_SERVER_ERROR),
        }
    }

    /// The JSON body.
    pub fn body(&self) -> ErrorBody {
        ErrorBody {
            code: self.code().0,
            message: self.to_string(),
            attempts_left: match self {
                ServiceError::WrongPin { attempts_left } => Some(*attempts_left),
                _ => None,
            },
        }
    }
}

impl From<crate::store::StoreError> for ServiceError {
    fn from(e: crate::store::StoreError) -> Self {
        ServiceError::Internal(format!("store: {e}"))
    }
}

impl From<crate::vault::VaultError> for ServiceError {
    fn from(e: crate::vault::VaultError) -> Self {
        ServiceError::Internal(format!("vault: {e}"))
    }
}

impl IntoResponse for ServiceError {
    fn into_response(self) -> Response {
        if let ServiceError::Internal(detail) = &self {
            tracing::error!(%detail, "request failed");
        }
        (self.code().1, axum::Json(self.body())).into_response()
    }
}
