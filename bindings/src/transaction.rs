//! Transaction signing: the app shows a transaction, the user approves it with the PIN, and
//! the phone co-signs exactly that as an attached CMS SignedData (SM2-with-SM3) whose content
//! is the transaction's canonical DER. The server decodes and audits the transaction before it
//! co-signs. [`verify_transaction`] reads a signed transaction back with its verdict.

use crate::capture::evidence_head;
use crate::client::InksealClient;
use crate::errors::InksealError;
use crate::pdf::now_unix;
use inkseal_pdf::cms::attached::{TransactionVerifyError, verify_transaction as verify};
use inkseal_sdk::Pin;
use inkseal_sdk::transaction::{Party, Transaction};

/// One side of a transaction.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct TransactionParty {
    /// The name (1 to 128 characters, no control characters).
    pub name: String,
    /// The account (1 to 64 characters).
    pub account: String,
    /// The institution holding the account (1 to 128 characters), if given.
    pub institution: Option<String>,
}

/// A transaction as the user approves it.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct TransactionDetails {
    /// The institution's id for it (1 to 64 characters).
    pub transaction_id: String,
    /// Who pays.
    pub payer: TransactionParty,
    /// Who is paid.
    pub payee: TransactionParty,
    /// The amount in minor units of the currency (fen, cents; yen for JPY): 1 to 10^18 - 1.
    pub amount_minor: u64,
    /// ISO 4217 code (CNY, USD, EUR, HKD, JPY, GBP, CHF, SGD, KRW, MOP).
    pub currency: String,
    /// When the transaction was created, Unix seconds (UTC).
    pub created_unix: u64,
    /// A memo (at most 140 characters), if any.
    pub memo: Option<String>,
}

impl TryFrom<TransactionDetails> for Transaction {
    type Error = InksealError;
    fn try_from(t: TransactionDetails) -> Result<Self, InksealError> {
        let party = |p: TransactionParty| Party::new(p.name, p.account, p.institution);
        Transaction::new(
            t.transaction_id,
            party(t.payer).map_err(invalid)?,
            party(t.payee).map_err(invalid)?,
            t.amount_minor,
            t.currency,
            t.created_unix,
            t.memo,
        )
        .map_err(invalid)
    }
}

impl From<&Transaction> for TransactionDetails {
    fn from(t: &Transaction) -> Self {
        let party = |p: &Party| TransactionParty {
            name: p.name().to_owned(),
            account: p.account().to_owned(),
            institution: p.institution().map(str::to_owned),
        };
        TransactionDetails {
            transaction_id: t.transaction_id().to_owned(),
            payer: party(t.payer()),
            payee: party(t.payee()),
            amount_minor: t.amount_minor(),
            currency: t.currency().to_owned(),
            created_unix: t.created_unix(),
            memo: t.memo().map(str::to_owned),
        }
    }
}

fn invalid(e: impl std::fmt::Display) -> InksealError {
    InksealError::InvalidInput {
        detail: format!("transaction: {e}"),
    }
}

/// A verified transaction signature and what was approved.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct VerifiedTransactionInfo {
    /// The transaction as signed.
    pub transaction: TransactionDetails,
    /// The amount as a person reads it ("1234.56 CNY").
    pub amount_display: String,
    /// The signer certificate's subject.
    pub signer: String,
    /// The signing-time attribute, Unix seconds.
    pub signing_time_unix: u64,
}

#[uniffi::export(async_runtime = "tokio")]
impl InksealClient {
    /// Co-signs `transaction` with the key's certificate (one PIN use, one round trip) and
    /// returns the DER CMS SignedData. With a liveness policy, `evidence_head_hex` names
    /// evidence that bound SM3 of the transaction's DER.
    #[uniffi::method(default(evidence_head_hex = None))]
    pub async fn sign_transaction(
        &self,
        key_id: String,
        pin: String,
        transaction: TransactionDetails,
        evidence_head_hex: Option<String>,
    ) -> Result<Vec<u8>, InksealError> {
        let pin = Pin::new(pin);
        let head = evidence_head(evidence_head_hex.as_deref())?;
        let transaction = Transaction::try_from(transaction)?;
        Ok(self
            .inner
            .sign_transaction(&key_id, &pin, &transaction, head)
            .await?)
    }
}

/// Verifies a transaction SignedData against `trust_anchors_der` (certificates, DER) at the
/// current time and returns what was approved; a bad signature, an untrusted signer or content
/// that is not a transaction is `BadDocument`.
#[uniffi::export]
pub fn verify_transaction(
    signed_der: Vec<u8>,
    trust_anchors_der: Vec<Vec<u8>>,
) -> Result<VerifiedTransactionInfo, InksealError> {
    let v = verify(&signed_der, &trust_anchors_der, Some(now_unix())).map_err(
        |e: TransactionVerifyError| InksealError::BadDocument {
            detail: e.to_string(),
        },
    )?;
    Ok(VerifiedTransactionInfo {
        transaction: TransactionDetails::from(&v.transaction),
        amount_display: v.amount_display,
        signer: v.signer,
        signing_time_unix: v.signing_time_unix,
    })
}
