//! A certificate login assertion: the canonical DER that an attached CMS SignedData carries as
//! its eContent (issue 17, certificate login).
//!
//! ```text
//! LoginAssertion ::= SEQUENCE {
//!   type         OBJECT IDENTIFIER,          -- id-inkseal-login
//!   relyingParty UTF8String (SIZE(1..128)),  -- the institution's id
//!   challengeId  OCTET STRING (SIZE(16)),
//!   nonce        OCTET STRING (SIZE(32)),
//!   issuedAt     GeneralizedTime,            -- UTC, whole seconds, "Z"
//!   expiresAt    GeneralizedTime,            -- after issuedAt, at most an hour later
//!   channel  [0] IMPLICIT OCTET STRING (SIZE(1..64)) OPTIONAL } -- app id hash, TLS exporter
//! ```
//!
//! The relying party refuses control and bidirectional formatting characters (as a
//! transaction's text fields do). [`LoginAssertion`] is a checked type: [`LoginAssertion::new`]
//! and [`LoginAssertion::from_der`] refuse anything outside the limits above, and
//! [`LoginAssertion::to_der`] is the one encoding. The parser of outside bytes is strict: at
//! most [`MAX_LOGIN_ASSERTION_BYTES`], DER only (it re-encodes and compares), no trailing
//! bytes, the type id-inkseal-login.

use der::asn1::{GeneralizedTime, ObjectIdentifier, OctetString};
use der::{Decode, Encode, Sequence};
use std::time::Duration;
use thiserror::Error;

/// id-inkseal-login: the `type` of a [`LoginAssertion`] (`.17.2` under the project's arc; a
/// transaction is `.17.1`).
pub const ID_INKSEAL_LOGIN: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.3.6.1.4.1.32473.17.2");

/// Largest DER login assertion [`LoginAssertion::from_der`] reads.
pub const MAX_LOGIN_ASSERTION_BYTES: usize = 1024;
/// Longest relying party id, in characters.
pub const MAX_RELYING_PARTY_CHARS: usize = 128;
/// Length of a challenge id, in bytes.
pub const CHALLENGE_ID_BYTES: usize = 16;
/// Length of a nonce, in bytes.
pub const NONCE_BYTES: usize = 32;
/// Longest channel binding, in bytes.
pub const MAX_CHANNEL_BYTES: usize = 64;
/// Longest lifetime of an assertion (`expiresAt - issuedAt`), in seconds.
pub const MAX_LOGIN_LIFETIME_SECS: u64 = 3600;

/// Why a login assertion is refused.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum LoginAssertionError {
    /// The encoding is larger than [`MAX_LOGIN_ASSERTION_BYTES`].
    #[error("a login assertion is at most {limit} bytes, this one {size}")]
    TooLarge {
        /// Size of the input in bytes.
        size: usize,
        /// The limit in bytes.
        limit: usize,
    },
    /// The bytes are not a DER `LoginAssertion`.
    #[error("not a DER login assertion: {0}")]
    Malformed(String),
    /// The bytes decode but are not the canonical (DER) encoding of what they say.
    #[error("the login assertion is not canonical DER")]
    NotCanonical,
    /// The `type` is another content's (a transaction, say), not id-inkseal-login.
    #[error("content type {0} is not a login assertion ({ID_INKSEAL_LOGIN})")]
    NotALogin(String),
    /// A field is empty, too long, or holds characters that would hide what is shown.
    #[error("{field}: {why}")]
    Field {
        /// Which field.
        field: &'static str,
        /// What is wrong with it.
        why: String,
    },
    /// The times cannot be written, or `expiresAt` is not after `issuedAt`, or more than
    /// [`MAX_LOGIN_LIFETIME_SECS`] after it.
    #[error("validity: {0}")]
    Time(String),
}

