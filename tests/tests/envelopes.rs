//! Digital envelopes (CMS EnvelopedData) with local keys: SM2 key transport with SM4-CBC,
//! P-256 key agreement (RFC 5753) with AES, sealing to one or several recipients, and
//! interoperability with the openssl command in both directions. Keys and certificates are
//! made by openssl (SM2 recipients' certificates carry the SM2 key with `-force_pubkey`).

use inkseal_pdf::cms::enveloped::{
    ContentCipher, EnvelopeError, EnvelopeKey, KdfDigest, OidProfile, Recipient, SealOptions,
    parse_envelope, seal,
};
use inkseal_pdf::signer::parse_certificate_chain;
use inkseal_tests::envelopes::EnvelopePki as Pki;
use std::path::Path;

fn cert_der(path: &Path) -> Vec<u8> {
    parse_certificate_chain(&std::fs::read(path).expect("cert"))
        .expect("certificate")
        .remove(0)
}

fn key(path: &Path, cert: &Path) -> EnvelopeKey {
    EnvelopeKey::from_pem(
        &std::fs::read_to_string(path).expect("key"),
        Some(&cert_der(cert)),
    )
    .expect("key")
}

fn rng() -> p256::elliptic_curve::rand_core::UnwrapErr<getrandom::SysRng> {
    p256::elliptic_curve::rand_core::UnwrapErr(getrandom::SysRng)
}

const MESSAGE: &[u8] = b"customs declaration 2026-0042: 12 pallets, HS 8471.30, CNY 1,250,000.00";

#[test]
fn sm2_round_trip_uses_sm4_and_refuses_other_keys_tampering_and_bad_c3() {
    let pki = Pki::new();
    let (alice_key, alice) = pki.recipient("alice-sm2", "sm2", None);
    let (bob_key, bob) = pki.recipient("bob-sm2", "sm2", None);
    let sealed = seal(
        MESSAGE,
        &[cert_der(&alice)],
        &SealOptions::new(),
        &mut rng(),
    )
    .expect("sealed");
    let parsed = parse_envelope(&sealed).expect("parsed");
    assert_eq!(parsed.content_cipher(), ContentCipher::Sm4Cbc);
    assert_eq!(parsed.profile(), OidProfile::Rfc5652);
    assert!(matches!(parsed.recipients(), [Recipient::Sm2(_)]));

    // With and without the certificate.
    let opened = parsed
        .open_with_key(&key(&alice_key, &alice), Some(&cert_der(&alice)))
        .expect("opens");
    assert_eq!(opened.content(), MESSAGE);
    let opened = parsed
        .open_with_key(&key(&alice_key, &alice), None)
        .expect("opens without the certificate");
    assert_eq!(opened.content(), MESSAGE);

    // The two-party path: the recipient's ciphertext, d·C1 computed elsewhere, finish, then
    // the content with the recovered key (here d·C1 by the local key's own decrypt).
    let recipient = parsed
        .sm2_recipient_for(&cert_der(&alice))
        .expect("recipient");
    assert_eq!(recipient.ciphertext().c2().len(), 16);
    let EnvelopeKey::Sm2(alice_sm2) = key(&alice_key, &alice) else {
        panic!("an SM2 key")
    };
    let cek = recipient.ciphertext().decrypt(&alice_sm2).expect("cek");
    assert_eq!(
        parsed.decrypt_content(&cek).expect("content").as_slice(),
        MESSAGE
    );

    // Bob is not a recipient: by certificate and by key.
    assert_eq!(
        parsed.sm2_recipient_for(&cert_der(&bob)).err(),
        Some(EnvelopeError::NotARecipient("certificate"))
    );
    assert_eq!(
        parsed
            .open_with_key(&key(&bob_key, &bob), Some(&cert_der(&bob)))
            .err(),
        Some(EnvelopeError::NotARecipient("certificate"))
    );
    assert_eq!(
        parsed.open_with_key(&key(&bob_key, &bob), None).err(),
        Some(EnvelopeError::NotARecipient("key"))
    );
    // Bob's key with Alice's certificate: not the certificate's key.
    assert!(matches!(
        parsed.open_with_key(&key(&bob_key, &bob), Some(&cert_der(&alice))),
        Err(EnvelopeError::InvalidInput(_))
    ));

    // A flipped bit in C3 (inside the SM2 ciphertext): the key is not released.
    let c3 = recipient.ciphertext().c3();
    let at = find(&sealed, c3);
    let mut bad_c3 = sealed.clone();
    bad_c3[at + 5] ^= 0x01;
    assert_eq!(
        parse_envelope(&bad_c3)
            .expect("still parses")
            .open_with_key(&key(&alice_key, &alice), Some(&cert_der(&alice)))
            .err(),
        Some(EnvelopeError::KeyDecryptionFailed)
    );

    // The last ciphertext block altered: the padding check fails and no plaintext comes out.
    let mut bad_content = sealed.clone();
    let last = bad_content.len() - 1;
    bad_content[last] ^= 0x01;
    assert_eq!(
        parse_envelope(&bad_content)
            .expect("still parses")
            .open_with_key(&key(&alice_key, &alice), None)
            .err(),
        Some(EnvelopeError::ContentDecryptionFailed)
    );
    // A truncated ciphertext (not whole blocks) is malformed at the DER level or refused.
    assert!(parse_envelope(&sealed[..sealed.len() - 1]).is_err());
    // The wrong content key.
    assert_eq!(
        parsed.decrypt_content(&[0u8; 16]).err(),
        Some(EnvelopeError::ContentDecryptionFailed)
    );
    assert!(matches!(
        parsed.decrypt_content(&[0u8; 32]),
        Err(EnvelopeError::InvalidInput(_))
    ));
}

