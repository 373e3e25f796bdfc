//! Device keys as phones send them (SPKI DER, SEC1) and key-store DER signatures.

mod common;

use common::*;
use inkseal_httpsig::{
    HttpSigError, signature_base, signature_from_der, verifying_key_from_sec1,
    verifying_key_from_spki_der,
};
use p256::ecdsa::signature::{Signer, Verifier};
use p256::ecdsa::{DerSignature, Signature};
use p256::pkcs8::EncodePublicKey;

/// prime256v1 (1.2.840.10045.3.1.7) as DER content bytes.
const P256_OID: [u8; 8] = [0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
/// id-ecPublicKey (1.2.840.10045.2.1) as DER content bytes.
const EC_PUBLIC_KEY_OID: [u8; 7] = [0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];

fn spki() -> Vec<u8> {
    device_key(7)
        .verifying_key()
        .to_public_key_der()
        .expect("encodes")
        .as_bytes()
        .to_vec()
}

fn replace(haystack: &[u8], needle: &[u8], with: &[u8]) -> Vec<u8> {
    let at = haystack
        .windows(needle.len())
        .position(|w| w == needle)
        .expect("needle present");
    [&haystack[..at], with, &haystack[at + needle.len()..]].concat()
}

#[test]
fn spki_der_accepted_and_checked() {
    let der = spki();
    assert_eq!(der.len(), 91);
    let key = verifying_key_from_spki_der(&der).expect("P-256 SPKI");
    assert_eq!(&key, device_key(7).verifying_key());

    let invalid = |bytes: &[u8]| {
        matches!(
            verifying_key_from_spki_der(bytes),
            Err(HttpSigError::InvalidKey(_))
        )
    };
    // Another curve (1.2.840.10045.3.1.8 does not exist; secp256k1 would be 1.3.132.0.10).
    let mut other_curve = P256_OID;
    other_curve[7] = 0x08;
    assert!(invalid(&replace(&der, &P256_OID, &other_curve)));
    // Another key algorithm (1.2.840.10045.2.2).
    let mut other_alg = EC_PUBLIC_KEY_OID;
    other_alg[6] = 0x02;
    assert!(invalid(&replace(&der, &EC_PUBLIC_KEY_OID, &other_alg)));
    // A point off the curve.
    let mut off_curve = der.clone();
    let last = off_curve.len() - 1;
    off_curve[last] ^= 0x01;
    assert!(invalid(&off_curve));
    // Trailing bytes, truncation, empty, too long, a bare SEC1 point.
    assert!(invalid(&[der.as_slice(), &[0]].concat()));
    assert!(invalid(&der[..der.len() - 1]));
    assert!(invalid(&[]));
    assert!(invalid(&vec![0x30; 257]));
    let sec1 = device_key(7).verifying_key().to_sec1_point(false);
    assert!(invalid(sec1.as_bytes()));
}

#[test]
fn sec1_points_accepted_and_checked() {
    let vk = *device_key(7).verifying_key();
    let uncompressed = vk.to_sec1_point(false);
    let compressed = vk.to_sec1_point(true);
    assert_eq!(uncompressed.as_bytes().len(), 65);
    assert_eq!(compressed.as_bytes().len(), 33);
    assert_eq!(
        verifying_key_from_sec1(uncompressed.as_bytes()).expect("04||x||y"),
        vk
    );
    assert_eq!(
        verifying_key_from_sec1(compressed.as_bytes()).expect("02/03||x"),
        vk
    );

    let invalid = |bytes: &[u8]| {
        matches!(
            verifying_key_from_sec1(bytes),
            Err(HttpSigError::InvalidKey(_))
        )
    };
    assert!(invalid(&[0x00])); // the identity
    assert!(invalid(&[]));
    let mut off_curve = uncompressed.as_bytes().to_vec();
    off_curve[64] ^= 0x01;
    assert!(invalid(&off_curve));
    assert!(invalid(&uncompressed.as_bytes()[..64]));
    assert!(invalid(&spki()));
}

/// Splits a DER `SEQUENCE { INTEGER r, INTEGER s }` by hand (short-form lengths only) into
/// 32-byte big-endian `r` and `s`, independently of the crate.
fn split_der_by_hand(der: &[u8]) -> [u8; 64] {
    assert_eq!(der[0], 0x30);
    assert_eq!(der[1] as usize, der.len() - 2);
    let mut out = [0u8; 64];
    let mut at = 2;
    for half in 0..2 {
        assert_eq!(der[at], 0x02);
        let len = der[at + 1] as usize;
        let mut int = &der[at + 2..at + 2 + len];
        while int.len() > 32 {
            assert_eq!(int[0], 0);
            int = &int[1..];
        }
        out[half * 32 + 32 - int.len()..half * 32 + 32].copy_from_slice(int);
        at += 2 + len;
    }
    assert_eq!(at, der.len());
    out
}

#[test]
fn der_signature_converted_to_raw() {
    let key = device_key(7);
    let base = signature_base(&target(), &params());
    let der: DerSignature = key.sign(base.as_bytes());
    let raw = signature_from_der(der.as_bytes()).expect("strict DER");
    assert_eq!(raw.to_bytes().as_slice(), split_der_by_hand(der.as_bytes()));
    key.verifying_key()
        .verify(base.as_bytes(), &raw)
        .expect("verifies");

    // r = 1, s = 2 written by hand.
    let tiny = signature_from_der(&[0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x02]).expect("ok");
    let mut expected = [0u8; 64];
    expected[31] = 1;
    expected[63] = 2;
    assert_eq!(tiny.to_bytes().as_slice(), expected);
    // Many signatures, so both 32- and 33-byte INTEGERs (high bit set) occur.
    for i in 0u8..32 {
        let der: DerSignature = key.sign(&[i]);
        let raw = signature_from_der(der.as_bytes()).expect("strict DER");
        assert_eq!(raw.to_bytes().as_slice(), split_der_by_hand(der.as_bytes()));
    }
}

#[test]
fn non_canonical_der_refused() {
    let bad: [&[u8]; 8] = [
        &[0x30, 0x07, 0x02, 0x02, 0x00, 0x01, 0x02, 0x01, 0x02], // r padded with a needless 0
        &[0x30, 0x81, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x02], // long-form length
        &[0x30, 0x06, 0x02, 0x01, 0x00, 0x02, 0x01, 0x02],       // r = 0
        &[0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x82],       // s negative
        &[0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x02, 0x00], // trailing byte
        &[0x30, 0x03, 0x02, 0x01, 0x01],                         // s missing
        &[],
        &[0x30; 73], // longer than any P-256 signature
    ];
    for der in bad {
        assert!(signature_from_der(der).is_err(), "{der:02x?}");
    }
    // r = n is out of range.
    let mut n_der = vec![0x30, 0x26, 0x02, 0x21, 0x00];
    n_der.extend_from_slice(&[
        0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63,
        0x25, 0x51,
    ]);
    n_der.extend_from_slice(&[0x02, 0x01, 0x01]);
    assert!(signature_from_der(&n_der).is_err());
    // A raw r || s is not DER.
    let raw: Signature = device_key(7).sign(b"x");
    assert!(signature_from_der(&raw.to_bytes()).is_err());
}
