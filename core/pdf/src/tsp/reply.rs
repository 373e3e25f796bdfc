//! Time-stamp replies: the TSA wraps its answer, the client checks it.

use super::asn1::{PkiStatusInfo, TimeStampResp};
use super::request::TimeStampRequest;
use super::token::TimeStampToken;
use super::{TspError, encoding, malformed};
use der::asn1::{Any, BitString, Utf8StringRef};
use der::{Decode, Encode};

/// Largest time-stamp reply (DER bytes) [`check_reply`] accepts.
pub const MAX_REPLY_BYTES: usize = 64 * 1024;

/// PKIStatus (RFC 3161 section 2.4.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PkiStatus {
    /// granted (0): a token is included.
    Granted,
    /// grantedWithMods (1): a token is included, with modifications.
    GrantedWithMods,
    /// rejection (2).
    Rejection,
    /// waiting (3).
    Waiting,
    /// revocationWarning (4).
    RevocationWarning,
    /// revocationNotification (5).
    RevocationNotification,
}

impl PkiStatus {
    fn from_u8(value: u8) -> Option<Self> {
        Some(match value {
            0 => Self::Granted,
            1 => Self::GrantedWithMods,
            2 => Self::Rejection,
            3 => Self::Waiting,
            4 => Self::RevocationWarning,
            5 => Self::RevocationNotification,
            _ => return None,
        })
    }
}

/// PKIFailureInfo bits (RFC 3161 section 2.4.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FailureInfo {
    /// badAlg (0): unrecognized or unsupported algorithm.
    BadAlg,
    /// badRequest (2): transaction not permitted or supported.
    BadRequest,
    /// badDataFormat (5): the data submitted has the wrong format.
    BadDataFormat,
    /// timeNotAvailable (14): the TSA's time source is not available.
    TimeNotAvailable,
    /// unacceptedPolicy (15): the requested policy is not supported.
    UnacceptedPolicy,
    /// unacceptedExtension (16): the requested extension is not supported.
    UnacceptedExtension,
    /// addInfoNotAvailable (17).
    AddInfoNotAvailable,
    /// systemFailure (25): the request cannot be handled due to a system failure.
    SystemFailure,
}

const FAILURE_BITS: [(FailureInfo, usize); 8] = [
    (FailureInfo::BadAlg, 0),
    (FailureInfo::BadRequest, 2),
    (FailureInfo::BadDataFormat, 5),
    (FailureInfo::TimeNotAvailable, 14),
    (FailureInfo::UnacceptedPolicy, 15),
    (FailureInfo::UnacceptedExtension, 16),
    (FailureInfo::AddInfoNotAvailable, 17),
    (FailureInfo::SystemFailure, 25),
];

impl FailureInfo {
    /// The failure a TSA reports for a request that failed to parse with `error`.
    pub fn for_request_error(error: &TspError) -> Self {
        match error {
            TspError::UnsupportedExtension => FailureInfo::UnacceptedExtension,
            TspError::Unsupported(_) => FailureInfo::BadAlg,
            TspError::PolicyMismatch => FailureInfo::UnacceptedPolicy,
            _ => FailureInfo::BadDataFormat,
        }
    }

    fn bit(self) -> usize {
        FAILURE_BITS
            .iter()
            .find(|(f, _)| *f == self)
            .map_or(25, |(_, b)| *b)
    }
}

/// A reply granting `token_der` (status granted).
pub fn granted_reply(token_der: &[u8]) -> Result<Vec<u8>, TspError> {
    let token = Any::from_der(token_der).map_err(malformed("time-stamp token"))?;
    TimeStampResp {
        status: PkiStatusInfo {
            status: 0,
            status_string: None,
            fail_info: None,
        },
        time_stamp_token: Some(token),
    }
    .to_der()
    .map_err(encoding("TimeStampResp"))
}

/// A rejection (status rejection) with `failure` and a short explanation.
pub fn rejection_reply(failure: FailureInfo, text: &str) -> Result<Vec<u8>, TspError> {
    let bit = failure.bit();
    // DER BIT STRING: as few octets as hold the highest set bit, unused trailing bits counted.
    let mut bytes = vec![0u8; bit / 8 + 1];
    bytes[bit / 8] = 0x80 >> (bit % 8);
    let unused = 7 - (bit % 8) as u8;
    let fail_info = BitString::new(unused, bytes).map_err(encoding("failInfo"))?;
    TimeStampResp {
        status: PkiStatusInfo {
            status: 2,
            status_string: Some(vec![
                Utf8StringRef::new(text).map_err(encoding("statusString"))?,
            ]),
            fail_info: Some(fail_info),
        },
        time_stamp_token: None,
    }
    .to_der()
    .map_err(encoding("TimeStampResp"))
}

/// Check a TSA's DER reply (at most [`MAX_REPLY_BYTES`]) to `request` and return its token.
///
/// Refused: a status other than granted or grantedWithMods ([`TspError::Refused`] with the
/// failure bits and text), a granted reply without a token, a token that does not verify
/// ([`TimeStampToken::parse`]), an imprint other than the request's
/// ([`TspError::ImprintMismatch`]), a nonce other than the request's
/// ([`TspError::NonceMismatch`]), a policy other than the one requested
/// ([`TspError::PolicyMismatch`]), and a token without the TSA certificate when it was asked
/// for.
pub fn check_reply(
    request: &TimeStampRequest,
    reply_der: &[u8],
) -> Result<TimeStampToken, TspError> {
    if reply_der.len() > MAX_REPLY_BYTES {
        return Err(TspError::TooLarge {
            size: reply_der.len(),
            limit: MAX_REPLY_BYTES,
        });
    }
    let reply = TimeStampResp::from_der(reply_der).map_err(malformed("TimeStampResp"))?;
    let status = PkiStatus::from_u8(reply.status.status)
        .ok_or_else(|| TspError::Malformed(format!("unknown PKIStatus {}", reply.status.status)))?;
    if !matches!(status, PkiStatus::Granted | PkiStatus::GrantedWithMods) {
        let fail_info = reply
            .status
            .fail_info
            .as_ref()
            .map(|bits| {
                FAILURE_BITS
                    .iter()
                    .filter(|(_, bit)| bits.bits().nth(*bit).unwrap_or(false))
                    .map(|(f, _)| *f)
                    .collect()
            })
            .unwrap_or_default();
        let text = reply
            .status
            .status_string
            .as_ref()
            .map(|parts| {
                parts
                    .iter()
                    .map(|p| p.as_str().chars().take(200).collect::<String>())
                    .collect::<Vec<_>>()
                    .join("; ")
            })
            .unwrap_or_default();
        return Err(TspError::Refused {
            status,
            fail_info,
            text,
        });
    }
    let token_der = reply
        .time_stamp_token
        .as_ref()
        .ok_or_else(|| TspError::Malformed("a granted reply without a token".into()))?
        .to_der()
        .map_err(malformed("time-stamp token"))?;
    let token = TimeStampToken::parse(&token_der)?;
    if token.digest_suite() != request.digest_suite() || token.digest() != request.digest() {
        return Err(TspError::ImprintMismatch);
    }
    if token.nonce() != request.nonce() {
        return Err(TspError::NonceMismatch);
    }
    if request.policy().is_some_and(|p| p != token.policy()) {
        return Err(TspError::PolicyMismatch);
    }
    Ok(token)
}
