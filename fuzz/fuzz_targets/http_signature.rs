//! Device-signed request headers as the server receives them: `Content-Digest`,
//! `Signature-Input`, `Signature`, then the body.
#![no_main]

use inkseal_httpsig::{
    ParsedSignature, RequestTarget, signature_from_der, verifying_key_from_sec1,
    verifying_key_from_spki_der,
};
use libfuzzer_sys::fuzz_target;

/// The fixed device key: the P-256 base point G (the public key of the scalar 1), uncompressed.
const DEVICE_KEY: [u8; 65] = [
    0x04, 0x6b, 0x17, 0xd1, 0xf2, 0xe1, 0x2c, 0x42, 0x47, 0xf8, 0xbc, 0xe6, 0xe5, 0x63, 0xa4, 0x40,
    0xf2, 0x77, 0x03, 0x7d, 0x81, 0x2d, 0xeb, 0x33, 0xa0, 0xf4, 0xa1, 0x39, 0x45, 0xd8, 0x98, 0xc2,
    0x96, 0x4f, 0xe3, 0x42, 0xe2, 0xfe, 0x1a, 0x7f, 0x9b, 0x8e, 0xe7, 0xeb, 0x4a, 0x7c, 0x0f, 0x9e,
    0x16, 0x2b, 0xce, 0x33, 0x57, 0x6b, 0x31, 0x5e, 0xce, 0xcb, 0xb6, 0x40, 0x68, 0x37, 0xbf, 0x51,
    0xf5,
];

/// A header value: `None` when the part is absent or not UTF-8 (an HTTP stack gives no `&str`).
fn header(part: Option<&[u8]>) -> Option<&str> {
    part.and_then(|p| std::str::from_utf8(p).ok())
}

fuzz_target!(|data: &[u8]| {
    // Up to three newline-separated header values; whatever follows is the body.
    let mut parts = data.splitn(4, |&b| b == b'\n');
    let content_digest = header(parts.next());
    let signature_input = header(parts.next());
    let signature = header(parts.next());
    let body = parts.next().unwrap_or_default();
    if let Ok(parsed) = ParsedSignature::parse(content_digest, signature_input, signature) {
        let _ = parsed.params().keyid();
        let key = verifying_key_from_sec1(&DEVICE_KEY).expect("G is a valid public key");
        if let Ok(target) = RequestTarget::new("POST", "/v1/keys/k-01/sign", body) {
            let _ = parsed.verify(&target, &key);
        }
    }
    let _ = signature_from_der(data);
    let _ = verifying_key_from_spki_der(data);
    let _ = verifying_key_from_sec1(data);
});
