//! Tests of the biometric record: binary format, sealing to the institution, tamper evidence.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use inkseal_ink::record::format::{MAX_DEVICE_LEN, MAX_RECORD_BYTES, MAX_STROKES};
use inkseal_ink::record::{
    BiometricRecord, InstitutionKey, InstitutionSecret, RecordError, RecordPoint, Scheme, decode,
    encode, open, record_digest, seal_for_institution,
};
use proptest::prelude::*;
use sha2::{Digest, Sha256};
use sm2::pkcs8::{EncodePublicKey, LineEnding};
use sm2::pke::{DecryptingKey, Mode};

fn sample_record(strokes: usize, points: usize, tilt: bool, azimuth: bool) -> BiometricRecord {
    let strokes = (0..strokes)
        .map(|s| {
            (0..points)
                .map(|i| RecordPoint {
                    x: 10.0 + i as f32 * 1.5,
                    y: 200.0 - s as f32 * 3.25,
                    t_ms: (s * points + i) as u32 * 8,
                    pressure: 0.25 + (i % 7) as f32 * 0.1,
                    tilt: tilt.then_some(42.5),
                    azimuth: azimuth.then_some(181.0 - i as f32),
                })
                .collect()
        })
        .collect();
    BiometricRecord {
        pad_width: 1920,
        pad_height: 600,
        dpi: 326,
        device: "Acme Pad 3 / Android 14".to_owned(),
        captured_at_ms: 1_795_000_000_000,
        strokes,
    }
}

fn finite() -> impl Strategy<Value = f32> {
    -1.0e6f32..1.0e6f32
}

fn arb_record() -> impl Strategy<Value = BiometricRecord> {
    (any::<bool>(), any::<bool>()).prop_flat_map(|(tilt, azimuth)| {
        let point = (
            finite(),
            finite(),
            any::<u32>(),
            finite(),
            finite(),
            finite(),
        )
            .prop_map(move |(x, y, t_ms, pressure, ti, az)| RecordPoint {
                x,
                y,
                t_ms,
                pressure,
                tilt: tilt.then_some(ti),
                azimuth: azimuth.then_some(az),
            });
        (
            any::<u32>(),
            any::<u32>(),
            any::<u32>(),
            "\\PC{0,40}",
            any::<u64>(),
            prop::collection::vec(prop::collection::vec(point, 1..30), 0..6),
        )
            .prop_map(
                |(pad_width, pad_height, dpi, device, captured_at_ms, strokes)| BiometricRecord {
                    pad_width,
                    pad_height,
                    dpi,
                    device,
                    captured_at_ms,
                    strokes,
                },
            )
    })
}

fn sm2_secret() -> InstitutionSecret {
    InstitutionSecret::generate(Scheme::Sm2).expect("rng")
}

fn p256_secret() -> InstitutionSecret {
    InstitutionSecret::generate(Scheme::P256Ecies).expect("rng")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn encode_decode_round_trip(record in arb_record()) {
        let bytes = encode(&record).expect("encode");
        let back = decode(&bytes).expect("decode");
        prop_assert_eq!(&back, &record);
        prop_assert_eq!(encode(&back).expect("re-encode"), bytes);
    }

    #[test]
    fn every_truncation_is_rejected(record in arb_record()) {
        let bytes = encode(&record).expect("encode");
        for cut in 0..bytes.len() {
            prop_assert!(decode(&bytes[..cut]).is_err(), "prefix {} accepted", cut);
        }
    }

    #[test]
    fn decode_never_panics_on_random_bytes(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
        let _ = decode(&bytes);
    }

    #[test]
    fn decode_never_panics_after_valid_header(tail in prop::collection::vec(any::<u8>(), 0..600)) {
        let mut bytes = b"INKR\x01\x00".to_vec();
        bytes.extend_from_slice(&tail);
        let _ = decode(&bytes);
    }

    #[test]
    fn open_never_panics_on_random_bytes(
        tail in prop::collection::vec(any::<u8>(), 0..400),
        scheme in 0u8..4,
        raw in any::<bool>(),
    ) {
        let bytes = if raw {
            tail.clone()
        } else {
            let len: u16 = if scheme == 1 { 129 } else { 113 };
            let mut b = b"INKE\x01".to_vec();
            b.push(scheme);
            b.extend_from_slice(&len.to_le_bytes());
            b.extend_from_slice(&tail);
            b
        };
        let _ = open(&bytes, &SM2_SECRET.with(Clone::clone));
        let _ = open(&bytes, &P256_SECRET.with(Clone::clone));
    }
}

thread_local! {
    static SM2_SECRET: InstitutionSecret = sm2_secret();
    static P256_SECRET: InstitutionSecret = p256_secret();
}

