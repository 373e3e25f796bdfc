//! Opening digital envelopes with the user's split key (issue 17), through a real server on
//! loopback: `CosignClient::open_envelope` finds the recipient for the encryption key's
//! certificate, recovers the content key with two-party SM2 decryption and releases the whole
//! plaintext or nothing.

use inkseal_cosign::api::{KeyPurpose, Pin};
use inkseal_pdf::cms::enveloped::{OidProfile, SealOptions, seal};
use inkseal_pdf::signer::parse_certificate_chain;
use inkseal_sdk::{CosignClient, Enrollment, SdkError};
use inkseal_server::RunningServer;
use inkseal_tests::envelopes::EnvelopePki;
use inkseal_tests::{Backend, Loopback, client_for, start_server};

const MESSAGE: &[u8] = b"customs declaration 2026-0042: 12 pallets, HS 8471.30, CNY 1,250,000.00";

fn pin() -> Pin {
    Pin::new("802461")
}

fn rng() -> p256::elliptic_curve::rand_core::UnwrapErr<getrandom::SysRng> {
    p256::elliptic_curve::rand_core::UnwrapErr(getrandom::SysRng)
}

fn cert_der(path: &std::path::Path) -> Vec<u8> {
    parse_certificate_chain(&std::fs::read(path).expect("cert"))
        .expect("certificate")
        .remove(0)
}

