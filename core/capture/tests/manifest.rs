//! The hash-chained evidence manifest: encoding, verification, tampering.

#![allow(clippy::unwrap_used)]

use inkseal_capture::manifest::{
    EvidenceKind, EvidenceManifest, MAX_ENTRIES, MAX_MANIFEST_JSON_BYTES, ManifestBuilder,
    check_result_bytes, genesis, meta,
};
use inkseal_capture::{DigestAlgorithm, ManifestError};
use proptest::prelude::*;
use std::collections::BTreeMap;

const KINDS: [EvidenceKind; 10] = [
    EvidenceKind::Challenge,
    EvidenceKind::LivenessFrame,
    EvidenceKind::VendorPackage,
    EvidenceKind::ClientEvents,
    EvidenceKind::IdCardFront,
    EvidenceKind::IdCardBack,
    EvidenceKind::IdCardFields,
    EvidenceKind::IntentRecording,
    EvidenceKind::CheckResult,
    EvidenceKind::DocumentDigest,
];

fn sample(algorithm: DigestAlgorithm) -> EvidenceManifest {
    let mut b = ManifestBuilder::new(algorithm, "session-1").unwrap();
    b.append(
        EvidenceKind::Challenge,
        1000,
        b"challenge bytes",
        meta([("challenge_id", "session-1")]),
    )
    .unwrap();
    for i in 0..3 {
        b.append(
            EvidenceKind::LivenessFrame,
            1100 + i,
            format!("frame {i}").as_bytes(),
            meta([("index", i.to_string()), ("width", "640".into())]),
        )
        .unwrap();
    }
    b.append(
        EvidenceKind::VendorPackage,
        1200,
        b"package",
        BTreeMap::new(),
    )
    .unwrap();
    b.append_check_result(
        1300,
        meta([("check", "liveness_quality"), ("result", "pass")]),
    )
    .unwrap();
    b.append_digest(
        EvidenceKind::DocumentDigest,
        1400,
        [0xab; 32],
        meta([("document_digest_algorithm", "sm3")]),
    )
    .unwrap();
    b.finish()
}

// An independent implementation of the documented encoding.
fn lp(out: &mut Vec<u8>, b: &[u8]) {
    out.extend_from_slice(&(b.len() as u32).to_be_bytes());
    out.extend_from_slice(b);
}

fn h(alg: DigestAlgorithm, data: &[u8]) -> Vec<u8> {
    use sha2::Digest as _;
    match alg {
        DigestAlgorithm::Sm3 => sm3::Sm3::digest(data).to_vec(),
        DigestAlgorithm::Sha256 => sha2::Sha256::digest(data).to_vec(),
    }
}

#[test]
fn hashes_follow_the_documented_encoding() {
    for alg in [DigestAlgorithm::Sm3, DigestAlgorithm::Sha256] {
        let m = sample(alg);
        let mut g = Vec::new();
        lp(&mut g, b"inkseal/evidence-manifest/genesis/v1");
        g.extend_from_slice(&1u32.to_be_bytes());
        lp(&mut g, alg.as_str().as_bytes());
        lp(&mut g, b"session-1");
        let mut prev = h(alg, &g);
        assert_eq!(prev, genesis(alg, "session-1"));
        for e in &m.entries {
            let mut enc = Vec::new();
            lp(&mut enc, b"inkseal/evidence-manifest/entry/v1");
            enc.extend_from_slice(&1u32.to_be_bytes());
            lp(&mut enc, alg.as_str().as_bytes());
            lp(&mut enc, b"session-1");
            enc.extend_from_slice(&e.seq.to_be_bytes());
            lp(&mut enc, e.kind.as_str().as_bytes());
            enc.extend_from_slice(&e.at_ms.to_be_bytes());
            lp(&mut enc, &hex::decode(&e.artefact_digest_hex).unwrap());
            enc.extend_from_slice(&(e.meta.len() as u32).to_be_bytes());
            for (k, v) in &e.meta {
                lp(&mut enc, k.as_bytes());
                lp(&mut enc, v.as_bytes());
            }
            lp(&mut enc, &prev);
            assert_eq!(e.prev_hex, hex::encode(&prev));
            let hash = h(alg, &enc);
            assert_eq!(e.entry_hash_hex, hex::encode(&hash), "seq {}", e.seq);
            prev = hash;
        }
        assert_eq!(m.head_hex(), hex::encode(&prev));
        // Artefact digests are plain digests of the bytes.
        assert_eq!(
            m.entries[1].artefact_digest_hex,
            hex::encode(h(alg, b"frame 0"))
        );
        assert_eq!(m.entries[6].artefact_digest_hex, hex::encode([0xab; 32]));
    }
}

