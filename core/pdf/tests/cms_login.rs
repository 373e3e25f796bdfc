//! Attached login SignedData for both suites: sign with a local key, verify at a time, and the
//! typed refusals (expired, wrong relying party, bad signature, untrusted, revoked by CRL or by
//! a lookup, not a login, the server's request reading).
#![allow(clippy::unwrap_used)]

mod cms_support;

use cms_support::*;
use inkseal_pdf::cms::attached::{
    CrlRevocation, LoginRequestError, LoginRevocation, LoginVerifyError, PreparedAttached,
    RevocationSource, read_login_request, sign_login, sign_transaction, verify_login,
};
use inkseal_pdf::cms::login::{LoginAssertion, LoginAssertionError};
use inkseal_pdf::cms::transaction::{Party, Transaction};
use inkseal_pdf::cms::{CmsError, SignatureAlgorithm, signed_attributes};
use inkseal_pdf::signer::Signer;

const RP: &str = "bank.example";

fn assertion(issued: u64) -> LoginAssertion {
    LoginAssertion::new(RP, [1; 16], [2; 32], issued, issued + 300, None).unwrap()
}

struct Lookup(Option<u64>);

impl RevocationSource for Lookup {
    fn revoked_at(&self, serial: &[u8], issuer: &[u8]) -> Result<Option<u64>, String> {
        assert!(!serial.is_empty());
        assert!(!issuer.is_empty());
        Ok(self.0)
    }
}

struct Unknown;

impl RevocationSource for Unknown {
    fn revoked_at(&self, _: &[u8], _: &[u8]) -> Result<Option<u64>, String> {
        Err("responder down".into())
    }
}

fn check_suite(fx: &Fixture) {
    let at = now();
    let a = assertion(at - 10);
    let der = sign_login(&a, &fx.signer, at - 5).unwrap();
    let anchors = [fx.root_der.clone()];
    let good = Lookup(None);
    let v = verify_login(&der, &anchors, LoginRevocation::Checked(&good), at, RP).unwrap();
    assert_eq!(v.assertion, a);
    assert_eq!(v.challenge_id, [1; 16]);
    assert_eq!(v.relying_party, RP);
    assert_eq!(v.signed_at_unix, at - 5);
    assert_eq!(v.signer_certificate, fx.chain[0]);
    assert_eq!(
        v.serial,
        inkseal_pki::certificate_serial(&fx.chain[0]).unwrap()
    );
    assert!(v.subject.contains("CN="));
    assert!(v.revocation_checked);
    assert_eq!(v.algorithm, fx.algorithm);
    let offline = verify_login(&der, &anchors, LoginRevocation::NotChecked, at, RP).unwrap();
    assert!(!offline.revocation_checked);

    // Expired: at expiresAt and after.
    assert_eq!(
        verify_login(&der, &anchors, LoginRevocation::NotChecked, at + 290, RP),
        Err(LoginVerifyError::Expired {
            expires_unix: at + 290,
            now_unix: at + 290
        })
    );
    // Issued far in the future.
    let future = sign_login(&assertion(at + 400), &fx.signer, at).unwrap();
    assert!(matches!(
        verify_login(&future, &anchors, LoginRevocation::NotChecked, at, RP),
        Err(LoginVerifyError::NotYetValid { .. })
    ));
    // Another relying party.
    assert_eq!(
        verify_login(
            &der,
            &anchors,
            LoginRevocation::NotChecked,
            at,
            "other.example"
        ),
        Err(LoginVerifyError::WrongRelyingParty {
            expected: "other.example".into(),
            found: RP.into()
        })
    );
    // Revoked, or revocation unknown.
    assert_eq!(
        verify_login(
            &der,
            &anchors,
            LoginRevocation::Checked(&Lookup(Some(7))),
            at,
            RP
        ),
        Err(LoginVerifyError::Revoked { revoked_at_unix: 7 })
    );
    assert_eq!(
        verify_login(&der, &anchors, LoginRevocation::Checked(&Unknown), at, RP),
        Err(LoginVerifyError::RevocationUnknown("responder down".into()))
    );
    // Untrusted.
    assert!(matches!(
        verify_login(&der, &[], LoginRevocation::NotChecked, at, RP),
        Err(LoginVerifyError::Untrusted(_))
    ));
    // A flipped bit in the signature value.
    let mut bad = der.clone();
    let sig = fx.signer.sign(b"probe").unwrap();
    let n = bad.len();
    bad[n - sig.len() / 2] ^= 0x01;
    assert!(matches!(
        verify_login(&bad, &anchors, LoginRevocation::NotChecked, at, RP),
        Err(LoginVerifyError::Signature(_))
    ));
    // A transaction signature is not a login.
    let tx = Transaction::new(
        "T",
        Party::new("A", "1", None).unwrap(),
        Party::new("B", "2", None).unwrap(),
        1,
        "CNY",
        at,
        None,
    )
    .unwrap();
    let tx_der = sign_transaction(&tx, &fx.signer, at).unwrap();
    assert!(matches!(
        verify_login(&tx_der, &anchors, LoginRevocation::NotChecked, at, RP),
        Err(LoginVerifyError::NotALogin(
            LoginAssertionError::TooLarge { .. }
        )) | Err(LoginVerifyError::NotALogin(LoginAssertionError::Malformed(
            _
        )))
    ));
    // A detached signature is refused.
    let (_, detached) = sign_detached(fx, &[b"pdf"], &[]);
    assert!(matches!(
        verify_login(&detached, &anchors, LoginRevocation::NotChecked, at, RP),
        Err(LoginVerifyError::Signature(CmsError::Malformed(_)))
    ));
    // Prepared by hand (the co-signing path) gives the same bytes' shape.
    let prepared = PreparedAttached::login(&a, fx.algorithm, &fx.chain, at).unwrap();
    let cosigned = prepared
        .finish_login(&fx.signer.sign(prepared.to_be_signed()).unwrap())
        .unwrap();
    assert!(verify_login(&cosigned, &anchors, LoginRevocation::NotChecked, at, RP).is_ok());
    assert!(
        prepared
            .finish_login(&fx.signer.sign(b"x").unwrap())
            .is_err()
    );
}

