//! CRLs from the embedded CA: building, decoding with x509-cert, `parse_crl` and its refusals.
//!
//! The independent checks (OpenSSL's text output, BouncyCastle's signature verdict) are in
//! `crl_interop.rs`.

mod common;

use common::*;
use const_oid::AssociatedOid;
use der::asn1::{BitString, OctetString};
use der::{Decode, Encode};
use inkseal_cosign::DEFAULT_SIGNER_ID;
use inkseal_cosign::sm2::SecretKey;
use inkseal_cosign::sm2::dsa::SigningKey;
use inkseal_cosign::sm2::dsa::signature::Signer;
use inkseal_cosign::sm2::pkcs8::DecodePrivateKey;
use inkseal_pki::{
    CaKey, MAX_CRL_BYTES, ParsedCrl, PkiError, RevocationReason, RevokedCertificate, SM2_WITH_SM3,
    build_crl, certificate_serial, issue_certificate, parse_crl, signature_to_der,
};
use x509_cert::Certificate;
use x509_cert::crl::CertificateList;
use x509_cert::ext::Extension;
use x509_cert::ext::pkix::crl::CrlReason;
use x509_cert::ext::pkix::{AuthorityKeyIdentifier, CrlNumber, SubjectKeyIdentifier};
use x509_cert::time::Time;

const NEXT_WEEK: u64 = NOW + 7 * DAY;

/// Three end-entity certificates from `ca`, with serials that exercise the top-bit rule.
fn issued(ca_key: &CaKey, ca: &[u8]) -> Vec<Vec<u8>> {
    [[0xab_u8; 16], [0x01; 16], [0x00; 16]]
        .iter()
        .enumerate()
        .map(|(i, serial)| {
            let mut serial = *serial;
            serial[15] = serial[15].wrapping_add(i as u8 + 1); // never all-zero
            let csr = verified_csr(&plain_key(), &format!("customer-{i}"));
            issue_certificate(ca_key, ca, &csr, &serial, 365, NOW).expect("issue")
        })
        .collect()
}

fn revoked_entries(certs: &[Vec<u8>]) -> Vec<RevokedCertificate> {
    let reasons = [
        Some(RevocationReason::KeyCompromise),
        None,
        Some(RevocationReason::Superseded),
    ];
    certs
        .iter()
        .zip(reasons)
        .enumerate()
        .map(|(i, (cert, reason))| RevokedCertificate {
            serial: certificate_serial(cert).expect("serial"),
            revoked_at_unix: NOW + 3600 * (i as u64 + 1),
            reason,
        })
        .collect()
}

fn decode(crl: &[u8]) -> CertificateList {
    let decoded = CertificateList::from_der(crl).expect("x509-cert decodes the CRL");
    // Canonical: x509-cert re-encodes exactly our bytes.
    assert_eq!(decoded.to_der().expect("re-encode"), crl);
    decoded
}

fn find(extensions: &[Extension], oid: const_oid::ObjectIdentifier) -> &Extension {
    extensions
        .iter()
        .find(|e| e.extn_id == oid)
        .unwrap_or_else(|| panic!("extension {oid} missing"))
}