#[test]
fn decode_rejects_trailing_bytes() {
    let mut bytes = encode(&sample_record(2, 5, true, false)).expect("encode");
    bytes.push(0);
    assert_eq!(decode(&bytes), Err(RecordError::TrailingBytes(1)));
}

#[test]
fn decode_rejects_oversized_input() {
    let bytes = vec![0u8; MAX_RECORD_BYTES + 1];
    assert!(matches!(decode(&bytes), Err(RecordError::TooLarge { .. })));
}

#[test]
fn decode_rejects_bad_magic_version_and_channels() {
    let good = encode(&sample_record(1, 3, false, false)).expect("encode");
    let mut bad = good.clone();
    bad[0] = b'X';
    assert_eq!(decode(&bad), Err(RecordError::BadMagic));
    let mut bad = good.clone();
    bad[4] = 2;
    assert_eq!(decode(&bad), Err(RecordError::UnsupportedVersion(2)));
    let mut bad = good.clone();
    bad[26] = 0b0000_0111; // pressure missing
    assert_eq!(decode(&bad), Err(RecordError::BadChannels(0b0000_0111)));
    let mut bad = good;
    bad[26] |= 0x40; // reserved bit
    assert!(matches!(decode(&bad), Err(RecordError::BadChannels(_))));
}

#[test]
fn nan_and_infinity_are_rejected() {
    let mut record = sample_record(1, 3, true, true);
    record.strokes[0][1].pressure = f32::NAN;
    assert_eq!(
        encode(&record),
        Err(RecordError::NonFinite {
            stroke: 0,
            point: 1
        })
    );
    record.strokes[0][1].pressure = 0.5;
    record.strokes[0][2].azimuth = Some(f32::INFINITY);
    assert!(matches!(
        encode(&record),
        Err(RecordError::NonFinite { .. })
    ));

    // Patch a NaN into a valid encoding: first point's x of the first stroke.
    let mut bytes = encode(&sample_record(1, 3, false, false)).expect("encode");
    let device_len = "Acme Pad 3 / Android 14".len();
    let x_at = 29 + device_len + 4 + 4;
    bytes[x_at..x_at + 4].copy_from_slice(&f32::NAN.to_le_bytes());
    assert_eq!(
        decode(&bytes),
        Err(RecordError::NonFinite {
            stroke: 0,
            point: 0
        })
    );
}

#[test]
fn limits_are_enforced() {
    let mut record = sample_record(1, 1, false, false);
    record.device = "x".repeat(MAX_DEVICE_LEN + 1);
    assert!(matches!(
        encode(&record),
        Err(RecordError::LimitExceeded { .. })
    ));

    let mut record = sample_record(2, 2, true, false);
    record.strokes[1][0].tilt = None;
    assert_eq!(
        encode(&record),
        Err(RecordError::InconsistentChannels("tilt"))
    );

    let mut record = sample_record(2, 2, false, false);
    record.strokes[1].clear();
    assert_eq!(encode(&record), Err(RecordError::EmptyStroke(1)));

    // A header that claims many strokes with no data behind it fails without allocating.
    let mut bytes = encode(&sample_record(0, 0, false, false)).expect("encode");
    let n = bytes.len();
    bytes[n - 4..].copy_from_slice(&(MAX_STROKES as u32).to_le_bytes());
    assert_eq!(decode(&bytes), Err(RecordError::Truncated));
    bytes[n - 4..].copy_from_slice(&u32::MAX.to_le_bytes());
    assert!(matches!(
        decode(&bytes),
        Err(RecordError::LimitExceeded { .. })
    ));
}

#[test]
fn debug_does_not_show_samples_or_secrets() {
    let record = sample_record(1, 2, false, false);
    let shown = format!("{record:?}");
    assert!(shown.contains("points: 2"), "{shown}");
    assert!(!shown.contains("11.5"), "{shown}");

    let InstitutionSecret::Sm2(sk) = sm2_secret() else {
        unreachable!()
    };
    let hex: String = sk.to_bytes().iter().map(|b| format!("{b:02x}")).collect();
    let shown = format!("{:?}", InstitutionSecret::Sm2(sk));
    assert!(!shown.to_lowercase().contains(&hex[..16]), "{shown}");
}