#[test]
fn p256_round_trip_uses_aes256_and_sha256kdf() {
    let pki = Pki::new();
    let (carol_key, carol) = pki.recipient("carol-p256", "p256", None);
    let (dave_key, dave) = pki.recipient("dave-p256", "p256", None);
    let sealed = seal(
        MESSAGE,
        &[cert_der(&carol)],
        &SealOptions::new(),
        &mut rng(),
    )
    .expect("sealed");
    let parsed = parse_envelope(&sealed).expect("parsed");
    assert_eq!(parsed.content_cipher(), ContentCipher::Aes256Cbc);
    let [Recipient::P256(r)] = parsed.recipients() else {
        panic!("one P-256 recipient: {:?}", parsed.recipients())
    };
    assert_eq!(r.kdf(), KdfDigest::Sha256);
    let opened = parsed
        .open_with_key(&key(&carol_key, &carol), Some(&cert_der(&carol)))
        .expect("opens");
    assert_eq!(opened.content(), MESSAGE);
    assert_eq!(
        parsed.open_with_key(&key(&dave_key, &dave), None).err(),
        Some(EnvelopeError::NotARecipient("key"))
    );
    // The wrapped key altered: the unwrap check fails.
    let at = find(&sealed, r.encrypted_key());
    let mut bad = sealed.clone();
    bad[at + 3] ^= 0x80;
    assert_eq!(
        parse_envelope(&bad)
            .expect("parses")
            .open_with_key(&key(&carol_key, &carol), Some(&cert_der(&carol)))
            .err(),
        Some(EnvelopeError::KeyDecryptionFailed)
    );
}