#[test]
fn empty_crl_decodes_with_x509_cert_and_round_trips() {
    let (ca_key, ca) = test_ca("inkseal test CA");
    let crl = build_crl(&ca_key, &ca, &[], 1, NOW, NEXT_WEEK).expect("crl");

    let decoded = decode(&crl);
    let tbs = &decoded.tbs_cert_list;
    let ca_cert = Certificate::from_der(&ca).expect("ca");
    assert_eq!(tbs.version, x509_cert::Version::V2);
    assert_eq!(decoded.signature_algorithm.oid, SM2_WITH_SM3);
    assert!(decoded.signature_algorithm.parameters.is_none());
    assert_eq!(tbs.signature, decoded.signature_algorithm);
    assert_eq!(tbs.issuer, *ca_cert.tbs_certificate().subject());
    assert!(matches!(tbs.this_update, Time::UtcTime(_)));
    assert!(matches!(tbs.next_update, Some(Time::UtcTime(_))));
    assert_eq!(tbs.this_update.to_unix_duration().as_secs(), NOW);
    // RFC 5280 section 5.1.2.6: absent, not an empty SEQUENCE, when nothing is revoked.
    assert!(tbs.revoked_certificates.is_none());

    let extensions = tbs.crl_extensions.as_deref().expect("crlExtensions");
    assert_eq!(extensions.len(), 2);
    let aki = find(extensions, AuthorityKeyIdentifier::OID);
    assert!(!aki.critical);
    let aki = AuthorityKeyIdentifier::from_der(aki.extn_value.as_bytes()).expect("aki");
    let (_, ski) = ca_cert
        .tbs_certificate()
        .get_extension::<SubjectKeyIdentifier>()
        .expect("decode")
        .expect("ski");
    assert_eq!(aki.key_identifier, Some(ski.0));
    let number = find(extensions, CrlNumber::OID);
    assert!(!number.critical);
    assert_eq!(
        CrlNumber::from_der(number.extn_value.as_bytes()).expect("number"),
        CrlNumber::try_from(1u64).expect("number")
    );

    assert_eq!(
        parse_crl(&crl, &ca),
        Ok(ParsedCrl {
            crl_number: 1,
            this_update_unix: NOW,
            next_update_unix: NEXT_WEEK,
            revoked: vec![],
        })
    );
}

#[test]
fn crl_with_three_issued_certificates_round_trips() {
    let (ca_key, ca) = test_ca("inkseal test CA");
    let certs = issued(&ca_key, &ca);
    let revoked = revoked_entries(&certs);
    // The top bit of a requested serial is cleared by issue_certificate; the serial the CRL
    // names is the one in the certificate.
    assert_eq!(revoked[0].serial[0], 0x2b);
    assert_eq!(revoked[0].serial.len(), 16);
    // Leading zero octets are not part of the serial.
    assert_eq!(revoked[2].serial, vec![3]);

    let crl = build_crl(&ca_key, &ca, &revoked, 42, NOW + DAY, NOW + 8 * DAY).expect("crl");
    let decoded = decode(&crl);
    let entries = decoded
        .tbs_cert_list
        .revoked_certificates
        .as_deref()
        .expect("revokedCertificates");
    assert_eq!(entries.len(), 3);
    for (entry, (cert, expected)) in entries.iter().zip(certs.iter().zip(&revoked)) {
        let cert = Certificate::from_der(cert).expect("cert");
        assert_eq!(entry.serial_number, *cert.tbs_certificate().serial_number());
        assert_eq!(
            entry.revocation_date.to_unix_duration().as_secs(),
            expected.revoked_at_unix
        );
        match expected.reason {
            None => assert!(entry.crl_entry_extensions.is_none()),
            Some(reason) => {
                let extensions = entry.crl_entry_extensions.as_deref().expect("entry ext");
                assert_eq!(extensions.len(), 1);
                let ext = find(extensions, CrlReason::OID);
                assert!(!ext.critical);
                let decoded = CrlReason::from_der(ext.extn_value.as_bytes()).expect("reason");
                let expected = match reason {
                    RevocationReason::KeyCompromise => CrlReason::KeyCompromise,
                    RevocationReason::Superseded => CrlReason::Superseded,
                    other => panic!("unexpected {other:?}"),
                };
                assert_eq!(decoded, expected);
            }
        }
    }

    let parsed = parse_crl(&crl, &ca).expect("parse");
    assert_eq!(parsed.crl_number, 42);
    assert_eq!(parsed.this_update_unix, NOW + DAY);
    assert_eq!(parsed.next_update_unix, NOW + 8 * DAY);
    assert_eq!(parsed.revoked, revoked);
    for cert in &certs {
        let serial = certificate_serial(cert).expect("serial");
        assert!(parsed.revocation_of(&serial).is_some());
        let mut padded = vec![0, 0];
        padded.extend_from_slice(&serial);
        assert!(parsed.revocation_of(&padded).is_some());
    }
    assert!(parsed.revocation_of(&[0x7f; 16]).is_none());
}