fn round_trip(secret: &InstitutionSecret) {
    let record = sample_record(3, 40, true, true);
    let bytes = encode(&record).expect("encode");
    let sealed = seal_for_institution(&bytes, &secret.public_key()).expect("seal");
    let opened = open(&sealed, secret).expect("open");
    assert_eq!(opened, bytes);
    assert_eq!(decode(&opened).expect("decode"), record);
    // Fresh key and nonce every time: the same record never seals to the same envelope.
    let again = seal_for_institution(&bytes, &secret.public_key()).expect("seal");
    assert_ne!(again, sealed);
    assert_ne!(record_digest(&again), record_digest(&sealed));
    assert_eq!(
        record_digest(&sealed),
        <[u8; 32]>::from(Sha256::digest(&sealed))
    );
}

#[test]
fn seal_open_round_trip_sm2() {
    round_trip(&sm2_secret());
}

#[test]
fn seal_open_round_trip_p256() {
    round_trip(&p256_secret());
}

#[test]
fn empty_record_seals_and_opens() {
    for secret in [sm2_secret(), p256_secret()] {
        let sealed = seal_for_institution(b"", &secret.public_key()).expect("seal");
        assert_eq!(open(&sealed, &secret).expect("open"), b"");
    }
}

#[test]
fn institution_keys_parse_from_pem_and_sec1() {
    let InstitutionSecret::Sm2(sm2_sk) = sm2_secret() else {
        unreachable!()
    };
    let pem = sm2_sk
        .public_key()
        .to_public_key_pem(LineEnding::LF)
        .expect("pem");
    let key = InstitutionKey::from_public_key_pem(&pem).expect("sm2 pem");
    assert_eq!(key, InstitutionKey::Sm2(sm2_sk.public_key()));

    let InstitutionSecret::P256(p_sk) = p256_secret() else {
        unreachable!()
    };
    let pem = p256::pkcs8::EncodePublicKey::to_public_key_pem(&p_sk.public_key(), LineEnding::LF)
        .expect("pem");
    let key = InstitutionKey::from_public_key_pem(&pem).expect("p256 pem");
    assert_eq!(key, InstitutionKey::P256(p_sk.public_key()));
    assert_eq!(
        InstitutionKey::from_sec1(Scheme::P256Ecies, &key.to_sec1_bytes()).expect("sec1"),
        key
    );
    assert!(InstitutionKey::from_public_key_pem("-----BEGIN PUBLIC KEY-----\n").is_err());
    assert!(InstitutionKey::from_sec1(Scheme::Sm2, &[4; 65]).is_err());
}

#[test]
fn another_institutions_secret_cannot_open() {
    let bytes = encode(&sample_record(1, 10, false, false)).expect("encode");
    for (owner, other) in [(sm2_secret(), sm2_secret()), (p256_secret(), p256_secret())] {
        let sealed = seal_for_institution(&bytes, &owner.public_key()).expect("seal");
        assert_eq!(open(&sealed, &other), Err(RecordError::OpenFailed));
    }
    let sealed = seal_for_institution(&bytes, &sm2_secret().public_key()).expect("seal");
    assert_eq!(
        open(&sealed, &p256_secret()),
        Err(RecordError::SchemeMismatch {
            envelope: Scheme::Sm2,
            key: Scheme::P256Ecies
        })
    );
}

/// The SM2 wrap is plain GB/T 32918.4 `C1C3C2`: the sm2 crate's own `DecryptingKey` unwraps it,
/// and the record then decrypts with nothing but AES-256-GCM and the documented layout.
#[test]
fn sm2_wrap_is_standard_c1c3c2() {
    let InstitutionSecret::Sm2(sk) = sm2_secret() else {
        unreachable!()
    };
    let secret = InstitutionSecret::Sm2(sk.clone());
    let bytes = encode(&sample_record(2, 50, true, false)).expect("encode");
    let sealed = seal_for_institution(&bytes, &secret.public_key()).expect("seal");

    assert_eq!(&sealed[..4], b"INKE");
    assert_eq!(sealed[4], 1);
    assert_eq!(sealed[5], 1);
    let wrapped_len = u16::from_le_bytes([sealed[6], sealed[7]]) as usize;
    assert_eq!(wrapped_len, 65 + 32 + 32);
    let wrapped = &sealed[8..8 + wrapped_len];
    assert_eq!(wrapped[0], 0x04, "C1 is an uncompressed point");

    let dk = DecryptingKey::new_with_mode(sk.to_nonzero_scalar(), Mode::C1C3C2);
    let content_key = dk.decrypt(wrapped).expect("standard SM2 C1C3C2 decryption");
    assert_eq!(content_key.len(), 32);
    // The old C1C2C3 layout does not verify: the layout really is C1C3C2.
    let old = DecryptingKey::new_with_mode(sk.to_nonzero_scalar(), Mode::C1C2C3);
    assert!(old.decrypt(wrapped).is_err());

    let aad_len = 8 + wrapped_len + 12;
    let (aad, ct) = sealed.split_at(aad_len);
    let nonce: [u8; 12] = aad[aad_len - 12..].try_into().expect("12 bytes");
    let key: [u8; 32] = content_key.as_slice().try_into().expect("32 bytes");
    let plain = Aes256Gcm::new(&Key::<Aes256Gcm>::from(key))
        .decrypt(&Nonce::from(nonce), Payload { msg: ct, aad })
        .expect("AES-256-GCM");
    assert_eq!(plain, bytes);
}

