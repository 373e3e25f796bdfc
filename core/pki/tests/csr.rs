//! CSR building, co-signing and checking.

mod common;

use common::*;
use der::asn1::{Any, BitString, ObjectIdentifier};
use der::{Decode, Encode, Tagged};
use inkseal_cosign::sm2::dsa::signature::Signer;
use inkseal_cosign::sm2::dsa::signature::hazmat::PrehashSigner;
use inkseal_cosign::{ClientKeygen, DEFAULT_SIGNER_ID, ServerKeyShare};
use inkseal_pki::{
    MAX_CSR_BYTES, PkiError, SM2_WITH_SM3, assemble_csr, csr_to_be_signed, signature_from_der,
    signature_to_der, verify_csr,
};
use spki::AlgorithmIdentifierOwned;
use x509_cert::request::{CertReq, CertReqInfo};

#[test]
fn prehash_signing_of_e_equals_signing_the_tbs_bytes() {
    let key = plain_key();
    let pk = public_key(&key);
    let tbs = csr_to_be_signed(&pk, "alice").expect("tbs");
    let e = inkseal_cosign::message_digest(&pk, &tbs);
    let via_prehash = key.sign_prehash(&e).expect("prehash sign");
    let via_signer: inkseal_cosign::sm2::dsa::Signature = key.sign(&tbs);
    // sm2's nonces are RFC 6979 over (key, e): same e, same signature.
    assert_eq!(via_prehash, via_signer);
    inkseal_cosign::verify_digest(&pk, &e, &via_signer).expect("verifies as digest e");

    let csr = assemble_csr(&tbs, &via_signer).expect("assemble");
    let verified = verify_csr(&csr).expect("verify");
    assert_eq!(verified.public_key, pk);
    assert_eq!(verified.common_name, "alice");
}

#[test]
fn csr_structure_is_as_specified() {
    let key = plain_key();
    let pk = public_key(&key);
    let csr = csr_for(&key, "客户-张三");
    let req = CertReq::from_der(&csr).expect("x509-cert parses it");
    assert_eq!(req.algorithm.oid, SM2_WITH_SM3);
    assert!(req.algorithm.parameters.is_none());
    assert!(req.info.attributes.is_empty());
    let spki = &req.info.public_key;
    assert_eq!(
        spki.algorithm.oid,
        ObjectIdentifier::new_unwrap("1.2.840.10045.2.1")
    );
    let curve: ObjectIdentifier = spki
        .algorithm
        .parameters
        .as_ref()
        .expect("curve")
        .decode_as()
        .expect("oid");
    assert_eq!(curve, ObjectIdentifier::new_unwrap("1.2.156.10197.1.301"));
    let point = spki.subject_public_key.as_bytes().expect("octets");
    assert_eq!(point.len(), 65);
    assert_eq!(point[0], 0x04);
    assert_eq!(
        inkseal_cosign::sm2::PublicKey::from_sec1_bytes(point).expect("point"),
        pk
    );
    // CN is a UTF8String (tag 0x0c) holding the name's UTF-8 bytes.
    let cn = req.info.subject.iter().next().expect("one attribute");
    assert_eq!(cn.value.tag(), der::Tag::Utf8String);
    assert_eq!(cn.value.value(), "客户-张三".as_bytes());
    assert_eq!(verify_csr(&csr).expect("verify").common_name, "客户-张三");
    // The signature is DER SEQUENCE { r, s }.
    let sig = signature_from_der(req.signature.as_bytes().expect("octets")).expect("sig");
    assert_eq!(
        signature_to_der(&sig),
        req.signature.as_bytes().expect("octets")
    );
}

#[test]
fn csr_signed_by_the_two_party_protocol_verifies() {
    let (keygen, request) = ClientKeygen::start("csr-test").expect("start");
    let (server, response) = ServerKeyShare::keygen(&request).expect("server keygen");
    let client = keygen.finish(&response).expect("finish");
    let joint = *client.public_key();

    let tbs = csr_to_be_signed(&joint, "customer-310101199001011234").expect("tbs");
    let e = inkseal_cosign::message_digest(&joint, &tbs);
    assert_eq!(e, client.digest(&tbs));
    let (session, sign_request) = client.start_sign(&e).expect("start sign");
    let sign_response = server.cosign(&sign_request).expect("cosign");
    let signature = session.finish(&sign_response).expect("signature");

    let csr = assemble_csr(&tbs, &signature).expect("assemble");
    let verified = verify_csr(&csr).expect("verify");
    assert_eq!(verified.public_key, joint);
    assert_eq!(verified.common_name, "customer-310101199001011234");
}