#[test]
fn every_reason_round_trips_and_unspecified_is_left_out() {
    let (ca_key, ca) = test_ca("inkseal test CA");
    let reasons = [
        RevocationReason::KeyCompromise,
        RevocationReason::CaCompromise,
        RevocationReason::AffiliationChanged,
        RevocationReason::Superseded,
        RevocationReason::CessationOfOperation,
        RevocationReason::CertificateHold,
        RevocationReason::PrivilegeWithdrawn,
        RevocationReason::AaCompromise,
    ];
    let mut revoked: Vec<RevokedCertificate> = reasons
        .iter()
        .enumerate()
        .map(|(i, reason)| RevokedCertificate {
            serial: vec![0x10, i as u8 + 1],
            revoked_at_unix: NOW,
            reason: Some(*reason),
        })
        .collect();
    revoked.push(RevokedCertificate {
        serial: vec![0x20],
        revoked_at_unix: NOW,
        reason: Some(RevocationReason::Unspecified),
    });
    let crl = build_crl(&ca_key, &ca, &revoked, 7, NOW, NEXT_WEEK).expect("crl");
    let parsed = parse_crl(&crl, &ca).expect("parse");
    assert_eq!(parsed.revoked[..reasons.len()], revoked[..reasons.len()]);
    // RFC 5280 section 5.3.1: no reasonCode rather than unspecified.
    assert_eq!(parsed.revoked[reasons.len()].reason, None);
    let decoded = decode(&crl);
    let entries = decoded.tbs_cert_list.revoked_certificates.expect("entries");
    assert!(entries[reasons.len()].crl_entry_extensions.is_none());
}

#[test]
fn certificate_serial_is_the_positive_serial_of_the_certificate() {
    let (ca_key, ca) = test_ca("inkseal test CA");
    let csr = verified_csr(&plain_key(), "alice");
    let ee = issue_certificate(&ca_key, &ca, &csr, &[0xff; 16], 30, NOW).expect("issue");
    let mut expected = vec![0x7f];
    expected.extend([0xff; 15]);
    assert_eq!(certificate_serial(&ee), Ok(expected));
    let mut serial = [0u8; 16];
    serial[14] = 0x80;
    serial[15] = 0x01;
    let ee = issue_certificate(&ca_key, &ca, &csr, &serial, 30, NOW).expect("issue");
    assert_eq!(certificate_serial(&ee), Ok(vec![0x80, 0x01]));
    assert!(certificate_serial(&ca).is_ok());
    assert!(matches!(
        certificate_serial(b"not a certificate"),
        Err(PkiError::Malformed(_))
    ));
    assert_eq!(
        certificate_serial(&vec![0x30; 20_000]),
        Err(PkiError::TooLarge(inkseal_pki::MAX_CERTIFICATE_BYTES))
    );
}

#[test]
fn tampered_crl_is_refused() {
    let (ca_key, ca) = test_ca("inkseal test CA");
    let revoked = revoked_entries(&issued(&ca_key, &ca));
    let crl = build_crl(&ca_key, &ca, &revoked, 5, NOW, NEXT_WEEK).expect("crl");

    // Un-revoke a certificate by changing one octet of its serial.
    let serial = &revoked[0].serial;
    let at = crl
        .windows(serial.len())
        .position(|w| w == serial.as_slice())
        .expect("serial in the CRL");
    let mut tampered = crl.clone();
    tampered[at + 3] ^= 0x01;
    assert_eq!(parse_crl(&tampered, &ca), Err(PkiError::BadSignature));

    // Move nextUpdate: the UTCTime digits are ASCII.
    let mut tampered = crl.clone();
    let time = b"26010800"; // 2026-01-08, NEXT_WEEK's date
    let at = tampered
        .windows(time.len())
        .position(|w| w == time)
        .expect("nextUpdate");
    tampered[at + 5] = b'9';
    assert_eq!(parse_crl(&tampered, &ca), Err(PkiError::BadSignature));

    // The signature itself.
    let mut tampered = crl.clone();
    let last = tampered.len() - 1;
    tampered[last] ^= 0x01;
    assert!(matches!(
        parse_crl(&tampered, &ca),
        Err(PkiError::BadSignature | PkiError::Malformed(_))
    ));

    // Truncated or extended.
    assert!(matches!(
        parse_crl(&crl[..crl.len() - 1], &ca),
        Err(PkiError::Malformed(_))
    ));
    let mut extended = crl.clone();
    extended.push(0);
    assert!(matches!(
        parse_crl(&extended, &ca),
        Err(PkiError::Malformed(_))
    ));
    for len in 0..crl.len() {
        assert!(parse_crl(&crl[..len], &ca).is_err());
    }
}

