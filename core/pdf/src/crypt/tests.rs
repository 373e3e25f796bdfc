//! The key derivations against qpdf's: files encrypted by qpdf in the test run, their file
//! keys as `qpdf --show-encryption-key` prints them, and what inkseal derives.
#![allow(clippy::unwrap_used)]

use super::*;
use crate::{Document, Limits};
use std::path::{Path, PathBuf};
use std::process::Command;

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures/e-policy-zh.pdf")
}

fn qpdf(args: &[&str]) -> String {
    let out = Command::new("qpdf")
        .args(args)
        .output()
        .expect("qpdf is installed (apt install qpdf)");
    // 0, or 3 for warnings only.
    assert!(
        matches!(out.status.code(), Some(0 | 3)),
        "qpdf {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The encryption settings the issue names, as qpdf arguments before `--`.
const SCHEMES: [(&str, &[&str]); 7] = [
    (
        "rc4-40",
        &["--allow-weak-crypto", "--encrypt", "", "owner", "40"],
    ),
    (
        "rc4-128",
        &[
            "--allow-weak-crypto",
            "--encrypt",
            "",
            "owner",
            "128",
            "--use-aes=n",
        ],
    ),
    ("aes-128", &["--encrypt", "", "owner", "128", "--use-aes=y"]),
    // /EncryptMetadata false: the key derivation adds 0xFFFFFFFF.
    (
        "aes-128-clear-metadata",
        &[
            "--encrypt",
            "",
            "owner",
            "128",
            "--use-aes=y",
            "--cleartext-metadata",
        ],
    ),
    ("aes-256", &["--encrypt", "", "owner", "256"]),
    // Revision 5 (Adobe's deprecated extension level 3: SHA-256 alone).
    (
        "aes-256-r5",
        &["--encrypt", "", "owner", "256", "--force-R5"],
    ),
    (
        "aes-256-object-streams",
        &[
            "--encrypt",
            "",
            "owner",
            "256",
            "--",
            "--object-streams=generate",
        ],
    ),
];

fn encrypt_with_qpdf(dir: &Path, name: &str, scheme: &[&str]) -> PathBuf {
    let out = dir.join(format!("{name}.pdf"));
    let mut args: Vec<&str> = scheme.to_vec();
    if !args.contains(&"--") {
        args.push("--");
    }
    let input = fixture();
    let input = input.to_str().unwrap();
    let output = out.to_str().unwrap();
    args.extend([input, output]);
    qpdf(&args);
    out
}

#[test]
fn file_keys_are_the_ones_qpdf_derives() {
    let dir = tempfile::tempdir().unwrap();
    for (name, scheme) in SCHEMES {
        let path = encrypt_with_qpdf(dir.path(), name, scheme);
        let shown = qpdf(&[
            "--show-encryption",
            "--show-encryption-key",
            "--password=",
            path.to_str().unwrap(),
        ]);
        let field = |label: &str| {
            shown
                .lines()
                .find_map(|l| l.strip_prefix(label))
                .unwrap_or_else(|| panic!("{name}: no {label:?} in {shown}"))
                .trim()
                .to_owned()
        };
        let key = field("Encryption key = ");
        let revision: u8 = field("R = ").parse().unwrap();
        let data = std::fs::read(&path).unwrap();
        let doc = Document::load(&data, &Limits::default()).unwrap();
        let handler = doc.security_handler().expect("encrypted");
        assert_eq!(hex::encode(handler.file_key()), key, "{name}");
        assert_eq!(handler.revision(), revision, "{name}");
        let expected_len = match name {
            "rc4-40" => 5,
            "rc4-128" | "aes-128" | "aes-128-clear-metadata" => 16,
            _ => 32,
        };
        assert_eq!(handler.file_key().len(), expected_len, "{name}");
    }
}

#[test]
fn a_user_password_is_refused_with_a_typed_error() {
    let dir = tempfile::tempdir().unwrap();
    for (bits, aes) in [("40", "n"), ("128", "n"), ("128", "y"), ("256", "y")] {
        let out = dir.path().join(format!("pw-{bits}-{aes}.pdf"));
        let mut args = vec!["--allow-weak-crypto", "--encrypt", "secret", "owner", bits];
        if bits == "128" {
            args.push(if aes == "y" {
                "--use-aes=y"
            } else {
                "--use-aes=n"
            });
        }
        let input = fixture();
        args.extend(["--", input.to_str().unwrap(), out.to_str().unwrap()]);
        qpdf(&args);
        let data = std::fs::read(&out).unwrap();
        let err = Document::load(&data, &Limits::default()).unwrap_err();
        assert_eq!(err, PdfError::PasswordRequired, "{bits} bits, AES {aes}");
    }
}

#[test]
fn objects_round_trip_through_encryption_for_every_method() {
    let dir = tempfile::tempdir().unwrap();
    for (name, scheme) in SCHEMES {
        let path = encrypt_with_qpdf(dir.path(), name, scheme);
        let data = std::fs::read(&path).unwrap();
        let doc = Document::load(&data, &Limits::default()).unwrap();
        let handler = doc.security_handler().unwrap();
        let id = ObjectId(42, 0);
        let plain = Object::Array(vec![
            Object::string("hello"),
            Object::String(Vec::new(), false),
            Object::String(vec![0u8; 16], true),
            Object::Stream(crate::object::Stream {
                dict: Dictionary::new().with(b"Title", Object::string("t")),
                data: b"BT (x) Tj ET".to_vec(),
            }),
        ]);
        let sealed = handler.encrypt_object(id, &plain);
        assert_ne!(sealed, plain, "{name}: encrypted");
        assert_eq!(
            handler.decrypt_object(id, sealed.clone()).unwrap(),
            plain,
            "{name}"
        );
        // The key is the object's: another object number does not decrypt it (RC4 gives
        // garbage, AES-128 a padding error or garbage; AES-256 uses the file key alone).
        if handler.revision() <= 4 {
            let other = handler.decrypt_object(ObjectId(43, 0), sealed.clone());
            assert!(other.map_or(true, |o| o != plain), "{name}");
        }
        // A signature dictionary's /Contents stays as it is; its other strings do not.
        let sig = Object::Dictionary(
            Dictionary::new()
                .with(b"Type", Object::name("Sig"))
                .with(b"M", Object::string("D:20260101000000Z"))
                .with(b"Contents", Object::String(vec![0x30, 0x82], true)),
        );
        let sealed = handler.encrypt_object(id, &sig);
        let d = sealed.as_dict().unwrap();
        assert_eq!(
            d.get(b"Contents"),
            Some(&Object::String(vec![0x30, 0x82], true))
        );
        assert_ne!(d.get(b"M"), Some(&Object::string("D:20260101000000Z")));
        assert_eq!(handler.decrypt_object(id, sealed).unwrap(), sig);
        // The /Encrypt dictionary's own object is neither encrypted nor decrypted.
        let own = handler.encrypt_object(ObjectId(7, 0), &plain);
        if let Some(encrypt) = doc.trailer.get(b"Encrypt").and_then(Object::as_ref_id) {
            assert_eq!(handler.encrypt_object(encrypt, &plain), plain, "{name}");
            assert_eq!(handler.decrypt_object(encrypt, own.clone()).unwrap(), own);
        }
        // Cross-reference streams are never encrypted.
        let xref = Object::Stream(crate::object::Stream {
            dict: Dictionary::new().with(b"Type", Object::name("XRef")),
            data: vec![1, 2, 3],
        });
        assert_eq!(handler.encrypt_object(id, &xref), xref);
        // Metadata streams are encrypted unless /EncryptMetadata is false.
        let metadata = Object::Stream(crate::object::Stream {
            dict: Dictionary::new()
                .with(b"Type", Object::name("Metadata"))
                .with(b"Subtype", Object::name("XML")),
            data: b"<x:xmpmeta/>".to_vec(),
        });
        let sealed = handler.encrypt_object(id, &metadata);
        assert_eq!(
            sealed == metadata,
            name.contains("clear-metadata"),
            "{name}: metadata in the clear only under /EncryptMetadata false"
        );
        assert_eq!(handler.decrypt_object(id, sealed).unwrap(), metadata);
    }
}

#[test]
fn bad_ciphertexts_and_dictionaries_are_typed_errors() {
    let key = [7u8; 32];
    let cipher = Cipher::Aes256(&key);
    for len in [1usize, 15, 17, 33, 47] {
        assert!(
            matches!(
                decrypt(&cipher, &vec![0u8; len]),
                Err(PdfError::BadEncryption(_))
            ),
            "{len} bytes"
        );
    }
    // Whole blocks with a wrong padding.
    let mut ivs_handler_key = Zeroizing::new([0u8; 32]);
    ivs_handler_key.copy_from_slice(&key);
    let handler = SecurityHandler {
        revision: 6,
        keys: Keys::Aes256 {
            file_key: ivs_handler_key,
            strings: true,
            streams: true,
        },
        encrypt_metadata: true,
        dictionary: None,
    };
    let mut sealed = encrypt(
        &cipher,
        &mut IvSource {
            handler: &handler,
            id: ObjectId(1, 0),
            counter: 0,
        },
        b"0123456789abcdef",
    );
    let last = sealed.len() - 1;
    sealed[last] ^= 0x55;
    assert!(matches!(
        decrypt(&cipher, &sealed),
        Err(PdfError::BadEncryption(_))
    ));

    let parse = |text: &str| match crate::parser::Parser::new(text.as_bytes(), 0, 16)
        .object_top(&|_| None)
        .unwrap()
    {
        Object::Dictionary(d) => d,
        _ => panic!("not a dictionary"),
    };
    let open = |text: &str| SecurityHandler::open(&parse(text), b"0123456789abcdef", None);
    assert!(matches!(
        open("<</Filter /Adobe.PubSec /V 4 /R 4>>"),
        Err(PdfError::UnsupportedEncryption(_))
    ));
    assert!(matches!(
        open("<</Filter /Standard /V 3 /R 3 /O (x) /U (y) /P -4>>"),
        Err(PdfError::UnsupportedEncryption(_))
    ));
    assert!(matches!(
        open("<</Filter /Standard /V 2 /R 3 /O (short) /U (short) /P -4>>"),
        Err(PdfError::BadEncryption(_))
    ));
    assert!(matches!(
        open("<</Filter /Standard /V 5 /R 6 /O <00> /U <00> /UE <00> /P -4 /StmF /StdCF>>"),
        Err(PdfError::BadEncryption(_))
    ));
    assert!(matches!(
        open(
            "<</Filter /Standard /R 4 /V 4 /O (x) /U (y) /P -4 /CF <</StdCF <</CFM /Foo>>>> /StmF /StdCF>>"
        ),
        Err(PdfError::UnsupportedEncryption(_))
    ));
    assert!(matches!(
        open("<</V 1 /R 2>>"),
        Err(PdfError::BadEncryption(_))
    ));
}

/// `/P` and `/EncryptMetadata` sit in the clear; revision 6 seals both in `/Perms` under the
/// file key. Editing either (more permissions, metadata left unencrypted) is refused.
#[test]
fn an_altered_p_or_encrypt_metadata_in_a_revision_6_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let replace_once = |data: &[u8], from: &[u8], to: &[u8]| -> Vec<u8> {
        assert_eq!(from.len(), to.len(), "same length keeps the xref right");
        let at = data
            .windows(from.len())
            .position(|w| w == from)
            .unwrap_or_else(|| panic!("{} not in the file", String::from_utf8_lossy(from)));
        let mut out = data.to_vec();
        out[at..at + to.len()].copy_from_slice(to);
        out
    };
    let refused = |data: &[u8], what: &str| match Document::load(data, &Limits::default()) {
        Err(PdfError::BadEncryption(m)) => assert!(m.contains(what), "{m}"),
        Err(e) => panic!("expected BadEncryption about {what}, got {e:?}"),
        Ok(_) => panic!("an altered encryption dictionary was accepted ({what})"),
    };

    // Printing forbidden (bit 3 of /P clear), then granted again by editing /P.
    let restricted = dir.path().join("r6-no-print.pdf");
    qpdf(&[
        "--encrypt",
        "",
        "owner",
        "256",
        "--print=none",
        "--",
        fixture().to_str().unwrap(),
        restricted.to_str().unwrap(),
    ]);
    let data = std::fs::read(&restricted).unwrap();
    let doc = Document::load(&data, &Limits::default()).expect("the file as qpdf wrote it");
    assert_eq!(doc.security_handler().expect("encrypted").revision(), 6);
    let p_text = {
        let at = data.windows(3).position(|w| w == b"/P ").expect("/P");
        let end = data[at + 3..]
            .iter()
            .position(|b| !(b.is_ascii_digit() || *b == b'-'))
            .unwrap();
        String::from_utf8(data[at + 3..at + 3 + end].to_vec()).unwrap()
    };
    let p: i64 = p_text.parse().unwrap();
    assert_eq!(p & 4, 0, "qpdf withheld printing: /P {p}");
    let granted = format!("{}", p | 4);
    // Same length: a negative /P with bit 3 added stays as many digits in these values.
    assert_eq!(granted.len(), p_text.len(), "{p_text} -> {granted}");
    let tampered = replace_once(
        &data,
        format!("/P {p_text}").as_bytes(),
        format!("/P {granted}").as_bytes(),
    );
    refused(&tampered, "/P differs");

    // Metadata left in the clear, then claimed encrypted (or the reverse): either way a
    // reader would decrypt what is not encrypted, or show what is.
    let clear = encrypt_with_qpdf(
        dir.path(),
        "r6-clear-metadata",
        &["--encrypt", "", "owner", "256", "--cleartext-metadata"],
    );
    let data = std::fs::read(&clear).unwrap();
    Document::load(&data, &Limits::default()).expect("the file as qpdf wrote it");
    let tampered = replace_once(&data, b"/EncryptMetadata false", b"/EncryptMetadata true ");
    refused(&tampered, "/EncryptMetadata differs");

    // /Perms itself altered.
    let aes = encrypt_with_qpdf(dir.path(), "r6", &["--encrypt", "", "owner", "256"]);
    let data = std::fs::read(&aes).unwrap();
    let at = data
        .windows(7)
        .position(|w| w == b"/Perms ")
        .expect("/Perms")
        + 7;
    let mut tampered = data.clone();
    // The string's first byte after its delimiter: hex or literal, flip a bit either way.
    let first = at + 1;
    tampered[first] = if data[at] == b'<' {
        if data[first] == b'0' { b'1' } else { b'0' }
    } else {
        data[first] ^ 0x01
    };
    refused(&tampered, "/Perms");
}