/// A login assertion (see the module documentation).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginAssertion {
    relying_party: String,
    challenge_id: [u8; CHALLENGE_ID_BYTES],
    nonce: [u8; NONCE_BYTES],
    issued_unix: u64,
    expires_unix: u64,
    channel: Option<Vec<u8>>,
}

impl LoginAssertion {
    /// An assertion, checking every field.
    pub fn new(
        relying_party: impl Into<String>,
        challenge_id: [u8; CHALLENGE_ID_BYTES],
        nonce: [u8; NONCE_BYTES],
        issued_unix: u64,
        expires_unix: u64,
        channel: Option<Vec<u8>>,
    ) -> Result<Self, LoginAssertionError> {
        let assertion = LoginAssertion {
            relying_party: relying_party.into(),
            challenge_id,
            nonce,
            issued_unix,
            expires_unix,
            channel,
        };
        assertion.check()?;
        Ok(assertion)
    }

    fn check(&self) -> Result<(), LoginAssertionError> {
        check_relying_party(&self.relying_party)?;
        if let Some(channel) = &self.channel {
            if channel.is_empty() || channel.len() > MAX_CHANNEL_BYTES {
                return Err(LoginAssertionError::Field {
                    field: "channel",
                    why: format!(
                        "must be 1 to {MAX_CHANNEL_BYTES} bytes, is {}",
                        channel.len()
                    ),
                });
            }
        }
        if self.expires_unix <= self.issued_unix {
            return Err(LoginAssertionError::Time(
                "expiresAt is not after issuedAt".into(),
            ));
        }
        if self.expires_unix - self.issued_unix > MAX_LOGIN_LIFETIME_SECS {
            return Err(LoginAssertionError::Time(format!(
                "lives longer than {MAX_LOGIN_LIFETIME_SECS} s"
            )));
        }
        time(self.issued_unix)?;
        time(self.expires_unix)?;
        Ok(())
    }

    /// The relying party (the institution's id) the assertion is for.
    pub fn relying_party(&self) -> &str {
        &self.relying_party
    }

    /// The challenge it answers.
    pub fn challenge_id(&self) -> &[u8; CHALLENGE_ID_BYTES] {
        &self.challenge_id
    }

    /// The challenge's nonce.
    pub fn nonce(&self) -> &[u8; NONCE_BYTES] {
        &self.nonce
    }

    /// When the challenge was issued, Unix seconds.
    pub fn issued_unix(&self) -> u64 {
        self.issued_unix
    }

    /// When the challenge expires, Unix seconds.
    pub fn expires_unix(&self) -> u64 {
        self.expires_unix
    }

    /// The channel binding, if any.
    pub fn channel(&self) -> Option<&[u8]> {
        self.channel.as_deref()
    }

    /// The canonical DER encoding.
    pub fn to_der(&self) -> Result<Vec<u8>, LoginAssertionError> {
        let octets = |what: &'static str, bytes: &[u8]| {
            OctetString::new(bytes)
                .map_err(|e| LoginAssertionError::Malformed(format!("{what}: {e}")))
        };
        let wire = WireLogin {
            content_type: ID_INKSEAL_LOGIN,
            relying_party: self.relying_party.clone(),
            challenge_id: octets("challengeId", &self.challenge_id)?,
            nonce: octets("nonce", &self.nonce)?,
            issued_at: time(self.issued_unix)?,
            expires_at: time(self.expires_unix)?,
            channel: match &self.channel {
                Some(c) => Some(octets("channel", c)?),
                None => None,
            },
        };
        wire.to_der()
            .map_err(|e| LoginAssertionError::Malformed(format!("encoding: {e}")))
    }

    /// Read an assertion from outside bytes (see the module documentation for what is
    /// refused).
    pub fn from_der(der: &[u8]) -> Result<Self, LoginAssertionError> {
        if der.len() > MAX_LOGIN_ASSERTION_BYTES {
            return Err(LoginAssertionError::TooLarge {
                size: der.len(),
                limit: MAX_LOGIN_ASSERTION_BYTES,
            });
        }
        let wire =
            WireLogin::from_der(der).map_err(|e| LoginAssertionError::Malformed(e.to_string()))?;
        if wire.content_type != ID_INKSEAL_LOGIN {
            return Err(LoginAssertionError::NotALogin(
                wire.content_type.to_string(),
            ));
        }
        let assertion = LoginAssertion {
            relying_party: wire.relying_party,
            challenge_id: fixed("challengeId", &wire.challenge_id)?,
            nonce: fixed("nonce", &wire.nonce)?,
            issued_unix: wire.issued_at.to_unix_duration().as_secs(),
            expires_unix: wire.expires_at.to_unix_duration().as_secs(),
            channel: wire.channel.map(|c| c.as_bytes().to_vec()),
        };
        assertion.check()?;
        if assertion.to_der()? != der {
            return Err(LoginAssertionError::NotCanonical);
        }
        Ok(assertion)
    }
}

