//! RC4, the cipher of the standard security handler's revisions 2 to 4 (ISO 32000-1 7.6.2,
//! crypt filter method /V2). Broken as a cipher; PDF files still use it and inkseal reads and
//! writes it only where a file's own security handler says so.

/// An RC4 key stream. The state is wiped on drop.
pub(crate) struct Rc4 {
    s: [u8; 256],
    i: u8,
    j: u8,
}

impl Drop for Rc4 {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.s);
        self.i = 0;
        self.j = 0;
    }
}

impl Rc4 {
    /// The key schedule. An empty key is given the one-byte key 0 (never used by PDF, whose
    /// keys are 5 to 16 bytes; it keeps the schedule total).
    pub(crate) fn new(key: &[u8]) -> Self {
        let key: &[u8] = if key.is_empty() { &[0] } else { key };
        let mut s = [0u8; 256];
        for (i, b) in s.iter_mut().enumerate() {
            *b = i as u8;
        }
        let mut j = 0u8;
        for i in 0..256 {
            j = j.wrapping_add(s[i]).wrapping_add(key[i % key.len()]);
            s.swap(i, usize::from(j));
        }
        Rc4 { s, i: 0, j: 0 }
    }

    /// XOR the key stream into `data` (encryption and decryption are the same).
    pub(crate) fn apply(&mut self, data: &mut [u8]) {
        for b in data {
            self.i = self.i.wrapping_add(1);
            self.j = self.j.wrapping_add(self.s[usize::from(self.i)]);
            self.s.swap(usize::from(self.i), usize::from(self.j));
            let k = self.s[usize::from(
                self.s[usize::from(self.i)].wrapping_add(self.s[usize::from(self.j)]),
            )];
            *b ^= k;
        }
    }
}

/// `data` encrypted (or decrypted) under `key`.
pub(crate) fn rc4(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut out = data.to_vec();
    Rc4::new(key).apply(&mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::rc4;

    #[test]
    fn known_vectors() {
        // The classic test vectors (Wikipedia / the 1994 posting).
        assert_eq!(hex::encode(rc4(b"Key", b"Plaintext")), "bbf316e8d940af0ad3");
        assert_eq!(hex::encode(rc4(b"Wiki", b"pedia")), "1021bf0420");
        assert_eq!(
            hex::encode(rc4(b"Secret", b"Attack at dawn")),
            "45a01f645fc35b383552544b9bf5"
        );
        // RFC 6229, 40-bit key 0102030405, key stream offset 0.
        assert_eq!(
            hex::encode(rc4(&[1, 2, 3, 4, 5], &[0; 16])),
            "b2396305f03dc027ccc3524a0a1118a8"
        );
        assert_eq!(rc4(b"Key", &rc4(b"Key", b"round trip")), b"round trip");
    }
}
