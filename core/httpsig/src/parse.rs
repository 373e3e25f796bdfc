//! The server's side: strict parsing of the three headers and verification.

use base64ct::{Base64, Encoding};
use p256::ecdsa::{Signature, VerifyingKey};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq as _;

use crate::params::check_created;
use crate::sign::build_base;
use crate::{
    ALGORITHM, COMPONENT_LIST, HttpSigError, LABEL, MAX_CONTENT_DIGEST_LEN, MAX_CREATED,
    MAX_SIGNATURE_INPUT_LEN, MAX_SIGNATURE_LEN, RequestTarget, SignatureParams,
};

const CONTENT_DIGEST: &str = "Content-Digest";
const SIGNATURE_INPUT: &str = "Signature-Input";
const SIGNATURE: &str = "Signature";

/// Base64 length of a SHA-256 digest (32 bytes, padded).
const DIGEST_B64_LEN: usize = 44;
/// Base64 length of a raw P-256 signature (64 bytes, padded).
const SIGNATURE_B64_LEN: usize = 88;
/// Digits of [`MAX_CREATED`].
const MAX_CREATED_DIGITS: usize = 12;
/// Longest algorithm name echoed in [`HttpSigError::UnsupportedAlgorithm`].
const MAX_ECHOED_ALG_LEN: usize = 64;

/// A request signature parsed from its three header values, ready to verify.
///
/// Parsing establishes the shape only: nothing here is authenticated until
/// [`ParsedSignature::verify`] succeeds. In particular `params().keyid()` only tells which key
/// to try.
#[derive(Debug, Clone)]
pub struct ParsedSignature {
    params: SignatureParams,
    /// The `@signature-params` text exactly as received (after `sig1=`).
    signature_params: String,
    /// The `Content-Digest` value exactly as received (canonical, since parsing is strict).
    content_digest: String,
    digest: [u8; 32],
    signature: Signature,
}

impl ParsedSignature {
    /// Parses the values of the `Content-Digest`, `Signature-Input` and `Signature` headers
    /// (`None` when absent). Each length is checked against its limit before its content; see
    /// the crate documentation for the accepted form.
    pub fn parse(
        content_digest: Option<&str>,
        signature_input: Option<&str>,
        signature: Option<&str>,
    ) -> Result<Self, HttpSigError> {
        let content_digest = present(content_digest, CONTENT_DIGEST, MAX_CONTENT_DIGEST_LEN)?;
        let signature_input = present(signature_input, SIGNATURE_INPUT, MAX_SIGNATURE_INPUT_LEN)?;
        let signature = present(signature, SIGNATURE, MAX_SIGNATURE_LEN)?;

        let digest = parse_content_digest(content_digest)?;
        let (params, signature_params) = parse_signature_input(signature_input)?;
        let signature = parse_signature(signature)?;
        Ok(Self {
            params,
            signature_params: signature_params.to_owned(),
            content_digest: content_digest.to_owned(),
            digest,
            signature,
        })
    }

    /// The parsed parameters (unauthenticated until [`ParsedSignature::verify`] succeeds).
    pub fn params(&self) -> &SignatureParams {
        &self.params
    }

    /// The `@signature-params` text exactly as received, which the signature covers.
    pub fn signature_params(&self) -> &str {
        &self.signature_params
    }

    /// Checks the body against `Content-Digest` (constant-time comparison), then the signature
    /// over the signature base rebuilt from `target` and the parameters as received, under `key`.
    ///
    /// Freshness of `created` and uniqueness of the nonce are the caller's to check.
    pub fn verify(
        &self,
        target: &RequestTarget<'_>,
        key: &VerifyingKey,
    ) -> Result<(), HttpSigError> {
        let digest: [u8; 32] = Sha256::digest(target.body()).into();
        if !bool::from(digest.ct_eq(&self.digest)) {
            return Err(HttpSigError::DigestMismatch);
        }
        let base = build_base(target, &self.content_digest, &self.signature_params);
        let point = key.to_sec1_point(false);
        ring::signature::UnparsedPublicKey::new(
            &ring::signature::ECDSA_P256_SHA256_FIXED,
            point.as_bytes(),
        )
        .verify(base.as_bytes(), &self.signature.to_bytes())
        .map_err(|_| HttpSigError::BadSignature)
    }
}