#[test]
fn a_built_manifest_verifies_and_round_trips() {
    let m = sample(DigestAlgorithm::Sm3);
    assert_eq!(m.verify(), Ok(()));
    let json = m.to_json().unwrap();
    let text = String::from_utf8(json.clone()).unwrap();
    assert!(text.contains("\"algorithm\":\"sm3\""), "{text}");
    assert!(text.contains("\"kind\":\"liveness_frame\""), "{text}");
    assert!(text.contains("\"artefact_digest_hex\""), "{text}");
    let back = EvidenceManifest::from_json(&json).unwrap();
    assert_eq!(back, m);
    assert_eq!(back.head_hex(), m.head_hex());
}

#[test]
fn the_two_algorithms_and_two_sessions_give_different_chains() {
    let a = sample(DigestAlgorithm::Sm3);
    let b = sample(DigestAlgorithm::Sha256);
    assert_ne!(a.head_hex(), b.head_hex());
    assert_ne!(
        genesis(DigestAlgorithm::Sm3, "session-1"),
        genesis(DigestAlgorithm::Sm3, "session-2")
    );
    let empty = ManifestBuilder::new(DigestAlgorithm::Sm3, "session-1").unwrap();
    assert_eq!(
        empty.head_hex(),
        hex::encode(genesis(DigestAlgorithm::Sm3, "session-1"))
    );
    assert_eq!(empty.manifest().head_hex(), empty.head_hex());
}

/// Every way to change one entry, each paired with the error it must give.
type Tamper = Box<dyn Fn(&mut EvidenceManifest)>;

fn tamper_cases(seq: usize) -> Vec<(&'static str, Tamper)> {
    vec![
        (
            "kind",
            Box::new(move |m| {
                let k = m.entries[seq].kind;
                m.entries[seq].kind = if k == EvidenceKind::Challenge {
                    EvidenceKind::CheckResult
                } else {
                    EvidenceKind::Challenge
                };
            }),
        ),
        ("at_ms", Box::new(move |m| m.entries[seq].at_ms += 1)),
        (
            "artefact",
            Box::new(move |m| {
                let d = &mut m.entries[seq].artefact_digest_hex;
                let flipped = if d.starts_with('0') { "1" } else { "0" };
                d.replace_range(0..1, flipped);
            }),
        ),
        (
            "meta added",
            Box::new(move |m| {
                m.entries[seq].meta.insert("extra".into(), "x".into());
            }),
        ),
        (
            "meta changed",
            Box::new(move |m| {
                let e = &mut m.entries[seq];
                if let Some(v) = e.meta.values_mut().next() {
                    v.push('!');
                } else {
                    e.meta.insert("a".into(), String::new());
                }
            }),
        ),
        (
            "meta key renamed",
            Box::new(move |m| {
                let e = &mut m.entries[seq];
                let first = e.meta.keys().next().cloned();
                match first {
                    Some(k) => {
                        let v = e.meta.remove(&k).unwrap_or_default();
                        e.meta.insert(format!("{k}x"), v);
                    }
                    None => {
                        e.meta.insert("b".into(), "b".into());
                    }
                }
            }),
        ),
        (
            "prev",
            Box::new(move |m| {
                let p = &mut m.entries[seq].prev_hex;
                let flipped = if p.ends_with('0') { "1" } else { "0" };
                p.replace_range(63..64, flipped);
            }),
        ),
        (
            "entry hash",
            Box::new(move |m| {
                let p = &mut m.entries[seq].entry_hash_hex;
                let flipped = if p.ends_with('0') { "1" } else { "0" };
                p.replace_range(63..64, flipped);
            }),
        ),
        ("seq", Box::new(move |m| m.entries[seq].seq += 100)),
        (
            "upper-case hex",
            Box::new(move |m| {
                m.entries[seq].entry_hash_hex = m.entries[seq].entry_hash_hex.to_uppercase();
                if !m.entries[seq]
                    .entry_hash_hex
                    .bytes()
                    .any(|b| b.is_ascii_uppercase())
                {
                    m.entries[seq].entry_hash_hex.replace_range(0..1, "G");
                }
            }),
        ),
    ]
}

