//! PEM (RFC 7468) text encoding of DER.

use crate::error::PkiError;

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Certificates (DER) as one text of PEM blocks, in order: a CA's roots for a verifier's
/// `--trust` or OpenSSL's `-CAfile`.
pub fn certificates_to_pem<'a>(certificates: impl IntoIterator<Item = &'a [u8]>) -> String {
    certificates
        .into_iter()
        .map(|der| der_to_pem("CERTIFICATE", der))
        .collect()
}

/// Wrap DER in PEM armour: `-----BEGIN <label>-----`, base64 in 64-column lines, `-----END
/// <label>-----`, with `\n` line endings. `label` is e.g. `"CERTIFICATE"` or
/// `"CERTIFICATE REQUEST"`.
pub fn der_to_pem(label: &str, der: &[u8]) -> String {
    let mut body = String::with_capacity(der.len() * 4 / 3 + der.len() / 48 + 4);
    for (i, chunk) in der.chunks(3).enumerate() {
        if i > 0 && i % 16 == 0 {
            body.push('\n');
        }
        let b = [
            chunk.first().copied().unwrap_or(0),
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for j in 0..4 {
            if j <= chunk.len() {
                let index = ((n >> (18 - 6 * j)) & 0x3f) as usize;
                body.push(char::from(ALPHABET[index]));
            } else {
                body.push('=');
            }
        }
    }
    if !body.is_empty() {
        body.push('\n');
    }
    format!("-----BEGIN {label}-----\n{body}-----END {label}-----\n")
}

/// Decode one PEM block, returning its label and DER bytes.
pub fn pem_to_der(pem: &str) -> Result<(String, Vec<u8>), PkiError> {
    der::pem::decode_vec(pem.as_bytes())
        .map(|(label, der)| (label.to_owned(), der))
        .map_err(|e| PkiError::Malformed(format!("PEM: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_vectors() {
        assert_eq!(der_to_pem("X", b""), "-----BEGIN X-----\n-----END X-----\n");
        assert_eq!(
            der_to_pem("X", b"foobar"),
            "-----BEGIN X-----\nZm9vYmFy\n-----END X-----\n"
        );
        assert_eq!(
            der_to_pem("X", b"fooba"),
            "-----BEGIN X-----\nZm9vYmE=\n-----END X-----\n"
        );
        assert_eq!(
            der_to_pem("X", b"foob"),
            "-----BEGIN X-----\nZm9vYg==\n-----END X-----\n"
        );
    }

    #[test]
    fn round_trips_through_the_der_crate_at_line_boundaries() {
        for len in [1usize, 2, 3, 47, 48, 49, 95, 96, 97, 500] {
            let der: Vec<u8> = (0..len).map(|i| (i * 37 % 256) as u8).collect();
            let pem = der_to_pem("CERTIFICATE", &der);
            assert!(pem.lines().all(|l| l.len() <= 64));
            let (label, decoded) = pem_to_der(&pem).expect("decode");
            assert_eq!(label, "CERTIFICATE");
            assert_eq!(decoded, der);
            let expected = der::pem::encode_string("CERTIFICATE", der::pem::LineEnding::LF, &der)
                .expect("encode");
            assert_eq!(pem, expected);
        }
        assert!(pem_to_der("not pem").is_err());
    }
}