/// The P-256 wrap follows the documented ECIES construction exactly.
#[test]
fn p256_wrap_matches_documented_ecies() {
    let InstitutionSecret::P256(sk) = p256_secret() else {
        unreachable!()
    };
    let secret = InstitutionSecret::P256(sk.clone());
    let sealed = seal_for_institution(b"hello examiner", &secret.public_key()).expect("seal");
    assert_eq!(sealed[5], 2);
    let wrapped = &sealed[8..8 + 113];
    let eph = p256::PublicKey::from_sec1_bytes(&wrapped[..65]).expect("ephemeral point");
    let shared = p256::ecdh::diffie_hellman(sk.to_nonzero_scalar(), eph.as_affine());
    let inst = sk.public_key().to_sec1_bytes();
    let mut info = b"inkseal/ink-record/v1".to_vec();
    info.extend_from_slice(&wrapped[..65]);
    info.extend_from_slice(&inst);
    let mut kek = [0u8; 32];
    hkdf::Hkdf::<Sha256>::new(None, shared.raw_secret_bytes())
        .expand(&info, &mut kek)
        .expect("hkdf");
    let content_key = Aes256Gcm::new(&Key::<Aes256Gcm>::from(kek))
        .decrypt(&Nonce::default(), &wrapped[65..])
        .expect("key unwrap");
    assert_eq!(content_key.len(), 32);
}

#[test]
fn thousand_point_record_size() {
    let record = sample_record(10, 100, true, true);
    let bytes = encode(&record).expect("encode");
    let sm2 = seal_for_institution(&bytes, &sm2_secret().public_key()).expect("seal");
    let p256 = seal_for_institution(&bytes, &p256_secret().public_key()).expect("seal");
    eprintln!(
        "1000-point record (x,y,t,pressure,tilt,azimuth): encoded {} bytes, sealed SM2 {} bytes, sealed P-256 {} bytes",
        bytes.len(),
        sm2.len(),
        p256.len()
    );
    assert_eq!(bytes.len(), 29 + 23 + 4 + 10 * 4 + 1000 * 24);
    assert_eq!(sm2.len(), bytes.len() + 8 + 129 + 12 + 16);
    assert_eq!(p256.len(), bytes.len() + 8 + 113 + 12 + 16);
}

fn tamper_case(secret: &InstitutionSecret, pos: prop::sample::Index, mask: u8) {
    let bytes = encode(&sample_record(1, 8, false, true)).expect("encode");
    let mut sealed = seal_for_institution(&bytes, &secret.public_key()).expect("seal");
    let i = pos.index(sealed.len());
    sealed[i] ^= mask;
    let err = open(&sealed, secret).expect_err("tampered envelope opened");
    assert!(
        matches!(
            err,
            RecordError::OpenFailed
                | RecordError::BadMagic
                | RecordError::UnsupportedVersion(_)
                | RecordError::UnknownScheme(_)
                | RecordError::SchemeMismatch { .. }
                | RecordError::Truncated
        ),
        "byte {i}: {err:?}"
    );
    if i >= 8 {
        assert_eq!(err, RecordError::OpenFailed, "byte {i}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn tampered_sm2_envelope_fails(pos in any::<prop::sample::Index>(), mask in 1u8..=255) {
        SM2_SECRET.with(|s| tamper_case(s, pos, mask));
    }

    #[test]
    fn tampered_p256_envelope_fails(pos in any::<prop::sample::Index>(), mask in 1u8..=255) {
        P256_SECRET.with(|s| tamper_case(s, pos, mask));
    }
}

#[test]
fn every_byte_flip_fails_to_open() {
    for secret in [sm2_secret(), p256_secret()] {
        let sealed = seal_for_institution(b"short record", &secret.public_key()).expect("seal");
        for i in 0..sealed.len() {
            let mut t = sealed.clone();
            t[i] ^= 0x01;
            assert!(open(&t, &secret).is_err(), "flip at {i} opened");
        }
        assert_eq!(
            open(&sealed[..sealed.len() - 1], &secret),
            Err(RecordError::OpenFailed)
        );
        assert_eq!(open(&sealed[..20], &secret), Err(RecordError::Truncated));
    }
}
