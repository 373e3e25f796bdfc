//! Attached CMS SignedData over a [`Transaction`]: signing (local key or co-signed), the
//! co-signing server's check of what it signs, and verification that returns the decoded
//! transaction with the verdict.
//!
//! The SignedData (RFC 5652; the same structure GB/T 35275 profiles for SM2) is version 3 with
//! encapContentInfo id-data and the transaction's DER as eContent; one SignerInfo with signed
//! attributes content-type (id-data), message-digest (of the eContent), signing-time and
//! signing-certificate-v2; SM2-with-SM3 (1.2.156.10197.1.501) or ecdsa-with-SHA256. It is
//! built by the same assembly as PAdES and time-stamp tokens ([`super::assemble_content`]) and
//! checked by the same parser, signature check and chain builder.

use super::SignatureAlgorithm;
use super::assemble::{Content, assemble_content};
use super::attributes::{
    ExtraAttribute, ID_DATA, ID_SIGNING_TIME, message_digest_of_signed_attributes,
    signed_attributes_for,
};
use super::chain::verify_chain;
use super::error::CmsError;
use super::parse::parse;
use super::transaction::{Transaction, TransactionError};
use crate::signer::{Signer, SignerError};
use der::{Decode, Encode};
use thiserror::Error;
use x509_cert::time::Time;

/// An attached SignedData (id-data) built and waiting for its signature: sign
/// [`PreparedAttached::to_be_signed`] (the DER signed attributes), then
/// [`PreparedAttached::finish`]. [`PreparedAttached::transaction`] makes one over a
/// transaction; [`PreparedAttached::new`] over any content (verifiers of transactions refuse
/// other content).
#[derive(Debug, Clone)]
pub struct PreparedAttached {
    algorithm: SignatureAlgorithm,
    content: Vec<u8>,
    signed_attrs: Vec<u8>,
    chain: Vec<Vec<u8>>,
}

impl PreparedAttached {
    /// Encode `transaction` and the signed attributes for the signer certificate `chain[0]`
    /// (intermediates after it), with signing-time `signing_time_unix`.
    pub fn transaction(
        transaction: &Transaction,
        algorithm: SignatureAlgorithm,
        chain: &[Vec<u8>],
        signing_time_unix: u64,
    ) -> Result<Self, TransactionSignError> {
        Self::new(transaction.to_der()?, algorithm, chain, signing_time_unix)
    }

    /// The signed attributes over `content` (id-data) for the signer certificate `chain[0]`,
    /// with signing-time `signing_time_unix`.
    pub fn new(
        content: Vec<u8>,
        algorithm: SignatureAlgorithm,
        chain: &[Vec<u8>],
        signing_time_unix: u64,
    ) -> Result<Self, TransactionSignError> {
        let signer = chain.first().ok_or(SignerError::EmptyChain)?;
        let time = inkseal_pki::time_at(signing_time_unix)
            .and_then(|t| {
                t.to_der()
                    .map_err(|e| inkseal_pki::PkiError::InvalidInput(e.to_string()))
            })
            .map_err(|e| CmsError::InvalidInput(format!("signing time: {e}")))?;
        let signed_attrs = signed_attributes_for(
            ID_DATA,
            algorithm,
            &algorithm.digest(&[&content]),
            signer,
            &[ExtraAttribute::new(ID_SIGNING_TIME, vec![time])],
        )?;
        Ok(PreparedAttached {
            algorithm,
            content,
            signed_attrs,
            chain: chain.to_vec(),
        })
    }

    /// The bytes the signer signs (DER `SET OF Attribute`).
    pub fn to_be_signed(&self) -> &[u8] {
        &self.signed_attrs
    }

    /// The content (the eContent; a transaction's DER).
    pub fn content(&self) -> &[u8] {
        &self.content
    }

    /// The DER ContentInfo, once the signature (DER `SEQUENCE { r, s }` over
    /// [`PreparedAttached::to_be_signed`]) is in; the signature is checked first.
    pub fn finish(&self, signature: &[u8]) -> Result<Vec<u8>, TransactionSignError> {
        Ok(assemble_content(
            Content::Encapsulated(ID_DATA, &self.content),
            self.algorithm,
            &self.signed_attrs,
            signature,
            &self.chain,
            &[],
        )?)
    }
}

/// Sign `transaction` with a local signer (its key and chain): the DER ContentInfo.
pub fn sign_transaction(
    transaction: &Transaction,
    signer: &dyn Signer,
    signing_time_unix: u64,
) -> Result<Vec<u8>, TransactionSignError> {
    let prepared = PreparedAttached::transaction(
        transaction,
        signer.algorithm(),
        signer.certificate_chain(),
        signing_time_unix,
    )?;
    let signature = signer.sign(prepared.to_be_signed())?;
    prepared.finish(&signature)
}

