//! A payment or transfer as the user approves it: the canonical DER that an attached CMS
//! SignedData carries as its eContent (issue 17, transaction signing).
//!
//! ```text
//! Transaction ::= SEQUENCE {
//!   type          OBJECT IDENTIFIER,              -- id-inkseal-transaction
//!   transactionId UTF8String (SIZE(1..64)),
//!   payer         Party,
//!   payee         Party,
//!   amount        INTEGER (1..999999999999999999), -- minor units of the currency
//!   currency      PrintableString (SIZE(3)),       -- ISO 4217 alphabetic code
//!   created       GeneralizedTime,                 -- UTC, whole seconds, "Z"
//!   memo      [0] IMPLICIT UTF8String (SIZE(0..140)) OPTIONAL }
//! Party ::= SEQUENCE {
//!   name            UTF8String (SIZE(1..128)),
//!   account         UTF8String (SIZE(1..64)),
//!   institution [0] IMPLICIT UTF8String (SIZE(1..128)) OPTIONAL }
//! ```
//!
//! Sizes count characters. Text fields refuse control characters and the Unicode bidirectional
//! formatting characters, so what an app shows is what the bytes say. The currency must be in
//! the built-in table ([`minor_unit_exponent`]): a verifier that cannot place the decimal
//! point cannot show the amount.
//!
//! [`Transaction`] is a checked type: its fields are private, [`Transaction::new`] and
//! [`Transaction::from_der`] refuse anything outside the limits above, and [`Transaction::to_der`]
//! is the one encoding. The parser of outside bytes is strict: at most
//! [`MAX_TRANSACTION_BYTES`], DER only (it re-encodes and compares), no trailing bytes.

use der::asn1::{GeneralizedTime, ObjectIdentifier, PrintableString};
use der::{Decode, Encode, Sequence};
use std::time::Duration;
use thiserror::Error;

/// id-inkseal-transaction: the `type` of a [`Transaction`]. Under the arc the project uses for
/// its own identifiers (1.3.6.1.4.1.32473, IANA's documentation enterprise number, as the
/// ink binding and the TSA policy are): `.17` for issue 17's contents, `.17.1` transactions
/// (`.17.2` is kept for login assertions).
pub const ID_INKSEAL_TRANSACTION: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.3.6.1.4.1.32473.17.1");

/// Largest DER transaction [`Transaction::from_der`] reads.
pub const MAX_TRANSACTION_BYTES: usize = 8 * 1024;
/// Largest amount in minor units (10^18 - 1).
pub const MAX_AMOUNT: u64 = 999_999_999_999_999_999;
/// Longest transaction id, in characters.
pub const MAX_TRANSACTION_ID_CHARS: usize = 64;
/// Longest party name or institution, in characters.
pub const MAX_NAME_CHARS: usize = 128;
/// Longest account, in characters.
pub const MAX_ACCOUNT_CHARS: usize = 64;
/// Longest memo, in characters.
pub const MAX_MEMO_CHARS: usize = 140;

/// ISO 4217 currencies this module knows, with their minor-unit exponents.
const CURRENCIES: [(&str, u32); 10] = [
    ("CNY", 2),
    ("USD", 2),
    ("EUR", 2),
    ("HKD", 2),
    ("JPY", 0),
    ("GBP", 2),
    ("CHF", 2),
    ("SGD", 2),
    ("KRW", 0),
    ("MOP", 2),
];

/// The minor-unit exponent of an ISO 4217 alphabetic code in the built-in table (CNY 2,
/// JPY 0), or `None` for a code the table lacks.
pub fn minor_unit_exponent(currency: &str) -> Option<u32> {
    CURRENCIES
        .iter()
        .find(|(code, _)| *code == currency)
        .map(|(_, exponent)| *exponent)
}

/// Why a transaction is refused.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TransactionError {
    /// The encoding is larger than [`MAX_TRANSACTION_BYTES`].
    #[error("a transaction is at most {limit} bytes, this one {size}")]
    TooLarge {
        /// Size of the input in bytes.
        size: usize,
        /// The limit in bytes.
        limit: usize,
    },
    /// The bytes are not a DER `Transaction`.
    #[error("not a DER transaction: {0}")]
    Malformed(String),
    /// The bytes decode but are not the canonical (DER) encoding of what they say.
    #[error("the transaction is not canonical DER")]
    NotCanonical,
    /// The `type` is another content's (a login assertion, say), not id-inkseal-transaction.
    #[error("content type {0} is not a transaction ({ID_INKSEAL_TRANSACTION})")]
    NotATransaction(String),
    /// A text field is empty, too long or holds characters that would hide what is shown.
    #[error("{field}: {why}")]
    Field {
        /// Which field.
        field: &'static str,
        /// What is wrong with it.
        why: String,
    },
    /// The amount is 0 or above [`MAX_AMOUNT`].
    #[error("the amount must be 1 to {MAX_AMOUNT} minor units, not {0}")]
    Amount(u64),
    /// The currency is not a three-letter code in the built-in table.
    #[error("currency {0:?} is not an ISO 4217 code this verifier knows")]
    UnknownCurrency(String),
    /// The creation time cannot be written as a GeneralizedTime (before 1970 or after 9999).
    #[error("creation time out of range: {0}")]
    Time(String),
}