fn present<'a>(
    value: Option<&'a str>,
    header: &'static str,
    max: usize,
) -> Result<&'a str, HttpSigError> {
    let value = value.ok_or(HttpSigError::Missing(header))?;
    if value.len() > max {
        return Err(HttpSigError::TooLarge {
            header,
            len: value.len(),
            max,
        });
    }
    Ok(value)
}

fn malformed(header: &str, what: impl std::fmt::Display) -> HttpSigError {
    HttpSigError::Malformed(format!("{header}: {what}"))
}

/// `sha-256=:<44 base64 characters>:` and nothing else.
fn parse_content_digest(value: &str) -> Result<[u8; 32], HttpSigError> {
    let b64 = value
        .strip_prefix("sha-256=:")
        .and_then(|rest| rest.strip_suffix(':'))
        .ok_or_else(|| malformed(CONTENT_DIGEST, "expected exactly sha-256=:<base64>:"))?;
    if b64.contains(',') {
        return Err(malformed(
            CONTENT_DIGEST,
            "only a single sha-256 member is accepted",
        ));
    }
    if b64.len() != DIGEST_B64_LEN {
        return Err(malformed(
            CONTENT_DIGEST,
            format!("the sha-256 value must be {DIGEST_B64_LEN} base64 characters"),
        ));
    }
    let mut digest = [0u8; 32];
    match Base64::decode(b64, &mut digest) {
        Ok(decoded) if decoded.len() == 32 => Ok(digest),
        _ => Err(malformed(
            CONTENT_DIGEST,
            "the sha-256 value is not canonical base64 of 32 bytes",
        )),
    }
}

/// `sig1=:<88 base64 characters>:` decoding to a 64-byte `r || s` with `r`, `s` in `1..n`.
fn parse_signature(value: &str) -> Result<Signature, HttpSigError> {
    let b64 = strip_label(SIGNATURE, value)?
        .strip_prefix(':')
        .and_then(|rest| rest.strip_suffix(':'))
        .ok_or_else(|| malformed(SIGNATURE, "expected sig1=:<base64>:"))?;
    if b64.len() != SIGNATURE_B64_LEN {
        return Err(malformed(
            SIGNATURE,
            format!(
                "the signature must be {SIGNATURE_B64_LEN} base64 characters (64 bytes r || s)"
            ),
        ));
    }
    let mut raw = [0u8; 64];
    match Base64::decode(b64, &mut raw) {
        Ok(decoded) if decoded.len() == 64 => {}
        _ => {
            return Err(malformed(SIGNATURE, "not canonical base64 of 64 bytes"));
        }
    }
    Signature::from_slice(&raw)
        .map_err(|_| malformed(SIGNATURE, "r or s is zero or not below the group order"))
}

fn strip_label<'a>(header: &str, value: &'a str) -> Result<&'a str, HttpSigError> {
    value
        .strip_prefix(LABEL)
        .and_then(|rest| rest.strip_prefix('='))
        .ok_or_else(|| {
            malformed(
                header,
                format!("expected exactly one signature, labelled {LABEL}, with no surrounding whitespace"),
            )
        })
}

