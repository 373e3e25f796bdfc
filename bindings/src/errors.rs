//! The one error the bindings throw, and the error foreign hooks return.
//!
//! [`InksealError`] is [`inkseal_sdk::SdkError`] seen from the app: every variant says what the
//! app should do. None of them carries a secret: the SDK's messages never contain PINs or
//! shares (ARCHITECTURE.md, invariant 3), and the bindings add only paths and names.

use inkseal_sdk::{RecoveryAction, SdkError};

/// What went wrong, phrased as what the app should do about it.
///
/// Kotlin sees it as the sealed class `InksealException`, Swift as the enum `InksealError`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, uniffi::Error)]
pub enum InksealError {
    /// The PIN was wrong: ask again. The key locks when `attempts_left` reaches zero.
    #[error("wrong PIN ({attempts_left} attempt(s) left)")]
    WrongPin {
        /// Tries left before the key locks.
        attempts_left: u32,
    },
    /// The new PIN breaks the server's PIN policy (too short, one repeated digit, a straight
    /// run such as 123456): ask for another; `detail` names the rule.
    #[error("PIN refused: {detail}")]
    PinRejected {
        /// The rule.
        detail: String,
    },
    /// The key is locked after too many wrong PINs: the user must be verified again
    /// (unlocked by the institution) or enroll anew.
    #[error("the key is locked")]
    Locked,
    /// The key is revoked and never signs again: enroll anew.
    #[error("the key is revoked")]
    Revoked,
    /// This device holds no share for the key: enroll again.
    #[error("unknown key: {detail}")]
    UnknownKey {
        /// Which key, and where it is missing.
        detail: String,
    },
    /// The server does not accept this device's signature for the key (the device key was
    /// lost or replaced, or the key removed): enroll again.
    #[error("this device is not recognised for the key: {detail}")]
    Unauthenticated {
        /// The server's words.
        detail: String,
    },
    /// The device clock is too far from the server's: ask the user to set the clock
    /// (automatic time), then retry.
    #[error("the device clock is off (server time {server_time_unix})")]
    ClockSkew {
        /// The server's clock, Unix seconds.
        server_time_unix: u64,
    },
    /// The enrollment ticket is unknown, already used or expired: ask the institution for a
    /// new one.
    #[error("enrollment ticket refused: {detail}")]
    TicketInvalid {
        /// Why.
        detail: String,
    },
    /// Too many requests: wait `retry_after_secs`, then retry.
    #[error("too many requests; retry in {retry_after_secs} s")]
    RateLimited {
        /// Seconds to wait.
        retry_after_secs: u64,
    },
    /// The server could not be reached or did not answer in time: retry later.
    #[error("network error: {detail}")]
    Network {
        /// What failed.
        detail: String,
    },
    /// The server answered something that fails the protocol's checks. Nothing was signed:
    /// report it, do not retry blindly.
    #[error("the server misbehaved: {detail}")]
    ServerMisbehaved {
        /// Which check failed.
        detail: String,
    },
    /// The server refused the request (policy, conflict, internal error): show `detail`.
    #[error("refused: {detail}")]
    Refused {
        /// The server's reason.
        detail: String,
    },
    /// The key's policy requires fresh evidence (a passed liveness check) bound to this
    /// signature: run the capture flow, then sign again.
    #[error("evidence required: {detail}")]
    EvidenceRequired {
        /// What is missing.
        detail: String,
    },
    /// A capture failed a check (photo too dark, card expired, liveness not passed, challenge
    /// expired...): show `reason` and do what `action` says.
    #[error("capture rejected: {reason}")]
    CaptureRejected {
        /// What was wrong, in words.
        reason: String,
        /// What to do next.
        action: CaptureAction,
    },
    /// The handwritten signature breaks a quality rule (empty, too short, too small...): ask
    /// the signer to write again.
    #[error("handwriting rejected: {reason}")]
    HandwritingRejected {
        /// The rule that failed, in words.
        reason: String,
    },
    /// The app passed something invalid (PIN format, URL, placement, key, path...): fix the call.
    #[error("invalid input: {detail}")]
    InvalidInput {
        /// What was invalid.
        detail: String,
    },
    /// The document cannot be signed or verified (malformed, encrypted, keyword not found, no
    /// room...): `detail` says why.
    #[error("bad document: {detail}")]
    BadDocument {
        /// Why.
        detail: String,
    },
    /// Local storage failed: the share store (including the app's `SecureBlobStore` and the
    /// platform key), or writing the output file.
    #[error("storage: {detail}")]
    Storage {
        /// What failed.
        detail: String,
    },
    /// A hook the app implements (a `ProgressListener`, a `Logger`) threw: the operation was
    /// abandoned. `detail` is the exception as the hook's language printed it.
    #[error("an app hook failed: {detail}")]
    Hook {
        /// The exception.
        detail: String,
    },
    /// A hook of the app asked to stop (a `ProgressListener` threw `HookError.Cancelled`, e.g.
    /// because the user pressed "cancel"): nothing was written. Cancelling the Kotlin coroutine
    /// instead drops the call and throws the platform's `CancellationException`.
    #[error("cancelled")]
    Cancelled,
}

