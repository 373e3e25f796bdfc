//! Round trips and tampering for both suites: signed attributes -> LocalSigner -> assemble ->
//! parse -> verify -> verify_chain.
#![allow(clippy::unwrap_used)]

mod cms_support;

use cms_support::*;
use der::{Decode, Encode};
use inkseal_pdf::cms::{
    self, CmsError, ExtraAttribute, ID_AA_SIGNING_CERTIFICATE_V2, ID_CONTENT_TYPE, ID_DATA,
    ID_MESSAGE_DIGEST, ID_SIGNING_TIME, ObjectIdentifier, SignatureAlgorithm,
};
use inkseal_pdf::signer::{LocalSigner, Signer, SignerError};

const PART1: &[u8] = b"%PDF-1.7 first byte range ... /Contents <";
const PART2: &[u8] = b"> ... %%EOF\n";
const CUSTOM_OID: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.99999.1");

fn round_trip(fx: &Fixture) {
    let (digest, der) = sign_detached(fx, &[PART1, PART2], &[]);
    assert_eq!(digest, fx.algorithm.digest(&[PART1, PART2]));
    let mut joined = PART1.to_vec();
    joined.extend_from_slice(PART2);
    assert_eq!(digest, fx.algorithm.digest(&[&joined]));

    let parsed = cms::parse(&der).expect("parse");
    assert_eq!(parsed.digest_algorithm(), fx.algorithm.digest_algorithm());
    assert_eq!(parsed.encoded_len(), der.len());
    let v = parsed.verify(&digest).expect("verify");
    assert_eq!(
        v.algorithm,
        inkseal_pdf::cms::VerifiedAlgorithm::Suite(fx.algorithm)
    );
    assert_eq!(v.signer_cert_der, fx.chain[0]);
    assert_eq!(v.certificates.len(), fx.chain.len());
    for c in &fx.chain {
        assert!(v.certificates.contains(c));
    }
    assert!(v.has_signing_certificate_v2);
    assert!(v.signed_attributes.is_empty(), "{:?}", v.signed_attributes);
    assert!(v.unsigned_attributes.is_empty());
    assert_eq!(
        v.signed_attrs_der,
        parsed.signed_attributes_der().expect("attrs")
    );
    assert_eq!(v.signed_attrs_der[0], 0x31);

    let path = cms::verify_chain(
        &v.signer_cert_der,
        &v.certificates,
        std::slice::from_ref(&fx.root_der),
        Some(now()),
    )
    .expect("chain");
    assert_eq!(path.first(), Some(&fx.chain[0]));
    assert_eq!(path.last(), Some(&fx.root_der));
    assert_eq!(path.len(), fx.chain.len() + 1);

    // /Contents is zero padded: trailing zeros are fine, anything else is not.
    let mut padded = der.clone();
    padded.resize(der.len() + 4096, 0);
    let p = cms::parse(&padded).expect("padded");
    assert_eq!(p.encoded_len(), der.len());
    p.verify(&digest).expect("verify padded");
    let mut trailing = der.clone();
    trailing.extend_from_slice(&[0, 0, 1]);
    assert!(matches!(cms::parse(&trailing), Err(CmsError::Malformed(_))));
}

#[test]
fn sm2_round_trip() {
    let (fx, _) = sm2_fixture();
    assert_eq!(fx.signer.algorithm(), SignatureAlgorithm::Sm2Sm3);
    assert_eq!(
        SignatureAlgorithm::from_certificate(fx.signer_der()).unwrap(),
        SignatureAlgorithm::Sm2Sm3
    );
    round_trip(&fx);
    let (_, der) = sign_detached(&fx, &[PART1, PART2], &[]);
    let v = cms::parse(&der)
        .unwrap()
        .verify(&fx.algorithm.digest(&[PART1, PART2]))
        .unwrap();
    assert_eq!(v.signer_subject, "CN=Alice SM2");
}

#[test]
fn p256_round_trip() {
    if !have_openssl() {
        eprintln!("openssl not found; skipping");
        return;
    }
    let fx = p256_fixture();
    assert_eq!(fx.signer.algorithm(), SignatureAlgorithm::EcdsaP256Sha256);
    round_trip(&fx);
    let (digest, der) = sign_detached(&fx, &[PART1, PART2], &[]);
    let v = cms::parse(&der).unwrap().verify(&digest).unwrap();
    assert_eq!(v.signer_subject, "O=Inkseal,CN=Alice P-256");
}

