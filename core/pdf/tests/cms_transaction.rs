//! Attached transaction SignedData for both suites: sign with a local key, verify, and the
//! typed refusals (not a transaction, tampered, untrusted, wrong time, the server's checks).
#![allow(clippy::unwrap_used)]

mod cms_support;

use cms_support::*;
use inkseal_pdf::cms::attached::{
    PreparedAttached, TransactionRequestError, TransactionVerifyError, read_transaction_request,
    sign_transaction, verify_transaction,
};
use inkseal_pdf::cms::transaction::{Party, Transaction, TransactionError};
use inkseal_pdf::cms::{CmsError, SignatureAlgorithm, signed_attributes};
use inkseal_pdf::signer::Signer;

fn transaction() -> Transaction {
    Transaction::new(
        "T-1",
        Party::new("Payer", "111", None).unwrap(),
        Party::new("Payee", "222", Some("Bank".into())).unwrap(),
        1500,
        "JPY",
        now() - 5,
        None,
    )
    .unwrap()
}

fn check_suite(fx: &Fixture) {
    let tx = transaction();
    let at = now();
    let der = sign_transaction(&tx, &fx.signer, at).unwrap();
    let anchors = [fx.root_der.clone()];
    let v = verify_transaction(&der, &anchors, Some(at)).unwrap();
    assert_eq!(v.transaction, tx);
    assert_eq!(v.amount_display, "1500 JPY");
    assert_eq!(v.signing_time_unix, at);
    assert_eq!(v.algorithm, fx.algorithm);
    assert_eq!(v.signer_certificate, fx.chain[0]);
    assert_eq!(v.chain.last(), Some(&fx.root_der));

    // Certificates checked at a time they were not valid.
    assert!(matches!(
        verify_transaction(&der, &anchors, Some(at + 20 * 365 * 86_400)),
        Err(TransactionVerifyError::Untrusted(
            CmsError::CertificateExpired(_)
        ))
    ));
    // No anchors: untrusted, though the signature holds.
    assert!(matches!(
        verify_transaction(&der, &[], Some(at)),
        Err(TransactionVerifyError::Untrusted(_))
    ));
    // A flipped bit in the signature value (the last bytes of the SignerInfo).
    let mut bad = der.clone();
    let sig = fx.signer.sign(b"probe").unwrap();
    let n = bad.len();
    bad[n - sig.len() / 2] ^= 0x01;
    assert!(matches!(
        verify_transaction(&bad, &anchors, Some(at)),
        Err(TransactionVerifyError::Signature(_))
    ));

    // A valid attached signature over content that is not a transaction.
    let prepared =
        PreparedAttached::new(b"pay 1,000,000".to_vec(), fx.algorithm, &fx.chain, at).unwrap();
    let other = prepared
        .finish(&fx.signer.sign(prepared.to_be_signed()).unwrap())
        .unwrap();
    assert!(matches!(
        verify_transaction(&other, &anchors, Some(at)),
        Err(TransactionVerifyError::NotATransaction(
            TransactionError::Malformed(_)
        ))
    ));
    // A detached (PAdES) signature is not a transaction signature either.
    let (_, detached) = sign_detached(fx, &[b"some pdf bytes"], &[]);
    assert!(matches!(
        verify_transaction(&detached, &anchors, Some(at)),
        Err(TransactionVerifyError::Signature(CmsError::Malformed(_)))
    ));
    // A wrong signature is caught before anything is written.
    assert!(prepared.finish(&fx.signer.sign(b"other").unwrap()).is_err());
}

#[test]
fn sm2_transactions_sign_and_verify() {
    let (fx, _ca) = sm2_fixture();
    check_suite(&fx);
}

#[test]
fn p256_transactions_sign_and_verify() {
    if !have_openssl() {
        panic!("openssl is needed for the P-256 fixture");
    }
    check_suite(&p256_fixture());
}

#[test]
fn the_server_reads_only_attributes_that_name_the_transaction() {
    let (fx, _ca) = sm2_fixture();
    let alg = SignatureAlgorithm::Sm2Sm3;
    let tx = transaction().to_der().unwrap();
    let attrs = signed_attributes(alg, &alg.digest(&[&tx]), &fx.chain[0], &[]).unwrap();
    assert_eq!(
        read_transaction_request(alg, &attrs, &tx).unwrap(),
        transaction()
    );
    let mut other = tx.clone();
    let last = other.len() - 1;
    other[last] ^= 1;
    assert_eq!(
        read_transaction_request(alg, &attrs, &other),
        Err(TransactionRequestError::DigestMismatch)
    );
    let attrs = signed_attributes(alg, &alg.digest(&[b"x"]), &fx.chain[0], &[]).unwrap();
    assert!(matches!(
        read_transaction_request(alg, &attrs, b"x"),
        Err(TransactionRequestError::Content(_))
    ));
    assert!(matches!(
        read_transaction_request(alg, b"\x31\x00", &tx),
        Err(TransactionRequestError::Attributes(_))
    ));
}