/// What the app should do after a rejected capture.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum CaptureAction {
    /// Take the face capture again (blur, light, distance, liveness not passed).
    RetakeFace,
    /// Photograph the ID card again (blur, light, or a field misread).
    RetakeIdCard,
    /// The card itself is not acceptable (expired, not yet valid): use another document.
    UseValidIdCard,
    /// Start again with a new challenge (the old one expired or was used).
    NewChallenge,
    /// Record the intent statement again.
    RerecordIntent,
    /// Try again later (a transient failure).
    Retry,
}

impl From<RecoveryAction> for CaptureAction {
    fn from(a: RecoveryAction) -> Self {
        match a {
            RecoveryAction::RetakeFace => CaptureAction::RetakeFace,
            RecoveryAction::RetakeIdCard => CaptureAction::RetakeIdCard,
            RecoveryAction::UseValidIdCard => CaptureAction::UseValidIdCard,
            RecoveryAction::NewChallenge => CaptureAction::NewChallenge,
            RecoveryAction::RerecordIntent => CaptureAction::RerecordIntent,
            // The SDK turns these two into `Cancelled` and `InvalidInput` before they reach
            // a `CaptureRejected`; should one arrive, retrying is the safe advice.
            RecoveryAction::Retry | RecoveryAction::None | RecoveryAction::Abort => {
                CaptureAction::Retry
            }
        }
    }
}

impl From<SdkError> for InksealError {
    /// Every SDK error has its own meaning here: no catch-all arm, so a new `SdkError`
    /// variant fails to compile until it is mapped.
    fn from(e: SdkError) -> Self {
        match e {
            SdkError::WrongPin { attempts_left } => InksealError::WrongPin { attempts_left },
            SdkError::PinRejected(detail) => InksealError::PinRejected { detail },
            SdkError::Locked => InksealError::Locked,
            SdkError::Revoked => InksealError::Revoked,
            SdkError::UnknownKey(detail) => InksealError::UnknownKey { detail },
            SdkError::Unauthenticated(detail) => InksealError::Unauthenticated { detail },
            SdkError::ClockSkew { server_time_unix } => {
                InksealError::ClockSkew { server_time_unix }
            }
            SdkError::TicketInvalid(detail) => InksealError::TicketInvalid { detail },
            SdkError::RateLimited { retry_after_secs } => {
                InksealError::RateLimited { retry_after_secs }
            }
            SdkError::Network(detail) => InksealError::Network { detail },
            SdkError::ServerMisbehaved(detail) => InksealError::ServerMisbehaved { detail },
            SdkError::Refused(detail) => InksealError::Refused { detail },
            SdkError::EvidenceRequired(detail) => InksealError::EvidenceRequired { detail },
            SdkError::CaptureRejected { reason, action } => InksealError::CaptureRejected {
                reason,
                action: action.into(),
            },
            SdkError::InvalidInput(detail) => InksealError::InvalidInput { detail },
            SdkError::BadDocument(detail) => InksealError::BadDocument { detail },
            SdkError::HandwritingRejected(reason) => InksealError::HandwritingRejected { reason },
            SdkError::Storage(detail) => InksealError::Storage { detail },
            SdkError::Cancelled => InksealError::Cancelled,
        }
    }
}

/// The error an app's hook (`SecureBlobStore`, `ProgressListener`, `Logger`) reports.
///
/// A hook may throw it on purpose (`HookException.Failed` in Kotlin); any other exception
/// thrown by a hook arrives as [`HookError::Unexpected`] instead of crashing the process.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, uniffi::Error)]
pub enum HookError {
    /// The hook failed and says why.
    #[error("{reason}")]
    Failed {
        /// Why, in words (no secrets).
        reason: String,
    },
    /// The hook threw an exception of another type.
    #[error("unexpected exception: {reason}")]
    Unexpected {
        /// The exception as its language printed it.
        reason: String,
    },
    /// The hook asks to stop the operation (a progress listener whose user pressed "cancel"):
    /// the call fails with `InksealError.Cancelled`.
    #[error("cancelled by the app")]
    Cancelled,
}

