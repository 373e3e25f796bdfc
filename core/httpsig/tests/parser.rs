//! The strict parser: size limits before parsing, and every shape outside the subset refused.

mod common;

use base64ct::{Base64, Encoding};
use common::*;
use inkseal_httpsig::{
    HttpSigError, MAX_CONTENT_DIGEST_LEN, MAX_SIGNATURE_INPUT_LEN, MAX_SIGNATURE_LEN,
    ParsedSignature,
};

const COMPONENTS: &str = r#"("@method" "@path" "content-digest")"#;

fn input_with(inner: &str) -> String {
    format!("sig1={inner}")
}

fn params_text() -> String {
    format!(r#";created={CREATED};nonce="{NONCE}";keyid="{KEYID}";alg="ecdsa-p256-sha256""#)
}

fn parse_input(signature_input: &str) -> Result<ParsedSignature, HttpSigError> {
    let h = signed();
    ParsedSignature::parse(
        Some(&h.content_digest),
        Some(signature_input),
        Some(&h.signature),
    )
}

fn is_malformed<T>(r: Result<T, HttpSigError>) -> bool {
    matches!(r, Err(HttpSigError::Malformed(_)))
}

#[test]
fn missing_headers_named() {
    let h = signed();
    let (cd, si, sg) = (
        Some(h.content_digest.as_str()),
        Some(h.signature_input.as_str()),
        Some(h.signature.as_str()),
    );
    let e = |r: Result<ParsedSignature, HttpSigError>| r.map(|_| ()).expect_err("refused");
    assert_eq!(
        e(ParsedSignature::parse(None, si, sg)),
        HttpSigError::Missing("Content-Digest")
    );
    assert_eq!(
        e(ParsedSignature::parse(cd, None, sg)),
        HttpSigError::Missing("Signature-Input")
    );
    assert_eq!(
        e(ParsedSignature::parse(cd, si, None)),
        HttpSigError::Missing("Signature")
    );
}

/// Over-long values are refused with `TooLarge` whatever they contain (the content is never
/// looked at); at the limit, the same garbage reaches the parser and is `Malformed`.
#[test]
fn oversized_headers_refused_before_parsing() {
    let h = signed();
    let cases: [(&str, usize); 3] = [
        ("Content-Digest", MAX_CONTENT_DIGEST_LEN),
        ("Signature-Input", MAX_SIGNATURE_INPUT_LEN),
        ("Signature", MAX_SIGNATURE_LEN),
    ];
    for (header, max) in cases {
        for (len, too_large) in [(max + 1, true), (max, false), (100_000, true)] {
            let garbage = "\u{7f}".repeat(len);
            let pick = |name: &str, good: &str| {
                if name == header {
                    garbage.clone()
                } else {
                    good.to_owned()
                }
            };
            let r = ParsedSignature::parse(
                Some(&pick("Content-Digest", &h.content_digest)),
                Some(&pick("Signature-Input", &h.signature_input)),
                Some(&pick("Signature", &h.signature)),
            );
            if too_large {
                assert_eq!(
                    r.map(|_| ()),
                    Err(HttpSigError::TooLarge { header, len, max }),
                    "{header} {len}"
                );
            } else {
                assert!(is_malformed(r), "{header} {len}");
            }
        }
    }
    // The limits leave room for the longest valid values.
    let long = format!(
        r#"sig1={COMPONENTS};created=253402300799;nonce="{}";keyid="{}";alg="ecdsa-p256-sha256""#,
        "n".repeat(64),
        "k".repeat(128)
    );
    assert!(long.len() < MAX_SIGNATURE_INPUT_LEN);
    assert!(!matches!(
        parse_input(&long),
        Err(HttpSigError::TooLarge { .. })
    ));
}

/// Whitespace is accepted only as the single space between component names.
#[test]
fn whitespace_variants_refused() {
    let good = input_with(&format!("{COMPONENTS}{}", params_text()));
    assert!(parse_input(&good).is_ok());
    let variants = [
        format!(" {good}"),
        format!("{good} "),
        format!("{good}\t"),
        good.replacen("sig1=", "sig1 =", 1),
        good.replacen("sig1=", "sig1= ", 1),
        good.replacen("(\"@method\"", "( \"@method\"", 1),
        good.replacen("\"@method\" \"@path\"", "\"@method\"  \"@path\"", 1),
        good.replacen("\"@method\" \"@path\"", "\"@method\"\t\"@path\"", 1),
        good.replacen("\"content-digest\")", "\"content-digest\" )", 1),
        good.replacen(");created", ") ;created", 1),
        good.replacen(";created", "; created", 1),
        good.replacen("created=", "created =", 1),
        good.replacen("created=", "created= ", 1),
        good.replacen(";nonce", " ;nonce", 1),
        good.replacen(";nonce", ";\r\n nonce", 1),
    ];
    for v in variants {
        assert!(is_malformed(parse_input(&v)), "{v:?}");
    }
}

#[test]
fn other_labels_and_second_signatures_refused() {
    let inner = format!("{COMPONENTS}{}", params_text());
    let h = signed();
    for v in [
        format!("sig2={inner}"),
        format!("SIG1={inner}"),
        format!("pyhms={inner}"),
        format!("sig1={inner}, sig2={inner}"),
        format!("sig1={inner},sig1={inner}"),
        format!("sig2={inner}, sig1={inner}"),
        inner.clone(),
    ] {
        assert!(is_malformed(parse_input(&v)), "{v}");
    }
    let sig_b64 = &h.signature["sig1=".len()..];
    for v in [
        format!("sig2={sig_b64}"),
        format!("sig1={sig_b64}, sig2={sig_b64}"),
        format!(" sig1={sig_b64}"),
        sig_b64.to_owned(),
    ] {
        let r = ParsedSignature::parse(Some(&h.content_digest), Some(&h.signature_input), Some(&v));
        assert!(is_malformed(r), "{v}");
    }
}

#[test]
fn other_component_lists_refused() {
    for list in [
        r#"("@path" "@method" "content-digest")"#,
        r#"("@method" "@path")"#,
        r#"("@method" "@path" "content-digest" "@authority")"#,
        r#"("@method" "@authority" "@path" "content-digest")"#,
        r#"("@METHOD" "@path" "content-digest")"#,
        r#"("@method" "@path" "Content-Digest")"#,
        r#"("@method" "@path" "content-digest";sf)"#,
        r#"("@method" "@request-target" "content-digest")"#,
        r#"("@method" "@path" "content-digest" "content-digest")"#,
        r#"(@method @path content-digest)"#,
        r#"()"#,
        "",
    ] {
        let v = input_with(&format!("{list}{}", params_text()));
        assert!(is_malformed(parse_input(&v)), "{list}");
    }
}

#[test]
fn unknown_duplicate_missing_or_mistyped_params_refused() {
    let c = format!(";created={CREATED}");
    let n = format!(";nonce=\"{NONCE}\"");
    let k = format!(";keyid=\"{KEYID}\"");
    let a = ";alg=\"ecdsa-p256-sha256\"";
    let cases: Vec<(String, &str)> = vec![
        (format!("{c}{n}{k}{a};expires=1800000000"), "expires"),
        (format!("{c}{n}{k}{a};tag=\"inkseal\""), "tag"),
        (format!("{c}{n}{k}{a};x=1"), "unknown"),
        (format!("{c}{n}{k}{a}{n}"), "duplicate nonce"),
        (format!("{c}{c}{n}{k}{a}"), "duplicate created"),
        (format!("{c}{n}{k}{a}{a}"), "duplicate alg"),
        (format!("{c}{n}{k}{a}{k}"), "duplicate keyid"),
        (format!("{n}{k}{a}"), "no created"),
        (format!("{c}{k}{a}"), "no nonce"),
        (format!("{c}{n}{a}"), "no keyid"),
        (format!("{c}{n}{k}"), "no alg"),
        (format!(";created=\"{CREATED}\"{n}{k}{a}"), "string created"),
        (format!(";created=-1{n}{k}{a}"), "negative created"),
        (format!(";created=01700000000{n}{k}{a}"), "leading zero"),
        (format!(";created=1700000000.5{n}{k}{a}"), "decimal created"),
        (
            format!(";created=253402300800{n}{k}{a}"),
            "created after 9999",
        ),
        (
            format!(";created=9999999999999999999999{n}{k}{a}"),
            "huge created",
        ),
        (format!(";created{n}{k}{a}"), "boolean created"),
        (format!("{c};nonce={NONCE}{k}{a}"), "token nonce"),
        (format!("{c};nonce=:{NONCE}:{k}{a}"), "byte-sequence nonce"),
        (
            format!("{c};nonce=\"{NONCE}\\\"x\"{k}{a}"),
            "escape in nonce",
        ),
        (format!("{c};nonce=\"{NONCE}{k}{a}"), "unterminated"),
        (format!("{c};nonce=\"short\"{k}{a}"), "short nonce"),
        (format!("{c}{n};keyid=\"a/b\"{a}"), "slash in keyid"),
        (format!("{c}{n};keyid=\"\"{a}"), "empty keyid"),
        (format!("{c}{n}{k};alg=ecdsa-p256-sha256"), "token alg"),
        (format!("{c}{n}{k}{a};"), "trailing semicolon"),
        (format!("{c}{n}{k}{a}x"), "trailing byte"),
        (
            format!("{c}{n}{k};ALG=\"ecdsa-p256-sha256\""),
            "upper-case key",
        ),
        (format!("{c}{n}{k}{a};=1"), "empty key"),
        (format!(";created={CREATED}\u{e9}{n}{k}{a}"), "non-ASCII"),
        (
            format!("{c};nonce=\"{NONCE}\u{e9}\"{k}{a}"),
            "non-ASCII in string",
        ),
    ];
    for (params, why) in cases {
        let v = input_with(&format!("{COMPONENTS}{params}"));
        assert!(is_malformed(parse_input(&v)), "{why}: {v}");
    }
    // Messages name the problem.
    let v = input_with(&format!("{COMPONENTS}{c}{n}{k}{a};expires=1"));
    assert_eq!(
        parse_input(&v).map(|_| ()),
        Err(HttpSigError::Malformed(
            "Signature-Input: unknown signature parameter expires".into()
        ))
    );
    let v = input_with(&format!("{COMPONENTS}{c}{n}{n}{k}{a}"));
    assert_eq!(
        parse_input(&v).map(|_| ()),
        Err(HttpSigError::Malformed(
            "Signature-Input: duplicate parameter nonce".into()
        ))
    );
}

#[test]
fn other_algorithms_refused_as_unsupported() {
    let base = format!(";created={CREATED};nonce=\"{NONCE}\";keyid=\"{KEYID}\"");
    for alg in [
        "hmac-sha256",
        "ed25519",
        "ECDSA-P256-SHA256",
        "ecdsa-p256-sha256 ",
    ] {
        let v = input_with(&format!("{COMPONENTS}{base};alg=\"{alg}\""));
        assert!(
            matches!(parse_input(&v), Err(HttpSigError::UnsupportedAlgorithm(_))),
            "{alg}"
        );
    }
    let v = input_with(&format!("{COMPONENTS}{base};alg=\"rsa-v1_5-sha256\""));
    assert_eq!(
        parse_input(&v).map(|_| ()),
        Err(HttpSigError::UnsupportedAlgorithm("rsa-v1_5-sha256".into()))
    );
    // An odd value is not echoed.
    let v = input_with(&format!("{COMPONENTS}{base};alg=\"<script>\""));
    assert_eq!(
        parse_input(&v).map(|_| ()),
        Err(HttpSigError::UnsupportedAlgorithm(
            "(not an algorithm name)".into()
        ))
    );
}

/// What the parser accepts besides our own serialization: the four parameters in any order.
#[test]
fn any_parameter_order_accepted() {
    let parts = [
        format!(";created={CREATED}"),
        format!(";nonce=\"{NONCE}\""),
        format!(";keyid=\"{KEYID}\""),
        ";alg=\"ecdsa-p256-sha256\"".to_owned(),
    ];
    let orders = [[0, 1, 2, 3], [0, 2, 3, 1], [3, 2, 1, 0], [1, 3, 0, 2]];
    for order in orders {
        let params: String = order.iter().map(|&i| parts[i].as_str()).collect();
        let v = input_with(&format!("{COMPONENTS}{params}"));
        let parsed = parse_input(&v).expect("parses");
        assert_eq!(parsed.params(), &common::params());
        assert_eq!(parsed.signature_params(), &v["sig1=".len()..]);
    }
}

#[test]
fn content_digest_variants_refused() {
    let h = signed();
    let b64 = &h.content_digest["sha-256=:".len()..h.content_digest.len() - 1];
    let sha512 = format!("sha-512=:{}:", Base64::encode_string(&[0u8; 64]));
    // The last data character with its two unused low bits set: decodes to the same 32 bytes
    // in a lenient decoder, but is not canonical base64.
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut non_canonical = b64.as_bytes().to_vec();
    let i = non_canonical.len() - 2;
    let index = ALPHABET
        .iter()
        .position(|&c| c == non_canonical[i])
        .expect("base64 char");
    non_canonical[i] = ALPHABET[index | 1];
    let non_canonical = String::from_utf8(non_canonical).expect("ASCII");
    assert_ne!(non_canonical, b64);
    let variants = [
        sha512.clone(),
        format!("{}, {sha512}", h.content_digest),
        format!("{sha512}, {}", h.content_digest),
        format!("{},{}", h.content_digest, h.content_digest),
        format!("SHA-256=:{b64}:"),
        format!("sha-256={b64}"),
        format!("sha-256=\"{b64}\""),
        format!("sha-256=:{b64}"),
        format!(" {}", h.content_digest),
        format!("{} ", h.content_digest),
        format!("sha-256=: {b64}:"),
        format!("sha-256=:{}:", b64.trim_end_matches('=')),
        format!("sha-256=:{}:", Base64::encode_string(&[0u8; 31])),
        format!("sha-256=:{}:", Base64::encode_string(&[0u8; 33])),
        format!("sha-256=:{}:", b64.replace('+', "-").replace('/', "_")),
        format!("sha-256=:{non_canonical}:"),
        format!("sha-256=:{b64}:;param"),
        "sha-256=::".to_owned(),
        String::new(),
    ];
    for v in variants {
        if v == h.content_digest {
            continue; // the URL-safe replacement was a no-op for this digest
        }
        let r = ParsedSignature::parse(Some(&v), Some(&h.signature_input), Some(&h.signature));
        assert!(is_malformed(r), "{v}");
    }
}

#[test]
fn signature_variants_refused() {
    let h = signed();
    let raw =
        Base64::decode_vec(&h.signature["sig1=:".len()..h.signature.len() - 1]).expect("base64");
    let der = p256::ecdsa::Signature::from_slice(&raw)
        .expect("valid")
        .to_der();
    let n = hex_decode("ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551");
    let mut r_zero = vec![0u8; 32];
    r_zero.extend_from_slice(&raw[32..]);
    let mut s_is_n = raw[..32].to_vec();
    s_is_n.extend_from_slice(&n);
    let variants = [
        format!("sig1=:{}:", Base64::encode_string(&raw[..63])),
        format!(
            "sig1=:{}:",
            Base64::encode_string(&[raw.as_slice(), &[0]].concat())
        ),
        format!(
            "sig1=:{}:",
            Base64::encode_string(&[&[0], raw.as_slice()].concat())
        ),
        format!("sig1=:{}:", Base64::encode_string(der.as_bytes())),
        format!("sig1=:{}:", Base64::encode_string(&r_zero)),
        format!("sig1=:{}:", Base64::encode_string(&s_is_n)),
        format!("sig1=:{}:", Base64::encode_string(&[0xff; 64])),
        format!("sig1={}", Base64::encode_string(&raw)),
        format!("sig1=\"{}\"", Base64::encode_string(&raw)),
        format!("sig1=:{}:;x", Base64::encode_string(&raw)),
        format!("sig1=:{}: ", Base64::encode_string(&raw)),
        format!("sig1=:{}:", Base64::encode_string(&raw).replace('=', "")),
        "sig1=::".to_owned(),
    ];
    for v in variants {
        let r = ParsedSignature::parse(Some(&h.content_digest), Some(&h.signature_input), Some(&v));
        assert!(is_malformed(r), "{v}");
    }
}

fn hex_decode(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
        .collect()
}
