//! The phone's side: digest, signature base, signature, headers.

use base64ct::{Base64, Encoding};
use p256::ecdsa::signature::Signer as _;
use p256::ecdsa::{Signature, SigningKey};
use sha2::{Digest, Sha256};

use crate::{HttpSigError, LABEL, RequestTarget, SignatureParams, SignerError};

/// Signs the signature base. Implemented for `p256::ecdsa::SigningKey` and for closures
/// `Fn(&[u8]) -> Result<Signature, SignerError>`; a key store that returns DER wraps its output
/// with [`crate::signature_from_der`].
///
/// `message` is the whole signature base: the signer hashes it with SHA-256 (as
/// `SHA256withECDSA` / `ecdsaSignatureMessageX962SHA256` do).
pub trait RequestSigner {
    /// Signs `message` with ECDSA P-256 SHA-256.
    fn sign(&self, message: &[u8]) -> Result<Signature, SignerError>;
}

impl RequestSigner for SigningKey {
    fn sign(&self, message: &[u8]) -> Result<Signature, SignerError> {
        self.try_sign(message)
            .map_err(|_| SignerError::new("ECDSA signing failed"))
    }
}

impl<F> RequestSigner for F
where
    F: Fn(&[u8]) -> Result<Signature, SignerError>,
{
    fn sign(&self, message: &[u8]) -> Result<Signature, SignerError> {
        self(message)
    }
}

/// The three header values of a signed request (set them under [`crate::CONTENT_DIGEST_HEADER`],
/// [`crate::SIGNATURE_INPUT_HEADER`] and [`crate::SIGNATURE_HEADER`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedHeaders {
    /// `sha-256=:<base64>:`.
    pub content_digest: String,
    /// `sig1=("@method" "@path" "content-digest");created=…;nonce="…";keyid="…";alg="ecdsa-p256-sha256"`.
    pub signature_input: String,
    /// `sig1=:<base64 of r || s>:`.
    pub signature: String,
}

/// The RFC 9530 `Content-Digest` value of `body`: `sha-256=:<base64 of SHA-256(body)>:`.
pub fn content_digest(body: &[u8]) -> String {
    let digest: [u8; 32] = Sha256::digest(body).into();
    format!("sha-256=:{}:", Base64::encode_string(&digest))
}

/// The signature base (RFC 9421 §2.5) this crate signs for `target` and `params`: what the
/// signer receives in [`sign_request`]. Exposed for signers that work in two steps.
pub fn signature_base(target: &RequestTarget<'_>, params: &SignatureParams) -> String {
    build_base(target, &content_digest(target.body()), &params.serialize())
}

/// Signs `target` with `params`: computes the digest, the signature base, has `signer` sign it
/// and returns the three header values.
pub fn sign_request<S: RequestSigner + ?Sized>(
    target: &RequestTarget<'_>,
    params: &SignatureParams,
    signer: &S,
) -> Result<SignedHeaders, HttpSigError> {
    let content_digest = content_digest(target.body());
    let signature_params = params.serialize();
    let base = build_base(target, &content_digest, &signature_params);
    let signature = signer.sign(base.as_bytes())?;
    Ok(SignedHeaders {
        content_digest,
        signature_input: format!("{LABEL}={signature_params}"),
        signature: format!("{LABEL}=:{}:", Base64::encode_string(&signature.to_bytes())),
    })
}

/// The signature base from its parts; `signature_params` is used verbatim.
pub(crate) fn build_base(
    target: &RequestTarget<'_>,
    content_digest: &str,
    signature_params: &str,
) -> String {
    format!(
        "\"@method\": {}\n\"@path\": {}\n\"content-digest\": {content_digest}\n\"@signature-params\": {signature_params}",
        target.method(),
        target.path(),
    )
}
