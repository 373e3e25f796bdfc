//! The canonical byte encoding that digests and hash-chain links are computed over.
//!
//! Never JSON: JSON has many spellings of one value. Every encoding here is a concatenation of
//! - integers in big-endian, at their fixed width (`u8`, `u32`, `u64`);
//! - byte strings as `u32` big-endian length followed by the bytes (UTF-8 for text);
//! - lists as a `u32` count followed by the elements;
//!
//! and starts with a byte-string domain-separation tag naming the structure and its version, so
//! no two structures (or versions) share an encoding.

/// Builder of a canonical encoding.
pub(crate) struct Canonical {
    buf: Vec<u8>,
}

impl Canonical {
    /// Start with the domain-separation tag.
    pub(crate) fn new(tag: &str) -> Self {
        let mut c = Canonical {
            buf: Vec::with_capacity(256),
        };
        c.bytes(tag.as_bytes());
        c
    }

    /// A length-prefixed byte string.
    pub(crate) fn bytes(&mut self, b: &[u8]) -> &mut Self {
        // Every caller bounds its strings far below 4 GiB; saturate rather than wrap anyway.
        let len = u32::try_from(b.len()).unwrap_or(u32::MAX);
        self.buf.extend_from_slice(&len.to_be_bytes());
        self.buf.extend_from_slice(b);
        self
    }

    /// A length-prefixed UTF-8 string.
    pub(crate) fn str(&mut self, s: &str) -> &mut Self {
        self.bytes(s.as_bytes())
    }

    /// A list length.
    pub(crate) fn count(&mut self, n: usize) -> &mut Self {
        self.u32(u32::try_from(n).unwrap_or(u32::MAX))
    }

    /// One byte.
    pub(crate) fn u8(&mut self, v: u8) -> &mut Self {
        self.buf.push(v);
        self
    }

    /// Four bytes, big-endian.
    pub(crate) fn u32(&mut self, v: u32) -> &mut Self {
        self.buf.extend_from_slice(&v.to_be_bytes());
        self
    }

    /// Eight bytes, big-endian.
    pub(crate) fn u64(&mut self, v: u64) -> &mut Self {
        self.buf.extend_from_slice(&v.to_be_bytes());
        self
    }

    /// The encoding.
    pub(crate) fn finish(self) -> Vec<u8> {
        self.buf
    }
}

/// Whether `s` is 1-128 characters of `[A-Za-z0-9._:-]` (ids that appear in logs and encodings).
pub(crate) fn is_plain_id(s: &str) -> bool {
    (1..=128).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'-'))
}

/// Whether `s` is exactly `2 * n` lower-case hex digits.
pub(crate) fn is_lower_hex(s: &str, n: usize) -> bool {
    s.len() == 2 * n && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_length_prefixed_big_endian() {
        let mut c = Canonical::new("t");
        c.str("ab").u8(7).u32(0x0102_0304).u64(5).count(2);
        assert_eq!(
            c.finish(),
            [
                &[0, 0, 0, 1, b't'][..],
                &[0, 0, 0, 2, b'a', b'b'],
                &[7],
                &[1, 2, 3, 4],
                &[0, 0, 0, 0, 0, 0, 0, 5],
                &[0, 0, 0, 2]
            ]
            .concat()
        );
    }

    #[test]
    fn moving_a_boundary_changes_the_encoding() {
        let mut a = Canonical::new("t");
        a.str("ab").str("c");
        let mut b = Canonical::new("t");
        b.str("a").str("bc");
        assert_ne!(a.finish(), b.finish());
    }

    #[test]
    fn id_and_hex_rules() {
        assert!(is_plain_id("chal-2025.06:01_x"));
        assert!(!is_plain_id(""));
        assert!(!is_plain_id("a b"));
        assert!(!is_plain_id(&"a".repeat(129)));
        assert!(!is_plain_id("挑战"));
        assert!(is_lower_hex("00ff", 2));
        assert!(!is_lower_hex("00FF", 2));
        assert!(!is_lower_hex("00f", 2));
    }
}
