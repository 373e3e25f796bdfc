//! The embedded CA's two roots (SM2 and P-256) and the end-entity purposes: time-stamping and
//! OCSP-signing certificates, checked by decoding them and, for P-256, by OpenSSL.

mod common;

use common::{DAY, NOW, openssl, openssl_available, test_ca};
use der::Decode;
use inkseal_pki::{
    CertificatePurpose, EndEntity, IssuerKey, P256CaKey, PkiError, RevocationPointers, der_to_pem,
    issue_end_entity, self_signed_ca,
};
use x509_cert::Certificate;
use x509_cert::ext::pkix::{ExtendedKeyUsage, KeyUsage, KeyUsages};

const ID_KP_TIME_STAMPING: &str = "1.3.6.1.5.5.7.3.8";
const ID_KP_OCSP_SIGNING: &str = "1.3.6.1.5.5.7.3.9";
const ID_PKIX_OCSP_NOCHECK: &str = "1.3.6.1.5.5.7.48.1.5";

fn p256_root() -> (P256CaKey, Vec<u8>) {
    let key = P256CaKey::try_generate().expect("key");
    let cert = self_signed_ca(&key, "inkseal test P-256 root", 3650, NOW).expect("root");
    (key, cert)
}

fn issue(
    ca_key: &impl IssuerKey,
    ca_cert: &[u8],
    subject: &impl IssuerKey,
    purpose: CertificatePurpose,
) -> Result<Vec<u8>, PkiError> {
    issue_end_entity(
        ca_key,
        ca_cert,
        &EndEntity {
            subject_public_key_info: subject.subject_public_key_info()?,
            common_name: "inkseal TSA",
            purpose,
            revocation: None,
        },
        &[0x42; 16],
        365,
        NOW,
    )
}

/// (critical, OIDs) of the certificate's extendedKeyUsage, if any.
fn eku(cert: &Certificate) -> Option<(bool, Vec<String>)> {
    cert.tbs_certificate()
        .get_extension::<ExtendedKeyUsage>()
        .expect("eku decodes")
        .map(|(critical, eku)| (critical, eku.0.iter().map(|o| o.to_string()).collect()))
}

#[test]
fn p256_root_and_time_stamping_certificate_carry_the_right_extensions() {
    let (ca_key, ca_cert) = p256_root();
    let root = Certificate::from_der(&ca_cert).expect("root decodes");
    assert_eq!(
        root.signature_algorithm().oid.to_string(),
        "1.2.840.10045.4.3.2"
    );
    let tsa_key = P256CaKey::try_generate().expect("tsa key");
    let tsa = issue(
        &ca_key,
        &ca_cert,
        &tsa_key,
        CertificatePurpose::TimeStamping,
    )
    .expect("tsa");
    let tsa = Certificate::from_der(&tsa).expect("tsa decodes");
    assert_eq!(
        eku(&tsa),
        Some((true, vec![ID_KP_TIME_STAMPING.to_string()])),
        "RFC 3161 2.3: exactly id-kp-timeStamping, critical"
    );
    let (critical, usage) = tsa
        .tbs_certificate()
        .get_extension::<KeyUsage>()
        .expect("ku")
        .expect("ku present");
    assert!(critical);
    assert!(usage.0.contains(KeyUsages::DigitalSignature));
    assert!(!usage.0.contains(KeyUsages::KeyCertSign));
    assert_eq!(
        tsa.tbs_certificate().issuer(),
        root.tbs_certificate().subject()
    );
}

#[test]
fn sm2_root_issues_an_sm2_time_stamping_certificate_and_a_p256_one() {
    let (ca_key, ca_cert) = test_ca("inkseal test SM2 root");
    for subject_der in [
        issue(
            &ca_key,
            &ca_cert,
            &inkseal_pki::CaKey::generate(),
            CertificatePurpose::TimeStamping,
        ),
        issue(
            &ca_key,
            &ca_cert,
            &P256CaKey::try_generate().expect("key"),
            CertificatePurpose::TimeStamping,
        ),
    ] {
        let der = subject_der.expect("issued");
        let cert = Certificate::from_der(&der).expect("decodes");
        assert_eq!(
            cert.signature_algorithm().oid.to_string(),
            "1.2.156.10197.1.501"
        );
        assert_eq!(eku(&cert).map(|(c, _)| c), Some(true));
        inkseal_pki::verify_certificate_signature(&der, &ca_cert).expect("SM2 root signed it");
    }
}