/// One side of a transaction: who, which account, at which institution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Party {
    name: String,
    account: String,
    institution: Option<String>,
}

impl Party {
    /// A party, checking each field's length and characters.
    pub fn new(
        name: impl Into<String>,
        account: impl Into<String>,
        institution: Option<String>,
    ) -> Result<Self, TransactionError> {
        let party = Party {
            name: name.into(),
            account: account.into(),
            institution,
        };
        party.check()?;
        Ok(party)
    }

    fn check(&self) -> Result<(), TransactionError> {
        check_text("party name", &self.name, 1, MAX_NAME_CHARS)?;
        check_text("account", &self.account, 1, MAX_ACCOUNT_CHARS)?;
        if let Some(institution) = &self.institution {
            check_text("institution", institution, 1, MAX_NAME_CHARS)?;
        }
        Ok(())
    }

    /// The party's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The account (an IBAN, a card or account number).
    pub fn account(&self) -> &str {
        &self.account
    }

    /// The institution holding the account, if given.
    pub fn institution(&self) -> Option<&str> {
        self.institution.as_deref()
    }
}

/// A transaction the user approves (see the module documentation).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transaction {
    transaction_id: String,
    payer: Party,
    payee: Party,
    amount: u64,
    currency: String,
    created_unix: u64,
    memo: Option<String>,
}

impl Transaction {
    /// A transaction, checking every field: the id 1 to 64 characters, the amount 1 to
    /// [`MAX_AMOUNT`] minor units, the currency in the built-in table, the time from 1970 to
    /// 9999 (whole seconds), the memo at most 140 characters.
    pub fn new(
        transaction_id: impl Into<String>,
        payer: Party,
        payee: Party,
        amount_minor: u64,
        currency: impl Into<String>,
        created_unix: u64,
        memo: Option<String>,
    ) -> Result<Self, TransactionError> {
        let tx = Transaction {
            transaction_id: transaction_id.into(),
            payer,
            payee,
            amount: amount_minor,
            currency: currency.into(),
            created_unix,
            memo,
        };
        tx.check()?;
        Ok(tx)
    }

    fn check(&self) -> Result<(), TransactionError> {
        check_text(
            "transaction id",
            &self.transaction_id,
            1,
            MAX_TRANSACTION_ID_CHARS,
        )?;
        self.payer.check()?;
        self.payee.check()?;
        if self.amount == 0 || self.amount > MAX_AMOUNT {
            return Err(TransactionError::Amount(self.amount));
        }
        if minor_unit_exponent(&self.currency).is_none() {
            return Err(TransactionError::UnknownCurrency(self.currency.clone()));
        }
        self.created_time()?;
        if let Some(memo) = &self.memo {
            check_text("memo", memo, 0, MAX_MEMO_CHARS)?;
        }
        Ok(())
    }

    fn created_time(&self) -> Result<GeneralizedTime, TransactionError> {
        GeneralizedTime::from_unix_duration(Duration::from_secs(self.created_unix))
            .map_err(|e| TransactionError::Time(e.to_string()))
    }

    /// The institution's id for this transaction.
    pub fn transaction_id(&self) -> &str {
        &self.transaction_id
    }

    /// Who pays.
    pub fn payer(&self) -> &Party {
        &self.payer
    }

    /// Who is paid.
    pub fn payee(&self) -> &Party {
        &self.payee
    }

    /// The amount in minor units of [`Transaction::currency`] (fen, cents; yen for JPY).
    pub fn amount_minor(&self) -> u64 {
        self.amount
    }

    /// The ISO 4217 alphabetic code.
    pub fn currency(&self) -> &str {
        &self.currency
    }

    /// When the transaction was created, Unix seconds (UTC).
    pub fn created_unix(&self) -> u64 {
        self.created_unix
    }