#[test]
fn wrong_ca_is_refused() {
    let (ca_key, ca) = test_ca("inkseal test CA");
    let crl = build_crl(&ca_key, &ca, &[], 1, NOW, NEXT_WEEK).expect("crl");

    // Same name, another key: the signature does not verify.
    let (impostor_key, impostor) = test_ca("inkseal test CA");
    assert_eq!(parse_crl(&crl, &impostor), Err(PkiError::BadSignature));
    // Another name: refused before the signature.
    let (_, other) = test_ca("another CA");
    assert_eq!(parse_crl(&crl, &other), Err(PkiError::IssuerMismatch));
    // The CA key must be the CA certificate's.
    assert_eq!(
        build_crl(&impostor_key, &ca, &[], 1, NOW, NEXT_WEEK),
        Err(PkiError::KeyMismatch)
    );
    // An end-entity certificate is not a CRL issuer, even for its own key.
    let (ee_key, ee) = end_entity_with_ca_key(&ca_key, &ca, "inkseal test CA");
    assert_eq!(
        build_crl(&ee_key, &ee, &[], 1, NOW, NEXT_WEEK),
        Err(PkiError::NotCa)
    );
    let forged = sign_tbs(&ee_key, &tbs_of(&crl));
    assert_eq!(parse_crl(&forged, &ee), Err(PkiError::NotCa));
}

#[test]
fn build_crl_checks_its_inputs() {
    let (ca_key, ca) = test_ca("inkseal test CA");
    let entry = |serial: Vec<u8>| RevokedCertificate {
        serial,
        revoked_at_unix: NOW,
        reason: None,
    };
    let invalid = |revoked: &[RevokedCertificate], this: u64, next: u64| {
        matches!(
            build_crl(&ca_key, &ca, revoked, 1, this, next),
            Err(PkiError::InvalidInput(_))
        )
    };
    assert!(invalid(&[], NOW, NOW));
    assert!(invalid(&[], NOW, NOW - 1));
    assert!(invalid(&[entry(vec![])], NOW, NEXT_WEEK));
    assert!(invalid(&[entry(vec![0, 0])], NOW, NEXT_WEEK));
    assert!(invalid(&[entry(vec![1; 21])], NOW, NEXT_WEEK));
    // 20 octets with the top bit set need a 21st (sign) octet: more than RFC 5280 allows.
    assert!(invalid(&[entry(vec![0x80; 20])], NOW, NEXT_WEEK));
    assert!(build_crl(&ca_key, &ca, &[entry(vec![0x7f; 20])], 1, NOW, NEXT_WEEK).is_ok());
    // The same serial twice, however written.
    assert!(invalid(
        &[entry(vec![5, 6]), entry(vec![0, 5, 6])],
        NOW,
        NEXT_WEEK
    ));
    // Beyond year 9999.
    assert!(invalid(&[], NOW, 300_000_000_000));
    let mut late = entry(vec![1]);
    late.revoked_at_unix = 300_000_000_000;
    assert!(invalid(&[late], NOW, NEXT_WEEK));
}

#[test]
fn times_from_2050_are_generalized_time() {
    let (ca_key, ca) = test_ca("inkseal test CA");
    let y2050 = 2_524_608_000; // 2050-01-01T00:00:00Z
    let revoked = [RevokedCertificate {
        serial: vec![9],
        revoked_at_unix: y2050 - 1,
        reason: None,
    }];
    let crl = build_crl(&ca_key, &ca, &revoked, 1, y2050 - 1, y2050).expect("crl");
    let decoded = decode(&crl);
    let tbs = &decoded.tbs_cert_list;
    assert!(matches!(tbs.this_update, Time::UtcTime(_)));
    assert!(matches!(tbs.next_update, Some(Time::GeneralTime(_))));
    let entries = tbs.revoked_certificates.as_deref().expect("entries");
    assert!(matches!(entries[0].revocation_date, Time::UtcTime(_)));
    let parsed = parse_crl(&crl, &ca).expect("parse");
    assert_eq!(parsed.next_update_unix, y2050);
}