#[test]
fn tampered_subject_is_rejected() {
    let key = plain_key();
    let mut csr = csr_for(&key, "alice");
    let at = csr
        .windows(5)
        .position(|w| w == b"alice")
        .expect("name in DER");
    csr[at] = b'm'; // "mlice"
    assert_eq!(verify_csr(&csr), Err(PkiError::BadSignature));
}

#[test]
fn tampered_signature_is_rejected() {
    let key = plain_key();
    let mut csr = csr_for(&key, "alice");
    let last = csr.len() - 1; // the low byte of s
    csr[last] ^= 0x01;
    assert_eq!(verify_csr(&csr), Err(PkiError::BadSignature));
}

#[test]
fn signature_by_another_key_is_rejected() {
    let key = plain_key();
    let other = plain_key();
    let pk = public_key(&key);
    let tbs = csr_to_be_signed(&pk, "alice").expect("tbs");
    let wrong: inkseal_cosign::sm2::dsa::Signature = other.sign(&tbs);
    assert_eq!(assemble_csr(&tbs, &wrong), Err(PkiError::BadSignature));
    // Assembled without the check, the CSR is refused by the verifier.
    let mut req = CertReq::from_der(&csr_for(&key, "alice")).expect("parse");
    req.signature = BitString::from_bytes(&signature_to_der(&wrong)).expect("bits");
    let forged = req.to_der().expect("encode");
    assert_eq!(verify_csr(&forged), Err(PkiError::BadSignature));
}

#[test]
fn signature_with_another_signer_id_is_rejected() {
    let secret = inkseal_cosign::sm2::SecretKey::from_slice(&[7u8; 32]).expect("secret");
    let key = inkseal_cosign::sm2::dsa::SigningKey::new("alice@example.com", &secret).expect("key");
    let pk = public_key(&key);
    let tbs = csr_to_be_signed(&pk, "alice").expect("tbs");
    let sig: inkseal_cosign::sm2::dsa::Signature = key.sign(&tbs);
    assert_eq!(assemble_csr(&tbs, &sig), Err(PkiError::BadSignature));
    let default_id =
        inkseal_cosign::sm2::dsa::SigningKey::new(DEFAULT_SIGNER_ID, &secret).expect("key");
    let sig: inkseal_cosign::sm2::dsa::Signature = default_id.sign(&tbs);
    assert!(verify_csr(&assemble_csr(&tbs, &sig).expect("assemble")).is_ok());
}

/// Re-sign a CSR after replacing its SubjectPublicKeyInfo algorithm (the signature is by the
/// SM2 key; the point is that the verifier refuses before looking at it).
fn csr_with_spki_algorithm(oid: &str, params: Option<Any>) -> Vec<u8> {
    let key = plain_key();
    let mut req = CertReq::from_der(&csr_for(&key, "alice")).expect("parse");
    req.info.public_key.algorithm = AlgorithmIdentifierOwned {
        oid: ObjectIdentifier::new_unwrap(oid),
        parameters: params,
    };
    let tbs = req.info.to_der().expect("tbs");
    let sig: inkseal_cosign::sm2::dsa::Signature = key.sign(&tbs);
    req.signature = BitString::from_bytes(&signature_to_der(&sig)).expect("bits");
    req.to_der().expect("encode")
}

