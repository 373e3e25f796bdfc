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

use super::assemble::{Content, assemble_content};
use super::attributes::{
    ExtraAttribute, ID_SIGNING_TIME, message_digest_of_signed_attributes, signed_attributes_for,
};
use super::chain::verify_chain;
use super::error::CmsError;
use super::login::{LoginAssertion, LoginAssertionError};
use super::parse::parse;
use super::transaction::{Transaction, TransactionError};
use super::{OidProfile, SignatureAlgorithm};
use crate::signer::{Signer, SignerError};
use der::{Decode, Encode};
use thiserror::Error;
use x509_cert::time::Time;

/// An attached SignedData (id-data) built and waiting for its signature: sign
/// [`PreparedAttached::to_be_signed`] (the DER signed attributes), then
/// [`PreparedAttached::finish`]. [`PreparedAttached::transaction`] makes one over a
/// transaction; [`PreparedAttached::new`] over any content (verifiers of transactions refuse
/// other content).
///
/// Written in RFC 5652's OIDs unless [`PreparedAttached::transaction_in`] asks for GB/T
/// 35275's (SM2 only): ContentInfo signedData 1.2.156.10197.6.1.4.2.2, eContentType and the
/// content-type attribute data 1.2.156.10197.6.1.4.2.1, signatureAlgorithm sm2sign
/// 1.2.156.10197.1.301.1, digest SM3. The verifier reads both.
#[derive(Debug, Clone)]
pub struct PreparedAttached {
    algorithm: SignatureAlgorithm,
    profile: OidProfile,
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

    /// [`PreparedAttached::transaction`] in the OIDs of `profile`: GB/T 35275's for GM
    /// middleware that insists on them (SM2 only; P-256 is [`CmsError::InvalidInput`]).
    pub fn transaction_in(
        profile: OidProfile,
        transaction: &Transaction,
        algorithm: SignatureAlgorithm,
        chain: &[Vec<u8>],
        signing_time_unix: u64,
    ) -> Result<Self, TransactionSignError> {
        Ok(Self::prepare(
            profile,
            transaction.to_der()?,
            algorithm,
            chain,
            signing_time_unix,
        )?)
    }

    /// The signed attributes over `content` (id-data) for the signer certificate `chain[0]`,
    /// with signing-time `signing_time_unix`.
    pub fn new(
        content: Vec<u8>,
        algorithm: SignatureAlgorithm,
        chain: &[Vec<u8>],
        signing_time_unix: u64,
    ) -> Result<Self, TransactionSignError> {
        Ok(Self::prepare(
            OidProfile::Rfc5652,
            content,
            algorithm,
            chain,
            signing_time_unix,
        )?)
    }

    /// Encode `assertion` and the signed attributes for the signer certificate `chain[0]`
    /// (intermediates after it), with signing-time `signing_time_unix`.
    pub fn login(
        assertion: &LoginAssertion,
        algorithm: SignatureAlgorithm,
        chain: &[Vec<u8>],
        signing_time_unix: u64,
    ) -> Result<Self, LoginSignError> {
        Ok(Self::prepare(
            OidProfile::Rfc5652,
            assertion.to_der()?,
            algorithm,
            chain,
            signing_time_unix,
        )?)
    }

