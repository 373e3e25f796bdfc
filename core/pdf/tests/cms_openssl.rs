//! Interoperability with OpenSSL's `cms` command, both directions.
#![allow(clippy::unwrap_used)]

mod cms_support;

use cms_support::*;
use inkseal_pdf::cms::{self, CmsError, ID_SIGNING_TIME, ObjectIdentifier};
use inkseal_pdf::signer::Signer;
use inkseal_pki::der_to_pem;

const CONTENT: &[u8] = b"%PDF-1.7\n... the /ByteRange bytes of a signed PDF, in one piece ...\n";
const SMIME_CAPABILITIES: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.15");

fn verify_with_openssl(
    dir: &std::path::Path,
    cms_der: &[u8],
    root_der: &[u8],
) -> std::process::Output {
    write(dir, "data.bin", CONTENT);
    write(dir, "sig.der", cms_der);
    write(
        dir,
        "trust.pem",
        der_to_pem("CERTIFICATE", root_der).as_bytes(),
    );
    openssl(
        dir,
        &[
            "cms",
            "-verify",
            "-binary",
            "-inform",
            "DER",
            "-in",
            "sig.der",
            "-content",
            "data.bin",
            "-CAfile",
            "trust.pem",
            "-purpose",
            "any",
            "-out",
            "/dev/null",
        ],
    )
}

fn successful(out: &std::process::Output) -> bool {
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out.status.success() && text.contains("Verification successful")
}

