//! The server's error type and its mapping to HTTP answers.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use inkseal_cosign::api::{ErrorBody, ErrorCode};

/// Why a request failed. Messages never contain secrets.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// Malformed request.
    #[error("{0}")]
    BadRequest(String),
    /// The body is not JSON (`Content-Type` is not `application/json`).
    #[error("the body must be application/json")]
    UnsupportedMediaType,
    /// The body is larger than the route accepts.
    #[error("the body is larger than {0} bytes")]
    TooLarge(usize),
    /// No valid device signature or operator credential (unknown keys answer alike).
    #[error("{0}")]
    Unauthenticated(String),
    /// The device's request time is outside the server's window.
    #[error("the device clock is too far from the server's; set it and retry")]
    ClockSkew {
        /// The server's clock, unix seconds.
        server_time_unix: u64,
    },
    /// The operator credential lacks the route's role.
    #[error("{0}")]
    Forbidden(String),
    /// The enrollment ticket is unknown, used or expired.
    #[error("{0}")]
    TicketInvalid(String),
    /// Wrong PIN.
    #[error("wrong PIN; {attempts_left} attempt(s) left before the key locks")]
    WrongPin {
        /// Tries left.
        attempts_left: u32,
    },
    /// A new PIN breaks the PIN policy.
    #[error("PIN refused: {0}")]
    PinRejected(String),
    /// Locked key.
    #[error("the key is locked after too many wrong PINs; the institution must unlock it")]
    Locked,
    /// Revoked key.
    #[error("the key is revoked and never signs again; enroll anew")]
    Revoked,
    /// Unknown key (operator routes; device routes answer `Unauthenticated`).
    #[error("no such key")]
    UnknownKey,
    /// Something else the route names does not exist.
    #[error("{0}")]
    NotFound(String),
    /// Identity already used.
    #[error("{0}")]
    Conflict(String),
    /// A two-party P-256 signing session (or key generation) is unknown, expired, used, or
    /// its id was used before; or the request names a key of the other curve (audited).
    #[error("{0}")]
    SessionRefused(String),
    /// Too many requests.
    #[error("too many requests: {why}; retry in {retry_after_secs} s")]
    RateLimited {
        /// Seconds to wait.
        retry_after_secs: u64,
        /// Which limit.
        why: String,
    },
    /// Refused by policy.
    #[error("{0}")]
    PolicyRefused(String),
    /// The key's policy needs a fresh passed liveness result bound to the request.
    #[error("{0}")]
    EvidenceRequired(String),
    /// The liveness challenge is unknown, used or expired.
    #[error("{0}")]
    ChallengeInvalid(String),
    /// The sealing service refused (unknown or disabled seal, wrong algorithm, bad hash,
    /// batch too large, invalid credit code).
    #[error(transparent)]
    Seal(#[from] SealRefusal),
    /// A request to co-sign a transaction was refused: the content is not a transaction, or
    /// the signed attributes do not name it (audited).
    #[error("the transaction is refused: {0}")]
    TransactionRefused(#[from] inkseal_pdf::cms::attached::TransactionRequestError),
    /// A login assertion was refused, at co-signing or at verification (audited).
    #[error("the login is refused: {0}")]
    LoginRefused(#[from] LoginRefusal),
    /// The key's purpose does not allow the request (audited): a signing key asked to decrypt,
    /// an encryption key asked to co-sign anything but its own certificate request.
    #[error("{0}")]
    WrongKeyPurpose(String),
    /// Internal failure (details are logged, not returned).
    #[error("internal error")]
    Internal(String),
}

/// Why a login assertion was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LoginRefusal {
    /// The co-signing request's content is not a login assertion, or its signed attributes do
    /// not name it.
    #[error(transparent)]
    Request(#[from] inkseal_pdf::cms::attached::LoginRequestError),
    /// No challenge with the assertion's id was issued (or it was purged).
    #[error("unknown login challenge")]
    UnknownChallenge,
    /// The challenge expired.
    #[error("the login challenge expired")]
    ChallengeExpired,
    /// The challenge was already consumed by a verification: a replay (`login_replayed`).
    #[error("the login challenge was already used")]
    ChallengeUsed,
    /// The assertion's relying party, nonce or validity is not the challenge's.
    #[error("the assertion's {0} is not the challenge's")]
    ChallengeMismatch(&'static str),
    /// The assertion does not verify (signature, chain, revocation, relying party, expiry).
    #[error(transparent)]
    Verify(#[from] inkseal_pdf::cms::attached::LoginVerifyError),
}

/// Why the sealing service refused a request (each has its own [`ErrorCode`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SealRefusal {
    /// No seal has this id.
    #[error("no such seal")]
    UnknownSeal,
    /// The seal is disabled.
    #[error("the seal is disabled and signs nothing more")]
    Disabled,
    /// The request's hash or signature algorithm is not the seal's.
    #[error(
        "the seal signs with hash {expected_hash} and signature {expected_sign}; the request \
         names {found_hash} and {found_sign}"
    )]
    AlgorithmMismatch {
        /// The seal's hash algorithm OID.
        expected_hash: &'static str,
        /// The seal's signature algorithm OID.
        expected_sign: &'static str,
        /// The request's hash algorithm OID.
        found_hash: String,
        /// The request's signature algorithm OID.
        found_sign: String,
    },
    /// Hash `index` (0-based) is not base64 of 32 bytes.
    #[error("hash {index} is not base64 of a 32-byte digest")]
    BadHash {
        /// Which.
        index: usize,
    },
    /// More hashes than one call takes.
    #[error("{found} hashes in one call; at most {max}")]
    BatchTooLarge {
        /// The limit.
        max: usize,
        /// How many came.
        found: usize,
    },
    /// The unified social credit code is invalid.
    #[error("unified social credit code: {0}")]
    InvalidCreditCode(#[from] inkseal_pki::CreditCodeError),
    /// The key's purpose is not the request's: a seal (signing key) asked to open an envelope,
    /// or an encryption key asked to sign.
    #[error("this is {is}; {wanted}")]
    WrongKeyPurpose {
        /// What the key is.
        is: &'static str,
        /// What the request needs.
        wanted: &'static str,
    },
    /// The envelope given to an encryption key released nothing (not addressed to it,
    /// malformed, altered, or an algorithm it does not open).
    #[error("envelope refused: {0}; nothing was decrypted")]
    EnvelopeRefused(String),
}

impl ServiceError {
    /// The machine-readable code and HTTP status.
    pub fn code(&self) -> (ErrorCode, StatusCode) {
        match self {
            ServiceError::BadRequest(_) => (ErrorCode::BadRequest, StatusCode::BAD_REQUEST),
            ServiceError::UnsupportedMediaType => (
                ErrorCode::UnsupportedMediaType,
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ),
            ServiceError::TooLarge(_) => (ErrorCode::TooLarge, StatusCode::PAYLOAD_TOO_LARGE),
            ServiceError::Unauthenticated(_) => {
                (ErrorCode::Unauthenticated, StatusCode::UNAUTHORIZED)
            }
            ServiceError::ClockSkew { .. } => (ErrorCode::ClockSkew, StatusCode::UNAUTHORIZED),
            ServiceError::Forbidden(_) => (ErrorCode::Forbidden, StatusCode::FORBIDDEN),
            ServiceError::TicketInvalid(_) => (ErrorCode::TicketInvalid, StatusCode::FORBIDDEN),
            ServiceError::WrongPin { .. } => (ErrorCode::WrongPin, StatusCode::FORBIDDEN),
            ServiceError::PinRejected(_) => {
                (ErrorCode::PinRejected, StatusCode::UNPROCESSABLE_ENTITY)
            }
            ServiceError::Locked => (ErrorCode::Locked, StatusCode::LOCKED),
            ServiceError::Revoked => (ErrorCode::Revoked, StatusCode::GONE),
            ServiceError::UnknownKey => (ErrorCode::UnknownKey, StatusCode::NOT_FOUND),
            ServiceError::NotFound(_) => (ErrorCode::NotFound, StatusCode::NOT_FOUND),
            ServiceError::Conflict(_) => (ErrorCode::Conflict, StatusCode::CONFLICT),
            ServiceError::SessionRefused(_) => (ErrorCode::SessionRefused, StatusCode::CONFLICT),
            ServiceError::RateLimited { .. } => {
                (ErrorCode::RateLimited, StatusCode::TOO_MANY_REQUESTS)
            }
            ServiceError::PolicyRefused(_) => (ErrorCode::PolicyRefused, StatusCode::FORBIDDEN),
            ServiceError::EvidenceRequired(_) => {
                (ErrorCode::EvidenceRequired, StatusCode::FORBIDDEN)
            }
            ServiceError::ChallengeInvalid(_) => (ErrorCode::ChallengeInvalid, StatusCode::GONE),
            ServiceError::TransactionRefused(_) => (
                ErrorCode::TransactionRefused,
                StatusCode::UNPROCESSABLE_ENTITY,
            ),
            ServiceError::LoginRefused(LoginRefusal::ChallengeUsed) => {
                (ErrorCode::LoginReplayed, StatusCode::CONFLICT)
            }
            ServiceError::LoginRefused(
                LoginRefusal::Request(_)
                | LoginRefusal::UnknownChallenge
                | LoginRefusal::ChallengeExpired
                | LoginRefusal::ChallengeMismatch(_)
                | LoginRefusal::Verify(_),
            ) => (ErrorCode::LoginRefused, StatusCode::UNPROCESSABLE_ENTITY),
            ServiceError::Seal(refusal) => match refusal {
                SealRefusal::UnknownSeal => (ErrorCode::UnknownSeal, StatusCode::NOT_FOUND),
                SealRefusal::Disabled => (ErrorCode::SealDisabled, StatusCode::GONE),
                SealRefusal::AlgorithmMismatch { .. } => (
                    ErrorCode::AlgorithmMismatch,
                    StatusCode::UNPROCESSABLE_ENTITY,
                ),
                SealRefusal::BadHash { .. } => (ErrorCode::BadHash, StatusCode::BAD_REQUEST),
                SealRefusal::BatchTooLarge { .. } => {
                    (ErrorCode::BatchTooLarge, StatusCode::PAYLOAD_TOO_LARGE)
                }
                SealRefusal::InvalidCreditCode(_) => (
                    ErrorCode::InvalidCreditCode,
                    StatusCode::UNPROCESSABLE_ENTITY,
                ),
                SealRefusal::WrongKeyPurpose { .. } => {
                    (ErrorCode::WrongKeyPurpose, StatusCode::FORBIDDEN)
                }
                SealRefusal::EnvelopeRefused(_) => {
                    (ErrorCode::EnvelopeRefused, StatusCode::UNPROCESSABLE_ENTITY)
                }
            },
            ServiceError::WrongKeyPurpose(_) => (ErrorCode::WrongKeyPurpose, StatusCode::FORBIDDEN),
            ServiceError::Internal(_) => (ErrorCode::Internal, StatusCode::INTERNAL_SERVER_ERROR),
        }
    }

    /// The JSON body.
    pub fn body(&self) -> ErrorBody {
        let mut body = ErrorBody::new(self.code().0, self.to_string());
        match self {
            ServiceError::WrongPin { attempts_left } => body.attempts_left = Some(*attempts_left),
            ServiceError::RateLimited {
                retry_after_secs, ..
            } => body.retry_after_secs = Some(*retry_after_secs),
            ServiceError::ClockSkew { server_time_unix } => {
                body.server_time_unix = Some(*server_time_unix)
            }
            _ => {}
        }
        body
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
        let mut response = (self.code().1, axum::Json(self.body())).into_response();
        if let ServiceError::RateLimited {
            retry_after_secs, ..
        } = &self
        {
            if let Ok(v) = HeaderValue::from_str(&retry_after_secs.to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, v);
            }
        }
        response
    }
}