    fn prepare(
        profile: OidProfile,
        content: Vec<u8>,
        algorithm: SignatureAlgorithm,
        chain: &[Vec<u8>],
        signing_time_unix: u64,
    ) -> Result<Self, PrepareError> {
        let signer = chain
            .first()
            .ok_or(PrepareError::Signer(SignerError::EmptyChain))?;
        // Refused here, before anything is signed, rather than at assembly.
        algorithm.signature_identifier_in(profile)?;
        let time = inkseal_pki::time_at(signing_time_unix)
            .and_then(|t| {
                t.to_der()
                    .map_err(|e| inkseal_pki::PkiError::InvalidInput(e.to_string()))
            })
            .map_err(|e| CmsError::InvalidInput(format!("signing time: {e}")))?;
        let signed_attrs = signed_attributes_for(
            profile.data(),
            algorithm,
            &algorithm.digest(&[&content]),
            signer,
            &[ExtraAttribute::new(ID_SIGNING_TIME, vec![time])],
        )?;
        Ok(PreparedAttached {
            algorithm,
            profile,
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
        Ok(self.assemble(signature)?)
    }

    /// [`PreparedAttached::finish`] for a login assertion.
    pub fn finish_login(&self, signature: &[u8]) -> Result<Vec<u8>, LoginSignError> {
        Ok(self.assemble(signature)?)
    }

    fn assemble(&self, signature: &[u8]) -> Result<Vec<u8>, CmsError> {
        assemble_content(
            self.profile,
            Content::Encapsulated(self.profile.data(), &self.content),
            self.algorithm,
            &self.signed_attrs,
            signature,
            &self.chain,
            &[],
        )
    }
}

/// Why [`PreparedAttached::prepare`] failed.
enum PrepareError {
    Signer(SignerError),
    Cms(CmsError),
}

impl From<CmsError> for PrepareError {
    fn from(e: CmsError) -> Self {
        PrepareError::Cms(e)
    }
}

impl From<PrepareError> for TransactionSignError {
    fn from(e: PrepareError) -> Self {
        match e {
            PrepareError::Signer(e) => TransactionSignError::Signer(e),
            PrepareError::Cms(e) => TransactionSignError::Cms(e),
        }
    }
}

impl From<PrepareError> for LoginSignError {
    fn from(e: PrepareError) -> Self {
        match e {
            PrepareError::Signer(e) => LoginSignError::Signer(e),
            PrepareError::Cms(e) => LoginSignError::Cms(e),
        }
    }
}

/// Sign `transaction` with a local signer (its key and chain): the DER ContentInfo.
pub fn sign_transaction(
    transaction: &Transaction,
    signer: &dyn Signer,
    signing_time_unix: u64,
) -> Result<Vec<u8>, TransactionSignError> {
    sign_transaction_in(OidProfile::Rfc5652, transaction, signer, signing_time_unix)
}

/// [`sign_transaction`] in the OIDs of `profile` (see [`PreparedAttached`]; GB/T 35275's for
/// SM2 only).
pub fn sign_transaction_in(
    profile: OidProfile,
    transaction: &Transaction,
    signer: &dyn Signer,
    signing_time_unix: u64,
) -> Result<Vec<u8>, TransactionSignError> {
    let prepared = PreparedAttached::transaction_in(
        profile,
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
    /// Whose OIDs it is written in (RFC 5652's, or GB/T 35275's).
    pub profile: OidProfile,
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
    let verified = verify_attached(der, trust_anchors, at_unix, Transaction::from_der).map_err(
        |e| match e {
            AttachedFailure::Signature(e) => TransactionVerifyError::Signature(e),
            AttachedFailure::Untrusted(e) => TransactionVerifyError::Untrusted(e),
            AttachedFailure::SigningTime(e) => TransactionVerifyError::SigningTime(e),
            AttachedFailure::Content(e) => TransactionVerifyError::NotATransaction(e),
        },
    )?;
    Ok(VerifiedTransaction {
        amount_display: verified.content.amount_display(),
        transaction: verified.content,
        signer: verified.signer,
        signer_certificate: verified.signer_certificate,
        signing_time_unix: verified.signing_time_unix,
        algorithm: verified.algorithm,
        profile: verified.profile,
        chain: verified.chain,
    })
}

/// An attached SignedData whose signature, content, signing-time and chain held.
pub(crate) struct VerifiedAttached<T> {
    /// The decoded content.
    pub(crate) content: T,
    /// The signer certificate's subject (RFC 4514).
    pub(crate) signer: String,
    /// The signer certificate (DER).
    pub(crate) signer_certificate: Vec<u8>,
    /// The signing-time attribute, Unix seconds.
    pub(crate) signing_time_unix: u64,
    /// The signature suite.
    pub(crate) algorithm: SignatureAlgorithm,
    /// Whose OIDs it is written in.
    pub(crate) profile: OidProfile,
    /// The certificate path, signer first and trust anchor last.
    pub(crate) chain: Vec<Vec<u8>>,
}

/// Which step of [`verify_attached`] failed.
pub(crate) enum AttachedFailure<E> {
    Signature(CmsError),
    Untrusted(CmsError),
    SigningTime(String),
    Content(E),
}

/// The checks every attached (id-data) SignedData gets, in order: parse, the signature over
/// the signed attributes and the eContent's message-digest, `decode` of the eContent, the
/// signing-time attribute (exactly one value), then the certificate path to `trust_anchors`
/// at `at_unix`. Transactions and login assertions are verified by this one function.
pub(crate) fn verify_attached<T, E>(
    der: &[u8],
    trust_anchors: &[Vec<u8>],
    at_unix: Option<u64>,
    decode: impl FnOnce(&[u8]) -> Result<T, E>,
) -> Result<VerifiedAttached<T>, AttachedFailure<E>> {
    let parsed = parse(der).map_err(AttachedFailure::Signature)?;
    let (verification, content) = parsed
        .verify_encapsulated(parsed.profile().data(), false)
        .map_err(AttachedFailure::Signature)?;
    let content = decode(&content).map_err(AttachedFailure::Content)?;
    let signing_time = verification
        .signed_attribute(&ID_SIGNING_TIME)
        .ok_or_else(|| AttachedFailure::SigningTime("missing".into()))?;
    let signing_time_unix = match signing_time.values_der.as_slice() {
        [one] => Time::from_der(one)
            .map_err(|e| AttachedFailure::SigningTime(e.to_string()))?
            .to_unix_duration()
            .as_secs(),
        values => {
            return Err(AttachedFailure::SigningTime(format!(
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
    .map_err(AttachedFailure::Untrusted)?;
    Ok(VerifiedAttached {
        content,
        signer: verification.signer_subject,
        signer_certificate: verification.signer_cert_der,
        signing_time_unix,
        algorithm: verification
            .algorithm
            .expect_suite()
            .map_err(AttachedFailure::Signature)?,
        profile: parsed.profile(),
        chain,
    })
}

// ---------------------------------------------------------------------------------------
// Certificate login: the same attached SignedData over a [`LoginAssertion`].

/// Sign `assertion` with a local signer (its key and chain): the DER ContentInfo.
pub fn sign_login(
    assertion: &LoginAssertion,
    signer: &dyn Signer,
    signing_time_unix: u64,
) -> Result<Vec<u8>, LoginSignError> {
    let prepared = PreparedAttached::login(
        assertion,
        signer.algorithm(),
        signer.certificate_chain(),
        signing_time_unix,
    )?;
    let signature = signer.sign(prepared.to_be_signed())?;
    prepared.finish_login(&signature)
}

/// Why a login assertion could not be signed.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum LoginSignError {
    /// The assertion could not be encoded.
    #[error(transparent)]
    Assertion(#[from] LoginAssertionError),
    /// The signer (key or chain) failed.
    #[error(transparent)]
    Signer(#[from] SignerError),
    /// Building the SignedData failed (a wrong key for the certificate, a bad signature).
    #[error(transparent)]
    Cms(#[from] CmsError),
}

/// What a co-signing server reads from a request to sign a login assertion: the message-digest
/// of the signed attributes must be `algorithm`'s digest of `content`, and `content` must be a
/// [`LoginAssertion`]. Returns the decoded assertion (the server then checks its challenge).
pub fn read_login_request(
    algorithm: SignatureAlgorithm,
    signed_attrs: &[u8],
    content: &[u8],
) -> Result<LoginAssertion, LoginRequestError> {
    let message_digest = message_digest_of_signed_attributes(signed_attrs)?;
    if message_digest != algorithm.digest(&[content]) {
        return Err(LoginRequestError::DigestMismatch);
    }
    Ok(LoginAssertion::from_der(content)?)
}

/// Why a request to co-sign a login assertion is refused.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum LoginRequestError {
    /// The signed attributes are not readable CMS signed attributes.
    #[error("signed attributes: {0}")]
    Attributes(#[from] CmsError),
    /// The message-digest attribute is not the digest of the content sent with it.
    #[error("the message-digest attribute is not the digest of the assertion sent")]
    DigestMismatch,
    /// The content is not a login assertion.
    #[error("the content is not a login assertion: {0}")]
    Content(#[from] LoginAssertionError),
}

/// Where a login verifier learns whether the signer certificate is revoked.
pub trait RevocationSource {
    /// When the certificate with `serial` (big-endian) issued by `issuer_der` was revoked
    /// (Unix seconds), `None` if it is not; an error when this source cannot tell.
    fn revoked_at(&self, serial: &[u8], issuer_der: &[u8]) -> Result<Option<u64>, String>;
}

/// Revocation from CRLs (DER): the one signed by the signer's issuer must be among them and
/// current at `now_unix` (its nextUpdate not passed).
pub struct CrlRevocation<'a> {
    /// The CRLs, in any order.
    pub crls: &'a [Vec<u8>],
    /// The time the CRL must be current at, Unix seconds.
    pub now_unix: u64,
}

impl RevocationSource for CrlRevocation<'_> {
    fn revoked_at(&self, serial: &[u8], issuer_der: &[u8]) -> Result<Option<u64>, String> {
        let crl = self
            .crls
            .iter()
            .find_map(|der| inkseal_pki::parse_crl(der, issuer_der).ok())
            .ok_or_else(|| "no CRL signed by the signer's issuer".to_owned())?;
        if crl.next_update_unix < self.now_unix {
            return Err("the issuer's CRL is past its nextUpdate".into());
        }
        Ok(crl.revocation_of(serial).map(|r| r.revoked_at_unix))
    }
}

/// How revocation is judged by [`verify_login`].
#[derive(Clone, Copy)]
pub enum LoginRevocation<'a> {
    /// Not at all: the answer says so ([`VerifiedLogin::revocation_checked`] is false). For an
    /// offline check; a relying party admitting a user must check.
    NotChecked,
    /// By this source; a source that cannot tell refuses the login.
    Checked(&'a dyn RevocationSource),
}

/// How much clock skew a login's issuedAt may show (it may be this far in the future).
pub const LOGIN_CLOCK_GRACE_SECS: u64 = 300;

/// A verified login: who logged in, to whom, answering which challenge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedLogin {
    /// The signer certificate's subject (RFC 4514).
    pub subject: String,
    /// The signer certificate's serial number (big-endian).
    pub serial: Vec<u8>,
    /// The signer certificate (DER).
    pub signer_certificate: Vec<u8>,
    /// The assertion as signed (relying party, challenge id, nonce, validity, channel).
    pub assertion: LoginAssertion,
    /// The challenge answered.
    pub challenge_id: [u8; 16],
    /// The relying party the assertion is for.
    pub relying_party: String,
    /// The signing-time attribute, Unix seconds (the signer's claim).
    pub signed_at_unix: u64,
    /// The signature suite.
    pub algorithm: SignatureAlgorithm,
    /// The certificate path, signer first and trust anchor last.
    pub chain: Vec<Vec<u8>>,
    /// Whether revocation was checked ([`LoginRevocation::Checked`]).
    pub revocation_checked: bool,
}

/// Why a login assertion does not verify. Single use is not checked here: a relying party
/// consumes the challenge after this succeeds (the server's `/v1/admin/login/verify` does both
/// atomically).
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum LoginVerifyError {
    /// The SignedData is malformed or its signature does not hold.
    #[error("signature: {0}")]
    Signature(CmsError),
    /// No trusted path leads from the signer to the trust anchors, or a certificate on it is
    /// not valid now.
    #[error("signer not trusted: {0}")]
    Untrusted(CmsError),
    /// The signed content is not a login assertion.
    #[error("the signed content is not a login assertion: {0}")]
    NotALogin(#[from] LoginAssertionError),
    /// The signing-time attribute is missing or unreadable.
    #[error("signing-time: {0}")]
    SigningTime(String),
    /// The assertion is for another relying party.
    #[error("the assertion is for relying party {found:?}, not {expected:?}")]
    WrongRelyingParty {
        /// The relying party expected.
        expected: String,
        /// The one in the assertion.
        found: String,
    },
    /// The assertion expired (now is at or after its expiresAt).
    #[error("the assertion expired at {expires_unix} (now {now_unix})")]
    Expired {
        /// Its expiresAt, Unix seconds.
        expires_unix: u64,
        /// The time checked.
        now_unix: u64,
    },
    /// The assertion's issuedAt is further in the future than the clock grace allows.
    #[error("the assertion is issued at {issued_unix}, in the future (now {now_unix})")]
    NotYetValid {
        /// Its issuedAt, Unix seconds.
        issued_unix: u64,
        /// The time checked.
        now_unix: u64,
    },
    /// The signer certificate is revoked.
    #[error("the signer certificate was revoked at {revoked_at_unix}")]
    Revoked {
        /// When, Unix seconds.
        revoked_at_unix: u64,
    },
    /// Revocation was to be checked, and the source could not tell.
    #[error("revocation unknown: {0}")]
    RevocationUnknown(String),
    /// The relying party expected a channel binding (its app id's hash, the TLS exporter of the
    /// session the login came through) that the assertion does not carry: the assertion was
    /// made for another channel, or relayed.
    #[error("the assertion's channel binding is not the one this login arrived on")]
    ChannelMismatch,
}

impl VerifiedLogin {
    /// Check the assertion's channel binding against the one the relying party sees
    /// (compared in constant time): [`LoginVerifyError::ChannelMismatch`] when the assertion
    /// carries another one or none.
    pub fn check_channel(&self, expected: &[u8]) -> Result<(), LoginVerifyError> {
        use subtle::ConstantTimeEq;
        match self.assertion.channel() {
            Some(found) if bool::from(found.ct_eq(expected)) => Ok(()),
            _ => Err(LoginVerifyError::ChannelMismatch),
        }
    }
}

/// Verify an attached login SignedData (DER ContentInfo) at `now_unix` for the relying party
/// `expected_relying_party`: the signature and message-digest, the content being a
/// [`LoginAssertion`], the signing-time, the certificate path to `trust_anchors` (valid now),
/// the relying party, the validity window, then revocation. Returns who logged in.
pub fn verify_login(
    der: &[u8],
    trust_anchors: &[Vec<u8>],
    revocation: LoginRevocation<'_>,
    now_unix: u64,
    expected_relying_party: &str,
) -> Result<VerifiedLogin, LoginVerifyError> {
    let verified = verify_attached(der, trust_anchors, Some(now_unix), LoginAssertion::from_der)
        .map_err(|e| match e {
            AttachedFailure::Signature(e) => LoginVerifyError::Signature(e),
            AttachedFailure::Untrusted(e) => LoginVerifyError::Untrusted(e),
            AttachedFailure::SigningTime(e) => LoginVerifyError::SigningTime(e),
            AttachedFailure::Content(e) => LoginVerifyError::NotALogin(e),
        })?;
    let assertion = verified.content;
    if assertion.relying_party() != expected_relying_party {
        return Err(LoginVerifyError::WrongRelyingParty {
            expected: expected_relying_party.to_owned(),
            found: assertion.relying_party().to_owned(),
        });
    }
    if now_unix >= assertion.expires_unix() {
        return Err(LoginVerifyError::Expired {
            expires_unix: assertion.expires_unix(),
            now_unix,
        });
    }
    if assertion.issued_unix() > now_unix.saturating_add(LOGIN_CLOCK_GRACE_SECS) {
        return Err(LoginVerifyError::NotYetValid {
            issued_unix: assertion.issued_unix(),
            now_unix,
        });
    }
    let serial = inkseal_pki::certificate_serial(&verified.signer_certificate)
        .map_err(|e| LoginVerifyError::Signature(CmsError::Malformed(e.to_string())))?;
    let revocation_checked = match revocation {
        LoginRevocation::NotChecked => false,
        LoginRevocation::Checked(source) => {
            // verify_chain ends at the anchor, so a path has at least the signer and it.
            let issuer = verified.chain.get(1).ok_or_else(|| {
                LoginVerifyError::RevocationUnknown("the signer is itself a trust anchor".into())
            })?;
            match source
                .revoked_at(&serial, issuer)
                .map_err(LoginVerifyError::RevocationUnknown)?
            {
                Some(revoked_at_unix) => {
                    return Err(LoginVerifyError::Revoked { revoked_at_unix });
                }
                None => true,
            }
        }
    };
    Ok(VerifiedLogin {
        subject: verified.signer,
        serial,
        signer_certificate: verified.signer_certificate,
        challenge_id: *assertion.challenge_id(),
        relying_party: assertion.relying_party().to_owned(),
        assertion,
        signed_at_unix: verified.signing_time_unix,
        algorithm: verified.algorithm,
        chain: verified.chain,
        revocation_checked,
    })
}
