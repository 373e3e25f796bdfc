//! Signing and verifying: round trips, the exact bytes signed, and every tampering refused.

mod common;

use base64ct::{Base64, Encoding};
use common::*;
use inkseal_httpsig::{
    HttpSigError, ParsedSignature, RequestTarget, SignatureParams, SignedHeaders, SignerError,
    content_digest, sign_request, signature_base, signature_from_der,
};
use p256::ecdsa::signature::{Signer, Verifier};
use p256::ecdsa::{DerSignature, Signature};
use sha2::{Digest, Sha256};

fn headers(content_digest: &str, signature_input: &str, signature: &str) -> SignedHeaders {
    SignedHeaders {
        content_digest: content_digest.to_owned(),
        signature_input: signature_input.to_owned(),
        signature: signature.to_owned(),
    }
}

fn verify(h: &SignedHeaders, target: &RequestTarget<'_>) -> Result<(), HttpSigError> {
    parse(h)?.verify(target, device_key(7).verifying_key())
}

#[test]
fn round_trip_post_and_get() {
    let h = signed();
    let parsed = parse(&h).expect("parses");
    assert_eq!(parsed.params(), &params());
    assert_eq!(parsed.params().keyid(), KEYID);
    assert_eq!(parsed.params().created(), CREATED);
    assert_eq!(parsed.params().nonce(), NONCE);
    parsed
        .verify(&target(), device_key(7).verifying_key())
        .expect("verifies");

    // A GET has a Content-Digest too: the digest of the empty body.
    let get = RequestTarget::new("GET", "/v1/keys/k-01/status", b"").expect("valid");
    let h = sign_request(&get, &params(), &device_key(7)).expect("signs");
    assert_eq!(
        h.content_digest,
        "sha-256=:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=:"
    );
    verify(&h, &get).expect("GET verifies");
}

#[test]
fn headers_have_the_documented_wire_format() {
    let h = signed();
    assert_eq!(
        h.signature_input,
        format!(
            r#"sig1=("@method" "@path" "content-digest");created={CREATED};nonce="{NONCE}";keyid="{KEYID}";alg="ecdsa-p256-sha256""#
        )
    );
    let b64 = h
        .signature
        .strip_prefix("sig1=:")
        .and_then(|s| s.strip_suffix(':'))
        .expect("sig1=:…:");
    assert_eq!(Base64::decode_vec(b64).expect("base64").len(), 64);
    assert!(h.content_digest.starts_with("sha-256=:") && h.content_digest.ends_with(':'));
}

/// The bytes signed are exactly the RFC 9421 §2.5 base, written out here by hand, and the
/// header's signature verifies over them with the plain p256 verifier.
#[test]
fn signature_covers_the_rfc9421_signature_base() {
    let expected_digest = format!("sha-256=:{}:", Base64::encode_string(&Sha256::digest(BODY)));
    let expected = format!(
        "\"@method\": POST\n\"@path\": /v1/keys/k-01/sign\n\"content-digest\": {expected_digest}\n\"@signature-params\": (\"@method\" \"@path\" \"content-digest\");created={CREATED};nonce=\"{NONCE}\";keyid=\"{KEYID}\";alg=\"ecdsa-p256-sha256\""
    );
    assert_eq!(signature_base(&target(), &params()), expected);

    let h = signed();
    let raw =
        Base64::decode_vec(&h.signature["sig1=:".len()..h.signature.len() - 1]).expect("base64");
    let sig = Signature::from_slice(&raw).expect("r || s");
    device_key(7)
        .verifying_key()
        .verify(expected.as_bytes(), &sig)
        .expect("the signature is over the hand-written base");
}

/// RFC 9530 §B.1's example: the body `{"hello": "world"}` (no newline).
#[test]
fn rfc9530_example_content_digest() {
    let body = br#"{"hello": "world"}"#;
    // Computed independently of the crate, then compared with the RFC's text and the crate.
    let digest: [u8; 32] = Sha256::digest(body).into();
    let computed = format!("sha-256=:{}:", Base64::encode_string(&digest));
    let rfc = "sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:";
    assert_eq!(computed, rfc);
    assert_eq!(content_digest(body), rfc);
}

