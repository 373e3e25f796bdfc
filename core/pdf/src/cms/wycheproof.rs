//! Project Wycheproof's signature vectors through the verifiers CMS signatures and certificates
//! use: inkseal's P-256 suite ([`PublicKey::verify`]) and, with `other-algorithms`, the
//! verifier of what other signers write (P-384, P-521, Ed25519, RSA PKCS#1 v1.5). The data
//! and its licence are in `tests/data/wycheproof/`.

use super::algorithm::PublicKey;
use der::Decode;
use spki::SubjectPublicKeyInfoOwned;

/// One vector: message, signature, and what the vector says of it.
struct Vector {
    id: u64,
    message: Vec<u8>,
    signature: Vec<u8>,
    expected: Expected,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expected {
    Valid,
    Invalid,
    /// Legal but weak or unusual: either answer is allowed.
    Acceptable,
}

/// The key of a test group (SubjectPublicKeyInfo) and its vectors.
struct Group {
    spki: SubjectPublicKeyInfoOwned,
    vectors: Vec<Vector>,
}

fn hex_field(v: &serde_json::Value, name: &str) -> Vec<u8> {
    let text = v[name]
        .as_str()
        .unwrap_or_else(|| panic!("vector field {name} missing"));
    hex::decode(text).unwrap_or_else(|e| panic!("vector field {name}: {e}"))
}

fn load(file: &str) -> Vec<Group> {
    let path = format!(
        "{}/tests/data/wycheproof/{file}",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let json: serde_json::Value = serde_json::from_str(&text).expect("wycheproof json");
    let groups = json["testGroups"].as_array().expect("testGroups");
    let loaded: Vec<Group> = groups
        .iter()
        .map(|g| Group {
            spki: SubjectPublicKeyInfoOwned::from_der(&hex_field(g, "publicKeyDer"))
                .expect("publicKeyDer"),
            vectors: g["tests"]
                .as_array()
                .expect("tests")
                .iter()
                .map(|t| Vector {
                    id: t["tcId"].as_u64().expect("tcId"),
                    message: hex_field(t, "msg"),
                    signature: hex_field(t, "sig"),
                    expected: match t["result"].as_str() {
                        Some("valid") => Expected::Valid,
                        Some("invalid") => Expected::Invalid,
                        Some("acceptable") => Expected::Acceptable,
                        other => panic!("unknown result {other:?}"),
                    },
                })
                .collect(),
        })
        .collect();
    let declared = json["numberOfTests"].as_u64().expect("numberOfTests");
    let read: u64 = loaded.iter().map(|g| g.vectors.len() as u64).sum();
    assert_eq!(read, declared, "{file}: every vector read");
    loaded
}

/// Run every vector of `file` through `verify` (the group's key, message, signature): a valid
/// vector must verify and an invalid one must not. Returns (valid, invalid, acceptable)
/// counts; panics with the failing vectors' ids.
fn check(
    file: &str,
    verify: impl Fn(&SubjectPublicKeyInfoOwned, &[u8], &[u8]) -> bool,
) -> (usize, usize, usize) {
    let mut counts = (0, 0, 0);
    let mut wrong = Vec::new();
    for group in load(file) {
        for v in &group.vectors {
            let verified = verify(&group.spki, &v.message, &v.signature);
            match v.expected {
                Expected::Valid => {
                    counts.0 += 1;
                    if !verified {
                        wrong.push(format!("{} valid but refused", v.id));
                    }
                }
                Expected::Invalid => {
                    counts.1 += 1;
                    if verified {
                        wrong.push(format!("{} invalid but accepted", v.id));
                    }
                }
                Expected::Acceptable => counts.2 += 1,
            }
        }
    }
    assert!(wrong.is_empty(), "{file}: {wrong:?}");
    counts
}

#[test]
fn p256_sha256_vectors_through_inkseals_p256_verifier() {
    let counts = check("ecdsa_secp256r1_sha256_test.json", |spki, message, sig| {
        let key = PublicKey::from_spki(spki).expect("a P-256 key");
        assert!(matches!(key, PublicKey::P256(_)));
        key.verify(message, sig).is_ok()
    });
    // The file's own tally: 174 valid and 310 invalid signatures.
    assert_eq!(counts, (174, 310, 0));
}

#[cfg(feature = "other-algorithms")]
mod other {
    use super::check;
    use crate::cms::other::OtherKey;
    use der::asn1::ObjectIdentifier;
    use spki::AlgorithmIdentifierOwned;

    fn algorithm(oid: &str) -> AlgorithmIdentifierOwned {
        AlgorithmIdentifierOwned {
            oid: ObjectIdentifier::new_unwrap(oid),
            parameters: None,
        }
    }

    fn through_other(file: &str, signature_algorithm: &str) -> (usize, usize, usize) {
        let id = algorithm(signature_algorithm);
        check(file, |spki, message, sig| {
            OtherKey::from_spki(spki)
                .expect("a key the other-algorithms verifier reads")
                .verify(&id, None, message, sig)
                .is_ok()
        })
    }

    #[test]
    fn p384_sha384_vectors() {
        // ecdsa-with-SHA384
        let counts = through_other("ecdsa_secp384r1_sha384_test.json", "1.2.840.10045.4.3.3");
        assert_eq!(counts, (194, 310, 0));
    }

    #[test]
    fn p521_sha512_vectors() {
        // ecdsa-with-SHA512
        let counts = through_other("ecdsa_secp521r1_sha512_test.json", "1.2.840.10045.4.3.4");
        assert_eq!(counts, (232, 310, 0));
    }

    #[test]
    fn ed25519_vectors() {
        // id-Ed25519
        let counts = through_other("ed25519_test.json", "1.3.101.112");
        assert_eq!(counts, (88, 63, 0));
    }

    #[test]
    fn rsa_pkcs1_2048_sha256_vectors() {
        // sha256WithRSAEncryption (the parameters NULL or absent: both are read)
        let counts = through_other(
            "rsa_signature_2048_sha256_test.json",
            "1.2.840.113549.1.1.11",
        );
        assert_eq!(counts, (9, 249, 1));
    }
}