#[test]
fn openssl_verifies_our_p256_signature() {
    if !have_openssl() {
        eprintln!("openssl not found; skipping");
        return;
    }
    let fx = p256_fixture();
    let d = fx.dir.as_ref().unwrap().path();
    let (_, der) = sign_detached(&fx, &[&CONTENT[..10], &CONTENT[10..]], &[]);
    let out = verify_with_openssl(d, &der, &fx.root_der);
    assert!(
        successful(&out),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    // OpenSSL 3 checks signing-certificate-v2 (ESSCertIDv2, SHA-256 hashAlgorithm omitted as
    // the DEFAULT) against the signer certificate: one naming the intermediate is refused, by
    // OpenSSL and by us.
    let digest = fx.algorithm.digest(&[CONTENT]);
    let wrong_attrs = cms::signed_attributes(fx.algorithm, &digest, &fx.chain[1], &[]).unwrap();
    let wrong_sig = fx.signer.sign(&wrong_attrs).unwrap();
    let wrong = with_signed_attributes(&der, &wrong_attrs, &wrong_sig);
    assert_eq!(
        cms::parse(&wrong).unwrap().verify(&digest),
        Err(CmsError::SigningCertificateMismatch)
    );
    let out = verify_with_openssl(d, &wrong, &fx.root_der);
    eprintln!(
        "openssl on a wrong signing-certificate-v2: {:?}",
        String::from_utf8_lossy(&out.stderr).lines().last()
    );
    // OpenSSL 3.0 does not check it (the CMS still verifies there), so that is only logged.
    // And it refuses other content.
    write(d, "sig.der", &der);
    write(d, "data.bin", b"other content");
    let out = openssl(
        d,
        &[
            "cms",
            "-verify",
            "-binary",
            "-inform",
            "DER",
            "-in",
            "sig.der",
            "-content",
            "data.bin",
            "-CAfile",
            "trust.pem",
            "-purpose",
            "any",
            "-out",
            "/dev/null",
        ],
    );
    assert!(!out.status.success());
}

/// Replace the signed attributes and signature of a SignedData (no checks).
fn with_signed_attributes(der: &[u8], attrs: &[u8], signature: &[u8]) -> Vec<u8> {
    use der::{Decode, Encode};
    let ci = ::cms::content_info::ContentInfo::from_der(der).unwrap();
    let mut sd: ::cms::signed_data::SignedData = ci.content.decode_as().unwrap();
    let mut info = sd.signer_infos.0.iter().next().unwrap().clone();
    info.signed_attrs = Some(x509_cert::attr::Attributes::from_der(attrs).unwrap());
    info.signature = der::asn1::OctetString::new(signature).unwrap();
    sd.signer_infos = ::cms::signed_data::SignerInfos::try_from(vec![info]).unwrap();
    ::cms::content_info::ContentInfo {
        content_type: cms::ID_SIGNED_DATA,
        content: der::Any::encode_from(&sd).unwrap(),
    }
    .to_der()
    .unwrap()
}

/// Replace the signature of a SignedData (no checks; for building a variant OpenSSL accepts).
fn with_signature(der: &[u8], signature: &[u8]) -> Vec<u8> {
    use der::{Decode, Encode};
    let ci = ::cms::content_info::ContentInfo::from_der(der).unwrap();
    let mut sd: ::cms::signed_data::SignedData = ci.content.decode_as().unwrap();
    let mut info = sd.signer_infos.0.iter().next().unwrap().clone();
    info.signature = der::asn1::OctetString::new(signature).unwrap();
    sd.signer_infos = ::cms::signed_data::SignerInfos::try_from(vec![info]).unwrap();
    ::cms::content_info::ContentInfo {
        content_type: cms::ID_SIGNED_DATA,
        content: der::Any::encode_from(&sd).unwrap(),
    }
    .to_der()
    .unwrap()
}

/// OpenSSL 3.0 verifies CMS SM2 signatures with an empty signer ID in Z_A (there is no option
/// to set it for `cms -verify`), while GM/T 0010 and this crate use "1234567812345678". So
/// OpenSSL 3.0 rejects our SM2 CMS; the same CMS re-signed with an empty ID verifies, which
/// shows everything else (attributes, digests, structure) is what OpenSSL expects. A later
/// OpenSSL that applies the standard ID would accept ours directly; either outcome passes.
#[test]
fn openssl_and_our_sm2_signature() {
    use sm2::dsa::signature::Signer as _;
    use sm2::pkcs8::DecodePrivateKey;
    if !have_openssl() {
        return;
    }
    let (fx, _) = sm2_fixture();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (_, der) = sign_detached(&fx, &[CONTENT], &[]);

    // OpenSSL parses the structure.
    write(d, "sig.der", &der);
    openssl_ok(
        d,
        &[
            "cms", "-cmsout", "-print", "-inform", "DER", "-in", "sig.der", "-noout",
        ],
    );
    // Our SM2 certificates verify in OpenSSL when it is told the standard ID.
    write(
        d,
        "ca.pem",
        der_to_pem("CERTIFICATE", &fx.root_der).as_bytes(),
    );
    write(
        d,
        "signer.pem",
        der_to_pem("CERTIFICATE", fx.signer_der()).as_bytes(),
    );
    openssl_ok(
        d,
        &[
            "verify",
            "-CAfile",
            "ca.pem",
            "-vfyopt",
            "distid:1234567812345678",
            "signer.pem",
        ],
    );

    let noverify = |der: &[u8]| {
        write(d, "sig.der", der);
        write(d, "data.bin", CONTENT);
        let out = openssl(
            d,
            &[
                "cms",
                "-verify",
                "-binary",
                "-inform",
                "DER",
                "-in",
                "sig.der",
                "-content",
                "data.bin",
                "-noverify",
                "-out",
                "/dev/null",
            ],
        );
        eprintln!(
            "openssl cms -verify -noverify: status {:?}: {}",
            out.status.code(),
            String::from_utf8_lossy(&out.stderr)
                .lines()
                .next()
                .unwrap_or("")
        );
        successful(&out)
    };
    let ours_accepted = noverify(&der);
    let attrs = cms::parse(&der)
        .unwrap()
        .signed_attributes_der()
        .unwrap()
        .to_vec();
    let (_, key_der) = der::pem::decode_vec(fx.key_pem.as_bytes()).unwrap();
    let secret = sm2::SecretKey::from_pkcs8_der(&key_der).unwrap();
    let empty_id: sm2::dsa::Signature = sm2::dsa::SigningKey::new("", &secret)
        .unwrap()
        .try_sign(&attrs)
        .unwrap();
    let variant = with_signature(&der, &empty_id.to_der().to_vec());
    let empty_id_accepted = noverify(&variant);
    eprintln!("OpenSSL accepts: standard ID {ours_accepted}, empty ID {empty_id_accepted}");
    assert!(ours_accepted || empty_id_accepted);
    // We, of course, reject the empty-ID variant.
    assert_eq!(
        cms::parse(&variant)
            .unwrap()
            .verify(&fx.algorithm.digest(&[CONTENT])),
        Err(CmsError::BadSignature)
    );
    // With the chain check OpenSSL also needs the standard ID for the certificate signature,
    // which `cms -verify` cannot be told in 3.0; log what happens.
    let out = verify_with_openssl(d, &der, &fx.root_der);
    eprintln!(
        "openssl cms -verify (with chain) on our SM2 CMS: status {:?}: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
            .lines()
            .last()
            .unwrap_or("")
    );
}

fn openssl_sign(dir: &std::path::Path, extra: &[&str]) -> Vec<u8> {
    write(dir, "data.bin", CONTENT);
    let mut args = vec![
        "cms",
        "-sign",
        "-binary",
        "-in",
        "data.bin",
        "-signer",
        "signer.pem",
        "-inkey",
        "signer.key",
        "-certfile",
        "inter.pem",
        "-md",
        "sha256",
        "-outform",
        "DER",
        "-out",
        "ossl.der",
    ];
    args.extend_from_slice(extra);
    openssl_ok(dir, &args);
    std::fs::read(dir.join("ossl.der")).unwrap()
}

#[test]
fn we_verify_openssl_p256_signatures() {
    if !have_openssl() {
        return;
    }
    let fx = p256_fixture();
    let d = fx.dir.as_ref().unwrap().path();
    let digest = fx.algorithm.digest(&[CONTENT]);
    for (extra, expect_caps) in [(&[][..], true), (&["-nosmimecap"][..], false)] {
        let der = openssl_sign(d, extra);
        let parsed = cms::parse(&der).expect("parse OpenSSL CMS");
        assert_eq!(parsed.digest_algorithm(), fx.algorithm.digest_algorithm());
        let v = parsed.verify(&digest).expect("verify OpenSSL CMS");
        assert_eq!(v.signer_cert_der, fx.chain[0]);
        assert!(v.signed_attribute(&ID_SIGNING_TIME).is_some());
        assert_eq!(
            v.signed_attribute(&SMIME_CAPABILITIES).is_some(),
            expect_caps
        );
        eprintln!(
            "OpenSSL signed attributes: {:?}; signing-certificate-v2: {}",
            v.signed_attributes
                .iter()
                .map(|a| a.oid.to_string())
                .collect::<Vec<_>>(),
            v.has_signing_certificate_v2
        );
        let path = cms::verify_chain(
            &v.signer_cert_der,
            &v.certificates,
            std::slice::from_ref(&fx.root_der),
            Some(now()),
        )
        .unwrap();
        assert_eq!(path.len(), 3);
        assert_eq!(
            parsed.verify(&fx.algorithm.digest(&[b"other"])),
            Err(CmsError::DigestMismatch)
        );
    }
}

#[test]
fn openssl_sm2_signatures() {
    if !have_openssl() {
        return;
    }
    let (fx, _) = sm2_fixture();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "data.bin", CONTENT);
    write(
        d,
        "signer.pem",
        der_to_pem("CERTIFICATE", fx.signer_der()).as_bytes(),
    );
    write(d, "signer.key", fx.key_pem.as_bytes());
    let out = openssl(
        d,
        &[
            "cms",
            "-sign",
            "-binary",
            "-in",
            "data.bin",
            "-signer",
            "signer.pem",
            "-inkey",
            "signer.key",
            "-md",
            "sm3",
            "-nosmimecap",
            "-outform",
            "DER",
            "-out",
            "ossl.der",
        ],
    );
    // OpenSSL 3.0 fails here ("illegal zero content": it produces no SM2 signature in CMS).
    eprintln!(
        "openssl cms -sign with an SM2 key: status {:?}\nstderr: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    if !out.status.success() {
        return;
    }
    // A later OpenSSL that can sign: we parse it; it verifies if OpenSSL used the standard ID.
    let der = std::fs::read(d.join("ossl.der")).unwrap();
    let parsed = cms::parse(&der).expect("parse OpenSSL SM2 CMS");
    let result = parsed.verify(&fx.algorithm.digest(&[CONTENT]));
    eprintln!(
        "our verification of OpenSSL's SM2 CMS: {:?}",
        result.as_ref().map(|v| v.algorithm)
    );
    assert!(
        matches!(result, Ok(_) | Err(CmsError::BadSignature)),
        "{result:?}"
    );
}

