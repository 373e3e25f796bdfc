//! CBC with PKCS#7 padding over a 16-byte block cipher (AES-128, AES-256, SM4): the one
//! implementation that both digital envelopes ([`crate::cms::enveloped`]) and encrypted PDFs
//! ([`crate::crypt`]) use.
//!
//! Decryption works in one buffer that is wiped when dropped; the padding is checked over the
//! whole last block with no data-dependent branch, and on any failure nothing is returned.

use cbc::cipher::array::Array;
use cbc::cipher::consts::U16;
use cbc::cipher::{
    BlockCipherDecrypt, BlockCipherEncrypt, BlockModeDecrypt, BlockModeEncrypt, BlockSizeUser,
    KeyInit, KeyIvInit,
};
use subtle::{ConstantTimeEq, ConstantTimeLess};
use zeroize::Zeroizing;

/// Block (and IV) length.
pub(crate) const BLOCK: usize = 16;

/// Why [`decrypt`] or [`encrypt`] failed; callers map it to their own typed error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CbcError {
    /// The key or IV has the wrong length for the cipher.
    KeyLength,
    /// The ciphertext is empty or not whole blocks.
    NotWholeBlocks,
    /// The plaintext's padding is wrong (an altered ciphertext, or the wrong key).
    Padding,
}

/// Decrypt `ciphertext` (whole blocks, no IV) with `key` and `iv` and remove the padding.
pub(crate) fn decrypt<C>(
    key: &[u8],
    iv: &[u8],
    ciphertext: &[u8],
) -> Result<Zeroizing<Vec<u8>>, CbcError>
where
    C: BlockCipherDecrypt + KeyInit + BlockSizeUser<BlockSize = U16>,
{
    if ciphertext.is_empty() || ciphertext.len() % BLOCK != 0 {
        return Err(CbcError::NotWholeBlocks);
    }
    let mut decryptor =
        cbc::Decryptor::<C>::new_from_slices(key, iv).map_err(|_| CbcError::KeyLength)?;
    let mut buf = Zeroizing::new(ciphertext.to_vec());
    let (blocks, _) = Array::slice_as_chunks_mut(buf.as_mut_slice());
    decryptor.decrypt_blocks(blocks);
    let len = unpadded_len(&buf).ok_or(CbcError::Padding)?;
    buf.truncate(len);
    Ok(buf)
}

/// Pad `plaintext` and encrypt it with `key` and `iv` (whole blocks, no IV in front).
#[cfg(any(feature = "envelopes", test))]
pub(crate) fn encrypt<C>(key: &[u8], iv: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, CbcError>
where
    C: BlockCipherEncrypt + KeyInit + BlockSizeUser<BlockSize = U16>,
{
    let encryptor =
        cbc::Encryptor::<C>::new_from_slices(key, iv).map_err(|_| CbcError::KeyLength)?;
    Ok(encrypt_with(encryptor, plaintext))
}

/// [`encrypt`] with an encryptor whose key and IV are already set (infallible).
pub(crate) fn encrypt_with<C>(mut encryptor: cbc::Encryptor<C>, plaintext: &[u8]) -> Vec<u8>
where
    C: BlockCipherEncrypt + BlockSizeUser<BlockSize = U16>,
{
    let pad = BLOCK - plaintext.len() % BLOCK;
    let mut buf = Vec::with_capacity(plaintext.len() + pad);
    buf.extend_from_slice(plaintext);
    // 1 to 16: fits a byte.
    buf.resize(plaintext.len() + pad, pad as u8);
    let (blocks, _) = Array::slice_as_chunks_mut(buf.as_mut_slice());
    encryptor.encrypt_blocks(blocks);
    buf
}

/// The length of `padded` without its PKCS#7 padding, if the padding is correct. Every byte of
/// the last block is looked at whatever the padding length, with no data-dependent branch.
pub(crate) fn unpadded_len(padded: &[u8]) -> Option<usize> {
    let last_block = padded.get(padded.len().checked_sub(BLOCK)?..)?;
    let pad = *last_block.last()?;
    // 1 <= pad <= 16
    let mut ok = !pad.ct_eq(&0) & !(BLOCK as u8).ct_lt(&pad);
    for (i, byte) in last_block.iter().enumerate() {
        // The last `pad` bytes must all equal `pad`.
        let position_from_end = (BLOCK - i) as u8;
        let in_padding = !pad.ct_lt(&position_from_end);
        ok &= !in_padding | byte.ct_eq(&pad);
    }
    if bool::from(ok) {
        Some(padded.len() - usize::from(pad))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn padding_is_checked_whole() {
        let mut block = [7u8; 16];
        assert_eq!(unpadded_len(&block), Some(9));
        block[10] = 6;
        assert_eq!(unpadded_len(&block), None);
        assert_eq!(unpadded_len(&[16u8; 16]), Some(0));
        assert_eq!(unpadded_len(&[0u8; 16]), None);
        assert_eq!(unpadded_len(&[17u8; 16]), None);
        assert_eq!(unpadded_len(&[1u8; 15]), None);
    }

    #[test]
    fn round_trips_and_refuses_bad_input() {
        let key = [0x42u8; 16];
        let iv = [9u8; 16];
        for len in [0usize, 1, 15, 16, 17, 100] {
            let msg: Vec<u8> = (0..len).map(|i| i as u8).collect();
            let ct = encrypt::<aes::Aes128>(&key, &iv, &msg).expect("encrypt");
            assert_eq!(ct.len(), (len / 16 + 1) * 16);
            assert_eq!(
                decrypt::<aes::Aes128>(&key, &iv, &ct)
                    .expect("decrypt")
                    .as_slice(),
                msg
            );
        }
        assert_eq!(
            decrypt::<aes::Aes128>(&key, &iv, &[0; 15]),
            Err(CbcError::NotWholeBlocks)
        );
        assert_eq!(
            decrypt::<aes::Aes128>(&key, &iv, &[]),
            Err(CbcError::NotWholeBlocks)
        );
        assert_eq!(
            decrypt::<aes::Aes128>(&key[..15], &iv, &[0; 16]),
            Err(CbcError::KeyLength)
        );
    }
}
