//! The embedded CA: self-signed root, issuing, and the checks the phone runs.

mod common;

use common::*;
use der::{Decode, Encode};
use inkseal_pki::{
    CaKey, NOT_BEFORE_BACKDATE_SECS, PkiError, SM2_WITH_SM3, certificate_public_key,
    check_issued_for, issue_certificate, self_signed_ca, verify_certificate_signature,
};
use x509_cert::Certificate;
use x509_cert::ext::pkix::{
    AuthorityKeyIdentifier, BasicConstraints, KeyUsage, KeyUsages, SubjectKeyIdentifier,
};

fn parse(der: &[u8]) -> Certificate {
    let cert = Certificate::from_der(der).expect("x509-cert parses it");
    // Our TBSCertificate encoding is the one x509-cert reproduces.
    assert_eq!(cert.to_der().expect("re-encode"), der);
    cert
}

#[test]
fn self_signed_ca_verifies_under_itself_and_has_ca_extensions() {
    let (key, ca) = test_ca("inkseal test CA");
    verify_certificate_signature(&ca, &ca).expect("self-signature");
    assert_eq!(certificate_public_key(&ca).expect("key"), *key.public_key());
    check_issued_for(&ca, &ca, key.public_key(), NOW).expect("valid now");

    let cert = parse(&ca);
    let tbs = cert.tbs_certificate();
    assert_eq!(tbs.version(), x509_cert::Version::V3);
    assert_eq!(cert.signature_algorithm().oid, SM2_WITH_SM3);
    assert!(cert.signature_algorithm().parameters.is_none());
    assert_eq!(tbs.subject(), tbs.issuer());
    assert_eq!(tbs.subject().to_string(), "CN=inkseal test CA");
    let (critical, bc) = tbs
        .get_extension::<BasicConstraints>()
        .expect("decode")
        .expect("basicConstraints");
    assert!(critical && bc.ca);
    let (critical, ku) = tbs
        .get_extension::<KeyUsage>()
        .expect("decode")
        .expect("keyUsage");
    assert!(critical);
    assert_eq!(ku.0, KeyUsages::KeyCertSign | KeyUsages::CRLSign);
    let (critical, ski) = tbs
        .get_extension::<SubjectKeyIdentifier>()
        .expect("decode")
        .expect("subjectKeyIdentifier");
    assert!(!critical);
    assert_eq!(ski.0.as_bytes().len(), 20);
    assert_eq!(
        tbs.validity().not_before.to_unix_duration().as_secs(),
        NOW - NOT_BEFORE_BACKDATE_SECS
    );
    assert_eq!(
        tbs.validity().not_after.to_unix_duration().as_secs(),
        NOW + 3650 * DAY
    );
    // Deterministic: same key and time, same certificate.
    assert_eq!(
        self_signed_ca(&key, "inkseal test CA", 3650, NOW).expect("again"),
        ca
    );
}

#[test]
fn issued_certificate_verifies_and_carries_the_csr_key() {
    let (ca_key, ca) = test_ca("inkseal test CA");
    let user = plain_key();
    let csr = verified_csr(&user, "customer-310101199001011234");
    let ee = issue_certificate(&ca_key, &ca, &csr, &[0xff; 16], 365, NOW).expect("issue");

    verify_certificate_signature(&ee, &ca).expect("signature under the CA");
    assert_eq!(certificate_public_key(&ee).expect("key"), csr.public_key);
    check_issued_for(&ee, &ca, &public_key(&user), NOW).expect("phone check");
    check_issued_for(&ee, &ca, &public_key(&user), NOW + 365 * DAY).expect("last second");

    let cert = parse(&ee);
    let tbs = cert.tbs_certificate();
    assert_eq!(tbs.version(), x509_cert::Version::V3);
    // Top bit cleared: positive 16-byte serial without a sign octet.
    let mut expected_serial = [0xff; 16];
    expected_serial[0] = 0x7f;
    assert_eq!(tbs.serial_number().as_bytes(), expected_serial);
    assert_eq!(tbs.subject().to_string(), "CN=customer-310101199001011234");
    assert_eq!(tbs.issuer(), parse(&ca).tbs_certificate().subject());
    let (critical, bc) = tbs
        .get_extension::<BasicConstraints>()
        .expect("decode")
        .expect("basicConstraints");
    assert!(critical && !bc.ca);
    let (critical, ku) = tbs
        .get_extension::<KeyUsage>()
        .expect("decode")
        .expect("keyUsage");
    assert!(critical);
    assert_eq!(
        ku.0,
        KeyUsages::DigitalSignature | KeyUsages::NonRepudiation
    );
    let (_, aki) = tbs
        .get_extension::<AuthorityKeyIdentifier>()
        .expect("decode")
        .expect("authorityKeyIdentifier");
    let ca_cert = parse(&ca);
    let (_, ca_ski) = ca_cert
        .tbs_certificate()
        .get_extension::<SubjectKeyIdentifier>()
        .expect("decode")
        .expect("ski");
    assert_eq!(aki.key_identifier, Some(ca_ski.0));
    assert!(
        tbs.get_extension::<SubjectKeyIdentifier>()
            .expect("decode")
            .is_some()
    );
}