#[test]
fn mixed_recipients_each_open_the_same_aes256_envelope() {
    let pki = Pki::new();
    let (s_key, s_cert) = pki.recipient("sm2-officer", "sm2", None);
    let (p_key, p_cert) = pki.recipient("p256-broker", "p256", None);
    let (q_key, q_cert) = pki.recipient("p256-bank", "p256", None);
    let sealed = seal(
        MESSAGE,
        &[cert_der(&s_cert), cert_der(&p_cert), cert_der(&q_cert)],
        &SealOptions::new().with_profile(OidProfile::GbT35275),
        &mut rng(),
    )
    .expect("sealed");
    let parsed = parse_envelope(&sealed).expect("parsed");
    assert_eq!(parsed.profile(), OidProfile::GbT35275);
    assert_eq!(parsed.content_cipher(), ContentCipher::Aes256Cbc);
    assert_eq!(parsed.recipients().len(), 3);
    for (k, c) in [(&s_key, &s_cert), (&p_key, &p_cert), (&q_key, &q_cert)] {
        let opened = parsed
            .open_with_key(&key(k, c), Some(&cert_der(c)))
            .expect("each recipient opens");
        assert_eq!(opened.content(), MESSAGE);
    }
    // The SM2 recipient's C2 is the 32-byte AES key.
    assert_eq!(
        parsed
            .sm2_recipient_for(&cert_der(&s_cert))
            .expect("sm2")
            .ciphertext()
            .c2()
            .len(),
        32
    );
}

#[test]
fn sealing_refuses_a_signing_only_certificate() {
    let pki = Pki::new();
    let (_, signing) = pki.recipient("signer-sm2", "sm2", Some("signing"));
    assert!(matches!(
        seal(
            MESSAGE,
            &[cert_der(&signing)],
            &SealOptions::new(),
            &mut rng()
        ),
        Err(EnvelopeError::Certificate(_))
    ));
}

#[test]
fn openssl_cms_decrypt_opens_our_p256_envelope() {
    let pki = Pki::new();
    let (r_key, r_cert) = pki.recipient("r", "p256", None);
    let sealed = seal(
        MESSAGE,
        &[cert_der(&r_cert)],
        &SealOptions::new(),
        &mut rng(),
    )
    .expect("sealed");
    std::fs::write(pki.path("ours.der"), &sealed).expect("write");
    let _ = (&r_key, &r_cert);
    pki.openssl(&[
        "cms",
        "-decrypt",
        "-binary",
        "-inform",
        "DER",
        "-in",
        "ours.der",
        "-recip",
        "r.pem",
        "-inkey",
        "r.key",
        "-out",
        "plain.out",
    ]);
    assert_eq!(std::fs::read(pki.path("plain.out")).expect("out"), MESSAGE);

    // Mixed with an SM2 recipient (which openssl skips): the P-256 recipient still opens it.
    let (_, s_cert) = pki.recipient("s", "sm2", None);
    let mixed = seal(
        MESSAGE,
        &[cert_der(&s_cert), cert_der(&r_cert)],
        &SealOptions::new(),
        &mut rng(),
    )
    .expect("sealed");
    std::fs::write(pki.path("mixed.der"), &mixed).expect("write");
    pki.openssl(&[
        "cms",
        "-decrypt",
        "-binary",
        "-inform",
        "DER",
        "-in",
        "mixed.der",
        "-recip",
        "r.pem",
        "-inkey",
        "r.key",
        "-out",
        "mixed.out",
    ]);
    assert_eq!(std::fs::read(pki.path("mixed.out")).expect("out"), MESSAGE);
}