/// Returns the parameters and the `@signature-params` text (everything after `sig1=`).
fn parse_signature_input(value: &str) -> Result<(SignatureParams, &str), HttpSigError> {
    let raw = strip_label(SIGNATURE_INPUT, value)?;
    if !raw.starts_with(COMPONENT_LIST) {
        return Err(malformed(
            SIGNATURE_INPUT,
            format!("the covered components must be exactly {COMPONENT_LIST}"),
        ));
    }
    let mut cur = Cursor {
        s: value,
        pos: value.len() - raw.len() + COMPONENT_LIST.len(),
    };
    let mut created = None;
    let mut nonce = None;
    let mut keyid = None;
    let mut alg = None;
    while let Some(b) = cur.peek() {
        if b != b';' {
            let what = if b == b',' {
                "only one signature is accepted".to_owned()
            } else {
                format!("expected ';' and a parameter at byte {}", cur.pos)
            };
            return Err(malformed(SIGNATURE_INPUT, what));
        }
        cur.pos += 1;
        let key = cur.take_while(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'_' | b'-' | b'.' | b'*')
        });
        if key.is_empty() {
            return Err(malformed(
                SIGNATURE_INPUT,
                format!("expected a parameter name at byte {}", cur.pos),
            ));
        }
        let slot = match key {
            "created" => None,
            "nonce" => Some(&mut nonce),
            "keyid" => Some(&mut keyid),
            "alg" => Some(&mut alg),
            _ => {
                return Err(malformed(
                    SIGNATURE_INPUT,
                    format!("unknown signature parameter {}", truncate(key, 32)),
                ));
            }
        };
        let duplicate = match &slot {
            None => created.is_some(),
            Some(s) => s.is_some(),
        };
        if duplicate {
            return Err(malformed(
                SIGNATURE_INPUT,
                format!("duplicate parameter {key}"),
            ));
        }
        if cur.peek() != Some(b'=') {
            return Err(malformed(
                SIGNATURE_INPUT,
                format!("parameter {key} has no value"),
            ));
        }
        cur.pos += 1;
        match slot {
            None => created = Some(cur.integer(key)?),
            Some(s) => *s = Some(cur.string(key)?),
        }
    }
    let missing = |name: &str| malformed(SIGNATURE_INPUT, format!("missing parameter {name}"));
    let created = created.ok_or_else(|| missing("created"))?;
    let nonce = nonce.ok_or_else(|| missing("nonce"))?;
    let keyid = keyid.ok_or_else(|| missing("keyid"))?;
    let alg = alg.ok_or_else(|| missing("alg"))?;
    if alg != ALGORITHM {
        let echoable = alg.len() <= MAX_ECHOED_ALG_LEN
            && alg
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'));
        return Err(HttpSigError::UnsupportedAlgorithm(if echoable {
            alg.to_owned()
        } else {
            "(not an algorithm name)".to_owned()
        }));
    }
    let params = SignatureParams::new(keyid, created, nonce)?;
    Ok((params, raw))
}

fn truncate(s: &str, max: usize) -> &str {
    // Only called on ASCII text, where every index is a character boundary.
    s.get(..max.min(s.len())).unwrap_or("")
}

/// A position in a header value. Only ever advanced over ASCII bytes, so `pos` is always a
/// character boundary.
struct Cursor<'a> {
    s: &'a str,
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn peek(&self) -> Option<u8> {
        self.s.as_bytes().get(self.pos).copied()
    }

    /// Advances over bytes matching `pred` (which must accept only ASCII) and returns them.
    fn take_while(&mut self, pred: impl Fn(u8) -> bool) -> &'a str {
        let start = self.pos;
        while self.peek().is_some_and(&pred) {
            self.pos += 1;
        }
        self.s.get(start..self.pos).unwrap_or("")
    }

    /// A canonical non-negative RFC 8941 integer: digits, no leading zero, at most `MAX_CREATED`.
    fn integer(&mut self, key: &str) -> Result<u64, HttpSigError> {
        let digits = self.take_while(|b| b.is_ascii_digit());
        if digits.is_empty() {
            return Err(malformed(
                SIGNATURE_INPUT,
                format!("{key} must be a non-negative integer"),
            ));
        }
        if digits.len() > 1 && digits.starts_with('0') {
            return Err(malformed(
                SIGNATURE_INPUT,
                format!("{key} has leading zeros"),
            ));
        }
        if digits.len() > MAX_CREATED_DIGITS {
            return Err(malformed(
                SIGNATURE_INPUT,
                format!("{key} must be at most {MAX_CREATED}"),
            ));
        }
        let value = digits
            .parse::<u64>()
            .map_err(|_| malformed(SIGNATURE_INPUT, format!("{key} is not an integer")))?;
        check_created(value)?;
        Ok(value)
    }

    /// An RFC 8941 string without escapes (no accepted value needs one).
    fn string(&mut self, key: &str) -> Result<&'a str, HttpSigError> {
        if self.peek() != Some(b'"') {
            return Err(malformed(
                SIGNATURE_INPUT,
                format!("{key} must be a string"),
            ));
        }
        self.pos += 1;
        let text = self.take_while(|b| (0x20..=0x7e).contains(&b) && b != b'"' && b != b'\\');
        match self.peek() {
            Some(b'"') => {
                self.pos += 1;
                Ok(text)
            }
            Some(b'\\') => Err(malformed(
                SIGNATURE_INPUT,
                format!("{key}: string escapes are not accepted"),
            )),
            Some(_) => Err(malformed(
                SIGNATURE_INPUT,
                format!("{key}: string has a character outside printable ASCII"),
            )),
            None => Err(malformed(
                SIGNATURE_INPUT,
                format!("{key}: unterminated string"),
            )),
        }
    }
}