#[test]
fn check_issued_for_rejects_another_key_and_bad_times() {
    let (ca_key, ca) = test_ca("inkseal test CA");
    let user = plain_key();
    let csr = verified_csr(&user, "alice");
    let ee = issue_certificate(&ca_key, &ca, &csr, &[1; 16], 30, NOW).expect("issue");

    let other = plain_key();
    assert_eq!(
        check_issued_for(&ee, &ca, &public_key(&other), NOW),
        Err(PkiError::KeyMismatch)
    );
    assert_eq!(
        check_issued_for(&ee, &ca, &public_key(&user), NOW + 31 * DAY),
        Err(PkiError::Expired)
    );
    assert_eq!(
        check_issued_for(
            &ee,
            &ca,
            &public_key(&user),
            NOW - NOT_BEFORE_BACKDATE_SECS - 1
        ),
        Err(PkiError::NotYetValid)
    );
    // Clock skew within the backdating margin is fine.
    check_issued_for(&ee, &ca, &public_key(&user), NOW - 60).expect("slightly early clock");
}

#[test]
fn certificate_from_another_ca_is_rejected() {
    let (ca_key, ca) = test_ca("inkseal test CA");
    let user = plain_key();
    let csr = verified_csr(&user, "alice");
    let ee = issue_certificate(&ca_key, &ca, &csr, &[1; 16], 30, NOW).expect("issue");

    // Same name, different key: the signature does not verify.
    let (_, impostor) = test_ca("inkseal test CA");
    assert_eq!(
        verify_certificate_signature(&ee, &impostor),
        Err(PkiError::BadSignature)
    );
    // Different name: refused before the signature check.
    let (_, other) = test_ca("another CA");
    assert_eq!(
        verify_certificate_signature(&ee, &other),
        Err(PkiError::IssuerMismatch)
    );
    // An end-entity certificate cannot act as issuer, even of itself.
    assert!(matches!(
        verify_certificate_signature(&ee, &ee),
        Err(PkiError::IssuerMismatch | PkiError::NotCa)
    ));
}

#[test]
fn tampered_certificate_is_rejected() {
    let (ca_key, ca) = test_ca("inkseal test CA");
    let csr = verified_csr(&plain_key(), "alice");
    let ee = issue_certificate(&ca_key, &ca, &csr, &[1; 16], 30, NOW).expect("issue");
    let at = ee.windows(5).position(|w| w == b"alice").expect("cn");
    let mut tampered = ee.clone();
    tampered[at] = b'm';
    assert_eq!(
        verify_certificate_signature(&tampered, &ca),
        Err(PkiError::BadSignature)
    );
    let mut tampered = ee.clone();
    let last = tampered.len() - 1;
    tampered[last] ^= 1;
    assert_eq!(
        verify_certificate_signature(&tampered, &ca),
        Err(PkiError::BadSignature)
    );
    assert!(matches!(
        certificate_public_key(&ee[..ee.len() - 2]),
        Err(PkiError::Malformed(_))
    ));
}