/// A server, a client and a certified encryption key.
async fn encryption_key(
    dir: &std::path::Path,
) -> (RunningServer, CosignClient, Enrollment, Vec<u8>) {
    let server = start_server(&dir.join("server")).await;
    let client = client_for(&server, &dir.join("device"));
    let backend = Backend::new(&server);
    let ticket = backend.encryption_ticket("customs-officer").await;
    let enc = client
        .enroll_for(&ticket, &pin(), KeyPurpose::Encryption)
        .await
        .expect("enroll an encryption key");
    let (cert, _) = client
        .request_certificate(&enc.key_id, &pin(), None)
        .await
        .expect("encryption certificate");
    (server, client, enc, cert)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_split_key_opens_sm4_and_mixed_aes256_envelopes_and_nothing_else() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (server, client, enc, cert) = encryption_key(dir.path()).await;

    // SM2 key transport with SM4-CBC, both OID profiles.
    for profile in [OidProfile::GbT35275, OidProfile::Rfc5652] {
        let sealed = seal(
            MESSAGE,
            std::slice::from_ref(&cert),
            &SealOptions::new().with_profile(profile),
            &mut rng(),
        )
        .expect("sealed");
        let opened = client
            .open_envelope(&enc.key_id, &pin(), &sealed)
            .await
            .expect("opened two-party");
        assert_eq!(opened.content(), MESSAGE);
        assert_eq!(opened.cipher(), "SM4-CBC");
        assert!(!opened.signed());
        // Debug never shows the plaintext.
        assert!(!format!("{opened:?}").contains("customs"));
    }

    // Mixed SM2 + P-256 recipients: AES-256-CBC, a 32-byte content key through SM2.
    let pki = EnvelopePki::new();
    let (_, p256_cert) = pki.recipient("p256-broker", "p256", None);
    let (_, other_sm2) = pki.recipient("another-officer", "sm2", None);
    let mixed = seal(
        MESSAGE,
        &[cert_der(&p256_cert), cert.clone(), cert_der(&other_sm2)],
        &SealOptions::new().with_profile(OidProfile::GbT35275),
        &mut rng(),
    )
    .expect("sealed");
    let opened = client
        .open_envelope(&enc.key_id, &pin(), &mixed)
        .await
        .expect("mixed envelope opened two-party");
    assert_eq!(opened.content(), MESSAGE);
    assert_eq!(opened.cipher(), "AES-256-CBC");

    // Signed-then-enveloped content is said to be signed (the app verifies it).
    let signed = seal(
        b"0\x03\x02\x01\x01",
        std::slice::from_ref(&cert),
        &SealOptions::new().with_content_type(inkseal_pdf::cms::enveloped::GM_SIGNED_DATA),
        &mut rng(),
    )
    .expect("sealed");
    let opened = client
        .open_envelope(&enc.key_id, &pin(), &signed)
        .await
        .expect("signed content opened");
    assert!(opened.signed());
    assert_eq!(opened.content_type(), "1.2.156.10197.6.1.4.2.2");

    let decryptions_before = decrypted_count(&server);

    // An envelope for another certificate only: not a recipient, and the server is not asked.
    let foreign = seal(
        MESSAGE,
        &[cert_der(&other_sm2)],
        &SealOptions::new(),
        &mut rng(),
    )
    .expect("sealed");
    assert!(matches!(
        client.open_envelope(&enc.key_id, &pin(), &foreign).await,
        Err(SdkError::InvalidInput(m)) if m.contains("not addressed")
    ));

    // Malformed and oversized envelopes are refused before any round trip.
    assert!(matches!(
        client
            .open_envelope(&enc.key_id, &pin(), b"not an envelope")
            .await,
        Err(SdkError::BadDocument(_))
    ));
    let huge = vec![0u8; inkseal_sdk::decrypt::MAX_ENVELOPE_BYTES + 1];
    assert!(matches!(
        client.open_envelope(&enc.key_id, &pin(), &huge).await,
        Err(SdkError::BadDocument(m)) if m.contains("exceeds")
    ));
    assert_eq!(decrypted_count(&server), decryptions_before);

    // Tampered content: the last byte of the next-to-last ciphertext block flips the padding
    // length byte, so the padding check fails: nothing is released.
    let sealed = seal(
        MESSAGE,
        std::slice::from_ref(&cert),
        &SealOptions::new(),
        &mut rng(),
    )
    .expect("sealed");
    let mut tampered = sealed.clone();
    let at = tampered.len() - 17;
    tampered[at] ^= 0x80;
    assert!(matches!(
        client.open_envelope(&enc.key_id, &pin(), &tampered).await,
        Err(SdkError::BadDocument(m)) if m.contains("does not decrypt")
    ));

    // A tampered key transport (C3 altered) fails the phone's C3 check: nothing is released.
    let parsed = inkseal_pdf::cms::enveloped::parse_envelope(&sealed).expect("parsed");
    let c3 = *parsed
        .sm2_recipient_for(&cert)
        .expect("ktri")
        .ciphertext()
        .c3();
    let pos = sealed
        .windows(32)
        .position(|w| w == c3)
        .expect("C3 in the envelope");
    let mut tampered = sealed.clone();
    tampered[pos] ^= 1;
    assert!(matches!(
        client.open_envelope(&enc.key_id, &pin(), &tampered).await,
        Err(SdkError::InvalidInput(m)) if m.contains("C3")
    ));

    // A wrong PIN is refused and counted.
    assert_eq!(
        client
            .open_envelope(&enc.key_id, &Pin::new("999999"), &sealed)
            .await
            .err(),
        Some(SdkError::WrongPin { attempts_left: 4 })
    );
    assert_eq!(
        client
            .status(&enc.key_id)
            .await
            .expect("status")
            .pin_failures,
        1
    );

    // And the right PIN still opens it; the server audited it with SM3 of the envelope.
    let opened = client
        .open_envelope(&enc.key_id, &pin(), &sealed)
        .await
        .expect("opened");
    assert_eq!(opened.content(), MESSAGE);
    let reference = hex::encode(inkseal_sdk::decrypt::envelope_ref(&sealed));
    let entries = server
        .service()
        .store()
        .audit_entries("main", 1, 10_000)
        .expect("audit");
    assert!(
        entries
            .iter()
            .any(|e| e.kind == "decrypted" && e.detail.contains(&reference)),
        "the opening is audited with its envelope reference"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_without_a_certificate_cannot_open_envelopes() {
    let Loopback {
        dir: _dir,
        server: _server,
        client,
        backend,
    } = Loopback::start().await;
    let ticket = backend.encryption_ticket("new-officer").await;
    let enc = client
        .enroll_for(&ticket, &pin(), KeyPurpose::Encryption)
        .await
        .expect("enroll");
    assert!(matches!(
        client.open_envelope(&enc.key_id, &pin(), b"anything").await,
        Err(SdkError::InvalidInput(m)) if m.contains("no certificate")
    ));
}

fn decrypted_count(server: &RunningServer) -> usize {
    server
        .service()
        .store()
        .audit_entries("main", 1, 10_000)
        .expect("audit")
        .iter()
        .filter(|e| e.kind == "decrypted")
        .count()
}