#[test]
fn tampering_with_any_field_of_any_entry_is_detected_and_located() {
    let base = sample(DigestAlgorithm::Sm3);
    for seq in 0..base.entries.len() {
        for (what, tamper) in tamper_cases(seq) {
            let mut m = base.clone();
            tamper(&mut m);
            assert_ne!(m, base, "{what} at {seq} changed nothing");
            let err = m.verify().unwrap_err();
            let located = match &err {
                ManifestError::HashMismatch { seq: s }
                | ManifestError::BrokenLink { seq: s }
                | ManifestError::MalformedDigest { seq: s, .. } => *s == seq as u64,
                ManifestError::SeqOutOfOrder { index, .. } => *index == seq,
                _ => false,
            };
            assert!(located, "{what} at {seq}: {err:?}");
        }
    }
}

#[test]
fn a_changed_artefact_is_a_hash_mismatch_of_that_entry() {
    let mut m = sample(DigestAlgorithm::Sha256);
    m.entries[2].artefact_digest_hex = DigestAlgorithm::Sha256.digest_hex(b"another frame");
    assert_eq!(m.verify(), Err(ManifestError::HashMismatch { seq: 2 }));
    // Recomputing that entry's hash is not enough: the next link breaks.
    let mut b = ManifestBuilder::new(DigestAlgorithm::Sha256, "session-1").unwrap();
    for e in &m.entries[..3] {
        b.append_digest(
            e.kind,
            e.at_ms,
            hex::decode(&e.artefact_digest_hex)
                .unwrap()
                .try_into()
                .unwrap(),
            e.meta.clone(),
        )
        .unwrap();
    }
    let mut forged = m.clone();
    forged.entries[2] = b.manifest().entries[2].clone();
    assert_eq!(forged.verify(), Err(ManifestError::BrokenLink { seq: 3 }));
}

#[test]
fn manifest_level_fields_are_covered() {
    let base = sample(DigestAlgorithm::Sm3);
    let mut m = base.clone();
    m.session_id = "session-2".into();
    assert_eq!(m.verify(), Err(ManifestError::BrokenLink { seq: 0 }));
    let mut m = base.clone();
    m.algorithm = DigestAlgorithm::Sha256;
    assert_eq!(m.verify(), Err(ManifestError::BrokenLink { seq: 0 }));
    let mut m = base.clone();
    m.version = 2;
    assert_eq!(m.verify(), Err(ManifestError::UnsupportedVersion(2)));
    let mut m = base.clone();
    m.session_id = "bad id".into();
    assert_eq!(m.verify(), Err(ManifestError::BadSessionId));
}