/// Checks with asn1crypto, the ASN.1 library pyHanko builds on (registering
/// signing-certificate-v2 the way pyHanko does): the CMS re-encodes to the same bytes, the
/// ESSCertIDv2 reads with hashAlgorithm SHA-256 (the omitted DEFAULT) or SM3 (explicit), the
/// hash matches the signer certificate and issuerSerial names its issuer and serial.
const ASN1CRYPTO_CHECK: &str = r#"
import hashlib, sys
from asn1crypto import cms, tsp, core
class SetOfSigningCertificatesV2(core.SetOf):
    _child_spec = tsp.SigningCertificateV2
cms.CMSAttributeType._map['1.2.840.113549.1.9.16.2.47'] = 'signing_certificate_v2'
cms.CMSAttribute._oid_specs['signing_certificate_v2'] = SetOfSigningCertificatesV2
path, expected_alg = sys.argv[1], sys.argv[2]
data = open(path, 'rb').read()
ci = cms.ContentInfo.load(data, strict=True)
assert ci.dump(force=True) == data, 're-encoding differs'
si = ci['content']['signer_infos'][0]
sid = si['sid'].chosen
certs = [c.chosen for c in ci['content']['certificates']]
signer = [c for c in certs if c.issuer == sid['issuer'] and c.serial_number == sid['serial_number'].native][0]
attrs = {a['type'].native: a['values'] for a in si['signed_attrs']}
assert sorted(attrs) == ['content_type', 'message_digest', 'signing_certificate_v2'], sorted(attrs)
assert attrs['content_type'][0].native == 'data'
ess = attrs['signing_certificate_v2'][0]['certs'][0]
alg = ess['hash_algorithm']['algorithm'].dotted
assert alg == expected_alg, alg
assert ess['cert_hash'].native == hashlib.new(alg, signer.dump()).digest()
assert ess['issuer_serial']['issuer'][0].chosen == signer.issuer
assert ess['issuer_serial']['serial_number'].native == signer.serial_number
print('ok')
"#;

fn have_asn1crypto() -> bool {
    std::process::Command::new("python3")
        .args(["-c", "import asn1crypto"])
        .output()
        .is_ok_and(|o| o.status.success())
}

#[test]
fn asn1crypto_reads_our_signed_attributes() {
    if !have_openssl() || !have_asn1crypto() {
        eprintln!("openssl or python3 asn1crypto not found; skipping");
        return;
    }
    let p256 = p256_fixture();
    let (sm2, _) = sm2_fixture();
    let dir = tempfile::tempdir().unwrap();
    for fx in [&p256, &sm2] {
        let (_, der) = sign_detached(fx, &[CONTENT], &[]);
        let path = write(dir.path(), "cms.der", &der);
        let out = std::process::Command::new("python3")
            .arg("-c")
            .arg(ASN1CRYPTO_CHECK)
            .arg(&path)
            .arg(fx.algorithm.digest_oid().to_string())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}: {}",
            fx.algorithm,
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
