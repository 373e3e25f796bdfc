//! The typed errors of two-party P-256 co-signing.

use dkls23_core::protocols::{Abort, AbortKind, AbortReason};
use thiserror::Error;

/// Everything that can go wrong in two-party P-256 key generation or signing.
///
/// There is no catch-all variant: each names what went wrong, never a secret value.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum P256CosignError {
    /// A message (or stored state) is longer than its kind allows. Nothing was decoded.
    #[error("{what} of {len} bytes exceeds the limit of {max}")]
    TooLarge {
        /// Which message or state.
        what: &'static str,
        /// Its length.
        len: usize,
        /// The limit for it.
        max: usize,
    },
    /// A message (or stored state) could not be decoded, carries an unknown version or kind
    /// byte, has trailing bytes, or holds a value that fails our own checks (the identity point,
    /// a wrong party index, a wrong routing field).
    #[error("malformed {0}")]
    Malformed(&'static str),
    /// The message belongs to another session (another key generation or signing attempt,
    /// or another key).
    #[error("message belongs to another session")]
    SessionMismatch,
    /// The two parties computed different joint public keys. The key must not be used.
    #[error("the parties disagree on the joint public key")]
    JointKeyMismatch,
    /// The DKLs23 library aborted the protocol.
    ///
    /// `ban == true` is the library's `AbortKind::BanCounterparty`: the other party failed an
    /// OT-consistency, multiplication or gamma check. The OT correlations set up at key
    /// generation are reused by every signature, so each such failure may leak bits of the
    /// share. **This is permanent for the key**: never retry, never refresh; lock the key and
    /// generate a new one. `ban == false` is recoverable: the session is dead, but a new one
    /// (with a fresh session id) may be started by the user.
    #[error("protocol aborted ({}): {reason}", if *.ban { "counterparty banned" } else { "recoverable" })]
    Abort {
        /// Whether the library classified the failure as `BanCounterparty`.
        ban: bool,
        /// The library's reason.
        reason: AbortReason,
    },
    /// The final signature did not verify against the joint key with `p256::ecdsa`. It is not
    /// released. Repeated occurrences must be treated as an attack.
    #[error("the co-signed signature does not verify against the joint key")]
    SignatureInvalid,
    /// The random number generator failed (only the operating system's RNG can).
    #[error("random number generator failure")]
    Rng,
}

impl From<Abort> for P256CosignError {
    fn from(abort: Abort) -> Self {
        let ban = match abort.kind {
            AbortKind::BanCounterparty(_) => true,
            AbortKind::Recoverable => false,
        };
        P256CosignError::Abort {
            ban,
            reason: abort.reason,
        }
    }
}
