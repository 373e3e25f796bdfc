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

/// GB/T 35275's OIDs for SM2: written on request, read back with their profile, checked like
/// RFC 5652's; the profile is one whole (a GB/T ContentInfo around id-data content is refused),
/// and P-256 has none. The server-side reader takes either content-type attribute.
#[test]
fn sm2_transactions_in_the_gbt35275_profile() {
    use cms::content_info::ContentInfo;
    use der::{Decode, Encode};
    use inkseal_pdf::cms::OidProfile;
    use inkseal_pdf::cms::attached::sign_transaction_in;

    let (fx, _ca) = sm2_fixture();
    let tx = transaction();
    let at = now();
    let anchors = [fx.root_der.clone()];
    let der = sign_transaction_in(OidProfile::GbT35275, &tx, &fx.signer, at).unwrap();
    let info = ContentInfo::from_der(&der).unwrap();
    assert_eq!(info.content_type.to_string(), "1.2.156.10197.6.1.4.2.2");
    let signed: cms::signed_data::SignedData = info.content.decode_as().unwrap();
    assert_eq!(
        signed.encap_content_info.econtent_type.to_string(),
        "1.2.156.10197.6.1.4.2.1"
    );
    let signer_info = signed.signer_infos.0.iter().next().unwrap();
    assert_eq!(
        signer_info.signature_algorithm.oid.to_string(),
        "1.2.156.10197.1.301.1"
    );
    assert_eq!(
        signer_info.digest_alg.oid.to_string(),
        "1.2.156.10197.1.401"
    );
    let v = verify_transaction(&der, &anchors, Some(at)).unwrap();
    assert_eq!(v.transaction, tx);
    assert_eq!(v.profile, OidProfile::GbT35275);
    assert_eq!(
        verify_transaction(
            &sign_transaction(&tx, &fx.signer, at).unwrap(),
            &anchors,
            Some(at)
        )
        .unwrap()
        .profile,
        OidProfile::Rfc5652
    );

    // An RFC 5652 SignedData relabelled as GB/T's: its id-data content is not GB/T data.
    let rfc = sign_transaction(&tx, &fx.signer, at).unwrap();
    let mut relabelled = ContentInfo::from_der(&rfc).unwrap();
    relabelled.content_type = "1.2.156.10197.6.1.4.2.2".parse().unwrap();
    assert!(matches!(
        verify_transaction(&relabelled.to_der().unwrap(), &anchors, Some(at)),
        Err(TransactionVerifyError::Signature(
            CmsError::ContentTypeMismatch(_)
        ))
    ));

    // The co-signing server's reader takes GB/T's content-type attribute.
    let prepared =
        PreparedAttached::transaction_in(OidProfile::GbT35275, &tx, fx.algorithm, &fx.chain, at)
            .unwrap();
    let content = tx.to_der().unwrap();
    assert_eq!(
        read_transaction_request(fx.algorithm, prepared.to_be_signed(), &content).unwrap(),
        tx
    );

    // No GB/T 35275 profile for P-256.
    let p256 = p256_fixture();
    assert!(matches!(
        sign_transaction_in(OidProfile::GbT35275, &tx, &p256.signer, at),
        Err(inkseal_pdf::cms::attached::TransactionSignError::Cms(
            CmsError::InvalidInput(_)
        ))
    ));
}
