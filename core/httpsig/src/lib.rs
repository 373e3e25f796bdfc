//! Device-signed HTTP requests: a strict subset of RFC 9421 (HTTP Message Signatures) with
//! RFC 9530 `Content-Digest`.
//!
//! Why: every request a phone makes about its key (sign, certificate, challenge, evidence, status,
//! PIN change, revoke) and the enrollment itself is signed by a P-256 *device key* that Android
//! Keystore or the Secure Enclave keeps. The server checks that signature before anything else,
//! so a request copied off the wire, replayed later (the server tracks `created` and `nonce`) or
//! sent from another device is refused before it reaches a PIN check. The phone (`core/sdk`) and
//! the server both use this crate, so the two sides cannot drift apart.
//!
//! Sans-IO: strings and bytes in, strings and bytes out. Nothing here does I/O, reads the clock or
//! draws random numbers: the caller passes `created` and the nonce, and checks freshness and
//! replay itself.
//!
//! # Wire format
//!
//! Exactly one signature, label [`LABEL`] (`sig1`), covering exactly the components
//! [`COVERED_COMPONENTS`] in that order, with exactly the parameters `created`, `nonce`, `keyid`
//! and `alg` (always [`ALGORITHM`]):
//!
//! ```text
//! Content-Digest: sha-256=:<base64 of SHA-256(body)>:
//! Signature-Input: sig1=("@method" "@path" "content-digest");created=1700000000;nonce="<nonce>";keyid="<keyid>";alg="ecdsa-p256-sha256"
//! Signature: sig1=:<base64 of the 64-byte r||s ECDSA P-256 SHA-256 signature>:
//! ```
//!
//! The signed bytes are the RFC 9421 §2.5 signature base, lines joined by `\n`, no trailing newline:
//!
//! ```text
//! "@method": POST
//! "@path": /v1/keys/k1/sign
//! "content-digest": sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:
//! "@signature-params": ("@method" "@path" "content-digest");created=1700000000;nonce="…";keyid="…";alg="ecdsa-p256-sha256"
//! ```
//!
//! `@method` is the method as sent (only upper-case methods are accepted), `@path` the absolute
//! path without a query (device routes have none: a path containing `?` is refused rather than
//! silently left out of the signature). `Content-Digest` is always present and always covered,
//! for a `GET` too (the digest of the empty body), so a body can never be swapped under a valid
//! signature. The signature is the raw `r || s` of RFC 9421 §3.3.4 (64 bytes, not DER); key
//! stores return DER, [`signature_from_der`] converts.
//!
//! # The subset, and how strict the parser is
//!
//! [`ParsedSignature::parse`] is total (every input gives a value or a typed [`HttpSigError`],
//! never a panic) and checks each header's length against [`MAX_CONTENT_DIGEST_LEN`],
//! [`MAX_SIGNATURE_INPUT_LEN`] and [`MAX_SIGNATURE_LEN`] before looking at its content. It
//! accepts only the canonical Structured Fields serialization (RFC 8941) of the shape above:
//!
//! * no whitespace anywhere except the single space between the three component names, not even
//!   leading or trailing (HTTP libraries hand over field values with the optional whitespace
//!   already trimmed); a header sent twice must be refused by the caller, and joined with `", "`
//!   it is refused here;
//! * no other label, no second signature, no other component list (order, case, parameters on
//!   components), no other or repeated parameter (`expires`, `tag`, a second `nonce`, ...), no
//!   string escapes, no integer with leading zeros, no other digest algorithm than `sha-256`;
//! * the four parameters may come in **any order**: the signature base uses the
//!   `@signature-params` text exactly as received (RFC 9421 §3.2), so a signer that orders them
//!   `created;keyid;alg;nonce` (the Python `http-message-signatures` library does) verifies.
//!   Signing here always writes `created;nonce;keyid;alg`;
//! * `alg` must be [`ALGORITHM`]; anything else is [`HttpSigError::UnsupportedAlgorithm`];
//! * `created` is an integer number of seconds since the Unix epoch, at most [`MAX_CREATED`];
//!   `nonce` is [`NONCE_MIN_LEN`]`..=`[`NONCE_MAX_LEN`] characters of `[A-Za-z0-9_-]`; `keyid`
//!   is 1`..=`[`KEYID_MAX_LEN`] characters of `[A-Za-z0-9_.:-]`;
//! * the signature must decode to exactly 64 bytes with `r` and `s` in `1..n`. Any valid ECDSA
//!   signature verifies, high-S included (key stores do not normalise S; the signature is not
//!   used as an identifier, the nonce is).
//!
//! Base64 goes through `base64ct` (constant time, canonical encodings only) and the body digest
//! is compared in constant time.
//!
//! # Use
//!
//! * Phone: [`RequestTarget::new`] + [`SignatureParams::new`] + [`sign_request`] with a
//!   [`RequestSigner`] (a `p256::ecdsa::SigningKey`, or a closure around the key store that
//!   returns DER and calls [`signature_from_der`]) give the three [`SignedHeaders`].
//! * Server: [`ParsedSignature::parse`] the three header values, look the device key up by
//!   [`SignatureParams::keyid`] (stored from [`verifying_key_from_spki_der`] at enrollment), check
//!   `created` against the clock and the nonce against replay, then
//!   [`ParsedSignature::verify`] against the request's method, path and body.

mod error;
mod keys;
mod params;
mod parse;
mod sign;
mod target;

pub use error::{HttpSigError, SignerError};
pub use keys::{
    MAX_DER_SIGNATURE_LEN, MAX_PUBLIC_KEY_LEN, signature_from_der, verifying_key_from_sec1,
    verifying_key_from_spki_der,
};
pub use params::{KEYID_MAX_LEN, MAX_CREATED, NONCE_MAX_LEN, NONCE_MIN_LEN, SignatureParams};
pub use parse::ParsedSignature;
pub use sign::{RequestSigner, SignedHeaders, content_digest, sign_request, signature_base};
pub use target::{MAX_METHOD_LEN, MAX_PATH_LEN, RequestTarget};

/// The only signature algorithm (RFC 9421 §3.3.4): ECDSA on P-256 with SHA-256, raw `r || s`.
pub const ALGORITHM: &str = "ecdsa-p256-sha256";
/// The only signature label accepted and written.
pub const LABEL: &str = "sig1";
/// The covered components, in the only order accepted and written.
pub const COVERED_COMPONENTS: [&str; 3] = ["@method", "@path", "content-digest"];

/// Header name of the body digest (lower case, as `http::HeaderName::from_static` wants it).
pub const CONTENT_DIGEST_HEADER: &str = "content-digest";
/// Header name of the signature's parameters.
pub const SIGNATURE_INPUT_HEADER: &str = "signature-input";
/// Header name of the signature itself.
pub const SIGNATURE_HEADER: &str = "signature";

/// Longest `Content-Digest` value accepted (bytes); the canonical one is 54.
pub const MAX_CONTENT_DIGEST_LEN: usize = 256;
/// Longest `Signature-Input` value accepted (bytes); the longest valid one is about 300.
pub const MAX_SIGNATURE_INPUT_LEN: usize = 1024;
/// Longest `Signature` value accepted (bytes); the canonical one is 95.
pub const MAX_SIGNATURE_LEN: usize = 256;

/// The serialized covered-component list, the start of every `@signature-params` value.
pub(crate) const COMPONENT_LIST: &str = r#"("@method" "@path" "content-digest")"#;