    /// The memo, if any.
    pub fn memo(&self) -> Option<&str> {
        self.memo.as_deref()
    }

    /// The amount with its decimal point and currency, as a person reads it: "1234.56 CNY",
    /// "0.05 USD", "1500 JPY".
    pub fn amount_display(&self) -> String {
        // `check` holds the currency to the table; 2 is never used.
        let exponent = minor_unit_exponent(&self.currency).unwrap_or(2);
        if exponent == 0 {
            return format!("{} {}", self.amount, self.currency);
        }
        let scale = 10u64.pow(exponent);
        format!(
            "{}.{:0width$} {}",
            self.amount / scale,
            self.amount % scale,
            self.currency,
            width = exponent as usize
        )
    }

    /// The canonical DER encoding.
    pub fn to_der(&self) -> Result<Vec<u8>, TransactionError> {
        let wire = WireTransaction {
            content_type: ID_INKSEAL_TRANSACTION,
            transaction_id: self.transaction_id.clone(),
            payer: WireParty::from(&self.payer),
            payee: WireParty::from(&self.payee),
            amount: self.amount,
            currency: PrintableString::new(&self.currency).map_err(|e| {
                TransactionError::UnknownCurrency(format!("{}: {e}", self.currency))
            })?,
            created: self.created_time()?,
            memo: self.memo.clone(),
        };
        wire.to_der()
            .map_err(|e| TransactionError::Malformed(format!("encoding: {e}")))
    }

    /// Read a transaction from outside bytes (see the module documentation for what is
    /// refused).
    pub fn from_der(der: &[u8]) -> Result<Self, TransactionError> {
        if der.len() > MAX_TRANSACTION_BYTES {
            return Err(TransactionError::TooLarge {
                size: der.len(),
                limit: MAX_TRANSACTION_BYTES,
            });
        }
        let wire = WireTransaction::from_der(der)
            .map_err(|e| TransactionError::Malformed(e.to_string()))?;
        if wire.content_type != ID_INKSEAL_TRANSACTION {
            return Err(TransactionError::NotATransaction(
                wire.content_type.to_string(),
            ));
        }
        let tx = Transaction {
            transaction_id: wire.transaction_id,
            payer: wire.payer.into(),
            payee: wire.payee.into(),
            amount: wire.amount,
            currency: wire.currency.as_str().to_owned(),
            created_unix: wire.created.to_unix_duration().as_secs(),
            memo: wire.memo,
        };
        tx.check()?;
        if tx.to_der()? != der {
            return Err(TransactionError::NotCanonical);
        }
        Ok(tx)
    }
}

/// A text field's length in characters within `min..=max`, with no control characters and no
/// bidirectional formatting characters.
fn check_text(
    field: &'static str,
    value: &str,
    min: usize,
    max: usize,
) -> Result<(), TransactionError> {
    let chars = value.chars().count();
    if chars < min || chars > max {
        return Err(TransactionError::Field {
            field,
            why: format!("must be {min} to {max} characters, is {chars}"),
        });
    }
    if let Some(c) = value
        .chars()
        .find(|c| c.is_control() || is_bidi_control(*c))
    {
        return Err(TransactionError::Field {
            field,
            why: format!("holds the control character U+{:04X}", u32::from(c)),
        });
    }
    Ok(())
}

/// Unicode bidirectional formatting characters (embeddings, overrides, isolates, marks), which
/// can make a displayed account or amount read differently from its bytes.
pub(crate) fn is_bidi_control(c: char) -> bool {
    matches!(
        c,
        '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'
    )
}

#[derive(Sequence)]
struct WireTransaction {
    content_type: ObjectIdentifier,
    transaction_id: String,
    payer: WireParty,
    payee: WireParty,
    amount: u64,
    currency: PrintableString,
    created: GeneralizedTime,
    #[asn1(context_specific = "0", tag_mode = "IMPLICIT", optional = "true")]
    memo: Option<String>,
}

#[derive(Sequence)]
struct WireParty {
    name: String,
    account: String,
    #[asn1(context_specific = "0", tag_mode = "IMPLICIT", optional = "true")]
    institution: Option<String>,
}

impl From<&Party> for WireParty {
    fn from(p: &Party) -> Self {
        WireParty {
            name: p.name.clone(),
            account: p.account.clone(),
            institution: p.institution.clone(),
        }
    }
}