#[test]
fn issuing_checks_its_inputs() {
    let (ca_key, ca) = test_ca("inkseal test CA");
    let csr = verified_csr(&plain_key(), "alice");
    // The CA certificate must be for the CA key.
    let (other_key, _) = test_ca("inkseal test CA");
    assert_eq!(
        issue_certificate(&other_key, &ca, &csr, &[1; 16], 30, NOW),
        Err(PkiError::KeyMismatch)
    );
    // Serial zero (after clearing the top bit) is refused.
    let mut zero = [0u8; 16];
    zero[0] = 0x80;
    assert!(matches!(
        issue_certificate(&ca_key, &ca, &csr, &zero, 30, NOW),
        Err(PkiError::InvalidInput(_))
    ));
    assert!(matches!(
        issue_certificate(&ca_key, &ca, &csr, &[1; 16], 0, NOW),
        Err(PkiError::InvalidInput(_))
    ));
    // An end-entity certificate cannot issue.
    let user = plain_key();
    let user_csr = verified_csr(&user, "bob");
    let ee = issue_certificate(&ca_key, &ca, &user_csr, &[2; 16], 30, NOW).expect("issue");
    let user_ca = CaKey::from_pkcs8_der(&pkcs8_of(&user)).expect("user key as CA key");
    assert_eq!(
        issue_certificate(&user_ca, &ee, &csr, &[3; 16], 30, NOW),
        Err(PkiError::NotCa)
    );
}

fn pkcs8_of(key: &inkseal_cosign::sm2::dsa::SigningKey) -> Vec<u8> {
    use inkseal_cosign::sm2::pkcs8::EncodePrivateKey;
    let secret = inkseal_cosign::sm2::SecretKey::from(*key.as_nonzero_scalar());
    secret.to_pkcs8_der().expect("pkcs8").as_bytes().to_vec()
}

#[test]
fn validity_is_capped_at_the_ca_not_after() {
    let key = CaKey::generate();
    let ca = self_signed_ca(&key, "short-lived CA", 10, NOW).expect("ca");
    let csr = verified_csr(&plain_key(), "alice");
    let ee = issue_certificate(&key, &ca, &csr, &[1; 16], 365, NOW).expect("issue");
    let ca_not_after = parse(&ca).tbs_certificate().validity().not_after;
    assert_eq!(
        parse(&ee).tbs_certificate().validity().not_after,
        ca_not_after
    );
    // Issuing after the CA expired is refused.
    assert!(matches!(
        issue_certificate(&key, &ca, &csr, &[1; 16], 365, NOW + 11 * DAY),
        Err(PkiError::InvalidInput(_))
    ));
    // And the phone refuses a certificate whose CA has expired.
    let late = ca_not_after.to_unix_duration().as_secs() + 1;
    assert_eq!(
        check_issued_for(&ee, &ca, &csr.public_key, late),
        Err(PkiError::Expired)
    );
}

#[test]
fn times_after_2049_use_generalized_time() {
    let key = CaKey::generate();
    let ca = self_signed_ca(&key, "long-lived CA", 40 * 365, NOW).expect("ca");
    let cert = parse(&ca);
    assert!(matches!(
        cert.tbs_certificate().validity().not_after,
        x509_cert::time::Time::GeneralTime(_)
    ));
    assert!(matches!(
        cert.tbs_certificate().validity().not_before,
        x509_cert::time::Time::UtcTime(_)
    ));
    verify_certificate_signature(&ca, &ca).expect("verifies");
}

#[test]
fn ca_key_pkcs8_round_trip_and_debug_hides_the_secret() {
    let key = CaKey::try_generate().expect("rng");
    let der = key.to_pkcs8_der().expect("pkcs8");
    let again = CaKey::from_pkcs8_der(&der).expect("decode");
    assert_eq!(again.public_key(), key.public_key());
    // Same key, same (deterministic) CA certificate.
    assert_eq!(
        self_signed_ca(&again, "x", 1, NOW).expect("a"),
        self_signed_ca(&key, "x", 1, NOW).expect("b")
    );
    let debug = format!("{key:?}");
    assert!(debug.starts_with("CaKey"));
    // The 32 secret bytes sit at the end of the PKCS#8 ECPrivateKey's OCTET STRING; none of
    // the secret's hex shows up in Debug.
    let secret_hex = secret_hex(&der);
    assert!(!debug.contains(&secret_hex));
    assert!(matches!(
        CaKey::from_pkcs8_der(b"\x30\x00"),
        Err(PkiError::Key(_))
    ));
}

fn secret_hex(pkcs8: &[u8]) -> String {
    use inkseal_cosign::sm2::pkcs8::DecodePrivateKey;
    let secret = inkseal_cosign::sm2::SecretKey::from_pkcs8_der(pkcs8).expect("decode");
    hex::encode(secret.to_bytes())
}