#[test]
fn p256_and_other_key_algorithms_are_rejected() {
    let p256 = Any::encode_from(&ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7")).expect("any");
    let csr = csr_with_spki_algorithm("1.2.840.10045.2.1", Some(p256));
    assert!(
        matches!(verify_csr(&csr), Err(PkiError::UnsupportedAlgorithm(m)) if m.contains("1.2.840.10045.3.1.7"))
    );

    let csr = csr_with_spki_algorithm("1.2.840.113549.1.1.1", Some(Any::null()));
    assert!(matches!(
        verify_csr(&csr),
        Err(PkiError::UnsupportedAlgorithm(_))
    ));

    // The legacy form with the SM2 OID as the key algorithm is not accepted either.
    let csr = csr_with_spki_algorithm("1.2.156.10197.1.301", None);
    assert!(matches!(
        verify_csr(&csr),
        Err(PkiError::UnsupportedAlgorithm(_))
    ));
}

#[test]
fn other_signature_algorithms_are_rejected() {
    let key = plain_key();
    let mut req = CertReq::from_der(&csr_for(&key, "alice")).expect("parse");
    req.algorithm = AlgorithmIdentifierOwned {
        oid: ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2"), // ecdsa-with-SHA256
        parameters: None,
    };
    let csr = req.to_der().expect("encode");
    assert!(matches!(
        verify_csr(&csr),
        Err(PkiError::UnsupportedAlgorithm(_))
    ));

    // SM2-with-SM3 with a non-NULL parameter is malformed.
    let mut req = CertReq::from_der(&csr_for(&key, "alice")).expect("parse");
    req.algorithm.parameters = Some(Any::encode_from(&SM2_WITH_SM3).expect("any"));
    assert!(matches!(
        verify_csr(&req.to_der().expect("encode")),
        Err(PkiError::Malformed(_))
    ));
}

#[test]
fn garbage_truncation_and_size_are_rejected() {
    let key = plain_key();
    let csr = csr_for(&key, "alice");
    assert!(matches!(
        verify_csr(&csr[..csr.len() - 1]),
        Err(PkiError::Malformed(_))
    ));
    let mut trailing = csr.clone();
    trailing.push(0);
    assert!(matches!(verify_csr(&trailing), Err(PkiError::Malformed(_))));
    assert!(matches!(verify_csr(b""), Err(PkiError::Malformed(_))));
    assert!(matches!(
        verify_csr(b"\x30\x03\x02\x01\x00"),
        Err(PkiError::Malformed(_))
    ));
    assert_eq!(
        verify_csr(&vec![0x30; MAX_CSR_BYTES + 1]),
        Err(PkiError::TooLarge(MAX_CSR_BYTES))
    );
    assert!(matches!(
        assemble_csr(b"\x30\x00", &sig_for(&key)),
        Err(PkiError::Malformed(_))
    ));
}

fn sig_for(key: &inkseal_cosign::sm2::dsa::SigningKey) -> inkseal_cosign::sm2::dsa::Signature {
    key.sign(b"x")
}

#[test]
fn subject_must_have_exactly_one_common_name() {
    use std::str::FromStr;
    let key = plain_key();
    let pk = public_key(&key);
    for subject in ["O=inkseal", "CN=a,CN=b"] {
        let mut info =
            CertReqInfo::from_der(&csr_to_be_signed(&pk, "x").expect("tbs")).expect("info");
        info.subject = x509_cert::name::Name::from_str(subject).expect("name");
        let tbs = info.to_der().expect("tbs");
        let sig: inkseal_cosign::sm2::dsa::Signature = key.sign(&tbs);
        let csr = assemble_csr(&tbs, &sig).expect("assemble");
        assert!(
            matches!(verify_csr(&csr), Err(PkiError::Malformed(m)) if m.contains("commonName"))
        );
    }
}

#[test]
fn common_names_are_checked() {
    let pk = public_key(&plain_key());
    assert!(matches!(
        csr_to_be_signed(&pk, ""),
        Err(PkiError::InvalidInput(_))
    ));
    assert!(matches!(
        csr_to_be_signed(&pk, &"x".repeat(65)),
        Err(PkiError::InvalidInput(_))
    ));
    assert!(csr_to_be_signed(&pk, &"字".repeat(64)).is_ok());
    assert!(matches!(
        csr_to_be_signed(&pk, "a\nb"),
        Err(PkiError::InvalidInput(_))
    ));
    // Taken literally, not parsed as an RFC 4514 string.
    let key = plain_key();
    let verified = verified_csr(&key, "Smith, John+O=Evil");
    assert_eq!(verified.common_name, "Smith, John+O=Evil");
}

#[test]
fn signature_der_helpers_round_trip_and_are_strict() {
    let key = plain_key();
    let sig = sig_for(&key);
    let der = signature_to_der(&sig);
    assert_eq!(signature_from_der(&der), Ok(sig));
    let mut trailing = der.clone();
    trailing.push(0);
    assert!(signature_from_der(&trailing).is_err());
    assert!(signature_from_der(&der[..der.len() - 1]).is_err());
    assert!(signature_from_der(&sig.to_bytes()).is_err());
}