#[test]
fn size_limits() {
    let (ca_key, ca) = test_ca("inkseal test CA");
    assert_eq!(
        parse_crl(&vec![0x30; MAX_CRL_BYTES + 1], &ca),
        Err(PkiError::TooLarge(MAX_CRL_BYTES))
    );
    // About 30 000 entries would exceed the parser's limit: build_crl refuses to write them.
    let revoked: Vec<_> = (1..=30_000u32)
        .map(|i| RevokedCertificate {
            serial: [[0x11; 12].as_slice(), &i.to_be_bytes()].concat(),
            revoked_at_unix: NOW,
            reason: Some(RevocationReason::Superseded),
        })
        .collect();
    assert!(matches!(
        build_crl(&ca_key, &ca, &revoked, 1, NOW, NEXT_WEEK),
        Err(PkiError::InvalidInput(_))
    ));
    // A large but allowed CRL round-trips.
    let crl = build_crl(&ca_key, &ca, &revoked[..10_000], 1, NOW, NEXT_WEEK).expect("crl");
    assert!(crl.len() < MAX_CRL_BYTES);
    assert_eq!(parse_crl(&crl, &ca).expect("parse").revoked.len(), 10_000);
}

// ---------------------------------------------------------------------------------------------
// CRLs signed by the CA key but written by hand, for what build_crl never writes.

/// The CA key as an `sm2` signing key (default signer ID), through PKCS#8.
fn signing_key(ca_key: &CaKey) -> SigningKey {
    let der = ca_key.to_pkcs8_der().expect("pkcs8");
    let secret = SecretKey::from_pkcs8_der(&der).expect("secret");
    SigningKey::new(DEFAULT_SIGNER_ID, &secret).expect("signing key")
}

/// A certificate for `ca_key`'s key, issued by the CA: a CA:false certificate whose subject is
/// `cn`.
fn end_entity_with_ca_key(ca_key: &CaKey, ca: &[u8], cn: &str) -> (CaKey, Vec<u8>) {
    let key = CaKey::generate();
    let csr = verified_csr(&signing_key(&key), cn);
    let cert = issue_certificate(ca_key, ca, &csr, &[7; 16], 30, NOW).expect("issue");
    (key, cert)
}

fn tbs_of(crl: &[u8]) -> x509_cert::crl::TbsCertList {
    CertificateList::from_der(crl)
        .expect("decode")
        .tbs_cert_list
}

/// Sign a TBSCertList with `key` and wrap it into a CertificateList.
fn sign_tbs(key: &CaKey, tbs: &x509_cert::crl::TbsCertList) -> Vec<u8> {
    let tbs_der = tbs.to_der().expect("tbs");
    let signature: inkseal_cosign::sm2::dsa::Signature = signing_key(key).sign(&tbs_der);
    CertificateList {
        tbs_cert_list: tbs.clone(),
        signature_algorithm: tbs.signature.clone(),
        signature: BitString::from_bytes(&signature_to_der(&signature)).expect("bits"),
    }
    .to_der()
    .expect("crl")
}

fn raw_extension(oid: &str, critical: bool, value: &[u8]) -> Extension {
    Extension {
        extn_id: const_oid::ObjectIdentifier::new(oid).expect("oid"),
        critical,
        extn_value: OctetString::new(value.to_vec()).expect("value"),
    }
}