#[test]
fn we_open_openssl_envelopes_with_sha1kdf_and_sha256kdf() {
    let pki = Pki::new();
    let (r_key, r_cert) = pki.recipient("r", "p256", None);
    let (_, other_cert) = pki.recipient("other", "p256", None);
    std::fs::write(pki.path("msg.bin"), MESSAGE).expect("write");
    for (kdf_args, kdf, cipher_arg, cipher) in [
        (
            &[][..],
            KdfDigest::Sha1,
            "-aes256",
            ContentCipher::Aes256Cbc,
        ),
        (
            &["-keyopt", "ecdh_kdf_md:sha256"][..],
            KdfDigest::Sha256,
            "-aes256",
            ContentCipher::Aes256Cbc,
        ),
        (
            &[][..],
            KdfDigest::Sha1,
            "-aes128",
            ContentCipher::Aes128Cbc,
        ),
        // The recipient named by its subject key identifier (rKeyId).
        (
            &["-keyid"][..],
            KdfDigest::Sha1,
            "-aes256",
            ContentCipher::Aes256Cbc,
        ),
        // BER: indefinite lengths and a constructed encryptedContent.
        (
            &["-stream"][..],
            KdfDigest::Sha1,
            "-aes256",
            ContentCipher::Aes256Cbc,
        ),
    ] {
        let mut args = vec![
            "cms",
            "-encrypt",
            cipher_arg,
            "-binary",
            "-outform",
            "DER",
            "-in",
            "msg.bin",
            "-out",
            "theirs.der",
            "-recip",
            "other.pem",
            "-recip",
            "r.pem",
        ];
        args.extend_from_slice(kdf_args);
        pki.openssl(&args);
        let theirs = std::fs::read(pki.path("theirs.der")).expect("read");
        let parsed = parse_envelope(&theirs).expect("parses openssl's envelope");
        assert_eq!(parsed.content_cipher(), cipher);
        // Two recipients; `-keyopt` applies to the last `-recip` (ours).
        assert_eq!(parsed.recipients().len(), 2);
        let ours = parsed
            .p256_recipients_for(&cert_der(&r_cert))
            .expect("ours");
        assert!(matches!(ours.as_slice(), [p] if p.kdf() == kdf), "{ours:?}");
        let opened = parsed
            .open_with_key(&key(&r_key, &r_cert), Some(&cert_der(&r_cert)))
            .expect("opens");
        assert_eq!(opened.content(), MESSAGE);
        let _ = &other_cert;
    }
    // AES-GCM gives an AuthEnvelopedData, which is named in the refusal.
    pki.openssl(&[
        "cms",
        "-encrypt",
        "-aes-256-gcm",
        "-binary",
        "-outform",
        "DER",
        "-in",
        "msg.bin",
        "-out",
        "gcm.der",
        "-recip",
        "r.pem",
    ]);
    assert!(matches!(
        parse_envelope(&std::fs::read(pki.path("gcm.der")).expect("read")),
        Err(EnvelopeError::Unsupported(m)) if m.contains("authEnvelopedData")
    ));
}

/// Where `needle` starts in `haystack`.
fn find(haystack: &[u8], needle: &[u8]) -> usize {
    haystack
        .windows(needle.len())
        .position(|w| w == needle)
        .expect("found")
}