#[test]
fn tampered_method_path_or_body_refused() {
    let h = signed();
    let put = RequestTarget::new("PUT", PATH, BODY).expect("valid");
    assert_eq!(verify(&h, &put), Err(HttpSigError::BadSignature));
    let other_path = RequestTarget::new(METHOD, "/v1/keys/k-02/sign", BODY).expect("valid");
    assert_eq!(verify(&h, &other_path), Err(HttpSigError::BadSignature));
    let other_body =
        RequestTarget::new(METHOD, PATH, br#"{"idempotency_key":"abd"}"#).expect("valid");
    assert_eq!(verify(&h, &other_body), Err(HttpSigError::DigestMismatch));
    let empty_body = RequestTarget::new(METHOD, PATH, b"").expect("valid");
    assert_eq!(verify(&h, &empty_body), Err(HttpSigError::DigestMismatch));

    // Body and Content-Digest swapped together: the digest matches, the signature does not.
    let new_body = b"{}";
    let swapped = headers(&content_digest(new_body), &h.signature_input, &h.signature);
    let t = RequestTarget::new(METHOD, PATH, new_body).expect("valid");
    assert_eq!(verify(&swapped, &t), Err(HttpSigError::BadSignature));
}

#[test]
fn tampered_params_refused() {
    let h = signed();
    let cases = [
        ("created=1700000000", "created=1700000001"),
        (NONCE, "bm9uY2Utbm9uY2Utbm9uY2V"),
        (KEYID, "device:k-02.v1"),
    ];
    for (from, to) in cases {
        let input = h.signature_input.replace(from, to);
        assert_ne!(input, h.signature_input);
        let t = headers(&h.content_digest, &input, &h.signature);
        assert_eq!(
            verify(&t, &target()),
            Err(HttpSigError::BadSignature),
            "{from} -> {to}"
        );
    }
    let other_alg = h
        .signature_input
        .replace("ecdsa-p256-sha256", "ecdsa-p384-sha384");
    let t = headers(&h.content_digest, &other_alg, &h.signature);
    assert_eq!(
        parse(&t).map(|_| ()),
        Err(HttpSigError::UnsupportedAlgorithm(
            "ecdsa-p384-sha384".into()
        ))
    );
}

#[test]
fn tampered_signature_bytes_refused() {
    let h = signed();
    let raw =
        Base64::decode_vec(&h.signature["sig1=:".len()..h.signature.len() - 1]).expect("base64");
    for i in [0, 31, 32, 63] {
        let mut bad = raw.clone();
        bad[i] ^= 0x01;
        let t = headers(
            &h.content_digest,
            &h.signature_input,
            &format!("sig1=:{}:", Base64::encode_string(&bad)),
        );
        // Flipping a low bit keeps r and s in range (they are far from n with overwhelming
        // probability), so this parses and is refused by verification.
        assert_eq!(
            verify(&t, &target()),
            Err(HttpSigError::BadSignature),
            "byte {i}"
        );
    }
    // r and s swapped.
    let mut swapped = raw[32..].to_vec();
    swapped.extend_from_slice(&raw[..32]);
    let t = headers(
        &h.content_digest,
        &h.signature_input,
        &format!("sig1=:{}:", Base64::encode_string(&swapped)),
    );
    assert_eq!(verify(&t, &target()), Err(HttpSigError::BadSignature));
}

#[test]
fn signature_by_another_key_refused() {
    let h = signed();
    let parsed = parse(&h).expect("parses");
    assert_eq!(
        parsed.verify(&target(), device_key(8).verifying_key()),
        Err(HttpSigError::BadSignature)
    );
    let by_other = sign_request(&target(), &params(), &device_key(8)).expect("signs");
    assert_eq!(
        verify(&by_other, &target()),
        Err(HttpSigError::BadSignature)
    );
}

/// Parameters in another order (as the Python library writes them) verify when signed that way,
/// because the base uses the received text; reordering a signed header breaks the signature.
#[test]
fn params_in_another_order_use_the_received_text() {
    let key = device_key(7);
    let inner = format!(
        r#"("@method" "@path" "content-digest");created={CREATED};keyid="{KEYID}";alg="ecdsa-p256-sha256";nonce="{NONCE}""#
    );
    let base = format!(
        "\"@method\": {METHOD}\n\"@path\": {PATH}\n\"content-digest\": {}\n\"@signature-params\": {inner}",
        content_digest(BODY)
    );
    let sig: Signature = key.sign(base.as_bytes());
    let h = headers(
        &content_digest(BODY),
        &format!("sig1={inner}"),
        &format!("sig1=:{}:", Base64::encode_string(&sig.to_bytes())),
    );
    let parsed = parse(&h).expect("any parameter order parses");
    assert_eq!(parsed.params(), &params());
    assert_eq!(parsed.signature_params(), inner);
    parsed
        .verify(&target(), key.verifying_key())
        .expect("verifies");

    // Our own header with the parameters reordered, not re-signed.
    let ours = signed();
    let reordered = headers(
        &ours.content_digest,
        &format!("sig1={inner}"),
        &ours.signature,
    );
    assert_eq!(
        verify(&reordered, &target()),
        Err(HttpSigError::BadSignature)
    );
}

/// Any valid ECDSA signature verifies, high-S included (key stores do not normalise S).
#[test]
fn high_s_signature_accepted() {
    let h = signed();
    let raw =
        Base64::decode_vec(&h.signature["sig1=:".len()..h.signature.len() - 1]).expect("base64");
    let sig = Signature::from_slice(&raw).expect("r || s");
    let (r, s) = sig.split_scalars();
    let neg_s = -*s.as_ref();
    let flipped = Signature::from_scalars(r.to_bytes(), neg_s.to_bytes()).expect("valid");
    assert_ne!(flipped, sig);
    let t = headers(
        &h.content_digest,
        &h.signature_input,
        &format!("sig1=:{}:", Base64::encode_string(&flipped.to_bytes())),
    );
    verify(&t, &target()).expect("the other S verifies too");
}

/// A key store that signs DER, wrapped in a closure with `signature_from_der`.
#[test]
fn closure_signer_returning_der() {
    let key = device_key(7);
    let keystore = |message: &[u8]| -> Result<Signature, SignerError> {
        let der: DerSignature = key.sign(message);
        signature_from_der(der.as_bytes())
    };
    let h = sign_request(&target(), &params(), &keystore).expect("signs");
    verify(&h, &target()).expect("verifies");

    let failing = |_: &[u8]| -> Result<Signature, SignerError> {
        Err(SignerError::new("key permanently invalidated"))
    };
    assert_eq!(
        sign_request(&target(), &params(), &failing),
        Err(HttpSigError::Signer("key permanently invalidated".into()))
    );
    let garbage = |_: &[u8]| signature_from_der(b"\x30\x00");
    assert!(matches!(
        sign_request(&target(), &params(), &garbage),
        Err(HttpSigError::Signer(_))
    ));
}

#[test]
fn unsignable_targets_refused() {
    let bad = [
        ("post", PATH, "lower-case method"),
        ("", PATH, "empty method"),
        ("GET ", PATH, "space in method"),
        ("VERYLONGMETHODNAMEX", PATH, "long method"),
        (METHOD, "/v1/keys?x=1", "query"),
        (METHOD, "/v1/keys/k#frag", "fragment"),
        (METHOD, "v1/keys", "relative path"),
        (METHOD, "", "empty path"),
        (METHOD, "https://host/v1", "absolute URI"),
        (METHOD, "/v1/a b", "space"),
        (METHOD, "/v1/a\nb", "newline"),
        (METHOD, "/v1/%zz", "bad percent escape"),
        (METHOD, "/v1/%4", "short percent escape"),
        (METHOD, "/v1/\u{e9}", "non-ASCII"),
    ];
    for (method, path, why) in bad {
        assert!(
            matches!(
                RequestTarget::new(method, path, b""),
                Err(HttpSigError::InvalidTarget(_))
            ),
            "{why}"
        );
    }
    let long = format!("/{}", "a".repeat(2048));
    assert!(RequestTarget::new(METHOD, &long, b"").is_err());
    let ok = format!("/{}", "a".repeat(2047));
    assert!(RequestTarget::new(METHOD, &ok, b"").is_ok());
    assert!(RequestTarget::new("DELETE", "/v1/keys/k%2F1/~x:y@z;a=b", b"").is_ok());
}

#[test]
fn invalid_params_refused() {
    let bad = [
        ("", CREATED, NONCE, "empty keyid"),
        (&*"k".repeat(129), CREATED, NONCE, "long keyid"),
        ("key/1", CREATED, NONCE, "slash in keyid"),
        ("key\"1", CREATED, NONCE, "quote in keyid"),
        ("key 1", CREATED, NONCE, "space in keyid"),
        (KEYID, 253_402_300_800, NONCE, "created after 9999"),
        (
            KEYID,
            CREATED,
            "short-nonce-1234"[..15].as_ref(),
            "15-char nonce",
        ),
        (KEYID, CREATED, &*"n".repeat(65), "65-char nonce"),
        (KEYID, CREATED, "nonce.with.dots.123", "dot in nonce"),
        (KEYID, CREATED, "bm9uY2Utbm9uY2U=", "padding in nonce"),
    ];
    for (keyid, created, nonce, why) in bad {
        assert!(
            matches!(
                SignatureParams::new(keyid, created, nonce),
                Err(HttpSigError::Malformed(_))
            ),
            "{why}"
        );
    }
    assert!(SignatureParams::new(&"k".repeat(128), 0, &"n".repeat(16)).is_ok());
    assert!(SignatureParams::new("a", 253_402_300_799, &"n".repeat(64)).is_ok());
}

#[test]
fn errors_are_typed_with_clear_messages() {
    let e = ParsedSignature::parse(None, Some("x"), Some("y")).map(|_| ());
    assert_eq!(e, Err(HttpSigError::Missing("Content-Digest")));
    assert_eq!(
        HttpSigError::Missing("Signature").to_string(),
        "missing Signature header"
    );
    assert_eq!(
        HttpSigError::TooLarge {
            header: "Signature",
            len: 300,
            max: 256
        }
        .to_string(),
        "Signature header too large: 300 bytes (limit 256)"
    );
}