impl From<uniffi::UnexpectedUniFFICallbackError> for HookError {
    fn from(e: uniffi::UnexpectedUniFFICallbackError) -> Self {
        // Kotlin hands over the whole stack trace: its first line names the exception.
        let first_line = e.reason.lines().next().unwrap_or_default().trim();
        HookError::Unexpected {
            reason: first_line.to_owned(),
        }
    }
}

impl From<HookError> for InksealError {
    fn from(e: HookError) -> Self {
        match e {
            HookError::Cancelled => InksealError::Cancelled,
            e @ (HookError::Failed { .. } | HookError::Unexpected { .. }) => InksealError::Hook {
                detail: e.to_string(),
            },
        }
    }
}

/// A poisoned lock (a panic while it was held, which the bindings never cause on purpose)
/// becomes an error instead of a panic across the FFI.
pub(crate) fn poisoned(what: &str) -> InksealError {
    InksealError::Storage {
        detail: format!("{what} is unusable after an earlier failure"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_sdk_error_keeps_its_meaning() {
        let cases = [
            (
                SdkError::WrongPin { attempts_left: 3 },
                InksealError::WrongPin { attempts_left: 3 },
            ),
            (SdkError::Locked, InksealError::Locked),
            (
                SdkError::UnknownKey("k".into()),
                InksealError::UnknownKey { detail: "k".into() },
            ),
            (
                SdkError::Network("n".into()),
                InksealError::Network { detail: "n".into() },
            ),
            (
                SdkError::ServerMisbehaved("m".into()),
                InksealError::ServerMisbehaved { detail: "m".into() },
            ),
            (
                SdkError::Refused("r".into()),
                InksealError::Refused { detail: "r".into() },
            ),
            (
                SdkError::EvidenceRequired("e".into()),
                InksealError::EvidenceRequired { detail: "e".into() },
            ),
            (
                SdkError::CaptureRejected {
                    reason: "c".into(),
                    action: RecoveryAction::RetakeIdCard,
                },
                InksealError::CaptureRejected {
                    reason: "c".into(),
                    action: CaptureAction::RetakeIdCard,
                },
            ),
            (
                SdkError::PinRejected("p".into()),
                InksealError::PinRejected { detail: "p".into() },
            ),
            (SdkError::Revoked, InksealError::Revoked),
            (
                SdkError::Unauthenticated("u".into()),
                InksealError::Unauthenticated { detail: "u".into() },
            ),
            (
                SdkError::ClockSkew {
                    server_time_unix: 7,
                },
                InksealError::ClockSkew {
                    server_time_unix: 7,
                },
            ),
            (
                SdkError::TicketInvalid("t".into()),
                InksealError::TicketInvalid { detail: "t".into() },
            ),
            (
                SdkError::RateLimited {
                    retry_after_secs: 9,
                },
                InksealError::RateLimited {
                    retry_after_secs: 9,
                },
            ),
            (SdkError::Cancelled, InksealError::Cancelled),
            (
                SdkError::InvalidInput("i".into()),
                InksealError::InvalidInput { detail: "i".into() },
            ),
            (
                SdkError::BadDocument("b".into()),
                InksealError::BadDocument { detail: "b".into() },
            ),
            (
                SdkError::HandwritingRejected("h".into()),
                InksealError::HandwritingRejected { reason: "h".into() },
            ),
            (
                SdkError::Storage("s".into()),
                InksealError::Storage { detail: "s".into() },
            ),
        ];
        for (sdk, expected) in cases {
            assert_eq!(InksealError::from(sdk), expected);
        }
    }

    #[test]
    fn a_foreign_exception_becomes_a_hook_error() {
        let unexpected = uniffi::UnexpectedUniFFICallbackError::new(
            "java.io.IOException: disk\n\tat Store.put(Store.kt:3)\n",
        );
        let hook = HookError::from(unexpected);
        assert_eq!(
            hook,
            HookError::Unexpected {
                reason: "java.io.IOException: disk".into()
            }
        );
        let err = InksealError::from(hook);
        assert!(matches!(&err, InksealError::Hook { detail } if detail.contains("disk")));
        assert_eq!(
            InksealError::from(HookError::Cancelled),
            InksealError::Cancelled
        );
    }
}