/// An OCTET STRING of exactly `N` bytes.
fn fixed<const N: usize>(
    field: &'static str,
    o: &OctetString,
) -> Result<[u8; N], LoginAssertionError> {
    o.as_bytes()
        .try_into()
        .map_err(|_| LoginAssertionError::Field {
            field,
            why: format!("must be {N} bytes, is {}", o.as_bytes().len()),
        })
}

fn time(unix: u64) -> Result<GeneralizedTime, LoginAssertionError> {
    GeneralizedTime::from_unix_duration(Duration::from_secs(unix))
        .map_err(|e| LoginAssertionError::Time(e.to_string()))
}

/// A relying party id: 1 to [`MAX_RELYING_PARTY_CHARS`] characters, no control or
/// bidirectional formatting characters.
pub fn check_relying_party(value: &str) -> Result<(), LoginAssertionError> {
    let chars = value.chars().count();
    if chars == 0 || chars > MAX_RELYING_PARTY_CHARS {
        return Err(LoginAssertionError::Field {
            field: "relying party",
            why: format!("must be 1 to {MAX_RELYING_PARTY_CHARS} characters, is {chars}"),
        });
    }
    if let Some(c) = value
        .chars()
        .find(|c| c.is_control() || super::transaction::is_bidi_control(*c))
    {
        return Err(LoginAssertionError::Field {
            field: "relying party",
            why: format!("holds the control character U+{:04X}", u32::from(c)),
        });
    }
    Ok(())
}

#[derive(Sequence)]
struct WireLogin {
    content_type: ObjectIdentifier,
    relying_party: String,
    challenge_id: OctetString,
    nonce: OctetString,
    issued_at: GeneralizedTime,
    expires_at: GeneralizedTime,
    #[asn1(context_specific = "0", tag_mode = "IMPLICIT", optional = "true")]
    channel: Option<OctetString>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(channel: Option<Vec<u8>>) -> LoginAssertion {
        LoginAssertion::new(
            "bank.example",
            [7; 16],
            [9; 32],
            1_780_000_000,
            1_780_000_300,
            channel,
        )
        .expect("assertion")
    }

    fn sequence(contents: &[u8]) -> Vec<u8> {
        der::asn1::AnyRef::new(der::Tag::Sequence, contents)
            .and_then(|a| a.to_der())
            .expect("sequence")
    }

    #[test]
    fn round_trips() {
        for channel in [None, Some(vec![1, 2, 3])] {
            let a = sample(channel.clone());
            let der = a.to_der().expect("der");
            let back = LoginAssertion::from_der(&der).expect("parse");
            assert_eq!(back, a);
            assert_eq!(back.channel(), channel.as_deref());
            assert_eq!(back.relying_party(), "bank.example");
            assert_eq!(back.expires_unix() - back.issued_unix(), 300);
            let oid = ID_INKSEAL_LOGIN.to_der().expect("oid");
            assert_eq!(&der[2..2 + oid.len()], &oid[..]);
            assert!(der.windows(15).any(|w| w == b"20260528202640Z"));
        }
    }

