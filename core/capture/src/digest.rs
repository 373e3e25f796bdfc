//! The two digest algorithms of the evidence manifest: SM3 (GB/T 32905, for the Chinese
//! cryptography track) and SHA-256. Both give 32 bytes.

use serde::{Deserialize, Serialize};
use sha2::Digest as _;

/// Digest algorithm of a manifest (JSON: `"sm3"` or `"sha256"`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DigestAlgorithm {
    /// SM3.
    Sm3,
    /// SHA-256.
    Sha256,
}

impl DigestAlgorithm {
    /// The wire name, also used inside the canonical encodings.
    pub fn as_str(self) -> &'static str {
        match self {
            DigestAlgorithm::Sm3 => "sm3",
            DigestAlgorithm::Sha256 => "sha256",
        }
    }

    /// Digest of `data`.
    pub fn digest(self, data: &[u8]) -> [u8; 32] {
        match self {
            DigestAlgorithm::Sm3 => sm3::Sm3::digest(data).into(),
            DigestAlgorithm::Sha256 => sha2::Sha256::digest(data).into(),
        }
    }

    /// Lower-case hex of the digest of `data`.
    pub fn digest_hex(self, data: &[u8]) -> String {
        hex::encode(self.digest(data))
    }
}

/// SHA-256 of `data` (the test vendor's frame hashes use it whatever the manifest's algorithm).
pub fn sha256(data: &[u8]) -> [u8; 32] {
    DigestAlgorithm::Sha256.digest(data)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_answers() {
        // SHA-256("abc") (FIPS 180-2) and SM3("abc") (GB/T 32905 example 1).
        assert_eq!(
            DigestAlgorithm::Sha256.digest_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            DigestAlgorithm::Sm3.digest_hex(b"abc"),
            "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
        );
    }
}