#[test]
fn reordering_and_dropping_entries_is_detected() {
    let base = sample(DigestAlgorithm::Sm3);
    let mut m = base.clone();
    m.entries.swap(1, 2);
    assert_eq!(
        m.verify(),
        Err(ManifestError::SeqOutOfOrder { index: 1, seq: 2 })
    );
    // Swapped and renumbered: the links break.
    for (i, e) in m.entries.iter_mut().enumerate() {
        e.seq = i as u64;
    }
    assert!(matches!(
        m.verify(),
        Err(ManifestError::BrokenLink { seq: 1 } | ManifestError::HashMismatch { seq: 1 })
    ));

    let mut m = base.clone();
    m.entries.remove(3);
    assert_eq!(
        m.verify(),
        Err(ManifestError::SeqOutOfOrder { index: 3, seq: 4 })
    );
    for (i, e) in m.entries.iter_mut().enumerate() {
        e.seq = i as u64;
    }
    assert!(matches!(
        m.verify(),
        Err(ManifestError::BrokenLink { seq: 3 } | ManifestError::HashMismatch { seq: 3 })
    ));

    let mut m = base.clone();
    m.entries.remove(0);
    assert!(m.verify().is_err());
}

#[test]
fn truncation_keeps_a_valid_chain_but_changes_the_head() {
    let base = sample(DigestAlgorithm::Sm3);
    let mut heads = vec![base.head_hex()];
    for n in (0..base.entries.len()).rev() {
        let mut m = base.clone();
        m.entries.truncate(n);
        assert_eq!(m.verify(), Ok(()));
        assert!(!heads.contains(&m.head_hex()), "prefix of {n} entries");
        heads.push(m.head_hex());
    }
}

#[test]
fn artefacts_are_verified_against_their_entry() {
    let m = sample(DigestAlgorithm::Sm3);
    assert_eq!(m.verify_artefact(2, b"frame 1"), Ok(()));
    assert_eq!(
        m.verify_artefact(2, b"frame 2"),
        Err(ManifestError::ArtefactMismatch { seq: 2 })
    );
    assert_eq!(
        m.verify_artefact(99, b""),
        Err(ManifestError::NoSuchEntry(99))
    );
    let check = meta([("check", "liveness_quality"), ("result", "pass")]);
    assert_eq!(m.verify_artefact(5, &check_result_bytes(&check)), Ok(()));
}

#[test]
fn from_json_refuses_oversize_malformed_and_broken_input() {
    let big = vec![b' '; MAX_MANIFEST_JSON_BYTES + 1];
    assert!(matches!(
        EvidenceManifest::from_json(&big),
        Err(ManifestError::TooLarge { .. })
    ));
    assert!(matches!(
        EvidenceManifest::from_json(b"{\"version\":1"),
        Err(ManifestError::Json(_))
    ));
    let m = sample(DigestAlgorithm::Sm3);
    let text = String::from_utf8(m.to_json().unwrap()).unwrap();
    let extra = text.replacen("\"version\":1", "\"version\":1,\"note\":\"x\"", 1);
    assert!(matches!(
        EvidenceManifest::from_json(extra.as_bytes()),
        Err(ManifestError::Json(_))
    ));
    let bad_kind = text.replacen("\"vendor_package\"", "\"selfie\"", 1);
    assert!(matches!(
        EvidenceManifest::from_json(bad_kind.as_bytes()),
        Err(ManifestError::Json(_))
    ));
    let tampered = text.replacen("\"at_ms\":1000", "\"at_ms\":1001", 1);
    assert_eq!(
        EvidenceManifest::from_json(tampered.as_bytes()),
        Err(ManifestError::HashMismatch { seq: 0 })
    );
}