    #[test]
    fn constructor_refuses_out_of_range_fields() {
        let make = |rp: &str, issued: u64, expires: u64, channel: Option<Vec<u8>>| {
            LoginAssertion::new(rp, [0; 16], [0; 32], issued, expires, channel)
        };
        assert!(matches!(
            make("", 1, 2, None),
            Err(LoginAssertionError::Field { .. })
        ));
        assert!(make(&"r".repeat(128), 1, 2, None).is_ok());
        assert!(make(&"r".repeat(129), 1, 2, None).is_err());
        assert!(make("bank\u{202E}", 1, 2, None).is_err());
        assert!(make("bank\n", 1, 2, None).is_err());
        assert!(matches!(
            make("b", 2, 2, None),
            Err(LoginAssertionError::Time(_))
        ));
        assert!(matches!(
            make("b", 0, 3601, None),
            Err(LoginAssertionError::Time(_))
        ));
        assert!(make("b", 0, 3600, None).is_ok());
        assert!(make("b", 1, 2, Some(vec![])).is_err());
        assert!(make("b", 1, 2, Some(vec![0; 65])).is_err());
        assert!(make("b", 253_402_300_700, 253_402_300_900, None).is_err());
    }

    #[test]
    fn parser_refuses_foreign_and_non_canonical_encodings() {
        let der = sample(None).to_der().expect("der");
        assert!(der.len() < 128);
        let body = &der[2..];
        // A long-form length (BER).
        let mut long = vec![0x30, 0x81, der[1]];
        long.extend_from_slice(body);
        assert!(LoginAssertion::from_der(&long).is_err());
        // Trailing and truncated.
        let mut trailing = der.clone();
        trailing.push(0);
        assert!(LoginAssertion::from_der(&trailing).is_err());
        assert!(LoginAssertion::from_der(&der[..der.len() - 1]).is_err());
        // The transaction type.
        let tx = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.32473.17.1")
            .to_der()
            .expect("oid");
        let mut foreign = der.clone();
        foreign[2..2 + tx.len()].copy_from_slice(&tx);
        assert_eq!(
            LoginAssertion::from_der(&foreign),
            Err(LoginAssertionError::NotALogin(
                "1.3.6.1.4.1.32473.17.1".into()
            ))
        );
        // A 15-byte challenge id.
        let oid_len = tx.len();
        let rp_len = 2 + "bank.example".len();
        let at = 2 + oid_len + rp_len;
        assert_eq!(&der[at..at + 2], &[0x04, 16]);
        let mut contents = der[2..at].to_vec();
        contents.extend_from_slice(&[0x04, 15]);
        contents.extend_from_slice(&[7; 15]);
        contents.extend_from_slice(&der[at + 18..]);
        assert!(matches!(
            LoginAssertion::from_der(&sequence(&contents)),
            Err(LoginAssertionError::Field {
                field: "challengeId",
                ..
            })
        ));
        // A time with fractions.
        let time = b"20260528202640Z";
        let pos = der.windows(15).position(|w| w == time).expect("time");
        let mut contents = der[2..pos - 2].to_vec();
        contents.extend_from_slice(&[0x18, 17]);
        contents.extend_from_slice(b"20260528202640.5Z");
        contents.extend_from_slice(&der[pos + 15..]);
        assert!(LoginAssertion::from_der(&sequence(&contents)).is_err());
        // Too large, before decoding; not DER.
        assert!(matches!(
            LoginAssertion::from_der(&vec![0x30; MAX_LOGIN_ASSERTION_BYTES + 1]),
            Err(LoginAssertionError::TooLarge { .. })
        ));
        assert!(LoginAssertion::from_der(b"login please").is_err());
        assert!(LoginAssertion::from_der(&[]).is_err());
    }
}
