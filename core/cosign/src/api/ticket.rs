//! Enrollment tickets: the one-time credential an institution hands a user's phone.
//!
//! The institution's backend asks the server for a ticket after its own identity checks
//! (`POST /v1/admin/tickets`); the phone presents it once, at enrollment. Its text form is
//! `et-<32 hex id>.<64 hex secret>`: the id is public (it binds the key-generation proofs and
//! names the ticket in the audit log), the secret is known only to the holder; the server
//! keeps its SHA-256.

use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

const PREFIX: &str = "et-";
const ID_HEX: usize = 32;
const SECRET_HEX: usize = 64;

/// Why a ticket's text does not parse.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("an enrollment ticket looks like et-<32 hex digits>.<64 hex digits>")]
pub struct TicketError;

/// A parsed enrollment ticket. `Debug` hides the secret; the secret is wiped on drop.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct EnrollmentTicket {
    id: String,
    secret: Zeroizing<[u8; 32]>,
}

impl EnrollmentTicket {
    /// A ticket from its random parts (the server draws them).
    pub fn from_parts(id: [u8; 16], secret: [u8; 32]) -> Self {
        EnrollmentTicket {
            id: format!("{PREFIX}{}", hex::encode(id)),
            secret: Zeroizing::new(secret),
        }
    }

    /// The public id (`et-` and 32 hex digits): the key-generation `enrollment_id`, the
    /// device key's first `keyid`, and the Android attestation challenge.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The secret half.
    pub fn secret(&self) -> &[u8; 32] {
        &self.secret
    }

    /// The text form to hand to the phone (QR code, deep link, the app's own session).
    pub fn to_token(&self) -> Zeroizing<String> {
        Zeroizing::new(format!("{}.{}", self.id, hex::encode(*self.secret)))
    }

    /// Parse the text form.
    pub fn parse(token: &str) -> Result<Self, TicketError> {
        let (id, secret_hex) = token.split_once('.').ok_or(TicketError)?;
        let id_hex = id.strip_prefix(PREFIX).ok_or(TicketError)?;
        let lower_hex = |s: &str| {
            s.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        };
        if id_hex.len() != ID_HEX
            || secret_hex.len() != SECRET_HEX
            || !lower_hex(id_hex)
            || !lower_hex(secret_hex)
        {
            return Err(TicketError);
        }
        let mut secret = Zeroizing::new([0u8; 32]);
        hex::decode_to_slice(secret_hex, secret.as_mut_slice()).map_err(|_| TicketError)?;
        Ok(EnrollmentTicket {
            id: id.to_owned(),
            secret,
        })
    }
}

impl std::fmt::Debug for EnrollmentTicket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "EnrollmentTicket({}.***)", self.id)
    }
}

impl TryFrom<String> for EnrollmentTicket {
    type Error = TicketError;
    fn try_from(s: String) -> Result<Self, TicketError> {
        let s = Zeroizing::new(s);
        EnrollmentTicket::parse(&s)
    }
}

impl From<EnrollmentTicket> for String {
    fn from(t: EnrollmentTicket) -> String {
        t.to_token().to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tickets_round_trip_and_hide_their_secret() {
        let t = EnrollmentTicket::from_parts([0xab; 16], [0x5c; 32]);
        assert_eq!(t.id(), format!("et-{}", "ab".repeat(16)));
        let token = t.to_token();
        assert_eq!(EnrollmentTicket::parse(&token), Ok(t.clone()));
        assert!(!format!("{t:?}").contains("5c5c"));
        let json = serde_json::to_string(&t).expect("json");
        assert_eq!(json, format!("\"{}\"", token.as_str()));
        let back: EnrollmentTicket = serde_json::from_str(&json).expect("parse");
        assert_eq!(back.secret(), &[0x5c; 32]);
    }

    #[test]
    fn malformed_tickets_are_refused() {
        let good = EnrollmentTicket::from_parts([1; 16], [2; 32]).to_token();
        let cases = [
            String::new(),
            good.replace('.', ""),
            good.replacen("et-", "xx-", 1),
            good.to_uppercase(),
            format!("{}0", good.as_str()),
            good[..good.len() - 1].to_string(),
            good.replacen("01", "0g", 1),
        ];
        for bad in cases {
            assert_eq!(EnrollmentTicket::parse(&bad), Err(TicketError), "{bad}");
        }
        assert!(serde_json::from_str::<EnrollmentTicket>("\"et-1.2\"").is_err());
    }
}
