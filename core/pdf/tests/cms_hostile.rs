//! Hostile input: whatever the bytes, parse/verify/verify_chain return an error or a result,
//! never panic, and oversized input is refused before decoding.
#![allow(clippy::unwrap_used)]

mod cms_support;

use cms_support::*;
use inkseal_pdf::cms::{self, CmsError, MAX_CMS_BYTES};
use proptest::prelude::*;
use std::sync::OnceLock;

/// A valid SM2 CMS, its content digest, and the CA certificate.
fn sample() -> &'static (Vec<u8>, Vec<u8>, Vec<u8>) {
    static SAMPLE: OnceLock<(Vec<u8>, Vec<u8>, Vec<u8>)> = OnceLock::new();
    SAMPLE.get_or_init(|| {
        let (fx, _) = sm2_fixture();
        let (digest, der) = sign_detached(&fx, &[b"hostile input tests"], &[]);
        (der, digest, fx.root_der.clone())
    })
}

/// Everything the PDF verifier would run on untrusted bytes.
fn exercise(bytes: &[u8], digest: &[u8], root: &[u8]) {
    if let Ok(parsed) = cms::parse(bytes) {
        let _ = parsed.digest_algorithm();
        let _ = parsed.signature();
        let _ = parsed.signed_attributes_der();
        if let Ok(v) = parsed.verify(digest) {
            let _ = cms::verify_chain(
                &v.signer_cert_der,
                &v.certificates,
                &[root.to_vec()],
                Some(now()),
            );
        }
        for cert in parsed.certificates() {
            let _ = cms::verify_chain(cert, parsed.certificates(), &[root.to_vec()], None);
        }
    }
    let _ = cms::verify_chain(bytes, &[], &[root.to_vec()], None);
    let _ = cms::SignatureAlgorithm::from_certificate(bytes);
}

#[test]
fn fixed_bad_inputs() {
    let (der, digest, _) = sample();
    assert!(cms::parse(der).unwrap().verify(digest).is_ok());

    assert!(matches!(cms::parse(&[]), Err(CmsError::Malformed(_))));
    assert!(matches!(
        cms::parse(&[0u8; 64]),
        Err(CmsError::Malformed(_))
    ));
    assert!(matches!(
        cms::parse(b"garbage that is not DER"),
        Err(CmsError::Malformed(_))
    ));
    for cut in [1, 2, 10, der.len() / 2, der.len() - 1] {
        assert!(
            matches!(cms::parse(&der[..cut]), Err(CmsError::Malformed(_))),
            "truncated at {cut}"
        );
    }
    // Oversized: refused on size alone, even if it is zero padding.
    let mut big = der.clone();
    big.resize(MAX_CMS_BYTES + 1, 0);
    assert_eq!(
        cms::parse(&big).unwrap_err(),
        CmsError::TooLarge {
            size: MAX_CMS_BYTES + 1,
            limit: MAX_CMS_BYTES
        }
    );
    // Exactly at the limit with zero padding is fine.
    big.truncate(MAX_CMS_BYTES);
    assert!(cms::parse(&big).is_ok());
    // Indefinite length (BER) is refused.
    let mut ber = der.clone();
    ber[1] = 0x80;
    assert!(matches!(cms::parse(&ber), Err(CmsError::Malformed(_))));
    // A length claiming far more than is there.
    assert!(matches!(
        cms::parse(&[0x30, 0x84, 0x7f, 0xff, 0xff, 0xff, 0x06]),
        Err(CmsError::Malformed(_))
    ));
    // Deep nesting does not recurse.
    let mut nested = Vec::new();
    for _ in 0..10_000 {
        nested = [vec![0x30, 0x80], nested, vec![0, 0]].concat();
    }
    assert!(cms::parse(&nested).is_err());
    // Other content types.
    let data_ci = [
        0x30, 0x0f, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x01, 0xa0, 0x02,
        0x04, 0x00,
    ];
    assert!(matches!(
        cms::parse(&data_ci),
        Err(CmsError::Unsupported(_))
    ));
}

/// Check a mutated CMS: no panic, and if it verifies, what was signed is unchanged.
fn check_mutant(bytes: &[u8]) -> Result<(), TestCaseError> {
    let (der, digest, root) = sample();
    exercise(bytes, digest, root);
    // A mutant may only verify with the original digest if the signed bytes, the signature
    // and the signer certificate are untouched (e.g. a change in the CA certificate, which the
    // CMS signature does not cover).
    if let Ok(v) = cms::parse(bytes).and_then(|p| p.verify(digest)) {
        let original = cms::parse(der).unwrap().verify(digest).unwrap();
        prop_assert_eq!(v.signed_attrs_der, original.signed_attrs_der);
        prop_assert_eq!(v.signature, original.signature);
        prop_assert_eq!(v.signer_cert_der, original.signer_cert_der);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, .. ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let (_, digest, root) = sample();
        exercise(&bytes, digest, root);
        // Also behind a plausible header.
        let mut framed = vec![0x30, 0x82, (bytes.len() >> 8) as u8, bytes.len() as u8];
        framed.extend_from_slice(&bytes);
        exercise(&framed, digest, root);
    }

    #[test]
    fn mutated_cms_never_panics(
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..4), 1..6),
        cut in any::<prop::sample::Index>(),
        truncate in any::<bool>(),
    ) {
        let mut bytes = sample().0.clone();
        for (at, value, kind) in edits {
            let i = at.index(bytes.len().max(1));
            match kind {
                0 => bytes[i] = value,
                1 => bytes[i] ^= 1 << (value % 8),
                2 => bytes.insert(i, value),
                _ => { bytes.remove(i); }
            }
            if bytes.is_empty() {
                bytes.push(value);
            }
        }
        if truncate {
            bytes.truncate(cut.index(bytes.len()));
        }
        check_mutant(&bytes)?;
    }

    /// One changed byte mostly keeps the DER valid, so these reach the signature checks.
    #[test]
    fn single_byte_changes_never_verify_wrongly(at in any::<prop::sample::Index>(), value in 1u8..=255) {
        let mut bytes = sample().0.clone();
        let i = at.index(bytes.len());
        bytes[i] ^= value;
        check_mutant(&bytes)?;
    }
}