#[test]
fn ocsp_signing_certificate_has_its_usage_and_no_check() {
    let (ca_key, ca_cert) = p256_root();
    let responder = P256CaKey::try_generate().expect("key");
    let der = issue(
        &ca_key,
        &ca_cert,
        &responder,
        CertificatePurpose::OcspSigning,
    )
    .expect("ocsp");
    let cert = Certificate::from_der(&der).expect("decodes");
    assert_eq!(
        eku(&cert),
        Some((false, vec![ID_KP_OCSP_SIGNING.to_string()]))
    );
    let has_nocheck = cert.tbs_certificate().extensions().is_some_and(|exts| {
        exts.iter()
            .any(|e| e.extn_id.to_string() == ID_PKIX_OCSP_NOCHECK)
    });
    assert!(has_nocheck);
}

#[test]
fn document_signing_certificate_has_no_extended_key_usage() {
    let (ca_key, ca_cert) = p256_root();
    let subject = P256CaKey::try_generate().expect("key");
    let der = issue(
        &ca_key,
        &ca_cert,
        &subject,
        CertificatePurpose::DocumentSigning,
    )
    .expect("issued");
    assert_eq!(eku(&Certificate::from_der(&der).expect("decodes")), None);
}

#[test]
fn issuing_with_a_key_that_is_not_the_ca_certificates_is_refused() {
    let (_, ca_cert) = p256_root();
    let other = P256CaKey::try_generate().expect("key");
    assert_eq!(
        issue(&other, &ca_cert, &other, CertificatePurpose::TimeStamping),
        Err(PkiError::KeyMismatch)
    );
    // An end-entity certificate cannot act as the CA.
    let (ca_key, ca_cert) = p256_root();
    let ee_key = P256CaKey::try_generate().expect("key");
    let ee = issue(&ca_key, &ca_cert, &ee_key, CertificatePurpose::TimeStamping).expect("ee");
    assert_eq!(
        issue(&ee_key, &ee, &other, CertificatePurpose::TimeStamping),
        Err(PkiError::NotCa)
    );
}

#[test]
fn p256_key_survives_pkcs8_and_debug_hides_the_secret() {
    let key = P256CaKey::try_generate().expect("key");
    let der = key.to_pkcs8_der().expect("pkcs8");
    let back = P256CaKey::from_pkcs8_der(&der).expect("decode");
    assert_eq!(back.public_key(), key.public_key());
    assert!(P256CaKey::from_pkcs8_der(&der[..der.len() - 1]).is_err());
    let shown = format!("{key:?}");
    assert!(shown.starts_with("P256CaKey"), "{shown}");
    assert!(!shown.contains(&hex::encode(&der[der.len() - 32..])));
}

#[test]
fn openssl_verifies_the_p256_time_stamping_chain() {
    if !openssl_available() {
        return;
    }
    let dir = tempfile::tempdir().expect("dir");
    let (ca_key, ca_cert) = p256_root();
    let tsa_key = P256CaKey::try_generate().expect("key");
    let tsa = issue(
        &ca_key,
        &ca_cert,
        &tsa_key,
        CertificatePurpose::TimeStamping,
    )
    .expect("tsa");
    std::fs::write(
        dir.path().join("root.pem"),
        der_to_pem("CERTIFICATE", &ca_cert),
    )
    .expect("write");
    std::fs::write(dir.path().join("tsa.pem"), der_to_pem("CERTIFICATE", &tsa)).expect("write");
    let at = (NOW + DAY).to_string();
    let out = openssl(
        dir.path(),
        &[
            "verify",
            "-x509_strict",
            "-attime",
            &at,
            "-CAfile",
            "root.pem",
            "-purpose",
            "timestampsign",
            "tsa.pem",
        ],
    );
    assert!(out.status.success(), "openssl verify failed");
    // A document-signing certificate is not a time-stamping one.
    let ee = issue(
        &ca_key,
        &ca_cert,
        &tsa_key,
        CertificatePurpose::DocumentSigning,
    )
    .expect("ee");
    std::fs::write(dir.path().join("ee.pem"), der_to_pem("CERTIFICATE", &ee)).expect("write");
    let out = openssl(
        dir.path(),
        &[
            "verify",
            "-x509_strict",
            "-attime",
            &at,
            "-CAfile",
            "root.pem",
            "-purpose",
            "timestampsign",
            "ee.pem",
        ],
    );
    assert!(
        !out.status.success(),
        "openssl accepted a signing certificate as a TSA"
    );
}