impl From<WireParty> for Party {
    fn from(p: WireParty) -> Self {
        Party {
            name: p.name,
            account: p.account,
            institution: p.institution,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Transaction {
        Transaction::new(
            "TX-2026-0001",
            Party::new("张三", "6222020200112233445", Some("工商银行".into())).expect("payer"),
            Party::new("ACME Ltd", "GB33BUKB20201555555555", None).expect("payee"),
            123_456,
            "CNY",
            1_780_000_000,
            Some("invoice 42".into()),
        )
        .expect("transaction")
    }

    /// Re-wrap the Transaction SEQUENCE's contents under a new outer length.
    fn sequence(contents: &[u8]) -> Vec<u8> {
        der::asn1::AnyRef::new(der::Tag::Sequence, contents)
            .and_then(|a| a.to_der())
            .expect("sequence")
    }

    #[test]
    fn round_trips_and_displays() {
        let tx = sample();
        let der = tx.to_der().expect("der");
        assert_eq!(der[0], 0x30);
        let back = Transaction::from_der(&der).expect("parse");
        assert_eq!(back, tx);
        assert_eq!(back.amount_display(), "1234.56 CNY");
        assert_eq!(back.payer().institution(), Some("工商银行"));
        assert_eq!(back.payee().institution(), None);
        assert_eq!(back.memo(), Some("invoice 42"));
        assert_eq!(back.created_unix(), 1_780_000_000);
        // The type OID is the first field, the GeneralizedTime ends in Z with whole seconds.
        let oid = ID_INKSEAL_TRANSACTION.to_der().expect("oid");
        assert_eq!(&der[3..3 + oid.len()], &oid[..]);
        assert!(der.windows(15).any(|w| w == b"20260528202640Z"));
    }

    #[test]
    fn amounts_display_with_the_currency_exponent() {
        let p = || Party::new("A", "1", None).expect("party");
        let show = |amount: u64, currency: &str| {
            Transaction::new("t", p(), p(), amount, currency, 0, None)
                .expect("tx")
                .amount_display()
        };
        assert_eq!(show(5, "USD"), "0.05 USD");
        assert_eq!(show(100, "EUR"), "1.00 EUR");
        assert_eq!(show(1500, "JPY"), "1500 JPY");
        assert_eq!(show(MAX_AMOUNT, "HKD"), "9999999999999999.99 HKD");
        assert_eq!(show(1, "GBP"), "0.01 GBP");
    }

    #[test]
    fn constructor_refuses_out_of_range_fields() {
        let p = || Party::new("A", "1", None).expect("party");
        let make = |id: &str, amount: u64, currency: &str, memo: Option<String>| {
            Transaction::new(id, p(), p(), amount, currency, 0, memo)
        };
        assert_eq!(make("t", 0, "CNY", None), Err(TransactionError::Amount(0)));
        assert_eq!(
            make("t", MAX_AMOUNT + 1, "CNY", None),
            Err(TransactionError::Amount(MAX_AMOUNT + 1))
        );
        assert!(matches!(
            make("t", 1, "XXX", None),
            Err(TransactionError::UnknownCurrency(_))
        ));
        assert!(matches!(
            make("t", 1, "cny", None),
            Err(TransactionError::UnknownCurrency(_))
        ));
        assert!(matches!(
            make("", 1, "CNY", None),
            Err(TransactionError::Field {
                field: "transaction id",
                ..
            })
        ));
        assert!(make(&"x".repeat(64), 1, "CNY", None).is_ok());
        assert!(matches!(
            make(&"x".repeat(65), 1, "CNY", None),
            Err(TransactionError::Field { .. })
        ));
        assert!(make("t", 1, "CNY", Some("备".repeat(140))).is_ok());
        assert!(matches!(
            make("t", 1, "CNY", Some("备".repeat(141))),
            Err(TransactionError::Field { field: "memo", .. })
        ));
        assert!(make("t", 1, "CNY", Some(String::new())).is_ok());
        assert!(matches!(
            Party::new("A", "12\u{202E}34", None),
            Err(TransactionError::Field {
                field: "account",
                ..
            })
        ));
        assert!(matches!(
            Party::new("A\n", "1", None),
            Err(TransactionError::Field { .. })
        ));
        assert!(matches!(
            Party::new("A", "1", Some(String::new())),
            Err(TransactionError::Field {
                field: "institution",
                ..
            })
        ));
        assert!(matches!(
            Transaction::new("t", p(), p(), 1, "CNY", 253_402_300_800, None),
            Err(TransactionError::Time(_))
        ));
    }

    #[test]
    fn parser_refuses_non_canonical_and_foreign_encodings() {
        let der = sample().to_der().expect("der");
        // A length in more bytes than it needs (BER, not DER).
        assert_eq!(der[1], 0x81, "test assumes a body of 128 to 255 bytes");
        let body = &der[3..];
        let mut long = vec![0x30, 0x82, 0x00, der[2]];
        long.extend_from_slice(body);
        assert!(matches!(
            Transaction::from_der(&long),
            Err(TransactionError::Malformed(_))
        ));
        // Trailing bytes.
        let mut trailing = der.clone();
        trailing.push(0);
        assert!(matches!(
            Transaction::from_der(&trailing),
            Err(TransactionError::Malformed(_))
        ));
        // Truncated.
        assert!(Transaction::from_der(&der[..der.len() - 1]).is_err());
        // Another type OID: a login assertion's arc.
        let other = der::asn1::ObjectIdentifier::new_unwrap("1.3.6.1.4.1.32473.17.2")
            .to_der()
            .expect("oid");
        let oid_len = ID_INKSEAL_TRANSACTION.to_der().expect("oid").len();
        assert_eq!(other.len(), oid_len);
        let mut foreign = der.clone();
        foreign[3..3 + oid_len].copy_from_slice(&other);
        assert_eq!(
            Transaction::from_der(&foreign),
            Err(TransactionError::NotATransaction(
                "1.3.6.1.4.1.32473.17.2".into()
            ))
        );
        // The id as a PrintableString instead of a UTF8String (wrong type).
        let at = 3 + oid_len;
        assert_eq!(der[at], 0x0c);
        let mut wrong = der.clone();
        wrong[at] = 0x13;
        assert!(matches!(
            Transaction::from_der(&wrong),
            Err(TransactionError::Malformed(_))
        ));
        // Amount 0, encoded by hand in place of the real amount.
        let amount = 123_456u64.to_der().expect("int");
        let pos = der
            .windows(amount.len())
            .position(|w| w == amount.as_slice())
            .expect("amount in the encoding");
        let mut contents = der[3..pos].to_vec();
        contents.extend_from_slice(&[0x02, 0x01, 0x00]);
        contents.extend_from_slice(&der[pos + amount.len()..]);
        assert_eq!(
            Transaction::from_der(&sequence(&contents)),
            Err(TransactionError::Amount(0))
        );
        // A non-minimal INTEGER (a leading zero byte) for the same amount.
        let mut contents = der[3..pos].to_vec();
        contents.extend_from_slice(&[0x02, 0x04, 0x00, 0x01, 0xe2, 0x40]);
        contents.extend_from_slice(&der[pos + amount.len()..]);
        assert!(Transaction::from_der(&sequence(&contents)).is_err());
        // A negative amount.
        let mut contents = der[3..pos].to_vec();
        contents.extend_from_slice(&[0x02, 0x01, 0xff]);
        contents.extend_from_slice(&der[pos + amount.len()..]);
        assert!(Transaction::from_der(&sequence(&contents)).is_err());
        // An unknown currency written as valid DER.
        let cny = PrintableString::new("CNY")
            .expect("ps")
            .to_der()
            .expect("der");
        let xts = PrintableString::new("XTS")
            .expect("ps")
            .to_der()
            .expect("der");
        let mut unknown = der.clone();
        let c = unknown
            .windows(cny.len())
            .position(|w| w == cny.as_slice())
            .expect("currency");
        unknown[c..c + cny.len()].copy_from_slice(&xts);
        assert_eq!(
            Transaction::from_der(&unknown),
            Err(TransactionError::UnknownCurrency("XTS".into()))
        );
        // Too large, before any decoding.
        assert!(matches!(
            Transaction::from_der(&vec![0x30; MAX_TRANSACTION_BYTES + 1]),
            Err(TransactionError::TooLarge { .. })
        ));
        // Not DER at all.
        assert!(Transaction::from_der(b"pay 100 CNY").is_err());
        assert!(Transaction::from_der(&[]).is_err());
    }

    #[test]
    fn parser_refuses_a_time_with_fractions_or_an_offset() {
        let der = sample().to_der().expect("der");
        let time = b"20260528202640Z";
        let pos = der
            .windows(time.len())
            .position(|w| w == time)
            .expect("time");
        assert_eq!(der[pos - 2], 0x18);
        for bad in [
            &b"20260528202640.5Z"[..],
            b"20260528202640+0800",
            b"202605282026Z",
        ] {
            let mut contents = der[3..pos - 2].to_vec();
            contents.push(0x18);
            contents.push(bad.len() as u8);
            contents.extend_from_slice(bad);
            contents.extend_from_slice(&der[pos + time.len()..]);
            assert!(
                Transaction::from_der(&sequence(&contents)).is_err(),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }
}