/// Why a transaction could not be signed.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TransactionSignError {
    /// The transaction could not be encoded.
    #[error(transparent)]
    Transaction(#[from] TransactionError),
    /// The signer (key or chain) failed.
    #[error(transparent)]
    Signer(#[from] SignerError),
    /// Building the SignedData failed (a wrong key for the certificate, a bad signature).
    #[error(transparent)]
    Cms(#[from] CmsError),
}

/// What a co-signing server reads from a request to sign a transaction: the DER signed
/// attributes it co-signs and the transaction they name.
///
/// The attributes are read as the verifier reads them (canonical DER, each type once,
/// content-type id-data); their message-digest must be `algorithm`'s digest of `content`, and
/// `content` must be a [`Transaction`]. Returns the decoded transaction.
pub fn read_transaction_request(
    algorithm: SignatureAlgorithm,
    signed_attrs: &[u8],
    content: &[u8],
) -> Result<Transaction, TransactionRequestError> {
    let message_digest = message_digest_of_signed_attributes(signed_attrs)?;
    if message_digest != algorithm.digest(&[content]) {
        return Err(TransactionRequestError::DigestMismatch);
    }
    Ok(Transaction::from_der(content)?)
}

/// Why a request to co-sign a transaction is refused.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TransactionRequestError {
    /// The signed attributes are not readable CMS signed attributes.
    #[error("signed attributes: {0}")]
    Attributes(#[from] CmsError),
    /// The message-digest attribute is not the digest of the content sent with it.
    #[error("the message-digest attribute is not the digest of the transaction sent")]
    DigestMismatch,
    /// The content is not a transaction.
    #[error("the content is not a transaction: {0}")]
    Content(#[from] TransactionError),
}

/// A verified transaction signature and what was approved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedTransaction {
    /// The transaction as signed.
    pub transaction: Transaction,
    /// Its amount as a person reads it ("1234.56 CNY").
    pub amount_display: String,
    /// The signer certificate's subject (RFC 4514).
    pub signer: String,
    /// The signer certificate (DER).
    pub signer_certificate: Vec<u8>,
    /// The signing-time attribute, Unix seconds (the signer's claim).
    pub signing_time_unix: u64,
    /// The signature suite.
    pub algorithm: SignatureAlgorithm,
    /// The certificate path, signer first and trust anchor last.
    pub chain: Vec<Vec<u8>>,
}

/// Why a transaction SignedData does not verify. Each says which part failed.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TransactionVerifyError {
    /// The SignedData is malformed or its signature does not hold (a bad signature, a
    /// message-digest that is not the content's: [`CmsError::BadSignature`],
    /// [`CmsError::DigestMismatch`]).
    #[error("signature: {0}")]
    Signature(CmsError),
    /// The signature holds but no trusted path leads from the signer to the trust anchors,
    /// or a certificate on it is not valid at the time checked.
    #[error("signer not trusted: {0}")]
    Untrusted(CmsError),
    /// The signed content is not a transaction.
    #[error("the signed content is not a transaction: {0}")]
    NotATransaction(#[from] TransactionError),
    /// The signing-time attribute is missing or unreadable.
    #[error("signing-time: {0}")]
    SigningTime(String),
}

/// Verify an attached transaction SignedData (DER ContentInfo) against `trust_anchors` (DER),
/// with certificate validity checked at `at_unix` when given. Returns the decoded transaction
/// only if everything holds: the signature over the signed attributes, the message-digest of
/// the eContent, signing-certificate-v2, the signer's key usage, the certificate path, the
/// signing-time, and the content being a [`Transaction`].
pub fn verify_transaction(
    der: &[u8],
    trust_anchors: &[Vec<u8>],
    at_unix: Option<u64>,
) -> Result<VerifiedTransaction, TransactionVerifyError> {
    let parsed = parse(der).map_err(TransactionVerifyError::Signature)?;
    let (verification, content) = parsed
        .verify_encapsulated(ID_DATA)
        .map_err(TransactionVerifyError::Signature)?;
    let transaction = Transaction::from_der(&content)?;
    let signing_time = verification
        .signed_attribute(&ID_SIGNING_TIME)
        .ok_or_else(|| TransactionVerifyError::SigningTime("missing".into()))?;
    let signing_time_unix = match signing_time.values_der.as_slice() {
        [one] => Time::from_der(one)
            .map_err(|e| TransactionVerifyError::SigningTime(e.to_string()))?
            .to_unix_duration()
            .as_secs(),
        values => {
            return Err(TransactionVerifyError::SigningTime(format!(
                "{} values, not one",
                values.len()
            )));
        }
    };
    let chain = verify_chain(
        &verification.signer_cert_der,
        &verification.certificates,
        trust_anchors,
        at_unix,
    )
    .map_err(TransactionVerifyError::Untrusted)?;
    Ok(VerifiedTransaction {
        amount_display: transaction.amount_display(),
        transaction,
        signer: verification.signer_subject,
        signer_certificate: verification.signer_cert_der,
        signing_time_unix,
        algorithm: verification.algorithm,
        chain,
    })
}