#[test]
fn digests_match_known_vectors() {
    // SM3("abc") (GB/T 32905 appendix A) and SHA-256("abc") (FIPS 180-2).
    assert_eq!(
        hex::encode(SignatureAlgorithm::Sm2Sm3.digest(&[b"a", b"bc"])),
        "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
    );
    assert_eq!(
        hex::encode(SignatureAlgorithm::EcdsaP256Sha256.digest(&[b"ab", b"", b"c"])),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
    let mut d = SignatureAlgorithm::Sm2Sm3.digester();
    d.update(b"ab");
    d.update(b"c");
    assert_eq!(d.algorithm(), SignatureAlgorithm::Sm2Sm3);
    assert_eq!(d.finalize(), SignatureAlgorithm::Sm2Sm3.digest(&[b"abc"]));
    assert_eq!(
        SignatureAlgorithm::Sm2Sm3.digest_oid().to_string(),
        "1.2.156.10197.1.401"
    );
    assert_eq!(
        SignatureAlgorithm::Sm2Sm3.signature_oid().to_string(),
        "1.2.156.10197.1.501"
    );
    assert_eq!(
        SignatureAlgorithm::EcdsaP256Sha256.digest_oid().to_string(),
        "2.16.840.1.101.3.4.2.1"
    );
    assert_eq!(
        SignatureAlgorithm::EcdsaP256Sha256
            .signature_oid()
            .to_string(),
        "1.2.840.10045.4.3.2"
    );
}

/// Decode the signed attributes and return (oid, values) pairs in encoded order.
fn attrs_of(der: &[u8]) -> Vec<(ObjectIdentifier, Vec<der::Any>)> {
    let set = x509_cert::attr::Attributes::from_der(der).unwrap();
    set.iter()
        .map(|a| (a.oid, a.values.iter().cloned().collect()))
        .collect()
}

#[test]
fn signed_attributes_content() {
    let (fx, _) = sm2_fixture();
    let digest = fx.algorithm.digest(&[b"content"]);
    let der = cms::signed_attributes(fx.algorithm, &digest, fx.signer_der(), &[]).unwrap();
    assert_eq!(der[0], 0x31);
    let attrs = attrs_of(&der);
    let oids: Vec<_> = attrs.iter().map(|(o, _)| *o).collect();
    assert_eq!(oids.len(), 3);
    for oid in [
        ID_CONTENT_TYPE,
        ID_MESSAGE_DIGEST,
        ID_AA_SIGNING_CERTIFICATE_V2,
    ] {
        assert!(oids.contains(&oid));
    }
    assert!(!oids.contains(&ID_SIGNING_TIME));
    for (oid, values) in &attrs {
        assert_eq!(values.len(), 1);
        if *oid == ID_CONTENT_TYPE {
            assert_eq!(values[0].decode_as::<ObjectIdentifier>().unwrap(), ID_DATA);
        } else if *oid == ID_MESSAGE_DIGEST {
            assert_eq!(
                values[0]
                    .decode_as::<der::asn1::OctetString>()
                    .unwrap()
                    .as_bytes(),
                digest.as_slice()
            );
        } else {
            // SigningCertificateV2 { certs: [ ESSCertIDv2 { SM3 alg (explicit), hash, issuerSerial } ] }
            let v2 = values[0].to_der().unwrap();
            let sm3_alg = [
                0x30, 0x0a, 0x06, 0x08, 0x2a, 0x81, 0x1c, 0xcf, 0x55, 0x01, 0x83, 0x11,
            ];
            assert!(
                v2.windows(sm3_alg.len()).any(|w| w == sm3_alg),
                "explicit SM3 hashAlgorithm"
            );
            let cert_hash = fx.algorithm.digest(&[fx.signer_der()]);
            assert!(v2.windows(32).any(|w| w == cert_hash.as_slice()));
            // directoryName [4] is present.
            assert!(v2.contains(&0xa4));
        }
    }

    // Deterministic; extra attributes are added and sorted into the set.
    assert_eq!(
        der,
        cms::signed_attributes(fx.algorithm, &digest, fx.signer_der(), &[]).unwrap()
    );
    let extra = ExtraAttribute::new(CUSTOM_OID, vec![vec![0x04, 0x03, b'a', b'b', b'c']]);
    let with = cms::signed_attributes(
        fx.algorithm,
        &digest,
        fx.signer_der(),
        std::slice::from_ref(&extra),
    )
    .unwrap();
    assert_eq!(attrs_of(&with).len(), 4);

    // Errors.
    assert!(matches!(
        cms::signed_attributes(fx.algorithm, &digest[..31], fx.signer_der(), &[]),
        Err(CmsError::InvalidInput(_))
    ));
    assert!(matches!(
        cms::signed_attributes(
            SignatureAlgorithm::EcdsaP256Sha256,
            &digest,
            fx.signer_der(),
            &[]
        ),
        Err(CmsError::AlgorithmMismatch(_))
    ));
    for oid in [
        ID_SIGNING_TIME,
        ID_MESSAGE_DIGEST,
        ID_CONTENT_TYPE,
        ID_AA_SIGNING_CERTIFICATE_V2,
    ] {
        let bad = ExtraAttribute::new(oid, vec![vec![0x05, 0x00]]);
        assert!(matches!(
            cms::signed_attributes(fx.algorithm, &digest, fx.signer_der(), &[bad]),
            Err(CmsError::InvalidInput(_))
        ));
    }
    for bad in [
        vec![extra.clone(), extra.clone()],
        vec![ExtraAttribute::new(CUSTOM_OID, vec![])],
        vec![ExtraAttribute::new(CUSTOM_OID, vec![vec![0x04, 0x01]])],
        vec![ExtraAttribute::new(
            CUSTOM_OID,
            vec![vec![0x05, 0x00, 0x00]],
        )],
        vec![ExtraAttribute::new(
            CUSTOM_OID,
            vec![vec![0x04, 0x81, 0x01, 0x00]],
        )],
    ] {
        assert!(matches!(
            cms::signed_attributes(fx.algorithm, &digest, fx.signer_der(), &bad),
            Err(CmsError::InvalidInput(_))
        ));
    }
    assert!(matches!(
        cms::signed_attributes(fx.algorithm, &digest, b"not a certificate", &[]),
        Err(CmsError::Malformed(_))
    ));
}

#[test]
fn p256_signing_certificate_v2_omits_default_hash_algorithm() {
    if !have_openssl() {
        return;
    }
    let fx = p256_fixture();
    let digest = fx.algorithm.digest(&[b"content"]);
    let der = cms::signed_attributes(fx.algorithm, &digest, fx.signer_der(), &[]).unwrap();
    let (_, values) = attrs_of(&der)
        .into_iter()
        .find(|(o, _)| *o == ID_AA_SIGNING_CERTIFICATE_V2)
        .unwrap();
    let v2 = values[0].to_der().unwrap();
    // SEQUENCE { SEQUENCE { ESSCertIDv2 SEQUENCE { OCTET STRING (32) certHash, ... } } }
    assert_eq!(v2[0], 0x30);
    let ess = &v2[4..]; // outer header (2) + certs header (2): all short lengths here
    assert_eq!(ess[0], 0x30);
    assert_eq!(
        &ess[2..4],
        &[0x04, 0x20],
        "certHash comes first: hashAlgorithm omitted"
    );
    assert_eq!(
        &ess[4..36],
        fx.algorithm.digest(&[fx.signer_der()]).as_slice()
    );
}

#[test]
fn custom_signed_and_unsigned_attributes_come_back() {
    let (fx, _) = sm2_fixture();
    let extra = ExtraAttribute::new(CUSTOM_OID, vec![vec![0x0c, 0x02, b'h', b'i']]);
    let digest = fx.algorithm.digest(&[PART1]);
    let attrs = cms::signed_attributes(
        fx.algorithm,
        &digest,
        fx.signer_der(),
        std::slice::from_ref(&extra),
    )
    .unwrap();
    let sig = fx.signer.sign(&attrs).unwrap();
    let unsigned_oid = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.2.14");
    let unsigned = ExtraAttribute::new(unsigned_oid, vec![vec![0x30, 0x00]]);
    let der = cms::assemble_with_unsigned(
        fx.algorithm,
        &attrs,
        &sig,
        &fx.chain,
        std::slice::from_ref(&unsigned),
    )
    .unwrap();
    let v = cms::parse(&der).unwrap().verify(&digest).unwrap();
    assert_eq!(v.signed_attribute(&CUSTOM_OID), Some(&extra));
    assert_eq!(v.unsigned_attribute(&unsigned_oid), Some(&unsigned));
    assert_eq!(v.signature, sig);
}

#[test]
fn tampering_is_detected_with_the_right_error() {
    let (fx, ca_key) = sm2_fixture();
    let extra = ExtraAttribute::new(CUSTOM_OID, vec![b"\x04\x08tamperme".to_vec()]);
    let (digest, der) = sign_detached(&fx, &[PART1, PART2], &[extra]);
    let parsed = cms::parse(&der).unwrap();
    parsed.verify(&digest).unwrap();

    // Wrong content.
    let other = fx.algorithm.digest(&[PART1]);
    assert_eq!(parsed.verify(&other), Err(CmsError::DigestMismatch));
    assert!(matches!(
        parsed.verify(&other[..20]),
        Err(CmsError::InvalidInput(_))
    ));

    // A signed attribute changed.
    let mut t = der.clone();
    let at = find_unique(&t, b"tamperme");
    t[at] ^= 0x20;
    assert_eq!(
        cms::parse(&t).unwrap().verify(&digest),
        Err(CmsError::BadSignature)
    );

    // message-digest attribute changed (content unchanged).
    let mut t = der.clone();
    let at = find_unique(&t, &digest);
    t[at + 5] ^= 1;
    assert_eq!(
        cms::parse(&t).unwrap().verify(&digest),
        Err(CmsError::DigestMismatch)
    );

    // signing-certificate-v2 hash changed.
    let mut t = der.clone();
    let cert_hash = fx.algorithm.digest(&[fx.signer_der()]);
    let at = find_unique(&t, &cert_hash);
    t[at] ^= 1;
    assert_eq!(
        cms::parse(&t).unwrap().verify(&digest),
        Err(CmsError::SigningCertificateMismatch)
    );

    // Signature changed (a byte inside r keeps the DER valid).
    let sig = parsed.signature().unwrap().to_vec();
    let mut t = der.clone();
    let at = find_unique(&t, &sig);
    t[at + 10] ^= 0x01;
    assert_eq!(
        cms::parse(&t).unwrap().verify(&digest),
        Err(CmsError::BadSignature)
    );

    // Signer certificate replaced by an unrelated one: not found.
    let user2 = sm2_key();
    let ca2_key = inkseal_pki::CaKey::generate();
    let ca2 = inkseal_pki::self_signed_ca(&ca2_key, "Other CA", 10, now()).unwrap();
    let unrelated = issue_sm2(&ca2_key, &ca2, &user2, "Mallory", [0x22; 16]);
    let swapped = replace_certificates(&der, vec![unrelated]);
    assert_eq!(
        cms::parse(&swapped).unwrap().verify(&digest),
        Err(CmsError::SignerCertificateMissing)
    );
    // No certificates at all.
    let none = replace_certificates(&der, vec![]);
    assert_eq!(
        cms::parse(&none).unwrap().verify(&digest),
        Err(CmsError::SignerCertificateMissing)
    );

    // Replaced by a certificate with the same issuer and serial but another key: the
    // signing-certificate-v2 attribute catches it before the signature check.
    let twin = issue_sm2(&ca_key, &fx.root_der, &user2, "Alice SM2", [0x11; 16]);
    let swapped = replace_certificates(&der, vec![twin.clone()]);
    assert_eq!(
        cms::parse(&swapped).unwrap().verify(&digest),
        Err(CmsError::SigningCertificateMismatch)
    );

    // Without signing-certificate-v2 the same swap fails the signature check.
    let minimal = minimal_signed_attributes(&digest);
    let sig = fx.signer.sign(&minimal).unwrap();
    let der2 = cms::assemble(fx.algorithm, &minimal, &sig, &fx.chain).unwrap();
    let v = cms::parse(&der2).unwrap().verify(&digest).unwrap();
    assert!(!v.has_signing_certificate_v2);
    let swapped = replace_certificates(&der2, vec![twin]);
    assert_eq!(
        cms::parse(&swapped).unwrap().verify(&digest),
        Err(CmsError::BadSignature)
    );

    // Two signer infos.
    let doubled = double_signer_info(&der);
    assert_eq!(
        cms::parse(&doubled).unwrap_err(),
        CmsError::SignerInfoCount(2)
    );
    // No signer info.
    assert_eq!(
        cms::parse(&no_signer_info(&der)).unwrap_err(),
        CmsError::SignerInfoCount(0)
    );
}

/// content-type and message-digest only.
fn minimal_signed_attributes(digest: &[u8]) -> Vec<u8> {
    use der::asn1::{Any, OctetString, SetOfVec};
    use x509_cert::attr::Attribute;
    let attrs = vec![
        Attribute {
            oid: ID_CONTENT_TYPE,
            values: SetOfVec::try_from(vec![Any::encode_from(&ID_DATA).unwrap()]).unwrap(),
        },
        Attribute {
            oid: ID_MESSAGE_DIGEST,
            values: SetOfVec::try_from(vec![
                Any::encode_from(&OctetString::new(digest).unwrap()).unwrap(),
            ])
            .unwrap(),
        },
    ];
    SetOfVec::try_from(attrs).unwrap().to_der().unwrap()
}

fn decode_signed_data(der: &[u8]) -> cms_crate::signed_data::SignedData {
    let ci = cms_crate::content_info::ContentInfo::from_der(der).unwrap();
    ci.content.decode_as().unwrap()
}

fn encode_signed_data(sd: &cms_crate::signed_data::SignedData) -> Vec<u8> {
    cms_crate::content_info::ContentInfo {
        content_type: cms::ID_SIGNED_DATA,
        content: der::Any::encode_from(sd).unwrap(),
    }
    .to_der()
    .unwrap()
}

use ::cms as cms_crate;

fn replace_certificates(der: &[u8], certs: Vec<Vec<u8>>) -> Vec<u8> {
    let mut sd = decode_signed_data(der);
    let choices = certs
        .iter()
        .map(|c| {
            cms_crate::cert::CertificateChoices::Certificate(
                x509_cert::Certificate::from_der(c).unwrap(),
            )
        })
        .collect::<Vec<_>>();
    sd.certificates = Some(cms_crate::signed_data::CertificateSet::try_from(choices).unwrap());
    encode_signed_data(&sd)
}

fn double_signer_info(der: &[u8]) -> Vec<u8> {
    let mut sd = decode_signed_data(der);
    let mut info = sd.signer_infos.0.iter().next().unwrap().clone();
    info.version = cms_crate::content_info::CmsVersion::V3;
    let first = sd.signer_infos.0.iter().next().unwrap().clone();
    sd.signer_infos = cms_crate::signed_data::SignerInfos::try_from(vec![first, info]).unwrap();
    encode_signed_data(&sd)
}

fn no_signer_info(der: &[u8]) -> Vec<u8> {
    let mut sd = decode_signed_data(der);
    sd.signer_infos = cms_crate::signed_data::SignerInfos::try_from(vec![]).unwrap();
    encode_signed_data(&sd)
}

#[test]
fn assemble_refuses_bad_inputs() {
    let (fx, _) = sm2_fixture();
    let digest = fx.algorithm.digest(&[PART1]);
    let attrs = cms::signed_attributes(fx.algorithm, &digest, fx.signer_der(), &[]).unwrap();
    let sig = fx.signer.sign(&attrs).unwrap();
    assert!(matches!(
        cms::assemble(fx.algorithm, &attrs, &sig, &[]),
        Err(CmsError::InvalidInput(_))
    ));
    assert!(matches!(
        cms::assemble(SignatureAlgorithm::EcdsaP256Sha256, &attrs, &sig, &fx.chain),
        Err(CmsError::AlgorithmMismatch(_))
    ));
    // Signature over other bytes.
    let other = fx.signer.sign(b"something else").unwrap();
    assert_eq!(
        cms::assemble(fx.algorithm, &attrs, &other, &fx.chain),
        Err(CmsError::BadSignature)
    );
    assert_eq!(
        cms::assemble(fx.algorithm, &attrs, b"garbage", &fx.chain),
        Err(CmsError::BadSignature)
    );
    // Attributes that are not a DER SET.
    let mut not_set = attrs.clone();
    not_set[0] = 0x30;
    assert!(matches!(
        cms::assemble(fx.algorithm, &not_set, &sig, &fx.chain),
        Err(CmsError::InvalidInput(_))
    ));
    // Unsorted SET: swap two attributes by hand.
    let set = x509_cert::attr::Attributes::from_der(&attrs).unwrap();
    let encoded: Vec<Vec<u8>> = set.iter().map(|a| a.to_der().unwrap()).collect();
    let mut body: Vec<u8> = Vec::new();
    for e in encoded.iter().rev() {
        body.extend_from_slice(e);
    }
    let unsorted = der::asn1::AnyRef::new(der::Tag::Set, &body)
        .unwrap()
        .to_der()
        .unwrap();
    assert_ne!(unsorted, attrs);
    let sig_unsorted = fx.signer.sign(&unsorted).unwrap();
    assert!(matches!(
        cms::assemble(fx.algorithm, &unsorted, &sig_unsorted, &fx.chain),
        Err(CmsError::InvalidInput(_))
    ));
    // Signed attributes for another certificate (signing-certificate-v2 mismatch).
    let user2 = sm2_key();
    let ca2_key = inkseal_pki::CaKey::generate();
    let ca2 = inkseal_pki::self_signed_ca(&ca2_key, "Other CA", 10, now()).unwrap();
    let other_cert = issue_sm2(&ca2_key, &ca2, &user2, "Bob", [0x33; 16]);
    let attrs_bob = cms::signed_attributes(fx.algorithm, &digest, &other_cert, &[]).unwrap();
    let sig_bob = fx.signer.sign(&attrs_bob).unwrap();
    assert_eq!(
        cms::assemble(fx.algorithm, &attrs_bob, &sig_bob, &fx.chain),
        Err(CmsError::SigningCertificateMismatch)
    );
    // A duplicate in the chain is written once.
    let chain = vec![
        fx.chain[0].clone(),
        fx.root_der.clone(),
        fx.root_der.clone(),
    ];
    let der = cms::assemble(fx.algorithm, &attrs, &sig, &chain).unwrap();
    assert_eq!(cms::parse(&der).unwrap().certificates().len(), 2);
}

#[test]
fn chain_verification_errors() {
    let (fx, ca_key) = sm2_fixture();
    let signer = fx.signer_der().to_vec();
    let root = fx.root_der.clone();
    assert_eq!(
        cms::verify_chain(&signer, &[], std::slice::from_ref(&root), None).unwrap(),
        vec![signer.clone(), root.clone()]
    );
    // The trust anchor itself.
    assert_eq!(
        cms::verify_chain(&root, &[], std::slice::from_ref(&root), Some(now())).unwrap(),
        vec![root.clone()]
    );
    // No anchor.
    assert!(matches!(
        cms::verify_chain(&signer, &[], &[], None),
        Err(CmsError::UntrustedChain(_))
    ));
    // The root only offered as an intermediate is not trusted.
    assert!(matches!(
        cms::verify_chain(&signer, std::slice::from_ref(&root), &[], None),
        Err(CmsError::UntrustedChain(_))
    ));
    // Another CA with the same name: the signature does not verify.
    let impostor_key = inkseal_pki::CaKey::generate();
    let impostor =
        inkseal_pki::self_signed_ca(&impostor_key, "Inkseal Test SM2 CA", 10, now()).unwrap();
    assert_eq!(
        cms::verify_chain(&signer, &[], std::slice::from_ref(&impostor), None),
        Err(CmsError::CertificateSignature("CN=Alice SM2".into()))
    );
    // ...but the real one among several anchors is found.
    assert_eq!(
        cms::verify_chain(&signer, &[], &[impostor, root.clone()], None)
            .unwrap()
            .len(),
        2
    );
    // Path building gives up after a bounded number of signature checks.
    let look_alikes: Vec<Vec<u8>> = (0..cms::MAX_SIGNATURE_CHECKS + 8)
        .map(|_| {
            let k = inkseal_pki::CaKey::generate();
            inkseal_pki::self_signed_ca(&k, "Inkseal Test SM2 CA", 10, now()).unwrap()
        })
        .collect();
    match cms::verify_chain(&signer, &look_alikes, &[], None) {
        Err(CmsError::UntrustedChain(m)) => assert!(m.contains("gave up"), "{m}"),
        other => panic!("{other:?}"),
    }
    // Validity: the signer certificate runs 365 days, the CA 3650 days.
    let t = now();
    assert!(
        cms::verify_chain(
            &signer,
            &[],
            std::slice::from_ref(&root),
            Some(t + 364 * 86_400)
        )
        .is_ok()
    );
    assert_eq!(
        cms::verify_chain(
            &signer,
            &[],
            std::slice::from_ref(&root),
            Some(t + 366 * 86_400)
        ),
        Err(CmsError::CertificateExpired("CN=Alice SM2".into()))
    );
    assert_eq!(
        cms::verify_chain(&signer, &[], std::slice::from_ref(&root), Some(t - 3600)),
        Err(CmsError::CertificateNotYetValid("CN=Alice SM2".into()))
    );
    // An end-entity certificate cannot issue: a certificate "issued" by the signer.
    let _ = ca_key;
    assert!(matches!(
        cms::verify_chain(b"junk", &[], std::slice::from_ref(&root), None),
        Err(CmsError::Malformed(_))
    ));
}

#[test]
fn p256_chain_needs_the_intermediate_and_checks_ca_flags() {
    if !have_openssl() {
        return;
    }
    let fx = p256_fixture();
    let root = fx.root_der.clone();
    let (signer, inter) = (fx.chain[0].clone(), fx.chain[1].clone());
    assert_eq!(
        cms::verify_chain(
            &signer,
            std::slice::from_ref(&inter),
            std::slice::from_ref(&root),
            Some(now())
        )
        .unwrap(),
        vec![signer.clone(), inter.clone(), root.clone()]
    );
    assert!(matches!(
        cms::verify_chain(&signer, &[], std::slice::from_ref(&root), None),
        Err(CmsError::UntrustedChain(_))
    ));
    // Trusting the intermediate directly is fine.
    assert_eq!(
        cms::verify_chain(&signer, &[], std::slice::from_ref(&inter), None)
            .unwrap()
            .len(),
        2
    );
    // An end-entity certificate used as an issuer is refused: let the signer "issue" a cert.
    let d = fx.dir.as_ref().unwrap().path();
    openssl_ok(
        d,
        &[
            "ecparam",
            "-name",
            "prime256v1",
            "-genkey",
            "-out",
            "leaf2.key",
        ],
    );
    openssl_ok(
        d,
        &[
            "req",
            "-new",
            "-config",
            "openssl.cnf",
            "-key",
            "leaf2.key",
            "-subj",
            "/CN=Leaf2",
            "-out",
            "leaf2.csr",
        ],
    );
    openssl_ok(
        d,
        &[
            "x509",
            "-req",
            "-in",
            "leaf2.csr",
            "-CA",
            "signer.pem",
            "-CAkey",
            "signer.key",
            "-set_serial",
            "9",
            "-days",
            "30",
            "-sha256",
            "-out",
            "leaf2.pem",
        ],
    );
    let leaf2 = pem_file_der(&d.join("leaf2.pem"));
    assert_eq!(
        cms::verify_chain(
            &leaf2,
            &[signer.clone(), inter.clone()],
            std::slice::from_ref(&root),
            None
        ),
        Err(CmsError::NotCa("O=Inkseal,CN=Alice P-256".into()))
    );
    // pathlen:0 on the intermediate: it cannot have another CA under it.
    openssl_ok(
        d,
        &[
            "req",
            "-new",
            "-config",
            "openssl.cnf",
            "-key",
            "leaf2.key",
            "-subj",
            "/CN=Sub CA",
            "-out",
            "sub.csr",
        ],
    );
    openssl_ok(
        d,
        &[
            "x509",
            "-req",
            "-in",
            "sub.csr",
            "-CA",
            "inter.pem",
            "-CAkey",
            "inter.key",
            "-set_serial",
            "10",
            "-days",
            "30",
            "-sha256",
            "-extfile",
            "openssl.cnf",
            "-extensions",
            "v3_root",
            "-out",
            "sub.pem",
        ],
    );
    openssl_ok(
        d,
        &[
            "x509",
            "-req",
            "-in",
            "leaf2.csr",
            "-CA",
            "sub.pem",
            "-CAkey",
            "leaf2.key",
            "-set_serial",
            "11",
            "-days",
            "30",
            "-sha256",
            "-out",
            "leaf3.pem",
        ],
    );
    let sub = pem_file_der(&d.join("sub.pem"));
    let leaf3 = pem_file_der(&d.join("leaf3.pem"));
    assert_eq!(
        cms::verify_chain(&leaf3, &[sub, inter], std::slice::from_ref(&root), None),
        Err(CmsError::NotCa(
            "O=Inkseal,CN=Inkseal Test P-256 Intermediate".into()
        ))
    );
    // A P-256 certificate does not chain to the SM2 root.
    let (sm2, _) = sm2_fixture();
    assert!(matches!(
        cms::verify_chain(&signer, &[], std::slice::from_ref(&sm2.root_der), None),
        Err(CmsError::UntrustedChain(_))
    ));
}

#[test]
fn local_signer_loading() {
    if !have_openssl() {
        return;
    }
    let fx = p256_fixture();
    let d = fx.dir.as_ref().unwrap().path();
    let chain_pem = format!(
        "{}{}",
        std::fs::read_to_string(d.join("signer.pem")).unwrap(),
        std::fs::read_to_string(d.join("inter.pem")).unwrap()
    );
    // SEC1 with an EC PARAMETERS block first (openssl ecparam -genkey).
    let sec1_pem = std::fs::read_to_string(d.join("signer.key")).unwrap();
    assert!(sec1_pem.contains("EC PARAMETERS"));
    let s1 = LocalSigner::from_pem(&sec1_pem, chain_pem.as_bytes()).unwrap();
    assert_eq!(s1.certificate_chain(), fx.chain.as_slice());
    // PKCS#8.
    let pk8 = std::fs::read_to_string(d.join("signer.pk8")).unwrap();
    let s2 = LocalSigner::from_pem(&pk8, chain_pem.as_bytes()).unwrap();
    assert_eq!(s1.public_key_sec1(), s2.public_key_sec1());
    // From files: key, signer certificate, then the chain files.
    let s4 = LocalSigner::from_pem_files(
        &d.join("signer.key"),
        &d.join("signer.pem"),
        &[d.join("inter.pem")],
    )
    .unwrap();
    assert_eq!(s4.certificate_chain(), fx.chain.as_slice());
    assert_eq!(s4.common_name().as_deref(), Some("Alice P-256"));
    assert!(matches!(
        LocalSigner::from_pem_files(&d.join("missing.key"), &d.join("signer.pem"), &[]),
        Err(SignerError::Io(_))
    ));
    // DER certificate instead of PEM.
    let s3 = LocalSigner::from_pem(&pk8, &fx.chain[0]).unwrap();
    assert_eq!(s3.certificate_chain().len(), 1);
    // Debug does not leak the key.
    let dbg = format!("{s2:?}");
    assert!(dbg.contains("EcdsaP256Sha256"), "{dbg}");
    let key_der = pem_key_der(&sec1_pem);
    let secret_hex = hex::encode(&key_der[7..39]); // ECPrivateKey privateKey OCTET STRING
    assert!(!dbg.contains(&secret_hex));

    // Key mismatch: the root key with the signer chain.
    let root_key = std::fs::read_to_string(d.join("root.key")).unwrap();
    assert_eq!(
        LocalSigner::from_pem(&root_key, chain_pem.as_bytes()).unwrap_err(),
        SignerError::KeyMismatch
    );
    // SM2 key with a P-256 certificate.
    let (sm2fx, _) = sm2_fixture();
    assert_eq!(
        LocalSigner::from_pem(&sm2fx.key_pem, chain_pem.as_bytes()).unwrap_err(),
        SignerError::KeyMismatch
    );
    // Empty chain, no key, encrypted key, garbage.
    assert_eq!(
        LocalSigner::from_der(&key_der, vec![]).unwrap_err(),
        SignerError::EmptyChain
    );
    assert!(matches!(
        LocalSigner::from_pem("nothing here", chain_pem.as_bytes()),
        Err(SignerError::Key(_))
    ));
    assert!(matches!(
        LocalSigner::from_pem(&sec1_pem, b"not a chain"),
        Err(SignerError::Certificate(_))
    ));
    openssl_ok(
        d,
        &[
            "pkcs8",
            "-topk8",
            "-in",
            "signer.key",
            "-passout",
            "pass:secret",
            "-out",
            "enc.pk8",
        ],
    );
    let enc = std::fs::read_to_string(d.join("enc.pk8")).unwrap();
    assert!(matches!(
        LocalSigner::from_pem(&enc, chain_pem.as_bytes()),
        Err(SignerError::UnsupportedKey(_))
    ));
    // A secp384r1 key is refused as unsupported.
    openssl_ok(
        d,
        &[
            "genpkey",
            "-algorithm",
            "EC",
            "-pkeyopt",
            "ec_paramgen_curve:secp384r1",
            "-out",
            "p384.pem",
        ],
    );
    let p384 = std::fs::read_to_string(d.join("p384.pem")).unwrap();
    assert!(matches!(
        LocalSigner::from_pem(&p384, chain_pem.as_bytes()),
        Err(SignerError::UnsupportedKey(_))
    ));

    // SM2 keys in OpenSSL's own PKCS#8 form (id-ecPublicKey + curve 1.2.156.10197.1.301).
    openssl_ok(d, &["genpkey", "-algorithm", "SM2", "-out", "sm2.pem"]);
    let sm2_pem = std::fs::read_to_string(d.join("sm2.pem")).unwrap();
    // ... it does not match the SM2 fixture certificate, but it is read as an SM2 key.
    assert_eq!(
        LocalSigner::from_pem(&sm2_pem, &sm2fx.chain[0]).unwrap_err(),
        SignerError::KeyMismatch
    );
    // The fixture's own key, converted to SEC1 by OpenSSL, loads and signs.
    write(d, "alice_sm2.pem", sm2fx.key_pem.as_bytes());
    let out = openssl_ok(d, &["ec", "-in", "alice_sm2.pem"]);
    let sec1 = String::from_utf8(out.stdout).unwrap();
    // OpenSSL labels SEC1 SM2 keys "SM2 PRIVATE KEY".
    assert!(
        sec1.contains("PRIVATE KEY-----") && !sec1.contains("BEGIN PRIVATE KEY"),
        "{sec1}"
    );
    let s = LocalSigner::from_pem(&sec1, &sm2fx.chain[0]).unwrap();
    assert_eq!(s.algorithm(), SignatureAlgorithm::Sm2Sm3);
    let digest = s.algorithm().digest(&[b"x"]);
    let attrs = cms::signed_attributes(s.algorithm(), &digest, &sm2fx.chain[0], &[]).unwrap();
    let sig = s.sign(&attrs).unwrap();
    let der = cms::assemble(s.algorithm(), &attrs, &sig, s.certificate_chain()).unwrap();
    cms::parse(&der).unwrap().verify(&digest).unwrap();
}
