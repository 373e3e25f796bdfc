//! Shared by the PAdES B-T and B-LT/B-LTA tests: a root, a one-day signer certificate and a
//! TSA for SM2 or P-256, made with inkseal-pki, and B-T signing with an in-process TSA.
#![allow(dead_code, clippy::unwrap_used)]

use inkseal_pdf::cms::SignatureAlgorithm;
use inkseal_pdf::sign::{SignOptions, prepare};
use inkseal_pdf::signer::{LocalSigner, Signer};
use inkseal_pdf::tsp::{
    IssueParams, TimeStampRequest, TimeStampToken, check_reply, granted_reply, issue_token,
};
use inkseal_pdf::verify::VerifyOptions;
use inkseal_pki::{
    CaKey, CertificatePurpose, EndEntity, IssuerKey, P256CaKey, issue_end_entity, self_signed_ca,
};

pub const DAY: u64 = 86_400;
/// 2026-06-01T00:00:00Z: when the (short-lived) signer certificates are issued.
pub const ISSUED: u64 = 1_780_272_000;

pub struct Pki {
    pub signer: LocalSigner,
    pub tsa_key: Box<dyn IssuerKey>,
    pub tsa_chain: Vec<Vec<u8>>,
    pub anchors: Vec<Vec<u8>>,
    /// The root's key: it signs OCSP responses for everything it issued.
    pub ca_key: Box<dyn IssuerKey>,
}

fn certify(
    ca: &impl IssuerKey,
    root: &[u8],
    key: &dyn IssuerKey,
    cn: &str,
    purpose: CertificatePurpose,
    days: u32,
) -> Vec<u8> {
    issue_end_entity(
        ca,
        root,
        &EndEntity {
            subject_public_key_info: key.subject_public_key_info().unwrap(),
            common_name: cn,
            purpose,
            revocation: None,
        },
        &[0x33; 16],
        days,
        ISSUED,
    )
    .unwrap()
}

/// A root, a signer certificate valid for one day from [`ISSUED`], and a TSA.
pub fn pki(suite: SignatureAlgorithm) -> Pki {
    match suite {
        SignatureAlgorithm::Sm2Sm3 => {
            let ca = CaKey::generate();
            let root = self_signed_ca(&ca, "B-T test root SM2", 3650, ISSUED - DAY).unwrap();
            let user = CaKey::generate();
            let cert = certify(
                &ca,
                &root,
                &user,
                "Signer",
                CertificatePurpose::DocumentSigning,
                1,
            );
            let tsa = CaKey::generate();
            let tsa_cert = certify(
                &ca,
                &root,
                &tsa,
                "TSA",
                CertificatePurpose::TimeStamping,
                3000,
            );
            Pki {
                signer: LocalSigner::from_der(&user.to_pkcs8_der().unwrap(), vec![cert]).unwrap(),
                tsa_key: Box::new(tsa),
                tsa_chain: vec![tsa_cert],
                anchors: vec![root],
                ca_key: Box::new(ca),
            }
        }
        SignatureAlgorithm::EcdsaP256Sha256 => {
            let ca = P256CaKey::try_generate().unwrap();
            let root = self_signed_ca(&ca, "B-T test root P-256", 3650, ISSUED - DAY).unwrap();
            let user = P256CaKey::try_generate().unwrap();
            let cert = certify(
                &ca,
                &root,
                &user,
                "Signer",
                CertificatePurpose::DocumentSigning,
                1,
            );
            let tsa = P256CaKey::try_generate().unwrap();
            let tsa_cert = certify(
                &ca,
                &root,
                &tsa,
                "TSA",
                CertificatePurpose::TimeStamping,
                3000,
            );
            Pki {
                signer: LocalSigner::from_der(&user.to_pkcs8_der().unwrap(), vec![cert]).unwrap(),
                tsa_key: Box::new(tsa),
                tsa_chain: vec![tsa_cert],
                anchors: vec![root],
                ca_key: Box::new(ca),
            }
        }
    }
}

/// A token from the test TSA for `request`, stamped at `stamped_at`.
pub fn stamp(pki: &Pki, request: &TimeStampRequest, stamped_at: u64) -> TimeStampToken {
    let token = issue_token(
        request,
        &pki.tsa_chain,
        &IssueParams {
            policy: const_oid::ObjectIdentifier::new_unwrap("1.3.6.1.4.1.32473.1"),
            serial: &stamped_at.to_be_bytes(),
            gen_time_unix_millis: stamped_at * 1000,
            accuracy_millis: None,
        },
        |tbs| pki.tsa_key.sign_to_der(tbs),
    )
    .unwrap();
    check_reply(request, &granted_reply(&token).unwrap()).unwrap()
}

/// Sign the minimal PDF at `signed_at` with a signature time-stamp at `stamped_at`.
pub fn sign_b_t(pki: &Pki, signed_at: u64, stamped_at: u64) -> Vec<u8> {
    sign_b_t_with(
        pki,
        inkseal_pdf::testing::minimal_pdf(),
        SignOptions::new(signed_at),
        stamped_at,
    )
}

/// `input` signed with `options` (made B-T) by the PKI's signer, stamped at `stamped_at`;
/// the whole file.
pub fn sign_b_t_with(
    pki: &Pki,
    input: Vec<u8>,
    mut options: SignOptions,
    stamped_at: u64,
) -> Vec<u8> {
    options.time_stamped = true;
    let prepared = prepare(
        &input,
        &options,
        pki.signer.algorithm(),
        pki.signer.certificate_chain(),
    )
    .unwrap();
    let signature = pki.signer.sign(prepared.to_be_signed()).unwrap();
    let request = prepared
        .time_stamp_request(&signature, &[0x5a; 16])
        .unwrap();
    let token = stamp(pki, &request, stamped_at);
    let tail = prepared.finish_with_time_stamp(&signature, &token).unwrap();
    [input, tail].concat()
}

pub fn options(pki: &Pki, at: u64) -> VerifyOptions {
    VerifyOptions {
        trust_anchors: pki.anchors.clone(),
        at_unix: Some(at),
        ..VerifyOptions::default()
    }
}
