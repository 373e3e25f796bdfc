//! The content ciphers of an EnvelopedData: SM4-CBC, AES-128-CBC and AES-256-CBC with PKCS#7
//! padding, the IV as the algorithm's OCTET STRING parameter.
//!
//! The mode and padding are [`crate::cbc_pkcs7`]'s (one buffer wiped when dropped, the padding
//! checked over the whole last block without early exit, nothing returned on any failure).

use super::error::EnvelopeError;
use super::{AES128_CBC, AES256_CBC, SM4_CBC};
use crate::cbc_pkcs7;
pub(crate) use crate::cbc_pkcs7::BLOCK;
use const_oid::ObjectIdentifier;
use zeroize::Zeroizing;

/// A content-encryption algorithm of an EnvelopedData.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ContentCipher {
    /// SM4 in CBC mode (1.2.156.10197.1.104.2), 16-byte key: GB/T 35275 envelopes to SM2
    /// recipients.
    Sm4Cbc,
    /// AES-128 in CBC mode (2.16.840.1.101.3.4.1.2), 16-byte key. Read only.
    Aes128Cbc,
    /// AES-256 in CBC mode (2.16.840.1.101.3.4.1.42), 32-byte key: envelopes with P-256
    /// recipients.
    Aes256Cbc,
}

impl ContentCipher {
    /// The cipher an algorithm identifier names.
    pub fn from_oid(oid: &ObjectIdentifier) -> Option<Self> {
        match *oid {
            SM4_CBC => Some(Self::Sm4Cbc),
            AES128_CBC => Some(Self::Aes128Cbc),
            AES256_CBC => Some(Self::Aes256Cbc),
            _ => None,
        }
    }

    /// The algorithm's object identifier.
    pub fn oid(self) -> ObjectIdentifier {
        match self {
            Self::Sm4Cbc => SM4_CBC,
            Self::Aes128Cbc => AES128_CBC,
            Self::Aes256Cbc => AES256_CBC,
        }
    }

    /// The cipher's name ("SM4-CBC", "AES-128-CBC", "AES-256-CBC").
    pub fn name(self) -> &'static str {
        match self {
            Self::Sm4Cbc => "SM4-CBC",
            Self::Aes128Cbc => "AES-128-CBC",
            Self::Aes256Cbc => "AES-256-CBC",
        }
    }

    /// The content-encryption key's length in bytes.
    pub fn key_len(self) -> usize {
        match self {
            Self::Sm4Cbc | Self::Aes128Cbc => 16,
            Self::Aes256Cbc => 32,
        }
    }

    /// Decrypt `ciphertext` with `cek` and `iv` and remove the PKCS#7 padding. The whole
    /// plaintext, or [`EnvelopeError::ContentDecryptionFailed`] and nothing.
    pub(crate) fn decrypt(
        self,
        cek: &[u8],
        iv: &[u8; BLOCK],
        ciphertext: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, EnvelopeError> {
        if cek.len() != self.key_len() {
            return Err(EnvelopeError::InvalidInput(format!(
                "a {:?} content key is {} bytes, not {}",
                self,
                self.key_len(),
                cek.len()
            )));
        }
        let plain = match self {
            Self::Sm4Cbc => cbc_pkcs7::decrypt::<sm4::Sm4>(cek, iv, ciphertext),
            Self::Aes128Cbc => cbc_pkcs7::decrypt::<aes::Aes128>(cek, iv, ciphertext),
            Self::Aes256Cbc => cbc_pkcs7::decrypt::<aes::Aes256>(cek, iv, ciphertext),
        };
        // Wrong lengths, bad blocks and bad padding alike: the content does not decrypt.
        plain.map_err(|_| EnvelopeError::ContentDecryptionFailed)
    }

    /// Pad `plaintext` (PKCS#7) and encrypt it with `cek` and `iv`.
    #[cfg(feature = "envelopes")]
    pub(crate) fn encrypt(
        self,
        cek: &[u8],
        iv: &[u8; BLOCK],
        plaintext: &[u8],
    ) -> Result<Vec<u8>, EnvelopeError> {
        match self {
            Self::Sm4Cbc => cbc_pkcs7::encrypt::<sm4::Sm4>(cek, iv, plaintext),
            Self::Aes128Cbc => cbc_pkcs7::encrypt::<aes::Aes128>(cek, iv, plaintext),
            Self::Aes256Cbc => cbc_pkcs7::encrypt::<aes::Aes256>(cek, iv, plaintext),
        }
        .map_err(|_| EnvelopeError::InvalidInput("content key length".into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(feature = "envelopes")]
    #[test]
    fn round_trips_and_refuses_altered_padding() {
        for cipher in [
            ContentCipher::Sm4Cbc,
            ContentCipher::Aes128Cbc,
            ContentCipher::Aes256Cbc,
        ] {
            let key = vec![0x42; cipher.key_len()];
            let iv = [9u8; 16];
            for len in [0usize, 1, 15, 16, 17, 100] {
                let msg: Vec<u8> = (0..len).map(|i| i as u8).collect();
                let ct = cipher.encrypt(&key, &iv, &msg).expect("encrypt");
                assert_eq!(ct.len() % 16, 0);
                assert_eq!(
                    cipher.decrypt(&key, &iv, &ct).expect("decrypt").as_slice(),
                    msg
                );
                let mut other_key = key.clone();
                other_key[0] ^= 1;
                // A wrong key gives random padding: almost always refused (checked for these
                // fixed inputs).
                assert_eq!(
                    cipher.decrypt(&other_key, &iv, &ct),
                    Err(EnvelopeError::ContentDecryptionFailed)
                );
            }
        }
    }

    #[test]
    fn sm4_known_answer() {
        // GB/T 32907 example: key = plaintext = 0123456789abcdeffedcba9876543210, one block
        // -> 681edf34d206965e86b3e94f536e4246. In CBC with a zero IV the first block is the
        // same; append a full padding block encrypted as the chain requires.
        let key = hex::decode("0123456789abcdeffedcba9876543210").expect("hex");
        let c1 = hex::decode("681edf34d206965e86b3e94f536e4246").expect("hex");
        // Decrypting c1 alone has no valid padding (the plaintext's last byte is 0x10 = 16,
        // but the block is not all 0x10), so check the raw block through the padding error.
        assert_eq!(
            ContentCipher::Sm4Cbc.decrypt(&key, &[0; 16], &c1),
            Err(EnvelopeError::ContentDecryptionFailed)
        );
        #[cfg(feature = "envelopes")]
        {
            let ct = ContentCipher::Sm4Cbc
                .encrypt(&key, &[0; 16], &key)
                .expect("encrypt");
            assert_eq!(&ct[..16], c1.as_slice());
        }
    }
}