#[test]
fn revocation_pointers_name_the_ocsp_responder_and_the_crl() {
    use x509_cert::ext::pkix::name::{DistributionPointName, GeneralName};
    use x509_cert::ext::pkix::{AuthorityInfoAccessSyntax, CrlDistributionPoints};
    let (ca_key, ca_cert) = p256_root();
    let subject = P256CaKey::try_generate().expect("key");
    let entity = |purpose, crl_url| EndEntity {
        subject_public_key_info: subject.subject_public_key_info().expect("spki"),
        common_name: "inkseal signer",
        purpose,
        revocation: Some(RevocationPointers {
            ocsp_url: "https://sign.bank.example/v1/ocsp",
            crl_url,
        }),
    };
    let issue_for =
        |e: &EndEntity<'_>| issue_end_entity(&ca_key, &ca_cert, e, &[0x43; 16], 365, NOW);
    let der = issue_for(&entity(
        CertificatePurpose::DocumentSigning,
        Some("https://sign.bank.example/v1/crl"),
    ))
    .expect("certificate");
    let cert = Certificate::from_der(&der).expect("decodes");
    let (critical, aia) = cert
        .tbs_certificate()
        .get_extension::<AuthorityInfoAccessSyntax>()
        .expect("aia decodes")
        .expect("aia present");
    assert!(!critical);
    assert_eq!(aia.0.len(), 1);
    assert_eq!(aia.0[0].access_method.to_string(), "1.3.6.1.5.5.7.48.1");
    assert!(matches!(
        &aia.0[0].access_location,
        GeneralName::UniformResourceIdentifier(u) if u.as_str() == "https://sign.bank.example/v1/ocsp"
    ));
    let (_, dps) = cert
        .tbs_certificate()
        .get_extension::<CrlDistributionPoints>()
        .expect("crldp decodes")
        .expect("crldp present");
    assert!(matches!(
        &dps.0[0].distribution_point,
        Some(DistributionPointName::FullName(names)) if matches!(
            &names[0],
            GeneralName::UniformResourceIdentifier(u) if u.as_str() == "https://sign.bank.example/v1/crl"
        )
    ));
    if openssl_available() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("c.pem");
        std::fs::write(&path, der_to_pem("CERTIFICATE", &der)).expect("write");
        let out = openssl(dir.path(), &["x509", "-noout", "-ocsp_uri", "-in", "c.pem"]);
        assert_eq!(
            common::text(&out).trim(),
            "https://sign.bank.example/v1/ocsp"
        );
    }

    // Without a CRL: the OCSP pointer alone.
    let der = issue_for(&entity(CertificatePurpose::TimeStamping, None)).expect("certificate");
    let cert = Certificate::from_der(&der).expect("decodes");
    assert!(
        cert.tbs_certificate()
            .get_extension::<CrlDistributionPoints>()
            .expect("decodes")
            .is_none()
    );
    // A responder certificate carries ocsp-nocheck instead; a URL that is not ASCII is refused.
    assert!(matches!(
        issue_for(&entity(CertificatePurpose::OcspSigning, None)),
        Err(PkiError::InvalidInput(_))
    ));
    let mut bad = entity(CertificatePurpose::DocumentSigning, None);
    bad.revocation = Some(RevocationPointers {
        ocsp_url: "https://签名.example/ocsp",
        crl_url: None,
    });
    assert!(matches!(issue_for(&bad), Err(PkiError::InvalidInput(_))));
}