#[test]
fn bouncycastle_opens_ours_and_we_open_bouncycastles_sm2_p256_and_mixed() {
    use inkseal_tests::validators::{bouncycastle_envelope_open, bouncycastle_envelope_seal};
    let pki = Pki::new();
    let (s_key, s_cert) = pki.recipient("s", "sm2", None);
    let (r_key, r_cert) = pki.recipient("r", "p256", None);
    let input = pki.path("msg.bin");
    std::fs::write(&input, MESSAGE).expect("write");

    // Ours, opened by BouncyCastle: SM2 only (SM4), P-256 only, and mixed with GB/T OIDs.
    let cases: [(&str, Vec<&Path>, OidProfile); 3] = [
        ("sm2", vec![&s_cert], OidProfile::Rfc5652),
        ("p256", vec![&r_cert], OidProfile::Rfc5652),
        ("mixed", vec![&s_cert, &r_cert], OidProfile::GbT35275),
    ];
    for (name, certs, profile) in cases {
        let sealed = seal(
            MESSAGE,
            &certs.iter().map(|c| cert_der(c)).collect::<Vec<_>>(),
            &SealOptions::new().with_profile(profile),
            &mut rng(),
        )
        .expect("sealed");
        let path = pki.path(&format!("ours-{name}.der"));
        std::fs::write(&path, &sealed).expect("write");
        for cert in certs {
            let key = if cert == s_cert.as_path() {
                &s_key
            } else {
                &r_key
            };
            let bc = bouncycastle_envelope_open(&path, key, cert);
            assert!(bc.ok, "BouncyCastle did not open {name}: {:?}", bc.error);
            assert_eq!(bc.content, MESSAGE, "{name}");
            let expected_cipher = if name == "sm2" {
                "1.2.156.10197.1.104.2"
            } else {
                "2.16.840.1.101.3.4.1.42"
            };
            assert_eq!(bc.content_cipher, expected_cipher, "{name}");
        }
        // BouncyCastle with another key does not open it.
        let (o_key, o_cert) = pki.recipient(&format!("other-{name}"), "sm2", None);
        assert!(!bouncycastle_envelope_open(&path, &o_key, &o_cert).ok);
    }

    // BouncyCastle's (BER), opened by us.
    for (name, certs, cipher) in [
        ("bc-sm2", vec![s_cert.as_path()], ContentCipher::Sm4Cbc),
        ("bc-p256", vec![r_cert.as_path()], ContentCipher::Aes256Cbc),
        (
            "bc-mixed",
            vec![s_cert.as_path(), r_cert.as_path()],
            ContentCipher::Aes256Cbc,
        ),
    ] {
        let path = pki.path(&format!("{name}.ber"));
        bouncycastle_envelope_seal(&path, &input, &certs);
        let parsed = parse_envelope(&std::fs::read(&path).expect("read")).expect("parses BC's");
        assert_eq!(parsed.content_cipher(), cipher, "{name}");
        for cert in certs {
            let key_path = if cert == s_cert.as_path() {
                &s_key
            } else {
                &r_key
            };
            let opened = parsed
                .open_with_key(&key(key_path, cert), Some(&cert_der(cert)))
                .expect("opens BC's envelope");
            assert_eq!(opened.content(), MESSAGE, "{name}");
        }
    }
}

#[test]
fn sealing_with_an_injected_generator_is_deterministic() {
    let pki = Pki::new();
    let (s_key, s_cert) = pki.recipient("s", "sm2", None);
    let (_, r_cert) = pki.recipient("r", "p256", None);
    let recipients = [cert_der(&s_cert), cert_der(&r_cert)];
    let once = |seed| {
        seal(
            MESSAGE,
            &recipients,
            &SealOptions::new(),
            &mut inkseal_pdf::testing::CounterRng::new(seed),
        )
        .expect("sealed")
    };
    assert_eq!(once(7), once(7));
    assert_ne!(once(7), once(8));
    let opened = parse_envelope(&once(7))
        .expect("parsed")
        .open_with_key(&key(&s_key, &s_cert), None)
        .expect("opens");
    assert_eq!(opened.content(), MESSAGE);
}

#[test]
fn the_reader_refuses_oversized_trailing_and_foreign_input() {
    let pki = Pki::new();
    let (_, s_cert) = pki.recipient("s", "sm2", None);
    let sealed = seal(
        MESSAGE,
        &[cert_der(&s_cert)],
        &SealOptions::new(),
        &mut rng(),
    )
    .expect("sealed");
    let big = vec![0u8; inkseal_pdf::cms::enveloped::MAX_ENVELOPE_BYTES + 1];
    assert!(matches!(
        parse_envelope(&big),
        Err(EnvelopeError::TooLarge { .. })
    ));
    let mut trailing = sealed.clone();
    trailing.push(0);
    assert!(matches!(
        parse_envelope(&trailing),
        Err(EnvelopeError::Malformed(_))
    ));
    // A certificate is not an envelope; neither is a SignedData.
    assert!(parse_envelope(&cert_der(&s_cert)).is_err());
    // Too many recipients to seal to.
    let many = vec![cert_der(&s_cert); inkseal_pdf::cms::enveloped::MAX_RECIPIENTS + 1];
    assert!(matches!(
        seal(MESSAGE, &many, &SealOptions::new(), &mut rng()),
        Err(EnvelopeError::TooManyRecipients { .. })
    ));
    // Every truncation is refused without a panic.
    for len in 0..sealed.len() {
        assert!(parse_envelope(&sealed[..len]).is_err(), "{len}");
    }
}