#[test]
fn hand_signed_crls_pass_only_with_what_the_parser_understands() {
    let (ca_key, ca) = test_ca("inkseal test CA");
    let revoked = [RevokedCertificate {
        serial: vec![1, 2, 3],
        revoked_at_unix: NOW,
        reason: Some(RevocationReason::KeyCompromise),
    }];
    let base = tbs_of(&build_crl(&ca_key, &ca, &revoked, 3, NOW, NEXT_WEEK).expect("crl"));

    // Re-signing the unchanged TBSCertList gives an accepted CRL (the helper is sound).
    assert_eq!(
        parse_crl(&sign_tbs(&ca_key, &base), &ca)
            .expect("parse")
            .crl_number,
        3
    );

    // An unknown non-critical CRL extension is ignored; a critical one is refused.
    let mut tbs = base.clone();
    let extensions = tbs.crl_extensions.as_mut().expect("extensions");
    extensions.push(raw_extension("1.2.3.4", false, &[0x05, 0x00]));
    assert!(parse_crl(&sign_tbs(&ca_key, &tbs), &ca).is_ok());
    let extensions = tbs.crl_extensions.as_mut().expect("extensions");
    extensions.last_mut().expect("last").critical = true;
    assert_eq!(
        parse_crl(&sign_tbs(&ca_key, &tbs), &ca),
        Err(PkiError::UnsupportedCriticalExtension("1.2.3.4".into()))
    );

    // issuingDistributionPoint (critical, partitioned CRLs) is not understood.
    let mut tbs = base.clone();
    let extensions = tbs.crl_extensions.as_mut().expect("extensions");
    extensions.push(raw_extension("2.5.29.28", true, &[0x30, 0x00]));
    assert_eq!(
        parse_crl(&sign_tbs(&ca_key, &tbs), &ca),
        Err(PkiError::UnsupportedCriticalExtension("2.5.29.28".into()))
    );

    // certificateIssuer entry extension (critical, indirect CRLs) is not understood.
    let mut tbs = base.clone();
    let entries = tbs.revoked_certificates.as_mut().expect("entries");
    entries[0]
        .crl_entry_extensions
        .as_mut()
        .expect("entry extensions")
        .push(raw_extension("2.5.29.29", true, &[0x30, 0x00]));
    assert_eq!(
        parse_crl(&sign_tbs(&ca_key, &tbs), &ca),
        Err(PkiError::UnsupportedCriticalExtension("2.5.29.29".into()))
    );

    // A repeated extension, a missing cRLNumber, a missing nextUpdate: malformed.
    let mut tbs = base.clone();
    let extensions = tbs.crl_extensions.as_mut().expect("extensions");
    let number = extensions[1].clone();
    extensions.push(number);
    assert!(matches!(
        parse_crl(&sign_tbs(&ca_key, &tbs), &ca),
        Err(PkiError::Malformed(_))
    ));
    let mut tbs = base.clone();
    tbs.crl_extensions.as_mut().expect("extensions").pop();
    assert!(matches!(
        parse_crl(&sign_tbs(&ca_key, &tbs), &ca),
        Err(PkiError::Malformed(_))
    ));
    let mut tbs = base.clone();
    tbs.next_update = None;
    assert!(matches!(
        parse_crl(&sign_tbs(&ca_key, &tbs), &ca),
        Err(PkiError::Malformed(_))
    ));

    // An authorityKeyIdentifier naming another key, under a valid signature: refused.
    let mut tbs = base.clone();
    let extensions = tbs.crl_extensions.as_mut().expect("extensions");
    extensions[0] = raw_extension(
        "2.5.29.35",
        false,
        &AuthorityKeyIdentifier {
            key_identifier: Some(OctetString::new(vec![0x42; 20]).expect("id")),
            authority_cert_issuer: None,
            authority_cert_serial_number: None,
        }
        .to_der()
        .expect("aki"),
    );
    assert_eq!(
        parse_crl(&sign_tbs(&ca_key, &tbs), &ca),
        Err(PkiError::IssuerMismatch)
    );

    // A v1 CRL (version v1 written explicitly) is refused.
    let mut tbs = base.clone();
    tbs.version = x509_cert::Version::V1;
    assert!(matches!(
        parse_crl(&sign_tbs(&ca_key, &tbs), &ca),
        Err(PkiError::Malformed(_))
    ));

    // Another signature algorithm.
    let mut tbs = base;
    tbs.signature.oid = const_oid::ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");
    assert!(matches!(
        parse_crl(&sign_tbs(&ca_key, &tbs), &ca),
        Err(PkiError::UnsupportedAlgorithm(_))
    ));
}
