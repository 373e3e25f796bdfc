//! What a co-signing request signs, as bytes the server can read.
//!
//! The server no longer co-signs a bare digest: the request carries the message itself (small
//! by construction: the DER signed attributes of a CMS signature, a certification request's
//! to-be-signed part, or a short raw message), so the server computes `e = SM3(Z_A || M)`
//! itself, records which document was signed, and can hold the signature to the document that
//! the liveness evidence named.

use serde::{Deserialize, Serialize};

/// Largest message a co-signing request may carry, in bytes (the signed attributes of a PAdES
/// signature are a few hundred bytes; a CSR's to-be-signed part about 300).
pub const MAX_SIGNED_MESSAGE_BYTES: usize = 8 * 1024;

/// How the server reads the message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageKind {
    /// The DER `SET OF Attribute` of a CMS SignerInfo (PAdES, CAdES): the document is the
    /// message-digest attribute.
    CmsSignedAttributes,
    /// The DER CertificationRequestInfo of a PKCS#10 request for this key.
    CertificationRequest,
    /// Any other short message; the document is its SM3 digest.
    Raw,
}

impl MessageKind {
    /// The stable name (as in JSON and the audit log).
    pub fn as_str(self) -> &'static str {
        match self {
            MessageKind::CmsSignedAttributes => "cms_signed_attributes",
            MessageKind::CertificationRequest => "certification_request",
            MessageKind::Raw => "raw",
        }
    }
}

/// A message to be co-signed: its kind and bytes (at most [`MAX_SIGNED_MESSAGE_BYTES`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "WireMessage", into = "WireMessage")]
pub struct SignedMessage {
    kind: MessageKind,
    bytes: Vec<u8>,
}

/// Why a message cannot be carried.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum MessageError {
    /// Empty or larger than [`MAX_SIGNED_MESSAGE_BYTES`].
    #[error("a signed message has 1 to {MAX_SIGNED_MESSAGE_BYTES} bytes, this one {0}")]
    Size(usize),
    /// Not hex.
    #[error("message data is not hex")]
    Hex,
}

impl SignedMessage {
    /// A message of `kind`, refusing an empty or oversized one.
    pub fn new(kind: MessageKind, bytes: Vec<u8>) -> Result<Self, MessageError> {
        if bytes.is_empty() || bytes.len() > MAX_SIGNED_MESSAGE_BYTES {
            return Err(MessageError::Size(bytes.len()));
        }
        Ok(SignedMessage { kind, bytes })
    }

    /// How to read it.
    pub fn kind(&self) -> MessageKind {
        self.kind
    }

    /// Its bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct WireMessage {
    kind: MessageKind,
    data_hex: String,
}

impl TryFrom<WireMessage> for SignedMessage {
    type Error = MessageError;
    fn try_from(w: WireMessage) -> Result<Self, MessageError> {
        if w.data_hex.len() > 2 * MAX_SIGNED_MESSAGE_BYTES {
            return Err(MessageError::Size(w.data_hex.len() / 2));
        }
        SignedMessage::new(
            w.kind,
            hex::decode(&w.data_hex).map_err(|_| MessageError::Hex)?,
        )
    }
}

impl From<SignedMessage> for WireMessage {
    fn from(m: SignedMessage) -> Self {
        WireMessage {
            kind: m.kind,
            data_hex: hex::encode(m.bytes),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_parse_on_the_wire_and_are_bounded() {
        let m = SignedMessage::new(MessageKind::Raw, b"hello".to_vec()).expect("ok");
        let json = serde_json::to_string(&m).expect("json");
        assert_eq!(json, r#"{"kind":"raw","data_hex":"68656c6c6f"}"#);
        assert_eq!(
            serde_json::from_str::<SignedMessage>(&json).expect("back"),
            m
        );
        assert_eq!(
            SignedMessage::new(MessageKind::Raw, vec![]),
            Err(MessageError::Size(0))
        );
        let big = vec![0u8; MAX_SIGNED_MESSAGE_BYTES + 1];
        assert!(SignedMessage::new(MessageKind::Raw, big).is_err());
        let huge = format!(
            r#"{{"kind":"raw","data_hex":"{}"}}"#,
            "00".repeat(MAX_SIGNED_MESSAGE_BYTES + 1)
        );
        assert!(serde_json::from_str::<SignedMessage>(&huge).is_err());
        assert!(
            serde_json::from_str::<SignedMessage>(r#"{"kind":"raw","data_hex":"zz"}"#).is_err()
        );
        assert!(
            serde_json::from_str::<SignedMessage>(r#"{"kind":"pdf","data_hex":"00"}"#).is_err()
        );
    }
}
