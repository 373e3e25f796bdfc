//! What a co-signing request signs, as bytes the server can read.
//!
//! The server no longer co-signs a bare digest: the request carries the message itself (small
//! by construction: the DER signed attributes of a CMS signature, a certification request's
//! to-be-signed part, or a short raw message), so the server computes `e = SM3(Z_A || M)`
//! itself, records which document was signed, and can hold the signature to the document that
//! the liveness evidence named.
//!
//! An attached CMS signature over a transaction also carries its content (the transaction's
//! DER, at most [`MAX_SIGNED_MESSAGE_BYTES`]), so the server reads what is approved rather
//! than a digest of it.

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
    /// The DER `SET OF Attribute` of an attached CMS SignedData over a transaction, with the
    /// transaction's DER as the message's content: the server checks that the message-digest
    /// attribute is the SM3 of the content, decodes the transaction, and audits what it names.
    /// The document is the message-digest.
    CmsAttachedTransaction,
    /// The DER `SET OF Attribute` of an attached CMS SignedData over a login assertion, with
    /// the assertion's DER as the message's content: the server checks the message-digest,
    /// decodes the assertion, co-signs only for a login challenge it issued that is unexpired,
    /// unused and matches (relying party, nonce, validity), and audits `login_signed`. The
    /// document is the message-digest.
    CmsAttachedLogin,
}

impl MessageKind {
    /// The stable name (as in JSON and the audit log).
    pub fn as_str(self) -> &'static str {
        match self {
            MessageKind::CmsSignedAttributes => "cms_signed_attributes",
            MessageKind::CertificationRequest => "certification_request",
            MessageKind::Raw => "raw",
            MessageKind::CmsAttachedTransaction => "cms_attached_transaction",
            MessageKind::CmsAttachedLogin => "cms_attached_login",
        }
    }

    /// Whether messages of this kind carry the content they sign (the attached kinds).
    pub fn carries_content(self) -> bool {
        match self {
            MessageKind::CmsAttachedTransaction | MessageKind::CmsAttachedLogin => true,
            MessageKind::CmsSignedAttributes
            | MessageKind::CertificationRequest
            | MessageKind::Raw => false,
        }
    }
}

/// A message to be co-signed: its kind and bytes (at most [`MAX_SIGNED_MESSAGE_BYTES`]), and
/// for the attached kinds only, the content the bytes sign (as large at
/// most).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "WireMessage", into = "WireMessage")]
pub struct SignedMessage {
    kind: MessageKind,
    bytes: Vec<u8>,
    content: Option<Vec<u8>>,
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
    /// Content given for a kind that carries none, or missing, empty or oversized for one
    /// that does.
    #[error("content is for cms_attached_transaction and cms_attached_login only, 1 to 8192 bytes")]
    Content,
}

impl SignedMessage {
    /// A message of `kind`, refusing an empty or oversized one, and the kind that needs
    /// content ([`SignedMessage::with_content`]).
    pub fn new(kind: MessageKind, bytes: Vec<u8>) -> Result<Self, MessageError> {
        Self::checked(kind, bytes, None)
    }

    /// A message of `kind` with the content it signs (only the attached kinds,
    /// [`MessageKind::carries_content`], take content).
    pub fn with_content(
        kind: MessageKind,
        bytes: Vec<u8>,
        content: Vec<u8>,
    ) -> Result<Self, MessageError> {
        Self::checked(kind, bytes, Some(content))
    }

    fn checked(
        kind: MessageKind,
        bytes: Vec<u8>,
        content: Option<Vec<u8>>,
    ) -> Result<Self, MessageError> {
        if bytes.is_empty() || bytes.len() > MAX_SIGNED_MESSAGE_BYTES {
            return Err(MessageError::Size(bytes.len()));
        }
        let wants_content = kind.carries_content();
        match &content {
            Some(c) if wants_content && !c.is_empty() && c.len() <= MAX_SIGNED_MESSAGE_BYTES => {}
            None if !wants_content => {}
            _ => return Err(MessageError::Content),
        }
        Ok(SignedMessage {
            kind,
            bytes,
            content,
        })
    }

    /// How to read it.
    pub fn kind(&self) -> MessageKind {
        self.kind
    }

    /// Its bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The content the bytes sign, for the attached kinds.
    pub fn content(&self) -> Option<&[u8]> {
        self.content.as_deref()
    }
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct WireMessage {
    kind: MessageKind,
    data_hex: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    content_hex: Option<String>,
}

impl TryFrom<WireMessage> for SignedMessage {
    type Error = MessageError;
    fn try_from(w: WireMessage) -> Result<Self, MessageError> {
        if w.data_hex.len() > 2 * MAX_SIGNED_MESSAGE_BYTES {
            return Err(MessageError::Size(w.data_hex.len() / 2));
        }
        let content = match &w.content_hex {
            Some(h) if h.len() > 2 * MAX_SIGNED_MESSAGE_BYTES => {
                return Err(MessageError::Content);
            }
            Some(h) => Some(hex::decode(h).map_err(|_| MessageError::Hex)?),
            None => None,
        };
        SignedMessage::checked(
            w.kind,
            hex::decode(&w.data_hex).map_err(|_| MessageError::Hex)?,
            content,
        )
    }
}

impl From<SignedMessage> for WireMessage {
    fn from(m: SignedMessage) -> Self {
        WireMessage {
            kind: m.kind,
            data_hex: hex::encode(m.bytes),
            content_hex: m.content.map(hex::encode),
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

    #[test]
    fn only_attached_transactions_carry_content() {
        let kind = MessageKind::CmsAttachedTransaction;
        let m = SignedMessage::with_content(kind, vec![0x31], vec![0x30, 0]).expect("ok");
        assert_eq!(m.content(), Some(&[0x30, 0][..]));
        let json = serde_json::to_string(&m).expect("json");
        assert_eq!(
            json,
            r#"{"kind":"cms_attached_transaction","data_hex":"31","content_hex":"3000"}"#
        );
        assert_eq!(
            serde_json::from_str::<SignedMessage>(&json).expect("back"),
            m
        );
        assert_eq!(
            SignedMessage::new(kind, vec![0x31]),
            Err(MessageError::Content)
        );
        assert_eq!(
            SignedMessage::with_content(kind, vec![0x31], vec![]),
            Err(MessageError::Content)
        );
        assert_eq!(
            SignedMessage::with_content(kind, vec![0x31], vec![0; MAX_SIGNED_MESSAGE_BYTES + 1]),
            Err(MessageError::Content)
        );
        assert_eq!(
            SignedMessage::with_content(MessageKind::Raw, vec![1], vec![1]),
            Err(MessageError::Content)
        );
        let login = MessageKind::CmsAttachedLogin;
        let m = SignedMessage::with_content(login, vec![0x31], vec![0x30, 0]).expect("ok");
        assert_eq!(
            serde_json::to_string(&m).expect("json"),
            r#"{"kind":"cms_attached_login","data_hex":"31","content_hex":"3000"}"#
        );
        assert_eq!(
            SignedMessage::new(login, vec![0x31]),
            Err(MessageError::Content)
        );
        assert!(
            serde_json::from_str::<SignedMessage>(
                r#"{"kind":"raw","data_hex":"00","content_hex":"00"}"#
            )
            .is_err()
        );
        assert!(
            serde_json::from_str::<SignedMessage>(
                r#"{"kind":"cms_attached_transaction","data_hex":"00"}"#
            )
            .is_err()
        );
    }
}