#[test]
fn sm2_logins_sign_and_verify() {
    let (fx, _ca) = sm2_fixture();
    check_suite(&fx);
}

#[test]
fn p256_logins_sign_and_verify() {
    if !have_openssl() {
        panic!("openssl is needed for the P-256 fixture");
    }
    check_suite(&p256_fixture());
}

#[test]
fn crls_from_the_issuer_decide_revocation() {
    let (fx, ca) = sm2_fixture();
    let at = now();
    let der = sign_login(&assertion(at), &fx.signer, at).unwrap();
    let anchors = [fx.root_der.clone()];
    let serial = inkseal_pki::certificate_serial(&fx.chain[0]).unwrap();
    let crl = |revoked: Vec<inkseal_pki::RevokedCertificate>, next: u64| {
        inkseal_pki::build_crl(&ca, &fx.root_der, &revoked, 1, at - 100, next).unwrap()
    };
    let clean = [crl(vec![], at + 3600)];
    let check = |crls: &[Vec<u8>]| {
        let source = CrlRevocation { crls, now_unix: at };
        verify_login(&der, &anchors, LoginRevocation::Checked(&source), at, RP)
    };
    assert!(check(&clean).unwrap().revocation_checked);
    let listed = [crl(
        vec![inkseal_pki::RevokedCertificate {
            serial: serial.clone(),
            revoked_at_unix: at - 50,
            reason: None,
        }],
        at + 3600,
    )];
    assert_eq!(
        check(&listed),
        Err(LoginVerifyError::Revoked {
            revoked_at_unix: at - 50
        })
    );
    assert!(matches!(
        check(&[crl(vec![], at - 1)]),
        Err(LoginVerifyError::RevocationUnknown(_))
    ));
    assert!(matches!(
        check(&[]),
        Err(LoginVerifyError::RevocationUnknown(_))
    ));
}

#[test]
fn the_server_reads_only_attributes_that_name_the_assertion() {
    let (fx, _ca) = sm2_fixture();
    let alg = SignatureAlgorithm::Sm2Sm3;
    let content = assertion(now()).to_der().unwrap();
    let attrs = signed_attributes(alg, &alg.digest(&[&content]), &fx.chain[0], &[]).unwrap();
    assert_eq!(
        read_login_request(alg, &attrs, &content).unwrap(),
        assertion(LoginAssertion::from_der(&content).unwrap().issued_unix())
    );
    let mut other = content.clone();
    let last = other.len() - 1;
    other[last] ^= 1;
    assert_eq!(
        read_login_request(alg, &attrs, &other),
        Err(LoginRequestError::DigestMismatch)
    );
    let attrs = signed_attributes(alg, &alg.digest(&[b"x"]), &fx.chain[0], &[]).unwrap();
    assert!(matches!(
        read_login_request(alg, &attrs, b"x"),
        Err(LoginRequestError::Content(_))
    ));
    assert!(matches!(
        read_login_request(alg, b"\x31\x00", &content),
        Err(LoginRequestError::Attributes(_))
    ));
}
