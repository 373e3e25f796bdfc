//! Hostile digital envelopes (CMS EnvelopedData), DER or BER: the reader, opening with local
//! SM2 and P-256 keys (the seeds in seeds/enveloped are sealed to these two keys, so mutations
//! reach key decryption, C3, key unwrap and the padding check), content decryption with a given
//! key, SM2 ciphertexts on their own, and signed content.
#![no_main]

use inkseal_pdf::cms::enveloped::{
    EnvelopeKey, Recipient, Sm2Ciphertext, parse_envelope, verify_signed_content,
};
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

/// The seeds' SM2 recipient key (test material only).
const SM2_KEY: &str = "-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqBHM9VAYItBG0wawIBAQQgkcS+ByJ3gYWfEljs
yHjW4O5yUkb4BK2seITWBBv6nJ+hRANCAASxk9xGbm+7CTIN6zoq3McSrgPBEjlV
vhhCG9yd4v9oh9sgOHTQy9VCkckm8eMGpKoOEoIv3ExTh95rBGvtwDpn
-----END PRIVATE KEY-----
";

/// The seeds' P-256 recipient key (test material only).
const P256_KEY: &str = "-----BEGIN EC PRIVATE KEY-----
MHcCAQEEIBj0cXg8iYVqhDxegt+TyYWcS//WKSZMp4vP7+YXOGXioAoGCCqGSM49
AwEHoUQDQgAEakhUYoOjbThHocw5FAky4feUQd0wVJDBP6SURPiirGERPljHKW/m
wKaThpz2AacpMrfrAHwwj/RorOIBTioSNA==
-----END EC PRIVATE KEY-----
";

fn keys() -> &'static [EnvelopeKey; 2] {
    static KEYS: OnceLock<[EnvelopeKey; 2]> = OnceLock::new();
    KEYS.get_or_init(|| {
        [SM2_KEY, P256_KEY].map(|pem| EnvelopeKey::from_pem(pem, None).expect("test key"))
    })
}

fuzz_target!(|data: &[u8]| {
    if let Ok(parsed) = parse_envelope(data) {
        assert!(parsed.recipients().len() <= inkseal_pdf::cms::enveloped::MAX_RECIPIENTS);
        for key in keys() {
            if let Ok(opened) = parsed.open_with_key(key, None) {
                // Whole blocks minus 1 to 16 bytes of padding, never more than was encrypted.
                assert!(opened.content().len() < parsed.ciphertext_len());
            }
        }
        let key_len = parsed.content_cipher().key_len();
        let _ = parsed.decrypt_content(&vec![0u8; key_len]);
        for recipient in parsed.recipients() {
            if let Recipient::Sm2(r) = recipient {
                let _ = r.ciphertext().finish(&[1; 32], &[2; 32]);
            }
        }
    }
    if let Ok(ct) = Sm2Ciphertext::from_der(data) {
        assert_eq!(ct.to_der(), data);
        assert!(!ct.c2().is_empty() && ct.c2().len() <= 64);
    }
    let _ = verify_signed_content(data, &[], None);
});