#[test]
fn builder_limits() {
    assert_eq!(
        ManifestBuilder::new(DigestAlgorithm::Sm3, "").unwrap_err(),
        ManifestError::BadSessionId
    );
    let mut b = ManifestBuilder::new(DigestAlgorithm::Sm3, "s").unwrap();
    for bad in ["Upper", "has space", "", "ü"] {
        assert!(matches!(
            b.append(EvidenceKind::CheckResult, 0, b"", meta([(bad, "v")])),
            Err(ManifestError::BadMeta { seq: 0, .. })
        ));
    }
    assert!(matches!(
        b.append(
            EvidenceKind::CheckResult,
            0,
            b"",
            meta([("k", "line\nbreak")])
        ),
        Err(ManifestError::BadMeta { .. })
    ));
    assert!(matches!(
        b.append(
            EvidenceKind::CheckResult,
            0,
            b"",
            meta([("k", "v".repeat(1025))])
        ),
        Err(ManifestError::BadMeta { .. })
    ));
    let many: BTreeMap<String, String> =
        (0..33).map(|i| (format!("k{i}"), String::new())).collect();
    assert!(matches!(
        b.append(EvidenceKind::CheckResult, 0, b"", many),
        Err(ManifestError::BadMeta { .. })
    ));
    assert!(
        b.manifest().entries.is_empty(),
        "refused entries are not added"
    );
    for i in 0..MAX_ENTRIES {
        b.append(EvidenceKind::ClientEvents, i as u64, b"e", BTreeMap::new())
            .unwrap();
    }
    assert_eq!(
        b.append(EvidenceKind::ClientEvents, 0, b"e", BTreeMap::new())
            .unwrap_err(),
        ManifestError::TooManyEntries { max: MAX_ENTRIES }
    );
    assert_eq!(b.finish().verify(), Ok(()));
}

#[test]
fn resuming_continues_the_same_chain() {
    let full = sample(DigestAlgorithm::Sm3);
    let mut prefix = full.clone();
    let tail: Vec<_> = prefix.entries.split_off(4);
    let mut b = ManifestBuilder::resume(prefix).unwrap();
    for e in &tail {
        b.append_digest(
            e.kind,
            e.at_ms,
            hex::decode(&e.artefact_digest_hex)
                .unwrap()
                .try_into()
                .unwrap(),
            e.meta.clone(),
        )
        .unwrap();
    }
    assert_eq!(b.finish(), full);
    let mut broken = sample(DigestAlgorithm::Sm3);
    broken.entries[1].at_ms = 0;
    assert!(ManifestBuilder::resume(broken).is_err());
}

fn entry_strategy() -> impl Strategy<Value = (usize, u64, Vec<u8>, BTreeMap<String, String>)> {
    (
        0..KINDS.len(),
        any::<u64>(),
        prop::collection::vec(any::<u8>(), 0..64),
        prop::collection::btree_map("[a-z0-9_.-]{1,12}", "[^\\p{Cc}]{0,20}", 0..4),
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn random_manifests_verify_round_trip_and_detect_one_change(
        entries in prop::collection::vec(entry_strategy(), 1..12),
        sha in any::<bool>(),
        pick in any::<prop::sample::Index>(),
        field in 0usize..10,
    ) {
        let alg = if sha { DigestAlgorithm::Sha256 } else { DigestAlgorithm::Sm3 };
        let mut b = ManifestBuilder::new(alg, "prop-session").unwrap();
        for (k, at, bytes, m) in &entries {
            b.append(KINDS[*k], *at, bytes, m.clone()).unwrap();
        }
        let head = b.head_hex();
        let m = b.finish();
        prop_assert_eq!(m.verify(), Ok(()));
        prop_assert_eq!(m.head_hex(), head);
        let back = EvidenceManifest::from_json(&m.to_json().unwrap()).unwrap();
        prop_assert_eq!(&back, &m);
        for (seq, (_, _, bytes, _)) in entries.iter().enumerate() {
            prop_assert_eq!(m.verify_artefact(seq as u64, bytes), Ok(()));
        }

        let seq = pick.index(m.entries.len());
        let mut t = m.clone();
        let cases = tamper_cases(seq);
        (cases[field % cases.len()].1)(&mut t);
        prop_assert!(t.verify().is_err());
    }
}
